/*
 * What the report shows, read from the state database as one document
 * tree (the JSON model of schemas/report.schema.json, less the scheduled
 * tasks' next runs, which the engine adds from the desired state's
 * intervals).  Bounded: the latest events, runs and samples only, each
 * list with its total count.
 *
 * Prefixes: ipam_db_report_
 */
#ifndef IPAM_DB_REPORT_H
#define IPAM_DB_REPORT_H

#include <stddef.h>

#include "db.h"
#include "node.h"

struct ipam_db_report_opts {
	size_t events;	/* the latest IP address tracking events shown */
	size_t runs;	/* the latest runs shown */
	size_t trend;	/* utilization samples per block and range */
	size_t changes; /* availability changes shown */
};

/*
 * Fill the map root with the sections overview (less overview.tasks),
 * servers, gpos, addressSpace, dnsZones, availability and events.  The
 * address space is empty ("available": false) on a schema without its
 * tables.
 */
int ipam_db_report_read(struct ipam_db *db, const struct ipam_db_report_opts *o,
			struct ipam_node *root);

/* One stored address, as the report lists it (valid during the call). */
struct ipam_db_report_addr {
	const char *address, *state, *mac, *host, *sources;
	long long last_seen; /* UTC seconds */
};

typedef int (*ipam_db_report_addr_fn)(const struct ipam_db_report_addr *a,
				      void *ctx);

/* fn for every stored address, in address order (none before schema 9);
 * fn returns 0 to go on, a negative code to stop (returned). */
int ipam_db_report_addresses(struct ipam_db *db, ipam_db_report_addr_fn fn,
			     void *ctx);

#endif
