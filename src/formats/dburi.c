#include "dburi.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The rules that keep a database password and a plain-text connection
 * out of the desired state: a URI is in messages, logs and the run
 * history, so a password never lives there (databaseConnection names a
 * file or a variable, or libpq reads PGPASSFILE); and a connection that
 * leaves the host is encrypted and verified.
 */

bool ipam_dburi_is_postgres(const char *uri)
{
	return uri && (!strncmp(uri, "postgresql://", 13) ||
		       !strncmp(uri, "postgres://", 11));
}

static bool has_scheme(const char *v)
{
	const char *p = v;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > v && *p == ':';
}

/* "%2F" and friends, for the socket directory in the host part. */
static char *pct_decode(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], 0};

			strbuf_addch(&sb, (char)strtol(hex, NULL, 16));
			i += 2;
			continue;
		}
		strbuf_addch(&sb, s[i]);
	}
	return strbuf_detach(&sb, NULL);
}

/* A host of a libpq URI that never leaves this machine. */
static bool host_is_local(const char *h)
{
	if (!*h || *h == '/')
		return true;
	if (!strcmp(h, "localhost") || !strcmp(h, "[::1]") || !strcmp(h, "::1"))
		return true;
	return !strncmp(h, "127.", 4) &&
	       strspn(h + 4, "0123456789.") == strlen(h + 4);
}

/* Every host of a comma-separated list (each maybe with :port) local. */
static bool hosts_local(const char *list, size_t n)
{
	char *all = pct_decode(list, n), *p = all;
	bool local = true;

	for (;;) {
		size_t len = strcspn(p, ",");
		char save = p[len];
		char *colon;

		p[len] = '\0';
		/* [v6]:port, host:port; a socket directory has no port */
		colon = *p == '[' ? strstr(p, "]:") : strrchr(p, ':');
		if (colon && *p == '[')
			colon[1] = '\0';
		else if (colon && *p != '/')
			*colon = '\0';
		if (!host_is_local(p))
			local = false;
		if (!save)
			break;
		p += len + 1;
	}
	free(all);
	return local;
}

/* The value of ?key=... (n bytes at *val), or NULL. */
static const char *query_param(const char *query, const char *key, size_t *n)
{
	const char *p = query;
	size_t klen = strlen(key);

	while (p && *p) {
		size_t len = strcspn(p, "&");

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			*n = len - klen - 1;
			return p + klen + 1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return NULL;
}

static int parse_postgres(struct ipam_dburi *u, const char *uri)
{
	static const char *const modes[] = {"disable",	 "allow",
					    "prefer",	 "require",
					    "verify-ca", "verify-full"};
	const char *auth = strstr(uri, "://") + 3, *end, *at = NULL, *q;
	const char *query = strchr(uri, '?'), *hosts, *v;
	size_t n, i;

	end = auth + strcspn(auth, "/?");
	for (q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	if (at && memchr(auth, ':', (size_t)(at - auth)))
		return ipam_error_set(
			IPAM_EINVAL,
			"a password in the database URI is refused: name a "
			"file or a variable with databaseConnection."
			"passwordFile or passwordEnv, or use libpq's "
			"PGPASSFILE");
	if (query && query_param(query + 1, "password", &n))
		return ipam_error_set(
			IPAM_EINVAL,
			"a password in the database URI (password=) is "
			"refused: name a file or a variable with "
			"databaseConnection.passwordFile or passwordEnv, or "
			"use libpq's PGPASSFILE");
	hosts = at ? at + 1 : auth;
	n = (size_t)(end - hosts);
	if (query && (v = query_param(query + 1, "host", &n)))
		hosts = v;
	/* hostaddr, when given, is where libpq connects */
	if (query && (v = query_param(query + 1, "hostaddr", &n)))
		hosts = v;
	u->kind = IPAM_DBURI_POSTGRES;
	u->local = hosts_local(hosts, n);
	if (query && (v = query_param(query + 1, "sslmode", &n)))
		u->sslmode = xstrndup(v, n);
	if (!u->sslmode)
		return 0;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(u->sslmode, modes[i]))
			break;
	if (i == sizeof(modes) / sizeof(modes[0]))
		return ipam_error_set(IPAM_EINVAL,
				      "unknown sslmode '%s' in the database "
				      "URI",
				      u->sslmode);
	if (i < 3 && !u->local)
		return ipam_error_set(
			IPAM_EINVAL,
			"sslmode=%s in the database URI is accepted only for "
			"a Unix socket or loopback: a connection to another "
			"host is encrypted and verified (sslmode=verify-full, "
			"the default)",
			u->sslmode);
	return 0;
}

int ipam_dburi_parse(struct ipam_dburi *u, const char *uri)
{
	const char *p = uri;
	int err;

	memset(u, 0, sizeof(*u));
	if (ipam_dburi_is_postgres(uri)) {
		err = parse_postgres(u, uri);
		if (err)
			ipam_dburi_release(u);
		return err;
	}
	if (!strncmp(p, "sqlite:", 7)) {
		p += 7;
		/* sqlite:///abs/path is the URL spelling of /abs/path. */
		if (!strncmp(p, "//", 2))
			p += 2;
	} else if (has_scheme(p)) {
		/* the scheme alone: the rest may hold a password */
		return ipam_error_set(IPAM_EINVAL,
				      "unsupported database scheme '%.*s:': "
				      "use sqlite:PATH or postgresql://",
				      (int)strcspn(p, ":"), p);
	}
	if (!*p)
		return ipam_error_set(IPAM_EINVAL,
				      "database '%s' names no file", uri);
	u->kind = IPAM_DBURI_SQLITE;
	u->path = xstrdup(p);
	return 0;
}

void ipam_dburi_release(struct ipam_dburi *u)
{
	if (!u)
		return;
	free(u->path);
	free(u->sslmode);
	memset(u, 0, sizeof(*u));
}
