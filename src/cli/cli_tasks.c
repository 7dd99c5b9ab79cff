/*
 * The scheduled tasks inside `reconcile --every`: the GitOps cycle is
 * the discovery task (recorded here), the access refresh runs in the
 * cycle when due, the rest run between cycles when due (engine/tasks.h),
 * each reported as it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "db.h"
#include "db_collect.h"
#include "error.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"
#include "tasks.h"
#include "banned.h"

void cli_tasks_record(const struct ipam_run *run, enum ipam_task t,
		      const char *outcome, const char *error)
{
	const char *task = ipam_task_name(t);
	struct strbuf sum = STRBUF_INIT;
	int rc;

	if (!run->db || !run->id)
		return;
	if (!outcome) {
		rc = ipam_db_task_started(run->db, task, run->id);
	} else {
		/* no_changes, refused, interrupted: the run's own words are
		 * in the history; the task succeeded or failed (a plan
		 * that could not see everything has an error) */
		bool ok = !error && (!strcmp(outcome, "succeeded") ||
				     !strcmp(outcome, "no_changes"));

		if (error)
			strbuf_addstr(&sum, error);
		else if (run->prepared)
			strbuf_addf(&sum, "%s: %zu actions, %zu drift", outcome,
				    run->r.plan.nr, run->r.plan.drift);
		else
			strbuf_addstr(&sum, outcome);
		rc = ipam_db_task_ended(run->db, task, run->id,
					ok ? "succeeded" : "failed", sum.buf);
	}
	if (rc)
		log_warn("the %s task is not recorded: %s", task,
			 ipam_error_last());
	strbuf_release(&sum);
}

bool cli_tasks_due(const struct ipam_desired *d, struct ipam_db *db,
		   enum ipam_task t)
{
	struct ipam_schedule_task v[IPAM_TASK_NR];

	/* Unknown: due, as the cycle always did it. */
	if (ipam_tasks_schedule(v, &d->collection, db))
		return true;
	return ipam_schedule_next(&v[t], (long long)time(NULL)) <=
	       (long long)time(NULL);
}

static void print_done(void *ctx, const struct ipam_tasks_done *t)
{
	const struct ipam_collect_result *r = t->collect;
	struct strbuf sum = STRBUF_INIT;

	(void)ctx;
	if (t->rc)
		log_error("task %s: %s", ipam_task_name(t->task), t->error);
	if (t->verify && !t->rc) {
		if (t->no_identity)
			cli_printf("Task access: no identity, nothing "
				   "probed.\n");
		else
			cli_printf("Task access: %zu unblocked, %zu "
				   "blocked.\n",
				   t->verify->counts[IPAM_ACCESS_UNBLOCKED],
				   t->verify->counts[IPAM_ACCESS_BLOCKED]);
		for (size_t i = 0; i < t->verify->nr_warnings; i++)
			log_warn("access: %s", t->verify->warnings[i]);
	}
	if (r) {
		ipam_collect_summary(&sum, r);
		if (!t->rc)
			cli_printf("Task %s: %s.\n", ipam_task_name(t->task),
				   sum.buf);
		for (size_t i = 0; i < r->nr; i++)
			if (!r->servers[i].ok)
				log_warn("task %s: %s: %s",
					 ipam_task_name(t->task),
					 r->servers[i].name,
					 r->servers[i].detail
						 ? r->servers[i].detail
						 : "failed");
	}
	if (t->prune_error)
		log_warn("retention: %s", t->prune_error);
	else if (t->pruned && t->pruned->dhcp_events +
				      t->pruned->dns_record_history +
				      t->pruned->availability_history)
		log_notice("retention: %lld audit events, %lld DNS record "
			   "changes, %lld availability changes deleted",
			   t->pruned->dhcp_events,
			   t->pruned->dns_record_history,
			   t->pruned->availability_history);
	fflush(stdout);
	strbuf_release(&sum);
}

long long cli_tasks_run_due(struct cli *c, const struct ipam_desired *d,
			    int lock_timeout, int (*stop)(void))
{
	struct ipam_schedule_task v[IPAM_TASK_NR];
	struct ipam_tasks_opts o = {
		.lock_timeout = lock_timeout, .stop = stop, .done = print_done};
	struct ipam_run_hooks hooks = {0};
	struct ipam_db *db = NULL;
	long long next = -1, at;
	unsigned due;

	if (!d || cli_open_db(c, d, &db)) {
		if (d)
			log_warn("scheduled tasks: %s", ipam_error_last());
		return -1;
	}
	if (ipam_tasks_schedule(v, &d->collection, db))
		goto fail;
	/* discovery is the cycle's: the loop keeps its --every */
	v[IPAM_TASK_DISCOVERY].interval = 0;
	due = ipam_schedule_due(v, (long long)time(NULL), &at);
	if (due) {
		ipam_run_hooks_add(&hooks, d, 0);
		ipam_tasks_run(due, d, db, &hooks, &o);
		ipam_run_hooks_release(&hooks);
		if (ipam_tasks_schedule(v, &d->collection, db))
			goto fail;
		v[IPAM_TASK_DISCOVERY].interval = 0;
		/* A task that could not record its run (another process
		 * held the lock past --lock-timeout) is tried again in a
		 * minute, not at once. */
		if (ipam_schedule_due(v, (long long)time(NULL), &at) &&
		    (!at || at > (long long)time(NULL) + 60))
			at = (long long)time(NULL) + 60;
	}
	if (at)
		next = at - (long long)time(NULL);
	if (next < 0)
		next = 0;
	if (due && at)
		log_notice("next scheduled task in %lld s", next);
	ipam_db_close(db);
	return next;
fail:
	log_warn("scheduled tasks: %s", ipam_error_last());
	ipam_db_close(db);
	return -1;
}
