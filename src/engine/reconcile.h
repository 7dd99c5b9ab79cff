/*
 * One reconcile cycle, split in two: prepare (discover, update the
 * inventory in memory, read the GPO state of every domain, load what was
 * last applied, diff into a plan, fingerprint it all) and apply (execute
 * the plan's actions through the GPO engine in order, journalling each in
 * the state database, and record what is now applied).  plan, apply and
 * drift are thin commands over this.
 */
#ifndef IPAM_RECONCILE_H
#define IPAM_RECONCILE_H

#include <stdbool.h>

#include "diff.h"
#include "discover.h"
#include "gpo.h"
#include "inventory.h"
#include "model.h"
#include "observed.h"
#include "planout.h"
#include "sha256.h"

struct ipam_db;

struct ipam_reconcile_opts {
	const char *source;	/* for the ownership mark: -c PATH or URL */
	const char *git_commit; /* NULL when not from git */
	struct ipam_discover_progress progress; /* of discovery */
	/* Domains handled at once: discovery and GPO read in prepare, the
	 * AD actions in apply (each domain's in plan order, on one
	 * thread).  0 or 1: one domain after the other. */
	int parallel;
	/* Asked between actions: nonzero stops the apply there (a signal
	 * to stop after the current step).  NULL: never. */
	int (*stop)(void);
};

struct ipam_reconcile {
	const struct ipam_desired *d;
	struct ipam_reconcile_opts o;
	struct ipam_observed *obs;
	struct ipam_inventory prev;
	struct ipam_inv_plan inv_plan;
	/* Per d->domains index. */
	struct ipam_gpo_session **sessions;
	struct ipam_gpo_state **states;
	char **gpo_errors;
	struct ipam_applied applied;
	struct ipam_plan plan;
	char config_digest[IPAM_SHA256_HEX_LEN + 1];
	char fingerprint[IPAM_SHA256_HEX_LEN + 1]; /* of what was observed */
	/* Managed servers of prev whose last access check said Blocked
	 * (names in prev), for the plan's text. */
	const char **blocked;
	size_t nr_blocked;
};

int ipam_reconcile_prepare(struct ipam_reconcile *r,
			   const struct ipam_desired *d, struct ipam_db *db,
			   const struct ipam_reconcile_opts *o);

struct ipam_apply_result {
	size_t done, failed, not_done; /* actions */
	char *error;		       /* the first failure, or NULL */
	/* What was applied but could not be recorded (per domain): the
	 * caller reports them; they do not fail the apply. */
	char **record_errors;
	size_t nr_record_errors, alloc_record_errors;
};

/*
 * Execute r->plan: the inventory update first (discovery's outcome, with
 * manageability changes and purges), then the AD actions, each domain's
 * in plan order (domains side by side, o.parallel at a time), each
 * journalled under run_id; a GPO's DACL changes (base grants and every
 * filter entry) in one write.  A failure stops its own domain only: the
 * actions left there are skipped, other domains go on, and res->error is
 * the failure first in plan order.  Then records what is applied per
 * domain that did not fail (failures in res->record_errors).
 * A domain whose GPO state could not be read has its reason in
 * r->gpo_errors after prepare: the caller reports those.
 */
int ipam_reconcile_apply(struct ipam_reconcile *r, struct ipam_db *db,
			 long long run_id, struct ipam_apply_result *res);
void ipam_reconcile_result_release(struct ipam_apply_result *res);

/* safety.maxRemovals (or allow_removals when >= 0): IPAM_ECONFLICT with
 * the message saying how to proceed when the plan removes more. */
int ipam_reconcile_safety(const struct ipam_reconcile *r,
			  long long allow_removals);

/* IPAM_ECONFLICT naming the first conflict (an object ipamctl does not
 * own in the way: its domain was left alone), else IPAM_ERROR naming the
 * domains seen incompletely (their removals were skipped), or 0 when the
 * plan saw everything and nothing stood in its way. */
int ipam_reconcile_complete(const struct ipam_reconcile *r);

/* The run summary recorded in the state database (and printed by apply
 * -o json): counts, the apply's outcome when res, the error when any. */
struct ipam_node *ipam_reconcile_summary(const struct ipam_reconcile *r,
					 const struct ipam_apply_result *res,
					 const char *error);

/* The plan document of r, for the renderers of planout.h. */
struct ipam_plan_doc ipam_reconcile_doc(const struct ipam_reconcile *r);

void ipam_reconcile_release(struct ipam_reconcile *r);

#endif
