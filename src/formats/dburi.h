/*
 * The state database as the desired state's database: key and --db name
 * it: a SQLite file (a path, sqlite:PATH, sqlite:///PATH) or a PostgreSQL
 * server (a libpq URI, postgresql:// or postgres://).  Pure: the
 * validator of the desired state (with file:line:col) and the database
 * adapter (at open) apply the same rules.
 */
#ifndef IPAM_DBURI_H
#define IPAM_DBURI_H

#include <stdbool.h>

enum ipam_dburi_kind {
	IPAM_DBURI_SQLITE,
	IPAM_DBURI_POSTGRES,
};

struct ipam_dburi {
	enum ipam_dburi_kind kind;
	char *path; /* SQLITE: the file */
	/* POSTGRES: every host is a Unix socket directory or loopback (an
	 * empty host is libpq's default socket) */
	bool local;
	char *sslmode; /* POSTGRES: as given; NULL when not given */
};

/* A PostgreSQL URI (by its scheme alone). */
bool ipam_dburi_is_postgres(const char *uri);

/*
 * Parse uri into an empty u.  IPAM_EINVAL, with a message that does not
 * repeat a password, for: another scheme; a SQLite URI without a path; a
 * PostgreSQL URI with a password (user:password@, ?password=), with
 * sslmode disable, allow or prefer (which may end unencrypted) unless
 * every host is local, or with an unknown sslmode.
 */
int ipam_dburi_parse(struct ipam_dburi *u, const char *uri);
void ipam_dburi_release(struct ipam_dburi *u); /* accepts NULL */

#endif
