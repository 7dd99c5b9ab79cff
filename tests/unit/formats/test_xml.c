#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "xml.h"

#define DOC(x, s) ipam_xml_init((x), (s), sizeof(s) - 1)

static void test_tags(void **state)
{
	static const char doc[] =
		"\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- c -->\n"
		"<a x='1' y = \"&lt;&amp;&#x41;&#66;&quot;&apos;&gt;\">text"
		"<b/></a>";
	struct ipam_xml x;
	struct ipam_xml_tag t = {0};

	(void)state;
	DOC(&x, doc);
	assert_int_equal(x.pos, 3); /* the BOM */
	assert_int_equal(ipam_xml_next(&x, &t), 0);
	assert_true(ipam_xml_tag_is(&t, "a"));
	assert_false(ipam_xml_tag_is(&t, "ab"));
	assert_false(t.end || t.empty);
	assert_string_equal(ipam_xml_tag_attr(&t, "x"), "1");
	assert_string_equal(ipam_xml_tag_attr(&t, "y"), "<&AB\"'>");
	assert_null(ipam_xml_tag_attr(&t, "z"));
	assert_int_equal(ipam_xml_next(&x, &t), 0);
	assert_true(ipam_xml_tag_is(&t, "b"));
	assert_true(t.empty);
	assert_int_equal(t.nr, 0);
	assert_int_equal(ipam_xml_next(&x, &t), 0);
	assert_true(ipam_xml_tag_is(&t, "a"));
	assert_true(t.end);
	assert_int_equal(ipam_xml_next(&x, &t), 1);
	ipam_xml_tag_release(&t);
	ipam_xml_tag_release(NULL);
}

static void test_errors(void **state)
{
	static const char *const bad[] = {
		"<a x=\"1\" x=\"2\">",
		"<a x=\"&bogus;\">",
		"<a x=\"&#;\">",
		"<a x=\"&#xD800;\">",
		"<a x=\"<\">",
		"<a x=1>",
		"<a x=\"1>",
		"<!DOCTYPE a>",
		"<!-- open",
		"<?pi",
		"</a x=\"1\">",
		"< a>",
		"<a",
	};
	struct ipam_xml x;
	struct ipam_xml_tag t = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ipam_xml_init(&x, bad[i], strlen(bad[i]));
		if (ipam_xml_next(&x, &t) != IPAM_EINVAL)
			fail_msg("'%s' should be rejected", bad[i]);
	}
	/* a NUL byte in the text between tags */
	ipam_xml_init(&x, "<a>\0</a>", 8);
	assert_int_equal(ipam_xml_next(&x, &t), 0);
	assert_int_equal(ipam_xml_next(&x, &t), IPAM_EINVAL);
	ipam_xml_tag_release(&t);
}

static void test_add_attr(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_xml_add_attr(&sb, "a<b>&\"c'\xC3\xA9"), 0);
	assert_string_equal(sb.buf, "a&lt;b&gt;&amp;&quot;c&apos;\xC3\xA9");
	strbuf_reset(&sb);
	assert_int_equal(ipam_xml_add_attr(&sb, "tab\there"), IPAM_EINVAL);
	assert_int_equal(ipam_xml_add_attr(&sb, "\xC3"), IPAM_EINVAL);
	assert_int_equal(ipam_xml_add_attr(&sb, "\x7F"), IPAM_EINVAL);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_add_attr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
