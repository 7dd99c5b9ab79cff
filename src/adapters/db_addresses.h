/*
 * The state database's side of the address space: what the collected data
 * shows of each address (the audit events per address, the DNS A/AAAA
 * records, the inventory servers' addresses), the addresses table the
 * engine recomputes from it after each collection, and the utilization
 * samples of the declared blocks and ranges.  The decisions are core's
 * (core/leases.h, core/addrspace.h); engine/addresses.c joins them.
 *
 * Prefixes: ipam_db_addr_, ipam_db_util_
 */
#ifndef IPAM_DB_ADDRESSES_H
#define IPAM_DB_ADDRESSES_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "leases.h"

/* Where an address was seen (bits). */
enum {
	IPAM_ADDR_SRC_DHCP = 1u << 0,	   /* a DHCP audit event names it */
	IPAM_ADDR_SRC_DNS = 1u << 1,	   /* a DNS A/AAAA record */
	IPAM_ADDR_SRC_INVENTORY = 1u << 2, /* an inventory server's */
};

/* "dhcp,dns,inventory" for the bits of mask, appended to out. */
void ipam_db_addr_sources_format(struct strbuf *out, unsigned mask);

/*
 * The audit events of each address, one address at a time in the order of
 * the address text: those that decide its lease and its sources
 * (ipam_db_events_leases); ev[] is valid during the call only.  fn returns 0 to
 * go on, a negative code to stop (returned).
 */
typedef int (*ipam_db_addr_events_fn)(const char *ip, int family,
				      const struct ipam_lease_event *ev,
				      size_t nr, void *ctx);
int ipam_db_addr_scan_events(struct ipam_db *db, ipam_db_addr_events_fn fn,
			     void *ctx);

/* An address a DNS record or an inventory server shows. */
struct ipam_db_addr_seen {
	unsigned source;     /* IPAM_ADDR_SRC_DNS or _INVENTORY */
	const char *ip;	     /* as stored */
	int family;	     /* 4 or 6 */
	const char *host;    /* the record's FQDN, the server's name */
	long long server_id; /* the DNS server the zone was read through,
			      * the inventory server */
};

typedef int (*ipam_db_addr_seen_fn)(const struct ipam_db_addr_seen *s,
				    void *ctx);
/* Every A and AAAA record of the zones collected. */
int ipam_db_addr_scan_dns(struct ipam_db *db, ipam_db_addr_seen_fn fn,
			  void *ctx);
/* Every address of an inventory server that is not gone. */
int ipam_db_addr_scan_inventory(struct ipam_db *db, ipam_db_addr_seen_fn fn,
				void *ctx);

/* One source of an address, to store. */
struct ipam_db_addr_src {
	unsigned source; /* one IPAM_ADDR_SRC_* bit */
	long long server_id;
	char *detail; /* host name the source gives, or NULL */
};

/* One address, as stored and loaded. */
struct ipam_db_address {
	char *address; /* canonical text */
	int family;    /* 4 or 6 */
	bool in_use;
	char *mac, *host;		 /* or NULL */
	unsigned sources;		 /* IPAM_ADDR_SRC_* bits */
	long long lease_expires;	 /* UTC seconds; 0: never leased */
	long long last_event_id;	 /* the audit event that decided; 0 */
	long long dhcp_server_id;	 /* 0: none */
	char *dhcp_server;		 /* its name (loaded) */
	long long first_seen, last_seen; /* UTC seconds */
	struct ipam_db_addr_src *src;	 /* to store */
	size_t nr_src, alloc_src;
};

void ipam_db_addr_release(struct ipam_db_address *a);
void ipam_db_addresses_free(struct ipam_db_address *v, size_t nr);

/*
 * Replace the addresses with v[0..nr) in one transaction: each keeps the
 * first_seen it had (the earlier of the two), addresses not in v go, and
 * so do their sources.
 */
int ipam_db_addr_store(struct ipam_db *db, const struct ipam_db_address *v,
		       size_t nr);
/* Every address stored (order unspecified; sources without src[]). */
int ipam_db_addr_load(struct ipam_db *db, struct ipam_db_address **out,
		      size_t *nr);

/* One utilization sample of a block or range. */
struct ipam_db_util_sample {
	char *kind; /* "block" or "range" */
	char *name; /* the block's CIDR, the range as written */
	char *at;   /* ISO 8601 UTC; set by the database when stored */
	char *size; /* exact, decimal */
	long long used;
	double percent;
	char *state; /* "under", "optimal", "over" */
	long long run_id;
};

/* Store v[0..nr) at the same moment, in one transaction. */
int ipam_db_util_store(struct ipam_db *db, long long run_id,
		       const struct ipam_db_util_sample *v, size_t nr);
/* The last samples (at most last; 0: all) of kind/name, oldest first. */
int ipam_db_util_samples(struct ipam_db *db, const char *kind, const char *name,
			 size_t last, struct ipam_db_util_sample **out,
			 size_t *nr);
void ipam_db_util_samples_free(struct ipam_db_util_sample *v, size_t nr);

#endif
