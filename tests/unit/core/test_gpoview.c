/*
 * The observed GPO state in words: the `gpo show -o json` tree and the
 * lines that say what a settings file holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpostate.h"
#include "gpoview.h"
#include "node.h"
#include "polfile.h"
#include "strbuf.h"

static const struct ipam_node *get(const struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key))
			return m->items[i];
	fail_msg("no key '%s'", key);
	return NULL;
}

static void test_to_node(void **state)
{
	struct ipam_gpo_state *st = xcalloc(1, sizeof(*st));
	struct ipam_node *n;
	const struct ipam_node *gpos, *g, *x;
	static const char *const names[] = {"IPAM1_DHCP", "IPAM1_DNS",
					    "IPAM1_DC_NPS"};

	(void)state;
	st->domain = xstrdup("corp.example.test");
	st->domain_dn = xstrdup("DC=corp,DC=example,DC=test");
	st->domain_sid = xstrdup("S-1-5-21-1-2-3");
	st->netbios = xstrdup("CORP");
	st->dc = xstrdup("dc1");
	st->ipam_server = xstrdup("ipam1.corp.example.test");
	st->gplink = xstrdup("");
	st->ipamug.exists = true;
	st->ipamug.members = xcalloc(1, sizeof(char *));
	st->ipamug.members[0] = xstrdup("CN=ipam1,CN=Computers,DC=corp");
	st->ipamug.nr_members = 1;
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		st->gpos[k].kind = (enum ipam_pol_gpo)k;
		st->gpos[k].name = xstrdup(names[k]);
	}
	st->gpos[1].exists = true;
	st->gpos[1].guid = xstrdup("{G}");
	st->gpos[1].dn = xstrdup("CN={G}");
	st->gpos[1].machine_ext = xstrdup("");
	st->gpos[1].linked = true;
	st->gpos[1].link_options = 2;
	n = ipam_gpoview_to_node(st);
	assert_string_equal(get(n, "domain")->str, "corp.example.test");
	/* Unknowns are nulls, not missing keys. */
	assert_int_equal(get(get(n, "ipamServer"), "dn")->kind, IPAM_NODE_NULL);
	assert_int_equal(get(get(n, "ipamug"), "members")->nr, 1);
	gpos = get(n, "gpos");
	assert_int_equal(gpos->nr, 3);
	/* An absent GPO says only that. */
	g = gpos->items[0];
	assert_string_equal(get(g, "role")->str, "dhcp");
	assert_false(get(g, "exists")->boolean);
	assert_int_equal(g->nr, 3);
	g = gpos->items[1];
	assert_string_equal(get(g, "role")->str, "dns");
	x = get(g, "link");
	assert_true(get(x, "linked")->boolean);
	assert_true(get(x, "enabled")->boolean);
	assert_true(get(x, "enforced")->boolean);
	assert_int_equal(get(get(g, "version"), "gptIni")->kind,
			 IPAM_NODE_NULL);
	assert_string_equal(get(gpos->items[2], "role")->str, "dc_nps");
	ipam_node_free(n);
	ipam_gpo_state_free(st);
}

static void test_content_pol(void **state)
{
	struct ipam_pol pol = IPAM_POL_INIT;
	struct ipam_gpo_file_state f = {0};
	struct strbuf b = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_pol_add_dword(&pol, "Software\\X", "On", 258), 0);
	assert_int_equal(ipam_pol_add_sz(&pol, "Software\\X", "Name",
					 IPAM_POL_SZ, "ipam"),
			 0);
	assert_int_equal(ipam_pol_write(&b, &pol), 0);
	f.path = "Machine\\Registry.pol";
	ipam_gpoview_file_content(&f, b.buf, b.len);
	assert_int_equal(f.nr_content, 2);
	assert_string_equal(f.content[0], "Software\\X\\On = 258");
	assert_string_equal(f.content[1], "Software\\X\\Name = ipam");
	assert_null(f.content[2]);
	ipam_gpo_file_content_release(&f);
	/* What does not parse says so. */
	ipam_gpoview_file_content(&f, "junk", 4);
	assert_true(f.nr_content >= 1);
	assert_non_null(strstr(f.content[0], "unreadable: "));
	ipam_gpo_file_content_release(&f);
	ipam_pol_release(&pol);
	strbuf_release(&b);
}

static void test_content_gpp(void **state)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>"
		"<NetworkShareSettings clsid=\"{520870D8-A6E7-47e8-A8D8-"
		"E6A4E76EAEC2}\"><NetShare clsid=\"{2888C5E7-94FC-4739-90AA-"
		"2C1536D68BC0}\" name=\"dhcpaudit\"><Properties action=\"U\" "
		"name=\"dhcpaudit\" path=\"C:\\dhcp\"/></NetShare>"
		"</NetworkShareSettings>";
	struct ipam_gpo_file_state f = {0};

	(void)state;
	f.path = "Machine\\Preferences\\NetworkShares\\NetworkShares.xml";
	ipam_gpoview_file_content(&f, xml, sizeof(xml) - 1);
	assert_int_equal(f.nr_content, 1);
	assert_string_equal(f.content[0], "share dhcpaudit (U): C:\\dhcp");
	ipam_gpo_file_content_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_node),
		cmocka_unit_test(test_content_pol),
		cmocka_unit_test(test_content_gpp),
	};

	return cmocka_run_group_tests_name("gpoview", tests, NULL, NULL);
}
