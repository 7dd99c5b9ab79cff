#include "db_events.h"
#include "db_events_internal.h"
#include "db_internal.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The tracking search, the pruning and the purge of the audit events
 * (db_events.c stores them, db_events_block.c encodes their blocks).  A
 * search reads the postings of its key (one row per batch that has it),
 * then the block of each event id, and keeps those events whose own key
 * is the one asked (a hash may collide) in the time range; a posting may
 * name an id that pruning deleted, or that a later batch reused, so the
 * block's batch must be the posting's.
 */

#define PRUNE_DEFAULT 10000

/* Step 0: the postings of a key in batches that overlap the time range,
 * segment by segment (?4 the last); step 1: the block of a batch that
 * holds an event id. */
static const char *const track_sql[] = {
	"WITH RECURSIVE g(seg) AS (SELECT 0 UNION ALL SELECT seg + 1 FROM g "
	"WHERE seg < ?4) "
	"SELECT p.batch, p.ids, b.file, s.name FROM g "
	"JOIN dhcp_event_postings p ON p.seg = g.seg AND p.k = ?1 "
	"JOIN dhcp_event_batches b ON b.id = p.batch "
	"JOIN servers s ON s.id = b.server_id "
	"WHERE b.at_max >= ?2 AND b.at_min <= ?3",
	"SELECT " IPAM_DB_EVENTS_BLOCK_COLUMNS " FROM "
	"dhcp_event_blocks WHERE id <= ?1 ORDER BY id DESC LIMIT 1",
};

int ipam_db_track_sql(struct strbuf *out, int step)
{
	if (step < 0 || step > 1)
		return ipam_error_set(IPAM_EINVAL, "no such tracking step");
	strbuf_addstr(out, track_sql[step]);
	return 0;
}

/* The Windows spelling of a class's bytes: "0x" and upper-case hex. */
static char *class_hex(const char *ascii)
{
	static const char digit[] = "0123456789ABCDEF";
	size_t n = strlen(ascii);
	char *out = xmalloc(2 * n + 3), *w = out;

	*w++ = '0';
	*w++ = 'x';
	for (; *ascii; ascii++) {
		*w++ = digit[(unsigned char)*ascii >> 4];
		*w++ = digit[(unsigned char)*ascii & 15];
	}
	*w = '\0';
	return out;
}

void ipam_db_events_decode_extra(char *extra[IPAM_DB_TRACK_EXTRAS],
				 const char *s, size_t len)
{
	static const unsigned hex[] = {IPAM_DB_EXTRA_VENDOR_HEX,
				       IPAM_DB_EXTRA_USER_HEX};
	bool derived[2] = {false, false};
	size_t i = 0;

	while (i < len) {
		unsigned idx = (unsigned)(s[i] - 'a');
		size_t n = 0, j = i + 1;

		while (j < len && s[j] >= '0' && s[j] <= '9' && n < len)
			n = n * 10 + (size_t)(s[j++] - '0');
		if (idx >= IPAM_DB_TRACK_EXTRAS || j == i + 1 || j >= len ||
		    s[j] != ':' || n > len - j - 1)
			return;
		free(extra[idx]);
		extra[idx] = xstrndup(s + j + 1, n);
		i = j + 1 + n;
		/* length 0: the hex of the ASCII column (encode_extra) */
		for (size_t k = 0; k < 2; k++)
			if (!n && idx == hex[k])
				derived[k] = true;
	}
	for (size_t k = 0; k < 2; k++) {
		if (!derived[k])
			continue;
		free(extra[hex[k]]);
		extra[hex[k]] =
			extra[hex[k] + 1] ? class_hex(extra[hex[k] + 1]) : NULL;
	}
}

/* The event's own key equals the one searched. */
static bool same_key(const struct ipam_db_track_query *q, const char *key,
		     const struct ipam_db_events_rec *r, struct strbuf *tmp)
{
	switch (q->by) {
	case IPAM_TRACK_IP:
		return !strcmp(r->ip, key);
	case IPAM_TRACK_CLIENT:
		return !strcmp(r->client_id, key);
	case IPAM_TRACK_HOST:
		strbuf_reset(tmp);
		if (!*r->host ||
		    ipam_db_track_key(tmp, IPAM_TRACK_HOST, r->host)) {
			ipam_error_clear();
			return false;
		}
		return !strcmp(tmp->buf, key);
	}
	return false;
}

/* A copy of s, NULL when empty. */
static char *dup_opt(const char *s)
{
	return *s ? xstrdup(s) : NULL;
}

void ipam_db_events_row(struct ipam_db_track_row *r,
			const struct ipam_db_events_rec *e, const char *file,
			const char *server)
{
	char local[32];

	memset(r, 0, sizeof(*r));
	ipam_db_events_local_text(local, e->local);
	r->id = e->id;
	r->at = e->at;
	r->local_time = xstrdup(local);
	r->family = e->family;
	r->event_id = e->event_id;
	r->description = dup_opt(e->description);
	r->ip = dup_opt(e->ip);
	r->client_id = dup_opt(e->client_id);
	r->host = dup_opt(e->host);
	r->line = e->line;
	ipam_db_events_decode_extra(r->extra, e->extra, strlen(e->extra));
	r->file = xstrdup(file ? file : "");
	r->server = xstrdup(server ? server : "");
}

struct search {
	struct ipam_db *db;
	const struct ipam_db_track_query *q;
	const char *key;
	struct ipam_sql_stmt *block_st;
	struct ipam_db_events_block blk; /* the block last read */
	struct ipam_db_events_rec *recs; /* its records */
	size_t nrecs, arecs;
	bool have;
	struct strbuf tmp;
	struct ipam_db_track_row *v;
	size_t nr, alloc;
};

/* Read the block of batch holding id into s->blk and s->recs; 1 when
 * there is one. */
static int load_block(struct search *s, long long id, long long batch)
{
	size_t pos = 0;
	int rc;

	if (s->have && s->blk.batch == batch && s->blk.id <= id &&
	    id <= s->blk.last_id)
		return 1;
	s->have = false;
	s->nrecs = 0;
	rc = ipam_db_events_block_of(s->db, &s->block_st, id, batch, &s->blk);
	if (rc <= 0)
		return rc;
	for (;;) {
		ALLOC_GROW(s->recs, s->nrecs + 1, s->arecs);
		rc = ipam_db_events_rec_next(s->blk.text.buf, s->blk.text.len,
					     &pos, s->blk.id,
					     &s->recs[s->nrecs]);
		if (rc <= 0)
			break;
		s->nrecs++;
	}
	if (rc < 0)
		return rc;
	s->have = true;
	return 1;
}

/* The event id of batch, when it matches. */
static int search_one(struct search *s, long long id, long long batch,
		      const char *file, const char *server)
{
	long long to = s->q->to ? s->q->to : LLONG_MAX;
	int rc = load_block(s, id, batch);

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct ipam_db_events_rec *e = &s->recs[i];

		if (e->id != id)
			continue;
		if (same_key(s->q, s->key, e, &s->tmp) && e->at >= s->q->from &&
		    e->at <= to) {
			ALLOC_GROW(s->v, s->nr + 1, s->alloc);
			ipam_db_events_row(&s->v[s->nr++], e, file, server);
		}
		break;
	}
	return 0;
}

/* The events of one posting row (batch, ids) that match. */
static int search_batch(struct search *s, long long batch,
			const unsigned char *ids, size_t len, const char *file,
			const char *server)
{
	uint64_t id = 0;
	size_t i = 0;
	int err = 0;

	while (!err && i < len) {
		uint64_t d = 0;
		int shift = 0;

		while (i < len && shift < 64) {
			d |= (uint64_t)(ids[i] & 0x7f) << shift;
			shift += 7;
			if (!(ids[i++] & 0x80))
				break;
		}
		id += d;
		err = search_one(s, (long long)id, batch, file, server);
	}
	return err;
}

/* Free the rows' strings (not the array). */
static void rows_clear(struct ipam_db_track_row *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].local_time);
		free(v[i].server);
		free(v[i].description);
		free(v[i].ip);
		free(v[i].client_id);
		free(v[i].host);
		for (size_t j = 0; j < IPAM_DB_TRACK_EXTRAS; j++)
			free(v[i].extra[j]);
		free(v[i].file);
	}
}

static int newest_first(const void *a, const void *b)
{
	const struct ipam_db_track_row *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

static int search_run(struct search *s, struct ipam_sql_stmt *post)
{
	int rc, err = 0;

	while (!err && (rc = ipam_sql_step(post)) == IPAM_SQL_ROW)
		err = search_batch(s, ipam_sql_column_int64(post, 0),
				   ipam_sql_column_blob(post, 1),
				   (size_t)ipam_sql_column_bytes(post, 1),
				   ipam_sql_column_text(post, 2),
				   ipam_sql_column_text(post, 3));
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(s->db, IPAM_EDB,
					"cannot search the audit events in");
	return err;
}

/* The segment of the newest batch (0 when there is none). */
static int last_segment(struct ipam_db *db, long long *out)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st,
				      "SELECT seg FROM dhcp_event_batches "
				      "ORDER BY id DESC LIMIT 1");

	if (err)
		return err;
	*out = ipam_sql_step(st) == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0)
						 : 0;
	ipam_sql_finalize(st);
	return 0;
}

int ipam_db_track(struct ipam_db *db, const struct ipam_db_track_query *q,
		  struct ipam_db_track_row **out, size_t *nr)
{
	struct strbuf key = STRBUF_INIT;
	struct search s = {.db = db, .q = q};
	struct ipam_sql_stmt *post = NULL;
	long long last_seg = 0;
	int err;

	*out = NULL;
	*nr = 0;
	strbuf_init(&s.tmp);
	ipam_db_events_block_init(&s.blk);
	err = ipam_db_track_key(&key, q->by, q->value);
	if (!err)
		err = last_segment(db, &last_seg);
	if (!err)
		err = ipam_db_sql_prepare(db, &post, track_sql[0]);
	if (err)
		goto out;
	s.key = key.buf;
	ipam_sql_bind_int64(
		post, 1,
		(long long)ipam_db_events_hash(q->by, key.buf, key.len));
	ipam_sql_bind_int64(post, 2, q->from);
	ipam_sql_bind_int64(post, 3, q->to ? q->to : LLONG_MAX);
	ipam_sql_bind_int64(post, 4, last_seg);
	err = search_run(&s, post);
	if (err) {
		ipam_db_track_free(s.v, s.nr);
		goto out;
	}
	if (s.nr)
		qsort(s.v, s.nr, sizeof(*s.v), newest_first);
	if (q->limit && s.nr > q->limit) {
		rows_clear(s.v + q->limit, s.nr - q->limit);
		s.nr = q->limit;
	}
	*out = s.v;
	*nr = s.nr;
out:
	ipam_sql_finalize(post);
	ipam_sql_finalize(s.block_st);
	ipam_db_events_block_release(&s.blk);
	free(s.recs);
	strbuf_release(&s.tmp);
	strbuf_release(&key);
	return err;
}

void ipam_db_track_free(struct ipam_db_track_row *v, size_t nr)
{
	if (!v)
		return;
	rows_clear(v, nr);
	free(v);
}

/* ---- pruning and purging ------------------------------------------------ */

/* A batch row: its id and the ids and times of its events. */
struct batch_row {
	long long id, seg, first, last, at_max;
};

/* Run sql with ?1..?4 (as many as it has). */
static int exec_range(struct ipam_db *db, const char *sql, long long a,
		      long long b, long long c, long long d)
{
	const long long v[] = {a, b, c, d};
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql), n;

	if (err)
		return err;
	n = ipam_sql_bind_count(st);
	for (int i = 0; i < n && i < 4; i++)
		ipam_sql_bind_int64(st, i + 1, v[i]);
	return ipam_db_sql_step_done(db, st, "cannot delete audit events from");
}

/* The ids of the blocks of batch r from id lo on, ascending. */
static int block_ids(struct ipam_db *db, const struct batch_row *r,
		     long long lo, long long **out, size_t *nr)
{
	struct ipam_sql_stmt *st;
	size_t alloc = 0;
	int err, rc;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id FROM dhcp_event_blocks WHERE id "
				  "BETWEEN ?1 AND ?2 AND batch = ?3 ORDER BY "
				  "id");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, lo);
	ipam_sql_bind_int64(st, 2, r->last);
	ipam_sql_bind_int64(st, 3, r->id);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[(*nr)++] = ipam_sql_column_int64(st, 0);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		free(*out);
		*out = NULL;
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read audit events in");
	}
	return 0;
}

/*
 * Read block id of batch r, sort the posting keys of its events into
 * *drop (at before before, or every event when keep is NULL) and *keep,
 * and when keep is given, store it back with the kept events only.
 * *n counts the events dropped, *at_min is lowered to the kept ones'.
 */
struct prune_step {
	struct ipam_db *db;
	const struct batch_row *r;
	long long before, *n, at_min;
	struct ipam_db_events_postings *drop, *keep;
	struct ipam_sql_stmt *st;
	struct ipam_db_events_block blk, out;
	struct strbuf tmp;
};

static void step_keys(struct prune_step *p, const struct ipam_db_events_rec *e,
		      bool kept)
{
	uint64_t k[3];
	size_t n = ipam_db_events_row_keys(k, e->ip, e->client_id, e->host,
					   &p->tmp);

	for (size_t i = 0; i < n; i++)
		ipam_db_events_postings_add(kept ? p->keep : p->drop, k[i], 0);
}

static int prune_block(struct prune_step *p, long long id)
{
	struct ipam_db_events_rec e;
	size_t pos = 0;
	int rc;

	rc = ipam_db_events_block_of(p->db, &p->st, id, p->r->id, &p->blk);
	if (rc <= 0)
		return rc;
	strbuf_reset(&p->out.text);
	p->out.id = p->blk.id;
	p->out.n = 0;
	while ((rc = ipam_db_events_rec_next(p->blk.text.buf, p->blk.text.len,
					     &pos, p->blk.id, &e)) > 0) {
		bool kept = p->keep && e.at >= p->before;

		step_keys(p, &e, kept);
		if (!kept) {
			(*p->n)++;
			continue;
		}
		if (!p->out.n || e.at < p->out.at_min)
			p->out.at_min = e.at;
		if (!p->out.n || e.at > p->out.at_max)
			p->out.at_max = e.at;
		if (e.at < p->at_min)
			p->at_min = e.at;
		p->out.n++;
		ipam_db_events_rec_put(&p->out.text, p->out.id, &e);
	}
	if (rc < 0 || !p->keep || p->out.n == p->blk.n)
		return rc;
	return ipam_db_events_block_store(p->db, &p->out);
}

static void prune_step_release(struct prune_step *p)
{
	ipam_sql_finalize(p->st);
	ipam_db_events_block_release(&p->blk);
	ipam_db_events_block_release(&p->out);
	strbuf_release(&p->tmp);
}

/* Delete the postings (k, batch) of the keys in drop and not in keep. */
static int drop_postings(struct ipam_db *db, const struct batch_row *batch,
			 const struct ipam_db_events_postings *drop,
			 const struct ipam_db_events_postings *keep)
{
	struct ipam_sql_stmt *st;
	int err, rc = IPAM_SQL_DONE;

	err = ipam_db_sql_prepare(db, &st,
				  "DELETE FROM dhcp_event_postings WHERE "
				  "seg = ?3 AND k = ?1 AND batch = ?2");
	if (err)
		return err;
	for (size_t i = 0; rc == IPAM_SQL_DONE && i < drop->cap; i++) {
		if (!drop->v[i].alloc ||
		    (keep && ipam_db_events_postings_has(keep, drop->v[i].k)))
			continue;
		ipam_sql_bind_int64(st, 1, (long long)drop->v[i].k);
		ipam_sql_bind_int64(st, 2, batch->id);
		ipam_sql_bind_int64(st, 3, batch->seg);
		rc = ipam_sql_step(st);
		ipam_sql_reset(st);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot delete audit event keys from");
	return 0;
}

/*
 * Delete whole blocks of batch r from its first on, about max events
 * (at least one block), with the postings of their keys (the rest of
 * the batch goes next: it is older than the cut as well); *hi is the
 * last id deleted.
 */
static int drop_blocks(struct ipam_db *db, const struct batch_row *r,
		       long long max, long long *n, long long *hi)
{
	struct ipam_db_events_postings drop = {0};
	struct prune_step p = {.db = db, .r = r, .n = n, .drop = &drop};
	long long *ids, start = *n;
	size_t nr, i;
	int err = block_ids(db, r, r->first, &ids, &nr);

	ipam_db_events_block_init(&p.blk);
	ipam_db_events_block_init(&p.out);
	strbuf_init(&p.tmp);
	*hi = r->last;
	for (i = 0; ids && !err && i < nr && *n - start < max; i++) {
		int rc = prune_block(&p, ids[i]);

		if (rc < 0)
			err = rc;
	}
	if (ids && !err && i < nr)
		*hi = ids[i] - 1;
	free(ids);
	prune_step_release(&p);
	if (!err)
		err = drop_postings(db, r, &drop, NULL);
	ipam_db_events_postings_release(&drop);
	if (!err)
		err = exec_range(db,
				 "DELETE FROM dhcp_event_blocks WHERE id "
				 "BETWEEN ?1 AND ?2 AND batch = ?3",
				 r->first, *hi, r->id, 0);
	return err;
}

/* Delete the events of batch r older than before; the postings of keys
 * no newer event of the batch has go with them. */
static int prune_part(struct ipam_db *db, const struct batch_row *r,
		      long long before, long long *n)
{
	struct ipam_db_events_postings drop = {0}, keep = {0};
	struct prune_step p = {.db = db,
			       .r = r,
			       .before = before,
			       .n = n,
			       .at_min = r->at_max,
			       .drop = &drop,
			       .keep = &keep};
	long long *ids;
	size_t nr;
	int err = block_ids(db, r, r->first, &ids, &nr);

	ipam_db_events_block_init(&p.blk);
	ipam_db_events_block_init(&p.out);
	strbuf_init(&p.tmp);
	for (size_t i = 0; ids && !err && i < nr; i++) {
		int rc = prune_block(&p, ids[i]);

		if (rc < 0)
			err = rc;
	}
	free(ids);
	prune_step_release(&p);
	if (!err)
		err = drop_postings(db, r, &drop, &keep);
	ipam_db_events_postings_release(&drop);
	ipam_db_events_postings_release(&keep);
	if (!err)
		err = exec_range(db,
				 "UPDATE dhcp_event_batches SET at_min = ?1 "
				 "WHERE id = ?2",
				 p.at_min, r->id, 0, 0);
	return err;
}

/* The oldest batch with events before before; 1 when there is one. */
static int oldest_batch(struct ipam_db *db, long long before,
			struct batch_row *r)
{
	struct ipam_sql_stmt *st;
	int err, rc;

	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT id, first_id, last_id, at_max, seg FROM "
		"dhcp_event_batches WHERE at_min < ?1 "
		"ORDER BY at_min LIMIT 1");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, before);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		r->id = ipam_sql_column_int64(st, 0);
		r->first = ipam_sql_column_int64(st, 1);
		r->last = ipam_sql_column_int64(st, 2);
		r->at_max = ipam_sql_column_int64(st, 3);
		r->seg = ipam_sql_column_int64(st, 4);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the audit event batches "
					 "in");
	return rc == IPAM_SQL_ROW;
}

/* One transaction's worth: about max events; 1 when there may be more. */
static int prune_some(struct ipam_db *db, long long before, long long max,
		      long long *n)
{
	long long done = 0;
	struct batch_row r = {0};
	int more = 1, err = 0;

	while (!err && done < max &&
	       (more = oldest_batch(db, before, &r)) > 0) {
		long long hi, was = *n;

		if (r.at_max >= before) {
			err = prune_part(db, &r, before, n);
		} else {
			err = drop_blocks(db, &r, max - done, n, &hi);
			if (!err && hi >= r.last)
				err = exec_range(
					db,
					"DELETE FROM dhcp_event_batches "
					"WHERE id = ?1",
					r.id, 0, 0, 0);
			else if (!err)
				err = exec_range(db,
						 "UPDATE dhcp_event_batches "
						 "SET first_id = ?1 WHERE "
						 "id = ?2",
						 hi + 1, r.id, 0, 0);
		}
		done += *n - was + 1;
	}
	return err ? err : more;
}

int ipam_db_events_prune(struct ipam_db *db, long long before, size_t batch,
			 long long *deleted, long long *transactions)
{
	long long n = 0, was, t = 0,
		  max = batch ? (long long)batch : PRUNE_DEFAULT;
	int more = 1, err = 0;

	while (!err && more > 0) {
		err = ipam_sql_begin(db->h);
		if (err)
			break;
		was = n;
		more = prune_some(db, before, max, &n);
		/* the addresses' fold had the events deleted */
		if (more >= 0 && n > was) {
			int err2 = ipam_db_events_fold_reset(db);

			if (err2)
				more = err2;
		}
		t++;
		if (more < 0) {
			err = more;
			ipam_sql_rollback(db->h);
		} else {
			err = ipam_sql_commit(db->h);
		}
	}
	if (deleted)
		*deleted = n;
	if (transactions)
		*transactions = t;
	return err;
}

int ipam_db_events_purge(struct ipam_db *db, long long server_id)
{
	struct batch_row *v = NULL;
	size_t nr = 0, alloc = 0;
	long long n = 0, hi;
	struct ipam_sql_stmt *st;
	int err, rc;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id, first_id, last_id, seg FROM "
				  "dhcp_event_batches WHERE server_id = ?1");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, server_id);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr].id = ipam_sql_column_int64(st, 0);
		v[nr].first = ipam_sql_column_int64(st, 1);
		v[nr].last = ipam_sql_column_int64(st, 2);
		v[nr++].seg = ipam_sql_column_int64(st, 3);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the audit event batches "
					"in");
	for (size_t i = 0; !err && i < nr; i++)
		err = drop_blocks(db, &v[i], LLONG_MAX, &n, &hi);
	free(v);
	if (!err)
		err = exec_range(db,
				 "DELETE FROM dhcp_event_batches WHERE "
				 "server_id = ?1",
				 server_id, 0, 0, 0);
	/* the addresses' fold had the server's events */
	if (!err && nr)
		err = ipam_db_events_fold_reset(db);
	return err;
}
