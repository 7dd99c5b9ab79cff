/*
 * Moving a state database made by a lab run to PostgreSQL (issue 16): db
 * init, discover (twice) and plan against the lab's forests into a
 * SQLite file; `ipamctl db copy` into a fresh database of ci/pg's server
 * (the Unix socket: the lab's network namespace has its own loopback),
 * then `inventory -o json` and `history -o json` of the two are the same
 * byte for byte, the row counts the same through the sqlite3 shell and
 * psql, a second copy refused (the target holds data) and --replace
 * accepted, and a plan against PostgreSQL finds what it found on SQLite.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labad.h"
#include "labtest.h"
#include "strbuf.h"

#define PG_DB "ipam_lab_copy"

static char *tmpdir, *db_path, *pg_uri, *pgpass_env, *admin_uri;

/* The value of name in ci/pg's state file ($IPAM_PG_STATE). */
static char *pg_var(const char *name)
{
	char *text = lab_need_file(lab_need_env("IPAM_PG_STATE"), NULL);
	char *want = xasprintf("export %s=", name), *p, *out;
	size_t n;

	p = strstr(text, want);
	if (!p)
		fail_msg("ci/pg state: no %s", name);
	p += strlen(want);
	n = strcspn(p, "\n");
	if (n >= 2 && p[0] == '\'' && p[n - 1] == '\'')
		out = xstrndup(p + 1, n - 2);
	else
		out = xstrndup(p, n);
	free(want);
	free(text);
	return out;
}

static void run_ok(const char *const argv[], struct lab_run *res,
		   const char *what)
{
	struct lab_run_opts o = {
		.env = (const char *const[]){pgpass_env, NULL}};

	assert_int_equal(lab_run(argv, &o, res), 0);
	if (res->exit_code != 0)
		fail_msg("%s", lab_run_describe(res, what));
}

/* SQL through psql as the cluster's superuser in database db. */
static char *psql(const char *db, const char *sql)
{
	struct strbuf uri = STRBUF_INIT;
	const char *q = strchr(admin_uri, '?');
	struct lab_run res;
	char *out;

	strbuf_add(&uri, admin_uri, strstr(admin_uri, "@/") + 2 - admin_uri);
	strbuf_addstr(&uri, db);
	strbuf_addstr(&uri, q);
	run_ok((const char *const[]){"psql", "-qAtX", "-v", "ON_ERROR_STOP=1",
				     uri.buf, "-c", sql, NULL},
	       &res, "psql");
	out = xstrdup(res.out);
	lab_run_free(&res);
	strbuf_release(&uri);
	return out;
}

static char *sqlite(const char *sql)
{
	struct lab_run res;
	char *out;

	run_ok((const char *const[]){"sqlite3", db_path, sql, NULL}, &res,
	       "sqlite3");
	out = xstrdup(res.out);
	lab_run_free(&res);
	return out;
}

static void ipamctl(struct lab_run *res, const char *db, const char *a,
		    const char *b, const char *c)
{
	const char *env[] = {pgpass_env, NULL};

	labad_run_ipamctl_env(res, env, "--db", db, "-c",
			      lab_need_env("IPAM_LAB_CONFIG"), a, b, c, NULL);
}

static int setup(void **state)
{
	char *password, *sock, *pgpass, *line;
	struct lab_run res;
	char *out;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = xasprintf("%s/state.db", tmpdir);
	/* libpq reads ipam's password from a 0600 file: not argv, no URI */
	password = lab_need_file(pg_var("IPAM_PG_PASSWORD_FILE"), NULL);
	sock = pg_var("IPAM_PG_SOCKET_DIR");
	pgpass = xasprintf("%s/pgpass", tmpdir);
	line = xasprintf("*:*:*:ipam:%s\n", password);
	assert_int_equal(lab_write_file(pgpass, line, strlen(line)), 0);
	assert_int_equal(chmod(pgpass, 0600), 0);
	pgpass_env = xasprintf("PGPASSFILE=%s", pgpass);
	admin_uri = pg_var("IPAM_PG_ADMIN_URI");
	pg_uri = xasprintf("postgresql://ipam@/%s?host=%s&port=%s", PG_DB, sock,
			   pg_var("IPAM_PG_PORT"));
	out = psql("postgres",
		   "DROP DATABASE IF EXISTS " PG_DB " WITH (FORCE)");
	free(out);
	out = psql("postgres", "CREATE DATABASE " PG_DB " OWNER ipam");
	free(out);
	memset(password, 0, strlen(password));
	free(password);
	free(line);
	free(pgpass);
	free(sock);
	/* a lab run into SQLite: discovery twice (history), a plan (a run
	 * whose outcome says changes) */
	ipamctl(&res, db_path, "db", "init", NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	for (int i = 0; i < 2; i++) {
		ipamctl(&res, db_path, "discover", NULL, NULL);
		labad_expect_exit(&res, 0, "ipamctl discover");
		lab_run_free(&res);
	}
	ipamctl(&res, db_path, "plan", NULL, NULL);
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	char *out;

	(void)state;
	out = psql("postgres",
		   "DROP DATABASE IF EXISTS " PG_DB " WITH (FORCE)");
	free(out);
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(pg_uri);
	free(pgpass_env);
	free(admin_uri);
	return 0;
}

static char *view(const char *db, const char *what)
{
	struct lab_run res;
	char *out;

	ipamctl(&res, db, what, "-o", "json");
	labad_expect_exit(&res, 0, what);
	out = xstrdup(res.out);
	lab_run_free(&res);
	return out;
}

static void test_copy_to_postgres(void **state)
{
	static const char *const tables[] = {
		"servers", "server_addresses", "server_history",
		"runs",	   "domains",	       "settings"};
	char *sqlite_uri = xasprintf("sqlite:%s", db_path);
	struct lab_run res;

	(void)state;
	labad_run_ipamctl_env(&res, (const char *const[]){pgpass_env, NULL},
			      "db", "copy", "--from", sqlite_uri, "--to",
			      pg_uri, NULL);
	labad_expect_exit(&res, 0, "ipamctl db copy");
	lab_run_free(&res);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char *sql = xasprintf("SELECT count(*) FROM %s", tables[i]);
		char *a = sqlite(sql), *b = psql(PG_DB, sql);

		assert_string_equal(a, b);
		if (!strcmp(tables[i], "servers"))
			assert_int_not_equal(atoi(a), 0);
		free(a);
		free(b);
		free(sql);
	}
	for (int i = 0; i < 2; i++) {
		const char *what = i ? "history" : "inventory";
		char *a = view(db_path, what), *b = view(pg_uri, what);

		if (strcmp(a, b))
			fail_msg("%s -o json differs:\nSQLite:\n%s\n"
				 "PostgreSQL:\n%s",
				 what, a, b);
		assert_true(strlen(a) > 10);
		free(a);
		free(b);
	}
	/* the target holds data now */
	labad_run_ipamctl_env(&res, (const char *const[]){pgpass_env, NULL},
			      "db", "copy", "--from", sqlite_uri, "--to",
			      pg_uri, NULL);
	labad_expect_exit(&res, 1, "ipamctl db copy (again)");
	assert_non_null(strstr(res.err, "--replace"));
	lab_run_free(&res);
	labad_run_ipamctl_env(&res, (const char *const[]){pgpass_env, NULL},
			      "db", "copy", "--from", sqlite_uri, "--to",
			      pg_uri, "--replace", NULL);
	labad_expect_exit(&res, 0, "ipamctl db copy --replace");
	lab_run_free(&res);
	free(sqlite_uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_to_postgres),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
