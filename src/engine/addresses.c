#include "addresses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "leases.h"
#include "node.h"
#include "strbuf.h"
#include "banned.h"

/* One address as one source shows it, before the sources are merged. */
struct seen {
	struct ipam_ip ip;
	struct ipam_db_address a;
};

struct collect {
	long long now;
	struct seen *v;
	size_t nr, alloc;
};

static struct ipam_db_address *add_seen(struct collect *c, const char *text)
{
	struct ipam_ip ip;
	struct seen *s;

	if (!text || ipam_ip_parse(&ip, text) != IPAM_IP_OK)
		return NULL;
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	s = &c->v[c->nr++];
	memset(s, 0, sizeof(*s));
	s->ip = ip;
	s->a.family = ip.family == AF_INET ? 4 : 6;
	return &s->a;
}

static void add_src(struct ipam_db_address *a, unsigned source,
		    long long server_id, const char *detail)
{
	struct ipam_db_addr_src *s;

	for (size_t i = 0; i < a->nr_src; i++)
		if (a->src[i].source == source &&
		    a->src[i].server_id == server_id)
			return;
	ALLOC_GROW(a->src, a->nr_src + 1, a->alloc_src);
	s = &a->src[a->nr_src++];
	s->source = source;
	s->server_id = server_id;
	s->detail = detail ? xstrdup(detail) : NULL;
	a->sources |= source;
}

static int on_events(const char *ip, int family,
		     const struct ipam_lease_event *ev, size_t nr, void *ctx)
{
	struct collect *c = ctx;
	struct ipam_db_address *a = add_seen(c, ip);
	struct ipam_lease_state st;

	(void)family;
	if (!a)
		return 0;
	ipam_leases_decide(&st, ev, nr, c->now, 0);
	a->in_use = st.in_use;
	a->mac = st.mac ? xstrdup(st.mac) : NULL;
	a->host = st.host ? xstrdup(st.host) : NULL;
	a->lease_expires = st.expires;
	a->last_event_id = st.decided ? st.decided->seq : 0;
	a->dhcp_server_id = st.server_id;
	a->first_seen = st.first;
	a->last_seen = st.last;
	for (size_t i = 0; i < nr; i++)
		add_src(a, IPAM_ADDR_SRC_DHCP, ev[i].server_id, NULL);
	return 0;
}

static int on_seen(const struct ipam_db_addr_seen *s, void *ctx)
{
	struct collect *c = ctx;
	struct ipam_db_address *a = add_seen(c, s->ip);

	if (!a)
		return 0;
	a->in_use = true;
	a->host = s->host ? xstrdup(s->host) : NULL;
	a->first_seen = a->last_seen = c->now;
	add_src(a, s->source, s->server_id, s->host);
	return 0;
}

static int seen_cmp(const void *x, const void *y)
{
	const struct seen *a = x, *b = y;
	int c = ipam_ip_compare(&a->ip, &b->ip);

	/* the same address: DHCP first, so that its lease leads */
	if (!c)
		c = (int)(a->a.sources & IPAM_ADDR_SRC_DHCP ? 0 : 1) -
		    (int)(b->a.sources & IPAM_ADDR_SRC_DHCP ? 0 : 1);
	return c;
}

/* Fold from into into: in use when any source says so; the host of a
 * DNS record or inventory server over a lease's client name. */
static void merge(struct ipam_db_address *into, struct ipam_db_address *from)
{
	into->in_use = into->in_use || from->in_use;
	if (from->host && !(into->sources & ~IPAM_ADDR_SRC_DHCP)) {
		free(into->host);
		into->host = from->host;
		from->host = NULL;
	}
	if (!into->first_seen || from->first_seen < into->first_seen)
		into->first_seen = from->first_seen;
	if (from->last_seen > into->last_seen)
		into->last_seen = from->last_seen;
	for (size_t i = 0; i < from->nr_src; i++)
		add_src(into, from->src[i].source, from->src[i].server_id,
			from->src[i].detail);
}

int ipam_addresses_compute(struct ipam_db *db, long long now,
			   struct ipam_db_address **out, size_t *nr)
{
	struct collect c = {.now = now};
	struct ipam_db_address *v;
	size_t n = 0;
	int rc;

	*out = NULL;
	*nr = 0;
	rc = ipam_db_addr_scan_events(db, on_events, &c);
	if (!rc)
		rc = ipam_db_addr_scan_dns(db, on_seen, &c);
	if (!rc)
		rc = ipam_db_addr_scan_inventory(db, on_seen, &c);
	if (c.nr)
		qsort(c.v, c.nr, sizeof(*c.v), seen_cmp);
	v = xcalloc(c.nr ? c.nr : 1, sizeof(*v));
	for (size_t i = 0; i < c.nr; i++) {
		if (n && !ipam_ip_compare(&c.v[i].ip, &c.v[i - 1].ip)) {
			merge(&v[n - 1], &c.v[i].a);
			ipam_db_address_release(&c.v[i].a);
			continue;
		}
		struct strbuf t = STRBUF_INIT;

		v[n] = c.v[i].a;
		ipam_ip_format(&t, &c.v[i].ip);
		v[n].address = strbuf_detach(&t, NULL);
		n++;
	}
	free(c.v);
	if (rc) {
		ipam_db_addresses_free(v, n);
		return rc;
	}
	*out = v;
	*nr = n;
	return 0;
}

struct sorted {
	struct ipam_ip ip;
	struct ipam_db_address a;
};

static int sorted_cmp(const void *x, const void *y)
{
	const struct sorted *a = x, *b = y;

	return ipam_ip_compare(&a->ip, &b->ip);
}

/* The stored addresses in address order, parsed. */
static int load_sorted(struct ipam_addr_view *v, struct ipam_db *db)
{
	struct ipam_db_address *all;
	struct sorted *s;
	size_t nr, n = 0;
	int rc = ipam_db_addr_load(db, &all, &nr);

	if (rc)
		return rc;
	s = xcalloc(nr ? nr : 1, sizeof(*s));
	for (size_t i = 0; i < nr; i++) {
		if (ipam_ip_parse(&s[n].ip, all[i].address) != IPAM_IP_OK) {
			ipam_db_address_release(&all[i]);
			continue;
		}
		s[n++].a = all[i];
	}
	free(all);
	if (n)
		qsort(s, n, sizeof(*s), sorted_cmp);
	v->addrs = xcalloc(n ? n : 1, sizeof(*v->addrs));
	v->ips = xcalloc(n ? n : 1, sizeof(*v->ips));
	for (size_t i = 0; i < n; i++) {
		v->addrs[i] = s[i].a;
		v->ips[i] = s[i].ip;
	}
	v->nr = n;
	free(s);
	return 0;
}

static void usage_fill(struct ipam_addr_usage *u, const struct ipam_iprange *r,
		       uint64_t used)
{
	struct strbuf t = STRBUF_INIT;

	ipam_util_compute(&u->util, r, used, u->under, u->over);
	ipam_addrspace_size_text(&t, r);
	u->size = strbuf_detach(&t, NULL);
	ipam_addrspace_free_text(&t, r, used);
	u->free = strbuf_detach(&t, NULL);
}

static int usage_prev(struct ipam_addr_usage *u, struct ipam_db *db)
{
	struct ipam_db_util_sample *s;
	size_t nr;
	int rc = ipam_db_util_samples(db, u->block ? "block" : "range", u->name,
				      1, &s, &nr);

	if (!rc && nr && s[0].state &&
	    !ipam_util_state_parse(s[0].state, &u->prev))
		u->has_prev = true;
	ipam_db_util_samples_free(s, nr);
	return rc;
}

static char *range_text(const struct ipam_iprange *r)
{
	struct strbuf t = STRBUF_INIT;

	ipam_iprange_format(&t, r);
	return strbuf_detach(&t, NULL);
}

static void usage_blocks(struct ipam_addr_view *v,
			 const struct ipam_address_space *as)
{
	for (size_t b = 0; b < as->nr_blocks; b++) {
		struct ipam_addr_usage *u;
		uint64_t used = 0;

		if (!as->blocks[b].ok)
			continue;
		for (size_t i = 0; i < v->nr; i++)
			used += v->addrs[i].in_use &&
				ipam_iprange_contains_ip(&as->blocks[b].net,
							 &v->ips[i]);
		u = &v->usage[v->nr_usage++];
		u->block = true;
		u->index = b;
		u->name = range_text(&as->blocks[b].net);
		u->under = IPAM_RANGE_UNDER_DEFAULT;
		u->over = IPAM_RANGE_OVER_DEFAULT;
		usage_fill(u, &as->blocks[b].net, used);
	}
}

static void usage_ranges(struct ipam_addr_view *v,
			 const struct ipam_address_space *as)
{
	for (size_t r = 0; r < as->nr_ranges; r++) {
		const struct ipam_range *rg = &as->ranges[r];
		struct ipam_addr_usage *u;
		uint64_t used = 0;

		if (!rg->ok)
			continue;
		for (size_t i = 0; i < v->nr; i++)
			used += v->addrs[i].in_use && v->range_of[i] == (long)r;
		u = &v->usage[v->nr_usage++];
		u->index = r;
		u->name = range_text(&rg->net);
		if (rg->block >= 0 && (size_t)rg->block < as->nr_blocks)
			u->block_name =
				xstrdup(as->blocks[rg->block].cidr.value);
		u->under =
			rg->under >= 0 ? rg->under : IPAM_RANGE_UNDER_DEFAULT;
		u->over = rg->over >= 0 ? rg->over : IPAM_RANGE_OVER_DEFAULT;
		usage_fill(u, &rg->net, used);
	}
}

int ipam_addr_view_load(struct ipam_addr_view *v, const struct ipam_desired *d,
			struct ipam_db *db)
{
	const struct ipam_address_space *as = &d->address_space;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = load_sorted(v, db);
	if (rc)
		return rc;
	v->range_of = xcalloc(v->nr ? v->nr : 1, sizeof(*v->range_of));
	for (size_t i = 0; i < v->nr; i++) {
		v->range_of[i] = ipam_addrspace_find_range(as, &v->ips[i]);
		v->nr_unmapped += v->range_of[i] < 0;
	}
	v->usage =
		xcalloc(as->nr_blocks + as->nr_ranges + 1, sizeof(*v->usage));
	usage_blocks(v, as);
	usage_ranges(v, as);
	for (size_t i = 0; !rc && i < v->nr_usage; i++)
		rc = usage_prev(&v->usage[i], db);
	if (rc)
		ipam_addr_view_release(v);
	return rc;
}

void ipam_addr_view_release(struct ipam_addr_view *v)
{
	ipam_db_addresses_free(v->addrs, v->nr);
	free(v->ips);
	free(v->range_of);
	for (size_t i = 0; i < v->nr_usage; i++) {
		free(v->usage[i].name);
		free(v->usage[i].block_name);
		free(v->usage[i].size);
		free(v->usage[i].free);
	}
	free(v->usage);
	memset(v, 0, sizeof(*v));
}

static int store_samples(const struct ipam_addr_view *v, struct ipam_db *db,
			 long long run_id)
{
	struct ipam_db_util_sample *s = xcalloc(v->nr_usage + 1, sizeof(*s));
	int rc;

	for (size_t i = 0; i < v->nr_usage; i++) {
		const struct ipam_addr_usage *u = &v->usage[i];

		s[i].kind = xstrdup(u->block ? "block" : "range");
		s[i].name = xstrdup(u->name);
		s[i].size = xstrdup(u->size);
		s[i].used = (long long)u->util.used;
		s[i].percent = u->util.percent;
		s[i].state = xstrdup(ipam_util_state_name(u->util.state));
	}
	rc = ipam_db_util_store(db, run_id, s, v->nr_usage);
	ipam_db_util_samples_free(s, v->nr_usage);
	return rc;
}

static void notify_crossing(const struct ipam_run *run,
			    const struct ipam_addr_usage *u)
{
	struct ipam_node *details = ipam_node_new(IPAM_NODE_MAP);
	const char *now = ipam_util_state_name(u->util.state);
	char pct[32];

	snprintf(pct, sizeof(pct), "%.1f", u->util.percent);
	ipam_node_set_str(details, "range", u->name);
	ipam_node_set(details, "block", ipam_node_str_or_null(u->block_name));
	ipam_node_set_str(details, "state", now);
	ipam_node_set_str(details, "previous", ipam_util_state_name(u->prev));
	ipam_node_set_str(details, "size", u->size);
	ipam_node_set(details, "used", ipam_node_int((long long)u->util.used));
	ipam_node_set_str(details, "free", u->free);
	ipam_node_set_str(details, "percent", pct);
	ipam_node_set(details, "underUtilized", ipam_node_int(u->under));
	ipam_node_set(details, "overUtilized", ipam_node_int(u->over));
	ipam_run_notify(run, IPAM_EVENT_UTILIZATION, details,
			"ipamctl: range %s is %s-utilized (%s%% used, was %s)",
			u->name, now, pct, ipam_util_state_name(u->prev));
	ipam_node_free(details);
}

int ipam_addresses_update(const struct ipam_run *run, long long now,
			  size_t *crossed)
{
	struct ipam_db_address *v;
	struct ipam_addr_view view;
	size_t nr;
	int rc;

	if (crossed)
		*crossed = 0;
	rc = ipam_addresses_compute(run->db, now, &v, &nr);
	if (!rc) {
		rc = ipam_db_addr_store(run->db, v, nr);
		ipam_db_addresses_free(v, nr);
	}
	if (!rc)
		rc = ipam_addr_view_load(&view, run->d, run->db);
	if (rc)
		return ipam_error_prefix(rc, "computing the addresses");
	rc = store_samples(&view, run->db, run->id);
	for (size_t i = 0; !rc && i < view.nr_usage; i++) {
		const struct ipam_addr_usage *u = &view.usage[i];

		if (u->block || !u->has_prev || u->prev == u->util.state)
			continue;
		notify_crossing(run, u);
		if (crossed)
			(*crossed)++;
	}
	ipam_addr_view_release(&view);
	return rc;
}
