#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
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

static void check_esc(const char *in, size_t len, bool keep, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_text_add_escaped_n(&sb, in, len, keep);
	assert_string_equal(sb.buf, want);
	/* idempotent: what was escaped has nothing left to escape */
	assert_false(ipam_text_needs_escape(sb.buf, sb.len) &&
		     !(keep && strchr(sb.buf, '\n')));
	strbuf_release(&sb);
}

#define ESC(in, keep, want) check_esc((in), sizeof(in) - 1, (keep), (want))

/* The printing rule: every control and bad byte a visible escape. */
static void test_escape_rule(void **state)
{
	char *s;

	(void)state;
	ESC("plain, caf\xc3\xa9 \\ back", false, "plain, caf\xc3\xa9 \\ back");
	ESC("a\nb\tc\rd", false, "a\\nb\\tc\\rd");
	/* a title-setting OSC and a colour: nothing reaches the terminal */
	ESC("x\x1b]0;pwned\x07y\x1b[31m", false,
	    "x\\x1b]0;pwned\\x07y\\x1b[31m");
	ESC("del\x7f nul\0!", false, "del\\x7f nul\\x00!");
	/* C1 (8-bit CSI, NEL) as code points; U+00A0 kept */
	ESC("c1\xc2\x9b\xc2\x85 nb\xc2\xa0", false,
	    "c1\\u009b\\u0085 nb\xc2\xa0");
	/* bytes that are not UTF-8: a raw 8-bit CSI, a cut sequence, an
	 * overlong form */
	ESC("a\x9b"
	    "b\xe2\x82",
	    false, "a\\x9bb\\xe2\\x82");
	ESC("\xc0\xaf", false, "\\xc0\\xaf");
	/* lines: newlines kept, everything else escaped */
	ESC("one\x1b\ntwo\r\n", true, "one\\x1b\ntwo\\r\n");
	s = ipam_text_escaped("n\x1b"
			      "ame");
	assert_string_equal(s, "n\\x1bame");
	free(s);
	s = ipam_text_escaped(NULL);
	assert_string_equal(s, "");
	free(s);
	assert_false(ipam_text_needs_escape("ok \\x1b", 7));
	assert_true(ipam_text_needs_escape("\x1b", 1));
	assert_true(ipam_text_needs_escape("\xff", 1));
}

/* The print boundary: ipam_text_printf through a file. */
static void test_print_boundary(void **state)
{
	FILE *f = tmpfile();
	char buf[128];
	size_t n;

	(void)state;
	assert_non_null(f);
	ipam_text_printf(f, "server %s: %d\n", "e\x1b]2;t\x07\rvil", 7);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	assert_string_equal(buf, "server e\\x1b]2;t\\x07\\rvil: 7\n");
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls_become_spaces),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_null_and_append),
		cmocka_unit_test(test_escape_rule),
		cmocka_unit_test(test_print_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
