#include "db.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "applied.h"
#include "error.h"
#include "proc.h"
#include "polfile.h"
#include "banned.h"

struct ipam_db {
	sqlite3 *h;
	char *path;
};

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/*
 * Migration N takes the schema from version N-1 to N.  Never edit a
 * published migration: add a new one.
 */
static const char *const migrations[] = {
	/* 1: the foundation schema */
	"CREATE TABLE schema_migrations ("
	"  version INTEGER PRIMARY KEY,"
	"  applied_at TEXT NOT NULL);"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  set_at TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  discover_dc INTEGER NOT NULL DEFAULT 1 CHECK (discover_dc IN (0,1)),"
	"  discover_dns INTEGER NOT NULL DEFAULT 1"
	"    CHECK (discover_dns IN (0,1)),"
	"  discover_dhcp INTEGER NOT NULL DEFAULT 1"
	"    CHECK (discover_dhcp IN (0,1)),"
	"  last_discovery_at TEXT,"
	"  last_status TEXT CHECK (last_status IN ('complete','incomplete')),"
	"  last_reason TEXT);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  command TEXT NOT NULL,"
	"  started_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  host TEXT,"
	"  pid INTEGER,"
	"  git_commit TEXT,"
	"  config_digest TEXT,"
	"  outcome TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN"
	"    ('running','succeeded','no_changes','failed','refused',"
	"     'interrupted')),"
	"  summary TEXT);"
	"CREATE TABLE servers ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  domain_id INTEGER REFERENCES domains(id) ON DELETE SET NULL,"
	"  roles TEXT NOT NULL DEFAULT '',"
	"  declared INTEGER NOT NULL DEFAULT 0 CHECK (declared IN (0,1)),"
	"  manageability TEXT NOT NULL DEFAULT 'unspecified' CHECK"
	"    (manageability IN ('unspecified','unmanaged','managed')),"
	"  owner TEXT,"
	"  description TEXT,"
	"  os_name TEXT,"
	"  os_version TEXT,"
	"  object_guid TEXT,"
	"  object_sid TEXT,"
	"  dn TEXT,"
	"  first_seen TEXT,"
	"  last_seen TEXT,"
	"  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN"
	"    ('new','changed','unchanged','gone','declared_not_found')),"
	"  status_detail TEXT);"
	"CREATE INDEX servers_by_domain ON servers(domain_id);"
	"CREATE TABLE server_addresses ("
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  family INTEGER NOT NULL CHECK (family IN (4,6)),"
	"  address TEXT NOT NULL,"
	"  PRIMARY KEY (server_id, address)) WITHOUT ROWID;"
	"CREATE INDEX server_addresses_by_address"
	"  ON server_addresses(address);"
	"CREATE TABLE server_history ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  at TEXT NOT NULL,"
	"  change TEXT NOT NULL);"
	"CREATE INDEX server_history_by_server ON server_history(server_id);"
	"CREATE TABLE actions ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  domain TEXT,"
	"  detail TEXT,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('pending','started','done','failed','skipped')),"
	"  started_at TEXT,"
	"  ended_at TEXT,"
	"  error TEXT,"
	"  UNIQUE (run_id, seq));"
	"CREATE TABLE access_status ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  checked_at TEXT NOT NULL,"
	"  overall TEXT NOT NULL CHECK (overall IN"
	"    ('Not checked','Unblocked','Blocked')),"
	"  dhcp_rpc TEXT NOT NULL CHECK (dhcp_rpc IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  dhcp_audit_share TEXT NOT NULL CHECK (dhcp_audit_share IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  dns_rpc TEXT NOT NULL CHECK (dns_rpc IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  event_log TEXT NOT NULL CHECK (event_log IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  recommended_action TEXT NOT NULL,"
	"  reasons TEXT);"
	"CREATE INDEX access_status_by_server"
	"  ON access_status(server_id, checked_at);",

	/* 2: reconciling: what was applied per domain, the reconciler lock */
	"CREATE TABLE applied_domains ("
	"  domain TEXT PRIMARY KEY COLLATE NOCASE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  applied_at TEXT NOT NULL,"
	"  config_digest TEXT,"
	"  grp INTEGER NOT NULL DEFAULT 0 CHECK (grp IN (0,1)),"
	"  group_member INTEGER NOT NULL DEFAULT 0"
	"    CHECK (group_member IN (0,1)),"
	"  elr INTEGER NOT NULL DEFAULT 0 CHECK (elr IN (0,1)),"
	"  dns_ace INTEGER NOT NULL DEFAULT 0 CHECK (dns_ace IN (0,1)))"
	"  WITHOUT ROWID;"
	"CREATE TABLE applied_gpos ("
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  role TEXT NOT NULL CHECK (role IN ('dhcp','dns','dc_nps')),"
	"  guid TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  linked INTEGER NOT NULL DEFAULT 0 CHECK (linked IN (0,1)),"
	"  settings_current INTEGER NOT NULL DEFAULT 0"
	"    CHECK (settings_current IN (0,1)),"
	"  dacl_current INTEGER NOT NULL DEFAULT 0"
	"    CHECK (dacl_current IN (0,1)),"
	"  PRIMARY KEY (domain, role),"
	"  FOREIGN KEY (domain) REFERENCES applied_domains(domain)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE applied_filter ("
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  role TEXT NOT NULL,"
	"  sid TEXT NOT NULL,"
	"  PRIMARY KEY (domain, role, sid),"
	"  FOREIGN KEY (domain, role) REFERENCES applied_gpos(domain, role)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE reconcile_lock ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  command TEXT NOT NULL,"
	"  started_at TEXT NOT NULL);",

	/* 3: who made the commit a run worked from, and what it says */
	"ALTER TABLE runs ADD COLUMN git_author TEXT;"
	"ALTER TABLE runs ADD COLUMN git_subject TEXT;",

	/* 4: which process holds the lock, beyond its pid: its start time
	 * in clock ticks since boot and the boot it ran in (a pid alone may
	 * name another process after a reboot or a wrap) */
	"ALTER TABLE reconcile_lock ADD COLUMN proc_start INTEGER;"
	"ALTER TABLE reconcile_lock ADD COLUMN boot_id TEXT;",
};

#define NR_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The tables "db info" counts, with the schema version that made each. */
static const struct {
	const char *name;
	int since;
} count_tables[] = {
	{"domains", 1},
	{"servers", 1},
	{"server_addresses", 1},
	{"server_history", 1},
	{"runs", 1},
	{"actions", 1},
	{"access_status", 1},
	{"applied_domains", 2},
	{"applied_gpos", 2},
	{"applied_filter", 2},
};

static int db_error(struct ipam_db *db, int code, const char *what)
{
	return ipam_error_set(code, "%s '%s': %s", what, db->path,
			      sqlite3_errmsg(db->h));
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
	const char *p = uri;

	strbuf_reset(out);
	if (!strncmp(p, "sqlite:", 7)) {
		p += 7;
		/* sqlite:///abs/path is the URL spelling of /abs/path. */
		if (!strncmp(p, "//", 2))
			p += 2;
	} else if (strstr(p, "://")) {
		return ipam_error_set(IPAM_EINVAL,
				      "unsupported database '%s': use "
				      "sqlite:PATH",
				      uri);
	}
	if (!*p)
		return ipam_error_set(IPAM_EINVAL,
				      "database '%s' names no file", uri);
	strbuf_addstr(out, p);
	return 0;
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
		*p = '/';
		if (err)
			break;
	}
	free(dir);
	return err;
}

static int exec_sql(struct ipam_db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int err = ipam_error_set(IPAM_EDB, "state database '%s': %s",
					 db->path, msg ? msg : "error");

		sqlite3_free(msg);
		return err;
	}
	return 0;
}

int ipam_db_open(struct ipam_db **out, const char *path, int flags)
{
	struct ipam_db *db;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	struct stat st;
	int err;

	*out = NULL;
	if (stat(path, &st)) {
		int fd;

		if (!(flags & IPAM_DB_CREATE))
			return ipam_error_set(IPAM_ENOTFOUND,
					      "no state database at '%s': run "
					      "'ipamctl db init'",
					      path);
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
	if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
		err = db_error(db, IPAM_EDB, "cannot open state database");
		ipam_db_close(db);
		return err;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, 5000);
	err = exec_sql(db, "PRAGMA journal_mode=WAL;"
			   "PRAGMA foreign_keys=ON;"
			   "PRAGMA synchronous=NORMAL;");
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
	sqlite3_close(db->h);
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

int ipam_db_schema_version(struct ipam_db *db, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL))
		return db_error(db, IPAM_EDB, "cannot read state database");
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(db, IPAM_EDB, "cannot read state database");
	return 0;
}

int ipam_db_latest_version(void)
{
	return NR_MIGRATIONS;
}

int ipam_db_check_schema(struct ipam_db *db, int *version, int need_current)
{
	int err = ipam_db_schema_version(db, version);

	if (err)
		return err;
	if (*version < 1)
		return ipam_error_set(IPAM_EDB,
				      "state database '%s' is not initialised: "
				      "run 'ipamctl db init'",
				      db->path);
	if (*version > NR_MIGRATIONS)
		return ipam_error_set(IPAM_EDB,
				      "state database '%s' has schema version "
				      "%d, newer than this ipamctl knows (%d): "
				      "upgrade ipamctl",
				      db->path, *version, NR_MIGRATIONS);
	if (need_current && *version < NR_MIGRATIONS)
		return ipam_error_set(IPAM_EDB,
				      "state database '%s' has schema version "
				      "%d, older than this ipamctl (%d): run "
				      "'ipamctl db migrate'",
				      db->path, *version, NR_MIGRATIONS);
	return 0;
}

int ipam_db_migrate(struct ipam_db *db, int *from, int *to)
{
	int v, err;

	err = ipam_db_schema_version(db, &v);
	if (err)
		return err;
	if (v > NR_MIGRATIONS)
		return ipam_db_check_schema(db, &v, 0);
	if (from)
		*from = v;
	for (; v < NR_MIGRATIONS; v++) {
		/* IMMEDIATE: a second ipamctl waits instead of racing. */
		err = exec_sql(db, "BEGIN IMMEDIATE");
		if (err)
			return err;
		err = ipam_db_schema_version(db, &v);
		if (err || v >= NR_MIGRATIONS) {
			exec_sql(db, "ROLLBACK");
			break;
		}
		err = exec_sql(db, migrations[v]);
		if (!err) {
			struct strbuf sql = STRBUF_INIT;

			/* NOW_SQL holds '%' signs: keep it out of formats. */
			strbuf_addf(&sql,
				    "INSERT INTO schema_migrations(version, "
				    "applied_at) VALUES (%d, ",
				    v + 1);
			strbuf_addstr(&sql, NOW_SQL);
			strbuf_addf(&sql, "); PRAGMA user_version = %d;",
				    v + 1);
			err = exec_sql(db, sql.buf);
			strbuf_release(&sql);
		}
		if (!err)
			err = exec_sql(db, "COMMIT");
		if (err) {
			ipam_error_prefix(err, "migration to schema version %d",
					  v + 1);
			sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
			return err;
		}
	}
	if (to)
		return ipam_db_schema_version(db, to);
	return 0;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? xstrdup((const char *)t) : NULL;
}

int ipam_db_get_settings(struct ipam_db *db, struct ipam_db_settings *out)
{
	sqlite3_stmt *st;
	int v, rc, err;

	memset(out, 0, sizeof(*out));
	err = ipam_db_schema_version(db, &v);
	if (err || v < 1)
		return err;
	if (sqlite3_prepare_v2(db->h,
			       "SELECT key, value, set_at FROM settings "
			       "WHERE key IN ('provisioning_method', "
			       "'gpo_prefix')",
			       -1, &st, NULL))
		return db_error(db, IPAM_EDB, "cannot read settings of");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);

		if (!strcmp(key, "provisioning_method")) {
			free(out->method);
			free(out->fixed_at);
			out->method = column_dup(st, 1);
			out->fixed_at = column_dup(st, 2);
		} else {
			free(out->gpo_prefix);
			out->gpo_prefix = column_dup(st, 1);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ipam_db_settings_release(out);
		return db_error(db, IPAM_EDB, "cannot read settings of");
	}
	return 0;
}

void ipam_db_settings_release(struct ipam_db_settings *s)
{
	free(s->method);
	free(s->gpo_prefix);
	free(s->fixed_at);
	memset(s, 0, sizeof(*s));
}

static int insert_setting(struct ipam_db *db, const char *key,
			  const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->h,
			       "INSERT INTO settings(key, value, set_at) "
			       "VALUES (?1, ?2, " NOW_SQL ")",
			       -1, &st, NULL))
		return db_error(db, IPAM_EDB, "cannot record settings in");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, IPAM_EDB, "cannot record settings in");
	return 0;
}

int ipam_db_record_settings(struct ipam_db *db, const char *method,
			    const char *gpo_prefix)
{
	struct ipam_db_settings cur;
	int err;

	err = exec_sql(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = ipam_db_get_settings(db, &cur);
	if (!err && !cur.method) {
		err = insert_setting(db, "provisioning_method", method);
		if (!err && gpo_prefix)
			err = insert_setting(db, "gpo_prefix", gpo_prefix);
	}
	ipam_db_settings_release(&cur);
	if (!err)
		return exec_sql(db, "COMMIT");
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

int ipam_db_check_settings(struct ipam_db *db, const struct ipam_desired *d)
{
	struct ipam_db_settings s;
	const char *want = ipam_method_name(d->method);
	const struct ipam_pos *p = &d->method_pos;
	int err;

	err = ipam_db_get_settings(db, &s);
	if (err || !s.method)
		return err;
	if (strcmp(s.method, want)) {
		err = ipam_error_set(
			IPAM_ECONFLICT,
			"%s:%d:%d: provisioning method '%s' conflicts with the "
			"state database '%s': its method is fixed to '%s' "
			"since %s. The method cannot change on an existing "
			"database; to change it, re-create the database with "
			"'ipamctl db init --force' (this discards its "
			"inventory and history)",
			p->file, p->line, p->col, want, db->path, s.method,
			s.fixed_at ? s.fixed_at : "its creation");
	} else if (s.gpo_prefix && d->gpo_prefix.value &&
		   strcmp(s.gpo_prefix, d->gpo_prefix.value)) {
		p = &d->gpo_prefix.pos;
		err = ipam_error_set(
			IPAM_ECONFLICT,
			"%s:%d:%d: gpoPrefix '%s' conflicts with the state "
			"database '%s': its GPO prefix is fixed to '%s' since "
			"%s. To change it, re-create the database with "
			"'ipamctl db init --force' (this discards its "
			"inventory and history)",
			p->file, p->line, p->col, d->gpo_prefix.value, db->path,
			s.gpo_prefix, s.fixed_at ? s.fixed_at : "its creation");
	}
	ipam_db_settings_release(&s);
	return err;
}

int ipam_db_counts(struct ipam_db *db, struct ipam_db_count **out, size_t *nr)
{
	size_t max = sizeof(count_tables) / sizeof(count_tables[0]), i, n = 0;
	struct ipam_db_count *c;
	int version, err;

	/* "db info" works on a database that still needs "db migrate". */
	err = ipam_db_schema_version(db, &version);
	if (err)
		return err;
	c = xcalloc(max, sizeof(*c));
	for (i = 0; i < max; i++) {
		char *sql;
		sqlite3_stmt *st;
		int rc;

		if (count_tables[i].since > version)
			continue;
		sql = xasprintf("SELECT count(*) FROM %s",
				count_tables[i].name);
		rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
		free(sql);
		if (rc) {
			free(c);
			return db_error(db, IPAM_EDB, "cannot count rows in");
		}
		rc = sqlite3_step(st);
		c[n].table = count_tables[i].name;
		c[n].rows = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_finalize(st);
		n++;
	}
	*out = c;
	*nr = n;
	return 0;
}

/* ---- runs ---- */

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Prepare, or set the last error naming the database. */
static int prepare(struct ipam_db *db, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK)
		return db_error(db, IPAM_EDB, "cannot prepare a query on");
	return 0;
}

/* Step a statement that returns no rows, then finalize it. */
static int step_done(struct ipam_db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, IPAM_EDB, what);
	return 0;
}

/* This host's name, as runs and the reconciler lock record it. */
static void this_host(char *buf, size_t size)
{
	memset(buf, 0, size);
	gethostname(buf, size - 1);
}

int ipam_db_run_begin(struct ipam_db *db, const char *command,
		      long long *run_id)
{
	char host[256];
	sqlite3_stmt *st;
	int err;

	this_host(host, sizeof(host));
	err = prepare(db, &st,
		      "INSERT INTO runs(command, started_at, host, pid, "
		      "outcome) VALUES (?1, " NOW_SQL ", ?2, ?3, 'running')");
	if (err)
		return err;
	bind_text(st, 1, command);
	bind_text(st, 2, host);
	sqlite3_bind_int64(st, 3, (long long)getpid());
	err = step_done(db, st, "cannot record the run in");
	if (!err)
		*run_id = sqlite3_last_insert_rowid(db->h);
	return err;
}

int ipam_db_run_end(struct ipam_db *db, long long run_id, const char *outcome,
		    const char *summary)
{
	sqlite3_stmt *st;
	int err;

	err = prepare(db, &st,
		      "UPDATE runs SET ended_at = " NOW_SQL ", outcome = ?1, "
		      "summary = ?2 WHERE id = ?3");
	if (err)
		return err;
	bind_text(st, 1, outcome);
	bind_text(st, 2, summary);
	sqlite3_bind_int64(st, 3, run_id);
	return step_done(db, st, "cannot record the end of the run in");
}

/* ---- inventory ---- */

static unsigned roles_parse(const char *text)
{
	unsigned roles = 0;
	char *copy, *p, *save = NULL;

	if (!text)
		return 0;
	copy = xstrdup(text);
	for (p = strtok_r(copy, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		enum ipam_role r;

		if (!ipam_role_parse(p, &r))
			roles |= r;
	}
	free(copy);
	return roles;
}

static int cmp_id(const void *a, const void *b)
{
	long long x = **(const long long *const *)a;
	long long y = **(const long long *const *)b;

	return (x > y) - (x < y);
}

/* Attach addresses to the loaded servers (by id). */
static int load_addresses(struct ipam_db *db, struct ipam_inventory *inv)
{
	long long **by_id = xcalloc(inv->nr + 1, sizeof(*by_id));
	sqlite3_stmt *st;
	size_t i;
	int rc, err;

	for (i = 0; i < inv->nr; i++)
		by_id[i] = &inv->servers[i].id;
	qsort(by_id, inv->nr, sizeof(*by_id), cmp_id);
	err = prepare(db, &st,
		      "SELECT server_id, family, address FROM "
		      "server_addresses ORDER BY server_id, address");
	if (err) {
		free(by_id);
		return err;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0), *key = &id;
		long long **hit =
			bsearch(&key, by_id, inv->nr, sizeof(*by_id), cmp_id);
		struct ipam_inv_server *s;
		const char *text = (const char *)sqlite3_column_text(st, 2);

		if (!hit || !text)
			continue;
		s = (struct ipam_inv_server *)((char *)*hit -
					       offsetof(struct ipam_inv_server,
							id));
		s->addrs = xrealloc(s->addrs,
				    (s->nr_addrs + 1) * sizeof(*s->addrs));
		s->addrs[s->nr_addrs].family =
			sqlite3_column_int(st, 1) == 6 ? AF_INET6 : AF_INET;
		snprintf(s->addrs[s->nr_addrs].text,
			 sizeof(s->addrs[s->nr_addrs].text), "%s", text);
		s->nr_addrs++;
	}
	sqlite3_finalize(st);
	free(by_id);
	if (rc != SQLITE_DONE)
		return db_error(db, IPAM_EDB, "cannot read addresses from");
	return 0;
}

int ipam_db_inventory_load(struct ipam_db *db, struct ipam_inventory *out)
{
	sqlite3_stmt *st;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = prepare(
		db, &st,
		"SELECT s.id, s.name, d.name, s.roles, s.declared, "
		"s.manageability, s.owner, s.description, s.os_name, "
		"s.os_version, s.object_guid, s.object_sid, s.dn, "
		"s.first_seen, s.last_seen, s.status, s.status_detail, "
		"(SELECT a.overall FROM access_status a WHERE "
		"a.server_id = s.id ORDER BY a.checked_at DESC, a.id DESC "
		"LIMIT 1) "
		"FROM servers s LEFT JOIN domains d ON d.id = s.domain_id "
		"ORDER BY s.name");
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ipam_inv_server *s;
		const char *text;

		ALLOC_GROW(out->servers, out->nr + 1, out->alloc);
		s = &out->servers[out->nr++];
		memset(s, 0, sizeof(*s));
		s->id = sqlite3_column_int64(st, 0);
		s->name = column_dup(st, 1);
		s->domain = column_dup(st, 2);
		s->roles =
			roles_parse((const char *)sqlite3_column_text(st, 3));
		s->declared = sqlite3_column_int(st, 4) != 0;
		text = (const char *)sqlite3_column_text(st, 5);
		if (!text || ipam_manageability_parse(text, &s->manageability))
			s->manageability = IPAM_MANAGE_UNSPECIFIED;
		s->owner = column_dup(st, 6);
		s->description = column_dup(st, 7);
		s->os_name = column_dup(st, 8);
		s->os_version = column_dup(st, 9);
		s->guid = column_dup(st, 10);
		s->sid = column_dup(st, 11);
		s->dn = column_dup(st, 12);
		s->first_seen = column_dup(st, 13);
		s->last_seen = column_dup(st, 14);
		text = (const char *)sqlite3_column_text(st, 15);
		if (!text || ipam_inv_status_parse(text, &s->status))
			s->status = IPAM_INV_UNCHANGED;
		s->status_detail = column_dup(st, 16);
		s->access = column_dup(st, 17);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ipam_inventory_release(out);
		return db_error(db, IPAM_EDB, "cannot read the inventory from");
	}
	err = load_addresses(db, out);
	if (err)
		ipam_inventory_release(out);
	return err;
}

static int store_domain(struct ipam_db *db, const struct ipam_domain *dom,
			const struct ipam_obs_domain *od)
{
	const char *reason = ipam_obs_domain_reason(od);
	sqlite3_stmt *st;
	int err;

	err = prepare(db, &st,
		      "INSERT INTO domains(name, discover_dc, discover_dns, "
		      "discover_dhcp, last_discovery_at, last_status, "
		      "last_reason) VALUES (?1, ?2, ?3, ?4, " NOW_SQL
		      ", ?5, ?6) "
		      "ON CONFLICT(name) DO UPDATE SET "
		      "discover_dc = excluded.discover_dc, "
		      "discover_dns = excluded.discover_dns, "
		      "discover_dhcp = excluded.discover_dhcp, "
		      "last_discovery_at = excluded.last_discovery_at, "
		      "last_status = excluded.last_status, "
		      "last_reason = excluded.last_reason");
	if (err)
		return err;
	bind_text(st, 1, od->name);
	sqlite3_bind_int(st, 2, dom ? dom->dc : 1);
	sqlite3_bind_int(st, 3, dom ? dom->dns : 1);
	sqlite3_bind_int(st, 4, dom ? dom->dhcp : 1);
	bind_text(st, 5, reason ? "incomplete" : "complete");
	bind_text(st, 6, reason);
	return step_done(db, st, "cannot record a domain in");
}

static int store_server(struct ipam_db *db, long long run_id,
			const struct ipam_inv_update *u)
{
	const struct ipam_inv_server *r = &u->row;
	struct strbuf roles = STRBUF_INIT;
	sqlite3_stmt *st;
	long long id = r->id;
	size_t i;
	int err;

	ipam_roles_format(&roles, r->roles, ",");
	if (!id)
		err = prepare(
			db, &st,
			"INSERT INTO servers(domain_id, roles, declared, "
			"manageability, owner, description, os_name, "
			"os_version, object_guid, object_sid, dn, status, "
			"status_detail, name, first_seen, last_seen) "
			"VALUES ((SELECT id FROM domains WHERE name = ?1), "
			"?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
			"?13, ?14, " NOW_SQL ", " NOW_SQL ")");
	else
		err = prepare(
			db, &st,
			"UPDATE servers SET domain_id = (SELECT id FROM "
			"domains WHERE name = ?1), roles = ?2, declared = "
			"?3, manageability = ?4, owner = ?5, description "
			"= ?6, os_name = ?7, os_version = ?8, object_guid "
			"= ?9, object_sid = ?10, dn = ?11, status = ?12, "
			"status_detail = ?13, last_seen = CASE WHEN ?15 "
			"THEN " NOW_SQL " ELSE last_seen END, first_seen = "
			"coalesce(first_seen, " NOW_SQL ") WHERE id = ?14");
	if (err)
		goto out;
	bind_text(st, 1, r->domain);
	bind_text(st, 2, roles.buf);
	sqlite3_bind_int(st, 3, r->declared);
	bind_text(st, 4, ipam_manageability_name(r->manageability));
	bind_text(st, 5, r->owner);
	bind_text(st, 6, r->description);
	bind_text(st, 7, r->os_name);
	bind_text(st, 8, r->os_version);
	bind_text(st, 9, r->guid);
	bind_text(st, 10, r->sid);
	bind_text(st, 11, r->dn);
	bind_text(st, 12, ipam_inv_status_name(r->status));
	bind_text(st, 13, r->status_detail);
	if (!id) {
		bind_text(st, 14, r->name);
	} else {
		sqlite3_bind_int64(st, 14, id);
		sqlite3_bind_int(st, 15, u->seen);
	}
	err = step_done(db, st, "cannot store a server in");
	if (err)
		goto out;
	if (!id)
		id = sqlite3_last_insert_rowid(db->h);

	if (u->seen) {
		err = prepare(
			db, &st,
			"DELETE FROM server_addresses WHERE server_id = ?1");
		if (err)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		err = step_done(db, st, "cannot store addresses in");
		for (i = 0; !err && i < r->nr_addrs; i++) {
			err = prepare(db, &st,
				      "INSERT OR IGNORE INTO server_addresses"
				      "(server_id, family, address) VALUES "
				      "(?1, ?2, ?3)");
			if (err)
				break;
			sqlite3_bind_int64(st, 1, id);
			sqlite3_bind_int(st, 2,
					 strchr(r->addrs[i].text, ':') ? 6 : 4);
			bind_text(st, 3, r->addrs[i].text);
			err = step_done(db, st, "cannot store addresses in");
		}
		if (err)
			goto out;
	}
	if (u->change) {
		err = prepare(
			db, &st,
			"INSERT INTO server_history(server_id, run_id, at, "
			"change) VALUES (?1, ?2, " NOW_SQL ", ?3)");
		if (err)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, run_id);
		bind_text(st, 3, u->change);
		err = step_done(db, st, "cannot store history in");
		if (err)
			goto out;
	}
	if (u->purge) {
		/* Unmanaged: IPAM keeps no collected data for it. */
		err = prepare(db, &st,
			      "DELETE FROM access_status WHERE server_id = ?1");
		if (err)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		err = step_done(db, st, "cannot purge collected data in");
	}
out:
	strbuf_release(&roles);
	return err;
}

int ipam_db_inventory_store(struct ipam_db *db, long long run_id,
			    const struct ipam_desired *d,
			    const struct ipam_observed *obs,
			    const struct ipam_inv_plan *plan)
{
	size_t i;
	int err;

	err = exec_sql(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	for (i = 0; !err && i < obs->nr_domains; i++)
		err = store_domain(
			db, ipam_desired_find_domain(d, obs->domains[i].name),
			&obs->domains[i]);
	for (i = 0; !err && i < plan->nr; i++)
		err = store_server(db, run_id, &plan->updates[i]);
	if (!err)
		return exec_sql(db, "COMMIT");
	ipam_error_prefix(err, "storing the inventory");
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

int ipam_db_server_history(struct ipam_db *db, const char *name,
			   struct ipam_db_history **out, size_t *nr)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = prepare(db, &st,
		      "SELECT h.at, h.run_id, h.change FROM server_history h "
		      "JOIN servers s ON s.id = h.server_id WHERE s.name = ?1 "
		      "ORDER BY h.id");
	if (err)
		return err;
	bind_text(st, 1, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[*nr].at = column_dup(st, 0);
		(*out)[*nr].run_id = sqlite3_column_int64(st, 1);
		(*out)[*nr].change = column_dup(st, 2);
		(*nr)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ipam_db_history_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return db_error(db, IPAM_EDB, "cannot read history from");
	}
	return 0;
}

void ipam_db_history_free(struct ipam_db_history *h, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(h[i].at);
		free(h[i].change);
	}
	free(h);
}

/* ---- what was applied ---- */

/* The role text of each enum ipam_pol_gpo in applied_gpos. */
static const char *const gpo_roles[IPAM_GPO_COUNT] = {
	[IPAM_POL_GPO_DHCP] = "dhcp",
	[IPAM_POL_GPO_DNS] = "dns",
	[IPAM_POL_GPO_DC_NPS] = "dc_nps",
};

static int gpo_role_parse(const char *text)
{
	int i;

	for (i = 0; text && i < IPAM_GPO_COUNT; i++)
		if (!strcmp(text, gpo_roles[i]))
			return i;
	return -1;
}

static int cmp_applied_gpo(const void *a, const void *b)
{
	const struct ipam_applied_gpo *x = a, *y = b;

	return (x->gpo > y->gpo) - (x->gpo < y->gpo);
}

/* A GPO's filter entries, sorted; fst is reset and reused. */
static int load_applied_filter(struct ipam_db *db, sqlite3_stmt *fst,
			       const char *domain, struct ipam_applied_gpo *g)
{
	size_t alloc = 0;
	int rc;

	sqlite3_reset(fst);
	bind_text(fst, 1, domain);
	bind_text(fst, 2, gpo_roles[g->gpo]);
	while ((rc = sqlite3_step(fst)) == SQLITE_ROW) {
		char *sid = column_dup(fst, 0);

		if (!sid)
			continue;
		ALLOC_GROW(g->filter_sids, g->nr_filter + 1, alloc);
		g->filter_sids[g->nr_filter++] = sid;
	}
	if (rc != SQLITE_DONE)
		return db_error(db, IPAM_EDB,
				"cannot read applied filters from");
	return 0;
}

/* A domain's GPOs in role order, with their filter entries. */
static int load_applied_gpos(struct ipam_db *db, sqlite3_stmt *gst,
			     sqlite3_stmt *fst, struct ipam_applied_domain *ad)
{
	size_t k;
	int rc, err = 0;

	sqlite3_reset(gst);
	bind_text(gst, 1, ad->domain);
	while ((rc = sqlite3_step(gst)) == SQLITE_ROW) {
		int gpo = gpo_role_parse(
			(const char *)sqlite3_column_text(gst, 0));
		struct ipam_applied_gpo *g;

		/* The CHECK and the primary key make both impossible. */
		if (gpo < 0 || ad->nr_gpos >= IPAM_GPO_COUNT)
			continue;
		g = &ad->gpos[ad->nr_gpos++];
		memset(g, 0, sizeof(*g));
		g->gpo = gpo;
		g->guid = column_dup(gst, 1);
		g->version = (uint32_t)sqlite3_column_int64(gst, 2);
		g->linked = sqlite3_column_int(gst, 3) != 0;
		g->settings_current = sqlite3_column_int(gst, 4) != 0;
		g->dacl_current = sqlite3_column_int(gst, 5) != 0;
	}
	if (rc != SQLITE_DONE)
		return db_error(db, IPAM_EDB, "cannot read applied GPOs from");
	qsort(ad->gpos, ad->nr_gpos, sizeof(ad->gpos[0]), cmp_applied_gpo);
	for (k = 0; !err && k < ad->nr_gpos; k++)
		err = load_applied_filter(db, fst, ad->domain, &ad->gpos[k]);
	return err;
}

int ipam_db_applied_load(struct ipam_db *db, struct ipam_applied *out)
{
	sqlite3_stmt *st = NULL, *gst = NULL, *fst = NULL;
	size_t alloc = 0, i;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = prepare(db, &st,
		      "SELECT domain, config_digest, grp, group_member, elr, "
		      "dns_ace FROM applied_domains ORDER BY domain");
	if (err)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ipam_applied_domain *ad;

		ALLOC_GROW(out->domains, out->nr + 1, alloc);
		ad = &out->domains[out->nr++];
		memset(ad, 0, sizeof(*ad));
		ad->domain = column_dup(st, 0);
		ad->config_digest = column_dup(st, 1);
		ad->group = sqlite3_column_int(st, 2) != 0;
		ad->group_member = sqlite3_column_int(st, 3) != 0;
		ad->elr = sqlite3_column_int(st, 4) != 0;
		ad->dns_ace = sqlite3_column_int(st, 5) != 0;
	}
	if (rc != SQLITE_DONE) {
		err = db_error(db, IPAM_EDB, "cannot read applied state from");
		goto out;
	}
	err = prepare(db, &gst,
		      "SELECT role, guid, version, linked, settings_current, "
		      "dacl_current FROM applied_gpos WHERE domain = ?1");
	if (!err)
		err = prepare(db, &fst,
			      "SELECT sid FROM applied_filter WHERE domain = "
			      "?1 AND role = ?2 ORDER BY sid");
	for (i = 0; !err && i < out->nr; i++)
		err = load_applied_gpos(db, gst, fst, &out->domains[i]);
out:
	sqlite3_finalize(fst);
	sqlite3_finalize(gst);
	sqlite3_finalize(st);
	if (err)
		ipam_applied_release(out);
	return err;
}

/* Run sql with ?1 bound to a domain name. */
static int exec_for_domain(struct ipam_db *db, const char *sql,
			   const char *domain)
{
	sqlite3_stmt *st;
	int err = prepare(db, &st, sql);

	if (err)
		return err;
	bind_text(st, 1, domain);
	return step_done(db, st, "cannot record applied state in");
}

static int store_applied_gpo(struct ipam_db *db, const char *domain,
			     const struct ipam_applied_gpo *g)
{
	sqlite3_stmt *st;
	size_t j;
	int err;

	err = prepare(db, &st,
		      "INSERT INTO applied_gpos(domain, role, guid, version, "
		      "linked, settings_current, dacl_current) VALUES "
		      "(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (err)
		return err;
	bind_text(st, 1, domain);
	bind_text(st, 2, gpo_roles[g->gpo]);
	bind_text(st, 3, g->guid);
	sqlite3_bind_int64(st, 4, g->version);
	sqlite3_bind_int(st, 5, g->linked);
	sqlite3_bind_int(st, 6, g->settings_current);
	sqlite3_bind_int(st, 7, g->dacl_current);
	err = step_done(db, st, "cannot record an applied GPO in");
	for (j = 0; !err && j < g->nr_filter; j++) {
		err = prepare(db, &st,
			      "INSERT OR IGNORE INTO applied_filter(domain, "
			      "role, sid) VALUES (?1, ?2, ?3)");
		if (err)
			break;
		bind_text(st, 1, domain);
		bind_text(st, 2, gpo_roles[g->gpo]);
		bind_text(st, 3, g->filter_sids[j]);
		err = step_done(db, st, "cannot record a filter entry in");
	}
	return err;
}

static int check_applied(const struct ipam_applied_domain *ad)
{
	size_t k, j;

	if (!ad->domain || !*ad->domain)
		return ipam_error_set(IPAM_EINVAL,
				      "applied state names no domain");
	if (ad->nr_gpos > IPAM_GPO_COUNT)
		return ipam_error_set(IPAM_EINVAL,
				      "applied state of '%s' has %zu GPOs",
				      ad->domain, ad->nr_gpos);
	for (k = 0; k < ad->nr_gpos; k++) {
		const struct ipam_applied_gpo *g = &ad->gpos[k];

		if (g->gpo < 0 || g->gpo >= IPAM_GPO_COUNT)
			return ipam_error_set(IPAM_EINVAL,
					      "applied state of '%s': unknown "
					      "GPO %d",
					      ad->domain, g->gpo);
		if (!g->guid)
			return ipam_error_set(IPAM_EINVAL,
					      "applied state of '%s': the %s "
					      "GPO has no GUID",
					      ad->domain, gpo_roles[g->gpo]);
		for (j = 0; j < g->nr_filter; j++)
			if (!g->filter_sids[j])
				return ipam_error_set(
					IPAM_EINVAL,
					"applied state of '%s': a filter "
					"entry of the %s GPO has no SID",
					ad->domain, gpo_roles[g->gpo]);
	}
	return 0;
}

int ipam_db_applied_store(struct ipam_db *db, long long run_id,
			  const struct ipam_applied_domain *ad)
{
	sqlite3_stmt *st;
	size_t k;
	int err;

	err = check_applied(ad);
	if (err)
		return err;
	err = exec_sql(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	/* Children first: the cascades need foreign_keys, this does not. */
	err = exec_for_domain(
		db, "DELETE FROM applied_filter WHERE domain = ?1", ad->domain);
	if (!err)
		err = exec_for_domain(
			db, "DELETE FROM applied_gpos WHERE domain = ?1",
			ad->domain);
	if (!err)
		err = exec_for_domain(
			db, "DELETE FROM applied_domains WHERE domain = ?1",
			ad->domain);
	if (!err)
		err = prepare(db, &st,
			      "INSERT INTO applied_domains(domain, run_id, "
			      "applied_at, config_digest, grp, group_member, "
			      "elr, dns_ace) VALUES (?1, ?2, " NOW_SQL
			      ", ?3, ?4, ?5, ?6, ?7)");
	if (!err) {
		bind_text(st, 1, ad->domain);
		if (run_id > 0)
			sqlite3_bind_int64(st, 2, run_id);
		else
			sqlite3_bind_null(st, 2);
		bind_text(st, 3, ad->config_digest);
		sqlite3_bind_int(st, 4, ad->group);
		sqlite3_bind_int(st, 5, ad->group_member);
		sqlite3_bind_int(st, 6, ad->elr);
		sqlite3_bind_int(st, 7, ad->dns_ace);
		err = step_done(db, st, "cannot record applied state in");
	}
	for (k = 0; !err && k < ad->nr_gpos; k++)
		err = store_applied_gpo(db, ad->domain, &ad->gpos[k]);
	if (!err)
		err = exec_sql(db, "COMMIT");
	if (!err)
		return 0;
	ipam_error_prefix(err, "recording what was applied to '%s'",
			  ad->domain);
	sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

/* ---- the reconciler lock ---- */

#define LOCK_POLL_MS 200

struct lock_holder {
	char *host, *command, *since, *boot_id;
	long long pid;
	long long proc_start; /* -1: not recorded */
};

static void holder_release(struct lock_holder *h)
{
	free(h->host);
	free(h->command);
	free(h->since);
	free(h->boot_id);
	memset(h, 0, sizeof(*h));
}

/*
 * Is h our own process's lock?  Same host and pid -- and, where the lock
 * says so, the same boot and start time (else it is a dead process's
 * whose pid we happen to have).
 */
static int holder_is_us(const struct lock_holder *h, const char *host,
			long long pid)
{
	char boot[64];

	if (!h->host || strcmp(h->host, host) || h->pid != pid)
		return 0;
	if (h->boot_id && *ipam_proc_boot_id(boot) && strcmp(h->boot_id, boot))
		return 0;
	return h->proc_start < 0 || h->proc_start == ipam_proc_start_ticks(pid);
}

/*
 * A holder is gone only when it ran on this host and its process is no
 * longer there: its pid is free, the host booted since (another boot id),
 * or the pid now names a process that started at another time (reused);
 * a process on another host cannot be checked from here.  (A zombie
 * still counts as running until its parent reaps it.)
 */
static int holder_gone(const struct lock_holder *h, const char *host)
{
	char boot[64];
	long long started;

	if (!h->host || strcmp(h->host, host))
		return 0;
	if (h->pid <= 0 || h->pid > INT_MAX)
		return 1;
	if (!ipam_proc_exists(h->pid))
		return 1;
	if (h->boot_id && *ipam_proc_boot_id(boot) && strcmp(h->boot_id, boot))
		return 1;
	if (h->proc_start < 0)
		return 0;
	started = ipam_proc_start_ticks(h->pid);
	return started >= 0 && started != h->proc_start;
}

/* The holder's runs that never ended: they never will. */
static int interrupt_runs(struct ipam_db *db, const struct lock_holder *h)
{
	sqlite3_stmt *st;
	int err;

	err = prepare(db, &st,
		      "UPDATE runs SET outcome = 'interrupted', ended_at = "
		      "" NOW_SQL " WHERE outcome = 'running' AND host = ?1 "
		      "AND pid = ?2");
	if (err)
		return err;
	bind_text(st, 1, h->host);
	sqlite3_bind_int64(st, 2, h->pid);
	return step_done(db, st, "cannot mark interrupted runs in");
}

/*
 * One attempt, in one IMMEDIATE transaction so that two processes cannot
 * both see the lock free: *taken, or h says who holds it.
 */
static int lock_try(struct ipam_db *db, const char *command, const char *host,
		    struct lock_holder *h, int *taken)
{
	long long pid = (long long)getpid();
	sqlite3_stmt *st;
	int rc, held, err;

	*taken = 0;
	err = exec_sql(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = prepare(db, &st,
		      "SELECT host, pid, command, started_at, proc_start, "
		      "boot_id FROM reconcile_lock WHERE id = 1");
	if (err)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		h->host = column_dup(st, 0);
		h->pid = sqlite3_column_int64(st, 1);
		h->command = column_dup(st, 2);
		h->since = column_dup(st, 3);
		h->proc_start = sqlite3_column_type(st, 4) == SQLITE_NULL
					? -1
					: sqlite3_column_int64(st, 4);
		h->boot_id = column_dup(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		err = db_error(db, IPAM_EDB, "cannot read the lock of");
		goto out;
	}
	held = rc == SQLITE_ROW;
	if (held && holder_is_us(h, host, pid)) {
		/* Ours already: taking it again is no conflict. */
		*taken = 1;
		goto out;
	}
	if (held && !holder_gone(h, host))
		goto out;
	if (held)
		err = interrupt_runs(db, h);
	if (!err)
		err = prepare(db, &st,
			      "INSERT OR REPLACE INTO reconcile_lock(id, host, "
			      "pid, command, started_at, proc_start, boot_id) "
			      "VALUES (1, ?1, ?2, ?3, " NOW_SQL ", ?4, ?5)");
	if (!err) {
		long long me = ipam_proc_start_ticks(pid);
		char boot[64];

		bind_text(st, 1, host);
		sqlite3_bind_int64(st, 2, pid);
		bind_text(st, 3, command);
		if (me >= 0)
			sqlite3_bind_int64(st, 4, me);
		else
			sqlite3_bind_null(st, 4);
		if (*ipam_proc_boot_id(boot))
			bind_text(st, 5, boot);
		else
			sqlite3_bind_null(st, 5);
		err = step_done(db, st, "cannot take the lock of");
	}
	if (!err)
		*taken = 1;
out:
	if (!err)
		err = exec_sql(db, "COMMIT");
	if (err) {
		*taken = 0;
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	}
	return err;
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int ipam_db_lock(struct ipam_db *db, const char *command, int timeout_s)
{
	long long limit = timeout_s > 0 ? timeout_s * 1000LL : 0, left;
	struct lock_holder h = {0};
	struct timespec start;
	char host[256];
	int taken, err;

	this_host(host, sizeof(host));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		holder_release(&h);
		err = lock_try(db, command, host, &h, &taken);
		if (err || taken)
			break;
		left = limit - elapsed_ms(&start);
		if (left <= 0) {
			err = ipam_error_set(
				IPAM_ECONFLICT,
				"state database '%s' is locked by %s (pid %lld "
				"on %s) since %s; waited %d s. Wait for it to "
				"finish, or allow longer with --lock-timeout "
				"SECONDS; if that process is gone (one on "
				"another host cannot be checked from here), "
				"remove the lock with 'ipamctl db unlock'",
				db->path, h.command ? h.command : "?", h.pid,
				h.host ? h.host : "?", h.since ? h.since : "?",
				timeout_s > 0 ? timeout_s : 0);
			break;
		}
		sleep_ms(left < LOCK_POLL_MS ? left : LOCK_POLL_MS);
	}
	holder_release(&h);
	if (err && err != IPAM_ECONFLICT)
		ipam_error_prefix(err, "taking the reconciler lock");
	return err;
}

int ipam_db_unlock(struct ipam_db *db)
{
	char host[256];
	sqlite3_stmt *st;
	int err;

	this_host(host, sizeof(host));
	err = prepare(db, &st,
		      "DELETE FROM reconcile_lock WHERE id = 1 AND host = ?1 "
		      "AND pid = ?2");
	if (err)
		return err;
	bind_text(st, 1, host);
	sqlite3_bind_int64(st, 2, (long long)getpid());
	return step_done(db, st, "cannot release the lock of");
}

int ipam_db_lock_break(struct ipam_db *db, struct strbuf *holder)
{
	sqlite3_stmt *st;
	int err, rc;

	strbuf_reset(holder);
	err = prepare(db, &st,
		      "SELECT command, pid, host, started_at FROM "
		      "reconcile_lock WHERE id = 1");
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		strbuf_addf(holder, "%s (pid %lld on %s) since %s",
			    (const char *)sqlite3_column_text(st, 0),
			    (long long)sqlite3_column_int64(st, 1),
			    (const char *)sqlite3_column_text(st, 2),
			    (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(db, IPAM_EDB, "cannot read the lock of");
	if (rc == SQLITE_DONE)
		return 0;
	err = prepare(db, &st, "DELETE FROM reconcile_lock WHERE id = 1");
	if (err)
		return err;
	return step_done(db, st, "cannot remove the lock of");
}

/* ---- the journal ---- */

/* Step an UPDATE; IPAM_ENOTFOUND (message from the caller) if it matched
 * no row. */
static int step_update(struct ipam_db *db, sqlite3_stmt *st, const char *what,
		       int *changed)
{
	int err = step_done(db, st, what);

	*changed = err ? 0 : sqlite3_changes(db->h);
	return err;
}

/* UPDATE runs SET <sql: ?1, ?2> WHERE id = ?3. */
static int run_set_two(struct ipam_db *db, long long run_id, const char *sql,
		       const char *a, const char *b)
{
	sqlite3_stmt *st;
	int changed, err;

	err = prepare(db, &st, sql);
	if (err)
		return err;
	bind_text(st, 1, a);
	bind_text(st, 2, b);
	sqlite3_bind_int64(st, 3, run_id);
	err = step_update(db, st, "cannot record the run's source in",
			  &changed);
	if (!err && !changed)
		err = ipam_error_set(IPAM_ENOTFOUND,
				     "no run %lld in state database '%s'",
				     run_id, db->path);
	return err;
}

int ipam_db_run_set_source(struct ipam_db *db, long long run_id,
			   const char *git_commit, const char *config_digest)
{
	return run_set_two(
		db, run_id,
		"UPDATE runs SET git_commit = ?1, config_digest = ?2 "
		"WHERE id = ?3",
		git_commit, config_digest);
}

int ipam_db_run_set_author(struct ipam_db *db, long long run_id,
			   const char *author, const char *subject)
{
	return run_set_two(db, run_id,
			   "UPDATE runs SET git_author = ?1, git_subject = ?2 "
			   "WHERE id = ?3",
			   author, subject);
}

int ipam_db_action_add(struct ipam_db *db, long long run_id, int seq,
		       const char *kind, const char *target, const char *domain,
		       const char *detail)
{
	sqlite3_stmt *st;
	int err;

	err = prepare(db, &st,
		      "INSERT INTO actions(run_id, seq, kind, target, domain, "
		      "detail, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		      "'pending')");
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, seq);
	bind_text(st, 3, kind);
	bind_text(st, 4, target);
	bind_text(st, 5, domain);
	bind_text(st, 6, detail);
	return step_done(db, st, "cannot journal an action in");
}

int ipam_db_action_set(struct ipam_db *db, long long run_id, int seq,
		       const char *state, const char *error)
{
	static const char *const states[] = {"started", "done", "failed",
					     "skipped"};
	sqlite3_stmt *st;
	size_t i;
	int changed, err;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (state && !strcmp(state, states[i]))
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return ipam_error_set(IPAM_EINVAL,
				      "unknown action state '%s': use started, "
				      "done, failed or skipped",
				      state ? state : "(null)");
	err = prepare(db, &st,
		      "UPDATE actions SET state = ?3, "
		      "started_at = CASE WHEN ?3 = 'started' THEN " NOW_SQL
		      " ELSE started_at END, "
		      "ended_at = CASE WHEN ?3 IN ('done','failed','skipped') "
		      "THEN " NOW_SQL " ELSE ended_at END, "
		      "error = ?4 WHERE run_id = ?1 AND seq = ?2");
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int(st, 2, seq);
	bind_text(st, 3, state);
	bind_text(st, 4, error);
	err = step_update(db, st, "cannot journal an action in", &changed);
	if (!err && !changed)
		err = ipam_error_set(IPAM_ENOTFOUND,
				     "no action %d in run %lld of state "
				     "database '%s'",
				     seq, run_id, db->path);
	return err;
}

#define RUN_COLUMNS                                                            \
	"SELECT id, command, started_at, ended_at, host, pid, git_commit, "    \
	"config_digest, outcome, summary, "

/* The runs of a database not migrated yet still read (history and status
 * work before `db migrate`): without the columns of version 3. */
static int prepare_runs(struct ipam_db *db, sqlite3_stmt **st, const char *tail)
{
	struct strbuf sql = STRBUF_INIT;
	int v, err = ipam_db_schema_version(db, &v);

	if (err)
		return err;
	strbuf_addstr(&sql, RUN_COLUMNS);
	strbuf_addstr(&sql, v >= 3 ? "git_author, git_subject FROM runs "
				   : "NULL, NULL FROM runs ");
	strbuf_addstr(&sql, tail);
	err = prepare(db, st, sql.buf);
	strbuf_release(&sql);
	return err;
}

static void run_from_row(struct ipam_db_run *r, sqlite3_stmt *st)
{
	r->id = sqlite3_column_int64(st, 0);
	r->command = column_dup(st, 1);
	r->started_at = column_dup(st, 2);
	r->ended_at = column_dup(st, 3);
	r->host = column_dup(st, 4);
	r->pid = sqlite3_column_int64(st, 5);
	r->git_commit = column_dup(st, 6);
	r->config_digest = column_dup(st, 7);
	r->outcome = column_dup(st, 8);
	r->summary = column_dup(st, 9);
	r->git_author = column_dup(st, 10);
	r->git_subject = column_dup(st, 11);
}

int ipam_db_runs_list(struct ipam_db *db, size_t limit,
		      struct ipam_db_run **out, size_t *nr)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = prepare_runs(db, &st, "ORDER BY id DESC LIMIT ?1");
	if (err)
		return err;
	/* A negative LIMIT is none. */
	sqlite3_bind_int64(
		st, 1,
		limit && limit <= (size_t)LLONG_MAX ? (long long)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		memset(&(*out)[*nr], 0, sizeof(**out));
		run_from_row(&(*out)[(*nr)++], st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ipam_db_runs_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return db_error(db, IPAM_EDB, "cannot read runs from");
	}
	return 0;
}

int ipam_db_run_get(struct ipam_db *db, long long id, struct ipam_db_run *out)
{
	sqlite3_stmt *st;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = prepare_runs(db, &st, "WHERE id = ?1");
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		run_from_row(out, st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "no run %lld in state database '%s'", id,
				      db->path);
	if (rc != SQLITE_ROW)
		return db_error(db, IPAM_EDB, "cannot read runs from");
	return 0;
}

int ipam_db_run_actions(struct ipam_db *db, long long run_id,
			struct ipam_db_action_row **out, size_t *nr)
{
	sqlite3_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = prepare(db, &st,
		      "SELECT seq, kind, target, domain, detail, state, "
		      "started_at, ended_at, error FROM actions WHERE run_id "
		      "= ?1 ORDER BY seq");
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ipam_db_action_row *a;

		ALLOC_GROW(*out, *nr + 1, alloc);
		a = &(*out)[(*nr)++];
		a->seq = sqlite3_column_int(st, 0);
		a->kind = column_dup(st, 1);
		a->target = column_dup(st, 2);
		a->domain = column_dup(st, 3);
		a->detail = column_dup(st, 4);
		a->state = column_dup(st, 5);
		a->started_at = column_dup(st, 6);
		a->ended_at = column_dup(st, 7);
		a->error = column_dup(st, 8);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ipam_db_actions_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return db_error(db, IPAM_EDB, "cannot read the journal from");
	}
	return 0;
}

void ipam_db_run_release(struct ipam_db_run *r)
{
	if (!r)
		return;
	free(r->command);
	free(r->started_at);
	free(r->ended_at);
	free(r->host);
	free(r->git_commit);
	free(r->config_digest);
	free(r->outcome);
	free(r->summary);
	free(r->git_author);
	free(r->git_subject);
	memset(r, 0, sizeof(*r));
}

void ipam_db_runs_free(struct ipam_db_run *v, size_t nr)
{
	size_t i;

	for (i = 0; v && i < nr; i++)
		ipam_db_run_release(&v[i]);
	free(v);
}

void ipam_db_actions_free(struct ipam_db_action_row *v, size_t nr)
{
	size_t i;

	for (i = 0; v && i < nr; i++) {
		free(v[i].kind);
		free(v[i].target);
		free(v[i].domain);
		free(v[i].detail);
		free(v[i].state);
		free(v[i].started_at);
		free(v[i].ended_at);
		free(v[i].error);
	}
	free(v);
}
