#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scalar.h"

static void test_core_schema_resolution(void **state)
{
	(void)state;
	assert_int_equal(ipam_scalar_resolve(""), IPAM_SCALAR_NULL);
	assert_int_equal(ipam_scalar_resolve("~"), IPAM_SCALAR_NULL);
	assert_int_equal(ipam_scalar_resolve("NULL"), IPAM_SCALAR_NULL);
	assert_int_equal(ipam_scalar_resolve("True"), IPAM_SCALAR_BOOL);
	assert_int_equal(ipam_scalar_resolve("FALSE"), IPAM_SCALAR_BOOL);
	/* YAML 1.1 booleans are strings in 1.2. */
	assert_int_equal(ipam_scalar_resolve("yes"), IPAM_SCALAR_STRING);
	assert_int_equal(ipam_scalar_resolve("off"), IPAM_SCALAR_STRING);
	assert_int_equal(ipam_scalar_resolve("tRUE"), IPAM_SCALAR_STRING);
	assert_int_equal(ipam_scalar_resolve("-12"), IPAM_SCALAR_INT);
	assert_int_equal(ipam_scalar_resolve("0o17"), IPAM_SCALAR_INT);
	assert_int_equal(ipam_scalar_resolve("0x1F"), IPAM_SCALAR_INT);
	assert_int_equal(ipam_scalar_resolve("0o9"), IPAM_SCALAR_STRING);
	assert_int_equal(ipam_scalar_resolve("1.5"), IPAM_SCALAR_FLOAT);
	assert_int_equal(ipam_scalar_resolve(".inf"), IPAM_SCALAR_FLOAT);
	assert_int_equal(ipam_scalar_resolve("1e3"), IPAM_SCALAR_FLOAT);
	assert_int_equal(ipam_scalar_resolve("1.2.3"), IPAM_SCALAR_STRING);
	assert_int_equal(ipam_scalar_resolve("corp.example.test"),
			 IPAM_SCALAR_STRING);
}

static void test_int_values(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(ipam_scalar_int("0o17", &v), 0);
	assert_int_equal(v, 15);
	assert_int_equal(ipam_scalar_int("0x10", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(ipam_scalar_int("012", &v), 0);
	assert_int_equal(v, 12); /* decimal in 1.2, not octal */
	assert_int_equal(ipam_scalar_int("+7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_not_equal(ipam_scalar_int("99999999999999999999", &v), 0);
	assert_int_not_equal(ipam_scalar_int("1_000", &v), 0);
	assert_int_not_equal(ipam_scalar_int("", &v), 0);
}

static void test_fqdn(void **state)
{
	(void)state;
	assert_true(ipam_scalar_is_fqdn("corp.example.test"));
	assert_true(ipam_scalar_is_fqdn("DC1.Corp.Example.Test"));
	assert_true(ipam_scalar_is_fqdn("a.b"));
	assert_true(ipam_scalar_is_fqdn("x-1.y2"));
	assert_false(ipam_scalar_is_fqdn("localhost"));
	assert_false(ipam_scalar_is_fqdn("corp.example.test."));
	assert_false(ipam_scalar_is_fqdn(".corp.example.test"));
	assert_false(ipam_scalar_is_fqdn("corp..test"));
	assert_false(ipam_scalar_is_fqdn("-a.test"));
	assert_false(ipam_scalar_is_fqdn("a-.test"));
	assert_false(ipam_scalar_is_fqdn("a_b.test"));
	assert_false(ipam_scalar_is_fqdn("10.0.0.1"));
	assert_false(ipam_scalar_is_fqdn("dc1.corp.example.test)(cn=*"));
	assert_false(ipam_scalar_is_fqdn(""));
	/* 63 characters is the longest label. */
	assert_true(ipam_scalar_is_fqdn(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaa"
		".test"));
	assert_false(ipam_scalar_is_fqdn(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaa"
		".test"));
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(ipam_scalar_edit_distance("gpoPrefix", "gpoPrefix", 2),
			 0);
	assert_int_equal(ipam_scalar_edit_distance("gpoPrefix", "gpoPrefx", 2),
			 1);
	assert_int_equal(ipam_scalar_edit_distance("managed", "manged", 2), 1);
	/* a transposition is one edit */
	assert_int_equal(ipam_scalar_edit_distance("owner", "onwer", 2), 1);
	/* capped */
	assert_int_equal(ipam_scalar_edit_distance("servers", "discovery", 2),
			 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_schema_resolution),
		cmocka_unit_test(test_int_values),
		cmocka_unit_test(test_fqdn),
		cmocka_unit_test(test_edit_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
