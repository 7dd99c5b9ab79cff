/*
 * The decision of zone monitoring (collect_zones.c), apart from the
 * network so that unit tests can put every case to it.
 *
 * Prefixes: ipam_collect_zones_
 */
#ifndef IPAM_COLLECT_ZONES_H
#define IPAM_COLLECT_ZONES_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

struct ipam_db_monitor_zone;

/* One server listed as NS of one zone, and what it answered. */
struct ipam_collect_zones_probe {
	const struct ipam_db_monitor_zone *z;
	const char *ns;
	char addr[46]; /* "" when it could not be resolved */
	bool answered, authoritative, has_serial;
	unsigned long serial;
	char reason[240]; /* why it fails the zone; "" when all is well */
};

/*
 * The zone's status from its listed servers' probes: "Critical" when one
 * has a reason or none is listed, else "Warning" when their SOA serials
 * differ, else "OK".  The reasons (each server's, then the serials as
 * "SOA serials differ: a 7, b 8") go to why, "; " between.
 */
const char *ipam_collect_zones_judge(struct strbuf *why,
				     const struct ipam_collect_zones_probe *p,
				     size_t nr);

#endif
