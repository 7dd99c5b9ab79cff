/*
 * reconcile --every on a PostgreSQL database: the active reconciler and
 * its standby (cli_standby.c, db_lock_pg.c).  Two loops of one desired
 * state on one database: the first is active, the second says it is the
 * standby and runs no cycle; status names the active one; the active one
 * is killed with SIGKILL and the standby takes over within one interval.
 * The domain has no DC (no lab): every cycle is a failed run, which is
 * enough to count who ran cycles.  On SQLite there is no standby: skipped.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "strbuf.h"
#include "testutil.h"

#define EVERY_S 3

/* ipamctl reconcile --every in the background, stderr to err. */
static pid_t start_loop(const char *yaml, const char *err)
{
	char *const argv[] = {(char *)ipamctl_path(),
			      "reconcile",
			      "-c",
			      (char *)yaml,
			      "--every",
			      "3s",
			      NULL};

	return spawn_bg(argv, err);
}

static double wait_for(const char *file, const char *text, double secs)
{
	return wait_for_text(file, 0, text, secs);
}

static char *status_text(const char *yaml)
{
	char *const argv[] = {(char *)ipamctl_path(), "status", "-c",
			      (char *)yaml, NULL};
	struct run_result r;
	char *out;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	out = xstrdup(r.out);
	run_result_free(&r);
	return out;
}

static void test_standby_takes_over(void **state)
{
	char *dir, *yaml, *db, *aerr, *berr, *s, *want;
	char *const init[] = {
		(char *)ipamctl_path(), "db", "init", "-c", NULL, NULL};
	struct run_result r;
	pid_t a, b;
	double took;
	int st;

	(void)state;
	if (!test_db_is_pg())
		skip();
	dir = tmpdir_make();
	yaml = xasprintf("%s/d.yaml", dir);
	aerr = xasprintf("%s/a.err", dir);
	berr = xasprintf("%s/b.err", dir);
	db = test_db_new(dir);
	s = xasprintf("version: 1\n"
		      "ipamServer: ipam1.corp.example.test\n"
		      "database: %s\n"
		      "provisioning:\n"
		      "  method: manual\n"
		      "discovery:\n"
		      "  - domain: nowhere.invalid\n",
		      db);
	assert_int_equal(write_file(yaml, s), 0);
	free(s);
	((char **)init)[4] = yaml;
	assert_int_equal(run_cmd(&r, NULL, NULL, init), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);

	a = start_loop(yaml, aerr);
	assert_true(wait_for(aerr, "active reconciler of", 20) >= 0);
	b = start_loop(yaml, berr);
	want = xasprintf("standby: the active reconciler is reconcile --every "
			 "(pid %ld on ",
			 (long)a);
	assert_true(wait_for(berr, want, 20) >= 0);
	free(want);
	/* a second interval: still the standby, and it ran no cycle */
	sleep(EVERY_S + 1);
	want = xasprintf("SELECT (SELECT count(*) FROM runs WHERE pid = %ld) > "
			 "0, (SELECT count(*) FROM runs WHERE pid = %ld)",
			 (long)a, (long)b);
	s = sqlite_query(db, want);
	assert_string_equal(s, "t|0");
	free(s);
	free(want);
	s = status_text(yaml);
	want = xasprintf("active:         reconcile --every (pid %ld on ",
			 (long)a);
	assert_non_null(strstr(s, want));
	free(want);
	free(s);

	/* the active one dies without a word: its connection ends, the
	 * server frees the lock, the standby takes it at its next cycle */
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, &st, 0), a);
	took = wait_for(berr, "active reconciler of", 2 * EVERY_S + 5);
	assert_true(took >= 0);
	print_message("standby took over %.1f s after the SIGKILL (interval "
		      "%d s)\n",
		      took, EVERY_S);
	assert_true(took <= EVERY_S + 2);
	s = status_text(yaml);
	want = xasprintf("active:         reconcile --every (pid %ld on ",
			 (long)b);
	assert_non_null(strstr(s, want));
	free(want);
	free(s);
	assert_true(wait_for(berr, "next cycle in", 10) >= 0);
	want = xasprintf("SELECT count(*) > 0 FROM runs WHERE pid = %ld",
			 (long)b);
	for (int i = 0; i < 100; i++) {
		s = sqlite_query(db, want);
		if (!strcmp(s, "t"))
			break;
		free(s);
		s = NULL;
		usleep(100000);
	}
	assert_non_null(s);
	free(s);
	free(want);
	assert_int_equal(kill(b, SIGTERM), 0);
	assert_int_equal(waitpid(b, &st, 0), b);
	s = status_text(yaml);
	assert_non_null(strstr(s, "active:         none"));
	free(s);
	free(db);
	free(yaml);
	free(aerr);
	free(berr);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standby_takes_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
