#include "ldapconn.h"

#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns.h"
#include "error.h"
#include "ldapconn_internal.h"
#include "sigpipe.h"
#include "text.h"
#include "banned.h"

/*
 * How a connection is made, and why:
 *
 * - Simple binds only ever travel inside TLS: ldaps://, or ldap:// with
 *   StartTLS, where a failed StartTLS is an error and never a fallback.
 *   The certificate must chain to the configured CA file (a TLS context
 *   per handle) and name the host of the URI.
 * - Kerberos (SASL GSSAPI) on ldap:// does not use StartTLS: it seals the
 *   session itself (SSF >= 56).  Samba 4.17 as a DC, by default, refuses
 *   SASL inside TLS both with a security layer and without one, and
 *   Windows refuses a layer inside TLS; a sealed session on port 389 is
 *   what both accept and what Windows' own tools use.  On ldaps:// the
 *   bind asks for no SASL layer (Windows accepts that; the message says
 *   what to do when a Samba DC refuses it).
 * - IPAM_LDAPCONN_PAGE_SIZE (1..1000, default 500) sets the RFC 2696 page
 *   size, so tests can prove that paging works with tiny pages.
 */

/* What a message keeps of a server's diagnostic text. */
#define MAX_DIAG_LEN 300

/*
 * RFC 2696 page size.  AD's MaxPageSize is 1000; IPAM_LDAPCONN_PAGE_SIZE
 * (1..1000) overrides the default so tests can force many pages.
 */
#define PAGE_SIZE_DEFAULT 500
#define PAGE_SIZE_MAX	  1000

int ipam_ldapconn_map_code(int lrc)
{
	switch (lrc) {
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		return IPAM_EIO;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return IPAM_ETIMEOUT;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
		return IPAM_EAUTH;
	case LDAP_NO_SUCH_OBJECT:
	case LDAP_REFERRAL:
		return IPAM_ENOTFOUND;
	case LDAP_NO_MEMORY:
		return IPAM_ENOMEM;
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return IPAM_ELIMIT;
	case LDAP_FILTER_ERROR:
	case LDAP_PARAM_ERROR:
	case LDAP_INVALID_DN_SYNTAX:
	case LDAP_NOT_SUPPORTED:
	case LDAP_AUTH_UNKNOWN:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
	case LDAP_UNAVAILABLE_CRITICAL_EXTENSION:
		return IPAM_EINVAL;
	default:
		return IPAM_ERROR;
	}
}

/*
 * "ldap <op> ['<base>' ]on <uri>: <error>[: <server's words>]".  diag is
 * the server's diagnostic message, or NULL to ask the handle for it.
 */
int ipam_ldapconn_fail(LDAP *ld, const char *uri, int code, int lrc,
		       const char *op, const char *base, const char *diag)
{
	struct strbuf sb = STRBUF_INIT;
	char *own = NULL;

	strbuf_addf(&sb, "ldap %s ", op);
	if (base)
		strbuf_addf(&sb, "'%s' ", base);
	strbuf_addf(&sb, "on %s: %s", uri, ldap_err2string(lrc));
	if (!diag && ld &&
	    ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &own) ==
		    LDAP_OPT_SUCCESS)
		diag = own;
	/* libldap's word for "GnuTLS said something we did not keep". */
	if (diag && diag[0] && strcmp(diag, "(unknown error code)") != 0) {
		strbuf_addstr(&sb, ": ");
		ipam_text_add_clean(&sb, diag, MAX_DIAG_LEN);
	}
	ipam_error_set(code ? code : ipam_ldapconn_map_code(lrc), "%s", sb.buf);
	if (own)
		ldap_memfree(own);
	strbuf_release(&sb);
	return code ? code : ipam_ldapconn_map_code(lrc);
}

int ipam_ldapconn_add_hint(int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&sb, ipam_error_last());
	strbuf_addstr(&sb, " (");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addch(&sb, ')');
	ipam_error_set(code, "%s", sb.buf);
	strbuf_release(&sb);
	return code;
}

int ipam_ldapconn_result_code(LDAP *ld)
{
	int lrc = LDAP_OTHER;

	ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &lrc);
	return lrc;
}

static int page_size_from_env(int *out)
{
	const char *s = getenv("IPAM_LDAPCONN_PAGE_SIZE");
	char *end;
	long v;

	*out = PAGE_SIZE_DEFAULT;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > PAGE_SIZE_MAX)
		return ipam_error_set(IPAM_EINVAL,
				      "IPAM_LDAPCONN_PAGE_SIZE '%s' is not a "
				      "number from 1 to %d",
				      s, PAGE_SIZE_MAX);
	*out = (int)v;
	return 0;
}

static int is_ldaps(const char *uri)
{
	return strncasecmp(uri, "ldaps://", 8) == 0;
}

static int check_uri(const char *uri)
{
	if (strncasecmp(uri, "ldap://", 7) != 0 && !is_ldaps(uri))
		return ipam_error_set(IPAM_EINVAL,
				      "ldap uri '%s' is neither ldap:// nor "
				      "ldaps://",
				      uri);
	/* libldap takes a list; we want to know which server we talk to. */
	if (strpbrk(uri, " \t\n,"))
		return ipam_error_set(
			IPAM_EINVAL, "ldap uri '%s' must name one server", uri);
	return 0;
}

int ipam_ldapconn_set_opt(LDAP *ld, const char *uri, int opt, const void *val,
			  const char *what)
{
	if (ldap_set_option(ld, opt, val) != LDAP_OPT_SUCCESS)
		return ipam_error_set(IPAM_EINVAL, "ldap on %s: cannot set %s",
				      uri, what);
	return 0;
}

/* Options every connection gets before it reaches the network. */
static int setup_handle(struct ipam_ldapconn *l,
			const struct ipam_ldapconn_opts *o)
{
	struct timeval tv = {.tv_sec = l->timeout};
	int version = LDAP_VERSION3;
	int demand = LDAP_OPT_X_TLS_DEMAND;
	int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int newctx = 0;
	ber_len_t max_pdu = MAX_PDU_LEN;
	Sockbuf *sb = NULL;
	int rc;

	rc = ipam_ldapconn_set_opt(l->ld, l->uri, LDAP_OPT_PROTOCOL_VERSION,
				   &version, "protocol version");
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri, LDAP_OPT_REFERRALS,
					   LDAP_OPT_OFF, "referrals");
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_NETWORK_TIMEOUT, &tv,
					   "network timeout");
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON,
					   "asynchronous connect");
	/* Bounds every synchronous call: StartTLS, binds. */
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri, LDAP_OPT_TIMEOUT, &tv,
					   "timeout");
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_X_TLS_REQUIRE_CERT, &demand,
					   "certificate checking");
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12,
					   "minimum TLS version");
	/*
	 * The CA file alone is the trust anchor: a directory of CAs from
	 * ldap.conf would widen it.
	 */
	if (!rc && o->ca_file) {
		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_X_TLS_CACERTFILE,
					   o->ca_file, "CA file");
		if (!rc)
			rc = ipam_ldapconn_set_opt(l->ld, l->uri,
						   LDAP_OPT_X_TLS_CACERTDIR,
						   NULL, "CA directory");
	}
	/* A TLS context of this handle's own, so its CA file applies. */
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri, LDAP_OPT_X_TLS_NEWCTX,
					   &newctx, "TLS context");
	/* Kerberos names the host as written, not as reverse DNS says. */
	if (!rc)
		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON,
					   "SASL host canonicalisation");
	if (!rc &&
	    (ldap_get_option(l->ld, LDAP_OPT_SOCKBUF, &sb) !=
		     LDAP_OPT_SUCCESS ||
	     ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max_pdu) != 1))
		rc = ipam_error_set(IPAM_EINVAL,
				    "ldap on %s: cannot bound message size",
				    l->uri);
	return rc;
}

/*
 * LDAPS is TLS from the first byte.  Connecting to ldap://host:636 and then
 * installing TLS does exactly that, and tells "cannot reach" (the TCP
 * connect) from "certificate refused" (the handshake), which libldap's own
 * ldaps:// reports alike.
 */
static int tcp_uri(struct strbuf *out, const char *uri)
{
	LDAPURLDesc *d = NULL;
	int rc = 0;

	if (ldap_url_parse(uri, &d) != LDAP_URL_SUCCESS || !d->lud_host ||
	    !d->lud_host[0]) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "ldap uri '%s' does not name a server",
				    uri);
		goto out;
	}
	if (!is_ldaps(uri)) {
		strbuf_addstr(out, uri);
		goto out;
	}
	strbuf_addf(out,
		    strchr(d->lud_host, ':') ? "ldap://[%s]:%d"
					     : "ldap://%s:%d",
		    d->lud_host, d->lud_port ? d->lud_port : LDAPS_PORT);
out:
	if (d)
		ldap_free_urldesc(d);
	return rc;
}

/*
 * Wait for the asynchronous TCP connect.  libldap bounds the TLS handshake
 * by the network timeout only for asynchronous connections (2.5 spins on a
 * non-blocking socket otherwise), so we connect that way and wait here,
 * which also tells "unreachable" from a failed handshake.
 */
static int wait_tcp(struct ipam_ldapconn *l)
{
	struct pollfd p = {.events = POLLOUT};
	int err = 0, n;
	socklen_t len = sizeof(err);

	if (ldap_get_option(l->ld, LDAP_OPT_DESC, &p.fd) != LDAP_OPT_SUCCESS ||
	    p.fd < 0)
		return ipam_error_set(IPAM_EIO, "ldap connect on %s: no socket",
				      l->uri);
	do {
		n = poll(&p, 1, l->timeout * 1000);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return ipam_error_set(IPAM_ETIMEOUT,
				      "ldap connect on %s: no answer in %d s",
				      l->uri, l->timeout);
	if (n < 0 || getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return ipam_error_set(IPAM_EIO, "ldap connect on %s: %s",
				      l->uri, strerror(err));
	return 0;
}

/* TCP, then TLS: LDAPS at once, ldap:// by StartTLS, never without. */
static int secure(struct ipam_ldapconn *l, const char *ca_file, int want_tls)
{
	int lrc, code, rc;

	lrc = ldap_connect(l->ld);
	if (lrc != LDAP_SUCCESS && lrc != LDAP_X_CONNECTING)
		return ipam_ldapconn_fail(l->ld, l->uri, 0, lrc, "connect",
					  NULL, NULL);
	rc = wait_tcp(l);
	if (rc)
		return rc;
	if (!is_ldaps(l->uri) && !want_tls)
		return 0;
	if (is_ldaps(l->uri))
		lrc = ldap_install_tls(l->ld);
	else
		lrc = ldap_start_tls_s(l->ld, NULL, NULL);
	if (lrc != LDAP_SUCCESS) {
		/*
		 * A failed handshake or a refused StartTLS is a refused
		 * configuration; never go on in the clear.
		 */
		code = IPAM_EINVAL;
		if (lrc == LDAP_TIMEOUT)
			code = IPAM_ETIMEOUT;
		else if (lrc == LDAP_SERVER_DOWN)
			code = IPAM_EIO;
		rc = ipam_ldapconn_fail(l->ld, l->uri, code, lrc,
					is_ldaps(l->uri) ? "tls handshake"
							 : "StartTLS",
					NULL, NULL);
		if (lrc == LDAP_CONNECT_ERROR)
			rc = ipam_ldapconn_add_hint(
				rc,
				"the server's certificate did not verify "
				"against %s%s%s: an unknown issuer, "
				"expired, or not issued to the host name "
				"of the uri",
				ca_file ? "CA file '" : "the system's CAs",
				ca_file ? ca_file : "", ca_file ? "'" : "");
		return rc;
	}
	l->tls = ldap_tls_inplace(l->ld);
	if (!l->tls)
		return ipam_error_set(IPAM_EINVAL,
				      "ldap connect on %s: no TLS in place",
				      l->uri);
	return 0;
}
static void close_handle(struct ipam_ldapconn *l)
{
	if (l->ld)
		ldap_unbind_ext_s(l->ld, NULL, NULL);
	l->ld = NULL;
}

/* One server: connect, secure, bind, read the rootDSE. */
static int connect_one(struct ipam_ldapconn **out, const char *uri,
		       const struct ipam_ldapconn_opts *o, int timeout,
		       int page_size)
{
	struct ipam_ldapconn *l = xcalloc(1, sizeof(*l));
	struct strbuf tcp = STRBUF_INIT;
	int kerberos = o->auth != IPAM_AUTH_SIMPLE;
	int lrc, rc;

	l->uri = xstrdup(uri);
	l->timeout = timeout;
	l->page_size = page_size;
	rc = check_uri(uri);
	if (!rc)
		rc = tcp_uri(&tcp, uri);
	if (rc)
		goto out;
	lrc = ldap_initialize(&l->ld, tcp.buf);
	if (lrc != LDAP_SUCCESS) {
		rc = ipam_ldapconn_fail(NULL, uri, IPAM_EINVAL, lrc,
					"initialize", NULL, NULL);
		goto out;
	}
	rc = setup_handle(l, o);
	if (rc)
		goto out;
	/* Simple binds always get TLS; Kerberos on ldap:// seals instead. */
	rc = secure(l, o->ca_file, !kerberos);
	if (rc)
		goto out;
	rc = kerberos ? ipam_ldapconn_bind_gssapi(l, o)
		      : ipam_ldapconn_bind_simple(l, o);
	if (rc)
		goto out;
	rc = ipam_ldapconn_read_rootdse(l);
out:
	strbuf_release(&tcp);
	if (rc) {
		ipam_ldapconn_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

static int worth_another_server(int rc)
{
	return rc == IPAM_EIO || rc == IPAM_ETIMEOUT;
}

static int connect_srv(struct ipam_ldapconn **out,
		       const struct ipam_ldapconn_opts *o, int timeout,
		       int page_size)
{
	struct ipam_dns_srv *srv = NULL;
	struct strbuf name = STRBUF_INIT, uri = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t nr = 0, i;
	int rc, tried = 0;

	if (!o->domain || !o->domain[0]) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "ldap: neither a uri nor a domain to look "
				    "up");
		goto out;
	}
	strbuf_addf(&name, "_ldap._tcp.dc._msdcs.%s", o->domain);
	rc = ipam_dns_srv(&srv, &nr, name.buf, timeout);
	if (rc) {
		rc = ipam_error_prefix(rc,
				       "finding the domain controllers of "
				       "'%s'",
				       o->domain);
		goto out;
	}
	rc = IPAM_EIO;
	for (i = 0; i < nr; i++) {
		/* "." as the target: the service is not offered there. */
		if (!srv[i].target || !srv[i].target[0] ||
		    strcmp(srv[i].target, ".") == 0)
			continue;
		strbuf_reset(&uri);
		strbuf_addf(&uri, "ldap://%s:%d", srv[i].target, srv[i].port);
		rc = connect_one(out, uri.buf, o, timeout, page_size);
		tried++;
		if (!rc || !worth_another_server(rc))
			goto out;
		strbuf_addstr(&why, why.len ? "; " : "");
		strbuf_addstr(&why, ipam_error_last());
	}
	if (!tried)
		rc = ipam_error_set(IPAM_EIO,
				    "no domain controller of '%s': no SRV "
				    "record '%s'",
				    o->domain, name.buf);
	else
		rc = ipam_error_set(rc,
				    "no domain controller of '%s' answered "
				    "(%d tried): %s",
				    o->domain, tried, why.buf);
out:
	ipam_dns_srv_free(srv, nr);
	strbuf_release(&why);
	strbuf_release(&uri);
	strbuf_release(&name);
	return rc;
}

int ipam_ldapconn_connect(struct ipam_ldapconn **out,
			  const struct ipam_ldapconn_opts *o)
{
	int timeout = o->timeout > 0 ? o->timeout : IPAM_DEFAULT_TIMEOUT;
	struct ipam_sigpipe g;
	int page_size, rc;

	*out = NULL;
	rc = page_size_from_env(&page_size);
	if (rc)
		return rc;
	if (o->auth == IPAM_AUTH_SIMPLE && (!o->password || !o->password[0]))
		return ipam_error_set(IPAM_EINVAL,
				      "ldap: simple bind as '%s' needs a "
				      "password",
				      o->user ? o->user : "");
	ipam_sigpipe_block(&g);
	if (o->uri)
		rc = connect_one(out, o->uri, o, timeout, page_size);
	else
		rc = connect_srv(out, o, timeout, page_size);
	ipam_sigpipe_restore(&g);
	return rc;
}

void ipam_ldapconn_close(struct ipam_ldapconn *l)
{
	struct ipam_sigpipe g;

	if (!l)
		return;
	ipam_sigpipe_block(&g);
	close_handle(l);
	ipam_sigpipe_restore(&g);
	free(l->uri);
	free(l->default_nc);
	free(l->config_nc);
	free(l->root_nc);
	free(l);
}
