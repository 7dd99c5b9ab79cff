#include "sql.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sql_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * The calls of sql.h, each handed to the connection's driver, and the
 * few that are the same for both.
 */

int ipam_sql_error(struct ipam_sql *c, int code, const char *what)
{
	const char *msg = c->kind == IPAM_SQL_POSTGRES
				  ? ipam_sql_pg_errmsg(c)
				  : ipam_sql_sqlite_errmsg(c);

	return ipam_error_set(code, "%s '%s': %s", what, c->name,
			      msg && *msg ? msg : "error");
}

enum ipam_sql_kind ipam_sql_kind(const struct ipam_sql *c)
{
	return c->kind;
}

const char *ipam_sql_name(const struct ipam_sql *c)
{
	return c->name;
}

int ipam_sql_open_again(struct ipam_sql **out, struct ipam_sql *c)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_again(out, c);
	return ipam_sql_sqlite_again(out, c);
}

int ipam_sql_begin(struct ipam_sql *c)
{
	return ipam_sql_exec(
		c, c->kind == IPAM_SQL_POSTGRES ? "BEGIN" : "BEGIN IMMEDIATE");
}

int ipam_sql_commit(struct ipam_sql *c)
{
	return ipam_sql_exec(c, "COMMIT");
}

void ipam_sql_rollback(struct ipam_sql *c)
{
	if (ipam_sql_in_transaction(c))
		ipam_sql_exec(c, "ROLLBACK");
}

int ipam_sql_step_done(struct ipam_sql_stmt *st, const char *what)
{
	struct ipam_sql *c = st->c;
	int rc = ipam_sql_step(st);

	ipam_sql_finalize(st);
	if (rc < 0)
		return ipam_sql_error(c, IPAM_EDB, what);
	if (rc != IPAM_SQL_DONE)
		return ipam_error_set(IPAM_EDB,
				      "%s '%s': a row where none was "
				      "expected",
				      what, c->name);
	return 0;
}

char *ipam_sql_column_dup(struct ipam_sql_stmt *st, int col)
{
	const char *t = ipam_sql_column_text(st, col);

	return t ? xstrdup(t) : NULL;
}

void ipam_sql_close(struct ipam_sql *c)
{
	if (!c)
		return;
	if (c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_close(c);
	else
		ipam_sql_sqlite_close(c);
	free(c->name);
	free(c);
}

int ipam_sql_exec(struct ipam_sql *c, const char *sql)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_exec(c, sql);
	return ipam_sql_sqlite_exec(c, sql);
}

int ipam_sql_in_transaction(struct ipam_sql *c)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_in_transaction(c);
	return ipam_sql_sqlite_in_transaction(c);
}

long long ipam_sql_changes(struct ipam_sql *c)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_changes(c);
	return ipam_sql_sqlite_changes(c);
}

long long ipam_sql_last_insert_id(struct ipam_sql *c)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_last_insert_id(c);
	return ipam_sql_sqlite_last_insert_id(c);
}

int ipam_sql_prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
		     const char *sql)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_prepare(c, out, sql);
	return ipam_sql_sqlite_prepare(c, out, sql);
}

int ipam_sql_prepare_scan(struct ipam_sql *c, struct ipam_sql_stmt **out,
			  const char *sql)
{
	if (c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_prepare_scan(c, out, sql);
	return ipam_sql_sqlite_prepare(c, out, sql);
}

void ipam_sql_finalize(struct ipam_sql_stmt *st)
{
	if (!st)
		return;
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_finalize(st);
	else
		ipam_sql_sqlite_finalize(st);
}

void ipam_sql_reset(struct ipam_sql_stmt *st)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_reset(st);
	else
		ipam_sql_sqlite_reset(st);
}

void ipam_sql_bind_int64(struct ipam_sql_stmt *st, int i, long long v)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_bind_int64(st, i, v);
	else
		ipam_sql_sqlite_bind_int64(st, i, v);
}

void ipam_sql_bind_double(struct ipam_sql_stmt *st, int i, double v)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_bind_double(st, i, v);
	else
		ipam_sql_sqlite_bind_double(st, i, v);
}

void ipam_sql_bind_null(struct ipam_sql_stmt *st, int i)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_bind_null(st, i);
	else
		ipam_sql_sqlite_bind_null(st, i);
}

void ipam_sql_bind_text(struct ipam_sql_stmt *st, int i, const char *v)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_bind_text(st, i, v);
	else
		ipam_sql_sqlite_bind_text(st, i, v);
}

void ipam_sql_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
			 size_t n)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_bind_textn(st, i, v, n);
	else
		ipam_sql_sqlite_bind_textn(st, i, v, n);
}

void ipam_sql_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			size_t n)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		ipam_sql_pg_bind_blob(st, i, v, n);
	else
		ipam_sql_sqlite_bind_blob(st, i, v, n);
}

int ipam_sql_bind_count(struct ipam_sql_stmt *st)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_bind_count(st);
	return ipam_sql_sqlite_bind_count(st);
}

int ipam_sql_step(struct ipam_sql_stmt *st)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_step(st);
	return ipam_sql_sqlite_step(st);
}

int ipam_sql_column_count(struct ipam_sql_stmt *st)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_count(st);
	return ipam_sql_sqlite_column_count(st);
}

const char *ipam_sql_column_name(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_name(st, col);
	return ipam_sql_sqlite_column_name(st, col);
}

enum ipam_sql_type ipam_sql_column_type(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_type(st, col);
	return ipam_sql_sqlite_column_type(st, col);
}

long long ipam_sql_column_int64(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_int64(st, col);
	return ipam_sql_sqlite_column_int64(st, col);
}

double ipam_sql_column_double(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_double(st, col);
	return ipam_sql_sqlite_column_double(st, col);
}

const char *ipam_sql_column_text(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_text(st, col);
	return ipam_sql_sqlite_column_text(st, col);
}

const void *ipam_sql_column_blob(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_blob(st, col);
	return ipam_sql_sqlite_column_blob(st, col);
}

size_t ipam_sql_column_bytes(struct ipam_sql_stmt *st, int col)
{
	if (st->c->kind == IPAM_SQL_POSTGRES)
		return ipam_sql_pg_column_bytes(st, col);
	return ipam_sql_sqlite_column_bytes(st, col);
}
