/*
 * bench/import-file DB FILE SERVER: parse a local DHCP audit log and store
 * its events in the state database DB as the audit task does (batches of
 * 100,000 through ipam_db_events_begin/add/commit; times taken as UTC),
 * without SMB: what bench/collect's import costs on this side of the
 * network, for a profiler (perf record, valgrind --tool=callgrind).
 *
 * Never part of the test run.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_events.h"
#include "dhcplog.h"
#include "error.h"
#include "tzif.h"

#define BATCH 100000

struct imp {
	struct ipam_db *db;
	const char *server;
	struct ipam_db_events_batch *b;
	long long in_batch, total;
};

static int on_event(const struct ipam_dhcplog_event *e, void *ctx)
{
	struct imp *im = ctx;
	int year = e->year < 100 ? 2000 + e->year : e->year;
	long long at = ipam_tz_civil(year, e->month, e->day, e->hour, e->minute,
				     e->second);
	struct ipam_db_event_in ev = {.e = e, .at = at, .local = at};

	im->in_batch++;
	return ipam_db_events_add(im->b, &ev);
}

static int on_lease(const char *ip, int family,
		    const struct ipam_lease_event *ev, size_t nr, void *ctx)
{
	(void)ip;
	(void)family;
	(void)ev;
	*(size_t *)ctx += nr;
	return 0;
}

/* The CPU seconds of this thread so far. */
static double thread_cpu(void)
{
	struct rusage t;

	getrusage(RUSAGE_THREAD, &t);
	return (double)t.ru_utime.tv_sec + t.ru_utime.tv_usec / 1e6 +
	       (double)t.ru_stime.tv_sec + t.ru_stime.tv_usec / 1e6;
}

static int on_bad(size_t line, const char *why, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "line %zu: %s\n", line, why);
	return 0;
}

static int flush(struct imp *im, struct ipam_dhcplog *p, int again)
{
	struct ipam_db_audit_cursor c = {.generation = 1};
	int rc;

	c.offset = (long long)ipam_dhcplog_consumed(p);
	c.line = (long long)ipam_dhcplog_lines(p);
	/* as the audit task does: the next batch is parsed while a thread
	 * commits this one */
	if (again) {
		rc = ipam_db_events_commit_next(&im->b, &c);
	} else {
		rc = ipam_db_events_commit(im->b, &c);
		im->b = NULL;
	}
	im->total += im->in_batch;
	im->in_batch = 0;
	return rc;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct imp im = {0};
	struct ipam_dhcplog *p;
	FILE *f;
	size_t n;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: import-file DB FILE SERVER\n");
		return 2;
	}
	im.server = argv[3];
	f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	rc = ipam_db_open(&im.db, argv[1], 0);
	if (!rc)
		rc = ipam_db_events_begin(im.db, &im.b, im.server, 0,
					  "DhcpSrvLog-Fri.log", 1);
	p = ipam_dhcplog_new(4, NULL, 1, on_event, on_bad, &im);
	while (!rc && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		rc = ipam_dhcplog_feed(p, buf, n);
		if (!rc && im.in_batch >= BATCH)
			rc = flush(&im, p, 1);
	}
	if (!rc)
		rc = flush(&im, p, 0);
	ipam_db_events_abort(im.b);
	ipam_dhcplog_free(p);
	fclose(f);
	if (rc) {
		fprintf(stderr, "import-file: %s\n", ipam_error_last());
		return 1;
	}
	printf("%lld events\n", im.total);
	/* the main thread's CPU (parsing, encoding, waiting for nothing)
	 * against the whole process's (the committing threads too) */
	{
		struct rusage t, all;

		getrusage(RUSAGE_THREAD, &t);
		getrusage(RUSAGE_SELF, &all);
		printf("CPU: main thread %.2f s user + %.2f s sys; process "
		       "%.2f s user + %.2f s sys\n",
		       (double)t.ru_utime.tv_sec + t.ru_utime.tv_usec / 1e6,
		       (double)t.ru_stime.tv_sec + t.ru_stime.tv_usec / 1e6,
		       (double)all.ru_utime.tv_sec + all.ru_utime.tv_usec / 1e6,
		       (double)all.ru_stime.tv_sec +
			       all.ru_stime.tv_usec / 1e6);
	}
	/* what the addresses' pass after a collect reads: every stored
	 * event's lease slots */
	if (getenv("BENCH_LEASES")) {
		double t0 = thread_cpu();
		size_t slots = 0;

		rc = ipam_db_events_leases(im.db, on_lease, &slots);
		printf("leases scan: %zu slots, %.2f s CPU (rc %d)\n", slots,
		       thread_cpu() - t0, rc);
	}
	ipam_db_close(im.db);
	return 0;
}
