/*
 * The GPO engine's read side: IPAMUG, the IPAM server's computer account,
 * the three GPOs in AD, the DC-side grants and the names of the trustees
 * of the GPOs' DACLs.  SYSVOL is gpo_sysvol.c's.
 */
#include "gpo.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "gpodacl.h"
#include "gplink.h"
#include "gpo_internal.h"
#include "gpomark.h"
#include "ldapconn.h"
#include "strbuf.h"
#include "banned.h"

static const struct {
	const char *sid, *name;
} well_known[] = {
	{"S-1-1-0", "Everyone"},
	{"S-1-3-0", "CREATOR OWNER"},
	{"S-1-5-9", "ENTERPRISE DOMAIN CONTROLLERS"},
	{"S-1-5-11", "Authenticated Users"},
	{"S-1-5-18", "SYSTEM"},
};

static bool gpo_name_is(const char *display, const char *prefix,
			enum ipam_pol_gpo kind)
{
	size_t n = strlen(prefix);

	return display && !strncasecmp(display, prefix, n) &&
	       !strcasecmp(display + n, ipam_pol_gpo_suffix(kind));
}

/* "(objectSid=\01\05…)": every byte escaped, as AD expects binary. */
static int add_sid_filter(struct strbuf *f, const char *sid)
{
	struct ipam_sid s;
	struct strbuf bin = STRBUF_INIT;

	if (ipam_sid_parse(&s, sid, NULL))
		return -1;
	ipam_sid_to_bin(&bin, &s);
	strbuf_addstr(f, "(objectSid=");
	for (size_t i = 0; i < bin.len; i++)
		strbuf_addf(f, "\\%02x", (unsigned char)bin.buf[i]);
	strbuf_addch(f, ')');
	strbuf_release(&bin);
	return 0;
}

/* ---- IPAMUG and computers ------------------------------------------------ */

struct group_ctx {
	struct ipam_gpo_state *st;
	int found;
};

static int group_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct group_ctx *c = ctx;
	struct ipam_gpo_state *st = c->st;
	const struct ipam_ldapconn_value *v;
	struct strbuf sb = STRBUF_INIT;
	size_t nr;
	const char *s;

	if (c->found++)
		return 0;
	st->ipamug.exists = true;
	st->ipamug.dn = xstrdup(e->dn);
	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (nr && !ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		st->ipamug.sid = strbuf_detach(&sb, NULL);
	s = ipam_ldapconn_entry_str(e, "adminDescription");
	if (ipam_gpomark_is(s))
		st->ipamug.mark = xstrdup(s);
	s = ipam_ldapconn_entry_str(e, "groupType");
	st->ipamug.group_type = s ? strtol(s, NULL, 10) : 0;
	v = ipam_ldapconn_entry_values(e, "member", &nr);
	st->ipamug.members = xcalloc(nr ? nr : 1, sizeof(char *));
	for (size_t i = 0; i < nr; i++)
		st->ipamug.members[i] = xstrdup(v[i].data);
	st->ipamug.nr_members = nr;
	return 0;
}

int ipam_gpo_read_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	static const char *const attrs[] = {"objectSid", "adminDescription",
					    "groupType", "member", NULL};
	struct group_ctx c = {st, 0};
	int rc;

	rc = ipam_ldapconn_search(
		s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
		"(&(objectClass=group)(sAMAccountName=" GROUP_NAME "))", attrs,
		group_cb, &c);
	if (rc)
		return rc;
	st->ipamug.owned = ipam_gpomark_owned(st->ipamug.mark, st->ipam_server,
					      st->prefix);
	for (size_t i = 0; st->server_dn && i < st->ipamug.nr_members; i++)
		if (!strcasecmp(st->ipamug.members[i], st->server_dn))
			st->ipamug.has_server = true;
	return 0;
}

struct dn_sid_ctx {
	char *dn, *sid;
	int found;
};

static int dn_sid_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct dn_sid_ctx *c = ctx;
	const struct ipam_ldapconn_value *v;
	struct strbuf sb = STRBUF_INIT;
	size_t nr;

	if (c->found++)
		return 0;
	c->dn = xstrdup(e->dn);
	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (nr && !ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		c->sid = strbuf_detach(&sb, NULL);
	return 0;
}

int ipam_gpo_find_computer(struct ipam_gpo_session *s, const char *name,
			   char **dn, char **sid, int *count)
{
	static const char *const attrs[] = {"objectSid", NULL};
	struct strbuf f = STRBUF_INIT, v = STRBUF_INIT;
	struct dn_sid_ctx c = {0};
	int rc;

	strbuf_addstr(&f, "(&(objectCategory=computer)(|(dNSHostName=");
	ipam_ldapesc_filter(&f, name, strlen(name));
	strbuf_addstr(&f, ")(servicePrincipalName=host/");
	ipam_ldapesc_filter(&f, name, strlen(name));
	strbuf_addstr(&f, ")(sAMAccountName=");
	strbuf_addstr(&v, name);
	if (!strchr(name, '.') && (!v.len || v.buf[v.len - 1] != '$'))
		strbuf_addch(&v, '$');
	ipam_ldapesc_filter(&f, v.buf, v.len);
	strbuf_addstr(&f, ")))");
	rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
				  f.buf, attrs, dn_sid_cb, &c);
	strbuf_release(&f);
	strbuf_release(&v);
	if (rc) {
		free(c.dn);
		free(c.sid);
		return rc;
	}
	*dn = c.dn;
	*sid = c.sid;
	*count = c.found;
	return 0;
}

int ipam_gpo_delegated_sids(struct ipam_gpo_session *s, char ***out, size_t *nr)
{
	static const char *const attrs[] = {"objectSid", NULL};
	size_t n = s->d->nr_delegated;
	char **v = xcalloc(n ? n : 1, sizeof(char *));
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const char *name = s->d->delegated_users[i].value;
		const char *bs = strchr(name, '\\');
		struct strbuf f = STRBUF_INIT;
		struct dn_sid_ctx c = {0};

		if (bs)
			name = bs + 1;
		strbuf_addstr(&f, "(sAMAccountName=");
		ipam_ldapesc_filter(&f, name, strlen(name));
		strbuf_addch(&f, ')');
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn,
					  IPAM_LDAPCONN_SUBTREE, f.buf, attrs,
					  dn_sid_cb, &c);
		strbuf_release(&f);
		free(c.dn);
		if (!rc && !c.sid)
			rc = ipam_error_set(
				IPAM_ENOTFOUND,
				"%s: delegated GPO user '%s' (%s:%d:%d) has no "
				"account in the domain",
				s->dom->name, s->d->delegated_users[i].value,
				s->d->delegated_users[i].pos.file,
				s->d->delegated_users[i].pos.line,
				s->d->delegated_users[i].pos.col);
		if (rc) {
			free(c.sid);
			break;
		}
		v[i] = c.sid;
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	*out = v;
	*nr = n;
	return 0;
}

/* ---- DC-side grants ------------------------------------------------------ */

static int members_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct ipam_gpo_state *st = ctx;
	const struct ipam_ldapconn_value *v;
	size_t nr;

	if (!st->elr_dn)
		st->elr_dn = xstrdup(e->dn);
	v = ipam_ldapconn_entry_values(e, "member", &nr);
	for (size_t i = 0; st->ipamug.dn && i < nr; i++)
		if (!strcasecmp(v[i].data, st->ipamug.dn))
			st->elr_member = true;
	return 0;
}

static int read_dc_grants(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	static const char *const attrs[] = {"member", NULL};
	struct strbuf raw = STRBUF_INIT;
	char *base = xasprintf("CN=Builtin,%s", s->domain_dn);
	char *dns = xasprintf("CN=MicrosoftDNS,CN=System,%s", s->domain_dn);
	struct ipam_sd *sd = NULL;
	int rc;

	rc = ipam_ldapconn_search(s->ldap, base, IPAM_LDAPCONN_ONELEVEL,
				  "(objectSid=" ELR_SID ")", attrs, members_cb,
				  st);
	if (rc)
		goto out;
	rc = ipam_ldapconn_read_sd(&raw, s->ldap, dns, IPAM_LDAPCONN_SD_DACL);
	if (rc == IPAM_ENOTFOUND) {
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	st->dns_container = xstrdup(dns);
	rc = ipam_sd_parse(&sd, raw.buf, raw.len);
	if (rc) {
		rc = ipam_error_prefix(rc, "%s", dns);
		goto out;
	}
	if (st->ipamug.sid) {
		struct ipam_sid g;
		struct ipam_ace a;

		if (!ipam_sid_parse(&g, st->ipamug.sid, NULL)) {
			a = ipam_gpo_dns_ace(&g);
			st->dns_ace = ipam_sd_ace_find(sd, &a) >= 0;
		}
	}
out:
	ipam_sd_free(sd);
	strbuf_release(&raw);
	free(base);
	free(dns);
	return rc;
}

/* ---- GPOs ---------------------------------------------------------------- */

/* Add to what is missing of a half-made GPO. */
void ipam_gpo_add_missing(struct ipam_gpo_obs *g, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (g->missing)
		strbuf_addf(&sb, "%s, ", g->missing);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(g->missing);
	g->missing = strbuf_detach(&sb, NULL);
}

struct children_ctx {
	bool user, machine;
};

static int children_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct children_ctx *c = ctx;
	const char *cn = ipam_ldapconn_entry_str(e, "cn");

	if (cn && !strcasecmp(cn, "User"))
		c->user = true;
	if (cn && !strcasecmp(cn, "Machine"))
		c->machine = true;
	return 0;
}

/* CN=User and CN=Machine under the container. */
static int read_children(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
{
	static const char *const attrs[] = {"cn", NULL};
	struct children_ctx c = {0};
	int rc;

	rc = ipam_ldapconn_search(s->ldap, g->dn, IPAM_LDAPCONN_ONELEVEL,
				  "(objectClass=container)", attrs, children_cb,
				  &c);
	if (rc)
		return rc;
	if (!c.user)
		ipam_gpo_add_missing(g, "CN=User");
	if (!c.machine)
		ipam_gpo_add_missing(g, "CN=Machine");
	return 0;
}

struct gpo_ctx {
	struct ipam_gpo_session *s;
	struct ipam_gpo_state *st;
};

static int gpo_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct gpo_ctx *c = ctx;
	const char *name = ipam_ldapconn_entry_str(e, "displayName");
	const char *v;

	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_obs *g = &c->st->gpos[k];

		if (!gpo_name_is(name, c->st->prefix, g->kind))
			continue;
		if (g->same_name++)
			return 0;
		g->exists = true;
		g->dn = xstrdup(e->dn);
		v = ipam_ldapconn_entry_str(e, "cn");
		g->guid = xstrdup(v ? v : "");
		for (char *p = g->guid; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		v = ipam_ldapconn_entry_str(e, "gPCFileSysPath");
		g->file_sys_path = v ? xstrdup(v) : NULL;
		v = ipam_ldapconn_entry_str(e, "adminDescription");
		if (ipam_gpomark_is(v))
			g->mark = xstrdup(v);
		g->owned = ipam_gpomark_owned(g->mark, c->st->ipam_server,
					      c->st->prefix);
		v = ipam_ldapconn_entry_str(e, "versionNumber");
		g->version = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
		v = ipam_ldapconn_entry_str(e, "flags");
		g->flags = v ? strtol(v, NULL, 10) : 0;
		v = ipam_ldapconn_entry_str(e, "gPCFunctionalityVersion");
		g->functionality_version = v ? strtol(v, NULL, 10) : 0;
		v = ipam_ldapconn_entry_str(e, "gPCMachineExtensionNames");
		g->machine_ext = xstrdup(v ? v : "");
	}
	return 0;
}

int ipam_gpo_read_sd(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
{
	struct strbuf raw = STRBUF_INIT;
	int rc;

	ipam_sd_free(g->sd);
	g->sd = NULL;
	rc = ipam_ldapconn_read_sd(&raw, s->ldap, g->dn, SD_ALL);
	if (!rc)
		rc = ipam_sd_parse(&g->sd, raw.buf, raw.len);
	strbuf_release(&raw);
	if (rc)
		return ipam_error_prefix(rc, "%s", g->dn);
	return 0;
}

/* ---- trustees' names ----------------------------------------------------- */

struct names_ctx {
	struct ipam_gpo_state *st;
};

static void name_sid(struct ipam_gpo_state *st, const char *sid,
		     const char *name)
{
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_trustees *ts[] = {
			&st->gpos[k].readers, &st->gpos[k].appliers,
			&st->gpos[k].editors, &st->gpos[k].filtering};

		for (size_t t = 0; t < 4; t++)
			for (size_t i = 0; i < ts[t]->nr; i++)
				if (!strcmp(ts[t]->v[i].sid, sid) &&
				    !ts[t]->v[i].name)
					ts[t]->v[i].name = xstrdup(name);
	}
}

static int names_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct names_ctx *c = ctx;
	const struct ipam_ldapconn_value *v;
	const char *name = ipam_ldapconn_entry_str(e, "sAMAccountName");
	struct strbuf sb = STRBUF_INIT;
	size_t nr;

	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (nr && name && !ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		name_sid(c->st, sb.buf, name);
	strbuf_release(&sb);
	return 0;
}

/* Names for the trustees: well-known ones, then one search per batch. */
static int resolve_names(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	static const char *const attrs[] = {"objectSid", "sAMAccountName",
					    NULL};
	struct names_ctx c = {st};
	struct strbuf f = STRBUF_INIT;
	size_t in_batch = 0;
	int rc = 0;

	for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++)
		name_sid(st, well_known[i].sid, well_known[i].name);
	for (size_t k = 0; !rc && k < IPAM_GPO_COUNT; k++) {
		const struct ipam_gpo_trustees *t = &st->gpos[k].readers;
		const struct ipam_gpo_trustees *ts[] = {
			t, &st->gpos[k].appliers, &st->gpos[k].editors};

		for (size_t j = 0; !rc && j < 3; j++)
			for (size_t i = 0; !rc && i < ts[j]->nr; i++) {
				if (ts[j]->v[i].name)
					continue;
				if (!in_batch)
					strbuf_addstr(&f, "(|");
				if (add_sid_filter(&f, ts[j]->v[i].sid))
					continue;
				if (++in_batch == LOOKUP_BATCH) {
					strbuf_addch(&f, ')');
					rc = ipam_ldapconn_search(
						s->ldap, s->domain_dn,
						IPAM_LDAPCONN_SUBTREE, f.buf,
						attrs, names_cb, &c);
					strbuf_reset(&f);
					in_batch = 0;
				}
			}
	}
	if (!rc && in_batch) {
		strbuf_addch(&f, ')');
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn,
					  IPAM_LDAPCONN_SUBTREE, f.buf, attrs,
					  names_cb, &c);
	}
	strbuf_release(&f);
	return rc;
}

static int decode_all(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	char **eds = NULL;
	size_t nr = 0;
	int rc;

	rc = ipam_gpo_delegated_sids(s, &eds, &nr);
	if (rc)
		return rc;
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		if (st->gpos[k].sd)
			ipam_gpodacl_decode(&st->gpos[k], st->ipamug.sid,
					    (const char *const *)eds, nr);
	ipam_gpo_strv_free(eds, nr);
	return 0;
}

int ipam_gpo_read(struct ipam_gpo_state **out, struct ipam_gpo_session *s)
{
	static const char *const gpo_attrs[] = {"cn",
						"displayName",
						"versionNumber",
						"flags",
						"gPCFileSysPath",
						"gPCFunctionalityVersion",
						"gPCMachineExtensionNames",
						"adminDescription",
						NULL};
	struct ipam_gpo_state *st = xcalloc(1, sizeof(*st));
	struct strbuf f = STRBUF_INIT;
	char *base = NULL;
	int rc, count = 0;

	*out = NULL;
	st->domain = xstrdup(s->dom->name);
	st->domain_dn = xstrdup(s->domain_dn);
	st->domain_sid = xstrdup(s->domain_sid);
	st->netbios = xstrdup(s->netbios);
	st->dc = xstrdup(s->dc);
	st->prefix = xstrdup(s->d->gpo_prefix.value);
	st->ipam_server = xstrdup(s->d->ipam_server.value);
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		st->gpos[k].kind = ipam_gpo_all_kinds[k];
		st->gpos[k].name =
			xasprintf("%s%s", st->prefix,
				  ipam_pol_gpo_suffix(ipam_gpo_all_kinds[k]));
	}
	rc = ipam_gpo_find_computer(s, st->ipam_server, &st->server_dn,
				    &st->server_sid, &count);
	if (rc)
		goto out;
	st->server_found = st->server_dn != NULL;
	rc = ipam_gpo_find_foreign_server(s, st);
	if (!rc)
		rc = ipam_gpo_read_group(s, st);
	if (!rc)
		rc = read_dc_grants(s, st);
	if (!rc)
		rc = ipam_gpo_read_first(s, &st->gplink, s->domain_dn,
					 IPAM_LDAPCONN_BASE, "(objectClass=*)",
					 "gPLink", false);
	if (rc)
		goto out;
	if (!st->gplink)
		st->gplink = xstrdup("");
	base = xasprintf("CN=Policies,CN=System,%s", s->domain_dn);
	strbuf_addstr(&f, "(&(objectClass=groupPolicyContainer)(|");
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		strbuf_addstr(&f, "(displayName=");
		ipam_ldapesc_filter(&f, st->gpos[k].name,
				    strlen(st->gpos[k].name));
		strbuf_addch(&f, ')');
	}
	strbuf_addstr(&f, "))");
	rc = ipam_ldapconn_search(s->ldap, base, IPAM_LDAPCONN_ONELEVEL, f.buf,
				  gpo_attrs, gpo_cb, &(struct gpo_ctx){s, st});
	for (size_t k = 0; !rc && k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_obs *g = &st->gpos[k];
		long opts;

		if (!g->exists)
			continue;
		opts = ipam_gplink_find(st->gplink, g->dn);
		g->linked = opts >= 0;
		g->link_options = opts >= 0 ? (unsigned)opts : 0;
		rc = ipam_gpo_read_sd(s, g);
		if (!rc)
			rc = read_children(s, g);
		if (!rc)
			rc = ipam_gpo_read_sysvol(s, st, g);
	}
	if (!rc)
		rc = decode_all(s, st);
	if (!rc)
		rc = ipam_gpo_read_fgroups(s, st);
	if (!rc)
		rc = resolve_names(s, st);
out:
	strbuf_release(&f);
	free(base);
	if (rc) {
		ipam_gpo_state_free(st);
		return ipam_error_prefix(rc, "%s", s->dom->name);
	}
	*out = st;
	return 0;
}
