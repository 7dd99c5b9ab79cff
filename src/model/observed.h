/*
 * The observed model: what discovery found in each domain, as plain
 * values.  Built by discover.c, read by the inventory and (later) the
 * reconciler; no I/O here.
 *
 * Prefixes: ipam_obs_
 *   (short for the observed model, used on every line of discovery).
 */
#ifndef IPAM_OBSERVED_H
#define IPAM_OBSERVED_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "model.h"
#include "strpool.h"

/* Whether discovery of one role in one domain can be trusted. */
enum ipam_verdict {
	IPAM_VERDICT_OFF,	 /* switched off (config, or by rule) */
	IPAM_VERDICT_COMPLETE,	 /* every source answered */
	IPAM_VERDICT_INCOMPLETE, /* a source failed: reason says which */
};

struct ipam_role_status {
	enum ipam_verdict verdict;
	char *reason; /* why incomplete or off; NULL when complete */
};

struct ipam_obs_server {
	char *name;	 /* lower-case FQDN */
	unsigned roles;	 /* IPAM_ROLE_* found or declared */
	bool declared;	 /* listed with roles in the desired state */
	bool in_ad;	 /* its computer object was found */
	bool zone_addrs; /* addresses read from the AD-integrated zone */
	/* name, addrs, os_*, guid, sid and dn are in the domain's pool:
	 * replaced, never freed, one by one (ipam_obs_set_str) */
	bool pooled;
	struct ipam_addr *addrs;
	size_t nr_addrs;
	char *os_name, *os_version;
	char *guid, *sid, *dn;
	char *note; /* e.g. why an unusual server was kept */
};

/* A server a rule left out, with the rule. */
struct ipam_obs_excluded {
	char *name;
	unsigned role;
	char *reason;
};

struct ipam_obs_domain {
	char *name;
	char *server_uri; /* the DC that answered, or NULL */
	struct ipam_role_status dc, dns, dhcp, declared;
	struct ipam_obs_server *servers;
	size_t nr_servers, alloc_servers;
	/* ipam_obs_find's hash of the names: slot -> server index + 1 (0:
	 * empty), for the idx_nr servers at idx_base when it was made.
	 * ipam_obs_get and ipam_obs_domain_sort keep it; code that removes
	 * or moves servers otherwise makes it stale (a find then scans) or
	 * calls ipam_obs_domain_index after. */
	size_t *idx;
	size_t idx_cap, idx_nr;
	const struct ipam_obs_server *idx_base;
	/* When set, ipam_obs_get puts new servers' strings here (pooled):
	 * discovery of 100,000 servers, without a malloc header for each
	 * string, and one copy of each operating system's name. */
	struct ipam_strpool *pool;
	struct ipam_obs_excluded *excluded;
	size_t nr_excluded, alloc_excluded;
	/* Errors about the desired state found while discovering (a declared
	 * server that does not resolve, an address collision), and notes. */
	char **errors;
	size_t nr_errors, alloc_errors;
	char **warnings;
	size_t nr_warnings, alloc_warnings;
};

struct ipam_observed {
	struct ipam_obs_domain *domains;
	size_t nr_domains, alloc_domains;
};

/* The status of a role in a domain (role: one IPAM_ROLE_* bit). */
const struct ipam_role_status *
ipam_obs_role_status(const struct ipam_obs_domain *d, unsigned role);
/* Every role switched on completed. */
bool ipam_obs_domain_complete(const struct ipam_obs_domain *d);
/* The first reason the domain is incomplete, or NULL. */
const char *ipam_obs_domain_reason(const struct ipam_obs_domain *d);

struct ipam_obs_server *ipam_obs_find(const struct ipam_obs_domain *d,
				      const char *name);
/* Find name or add it (name copied, lower-cased). */
struct ipam_obs_server *ipam_obs_get(struct ipam_obs_domain *d,
				     const char *name);
void ipam_obs_exclude(struct ipam_obs_domain *d, const char *name,
		      unsigned role, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ipam_obs_error(struct ipam_obs_domain *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ipam_obs_warn(struct ipam_obs_domain *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ipam_obs_set_status(struct ipam_role_status *s, enum ipam_verdict v,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sort servers and excluded entries by name (stable output). */
void ipam_obs_domain_sort(struct ipam_obs_domain *d);
/* (Re)build ipam_obs_find's index of the servers as they are now. */
void ipam_obs_domain_index(struct ipam_obs_domain *d);

/* Set one of s's strings (*field) to a copy of v (NULL: none): in the
 * pool when s is pooled (intern: one copy per value), else malloc'd. */
void ipam_obs_set_str(struct ipam_obs_domain *d, struct ipam_obs_server *s,
		      char **field, const char *v, bool intern);
/* Add a to s's addresses unless it is there. */
void ipam_obs_add_addr(struct ipam_obs_domain *d, struct ipam_obs_server *s,
		       const struct ipam_addr *a);
/* Shrink the servers array to its servers (and index it again). */
void ipam_obs_domain_trim(struct ipam_obs_domain *d);

void ipam_obs_server_release(struct ipam_obs_server *s);
void ipam_obs_domain_release(struct ipam_obs_domain *d);
void ipam_observed_free(struct ipam_observed *o);

#endif
