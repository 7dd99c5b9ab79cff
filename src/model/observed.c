#include "observed.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"
#include "banned.h"

const struct ipam_role_status *
ipam_obs_role_status(const struct ipam_obs_domain *d, unsigned role)
{
	switch (role) {
	case IPAM_ROLE_DC:
		return &d->dc;
	case IPAM_ROLE_DNS:
		return &d->dns;
	case IPAM_ROLE_DHCP:
		return &d->dhcp;
	default:
		return &d->declared;
	}
}

bool ipam_obs_domain_complete(const struct ipam_obs_domain *d)
{
	return ipam_obs_domain_reason(d) == NULL;
}

const char *ipam_obs_domain_reason(const struct ipam_obs_domain *d)
{
	const struct ipam_role_status *s[] = {&d->dc, &d->dns, &d->dhcp,
					      &d->declared};
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		if (s[i]->verdict == IPAM_VERDICT_INCOMPLETE)
			return s[i]->reason ? s[i]->reason : "incomplete";
	return NULL;
}

/* FNV-1a of the name, ASCII letters folded: names compare with
 * strcasecmp. */
static size_t name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= (uint64_t)tolower(*p);
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static bool index_current(const struct ipam_obs_domain *d)
{
	return d->idx && d->idx_nr == d->nr_servers &&
	       d->idx_base == d->servers;
}

static void index_put(struct ipam_obs_domain *d, size_t i)
{
	size_t mask = d->idx_cap - 1, h = name_hash(d->servers[i].name) & mask;

	while (d->idx[h])
		h = (h + 1) & mask;
	d->idx[h] = i + 1;
}

void ipam_obs_domain_index(struct ipam_obs_domain *d)
{
	size_t cap = 64;

	while (cap < 2 * d->nr_servers + 2)
		cap <<= 1;
	free(d->idx);
	d->idx = xcalloc(cap, sizeof(*d->idx));
	d->idx_cap = cap;
	for (size_t i = 0; i < d->nr_servers; i++)
		index_put(d, i);
	d->idx_nr = d->nr_servers;
	d->idx_base = d->servers;
}

/*
 * Discovery looks a name up for every computer object, zone record and
 * DHCP server it reads: a scan each was quadratic (42% of discovery's CPU
 * at 20,000 servers, all of it strcasecmp).  A stale index (servers moved
 * behind its back) is never trusted: then it scans.
 */
struct ipam_obs_server *ipam_obs_find(const struct ipam_obs_domain *d,
				      const char *name)
{
	size_t i, mask;

	if (!index_current(d)) {
		for (i = 0; i < d->nr_servers; i++)
			if (!strcasecmp(d->servers[i].name, name))
				return &d->servers[i];
		return NULL;
	}
	mask = d->idx_cap - 1;
	for (i = name_hash(name) & mask; d->idx[i]; i = (i + 1) & mask)
		if (!strcasecmp(d->servers[d->idx[i] - 1].name, name))
			return &d->servers[d->idx[i] - 1];
	return NULL;
}

struct ipam_obs_server *ipam_obs_get(struct ipam_obs_domain *d,
				     const char *name)
{
	struct ipam_obs_server *s = ipam_obs_find(d, name);
	bool current = index_current(d);
	char *p;

	if (s)
		return s;
	ALLOC_GROW(d->servers, d->nr_servers + 1, d->alloc_servers);
	s = &d->servers[d->nr_servers++];
	memset(s, 0, sizeof(*s));
	s->pooled = d->pool != NULL;
	s->name = s->pooled ? ipam_strpool_dup(d->pool, name) : xstrdup(name);
	for (p = s->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (current && 2 * d->nr_servers + 2 <= d->idx_cap) {
		index_put(d, d->nr_servers - 1);
		d->idx_nr = d->nr_servers;
		d->idx_base = d->servers;
	} else {
		ipam_obs_domain_index(d);
	}
	return &d->servers[d->nr_servers - 1];
}

static __attribute__((format(printf, 1, 0))) char *vformat(const char *fmt,
							   va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_vaddf(&sb, fmt, ap);
	return strbuf_detach(&sb, NULL);
}

void ipam_obs_exclude(struct ipam_obs_domain *d, const char *name,
		      unsigned role, const char *fmt, ...)
{
	struct ipam_obs_excluded *e;
	va_list ap;

	ALLOC_GROW(d->excluded, d->nr_excluded + 1, d->alloc_excluded);
	e = &d->excluded[d->nr_excluded++];
	e->name = xstrdup(name);
	e->role = role;
	va_start(ap, fmt);
	e->reason = vformat(fmt, ap);
	va_end(ap);
}

void ipam_obs_error(struct ipam_obs_domain *d, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(d->errors, d->nr_errors + 1, d->alloc_errors);
	va_start(ap, fmt);
	d->errors[d->nr_errors++] = vformat(fmt, ap);
	va_end(ap);
}

void ipam_obs_warn(struct ipam_obs_domain *d, const char *fmt, ...)
{
	va_list ap;

	ALLOC_GROW(d->warnings, d->nr_warnings + 1, d->alloc_warnings);
	va_start(ap, fmt);
	d->warnings[d->nr_warnings++] = vformat(fmt, ap);
	va_end(ap);
}

void ipam_obs_set_status(struct ipam_role_status *s, enum ipam_verdict v,
			 const char *fmt, ...)
{
	va_list ap;

	s->verdict = v;
	free(s->reason);
	s->reason = NULL;
	if (!fmt)
		return;
	va_start(ap, fmt);
	s->reason = vformat(fmt, ap);
	va_end(ap);
}

static int cmp_server(const void *a, const void *b)
{
	return strcmp(((const struct ipam_obs_server *)a)->name,
		      ((const struct ipam_obs_server *)b)->name);
}

static int cmp_excluded(const void *a, const void *b)
{
	const struct ipam_obs_excluded *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->role > y->role) - (x->role < y->role);
}

void ipam_obs_domain_sort(struct ipam_obs_domain *d)
{
	if (d->nr_servers > 1)
		qsort(d->servers, d->nr_servers, sizeof(*d->servers),
		      cmp_server);
	if (d->nr_excluded > 1)
		qsort(d->excluded, d->nr_excluded, sizeof(*d->excluded),
		      cmp_excluded);
	if (d->idx)
		ipam_obs_domain_index(d);
}

void ipam_obs_set_str(struct ipam_obs_domain *d, struct ipam_obs_server *s,
		      char **field, const char *v, bool intern)
{
	if (!s->pooled) {
		free(*field);
		*field = v ? xstrdup(v) : NULL;
	} else if (intern) {
		*field = ipam_strpool_intern(d->pool, v);
	} else {
		*field = ipam_strpool_dup(d->pool, v);
	}
}

void ipam_obs_add_addr(struct ipam_obs_domain *d, struct ipam_obs_server *s,
		       const struct ipam_addr *a)
{
	struct ipam_addr *v;
	size_t i;

	for (i = 0; i < s->nr_addrs; i++)
		if (!strcmp(s->addrs[i].text, a->text))
			return;
	if (!s->pooled) {
		v = xrealloc(s->addrs, (s->nr_addrs + 1) * sizeof(*v));
	} else {
		v = ipam_strpool_alloc(d->pool, (s->nr_addrs + 1) * sizeof(*v));
		if (s->nr_addrs)
			memcpy(v, s->addrs, s->nr_addrs * sizeof(*v));
	}
	v[s->nr_addrs] = *a;
	s->addrs = v;
	s->nr_addrs++;
}

void ipam_obs_domain_trim(struct ipam_obs_domain *d)
{
	if (!d->nr_servers || d->nr_servers == d->alloc_servers)
		return;
	d->servers = xrealloc(d->servers, d->nr_servers * sizeof(*d->servers));
	d->alloc_servers = d->nr_servers;
	if (d->idx)
		ipam_obs_domain_index(d);
}

void ipam_obs_server_release(struct ipam_obs_server *s)
{
	if (s->pooled) {
		free(s->note);
		return;
	}
	free(s->name);
	free(s->addrs);
	free(s->os_name);
	free(s->os_version);
	free(s->guid);
	free(s->sid);
	free(s->dn);
	free(s->note);
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ipam_obs_domain_release(struct ipam_obs_domain *d)
{
	size_t i;

	for (i = 0; i < d->nr_servers; i++)
		ipam_obs_server_release(&d->servers[i]);
	free(d->servers);
	free(d->idx);
	if (d->pool) {
		ipam_strpool_release(d->pool);
		free(d->pool);
	}
	for (i = 0; i < d->nr_excluded; i++) {
		free(d->excluded[i].name);
		free(d->excluded[i].reason);
	}
	free(d->excluded);
	free_strv(d->errors, d->nr_errors);
	free_strv(d->warnings, d->nr_warnings);
	free(d->dc.reason);
	free(d->dns.reason);
	free(d->dhcp.reason);
	free(d->declared.reason);
	free(d->server_uri);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void ipam_observed_free(struct ipam_observed *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->nr_domains; i++)
		ipam_obs_domain_release(&o->domains[i]);
	free(o->domains);
	free(o);
}
