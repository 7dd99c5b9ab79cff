/*
 * Retention of collected history (collection.retainDays): the DHCP audit
 * events, the DNS record changes and the availability changes older than
 * the cut-off are deleted in bounded batches, each its own transaction,
 * so that a large backlog never holds the database for long and a reader
 * (track, the tasks view) gets in between.
 *
 * Prefixes: ipam_db_prune_
 */
#ifndef IPAM_DB_PRUNE_H
#define IPAM_DB_PRUNE_H

#include "db.h"

/* Rows deleted per transaction. */
#define IPAM_DB_PRUNE_BATCH 5000

struct ipam_db_prune_counts {
	long long dhcp_events, dns_record_history, availability_history;
	long long batches; /* transactions it took */
};

/*
 * Delete the history older than retain_days before now (UTC seconds):
 * the audit events by at through their batches (db_events.h),
 * dns_record_history and availability_history by at (ISO 8601 UTC).  What is
 * current (the zones, records, availability states) is never pruned.  out
 * counts what went, also when an error stops it part way (what was deleted
 * stays deleted: each batch committed).
 */
int ipam_db_prune_history(struct ipam_db *db, int retain_days, long long now,
			  struct ipam_db_prune_counts *out);

#endif
