#include "db.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "db_events.h"
#include "db_internal.h"
#include "error.h"
#include "banned.h"

/* ---- inventory ---- */

static unsigned roles_parse(const char *text)
{
	unsigned roles = 0;
	char *copy, *p, *save = NULL;

	if (!text)
		return 0;
	copy = xstrdup(text);
	for (p = strtok_r(copy, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		enum ipam_role r;

		if (!ipam_role_parse(p, &r))
			roles |= r;
	}
	free(copy);
	return roles;
}

static int cmp_id(const void *a, const void *b)
{
	long long x = **(const long long *const *)a;
	long long y = **(const long long *const *)b;

	return (x > y) - (x < y);
}

/* The addresses read for one server, into the pool in one piece. */
static void put_addresses(struct ipam_inventory *inv, struct ipam_inv_server *s,
			  const struct ipam_addr *a, size_t n)
{
	if (!s || !n)
		return;
	s->addrs = ipam_strpool_alloc(inv->pool, n * sizeof(*a));
	memcpy(s->addrs, a, n * sizeof(*a));
	s->nr_addrs = n;
}

/* Attach addresses to the loaded servers (by id); they come grouped by
 * server. */
static int load_addresses(struct ipam_db *db, struct ipam_inventory *inv)
{
	long long **by_id = xcalloc(inv->nr + 1, sizeof(*by_id));
	struct ipam_inv_server *cur = NULL;
	struct ipam_addr *a = NULL;
	struct ipam_sql_stmt *st;
	size_t i, n = 0, alloc = 0;
	int rc, err;

	for (i = 0; i < inv->nr; i++)
		by_id[i] = &inv->servers[i].id;
	qsort(by_id, inv->nr, sizeof(*by_id), cmp_id);
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT server_id, family, address FROM "
		"server_addresses ORDER BY server_id, address");
	if (err) {
		free(by_id);
		return err;
	}
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		long long id = ipam_sql_column_int64(st, 0), *key = &id;
		long long **hit =
			bsearch(&key, by_id, inv->nr, sizeof(*by_id), cmp_id);
		struct ipam_inv_server *s;
		const char *text = ipam_sql_column_text(st, 2);

		if (!hit || !text)
			continue;
		s = (struct ipam_inv_server *)((char *)*hit -
					       offsetof(struct ipam_inv_server,
							id));
		if (s != cur) {
			put_addresses(inv, cur, a, n);
			cur = s;
			n = 0;
		}
		ALLOC_GROW(a, n + 1, alloc);
		a[n].family =
			ipam_sql_column_int64(st, 1) == 6 ? AF_INET6 : AF_INET;
		snprintf(a[n].text, sizeof(a[n].text), "%s", text);
		n++;
	}
	put_addresses(inv, cur, a, n);
	ipam_sql_finalize(st);
	free(a);
	free(by_id);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read addresses from");
	return 0;
}

/* How many servers are stored: the rows' array is allocated once. */
static int count_servers(struct ipam_db *db, size_t *n)
{
	struct ipam_sql_stmt *st;
	int err;

	*n = 0;
	err = ipam_db_sql_prepare(db, &st, "SELECT count(*) FROM servers");
	if (err)
		return err;
	if (ipam_sql_step(st) == IPAM_SQL_ROW)
		*n = (size_t)ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	return 0;
}

/*
 * One server row.  Its strings go into the pool: those many servers share
 * (domain, operating system, timestamps, status) once, the others packed.
 */
static void load_row(struct ipam_inventory *inv, struct ipam_sql_stmt *st)
{
	struct ipam_strpool *p = inv->pool;
	struct ipam_inv_server *s;
	const char *text;

	ALLOC_GROW(inv->servers, inv->nr + 1, inv->alloc);
	s = &inv->servers[inv->nr++];
	memset(s, 0, sizeof(*s));
	s->id = ipam_sql_column_int64(st, 0);
	s->name = ipam_strpool_dup(p, ipam_sql_column_text(st, 1));
	s->domain = ipam_strpool_intern(p, ipam_sql_column_text(st, 2));
	s->roles = roles_parse(ipam_sql_column_text(st, 3));
	s->declared = ipam_sql_column_int64(st, 4) != 0;
	text = ipam_sql_column_text(st, 5);
	if (!text || ipam_manageability_parse(text, &s->manageability))
		s->manageability = IPAM_MANAGE_UNSPECIFIED;
	s->owner = ipam_strpool_intern(p, ipam_sql_column_text(st, 6));
	s->description = ipam_strpool_intern(p, ipam_sql_column_text(st, 7));
	s->os_name = ipam_strpool_intern(p, ipam_sql_column_text(st, 8));
	s->os_version = ipam_strpool_intern(p, ipam_sql_column_text(st, 9));
	s->guid = ipam_strpool_dup(p, ipam_sql_column_text(st, 10));
	s->sid = ipam_strpool_dup(p, ipam_sql_column_text(st, 11));
	s->dn = ipam_strpool_dup(p, ipam_sql_column_text(st, 12));
	s->first_seen = ipam_strpool_intern(p, ipam_sql_column_text(st, 13));
	s->last_seen = ipam_strpool_intern(p, ipam_sql_column_text(st, 14));
	text = ipam_sql_column_text(st, 15);
	if (!text || ipam_inv_status_parse(text, &s->status))
		s->status = IPAM_INV_UNCHANGED;
	s->status_detail = ipam_strpool_intern(p, ipam_sql_column_text(st, 16));
	s->access = ipam_strpool_intern(p, ipam_sql_column_text(st, 17));
}

int ipam_db_inventory_load(struct ipam_db *db, struct ipam_inventory *out)
{
	struct ipam_sql_stmt *st;
	size_t n;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = count_servers(db, &n);
	if (err)
		return err;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT s.id, s.name, d.name, s.roles, s.declared, "
		"s.manageability, s.owner, s.description, s.os_name, "
		"s.os_version, s.object_guid, s.object_sid, s.dn, "
		"s.first_seen, s.last_seen, s.status, s.status_detail, "
		"(SELECT a.overall FROM access_status a WHERE "
		"a.server_id = s.id ORDER BY a.checked_at DESC, a.id DESC "
		"LIMIT 1) "
		"FROM servers s LEFT JOIN domains d ON d.id = s.domain_id "
		"ORDER BY s.name");
	if (err)
		return err;
	out->pool = xcalloc(1, sizeof(*out->pool));
	if (n) {
		out->servers = xcalloc(n, sizeof(*out->servers));
		out->alloc = n;
	}
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW)
		load_row(out, st);
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_inventory_release(out);
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the inventory from");
	}
	err = load_addresses(db, out);
	if (err)
		ipam_inventory_release(out);
	return err;
}

static int store_domain(struct ipam_db *db, const struct ipam_domain *dom,
			const struct ipam_obs_domain *od)
{
	const char *reason = ipam_obs_domain_reason(od);
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO domains(name, discover_dc, discover_dns, "
		"discover_dhcp, last_discovery_at, last_status, "
		"last_reason) VALUES (?1, ?2, ?3, ?4, " NOW_SQL ", ?5, ?6) "
		"ON CONFLICT(name) DO UPDATE SET "
		"discover_dc = excluded.discover_dc, "
		"discover_dns = excluded.discover_dns, "
		"discover_dhcp = excluded.discover_dhcp, "
		"last_discovery_at = excluded.last_discovery_at, "
		"last_status = excluded.last_status, "
		"last_reason = excluded.last_reason");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, od->name);
	ipam_sql_bind_int64(st, 2, dom ? dom->dc : 1);
	ipam_sql_bind_int64(st, 3, dom ? dom->dns : 1);
	ipam_sql_bind_int64(st, 4, dom ? dom->dhcp : 1);
	ipam_sql_bind_text(st, 5, reason ? "incomplete" : "complete");
	ipam_sql_bind_text(st, 6, reason);
	return ipam_db_sql_step_done(db, st, "cannot record a domain in");
}

/* Everything collected from server id: access checks, task outcomes,
 * audit events and cursors, zones (their records, history and status
 * cascade), availability. */
static int purge_collected(struct ipam_db *db, long long id)
{
	static const char *const purge[] = {
		"DELETE FROM access_status WHERE server_id = ?1",
		"DELETE FROM collect_server_status WHERE server_id = ?1",
		"DELETE FROM dhcp_audit_files WHERE server_id = ?1",
		"DELETE FROM dns_zones WHERE server_id = ?1",
		"DELETE FROM availability WHERE server_id = ?1",
		"DELETE FROM availability_history WHERE server_id = ?1",
		/* the addresses only this server's data showed */
		"DELETE FROM address_sources WHERE server_id = ?1 AND "
		"source IN ('dhcp','dns')",
		"DELETE FROM addresses WHERE NOT EXISTS (SELECT 1 FROM "
		"address_sources s WHERE s.address = addresses.address)",
	};
	struct ipam_sql_stmt *st;
	int err = 0;

	err = ipam_db_events_purge(db, id);
	for (size_t k = 0; !err && k < sizeof(purge) / sizeof(*purge); k++) {
		err = ipam_db_sql_prepare(db, &st, purge[k]);
		if (err)
			return err;
		ipam_sql_bind_int64(st, 1, id);
		err = ipam_db_sql_step_done(db, st,
					    "cannot purge collected data in");
	}
	return err;
}

/*
 * Write one server of the plan.  id 0: insert the row and nothing else
 * (its id is read back later, see new_ids); otherwise update the row
 * unless the server is new (r->id 0, inserted before), then write its
 * addresses, history and purge.  Nothing reads an answer back, so on
 * PostgreSQL it all goes out deferred.
 */
static int store_server(struct ipam_db *db, long long run_id,
			const struct ipam_inv_update *u, long long id)
{
	const struct ipam_inv_server *r = &u->row;
	struct strbuf roles = STRBUF_INIT;
	struct ipam_sql_stmt *st;
	size_t i;
	int err = 0;

	ipam_roles_format(&roles, r->roles, ",");
	if (id && !r->id)
		goto rows;
	if (!id)
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT INTO servers(domain_id, roles, declared, "
			"manageability, owner, description, os_name, "
			"os_version, object_guid, object_sid, dn, status, "
			"status_detail, name, first_seen, last_seen) "
			"VALUES ((SELECT id FROM domains WHERE name = ?1), "
			"?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
			"?13, ?14, " NOW_SQL ", " NOW_SQL ")");
	else
		err = ipam_db_sql_prepare(
			db, &st,
			"UPDATE servers SET domain_id = (SELECT id FROM "
			"domains WHERE name = ?1), roles = ?2, declared = "
			"?3, manageability = ?4, owner = ?5, description "
			"= ?6, os_name = ?7, os_version = ?8, object_guid "
			"= ?9, object_sid = ?10, dn = ?11, status = ?12, "
			"status_detail = ?13, last_seen = CASE WHEN ?15 "
			"THEN " NOW_SQL " ELSE last_seen END, first_seen = "
			"coalesce(first_seen, " NOW_SQL ") WHERE id = ?14");
	if (err)
		goto out;
	ipam_sql_bind_text(st, 1, r->domain);
	ipam_sql_bind_text(st, 2, roles.buf);
	ipam_sql_bind_int64(st, 3, r->declared);
	ipam_sql_bind_text(st, 4, ipam_manageability_name(r->manageability));
	ipam_sql_bind_text(st, 5, r->owner);
	ipam_sql_bind_text(st, 6, r->description);
	ipam_sql_bind_text(st, 7, r->os_name);
	ipam_sql_bind_text(st, 8, r->os_version);
	ipam_sql_bind_text(st, 9, r->guid);
	ipam_sql_bind_text(st, 10, r->sid);
	ipam_sql_bind_text(st, 11, r->dn);
	ipam_sql_bind_text(st, 12, ipam_inv_status_name(r->status));
	ipam_sql_bind_text(st, 13, r->status_detail);
	if (!id) {
		ipam_sql_bind_text(st, 14, r->name);
	} else {
		ipam_sql_bind_int64(st, 14, id);
		ipam_sql_bind_int64(st, 15, u->seen);
	}
	err = ipam_db_sql_step_done(db, st, "cannot store a server in");
	if (err || !id)
		goto out;
rows:
	if (u->seen) {
		err = ipam_db_sql_prepare(
			db, &st,
			"DELETE FROM server_addresses WHERE server_id = ?1");
		if (err)
			goto out;
		ipam_sql_bind_int64(st, 1, id);
		err = ipam_db_sql_step_done(db, st,
					    "cannot store addresses in");
		for (i = 0; !err && i < r->nr_addrs; i++) {
			err = ipam_db_sql_prepare(
				db, &st,
				"INSERT INTO server_addresses"
				"(server_id, family, address) VALUES "
				"(?1, ?2, ?3) ON CONFLICT DO NOTHING");
			if (err)
				break;
			ipam_sql_bind_int64(st, 1, id);
			ipam_sql_bind_int64(
				st, 2, strchr(r->addrs[i].text, ':') ? 6 : 4);
			ipam_sql_bind_text(st, 3, r->addrs[i].text);
			err = ipam_db_sql_step_done(
				db, st, "cannot store addresses in");
		}
		if (err)
			goto out;
	}
	if (u->change) {
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT INTO server_history(server_id, run_id, at, "
			"change) VALUES (?1, ?2, " NOW_SQL ", ?3)");
		if (err)
			goto out;
		ipam_sql_bind_int64(st, 1, id);
		ipam_sql_bind_int64(st, 2, run_id);
		ipam_sql_bind_text(st, 3, u->change);
		err = ipam_db_sql_step_done(db, st, "cannot store history in");
		if (err)
			goto out;
	}
	if (u->purge) {
		/* Unmanaged: IPAM keeps no collected data for it. */
		err = purge_collected(db, id);
	}
out:
	strbuf_release(&roles);
	return err;
}

static int cmp_update_name(const void *a, const void *b)
{
	const struct ipam_inv_update *x =
		*(const struct ipam_inv_update *const *)a;
	const struct ipam_inv_update *y =
		*(const struct ipam_inv_update *const *)b;

	return strcmp(x->row.name, y->row.name);
}

static int cmp_name_update(const void *key, const void *elem)
{
	const struct ipam_inv_update *y =
		*(const struct ipam_inv_update *const *)elem;

	return strcmp(key, y->row.name);
}

/* Fill ids[i] of the new rows of the plan from servers whose id is above
 * after, by name; false when one is missing. */
static int read_ids(struct ipam_db *db, const struct ipam_inv_update **by_name,
		    size_t n, const struct ipam_inv_plan *plan, long long *ids,
		    long long after)
{
	struct ipam_sql_stmt *st;
	int rc, err;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id, name FROM servers WHERE id > ?1");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, after);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *name = ipam_sql_column_text(st, 1);
		const struct ipam_inv_update **hit;

		if (!name)
			continue;
		hit = bsearch(name, by_name, n, sizeof(*by_name),
			      cmp_name_update);
		if (hit)
			ids[*hit - plan->updates] =
				ipam_sql_column_int64(st, 0);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot store a server in");
	return 0;
}

/*
 * The ids the servers new in the plan were given (ids[i] for
 * plan->updates[i]), read in one SELECT after their inserts rather than
 * one round trip each: those above after, the highest id before the
 * inserts (new ids only grow), else every server's.
 */
static int new_ids(struct ipam_db *db, const struct ipam_inv_plan *plan,
		   long long *ids, long long after)
{
	const struct ipam_inv_update **by_name;
	size_t i, n = 0;
	int err;

	by_name = xcalloc(plan->nr + 1, sizeof(*by_name));
	for (i = 0; i < plan->nr; i++)
		if (!plan->updates[i].row.id)
			by_name[n++] = &plan->updates[i];
	if (!n) {
		free(by_name);
		return 0;
	}
	qsort(by_name, n, sizeof(*by_name), cmp_update_name);
	err = read_ids(db, by_name, n, plan, ids, after);
	for (i = 0; !err && after && i < plan->nr; i++) {
		if (!ids[i]) {
			err = read_ids(db, by_name, n, plan, ids, 0);
			break;
		}
	}
	free(by_name);
	if (err)
		return err;
	for (i = 0; i < plan->nr; i++)
		if (!ids[i])
			return ipam_error_set(IPAM_EDB,
					      "server '%s' not stored in '%s'",
					      plan->updates[i].row.name,
					      ipam_sql_name(db->h));
	return 0;
}

/* The highest server id so far (0: none). */
static int max_id(struct ipam_db *db, long long *out)
{
	struct ipam_sql_stmt *st;
	int rc, err;

	*out = 0;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT coalesce(max(id), 0) FROM servers");
	if (err)
		return err;
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW)
		*out = ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot store a server in");
	return 0;
}

int ipam_db_inventory_write_begin(struct ipam_db_inv_writer *w,
				  struct ipam_db *db, long long run_id,
				  const struct ipam_desired *d,
				  const struct ipam_observed *obs)
{
	memset(w, 0, sizeof(*w));
	w->db = db;
	w->run_id = run_id;
	w->err = ipam_sql_begin(db->h);
	if (w->err)
		return w->err;
	w->begun = true;
	w->err = ipam_sql_defer(db->h, 1);
	for (size_t i = 0; !w->err && i < obs->nr_domains; i++)
		w->err = store_domain(
			db, ipam_desired_find_domain(d, obs->domains[i].name),
			&obs->domains[i]);
	return w->err;
}

/*
 * One part: the new servers' rows (in plan order, so they get their ids
 * in that order), their ids in one SELECT, then each server's update,
 * addresses, history and purge in plan order.
 */
int ipam_db_inventory_write(struct ipam_db_inv_writer *w,
			    const struct ipam_inv_plan *part)
{
	struct ipam_db *db = w->db;
	long long *ids, after = 0;
	size_t i;
	int err = w->err;

	if (err)
		return err;
	ids = xcalloc(part->nr + 1, sizeof(*ids));
	for (i = 0; i < part->nr && part->updates[i].row.id; i++)
		;
	if (i < part->nr)
		err = max_id(db, &after);
	for (i = 0; !err && i < part->nr; i++) {
		ids[i] = part->updates[i].row.id;
		if (!ids[i])
			err = store_server(db, w->run_id, &part->updates[i], 0);
	}
	if (!err)
		err = new_ids(db, part, ids, after);
	for (i = 0; !err && i < part->nr; i++)
		err = store_server(db, w->run_id, &part->updates[i], ids[i]);
	free(ids);
	w->err = err;
	return err;
}

int ipam_db_inventory_write_end(struct ipam_db_inv_writer *w)
{
	int err = w->err;

	if (!w->begun)
		return err;
	w->begun = false;
	if (ipam_sql_defer(w->db->h, 0) && !err)
		err = IPAM_EDB;
	if (!err)
		return ipam_db_sql_exec(w->db, "COMMIT");
	ipam_error_prefix(err, "storing the inventory");
	ipam_sql_rollback(w->db->h);
	return err;
}

/*
 * One transaction: the domains, then the plan as one part.  On
 * PostgreSQL the writes are deferred (pipelined): a round trip per few
 * hundred statements instead of one per statement.
 */
int ipam_db_inventory_store(struct ipam_db *db, long long run_id,
			    const struct ipam_desired *d,
			    const struct ipam_observed *obs,
			    const struct ipam_inv_plan *plan)
{
	struct ipam_db_inv_writer w;

	if (!ipam_db_inventory_write_begin(&w, db, run_id, d, obs))
		ipam_db_inventory_write(&w, plan);
	return ipam_db_inventory_write_end(&w);
}

int ipam_db_server_history(struct ipam_db *db, const char *name,
			   struct ipam_db_history **out, size_t *nr)
{
	struct ipam_sql_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT h.at, h.run_id, h.change FROM server_history h "
		"JOIN servers s ON s.id = h.server_id WHERE s.name = ?1 "
		"ORDER BY h.id");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, name);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[*nr].at = ipam_sql_column_dup(st, 0);
		(*out)[*nr].run_id = ipam_sql_column_int64(st, 1);
		(*out)[*nr].change = ipam_sql_column_dup(st, 2);
		(*nr)++;
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_history_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read history from");
	}
	return 0;
}

void ipam_db_history_free(struct ipam_db_history *h, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(h[i].at);
		free(h[i].change);
	}
	free(h);
}
