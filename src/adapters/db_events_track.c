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
 * (db_events.c stores them).  A search reads the postings of its key
 * (one row per batch that has it), then each event by its id, and keeps
 * those whose own key is the one asked (a hash may collide) in the time
 * range; a posting may name an id that pruning deleted, or that a later
 * batch reused, so the event's batch must be the posting's.
 */

#define PRUNE_DEFAULT 10000

/* Step 0: the postings of a key in batches that overlap the time range,
 * segment by segment (?4 the last); step 1: one event of a batch by its
 * id. */
static const char *const track_sql[] = {
	"WITH RECURSIVE g(seg) AS (SELECT 0 UNION ALL SELECT seg + 1 FROM g "
	"WHERE seg < ?4) "
	"SELECT p.batch, p.ids, b.file, s.name FROM g "
	"JOIN dhcp_event_postings p ON p.seg = g.seg AND p.k = ?1 "
	"JOIN dhcp_event_batches b ON b.id = p.batch "
	"JOIN servers s ON s.id = b.server_id "
	"WHERE b.at_max >= ?2 AND b.at_min <= ?3",
	"SELECT e.at, e.local_time, e.family, e.event_id, e.description, "
	"e.ip, e.client_id, e.host, e.line, e.extra FROM dhcp_events e "
	"WHERE e.id = ?1 AND e.batch = ?2",
};

int ipam_db_track_sql(struct strbuf *out, int step)
{
	if (step < 0 || step > 1)
		return ipam_error_set(IPAM_EINVAL, "no such tracking step");
	strbuf_addstr(out, track_sql[step]);
	return 0;
}

/* Decode dhcp_events.extra (db_schema.c) into r->extra; a malformed
 * rest is left out. */
static void decode_extra(struct ipam_db_track_row *r, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned idx = (unsigned)(s[i] - 'a');
		size_t n = 0, j = i + 1;

		while (j < len && s[j] >= '0' && s[j] <= '9' && n < len)
			n = n * 10 + (size_t)(s[j++] - '0');
		if (idx >= IPAM_DB_TRACK_EXTRAS || j == i + 1 || j >= len ||
		    s[j] != ':' || n > len - j - 1)
			return;
		free(r->extra[idx]);
		r->extra[idx] = xstrndup(s + j + 1, n);
		i = j + 1 + n;
	}
}

/* The event's own key equals the one searched. */
static bool same_key(const struct ipam_db_track_query *q, const char *key,
		     struct ipam_sql_stmt *st, struct strbuf *tmp)
{
	const char *v;

	switch (q->by) {
	case IPAM_TRACK_IP:
		v = ipam_sql_column_text(st, 5);
		return v && !strcmp(v, key);
	case IPAM_TRACK_CLIENT:
		v = ipam_sql_column_text(st, 6);
		return v && !strcmp(v, key);
	case IPAM_TRACK_HOST:
		v = ipam_sql_column_text(st, 7);
		strbuf_reset(tmp);
		if (!v || ipam_db_track_key(tmp, IPAM_TRACK_HOST, v)) {
			ipam_error_clear();
			return false;
		}
		return !strcmp(tmp->buf, key);
	}
	return false;
}

static void track_row(struct ipam_db_track_row *r, struct ipam_sql_stmt *st,
		      long long id, const char *file, const char *server)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->at = ipam_sql_column_int64(st, 0);
	r->local_time = ipam_sql_column_dup(st, 1);
	r->family = ipam_sql_column_int64(st, 2);
	r->event_id = ipam_sql_column_int64(st, 3);
	r->description = ipam_sql_column_dup(st, 4);
	r->ip = ipam_sql_column_dup(st, 5);
	r->client_id = ipam_sql_column_dup(st, 6);
	r->host = ipam_sql_column_dup(st, 7);
	r->line = ipam_sql_column_int64(st, 8);
	decode_extra(r, ipam_sql_column_text(st, 9),
		     (size_t)ipam_sql_column_bytes(st, 9));
	r->file = xstrdup(file ? file : "");
	r->server = xstrdup(server ? server : "");
}

struct search {
	struct ipam_db *db;
	const struct ipam_db_track_query *q;
	const char *key;
	struct ipam_sql_stmt *event;
	struct strbuf tmp;
	struct ipam_db_track_row *v;
	size_t nr, alloc;
};

/* The events of one posting row (batch, ids) that match. */
static int search_batch(struct search *s, long long batch,
			const unsigned char *ids, size_t len, const char *file,
			const char *server)
{
	long long to = s->q->to ? s->q->to : LLONG_MAX;
	uint64_t id = 0;
	size_t i = 0;

	while (i < len) {
		uint64_t d = 0;
		int shift = 0, rc;

		while (i < len && shift < 64) {
			d |= (uint64_t)(ids[i] & 0x7f) << shift;
			shift += 7;
			if (!(ids[i++] & 0x80))
				break;
		}
		id += d;
		ipam_sql_bind_int64(s->event, 1, (long long)id);
		ipam_sql_bind_int64(s->event, 2, batch);
		rc = ipam_sql_step(s->event);
		if (rc == IPAM_SQL_ROW &&
		    same_key(s->q, s->key, s->event, &s->tmp) &&
		    ipam_sql_column_int64(s->event, 0) >= s->q->from &&
		    ipam_sql_column_int64(s->event, 0) <= to) {
			ALLOC_GROW(s->v, s->nr + 1, s->alloc);
			track_row(&s->v[s->nr++], s->event, (long long)id, file,
				  server);
		}
		ipam_sql_reset(s->event);
		if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
			return ipam_db_sql_error(s->db, IPAM_EDB,
						 "cannot read an audit event "
						 "in");
	}
	return 0;
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
	err = ipam_db_track_key(&key, q->by, q->value);
	if (!err)
		err = last_segment(db, &last_seg);
	if (!err)
		err = ipam_db_sql_prepare(db, &post, track_sql[0]);
	if (!err)
		err = ipam_db_sql_prepare(db, &s.event, track_sql[1]);
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
	ipam_sql_finalize(s.event);
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

/* Run sql with ?1..?4 (a statement with fewer leaves the others). */
static int exec_range(struct ipam_db *db, const char *sql, long long a,
		      long long b, long long c, long long d)
{
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql);

	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, a);
	ipam_sql_bind_int64(st, 2, b);
	ipam_sql_bind_int64(st, 3, c);
	ipam_sql_bind_int64(st, 4, d);
	return ipam_db_sql_step_done(db, st, "cannot delete audit events from");
}

/*
 * The posting keys of the events lo..hi of batch: those at or after
 * keep_from into *keep (when not NULL), the others into *drop.
 */
static int range_keys(struct ipam_db *db, long long batch, long long lo,
		      long long hi, long long keep_from,
		      struct ipam_db_events_postings *drop,
		      struct ipam_db_events_postings *keep)
{
	struct strbuf tmp = STRBUF_INIT;
	struct ipam_sql_stmt *st;
	uint64_t k[3];
	int rc, err;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT ip, client_id, host, at FROM "
				  "dhcp_events WHERE id BETWEEN ?1 AND ?2 "
				  "AND batch = ?3");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, lo);
	ipam_sql_bind_int64(st, 2, hi);
	ipam_sql_bind_int64(st, 3, batch);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_events_postings *to =
			keep && ipam_sql_column_int64(st, 3) >= keep_from
				? keep
				: drop;
		size_t n = ipam_db_events_row_keys(
			k, ipam_sql_column_text(st, 0),
			ipam_sql_column_text(st, 1),
			ipam_sql_column_text(st, 2), &tmp);

		for (size_t i = 0; i < n; i++)
			ipam_db_events_postings_add(to, k[i], 0);
	}
	ipam_sql_finalize(st);
	strbuf_release(&tmp);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read audit events in");
	return 0;
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

/* Delete events lo..hi of batch b and their postings; *n counts them. */
static int drop_range(struct ipam_db *db, const struct batch_row *r,
		      long long lo, long long hi, long long *n)
{
	struct ipam_db_events_postings drop = {0};
	long long b = r->id;
	int err = range_keys(db, b, lo, hi, 0, &drop, NULL);

	if (!err)
		err = drop_postings(db, r, &drop, NULL);
	ipam_db_events_postings_release(&drop);
	if (!err)
		err = exec_range(db,
				 "DELETE FROM dhcp_events WHERE id BETWEEN ?1 "
				 "AND ?2 AND batch = ?3",
				 lo, hi, b, 0);
	if (!err)
		*n += ipam_sql_changes(db->h);
	return err;
}

/* Delete the events of batch r older than before; the postings of keys
 * no newer event of the batch has go with them. */
static int prune_part(struct ipam_db *db, const struct batch_row *r,
		      long long before, long long *n)
{
	struct ipam_db_events_postings drop = {0}, keep = {0};
	int err =
		range_keys(db, r->id, r->first, r->last, before, &drop, &keep);

	if (!err)
		err = drop_postings(db, r, &drop, &keep);
	ipam_db_events_postings_release(&drop);
	ipam_db_events_postings_release(&keep);
	if (!err)
		err = exec_range(db,
				 "DELETE FROM dhcp_events WHERE id BETWEEN ?1 "
				 "AND ?2 AND batch = ?3 AND at < ?4",
				 r->first, r->last, r->id, before);
	if (!err)
		*n += ipam_sql_changes(db->h);
	if (!err)
		err = exec_range(db,
				 "UPDATE dhcp_event_batches SET at_min = "
				 "(SELECT min(at) FROM dhcp_events WHERE id "
				 "BETWEEN ?1 AND ?2 AND batch = ?3) "
				 "WHERE id = ?3",
				 r->first, r->last, r->id, 0);
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
		long long hi = r.last, was = *n;

		if (r.at_max >= before) {
			err = prune_part(db, &r, before, n);
		} else {
			if (hi - r.first >= max - done)
				hi = r.first + (max - done) - 1;
			err = drop_range(db, &r, r.first, hi, n);
			if (!err && hi == r.last)
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
	long long n = 0, t = 0, max = batch ? (long long)batch : PRUNE_DEFAULT;
	int more = 1, err = 0;

	while (!err && more > 0) {
		err = ipam_sql_begin(db->h);
		if (err)
			break;
		more = prune_some(db, before, max, &n);
		t++;
		if (more < 0) {
			err = more;
			ipam_sql_rollback(db->h);
		} else {
			err = ipam_db_sql_exec(db, "COMMIT");
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
	long long n = 0;
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
		err = drop_range(db, &v[i], v[i].first, v[i].last, &n);
	free(v);
	if (!err)
		err = exec_range(db,
				 "DELETE FROM dhcp_event_batches WHERE "
				 "server_id = ?1",
				 server_id, 0, 0, 0);
	return err;
}
