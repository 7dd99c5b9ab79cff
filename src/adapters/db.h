/*
 * State database adapter: SQLite (the default, one file) or PostgreSQL
 * (a shared server), both through the SQL driver of sql.h.  Versioned
 * migrations (SQLite: PRAGMA user_version; PostgreSQL: the
 * schema_migrations table), each with its dialect's text where they
 * differ.  The provisioning settings recorded at "db init" are fixed.
 *
 * This header is the storage interface and names no driver type; it is
 * db.c (open, paths) with one file per job: db_schema.c
 * (migrations, versions, row counts), db_settings.c, db_inventory.c
 * (servers and their history), db_runs.c (runs and their journal),
 * db_applied.c (what was applied) and db_lock.c (the reconciler lock).
 *
 * Layer adapters/: one module per library or protocol (sqlite, LDAP,
 * SMB, git, YAML, JSON, HTTP, DNS, DHCP); only an adapter includes its
 * library's header.  Uses core/ and below; never prints.
 */
#ifndef IPAM_DB_H
#define IPAM_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "access.h"
#include "inventory.h"
#include "model.h"
#include "observed.h"
#include "strbuf.h"

struct ipam_db;

enum {
	IPAM_DB_CREATE = 1, /* create the file (and its directory) if missing */
};

/* Where the database lives when neither --db nor the config says. */
void ipam_db_default_path(struct strbuf *out);
/*
 * What to open for a database: key or --db: the file of "sqlite:PATH",
 * "sqlite:///PATH" or a plain path, or a PostgreSQL URI as it is
 * (postgresql://, postgres://; formats/dburi.h's rules: no password,
 * TLS to another host); 0 or IPAM_EINVAL.
 */
int ipam_db_path_from_uri(struct strbuf *out, const char *uri);

/*
 * Open a SQLite file (path) or a PostgreSQL database (a URI): libpq
 * finds the password itself (PGPASSFILE, ~/.pgpass), or _pw gives it
 * (databaseConnection's file or variable; NULL: libpq's).  CREATE makes
 * a missing SQLite file; a PostgreSQL database is made by its
 * administrator (README), "db init" makes the tables.
 */
int ipam_db_open(struct ipam_db **out, const char *path, int flags);
int ipam_db_open_pw(struct ipam_db **out, const char *path,
		    const char *password, int flags);
/* The database is PostgreSQL (else SQLite). */
bool ipam_db_is_postgres(const struct ipam_db *db);
void ipam_db_close(struct ipam_db *db);
const char *ipam_db_path(const struct ipam_db *db);

/* Remove the database file and its -wal, -shm and -journal companions. */
int ipam_db_remove_files(const char *path);
/*
 * Empty a PostgreSQL database for "db init --force": every object its
 * role owns there (DROP OWNED BY CURRENT_USER: the database is
 * ipamctl's alone); refused for a superuser, who owns the system's.
 */
int ipam_db_drop_all(struct ipam_db *db);

int ipam_db_schema_version(struct ipam_db *db, int *version);
/*
 * The schema is one this ipamctl can use: initialised, not newer than it
 * knows, and (need_current) not older either.  The error says what to run.
 */
int ipam_db_check_schema(struct ipam_db *db, int *version, int need_current);
int ipam_db_latest_version(void);
/* Apply pending migrations, each in its own transaction. */
int ipam_db_migrate(struct ipam_db *db, int *from, int *to);

struct ipam_db_settings {
	char *method;	  /* NULL when not recorded yet */
	char *gpo_prefix; /* NULL when none */
	char *fixed_at;	  /* UTC, ISO 8601 */
};

int ipam_db_get_settings(struct ipam_db *db, struct ipam_db_settings *out);
void ipam_db_settings_release(struct ipam_db_settings *s);
/* Record method and prefix; only when nothing is recorded yet. */
int ipam_db_record_settings(struct ipam_db *db, const char *method,
			    const char *gpo_prefix);

/*
 * The provisioning lock: IPAM_ECONFLICT, with a message that says since
 * when the method is fixed and how to re-create the database, when d asks
 * for another method or GPO prefix than the one recorded.
 */
int ipam_db_check_settings(struct ipam_db *db, const struct ipam_desired *d);

struct ipam_db_count {
	const char *table;
	long long rows;
};

/* Row counts of the main tables (static table names). */
int ipam_db_counts(struct ipam_db *db, struct ipam_db_count **out, size_t *nr);

/* A run of a command: started now, by this host and process. */
int ipam_db_run_begin(struct ipam_db *db, const char *command,
		      long long *run_id);
/* outcome: succeeded, no_changes, failed, refused or interrupted;
 * summary: JSON text or NULL. */
int ipam_db_run_end(struct ipam_db *db, long long run_id, const char *outcome,
		    const char *summary);

/* The whole inventory, sorted by name, with addresses and the latest
 * overall access status. */
int ipam_db_inventory_load(struct ipam_db *db, struct ipam_inventory *out);
/*
 * Store a discovery run in one transaction: the domains' verdicts, the
 * planned rows with their addresses and history lines, and the purge of
 * collected data of servers turned unmanaged.
 */
int ipam_db_inventory_store(struct ipam_db *db, long long run_id,
			    const struct ipam_desired *d,
			    const struct ipam_observed *obs,
			    const struct ipam_inv_plan *plan);
/*
 * The same transaction with the plan in parts (ipam_inv_cursor): begin
 * (the domains), write each part, end (commit, or roll back after any
 * error, whose code it returns).  end is called whatever begin or write
 * returned.
 */
struct ipam_db_inv_writer {
	struct ipam_db *db;
	long long run_id;
	int err;
	bool begun;
};
int ipam_db_inventory_write_begin(struct ipam_db_inv_writer *w,
				  struct ipam_db *db, long long run_id,
				  const struct ipam_desired *d,
				  const struct ipam_observed *obs);
int ipam_db_inventory_write(struct ipam_db_inv_writer *w,
			    const struct ipam_inv_plan *part);
int ipam_db_inventory_write_end(struct ipam_db_inv_writer *w);

struct ipam_db_history {
	char *at;
	long long run_id;
	char *change;
};

/* A server's history of changes, oldest first. */
int ipam_db_server_history(struct ipam_db *db, const char *name,
			   struct ipam_db_history **out, size_t *nr);
void ipam_db_history_free(struct ipam_db_history *h, size_t nr);

/* ---- access status (verify) --------------------------------------------- */

/* One access check of a server, as stored. */
struct ipam_db_access {
	char *checked_at; /* UTC, ISO 8601 */
	long long run_id; /* 0: none */
	struct ipam_access access;
};

/* Store a check of server (by name; IPAM_ENOTFOUND when not in the
 * inventory) with its statuses, action and reasons. */
int ipam_db_access_store(struct ipam_db *db, long long run_id,
			 const char *server, const struct ipam_access *a);
/* The latest check of server; IPAM_ENOTFOUND (no error set) when none. */
int ipam_db_access_latest(struct ipam_db *db, const char *server,
			  struct ipam_db_access *out);
/* The newest limit checks of server (0: all), oldest first. */
int ipam_db_access_history(struct ipam_db *db, const char *server, size_t limit,
			   struct ipam_db_access **out, size_t *nr);
void ipam_db_access_release(struct ipam_db_access *r);
void ipam_db_access_free(struct ipam_db_access *v, size_t nr);

/* ---- reconciling (schema version 2) ----------------------------------- */

struct ipam_applied;
struct ipam_applied_domain;

/* What ipamctl last applied, per domain (empty when nothing was). */
int ipam_db_applied_load(struct ipam_db *db, struct ipam_applied *out);
/* Replace what is recorded for ad->domain with ad, in one transaction
 * (its GPOs and their filter entries included). */
int ipam_db_applied_store(struct ipam_db *db, long long run_id,
			  const struct ipam_applied_domain *ad);

/*
 * The reconciler lock of this database: one plan/apply/reconcile at a
 * time.  Waits up to timeout_s seconds (0: not at all) while a live
 * process holds it.  A lock held by a process that no longer runs on this
 * host is stale: it is taken over (and that process's runs still marked
 * 'running' become 'interrupted'), and took_over (when not NULL) says
 * whose it was -- command, pid, host, since when -- for the caller to
 * warn; it is left as it was when no lock was taken over.  Held at the
 * timeout: IPAM_ECONFLICT, the message naming the holder.
 */
int ipam_db_lock(struct ipam_db *db, const char *command, int timeout_s,
		 struct strbuf *took_over);
/*
 * PostgreSQL: the reconciler lock is keyed by the database and the
 * desired state's ipamServer (NULL: none), and PostgreSQL releases it
 * when the holder's connection ends (db_lock_pg.c).  SQLite: one lock
 * per file; the scope is not used.
 */
void ipam_db_set_lock_scope(struct ipam_db *db, const char *ipam_server);
/*
 * reconcile --every's active reconciler (PostgreSQL only): take the
 * "active" lock of this connection for good, without waiting.  0: this
 * process is the active one (or was already, and still is);
 * IPAM_ECONFLICT (no error set): another is, holder names it ("" when it
 * cannot be told) and this one is the standby.
 */
int ipam_db_lead(struct ipam_db *db, const char *command,
		 struct strbuf *holder);
/* The active lock is still this connection's: IPAM_EDB when lost. */
int ipam_db_lead_check(struct ipam_db *db);
/* Who holds the run lock and (PostgreSQL) the active reconciler's:
 * "command (pid N on host) since T", "" when nobody. */
int ipam_db_lock_holder(struct ipam_db *db, struct strbuf *run,
			struct strbuf *active);
/* Release the lock if this process holds it. */
int ipam_db_unlock(struct ipam_db *db);
/* Remove the lock whoever holds it (`ipamctl db unlock`, for a holder on
 * another host that is gone); holder gets who held it, "" if nobody.
 * PostgreSQL: a live holder's lock is never removed (IPAM_ECONFLICT):
 * the server releases it when the holder's connection ends. */
int ipam_db_lock_break(struct ipam_db *db, struct strbuf *holder);

/* The desired state a run worked from. */
int ipam_db_run_set_source(struct ipam_db *db, long long run_id,
			   const char *git_commit, const char *config_digest);

/* The author ("Name <email>") and subject of the run's commit (schema
 * version 3); NULL for either when unknown. */
int ipam_db_run_set_author(struct ipam_db *db, long long run_id,
			   const char *author, const char *subject);

/* Who signed the run's commit, as source.verify found it good: the
 * signer (SSH principal or OpenPGP user id) and the key (schema
 * version 5). */
int ipam_db_run_set_signer(struct ipam_db *db, long long run_id,
			   const char *signer, const char *key);

/* The journal of a run: one row per plan action (seq from 1). */
int ipam_db_action_add(struct ipam_db *db, long long run_id, int seq,
		       const char *kind, const char *target, const char *domain,
		       const char *detail);
/* state: started, done, failed or skipped; error NULL unless failed. */
int ipam_db_action_set(struct ipam_db *db, long long run_id, int seq,
		       const char *state, const char *error);

struct ipam_db_run {
	long long id;
	char *command, *started_at, *ended_at, *host;
	long long pid;
	char *git_commit, *config_digest, *outcome, *summary;
	char *git_author, *git_subject; /* NULL when unknown */
	/* NULL unless source.verify found the commit's signature good */
	char *git_signer, *git_signer_key;
};

struct ipam_db_action_row {
	int seq;
	char *kind, *target, *domain, *detail, *state;
	char *started_at, *ended_at, *error;
};

/* The latest runs, newest first (limit 0: all). */
int ipam_db_runs_list(struct ipam_db *db, size_t limit,
		      struct ipam_db_run **out, size_t *nr);
/* One run; IPAM_ENOTFOUND when there is none with that id. */
int ipam_db_run_get(struct ipam_db *db, long long id, struct ipam_db_run *out);
/* Its journal, by seq. */
int ipam_db_run_actions(struct ipam_db *db, long long run_id,
			struct ipam_db_action_row **out, size_t *nr);
void ipam_db_run_release(struct ipam_db_run *r);
void ipam_db_runs_free(struct ipam_db_run *v, size_t nr);
void ipam_db_actions_free(struct ipam_db_action_row *v, size_t nr);

#endif
