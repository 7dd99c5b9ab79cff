/*
 * SQL driver: one connection to the state database, SQLite (sql_sqlite.c)
 * or PostgreSQL (sql_pg.c), behind the few calls the db*.c modules make.
 * Only the drivers include <sqlite3.h> or <libpq-fe.h>; db*.c speak this.
 *
 * Statements are prepared once and stepped as SQLite steps them:
 * parameters are numbered from 1 and written "?N" in the SQL text (the
 * PostgreSQL driver turns them into "$N"); columns from 0.  Where the two
 * dialects differ, the caller picks the text by ipam_sql_kind(); the one
 * expression both drivers read alike is IPAM_SQL_NOW, the current time in
 * UTC as every timestamp column stores it (ISO 8601, seconds).  Values
 * are 64-bit integers, doubles, text (UTF-8, NUL-terminated) or blobs; a
 * column's text or blob stays valid until the next step, reset or
 * finalize of its statement.
 *
 * Errors: every fallible call returns a negative IPAM_E* code and sets the
 * last error, "<what> '<database>': <the server's message>" where the
 * caller names what it was doing (ipam_sql_error).  A PostgreSQL
 * connection that is lost fails every later call with IPAM_EDB; the
 * driver never reconnects on its own, so a run cannot carry on after part
 * of it was lost.
 *
 * A connection is used by one thread at a time; a writer thread opens its
 * own (ipam_sql_open_again).
 *
 * Results on PostgreSQL: a statement's whole result comes back when it is
 * first stepped and stays with the statement, so another statement of
 * the same connection may run while one is iterated (nested statements
 * work on both drivers).  That holds the whole result in memory: a SELECT
 * whose result may be large (events, a table copied whole) is prepared
 * with ipam_sql_prepare_scan instead, which reads it through a cursor in
 * chunks of about a MiB, whatever its size.  The cursor is WITH HOLD: it
 * survives a COMMIT made while it is iterated.  On SQLite both are the
 * same.  Each SQL text is prepared once per connection on the server
 * (PQprepare) and reused; DDL through ipam_sql_exec makes them prepared
 * anew.
 *
 * Layer adapters/.
 */
#ifndef IPAM_SQL_H
#define IPAM_SQL_H

#include <stddef.h>

struct ipam_sql;
struct ipam_sql_stmt;

/* SQLite's spelling; the PostgreSQL driver rewrites it to its own. */
#define IPAM_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

enum ipam_sql_kind {
	IPAM_SQL_SQLITE,
	IPAM_SQL_POSTGRES,
};

/* What ipam_sql_step() returns besides a negative error. */
enum {
	IPAM_SQL_DONE = 0,
	IPAM_SQL_ROW = 1,
};

enum ipam_sql_type {
	IPAM_SQL_NULL,
	IPAM_SQL_INTEGER,
	IPAM_SQL_FLOAT,
	IPAM_SQL_TEXT,
	IPAM_SQL_BLOB,
};

enum {
	IPAM_SQL_CREATE = 1, /* SQLite: create the file if missing */
};

/* The SQLite file at path (which exists unless flags has CREATE). */
int ipam_sql_open_sqlite(struct ipam_sql **out, const char *path, int flags);
/*
 * A PostgreSQL server: uri is a libpq connection URI without a password;
 * password is NULL when libpq finds it itself (PGPASSFILE, ~/.pgpass).
 * The password is not kept after the connection is made.
 */
int ipam_sql_open_postgres(struct ipam_sql **out, const char *uri,
			   const char *password);
/*
 * ipamctl's rules for a PostgreSQL URI, for validation before any
 * connection (ipam_sql_open_postgres applies them too): postgresql:// or
 * postgres://, no password in it, and an sslmode that may go without TLS
 * (disable, allow, prefer) only when every host is a Unix socket or a
 * loopback address.  Elsewhere sslmode defaults to verify-full.
 * IPAM_EINVAL with a message that never repeats a password.
 */
int ipam_sql_check_uri(const char *uri);
/*
 * A second connection to the same database (a writer thread's).  On
 * PostgreSQL only when libpq found the password itself: the driver does
 * not keep one it was given (IPAM_EINVAL).
 */
int ipam_sql_open_again(struct ipam_sql **out, struct ipam_sql *c);
void ipam_sql_close(struct ipam_sql *c);
/* Whether the connection to the server was lost (always 0 on SQLite):
 * every call fails from then on, and ipamctl does not reconnect. */
int ipam_sql_lost(const struct ipam_sql *c);

enum ipam_sql_kind ipam_sql_kind(const struct ipam_sql *c);
/* The database as messages name it: the file, or the URI (no password). */
const char *ipam_sql_name(const struct ipam_sql *c);

/* "<what> '<name>': <the driver's last message>" as the last error. */
int ipam_sql_error(struct ipam_sql *c, int code, const char *what);

/* Run SQL text without parameters (several statements allowed). */
int ipam_sql_exec(struct ipam_sql *c, const char *sql);

/*
 * Transactions.  begin takes the write lock at once (SQLite's BEGIN
 * IMMEDIATE); rollback never fails and does nothing outside one.
 */
int ipam_sql_begin(struct ipam_sql *c);
int ipam_sql_commit(struct ipam_sql *c);
void ipam_sql_rollback(struct ipam_sql *c);
int ipam_sql_in_transaction(struct ipam_sql *c);

int ipam_sql_prepare(struct ipam_sql *c, struct ipam_sql_stmt **st,
		     const char *sql);
/* A SELECT whose result may be large: read in bounded chunks (above). */
int ipam_sql_prepare_scan(struct ipam_sql *c, struct ipam_sql_stmt **st,
			  const char *sql);
void ipam_sql_finalize(struct ipam_sql_stmt *st);
/* Ready to step again from the start; bindings are kept. */
void ipam_sql_reset(struct ipam_sql_stmt *st);

/* Bindings copy their value. */
void ipam_sql_bind_int64(struct ipam_sql_stmt *st, int i, long long v);
void ipam_sql_bind_double(struct ipam_sql_stmt *st, int i, double v);
void ipam_sql_bind_null(struct ipam_sql_stmt *st, int i);
/* NULL binds NULL. */
void ipam_sql_bind_text(struct ipam_sql_stmt *st, int i, const char *v);
/* The n bytes at v as text (not NUL-terminated). */
void ipam_sql_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
			 size_t n);
void ipam_sql_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			size_t n);
int ipam_sql_bind_count(struct ipam_sql_stmt *st);

/* IPAM_SQL_ROW, IPAM_SQL_DONE, or an error (set, naming "query on"). */
int ipam_sql_step(struct ipam_sql_stmt *st);
/* Step a statement that returns no rows, then finalize it; what names it
 * in the error. */
int ipam_sql_step_done(struct ipam_sql_stmt *st, const char *what);

int ipam_sql_column_count(struct ipam_sql_stmt *st);
const char *ipam_sql_column_name(struct ipam_sql_stmt *st, int col);
enum ipam_sql_type ipam_sql_column_type(struct ipam_sql_stmt *st, int col);
long long ipam_sql_column_int64(struct ipam_sql_stmt *st, int col);
double ipam_sql_column_double(struct ipam_sql_stmt *st, int col);
/* NULL when the value is NULL. */
const char *ipam_sql_column_text(struct ipam_sql_stmt *st, int col);
/* malloc'd copy of the text, NULL when NULL. */
char *ipam_sql_column_dup(struct ipam_sql_stmt *st, int col);
const void *ipam_sql_column_blob(struct ipam_sql_stmt *st, int col);
size_t ipam_sql_column_bytes(struct ipam_sql_stmt *st, int col);

/* Rows the last INSERT, UPDATE or DELETE of c changed. */
long long ipam_sql_changes(struct ipam_sql *c);
/* The id the last INSERT into a table with an id column gave. */
long long ipam_sql_last_insert_id(struct ipam_sql *c);

#endif
