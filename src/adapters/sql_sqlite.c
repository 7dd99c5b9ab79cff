#include "sql.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sql_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * The SQLite driver: a thin layer over sqlite3's own calls, which sql.h
 * mirrors.  WAL, foreign keys and a busy timeout are set at open.
 */

static sqlite3 *handle(const struct ipam_sql *c)
{
	return (sqlite3 *)c->sqlite;
}

const char *ipam_sql_sqlite_errmsg(struct ipam_sql *c)
{
	return sqlite3_errmsg(handle(c));
}

/* Before the library's first use: no count of its memory (which takes a
 * mutex of the whole process for every allocation; nothing reads it). */
static void sqlite_setup(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int ipam_sql_open_sqlite(struct ipam_sql **out, const char *path, int flags)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	struct ipam_sql *c;
	sqlite3 *h = NULL;
	int err;

	*out = NULL;
	pthread_once(&once, sqlite_setup);
	if (flags & IPAM_SQL_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	c = xcalloc(1, sizeof(*c));
	c->kind = IPAM_SQL_SQLITE;
	c->name = xstrdup(path);
	if (sqlite3_open_v2(path, &h, oflags, NULL) != SQLITE_OK) {
		c->sqlite = h;
		err = ipam_sql_error(c, IPAM_EDB, "cannot open state database");
		ipam_sql_close(c);
		return err;
	}
	c->sqlite = h;
	sqlite3_extended_result_codes(h, 1);
	sqlite3_busy_timeout(h, 5000);
	/* 16 KiB pages for a new file (an existing one keeps its own):
	 * fewer, larger writes for the audit events' blocks */
	err = ipam_sql_exec(c, "PRAGMA page_size=16384;"
			       "PRAGMA journal_mode=WAL;"
			       "PRAGMA foreign_keys=ON;"
			       "PRAGMA synchronous=NORMAL;");
	if (err) {
		ipam_sql_close(c);
		return err;
	}
	*out = c;
	return 0;
}

int ipam_sql_sqlite_again(struct ipam_sql **out, struct ipam_sql *c)
{
	return ipam_sql_open_sqlite(out, c->name, 0);
}

void ipam_sql_sqlite_close(struct ipam_sql *c)
{
	sqlite3_close(handle(c));
}

int ipam_sql_sqlite_exec(struct ipam_sql *c, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(handle(c), sql, NULL, NULL, &msg) != SQLITE_OK) {
		int err = ipam_error_set(IPAM_EDB, "state database '%s': %s",
					 c->name, msg ? msg : "error");

		sqlite3_free(msg);
		return err;
	}
	return 0;
}

int ipam_sql_sqlite_in_transaction(struct ipam_sql *c)
{
	return !sqlite3_get_autocommit(handle(c));
}

long long ipam_sql_sqlite_changes(struct ipam_sql *c)
{
	return sqlite3_changes(handle(c));
}

long long ipam_sql_sqlite_last_insert_id(struct ipam_sql *c)
{
	return sqlite3_last_insert_rowid(handle(c));
}

int ipam_sql_sqlite_prepare(struct ipam_sql *c, struct ipam_sql_stmt **out,
			    const char *sql)
{
	struct ipam_sql_stmt *st;
	sqlite3_stmt *h;

	*out = NULL;
	if (sqlite3_prepare_v2(handle(c), sql, -1, &h, NULL) != SQLITE_OK)
		return ipam_sql_error(c, IPAM_EDB, "cannot prepare a query on");
	st = xcalloc(1, sizeof(*st));
	st->c = c;
	st->sqlite = h;
	*out = st;
	return 0;
}

void ipam_sql_sqlite_finalize(struct ipam_sql_stmt *st)
{
	sqlite3_finalize(st->sqlite);
	free(st);
}

void ipam_sql_sqlite_reset(struct ipam_sql_stmt *st)
{
	sqlite3_reset(st->sqlite);
}

void ipam_sql_sqlite_bind_int64(struct ipam_sql_stmt *st, int i, long long v)
{
	sqlite3_bind_int64(st->sqlite, i, v);
}

void ipam_sql_sqlite_bind_double(struct ipam_sql_stmt *st, int i, double v)
{
	sqlite3_bind_double(st->sqlite, i, v);
}

void ipam_sql_sqlite_bind_null(struct ipam_sql_stmt *st, int i)
{
	sqlite3_bind_null(st->sqlite, i);
}

void ipam_sql_sqlite_bind_text(struct ipam_sql_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st->sqlite, i, v, -1, SQLITE_TRANSIENT);
}

void ipam_sql_sqlite_bind_textn(struct ipam_sql_stmt *st, int i, const char *v,
				size_t n)
{
	sqlite3_bind_text64(st->sqlite, i, v, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}

void ipam_sql_sqlite_bind_blob(struct ipam_sql_stmt *st, int i, const void *v,
			       size_t n)
{
	sqlite3_bind_blob64(st->sqlite, i, v, n, SQLITE_TRANSIENT);
}

int ipam_sql_sqlite_bind_count(struct ipam_sql_stmt *st)
{
	return sqlite3_bind_parameter_count(st->sqlite);
}

int ipam_sql_sqlite_step(struct ipam_sql_stmt *st)
{
	int rc = sqlite3_step(st->sqlite);

	if (rc == SQLITE_ROW)
		return IPAM_SQL_ROW;
	if (rc == SQLITE_DONE)
		return IPAM_SQL_DONE;
	return ipam_sql_error(st->c, IPAM_EDB, "query failed on");
}

int ipam_sql_sqlite_column_count(struct ipam_sql_stmt *st)
{
	return sqlite3_column_count(st->sqlite);
}

const char *ipam_sql_sqlite_column_name(struct ipam_sql_stmt *st, int col)
{
	return sqlite3_column_name(st->sqlite, col);
}

enum ipam_sql_type ipam_sql_sqlite_column_type(struct ipam_sql_stmt *st,
					       int col)
{
	switch (sqlite3_column_type(st->sqlite, col)) {
	case SQLITE_INTEGER:
		return IPAM_SQL_INTEGER;
	case SQLITE_FLOAT:
		return IPAM_SQL_FLOAT;
	case SQLITE_TEXT:
		return IPAM_SQL_TEXT;
	case SQLITE_BLOB:
		return IPAM_SQL_BLOB;
	default:
		return IPAM_SQL_NULL;
	}
}

long long ipam_sql_sqlite_column_int64(struct ipam_sql_stmt *st, int col)
{
	return sqlite3_column_int64(st->sqlite, col);
}

double ipam_sql_sqlite_column_double(struct ipam_sql_stmt *st, int col)
{
	return sqlite3_column_double(st->sqlite, col);
}

const char *ipam_sql_sqlite_column_text(struct ipam_sql_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->sqlite, col);
}

const void *ipam_sql_sqlite_column_blob(struct ipam_sql_stmt *st, int col)
{
	return sqlite3_column_blob(st->sqlite, col);
}

size_t ipam_sql_sqlite_column_bytes(struct ipam_sql_stmt *st, int col)
{
	return (size_t)sqlite3_column_bytes(st->sqlite, col);
}
