#include "db_events.h"
#include "db_events_internal.h"
#include "db_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The blocks of audit events (db_events_internal.h has their text): the
 * encoding of a record, its decoding, a block read and written back,
 * and the tables the report and the addresses read the events through.
 * One row per block, not per event, is what makes the import cheap: the
 * database's cost per row is paid once per 128 events.
 */

/* The decimal digits of v (which may be negative) at out; their count.
 * Two digits per division: a record has some twenty-five. */
static size_t put_num(char *out, long long v)
{
	static const char pairs[] = "00010203040506070809"
				    "10111213141516171819"
				    "20212223242526272829"
				    "30313233343536373839"
				    "40414243444546474849"
				    "50515253545556575859"
				    "60616263646566676869"
				    "70717273747576777879"
				    "80818283848586878889"
				    "90919293949596979899";
	unsigned long long u =
		v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	static const unsigned long long pow10[20] = {1ULL,
						     10ULL,
						     100ULL,
						     1000ULL,
						     10000ULL,
						     100000ULL,
						     1000000ULL,
						     10000000ULL,
						     100000000ULL,
						     1000000000ULL,
						     10000000000ULL,
						     100000000000ULL,
						     1000000000000ULL,
						     10000000000000ULL,
						     100000000000000ULL,
						     1000000000000000ULL,
						     10000000000000000ULL,
						     100000000000000000ULL,
						     1000000000000000000ULL,
						     10000000000000000000ULL};
	size_t k = 0, n;
	char *o;

	if (v < 0)
		out[k++] = '-';
	if (u < 10) {
		out[k] = (char)('0' + u);
		return k + 1;
	}
	/* the count of digits: log10 2 is about 1233 / 4096 */
	n = (size_t)((64 - __builtin_clzll(u)) * 1233) >> 12;
	n += n < 20 && u >= pow10[n];
	o = out + k + n;
	for (; u > 0xffffffffULL; u /= 100) {
		o -= 2;
		memcpy(o, pairs + 2 * (u % 100), 2);
	}
	/* in 32 bits: cheaper divisions */
	for (uint32_t w = (uint32_t)u; w >= 100; w /= 100) {
		o -= 2;
		memcpy(o, pairs + 2 * (w % 100), 2);
		u = w / 100;
	}
	if (u >= 10)
		memcpy(o - 2, pairs + 2 * u, 2);
	else
		o[-1] = (char)('0' + u);
	return k + n;
}

/* put_num of at, at o with room for 24 bytes: the text of the last at
 * kept (the events of a log come many to a second).  Returns the end. */
static char *put_at(char *o, long long at)
{
	static _Thread_local long long last;
	static _Thread_local char text[24];
	static _Thread_local size_t len;

	if (!len || at != last) {
		len = put_num(text, at);
		last = at;
	}
	memcpy(o, text, sizeof(text));
	return o + len;
}

/* The escape of c (',', '\n' or '\\'): its letter after '\\'. */
static char escape_letter(char c)
{
	if (c == ',')
		return 'c';
	return c == '\n' ? 'n' : '\\';
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES 0x0101010101010101ULL
/* Nonzero when one of the bytes of w is ',', '\n' or '\\': the lowest
 * such byte has the lowest bit set (above it there may be false ones). */
static uint64_t escape_bits(uint64_t w)
{
	uint64_t c = w ^ (ONES * ','), n = w ^ (ONES * '\n'),
		 b = w ^ (ONES * '\\');

	return (((c - ONES) & ~c) | ((n - ONES) & ~n) | ((b - ONES) & ~b)) &
	       (ONES << 7);
}
#endif

/*
 * s (len bytes) escaped at o, which has room for 2 * len + 16 bytes:
 * sixteen or eight bytes at a time while they need no escape (a vector or
 * word may be stored whole past what is kept).  Returns the end.
 */
static char *put_escaped(char *o, const char *s, size_t len)
{
	const char *end = s + len;
	const bool whole = len >= 8;

#ifdef __SSE2__
	while (end - s >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
				     _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
			_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

		_mm_storeu_si128((__m128i *)(void *)o, v);
		if (!m) {
			o += 16;
			s += 16;
			continue;
		}
		m = (unsigned)__builtin_ctz(m);
		o += m;
		s += m;
		*o++ = '\\';
		*o++ = escape_letter(*s++);
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - s >= 8) {
		uint64_t w, m;

		memcpy(&w, s, sizeof(w));
		memcpy(o, &w, sizeof(w));
		m = escape_bits(w);
		if (!m) {
			o += 8;
			s += 8;
			continue;
		}
		m = (uint64_t)__builtin_ctzll(m) >> 3;
		o += m;
		s += m;
		*o++ = '\\';
		*o++ = escape_letter(*s++);
	}
	if (whole && s < end) {
		/* the last bytes as the top of the word that ends there,
		 * shifted down (zeros above them, no escape among those) */
		uint64_t w;

		memcpy(&w, end - 8, sizeof(w));
		w >>= (8 - (end - s)) * 8;
		if (!escape_bits(w)) {
			memcpy(o, &w, sizeof(w));
			return o + (end - s);
		}
	}
#else
	(void)whole;
#endif
	for (; s < end; s++) {
		if (*s == ',' || *s == '\n' || *s == '\\') {
			*o++ = '\\';
			*o++ = escape_letter(*s);
		} else {
			*o++ = *s;
		}
	}
	return o;
}

/* s (len bytes) at o, which has room for len + 16: sixteen bytes at a
 * time, the last sixteen overlapping (a call to memcpy per field of the
 * record showed).  Returns the end. */
static char *put_plain(char *o, const char *s, size_t len)
{
#ifdef __SSE2__
	if (len >= 16) {
		for (size_t i = 0;; i += 16) {
			if (i + 16 > len)
				i = len - 16;
			_mm_storeu_si128(
				(__m128i *)(void *)(o + i),
				_mm_loadu_si128((
					const __m128i *)(const void *)(s + i)));
			if (i + 16 == len)
				return o + len;
		}
	}
#endif
	if (len >= 8) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
		memcpy(o, &a, 8);
		memcpy(o + len - 8, &b, 8);
		return o + len;
	}
	for (size_t i = 0; i < len; i++)
		o[i] = s[i];
	return o + len;
}

void ipam_db_events_escape(struct strbuf *out, const char *s, size_t len)
{
	strbuf_grow(out, 2 * len + 16);
	out->len =
		(size_t)(put_escaped(out->buf + out->len, s, len) - out->buf);
	out->buf[out->len] = '\0';
}

void ipam_db_events_rec_put(struct strbuf *out, long long base,
			    const struct ipam_db_events_rec *r)
{
	const char *f[] = {r->description, r->ip, r->host, r->client_id,
			   r->extra};
	size_t len[5];

	for (size_t i = 0; i < 5; i++)
		len[i] = f[i] ? strlen(f[i]) : 0;
	ipam_db_events_rec_put_n(out, base, r, len, 0);
}

void ipam_db_events_rec_put_n(struct strbuf *out, long long base,
			      const struct ipam_db_events_rec *r,
			      const size_t len[5], int plain)
{
	const char *f[] = {r->description, r->ip, r->host, r->client_id,
			   r->extra};
	size_t room = 128; /* the numbers */
	char *o;

	for (size_t i = 0; i < 5; i++)
		room += 2 * len[i] + 17;
	if (out->len + room + 1 > out->alloc) /* strbuf_grow's test */
		strbuf_grow(out, room);
	o = out->buf + out->len;
	o += put_num(o, r->id - base);
	*o++ = ',';
	o = put_at(o, r->at);
	*o++ = ',';
	o += put_num(o, r->local - r->at);
	*o++ = ',';
	*o++ = r->family == 6 ? '6' : '4';
	*o++ = ',';
	o += put_num(o, r->event_id);
	*o++ = ',';
	o += put_num(o, r->line);
	*o++ = ',';
	/* each field, escaped unless plain, and its separator */
	for (size_t i = 0; plain && i < 5; i++) {
		o = put_plain(o, f[i], len[i]);
		*o++ = i < 4 ? ',' : '\n';
	}
	for (size_t i = 0; !plain && i < 5; i++) {
		if (len[i])
			o = put_escaped(o, f[i], len[i]);
		*o++ = i < 4 ? ',' : '\n';
	}
	out->len = (size_t)(o - out->buf);
	out->buf[out->len] = '\0';
}

/* The number at s (up to end); false when it is none. */
static bool get_num(const char *s, const char *end, long long *v)
{
	bool neg = s < end && *s == '-';
	unsigned long long u = 0;

	if (neg)
		s++;
	if (s == end || end - s > 19)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		u = u * 10 + (unsigned)(*s - '0');
	}
	*v = neg ? -(long long)u : (long long)u;
	return true;
}

/* Unescape the field s..end in place, NUL-terminated. */
static const char *unescape(char *s, char *end)
{
	char *w = memchr(s, '\\', (size_t)(end - s)), *r;

	if (!w) {
		*end = '\0';
		return s;
	}
	for (r = w; r < end; r++) {
		if (*r == '\\' && r + 1 < end) {
			r++;
			*w++ = (char)(*r == 'c' ? ',' : *r == 'n' ? '\n' : *r);
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

int ipam_db_events_rec_next(char *text, size_t len, size_t *pos, long long base,
			    struct ipam_db_events_rec *r)
{
	char *s = text + *pos, *end, *f[11], *fe[11];
	long long v[6];
	size_t nf = 0;

	if (*pos >= len)
		return 0;
	end = memchr(s, '\n', len - *pos);
	if (!end)
		end = text + len;
	while (nf < 11) {
		char *c = nf < 10 ? memchr(s, ',', (size_t)(end - s)) : end;

		if (!c)
			break;
		f[nf] = s;
		fe[nf++] = c;
		s = c + 1;
	}
	*pos = (size_t)(end - text) + 1;
	for (size_t i = 0; nf == 11 && i < 6; i++)
		if (!get_num(f[i], fe[i], &v[i]))
			nf = 0;
	if (nf != 11)
		return ipam_error_set(IPAM_EDB,
				      "a malformed block of audit events");
	r->id = base + v[0];
	r->at = v[1];
	r->local = v[1] + v[2];
	r->family = (int)v[3];
	r->event_id = (int)v[4];
	r->line = v[5];
	r->description = unescape(f[6], fe[6]);
	r->ip = unescape(f[7], fe[7]);
	r->host = unescape(f[8], fe[8]);
	r->client_id = unescape(f[9], fe[9]);
	r->extra = unescape(f[10], fe[10]);
	return 1;
}

/* ---- civil time ------------------------------------------------------- */

void ipam_db_events_local_text(char out[32], long long local)
{
	long long days = local / 86400, sec = local % 86400, era, y;
	unsigned doe, yoe, doy, mp, d, m;
	int v[6];
	char *p = out;

	if (sec < 0) {
		sec += 86400;
		days--;
	}
	/* days since 1970-01-01 to a proleptic Gregorian date */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = (unsigned)(days - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = 0;
	v[0] = (int)y;
	v[1] = (int)m;
	v[2] = (int)d;
	v[3] = (int)(sec / 3600);
	v[4] = (int)(sec / 60 % 60);
	v[5] = (int)(sec % 60);
	for (int div = 1000; div; div /= 10)
		*p++ = (char)('0' + v[0] / div % 10);
	for (int i = 1; i < 6; i++) {
		*p++ = "--T::"[i - 1];
		*p++ = (char)('0' + v[i] / 10);
		*p++ = (char)('0' + v[i] % 10);
	}
	*p = '\0';
}

void ipam_db_events_iso(char out[40], long long at)
{
	size_t n;

	ipam_db_events_local_text(out, at);
	n = strlen(out);
	out[n] = 'Z';
	out[n + 1] = '\0';
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

int ipam_db_events_local_parse(const char *s, long long *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	long long v[6] = {0};
	int k = 0;

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] != 'd') {
			if (s[i] != shape[i])
				return 0;
			k++;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v[k] = v[k] * 10 + (s[i] - '0');
	}
	if (s[sizeof(shape) - 1] || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
	    v[2] > 31)
		return 0;
	*out = days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) * 86400 +
	       v[3] * 3600 + v[4] * 60 + v[5];
	return 1;
}

/* ---- blocks ------------------------------------------------------------- */

#define BLOCK_COLUMNS IPAM_DB_EVENTS_BLOCK_COLUMNS

void ipam_db_events_block_init(struct ipam_db_events_block *b)
{
	memset(b, 0, sizeof(*b));
	strbuf_init(&b->text);
}

void ipam_db_events_block_release(struct ipam_db_events_block *b)
{
	strbuf_release(&b->text);
	ipam_db_events_packer_release(&b->pack);
}

int ipam_db_events_block_take(struct ipam_db_events_block *b,
			      struct ipam_sql_stmt *st, int col)
{
	const void *packed = ipam_sql_column_blob(st, col + 7);
	const char *t;

	b->id = ipam_sql_column_int64(st, col);
	b->batch = ipam_sql_column_int64(st, col + 1);
	b->last_id = ipam_sql_column_int64(st, col + 2);
	b->n = ipam_sql_column_int64(st, col + 3);
	b->at_min = ipam_sql_column_int64(st, col + 4);
	b->at_max = ipam_sql_column_int64(st, col + 5);
	/* migration 12's blocks are packed, earlier ones are text */
	if (packed)
		return ipam_db_events_unpack(
			&b->pack, &b->text, packed,
			(size_t)ipam_sql_column_bytes(st, col + 7));
	t = ipam_sql_column_text(st, col + 6);
	strbuf_reset(&b->text);
	if (t)
		strbuf_add(&b->text, t, ipam_sql_column_bytes(st, col + 6));
	return 0;
}

int ipam_db_events_block_of(struct ipam_db *db, struct ipam_sql_stmt **st,
			    long long id, long long batch,
			    struct ipam_db_events_block *b)
{
	int rc, found = 0;

	if (!*st) {
		int err = ipam_db_sql_prepare(
			db, st,
			"SELECT " BLOCK_COLUMNS " FROM dhcp_event_blocks "
			"WHERE id <= ?1 ORDER BY id DESC LIMIT 1");

		if (err)
			return err;
	}
	ipam_sql_bind_int64(*st, 1, id);
	rc = ipam_sql_step(*st);
	if (rc == IPAM_SQL_ROW && ipam_sql_column_int64(*st, 1) == batch &&
	    ipam_sql_column_int64(*st, 2) >= id) {
		int err = ipam_db_events_block_take(b, *st, 0);

		found = err ? err : 1;
	}
	ipam_sql_reset(*st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read audit events in");
	return found;
}

int ipam_db_events_block_store(struct ipam_db *db,
			       struct ipam_db_events_block *b)
{
	struct strbuf packed = STRBUF_INIT;
	struct ipam_sql_stmt *st;
	int err;

	if (!b->n) {
		err = ipam_db_sql_prepare(
			db, &st, "DELETE FROM dhcp_event_blocks WHERE id = ?1");
		if (err)
			return err;
		ipam_sql_bind_int64(st, 1, b->id);
		return ipam_db_sql_step_done(db, st,
					     "cannot delete audit events "
					     "from");
	}
	err = ipam_db_events_pack(&b->pack, &packed, b->text.buf, b->text.len);
	if (!err)
		err = ipam_db_sql_prepare(
			db, &st,
			"UPDATE dhcp_event_blocks SET n = ?2, at_min = ?3, "
			"at_max = ?4, events = '', packed = ?5 WHERE id = ?1");
	if (!err) {
		ipam_sql_bind_int64(st, 1, b->id);
		ipam_sql_bind_int64(st, 2, b->n);
		ipam_sql_bind_int64(st, 3, b->at_min);
		ipam_sql_bind_int64(st, 4, b->at_max);
		ipam_sql_bind_blob(st, 5, packed.buf, packed.len);
		err = ipam_db_sql_step_done(db, st,
					    "cannot store audit events in");
	}
	strbuf_release(&packed);
	return err;
}

/* ---- the readers: every block ------------------------------------------ */

/* The server of each batch, by batch id (ascending). */
struct batch_servers {
	long long (*v)[2];
	size_t nr, alloc;
};

static int batch_servers_load(struct ipam_db *db, struct batch_servers *m)
{
	struct ipam_sql_stmt *st;
	int err, rc;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id, server_id FROM "
				  "dhcp_event_batches ORDER BY id");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(m->v, m->nr + 1, m->alloc);
		m->v[m->nr][0] = ipam_sql_column_int64(st, 0);
		m->v[m->nr++][1] = ipam_sql_column_int64(st, 1);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the audit event batches "
					 "in");
	return 0;
}

/* The server id of batch (0: none). */
static long long batch_server(const struct batch_servers *m, long long batch)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid][0] == batch)
			return m->v[mid][1];
		if (m->v[mid][0] < batch)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

typedef int (*rec_fn)(const struct ipam_db_events_rec *e, long long batch,
		      void *ctx);

/* Every event of every block (sql: the blocks' columns, in the order it
 * wants them). */
static int each_event(struct ipam_db *db, const char *sql, rec_fn fn, void *ctx)
{
	struct ipam_db_events_block b;
	struct ipam_sql_stmt *st;
	struct ipam_db_events_rec e;
	int err, rc;

	/* every block: a cursor on PostgreSQL (sql.h) */
	err = ipam_sql_prepare_scan(db->h, &st, sql);
	if (err)
		return err;
	ipam_db_events_block_init(&b);
	while (!err && (rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		size_t pos = 0;

		rc = ipam_db_events_block_take(&b, st, 0);
		if (rc < 0) {
			err = rc;
			break;
		}
		while ((rc = ipam_db_events_rec_next(b.text.buf, b.text.len,
						     &pos, b.id, &e)) > 0 &&
		       !(err = fn(&e, b.batch, ctx)))
			;
		if (rc < 0)
			err = rc;
		else if (err > 0) /* enough */
			break;
	}
	if (!err && rc != IPAM_SQL_DONE && rc != IPAM_SQL_ROW)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the audit events in");
	ipam_sql_finalize(st);
	ipam_db_events_block_release(&b);
	return err > 0 ? 0 : err;
}

/* ---- every block, for the addresses' fold -------------------------------- */

int ipam_db_events_each_block(struct ipam_db *db, long long first_batch,
			      long long last_batch, ipam_db_events_block_fn fn,
			      void *ctx)
{
	struct ipam_db_events_block b;
	struct batch_servers servers = {0};
	struct ipam_db_events_rec *recs = NULL;
	size_t alloc = 0;
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = batch_servers_load(db, &servers);
	if (!err)
		err = ipam_sql_prepare_scan(db->h, &st,
					    "SELECT " BLOCK_COLUMNS
					    " FROM dhcp_event_blocks WHERE "
					    "batch >= ?1 AND batch <= ?2 "
					    "ORDER BY id");
	if (err) {
		free(servers.v);
		return err;
	}
	ipam_sql_bind_int64(st, 1, first_batch);
	ipam_sql_bind_int64(st, 2, last_batch);
	ipam_db_events_block_init(&b);
	while (!err && (rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		size_t pos = 0, n = 0;

		rc = ipam_db_events_block_take(&b, st, 0);
		while (rc >= 0) {
			ALLOC_GROW(recs, n + 1, alloc);
			rc = ipam_db_events_rec_next(b.text.buf, b.text.len,
						     &pos, b.id, &recs[n]);
			if (rc <= 0)
				break;
			n++;
		}
		err = rc < 0 ? rc
			     : fn(recs, n, batch_server(&servers, b.batch),
				  ctx);
		rc = IPAM_SQL_ROW;
	}
	ipam_sql_finalize(st);
	ipam_db_events_block_release(&b);
	free(recs);
	free(servers.v);
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the audit events in");
	return err;
}

/* ---- the report ----------------------------------------------------- */

int ipam_db_events_totals(struct ipam_db *db, long long *count,
			  long long *first, long long *last)
{
	struct ipam_sql_stmt *st;
	int err, rc;

	*count = *first = *last = 0;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT sum(n), min(at_min), max(at_max) "
				  "FROM dhcp_event_blocks");
	if (err)
		return err;
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		*count = ipam_sql_column_int64(st, 0);
		*first = ipam_sql_column_int64(st, 1);
		*last = ipam_sql_column_int64(st, 2);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot count the audit events in");
	return 0;
}

struct by_id {
	struct ipam_db_events_count *v;
	size_t nr, alloc;
};

static int count_take(const struct ipam_db_events_rec *e, long long batch,
		      void *ctx)
{
	struct by_id *c = ctx;
	size_t i;

	(void)batch;
	/* a handful of distinct ids: the last one found is the likely one */
	for (i = c->nr; i > 0 && c->v[i - 1].event_id != e->event_id; i--)
		;
	if (!i) {
		ALLOC_GROW(c->v, c->nr + 1, c->alloc);
		c->v[c->nr].event_id = e->event_id;
		c->v[c->nr++].count = 0;
		i = c->nr;
	}
	c->v[i - 1].count++;
	return 0;
}

static int most_first(const void *x, const void *y)
{
	const struct ipam_db_events_count *a = x, *b = y;

	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return (a->event_id > b->event_id) - (a->event_id < b->event_id);
}

int ipam_db_events_count_by_id(struct ipam_db *db,
			       struct ipam_db_events_count **out, size_t *nr)
{
	struct by_id c = {0};
	int err = each_event(db,
			     "SELECT " BLOCK_COLUMNS " FROM dhcp_event_blocks",
			     count_take, &c);

	if (err) {
		free(c.v);
		return err;
	}
	if (c.nr)
		qsort(c.v, c.nr, sizeof(*c.v), most_first);
	*out = c.v;
	*nr = c.nr;
	return 0;
}

/* The latest events so far, newest first; full at limit. */
struct latest {
	size_t limit;
	struct ipam_db_events_rec *v; /* their strings are in text[] */
	struct strbuf *text;
	long long *batch;
	size_t nr;
};

static bool newer(const struct ipam_db_events_rec *a,
		  const struct ipam_db_events_rec *b)
{
	return a->at > b->at || (a->at == b->at && a->id > b->id);
}

static int latest_take(const struct ipam_db_events_rec *e, long long batch,
		       void *ctx)
{
	struct latest *l = ctx;
	struct ipam_db_events_rec *r;
	struct strbuf t;
	size_t i;

	if (l->nr == l->limit && !newer(e, &l->v[l->nr - 1]))
		return 0;
	if (l->nr < l->limit)
		l->nr++;
	/* the last slot is free now (or the oldest, dropped): keep its
	 * buffer for e */
	t = l->text[l->nr - 1];
	for (i = l->nr - 1; i > 0 && newer(e, &l->v[i - 1]); i--) {
		l->v[i] = l->v[i - 1];
		l->text[i] = l->text[i - 1];
		l->batch[i] = l->batch[i - 1];
	}
	r = &l->v[i];
	*r = *e;
	l->batch[i] = batch;
	l->text[i] = t;
	strbuf_reset(&l->text[i]);
	ipam_db_events_rec_put(&l->text[i], 0, e);
	return 0;
}

/* Decode the kept records again from their own text. */
static int latest_rows(struct latest *l, struct ipam_db_track_row *rows)
{
	for (size_t i = 0; i < l->nr; i++) {
		struct ipam_db_events_rec e;
		size_t pos = 0;
		struct ipam_db_track_row *r = &rows[i];

		if (ipam_db_events_rec_next(l->text[i].buf, l->text[i].len,
					    &pos, 0, &e) != 1)
			return ipam_error_set(IPAM_EDB,
					      "a malformed audit event");
		ipam_db_events_row(r, &e, NULL, NULL);
	}
	return 0;
}

/* The file and server of each row's batch. */
static int latest_names(struct ipam_db *db, const struct latest *l,
			struct ipam_db_track_row *rows)
{
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT b.file, s.name FROM "
				  "dhcp_event_batches b JOIN servers s ON s.id "
				  "= b.server_id WHERE b.id = ?1");
	if (err)
		return err;
	for (size_t i = 0; i < l->nr; i++) {
		const char *file = NULL, *server = NULL;

		ipam_sql_bind_int64(st, 1, l->batch[i]);
		rc = ipam_sql_step(st);
		if (rc == IPAM_SQL_ROW) {
			file = ipam_sql_column_text(st, 0);
			server = ipam_sql_column_text(st, 1);
		}
		free(rows[i].file);
		free(rows[i].server);
		rows[i].file = xstrdup(file ? file : "");
		rows[i].server = xstrdup(server ? server : "");
		ipam_sql_reset(st);
		if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
			break;
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the audit event batches "
					 "in");
	return 0;
}

/* Blocks newest first (by at_max) until the next ends before the
 * oldest of a full list. */
static int latest_scan(struct ipam_db *db, struct latest *l)
{
	struct ipam_db_events_block b;
	struct ipam_sql_stmt *st;
	int err, rc;

	err = ipam_sql_prepare_scan(db->h, &st,
				    "SELECT " BLOCK_COLUMNS " FROM "
				    "dhcp_event_blocks ORDER BY at_max DESC");
	if (err)
		return err;
	ipam_db_events_block_init(&b);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_events_rec e;
		size_t pos = 0;

		if (l->nr == l->limit &&
		    ipam_sql_column_int64(st, 5) < l->v[l->nr - 1].at)
			break;
		rc = ipam_db_events_block_take(&b, st, 0);
		if (rc < 0)
			break;
		while ((rc = ipam_db_events_rec_next(b.text.buf, b.text.len,
						     &pos, b.id, &e)) > 0)
			latest_take(&e, b.batch, l);
		if (rc < 0)
			break;
	}
	ipam_sql_finalize(st);
	ipam_db_events_block_release(&b);
	if (rc < 0)
		return rc;
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the audit events in");
	return 0;
}

int ipam_db_events_latest(struct ipam_db *db, size_t limit,
			  struct ipam_db_track_row **out, size_t *nr)
{
	struct latest l = {.limit = limit};
	struct ipam_db_track_row *rows = NULL;
	int err = 0;

	*out = NULL;
	*nr = 0;
	if (!limit)
		return 0;
	l.v = xcalloc(limit, sizeof(*l.v));
	l.text = xcalloc(limit, sizeof(*l.text));
	l.batch = xcalloc(limit, sizeof(*l.batch));
	for (size_t i = 0; i < limit; i++)
		strbuf_init(&l.text[i]);
	err = latest_scan(db, &l);
	if (!err && l.nr) {
		rows = xcalloc(l.nr, sizeof(*rows));
		err = latest_rows(&l, rows);
		if (!err)
			err = latest_names(db, &l, rows);
		if (err) {
			ipam_db_track_free(rows, l.nr);
			rows = NULL;
		}
	}
	if (!err) {
		*out = rows;
		*nr = l.nr;
	}
	for (size_t i = 0; i < limit; i++)
		strbuf_release(&l.text[i]);
	free(l.v);
	free(l.text);
	free(l.batch);
	return err;
}
