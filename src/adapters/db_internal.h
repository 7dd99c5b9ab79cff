/*
 * What the pieces of the state database share.  Private to
 * src/adapters/db*.c: callers see db.h alone.  Every db*.c speaks SQL
 * through one connection of the driver (sql.h), SQLite or PostgreSQL.
 */
#ifndef IPAM_DB_INTERNAL_H
#define IPAM_DB_INTERNAL_H

#include <stddef.h>

#include "db.h"
#include "sql.h"

struct ipam_db {
	struct ipam_sql *h;
	char *path; /* as messages name the database */
	/* PostgreSQL's reconciler locks (db_lock_pg.c): the ipamServer in
	 * their key, and how often this connection took each (run, active) */
	char *lock_scope;
	int lock_depth[2];
	/* the audit import's checkpoint thread between imports
	 * (db_events_ckpt.c), stopped by ipam_db_close */
	struct ipam_db_events_ckpt *ckpt;
};

/* The current time as every timestamp column stores it (UTC, ISO 8601). */
#define NOW_SQL IPAM_SQL_NOW

/* "<what> '<path>': <the driver's message>" as the last error; returns
 * code. */
int ipam_db_sql_error(struct ipam_db *db, int code, const char *what);
/* Run SQL text (one or more statements) or set the last error. */
int ipam_db_sql_exec(struct ipam_db *db, const char *sql);
/* Prepare, or set the last error naming the database. */
int ipam_db_sql_prepare(struct ipam_db *db, struct ipam_sql_stmt **st,
			const char *sql);
/* Append the VALUES list of a multi-row INSERT: rows of cols
 * parameters, numbered from ?1 ("(?1, ?2), (?3, ?4)"). */
void ipam_db_sql_values(struct strbuf *sql, size_t rows, size_t cols);
/* Step a statement that returns no rows, then finalize it. */
int ipam_db_sql_step_done(struct ipam_db *db, struct ipam_sql_stmt *st,
			  const char *what);

/* The PostgreSQL text of the migrations (db_schema_pg.c): one for each
 * of db_schema.c's SQLite ones, in the same order. */
extern const char *const ipam_db_pg_migrations[];
extern const int ipam_db_pg_nr_migrations;

/* The reconciler lock (db_lock.c; PostgreSQL's in db_lock_pg.c). */
int ipam_db_interrupt_runs(struct ipam_db *db, const char *host, long long pid);
int ipam_db_sqlite_lock_holder(struct ipam_db *db, struct strbuf *holder);
int ipam_db_pg_lock(struct ipam_db *db, const char *command, int timeout_s,
		    struct strbuf *took_over);
int ipam_db_pg_unlock(struct ipam_db *db);

/* This host's name, as runs and the reconciler lock record it. */
void ipam_db_host(char *buf, size_t size);

#endif
