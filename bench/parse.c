/*
 * bench/parse.c: bench-parse DB FILE SERVER [TZIF]: the audit task's
 * parsing thread on a local DHCP audit log, without SMB: the file fed to
 * ipam_dhcplog_feed in pieces of 64 KiB (as the SMB reader's pipe hands
 * them), each event through what collect_audit.c's on_event does (the
 * server's local time to UTC in the zone of the TZif file, UTC without
 * one) into ipam_db_events_add, a batch handed to the committing thread
 * every 100,000 events.  Prints the events, the malformed lines and the
 * main thread's CPU; bench/parse runs it (under callgrind for the
 * instructions of ipam_dhcplog_feed and below).
 *
 * Never part of the test run.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "db.h"
#include "db_events.h"
#include "dhcplog.h"
#include "error.h"
#include "tzif.h"

#define BATCH 100000
#define PIECE (64 * 1024)

struct imp {
	struct ipam_db *db;
	struct ipam_tz *tz;
	struct ipam_db_events_batch *b;
	long long in_batch, total, malformed;
};

/* collect_audit.c's on_event */
static int on_event(const struct ipam_dhcplog_event *e, void *ctx)
{
	struct imp *im = ctx;
	int year = e->year < 100 ? 2000 + e->year : e->year;
	long long local = ipam_tz_civil(year, e->month, e->day, e->hour,
					e->minute, e->second);
	struct ipam_db_event_in ev = {
		.e = e,
		.at = ipam_tz_to_utc(im->tz, local),
		.local = local,
	};

	im->in_batch++;
	return ipam_db_events_add(im->b, &ev);
}

static int on_bad(size_t line, const char *why, void *ctx)
{
	struct imp *im = ctx;

	im->malformed++;
	if (getenv("BENCH_VERBOSE"))
		fprintf(stderr, "line %zu: %s\n", line, why);
	return 0;
}

/* Hand the batch to the committing thread (more: the log goes on, as the
 * audit task does) or commit it now, the cursor at the parser's end. */
static int commit(struct imp *im, struct ipam_dhcplog *p, int more)
{
	struct ipam_db_audit_cursor c = {
		.offset = (long long)ipam_dhcplog_consumed(p),
		.line = (long long)ipam_dhcplog_lines(p),
		.generation = 1,
	};
	int rc = more ? ipam_db_events_commit_next(&im->b, &c)
		      : ipam_db_events_commit(im->b, &c);

	if (!more)
		im->b = NULL;
	im->total += im->in_batch;
	im->in_batch = 0;
	return rc;
}

static int load_tz(struct imp *im, const char *path)
{
	static unsigned char buf[1 << 16];
	FILE *f;
	size_t n;

	if (!path) {
		im->tz = ipam_tz_utc();
		return 0;
	}
	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return ipam_tz_parse(&im->tz, buf, n);
}

int main(int argc, char **argv)
{
	static char buf[PIECE];
	struct imp im = {0};
	struct ipam_dhcplog *p;
	struct rusage t;
	FILE *f;
	size_t n;
	int rc;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: bench-parse DB FILE SERVER [TZIF]\n");
		return 2;
	}
	f = fopen(argv[2], "rb");
	if (!f || load_tz(&im, argc == 5 ? argv[4] : NULL)) {
		fprintf(stderr, "bench-parse: cannot read %s\n",
			f ? argv[4] : argv[2]);
		return 1;
	}
	rc = ipam_db_open(&im.db, argv[1], 0);
	if (!rc)
		rc = ipam_db_events_begin(im.db, &im.b, argv[3], 0,
					  "DhcpSrvLog-Fri.log", 1);
	p = ipam_dhcplog_new(4, NULL, 1, on_event, on_bad, &im);
	while (!rc && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		rc = ipam_dhcplog_feed(p, buf, n);
		if (!rc && im.in_batch >= BATCH)
			rc = commit(&im, p, 1);
	}
	if (!rc)
		rc = commit(&im, p, 0);
	ipam_db_events_abort(im.b);
	ipam_dhcplog_free(p);
	fclose(f);
	getrusage(RUSAGE_THREAD, &t);
	ipam_tz_free(im.tz);
	if (rc) {
		fprintf(stderr, "bench-parse: %s\n", ipam_error_last());
		ipam_db_close(im.db);
		return 1;
	}
	printf("%lld events, %lld malformed; main thread CPU %.2f s user + "
	       "%.2f s sys\n",
	       im.total, im.malformed,
	       (double)t.ru_utime.tv_sec + t.ru_utime.tv_usec / 1e6,
	       (double)t.ru_stime.tv_sec + t.ru_stime.tv_usec / 1e6);
	ipam_db_close(im.db);
	return 0;
}
