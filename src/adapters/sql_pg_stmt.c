#include "sql.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sql_internal.h"
#include "sql_pg_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * The PostgreSQL driver's statements.  A statement runs on the server
 * when it is first stepped (PQexecPrepared of the connection's prepared
 * statement) and its whole result comes back at once (a PGresult): each
 * statement owns its result, so another statement of the connection can
 * run while one is being iterated.  A scan (ipam_sql_prepare_scan) is
 * for results too large for that: it declares a cursor (WITH HOLD, so
 * that it survives the caller's COMMIT) and fetches its rows in chunks
 * of about CHUNK_BYTES, which bounds the memory whatever the size.
 */

enum {
	STMT_READY, /* runs at the next step */
	STMT_ROWS,  /* res holds rows */
	STMT_DONE,  /* stepped to the end: the next step runs it again */
};

#define CHUNK_FIRST 64
#define CHUNK_MIN   16
#define CHUNK_MAX   8192
#define CHUNK_BYTES (1024 * 1024)

static struct ipam_sql_pg_stmt *S(struct ipam_sql_stmt *st)
{
	return st->pg;
}

static int prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
		   const char *sql, int scan)
{
	struct ipam_sql_pg_prep *p;
	struct ipam_sql_pg_stmt *s;
	struct ipam_sql_stmt *st;
	int err;

	*out = NULL;
	err = ipam_sql_pg_prep_get(c, ipam_sql_pg_rewrite(sql), &p);
	if (err)
		return err;
	s = xcalloc(1, sizeof(*s));
	s->prep = p;
	s->scan = scan;
	s->chunk = CHUNK_FIRST;
	s->nparams = PQnparams(p->desc);
	s->params = xcalloc((size_t)s->nparams + 1, sizeof(*s->params));
	s->ncols = PQnfields(p->desc);
	st = xcalloc(1, sizeof(*st));
	st->c = c;
	st->pg = s;
	*out = st;
	return 0;
}

int ipam_sql_pg_prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
			const char *sql)
{
	return prepare(c, out, sql, 0);
}

int ipam_sql_pg_prepare_scan(struct ipam_sql *c, struct ipam_sql_stmt **out,
			     const char *sql)
{
	return prepare(c, out, sql, 1);
}

/* ---- cursors ---------------------------------------------------------- */

static void close_cursor(struct ipam_sql_stmt *st)
{
	struct ipam_sql_pg_stmt *s = S(st);
	PGconn *conn = ipam_sql_pg_conn(st->c);
	PGTransactionStatusType ts;
	char cmd[64];
	PGresult *r;

	if (!s->cursor_open)
		return;
	s->cursor_open = 0;
	if (!conn)
		return;
	ts = PQtransactionStatus(conn);
	/* In an aborted transaction nothing runs: the cursor goes with the
	 * ROLLBACK if it was declared in it, with the session otherwise. */
	if (ts == PQTRANS_INERROR)
		return;
	if (ts == PQTRANS_INTRANS) {
		/* A ROLLBACK since the DECLARE may have closed it, and a
		 * CLOSE of nothing would abort the caller's transaction. */
		const char *name = s->cursor;

		r = PQexecParams(conn,
				 "SELECT 1 FROM pg_catalog.pg_cursors "
				 "WHERE name = $1",
				 1, NULL, &name, NULL, NULL, 0);
		ts = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
			     ? PQTRANS_IDLE
			     : PQTRANS_INERROR;
		PQclear(r);
		if (ts != PQTRANS_IDLE)
			return;
	}
	snprintf(cmd, sizeof(cmd), "CLOSE %s", s->cursor);
	r = PQexec(conn, cmd);
	PQclear(r);
}

/* Chunks of about CHUNK_BYTES: rows may be a few bytes or large blobs. */
static void adapt_chunk(struct ipam_sql_pg_stmt *s)
{
	size_t bytes = 0;

	for (int i = 0; i < s->nrows; i++)
		for (int j = 0; j < s->ncols; j++)
			bytes += (size_t)PQgetlength(s->res, i, j) + 8;
	if (bytes < CHUNK_BYTES / 4 && s->chunk < CHUNK_MAX)
		s->chunk *= 2;
	else if (bytes > CHUNK_BYTES * 2 && s->chunk > CHUNK_MIN)
		s->chunk /= 2;
}

static int fetch(struct ipam_sql_stmt *st)
{
	struct ipam_sql_pg_stmt *s = S(st);
	char cmd[80];
	PGresult *r;

	snprintf(cmd, sizeof(cmd), "FETCH FORWARD %d FROM %s", s->chunk,
		 s->cursor);
	r = PQexecParams(st->c->pg->conn, cmd, 0, NULL, NULL, NULL, NULL,
			 s->prep->binary);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int err = ipam_sql_pg_fail(st->c, r, "query failed on");

		PQclear(r);
		return err;
	}
	PQclear(s->res);
	s->res = r;
	s->nrows = PQntuples(r);
	s->row = -1;
	if (s->nrows < s->chunk) {
		s->cursor_end = 1;
		close_cursor(st);
	} else {
		adapt_chunk(s);
	}
	return 0;
}

/* ---- running ---------------------------------------------------------- */

static int execute(struct ipam_sql_stmt *st)
{
	struct ipam_sql_pg_stmt *s = S(st);
	struct ipam_sql *c = st->c;
	int n = s->nparams, err = 0;
	const char **values = xcalloc((size_t)n + 1, sizeof(*values));
	int *lengths = xcalloc((size_t)n + 1, sizeof(*lengths));
	int *formats = xcalloc((size_t)n + 1, sizeof(*formats));
	Oid *types = xcalloc((size_t)n + 1, sizeof(*types));
	PGresult *r;

	for (int i = 0; i < n; i++) {
		values[i] = s->params[i].value;
		lengths[i] = s->params[i].length;
		formats[i] = s->params[i].format;
		types[i] = PQparamtype(s->prep->desc, i);
	}
	PQclear(s->res);
	s->res = NULL;
	s->nrows = 0;
	s->row = -1;
	if (!s->scan) {
		r = PQexecPrepared(c->pg->conn, s->prep->name, n, values,
				   lengths, formats, s->prep->binary);
	} else {
		/* The cursor's name is new each time: one that could not
		 * be closed never collides.  The values travel apart from
		 * the text, as for a prepared statement. */
		char *text;

		close_cursor(st);
		snprintf(s->cursor, sizeof(s->cursor), "ipam_c%lu",
			 ++c->pg->counter);
		text = xasprintf("DECLARE %s NO SCROLL CURSOR WITH HOLD FOR %s",
				 s->cursor, s->prep->sql);
		r = PQexecParams(c->pg->conn, text, n, types, values, lengths,
				 formats, 0);
		free(text);
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK) {
		err = ipam_sql_pg_fail(c, r, "query failed on");
		PQclear(r);
	} else if (!s->scan) {
		ipam_sql_pg_count_changes(c, r);
		s->res = r;
		s->nrows = PQntuples(r);
	} else {
		PQclear(r);
		s->cursor_open = 1;
		s->cursor_end = 0;
		err = fetch(st);
	}
	free(values);
	free(lengths);
	free(formats);
	free(types);
	return err;
}

int ipam_sql_pg_step(struct ipam_sql_stmt *st)
{
	struct ipam_sql_pg_stmt *s = S(st);
	int err = ipam_sql_pg_check(st->c, "query failed on");

	if (err)
		return err;
	if (s->state != STMT_ROWS) {
		err = execute(st);
		if (err) {
			s->state = STMT_READY;
			return err;
		}
		s->state = STMT_ROWS;
	}
	if (++s->row < s->nrows)
		return IPAM_SQL_ROW;
	if (s->scan && !s->cursor_end) {
		err = fetch(st);
		if (err) {
			s->state = STMT_READY;
			return err;
		}
		if (++s->row < s->nrows)
			return IPAM_SQL_ROW;
	}
	close_cursor(st);
	PQclear(s->res);
	s->res = NULL;
	s->nrows = 0;
	s->state = STMT_DONE;
	return IPAM_SQL_DONE;
}

void ipam_sql_pg_reset(struct ipam_sql_stmt *st)
{
	struct ipam_sql_pg_stmt *s = S(st);

	close_cursor(st);
	PQclear(s->res);
	s->res = NULL;
	s->nrows = 0;
	s->row = -1;
	s->state = STMT_READY;
}

void ipam_sql_pg_finalize(struct ipam_sql_stmt *st)
{
	struct ipam_sql_pg_stmt *s = S(st);

	ipam_sql_pg_reset(st);
	ipam_sql_pg_prep_put(st->c, s->prep);
	for (int i = 0; i < s->nparams; i++)
		free(s->params[i].value);
	free(s->params);
	if (s->scratch)
		for (int i = 0; i < s->ncols; i++)
			strbuf_release(&s->scratch[i]);
	free(s->scratch);
	free(s);
	free(st);
}

/* ---- bindings --------------------------------------------------------- */

static void set_param(struct ipam_sql_stmt *st, int i, char *v, size_t n,
		      int format)
{
	struct ipam_sql_pg_stmt *s = S(st);
	struct ipam_sql_pg_param *p;

	if (i < 1 || i > s->nparams) {
		free(v);
		return;
	}
	p = &s->params[i - 1];
	free(p->value);
	p->value = v;
	p->length = (int)n;
	p->format = format;
}

static int param_is_bytea(struct ipam_sql_stmt *st, int i)
{
	return i >= 1 && i <= S(st)->nparams &&
	       PQparamtype(S(st)->prep->desc, i - 1) == IPAM_SQL_PG_BYTEA;
}

void ipam_sql_pg_bind_int64(struct ipam_sql_stmt *st, int i, long long v)
{
	char *t = xasprintf("%lld", v);

	set_param(st, i, t, strlen(t), 0);
}

void ipam_sql_pg_bind_double(struct ipam_sql_stmt *st, int i, double v)
{
	char *t;

	if (isnan(v))
		t = xstrdup("NaN");
	else if (isinf(v))
		t = xstrdup(v > 0 ? "Infinity" : "-Infinity");
	else
		t = xasprintf("%.17g", v);
	set_param(st, i, t, strlen(t), 0);
}

void ipam_sql_pg_bind_null(struct ipam_sql_stmt *st, int i)
{
	set_param(st, i, NULL, 0, 0);
}

void ipam_sql_pg_bind_text(struct ipam_sql_stmt *st, int i, const char *v)
{
	if (!v)
		ipam_sql_pg_bind_null(st, i);
	else
		ipam_sql_pg_bind_textn(st, i, v, strlen(v));
}

void ipam_sql_pg_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
			    size_t n)
{
	char *t = xmalloc(n + 1);

	memcpy(t, v, n);
	t[n] = '\0';
	/* Text for a bytea parameter: its bytes, not its escapes. */
	set_param(st, i, t, n, param_is_bytea(st, i));
}

void ipam_sql_pg_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			   size_t n)
{
	char *t = xmalloc(n + 1);

	if (n)
		memcpy(t, v, n);
	t[n] = '\0';
	set_param(st, i, t, n, 1);
}

int ipam_sql_pg_bind_count(struct ipam_sql_stmt *st)
{
	return S(st)->nparams;
}

/* ---- columns ---------------------------------------------------------- */

int ipam_sql_pg_column_count(struct ipam_sql_stmt *st)
{
	return S(st)->ncols;
}

const char *ipam_sql_pg_column_name(struct ipam_sql_stmt *st, int col)
{
	if (col < 0 || col >= S(st)->ncols)
		return NULL;
	return PQfname(S(st)->prep->desc, col);
}

/* The value at col of the current row, NULL when there is none or it is
 * NULL; *n its length in the result's format. */
static const char *value(struct ipam_sql_stmt *st, int col, size_t *n)
{
	struct ipam_sql_pg_stmt *s = S(st);

	*n = 0;
	if (!s->res || s->row < 0 || s->row >= s->nrows || col < 0 ||
	    col >= s->ncols || PQgetisnull(s->res, s->row, col))
		return NULL;
	*n = (size_t)PQgetlength(s->res, s->row, col);
	return PQgetvalue(s->res, s->row, col);
}

static Oid col_type(struct ipam_sql_stmt *st, int col)
{
	return PQftype(S(st)->prep->desc, col);
}

static int numeric_integral(const char *v)
{
	return !strpbrk(v, ".eEN");
}

enum ipam_sql_type ipam_sql_pg_column_type(struct ipam_sql_stmt *st, int col)
{
	size_t n;

	if (!value(st, col, &n))
		return IPAM_SQL_NULL;
	switch (col_type(st, col)) {
	case IPAM_SQL_PG_BOOL:
	case IPAM_SQL_PG_INT2:
	case IPAM_SQL_PG_INT4:
	case IPAM_SQL_PG_INT8:
	case IPAM_SQL_PG_OID:
		return IPAM_SQL_INTEGER;
	case IPAM_SQL_PG_FLOAT4:
	case IPAM_SQL_PG_FLOAT8:
		return IPAM_SQL_FLOAT;
	case IPAM_SQL_PG_NUMERIC:
		/* sum() of integers is numeric: whole ones read as SQLite's */
		return numeric_integral(value(st, col, &n)) ? IPAM_SQL_INTEGER
							    : IPAM_SQL_FLOAT;
	case IPAM_SQL_PG_BYTEA:
		return IPAM_SQL_BLOB;
	default:
		return IPAM_SQL_TEXT;
	}
}

static uint64_t be(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | u[i];
	return v;
}

/* A binary-format number (the types wants_binary admits); *is_float. */
static int binary_number(Oid t, const char *v, size_t n, long long *i,
			 double *d)
{
	uint64_t u = be(v, n);

	switch (t) {
	case IPAM_SQL_PG_BOOL:
		*i = v[0] != 0;
		return 0;
	case IPAM_SQL_PG_INT2:
		*i = (int16_t)u;
		return 0;
	case IPAM_SQL_PG_INT4:
		*i = (int32_t)u;
		return 0;
	case IPAM_SQL_PG_INT8:
		*i = (long long)u;
		return 0;
	case IPAM_SQL_PG_OID:
		*i = (long long)(uint32_t)u;
		return 0;
	case IPAM_SQL_PG_FLOAT4: {
		uint32_t w = (uint32_t)u;
		float f;

		memcpy(&f, &w, sizeof(f));
		*d = f;
		return 1;
	}
	case IPAM_SQL_PG_FLOAT8:
		memcpy(d, &u, sizeof(*d));
		return 1;
	default:
		return -1;
	}
}

long long ipam_sql_pg_column_int64(struct ipam_sql_stmt *st, int col)
{
	Oid t = col_type(st, col);
	size_t n;
	const char *v = value(st, col, &n);
	long long i = 0;
	double d = 0;

	if (!v)
		return 0;
	if (S(st)->prep->binary) {
		int k = binary_number(t, v, n, &i, &d);

		if (k >= 0)
			return k ? (long long)d : i;
		return strtoll(v, NULL, 10);
	}
	if (t == IPAM_SQL_PG_BOOL)
		return v[0] == 't';
	if (t == IPAM_SQL_PG_FLOAT4 || t == IPAM_SQL_PG_FLOAT8 ||
	    (t == IPAM_SQL_PG_NUMERIC && !numeric_integral(v)))
		return (long long)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

double ipam_sql_pg_column_double(struct ipam_sql_stmt *st, int col)
{
	Oid t = col_type(st, col);
	size_t n;
	const char *v = value(st, col, &n);
	long long i = 0;
	double d = 0;

	if (!v)
		return 0.0;
	if (S(st)->prep->binary) {
		int k = binary_number(t, v, n, &i, &d);

		if (k >= 0)
			return k ? d : (double)i;
		return strtod(v, NULL);
	}
	if (t == IPAM_SQL_PG_BOOL)
		return v[0] == 't';
	return strtod(v, NULL);
}

static struct strbuf *scratch(struct ipam_sql_stmt *st, int col)
{
	struct ipam_sql_pg_stmt *s = S(st);

	if (!s->scratch) {
		s->scratch = xcalloc((size_t)s->ncols, sizeof(*s->scratch));
		for (int i = 0; i < s->ncols; i++)
			strbuf_init(&s->scratch[i]);
	}
	strbuf_reset(&s->scratch[col]);
	return &s->scratch[col];
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A bytea in text format ("\x0a1b..." or the old escape format) as its
 * bytes, in the column's scratch buffer. */
static const char *bytea_text(struct ipam_sql_stmt *st, int col, const char *v,
			      size_t *n)
{
	struct strbuf *sb = scratch(st, col);

	if (v[0] == '\\' && v[1] == 'x') {
		strbuf_grow(sb, *n / 2);
		for (const char *p = v + 2; p[0] && p[1]; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);

			if (hi < 0 || lo < 0)
				break;
			strbuf_addch(sb, hi << 4 | lo);
		}
	} else {
		size_t len = 0;
		unsigned char *u =
			PQunescapeBytea((const unsigned char *)v, &len);

		if (u)
			strbuf_add(sb, u, len);
		PQfreemem(u);
	}
	*n = sb->len;
	return sb->buf;
}

/* The column's value as text or bytes: *n its length. */
static const char *column_bytes(struct ipam_sql_stmt *st, int col, size_t *n)
{
	Oid t = col_type(st, col);
	const char *v = value(st, col, n);
	long long i = 0;
	double d = 0;
	int k;

	if (!v)
		return NULL;
	if (!S(st)->prep->binary) {
		if (t == IPAM_SQL_PG_BYTEA)
			return bytea_text(st, col, v, n);
		if (t == IPAM_SQL_PG_BOOL) {
			*n = 1;
			return v[0] == 't' ? "1" : "0";
		}
		return v;
	}
	k = binary_number(t, v, *n, &i, &d);
	if (k < 0)
		return v;
	{
		struct strbuf *sb = scratch(st, col);

		if (k)
			strbuf_addf(sb, "%.17g", d);
		else
			strbuf_addf(sb, "%lld", i);
		*n = sb->len;
		return sb->buf;
	}
}

const char *ipam_sql_pg_column_text(struct ipam_sql_stmt *st, int col)
{
	size_t n;

	return column_bytes(st, col, &n);
}

const void *ipam_sql_pg_column_blob(struct ipam_sql_stmt *st, int col)
{
	size_t n;

	return column_bytes(st, col, &n);
}

size_t ipam_sql_pg_column_bytes(struct ipam_sql_stmt *st, int col)
{
	size_t n = 0;

	column_bytes(st, col, &n);
	return n;
}
