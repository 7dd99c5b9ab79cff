#include "smb.h"
#include "smb_internal.h"
#include "smb_lib.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "envlock.h"
#include "error.h"
#include "sigpipe.h"
#include "banned.h"

/*
 * How the adapter talks SMB, and why.  This file holds the session (the
 * private configuration, credentials, the libsmbclient context), paths,
 * errors and the per-call guard; smb_files.c the file and directory
 * operations; smb_tools.c what runs Samba's client tools (kinit for a
 * keytab, smbcacls for folder ACLs).
 *
 * - libsmbclient keeps its configuration (loadparm) process-wide and loads
 *   $HOME/.smb/smb.conf or /etc/samba/smb.conf when the first context is
 *   made.  Each connection therefore writes a private smb.conf in a 0700
 *   temporary directory and loads it: lock, state, cache and private
 *   directories point there (no root needed, the host's /var/lib/samba and
 *   /run/samba are never written), SMB2 at least, signing required.  That
 *   works the same under `ci/lab exec` (whose bind-mounted smb.conf only
 *   redirects caches) and on a plain host with no Samba config at all.
 * - Credentials reach libsmbclient through the authentication callback
 *   only; URLs never carry them.  Kerberos takes the configured cache
 *   (KRB5CCNAME set around each call, as the LDAP adapter does), or, with
 *   a keytab, a cache in the private directory filled by kinit.
 * - The folder ACL.  libsmbclient's system.nt_sec_desc.* setter re-sorts
 *   ACEs, drops duplicates, cannot carry an object-type GUID and never
 *   sets SE_DACL_PROTECTED, so `samba-tool gpo aclcheck` (which compares
 *   SDDL text) can never pass with it.  Samba's smbcacls --sddl --set
 *   keeps the protected flag and the GUIDs (it still sorts and drops
 *   duplicates: the header says what that asks of the AD DACL), so it is
 *   run (smb_tools.c), without a shell, its password in an anonymous
 *   memory file it reads as /dev/fd/3: nothing on disk a kill could leave.
 * - The private directory (smb_private.c) is 0700, its files 0600 (umask
 *   077 around every call), and holds an owner file: each connection
 *   first sweeps the directories whose owner is gone.
 * - Files are written in place (created or truncated), not to a temporary
 *   name renamed over the old one: a GPO folder whose ACL holds the
 *   mask-0 Apply-Group-Policy object ACE makes every new child unwritable,
 *   so a temporary file could not be written once the ACL is in place;
 *   libsmbclient's rename over an existing file is itself an unlink and a
 *   rename, not atomic; and the file keeps its own ACL.  Group Policy
 *   clients look at GPT.INI's version first, and the GPO engine writes it
 *   last.
 */

#define DEFAULT_TIMEOUT 30

void ipam_smb_path_free(struct ipam_smb_path *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		free(p->comp[i]);
	free(p->comp);
	p->comp = NULL;
	p->nr = 0;
}

static int bad_name_char(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("<>:\"|?*", c) != NULL;
}

int ipam_smb_path_split(struct ipam_smb_path *p, const char *path)
{
	const char *s = path, *e;

	p->comp = NULL;
	p->nr = 0;
	if (!path || !*path)
		return ipam_error_set(IPAM_EINVAL, "smb path is empty");
	while (*s == '/' || *s == '\\')
		s++;
	while (*s) {
		size_t len, i;

		e = s + strcspn(s, "/\\");
		len = (size_t)(e - s);
		if (len == 0 || (len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.')) {
			ipam_smb_path_free(p);
			return ipam_error_set(IPAM_EINVAL,
					      "smb path '%s': empty, '.' or "
					      "'..' component refused",
					      path);
		}
		for (i = 0; i < len; i++)
			if (bad_name_char((unsigned char)s[i])) {
				ipam_smb_path_free(p);
				return ipam_error_set(
					IPAM_EINVAL,
					"smb path '%s': character not "
					"allowed in a name",
					path);
			}
		p->comp = xrealloc(p->comp, (p->nr + 1) * sizeof(*p->comp));
		p->comp[p->nr++] = xstrndup(s, len);
		s = e;
		if (*s)
			s++;
		if (*e && !*s) /* trailing separator */
			break;
	}
	if (p->nr == 0)
		return ipam_error_set(IPAM_EINVAL,
				      "smb path '%s' names no share", path);
	return 0;
}

static int check_server(const char *server)
{
	size_t i;

	if (!server || !*server)
		return ipam_error_set(IPAM_EINVAL, "smb server name is empty");
	for (i = 0; server[i]; i++) {
		char c = server[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return ipam_error_set(IPAM_EINVAL,
					      "smb server name '%s' is not a "
					      "host name",
					      server);
	}
	return 0;
}

void ipam_smb_add_pct(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			strbuf_addch(sb, c);
		} else {
			strbuf_addch(sb, '%');
			strbuf_addch(sb, hex[c >> 4]);
			strbuf_addch(sb, hex[c & 15]);
		}
	}
}

/* URL of the first n components. */
void ipam_smb_url_of(struct strbuf *out, const char *server,
		     const struct ipam_smb_path *p, size_t n)
{
	size_t i;

	strbuf_addf(out, "smb://%s", server);
	for (i = 0; i < n; i++) {
		strbuf_addch(out, '/');
		ipam_smb_add_pct(out, p->comp[i]);
	}
}

void ipam_smb_unc_of(struct strbuf *out, const char *server,
		     const struct ipam_smb_path *p, size_t n)
{
	size_t i;

	strbuf_addf(out, "\\\\%s", server);
	for (i = 0; i < n; i++) {
		strbuf_addch(out, '\\');
		strbuf_addstr(out, p->comp[i]);
	}
}

int ipam_smb_url(struct strbuf *out, const char *server, const char *path)
{
	struct ipam_smb_path p;
	int rc = check_server(server);

	if (rc || (rc = ipam_smb_path_split(&p, path)))
		return rc;
	ipam_smb_url_of(out, server, &p, p.nr);
	ipam_smb_path_free(&p);
	return 0;
}

int ipam_smb_unc(struct strbuf *out, const char *server, const char *path)
{
	struct ipam_smb_path p;
	int rc = check_server(server);

	if (rc || (rc = ipam_smb_path_split(&p, path)))
		return rc;
	ipam_smb_unc_of(out, server, &p, p.nr);
	ipam_smb_path_free(&p);
	return 0;
}

/* --- errors --------------------------------------------------------- */

static const char *errno_status(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
		return "NT_STATUS_ACCESS_DENIED";
	case ENOENT:
		return "NT_STATUS_OBJECT_NAME_NOT_FOUND";
	case ENODEV:
		return "NT_STATUS_BAD_NETWORK_NAME";
	case ENOTDIR:
		return "NT_STATUS_NOT_A_DIRECTORY";
	case EISDIR:
		return "NT_STATUS_FILE_IS_A_DIRECTORY";
	case EEXIST:
		return "NT_STATUS_OBJECT_NAME_COLLISION";
	case ENOTEMPTY:
		return "NT_STATUS_DIRECTORY_NOT_EMPTY";
	case ETIMEDOUT:
		return "NT_STATUS_IO_TIMEOUT";
	case ECONNREFUSED:
		return "NT_STATUS_CONNECTION_REFUSED";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "NT_STATUS_HOST_UNREACHABLE";
	default:
		return NULL;
	}
}

static int errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENOTDIR:
		return IPAM_ENOTFOUND;
	case ETIMEDOUT:
		return IPAM_ETIMEOUT;
	case ENOMEM:
		return IPAM_ENOMEM;
	case EEXIST:
		return IPAM_EEXISTS;
	default:
		return IPAM_EIO;
	}
}

/* "smb <op> '<unc>': <status>"; returns the code. */
int ipam_smb_fail(int code, const char *op, const char *unc, int e)
{
	const char *st = errno_status(e);

	if (!code)
		code = errno_code(e);
	if (st)
		return ipam_error_set(code, "smb %s '%s': %s", op, unc, st);
	return ipam_error_set(code, "smb %s '%s': %s", op, unc, strerror(e));
}

/* --- per-call guard: SIGPIPE and the Kerberos cache ------------------ */

void ipam_smb_guard_enter(struct ipam_smb_guard *g, const struct ipam_smb *s)
{
	const char *old;

	/* Released by guard_leave: domains on other threads wait here. */
	ipam_envlock_acquire();
	ipam_sigpipe_block(&g->sig);
	/* Samba creates its tdb files 0644: nothing it writes is for
	 * others (a child inherits this too). */
	g->umask_old = umask(077);
	g->env_set = 0;
	g->env_old = NULL;
	if (s && s->kerberos && s->ccache) {
		g->env_name = "KRB5CCNAME";
		old = getenv(g->env_name);
		g->env_old = old ? xstrdup(old) : NULL;
		setenv(g->env_name, s->ccache, 1);
		g->env_set = 1;
	}
}

void ipam_smb_guard_leave(struct ipam_smb_guard *g)
{
	if (g->env_set) {
		if (g->env_old)
			setenv(g->env_name, g->env_old, 1);
		else
			unsetenv(g->env_name);
		free(g->env_old);
		g->env_set = 0;
	}
	umask(g->umask_old);
	ipam_sigpipe_restore(&g->sig);
	ipam_envlock_release();
}

/* --- connection -------------------------------------------------------- */

static void auth_fn(SMBCCTX *c, const char *srv, const char *shr, char *wg,
		    int wglen, char *un, int unlen, char *pw, int pwlen)
{
	const struct ipam_smb_lib *lib;
	struct ipam_smb *s = NULL;

	/* loaded already: a context exists */
	if (!ipam_smb_lib_load(&lib))
		s = lib->getOptionUserData(c);
	(void)srv;
	(void)shr;
	if (!s || s->kerberos) {
		/* The ticket cache's principal, no password: Kerberos only. */
		if (wglen > 0)
			wg[0] = '\0';
		if (pwlen > 0)
			pw[0] = '\0';
		if (s && s->principal)
			snprintf(un, (size_t)unlen, "%s", s->principal);
		return;
	}
	snprintf(wg, (size_t)wglen, "%s", s->domain);
	snprintf(un, (size_t)unlen, "%s", s->user);
	snprintf(pw, (size_t)pwlen, "%s", s->password);
}

static void log_fn(void *priv, int level, const char *msg)
{
	/* Library code does not print; libsmbclient's chatter is dropped. */
	(void)priv;
	(void)level;
	(void)msg;
}

static int set_credentials(struct ipam_smb *s, const struct ipam_smb_opts *o)
{
	if (o->auth == IPAM_AUTH_SIMPLE) {
		const char *bs;

		if (!o->user || !*o->user || !o->password)
			return ipam_error_set(IPAM_EINVAL,
					      "smb connect '\\\\%s': a simple "
					      "logon needs a user and a "
					      "password",
					      o->server);
		bs = strchr(o->user, '\\');
		s->domain = bs ? xstrndup(o->user, (size_t)(bs - o->user))
			       : xstrdup("");
		s->user = xstrdup(bs ? bs + 1 : o->user);
		s->authname = xstrdup(o->user);
		s->password = xstrdup(o->password);
		return 0;
	}
	s->kerberos = 1;
	if (o->principal)
		s->principal = xstrdup(o->principal);
	if (o->keytab) {
		if (!o->principal)
			return ipam_error_set(IPAM_EINVAL,
					      "smb connect '\\\\%s': kerberos "
					      "from keytab '%s' needs the "
					      "principal",
					      o->server, o->keytab);
		return ipam_smb_kinit_keytab(s, o);
	}
	if (o->ccache)
		s->ccache = xstrdup(o->ccache);
	return 0;
}

static int init_context(struct ipam_smb *s)
{
	sigset_t old;
	int rc = 0;

	rc = ipam_smb_lib_load(&s->lib);
	if (rc)
		return ipam_error_prefix(rc, "smb connect '\\\\%s'", s->server);
	/* libsmbclient's first init blocks SIGPIPE for good: undo that.
	 * Its configuration is global: one context is made at a time. */
	ipam_envlock_acquire();
	pthread_sigmask(SIG_SETMASK, NULL, &old);
	s->ctx = s->lib->new_context();
	if (!s->ctx) {
		rc = ipam_error_set(IPAM_ENOMEM,
				    "smb connect '\\\\%s': cannot make a "
				    "context",
				    s->server);
		goto out;
	}
	s->lib->setLogCallback(s->ctx, NULL, log_fn);
	s->lib->setDebug(s->ctx, 0);
	s->lib->setOptionDebugToStderr(s->ctx, 0);
	if (s->lib->setConfiguration(s->ctx, s->conf) < 0) {
		rc = ipam_error_set(IPAM_EIO,
				    "smb connect '\\\\%s': cannot load '%s'",
				    s->server, s->conf);
		goto out;
	}
	s->lib->setOptionUserData(s->ctx, s);
	s->lib->setFunctionAuthDataWithContext(s->ctx, auth_fn);
	s->lib->setTimeout(s->ctx, s->timeout * 1000);
	s->lib->setOptionUseKerberos(s->ctx, s->kerberos);
	s->lib->setOptionFallbackAfterKerberos(s->ctx, 0);
	s->lib->setOptionNoAutoAnonymousLogin(s->ctx, 1);
	s->lib->setOptionUseCCache(s->ctx, 0);
	s->lib->setOptionOneSharePerServer(s->ctx, 0);
	s->lib->setOptionUrlEncodeReaddirEntries(s->ctx, 0);
	s->lib->setOptionCaseSensitive(s->ctx, 0);
	if (!s->lib->setOptionProtocols(s->ctx, "SMB2_02", "SMB3")) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb connect '\\\\%s': cannot require "
				    "SMB2",
				    s->server);
		goto out;
	}
	if (!s->lib->init_context(s->ctx)) {
		rc = ipam_error_set(IPAM_EIO,
				    "smb connect '\\\\%s': cannot initialise "
				    "libsmbclient: %s",
				    s->server, strerror(errno));
		goto out;
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ipam_envlock_release();
	return rc;
}

/* List the server's shares: reaches it and proves the credentials. */
static int probe(struct ipam_smb *s)
{
	struct strbuf url = STRBUF_INIT, unc = STRBUF_INIT;
	struct ipam_smb_guard g;
	SMBCFILE *d;
	int e = 0, rc = 0;

	strbuf_addf(&url, "smb://%s/", s->server);
	strbuf_addf(&unc, "\\\\%s", s->server);
	ipam_smb_guard_enter(&g, s);
	errno = 0;
	d = s->lib->getFunctionOpendir(s->ctx)(s->ctx, url.buf);
	e = errno;
	if (d)
		s->lib->getFunctionClosedir(s->ctx)(s->ctx, d);
	ipam_smb_guard_leave(&g);
	if (!d) {
		/* libsmbclient reports a refused session setup as EACCES or,
		 * for NT_STATUS_LOGON_FAILURE, EINVAL (the URL is ours and
		 * well-formed). */
		if (e == EACCES || e == EPERM || e == EINVAL)
			rc = ipam_error_set(
				IPAM_EAUTH,
				"smb connect '%s': NT_STATUS_LOGON_FAILURE "
				"(logon as %s refused)",
				unc.buf,
				s->kerberos ? "the kerberos principal"
					    : s->authname);
		else if (e == ENOENT || e == ENODEV || e == EHOSTUNREACH ||
			 e == ECONNREFUSED || e == ENETUNREACH)
			rc = ipam_smb_fail(IPAM_EIO, "connect", unc.buf, e);
		else
			rc = ipam_smb_fail(0, "connect", unc.buf, e);
	}
	strbuf_release(&url);
	strbuf_release(&unc);
	return rc;
}

int ipam_smb_connect(struct ipam_smb **out, const struct ipam_smb_opts *o)
{
	struct ipam_smb *s;
	int rc;

	*out = NULL;
	rc = check_server(o->server);
	if (rc)
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->server = xstrdup(o->server);
	s->timeout = o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
	rc = ipam_smb_private_dir_make(s);
	if (!rc)
		rc = set_credentials(s, o);
	if (!rc)
		rc = init_context(s);
	if (!rc && !o->no_probe)
		rc = probe(s);
	if (rc) {
		ipam_smb_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void ipam_smb_close(struct ipam_smb *s)
{
	if (!s)
		return;
	if (s->ctx) {
		struct ipam_smb_guard g;

		ipam_smb_guard_enter(&g, NULL);
		s->lib->free_context(s->ctx, 1);
		ipam_smb_guard_leave(&g);
	}
	if (s->dir)
		ipam_smb_private_dir_remove(s->dir);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->ccache);
	free(s->principal);
	free(s->authname);
	free(s->user);
	free(s->domain);
	free(s->conf);
	free(s->dir);
	free(s->server);
	free(s);
}

/* --- targets: a path with its URL and UNC ---------------------------- */

int ipam_smb_target_init(struct ipam_smb_target *t, const struct ipam_smb *s,
			 const char *path)
{
	int rc;

	strbuf_init(&t->url);
	strbuf_init(&t->unc);
	rc = ipam_smb_path_split(&t->p, path);
	if (rc)
		return rc;
	ipam_smb_url_of(&t->url, s->server, &t->p, t->p.nr);
	ipam_smb_unc_of(&t->unc, s->server, &t->p, t->p.nr);
	return 0;
}

void ipam_smb_target_release(struct ipam_smb_target *t)
{
	ipam_smb_path_free(&t->p);
	strbuf_release(&t->url);
	strbuf_release(&t->unc);
}
