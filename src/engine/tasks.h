/*
 * IPAM's scheduled tasks inside `reconcile --every`: the schedule as the
 * state database records it (collect_tasks) and the desired state's
 * intervals say, and the tasks other than the GitOps cycle (discovery,
 * the caller's) run each as a run of its own: access (the identity's
 * probes, as verify), availability, dns, zones and audit (collect.h),
 * each collection task followed by the retention pruning.  One task's
 * failure is reported and the next runs.
 *
 * Prefixes: ipam_tasks_
 */
#ifndef IPAM_TASKS_H
#define IPAM_TASKS_H

#include <stdbool.h>

#include "collect.h"
#include "db_prune.h"
#include "model.h"
#include "schedule.h"
#include "verify.h"

struct ipam_db;
struct ipam_run;
struct ipam_run_hooks;

/* Each task's interval (c: collection.intervals) and last run (db). */
int ipam_tasks_schedule(struct ipam_schedule_task v[IPAM_TASK_NR],
			const struct ipam_collection_cfg *c,
			struct ipam_db *db);

/*
 * The access refresh inside run (a reconcile cycle's, or the access
 * task's own): ipam_verify_cycle recorded as the access task -- started,
 * then ended succeeded (the probes ran; a Blocked server is a status) or
 * failed.  Returns what ipam_verify_cycle returned.
 */
int ipam_tasks_access_in(struct ipam_verify *out, const struct ipam_run *run);

/* What one task did, for the caller to print. */
struct ipam_tasks_done {
	enum ipam_task task;
	int rc;				  /* the task's error (IPAM_E*), or 0 */
	const char *error;		  /* its message when rc */
	const struct ipam_verify *verify; /* access */
	const struct ipam_collect_result *collect; /* the others */
	const struct ipam_db_prune_counts *pruned; /* after a collection */
	const char *prune_error;		   /* NULL: pruned */
	bool no_identity; /* access: no identity, nothing probed */
};

struct ipam_tasks_opts {
	int lock_timeout; /* seconds to wait for another run */
	long long now;	  /* UTC seconds (0: time()) for the pruning */
	/* Asked before each task: nonzero stops there. NULL: never. */
	int (*stop)(void);
	/* Told after each task. */
	void (*done)(void *ctx, const struct ipam_tasks_done *t);
	void *ctx;
};

/*
 * Run the tasks of mask (bits 1u << task) but discovery, in the order
 * access, availability, dns, zones (it reads what dns stored), audit:
 * each a run of its own telling hooks (access_changed, collection_failed).
 * Returns how many failed (an error, or a server that failed).
 */
int ipam_tasks_run(unsigned mask, const struct ipam_desired *d,
		   struct ipam_db *db, const struct ipam_run_hooks *hooks,
		   const struct ipam_tasks_opts *o);

#endif
