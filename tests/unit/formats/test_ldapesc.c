/*
 * LDAP escaping: RFC 4515 filter values and RFC 4514 DN attribute values,
 * so no configured or server-sent string changes the structure of a
 * filter or a DN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ldapesc.h"
#include "strbuf.h"

static void check_filter(const char *value, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_ldapesc_filter(&sb, value, len);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

#define FILTER(value, want) check_filter(value, sizeof(value) - 1, want)

static void test_filter_specials(void **state)
{
	(void)state;
	FILTER("plain", "plain");
	FILTER("", "");
	FILTER("*", "\\2a");
	FILTER("(", "\\28");
	FILTER(")", "\\29");
	FILTER("\\", "\\5c");
	FILTER("a*b(c)d\\e", "a\\2ab\\28c\\29d\\5ce");
	/* RFC 4515's own examples. */
	FILTER("Parens R Us (for all your parenthetical needs)",
	       "Parens R Us \\28for all your parenthetical needs\\29");
	FILTER("\\2a", "\\5c2a");
	/* Characters special elsewhere are plain here. */
	FILTER("a=b,c+d&e|f!g~h<i>", "a=b,c+d&e|f!g~h<i>");
}

static void test_filter_nul_and_binary(void **state)
{
	static const char nul[] = {'a', '\0', 'b'};
	static const char guid[] = {'\x8f', '\xfd', '\xac', '\xed',
				    '\xb3', '\xff', '\xd1', '\x11'};

	(void)state;
	check_filter(nul, sizeof(nul), "a\\00b");
	check_filter(guid, sizeof(guid), "\\8f\\fd\\ac\\ed\\b3\\ff\\d1\\11");
	FILTER("tab\there\nnl\x7f", "tab\\09here\\0anl\\7f");
	/* The length is honoured: nothing after it is read. */
	check_filter("abc*", 3, "abc");
}

static void test_filter_utf8_kept(void **state)
{
	(void)state;
	FILTER("Gr\xc3\xbc\xc3\x9f"
	       "e",
	       "Gr\xc3\xbc\xc3\x9f"
	       "e");
	FILTER("\xe6\x9d\xb1\xe4\xba\xac", "\xe6\x9d\xb1\xe4\xba\xac");
	FILTER("\xf0\x9f\x98\x80*", "\xf0\x9f\x98\x80\\2a");
	/* Not UTF-8: overlong, surrogate, truncated, stray continuation. */
	FILTER("\xc0\xaf", "\\c0\\af");
	FILTER("\xed\xa0\x80", "\\ed\\a0\\80");
	FILTER("x\xe6\x9d", "x\\e6\\9d");
	FILTER("\x80y", "\\80y");
}

static void test_filter_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "(cn=");
	ipam_ldapesc_filter(&sb, "a*", 2);
	strbuf_addch(&sb, ')');
	assert_string_equal(sb.buf, "(cn=a\\2a)");
	strbuf_release(&sb);
}

/* A hostile name must stay one value: no filter structure leaks out. */
static void test_filter_hostile_server_name(void **state)
{
	static const char hostile[] = "x)(objectClass=*";
	struct strbuf sb = STRBUF_INIT;
	size_t i, open = 0, close = 0;

	(void)state;
	strbuf_addstr(&sb, "(&(objectCategory=computer)(dNSHostName=");
	ipam_ldapesc_filter(&sb, hostile, strlen(hostile));
	strbuf_addstr(&sb, "))");
	assert_string_equal(sb.buf, "(&(objectCategory=computer)"
				    "(dNSHostName=x\\29\\28objectClass=\\2a))");
	for (i = 0; i < sb.len; i++) {
		open += sb.buf[i] == '(';
		close += sb.buf[i] == ')';
	}
	assert_int_equal(open, 3);
	assert_int_equal(close, 3);
	assert_null(strchr(sb.buf, '*'));
	strbuf_release(&sb);
}

static void check_dn(const char *value, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_ldapesc_dn(&sb, value);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_dn_specials(void **state)
{
	(void)state;
	check_dn("plain", "plain");
	check_dn("", "");
	check_dn(",", "\\,");
	check_dn("+", "\\+");
	check_dn("\"", "\\\"");
	check_dn("\\", "\\\\");
	check_dn("<", "\\<");
	check_dn(">", "\\>");
	check_dn(";", "\\;");
	check_dn("=", "\\=");
	check_dn("Smith, John+x=\"y\"<z>;\\",
		 "Smith\\, John\\+x\\=\\\"y\\\"\\<z\\>\\;\\\\");
	/* Filter specials are not DN specials. */
	check_dn("a*(b)", "a*(b)");
}

static void test_dn_leading_trailing(void **state)
{
	(void)state;
	check_dn(" lead", "\\ lead");
	check_dn("#lead", "\\#lead");
	check_dn("mid#dle", "mid#dle");
	check_dn("in side", "in side");
	check_dn("trail ", "trail\\ ");
	check_dn(" ", "\\ ");
	check_dn("  ", "\\ \\ ");
	check_dn("   ", "\\  \\ ");
	check_dn("#", "\\#");
	check_dn(" both ", "\\ both\\ ");
}

static void test_dn_utf8_and_controls(void **state)
{
	(void)state;
	check_dn("M\xc3\xbcller", "M\xc3\xbcller");
	check_dn("\xe6\x9d\xb1\xe4\xba\xac", "\xe6\x9d\xb1\xe4\xba\xac");
	check_dn("a\nb\x01", "a\\0ab\\01");
	check_dn("bad\xff", "bad\\ff");
}

/* Every RFC 4515 metacharacter, alone, doubled and at the ends. */
static void test_filter_metacharacters(void **state)
{
	static const char nul_ends[] = {'\0', 'x', '\0'};
	static const char all[] = {'*', '(', ')', '\\', '\0'};

	(void)state;
	check_filter(all, sizeof(all), "\\2a\\28\\29\\5c\\00");
	check_filter(nul_ends, sizeof(nul_ends), "\\00x\\00");
	FILTER("**", "\\2a\\2a");
	FILTER("((", "\\28\\28");
	FILTER("))", "\\29\\29");
	FILTER("\\\\", "\\5c\\5c");
	FILTER("*x", "\\2ax");
	FILTER("x*", "x\\2a");
	FILTER("(x)", "\\28x\\29");
	/* An escape already written by someone is escaped again. */
	FILTER("\\28", "\\5c28");
	/* Spaces and '#' mean nothing in a filter value. */
	FILTER(" #lead and trail ", " #lead and trail ");
	/* Nothing is read when len is 0. */
	check_filter("*", 0, "");
}

/* Every RFC 4514 special, alone, in the middle and at the ends. */
static void test_dn_metacharacters(void **state)
{
	static const char *const specials[] = {",", "+", "\"", "<",
					       ">", ";", "=",  "\\"};
	struct strbuf want = STRBUF_INIT, in = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		strbuf_reset(&in);
		strbuf_addf(&in, "%sa%sb%s", specials[i], specials[i],
			    specials[i]);
		strbuf_reset(&want);
		strbuf_addf(&want, "\\%sa\\%sb\\%s", specials[i], specials[i],
			    specials[i]);
		check_dn(in.buf, want.buf);
	}
	strbuf_release(&in);
	strbuf_release(&want);
	check_dn(",+\"<>;=\\", "\\,\\+\\\"\\<\\>\\;\\=\\\\");
	/* A hostile RDN value stays one value of one RDN. */
	check_dn("x,CN=Admins", "x\\,CN\\=Admins");
	check_dn("a+OU=b", "a\\+OU\\=b");
}

/* Leading space or '#', trailing space: escaped only where they are. */
static void test_dn_ends(void **state)
{
	(void)state;
	check_dn("# x", "\\# x");
	check_dn(" #x", "\\ #x");
	check_dn("x#", "x#");
	check_dn("x #", "x #");
	check_dn("# ", "\\#\\ ");
	check_dn("## ##", "\\## ##");
	check_dn("a  b", "a  b");
	check_dn(" ,", "\\ \\,");
	check_dn(", ", "\\,\\ ");
	/* A trailing space after a multi-byte character. */
	check_dn("\xc3\xbc ", "\xc3\xbc\\ ");
	/* Controls at the ends are hex, not backslash-character. */
	check_dn("\tx\t", "\\09x\\09");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_specials),
		cmocka_unit_test(test_filter_nul_and_binary),
		cmocka_unit_test(test_filter_utf8_kept),
		cmocka_unit_test(test_filter_appends),
		cmocka_unit_test(test_filter_hostile_server_name),
		cmocka_unit_test(test_filter_metacharacters),
		cmocka_unit_test(test_dn_specials),
		cmocka_unit_test(test_dn_leading_trailing),
		cmocka_unit_test(test_dn_utf8_and_controls),
		cmocka_unit_test(test_dn_metacharacters),
		cmocka_unit_test(test_dn_ends),
	};

	return cmocka_run_group_tests_name("ldapesc", tests, NULL, NULL);
}
