#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gpp.h"
#include "testutil.h"

#include "polgolden.h"

/* ---- GPP XML ------------------------------------------------------------ */

static void xmllint_ok(const char *path)
{
	struct run_result rr;
	char *argv[] = {"/usr/bin/xmllint", "--noout", (char *)path, NULL};

	assert_int_equal(run_cmd(&rr, NULL, NULL, argv), 0);
	if (rr.status != 0)
		fail_msg("xmllint rejects %s: %s", path, rr.err);
	run_result_free(&rr);
}

static void check_group(const struct ipam_gpp_item *it, const char *name,
			const char *sid, const char *gguid)
{
	char uid[39];
	char *key = xasprintf("Groups/%s", name);

	assert_string_equal(it->tag, "Group");
	assert_string_equal(it->clsid,
			    "{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}");
	assert_string_equal(it->name, name);
	assert_string_equal(it->changed, "2024-01-01 12:00:00");
	assert_int_equal(ipam_gpp_item_uid(uid, gguid, key), 0);
	assert_string_equal(it->uid, uid);
	assert_string_equal(it->action, "U");
	assert_string_equal(it->group_name, name);
	assert_string_equal(it->group_sid, sid);
	assert_false(it->delete_all_users);
	assert_false(it->delete_all_groups);
	assert_false(it->remove_accounts);
	assert_int_equal(it->nr_members, 1);
	assert_string_equal(it->members[0].name, IPAMUG_NAME);
	assert_string_equal(it->members[0].action, "ADD");
	assert_string_equal(it->members[0].sid, IPAMUG_SID);
	free(key);
}

static void test_gpp_golden(void **state)
{
	enum ipam_pol_gpo gpo;

	(void)state;
	for (gpo = IPAM_POL_GPO_DHCP; gpo <= IPAM_POL_GPO_DC_NPS; gpo++) {
		struct ipam_gpp_params p = params(gpo);
		struct strbuf out = STRBUF_INIT, sd = STRBUF_INIT;
		struct ipam_gpp_file f;
		char *path;

		assert_int_equal(ipam_gpp_groups_xml(&out, gpo, &p), 0);
		check_golden(gpo, "Groups.xml", &out);
		path = fixture_path(gpo, "Groups.xml");
		xmllint_ok(path);
		free(path);
		assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len), 0);
		assert_string_equal(f.root, "Groups");
		assert_string_equal(f.root_clsid,
				    "{3125E937-EB16-4b4c-9934-544FC6D24D26}");
		assert_int_equal(f.nr, gpo == IPAM_POL_GPO_DHCP ? 2 : 1);
		check_group(&f.items[0], IPAM_GPP_ELR_NAME, IPAM_GPP_ELR_SID,
			    gpo_guid[gpo]);
		if (gpo == IPAM_POL_GPO_DHCP)
			check_group(&f.items[1], IPAM_GPP_DHCP_USERS, "",
				    gpo_guid[gpo]);
		ipam_gpp_file_release(&f);

		strbuf_reset(&out);
		if (gpo != IPAM_POL_GPO_DHCP) {
			assert_int_equal(ipam_gpp_shares_xml(&out, gpo, &p),
					 IPAM_EINVAL);
		} else {
			assert_int_equal(ipam_gpp_shares_xml(&out, gpo, &p), 0);
			check_golden(gpo, "NetworkShares.xml", &out);
			path = fixture_path(gpo, "NetworkShares.xml");
			xmllint_ok(path);
			free(path);
			assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len),
					 0);
			assert_string_equal(f.root, "NetworkShareSettings");
			assert_int_equal(f.nr, 1);
			assert_string_equal(f.items[0].tag, "NetShare");
			assert_string_equal(f.items[0].name, "dhcpaudit");
			assert_string_equal(f.items[0].action, "U");
			assert_string_equal(f.items[0].share_path,
					    "%SystemRoot%\\System32\\dhcp");
			ipam_gpp_file_release(&f);
		}

		strbuf_reset(&out);
		if (gpo != IPAM_POL_GPO_DNS) {
			assert_int_equal(ipam_gpp_registry_xml(&out, gpo, &p),
					 IPAM_EINVAL);
		} else {
			assert_int_equal(ipam_gpp_registry_xml(&out, gpo, &p),
					 0);
			check_golden(gpo, "Registry.xml", &out);
			path = fixture_path(gpo, "Registry.xml");
			xmllint_ok(path);
			free(path);
			assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len),
					 0);
			assert_string_equal(f.root, "RegistrySettings");
			assert_int_equal(f.nr, 1);
			assert_string_equal(f.items[0].hive,
					    "HKEY_LOCAL_MACHINE");
			assert_string_equal(f.items[0].key,
					    IPAM_GPP_CUSTOMSD_KEY);
			assert_string_equal(f.items[0].value_name, "CustomSD");
			assert_string_equal(f.items[0].type, "REG_SZ");
			assert_int_equal(ipam_gpp_dns_customsd(&sd, IPAMUG_SID),
					 0);
			assert_string_equal(f.items[0].value, sd.buf);
			ipam_gpp_file_release(&f);
		}
		strbuf_release(&out);
		strbuf_release(&sd);
	}
}

static void test_gpp_customsd(void **state)
{
	struct strbuf sd = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_gpp_dns_customsd(&sd, "S-1-5-21-1-2-3-1105"), 0);
	assert_string_equal(
		sd.buf, "O:BAG:SYD:(A;;0xf0007;;;SY)(A;;0x7;;;BA)(A;;0x7;;;SO)"
			"(A;;0x3;;;IU)(A;;0x3;;;SU)(A;;0x3;;;S-1-5-3)"
			"(A;;0x3;;;S-1-5-33)(A;;0x1;;;S-1-5-32-573)"
			"(A;;0x1;;;S-1-5-21-1-2-3-1105)");
	assert_int_equal(ipam_gpp_dns_customsd(&sd, "S-1-5-(A;;GA;;;WD)"),
			 IPAM_EINVAL);
	strbuf_release(&sd);
}

static void test_gpp_escaping(void **state)
{
	struct ipam_gpp_params p = params(IPAM_POL_GPO_DC_NPS);
	struct strbuf out = STRBUF_INIT;
	struct ipam_gpp_file f;
	const char *nasty = "A&B<C>D\"E'F\xC3\xA9";

	(void)state;
	p.ipamug_name = nasty;
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p), 0);
	assert_non_null(strstr(out.buf, "name=\"A&amp;B&lt;C&gt;D&quot;E&apos;"
					"F\xC3\xA9\""));
	assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len), 0);
	assert_string_equal(f.items[0].members[0].name, nasty);
	ipam_gpp_file_release(&f);
	/* Control characters and bad UTF-8 are refused, output untouched. */
	strbuf_reset(&out);
	p.ipamug_name = "a\nb";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	assert_int_equal(out.len, 0);
	p.ipamug_name = "a\xFF";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	p.ipamug_name = IPAMUG_NAME;
	p.ipamug_sid = "S-1-5-21-x";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	p.ipamug_sid = IPAMUG_SID;
	p.gpo_guid = "5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A51";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void test_gpp_uid(void **state)
{
	char a[39], b[39], c[39], d[39];

	(void)state;
	assert_int_equal(ipam_gpp_item_uid(a, gpo_guid[0], "Groups/x"), 0);
	assert_int_equal(ipam_gpp_item_uid(b, gpo_guid[0], "Groups/x"), 0);
	assert_string_equal(a, b);
	assert_int_equal(ipam_gpp_item_uid(c, gpo_guid[1], "Groups/x"), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(ipam_gpp_item_uid(d, gpo_guid[0], "Groups/y"), 0);
	assert_string_not_equal(a, d);
	/* The GPO GUID's case does not matter. */
	assert_int_equal(
		ipam_gpp_item_uid(d, "{5c2a0b14-7e3d-4f61-9a8b-0c1d2e3f4a51}",
				  "Groups/x"),
		0);
	assert_string_equal(a, d);
	assert_int_equal(strlen(a), 38);
	assert_int_equal(a[15], '8'); /* version 8 */
	assert_int_equal(ipam_gpp_item_uid(d, "nope", "x"), IPAM_EINVAL);
}

static void test_gpp_reader(void **state)
{
	/* GPMC's shape with reordered attributes, whitespace, a comment,
	 * a BOM, single quotes, references, Filters and a User item. */
	static const char doc[] =
		"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
		"<!-- edited -->\n"
		"<Groups clsid=\"{3125E937-EB16-4b4c-9934-544FC6D24D26}\">\n"
		"  <Group uid='{U}' name=\"Event Log Readers (built-in)\" "
		"clsid=\"{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}\" "
		"image=\"2\">\n"
		"    <Properties groupName=\"Event Log Readers (built-in)\" "
		"action = \"U\" deleteAllUsers=\"1\" groupSid=\"S-1-5-32-573\">"
		"<Members><Member name=\"C&#x41;RP\\x\" action=\"ADD\" "
		"sid=\"S-1-5-21-1\"/><Member name=\"&#67;\" action=\"REMOVE\" "
		"sid=\"\"/></Members></Properties>\n"
		"    <Filters><FilterComputer name=\"X\"/></Filters>\n"
		"  </Group>\n"
		"  <User clsid=\"{DF5F1855-51E5-4d24-8B1A-D9BDE98BA1D1}\" "
		"name=\"Administrator (built-in)\"><Properties action=\"U\"/>"
		"</User>\n"
		"</Groups>\n";
	static const char *const bad[] = {
		"",
		"<Groups>",
		"<Groups></Group>",
		"<Groups a=\"1\" a=\"2\"/>",
		"<Groups a=\"&bogus;\"/>",
		"<Groups a=\"&#0;\"/>",
		"<Groups a=\"&#xD800;\"/>",
		"<Groups a=\"&#x110000;\"/>",
		"<!DOCTYPE x [<!ENTITY a \"b\">]><Groups/>",
		"<Groups/><Groups/>",
		"<Groups a=\"x/>",
		"<Groups a=x/>",
		"<Groups><![CDATA[x]]></Groups>",
		"<Groups><!-- unterminated </Groups>",
		"<Groups></Groups x=\"1\">",
	};
	struct ipam_gpp_file f;
	struct strbuf deep = STRBUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(ipam_gpp_parse(&f, doc, sizeof(doc) - 1), 0);
	assert_int_equal(f.nr, 2);
	assert_string_equal(f.items[0].uid, "{U}");
	assert_string_equal(f.items[0].action, "U");
	assert_true(f.items[0].delete_all_users);
	assert_null(f.items[0].changed);
	assert_int_equal(f.items[0].nr_members, 2);
	assert_string_equal(f.items[0].members[0].name, "CARP\\x");
	assert_string_equal(f.items[0].members[1].name, "C");
	assert_string_equal(f.items[0].members[1].action, "REMOVE");
	assert_string_equal(f.items[1].tag, "User");
	assert_int_equal(f.items[1].nr_members, 0);
	ipam_gpp_file_release(&f);
	ipam_gpp_file_release(NULL);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ipam_gpp_parse(&f, bad[i], strlen(bad[i]));

		if (rc != IPAM_EINVAL)
			fail_msg("accepted bad XML #%zu: %s", i, bad[i]);
		assert_null(f.items);
	}
	/* Every prefix of the document: no crash. */
	for (i = 0; i < sizeof(doc) - 1; i++)
		if (ipam_gpp_parse(&f, doc, i) == 0)
			ipam_gpp_file_release(&f);
	/* Nesting bound. */
	for (i = 0; i < 40; i++)
		strbuf_addstr(&deep, "<a>");
	assert_int_equal(ipam_gpp_parse(&f, deep.buf, deep.len), IPAM_EINVAL);
	strbuf_release(&deep);
}

/*
 * The first Properties of an item wins even when it has no action
 * attribute; a second one replaced (and leaked) its values (found by
 * tests/fuzz/fuzz_gpp).
 */
static void test_gpp_properties_twice(void **state)
{
	static const char doc[] =
		"<Groups><Group name=\"G\">"
		"<Properties groupName=\"first\" groupSid=\"S-1-5-32-573\"/>"
		"<Properties action=\"U\" groupName=\"second\"/>"
		"</Group></Groups>";
	struct ipam_gpp_file f;

	(void)state;
	assert_int_equal(ipam_gpp_parse(&f, doc, sizeof(doc) - 1), 0);
	assert_int_equal(f.nr, 1);
	assert_string_equal(f.items[0].group_name, "first");
	assert_string_equal(f.items[0].group_sid, "S-1-5-32-573");
	assert_null(f.items[0].action);
	ipam_gpp_file_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpp_golden),
		cmocka_unit_test(test_gpp_customsd),
		cmocka_unit_test(test_gpp_escaping),
		cmocka_unit_test(test_gpp_uid),
		cmocka_unit_test(test_gpp_reader),
		cmocka_unit_test(test_gpp_properties_twice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
