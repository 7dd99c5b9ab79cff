/*
 * gPLink editing: finding, adding, re-optioning and removing the link to
 * a GPO in the list a domain head carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "gplink.h"
#include "strbuf.h"

#define A                                                                      \
	"CN={A2D2BF7D-026E-46F6-ADF4-2D369AB4781D},CN=Policies,CN=System,DC="  \
	"corp,DC=example,DC=test"
#define B                                                                      \
	"CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System,DC="  \
	"corp,DC=example,DC=test"

static void test_gplink_find(void **state)
{
	const char *gl = "[LDAP://" A ";0][ldap://" B ";3]";

	(void)state;
	assert_int_equal(ipam_gplink_find(gl, A), 0);
	assert_int_equal(ipam_gplink_find(gl, B), 3);
	/* DNs compare case-insensitively, as AD does. */
	assert_int_equal(ipam_gplink_find(gl, "cn={a2d2bf7d-026e-46f6-adf4-"
					      "2d369ab4781d},cn=policies,"
					      "cn=system,dc=corp,dc=example,"
					      "dc=test"),
			 0);
	assert_int_equal(ipam_gplink_find(gl, "CN=other"), -1);
	assert_int_equal(ipam_gplink_find("", A), -1);
	assert_int_equal(ipam_gplink_find(NULL, A), -1);
	/* A prefix of a linked DN is not linked. */
	assert_int_equal(ipam_gplink_find(gl, "CN={A2D2BF7D"), -1);
	/* Garbage without brackets: nothing linked, no crash. */
	assert_int_equal(ipam_gplink_find("[LDAP://" A ";0", A), -1);
}

static void test_gplink_set_remove(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* New links go in front, as GPMC adds them. */
	assert_int_equal(ipam_gplink_set(&sb, "[LDAP://" B ";0]", A, 0), 0);
	assert_string_equal(sb.buf, "[LDAP://" A ";0][LDAP://" B ";0]");
	/* An existing link keeps its place and spelling; options change. */
	strbuf_reset(&sb);
	assert_int_equal(
		ipam_gplink_set(&sb, "[LDAP://" B ";0][ldap://" A ";1]", A, 0),
		0);
	assert_string_equal(sb.buf, "[LDAP://" B ";0][ldap://" A ";0]");
	strbuf_reset(&sb);
	assert_int_equal(ipam_gplink_set(&sb, "", A, 2), 0);
	assert_string_equal(sb.buf, "[LDAP://" A ";2]");
	/* A DN that would break the syntax is refused. */
	strbuf_reset(&sb);
	assert_int_equal(ipam_gplink_set(&sb, "", "CN=a];x", 0), IPAM_EINVAL);

	strbuf_reset(&sb);
	ipam_gplink_remove(&sb, "[LDAP://" A ";0][LDAP://" B ";0]", A);
	assert_string_equal(sb.buf, "[LDAP://" B ";0]");
	strbuf_reset(&sb);
	ipam_gplink_remove(&sb, "[LDAP://" A ";0]", A);
	assert_string_equal(sb.buf, "");
	strbuf_reset(&sb);
	ipam_gplink_remove(&sb, "[LDAP://" B ";1]", A);
	assert_string_equal(sb.buf, "[LDAP://" B ";1]");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gplink_find),
		cmocka_unit_test(test_gplink_set_remove),
	};

	return cmocka_run_group_tests_name("gplink", tests, NULL, NULL);
}
