#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"
#include "text.h"

static void check(const char *in, size_t max, const char *want)
{
	char *got = ipam_text_clean(in, max);

	assert_string_equal(got, want);
	free(got);
}

/* Every control character, C0, DEL and C1, becomes one space: what was
 * several lines stays one. */
static void test_controls_become_spaces(void **state)
{
	(void)state;
	check("a\nb\tc\rd", 0, "a b c d");
	check("a\x01"
	      "b\x1b[31mc",
	      0, "a b [31mc");
	check("del\x7f!", 0, "del !");
	check("c1\xc2\x85"
	      "x\xc2\x9f"
	      "y",
	      0, "c1 x y");
	/* U+00A0 is the first code point past C1: kept */
	check("nb\xc2\xa0sp", 0, "nb\xc2\xa0sp");
	check("plain text, caf\xc3\xa9", 0, "plain text, caf\xc3\xa9");
}

static void test_invalid_utf8_replaced(void **state)
{
	(void)state;
	check("a\xff"
	      "b",
	      0,
	      "a\xef\xbf\xbd"
	      "b");
	/* a sequence cut short: each of its bytes is replaced */
	check("x\xe2\x82", 0, "x\xef\xbf\xbd\xef\xbf\xbd");
	/* overlong '/' */
	check("\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd");
	/* a surrogate */
	check("\xed\xa0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* max counts the input's bytes; the cut falls between characters. */
static void test_bound(void **state)
{
	(void)state;
	check("abc", 3, "abc");
	check("abcd", 3, "abc...");
	check("h\xc3\xa9llo", 2, "h...");
	check("h\xc3\xa9llo", 3, "h\xc3\xa9...");
	check("\xe2\x82\xac\xe2\x82\xac", 4, "\xe2\x82\xac...");
	check("\xff\xff", 1, "\xef\xbf\xbd...");
	check("", 1, "");
	check("long enough", 0, "long enough");
}

static void test_null_and_append(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	(void)state;
	strbuf_addstr(&sb, "stderr: ");
	ipam_text_add_clean(&sb, NULL, 10);
	assert_string_equal(sb.buf, "stderr: ");
	ipam_text_add_clean(&sb, "one\ntwo", 0);
	assert_string_equal(sb.buf, "stderr: one two");
	strbuf_release(&sb);

	s = ipam_text_clean(NULL, 0);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_become_spaces),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_null_and_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
