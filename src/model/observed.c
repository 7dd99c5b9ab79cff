#include "observed.h"

#include <ctype.h>
#include <stdarg.h>
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

struct ipam_obs_server *ipam_obs_find(const struct ipam_obs_domain *d,
				      const char *name)
{
	size_t i;

	for (i = 0; i < d->nr_servers; i++)
		if (!strcasecmp(d->servers[i].name, name))
			return &d->servers[i];
	return NULL;
}

struct ipam_obs_server *ipam_obs_get(struct ipam_obs_domain *d,
				     const char *name)
{
	struct ipam_obs_server *s = ipam_obs_find(d, name);
	char *p;

	if (s)
		return s;
	ALLOC_GROW(d->servers, d->nr_servers + 1, d->alloc_servers);
	s = &d->servers[d->nr_servers++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	for (p = s->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
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
}

void ipam_obs_server_release(struct ipam_obs_server *s)
{
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
