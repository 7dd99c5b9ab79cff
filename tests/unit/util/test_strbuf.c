#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"

static void test_never_null(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
	assert_non_null(sb.buf);
	assert_int_equal(sb.len, 0);
}

static void test_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len, i;

	(void)state;
	for (i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%zu,", i);
	assert_int_equal(sb.len, strlen(sb.buf));
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	assert_string_equal(sb.buf + sb.len - 4, "999,");
	strbuf_addch(&sb, 'x');
	strbuf_add(&sb, "yz", 2);
	s = strbuf_detach(&sb, &len);
	assert_int_equal(len, strlen(s));
	assert_string_equal(s + len - 3, "xyz");
	assert_string_equal(sb.buf, "");
	free(s);
}

static void test_reset(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "hello");
	strbuf_reset(&sb);
	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "again");
	assert_string_equal(sb.buf, "again");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_null),
		cmocka_unit_test(test_grows),
		cmocka_unit_test(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
