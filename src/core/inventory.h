/*
 * The server inventory, as the IPAM console keeps it: what each discovery
 * run found, with a status between runs (new, changed, unchanged, gone,
 * declared but not found) and the manageability the desired state gives.
 * ipam_inventory_plan() is pure: previous rows + observation + desired
 * state in, the rows to write out.  db_inventory.c stores them.
 *
 * Prefixes: ipam_inv_, ipam_addrs_
 *   (the inventory types are struct ipam_inv_*).
 */
#ifndef IPAM_INVENTORY_H
#define IPAM_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "model.h"
#include "observed.h"
#include "strpool.h"

enum ipam_inv_status {
	IPAM_INV_NEW,
	IPAM_INV_CHANGED,
	IPAM_INV_UNCHANGED,
	IPAM_INV_GONE,
	IPAM_INV_NOT_FOUND, /* listed in the desired state, not discovered */
	IPAM_INV_NR_STATUS,
};

const char *ipam_inv_status_name(enum ipam_inv_status s);
int ipam_inv_status_parse(const char *s, enum ipam_inv_status *out);

struct ipam_inv_server {
	long long id; /* 0: not stored yet */
	char *name;
	char *domain;
	unsigned roles;
	bool declared;
	enum ipam_manageability manageability;
	char *owner, *description;
	char *os_name, *os_version;
	char *guid, *sid, *dn;
	struct ipam_addr *addrs;
	size_t nr_addrs;
	char *first_seen, *last_seen;
	enum ipam_inv_status status;
	char *status_detail;
	char *access; /* latest overall access status; NULL: Not checked */
};

struct ipam_inventory {
	struct ipam_inv_server *servers;
	size_t nr, alloc;
	/* Where the rows' strings and addresses are when set (a loaded
	 * inventory): released with it, never field by field.  NULL: each
	 * is malloc'd. */
	struct ipam_strpool *pool;
};

const struct ipam_inv_server *
ipam_inventory_find(const struct ipam_inventory *inv, const char *name);
void ipam_inv_server_release(struct ipam_inv_server *s);
void ipam_inventory_release(struct ipam_inventory *inv);

/*
 * A row of the plan borrows its strings and addresses from what the plan
 * was made of (prev, obs, the desired state), which must outlive it: a
 * plan of 100,000 servers is then its rows, not a fourth copy of every
 * server.  Only the change texts and a sorted copy of several addresses
 * are the plan's own (own_*); status_detail is NULL or the change.
 */
struct ipam_inv_update {
	struct ipam_inv_server row; /* what to store (row.id 0: insert) */
	bool seen;  /* found in this run: last_seen (and first_seen) now */
	bool purge; /* turned unmanaged: drop its collected data */
	bool own_addrs, own_change;
	char *change; /* for the history; NULL when nothing changed */
};

struct ipam_inv_plan {
	struct ipam_inv_update *updates;
	size_t nr, alloc;
	size_t counts[IPAM_INV_NR_STATUS];
	/* Listed in the desired state, neither discovered nor stored. */
	char **not_found;
	size_t nr_not_found, alloc_not_found;
	/* Change texts many rows share ("discovered: DC"), made once. */
	char **texts;
	size_t nr_texts, alloc_texts;
};

/*
 * What this discovery run changes in the inventory.  Only complete domains
 * of obs change anything; servers of other domains are not touched.  A
 * stored server that was not found is marked gone only when every role it
 * had was discovered this run (a role switched off keeps what is stored).
 */
void ipam_inventory_plan(struct ipam_inv_plan *out,
			 const struct ipam_inventory *prev,
			 const struct ipam_observed *obs,
			 const struct ipam_desired *d);
void ipam_inv_plan_release(struct ipam_inv_plan *p);

/*
 * The same plan in parts, for a writer that never holds it whole (discover
 * of 100,000 servers): after ipam_inv_cursor_init, each
 * ipam_inv_cursor_next releases *part and fills it with the next rows (at
 * most max) and declared-not-found names, in ipam_inventory_plan's order;
 * it returns false when nothing was left.  prev, obs and d must outlive
 * the cursor and the parts.
 */
struct ipam_inv_cursor {
	const struct ipam_inventory *prev;
	const struct ipam_observed *obs;
	const struct ipam_desired *d;
	const struct ipam_inv_server **by_name; /* prev, by name */
	size_t nr_by_name;
	size_t domain, step, at; /* where the next row comes from */
};

void ipam_inv_cursor_init(struct ipam_inv_cursor *c,
			  const struct ipam_inventory *prev,
			  const struct ipam_observed *obs,
			  const struct ipam_desired *d);
bool ipam_inv_cursor_next(struct ipam_inv_cursor *c, struct ipam_inv_plan *part,
			  size_t max);
void ipam_inv_cursor_release(struct ipam_inv_cursor *c);

/*
 * A declared server whose address is also that of a stored server this
 * run did not see (another domain, one skipped with --domain): an error
 * naming both in the declared server's domain, as IPAM refuses it.
 */
void ipam_inventory_check_collisions(struct ipam_observed *obs,
				     const struct ipam_inventory *prev);

/* "a, b" of the addresses (sb appended). */
void ipam_addrs_format(struct strbuf *sb, const struct ipam_addr *a, size_t n);

#endif
