/* The state database of a test: SQLite or ci/pg's PostgreSQL server. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "strbuf.h"

int test_db_is_pg(void)
{
	const char *v = getenv("IPAM_TEST_DB");

	return v && !strcmp(v, "postgres");
}

char *test_pg_var(const char *name)
{
	const char *state = getenv("IPAM_PG_STATE");
	size_t n = strlen(name);
	char *text, *line, *out = NULL;

	if (!state)
		fail_msg("IPAM_TEST_DB=postgres needs IPAM_PG_STATE (ci/pg)");
	text = slurp(state, NULL);
	if (!text)
		fail_msg("cannot read %s (is ci/pg up?)", state);
	for (line = text; line && *line;) {
		char *end = strchr(line, '\n');

		if (end)
			*end = '\0';
		if (!strncmp(line, "export ", 7) &&
		    !strncmp(line + 7, name, n) && line[7 + n] == '=') {
			char *v = line + 8 + n;
			size_t len = strlen(v);

			free(out);
			if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'')
				out = xstrndup(v + 1, len - 2);
			else
				out = xstrdup(v);
		}
		line = end ? end + 1 : NULL;
	}
	free(text);
	if (!out)
		fail_msg("%s: no %s", state, name);
	return out;
}

/*
 * The tests' independent look at a database is often SQLite's
 * group_concat(x[, sep]): each test database gets it as an aggregate
 * (the superuser's, outside ipamctl's schema objects: "db init --force"
 * leaves it).
 */
#define GROUP_CONCAT_SQL                                                       \
	"CREATE FUNCTION group_concat_step(text, anyelement, text) RETURNS "   \
	"text LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN $2 IS NULL THEN "  \
	"$1 WHEN $1 IS NULL THEN $2::text ELSE $1 || $3 || $2::text END $$;"   \
	"CREATE FUNCTION group_concat_step(text, anyelement) RETURNS text "    \
	"LANGUAGE sql IMMUTABLE AS $$ SELECT group_concat_step($1, $2, ',') "  \
	"$$;"                                                                  \
	"CREATE AGGREGATE group_concat(anyelement) (SFUNC = "                  \
	"group_concat_step, STYPE = text);"                                    \
	"CREATE AGGREGATE group_concat(anyelement, text) (SFUNC = "            \
	"group_concat_step, STYPE = text);"

/* psql as the cluster's superuser (peer authentication: we are root),
 * in database db (NULL: the admin URI's). */
static void pg_admin(const char *db, const char *sql)
{
	char *uri = test_pg_var("IPAM_PG_ADMIN_URI");
	char *conn = db ? xasprintf("\\c %s", db) : xstrdup("\\conninfo");
	char *const argv[] = {"/usr/bin/psql",
			      "-X",
			      "-q",
			      "-v",
			      "ON_ERROR_STOP=1",
			      "-d",
			      uri,
			      "-c",
			      conn,
			      "-c",
			      (char *)sql,
			      NULL};
	struct run_result r;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("psql (admin) %s: %s", sql, r.err);
	run_result_free(&r);
	free(conn);
	free(uri);
}

/* ipam's password for libpq: ci/pg's password file (0600, gone with the
 * cluster), so that no test leaves a copy of it behind. */
static void pg_passfile(void)
{
	static int done;
	char *path;

	if (done)
		return;
	path = test_pg_var("IPAM_PG_PASSFILE");
	setenv("PGPASSFILE", path, 1);
	free(path);
	done = 1;
}

char *test_db_new(const char *dir)
{
	static unsigned seq;
	char *base, *name, *sql, *uri, *q;
	struct strbuf sb = STRBUF_INIT;

	if (!test_db_is_pg())
		return xasprintf("%s/state.db", dir);
	pg_passfile();
	name = xasprintf("t_%ld_%u", (long)getpid(), ++seq);
	sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	pg_admin(NULL, sql);
	free(sql);
	sql = xasprintf("CREATE DATABASE %s OWNER ipam", name);
	pg_admin(NULL, sql);
	free(sql);
	pg_admin(name, GROUP_CONCAT_SQL);
	/* The role's URI names database "ipam": this test's instead. */
	base = test_pg_var(getenv("IPAM_TEST_PG_SOCKET") ? "IPAM_PG_SOCKET_URI"
							 : "IPAM_PG_URI");
	q = strchr(strstr(base, "://") + 3, '/');
	if (q && strncmp(q, "/ipam", 5))
		q = NULL;
	if (!q || (q[5] && q[5] != '?'))
		fail_msg("unexpected IPAM_PG_URI '%s'", base);
	strbuf_add(&sb, base, (size_t)(q - base) + 1);
	strbuf_addstr(&sb, name);
	strbuf_addstr(&sb, q + 5);
	uri = strbuf_detach(&sb, NULL);
	free(base);
	free(name);
	return uri;
}

/* The database name of a URI from test_db_new. */
static char *pg_db_name(const char *uri)
{
	const char *p = strchr(strstr(uri, "://") + 3, '/');

	if (!p)
		fail_msg("no database in '%s'", uri);
	p++;
	return xstrndup(p, strcspn(p, "?"));
}

void test_db_reset(const char *uri, const char *from)
{
	char *name = pg_db_name(uri), *tmpl = from ? pg_db_name(from) : NULL;
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);

	pg_admin(NULL, sql);
	free(sql);
	sql = xasprintf("CREATE DATABASE %s OWNER ipam%s%s", name,
			tmpl ? " TEMPLATE " : "", tmpl ? tmpl : "");
	pg_admin(NULL, sql);
	free(sql);
	if (!tmpl)
		pg_admin(name, GROUP_CONCAT_SQL);
	free(tmpl);
	free(name);
}

char *sqlite_run(const char *path, const char *sql, int want_ok)
{
	int pg = !strncmp(path, "postgresql://", 13);
	/* a writer may hold the file a moment (the loop under test): wait */
	char *const sqlite[] = {"/usr/bin/sqlite3", "-cmd",
				".timeout 10000",   (char *)path,
				(char *)sql,	    NULL};
	char *const psql[] = {
		"/usr/bin/psql",   "-X", "-A",	       "-t", "-q",	  "-v",
		"ON_ERROR_STOP=1", "-d", (char *)path, "-c", (char *)sql, NULL};
	struct run_result r;
	char *out;
	size_t n;

	if (pg)
		pg_passfile();
	assert_int_equal(run_cmd(&r, NULL, NULL, pg ? psql : sqlite), 0);
	if (want_ok && r.status)
		fail_msg("%s %s: %s", pg ? "psql" : "sqlite3", sql, r.err);
	if (!want_ok)
		assert_int_not_equal(r.status, 0);
	out = xstrdup(want_ok ? r.out : r.err);
	run_result_free(&r);
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return out;
}

char *sqlite_query(const char *path, const char *sql)
{
	return sqlite_run(path, sql, 1);
}

/* The bytes of hex digits s (pairs) into a new buffer; their count. */
static unsigned char *unhex(const char *s, size_t *len)
{
	size_t n = strcspn(s, "\n") / 2;
	unsigned char *v = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &b), 1);
		v[i] = (unsigned char)b;
	}
	*len = n;
	return v;
}

static void add_hex(struct strbuf *sb, const char *s)
{
	for (; *s; s++)
		strbuf_addf(sb, "%02X", (unsigned char)*s);
}

void test_db_unpack_blocks(const char *path)
{
	int pg = !strncmp(path, "postgresql://", 13);
	char *rows = sqlite_query(
		path, pg ? "SELECT id || ' ' || encode(packed, 'hex') FROM "
			   "dhcp_event_blocks WHERE packed IS NOT NULL"
			 : "SELECT id || ' ' || hex(packed) FROM "
			   "dhcp_event_blocks WHERE packed IS NOT NULL");
	char *dir = tmpdir_make(), *file = xasprintf("%s/block.zst", dir);
	char *const argv[] = {"/usr/bin/zstd", "-dcq", file, NULL};
	struct strbuf sql = STRBUF_INIT;

	for (const char *line = rows; *line;) {
		const char *sp = strchr(line, ' ');
		struct run_result r;
		unsigned char *bytes;
		size_t len;
		FILE *f;

		assert_non_null(sp);
		bytes = unhex(sp + 1, &len);
		f = fopen(file, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(bytes, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		free(bytes);
		assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
		if (r.status)
			fail_msg("zstd: %s", r.err);
		strbuf_addf(&sql, "UPDATE dhcp_event_blocks SET events = %s",
			    pg ? "convert_from('\\x" : "CAST(X'");
		add_hex(&sql, r.out);
		strbuf_addf(&sql, "'%s, packed = NULL WHERE id = %.*s;",
			    pg ? "::bytea, 'UTF8')" : " AS TEXT)",
			    (int)(sp - line), line);
		run_result_free(&r);
		line = strchr(sp, '\n') ? strchr(sp, '\n') + 1
					: sp + strlen(sp);
		/* an argument of the shell's stays under the kernel's 128 KiB
		 */
		if (sql.len > 32768 || !*line) {
			free(sqlite_query(path, sql.buf));
			strbuf_reset(&sql);
		}
	}
	strbuf_release(&sql);
	free(rows);
	free(file);
	tmpdir_remove(dir);
}
