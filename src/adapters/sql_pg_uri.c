#include "sql.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "sql_internal.h"
#include "sql_pg_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * What ipamctl accepts as a PostgreSQL URI.  The password never comes in
 * the URI (it would be in the desired state, in argv, in messages): from
 * passwordFile/passwordEnv or libpq's PGPASSFILE.  A connection that
 * leaves the machine is made with TLS: sslmode defaults to verify-full
 * there (the driver passes it unless the URI names one), and the modes
 * that may run without TLS (disable, allow, prefer) are refused unless
 * every host is a Unix socket or a loopback address.
 */

static int is_uri(const char *uri)
{
	return !strncmp(uri, "postgresql://", 13) ||
	       !strncmp(uri, "postgres://", 11);
}

/* One entry of a host or hostaddr list: a socket directory, localhost or
 * a loopback address. */
static int local_host(const char *h, size_t n)
{
	char buf[64];
	struct in6_addr a6;
	struct in_addr a4;

	if (n == 0 || h[0] == '/' || h[0] == '@')
		return 1;
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (!strcasecmp(buf, "localhost"))
		return 1;
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, buf, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* Every entry of a comma-separated list is local (an absent list: libpq
 * takes PGHOST, else the default socket). */
static int all_local(const char *list)
{
	const char *p = list;

	if (!list)
		return 1;
	for (;;) {
		size_t n = strcspn(p, ",");

		if (!local_host(p, n))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

int ipam_sql_pg_uri_rules(const char *uri, int *local)
{
	const char *host = NULL, *hostaddr = NULL, *sslmode = NULL;
	PQconninfoOption *opts, *o;
	int has_password = 0;
	char *msg = NULL;

	*local = 0;
	if (!is_uri(uri))
		return ipam_error_set(IPAM_EINVAL,
				      "a PostgreSQL database URI starts with "
				      "postgresql:// or postgres://");
	opts = PQconninfoParse(uri, &msg);
	if (!opts) {
		struct strbuf sb = STRBUF_INIT;
		int err;

		/* The message may quote the URI: it is not repeated, since
		 * it may hold a password. */
		strbuf_addstr(&sb, msg ? msg : "out of memory");
		strbuf_rtrim_newline(&sb);
		err = ipam_error_set(IPAM_EINVAL,
				     "the PostgreSQL database URI does not "
				     "parse: %s",
				     sb.buf);
		strbuf_release(&sb);
		PQfreemem(msg);
		return err;
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (!strcmp(o->keyword, "password"))
			has_password = 1;
		else if (!strcmp(o->keyword, "host"))
			host = o->val;
		else if (!strcmp(o->keyword, "hostaddr"))
			hostaddr = o->val;
		else if (!strcmp(o->keyword, "sslmode"))
			sslmode = o->val;
	}
	if (!host && !hostaddr) {
		host = getenv("PGHOST");
		hostaddr = getenv("PGHOSTADDR");
	}
	/* hostaddr is where libpq connects; host then only names it. */
	*local = hostaddr ? all_local(hostaddr) : all_local(host);
	if (has_password) {
		PQconninfoFree(opts);
		return ipam_error_set(IPAM_EINVAL,
				      "the PostgreSQL database URI holds a "
				      "password: give it with passwordFile "
				      "or passwordEnv (databaseConnection), "
				      "or in PGPASSFILE");
	}
	if (sslmode && !*local &&
	    (!strcmp(sslmode, "disable") || !strcmp(sslmode, "allow") ||
	     !strcmp(sslmode, "prefer"))) {
		int err = ipam_error_set(
			IPAM_EINVAL,
			"database '%s': sslmode=%s may connect without TLS, "
			"which is accepted only for a Unix socket or a "
			"loopback address (use verify-full, the default)",
			uri, sslmode);

		PQconninfoFree(opts);
		return err;
	}
	PQconninfoFree(opts);
	return 0;
}

int ipam_sql_check_uri(const char *uri)
{
	int local;

	return ipam_sql_pg_uri_rules(uri, &local);
}
