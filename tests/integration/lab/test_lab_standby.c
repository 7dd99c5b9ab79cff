/*
 * Issue 16's "one active reconciler": two `ipamctl reconcile --every 5s`
 * of the lab's desired state on one PostgreSQL database (ci/pg's, over
 * its Unix socket: the lab runs in its own network namespace), as two
 * hosts would run them.  The first is the active reconciler and applies
 * (the GPOs of both forests made); the second says it is the standby and
 * records no run.  The active one is killed with SIGKILL, drift is made
 * with samba-tool (a GPO link deleted), and the standby takes over within
 * one interval and corrects it.  Then, with independent tools: each
 * IPAM1_* GPO exists once in each forest (samba-tool gpo listall), the
 * link is back (getlink), the standby recorded no run before it took over
 * and no run is left 'running' (psql), and a plan is empty (exit 0).
 * Then an apply whose connection the server ends in the middle
 * (pg_terminate_backend) stops and exits 1, and the next one converges.
 *
 * Needs the lab and ci/pg (fixtures lab and pg).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labad.h"
#include "labtest.h"
#include "strbuf.h"
#include "testutil.h"

#define EVERY_S 5

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static char *tmpdir, *db, *cfg;

/* The lab's desired state with our database, into tmpdir/cfg. */
static char *write_config(void)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL);
	char *dir = xasprintf("%s/cfg", tmpdir), *path;
	struct strbuf out = STRBUF_INIT;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (!strncmp(p, "database:", 9)) {
			strbuf_addf(&out, "database: %s\n", db);
		} else {
			strbuf_add(&out, p, len);
			strbuf_addch(&out, '\n');
		}
		p += len + (eol ? 1 : 0);
	}
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out.buf, out.len), 0);
	free(path);
	strbuf_release(&out);
	free(text);
	free(src);
	return dir;
}

/* ipamctl reconcile --every 5s in the background; stderr to err. */
static pid_t start_loop(const char *err)
{
	char *const argv[] = {(char *)labad_ipamctl(),
			      "reconcile",
			      "-c",
			      cfg,
			      "--every",
			      "5s",
			      NULL};

	return spawn_bg(argv, err);
}

#define wait_for wait_for_text

static size_t file_len(const char *file)
{
	struct stat st;

	return stat(file, &st) ? 0 : (size_t)st.st_size;
}

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db = test_db_new(tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	cfg = write_config();
	labad_run_ipamctl(&res, "db", "init", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db);
	free(cfg);
	return 0;
}

static void test_active_and_standby(void **state)
{
	char *aerr = xasprintf("%s/a.err", tmpdir);
	char *berr = xasprintf("%s/b.err", tmpdir);
	char *want, *s;
	size_t count[LABAD_NGPO], mark;
	struct lab_run res;
	pid_t a, b;
	double took;
	int st;

	(void)state;
	if (!test_db_is_pg())
		fail_msg("needs IPAM_TEST_DB=postgres (ctest's pg fixture)");
	a = start_loop(aerr);
	assert_true(wait_for(aerr, 0, "active reconciler of", 60) >= 0);
	b = start_loop(berr);
	want = xasprintf("standby: the active reconciler is reconcile --every "
			 "(pid %ld on ",
			 (long)a);
	assert_true(wait_for(berr, 0, want, 60) >= 0);
	free(want);
	/* the active one's first cycle applied everything */
	assert_true(wait_for(aerr, 0, "next cycle in", 300) >= 0);
	for (int f = 1; f <= 2; f++)
		labad_need_gpos(&F[f], true);
	s = sqlite_query(db, "SELECT count(*) FROM runs WHERE outcome = "
			     "'succeeded' AND command = 'reconcile'");
	assert_string_equal(s, "1");
	free(s);

	/* kill -9 the active one between cycles: the standby takes over at
	 * its next cycle, within one interval */
	mark = file_len(berr);
	assert_int_equal(kill(a, SIGKILL), 0);
	assert_int_equal(waitpid(a, &st, 0), a);
	took = wait_for(berr, mark, "active reconciler of", EVERY_S + 3);
	print_message("standby took over %.1f s after the SIGKILL (--every "
		      "%d s)\n",
		      took, EVERY_S);
	assert_true(took >= 0);
	/* drift made by hand is the new active one's to correct: the cycle
	 * after the one running now (if any) starts after it */
	{
		const char *args[] = {"gpo", "dellink", F[1].dn, F[1].guid[0],
				      NULL};

		labad_samba_tool_ok(1, args, &res);
		lab_run_free(&res);
	}
	for (int i = 0; i < 2; i++) {
		mark = file_len(berr);
		assert_true(wait_for(berr, mark, "next cycle in", 300) >= 0);
	}
	assert_int_equal(kill(b, SIGTERM), 0);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* independent looks: one GPO of each name per forest, linked */
	for (int f = 1; f <= 2; f++) {
		labad_list_gpos(f, NULL, count);
		for (int g = 0; g < LABAD_NGPO; g++)
			if (count[g] != 1)
				fail_msg("forest %d: %zu GPOs %s", f, count[g],
					 labad_gpo_name[g]);
		labad_need_gpos(&F[f], true);
	}
	assert_non_null(labad_link_options(&F[1], F[1].guid[0]));
	/* the runs: the standby recorded none until it took over, each run
	 * once; the killed one's were all finished (killed between cycles) */
	want = xasprintf("SELECT (SELECT count(*) FROM runs WHERE pid = %ld "
			 "AND id < (SELECT max(id) FROM runs WHERE pid = "
			 "%ld)), (SELECT count(*) FROM runs WHERE outcome = "
			 "'running'), (SELECT count(*) FROM runs WHERE pid = "
			 "%ld AND outcome = 'succeeded' AND command = "
			 "'reconcile')",
			 (long)b, (long)a, (long)b);
	s = sqlite_query(db, want);
	assert_string_equal(s, "0|0|1");
	free(s);
	free(want);
	/* nothing left to do */
	labad_run_ipamctl(&res, "plan", "-c", cfg, "--detailed-exitcode", NULL);
	labad_expect_exit(&res, 0, "plan after the standby took over");
	lab_run_free(&res);
	free(aerr);
	free(berr);
}

/* The database name of the URI db ("t_..."), for pg_stat_activity. */
static char *db_name(void)
{
	const char *p = strchr(strstr(db, "://") + 3, '/') + 1;

	return xstrndup(p, strcspn(p, "?"));
}

/*
 * A run that loses its connection in the middle of applying stops before
 * its next action and exits 1; the journal shows where (psql); the next
 * apply takes the lock (the server freed it), marks the lost run
 * interrupted and converges.
 */
static void test_connection_lost_mid_apply(void **state)
{
	char *err = xasprintf("%s/apply.err", tmpdir), *name = db_name();
	char *admin = test_pg_var("IPAM_PG_ADMIN_URI"), *sql, *s;
	char *const argv[] = {(char *)labad_ipamctl(), "apply", "-c", cfg,
			      "--auto-approve",	       NULL};
	struct lab_run res;
	pid_t pid;
	int st, done = 0;

	(void)state;
	for (int f = 1; f <= 2; f++)
		labad_remove_leftovers(&F[f]);
	pid = spawn_bg(argv, err);
	/* the inventory is journalled done before the first AD action */
	sql = xasprintf("SELECT count(*) FROM actions WHERE run_id = (SELECT "
			"max(id) FROM runs) AND state = 'done'");
	for (int i = 0; i < 600 && !done; i++) {
		s = sqlite_query(db, sql);
		done = strcmp(s, "0") != 0;
		free(s);
		if (!done)
			usleep(50000);
	}
	free(sql);
	assert_true(done);
	sql = xasprintf("SELECT count(pg_terminate_backend(pid)) FROM "
			"pg_stat_activity WHERE datname = '%s' AND pid <> "
			"pg_backend_pid()",
			name);
	s = sqlite_query(admin, sql);
	free(s);
	free(sql);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	s = slurp(err, NULL);
	assert_non_null(s);
	if (!strstr(s, "connection"))
		fail_msg("apply's error does not say the connection was "
			 "lost:\n%s",
			 s);
	free(s);
	/* the journal: done up to where it stopped, nothing after */
	s = sqlite_query(db, "SELECT (SELECT count(*) FROM actions a WHERE "
			     "a.run_id = r.id AND a.state = 'pending') > 0, "
			     "r.outcome FROM runs r WHERE r.id = (SELECT "
			     "max(id) FROM runs)");
	assert_string_equal(s, "t|running");
	free(s);
	/* the next apply: lock free, the lost run interrupted, converged */
	labad_run_ipamctl(&res, "apply", "-c", cfg, "--auto-approve", NULL);
	labad_expect_exit(&res, 0, "apply after the lost connection");
	lab_run_free(&res);
	s = sqlite_query(db, "SELECT string_agg(outcome, ',' ORDER BY id) FROM "
			     "runs WHERE command = 'apply'");
	assert_string_equal(s, "interrupted,succeeded");
	free(s);
	for (int f = 1; f <= 2; f++)
		labad_need_gpos(&F[f], true);
	labad_run_ipamctl(&res, "plan", "-c", cfg, "--detailed-exitcode", NULL);
	labad_expect_exit(&res, 0, "plan after the new apply");
	lab_run_free(&res);
	free(admin);
	free(name);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_and_standby),
		cmocka_unit_test(test_connection_lost_mid_apply),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
