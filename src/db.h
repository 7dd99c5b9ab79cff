/*
 * State database adapter: the only module that includes <sqlite3.h>.
 * Versioned migrations (PRAGMA user_version), WAL, foreign keys, busy
 * timeout.  The provisioning settings recorded at "db init" are fixed.
 */
#ifndef IPAM_DB_H
#define IPAM_DB_H

#include <stddef.h>

#include "model.h"
#include "strbuf.h"

struct ipam_db;

enum {
	IPAM_DB_CREATE = 1, /* create the file (and its directory) if missing */
};

/* Where the database lives when neither --db nor the config says. */
void ipam_db_default_path(struct strbuf *out);
/* "sqlite:PATH", "sqlite:///PATH" or a plain path; 0 or IPAM_EINVAL. */
int ipam_db_path_from_uri(struct strbuf *out, const char *uri);

int ipam_db_open(struct ipam_db **out, const char *path, int flags);
void ipam_db_close(struct ipam_db *db);
const char *ipam_db_path(const struct ipam_db *db);

/* Remove the database file and its -wal, -shm and -journal companions. */
int ipam_db_remove_files(const char *path);

int ipam_db_schema_version(struct ipam_db *db, int *version);
int ipam_db_latest_version(void);
/* Apply pending migrations, each in its own transaction. */
int ipam_db_migrate(struct ipam_db *db, int *from, int *to);

struct ipam_db_settings {
	char *method;     /* NULL when not recorded yet */
	char *gpo_prefix; /* NULL when none */
	char *fixed_at;   /* UTC, ISO 8601 */
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
int ipam_db_counts(struct ipam_db *db, struct ipam_db_count **out,
		   size_t *nr);

#endif
