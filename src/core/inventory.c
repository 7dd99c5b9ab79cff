#include "inventory.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"
#include "banned.h"

static const char *const status_names[] = {
	[IPAM_INV_NEW] = "new",
	[IPAM_INV_CHANGED] = "changed",
	[IPAM_INV_UNCHANGED] = "unchanged",
	[IPAM_INV_GONE] = "gone",
	[IPAM_INV_NOT_FOUND] = "declared_not_found",
};

const char *ipam_inv_status_name(enum ipam_inv_status s)
{
	return s < IPAM_INV_NR_STATUS ? status_names[s] : "?";
}

int ipam_inv_status_parse(const char *s, enum ipam_inv_status *out)
{
	int i;

	for (i = 0; i < IPAM_INV_NR_STATUS; i++) {
		if (!strcmp(s, status_names[i])) {
			*out = (enum ipam_inv_status)i;
			return 0;
		}
	}
	return -1;
}

const struct ipam_inv_server *
ipam_inventory_find(const struct ipam_inventory *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inv->nr; i++)
		if (!strcasecmp(inv->servers[i].name, name))
			return &inv->servers[i];
	return NULL;
}

void ipam_inv_server_release(struct ipam_inv_server *s)
{
	free(s->name);
	free(s->domain);
	free(s->owner);
	free(s->description);
	free(s->os_name);
	free(s->os_version);
	free(s->guid);
	free(s->sid);
	free(s->dn);
	free(s->addrs);
	free(s->first_seen);
	free(s->last_seen);
	free(s->status_detail);
	free(s->access);
	memset(s, 0, sizeof(*s));
}

void ipam_inventory_release(struct ipam_inventory *inv)
{
	size_t i;

	if (inv->pool) {
		ipam_strpool_release(inv->pool);
		free(inv->pool);
	} else {
		for (i = 0; i < inv->nr; i++)
			ipam_inv_server_release(&inv->servers[i]);
	}
	free(inv->servers);
	memset(inv, 0, sizeof(*inv));
}

void ipam_addrs_format(struct strbuf *sb, const struct ipam_addr *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", a[i].text);
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int addrs_eq(const struct ipam_addr *a, size_t na,
		    const struct ipam_addr *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i].text, b[i].text))
			return 0;
	return 1;
}

/* The stored roles that this run could not see again: the roles whose
 * discovery was off or incomplete keep what the inventory knew. */
static unsigned unverified_roles(const struct ipam_obs_domain *od)
{
	static const unsigned roles[] = {IPAM_ROLE_DC, IPAM_ROLE_DNS,
					 IPAM_ROLE_DHCP, IPAM_ROLE_NPS};
	unsigned keep = 0;
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (ipam_obs_role_status(od, roles[i])->verdict !=
		    IPAM_VERDICT_COMPLETE)
			keep |= roles[i];
	return keep;
}

struct diff {
	struct strbuf text;
};

static void diff_add(struct diff *df, const char *field, const char *before,
		     const char *after)
{
	strbuf_addf(&df->text, "%s%s: %s -> %s", df->text.len ? "; " : "",
		    field, before && *before ? before : "(none)",
		    after && *after ? after : "(none)");
}

static void diff_str(struct diff *df, const char *field, const char *before,
		     const char *after)
{
	if (!str_eq(before, after))
		diff_add(df, field, before, after);
}

static void diff_roles(struct diff *df, unsigned before, unsigned after)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (before == after)
		return;
	ipam_roles_format(&a, before, ",");
	ipam_roles_format(&b, after, ",");
	diff_add(df, "roles", a.buf, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void diff_addrs(struct diff *df, const struct ipam_inv_server *p,
		       const struct ipam_inv_server *n)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (addrs_eq(p->addrs, p->nr_addrs, n->addrs, n->nr_addrs))
		return;
	ipam_addrs_format(&a, p->addrs, p->nr_addrs);
	ipam_addrs_format(&b, n->addrs, n->nr_addrs);
	diff_add(df, "addresses", a.buf, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* Field by field, what changed from p to n ("" when nothing). */
static char *describe_changes(const struct ipam_inv_server *p,
			      const struct ipam_inv_server *n)
{
	struct diff df = {STRBUF_INIT};

	diff_str(&df, "domain", p->domain, n->domain);
	diff_roles(&df, p->roles, n->roles);
	if (p->declared != n->declared)
		diff_add(&df, "declared", p->declared ? "yes" : "no",
			 n->declared ? "yes" : "no");
	diff_addrs(&df, p, n);
	diff_str(&df, "operating system", p->os_name, n->os_name);
	diff_str(&df, "version", p->os_version, n->os_version);
	diff_str(&df, "GUID", p->guid, n->guid);
	diff_str(&df, "SID", p->sid, n->sid);
	diff_str(&df, "DN", p->dn, n->dn);
	if (p->manageability != n->manageability)
		diff_add(&df, "manageability",
			 ipam_manageability_name(p->manageability),
			 ipam_manageability_name(n->manageability));
	diff_str(&df, "owner", p->owner, n->owner);
	diff_str(&df, "description", p->description, n->description);
	return strbuf_detach(&df.text, NULL);
}

static int cmp_addr(const void *a, const void *b)
{
	return strcmp(((const struct ipam_addr *)a)->text,
		      ((const struct ipam_addr *)b)->text);
}

static struct ipam_inv_update *add_update(struct ipam_inv_plan *p)
{
	struct ipam_inv_update *u;

	ALLOC_GROW(p->updates, p->nr + 1, p->alloc);
	u = &p->updates[p->nr++];
	memset(u, 0, sizeof(*u));
	return u;
}

/* The desired-state fields of a row: manageability, owner, description
 * (borrowed from d). */
static void apply_desired(struct ipam_inv_server *row,
			  const struct ipam_desired *d)
{
	const struct ipam_server *ds = ipam_desired_find_server(d, row->name);

	row->manageability = ds ? ds->manageability : d->default_manageability;
	row->owner = ds ? ds->owner.value : NULL;
	row->description = ds ? ds->description.value : NULL;
}

/* detail: NULL or the row's own change text. */
static void set_status(struct ipam_inv_plan *p, struct ipam_inv_update *u,
		       enum ipam_inv_status st, char *detail)
{
	u->row.status = st;
	u->row.status_detail = detail;
	p->counts[st]++;
}

/* The plan's one copy of a change text many rows share. */
static char *shared_text(struct ipam_inv_plan *p, const char *text)
{
	for (size_t i = 0; i < p->nr_texts; i++)
		if (!strcmp(p->texts[i], text))
			return p->texts[i];
	ALLOC_GROW(p->texts, p->nr_texts + 1, p->alloc_texts);
	p->texts[p->nr_texts] = xstrdup(text);
	return p->texts[p->nr_texts++];
}

/* The stored servers by name (case folded), equal names in their order
 * (the cursor's by_name): a lookup per server seen was a scan of them
 * all. */
static int cmp_by_name(const void *a, const void *b)
{
	const struct ipam_inv_server *const *x = a, *const *y = b;
	int c = strcasecmp((*x)->name, (*y)->name);

	return c ? c : (*x > *y) - (*x < *y);
}

/* ipam_inventory_find's answer: the first stored server of that name. */
static const struct ipam_inv_server *
by_name_find(const struct ipam_inv_cursor *c, const char *name)
{
	size_t lo = 0, hi = c->nr_by_name;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcasecmp(c->by_name[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nr_by_name && !strcasecmp(c->by_name[lo]->name, name)
		       ? c->by_name[lo]
		       : NULL;
}

static void plan_seen(struct ipam_inv_plan *p,
		      const struct ipam_inv_cursor *prev,
		      const struct ipam_obs_domain *od,
		      const struct ipam_obs_server *s,
		      const struct ipam_desired *d)
{
	const struct ipam_inv_server *old = by_name_find(prev, s->name);
	struct ipam_inv_update *u = add_update(p);
	struct ipam_inv_server *row = &u->row;

	row->id = old ? old->id : 0;
	row->name = s->name;
	row->domain = od->name;
	row->roles = s->roles | (old ? old->roles & unverified_roles(od) : 0);
	row->declared = s->declared;
	row->os_name = s->os_name;
	row->os_version = s->os_version;
	row->guid = s->guid;
	row->sid = s->sid;
	row->dn = s->dn;
	row->addrs = s->addrs;
	row->nr_addrs = s->nr_addrs;
	/* The order the database returns them in, so equal compares equal. */
	if (s->nr_addrs > 1) {
		row->addrs = xcalloc(s->nr_addrs, sizeof(*row->addrs));
		memcpy(row->addrs, s->addrs, s->nr_addrs * sizeof(*s->addrs));
		qsort(row->addrs, row->nr_addrs, sizeof(*row->addrs), cmp_addr);
		u->own_addrs = true;
	}
	apply_desired(row, d);
	u->seen = true;
	if (!old) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, s->declared ? "declared, verified: "
					       : "discovered: ");
		ipam_roles_format(&sb, row->roles, ",");
		u->change = shared_text(p, sb.buf);
		strbuf_release(&sb);
		set_status(p, u, IPAM_INV_NEW, NULL);
		return;
	}
	row->first_seen = old->first_seen;
	u->change = describe_changes(old, row);
	if (old->status == IPAM_INV_GONE || old->status == IPAM_INV_NOT_FOUND) {
		char *again = xasprintf("discovered again%s%s",
					*u->change ? "; " : "", u->change);

		free(u->change);
		u->change = again;
	}
	u->purge = old->manageability != IPAM_MANAGE_UNMANAGED &&
		   row->manageability == IPAM_MANAGE_UNMANAGED;
	if (*u->change) {
		u->own_change = true;
		set_status(p, u, IPAM_INV_CHANGED, u->change);
	} else {
		free(u->change);
		u->change = NULL;
		set_status(p, u, IPAM_INV_UNCHANGED, NULL);
	}
}

/* Every stored role of the server was discovered completely this run. */
static bool fully_seen_roles(const struct ipam_obs_domain *od, unsigned roles)
{
	return (roles & unverified_roles(od)) == 0;
}

static void plan_unseen(struct ipam_inv_plan *p,
			const struct ipam_obs_domain *od,
			const struct ipam_inv_server *old,
			const struct ipam_desired *d)
{
	const struct ipam_server *ds = ipam_desired_find_server(d, old->name);
	bool was_gone = old->status == IPAM_INV_GONE ||
			old->status == IPAM_INV_NOT_FOUND;
	bool gone_now = !was_gone && fully_seen_roles(od, old->roles);
	struct ipam_inv_server row;
	struct ipam_inv_update *u;
	char *change;

	row = *old;
	apply_desired(&row, d);
	change = describe_changes(old, &row);
	/* Not seen but not provably gone: only the desired-state fields
	 * (manageability above all) follow the desired state; a server
	 * already gone is left as it is. */
	if (!gone_now && (was_gone || !*change)) {
		free(change);
		return;
	}
	u = add_update(p);
	u->row = row;
	u->own_change = true;
	u->purge = old->manageability != IPAM_MANAGE_UNMANAGED &&
		   row.manageability == IPAM_MANAGE_UNMANAGED;
	if (!gone_now) {
		u->change = change;
		set_status(p, u, IPAM_INV_CHANGED, change);
		return;
	}
	u->change = xasprintf(
		"%s%s%s", ds ? "declared, not found" : "no longer discovered",
		*change ? "; " : "", change);
	free(change);
	set_status(p, u, ds ? IPAM_INV_NOT_FOUND : IPAM_INV_GONE, u->change);
}

/* A stored server of a complete domain that od did not see: a row of the
 * plan maybe (plan_unseen). */
static bool unseen_in(const struct ipam_obs_domain *od,
		      const struct ipam_inv_server *old)
{
	return !strcasecmp(old->domain ? old->domain : "", od->name) &&
	       !ipam_obs_find(od, old->name);
}

/* The most rows the plan can have: a row per server seen or stored of the
 * complete domains. */
static size_t rows_at_most(const struct ipam_inventory *prev,
			   const struct ipam_observed *obs)
{
	size_t n = 0;

	for (size_t i = 0; i < obs->nr_domains; i++) {
		const struct ipam_obs_domain *od = &obs->domains[i];

		if (!ipam_obs_domain_complete(od))
			continue;
		n += od->nr_servers;
		for (size_t j = 0; j < prev->nr; j++)
			n += unseen_in(od, &prev->servers[j]);
	}
	return n;
}

void ipam_inv_cursor_init(struct ipam_inv_cursor *c,
			  const struct ipam_inventory *prev,
			  const struct ipam_observed *obs,
			  const struct ipam_desired *d)
{
	memset(c, 0, sizeof(*c));
	c->prev = prev;
	c->obs = obs;
	c->d = d;
	c->nr_by_name = prev->nr;
	c->by_name = xcalloc(prev->nr ? prev->nr : 1, sizeof(*c->by_name));
	for (size_t i = 0; i < prev->nr; i++)
		c->by_name[i] = &prev->servers[i];
	qsort(c->by_name, c->nr_by_name, sizeof(*c->by_name), cmp_by_name);
}

void ipam_inv_cursor_release(struct ipam_inv_cursor *c)
{
	free(c->by_name);
	memset(c, 0, sizeof(*c));
}

/* A listed server of od that nothing found: declared, not found. */
static void plan_listed(struct ipam_inv_plan *out,
			const struct ipam_inv_cursor *c,
			const struct ipam_obs_domain *od,
			const struct ipam_server *ds)
{
	if (!ds->domain || strcasecmp(ds->domain->name, od->name) ||
	    ipam_obs_find(od, ds->name) || by_name_find(c, ds->name))
		return;
	ALLOC_GROW(out->not_found, out->nr_not_found + 1, out->alloc_not_found);
	out->not_found[out->nr_not_found++] = xstrdup(ds->name);
}

/*
 * Rows until out has max of them or nothing is left.  Per complete
 * domain: the servers seen, the stored servers not seen, the listed
 * servers that nothing found.  A domain that could not be seen whole
 * changes nothing: failed discovery must not become removals or half
 * rows.
 */
static void plan_steps(struct ipam_inv_cursor *c, struct ipam_inv_plan *out,
		       size_t max)
{
	const struct ipam_inventory *prev = c->prev;

	while (c->domain < c->obs->nr_domains && out->nr < max) {
		const struct ipam_obs_domain *od = &c->obs->domains[c->domain];

		if (!ipam_obs_domain_complete(od)) {
			c->domain++;
			continue;
		}
		if (c->step == 0 && c->at < od->nr_servers) {
			plan_seen(out, c, od, &od->servers[c->at++], c->d);
			continue;
		}
		if (c->step == 1 && c->at < prev->nr) {
			if (unseen_in(od, &prev->servers[c->at]))
				plan_unseen(out, od, &prev->servers[c->at],
					    c->d);
			c->at++;
			continue;
		}
		if (c->step == 2 && c->at < c->d->nr_servers) {
			plan_listed(out, c, od, &c->d->servers[c->at++]);
			continue;
		}
		c->at = 0;
		if (++c->step == 3) {
			c->step = 0;
			c->domain++;
		}
	}
}

bool ipam_inv_cursor_next(struct ipam_inv_cursor *c, struct ipam_inv_plan *part,
			  size_t max)
{
	ipam_inv_plan_release(part);
	if (max) {
		part->updates = xcalloc(max, sizeof(*part->updates));
		part->alloc = max;
	}
	plan_steps(c, part, max);
	return part->nr || part->nr_not_found;
}

void ipam_inventory_plan(struct ipam_inv_plan *out,
			 const struct ipam_inventory *prev,
			 const struct ipam_observed *obs,
			 const struct ipam_desired *d)
{
	struct ipam_inv_cursor c;
	size_t most;

	memset(out, 0, sizeof(*out));
	ipam_inv_cursor_init(&c, prev, obs, d);
	/* At most a row per server seen or stored, allocated once: grown
	 * by halves, 20,000 rows held room for 31,000 (2 MB unused). */
	most = rows_at_most(prev, obs);
	if (most) {
		out->updates = xcalloc(most, sizeof(*out->updates));
		out->alloc = most;
	}
	plan_steps(&c, out, SIZE_MAX);
	ipam_inv_cursor_release(&c);
}

static bool observed_anywhere(const struct ipam_observed *obs, const char *name)
{
	size_t i;

	for (i = 0; i < obs->nr_domains; i++)
		if (ipam_obs_find(&obs->domains[i], name))
			return true;
	return false;
}

void ipam_inventory_check_collisions(struct ipam_observed *obs,
				     const struct ipam_inventory *prev)
{
	size_t i, j, k, m;

	for (i = 0; i < prev->nr; i++) {
		const struct ipam_inv_server *old = &prev->servers[i];

		if (old->status == IPAM_INV_GONE ||
		    old->status == IPAM_INV_NOT_FOUND ||
		    observed_anywhere(obs, old->name))
			continue;
		for (j = 0; j < obs->nr_domains; j++) {
			struct ipam_obs_domain *od = &obs->domains[j];

			for (k = 0; k < od->nr_servers; k++) {
				const struct ipam_obs_server *s =
					&od->servers[k];

				if (!s->declared)
					continue;
				for (m = 0; m < s->nr_addrs; m++) {
					size_t a;

					for (a = 0; a < old->nr_addrs; a++) {
						if (strcmp(s->addrs[m].text,
							   old->addrs[a].text))
							continue;
						ipam_obs_error(
							od,
							"address collision: "
							"'%s' and '%s' (in the "
							"inventory) both have "
							"the address %s",
							s->name, old->name,
							s->addrs[m].text);
					}
				}
			}
		}
	}
}

void ipam_inv_plan_release(struct ipam_inv_plan *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		if (p->updates[i].own_addrs)
			free(p->updates[i].row.addrs);
		if (p->updates[i].own_change)
			free(p->updates[i].change);
	}
	free(p->updates);
	for (i = 0; i < p->nr_not_found; i++)
		free(p->not_found[i]);
	free(p->not_found);
	for (i = 0; i < p->nr_texts; i++)
		free(p->texts[i]);
	free(p->texts);
	memset(p, 0, sizeof(*p));
}
