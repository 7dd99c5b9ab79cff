#include "sql.h"

#include <libpq-fe.h>
#include <stddef.h>

#include "error.h"
#include "sql_internal.h"
#include "sql_pg_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * Deferred writes (ipam_sql_defer): statements that return no rows go
 * out in libpq's pipeline mode without waiting for their answers, which
 * are read at the next call that needs the server (ipam_sql_pg_sync).
 * At most DEFER_MAX are outstanding: their answers are small, so neither
 * side's socket buffer fills while the other writes (libpq's blocking
 * mode would otherwise deadlock).
 */

#define DEFER_MAX 256

int ipam_sql_pg_sync(struct ipam_sql *c)
{
	struct ipam_sql_pg *pg = c->pg;
	int failed = 0, nulls = 0;
	PGresult *r;

	if (pg->lost || PQpipelineStatus(pg->conn) == PQ_PIPELINE_OFF)
		return 0;
	if (PQpipelineSync(pg->conn) != 1) {
		ipam_sql_pg_note_error(c, NULL);
		return -1;
	}
	/* Each statement's results end with a NULL; the sync point's
	 * PGRES_PIPELINE_SYNC ends them all. */
	for (;;) {
		r = PQgetResult(pg->conn);
		if (!r) {
			if (PQstatus(pg->conn) == CONNECTION_BAD ||
			    ++nulls > pg->queued + 1) {
				ipam_sql_pg_note_error(c, NULL);
				failed = 1;
				break;
			}
			continue;
		}
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (PQresultStatus(r) == PGRES_FATAL_ERROR && !failed) {
			ipam_sql_pg_note_error(c, r);
			failed = 1;
		} else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			ipam_sql_pg_count_changes(c, r);
		}
		PQclear(r);
	}
	pg->queued = 0;
	if (!pg->lost && PQexitPipelineMode(pg->conn) != 1 && !failed) {
		ipam_sql_pg_note_error(c, NULL);
		failed = 1;
	}
	return failed ? -1 : 0;
}

void ipam_sql_pg_sync_later(struct ipam_sql *c)
{
	struct ipam_sql_pg *pg = c->pg;

	if (ipam_sql_pg_sync(c) && !pg->pending) {
		pg->pending = 1;
		strbuf_reset(&pg->pending_msg);
		strbuf_addstr(&pg->pending_msg, pg->err.buf);
	}
}

int ipam_sql_pg_defer_send(struct ipam_sql *c, const char *name, int n,
			   const char *const *values, const int *lengths,
			   const int *formats)
{
	struct ipam_sql_pg *pg = c->pg;

	if (PQpipelineStatus(pg->conn) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(pg->conn) != 1) {
		ipam_sql_pg_note_error(c, NULL);
		return ipam_sql_error(c, IPAM_EDB, "query failed on");
	}
	if (PQsendQueryPrepared(pg->conn, name, n, values, lengths, formats,
				0) != 1) {
		ipam_sql_pg_note_error(c, NULL);
		return ipam_sql_error(c, IPAM_EDB, "query failed on");
	}
	if (++pg->queued >= DEFER_MAX && ipam_sql_pg_sync(c))
		return ipam_sql_error(c, IPAM_EDB, "query failed on");
	return 0;
}

int ipam_sql_pg_defer(struct ipam_sql *c, int on)
{
	int err = ipam_sql_pg_check(c, "query failed on");

	c->pg->defer = on;
	if (!err && !on && ipam_sql_pg_sync(c))
		err = ipam_sql_error(c, IPAM_EDB, "query failed on");
	return err;
}
