/*
 * Domains in parallel (--parallel N): the two forests of the lab plus a
 * third discovery domain, dead.example.test, whose DC is stopped.  The
 * stopped DC is a listener on 127.0.0.77:389 inside the lab's namespace
 * that never accepts: the kernel completes the TCP handshake and nothing
 * ever answers, as with a Samba frozen by SIGSTOP.  Its connection timeout
 * is DEAD_TIMEOUT seconds; the domain costs two of them (discovery's bind,
 * then the GPO read's).
 *
 * The desired state is the lab's ($IPAM_LAB_CONFIG, never modified) copied
 * into a temporary directory with its own state database and every server
 * managed, in three forms: the two forests ("two"), the dead domain alone
 * ("dead") and all three ("three").  In order:
 *  (1) --parallel 0 and --parallel x are refused (exit 1, saying why);
 *  (2) plan -o json of "two" and of "dead" with --parallel 1, timed (the
 *      live domains' time and the slowest domain's, the dead one);
 *  (3) plan of "three" with --parallel 1 and with --parallel 3, timed:
 *      both exit 1 naming dead.example.test as incomplete; the two plans
 *      are the same but for their time (python3 compares the JSON); with
 *      3 at once the plan takes about the dead domain's time, not the sum
 *      (at most the dead domain's plus half the live domains'), and the
 *      one-at-a-time plan at least the dead domain's and most of the live
 *      domains'; corp's and branch's actions are those of "two" (the dead
 *      domain changes nothing in another domain's plan);
 *  (4) apply --parallel 3 of "three": exit 1 (the dead domain), yet both
 *      forests are applied: samba-tool gpo listall finds the three GPOs in
 *      each, linked, IPAMUG is there (ldapsearch), and plan
 *      --detailed-exitcode of "two" then exits 0.
 * At the end the GPOs and IPAMUG this test made are removed.
 *
 * The figures (seconds) are printed for the record.  Discovery binds UDP
 * 68: the test holds the lab's DHCP client lock too.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labad.h"
#include "labtest.h"
#include "strbuf.h"

#define DEAD_DOMAIN  "dead.example.test"
#define DEAD_IP	     "127.0.0.77"
#define DEAD_TIMEOUT 5

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static char *tmpdir, *db_path, *cfg_two, *cfg_dead, *cfg_three;
static int dead_fd = -1;
/* Seconds: two forests one at a time, the dead domain alone, all three
 * one at a time and three at once. */
static double t_two, t_dead, t_one, t_par;

/* ---- the desired states ------------------------------------------------- */

static char *in_tmp(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* text[0, cut) + insert + text[from...] into tmpdir/name/ipamctl.yaml. */
static char *write_spliced(const char *name, const char *text, size_t cut,
			   const char *insert, const char *from)
{
	char *dir = in_tmp(name), *path = xasprintf("%s/ipamctl.yaml", dir);
	struct strbuf out = STRBUF_INIT;

	strbuf_add(&out, text, cut);
	strbuf_addstr(&out, insert);
	strbuf_addstr(&out, from);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(lab_write_file(path, out.buf, out.len), 0);
	strbuf_release(&out);
	free(path);
	return dir;
}

/*
 * "two": the lab's desired state with our database, every server
 * managed; "three": the same with the dead domain after the lab's two;
 * "dead": the dead domain alone, without the lab's servers.
 */
static void write_configs(void)
{
	char *dead = xasprintf("  - domain: " DEAD_DOMAIN "\n"
			       "    connection:\n"
			       "      ldapUri: ldap://" DEAD_IP "\n"
			       "      user: Administrator@" DEAD_DOMAIN "\n"
			       "      passwordFile: %s\n"
			       "      timeout: %d\n",
			       lab_need_forest(1, "ADMIN_PASSWORD_FILE"),
			       DEAD_TIMEOUT);
	char *path, *text;
	const char *disc, *servers, *defaults;

	cfg_two = in_tmp("two");
	labad_write_managed_config(
		cfg_two, db_path, lab_need_env("IPAM_LAB_IPAM_KEYTAB"),
		lab_need_env("IPAM_LAB_IPAM_PRINCIPAL"), NULL);
	path = xasprintf("%s/ipamctl.yaml", cfg_two);
	text = lab_need_file(path, NULL);
	disc = strstr(text, "\ndiscovery:\n");
	servers = strstr(text, "\nservers:\n");
	defaults = strstr(text, "\ndefaults:\n");
	if (!disc || !servers || !defaults || disc > servers ||
	    servers > defaults)
		fail_msg("%s: no discovery, servers and defaults blocks in "
			 "that order:\n%s",
			 path, text);
	cfg_three = write_spliced("three", text, (size_t)(servers + 1 - text),
				  dead, servers + 1);
	cfg_dead = write_spliced(
		"dead", text, (size_t)(disc + strlen("\ndiscovery:\n") - text),
		dead, defaults + 1);
	free(text);
	free(path);
	free(dead);
}

/* The stopped DC: handshakes completed by the kernel, nothing answered. */
static void stop_dc(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(389)};
	int one = 1;

	assert_int_equal(inet_pton(AF_INET, DEAD_IP, &a.sin_addr), 1);
	dead_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(dead_fd >= 0);
	assert_int_equal(setsockopt(dead_fd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one)),
			 0);
	if (bind(dead_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(dead_fd, 64))
		fail_msg("cannot listen on %s:389: %s", DEAD_IP,
			 strerror(errno));
}

/* ---- running plans --------------------------------------------------------
 */

/* plan -c cfg --parallel n -o json --out out; its exit status expected;
 * returns the seconds it took. */
static double timed_plan(const char *cfg, const char *n, const char *out,
			 int expect, const char *what)
{
	struct lab_run res;
	double t0 = labad_now_s(), t;

	labad_run_ipamctl(&res, "plan", "-c", cfg, "--parallel", n, "-o",
			  "json", "--out", out, NULL);
	t = labad_now_s() - t0;
	labad_expect_exit(&res, expect, what);
	if (expect && !strstr(res.err, DEAD_DOMAIN))
		fail_msg("%s does not name %s: %s", what, DEAD_DOMAIN,
			 lab_run_describe(&res, what));
	lab_run_free(&res);
	print_message("%s: %.2f s\n", what, t);
	return t;
}

/* python3 on two saved plans: mode "same" (equal but for generated_at),
 * or "live" (the actions of a's domains other than the dead one equal
 * b's, seq and source aside; the dead domain alone incomplete in a). */
static void compare_plans(const char *mode, const char *a, const char *b)
{
	static const char script[] =
		"import json, sys\n"
		"mode, a, b = sys.argv[1], json.load(open(sys.argv[2])), "
		"json.load(open(sys.argv[3]))\n"
		"if mode == 'same':\n"
		"    a.pop('generated_at'); b.pop('generated_at')\n"
		"    sys.exit(0 if a == b else 'plans differ:\\n%s\\n%s' % "
		"(json.dumps(a, sort_keys=True), json.dumps(b, "
		"sort_keys=True)))\n"
		"def live(p, dead):\n"
		"    out = []\n"
		"    for x in p['actions']:\n"
		"        if x['domain'] == dead: continue\n"
		"        x = dict(x); x.pop('seq'); x.pop('source', None)\n"
		"        out.append(x)\n"
		"    return out\n"
		"d = '" DEAD_DOMAIN "'\n"
		"inc = [x['domain'] for x in a['incomplete_domains']]\n"
		"if inc != [d]: sys.exit('incomplete domains: %r' % inc)\n"
		"if not live(a, d): sys.exit('no action for the live "
		"domains')\n"
		"if live(a, d) != live(b, d):\n"
		"    sys.exit('live domains differ:\\n%r\\n%r' % (live(a, d), "
		"live(b, d)))\n";
	const char *argv[] = {"python3", "-c", script, mode, a, b, NULL};
	struct lab_run res;

	lab_must_run(argv, NULL, &res);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "python3 plan compare"));
	lab_run_free(&res);
}

/* ---- the cases ------------------------------------------------------------
 */

static void test_1_bad_counts_refused(void **state)
{
	static const char *const bad[] = {"0", "x", "65", "-2"};
	struct lab_run res;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		labad_run_ipamctl(&res, "plan", "-c", cfg_two, "--parallel",
				  bad[i], NULL);
		labad_expect_exit(&res, 1, "plan --parallel with a bad count");
		if (!strstr(res.err, "--parallel wants a count"))
			fail_msg("--parallel %s: %s", bad[i],
				 lab_run_describe(&res, "plan"));
		lab_run_free(&res);
	}
}

static void test_2_each_alone(void **state)
{
	char *p_two = in_tmp("two.json"), *p_dead = in_tmp("dead.json");

	(void)state;
	t_two = timed_plan(cfg_two, "1", p_two, 0,
			   "plan of the two forests, --parallel 1");
	t_dead = timed_plan(cfg_dead, "1", p_dead, 1,
			    "plan of the stopped DC's domain alone");
	if (t_dead < 2 * DEAD_TIMEOUT - 0.5)
		fail_msg("the stopped DC's domain took %.2f s, less than its "
			 "two timeouts of %d s: is it stopped?",
			 t_dead, DEAD_TIMEOUT);
	free(p_two);
	free(p_dead);
}

static void test_3_three_domains(void **state)
{
	char *p_one = in_tmp("one.json"), *p_par = in_tmp("par.json");
	char *p_two = in_tmp("two.json");

	(void)state;
	t_one = timed_plan(cfg_three, "1", p_one, 1,
			   "plan of three domains, --parallel 1");
	t_par = timed_plan(cfg_three, "3", p_par, 1,
			   "plan of three domains, --parallel 3");
	compare_plans("same", p_one, p_par);
	compare_plans("live", p_par, p_two);
	print_message("two forests %.2f s, stopped DC %.2f s, three one at "
		      "a time %.2f s, three at once %.2f s\n",
		      t_two, t_dead, t_one, t_par);
	if (t_par > t_dead + t_two / 2 + 1.0)
		fail_msg("--parallel 3 took %.2f s: more than the slowest "
			 "domain (%.2f s) and half the others (%.2f s)",
			 t_par, t_dead, t_two);
	if (t_one < t_dead + t_two / 2)
		fail_msg("--parallel 1 took %.2f s: less than the stopped "
			 "domain (%.2f s) plus half the others (%.2f s): "
			 "were the domains not one after the other?",
			 t_one, t_dead, t_two);
	free(p_one);
	free(p_par);
	free(p_two);
}

static void test_4_apply_beside_dead(void **state)
{
	struct lab_run res;

	(void)state;
	labad_run_ipamctl(&res, "apply", "-c", cfg_three, "--parallel", "3",
			  "--auto-approve", NULL);
	labad_expect_exit(&res, 1, "apply of three domains, one DC stopped");
	if (!strstr(res.err, DEAD_DOMAIN))
		fail_msg("apply does not name %s: %s", DEAD_DOMAIN,
			 lab_run_describe(&res, "apply"));
	lab_run_free(&res);
	for (int f = 1; f <= 2; f++) {
		labad_need_gpos(&F[f], true);
		for (int k = 0; k < LABAD_NGPO; k++) {
			char *opt = labad_link_options(&F[f], F[f].guid[k]);

			if (!opt)
				fail_msg("%s: %s not linked", F[f].domain,
					 labad_gpo_name[k]);
			free(opt);
		}
		free(labad_sid_of(f, "(&(objectClass=group)"
				     "(sAMAccountName=IPAMUG))"));
	}
	labad_run_ipamctl(&res, "plan", "-c", cfg_two, "--detailed-exitcode",
			  NULL);
	labad_expect_exit(&res, 0, "plan of the two forests after the apply");
	lab_run_free(&res);
}

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = xasprintf("%s/state.db", tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	stop_dc();
	write_configs();
	labad_run_ipamctl(&res, "db", "init", "-c", cfg_three, NULL);
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
	if (dead_fd >= 0)
		close(dead_fd);
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(cfg_two);
	free(cfg_dead);
	free(cfg_three);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_bad_counts_refused),
		cmocka_unit_test(test_2_each_alone),
		cmocka_unit_test(test_3_three_domains),
		cmocka_unit_test(test_4_apply_beside_dead),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
