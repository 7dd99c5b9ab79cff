/*
 * What the two drivers behind sql.h share with its dispatch (sql.c).
 * Private to src/adapters/sql*.c.
 * Prefixes: ipam_sql_sqlite_, ipam_sql_pg_
 */
#ifndef IPAM_SQL_INTERNAL_H
#define IPAM_SQL_INTERNAL_H

#include <stddef.h>

#include "sql.h"

struct sqlite3;
struct sqlite3_stmt;
struct ipam_sql_pg;
struct ipam_sql_pg_stmt;

struct ipam_sql {
	enum ipam_sql_kind kind;
	char *name; /* the file, or the URI without a password */
	struct sqlite3 *sqlite;
	struct ipam_sql_pg *pg;
};

struct ipam_sql_stmt {
	struct ipam_sql *c;
	struct sqlite3_stmt *sqlite;
	struct ipam_sql_pg_stmt *pg;
};

/* Each driver's half of sql.h, called by sql.c by the connection's kind. */
const char *ipam_sql_sqlite_errmsg(struct ipam_sql *c);
int ipam_sql_sqlite_again(struct ipam_sql **out, struct ipam_sql *c);
void ipam_sql_sqlite_close(struct ipam_sql *c);
int ipam_sql_sqlite_exec(struct ipam_sql *c, const char *sql);
int ipam_sql_sqlite_in_transaction(struct ipam_sql *c);
long long ipam_sql_sqlite_changes(struct ipam_sql *c);
long long ipam_sql_sqlite_last_insert_id(struct ipam_sql *c);
int ipam_sql_sqlite_prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
			    const char *sql);
void ipam_sql_sqlite_finalize(struct ipam_sql_stmt *st);
void ipam_sql_sqlite_reset(struct ipam_sql_stmt *st);
void ipam_sql_sqlite_bind_int64(struct ipam_sql_stmt *st, int i, long long v);
void ipam_sql_sqlite_bind_double(struct ipam_sql_stmt *st, int i, double v);
void ipam_sql_sqlite_bind_null(struct ipam_sql_stmt *st, int i);
void ipam_sql_sqlite_bind_text(struct ipam_sql_stmt *st, int i, const char *v);
void ipam_sql_sqlite_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
				size_t n);
void ipam_sql_sqlite_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			       size_t n);
int ipam_sql_sqlite_bind_count(struct ipam_sql_stmt *st);
int ipam_sql_sqlite_step(struct ipam_sql_stmt *st);
int ipam_sql_sqlite_column_count(struct ipam_sql_stmt *st);
const char *ipam_sql_sqlite_column_name(struct ipam_sql_stmt *st, int col);
enum ipam_sql_type ipam_sql_sqlite_column_type(struct ipam_sql_stmt *st,
					       int col);
long long ipam_sql_sqlite_column_int64(struct ipam_sql_stmt *st, int col);
double ipam_sql_sqlite_column_double(struct ipam_sql_stmt *st, int col);
const char *ipam_sql_sqlite_column_text(struct ipam_sql_stmt *st, int col);
const void *ipam_sql_sqlite_column_blob(struct ipam_sql_stmt *st, int col);
size_t ipam_sql_sqlite_column_bytes(struct ipam_sql_stmt *st, int col);

const char *ipam_sql_pg_errmsg(struct ipam_sql *c);
int ipam_sql_pg_again(struct ipam_sql **out, struct ipam_sql *c);
void ipam_sql_pg_close(struct ipam_sql *c);
int ipam_sql_pg_exec(struct ipam_sql *c, const char *sql);
int ipam_sql_pg_in_transaction(struct ipam_sql *c);
long long ipam_sql_pg_changes(struct ipam_sql *c);
long long ipam_sql_pg_last_insert_id(struct ipam_sql *c);
int ipam_sql_pg_prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
			const char *sql);
int ipam_sql_pg_prepare_scan(struct ipam_sql *c, struct ipam_sql_stmt **out,
			     const char *sql);
void ipam_sql_pg_finalize(struct ipam_sql_stmt *st);
void ipam_sql_pg_reset(struct ipam_sql_stmt *st);
void ipam_sql_pg_bind_int64(struct ipam_sql_stmt *st, int i, long long v);
void ipam_sql_pg_bind_double(struct ipam_sql_stmt *st, int i, double v);
void ipam_sql_pg_bind_null(struct ipam_sql_stmt *st, int i);
void ipam_sql_pg_bind_text(struct ipam_sql_stmt *st, int i, const char *v);
void ipam_sql_pg_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
			    size_t n);
void ipam_sql_pg_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			   size_t n);
int ipam_sql_pg_bind_count(struct ipam_sql_stmt *st);
int ipam_sql_pg_step(struct ipam_sql_stmt *st);
int ipam_sql_pg_column_count(struct ipam_sql_stmt *st);
const char *ipam_sql_pg_column_name(struct ipam_sql_stmt *st, int col);
enum ipam_sql_type ipam_sql_pg_column_type(struct ipam_sql_stmt *st, int col);
long long ipam_sql_pg_column_int64(struct ipam_sql_stmt *st, int col);
double ipam_sql_pg_column_double(struct ipam_sql_stmt *st, int col);
const char *ipam_sql_pg_column_text(struct ipam_sql_stmt *st, int col);
const void *ipam_sql_pg_column_blob(struct ipam_sql_stmt *st, int col);
size_t ipam_sql_pg_column_bytes(struct ipam_sql_stmt *st, int col);

#endif
