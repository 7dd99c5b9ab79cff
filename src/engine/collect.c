#include "collect.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "error.h"
#include "inventory.h"
#include "probe.h"
#include "strbuf.h"
#include "banned.h"

static bool in_scope(const struct ipam_inv_server *s,
		     const struct ipam_collect_opts *o, unsigned roles)
{
	if (s->status == IPAM_INV_GONE || s->status == IPAM_INV_NOT_FOUND)
		return false;
	if (s->manageability != IPAM_MANAGE_MANAGED || !(s->roles & roles))
		return false;
	if (o->domain && (!s->domain || strcasecmp(s->domain, o->domain)))
		return false;
	return !o->server || !strcasecmp(s->name, o->server);
}

/* timeZone: the server's, else its discovery domain's, else NULL. */
static const char *time_zone_of(const struct ipam_desired *d,
				const struct ipam_inv_server *s)
{
	const struct ipam_server *ds = ipam_desired_find_server(d, s->name);
	const struct ipam_domain *dom;

	if (ds && ds->time_zone.value)
		return ds->time_zone.value;
	dom = ds && ds->domain ? ds->domain
	      : s->domain      ? ipam_desired_find_domain(d, s->domain)
			       : NULL;
	return dom ? dom->time_zone.value : NULL;
}

static int not_in_scope(const struct ipam_inventory *inv,
			const struct ipam_collect_opts *o, unsigned roles)
{
	const struct ipam_inv_server *s = ipam_inventory_find(inv, o->server);

	if (!s ||
	    (o->domain && (!s->domain || strcasecmp(s->domain, o->domain))))
		return ipam_error_set(
			IPAM_ENOTFOUND, "'%s' is not in the inventory%s",
			o->server, o->domain ? " of that domain" : "");
	if (s->manageability != IPAM_MANAGE_MANAGED)
		return ipam_error_set(
			IPAM_EINVAL,
			"'%s' is %s: only managed servers are "
			"collected",
			o->server, ipam_manageability_name(s->manageability));
	if (!(s->roles & roles))
		return 1; /* managed, but this task has nothing to do there */
	return ipam_error_set(IPAM_ENOTFOUND,
			      "'%s' was not found by the "
			      "last discovery",
			      o->server);
}

int ipam_collect_targets(struct ipam_collect_target **out, size_t *nr,
			 const struct ipam_collect_ctx *c, unsigned roles)
{
	struct ipam_inventory inv = {0};
	struct ipam_collect_target *v = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	rc = ipam_db_inventory_load(c->db, &inv);
	if (rc)
		return rc;
	for (size_t i = 0; i < inv.nr; i++) {
		const struct ipam_inv_server *s = &inv.servers[i];
		struct ipam_collect_target *t;

		if (!in_scope(s, c->o, roles))
			continue;
		ALLOC_GROW(v, n + 1, alloc);
		t = &v[n++];
		t->name = xstrdup(s->name);
		t->domain = s->domain ? xstrdup(s->domain) : NULL;
		t->roles = s->roles;
		t->addr = s->nr_addrs ? xstrdup(s->addrs[0].text) : NULL;
		t->time_zone = time_zone_of(c->d, s);
	}
	if (c->o->server && !n) {
		rc = not_in_scope(&inv, c->o, roles);
		if (rc > 0)
			rc = 0;
	}
	ipam_inventory_release(&inv);
	if (rc < 0) {
		ipam_collect_targets_free(v, n);
		return rc;
	}
	*out = v;
	*nr = n;
	return 0;
}

void ipam_collect_targets_free(struct ipam_collect_target *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].name);
		free(v[i].domain);
		free(v[i].addr);
	}
	free(v);
}

int ipam_collect_identity_open(struct ipam_probe_identity **out,
			       const struct ipam_desired *d)
{
	const struct ipam_identity_cfg *c = &d->identity;
	struct ipam_probe_opts po = {
		.keytab = c->keytab.value,
		.ccache = c->ccache.value,
		.timeout = c->timeout ? c->timeout : IPAM_IDENTITY_TIMEOUT,
	};
	struct strbuf p = STRBUF_INIT;
	int rc;

	*out = NULL;
	if (!c->keytab.value && !c->ccache.value)
		return ipam_error_set(IPAM_EINVAL,
				      "the IPAM identity is needed: set "
				      "identity.keytab (the keytab of the "
				      "IPAM server's computer account) in "
				      "the desired state");
	ipam_identity_principal(&p, d);
	if (!p.len) {
		strbuf_release(&p);
		return ipam_error_set(IPAM_EINVAL,
				      "the IPAM identity needs "
				      "identity.principal (none follows from "
				      "ipamServer)");
	}
	po.principal = p.buf;
	rc = ipam_probe_identity_open(out, &po);
	strbuf_release(&p);
	return rc;
}

void ipam_collect_server_add(struct ipam_collect_result *r, const char *name,
			     bool ok, const char *detail_fmt, ...)
{
	struct ipam_collect_server *s;

	ALLOC_GROW(r->servers, r->nr + 1, r->alloc);
	s = &r->servers[r->nr++];
	s->name = xstrdup(name);
	s->ok = ok;
	s->detail = NULL;
	if (detail_fmt) {
		struct strbuf sb = STRBUF_INIT;
		va_list ap;

		va_start(ap, detail_fmt);
		strbuf_vaddf(&sb, detail_fmt, ap);
		va_end(ap);
		s->detail = strbuf_detach(&sb, NULL);
	}
}

void ipam_collect_count(struct ipam_collect_result *r, const char *name,
			long long n)
{
	size_t i;

	for (i = 0; i < r->nr_counts; i++)
		if (!strcmp(r->counts[i].name, name))
			break;
	if (i == r->nr_counts) {
		if (i == IPAM_COLLECT_MAX_COUNTS)
			return; /* a programming error: the table is fixed */
		r->counts[i].name = name;
		r->counts[i].n = 0;
		r->nr_counts++;
	}
	r->counts[i].n += n;
}

long long ipam_collect_count_get(const struct ipam_collect_result *r,
				 const char *name)
{
	for (size_t i = 0; i < r->nr_counts; i++)
		if (!strcmp(r->counts[i].name, name))
			return r->counts[i].n;
	return 0;
}

void ipam_collect_warn(struct ipam_collect_result *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (r->nr_warnings >= IPAM_COLLECT_MAX_WARNINGS) {
		r->warnings_dropped++;
		return;
	}
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(r->warnings, r->nr_warnings + 1, r->alloc_warnings);
	r->warnings[r->nr_warnings++] = strbuf_detach(&sb, NULL);
}

size_t ipam_collect_failed(const struct ipam_collect_result *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nr; i++)
		n += !r->servers[i].ok;
	return n;
}

void ipam_collect_result_release(struct ipam_collect_result *r)
{
	for (size_t i = 0; i < r->nr; i++) {
		free(r->servers[i].name);
		free(r->servers[i].detail);
	}
	free(r->servers);
	for (size_t i = 0; i < r->nr_warnings; i++)
		free(r->warnings[i]);
	free(r->warnings);
	memset(r, 0, sizeof(*r));
}

void ipam_collect_summary(struct strbuf *out,
			  const struct ipam_collect_result *r)
{
	size_t failed = ipam_collect_failed(r);

	for (size_t i = 0; i < r->nr_counts; i++)
		strbuf_addf(out, "%s%s %lld", i ? ", " : "", r->counts[i].name,
			    r->counts[i].n);
	if (r->nr_counts)
		strbuf_addstr(out, "; ");
	if (failed)
		strbuf_addf(out, "%zu of %zu server%s failed", failed, r->nr,
			    r->nr == 1 ? "" : "s");
	else
		strbuf_addf(out, "%zu server%s", r->nr, r->nr == 1 ? "" : "s");
}

struct ipam_node *ipam_collect_to_node(const struct ipam_collect_result *r)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *counts = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *servers = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *warnings = ipam_node_new(IPAM_NODE_SEQ);

	ipam_node_set_str(m, "task", ipam_task_name(r->task));
	for (size_t i = 0; i < r->nr_counts; i++)
		ipam_node_set(counts, r->counts[i].name,
			      ipam_node_int(r->counts[i].n));
	ipam_node_set(m, "counts", counts);
	for (size_t i = 0; i < r->nr; i++) {
		struct ipam_node *s = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(s, "name", r->servers[i].name);
		ipam_node_set(s, "ok", ipam_node_bool(r->servers[i].ok));
		ipam_node_set(s, "detail",
			      ipam_node_str_or_null(r->servers[i].detail));
		ipam_node_push(servers, s);
	}
	ipam_node_set(m, "servers", servers);
	for (size_t i = 0; i < r->nr_warnings; i++)
		ipam_node_push(warnings, ipam_node_str(r->warnings[i]));
	ipam_node_set(m, "warnings", warnings);
	ipam_node_set(m, "warningsDropped",
		      ipam_node_int((long long)r->warnings_dropped));
	ipam_node_set(m, "ms", ipam_node_int(r->ms));
	return m;
}
