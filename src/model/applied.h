/*
 * What ipamctl applied last, per domain, as the state database keeps it:
 * the diff compares AD with it to tell drift from pending changes.
 */
#ifndef IPAM_APPLIED_H
#define IPAM_APPLIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpostate.h"

/* What ipamctl applied last, per domain (from the state database). */
struct ipam_applied_gpo {
	int gpo; /* enum ipam_pol_gpo */
	char *guid;
	bool linked;
	bool settings_current, dacl_current;
	uint32_t version;
	char **filter_sids; /* computers ipamctl put in the filtering */
	size_t nr_filter;
};

struct ipam_applied_domain {
	char *domain;
	char *config_digest; /* of the desired state applied */
	bool group, group_member, elr, dns_ace;
	struct ipam_applied_gpo gpos[IPAM_GPO_COUNT];
	size_t nr_gpos;
};

struct ipam_applied {
	struct ipam_applied_domain *domains;
	size_t nr;
};

const struct ipam_applied_domain *
ipam_applied_find(const struct ipam_applied *a, const char *domain);
void ipam_applied_release(struct ipam_applied *a);

void ipam_applied_domain_release(struct ipam_applied_domain *d);

#endif
