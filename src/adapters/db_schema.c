#include "db.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "db_internal.h"
#include "db_schema_internal.h"
#include "error.h"
#include "banned.h"

/*
 * Migration N takes the schema from version N-1 to N.  Never edit a
 * published migration: add a new one, here (SQLite) and in
 * db_schema_pg.c (PostgreSQL) alike.
 */
static const char *const migrations[] = {
	/* 1: the foundation schema */
	"CREATE TABLE schema_migrations ("
	"  version INTEGER PRIMARY KEY,"
	"  applied_at TEXT NOT NULL);"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  set_at TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  discover_dc INTEGER NOT NULL DEFAULT 1 CHECK (discover_dc IN (0,1)),"
	"  discover_dns INTEGER NOT NULL DEFAULT 1"
	"    CHECK (discover_dns IN (0,1)),"
	"  discover_dhcp INTEGER NOT NULL DEFAULT 1"
	"    CHECK (discover_dhcp IN (0,1)),"
	"  last_discovery_at TEXT,"
	"  last_status TEXT CHECK (last_status IN ('complete','incomplete')),"
	"  last_reason TEXT);"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  command TEXT NOT NULL,"
	"  started_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  host TEXT,"
	"  pid INTEGER,"
	"  git_commit TEXT,"
	"  config_digest TEXT,"
	"  outcome TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN"
	"    ('running','succeeded','no_changes','failed','refused',"
	"     'interrupted')),"
	"  summary TEXT);"
	"CREATE TABLE servers ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  domain_id INTEGER REFERENCES domains(id) ON DELETE SET NULL,"
	"  roles TEXT NOT NULL DEFAULT '',"
	"  declared INTEGER NOT NULL DEFAULT 0 CHECK (declared IN (0,1)),"
	"  manageability TEXT NOT NULL DEFAULT 'unspecified' CHECK"
	"    (manageability IN ('unspecified','unmanaged','managed')),"
	"  owner TEXT,"
	"  description TEXT,"
	"  os_name TEXT,"
	"  os_version TEXT,"
	"  object_guid TEXT,"
	"  object_sid TEXT,"
	"  dn TEXT,"
	"  first_seen TEXT,"
	"  last_seen TEXT,"
	"  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN"
	"    ('new','changed','unchanged','gone','declared_not_found')),"
	"  status_detail TEXT);"
	"CREATE INDEX servers_by_domain ON servers(domain_id);"
	"CREATE TABLE server_addresses ("
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  family INTEGER NOT NULL CHECK (family IN (4,6)),"
	"  address TEXT NOT NULL,"
	"  PRIMARY KEY (server_id, address)) WITHOUT ROWID;"
	"CREATE INDEX server_addresses_by_address"
	"  ON server_addresses(address);"
	"CREATE TABLE server_history ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  at TEXT NOT NULL,"
	"  change TEXT NOT NULL);"
	"CREATE INDEX server_history_by_server ON server_history(server_id);"
	"CREATE TABLE actions ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  domain TEXT,"
	"  detail TEXT,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('pending','started','done','failed','skipped')),"
	"  started_at TEXT,"
	"  ended_at TEXT,"
	"  error TEXT,"
	"  UNIQUE (run_id, seq));"
	"CREATE TABLE access_status ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  checked_at TEXT NOT NULL,"
	"  overall TEXT NOT NULL CHECK (overall IN"
	"    ('Not checked','Unblocked','Blocked')),"
	"  dhcp_rpc TEXT NOT NULL CHECK (dhcp_rpc IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  dhcp_audit_share TEXT NOT NULL CHECK (dhcp_audit_share IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  dns_rpc TEXT NOT NULL CHECK (dns_rpc IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  event_log TEXT NOT NULL CHECK (event_log IN"
	"    ('Unblocked','Blocked','Not applicable','Not checked')),"
	"  recommended_action TEXT NOT NULL,"
	"  reasons TEXT);"
	"CREATE INDEX access_status_by_server"
	"  ON access_status(server_id, checked_at);",

	/* 2: reconciling: what was applied per domain, the reconciler lock */
	"CREATE TABLE applied_domains ("
	"  domain TEXT PRIMARY KEY COLLATE NOCASE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  applied_at TEXT NOT NULL,"
	"  config_digest TEXT,"
	"  grp INTEGER NOT NULL DEFAULT 0 CHECK (grp IN (0,1)),"
	"  group_member INTEGER NOT NULL DEFAULT 0"
	"    CHECK (group_member IN (0,1)),"
	"  elr INTEGER NOT NULL DEFAULT 0 CHECK (elr IN (0,1)),"
	"  dns_ace INTEGER NOT NULL DEFAULT 0 CHECK (dns_ace IN (0,1)))"
	"  WITHOUT ROWID;"
	"CREATE TABLE applied_gpos ("
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  role TEXT NOT NULL CHECK (role IN ('dhcp','dns','dc_nps')),"
	"  guid TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  linked INTEGER NOT NULL DEFAULT 0 CHECK (linked IN (0,1)),"
	"  settings_current INTEGER NOT NULL DEFAULT 0"
	"    CHECK (settings_current IN (0,1)),"
	"  dacl_current INTEGER NOT NULL DEFAULT 0"
	"    CHECK (dacl_current IN (0,1)),"
	"  PRIMARY KEY (domain, role),"
	"  FOREIGN KEY (domain) REFERENCES applied_domains(domain)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE applied_filter ("
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  role TEXT NOT NULL,"
	"  sid TEXT NOT NULL,"
	"  PRIMARY KEY (domain, role, sid),"
	"  FOREIGN KEY (domain, role) REFERENCES applied_gpos(domain, role)"
	"    ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE TABLE reconcile_lock ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  host TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  command TEXT NOT NULL,"
	"  started_at TEXT NOT NULL);",

	/* 3: who made the commit a run worked from, and what it says */
	"ALTER TABLE runs ADD COLUMN git_author TEXT;"
	"ALTER TABLE runs ADD COLUMN git_subject TEXT;",

	/* 4: which process holds the lock, beyond its pid: its start time
	 * in clock ticks since boot and the boot it ran in (a pid alone may
	 * name another process after a reboot or a wrap) */
	"ALTER TABLE reconcile_lock ADD COLUMN proc_start INTEGER;"
	"ALTER TABLE reconcile_lock ADD COLUMN boot_id TEXT;",

	/* 5: who signed the commit a run worked from, when source.verify
	 * checked it: the principal or user id, and the key */
	"ALTER TABLE runs ADD COLUMN git_signer TEXT;"
	"ALTER TABLE runs ADD COLUMN git_signer_key TEXT;",

	/* 6: what the collection tasks gather from managed servers.  Every
	 * row hangs off the managed server it was collected from, so that
	 * turning the server unmanaged purges it (db_inventory.c). */
	"CREATE TABLE collect_tasks ("
	"  task TEXT PRIMARY KEY,"
	"  last_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  last_started_at TEXT,"
	"  last_ended_at TEXT,"
	"  last_outcome TEXT CHECK (last_outcome IN"
	"    ('succeeded','partial','failed')),"
	"  last_summary TEXT) WITHOUT ROWID;"
	"CREATE TABLE collect_server_status ("
	"  task TEXT NOT NULL,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  at TEXT NOT NULL,"
	"  ok INTEGER NOT NULL CHECK (ok IN (0,1)),"
	"  detail TEXT,"
	"  PRIMARY KEY (task, server_id)) WITHOUT ROWID;"
	/* Where the audit task stopped in each log file: the bytes and lines
	 * imported, the head that tells the same file from one the server
	 * overwrote, the column header the rest of the file is read with. */
	"CREATE TABLE dhcp_audit_files ("
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  offset INTEGER NOT NULL,"
	"  line INTEGER NOT NULL,"
	"  head_len INTEGER NOT NULL,"
	"  head_sha256 TEXT NOT NULL,"
	"  generation INTEGER NOT NULL DEFAULT 1,"
	"  columns TEXT,"
	"  size INTEGER,"
	"  read_at TEXT NOT NULL,"
	"  PRIMARY KEY (server_id, name)) WITHOUT ROWID;"
	/* The events are stored in batches, each committed with its file's
	 * position: one row per batch, the events' ids first_id..last_id
	 * and their times (UTC seconds) at_min..at_max.  Pruning and purging
	 * delete whole batches: rowid ranges. */
	"CREATE TABLE dhcp_event_batches ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  file TEXT NOT NULL,"
	"  generation INTEGER NOT NULL,"
	"  seg INTEGER NOT NULL,"
	"  first_id INTEGER NOT NULL,"
	"  last_id INTEGER NOT NULL,"
	"  at_min INTEGER NOT NULL,"
	"  at_max INTEGER NOT NULL);"
	"CREATE INDEX dhcp_event_batches_by_server"
	"  ON dhcp_event_batches(server_id);"
	"CREATE INDEX dhcp_event_batches_by_at ON dhcp_event_batches(at_min);"
	/* One audit-log line, with no index but its id: at is UTC (seconds
	 * since the epoch), local_time the server's clock as written (ISO
	 * 8601, no zone); ip in canonical text, client_id lower-case hex
	 * without separators.  extra holds the rarely read columns: for
	 * each one that is not empty, its letter (a user name, b transaction
	 * id, c QResult, d probation time, e correlation id, f DHCID, g and
	 * h vendor class hex and ASCII, i and j user class hex and ASCII,
	 * k relay agent information, l DNS registration error, m IPv6 error
	 * code, n IPv6 subnet prefix), its length in bytes in decimal, ':'
	 * and the bytes; NULL when all are empty. */
	"CREATE TABLE dhcp_events ("
	"  id INTEGER PRIMARY KEY,"
	"  batch INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  local_time TEXT NOT NULL,"
	"  family INTEGER NOT NULL,"
	"  event_id INTEGER NOT NULL,"
	"  description TEXT,"
	"  ip TEXT,"
	"  host TEXT,"
	"  client_id TEXT,"
	"  line INTEGER NOT NULL,"
	"  extra TEXT);"
	/* What tracking searches: for each key in a batch (k: a 64-bit hash
	 * of the key's kind and its normalized value, db_events.c), the ids
	 * of its events, ascending, as unsigned LEB128 varints of the
	 * differences (the first from 0).  seg is the batch's segment (its
	 * first event id >> 19, >> 16 since version 12's ipamctl
	 * (db_events_internal.h), in the batch row too): a batch's rows go to
	 * its own segment, so that a commit rewrites the leaves of the
	 * current segment only, not those of every key ever stored; a search
	 * reads one range per segment. */
	"CREATE TABLE dhcp_event_postings ("
	"  seg INTEGER NOT NULL,"
	"  k INTEGER NOT NULL,"
	"  batch INTEGER NOT NULL,"
	"  ids BLOB NOT NULL,"
	"  PRIMARY KEY (seg, k, batch)) WITHOUT ROWID;",

	/* 7: the zones and records the dns task reads.
	 * The AD-integrated zones, read through a managed DNS server's
	 * domain: partition 'domain' (DomainDnsZones), 'forest'
	 * (ForestDnsZones) or 'legacy' (CN=MicrosoftDNS,CN=System). */
	"CREATE TABLE dns_zones ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  domain TEXT NOT NULL COLLATE NOCASE,"
	"  name TEXT NOT NULL COLLATE NOCASE,"
	"  partition TEXT NOT NULL CHECK (partition IN"
	"    ('domain','forest','legacy')),"
	"  dn TEXT NOT NULL,"
	"  reverse INTEGER NOT NULL DEFAULT 0 CHECK (reverse IN (0,1)),"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  collected_at TEXT NOT NULL,"
	"  record_count INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (domain, partition, name));"
	/* One record: name relative to the zone ('@' the apex), type the
	 * DNS type number, data its presentation form (unknown types:
	 * RFC 3597's \# LEN HEX). */
	"CREATE TABLE dns_records ("
	"  zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL COLLATE NOCASE,"
	"  type INTEGER NOT NULL,"
	"  data TEXT NOT NULL,"
	"  ttl INTEGER NOT NULL,"
	"  aging INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (zone_id, name, type, data)) WITHOUT ROWID;"
	"CREATE TABLE dns_record_history ("
	"  id INTEGER PRIMARY KEY,"
	"  zone_id INTEGER NOT NULL REFERENCES dns_zones(id) ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  at TEXT NOT NULL,"
	"  change TEXT NOT NULL CHECK (change IN "
	"('added','removed','changed')),"
	"  name TEXT NOT NULL,"
	"  type INTEGER NOT NULL,"
	"  old_data TEXT,"
	"  new_data TEXT,"
	"  old_ttl INTEGER,"
	"  new_ttl INTEGER);"
	"CREATE INDEX dns_record_history_by_zone"
	"  ON dns_record_history(zone_id, at);"
	"CREATE INDEX dns_record_history_by_at ON dns_record_history(at);",

	/* 8: what the zones and availability tasks measure.
	 * Zone monitoring: servers is a JSON list of what each hosting server
	 * answered ({server, answered, authoritative, serial, reason}). */
	"CREATE TABLE zone_status ("
	"  zone_id INTEGER PRIMARY KEY REFERENCES dns_zones(id)"
	"    ON DELETE CASCADE,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  checked_at TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('OK','Warning','Critical')),"
	"  reason TEXT,"
	"  servers TEXT);"
	/* Service availability: the state now and since when, and each
	 * change of state. */
	"CREATE TABLE availability ("
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  service TEXT NOT NULL CHECK (service IN ('dhcp','dns')),"
	"  state TEXT NOT NULL CHECK (state IN ('up','down')),"
	"  since TEXT NOT NULL,"
	"  checked_at TEXT NOT NULL,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  rtt_ms INTEGER,"
	"  reason TEXT,"
	"  PRIMARY KEY (server_id, service)) WITHOUT ROWID;"
	"CREATE TABLE availability_history ("
	"  id INTEGER PRIMARY KEY,"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  service TEXT NOT NULL,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  at TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  reason TEXT);"
	"CREATE INDEX availability_history_by_server"
	"  ON availability_history(server_id, service, at);"
	"CREATE INDEX availability_history_by_at ON availability_history(at);",

	/* 9: the addresses the collected data shows, and the utilization of
	 * the declared ranges and blocks at each collection.
	 * addresses is derived (engine/addresses.c recomputes it after each
	 * collection): address in canonical text form (core/addrspace),
	 * state 'in_use' while a lease is unexpired, a DNS A/AAAA record
	 * names it or an inventory server holds it, else 'inactive'; mac the
	 * DHCP client id (MAC or DUID, lower-case hex); sources a
	 * comma-separated list of 'dhcp', 'dns', 'inventory';
	 * lease_expires and first/last seen UTC seconds since the epoch;
	 * dhcp_server_id the server whose audit log holds its last event.
	 * address_sources says where each source came from (the DHCP server
	 * of the lease, the DNS server the zone was read through, the
	 * inventory server), so that turning a server unmanaged purges what
	 * only its data showed (db_inventory.c). */
	"CREATE TABLE addresses ("
	"  address TEXT PRIMARY KEY,"
	"  family INTEGER NOT NULL CHECK (family IN (4,6)),"
	"  state TEXT NOT NULL CHECK (state IN ('in_use','inactive')),"
	"  mac TEXT,"
	"  host TEXT,"
	"  sources TEXT NOT NULL DEFAULT '',"
	"  lease_expires INTEGER,"
	"  last_event_id INTEGER,"
	"  dhcp_server_id INTEGER REFERENCES servers(id) ON DELETE SET NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  updated_at TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE address_sources ("
	"  address TEXT NOT NULL REFERENCES addresses(address)"
	"    ON DELETE CASCADE,"
	"  source TEXT NOT NULL CHECK (source IN ('dhcp','dns','inventory')),"
	"  server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,"
	"  detail TEXT,"
	"  PRIMARY KEY (address, source, server_id)) WITHOUT ROWID;"
	"CREATE INDEX address_sources_by_server ON address_sources(server_id);"
	/* One sample per declared block and range at each collection: kind
	 * 'block' or 'range', name the block's CIDR or the range's name,
	 * size exact in decimal (IPv6 sizes pass 2^63), used and percent of
	 * size in use, state against the range's thresholds. */
	"CREATE TABLE utilization_samples ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('block','range')),"
	"  name TEXT NOT NULL,"
	"  at TEXT NOT NULL,"
	"  size TEXT NOT NULL,"
	"  used INTEGER NOT NULL,"
	"  percent REAL NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('under','optimal','over')));"
	"CREATE INDEX utilization_samples_by_name"
	"  ON utilization_samples(kind, name, at);"
	"CREATE INDEX utilization_samples_by_at ON utilization_samples(at);",

	/* 10: the audit events in blocks (db_events_internal.h has their
	 * text): one row per up to 128 events of a batch, ids id..last_id,
	 * n of them, their times at_min..at_max.  The events of version 9
	 * are carried over, in blocks by their place in their batch; the
	 * postings keep naming the same ids. */
	MIGRATION_10_BLOCKS("INTEGER PRIMARY KEY", "INTEGER")
		MIGRATION_10_SQLITE_COPY "DROP TABLE dhcp_events;",

	/* 11: the audit events folded by address (db_events_fold.c): what
	 * decides each address's lease and its sources.
	 * dhcp_batch_addresses holds the fold of each batch's events,
	 * written with the batch in parts of up to 1,024 addresses (entries
	 * and slots: the encodings of db_events_fold.c);
	 * dhcp_address_fold the fold of the events of every batch up to
	 * dhcp_address_fold_state.folded_batch (0, or no row: none, the
	 * next addresses' pass reads every event).
	 * dhcp_event_batches.addresses: how many addresses the batch's fold
	 * has, NULL when it has none stored (a batch of an earlier
	 * version). */
	MIGRATION_11("INTEGER", "BLOB", " WITHOUT ROWID"),

	/* 12: the blocks' text packed (db_events_pack.c) in packed, events
	 * ''; the blocks of earlier versions keep their text in events
	 * (packed NULL) until a prune rewrites them. */
	MIGRATION_12("BLOB"),
};

#define NR_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The tables "db info" counts, with the schema version that made each. */
static const struct {
	const char *name;
	int since, until; /* until: the version that dropped it, or 0 */
} count_tables[] = {
	{"domains", 1, 0},
	{"servers", 1, 0},
	{"server_addresses", 1, 0},
	{"server_history", 1, 0},
	{"runs", 1, 0},
	{"actions", 1, 0},
	{"access_status", 1, 0},
	{"applied_domains", 2, 0},
	{"applied_gpos", 2, 0},
	{"applied_filter", 2, 0},
	{"collect_tasks", 6, 0},
	{"dhcp_audit_files", 6, 0},
	{"dhcp_events", 6, 10},
	{"dhcp_event_blocks", 10, 0},
	{"dns_zones", 7, 0},
	{"dns_records", 7, 0},
	{"dns_record_history", 7, 0},
	{"zone_status", 8, 0},
	{"availability", 8, 0},
	{"availability_history", 8, 0},
	{"addresses", 9, 0},
	{"address_sources", 9, 0},
	{"utilization_samples", 9, 0},
	{"dhcp_batch_addresses", 11, 0},
	{"dhcp_address_fold", 11, 0},
};

/* Where the schema version lives: SQLite's user_version; PostgreSQL has
 * none, and the newest row of schema_migrations (migration 1's) says. */
static int pg_schema_version(struct ipam_db *db, int *version)
{
	struct ipam_sql_stmt *st;
	int rc, have = 0;

	if (ipam_sql_prepare(db->h, &st,
			     "SELECT count(*) FROM pg_catalog.pg_tables WHERE "
			     "schemaname = current_schema() AND tablename = "
			     "'schema_migrations'"))
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read state database");
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW)
		have = ipam_sql_column_int64(st, 0) > 0;
	ipam_sql_finalize(st);
	if (rc == IPAM_SQL_ROW && !have)
		return 0;
	if (rc == IPAM_SQL_ROW &&
	    ipam_sql_prepare(db->h, &st,
			     "SELECT coalesce(max(version), 0) FROM "
			     "schema_migrations"))
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read state database");
	if (rc == IPAM_SQL_ROW) {
		rc = ipam_sql_step(st);
		if (rc == IPAM_SQL_ROW)
			*version = (int)ipam_sql_column_int64(st, 0);
		ipam_sql_finalize(st);
	}
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read state database");
	return 0;
}

int ipam_db_schema_version(struct ipam_db *db, int *version)
{
	struct ipam_sql_stmt *st;
	int rc;

	*version = 0;
	if (ipam_db_is_postgres(db))
		return pg_schema_version(db, version);
	if (ipam_sql_prepare(db->h, &st, "PRAGMA user_version"))
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read state database");
	rc = ipam_sql_step(st);
	*version = rc == IPAM_SQL_ROW ? (int)ipam_sql_column_int64(st, 0) : 0;
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read state database");
	return 0;
}

int ipam_db_latest_version(void)
{
	return NR_MIGRATIONS;
}

int ipam_db_check_schema(struct ipam_db *db, int *version, int need_current)
{
	int err = ipam_db_schema_version(db, version);

	if (err)
		return err;
	if (*version < 1)
		return ipam_error_set(IPAM_EDB,
				      "state database '%s' is not initialised: "
				      "run 'ipamctl db init'",
				      db->path);
	if (*version > NR_MIGRATIONS)
		return ipam_error_set(IPAM_EDB,
				      "state database '%s' has schema version "
				      "%d, newer than this ipamctl knows (%d): "
				      "upgrade ipamctl",
				      db->path, *version, NR_MIGRATIONS);
	if (need_current && *version < NR_MIGRATIONS)
		return ipam_error_set(IPAM_EDB,
				      "state database '%s' has schema version "
				      "%d, older than this ipamctl (%d): run "
				      "'ipamctl db migrate'",
				      db->path, *version, NR_MIGRATIONS);
	return 0;
}

/*
 * Migration v + 1 inside the transaction begin opened: its dialect's
 * text, its row in schema_migrations and (SQLite) user_version.
 */
static int migrate_one(struct ipam_db *db, int v)
{
	bool pg = ipam_db_is_postgres(db);
	struct ipam_sql_stmt *st;
	char pragma[48];
	int err;

	err = ipam_db_sql_exec(db,
			       pg ? ipam_db_pg_migrations[v] : migrations[v]);
	if (!err)
		err = ipam_db_sql_prepare(db, &st,
					  "INSERT INTO schema_migrations("
					  "version, applied_at) VALUES (?1, "
					  "" NOW_SQL ")");
	if (!err) {
		ipam_sql_bind_int64(st, 1, v + 1);
		err = ipam_db_sql_step_done(db, st,
					    "cannot record migration "
					    "in");
	}
	if (!err && !pg) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			 v + 1);
		err = ipam_db_sql_exec(db, pragma);
	}
	return err;
}

/*
 * Two ipamctl migrating at once: SQLite's BEGIN IMMEDIATE makes the
 * second wait; on PostgreSQL a transaction-scoped advisory lock does
 * (its key: "ipammigr" in ASCII), and each reads the version again
 * inside.
 */
static int migrate_begin(struct ipam_db *db)
{
	struct ipam_sql_stmt *st;
	int err = ipam_sql_begin(db->h);

	if (err || !ipam_db_is_postgres(db))
		return err;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT pg_advisory_xact_lock("
				  "7020377441197877618)");
	if (!err && ipam_sql_step(st) < 0)
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot lock for migration");
	ipam_sql_finalize(st);
	if (err)
		ipam_sql_rollback(db->h);
	return err;
}

int ipam_db_migrate(struct ipam_db *db, int *from, int *to)
{
	int v, err;

	err = ipam_db_schema_version(db, &v);
	if (err)
		return err;
	if (v > NR_MIGRATIONS)
		return ipam_db_check_schema(db, &v, 0);
	if (from)
		*from = v;
	/* Each migration has its PostgreSQL text (db_schema_pg.c). */
	if (ipam_db_is_postgres(db) &&
	    ipam_db_pg_nr_migrations != NR_MIGRATIONS)
		return ipam_error_set(IPAM_EDB,
				      "this ipamctl has %d PostgreSQL "
				      "migrations for %d SQLite ones",
				      ipam_db_pg_nr_migrations, NR_MIGRATIONS);
	for (; v < NR_MIGRATIONS; v++) {
		err = migrate_begin(db);
		if (err)
			return err;
		err = ipam_db_schema_version(db, &v);
		if (err || v >= NR_MIGRATIONS) {
			ipam_sql_rollback(db->h);
			break;
		}
		err = migrate_one(db, v);
		if (!err)
			err = ipam_db_sql_exec(db, "COMMIT");
		if (err) {
			ipam_error_prefix(err, "migration to schema version %d",
					  v + 1);
			ipam_sql_rollback(db->h);
			return err;
		}
	}
	if (err)
		return err;
	if (to)
		return ipam_db_schema_version(db, to);
	return 0;
}

int ipam_db_drop_all(struct ipam_db *db)
{
	struct ipam_sql_stmt *st;
	int rc, super = 0;

	if (ipam_db_sql_prepare(db, &st,
				"SELECT rolsuper FROM pg_catalog.pg_roles "
				"WHERE rolname = current_user"))
		return IPAM_EDB;
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		const char *t = ipam_sql_column_text(st, 0);

		super = ipam_sql_column_type(st, 0) == IPAM_SQL_INTEGER
				? ipam_sql_column_int64(st, 0) != 0
				: t && (*t == 't' || *t == '1');
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the role of");
	if (super)
		return ipam_error_set(IPAM_EINVAL,
				      "refusing to empty '%s' as a superuser "
				      "(it owns the system's objects too): "
				      "connect as ipamctl's own role",
				      db->path);
	if (ipam_db_sql_exec(db, "DROP OWNED BY CURRENT_USER"))
		return ipam_db_sql_error(db, IPAM_EDB, "cannot empty");
	return 0;
}

int ipam_db_counts(struct ipam_db *db, struct ipam_db_count **out, size_t *nr)
{
	size_t max = sizeof(count_tables) / sizeof(count_tables[0]), i, n = 0;
	struct ipam_db_count *c;
	int version, err;

	/* "db info" works on a database that still needs "db migrate". */
	err = ipam_db_schema_version(db, &version);
	if (err)
		return err;
	c = xcalloc(max, sizeof(*c));
	for (i = 0; i < max; i++) {
		char *sql;
		struct ipam_sql_stmt *st;
		int rc;

		if (count_tables[i].since > version ||
		    (count_tables[i].until && count_tables[i].until <= version))
			continue;
		sql = xasprintf("SELECT count(*) FROM %s",
				count_tables[i].name);
		rc = ipam_sql_prepare(db->h, &st, sql);
		free(sql);
		if (rc) {
			free(c);
			return ipam_db_sql_error(db, IPAM_EDB,
						 "cannot count rows in");
		}
		rc = ipam_sql_step(st);
		c[n].table = count_tables[i].name;
		c[n].rows =
			rc == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0) : -1;
		ipam_sql_finalize(st);
		n++;
	}
	*out = c;
	*nr = n;
	return 0;
}
