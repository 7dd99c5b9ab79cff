/*
 * The GPO engine's session: the LDAP (and SMB) connection to one domain's
 * DC, the change reports and counters, the undo journal, and the small
 * LDAP and SYSVOL helpers the other pieces share (gpo_internal.h).
 */
#include "gpo.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "connect.h"
#include "error.h"
#include "gpo_internal.h"
#include "gpomark.h"
#include "ldapconn.h"
#include "smb.h"
#include "strbuf.h"
#include "banned.h"

const enum ipam_pol_gpo ipam_gpo_all_kinds[IPAM_GPO_COUNT] = {
	IPAM_POL_GPO_DHCP,
	IPAM_POL_GPO_DNS,
	IPAM_POL_GPO_DC_NPS,
};

/* ---- reports and the journal -------------------------------------------- */

void ipam_gpo_report(struct ipam_gpo_session *s, enum ipam_gpo_change kind,
		     const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	s->changes++;
	if (s->o.report)
		s->o.report(s->o.report_ctx, kind, sb.buf);
	strbuf_release(&sb);
}

void ipam_gpo_journal(struct ipam_gpo_session *s, enum undo_kind kind,
		      const char *target, const char *arg)
{
	struct undo *u;

	if (!s->journal)
		return;
	ALLOC_GROW(s->undo, s->nr_undo + 1, s->alloc_undo);
	u = &s->undo[s->nr_undo++];
	u->kind = kind;
	u->target = xstrdup(target);
	u->arg = arg ? xstrdup(arg) : NULL;
}

void ipam_gpo_undo_release(struct ipam_gpo_session *s)
{
	for (size_t i = 0; i < s->nr_undo; i++) {
		free(s->undo[i].target);
		free(s->undo[i].arg);
	}
	free(s->undo);
	s->undo = NULL;
	s->nr_undo = s->alloc_undo = 0;
}

/* ---- helpers ------------------------------------------------------------ */

void ipam_gpo_path(struct strbuf *out, const struct ipam_gpo_session *s,
		   const char *guid, const char *rel)
{
	strbuf_addf(out, "sysvol/%s/Policies/%s", s->dom->name, guid);
	if (rel && *rel) {
		strbuf_addch(out, '/');
		for (; *rel; rel++)
			strbuf_addch(out, *rel == '\\' ? '/' : *rel);
	}
}

int ipam_gpo_need_smb(struct ipam_gpo_session *s)
{
	int rc;

	if (s->smb)
		return 0;
	rc = ipam_connect_smb(&s->smb, s->dom, s->dc);
	if (rc)
		return ipam_error_prefix(rc, "%s: SYSVOL", s->dom->name);
	return 0;
}

struct first_ctx {
	const char *attr;
	char *value;
	bool bin_sid;
};

static int first_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct first_ctx *c = ctx;
	size_t nr;
	const struct ipam_ldapconn_value *v =
		ipam_ldapconn_entry_values(e, c->attr, &nr);
	struct strbuf sb = STRBUF_INIT;

	if (!nr || c->value)
		return 0;
	if (c->bin_sid) {
		if (ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
			return 0;
		c->value = strbuf_detach(&sb, NULL);
	} else {
		c->value = xstrdup(v[0].data);
	}
	return 0;
}

int ipam_gpo_read_first(struct ipam_gpo_session *s, char **out,
			const char *base, enum ipam_ldapconn_scope scope,
			const char *filter, const char *attr, bool bin_sid)
{
	const char *attrs[] = {attr, NULL};
	struct first_ctx c = {attr, NULL, bin_sid};
	int rc;

	rc = ipam_ldapconn_search(s->ldap, base, scope, filter, attrs, first_cb,
				  &c);
	if (rc) {
		free(c.value);
		return rc;
	}
	*out = c.value;
	return 0;
}

struct ipam_gpo_obs *ipam_gpo_obs_of(struct ipam_gpo_state *st,
				     enum ipam_pol_gpo kind)
{
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		if (st->gpos[k].kind == kind)
			return &st->gpos[k];
	return &st->gpos[0];
}

int ipam_gpo_modify1(struct ipam_gpo_session *s, const char *dn, int op,
		     const char *attr, const char *value)
{
	struct ipam_ldapconn_value v = ipam_gpo_val(value ? value : "");
	struct ipam_ldapconn_mod m = {op, attr, &v, value ? 1 : 0};

	return ipam_ldapconn_modify(s->ldap, dn, &m, 1);
}

int ipam_gpo_add_member(struct ipam_gpo_session *s, const char *group,
			const char *member, bool *added)
{
	int rc = ipam_gpo_modify1(s, group, IPAM_LDAPCONN_MOD_ADD, "member",
				  member);

	*added = rc == 0;
	if (rc == IPAM_EEXISTS) {
		ipam_error_clear();
		return 0;
	}
	return rc;
}

void ipam_gpo_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- session ------------------------------------------------------------ */

/* "ldap://host:port" -> "host" */
static char *uri_host(const char *uri)
{
	const char *p = strstr(uri, "://"), *e;

	p = p ? p + 3 : uri;
	e = p;
	while (*e && *e != ':' && *e != '/')
		e++;
	return xasprintf("%.*s", (int)(e - p), p);
}

int ipam_gpo_open(struct ipam_gpo_session **out, const struct ipam_desired *d,
		  const struct ipam_domain *dom, const struct ipam_gpo_opts *o)
{
	struct ipam_gpo_session *s = xcalloc(1, sizeof(*s));
	struct strbuf f = STRBUF_INIT, mark = STRBUF_INIT;
	int rc;

	*out = NULL;
	s->d = d;
	s->dom = dom;
	if (o)
		s->o = *o;
	if (!d->gpo_prefix.value || !d->ipam_server.value) {
		free(s);
		return ipam_error_set(IPAM_EINVAL,
				      "provisioning needs ipamServer and "
				      "provisioning.gpoPrefix");
	}
	ipam_gpomark_format(&mark, d->ipam_server.value, d->gpo_prefix.value,
			    s->o.source);
	s->mark = strbuf_detach(&mark, NULL);
	rc = ipam_connect_ldap(&s->ldap, dom);
	if (rc) {
		rc = ipam_error_prefix(rc, "%s", dom->name);
		goto fail;
	}
	s->dc = uri_host(ipam_ldapconn_uri(s->ldap));
	s->domain_dn = xstrdup(ipam_ldapconn_default_nc(s->ldap));
	rc = ipam_gpo_read_first(s, &s->domain_sid, s->domain_dn,
				 IPAM_LDAPCONN_BASE, "(objectClass=*)",
				 "objectSid", true);
	if (!rc && (!s->domain_sid ||
		    ipam_sid_parse(&s->dom_sid, s->domain_sid, NULL)))
		rc = ipam_error_set(IPAM_EIO, "%s: no domain SID on %s",
				    dom->name, s->domain_dn);
	if (rc)
		goto fail;
	strbuf_addstr(&f, "(&(objectClass=crossRef)(nCName=");
	ipam_ldapesc_filter(&f, s->domain_dn, strlen(s->domain_dn));
	strbuf_addstr(&f, "))");
	{
		char *base = xasprintf("CN=Partitions,%s",
				       ipam_ldapconn_config_nc(s->ldap));

		rc = ipam_gpo_read_first(s, &s->netbios, base,
					 IPAM_LDAPCONN_ONELEVEL, f.buf,
					 "nETBIOSName", false);
		free(base);
	}
	if (!rc && !s->netbios)
		rc = ipam_error_set(IPAM_ENOTFOUND,
				    "%s: no NetBIOS name for %s", dom->name,
				    s->domain_dn);
	if (rc)
		goto fail;
	strbuf_release(&f);
	*out = s;
	return 0;
fail:
	strbuf_release(&f);
	ipam_gpo_close(s);
	return rc;
}

void ipam_gpo_close(struct ipam_gpo_session *s)
{
	if (!s)
		return;
	if (s->smb)
		ipam_smb_close(s->smb);
	if (s->ldap)
		ipam_ldapconn_close(s->ldap);
	ipam_gpo_undo_release(s);
	free(s->dc);
	free(s->domain_dn);
	free(s->domain_sid);
	free(s->netbios);
	free(s->mark);
	free(s);
}

size_t ipam_gpo_changes(const struct ipam_gpo_session *s)
{
	return s->changes;
}

size_t ipam_gpo_ldap_writes(const struct ipam_gpo_session *s)
{
	return ipam_ldapconn_writes(s->ldap);
}
