/*
 * The diff: a pure function (no I/O) of the desired state, what discovery
 * found (the inventory update it implies), the GPO state read from AD and
 * SYSVOL per domain, and what ipamctl last applied (from the state
 * database).  It yields the ordered actions of a plan, each with the
 * reason and the YAML position behind it, and tells *pending* changes
 * (the desired state moved since the last apply) from *drift* (AD moved
 * behind ipamctl's back).
 *
 * Order, as apply runs it: the inventory (manageability, purges: the
 * state database's own) first, then creates, updates, links, filter adds,
 * filter removes, unlinks and deletes last.  A domain whose discovery or GPO
 * read is incomplete gets no removals (they are listed as skipped, with the
 * reason; with no GPO state at all, those the last apply's record implies).
 * An object ipamctl does not own standing where it would put its own (a
 * GPO of an IPAM name made by hand) is a conflict: the domain gets no
 * action at all until someone resolves it.
 *
 * Its types are the plan's and the action's, so are their names:
 * Prefixes: ipam_plan_, ipam_act_, ipam_gpos_
 *
 * Layer core/ (this header is its centre): the pure decisions -- diff,
 * inventory update, GPO settings and DACL plans, plan rendering.  Uses
 * model/, formats/, util/; no I/O.
 */
#ifndef IPAM_DIFF_H
#define IPAM_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "applied.h"
#include "gpostate.h"
#include "inventory.h"
#include "model.h"
#include "observed.h"

enum ipam_act_kind {
	IPAM_ACT_GROUP,		/* IPAMUG: create (or adopt) */
	IPAM_ACT_GROUP_MEMBER,	/* the IPAM server into IPAMUG */
	IPAM_ACT_DC_GRANTS,	/* Event Log Readers, DNS ACL */
	IPAM_ACT_GPO_CREATE,	/* container, folder, GPT.INI */
	IPAM_ACT_GPO_SETTINGS,	/* settings files, version, extensions */
	IPAM_ACT_GPO_SECURITY,	/* base DACL and SYSVOL folder ACL */
	IPAM_ACT_GPO_LINK,	/* linked and enabled on the domain head */
	IPAM_ACT_FILTER_ADD,	/* a computer into a GPO's filtering */
	IPAM_ACT_FILTER_REMOVE, /* and out */
	IPAM_ACT_MANAGEABILITY, /* inventory: a server's manageability */
	IPAM_ACT_PURGE,		/* collected data of a now unmanaged server */
	IPAM_ACT_GPO_UNLINK,
	IPAM_ACT_GPO_DELETE,
	/* provisioning.filtering: group */
	IPAM_ACT_FILTER_GROUP, /* a GPO's filter group: create, delete */
	IPAM_ACT_MEMBER_ADD,   /* a server into it */
	IPAM_ACT_MEMBER_REMOVE,
	IPAM_ACT_NR_KINDS,
};

const char *ipam_act_kind_name(enum ipam_act_kind k);

enum ipam_act_op {
	IPAM_OP_CREATE = '+',
	IPAM_OP_UPDATE = '~',
	IPAM_OP_REMOVE = '-',
};

enum ipam_act_origin {
	IPAM_ORIGIN_PENDING, /* the desired state asks for it */
	IPAM_ORIGIN_DRIFT,   /* AD changed since the last apply */
};

struct ipam_action {
	enum ipam_act_kind kind;
	enum ipam_act_op op;
	enum ipam_act_origin origin;
	char *domain;
	int gpo;	      /* enum ipam_pol_gpo, or -1 */
	char *target;	      /* what it is about: group, GPO or server name */
	char *sid;	      /* filter actions: the computer's SID */
	char *before, *after; /* short descriptions, NULL when none */
	char *reason;
	struct ipam_pos
		pos; /* where the desired state asks (file NULL: none) */
	/* Files an update deletes (settings: files nobody declared in an
	 * owned GPO's folder); they count towards safety.maxRemovals. */
	size_t deletes;
};

/* A removal the plan leaves out, and why. */
struct ipam_skipped {
	char *domain;
	char *what;
	char *reason;
};

/* Something not ipamctl's in the way of the desired state: the plan
 * cannot be carried out in that domain until a person resolves it. */
struct ipam_conflict {
	char *domain;
	char *what;
	char *reason; /* and how to resolve it */
};

struct ipam_plan {
	struct ipam_action *actions;
	size_t nr, alloc;
	struct ipam_skipped *skipped;
	size_t nr_skipped, alloc_skipped;
	struct ipam_conflict *conflicts;
	size_t nr_conflicts, alloc_conflicts;
	/* Domains whose discovery or GPO read was incomplete, with why. */
	char **incomplete;
	size_t nr_incomplete, alloc_incomplete;
	/* Drift that no action corrects (e.g. a filter entry someone else
	 * added for a server the desired state says nothing about). */
	char **notes;
	size_t nr_notes, alloc_notes;
	size_t counts[3]; /* create, update, remove */
	size_t drift;	  /* actions whose origin is drift */
	size_t removals;  /* destructive actions: filter removes, unlinks,
			     deletes, purges, and each file a settings
			     update deletes */
};

struct ipam_diff_input {
	const struct ipam_desired *d;
	const struct ipam_observed *obs;	/* discovery */
	const struct ipam_inventory *inventory; /* stored, before this run */
	const struct ipam_inv_plan *inv_plan;	/* its update from obs */
	/* Per d->domains index: the GPO state, or NULL when it could not be
	 * read (gpo_errors[i] says why). */
	struct ipam_gpo_state *const *gpo;
	const char *const *gpo_errors;
	const struct ipam_applied *applied;
	const char *config_digest;
};

/* The plan.  Pure: out is the caller's, released with ipam_plan_release. */
void ipam_diff(struct ipam_plan *out, const struct ipam_diff_input *in);
void ipam_plan_release(struct ipam_plan *p);

/*
 * What to record as applied for a domain after its actions succeeded:
 * st as it now is, with as filter entries of each GPO those in its
 * filtering that ipamctl put there before (prev) or that the desired state
 * wants (managed servers of the right roles) -- not entries someone else
 * added.  out is the caller's; release with ipam_applied_domain_release.
 */
void ipam_diff_applied(struct ipam_applied_domain *out,
		       const struct ipam_diff_input *in,
		       const struct ipam_gpo_state *st,
		       const struct ipam_applied_domain *prev);

/* Which GPOs a server with these roles belongs in (bit per ipam_pol_gpo). */
unsigned ipam_gpos_for_roles(unsigned roles);

#endif
