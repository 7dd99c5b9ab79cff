#include "discover.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collect_pool.h"
#include "connect.h"
#include "dhcp.h"
#include "dhcpbatch.h"
#include "dns.h"
#include "error.h"
#include "ldapconn.h"
#include "log.h"
#include "scalar.h"
#include "strbuf.h"
#include "banned.h"

#define DC_FILTER                                                              \
	"(&(objectCategory=computer)"                                          \
	"(userAccountControl:1.2.840.113556.1.4.803:=8192))"

/* Names looked up per LDAP search when pairing servers with computers. */
#define LOOKUP_BATCH 32

static const char *const computer_attrs[] = {
	"cn",
	"dNSHostName",
	"operatingSystem",
	"operatingSystemVersion",
	"objectGUID",
	"objectSid",
	NULL,
};

struct run {
	const struct ipam_desired *d;
	const struct ipam_discover_opts *o;
	const struct ipam_domain *dom;
	struct ipam_obs_domain *od;
	struct ipam_ldapconn *ldap; /* NULL when no DC could be bound */
	char *ldap_reason;	    /* why not */
};

void ipam_discover_opts_init(struct ipam_discover_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dhcp_client_port = 68;
	o->dhcp_server_port = 67;
	o->dhcp_timeout_ms = 1000;
	o->dhcp_tries = 3;
}

static void progress(const struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Say at -v how long a step took: where the time of a slow discovery
 * goes (a slow DC, a slow resolver) is worth knowing. */
static void timed(const struct run *r, const char *step, double since)
{
	log_info("%s: %s took %.2f s", r->dom->name, step, now() - since);
}

static void progress(const struct run *r, const char *fmt, ...)
{
	struct strbuf step = STRBUF_INIT;
	va_list ap;

	if (!r->o->progress.fn)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&step, fmt, ap);
	va_end(ap);
	r->o->progress.fn(r->o->progress.ctx, r->dom->name, step.buf);
	strbuf_release(&step);
}

/* "10.0 (17763)" -> 10, 0; 0 on success. */
static int parse_version(const char *v, int *major, int *minor)
{
	char *end;
	long a, b = 0;

	a = strtol(v, &end, 10);
	if (end == v || a < 0)
		return -1;
	if (*end == '.') {
		const char *p = end + 1;

		b = strtol(p, &end, 10);
		if (end == p)
			return -1;
	}
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

int ipam_discover_dc_eligible(const char *os_name, const char *os_version,
			      const char **why)
{
	int major, minor;

	*why = NULL;
	if (!os_name || strncasecmp(os_name, "Windows", 7)) {
		*why = "not a Windows DC (its operatingSystem is not "
		       "Windows): kept, as the version rule only applies to "
		       "Windows";
		return 1;
	}
	if (!os_version || parse_version(os_version, &major, &minor)) {
		*why = "Windows DC without a readable operatingSystemVersion: "
		       "IPAM discovers only version 6.0 or later";
		return 0;
	}
	if (major < 6) {
		*why = "Windows version older than 6.0 (Windows Server 2008), "
		       "which IPAM does not discover";
		return 0;
	}
	return 1;
}

/* Is name inside domain (a proper subdomain, or the domain itself)? */
static int under_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), m = strlen(domain);

	if (n == m)
		return !strcasecmp(name, domain);
	return n > m + 1 && name[n - m - 1] == '.' &&
	       !strcasecmp(name + n - m, domain);
}

/* Copy what a computer object says about a server. */
static void take_computer(struct ipam_obs_domain *od, struct ipam_obs_server *s,
			  const struct ipam_ldapconn_entry *e)
{
	const struct ipam_ldapconn_value *v;
	struct strbuf sb = STRBUF_INIT;
	size_t nr;

	s->in_ad = true;
	ipam_obs_set_str(od, s, &s->os_name,
			 ipam_ldapconn_entry_str(e, "operatingSystem"), true);
	ipam_obs_set_str(od, s, &s->os_version,
			 ipam_ldapconn_entry_str(e, "operatingSystemVersion"),
			 true);
	ipam_obs_set_str(od, s, &s->dn, e->dn, false);
	v = ipam_ldapconn_entry_values(e, "objectGUID", &nr);
	if (nr && !ipam_ldapconn_guid_text(&sb, v[0].data, v[0].len))
		ipam_obs_set_str(od, s, &s->guid, sb.buf, false);
	strbuf_reset(&sb);
	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (nr && !ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		ipam_obs_set_str(od, s, &s->sid, sb.buf, false);
	strbuf_release(&sb);
}

/* The server name of a computer entry: dNSHostName, else cn.domain. */
static char *entry_fqdn(const struct ipam_ldapconn_entry *e, const char *domain)
{
	const char *host = ipam_ldapconn_entry_str(e, "dNSHostName");
	const char *cn = ipam_ldapconn_entry_str(e, "cn");

	if (host)
		return xstrdup(host);
	if (cn)
		return xasprintf("%s.%s", cn, domain);
	return NULL;
}

static int on_dc(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct run *r = ctx;
	const char *os = ipam_ldapconn_entry_str(e, "operatingSystem");
	const char *ver = ipam_ldapconn_entry_str(e, "operatingSystemVersion");
	char *name = entry_fqdn(e, r->dom->name);
	struct ipam_obs_server *s;
	const char *why;

	if (!name || !ipam_scalar_is_fqdn(name)) {
		ipam_obs_exclude(r->od, name ? name : e->dn, IPAM_ROLE_DC,
				 "its dNSHostName is not a valid DNS name");
		free(name);
		return 0;
	}
	if (!under_domain(name, r->dom->name))
		ipam_obs_warn(r->od,
			      "domain controller '%s' has a DNS name outside "
			      "'%s'",
			      name, r->dom->name);
	if (!ipam_discover_dc_eligible(os, ver, &why)) {
		ipam_obs_exclude(r->od, name, IPAM_ROLE_DC,
				 "operatingSystemVersion '%s': %s",
				 ver ? ver : "", why);
		free(name);
		return 0;
	}
	s = ipam_obs_get(r->od, name);
	s->roles |= IPAM_ROLE_DC;
	take_computer(r->od, s, e);
	if (why) {
		free(s->note);
		s->note = xasprintf("operatingSystem '%s' version '%s': %s",
				    os ? os : "", ver ? ver : "", why);
		ipam_obs_warn(r->od, "%s: %s", s->name, s->note);
	}
	free(name);
	return 0;
}

static const char *ldap_failure(int err)
{
	switch (err) {
	case IPAM_EAUTH:
		return "bind failed";
	case IPAM_ETIMEOUT:
		return "timeout";
	case IPAM_EINVAL:
		return "connection refused by configuration";
	default:
		return "DC unreachable";
	}
}

static void connect_ldap(struct run *r)
{
	int err;

	progress(r, "connecting to a domain controller");
	err = ipam_connect_ldap(&r->ldap, r->dom);
	if (err) {
		r->ldap = NULL;
		r->ldap_reason = xasprintf("%s: %s", ldap_failure(err),
					   ipam_error_last());
		return;
	}
	r->od->server_uri = xstrdup(ipam_ldapconn_uri(r->ldap));
}

static void discover_dcs(struct run *r)
{
	double t;
	int err;

	if (!r->dom->dc)
		return;
	if (!r->ldap) {
		ipam_obs_set_status(&r->od->dc, IPAM_VERDICT_INCOMPLETE, "%s",
				    r->ldap_reason);
		return;
	}
	progress(r, "domain controllers");
	t = now();
	err = ipam_ldapconn_search(r->ldap, ipam_ldapconn_default_nc(r->ldap),
				   IPAM_LDAPCONN_SUBTREE, DC_FILTER,
				   computer_attrs, on_dc, r);
	timed(r, "the domain controller search", t);
	if (err)
		ipam_obs_set_status(&r->od->dc, IPAM_VERDICT_INCOMPLETE,
				    "%s: %s", ldap_failure(err),
				    ipam_error_last());
}

/* Authorized DHCP servers of the forest, before the liveness probe. */
struct dhcp_candidates {
	struct run *r;
	struct ipam_dhcp_auth *auth;
	size_t nr, alloc;
};

static void add_candidate(struct dhcp_candidates *c, struct ipam_dhcp_auth *a)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		if (strcasecmp(c->auth[i].name, a->name))
			continue;
		/* Keep an IPv4 address when one of the values has it. */
		if (!strcmp(c->auth[i].ip, "255.0.0.1") &&
		    strcmp(a->ip, "255.0.0.1")) {
			free(c->auth[i].ip);
			c->auth[i].ip = a->ip;
			a->ip = NULL;
		}
		ipam_dhcp_auth_release(a);
		return;
	}
	ALLOC_GROW(c->auth, c->nr + 1, c->alloc);
	c->auth[c->nr++] = *a;
}

static int on_dhcp_class(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct dhcp_candidates *c = ctx;
	const struct ipam_ldapconn_value *v;
	size_t nr, i;

	v = ipam_ldapconn_entry_values(e, "dhcpServers", &nr);
	for (i = 0; i < nr; i++) {
		struct ipam_dhcp_auth a;

		if (ipam_dhcp_parse_servers_value(&a, v[i].data, v[i].len)) {
			ipam_obs_warn(c->r->od,
				      "unreadable dhcpServers value on '%s'",
				      e->dn);
			continue;
		}
		if (!a.name || !*a.name) {
			ipam_dhcp_auth_release(&a);
			continue;
		}
		add_candidate(c, &a);
	}
	return 0;
}

static int is_ipv4(const char *s)
{
	struct in_addr a;

	return s && inet_pton(AF_INET, s, &a) == 1 && strcmp(s, "255.0.0.1");
}

static void probe_dhcp(struct run *r, struct dhcp_candidates *c)
{
	struct ipam_dhcp_probe *probes = xcalloc(c->nr + 1, sizeof(*probes));
	size_t *which = xcalloc(c->nr + 1, sizeof(*which));
	size_t n = 0, i;
	int err;

	for (i = 0; i < c->nr; i++) {
		const struct ipam_dhcp_auth *a = &c->auth[i];

		if (!ipam_scalar_is_fqdn(a->name)) {
			ipam_obs_exclude(r->od, a->name, IPAM_ROLE_DHCP,
					 "authorized under a name that is not "
					 "a valid DNS name");
			continue;
		}
		if (!under_domain(a->name, r->dom->name))
			continue; /* another domain of the forest */
		if (!is_ipv4(a->ip)) {
			ipam_obs_exclude(r->od, a->name, IPAM_ROLE_DHCP,
					 "authorized without an IPv4 address: "
					 "no DHCPINFORM can be sent");
			continue;
		}
		probes[n].server_ip = a->ip;
		which[n++] = i;
	}
	if (!n)
		goto out;
	progress(r, "DHCPINFORM to %zu authorized server%s", n,
		 n == 1 ? "" : "s");
	/* Domains on other threads probe from the same port: shared. */
	err = ipam_dhcpbatch_inform(probes, n, r->o->dhcp_client_port,
				    r->o->dhcp_server_port,
				    r->o->dhcp_timeout_ms, r->o->dhcp_tries);
	if (err) {
		ipam_obs_set_status(&r->od->dhcp, IPAM_VERDICT_INCOMPLETE,
				    "cannot probe DHCP servers: %s",
				    ipam_error_last());
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct ipam_dhcp_auth *a = &c->auth[which[i]];
		struct ipam_obs_server *s;

		if (!probes[i].answered) {
			ipam_obs_exclude(r->od, a->name, IPAM_ROLE_DHCP,
					 "authorized in AD at %s but no "
					 "DHCPINFORM answer: %s",
					 a->ip, probes[i].error);
			continue;
		}
		s = ipam_obs_get(r->od, a->name);
		s->roles |= IPAM_ROLE_DHCP;
	}
out:
	free(which);
	free(probes);
}

static void discover_dhcp(struct run *r, int local_dhcp)
{
	struct dhcp_candidates c = {.r = r};
	static const char *const attrs[] = {"cn", "dhcpServers", NULL};
	struct strbuf base = STRBUF_INIT;
	size_t i;
	int err;

	if (!r->dom->dhcp)
		return;
	if (local_dhcp) {
		ipam_obs_set_status(&r->od->dhcp, IPAM_VERDICT_OFF,
				    "this host runs a DHCP server (UDP port "
				    "67 is in use): DHCP discovery is "
				    "switched off, as IPAM does");
		ipam_obs_warn(r->od, "%s", r->od->dhcp.reason);
		return;
	}
	if (!r->ldap) {
		ipam_obs_set_status(&r->od->dhcp, IPAM_VERDICT_INCOMPLETE, "%s",
				    r->ldap_reason);
		return;
	}
	progress(r, "DHCP authorizations");
	strbuf_addf(&base, "CN=NetServices,CN=Services,%s",
		    ipam_ldapconn_config_nc(r->ldap));
	err = ipam_ldapconn_search(r->ldap, base.buf, IPAM_LDAPCONN_SUBTREE,
				   "(objectClass=dHCPClass)", attrs,
				   on_dhcp_class, &c);
	if (err == IPAM_ENOTFOUND)
		err = 0; /* no NetServices container: nothing authorized */
	if (err)
		ipam_obs_set_status(&r->od->dhcp, IPAM_VERDICT_INCOMPLETE,
				    "%s: %s", ldap_failure(err),
				    ipam_error_last());
	else
		probe_dhcp(r, &c);
	for (i = 0; i < c.nr; i++)
		ipam_dhcp_auth_release(&c.auth[i]);
	free(c.auth);
	strbuf_release(&base);
}

static void discover_dns(struct run *r)
{
	char **ns = NULL;
	size_t nr = 0, i;
	int err;

	if (!r->dom->dns)
		return;
	progress(r, "NS records");
	err = ipam_dns_ns(&ns, &nr, r->dom->name, r->dom->effective.timeout);
	if (err) {
		ipam_obs_set_status(&r->od->dns, IPAM_VERDICT_INCOMPLETE,
				    "DNS failure: %s", ipam_error_last());
		return;
	}
	if (!nr)
		ipam_obs_warn(r->od, "the zone '%s' has no NS records",
			      r->dom->name);
	for (i = 0; i < nr; i++) {
		struct ipam_obs_server *s;

		if (!ipam_scalar_is_fqdn(ns[i])) {
			ipam_obs_exclude(r->od, ns[i], IPAM_ROLE_DNS,
					 "NS target is not a valid DNS name");
			continue;
		}
		if (!under_domain(ns[i], r->dom->name)) {
			ipam_obs_exclude(r->od, ns[i], IPAM_ROLE_DNS,
					 "NS target outside the domain '%s'",
					 r->dom->name);
			continue;
		}
		s = ipam_obs_get(r->od, ns[i]);
		s->roles |= IPAM_ROLE_DNS;
	}
	ipam_dns_names_free(ns, nr);
}

/* Servers named by the desired state with their roles: NPS and others
 * that are never discovered. */
static void add_declared(struct run *r)
{
	size_t i;

	for (i = 0; i < r->d->nr_servers; i++) {
		const struct ipam_server *ds = &r->d->servers[i];
		struct ipam_obs_server *s;

		if (!ds->roles_set || ds->domain != r->dom)
			continue;
		s = ipam_obs_get(r->od, ds->name);
		s->declared = true;
		s->roles |= ds->roles;
	}
}

struct lookup {
	struct run *r;
};

static int on_computer(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct lookup *lk = ctx;
	char *name = entry_fqdn(e, lk->r->dom->name);
	struct ipam_obs_server *s =
		name ? ipam_obs_find(lk->r->od, name) : NULL;

	/* Only the names asked for are taken, whatever the server sent. */
	if (s && !s->in_ad)
		take_computer(lk->r->od, s, e);
	free(name);
	return 0;
}

/* Pair servers found by DNS, DHCP or declaration with their computer
 * objects, LOOKUP_BATCH names to a search. */
static int lookup_computers(struct run *r)
{
	struct lookup lk = {r};
	struct strbuf filter = STRBUF_INIT;
	size_t i = 0, in_batch;
	int err = 0;

	progress(r, "computer objects");
	while (i < r->od->nr_servers && !err) {
		strbuf_reset(&filter);
		strbuf_addstr(&filter, "(&(objectCategory=computer)(|");
		for (in_batch = 0;
		     i < r->od->nr_servers && in_batch < LOOKUP_BATCH; i++) {
			const char *name = r->od->servers[i].name;

			if (r->od->servers[i].in_ad)
				continue;
			strbuf_addstr(&filter, "(dNSHostName=");
			ipam_ldapesc_filter(&filter, name, strlen(name));
			strbuf_addch(&filter, ')');
			in_batch++;
		}
		strbuf_addstr(&filter, "))");
		if (!in_batch)
			break;
		err = ipam_ldapconn_search(r->ldap,
					   ipam_ldapconn_default_nc(r->ldap),
					   IPAM_LDAPCONN_SUBTREE, filter.buf,
					   computer_attrs, on_computer, &lk);
	}
	strbuf_release(&filter);
	return err;
}

/* Reading the domain's AD-integrated zone: the records its DNS servers
 * serve, in one paged search instead of a query per name. */
struct zone_read {
	struct run *r;
	struct ipam_obs_server **by_name; /* sorted */
	size_t n;
	size_t matched;
};

static int cmp_server_ptr(const void *a, const void *b)
{
	return strcmp((*(struct ipam_obs_server *const *)a)->name,
		      (*(struct ipam_obs_server *const *)b)->name);
}

static int cmp_name_server(const void *key, const void *elem)
{
	return strcmp(key, (*(struct ipam_obs_server *const *)elem)->name);
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* The value of a DN's first RDN, "DC=<value>", unescaped (RFC 4514). */
static int dc_rdn_value(struct strbuf *out, const char *dn)
{
	const char *p = dn;

	if (strncasecmp(p, "DC=", 3))
		return -1;
	for (p += 3; *p && *p != ','; p++) {
		if (*p != '\\') {
			strbuf_addch(out, *p);
		} else if (isxdigit((unsigned char)p[1]) &&
			   isxdigit((unsigned char)p[2])) {
			strbuf_addch(out, hexval((unsigned char)p[1]) * 16 +
						  hexval((unsigned char)p[2]));
			p += 2;
		} else if (p[1]) {
			strbuf_addch(out, *++p);
		} else {
			return -1;
		}
	}
	return 0;
}

static int on_dns_node(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct zone_read *z = ctx;
	const char *tomb = ipam_ldapconn_entry_str(e, "dNSTombstoned");
	const struct ipam_ldapconn_value *v;
	struct strbuf name = STRBUF_INIT;
	struct ipam_obs_server **hit;
	size_t nr, i;
	char *p;

	if (tomb && !strcasecmp(tomb, "TRUE"))
		return 0;
	if (dc_rdn_value(&name, e->dn))
		goto out;
	if (!strcmp(name.buf, "@")) {
		strbuf_reset(&name);
		strbuf_addstr(&name, z->r->dom->name);
	} else {
		strbuf_addf(&name, ".%s", z->r->dom->name);
	}
	for (p = name.buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	hit = bsearch(name.buf, z->by_name, z->n, sizeof(*z->by_name),
		      cmp_name_server);
	if (!hit)
		goto out;
	v = ipam_ldapconn_entry_values(e, "dnsRecord", &nr);
	for (i = 0; i < nr; i++) {
		struct ipam_addr a;

		if (ipam_dns_record_addr(&a, v[i].data, v[i].len) == 1)
			ipam_obs_add_addr(z->r->od, *hit, &a);
	}
	/* A name with no address here (a CNAME, say) is left to the
	 * resolver. */
	if ((*hit)->nr_addrs) {
		(*hit)->zone_addrs = true;
		z->matched++;
	}
out:
	strbuf_release(&name);
	return 0;
}

/* Addresses from the AD-integrated zone of the domain, where it is one:
 * DomainDnsZones, ForestDnsZones, then the legacy System container. */
static void read_zone(struct run *r)
{
	static const char *const attrs[] = {"dnsRecord", "dNSTombstoned", NULL};
	struct zone_read z = {r, NULL, r->od->nr_servers, 0};
	struct strbuf zone = STRBUF_INIT, base = STRBUF_INIT;
	const char *containers[3];
	size_t i;
	double t = now();
	int err = IPAM_ENOTFOUND;

	if (!r->ldap || !z.n)
		return;
	z.by_name = xcalloc(z.n, sizeof(*z.by_name));
	for (i = 0; i < z.n; i++)
		z.by_name[i] = &r->od->servers[i];
	qsort(z.by_name, z.n, sizeof(*z.by_name), cmp_server_ptr);
	ipam_ldapesc_dn(&zone, r->dom->name);
	containers[0] = ipam_ldapconn_default_nc(r->ldap);
	containers[1] = ipam_ldapconn_root_domain_nc(r->ldap);
	containers[2] = ipam_ldapconn_default_nc(r->ldap);
	progress(r, "reading the zone '%s'", r->dom->name);
	for (i = 0; i < 3 && err == IPAM_ENOTFOUND; i++) {
		if (!containers[i])
			continue;
		strbuf_reset(&base);
		strbuf_addf(&base, "DC=%s,CN=MicrosoftDNS,%s%s", zone.buf,
			    i == 0   ? "DC=DomainDnsZones,"
			    : i == 1 ? "DC=ForestDnsZones,"
				     : "CN=System,",
			    containers[i]);
		err = ipam_ldapconn_search(
			r->ldap, base.buf, IPAM_LDAPCONN_ONELEVEL,
			"(objectClass=dnsNode)", attrs, on_dns_node, &z);
	}
	if (err == IPAM_ENOTFOUND)
		log_info("%s: the zone is not AD-integrated: every name goes "
			 "to the resolver",
			 r->dom->name);
	else if (err)
		ipam_obs_warn(r->od,
			      "cannot read the zone '%s' from AD, using the "
			      "resolver: %s",
			      r->dom->name, ipam_error_last());
	else
		log_info("%s: %zu of %zu server addresses from the zone in "
			 "AD (%.2f s)",
			 r->dom->name, z.matched, z.n, now() - t);
	free(z.by_name);
	strbuf_release(&zone);
	strbuf_release(&base);
}

static void resolve_addresses(struct run *r)
{
	size_t total = r->od->nr_servers, n = 0, i, k;
	struct ipam_obs_server **which;
	const char **names;
	struct ipam_addr **res;
	size_t *nres;
	int *status;
	const char **reason;
	double t;

	/* sized for the names to resolve (the zone gave the others): 48
	 * bytes a server for 100,000 servers was 4.8 MB at the peak */
	for (k = 0; k < total; k++)
		n += !r->od->servers[k].zone_addrs;
	which = xcalloc(n + 1, sizeof(*which));
	names = xcalloc(n + 1, sizeof(*names));
	res = xcalloc(n + 1, sizeof(*res));
	nres = xcalloc(n + 1, sizeof(*nres));
	status = xcalloc(n + 1, sizeof(*status));
	reason = xcalloc(n + 1, sizeof(*reason));
	n = 0;
	for (k = 0; k < total; k++) {
		if (r->od->servers[k].zone_addrs)
			continue;
		which[n] = &r->od->servers[k];
		names[n++] = r->od->servers[k].name;
	}
	progress(r, "resolving %zu name%s", n, n == 1 ? "" : "s");
	t = now();
	if (n && ipam_dns_resolve_many(names, n, res, nres, status, reason,
				       r->dom->effective.timeout)) {
		ipam_obs_warn(r->od, "cannot resolve server names: %s",
			      ipam_error_last());
		goto out;
	}
	timed(r, "resolving server names", t);
	for (i = 0; i < n; i++) {
		struct ipam_obs_server *s = which[i];

		if (status[i]) {
			ipam_obs_warn(r->od, "cannot resolve '%s': %s", s->name,
				      reason[i] ? reason[i] : "lookup failed");
			if (s->declared)
				ipam_obs_set_status(&r->od->declared,
						    IPAM_VERDICT_INCOMPLETE,
						    "DNS failure resolving "
						    "'%s': %s",
						    s->name,
						    reason[i]
							    ? reason[i]
							    : "lookup failed");
			continue;
		}
		if (s->pooled) {
			/* into the pool; res[i] is freed below */
			s->addrs = ipam_strpool_alloc(
				r->od->pool, nres[i] * sizeof(*s->addrs));
			if (nres[i])
				memcpy(s->addrs, res[i],
				       nres[i] * sizeof(*s->addrs));
			s->nr_addrs = nres[i];
			continue;
		}
		free(s->addrs);
		s->addrs = res[i];
		s->nr_addrs = nres[i];
		res[i] = NULL;
	}
out:
	for (i = 0; i < n; i++)
		free(res[i]);
	free(res);
	free(nres);
	free(status);
	free(reason);
	free(names);
	free(which);
}

/*
 * A declared server must have a computer object and resolve; one that
 * does not is reported and left out of the inventory, as IPAM does.  When
 * the check itself could not run (no DC, DNS failure), a declared server
 * that nothing else found is left out without a verdict: the domain is
 * incomplete and says why.
 */
static void verify_declared(struct run *r)
{
	bool checked = r->od->declared.verdict == IPAM_VERDICT_COMPLETE;
	size_t i, out = 0;

	for (i = 0; i < r->od->nr_servers; i++) {
		struct ipam_obs_server *s = &r->od->servers[i];
		const char *problem = NULL;

		if (s->declared && !checked && !s->in_ad) {
			ipam_obs_server_release(s);
			continue;
		}
		if (s->declared && checked) {
			if (!s->in_ad)
				problem = "has no computer object in AD";
			else if (!s->nr_addrs)
				problem = "does not resolve in DNS";
		}
		if (problem) {
			ipam_obs_error(r->od, "declared server '%s' %s",
				       s->name, problem);
			ipam_obs_exclude(r->od, s->name, s->roles, "%s",
					 problem);
			ipam_obs_server_release(s);
			continue;
		}
		r->od->servers[out++] = *s;
	}
	r->od->nr_servers = out;
}

static int has_declared(const struct ipam_desired *d,
			const struct ipam_domain *dom)
{
	size_t i;

	for (i = 0; i < d->nr_servers; i++)
		if (d->servers[i].roles_set && d->servers[i].domain == dom)
			return 1;
	return 0;
}

static void discover_domain(struct ipam_obs_domain *od,
			    const struct ipam_desired *d,
			    const struct ipam_domain *dom,
			    const struct ipam_discover_opts *o, int local_dhcp)
{
	struct run r = {d, o, dom, od, NULL, NULL};
	double t;
	int err;

	od->name = xstrdup(dom->name);
	od->pool = xcalloc(1, sizeof(*od->pool));
	ipam_obs_set_status(
		&od->dc, dom->dc ? IPAM_VERDICT_COMPLETE : IPAM_VERDICT_OFF,
		dom->dc ? NULL : "switched off in the desired state");
	ipam_obs_set_status(
		&od->dns, dom->dns ? IPAM_VERDICT_COMPLETE : IPAM_VERDICT_OFF,
		dom->dns ? NULL : "switched off in the desired state");
	ipam_obs_set_status(
		&od->dhcp, dom->dhcp ? IPAM_VERDICT_COMPLETE : IPAM_VERDICT_OFF,
		dom->dhcp ? NULL : "switched off in the desired state");
	ipam_obs_set_status(&od->declared,
			    has_declared(d, dom) ? IPAM_VERDICT_COMPLETE
						 : IPAM_VERDICT_OFF,
			    NULL);

	t = now();
	connect_ldap(&r);
	timed(&r, "connecting", t);
	discover_dcs(&r);
	discover_dhcp(&r, local_dhcp);
	discover_dns(&r);
	add_declared(&r);
	if (r.ldap) {
		t = now();
		err = lookup_computers(&r);
		timed(&r, "looking up computer objects", t);
		if (err && od->declared.verdict == IPAM_VERDICT_COMPLETE)
			ipam_obs_set_status(
				&od->declared, IPAM_VERDICT_INCOMPLETE,
				"%s looking up computer objects: %s",
				ldap_failure(err), ipam_error_last());
		else if (err)
			ipam_obs_warn(od, "cannot look up computer objects: %s",
				      ipam_error_last());
	} else if (od->declared.verdict == IPAM_VERDICT_COMPLETE) {
		ipam_obs_set_status(&od->declared, IPAM_VERDICT_INCOMPLETE,
				    "%s", r.ldap_reason);
	}
	/* no server is added past here: the array's room goes back */
	ipam_obs_domain_trim(od);
	read_zone(&r);
	resolve_addresses(&r);
	verify_declared(&r);
	ipam_obs_domain_trim(od);
	ipam_obs_domain_sort(od);
	if (o->progress.fn)
		o->progress.fn(o->progress.ctx, dom->name, NULL);
	ipam_ldapconn_close(r.ldap);
	free(r.ldap_reason);
}

/* The caller's progress callback, one call at a time. */
struct serial_progress {
	pthread_mutex_t mu;
	struct ipam_discover_progress inner;
};

static void serial_fn(void *ctx, const char *domain, const char *step)
{
	struct serial_progress *sp = ctx;

	pthread_mutex_lock(&sp->mu);
	sp->inner.fn(sp->inner.ctx, domain, step);
	pthread_mutex_unlock(&sp->mu);
}

/* One domain's discovery, as the pool runs it. */
struct job {
	struct ipam_obs_domain *od;
	const struct ipam_desired *d;
	size_t index; /* in d->domains */
	const struct ipam_discover_opts *o;
	int local_dhcp;
};

static void run_job(void *item)
{
	struct job *j = item;

	discover_domain(j->od, j->d, &j->d->domains[j->index], j->o,
			j->local_dhcp);
	if (j->o->then.fn)
		j->o->then.fn(j->o->then.ctx, j->index);
}

int ipam_discover(struct ipam_observed **out, const struct ipam_desired *d,
		  const struct ipam_discover_opts *o)
{
	struct serial_progress sp = {.inner = o->progress};
	struct ipam_discover_opts oo = *o;
	struct ipam_observed *obs;
	struct job *jobs;
	int local_dhcp = 0;
	size_t i, nr = 0;

	*out = NULL;
	if (o->only_domain && !ipam_desired_find_domain(d, o->only_domain))
		return ipam_error_set(IPAM_ENOTFOUND,
				      "'%s' is not a discovery domain of the "
				      "desired state",
				      o->only_domain);
	for (i = 0; i < d->nr_domains; i++)
		if (d->domains[i].dhcp)
			local_dhcp = ipam_dhcp_local_server();
	obs = xcalloc(1, sizeof(*obs));
	/* Every slot made before any thread starts: results land in
	 * desired-state order whatever order the domains finish in. */
	obs->alloc_domains = d->nr_domains ? d->nr_domains : 1;
	obs->domains = xcalloc(obs->alloc_domains, sizeof(*obs->domains));
	jobs = xcalloc(obs->alloc_domains, sizeof(*jobs));
	pthread_mutex_init(&sp.mu, NULL);
	if (o->progress.fn) {
		oo.progress.fn = serial_fn;
		oo.progress.ctx = &sp;
	}
	for (i = 0; i < d->nr_domains; i++) {
		const struct ipam_domain *dom = &d->domains[i];

		if (o->only_domain && strcasecmp(dom->name, o->only_domain))
			continue;
		jobs[nr].od = &obs->domains[nr];
		jobs[nr].d = d;
		jobs[nr].index = i;
		jobs[nr].o = &oo;
		jobs[nr].local_dhcp = local_dhcp;
		nr++;
	}
	obs->nr_domains = nr;
	ipam_collect_pool_run(jobs, sizeof(*jobs), nr,
			      o->parallel > 1 ? o->parallel : 1, run_job);
	pthread_mutex_destroy(&sp.mu);
	free(jobs);
	ipam_discover_check_collisions(obs);
	*out = obs;
	return 0;
}

struct addr_owner {
	const char *addr;
	struct ipam_obs_domain *domain;
	const struct ipam_obs_server *server;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct addr_owner *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);

	return c ? c : strcmp(x->server->name, y->server->name);
}

void ipam_discover_check_collisions(struct ipam_observed *o)
{
	struct addr_owner *all = NULL;
	size_t nr = 0, alloc = 0, i, j, k;

	for (i = 0; i < o->nr_domains; i++) {
		struct ipam_obs_domain *d = &o->domains[i];

		for (j = 0; j < d->nr_servers; j++) {
			for (k = 0; k < d->servers[j].nr_addrs; k++) {
				ALLOC_GROW(all, nr + 1, alloc);
				all[nr].addr = d->servers[j].addrs[k].text;
				all[nr].domain = d;
				all[nr].server = &d->servers[j];
				nr++;
			}
		}
	}
	if (nr > 1)
		qsort(all, nr, sizeof(*all), cmp_owner);
	for (i = 1; i < nr; i++) {
		const struct addr_owner *a = &all[i - 1], *b = &all[i];
		const struct addr_owner *declared;

		if (strcmp(a->addr, b->addr) || a->server == b->server)
			continue;
		declared = b->server->declared	 ? b
			   : a->server->declared ? a
						 : NULL;
		if (declared)
			ipam_obs_error(declared->domain,
				       "address collision: '%s' and '%s' both "
				       "have the address %s",
				       a->server->name, b->server->name,
				       a->addr);
		else
			ipam_obs_warn(b->domain,
				      "address collision: '%s' and '%s' both "
				      "have the address %s",
				      a->server->name, b->server->name,
				      a->addr);
	}
	free(all);
}
