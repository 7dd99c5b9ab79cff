#include "db_events.h"
#include "db_dialect.h"
#include "db_events_internal.h"
#include "db_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The addresses' events folded (migration 11): of all the audit events of
 * an address, what ipam_leases_decide and the addresses read of them is
 * kept as the events go by: the first and the last (by at), the latest
 * with a client id or host, the latest that is not "other", and the
 * first event of each server (the address's sources).  The decision over
 * those is the decision over all the events.
 *
 * The import folds each batch's events into dhcp_batch_addresses, in the
 * batch's transaction; the addresses' pass (ipam_db_events_leases) adds
 * the batches imported since the last pass to dhcp_address_fold, the fold
 * of every batch up to dhcp_address_fold_state.folded_batch, instead of
 * reading every event again.  Folding is associative in id order: the
 * fold of the events a, then of b, is the fold of a merged with the fold
 * of b (merge() below), which is what makes a batch's fold enough.
 * Events cannot be taken out of a fold: a prune or a purge that deletes
 * events resets it (folded_batch 0), and the next pass reads every event
 * once more.  So does a batch without a fold of its own (addresses NULL:
 * written by hand or before migration 11).
 */

/* An event as the fold keeps it (its strings only in the named slot). */
struct lease_ev {
	long long at, seq, server;
	int event_id;
};

/* The slots of an address: [0] first [1] last [2] latest named
 * [3] latest deciding [4] the first of the first server; inline, so that
 * an event touches one entry of the table and the lines after it. */
#define SLOTS 5

struct ipam_db_events_addr {
	uint64_t h;
	char ip[48];
	int family;
	bool dirty;	/* to write back */
	bool named_ref; /* v[2]'s strings are those of the record at
			 * named_off of the batch's text (the import) */
	size_t named_off;
	struct lease_ev v[SLOTS];
	struct strbuf mac, host; /* of v[2] */
	struct lease_ev *more;	 /* the first of each further server */
	size_t nr_more, alloc_more;
};

typedef struct ipam_db_events_addr addr_t;

static uint64_t ip_hash(const char *s, size_t len)
{
	return ipam_db_events_hash(IPAM_TRACK_IP, s, len);
}

/* The index: entry number + 1 by hash, open addressing (0: free). */
static void index_grow(struct ipam_db_events_fold *f)
{
	size_t cap = f->cap ? f->cap * 2 : 1024;

	free(f->idx);
	f->idx = xcalloc(cap, sizeof(*f->idx));
	f->cap = cap;
	for (size_t i = 0; i < f->nr; i++) {
		size_t j = (size_t)f->a[i].h & (cap - 1);

		while (f->idx[j])
			j = (j + 1) & (cap - 1);
		f->idx[j] = (uint32_t)(i + 1);
	}
}

/* The entry of ip (len bytes), new when it has none (NULL: too long to
 * be an address, left out).  Entries are dense, in the order first
 * seen: a batch's few thousand addresses stay in the cache. */
static addr_t *fold_addr(struct ipam_db_events_fold *f, const char *ip,
			 size_t len, int family, uint64_t h)
{
	size_t j;
	addr_t *a;

	if (len >= sizeof(f->a->ip) || f->nr >= UINT32_MAX - 1)
		return NULL;
	if (2 * (f->nr + 1) > f->cap)
		index_grow(f);
	j = (size_t)h & (f->cap - 1);
	for (; f->idx[j]; j = (j + 1) & (f->cap - 1)) {
		a = &f->a[f->idx[j] - 1];
		if (a->h == h && !memcmp(a->ip, ip, len) && !a->ip[len])
			return a;
	}
	ALLOC_GROW(f->a, f->nr + 1, f->alloc);
	a = &f->a[f->nr];
	memset(a, 0, sizeof(*a));
	a->h = h;
	memcpy(a->ip, ip, len);
	a->family = family;
	strbuf_init(&a->mac);
	strbuf_init(&a->host);
	f->idx[j] = (uint32_t)++f->nr;
	return a;
}

static void ev_set(struct lease_ev *l, const struct ipam_db_events_rec *e,
		   long long server)
{
	l->at = e->at;
	l->seq = e->id;
	l->event_id = e->event_id;
	l->server = server;
}

/* l is after m by (at, id). */
static bool later(const struct lease_ev *l, const struct lease_ev *m)
{
	return l->at > m->at || (l->at == m->at && l->seq > m->seq);
}

/* The first event of server, when the address has none of it yet. */
static void add_server(addr_t *a, const struct lease_ev *l)
{
	size_t i;

	if (a->v[4].server == l->server)
		return;
	for (i = 0; i < a->nr_more && a->more[i].server != l->server; i++)
		;
	if (i < a->nr_more)
		return;
	ALLOC_GROW(a->more, a->nr_more + 1, a->alloc_more);
	a->more[a->nr_more++] = *l;
}

static void set_named(addr_t *a, const struct lease_ev *l, const char *mac,
		      size_t mac_len, const char *host, size_t host_len)
{
	a->v[2] = *l;
	a->named_ref = false;
	strbuf_reset(&a->mac);
	strbuf_reset(&a->host);
	strbuf_add(&a->mac, mac, mac_len);
	strbuf_add(&a->host, host, host_len);
}

/* Fold e into a; rec_off: where e's record is in the batch's text (its
 * strings are read from there when the fold is stored), or SIZE_MAX to
 * copy them now. */
static void take(addr_t *a, const struct ipam_db_events_rec *e,
		 long long server, size_t rec_off)
{
	struct lease_ev l;

	ev_set(&l, e, server);
	a->dirty = true;
	if (!a->v[0].seq) {
		a->v[0] = a->v[1] = a->v[4] = l;
	} else if (l.at < a->v[0].at) {
		a->v[0] = l;
	} else if (later(&l, &a->v[1])) {
		a->v[1] = l;
	}
	if ((*e->client_id || *e->host) &&
	    (!a->v[2].seq || later(&l, &a->v[2]))) {
		if (rec_off != SIZE_MAX) {
			a->v[2] = l;
			a->named_ref = true;
			a->named_off = rec_off;
		} else {
			set_named(a, &l, e->client_id, strlen(e->client_id),
				  e->host, strlen(e->host));
		}
	}
	if (ipam_lease_kind_of(e->event_id) != IPAM_LEASE_OTHER &&
	    (!a->v[3].seq || later(&l, &a->v[3])))
		a->v[3] = l;
	add_server(a, &l);
}

void ipam_db_events_fold_take(struct ipam_db_events_fold *f,
			      const struct ipam_db_events_rec *e, size_t ip_len,
			      uint64_t ip_key, long long server, size_t rec_off)
{
	addr_t *a;

	if (!ip_len)
		return;
	a = fold_addr(f, e->ip, ip_len, e->family, ip_key);
	if (a)
		take(a, e, server, rec_off);
}

void ipam_db_events_fold_block(struct ipam_db_events_fold *f,
			       const struct ipam_db_events_rec *recs, size_t n,
			       long long server)
{
	uint64_t h[IPAM_DB_EVENTS_BLOCK_EVENTS];
	size_t len[IPAM_DB_EVENTS_BLOCK_EVENTS];

	while (n) {
		size_t k = n < IPAM_DB_EVENTS_BLOCK_EVENTS
				   ? n
				   : IPAM_DB_EVENTS_BLOCK_EVENTS;

		/* the index's slots fetched ahead, then the entries they
		 * name: an address per event is a cache miss on a large
		 * table */
		for (size_t i = 0; i < k; i++) {
			len[i] = strlen(recs[i].ip);
			h[i] = len[i] ? ip_hash(recs[i].ip, len[i]) : 0;
			if (len[i] && f->cap)
				__builtin_prefetch(
					&f->idx[h[i] & (f->cap - 1)]);
		}
		for (size_t i = 0; i < k && f->cap; i++) {
			uint32_t e = len[i] ? f->idx[h[i] & (f->cap - 1)] : 0;

			if (e)
				__builtin_prefetch(&f->a[e - 1]);
		}
		for (size_t i = 0; i < k; i++) {
			addr_t *a;

			if (!len[i])
				continue;
			a = fold_addr(f, recs[i].ip, len[i], recs[i].family,
				      h[i]);
			if (a)
				take(a, &recs[i], server, SIZE_MAX);
		}
		recs += k;
		n -= k;
	}
}

/*
 * b's events folded after a's (every id of b above a's): the first by
 * at stays a's on a tie, the latest slots are the later of the two, the
 * first of each server a's where a has one.
 */
static void merge(addr_t *a, const addr_t *b)
{
	a->dirty = true;
	if (!a->v[0].seq) {
		memcpy(a->v, b->v, sizeof(a->v));
		strbuf_reset(&a->mac);
		strbuf_reset(&a->host);
		strbuf_add(&a->mac, b->mac.buf, b->mac.len);
		strbuf_add(&a->host, b->host.buf, b->host.len);
		a->nr_more = 0;
		for (size_t i = 0; i < b->nr_more; i++)
			add_server(a, &b->more[i]);
		return;
	}
	if (b->v[0].seq && b->v[0].at < a->v[0].at)
		a->v[0] = b->v[0];
	if (b->v[1].seq && later(&b->v[1], &a->v[1]))
		a->v[1] = b->v[1];
	if (b->v[2].seq && (!a->v[2].seq || later(&b->v[2], &a->v[2])))
		set_named(a, &b->v[2], b->mac.buf, b->mac.len, b->host.buf,
			  b->host.len);
	if (b->v[3].seq && (!a->v[3].seq || later(&b->v[3], &a->v[3])))
		a->v[3] = b->v[3];
	if (b->v[4].seq)
		add_server(a, &b->v[4]);
	for (size_t i = 0; i < b->nr_more; i++)
		add_server(a, &b->more[i]);
}

size_t ipam_db_events_fold_count(const struct ipam_db_events_fold *f)
{
	return f->nr;
}

/* Empty f, keeping its memory (the next batch's). */
void ipam_db_events_fold_clear(struct ipam_db_events_fold *f)
{
	for (size_t i = 0; i < f->nr; i++) {
		strbuf_release(&f->a[i].mac);
		strbuf_release(&f->a[i].host);
		free(f->a[i].more);
	}
	f->nr = 0;
	if (f->cap)
		memset(f->idx, 0, f->cap * sizeof(*f->idx));
}

void ipam_db_events_fold_release(struct ipam_db_events_fold *f)
{
	ipam_db_events_fold_clear(f);
	free(f->a);
	free(f->idx);
	memset(f, 0, sizeof(*f));
}

/* ---- slots: what a row of the fold's tables holds ------------------------ */

/*
 * An address's slots as bytes: unsigned LEB128 varints; the number of
 * further servers; each of the five slots (at zigzag-encoded, id,
 * server, event id; an empty slot has id 0); the named slot's client id
 * and host (length, bytes); the further servers' slots.  Stored: never
 * change it without a migration.
 */
static void put_varint(struct strbuf *out, uint64_t v)
{
	unsigned char buf[10];

	strbuf_add(out, buf, ipam_db_events_varint(buf, v));
}

static void put_ev(struct strbuf *out, const struct lease_ev *l)
{
	put_varint(out, ((uint64_t)l->at << 1) ^ (uint64_t)(l->at >> 63));
	put_varint(out, (uint64_t)l->seq);
	put_varint(out, (uint64_t)l->server);
	put_varint(out, (uint64_t)l->event_id);
}

static void encode(struct strbuf *out, const addr_t *a)
{
	strbuf_reset(out);
	put_varint(out, a->nr_more);
	for (size_t i = 0; i < SLOTS; i++)
		put_ev(out, &a->v[i]);
	put_varint(out, a->mac.len);
	strbuf_add(out, a->mac.buf, a->mac.len);
	put_varint(out, a->host.len);
	strbuf_add(out, a->host.buf, a->host.len);
	for (size_t i = 0; i < a->nr_more; i++)
		put_ev(out, &a->more[i]);
}

struct reader {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t get_varint(struct reader *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p == r->end)
			break;
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static void get_ev(struct reader *r, struct lease_ev *l)
{
	uint64_t at = get_varint(r);

	l->at = (long long)((at >> 1) ^ (0 - (at & 1)));
	l->seq = (long long)get_varint(r);
	l->server = (long long)get_varint(r);
	l->event_id = (int)get_varint(r);
}

static void get_str(struct reader *r, struct strbuf *out)
{
	uint64_t n = get_varint(r);

	strbuf_reset(out);
	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return;
	}
	strbuf_add(out, r->p, (size_t)n);
	r->p += n;
}

/* Decode a row's slots into a (whose strings are initialised). */
static int decode(addr_t *a, const void *blob, size_t len)
{
	struct reader r = {blob, (const unsigned char *)blob + len, false};
	uint64_t more = get_varint(&r);

	for (size_t i = 0; i < SLOTS; i++)
		get_ev(&r, &a->v[i]);
	get_str(&r, &a->mac);
	get_str(&r, &a->host);
	/* each further server takes four bytes at least */
	if (!r.bad && more > (uint64_t)(r.end - r.p) / 4)
		r.bad = true;
	a->nr_more = 0;
	for (uint64_t i = 0; !r.bad && i < more; i++) {
		ALLOC_GROW(a->more, a->nr_more + 1, a->alloc_more);
		get_ev(&r, &a->more[a->nr_more++]);
	}
	if (r.bad || r.p != r.end)
		return ipam_error_set(IPAM_EDB,
				      "a malformed fold of audit events");
	return 0;
}

/* ---- the tables ------------------------------------------------------- */

/* Rows per INSERT: one round trip for many on PostgreSQL. */
#define ROWS_PER_INSERT 64

/* The upsert of rows rows of dhcp_address_fold. */
static int insert_rows(struct ipam_db *db, struct ipam_sql_stmt **st,
		       size_t rows)
{
	struct strbuf sql = STRBUF_INIT;
	int err;

	strbuf_addstr(&sql, "INSERT INTO dhcp_address_fold (address, family, "
			    "slots) VALUES ");
	ipam_db_sql_values(&sql, rows, 3);
	strbuf_addstr(&sql, " ON CONFLICT (address) DO UPDATE SET family = "
			    "excluded.family, slots = excluded.slots");
	err = ipam_db_sql_prepare(db, st, sql.buf);
	strbuf_release(&sql);
	return err;
}

/* Write the dirty entries of f into dhcp_address_fold (a row each:
 * only those that changed are written again). */
static int write_entries(struct ipam_db *db,
			 const struct ipam_db_events_fold *f)
{
	struct ipam_sql_stmt *many = NULL, *one = NULL, *st;
	struct strbuf slots[ROWS_PER_INSERT];
	size_t left = 0, i = 0;
	int err = 0, rc = IPAM_SQL_DONE;

	for (size_t j = 0; j < f->nr; j++)
		left += f->a[j].dirty;
	/* SQLite: one row per INSERT, which needs no statement journal
	 * (db_events.c's postings) */
	if (IPAM_DB_IS_PG(db))
		err = insert_rows(db, &many, ROWS_PER_INSERT);
	if (!err)
		err = insert_rows(db, &one, 1);
	if (err) {
		ipam_sql_finalize(many);
		return err;
	}
	for (size_t j = 0; j < ROWS_PER_INSERT; j++)
		strbuf_init(&slots[j]);
	while (rc == IPAM_SQL_DONE && left) {
		size_t rows =
			many && left >= ROWS_PER_INSERT ? ROWS_PER_INSERT : 1;
		int p = 1;

		st = rows > 1 ? many : one;
		for (size_t n = 0; n < rows; i++) {
			const addr_t *a = &f->a[i];

			if (!a->dirty)
				continue;
			encode(&slots[n], a);
			ipam_sql_bind_text(st, p++, a->ip);
			ipam_sql_bind_int64(st, p++, a->family);
			ipam_sql_bind_blob(st, p++, slots[n].buf, slots[n].len);
			n++;
		}
		rc = ipam_sql_step(st);
		ipam_sql_reset(st);
		left -= rows;
	}
	for (size_t j = 0; j < ROWS_PER_INSERT; j++)
		strbuf_release(&slots[j]);
	ipam_sql_finalize(many);
	ipam_sql_finalize(one);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot store the addresses' audit "
					 "events in");
	return 0;
}

/*
 * A batch's fold is written in parts of up to PART_ADDRESSES addresses,
 * a row each: its rows are only ever read back whole, by the pass, and a
 * row per address cost the import a row's price 5,000 times a batch.  A
 * part: per address, its text's length and bytes, its family, its
 * slots' length and bytes (varints, as the slots).
 */
#define PART_ADDRESSES 1024

static int write_parts(struct ipam_db *db, long long batch,
		       const struct ipam_db_events_fold *f)
{
	struct strbuf part = STRBUF_INIT, slots = STRBUF_INIT;
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_db_sql_prepare(db, &st,
				  "INSERT INTO dhcp_batch_addresses (batch, "
				  "part, entries) VALUES (?1, ?2, ?3)");
	if (err)
		return err;
	for (size_t i = 0; rc == IPAM_SQL_DONE && i < f->nr;
	     i += PART_ADDRESSES) {
		strbuf_reset(&part);
		for (size_t j = i; j < f->nr && j < i + PART_ADDRESSES; j++) {
			const addr_t *a = &f->a[j];
			size_t len = strlen(a->ip);

			encode(&slots, a);
			put_varint(&part, len);
			strbuf_add(&part, a->ip, len);
			put_varint(&part, (uint64_t)a->family);
			put_varint(&part, slots.len);
			strbuf_add(&part, slots.buf, slots.len);
		}
		ipam_sql_bind_int64(st, 1, batch);
		ipam_sql_bind_int64(st, 2, (long long)(i / PART_ADDRESSES));
		ipam_sql_bind_blob(st, 3, part.buf, part.len);
		rc = ipam_sql_step(st);
		ipam_sql_reset(st);
	}
	ipam_sql_finalize(st);
	strbuf_release(&part);
	strbuf_release(&slots);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot store the addresses' audit "
					 "events in");
	return 0;
}

/* The strings of the named slots that are still the records' at their
 * offsets in text. */
static int resolve(struct ipam_db_events_fold *f, const struct strbuf *text)
{
	struct strbuf line = STRBUF_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < f->nr; i++) {
		addr_t *a = &f->a[i];
		struct ipam_db_events_rec r;
		size_t pos = 0, end;

		if (!a->named_ref)
			continue;
		end = a->named_off;
		while (end < text->len && text->buf[end] != '\n')
			end++;
		strbuf_reset(&line);
		strbuf_add(&line, text->buf + a->named_off, end - a->named_off);
		rc = ipam_db_events_rec_next(line.buf, line.len, &pos, 0, &r);
		if (rc > 0) {
			set_named(a, &a->v[2], r.client_id, strlen(r.client_id),
				  r.host, strlen(r.host));
			rc = 0;
		} else if (!rc) {
			rc = ipam_error_set(IPAM_EDB, "a lost audit event");
		}
	}
	strbuf_release(&line);
	return rc;
}

int ipam_db_events_fold_store(struct ipam_db *db, long long batch,
			      struct ipam_db_events_fold *f,
			      const struct strbuf *text)
{
	int err = resolve(f, text);

	return err ? err : write_parts(db, batch, f);
}

int ipam_db_events_fold_reset(struct ipam_db *db)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st,
				      "UPDATE dhcp_address_fold_state SET "
				      "folded_batch = 0");

	return err ? err
		   : ipam_db_sql_step_done(db, st,
					   "cannot reset the addresses' "
					   "audit events in");
}

/* The end of a read of folds: its statement and scratch entry freed,
 * the error it met or the database's. */
static int read_end(struct ipam_db *db, struct ipam_sql_stmt *st, addr_t *tmp,
		    int err, int rc)
{
	ipam_sql_finalize(st);
	strbuf_release(&tmp->mac);
	strbuf_release(&tmp->host);
	free(tmp->more);
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the addresses' audit "
					"events in");
	return err;
}

/* Load dhcp_address_fold into f. */
static int read_rows(struct ipam_db *db, struct ipam_db_events_fold *f)
{
	addr_t tmp = {0};
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_sql_prepare_scan(db->h, &st,
				    "SELECT address, family, slots FROM "
				    "dhcp_address_fold");
	if (err)
		return err;
	strbuf_init(&tmp.mac);
	strbuf_init(&tmp.host);
	while (!err && (rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *ip = ipam_sql_column_text(st, 0);
		size_t len = ip ? strlen(ip) : 0;
		addr_t *a;

		err = decode(&tmp, ipam_sql_column_blob(st, 2),
			     (size_t)ipam_sql_column_bytes(st, 2));
		if (err || !len)
			continue;
		a = fold_addr(f, ip, len, (int)ipam_sql_column_int64(st, 1),
			      ip_hash(ip, len));
		if (a)
			merge(a, &tmp);
	}
	return read_end(db, st, &tmp, err, rc);
}

/* Merge the addresses of one part of a batch's fold into f. */
static int merge_part(struct ipam_db_events_fold *f, addr_t *tmp,
		      const void *blob, size_t len)
{
	struct reader r = {blob, (const unsigned char *)blob + len, false};

	while (!r.bad && r.p < r.end) {
		uint64_t n = get_varint(&r), family, slots;
		const char *ip = (const char *)r.p;
		addr_t *a;

		if (r.bad || n > (uint64_t)(r.end - r.p))
			break;
		r.p += n;
		family = get_varint(&r);
		slots = get_varint(&r);
		if (r.bad || slots > (uint64_t)(r.end - r.p) ||
		    decode(tmp, r.p, (size_t)slots))
			break;
		r.p += slots;
		a = n ? fold_addr(f, ip, (size_t)n, (int)family,
				  ip_hash(ip, (size_t)n))
		      : NULL;
		if (a)
			merge(a, tmp);
	}
	if (r.p != r.end)
		return ipam_error_set(IPAM_EDB,
				      "a malformed fold of audit events");
	return 0;
}

/* Merge the folds of the batches lo..hi into f, in id order. */
static int read_parts(struct ipam_db *db, struct ipam_db_events_fold *f,
		      long long lo, long long hi)
{
	addr_t tmp = {0};
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_sql_prepare_scan(db->h, &st,
				    "SELECT entries FROM dhcp_batch_addresses "
				    "WHERE batch >= ?1 AND batch <= ?2 ORDER "
				    "BY batch, part");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, lo);
	ipam_sql_bind_int64(st, 2, hi);
	strbuf_init(&tmp.mac);
	strbuf_init(&tmp.host);
	while (!err && (rc = ipam_sql_step(st)) == IPAM_SQL_ROW)
		err = merge_part(f, &tmp, ipam_sql_column_blob(st, 0),
				 (size_t)ipam_sql_column_bytes(st, 0));
	return read_end(db, st, &tmp, err, rc);
}

/* ---- the addresses' pass ------------------------------------------------ */

/* The value of a one-row query with ?1 and ?2 bound (0 when no row). */
static int one_value(struct ipam_db *db, const char *sql, long long p1,
		     long long p2, long long *out)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql), rc;

	if (err)
		return err;
	if (strstr(sql, "?1"))
		ipam_sql_bind_int64(st, 1, p1);
	if (strstr(sql, "?2"))
		ipam_sql_bind_int64(st, 2, p2);
	rc = ipam_sql_step(st);
	*out = rc == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0) : 0;
	while (rc == IPAM_SQL_ROW)
		rc = ipam_sql_step(st);
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the addresses' audit "
					 "events in");
	return 0;
}

static int run(struct ipam_db *db, const char *sql, long long p1)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	if (strstr(sql, "?1"))
		ipam_sql_bind_int64(st, 1, p1);
	return ipam_db_sql_step_done(db, st,
				     "cannot store the addresses' audit "
				     "events in");
}

static int fold_block(const struct ipam_db_events_rec *recs, size_t n,
		      long long server, void *ctx)
{
	ipam_db_events_fold_block(ctx, recs, n, server);
	return 0;
}

/* A batch and whether it has a fold of its own. */
struct new_batch {
	long long id;
	bool folded;
};

/* Fold the batches after folded up to last into f, in id order: a
 * batch's stored fold, or its events (a batch whose fold was not worth
 * storing, or one written before migration 11). */
static int fold_new(struct ipam_db *db, struct ipam_db_events_fold *f,
		    long long folded, long long last)
{
	struct new_batch *v = NULL;
	size_t nr = 0, alloc = 0;
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id, addresses IS NOT NULL FROM "
				  "dhcp_event_batches WHERE id > ?1 AND id "
				  "<= ?2 ORDER BY id");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, folded);
	ipam_sql_bind_int64(st, 2, last);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].id = ipam_sql_column_int64(st, 0);
		v[nr++].folded = ipam_sql_column_int64(st, 1) != 0;
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the audit event batches "
					"in");
	/* runs of batches of one kind: a query each */
	for (size_t i = 0, j; !err && i < nr; i = j) {
		for (j = i + 1; j < nr && v[j].folded == v[i].folded; j++)
			;
		if (v[i].folded)
			err = read_parts(db, f, v[i].id, v[j - 1].id);
		else
			err = ipam_db_events_each_block(
				db, v[i].id, v[j - 1].id, fold_block, f);
	}
	free(v);
	return err;
}

/*
 * Bring dhcp_address_fold up to the last batch, in f (every address
 * folded), in the caller's transaction: the batches since the last pass
 * merged into what it stored, or every event when it stored nothing.
 */
static int fold_update(struct ipam_db *db, struct ipam_db_events_fold *f)
{
	long long folded = 0, last = 0;
	int err;

	/* the row locked first: two passes take turns */
	err = run(db,
		  "INSERT INTO dhcp_address_fold_state (id, folded_batch) "
		  "VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
		  0);
	if (!err)
		err = one_value(db,
				"UPDATE dhcp_address_fold_state SET "
				"folded_batch = folded_batch WHERE id = 1 "
				"RETURNING folded_batch",
				0, 0, &folded);
	if (!err)
		err = one_value(db,
				"SELECT id FROM dhcp_event_batches ORDER BY "
				"id DESC LIMIT 1",
				0, 0, &last);
	if (err)
		return err;
	if (!folded || folded > last) {
		err = run(db, "DELETE FROM dhcp_address_fold", 0);
		if (!err)
			err = ipam_db_events_each_block(db, 1, last, fold_block,
							f);
	} else {
		err = read_rows(db, f);
		for (size_t i = 0; i < f->nr; i++)
			f->a[i].dirty = false;
		if (!err && folded < last)
			err = fold_new(db, f, folded, last);
	}
	if (!err)
		err = write_entries(db, f);
	if (!err)
		err = run(db,
			  "DELETE FROM dhcp_batch_addresses WHERE batch <= ?1",
			  last);
	if (!err)
		err = one_value(db,
				"UPDATE dhcp_address_fold_state SET "
				"folded_batch = ?1 WHERE id = 1 RETURNING id",
				last, 0, &folded);
	return err;
}

static struct ipam_lease_event lease_out(const struct lease_ev *l)
{
	struct ipam_lease_event e = {
		.at = l->at,
		.seq = l->seq,
		.event_id = l->event_id,
		.server_id = l->server,
	};

	return e;
}

static int cmp_addr(const void *x, const void *y)
{
	const addr_t *a = x, *b = y;

	return strcmp(a->ip, b->ip);
}

/* Hand each address's events to fn, by ip. */
static int flush(struct ipam_db_events_fold *f, ipam_db_events_lease_fn fn,
		 void *ctx)
{
	struct ipam_lease_event *ev;
	size_t most = 0;
	int err = 0;

	if (f->nr)
		qsort(f->a, f->nr, sizeof(*f->a), cmp_addr);
	for (size_t i = 0; i < f->nr; i++)
		if (f->a[i].nr_more > most)
			most = f->a[i].nr_more;
	ev = xcalloc(SLOTS + most, sizeof(*ev));
	for (size_t i = 0; !err && i < f->nr; i++) {
		addr_t *a = &f->a[i];
		size_t n = 0;

		for (size_t j = 0; j < SLOTS; j++)
			if (a->v[j].seq)
				ev[n++] = lease_out(&a->v[j]);
		for (size_t j = 0; j < a->nr_more; j++)
			ev[n++] = lease_out(&a->more[j]);
		/* the named slot is the third taken (first, last, named) */
		for (size_t j = 0; j < n; j++)
			if (ev[j].seq == a->v[2].seq && a->v[2].seq) {
				ev[j].mac = a->mac.len ? a->mac.buf : NULL;
				ev[j].host = a->host.len ? a->host.buf : NULL;
				break;
			}
		err = fn(a->ip, a->family, ev, n, ctx);
	}
	free(ev);
	return err;
}

int ipam_db_events_leases(struct ipam_db *db, ipam_db_events_lease_fn fn,
			  void *ctx)
{
	struct ipam_db_events_fold f = {0};
	int err = ipam_sql_begin(db->h);

	if (!err)
		err = fold_update(db, &f);
	if (!err)
		err = ipam_sql_commit(db->h);
	else
		ipam_sql_rollback(db->h);
	if (!err)
		err = flush(&f, fn, ctx);
	ipam_db_events_fold_release(&f);
	return err;
}
