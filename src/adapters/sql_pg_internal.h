/*
 * The PostgreSQL driver's own state, shared by its files: the connection
 * (sql_pg.c), the statements (sql_pg_stmt.c) and the URI rules
 * (sql_pg_uri.c).  Private to src/adapters/sql_pg*.c.
 * Prefixes: ipam_sql_pg_
 */
#ifndef IPAM_SQL_PG_INTERNAL_H
#define IPAM_SQL_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>

#include "sql_internal.h"
#include "strbuf.h"

/* The type OIDs the driver reads (the server's pg_type, fixed ones). */
enum {
	IPAM_SQL_PG_BOOL = 16,
	IPAM_SQL_PG_BYTEA = 17,
	IPAM_SQL_PG_NAME = 19,
	IPAM_SQL_PG_INT8 = 20,
	IPAM_SQL_PG_INT2 = 21,
	IPAM_SQL_PG_INT4 = 23,
	IPAM_SQL_PG_TEXT = 25,
	IPAM_SQL_PG_OID = 26,
	IPAM_SQL_PG_FLOAT4 = 700,
	IPAM_SQL_PG_FLOAT8 = 701,
	IPAM_SQL_PG_BPCHAR = 1042,
	IPAM_SQL_PG_VARCHAR = 1043,
	IPAM_SQL_PG_NUMERIC = 1700,
};

/*
 * A statement prepared on the server (PQprepare), shared by every
 * ipam_sql_stmt of the connection with the same SQL text and kept after
 * they are finalized, so that a statement run once per row is parsed
 * once per connection.  desc is the server's description of it
 * (parameter and column types, column names).
 */
struct ipam_sql_pg_prep {
	char *sql; /* the text sent, "$N" and all */
	unsigned long hash;
	char name[32];
	PGresult *desc;
	int refs;	    /* statements using it */
	int stale;	    /* not handed out again (schema may have changed) */
	int binary;	    /* results in binary format (see sql_pg_stmt.c) */
	unsigned long used; /* for eviction, least recently used first */
};

struct ipam_sql_pg {
	PGconn *conn;
	int lost;	  /* the connection broke: every call fails */
	int had_password; /* open_again cannot make a second one */
	struct strbuf err;
	long long changes;
	int lastval_ok; /* lastval() answered once: it cannot fail again */
	unsigned long counter;
	struct ipam_sql_pg_prep **preps;
	size_t nr_preps, alloc_preps;
};

/* Bindings, kept across resets, in libpq's form. */
struct ipam_sql_pg_param {
	char *value; /* NULL: SQL NULL */
	int length;
	int format; /* 0 text, 1 binary (blobs) */
};

struct ipam_sql_pg_stmt {
	struct ipam_sql_pg_prep *prep;
	int nparams;
	struct ipam_sql_pg_param *params;
	int scan; /* a cursor fetched in chunks (ipam_sql_prepare_scan) */
	char cursor[32];
	int cursor_open;
	int cursor_end; /* the last chunk was fetched */
	int chunk;	/* rows per FETCH */
	PGresult *res;
	int row, nrows;
	int state;		/* STMT_* in sql_pg_stmt.c */
	struct strbuf *scratch; /* per column: converted values */
	int ncols;
};

/* ipam_sql_check_uri's rules; *local says whether every host is a Unix
 * socket or loopback. */
int ipam_sql_pg_uri_rules(const char *uri, int *local);
/* The connection's libpq handle; NULL once lost. */
PGconn *ipam_sql_pg_conn(struct ipam_sql *c);
/* The last error from r (or the connection), as errmsg gives it; marks
 * the connection lost when it is. */
void ipam_sql_pg_note_error(struct ipam_sql *c, const PGresult *r);
/* ipam_sql_pg_note_error, then the last error "<what> '<name>': ...". */
int ipam_sql_pg_fail(struct ipam_sql *c, const PGresult *r, const char *what);
/* 0, or the error of a connection lost earlier. */
int ipam_sql_pg_check(struct ipam_sql *c, const char *what);
/* Count r's rows as changes when it is an INSERT, UPDATE, DELETE, MERGE. */
void ipam_sql_pg_count_changes(struct ipam_sql *c, PGresult *r);
/* The SQL text as the server reads it: "?N" -> "$N", IPAM_SQL_NOW. */
char *ipam_sql_pg_rewrite(const char *sql);
/* The prepared statement for sql (malloc'd by ipam_sql_pg_rewrite):
 * from the connection's cache, or prepared and described now. */
int ipam_sql_pg_prep_get(struct ipam_sql *c, char *sql,
			 struct ipam_sql_pg_prep **out);
/* Every cached statement is prepared anew when next asked for. */
void ipam_sql_pg_forget_preps(struct ipam_sql *c);
void ipam_sql_pg_prep_put(struct ipam_sql *c, struct ipam_sql_pg_prep *p);

#endif
