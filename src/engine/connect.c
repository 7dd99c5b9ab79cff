#include "connect.h"

#include <string.h>

#include "error.h"
#include "ldapconn.h"
#include "secret.h"
#include "smb.h"
#include "strbuf.h"
#include "banned.h"

int ipam_connect_ldap(struct ipam_ldapconn **out, const struct ipam_domain *dom)
{
	const struct ipam_connection *c = &dom->effective;
	struct ipam_ldapconn_opts lo = {0};
	struct strbuf pw = STRBUF_INIT;
	int rc = 0;

	*out = NULL;
	lo.domain = dom->name;
	lo.uri = c->ldap_uri.value;
	lo.auth = c->auth;
	lo.ca_file = c->ca_file.value;
	lo.timeout = c->timeout;
	if (c->auth == IPAM_AUTH_SIMPLE) {
		lo.user = c->user.value;
		/* An unreadable secret is a credentials failure. */
		if (ipam_secret_read(&pw, c->password_file.value,
				     c->password_env.value))
			rc = IPAM_EAUTH;
		lo.password = pw.buf;
	} else {
		lo.keytab = c->keytab.value;
		lo.principal = c->principal.value;
		lo.ccache = c->ccache.value;
	}
	if (!rc)
		rc = ipam_ldapconn_connect(out, &lo);
	ipam_secret_wipe(&pw);
	return rc;
}

int ipam_connect_smb(struct ipam_smb **out, const struct ipam_domain *dom,
		     const char *server)
{
	const struct ipam_connection *c = &dom->effective;
	struct ipam_smb_opts so = {0};
	struct strbuf pw = STRBUF_INIT;
	int rc = 0;

	*out = NULL;
	so.server = server;
	so.auth = c->auth;
	so.timeout = c->timeout;
	if (c->auth == IPAM_AUTH_SIMPLE) {
		so.user = c->user.value;
		if (ipam_secret_read(&pw, c->password_file.value,
				     c->password_env.value))
			rc = IPAM_EAUTH;
		so.password = pw.buf;
	} else {
		so.keytab = c->keytab.value;
		so.principal = c->principal.value;
		so.ccache = c->ccache.value;
	}
	if (!rc)
		rc = ipam_smb_connect(out, &so);
	ipam_secret_wipe(&pw);
	return rc;
}
