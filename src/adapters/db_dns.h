/*
 * The state database's side of the dns task: the AD-integrated zones of
 * each managed DNS server's domain and their records, stored by
 * difference with what was stored before, each difference a row of
 * dns_record_history:
 *   added    a record (name, type, data) that was not there;
 *   removed  one that is gone;
 *   changed  the same record with another TTL, or the one record of a
 *            single-valued type (SOA, CNAME) with other data.
 * A zone is stored in one transaction: a failure leaves it as it was.
 * The first time a zone is stored its records are the baseline, not
 * history.  The views read what is stored (zone_status, written by the
 * zones task, gives a zone its monitoring status).
 *
 * Prefixes: ipam_db_dns_
 */
#ifndef IPAM_DB_DNS_H
#define IPAM_DB_DNS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* One record as collected. */
struct ipam_db_dns_record {
	const char *name; /* relative to the zone; "@" the apex */
	unsigned type;	  /* DNS type number */
	const char *data; /* presentation form (dnsrecord.h) */
	long long ttl;
	long long aging; /* TimeStamp: hours since 1601; 0 static */
};

/* A zone as read from AD. */
struct ipam_db_dns_zone {
	const char *domain;    /* the discovery domain it was read through */
	const char *name;      /* "corp.example.test" */
	const char *partition; /* "domain", "forest" or "legacy" */
	const char *dn;
	bool reverse;
	const char *server; /* the managed DNS server it was read through */
};

struct ipam_db_dns_changes {
	long long added, removed, changed;
	bool first; /* the zone was new: no history written */
};

/*
 * Store zone z with exactly the records recs (duplicates count once),
 * recording the differences with run_id (0: none).  IPAM_ENOTFOUND when
 * z->server is not in the inventory.
 */
int ipam_db_dns_store_zone(struct ipam_db *db, const struct ipam_db_dns_zone *z,
			   const struct ipam_db_dns_record *recs, size_t nr,
			   long long run_id, struct ipam_db_dns_changes *out);

/*
 * The zones of domain in partition are exactly names (a complete read of
 * that partition): remove the others, with their records and history.
 * *removed (may be NULL) counts them.
 */
int ipam_db_dns_retain_zones(struct ipam_db *db, const char *domain,
			     const char *partition, const char *const *names,
			     size_t nr, long long *removed);

/* ---- views ------------------------------------------------------------ */

struct ipam_db_dns_zone_row {
	long long id; /* dns_zones.id (zone_status.zone_id) */
	char *domain, *name, *partition, *dn, *server, *collected_at;
	bool reverse;
	long long records;
	char **ns; /* the NS records at the apex, as stored */
	size_t nr_ns;
	char *status;	  /* zone_status: "OK", ...; NULL: not checked */
	char *reason;	  /* NULL when none */
	char *checked_at; /* NULL when not checked */
};

/* The stored zones (of domain, NULL: all), by domain and name. */
int ipam_db_dns_zones(struct ipam_db *db, const char *domain,
		      struct ipam_db_dns_zone_row **out, size_t *nr);
void ipam_db_dns_zones_free(struct ipam_db_dns_zone_row *v, size_t nr);

struct ipam_db_dns_record_row {
	const char *zone, *partition, *name, *data;
	unsigned type;
	long long ttl, aging;
};

struct ipam_db_dns_history_row {
	const char *zone, *at, *change, *name;
	const char *old_data, *new_data; /* NULL when none */
	unsigned type;
	long long run_id;	    /* 0: none */
	long long old_ttl, new_ttl; /* -1: none */
};

/* Return nonzero to stop (it is returned). */
typedef int (*ipam_db_dns_record_fn)(void *ctx,
				     const struct ipam_db_dns_record_row *r);
typedef int (*ipam_db_dns_history_fn)(void *ctx,
				      const struct ipam_db_dns_history_row *h);

/*
 * The records of zone (any case), restricted to name (NULL: all; "@" the
 * apex) and type (0: all), by name, type and data.  IPAM_ENOTFOUND when
 * no zone of that name is stored.
 */
int ipam_db_dns_records(struct ipam_db *db, const char *zone, const char *name,
			unsigned type, ipam_db_dns_record_fn fn, void *ctx);

/* The history of zone, newest first, at most limit rows (0: all);
 * IPAM_ENOTFOUND when no zone of that name is stored. */
int ipam_db_dns_history(struct ipam_db *db, const char *zone, long long limit,
			ipam_db_dns_history_fn fn, void *ctx);

#endif
