/*
 * provisioning.filtering: group against the corp forest of the lab: each
 * IPAM GPO filters in one domain-local group, IPAM1_<ROLE>_Servers, whose
 * members are the managed servers of the GPO's roles.  AD is read with
 * tools independent of ipamctl: ldapsearch (the groups' `member`, their
 * groupType and mark), Samba's Python bindings (DACLs ACE by ACE, SIDs of
 * DNs, ACEs removed by hand), samba-tool (group addmembers/removemembers/
 * add, gpo aclcheck).  In order, on one lab (the cases share its state):
 *
 *  (1) computer mode applied: each GPO's DACL gives read + apply to the
 *      managed servers of its roles -- the servers each GPO must filter
 *      in, from here on;
 *  (2) the switch to group mode: one write at a time (ipamctl-fault,
 *      IPAM_FAULT_AFTER=1, again and again until the apply completes;
 *      IPAM_FAULT_INJECTION builds) and after EVERY write, each of those
 *      servers is filtered in, by its own ACEs or as a member of a group
 *      the DACL filters in: never unfiltered in between.  Then each DACL
 *      filters in its group alone, each group (domain-local security,
 *      ipamctl's mark) holds exactly the servers, aclcheck is clean,
 *      `gpo show -o json` validates, the plan is empty;
 *  (3) drift made by hand -- a member removed, a user added to a group,
 *      a group's ACE removed from its GPO -- is drift in the plan (exit 2,
 *      origin drift) and one apply corrects it;
 *  (4) the switch back to computer mode, checked after every write the
 *      same way; then each DACL is (1)'s again and the groups are gone;
 *  (5) ownership: a hand-made group of the name is a conflict (plan and
 *      apply exit 1 naming it, nothing written to it or the GPO), until
 *      `provision --adopt` takes it over; then apply fills it.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"
#include "testutil.h"

#define MAX_STEPS 400

static struct labad_forest F;
static char *tmpdir, *db_path, *cfg_group, *cfg_computer;
static const char *const group_name[LABAD_NGPO] = {
	"IPAM1_DHCP_Servers", "IPAM1_DNS_Servers", "IPAM1_DC_NPS_Servers"};
static char *group_dn[LABAD_NGPO];
/* The servers each GPO filters in (computer mode's DACL), sorted. */
static char **want[LABAD_NGPO];

/* ---- set-up ---------------------------------------------------------------
 */

/* corp alone; its DHCP server declared (the authorized ones that never
 * answer a DHCPINFORM would cost seconds of every discovery). */
static char *write_config(const char *name, bool group)
{
	char *path = xasprintf("%s/%s.yaml", tmpdir, name);
	struct strbuf y = STRBUF_INIT;

	strbuf_addf(&y,
		    "version: 1\n"
		    "ipamServer: ipam1.corp.example.test\n"
		    "database: %s%s\n"
		    "provisioning:\n  method: gpo\n  gpoPrefix: IPAM1\n%s"
		    "connection:\n  auth: simple\n  caFile: %s\n"
		    "  timeout: 10\n"
		    "discovery:\n"
		    "  - domain: %s\n    dhcp: false\n"
		    "    connection:\n"
		    "      ldapUri: %s\n      user: %s\n"
		    "      passwordFile: %s\n      caFile: %s\n"
		    "servers:\n"
		    "  - name: dhcp1.%s\n    roles: [dhcp]\n"
		    "    manageability: managed\n"
		    "defaults:\n  manageability: managed\n"
		    "safety:\n  maxRemovals: 10\n",
		    db_path[0] == '/' ? "sqlite:" : "", db_path,
		    group ? "  filtering: group\n" : "",
		    lab_need_env("IPAM_LAB_CA"), F.domain,
		    lab_need_forest(1, "LDAP_URI"),
		    lab_need_forest(1, "ADMIN_USER"),
		    lab_need_forest(1, "ADMIN_PASSWORD_FILE"),
		    lab_need_forest(1, "CA"), F.domain);
	assert_int_equal(lab_write_file(path, y.buf, y.len), 0);
	strbuf_release(&y);
	return path;
}

static void delete_groups(void)
{
	struct lab_run res;

	for (int k = 0; k < LABAD_NGPO; k++) {
		const char *args[] = {"group", "delete", group_name[k], NULL};

		labad_samba_tool(1, args, &res);
		lab_run_free(&res);
	}
}

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	labad_forest_init(&F, 1);
	labad_remove_leftovers(&F);
	delete_groups();
	for (int k = 0; k < LABAD_NGPO; k++)
		group_dn[k] =
			xasprintf("CN=%s,CN=Users,%s", group_name[k], F.dn);
	cfg_group = write_config("group", true);
	cfg_computer = write_config("computer", false);
	labad_run_ipamctl(&res, "db", "init", "-c", cfg_group, NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!lab_env("IPAM_GROUPTEST_KEEP")) {
		labad_remove_leftovers(&F);
		delete_groups();
	}
	for (int k = 0; k < LABAD_NGPO; k++) {
		free(group_dn[k]);
		lab_strv_free(want[k]);
	}
	labad_forest_release(&F);
	free(cfg_group);
	free(cfg_computer);
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	return 0;
}

/* ---- what AD holds --------------------------------------------------------
 */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The SIDs of the objects matching filter (Samba's bindings), sorted. */
static char **sids_of(const char *filter)
{
	const char *args[] = {filter, NULL};
	struct lab_run res;
	char **lines, **out = labad_strv_new();
	size_t n = 0;

	labad_py(1, "sid", args, &res);
	lines = labad_lines(res.out);
	for (size_t i = 0; lines[i]; i++) {
		const char *tab = strrchr(lines[i], '\t');

		if (tab)
			labad_strv_push(&out, &n, tab + 1);
	}
	lab_strv_free(lines);
	lab_run_free(&res);
	qsort(out, n, sizeof(*out), cmp_str);
	return out;
}

/* Group k's SID, NULL when it does not exist. */
static char *group_sid(int k)
{
	char *f = xasprintf("(sAMAccountName=%s)", group_name[k]);
	char **v = sids_of(f);
	char *sid = v[0] ? xstrdup(v[0]) : NULL;

	lab_strv_free(v);
	free(f);
	return sid;
}

/* Its members' SIDs, by its `member` values (ipamctl reads the memberOf
 * backlinks instead), sorted. */
static char **member_sids(int k)
{
	char **dns = labad_ldap_all(1, group_dn[k], "member");
	struct strbuf f = STRBUF_INIT;
	char **out;

	if (!dns[0]) {
		lab_strv_free(dns);
		return labad_strv_new();
	}
	strbuf_addstr(&f, "(|");
	for (size_t i = 0; dns[i]; i++)
		strbuf_addf(&f, "(distinguishedName=%s)", dns[i]);
	strbuf_addch(&f, ')');
	out = sids_of(f.buf);
	assert_int_equal(labad_strv_len(out), labad_strv_len(dns));
	strbuf_release(&f);
	lab_strv_free(dns);
	return out;
}

static bool same(char *const *a, char *const *b)
{
	size_t i;

	for (i = 0; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return !a[i] && !b[i];
}

/*
 * Every server of want[k] filtered in by GPO k: its own read + apply, or
 * membership of a group the DACL gives them (read and apply both looked
 * at: labad_expect_ace for read, labad_apply_sids for apply).
 */
static void filtered_ok(const char *when)
{
	char **acl[LABAD_NGPO];

	labad_aces_of(1, (const char *const *)F.gpo_dn, LABAD_NGPO, acl);
	for (int k = 0; k < LABAD_NGPO; k++) {
		char **apply = labad_apply_sids(acl[k]);
		char *gsid = group_sid(k);
		char **members = gsid ? member_sids(k) : labad_strv_new();
		bool group_in = gsid && labad_strv_has(apply, gsid);

		if (group_in)
			labad_expect_ace(acl[k], LABAD_ACE_READ, gsid, true,
					 when);
		for (size_t i = 0; want[k][i]; i++) {
			const char *sid = want[k][i];

			if (labad_strv_has(apply, sid)) {
				labad_expect_ace(acl[k], LABAD_ACE_READ, sid,
						 true, when);
				continue;
			}
			if (!group_in || !labad_strv_has(members, sid))
				fail_msg("%s: %s: %s is not filtered in: "
					 "apply to\n  %s\ngroup %s (%s the "
					 "DACL) members\n  %s",
					 when, labad_gpo_name[k], sid,
					 labad_join(apply), group_name[k],
					 group_in ? "in" : "not in",
					 labad_join(members));
		}
		lab_strv_free(apply);
		lab_strv_free(members);
		lab_strv_free(acl[k]);
		free(gsid);
	}
}

/* Group mode converged: each DACL applies to its group alone, the group
 * a marked domain-local security group holding exactly want[k]. */
static void group_mode_ok(const char *when)
{
	char **acl[LABAD_NGPO];

	labad_aces_of(1, (const char *const *)F.gpo_dn, LABAD_NGPO, acl);
	for (int k = 0; k < LABAD_NGPO; k++) {
		char **apply = labad_apply_sids(acl[k]);
		char *gsid = group_sid(k);
		char **members;
		char *gt = labad_ldap_get(1, group_dn[k], "groupType");
		char *mark = labad_ldap_get(1, group_dn[k], "adminDescription");

		if (!gsid)
			fail_msg("%s: no group %s", when, group_name[k]);
		members = member_sids(k);
		if (labad_strv_len(apply) != 1 || strcmp(apply[0], gsid))
			fail_msg("%s: %s applies to\n  %s\nnot to %s alone",
				 when, labad_gpo_name[k], labad_join(apply),
				 gsid);
		labad_expect_ace(acl[k], LABAD_ACE_READ, gsid, true, when);
		if (!same(members, want[k]))
			fail_msg("%s: %s holds\n  %s\nnot\n  %s", when,
				 group_name[k], labad_join(members),
				 labad_join(want[k]));
		/* domain local, security: 0x80000004 */
		assert_non_null(gt);
		assert_string_equal(gt, "-2147483644");
		assert_non_null(mark);
		assert_non_null(strstr(mark, "ipamctl"));
		free(gt);
		free(mark);
		free(gsid);
		lab_strv_free(members);
		lab_strv_free(apply);
		lab_strv_free(acl[k]);
	}
}

static void plan_clean(const char *cfg, const char *when)
{
	struct lab_run res;

	labad_run_ipamctl(&res, "plan", "--detailed-exitcode", "-c", cfg, NULL);
	if (res.exit_code != 0)
		fail_msg("%s: plan is not empty: %s", when,
			 lab_run_describe(&res, "ipamctl plan"));
	lab_run_free(&res);
}

/* The last write a fault run's trace names ("<n> <op> <target>"), or
 * NULL; the trace is then removed for the next run. */
static char *last_write(const char *trace)
{
	char *text = lab_read_file(trace, 1 << 20, NULL);
	char **lines = labad_lines(text ? text : "");
	char *last = NULL;

	for (size_t i = 0; lines[i]; i++)
		if (strncmp(lines[i], "abort", 5)) {
			const char *sp = strchr(lines[i], ' ');

			free(last);
			last = xstrdup(sp ? sp + 1 : lines[i]);
		}
	lab_strv_free(lines);
	free(text);
	unlink(trace);
	return last;
}

/*
 * apply -c cfg a write at a time: ipamctl-fault dies right after its k-th
 * write, filtered_ok looks, again, until a run exits 0.  k is 1, but a
 * run that ends on the very write the previous one ended on (a SYSVOL
 * folder ACL, which is written again until AD's DACL follows it) gets
 * one write more.  Without a fault-injection build: one apply, one look.
 */
static void apply_stepwise(const char *cfg, const char *what)
{
	const char *fault = lab_env("IPAMCTL_FAULT");
	char *trace = xasprintf("%s/trace", tmpdir), *prev = NULL;
	char env0[4096], env1[64];
	const char *env[] = {env0, env1, NULL};
	struct lab_run res;
	size_t steps = 0, k = 1;

	snprintf(env0, sizeof(env0), "IPAM_FAULT_COUNT_FILE=%s", trace);
	for (; fault && steps < MAX_STEPS; steps++) {
		const char *argv[] = {fault, "apply", "--auto-approve",
				      "-c",  cfg,     NULL};
		struct lab_run_opts o = {.env = env, .timeout_ms = 180000};
		char *when, *last;

		snprintf(env1, sizeof(env1), "IPAM_FAULT_AFTER=%zu", k);
		assert_int_equal(lab_run(argv, &o, &res), 0);
		last = last_write(trace);
		if (res.exit_code == 0) {
			lab_run_free(&res);
			free(last);
			break;
		}
		if (res.exit_code != 128 + 6)
			fail_msg("%s, step %zu: %s", what, steps + 1,
				 lab_run_describe(&res, "ipamctl-fault apply"));
		lab_run_free(&res);
		k = prev && last && !strcmp(prev, last) ? k + 1 : 1;
		free(prev);
		prev = last;
		when = xasprintf("%s, after write %zu (%s)", what, steps + 1,
				 prev ? prev : "?");
		filtered_ok(when);
		free(when);
	}
	if (fault && steps >= MAX_STEPS)
		fail_msg("%s: no end after %d runs", what, MAX_STEPS);
	if (!fault) {
		print_message("IPAMCTL_FAULT unset: %s in one apply\n", what);
		labad_run_ipamctl(&res, "apply", "--auto-approve", "-c", cfg,
				  NULL);
		labad_expect_exit(&res, 0, what);
		lab_run_free(&res);
	} else {
		print_message("%s: %zu runs killed after a write, each "
			      "followed by a look\n",
			      what, steps);
	}
	filtered_ok(what);
	free(prev);
	free(trace);
}

/* ---- (1) computer mode ----------------------------------------------------
 */

static void test_1_computer_mode(void **state)
{
	char **acl[LABAD_NGPO];
	struct lab_run res;

	(void)state;
	labad_run_ipamctl(&res, "apply", "--auto-approve", "-c", cfg_computer,
			  NULL);
	labad_expect_exit(&res, 0, "apply, filtering: computer");
	lab_run_free(&res);
	labad_need_gpos(&F, false);
	labad_aces_of(1, (const char *const *)F.gpo_dn, LABAD_NGPO, acl);
	for (int k = 0; k < LABAD_NGPO; k++) {
		want[k] = labad_apply_sids(acl[k]);
		if (!want[k][0])
			fail_msg("%s filters nobody in", labad_gpo_name[k]);
		lab_strv_free(acl[k]);
		assert_null(group_sid(k));
	}
	plan_clean(cfg_computer, "computer mode");
}

/* ---- (2) computer -> group ------------------------------------------------
 */

static void test_2_switch_to_group(void **state)
{
	struct lab_run res;
	char *out = xasprintf("%s/show.json", tmpdir);

	(void)state;
	/* What the switch is: groups made and filled, then the DACLs. */
	labad_run_ipamctl(&res, "plan", "-o", "json", "-c", cfg_group, NULL);
	labad_expect_exit(&res, 0, "plan, filtering: group");
	labad_schema_ok("plan", res.out, res.out_len, out);
	assert_non_null(strstr(res.out, "\"member_add\""));
	assert_non_null(strstr(res.out, "\"filter_group\""));
	lab_run_free(&res);

	apply_stepwise(cfg_group, "computer -> group");
	group_mode_ok("group mode");
	labad_aclcheck_ok(1);
	plan_clean(cfg_group, "group mode");

	labad_run_ipamctl(&res, "gpo", "show", "-o", "json", "-c", cfg_group,
			  "--domain", F.domain, NULL);
	labad_expect_exit(&res, 0, "gpo show");
	labad_schema_ok("gpo-show", res.out, res.out_len, out);
	assert_non_null(strstr(res.out, "\"filterGroup\""));
	lab_run_free(&res);
	free(out);
}

/* ---- (3) drift ------------------------------------------------------------
 */

/* The action of kind on target in a plan's JSON, or fail. */
static const struct ipam_node *action(const struct ipam_node *plan,
				      const char *kind, const char *target)
{
	const struct ipam_node *seq = labad_jkey(plan, "actions");

	for (size_t i = 0; seq && i < seq->nr; i++) {
		const char *k = labad_jstr(seq->items[i], "kind");
		const char *t = labad_jstr(seq->items[i], "target");

		if (k && t && !strcmp(k, kind) && !strcasecmp(t, target))
			return seq->items[i];
	}
	fail_msg("no %s of %s in the plan", kind, target);
	return NULL;
}

static void test_3_drift(void **state)
{
	const char *rm[] = {"group", "removemembers", group_name[0], "DHCP1$",
			    NULL};
	const char *add[] = {"group", "addmembers", group_name[1],
			     "Administrator", NULL};
	char *gsid = group_sid(2);
	const char *rmace[] = {F.gpo_dn[2], gsid, NULL};
	struct ipam_node *plan;
	struct lab_run res;

	(void)state;
	labad_samba_tool_ok(1, rm, &res);
	lab_run_free(&res);
	labad_samba_tool_ok(1, add, &res);
	lab_run_free(&res);
	labad_py(1, "rmace", rmace, &res);
	lab_run_free(&res);

	labad_run_ipamctl(&res, "plan", "--detailed-exitcode", "-o", "json",
			  "-c", cfg_group, NULL);
	labad_expect_exit(&res, 2, "plan after drift");
	plan = labad_parse_json(res.out, res.out_len, "plan");
	assert_string_equal(labad_jstr(action(plan, "member_add",
					      "dhcp1.corp.example.test"),
				       "origin"),
			    "drift");
	assert_string_equal(
		labad_jstr(action(plan, "member_remove", "Administrator"),
			   "origin"),
		"drift");
	assert_string_equal(
		labad_jstr(action(plan, "filter_add", group_name[2]), "origin"),
		"drift");
	ipam_node_free(plan);
	lab_run_free(&res);

	labad_run_ipamctl(&res, "apply", "--auto-approve", "-c", cfg_group,
			  NULL);
	labad_expect_exit(&res, 0, "apply after drift");
	lab_run_free(&res);
	group_mode_ok("drift corrected");
	plan_clean(cfg_group, "drift corrected");
	free(gsid);
}

/* ---- (4) group -> computer ------------------------------------------------
 */

static void test_4_switch_back(void **state)
{
	char **acl[LABAD_NGPO];

	(void)state;
	apply_stepwise(cfg_computer, "group -> computer");
	labad_aces_of(1, (const char *const *)F.gpo_dn, LABAD_NGPO, acl);
	for (int k = 0; k < LABAD_NGPO; k++) {
		char **apply = labad_apply_sids(acl[k]);
		char *gsid = group_sid(k);

		if (!same(apply, want[k]))
			fail_msg("back in computer mode, %s applies to\n  %s\n"
				 "not\n  %s",
				 labad_gpo_name[k], labad_join(apply),
				 labad_join(want[k]));
		if (gsid)
			fail_msg("group %s is still there", group_name[k]);
		lab_strv_free(apply);
		lab_strv_free(acl[k]);
	}
	labad_aclcheck_ok(1);
	plan_clean(cfg_computer, "computer mode again");
}

/* ---- (5) ownership --------------------------------------------------------
 */

static void test_5_hand_made_group(void **state)
{
	const char *mk[] = {"group",
			    "add",
			    group_name[0],
			    "--group-scope=Domain",
			    "--group-type=Security",
			    NULL};
	char **before = labad_aces(1, F.gpo_dn[0]), **after;
	struct lab_run res;
	char *mark;

	(void)state;
	labad_samba_tool_ok(1, mk, &res);
	lab_run_free(&res);

	labad_run_ipamctl(&res, "plan", "--detailed-exitcode", "-c", cfg_group,
			  NULL);
	labad_expect_exit(&res, 1, "plan with a hand-made group");
	if (!strstr(res.out, group_name[0]) && !strstr(res.err, group_name[0]))
		fail_msg("the conflict does not name %s: %s", group_name[0],
			 lab_run_describe(&res, "plan"));
	lab_run_free(&res);
	labad_run_ipamctl(&res, "apply", "--auto-approve", "-c", cfg_group,
			  NULL);
	labad_expect_exit(&res, 1, "apply with a hand-made group");
	lab_run_free(&res);
	after = labad_aces(1, F.gpo_dn[0]);
	if (!same(before, after))
		fail_msg("%s's DACL changed:\n  %s\nnow\n  %s",
			 labad_gpo_name[0], labad_join(before),
			 labad_join(after));
	assert_null(labad_ldap_get(1, group_dn[0], "adminDescription"));
	{
		char **m = member_sids(0);

		assert_null(m[0]);
		lab_strv_free(m);
	}

	labad_run_ipamctl(&res, "provision", "--adopt", "--domain", F.domain,
			  "-c", cfg_group, NULL);
	labad_expect_exit(&res, 0, "provision --adopt");
	lab_run_free(&res);
	mark = labad_ldap_get(1, group_dn[0], "adminDescription");
	assert_non_null(mark);
	free(mark);
	labad_run_ipamctl(&res, "apply", "--auto-approve", "-c", cfg_group,
			  NULL);
	labad_expect_exit(&res, 0, "apply after adopting");
	lab_run_free(&res);
	group_mode_ok("adopted");
	plan_clean(cfg_group, "adopted");
	lab_strv_free(before);
	lab_strv_free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_computer_mode),
		cmocka_unit_test(test_2_switch_to_group),
		cmocka_unit_test(test_3_drift),
		cmocka_unit_test(test_4_switch_back),
		cmocka_unit_test(test_5_hand_made_group),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
