/* db copy between real state databases, SQLite to SQLite or (with
 * IPAM_TEST_DB=postgres) SQLite to PostgreSQL and back: every table's rows
 * the same in the target as in the source (each read back with the
 * sqlite3 shell and psql),
 * ids kept and the next one past them, blobs with zero bytes, NULLs and
 * non-ASCII text unchanged; a non-empty target refused unless --replace;
 * a table db copy does not know refused before anything is written; the
 * command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"
#include "db_copy.h"
#include "error.h"
#include "strbuf.h"
#include "testutil.h"

struct fx {
	char *dir;
	char *src, *dst; /* paths */
	struct ipam_db *from, *to;
};

/* A source with rows in the tables of every kind of column. */
static const char fill[] =
	"INSERT INTO settings VALUES ('provisioning_method', 'gpo', "
	"'2026-12-01T00:00:00Z'), ('gpo_prefix', 'IPAM1', "
	"'2026-12-01T00:00:00Z');"
	"INSERT INTO domains (id, name) VALUES (3, 'corp.example.test');"
	"INSERT INTO runs (id, command, started_at, outcome, summary) VALUES "
	"(7, 'discover', '2026-12-01T00:00:00Z', 'succeeded', '{}'), "
	"(9, 'collect', '2026-12-02T00:00:00Z', 'failed', NULL);"
	"INSERT INTO servers (id, name, domain_id, roles, description) "
	"VALUES (11, 'dc1.corp.example.test', 3, 'dc,dns', 'Zürich ✓'), "
	"(12, 'dhcp1.corp.example.test', 3, 'dhcp', NULL);"
	"INSERT INTO server_addresses VALUES (11, 4, '192.0.2.10'), "
	"(12, 6, '2001:db8::12');"
	"INSERT INTO server_history (server_id, run_id, at, change) VALUES "
	"(11, 7, '2026-12-01T00:00:00Z', 'added'), "
	"(12, 7, '2026-12-01T00:00:00Z', 'added');"
	"INSERT INTO dhcp_event_batches (id, server_id, run_id, file, "
	"generation, seg, first_id, last_id, at_min, at_max) VALUES "
	"(1, 12, 9, 'DhcpSrvLog-Mon.log', 1, 0, 1, 2, 10, 20);"
	"INSERT INTO dhcp_event_postings VALUES (0, -42, 1, X'0001'), "
	"(0, 9223372036854775807, 1, X'00');"
	"INSERT INTO dns_zones (id, server_id, domain, name, partition, dn, "
	"collected_at) VALUES (5, 11, 'corp.example.test', "
	"'corp.example.test', 'domain', 'DC=x', '2026-12-01T00:00:00Z');"
	"INSERT INTO dns_records VALUES (5, '@', 2, 'dc1.corp.example.test.', "
	"3600, 0), (5, 'dc1', 1, '192.0.2.10', 3600, 0);"
	"INSERT INTO utilization_samples (run_id, kind, name, at, size, used, "
	"percent, state) VALUES (9, 'range', 'dhcp', '2026-12-02T00:00:00Z', "
	"'340282366920938463463374607431768211456', 3, 62.5, 'optimal');";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *out;

	f->dir = tmpdir_make();
	f->src = xasprintf("%s/src.db", f->dir);
	f->dst = test_db_is_pg() ? test_db_new(f->dir)
				 : xasprintf("%s/dst.db", f->dir);
	assert_int_equal(ipam_db_open(&f->from, f->src, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->from, NULL, NULL), 0);
	out = sqlite_query(f->src, fill);
	free(out);
	assert_int_equal(ipam_db_open(&f->to, f->dst, IPAM_DB_CREATE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_db_close(f->from);
	ipam_db_close(f->to);
	tmpdir_remove(f->dir);
	free(f->src);
	free(f->dst);
	free(f);
	return 0;
}

/* Each table whole, as the sqlite3 shell prints it (blobs in hex). */
static const char *const dumps[] = {
	"SELECT * FROM settings ORDER BY key",
	"SELECT * FROM domains ORDER BY id",
	"SELECT * FROM runs ORDER BY id",
	"SELECT * FROM servers ORDER BY id",
	"SELECT * FROM server_addresses ORDER BY address",
	"SELECT * FROM server_history ORDER BY id",
	"SELECT * FROM dhcp_event_batches ORDER BY id",
	NULL, /* dhcp_event_postings: postings() */
	"SELECT * FROM dns_zones ORDER BY id",
	"SELECT * FROM dns_records ORDER BY name",
	"SELECT id, run_id, kind, name, at, size, used, percent, state FROM "
	"utilization_samples ORDER BY id",
};

/* The postings with their blobs in hex, in the dialect of db. */
static const char *postings(const char *db)
{
	return strstr(db, "://")
		       ? "SELECT seg, k, batch, upper(encode(ids, 'hex')), "
			 "octet_length(ids) FROM dhcp_event_postings ORDER BY k"
		       : "SELECT seg, k, batch, hex(ids), length(ids) FROM "
			 "dhcp_event_postings ORDER BY k";
}

/* Every table of a and b (files or URIs) the same. */
static void same_tables(const char *a, const char *b)
{
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		const char *qa = dumps[i] ? dumps[i] : postings(a);
		char *x = sqlite_query(a, qa);
		char *y = sqlite_query(b, dumps[i] ? dumps[i] : postings(b));

		if (strcmp(x, y))
			fail_msg("%s:\nsource:\n%s\ntarget:\n%s", qa, x, y);
		assert_true(*x);
		free(x);
		free(y);
	}
}

static long long rows_of(const struct ipam_db_copy_count *c, size_t nr,
			 const char *table)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(c[i].table, table))
			return c[i].rows;
	fail_msg("no count for %s", table);
	return -1;
}

/* ipam_db_copy from f's source into to: its return code. */
static int copy(struct fx *f, struct ipam_db *to, bool replace)
{
	struct ipam_db_copy_opts o = {.replace = replace};
	struct ipam_db_copy_count *c = NULL;
	size_t nr = 0;
	int rc = ipam_db_copy(f->from, to, &o, &c, &nr);

	if (rc)
		assert_null(c);
	free(c);
	return rc;
}

static void test_copy_all(void **state)
{
	struct fx *f = *state;
	struct ipam_db_copy_opts o = {0};
	struct ipam_db_copy_count *c;
	size_t nr;
	char *out;

	assert_int_equal(ipam_db_copy(f->from, f->to, &o, &c, &nr), 0);
	assert_int_equal(rows_of(c, nr, "servers"), 2);
	assert_int_equal(rows_of(c, nr, "dhcp_event_postings"), 2);
	assert_int_equal(rows_of(c, nr, "actions"), 0);
	free(c);
	same_tables(f->src, f->dst);
	/* the schema version is the target's own, the lock not copied */
	out = sqlite_query(
		f->dst, test_db_is_pg()
				? "SELECT max(version) FROM schema_migrations"
				: "PRAGMA user_version");
	assert_int_equal(atoi(out), ipam_db_latest_version());
	free(out);
	/* the next id is past the copied ones */
	out = sqlite_query(f->dst, "INSERT INTO runs (command, started_at) "
				   "VALUES ('x', 'y') RETURNING id");
	assert_string_equal(out, "10");
	free(out);
}

static void test_nonempty_target(void **state)
{
	struct fx *f = *state;
	char *out;

	assert_int_equal(ipam_db_migrate(f->to, NULL, NULL), 0);
	/* "db init" with the same desired state: still empty */
	assert_int_equal(ipam_db_record_settings(f->to, "gpo", "IPAM1"), 0);
	assert_int_equal(copy(f, f->to, false), 0);
	/* a second copy finds data */
	assert_int_equal(copy(f, f->to, false), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "--replace"));
	/* replace: the target's own rows go, the source's come */
	out = sqlite_query(f->dst, "INSERT INTO domains (name) VALUES "
				   "('only.in.target')");
	free(out);
	assert_int_equal(copy(f, f->to, true), 0);
	same_tables(f->src, f->dst);
}

static void test_other_settings(void **state)
{
	struct fx *f = *state;
	char *out;

	assert_int_equal(ipam_db_migrate(f->to, NULL, NULL), 0);
	assert_int_equal(ipam_db_record_settings(f->to, "manual", NULL), 0);
	assert_int_equal(copy(f, f->to, false), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "manual"));
	out = sqlite_query(f->dst, "SELECT count(*) FROM servers");
	assert_string_equal(out, "0");
	free(out);
}

static void test_unknown_table(void **state)
{
	struct fx *f = *state;
	char *out;

	out = sqlite_query(f->src, "CREATE TABLE notes (x TEXT)");
	free(out);
	assert_int_equal(copy(f, f->to, false), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "notes"));
	/* nothing written: the target was not even given tables */
	out = sqlite_query(f->dst,
			   test_db_is_pg()
				   ? "SELECT count(*) FROM information_schema."
				     "tables WHERE table_schema = "
				     "current_schema()"
				   : "SELECT count(*) FROM sqlite_master");
	assert_string_equal(out, "0");
	free(out);
}

static void test_same_database(void **state)
{
	struct fx *f = *state;

	assert_int_equal(copy(f, f->from, false), IPAM_EINVAL);
}

/* And back: the target's copy into a new SQLite file, the same again. */
static void test_copy_back(void **state)
{
	struct fx *f = *state;
	struct ipam_db_copy_opts o = {0};
	struct ipam_db_copy_count *c;
	char *path = xasprintf("%s/back.db", f->dir);
	struct ipam_db *back;
	size_t nr;

	assert_int_equal(copy(f, f->to, false), 0);
	assert_int_equal(ipam_db_open(&back, path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_copy(f->to, back, &o, &c, &nr), 0);
	free(c);
	ipam_db_close(back);
	same_tables(f->src, path);
	free(path);
}

static void run_ipamctl(struct run_result *r, const char *from, const char *to,
			const char *more)
{
	char *const argv[] = {(char *)ipamctl_path(),
			      "db",
			      "copy",
			      "--from",
			      (char *)from,
			      "--to",
			      (char *)to,
			      (char *)more,
			      NULL};

	assert_int_equal(run_cmd(r, NULL, NULL, argv), 0);
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	char *uri = test_db_is_pg() ? xstrdup(f->dst)
				    : xasprintf("sqlite:%s", f->dst);
	char *const usage[] = {
		(char *)ipamctl_path(), "db", "info", "--from", f->src, NULL};
	struct run_result r;

	ipam_db_close(f->to);
	f->to = NULL;
	run_ipamctl(&r, f->src, uri, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "  servers                2\n"));
	assert_non_null(strstr(r.out, "each table's count checked"));
	run_result_free(&r);
	same_tables(f->src, f->dst);
	run_ipamctl(&r, f->src, uri, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "is not empty"));
	run_result_free(&r);
	run_ipamctl(&r, f->src, uri, "--replace");
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	assert_int_equal(run_cmd(&r, NULL, NULL, usage), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "'db copy' takes --from"));
	run_result_free(&r);
	free(uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nonempty_target, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_settings, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_database, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
