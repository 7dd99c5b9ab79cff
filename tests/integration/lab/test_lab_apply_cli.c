/*
 * ipamctl apply as a person runs it, against both forests of the lab: on a
 * terminal (a pseudo-terminal from forkpty) without --auto-approve it
 * shows the plan and asks; --lock-timeout; the refusal of an empty desired
 * state.  AD is checked with samba-tool (gpo listall, getlink).
 *
 * The desired state is the lab's ($IPAM_LAB_CONFIG, never modified) copied
 * into a temporary directory with its own state database (test_lab_
 * reconcile's is not touched), and a copy without discovery domains.  In
 * order, against one lab:
 *  (1) an answer other than "yes" ("no", "y", "YES", end of input) applies
 *      nothing: exit 1, no IPAM1_* GPO in either forest, the plan the same
 *      as before;
 *  (2) while an apply waits at its prompt (holding the reconcile lock), a
 *      second apply with --lock-timeout 2 gives up after about 2 s, exit 1,
 *      naming the holder's pid; it changed nothing;
 *  (3) "yes" applies: exit 0, the three GPOs of each forest there once and
 *      linked; plan --detailed-exitcode then exits 0;
 *  (4) a desired state with no discovery domain: plan and apply refuse it
 *      (exit 1, saying why); apply --allow-empty accepts it and removes
 *      nothing: the GPOs are still there, and the full desired state's
 *      plan is still empty;
 *  (5) apply FILE with no file, a FIFO or /dev/zero exits 1 at once naming
 *      the file, with no run recorded.
 * At the end the GPOs and IPAMUG this test made are removed.
 *
 * Discovery binds UDP 68: the test holds the lab's DHCP client lock too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

#define PROMPT "Only 'yes' is accepted: "

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static char *tmpdir, *db_path, *cfg, *cfg_empty;

/* ---- the desired states ------------------------------------------------- */

/*
 * The lab's desired state with our database, into tmpdir/name; without
 * discovery, its top-level discovery and servers blocks are left out.
 */
static char *write_config(const char *name, bool discovery)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL);
	char *dir = xasprintf("%s/%s", tmpdir, name), *path;
	struct strbuf out = STRBUF_INIT;
	bool db = false, skipping = false, dropped = false;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len && p[0] != ' ' && p[0] != '#')
			skipping =
				!discovery && (!strncmp(p, "discovery:", 10) ||
					       !strncmp(p, "servers:", 8));
		dropped |= skipping;
		if (!strncmp(p, "database:", 9)) {
			strbuf_addf(&out, "database: %s%s\n",
				    test_db_is_pg() ? "" : "sqlite:", db_path);
			db = true;
		} else if (!skipping) {
			strbuf_add(&out, p, len);
			strbuf_addch(&out, '\n');
		}
		p += len + (eol ? 1 : 0);
	}
	if (!db || dropped == discovery)
		fail_msg("%s: no database line, or no discovery block to "
			 "leave out:\n%s",
			 src, text);
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out.buf, out.len), 0);
	free(path);
	strbuf_release(&out);
	free(text);
	free(src);
	return dir;
}

/* ---- ipamctl on a pseudo-terminal --------------------------------------- */

struct tty {
	pid_t pid;
	int master;
	struct strbuf out; /* all it wrote, stdout and stderr */
	int status;	   /* exit status (128 + signal), -1 running */
	bool eof;
};

/* ipamctl apply -c config (no --auto-approve), its stdin, stdout and
 * stderr a new pseudo-terminal, in its own session. */
static void tty_start(struct tty *t, const char *config)
{
	const char *argv[] = {labad_ipamctl(), "apply", "-c", config, NULL};
	struct winsize ws = {.ws_row = 50, .ws_col = 200};

	memset(t, 0, sizeof(*t));
	strbuf_init(&t->out);
	t->status = -1;
	fflush(NULL);
	t->pid = forkpty(&t->master, NULL, NULL, &ws);
	if (t->pid < 0)
		fail_msg("forkpty: %s", strerror(errno));
	if (t->pid == 0) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
}

/* Read what is there (up to wait_ms for something); false at the end. */
static bool tty_pump(struct tty *t, int wait_ms)
{
	struct pollfd pfd = {.fd = t->master, .events = POLLIN};
	char buf[4096];
	ssize_t n;

	if (t->eof)
		return false;
	if (poll(&pfd, 1, wait_ms) <= 0)
		return true;
	n = read(t->master, buf, sizeof(buf));
	if (n > 0) {
		strbuf_add(&t->out, buf, (size_t)n);
		return true;
	}
	/* EIO: every holder of the terminal's other side closed it. */
	if (n < 0 && errno == EINTR)
		return true;
	t->eof = true;
	return false;
}

static const char *tty_describe(const struct tty *t)
{
	static char msg[1 << 16];
	size_t len = t->out.len, keep = sizeof(msg) - 200;
	const char *tail = t->out.buf + (len > keep ? len - keep : 0);

	snprintf(msg, sizeof(msg),
		 "ipamctl apply (pid %ld) on a terminal, "
		 "exit %d; its terminal:\n%s",
		 (long)t->pid, t->status, tail);
	return msg;
}

/* Until the prompt shows: fails if it ends or takes over limit_s. */
static void tty_wait_prompt(struct tty *t, double limit_s)
{
	double end = labad_now_s() + limit_s;

	while (!strstr(t->out.buf, PROMPT)) {
		if (!tty_pump(t, 100) || labad_now_s() > end) {
			kill(t->pid, SIGKILL);
			fail_msg("no confirmation prompt: %s", tty_describe(t));
		}
	}
}

/* Type text at the terminal (a line, or ^D for end of input). */
static void tty_type(struct tty *t, const char *text)
{
	size_t len = strlen(text);

	assert_int_equal(write(t->master, text, len), (ssize_t)len);
}

/* Until it exits (killed after limit_s); then t->status. */
static void tty_finish(struct tty *t, double limit_s)
{
	double end = labad_now_s() + limit_s;
	int st;

	while (tty_pump(t, 100) && labad_now_s() < end)
		;
	if (labad_now_s() >= end)
		kill(t->pid, SIGKILL);
	assert_int_equal(waitpid(t->pid, &st, 0), t->pid);
	t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(t->master);
	t->master = -1;
	if (labad_now_s() >= end)
		fail_msg("still running after %.0f s: %s", limit_s,
			 tty_describe(t));
}

static void tty_free(struct tty *t)
{
	strbuf_release(&t->out);
}

/* ---- checks ------------------------------------------------------------- */

/* plan -o json of the full desired state: its actions' count. */
static size_t plan_actions(const char *what)
{
	struct lab_run res;
	struct ipam_node *plan;
	const struct ipam_node *acts;
	size_t n;

	labad_run_ipamctl(&res, "plan", "-c", cfg, "-o", "json", NULL);
	labad_expect_exit(&res, 0, what);
	plan = labad_parse_json(res.out, res.out_len, what);
	acts = labad_jkey(plan, "actions");
	if (!acts || acts->kind != IPAM_NODE_SEQ)
		fail_msg("%s: no actions in the plan:\n%s", what, res.out);
	n = acts->nr;
	ipam_node_free(plan);
	lab_run_free(&res);
	return n;
}

static void no_gpos(const char *after)
{
	for (int f = 1; f <= 2; f++) {
		size_t n = labad_list_gpos(f, NULL, NULL);

		if (n)
			fail_msg("after %s: %zu IPAM1_* GPO%s in %s", after, n,
				 n == 1 ? "" : "s", F[f].domain);
	}
}

/* The three GPOs of each forest there once, each linked. */
static void gpos_there(const char *after)
{
	for (int f = 1; f <= 2; f++) {
		labad_need_gpos(&F[f], true);
		for (int k = 0; k < LABAD_NGPO; k++) {
			char *o = labad_link_options(&F[f], F[f].guid[k]);

			if (!o)
				fail_msg("after %s: %s %s is not linked in %s",
					 after, labad_gpo_name[k], F[f].guid[k],
					 F[f].domain);
			free(o);
		}
	}
}

static void plan_exits(const char *config, int code, const char *what)
{
	struct lab_run res;

	labad_run_ipamctl(&res, "plan", "-c", config, "--detailed-exitcode",
			  NULL);
	labad_expect_exit(&res, code, what);
	lab_run_free(&res);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	/* IPAM_TEST_DB=postgres (test_lab_apply_cli_pg): ci/pg's server */
	db_path = test_db_is_pg() ? test_db_new(tmpdir)
				  : xasprintf("%s/state.db", tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	cfg = write_config("full", true);
	cfg_empty = write_config("empty", false);
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
	free(db_path);
	free(cfg);
	free(cfg_empty);
	return 0;
}

/* ---- (1) anything but "yes" applies nothing ----------------------------- */

static void test_1_other_answers_apply_nothing(void **state)
{
	static const char *const answers[] = {"no\n", "y\n", "YES\n", "\004"};
	static const char *const said[] = {"no", "y", "YES", "end of input"};
	size_t before = plan_actions("plan -o json (fresh lab)");
	char *asked;

	(void)state;
	if (!before)
		fail_msg("a fresh lab: the plan has no action");
	no_gpos("a fresh start");
	asked = xasprintf("Apply these %zu actions? ", before);
	for (size_t i = 0; i < sizeof(answers) / sizeof(*answers); i++) {
		struct tty t;

		tty_start(&t, cfg);
		tty_wait_prompt(&t, 180);
		if (!strstr(t.out.buf, asked) || !strstr(t.out.buf, "Plan: "))
			fail_msg("expected the plan, then '%s': %s", asked,
				 tty_describe(&t));
		tty_type(&t, answers[i]);
		tty_finish(&t, 60);
		if (t.status != 1 || !strstr(t.out.buf, "not applied"))
			fail_msg("answer %s: expected exit 1 and 'not "
				 "applied': %s",
				 said[i], tty_describe(&t));
		tty_free(&t);
		no_gpos(said[i]);
	}
	if (plan_actions("plan -o json (after the refusals)") != before)
		fail_msg("the plan changed after answers that apply nothing");
	free(asked);
}

/* ---- (2) --lock-timeout ------------------------------------------------- */

static void test_2_lock_timeout(void **state)
{
	struct tty holder;
	struct lab_run res;
	double t0, waited;
	char *pid;

	(void)state;
	/* an apply at its prompt holds the lock for as long as it asks */
	tty_start(&holder, cfg);
	tty_wait_prompt(&holder, 180);
	t0 = labad_now_s();
	labad_run_ipamctl(&res, "apply", "-c", cfg, "--auto-approve",
			  "--lock-timeout", "2", NULL);
	waited = labad_now_s() - t0;
	pid = xasprintf("(pid %ld ", (long)holder.pid);
	if (res.exit_code != 1 || !strstr(res.err, "locked by") ||
	    !strstr(res.err, pid) || !strstr(res.err, "waited 2 s"))
		fail_msg("expected exit 1 naming the holder '%s' after 2 s: "
			 "%s",
			 pid,
			 lab_run_describe(&res, "ipamctl apply "
						"--lock-timeout 2"));
	if (waited < 1.9 || waited > 8)
		fail_msg("apply --lock-timeout 2 gave up after %.1f s", waited);
	printf("the waiting apply, after %.1f s: %s", waited, res.err);
	lab_run_free(&res);
	no_gpos("an apply that did not get the lock");
	/* and the holder, told no, applied nothing either */
	tty_type(&holder, "no\n");
	tty_finish(&holder, 60);
	if (holder.status != 1)
		fail_msg("the holder, answered no: %s", tty_describe(&holder));
	tty_free(&holder);
	no_gpos("the holder answered no");
	free(pid);
}

/* ---- (3) "yes" applies -------------------------------------------------- */

static void test_3_yes_applies(void **state)
{
	struct tty t;

	(void)state;
	tty_start(&t, cfg);
	tty_wait_prompt(&t, 180);
	tty_type(&t, "yes\n");
	tty_finish(&t, 180);
	if (t.status != 0 || !strstr(t.out.buf, "Apply complete: "))
		fail_msg("answer yes: expected exit 0 and 'Apply complete': "
			 "%s",
			 tty_describe(&t));
	tty_free(&t);
	gpos_there("yes");
	plan_exits(cfg, 0, "plan --detailed-exitcode after yes");
}

/* ---- (4) an empty desired state ----------------------------------------- */

static void test_4_empty_desired_state(void **state)
{
	char *guid[3][LABAD_NGPO];
	struct lab_run res;

	(void)state;
	for (int f = 1; f <= 2; f++)
		for (int k = 0; k < LABAD_NGPO; k++)
			guid[f][k] = xstrdup(F[f].guid[k]);
	labad_run_ipamctl(&res, "plan", "-c", cfg_empty, NULL);
	if (res.exit_code != 1 ||
	    !strstr(res.err, "declares no discovery domain"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl plan (empty "
						      "desired state)"));
	lab_run_free(&res);
	labad_run_ipamctl(&res, "apply", "-c", cfg_empty, "--auto-approve",
			  NULL);
	if (res.exit_code != 1 ||
	    !strstr(res.err, "declares no discovery domain") ||
	    !strstr(res.err, "--allow-empty"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl apply (empty "
						      "desired state)"));
	lab_run_free(&res);
	gpos_there("apply of an empty desired state");

	/* explicit: accepted, and still nothing of AD goes */
	labad_run_ipamctl(&res, "apply", "-c", cfg_empty, "--auto-approve",
			  "--allow-empty", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply --allow-empty");
	lab_run_free(&res);
	gpos_there("apply --allow-empty");
	for (int f = 1; f <= 2; f++)
		for (int k = 0; k < LABAD_NGPO; k++) {
			if (strcasecmp(guid[f][k], F[f].guid[k]))
				fail_msg("%s in %s: %s before apply "
					 "--allow-empty, %s after",
					 labad_gpo_name[k], F[f].domain,
					 guid[f][k], F[f].guid[k]);
			free(guid[f][k]);
		}
	plan_exits(cfg, 0,
		   "plan --detailed-exitcode after apply --allow-empty");
}

/* ---- (5) apply FILE: no saved plan, no run ----------------------------- */

/* ipamctl history's output: one line per run recorded. */
static char *history(void)
{
	struct lab_run res;
	char *out;

	labad_run_ipamctl(&res, "history", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl history");
	out = xstrdup(res.out);
	lab_run_free(&res);
	return out;
}

static void test_5_bad_saved_plan_file(void **state)
{
	char *fifo = xasprintf("%s/plan.fifo", tmpdir);
	const char *const bad[][2] = {
		{"/nonexistent.json", "No such file"},
		{fifo, "not a regular file"},
		{"/dev/zero", "not a regular file"},
	};
	char *before = history(), *after;
	struct lab_run res;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		labad_run_ipamctl(&res, "apply", bad[i][0], "-c", cfg,
				  "--auto-approve", NULL);
		if (res.timed_out || res.exit_code != 1 ||
		    !strstr(res.err, bad[i][0]) || !strstr(res.err, bad[i][1]))
			fail_msg("%s",
				 lab_run_describe(&res, "ipamctl apply "
							"with a bad "
							"saved plan: exit "
							"1 naming it"));
		lab_run_free(&res);
	}
	after = history();
	if (strcmp(before, after))
		fail_msg("a bad saved plan recorded a run:\nbefore:\n%s\n"
			 "after:\n%s",
			 before, after);
	unlink(fifo);
	free(fifo);
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_other_answers_apply_nothing),
		cmocka_unit_test(test_2_lock_timeout),
		cmocka_unit_test(test_3_yes_applies),
		cmocka_unit_test(test_4_empty_desired_state),
		cmocka_unit_test(test_5_bad_saved_plan_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
