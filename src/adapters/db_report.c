#include "db_report.h"
#include "db_dialect.h"
#include "db_events.h"
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "strbuf.h"
#include "banned.h"

/*
 * Each section is SQL whose column names are the JSON keys.  A name
 * ending in '?' is a boolean, one ending in '~' JSON text stored in the
 * column (kept as the string when it does not parse); the mark is dropped.
 */

static struct ipam_node *column_node(struct ipam_sql_stmt *st, int col,
				     char mark)
{
	const char *text;
	char buf[32];

	switch (ipam_sql_column_type(st, col)) {
	case IPAM_SQL_NULL:
		return ipam_node_new(IPAM_NODE_NULL);
	case IPAM_SQL_INTEGER:
		if (mark == '?')
			return ipam_node_bool(ipam_sql_column_int64(st, col));
		return ipam_node_int(ipam_sql_column_int64(st, col));
	case IPAM_SQL_FLOAT:
		snprintf(buf, sizeof(buf), "%.1f",
			 ipam_sql_column_double(st, col));
		return ipam_node_str(buf);
	default:
		break;
	}
	text = ipam_sql_column_text(st, col);
	if (mark == '~') {
		struct ipam_node *n = NULL;

		if (!ipam_json_parse(&n, "column", text, strlen(text)))
			return n;
		ipam_error_clear();
	}
	return ipam_node_str(text ? text : "");
}

/* sparse: a NULL column is left out (the big lists stay small). */
static struct ipam_node *row_node(struct ipam_sql_stmt *st, bool sparse)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	int n = ipam_sql_column_count(st);

	for (int i = 0; i < n; i++) {
		const char *name = ipam_sql_column_name(st, i);
		size_t len = strlen(name);
		char mark = '\0';
		char *key;

		if (len && (name[len - 1] == '?' || name[len - 1] == '~'))
			mark = name[len - 1];

		if (sparse && ipam_sql_column_type(st, i) == IPAM_SQL_NULL)
			continue;
		key = xstrndup(name, mark ? len - 1 : len);

		ipam_node_set(m, key, column_node(st, i, mark));
		free(key);
	}
	return m;
}

/* The rows of sql (?1 bound to p1 when it has a parameter) appended to
 * seq as maps; sparse, without their NULL columns. */
static int rows_as(struct ipam_db *db, const char *sql, long long p1,
		   struct ipam_node *seq, bool sparse)
{
	struct ipam_sql_stmt *st = NULL;
	int err = ipam_db_sql_prepare(db, &st, sql), rc;

	if (err)
		return err;
	if (ipam_sql_bind_count(st))
		ipam_sql_bind_int64(st, 1, p1);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW)
		ipam_node_push(seq, row_node(st, sparse));
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the report");
	return 0;
}

static int rows(struct ipam_db *db, const char *sql, long long p1,
		struct ipam_node *seq)
{
	return rows_as(db, sql, p1, seq, false);
}

/* A new sequence of the rows of sql, set as key of map. */
static int rows_set(struct ipam_db *db, struct ipam_node *map, const char *key,
		    const char *sql, long long p1)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

	ipam_node_set(map, key, seq);
	return rows(db, sql, p1, seq);
}

/* The first row of sql as a map (an empty map when there is none). */
static int row_one(struct ipam_db *db, const char *sql, struct ipam_node **out)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	int err = rows(db, sql, 0, seq);

	if (!err && seq->nr) {
		*out = seq->items[0];
		seq->nr = 0;
	} else {
		*out = ipam_node_new(IPAM_NODE_MAP);
	}
	ipam_node_free(seq);
	return err;
}

static int count(struct ipam_db *db, const char *sql, long long *out)
{
	struct ipam_sql_stmt *st = NULL;
	int err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	*out = ipam_sql_step(st) == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0)
						 : 0;
	ipam_sql_finalize(st);
	return 0;
}

static bool has_table(struct ipam_db *db, const char *name)
{
	struct ipam_sql_stmt *st = NULL;
	bool yes;

	if (ipam_db_sql_prepare(
		    db, &st,
		    IPAM_DB_SQL(db,
				"SELECT 1 FROM sqlite_master WHERE "
				"type = 'table' AND name = ?1",
				"SELECT 1 FROM information_schema.tables "
				"WHERE table_schema = current_schema() AND "
				"table_name = ?1"))) {
		ipam_error_clear();
		return false;
	}
	ipam_sql_bind_text(st, 1, name);
	yes = ipam_sql_step(st) == IPAM_SQL_ROW;
	ipam_sql_finalize(st);
	return yes;
}

/* ---- overview ---------------------------------------------------------- */

/* The servers of the group (a role) managed, unmanaged, unspecified. */
#define MANAGED "sum(CASE WHEN s.manageability = 'managed' THEN 1 ELSE 0 END)"
#define UNMANAGED                                                              \
	"sum(CASE WHEN s.manageability = 'unmanaged' THEN 1 ELSE 0 END)"
#define UNSPECIFIED                                                            \
	"sum(CASE WHEN s.manageability = 'unspecified' THEN 1 ELSE 0 END)"

static const char by_role[] =
	"WITH r(ord, role) AS (VALUES (1, 'dc'), (2, 'dns'), (3, 'dhcp'), "
	"(4, 'nps')) SELECT r.role AS role, count(s.id) AS total, "
	"coalesce(" MANAGED ", 0) AS managed, coalesce(" UNMANAGED ", 0) AS "
	"unmanaged, coalesce(" UNSPECIFIED ", 0) AS unspecified FROM r LEFT "
	"JOIN servers s ON ',' || s.roles || ',' LIKE '%,' || r.role || ',%' "
	"GROUP BY r.ord, r.role ORDER BY r.ord";

static int read_overview(struct ipam_db *db,
			 const struct ipam_db_report_opts *o,
			 struct ipam_node *root)
{
	struct ipam_node *ov = ipam_node_new(IPAM_NODE_MAP), *srv;
	struct ipam_db_settings s = {0};
	long long total = 0;
	int err;

	ipam_node_set(root, "overview", ov);
	err = ipam_db_get_settings(db, &s);
	if (err)
		return err;
	ipam_node_set(ov, "provisioningMethod",
		      ipam_node_str_or_null(s.method));
	ipam_node_set(ov, "gpoPrefix", ipam_node_str_or_null(s.gpo_prefix));
	ipam_node_set(ov, "settingsFixedAt", ipam_node_str_or_null(s.fixed_at));
	ipam_db_settings_release(&s);
	err = rows_set(db, ov, "domains",
		       "SELECT name, last_discovery_at AS \"lastDiscoveryAt\", "
		       "last_status AS \"lastStatus\", last_reason AS "
		       "\"lastReason\", "
		       "(SELECT count(*) FROM servers s WHERE s.domain_id = "
		       "d.id) AS servers FROM domains d ORDER BY name",
		       0);
	if (err)
		return err;
	srv = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(ov, "servers", srv);
	err = count(db, "SELECT count(*) FROM servers", &total);
	ipam_node_set(srv, "total", ipam_node_int(total));
	if (!err)
		err = rows_set(db, srv, "byRole", by_role, 0);
	if (!err)
		err = rows_set(
			db, ov, "runs",
			"SELECT id, command, started_at AS \"startedAt\", "
			"ended_at AS \"endedAt\", outcome, summary FROM runs "
			"ORDER BY id DESC LIMIT ?1",
			(long long)o->runs);
	if (!err)
		err = count(db, "SELECT count(*) FROM runs", &total);
	ipam_node_set(ov, "runsTotal", ipam_node_int(total));
	return err;
}

/* ---- servers and GPOs -------------------------------------------------- */

#define LATEST_ACCESS                                                          \
	"LEFT JOIN access_status a ON a.id = (SELECT max(id) FROM "            \
	"access_status x WHERE x.server_id = s.id) "

static int read_servers(struct ipam_db *db, struct ipam_node *root)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *seq;
	int err;

	ipam_node_set(root, "servers", m);
	err = rows_set(db, m, "byAccess",
		       "SELECT coalesce(a.overall, 'Not checked') AS access, "
		       "count(*) AS count FROM servers s " LATEST_ACCESS
		       "GROUP BY 1 ORDER BY 1",
		       0);
	if (err)
		return err;
	/* The blocked first: what needs an administrator.  Sparse: the
	 * inventory is the report's one list as long as the network. */
	seq = ipam_node_new(IPAM_NODE_SEQ);
	ipam_node_set(m, "items", seq);
	return rows_as(
		db,
		"SELECT s.name AS name, d.name AS domain, s.roles AS roles, "
		"s.manageability AS manageability, s.status AS status, "
		"s.description AS description, coalesce(a.overall, "
		"'Not checked') AS access, a.recommended_action AS "
		"\"recommendedAction\", a.reasons AS \"reasons~\", "
		"a.checked_at AS \"checkedAt\" FROM servers s LEFT JOIN "
		"domains d ON d.id = s.domain_id " LATEST_ACCESS
		"ORDER BY CASE WHEN a.overall = 'Blocked' THEN 0 WHEN "
		"a.overall IS NOT NULL THEN 1 ELSE 2 END, CASE WHEN "
		"s.manageability = 'managed' THEN 0 ELSE 1 END, s.name",
		0, seq, true);
}

static int read_gpos(struct ipam_db *db, struct ipam_node *root)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *last = NULL;
	int err;

	ipam_node_set(root, "gpos", m);
	err = rows_set(
		db, m, "items",
		"SELECT g.domain AS domain, g.role AS role, g.guid AS guid, "
		"g.version AS version, g.linked AS \"linked?\", "
		"g.settings_current AS \"settingsCurrent?\", g.dacl_current "
		"AS \"daclCurrent?\", (SELECT count(*) FROM applied_filter f "
		"WHERE f.domain = g.domain AND f.role = g.role) AS filtering, "
		"CASE WHEN g.linked <> 0 AND g.settings_current <> 0 AND "
		"g.dacl_current <> 0 THEN 0 ELSE 1 END AS \"drift?\", "
		"ad.applied_at AS \"appliedAt\" FROM applied_gpos g "
		"JOIN applied_domains ad ON ad.domain = g.domain ORDER BY "
		"g.domain, g.role",
		0);
	if (!err)
		err = row_one(db,
			      "SELECT id, command, started_at AS "
			      "\"startedAt\", outcome, summary FROM runs "
			      "WHERE command IN "
			      "('plan', 'reconcile') AND outcome != 'running' "
			      "ORDER BY id DESC LIMIT 1",
			      &last);
	if (last)
		ipam_node_set(m, "lastCheck", last);
	return err;
}

/* ---- address space ----------------------------------------------------- */

static int read_trends(struct ipam_db *db, struct ipam_node *seq, size_t n)
{
	struct ipam_sql_stmt *st = NULL;
	int err = ipam_db_sql_prepare(
		db, &st,
		"SELECT percent FROM (SELECT percent, at, id FROM "
		"utilization_samples WHERE kind = ?1 AND name = ?2 ORDER BY "
		"at DESC, id DESC LIMIT ?3) t ORDER BY at, id");

	if (err)
		return err;
	for (size_t i = 0; i < seq->nr; i++) {
		struct ipam_node *it = seq->items[i],
				 *trend = ipam_node_new(IPAM_NODE_SEQ);

		ipam_sql_bind_text(st, 1, it->items[0]->str);
		ipam_sql_bind_text(st, 2, it->items[1]->str);
		ipam_sql_bind_int64(st, 3, (long long)n);
		while (ipam_sql_step(st) == IPAM_SQL_ROW)
			ipam_node_push(trend, column_node(st, 0, 0));
		ipam_sql_reset(st);
		ipam_node_set(it, "trend", trend);
	}
	ipam_sql_finalize(st);
	return 0;
}

static int read_addresses(struct ipam_db *db,
			  const struct ipam_db_report_opts *o,
			  struct ipam_node *root)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *seq;
	bool have = has_table(db, "utilization_samples") &&
		    has_table(db, "addresses");
	int err;

	ipam_node_set(root, "addressSpace", m);
	ipam_node_set(m, "available", ipam_node_bool(have));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	ipam_node_set(m, "items", seq);
	if (!have)
		return 0;
	/* kind and name first: read_trends finds them there */
	err = rows(db,
		   "SELECT u.kind AS kind, u.name AS name, u.size AS size, "
		   "u.used AS used, u.percent AS percent, u.state AS state, "
		   "u.at AS at FROM utilization_samples u JOIN (SELECT "
		   "max(id) AS id FROM utilization_samples GROUP BY kind, "
		   "name) l ON l.id = u.id ORDER BY u.kind = 'range', u.name",
		   0, seq);
	if (!err)
		err = read_trends(db, seq, o->trend);
	if (!err)
		err = rows_set(db, m, "addressesByState",
			       "SELECT state, count(*) AS count FROM addresses "
			       "GROUP BY state ORDER BY state",
			       0);
	return err;
}

/* ---- DNS, availability, events ----------------------------------------- */

static int read_dns(struct ipam_db *db, struct ipam_node *root)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set(root, "dnsZones", m);
	return rows_set(
		db, m, "items",
		"SELECT z.domain AS domain, z.name AS name, z.partition AS "
		"partition, z.reverse AS \"reverse?\", z.record_count AS "
		"records, v.name AS \"readFrom\", z.collected_at AS "
		"\"collectedAt\", st.status AS status, st.reason AS reason, "
		"st.checked_at AS \"checkedAt\", st.servers AS \"servers~\" "
		"FROM dns_zones z JOIN "
		"servers v ON v.id = z.server_id LEFT JOIN zone_status st ON "
		"st.zone_id = z.id ORDER BY z.reverse, z.domain, z.name",
		0);
}

static int read_availability(struct ipam_db *db, struct ipam_node *root)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set(root, "availability", m);
	return rows_set(
		db, m, "items",
		"SELECT s.name AS server, d.name AS domain, a.service AS "
		"service, a.state AS state, a.since AS since, a.checked_at AS "
		"\"checkedAt\", a.rtt_ms AS \"rttMs\", a.reason AS reason FROM "
		"availability a JOIN servers s ON s.id = a.server_id LEFT "
		"JOIN domains d ON d.id = s.domain_id ORDER BY a.state = "
		"'down' DESC, s.name, a.service",
		0);
}

/* An ISO 8601 UTC time, or null for 0 (none). */
static struct ipam_node *iso_node(long long at)
{
	char buf[40];

	if (!at)
		return ipam_node_new(IPAM_NODE_NULL);
	ipam_db_events_iso(buf, at);
	return ipam_node_str(buf);
}

static struct ipam_node *str_or_null(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

/* The latest events under events.items, newest first (db_events.h). */
static int latest_events(struct ipam_db *db, struct ipam_node *m, size_t limit)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_db_track_row *v;
	size_t nr;
	int err;

	ipam_node_set(m, "items", seq);
	err = ipam_db_events_latest(db, limit, &v, &nr);
	for (size_t i = 0; !err && i < nr; i++) {
		struct ipam_node *e = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set(e, "at", iso_node(v[i].at));
		ipam_node_set(e, "server", str_or_null(v[i].server));
		ipam_node_set(e, "family", ipam_node_int(v[i].family));
		ipam_node_set(e, "eventId", ipam_node_int(v[i].event_id));
		ipam_node_set(e, "description", str_or_null(v[i].description));
		ipam_node_set(e, "ip", str_or_null(v[i].ip));
		ipam_node_set(e, "host", str_or_null(v[i].host));
		ipam_node_set(e, "clientId", str_or_null(v[i].client_id));
		ipam_node_set(e, "userName", str_or_null(v[i].extra[0]));
		ipam_node_set(e, "localTime", str_or_null(v[i].local_time));
		ipam_node_push(seq, e);
	}
	if (!err)
		ipam_db_track_free(v, nr);
	return err;
}

static int read_events(struct ipam_db *db, const struct ipam_db_report_opts *o,
		       struct ipam_node *root)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *seq;
	struct ipam_db_events_count *c = NULL;
	long long total, first, last;
	size_t nr = 0;
	int err;

	ipam_node_set(root, "events", m);
	err = ipam_db_events_totals(db, &total, &first, &last);
	if (err)
		return err;
	ipam_node_set(m, "total", ipam_node_int(total));
	ipam_node_set(m, "first", iso_node(first));
	ipam_node_set(m, "last", iso_node(last));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	ipam_node_set(m, "byEventId", seq);
	err = ipam_db_events_count_by_id(db, &c, &nr);
	for (size_t i = 0; !err && i < nr; i++) {
		struct ipam_node *e = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set(e, "eventId", ipam_node_int(c[i].event_id));
		ipam_node_set(e, "count", ipam_node_int(c[i].count));
		ipam_node_push(seq, e);
	}
	free(c);
	if (!err)
		err = latest_events(db, m, o->events);
	return err;
}

int ipam_db_report_read(struct ipam_db *db, const struct ipam_db_report_opts *o,
			struct ipam_node *root)
{
	int err;

	err = read_overview(db, o, root);
	if (!err)
		err = read_servers(db, root);
	if (!err)
		err = read_gpos(db, root);
	if (!err)
		err = read_addresses(db, o, root);
	if (!err)
		err = read_dns(db, root);
	if (!err)
		err = read_availability(db, root);
	if (!err)
		err = read_events(db, o, root);
	return err;
}

int ipam_db_report_addresses(struct ipam_db *db, ipam_db_report_addr_fn fn,
			     void *ctx)
{
	struct ipam_sql_stmt *st = NULL;
	int err, rc;

	if (!has_table(db, "addresses"))
		return 0;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT address, state, mac, host, sources, "
				  "last_seen FROM addresses ORDER BY address");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_report_addr a = {ipam_sql_column_text(st, 0),
						ipam_sql_column_text(st, 1),
						ipam_sql_column_text(st, 2),
						ipam_sql_column_text(st, 3),
						ipam_sql_column_text(st, 4),
						ipam_sql_column_int64(st, 5)};

		err = fn(&a, ctx);
		if (err)
			break;
	}
	ipam_sql_finalize(st);
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB, "cannot read the report");
	return err;
}
