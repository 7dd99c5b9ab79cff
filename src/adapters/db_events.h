/*
 * The state database's side of the audit task and IP address tracking:
 * where each audit-log file was read up to, the events imported (in
 * batches, each committed together with the file's new position so that
 * a crash or a failure never imports a line twice or loses one), the
 * tracking search, and the deletion of old events (which db_prune.h's
 * retention calls) and of a server's events (the inventory's purge).
 *
 * Storage (migrations 6 and 10): the events in blocks of up to 128, one
 * row of dhcp_event_blocks each (db_events_internal.h has the layout);
 * one row per committed batch in dhcp_event_batches (its server, file,
 * id range and time range); and, for each search key of a batch, the ids
 * of its events in dhcp_event_postings, which is what a search reads
 * first.  Other modules read the events through the functions below,
 * never the tables.
 *
 * Prefixes: ipam_db_audit_, ipam_db_events_, ipam_db_track
 */
#ifndef IPAM_DB_EVENTS_H
#define IPAM_DB_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "dhcplog.h"
#include "leases.h"
#include "strbuf.h"

/* Where the import of one file of one server stopped. */
struct ipam_db_audit_cursor {
	long long offset;     /* bytes imported: the end of a complete line */
	long long line;	      /* lines consumed (the next is line + 1) */
	long long head_len;   /* bytes the head hash covers */
	char head_sha256[65]; /* hex SHA-256 of the file's first head_len */
	long long generation; /* 1, then +1 each time it was overwritten */
	char *columns;	      /* the column line; NULL before it was seen */
	long long size;	      /* the file's size when read */
};

/* The cursor of file on server: 0, or IPAM_ENOTFOUND when never read. */
int ipam_db_audit_cursor_get(struct ipam_db *db, const char *server,
			     const char *file,
			     struct ipam_db_audit_cursor *out);
void ipam_db_audit_cursor_release(struct ipam_db_audit_cursor *c);

/* One event to store: the parsed line, its UTC time and its local time
 * ("2026-11-02T08:01:15"), or when local_time is NULL, local: the same
 * as seconds (ipam_tz_civil). */
struct ipam_db_event_in {
	const struct ipam_dhcplog_event *e;
	long long at;
	const char *local_time;
	long long local;
};

struct ipam_db_events_batch;

/*
 * Start a batch for file of server; IPAM_ENOTFOUND when the server is not
 * in the inventory.  The batch is built in memory (bounded by what the
 * caller adds before it commits) and written in one transaction at the
 * commit.
 */
int ipam_db_events_begin(struct ipam_db *db, struct ipam_db_events_batch **out,
			 const char *server, long long run_id, const char *file,
			 long long generation);
int ipam_db_events_add(struct ipam_db_events_batch *b,
		       const struct ipam_db_event_in *ev);
/* Store the cursor and commit everything added; the batch is freed.
 * Waits for a batch handed over by ipam_db_events_commit_next first (its
 * failure is this call's). */
int ipam_db_events_commit(struct ipam_db_events_batch *b,
			  const struct ipam_db_audit_cursor *cursor);
/*
 * Hand *b over to a thread that commits it with cursor (as
 * ipam_db_events_commit does) while the caller goes on: *b becomes the
 * next batch of the same file, whose events follow.  Until that batch is
 * committed or aborted, the caller uses the database connection for
 * nothing else.  Returns the failure of the batch handed over before (it
 * is waited for first; *b is then freed and NULL).  A crash loses at most
 * the batches not yet committed, each with its cursor.
 */
int ipam_db_events_commit_next(struct ipam_db_events_batch **b,
			       const struct ipam_db_audit_cursor *cursor);
/* Free b, writing nothing of it (NULL is fine); a batch handed over
 * before is waited for. */
void ipam_db_events_abort(struct ipam_db_events_batch *b);

enum ipam_db_track_by {
	IPAM_TRACK_IP,
	IPAM_TRACK_CLIENT, /* MAC or DUID, normalized */
	IPAM_TRACK_HOST,   /* host name, any case, trailing dot or not */
};

struct ipam_db_track_query {
	enum ipam_db_track_by by;
	const char *value;
	long long from, to; /* UTC seconds, inclusive; to 0: no end */
	size_t limit;	    /* 0: no limit */
};

/* The columns dhcp_events.extra holds, in order (their letters a, b, ...
 * in the encoding of db_schema.c). */
#define IPAM_DB_TRACK_EXTRAS 14
/* The JSON names of those columns: "userName", "transactionId", ... */
extern const char *const ipam_db_track_extra_names[IPAM_DB_TRACK_EXTRAS];

/* One event found, newest first. */
struct ipam_db_track_row {
	long long id, at;
	char *local_time, *server;
	int family, event_id;
	char *description, *ip, *client_id, *host;
	char *extra[IPAM_DB_TRACK_EXTRAS]; /* NULL: empty in the log */
	char *file;
	long long line;
};

/*
 * The key a value is searched by: an address in canonical text, a MAC or
 * DUID as ipam_client_id_normalize gives it, a host name in lower case
 * without its trailing dot; IPAM_EINVAL saying why a value is none.
 */
int ipam_db_track_key(struct strbuf *out, enum ipam_db_track_by by,
		      const char *value);
/* The search's SQL (for EXPLAIN QUERY PLAN in the tests): step 0 reads
 * the postings of a key, step 1 one event by its id. */
int ipam_db_track_sql(struct strbuf *out, int step);

int ipam_db_track(struct ipam_db *db, const struct ipam_db_track_query *q,
		  struct ipam_db_track_row **out, size_t *nr);
void ipam_db_track_free(struct ipam_db_track_row *v, size_t nr);

/*
 * Delete the events older than before (UTC seconds), at most about
 * batch events per transaction (0: 10,000), through the batches (id
 * ranges, no scan of the whole table); *deleted counts them and
 * *transactions the transactions it took (either may be NULL).  A batch
 * partly older keeps its newer events.
 */
int ipam_db_events_prune(struct ipam_db *db, long long before, size_t batch,
			 long long *deleted, long long *transactions);
/* Delete every event of server id with its batches and postings, inside
 * the caller's transaction (the inventory's purge). */
int ipam_db_events_purge(struct ipam_db *db, long long server_id);

/*
 * The events of each address (those with an IP address), in the order of
 * the addresses' text, as the addresses' leases need them: of all the
 * events of an address, those that decide ipam_leases_decide (the first
 * and the last, the latest with a client id or host name, the latest that
 * is not "other") and the first of each server; ev[].seq is the event's
 * id.  Memory goes with the number of addresses, not of events.
 */
typedef int (*ipam_db_events_lease_fn)(const char *ip, int family,
				       const struct ipam_lease_event *ev,
				       size_t nr, void *ctx);
int ipam_db_events_leases(struct ipam_db *db, ipam_db_events_lease_fn fn,
			  void *ctx);

/* "YYYY-MM-DDTHH:MM:SSZ" of at (UTC seconds). */
void ipam_db_events_iso(char out[40], long long at);

/* How many events there are, the first and last time (UTC seconds, 0
 * when there are none). */
int ipam_db_events_totals(struct ipam_db *db, long long *count,
			  long long *first, long long *last);

/* The number of events of each event id, most first (then by id). */
struct ipam_db_events_count {
	int event_id;
	long long count;
};
int ipam_db_events_count_by_id(struct ipam_db *db,
			       struct ipam_db_events_count **out, size_t *nr);

/* The latest limit events, newest first (by at, then id), as track finds
 * them (free with ipam_db_track_free). */
int ipam_db_events_latest(struct ipam_db *db, size_t limit,
			  struct ipam_db_track_row **out, size_t *nr);

#endif
