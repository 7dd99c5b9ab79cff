/*
 * Overall access status and recommended action from the four details, as
 * the product derives them, and which details apply to which roles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "gpostate.h"
#include "strbuf.h"

static void all(struct ipam_access *a, enum ipam_access_status s)
{
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		ipam_access_set(a, (enum ipam_access_detail)d, s, "why");
}

static void test_applies(void **state)
{
	(void)state;
	assert_true(ipam_access_applies(IPAM_ACCESS_DHCP_RPC, IPAM_ROLE_DHCP));
	assert_false(ipam_access_applies(IPAM_ACCESS_DHCP_RPC, IPAM_ROLE_DNS));
	assert_false(ipam_access_applies(IPAM_ACCESS_DHCP_AUDIT_SHARE,
					 IPAM_ROLE_DC | IPAM_ROLE_DNS));
	assert_true(ipam_access_applies(IPAM_ACCESS_DNS_RPC, IPAM_ROLE_DNS));
	assert_false(ipam_access_applies(IPAM_ACCESS_DNS_RPC, IPAM_ROLE_DC));
	assert_true(ipam_access_applies(IPAM_ACCESS_EVENT_LOG, IPAM_ROLE_NPS));
	assert_true(ipam_access_applies(IPAM_ACCESS_EVENT_LOG, IPAM_ROLE_DC));
	assert_false(ipam_access_applies(IPAM_ACCESS_EVENT_LOG, 0));
}

static void test_settle(void **state)
{
	struct ipam_access a = {0};

	(void)state;
	/* A DC and DNS server, every detail Unblocked: DHCP ones drop out. */
	all(&a, IPAM_ACCESS_UNBLOCKED);
	ipam_access_settle(&a, IPAM_ROLE_DC | IPAM_ROLE_DNS,
			   IPAM_MANAGE_MANAGED);
	assert_int_equal(a.overall, IPAM_ACCESS_UNBLOCKED);
	assert_int_equal(a.detail[IPAM_ACCESS_DHCP_RPC].status,
			 IPAM_ACCESS_NOT_APPLICABLE);
	assert_null(a.detail[IPAM_ACCESS_DHCP_RPC].reason);
	assert_string_equal(ipam_access_action_name(a.action),
			    "IPAM Access Unblocked");

	/* One applicable Blocked makes it Blocked... */
	all(&a, IPAM_ACCESS_UNBLOCKED);
	ipam_access_set(&a, IPAM_ACCESS_EVENT_LOG, IPAM_ACCESS_BLOCKED,
			"access denied for IPAM1$");
	ipam_access_settle(&a, IPAM_ROLE_DHCP, IPAM_MANAGE_MANAGED);
	assert_int_equal(a.overall, IPAM_ACCESS_BLOCKED);
	assert_string_equal(ipam_access_action_name(a.action),
			    "Unblock IPAM Access");
	assert_string_equal(a.detail[IPAM_ACCESS_EVENT_LOG].reason,
			    "access denied for IPAM1$");

	/* ...one that does not apply does not. */
	all(&a, IPAM_ACCESS_UNBLOCKED);
	ipam_access_set(&a, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_BLOCKED, "x");
	ipam_access_settle(&a, IPAM_ROLE_DNS, IPAM_MANAGE_MANAGED);
	assert_int_equal(a.overall, IPAM_ACCESS_UNBLOCKED);

	/* Unblocked and Not checked together: Not checked. */
	all(&a, IPAM_ACCESS_UNBLOCKED);
	ipam_access_set(&a, IPAM_ACCESS_DNS_RPC, IPAM_ACCESS_NOT_CHECKED, NULL);
	ipam_access_settle(&a, IPAM_ROLE_DNS, IPAM_MANAGE_MANAGED);
	assert_int_equal(a.overall, IPAM_ACCESS_NOT_CHECKED);

	/* Unspecified servers: not probed, manageability to set. */
	ipam_access_release(&a);
	a = (struct ipam_access){0};
	ipam_access_settle(&a, IPAM_ROLE_DHCP, IPAM_MANAGE_UNSPECIFIED);
	assert_int_equal(a.overall, IPAM_ACCESS_NOT_CHECKED);
	assert_string_equal(ipam_access_action_name(a.action),
			    "Set Manageability Status");
	ipam_access_release(&a);
}

static void test_names(void **state)
{
	enum ipam_access_status s;
	enum ipam_access_action act;

	(void)state;
	for (int i = 0; i <= IPAM_ACCESS_NOT_APPLICABLE; i++) {
		assert_int_equal(ipam_access_status_parse(
					 ipam_access_status_name(
						 (enum ipam_access_status)i),
					 &s),
				 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(ipam_access_status_parse("unblocked", &s), -1);
	assert_int_equal(ipam_access_action_parse("Unblock IPAM Access", &act),
			 0);
	assert_int_equal(act, IPAM_ACCESS_ACTION_UNBLOCK);
	assert_string_equal(ipam_access_detail_key(IPAM_ACCESS_EVENT_LOG),
			    "event_log");
	assert_string_equal(ipam_access_detail_name(IPAM_ACCESS_DHCP_RPC),
			    "DHCP RPC");
}

/* provisioning.filtering: group -- why a Blocked server is blocked, from
 * its GPO's filter group. */
static void test_group_hints(void **state)
{
	struct ipam_gpo_state st = {0};
	struct ipam_gpo_obs *g = &st.gpos[IPAM_POL_GPO_DHCP];
	struct ipam_access a = {0};
	const char *sid = "S-1-5-21-1-2-3-1201";

	(void)state;
	st.server_found = st.ipamug.exists = st.ipamug.has_server = true;
	for (int k = 0; k < IPAM_GPO_COUNT; k++)
		st.gpos[k].kind = (enum ipam_pol_gpo)k;
	g->name = xstrdup("IPAM1_DHCP");
	g->exists = g->linked = true;
	g->fgroup.name = xstrdup("IPAM1_DHCP_Servers");
	g->fgroup.exists = g->fgroup.ace = g->fgroup.members_read = true;

	/* not a member yet */
	ipam_access_set(&a, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_BLOCKED,
			"RPC refused");
	ipam_access_hints(&a, IPAM_ROLE_DHCP, sid, &st);
	assert_string_equal(a.detail[IPAM_ACCESS_DHCP_RPC].reason,
			    "RPC refused; not a member of IPAM1_DHCP_Servers "
			    "(apply pending)");
	/* a member, still blocked: it has not picked the membership up */
	ipam_gpo_trustees_add(&g->fgroup.members, sid);
	ipam_access_set(&a, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_BLOCKED,
			"RPC refused");
	ipam_access_hints(&a, IPAM_ROLE_DHCP, sid, &st);
	assert_non_null(strstr(a.detail[IPAM_ACCESS_DHCP_RPC].reason,
			       "klist purge -li 0x3e7"));
	assert_non_null(strstr(a.detail[IPAM_ACCESS_DHCP_RPC].reason,
			       "a member of IPAM1_DHCP_Servers"));
	/* the group's ACE gone from the GPO */
	g->fgroup.ace = false;
	ipam_access_set(&a, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_BLOCKED, NULL);
	ipam_access_hints(&a, IPAM_ROLE_DHCP, sid, &st);
	assert_string_equal(a.detail[IPAM_ACCESS_DHCP_RPC].reason,
			    "group IPAM1_DHCP_Servers is not in the security "
			    "filtering of IPAM1_DHCP (apply pending)");
	ipam_access_release(&a);
	ipam_gpo_fgroup_release(&g->fgroup);
	free(g->name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_applies),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_group_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
