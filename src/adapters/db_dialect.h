/*
 * The few spellings where SQLite's SQL and PostgreSQL's differ, for the
 * db*.c modules that pick their text by the connection's kind.  Private
 * to src/adapters/db*.c.  Everything else is written once, in the
 * dialect both read alike: ON CONFLICT instead of INSERT OR REPLACE/
 * IGNORE, WHERE true, CASE instead of a comparison used as a number, an
 * alias on every subquery in FROM, quoted camelCase column aliases
 * (PostgreSQL folds unquoted ones to lower case), no unused parameter
 * (PostgreSQL cannot type one).
 */
#ifndef IPAM_DB_DIALECT_H
#define IPAM_DB_DIALECT_H

#include "db_internal.h"
#include "sql.h"

/* Whether db is a PostgreSQL database. */
#define IPAM_DB_IS_PG(db) (ipam_sql_kind((db)->h) == IPAM_SQL_POSTGRES)

/* The text for db's dialect: lite for SQLite, pg for PostgreSQL. */
#define IPAM_DB_SQL(db, lite, pg) (IPAM_DB_IS_PG(db) ? (pg) : (lite))

/* x (UTC seconds since the epoch) as the timestamp columns store time:
 * ISO 8601, UTC, seconds (IPAM_SQL_NOW's form). */
#define IPAM_DB_ISO_LITE(x) "strftime('%Y-%m-%dT%H:%M:%SZ', " x ", 'unixepoch')"
#define IPAM_DB_ISO_PG(x)                                                      \
	"to_char(to_timestamp(" x ") AT TIME ZONE 'UTC', "                     \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* A LIMIT that does not limit: SQLite takes -1, PostgreSQL refuses a
 * negative one; both take the largest 64-bit integer. */
#define IPAM_DB_NO_LIMIT 9223372036854775807LL

#endif
