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

/* ---- what is stored, to leave alone what does not change ----------- */

/* An address as stored: its row (but first_seen and last_seen) and its
 * sources as text (row_text, src_text), to compare with what would be
 * written. */
struct stored_addr {
	char *address;
	long long first_seen, last_seen;
	struct strbuf row, src;
	char **items; /* its sources while loading */
	size_t nr_items, alloc_items;
};

struct stored_map {
	struct stored_addr *v; /* sorted by address */
	size_t nr, alloc;
};

/* A text column, NULL told apart from "" and no value from the next. */
static void add_field(struct strbuf *out, const char *s)
{
	if (s)
		strbuf_addf(out, "%zu:%s|", strlen(s), s);
	else
		strbuf_addstr(out, "-|");
}

static void row_text(struct strbuf *out, long long family, const char *state,
		     const char *mac, const char *host, const char *sources,
		     const long long ids[3])
{
	strbuf_addf(out, "%lld|", family);
	add_field(out, state);
	add_field(out, mac);
	add_field(out, host);
	add_field(out, sources);
	strbuf_addf(out, "%lld|%lld|%lld", ids[0], ids[1], ids[2]);
}

static char *src_item(const char *source, long long server_id,
		      const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	add_field(&sb, source);
	strbuf_addf(&sb, "%lld|", server_id);
	add_field(&sb, detail);
	return strbuf_detach(&sb, NULL);
}

static int cmp_text(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The sources' items, sorted, as one text into out (items freed). */
static void src_text(struct strbuf *out, char **items, size_t nr)
{
	if (nr)
		qsort(items, nr, sizeof(*items), cmp_text);
	for (size_t i = 0; i < nr; i++) {
		strbuf_addstr(out, items[i]);
		strbuf_addch(out, ';');
		free(items[i]);
	}
}

static int cmp_stored(const void *key, const void *e)
{
	return strcmp(key, ((const struct stored_addr *)e)->address);
}

static struct stored_addr *stored_find(const struct stored_map *m,
				       const char *address)
{
	return m->nr ? bsearch(address, m->v, m->nr, sizeof(*m->v), cmp_stored)
		     : NULL;
}

static int cmp_stored_sort(const void *x, const void *y)
{
	return strcmp(((const struct stored_addr *)x)->address,
		      ((const struct stored_addr *)y)->address);
}

static void stored_free(struct stored_map *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		free(m->v[i].address);
		strbuf_release(&m->v[i].row);
		strbuf_release(&m->v[i].src);
		for (size_t k = 0; k < m->v[i].nr_items; k++)
			free(m->v[i].items[k]);
		free(m->v[i].items);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static int stored_rows(struct ipam_db *db, struct stored_map *m)
{
	struct ipam_sql_stmt *st;
	int rc, err = ipam_db_sql_prepare(
			db, &st,
			"SELECT address, family, state, mac, host, sources, "
			"lease_expires, last_event_id, dhcp_server_id, "
			"first_seen, last_seen FROM addresses");

	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct stored_addr *a;
		long long ids[3];

		ALLOC_GROW(m->v, m->nr + 1, m->alloc);
		a = &m->v[m->nr++];
		memset(a, 0, sizeof(*a));
		a->address = ipam_sql_column_dup(st, 0);
		for (int k = 0; k < 3; k++)
			ids[k] = ipam_sql_column_int64(st, 6 + k);
		strbuf_init(&a->row);
		strbuf_init(&a->src);
		row_text(&a->row, ipam_sql_column_int64(st, 1),
			 ipam_sql_column_text(st, 2),
			 ipam_sql_column_text(st, 3),
			 ipam_sql_column_text(st, 4),
			 ipam_sql_column_text(st, 5), ids);
		a->first_seen = ipam_sql_column_int64(st, 9);
		a->last_seen = ipam_sql_column_int64(st, 10);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the addresses in");
	if (m->nr)
		qsort(m->v, m->nr, sizeof(*m->v), cmp_stored_sort);
	return 0;
}

/* Every address stored, with its sources. */
static int stored_load(struct ipam_db *db, struct stored_map *m)
{
	struct ipam_sql_stmt *st;
	int rc, err = stored_rows(db, m);

	if (!err)
		err = ipam_db_sql_prepare(db, &st,
					  "SELECT address, source, server_id, "
					  "detail FROM address_sources");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct stored_addr *a =
			stored_find(m, ipam_sql_column_text(st, 0));

		if (!a) /* a source of no address: rewritten */
			continue;
		ALLOC_GROW(a->items, a->nr_items + 1, a->alloc_items);
		a->items[a->nr_items++] = src_item(ipam_sql_column_text(st, 1),
						   ipam_sql_column_int64(st, 2),
						   ipam_sql_column_text(st, 3));
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the addresses' sources "
					 "in");
	for (size_t i = 0; i < m->nr; i++) {
		src_text(&m->v[i].src, m->v[i].items, m->v[i].nr_items);
		m->v[i].nr_items = 0;
	}
	return 0;
}

/* Whether a's row and sources are the ones stored as old. */
static void unchanged(const struct stored_addr *old,
		      const struct ipam_db_address *a, const char *sources,
		      bool *row, bool *src)
{
	struct strbuf t = STRBUF_INIT;
	const long long ids[3] = {a->lease_expires, a->last_event_id,
				  a->dhcp_server_id};
	char **items = xcalloc(a->nr_src + 1, sizeof(*items));

	*row = *src = false;
	if (!old) {
		free(items);
		return;
	}
	row_text(&t, a->family, a->in_use ? "in_use" : "inactive", a->mac,
		 a->host, sources, ids);
	*row = !strcmp(t.buf, old->row.buf) &&
	       old->first_seen <= a->first_seen &&
	       old->last_seen >= a->last_seen;
	strbuf_reset(&t);
	for (size_t i = 0; i < a->nr_src; i++)
		items[i] = src_item(source_name(a->src[i].source),
				    a->src[i].server_id, a->src[i].detail);
	src_text(&t, items, a->nr_src);
	*src = !strcmp(t.buf, old->src.buf);
	free(items);
	strbuf_release(&t);
}

/* Store a (its row, its sources anew) where it is not as old has it. */
static int store_one(struct ipam_db *db, struct ipam_sql_stmt *ins,
		     struct ipam_sql_stmt *del, struct ipam_sql_stmt *src,
		     const struct ipam_db_address *a,
		     const struct stored_addr *old)
{
	struct strbuf s = STRBUF_INIT;
	bool same_row, same_src;
	int rc = IPAM_SQL_DONE;

	ipam_db_addr_sources_format(&s, a->sources);
	unchanged(old, a, s.buf, &same_row, &same_src);
	if (same_row && same_src) {
		strbuf_release(&s);
		return 0;
	}
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
	if (!same_row)
		rc = ipam_sql_step(ins);
	/* an address not stored before has no sources to delete (they
	 * refer to its row) */
	if (rc == IPAM_SQL_DONE && !same_src && old) {
		ipam_sql_reset(del);
		ipam_sql_bind_text(del, 1, a->address);
		rc = ipam_sql_step(del);
	}
	for (size_t i = 0; rc == IPAM_SQL_DONE && !same_src && i < a->nr_src;
	     i++) {
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

/* by: pointers to addresses, ordered by their text. */
static int cmp_addr(const void *x, const void *y)
{
	const struct ipam_db_address *const *a = x, *const *b = y;

	return strcmp((*a)->address, (*b)->address);
}

static int cmp_addr_key(const void *key, const void *e)
{
	return strcmp(key,
		      (*(const struct ipam_db_address *const *)e)->address);
}

/* Delete the addresses stored before (old) that are not in by (nr of
 * them, sorted by cmp_addr). */
static int sweep(struct ipam_db *db, const struct stored_map *old,
		 const struct ipam_db_address **by, size_t nr)
{
	struct ipam_sql_stmt *st = NULL;
	int err = 0;

	for (size_t i = 0; !err && i < old->nr; i++) {
		const char *a = old->v[i].address;

		if (nr && bsearch(a, by, nr, sizeof(*by), cmp_addr_key))
			continue;
		if (!st)
			err = ipam_db_sql_prepare(
				db, &st,
				"DELETE FROM addresses WHERE address = ?1");
		if (err)
			break;
		ipam_sql_reset(st);
		ipam_sql_bind_text(st, 1, a);
		if (ipam_sql_step(st) != IPAM_SQL_DONE)
			err = ipam_db_sql_error(db, IPAM_EDB,
						"cannot delete an address in");
	}
	ipam_sql_finalize(st);
	return err;
}

int ipam_db_addr_store(struct ipam_db *db, const struct ipam_db_address *v,
		       size_t nr)
{
	struct ipam_sql_stmt *ins = NULL, *del = NULL, *src = NULL;
	const struct ipam_db_address **by = xcalloc(nr ? nr : 1, sizeof(*by));
	struct stored_map old = {0};
	int err;

	/* Store v where it is not as stored (each changed address's
	 * sources anew), then delete what it does not have: row by row,
	 * never a statement over a whole table, so that a statement's
	 * journal stays small.  A collection that changed nothing writes
	 * nothing; updated_at is when a row last changed. */
	for (size_t i = 0; i < nr; i++)
		by[i] = &v[i];
	/* in the order of the tables' keys: each insert goes next to the
	 * one before, not into a page anywhere in the tree */
	qsort(by, nr, sizeof(*by), cmp_addr);
	/* SQLite: each statement's journal in memory, where it never holds
	 * more than the pages of one address (a page split spilled it
	 * into a file otherwise: 96 MB written for 5,000 addresses) */
	if (!IPAM_DB_IS_PG(db))
		ipam_sql_exec(db->h, "PRAGMA temp_store = MEMORY");
	err = ipam_sql_begin(db->h);
	if (!err)
		err = stored_load(db, &old);
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
		err = store_one(db, ins, del, src, by[i],
				stored_find(&old, by[i]->address));
	ipam_sql_finalize(ins);
	ipam_sql_finalize(del);
	ipam_sql_finalize(src);
	if (!err)
		err = sweep(db, &old, by, nr);
	stored_free(&old);
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
