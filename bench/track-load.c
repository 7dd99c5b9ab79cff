/*
 * bench/track-load DB EVENTS [CLIENTS]: fill the audit events of a state
 * database (made by `ipamctl db init`, with dhcp1..dhcp4.corp.example.test in
 * its servers table) the way the audit task stores them: batches of
 * 100,000 events through ipam_db_events_begin/add/commit, each batch
 * another server's in turn.
 *
 * Client k (0 <= k < CLIENTS, default 100000): 10.(k>>16).((k>>8)&255).(k&255),
 * MAC 00155d + k in hex, host client<k>.corp.example.test.  Event i is of
 * client (i * 7919) % 100000, at 2025-12-01 + 3.1 s * i.
 *
 * Part of bench/track; never part of the test run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_events.h"
#include "error.h"

static long long clients = 100000;
#define BATCH 100000
#define T0    1764547200LL /* 2025-12-01T00:00:00Z */

static int load(struct ipam_db *db, long long n)
{
	static const char *const servers[] = {
		"dhcp1.corp.example.test",
		"dhcp2.corp.example.test",
		"dhcp3.corp.example.test",
		"dhcp4.corp.example.test",
	};
	static const char *const what[] = {"Assign", "Renew", "Release"};
	char ip[32], host[64], mac[16], xid[24], local[32];
	struct ipam_dhcplog_event e = {
		.family = 4,
		.ip = ip,
		.host = host,
		.client_id = mac,
		.transaction_id = xid,
		.qresult = "0",
		.dns_reg_error = "0",
	};
	long long i = 0;

	while (i < n) {
		struct ipam_db_events_batch *b;
		struct ipam_db_audit_cursor c = {.generation = 1};
		long long end = i + BATCH < n ? i + BATCH : n;
		int rc = ipam_db_events_begin(db, &b, servers[(i / BATCH) % 4],
					      0, "DhcpSrvLog-Mon.log", 1);

		for (; !rc && i < end; i++) {
			long long k = (i * 7919) % clients,
				  at = T0 + i * 31 / 10;
			time_t lt = (time_t)(at + 3600);
			struct tm tm;
			struct ipam_db_event_in in = {&e, at, local, 0};

			gmtime_r(&lt, &tm);
			strftime(local, sizeof(local), "%Y-%m-%dT%H:%M:%S",
				 &tm);
			snprintf(ip, sizeof(ip), "10.%lld.%lld.%lld", k >> 16,
				 (k >> 8) & 255, k & 255);
			snprintf(host, sizeof(host),
				 "client%lld.corp.example.test", k);
			snprintf(mac, sizeof(mac), "00155d%06llx", k);
			snprintf(xid, sizeof(xid), "%lld", i);
			e.event_id = 10 + (int)(i % 3);
			e.description = what[i % 3];
			e.line = (size_t)(40 + i / 4);
			rc = ipam_db_events_add(b, &in);
		}
		c.offset = c.line = c.size = i;
		if (!rc)
			rc = ipam_db_events_commit(b, &c);
		else
			ipam_db_events_abort(b);
		if (rc)
			return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ipam_db *db;
	int rc;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: track-load DB EVENTS [CLIENTS]\n");
		return 2;
	}
	if (argc == 4)
		clients = strtoll(argv[3], NULL, 10);
	if (clients < 1)
		clients = 1;
	rc = ipam_db_open(&db, argv[1], 0);
	if (!rc)
		rc = load(db, strtoll(argv[2], NULL, 10));
	if (rc) {
		fprintf(stderr, "track-load: %s\n", ipam_error_last());
		return 1;
	}
	ipam_db_close(db);
	return 0;
}
