#include "db.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db_internal.h"
#include "error.h"
#include "proc.h"
#include "strbuf.h"
#include "banned.h"

/* ---- the reconciler lock ---- */

#define LOCK_POLL_MS 200

struct lock_holder {
	char *host, *command, *since, *boot_id;
	long long pid;
	long long proc_start; /* -1: not recorded */
};

static void holder_release(struct lock_holder *h)
{
	free(h->host);
	free(h->command);
	free(h->since);
	free(h->boot_id);
	memset(h, 0, sizeof(*h));
}

/*
 * Is h our own process's lock?  Same host and pid -- and, where the lock
 * says so, the same boot and start time (else it is a dead process's
 * whose pid we happen to have).
 */
static int holder_is_us(const struct lock_holder *h, const char *host,
			long long pid)
{
	char boot[64];

	if (!h->host || strcmp(h->host, host) || h->pid != pid)
		return 0;
	if (h->boot_id && *ipam_proc_boot_id(boot) && strcmp(h->boot_id, boot))
		return 0;
	return h->proc_start < 0 || h->proc_start == ipam_proc_start_ticks(pid);
}

/*
 * A holder is gone only when it ran on this host and its process is no
 * longer there: its pid is free, the host booted since (another boot id),
 * or the pid now names a process that started at another time (reused);
 * a process on another host cannot be checked from here.  (A zombie
 * still counts as running until its parent reaps it.)
 */
static int holder_gone(const struct lock_holder *h, const char *host)
{
	char boot[64];
	long long started;

	if (!h->host || strcmp(h->host, host))
		return 0;
	if (h->pid <= 0 || h->pid > INT_MAX)
		return 1;
	if (!ipam_proc_exists(h->pid))
		return 1;
	if (h->boot_id && *ipam_proc_boot_id(boot) && strcmp(h->boot_id, boot))
		return 1;
	if (h->proc_start < 0)
		return 0;
	started = ipam_proc_start_ticks(h->pid);
	return started >= 0 && started != h->proc_start;
}

/* The holder's runs that never ended: they never will. */
static int interrupt_runs(struct ipam_db *db, const struct lock_holder *h)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"UPDATE runs SET outcome = 'interrupted', ended_at = "
		"" NOW_SQL " WHERE outcome = 'running' AND host = ?1 "
		"AND pid = ?2");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, h->host);
	ipam_sql_bind_int64(st, 2, h->pid);
	return ipam_db_sql_step_done(db, st, "cannot mark interrupted runs in");
}

/*
 * One attempt, in one IMMEDIATE transaction so that two processes cannot
 * both see the lock free: *taken, or h says who holds it.
 */
static int lock_try(struct ipam_db *db, const char *command, const char *host,
		    struct lock_holder *h, int *taken, struct strbuf *took_over)
{
	long long pid = (long long)getpid();
	struct ipam_sql_stmt *st;
	int rc, held, err;

	*taken = 0;
	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT host, pid, command, started_at, proc_start, "
		"boot_id FROM reconcile_lock WHERE id = 1");
	if (err)
		goto out;
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		h->host = ipam_sql_column_dup(st, 0);
		h->pid = ipam_sql_column_int64(st, 1);
		h->command = ipam_sql_column_dup(st, 2);
		h->since = ipam_sql_column_dup(st, 3);
		h->proc_start = ipam_sql_column_type(st, 4) == IPAM_SQL_NULL
					? -1
					: ipam_sql_column_int64(st, 4);
		h->boot_id = ipam_sql_column_dup(st, 5);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE) {
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read the lock of");
		goto out;
	}
	held = rc == IPAM_SQL_ROW;
	if (held && holder_is_us(h, host, pid)) {
		/* Ours already: taking it again is no conflict. */
		*taken = 1;
		goto out;
	}
	if (held && !holder_gone(h, host))
		goto out;
	if (held)
		err = interrupt_runs(db, h);
	if (held && !err && took_over) {
		strbuf_reset(took_over);
		strbuf_addf(took_over, "%s (pid %lld on %s) since %s",
			    h->command ? h->command : "?", h->pid,
			    h->host ? h->host : "?", h->since ? h->since : "?");
	}
	if (!err)
		err = ipam_db_sql_prepare(
			db, &st,
			"INSERT OR REPLACE INTO reconcile_lock(id, host, "
			"pid, command, started_at, proc_start, boot_id) "
			"VALUES (1, ?1, ?2, ?3, " NOW_SQL ", ?4, ?5)");
	if (!err) {
		long long me = ipam_proc_start_ticks(pid);
		char boot[64];

		ipam_sql_bind_text(st, 1, host);
		ipam_sql_bind_int64(st, 2, pid);
		ipam_sql_bind_text(st, 3, command);
		if (me >= 0)
			ipam_sql_bind_int64(st, 4, me);
		else
			ipam_sql_bind_null(st, 4);
		if (*ipam_proc_boot_id(boot))
			ipam_sql_bind_text(st, 5, boot);
		else
			ipam_sql_bind_null(st, 5);
		err = ipam_db_sql_step_done(db, st, "cannot take the lock of");
	}
	if (!err)
		*taken = 1;
out:
	if (!err)
		err = ipam_db_sql_exec(db, "COMMIT");
	if (err) {
		*taken = 0;
		ipam_sql_rollback(db->h);
	}
	return err;
}

static long long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000LL +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void sleep_ms(long long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int ipam_db_lock(struct ipam_db *db, const char *command, int timeout_s,
		 struct strbuf *took_over)
{
	long long limit = timeout_s > 0 ? timeout_s * 1000LL : 0, left;
	struct lock_holder h = {0};
	struct timespec start;
	char host[256];
	int taken, err;

	ipam_db_host(host, sizeof(host));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		holder_release(&h);
		err = lock_try(db, command, host, &h, &taken, took_over);
		if (err || taken)
			break;
		left = limit - elapsed_ms(&start);
		if (left <= 0) {
			err = ipam_error_set(
				IPAM_ECONFLICT,
				"state database '%s' is locked by %s (pid %lld "
				"on %s) since %s; waited %d s. Wait for it to "
				"finish, or allow longer with --lock-timeout "
				"SECONDS; if that process is gone (one on "
				"another host cannot be checked from here), "
				"remove the lock with 'ipamctl db unlock'",
				db->path, h.command ? h.command : "?", h.pid,
				h.host ? h.host : "?", h.since ? h.since : "?",
				timeout_s > 0 ? timeout_s : 0);
			break;
		}
		sleep_ms(left < LOCK_POLL_MS ? left : LOCK_POLL_MS);
	}
	holder_release(&h);
	if (err && err != IPAM_ECONFLICT)
		ipam_error_prefix(err, "taking the reconciler lock");
	return err;
}

int ipam_db_unlock(struct ipam_db *db)
{
	char host[256];
	struct ipam_sql_stmt *st;
	int err;

	ipam_db_host(host, sizeof(host));
	err = ipam_db_sql_prepare(
		db, &st,
		"DELETE FROM reconcile_lock WHERE id = 1 AND host = ?1 "
		"AND pid = ?2");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, host);
	ipam_sql_bind_int64(st, 2, (long long)getpid());
	return ipam_db_sql_step_done(db, st, "cannot release the lock of");
}

int ipam_db_lock_break(struct ipam_db *db, struct strbuf *holder)
{
	struct ipam_sql_stmt *st;
	int err, rc;

	strbuf_reset(holder);
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT command, pid, host, started_at FROM "
				  "reconcile_lock WHERE id = 1");
	if (err)
		return err;
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW)
		strbuf_addf(holder, "%s (pid %lld on %s) since %s",
			    ipam_sql_column_text(st, 0),
			    (long long)ipam_sql_column_int64(st, 1),
			    ipam_sql_column_text(st, 2),
			    ipam_sql_column_text(st, 3));
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW && rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the lock of");
	if (rc == IPAM_SQL_DONE)
		return 0;
	err = ipam_db_sql_prepare(db, &st,
				  "DELETE FROM reconcile_lock WHERE id = 1");
	if (err)
		return err;
	return ipam_db_sql_step_done(db, st, "cannot remove the lock of");
}
