/*
 * The process-wide SMB/Kerberos lock: recursive for its holder, exclusive
 * between threads, and its counts (taken, held, waited for).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>
#include <cmocka.h>

#include "envlock.h"

static int inside, most_inside;

static void nap_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
}

static void *holder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		ipam_envlock_acquire();
		ipam_envlock_acquire(); /* again: recursive */
		if (++inside > most_inside)
			most_inside = inside;
		nap_ms(10);
		inside--;
		ipam_envlock_release();
		ipam_envlock_release();
	}
	return NULL;
}

static void test_exclusive_and_counted(void **state)
{
	struct ipam_envlock_stats before, after;
	pthread_t t[3];

	(void)state;
	ipam_envlock_stats(&before);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, holder, NULL), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ipam_envlock_stats(&after);
	assert_int_equal(most_inside, 1);
	/* Outermost acquisitions only. */
	assert_int_equal(after.taken - before.taken, 15);
	assert_true(after.held_s - before.held_s >= 0.14);
	/* Three threads for one lock: someone waited. */
	assert_true(after.wait_s - before.wait_s > 0.01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exclusive_and_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
