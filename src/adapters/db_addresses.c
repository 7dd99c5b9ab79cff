#include "db_addresses.h"

#include <stdlib.h>
#include <string.h>

#include "db_dialect.h"
#include "db_events.h"
#include "db_internal.h"
#include "error.h"
#include "strbuf.h"
#include "banned.h"

static const struct {
	unsigned bit;
	const char *name;
} source_names[] = {
	{IPAM_ADDR_SRC_DHCP, "dhcp"},
	{IPAM_ADDR_SRC_DNS, "dns"},
	{IPAM_ADDR_SRC_INVENTORY, "inventory"},
};

#define NR_SOURCES (sizeof(source_names) / sizeof(source_names[0]))

void ipam_db_addr_sources_format(struct strbuf *out, unsigned mask)
{
	const char *sep = "";

	for (size_t i = 0; i < NR_SOURCES; i++) {
		if (!(mask & source_names[i].bit))
			continue;
		strbuf_addf(out, "%s%s", sep, source_names[i].name);
		sep = ",";
	}
}

static unsigned sources_parse(const char *s)
{
	unsigned mask = 0;

	for (size_t i = 0; s && i < NR_SOURCES; i++) {
		const char *p = strstr(s, source_names[i].name);
		size_t n = strlen(source_names[i].name);

		if (p && (p == s || p[-1] == ',') && (!p[n] || p[n] == ','))
			mask |= source_names[i].bit;
	}
	return mask;
}

static const char *source_name(unsigned bit)
{
	for (size_t i = 0; i < NR_SOURCES; i++)
		if (source_names[i].bit == bit)
			return source_names[i].name;
	return "?";
}

int ipam_db_addr_scan_events(struct ipam_db *db, ipam_db_addr_events_fn fn,
			     void *ctx)
{
	/* the events store keeps them in blocks: it hands them out */
	return ipam_db_events_leases(db, fn, ctx);
}

static int scan_seen(struct ipam_db *db, const char *sql, unsigned source,
		     ipam_db_addr_seen_fn fn, void *ctx)
{
	struct ipam_sql_stmt *st;
	int rc, err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	while (!err && (rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_addr_seen s = {
			.source = source,
			.ip = ipam_sql_column_text(st, 0),
			.family = (int)ipam_sql_column_int64(st, 1),
			.host = ipam_sql_column_text(st, 2),
			.server_id = ipam_sql_column_int64(st, 3),
		};

		err = fn(&s, ctx);
	}
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read addresses in");
	ipam_sql_finalize(st);
	return err;
}

int ipam_db_addr_scan_dns(struct ipam_db *db, ipam_db_addr_seen_fn fn,
			  void *ctx)
{
	return scan_seen(db,
			 "SELECT r.data, CASE r.type WHEN 1 THEN 4 ELSE 6 END, "
			 "CASE r.name WHEN '@' THEN z.name ELSE r.name || "
			 "'.' || z.name END, z.server_id FROM dns_records r "
			 "JOIN dns_zones z ON z.id = r.zone_id WHERE r.type "
			 "IN (1, 28) ORDER BY r.data",
			 IPAM_ADDR_SRC_DNS, fn, ctx);
}

int ipam_db_addr_scan_inventory(struct ipam_db *db, ipam_db_addr_seen_fn fn,
				void *ctx)
{
	return scan_seen(db,
			 "SELECT a.address, a.family, s.name, s.id FROM "
			 "server_addresses a JOIN servers s ON s.id = "
			 "a.server_id WHERE s.status NOT IN ('gone', "
			 "'declared_not_found') ORDER BY a.address",
			 IPAM_ADDR_SRC_INVENTORY, fn, ctx);
}

void ipam_db_addr_release(struct ipam_db_address *a)
{
	free(a->address);
	free(a->mac);
	free(a->host);
	free(a->dhcp_server);
	for (size_t i = 0; i < a->nr_src; i++)
		free(a->src[i].detail);
	free(a->src);
	memset(a, 0, sizeof(*a));
}

void ipam_db_addresses_free(struct ipam_db_address *v, size_t nr)
{
	for (size_t i = 0; v && i < nr; i++)
		ipam_db_addr_release(&v[i]);
	free(v);
}

static void bind_id(struct ipam_sql_stmt *st, int i, long long v)
{
	if (v)
		ipam_sql_bind_int64(st, i, v);
	else
		ipam_sql_bind_null(st, i);
}

static int store_one(struct ipam_db *db, struct ipam_sql_stmt *ins,
		     struct ipam_sql_stmt *del, struct ipam_sql_stmt *src,
		     const struct ipam_db_address *a)
{
	struct strbuf s = STRBUF_INIT;
	int rc;

	ipam_db_addr_sources_format(&s, a->sources);
	ipam_sql_reset(ins);
	ipam_sql_bind_text(ins, 1, a->address);
	ipam_sql_bind_int64(ins, 2, a->family);
	ipam_sql_bind_text(ins, 3, a->in_use ? "in_use" : "inactive");
	ipam_sql_bind_text(ins, 4, a->mac);
	ipam_sql_bind_text(ins, 5, a->host);
	ipam_sql_bind_text(ins, 6, s.buf);
	bind_id(ins, 7, a->lease_expires);
	bind_id(ins, 8, a->last_event_id);
	bind_id(ins, 9, a->dhcp_server_id);
	ipam_sql_bind_int64(ins, 10, a->first_seen);
	ipam_sql_bind_int64(ins, 11, a->last_seen);
	strbuf_release(&s);
	rc = ipam_sql_step(ins);
	if (rc == IPAM_SQL_DONE) {
		ipam_sql_reset(del);
		ipam_sql_bind_text(del, 1, a->address);
		rc = ipam_sql_step(del);
	}
	for (size_t i = 0; rc == IPAM_SQL_DONE && i < a->nr_src; i++) {
		ipam_sql_reset(src);
		ipam_sql_bind_text(src, 1, a->address);
		ipam_sql_bind_text(src, 2, source_name(a->src[i].source));
		ipam_sql_bind_int64(src, 3, a->src[i].server_id);
		ipam_sql_bind_text(src, 4, a->src[i].detail);
		rc = ipam_sql_step(src);
	}
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot store an address in");
	return 0;
}

/* The upsert of an address; min and max are the dialect's scalar ones. */
#define STORE_ADDRESS(min, max)                                                \
	"INSERT INTO addresses (address, family, state, mac, host, sources, "  \
	"lease_expires, last_event_id, dhcp_server_id, first_seen, "           \
	"last_seen, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "  \
	"?10, ?11, " NOW_SQL ") ON CONFLICT (address) DO UPDATE SET family = " \
	"excluded.family, state = excluded.state, mac = excluded.mac, host = " \
	"excluded.host, sources = excluded.sources, lease_expires = "          \
	"excluded.lease_expires, last_event_id = excluded.last_event_id, "     \
	"dhcp_server_id = excluded.dhcp_server_id, first_seen = " min          \
	"(addresses.first_seen, excluded.first_seen), last_seen = " max        \
	"(addresses.last_seen, excluded.last_seen), updated_at = "             \
	"excluded.updated_at"

static int cmp_text(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Delete the addresses not in v (its texts sorted in by). */
static int sweep(struct ipam_db *db, const char **by, size_t nr)
{
	struct ipam_sql_stmt *st;
	char **gone = NULL;
	size_t n = 0, alloc = 0;
	int err, rc;

	err = ipam_db_sql_prepare(db, &st, "SELECT address FROM addresses");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *a = ipam_sql_column_text(st, 0);

		if (a && !bsearch(&a, by, nr, sizeof(*by), cmp_text)) {
			ALLOC_GROW(gone, n + 1, alloc);
			gone[n++] = xstrdup(a);
		}
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the addresses in");
	if (!err && n)
		err = ipam_db_sql_prepare(
			db, &st, "DELETE FROM addresses WHERE address = ?1");
	for (size_t i = 0; i < n; i++) {
		if (!err) {
			ipam_sql_reset(st);
			ipam_sql_bind_text(st, 1, gone[i]);
			if (ipam_sql_step(st) != IPAM_SQL_DONE)
				err = ipam_db_sql_error(
					db, IPAM_EDB,
					"cannot delete an address in");
		}
		free(gone[i]);
	}
	if (n)
		ipam_sql_finalize(st);
	free(gone);
	return err;
}

int ipam_db_addr_store(struct ipam_db *db, const struct ipam_db_address *v,
		       size_t nr)
{
	struct ipam_sql_stmt *ins = NULL, *del = NULL, *src = NULL;
	const char **by = xcalloc(nr ? nr : 1, sizeof(*by));
	int err;

	/* Store v (each address's sources anew), then delete what it does
	 * not have: row by row, never a statement over a whole table, so
	 * that a statement's journal stays small. */
	for (size_t i = 0; i < nr; i++)
		by[i] = v[i].address;
	qsort(by, nr, sizeof(*by), cmp_text);
	/* SQLite: each statement's journal in memory, where it never holds
	 * more than the pages of one address (a page split spilled it
	 * into a file otherwise: 96 MB written for 5,000 addresses) */
	if (!IPAM_DB_IS_PG(db))
		ipam_sql_exec(db->h, "PRAGMA temp_store = MEMORY");
	err = ipam_sql_begin(db->h);
	if (!err)
		err = ipam_db_sql_prepare(db, &del,
					  "DELETE FROM address_sources WHERE "
					  "address = ?1");
	if (!err)
		err = ipam_db_sql_prepare(
			db, &ins,
			IPAM_DB_SQL(db, STORE_ADDRESS("min", "max"),
				    STORE_ADDRESS("least", "greatest")));
	if (!err)
		err = ipam_db_sql_prepare(
			db, &src,
			"INSERT INTO address_sources (address, source, "
			"server_id, detail) VALUES (?1, ?2, ?3, ?4) "
			"ON CONFLICT DO NOTHING");
	for (size_t i = 0; !err && i < nr; i++)
		err = store_one(db, ins, del, src, &v[i]);
	ipam_sql_finalize(ins);
	ipam_sql_finalize(del);
	ipam_sql_finalize(src);
	if (!err)
		err = sweep(db, by, nr);
	free(by);
	if (!err)
		err = ipam_db_sql_exec(db, "COMMIT");
	if (err) {
		ipam_error_prefix(err, "storing the addresses");
		ipam_sql_rollback(db->h);
	}
	if (!IPAM_DB_IS_PG(db))
		ipam_sql_exec(db->h, "PRAGMA temp_store = DEFAULT");
	return err;
}

int ipam_db_addr_load(struct ipam_db *db, struct ipam_db_address **out,
		      size_t *nr)
{
	struct ipam_db_address *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st;
	int rc, err = ipam_db_sql_prepare(
			db, &st,
			"SELECT a.address, a.family, a.state, a.mac, a.host, "
			"a.sources, a.lease_expires, a.last_event_id, "
			"a.dhcp_server_id, s.name, a.first_seen, a.last_seen "
			"FROM addresses a LEFT JOIN servers s ON s.id = "
			"a.dhcp_server_id");

	*out = NULL;
	*nr = 0;
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_address *a;

		ALLOC_GROW(v, n + 1, alloc);
		a = &v[n++];
		memset(a, 0, sizeof(*a));
		a->address = ipam_sql_column_dup(st, 0);
		a->family = (int)ipam_sql_column_int64(st, 1);
		a->in_use = !strcmp(ipam_sql_column_text(st, 2), "in_use");
		a->mac = ipam_sql_column_dup(st, 3);
		a->host = ipam_sql_column_dup(st, 4);
		a->sources = sources_parse(ipam_sql_column_text(st, 5));
		a->lease_expires = ipam_sql_column_int64(st, 6);
		a->last_event_id = ipam_sql_column_int64(st, 7);
		a->dhcp_server_id = ipam_sql_column_int64(st, 8);
		a->dhcp_server = ipam_sql_column_dup(st, 9);
		a->first_seen = ipam_sql_column_int64(st, 10);
		a->last_seen = ipam_sql_column_int64(st, 11);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_addresses_free(v, n);
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the addresses in");
	}
	*out = v;
	*nr = n;
	return 0;
}

int ipam_db_util_store(struct ipam_db *db, long long run_id,
		       const struct ipam_db_util_sample *v, size_t nr)
{
	struct ipam_sql_stmt *st = NULL;
	int err = ipam_sql_begin(db->h);

	if (!err)
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT INTO utilization_samples (run_id, kind, name, "
			"at, size, used, percent, state) VALUES (?1, ?2, ?3, "
			"coalesce(?4, " NOW_SQL "), ?5, ?6, ?7, ?8)");
	for (size_t i = 0; !err && i < nr; i++) {
		ipam_sql_reset(st);
		bind_id(st, 1, run_id);
		ipam_sql_bind_text(st, 2, v[i].kind);
		ipam_sql_bind_text(st, 3, v[i].name);
		ipam_sql_bind_text(st, 4, v[i].at);
		ipam_sql_bind_text(st, 5, v[i].size);
		ipam_sql_bind_int64(st, 6, v[i].used);
		ipam_sql_bind_double(st, 7, v[i].percent);
		ipam_sql_bind_text(st, 8, v[i].state);
		if (ipam_sql_step(st) != IPAM_SQL_DONE)
			err = ipam_db_sql_error(
				db, IPAM_EDB,
				"cannot store a utilization sample in");
	}
	ipam_sql_finalize(st);
	if (!err)
		return ipam_db_sql_exec(db, "COMMIT");
	ipam_sql_rollback(db->h);
	return err;
}

int ipam_db_util_samples(struct ipam_db *db, const char *kind, const char *name,
			 size_t last, struct ipam_db_util_sample **out,
			 size_t *nr)
{
	struct ipam_db_util_sample *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st;
	int rc, err = ipam_db_sql_prepare(
			db, &st,
			"SELECT kind, name, at, size, used, percent, state, "
			"run_id FROM (SELECT * FROM utilization_samples WHERE "
			"kind = ?1 AND name = ?2 ORDER BY at DESC, id DESC "
			"LIMIT ?3) t ORDER BY at, id");

	*out = NULL;
	*nr = 0;
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, kind);
	ipam_sql_bind_text(st, 2, name);
	ipam_sql_bind_int64(st, 3, last ? (long long)last : IPAM_DB_NO_LIMIT);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_util_sample *s;

		ALLOC_GROW(v, n + 1, alloc);
		s = &v[n++];
		s->kind = ipam_sql_column_dup(st, 0);
		s->name = ipam_sql_column_dup(st, 1);
		s->at = ipam_sql_column_dup(st, 2);
		s->size = ipam_sql_column_dup(st, 3);
		s->used = ipam_sql_column_int64(st, 4);
		s->percent = ipam_sql_column_double(st, 5);
		s->state = ipam_sql_column_dup(st, 6);
		s->run_id = ipam_sql_column_int64(st, 7);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_util_samples_free(v, n);
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read utilization samples in");
	}
	*out = v;
	*nr = n;
	return 0;
}

void ipam_db_util_samples_free(struct ipam_db_util_sample *v, size_t nr)
{
	for (size_t i = 0; v && i < nr; i++) {
		free(v[i].kind);
		free(v[i].name);
		free(v[i].at);
		free(v[i].size);
		free(v[i].state);
	}
	free(v);
}
