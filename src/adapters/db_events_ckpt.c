#include "db_events_internal.h"
#include "db_internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "sql.h"

#include "banned.h"

/*
 * The WAL checkpoints of a large import, on a thread of their own.
 *
 * SQLite's automatic checkpoint runs in the connection that commits, when
 * the write-ahead log has grown past its bound: each batch of an import
 * (megabytes of blocks) is written to the log, then read back and written
 * to the database by the committing thread, which is the import's slowest
 * stage (the parser waits for it).  During the import the connection's
 * automatic checkpoint is off and a thread with a connection of its own
 * runs a passive checkpoint after each commit, while the next batch is
 * written: the copy overlaps the writing, the log is reset once a
 * checkpoint has caught up (at most a batch or two behind), and the
 * writer never waits for it (a passive checkpoint takes no lock a writer
 * needs).  At the end of a file's import the connection's own bound is
 * back and the thread, parked on the database handle, copies what is
 * left while the collection goes on (the next file, the addresses' pass:
 * their commits find that checkpoint busy and do not wait for it); the
 * next import takes it up again, ipam_db_close stops it.
 */

struct ipam_db_events_ckpt {
	struct ipam_db *db;
	struct ipam_sql *h; /* the thread's own connection */
	long long autockpt; /* the connection's bound before */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned kicks; /* commits not yet checkpointed after */
	bool stop;
};

/* The connection's automatic checkpoint bound (pages); -1: unknown. */
static long long autockpt_get(struct ipam_sql *h)
{
	struct ipam_sql_stmt *st;
	long long v = -1;

	if (ipam_sql_prepare(h, &st, "PRAGMA wal_autocheckpoint"))
		return -1;
	if (ipam_sql_step(st) == IPAM_SQL_ROW)
		v = ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	return v;
}

static void autockpt_set(struct ipam_sql *h, long long pages)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint = %lld", pages);
	ipam_sql_exec(h, sql);
}

static void *ckpt_run(void *arg)
{
	struct ipam_db_events_ckpt *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->kicks && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->stop)
			break;
		c->kicks = 0;
		pthread_mutex_unlock(&c->lock);
		/* busy (another checkpoint) or failed: the next one, or the
		 * connection's own at the end, copies it */
		ipam_sql_exec(c->h, "PRAGMA wal_checkpoint(PASSIVE)");
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct ipam_db_events_ckpt *ipam_db_events_ckpt_start(struct ipam_db *db)
{
	struct ipam_db_events_ckpt *c = db->ckpt;

	if (c) { /* parked by the import before */
		db->ckpt = NULL;
		autockpt_set(db->h, 0);
		return c;
	}
	if (ipam_sql_kind(db->h) != IPAM_SQL_SQLITE)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->db = db;
	c->autockpt = autockpt_get(db->h);
	if (c->autockpt <= 0 || ipam_sql_open_again(&c->h, db->h)) {
		free(c); /* no bound to move, or no second connection */
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_run, c)) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		ipam_sql_close(c->h);
		free(c);
		return NULL;
	}
	autockpt_set(db->h, 0);
	return c;
}

void ipam_db_events_ckpt_kick(struct ipam_db_events_ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->kicks++;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void ipam_db_events_ckpt_park(struct ipam_db_events_ckpt *c)
{
	if (!c)
		return;
	autockpt_set(c->db->h, c->autockpt);
	if (c->db->ckpt) { /* never so: an import takes it up */
		ipam_db_events_ckpt_stop(c);
		return;
	}
	c->db->ckpt = c;
	ipam_db_events_ckpt_kick(c);
}

void ipam_db_events_ckpt_stop(struct ipam_db_events_ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	ipam_sql_close(c->h);
	autockpt_set(c->db->h, c->autockpt);
	free(c);
}
