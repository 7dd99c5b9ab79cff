#include "sql.h"

#include <stddef.h>

#include "error.h"
#include "sql_internal.h"
#include "banned.h"

/*
 * The PostgreSQL driver.  PLACEHOLDER until the libpq driver lands: every
 * connection attempt is refused with a clear error, so nothing below it
 * is ever reached.
 */

int ipam_sql_open_postgres(struct ipam_sql **out, const char *uri,
			   const char *password)
{
	(void)uri;
	(void)password;
	*out = NULL;
	return ipam_error_set(IPAM_EINVAL, "this ipamctl was built without "
					   "PostgreSQL support");
}

const char *ipam_sql_pg_errmsg(struct ipam_sql *c)
{
	(void)c;
	return NULL;
}

int ipam_sql_pg_again(struct ipam_sql **out, struct ipam_sql *c)
{
	(void)out;
	(void)c;
	return IPAM_EINVAL;
}

void ipam_sql_pg_close(struct ipam_sql *c)
{
	(void)c;
}

int ipam_sql_pg_exec(struct ipam_sql *c, const char *sql)
{
	(void)c;
	(void)sql;
	return IPAM_EINVAL;
}

int ipam_sql_pg_in_transaction(struct ipam_sql *c)
{
	(void)c;
	return 0;
}

long long ipam_sql_pg_changes(struct ipam_sql *c)
{
	(void)c;
	return 0;
}

long long ipam_sql_pg_last_insert_id(struct ipam_sql *c)
{
	(void)c;
	return 0;
}

int ipam_sql_pg_prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
			const char *sql)
{
	(void)c;
	(void)out;
	(void)sql;
	return IPAM_EINVAL;
}

void ipam_sql_pg_finalize(struct ipam_sql_stmt *st)
{
	(void)st;
}

void ipam_sql_pg_reset(struct ipam_sql_stmt *st)
{
	(void)st;
}

void ipam_sql_pg_bind_int64(struct ipam_sql_stmt *st, int i, long long v)
{
	(void)st;
	(void)i;
	(void)v;
}

void ipam_sql_pg_bind_double(struct ipam_sql_stmt *st, int i, double v)
{
	(void)st;
	(void)i;
	(void)v;
}

void ipam_sql_pg_bind_null(struct ipam_sql_stmt *st, int i)
{
	(void)st;
	(void)i;
}

void ipam_sql_pg_bind_text(struct ipam_sql_stmt *st, int i, const char *v)
{
	(void)st;
	(void)i;
	(void)v;
}

void ipam_sql_pg_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
			    size_t n)
{
	(void)st;
	(void)i;
	(void)v;
	(void)n;
}

void ipam_sql_pg_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			   size_t n)
{
	(void)st;
	(void)i;
	(void)v;
	(void)n;
}

int ipam_sql_pg_bind_count(struct ipam_sql_stmt *st)
{
	(void)st;
	return 0;
}

int ipam_sql_pg_step(struct ipam_sql_stmt *st)
{
	(void)st;
	return IPAM_EINVAL;
}

int ipam_sql_pg_column_count(struct ipam_sql_stmt *st)
{
	(void)st;
	return 0;
}

const char *ipam_sql_pg_column_name(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return NULL;
}

enum ipam_sql_type ipam_sql_pg_column_type(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return IPAM_SQL_NULL;
}

long long ipam_sql_pg_column_int64(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return 0;
}

double ipam_sql_pg_column_double(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return 0.0;
}

const char *ipam_sql_pg_column_text(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return NULL;
}

const void *ipam_sql_pg_column_blob(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return NULL;
}

size_t ipam_sql_pg_column_bytes(struct ipam_sql_stmt *st, int col)
{
	(void)st;
	(void)col;
	return 0;
}
