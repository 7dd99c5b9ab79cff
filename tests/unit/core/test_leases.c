/* The lease decision: the last deciding audit event per address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "leases.h"

#define NOW  1796000000LL
#define HOUR 3600LL
#define DAY  (24 * HOUR)

static void test_kinds(void **state)
{
	(void)state;
	assert_int_equal(ipam_lease_kind_of(10), IPAM_LEASE_GRANT);
	assert_int_equal(ipam_lease_kind_of(11), IPAM_LEASE_GRANT);
	assert_int_equal(ipam_lease_kind_of(12), IPAM_LEASE_RELEASE);
	assert_int_equal(ipam_lease_kind_of(16), IPAM_LEASE_DELETE);
	assert_int_equal(ipam_lease_kind_of(17), IPAM_LEASE_EXPIRE);
	assert_int_equal(ipam_lease_kind_of(18), IPAM_LEASE_EXPIRE);
	assert_int_equal(ipam_lease_kind_of(11004), IPAM_LEASE_GRANT);
	assert_int_equal(ipam_lease_kind_of(11007), IPAM_LEASE_RELEASE);
	/* NACK, DNS update, server started decide nothing */
	assert_int_equal(ipam_lease_kind_of(15), IPAM_LEASE_OTHER);
	assert_int_equal(ipam_lease_kind_of(30), IPAM_LEASE_OTHER);
	assert_int_equal(ipam_lease_kind_of(0), IPAM_LEASE_OTHER);
	assert_string_equal(ipam_lease_kind_name(IPAM_LEASE_EXPIRE), "expire");
}

static void test_no_events(void **state)
{
	struct ipam_lease_state s;

	(void)state;
	ipam_leases_decide(&s, NULL, 0, NOW, 0);
	assert_false(s.in_use);
	assert_int_equal(s.expires, 0);
	assert_null(s.decided);
}

static void test_lease_until_its_end(void **state)
{
	struct ipam_lease_event e[] = {
		{.at = NOW - 2 * DAY,
		 .seq = 1,
		 .event_id = 10,
		 .server_id = 3,
		 .mac = "00155d0a0101",
		 .host = "pc1.corp.example.test"},
	};
	struct ipam_lease_state s;

	(void)state;
	ipam_leases_decide(&s, e, 1, NOW, 0);
	assert_true(s.in_use);
	assert_int_equal(s.expires, NOW + 6 * DAY);
	assert_int_equal(s.server_id, 3);
	assert_string_equal(s.mac, "00155d0a0101");
	assert_string_equal(s.host, "pc1.corp.example.test");
	assert_int_equal(s.first, NOW - 2 * DAY);
	/* a 12-hour lease time: over */
	ipam_leases_decide(&s, e, 1, NOW, 12 * HOUR);
	assert_false(s.in_use);
	assert_int_equal(s.expires, NOW - 2 * DAY + 12 * HOUR);
	/* the moment it ends it is free */
	ipam_leases_decide(&s, e, 1, NOW - 2 * DAY + 12 * HOUR, 12 * HOUR);
	assert_false(s.in_use);
	ipam_leases_decide(&s, e, 1, NOW - 2 * DAY + 12 * HOUR - 1, 12 * HOUR);
	assert_true(s.in_use);
}

static void test_release_then_renew(void **state)
{
	/* given out of order: the decision sorts by time */
	struct ipam_lease_event e[] = {
		{.at = NOW - 3 * HOUR, .seq = 3, .event_id = 11},
		{.at = NOW - 5 * HOUR, .seq = 1, .event_id = 10},
		{.at = NOW - 4 * HOUR, .seq = 2, .event_id = 12},
	};
	struct ipam_lease_state s;

	(void)state;
	ipam_leases_decide(&s, e, 3, NOW, 12 * HOUR);
	assert_true(s.in_use);
	assert_int_equal(s.expires, NOW + 9 * HOUR);
	assert_ptr_equal(s.decided, &e[0]);
	assert_int_equal(s.first, NOW - 5 * HOUR);
	assert_int_equal(s.last, NOW - 3 * HOUR);
	/* without the renewal the release decides */
	ipam_leases_decide(&s, e + 1, 2, NOW, 12 * HOUR);
	assert_false(s.in_use);
	assert_int_equal(s.expires, NOW - 4 * HOUR);
}

static void test_overlapping_leases(void **state)
{
	/* two servers (failover) grant the same address; the later grant
	 * extends the lease, a later renewal from the first again */
	struct ipam_lease_event e[] = {
		{.at = NOW - 10 * HOUR,
		 .seq = 1,
		 .event_id = 10,
		 .server_id = 1,
		 .mac = "aa"},
		{.at = NOW - 8 * HOUR,
		 .seq = 2,
		 .event_id = 10,
		 .server_id = 2,
		 .mac = "bb"},
		{.at = NOW - 8 * HOUR,
		 .seq = 3,
		 .event_id = 30,
		 .server_id = 2}, /* a DNS update decides nothing */
	};
	struct ipam_lease_state s;

	(void)state;
	ipam_leases_decide(&s, e, 3, NOW, 12 * HOUR);
	assert_true(s.in_use);
	assert_int_equal(s.expires, NOW + 4 * HOUR);
	assert_int_equal(s.server_id, 2);
	assert_string_equal(s.mac, "bb");
	/* the same second: the row order decides */
	e[1].at = e[0].at;
	ipam_leases_decide(&s, e, 2, NOW, 12 * HOUR);
	assert_int_equal(s.server_id, 2);
	assert_int_equal(s.expires, NOW + 2 * HOUR);
}

static void test_expiry_and_deletion_end_it(void **state)
{
	struct ipam_lease_event e[] = {
		{.at = NOW - HOUR, .seq = 1, .event_id = 10},
		{.at = NOW - 30, .seq = 2, .event_id = 17},
	};
	struct ipam_lease_state s;

	(void)state;
	ipam_leases_decide(&s, e, 2, NOW, 0);
	assert_false(s.in_use);
	assert_int_equal(s.expires, NOW - 30);
	e[1].event_id = 18;
	ipam_leases_decide(&s, e, 2, NOW, 0);
	assert_false(s.in_use);
	e[1].event_id = 16;
	ipam_leases_decide(&s, e, 2, NOW, 0);
	assert_false(s.in_use);
	/* a new lease after the expiry holds it again */
	e[0].at = NOW - 10;
	e[0].seq = 3;
	ipam_leases_decide(&s, e, 2, NOW, 0);
	assert_true(s.in_use);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_no_events),
		cmocka_unit_test(test_lease_until_its_end),
		cmocka_unit_test(test_release_then_renew),
		cmocka_unit_test(test_overlapping_leases),
		cmocka_unit_test(test_expiry_and_deletion_end_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
