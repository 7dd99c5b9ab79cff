/*
 * What ensuring IPAMUG comes to, from its observed state: create it,
 * adopt it, put the IPAM server's computer account in (from another
 * forest: through a foreign security principal, when this domain trusts
 * the server's), or only warn.  Pure: reads model/gpostate.h.
 */
#ifndef IPAM_GPOGROUP_H
#define IPAM_GPOGROUP_H

#include <stdbool.h>

#include "gpostate.h"

/* groupType of a universal security group (0x80000008). */
#define IPAM_GPOGROUP_TYPE (-2147483640L)
/* groupType of a domain-local security group (0x80000004): a GPO's
 * filter group (provisioning.filtering: group). */
#define IPAM_GPOGROUP_LOCAL_TYPE (-2147483644L)

enum ipam_gpogroup_step {
	IPAM_GPOGROUP_CREATE = 1,      /* IPAMUG does not exist */
	IPAM_GPOGROUP_ADOPT = 2,       /* it does, unmarked; adopt asked */
	IPAM_GPOGROUP_BAD_TYPE = 4,    /* it is not universal security */
	IPAM_GPOGROUP_NO_SERVER = 8,   /* no computer account to add */
	IPAM_GPOGROUP_ADD_SERVER = 16, /* the IPAM server goes in */
	/* the IPAM server, of a trusted domain, goes in by SID */
	IPAM_GPOGROUP_ADD_FOREIGN = 32,
	/* its domain is another discovery domain this one does not trust */
	IPAM_GPOGROUP_NO_TRUST = 64
};

/* The steps (a mask of enum ipam_gpogroup_step) that make st's IPAMUG
 * right; adopt: take over one that carries no mark. */
unsigned ipam_gpogroup_plan(const struct ipam_gpo_state *st, bool adopt);

/* trustDirection and trustAttributes bits of a trustedDomain object. */
#define IPAM_GPOGROUP_TRUST_OUTBOUND 2u	   /* this domain trusts it */
#define IPAM_GPOGROUP_TRUST_FOREST   0x8u  /* FOREST_TRANSITIVE */
#define IPAM_GPOGROUP_TRUST_WITHIN   0x20u /* WITHIN_FOREST */

/* One trustedDomain object of a domain. */
struct ipam_gpogroup_trust {
	const char *partner; /* trustPartner: the trusted domain's DNS name */
	unsigned direction;  /* trustDirection */
	unsigned attributes; /* trustAttributes */
};

/*
 * Does a domain with these nr trusts trust domain (a DNS name)?  Through
 * a trust whose partner is domain itself, or a forest trust whose partner
 * is domain's forest root (domain in it): the trust's direction must be
 * outbound (or both), for accounts of domain to sign in here.
 */
bool ipam_gpogroup_trusts(const struct ipam_gpogroup_trust *t, size_t nr,
			  const char *domain);

/*
 * Which of the nr domain names holds the account of the host fqdn: the
 * longest one fqdn lies in, other than self.  Its index, or -1.
 */
long ipam_gpogroup_home(const char *fqdn, const char *const *domains, size_t nr,
			const char *self);

/* Is name (a DNS name) domain or under it?  Case-insensitive. */
bool ipam_gpogroup_in_domain(const char *name, const char *domain);

#endif
