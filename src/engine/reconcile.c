#include "reconcile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addrspace.h"
#include "collect_pool.h"
#include "db.h"
#include "discover.h"
#include "envlock.h"
#include "error.h"
#include "jsonw.h"
#include "config.h"
#include "log.h"
#include "node.h"
#include "strbuf.h"
#include "banned.h"

/* The JSON writer's sink for a digest. */
static int sha_sink(void *ctx, const char *data, size_t len)
{
	ipam_sha256_update(ctx, data, len);
	return 0;
}

/* Replace the value of key in map m with null (texts that vary from one
 * read to the next without meaning anything: smbcacls prints "DA" or the
 * full SID). */
static void blank(struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key)) {
			ipam_node_free(m->items[i]);
			m->items[i] = ipam_node_new(IPAM_NODE_NULL);
		}
}

static struct ipam_node *child(struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key))
			return m->items[i];
	return NULL;
}

/*
 * What was observed, as one digest: a saved plan is applied only while
 * this is unchanged.  The SHA-256 of the compact JSON, keys sorted, of
 * {"gpo": [each domain's GPO view], "inventory": [{name, roles, sid,
 * status} of each server the inventory update writes]}, streamed into
 * the hash as it is made (a tree of 20,000 servers was most of a plan's
 * peak memory).
 */
static int fingerprint(struct ipam_reconcile *r)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[IPAM_SHA256_LEN];
	struct strbuf roles = STRBUF_INIT;
	struct ipam_sha256 sha;
	struct ipam_jsonw w;
	int rc;

	ipam_sha256_init(&sha);
	ipam_jsonw_init(&w, false, sha_sink, &sha);
	ipam_jsonw_begin_map(&w);
	ipam_jsonw_key(&w, "gpo");
	ipam_jsonw_begin_seq(&w);
	for (size_t i = 0; i < r->d->nr_domains; i++) {
		struct ipam_node *n, *seq;

		if (!r->states[i]) {
			ipam_jsonw_null(&w);
			continue;
		}
		n = ipam_gpoview_to_node(r->states[i]);
		seq = child(n, "gpos");
		for (size_t k = 0; seq && k < seq->nr; k++)
			blank(child(seq->items[k], "folderAcl"), "sddl");
		ipam_jsonw_node(&w, n, true);
		ipam_node_free(n);
	}
	ipam_jsonw_end_seq(&w);
	ipam_jsonw_key(&w, "inventory");
	ipam_jsonw_begin_seq(&w);
	for (size_t i = 0; i < r->inv_plan.nr; i++) {
		const struct ipam_inv_server *s = &r->inv_plan.updates[i].row;

		strbuf_reset(&roles);
		ipam_roles_format(&roles, s->roles, ",");
		ipam_jsonw_begin_map(&w);
		ipam_jsonw_key(&w, "name");
		ipam_jsonw_str(&w, s->name);
		ipam_jsonw_key(&w, "roles");
		ipam_jsonw_str(&w, roles.buf);
		ipam_jsonw_key(&w, "sid");
		ipam_jsonw_str(&w, s->sid ? s->sid : "");
		ipam_jsonw_key(&w, "status");
		ipam_jsonw_str(&w, ipam_inv_status_name(s->status));
		ipam_jsonw_end_map(&w);
	}
	ipam_jsonw_end_seq(&w);
	ipam_jsonw_end_map(&w);
	strbuf_release(&roles);
	rc = ipam_jsonw_finish(&w);
	if (rc)
		return ipam_error_set(IPAM_EINVAL,
				      "cannot express the output as JSON");
	ipam_sha256_final(md, &sha);
	for (size_t i = 0; i < IPAM_SHA256_LEN; i++) {
		r->fingerprint[2 * i] = hex[md[i] >> 4];
		r->fingerprint[2 * i + 1] = hex[md[i] & 0xf];
	}
	r->fingerprint[IPAM_SHA256_HEX_LEN] = '\0';
	return 0;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * addressSpace: each DHCP range names a DHCP server of the inventory as
 * this discovery leaves it (the rows it writes, then the stored ones for
 * the servers it does not touch): else a desired-state error at the
 * range's dhcpServer, and nothing is planned.
 */
static int check_dhcp_ranges(const struct ipam_reconcile *r)
{
	const struct ipam_inv_plan *p = &r->inv_plan;
	struct ipam_inventory after = {0};
	struct ipam_diags diags = {0};
	struct strbuf msg = STRBUF_INIT;
	int rc = 0;

	if (!r->d->address_space.nr_ranges)
		return 0;
	after.nr = p->nr + r->prev.nr;
	after.servers =
		xcalloc(after.nr ? after.nr : 1, sizeof(*after.servers));
	/* shallow copies: the first of a name is found first */
	for (size_t i = 0; i < p->nr; i++)
		after.servers[i] = p->updates[i].row;
	for (size_t i = 0; i < r->prev.nr; i++)
		after.servers[p->nr + i] = r->prev.servers[i];
	if (ipam_addrspace_check_dhcp(r->d, &after, &diags)) {
		for (size_t i = 0; i < diags.nr; i++) {
			strbuf_addstr(&msg, i ? "; " : "");
			ipam_diag_format(&msg, &diags.items[i]);
		}
		rc = ipam_error_set(IPAM_EINVAL, "%s", msg.buf);
	}
	free(after.servers);
	ipam_diags_free(&diags);
	strbuf_release(&msg);
	return rc;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* At -v: what a step over n domains took, and how much of it the
 * domains spent in (or waiting for) the SMB and Kerberos lock. */
static void log_lock_cost(const char *step, size_t n, int parallel,
			  double since)
{
	static struct ipam_envlock_stats last;
	struct ipam_envlock_stats st;

	ipam_envlock_stats(&st);
	log_info("%s of %zu domain%s, %d at once: %.2f s; the SMB lock "
		 "taken %llu times, held %.2f s, waited for %.2f s",
		 step, n, n == 1 ? "" : "s", parallel > 1 ? parallel : 1,
		 wall_seconds() - since, st.taken - last.taken,
		 st.held_s - last.held_s, st.wait_s - last.wait_s);
	last = st;
}

/* The GPO state of one domain, read on its discovery's thread. */
static void read_gpo(void *ctx, size_t i)
{
	struct ipam_reconcile *r = ctx;
	struct ipam_gpo_opts go = {0};

	if (r->d->method != IPAM_METHOD_GPO)
		return;
	go.source = r->o.source;
	if (ipam_gpo_open(&r->sessions[i], r->d, &r->d->domains[i], &go) ||
	    ipam_gpo_read(&r->states[i], r->sessions[i]))
		r->gpo_errors[i] = xstrdup(ipam_error_last());
}

int ipam_reconcile_prepare(struct ipam_reconcile *r,
			   const struct ipam_desired *d, struct ipam_db *db,
			   const struct ipam_reconcile_opts *o)
{
	struct ipam_discover_opts dopts;
	struct ipam_diff_input in = {0};
	size_t n = d->nr_domains;
	double t0;
	int rc;

	memset(r, 0, sizeof(*r));
	r->d = d;
	if (o)
		r->o = *o;
	r->sessions = xcalloc(n ? n : 1, sizeof(*r->sessions));
	r->states = xcalloc(n ? n : 1, sizeof(*r->states));
	r->gpo_errors = xcalloc(n ? n : 1, sizeof(*r->gpo_errors));
	rc = ipam_config_digest(r->config_digest, d);
	if (rc)
		return rc;
	ipam_discover_opts_init(&dopts);
	dopts.progress = r->o.progress;
	dopts.parallel = r->o.parallel;
	dopts.then.fn = read_gpo;
	dopts.then.ctx = r;
	t0 = wall_seconds();
	rc = ipam_discover(&r->obs, d, &dopts);
	log_lock_cost("discovery and GPO read", n, r->o.parallel, t0);
	if (!rc)
		rc = ipam_db_inventory_load(db, &r->prev);
	if (!rc)
		rc = ipam_db_applied_load(db, &r->applied);
	if (rc)
		return rc;
	r->nr_blocked = ipam_plan_blocked_servers(&r->blocked, &r->prev);
	ipam_inventory_check_collisions(r->obs, &r->prev);
	ipam_inventory_plan(&r->inv_plan, &r->prev, r->obs, d);
	rc = check_dhcp_ranges(r);
	if (rc)
		return rc;
	in.d = d;
	in.obs = r->obs;
	in.inventory = &r->prev;
	in.inv_plan = &r->inv_plan;
	in.gpo = r->states;
	in.gpo_errors = (const char *const *)r->gpo_errors;
	in.applied = &r->applied;
	in.config_digest = r->config_digest;
	t0 = cpu_seconds();
	ipam_diff(&r->plan, &in);
	log_info("diff: %zu actions in %.1f ms of CPU", r->plan.nr,
		 (cpu_seconds() - t0) * 1e3);
	return fingerprint(r);
}

static size_t domain_index(const struct ipam_reconcile *r, const char *name)
{
	for (size_t i = 0; i < r->d->nr_domains; i++)
		if (!strcasecmp(r->d->domains[i].name, name))
			return i;
	return (size_t)-1;
}

static bool is_inventory(enum ipam_act_kind k)
{
	return k == IPAM_ACT_MANAGEABILITY || k == IPAM_ACT_PURGE;
}

static bool is_dacl(enum ipam_act_kind k)
{
	return k == IPAM_ACT_GPO_SECURITY || k == IPAM_ACT_FILTER_ADD ||
	       k == IPAM_ACT_FILTER_REMOVE;
}

/* Every filter change of one GPO, for its single DACL write. */
static int one_dacl_write(struct ipam_reconcile *r, size_t di, int gpo)
{
	const char *dom = r->d->domains[di].name;
	const char **add = xcalloc(r->plan.nr + 1, sizeof(char *));
	const char **rem = xcalloc(r->plan.nr + 1, sizeof(char *));
	struct ipam_gpo_filter_change fc = {0};
	int rc;

	for (size_t i = 0; i < r->plan.nr; i++) {
		const struct ipam_action *a = &r->plan.actions[i];

		if (a->gpo != gpo || strcasecmp(a->domain, dom) || !a->sid)
			continue;
		if (a->kind == IPAM_ACT_FILTER_ADD)
			add[fc.nr_add++] = a->sid;
		else if (a->kind == IPAM_ACT_FILTER_REMOVE)
			rem[fc.nr_remove++] = a->sid;
	}
	fc.add_sids = add;
	fc.remove_sids = rem;
	rc = ipam_gpo_ensure_dacl(r->sessions[di], r->states[di],
				  (enum ipam_pol_gpo)gpo, &fc);
	free(add);
	free(rem);
	return rc;
}

static int run_action(struct ipam_reconcile *r, const struct ipam_action *a,
		      bool (*dacl_done)[IPAM_GPO_COUNT])
{
	size_t di = domain_index(r, a->domain);
	struct ipam_gpo_session *s;
	struct ipam_gpo_state *st;

	if (di == (size_t)-1 || !r->sessions[di] || !r->states[di])
		return ipam_error_set(IPAM_EINVAL,
				      "%s: no connection to apply %s",
				      a->domain, ipam_act_kind_name(a->kind));
	s = r->sessions[di];
	st = r->states[di];
	switch (a->kind) {
	case IPAM_ACT_GROUP:
		if (a->op == IPAM_OP_REMOVE)
			return ipam_gpo_remove_group(s, st);
		return ipam_gpo_ensure_group(s, st);
	case IPAM_ACT_GROUP_MEMBER:
		return ipam_gpo_ensure_group(s, st);
	case IPAM_ACT_DC_GRANTS:
		if (a->op == IPAM_OP_REMOVE)
			return ipam_gpo_remove_dc_grants(s, st);
		return ipam_gpo_ensure_dc_grants(s, st);
	case IPAM_ACT_GPO_CREATE:
		return ipam_gpo_ensure_gpo(s, st, (enum ipam_pol_gpo)a->gpo);
	case IPAM_ACT_GPO_SETTINGS:
		return ipam_gpo_ensure_settings(s, st,
						(enum ipam_pol_gpo)a->gpo);
	case IPAM_ACT_GPO_LINK:
		return ipam_gpo_ensure_link(s, st, (enum ipam_pol_gpo)a->gpo);
	case IPAM_ACT_GPO_UNLINK:
		return ipam_gpo_remove_link(s, st, (enum ipam_pol_gpo)a->gpo);
	case IPAM_ACT_GPO_DELETE:
		return ipam_gpo_remove_gpo(s, st, (enum ipam_pol_gpo)a->gpo);
	case IPAM_ACT_FILTER_GROUP:
		if (a->op == IPAM_OP_REMOVE)
			return ipam_gpo_remove_filter_group(
				s, st, (enum ipam_pol_gpo)a->gpo);
		return ipam_gpo_ensure_filter_group(s, st,
						    (enum ipam_pol_gpo)a->gpo);
	case IPAM_ACT_MEMBER_ADD:
	case IPAM_ACT_MEMBER_REMOVE:
		return ipam_gpo_apply_members(s, st, &r->plan, a);
	default:
		break;
	}
	if (is_dacl(a->kind)) {
		if (dacl_done[di][a->gpo])
			return 0;
		dacl_done[di][a->gpo] = true;
		return one_dacl_write(r, di, a->gpo);
	}
	return ipam_error_set(IPAM_EINVAL, "unknown action %d", (int)a->kind);
}

static void record_applied(struct ipam_reconcile *r, struct ipam_db *db,
			   long long run_id, const bool *failed_domain,
			   struct ipam_apply_result *res)
{
	struct ipam_diff_input in = {0};

	in.d = r->d;
	in.obs = r->obs;
	in.inventory = &r->prev;
	in.inv_plan = &r->inv_plan;
	in.config_digest = r->config_digest;
	for (size_t i = 0; i < r->d->nr_domains; i++) {
		struct ipam_applied_domain ad;

		if (!r->states[i] || failed_domain[i])
			continue;
		ipam_diff_applied(
			&ad, &in, r->states[i],
			ipam_applied_find(&r->applied, r->d->domains[i].name));
		if (ipam_db_applied_store(db, run_id, &ad)) {
			ALLOC_GROW(res->record_errors,
				   res->nr_record_errors + 1,
				   res->alloc_record_errors);
			res->record_errors[res->nr_record_errors++] =
				xstrdup(ipam_error_last());
		}
		ipam_applied_domain_release(&ad);
	}
}

/* One domain's AD actions, in plan order, on one thread of the pool. */
struct domain_apply {
	struct ipam_reconcile *r;
	struct ipam_db *db;
	pthread_mutex_t *db_mu; /* the journal is shared */
	long long run_id;
	bool (*dacl_done)[IPAM_GPO_COUNT];
	size_t *acts, nr; /* indices in r->plan.actions */
	size_t done, failed, not_done;
	size_t first_error; /* the action that set error */
	char *error;	    /* what stopped this domain, or NULL */
};

/* The journal's row of action i; on failure, why (malloc'd) in *why. */
static int journal(struct domain_apply *g, size_t i, const char *state,
		   const char *error, char **why)
{
	int rc;

	pthread_mutex_lock(g->db_mu);
	rc = ipam_db_action_set(g->db, g->run_id, (int)i + 1, state, error);
	if (rc && why)
		*why = xstrdup(ipam_error_last());
	pthread_mutex_unlock(g->db_mu);
	return rc;
}

static void apply_domain(void *item)
{
	struct domain_apply *g = item;
	struct ipam_reconcile *r = g->r;
	char *why = NULL;

	for (size_t k = 0; k < g->nr; k++) {
		size_t i = g->acts[k];
		const struct ipam_action *a = &r->plan.actions[i];

		if (!g->error && r->o.stop && r->o.stop()) {
			g->error = xstrdup("stopped by a signal before this "
					   "action");
			g->first_error = i;
		}
		if (g->error) {
			journal(g, i, "skipped", NULL, NULL);
			g->not_done++;
			continue;
		}
		/* No journal, no apply: a lost database connection stops
		 * the domain here (the journal shows the actions done). */
		if (journal(g, i, "started", NULL, &why)) {
			g->error = xasprintf("stopped before %s %s: %s",
					     ipam_act_kind_name(a->kind),
					     a->target, why);
			free(why);
			why = NULL;
			g->first_error = i;
			g->not_done++;
			continue;
		}
		if (run_action(r, a, g->dacl_done)) {
			g->error = xasprintf("%s %s: %s",
					     ipam_act_kind_name(a->kind),
					     a->target, ipam_error_last());
			g->first_error = i;
			journal(g, i, "failed", ipam_error_last(), NULL);
			g->failed++;
			continue;
		}
		journal(g, i, "done", NULL, NULL);
		g->done++;
	}
}

/*
 * The AD actions, grouped by domain (slot n for a domain the desired
 * state does not have: its actions fail alone), the groups run side by
 * side; then the counts and the failure first in plan order.
 */
static void apply_domains(struct ipam_reconcile *r, struct ipam_db *db,
			  long long run_id, bool (*dacl_done)[IPAM_GPO_COUNT],
			  bool *failed_domain, struct ipam_apply_result *res)
{
	size_t n = r->d->nr_domains, first = (size_t)-1;
	struct domain_apply *g = xcalloc(n + 1, sizeof(*g));
	pthread_mutex_t db_mu = PTHREAD_MUTEX_INITIALIZER;

	for (size_t di = 0; di <= n; di++) {
		g[di].r = r;
		g[di].db = db;
		g[di].db_mu = &db_mu;
		g[di].run_id = run_id;
		g[di].dacl_done = dacl_done;
		g[di].acts = xcalloc(r->plan.nr + 1, sizeof(size_t));
	}
	for (size_t i = 0; i < r->plan.nr; i++) {
		size_t di = domain_index(r, r->plan.actions[i].domain);

		if (is_inventory(r->plan.actions[i].kind))
			continue;
		if (di == (size_t)-1)
			di = n;
		g[di].acts[g[di].nr++] = i;
	}
	ipam_collect_pool_run(g, sizeof(*g), n + 1,
			      r->o.parallel > 1 ? r->o.parallel : 1,
			      apply_domain);
	for (size_t di = 0; di <= n; di++) {
		res->done += g[di].done;
		res->failed += g[di].failed;
		res->not_done += g[di].not_done;
		if (g[di].failed && di < n)
			failed_domain[di] = true;
		if (g[di].error && (first == (size_t)-1 ||
				    g[di].first_error < g[first].first_error))
			first = di;
	}
	if (first != (size_t)-1) {
		res->error = g[first].error;
		g[first].error = NULL;
	}
	for (size_t di = 0; di <= n; di++) {
		free(g[di].error);
		free(g[di].acts);
	}
	free(g);
}

int ipam_reconcile_apply(struct ipam_reconcile *r, struct ipam_db *db,
			 long long run_id, struct ipam_apply_result *res)
{
	size_t n = r->d->nr_domains;
	bool(*dacl_done)[IPAM_GPO_COUNT] =
		xcalloc(n ? n : 1, sizeof(*dacl_done));
	bool *failed_domain = xcalloc(n ? n : 1, sizeof(bool));
	double t0;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	/* A conflicted domain is left as it is, its record too. */
	for (size_t i = 0; i < r->plan.nr_conflicts; i++) {
		size_t di = domain_index(r, r->plan.conflicts[i].domain);

		if (di != (size_t)-1)
			failed_domain[di] = true;
	}
	for (size_t i = 0; i < r->plan.nr && !rc; i++) {
		const struct ipam_action *a = &r->plan.actions[i];

		rc = ipam_db_action_add(db, run_id, (int)i + 1,
					ipam_act_kind_name(a->kind), a->target,
					a->domain, a->reason);
	}
	/* Discovery's outcome first: the inventory, manageability, purges. */
	if (!rc)
		rc = ipam_db_inventory_store(db, run_id, r->d, r->obs,
					     &r->inv_plan);
	for (size_t i = 0; i < r->plan.nr && !rc; i++)
		if (is_inventory(r->plan.actions[i].kind)) {
			rc = ipam_db_action_set(db, run_id, (int)i + 1, "done",
						NULL);
			res->done++;
		}
	if (rc) {
		res->error = xstrdup(ipam_error_last());
		goto out;
	}
	t0 = wall_seconds();
	apply_domains(r, db, run_id, dacl_done, failed_domain, res);
	log_lock_cost("apply", n, r->o.parallel, t0);
	record_applied(r, db, run_id, failed_domain, res);
	rc = res->error ? IPAM_ERROR : 0;
	if (rc)
		ipam_error_set(IPAM_ERROR, "%s", res->error);
out:
	free(failed_domain);
	free(dacl_done);
	return rc;
}

int ipam_reconcile_safety(const struct ipam_reconcile *r,
			  long long allow_removals)
{
	long long limit =
		allow_removals >= 0 ? allow_removals : r->d->max_removals;

	if ((long long)r->plan.removals <= limit)
		return 0;
	return ipam_error_set(
		IPAM_ECONFLICT,
		"refused: the plan removes %zu thing%s, more "
		"than %s %lld; check the plan, then apply with "
		"--allow-removals %zu if it is right",
		r->plan.removals, r->plan.removals == 1 ? "" : "s",
		allow_removals >= 0 ? "--allow-removals" : "safety.maxRemovals",
		limit, r->plan.removals);
}

int ipam_reconcile_complete(const struct ipam_reconcile *r)
{
	const struct ipam_plan *p = &r->plan;

	if (p->nr_conflicts)
		return ipam_error_set(
			IPAM_ECONFLICT,
			"%zu conflict%s (nothing is done in %s until "
			"resolved): %s: %s: %s%s",
			p->nr_conflicts, p->nr_conflicts == 1 ? "" : "s",
			p->nr_conflicts == 1 ? "its domain" : "their domains",
			p->conflicts[0].domain, p->conflicts[0].what,
			p->conflicts[0].reason,
			p->nr_conflicts > 1 ? "; ..." : "");
	if (!p->nr_incomplete)
		return 0;
	return ipam_error_set(
		IPAM_ERROR,
		"%zu domain%s seen incompletely (removals there "
		"skipped): %s%s",
		p->nr_incomplete, p->nr_incomplete == 1 ? "" : "s",
		p->incomplete[0], p->nr_incomplete > 1 ? ", ..." : "");
}

struct ipam_node *ipam_reconcile_summary(const struct ipam_reconcile *r,
					 const struct ipam_apply_result *res,
					 const char *error)
{
	struct ipam_node *n = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set(n, "actions", ipam_node_int((long long)r->plan.nr));
	ipam_node_set(n, "create", ipam_node_int((long long)r->plan.counts[0]));
	ipam_node_set(n, "update", ipam_node_int((long long)r->plan.counts[1]));
	ipam_node_set(n, "remove", ipam_node_int((long long)r->plan.counts[2]));
	ipam_node_set(n, "drift", ipam_node_int((long long)r->plan.drift));
	if (res) {
		ipam_node_set(n, "done", ipam_node_int((long long)res->done));
		ipam_node_set(n, "failed",
			      ipam_node_int((long long)res->failed));
		ipam_node_set(n, "not_done",
			      ipam_node_int((long long)res->not_done));
	}
	if (error)
		ipam_node_set_str(n, "error", error);
	return n;
}

void ipam_reconcile_result_release(struct ipam_apply_result *res)
{
	free(res->error);
	res->error = NULL;
	for (size_t i = 0; i < res->nr_record_errors; i++)
		free(res->record_errors[i]);
	free(res->record_errors);
	res->record_errors = NULL;
	res->nr_record_errors = res->alloc_record_errors = 0;
}

void ipam_reconcile_release(struct ipam_reconcile *r)
{
	size_t n = r->d ? r->d->nr_domains : 0;

	for (size_t i = 0; i < n; i++) {
		if (r->states)
			ipam_gpo_state_free(r->states[i]);
		if (r->sessions)
			ipam_gpo_close(r->sessions[i]);
		if (r->gpo_errors)
			free(r->gpo_errors[i]);
	}
	free(r->states);
	free(r->sessions);
	free(r->gpo_errors);
	ipam_observed_free(r->obs);
	free(r->blocked);
	ipam_inventory_release(&r->prev);
	ipam_inv_plan_release(&r->inv_plan);
	ipam_applied_release(&r->applied);
	ipam_plan_release(&r->plan);
	memset(r, 0, sizeof(*r));
}

struct ipam_plan_doc ipam_reconcile_doc(const struct ipam_reconcile *r)
{
	struct ipam_plan_doc doc = {
		.d = r->d,
		.plan = &r->plan,
		.git_commit = r->o.git_commit,
		.config_digest = r->config_digest,
		.fingerprint = r->fingerprint,
		.generated_at = time(NULL),
		.blocked = r->blocked,
		.nr_blocked = r->nr_blocked,
	};

	return doc;
}
