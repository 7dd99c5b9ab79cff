#include "ldapconn.h"

#include <errno.h>
#include <inttypes.h>
#include <lber.h>
#include <ldap.h>
#include <poll.h>
#include <pthread.h>
#include <sasl/sasl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns.h"
#include "error.h"
#include "text.h"
#include "sigpipe.h"
#include "utf8.h"
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

/* Bounds on what a server may send us (see the header). */
#define MAX_VALUE_LEN	 (1024 * 1024)
#define MAX_ENTRY_VALUES 10000
/* One LDAP message; larger ones break the connection in liblber. */
#define MAX_PDU_LEN    (32 * 1024 * 1024)
#define MAX_COOKIE_LEN (64 * 1024)
#define MAX_DIAG_LEN   300
#define MAX_KEYTAB_LEN (1024 * 1024)

/*
 * RFC 2696 page size.  AD's MaxPageSize is 1000; IPAM_LDAPCONN_PAGE_SIZE
 * (1..1000) overrides the default so tests can force many pages.
 */
#define PAGE_SIZE_DEFAULT 500
#define PAGE_SIZE_MAX	  1000

/* SASL confidentiality (seal) when Kerberos runs without TLS. */
#define SEAL_MIN_SSF 56

struct ipam_ldapconn {
	LDAP *ld;
	char *uri;
	char *default_nc;
	char *config_nc;
	char *root_nc;
	int timeout;
	int page_size;
	int tls;       /* TLS in place (LDAPS or StartTLS) */
	size_t writes; /* write requests sent */
};

/* One attribute held while its entry is being delivered. */
struct held_attr {
	char *name;
	struct berval **bv;
	size_t nr;
};

struct search_state {
	struct ipam_ldapconn *l;
	const char *base;
	ipam_ldapconn_entry_fn fn;
	void *ctx;
	struct held_attr *held;
	size_t nr_held, alloc_held;
	struct ipam_ldapconn_attr *attrs;
	size_t alloc_attrs;
	struct ipam_ldapconn_value *vals;
	size_t alloc_vals;
};

static int map_code(int lrc)
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
static int ldap_fail(LDAP *ld, const char *uri, int code, int lrc,
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
	ipam_error_set(code ? code : map_code(lrc), "%s", sb.buf);
	if (own)
		ldap_memfree(own);
	strbuf_release(&sb);
	return code ? code : map_code(lrc);
}

/* Add " (why)" after the current message; returns code. */
static int add_hint(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_hint(int code, const char *fmt, ...)
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

static int handle_errno(LDAP *ld)
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

static int set_opt(LDAP *ld, const char *uri, int opt, const void *val,
		   const char *what)
{
	if (ldap_set_option(ld, opt, val) != LDAP_OPT_SUCCESS)
		return ipam_error_set(IPAM_EINVAL, "ldap on %s: cannot set %s",
				      uri, what);
	return 0;
}

/* Options every connection gets before it reaches the network. */
static int setup_handle(struct ipam_ldapconn *l, const struct ipam_ldapconn_opts *o)
{
	struct timeval tv = {.tv_sec = l->timeout};
	int version = LDAP_VERSION3;
	int demand = LDAP_OPT_X_TLS_DEMAND;
	int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int newctx = 0;
	ber_len_t max_pdu = MAX_PDU_LEN;
	Sockbuf *sb = NULL;
	int rc;

	rc = set_opt(l->ld, l->uri, LDAP_OPT_PROTOCOL_VERSION, &version,
		     "protocol version");
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_REFERRALS, LDAP_OPT_OFF,
			     "referrals");
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_NETWORK_TIMEOUT, &tv,
			     "network timeout");
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON,
			     "asynchronous connect");
	/* Bounds every synchronous call: StartTLS, binds. */
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_TIMEOUT, &tv, "timeout");
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_TLS_REQUIRE_CERT,
			     &demand, "certificate checking");
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12,
			     "minimum TLS version");
	/*
	 * The CA file alone is the trust anchor: a directory of CAs from
	 * ldap.conf would widen it.
	 */
	if (!rc && o->ca_file) {
		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_TLS_CACERTFILE,
			     o->ca_file, "CA file");
		if (!rc)
			rc = set_opt(l->ld, l->uri, LDAP_OPT_X_TLS_CACERTDIR,
				     NULL, "CA directory");
	}
	/* A TLS context of this handle's own, so its CA file applies. */
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_TLS_NEWCTX, &newctx,
			     "TLS context");
	/* Kerberos names the host as written, not as reverse DNS says. */
	if (!rc)
		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_SASL_NOCANON,
			     LDAP_OPT_ON, "SASL host canonicalisation");
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
		return ldap_fail(l->ld, l->uri, 0, lrc, "connect", NULL, NULL);
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
		rc = ldap_fail(l->ld, l->uri, code, lrc,
			       is_ldaps(l->uri) ? "tls handshake" : "StartTLS",
			       NULL, NULL);
		if (lrc == LDAP_CONNECT_ERROR)
			rc = add_hint(
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

static int bind_simple(struct ipam_ldapconn *l, const struct ipam_ldapconn_opts *o)
{
	struct berval cred;
	int lrc;

	if (!o->user || !o->user[0])
		return ipam_error_set(IPAM_EINVAL,
				      "ldap bind on %s: simple bind needs a "
				      "user",
				      l->uri);
	/* An empty password is an unauthenticated bind (RFC 4513 5.1.2). */
	if (!o->password || !o->password[0])
		return ipam_error_set(IPAM_EINVAL,
				      "ldap bind as '%s' on %s: empty password",
				      o->user, l->uri);
	/* The one place a password leaves us: only ever inside TLS. */
	if (!l->tls || !ldap_tls_inplace(l->ld))
		return ipam_error_set(IPAM_EINVAL,
				      "ldap bind as '%s' on %s: refusing a "
				      "simple bind without TLS",
				      o->user, l->uri);
	/* The caller owns the password; nothing here copies it. */
	cred.bv_val = (char *)o->password;
	cred.bv_len = strlen(o->password);
	lrc = ldap_sasl_bind_s(l->ld, o->user, LDAP_SASL_SIMPLE, &cred, NULL,
			       NULL, NULL);
	cred.bv_val = NULL;
	if (lrc != LDAP_SUCCESS) {
		struct strbuf op = STRBUF_INIT;
		int rc;

		strbuf_addf(&op, "simple bind as '%s'", o->user);
		rc = ldap_fail(l->ld, l->uri, 0, lrc, op.buf, NULL, NULL);
		strbuf_release(&op);
		return rc;
	}
	return 0;
}

/* GSSAPI asks at most for an authorisation id: we want none. */
static int sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *it;

	(void)ld;
	(void)flags;
	(void)defaults;
	for (it = in; it->id != SASL_CB_LIST_END; it++) {
		it->result = it->defresult ? it->defresult : "";
		it->len = (unsigned)strlen(it->result);
	}
	return LDAP_SUCCESS;
}

/* 16-bit and 32-bit big-endian reads for the keytab format. */
static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Append one counted string at *p (bounded by end) to sb. */
static int keytab_string(struct strbuf *sb, const unsigned char **p,
			 const unsigned char *end)
{
	size_t n;

	if (end - *p < 2)
		return -1;
	n = get16(*p);
	*p += 2;
	if ((size_t)(end - *p) < n)
		return -1;
	strbuf_add(sb, *p, n);
	*p += n;
	return 0;
}

/*
 * MIT Kerberos, given a client keytab and no principal, takes the first
 * entry's: read it (file format version 0x502) so the caller's principal
 * can be checked against it, and a missing keytab is named plainly.
 */
static int keytab_first_principal(struct strbuf *out, const char *keytab)
{
	const char *path = keytab;
	unsigned char *data = NULL;
	const unsigned char *p, *end;
	struct strbuf realm = STRBUF_INIT;
	size_t len = 0;
	FILE *f = NULL;
	int rc = 0;

	if (strncmp(path, "FILE:", 5) == 0)
		path += 5;
	f = fopen(path, "rb");
	if (!f) {
		rc = ipam_error_set(IPAM_EINVAL, "cannot open keytab '%s': %s",
				    keytab, strerror(errno));
		goto out;
	}
	data = xmalloc(MAX_KEYTAB_LEN);
	len = fread(data, 1, MAX_KEYTAB_LEN, f);
	if (ferror(f) || len == MAX_KEYTAB_LEN || len < 2 ||
	    get16(data) != 0x502) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "keytab '%s' is not a version 2 keytab "
				    "under 1 MiB",
				    keytab);
		goto out;
	}
	p = data + 2;
	end = data + len;
	while (end - p >= 4) {
		int32_t size = (int32_t)get32(p);
		const unsigned char *e;
		unsigned i, ncomp;

		p += 4;
		if (size < 0) {
			/* A hole left by a deleted entry. */
			if ((size_t)(end - p) < (size_t) - (int64_t)size)
				break;
			p += (size_t) - (int64_t)size;
			continue;
		}
		if (size == 0 || (size_t)(end - p) < (size_t)size)
			break;
		e = p + size;
		if (e - p < 2)
			break;
		ncomp = get16(p);
		p += 2;
		if (keytab_string(&realm, &p, e))
			break;
		for (i = 0; i < ncomp; i++) {
			if (i)
				strbuf_addch(out, '/');
			if (keytab_string(out, &p, e))
				break;
		}
		if (i < ncomp || ncomp == 0)
			break;
		strbuf_addch(out, '@');
		strbuf_add(out, realm.buf, realm.len);
		goto out;
	}
	strbuf_reset(out);
	rc = ipam_error_set(IPAM_EINVAL, "keytab '%s' holds no usable entry",
			    keytab);
out:
	strbuf_release(&realm);
	if (data) {
		/* It held keys. */
		explicit_bzero(data, MAX_KEYTAB_LEN);
		free(data);
	}
	if (f)
		fclose(f);
	return rc;
}

/* An environment variable as it was, to put back after the bind. */
struct saved_env {
	const char *name;
	char *value; /* NULL: was unset */
};

static void env_save_set(struct saved_env *s, const char *name,
			 const char *value)
{
	const char *old = getenv(name);

	s->name = name;
	s->value = old ? xstrdup(old) : NULL;
	setenv(name, value, 1);
}

static void env_restore(struct saved_env *s)
{
	if (!s->name)
		return;
	if (s->value)
		setenv(s->name, s->value, 1);
	else
		unsetenv(s->name);
	free(s->value);
	s->name = NULL;
	s->value = NULL;
}

/*
 * SASL GSSAPI.  The Kerberos library takes its credentials from the
 * environment, so for the length of the bind KRB5CCNAME points at the
 * configured cache, or, with a keytab, KRB5_CLIENT_KTNAME at the keytab
 * and KRB5CCNAME at a private in-memory cache: the user's own cache is
 * never read or written.  Not thread-safe (setenv), like the rest of the
 * connect.  With a cache, its own principal binds (o->principal is for
 * keytabs).  The in-memory cache lives on until the process ends: only
 * libkrb5 could destroy it, and this adapter links libldap alone.
 *
 * Security layer: over TLS no SASL layer at all (Windows, and Samba,
 * refuse sign or seal inside TLS); without TLS the Kerberos seal layer is
 * required (SSF >= 56), which is what Samba's default "ldap server require
 * strong auth = yes" demands and what Windows' own tools do.
 */
static int bind_gssapi(struct ipam_ldapconn *l, const struct ipam_ldapconn_opts *o)
{
	static unsigned cache_seq;
	struct saved_env cc = {0}, kt = {0};
	struct strbuf first = STRBUF_INIT, name = STRBUF_INIT;
	ber_len_t ssf = 0;
	int lrc, rc = 0;

	if (l->tls) {
		ber_len_t zero = 0;

		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_SASL_SSF_MAX, &zero,
			     "SASL maximum SSF");
	} else {
		ber_len_t min = SEAL_MIN_SSF;

		rc = set_opt(l->ld, l->uri, LDAP_OPT_X_SASL_SSF_MIN, &min,
			     "SASL minimum SSF");
	}
	if (rc)
		goto out;

	if (o->keytab) {
		rc = keytab_first_principal(&first, o->keytab);
		if (rc)
			goto out;
		if (o->principal && strcasecmp(o->principal, first.buf)) {
			rc = ipam_error_set(
				IPAM_EINVAL,
				"principal '%s' is not the first entry of "
				"keytab '%s' ('%s'), the one Kerberos uses: "
				"export a keytab that starts with it",
				o->principal, o->keytab, first.buf);
			goto out;
		}
		strbuf_addf(&name, "MEMORY:ipamctl-ldap-%ld-%u", (long)getpid(),
			    ++cache_seq);
		env_save_set(&kt, "KRB5_CLIENT_KTNAME", o->keytab);
		env_save_set(&cc, "KRB5CCNAME", name.buf);
	} else if (o->ccache) {
		env_save_set(&cc, "KRB5CCNAME", o->ccache);
	}

	lrc = ldap_sasl_interactive_bind_s(l->ld, NULL, "GSSAPI", NULL, NULL,
					   LDAP_SASL_QUIET, sasl_interact,
					   NULL);
	env_restore(&cc);
	env_restore(&kt);
	if (lrc != LDAP_SUCCESS) {
		int code = map_code(lrc);

		/* Kerberos failures surface as local SASL errors. */
		if (lrc == LDAP_LOCAL_ERROR)
			code = IPAM_EAUTH;
		strbuf_reset(&name);
		if (o->keytab)
			strbuf_addf(&name,
				    "kerberos bind as '%s' from keytab "
				    "'%s'",
				    first.buf, o->keytab);
		else if (o->ccache)
			strbuf_addf(&name,
				    "kerberos bind from credential "
				    "cache '%s'",
				    o->ccache);
		else
			strbuf_addstr(&name, "kerberos bind from the default "
					     "credential cache");
		rc = ldap_fail(l->ld, l->uri, code, lrc, name.buf, NULL, NULL);
		if (lrc == LDAP_STRONG_AUTH_REQUIRED && l->tls)
			rc = add_hint(rc,
				      "the server accepts Kerberos neither "
				      "with nor without a SASL security layer "
				      "inside TLS, as Samba does with 'ldap "
				      "server require strong auth = yes': use "
				      "an ldap:// uri, where Kerberos seals "
				      "the session");
		goto out;
	}
	if (!l->tls) {
		/* Belt and braces: never keep an unprotected session. */
		if (ldap_get_option(l->ld, LDAP_OPT_X_SASL_SSF, &ssf) !=
			    LDAP_OPT_SUCCESS ||
		    ssf < SEAL_MIN_SSF) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "ldap bind on %s: kerberos session "
					    "is not sealed (SSF %lu)",
					    l->uri, (unsigned long)ssf);
			goto out;
		}
	}
out:
	env_restore(&cc);
	env_restore(&kt);
	strbuf_release(&name);
	strbuf_release(&first);
	return rc;
}

static int copy_first(char **out, const struct ipam_ldapconn_entry *e,
		      const char *attr)
{
	const char *v = ipam_ldapconn_entry_str(e, attr);

	if (!v || !*v)
		return ipam_error_set(IPAM_EIO, "the rootDSE lacks %s", attr);
	free(*out);
	*out = xstrdup(v);
	return 0;
}

static int rootdse_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct ipam_ldapconn *l = ctx;
	int rc;

	rc = copy_first(&l->default_nc, e, "defaultNamingContext");
	if (!rc)
		rc = copy_first(&l->config_nc, e, "configurationNamingContext");
	if (!rc)
		rc = copy_first(&l->root_nc, e, "rootDomainNamingContext");
	return rc;
}

static int search(struct ipam_ldapconn *l, const char *base,
		  enum ipam_ldapconn_scope scope, const char *filter,
		  const char *const attrs[], ipam_ldapconn_entry_fn fn, void *ctx,
		  int paged, LDAPControl *extra);

static int read_rootdse(struct ipam_ldapconn *l)
{
	static const char *const attrs[] = {"defaultNamingContext",
					    "configurationNamingContext",
					    "rootDomainNamingContext", NULL};
	int rc;

	rc = search(l, "", IPAM_LDAPCONN_BASE, "(objectClass=*)", attrs,
		    rootdse_entry, l, 0, NULL);
	if (rc)
		return ipam_error_prefix(rc, "reading the rootDSE");
	if (!l->default_nc)
		return ipam_error_set(IPAM_EIO,
				      "ldap search '' on %s: no "
				      "rootDSE",
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
		rc = ldap_fail(NULL, uri, IPAM_EINVAL, lrc, "initialize", NULL,
			       NULL);
		goto out;
	}
	rc = setup_handle(l, o);
	if (rc)
		goto out;
	/* Simple binds always get TLS; Kerberos on ldap:// seals instead. */
	rc = secure(l, o->ca_file, !kerberos);
	if (rc)
		goto out;
	rc = kerberos ? bind_gssapi(l, o) : bind_simple(l, o);
	if (rc)
		goto out;
	rc = read_rootdse(l);
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

static int connect_srv(struct ipam_ldapconn **out, const struct ipam_ldapconn_opts *o,
		       int timeout, int page_size)
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

int ipam_ldapconn_connect(struct ipam_ldapconn **out, const struct ipam_ldapconn_opts *o)
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

const char *ipam_ldapconn_uri(const struct ipam_ldapconn *l)
{
	return l->uri;
}

const char *ipam_ldapconn_default_nc(const struct ipam_ldapconn *l)
{
	return l->default_nc;
}

const char *ipam_ldapconn_config_nc(const struct ipam_ldapconn *l)
{
	return l->config_nc;
}

const char *ipam_ldapconn_root_domain_nc(const struct ipam_ldapconn *l)
{
	return l->root_nc;
}

const struct ipam_ldapconn_value *
ipam_ldapconn_entry_values(const struct ipam_ldapconn_entry *e, const char *attr,
		       size_t *nr)
{
	size_t i;

	for (i = 0; i < e->nr; i++) {
		if (strcasecmp(e->attrs[i].name, attr) == 0) {
			*nr = e->attrs[i].nr;
			return e->attrs[i].values;
		}
	}
	*nr = 0;
	return NULL;
}

const char *ipam_ldapconn_entry_str(const struct ipam_ldapconn_entry *e,
				const char *attr)
{
	size_t nr;
	const struct ipam_ldapconn_value *v = ipam_ldapconn_entry_values(e, attr, &nr);

	return nr ? v[0].data : NULL;
}

static void release_held(struct search_state *s)
{
	size_t i;

	for (i = 0; i < s->nr_held; i++) {
		ldap_memfree(s->held[i].name);
		ldap_value_free_len(s->held[i].bv);
	}
	s->nr_held = 0;
}

static void search_state_release(struct search_state *s)
{
	release_held(s);
	free(s->held);
	free(s->attrs);
	free(s->vals);
}

/* Turn one entry into plain structs, check its bounds, hand it over. */
static int deliver_entry(struct search_state *s, LDAPMessage *msg)
{
	LDAP *ld = s->l->ld;
	struct ipam_ldapconn_entry e = {0};
	BerElement *ber = NULL;
	char *dn = NULL, *a;
	size_t total = 0, i, j, k;
	int ok = LDAP_SUCCESS, rc = 0;

	dn = ldap_get_dn(ld, msg);
	if (!dn) {
		rc = ldap_fail(ld, s->l->uri, IPAM_EIO, handle_errno(ld),
			       "search", s->base, NULL);
		goto out;
	}
	ldap_set_option(ld, LDAP_OPT_RESULT_CODE, &ok);
	for (a = ldap_first_attribute(ld, msg, &ber); a;
	     a = ldap_next_attribute(ld, msg, ber)) {
		struct held_attr *h;

		ALLOC_GROW(s->held, s->nr_held + 1, s->alloc_held);
		h = &s->held[s->nr_held++];
		h->name = a;
		/* libldap copies each value and NUL-terminates it. */
		h->bv = ldap_get_values_len(ld, msg, a);
		h->nr = h->bv ? (size_t)ldap_count_values_len(h->bv) : 0;
		total += h->nr;
		if (total > MAX_ENTRY_VALUES) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "ldap search '%s' on %s: entry "
					    "'%s' has more than %d values",
					    s->base, s->l->uri, dn,
					    MAX_ENTRY_VALUES);
			goto out;
		}
		for (j = 0; j < h->nr; j++) {
			if (h->bv[j]->bv_len > MAX_VALUE_LEN) {
				rc = ipam_error_set(
					IPAM_ELIMIT,
					"ldap search '%s' on %s: value of "
					"'%s' in '%s' is larger than 1 MiB",
					s->base, s->l->uri, a, dn);
				goto out;
			}
		}
	}
	if (handle_errno(ld) != LDAP_SUCCESS) {
		rc = ldap_fail(ld, s->l->uri, IPAM_EIO, handle_errno(ld),
			       "search", s->base, NULL);
		goto out;
	}

	ALLOC_GROW(s->attrs, s->nr_held, s->alloc_attrs);
	ALLOC_GROW(s->vals, total, s->alloc_vals);
	for (i = 0, k = 0; i < s->nr_held; i++) {
		s->attrs[i].name = s->held[i].name;
		s->attrs[i].values = s->vals + k;
		s->attrs[i].nr = s->held[i].nr;
		for (j = 0; j < s->held[i].nr; j++, k++) {
			s->vals[k].data = s->held[i].bv[j]->bv_val;
			s->vals[k].len = s->held[i].bv[j]->bv_len;
		}
	}
	e.dn = dn;
	e.attrs = s->attrs;
	e.nr = s->nr_held;
	rc = s->fn(s->ctx, &e);
out:
	release_held(s);
	if (ber)
		ber_free(ber, 0);
	if (dn)
		ldap_memfree(dn);
	return rc;
}

/* The final result of one page; *cookie gets the next page's cookie. */
static int page_result(struct search_state *s, LDAPMessage *msg,
		       struct berval *cookie)
{
	LDAP *ld = s->l->ld;
	LDAPControl **sctrls = NULL, *page;
	char *diag = NULL, *matched = NULL, **refs = NULL;
	ber_int_t count = 0;
	int err = LDAP_SUCCESS, lrc, rc = 0;

	lrc = ldap_parse_result(ld, msg, &err, &matched, &diag, &refs, &sctrls,
				0);
	if (lrc != LDAP_SUCCESS) {
		rc = ldap_fail(ld, s->l->uri, IPAM_EIO, lrc, "search", s->base,
			       NULL);
		goto out;
	}
	if (err != LDAP_SUCCESS) {
		rc = ldap_fail(ld, s->l->uri, 0, err, "search", s->base,
			       diag ? diag : "");
		goto out;
	}
	page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL);
	if (!page)
		goto out;
	lrc = ldap_parse_pageresponse_control(ld, page, &count, cookie);
	if (lrc != LDAP_SUCCESS) {
		rc = ldap_fail(ld, s->l->uri, IPAM_EIO, lrc, "search", s->base,
			       "malformed paged results control");
		goto out;
	}
	if (cookie->bv_len > MAX_COOKIE_LEN)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "ldap search '%s' on %s: paging cookie "
				    "larger than %d bytes",
				    s->base, s->l->uri, MAX_COOKIE_LEN);
out:
	if (sctrls)
		ldap_controls_free(sctrls);
	if (refs)
		ber_memvfree((void **)refs);
	if (diag)
		ldap_memfree(diag);
	if (matched)
		ldap_memfree(matched);
	return rc;
}

/* Read one request's answers until its final result. */
static int read_results(struct search_state *s, int msgid,
			struct berval *cookie)
{
	LDAP *ld = s->l->ld;
	struct timeval tv = {.tv_sec = s->l->timeout};
	LDAPMessage *msg = NULL;
	int type, rc = 0;

	for (;;) {
		type = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
		if (type == 0) {
			rc = ldap_fail(ld, s->l->uri, IPAM_ETIMEOUT,
				       LDAP_TIMEOUT, "search", s->base, "");
			break;
		}
		if (type < 0) {
			rc = ldap_fail(ld, s->l->uri, 0, handle_errno(ld),
				       "search", s->base, NULL);
			msg = NULL;
			break;
		}
		if (type == LDAP_RES_SEARCH_ENTRY) {
			rc = deliver_entry(s, msg);
		} else if (type == LDAP_RES_SEARCH_RESULT) {
			rc = page_result(s, msg, cookie);
			ldap_msgfree(msg);
			return rc;
		}
		/* Continuation references are never chased. */
		ldap_msgfree(msg);
		msg = NULL;
		if (rc)
			break;
	}
	if (msg)
		ldap_msgfree(msg);
	/* Stopped early: tell the server so it stops sending. */
	ldap_abandon_ext(ld, msgid, NULL, NULL);
	return rc;
}

static int search(struct ipam_ldapconn *l, const char *base,
		  enum ipam_ldapconn_scope scope, const char *filter,
		  const char *const attrs[], ipam_ldapconn_entry_fn fn, void *ctx,
		  int paged, LDAPControl *extra)
{
	static const int scopes[] = {
		[IPAM_LDAPCONN_BASE] = LDAP_SCOPE_BASE,
		[IPAM_LDAPCONN_ONELEVEL] = LDAP_SCOPE_ONELEVEL,
		[IPAM_LDAPCONN_SUBTREE] = LDAP_SCOPE_SUBTREE,
	};
	struct search_state s = {.l = l, .base = base, .fn = fn, .ctx = ctx};
	struct timeval tv = {.tv_sec = l->timeout};
	struct berval cookie = {0, NULL};
	LDAPControl *page = NULL, *ctrls[3] = {NULL, NULL, NULL};
	int lrc, msgid, rc = 0;
	size_t nc;

	if (!l->ld) {
		rc = ipam_error_set(IPAM_EIO,
				    "ldap search '%s' on %s: not "
				    "connected",
				    base, l->uri);
		goto out;
	}
	if ((unsigned)scope > IPAM_LDAPCONN_SUBTREE || !filter || !fn) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "ldap search '%s' on %s: invalid request",
				    base, l->uri);
		goto out;
	}
	do {
		nc = 0;
		if (paged) {
			lrc = ldap_create_page_control(l->ld, l->page_size,
						       &cookie, 1, &page);
			if (lrc != LDAP_SUCCESS) {
				rc = ldap_fail(l->ld, l->uri, 0, lrc, "search",
					       base, "");
				goto out;
			}
			ctrls[nc++] = page;
		}
		if (extra)
			ctrls[nc++] = extra;
		ctrls[nc] = NULL;
		lrc = ldap_search_ext(l->ld, base, scopes[scope], filter,
				      (char **)attrs, 0, ctrls, NULL, &tv, 0,
				      &msgid);
		if (page)
			ldap_control_free(page);
		page = NULL;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (lrc != LDAP_SUCCESS) {
			rc = ldap_fail(l->ld, l->uri, 0, lrc, "search", base,
				       NULL);
			goto out;
		}
		rc = read_results(&s, msgid, &cookie);
		if (rc)
			goto out;
	} while (paged && cookie.bv_len > 0);
out:
	ber_memfree(cookie.bv_val);
	search_state_release(&s);
	return rc;
}

int ipam_ldapconn_search(struct ipam_ldapconn *l, const char *base,
		     enum ipam_ldapconn_scope scope, const char *filter,
		     const char *const attrs[], ipam_ldapconn_entry_fn fn,
		     void *ctx)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = search(l, base, scope, filter, attrs, fn, ctx, 1, NULL);
	ipam_sigpipe_restore(&g);
	return rc;
}

static void add_hex_escape(struct strbuf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	strbuf_addch(out, '\\');
	strbuf_addch(out, hex[c >> 4]);
	strbuf_addch(out, hex[c & 0xF]);
}

/*
 * One character of a value that needs no escape of its own: a UTF-8
 * character is copied; a control byte, or a byte that does not start
 * valid UTF-8, becomes \XX.  Returns the bytes consumed (n > 0).
 */
static size_t add_text_char(struct strbuf *out, const unsigned char *s,
			    size_t n)
{
	size_t len =
		s[0] < 0x20 || s[0] == 0x7f ? 0 : ipam_utf8_decode(s, n, NULL);

	if (!len) {
		add_hex_escape(out, s[0]);
		return 1;
	}
	strbuf_add(out, s, len);
	return len;
}

/*
 * RFC 4515 3: '*', '(', ')', '\' and NUL must become \XX.  Control bytes
 * and bytes that are not UTF-8 are escaped too, so binary values (GUIDs,
 * SIDs) can be matched; well-formed UTF-8 stays as it is.
 */
void ipam_ldapconn_escape_filter(struct strbuf *out, const char *value, size_t len)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];

		if (c == '*' || c == '(' || c == ')' || c == '\\') {
			add_hex_escape(out, c);
			i++;
			continue;
		}
		i += add_text_char(out, s + i, len - i);
	}
}

/*
 * RFC 4514 2.4: a leading space or '#', a trailing space, and any of
 * '"', '+', ',', ';', '<', '>', '\' get a backslash; '=' too, which the
 * grammar allows and some parsers expect.  Control bytes and bytes that
 * are not UTF-8 become \XX.
 */
void ipam_ldapconn_escape_dn(struct strbuf *out, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t len = strlen(value), i = 0;

	while (i < len) {
		unsigned char c = s[i];

		if ((i == 0 && (c == ' ' || c == '#')) ||
		    (i == len - 1 && c == ' ') || strchr("\"+,;<>\\=", c)) {
			strbuf_addch(out, '\\');
			strbuf_addch(out, c);
			i++;
			continue;
		}
		i += add_text_char(out, s + i, len - i);
	}
}

void ipam_ldapconn_domain_dn(struct strbuf *out, const char *domain)
{
	const char *p = domain, *dot;
	struct strbuf label = STRBUF_INIT;
	int first = 1;

	while (*p) {
		dot = strchr(p, '.');
		if (!dot)
			dot = p + strlen(p);
		/* Empty labels ("a..b", a trailing dot) name nothing. */
		if (dot > p) {
			strbuf_reset(&label);
			strbuf_add(&label, p, (size_t)(dot - p));
			strbuf_addstr(out, first ? "DC=" : ",DC=");
			ipam_ldapconn_escape_dn(out, label.buf);
			first = 0;
		}
		p = *dot ? dot + 1 : dot;
	}
	strbuf_release(&label);
}

/* MS-DTYP 2.3.4: Data1, Data2, Data3 little-endian; Data4 as stored. */
int ipam_ldapconn_guid_text(struct strbuf *out, const char *bytes, size_t len)
{
	const unsigned char *b = (const unsigned char *)bytes;

	if (len != 16)
		return ipam_error_set(IPAM_EINVAL,
				      "a GUID is 16 bytes, not %zu", len);
	strbuf_addf(out,
		    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x",
		    b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
		    b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/*
 * MS-DTYP 2.4.2: revision 1, a count of sub-authorities (at most 15), a
 * 48-bit big-endian authority (in hex when it does not fit 32 bits,
 * 2.4.2.1), then the little-endian 32-bit sub-authorities.
 */
int ipam_ldapconn_sid_text(struct strbuf *out, const char *bytes, size_t len)
{
	const unsigned char *b = (const unsigned char *)bytes;
	uint64_t auth = 0;
	size_t i, n;

	if (len < 8 || b[0] != 1 || b[1] > 15 || len != 8 + 4 * (size_t)b[1])
		return ipam_error_set(IPAM_EINVAL, "malformed SID (%zu bytes)",
				      len);
	n = b[1];
	for (i = 2; i < 8; i++)
		auth = auth << 8 | b[i];
	if (auth >> 32)
		strbuf_addf(out, "S-1-0x%012" PRIX64, auth);
	else
		strbuf_addf(out, "S-1-%" PRIu64, auth);
	for (i = 0; i < n; i++) {
		const unsigned char *p = b + 8 + 4 * i;
		uint32_t sub = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

		strbuf_addf(out, "-%" PRIu32, sub);
	}
	return 0;
}

/* Bounds on what we send (see the header). */
#define MAX_MODS	 1000
#define MAX_REQUEST_LEN	 MAX_PDU_LEN
#define MAX_TREE_ENTRIES 10000
#define MAX_TREE_DEPTH	 32
#define SD_FLAGS_ALL	 0xF
/* LDAP_SERVER_SD_FLAGS_OID, which <ldap.h> does not name. */
#define SD_FLAGS_OID "1.2.840.113556.1.4.801"

/*
 * A refused write, in our codes.  Insufficient access is not IPAM_EAUTH:
 * that code means "your credentials were rejected" and belongs to the
 * bind; here the bind succeeded and the server's words say what is
 * missing.
 */
static int map_write_code(int lrc)
{
	switch (lrc) {
	/* A reconciler adding a value that is there, or deleting one that is
	 * not, wants to tell that from a real error. */
	case LDAP_ALREADY_EXISTS:
	case LDAP_TYPE_OR_VALUE_EXISTS:
		return IPAM_EEXISTS;
	case LDAP_NO_SUCH_ATTRIBUTE:
		return IPAM_ENOTFOUND;
	case LDAP_UNDEFINED_TYPE:
	case LDAP_INAPPROPRIATE_MATCHING:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_INVALID_SYNTAX:
	case LDAP_NAMING_VIOLATION:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_NOT_ALLOWED_ON_NONLEAF:
	case LDAP_NOT_ALLOWED_ON_RDN:
	case LDAP_NO_OBJECT_CLASS_MODS:
	case LDAP_UNWILLING_TO_PERFORM:
		return IPAM_EINVAL;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_AFFECTS_MULTIPLE_DSAS:
		return IPAM_EIO;
	default:
		return map_code(lrc) == IPAM_ERROR ? IPAM_EIO : map_code(lrc);
	}
}

static int write_fail(struct ipam_ldapconn *l, int lrc, const char *op,
		      const char *dn, const char *diag)
{
	return ldap_fail(l->ld, l->uri, map_write_code(lrc), lrc, op, dn, diag);
}

/* Wait for the result of one write request and turn it into our code. */
static int write_result(struct ipam_ldapconn *l, int msgid, const char *op,
			const char *dn)
{
	struct timeval tv = {.tv_sec = l->timeout};
	LDAPMessage *msg = NULL;
	char *diag = NULL, *matched = NULL;
	int err = LDAP_SUCCESS, type, lrc, rc = 0;

	type = ldap_result(l->ld, msgid, LDAP_MSG_ALL, &tv, &msg);
	if (type == 0) {
		/* The server may still apply it: the caller must re-read. */
		ldap_abandon_ext(l->ld, msgid, NULL, NULL);
		return ldap_fail(l->ld, l->uri, IPAM_ETIMEOUT, LDAP_TIMEOUT, op,
				 dn, "");
	}
	if (type < 0)
		return write_fail(l, handle_errno(l->ld), op, dn, NULL);
	lrc = ldap_parse_result(l->ld, msg, &err, &matched, &diag, NULL, NULL,
				1);
	if (lrc != LDAP_SUCCESS)
		rc = ldap_fail(l->ld, l->uri, IPAM_EIO, lrc, op, dn, NULL);
	else if (err != LDAP_SUCCESS)
		rc = write_fail(l, err, op, dn, diag ? diag : "");
	if (diag)
		ldap_memfree(diag);
	if (matched)
		ldap_memfree(matched);
	return rc;
}

static int check_write(struct ipam_ldapconn *l, const char *op, const char *dn)
{
	if (!dn || !dn[0])
		return ipam_error_set(IPAM_EINVAL, "ldap %s on %s: no DN", op,
				      l->uri);
	if (!l->ld)
		return ipam_error_set(IPAM_EIO,
				      "ldap %s '%s' on %s: not connected", op,
				      dn, l->uri);
	return 0;
}

size_t ipam_ldapconn_writes(const struct ipam_ldapconn *l)
{
	return l->writes;
}

/* libldap's LDAPMod array for mods, in one allocation of arrays. */
struct mod_arrays {
	LDAPMod *mods;
	LDAPMod **pmods;
	struct berval *bv;
	struct berval **pbv;
};

static void mod_arrays_release(struct mod_arrays *m)
{
	free(m->mods);
	free(m->pmods);
	free(m->bv);
	free(m->pbv);
}

static int build_mods(struct mod_arrays *m, struct ipam_ldapconn *l, const char *op,
		      const char *dn, const struct ipam_ldapconn_mod *mods,
		      size_t n, int adding)
{
	static const int ops[] = {
		[IPAM_LDAPCONN_MOD_ADD] = LDAP_MOD_ADD,
		[IPAM_LDAPCONN_MOD_REPLACE] = LDAP_MOD_REPLACE,
		[IPAM_LDAPCONN_MOD_DELETE] = LDAP_MOD_DELETE,
	};
	size_t i, j, k, p, total = 0, bytes = 0;

	memset(m, 0, sizeof(*m));
	if (!mods || n == 0)
		return ipam_error_set(IPAM_EINVAL,
				      "ldap %s '%s' on %s: nothing to write",
				      op, dn, l->uri);
	if (n > MAX_MODS)
		return ipam_error_set(IPAM_ELIMIT,
				      "ldap %s '%s' on %s: more than %d "
				      "modifications",
				      op, dn, l->uri, MAX_MODS);
	for (i = 0; i < n; i++) {
		const struct ipam_ldapconn_mod *md = &mods[i];

		if (!md->attr || !md->attr[0] ||
		    (md->op != IPAM_LDAPCONN_MOD_ADD &&
		     md->op != IPAM_LDAPCONN_MOD_REPLACE &&
		     md->op != IPAM_LDAPCONN_MOD_DELETE) ||
		    (adding && md->op != IPAM_LDAPCONN_MOD_ADD) ||
		    (md->op == IPAM_LDAPCONN_MOD_ADD && md->nr == 0) ||
		    (md->nr && !md->values))
			return ipam_error_set(IPAM_EINVAL,
					      "ldap %s '%s' on %s: invalid "
					      "modification of '%s'",
					      op, dn, l->uri,
					      md->attr ? md->attr : "");
		if (md->nr > MAX_ENTRY_VALUES - total)
			return ipam_error_set(IPAM_ELIMIT,
					      "ldap %s '%s' on %s: more than "
					      "%d values",
					      op, dn, l->uri, MAX_ENTRY_VALUES);
		total += md->nr;
		for (j = 0; j < md->nr; j++) {
			if (md->values[j].len > MAX_VALUE_LEN)
				return ipam_error_set(
					IPAM_ELIMIT,
					"ldap %s '%s' on %s: value of '%s' "
					"is larger than 1 MiB",
					op, dn, l->uri, md->attr);
			bytes += md->values[j].len;
			if (bytes > MAX_REQUEST_LEN)
				return ipam_error_set(
					IPAM_ELIMIT,
					"ldap %s '%s' on %s: request larger "
					"than %d MiB",
					op, dn, l->uri,
					MAX_REQUEST_LEN / (1024 * 1024));
		}
	}
	m->mods = xcalloc(n, sizeof(*m->mods));
	m->pmods = xcalloc(n + 1, sizeof(*m->pmods));
	m->bv = xcalloc(total ? total : 1, sizeof(*m->bv));
	m->pbv = xcalloc(total + n, sizeof(*m->pbv));
	for (i = 0, k = 0, p = 0; i < n; i++) {
		const struct ipam_ldapconn_mod *md = &mods[i];
		LDAPMod *lm = &m->mods[i];

		lm->mod_op = ops[md->op] | LDAP_MOD_BVALUES;
		/* libldap only reads what these point at. */
		lm->mod_type = (char *)md->attr;
		lm->mod_bvalues = md->nr ? &m->pbv[p] : NULL;
		for (j = 0; j < md->nr; j++, k++) {
			m->bv[k].bv_val = (char *)md->values[j].data;
			m->bv[k].bv_len = md->values[j].len;
			m->pbv[p++] = &m->bv[k];
		}
		if (md->nr)
			m->pbv[p++] = NULL;
		m->pmods[i] = lm;
	}
	return 0;
}

/* add or modify, with extra (may be NULL) as a server control. */
static int write_entry(struct ipam_ldapconn *l, const char *op, const char *dn,
		       const struct ipam_ldapconn_mod *mods, size_t n, int adding,
		       LDAPControl *extra)
{
	LDAPControl *ctrls[2] = {extra, NULL};
	struct mod_arrays m;
	int lrc, msgid, rc;

	rc = check_write(l, op, dn);
	if (rc)
		return rc;
	rc = build_mods(&m, l, op, dn, mods, n, adding);
	if (rc)
		goto out;
	l->writes++;
	if (adding)
		lrc = ldap_add_ext(l->ld, dn, m.pmods, extra ? ctrls : NULL,
				   NULL, &msgid);
	else
		lrc = ldap_modify_ext(l->ld, dn, m.pmods, extra ? ctrls : NULL,
				      NULL, &msgid);
	if (lrc != LDAP_SUCCESS)
		rc = write_fail(l, lrc, op, dn, NULL);
	else
		rc = write_result(l, msgid, op, dn);
out:
	mod_arrays_release(&m);
	return rc;
}

int ipam_ldapconn_add(struct ipam_ldapconn *l, const char *dn,
		  const struct ipam_ldapconn_mod *mods, size_t n)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = write_entry(l, "add", dn, mods, n, 1, NULL);
	ipam_sigpipe_restore(&g);
	return rc;
}

int ipam_ldapconn_modify(struct ipam_ldapconn *l, const char *dn,
		     const struct ipam_ldapconn_mod *mods, size_t n)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = write_entry(l, "modify", dn, mods, n, 0, NULL);
	ipam_sigpipe_restore(&g);
	return rc;
}

static int delete_one(struct ipam_ldapconn *l, const char *dn)
{
	int lrc, msgid, rc;

	rc = check_write(l, "delete", dn);
	if (rc)
		return rc;
	l->writes++;
	lrc = ldap_delete_ext(l->ld, dn, NULL, NULL, &msgid);
	if (lrc != LDAP_SUCCESS)
		return write_fail(l, lrc, "delete", dn, NULL);
	return write_result(l, msgid, "delete", dn);
}

int ipam_ldapconn_delete(struct ipam_ldapconn *l, const char *dn)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = delete_one(l, dn);
	ipam_sigpipe_restore(&g);
	return rc;
}

/* The DNs of a subtree, with their depth (RDN count). */
struct tree_dn {
	char *dn;
	size_t depth;
};

struct tree {
	struct ipam_ldapconn *l;
	const char *base;
	struct tree_dn *v;
	size_t nr, alloc;
};

static size_t dn_depth(const char *dn)
{
	size_t n = 1;

	for (; *dn; dn++) {
		if (*dn == '\\' && dn[1])
			dn++;
		else if (*dn == ',')
			n++;
	}
	return n;
}

static int tree_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct tree *t = ctx;

	if (t->nr >= MAX_TREE_ENTRIES)
		return ipam_error_set(IPAM_ELIMIT,
				      "ldap delete tree '%s' on %s: more than "
				      "%d entries, nothing deleted",
				      t->base, t->l->uri, MAX_TREE_ENTRIES);
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr].dn = xstrdup(e->dn);
	t->v[t->nr].depth = dn_depth(e->dn);
	t->nr++;
	return 0;
}

/* Deepest first, so every child goes before its parent. */
static int deeper_first(const void *a, const void *b)
{
	const struct tree_dn *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return strcmp(x->dn, y->dn);
}

static int delete_tree(struct ipam_ldapconn *l, const char *dn)
{
	static const char *const no_attrs[] = {LDAP_NO_ATTRS, NULL};
	struct tree t = {.l = l, .base = dn};
	size_t i, top;
	int rc;

	rc = check_write(l, "delete tree", dn);
	if (rc)
		return rc;
	rc = search(l, dn, IPAM_LDAPCONN_SUBTREE, "(objectClass=*)", no_attrs,
		    tree_entry, &t, 1, NULL);
	if (rc)
		goto out;
	if (t.nr == 0) {
		rc = ipam_error_set(IPAM_ENOTFOUND,
				    "ldap delete tree '%s' on %s: No such "
				    "object",
				    dn, l->uri);
		goto out;
	}
	top = t.v[0].depth;
	for (i = 1; i < t.nr; i++)
		if (t.v[i].depth < top)
			top = t.v[i].depth;
	for (i = 0; i < t.nr; i++) {
		if (t.v[i].depth - top >= MAX_TREE_DEPTH) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "ldap delete tree '%s' on %s: "
					    "deeper than %d levels, nothing "
					    "deleted",
					    dn, l->uri, MAX_TREE_DEPTH);
			goto out;
		}
	}
	qsort(t.v, t.nr, sizeof(*t.v), deeper_first);
	for (i = 0; i < t.nr; i++) {
		rc = delete_one(l, t.v[i].dn);
		/* Gone meanwhile (another rollback): what we wanted. */
		if (rc == IPAM_ENOTFOUND && i + 1 < t.nr)
			rc = 0;
		if (rc)
			goto out;
	}
out:
	for (i = 0; i < t.nr; i++)
		free(t.v[i].dn);
	free(t.v);
	return rc;
}

int ipam_ldapconn_delete_tree(struct ipam_ldapconn *l, const char *dn)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = delete_tree(l, dn);
	ipam_sigpipe_restore(&g);
	return rc;
}

int ipam_ldapconn_sd_flags_value(struct strbuf *out, int sd_flags)
{
	if (sd_flags <= 0 || (sd_flags & ~SD_FLAGS_ALL))
		return ipam_error_set(IPAM_EINVAL,
				      "security descriptor flags %#x: not a "
				      "nonzero mix of owner 1, group 2, "
				      "DACL 4, SACL 8",
				      (unsigned)sd_flags);
	/* SEQUENCE (3 bytes) { INTEGER (1 byte) flags }: < 0x80, so short. */
	strbuf_addch(out, 0x30);
	strbuf_addch(out, 0x03);
	strbuf_addch(out, 0x02);
	strbuf_addch(out, 0x01);
	strbuf_addch(out, sd_flags);
	return 0;
}

/* The LDAP_SERVER_SD_FLAGS control, critical: never the whole SD by
 * surprise from a server that ignores it. */
static int sd_control(LDAPControl **out, struct ipam_ldapconn *l, const char *op,
		      const char *dn, int sd_flags)
{
	struct strbuf v = STRBUF_INIT;
	struct berval bv;
	int lrc, rc;

	*out = NULL;
	rc = ipam_ldapconn_sd_flags_value(&v, sd_flags);
	if (rc) {
		rc = ipam_error_prefix(rc, "ldap %s '%s' on %s", op, dn,
				       l->uri);
		goto out;
	}
	bv.bv_val = v.buf;
	bv.bv_len = v.len;
	lrc = ldap_control_create(SD_FLAGS_OID, 1, &bv, 1, out);
	if (lrc != LDAP_SUCCESS)
		rc = ldap_fail(l->ld, l->uri, 0, lrc, op, dn, "");
out:
	strbuf_release(&v);
	return rc;
}

struct sd_read {
	struct strbuf *out;
	int entries, found;
};

static int sd_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct sd_read *r = ctx;
	const struct ipam_ldapconn_value *v;
	size_t nr;

	r->entries++;
	v = ipam_ldapconn_entry_values(e, "nTSecurityDescriptor", &nr);
	if (nr == 1 && !r->found) {
		strbuf_add(r->out, v->data, v->len);
		r->found = 1;
	}
	return 0;
}

static int read_sd(struct strbuf *out, struct ipam_ldapconn *l, const char *dn,
		   int sd_flags)
{
	static const char *const attrs[] = {"nTSecurityDescriptor", NULL};
	static const char op[] = "read security descriptor";
	struct strbuf got = STRBUF_INIT;
	struct sd_read r = {.out = &got};
	LDAPControl *ctrl = NULL;
	int rc;

	rc = check_write(l, op, dn);
	if (!rc)
		rc = sd_control(&ctrl, l, op, dn, sd_flags);
	if (rc)
		goto out;
	rc = search(l, dn, IPAM_LDAPCONN_BASE, "(objectClass=*)", attrs, sd_entry,
		    &r, 0, ctrl);
	if (rc)
		goto out;
	if (!r.entries) {
		rc = ipam_error_set(IPAM_ENOTFOUND,
				    "ldap %s '%s' on %s: No such object", op,
				    dn, l->uri);
		goto out;
	}
	if (!r.found) {
		/* AD leaves out what the bind may not read (no READ_CONTROL).
		 */
		rc = ipam_error_set(IPAM_EIO,
				    "ldap %s '%s' on %s: the server returned "
				    "no nTSecurityDescriptor (no right to "
				    "read it?)",
				    op, dn, l->uri);
		goto out;
	}
	strbuf_add(out, got.buf, got.len);
out:
	if (ctrl)
		ldap_control_free(ctrl);
	strbuf_release(&got);
	return rc;
}

int ipam_ldapconn_read_sd(struct strbuf *out, struct ipam_ldapconn *l, const char *dn,
		      int sd_flags)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = read_sd(out, l, dn, sd_flags);
	ipam_sigpipe_restore(&g);
	return rc;
}

static int write_sd(struct ipam_ldapconn *l, const char *dn, const void *sd,
		    size_t len, int sd_flags)
{
	static const char op[] = "write security descriptor";
	struct ipam_ldapconn_value v = {.data = sd, .len = len};
	struct ipam_ldapconn_mod mod = {.op = IPAM_LDAPCONN_MOD_REPLACE,
				    .attr = "nTSecurityDescriptor",
				    .values = &v,
				    .nr = 1};
	LDAPControl *ctrl = NULL;
	int rc;

	rc = check_write(l, op, dn);
	if (rc)
		return rc;
	/* A self-relative descriptor has at least its 20-byte header. */
	if (!sd || len < 20)
		return ipam_error_set(IPAM_EINVAL,
				      "ldap %s '%s' on %s: descriptor of %zu "
				      "bytes",
				      op, dn, l->uri, sd ? len : 0);
	rc = sd_control(&ctrl, l, op, dn, sd_flags);
	if (!rc)
		rc = write_entry(l, op, dn, &mod, 1, 0, ctrl);
	if (ctrl)
		ldap_control_free(ctrl);
	return rc;
}

int ipam_ldapconn_write_sd(struct ipam_ldapconn *l, const char *dn, const void *sd,
		       size_t len, int sd_flags)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = write_sd(l, dn, sd, len, sd_flags);
	ipam_sigpipe_restore(&g);
	return rc;
}
