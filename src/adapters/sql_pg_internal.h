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
	Oid *types; /* of the bindings it was asked for (0: any) */
	int ntypes;
	PGresult *desc;
	int refs;	    /* statements using it */
	int stale;	    /* not handed out again (schema may have changed) */
	int binary;	    /* results in binary format (see sql_pg_stmt.c) */
	unsigned long used; /* for eviction, least recently used first */
};

struct ipam_sql_pg {
	PGconn *conn;
	int lost;    /* the connection broke: every call fails */
	int defer;   /* ipam_sql_defer: writes go without waiting */
	int queued;  /* deferred statements not yet answered */
	int pending; /* a deferred one failed: the next call fails */
	struct strbuf pending_msg;
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
	Oid type;   /* int8, float8, bytea; 0: the server infers it */
};

struct ipam_sql_pg_stmt {
	char *sql;		       /* as the server reads it */
	struct ipam_sql_pg_prep *prep; /* NULL until the first step */
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
/* Read the answers of the deferred statements: 0, or -1 with the first
 * error noted. */
int ipam_sql_pg_sync(struct ipam_sql *c);
/* ipam_sql_pg_sync for a call that cannot fail: its error is the next
 * fallible call's (ipam_sql_pg_check). */
void ipam_sql_pg_sync_later(struct ipam_sql *c);
/* Send a prepared statement without waiting for its answer. */
int ipam_sql_pg_defer_send(struct ipam_sql *c, const char *name, int n,
			   const char *const *values, const int *lengths,
			   const int *formats);
/* The connection's libpq handle; NULL once lost. */
PGconn *ipam_sql_pg_conn(struct ipam_sql *c);
/* The last error from r (or the connection), as errmsg gives it; marks
 * the connection lost when it is. */
void ipam_sql_pg_note_error(struct ipam_sql *c, const PGresult *r);
/* ipam_sql_pg_note_error, then the last error "<what> '<name>': ...". */
int ipam_sql_pg_fail(struct ipam_sql *c, const PGresult *r, const char *what);
/* 0, or the error of a connection lost earlier, or of a deferred
 * statement that an earlier call could not return. */
int ipam_sql_pg_check(struct ipam_sql *c, const char *what);
/* Count r's rows as changes when it is an INSERT, UPDATE, DELETE, MERGE. */
void ipam_sql_pg_count_changes(struct ipam_sql *c, PGresult *r);
/* The SQL text as the server reads it: "?N" -> "$N", IPAM_SQL_NOW;
 * *nparams the highest N. */
char *ipam_sql_pg_rewrite(const char *sql, int *nparams);
/* The statement prepared for sql with parameters of types (n of them):
 * from the connection's cache, or prepared and described now. */
int ipam_sql_pg_prep_get(struct ipam_sql *c, const char *sql, const Oid *types,
			 int n, struct ipam_sql_pg_prep **out);
/* Every cached statement is prepared anew when next asked for. */
void ipam_sql_pg_forget_preps(struct ipam_sql *c);
void ipam_sql_pg_prep_put(struct ipam_sql *c, struct ipam_sql_pg_prep *p);

#endif
