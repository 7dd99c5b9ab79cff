#include "db_events.h"
#include "db_events_internal.h"
#include "db_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
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
 * The audit task's events (the layout is migration 6's, db_schema.c):
 * each batch appends its events to dhcp_events under ids it hands out
 * itself (the next after the largest), so that a row costs one append
 * to one B-tree; the search keys of the batch (IP address, client id,
 * host name) are gathered in memory, each with the ids of its events,
 * and written at the commit as one dhcp_event_postings row per key:
 * the B-tree work is per distinct key of a batch, not per event.
 */

/*
 * The page cache while a batch is open, in KiB: a batch's dirty pages
 * (its rows, the postings' leaves it touches) stay in memory until the
 * commit writes each once; with SQLite's default 2 MiB they spill to
 * the WAL and are read back and written again.
 */
#define EVENTS_CACHE_KIB 32768

/* Rows per chunk handed to the writer thread, and chunks. */
#define CHUNK_ROWS    1024
#define WRITER_CHUNKS 4

/* The text fields of a row, in its chunk's text. */
enum { F_LOCAL, F_DESC, F_IP, F_HOST, F_CLIENT, F_EXTRA, F_NR };

struct row {
	long long id, at, line;
	int family, event_id;
	size_t off[F_NR], len[F_NR];
};

struct chunk {
	struct row rows[CHUNK_ROWS];
	size_t nr;
	struct strbuf text;
};

/* The full chunks are head .. head + full - 1 (mod WRITER_CHUNKS); the
 * caller fills the one after them. */
struct events_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool inited, running, stop;
	struct chunk chunks[WRITER_CHUNKS];
	size_t head, full;
	int err;
	char msg[512];
};

struct ipam_db_events_batch {
	struct ipam_db *db;
	long long cache_was; /* the connection's cache_size before */
	struct ipam_sql_stmt *insert;
	long long server_id, run_id, generation;
	long long id, first_id, next_id; /* the batch's and its events' */
	long long at_min, at_max;
	char *file;
	struct strbuf ip, client, host, extra, tmp;
	struct ipam_db_events_postings postings;
	struct events_writer w;
};

static int writer_start(struct ipam_db_events_batch *b);

const char *const ipam_db_track_extra_names[IPAM_DB_TRACK_EXTRAS] = {
	"userName",	 "transactionId",  "qResult",	     "probationTime",
	"correlationId", "dhcid",	   "vendorClassHex", "vendorClassAscii",
	"userClassHex",	 "userClassAscii", "relayAgent",     "dnsRegError",
	"errorCode",	 "subnetPrefix",
};

/* ---- keys and postings -------------------------------------------------- */

uint64_t ipam_db_events_hash(enum ipam_db_track_by by, const char *key,
			     size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = (h ^ (uint64_t)(1 + (int)by)) * 0x100000001b3ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

size_t ipam_db_events_row_keys(uint64_t keys[3], const char *ip,
			       const char *client_id, const char *host,
			       struct strbuf *tmp)
{
	size_t n = 0;

	if (ip && *ip)
		keys[n++] = ipam_db_events_hash(IPAM_TRACK_IP, ip, strlen(ip));
	if (client_id && *client_id)
		keys[n++] = ipam_db_events_hash(IPAM_TRACK_CLIENT, client_id,
						strlen(client_id));
	if (host && *host) {
		strbuf_reset(tmp);
		if (!ipam_db_track_key(tmp, IPAM_TRACK_HOST, host))
			keys[n++] = ipam_db_events_hash(IPAM_TRACK_HOST,
							tmp->buf, tmp->len);
		ipam_error_clear();
	}
	return n;
}

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
	while (d >= 0x80) {
		buf[p->len++] = (unsigned char)(d | 0x80);
		d >>= 7;
	}
	buf[p->len++] = (unsigned char)d;
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

/* Dotted-quad text of a (glibc's inet_ntop goes through sprintf, which
 * showed in the import's profile). */
static void ipv4_text(char *out, const unsigned char a[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

int ipam_db_track_key(struct strbuf *out, enum ipam_db_track_by by,
		      const char *value)
{
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];
	size_t start = out->len;

	switch (by) {
	case IPAM_TRACK_IP:
		if (inet_pton(AF_INET, value, bin) == 1)
			ipv4_text(text, bin);
		else if (inet_pton(AF_INET6, value, bin) == 1)
			inet_ntop(AF_INET6, bin, text, sizeof(text));
		else
			return ipam_error_set(IPAM_EINVAL,
					      "'%s' is not an IPv4 or IPv6 "
					      "address",
					      value);
		strbuf_addstr(out, text);
		return 0;
	case IPAM_TRACK_CLIENT:
		return ipam_client_id_normalize(out, value);
	case IPAM_TRACK_HOST:
		strbuf_addstr(out, value);
		for (size_t i = start; i < out->len; i++)
			out->buf[i] = (char)tolower((unsigned char)out->buf[i]);
		while (out->len > start && out->buf[out->len - 1] == '.')
			out->buf[--out->len] = '\0';
		if (out->len == start)
			return ipam_error_set(IPAM_EINVAL,
					      "an empty host name");
		return 0;
	}
	return ipam_error_set(IPAM_EINVAL, "unknown tracking key");
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
		"SELECT f.offset, f.line, f.head_len, f.head_sha256, "
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

/* Set the connection's cache_size; what it was (0: unknown, left). */
static long long set_cache(struct ipam_db *db, long long size)
{
	struct ipam_sql_stmt *st;
	long long was = 0;
	char sql[64];

	if (!size)
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

/* The largest id of a table (0 when empty): the last row of its B-tree. */
static int max_id(struct ipam_db *db, const char *sql, long long *out)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	*out = ipam_sql_step(st) == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0)
						 : 0;
	ipam_sql_finalize(st);
	return 0;
}

int ipam_db_events_begin(struct ipam_db *db, struct ipam_db_events_batch **out,
			 const char *server, long long run_id, const char *file,
			 long long generation)
{
	struct ipam_db_events_batch *b;
	long long id = 0, last_event = 0, last_batch = 0;
	int err;

	*out = NULL;
	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	err = server_id(db, server, &id);
	if (!err)
		err = max_id(db, "SELECT max(id) FROM dhcp_events",
			     &last_event);
	if (!err)
		err = max_id(db, "SELECT max(id) FROM dhcp_event_batches",
			     &last_batch);
	if (err) {
		ipam_db_sql_exec(db, "ROLLBACK");
		return err;
	}
	b = xcalloc(1, sizeof(*b));
	b->db = db;
	b->cache_was = set_cache(db, -EVENTS_CACHE_KIB);
	b->server_id = id;
	b->run_id = run_id;
	b->generation = generation;
	b->id = last_batch + 1;
	b->first_id = b->next_id = last_event + 1;
	b->file = xstrdup(file);
	strbuf_init(&b->ip);
	strbuf_init(&b->client);
	strbuf_init(&b->host);
	strbuf_init(&b->extra);
	strbuf_init(&b->tmp);
	err = ipam_db_sql_prepare(
		db, &b->insert,
		"INSERT INTO dhcp_events (id, batch, at, local_time, family, "
		"event_id, description, ip, host, client_id, line, extra) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
	if (!err)
		err = writer_start(b);
	if (err) {
		ipam_db_events_abort(b);
		return err;
	}
	*out = b;
	return 0;
}

/* Text or NULL when empty (len: v's, or 0 to measure it). */
static void bind_opt(struct ipam_sql_stmt *st, int i, const char *v, size_t len)
{
	if (v && !len)
		len = strlen(v);
	if (v && len)
		ipam_sql_bind_textn(st, i, v, len);
	else
		ipam_sql_bind_null(st, i);
}

/* The ip and client_id columns of e into b's buffers (empty: none).  A
 * value that is no address or hex is kept as written, in lower case. */
static void event_keys(struct ipam_db_events_batch *b,
		       const struct ipam_dhcplog_event *e)
{
	strbuf_reset(&b->ip);
	strbuf_reset(&b->client);
	if (e->ip && *e->ip && ipam_db_track_key(&b->ip, IPAM_TRACK_IP, e->ip))
		strbuf_addstr(&b->ip, e->ip);
	if (e->client_id && *e->client_id &&
	    ipam_db_track_key(&b->client, IPAM_TRACK_CLIENT, e->client_id))
		for (const char *p = e->client_id; *p; p++)
			strbuf_addch(&b->client,
				     (char)tolower((unsigned char)*p));
	ipam_error_clear();
}

/* The extra column of e (db_schema.c): letter, length, ':', bytes. */
static void encode_extra(struct strbuf *out, const struct ipam_dhcplog_event *e)
{
	const char *v[IPAM_DB_TRACK_EXTRAS] = {
		e->user_name,	     e->transaction_id,	    e->qresult,
		e->probation_time,   e->correlation_id,	    e->dhcid,
		e->vendor_class_hex, e->vendor_class_ascii, e->user_class_hex,
		e->user_class_ascii, e->relay_agent,	    e->dns_reg_error,
		e->error_code,	     e->subnet_prefix,
	};
	char digits[24];

	strbuf_reset(out);
	for (size_t i = 0; i < IPAM_DB_TRACK_EXTRAS; i++) {
		size_t len = v[i] && *v[i] ? strlen(v[i]) : 0, n = 0, l;

		if (!len)
			continue;
		digits[n++] = (char)('a' + i);
		l = len;
		do
			digits[n++] = (char)('0' + l % 10);
		while ((l /= 10));
		/* the letter, then the digits most significant first */
		for (size_t a = 1, z = n - 1; a < z; a++, z--) {
			char c = digits[a];

			digits[a] = digits[z];
			digits[z] = c;
		}
		digits[n++] = ':';
		strbuf_add(out, digits, n);
		strbuf_add(out, v[i], len);
	}
}

/* ---- the writer thread ------------------------------------------------ */

/*
 * A batch's rows are stored by a thread of its own while the caller
 * parses and keys the next ones (bench/collect: the import is CPU-bound
 * on one thread otherwise).  The caller fills one chunk of rows at a
 * time and hands it over; the writer takes the full chunks in order.
 * Nothing else touches the connection until the writer is stopped.
 */

static void *writer_main(void *arg);

static int writer_start(struct ipam_db_events_batch *b)
{
	struct events_writer *w = &b->w;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	for (size_t i = 0; i < WRITER_CHUNKS; i++)
		strbuf_init(&w->chunks[i].text);
	w->inited = true;
	if (pthread_create(&w->thread, NULL, writer_main, b))
		return ipam_error_set(IPAM_EDB, "cannot start a thread to "
						"store audit events");
	w->running = true;
	return 0;
}

static int store_row(struct ipam_db_events_batch *b, const struct chunk *c,
		     const struct row *r)
{
	struct ipam_sql_stmt *st = b->insert;
	const char *t = c->text.buf;
	int rc;

	ipam_sql_bind_int64(st, 1, r->id);
	ipam_sql_bind_int64(st, 2, b->id);
	ipam_sql_bind_int64(st, 3, r->at);
	ipam_sql_bind_textn(st, 4, t + r->off[F_LOCAL], r->len[F_LOCAL]);
	ipam_sql_bind_int64(st, 5, r->family);
	ipam_sql_bind_int64(st, 6, r->event_id);
	bind_opt(st, 7, t + r->off[F_DESC], r->len[F_DESC]);
	bind_opt(st, 8, t + r->off[F_IP], r->len[F_IP]);
	bind_opt(st, 9, t + r->off[F_HOST], r->len[F_HOST]);
	bind_opt(st, 10, t + r->off[F_CLIENT], r->len[F_CLIENT]);
	ipam_sql_bind_int64(st, 11, r->line);
	bind_opt(st, 12, t + r->off[F_EXTRA], r->len[F_EXTRA]);
	rc = ipam_sql_step(st);
	ipam_sql_reset(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(b->db, IPAM_EDB,
					 "cannot store an audit event in");
	return 0;
}

static void *writer_main(void *arg)
{
	struct ipam_db_events_batch *b = arg;
	struct events_writer *w = &b->w;
	int err = 0;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct chunk *c;

		while (!w->full && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->full)
			break;
		c = &w->chunks[w->head];
		pthread_mutex_unlock(&w->lock);
		for (size_t i = 0; !err && i < c->nr; i++)
			err = store_row(b, c, &c->rows[i]);
		pthread_mutex_lock(&w->lock);
		if (err && !w->err) {
			w->err = err;
			snprintf(w->msg, sizeof(w->msg), "%s",
				 ipam_error_last());
		}
		w->head = (w->head + 1) % WRITER_CHUNKS;
		w->full--;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The writer's failure as this thread's last error, or 0. */
static int writer_error(struct events_writer *w)
{
	if (!w->err)
		return 0;
	return ipam_error_set(w->err, "%s", w->msg);
}

/* Hand the chunk being filled to the writer; wait for a free one. */
static int writer_hand_off(struct events_writer *w)
{
	struct chunk *c;
	int err;

	pthread_mutex_lock(&w->lock);
	w->full++;
	pthread_cond_broadcast(&w->cond);
	while (w->full == WRITER_CHUNKS)
		pthread_cond_wait(&w->cond, &w->lock);
	err = w->err;
	pthread_mutex_unlock(&w->lock);
	c = &w->chunks[(w->head + w->full) % WRITER_CHUNKS];
	c->nr = 0;
	strbuf_reset(&c->text);
	return err ? writer_error(w) : 0;
}

/* Store what is left and stop the writer (fine when not started). */
static int writer_stop(struct events_writer *w)
{
	if (w->running) {
		pthread_mutex_lock(&w->lock);
		if (w->chunks[(w->head + w->full) % WRITER_CHUNKS].nr)
			w->full++;
		w->stop = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		w->running = false;
	}
	return writer_error(w);
}

static void writer_release(struct events_writer *w)
{
	if (!w->inited)
		return;
	writer_stop(w);
	for (size_t i = 0; i < WRITER_CHUNKS; i++)
		strbuf_release(&w->chunks[i].text);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	w->inited = false;
}

/* Append s (len bytes) to the chunk's text as field f of r. */
static void put_field(struct chunk *c, struct row *r, int f, const char *s,
		      size_t len)
{
	r->off[f] = c->text.len;
	r->len[f] = len;
	strbuf_add(&c->text, s, len);
}

int ipam_db_events_add(struct ipam_db_events_batch *b,
		       const struct ipam_db_event_in *ev)
{
	const struct ipam_dhcplog_event *e = ev->e;
	struct events_writer *w = &b->w;
	struct chunk *c = &w->chunks[(w->head + w->full) % WRITER_CHUNKS];
	struct row *r = &c->rows[c->nr];
	long long id = b->next_id;
	uint64_t keys[3];
	size_t nk;

	event_keys(b, e);
	encode_extra(&b->extra, e);
	r->id = id;
	r->at = ev->at;
	r->line = (long long)e->line;
	r->family = e->family == 6 ? 6 : 4;
	r->event_id = e->event_id;
	put_field(c, r, F_LOCAL, ev->local_time, strlen(ev->local_time));
	put_field(c, r, F_DESC, e->description ? e->description : "",
		  e->description ? strlen(e->description) : 0);
	put_field(c, r, F_IP, b->ip.buf, b->ip.len);
	put_field(c, r, F_HOST, e->host ? e->host : "",
		  e->host ? strlen(e->host) : 0);
	put_field(c, r, F_CLIENT, b->client.buf, b->client.len);
	put_field(c, r, F_EXTRA, b->extra.buf, b->extra.len);
	nk = ipam_db_events_row_keys(keys, b->ip.buf, b->client.buf, e->host,
				     &b->tmp);
	for (size_t i = 0; i < nk; i++)
		ipam_db_events_postings_add(&b->postings, keys[i], id);
	if (id == b->first_id || ev->at < b->at_min)
		b->at_min = ev->at;
	if (id == b->first_id || ev->at > b->at_max)
		b->at_max = ev->at;
	b->next_id++;
	if (++c->nr == CHUNK_ROWS)
		return writer_hand_off(w);
	return 0;
}

/* The batch's postings, in key order, and its row. */
static int store_postings(struct ipam_db_events_batch *b)
{
	struct ipam_db_events_posting *v;
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	if (b->next_id == b->first_id)
		return 0;
	err = ipam_db_sql_prepare(b->db, &st,
				  "INSERT INTO dhcp_event_postings (seg, k, "
				  "batch, ids) VALUES (?4, ?1, ?2, ?3)");
	if (err)
		return err;
	v = ipam_db_events_postings_sorted(&b->postings);
	for (size_t i = 0; rc == IPAM_SQL_DONE && i < b->postings.nr; i++) {
		ipam_sql_bind_int64(st, 1, (long long)v[i].k);
		ipam_sql_bind_int64(st, 2, b->id);
		ipam_sql_bind_blob(st, 3, ipam_db_events_posting_bytes(&v[i]),
				   (int)v[i].len);
		ipam_sql_bind_int64(st, 4,
				    b->first_id >> IPAM_DB_EVENTS_SEG_SHIFT);
		rc = ipam_sql_step(st);
		ipam_sql_reset(st);
	}
	free(v);
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(b->db, IPAM_EDB,
					 "cannot store the audit events' keys "
					 "in");
	err = ipam_db_sql_prepare(
		b->db, &st,
		"INSERT INTO dhcp_event_batches (id, server_id, run_id, file, "
		"generation, first_id, last_id, at_min, at_max, seg) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, b->id);
	ipam_sql_bind_int64(st, 2, b->server_id);
	if (b->run_id)
		ipam_sql_bind_int64(st, 3, b->run_id);
	ipam_sql_bind_text(st, 4, b->file);
	ipam_sql_bind_int64(st, 5, b->generation);
	ipam_sql_bind_int64(st, 6, b->first_id);
	ipam_sql_bind_int64(st, 7, b->next_id - 1);
	ipam_sql_bind_int64(st, 8, b->at_min);
	ipam_sql_bind_int64(st, 9, b->at_max);
	ipam_sql_bind_int64(st, 10, b->first_id >> IPAM_DB_EVENTS_SEG_SHIFT);
	return ipam_db_sql_step_done(b->db, st,
				     "cannot store a batch of audit events "
				     "in");
}

static int store_cursor(struct ipam_db_events_batch *b,
			const struct ipam_db_audit_cursor *c)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		b->db, &st,
		"INSERT INTO dhcp_audit_files (server_id, name, offset, line, "
		"head_len, head_sha256, generation, columns, size, read_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " NOW_SQL ") "
		"ON CONFLICT (server_id, name) DO UPDATE SET "
		"offset = excluded.offset, line = excluded.line, "
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
	writer_release(&b->w);
	set_cache(b->db, b->cache_was);
	ipam_sql_finalize(b->insert);
	strbuf_release(&b->ip);
	strbuf_release(&b->client);
	strbuf_release(&b->host);
	strbuf_release(&b->extra);
	strbuf_release(&b->tmp);
	ipam_db_events_postings_release(&b->postings);
	free(b->file);
	free(b);
}

int ipam_db_events_commit(struct ipam_db_events_batch *b,
			  const struct ipam_db_audit_cursor *cursor)
{
	int err = writer_stop(&b->w);

	if (!err)
		err = store_postings(b);

	if (!err)
		err = store_cursor(b, cursor);
	if (!err)
		err = ipam_db_sql_exec(b->db, "COMMIT");
	if (err) {
		ipam_db_events_abort(b);
		return err;
	}
	batch_free(b);
	return 0;
}

void ipam_db_events_abort(struct ipam_db_events_batch *b)
{
	if (!b)
		return;
	writer_release(&b->w);
	ipam_sql_finalize(b->insert);
	b->insert = NULL;
	/* the error that brought us here stays the last one */
	if (ipam_sql_in_transaction(b->db->h))
		ipam_sql_rollback(b->db->h);
	batch_free(b);
}
