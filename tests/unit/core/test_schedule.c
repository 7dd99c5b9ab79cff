/* The scheduled tasks' timing: what is due, when the next one is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "schedule.h"

#define NOW 1796000000LL /* 2026-11-29T..Z */

static void test_never_ran_is_due_now(void **state)
{
	struct ipam_schedule_task t = {.interval = 900};

	(void)state;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW);
}

static void test_interval_from_last_start(void **state)
{
	/* a run that took 10 minutes: the next counts from its start */
	struct ipam_schedule_task t = {
		.interval = 3600, .started = NOW - 1200, .ended = NOW - 600};

	(void)state;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW + 2400);
	/* partial (some servers failed): not a failure of the run */
	t.failed = false;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW + 2400);
	/* overdue (the loop was stopped): due at its time, in the past */
	t.started = NOW - 7200;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW - 3600);
}

static void test_failed_run_retried_sooner(void **state)
{
	struct ipam_schedule_task t = {.interval = 6 * 3600,
				       .started = NOW - 100,
				       .ended = NOW - 40,
				       .failed = true};

	(void)state;
	assert_int_equal(ipam_schedule_next(&t, NOW),
			 NOW - 40 + IPAM_SCHEDULE_RETRY);
	/* a shorter interval than the retry wins */
	t.interval = 120;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW - 40 + 120);
	/* no end recorded (killed): from its start */
	t.ended = 0;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW - 100 + 120);
}

static void test_clock_set_back(void **state)
{
	struct ipam_schedule_task t = {.interval = 900,
				       .started = NOW + 86400,
				       .ended = NOW + 86400 + 5};

	(void)state;
	assert_int_equal(ipam_schedule_next(&t, NOW), NOW + 900);
}

static void test_due_and_next(void **state)
{
	struct ipam_schedule_task v[IPAM_TASK_NR] = {
		[IPAM_TASK_DISCOVERY] = {.interval = 3600,
					 .started = NOW - 3600},
		[IPAM_TASK_ACCESS] = {.interval = 3600, .started = NOW - 60},
		[IPAM_TASK_AVAILABILITY] = {.interval = 900,
					    .started = NOW - 800},
		[IPAM_TASK_ZONES] = {.interval = 1800},
		[IPAM_TASK_DNS] = {.interval = 0}, /* never due */
		[IPAM_TASK_AUDIT] = {.interval = 3600,
				     .started = NOW - 4000,
				     .ended = NOW - 3990},
	};
	long long next;
	unsigned due = ipam_schedule_due(v, NOW, &next);

	(void)state;
	assert_int_equal(due, 1u << IPAM_TASK_DISCOVERY |
				      1u << IPAM_TASK_ZONES |
				      1u << IPAM_TASK_AUDIT);
	assert_int_equal(next, NOW + 100); /* availability */
	/* after those ran, at NOW + 100: only availability */
	v[IPAM_TASK_DISCOVERY].started = v[IPAM_TASK_ZONES].started =
		v[IPAM_TASK_AUDIT].started = NOW;
	due = ipam_schedule_due(v, NOW + 100, &next);
	assert_int_equal(due, 1u << IPAM_TASK_AVAILABILITY);
	assert_int_equal(next, NOW + 1800); /* zones */
	/* nothing due: the earliest comes next */
	v[IPAM_TASK_AVAILABILITY].started = NOW + 100;
	due = ipam_schedule_due(v, NOW + 200, &next);
	assert_int_equal(due, 0);
	assert_int_equal(next, NOW + 1000);
}

static void test_times(void **state)
{
	char buf[21];
	long long t;

	(void)state;
	assert_int_equal(ipam_schedule_parse_time("1970-01-01T00:00:00Z", &t),
			 0);
	assert_int_equal(t, 0);
	assert_int_equal(ipam_schedule_parse_time("2026-12-07T09:43:15Z", &t),
			 0);
	assert_int_equal(t, 1796636595LL);
	assert_int_equal(ipam_schedule_parse_time("2024-02-29T23:59:59Z", &t),
			 0);
	assert_int_equal(t, 1709251199LL);
	ipam_schedule_format_time(buf, 1709251199LL);
	assert_string_equal(buf, "2024-02-29T23:59:59Z");
	ipam_schedule_format_time(buf, 1796636595LL);
	assert_string_equal(buf, "2026-12-07T09:43:15Z");
	ipam_schedule_format_time(buf, 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	/* every day of 60 years, both ways, against gmtime */
	for (long long x = 0; x < 60LL * 366 * 86400; x += 86400 + 3601) {
		time_t tt = (time_t)x;
		struct tm tm;
		char want[21];

		gmtime_r(&tt, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ipam_schedule_format_time(buf, x);
		assert_string_equal(buf, want);
		assert_int_equal(ipam_schedule_parse_time(want, &t), 0);
		assert_int_equal(t, x);
	}
	assert_int_equal(ipam_schedule_parse_time("2026-12-07 09:43:15Z", &t),
			 -1);
	assert_int_equal(ipam_schedule_parse_time("2026-12-07T09:43:15", &t),
			 -1);
	assert_int_equal(ipam_schedule_parse_time("2026-13-07T09:43:15Z", &t),
			 -1);
	assert_int_equal(ipam_schedule_parse_time("2026-12-32T09:43:15Z", &t),
			 -1);
	assert_int_equal(ipam_schedule_parse_time("2026-12-07T24:00:00Z", &t),
			 -1);
	assert_int_equal(ipam_schedule_parse_time("2026-12-0xT09:43:15Z", &t),
			 -1);
	assert_int_equal(ipam_schedule_parse_time(NULL, &t), -1);
	assert_int_equal(ipam_schedule_parse_time("", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_ran_is_due_now),
		cmocka_unit_test(test_interval_from_last_start),
		cmocka_unit_test(test_failed_run_retried_sooner),
		cmocka_unit_test(test_clock_set_back),
		cmocka_unit_test(test_due_and_next),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
