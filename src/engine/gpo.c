#define _GNU_SOURCE /* strptime, timegm */
#include "gpo.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "connect.h"
#include "error.h"
#include "ldapconn.h"
#include "log.h"
#include "secedit.h"
#include "smb.h"
#include "strbuf.h"
#include "banned.h"

#define GROUP_NAME   "IPAMUG"
#define GROUP_TYPE   "-2147483640" /* 0x80000008: universal, security */
#define ELR_SID	     "S-1-5-32-573"
#define AU_SID	     "S-1-5-11"
#define GPT_INI	     "GPT.INI"
#define MAX_SETTING  (4u * 1024 * 1024)
#define DNS_ACE_MASK (IPAM_SD_RIGHT_LC | IPAM_SD_RIGHT_RP | IPAM_SD_RIGHT_RC)
#define LOOKUP_BATCH 64
#define SD_ALL	     (IPAM_LDAPCONN_SD_OWNER | IPAM_LDAPCONN_SD_GROUP | IPAM_LDAPCONN_SD_DACL)

/* What a provisioning run created, to be removed again if it fails. */
enum undo_kind {
	UNDO_LDAP_TREE, /* dn */
	UNDO_SMB_TREE,	/* path */
	UNDO_MEMBER,	/* dn loses member arg */
	UNDO_LINK,	/* GPO dn unlinked from the domain head */
	UNDO_DNS_ACE,	/* IPAMUG's ACE on the DNS container */
};

struct undo {
	enum undo_kind kind;
	char *target, *arg;
};

struct ipam_gpo_session {
	const struct ipam_desired *d;
	const struct ipam_domain *dom;
	struct ipam_gpo_opts o;
	struct ipam_ldapconn *ldap;
	struct ipam_smb *smb;
	char *dc;
	char *domain_dn, *domain_sid, *netbios;
	struct ipam_sid dom_sid;
	char *mark;
	size_t changes;
	bool journal; /* record undo entries */
	struct undo *undo;
	size_t nr_undo, alloc_undo;
};

static const enum ipam_pol_gpo all_kinds[IPAM_GPO_COUNT] = {
	IPAM_POL_GPO_DHCP,
	IPAM_POL_GPO_DNS,
	IPAM_POL_GPO_DC_NPS,
};

static const char *const role_names[IPAM_GPO_COUNT] = {"dhcp", "dns", "dc_nps"};

/* ---- small helpers ------------------------------------------------------ */

static void report(struct ipam_gpo_session *s, enum ipam_gpo_change kind,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(struct ipam_gpo_session *s, enum ipam_gpo_change kind,
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

static void journal(struct ipam_gpo_session *s, enum undo_kind kind,
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

static void undo_release(struct ipam_gpo_session *s)
{
	for (size_t i = 0; i < s->nr_undo; i++) {
		free(s->undo[i].target);
		free(s->undo[i].arg);
	}
	free(s->undo);
	s->undo = NULL;
	s->nr_undo = s->alloc_undo = 0;
}

static struct ipam_ldapconn_value val(const char *s)
{
	struct ipam_ldapconn_value v = {s, strlen(s)};

	return v;
}

static char *sid_text(const struct ipam_sid *sid)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_sid_format(&sb, sid);
	return strbuf_detach(&sb, NULL);
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

/* "<domain>/Policies/{GUID}" in the sysvol share, plus rel. */
static void gpo_path(struct strbuf *out, const struct ipam_gpo_session *s,
		     const char *guid, const char *rel)
{
	strbuf_addf(out, "sysvol/%s/Policies/%s", s->dom->name, guid);
	if (rel && *rel) {
		strbuf_addch(out, '/');
		for (; *rel; rel++)
			strbuf_addch(out, *rel == '\\' ? '/' : *rel);
	}
}

static int need_smb(struct ipam_gpo_session *s)
{
	int rc;

	if (s->smb)
		return 0;
	rc = ipam_connect_smb(&s->smb, s->dom, s->dc);
	if (rc)
		return ipam_error_prefix(rc, "%s: SYSVOL", s->dom->name);
	return 0;
}

static bool gpo_name_is(const char *display, const char *prefix,
			enum ipam_pol_gpo kind)
{
	size_t n = strlen(prefix);

	return display && !strncasecmp(display, prefix, n) &&
	       !strcasecmp(display + n, ipam_pol_gpo_suffix(kind));
}

/* ---- marks and gPLink ---------------------------------------------------- */

void ipam_gpo_mark(struct strbuf *out, const char *ipam_server,
		   const char *prefix, const char *source)
{
	strbuf_addf(out, IPAM_GPO_MARK_PREFIX " ipamServer=%s; gpoPrefix=%s",
		    ipam_server, prefix);
	if (source && *source)
		strbuf_addf(out, "; source=%s", source);
}

/* The value of "key=" in a mark, up to ';'. */
static bool mark_field_is(const char *mark, const char *key, const char *want)
{
	size_t k = strlen(key), w = strlen(want);
	const char *p = mark;

	while ((p = strstr(p, key))) {
		if ((p == mark || p[-1] == ' ' || p[-1] == ';') &&
		    p[k] == '=') {
			const char *v = p + k + 1, *e = strchr(v, ';');
			size_t n = e ? (size_t)(e - v) : strlen(v);

			return n == w && !strncasecmp(v, want, w);
		}
		p += k;
	}
	return false;
}

bool ipam_gpo_mark_owned(const char *mark, const char *ipam_server,
			 const char *prefix)
{
	return mark &&
	       !strncmp(mark, IPAM_GPO_MARK_PREFIX,
			strlen(IPAM_GPO_MARK_PREFIX)) &&
	       mark_field_is(mark, "ipamServer", ipam_server) &&
	       mark_field_is(mark, "gpoPrefix", prefix);
}

/* Walk "[LDAP://dn;opts]" links: fn gets each dn (len) and options. */
struct link {
	const char *dn;
	size_t dn_len;
	const char *start; /* '[' */
	size_t len;	   /* through ']' */
	unsigned long options;
};

static int next_link(const char **pp, struct link *l)
{
	const char *p = *pp, *e, *semi;

	while (*p && *p != '[')
		p++;
	if (!*p)
		return 0;
	e = strchr(p, ']');
	if (!e)
		return 0;
	l->start = p;
	l->len = (size_t)(e - p + 1);
	semi = memchr(p, ';', l->len);
	if (!semi)
		semi = e;
	l->dn = p + 1;
	if (!strncasecmp(l->dn, "LDAP://", 7))
		l->dn += 7;
	l->dn_len = (size_t)(semi - l->dn);
	l->options = semi < e ? strtoul(semi + 1, NULL, 10) : 0;
	*pp = e + 1;
	return 1;
}

static bool link_is(const struct link *l, const char *dn)
{
	return strlen(dn) == l->dn_len && !strncasecmp(l->dn, dn, l->dn_len);
}

long ipam_gplink_find(const char *gplink, const char *dn)
{
	struct link l;
	const char *p = gplink ? gplink : "";

	while (next_link(&p, &l))
		if (link_is(&l, dn))
			return (long)(l.options & 0xffffffffu);
	return -1;
}

int ipam_gplink_set(struct strbuf *out, const char *gplink, const char *dn,
		    unsigned options)
{
	struct link l;
	const char *p = gplink ? gplink : "";
	bool found = false;

	if (strchr(dn, ']') || strchr(dn, ';'))
		return ipam_error_set(IPAM_EINVAL, "cannot link '%s'", dn);
	if (ipam_gplink_find(p, dn) < 0)
		strbuf_addf(out, "[LDAP://%s;%u]", dn, options);
	while (next_link(&p, &l)) {
		if (link_is(&l, dn) && !found) {
			strbuf_addch(out, '[');
			/* "LDAP://dn" as it was written */
			strbuf_add(out, l.start + 1,
				   (size_t)(l.dn + l.dn_len - l.start - 1));
			strbuf_addf(out, ";%u]", options);
			found = true;
			continue;
		}
		if (link_is(&l, dn))
			continue;
		strbuf_add(out, l.start, l.len);
	}
	return 0;
}

int ipam_gplink_remove(struct strbuf *out, const char *gplink, const char *dn)
{
	struct link l;
	const char *p = gplink ? gplink : "";

	while (next_link(&p, &l))
		if (!link_is(&l, dn))
			strbuf_add(out, l.start, l.len);
	return 0;
}

/* ---- folder order ------------------------------------------------------- */

/* The folder ACE Samba maps ace to; 0 when it maps to none. */
static int fs_ace_of(struct ipam_ace *out, const struct ipam_ace *ace)
{
	struct ipam_sd *one = ipam_sd_new(), *fs = NULL;
	int found = 0;

	one->control = IPAM_SD_DACL_PRESENT | IPAM_SD_SELF_RELATIVE;
	if (ipam_sd_ace_add(one, ace) >= 0 && !ipam_sd_to_fs(&fs, one) &&
	    fs->dacl && fs->dacl->count == 1) {
		*out = fs->dacl->aces[0];
		out->extra = NULL;
		out->extra_len = 0;
		found = 1;
	}
	ipam_sd_free(fs);
	ipam_sd_free(one);
	return found;
}

int ipam_gpo_fold_duplicates(struct ipam_sd *ds)
{
	struct ipam_acl *acl = ds->dacl;
	struct ipam_ace *mapped;
	bool *maps;
	size_t n, k = 0;
	int folded = 0;

	if (!acl || !acl->count)
		return 0;
	n = acl->count;
	mapped = xcalloc(n, sizeof(*mapped));
	maps = xcalloc(n, sizeof(*maps));
	for (size_t i = 0; i < n; i++)
		maps[i] = !(acl->aces[i].flags & IPAM_ACE_ID) &&
			  fs_ace_of(&mapped[i], &acl->aces[i]);
	for (size_t i = 0; i < n; i++) {
		struct ipam_ace *a = &acl->aces[i];
		bool drop = false;

		for (size_t j = 0; maps[i] && j < i && !drop; j++) {
			struct ipam_ace *b = &acl->aces[j];

			if (!maps[j] || !ipam_ace_equal(&mapped[i], &mapped[j]))
				continue;
			/* b takes a's rights; a goes. */
			b->mask |= a->mask;
			if (!(a->flags & IPAM_ACE_IO))
				b->flags &= (uint8_t)~IPAM_ACE_IO;
			b->flags |= a->flags & (IPAM_ACE_OI | IPAM_ACE_CI);
			drop = true;
		}
		if (drop) {
			ipam_ace_clear(a);
			maps[i] = false;
			folded++;
			continue;
		}
		acl->aces[k] = *a;
		mapped[k] = mapped[i];
		maps[k] = maps[i];
		k++;
	}
	acl->count = k;
	free(maps);
	free(mapped);
	return folded;
}

int ipam_gpo_order_like_folder(struct ipam_sd *ds, const struct ipam_sd *fs)
{
	struct ipam_acl *acl = ds->dacl;
	struct ipam_ace *mapped, *out;
	bool *used, *maps;
	size_t n, k = 0;

	if (!acl || !acl->count || !fs->dacl)
		return 0;
	n = acl->count;
	mapped = xcalloc(n ? n : 1, sizeof(*mapped));
	used = xcalloc(n ? n : 1, sizeof(*used));
	maps = xcalloc(n ? n : 1, sizeof(*maps));
	out = xcalloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		maps[i] = fs_ace_of(&mapped[i], &acl->aces[i]);
	for (size_t f = 0; f < fs->dacl->count; f++)
		for (size_t i = 0; i < n; i++)
			if (maps[i] && !used[i] &&
			    ipam_ace_equal(&mapped[i], &fs->dacl->aces[f])) {
				out[k++] = acl->aces[i];
				used[i] = true;
				break;
			}
	for (size_t i = 0; i < n; i++)
		if (!used[i])
			out[k++] = acl->aces[i];
	memcpy(acl->aces, out, n * sizeof(*out));
	free(out);
	free(maps);
	free(used);
	free(mapped);
	return 0;
}

/* ---- session ------------------------------------------------------------ */

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

static int read_first(struct ipam_gpo_session *s, char **out, const char *base,
		      enum ipam_ldapconn_scope scope, const char *filter,
		      const char *attr, bool bin_sid)
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
	ipam_gpo_mark(&mark, d->ipam_server.value, d->gpo_prefix.value,
		      s->o.source);
	s->mark = strbuf_detach(&mark, NULL);
	rc = ipam_connect_ldap(&s->ldap, dom);
	if (rc) {
		rc = ipam_error_prefix(rc, "%s", dom->name);
		goto fail;
	}
	s->dc = uri_host(ipam_ldapconn_uri(s->ldap));
	s->domain_dn = xstrdup(ipam_ldapconn_default_nc(s->ldap));
	rc = read_first(s, &s->domain_sid, s->domain_dn, IPAM_LDAPCONN_BASE,
			"(objectClass=*)", "objectSid", true);
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

		rc = read_first(s, &s->netbios, base, IPAM_LDAPCONN_ONELEVEL, f.buf,
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
	undo_release(s);
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

/* ---- read side ---------------------------------------------------------- */

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
	if (s &&
	    !strncmp(s, IPAM_GPO_MARK_PREFIX, strlen(IPAM_GPO_MARK_PREFIX)))
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

static int read_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	static const char *const attrs[] = {"objectSid", "adminDescription",
					    "groupType", "member", NULL};
	struct group_ctx c = {st, 0};
	int rc;

	rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
			      "(&(objectClass=group)(sAMAccountName=" GROUP_NAME
			      "))",
			      attrs, group_cb, &c);
	if (rc)
		return rc;
	st->ipamug.owned = ipam_gpo_mark_owned(st->ipamug.mark, st->ipam_server,
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

/* The computer account of fqdn (or sAMAccountName): its DN and SID. */
static int find_computer(struct ipam_gpo_session *s, const char *name,
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
	rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE, f.buf,
			      attrs, dn_sid_cb, &c);
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

static struct ipam_ace dns_ace(const struct ipam_sid *sid)
{
	struct ipam_ace a = {0};

	a.type = IPAM_ACE_ALLOWED;
	a.flags = IPAM_ACE_CI;
	a.mask = DNS_ACE_MASK;
	a.sid = *sid;
	return a;
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
			      "(objectSid=" ELR_SID ")", attrs, members_cb, st);
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
			a = dns_ace(&g);
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

/* Readers, appliers, editors, filtering and whether the DACL is as
 * ipamctl wants it (AU read without apply, IPAMUG may edit). */
static void decode_dacl(struct ipam_gpo_obs *g, const struct ipam_gpo_state *st,
			const char *const *editor_sids, size_t nr_editors)
{
	const struct ipam_acl *acl = g->sd ? g->sd->dacl : NULL;
	struct ipam_gpo_trustees explicit_apply = {0};
	bool ipamug_edit = false;
	size_t editors_ok = 0;

	g->au_read = g->au_apply = false;
	ipam_gpo_trustees_release(&g->readers);
	ipam_gpo_trustees_release(&g->appliers);
	ipam_gpo_trustees_release(&g->editors);
	ipam_gpo_trustees_release(&g->filtering);
	for (size_t i = 0; acl && i < acl->count; i++) {
		const struct ipam_ace *a = &acl->aces[i];
		char *sid;

		if (a->type != IPAM_ACE_ALLOWED &&
		    a->type != IPAM_ACE_ALLOWED_OBJECT)
			continue;
		sid = sid_text(&a->sid);
		if (a->type == IPAM_ACE_ALLOWED &&
		    (a->mask & IPAM_SD_MASK_GPO_READ) ==
			    IPAM_SD_MASK_GPO_READ) {
			ipam_gpo_trustees_add(&g->readers, sid);
			if (!strcmp(sid, AU_SID))
				g->au_read = true;
		}
		if (a->type == IPAM_ACE_ALLOWED_OBJECT &&
		    (a->mask & IPAM_SD_MASK_CR) && a->has_object_type &&
		    !memcmp(&a->object_type, &ipam_guid_apply_group_policy,
			    sizeof(a->object_type))) {
			ipam_gpo_trustees_add(&g->appliers, sid);
			if (!(a->flags & IPAM_ACE_ID))
				ipam_gpo_trustees_add(&explicit_apply, sid);
			if (!strcmp(sid, AU_SID))
				g->au_apply = true;
		}
		if (a->type == IPAM_ACE_ALLOWED &&
		    (a->mask & IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY) ==
			    IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY &&
		    !(a->flags & IPAM_ACE_IO)) {
			ipam_gpo_trustees_add(&g->editors, sid);
			if (st->ipamug.sid && !strcmp(sid, st->ipamug.sid))
				ipamug_edit = true;
		}
		free(sid);
	}
	/* Filtering: explicit apply and read, AU aside.  An inherited
	 * apply grant is not the GPO's own and no filter edit can take it
	 * out. */
	for (size_t i = 0; i < explicit_apply.nr; i++) {
		const char *sid = explicit_apply.v[i].sid;

		if (!strcmp(sid, AU_SID))
			continue;
		for (size_t j = 0; j < g->readers.nr; j++)
			if (!strcmp(g->readers.v[j].sid, sid)) {
				ipam_gpo_trustees_add(&g->filtering, sid);
				break;
			}
	}
	ipam_gpo_trustees_release(&explicit_apply);
	for (size_t i = 0; i < nr_editors; i++)
		for (size_t j = 0; j < g->editors.nr; j++)
			if (!strcmp(g->editors.v[j].sid, editor_sids[i])) {
				editors_ok++;
				break;
			}
	g->dacl_current = g->au_read && !g->au_apply && ipamug_edit &&
			  editors_ok == nr_editors;
	g->dacl_size = 0;
	if (acl) {
		struct strbuf sb = STRBUF_INIT;

		/* The ACL header's size: what AclSize must hold. */
		if (!ipam_sd_write(&sb, g->sd) && sb.len >= 20) {
			const unsigned char *p = (const unsigned char *)sb.buf;
			size_t off = (size_t)p[16] | (size_t)p[17] << 8 |
				     (size_t)p[18] << 16 | (size_t)p[19] << 24;

			if (off + 4 <= sb.len)
				g->dacl_size = (size_t)p[off + 2] |
					       (size_t)p[off + 3] << 8;
		}
		strbuf_release(&sb);
	}
}

/* Normalise SDDL (aliases resolved) so that smbcacls' and ours compare. */
static char *norm_sddl(const struct ipam_gpo_session *s, const char *sddl)
{
	struct ipam_sd *sd = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (ipam_sd_from_sddl(&sd, sddl, &s->dom_sid) ||
	    ipam_sd_to_sddl(&sb, sd, NULL)) {
		ipam_sd_free(sd);
		strbuf_release(&sb);
		return xstrdup(sddl);
	}
	ipam_sd_free(sd);
	return strbuf_detach(&sb, NULL);
}

static void add_missing(struct ipam_gpo_obs *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_missing(struct ipam_gpo_obs *g, const char *fmt, ...)
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
		add_missing(g, "CN=User");
	if (!c.machine)
		add_missing(g, "CN=Machine");
	return 0;
}

static void check_folder(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
{
	struct ipam_sd *fs = NULL;
	struct strbuf want = STRBUF_INIT, path = STRBUF_INIT, got = STRBUF_INIT;
	char *a, *b;

	free(g->folder_want);
	free(g->folder_sddl);
	g->folder_want = g->folder_sddl = NULL;
	g->folder_consistent = false;
	if (ipam_sd_to_fs(&fs, g->sd) || ipam_sd_to_sddl(&want, fs, NULL))
		goto out;
	g->folder_want = strbuf_detach(&want, NULL);
	gpo_path(&path, s, g->guid, NULL);
	free(g->folder_error);
	g->folder_error = NULL;
	if (ipam_smb_acl_get(&got, s->smb, path.buf)) {
		g->folder_error = xstrdup(ipam_error_last());
		goto out;
	}
	g->folder_sddl = strbuf_detach(&got, NULL);
	a = norm_sddl(s, g->folder_sddl);
	b = norm_sddl(s, g->folder_want);
	g->folder_consistent = !strcmp(a, b);
	free(a);
	free(b);
out:
	ipam_sd_free(fs);
	strbuf_release(&want);
	strbuf_release(&path);
	strbuf_release(&got);
}

/* Parse "YYYY-MM-DD HH:MM:SS" (UTC) */
static int parse_changed(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *e;

	if (!s)
		return -1;
	e = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!e || *e)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Render file i of the set again with the given changed time. */
static int render_one(struct strbuf *out, const char *path,
		      enum ipam_pol_gpo kind, const struct ipam_gpp_params *p)
{
	if (strstr(path, "Groups.xml"))
		return ipam_gpp_groups_xml(out, kind, p);
	if (strstr(path, "NetworkShares.xml"))
		return ipam_gpp_shares_xml(out, kind, p);
	if (strstr(path, "Registry.xml"))
		return ipam_gpp_registry_xml(out, kind, p);
	return IPAM_ENOTFOUND;
}

/*
 * What the settings files should hold, with each preferences file's
 * "changed" stamp taken from the file in SYSVOL when it has one (so that
 * rendering again gives the same bytes); present[] gets what is there.
 */
static int render_settings(struct ipam_gpo_session *s,
			   const struct ipam_gpo_state *st,
			   const struct ipam_gpo_obs *g,
			   struct ipam_pol_set *set, struct strbuf *present,
			   bool *is_present)
{
	struct ipam_gpp_params p = {0};
	struct strbuf name = STRBUF_INIT;
	int rc;

	strbuf_addf(&name, "%s\\%s", s->netbios, GROUP_NAME);
	p.gpo_guid = g->guid;
	p.ipamug_name = name.buf;
	p.ipamug_sid = st->ipamug.sid;
	p.changed = time(NULL);
	rc = ipam_pol_render_set(set, g->kind, &p);
	for (size_t i = 0; !rc && i < set->nr; i++) {
		struct ipam_pol_file *f = &set->files[i];
		struct strbuf path = STRBUF_INIT;
		struct ipam_gpp_file x = {0};
		time_t t;

		is_present[i] = false;
		gpo_path(&path, s, g->guid, f->path);
		rc = ipam_smb_read(&present[i], s->smb, path.buf, MAX_SETTING);
		strbuf_release(&path);
		if (rc == IPAM_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		is_present[i] = true;
		if (!ipam_gpp_parse(&x, present[i].buf, present[i].len) &&
		    x.nr && !parse_changed(x.items[0].changed, &t)) {
			p.changed = t;
			strbuf_reset(&f->data);
			rc = render_one(&f->data, f->path, g->kind, &p);
			if (!rc)
				ipam_sha256(f->sha256, f->data.buf,
					    f->data.len);
		}
		ipam_gpp_file_release(&x);
	}
	strbuf_release(&name);
	return rc;
}

/* Bounds on the walk of a GPO folder for files nobody declared. */
#define FOREIGN_MAX_DEPTH   8
#define FOREIGN_MAX_ENTRIES 2000
#define SECEDIT_PATH	    "Machine\\Microsoft\\Windows NT\\SecEdit\\GptTmpl.inf"

/* What a security template put into an IPAM GPO does to IPAM's access. */
static char *secedit_note(struct ipam_gpo_session *s,
			  const struct ipam_gpo_state *st,
			  const struct ipam_gpo_obs *g, const char *rel)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT,
		      note = STRBUF_INIT, name = STRBUF_INIT;
	struct ipam_inf inf;

	gpo_path(&path, s, g->guid, rel);
	strbuf_addstr(&note, "security template");
	if (ipam_smb_read(&data, s->smb, path.buf, IPAM_INF_MAX + 1) ||
	    ipam_inf_parse(&inf, data.buf, data.len)) {
		strbuf_addf(&note, ", unreadable: %s", ipam_error_last());
	} else {
		size_t at;

		strbuf_addf(&name, "%s\\%s", s->netbios, GROUP_NAME);
		strbuf_addstr(&note, ": ");
		at = note.len;
		ipam_inf_ipam_conflicts(&note, &inf, st->ipamug.sid, name.buf);
		if (note.len == at)
			strbuf_addstr(&note, "leaves IPAM's groups alone");
		ipam_inf_release(&inf);
	}
	strbuf_release(&path);
	strbuf_release(&data);
	strbuf_release(&name);
	return strbuf_detach(&note, NULL);
}

/*
 * Collect the files under rel (NULL: the GPO folder) that are neither
 * GPT.INI nor one of set's: a GPO ipamctl owns holds what its desired
 * state declares and nothing else.
 */
static int walk_foreign(struct ipam_gpo_session *s,
			const struct ipam_gpo_state *st, struct ipam_gpo_obs *g,
			const struct ipam_pol_set *set, const char *rel,
			int depth, size_t *seen, size_t *alloc)
{
	struct ipam_smb_dirent *d = NULL;
	struct strbuf path = STRBUF_INIT;
	size_t nr = 0;
	int rc;

	gpo_path(&path, s, g->guid, rel);
	rc = ipam_smb_list(&d, &nr, s->smb, path.buf);
	strbuf_release(&path);
	if (rc == IPAM_ENOTFOUND)
		return 0; /* no folder yet (a half-made GPO), or just removed */
	if (rc)
		return rc;
	*seen += nr;
	if (*seen > FOREIGN_MAX_ENTRIES || depth > FOREIGN_MAX_DEPTH)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "%s: SYSVOL folder of %s holds more than "
				    "%d entries or %d levels",
				    s->dom->name, g->name, FOREIGN_MAX_ENTRIES,
				    FOREIGN_MAX_DEPTH);
	for (size_t i = 0; !rc && i < nr; i++) {
		char *child = rel ? xasprintf("%s\\%s", rel, d[i].name)
				  : xstrdup(d[i].name);
		bool known = !rel && !strcasecmp(d[i].name, "GPT.INI");

		for (size_t f = 0; !known && f < set->nr; f++)
			known = !strcasecmp(child, set->files[f].path);
		if (d[i].is_dir) {
			rc = walk_foreign(s, st, g, set, child, depth + 1, seen,
					  alloc);
		} else if (!known) {
			struct ipam_gpo_foreign *x;

			ALLOC_GROW(g->foreign, g->nr_foreign + 1, *alloc);
			x = &g->foreign[g->nr_foreign++];
			x->note = !strcasecmp(child, SECEDIT_PATH)
					  ? secedit_note(s, st, g, child)
					  : NULL;
			x->path = child;
			child = NULL;
		}
		free(child);
	}
	ipam_smb_dirents_free(d, nr);
	return rc;
}

#define MAX_CONTENT_LINES 256

static void content_add(struct ipam_gpo_file_state *f, struct strbuf *line)
{
	if (f->nr_content >= MAX_CONTENT_LINES) {
		strbuf_reset(line);
		return;
	}
	f->content =
		xrealloc(f->content, (f->nr_content + 2) * sizeof(*f->content));
	f->content[f->nr_content++] = strbuf_detach(line, NULL);
	f->content[f->nr_content] = NULL;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* A settings file's content as lines, from its bytes: Registry.pol
 * entries, preferences items.  A file that does not parse says so. */
static void read_content(struct ipam_gpo_file_state *f, const struct strbuf *b)
{
	struct strbuf line = STRBUF_INIT;
	size_t plen = strlen(f->path);

	if (plen > 4 && !strcasecmp(f->path + plen - 4, ".pol")) {
		struct ipam_pol pol = IPAM_POL_INIT;

		if (ipam_pol_parse(&pol, b->buf, b->len)) {
			strbuf_addf(&line, "unreadable: %s", ipam_error_last());
			content_add(f, &line);
		}
		for (size_t i = 0; i < pol.nr; i++) {
			const struct ipam_pol_entry *e = &pol.entries[i];
			bool fw = !strcasecmp(e->key, IPAM_POL_FW_KEY);

			if (fw)
				strbuf_addf(&line, "firewall rule %s",
					    e->value);
			else
				strbuf_addf(&line, "%s\\%s", e->key, e->value);
			if ((e->type == IPAM_POL_SZ ||
			     e->type == IPAM_POL_EXPAND_SZ) &&
			    !fw) {
				strbuf_addstr(&line, " = ");
				ipam_pol_entry_string(&line, e);
			} else if (e->type == IPAM_POL_DWORD && e->size == 4) {
				strbuf_addf(&line, " = %u",
					    (unsigned)e->data[0] |
						    (unsigned)e->data[1] << 8 |
						    (unsigned)e->data[2] << 16 |
						    (unsigned)e->data[3] << 24);
			}
			content_add(f, &line);
		}
		ipam_pol_release(&pol);
	} else {
		struct ipam_gpp_file x = {0};

		if (ipam_gpp_parse(&x, b->buf, b->len)) {
			strbuf_addf(&line, "unreadable: %s", ipam_error_last());
			content_add(f, &line);
		}
		for (size_t i = 0; i < x.nr; i++) {
			const struct ipam_gpp_item *it = &x.items[i];

			if (it->tag && !strcmp(it->tag, "Group")) {
				strbuf_addf(
					&line, "group %s (%s%s):",
					or_dash(it->group_name),
					or_dash(it->action),
					it->delete_all_users ||
							it->delete_all_groups
						? ", clears members"
						: "");
				for (size_t m = 0; m < it->nr_members; m++)
					strbuf_addf(
						&line, " %s %s%s%s%s",
						or_dash(it->members[m].action),
						or_dash(it->members[m].name),
						it->members[m].sid ? " (" : "",
						it->members[m].sid
							? it->members[m].sid
							: "",
						it->members[m].sid ? ")" : "");
			} else if (it->tag && !strcmp(it->tag, "NetShare")) {
				strbuf_addf(&line, "share %s (%s): %s",
					    or_dash(it->name),
					    or_dash(it->action),
					    or_dash(it->share_path));
			} else if (it->tag && !strcmp(it->tag, "Registry")) {
				strbuf_addf(&line,
					    "registry %s\\%s\\%s (%s): %s",
					    or_dash(it->hive), or_dash(it->key),
					    or_dash(it->value_name),
					    or_dash(it->action),
					    or_dash(it->value));
			} else {
				strbuf_addf(&line, "%s %s", or_dash(it->tag),
					    or_dash(it->name));
			}
			content_add(f, &line);
		}
		ipam_gpp_file_release(&x);
	}
	strbuf_release(&line);
}

static int read_settings(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 struct ipam_gpo_obs *g)
{
	struct ipam_pol_set set = {0};
	struct strbuf present[IPAM_POL_MAX_FILES];
	bool is_present[IPAM_POL_MAX_FILES] = {0};
	struct strbuf ext = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_init(&present[i]);
	g->settings_current = false;
	for (size_t i = 0; i < g->nr_files; i++)
		ipam_gpo_file_content_release(&g->files[i]);
	g->nr_files = 0;
	rc = ipam_gpt_ext_for_gpo(&ext, g->kind);
	if (!rc)
		g->ext_current = !strcmp(ext.buf, g->machine_ext);
	if (!rc && st->ipamug.sid)
		rc = render_settings(s, st, g, &set, present, is_present);
	if (rc)
		goto out;
	if (!st->ipamug.sid) {
		/* Nothing to compare with: report what is there. */
		rc = ipam_pol_render_set(
			&set, g->kind,
			&(struct ipam_gpp_params){g->guid, "X\\IPAMUG",
						  "S-1-5-32-0", 0});
		for (size_t i = 0; !rc && i < set.nr; i++) {
			struct strbuf path = STRBUF_INIT;

			gpo_path(&path, s, g->guid, set.files[i].path);
			rc = ipam_smb_read(&present[i], s->smb, path.buf,
					   MAX_SETTING);
			strbuf_release(&path);
			is_present[i] = !rc;
			if (rc == IPAM_ENOTFOUND)
				rc = 0;
		}
		if (rc)
			goto out;
	}
	g->settings_current = st->ipamug.sid != NULL;
	for (size_t i = 0; i < set.nr; i++) {
		struct ipam_gpo_file_state *f = &g->files[g->nr_files++];
		f->path = set.files[i].path;
		f->present = is_present[i];
		f->sha256[0] = '\0';
		if (f->present) {
			ipam_sha256_hex(f->sha256, present[i].buf,
					present[i].len);
			read_content(f, &present[i]);
		}
		f->current = st->ipamug.sid && f->present &&
			     present[i].len == set.files[i].data.len &&
			     !memcmp(present[i].buf, set.files[i].data.buf,
				     present[i].len);
		if (!f->current)
			g->settings_current = false;
	}
	ipam_gpo_obs_release_foreign(g);
	{
		size_t seen = 0, alloc = 0;

		rc = walk_foreign(s, st, g, &set, NULL, 0, &seen, &alloc);
	}
	if (g->nr_foreign)
		g->settings_current = false;
out:
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_release(&present[i]);
	ipam_pol_set_release(&set);
	strbuf_release(&ext);
	return rc;
}

/* Fill in the SYSVOL side of an existing GPO. */
static int read_sysvol(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
		       struct ipam_gpo_obs *g)
{
	struct strbuf path = STRBUF_INIT, ini = STRBUF_INIT;
	int rc, exists = 0;

	rc = need_smb(s);
	if (rc)
		return rc;
	/* No folder at all (a run killed before making it): a missing
	 * part, to be made with its ACL, not an unreadable one. */
	gpo_path(&path, s, g->guid, NULL);
	rc = ipam_smb_exists(&exists, s->smb, path.buf);
	strbuf_reset(&path);
	if (!rc && !exists) {
		add_missing(g, "SYSVOL folder");
		strbuf_release(&path);
		return read_settings(s, st, g);
	}
	gpo_path(&path, s, g->guid, GPT_INI);
	rc = ipam_smb_read(&ini, s->smb, path.buf, 64 * 1024);
	if (!rc)
		g->gpt_present =
			!ipam_gpt_ini_parse(&g->gpt_version, ini.buf, ini.len);
	else if (rc == IPAM_ENOTFOUND)
		rc = 0;
	strbuf_release(&path);
	strbuf_release(&ini);
	for (size_t i = 0; !rc && i < 2; i++) {
		static const char *const dirs[] = {"Machine", "User"};
		struct strbuf p = STRBUF_INIT;

		gpo_path(&p, s, g->guid, dirs[i]);
		rc = ipam_smb_exists(&exists, s->smb, p.buf);
		if (!rc && !exists)
			add_missing(g, "SYSVOL %s\\ folder", dirs[i]);
		strbuf_release(&p);
	}
	if (!rc)
		rc = read_settings(s, st, g);
	if (!rc)
		check_folder(s, g);
	return rc;
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
		if (v && !strncmp(v, IPAM_GPO_MARK_PREFIX,
				  strlen(IPAM_GPO_MARK_PREFIX)))
			g->mark = xstrdup(v);
		g->owned = ipam_gpo_mark_owned(g->mark, c->st->ipam_server,
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

static int read_gpo_sd(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
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

/* SIDs of the delegated users (sAMAccountName), for the DACL. */
static int delegated_sids(struct ipam_gpo_session *s, char ***out, size_t *nr)
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
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
				      f.buf, attrs, dn_sid_cb, &c);
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

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static const struct {
	const char *sid, *name;
} well_known[] = {
	{"S-1-1-0", "Everyone"},
	{"S-1-3-0", "CREATOR OWNER"},
	{"S-1-5-9", "ENTERPRISE DOMAIN CONTROLLERS"},
	{"S-1-5-11", "Authenticated Users"},
	{"S-1-5-18", "SYSTEM"},
};

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
						IPAM_LDAPCONN_SUBTREE, f.buf, attrs,
						names_cb, &c);
					strbuf_reset(&f);
					in_batch = 0;
				}
			}
	}
	if (!rc && in_batch) {
		strbuf_addch(&f, ')');
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
				      f.buf, attrs, names_cb, &c);
	}
	strbuf_release(&f);
	return rc;
}

static int decode_all(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	char **eds = NULL;
	size_t nr = 0;
	int rc;

	rc = delegated_sids(s, &eds, &nr);
	if (rc)
		return rc;
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		if (st->gpos[k].sd)
			decode_dacl(&st->gpos[k], st, (const char *const *)eds,
				    nr);
	free_strv(eds, nr);
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
		st->gpos[k].kind = all_kinds[k];
		st->gpos[k].name = xasprintf("%s%s", st->prefix,
					     ipam_pol_gpo_suffix(all_kinds[k]));
	}
	rc = find_computer(s, st->ipam_server, &st->server_dn, &st->server_sid,
			   &count);
	if (rc)
		goto out;
	st->server_found = st->server_dn != NULL;
	rc = read_group(s, st);
	if (!rc)
		rc = read_dc_grants(s, st);
	if (!rc)
		rc = read_first(s, &st->gplink, s->domain_dn, IPAM_LDAPCONN_BASE,
				"(objectClass=*)", "gPLink", false);
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
		rc = read_gpo_sd(s, g);
		if (!rc)
			rc = read_children(s, g);
		if (!rc)
			rc = read_sysvol(s, st, g);
	}
	if (!rc)
		rc = decode_all(s, st);
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

/* ---- state as a tree ------------------------------------------------------
 */

static struct ipam_node *str_or_null(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

static struct ipam_node *trustees_node(const struct ipam_gpo_trustees *t)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

	for (size_t i = 0; i < t->nr; i++) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "sid", t->v[i].sid);
		ipam_node_set(m, "name", str_or_null(t->v[i].name));
		ipam_node_push(seq, m);
	}
	return seq;
}

static struct ipam_node *gpo_node(const struct ipam_gpo_obs *g)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *x, *files;

	ipam_node_set_str(m, "name", g->name);
	ipam_node_set_str(m, "role", role_names[g->kind]);
	ipam_node_set(m, "exists", ipam_node_bool(g->exists));
	if (g->same_name > 1)
		ipam_node_set(m, "sameName",
			      ipam_node_int((long long)g->same_name));
	if (!g->exists)
		return m;
	ipam_node_set_str(m, "guid", g->guid);
	ipam_node_set_str(m, "dn", g->dn);
	ipam_node_set(m, "owned", ipam_node_bool(g->owned));
	ipam_node_set(m, "mark", str_or_null(g->mark));
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "ad", ipam_node_int(g->version));
	ipam_node_set(x, "gptIni",
		      g->gpt_present ? ipam_node_int(g->gpt_version)
				     : ipam_node_new(IPAM_NODE_NULL));
	ipam_node_set(m, "version", x);
	ipam_node_set(m, "flags", ipam_node_int(g->flags));
	ipam_node_set(m, "functionalityVersion",
		      ipam_node_int(g->functionality_version));
	ipam_node_set_str(m, "machineExtensionNames", g->machine_ext);
	ipam_node_set(m, "extensionsCurrent", ipam_node_bool(g->ext_current));
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "linked", ipam_node_bool(g->linked));
	ipam_node_set(x, "enabled",
		      ipam_node_bool(g->linked && !(g->link_options & 1)));
	ipam_node_set(x, "enforced",
		      ipam_node_bool(g->linked && (g->link_options & 2)));
	ipam_node_set(m, "link", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "read", ipam_node_bool(g->au_read));
	ipam_node_set(x, "apply", ipam_node_bool(g->au_apply));
	ipam_node_set(m, "authenticatedUsers", x);
	ipam_node_set(m, "read", trustees_node(&g->readers));
	ipam_node_set(m, "apply", trustees_node(&g->appliers));
	ipam_node_set(m, "edit", trustees_node(&g->editors));
	ipam_node_set(m, "filtering", trustees_node(&g->filtering));
	ipam_node_set(m, "daclCurrent", ipam_node_bool(g->dacl_current));
	ipam_node_set(m, "daclSize", ipam_node_int((long long)g->dacl_size));
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "sddl", str_or_null(g->folder_sddl));
	ipam_node_set(x, "expected", str_or_null(g->folder_want));
	ipam_node_set(x, "consistent", ipam_node_bool(g->folder_consistent));
	ipam_node_set(m, "folderAcl", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "current", ipam_node_bool(g->settings_current));
	files = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < g->nr_files; i++) {
		struct ipam_node *f = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(f, "path", g->files[i].path);
		ipam_node_set(f, "present",
			      ipam_node_bool(g->files[i].present));
		ipam_node_set(f, "current",
			      ipam_node_bool(g->files[i].current));
		ipam_node_set(f, "sha256",
			      g->files[i].present
				      ? ipam_node_str(g->files[i].sha256)
				      : ipam_node_new(IPAM_NODE_NULL));
		{
			struct ipam_node *c = ipam_node_new(IPAM_NODE_SEQ);

			for (size_t j = 0; j < g->files[i].nr_content; j++)
				ipam_node_push(
					c,
					ipam_node_str(g->files[i].content[j]));
			ipam_node_set(f, "content", c);
		}
		ipam_node_push(files, f);
	}
	ipam_node_set(x, "files", files);
	files = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < g->nr_foreign; i++) {
		struct ipam_node *f = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(f, "path", g->foreign[i].path);
		ipam_node_set(f, "note", str_or_null(g->foreign[i].note));
		ipam_node_push(files, f);
	}
	ipam_node_set(x, "foreign", files);
	ipam_node_set(m, "settings", x);
	return m;
}

struct ipam_node *ipam_gpo_state_to_node(const struct ipam_gpo_state *st)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *x, *seq;

	ipam_node_set_str(m, "domain", st->domain);
	ipam_node_set_str(m, "dn", st->domain_dn);
	ipam_node_set_str(m, "sid", st->domain_sid);
	ipam_node_set_str(m, "netbios", st->netbios);
	ipam_node_set_str(m, "dc", st->dc);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(x, "name", st->ipam_server);
	ipam_node_set(x, "found", ipam_node_bool(st->server_found));
	ipam_node_set(x, "dn", str_or_null(st->server_dn));
	ipam_node_set(x, "sid", str_or_null(st->server_sid));
	ipam_node_set(m, "ipamServer", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "exists", ipam_node_bool(st->ipamug.exists));
	ipam_node_set(x, "owned", ipam_node_bool(st->ipamug.owned));
	ipam_node_set(x, "dn", str_or_null(st->ipamug.dn));
	ipam_node_set(x, "sid", str_or_null(st->ipamug.sid));
	ipam_node_set(x, "mark", str_or_null(st->ipamug.mark));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < st->ipamug.nr_members; i++)
		ipam_node_push(seq, ipam_node_str(st->ipamug.members[i]));
	ipam_node_set(x, "members", seq);
	ipam_node_set(x, "holdsIpamServer",
		      ipam_node_bool(st->ipamug.has_server));
	ipam_node_set(m, "ipamug", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "eventLogReaders", ipam_node_bool(st->elr_member));
	ipam_node_set(x, "dnsContainer", str_or_null(st->dns_container));
	ipam_node_set(x, "dnsAcl", ipam_node_bool(st->dns_ace));
	ipam_node_set(m, "dcGrants", x);
	ipam_node_set_str(m, "gplink", st->gplink);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		ipam_node_push(seq, gpo_node(&st->gpos[k]));
	ipam_node_set(m, "gpos", seq);
	return m;
}

/* ---- write side ------------------------------------------------------------
 */

static struct ipam_gpo_obs *obs_of(struct ipam_gpo_state *st,
				   enum ipam_pol_gpo kind)
{
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		if (st->gpos[k].kind == kind)
			return &st->gpos[k];
	return &st->gpos[0];
}

static int modify1(struct ipam_gpo_session *s, const char *dn, int op,
		   const char *attr, const char *value)
{
	struct ipam_ldapconn_value v = val(value ? value : "");
	struct ipam_ldapconn_mod m = {op, attr, &v, value ? 1 : 0};

	return ipam_ldapconn_modify(s->ldap, dn, &m, 1);
}

/* Add a member; already a member is fine. */
static int add_member(struct ipam_gpo_session *s, const char *group,
		      const char *member, bool *added)
{
	int rc = modify1(s, group, IPAM_LDAPCONN_MOD_ADD, "member", member);

	*added = rc == 0;
	if (rc == IPAM_EEXISTS) {
		ipam_error_clear();
		return 0;
	}
	return rc;
}

int ipam_gpo_ensure_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	bool added;
	int rc;

	if (!st->ipamug.exists) {
		char *dn = xasprintf("CN=" GROUP_NAME ",CN=Users,%s",
				     s->domain_dn);

		report(s, IPAM_GPO_CREATE, "group " GROUP_NAME " (%s)", dn);
		if (s->o.dry_run) {
			st->ipamug.exists = st->ipamug.owned = true;
			st->ipamug.dn = dn;
			st->ipamug.mark = xstrdup(s->mark);
		} else {
			struct ipam_ldapconn_value oc = val("group"),
					       sam = val(GROUP_NAME),
					       gt = val(GROUP_TYPE),
					       desc = val(
						       "IPAM Users Group: "
						       "IPAM servers' access "
						       "(managed by ipamctl)"),
					       mark = val(s->mark);
			struct ipam_ldapconn_mod mods[] = {
				{IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc, 1},
				{IPAM_LDAPCONN_MOD_ADD, "sAMAccountName", &sam, 1},
				{IPAM_LDAPCONN_MOD_ADD, "groupType", &gt, 1},
				{IPAM_LDAPCONN_MOD_ADD, "description", &desc, 1},
				{IPAM_LDAPCONN_MOD_ADD, "adminDescription", &mark,
				 1},
			};

			rc = ipam_ldapconn_add(s->ldap, dn, mods, 5);
			if (!rc)
				journal(s, UNDO_LDAP_TREE, dn, NULL);
			free(dn);
			if (!rc)
				rc = read_group(s, st);
			if (!rc && !st->ipamug.sid)
				rc = ipam_error_set(IPAM_EIO,
						    "%s: " GROUP_NAME
						    " created but not found",
						    s->dom->name);
			if (rc)
				return rc;
		}
	} else if (!st->ipamug.owned && s->o.adopt) {
		report(s, IPAM_GPO_UPDATE,
		       "group " GROUP_NAME ": ownership mark (adopted)");
		if (!s->o.dry_run) {
			rc = modify1(s, st->ipamug.dn, IPAM_LDAPCONN_MOD_REPLACE,
				     "adminDescription", s->mark);
			if (rc)
				return rc;
		}
		free(st->ipamug.mark);
		st->ipamug.mark = xstrdup(s->mark);
		st->ipamug.owned = true;
	} else if (st->ipamug.group_type != -2147483640L) {
		log_warn("%s: %s is not a universal security group "
			 "(groupType %ld)",
			 s->dom->name, st->ipamug.dn, st->ipamug.group_type);
	}
	if (!st->server_found) {
		log_warn("%s: the IPAM server %s has no computer account in "
			 "this domain; " GROUP_NAME
			 " stays without it (add it through a trust as a "
			 "foreign security principal)",
			 s->dom->name, st->ipam_server);
		return 0;
	}
	if (st->ipamug.has_server)
		return 0;
	report(s, IPAM_GPO_CREATE, "%s in group " GROUP_NAME, st->server_dn);
	st->ipamug.has_server = true;
	if (s->o.dry_run)
		return 0;
	rc = add_member(s, st->ipamug.dn, st->server_dn, &added);
	if (!rc && added)
		journal(s, UNDO_MEMBER, st->ipamug.dn, st->server_dn);
	return rc;
}

static char *new_guid(void)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return NULL;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xasprintf("{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
			 "%02X%02X%02X%02X%02X%02X}",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
			 b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int write_gpt_ini(struct ipam_gpo_session *s, const char *guid,
			 uint32_t version)
{
	struct strbuf path = STRBUF_INIT, ini = STRBUF_INIT;
	int rc;

	gpo_path(&path, s, guid, GPT_INI);
	rc = ipam_gpt_ini_write(&ini, version);
	if (!rc)
		rc = ipam_smb_write(s->smb, path.buf, ini.buf, ini.len);
	strbuf_release(&path);
	strbuf_release(&ini);
	return rc;
}

/* The GPO folder with Machine\ and User\ (existing ones are fine). */
static int make_dirs(struct ipam_gpo_session *s, const char *guid)
{
	static const char *const dirs[] = {"Machine", "User"};
	int rc = need_smb(s);

	for (size_t i = 0; !rc && i < 2; i++) {
		struct strbuf p = STRBUF_INIT;

		gpo_path(&p, s, guid, dirs[i]);
		rc = ipam_smb_mkdir_p(s->smb, p.buf);
		strbuf_release(&p);
	}
	return rc;
}

static int make_folder(struct ipam_gpo_session *s, const char *guid,
		       uint32_t version)
{
	int rc = make_dirs(s, guid);

	if (!rc)
		rc = write_gpt_ini(s, guid, version);
	return rc;
}

static int create_gpo(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
{
	char *guid = new_guid(), *dn, *child = NULL, *fsp;
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!guid)
		return ipam_error_set(IPAM_EIO, "no random GUID: %s",
				      "getrandom failed");
	dn = xasprintf("CN=%s,CN=Policies,CN=System,%s", guid, s->domain_dn);
	fsp = xasprintf("\\\\%s\\SysVol\\%s\\Policies\\%s", s->dom->name,
			s->dom->name, guid);
	report(s, IPAM_GPO_CREATE, "GPO %s %s", g->name, guid);
	if (s->o.dry_run) {
		g->exists = g->planned = g->owned = true;
		g->guid = guid;
		g->dn = dn;
		free(fsp);
		return 0;
	}
	{
		struct ipam_ldapconn_value oc = val("groupPolicyContainer"),
				       name = val(g->name), path_v = val(fsp),
				       zero = val("0"), two = val("2"),
				       mark = val(s->mark);
		struct ipam_ldapconn_mod mods[] = {
			{IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc, 1},
			{IPAM_LDAPCONN_MOD_ADD, "displayName", &name, 1},
			{IPAM_LDAPCONN_MOD_ADD, "gPCFileSysPath", &path_v, 1},
			{IPAM_LDAPCONN_MOD_ADD, "flags", &zero, 1},
			{IPAM_LDAPCONN_MOD_ADD, "versionNumber", &zero, 1},
			{IPAM_LDAPCONN_MOD_ADD, "gPCFunctionalityVersion", &two, 1},
			{IPAM_LDAPCONN_MOD_ADD, "adminDescription", &mark, 1},
		};

		rc = ipam_ldapconn_add(s->ldap, dn, mods, 7);
	}
	if (!rc)
		journal(s, UNDO_LDAP_TREE, dn, NULL);
	for (size_t i = 0; !rc && i < 2; i++) {
		struct ipam_ldapconn_value oc = val("container");
		struct ipam_ldapconn_mod m = {IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc,
					  1};

		free(child);
		child = xasprintf("CN=%s,%s", i ? "Machine" : "User", dn);
		rc = ipam_ldapconn_add(s->ldap, child, &m, 1);
	}
	if (!rc) {
		gpo_path(&path, s, guid, NULL);
		rc = need_smb(s);
		if (!rc) {
			journal(s, UNDO_SMB_TREE, path.buf, NULL);
			rc = make_folder(s, guid, 0);
		}
	}
	free(child);
	free(fsp);
	strbuf_release(&path);
	if (rc) {
		free(guid);
		free(dn);
		return rc;
	}
	g->exists = g->owned = true;
	g->same_name = 1;
	g->guid = guid;
	g->dn = dn;
	g->mark = xstrdup(s->mark);
	g->machine_ext = xstrdup("");
	g->version = g->gpt_version = 0;
	g->gpt_present = true;
	g->functionality_version = 2;
	g->flags = 0;
	return read_gpo_sd(s, g);
}

int ipam_gpo_ensure_gpo(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = obs_of(st, kind);
	int rc;

	if (g->same_name > 1)
		return ipam_error_set(IPAM_ECONFLICT,
				      "%s: %zu GPOs are named %s; ipamctl "
				      "cannot tell which one is its own: "
				      "rename or delete the others",
				      s->dom->name, g->same_name, g->name);
	if (!g->exists)
		return create_gpo(s, g);
	if (!g->owned) {
		if (!s->o.adopt)
			return ipam_error_set(
				IPAM_ECONFLICT,
				"%s: GPO %s %s was not created by ipamctl for "
				"%s (no ownership mark in adminDescription): "
				"rename or delete it, or take it over with "
				"provision --adopt",
				s->dom->name, g->name, g->guid,
				st->ipam_server);
		report(s, IPAM_GPO_UPDATE, "GPO %s: ownership mark (adopted)",
		       g->name);
		if (!s->o.dry_run) {
			rc = modify1(s, g->dn, IPAM_LDAPCONN_MOD_REPLACE,
				     "adminDescription", s->mark);
			if (rc)
				return rc;
		}
		free(g->mark);
		g->mark = xstrdup(s->mark);
		g->owned = true;
	}
	if (g->planned || (g->gpt_present && !g->missing))
		return 0;
	/* A run killed while creating it left parts out: complete it. */
	report(s, IPAM_GPO_UPDATE, "GPO %s: completed (%s%s%s)", g->name,
	       g->missing ? g->missing : "",
	       g->missing && !g->gpt_present ? ", " : "",
	       g->gpt_present ? "" : "GPT.INI");
	if (s->o.dry_run)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		struct ipam_ldapconn_value oc = val("container");
		struct ipam_ldapconn_mod m = {IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc,
					  1};
		char *child =
			xasprintf("CN=%s,%s", i ? "Machine" : "User", g->dn);

		rc = ipam_ldapconn_add(s->ldap, child, &m, 1);
		free(child);
		if (rc == IPAM_EEXISTS) {
			ipam_error_clear();
			rc = 0;
		}
		if (rc)
			return rc;
	}
	rc = g->gpt_present ? make_dirs(s, g->guid)
			    : make_folder(s, g->guid, g->version);
	if (rc)
		return rc;
	free(g->missing);
	g->missing = NULL;
	if (!g->gpt_present) {
		g->gpt_present = true;
		g->gpt_version = g->version;
	}
	return 0;
}

/* "Machine\\Preferences\\Groups\\Groups.xml" -> its folder, '/'-separated */
static void parent_dir(struct strbuf *out, const struct ipam_gpo_session *s,
		       const char *guid, const char *rel)
{
	const char *slash = strrchr(rel, '\\');
	char *dir = xasprintf("%.*s", slash ? (int)(slash - rel) : 0, rel);

	gpo_path(out, s, guid, dir);
	free(dir);
}

int ipam_gpo_ensure_settings(struct ipam_gpo_session *s,
			     struct ipam_gpo_state *st, enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = obs_of(st, kind);
	struct ipam_pol_set set = {0};
	struct strbuf present[IPAM_POL_MAX_FILES];
	bool is_present[IPAM_POL_MAX_FILES] = {0}, write[IPAM_POL_MAX_FILES];
	struct strbuf ext = STRBUF_INIT, what = STRBUF_INIT;
	bool any = false, bump, fix_attrs;
	uint32_t newv;
	int rc;

	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_init(&present[i]);
	if (!g->exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no GPO %s",
				      s->dom->name, g->name);
	if (g->planned || !st->ipamug.sid) {
		report(s, IPAM_GPO_UPDATE,
		       "GPO %s settings: written, version %u -> %u", g->name,
		       (unsigned)g->version,
		       (unsigned)ipam_gpt_bump_machine(g->version));
		return 0;
	}
	rc = need_smb(s);
	if (!rc)
		rc = ipam_gpt_ext_for_gpo(&ext, kind);
	if (!rc)
		rc = render_settings(s, st, g, &set, present, is_present);
	if (rc)
		goto out;
	for (size_t i = 0; i < set.nr; i++) {
		write[i] = !is_present[i] ||
			   present[i].len != set.files[i].data.len ||
			   memcmp(present[i].buf, set.files[i].data.buf,
				  present[i].len);
		if (write[i]) {
			strbuf_addf(&what, "%s%s", any ? ", " : "",
				    set.files[i].path);
			any = true;
		}
	}
	/* What nobody declared goes: the GPO holds its desired state. */
	for (size_t i = 0; i < g->nr_foreign; i++) {
		strbuf_addf(&what, "%sremove %s", any ? ", " : "",
			    g->foreign[i].path);
		any = true;
	}
	bump = any || strcmp(ext.buf, g->machine_ext) || !g->gpt_present ||
	       g->gpt_version != g->version;
	fix_attrs = g->functionality_version != 2 || (g->flags & 2);
	if (!bump && !fix_attrs)
		goto out;
	newv = g->version;
	if (bump)
		newv = ipam_gpt_bump_machine(
			g->gpt_present && g->gpt_version > g->version
				? g->gpt_version
				: g->version);
	if (!any && bump)
		strbuf_addstr(&what, strcmp(ext.buf, g->machine_ext)
					     ? "extension names"
					     : "GPT.INI version");
	if (fix_attrs)
		strbuf_addf(&what, "%scomputer side enabled, functionality 2",
			    what.len ? ", " : "");
	report(s, IPAM_GPO_UPDATE, "GPO %s settings: %s; version %u -> %u",
	       g->name, what.buf, (unsigned)g->version, (unsigned)newv);
	if (s->o.dry_run)
		goto out;
	for (size_t i = 0; !rc && i < set.nr; i++) {
		struct strbuf p = STRBUF_INIT;

		if (!write[i])
			continue;
		parent_dir(&p, s, g->guid, set.files[i].path);
		rc = ipam_smb_mkdir_p(s->smb, p.buf);
		strbuf_reset(&p);
		gpo_path(&p, s, g->guid, set.files[i].path);
		if (!rc)
			rc = ipam_smb_write(s->smb, p.buf,
					    set.files[i].data.buf,
					    set.files[i].data.len);
		strbuf_release(&p);
	}
	for (size_t i = 0; !rc && i < g->nr_foreign; i++) {
		struct strbuf p = STRBUF_INIT;

		gpo_path(&p, s, g->guid, g->foreign[i].path);
		rc = ipam_smb_remove(s->smb, p.buf);
		if (rc == IPAM_ENOTFOUND)
			rc = 0;
		strbuf_release(&p);
	}
	if (!rc) {
		char num[16], flags[24];
		struct ipam_ldapconn_value vn, ex = val(ext.buf), two = val("2"),
					   fl;
		struct ipam_ldapconn_mod mods[4];
		size_t n = 0;

		snprintf(num, sizeof(num), "%u", (unsigned)newv);
		snprintf(flags, sizeof(flags), "%ld", g->flags & ~2L);
		vn = val(num);
		fl = val(flags);
		mods[n++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_REPLACE,
						   "versionNumber", &vn, 1};
		mods[n++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_REPLACE,
						   "gPCMachineExtensionNames",
						   &ex, ext.len ? 1 : 0};
		if (fix_attrs) {
			mods[n++] = (struct ipam_ldapconn_mod){
				IPAM_LDAPCONN_MOD_REPLACE,
				"gPCFunctionalityVersion", &two, 1};
			mods[n++] = (struct ipam_ldapconn_mod){
				IPAM_LDAPCONN_MOD_REPLACE, "flags", &fl, 1};
		}
		rc = ipam_ldapconn_modify(s->ldap, g->dn, mods, n);
	}
	if (!rc && bump)
		rc = write_gpt_ini(s, g->guid, newv);
	if (rc)
		goto out;
	g->version = g->gpt_version = newv;
	g->gpt_present = true;
	free(g->machine_ext);
	g->machine_ext = xstrdup(ext.buf);
	g->ext_current = true;
	g->functionality_version = 2;
	g->flags &= ~2L;
	g->settings_current = true;
	for (size_t i = 0; i < g->nr_files; i++) {
		g->files[i].current = g->files[i].present = true;
		ipam_gpo_file_content_release(&g->files[i]); /* what was read is gone */
	}
	ipam_gpo_obs_release_foreign(g);
out:
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_release(&present[i]);
	ipam_pol_set_release(&set);
	strbuf_release(&ext);
	strbuf_release(&what);
	return rc;
}

/* Replace the domain head's gPLink old -> new (compare-and-swap). */
static int write_gplink(struct ipam_gpo_session *s, const char *old,
			const char *new)
{
	struct ipam_ldapconn_value o = val(old), n = val(new);
	struct ipam_ldapconn_mod mods[2];
	size_t k = 0;

	if (old && *old)
		mods[k++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_DELETE,
						   "gPLink", &o, 1};
	if (new &&*new)
		mods[k++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_ADD, "gPLink",
						   &n, 1};
	if (!k)
		return 0;
	return ipam_ldapconn_modify(s->ldap, s->domain_dn, mods, k);
}

int ipam_gpo_ensure_link(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = obs_of(st, kind);
	struct strbuf nl = STRBUF_INIT;
	unsigned opts;
	int rc;

	if (!g->exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no GPO %s",
				      s->dom->name, g->name);
	if (g->linked && !(g->link_options & 1))
		return 0;
	opts = g->linked ? g->link_options & ~1u : 0;
	rc = ipam_gplink_set(&nl, st->gplink, g->dn, opts);
	if (rc)
		return rc;
	if (g->linked)
		report(s, IPAM_GPO_UPDATE, "link of GPO %s on %s: enabled",
		       g->name, s->domain_dn);
	else
		report(s, IPAM_GPO_CREATE, "link of GPO %s on %s", g->name,
		       s->domain_dn);
	if (!s->o.dry_run) {
		rc = write_gplink(s, st->gplink, nl.buf);
		if (rc) {
			strbuf_release(&nl);
			return rc;
		}
		if (!g->linked)
			journal(s, UNDO_LINK, g->dn, NULL);
	}
	free(st->gplink);
	st->gplink = strbuf_detach(&nl, NULL);
	g->linked = true;
	g->link_options = opts;
	return 0;
}

static struct ipam_ace plain_ace(uint32_t mask, const struct ipam_sid *sid)
{
	struct ipam_ace a = {0};

	a.type = IPAM_ACE_ALLOWED;
	a.flags = IPAM_ACE_CI;
	a.mask = mask;
	a.sid = *sid;
	return a;
}

/* The DACL's AclSize as ipam_sd_write lays it out. */
static size_t dacl_bytes(const struct ipam_sd *sd)
{
	size_t n = 8;

	for (size_t i = 0; sd->dacl && i < sd->dacl->count; i++) {
		const struct ipam_ace *a = &sd->dacl->aces[i];
		size_t sz = 8 + 8 + 4 * (size_t)a->sid.sub_count;

		if (a->type == IPAM_ACE_ALLOWED_OBJECT ||
		    a->type == IPAM_ACE_DENIED_OBJECT ||
		    a->type == IPAM_ACE_AUDIT_OBJECT ||
		    a->type == IPAM_ACE_ALARM_OBJECT)
			sz += 4 + 16 * (a->has_object_type +
					a->has_inherited_object_type);
		sz += a->extra_len;
		n += (sz + 3) & ~(size_t)3;
	}
	return n;
}

/* Set the folder ACL to the mapping of sd; sd's ACEs then put in the
 * order smbcacls left the folder's. */
static int sync_folder(struct ipam_gpo_session *s, struct ipam_gpo_obs *g,
		       struct ipam_sd *sd)
{
	struct ipam_sd *fs = NULL, *applied_sd = NULL;
	struct strbuf sddl = STRBUF_INIT, applied = STRBUF_INIT,
		      path = STRBUF_INIT;
	int rc;

	rc = need_smb(s);
	if (!rc)
		rc = ipam_sd_to_fs(&fs, sd);
	if (!rc)
		rc = ipam_sd_to_sddl(&sddl, fs, NULL);
	gpo_path(&path, s, g->guid, NULL);
	if (!rc)
		rc = ipam_smb_acl_set(&applied, s->smb, path.buf, sddl.buf);
	if (!rc)
		rc = ipam_sd_from_sddl(&applied_sd, applied.buf, &s->dom_sid);
	if (!rc)
		rc = ipam_gpo_order_like_folder(sd, applied_sd);
	if (!rc) {
		free(g->folder_sddl);
		g->folder_sddl = strbuf_detach(&applied, NULL);
	}
	ipam_sd_free(fs);
	ipam_sd_free(applied_sd);
	strbuf_release(&sddl);
	strbuf_release(&applied);
	strbuf_release(&path);
	return rc;
}

/* Filter the computers of sids in (add) or out; *changed counts those
 * whose entries changed. */
static int filter_edit(struct ipam_sd *sd, const char *const *sids, size_t nr,
		       bool add, size_t *changed)
{
	struct ipam_sid sid;
	int n;

	for (size_t i = 0; i < nr; i++) {
		if (ipam_sid_parse(&sid, sids[i], NULL))
			return ipam_error_prefix(IPAM_EINVAL, "filtering");
		n = add ? ipam_sd_filter_add(sd, &sid)
			: ipam_sd_filter_remove(sd, &sid);
		if (n < 0)
			return n;
		if (n > 0)
			(*changed)++;
	}
	return 0;
}

/*
 * Samba keeps a folder's ACL in its security.NTACL extended attribute:
 * ext4 holds about 4 KiB of attributes per file (some three dozen
 * filtered computers), XFS and tmpfs 64 KiB.  Say so when the DC refuses
 * the folder ACL of a grown DACL (nothing was written to AD yet).
 */
static int folder_refused(int rc, const struct ipam_gpo_session *s,
			  const struct ipam_gpo_obs *g,
			  const struct ipam_sd *sd)
{
	const char *e = ipam_error_last();
	size_t n = sd->dacl ? sd->dacl->count : 0;

	if (strstr(e, "DISK_FULL"))
		return ipam_error_prefix(
			IPAM_ELIMIT,
			"%s: GPO %s: %s could not store the SYSVOL folder ACL "
			"of %zu ACEs: Samba keeps it in an extended attribute, "
			"which its file system limits (ext4: about 4 KiB, some "
			"36 filtered computers; XFS or tmpfs: 64 KiB); nothing "
			"was written to AD",
			s->dom->name, g->name, s->dc, n);
	if (strstr(e, "ACCESS_DENIED") && dacl_bytes(sd) > 32768)
		return ipam_error_prefix(
			IPAM_ELIMIT,
			"%s: GPO %s: %s refused a SYSVOL folder ACL of %zu "
			"ACEs "
			"(%zu bytes in AD), at Samba's 64 KiB limit for ACLs "
			"stored in extended attributes; nothing was written to "
			"AD",
			s->dom->name, g->name, s->dc, n, dacl_bytes(sd));
	return rc;
}

int ipam_gpo_ensure_dacl(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind,
			 struct ipam_gpo_filter_change *fc)
{
	const char *const *add_sids = fc ? fc->add_sids : NULL;
	const char *const *remove_sids = fc ? fc->remove_sids : NULL;
	size_t nr_add = fc ? fc->nr_add : 0, nr_remove = fc ? fc->nr_remove : 0;
	struct ipam_gpo_obs *g = obs_of(st, kind);
	struct ipam_sd *sd = NULL;
	struct strbuf what = STRBUF_INIT, before = STRBUF_INIT,
		      after = STRBUF_INIT;
	struct ipam_sid au, sid;
	struct ipam_ace a;
	char **eds = NULL;
	size_t nr_eds = 0, added = 0, removed = 0, size;
	int rc, n;

	if (!g->exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no GPO %s",
				      s->dom->name, g->name);
	if (g->planned || !st->ipamug.sid) {
		report(s, IPAM_GPO_UPDATE,
		       "GPO %s security: Authenticated Users read "
		       "only, " GROUP_NAME " may edit%s",
		       g->name,
		       nr_add || nr_remove ? ", filtering changed" : "");
		return 0;
	}
	rc = delegated_sids(s, &eds, &nr_eds);
	if (rc)
		return rc;
	sd = ipam_sd_dup(g->sd);
	ipam_sid_parse(&au, AU_SID, NULL);
	if (ipam_sd_ace_remove(sd, IPAM_ACE_ALLOWED_OBJECT, &au,
			       &ipam_guid_apply_group_policy) > 0)
		strbuf_addstr(&what, "Authenticated Users loses apply");
	a = plain_ace(IPAM_SD_MASK_GPO_READ, &au);
	if (ipam_sd_ace_add(sd, &a) > 0)
		strbuf_addf(&what, "%sAuthenticated Users may read",
			    what.len ? ", " : "");
	for (size_t i = 0; !rc && i <= nr_eds; i++) {
		const char *t = i < nr_eds ? eds[i] : st->ipamug.sid;

		rc = ipam_sid_parse(&sid, t, NULL);
		if (rc)
			break;
		a = plain_ace(IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY, &sid);
		n = ipam_sd_ace_add(sd, &a);
		if (n > 0)
			strbuf_addf(&what,
				    "%s%s may edit, delete, modify "
				    "security",
				    what.len ? ", " : "",
				    i < nr_eds ? s->d->delegated_users[i].value
					       : GROUP_NAME);
		rc = n < 0 ? n : 0;
	}
	if (!rc)
		rc = filter_edit(sd, add_sids, nr_add, true, &added);
	if (!rc)
		rc = filter_edit(sd, remove_sids, nr_remove, false, &removed);
	if (rc)
		goto out;
	n = ipam_gpo_fold_duplicates(sd);
	if (n > 0)
		strbuf_addf(&what,
			    "%s%d ACE%s folded into another that maps to the "
			    "same folder ACE",
			    what.len ? ", " : "", n, n == 1 ? "" : "s");
	size = dacl_bytes(sd);
	if (size > IPAM_GPO_ACL_MAX) {
		size_t base = dacl_bytes(g->sd);

		rc = ipam_error_set(
			IPAM_ELIMIT,
			"%s: GPO %s: the DACL would need %zu bytes, over the "
			"64 KiB (%u-byte) limit of an AD ACL; with %zu bytes "
			"in use, about %zu more computers fit (2 ACEs, ~92 "
			"bytes each): filter by group instead, or split the "
			"servers; nothing was written",
			s->dom->name, g->name, size, IPAM_GPO_ACL_MAX, base,
			base < IPAM_GPO_ACL_MAX ? (IPAM_GPO_ACL_MAX - base) / 92
						: 0);
		goto out;
	}
	if (fc) {
		fc->added = added;
		fc->removed = removed;
	}
	if (added || removed)
		strbuf_addf(&what, "%sfiltering +%zu -%zu",
			    what.len ? ", " : "", added, removed);
	if (!what.len && (g->folder_consistent || g->folder_error))
		goto out;
	if (!what.len)
		strbuf_addstr(&what, "SYSVOL folder ACL made consistent");
	report(s, IPAM_GPO_UPDATE, "GPO %s security: %s", g->name, what.buf);
	if (s->o.dry_run)
		goto out;
	rc = sync_folder(s, g, sd);
	if (rc)
		rc = folder_refused(rc, s, g, sd);
	if (!rc)
		rc = ipam_sd_write(&before, g->sd);
	if (!rc)
		rc = ipam_sd_write(&after, sd);
	if (!rc && (before.len != after.len ||
		    memcmp(before.buf, after.buf, before.len)))
		rc = ipam_ldapconn_write_sd(s->ldap, g->dn, after.buf, after.len,
					IPAM_LDAPCONN_SD_DACL);
	if (!rc)
		rc = read_gpo_sd(s, g);
	if (rc)
		goto out;
	decode_dacl(g, st, (const char *const *)eds, nr_eds);
	{
		struct ipam_sd *fs = NULL;
		struct strbuf want = STRBUF_INIT;

		if (!ipam_sd_to_fs(&fs, g->sd) &&
		    !ipam_sd_to_sddl(&want, fs, NULL)) {
			char *x = norm_sddl(s, want.buf),
			     *y = norm_sddl(s, g->folder_sddl);

			g->folder_consistent = !strcmp(x, y);
			free(g->folder_want);
			g->folder_want = strbuf_detach(&want, NULL);
			free(x);
			free(y);
		}
		strbuf_release(&want);
		ipam_sd_free(fs);
	}
out:
	free_strv(eds, nr_eds);
	ipam_sd_free(sd);
	strbuf_release(&what);
	strbuf_release(&before);
	strbuf_release(&after);
	return rc;
}

/* Read the DACL of dn, apply fn, write it back when it changed. */
static int edit_dacl(struct ipam_gpo_session *s, const char *dn,
		     const struct ipam_ace *ace, bool add, bool *changed)
{
	struct strbuf raw = STRBUF_INIT, out = STRBUF_INIT;
	struct ipam_sd *sd = NULL;
	int rc, n = 0;

	*changed = false;
	rc = ipam_ldapconn_read_sd(&raw, s->ldap, dn, IPAM_LDAPCONN_SD_DACL);
	if (!rc)
		rc = ipam_sd_parse(&sd, raw.buf, raw.len);
	if (rc)
		goto out;
	if (add) {
		n = ipam_sd_ace_add(sd, ace);
	} else {
		long i;

		while ((i = ipam_sd_ace_find(sd, ace)) >= 0 && sd->dacl) {
			ipam_ace_clear(&sd->dacl->aces[i]);
			memmove(&sd->dacl->aces[i], &sd->dacl->aces[i + 1],
				(sd->dacl->count - (size_t)i - 1) *
					sizeof(*sd->dacl->aces));
			sd->dacl->count--;
			n++;
		}
	}
	if (n <= 0) {
		rc = n;
		goto out;
	}
	/* Inherited ACEs are the server's to compute when not protected. */
	if (!(sd->control & IPAM_SD_DACL_PROTECTED) && sd->dacl) {
		size_t k = 0;

		for (size_t i = 0; i < sd->dacl->count; i++) {
			if (sd->dacl->aces[i].flags & IPAM_ACE_ID)
				ipam_ace_clear(&sd->dacl->aces[i]);
			else
				sd->dacl->aces[k++] = sd->dacl->aces[i];
		}
		sd->dacl->count = k;
	}
	rc = ipam_sd_write(&out, sd);
	if (!rc)
		rc = ipam_ldapconn_write_sd(s->ldap, dn, out.buf, out.len,
					IPAM_LDAPCONN_SD_DACL);
	*changed = rc == 0;
out:
	ipam_sd_free(sd);
	strbuf_release(&raw);
	strbuf_release(&out);
	return rc;
}

int ipam_gpo_ensure_dc_grants(struct ipam_gpo_session *s,
			      struct ipam_gpo_state *st)
{
	struct ipam_sid g;
	struct ipam_ace a;
	bool done;
	int rc;

	if (!st->ipamug.exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no " GROUP_NAME,
				      s->dom->name);
	if (!st->elr_member) {
		if (!st->elr_dn)
			return ipam_error_set(IPAM_ENOTFOUND,
					      "%s: no built-in Event Log "
					      "Readers group (" ELR_SID ")",
					      s->dom->name);
		report(s, IPAM_GPO_CREATE, GROUP_NAME " in %s", st->elr_dn);
		if (!s->o.dry_run) {
			rc = add_member(s, st->elr_dn, st->ipamug.dn, &done);
			if (rc)
				return rc;
			if (done)
				journal(s, UNDO_MEMBER, st->elr_dn,
					st->ipamug.dn);
		}
		st->elr_member = true;
	}
	if (!st->dns_container) {
		log_info("%s: no CN=MicrosoftDNS,CN=System: no DNS ACL to "
			 "grant",
			 s->dom->name);
		return 0;
	}
	if (st->dns_ace)
		return 0;
	report(s, IPAM_GPO_CREATE, "read for " GROUP_NAME " on %s",
	       st->dns_container);
	st->dns_ace = true;
	if (s->o.dry_run)
		return 0;
	rc = ipam_sid_parse(&g, st->ipamug.sid, NULL);
	if (rc)
		return rc;
	a = dns_ace(&g);
	rc = edit_dacl(s, st->dns_container, &a, true, &done);
	if (!rc && done)
		journal(s, UNDO_DNS_ACE, st->dns_container, st->ipamug.sid);
	return rc;
}

/* ---- removal --------------------------------------------------------------
 */

static int refuse_foreign(const struct ipam_gpo_session *s, const char *what)
{
	return ipam_error_set(IPAM_ECONFLICT,
			      "%s: %s was not created by ipamctl (no ownership "
			      "mark): not removed",
			      s->dom->name, what);
}

int ipam_gpo_remove_link(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = obs_of(st, kind);
	struct strbuf nl = STRBUF_INIT;
	int rc = 0;

	if (!g->exists || !g->linked)
		return 0;
	if (!g->owned)
		return refuse_foreign(s, g->name);
	ipam_gplink_remove(&nl, st->gplink, g->dn);
	report(s, IPAM_GPO_DELETE, "link of GPO %s on %s", g->name,
	       s->domain_dn);
	if (!s->o.dry_run)
		rc = write_gplink(s, st->gplink, nl.buf);
	if (!rc) {
		free(st->gplink);
		st->gplink = strbuf_detach(&nl, NULL);
		g->linked = false;
	}
	strbuf_release(&nl);
	return rc;
}

int ipam_gpo_remove_gpo(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = obs_of(st, kind);
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!g->exists)
		return 0;
	if (!g->owned)
		return refuse_foreign(s, g->name);
	rc = ipam_gpo_remove_link(s, st, kind);
	if (rc)
		return rc;
	report(s, IPAM_GPO_DELETE, "GPO %s %s", g->name, g->guid);
	if (!s->o.dry_run) {
		gpo_path(&path, s, g->guid, NULL);
		rc = ipam_ldapconn_delete_tree(s->ldap, g->dn);
		if (!rc)
			rc = need_smb(s);
		if (!rc) {
			rc = ipam_smb_remove_tree(s->smb, path.buf);
			if (rc == IPAM_ENOTFOUND)
				rc = 0;
		}
		strbuf_release(&path);
		if (rc)
			return rc;
	}
	{
		enum ipam_pol_gpo k = g->kind;
		char *name = g->name;

		g->name = NULL;
		ipam_gpo_obs_release(g);
		memset(g, 0, sizeof(*g));
		g->kind = k;
		g->name = name;
	}
	return 0;
}

int ipam_gpo_remove_dc_grants(struct ipam_gpo_session *s,
			      struct ipam_gpo_state *st)
{
	struct ipam_sid g;
	struct ipam_ace a;
	bool done;
	int rc;

	if (!st->ipamug.exists)
		return 0;
	if (!st->ipamug.owned)
		return refuse_foreign(s, "the grants of " GROUP_NAME);
	if (st->elr_member) {
		report(s, IPAM_GPO_DELETE, GROUP_NAME " in %s", st->elr_dn);
		if (!s->o.dry_run) {
			rc = modify1(s, st->elr_dn, IPAM_LDAPCONN_MOD_DELETE,
				     "member", st->ipamug.dn);
			if (rc && rc != IPAM_ENOTFOUND)
				return rc;
		}
		st->elr_member = false;
	}
	if (st->dns_container && st->dns_ace) {
		report(s, IPAM_GPO_DELETE, "read for " GROUP_NAME " on %s",
		       st->dns_container);
		if (!s->o.dry_run) {
			rc = ipam_sid_parse(&g, st->ipamug.sid, NULL);
			if (rc)
				return rc;
			a = dns_ace(&g);
			rc = edit_dacl(s, st->dns_container, &a, false, &done);
			if (rc)
				return rc;
		}
		st->dns_ace = false;
	}
	return 0;
}

int ipam_gpo_remove_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	int rc;

	if (!st->ipamug.exists)
		return 0;
	if (!st->ipamug.owned)
		return refuse_foreign(s, GROUP_NAME);
	report(s, IPAM_GPO_DELETE, "group " GROUP_NAME " (%s)", st->ipamug.dn);
	if (!s->o.dry_run) {
		rc = ipam_ldapconn_delete(s->ldap, st->ipamug.dn);
		if (rc)
			return rc;
	}
	st->ipamug.exists = st->ipamug.owned = false;
	st->ipamug.has_server = st->elr_member = st->dns_ace = false;
	return 0;
}

/* ---- computers --------------------------------------------------------------
 */

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

int ipam_gpo_lookup_computers(struct ipam_gpo_session *s,
			      const char *const *names, size_t nr, char ***sids)
{
	static const char *const attrs[] = {"objectSid", "dNSHostName",
					    "sAMAccountName", NULL};
	char **v = xcalloc(nr ? nr : 1, sizeof(char *));
	int *hits = xcalloc(nr ? nr : 1, sizeof(int));
	int rc = 0;

	for (size_t i = 0; !rc && i < nr; i += LOOKUP_BATCH) {
		struct lookup_ctx c = {names + i,
				       nr - i < LOOKUP_BATCH ? nr - i
							     : LOOKUP_BATCH,
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
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
				      f.buf, attrs, lookup_cb, &c);
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
		rc = find_computer(s, names[i], &dn, &sid, &count);
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
		free_strv(v, nr);
		return rc;
	}
	*sids = v;
	return 0;
}

/* ---- provisioning
 * ------------------------------------------------------------ */

static const char *const undo_what[] = {
	[UNDO_LDAP_TREE] = "deleted",
	[UNDO_SMB_TREE] = "removed SYSVOL folder",
	[UNDO_MEMBER] = "group",
	[UNDO_LINK] = "unlinked",
	[UNDO_DNS_ACE] = "IPAMUG's ACE removed from",
};

static void undo_one(struct ipam_gpo_session *s, const struct undo *u)
{
	int rc = 0;

	switch (u->kind) {
	case UNDO_LDAP_TREE:
		rc = ipam_ldapconn_delete_tree(s->ldap, u->target);
		break;
	case UNDO_SMB_TREE:
		rc = need_smb(s);
		if (!rc)
			rc = ipam_smb_remove_tree(s->smb, u->target);
		break;
	case UNDO_MEMBER:
		rc = modify1(s, u->target, IPAM_LDAPCONN_MOD_DELETE, "member",
			     u->arg);
		break;
	case UNDO_LINK: {
		char *gl = NULL;
		struct strbuf nl = STRBUF_INIT;

		rc = read_first(s, &gl, s->domain_dn, IPAM_LDAPCONN_BASE,
				"(objectClass=*)", "gPLink", false);
		if (!rc && gl) {
			ipam_gplink_remove(&nl, gl, u->target);
			rc = write_gplink(s, gl, nl.buf);
		}
		free(gl);
		strbuf_release(&nl);
		break;
	}
	case UNDO_DNS_ACE: {
		struct ipam_sid g;
		struct ipam_ace a;
		bool done;

		rc = ipam_sid_parse(&g, u->arg, NULL);
		a = dns_ace(&g);
		if (!rc)
			rc = edit_dacl(s, u->target, &a, false, &done);
		break;
	}
	}
	if (rc && rc != IPAM_ENOTFOUND)
		log_error("%s: rollback: %s %s failed: %s", s->dom->name,
			  undo_what[u->kind], u->target, ipam_error_last());
	else
		log_notice("%s: rolled back: %s %s%s%s", s->dom->name,
			   undo_what[u->kind], u->target,
			   u->kind == UNDO_MEMBER ? " loses " : "",
			   u->kind == UNDO_MEMBER ? u->arg : "");
}

int ipam_gpo_provision(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
		       size_t *changes)
{
	size_t before = s->changes;
	int rc;

	undo_release(s);
	s->journal = !s->o.dry_run;
	rc = ipam_gpo_ensure_group(s, st);
	if (!rc)
		rc = ipam_gpo_ensure_dc_grants(s, st);
	for (size_t k = 0; !rc && k < IPAM_GPO_COUNT; k++) {
		rc = ipam_gpo_ensure_gpo(s, st, all_kinds[k]);
		if (!rc)
			rc = ipam_gpo_ensure_settings(s, st, all_kinds[k]);
		if (!rc)
			rc = ipam_gpo_ensure_dacl(s, st, all_kinds[k], NULL);
		if (!rc)
			rc = ipam_gpo_ensure_link(s, st, all_kinds[k]);
	}
	if (rc && s->nr_undo) {
		char *msg = xstrdup(ipam_error_last());

		log_notice("%s: rolling back the %zu step(s) this run made",
			   s->dom->name, s->nr_undo);
		for (size_t i = s->nr_undo; i-- > 0;)
			undo_one(s, &s->undo[i]);
		ipam_error_set(rc, "%s (rolled back)", msg);
		free(msg);
	}
	s->journal = false;
	undo_release(s);
	*changes = s->changes - before;
	return rc;
}
