#include "sql.h"

#include <stdlib.h>

#include "dburi.h"
#include "error.h"
#include "sql_internal.h"
#include "sql_pg_internal.h"
#include "strbuf.h"
#include "banned.h"

/*
 * What ipamctl accepts as a PostgreSQL URI: formats/dburi.h's rules (no
 * password in the URI; sslmode disable, allow or prefer only when every
 * host is a Unix socket or a loopback address), the same the validator of
 * the desired state applies.  The driver adds the default: sslmode
 * verify-full unless the connection stays on the machine.
 */

/* libpq's PGHOSTADDR / PGHOST, where a URI without a host connects: all
 * local (or unset)?  Asked through the same rules, as a URI of them. */
static int env_hosts_local(void)
{
	const char *h = getenv("PGHOSTADDR");
	struct ipam_dburi u = {0};
	struct strbuf sb = STRBUF_INIT;
	int local;

	if (!h || !*h)
		h = getenv("PGHOST");
	if (!h || !*h)
		return 1;
	strbuf_addf(&sb, "postgresql:///?host=%s", h);
	local = !ipam_dburi_parse(&u, sb.buf) && u.local;
	ipam_dburi_release(&u);
	strbuf_release(&sb);
	return local;
}

int ipam_sql_pg_uri_rules(const char *uri, int *local)
{
	struct ipam_dburi u = {0};
	int err;

	*local = 0;
	if (!ipam_dburi_is_postgres(uri))
		return ipam_error_set(IPAM_EINVAL,
				      "a PostgreSQL database URI starts with "
				      "postgresql:// or postgres://");
	err = ipam_dburi_parse(&u, uri);
	if (err)
		return err;
	/* The environment may name the host: TLS by default unless it too
	 * is local (a conservative reading when the URI names one). */
	*local = u.local && env_hosts_local();
	ipam_dburi_release(&u);
	return 0;
}

int ipam_sql_check_uri(const char *uri)
{
	int local;

	return ipam_sql_pg_uri_rules(uri, &local);
}
