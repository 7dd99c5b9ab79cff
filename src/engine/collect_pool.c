#include "collect_pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strbuf.h"
#include "banned.h"

struct pool {
	char *items;
	size_t size, nr, next;
	void (*fn)(void *item);
	pthread_mutex_t mu;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->nr)
			return NULL;
		p->fn(p->items + i * p->size);
	}
}

void ipam_collect_pool_run(void *items, size_t size, size_t nr, int concurrency,
			   void (*fn)(void *item))
{
	struct pool p = {.items = items, .size = size, .nr = nr, .fn = fn};
	pthread_t *t;
	int started = 0;

	if (concurrency < 1)
		concurrency = 1;
	t = xcalloc((size_t)concurrency, sizeof(*t));
	pthread_mutex_init(&p.mu, NULL);
	for (int i = 0; i < concurrency && (size_t)i < nr; i++) {
		if (pthread_create(&t[i], NULL, worker, &p))
			break;
		started++;
	}
	if (!started)
		worker(&p);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(t);
}

void ipam_collect_pool_time(char *buf, size_t size, long long t)
{
	time_t tt = t ? (time_t)t : time(NULL);
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "1970-01-01T00:00:00Z");
}
