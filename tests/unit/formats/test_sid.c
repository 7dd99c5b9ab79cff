#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "sid.h"
#include "strbuf.h"
#include "testutil.h"

#define DOMSID "S-1-5-21-1007883843-2278064255-3487682541"
#define APPLY  "edacfd8f-ffb3-11d1-b41d-00a0c968f939"

static struct ipam_sid domsid(void)
{
	struct ipam_sid sid;

	assert_int_equal(ipam_sid_parse(&sid, DOMSID, NULL), 0);
	return sid;
}

static void test_sid(void **state)
{
	static const unsigned char au_bin[] = {1, 1, 0,	 0, 0, 0,
					       0, 5, 11, 0, 0, 0};
	struct ipam_sid dom = domsid(), s, t;
	struct strbuf sb = STRBUF_INIT;
	size_t used;

	(void)state;
	assert_int_equal(ipam_sid_parse(&s, "AU", NULL), 0);
	ipam_sid_to_bin(&sb, &s);
	assert_int_equal(sb.len, sizeof(au_bin));
	assert_memory_equal(sb.buf, au_bin, sizeof(au_bin));
	assert_int_equal(ipam_sid_from_bin(&t, &used, au_bin, sizeof(au_bin)),
			 0);
	assert_int_equal(used, 12);
	assert_true(ipam_sid_equal(&s, &t));
	assert_int_equal(ipam_sid_from_bin(&t, NULL, au_bin, 11), IPAM_EINVAL);
	strbuf_reset(&sb);

	assert_int_equal(ipam_sid_parse(&s, "DA", &dom), 0);
	ipam_sid_format(&sb, &s);
	assert_string_equal(sb.buf, DOMSID "-512");
	strbuf_reset(&sb);
	ipam_sid_to_sddl(&sb, &s, &dom);
	assert_string_equal(sb.buf, "DA");
	strbuf_reset(&sb);
	ipam_sid_to_sddl(&sb, &s, NULL);
	assert_string_equal(sb.buf, DOMSID "-512");
	strbuf_reset(&sb);
	assert_int_equal(ipam_sid_parse(&s, "EA", &dom), 0);
	assert_int_equal(s.sub[s.sub_count - 1], 519);
	assert_int_equal(ipam_sid_parse(&s, "DU", NULL), IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "S-1-5-32-554", NULL), 0);
	ipam_sid_to_sddl(&sb, &s, NULL);
	assert_string_equal(sb.buf, "RU");
	strbuf_reset(&sb);
	assert_int_equal(ipam_sid_parse(&s, "S-1-281474976710655-5", NULL), 0);
	ipam_sid_format(&sb, &s);
	assert_string_equal(sb.buf, "S-1-0xffffffffffff-5");
	strbuf_reset(&sb);
	assert_int_equal(ipam_sid_parse(&t, "S-1-0xffffffffffff-5", NULL), 0);
	assert_true(ipam_sid_equal(&s, &t));
	assert_int_equal(ipam_sid_parse(&s, "S-1-0", NULL), 0);
	assert_int_equal(s.sub_count, 0);
	assert_int_equal(ipam_sid_parse(&s,
					"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-"
					"13-14-15",
					NULL),
			 0);
	assert_int_equal(ipam_sid_append_rid(&t, &s, 1), IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s,
					"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-"
					"13-14-15-16",
					NULL),
			 IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "S-2-5", NULL), IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "S-1-5-", NULL), IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "S-1-5-4294967296", NULL),
			 IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "S-1-281474976710656", NULL),
			 IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "XX", NULL), IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "A", NULL), IPAM_EINVAL);
	assert_int_equal(ipam_sid_parse(&s, "", NULL), IPAM_EINVAL);
	strbuf_release(&sb);
}

static void test_guid(void **state)
{
	static const unsigned char wire[16] = {
		0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11,
		0xb4, 0x1d, 0x00, 0xa0, 0xc9, 0x68, 0xf9, 0x39};
	struct ipam_guid g;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_guid_parse(&g, APPLY), 0);
	assert_memory_equal(g.b, wire, 16);
	assert_int_equal(
		ipam_guid_parse(&g, "{EDACFD8F-FFB3-11D1-B41D-00A0C968F939}"),
		0);
	assert_memory_equal(g.b, wire, 16);
	ipam_guid_format(&sb, &g);
	assert_string_equal(sb.buf, APPLY);
	assert_int_equal(
		ipam_guid_parse(&g, "edacfd8f-ffb3-11d1-b41d-00a0c968f93"),
		IPAM_EINVAL);
	assert_int_equal(
		ipam_guid_parse(&g, "edacfd8fxffb3-11d1-b41d-00a0c968f939"),
		IPAM_EINVAL);
	assert_int_equal(
		ipam_guid_parse(&g, "edacfd8f-ffb3-11d1-b41d-00a0c968f9g9"),
		IPAM_EINVAL);
	strbuf_release(&sb);
}

static void test_sid_prefix(void **state)
{
	struct ipam_sid dom = domsid(), s;
	const char *end;

	(void)state;
	assert_int_equal(ipam_sid_parse_prefix(&s, "S-1-5-11)x", &end, NULL),
			 0);
	assert_string_equal(end, ")x");
	assert_int_equal(s.sub_count, 1);
	assert_int_equal(ipam_sid_size(&s), 12);
	assert_int_equal(ipam_sid_parse_prefix(&s, "DA)", &end, &dom), 0);
	assert_string_equal(end, ")");
	assert_int_equal(s.sub_count, 5);
	assert_int_equal(ipam_sid_size(&s), 28);
	/* "S-1-5-" : the dash without a number is not part of the SID */
	assert_int_equal(ipam_sid_parse_prefix(&s, "S-1-5-", &end, NULL), 0);
	assert_string_equal(end, "-");
	assert_int_equal(ipam_sid_parse_prefix(&s, "ZZ", &end, NULL),
			 IPAM_EINVAL);
	/* A hex authority is exactly 12 digits: what follows a SID in
	 * SDDL may be a hex digit ("D:"). */
	assert_int_equal(
		ipam_sid_parse_prefix(&s, "S-1-0x0002540be3ffD:AI", &end, NULL),
		0);
	assert_string_equal(end, "D:AI");
	assert_true(s.authority == 9999999999ull && s.sub_count == 0);
	assert_int_equal(ipam_sid_parse(&s, "S-1-0x2540be3ff", NULL),
			 IPAM_EINVAL);
}

static void test_sid_text_valid(void **state)
{
	static const char *const good[] = {
		"S-1-5-32-573",
		"S-1-5-21-1004336348-1177238915-682003330-1105",
		"S-1-0",
		"S-1-5-4294967295",
		"S-1-4294967295-1",
		"S-1-0x000100000000-1",
		"S-1-0xffffffffffff-5",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
	};
	static const char *const bad[] = {
		"",
		"S-1",
		"S-1-",
		"S-1-5-",
		"S-1-5--1",
		"s-1-5-32",		/* lower-case s */
		"S-01-5",		/* leading zero */
		"S-1-05-32",		/* leading zero */
		"S-1-5-032",		/* leading zero */
		"S-1-5-4294967296",	/* > 2^32 - 1 */
		"S-1-5-9999999999",	/* 10 digits, out of range */
		"S-1-0x000000000005-1", /* hex below 2^32 */
		"S-1-0xFFFFFFFFFFFF-5", /* hex is lower case */
		"S-1-281474976710655",	/* decimal at or above 2^32 */
		"S-1-0x1000000000000",	/* > 48 bits */
		"S-2-5",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
		"AU", /* aliases are SDDL, not SID text */
		"S-1-5-32-573 ",
		" S-1-5-32-573",
		"S-1-+5",
	};
	size_t i;

	(void)state;
	assert_false(ipam_sid_text_valid(NULL));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ipam_sid_text_valid(good[i]))
			fail_msg("'%s' should be valid", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ipam_sid_text_valid(bad[i]))
			fail_msg("'%s' should be invalid", bad[i]);
}

static void test_guid_text(void **state)
{
	struct ipam_guid g;
	struct strbuf sb = STRBUF_INIT;
	static const uint8_t text[16] = {0xed, 0xac, 0xfd, 0x8f, 0xff, 0xb3,
					 0x11, 0xd1, 0xb4, 0x1d, 0x00, 0xa0,
					 0xc9, 0x68, 0xf9, 0x39};
	struct ipam_guid h;

	(void)state;
	assert_int_equal(ipam_guid_parse(&g, APPLY), 0);
	ipam_guid_from_text_bytes(&h, text);
	assert_memory_equal(g.b, h.b, 16);
	ipam_guid_format_as(&sb, &g, 0);
	assert_string_equal(sb.buf, APPLY);
	strbuf_reset(&sb);
	ipam_guid_format_as(&sb, &g, IPAM_GUID_BRACES);
	assert_string_equal(sb.buf, "{" APPLY "}");
	strbuf_reset(&sb);
	ipam_guid_format_as(&sb, &g, IPAM_GUID_UPPER);
	assert_string_equal(sb.buf, "EDACFD8F-FFB3-11D1-B41D-00A0C968F939");
	strbuf_reset(&sb);
	ipam_guid_format_as(&sb, &g, IPAM_GUID_BRACES | IPAM_GUID_UPPER);
	assert_string_equal(sb.buf, "{EDACFD8F-FFB3-11D1-B41D-00A0C968F939}");
	assert_true(ipam_guid_text_valid(sb.buf, true));
	assert_false(ipam_guid_text_valid(sb.buf, false));
	strbuf_release(&sb);

	assert_true(ipam_guid_text_valid(APPLY, false));
	assert_false(ipam_guid_text_valid(APPLY, true));
	/* GPMC writes mixed case: both cases are syntax */
	assert_true(ipam_guid_text_valid(
		"{3125E937-EB16-4b4c-9934-544FC6D24D26}", true));
	assert_false(ipam_guid_text_valid(NULL, false));
	assert_false(ipam_guid_text_valid("", false));
	assert_false(ipam_guid_text_valid("{}", true));
	assert_false(ipam_guid_text_valid(
		"{EDACFD8F-FFB3-11D1-B41D-00A0C968F939", true));
	assert_false(ipam_guid_text_valid(
		"EDACFD8F-FFB3-11D1-B41D-00A0C968F939}", true));
	assert_false(ipam_guid_text_valid(
		"{EDACFD8F-FFB3-11D1-B41D-00A0C968F93}}", true));
	assert_false(ipam_guid_text_valid(
		"{EDACFD8FFFFB3-11D1-B41D-00A0C968F939}", true));
	assert_false(ipam_guid_text_valid(
		"{EDACFD8F-FFB3-11D1-B41D-00A0C968F9G9}", true));
	assert_false(ipam_guid_text_valid(
		"{EDACFD8F-FFB3-11D1-B41D-00A0C968F939}x", true));
	assert_false(ipam_guid_text_valid(
		"edacfd8f-ffb3-11d1-b41d-00a0c968f939 ", false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sid),
		cmocka_unit_test(test_sid_prefix),
		cmocka_unit_test(test_sid_text_valid),
		cmocka_unit_test(test_guid),
		cmocka_unit_test(test_guid_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
