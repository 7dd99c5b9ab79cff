/*
 * provisioning.filtering: group -- each GPO's filter group, the
 * domain-local security group <prefix>_<ROLE>_Servers whose members the
 * GPO applies to: read it (and its members, by their memberOf), make and
 * mark it, adopt it, delete it, and change its members in batched
 * `member` modifies (many values a write: the writes grow with the
 * changes divided by the batch, not with the servers).
 */
#include "gpo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "gpo_internal.h"
#include "gpogroup.h"
#include "gpomark.h"
#include "ldapconn.h"
#include "ldapesc.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

/* Values of one `member` modify: within the ldapconn bound and under the
 * 5,000 linked values Windows takes in one transaction. */
#define MEMBER_BATCH 1000

static const char *role_of(enum ipam_pol_gpo kind)
{
	/* "_DHCP" -> "DHCP" */
	return ipam_pol_gpo_suffix(kind) + 1;
}

/* ---- read ---------------------------------------------------------------- */

static int fgroup_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct ipam_gpo_fgroup *f = ctx;
	const struct ipam_ldapconn_value *v;
	struct strbuf sb = STRBUF_INIT;
	const char *s;
	size_t nr;

	if (f->exists)
		return 0;
	f->exists = true;
	free(f->dn);
	f->dn = xstrdup(e->dn);
	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (nr && !ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		f->sid = strbuf_detach(&sb, NULL);
	s = ipam_ldapconn_entry_str(e, "adminDescription");
	if (ipam_gpomark_is(s))
		f->mark = xstrdup(s);
	s = ipam_ldapconn_entry_str(e, "groupType");
	f->group_type = s ? strtol(s, NULL, 10) : 0;
	strbuf_release(&sb);
	return 0;
}

static int member_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct ipam_gpo_trustees *t = ctx;
	const struct ipam_ldapconn_value *v;
	const char *name = ipam_ldapconn_entry_str(e, "sAMAccountName");
	struct strbuf sb = STRBUF_INIT;
	size_t nr;

	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (nr && !ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len)) {
		ipam_gpo_trustees_add(t, sb.buf);
		if (name && !t->v[t->nr - 1].name)
			t->v[t->nr - 1].name = xstrdup(name);
	}
	strbuf_release(&sb);
	return 0;
}

/* The members of f, by the backlink each carries (memberOf): their SIDs
 * come with them, and a paged search has no ranged-retrieval limit. */
static int read_members(struct ipam_gpo_session *s, struct ipam_gpo_fgroup *f)
{
	static const char *const attrs[] = {"objectSid", "sAMAccountName",
					    NULL};
	struct strbuf flt = STRBUF_INIT;
	int rc;

	strbuf_addstr(&flt, "(memberOf=");
	ipam_ldapesc_filter(&flt, f->dn, strlen(f->dn));
	strbuf_addch(&flt, ')');
	rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
				  flt.buf, attrs, member_cb, &f->members);
	strbuf_release(&flt);
	f->members_read = rc == 0;
	return rc;
}

static char *fgroup_dn(const struct ipam_gpo_session *s, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "CN=");
	ipam_ldapesc_dn(&sb, name);
	strbuf_addf(&sb, ",%s,%s", ipam_desired_filter_group_ou(s->d),
		    s->domain_dn);
	return strbuf_detach(&sb, NULL);
}

static bool has_sid(const struct ipam_gpo_trustees *t, const char *sid)
{
	for (size_t i = 0; sid && i < t->nr; i++)
		if (!strcmp(t->v[i].sid, sid))
			return true;
	return false;
}

/* The group named f->name: where it is, its SID, mark and type. */
static int read_one(struct ipam_gpo_session *s, const struct ipam_gpo_state *st,
		    struct ipam_gpo_fgroup *f)
{
	static const char *const attrs[] = {"objectSid", "adminDescription",
					    "groupType", NULL};
	struct strbuf flt = STRBUF_INIT;
	int rc;

	strbuf_addstr(&flt, "(&(objectClass=group)(sAMAccountName=");
	ipam_ldapesc_filter(&flt, f->name, strlen(f->name));
	strbuf_addstr(&flt, "))");
	rc = ipam_ldapconn_search(s->ldap, s->domain_dn, IPAM_LDAPCONN_SUBTREE,
				  flt.buf, attrs, fgroup_cb, f);
	strbuf_release(&flt);
	f->owned = ipam_gpomark_owned(f->mark, st->ipam_server, st->prefix);
	return rc;
}

int ipam_gpo_read_fgroups(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	struct strbuf name = STRBUF_INIT;
	int rc = 0;

	for (size_t k = 0; !rc && k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_obs *g = &st->gpos[k];
		struct ipam_gpo_fgroup *f = &g->fgroup;

		strbuf_reset(&name);
		ipam_desired_filter_group_name(&name, s->d, role_of(g->kind));
		f->name = xstrdup(name.buf);
		f->dn = fgroup_dn(s, name.buf);
		rc = read_one(s, st, f);
		if (rc)
			break;
		f->ace = has_sid(&g->filtering, f->sid);
		if (f->exists && s->d->filtering == IPAM_FILTERING_GROUP)
			rc = read_members(s, f);
	}
	strbuf_release(&name);
	return rc;
}

/* ---- the group ----------------------------------------------------------- */

static int create_fgroup(struct ipam_gpo_session *s,
			 const struct ipam_gpo_state *st,
			 struct ipam_gpo_obs *g)
{
	struct ipam_gpo_fgroup *f = &g->fgroup;
	char gtype[24], *desc;
	int rc;

	ipam_gpo_report(s, IPAM_GPO_CREATE, "group %s (%s)", f->name, f->dn);
	if (s->o.dry_run) {
		f->exists = f->owned = f->planned = true;
		f->mark = xstrdup(s->mark);
		f->members_read = true;
		return 0;
	}
	snprintf(gtype, sizeof(gtype), "%ld", IPAM_GPOGROUP_LOCAL_TYPE);
	desc = xasprintf("Servers GPO %s applies to (managed by ipamctl)",
			 g->name);
	{
		struct ipam_ldapconn_value oc = ipam_gpo_val("group"),
					   sam = ipam_gpo_val(f->name),
					   gt = ipam_gpo_val(gtype),
					   de = ipam_gpo_val(desc),
					   mark = ipam_gpo_val(s->mark);
		struct ipam_ldapconn_mod mods[] = {
			{IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc, 1},
			{IPAM_LDAPCONN_MOD_ADD, "sAMAccountName", &sam, 1},
			{IPAM_LDAPCONN_MOD_ADD, "groupType", &gt, 1},
			{IPAM_LDAPCONN_MOD_ADD, "description", &de, 1},
			{IPAM_LDAPCONN_MOD_ADD, "adminDescription", &mark, 1},
		};

		rc = ipam_ldapconn_add(s->ldap, f->dn, mods, 5);
	}
	free(desc);
	if (rc)
		return ipam_error_prefix(rc, "%s: filter group %s",
					 s->dom->name, f->name);
	ipam_gpo_journal(s, UNDO_LDAP_TREE, f->dn, NULL);
	f->members_read = true;
	rc = read_one(s, st, f);
	if (!rc && !f->sid)
		rc = ipam_error_set(IPAM_EIO,
				    "%s: group %s created but not found",
				    s->dom->name, f->name);
	return rc;
}

int ipam_gpo_ensure_filter_group(struct ipam_gpo_session *s,
				 struct ipam_gpo_state *st,
				 enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	struct ipam_gpo_fgroup *f = &g->fgroup;

	if (!f->exists)
		return create_fgroup(s, st, g);
	if (f->owned)
		return 0;
	if (!s->o.adopt)
		return ipam_error_set(
			IPAM_ECONFLICT,
			"%s: group %s (%s) was not created by ipamctl (no "
			"ownership mark in adminDescription): rename or "
			"delete it, or take it over with provision --adopt",
			s->dom->name, f->name, f->dn);
	ipam_gpo_report(s, IPAM_GPO_UPDATE,
			"group %s: ownership mark (adopted)", f->name);
	if (!s->o.dry_run) {
		int rc = ipam_gpo_modify1(s, f->dn, IPAM_LDAPCONN_MOD_REPLACE,
					  "adminDescription", s->mark);

		if (rc)
			return rc;
	}
	free(f->mark);
	f->mark = xstrdup(s->mark);
	f->owned = true;
	return 0;
}

int ipam_gpo_remove_filter_group(struct ipam_gpo_session *s,
				 struct ipam_gpo_state *st,
				 enum ipam_pol_gpo kind)
{
	struct ipam_gpo_fgroup *f = &ipam_gpo_obs_of(st, kind)->fgroup;
	int rc;

	if (!f->exists)
		return 0;
	if (!f->owned)
		return ipam_error_set(IPAM_ECONFLICT,
				      "%s: group %s was not created by "
				      "ipamctl: left alone",
				      s->dom->name, f->name);
	ipam_gpo_report(s, IPAM_GPO_DELETE, "group %s (%s)", f->name, f->dn);
	if (!s->o.dry_run) {
		rc = ipam_ldapconn_delete(s->ldap, f->dn);
		if (rc && rc != IPAM_ENOTFOUND)
			return rc;
	}
	f->exists = f->owned = f->ace = false;
	ipam_gpo_trustees_release(&f->members);
	return 0;
}

/* ---- members ------------------------------------------------------------- */

/* One `member` modify of up to MEMBER_BATCH values; when the batch is
 * refused because one value is already there (or already gone), the
 * values one by one, that one skipped. */
static int modify_batch(struct ipam_gpo_session *s, const char *dn, int op,
			const char *const *sids, size_t n)
{
	struct ipam_ldapconn_value *v = xcalloc(n, sizeof(*v));
	char **vals = xcalloc(n, sizeof(*vals));
	int benign =
		op == IPAM_LDAPCONN_MOD_ADD ? IPAM_EEXISTS : IPAM_ENOTFOUND;
	int rc;

	for (size_t i = 0; i < n; i++) {
		vals[i] = xasprintf("<SID=%s>", sids[i]);
		v[i] = ipam_gpo_val(vals[i]);
	}
	{
		struct ipam_ldapconn_mod m = {op, "member", v, n};

		rc = ipam_ldapconn_modify(s->ldap, dn, &m, 1);
	}
	if (rc == benign) {
		ipam_error_clear();
		rc = 0;
		for (size_t i = 0; !rc && i < n; i++) {
			rc = ipam_gpo_modify1(s, dn, op, "member", vals[i]);
			if (rc == benign) {
				ipam_error_clear();
				rc = 0;
			}
		}
	}
	ipam_gpo_strv_free(vals, n);
	free(v);
	return rc;
}

static int change_members(struct ipam_gpo_session *s, struct ipam_gpo_fgroup *f,
			  int op, const char **sids, size_t n)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < n; i += MEMBER_BATCH)
		rc = modify_batch(s, f->dn, op, sids + i,
				  n - i < MEMBER_BATCH ? n - i : MEMBER_BATCH);
	return rc;
}

static void drop_member(struct ipam_gpo_trustees *t, const char *sid)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->v[i].sid, sid)) {
			free(t->v[i].sid);
			free(t->v[i].name);
			t->v[i] = t->v[--t->nr];
			return;
		}
}

int ipam_gpo_filter_members(struct ipam_gpo_session *s,
			    struct ipam_gpo_state *st, enum ipam_pol_gpo kind,
			    struct ipam_gpo_filter_change *fc)
{
	struct ipam_gpo_fgroup *f = &ipam_gpo_obs_of(st, kind)->fgroup;
	const char **add = xcalloc(fc->nr_add + 1, sizeof(*add));
	const char **rem = xcalloc(fc->nr_remove + 1, sizeof(*rem));
	size_t na = 0, nr = 0;
	int rc = 0;

	fc->added = fc->removed = 0;
	if (!f->exists) {
		rc = ipam_error_set(IPAM_ENOTFOUND,
				    "%s: no group %s (run ipamctl provision "
				    "first)",
				    s->dom->name, f->name);
		goto out;
	}
	if (!f->owned) {
		rc = ipam_error_set(IPAM_ECONFLICT,
				    "%s: group %s was not created by ipamctl: "
				    "its members are not ipamctl's to change",
				    s->dom->name, f->name);
		goto out;
	}
	/* Only what changes: a write of a value that is there (or of a
	 * removal that is done) would refuse the whole batch. */
	for (size_t i = 0; i < fc->nr_add; i++)
		if (!has_sid(&f->members, fc->add_sids[i])) {
			ipam_gpo_trustees_add(&f->members, fc->add_sids[i]);
			add[na++] = fc->add_sids[i];
		}
	for (size_t i = 0; i < fc->nr_remove; i++)
		if (has_sid(&f->members, fc->remove_sids[i])) {
			drop_member(&f->members, fc->remove_sids[i]);
			rem[nr++] = fc->remove_sids[i];
		}
	if (na || nr)
		ipam_gpo_report(s, IPAM_GPO_UPDATE,
				"group %s: %zu member%s in, %zu out", f->name,
				na, na == 1 ? "" : "s", nr);
	if (!s->o.dry_run && !f->planned) {
		rc = change_members(s, f, IPAM_LDAPCONN_MOD_ADD, add, na);
		if (!rc)
			rc = change_members(s, f, IPAM_LDAPCONN_MOD_DELETE, rem,
					    nr);
	}
	if (!rc) {
		fc->added = na;
		fc->removed = nr;
	}
out:
	free(add);
	free(rem);
	return rc;
}

int ipam_gpo_apply_members(struct ipam_gpo_session *s,
			   struct ipam_gpo_state *st, const struct ipam_plan *p,
			   const struct ipam_action *a)
{
	bool add = a->kind == IPAM_ACT_MEMBER_ADD;
	struct ipam_gpo_filter_change fc = {0};
	const char **sids;
	size_t n = 0;
	int rc;

	if (a->gpo < 0 || a->gpo >= IPAM_GPO_COUNT)
		return ipam_error_set(IPAM_EINVAL,
				      "%s: member change of no GPO", a->domain);
	if (s->members_done[a->gpo][add])
		return 0;
	s->members_done[a->gpo][add] = true;
	sids = xcalloc(p->nr + 1, sizeof(*sids));
	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *b = &p->actions[i];

		if (b->kind == a->kind && b->gpo == a->gpo && b->sid &&
		    !strcasecmp(b->domain, a->domain))
			sids[n++] = b->sid;
	}
	if (add) {
		fc.add_sids = sids;
		fc.nr_add = n;
	} else {
		fc.remove_sids = sids;
		fc.nr_remove = n;
	}
	rc = ipam_gpo_filter_members(s, st, (enum ipam_pol_gpo)a->gpo, &fc);
	free(sids);
	return rc;
}
