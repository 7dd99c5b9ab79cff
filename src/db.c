#include "db.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
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
};

#define NR_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const count_tables[] = {
	"domains", "servers", "server_addresses", "server_history",
	"runs",	   "actions", "access_status",
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
	size_t n = sizeof(count_tables) / sizeof(count_tables[0]), i;
	struct ipam_db_count *c = xcalloc(n, sizeof(*c));

	for (i = 0; i < n; i++) {
		char *sql =
			xasprintf("SELECT count(*) FROM %s", count_tables[i]);
		sqlite3_stmt *st;
		int rc;

		rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
		free(sql);
		if (rc) {
			free(c);
			return db_error(db, IPAM_EDB, "cannot count rows in");
		}
		rc = sqlite3_step(st);
		c[i].table = count_tables[i];
		c[i].rows = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		sqlite3_finalize(st);
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

int ipam_db_run_begin(struct ipam_db *db, const char *command,
		      long long *run_id)
{
	char host[256] = "";
	sqlite3_stmt *st;
	int err;

	gethostname(host, sizeof(host) - 1);
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
