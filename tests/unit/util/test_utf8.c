#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "utf8.h"

#define DECODE(bytes, cp)                                                      \
	ipam_utf8_decode((const unsigned char *)(bytes), sizeof(bytes) - 1,    \
			 (cp))

static void test_valid(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(DECODE("A", &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(DECODE("\xc3\xa9", &cp), 2); /* é */
	assert_int_equal(cp, 0xE9);
	assert_int_equal(DECODE("\xe2\x82\xac", &cp), 3); /* € */
	assert_int_equal(cp, 0x20AC);
	assert_int_equal(DECODE("\xf0\x9f\x98\x80", &cp), 4); /* U+1F600 */
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(DECODE("\xf4\x8f\xbf\xbf", &cp), 4); /* U+10FFFF */
	assert_int_equal(DECODE("\xef\xbb\xbf", NULL), 3);    /* BOM, no cp */
}

static void test_invalid(void **state)
{
	(void)state;
	assert_int_equal(ipam_utf8_decode(NULL, 0, NULL), 0);
	assert_int_equal(DECODE("\x80", NULL), 0);	       /* lone tail */
	assert_int_equal(DECODE("\xc0\xaf", NULL), 0);	       /* overlong / */
	assert_int_equal(DECODE("\xe0\x80\xaf", NULL), 0);     /* overlong */
	assert_int_equal(DECODE("\xed\xa0\x80", NULL), 0);     /* surrogate */
	assert_int_equal(DECODE("\xf4\x90\x80\x80", NULL), 0); /* > 10FFFF */
	assert_int_equal(DECODE("\xf8\x88\x80\x80\x80", NULL), 0);
	assert_int_equal(DECODE("\xe2\x82", NULL), 0); /* cut short */
	assert_int_equal(DECODE("\xc3\x28", NULL), 0); /* bad tail */
}

static void test_put(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	static const uint32_t cps[] = {0x41,  0x7F,   0x80,    0x7FF,
				       0x800, 0xFFFD, 0x10000, 0x10FFFF};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		uint32_t cp = 0;

		strbuf_reset(&sb);
		ipam_utf8_put(&sb, cps[i]);
		/* the encoder's output is what the decoder reads back */
		assert_int_equal(ipam_utf8_decode((const unsigned char *)sb.buf,
						  sb.len, &cp),
				 sb.len);
		assert_int_equal(cp, cps[i]);
	}
	strbuf_reset(&sb);
	ipam_utf8_put(&sb, 0x20AC);
	assert_string_equal(sb.buf, "\xe2\x82\xac");
	strbuf_release(&sb);
}

static void test_utf16(void **state)
{
	struct strbuf w = STRBUF_INIT, u = STRBUF_INIT;
	const char *s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z"; /* aé€😀z */
	static const unsigned char want[] = {'a',  0,	 0xE9, 0,    0xAC, 0x20,
					     0x3D, 0xD8, 0x00, 0xDE, 'z',  0};
	static const char *const bad8[] = {
		"\xC0\x80",	    /* overlong NUL */
		"\xED\xA0\x80",	    /* surrogate */
		"\xF4\x90\x80\x80", /* > U+10FFFF */
		"\xE2\x82",	    /* truncated */
		"\x80",		    /* stray continuation */
	};
	static const unsigned char lone_hi[] = {0x3D, 0xD8, 'a', 0};
	static const unsigned char lone_lo[] = {0x00, 0xDE};
	static const unsigned char hi_end[] = {'a', 0, 0x3D, 0xD8};
	size_t i;

	(void)state;
	assert_int_equal(ipam_utf8_to_utf16le(&w, s, strlen(s)), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));
	assert_int_equal(ipam_utf16le_to_utf8(&u, w.buf, w.len), 0);
	assert_string_equal(u.buf, s);
	for (i = 0; i < sizeof(bad8) / sizeof(bad8[0]); i++) {
		strbuf_reset(&w);
		assert_int_equal(
			ipam_utf8_to_utf16le(&w, bad8[i], strlen(bad8[i])),
			IPAM_EINVAL);
		assert_int_equal(w.len, 0);
	}
	strbuf_reset(&u);
	assert_int_equal(ipam_utf16le_to_utf8(&u, lone_hi, 4), IPAM_EINVAL);
	assert_int_equal(ipam_utf16le_to_utf8(&u, lone_lo, 2), IPAM_EINVAL);
	assert_int_equal(ipam_utf16le_to_utf8(&u, hi_end, 4), IPAM_EINVAL);
	assert_int_equal(ipam_utf16le_to_utf8(&u, want, 3), IPAM_EINVAL);
	assert_int_equal(u.len, 0);
	strbuf_release(&w);
	strbuf_release(&u);
}

static void test_utf16_valid(void **state)
{
	static const unsigned char pair[] = {0x3D, 0xD8, 0x00, 0xDE};
	static const unsigned char nul[] = {'a', 0, 0, 0, 'b', 0};
	static const unsigned char lone_lo[] = {0x00, 0xDE, 'a', 0};
	static const unsigned char hi_end[] = {'a', 0, 0x3D, 0xD8};

	(void)state;
	assert_true(ipam_utf16le_valid(pair, 2, false));
	assert_true(ipam_utf16le_valid(pair, 0, false));
	assert_false(ipam_utf16le_valid(nul, 3, false));
	assert_true(ipam_utf16le_valid(nul, 3, true));
	assert_false(ipam_utf16le_valid(lone_lo, 2, true));
	assert_false(ipam_utf16le_valid(hi_end, 2, true));
	/* a high surrogate cut off by the unit count */
	assert_false(ipam_utf16le_valid(pair, 1, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_utf16_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
