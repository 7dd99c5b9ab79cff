#include "db.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_internal.h"
#include "error.h"
#include "proc.h"
#include "strbuf.h"
#include "banned.h"

/*
 * The reconciler lock of a PostgreSQL database: a session-scoped
 * advisory lock, so that the server releases it when its holder's
 * connection ends -- a killed process, a crashed host, a partition (once
 * the server's TCP keepalive gives up on it) -- and no lock is ever left
 * for a person to clear.  Advisory locks belong to their database; the
 * key adds the desired state's ipamServer (two IPAM servers may share a
 * database) and which lock it is:
 *
 *   run     one plan/apply/reconcile/collect at a time (ipam_db_lock),
 *           taken and released by each run;
 *   active  the active reconciler of `reconcile --every` (ipam_db_lead),
 *           held for the life of its connection; another loop that does
 *           not get it is the standby, and tries again each interval.
 *
 * The key is one bigint: "IPAM" + the lock (high 32 bits; pg_locks shows
 * it as classid) and a 31-bit FNV-1a hash of the lower-case ipamServer
 * (objid).  reconcile_lock keeps a row per key naming the holder (host,
 * pid, since) and its connection (backend_pid); the row is believed only
 * while pg_locks shows that connection holding the lock, so a row left by
 * a dead holder says nothing -- and the next holder marks that holder's
 * runs interrupted.
 */

#define LOCK_POLL_MS 200
/* A holder that has the lock but has not yet written its row (it does
 * right after taking it) is waited for this long past the timeout, so
 * that the refusal names it rather than "another session". */
#define NAME_GRACE_MS 2000
#define NAME_POLL_MS  20
#define KEY_CLASS     0x4950414DLL /* "IPAM" */

static long long lock_key(const struct ipam_db *db, int active)
{
	unsigned h = 2166136261u;
	const char *p;

	for (p = db->lock_scope ? db->lock_scope : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;

		h ^= c >= 'A' && c <= 'Z' ? c + 32 : c;
		h *= 16777619u;
	}
	return ((KEY_CLASS + active) << 32) | (long long)(h & 0x7fffffff);
}

/* The holder of key as pg_locks confirms it ("" when nobody); *ours when
 * it is this connection. */
static int live_holder(struct ipam_db *db, long long key, struct strbuf *out,
		       int *ours)
{
	struct ipam_sql_stmt *st;
	int rc;

	strbuf_reset(out);
	*ours = 0;
	if (ipam_db_sql_prepare(
		    db, &st,
		    "SELECT l.command, l.pid, l.host, l.started_at, "
		    "CASE WHEN l.backend_pid = pg_backend_pid() THEN 1 "
		    "ELSE 0 END FROM reconcile_lock l JOIN pg_catalog.pg_locks "
		    "k ON k.pid = l.backend_pid AND k.locktype = 'advisory' "
		    "AND k.granted AND k.objsubid = 1 AND k.database = "
		    "(SELECT oid FROM pg_catalog.pg_database WHERE datname = "
		    "current_database()) AND k.classid::bigint = ?2 AND "
		    "k.objid::bigint = ?3 WHERE l.id = ?1"))
		return IPAM_EDB;
	ipam_sql_bind_int64(st, 1, key);
	ipam_sql_bind_int64(st, 2, (key >> 32) & 0xffffffffLL);
	ipam_sql_bind_int64(st, 3, key & 0xffffffffLL);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		strbuf_addf(out, "%s (pid %lld on %s) since %s",
			    ipam_sql_column_text(st, 0),
			    ipam_sql_column_int64(st, 1),
			    ipam_sql_column_text(st, 2),
			    ipam_sql_column_text(st, 3));
		*ours = ipam_sql_column_int64(st, 4) != 0;
	}
	ipam_sql_finalize(st);
	if (rc < 0)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the lock of");
	return 0;
}

/* pg_try_advisory_lock: *got says whether it is ours now. */
static int try_lock(struct ipam_db *db, long long key, int *got)
{
	struct ipam_sql_stmt *st;
	int rc;

	*got = 0;
	if (ipam_db_sql_prepare(db, &st,
				"SELECT CASE WHEN pg_try_advisory_lock(?1) "
				"THEN 1 ELSE 0 END"))
		return IPAM_EDB;
	ipam_sql_bind_int64(st, 1, key);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW)
		*got = ipam_sql_column_int64(st, 0) != 0;
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot take the lock of");
	return 0;
}

/*
 * Just taken: the row says who held it before (if anyone) -- gone, since
 * the lock was free: their runs still 'running' never will end (the run
 * lock only; took_over names them) -- and then names us.
 */
static int claim_row(struct ipam_db *db, long long key, const char *command,
		     int run_lock, struct strbuf *took_over)
{
	struct ipam_sql_stmt *st;
	char host[256];
	int err = 0, rc;

	ipam_db_host(host, sizeof(host));
	if (run_lock &&
	    !ipam_db_sql_prepare(db, &st,
				 "SELECT command, pid, host, started_at FROM "
				 "reconcile_lock WHERE id = ?1 AND "
				 "backend_pid <> pg_backend_pid()")) {
		char *h = NULL;
		long long pid = 0;

		ipam_sql_bind_int64(st, 1, key);
		rc = ipam_sql_step(st);
		if (rc == IPAM_SQL_ROW) {
			pid = ipam_sql_column_int64(st, 1);
			h = ipam_sql_column_dup(st, 2);
			if (took_over) {
				strbuf_reset(took_over);
				strbuf_addf(took_over,
					    "%s (pid %lld on %s) since %s",
					    ipam_sql_column_text(st, 0), pid, h,
					    ipam_sql_column_text(st, 3));
			}
		}
		ipam_sql_finalize(st);
		if (h)
			err = ipam_db_interrupt_runs(db, h, pid);
		free(h);
	}
	if (!err)
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT INTO reconcile_lock(id, host, pid, command, "
			"started_at, backend_pid) VALUES (?1, ?2, ?3, ?4, "
			"" NOW_SQL ", pg_backend_pid()) ON CONFLICT (id) DO "
			"UPDATE SET host = excluded.host, pid = excluded.pid, "
			"command = excluded.command, started_at = "
			"excluded.started_at, backend_pid = "
			"excluded.backend_pid");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, key);
	ipam_sql_bind_text(st, 2, host);
	ipam_sql_bind_int64(st, 3, (long long)getpid());
	ipam_sql_bind_text(st, 4, command);
	return ipam_db_sql_step_done(db, st, "cannot take the lock of");
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

int ipam_db_pg_lock(struct ipam_db *db, const char *command, int timeout_s,
		    struct strbuf *took_over)
{
	long long key = lock_key(db, 0);
	long long until = now_ms() + (timeout_s > 0 ? timeout_s * 1000LL : 0);
	struct strbuf holder = STRBUF_INIT;
	int got, ours, err;

	for (;;) {
		err = try_lock(db, key, &got);
		if (err || got)
			break;
		err = live_holder(db, key, &holder, &ours);
		if (err)
			break;
		if (now_ms() >= until &&
		    (holder.len || now_ms() >= until + NAME_GRACE_MS)) {
			err = ipam_error_set(
				IPAM_ECONFLICT,
				"state database '%s' is locked by %s; waited "
				"%d s. Wait for it to finish, or allow longer "
				"with --lock-timeout SECONDS (PostgreSQL "
				"releases the lock when its holder's "
				"connection ends)",
				db->path,
				holder.len ? holder.buf
					   : "another "
					     "session",
				timeout_s > 0 ? timeout_s : 0);
			break;
		}
		sleep_ms(now_ms() < until ? LOCK_POLL_MS : NAME_POLL_MS);
	}
	strbuf_release(&holder);
	if (!err && db->lock_depth[0]++ == 0)
		err = claim_row(db, key, command, 1, took_over);
	if (err && err != IPAM_ECONFLICT)
		ipam_error_prefix(err, "taking the reconciler lock");
	return err;
}

static int unlock_key(struct ipam_db *db, long long key)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(db, &st,
				  "DELETE FROM reconcile_lock WHERE id = ?1 "
				  "AND backend_pid = pg_backend_pid()");
	if (!err) {
		ipam_sql_bind_int64(st, 1, key);
		err = ipam_db_sql_step_done(db, st,
					    "cannot release the lock of");
	}
	if (!err)
		err = ipam_db_sql_prepare(db, &st,
					  "SELECT pg_advisory_unlock(?1)");
	if (!err) {
		ipam_sql_bind_int64(st, 1, key);
		if (ipam_sql_step(st) < 0)
			err = ipam_db_sql_error(db, IPAM_EDB,
						"cannot release the lock of");
		ipam_sql_finalize(st);
	}
	return err;
}

int ipam_db_pg_unlock(struct ipam_db *db)
{
	if (db->lock_depth[0] <= 0)
		return 0;
	if (--db->lock_depth[0] > 0)
		return 0;
	return unlock_key(db, lock_key(db, 0));
}

int ipam_db_lead(struct ipam_db *db, const char *command, struct strbuf *holder)
{
	long long key = lock_key(db, 1);
	int got, ours, err;

	strbuf_reset(holder);
	if (!ipam_db_is_postgres(db))
		return ipam_error_set(IPAM_EINVAL,
				      "a standby needs a PostgreSQL database");
	if (db->lock_depth[1])
		return ipam_db_lead_check(db);
	err = try_lock(db, key, &got);
	if (!err && !got) {
		err = live_holder(db, key, holder, &ours);
		return err ? err : IPAM_ECONFLICT;
	}
	if (!err)
		err = claim_row(db, key, command, 0, NULL);
	if (!err)
		db->lock_depth[1] = 1;
	return err;
}

int ipam_db_lead_check(struct ipam_db *db)
{
	struct strbuf holder = STRBUF_INIT;
	int ours = 0, err;

	err = live_holder(db, lock_key(db, 1), &holder, &ours);
	strbuf_release(&holder);
	if (!err && !ours)
		err = ipam_error_set(IPAM_EDB,
				     "the active reconciler's lock of '%s' "
				     "is no longer held by this process",
				     db->path);
	if (err)
		db->lock_depth[1] = 0;
	return err;
}

int ipam_db_lock_holder(struct ipam_db *db, struct strbuf *run,
			struct strbuf *active)
{
	int ours, err;

	strbuf_reset(run);
	strbuf_reset(active);
	if (!ipam_db_is_postgres(db))
		return ipam_db_sqlite_lock_holder(db, run);
	err = live_holder(db, lock_key(db, 0), run, &ours);
	if (!err)
		err = live_holder(db, lock_key(db, 1), active, &ours);
	return err;
}

void ipam_db_set_lock_scope(struct ipam_db *db, const char *ipam_server)
{
	free(db->lock_scope);
	db->lock_scope = ipam_server ? xstrdup(ipam_server) : NULL;
}
