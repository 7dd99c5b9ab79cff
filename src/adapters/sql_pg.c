#include "sql.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sql_internal.h"
#include "sql_pg_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * The PostgreSQL driver (libpq): the connection, its errors, plain SQL,
 * and the cache of statements prepared on the server.  The statements
 * themselves are in sql_pg_stmt.c, the URI rules in sql_pg_uri.c.
 *
 * Every statement with parameters is prepared (PQprepare) once per
 * connection and SQL text, then run with PQexecPrepared; the values never
 * enter the SQL text.  Only ipam_sql_exec's text without parameters (DDL,
 * BEGIN, ...) and the cursor commands of a scan go as plain commands.
 */

/* Prepared statements kept per connection beyond the ones in use. */
#define PREP_CACHE_MAX 256

/* IPAM_SQL_NOW as PostgreSQL reads it: the transaction's time, in UTC. */
static const char pg_now[] =
	"to_char(now() AT TIME ZONE 'UTC','YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

PGconn *ipam_sql_pg_conn(struct ipam_sql *c)
{
	return c->pg->lost ? NULL : c->pg->conn;
}

const char *ipam_sql_pg_errmsg(struct ipam_sql *c)
{
	return c->pg ? c->pg->err.buf : NULL;
}

/* libpq's message on one line: "ERROR:  " and the newlines dropped. */
static void add_message(struct strbuf *sb, const char *m)
{
	size_t start = sb->len;

	if (!m)
		return;
	if (!strncmp(m, "ERROR:  ", 8) || !strncmp(m, "FATAL:  ", 8))
		m += 8;
	for (; *m; m++) {
		if (*m == '\n') {
			if (m[1])
				strbuf_addstr(sb, "; ");
		} else {
			strbuf_addch(sb, *m);
		}
	}
	while (sb->len > start && isspace((unsigned char)sb->buf[sb->len - 1]))
		sb->buf[--sb->len] = '\0';
}

void ipam_sql_pg_note_error(struct ipam_sql *c, const PGresult *r)
{
	struct ipam_sql_pg *pg = c->pg;
	const char *primary =
		r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail =
		r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;

	strbuf_reset(&pg->err);
	/* "cached plan must not change result type": the schema changed
	 * under the prepared statements (DDL from another session). */
	if (r && PQresultErrorField(r, PG_DIAG_SQLSTATE) &&
	    !strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "0A000"))
		ipam_sql_pg_forget_preps(c);
	if (!pg->lost && PQstatus(pg->conn) == CONNECTION_BAD) {
		pg->lost = 1;
		strbuf_addstr(&pg->err, "the connection to the server was "
					"lost: ");
	}
	if (primary) {
		add_message(&pg->err, primary);
		if (detail) {
			strbuf_addstr(&pg->err, " (");
			add_message(&pg->err, detail);
			strbuf_addch(&pg->err, ')');
		}
	} else if (r && *PQresultErrorMessage(r)) {
		add_message(&pg->err, PQresultErrorMessage(r));
	} else {
		add_message(&pg->err, PQerrorMessage(pg->conn));
	}
	if (!pg->err.len)
		strbuf_addstr(&pg->err, "error");
}

int ipam_sql_pg_fail(struct ipam_sql *c, const PGresult *r, const char *what)
{
	ipam_sql_pg_note_error(c, r);
	return ipam_sql_error(c, IPAM_EDB, what);
}

int ipam_sql_pg_check(struct ipam_sql *c, const char *what)
{
	if (!c->pg->lost)
		return 0;
	strbuf_reset(&c->pg->err);
	strbuf_addstr(&c->pg->err, "the connection to the server was lost "
				   "earlier (ipamctl does not reconnect)");
	return ipam_sql_error(c, IPAM_EDB, what);
}

int ipam_sql_lost(const struct ipam_sql *c)
{
	return c->kind == IPAM_SQL_POSTGRES && c->pg->lost;
}

/* ---- open, close ------------------------------------------------------ */

/* The server's notices (NOTICE, WARNING): a library does not print. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int ipam_sql_open_postgres(struct ipam_sql **out, const char *uri,
			   const char *password)
{
	const char *keys[8], *vals[8];
	struct ipam_sql *c;
	int n = 0, local = 0, err;
	char *pass;

	*out = NULL;
	err = ipam_sql_pg_uri_rules(uri, &local);
	if (err)
		return err;
	/* Defaults first: the URI's own parameters override them. */
	if (!local) {
		keys[n] = "sslmode";
		vals[n++] = "verify-full";
	}
	keys[n] = "application_name";
	vals[n++] = "ipamctl";
	keys[n] = "connect_timeout";
	vals[n++] = "10";
	keys[n] = "dbname";
	vals[n++] = uri;
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	if (password) {
		keys[n] = "password";
		vals[n++] = password;
	}
	keys[n] = NULL;
	vals[n] = NULL;

	c = xcalloc(1, sizeof(*c));
	c->kind = IPAM_SQL_POSTGRES;
	c->name = xstrdup(uri);
	c->pg = xcalloc(1, sizeof(*c->pg));
	strbuf_init(&c->pg->err);
	c->pg->had_password = password != NULL;
	c->pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!c->pg->conn) {
		ipam_sql_close(c);
		return ipam_error_set(IPAM_ENOMEM, "cannot connect to "
						   "PostgreSQL: out of memory");
	}
	/* libpq keeps the password it was given; it needs it no more. */
	pass = PQpass(c->pg->conn);
	if (pass)
		explicit_bzero(pass, strlen(pass));
	PQsetNoticeProcessor(c->pg->conn, ignore_notice, NULL);
	if (PQstatus(c->pg->conn) != CONNECTION_OK) {
		strbuf_reset(&c->pg->err);
		add_message(&c->pg->err, PQerrorMessage(c->pg->conn));
		err = ipam_sql_error(c, IPAM_EDB,
				     "cannot connect to the state "
				     "database");
		ipam_sql_close(c);
		return err;
	}
	*out = c;
	return 0;
}

int ipam_sql_pg_again(struct ipam_sql **out, struct ipam_sql *c)
{
	*out = NULL;
	if (c->pg->had_password)
		return ipam_error_set(IPAM_EINVAL,
				      "a second connection to '%s' needs the "
				      "password again (ipamctl does not keep "
				      "it)",
				      c->name);
	return ipam_sql_open_postgres(out, c->name, NULL);
}

void ipam_sql_pg_close(struct ipam_sql *c)
{
	struct ipam_sql_pg *pg = c->pg;

	if (!pg)
		return;
	for (size_t i = 0; i < pg->nr_preps; i++) {
		PQclear(pg->preps[i]->desc);
		free(pg->preps[i]->sql);
		free(pg->preps[i]);
	}
	free(pg->preps);
	if (pg->conn)
		PQfinish(pg->conn);
	strbuf_release(&pg->err);
	free(pg);
	c->pg = NULL;
}

/* ---- plain SQL, transactions ------------------------------------------ */

void ipam_sql_pg_count_changes(struct ipam_sql *c, PGresult *r)
{
	const char *s = PQcmdStatus(r);

	if (!strncmp(s, "INSERT ", 7) || !strncmp(s, "UPDATE ", 7) ||
	    !strncmp(s, "DELETE ", 7) || !strncmp(s, "MERGE ", 6))
		c->pg->changes = strtoll(PQcmdTuples(r), NULL, 10);
}

/* Whether sql may change a table's columns, and so what a statement
 * prepared before returns (the server then refuses to run it). */
static int changes_schema(const char *sql)
{
	static const char *const words[] = {"ALTER", "DROP", "CREATE"};

	for (const char *p = sql; *p; p++) {
		if (p != sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			size_t n = strlen(words[i]);

			if (!strncasecmp(p, words[i], n) &&
			    !isalnum((unsigned char)p[n]) && p[n] != '_')
				return 1;
		}
	}
	return 0;
}

void ipam_sql_pg_forget_preps(struct ipam_sql *c)
{
	for (size_t i = 0; i < c->pg->nr_preps; i++)
		c->pg->preps[i]->stale = 1;
}

int ipam_sql_pg_exec(struct ipam_sql *c, const char *sql)
{
	PGresult *r;
	char *text;
	int err = ipam_sql_pg_check(c, "state database");

	if (err)
		return err;
	text = ipam_sql_pg_rewrite(sql);
	r = PQexec(c->pg->conn, text);
	free(text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		err = ipam_sql_pg_fail(c, r, "state database");
	} else {
		ipam_sql_pg_count_changes(c, r);
	}
	PQclear(r);
	/* DDL may change what a cached statement returns: prepare anew. */
	if (changes_schema(sql))
		ipam_sql_pg_forget_preps(c);
	return err;
}

int ipam_sql_pg_in_transaction(struct ipam_sql *c)
{
	PGTransactionStatusType s;

	if (c->pg->lost)
		return 0;
	s = PQtransactionStatus(c->pg->conn);
	return s == PQTRANS_INTRANS || s == PQTRANS_INERROR ||
	       s == PQTRANS_ACTIVE;
}

long long ipam_sql_pg_changes(struct ipam_sql *c)
{
	return c->pg->changes;
}

/* SELECT lastval(), 0 on error.  lastval() fails until the session used
 * a sequence, and a failure would abort the caller's transaction: the
 * first call in a transaction runs under a savepoint. */
long long ipam_sql_pg_last_insert_id(struct ipam_sql *c)
{
	PGconn *conn = ipam_sql_pg_conn(c);
	int guard = !c->pg->lastval_ok && ipam_sql_pg_in_transaction(c);
	long long id = 0;
	PGresult *r;

	if (!conn)
		return 0;
	if (guard) {
		r = PQexec(conn, "SAVEPOINT ipam_sql_lastval");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			ipam_sql_pg_note_error(c, r);
			PQclear(r);
			return 0;
		}
		PQclear(r);
	}
	r = PQexecParams(conn, "SELECT lastval()", 0, NULL, NULL, NULL, NULL,
			 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		c->pg->lastval_ok = 1;
	} else {
		ipam_sql_pg_note_error(c, r);
	}
	PQclear(r);
	if (guard && !c->pg->lost) {
		r = PQexec(conn,
			   c->pg->lastval_ok
				   ? "RELEASE SAVEPOINT ipam_sql_lastval"
				   : "ROLLBACK TO SAVEPOINT ipam_sql_lastval;"
				     "RELEASE SAVEPOINT ipam_sql_lastval");
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			ipam_sql_pg_note_error(c, r);
		PQclear(r);
	}
	return id;
}

/* ---- SQL text --------------------------------------------------------- */

/*
 * "?N" -> "$N" ("?" alone: the next number, as SQLite counts), outside
 * quotes and comments; IPAM_SQL_NOW -> pg_now.
 */
char *ipam_sql_pg_rewrite(const char *sql)
{
	struct strbuf sb = STRBUF_INIT;
	size_t now_len = strlen(IPAM_SQL_NOW);
	const char *p = sql;
	long max = 0;

	while (*p) {
		if (!strncmp(p, IPAM_SQL_NOW, now_len)) {
			strbuf_addstr(&sb, pg_now);
			p += now_len;
		} else if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);
			size_t n = q ? (size_t)(q - p) + 1 : strlen(p);

			strbuf_add(&sb, p, n);
			p += n;
		} else if (p[0] == '-' && p[1] == '-') {
			size_t n = strcspn(p, "\n");

			strbuf_add(&sb, p, n);
			p += n;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *q = strstr(p + 2, "*/");
			size_t n = q ? (size_t)(q - p) + 2 : strlen(p);

			strbuf_add(&sb, p, n);
			p += n;
		} else if (*p == '?') {
			char *end;
			long n = strtol(p + 1, &end, 10);

			if (end == p + 1 || n <= 0)
				n = max + 1;
			if (n > max)
				max = n;
			strbuf_addf(&sb, "$%ld", n);
			p = end == p + 1 ? p + 1 : end;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- the cache of prepared statements --------------------------------- */

static unsigned long hash_text(const char *s)
{
	unsigned long h = 1469598103934665603UL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static void prep_drop(struct ipam_sql *c, size_t i)
{
	struct ipam_sql_pg *pg = c->pg;
	struct ipam_sql_pg_prep *p = pg->preps[i];
	PGconn *conn = ipam_sql_pg_conn(c);

	/* A DEALLOCATE fails in an aborted transaction: keep it for later. */
	if (conn && PQtransactionStatus(conn) != PQTRANS_INERROR) {
		char cmd[64];
		PGresult *r;

		snprintf(cmd, sizeof(cmd), "DEALLOCATE %s", p->name);
		r = PQexec(conn, cmd);
		PQclear(r);
	} else if (conn) {
		return;
	}
	PQclear(p->desc);
	free(p->sql);
	free(p);
	pg->preps[i] = pg->preps[--pg->nr_preps];
}

/* Drop stale statements nobody uses, and the least recently used ones
 * beyond PREP_CACHE_MAX. */
static void prep_trim(struct ipam_sql *c)
{
	struct ipam_sql_pg *pg = c->pg;
	size_t i = 0;

	while (i < pg->nr_preps) {
		size_t before = pg->nr_preps;

		if (pg->preps[i]->stale && !pg->preps[i]->refs)
			prep_drop(c, i);
		if (pg->nr_preps == before)
			i++;
	}
	while (pg->nr_preps > PREP_CACHE_MAX) {
		size_t old = pg->nr_preps, before = pg->nr_preps;

		for (i = 0; i < pg->nr_preps; i++)
			if (!pg->preps[i]->refs &&
			    (old == pg->nr_preps ||
			     pg->preps[i]->used < pg->preps[old]->used))
				old = i;
		if (old == pg->nr_preps)
			break;
		prep_drop(c, old);
		if (pg->nr_preps == before)
			break;
	}
}

/*
 * Results come in text format, except for a statement that returns a
 * bytea column and only columns whose binary form is read here (integers,
 * floats, booleans, text, bytea): blobs then travel as they are, not as
 * hex twice their size.
 */
static int wants_binary(const PGresult *desc)
{
	int blob = 0;

	for (int i = 0; i < PQnfields(desc); i++) {
		switch (PQftype(desc, i)) {
		case IPAM_SQL_PG_BYTEA:
			blob = 1;
			break;
		case IPAM_SQL_PG_BOOL:
		case IPAM_SQL_PG_INT2:
		case IPAM_SQL_PG_INT4:
		case IPAM_SQL_PG_INT8:
		case IPAM_SQL_PG_OID:
		case IPAM_SQL_PG_FLOAT4:
		case IPAM_SQL_PG_FLOAT8:
		case IPAM_SQL_PG_TEXT:
		case IPAM_SQL_PG_VARCHAR:
		case IPAM_SQL_PG_BPCHAR:
		case IPAM_SQL_PG_NAME:
			break;
		default:
			return 0;
		}
	}
	return blob;
}

/* The statement prepared and described, or NULL (the error noted). */
static struct ipam_sql_pg_prep *prep_new(struct ipam_sql *c, char *sql,
					 unsigned long h)
{
	struct ipam_sql_pg *pg = c->pg;
	struct ipam_sql_pg_prep *p = xcalloc(1, sizeof(*p));
	PGresult *r;

	p->sql = sql;
	p->hash = h;
	snprintf(p->name, sizeof(p->name), "ipam_s%lu", ++pg->counter);
	r = PQprepare(pg->conn, p->name, sql, 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto fail;
	PQclear(r);
	r = PQdescribePrepared(pg->conn, p->name);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto fail;
	p->desc = r;
	p->binary = wants_binary(r);
	ALLOC_GROW(pg->preps, pg->nr_preps + 1, pg->alloc_preps);
	pg->preps[pg->nr_preps++] = p;
	return p;
fail:
	ipam_sql_pg_note_error(c, r);
	PQclear(r);
	free(p->sql);
	free(p);
	return NULL;
}

int ipam_sql_pg_prep_get(struct ipam_sql *c, char *sql,
			 struct ipam_sql_pg_prep **out)
{
	struct ipam_sql_pg *pg = c->pg;
	unsigned long h = hash_text(sql);
	struct ipam_sql_pg_prep *p;
	int err;

	*out = NULL;
	err = ipam_sql_pg_check(c, "cannot prepare a query on");
	if (err) {
		free(sql);
		return err;
	}
	for (size_t i = 0; i < pg->nr_preps; i++) {
		p = pg->preps[i];
		if (p->hash == h && !p->stale && !strcmp(p->sql, sql)) {
			free(sql);
			p->refs++;
			p->used = ++pg->counter;
			*out = p;
			return 0;
		}
	}
	prep_trim(c);
	p = prep_new(c, sql, h);
	if (!p)
		return ipam_sql_error(c, IPAM_EDB, "cannot prepare a query on");
	p->refs++;
	p->used = ++pg->counter;
	*out = p;
	return 0;
}

void ipam_sql_pg_prep_put(struct ipam_sql *c, struct ipam_sql_pg_prep *p)
{
	if (p)
		p->refs--;
	(void)c;
}
