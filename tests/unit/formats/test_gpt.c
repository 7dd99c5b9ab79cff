#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gpt.h"
#include "testutil.h"

/* ---- GPT.INI, versions, extension names --------------------------------- */

static void test_gpt_ini(void **state)
{
	struct strbuf out = STRBUF_INIT;
	uint32_t v = 0;
	static const char samba[] = "[General]\r\nVersion=0\r\n";
	static const char gpmc[] = "\xEF\xBB\xBF[General]\r\ndisplayName=New "
				   "Group Policy Object\r\nVersion = 65539\r\n";

	(void)state;
	/* The exact bytes samba-tool gpo create writes (4.17 netcmd/gpo.py). */
	assert_int_equal(ipam_gpt_ini_write(&out, 0), 0);
	assert_string_equal(out.buf, samba);
	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ini_write(&out, 4294967295u), 0);
	assert_string_equal(out.buf, "[General]\r\nVersion=4294967295\r\n");
	assert_int_equal(ipam_gpt_ini_parse(&v, out.buf, out.len), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(ipam_gpt_ini_parse(&v, samba, strlen(samba)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ipam_gpt_ini_parse(&v, gpmc, strlen(gpmc)), 0);
	assert_int_equal(v, 65539);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[general]\nversion=7", 19), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[Other]\nVersion=7\n", 18),
			 IPAM_ENOTFOUND);
	assert_int_equal(ipam_gpt_ini_parse(&v, "", 0), IPAM_ENOTFOUND);
	assert_int_equal(
		ipam_gpt_ini_parse(&v, "[General]\nVersion=4294967296\n", 28),
		IPAM_EINVAL);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[General]\nVersion=-1\n", 20),
			 IPAM_EINVAL);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[General]\nVersion=\n", 18),
			 IPAM_EINVAL);
	assert_int_equal(
		ipam_gpt_ini_parse(&v, "[General]\nVersion=1\nVersion=2\n", 29),
		IPAM_EINVAL);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[General]\nVersion=1\0", 20),
			 IPAM_EINVAL);
	strbuf_release(&out);
}

static void test_gpt_version(void **state)
{
	(void)state;
	assert_int_equal(ipam_gpt_user_version(0x00030005u), 3);
	assert_int_equal(ipam_gpt_machine_version(0x00030005u), 5);
	assert_int_equal(ipam_gpt_bump_machine(0), 1);
	assert_int_equal(ipam_gpt_bump_machine(0x00030005u), 0x00030006u);
	assert_int_equal(ipam_gpt_bump_machine(0x0003FFFEu), 0x0003FFFFu);
	/* Wraparound skips 0 and keeps the user half. */
	assert_int_equal(ipam_gpt_bump_machine(0x0003FFFFu), 0x00030001u);
	assert_int_equal(ipam_gpt_bump_machine(0xFFFFFFFFu), 0xFFFF0001u);
}

static void test_gpt_ext(void **state)
{
	static const char *const t1[] = {
		"{D02B1F72-3407-48AE-BA88-E8213C6761F1}",
		"{b05566ac-fe9c-4368-be01-7a4cbb6cba11}",
		"{D02B1F72-3407-48ae-BA88-E8213C6761F1}", /* duplicate */
	};
	static const char *const t2[] = {
		"{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"};
	static const char *const t3[] = {
		"{0F6B957E-509E-11D1-A7CC-0000F87571E3}"};
	struct ipam_gpt_ext exts[] = {
		{"{35378EAC-683F-11D2-A89A-00C04FBBCFA2}", t1, 3},
		{"{17D89FEC-5C44-4972-B12D-241CAEF74509}", t2, 1},
		{"{35378eac-683f-11d2-a89a-00c04fbbcfa2}", t3, 1}, /* merged */
	};
	struct ipam_gpt_ext bad = {"{35378EAC-683F-11D2-A89A-00C04FBBCFA}", t2,
				   1};
	struct strbuf out = STRBUF_INIT;
	struct ipam_gpt_ext_list l;
	static const char *const bad_parse[] = {
		"[",
		"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}",
		"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72}]",
		"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}]x",
		"x",
		"[]",
	};
	size_t i;

	(void)state;
	assert_int_equal(ipam_gpt_ext_build(&out, exts, 3), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{0F6B957E-509E-11D1-A7CC-0000F87571E3}"
				     "{b05566ac-fe9c-4368-be01-7a4cbb6cba11}"
				     "{D02B1F72-3407-48AE-BA88-E8213C6761F1}]");
	assert_int_equal(ipam_gpt_ext_parse(&l, out.buf), 0);
	assert_int_equal(l.nr, 2);
	assert_int_equal(l.exts[1].nr_tools, 3);
	assert_string_equal(l.exts[1].tools[2],
			    "{D02B1F72-3407-48AE-BA88-E8213C6761F1}");
	ipam_gpt_ext_list_release(&l);
	ipam_gpt_ext_list_release(NULL);
	assert_int_equal(ipam_gpt_ext_parse(&l, ""), 0);
	assert_int_equal(l.nr, 0);
	for (i = 0; i < sizeof(bad_parse) / sizeof(bad_parse[0]); i++) {
		assert_int_equal(ipam_gpt_ext_parse(&l, bad_parse[i]),
				 IPAM_EINVAL);
		assert_null(l.exts);
	}
	assert_int_equal(ipam_gpt_ext_build(&out, &bad, 1), IPAM_EINVAL);

	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ext_for_gpo(&out, IPAM_POL_GPO_DHCP), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]"
				     "[{6A4C88C6-C502-4F74-8F60-2CB23EDC24E2}"
				     "{BFCBBEB0-9DF4-4C0C-A728-434EA66A0373}]");
	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ext_for_gpo(&out, IPAM_POL_GPO_DNS), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]"
				     "[{B087BE9D-ED37-454F-AF9C-04291E351182}"
				     "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]");
	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ext_for_gpo(&out, IPAM_POL_GPO_DC_NPS), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]");
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpt_ini),
		cmocka_unit_test(test_gpt_version),
		cmocka_unit_test(test_gpt_ext),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
