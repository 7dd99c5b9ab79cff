#include "tasks.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_collect.h"
#include "error.h"
#include "run.h"
#include "strbuf.h"
#include "banned.h"

int ipam_tasks_schedule(struct ipam_schedule_task v[IPAM_TASK_NR],
			const struct ipam_collection_cfg *c, struct ipam_db *db)
{
	struct ipam_db_task_row *rows = NULL;
	size_t nr = 0;
	int rc;

	memset(v, 0, sizeof(*v) * IPAM_TASK_NR);
	for (int t = 0; t < IPAM_TASK_NR; t++)
		v[t].interval = ipam_collection_interval(c, (enum ipam_task)t);
	rc = ipam_db_tasks_list(db, &rows, &nr);
	if (rc)
		return rc;
	for (size_t i = 0; i < nr; i++) {
		enum ipam_task t;
		struct ipam_schedule_task *s;

		if (ipam_task_parse(rows[i].task, &t))
			continue; /* a task of a later version */
		s = &v[t];
		if (ipam_schedule_parse_time(rows[i].last_started_at,
					     &s->started))
			s->started = 0;
		if (ipam_schedule_parse_time(rows[i].last_ended_at, &s->ended))
			s->ended = 0;
		/* an end before the start is the previous run's */
		if (s->ended < s->started)
			s->ended = 0;
		s->failed = s->ended && rows[i].last_outcome &&
			    !strcmp(rows[i].last_outcome, "failed");
	}
	ipam_db_tasks_free(rows, nr);
	return 0;
}

int ipam_tasks_access_in(struct ipam_verify *out, const struct ipam_run *run)
{
	const char *task = ipam_task_name(IPAM_TASK_ACCESS);
	struct strbuf sum = STRBUF_INIT;
	char *error = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (run->db) {
		rc = ipam_db_task_started(run->db, task, run->id);
		if (rc)
			return rc;
	}
	rc = ipam_verify_cycle(out, run);
	if (rc < 0) {
		error = xstrdup(ipam_error_last());
		strbuf_addstr(&sum, error);
	} else if (rc > 0) {
		strbuf_addstr(&sum, "no identity in the desired state: "
				    "nothing probed");
	} else {
		strbuf_addf(&sum, "%zu unblocked, %zu blocked",
			    out->counts[IPAM_ACCESS_UNBLOCKED],
			    out->counts[IPAM_ACCESS_BLOCKED]);
	}
	if (run->db)
		ipam_db_task_ended(run->db, task, run->id,
				   rc < 0 ? "failed" : "succeeded", sum.buf);
	strbuf_release(&sum);
	if (error) {
		rc = ipam_error_set(rc, "%s", error);
		free(error);
	}
	return rc;
}

struct access_step {
	struct ipam_verify v;
	int rc;
};

static int access_prepare(struct ipam_run *run, void *ctx)
{
	struct access_step *p = ctx;

	p->rc = ipam_tasks_access_in(&p->v, run);
	return p->rc < 0 ? p->rc : 0;
}

/* The access task alone, as verify runs it: its own run, no lock (the
 * probes change nothing in AD). */
static void run_access(const struct ipam_desired *d, struct ipam_db *db,
		       const struct ipam_run_hooks *hooks,
		       const struct ipam_tasks_opts *o, int *failed)
{
	struct access_step p = {0};
	struct ipam_tasks_done done = {.task = IPAM_TASK_ACCESS,
				       .verify = &p.v};
	struct ipam_run run;
	char *error = NULL;
	int rc;

	ipam_run_init(&run, IPAM_RUN_VERIFY, d, db);
	run.command = "access";
	run.lock = false;
	run.hooks = hooks;
	run.prepare = access_prepare;
	run.ctx = &p;
	rc = ipam_run_begin(&run);
	if (!rc)
		rc = ipam_run_prepare(&run);
	if (rc)
		error = xstrdup(ipam_error_last());
	ipam_run_end(&run, rc ? "failed" : "succeeded", error);
	ipam_run_release(&run);
	done.rc = rc;
	done.error = error;
	done.no_identity = !rc && p.rc > 0;
	*failed += rc != 0;
	if (o->done)
		o->done(o->ctx, &done);
	ipam_verify_release(&p.v);
	free(error);
}

static void run_collect(enum ipam_task t, const struct ipam_desired *d,
			struct ipam_db *db, const struct ipam_run_hooks *hooks,
			const struct ipam_tasks_opts *o, int *failed)
{
	struct ipam_collect_opts co = {.lock_timeout = o->lock_timeout};
	struct ipam_collect_result r;
	struct ipam_db_prune_counts pruned = {0};
	struct ipam_tasks_done done = {
		.task = t, .collect = &r, .pruned = &pruned};
	long long now = o->now ? o->now : (long long)time(NULL);
	char *error = NULL, *prune_error = NULL;

	done.rc = ipam_collect_run_task(&r, t, d, db, &co, hooks);
	if (done.rc)
		error = xstrdup(ipam_error_last());
	/* History past retainDays goes after each collection, whatever it
	 * gave: a failing task must not let the tables grow. */
	if (ipam_db_prune_history(db,
				  ipam_collection_retain_days(&d->collection),
				  now, &pruned))
		prune_error = xstrdup(ipam_error_last());
	done.error = error;
	done.prune_error = prune_error;
	*failed += done.rc || ipam_collect_failed(&r);
	if (o->done)
		o->done(o->ctx, &done);
	ipam_collect_result_release(&r);
	free(error);
	free(prune_error);
}

int ipam_tasks_run(unsigned mask, const struct ipam_desired *d,
		   struct ipam_db *db, const struct ipam_run_hooks *hooks,
		   const struct ipam_tasks_opts *o)
{
	static const enum ipam_task order[] = {
		IPAM_TASK_ACCESS, IPAM_TASK_AVAILABILITY, IPAM_TASK_DNS,
		IPAM_TASK_ZONES,  IPAM_TASK_AUDIT,
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum ipam_task t = order[i];

		if (!(mask & (1u << t)))
			continue;
		if (o->stop && o->stop())
			break;
		if (t == IPAM_TASK_ACCESS)
			run_access(d, db, hooks, o, &failed);
		else
			run_collect(t, d, db, hooks, o, &failed);
	}
	return failed;
}
