/*
 * The SQL driver of sql.h, on either backend: a SQLite file, or a real
 * PostgreSQL server (ci/pg) when IPAM_TEST_DB=postgres and IPAM_PG_STATE
 * names the cluster's state file (the pg fixture of tests/CMakeLists.txt
 * sets both).  Each test gets a fresh, empty database; what the driver
 * wrote is checked with the backend's own shell (sqlite3, psql).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#ifdef __SANITIZE_ADDRESS__
/* <sanitizer/allocator_interface.h>, which gcc does not install */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "error.h"
#include "sql.h"
#include "strbuf.h"
#include "testutil.h"

struct fx {
	int pg;
	char *dir;  /* SQLite: the file's directory */
	char *path; /* SQLite: the file */
	char *db;   /* PostgreSQL: the test's database */
	char *uri;  /* PostgreSQL: its URI */
	char *password;
	struct ipam_sql *c;
};

/* ---- the backend ------------------------------------------------------ */

static int use_pg(void)
{
	const char *v = getenv("IPAM_TEST_DB");

	return v && !strcmp(v, "postgres");
}

/* NAME's value in the state file of ci/pg ("export NAME=value" or
 * "export NAME='value'"). */
static char *pg_var(const char *name)
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

			if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'')
				out = xstrndup(v + 1, len - 2);
			else
				out = xstrdup(v);
			break;
		}
		line = end ? end + 1 : NULL;
	}
	free(text);
	if (!out)
		fail_msg("%s is not in %s", name, state);
	return out;
}

static struct ipam_sql *pg_admin(void)
{
	char *uri = pg_var("IPAM_PG_ADMIN_URI");
	struct ipam_sql *a;

	assert_int_equal(ipam_sql_open_postgres(&a, uri, NULL), 0);
	free(uri);
	return a;
}

static void pg_admin_exec(const char *sql)
{
	struct ipam_sql *a = pg_admin();

	if (ipam_sql_exec(a, sql))
		fail_msg("%s: %s", sql, ipam_error_last());
	ipam_sql_close(a);
}

static char *pg_password(void)
{
	char *file = pg_var("IPAM_PG_PASSWORD_FILE");
	char *p = slurp(file, NULL);

	assert_non_null(p);
	free(file);
	return p;
}

/* The URI of database db, by TCP with TLS (verify-full). */
static char *pg_uri(const char *db)
{
	char *port = pg_var("IPAM_PG_PORT"), *ca = pg_var("IPAM_PG_CA");
	char *uri = xasprintf("postgresql://ipam@127.0.0.1:%s/%s?"
			      "sslmode=verify-full&sslrootcert=%s",
			      port, db, ca);

	free(port);
	free(ca);
	return uri;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static int n;

	f->pg = use_pg();
	if (f->pg) {
		char *sql;

		f->db = xasprintf("test_sql_%ld_%d", (long)getpid(), ++n);
		sql = xasprintf("DROP DATABASE IF EXISTS %s", f->db);
		pg_admin_exec(sql);
		free(sql);
		sql = xasprintf("CREATE DATABASE %s OWNER ipam", f->db);
		pg_admin_exec(sql);
		free(sql);
		f->uri = pg_uri(f->db);
		f->password = pg_password();
		if (ipam_sql_open_postgres(&f->c, f->uri, f->password))
			fail_msg("%s", ipam_error_last());
	} else {
		f->dir = tmpdir_make();
		f->path = xasprintf("%s/t.db", f->dir);
		assert_int_equal(
			ipam_sql_open_sqlite(&f->c, f->path, IPAM_SQL_CREATE),
			0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_sql_close(f->c);
	if (f->pg) {
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)",
				      f->db);

		pg_admin_exec(sql);
		free(sql);
	} else {
		tmpdir_remove(f->dir);
	}
	free(f->path);
	free(f->db);
	free(f->uri);
	free(f->password);
	free(f);
	return 0;
}

/* SQL through the backend's own shell (sqlite3, psql as the superuser):
 * its output, unaligned, without the last newline. */
static char *shell(struct fx *f, const char *sql)
{
	struct run_result r;
	char *out;

	if (!f->pg)
		return sqlite_query(f->path, sql);
	{
		char *bin = pg_var("IPAM_PG_BIN"),
		     *sock = pg_var("IPAM_PG_SOCKET_DIR"),
		     *port = pg_var("IPAM_PG_PORT");
		char *psql = xasprintf("%s/psql", bin);
		char *conn = xasprintf("host=%s port=%s user=postgres "
				       "dbname=%s",
				       sock, port, f->db);
		char *argv[] = {psql,
				"-X",
				"-q",
				"-A",
				"-t",
				"-v",
				"ON_ERROR_STOP=1",
				"-c",
				(char *)sql,
				conn,
				NULL};

		assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
		if (r.status != 0)
			fail_msg("psql: %s", r.err);
		free(bin);
		free(sock);
		free(port);
		free(psql);
		free(conn);
	}
	out = r.out;
	r.out = NULL;
	run_result_free(&r);
	if (*out && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

static void exec_ok(struct fx *f, const char *sql)
{
	if (ipam_sql_exec(f->c, sql))
		fail_msg("%s: %s", sql, ipam_error_last());
}

static struct ipam_sql_stmt *prep(struct fx *f, const char *sql)
{
	struct ipam_sql_stmt *st;

	if (ipam_sql_prepare(f->c, &st, sql))
		fail_msg("%s: %s", sql, ipam_error_last());
	return st;
}

/* The id column of a table, as each dialect spells it. */
static const char *id_column(struct fx *f)
{
	return f->pg ? "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
		     : "id INTEGER PRIMARY KEY";
}

static const char *blob_type(struct fx *f)
{
	return f->pg ? "BYTEA" : "BLOB";
}

/* ---- tests ------------------------------------------------------------ */

static void test_open(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ipam_sql_kind(f->c),
			 f->pg ? IPAM_SQL_POSTGRES : IPAM_SQL_SQLITE);
	assert_string_equal(ipam_sql_name(f->c), f->pg ? f->uri : f->path);
	assert_false(ipam_sql_lost(f->c));
	assert_false(ipam_sql_in_transaction(f->c));
}

/* Every type in and out, NULLs, blobs with zero bytes, column names. */
static void test_types(void **state)
{
	static const char blob[] = {'a', 0, 'b', 0, 0, '\xff', '\n', 0};
	struct fx *f = *state;
	struct ipam_sql_stmt *st;
	char *sql, *out;

	sql = xasprintf("CREATE TABLE t (i BIGINT, d DOUBLE PRECISION, "
			"s TEXT, b %s, n TEXT)",
			blob_type(f));
	exec_ok(f, sql);
	free(sql);
	st = prep(f,
		  "INSERT INTO t (i, d, s, b, n) VALUES (?1, ?2, ?3, ?4, ?5)");
	assert_int_equal(ipam_sql_bind_count(st), 5);
	ipam_sql_bind_int64(st, 1, -9007199254740993LL);
	ipam_sql_bind_double(st, 2, 0.1);
	ipam_sql_bind_textn(st, 3, "h\xc3\xa9llo, 'w?1'xyz", 13);
	ipam_sql_bind_blob(st, 4, blob, sizeof(blob));
	ipam_sql_bind_text(st, 5, NULL);
	assert_int_equal(ipam_sql_step_done(st, "insert"), 0);
	assert_int_equal(ipam_sql_changes(f->c), 1);

	/* Read back by the backend's own shell. */
	out = shell(f, f->pg ? "SELECT i, d, s, encode(b, 'hex'), n IS NULL "
			       "FROM t"
			     : "SELECT i, d, s, hex(b), n IS NULL FROM t");
	assert_string_equal(out, f->pg ? "-9007199254740993|0.1|h\xc3\xa9llo, "
					 "'w?1'|6100620000ff0a00|t"
				       : "-9007199254740993|0.1|h\xc3\xa9llo, "
					 "'w?1'|6100620000FF0A00|1");
	free(out);

	st = prep(f, "SELECT i, d, s, b, n, length(s), '?1' AS q, "
		     "?1 AS p FROM t");
	ipam_sql_bind_text(st, 1, "param");
	assert_int_equal(ipam_sql_column_count(st), 8);
	assert_string_equal(ipam_sql_column_name(st, 0), "i");
	assert_string_equal(ipam_sql_column_name(st, 6), "q");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_type(st, 0), IPAM_SQL_INTEGER);
	assert_true(ipam_sql_column_int64(st, 0) == -9007199254740993LL);
	assert_int_equal(ipam_sql_column_type(st, 1), IPAM_SQL_FLOAT);
	assert_true(ipam_sql_column_double(st, 1) == 0.1);
	assert_int_equal(ipam_sql_column_type(st, 2), IPAM_SQL_TEXT);
	assert_string_equal(ipam_sql_column_text(st, 2), "h\xc3\xa9llo, 'w?1'");
	assert_int_equal(ipam_sql_column_type(st, 3), IPAM_SQL_BLOB);
	assert_int_equal(ipam_sql_column_bytes(st, 3), sizeof(blob));
	assert_memory_equal(ipam_sql_column_blob(st, 3), blob, sizeof(blob));
	assert_int_equal(ipam_sql_column_type(st, 4), IPAM_SQL_NULL);
	assert_null(ipam_sql_column_text(st, 4));
	assert_null(ipam_sql_column_dup(st, 4));
	assert_int_equal(ipam_sql_column_int64(st, 5), 12); /* characters */
	assert_string_equal(ipam_sql_column_text(st, 6), "?1");
	assert_string_equal(ipam_sql_column_text(st, 7), "param");
	out = ipam_sql_column_dup(st, 2);
	assert_string_equal(out, "h\xc3\xa9llo, 'w?1'");
	free(out);
	/* An integer read as text and as a double, as SQLite converts. */
	assert_string_equal(ipam_sql_column_text(st, 5), "12");
	assert_true(ipam_sql_column_double(st, 5) == 12.0);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_finalize(st);
}

/* An empty blob, a blob beside text-format columns, aggregates. */
static void test_blobs_and_aggregates(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *st;
	unsigned char big[70000];
	char *sql;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	sql = xasprintf("CREATE TABLE b (k INTEGER, v %s, at TEXT)",
			blob_type(f));
	exec_ok(f, sql);
	free(sql);
	st = prep(f,
		  "INSERT INTO b (k, v, at) VALUES (?1, ?2, " IPAM_SQL_NOW ")");
	ipam_sql_bind_int64(st, 1, 1);
	ipam_sql_bind_blob(st, 2, big, 0);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_reset(st);
	ipam_sql_bind_int64(st, 1, 2);
	ipam_sql_bind_blob(st, 2, big, sizeof(big));
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_reset(st);
	/* bindings are kept across a reset */
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_finalize(st);

	/* A numeric column: results in text format, the blob from hex. */
	st = prep(f, f->pg ? "SELECT k, v, at, 1.5::numeric FROM b ORDER BY k"
			   : "SELECT k, v, at, 1.5 FROM b ORDER BY k");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_type(st, 1), IPAM_SQL_BLOB);
	assert_int_equal(ipam_sql_column_bytes(st, 1), 0);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_bytes(st, 1), sizeof(big));
	assert_memory_equal(ipam_sql_column_blob(st, 1), big, sizeof(big));
	assert_int_equal(ipam_sql_column_type(st, 3), IPAM_SQL_FLOAT);
	assert_true(ipam_sql_column_double(st, 3) == 1.5);
	{
		/* IPAM_SQL_NOW: ISO 8601 UTC to the second, now. */
		const char *at = ipam_sql_column_text(st, 2);
		time_t now = time(NULL);
		struct tm tm = {0};
		char buf[32];

		assert_int_equal(strlen(at), 20);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
		assert_memory_equal(at, buf, 14); /* to the 10 minutes */
		assert_int_equal(sscanf(at, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year,
					&tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
					&tm.tm_min, &tm.tm_sec),
				 6);
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		assert_true(labs((long)(timegm(&tm) - now)) < 60);
	}
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_finalize(st);

	/* sum() of integers is an integer on both; avg() a float. */
	st = prep(f, "SELECT sum(k), avg(k), count(*), max(k) FROM b");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_type(st, 0), IPAM_SQL_INTEGER);
	assert_int_equal(ipam_sql_column_int64(st, 0), 5);
	assert_int_equal(ipam_sql_column_type(st, 1), IPAM_SQL_FLOAT);
	assert_true(ipam_sql_column_double(st, 1) > 1.66 &&
		    ipam_sql_column_double(st, 1) < 1.67);
	assert_int_equal(ipam_sql_column_int64(st, 2), 3);
	assert_int_equal(ipam_sql_column_int64(st, 3), 2);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_finalize(st);
}

/* A statement runs while another of the connection is iterated, as
 * db_dns.c's removal of old zones does. */
static void test_nested(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *outer, *del, *ins;
	int rows = 0;
	char *out;

	exec_ok(f, "CREATE TABLE z (k INTEGER PRIMARY KEY, name TEXT)");
	exec_ok(f, "CREATE TABLE log (k INTEGER, what TEXT)");
	exec_ok(f, "INSERT INTO z VALUES (1, 'a'), (2, 'b'), (3, 'c'), "
		   "(4, 'd')");
	outer = prep(f, "SELECT k, name FROM z ORDER BY k");
	del = prep(f, "DELETE FROM z WHERE k = ?1");
	ins = prep(f, "INSERT INTO log VALUES (?1, ?2)");
	while (ipam_sql_step(outer) == IPAM_SQL_ROW) {
		long long k = ipam_sql_column_int64(outer, 0);

		rows++;
		ipam_sql_bind_int64(ins, 1, k);
		ipam_sql_bind_text(ins, 2, ipam_sql_column_text(outer, 1));
		assert_int_equal(ipam_sql_step(ins), IPAM_SQL_DONE);
		ipam_sql_reset(ins);
		if (k % 2 == 0) {
			ipam_sql_bind_int64(del, 1, k);
			assert_int_equal(ipam_sql_step(del), IPAM_SQL_DONE);
			assert_int_equal(ipam_sql_changes(f->c), 1);
			ipam_sql_reset(del);
		}
		/* the outer row stays readable */
		assert_int_equal(ipam_sql_column_int64(outer, 0), k);
	}
	assert_int_equal(rows, 4);
	ipam_sql_finalize(outer);
	ipam_sql_finalize(del);
	ipam_sql_finalize(ins);
	out = shell(f, f->pg ? "SELECT string_agg(name, ',' ORDER BY k) "
			       "FROM z"
			     : "SELECT group_concat(name, ',') FROM (SELECT "
			       "name FROM z ORDER BY k)");
	assert_string_equal(out, "a,c");
	free(out);
	out = shell(f, "SELECT count(*) FROM log");
	assert_string_equal(out, "4");
	free(out);
}

/* Bytes of the heap in use: glibc's count, or the sanitizer's whose
 * allocator replaces glibc's. */
static size_t heap_used(void)
{
#ifdef __SANITIZE_ADDRESS__
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
#endif
}

#define BIG_ROWS 100000

/* Iterate BIG_ROWS rows of about 200 bytes: the peak of the heap above
 * what it was before; rows counted, a COMMIT and a write mid-way. */
static size_t iterate_big(struct fx *f, int scan, long long *sum)
{
	struct ipam_sql_stmt *st, *ins;
	size_t base, peak = 0;
	int rows = 0;
	const char *sql = "SELECT n, pad FROM big ORDER BY n";

	*sum = 0;
	base = heap_used();
	if (scan)
		assert_int_equal(ipam_sql_prepare_scan(f->c, &st, sql), 0);
	else
		st = prep(f, sql);
	ins = prep(f, "INSERT INTO seen (n) VALUES (?1)");
	assert_int_equal(ipam_sql_begin(f->c), 0);
	while (ipam_sql_step(st) == IPAM_SQL_ROW) {
		*sum += ipam_sql_column_int64(st, 0);
		assert_int_equal(ipam_sql_column_bytes(st, 1), 200);
		if (++rows % 1000 == 0) {
			size_t used = heap_used();

			if (used > base && used - base > peak)
				peak = used - base;
			/* the cursor survives a COMMIT made meanwhile */
			ipam_sql_bind_int64(ins, 1, rows);
			assert_int_equal(ipam_sql_step(ins), IPAM_SQL_DONE);
			ipam_sql_reset(ins);
			assert_int_equal(ipam_sql_commit(f->c), 0);
			assert_int_equal(ipam_sql_begin(f->c), 0);
		}
	}
	assert_int_equal(ipam_sql_commit(f->c), 0);
	assert_int_equal(rows, BIG_ROWS);
	ipam_sql_finalize(st);
	ipam_sql_finalize(ins);
	return peak;
}

/* A large result through a scan stays in bounded memory. */
static void test_large_scan(void **state)
{
	struct fx *f = *state;
	long long sum;
	size_t peak;
	char *out;

	exec_ok(f, "CREATE TABLE big (n BIGINT, pad TEXT)");
	exec_ok(f, "CREATE TABLE seen (n BIGINT)");
	/* The same rows, padded as each dialect can. */
	exec_ok(f, f->pg ? "INSERT INTO big WITH RECURSIVE c(n) AS (SELECT 1 "
			   "UNION ALL SELECT n + 1 FROM c WHERE n < 100000) "
			   "SELECT n, lpad(n::text, 200, '0') FROM c"
			 : "INSERT INTO big WITH RECURSIVE c(n) AS (SELECT 1 "
			   "UNION ALL SELECT n + 1 FROM c WHERE n < 100000) "
			   "SELECT n, printf('%0200d', n) FROM c");
	peak = iterate_big(f, 1, &sum);
	assert_true(sum == (long long)BIG_ROWS * (BIG_ROWS + 1) / 2);
	/* 100,000 rows of 200 bytes are 20 MB: a scan holds a chunk. */
	print_message("scan of %d rows: heap peak %zu KiB\n", BIG_ROWS,
		      peak / 1024);
	assert_true(peak < 8 * 1024 * 1024);
	if (f->pg) {
		/* The measure sees a whole result: an ordinary statement. */
		peak = iterate_big(f, 0, &sum);
		print_message("whole result: heap peak %zu KiB\n", peak / 1024);
		assert_true(peak > 20 * 1024 * 1024);
	}
	out = shell(f, "SELECT count(*) FROM seen");
	assert_string_equal(out, f->pg ? "200" : "100");
	free(out);
}

/* A scan left before its end, in a transaction that goes on; a scan whose
 * transaction is rolled back; a reset with new bindings. */
static void test_scan_edges(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *st;
	char *out;
	int rows = 0;

	exec_ok(f, "CREATE TABLE t (n INTEGER, v TEXT)");
	exec_ok(f, "INSERT INTO t WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL "
		   "SELECT n + 1 FROM c WHERE n < 5000) SELECT n, 'x' FROM c");
	assert_int_equal(ipam_sql_begin(f->c), 0);
	assert_int_equal(ipam_sql_prepare_scan(f->c, &st,
					       "SELECT n FROM t WHERE n > ?1 "
					       "ORDER BY n"),
			 0);
	assert_int_equal(ipam_sql_bind_count(st), 1);
	assert_int_equal(ipam_sql_column_count(st), 1);
	ipam_sql_bind_int64(st, 1, 10);
	while (rows < 10 && ipam_sql_step(st) == IPAM_SQL_ROW)
		assert_int_equal(ipam_sql_column_int64(st, 0), 11 + rows++);
	/* again from the start, with another value */
	ipam_sql_reset(st);
	ipam_sql_bind_int64(st, 1, 4990);
	rows = 0;
	while (ipam_sql_step(st) == IPAM_SQL_ROW)
		rows++;
	assert_int_equal(rows, 10);
	ipam_sql_reset(st);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	ipam_sql_finalize(st); /* mid-way */
	exec_ok(f, "INSERT INTO t VALUES (0, 'in')");
	assert_int_equal(ipam_sql_commit(f->c), 0);

	/* declared in a transaction that is rolled back, finalized in the
	 * next one: that one must not fail */
	assert_int_equal(ipam_sql_begin(f->c), 0);
	assert_int_equal(
		ipam_sql_prepare_scan(f->c, &st, "SELECT n FROM t ORDER BY n"),
		0);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	ipam_sql_rollback(f->c);
	assert_int_equal(ipam_sql_begin(f->c), 0);
	ipam_sql_finalize(st);
	exec_ok(f, "INSERT INTO t VALUES (0, 'in too')");
	assert_int_equal(ipam_sql_commit(f->c), 0);
	out = shell(f, "SELECT count(*) FROM t WHERE n = 0");
	assert_string_equal(out, "2");
	free(out);

	/* an unbound parameter is NULL */
	st = prep(f, "SELECT count(*) FROM t WHERE v IS NOT DISTINCT FROM ?1");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_int64(st, 0), 0);
	ipam_sql_finalize(st);
}

/* A table changed after a statement on it was prepared (the driver keeps
 * them prepared on the server). */
static void test_schema_change(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *st;

	exec_ok(f, "CREATE TABLE t (a INTEGER)");
	exec_ok(f, "INSERT INTO t VALUES (1)");
	st = prep(f, "SELECT * FROM t");
	assert_int_equal(ipam_sql_column_count(st), 1);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	ipam_sql_finalize(st);
	exec_ok(f, "ALTER TABLE t ADD COLUMN b TEXT");
	exec_ok(f, "UPDATE t SET b = 'two'");
	st = prep(f, "SELECT * FROM t");
	assert_int_equal(ipam_sql_column_count(st), 2);
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_string_equal(ipam_sql_column_text(st, 1), "two");
	ipam_sql_finalize(st);
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	char *out;

	exec_ok(f, "CREATE TABLE t (v TEXT)");
	ipam_sql_rollback(f->c); /* outside a transaction: nothing */
	assert_int_equal(ipam_sql_begin(f->c), 0);
	assert_true(ipam_sql_in_transaction(f->c));
	exec_ok(f, "INSERT INTO t VALUES ('kept')");
	assert_int_equal(ipam_sql_commit(f->c), 0);
	assert_false(ipam_sql_in_transaction(f->c));
	assert_int_equal(ipam_sql_begin(f->c), 0);
	exec_ok(f, "INSERT INTO t VALUES ('dropped')");
	/* another session does not see it yet */
	out = shell(f, "SELECT count(*) FROM t");
	assert_string_equal(out, "1");
	free(out);
	ipam_sql_rollback(f->c);
	assert_false(ipam_sql_in_transaction(f->c));
	out = shell(f, "SELECT count(*) FROM t WHERE v = 'kept'");
	assert_string_equal(out, "1");
	free(out);
	out = shell(f, "SELECT count(*) FROM t");
	assert_string_equal(out, "1");
	free(out);
	/* A failed statement inside a transaction: rollback recovers. */
	assert_int_equal(ipam_sql_begin(f->c), 0);
	assert_int_equal(ipam_sql_exec(f->c, "INSERT INTO nosuch VALUES (1)"),
			 IPAM_EDB);
	ipam_sql_rollback(f->c);
	assert_false(ipam_sql_in_transaction(f->c));
	exec_ok(f, "INSERT INTO t VALUES ('after')");
}

static void test_changes_and_ids(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *st;
	char *sql;

	sql = xasprintf("CREATE TABLE t (%s, v TEXT)", id_column(f));
	exec_ok(f, sql);
	free(sql);
	exec_ok(f, "CREATE TABLE plain (v TEXT)");
	/* Before any id was made, in a transaction that goes on after. */
	assert_int_equal(ipam_sql_begin(f->c), 0);
	exec_ok(f, "INSERT INTO plain VALUES ('x')");
	/* SQLite's rowid tables all have an id; PostgreSQL's lastval()
	 * has none yet (and its error must not end the transaction). */
	assert_true(ipam_sql_last_insert_id(f->c) == (f->pg ? 0 : 1));
	exec_ok(f, "INSERT INTO plain VALUES ('y')");
	assert_int_equal(ipam_sql_commit(f->c), 0);

	st = prep(f, "INSERT INTO t (v) VALUES (?1)");
	for (int i = 1; i <= 3; i++) {
		ipam_sql_bind_text(st, 1, i == 2 ? "two" : "other");
		assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
		ipam_sql_reset(st);
		assert_true(ipam_sql_last_insert_id(f->c) == i);
		assert_true(ipam_sql_changes(f->c) == 1);
	}
	ipam_sql_finalize(st);
	st = prep(f, "UPDATE t SET v = ?1 WHERE v = ?2");
	ipam_sql_bind_text(st, 1, "changed");
	ipam_sql_bind_text(st, 2, "other");
	assert_int_equal(ipam_sql_step_done(st, "update"), 0);
	assert_true(ipam_sql_changes(f->c) == 2);
	/* a SELECT leaves the count of the last change */
	st = prep(f, "SELECT count(*) FROM t");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_int64(st, 0), 3);
	ipam_sql_finalize(st);
	assert_true(ipam_sql_changes(f->c) == 2);
	exec_ok(f, "DELETE FROM t WHERE id > 1");
	assert_true(ipam_sql_changes(f->c) == 2);
	st = prep(f, "DELETE FROM t WHERE id = 99");
	assert_int_equal(ipam_sql_step_done(st, "delete"), 0);
	assert_true(ipam_sql_changes(f->c) == 0);
	/* RETURNING, as both dialects have it */
	st = prep(f, "INSERT INTO t (v) VALUES ('r') RETURNING id");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	{
		long long id = ipam_sql_column_int64(st, 0);

		assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
		assert_true(id > 1);
		assert_true(ipam_sql_last_insert_id(f->c) == id);
		assert_true(ipam_sql_changes(f->c) == 1);
	}
	ipam_sql_finalize(st);
}

/* Errors name what failed and the database, with the server's words. */
static void test_errors(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *st;
	char *want;

	assert_int_equal(ipam_sql_prepare(f->c, &st, "SELEC nonsense"),
			 IPAM_EDB);
	assert_null(st);
	want = xasprintf("cannot prepare a query on '%s': ",
			 ipam_sql_name(f->c));
	assert_non_null(strstr(ipam_error_last(), want));
	assert_non_null(strstr(ipam_error_last(), "syntax error"));
	free(want);

	exec_ok(f, "CREATE TABLE u (k TEXT UNIQUE)");
	st = prep(f, "INSERT INTO u VALUES (?1)");
	ipam_sql_bind_text(st, 1, "same");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_DONE);
	ipam_sql_reset(st);
	assert_true(ipam_sql_step(st) < 0);
	assert_non_null(strstr(ipam_error_last(), "query failed on"));
	assert_non_null(
		strstr(ipam_error_last(), f->pg ? "duplicate key" : "UNIQUE"));
	ipam_sql_finalize(st);
	st = prep(f, "INSERT INTO u VALUES ('x')");
	assert_int_equal(ipam_sql_step_done(st, "cannot add x to"), 0);
	st = prep(f, "SELECT k FROM u");
	assert_int_equal(ipam_sql_step_done(st, "cannot read"), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "a row where none"));
}

/* The server ends the session: that call and every later one fail with
 * IPAM_EDB saying so, and the driver does not reconnect. */
static void test_lost_connection(void **state)
{
	struct fx *f = *state;
	struct ipam_sql_stmt *st, *kill, *other;
	struct ipam_sql *admin;
	long long pid;
	char *out, *sql;

	if (!f->pg)
		skip();
	exec_ok(f, "CREATE TABLE t (v INTEGER)");
	other = prep(f, "INSERT INTO t VALUES (1)");
	st = prep(f, "SELECT pg_backend_pid()");
	assert_int_equal(ipam_sql_step(st), IPAM_SQL_ROW);
	pid = ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	assert_int_equal(ipam_sql_begin(f->c), 0);

	admin = pg_admin();
	assert_int_equal(ipam_sql_prepare(admin, &kill,
					  "SELECT pg_terminate_backend(?1)"),
			 0);
	ipam_sql_bind_int64(kill, 1, pid);
	assert_int_equal(ipam_sql_step(kill), IPAM_SQL_ROW);
	assert_int_equal(ipam_sql_column_int64(kill, 0), 1);
	ipam_sql_finalize(kill);
	ipam_sql_close(admin);

	assert_int_equal(ipam_sql_step(other), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "query failed on"));
	assert_non_null(strstr(ipam_error_last(), "connection to the server "
						  "was lost"));
	assert_true(ipam_sql_lost(f->c));
	assert_false(ipam_sql_in_transaction(f->c));
	/* later calls fail the same way, without a new session */
	assert_int_equal(ipam_sql_step(other), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "lost earlier"));
	assert_int_equal(ipam_sql_exec(f->c, "SELECT 1"), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "lost"));
	assert_int_equal(ipam_sql_prepare(f->c, &st, "SELECT 2"), IPAM_EDB);
	assert_int_equal(ipam_sql_commit(f->c), IPAM_EDB);
	ipam_sql_rollback(f->c);
	assert_true(ipam_sql_last_insert_id(f->c) == 0);
	ipam_sql_finalize(other);
	sql = xasprintf("SELECT count(*) FROM pg_stat_activity WHERE "
			"datname = '%s'",
			f->db);
	out = shell(f, sql);
	assert_string_equal(out, "1"); /* the shell's own session */
	free(out);
	free(sql);
	out = shell(f, "SELECT count(*) FROM t");
	assert_string_equal(out, "0");
	free(out);
}

/* A second connection, and the password that the driver does not keep. */
static void test_open_again(void **state)
{
	struct fx *f = *state;
	struct ipam_sql *c2;

	if (!f->pg) {
		assert_int_equal(ipam_sql_open_again(&c2, f->c), 0);
		assert_int_equal(ipam_sql_exec(c2, "CREATE TABLE t (v)"), 0);
		ipam_sql_close(c2);
		return;
	}
	assert_int_equal(ipam_sql_open_again(&c2, f->c), IPAM_EINVAL);
	assert_null(c2);
	assert_non_null(strstr(ipam_error_last(), "password again"));
	/* A wrong password: the server's refusal, not the password. */
	assert_int_equal(ipam_sql_open_postgres(&c2, f->uri, "wrong-secret"),
			 IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "cannot connect"));
	assert_non_null(strstr(ipam_error_last(), "password authentication"));
	assert_null(strstr(ipam_error_last(), "wrong-secret"));
	/* Over the Unix socket, plain, with the same role */
	{
		char *sock = pg_var("IPAM_PG_SOCKET_URI");
		char *uri = xasprintf("postgresql://ipam@/%s?%s", f->db,
				      strchr(sock, '?') + 1);

		assert_int_equal(ipam_sql_open_postgres(&c2, uri, f->password),
				 0);
		assert_int_equal(ipam_sql_exec(c2, "CREATE TABLE s (v int)"),
				 0);
		ipam_sql_close(c2);
		free(uri);
		free(sock);
	}
}

static void uri_ok(const char *uri)
{
	if (ipam_sql_check_uri(uri))
		fail_msg("%s: %s", uri, ipam_error_last());
}

static void uri_bad(const char *uri, const char *words)
{
	assert_int_equal(ipam_sql_check_uri(uri), IPAM_EINVAL);
	if (!strstr(ipam_error_last(), words))
		fail_msg("%s: '%s' has no '%s'", uri, ipam_error_last(), words);
	assert_null(strstr(ipam_error_last(), "s3cret"));
}

static void test_uri_rules(void **state)
{
	(void)state;
	uri_ok("postgresql://ipam@db.example.org:5432/ipam");
	uri_ok("postgresql://ipam@db.example.org/ipam?sslmode=verify-full&"
	       "sslrootcert=/etc/ssl/ca.pem");
	uri_ok("postgres://ipam@db.example.org/ipam?sslmode=require");
	uri_ok("postgresql://ipam@127.0.0.1/ipam?sslmode=disable");
	uri_ok("postgresql://ipam@127.8.9.10:5433/ipam?sslmode=disable");
	uri_ok("postgresql://ipam@[::1]/ipam?sslmode=disable");
	uri_ok("postgresql://ipam@localhost/ipam?sslmode=prefer");
	uri_ok("postgresql://ipam@/ipam?host=/run/postgresql&sslmode=disable");
	uri_ok("postgresql:///ipam?host=%2Frun%2Fpostgresql&sslmode=disable");
	uri_ok("postgresql://ipam@db.example.org/ipam?hostaddr=127.0.0.1&"
	       "sslmode=disable");
	uri_bad("postgresql://ipam:s3cret@db.example.org/ipam", "password");
	uri_bad("postgresql://ipam:s3cret@127.0.0.1/ipam", "password");
	uri_bad("postgresql://ipam@db.example.org/ipam?password=s3cret",
		"password");
	uri_bad("postgresql://ipam@db.example.org/ipam?sslmode=disable",
		"sslmode=disable");
	uri_bad("postgresql://ipam@db.example.org/ipam?sslmode=allow",
		"Unix socket or a loopback");
	uri_bad("postgresql://ipam@192.0.2.1/ipam?sslmode=prefer",
		"without TLS");
	uri_bad("postgresql://ipam@localhost,db.example.org/ipam?"
		"sslmode=disable",
		"sslmode=disable");
	uri_bad("postgresql://ipam@127.0.0.1/ipam?hostaddr=192.0.2.1&"
		"sslmode=disable",
		"sslmode=disable");
	uri_bad("mysql://ipam:s3cret@db/ipam", "starts with postgresql://");
	uri_bad("postgresql://ipam:s3cret@db/ipam?nosuchoption=1",
		"does not parse");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs_and_aggregates,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_scan, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scan_edges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_schema_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changes_and_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_again, setup,
						teardown),
		cmocka_unit_test(test_uri_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
