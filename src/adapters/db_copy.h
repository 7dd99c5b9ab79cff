/*
 * db copy: everything one state database holds into another, SQLite to
 * PostgreSQL (moving over to a shared server) or back.  Table by table in
 * the schema's order (a row's parents before it), the ids kept (history
 * rows name runs and servers by id), many rows per INSERT; the target in
 * one transaction, so that a failed copy leaves it as it was; the source
 * read in one snapshot, so that a reconciler writing meanwhile does not
 * tear it.  Afterwards each table's rows are counted on both sides and a
 * difference is an error (nothing committed).  On PostgreSQL the identity
 * sequences are set past the copied ids.
 *
 * Not copied: the schema version (each database keeps its own: both are
 * of this ipamctl's schema) and the reconciler lock (it belongs to the
 * database it was taken in).  A table of the source that the copy does
 * not know is an error rather than data left behind.
 *
 * Prefixes: ipam_db_copy_
 */
#ifndef IPAM_DB_COPY_H
#define IPAM_DB_COPY_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

struct ipam_db_copy_count {
	const char *table; /* static */
	long long rows;	   /* copied, and counted in the target */
};

/* After each table: its name and the rows copied so far in it. */
typedef void (*ipam_db_copy_progress_fn)(void *ctx, const char *table,
					 long long rows);

struct ipam_db_copy_opts {
	/*
	 * The target must hold no data (its provisioning settings, when they
	 * are the source's, excepted: what "db init" with the same desired
	 * state records): IPAM_ECONFLICT naming a table that has rows.  With
	 * replace, its data are deleted first, in the same transaction.
	 */
	bool replace;
	ipam_db_copy_progress_fn progress; /* NULL: none */
	void *ctx;
};

/*
 * Copy from into to.  from must be of this ipamctl's schema version
 * (IPAM_EDB saying to migrate it first); to is migrated to it first (an
 * empty PostgreSQL database or a new SQLite file gets its tables here).
 * *out (free()) lists each table with its rows.
 */
int ipam_db_copy(struct ipam_db *from, struct ipam_db *to,
		 const struct ipam_db_copy_opts *o,
		 struct ipam_db_copy_count **out, size_t *nr);

#endif
