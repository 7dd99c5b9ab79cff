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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
	};

	return cmocka_run_group_tests_name("gpogroup", tests, NULL, NULL);
}
