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
 * SQL through the sqlite3 command-line shell, an independent look at a
 * state database: its output with the last newline dropped.  With want_ok
 * the shell must succeed (the test fails with its error text), else it
 * must fail and its error text is returned.
 */
char *sqlite_run(const char *path, const char *sql, int want_ok);
/* sqlite_run(path, sql, 1). */
char *sqlite_query(const char *path, const char *sql);

/* The JSON text validates against schemas/<schema> (python3-jsonschema,
 * draft 2020-12); the test fails with the validator's words if not. */
void schema_check(const char *schema, const char *json);

/* $IPAM_TEST_FIXTURES and $IPAMCTL set by ctest. */
const char *fixtures_dir(void);
const char *ipamctl_path(void);

#endif
