/*
 * One collection task as a run of its own: the reconciler lock (two
 * imports of the same audit log at once would read the same cursor),
 * the run record, the task, each server's outcome and the task's last
 * run, then collection_failed to the hooks when something failed.
 */
#include "collect.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addresses.h"
#include "db_collect.h"
#include "error.h"
#include "probe.h"
#include "proc.h"
#include "run.h"
#include "strbuf.h"
#include "banned.h"

static const char *const run_names[IPAM_TASK_NR] = {
	[IPAM_TASK_AVAILABILITY] = "collect availability",
	[IPAM_TASK_ZONES] = "collect zones",
	[IPAM_TASK_DNS] = "collect dns",
	[IPAM_TASK_AUDIT] = "collect audit",
};

typedef int (*task_fn)(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *c);

static const task_fn task_fns[IPAM_TASK_NR] = {
	[IPAM_TASK_AVAILABILITY] = ipam_collect_availability,
	[IPAM_TASK_ZONES] = ipam_collect_zones,
	[IPAM_TASK_DNS] = ipam_collect_dns,
	[IPAM_TASK_AUDIT] = ipam_collect_audit,
};

struct task_step {
	enum ipam_task t;
	struct ipam_collect_result *out;
	const struct ipam_collect_opts *o;
	int task_rc; /* the task's own error */
};

/* The tasks that read as the IPAM identity (SMB, LDAP); the others ask
 * DNS and DHCP questions anyone may ask. */
static bool needs_identity(enum ipam_task t)
{
	return t == IPAM_TASK_AUDIT || t == IPAM_TASK_DNS;
}

/* 1 when the task has managed servers in scope, 0 when none, or the
 * error that --server names none. */
static int in_scope(const struct ipam_collect_ctx *c, enum ipam_task t)
{
	static const unsigned roles[IPAM_TASK_NR] = {
		[IPAM_TASK_AVAILABILITY] = IPAM_ROLE_DHCP | IPAM_ROLE_DNS,
		[IPAM_TASK_ZONES] = IPAM_ROLE_DNS,
		[IPAM_TASK_DNS] = IPAM_ROLE_DNS,
		[IPAM_TASK_AUDIT] = IPAM_ROLE_DHCP,
	};
	struct ipam_collect_target *v;
	size_t nr;
	int rc = ipam_collect_targets(&v, &nr, c, roles[t]);

	if (rc)
		return rc;
	ipam_collect_targets_free(v, nr);
	return nr > 0;
}

static int task_prepare(struct ipam_run *run, void *ctx)
{
	struct task_step *p = ctx;
	struct ipam_collect_opts o = *p->o;
	struct ipam_probe_identity *id = NULL;
	struct ipam_collect_ctx c = {.d = run->d, .db = run->db, .o = &o};
	long long t0 = ipam_proc_now_ms();
	int rc;

	o.run_id = run->id;
	if (!o.now)
		o.now = (long long)time(NULL);
	rc = ipam_db_task_started(run->db, ipam_task_name(p->t), run->id);
	/* Nothing to collect: no ticket asked for, nothing run.  A --server
	 * that is not managed is said before anything else. */
	if (!rc)
		rc = in_scope(&c, p->t);
	if (rc > 0) {
		rc = needs_identity(p->t)
			     ? ipam_collect_identity_open(&id, run->d)
			     : 0;
		c.id = id;
		if (!rc)
			rc = task_fns[p->t](p->out, &c);
	}
	p->out->task = p->t;
	p->out->ms = ipam_proc_now_ms() - t0;
	ipam_probe_identity_close(id);
	/* New leases and records change the addresses and utilization. */
	if (rc >= 0 && (p->t == IPAM_TASK_AUDIT || p->t == IPAM_TASK_DNS)) {
		int err = ipam_addresses_update(run, o.now, NULL);

		rc = err ? err : rc;
	}
	p->task_rc = rc;
	return rc;
}

static int store_outcome(struct ipam_db *db, long long run_id,
			 const struct ipam_collect_result *r, const char *error)
{
	const char *task = ipam_task_name(r->task);
	struct strbuf sum = STRBUF_INIT;
	const char *outcome = error		       ? "failed"
			      : ipam_collect_failed(r) ? "partial"
						       : "succeeded";
	int rc = 0;

	for (size_t i = 0; !rc && i < r->nr; i++)
		rc = ipam_db_task_server(db, task, r->servers[i].name, run_id,
					 r->servers[i].ok,
					 r->servers[i].detail);
	if (error)
		strbuf_addstr(&sum, error);
	else
		ipam_collect_summary(&sum, r);
	if (!rc)
		rc = ipam_db_task_ended(db, task, run_id, outcome, sum.buf);
	strbuf_release(&sum);
	return rc;
}

static void notify_failed(const struct ipam_run *run,
			  const struct ipam_collect_result *r,
			  const char *error)
{
	struct ipam_node *details = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *servers = ipam_node_new(IPAM_NODE_SEQ);
	size_t failed = ipam_collect_failed(r);

	ipam_node_set_str(details, "task", ipam_task_name(r->task));
	ipam_node_set(details, "error", ipam_node_str_or_null(error));
	for (size_t i = 0; i < r->nr; i++) {
		struct ipam_node *s;

		if (r->servers[i].ok)
			continue;
		s = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(s, "server", r->servers[i].name);
		ipam_node_set(s, "reason",
			      ipam_node_str_or_null(r->servers[i].detail));
		ipam_node_push(servers, s);
	}
	ipam_node_set(details, "servers", servers);
	if (error)
		ipam_run_notify(run, IPAM_EVENT_COLLECTION_FAILED, details,
				"ipamctl: collection task %s failed: %s",
				ipam_task_name(r->task), error);
	else
		ipam_run_notify(run, IPAM_EVENT_COLLECTION_FAILED, details,
				"ipamctl: collection task %s failed on %zu of "
				"%zu servers",
				ipam_task_name(r->task), failed, r->nr);
	ipam_node_free(details);
}

int ipam_collect_run_task(struct ipam_collect_result *out, enum ipam_task t,
			  const struct ipam_desired *d, struct ipam_db *db,
			  const struct ipam_collect_opts *o,
			  const struct ipam_run_hooks *hooks)
{
	struct task_step p = {.t = t, .out = out, .o = o};
	struct ipam_run run;
	char *error = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->task = t;
	if ((unsigned)t >= IPAM_TASK_NR || !task_fns[t])
		return ipam_error_set(IPAM_EINVAL,
				      "'%s' is not a collection task "
				      "(availability, zones, dns, audit)",
				      ipam_task_name(t));
	ipam_run_init(&run, IPAM_RUN_COLLECT, d, db);
	run.command = run_names[t];
	run.lock_as = run_names[t];
	run.lock_timeout = o->lock_timeout;
	run.hooks = hooks;
	run.prepare = task_prepare;
	run.ctx = &p;
	rc = ipam_run_begin(&run);
	if (!rc)
		rc = ipam_run_prepare(&run);
	if (rc)
		error = xstrdup(ipam_error_last());
	if (run.id || !db) {
		run.summary = ipam_collect_to_node(out);
		if (db && store_outcome(db, run.id, out, error) && !rc)
			rc = IPAM_EDB;
	}
	if (run.locked && (error || ipam_collect_failed(out)))
		notify_failed(&run, out, error);
	ipam_run_end(&run,
		     error || ipam_collect_failed(out) ? "failed" : "succeeded",
		     error);
	ipam_run_release(&run);
	if (error)
		ipam_error_set(rc, "%s", error);
	free(error);
	return rc;
}
