/*
 * The zones task: zone monitoring as the product does it.  For each
 * forward zone the dns task collected through a managed DNS server in
 * scope or of such a server's domain, the servers hosting it are the NS records
 * at its apex; each is found at the address the collected zones hold for it
 * (glue), else through the resolver, and asked directly (RD=0) for the zone's
 * SOA and NS.  Each must answer both with NOERROR and the AA bit, and the SOA
 * serials must agree:
 *
 *   OK        every listed server answers authoritatively, one serial;
 *   Warning   they all answer, but their serials differ (named);
 *   Critical  a listed server cannot be resolved, does not answer, or
 *             answers without authority or with an error (each named
 *             with its reason), or the zone lists no NS at all.
 *
 * Reverse zones get no status (as in the product).  The status, its
 * reason and what each server answered are stored in zone_status.  A
 * zone's status is what the task found; the task fails for a server only
 * when its zones could not be read or stored.
 */
#include "collect.h"
#include "collect_pool.h"
#include "collect_zones.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "db_monitor.h"
#include "dns.h"
#include "dns_query.h"
#include "error.h"
#include "json.h"
#include "node.h"
#include "proc.h"
#include "strbuf.h"
#include "banned.h"

#define ZONE_TIMEOUT_MS	  3000
#define RESOLVE_TIMEOUT_S 3

/* A zone is a server's to monitor when it was collected through the
 * server or belongs to the server's domain (the dns task may read a
 * domain's zones through one of its DNS servers). */
static bool zone_for(const struct ipam_db_monitor_zone *z,
		     const struct ipam_collect_target *t)
{
	return !strcasecmp(z->server, t->name) ||
	       (t->domain && z->domain && !strcasecmp(z->domain, t->domain));
}

static bool zone_wanted(const struct ipam_db_monitor_zone *z,
			const struct ipam_collect_target *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++)
		if (zone_for(z, &t[i]))
			return true;
	return false;
}

/* The reason for an unanswered query, as the status tells it. */
static void no_answer(struct ipam_collect_zones_probe *p, const char *what,
		      const struct ipam_dns_query *q)
{
	if (!strncmp(q->error, "no answer ", 10))
		snprintf(p->reason, sizeof(p->reason),
			 "%s (%s) did not answer the %s query %s", p->ns,
			 p->addr, what, q->error + 10);
	else
		snprintf(p->reason, sizeof(p->reason),
			 "%s (%s) did not answer the %s query: %s", p->ns,
			 p->addr, what, q->error);
}

/* Ask p's server one question; false with p->reason when it fails. */
static bool ask(struct ipam_collect_zones_probe *p, int type, const char *what,
		struct ipam_dns_query *q)
{
	char rb[16];

	memset(q, 0, sizeof(*q));
	q->server = p->addr;
	q->name = p->z->name;
	q->type = type;
	q->timeout_ms = ZONE_TIMEOUT_MS;
	if (ipam_dns_query_ask(q)) {
		snprintf(p->reason, sizeof(p->reason), "%s (%s): %s", p->ns,
			 p->addr, ipam_error_last());
		return false;
	}
	if (!q->answered) {
		no_answer(p, what, q);
		return false;
	}
	p->answered = true;
	if (q->rcode) {
		snprintf(p->reason, sizeof(p->reason),
			 "%s (%s) answered the %s query with %s", p->ns,
			 p->addr, what,
			 ipam_dns_query_rcode_name(q->rcode, rb));
		return false;
	}
	if (!q->aa) {
		snprintf(p->reason, sizeof(p->reason),
			 "%s (%s) is not authoritative for %s", p->ns, p->addr,
			 p->z->name);
		return false;
	}
	return true;
}

static void probe_one(struct ipam_collect_zones_probe *p)
{
	struct ipam_dns_query q;

	if (!p->addr[0])
		return; /* reason set by the resolution */
	if (ask(p, 6, "SOA", &q)) {
		if (q.has_soa) {
			p->authoritative = true;
			p->has_serial = true;
			p->serial = q.serial;
		} else {
			snprintf(p->reason, sizeof(p->reason),
				 "%s (%s) gave no SOA record for %s", p->ns,
				 p->addr, p->z->name);
		}
	}
	ipam_dns_query_release(&q);
	if (p->reason[0])
		return;
	if (ask(p, 2, "NS", &q) && !q.nr_ns)
		snprintf(p->reason, sizeof(p->reason),
			 "%s (%s) gave no NS records for %s", p->ns, p->addr,
			 p->z->name);
	if (p->reason[0])
		p->authoritative = q.answered && q.aa;
	ipam_dns_query_release(&q);
}

static void probe_item(void *item)
{
	probe_one(item);
}

/* Addresses: the glue the collected zones hold, else the resolver. */
static int resolve(struct ipam_db *db, struct ipam_collect_zones_probe *p,
		   size_t nr)
{
	const char **names = xcalloc(nr + 1, sizeof(*names));
	size_t *which = xcalloc(nr + 1, sizeof(*which)), n = 0;
	int err = 0;

	for (size_t i = 0; i < nr && !err; i++) {
		struct ipam_addr *a = NULL;
		size_t na = 0;

		err = ipam_db_monitor_glue(db, p[i].ns, &a, &na);
		if (!err && na)
			snprintf(p[i].addr, sizeof(p[i].addr), "%s", a[0].text);
		else if (!err) {
			names[n] = p[i].ns;
			which[n++] = i;
		}
		free(a);
	}
	if (!err && n) {
		struct ipam_addr **res = xcalloc(n, sizeof(*res));
		size_t *nres = xcalloc(n, sizeof(*nres));
		const char **why = xcalloc(n, sizeof(*why));
		int *status = xcalloc(n, sizeof(*status));

		err = ipam_dns_resolve_many(names, n, res, nres, status, why,
					    RESOLVE_TIMEOUT_S);
		for (size_t k = 0; k < n; k++) {
			struct ipam_collect_zones_probe *x = &p[which[k]];

			if (!err && !status[k] && nres[k])
				snprintf(x->addr, sizeof(x->addr), "%s",
					 res[k][0].text);
			else
				snprintf(x->reason, sizeof(x->reason),
					 "%s cannot be resolved: %s", x->ns,
					 err || status[k] ? why[k] ? why[k]
								   : "lookup "
								     "failed"
							  : "no address");
			free(res[k]);
		}
		free(status);
		free(why);
		free(nres);
		free(res);
	}
	free(which);
	free(names);
	return err;
}

static struct ipam_node *servers_node(const struct ipam_collect_zones_probe *p,
				      size_t nr)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

	for (size_t i = 0; i < nr; i++) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "server", p[i].ns);
		ipam_node_set(
			m, "address",
			ipam_node_str_or_null(p[i].addr[0] ? p[i].addr : NULL));
		ipam_node_set(m, "answered", ipam_node_bool(p[i].answered));
		ipam_node_set(m, "authoritative",
			      ipam_node_bool(p[i].authoritative));
		ipam_node_set(m, "serial",
			      p[i].has_serial
				      ? ipam_node_int((long long)p[i].serial)
				      : ipam_node_new(IPAM_NODE_NULL));
		ipam_node_set(m, "reason",
			      ipam_node_str_or_null(p[i].reason[0] ? p[i].reason
								   : NULL));
		ipam_node_push(seq, m);
	}
	return seq;
}

const char *ipam_collect_zones_judge(struct strbuf *why,
				     const struct ipam_collect_zones_probe *p,
				     size_t nr)
{
	bool critical = !nr, differ = false;

	if (!nr)
		strbuf_addstr(why, "no NS records at the zone's apex");
	for (size_t i = 0; i < nr; i++) {
		if (p[i].reason[0]) {
			critical = true;
			strbuf_addf(why, "%s%s", why->len ? "; " : "",
				    p[i].reason);
		}
		if (p[i].has_serial && p[0].has_serial &&
		    p[i].serial != p[0].serial)
			differ = true;
		for (size_t k = 0; !differ && k < i; k++)
			differ = p[i].has_serial && p[k].has_serial &&
				 p[i].serial != p[k].serial;
	}
	if (differ) {
		strbuf_addf(why, "%sSOA serials differ:", why->len ? "; " : "");
		for (size_t i = 0, first = 1; i < nr; i++) {
			if (!p[i].has_serial)
				continue;
			strbuf_addf(why, "%s %s %lu", first ? "" : ",", p[i].ns,
				    p[i].serial);
			first = 0;
		}
	}
	return critical ? "Critical" : differ ? "Warning" : "OK";
}

/* Judge and store each zone; count its status for its server. */
static int settle(struct ipam_collect_result *out,
		  const struct ipam_collect_ctx *ctx,
		  const struct ipam_db_monitor_zone *zones, size_t nz,
		  const struct ipam_collect_zones_probe *p, size_t np,
		  long long (*tally)[3], const struct ipam_collect_target *t,
		  size_t nt)
{
	char at[32];
	int err = 0;

	ipam_collect_pool_time(at, sizeof(at), ctx->o->now);
	for (size_t z = 0, at_p = 0; z < nz && !err; z++) {
		struct strbuf why = STRBUF_INIT, js = STRBUF_INIT;
		const struct ipam_collect_zones_probe *zp = p + at_p;
		size_t n = 0;
		struct ipam_node *sn;
		const char *status;
		int idx;

		if (!zone_wanted(&zones[z], t, nt))
			continue;
		while (at_p + n < np && zp[n].z == &zones[z])
			n++;
		at_p += n;
		status = ipam_collect_zones_judge(&why, zp, n);
		idx = status[0] == 'O' ? 0 : status[0] == 'W' ? 1 : 2;
		ipam_collect_count(out,
				   idx == 0   ? "ok"
				   : idx == 1 ? "warning"
					      : "critical",
				   1);
		for (size_t s = 0; s < nt; s++)
			if (zone_for(&zones[z], &t[s]))
				tally[s][idx]++;
		sn = servers_node(zp, n);
		err = ipam_json_write(&js, sn, IPAM_JSON_SORT_KEYS);
		ipam_node_free(sn);
		strbuf_rtrim_newline(&js);
		if (!err)
			err = ipam_db_monitor_zone_status_store(
				ctx->db, zones[z].id, ctx->o->run_id, at,
				status, why.len ? why.buf : NULL, js.buf);
		strbuf_release(&why);
		strbuf_release(&js);
	}
	return err;
}

static void report(struct ipam_collect_result *out,
		   const struct ipam_collect_target *t, size_t nt,
		   long long (*tally)[3], int err)
{
	for (size_t s = 0; s < nt; s++) {
		long long n = tally[s][0] + tally[s][1] + tally[s][2];

		if (err)
			ipam_collect_server_add(out, t[s].name, false, "%s",
						ipam_error_last());
		else if (!n)
			ipam_collect_server_add(
				out, t[s].name, true,
				"no forward zones of its domain collected "
				"(the dns task collects them)");
		else
			ipam_collect_server_add(
				out, t[s].name, true,
				"%lld zone%s: %lld OK, %lld warning, %lld "
				"critical",
				n, n == 1 ? "" : "s", tally[s][0], tally[s][1],
				tally[s][2]);
	}
}

int ipam_collect_zones(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *ctx)
{
	struct ipam_collect_target *t = NULL;
	struct ipam_db_monitor_zone *zones = NULL;
	struct ipam_collect_zones_probe *p = NULL;
	long long(*tally)[3] = NULL;
	size_t nt = 0, nz = 0, np = 0, alloc = 0;
	int64_t t0 = ipam_proc_now_ms();
	int err, conc = ctx->d && ctx->d->identity.concurrency
				? ctx->d->identity.concurrency
				: IPAM_IDENTITY_CONCURRENCY;

	out->task = IPAM_TASK_ZONES;
	ipam_collect_count(out, "ok", 0);
	ipam_collect_count(out, "warning", 0);
	ipam_collect_count(out, "critical", 0);
	err = ipam_collect_targets(&t, &nt, ctx, IPAM_ROLE_DNS);
	if (!err && nt)
		err = ipam_db_monitor_zones(ctx->db, &zones, &nz);
	for (size_t z = 0; !err && z < nz; z++) {
		if (!zone_wanted(&zones[z], t, nt))
			continue;
		for (size_t k = 0; k < zones[z].nr_ns; k++) {
			ALLOC_GROW(p, np + 1, alloc);
			memset(&p[np], 0, sizeof(p[np]));
			p[np].z = &zones[z];
			p[np++].ns = zones[z].ns[k];
		}
	}
	tally = xcalloc(nt + 1, sizeof(*tally));
	if (!err && np)
		err = resolve(ctx->db, p, np);
	if (!err) {
		ipam_collect_pool_run(p, sizeof(*p), np, conc, probe_item);
		err = settle(out, ctx, zones, nz, p, np, tally, t, nt);
	}
	report(out, t, nt, tally, err);
	out->ms = ipam_proc_now_ms() - t0;
	free(tally);
	free(p);
	ipam_db_monitor_zones_free(zones, nz);
	ipam_collect_targets_free(t, nt);
	return err;
}
