/*
 * The ownership mark: its text, and whose it says it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpomark.h"
#include "strbuf.h"

static void test_marks(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_gpomark_format(&sb, "ipam1.corp.example.test", "IPAM1",
			    "/srv/desired");
	assert_string_equal(sb.buf,
			    "ipamctl/1; ipamServer=ipam1.corp.example.test; "
			    "gpoPrefix=IPAM1; source=/srv/desired");
	assert_true(
		ipam_gpomark_owned(sb.buf, "ipam1.corp.example.test", "IPAM1"));
	/* Host names compare without case; another server or prefix is
	 * somebody else's. */
	assert_true(
		ipam_gpomark_owned(sb.buf, "IPAM1.corp.example.test", "ipam1"));
	assert_false(
		ipam_gpomark_owned(sb.buf, "ipam2.corp.example.test", "IPAM1"));
	assert_false(
		ipam_gpomark_owned(sb.buf, "ipam1.corp.example.test", "IPAM"));
	assert_false(ipam_gpomark_owned(NULL, "ipam1", "IPAM1"));
	assert_false(ipam_gpomark_owned("", "ipam1", "IPAM1"));
	/* Without the ipamctl prefix it is not a mark at all. */
	assert_false(ipam_gpomark_owned(
		"made by hand; ipamServer=ipam1; gpoPrefix=IPAM1", "ipam1",
		"IPAM1"));
	/* A key that only ends like ours does not count. */
	assert_false(ipam_gpomark_owned(
		"ipamctl/1; xipamServer=ipam1; gpoPrefix=IPAM1", "ipam1",
		"IPAM1"));
	strbuf_release(&sb);
}

static void test_is(void **state)
{
	(void)state;
	assert_true(ipam_gpomark_is("ipamctl/1; ipamServer=x; gpoPrefix=y"));
	/* Another server's mark is still a mark: it is kept, not owned. */
	assert_true(ipam_gpomark_is("ipamctl/1;"));
	assert_false(ipam_gpomark_is("ipamctl/2; ipamServer=x"));
	assert_false(ipam_gpomark_is("IPAM Users Group"));
	assert_false(ipam_gpomark_is(""));
	assert_false(ipam_gpomark_is(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_is),
	};

	return cmocka_run_group_tests_name("gpomark", tests, NULL, NULL);
}
