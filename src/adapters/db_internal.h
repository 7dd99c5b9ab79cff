/*
 * What the pieces of the SQLite backend of the state database share.
 * Private to src/adapters/db*.c: callers see db.h alone, which names no
 * SQLite type, so another backend can stand behind the same interface.
 */
#ifndef IPAM_DB_INTERNAL_H
#define IPAM_DB_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "db.h"

struct ipam_db {
	sqlite3 *h;
	char *path;
};

/* The current time as every timestamp column stores it (UTC, ISO 8601). */
#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* "<what> '<path>': <SQLite's message>" as the last error; returns code. */
int ipam_db_sql_error(struct ipam_db *db, int code, const char *what);
/* Run SQL text (one or more statements) or set the last error. */
int ipam_db_sql_exec(struct ipam_db *db, const char *sql);
/* Prepare, or set the last error naming the database. */
int ipam_db_sql_prepare(struct ipam_db *db, sqlite3_stmt **st, const char *sql);
/* Step a statement that returns no rows, then finalize it. */
int ipam_db_sql_step_done(struct ipam_db *db, sqlite3_stmt *st,
			  const char *what);
/* Bind text, copied (NULL binds NULL). */
void ipam_db_sql_bind_text(sqlite3_stmt *st, int i, const char *v);
/* A text column, malloc'd, or NULL when it is NULL. */
char *ipam_db_sql_column_dup(sqlite3_stmt *st, int col);

/* This host's name, as runs and the reconciler lock record it. */
void ipam_db_host(char *buf, size_t size);

#endif
