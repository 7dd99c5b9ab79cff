/* Security templates (GptTmpl.inf): the golden file, Samba's parser as an
 * oracle, what Restricted Groups do to IPAM's groups, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "secedit.h"
#include "testutil.h"
#include "utf8.h"

#define DOM	    "S-1-5-21-1004336348-1177238915-682003330"
#define IPAMUG_SID  DOM "-1105"
#define IPAMUG_NAME "CORP\\IPAMUG"

static char *golden_path(void)
{
	return xasprintf("%s/secedit/GptTmpl.inf", fixtures_dir());
}

/* The golden template, built through the API. */
static void golden_model(struct ipam_inf *inf)
{
	ipam_inf_init_template(inf);
	ipam_inf_set(inf, "Group Membership", "*S-1-5-32-573__Memberof", "");
	ipam_inf_set(inf, "Group Membership", "*S-1-5-32-573__Members",
		     "*" DOM "-500");
	ipam_inf_set(inf, "Group Membership", "DHCP Users__Members",
		     "CORP\\IPAMUG,CORP\\dhcpadmins");
	ipam_inf_set(inf, "Group Membership", "*" IPAMUG_SID "__Memberof",
		     "*S-1-5-32-573");
	ipam_inf_set(inf, "Registry Values",
		     "MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\"
		     "LimitBlankPasswordUse",
		     "4,1");
}

static void test_golden(void **state)
{
	struct ipam_inf inf, model;
	struct strbuf out = STRBUF_INIT;
	char *path = golden_path();
	size_t len;
	char *bytes = slurp(path, &len);

	(void)state;
	assert_non_null(bytes);
	assert_int_equal(ipam_inf_parse(&inf, bytes, len), 0);
	assert_int_equal(inf.nr, 8);
	assert_string_equal(ipam_inf_get(&inf, "unicode", "UNICODE"), "yes");
	assert_string_equal(ipam_inf_get(&inf, "Version", "signature"),
			    "\"$CHICAGO$\"");
	assert_string_equal(ipam_inf_get(&inf, "Version", "Revision"), "1");
	assert_string_equal(ipam_inf_get(&inf, "Group Membership",
					 "*S-1-5-32-573__Memberof"),
			    "");
	assert_string_equal(
		ipam_inf_get(&inf, "Group Membership", "DHCP Users__Members"),
		"CORP\\IPAMUG,CORP\\dhcpadmins");
	assert_int_equal(inf.e[4].line, 8);

	/* Writing what was read gives the same bytes ... */
	assert_int_equal(ipam_inf_write(&out, &inf), 0);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.buf, bytes, len);
	/* ... and so does building it through the API. */
	golden_model(&model);
	strbuf_reset(&out);
	assert_int_equal(ipam_inf_write(&out, &model), 0);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.buf, bytes, len);

	ipam_inf_release(&inf);
	ipam_inf_release(&model);
	strbuf_release(&out);
	free(bytes);
	free(path);
}

/* Samba's own template parser reads the golden file the way we do. */
static const char samba_oracle[] =
	"import sys\n"
	"from samba.gp_parse.gp_inf import GptTmplInfParser\n"
	"p = GptTmplInfParser()\n"
	"p.parse(open(sys.argv[1], 'rb').read())\n"
	"for k, v in p.sections['Group Membership'].param_list:\n"
	"    sys.stdout.write('%s|%s\\n' % ('__'.join(k), ','.join(v)))\n"
	"for v in p.sections['Registry Values'].param_list:\n"
	"    sys.stdout.write('%s\\n' % v)\n";

static void test_samba_oracle(void **state)
{
	struct ipam_inf inf;
	struct strbuf want = STRBUF_INIT;
	struct run_result rr;
	char *path = golden_path();
	char *argv[] = {"/usr/bin/python3", "-c", (char *)samba_oracle, path,
			NULL};
	size_t len;
	char *bytes = slurp(path, &len);

	(void)state;
	assert_int_equal(ipam_inf_parse(&inf, bytes, len), 0);
	for (size_t i = 0; i < inf.nr; i++)
		if (!strcmp(inf.e[i].section, "Group Membership"))
			strbuf_addf(&want, "%s|%s\n", inf.e[i].key,
				    inf.e[i].value);
	for (size_t i = 0; i < inf.nr; i++)
		if (!strcmp(inf.e[i].section, "Registry Values"))
			strbuf_addf(&want, "%s=%s\n", inf.e[i].key,
				    inf.e[i].value);
	assert_int_equal(run_cmd(&rr, NULL, NULL, argv), 0);
	if (rr.status != 0)
		fail_msg("samba oracle failed: %s", rr.err);
	assert_string_equal(rr.out, want.buf);
	run_result_free(&rr);
	ipam_inf_release(&inf);
	strbuf_release(&want);
	free(bytes);
	free(path);
}

static void conflicts_of(struct strbuf *out, const char *text, const char *sid,
			 const char *name)
{
	struct ipam_inf inf;

	strbuf_reset(out);
	assert_int_equal(ipam_inf_parse(&inf, text, strlen(text)), 0);
	ipam_inf_ipam_conflicts(out, &inf, sid, name);
	ipam_inf_release(&inf);
}

static void test_conflicts(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct ipam_inf inf;
	char *path = golden_path();
	size_t len;
	char *bytes = slurp(path, &len);

	(void)state;
	/* The golden file empties Event Log Readers but keeps IPAMUG in
	 * DHCP Users (by name); IPAMUG's own Memberof line is additive. */
	assert_int_equal(ipam_inf_parse(&inf, bytes, len), 0);
	ipam_inf_ipam_conflicts(&out, &inf, IPAMUG_SID, IPAMUG_NAME);
	assert_string_equal(out.buf,
			    "line 8: Restricted Groups replace the members of "
			    "Event Log Readers (S-1-5-32-573) without IPAMUG");
	ipam_inf_release(&inf);

	/* Samba-style text: UTF-8, spaces everywhere, a name for the group. */
	conflicts_of(&out,
		     "[Group Membership]\n"
		     "Event Log Readers__Members = *" IPAMUG_SID ", *" DOM
		     "-500\n"
		     "dhcp users__members = \n",
		     IPAMUG_SID, IPAMUG_NAME);
	assert_string_equal(out.buf,
			    "line 3: Restricted Groups replace the members of "
			    "DHCP Users without IPAMUG");
	/* IPAMUG named without its domain; other groups are not ours. */
	conflicts_of(&out,
		     "[Group Membership]\r\n"
		     "BUILTIN\\Event Log Readers__Members = IPAMUG\r\n"
		     "*S-1-5-32-544__Members = *" DOM "-500\r\n",
		     IPAMUG_SID, IPAMUG_NAME);
	assert_string_equal(out.buf, "");
	/* Without a SID to match, only names count. */
	conflicts_of(&out,
		     "[Group Membership]\n*S-1-5-32-573__Members = *" IPAMUG_SID
		     "\n",
		     NULL, IPAMUG_NAME);
	assert_true(strstr(out.buf, "Event Log Readers") != NULL);
	/* Appended after what out holds, without a leading separator. */
	{
		struct ipam_inf inf2;
		const char *t = "[Group Membership]\n"
				"*S-1-5-32-573__Members =\n"
				"DHCP Users__Members = x\n";

		strbuf_reset(&out);
		strbuf_addstr(&out, "template: ");
		assert_int_equal(ipam_inf_parse(&inf2, t, strlen(t)), 0);
		ipam_inf_ipam_conflicts(&out, &inf2, IPAMUG_SID, IPAMUG_NAME);
		assert_string_equal(
			out.buf,
			"template: line 2: Restricted Groups replace the "
			"members of Event Log Readers (S-1-5-32-573) without "
			"IPAMUG; line 3: Restricted Groups replace the members "
			"of DHCP Users without IPAMUG");
		ipam_inf_release(&inf2);
	}
	/* Outside [Group Membership] nothing counts. */
	conflicts_of(&out, "[System Access]\n*S-1-5-32-573__Members =\n",
		     IPAMUG_SID, IPAMUG_NAME);
	assert_string_equal(out.buf, "");
	strbuf_release(&out);
	free(bytes);
	free(path);
}

static void test_set_order(void **state)
{
	struct ipam_inf inf;
	struct strbuf out = STRBUF_INIT, text = STRBUF_INIT;

	(void)state;
	ipam_inf_init_template(&inf);
	ipam_inf_set(&inf, "System Access", "MinimumPasswordAge", "1");
	/* A key of an earlier section lands in it, not at the end. */
	ipam_inf_set(&inf, "Version", "Extra", "x");
	ipam_inf_set(&inf, "System Access", "MinimumPasswordAge", "2");
	ipam_inf_set(&inf, "Registry Keys",
		     "\"MACHINE\\SOFTWARE\",0,\"D:PAR(A;CI;KA;;;BA)\"", NULL);
	assert_int_equal(ipam_inf_write(&out, &inf), 0);
	assert_int_equal(ipam_utf16le_to_utf8(&text, out.buf + 2, out.len - 2),
			 0);
	assert_string_equal(text.buf,
			    "[Unicode]\r\nUnicode=yes\r\n"
			    "[Version]\r\nsignature=\"$CHICAGO$\"\r\n"
			    "Revision=1\r\nExtra=x\r\n"
			    "[System Access]\r\nMinimumPasswordAge = 2\r\n"
			    "[Registry Keys]\r\n"
			    "\"MACHINE\\SOFTWARE\",0,\"D:PAR(A;CI;KA;;;BA)\""
			    "\r\n");
	ipam_inf_release(&inf);
	strbuf_release(&out);
	strbuf_release(&text);
}

static void rejects(const void *buf, size_t len, int code, const char *msg)
{
	struct ipam_inf inf;

	assert_int_equal(ipam_inf_parse(&inf, buf, len), code);
	assert_int_equal(inf.nr, 0);
	if (!strstr(ipam_error_last(), msg))
		fail_msg("error \"%s\" lacks \"%s\"", ipam_error_last(), msg);
}

static void test_hostile(void **state)
{
	static const char be[] = "\xFE\xFF\0[";
	static const char odd[] = "\xFF\xFE[\0U";
	static const char nul16[] = "\xFF\xFE[\0\0\0]\0";
	char *big;

	(void)state;
	rejects("[Unicode\nUnicode=yes\n", 21, IPAM_EINVAL,
		"GptTmpl.inf:1: malformed section header");
	rejects("[]\n", 3, IPAM_EINVAL, "GptTmpl.inf:1: malformed");
	rejects("; comment\nUnicode=yes\n", 22, IPAM_EINVAL,
		"GptTmpl.inf:2: a setting before the first [section]");
	rejects("[A]\n = 1\n", 9, IPAM_EINVAL,
		"GptTmpl.inf:2: a setting without a name");
	rejects(be, sizeof(be) - 1, IPAM_EINVAL, "UTF-16BE");
	rejects(odd, sizeof(odd) - 1, IPAM_EINVAL, "malformed UTF-16LE");
	rejects(nul16, sizeof(nul16) - 1, IPAM_EINVAL, "malformed UTF-16LE");
	rejects("[A]\n\xC0\xAF=1\n", 9, IPAM_EINVAL, "nor UTF-8");
	rejects("[A]\nk=\0\n", 8, IPAM_EINVAL, "nor UTF-8");
	big = xcalloc(1, IPAM_INF_MAX + 1);
	rejects(big, IPAM_INF_MAX + 1, IPAM_ELIMIT, "exceeds");
	free(big);
	/* Too many lines: a bound, not a guess. */
	{
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "[A]\n");
		for (int i = 0; i < 20001; i++)
			strbuf_addf(&sb, "k%d=1\n", i);
		rejects(sb.buf, sb.len, IPAM_ELIMIT, "more than 20000 lines");
		strbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_samba_oracle),
		cmocka_unit_test(test_conflicts),
		cmocka_unit_test(test_set_order),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
