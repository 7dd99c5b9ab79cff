/*
 * The scheduled tasks' timing, as IPAM's Task Scheduler has it: each task
 * runs on its own interval, counted from its last start; one that never
 * ran is due now; one whose whole run failed (no server reached at all:
 * the database, the identity's ticket) is tried again sooner.  Pure: the
 * caller reads the last runs (collect_tasks) and the clock.
 *
 * Prefixes: ipam_schedule_
 */
#ifndef IPAM_SCHEDULE_H
#define IPAM_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* A task whose last run failed as a whole is tried again after at most
 * this many seconds (its interval when shorter). */
#define IPAM_SCHEDULE_RETRY 900

struct ipam_schedule_task {
	long long interval; /* seconds (> 0) */
	long long started;  /* UTC seconds of its last start; 0: never ran */
	long long ended;    /* of its last end; 0: none recorded */
	bool failed;	    /* the last run failed as a whole */
};

/*
 * When t is due next, in UTC seconds: never ran -> now; else its last
 * start plus its interval (a failed run: its end plus the shorter of the
 * interval and IPAM_SCHEDULE_RETRY).  A last start in the future (the
 * clock was set back) counts from now, so no task waits for the clock to
 * catch up.
 */
long long ipam_schedule_next(const struct ipam_schedule_task *t, long long now);

/*
 * The tasks of v[0..IPAM_TASK_NR) that are due at now, as bits
 * (1u << task); *next gets the earliest due time of the others (0 when
 * every task is due).  A task with no interval (0) is never due.
 */
unsigned ipam_schedule_due(const struct ipam_schedule_task v[IPAM_TASK_NR],
			   long long now, long long *next);

/* "2026-12-07T09:43:15Z" (the state database's times) as UTC seconds;
 * -1 when it is not that form. */
int ipam_schedule_parse_time(const char *iso, long long *out);

/* The inverse: out gets "YYYY-MM-DDTHH:MM:SSZ". */
void ipam_schedule_format_time(char out[21], long long t);

#endif
