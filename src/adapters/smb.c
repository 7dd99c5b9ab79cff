#include "smb.h"

#include <errno.h>
#include <fcntl.h>
#include <libsmbclient.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "proc.h"
#include "text.h"
#include "sigpipe.h"
#include "banned.h"

/*
 * How the adapter talks SMB, and why:
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
 *   run here, without a shell, its password in a 0600 authentication file
 *   in the private directory, removed after the run.
 * - Files are written in place (created or truncated), not to a temporary
 *   name renamed over the old one: a GPO folder whose ACL holds the
 *   mask-0 Apply-Group-Policy object ACE makes every new child unwritable,
 *   so a temporary file could not be written once the ACL is in place;
 *   libsmbclient's rename over an existing file is itself an unlink and a
 *   rename, not atomic; and the file keeps its own ACL.  Group Policy
 *   clients look at GPT.INI's version first, and the GPO engine writes it
 *   last.
 */

#define DEFAULT_TIMEOUT	  30
#define MAX_HELPER_OUTPUT (256 * 1024)
#define MAX_TREE_DEPTH	  32
#define MAX_DIR_ENTRIES	  100000
#define MAX_DIAG_LEN	  400

struct ipam_smb {
	SMBCCTX *ctx;
	char *server;
	char *dir;	/* private directory */
	char *conf;	/* its smb.conf */
	char *user;	/* simple: name without domain */
	char *domain;	/* simple: DOMAIN of DOMAIN\name, else "" */
	char *authname; /* simple: user as given (auth file) */
	char *password;
	char *ccache;	 /* kerberos: KRB5CCNAME for every call, or NULL */
	char *principal; /* kerberos: the client */
	int kerberos;
	int timeout;
};

/* A path split into its components; comp[0] is the share. */
struct smb_path {
	char **comp;
	size_t nr;
};

static void path_free(struct smb_path *p)
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

static int path_split(struct smb_path *p, const char *path)
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
			path_free(p);
			return ipam_error_set(IPAM_EINVAL,
					      "smb path '%s': empty, '.' or "
					      "'..' component refused",
					      path);
		}
		for (i = 0; i < len; i++)
			if (bad_name_char((unsigned char)s[i])) {
				path_free(p);
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

static void add_pct(struct strbuf *sb, const char *s)
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
static void url_of(struct strbuf *out, const char *server,
		   const struct smb_path *p, size_t n)
{
	size_t i;

	strbuf_addf(out, "smb://%s", server);
	for (i = 0; i < n; i++) {
		strbuf_addch(out, '/');
		add_pct(out, p->comp[i]);
	}
}

static void unc_of(struct strbuf *out, const char *server,
		   const struct smb_path *p, size_t n)
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
	struct smb_path p;
	int rc = check_server(server);

	if (rc || (rc = path_split(&p, path)))
		return rc;
	url_of(out, server, &p, p.nr);
	path_free(&p);
	return 0;
}

int ipam_smb_unc(struct strbuf *out, const char *server, const char *path)
{
	struct smb_path p;
	int rc = check_server(server);

	if (rc || (rc = path_split(&p, path)))
		return rc;
	unc_of(out, server, &p, p.nr);
	path_free(&p);
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
static int smb_fail(int code, const char *op, const char *unc, int e)
{
	const char *st = errno_status(e);

	if (!code)
		code = errno_code(e);
	if (st)
		return ipam_error_set(code, "smb %s '%s': %s", op, unc, st);
	return ipam_error_set(code, "smb %s '%s': %s", op, unc, strerror(e));
}

/* The NT_STATUS name and its code in a helper's output, if any. */
static int status_code(const char *status)
{
	static const struct {
		const char *name;
		int code;
	} map[] = {
		{"NT_STATUS_LOGON_FAILURE", IPAM_EAUTH},
		{"NT_STATUS_WRONG_PASSWORD", IPAM_EAUTH},
		{"NT_STATUS_NO_SUCH_USER", IPAM_EAUTH},
		{"NT_STATUS_ACCOUNT_DISABLED", IPAM_EAUTH},
		{"NT_STATUS_ACCOUNT_LOCKED_OUT", IPAM_EAUTH},
		{"NT_STATUS_PASSWORD_EXPIRED", IPAM_EAUTH},
		{"NT_STATUS_NO_LOGON_SERVERS", IPAM_EAUTH},
		{"NT_STATUS_INVALID_PARAMETER", IPAM_EINVAL},
		{"NT_STATUS_OBJECT_NAME_NOT_FOUND", IPAM_ENOTFOUND},
		{"NT_STATUS_OBJECT_PATH_NOT_FOUND", IPAM_ENOTFOUND},
		{"NT_STATUS_NO_SUCH_FILE", IPAM_ENOTFOUND},
		{"NT_STATUS_BAD_NETWORK_NAME", IPAM_ENOTFOUND},
		{"NT_STATUS_IO_TIMEOUT", IPAM_ETIMEOUT},
		{"NT_STATUS_ACCESS_DENIED", IPAM_EIO},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, status) == 0)
			return map[i].code;
	return IPAM_EIO;
}

/* --- per-call guard: SIGPIPE and the Kerberos cache ------------------ */

/*
 * libsmbclient writes to sockets with write(2): a peer gone away raises
 * SIGPIPE.  Each call holds SIGPIPE blocked and swallows one it caused,
 * leaving the caller's disposition alone (as the LDAP adapter does).
 */
struct guard {
	struct ipam_sigpipe sig;
	const char *env_name;
	char *env_old;
	int env_set;
};

static void guard_enter(struct guard *g, const struct ipam_smb *s)
{
	const char *old;

	ipam_sigpipe_block(&g->sig);
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

static void guard_leave(struct guard *g)
{
	if (g->env_set) {
		if (g->env_old)
			setenv(g->env_name, g->env_old, 1);
		else
			unsetenv(g->env_name);
		free(g->env_old);
		g->env_set = 0;
	}
	ipam_sigpipe_restore(&g->sig);
}

/* --- files in the private directory ---------------------------------- */

static int write_private(const char *path, const char *data, size_t len)
{
	int fd, rc = 0;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot create '%s': %s", path,
				      strerror(errno));
	if (fchmod(fd, 0600) < 0)
		rc = -1;
	while (!rc && off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = -1;
		else
			off += (size_t)n;
	}
	if (close(fd) < 0)
		rc = -1;
	if (rc) {
		rc = ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				    strerror(errno));
		unlink(path);
	}
	return rc;
}

int ipam_smb_write_authfile(const char *path, const char *user,
			    const char *password)
{
	struct strbuf sb = STRBUF_INIT;
	const char *bs;
	size_t plen;
	int rc;

	if (!user || !*user || !password)
		return ipam_error_set(IPAM_EINVAL,
				      "smb authentication file needs a user "
				      "and a password");
	/*
	 * Samba reads "name = value" lines, trims the value and splits a
	 * username at '%' (user%password): such values cannot be carried.
	 */
	if (strpbrk(user, "\r\n%") || strchr(password, '\n') ||
	    strchr(password, '\r'))
		return ipam_error_set(IPAM_EINVAL,
				      "smb user '%s' or its password holds a "
				      "character an authentication file "
				      "cannot carry (newline, or '%%' in the "
				      "user)",
				      user);
	plen = strlen(password);
	if (plen && (password[0] == ' ' || password[0] == '\t' ||
		     password[plen - 1] == ' ' || password[plen - 1] == '\t'))
		return ipam_error_set(IPAM_EINVAL,
				      "the password of smb user '%s' starts or "
				      "ends with a blank, which an "
				      "authentication file cannot carry",
				      user);
	bs = strchr(user, '\\');
	if (bs) {
		strbuf_addstr(&sb, "domain = ");
		strbuf_add(&sb, user, (size_t)(bs - user));
		strbuf_addf(&sb, "\nusername = %s\n", bs + 1);
	} else {
		strbuf_addf(&sb, "username = %s\n", user);
	}
	strbuf_addf(&sb, "password = %s\n", password);
	rc = write_private(path, sb.buf, sb.len);
	explicit_bzero(sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}

static int remove_private_dir(const char *dir)
{
	static const char *const names[] = {"smb.conf",
					    "ccache",
					    "auth",
					    "gencache.tdb",
					    "private/secrets.tdb",
					    NULL};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	/* Samba may leave caches of its own: remove what we know, then any
	 * plain file, then the directory. */
	for (i = 0; names[i]; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s/%s", dir, names[i]);
		unlink(sb.buf);
	}
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/private", dir);
	rmdir(sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/ncalrpc", dir);
	rmdir(sb.buf);
	strbuf_release(&sb);
	if (rmdir(dir) == 0)
		return 0;
	/* Unknown leftovers: leave the directory rather than guess. */
	return -1;
}

static int make_private_dir(struct ipam_smb *s)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf sb = STRBUF_INIT;
	char *d;
	int rc;

	if (!tmp || tmp[0] != '/' || strchr(tmp, '\n'))
		tmp = "/tmp";
	strbuf_addf(&sb, "%s/ipamctl-smb-XXXXXX", tmp);
	d = strbuf_detach(&sb, NULL);
	if (!mkdtemp(d)) {
		rc = ipam_error_set(IPAM_EIO,
				    "smb: cannot make a private directory "
				    "'%s': %s",
				    d, strerror(errno));
		free(d);
		return rc;
	}
	s->dir = d;
	strbuf_addf(&sb, "%s/private", d);
	if (mkdir(sb.buf, 0700) < 0) {
		rc = ipam_error_set(IPAM_EIO, "smb: cannot make '%s': %s",
				    sb.buf, strerror(errno));
		strbuf_release(&sb);
		return rc;
	}
	strbuf_reset(&sb);
	strbuf_addf(&sb,
		    "# ipamctl: private client configuration\n"
		    "[global]\n"
		    "lock directory = %s\n"
		    "state directory = %s\n"
		    "cache directory = %s\n"
		    "private dir = %s/private\n"
		    "ncalrpc dir = %s/ncalrpc\n"
		    "client min protocol = SMB2_02\n"
		    "client max protocol = SMB3\n"
		    "client signing = required\n"
		    "client ipc signing = required\n"
		    "disable netbios = yes\n"
		    "log level = 0\n",
		    d, d, d, d, d);
	s->conf = xasprintf("%s/smb.conf", d);
	rc = write_private(s->conf, sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}

/* --- helper programs ------------------------------------------------- */

/*
 * Run a Samba client tool: no shell, output captured with a bound,
 * killed after timeout seconds.
 */
static int run_helper(struct ipam_proc_result *r, const char *const argv[],
		      int timeout)
{
	struct ipam_proc_opts o = {
		.timeout = timeout,
		.max_output = MAX_HELPER_OUTPUT,
		.missing_hint = "install Samba's client tools",
	};

	return ipam_proc_run(r, argv, &o);
}

/* The helper failed: "<prefix>: <status or its words>". */
static int helper_fail(const struct ipam_proc_result *r, const char *prefix)
{
	struct strbuf sb = STRBUF_INIT;
	const char *text[2] = {r->err.buf, r->out.buf}, *nt = NULL;
	char status[64] = "";
	int code = IPAM_EIO, i;

	for (i = 0; i < 2 && !nt; i++)
		nt = strstr(text[i], "NT_STATUS_");
	if (nt) {
		size_t n = strspn(nt, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

		if (n < sizeof(status)) {
			memcpy(status, nt, n);
			status[n] = '\0';
			code = status_code(status);
		}
	}
	strbuf_addf(&sb, "%s: ", prefix);
	if (status[0])
		strbuf_addstr(&sb, status);
	else
		strbuf_addf(&sb, "exit status %d", r->status);
	for (i = 0; i < 2; i++) {
		struct strbuf t = STRBUF_INIT;

		strbuf_addstr(&t, text[i]);
		while (t.len &&
		       (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == ' '))
			t.buf[--t.len] = '\0';
		if (t.len) {
			strbuf_addstr(&sb, i ? " (stdout: " : " (stderr: ");
			ipam_text_add_clean(&sb,
				  t.len > MAX_DIAG_LEN
					  ? t.buf + t.len - MAX_DIAG_LEN
					  : t.buf,
				  MAX_DIAG_LEN);
			strbuf_addch(&sb, ')');
		}
		strbuf_release(&t);
	}
	ipam_error_set(code, "%s", sb.buf);
	strbuf_release(&sb);
	return code;
}

/* --- connection -------------------------------------------------------- */

static void auth_fn(SMBCCTX *c, const char *srv, const char *shr, char *wg,
		    int wglen, char *un, int unlen, char *pw, int pwlen)
{
	struct ipam_smb *s = smbc_getOptionUserData(c);

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

static int kinit_keytab(struct ipam_smb *s, const struct ipam_smb_opts *o)
{
	struct ipam_proc_result r;
	struct strbuf cc = STRBUF_INIT, pre = STRBUF_INIT;
	const char *argv[8];
	int rc;

	strbuf_addf(&cc, "FILE:%s/ccache", s->dir);
	argv[0] = "kinit";
	argv[1] = "-k";
	argv[2] = "-t";
	argv[3] = o->keytab;
	argv[4] = "-c";
	argv[5] = cc.buf;
	argv[6] = o->principal;
	argv[7] = NULL;
	rc = run_helper(&r, argv, s->timeout);
	if (!rc && r.status != 0) {
		strbuf_addf(&pre,
			    "smb connect '\\\\%s': kerberos as '%s' from "
			    "keytab '%s'",
			    s->server, o->principal, o->keytab);
		rc = helper_fail(&r, pre.buf);
		if (rc == IPAM_EIO)
			rc = IPAM_EAUTH;
		ipam_error_set(rc, "%s", ipam_error_last());
	}
	ipam_proc_result_release(&r);
	if (!rc)
		s->ccache = strbuf_detach(&cc, NULL);
	strbuf_release(&cc);
	strbuf_release(&pre);
	return rc;
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
		return kinit_keytab(s, o);
	}
	if (o->ccache)
		s->ccache = xstrdup(o->ccache);
	return 0;
}

static int init_context(struct ipam_smb *s)
{
	sigset_t old;
	int rc = 0;

	/* libsmbclient's first init blocks SIGPIPE for good: undo that. */
	pthread_sigmask(SIG_SETMASK, NULL, &old);
	s->ctx = smbc_new_context();
	if (!s->ctx) {
		rc = ipam_error_set(IPAM_ENOMEM,
				    "smb connect '\\\\%s': cannot make a "
				    "context",
				    s->server);
		goto out;
	}
	smbc_setLogCallback(s->ctx, NULL, log_fn);
	smbc_setDebug(s->ctx, 0);
	smbc_setOptionDebugToStderr(s->ctx, 0);
	if (smbc_setConfiguration(s->ctx, s->conf) < 0) {
		rc = ipam_error_set(IPAM_EIO,
				    "smb connect '\\\\%s': cannot load '%s'",
				    s->server, s->conf);
		goto out;
	}
	smbc_setOptionUserData(s->ctx, s);
	smbc_setFunctionAuthDataWithContext(s->ctx, auth_fn);
	smbc_setTimeout(s->ctx, s->timeout * 1000);
	smbc_setOptionUseKerberos(s->ctx, s->kerberos);
	smbc_setOptionFallbackAfterKerberos(s->ctx, 0);
	smbc_setOptionNoAutoAnonymousLogin(s->ctx, 1);
	smbc_setOptionUseCCache(s->ctx, 0);
	smbc_setOptionOneSharePerServer(s->ctx, 0);
	smbc_setOptionUrlEncodeReaddirEntries(s->ctx, 0);
	smbc_setOptionCaseSensitive(s->ctx, 0);
	if (!smbc_setOptionProtocols(s->ctx, "SMB2_02", "SMB3")) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb connect '\\\\%s': cannot require "
				    "SMB2",
				    s->server);
		goto out;
	}
	if (!smbc_init_context(s->ctx)) {
		rc = ipam_error_set(IPAM_EIO,
				    "smb connect '\\\\%s': cannot initialise "
				    "libsmbclient: %s",
				    s->server, strerror(errno));
		goto out;
	}
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* List the server's shares: reaches it and proves the credentials. */
static int probe(struct ipam_smb *s)
{
	struct strbuf url = STRBUF_INIT, unc = STRBUF_INIT;
	struct guard g;
	SMBCFILE *d;
	int e = 0, rc = 0;

	strbuf_addf(&url, "smb://%s/", s->server);
	strbuf_addf(&unc, "\\\\%s", s->server);
	guard_enter(&g, s);
	errno = 0;
	d = smbc_getFunctionOpendir(s->ctx)(s->ctx, url.buf);
	e = errno;
	if (d)
		smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	guard_leave(&g);
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
			rc = smb_fail(IPAM_EIO, "connect", unc.buf, e);
		else
			rc = smb_fail(0, "connect", unc.buf, e);
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
	rc = make_private_dir(s);
	if (!rc)
		rc = set_credentials(s, o);
	if (!rc)
		rc = init_context(s);
	if (!rc)
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
		struct guard g;

		guard_enter(&g, NULL);
		smbc_free_context(s->ctx, 1);
		guard_leave(&g);
	}
	if (s->dir)
		remove_private_dir(s->dir);
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

/* --- file operations --------------------------------------------------- */

/* Split path and build its URL and UNC. */
struct target {
	struct smb_path p;
	struct strbuf url, unc;
};

static int target_init(struct target *t, const struct ipam_smb *s,
		       const char *path)
{
	int rc;

	strbuf_init(&t->url);
	strbuf_init(&t->unc);
	rc = path_split(&t->p, path);
	if (rc)
		return rc;
	url_of(&t->url, s->server, &t->p, t->p.nr);
	unc_of(&t->unc, s->server, &t->p, t->p.nr);
	return 0;
}

static void target_release(struct target *t)
{
	path_free(&t->p);
	strbuf_release(&t->url);
	strbuf_release(&t->unc);
}

int ipam_smb_read(struct strbuf *out, struct ipam_smb *s, const char *path,
		  size_t max)
{
	struct target t;
	struct guard g;
	SMBCFILE *f = NULL;
	struct strbuf data = STRBUF_INIT;
	char buf[16384];
	int rc, e = 0;

	rc = target_init(&t, s, path);
	if (rc)
		goto out;
	guard_enter(&g, s);
	errno = 0;
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, t.url.buf, O_RDONLY, 0);
	if (!f)
		e = errno ? errno : EIO;
	while (f) {
		ssize_t n = smbc_getFunctionRead(s->ctx)(s->ctx, f, buf,
							 sizeof(buf));

		if (n < 0) {
			e = errno ? errno : EIO;
			break;
		}
		if (n == 0)
			break;
		if (data.len + (size_t)n > max) {
			e = -1;
			break;
		}
		strbuf_add(&data, buf, (size_t)n);
	}
	if (f)
		smbc_getFunctionClose(s->ctx)(s->ctx, f);
	guard_leave(&g);
	if (e == -1)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "smb read '%s': larger than %zu bytes",
				    t.unc.buf, max);
	else if (e)
		rc = smb_fail(0, "read", t.unc.buf, e);
	else
		strbuf_add(out, data.buf, data.len);
out:
	strbuf_release(&data);
	target_release(&t);
	return rc;
}

int ipam_smb_write(struct ipam_smb *s, const char *path, const void *data,
		   size_t len)
{
	const char *p = data;
	struct target t;
	struct guard g;
	SMBCFILE *f;
	size_t off = 0;
	int rc, e = 0;

	rc = target_init(&t, s, path);
	if (rc)
		goto out;
	if (t.p.nr < 2) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb write '%s': not a file path",
				    t.unc.buf);
		goto out;
	}
	guard_enter(&g, s);
	errno = 0;
	f = smbc_getFunctionOpen(s->ctx)(s->ctx, t.url.buf,
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!f)
		e = errno ? errno : EIO;
	while (f && off < len) {
		size_t chunk = len - off > 65536 ? 65536 : len - off;
		ssize_t n = smbc_getFunctionWrite(s->ctx)(s->ctx, f, p + off,
							  chunk);

		if (n <= 0) {
			e = errno ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	if (f && smbc_getFunctionClose(s->ctx)(s->ctx, f) < 0 && !e)
		e = errno ? errno : EIO;
	guard_leave(&g);
	if (e)
		rc = smb_fail(0, "write", t.unc.buf, e);
out:
	target_release(&t);
	return rc;
}

static int do_stat(struct ipam_smb_stat *out, int *err, struct ipam_smb *s,
		   const char *url)
{
	struct stat st;
	struct guard g;
	int r;

	guard_enter(&g, s);
	errno = 0;
	r = smbc_getFunctionStat(s->ctx)(s->ctx, url, &st);
	*err = r < 0 ? (errno ? errno : EIO) : 0;
	guard_leave(&g);
	if (r < 0)
		return -1;
	out->is_dir = S_ISDIR(st.st_mode);
	out->size = (uint64_t)st.st_size;
	out->mtime = (int64_t)st.st_mtime;
	return 0;
}

int ipam_smb_stat(struct ipam_smb_stat *out, struct ipam_smb *s,
		  const char *path)
{
	struct target t;
	int rc, e;

	memset(out, 0, sizeof(*out));
	rc = target_init(&t, s, path);
	if (!rc && do_stat(out, &e, s, t.url.buf) < 0)
		rc = smb_fail(0, "stat", t.unc.buf, e);
	target_release(&t);
	return rc;
}

int ipam_smb_exists(int *exists, struct ipam_smb *s, const char *path)
{
	struct ipam_smb_stat st;
	int rc;

	*exists = 0;
	rc = ipam_smb_stat(&st, s, path);
	if (rc == IPAM_ENOTFOUND) {
		ipam_error_clear();
		return 0;
	}
	if (!rc)
		*exists = 1;
	return rc;
}

int ipam_smb_mkdir_p(struct ipam_smb *s, const char *path)
{
	struct target t;
	struct strbuf url = STRBUF_INIT, unc = STRBUF_INIT;
	size_t i;
	int rc;

	rc = target_init(&t, s, path);
	if (rc)
		goto out;
	for (i = 2; i <= t.p.nr && !rc; i++) {
		struct ipam_smb_stat st;
		struct guard g;
		int e, r;

		strbuf_reset(&url);
		strbuf_reset(&unc);
		url_of(&url, s->server, &t.p, i);
		unc_of(&unc, s->server, &t.p, i);
		if (do_stat(&st, &e, s, url.buf) == 0) {
			if (!st.is_dir)
				rc = ipam_error_set(IPAM_EEXISTS,
						    "smb mkdir '%s': exists "
						    "and is not a directory",
						    unc.buf);
			continue;
		}
		if (e != ENOENT) {
			rc = smb_fail(0, "mkdir", unc.buf, e);
			break;
		}
		guard_enter(&g, s);
		errno = 0;
		r = smbc_getFunctionMkdir(s->ctx)(s->ctx, url.buf, 0755);
		e = errno ? errno : EIO;
		guard_leave(&g);
		if (r < 0 && e != EEXIST)
			rc = smb_fail(0, "mkdir", unc.buf, e);
	}
out:
	strbuf_release(&url);
	strbuf_release(&unc);
	target_release(&t);
	return rc;
}

static int cmp_dirent(const void *a, const void *b)
{
	const struct ipam_smb_dirent *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void ipam_smb_dirents_free(struct ipam_smb_dirent *d, size_t nr)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < nr; i++)
		free(d[i].name);
	free(d);
}

static int list_url(struct ipam_smb_dirent **out, size_t *nr,
		    struct ipam_smb *s, const char *url, const char *unc)
{
	struct ipam_smb_dirent *v = NULL;
	size_t n = 0;
	struct guard g;
	SMBCFILE *d;
	int rc = 0, e = 0;

	*out = NULL;
	*nr = 0;
	guard_enter(&g, s);
	errno = 0;
	d = smbc_getFunctionOpendir(s->ctx)(s->ctx, url);
	if (!d)
		e = errno ? errno : EIO;
	while (d) {
		struct smbc_dirent *de;

		errno = 0;
		de = smbc_getFunctionReaddir(s->ctx)(s->ctx, d);
		if (!de) {
			e = errno;
			break;
		}
		if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0)
			continue;
		if (de->smbc_type != SMBC_DIR && de->smbc_type != SMBC_FILE)
			continue;
		if (n >= MAX_DIR_ENTRIES) {
			e = -1;
			break;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].name = xstrdup(de->name);
		v[n].is_dir = de->smbc_type == SMBC_DIR;
		n++;
	}
	if (d)
		smbc_getFunctionClosedir(s->ctx)(s->ctx, d);
	guard_leave(&g);
	if (e == -1)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "smb list '%s': more than %d entries", unc,
				    MAX_DIR_ENTRIES);
	else if (e)
		rc = smb_fail(0, "list", unc, e);
	if (rc) {
		ipam_smb_dirents_free(v, n);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_dirent);
	*out = v;
	*nr = n;
	return 0;
}

int ipam_smb_list(struct ipam_smb_dirent **out, size_t *nr, struct ipam_smb *s,
		  const char *path)
{
	struct target t;
	int rc;

	*out = NULL;
	*nr = 0;
	rc = target_init(&t, s, path);
	if (!rc)
		rc = list_url(out, nr, s, t.url.buf, t.unc.buf);
	target_release(&t);
	return rc;
}

static int remove_one(struct ipam_smb *s, const char *url, const char *unc,
		      int is_dir)
{
	struct guard g;
	int r, e;

	guard_enter(&g, s);
	errno = 0;
	r = is_dir ? smbc_getFunctionRmdir(s->ctx)(s->ctx, url)
		   : smbc_getFunctionUnlink(s->ctx)(s->ctx, url);
	e = errno ? errno : EIO;
	guard_leave(&g);
	if (r < 0)
		return smb_fail(0, "remove", unc, e);
	return 0;
}

static int remove_tree(struct ipam_smb *s, const char *url, const char *unc,
		       int depth)
{
	struct ipam_smb_dirent *v;
	size_t n, i;
	int rc;

	if (depth > MAX_TREE_DEPTH)
		return ipam_error_set(IPAM_ELIMIT,
				      "smb remove '%s': deeper than %d levels",
				      unc, MAX_TREE_DEPTH);
	rc = list_url(&v, &n, s, url, unc);
	for (i = 0; !rc && i < n; i++) {
		struct strbuf cu = STRBUF_INIT, cn = STRBUF_INIT;

		strbuf_addf(&cu, "%s/", url);
		add_pct(&cu, v[i].name);
		strbuf_addf(&cn, "%s\\%s", unc, v[i].name);
		if (v[i].is_dir)
			rc = remove_tree(s, cu.buf, cn.buf, depth + 1);
		else
			rc = remove_one(s, cu.buf, cn.buf, 0);
		strbuf_release(&cu);
		strbuf_release(&cn);
	}
	ipam_smb_dirents_free(v, n);
	if (!rc)
		rc = remove_one(s, url, unc, 1);
	return rc;
}

/* Remove path: a file, an empty folder, or (recursive) a whole tree. */
static int remove_path(struct ipam_smb *s, const char *path, int recursive)
{
	struct ipam_smb_stat st;
	struct target t;
	int rc, e;

	rc = target_init(&t, s, path);
	if (rc)
		goto out;
	if (t.p.nr < 2) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb remove '%s': a share is not removed",
				    t.unc.buf);
		goto out;
	}
	if (do_stat(&st, &e, s, t.url.buf) < 0)
		rc = smb_fail(0, "remove", t.unc.buf, e);
	else if (st.is_dir && recursive)
		rc = remove_tree(s, t.url.buf, t.unc.buf, 0);
	else
		rc = remove_one(s, t.url.buf, t.unc.buf, st.is_dir);
out:
	target_release(&t);
	return rc;
}

int ipam_smb_remove(struct ipam_smb *s, const char *path)
{
	return remove_path(s, path, 0);
}

int ipam_smb_remove_tree(struct ipam_smb *s, const char *path)
{
	return remove_path(s, path, 1);
}

/* --- security descriptors (smbcacls) ------------------------------- */

/*
 * smbcacls --sddl [--set=SDDL] -- //server/share dir\file.  The password
 * goes in an authentication file, never on the command line; with
 * Kerberos, KRB5CCNAME names the cache as for libsmbclient.
 */
static int smbcacls(struct ipam_proc_result *r, struct ipam_smb *s,
		    const struct target *t, const char *set_sddl,
		    const char *op)
{
	struct strbuf conf = STRBUF_INIT, auth = STRBUF_INIT;
	struct strbuf service = STRBUF_INIT, file = STRBUF_INIT;
	struct strbuf set = STRBUF_INIT, pre = STRBUF_INIT;
	const char *argv[12];
	struct guard g;
	size_t i, n = 0;
	int rc = 0, authfile = 0;

	strbuf_init(&r->out);
	strbuf_init(&r->err);
	strbuf_addf(&conf, "--configfile=%s", s->conf);
	strbuf_addf(&service, "//%s/%s", s->server, t->p.comp[0]);
	for (i = 1; i < t->p.nr; i++) {
		if (i > 1)
			strbuf_addch(&file, '\\');
		strbuf_addstr(&file, t->p.comp[i]);
	}
	if (t->p.nr == 1)
		strbuf_addch(&file, '\\');
	argv[n++] = "smbcacls";
	argv[n++] = conf.buf;
	argv[n++] = "--sddl";
	if (s->kerberos) {
		argv[n++] = "--use-kerberos=required";
		/* Else it prompts for a password it then does not use. */
		argv[n++] = "--no-pass";
	} else {
		strbuf_addf(&auth, "%s/auth", s->dir);
		rc = ipam_smb_write_authfile(auth.buf, s->authname,
					     s->password);
		if (rc)
			goto out;
		authfile = 1;
		strbuf_addf(&pre, "--authentication-file=%s", auth.buf);
		argv[n++] = pre.buf;
	}
	if (set_sddl) {
		strbuf_addf(&set, "--set=%s", set_sddl);
		argv[n++] = set.buf;
	}
	argv[n++] = "--";
	argv[n++] = service.buf;
	argv[n++] = file.buf;
	argv[n] = NULL;
	guard_enter(&g, s);
	rc = run_helper(r, argv, s->timeout * 2 + 5);
	guard_leave(&g);
	if (!rc && r->status != 0) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "smb %s '%s' (smbcacls)", op, t->unc.buf);
		rc = helper_fail(r, m.buf);
		strbuf_release(&m);
	} else if (rc) {
		rc = ipam_error_prefix(rc, "smb %s '%s'", op, t->unc.buf);
	}
out:
	if (authfile)
		unlink(auth.buf);
	strbuf_release(&conf);
	strbuf_release(&auth);
	strbuf_release(&service);
	strbuf_release(&file);
	strbuf_release(&set);
	strbuf_release(&pre);
	return rc;
}

/* The SDDL line smbcacls printed: the last line starting "O:" or "D:". */
static int parse_sddl(struct strbuf *out, const struct ipam_proc_result *r,
		      const char *unc)
{
	const char *s = r->out.buf, *found = NULL;
	size_t found_len = 0;

	while (*s) {
		size_t len = strcspn(s, "\r\n");

		if (len > 2 && (s[0] == 'O' || s[0] == 'G' || s[0] == 'D') &&
		    s[1] == ':') {
			found = s;
			found_len = len;
		}
		s += len;
		s += strspn(s, "\r\n");
	}
	if (!found) {
		struct strbuf m = STRBUF_INIT;
		int rc;

		strbuf_addf(&m, "smb acl get '%s': smbcacls printed no SDDL",
			    unc);
		rc = helper_fail(r, m.buf);
		strbuf_release(&m);
		return rc == IPAM_ENOTFOUND || rc == IPAM_EAUTH ? rc : IPAM_EIO;
	}
	strbuf_add(out, found, found_len);
	return 0;
}

int ipam_smb_acl_get(struct strbuf *sddl, struct ipam_smb *s, const char *path)
{
	struct ipam_proc_result r;
	struct target t;
	int rc;

	strbuf_init(&r.out);
	strbuf_init(&r.err);
	rc = target_init(&t, s, path);
	if (!rc)
		rc = smbcacls(&r, s, &t, NULL, "acl get");
	if (!rc)
		rc = parse_sddl(sddl, &r, t.unc.buf);
	ipam_proc_result_release(&r);
	target_release(&t);
	return rc;
}

int ipam_smb_acl_set(struct strbuf *applied, struct ipam_smb *s,
		     const char *path, const char *sddl)
{
	struct ipam_proc_result r;
	struct target t;
	int rc;

	strbuf_init(&r.out);
	strbuf_init(&r.err);
	rc = target_init(&t, s, path);
	if (rc)
		goto out;
	if (!sddl || strncmp(sddl, "O:", 2) != 0 || strchr(sddl, '\n')) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb acl set '%s': the SDDL must start "
				    "with an owner (O:) and be one line",
				    t.unc.buf);
		goto out;
	}
	rc = smbcacls(&r, s, &t, sddl, "acl set");
	ipam_proc_result_release(&r);
	if (!rc && applied)
		rc = ipam_smb_acl_get(applied, s, path);
out:
	target_release(&t);
	return rc;
}
