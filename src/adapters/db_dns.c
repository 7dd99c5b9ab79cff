#include "db_dns.h"
#include "db_dialect.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/*
 * A zone's records are compared with what is stored in SQL: the new set
 * goes into a temporary table keyed as dns_records is, and each kind of
 * difference is one INSERT ... SELECT into the history, so the work is a
 * few index walks whatever the zone's size.
 */

/* The new set and the single-valued changes: temporary tables of the
 * connection, typed as dns_records is (PostgreSQL copies its types). */
static const char new_table_lite[] =
	"CREATE TEMP TABLE IF NOT EXISTS dns_new ("
	"  name TEXT NOT NULL COLLATE NOCASE,"
	"  type INTEGER NOT NULL,"
	"  data TEXT NOT NULL,"
	"  ttl INTEGER NOT NULL,"
	"  aging INTEGER NOT NULL,"
	"  PRIMARY KEY (name, type, data)) WITHOUT ROWID;"
	"CREATE TEMP TABLE IF NOT EXISTS dns_chg ("
	"  name TEXT NOT NULL COLLATE NOCASE,"
	"  type INTEGER NOT NULL,"
	"  old_data TEXT, new_data TEXT, old_ttl INTEGER, new_ttl INTEGER);"
	"DELETE FROM dns_new;"
	"DELETE FROM dns_chg;";

static const char new_table_pg[] =
	"CREATE TEMP TABLE IF NOT EXISTS dns_new AS SELECT name, type, "
	"data, ttl, aging FROM dns_records WITH NO DATA;"
	"CREATE UNIQUE INDEX IF NOT EXISTS dns_new_key "
	"ON dns_new (name, type, data);"
	"CREATE TEMP TABLE IF NOT EXISTS dns_chg AS SELECT name, type, "
	"data AS old_data, data AS new_data, ttl AS old_ttl, ttl AS new_ttl "
	"FROM dns_records WITH NO DATA;"
	"DELETE FROM dns_new;"
	"DELETE FROM dns_chg;";

#define HIST_COLS                                                              \
	"INSERT INTO dns_record_history (zone_id, run_id, at, change, name, "  \
	"type, old_data, new_data, old_ttl, new_ttl) "

#define IN_OLD(n)                                                              \
	"EXISTS (SELECT 1 FROM dns_records o WHERE o.zone_id = ?1 AND "        \
	"o.name = " n ".name AND o.type = " n ".type AND o.data = " n ".data)"
#define IN_NEW(o)                                                              \
	"EXISTS (SELECT 1 FROM dns_new n WHERE n.name = " o ".name AND "       \
	"n.type = " o ".type AND n.data = " o ".data)"
#define IN_CHG(x)                                                              \
	"EXISTS (SELECT 1 FROM dns_chg c WHERE c.name = " x ".name AND "       \
	"c.type = " x ".type)"

/* The single-valued types: one SOA, one CNAME per name. */
static const char find_changed[] =
	"INSERT INTO dns_chg SELECT n.name, n.type, o.data, n.data, "
	"o.ttl, n.ttl FROM dns_new n JOIN dns_records o "
	"ON o.zone_id = ?1 AND o.name = n.name AND o.type = n.type "
	"WHERE n.type IN (5, 6) AND o.data <> n.data "
	"AND (SELECT count(*) FROM dns_new x WHERE x.name = n.name "
	"AND x.type = n.type) = 1 "
	"AND (SELECT count(*) FROM dns_records y WHERE y.zone_id = ?1 "
	"AND y.name = n.name AND y.type = n.type) = 1";

static const char hist_changed[] =
	HIST_COLS "SELECT ?1, ?2, " NOW_SQL ", 'changed', name, type, "
		  "old_data, new_data, old_ttl, new_ttl FROM dns_chg";

static const char hist_ttl[] =
	HIST_COLS "SELECT ?1, ?2, " NOW_SQL ", 'changed', n.name, n.type, "
		  "n.data, n.data, o.ttl, n.ttl FROM dns_new n "
		  "JOIN dns_records o ON o.zone_id = ?1 AND o.name = n.name "
		  "AND o.type = n.type AND o.data = n.data "
		  "WHERE o.ttl <> n.ttl";

static const char hist_added[] =
	HIST_COLS "SELECT ?1, ?2, " NOW_SQL ", 'added', n.name, n.type, "
		  "NULL, n.data, NULL, n.ttl FROM dns_new n "
		  "WHERE NOT " IN_OLD("n") " AND NOT " IN_CHG("n");

static const char hist_removed[] = HIST_COLS
	"SELECT ?1, ?2, " NOW_SQL ", 'removed', r.name, r.type, "
	"r.data, NULL, r.ttl, NULL FROM dns_records r "
	"WHERE r.zone_id = ?1 AND NOT " IN_NEW("r") " AND NOT " IN_CHG("r");

static const char apply_delete[] =
	"DELETE FROM dns_records WHERE zone_id = ?1 AND NOT " IN_NEW(
		"dns_records");

static const char apply_upsert[] =
	"INSERT INTO dns_records (zone_id, name, type, data, ttl, aging) "
	"SELECT ?1, name, type, data, ttl, aging FROM dns_new WHERE true "
	"ON CONFLICT (zone_id, name, type, data) DO UPDATE SET "
	"ttl = excluded.ttl, aging = excluded.aging";

static const char apply_zone[] =
	"UPDATE dns_zones SET run_id = ?2, collected_at = " NOW_SQL ", "
	"record_count = (SELECT count(*) FROM dns_records "
	"WHERE zone_id = ?1) WHERE id = ?1";

/* Run sql with ?1 the zone and ?2 the run (NULL for 0); *changes (may be
 * NULL) the rows it wrote. */
static int run_zone_sql(struct ipam_db *db, const char *sql, long long zone,
			long long run_id, long long *changes)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, zone);
	/* Only where sql has ?2: PostgreSQL types every parameter. */
	if (run_id && ipam_sql_bind_count(st) >= 2)
		ipam_sql_bind_int64(st, 2, run_id);
	err = ipam_db_sql_step_done(db, st, "cannot store dns records in");
	if (!err && changes)
		*changes = ipam_sql_changes(db->h);
	return err;
}

/* The zone's id, made (or updated) to say what it was read through. */
static int zone_row(struct ipam_db *db, const struct ipam_db_dns_zone *z,
		    long long *id, bool *first)
{
	struct ipam_sql_stmt *st;
	int err, rc;
	long long server;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id FROM servers WHERE name = ?1");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, z->server);
	rc = ipam_sql_step(st);
	server = rc == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0) : 0;
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read servers in");
	if (!server)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "server '%s' is not in the inventory",
				      z->server);
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id FROM dns_zones WHERE domain = ?1 "
				  "AND partition = ?2 AND name = ?3");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, z->domain);
	ipam_sql_bind_text(st, 2, z->partition);
	ipam_sql_bind_text(st, 3, z->name);
	rc = ipam_sql_step(st);
	*id = rc == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0) : 0;
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB, "cannot read zones in");
	*first = !*id;
	err = ipam_db_sql_prepare(
		db, &st,
		*id ? "UPDATE dns_zones SET server_id = ?4, dn = ?5, "
		      "reverse = ?6, name = ?3 WHERE id = ?7 AND domain = ?1 "
		      "AND partition = ?2"
		    : "INSERT INTO dns_zones (domain, partition, name, "
		      "server_id, dn, reverse, collected_at) VALUES (?1, ?2, "
		      "?3, ?4, ?5, ?6, " NOW_SQL ")");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, z->domain);
	ipam_sql_bind_text(st, 2, z->partition);
	ipam_sql_bind_text(st, 3, z->name);
	ipam_sql_bind_int64(st, 4, server);
	ipam_sql_bind_text(st, 5, z->dn);
	ipam_sql_bind_int64(st, 6, z->reverse);
	if (*id)
		ipam_sql_bind_int64(st, 7, *id);
	err = ipam_db_sql_step_done(db, st, "cannot store a zone in");
	if (!err && !*id)
		*id = ipam_sql_last_insert_id(db->h);
	return err;
}

static int load_new(struct ipam_db *db, const struct ipam_db_dns_record *recs,
		    size_t nr)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_exec(
		db, IPAM_DB_SQL(db, new_table_lite, new_table_pg));

	if (!err)
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT INTO dns_new (name, type, data, ttl, aging) "
			"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
	if (err)
		return err;
	for (size_t i = 0; i < nr && !err; i++) {
		ipam_sql_bind_text(st, 1, recs[i].name);
		ipam_sql_bind_int64(st, 2, recs[i].type);
		ipam_sql_bind_text(st, 3, recs[i].data);
		ipam_sql_bind_int64(st, 4, recs[i].ttl);
		ipam_sql_bind_int64(st, 5, recs[i].aging);
		if (ipam_sql_step(st) != IPAM_SQL_DONE)
			err = ipam_db_sql_error(db, IPAM_EDB,
						"cannot store dns records in");
		ipam_sql_reset(st);
	}
	ipam_sql_finalize(st);
	return err;
}

static int diff_zone(struct ipam_db *db, long long zone, long long run_id,
		     struct ipam_db_dns_changes *out)
{
	long long n = 0;
	int err = run_zone_sql(db, find_changed, zone, run_id, NULL);

	if (!err)
		err = run_zone_sql(db, hist_changed, zone, run_id, &n);
	out->changed += n;
	n = 0;
	if (!err)
		err = run_zone_sql(db, hist_ttl, zone, run_id, &n);
	out->changed += n;
	n = 0;
	if (!err)
		err = run_zone_sql(db, hist_added, zone, run_id, &n);
	out->added += n;
	n = 0;
	if (!err)
		err = run_zone_sql(db, hist_removed, zone, run_id, &n);
	out->removed += n;
	return err;
}

int ipam_db_dns_store_zone(struct ipam_db *db, const struct ipam_db_dns_zone *z,
			   const struct ipam_db_dns_record *recs, size_t nr,
			   long long run_id, struct ipam_db_dns_changes *out)
{
	long long zone = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	err = zone_row(db, z, &zone, &out->first);
	if (!err)
		err = load_new(db, recs, nr);
	if (!err && !out->first)
		err = diff_zone(db, zone, run_id, out);
	if (!err)
		err = run_zone_sql(db, apply_delete, zone, run_id, NULL);
	if (!err)
		err = run_zone_sql(db, apply_upsert, zone, run_id, NULL);
	if (!err)
		err = run_zone_sql(db, apply_zone, zone, run_id, NULL);
	if (!err)
		err = ipam_db_sql_exec(db, "COMMIT");
	if (err) {
		ipam_sql_rollback(db->h);
		memset(out, 0, sizeof(*out));
		return ipam_error_prefix(err, "zone '%s'", z->name);
	}
	return 0;
}

static bool listed(const char *name, const char *const *names, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

int ipam_db_dns_retain_zones(struct ipam_db *db, const char *domain,
			     const char *partition, const char *const *names,
			     size_t nr, long long *removed)
{
	struct ipam_sql_stmt *st = NULL, *del = NULL;
	long long n = 0;
	int err, rc;

	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id, name FROM dns_zones WHERE "
				  "domain = ?1 AND partition = ?2");
	if (!err)
		err = ipam_db_sql_prepare(
			db, &del, "DELETE FROM dns_zones WHERE id = ?1");
	if (err)
		goto out;
	ipam_sql_bind_text(st, 1, domain);
	ipam_sql_bind_text(st, 2, partition);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *name = ipam_sql_column_text(st, 1);

		if (listed(name ? name : "", names, nr))
			continue;
		ipam_sql_bind_int64(del, 1, ipam_sql_column_int64(st, 0));
		if (ipam_sql_step(del) != IPAM_SQL_DONE) {
			rc = IPAM_EDB;
			break;
		}
		ipam_sql_reset(del);
		n++;
	}
	if (rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot remove old zones from");
out:
	ipam_sql_finalize(st);
	ipam_sql_finalize(del);
	if (!err)
		err = ipam_db_sql_exec(db, "COMMIT");
	if (err) {
		ipam_sql_rollback(db->h);
		return err;
	}
	if (removed)
		*removed = n;
	return 0;
}

/* ---- views ------------------------------------------------------------ */

static int zone_ns(struct ipam_db *db, long long id,
		   struct ipam_db_dns_zone_row *z)
{
	struct ipam_sql_stmt *st;
	size_t alloc = 0;
	int rc, err;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT data FROM dns_records WHERE "
				  "zone_id = ?1 AND name = '@' AND type = 2 "
				  "ORDER BY data");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, id);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(z->ns, z->nr_ns + 1, alloc);
		z->ns[z->nr_ns++] = ipam_sql_column_dup(st, 0);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB, "cannot read zones in");
	return 0;
}

int ipam_db_dns_zones(struct ipam_db *db, const char *domain,
		      struct ipam_db_dns_zone_row **out, size_t *nr)
{
	struct ipam_db_dns_zone_row *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT z.domain, z.name, z.partition, z.dn, s.name, "
		"z.collected_at, z.reverse, z.record_count, st.status, "
		"st.reason, st.checked_at, z.id FROM dns_zones z "
		"JOIN servers s ON s.id = z.server_id "
		"LEFT JOIN zone_status st ON st.zone_id = z.id "
		"WHERE z.domain = ?1 OR CAST(?1 AS TEXT) IS NULL "
		"ORDER BY z.domain, z.name, z.partition");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, domain);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_dns_zone_row *z;

		ALLOC_GROW(v, n + 1, alloc);
		z = &v[n++];
		memset(z, 0, sizeof(*z));
		z->domain = ipam_sql_column_dup(st, 0);
		z->name = ipam_sql_column_dup(st, 1);
		z->partition = ipam_sql_column_dup(st, 2);
		z->dn = ipam_sql_column_dup(st, 3);
		z->server = ipam_sql_column_dup(st, 4);
		z->collected_at = ipam_sql_column_dup(st, 5);
		z->reverse = ipam_sql_column_int64(st, 6);
		z->records = ipam_sql_column_int64(st, 7);
		z->status = ipam_sql_column_dup(st, 8);
		z->reason = ipam_sql_column_dup(st, 9);
		z->checked_at = ipam_sql_column_dup(st, 10);
		z->id = ipam_sql_column_int64(st, 11);
		err = zone_ns(db, z->id, z);
		if (err)
			break;
	}
	ipam_sql_finalize(st);
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB, "cannot read zones in");
	if (err) {
		ipam_db_dns_zones_free(v, n);
		return err;
	}
	*out = v;
	*nr = n;
	return 0;
}

void ipam_db_dns_zones_free(struct ipam_db_dns_zone_row *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		struct ipam_db_dns_zone_row *z = &v[i];

		free(z->domain);
		free(z->name);
		free(z->partition);
		free(z->dn);
		free(z->server);
		free(z->collected_at);
		free(z->status);
		free(z->reason);
		free(z->checked_at);
		for (size_t k = 0; k < z->nr_ns; k++)
			free(z->ns[k]);
		free(z->ns);
	}
	free(v);
}

static int zone_known(struct ipam_db *db, const char *zone)
{
	struct ipam_sql_stmt *st;
	int rc, err;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT 1 FROM dns_zones WHERE name = ?1");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, zone);
	rc = ipam_sql_step(st);
	ipam_sql_finalize(st);
	if (rc == IPAM_SQL_ROW)
		return 0;
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB, "cannot read zones in");
	return ipam_error_set(IPAM_ENOTFOUND,
			      "zone '%s' has not been collected (ipamctl "
			      "dns zones lists those that were)",
			      zone);
}

/* "dc1.corp.example.test." or "dc1.corp.example.test" in zone
 * corp.example.test -> "dc1"; the zone itself -> "@". */
static void relative_name(struct strbuf *out, const char *name,
			  const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n && name[n - 1] == '.')
		n--;
	if (n == z && !strncasecmp(name, zone, z)) {
		strbuf_addch(out, '@');
		return;
	}
	if (n > z + 1 && name[n - z - 1] == '.' &&
	    !strncasecmp(name + n - z, zone, z))
		n -= z + 1;
	strbuf_add(out, name, n);
}

static const char *col(struct ipam_sql_stmt *st, int i)
{
	return ipam_sql_column_text(st, i);
}

int ipam_db_dns_records(struct ipam_db *db, const char *zone, const char *name,
			unsigned type, ipam_db_dns_record_fn fn, void *ctx)
{
	struct strbuf rel = STRBUF_INIT;
	struct ipam_sql_stmt *st;
	int rc, err = zone_known(db, zone);

	if (err)
		return err;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT z.name, z.partition, r.name, r.type, r.data, r.ttl, "
		"r.aging FROM dns_records r JOIN dns_zones z "
		"ON z.id = r.zone_id WHERE z.name = ?1 "
		"AND (r.name = ?2 OR CAST(?2 AS TEXT) IS NULL) AND (?3 = 0 OR "
		"r.type = ?3) "
		"ORDER BY z.partition, r.name, r.type, r.data");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, zone);
	if (name) {
		relative_name(&rel, name, zone);
		ipam_sql_bind_text(st, 2, rel.buf);
	}
	ipam_sql_bind_int64(st, 3, type);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_dns_record_row r = {
			.zone = col(st, 0),
			.partition = col(st, 1),
			.name = col(st, 2),
			.type = (unsigned)ipam_sql_column_int64(st, 3),
			.data = col(st, 4),
			.ttl = ipam_sql_column_int64(st, 5),
			.aging = ipam_sql_column_int64(st, 6),
		};

		err = fn(ctx, &r);
		if (err)
			break;
	}
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB, "cannot read records in");
	ipam_sql_finalize(st);
	strbuf_release(&rel);
	return err;
}

static long long col_int_or(struct ipam_sql_stmt *st, int i, long long none)
{
	return ipam_sql_column_type(st, i) == IPAM_SQL_NULL
		       ? none
		       : ipam_sql_column_int64(st, i);
}

int ipam_db_dns_history(struct ipam_db *db, const char *zone, long long limit,
			ipam_db_dns_history_fn fn, void *ctx)
{
	struct ipam_sql_stmt *st;
	int rc, err = zone_known(db, zone);

	if (err)
		return err;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT z.name, h.at, h.change, h.name, h.type, h.old_data, "
		"h.new_data, h.run_id, h.old_ttl, h.new_ttl "
		"FROM dns_record_history h JOIN dns_zones z "
		"ON z.id = h.zone_id WHERE z.name = ?1 "
		"ORDER BY h.id DESC LIMIT ?2");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, zone);
	ipam_sql_bind_int64(st, 2, limit > 0 ? limit : IPAM_DB_NO_LIMIT);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_dns_history_row h = {
			.zone = col(st, 0),
			.at = col(st, 1),
			.change = col(st, 2),
			.name = col(st, 3),
			.type = (unsigned)ipam_sql_column_int64(st, 4),
			.old_data = col(st, 5),
			.new_data = col(st, 6),
			.run_id = col_int_or(st, 7, 0),
			.old_ttl = col_int_or(st, 8, -1),
			.new_ttl = col_int_or(st, 9, -1),
		};

		err = fn(ctx, &h);
		if (err)
			break;
	}
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB, "cannot read history in");
	ipam_sql_finalize(st);
	return err;
}
