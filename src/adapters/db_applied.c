#include "db.h"

#include <stdlib.h>
#include <string.h>

#include "applied.h"
#include "db_internal.h"
#include "error.h"
#include "polfile.h"
#include "banned.h"

/* ---- what was applied ---- */

/* The role text of each enum ipam_pol_gpo in applied_gpos. */
static const char *const gpo_roles[IPAM_GPO_COUNT] = {
	[IPAM_POL_GPO_DHCP] = "dhcp",
	[IPAM_POL_GPO_DNS] = "dns",
	[IPAM_POL_GPO_DC_NPS] = "dc_nps",
};

static int gpo_role_parse(const char *text)
{
	int i;

	for (i = 0; text && i < IPAM_GPO_COUNT; i++)
		if (!strcmp(text, gpo_roles[i]))
			return i;
	return -1;
}

static int cmp_applied_gpo(const void *a, const void *b)
{
	const struct ipam_applied_gpo *x = a, *y = b;

	return (x->gpo > y->gpo) - (x->gpo < y->gpo);
}

/* A GPO's filter entries, sorted; fst is reset and reused. */
static int load_applied_filter(struct ipam_db *db, struct ipam_sql_stmt *fst,
			       const char *domain, struct ipam_applied_gpo *g)
{
	size_t alloc = 0;
	int rc;

	ipam_sql_reset(fst);
	ipam_sql_bind_text(fst, 1, domain);
	ipam_sql_bind_text(fst, 2, gpo_roles[g->gpo]);
	while ((rc = ipam_sql_step(fst)) == IPAM_SQL_ROW) {
		char *sid = ipam_sql_column_dup(fst, 0);

		if (!sid)
			continue;
		ALLOC_GROW(g->filter_sids, g->nr_filter + 1, alloc);
		g->filter_sids[g->nr_filter++] = sid;
	}
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read applied filters from");
	return 0;
}

/* A domain's GPOs in role order, with their filter entries. */
static int load_applied_gpos(struct ipam_db *db, struct ipam_sql_stmt *gst,
			     struct ipam_sql_stmt *fst,
			     struct ipam_applied_domain *ad)
{
	size_t k;
	int rc, err = 0;

	ipam_sql_reset(gst);
	ipam_sql_bind_text(gst, 1, ad->domain);
	while ((rc = ipam_sql_step(gst)) == IPAM_SQL_ROW) {
		int gpo = gpo_role_parse(ipam_sql_column_text(gst, 0));
		struct ipam_applied_gpo *g;

		/* The CHECK and the primary key make both impossible. */
		if (gpo < 0 || ad->nr_gpos >= IPAM_GPO_COUNT)
			continue;
		g = &ad->gpos[ad->nr_gpos++];
		memset(g, 0, sizeof(*g));
		g->gpo = gpo;
		g->guid = ipam_sql_column_dup(gst, 1);
		g->version = (uint32_t)ipam_sql_column_int64(gst, 2);
		g->linked = ipam_sql_column_int64(gst, 3) != 0;
		g->settings_current = ipam_sql_column_int64(gst, 4) != 0;
		g->dacl_current = ipam_sql_column_int64(gst, 5) != 0;
	}
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read applied GPOs from");
	qsort(ad->gpos, ad->nr_gpos, sizeof(ad->gpos[0]), cmp_applied_gpo);
	for (k = 0; !err && k < ad->nr_gpos; k++)
		err = load_applied_filter(db, fst, ad->domain, &ad->gpos[k]);
	return err;
}

int ipam_db_applied_load(struct ipam_db *db, struct ipam_applied *out)
{
	struct ipam_sql_stmt *st = NULL, *gst = NULL, *fst = NULL;
	size_t alloc = 0, i;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT domain, config_digest, grp, group_member, elr, "
		"dns_ace FROM applied_domains ORDER BY domain");
	if (err)
		goto out;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_applied_domain *ad;

		ALLOC_GROW(out->domains, out->nr + 1, alloc);
		ad = &out->domains[out->nr++];
		memset(ad, 0, sizeof(*ad));
		ad->domain = ipam_sql_column_dup(st, 0);
		ad->config_digest = ipam_sql_column_dup(st, 1);
		ad->group = ipam_sql_column_int64(st, 2) != 0;
		ad->group_member = ipam_sql_column_int64(st, 3) != 0;
		ad->elr = ipam_sql_column_int64(st, 4) != 0;
		ad->dns_ace = ipam_sql_column_int64(st, 5) != 0;
	}
	if (rc != IPAM_SQL_DONE) {
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read applied state from");
		goto out;
	}
	err = ipam_db_sql_prepare(
		db, &gst,
		"SELECT role, guid, version, linked, settings_current, "
		"dacl_current FROM applied_gpos WHERE domain = ?1");
	if (!err)
		err = ipam_db_sql_prepare(
			db, &fst,
			"SELECT sid FROM applied_filter WHERE domain = "
			"?1 AND role = ?2 ORDER BY sid");
	for (i = 0; !err && i < out->nr; i++)
		err = load_applied_gpos(db, gst, fst, &out->domains[i]);
out:
	ipam_sql_finalize(fst);
	ipam_sql_finalize(gst);
	ipam_sql_finalize(st);
	if (err)
		ipam_applied_release(out);
	return err;
}

/* Run sql with ?1 bound to a domain name. */
static int exec_for_domain(struct ipam_db *db, const char *sql,
			   const char *domain)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	ipam_sql_bind_text(st, 1, domain);
	return ipam_db_sql_step_done(db, st, "cannot record applied state in");
}

static int store_applied_gpo(struct ipam_db *db, const char *domain,
			     const struct ipam_applied_gpo *g)
{
	struct ipam_sql_stmt *st;
	size_t j;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO applied_gpos(domain, role, guid, version, "
		"linked, settings_current, dacl_current) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, domain);
	ipam_sql_bind_text(st, 2, gpo_roles[g->gpo]);
	ipam_sql_bind_text(st, 3, g->guid);
	ipam_sql_bind_int64(st, 4, g->version);
	ipam_sql_bind_int64(st, 5, g->linked);
	ipam_sql_bind_int64(st, 6, g->settings_current);
	ipam_sql_bind_int64(st, 7, g->dacl_current);
	err = ipam_db_sql_step_done(db, st, "cannot record an applied GPO in");
	for (j = 0; !err && j < g->nr_filter; j++) {
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT OR IGNORE INTO applied_filter(domain, "
			"role, sid) VALUES (?1, ?2, ?3)");
		if (err)
			break;
		ipam_sql_bind_text(st, 1, domain);
		ipam_sql_bind_text(st, 2, gpo_roles[g->gpo]);
		ipam_sql_bind_text(st, 3, g->filter_sids[j]);
		err = ipam_db_sql_step_done(db, st,
					    "cannot record a filter entry in");
	}
	return err;
}

static int check_applied(const struct ipam_applied_domain *ad)
{
	size_t k, j;

	if (!ad->domain || !*ad->domain)
		return ipam_error_set(IPAM_EINVAL,
				      "applied state names no domain");
	if (ad->nr_gpos > IPAM_GPO_COUNT)
		return ipam_error_set(IPAM_EINVAL,
				      "applied state of '%s' has %zu GPOs",
				      ad->domain, ad->nr_gpos);
	for (k = 0; k < ad->nr_gpos; k++) {
		const struct ipam_applied_gpo *g = &ad->gpos[k];

		if (g->gpo < 0 || g->gpo >= IPAM_GPO_COUNT)
			return ipam_error_set(IPAM_EINVAL,
					      "applied state of '%s': unknown "
					      "GPO %d",
					      ad->domain, g->gpo);
		if (!g->guid)
			return ipam_error_set(IPAM_EINVAL,
					      "applied state of '%s': the %s "
					      "GPO has no GUID",
					      ad->domain, gpo_roles[g->gpo]);
		for (j = 0; j < g->nr_filter; j++)
			if (!g->filter_sids[j])
				return ipam_error_set(
					IPAM_EINVAL,
					"applied state of '%s': a filter "
					"entry of the %s GPO has no SID",
					ad->domain, gpo_roles[g->gpo]);
	}
	return 0;
}

int ipam_db_applied_store(struct ipam_db *db, long long run_id,
			  const struct ipam_applied_domain *ad)
{
	struct ipam_sql_stmt *st;
	size_t k;
	int err;

	err = check_applied(ad);
	if (err)
		return err;
	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	/* Children first: the cascades need foreign_keys, this does not. */
	err = exec_for_domain(
		db, "DELETE FROM applied_filter WHERE domain = ?1", ad->domain);
	if (!err)
		err = exec_for_domain(
			db, "DELETE FROM applied_gpos WHERE domain = ?1",
			ad->domain);
	if (!err)
		err = exec_for_domain(
			db, "DELETE FROM applied_domains WHERE domain = ?1",
			ad->domain);
	if (!err)
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT INTO applied_domains(domain, run_id, "
			"applied_at, config_digest, grp, group_member, "
			"elr, dns_ace) VALUES (?1, ?2, " NOW_SQL
			", ?3, ?4, ?5, ?6, ?7)");
	if (!err) {
		ipam_sql_bind_text(st, 1, ad->domain);
		if (run_id > 0)
			ipam_sql_bind_int64(st, 2, run_id);
		else
			ipam_sql_bind_null(st, 2);
		ipam_sql_bind_text(st, 3, ad->config_digest);
		ipam_sql_bind_int64(st, 4, ad->group);
		ipam_sql_bind_int64(st, 5, ad->group_member);
		ipam_sql_bind_int64(st, 6, ad->elr);
		ipam_sql_bind_int64(st, 7, ad->dns_ace);
		err = ipam_db_sql_step_done(db, st,
					    "cannot record applied state in");
	}
	for (k = 0; !err && k < ad->nr_gpos; k++)
		err = store_applied_gpo(db, ad->domain, &ad->gpos[k]);
	if (!err)
		err = ipam_db_sql_exec(db, "COMMIT");
	if (!err)
		return 0;
	ipam_error_prefix(err, "recording what was applied to '%s'",
			  ad->domain);
	ipam_sql_rollback(db->h);
	return err;
}
