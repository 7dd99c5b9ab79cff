/*
 * Computer accounts by name, for GPO filtering: by dNSHostName or
 * sAMAccountName in batches, then by SPN host/<name> one at a time for
 * what the batches did not find.  And the IPAM server's account when it
 * lives in another discovery domain that this one trusts (IPAMUG then
 * holds it through a foreign security principal).
 */
#include "gpo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connect.h"
#include "error.h"
#include "gpo_internal.h"
#include "gpogroup.h"
#include "ldapconn.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

struct lookup_ctx {
	const char *const *names;
	size_t nr;
	char **sids;
	int *hits;
};

static bool name_matches(const char *name, const char *dns, const char *sam)
{
	size_t n = strlen(name);

	if (dns && !strcasecmp(name, dns))
		return true;
	if (!sam)
		return false;
	return !strcasecmp(name, sam) ||
	       (strlen(sam) == n + 1 && sam[n] == '$' &&
		!strncasecmp(name, sam, n));
}

static int lookup_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct lookup_ctx *c = ctx;
	const char *dns = ipam_ldapconn_entry_str(e, "dNSHostName");
	const char *sam = ipam_ldapconn_entry_str(e, "sAMAccountName");
	const struct ipam_ldapconn_value *v;
	struct strbuf sb = STRBUF_INIT;
	size_t nr;

	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (!nr || ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		return 0;
	for (size_t i = 0; i < c->nr; i++)
		if (name_matches(c->names[i], dns, sam)) {
			if (!c->hits[i]++)
				c->sids[i] = xstrdup(sb.buf);
		}
	strbuf_release(&sb);
	return 0;
}

/*
 * Names a lookup search asks for at once.  dNSHostName is not indexed, so
 * each search reads every object of the domain: 5,000 names in batches of
 * 64 took some 25 s of 34 in bench/filtering --group (a DC with 5,000
 * computers); the filter stays well under the DCs' request limits.
 */
#define LOOKUP_NAMES 500

int ipam_gpo_lookup_computers(struct ipam_gpo_session *s,
			      const char *const *names, size_t nr, char ***sids)
{
	static const char *const attrs[] = {"objectSid", "dNSHostName",
					    "sAMAccountName", NULL};
	char **v = xcalloc(nr ? nr : 1, sizeof(char *));
	int *hits = xcalloc(nr ? nr : 1, sizeof(int));
	int rc = 0;

	for (size_t i = 0; !rc && i < nr; i += LOOKUP_NAMES) {
		struct lookup_ctx c = {names + i,
				       nr - i < LOOKUP_NAMES ? nr - i
							     : LOOKUP_NAMES,
				       v + i, hits + i};
		struct strbuf f = STRBUF_INIT;

		strbuf_addstr(&f, "(&(objectCategory=computer)(|");
		for (size_t j = 0; j < c.nr; j++) {
			const char *n = c.names[j];
			size_t len = strlen(n);

			strbuf_addstr(&f, "(dNSHostName=");
			ipam_ldapesc_filter(&f, n, len);
			strbuf_addstr(&f, ")(sAMAccountName=");
			ipam_ldapesc_filter(&f, n, len);
			if (!len || n[len - 1] != '$')
				strbuf_addch(&f, '$');
			strbuf_addch(&f, ')');
		}
		strbuf_addstr(&f, "))");
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn,
					  IPAM_LDAPCONN_SUBTREE, f.buf, attrs,
					  lookup_cb, &c);
		strbuf_release(&f);
	}
	/* Names not found that way: by SPN host/<name>, one at a time. */
	for (size_t i = 0; !rc && i < nr; i++) {
		char *dn = NULL, *sid = NULL;
		int count = 0;

		if (hits[i] == 1)
			continue;
		if (hits[i] > 1) {
			rc = ipam_error_set(IPAM_ECONFLICT,
					    "%s: '%s' names %d computer "
					    "accounts",
					    s->dom->name, names[i], hits[i]);
			break;
		}
		rc = ipam_gpo_find_computer(s, names[i], &dn, &sid, &count);
		if (!rc && (count != 1 || !sid))
			rc = ipam_error_set(
				count ? IPAM_ECONFLICT : IPAM_ENOTFOUND,
				"%s: computer '%s' %s", s->dom->name, names[i],
				count ? "is ambiguous" : "not found");
		free(dn);
		if (!rc)
			v[i] = sid;
		else
			free(sid);
	}
	free(hits);
	if (rc) {
		ipam_gpo_strv_free(v, nr);
		return rc;
	}
	*sids = v;
	return 0;
}

/* ---- the IPAM server in another domain ----------------------------------
 */

struct trust_ctx {
	struct ipam_gpogroup_trust *t;
	char **partners;
	size_t nr, alloc;
};

static int trust_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct trust_ctx *c = ctx;
	const char *p = ipam_ldapconn_entry_str(e, "trustPartner");
	const char *d = ipam_ldapconn_entry_str(e, "trustDirection");
	const char *a = ipam_ldapconn_entry_str(e, "trustAttributes");

	if (!p)
		return 0;
	if (c->nr == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 4;
		c->t = xrealloc(c->t, c->alloc * sizeof(*c->t));
		c->partners =
			xrealloc(c->partners, c->alloc * sizeof(*c->partners));
	}
	c->partners[c->nr] = xstrdup(p);
	c->t[c->nr].partner = c->partners[c->nr];
	c->t[c->nr].direction = d ? (unsigned)strtoul(d, NULL, 10) : 0;
	c->t[c->nr].attributes = a ? (unsigned)strtoul(a, NULL, 10) : 0;
	c->nr++;
	return 0;
}

/* Does the session's domain trust domain (its trustedDomain objects)? */
static int read_trusts(struct ipam_gpo_session *s, const char *domain,
		       bool *trusted)
{
	static const char *const attrs[] = {"trustPartner", "trustDirection",
					    "trustAttributes", NULL};
	struct trust_ctx c = {0};
	char *base = xasprintf("CN=System,%s", s->domain_dn);
	int rc;

	rc = ipam_ldapconn_search(s->ldap, base, IPAM_LDAPCONN_ONELEVEL,
				  "(objectClass=trustedDomain)", attrs,
				  trust_cb, &c);
	*trusted = !rc && ipam_gpogroup_trusts(c.t, c.nr, domain);
	for (size_t i = 0; i < c.nr; i++)
		free(c.partners[i]);
	free(c.partners);
	free(c.t);
	free(base);
	return rc;
}

/* The server's SID in dom, over a connection of its own (NULL: none). */
static int foreign_sid(struct ipam_gpo_session *s,
		       const struct ipam_domain *dom, char **sid)
{
	struct ipam_gpo_session fs = {.d = s->d, .dom = dom};
	char *dn = NULL;
	int count = 0, rc;

	*sid = NULL;
	rc = ipam_connect_ldap(&fs.ldap, dom);
	if (rc)
		return rc;
	fs.domain_dn = xstrdup(ipam_ldapconn_default_nc(fs.ldap));
	rc = ipam_gpo_find_computer(&fs, s->d->ipam_server.value, &dn, sid,
				    &count);
	if (!rc && count > 1)
		rc = ipam_error_set(IPAM_ECONFLICT,
				    "'%s' names %d computer accounts",
				    s->d->ipam_server.value, count);
	if (rc) {
		free(*sid);
		*sid = NULL;
	}
	free(dn);
	free(fs.domain_dn);
	ipam_ldapconn_close(fs.ldap);
	return rc;
}

int ipam_gpo_find_foreign_server(struct ipam_gpo_session *s,
				 struct ipam_gpo_state *st)
{
	const struct ipam_desired *d = s->d;
	const char **names;
	char *sid = NULL;
	long home;
	int rc;

	if (st->server_found || !d->nr_domains)
		return 0;
	names = xcalloc(d->nr_domains, sizeof(*names));
	for (size_t i = 0; i < d->nr_domains; i++)
		names[i] = d->domains[i].name;
	home = ipam_gpogroup_home(st->ipam_server, names, d->nr_domains,
				  s->dom->name);
	free(names);
	if (home < 0)
		return 0;
	st->foreign_domain = xstrdup(d->domains[home].name);
	rc = read_trusts(s, st->foreign_domain, &st->foreign_trusted);
	if (rc || !st->foreign_trusted)
		return rc;
	/* Another domain out of reach is that domain's failure, not this
	 * one's: IPAMUG here then only waits for the server. */
	if (foreign_sid(s, &d->domains[home], &sid)) {
		log_warn("%s: cannot look up the IPAM server %s in %s: %s",
			 s->dom->name, st->ipam_server, st->foreign_domain,
			 ipam_error_last());
		return 0;
	}
	if (!sid)
		return 0;
	st->server_sid = sid;
	st->server_dn = xasprintf("CN=%s,CN=ForeignSecurityPrincipals,%s", sid,
				  s->domain_dn);
	st->server_found = true;
	return 0;
}
