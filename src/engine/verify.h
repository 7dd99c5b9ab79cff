/*
 * `verify`: the access status of the managed servers of the inventory,
 * measured.  Probes each managed server (adapters/probe: MS-DNSP,
 * MS-EVEN, MS-DHCPM, the dhcpaudit share) as the IPAM identity, a bounded
 * number of servers at once, adds what ipamctl knows itself to the
 * reasons of what is blocked (the GPO state read as the administrative
 * connection, read only), settles the overall status and recommended
 * action (core/access) and stores each check with its run.  Unspecified
 * servers are not probed: Not checked, "Set Manageability Status".
 * Unmanaged servers are left out.
 */
#ifndef IPAM_VERIFY_H
#define IPAM_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "access.h"
#include "model.h"
#include "node.h"

struct ipam_db;

struct ipam_verify_server {
	char *name, *domain;
	char *sid; /* from the inventory; NULL when unknown */
	unsigned roles;
	enum ipam_manageability manageability;
	char *addr;	  /* the address port 445 was tried on, or NULL */
	char *known_addr; /* the inventory's first address: tried when the
			     name does not resolve */
	struct ipam_access access;
	/* The overall status of the check before (Not checked: none) and
	 * whether this one turned Unblocked <-> Blocked. */
	enum ipam_access_status previous;
	bool changed;
	long long ms; /* the probes of this server took */
};

struct ipam_verify {
	struct ipam_verify_server *v;
	size_t nr, alloc;
	char *principal; /* the identity probed as */
	/* What could not be told (a domain's GPO state unreadable). */
	char **warnings;
	size_t nr_warnings, alloc_warnings;
	long long ms;	  /* wall time of the probes */
	size_t counts[4]; /* by overall enum ipam_access_status */
};

struct ipam_verify_opts {
	const char *domain; /* only this discovery domain; NULL: all */
	const char *server; /* only this server; NULL: all */
	long long run_id;   /* recorded with each check (0: none) */
	bool store;	    /* store the checks in the database */
};

/*
 * Verify the servers of the inventory in db: IPAM_ENOTFOUND when
 * --server names none of them, IPAM_EINVAL without identity.keytab (or
 * .ccache) while there are managed servers to probe, IPAM_EAUTH when the
 * identity gets no ticket.  A probe's failure is a status, not an error.
 */
int ipam_verify_run(struct ipam_verify *out, const struct ipam_desired *d,
		    struct ipam_db *db, const struct ipam_verify_opts *o);
void ipam_verify_release(struct ipam_verify *v);

struct ipam_run;

/*
 * The access refresh of a reconcile cycle (IPAM's ServerDiscovery task
 * does it): verify every managed server as run (its record, its
 * database), then tell run's hooks access_changed for each server that
 * turned Unblocked <-> Blocked, with the reasons.  1 (nothing done) when
 * the desired state names no identity keytab or ccache; a failure is the
 * caller's to report, it does not undo what the cycle applied.
 */
int ipam_verify_cycle(struct ipam_verify *out, const struct ipam_run *run);

/* The result as verify -o json prints it (schemas/verify.schema.json). */
struct ipam_node *ipam_verify_to_node(const struct ipam_verify *v);
/* One server's access as a map: overall, details {status, reason},
 * recommendedAction. */
struct ipam_node *ipam_verify_access_node(const struct ipam_access *a);

#endif
