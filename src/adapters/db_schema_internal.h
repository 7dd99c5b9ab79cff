/*
 * What the two dialects' migrations share: the pieces of migration 10
 * (the DHCP events in blocks), which carries the version-9 events over in
 * SQL.  Private to db_schema.c and db_schema_pg.c.
 */
#ifndef IPAM_DB_SCHEMA_INTERNAL_H
#define IPAM_DB_SCHEMA_INTERNAL_H

/* Migration 10's table (PostgreSQL: "BIGINT PRIMARY KEY", "BIGINT"). */
#define MIGRATION_10_BLOCKS(key, integer)                                      \
	"CREATE TABLE dhcp_event_blocks ("                                     \
	"  id " key ","                                                        \
	"  batch " integer " NOT NULL,"                                        \
	"  last_id " integer " NOT NULL,"                                      \
	"  n " integer " NOT NULL,"                                            \
	"  at_min " integer " NOT NULL,"                                       \
	"  at_max " integer " NOT NULL,"                                       \
	"  events TEXT NOT NULL);"                                             \
	"CREATE INDEX dhcp_event_blocks_by_at ON dhcp_event_blocks(at_max);"
/* A text column of dhcp_events escaped as a block's field. */
#define MIGRATION_10_ESC(col, nl)                                              \
	"replace(replace(replace(coalesce(" col ", ''), '\\', '\\\\'), ',', "  \
	"'\\c'), " nl ", '\\n')"
/* The record of an event (e, with blk its block in its batch): the
 * numbers, then the text fields, each escaped. */
#define MIGRATION_10_NUMS(epoch)                                               \
	"(id - min(id) OVER w) || ',' || at || ',' || coalesce(" epoch         \
	" - at, 0) || ',' || family || ',' || event_id || ',' || line"
#define MIGRATION_10_FIELD(col, nl) " || ',' || " MIGRATION_10_ESC(col, nl)
#define MIGRATION_10_REC(epoch, nl)                                            \
	MIGRATION_10_NUMS(epoch)                                               \
	MIGRATION_10_FIELD("description", nl)                                  \
	MIGRATION_10_FIELD("ip", nl)                                           \
	MIGRATION_10_FIELD("host", nl)                                         \
	MIGRATION_10_FIELD("client_id", nl)                                    \
	MIGRATION_10_FIELD("extra", nl) " || " nl
#define MIGRATION_10_FROM                                                      \
	"FROM (SELECT e.*, (e.id - coalesce(b.first_id, 0)) / 128 AS blk "     \
	"FROM dhcp_events e LEFT JOIN dhcp_event_batches b ON b.id = "         \
	"e.batch) s WINDOW w AS (PARTITION BY batch, blk)"
#define MIGRATION_10_SQLITE_COPY                                               \
	"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "       \
	"at_max, events) SELECT min(id), batch, max(id), count(*), min(at), "  \
	"max(at), group_concat(rec, '') FROM (SELECT id, batch, at, "          \
	"blk, " MIGRATION_10_REC(                                              \
		"CAST(strftime('%s', local_time) AS INTEGER)",                 \
		"char(10)") " AS rec " MIGRATION_10_FROM                       \
			    " ORDER BY id) GROUP BY batch, blk;"
/* Migration 10 on PostgreSQL, for the per-backend migrations. */
#define MIGRATION_10_POSTGRES                                                  \
	MIGRATION_10_BLOCKS("BIGINT PRIMARY KEY", "BIGINT")                    \
	"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "       \
	"at_max, events) SELECT min(id), batch, max(id), count(*), min(at), "  \
	"max(at), string_agg(rec, '' ORDER BY id) FROM (SELECT id, batch, "    \
	"at, blk, " MIGRATION_10_REC(                                          \
		"extract(epoch FROM local_time::timestamp)::bigint",           \
		"chr(10)") " AS rec " MIGRATION_10_FROM ") t GROUP BY batch, " \
			   "blk;"                                              \
			   "DROP TABLE dhcp_events;"

/* Migration 11 on both backends: integer and blob are their types, rowid
 * SQLite's " WITHOUT ROWID" or "". */
#define MIGRATION_11(integer, blob, rowid)                                     \
	"ALTER TABLE dhcp_event_batches ADD COLUMN addresses " integer ";"     \
	"CREATE TABLE dhcp_batch_addresses ("                                  \
	"  batch " integer " NOT NULL REFERENCES dhcp_event_batches(id)"       \
	"    ON DELETE CASCADE,"                                               \
	"  part " integer " NOT NULL,"                                         \
	"  entries " blob " NOT NULL,"                                         \
	"  PRIMARY KEY (batch, part))" rowid ";"                               \
	"CREATE TABLE dhcp_address_fold ("                                     \
	"  address TEXT PRIMARY KEY,"                                          \
	"  family " integer " NOT NULL,"                                       \
	"  slots " blob " NOT NULL)" rowid ";"                                 \
	"CREATE TABLE dhcp_address_fold_state ("                               \
	"  id " integer " PRIMARY KEY CHECK (id = 1),"                         \
	"  folded_batch " integer " NOT NULL);"

/* Migration 12 on both backends (blob: the type): the blocks' text
 * packed (db_events_internal.h). */
#define MIGRATION_12(blob)                                                     \
	"ALTER TABLE dhcp_event_blocks ADD COLUMN packed " blob ";"

#endif
