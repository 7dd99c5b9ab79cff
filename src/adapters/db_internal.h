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
/* Step a statement that returns no rows, then finalize it. */
int ipam_db_sql_step_done(struct ipam_db *db, struct ipam_sql_stmt *st,
			  const char *what);

/* This host's name, as runs and the reconciler lock record it. */
void ipam_db_host(char *buf, size_t size);

#endif
