/*
 * labutil: helpers for integration tests that run inside the lab
 * (ci/lab exec).  Run a command with an argv (no shell), capture its output
 * with a bound, read the IPAM_LAB_* environment, small text and file
 * utilities.
 */
#ifndef IPAM_LABUTIL_H
#define IPAM_LABUTIL_H

#include <stdbool.h>
#include <stddef.h>

#define LAB_RUN_DEFAULT_MAX_OUTPUT (1024 * 1024)
#define LAB_RUN_DEFAULT_TIMEOUT_MS 60000

struct lab_run_opts {
	/* Extra "NAME=value" entries for the child, NULL-terminated. */
	const char *const *env;
	/* Bytes fed to the child's stdin; NULL means /dev/null. */
	const char *input;
	size_t input_len;
	/* Per stream; 0 means LAB_RUN_DEFAULT_MAX_OUTPUT. */
	size_t max_output;
	/* 0 means LAB_RUN_DEFAULT_TIMEOUT_MS; the child's process group is
	 * killed when it runs out. */
	int timeout_ms;
};

struct lab_run {
	/* Exit status, 128 + signal when killed, -1 when it never ran. */
	int exit_code;
	bool timed_out;
	/* NUL-terminated (also when the output holds NULs: use *_len). */
	char *out;
	size_t out_len;
	bool out_truncated;
	char *err;
	size_t err_len;
	bool err_truncated;
};

/*
 * Run argv[0] (looked up in PATH) with argv, wait for it and fill *res.
 * Returns 0 when the command ran (whatever its exit status), -1 with errno
 * set when it could not be started or waited for; *res is always
 * initialised and must be released with lab_run_free().  SIGPIPE is
 * ignored while the child runs.
 */
int lab_run(const char *const argv[], const struct lab_run_opts *opts,
	    struct lab_run *res);
void lab_run_free(struct lab_run *res);

/* Description for assertion messages: exit status, tails of stderr and
 * stdout.  Returns a thread-local buffer overwritten by the next call. */
const char *lab_run_describe(const struct lab_run *res, const char *cmd);

/* getenv(name), or NULL when unset or empty. */
const char *lab_env(const char *name);
/* IPAM_LAB_<n>_<field>, e.g. lab_forest_env(1, "DOMAIN"); NULL if unset. */
const char *lab_forest_env(int n, const char *field);

/* "corp.example.test" -> "DC=corp,DC=example,DC=test" (malloc'ed). */
char *lab_domain_dn(const char *domain);

/*
 * Values of the lines of text that start with prefix (prefix stripped, CR
 * removed), sorted, malloc'ed, NULL-terminated; *count gets their number.
 * Free with lab_strv_free().
 */
char **lab_collect_lines(const char *text, const char *prefix, size_t *count);
/* Every line of text, the same way (empty lines dropped). */
char **lab_lines(const char *text, size_t *count);
void lab_strv_free(char **v);
/* Join a string vector with sep, for messages (malloc'ed). */
char *lab_strv_join(char *const *v, const char *sep);
/*
 * Compare two NULL-terminated lists as sorted multisets.  Returns true
 * when equal; otherwise false and *why (malloc'ed, sorted) says both.
 */
bool lab_strv_equal(char *const *got, const char *const *expected, char **why);
/* Does text hold a line equal to line (ignoring a trailing CR)? */
bool lab_has_line(const char *text, const char *line);

/* Whole file into a malloc'ed NUL-terminated buffer; NULL if larger. */
char *lab_read_file(const char *path, size_t max, size_t *len);
/* Write a file with mode 0600. Returns 0 or -1. */
int lab_write_file(const char *path, const char *data, size_t len);
/* A fresh private directory under $IPAM_LAB_DIR (else $TMPDIR, /tmp). */
char *lab_mkdtemp(void);
/* Remove a tree made by the test; returns 0 or -1. */
int lab_rm_rf(const char *path);

#endif
