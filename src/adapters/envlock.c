#include "envlock.h"

#include <pthread.h>
#include <time.h>

#include "banned.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock;
/* Written only by the holder; read under the lock. */
static unsigned depth;
static double held_since;
static struct ipam_envlock_stats stats;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void init_lock(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&lock, &a);
	pthread_mutexattr_destroy(&a);
}

void ipam_envlock_acquire(void)
{
	double t = now();

	pthread_once(&once, init_lock);
	pthread_mutex_lock(&lock);
	if (depth++)
		return;
	held_since = now();
	stats.taken++;
	stats.wait_s += held_since - t;
}

void ipam_envlock_release(void)
{
	if (!--depth)
		stats.held_s += now() - held_since;
	pthread_mutex_unlock(&lock);
}

void ipam_envlock_stats(struct ipam_envlock_stats *out)
{
	pthread_once(&once, init_lock);
	pthread_mutex_lock(&lock);
	*out = stats;
	pthread_mutex_unlock(&lock);
}
