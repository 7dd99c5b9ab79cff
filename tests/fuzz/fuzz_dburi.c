/*
 * The database URI of the desired state and --db: whatever parses keeps
 * the rules that keep a password and a plain-text connection out of it
 * (no user:password@, no password=, sslmode disable/allow/prefer only
 * for local hosts), names a file when it is SQLite, and no refusal's
 * message repeats the user part of an unsupported URI.
 */
#include "dburi.h"
#include "error.h"
#include "fuzz.h"

static const char *param(const char *query, const char *key)
{
	size_t klen = strlen(key);
	const char *p = query;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == '=')
			return p + klen + 1;
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return NULL;
}

static void check_postgres(const struct ipam_dburi *u, const char *s)
{
	const char *auth = strstr(s, "://") + 3, *q = strchr(s, '?');
	size_t end = strcspn(auth, "/?");
	const char *at = NULL;
	size_t i;

	for (i = 0; i < end; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at && memchr(auth, ':', (size_t)(at - auth)))
		abort();
	if (q && param(q + 1, "password"))
		abort();
	if (u->sslmode && !u->local &&
	    (!strcmp(u->sslmode, "disable") || !strcmp(u->sslmode, "allow") ||
	     !strcmp(u->sslmode, "prefer")))
		abort();
	if (u->path)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct ipam_dburi u;
	const char *colon;

	if (!ipam_dburi_parse(&u, s)) {
		if ((u.kind == IPAM_DBURI_POSTGRES) !=
		    ipam_dburi_is_postgres(s))
			abort();
		if (u.kind == IPAM_DBURI_POSTGRES)
			check_postgres(&u, s);
		else if (!u.path || !*u.path)
			abort();
		ipam_dburi_release(&u);
	} else if (!ipam_dburi_is_postgres(s) && strncmp(s, "sqlite:", 7) &&
		   (colon = strchr(s, ':')) && strchr(colon, '@') &&
		   strchr(ipam_error_last(), '@')) {
		abort(); /* an unsupported URI's user part is never repeated */
	}
	ipam_error_clear();
	free(s);
	return 0;
}
