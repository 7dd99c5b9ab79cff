#include "db_prune.h"
#include "db_dialect.h"
#include "db_events.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/*
 * One table: batches through its index on at until one comes back short.
 * cutoff_sql turns ?1 (UTC seconds) into the column's form.
 */
static int prune_table(struct ipam_db *db, const char *table,
		       const char *cutoff_sql, long long cutoff,
		       long long *count, long long *batches)
{
	char *sql = xasprintf("DELETE FROM %s WHERE id IN (SELECT id FROM %s "
			      "WHERE at < %s LIMIT %d)",
			      table, table, cutoff_sql, IPAM_DB_PRUNE_BATCH);
	struct ipam_sql_stmt *st;
	int err, n;

	err = ipam_db_sql_prepare(db, &st, sql);
	free(sql);
	if (err)
		return err;
	do {
		/* One statement in autocommit: one transaction per batch. */
		ipam_sql_bind_int64(st, 1, cutoff);
		if (ipam_sql_step(st) != IPAM_SQL_DONE) {
			err = ipam_db_sql_error(db, IPAM_EDB,
						"cannot prune history in");
			break;
		}
		n = (int)ipam_sql_changes(db->h);
		*count += n;
		(*batches)++;
		ipam_sql_reset(st);
	} while (n == IPAM_DB_PRUNE_BATCH);
	ipam_sql_finalize(st);
	return err;
}

int ipam_db_prune_history(struct ipam_db *db, int retain_days, long long now,
			  struct ipam_db_prune_counts *out)
{
	const char *iso =
		IPAM_DB_SQL(db, IPAM_DB_ISO_LITE("?1"), IPAM_DB_ISO_PG("?1"));
	long long cutoff, t = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (retain_days < 1)
		return ipam_error_set(IPAM_EINVAL,
				      "retainDays must be at least 1, got %d",
				      retain_days);
	cutoff = now - (long long)retain_days * 86400;
	/* Audit events go by their batches (db_events), a UTC day at a
	 * time: deleting events makes the next addresses' pass read them
	 * all again (db_events_fold.c), once a day rather than after each
	 * collection. */
	err = ipam_db_events_prune(db,
				   cutoff - (cutoff % 86400 + 86400) % 86400,
				   IPAM_DB_PRUNE_BATCH, &out->dhcp_events, &t);
	out->batches += t;
	if (!err)
		err = prune_table(db, "dns_record_history", iso, cutoff,
				  &out->dns_record_history, &out->batches);
	if (!err)
		err = prune_table(db, "availability_history", iso, cutoff,
				  &out->availability_history, &out->batches);
	return err;
}
