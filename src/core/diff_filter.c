/*
 * The diff's security filtering of one GPO: computer mode edits the GPO's
 * DACL entries; group mode (provisioning.filtering: group) its filter
 * group's members, with the group's one ACE in the DACL.
 */
#include "diff.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * One GPO's security filtering: the SIDs it holds (sorted), what the last
 * apply put there (sorted), and the role bit servers need for it.
 */
struct filter {
	const struct ipam_gpo_obs *g;
	const struct ipam_applied_gpo *ag;
	const char **ours_v;
	size_t nr_ours;
	unsigned bit;
	/* What holds the servers: the GPO's DACL filtering, or (group
	 * mode) its filter group's members. */
	const struct ipam_gpo_trustees *have;
	bool present;	   /* the GPO, or the group, exists */
	bool group;	   /* member actions */
	const char *where; /* "IPAM1_DHCP", or its group's name */
};

/* Adds: managed servers of this domain whose roles want this GPO. */
static void filter_adds(struct diff_ctx *c, const struct filter *f)
{
	const struct diff_view *inv = c->inv;
	const struct ipam_desired *d = c->in->d;
	const struct ipam_gpo_obs *g = f->g;
	size_t nr_have = f->have->nr;
	const char **have = xcalloc(nr_have ? nr_have : 1, sizeof(*have));

	for (size_t i = 0; i < nr_have; i++)
		have[i] = f->have->v[i].sid;
	qsort(have, nr_have, sizeof(*have), ipam_diff_cmp_str);

	for (size_t i = 0; i < inv->nr; i++) {
		const struct ipam_inv_server *s = inv->v[i];
		struct ipam_action *a;
		bool there;

		if (!s->domain || strcasecmp(s->domain, c->dom->name) ||
		    ipam_diff_manage(d, inv, s) != IPAM_MANAGE_MANAGED ||
		    !(ipam_gpos_for_roles(s->roles) & f->bit) ||
		    s->status == IPAM_INV_GONE)
			continue;
		if (!s->sid) {
			ipam_diff_note(
				c,
				"%s is managed but has no computer account "
				"(SID) in AD: it cannot be put in %s's "
				"filtering",
				s->name, g->name);
			continue;
		}
		there = f->present && bsearch(&s->sid, have, nr_have,
					      sizeof(*have), ipam_diff_cmp_str);
		if (there)
			continue;
		a = ipam_diff_add(
			c, f->group ? IPAM_ACT_MEMBER_ADD : IPAM_ACT_FILTER_ADD,
			IPAM_OP_CREATE,
			ipam_diff_had(f->ours_v, f->nr_ours, s->sid) &&
				!c->desired_changed,
			(int)g->kind, s->name,
			ipam_diff_manage_pos(d, inv, s->name),
			ipam_diff_had(f->ours_v, f->nr_ours, s->sid)
				? "managed: its %s %s was removed since the "
				  "last apply"
				: "managed: read and Apply Group Policy on "
				  "%s%s",
			ipam_diff_had(f->ours_v, f->nr_ours, s->sid)
				? (f->group ? "membership of"
					    : "filter entry in")
				: g->name,
			ipam_diff_had(f->ours_v, f->nr_ours, s->sid) ? f->where
			: f->group ? " through its filter group"
				   : "");
		a->sid = xstrdup(s->sid);
	}
	free(have);
}

/*
 * An entry ipamctl put there whose server is no longer wanted in it; an
 * unspecified server still discovered changes nothing.
 */
static struct ipam_action *filter_remove_ours(struct diff_ctx *c,
					      const struct filter *f,
					      const struct ipam_inv_server *s,
					      enum ipam_manageability m,
					      size_t i, const char *what)
{
	const struct ipam_desired *d = c->in->d;
	const char *sid = f->have->v[i].sid;
	const char *name = f->have->v[i].name;
	const char *why = !s ? "no longer in the inventory"
			  : s->status == IPAM_INV_GONE ? "no longer discovered"
			  : m == IPAM_MANAGE_MANAGED
				  ? "its roles no longer need this GPO"
				  : "its manageability is unspecified "
				    "now";

	if (s && m == IPAM_MANAGE_UNSPECIFIED && s->status != IPAM_INV_GONE) {
		/* unspecified changes nothing */
		return NULL;
	}
	if (!c->complete) {
		ipam_diff_skip(c, what);
		return NULL;
	}
	return ipam_diff_add(
		c, f->group ? IPAM_ACT_MEMBER_REMOVE : IPAM_ACT_FILTER_REMOVE,
		IPAM_OP_REMOVE, false, (int)f->g->kind,
		s      ? s->name
		: name ? name
		       : sid,
		s ? ipam_diff_manage_pos(d, c->inv, s->name) : NULL,
		"ipamctl put it there; %s", why);
}

/*
 * Someone else's entry in a GPO ipamctl owns: its filtering is the
 * managed servers of its roles, nothing more (an unspecified server's
 * entry is left alone: unspecified changes nothing).
 */
static struct ipam_action *
filter_remove_foreign(struct diff_ctx *c, const struct filter *f,
		      const struct ipam_inv_server *s, size_t i,
		      const char *what)
{
	const struct ipam_desired *d = c->in->d;
	const char *sid = f->have->v[i].sid;
	const char *name = f->have->v[i].name;
	const char *who = s ? s->name : name ? name : sid;
	const char *why = !s ? "not a server in the inventory"
			  : s->status == IPAM_INV_GONE
				  ? "no longer discovered"
				  : "its roles do not need this GPO";

	if (!c->complete) {
		ipam_diff_skip(c, what);
		return NULL;
	}
	return ipam_diff_add(
		c, f->group ? IPAM_ACT_MEMBER_REMOVE : IPAM_ACT_FILTER_REMOVE,
		IPAM_OP_REMOVE, f->ag != NULL, (int)f->g->kind, who,
		s ? ipam_diff_manage_pos(d, c->inv, s->name) : NULL,
		"%s%s was added to %s%s by someone else (%s)",
		f->ag ? "drift: " : "", who, f->where,
		f->group ? "" : "'s filtering", why);
}

/* Whether entry i of the GPO's filtering should go, and why. */
static void filter_remove(struct diff_ctx *c, const struct filter *f, size_t i)
{
	const struct diff_view *inv = c->inv;
	const struct ipam_desired *d = c->in->d;
	const struct ipam_gpo_obs *g = f->g;
	const char *sid = f->have->v[i].sid;
	const char *name = f->have->v[i].name;
	const struct ipam_inv_server *s = ipam_diff_by_sid(inv, sid);
	bool ours = ipam_diff_had(f->ours_v, f->nr_ours, sid);
	struct ipam_action *a = NULL;
	struct strbuf what = STRBUF_INIT;
	enum ipam_manageability m;

	strbuf_addf(&what, "%s from %s%s",
		    s	   ? s->name
		    : name ? name
			   : sid,
		    f->where, f->group ? "" : "'s filtering");
	m = s ? ipam_diff_manage(d, inv, s) : IPAM_MANAGE_UNSPECIFIED;

	if (s && m == IPAM_MANAGE_UNMANAGED) {
		if (!c->complete) {
			ipam_diff_skip(c, what.buf);
		} else {
			a = ipam_diff_add(c,
					  f->group ? IPAM_ACT_MEMBER_REMOVE
						   : IPAM_ACT_FILTER_REMOVE,
					  IPAM_OP_REMOVE, false, (int)g->kind,
					  s->name,
					  ipam_diff_manage_pos(d, inv, s->name),
					  "unmanaged: out of every IPAM GPO's "
					  "filtering");
		}
	} else if (s && m == IPAM_MANAGE_MANAGED &&
		   s->status != IPAM_INV_GONE &&
		   (ipam_gpos_for_roles(s->roles) & f->bit)) {
		/* wanted */
	} else if (ours) {
		a = filter_remove_ours(c, f, s, m, i, what.buf);
	} else if (!s || m != IPAM_MANAGE_UNSPECIFIED ||
		   s->status == IPAM_INV_GONE) {
		a = filter_remove_foreign(c, f, s, i, what.buf);
	}
	if (a)
		a->sid = xstrdup(sid);
	strbuf_release(&what);
}

/* ---- group mode ---------------------------------------------------------- */

/* Is server s wanted in GPO f (managed, discovered, of its roles, with a
 * computer account)? */
static bool wanted_in(struct diff_ctx *c, const struct filter *f,
		      const struct ipam_inv_server *s)
{
	return s && s->sid && s->domain &&
	       !strcasecmp(s->domain, c->dom->name) &&
	       ipam_diff_manage(c->in->d, c->inv, s) == IPAM_MANAGE_MANAGED &&
	       s->status != IPAM_INV_GONE &&
	       (ipam_gpos_for_roles(s->roles) & f->bit);
}

/*
 * Computer mode: entry i of the DACL is the ACE of the GPO's filter group
 * that ipamctl made for group mode.  It goes in the same DACL write that
 * gives each server its own ACEs again (no server is unfiltered between),
 * so it is an update, not a removal.  Returns whether i was that entry.
 */
static bool filter_group_ace(struct diff_ctx *c, const struct filter *f,
			     size_t i)
{
	const struct ipam_gpo_fgroup *fg = &f->g->fgroup;
	struct ipam_action *a;

	if (!fg->exists || !fg->owned || !fg->sid ||
	    strcmp(fg->sid, f->have->v[i].sid))
		return false;
	a = ipam_diff_add(c, IPAM_ACT_FILTER_REMOVE, IPAM_OP_UPDATE, false,
			  (int)f->g->kind, fg->name, &c->in->d->gpo_prefix.pos,
			  "filtering: computer: each server has its own ACEs "
			  "in %s again, its filter group's ACE goes",
			  f->g->name);
	a->sid = xstrdup(fg->sid);
	a->before = xstrdup("through the group");
	a->after = xstrdup("own ACEs");
	return true;
}

/* Computer mode: a filter group ipamctl made is deleted once no DACL
 * names it (a removal; someone else's is only said). */
static void filter_group_gone(struct diff_ctx *c, const struct ipam_gpo_obs *g)
{
	const struct ipam_gpo_fgroup *fg = &g->fgroup;
	struct strbuf what = STRBUF_INIT;

	if (!fg->exists)
		return;
	if (!fg->owned) {
		if (fg->ace)
			ipam_diff_note(c,
				       "group %s, not ipamctl's, is in %s's "
				       "filtering",
				       fg->name, g->name);
		return;
	}
	strbuf_addf(&what, "group %s", fg->name);
	if (!c->complete)
		ipam_diff_skip(c, what.buf);
	else
		ipam_diff_add(c, IPAM_ACT_FILTER_GROUP, IPAM_OP_REMOVE, false,
			      (int)g->kind, fg->name, &c->in->d->filtering_pos,
			      "filtering: computer: the filter group of %s is "
			      "no longer used",
			      g->name);
	strbuf_release(&what);
}

/* Group mode: the DACL's entries.  A server's own ACEs go once the group
 * holds it (its member add runs first, the DACL write after); anything
 * else not wanted goes as in computer mode; the group's ACE comes in. */
static void group_dacl(struct diff_ctx *c, struct filter *f)
{
	const struct ipam_gpo_obs *g = f->g;
	const struct ipam_gpo_fgroup *fg = &g->fgroup;
	bool was = fg->sid && ipam_diff_had(f->ours_v, f->nr_ours, fg->sid);
	struct ipam_action *a;

	for (size_t i = 0; g->exists && i < g->filtering.nr; i++) {
		const char *sid = g->filtering.v[i].sid;
		const struct ipam_inv_server *s = ipam_diff_by_sid(c->inv, sid);

		if (fg->sid && !strcmp(sid, fg->sid))
			continue;
		if (!wanted_in(c, f, s)) {
			filter_remove(c, f, i);
			continue;
		}
		a = ipam_diff_add(
			c, IPAM_ACT_FILTER_REMOVE, IPAM_OP_UPDATE, false,
			(int)g->kind, s->name,
			ipam_diff_manage_pos(c->in->d, c->inv, s->name),
			"filtering: group: %s applies to it through "
			"%s; its own ACEs go",
			g->name, fg->name);
		a->sid = xstrdup(sid);
		a->before = xstrdup("own ACEs");
		a->after = xstrdup("through the group");
	}
	if (g->exists && fg->ace)
		return;
	a = ipam_diff_add(
		c, IPAM_ACT_FILTER_ADD, IPAM_OP_CREATE,
		was && !c->desired_changed, (int)g->kind, fg->name,
		&c->in->d->filtering_pos, "%s%s",
		was ? "drift: the ACE of the filter group was removed "
		      "from "
		    : "filtering: group: read and Apply Group Policy "
		      "for its filter group on ",
		g->name);
	if (fg->sid)
		a->sid = xstrdup(fg->sid);
}

/*
 * Group mode: the filter group exists and is ipamctl's (someone else's of
 * that name is a conflict: never taken over without provision --adopt),
 * its members are the managed servers of the GPO's roles, and the GPO's
 * DACL filters the group in, no server on its own.
 */
static void diff_group_filter(struct diff_ctx *c, struct filter *f)
{
	const struct ipam_gpo_obs *g = f->g;
	const struct ipam_gpo_fgroup *fg = &g->fgroup;
	struct strbuf what = STRBUF_INIT;

	if (fg->exists && !fg->owned) {
		strbuf_addf(&what, "group %s (%s)", fg->name, fg->dn);
		ipam_diff_conflict(c, what.buf,
				   "not created by ipamctl, so never changed "
				   "by it: take it over with ipamctl provision "
				   "--adopt, or delete or rename it");
		strbuf_release(&what);
		return;
	}
	if (!fg->exists)
		ipam_diff_add(c, IPAM_ACT_FILTER_GROUP, IPAM_OP_CREATE, false,
			      (int)g->kind, fg->name, &c->in->d->filtering_pos,
			      "filtering: group: the servers %s applies to, "
			      "in %s",
			      g->name, fg->dn);
	f->have = &fg->members;
	f->present = fg->exists;
	f->group = true;
	f->where = fg->name;
	/* The last apply's entries are the group's members only when it
	 * filtered through the group (not the computers of a switch). */
	if (!fg->sid || !ipam_diff_had(f->ours_v, f->nr_ours, fg->sid))
		f->nr_ours = 0;
	filter_adds(c, f);
	for (size_t i = 0; fg->exists && i < fg->members.nr; i++)
		filter_remove(c, f, i);
	f->nr_ours = f->ag ? f->ag->nr_filter : 0;
	f->have = &g->filtering;
	f->present = g->exists;
	f->group = false;
	f->where = g->name;
	group_dacl(c, f);
}

/* Filter adds and removes of one GPO. */
void ipam_diff_filter(struct diff_ctx *c, const struct ipam_gpo_obs *g,
		      const struct ipam_applied_gpo *ag)
{
	struct filter f = {.g = g, .ag = ag, .bit = 1u << g->kind};
	const char **ours_v;

	f.nr_ours = ag ? ag->nr_filter : 0;
	ours_v = xcalloc(f.nr_ours ? f.nr_ours : 1, sizeof(*ours_v));
	for (size_t i = 0; i < f.nr_ours; i++)
		ours_v[i] = ag->filter_sids[i];
	qsort(ours_v, f.nr_ours, sizeof(*ours_v), ipam_diff_cmp_str);
	f.ours_v = ours_v;
	f.have = &g->filtering;
	f.present = g->exists;
	f.where = g->name;

	if (c->in->d->filtering == IPAM_FILTERING_GROUP) {
		diff_group_filter(c, &f);
	} else {
		filter_adds(c, &f);
		/* Entries that should go. */
		for (size_t i = 0; g->exists && i < g->filtering.nr; i++)
			if (!filter_group_ace(c, &f, i))
				filter_remove(c, &f, i);
		filter_group_gone(c, g);
	}
	free(ours_v);
}
