#include "diff.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff_internal.h"
#include "strbuf.h"
#include "banned.h"

static const char *const kind_names[IPAM_ACT_NR_KINDS] = {
	[IPAM_ACT_GROUP] = "group",
	[IPAM_ACT_GROUP_MEMBER] = "group_member",
	[IPAM_ACT_DC_GRANTS] = "dc_grants",
	[IPAM_ACT_GPO_CREATE] = "gpo_create",
	[IPAM_ACT_GPO_SETTINGS] = "gpo_settings",
	[IPAM_ACT_GPO_SECURITY] = "gpo_security",
	[IPAM_ACT_GPO_LINK] = "gpo_link",
	[IPAM_ACT_FILTER_ADD] = "filter_add",
	[IPAM_ACT_FILTER_REMOVE] = "filter_remove",
	[IPAM_ACT_MANAGEABILITY] = "manageability",
	[IPAM_ACT_PURGE] = "purge",
	[IPAM_ACT_GPO_UNLINK] = "gpo_unlink",
	[IPAM_ACT_GPO_DELETE] = "gpo_delete",
	[IPAM_ACT_FILTER_GROUP] = "filter_group",
	[IPAM_ACT_MEMBER_ADD] = "member_add",
	[IPAM_ACT_MEMBER_REMOVE] = "member_remove",
};

const char *ipam_act_kind_name(enum ipam_act_kind k)
{
	return k < IPAM_ACT_NR_KINDS ? kind_names[k] : "?";
}

/* The plan's phases, in the order apply runs them: the inventory first
 * (the state database's own: manageability, and the purge of a server
 * turned unmanaged, in the transaction that stores discovery's outcome),
 * then in AD creates, updates, links, filter adds, filter removes,
 * unlinks and deletes last -- the GPOs before the grants and IPAMUG they
 * name. */
static int phase(enum ipam_act_kind k, enum ipam_act_op op)
{
	if (k == IPAM_ACT_MANAGEABILITY || k == IPAM_ACT_PURGE)
		return -1;
	if (op == IPAM_OP_REMOVE && k == IPAM_ACT_DC_GRANTS)
		return 8;
	if (op == IPAM_OP_REMOVE && k == IPAM_ACT_GROUP)
		return 9;
	if (op == IPAM_OP_REMOVE && k == IPAM_ACT_FILTER_GROUP)
		return 7;
	switch (k) {
	case IPAM_ACT_GROUP:
	case IPAM_ACT_GROUP_MEMBER:
	case IPAM_ACT_DC_GRANTS:
	case IPAM_ACT_GPO_CREATE:
	/* a filter group made and filled before any DACL names it */
	case IPAM_ACT_FILTER_GROUP:
	case IPAM_ACT_MEMBER_ADD:
		return 0;
	case IPAM_ACT_GPO_SETTINGS:
	case IPAM_ACT_GPO_SECURITY:
		return 1;
	case IPAM_ACT_GPO_LINK:
		return 2;
	case IPAM_ACT_FILTER_ADD:
		return 3;
	case IPAM_ACT_FILTER_REMOVE:
	case IPAM_ACT_MEMBER_REMOVE:
		return 4;
	case IPAM_ACT_GPO_UNLINK:
		return 6;
	default:
		return 7;
	}
}

unsigned ipam_gpos_for_roles(unsigned roles)
{
	unsigned g = 0;

	if (roles & IPAM_ROLE_DHCP)
		g |= 1u << IPAM_POL_GPO_DHCP;
	if (roles & IPAM_ROLE_DNS)
		g |= 1u << IPAM_POL_GPO_DNS;
	if (roles & (IPAM_ROLE_DC | IPAM_ROLE_NPS))
		g |= 1u << IPAM_POL_GPO_DC_NPS;
	return g;
}

static const struct ipam_applied_gpo *
applied_gpo(const struct ipam_applied_domain *ad, int gpo)
{
	for (size_t k = 0; ad && k < ad->nr_gpos; k++)
		if (ad->gpos[k].gpo == gpo)
			return &ad->gpos[k];
	return NULL;
}

static bool applied_has_sid(const struct ipam_applied_gpo *ag, const char *sid)
{
	for (size_t i = 0; ag && i < ag->nr_filter; i++)
		if (!strcmp(ag->filter_sids[i], sid))
			return true;
	return false;
}

/* ---- building the plan --------------------------------------------------- */

static int cmp_name_ptr(const void *a, const void *b)
{
	const struct ipam_inv_server *const *x = a, *const *y = b;

	return strcasecmp((*x)->name, (*y)->name);
}

static int cmp_sid_ptr(const void *a, const void *b)
{
	const struct ipam_inv_server *const *x = a, *const *y = b;

	return strcmp((*x)->sid ? (*x)->sid : "", (*y)->sid ? (*y)->sid : "");
}

static int cmp_desired_ptr(const void *a, const void *b)
{
	const struct ipam_server *const *x = a, *const *y = b;

	return strcasecmp((*x)->name, (*y)->name);
}

/*
 * The inventory as it will be after this run's update, with indexes: the
 * update's rows and the stored rows it does not touch (incomplete
 * domains), by SID; the desired state's servers by name.  Sorted arrays
 * and binary search keep the diff O(n log n) for tens of thousands of
 * servers.
 */
static void view_build(struct diff_view *w, const struct ipam_diff_input *in)
{
	const struct ipam_inventory *inv = in->inventory;
	const struct ipam_inv_plan *ip = in->inv_plan;
	size_t n = (inv ? inv->nr : 0) + (ip ? ip->nr : 0), nu = 0;
	const struct ipam_inv_server **upd;

	w->v = xcalloc(n ? n : 1, sizeof(*w->v));
	upd = xcalloc(n ? n : 1, sizeof(*upd));
	w->nr = 0;
	for (size_t i = 0; ip && i < ip->nr; i++)
		w->v[w->nr++] = upd[nu++] = &ip->updates[i].row;
	qsort(upd, nu, sizeof(*upd), cmp_name_ptr);
	for (size_t i = 0; inv && i < inv->nr; i++) {
		const struct ipam_inv_server *key = &inv->servers[i];

		if (!bsearch(&key, upd, nu, sizeof(*upd), cmp_name_ptr))
			w->v[w->nr++] = key;
	}
	free(upd);
	w->by_sid = xcalloc(w->nr ? w->nr : 1, sizeof(*w->by_sid));
	w->nr_sid = 0;
	for (size_t i = 0; i < w->nr; i++)
		if (w->v[i]->sid)
			w->by_sid[w->nr_sid++] = w->v[i];
	qsort(w->by_sid, w->nr_sid, sizeof(*w->by_sid), cmp_sid_ptr);
	w->desired = xcalloc(in->d->nr_servers ? in->d->nr_servers : 1,
			     sizeof(*w->desired));
	for (size_t i = 0; i < in->d->nr_servers; i++)
		w->desired[i] = &in->d->servers[i];
	w->nr_desired = in->d->nr_servers;
	qsort(w->desired, w->nr_desired, sizeof(*w->desired), cmp_desired_ptr);
}

static void view_release(struct diff_view *w)
{
	free(w->v);
	free(w->by_sid);
	free(w->desired);
}

static const struct ipam_server *view_desired(const struct diff_view *w,
					      const char *name)
{
	struct ipam_server key = {.name = (char *)(uintptr_t)name};
	const struct ipam_server *kp = &key, *const * hit;

	hit = bsearch(&kp, w->desired, w->nr_desired, sizeof(*w->desired),
		      cmp_desired_ptr);
	return hit ? *hit : NULL;
}

static __attribute__((format(printf, 1, 0))) char *vfmt(const char *fmt,
							va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_vaddf(&sb, fmt, ap);
	return strbuf_detach(&sb, NULL);
}

struct ipam_action *ipam_diff_add(struct diff_ctx *c, enum ipam_act_kind kind,
				  enum ipam_act_op op, bool drift, int gpo,
				  const char *target,
				  const struct ipam_pos *pos, const char *fmt,
				  ...)
{
	struct ipam_plan *p = c->p;
	struct ipam_action *a;
	va_list ap;

	ALLOC_GROW(p->actions, p->nr + 1, p->alloc);
	a = &p->actions[p->nr++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->op = op;
	a->origin = drift ? IPAM_ORIGIN_DRIFT : IPAM_ORIGIN_PENDING;
	a->domain = xstrdup(c->dom->name);
	a->gpo = gpo;
	a->target = xstrdup(target);
	if (pos)
		a->pos = *pos;
	va_start(ap, fmt);
	a->reason = vfmt(fmt, ap);
	va_end(ap);
	return a;
}

void ipam_diff_skip(struct diff_ctx *c, const char *what)
{
	struct ipam_plan *p = c->p;
	struct ipam_skipped *s;

	ALLOC_GROW(p->skipped, p->nr_skipped + 1, p->alloc_skipped);
	s = &p->skipped[p->nr_skipped++];
	s->domain = xstrdup(c->dom->name);
	s->what = xstrdup(what);
	s->reason = xstrdup(c->why_not ? c->why_not : "domain incomplete");
}

void ipam_diff_conflict(struct diff_ctx *c, const char *what,
			const char *reason)
{
	struct ipam_plan *p = c->p;
	struct ipam_conflict *k;

	ALLOC_GROW(p->conflicts, p->nr_conflicts + 1, p->alloc_conflicts);
	k = &p->conflicts[p->nr_conflicts++];
	k->domain = xstrdup(c->dom->name);
	k->what = xstrdup(what);
	k->reason = xstrdup(reason);
}

void ipam_diff_note(struct diff_ctx *c, const char *fmt, ...)
{
	struct ipam_plan *p = c->p;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "%s: ", c->dom->name);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(p->notes, p->nr_notes + 1, p->alloc_notes);
	p->notes[p->nr_notes++] = strbuf_detach(&sb, NULL);
}

/* The desired state's word on a server: its own entry, else defaults. */
const struct ipam_pos *ipam_diff_manage_pos(const struct ipam_desired *d,
					    const struct diff_view *w,
					    const char *name)
{
	const struct ipam_server *s = view_desired(w, name);

	if (s && s->manageability != IPAM_MANAGE_UNSET)
		return &s->manageability_pos;
	return &d->default_manageability_pos;
}

/* A server's manageability as the desired state sets it (as the inventory
 * update does), also for rows of a domain seen incompletely, whose stored
 * rows are not updated in this run. */
enum ipam_manageability ipam_diff_manage(const struct ipam_desired *d,
					 const struct diff_view *w,
					 const struct ipam_inv_server *s)
{
	const struct ipam_server *ds = view_desired(w, s->name);

	return ds ? ds->manageability : d->default_manageability;
}

const struct ipam_inv_server *ipam_diff_by_sid(const struct diff_view *w,
					       const char *sid)
{
	struct ipam_inv_server key = {.sid = (char *)(uintptr_t)sid};
	const struct ipam_inv_server *kp = &key, *const * hit;

	hit = bsearch(&kp, w->by_sid, w->nr_sid, sizeof(*w->by_sid),
		      cmp_sid_ptr);
	return hit ? *hit : NULL;
}

int ipam_diff_cmp_str(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

bool ipam_diff_had(const char **v, size_t n, const char *sid)
{
	return n && bsearch(&sid, v, n, sizeof(*v), ipam_diff_cmp_str);
}

/* A GPO that does not exist: every part of it is to be made. */
static void diff_gpo_new(struct diff_ctx *c, const struct ipam_gpo_obs *g,
			 const struct ipam_applied_gpo *ag)
{
	const struct ipam_pos *pos = &c->in->d->gpo_prefix.pos;
	bool was = ag && ag->guid;

	ipam_diff_add(c, IPAM_ACT_GPO_CREATE, IPAM_OP_CREATE, was, (int)g->kind,
		      g->name, pos,
		      was ? "drift: GPO %s was deleted since the last apply "
			    "(it was %s)"
			  : "GPO %s does not exist%s",
		      g->name, was ? ag->guid : "");
	ipam_diff_add(c, IPAM_ACT_GPO_SETTINGS, IPAM_OP_UPDATE, was,
		      (int)g->kind, g->name, pos,
		      "settings of a new GPO: firewall rules, local groups%s",
		      g->kind == IPAM_POL_GPO_DHCP  ? ", dhcpaudit share"
		      : g->kind == IPAM_POL_GPO_DNS ? ", DNS event log CustomSD"
						    : "");
	ipam_diff_add(c, IPAM_ACT_GPO_SECURITY, IPAM_OP_UPDATE, was,
		      (int)g->kind, g->name, pos,
		      "Authenticated Users read only; IPAMUG may edit");
	ipam_diff_add(c, IPAM_ACT_GPO_LINK, IPAM_OP_CREATE, was, (int)g->kind,
		      g->name, pos, "link on the domain head");
	ipam_diff_filter(c, g, ag);
}

/*
 * The SYSVOL folder ACL could not be read.  Unknown is not inconsistent:
 * say so, and remove nothing in a domain seen only in part.
 */
static void gpo_folder_unknown(struct diff_ctx *c, const struct ipam_gpo_obs *g)
{
	ipam_diff_note(c, "the SYSVOL folder ACL of %s could not be read: %s",
		       g->name, g->folder_error);
	if (c->complete) {
		c->complete = false;
		ALLOC_GROW(c->p->incomplete, c->p->nr_incomplete + 1,
			   c->p->alloc_incomplete);
		c->p->incomplete[c->p->nr_incomplete++] = xasprintf(
			"%s: the SYSVOL folder ACL of %s could not be "
			"read",
			c->dom->name, g->name);
		c->why_not = c->p->incomplete[c->p->nr_incomplete - 1];
	}
}

/* The settings of an existing GPO differ: say which files and why. */
static void gpo_settings(struct diff_ctx *c, const struct ipam_gpo_obs *g,
			 const struct ipam_applied_gpo *ag)
{
	const struct ipam_pos *pos = &c->in->d->gpo_prefix.pos;
	bool was = ag && ag->guid;
	const char *drift_or = c->desired_changed ? "" : "drift: ";
	struct strbuf why = STRBUF_INIT;
	bool drift = was && ag->settings_current;
	struct ipam_action *a;

	for (size_t i = 0; i < g->nr_files; i++)
		if (!g->files[i].current)
			strbuf_addf(&why, "%s%s %s", why.len ? ", " : "",
				    g->files[i].path,
				    g->files[i].present ? "edited" : "missing");
	for (size_t i = 0; i < g->nr_foreign; i++)
		strbuf_addf(&why, "%s%s not declared%s%s%s",
			    why.len ? ", " : "", g->foreign[i].path,
			    g->foreign[i].note ? " (" : "",
			    g->foreign[i].note ? g->foreign[i].note : "",
			    g->foreign[i].note ? ")" : "");
	if (!g->ext_current)
		strbuf_addf(&why, "%sgPCMachineExtensionNames differs",
			    why.len ? ", " : "");
	if (!g->gpt_present)
		strbuf_addf(&why, "%sGPT.INI missing", why.len ? ", " : "");
	else if (g->gpt_version != g->version)
		strbuf_addf(&why, "%sversion %u in AD but %u in GPT.INI",
			    why.len ? ", " : "", (unsigned)g->version,
			    (unsigned)g->gpt_version);
	a = ipam_diff_add(c, IPAM_ACT_GPO_SETTINGS, IPAM_OP_UPDATE, drift,
			  (int)g->kind, g->name, pos, "%s%s",
			  drift ? drift_or : "", why.buf);
	a->deletes = g->nr_foreign;
	strbuf_release(&why);
}

static void diff_gpo(struct diff_ctx *c, const struct ipam_gpo_state *st,
		     const struct ipam_gpo_obs *g,
		     const struct ipam_applied_domain *ad)
{
	const struct ipam_applied_gpo *ag = applied_gpo(ad, (int)g->kind);
	const struct ipam_pos *pos = &c->in->d->gpo_prefix.pos;
	bool was = ag && ag->guid;
	const char *drift_or = c->desired_changed ? "" : "drift: ";

	struct strbuf what = STRBUF_INIT;

	(void)st;
	/* Left alone, and said as a conflict: the GPO the desired state
	 * needs cannot be made while someone else's holds its name. */
	if (g->same_name > 1) {
		ipam_diff_note(
			c,
			"%zu GPOs are named %s: ipamctl leaves them alone "
			"until only one remains",
			g->same_name, g->name);
		strbuf_addf(&what, "%zu GPOs named %s", g->same_name, g->name);
		ipam_diff_conflict(
			c, what.buf,
			"ipamctl cannot tell which is its own: delete the "
			"extra ones");
		strbuf_release(&what);
		return;
	}
	if (g->exists && !g->owned) {
		ipam_diff_note(c,
			       "GPO %s %s was not created by ipamctl: left "
			       "alone (take "
			       "it over with ipamctl provision --adopt)",
			       g->name, g->guid);
		strbuf_addf(&what, "GPO %s %s", g->name, g->guid);
		ipam_diff_conflict(
			c, what.buf,
			"not created by ipamctl, so never changed by it: "
			"take it over with ipamctl provision --adopt, or "
			"delete or rename it");
		strbuf_release(&what);
		return;
	}
	if (!g->exists) {
		diff_gpo_new(c, g, ag);
		return;
	}
	if (g->missing || !g->gpt_present)
		ipam_diff_add(c, IPAM_ACT_GPO_CREATE, IPAM_OP_UPDATE, was,
			      (int)g->kind, g->name, pos,
			      "%sGPO %s is incomplete (%s%s%s): completed",
			      was ? "drift: " : "", g->name,
			      g->missing ? g->missing : "",
			      g->missing && !g->gpt_present ? ", " : "",
			      g->gpt_present ? "" : "GPT.INI missing");
	if (g->folder_error)
		gpo_folder_unknown(c, g);
	if (!g->settings_current || !g->ext_current || !g->gpt_present ||
	    g->gpt_version != g->version)
		gpo_settings(c, g, ag);
	if (!g->dacl_current || (!g->folder_consistent && !g->folder_error)) {
		bool drift = was && ag->dacl_current;

		ipam_diff_add(
			c, IPAM_ACT_GPO_SECURITY, IPAM_OP_UPDATE, drift,
			(int)g->kind, g->name, &c->in->d->gpo_prefix.pos,
			"%s%s", drift ? drift_or : "",
			!g->dacl_current
				? (g->au_apply
					   ? "Authenticated Users may apply "
					     "it"
					   : "IPAMUG or a delegated user may "
					     "not edit it")
				: "SYSVOL folder ACL differs from the AD ACL");
	}
	if (!g->linked || (g->link_options & 1)) {
		bool drift = was && ag->linked;

		ipam_diff_add(c, IPAM_ACT_GPO_LINK,
			      g->linked ? IPAM_OP_UPDATE : IPAM_OP_CREATE,
			      drift, (int)g->kind, g->name, pos, "%s%s",
			      drift ? "drift: " : "",
			      g->linked ? "link disabled"
					: "not linked on the domain "
					  "head");
	}
	ipam_diff_filter(c, g, ag);
}

static void diff_domain(struct diff_ctx *c, const struct ipam_gpo_state *st,
			const struct ipam_applied_domain *ad)
{
	const struct ipam_desired *d = c->in->d;
	const struct ipam_pos *spos = &d->ipam_server.pos;

	if (!st->ipamug.exists)
		ipam_diff_add(c, IPAM_ACT_GROUP, IPAM_OP_CREATE,
			      ad && ad->group, -1, "IPAMUG", spos, "%s",
			      ad && ad->group
				      ? "drift: IPAMUG was deleted since the "
					"last apply"
				      : "IPAMUG does not exist");
	if (!st->ipamug.exists || (st->server_found && !st->ipamug.has_server))
		if (st->server_found)
			ipam_diff_add(
				c, IPAM_ACT_GROUP_MEMBER, IPAM_OP_CREATE,
				st->ipamug.exists && ad && ad->group_member, -1,
				st->ipam_server, spos, "%s",
				st->ipamug.exists && ad && ad->group_member
					? "drift: the IPAM server was removed "
					  "from IPAMUG"
					: "IPAMUG holds the IPAM server's "
					  "computer "
					  "account");
	if (!st->ipamug.exists || !st->elr_member ||
	    (st->dns_container && !st->dns_ace)) {
		bool drift =
			st->ipamug.exists && ad &&
			((ad->elr && !st->elr_member) ||
			 (ad->dns_ace && st->dns_container && !st->dns_ace));

		ipam_diff_add(
			c, IPAM_ACT_DC_GRANTS, IPAM_OP_CREATE, drift, -1,
			"IPAMUG", spos, "%s%s%s", drift ? "drift: " : "",
			!st->elr_member ? "IPAMUG in Event Log Readers" : "",
			st->dns_container && !st->dns_ace
				? (!st->elr_member ? "; read on the DNS ACL"
						   : "read on the DNS ACL")
				: "");
	}
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		diff_gpo(c, st, &st->gpos[k], ad);
}

/*
 * remove: true -- what ipamctl made in the domain goes: each GPO it owns
 * (unlinked, then deleted), the DC grants and IPAMUG when ipamctl made
 * IPAMUG.  Only with the domain seen completely; what someone else made
 * is said and left alone.
 */
static void diff_remove_domain(struct diff_ctx *c,
			       const struct ipam_gpo_state *st)
{
	const struct ipam_pos *pos = &c->dom->remove_pos;
	struct strbuf what = STRBUF_INIT;

	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		const struct ipam_gpo_obs *g = &st->gpos[k];

		if (!g->exists)
			continue;
		if (g->same_name > 1 || !g->owned) {
			ipam_diff_note(
				c,
				"GPO %s %s was not created by ipamctl%s: left "
				"alone",
				g->name, g->guid,
				g->same_name > 1 ? " or has a namesake" : "");
			continue;
		}
		strbuf_reset(&what);
		strbuf_addf(&what, "GPO %s %s (unlink and delete)", g->name,
			    g->guid);
		if (!c->complete) {
			ipam_diff_skip(c, what.buf);
			continue;
		}
		if (g->linked)
			ipam_diff_add(
				c, IPAM_ACT_GPO_UNLINK, IPAM_OP_REMOVE, false,
				(int)g->kind, g->name, pos,
				"the domain is removed from the desired state "
				"(remove: true)");
		ipam_diff_add(
			c, IPAM_ACT_GPO_DELETE, IPAM_OP_REMOVE, false,
			(int)g->kind, g->name, pos,
			"the domain is removed from the desired state (remove: "
			"true): container and SYSVOL folder %s",
			g->guid);
	}
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		const struct ipam_gpo_fgroup *fg = &st->gpos[k].fgroup;

		if (!fg->exists || !fg->owned)
			continue;
		strbuf_reset(&what);
		strbuf_addf(&what, "group %s", fg->name);
		if (!c->complete)
			ipam_diff_skip(c, what.buf);
		else
			ipam_diff_add(c, IPAM_ACT_FILTER_GROUP, IPAM_OP_REMOVE,
				      false, (int)st->gpos[k].kind, fg->name,
				      pos,
				      "the domain is removed from the desired "
				      "state (remove: true)");
	}
	strbuf_release(&what);
	if (!st->ipamug.exists)
		return;
	if (!st->ipamug.owned) {
		ipam_diff_note(
			c,
			"IPAMUG was not created by ipamctl: it and its grants "
			"are left alone");
		return;
	}
	if (!c->complete) {
		ipam_diff_skip(c, "IPAMUG and its DC grants");
		return;
	}
	if (st->elr_member || st->dns_ace)
		ipam_diff_add(c, IPAM_ACT_DC_GRANTS, IPAM_OP_REMOVE, false, -1,
			      "IPAMUG", pos, "%s%s%s",
			      st->elr_member ? "IPAMUG out of Event Log "
					       "Readers"
					     : "",
			      st->elr_member && st->dns_ace ? "; " : "",
			      st->dns_ace ? "its read ACE off the DNS ACL"
					  : "");
	ipam_diff_add(
		c, IPAM_ACT_GROUP, IPAM_OP_REMOVE, false, -1, "IPAMUG", pos,
		"the domain is removed from the desired state (remove: true)");
}

static void diff_inventory(struct ipam_plan *p,
			   const struct ipam_diff_input *in,
			   const struct diff_view *w)
{
	const struct ipam_inv_plan *ip = in->inv_plan;
	const struct ipam_inventory *inv = in->inventory;
	size_t n = inv ? inv->nr : 0;
	const struct ipam_inv_server **prev = xcalloc(n ? n : 1, sizeof(*prev));

	for (size_t i = 0; i < n; i++)
		prev[i] = &inv->servers[i];
	qsort(prev, n, sizeof(*prev), cmp_name_ptr);
	for (size_t i = 0; ip && i < ip->nr; i++) {
		const struct ipam_inv_update *u = &ip->updates[i];
		const struct ipam_inv_server *key = &u->row,
					     *const *hit =
						     bsearch(&key, prev, n,
							     sizeof(*prev),
							     cmp_name_ptr);
		const struct ipam_inv_server *old = hit ? *hit : NULL;
		const struct ipam_domain *dom =
			u->row.domain
				? ipam_desired_find_domain(in->d, u->row.domain)
				: NULL;
		struct diff_ctx c = {p, in, w, dom, 0, true, NULL, false};
		struct ipam_action *a;

		if (!dom)
			continue;
		if (u->row.id && old &&
		    old->manageability != u->row.manageability) {
			a = ipam_diff_add(
				&c, IPAM_ACT_MANAGEABILITY, IPAM_OP_UPDATE,
				false, -1, u->row.name,
				ipam_diff_manage_pos(in->d, w, u->row.name),
				"%s", "manageability set by the desired state");
			a->before = xstrdup(
				ipam_manageability_name(old->manageability));
			a->after = xstrdup(
				ipam_manageability_name(u->row.manageability));
		}
		if (u->purge)
			ipam_diff_add(
				&c, IPAM_ACT_PURGE, IPAM_OP_REMOVE, false, -1,
				u->row.name,
				ipam_diff_manage_pos(in->d, w, u->row.name),
				"%s",
				"unmanaged: its collected data is purged");
	}
	free(prev);
}

/* Short before/after states of an action, for the plan's outputs, where
 * diff_* did not set more exact ones. */
static void fill_before_after(struct ipam_action *a)
{
	const char *before = NULL, *after = NULL;
	bool rm = a->op == IPAM_OP_REMOVE;

	switch (a->kind) {
	case IPAM_ACT_GROUP:
		before = rm ? "present" : "absent";
		after = rm ? "deleted" : "present";
		break;
	case IPAM_ACT_GROUP_MEMBER:
	case IPAM_ACT_MEMBER_ADD:
		before = "not a member";
		after = "member";
		break;
	case IPAM_ACT_MEMBER_REMOVE:
		before = "member";
		after = "not a member";
		break;
	case IPAM_ACT_FILTER_GROUP:
		before = rm ? "present" : "absent";
		after = rm ? "deleted" : "present";
		break;
	case IPAM_ACT_DC_GRANTS:
		before = rm ? "granted" : "missing";
		after = rm ? "removed" : "granted";
		break;
	case IPAM_ACT_GPO_CREATE:
		before = a->op == IPAM_OP_CREATE ? "absent" : "incomplete";
		after = a->op == IPAM_OP_CREATE ? "created" : "complete";
		break;
	case IPAM_ACT_GPO_SETTINGS:
	case IPAM_ACT_GPO_SECURITY:
		before = "differs";
		after = "as declared";
		break;
	case IPAM_ACT_GPO_LINK:
		before = a->op == IPAM_OP_CREATE ? "not linked" : "disabled";
		after = "linked, enabled";
		break;
	case IPAM_ACT_FILTER_ADD:
		before = "not filtered";
		after = "read + apply";
		break;
	case IPAM_ACT_FILTER_REMOVE:
		before = "read + apply";
		after = "not filtered";
		break;
	case IPAM_ACT_PURGE:
		before = "kept";
		after = "purged";
		break;
	case IPAM_ACT_GPO_UNLINK:
		before = "linked";
		after = "unlinked";
		break;
	case IPAM_ACT_GPO_DELETE:
		before = "present";
		after = "deleted";
		break;
	default:
		break;
	}
	if (!a->before && before)
		a->before = xstrdup(before);
	if (!a->after && after)
		a->after = xstrdup(after);
}

static int cmp_actions(const void *x, const void *y)
{
	const struct ipam_action *a = x, *b = y;
	int r;

	int pa = phase(a->kind, a->op), pb = phase(b->kind, b->op);

	if (pa != pb)
		return pa - pb;
	if ((r = strcmp(a->domain, b->domain)))
		return r;
	if (a->gpo != b->gpo)
		return a->gpo - b->gpo;
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	return strcmp(a->target, b->target);
}

/*
 * The GPO state could not be read: what the last apply put in place is
 * all there is to go by.  The removals the desired state asks of it are
 * listed as skipped, so that nobody takes the plan for complete.
 */
static void skip_unread(struct diff_ctx *c,
			const struct ipam_applied_domain *ad)
{
	const char *prefix = c->in->d->gpo_prefix.value;
	struct strbuf what = STRBUF_INIT;

	for (size_t k = 0; ad && k < IPAM_GPO_COUNT; k++) {
		const struct ipam_applied_gpo *ag = &ad->gpos[k];
		const char *sfx = ipam_pol_gpo_suffix((enum ipam_pol_gpo)k);

		if (!ag->guid)
			continue;
		if (c->dom->remove) {
			strbuf_reset(&what);
			strbuf_addf(&what, "GPO %s%s %s (unlink and delete)",
				    prefix ? prefix : "", sfx, ag->guid);
			ipam_diff_skip(c, what.buf);
			continue;
		}
		for (size_t i = 0; i < ag->nr_filter; i++) {
			const struct ipam_inv_server *s =
				ipam_diff_by_sid(c->inv, ag->filter_sids[i]);
			enum ipam_manageability m =
				s ? ipam_diff_manage(c->in->d, c->inv, s)
				  : IPAM_MANAGE_UNSPECIFIED;
			bool gone = !s || s->status == IPAM_INV_GONE;

			if (!gone &&
			    (m == IPAM_MANAGE_UNSPECIFIED ||
			     (m == IPAM_MANAGE_MANAGED &&
			      (ipam_gpos_for_roles(s->roles) & (1u << k)))))
				continue; /* wanted, or nothing changes */
			strbuf_reset(&what);
			strbuf_addf(&what, "%s from %s%s's filtering",
				    s ? s->name : ag->filter_sids[i],
				    prefix ? prefix : "", sfx);
			ipam_diff_skip(c, what.buf);
		}
	}
	if (ad && ad->group && c->dom->remove)
		ipam_diff_skip(c, "IPAMUG and its DC grants");
	strbuf_release(&what);
}

/* A conflict leaves the whole domain as it is: none of its actions. */
static void drop_domain_actions(struct ipam_plan *p, size_t from)
{
	for (size_t i = from; i < p->nr; i++) {
		struct ipam_action *a = &p->actions[i];

		free(a->domain);
		free(a->target);
		free(a->sid);
		free(a->before);
		free(a->after);
		free(a->reason);
	}
	p->nr = from;
}

void ipam_diff(struct ipam_plan *out, const struct ipam_diff_input *in)
{
	const struct ipam_desired *d = in->d;
	struct diff_view w;

	memset(out, 0, sizeof(*out));
	view_build(&w, in);
	for (size_t i = 0; i < d->nr_domains; i++) {
		const struct ipam_domain *dom = &d->domains[i];
		const struct ipam_obs_domain *od = NULL;
		const struct ipam_applied_domain *ad =
			ipam_applied_find(in->applied, dom->name);
		const struct ipam_gpo_state *st = in->gpo ? in->gpo[i] : NULL;
		struct diff_ctx c = {out, in, &w, dom, i, true, NULL, false};
		struct strbuf why = STRBUF_INIT;
		size_t nr_actions = out->nr, nr_conflicts = out->nr_conflicts;

		for (size_t j = 0; in->obs && j < in->obs->nr_domains; j++)
			if (!strcasecmp(in->obs->domains[j].name, dom->name))
				od = &in->obs->domains[j];
		if (!od)
			strbuf_addstr(&why, "not discovered");
		else if (!ipam_obs_domain_complete(od))
			strbuf_addf(&why, "discovery incomplete: %s",
				    ipam_obs_domain_reason(od));
		if (!st)
			strbuf_addf(&why, "%sGPO state unreadable%s%s",
				    why.len ? "; " : "",
				    in->gpo_errors && in->gpo_errors[i] ? ": "
									: "",
				    in->gpo_errors && in->gpo_errors[i]
					    ? in->gpo_errors[i]
					    : "");
		if (why.len) {
			c.complete = false;
			ALLOC_GROW(out->incomplete, out->nr_incomplete + 1,
				   out->alloc_incomplete);
			out->incomplete[out->nr_incomplete++] =
				xasprintf("%s: %s", dom->name, why.buf);
			c.why_not = out->incomplete[out->nr_incomplete - 1];
		}
		c.desired_changed =
			ad && ad->config_digest && in->config_digest &&
			strcmp(ad->config_digest, in->config_digest);
		if (st && d->method == IPAM_METHOD_GPO && dom->remove)
			diff_remove_domain(&c, st);
		else if (st && d->method == IPAM_METHOD_GPO)
			diff_domain(&c, st, ad);
		else if (d->method == IPAM_METHOD_GPO)
			skip_unread(&c, ad);
		if (out->nr_conflicts > nr_conflicts)
			drop_domain_actions(out, nr_actions);
		strbuf_release(&why);
	}
	/* Domains applied before and no longer desired: said, not pruned
	 * (their connection settings went with them); remove: true is the
	 * way to prune one. */
	for (size_t i = 0; in->applied && i < in->applied->nr; i++) {
		const struct ipam_applied_domain *ad = &in->applied->domains[i];

		if (ipam_desired_find_domain(d, ad->domain) ||
		    (!ad->nr_gpos && !ad->group))
			continue;
		ALLOC_GROW(out->notes, out->nr_notes + 1, out->alloc_notes);
		out->notes[out->nr_notes++] = xasprintf(
			"%s: no longer in the desired state; its IPAM GPOs, "
			"IPAMUG and grants are left in place (to take them "
			"out, declare the domain again with 'remove: true')",
			ad->domain);
	}
	diff_inventory(out, in, &w);
	view_release(&w);
	for (size_t i = 0; i < out->nr; i++)
		fill_before_after(&out->actions[i]);
	if (out->nr)
		qsort(out->actions, out->nr, sizeof(*out->actions),
		      cmp_actions);
	for (size_t i = 0; i < out->nr; i++) {
		const struct ipam_action *a = &out->actions[i];

		out->counts[a->op == IPAM_OP_CREATE   ? 0
			    : a->op == IPAM_OP_UPDATE ? 1
						      : 2]++;
		if (a->origin == IPAM_ORIGIN_DRIFT)
			out->drift++;
		if (a->op == IPAM_OP_REMOVE)
			out->removals++;
		out->removals += a->deletes;
	}
}

void ipam_plan_release(struct ipam_plan *p)
{
	if (!p)
		return;
	drop_domain_actions(p, 0);
	free(p->actions);
	for (size_t i = 0; i < p->nr_conflicts; i++) {
		free(p->conflicts[i].domain);
		free(p->conflicts[i].what);
		free(p->conflicts[i].reason);
	}
	free(p->conflicts);
	for (size_t i = 0; i < p->nr_skipped; i++) {
		free(p->skipped[i].domain);
		free(p->skipped[i].what);
		free(p->skipped[i].reason);
	}
	free(p->skipped);
	for (size_t i = 0; i < p->nr_incomplete; i++)
		free(p->incomplete[i]);
	free(p->incomplete);
	for (size_t i = 0; i < p->nr_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	memset(p, 0, sizeof(*p));
}

static bool wanted(const struct ipam_desired *d, const struct diff_view *w,
		   const char *domain, unsigned bit, const char *sid)
{
	const struct ipam_inv_server *s = ipam_diff_by_sid(w, sid);

	return s && s->domain && !strcasecmp(s->domain, domain) &&
	       ipam_diff_manage(d, w, s) == IPAM_MANAGE_MANAGED &&
	       s->status != IPAM_INV_GONE &&
	       (ipam_gpos_for_roles(s->roles) & bit);
}

/* A GPO's filter entries ipamctl answers for: in its DACL, those it put
 * there before or that the desired state wants, and the filter group's
 * ACE; in group mode also the group's members on the same terms. */
static void applied_filter(struct ipam_applied_gpo *ag,
			   const struct ipam_diff_input *in,
			   const struct diff_view *w, const char *domain,
			   const struct ipam_gpo_obs *g,
			   const struct ipam_applied_gpo *pg)
{
	const struct ipam_gpo_fgroup *fg = &g->fgroup;
	const struct ipam_gpo_trustees *ts[] = {&g->filtering, &fg->members};
	size_t n = g->filtering.nr + fg->members.nr;

	ag->filter_sids = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < ts[t]->nr; i++) {
			const char *sid = ts[t]->v[i].sid;

			if (applied_has_sid(pg, sid) ||
			    wanted(in->d, w, domain, 1u << g->kind, sid) ||
			    (fg->owned && fg->sid && !strcmp(sid, fg->sid)))
				ag->filter_sids[ag->nr_filter++] = xstrdup(sid);
		}
}

void ipam_diff_applied(struct ipam_applied_domain *out,
		       const struct ipam_diff_input *in,
		       const struct ipam_gpo_state *st,
		       const struct ipam_applied_domain *prev)
{
	struct diff_view w;

	memset(out, 0, sizeof(*out));
	view_build(&w, in);
	out->domain = xstrdup(st->domain);
	out->config_digest =
		in->config_digest ? xstrdup(in->config_digest) : NULL;
	{
		/* In a domain being removed, a foreign IPAMUG and its grants
		 * stay and are not ipamctl's to remember: with nothing of its
		 * own left there, the domain's record is empty. */
		const struct ipam_domain *dd =
			ipam_desired_find_domain(in->d, st->domain);
		bool keep = !(dd && dd->remove) || st->ipamug.owned;

		out->group = st->ipamug.exists && keep;
		out->group_member = st->ipamug.has_server && keep;
		out->elr = st->elr_member && keep;
		out->dns_ace = st->dns_ace && keep;
	}
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		const struct ipam_gpo_obs *g = &st->gpos[k];
		const struct ipam_applied_gpo *pg =
			applied_gpo(prev, (int)g->kind);
		struct ipam_applied_gpo *ag;

		if (!g->exists || !g->owned || g->planned)
			continue;
		ag = &out->gpos[out->nr_gpos++];
		ag->gpo = (int)g->kind;
		ag->guid = xstrdup(g->guid);
		ag->version = g->version;
		ag->linked = g->linked && !(g->link_options & 1);
		ag->settings_current = g->settings_current && g->ext_current &&
				       g->gpt_present &&
				       g->gpt_version == g->version;
		ag->dacl_current = g->dacl_current && g->folder_consistent;
		applied_filter(ag, in, &w, st->domain, g, pg);
	}
	view_release(&w);
}
