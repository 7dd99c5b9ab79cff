#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "error.h"
#include "json.h"
#include "planout.h"
#include "strbuf.h"
#include "banned.h"

const char *ipam_run_kind_name(enum ipam_run_kind kind)
{
	static const char *const names[] = {
		[IPAM_RUN_PLAN] = "plan",
		[IPAM_RUN_APPLY] = "apply",
		[IPAM_RUN_DRIFT] = "drift",
		[IPAM_RUN_RECONCILE] = "reconcile",
		[IPAM_RUN_PROVISION] = "provision",
		[IPAM_RUN_GPO_FILTER] = "gpo-filter",
		[IPAM_RUN_VERIFY] = "verify",
		[IPAM_RUN_COLLECT] = "collect",
	};

	return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind]
								 : "?";
}

void ipam_run_init(struct ipam_run *run, enum ipam_run_kind kind,
		   const struct ipam_desired *d, struct ipam_db *db)
{
	memset(run, 0, sizeof(*run));
	run->kind = kind;
	run->d = d;
	run->db = db;
	run->command = ipam_run_kind_name(kind);
	run->lock_as = run->command;
	run->lock = run->record = db != NULL;
	run->allow_removals = -1;
	run->with_result = kind == IPAM_RUN_APPLY || kind == IPAM_RUN_RECONCILE;
}

int ipam_run_begin(struct ipam_run *run)
{
	int rc;

	if (!run->db)
		return 0;
	if (run->lock) {
		struct strbuf took = STRBUF_INIT;

		rc = ipam_db_lock(run->db, run->lock_as, run->lock_timeout,
				  &took);
		if (!rc && took.len)
			run->took_over = strbuf_detach(&took, NULL);
		strbuf_release(&took);
		if (rc)
			return rc;
		run->locked = true;
	}
	if (run->record)
		return ipam_db_run_begin(run->db, run->command, &run->id);
	return 0;
}

int ipam_run_record_source(struct ipam_run *run, const char *config_digest)
{
	int rc;

	if (!run->id)
		return 0;
	rc = ipam_db_run_set_source(run->db, run->id, run->commit,
				    config_digest);
	/* A reconcile names the commit's author; a local commit has none
	 * known, and that is recorded too. */
	if (!rc && run->kind == IPAM_RUN_RECONCILE && run->commit)
		rc = ipam_db_run_set_author(run->db, run->id,
					    run->fetched.author,
					    run->fetched.subject);
	if (!rc && run->fetched.signer)
		rc = ipam_db_run_set_signer(run->db, run->id,
					    run->fetched.signer,
					    run->fetched.signer_key);
	return rc;
}

int ipam_run_prepare(struct ipam_run *run)
{
	struct ipam_reconcile_opts ro = {0};
	int rc;

	if (run->prepare)
		return run->prepare(run, run->ctx);
	ro.source = run->source;
	ro.git_commit = run->commit;
	ro.progress = run->progress;
	ro.stop = run->stop;
	ro.parallel = run->parallel > 0 ? run->parallel : IPAM_RUN_PARALLEL;
	rc = ipam_reconcile_prepare(&run->r, run->d, run->db, &ro);
	run->prepared = true;
	if (!rc)
		rc = ipam_run_record_source(run, run->r.config_digest);
	return rc;
}

int ipam_run_safety(struct ipam_run *run)
{
	struct ipam_node *details;
	int rc;

	rc = ipam_reconcile_safety(&run->r, run->allow_removals);
	if (!rc || !run->hooks || !run->hooks->nr)
		return rc;
	details = ipam_reconcile_summary(&run->r, NULL, ipam_error_last());
	ipam_node_set(details, "removals",
		      ipam_node_int((long long)run->r.plan.removals));
	ipam_run_notify(run, IPAM_EVENT_REFUSED, details, "ipamctl: %s",
			ipam_error_last());
	ipam_node_free(details);
	return rc;
}

int ipam_run_complete(const struct ipam_run *run)
{
	return run->prepared ? ipam_reconcile_complete(&run->r) : 0;
}

int ipam_run_apply(struct ipam_run *run)
{
	run->applied = true;
	if (run->apply)
		return run->apply(run, run->ctx);
	return ipam_reconcile_apply(&run->r, run->db, run->id, &run->res);
}

int ipam_run_end(struct ipam_run *run, const char *outcome, const char *error)
{
	struct strbuf sum = STRBUF_INIT;
	int rc = 0;

	if (run->id) {
		if (!run->summary) {
			run->summary = ipam_reconcile_summary(
				&run->r, run->with_result ? &run->res : NULL,
				error);
			if (run->fetched.id)
				ipam_node_set_str(run->summary, "commit",
						  run->fetched.id);
		}
		rc = ipam_json_write(&sum, run->summary, 0);
		if (!rc) {
			if (!run->summary_newline)
				strbuf_rtrim_newline(&sum);
			rc = ipam_db_run_end(run->db, run->id, outcome,
					     sum.buf);
		}
	}
	strbuf_release(&sum);
	if (run->locked)
		ipam_db_unlock(run->db);
	run->locked = false;
	return rc;
}

void ipam_run_release(struct ipam_run *run)
{
	if (run->locked)
		ipam_db_unlock(run->db);
	run->locked = false;
	free(run->took_over);
	run->took_over = NULL;
	ipam_node_free(run->summary);
	run->summary = NULL;
	ipam_reconcile_result_release(&run->res);
	if (run->prepared)
		ipam_reconcile_release(&run->r);
	run->prepared = false;
}

static bool same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Two hooks that would post to the same place (a Slack or Teams hook
 * without url: has its secret as the URL). */
static bool same_target(const struct ipam_hook *k,
			const struct ipam_notify_cfg *c)
{
	if (k->url || c->url.value)
		return same_str(k->url, c->url.value);
	return same_str(k->secret_file, c->secret_file.value) ||
	       same_str(k->secret_env, c->secret_env.value);
}

void ipam_run_hooks_add(struct ipam_run_hooks *h, const struct ipam_desired *d,
			unsigned only)
{
	size_t have = h->nr;

	if (!d || !d->nr_notify)
		return;
	h->v = xrealloc(h->v, (h->nr + d->nr_notify) * sizeof(*h->v));
	for (size_t i = 0; i < d->nr_notify; i++) {
		const struct ipam_notify_cfg *c = &d->notify[i];
		struct ipam_hook *k;
		size_t j;

		if (only && !(c->events & only))
			continue;
		for (j = 0; j < have && !same_target(&h->v[j], c); j++)
			;
		if (j < have)
			continue;
		k = &h->v[h->nr++];

		ipam_notify_hook_init(k);
		k->kind = !strcmp(c->kind.value, "slack")   ? IPAM_HOOK_SLACK
			  : !strcmp(c->kind.value, "teams") ? IPAM_HOOK_TEAMS
							    : IPAM_HOOK_GENERIC;
		k->url = c->url.value;
		k->events = c->events;
		k->secret_file = c->secret_file.value;
		k->secret_env = c->secret_env.value;
		k->ca_file = c->ca_file.value;
		k->timeout_ms = c->timeout * 1000;
	}
}

void ipam_run_hooks_release(struct ipam_run_hooks *h)
{
	free(h->v);
	h->v = NULL;
	h->nr = 0;
}

void ipam_run_notify(const struct ipam_run *run, enum ipam_event ev,
		     struct ipam_node *details, const char *fmt, ...)
{
	struct ipam_notice n = {0};
	struct ipam_node *own = NULL;
	struct strbuf sum = STRBUF_INIT;
	char id[32];
	va_list ap;

	if (!run->hooks || !run->hooks->nr)
		return;
	if (run->fetched.signer) {
		if (!details)
			details = own = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(details, "signer", run->fetched.signer);
		ipam_node_set(details, "signer_key",
			      ipam_node_str_or_null(run->fetched.signer_key));
	}
	va_start(ap, fmt);
	strbuf_vaddf(&sum, fmt, ap);
	va_end(ap);
	snprintf(id, sizeof(id), "%lld", run->id);
	n.event = ev;
	n.summary = sum.buf;
	n.details = details;
	n.commit = run->fetched.id;
	n.author = n.commit ? run->fetched.author : NULL;
	n.subject = n.commit ? run->fetched.subject : NULL;
	n.run = run->id ? id : NULL;
	ipam_notify(run->hooks->v, run->hooks->nr, &n);
	strbuf_release(&sum);
	ipam_node_free(own);
}

void ipam_run_notify_drift(const struct ipam_run *run)
{
	struct ipam_plan_doc doc;
	struct ipam_node *details;
	size_t n = run->r.plan.drift;

	if (!n || !run->hooks || !run->hooks->nr)
		return;
	/* details: the plan's counts and its drift list */
	doc = ipam_reconcile_doc(&run->r);
	details = ipam_reconcile_summary(&run->r, NULL, NULL);
	ipam_node_set(details, "changes", ipam_plan_drift_node(&doc));
	ipam_run_notify(run, IPAM_EVENT_DRIFT, details,
			"ipamctl: drift found: %zu action%s correct changes "
			"made in AD behind ipamctl's back",
			n, n == 1 ? "" : "s");
	ipam_node_free(details);
}

void ipam_run_notify_applied(const struct ipam_run *run, const char *error)
{
	const struct ipam_plan *p = &run->r.plan;
	struct ipam_node *details;

	if (!run->hooks || !run->hooks->nr || (!error && !p->nr))
		return;
	details = ipam_reconcile_summary(&run->r, &run->res, error);
	if (error)
		ipam_run_notify(run, IPAM_EVENT_APPLY_FAILED, details,
				"ipamctl: apply failed: %s (%zu done, %zu not "
				"done)",
				error, run->res.done, run->res.not_done);
	else
		ipam_run_notify(run, IPAM_EVENT_APPLIED, details,
				"ipamctl: applied %zu action%s (%zu to create, "
				"%zu to update, %zu to remove)",
				p->nr, p->nr == 1 ? "" : "s", p->counts[0],
				p->counts[1], p->counts[2]);
	ipam_node_free(details);
}
