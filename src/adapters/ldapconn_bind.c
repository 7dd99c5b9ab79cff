#include "ldapconn.h"

#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <sasl/sasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "envlock.h"
#include "error.h"
#include "keytab.h"
#include "ldapconn_internal.h"
#include "banned.h"

/*
 * The binds.  Simple binds only ever travel inside TLS (the connection
 * makes sure of that first).  Kerberos (SASL GSSAPI) on ldap:// seals the
 * session itself instead: see ldapconn.c for why.
 */

/* SASL confidentiality (seal) when Kerberos runs without TLS. */
#define SEAL_MIN_SSF 56

int ipam_ldapconn_bind_simple(struct ipam_ldapconn *l,
			      const struct ipam_ldapconn_opts *o)
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
	cred.bv_val = (char *)(uintptr_t)o->password;
	cred.bv_len = strlen(o->password);
	lrc = ldap_sasl_bind_s(l->ld, o->user, LDAP_SASL_SIMPLE, &cred, NULL,
			       NULL, NULL);
	cred.bv_val = NULL;
	if (lrc != LDAP_SUCCESS) {
		struct strbuf op = STRBUF_INIT;
		int rc;

		strbuf_addf(&op, "simple bind as '%s'", o->user);
		rc = ipam_ldapconn_fail(l->ld, l->uri, 0, lrc, op.buf, NULL,
					NULL);
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
/*
 * MIT Kerberos, given a client keytab and no principal, takes the first
 * entry's: read it so the caller's principal can be checked against it,
 * and a missing keytab is named plainly.
 */
static int keytab_first_principal(struct strbuf *out, const char *keytab)
{
	const char *path = keytab;
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int rc;

	if (strncmp(path, "FILE:", 5) == 0)
		path += 5;
	f = fopen(path, "rb");
	if (!f)
		return ipam_error_set(IPAM_EINVAL,
				      "cannot open keytab '%s': %s", keytab,
				      strerror(errno));
	data = xmalloc(IPAM_KEYTAB_MAX_LEN);
	len = fread(data, 1, IPAM_KEYTAB_MAX_LEN, f);
	if (ferror(f))
		rc = ipam_error_set(IPAM_EINVAL,
				    "keytab '%s' is not a version 2 keytab "
				    "under 1 MiB",
				    keytab);
	else
		rc = ipam_keytab_first_principal(out, data, len, keytab);
	/* It held keys. */
	explicit_bzero(data, IPAM_KEYTAB_MAX_LEN);
	free(data);
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
int ipam_ldapconn_bind_gssapi(struct ipam_ldapconn *l,
			      const struct ipam_ldapconn_opts *o)
{
	static unsigned cache_seq;
	struct saved_env cc = {0}, kt = {0};
	struct strbuf first = STRBUF_INIT, name = STRBUF_INIT;
	ber_len_t ssf = 0;
	int lrc, rc = 0, locked = 0;

	if (l->tls) {
		ber_len_t zero = 0;

		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_X_SASL_SSF_MAX, &zero,
					   "SASL maximum SSF");
	} else {
		ber_len_t min = SEAL_MIN_SSF;

		rc = ipam_ldapconn_set_opt(l->ld, l->uri,
					   LDAP_OPT_X_SASL_SSF_MIN, &min,
					   "SASL minimum SSF");
	}
	if (rc)
		goto out;

	/* The environment is the process's: one Kerberos bind at a time. */
	ipam_envlock_acquire();
	locked = 1;
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
		int code = ipam_ldapconn_map_code(lrc);

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
		rc = ipam_ldapconn_fail(l->ld, l->uri, code, lrc, name.buf,
					NULL, NULL);
		if (lrc == LDAP_STRONG_AUTH_REQUIRED && l->tls)
			rc = ipam_ldapconn_add_hint(
				rc, "the server accepts Kerberos neither "
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
	if (locked)
		ipam_envlock_release();
	strbuf_release(&name);
	strbuf_release(&first);
	return rc;
}
