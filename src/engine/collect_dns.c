/*
 * The dns task: the AD-integrated zones of each managed DNS server's
 * domain, read over LDAP as the IPAM identity (Kerberos from its ticket
 * cache, the session sealed), from the first of the domain's managed DNS
 * servers that answers (domain controllers first: a DNS server that is
 * not one has no directory to read).  Three partitions hold zones:
 *   domain  CN=MicrosoftDNS,DC=DomainDnsZones,<domain DN>
 *   forest  CN=MicrosoftDNS,DC=ForestDnsZones,<forest root DN>
 *   legacy  CN=MicrosoftDNS,CN=System,<domain DN>
 * Each dnsZone's dnsNode children carry the records (dnsRecord, decoded
 * by formats/dnsrecord).  Left out: RootDNSServers (root hints, not a
 * zone), the internal zones whose names start with ".." ("..TrustAnchors",
 * "..InProgress-…", "..Deleted-…" of a zone being deleted), tombstoned
 * nodes (dNSTombstoned TRUE, or nothing but type-0 records).
 *
 * Memory is one zone's records at a time; a zone is stored (by difference,
 * db_dns) as soon as it was read whole, so a server that stops answering
 * half-way leaves the zones read before it stopped stored, and the others
 * as the last collect left them.  Zones that vanished
 * from AD are removed only after a complete read of their partition.
 */
#include "collect.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_dns.h"
#include "dnsrecord.h"
#include "error.h"
#include "ldapconn.h"
#include "probe.h"
#include "strbuf.h"
#include "banned.h"

/* A zone larger than this is refused rather than held in memory. */
#define MAX_ZONE_RECORDS 2000000
#define MAX_ZONES	 10000

struct rec {
	char *name, *data;
	unsigned type;
	long long ttl, aging;
};

struct zone_read {
	struct ipam_collect_result *out;
	const char *zone;
	struct rec *v;
	size_t nr, alloc;
	long long bad, tombstoned;
};

struct zone_ref {
	char *name, *dn;
};

struct zone_list {
	struct zone_ref *v;
	size_t nr, alloc;
};

static const struct {
	const char *name; /* dns_zones.partition */
	const char *head; /* the container above the zones */
	bool forest;	  /* under the forest root, else the domain */
} partitions[] = {
	{"domain", "CN=MicrosoftDNS,DC=DomainDnsZones,", false},
	{"forest", "CN=MicrosoftDNS,DC=ForestDnsZones,", true},
	{"legacy", "CN=MicrosoftDNS,CN=System,", false},
};

static void zone_read_clear(struct zone_read *z)
{
	for (size_t i = 0; i < z->nr; i++) {
		free(z->v[i].name);
		free(z->v[i].data);
	}
	z->nr = 0;
	z->bad = z->tombstoned = 0;
}

static bool is_true(const char *s)
{
	return s && !strcasecmp(s, "TRUE");
}

static int on_node(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct zone_read *z = ctx;
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;
	const struct ipam_ldapconn_value *vals;
	const char *name = ipam_ldapconn_entry_str(e, "dc");
	size_t nr, first = z->nr;

	if (!name || is_true(ipam_ldapconn_entry_str(e, "dNSTombstoned"))) {
		z->tombstoned += name != NULL;
		return 0;
	}
	vals = ipam_ldapconn_entry_values(e, "dnsRecord", &nr);
	for (size_t i = 0; i < nr; i++) {
		struct rec *x;

		if (ipam_dnsrecord_decode(&r, vals[i].data, vals[i].len)) {
			ipam_collect_warn(z->out, "zone %s, %s: %s", z->zone,
					  name, ipam_error_last());
			z->bad++;
			continue;
		}
		if (r.tombstone)
			continue;
		if (z->nr >= MAX_ZONE_RECORDS) {
			ipam_dnsrecord_release(&r);
			return ipam_error_set(IPAM_ELIMIT,
					      "zone %s has more than %d "
					      "records",
					      z->zone, MAX_ZONE_RECORDS);
		}
		ALLOC_GROW(z->v, z->nr + 1, z->alloc);
		x = &z->v[z->nr++];
		x->name = xstrdup(name);
		x->data = strbuf_detach(&r.data, NULL);
		x->type = r.type;
		x->ttl = r.ttl;
		x->aging = r.timestamp;
	}
	if (nr && z->nr == first)
		z->tombstoned++; /* only type-0 (or unreadable) records */
	ipam_dnsrecord_release(&r);
	return 0;
}

static bool is_reverse(const char *zone)
{
	size_t n = strlen(zone);

	return (n >= 12 && !strcasecmp(zone + n - 12, "in-addr.arpa")) ||
	       (n >= 8 && !strcasecmp(zone + n - 8, "ip6.arpa"));
}

static int on_zone(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct zone_list *l = ctx;
	const char *name = ipam_ldapconn_entry_str(e, "dc");

	if (!name || !strcasecmp(name, "RootDNSServers") ||
	    !strncmp(name, "..", 2))
		return 0;
	if (l->nr >= MAX_ZONES)
		return ipam_error_set(IPAM_ELIMIT, "more than %d zones",
				      MAX_ZONES);
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].name = xstrdup(name);
	l->v[l->nr].dn = xstrdup(e->dn);
	l->nr++;
	return 0;
}

static void zone_list_release(struct zone_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].name);
		free(l->v[i].dn);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* What one domain gave, for the server's detail. */
struct domain_read {
	const struct ipam_collect_ctx *c;
	struct ipam_collect_result *out;
	const char *domain, *server;
	struct ipam_ldapconn *l;
	struct zone_read z;
	long long zones, records;
	bool incomplete;
};

/* A read error that means the server is gone, not just this zone. */
static bool fatal(int rc)
{
	return rc == IPAM_EIO || rc == IPAM_ETIMEOUT || rc == IPAM_EAUTH ||
	       rc == IPAM_EDB;
}

static int store_zone(struct domain_read *d, const char *partition,
		      const struct zone_ref *ref)
{
	static const char *const attrs[] = {"dc", "dnsRecord", "dNSTombstoned",
					    NULL};
	struct ipam_db_dns_record *recs = NULL;
	struct ipam_db_dns_changes ch;
	struct ipam_db_dns_zone zone = {
		.domain = d->domain,
		.name = ref->name,
		.partition = partition,
		.dn = ref->dn,
		.reverse = is_reverse(ref->name),
		.server = d->server,
	};
	int rc;

	zone_read_clear(&d->z);
	d->z.zone = ref->name;
	rc = ipam_ldapconn_search(d->l, ref->dn, IPAM_LDAPCONN_ONELEVEL,
				  "(objectClass=dnsNode)", attrs, on_node,
				  &d->z);
	if (rc)
		return ipam_error_prefix(rc, "zone %s", ref->name);
	recs = calloc(d->z.nr ? d->z.nr : 1, sizeof(*recs));
	if (!recs)
		return ipam_error_set(IPAM_ENOMEM, "zone %s", ref->name);
	for (size_t i = 0; i < d->z.nr; i++) {
		recs[i].name = d->z.v[i].name;
		recs[i].type = d->z.v[i].type;
		recs[i].data = d->z.v[i].data;
		recs[i].ttl = d->z.v[i].ttl;
		recs[i].aging = d->z.v[i].aging;
	}
	rc = ipam_db_dns_store_zone(d->c->db, &zone, recs, d->z.nr,
				    d->c->o->run_id, &ch);
	free(recs);
	if (rc)
		return rc;
	d->zones++;
	d->records += (long long)d->z.nr;
	ipam_collect_count(d->out, "zones", 1);
	ipam_collect_count(d->out, "records", (long long)d->z.nr);
	ipam_collect_count(d->out, "added", ch.added);
	ipam_collect_count(d->out, "removed", ch.removed);
	ipam_collect_count(d->out, "changed", ch.changed);
	return 0;
}

/* One partition: its zones, each stored; the vanished ones removed when
 * every zone was listed.  Only an error that ends the session returns. */
static int read_partition(struct domain_read *d, size_t p, const char *base)
{
	static const char *const attrs[] = {"dc", NULL};
	struct zone_list zl = {0};
	int rc;

	rc = ipam_ldapconn_search(d->l, base, IPAM_LDAPCONN_ONELEVEL,
				  "(objectClass=dnsZone)", attrs, on_zone, &zl);
	if (rc == IPAM_ENOTFOUND) /* no such partition: no zones there */
		rc = 0;
	if (rc) {
		d->incomplete = true;
		zone_list_release(&zl);
		if (fatal(rc))
			return rc;
		ipam_collect_warn(d->out, "%s: %s partition not read: %s",
				  d->server, partitions[p].name,
				  ipam_error_last());
		return 0;
	}
	for (size_t i = 0; i < zl.nr && !rc; i++) {
		rc = store_zone(d, partitions[p].name, &zl.v[i]);
		if (rc && !fatal(rc)) {
			ipam_collect_warn(d->out, "%s: %s", d->server,
					  ipam_error_last());
			d->incomplete = true;
			rc = 0;
		}
	}
	if (!rc) {
		const char **names = calloc(zl.nr ? zl.nr : 1, sizeof(*names));

		for (size_t i = 0; names && i < zl.nr; i++)
			names[i] = zl.v[i].name;
		rc = names ? ipam_db_dns_retain_zones(d->c->db, d->domain,
						      partitions[p].name, names,
						      zl.nr, NULL)
			   : ipam_error_set(IPAM_ENOMEM, "zones");
		free(names);
	} else {
		d->incomplete = true;
	}
	zone_list_release(&zl);
	return rc;
}

static int read_domain(struct domain_read *d)
{
	struct strbuf dn = STRBUF_INIT, base = STRBUF_INIT;
	const char *root = ipam_ldapconn_root_domain_nc(d->l);
	int rc = 0;

	ipam_ldapconn_domain_dn(&dn, d->domain);
	for (size_t p = 0;
	     p < sizeof(partitions) / sizeof(partitions[0]) && !rc; p++) {
		strbuf_reset(&base);
		strbuf_addstr(&base, partitions[p].head);
		strbuf_addstr(&base,
			      partitions[p].forest && root ? root : dn.buf);
		rc = read_partition(d, p, base.buf);
	}
	strbuf_release(&dn);
	strbuf_release(&base);
	return rc;
}

static int connect_as_identity(struct ipam_ldapconn **l,
			       const struct ipam_collect_ctx *c,
			       const struct ipam_collect_target *t)
{
	struct strbuf uri = STRBUF_INIT;
	const struct ipam_domain *dom =
		ipam_desired_find_domain(c->d, t->domain);
	struct ipam_ldapconn_opts lo = {
		.domain = t->domain,
		.auth = IPAM_AUTH_KERBEROS,
		.ccache = c->id ? c->id->ccache : NULL,
		.timeout = c->id && c->id->timeout ? c->id->timeout : 30,
		.ca_file = dom ? dom->effective.ca_file.value : NULL,
	};
	int rc;

	if (!c->id || !c->id->ccache)
		return ipam_error_set(IPAM_EINVAL,
				      "the dns task reads as the IPAM "
				      "identity, and there is no ticket of it");
	strbuf_addf(&uri, "ldap://%s", t->name);
	lo.uri = uri.buf;
	rc = ipam_ldapconn_connect(l, &lo);
	strbuf_release(&uri);
	return rc;
}

/* The domain's servers, domain controllers first, from the first that
 * answers; those that did not are failures only when none answered. */
static void collect_domain(struct ipam_collect_result *out,
			   const struct ipam_collect_ctx *c,
			   const struct ipam_collect_target *const *s, size_t n)
{
	struct domain_read d = {.c = c, .out = out, .domain = s[0]->domain};
	char **why = calloc(n, sizeof(*why));
	size_t i;
	int rc = IPAM_EIO;

	for (i = 0; i < n && why; i++) {
		rc = connect_as_identity(&d.l, c, s[i]);
		if (!rc)
			break;
		why[i] = xstrdup(ipam_error_last());
	}
	if (i == n || !why) {
		for (size_t k = 0; k < n; k++)
			ipam_collect_server_add(
				out, s[k]->name, false, "%s",
				why && why[k] ? why[k] : "out of memory");
		goto out;
	}
	for (size_t k = 0; k < i; k++)
		ipam_collect_warn(out,
				  "%s: %s; the zones of %s were read "
				  "through %s",
				  s[k]->name, why[k], d.domain, s[i]->name);
	d.server = s[i]->name;
	rc = read_domain(&d);
	if (rc)
		ipam_collect_server_add(out, s[i]->name, false,
					"%s (%lld zones stored before)",
					ipam_error_last(), d.zones);
	else
		ipam_collect_server_add(out, s[i]->name, true,
					"%lld zones, %lld records of %s%s",
					d.zones, d.records, d.domain,
					d.incomplete ? " (some not read)" : "");
	ipam_ldapconn_close(d.l);
out:
	for (size_t k = 0; why && k < n; k++)
		free(why[k]);
	free(why);
	zone_read_clear(&d.z);
	free(d.z.v);
}

static int by_domain_dc_name(const void *a, const void *b)
{
	const struct ipam_collect_target *x =
		*(const struct ipam_collect_target *const *)a;
	const struct ipam_collect_target *y =
		*(const struct ipam_collect_target *const *)b;
	int c = strcasecmp(x->domain, y->domain);

	if (c)
		return c;
	if ((x->roles & IPAM_ROLE_DC) != (y->roles & IPAM_ROLE_DC))
		return x->roles & IPAM_ROLE_DC ? -1 : 1;
	return strcasecmp(x->name, y->name);
}

int ipam_collect_dns(struct ipam_collect_result *out,
		     const struct ipam_collect_ctx *c)
{
	struct ipam_collect_target *t;
	const struct ipam_collect_target **v;
	static const char *const counts[] = {"zones", "records", "added",
					     "removed", "changed"};
	size_t nr, n = 0;
	int rc;

	out->task = IPAM_TASK_DNS;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		ipam_collect_count(out, counts[i], 0);
	rc = ipam_collect_targets(&t, &nr, c, IPAM_ROLE_DNS);
	if (rc)
		return rc;
	v = calloc(nr ? nr : 1, sizeof(*v));
	if (!v) {
		ipam_collect_targets_free(t, nr);
		return ipam_error_set(IPAM_ENOMEM, "dns task");
	}
	for (size_t i = 0; i < nr; i++) {
		if (!t[i].domain) {
			ipam_collect_server_add(out, t[i].name, false,
						"no domain: its zones cannot "
						"be found");
			continue;
		}
		v[n++] = &t[i];
	}
	if (n)
		qsort(v, n, sizeof(*v), by_domain_dc_name);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1;
		     j < n && !strcasecmp(v[j]->domain, v[i]->domain); j++)
			;
		collect_domain(out, c, v + i, j - i);
	}
	free(v);
	ipam_collect_targets_free(t, nr);
	return 0;
}
