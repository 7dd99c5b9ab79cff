/*
 * What ensuring IPAMUG comes to for each observed state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "gpogroup.h"
#include "gpostate.h"

static void test_plan(void **state)
{
	struct ipam_gpo_state st = {0};

	(void)state;
	/* Nothing there: create it, with the server in. */
	st.server_found = true;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_CREATE | IPAM_GPOGROUP_ADD_SERVER);
	/* No computer account: create, and only warn about the server. */
	st.server_found = false;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_CREATE | IPAM_GPOGROUP_NO_SERVER);
	/* There, ours, right: nothing. */
	st.server_found = true;
	st.ipamug.exists = st.ipamug.owned = st.ipamug.has_server = true;
	st.ipamug.group_type = IPAM_GPOGROUP_TYPE;
	assert_int_equal(ipam_gpogroup_plan(&st, false), 0);
	/* A global group: a warning, nothing written. */
	st.ipamug.group_type = -2147483646L;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_BAD_TYPE);
	/* Made by hand: adopted only when asked (and then not warned). */
	st.ipamug.owned = false;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_BAD_TYPE);
	assert_int_equal(ipam_gpogroup_plan(&st, true), IPAM_GPOGROUP_ADOPT);
	/* The server left the group. */
	st.ipamug.has_server = false;
	assert_int_equal(ipam_gpogroup_plan(&st, true),
			 IPAM_GPOGROUP_ADOPT | IPAM_GPOGROUP_ADD_SERVER);
}

/* The IPAM server's account in another discovery domain. */
static void test_plan_foreign(void **state)
{
	struct ipam_gpo_state st = {0};

	(void)state;
	st.foreign_domain = "corp.example.test";
	/* Not trusted: the group is made, and a warning that says why. */
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_CREATE | IPAM_GPOGROUP_NO_TRUST);
	/* Trusted, but the account was not found there. */
	st.foreign_trusted = true;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_CREATE | IPAM_GPOGROUP_NO_SERVER);
	/* Trusted and found: in by SID, a new group or one without it. */
	st.server_found = true;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_CREATE | IPAM_GPOGROUP_ADD_FOREIGN);
	st.ipamug.exists = st.ipamug.owned = true;
	st.ipamug.group_type = IPAM_GPOGROUP_TYPE;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_ADD_FOREIGN);
	/* Its foreign security principal already a member: nothing. */
	st.ipamug.has_server = true;
	assert_int_equal(ipam_gpogroup_plan(&st, false), 0);
	/* Same domain: the plain steps, never the foreign ones. */
	st.foreign_domain = NULL;
	st.foreign_trusted = false;
	st.ipamug.has_server = false;
	assert_int_equal(ipam_gpogroup_plan(&st, false),
			 IPAM_GPOGROUP_ADD_SERVER);
}

static void test_trusts(void **state)
{
	const struct ipam_gpogroup_trust forest[] = {
		{"corp.example.test", 3, IPAM_GPOGROUP_TRUST_FOREST},
	};
	const struct ipam_gpogroup_trust one_way[] = {
		/* inbound only: corp trusts us, not we corp */
		{"corp.example.test", 1, IPAM_GPOGROUP_TRUST_FOREST},
	};
	const struct ipam_gpogroup_trust external[] = {
		{"corp.example.test", 2, 0},
		{NULL, 3, IPAM_GPOGROUP_TRUST_FOREST},
	};

	(void)state;
	assert_true(ipam_gpogroup_trusts(forest, 1, "corp.example.test"));
	assert_true(ipam_gpogroup_trusts(forest, 1, "CORP.example.TEST"));
	/* A forest trust covers the forest's child domains. */
	assert_true(ipam_gpogroup_trusts(forest, 1, "emea.corp.example.test"));
	assert_false(ipam_gpogroup_trusts(forest, 1, "xcorp.example.test"));
	assert_false(ipam_gpogroup_trusts(forest, 1, "example.test"));
	assert_false(ipam_gpogroup_trusts(one_way, 1, "corp.example.test"));
	assert_false(ipam_gpogroup_trusts(forest, 0, "corp.example.test"));
	/* An external trust is to that domain only. */
	assert_true(ipam_gpogroup_trusts(external, 2, "corp.example.test"));
	assert_false(
		ipam_gpogroup_trusts(external, 2, "emea.corp.example.test"));
}

static void test_home(void **state)
{
	const char *const doms[] = {"corp.example.test", "branch.example.test",
				    "emea.corp.example.test"};

	(void)state;
	assert_int_equal(ipam_gpogroup_home("ipam1.corp.example.test", doms, 3,
					    "branch.example.test"),
			 0);
	/* The longest domain the host is in. */
	assert_int_equal(ipam_gpogroup_home("ipam1.emea.corp.example.test",
					    doms, 3, "branch.example.test"),
			 2);
	/* Never the session's own domain, nor a name that only ends alike. */
	assert_int_equal(ipam_gpogroup_home("ipam1.corp.example.test", doms, 3,
					    "corp.example.test"),
			 -1);
	assert_int_equal(
		ipam_gpogroup_home("ipam1.xcorp.example.test", doms, 3, NULL),
		-1);
	assert_int_equal(ipam_gpogroup_home("corp.example.test", doms, 3, NULL),
			 -1);
	assert_true(ipam_gpogroup_in_domain("a.b.c", "B.C"));
	assert_true(ipam_gpogroup_in_domain("b.c", "b.c"));
	assert_false(ipam_gpogroup_in_domain("ab.c", "b.c"));
	assert_false(ipam_gpogroup_in_domain("a.b.c", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_foreign),
		cmocka_unit_test(test_trusts),
		cmocka_unit_test(test_home),
	};

	return cmocka_run_group_tests_name("gpogroup", tests, NULL, NULL);
}
