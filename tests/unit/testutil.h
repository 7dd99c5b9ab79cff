/* Helpers shared by the unit tests: running the ipamctl binary, temporary
 * directories, reading files. */
#ifndef IPAM_TESTUTIL_H
#define IPAM_TESTUTIL_H

#include <stddef.h>

struct run_result {
	int status; /* exit status, or 128 + signal */
	char *out;
	char *err;
};

/* Run argv (argv[0] a path) in cwd (NULL: inherit) with extra environment
 * assignments env (NULL-terminated, may be NULL), stdin from /dev/null. */
int run_cmd(struct run_result *r, const char *cwd, char *const env[],
	    char *const argv[]);
void run_result_free(struct run_result *r);

/* argv (argv[0] a path) in the background, stdout to /dev/null and
 * stderr to the file err; its pid. */
int spawn_bg(char *const argv[], const char *err);
/* Seconds until text shows in file past its first from bytes; -1 when it
 * does not within secs. */
double wait_for_text(const char *file, size_t from, const char *text,
		     double secs);

/* mkdtemp under $TMPDIR; removed (recursively) by tmpdir_remove. */
char *tmpdir_make(void);
void tmpdir_remove(char *dir);

/* Whole file into a malloc'd NUL-terminated buffer; NULL if unreadable. */
char *slurp(const char *path, size_t *len);
int write_file(const char *path, const char *text);

struct ipam_desired;
/* The desired state of YAML text (named d.yaml in positions); NULL (and
 * the diagnostics on stderr) when it does not load. */
struct ipam_desired *desired_from_text(const char *text);
/* The diagnostics of loading text (named v.yaml), one line each, and in
 * *out the desired state (NULL when it does not load); free both. */
char *desired_diags(const char *text, struct ipam_desired **out);

/*
 * The state database of a test (testutil_db.c).  The same tests run on
 * both backends: ctest registers a second variant (name_pg, label
 * "postgres", ipam_pg_test) with IPAM_TEST_DB=postgres and IPAM_PG_STATE
 * (ci/pg's state file).
 */
/* The tests run on PostgreSQL (IPAM_TEST_DB=postgres). */
int test_db_is_pg(void);
/*
 * A new, empty state database for a test, as ipam_db_open and --db take
 * it: the file dir/state.db, or on PostgreSQL a fresh database of ci/pg's
 * server, owned by its ipam role, as a URI (TCP with TLS verify-full;
 * through the Unix socket when IPAM_TEST_PG_SOCKET is set, as in the
 * lab's network namespace).  The password reaches libpq -- this process
 * and the ipamctl it runs -- by PGPASSFILE, which this sets.
 */
char *test_db_new(const char *dir);
/*
 * PostgreSQL only: the database of uri (from test_db_new) made again,
 * empty, or a copy of the database of from (CREATE DATABASE ... TEMPLATE:
 * nobody may be connected to it).
 */
void test_db_reset(const char *uri, const char *from);
/* The value of name in ci/pg's state file; the test fails without it. */
char *test_pg_var(const char *name);

/*
 * SQL through the database's own shell, an independent look at a state
 * database: sqlite3 for a file, psql for a PostgreSQL URI (unaligned,
 * '|' between columns, as sqlite3 prints): its output with the last
 * newline dropped.  With want_ok the shell must succeed (the test fails
 * with its error text), else it must fail and its error text is
 * returned.
 */
char *sqlite_run(const char *path, const char *sql, int want_ok);
/* sqlite_run(path, sql, 1). */
char *sqlite_query(const char *path, const char *sql);

/*
 * The audit events' packed blocks of the database at path (SQLite or
 * PostgreSQL) made text blocks again, decoded by the zstd tool, so that
 * SQL can read their records in dhcp_event_blocks.events (packed NULL).
 */
void test_db_unpack_blocks(const char *path);

/* The JSON text validates against schemas/<schema> (python3-jsonschema,
 * draft 2020-12); the test fails with the validator's words if not. */
void schema_check(const char *schema, const char *json);

/* $IPAM_TEST_FIXTURES and $IPAMCTL set by ctest. */
const char *fixtures_dir(void);
const char *ipamctl_path(void);

#endif
