#include "db_events.h"
#include "db_dialect.h"
#include "db_events_internal.h"
#include "db_events_keys.h"
#include "db_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The audit task's events (the layout is migration 10's, db_schema.c,
 * and db_events_internal.h's): each batch appends its events to blocks
 * of dhcp_event_blocks under ids it hands out itself (the next after the
 * largest), one row per block of up to 128 events, so that the
 * database's cost per row is paid once per block; the search keys of the
 * batch (IP address, client id, host name) are gathered in memory, each
 * with the ids of its events, and written at the commit as one
 * dhcp_event_postings row per key: the B-tree work is per distinct key
 * of a batch, not per event.
 */

/*
 * The page cache while a batch is open, in KiB: a batch's dirty pages
 * (its blocks, the postings' leaves it touches) stay in memory until the
 * commit writes each once; with SQLite's default 2 MiB they spill to
 * the WAL and are read back and written again.
 */
#define EVENTS_CACHE_KIB 32768

struct key_id {
	uint64_t k;
	long long id;
};

/* A block of the batch, its text at off in the batch's texts. */
struct held_block {
	long long id, last_id, n, at_min, at_max;
	size_t off, len;
};

struct ipam_db_events_batch {
	struct ipam_db *db;
	long long server_id, run_id, generation;
	long long id, first_id, next_id; /* the batch's and its events' */
	long long at_min, at_max;
	char *file;
	struct strbuf ip, client, extra, tmp;
	/* (key, event id) of each key of each event, in the order added */
	struct key_id *pairs;
	size_t nr_pairs, alloc_pairs;
	/* the block being filled: its first id, events, times, and where
	 * its text begins in texts */
	long long blk_id, blk_n, blk_min, blk_max;
	size_t blk_off;
	/* the blocks' text, and the blocks filled: written at the commit,
	 * each packed into packed (by the thread that writes) */
	struct strbuf texts, packed;
	struct ipam_db_events_packer pack;
	struct held_block *blocks;
	size_t nr_blocks, alloc_blocks;
	/* the earlier batch of the file being committed by a thread */
	struct events_writer *prev;
	/* the checkpoints of the import's log (from its second batch) */
	struct ipam_db_events_ckpt *ckpt;
	/* the batch's events by address (db_events_fold.c); fold_off: it
	 * had too many addresses to be worth it */
	struct ipam_db_events_fold fold;
	bool fold_off;
};

/* A batch committed in the background (ipam_db_events_commit_next). */
struct events_writer {
	pthread_t thread;
	struct ipam_db_events_batch *b;
	struct ipam_db_audit_cursor cursor;
	struct ipam_db_events_ckpt *ckpt;
	int err;
	char msg[512];
};

const char *const ipam_db_track_extra_names[IPAM_DB_TRACK_EXTRAS] = {
	"userName",	 "transactionId",  "qResult",	     "probationTime",
	"correlationId", "dhcid",	   "vendorClassHex", "vendorClassAscii",
	"userClassHex",	 "userClassAscii", "relayAgent",     "dnsRegError",
	"errorCode",	 "subnetPrefix",
};

/* ---- keys and postings -------------------------------------------------- */

/* The bytes of ids a posting holds in itself before it allocates. */
#define INLINE_IDS                                                             \
	((uint32_t)sizeof(((struct ipam_db_events_posting *)0)->u.in))

static void postings_grow(struct ipam_db_events_postings *m)
{
	struct ipam_db_events_posting *old = m->v;
	size_t cap = m->cap;

	m->cap = cap ? cap * 2 : 1024;
	m->v = xcalloc(m->cap, sizeof(*m->v));
	for (size_t i = 0; i < cap; i++) {
		size_t j = (size_t)old[i].k & (m->cap - 1);

		if (!old[i].alloc)
			continue;
		while (m->v[j].alloc)
			j = (j + 1) & (m->cap - 1);
		m->v[j] = old[i];
	}
	free(old);
}

void ipam_db_events_postings_add(struct ipam_db_events_postings *m, uint64_t k,
				 long long id)
{
	struct ipam_db_events_posting *p;
	unsigned char *buf;
	uint64_t d;
	size_t j;

	if (2 * (m->nr + 1) > m->cap)
		postings_grow(m);
	j = (size_t)k & (m->cap - 1);
	while (m->v[j].alloc && m->v[j].k != k)
		j = (j + 1) & (m->cap - 1);
	p = &m->v[j];
	if (!p->alloc) {
		p->k = k;
		p->alloc = INLINE_IDS;
		m->nr++;
	} else if (p->last == id) {
		return; /* two keys of one event with the same hash */
	}
	if (p->len + 10 > p->alloc) {
		uint32_t alloc = p->alloc * 2;

		if (p->alloc == INLINE_IDS) {
			unsigned char *heap = xmalloc(alloc);

			memcpy(heap, p->u.in, p->len);
			p->u.heap = heap;
		} else {
			p->u.heap = xrealloc(p->u.heap, alloc);
		}
		p->alloc = alloc;
	}
	buf = p->alloc == INLINE_IDS ? p->u.in : p->u.heap;
	d = (uint64_t)(p->len ? id - p->last : id);
	p->last = id;
	p->len += (uint32_t)ipam_db_events_varint(buf + p->len, d);
}

size_t ipam_db_events_varint(unsigned char *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

const unsigned char *
ipam_db_events_posting_bytes(const struct ipam_db_events_posting *p)
{
	return p->alloc == INLINE_IDS ? p->u.in : p->u.heap;
}

bool ipam_db_events_postings_has(const struct ipam_db_events_postings *m,
				 uint64_t k)
{
	size_t j;

	if (!m->cap)
		return false;
	j = (size_t)k & (m->cap - 1);
	while (m->v[j].alloc && m->v[j].k != k)
		j = (j + 1) & (m->cap - 1);
	return m->v[j].alloc != 0;
}

static int cmp_posting(const void *a, const void *b)
{
	uint64_t x = ((const struct ipam_db_events_posting *)a)->k;
	uint64_t y = ((const struct ipam_db_events_posting *)b)->k;

	return x < y ? -1 : x > y;
}

struct ipam_db_events_posting *
ipam_db_events_postings_sorted(const struct ipam_db_events_postings *m)
{
	struct ipam_db_events_posting *v = xmalloc((m->nr + 1) * sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].alloc)
			v[n++] = m->v[i];
	if (n)
		qsort(v, n, sizeof(*v), cmp_posting);
	return v;
}

void ipam_db_events_postings_release(struct ipam_db_events_postings *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->v[i].alloc > INLINE_IDS)
			free(m->v[i].u.heap);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- the import cursor ------------------------------------------------ */

int ipam_db_audit_cursor_get(struct ipam_db *db, const char *server,
			     const char *file, struct ipam_db_audit_cursor *out)
{
	struct ipam_sql_stmt *st;
	const char *hash;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT f.\"offset\", f.line, f.head_len, f.head_sha256, "
		"f.generation, f.columns, f.size FROM dhcp_audit_files f "
		"JOIN servers s ON s.id = f.server_id "
		"WHERE s.name = ?1 AND f.name = ?2");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, server);
	ipam_sql_bind_text(st, 2, file);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		out->offset = ipam_sql_column_int64(st, 0);
		out->line = ipam_sql_column_int64(st, 1);
		out->head_len = ipam_sql_column_int64(st, 2);
		hash = ipam_sql_column_text(st, 3);
		snprintf(out->head_sha256, sizeof(out->head_sha256), "%s",
			 hash ? hash : "");
		out->generation = ipam_sql_column_int64(st, 4);
		out->columns = ipam_sql_column_dup(st, 5);
		out->size = ipam_sql_column_int64(st, 6);
	}
	ipam_sql_finalize(st);
	if (rc == IPAM_SQL_DONE)
		return IPAM_ENOTFOUND;
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the audit-log position "
					 "from");
	return 0;
}

void ipam_db_audit_cursor_release(struct ipam_db_audit_cursor *c)
{
	if (!c)
		return;
	free(c->columns);
	c->columns = NULL;
}

/* ---- a batch of events ------------------------------------------------ */

static int server_id(struct ipam_db *db, const char *server, long long *id)
{
	struct ipam_sql_stmt *st;
	int err, rc;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id FROM servers WHERE name = ?1");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, server);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW)
		*id = ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	if (rc == IPAM_SQL_DONE)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "audit log of '%s': no such server in "
				      "the inventory",
				      server);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot look up a server in");
	return 0;
}

/* Set the connection's cache_size; what it was (0: unknown, left).
 * SQLite only: PostgreSQL's buffers are the server's. */
static long long set_cache(struct ipam_db *db, long long size)
{
	struct ipam_sql_stmt *st;
	long long was = 0;
	char sql[64];

	/* SQLite's page cache; a PRAGMA would abort PostgreSQL's
	 * transaction */
	if (!size || ipam_sql_kind(db->h) != IPAM_SQL_SQLITE)
		return 0;
	if (ipam_sql_prepare(db->h, &st, "PRAGMA cache_size"))
		return 0;
	if (ipam_sql_step(st) == IPAM_SQL_ROW)
		was = ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld", size);
	ipam_sql_exec(db->h, sql);
	return was;
}

/* The value of a one-row query (0 when it has none): the last row of a
 * table's B-tree. */
static int last_value(struct ipam_db *db, const char *sql, long long *out)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql), rc;

	if (err)
		return err;
	rc = ipam_sql_step(st);
	*out = rc == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0) : 0;
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the audit events in");
	return 0;
}

/* The largest event and batch ids stored. */
static int last_ids(struct ipam_db *db, long long *event, long long *batch)
{
	/* blocks ascend by id and never overlap: the last holds the
	 * largest event id */
	int err = last_value(db,
			     "SELECT last_id FROM dhcp_event_blocks "
			     "ORDER BY id DESC LIMIT 1",
			     event);

	return err ? err
		   : last_value(db,
				"SELECT id FROM dhcp_event_batches ORDER BY "
				"id DESC LIMIT 1",
				batch);
}

static struct ipam_db_events_batch *
batch_new(struct ipam_db *db, long long server_id, long long run_id,
	  const char *file, long long generation)
{
	struct ipam_db_events_batch *b = xcalloc(1, sizeof(*b));

	b->db = db;
	b->server_id = server_id;
	b->run_id = run_id;
	b->generation = generation;
	b->file = xstrdup(file);
	strbuf_init(&b->ip);
	strbuf_init(&b->client);
	strbuf_init(&b->extra);
	strbuf_init(&b->tmp);
	strbuf_init(&b->texts);
	strbuf_init(&b->packed);
	return b;
}

/* Nothing is written before the commit: the batch is built in memory
 * (its size bounds the memory), then written in one transaction. */
int ipam_db_events_begin(struct ipam_db *db, struct ipam_db_events_batch **out,
			 const char *server, long long run_id, const char *file,
			 long long generation)
{
	struct ipam_db_events_batch *b;
	long long id = 0, last_event = 0, last_batch = 0;
	int err;

	*out = NULL;
	err = server_id(db, server, &id);
	if (!err)
		err = last_ids(db, &last_event, &last_batch);
	if (err)
		return err;
	b = batch_new(db, id, run_id, file, generation);
	b->id = last_batch + 1;
	b->first_id = b->next_id = last_event + 1;
	*out = b;
	return 0;
}

/* The length of e's text field i (s), from the parser when it has it. */
static size_t text_len(const struct ipam_dhcplog_event *e,
		       enum ipam_dhcplog_text i, const char *s)
{
	if (!s)
		return 0;
	return e->len ? e->len[i] : strlen(s);
}

/* The extra field of e (migration 6's encoding, db_schema.c): letter,
 * length, ':', bytes. */
/* hex is the Windows spelling of ascii's bytes ("0x" and upper-case
 * digits): ipam_db_events_class_hex gives it back from ascii. */
#define HEX_ROW(h)                                                             \
	h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "A" h    \
	  "B" h "C" h "D" h "E" h "F"
static bool hex_of(const char *hex, size_t hex_len, const char *ascii,
		   size_t ascii_len)
{
	/* each byte's two digits, "00" to "FF" */
	static const char pairs[] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2")
		HEX_ROW("3") HEX_ROW("4") HEX_ROW("5") HEX_ROW("6") HEX_ROW("7")
			HEX_ROW("8") HEX_ROW("9") HEX_ROW("A") HEX_ROW("B")
				HEX_ROW("C") HEX_ROW("D") HEX_ROW("E")
					HEX_ROW("F");

	if (hex_len != 2 + 2 * ascii_len || hex[0] != '0' || hex[1] != 'x')
		return false;
	hex += 2;
	for (size_t i = 0; i < ascii_len; i++, hex += 2)
		if (memcmp(hex, pairs + 2 * (unsigned char)ascii[i], 2))
			return false;
	return true;
}

/* The extra columns as "<letter><length>:<value>" each, the empty ones
 * left out; a class's hex column that hex_of its ASCII one as its
 * letter with length 0 (a fifth of the event's bytes in a typical log,
 * whose Windows clients all send "MSFT 5.0"). */
static void encode_extra(struct strbuf *out, const struct ipam_dhcplog_event *e)
{
	const char *v[IPAM_DB_TRACK_EXTRAS] = {
		e->user_name,	     e->transaction_id,	    e->qresult,
		e->probation_time,   e->correlation_id,	    e->dhcid,
		e->vendor_class_hex, e->vendor_class_ascii, e->user_class_hex,
		e->user_class_ascii, e->relay_agent,	    e->dns_reg_error,
		e->error_code,	     e->subnet_prefix,
	};
	size_t len[IPAM_DB_TRACK_EXTRAS], room = 0;
	char *o;

	_Static_assert(IPAM_DB_TRACK_EXTRAS ==
			       IPAM_DHCPLOG_TEXTS - IPAM_DHCPLOG_USER_NAME,
		       "the extra columns are the parser's");
	for (size_t i = 0; i < IPAM_DB_TRACK_EXTRAS; i++) {
		len[i] = e->len ? e->len[IPAM_DHCPLOG_USER_NAME + i]
			 : v[i] ? strlen(v[i])
				: 0;
		room += len[i] + 24; /* the letter, the length, ':' */
	}
	out->len = 0;		   /* and its NUL is written below */
	if (room + 1 > out->alloc) /* (no call unless it grows) */
		strbuf_grow(out, room);
	o = out->buf;
	for (size_t i = 0; i < IPAM_DB_TRACK_EXTRAS; i++) {
		size_t n = len[i], l;
		char digits[24], *d = digits + sizeof(digits);

		if (!n)
			continue;
		if ((i == IPAM_DB_EXTRA_VENDOR_HEX ||
		     i == IPAM_DB_EXTRA_USER_HEX) &&
		    len[i + 1] && hex_of(v[i], n, v[i + 1], len[i + 1]))
			n = 0;
		*o++ = (char)('a' + i);
		if (n < 10) {
			*o++ = (char)('0' + n);
		} else {
			l = n;
			do
				*--d = (char)('0' + l % 10);
			while ((l /= 10));
			memcpy(o, d, (size_t)(digits + sizeof(digits) - d));
			o += digits + sizeof(digits) - d;
		}
		*o++ = ':';
		memcpy(o, v[i], n);
		o += n;
	}
	*o = '\0';
	out->len = (size_t)(o - out->buf);
}

/* Keep the block being filled (nothing when it is empty). */
static void flush_block(struct ipam_db_events_batch *b)
{
	struct held_block *h;

	if (!b->blk_n)
		return;
	ALLOC_GROW(b->blocks, b->nr_blocks + 1, b->alloc_blocks);
	h = &b->blocks[b->nr_blocks++];
	h->id = b->blk_id;
	h->last_id = b->next_id - 1;
	h->n = b->blk_n;
	h->at_min = b->blk_min;
	h->at_max = b->blk_max;
	h->off = b->blk_off;
	h->len = b->texts.len - b->blk_off;
	b->blk_off = b->texts.len;
	b->blk_n = 0;
}

/* Write the blocks kept. */
static int store_blocks(struct ipam_db_events_batch *b)
{
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_db_sql_prepare(
		b->db, &st,
		"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "
		"at_max, events, packed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', "
		"?7)");
	if (err)
		return err;
	for (size_t i = 0; rc == IPAM_SQL_DONE && i < b->nr_blocks; i++) {
		const struct held_block *h = &b->blocks[i];

		err = ipam_db_events_pack(&b->pack, &b->packed,
					  b->texts.buf + h->off, h->len);
		if (err)
			break;
		ipam_sql_bind_int64(st, 1, h->id);
		ipam_sql_bind_int64(st, 2, b->id);
		ipam_sql_bind_int64(st, 3, h->last_id);
		ipam_sql_bind_int64(st, 4, h->n);
		ipam_sql_bind_int64(st, 5, h->at_min);
		ipam_sql_bind_int64(st, 6, h->at_max);
		ipam_sql_bind_blob(st, 7, b->packed.buf, b->packed.len);
		rc = ipam_sql_step(st);
		ipam_sql_reset(st);
	}
	ipam_sql_finalize(st);
	if (err)
		return err;
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(b->db, IPAM_EDB,
					 "cannot store audit events in");
	return 0;
}

int ipam_db_events_add(struct ipam_db_events_batch *b,
		       const struct ipam_db_event_in *ev)
{
	const struct ipam_dhcplog_event *e = ev->e;
	struct ipam_db_events_rec r = {
		.id = b->next_id,
		.at = ev->at,
		.local = ev->at,
		.line = (long long)e->line,
		.family = e->family == 6 ? 6 : 4,
		.event_id = e->event_id,
		.description = e->description,
		.host = e->host,
	};
	uint64_t keys[3];
	size_t nk, rec_off, len[5];

	ipam_db_events_keys_of(
		&b->ip, &b->client, e, text_len(e, IPAM_DHCPLOG_IP, e->ip),
		text_len(e, IPAM_DHCPLOG_CLIENT_ID, e->client_id));
	encode_extra(&b->extra, e);
	r.ip = b->ip.buf;
	r.client_id = b->client.buf;
	r.extra = b->extra.buf;
	if (!ev->local_time)
		r.local = ev->local;
	else if (!ipam_db_events_local_parse(ev->local_time, &r.local))
		r.local = ev->at;
	if (!b->blk_n) {
		b->blk_id = r.id;
		b->blk_min = b->blk_max = r.at;
	}
	if (r.at < b->blk_min)
		b->blk_min = r.at;
	if (r.at > b->blk_max)
		b->blk_max = r.at;
	len[0] = text_len(e, IPAM_DHCPLOG_DESCRIPTION, e->description);
	len[1] = b->ip.len;
	len[2] = text_len(e, IPAM_DHCPLOG_HOST, e->host);
	len[3] = b->client.len;
	len[4] = b->extra.len;
	rec_off = b->texts.len;
	/* the parser's fields need no escape unless the line has a '\\' */
	ipam_db_events_rec_put_n(&b->texts, b->blk_id, &r, len,
				 e->len && e->plain);
	nk = ipam_db_events_row_keys_n(keys, b->ip.buf, b->ip.len,
				       b->client.buf, b->client.len, e->host,
				       len[2]);
	/* keys[0] is the address's when it has one */
	if (!b->fold_off && b->ip.len) {
		ipam_db_events_fold_take(&b->fold, &r, b->ip.len, keys[0],
					 b->server_id, rec_off);
		if (ipam_db_events_fold_count(&b->fold) >
		    IPAM_DB_EVENTS_FOLD_MAX) {
			b->fold_off = true;
			ipam_db_events_fold_clear(&b->fold);
		}
	}
	ALLOC_GROW(b->pairs, b->nr_pairs + nk, b->alloc_pairs);
	for (size_t i = 0; i < nk; i++) {
		b->pairs[b->nr_pairs].k = keys[i];
		b->pairs[b->nr_pairs++].id = r.id;
	}
	if (r.id == b->first_id || r.at < b->at_min)
		b->at_min = r.at;
	if (r.id == b->first_id || r.at > b->at_max)
		b->at_max = r.at;
	b->next_id++;
	if (++b->blk_n == IPAM_DB_EVENTS_BLOCK_EVENTS ||
	    b->texts.len - b->blk_off >= IPAM_DB_EVENTS_BLOCK_BYTES)
		flush_block(b);
	return 0;
}

/*
 * The pairs sorted by key, the ids of a key ascending (as added): by the
 * key's top 16 bits into buckets, then each bucket (a few pairs) by
 * insertion, which keeps the order of equal keys.  Two passes over the
 * pairs instead of a hash map's random access per event.  The order is
 * the database's, whose k is a signed 64-bit integer (the keys with the
 * top bit set first): the rows then go into the index in its own order,
 * each after the last, not into the middle of it.
 */
#define KEY_BUCKET(k) (((k) >> 48) ^ 0x8000)

static struct key_id *sort_pairs(const struct key_id *v, size_t nr)
{
	size_t *start = xcalloc((1 << 16) + 1, sizeof(*start));
	struct key_id *out = xmalloc((nr + 1) * sizeof(*out));

	for (size_t i = 0; i < nr; i++)
		start[KEY_BUCKET(v[i].k) + 1]++;
	for (size_t i = 1; i <= 1 << 16; i++)
		start[i] += start[i - 1];
	for (size_t i = 0; i < nr; i++)
		out[start[KEY_BUCKET(v[i].k)]++] = v[i];
	/* start[h] is now the end of bucket h */
	for (size_t h = 0, lo = 0; h < 1 << 16; lo = start[h++]) {
		for (size_t i = lo + 1; i < start[h]; i++) {
			struct key_id x = out[i];
			size_t j = i;

			for (; j > lo && out[j - 1].k > x.k; j--)
				out[j] = out[j - 1];
			out[j] = x;
		}
	}
	free(start);
	return out;
}

/* The ids of v[0..n) (one key, ascending) as delta varints. */
static void posting_ids(struct strbuf *out, const struct key_id *v, size_t n)
{
	long long last = 0;

	strbuf_reset(out);
	for (size_t i = 0; i < n; i++) {
		unsigned char buf[10];

		if (i && v[i].id == last)
			continue; /* two keys of one event with the same hash */
		strbuf_add(
			out, buf,
			ipam_db_events_varint(buf, (uint64_t)(v[i].id - last)));
		last = v[i].id;
	}
}

/* Postings per INSERT: one round trip for many on PostgreSQL. */
#define POSTINGS_PER_INSERT 64

/* INSERT of rows postings. */
static int postings_insert(struct ipam_db *db, struct ipam_sql_stmt **st,
			   size_t rows)
{
	struct strbuf sql = STRBUF_INIT;
	int err;

	strbuf_addstr(&sql, "INSERT INTO dhcp_event_postings (seg, k, batch, "
			    "ids) VALUES ");
	ipam_db_sql_values(&sql, rows, 4);
	err = ipam_db_sql_prepare(db, st, sql.buf);
	strbuf_release(&sql);
	return err;
}

/* The batch's postings, in key order, and its row. */
static int store_postings(struct ipam_db_events_batch *b)
{
	struct ipam_sql_stmt *many = NULL, *one = NULL, *st;
	struct strbuf ids[POSTINGS_PER_INSERT];
	long long seg = b->first_id >> IPAM_DB_EVENTS_SEG_SHIFT;
	size_t n = 0, i = 0, j, nr;
	bool keep;
	struct key_id *v;
	int err = 0, rc = IPAM_SQL_DONE;

	if (b->next_id == b->first_id)
		return 0;
	/* SQLite: one row per INSERT (one of many rows would keep a
	 * statement journal of every page it touches, in a temporary file:
	 * twice the database's bytes written again in an import) */
	if (IPAM_DB_IS_PG(b->db))
		err = postings_insert(b->db, &many, POSTINGS_PER_INSERT);
	if (!err)
		err = postings_insert(b->db, &one, 1);
	if (err) {
		ipam_sql_finalize(many);
		return err;
	}
	for (j = 0; j < POSTINGS_PER_INSERT; j++)
		strbuf_init(&ids[j]);
	v = sort_pairs(b->pairs, b->nr_pairs);
	while (rc == IPAM_SQL_DONE && i < b->nr_pairs) {
		/* the next POSTINGS_PER_INSERT keys, or one at a time at
		 * the end */
		size_t left = 0;

		for (j = i;
		     many && j < b->nr_pairs && left < POSTINGS_PER_INSERT; j++)
			left += !j || v[j].k != v[j - 1].k;
		st = many && left == POSTINGS_PER_INSERT ? many : one;
		for (n = 0; i < b->nr_pairs &&
			    n < (st == many ? POSTINGS_PER_INSERT : 1);
		     n++, i = j) {
			for (j = i + 1; j < b->nr_pairs && v[j].k == v[i].k;
			     j++)
				;
			posting_ids(&ids[n], v + i, j - i);
			ipam_sql_bind_int64(st, (int)(4 * n + 1), seg);
			ipam_sql_bind_int64(st, (int)(4 * n + 2),
					    (long long)v[i].k);
			ipam_sql_bind_int64(st, (int)(4 * n + 3), b->id);
			ipam_sql_bind_blob(st, (int)(4 * n + 4), ids[n].buf,
					   ids[n].len);
		}
		rc = ipam_sql_step(st);
		ipam_sql_reset(st);
	}
	free(v);
	for (j = 0; j < POSTINGS_PER_INSERT; j++)
		strbuf_release(&ids[j]);
	ipam_sql_finalize(many);
	ipam_sql_finalize(one);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(b->db, IPAM_EDB,
					 "cannot store the audit events' keys "
					 "in");
	err = ipam_db_sql_prepare(
		b->db, &st,
		"INSERT INTO dhcp_event_batches (id, server_id, run_id, file, "
		"generation, first_id, last_id, at_min, at_max, seg, "
		"addresses) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		"?11)");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, b->id);
	ipam_sql_bind_int64(st, 2, b->server_id);
	if (b->run_id)
		ipam_sql_bind_int64(st, 3, b->run_id);
	else
		ipam_sql_bind_null(st, 3);
	ipam_sql_bind_text(st, 4, b->file);
	ipam_sql_bind_int64(st, 5, b->generation);
	ipam_sql_bind_int64(st, 6, b->first_id);
	ipam_sql_bind_int64(st, 7, b->next_id - 1);
	ipam_sql_bind_int64(st, 8, b->at_min);
	ipam_sql_bind_int64(st, 9, b->at_max);
	ipam_sql_bind_int64(st, 10, b->first_id >> IPAM_DB_EVENTS_SEG_SHIFT);
	nr = ipam_db_events_fold_count(&b->fold);
	keep = !b->fold_off &&
	       IPAM_DB_EVENTS_FOLD_KEEP(nr, (size_t)(b->next_id - b->first_id));
	if (keep)
		ipam_sql_bind_int64(st, 11, (long long)nr);
	else
		ipam_sql_bind_null(st, 11);
	err = ipam_db_sql_step_done(b->db, st,
				    "cannot store a batch of audit events in");
	/* the rows of the batch's fold refer to its row */
	if (!err && keep && nr)
		err = ipam_db_events_fold_store(b->db, b->id, &b->fold,
						&b->texts);
	return err;
}

static int store_cursor(struct ipam_db_events_batch *b,
			const struct ipam_db_audit_cursor *c)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		b->db, &st,
		"INSERT INTO dhcp_audit_files (server_id, name, \"offset\", "
		"line, "
		"head_len, head_sha256, generation, columns, size, read_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " NOW_SQL ") "
		"ON CONFLICT (server_id, name) DO UPDATE SET "
		"\"offset\" = excluded.\"offset\", line = excluded.line, "
		"head_len = excluded.head_len, "
		"head_sha256 = excluded.head_sha256, "
		"generation = excluded.generation, columns = excluded.columns, "
		"size = excluded.size, read_at = excluded.read_at");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, b->server_id);
	ipam_sql_bind_text(st, 2, b->file);
	ipam_sql_bind_int64(st, 3, c->offset);
	ipam_sql_bind_int64(st, 4, c->line);
	ipam_sql_bind_int64(st, 5, c->head_len);
	ipam_sql_bind_text(st, 6, c->head_sha256);
	ipam_sql_bind_int64(st, 7, c->generation ? c->generation : 1);
	ipam_sql_bind_text(st, 8, c->columns);
	ipam_sql_bind_int64(st, 9, c->size);
	return ipam_db_sql_step_done(b->db, st,
				     "cannot store the audit-log position in");
}

static void batch_free(struct ipam_db_events_batch *b)
{
	strbuf_release(&b->ip);
	strbuf_release(&b->client);
	strbuf_release(&b->extra);
	strbuf_release(&b->tmp);
	strbuf_release(&b->texts);
	strbuf_release(&b->packed);
	ipam_db_events_packer_release(&b->pack);
	free(b->blocks);
	free(b->pairs);
	free(b->file);
	ipam_db_events_fold_release(&b->fold);
	free(b);
}

/* The batch's ids still free (another writer took none since begin). */
static int check_ids(struct ipam_db_events_batch *b)
{
	long long last_event = 0, last_batch = 0;
	int err = last_ids(b->db, &last_event, &last_batch);

	if (!err && (last_event >= b->first_id || last_batch >= b->id))
		err = ipam_error_set(IPAM_EDB,
				     "audit events were stored by another "
				     "writer during this import");
	return err;
}

/* Write b with its cursor in one transaction (b stays the caller's). */
static int batch_write(struct ipam_db_events_batch *b,
		       const struct ipam_db_audit_cursor *cursor)
{
	long long cache_was;
	int err;

	flush_block(b);
	err = ipam_sql_begin(b->db->h);
	if (err)
		return err;
	cache_was = set_cache(b->db, -EVENTS_CACHE_KIB);
	err = check_ids(b);
	/* on PostgreSQL the rows go out without a round trip each */
	if (!err)
		err = ipam_sql_defer(b->db->h, 1);
	if (!err)
		err = store_blocks(b);
	if (!err)
		err = store_postings(b);
	if (ipam_sql_defer(b->db->h, 0) && !err)
		err = ipam_db_sql_error(b->db, IPAM_EDB,
					"cannot store audit events in");
	if (!err)
		err = store_cursor(b, cursor);
	if (!err)
		err = ipam_sql_commit(b->db->h);
	/* the error that brought us here stays the last one */
	if (err && ipam_sql_in_transaction(b->db->h))
		ipam_sql_rollback(b->db->h);
	set_cache(b->db, cache_was);
	return err;
}

/* Give b (empty so far) the grown buffers of done (fresh pages for each
 * batch cost page faults on the parsing thread). */
static void recycle(struct ipam_db_events_batch *b,
		    struct ipam_db_events_batch *done)
{
	struct strbuf t = b->texts;
	struct key_id *p = b->pairs;
	size_t alloc = b->alloc_pairs;

	if (b->texts.len || b->nr_pairs)
		return;
	b->texts = done->texts;
	strbuf_reset(&b->texts);
	done->texts = t;
	b->pairs = done->pairs;
	b->alloc_pairs = done->alloc_pairs;
	done->pairs = p;
	done->alloc_pairs = alloc;
	if (!b->pack.c) {
		struct strbuf packed = b->packed;

		b->pack = done->pack;
		memset(&done->pack, 0, sizeof(done->pack));
		b->packed = done->packed;
		done->packed = packed;
	}
	if (!b->fold.nr) {
		struct ipam_db_events_fold f = b->fold;

		b->fold = done->fold;
		ipam_db_events_fold_clear(&b->fold);
		done->fold = f;
	}
}

static void *writer_run(void *arg)
{
	struct events_writer *w = arg;

	w->err = batch_write(w->b, &w->cursor);
	if (!w->err)
		ipam_db_events_ckpt_kick(w->ckpt);
	if (w->err)
		snprintf(w->msg, sizeof(w->msg), "%s", ipam_error_last());
	return NULL;
}

/* Wait for the batch committed in the background, if any: 0, or its
 * failure (set again in this thread when report). */
static int writer_wait(struct ipam_db_events_batch *b, bool report)
{
	struct events_writer *w = b->prev;
	int err;

	if (!w)
		return 0;
	b->prev = NULL;
	pthread_join(w->thread, NULL);
	err = w->err;
	if (err && report)
		ipam_error_set(err, "%s", w->msg);
	recycle(b, w->b);
	batch_free(w->b);
	free(w->cursor.columns);
	free(w);
	return err;
}

int ipam_db_events_commit_next(struct ipam_db_events_batch **bp,
			       const struct ipam_db_audit_cursor *cursor)
{
	struct ipam_db_events_batch *b = *bp, *next;
	struct events_writer *w;
	int err;

	flush_block(b);
	next = batch_new(b->db, b->server_id, b->run_id, b->file,
			 b->generation);
	next->id = b->id + 1;
	next->first_id = next->next_id = b->next_id;
	/* the batch before b: its buffers go on in next */
	next->prev = b->prev;
	b->prev = NULL;
	next->ckpt = b->ckpt;
	err = writer_wait(next, true);
	if (err) {
		ipam_db_events_ckpt_stop(next->ckpt);
		batch_free(b);
		batch_free(next);
		*bp = NULL;
		return err;
	}
	/* no thread uses the connection now */
	if (!next->ckpt)
		next->ckpt = ipam_db_events_ckpt_start(b->db);
	w = xcalloc(1, sizeof(*w));
	w->b = b;
	w->ckpt = next->ckpt;
	w->cursor = *cursor;
	w->cursor.columns = cursor->columns ? xstrdup(cursor->columns) : NULL;
	if (pthread_create(&w->thread, NULL, writer_run, w)) {
		/* no thread: commit it here */
		free(w->cursor.columns);
		free(w);
		err = batch_write(b, cursor);
		batch_free(b);
		if (err) {
			ipam_db_events_ckpt_stop(next->ckpt);
			batch_free(next);
			*bp = NULL;
			return err;
		}
	} else {
		next->prev = w;
	}
	*bp = next;
	return 0;
}

int ipam_db_events_commit(struct ipam_db_events_batch *b,
			  const struct ipam_db_audit_cursor *cursor)
{
	int err = writer_wait(b, true);

	if (!err)
		err = batch_write(b, cursor);
	ipam_db_events_ckpt_park(b->ckpt);
	batch_free(b);
	return err;
}

void ipam_db_events_abort(struct ipam_db_events_batch *b)
{
	if (!b)
		return;
	/* the batch before it was handed over: it is committed or not, as
	 * it went; the error that brought us here stays the last one */
	writer_wait(b, false);
	ipam_db_events_ckpt_stop(b->ckpt);
	batch_free(b);
}
