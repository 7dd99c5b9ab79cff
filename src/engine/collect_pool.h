/*
 * What the availability and zones tasks share: running one job per item
 * on a bounded number of threads, and the time every stored check carries.
 *
 * Prefixes: ipam_collect_pool_
 */
#ifndef IPAM_COLLECT_POOL_H
#define IPAM_COLLECT_POOL_H

#include <stddef.h>

/* fn(items + i * size) for each of the nr items, at most concurrency at
 * once (one thread, the caller's, when none can be started). */
void ipam_collect_pool_run(void *items, size_t size, size_t nr, int concurrency,
			   void (*fn)(void *item));

/* t (UTC seconds; 0: now) as the database stores times,
 * "2026-12-07T09:41:00Z", in buf (32 bytes will do). */
void ipam_collect_pool_time(char *buf, size_t size, long long t);

#endif
