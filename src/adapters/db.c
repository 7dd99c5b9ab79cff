#include "db.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "db_events_internal.h"
#include "db_internal.h"
#include "dburi.h"
#include "error.h"
#include "banned.h"

/*
 * Opening the state database, and the few helpers every part of it shares
 * (db_internal.h).  The schema and its migrations are in db_schema.c;
 * each other db_*.c file holds one job.
 */

int ipam_db_sql_error(struct ipam_db *db, int code, const char *what)
{
	return ipam_sql_error(db->h, code, what);
}

void ipam_db_default_path(struct strbuf *out)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	strbuf_reset(out);
	if (geteuid() == 0)
		strbuf_addstr(out, "/var/lib/ipamctl/state.db");
	else if (state && state[0] == '/')
		strbuf_addf(out, "%s/ipamctl/state.db", state);
	else
		strbuf_addf(out, "%s/.local/state/ipamctl/state.db",
			    home && *home ? home : ".");
}

int ipam_db_path_from_uri(struct strbuf *out, const char *uri)
{
	struct ipam_dburi u;
	int err;

	strbuf_reset(out);
	err = ipam_dburi_parse(&u, uri);
	if (err)
		return err;
	strbuf_addstr(out, u.kind == IPAM_DBURI_SQLITE ? u.path : uri);
	ipam_dburi_release(&u);
	return 0;
}

bool ipam_db_is_postgres(const struct ipam_db *db)
{
	return ipam_sql_kind(db->h) == IPAM_SQL_POSTGRES;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/*
 * Why there is no database at path (stat failed with err): its directory
 * named when that is what is missing or not a directory.
 */
static int no_database(const char *path, int err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int ret;

	if (slash)
		*slash = '\0';
	if (slash && slash != dir && stat(dir, &st) && errno == ENOENT)
		ret = ipam_error_set(IPAM_ENOTFOUND,
				     "no state database at '%s': its "
				     "directory '%s' does not exist; run "
				     "'ipamctl db init'",
				     path, dir);
	else if (slash && slash != dir && stat(dir, &st))
		ret = ipam_error_set(IPAM_EIO, "cannot use '%s': '%s': %s",
				     path, dir, strerror(errno));
	else if (slash && slash != dir && !S_ISDIR(st.st_mode))
		ret = ipam_error_set(IPAM_EINVAL,
				     "no state database at '%s': '%s' is not "
				     "a directory",
				     path, dir);
	else if (err == ENOENT)
		ret = ipam_error_set(IPAM_ENOTFOUND,
				     "no state database at '%s': run "
				     "'ipamctl db init'",
				     path);
	else
		ret = ipam_error_set(IPAM_EIO, "cannot use '%s': %s", path,
				     strerror(err));
	free(dir);
	return ret;
}

/* mkdir -p for the database's directory (0700: it holds the inventory). */
static int make_parent(const char *path)
{
	char *dir = xstrdup(path), *p;
	int err = 0;

	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			err = ipam_error_set(IPAM_EIO,
					     "cannot create directory '%s': %s",
					     dir, strerror(errno));
		else if (!is_dir(dir))
			err = ipam_error_set(IPAM_EIO,
					     "cannot create '%s': '%s' is not "
					     "a directory",
					     path, dir);
		*p = '/';
		if (err)
			break;
	}
	free(dir);
	return err;
}

int ipam_db_sql_exec(struct ipam_db *db, const char *sql)
{
	return ipam_sql_exec(db->h, sql);
}

/* A PostgreSQL database: the server and the database exist already (the
 * administrator made them: README); CREATE asks for nothing more. */
static int open_postgres(struct ipam_db **out, const char *uri,
			 const char *password)
{
	struct ipam_db *db;
	struct ipam_dburi u;
	int err;

	err = ipam_dburi_parse(&u, uri);
	if (err)
		return err;
	ipam_dburi_release(&u);
	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(uri);
	err = ipam_sql_open_postgres(&db->h, uri, password);
	if (err) {
		ipam_db_close(db);
		return err;
	}
	*out = db;
	return 0;
}

int ipam_db_open(struct ipam_db **out, const char *path, int flags)
{
	return ipam_db_open_pw(out, path, NULL, flags);
}

int ipam_db_open_pw(struct ipam_db **out, const char *path,
		    const char *password, int flags)
{
	struct ipam_db *db;
	struct stat st;
	int err;

	*out = NULL;
	if (ipam_dburi_is_postgres(path))
		return open_postgres(out, path, password);
	if (!stat(path, &st)) {
		/* sqlite says only "unable to open database file" */
		if (S_ISDIR(st.st_mode))
			return ipam_error_set(IPAM_EINVAL,
					      "state database '%s' is a "
					      "directory: name a file (such "
					      "as '%s/state.db')",
					      path, path);
		if (!S_ISREG(st.st_mode))
			return ipam_error_set(IPAM_EINVAL,
					      "state database '%s' is not a "
					      "regular file",
					      path);
	} else {
		int fd;

		if (!(flags & IPAM_DB_CREATE))
			return no_database(path, errno);
		err = make_parent(path);
		if (err)
			return err;
		/* Create it ourselves so that it is private from the start. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return ipam_error_set(IPAM_EIO,
					      "cannot create '%s': %s", path,
					      strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	err = ipam_sql_open_sqlite(&db->h, path, 0);
	if (err) {
		ipam_db_close(db);
		return err;
	}
	*out = db;
	return 0;
}

void ipam_db_close(struct ipam_db *db)
{
	if (!db)
		return;
	ipam_db_events_ckpt_stop(db->ckpt);
	ipam_sql_close(db->h);
	free(db->lock_scope);
	free(db->path);
	free(db);
}

const char *ipam_db_path(const struct ipam_db *db)
{
	return db->path;
}

int ipam_db_remove_files(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		int r = unlink(p);

		if (r && errno != ENOENT) {
			int err = ipam_error_set(IPAM_EIO,
						 "cannot remove '%s': %s", p,
						 strerror(errno));

			free(p);
			return err;
		}
		free(p);
	}
	return 0;
}

/* ---- the helpers of db_internal.h ---- */

int ipam_db_sql_prepare(struct ipam_db *db, struct ipam_sql_stmt **st,
			const char *sql)
{
	return ipam_sql_prepare(db->h, st, sql);
}

void ipam_db_sql_values(struct strbuf *sql, size_t rows, size_t cols)
{
	size_t p = 1;

	for (size_t r = 0; r < rows; r++) {
		strbuf_addstr(sql, r ? ", (" : "(");
		for (size_t c = 0; c < cols; c++)
			strbuf_addf(sql, "%s?%zu", c ? ", " : "", p++);
		strbuf_addch(sql, ')');
	}
}

int ipam_db_sql_step_done(struct ipam_db *db, struct ipam_sql_stmt *st,
			  const char *what)
{
	(void)db;
	return ipam_sql_step_done(st, what);
}

/* This host's name, as runs and the reconciler lock record it. */
void ipam_db_host(char *buf, size_t size)
{
	memset(buf, 0, size);
	gethostname(buf, size - 1);
}
