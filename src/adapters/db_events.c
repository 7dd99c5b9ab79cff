#include "db_events.h"
#include "db_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The audit task's events: one row per log line, searched by the three
 * keys tracking knows (ip in canonical text, client_id as lower-case hex,
 * host_key as lower case without the trailing dot), each with an index
 * (key, at) of migration 6, so that a search reads only its own rows,
 * newest first, straight from the index.
 */

struct ipam_db_events_batch {
	struct ipam_db *db;
	sqlite3_stmt *insert;
	long long server_id, run_id, generation;
	char *file;
	struct strbuf ip, client, host; /* keys of the row being added */
};

int ipam_db_track_key(struct strbuf *out, enum ipam_db_track_by by,
		      const char *value)
{
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];
	size_t start = out->len;

	switch (by) {
	case IPAM_TRACK_IP:
		if (inet_pton(AF_INET, value, bin) == 1)
			inet_ntop(AF_INET, bin, text, sizeof(text));
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
		for (const char *p = value; *p; p++)
			strbuf_addch(out, (char)tolower((unsigned char)*p));
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
	sqlite3_stmt *st;
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
	ipam_db_sql_bind_text(st, 1, server);
	ipam_db_sql_bind_text(st, 2, file);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->offset = sqlite3_column_int64(st, 0);
		out->line = sqlite3_column_int64(st, 1);
		out->head_len = sqlite3_column_int64(st, 2);
		hash = (const char *)sqlite3_column_text(st, 3);
		snprintf(out->head_sha256, sizeof(out->head_sha256), "%s",
			 hash ? hash : "");
		out->generation = sqlite3_column_int64(st, 4);
		out->columns = ipam_db_sql_column_dup(st, 5);
		out->size = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return IPAM_ENOTFOUND;
	if (rc != SQLITE_ROW)
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
	sqlite3_stmt *st;
	int err, rc;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT id FROM servers WHERE name = ?1");
	if (err)
		return err;
	ipam_db_sql_bind_text(st, 1, server);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "audit log of '%s': no such server in "
				      "the inventory",
				      server);
	if (rc != SQLITE_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot look up a server in");
	return 0;
}

int ipam_db_events_begin(struct ipam_db *db, struct ipam_db_events_batch **out,
			 const char *server, long long run_id, const char *file,
			 long long generation)
{
	struct ipam_db_events_batch *b;
	long long id = 0;
	int err;

	*out = NULL;
	err = ipam_db_sql_exec(db, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = server_id(db, server, &id);
	if (err) {
		ipam_db_sql_exec(db, "ROLLBACK");
		return err;
	}
	b = xcalloc(1, sizeof(*b));
	b->db = db;
	b->server_id = id;
	b->run_id = run_id;
	b->generation = generation;
	b->file = xstrdup(file);
	strbuf_init(&b->ip);
	strbuf_init(&b->client);
	strbuf_init(&b->host);
	err = ipam_db_sql_prepare(
		db, &b->insert,
		"INSERT INTO dhcp_events (server_id, run_id, at, local_time, "
		"family, event_id, description, ip, host, host_key, "
		"client_id, user_name, transaction_id, qresult, "
		"probation_time, correlation_id, dhcid, vendor_class_hex, "
		"vendor_class_ascii, user_class_hex, user_class_ascii, "
		"relay_agent, dns_reg_error, error_code, subnet_prefix, "
		"file, generation, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		"?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
		"?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)");
	if (err) {
		ipam_db_events_abort(b);
		return err;
	}
	*out = b;
	return 0;
}

/* Text or NULL when empty. */
static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* The three search keys of e into b's buffers (empty: none).  A value
 * that is no address or hex is kept as written, in lower case. */
static void event_keys(struct ipam_db_events_batch *b,
		       const struct ipam_dhcplog_event *e)
{
	strbuf_reset(&b->ip);
	strbuf_reset(&b->client);
	strbuf_reset(&b->host);
	if (*e->ip && ipam_db_track_key(&b->ip, IPAM_TRACK_IP, e->ip))
		strbuf_addstr(&b->ip, e->ip);
	if (*e->client_id &&
	    ipam_db_track_key(&b->client, IPAM_TRACK_CLIENT, e->client_id))
		for (const char *p = e->client_id; *p; p++)
			strbuf_addch(&b->client,
				     (char)tolower((unsigned char)*p));
	if (*e->host)
		ipam_db_track_key(&b->host, IPAM_TRACK_HOST, e->host);
	ipam_error_clear();
}

int ipam_db_events_add(struct ipam_db_events_batch *b,
		       const struct ipam_db_event_in *ev)
{
	const struct ipam_dhcplog_event *e = ev->e;
	sqlite3_stmt *st = b->insert;
	const char *text[] = {
		e->user_name,	     e->transaction_id,	    e->qresult,
		e->probation_time,   e->correlation_id,	    e->dhcid,
		e->vendor_class_hex, e->vendor_class_ascii, e->user_class_hex,
		e->user_class_ascii, e->relay_agent,	    e->dns_reg_error,
		e->error_code,	     e->subnet_prefix,
	};
	int rc;

	event_keys(b, e);
	sqlite3_bind_int64(st, 1, b->server_id);
	if (b->run_id)
		sqlite3_bind_int64(st, 2, b->run_id);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, ev->at);
	sqlite3_bind_text(st, 4, ev->local_time, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, e->family == 6 ? 6 : 4);
	sqlite3_bind_int(st, 6, e->event_id);
	bind_opt(st, 7, e->description);
	bind_opt(st, 8, b->ip.buf);
	bind_opt(st, 9, e->host);
	bind_opt(st, 10, b->host.buf);
	bind_opt(st, 11, b->client.buf);
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		bind_opt(st, 12 + (int)i, text[i]);
	sqlite3_bind_text(st, 26, b->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 27, b->generation);
	sqlite3_bind_int64(st, 28, (sqlite3_int64)e->line);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return ipam_db_sql_error(b->db, IPAM_EDB,
					 "cannot store an audit event in");
	return 0;
}

static int store_cursor(struct ipam_db_events_batch *b,
			const struct ipam_db_audit_cursor *c)
{
	sqlite3_stmt *st;
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
	sqlite3_bind_int64(st, 1, b->server_id);
	sqlite3_bind_text(st, 2, b->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->offset);
	sqlite3_bind_int64(st, 4, c->line);
	sqlite3_bind_int64(st, 5, c->head_len);
	sqlite3_bind_text(st, 6, c->head_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, c->generation ? c->generation : 1);
	ipam_db_sql_bind_text(st, 8, c->columns);
	sqlite3_bind_int64(st, 9, c->size);
	return ipam_db_sql_step_done(b->db, st,
				     "cannot store the audit-log position in");
}

static void batch_free(struct ipam_db_events_batch *b)
{
	sqlite3_finalize(b->insert);
	strbuf_release(&b->ip);
	strbuf_release(&b->client);
	strbuf_release(&b->host);
	free(b->file);
	free(b);
}

int ipam_db_events_commit(struct ipam_db_events_batch *b,
			  const struct ipam_db_audit_cursor *cursor)
{
	int err = store_cursor(b, cursor);

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
	sqlite3_finalize(b->insert);
	b->insert = NULL;
	/* the error that brought us here stays the last one */
	if (!sqlite3_get_autocommit(b->db->h))
		sqlite3_exec(b->db->h, "ROLLBACK", NULL, NULL, NULL);
	batch_free(b);
}

/* ---- tracking ----------------------------------------------------------- */

static const char *const track_sql[] = {
	[IPAM_TRACK_IP] = "e.ip = ?1",
	[IPAM_TRACK_CLIENT] = "e.client_id = ?1",
	[IPAM_TRACK_HOST] = "e.host_key = ?1",
};

int ipam_db_track_sql(struct strbuf *out, enum ipam_db_track_by by)
{
	if ((unsigned)by > IPAM_TRACK_HOST)
		return ipam_error_set(IPAM_EINVAL, "unknown tracking key");
	strbuf_addf(out,
		    "SELECT e.at, e.local_time, s.name, e.family, "
		    "e.event_id, e.description, e.ip, e.client_id, e.host, "
		    "e.user_name, e.file, e.line FROM dhcp_events e "
		    "JOIN servers s ON s.id = e.server_id "
		    "WHERE %s AND e.at >= ?2 AND e.at <= ?3 "
		    "ORDER BY e.at DESC, e.id DESC LIMIT ?4",
		    track_sql[by]);
	return 0;
}

static void track_row(struct ipam_db_track_row *r, sqlite3_stmt *st)
{
	r->at = sqlite3_column_int64(st, 0);
	r->local_time = ipam_db_sql_column_dup(st, 1);
	r->server = ipam_db_sql_column_dup(st, 2);
	r->family = sqlite3_column_int(st, 3);
	r->event_id = sqlite3_column_int(st, 4);
	r->description = ipam_db_sql_column_dup(st, 5);
	r->ip = ipam_db_sql_column_dup(st, 6);
	r->client_id = ipam_db_sql_column_dup(st, 7);
	r->host = ipam_db_sql_column_dup(st, 8);
	r->user_name = ipam_db_sql_column_dup(st, 9);
	r->file = ipam_db_sql_column_dup(st, 10);
	r->line = sqlite3_column_int64(st, 11);
}

int ipam_db_track(struct ipam_db *db, const struct ipam_db_track_query *q,
		  struct ipam_db_track_row **out, size_t *nr)
{
	struct strbuf sql = STRBUF_INIT, key = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = ipam_db_track_key(&key, q->by, q->value);
	if (!err)
		err = ipam_db_track_sql(&sql, q->by);
	if (!err)
		err = ipam_db_sql_prepare(db, &st, sql.buf);
	if (err)
		goto out;
	sqlite3_bind_text(st, 1, key.buf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, q->from);
	sqlite3_bind_int64(st, 3, q->to ? q->to : LLONG_MAX);
	sqlite3_bind_int64(st, 4, q->limit ? (sqlite3_int64)q->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		track_row(&(*out)[*nr], st);
		(*nr)++;
	}
	if (rc != SQLITE_DONE) {
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot search the audit events in");
		ipam_db_track_free(*out, *nr);
		*out = NULL;
		*nr = 0;
	}
out:
	sqlite3_finalize(st);
	strbuf_release(&key);
	strbuf_release(&sql);
	return err;
}

void ipam_db_track_free(struct ipam_db_track_row *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].local_time);
		free(v[i].server);
		free(v[i].description);
		free(v[i].ip);
		free(v[i].client_id);
		free(v[i].host);
		free(v[i].user_name);
		free(v[i].file);
	}
	free(v);
}
