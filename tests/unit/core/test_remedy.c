/*
 * verify --remedy's PowerShell: each case rendered and compared with the
 * golden file beside this test (IPAM_REMEDY_REGEN=1 rewrites them), the
 * quoting of untrusted values checked piece by piece, and the firewall
 * rules it enables checked against the rules the GPOs carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "access.h"
#include "polfile.h"
#include "remedy.h"
#include "strbuf.h"
#include "testutil.h"

static char *golden_path(const char *name)
{
	return xasprintf("%s/../unit/core/remedy/%s", fixtures_dir(), name);
}

/* got must be the golden file name, byte for byte. */
static void check_golden(const char *name, const char *got)
{
	char *path = golden_path(name), *want;
	size_t len = 0;

	if (getenv("IPAM_REMEDY_REGEN"))
		assert_int_equal(write_file(path, got), 0);
	want = slurp(path, &len);
	if (!want)
		fail_msg("cannot read %s", path);
	if (len != strlen(got) || memcmp(want, got, len))
		fail_msg("%s differs; rendered:\n%s", path, got);
	free(want);
	free(path);
}

static char *render(const struct ipam_remedy_server *s)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_remedy_render(&sb, s);
	return strbuf_detach(&sb, NULL);
}

static char *quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_remedy_ps_quote(&sb, s);
	return strbuf_detach(&sb, NULL);
}

static void set(struct ipam_access *a, enum ipam_access_detail d,
		enum ipam_access_status st, const char *reason)
{
	ipam_access_set(a, d, st, reason);
}

/* A DHCP member server with every applicable detail Blocked. */
static void test_dhcp_all_blocked(void **state)
{
	struct ipam_access a = {0};
	struct ipam_remedy_server s = {
		.name = "dhcp1.corp.example.test",
		.domain = "corp.example.test",
		.netbios = "CORP",
		.roles = IPAM_ROLE_DHCP,
		.access = &a,
		.ipam_account = "IPAM1$",
		.by_gpo = true,
	};
	char *out;

	(void)state;
	set(&a, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_BLOCKED,
	    "access denied for IPAM1$");
	set(&a, IPAM_ACCESS_DHCP_AUDIT_SHARE, IPAM_ACCESS_BLOCKED,
	    "unreachable (connection refused on 445)");
	set(&a, IPAM_ACCESS_EVENT_LOG, IPAM_ACCESS_BLOCKED,
	    "timed out after 10 s");
	ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
	out = render(&s);
	check_golden("dhcp-all-blocked.ps1", out);
	/* a member server: local groups, never the AD cmdlets */
	assert_non_null(
		strstr(out, "Add-LocalGroupMember -Group 'DHCP Users'"));
	assert_non_null(
		strstr(out, "Add-LocalGroupMember -SID 'S-1-5-32-573'"));
	assert_null(strstr(out, "Add-ADGroupMember"));
	assert_null(strstr(out, "Get-ADGroup"));
	assert_null(strstr(out, "S-1-5-32-544"));
	/* Remote Service Management once, though two blocks want it */
	assert_non_null(strstr(out, "'RemoteSvcAdmin-In-TCP'"));
	assert_null(strstr(strstr(out, "'RemoteSvcAdmin-In-TCP'") + 1,
			   "'RemoteSvcAdmin-In-TCP'"));
	free(out);
	ipam_access_release(&a);
}

/* A DC and DNS server whose event log is Blocked: the domain's built-in
 * group, the DNS Server log's CustomSD; nothing for the DNS RPC. */
static void test_dc_dns_event_log(void **state)
{
	struct ipam_access a = {0};
	struct ipam_remedy_server s = {
		.name = "dc2.corp.example.test",
		.domain = "corp.example.test",
		.netbios = "CORP",
		.roles = IPAM_ROLE_DC | IPAM_ROLE_DNS,
		.is_dc = true,
		.access = &a,
		.ipam_account = "IPAM1$",
	};
	char *out;

	(void)state;
	set(&a, IPAM_ACCESS_DNS_RPC, IPAM_ACCESS_UNBLOCKED, NULL);
	set(&a, IPAM_ACCESS_EVENT_LOG, IPAM_ACCESS_BLOCKED,
	    "access denied for IPAM1$");
	ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
	out = render(&s);
	check_golden("dc-dns-event-log.ps1", out);
	assert_non_null(strstr(out, "Add-ADGroupMember -Identity "
				    "'S-1-5-32-573' -Members $ipamug"));
	assert_null(strstr(out, "Add-LocalGroupMember"));
	assert_null(strstr(out, "S-1-5-32-544")); /* never on a DC */
	assert_null(strstr(out, "# DNS RPC"));
	assert_null(strstr(out, "DNSSrv-RPC-TCP-In"));
	assert_non_null(strstr(out, "CustomSD"));
	/* the Windows default the GPO writes, less IPAMUG's ACE */
	assert_non_null(strstr(out, "'O:BAG:SYD:(A;;0xf0007;;;SY)"));
	assert_non_null(strstr(out, "(A;;0x1;;;S-1-5-32-573)' }"));
	free(out);
	ipam_access_release(&a);
}

/* A DC with DHCP and DNS, all Blocked: the domain's groups, the DNS
 * ACL for the DNS RPC, and the share granted to CORP\IPAMUG. */
static void test_dc_all_blocked(void **state)
{
	struct ipam_access a = {0};
	struct ipam_remedy_server s = {
		.name = "dc1.corp.example.test",
		.domain = "corp.example.test",
		.netbios = "CORP",
		.roles = IPAM_ROLE_DC | IPAM_ROLE_DNS | IPAM_ROLE_DHCP,
		.is_dc = true,
		.access = &a,
		.ipam_account = "IPAM1$",
		.by_gpo = true,
	};
	char *out;

	(void)state;
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		set(&a, (enum ipam_access_detail)d, IPAM_ACCESS_BLOCKED,
		    "access denied for IPAM1$");
	ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
	out = render(&s);
	check_golden("dc-all-blocked.ps1", out);
	assert_non_null(strstr(out, "Add-ADGroupMember -Identity "
				    "'DHCP Users' -Members $ipamug"));
	assert_non_null(strstr(out, "'AD:CN=MicrosoftDNS,CN=System,'"));
	assert_null(strstr(out, "Add-LocalGroupMember"));
	assert_null(strstr(out, "S-1-5-32-544"));
	free(out);
	ipam_access_release(&a);
}

/* A DNS server that is not a DC: local Administrators, as the product
 * documents; no NetBIOS name known, so the member name comes from AD. */
static void test_dns_not_dc(void **state)
{
	struct ipam_access a = {0};
	struct ipam_remedy_server s = {
		.name = "dns3.corp.example.test",
		.domain = "corp.example.test",
		.roles = IPAM_ROLE_DNS,
		.access = &a,
		.ipam_account = "IPAM1$",
	};
	char *out;

	(void)state;
	set(&a, IPAM_ACCESS_DNS_RPC, IPAM_ACCESS_BLOCKED,
	    "a DNS server that is not a DC needs local Administrators");
	set(&a, IPAM_ACCESS_EVENT_LOG, IPAM_ACCESS_NOT_CHECKED,
	    "timed out after 10 s");
	ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
	out = render(&s);
	check_golden("dns-not-dc.ps1", out);
	assert_non_null(strstr(out, "Add-LocalGroupMember -SID "
				    "'S-1-5-32-544' -Member $member"));
	assert_non_null(strstr(out, "Restart-Service -Name 'DNS'"));
	assert_non_null(strstr(out, "$member = $ipamug.SID.Translate("));
	assert_null(strstr(out, "MicrosoftDNS"));
	free(out);
	ipam_access_release(&a);
}

/* Names from AD with a quote, a newline and a bidi control in them:
 * quoted in code, escaped in comments; nothing breaks out. */
static void test_hostile_names(void **state)
{
	struct ipam_access a = {0};
	struct ipam_remedy_server s = {
		.name = "o'hara\n\xe2\x80\xaeRemove-Item "
			"C:\\.corp.example.test",
		.domain = "corp.example.test'; Stop-Computer; '",
		.netbios = "CO'RP",
		.roles = IPAM_ROLE_DHCP,
		.access = &a,
		.ipam_account = "IPAM1$\r\nx",
	};
	char *out;

	(void)state;
	set(&a, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_UNBLOCKED, NULL);
	set(&a, IPAM_ACCESS_DHCP_AUDIT_SHARE, IPAM_ACCESS_BLOCKED,
	    "logon failure\n$(evil)");
	set(&a, IPAM_ACCESS_EVENT_LOG, IPAM_ACCESS_UNBLOCKED, NULL);
	ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
	out = render(&s);
	check_golden("hostile-names.ps1", out);
	assert_non_null(strstr(out,
			       "$domain = 'corp.example.test''; Stop-Computer; "
			       "'''\n"));
	assert_non_null(strstr(out, "$member = 'CO''RP\\IPAMUG'\n"));
	assert_non_null(strstr(out, "# o'hara\\n\\u202eRemove-Item"));
	assert_non_null(strstr(out, "(logon failure\\n$(evil))"));
	assert_non_null(strstr(out, "account IPAM1$\\r\\nx.\n"));
	/* every line is a comment or one of the commands it should be */
	for (char *line = out; *line;) {
		char *nl = strchr(line, '\n');

		assert_non_null(nl);
		assert_true(nl == line || line[0] == '#' || line[0] == '$' ||
			    line[0] == '\t' || line[0] == '}' ||
			    !strncmp(line, "if ", 3) ||
			    !strncmp(line, "Enable-", 7));
		line = nl + 1;
	}
	free(out);
	ipam_access_release(&a);
}

static void test_quote(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"", "''"},
		{NULL, "''"},
		{"CORP\\IPAMUG", "'CORP\\IPAMUG'"},
		{"it's", "'it''s'"},
		{"'", "''''"},
		{"$(x) `y` \"z\"", "'$(x) `y` \"z\"'"},
		{"a\nb", "('a' + [char]0x000A + 'b')"},
		{"\t", "([char]0x0009)"},
		{"x\x7f", "('x' + [char]0x007F)"},
		/* the typographic quotes also end a PowerShell string */
		{"a\xe2\x80\x99;b", "('a' + [char]0x2019 + ';b')"},
		{"\xe2\x80\x98", "([char]0x2018)"},
		/* not UTF-8 */
		{"a\xffz", "('a' + [char]0xFFFD + 'z')"},
		{"caf\xc3\xa9", "'caf\xc3\xa9'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = quote(cases[i].in);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

/* Unblocked: one comment line; not checked: one line too. */
static void test_one_liners(void **state)
{
	struct ipam_access a = {0};
	struct ipam_remedy_server s = {
		.name = "dhcp1.corp.example.test",
		.domain = "corp.example.test",
		.roles = IPAM_ROLE_DHCP,
		.access = &a,
	};
	char *out;

	(void)state;
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		set(&a, (enum ipam_access_detail)d, IPAM_ACCESS_UNBLOCKED,
		    NULL);
	ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
	out = render(&s);
	assert_string_equal(out, "# dhcp1.corp.example.test: IPAM access "
				 "Unblocked, nothing to do\n");
	free(out);
	s.access = NULL;
	out = render(&s);
	assert_string_equal(out, "# dhcp1.corp.example.test: IPAM access Not "
				 "checked: ipamctl verify first\n");
	free(out);
	ipam_access_release(&a);
}

/*
 * The remedy enables exactly the rules the GPOs carry: render every
 * detail Blocked for each role and look for each GPO rule's id.
 */
static void test_firewall_rules_are_the_gpos(void **state)
{
	static const struct {
		enum ipam_pol_gpo gpo;
		unsigned roles;
	} gpos[] = {
		{IPAM_POL_GPO_DHCP, IPAM_ROLE_DHCP},
		{IPAM_POL_GPO_DNS, IPAM_ROLE_DNS},
		{IPAM_POL_GPO_DC_NPS, IPAM_ROLE_NPS},
	};

	(void)state;
	for (size_t g = 0; g < sizeof(gpos) / sizeof(gpos[0]); g++) {
		struct ipam_access a = {0};
		struct ipam_remedy_server s = {
			.name = "x.corp.example.test",
			.domain = "corp.example.test",
			.netbios = "CORP",
			.roles = gpos[g].roles,
			.access = &a,
		};
		const struct ipam_fw_rule *const *rules;
		size_t nr, enabled = 0;
		char *out, *p;

		for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
			set(&a, (enum ipam_access_detail)d, IPAM_ACCESS_BLOCKED,
			    NULL);
		ipam_access_settle(&a, s.roles, IPAM_MANAGE_MANAGED);
		out = render(&s);
		rules = ipam_pol_fw_rules(gpos[g].gpo, &nr);
		for (size_t i = 0; i < nr; i++) {
			char *want = xasprintf("'%s'", rules[i]->id);

			if (!strstr(out, want))
				fail_msg("%s not enabled for %s", rules[i]->id,
					 ipam_pol_gpo_suffix(gpos[g].gpo));
			free(want);
		}
		/* and nothing else: count the ids it enables */
		for (p = out; (p = strstr(p, "Enable-NetFirewallRule")); p++)
			for (char *q = p; *q && *q != '\n'; q++)
				enabled += *q == ',';
		for (p = out; (p = strstr(p, "Enable-NetFirewallRule")); p++)
			enabled++;
		assert_int_equal(enabled, nr);
		free(out);
		ipam_access_release(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp_all_blocked),
		cmocka_unit_test(test_dc_dns_event_log),
		cmocka_unit_test(test_dc_all_blocked),
		cmocka_unit_test(test_dns_not_dc),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_one_liners),
		cmocka_unit_test(test_firewall_rules_are_the_gpos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
