/*
 * What the zones and availability tasks store (schema 8): the state of
 * each managed server's DHCP and DNS service with since when and each
 * change in availability_history; the zones to monitor with their apex NS
 * records and glue (from what the dns task collected: dns_zones,
 * dns_records); each zone's monitoring status in zone_status.  Times are
 * UTC, ISO 8601 ("2026-12-07T09:41:00Z").
 *
 * Prefixes: ipam_db_monitor_
 */
#ifndef IPAM_DB_MONITOR_H
#define IPAM_DB_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

struct ipam_db;

/* ---- availability ------------------------------------------------------ */

/*
 * Store one check of server's service ("dhcp" or "dns") made at `at`:
 * the state, the round trip (rtt_ms < 0: none) and the reason.  `since`
 * stays when the state is the one stored, else it becomes `at` and a row
 * goes to availability_history (the first check too).  *changed (may be
 * NULL) says whether it did.  IPAM_ENOTFOUND: no such server.
 */
int ipam_db_monitor_avail_store(struct ipam_db *db, long long run_id,
				const char *server, const char *service,
				bool up, int rtt_ms, const char *reason,
				const char *at, bool *changed);

struct ipam_db_avail {
	char *server, *domain; /* domain: NULL when none */
	char *service;	       /* "dhcp" or "dns" */
	bool up;
	char *since, *checked_at;
	int rtt_ms; /* -1: none */
	char *reason;
	long long run_id; /* 0: none */
};

/* The stored states, by server then service; domain (NULL: all) limits
 * them to the servers of that discovery domain. */
int ipam_db_monitor_avail_list(struct ipam_db *db, const char *domain,
			       struct ipam_db_avail **out, size_t *nr);
void ipam_db_monitor_avail_free(struct ipam_db_avail *v, size_t nr);

/* ---- zones ------------------------------------------------------------- */

/* A forward zone the dns task collected, with the NS targets at its apex
 * (lower case, no trailing dot, sorted, distinct). */
struct ipam_db_monitor_zone {
	long long id;
	char *name, *domain;
	char *server; /* the managed server it was read through */
	char **ns;
	size_t nr_ns;
};

/* Forward zones (reverse = 0), by name; the root hints and trust anchors
 * ("RootDNSServers", "..TrustAnchors") are no zones to monitor. */
int ipam_db_monitor_zones(struct ipam_db *db, struct ipam_db_monitor_zone **out,
			  size_t *nr);
void ipam_db_monitor_zones_free(struct ipam_db_monitor_zone *v, size_t nr);

/*
 * The addresses collected zones hold for host (A and AAAA records): the
 * zone that is the longest suffix of host and has any, sorted, distinct.
 * 0 with *nr = 0 when none does.
 */
int ipam_db_monitor_glue(struct ipam_db *db, const char *host,
			 struct ipam_addr **out, size_t *nr);

/* Replace the zone's status ("OK", "Warning" or "Critical"); servers is
 * the JSON list of what each hosting server answered. */
int ipam_db_monitor_zone_status_store(struct ipam_db *db, long long zone_id,
				      long long run_id, const char *at,
				      const char *status, const char *reason,
				      const char *servers_json);

struct ipam_db_zone_status {
	char *zone, *domain;
	char *status, *reason, *checked_at;
	char *servers_json;
};

/* The stored statuses, by zone name; domain (NULL: all) limits them. */
int ipam_db_monitor_zone_status_list(struct ipam_db *db, const char *domain,
				     struct ipam_db_zone_status **out,
				     size_t *nr);
void ipam_db_monitor_zone_status_free(struct ipam_db_zone_status *v, size_t nr);

#endif
