/*
 * labtest.h: cmocka glue over labutil for integration tests.  Include after
 * <cmocka.h>.  A missing lab is a failure, never a skip: these tests run
 * only under `ci/lab exec`.
 */
#ifndef IPAM_LABTEST_H
#define IPAM_LABTEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labutil.h"

static inline const char *lab_need_env(const char *name)
{
	const char *v = lab_env(name);

	if (v == NULL)
		fail_msg("%s is not set: run this test with ci/lab exec", name);
	return v;
}

static inline const char *lab_need_forest(int n, const char *field)
{
	const char *v = lab_forest_env(n, field);

	if (v == NULL)
		fail_msg("IPAM_LAB_%d_%s is not set: run this test with "
			 "ci/lab exec",
			 n, field);
	return v;
}

/* Run argv; fail the test when it cannot be started at all. */
static inline void lab_must_run(const char *const argv[],
				const struct lab_run_opts *opts,
				struct lab_run *res)
{
	if (lab_run(argv, opts, res) < 0)
		fail_msg("cannot run %s: %s", argv[0], strerror(errno));
}

/* Run argv and require exit status 0. */
static inline void lab_must_succeed(const char *const argv[],
				    const struct lab_run_opts *opts,
				    struct lab_run *res)
{
	lab_must_run(argv, opts, res);
	if (res->exit_code != 0 || res->timed_out)
		fail_msg("%s", lab_run_describe(res, argv[0]));
}

/* The sorted vector got must equal the expected NULL-terminated list. */
static inline void lab_assert_set(char **got, const char *const *expected,
				  const char *what)
{
	char *why = NULL;

	if (!lab_strv_equal(got, expected, &why))
		fail_msg("%s: %s", what, why ? why : "differs");
	free(why);
}

/* Read a whole (small) secret file; fails the test on error. */
static inline char *lab_need_file(const char *path, size_t *len)
{
	char *s = lab_read_file(path, 64 * 1024, len);

	if (s == NULL)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	return s;
}

#endif
