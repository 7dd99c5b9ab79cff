/*
 * The address space as the collected data shows it: each address's state
 * (in use while it holds an unexpired DHCP lease, has a DNS A/AAAA record
 * or belongs to an inventory server), recomputed after each audit and dns
 * collection; each declared block and range's utilization, sampled at the
 * same moment so that trends exist; the addresses outside every declared
 * range (unmapped); the utilization event when a range's state (under,
 * optimal, over) differs from its previous sample's.
 *
 * Prefixes: ipam_addresses_, ipam_addr_
 */
#ifndef IPAM_ADDRESSES_H
#define IPAM_ADDRESSES_H

#include <stdbool.h>
#include <stddef.h>

#include "addrspace.h"
#include "db.h"
#include "db_addresses.h"
#include "model.h"
#include "run.h"

/*
 * The addresses the collected data of db shows at now (UTC seconds), in
 * address order; addresses that do not parse are left out.
 */
int ipam_addresses_compute(struct ipam_db *db, long long now,
			   struct ipam_db_address **out, size_t *nr);

/* How full one declared block or range is. */
struct ipam_addr_usage {
	bool block;	  /* a block (else a range) */
	size_t index;	  /* in address_space.blocks / .ranges */
	char *name;	  /* the block's CIDR, the range as written */
	char *block_name; /* a range's block, or NULL */
	char *size;	  /* exact, decimal */
	char *free;	  /* exact, decimal */
	struct ipam_util util;
	int under, over; /* thresholds */
	bool has_prev;	 /* a sample before this one */
	enum ipam_util_state prev;
};

/* The address space of d with the addresses stored in db. */
struct ipam_addr_view {
	struct ipam_db_address *addrs; /* address order */
	struct ipam_ip *ips;	       /* parsed, same order */
	long *range_of;		       /* range index of each, -1 unmapped */
	size_t nr;
	struct ipam_addr_usage *usage; /* blocks, then ranges */
	size_t nr_usage;
	size_t nr_unmapped; /* seen addresses outside every range */
};

/* Build the view of d's address space from the addresses stored. */
int ipam_addr_view_load(struct ipam_addr_view *v, const struct ipam_desired *d,
			struct ipam_db *db);
void ipam_addr_view_release(struct ipam_addr_view *v);

/*
 * After a collection (run holds the lock): recompute and store the
 * addresses, store a sample of each block and range, and tell the hooks
 * utilization for each range whose state changed since its last sample.
 * *crossed gets how many did (NULL: not wanted).
 */
int ipam_addresses_update(const struct ipam_run *run, long long now,
			  size_t *crossed);

#endif
