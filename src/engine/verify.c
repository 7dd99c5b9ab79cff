#include "verify.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collect.h"
#include "db.h"
#include "error.h"
#include "gpo.h"
#include "inventory.h"
#include "probe.h"
#include "proc.h"
#include "run.h"
#include "strbuf.h"
#include "banned.h"

#define SMB_PORT 445

struct pool {
	pthread_mutex_t mu;
	size_t next;
	struct ipam_verify *v;
	const struct ipam_probe_identity *id;
};

static bool selected(const struct ipam_inv_server *s,
		     const struct ipam_verify_opts *o)
{
	if (s->status == IPAM_INV_GONE || s->status == IPAM_INV_NOT_FOUND)
		return false;
	if (s->manageability == IPAM_MANAGE_UNMANAGED)
		return false;
	if (o->domain && (!s->domain || strcasecmp(s->domain, o->domain)))
		return false;
	if (o->server && strcasecmp(s->name, o->server))
		return false;
	return true;
}

/* Every detail that applies to s, Blocked with reason. */
static void block_all(struct ipam_verify_server *s, const char *reason)
{
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		if (ipam_access_applies((enum ipam_access_detail)d, s->roles))
			ipam_access_set(&s->access, (enum ipam_access_detail)d,
					IPAM_ACCESS_BLOCKED, reason);
}

static void probe_server(struct ipam_verify_server *s,
			 const struct ipam_probe_identity *id)
{
	struct strbuf addr = STRBUF_INIT, reason = STRBUF_INIT;
	struct ipam_access *a = &s->access;
	int64_t t0 = ipam_proc_now_ms();
	int up;

	up = ipam_probe_tcp(&addr, &reason, s->name, SMB_PORT, id->timeout);
	/* a name the probe host cannot resolve: the address discovery saw */
	if (!up && !addr.len && s->known_addr)
		up = ipam_probe_tcp(&addr, &reason, s->known_addr, SMB_PORT,
				    id->timeout);
	if (addr.len)
		s->addr = xstrdup(addr.buf);
	if (!up) {
		block_all(s, reason.buf);
		goto out;
	}
	if (s->roles & IPAM_ROLE_DNS)
		ipam_probe_dns(&a->detail[IPAM_ACCESS_DNS_RPC], id, s->name);
	ipam_probe_eventlog(&a->detail[IPAM_ACCESS_EVENT_LOG], id, s->name);
	if (s->roles & IPAM_ROLE_DHCP) {
		ipam_probe_dhcpm(&a->detail[IPAM_ACCESS_DHCP_RPC], id, s->name);
		ipam_probe_share(&a->detail[IPAM_ACCESS_DHCP_AUDIT_SHARE], id,
				 s->name);
	}
out:
	s->ms = ipam_proc_now_ms() - t0;
	strbuf_release(&addr);
	strbuf_release(&reason);
}

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->mu);
		while (p->next < p->v->nr &&
		       p->v->v[p->next].manageability != IPAM_MANAGE_MANAGED)
			p->next++;
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->v->nr)
			break;
		probe_server(&p->v->v[i], p->id);
	}
	return NULL;
}

/* Probe the managed servers of v, concurrency at a time. */
static void probe_all(struct ipam_verify *v,
		      const struct ipam_probe_identity *id, int concurrency)
{
	struct pool p = {.v = v, .id = id};
	pthread_t *t = xcalloc((size_t)concurrency, sizeof(*t));
	int started = 0;

	pthread_mutex_init(&p.mu, NULL);
	for (int i = 0; i < concurrency && (size_t)i < v->nr; i++) {
		if (pthread_create(&t[i], NULL, worker, &p))
			break;
		started++;
	}
	if (!started) /* no thread: this one does the work */
		worker(&p);
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(t);
}

static void warn(struct ipam_verify *v, const char *domain, const char *why)
{
	ALLOC_GROW(v->warnings, v->nr_warnings + 1, v->alloc_warnings);
	v->warnings[v->nr_warnings++] =
		xasprintf("%s: the GPO state could not be read, the reasons "
			  "say only what the probes saw: %s",
			  domain, why);
}

/* What ipamctl knows about the blocked servers of domain: its GPO state,
 * read as the administrative connection. */
static void hint_domain(struct ipam_verify *v, const struct ipam_desired *d,
			const char *domain)
{
	const struct ipam_domain *dom = ipam_desired_find_domain(d, domain);
	struct ipam_gpo_opts go = {.dry_run = true};
	struct ipam_gpo_session *s = NULL;
	struct ipam_gpo_state *st = NULL;
	int rc = IPAM_ENOTFOUND;

	if (dom && d->method == IPAM_METHOD_GPO) {
		rc = ipam_gpo_open(&s, d, dom, &go);
		if (!rc)
			rc = ipam_gpo_read(&st, s);
		if (rc)
			warn(v, domain, ipam_error_last());
	}
	for (size_t i = 0; i < v->nr; i++) {
		struct ipam_verify_server *srv = &v->v[i];

		if (srv->manageability != IPAM_MANAGE_MANAGED || !srv->domain ||
		    strcasecmp(srv->domain, domain))
			continue;
		ipam_access_hints(&srv->access, srv->roles, srv->sid,
				  rc ? NULL : st);
	}
	ipam_gpo_state_free(st);
	ipam_gpo_close(s);
}

static void hint_all(struct ipam_verify *v, const struct ipam_desired *d)
{
	for (size_t i = 0; i < v->nr; i++) {
		bool seen = false;

		if (v->v[i].manageability != IPAM_MANAGE_MANAGED ||
		    !v->v[i].domain)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = v->v[j].domain &&
			       v->v[j].manageability == IPAM_MANAGE_MANAGED &&
			       !strcasecmp(v->v[j].domain, v->v[i].domain);
		if (!seen)
			hint_domain(v, d, v->v[i].domain);
	}
}

static int open_identity(struct ipam_probe_identity **id, struct ipam_verify *v,
			 const struct ipam_desired *d)
{
	int rc = ipam_collect_identity_open(id, d);

	if (!rc)
		v->principal = xstrdup((*id)->principal);
	return rc;
}

static void add_server(struct ipam_verify *v, const struct ipam_inv_server *s)
{
	struct ipam_verify_server *o;
	struct strbuf a = STRBUF_INIT;

	ALLOC_GROW(v->v, v->nr + 1, v->alloc);
	o = &v->v[v->nr];
	memset(o, 0, sizeof(*o));
	o->name = xstrdup(s->name);
	o->domain = s->domain ? xstrdup(s->domain) : NULL;
	o->sid = s->sid ? xstrdup(s->sid) : NULL;
	o->roles = s->roles;
	o->manageability = s->manageability;
	if (s->nr_addrs)
		ipam_addrs_format(&a, s->addrs, 1);
	o->known_addr = a.len ? strbuf_detach(&a, NULL) : NULL;
	strbuf_release(&a);
	v->nr++;
}

/* Settle, compare with the check before, store. */
static int settle_store(struct ipam_verify *v, struct ipam_db *db,
			const struct ipam_verify_opts *o)
{
	for (size_t i = 0; i < v->nr; i++) {
		struct ipam_verify_server *s = &v->v[i];
		struct ipam_db_access prev;
		int rc;

		ipam_access_settle(&s->access, s->roles, s->manageability);
		v->counts[s->access.overall]++;
		rc = db ? ipam_db_access_latest(db, s->name, &prev)
			: IPAM_ENOTFOUND;
		if (rc && rc != IPAM_ENOTFOUND)
			return rc;
		s->previous =
			rc ? IPAM_ACCESS_NOT_CHECKED : prev.access.overall;
		s->changed = (s->previous == IPAM_ACCESS_BLOCKED &&
			      s->access.overall == IPAM_ACCESS_UNBLOCKED) ||
			     (s->previous == IPAM_ACCESS_UNBLOCKED &&
			      s->access.overall == IPAM_ACCESS_BLOCKED);
		/* unspecified servers: a row only when it says something
		 * new, not one per check */
		if (!rc && s->manageability != IPAM_MANAGE_MANAGED &&
		    prev.access.overall == s->access.overall &&
		    prev.access.action == s->access.action)
			o = NULL;
		if (!rc)
			ipam_db_access_release(&prev);
		if (db && o && o->store) {
			rc = ipam_db_access_store(db, o->run_id, s->name,
						  &s->access);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int ipam_verify_run(struct ipam_verify *out, const struct ipam_desired *d,
		    struct ipam_db *db, const struct ipam_verify_opts *o)
{
	struct ipam_inventory inv = {0};
	struct ipam_probe_identity *id = NULL;
	size_t managed = 0;
	int64_t t0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ipam_db_inventory_load(db, &inv);
	if (rc)
		return rc;
	for (size_t i = 0; i < inv.nr; i++)
		if (selected(&inv.servers[i], o)) {
			add_server(out, &inv.servers[i]);
			managed += inv.servers[i].manageability ==
				   IPAM_MANAGE_MANAGED;
		}
	if (o->server && !out->nr) {
		const struct ipam_inv_server *s =
			ipam_inventory_find(&inv, o->server);

		rc = s && s->manageability == IPAM_MANAGE_UNMANAGED
			     ? ipam_error_set(IPAM_EINVAL,
					      "'%s' is unmanaged: verify "
					      "checks managed servers",
					      o->server)
			     : ipam_error_set(IPAM_ENOTFOUND,
					      "'%s' is not in the inventory%s",
					      o->server,
					      o->domain ? " of that domain"
							: "");
		goto out;
	}
	if (managed) {
		rc = open_identity(&id, out, d);
		if (rc)
			goto out;
		t0 = ipam_proc_now_ms();
		probe_all(out, id,
			  d->identity.concurrency ? d->identity.concurrency
						  : IPAM_IDENTITY_CONCURRENCY);
		out->ms = ipam_proc_now_ms() - t0;
		hint_all(out, d);
	}
	rc = settle_store(out, db, o);
out:
	ipam_probe_identity_close(id);
	ipam_inventory_release(&inv);
	return rc;
}

int ipam_verify_cycle(struct ipam_verify *out, const struct ipam_run *run)
{
	struct ipam_verify_opts o = {.run_id = run->id, .store = true};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!run->d->identity.keytab.value && !run->d->identity.ccache.value)
		return 1;
	rc = ipam_verify_run(out, run->d, run->db, &o);
	if (rc)
		return rc;
	for (size_t i = 0; i < out->nr; i++) {
		const struct ipam_verify_server *s = &out->v[i];
		struct ipam_node *details;

		if (!s->changed)
			continue;
		details = ipam_verify_access_node(&s->access);
		ipam_node_set_str(details, "server", s->name);
		ipam_node_set(details, "domain",
			      ipam_node_str_or_null(s->domain));
		ipam_node_set_str(details, "previous",
				  ipam_access_status_name(s->previous));
		ipam_run_notify(run, IPAM_EVENT_ACCESS_CHANGED, details,
				"ipamctl: IPAM access to %s: %s -> %s", s->name,
				ipam_access_status_name(s->previous),
				ipam_access_status_name(s->access.overall));
		ipam_node_free(details);
	}
	return 0;
}

void ipam_verify_release(struct ipam_verify *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nr; i++) {
		free(v->v[i].name);
		free(v->v[i].domain);
		free(v->v[i].sid);
		free(v->v[i].addr);
		free(v->v[i].known_addr);
		ipam_access_release(&v->v[i].access);
	}
	free(v->v);
	for (size_t i = 0; i < v->nr_warnings; i++)
		free(v->warnings[i]);
	free(v->warnings);
	free(v->principal);
	memset(v, 0, sizeof(*v));
}

struct ipam_node *ipam_verify_access_node(const struct ipam_access *a)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *det = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set_str(m, "overall", ipam_access_status_name(a->overall));
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
		struct ipam_node *x = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(x, "status",
				  ipam_access_status_name(a->detail[d].status));
		ipam_node_set(x, "reason",
			      ipam_node_str_or_null(a->detail[d].reason));
		ipam_node_set(
			det, ipam_access_detail_key((enum ipam_access_detail)d),
			x);
	}
	ipam_node_set(m, "details", det);
	ipam_node_set(
		m, "recommendedAction",
		ipam_node_str_or_null(
			a->action ? ipam_access_action_name(a->action) : NULL));
	return m;
}

struct ipam_node *ipam_verify_to_node(const struct ipam_verify *v)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *counts = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *w = ipam_node_new(IPAM_NODE_SEQ);

	ipam_node_set(root, "identity", ipam_node_str_or_null(v->principal));
	for (size_t i = 0; i < v->nr; i++) {
		const struct ipam_verify_server *s = &v->v[i];
		struct ipam_node *m = ipam_verify_access_node(&s->access);
		struct ipam_node *roles = ipam_node_new(IPAM_NODE_SEQ);

		ipam_node_set_str(m, "name", s->name);
		ipam_node_set(m, "domain", ipam_node_str_or_null(s->domain));
		for (unsigned r = IPAM_ROLE_DC; r <= IPAM_ROLE_NPS; r <<= 1)
			if (s->roles & r)
				ipam_node_push(roles,
					       ipam_node_str(ipam_role_name(
						       (enum ipam_role)r)));
		ipam_node_set(m, "roles", roles);
		ipam_node_set_str(m, "manageability",
				  ipam_manageability_name(s->manageability));
		ipam_node_set(m, "address", ipam_node_str_or_null(s->addr));
		ipam_node_set_str(m, "previous",
				  ipam_access_status_name(s->previous));
		ipam_node_set(m, "changed", ipam_node_bool(s->changed));
		ipam_node_set(m, "ms", ipam_node_int(s->ms));
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "servers", seq);
	ipam_node_set(
		counts, "unblocked",
		ipam_node_int((long long)v->counts[IPAM_ACCESS_UNBLOCKED]));
	ipam_node_set(counts, "blocked",
		      ipam_node_int((long long)v->counts[IPAM_ACCESS_BLOCKED]));
	ipam_node_set(
		counts, "notChecked",
		ipam_node_int((long long)v->counts[IPAM_ACCESS_NOT_CHECKED]));
	ipam_node_set(root, "counts", counts);
	for (size_t i = 0; i < v->nr_warnings; i++)
		ipam_node_push(w, ipam_node_str(v->warnings[i]));
	ipam_node_set(root, "warnings", w);
	ipam_node_set(root, "ms", ipam_node_int(v->ms));
	return root;
}
