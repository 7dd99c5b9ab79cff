#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
