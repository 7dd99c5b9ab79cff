#include "gitsrc.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "decode.h"
#include "giturl.h"
#include "error.h"
#include "proc.h"
#include "text.h"
#include "secret.h"
#include "sha256.h"
#include "strbuf.h"
#include "utf8.h"
#include "banned.h"

/* Debian's libgit2 (mbedTLS) reads this bundle when told no other. */
#define SYSTEM_CA_FILE	   "/etc/ssl/certs/ca-certificates.crt"
#define MAX_KNOWN_HOSTS	   (1u << 20)
#define DEFAULT_TOKEN_USER "x-access-token"
#define DEFAULT_SSH_USER   "git"

enum url_kind { URL_LOCAL, URL_HTTPS, URL_SSH };

struct url_info {
	enum url_kind kind;
	char *url;  /* what libgit2 is given (a local path made absolute) */
	char *host; /* SSH: lower case, without brackets */
	int port;   /* SSH */
};

struct fetch_ctx {
	const struct ipam_git_opts *o;
	const struct url_info *u;
	struct strbuf token;
	int have_token;
	int has_deadline;
	struct timespec deadline;
	unsigned cred_calls;
	unsigned keys_offered;
	int err; /* a callback failed: its code (message in the last error) */
};

/* ---- libgit2, once per process ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_failed;
static pthread_mutex_t ca_lock = PTHREAD_MUTEX_INITIALIZER;
static char *ca_current; /* the CA file libgit2 holds; NULL: the system's */

static void init_libgit2(void)
{
	static const int levels[] = {
		GIT_CONFIG_LEVEL_PROGRAMDATA,
		GIT_CONFIG_LEVEL_SYSTEM,
		GIT_CONFIG_LEVEL_XDG,
		GIT_CONFIG_LEVEL_GLOBAL,
	};
	size_t i;

	if (git_libgit2_init() < 0) {
		init_failed = 1;
		return;
	}
	/*
	 * What is fetched must not depend on who runs ipamctl: no user or
	 * system git configuration (url.<base>.insteadOf, credential
	 * helpers, http.sslVerify, ...) is read.
	 */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "ipamctl/" IPAM_VERSION);
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* "context: <libgit2's message>" as the last error. */
static int git_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int git_fail(int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ipam_error_set(code, "%s: %s", sb.buf, git_msg());
	strbuf_release(&sb);
	return code;
}

/*
 * libgit2 keeps the CA locations process-wide; set them only when they
 * change, and put the system bundle back after a custom one.
 */
static int set_ca(const char *ca_file)
{
	const char *path = ca_file ? ca_file : SYSTEM_CA_FILE;
	int err = 0;

	pthread_mutex_lock(&ca_lock);
	if ((!ca_file && !ca_current) ||
	    (ca_file && ca_current && !strcmp(ca_file, ca_current)))
		goto out;
	if (ca_file && access(ca_file, R_OK)) {
		err = ipam_error_set(IPAM_EIO, "cannot read CA file '%s': %s",
				     ca_file, strerror(errno));
		goto out;
	}
	if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, path, NULL) < 0) {
		err = git_fail(IPAM_EINVAL, "CA file '%s'", path);
		goto out;
	}
	free(ca_current);
	ca_current = ca_file ? xstrdup(ca_file) : NULL;
out:
	pthread_mutex_unlock(&ca_lock);
	return err;
}

/* ---- URLs ---- */

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void url_info_release(struct url_info *u)
{
	free(u->url);
	free(u->host);
	memset(u, 0, sizeof(*u));
}

/* host[:port] or [host]:port of an authority without user info. */
static int parse_host_port(struct url_info *u, const char *s, size_t n,
			   const char *url)
{
	const char *colon = NULL, *end = s + n;

	u->port = 22;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			goto bad;
		u->host = xstrndup(s + 1, (size_t)(close - s - 1));
		if (close + 1 < end) {
			if (close[1] != ':')
				goto bad;
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		u->host = xstrndup(s, colon ? (size_t)(colon - s) : n);
	}
	if (colon) {
		char *e;
		long p;

		errno = 0;
		p = strtol(colon + 1, &e, 10);
		if (e != end || colon + 1 == end || errno || p < 1 || p > 65535)
			goto bad;
		u->port = (int)p;
	}
	if (!*u->host)
		goto bad;
	lower(u->host);
	return 0;
bad:
	return ipam_error_set(IPAM_EINVAL, "git URL '%s': invalid host or port",
			      url);
}

/* Which transport a URL takes. */
static int parse_url(struct url_info *u, const char *url)
{
	static const char *const ssh_schemes[] = {"ssh://", "git+ssh://",
						  "ssh+git://"};
	const char *auth, *slash, *at, *colon, *why;
	size_t i;

	memset(u, 0, sizeof(*u));
	if ((why = ipam_giturl_secret(url)))
		return ipam_error_set(IPAM_EINVAL, "git URL: %s", why);
	if (starts_with(url, "https://")) {
		u->kind = URL_HTTPS;
		u->url = xstrdup(url);
		return 0;
	}
	for (i = 0; i < sizeof(ssh_schemes) / sizeof(ssh_schemes[0]); i++) {
		if (!starts_with(url, ssh_schemes[i]))
			continue;
		auth = url + strlen(ssh_schemes[i]);
		slash = strchr(auth, '/');
		if (!slash)
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': no repository "
					      "path",
					      url);
		at = memchr(auth, '@', (size_t)(slash - auth));
		if (at)
			auth = at + 1;
		u->kind = URL_SSH;
		u->url = xstrdup(url);
		return parse_host_port(u, auth, (size_t)(slash - auth), url);
	}
	if (starts_with(url, "http://") || starts_with(url, "git://"))
		return ipam_error_set(IPAM_EINVAL,
				      "git URL '%s': unauthenticated "
				      "transports (http://, git://) are "
				      "refused: use https:// or ssh://",
				      url);
	if (starts_with(url, "file://")) {
		u->kind = URL_LOCAL;
		u->url = xstrdup(url);
		return 0;
	}
	if (strstr(url, "://"))
		return ipam_error_set(IPAM_EINVAL,
				      "git URL '%s': unsupported scheme", url);
	/* scp-like [user@]host:path, as git reads it: a colon before any
	 * slash */
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	if (colon && colon != url && (!slash || colon < slash)) {
		at = memchr(url, '@', (size_t)(colon - url));
		auth = at ? at + 1 : url;
		u->kind = URL_SSH;
		u->url = xstrdup(url);
		u->port = 22;
		if (auth == colon)
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': no host", url);
		return parse_host_port(u, auth, (size_t)(colon - auth), url);
	}
	u->kind = URL_LOCAL;
	if (url[0] == '/') {
		u->url = xstrdup(url);
	} else {
		/* the cache is named by the URL: a relative path must not
		 * name different repositories from different places */
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return ipam_error_set(IPAM_EIO,
					      "git URL '%s': cannot resolve a "
					      "relative path: %s",
					      url, strerror(errno));
		u->url = xasprintf("%s/%s", cwd, url);
		free(cwd);
	}
	return 0;
}

/* ---- deadlines ---- */

static void deadline_set(struct fetch_ctx *c, int seconds)
{
	if (seconds <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += seconds;
	c->has_deadline = 1;
}

static int deadline_passed(const struct fetch_ctx *c)
{
	struct timespec now;

	if (!c->has_deadline)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > c->deadline.tv_sec ||
	       (now.tv_sec == c->deadline.tv_sec &&
		now.tv_nsec >= c->deadline.tv_nsec);
}

/* Record a callback's failure (the message is already set). */
static int cb_fail(struct fetch_ctx *c, int code)
{
	c->err = code;
	return GIT_EUSER;
}

static int cb_check_time(struct fetch_ctx *c)
{
	if (c->err)
		return GIT_EUSER;
	if (!deadline_passed(c))
		return 0;
	ipam_error_set(IPAM_ETIMEOUT, "not done within the timeout of %d s",
		       c->o->timeout);
	return cb_fail(c, IPAM_ETIMEOUT);
}

/* ---- SSH host keys against the pinned known_hosts ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct strbuf *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 |
			     p[i + 2];

		strbuf_addch(out, b64_alphabet[v >> 18]);
		strbuf_addch(out, b64_alphabet[(v >> 12) & 63]);
		strbuf_addch(out, b64_alphabet[(v >> 6) & 63]);
		strbuf_addch(out, b64_alphabet[v & 63]);
	}
	if (n - i == 1) {
		strbuf_addch(out, b64_alphabet[p[i] >> 2]);
		strbuf_addch(out, b64_alphabet[(p[i] & 3) << 4]);
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 8 | p[i + 1];

		strbuf_addch(out, b64_alphabet[v >> 10]);
		strbuf_addch(out, b64_alphabet[(v >> 4) & 63]);
		strbuf_addch(out, b64_alphabet[(v << 2) & 63]);
	}
}

/* Base64 of s (padding optional) into out; -1 when it is not base64. */
static int b64_decode(struct strbuf *out, const char *s, size_t n)
{
	unsigned v = 0;
	int bits = 0;
	size_t i;

	while (n && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		const char *p = s[i] ? strchr(b64_alphabet, s[i]) : NULL;

		if (!p)
			return -1;
		v = (v << 6 | (unsigned)(p - b64_alphabet)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (int)((v >> bits) & 0xff));
		}
	}
	return 0;
}

/* "ssh-ed25519 SHA256:..." of a key in SSH wire format, as ssh prints. */
static void describe_key(struct strbuf *out, const unsigned char *key,
			 size_t len)
{
	unsigned char digest[IPAM_SHA256_LEN];
	size_t tlen = 0;

	if (len >= 4)
		tlen = (size_t)key[0] << 24 | (size_t)key[1] << 16 |
		       (size_t)key[2] << 8 | key[3];
	if (len >= 4 && tlen && tlen <= len - 4 && tlen < 64)
		strbuf_add(out, key + 4, tlen);
	else
		strbuf_addstr(out, "unknown-type");
	ipam_sha256(digest, key, len);
	strbuf_addstr(out, " SHA256:");
	b64_encode(out, digest, sizeof(digest));
}

static int read_small_file(struct strbuf *out, const char *path, size_t max,
			   const char *what)
{
	char buf[8192];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot open %s '%s': %s", what,
				      path, strerror(errno));
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return ipam_error_set(IPAM_EIO,
					      "cannot read %s '%s': %s", what,
					      path, strerror(errno));
		}
		if (!r)
			break;
		strbuf_add(out, buf, (size_t)r);
		if (out->len > max) {
			close(fd);
			return ipam_error_set(IPAM_ELIMIT,
					      "%s '%s' is larger than %zu "
					      "bytes",
					      what, path, max);
		}
	}
	close(fd);
	return 0;
}

/* OpenSSH's host patterns: '*' and '?' only ("[host]:port" is literal). */
static int pattern_match(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (p[1] == '*')
				p++;
			if (!p[1])
				return 1;
			for (; *s; s++)
				if (pattern_match(p + 1, s))
					return 1;
			return 0;
		}
		if (!*s || (*p != '?' && *p != *s))
			return 0;
	}
	return !*s;
}

/* Does the comma-separated pattern list of a known_hosts line name host?
 * Sets *hashed when it holds hashed names, which are not read. */
static int hosts_match(const char *list, size_t n, const char *host,
		       int *hashed)
{
	struct strbuf pat = STRBUF_INIT;
	const char *p = list, *end = list + n;
	int match = 0, negated = 0;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);
		int neg = len && p[0] == '!';

		strbuf_reset(&pat);
		strbuf_add(&pat, p + neg, len - (size_t)neg);
		lower(pat.buf); /* host is lower case already */
		if (starts_with(pat.buf, "|1|"))
			*hashed = 1;
		else if (pattern_match(pat.buf, host)) {
			if (neg)
				negated = 1;
			else
				match = 1;
		}
		p += len + 1;
	}
	strbuf_release(&pat);
	return match && !negated;
}

static int check_hostkey(struct fetch_ctx *c, const git_cert_hostkey *hk)
{
	struct strbuf file = STRBUF_INIT, key = STRBUF_INIT, name = STRBUF_INIT;
	struct strbuf offered = STRBUF_INIT;
	const char *kh = c->o->known_hosts, *line, *next;
	int known = 0, ok = 0, revoked = 0, hashed = 0, err;

	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		ipam_error_set(IPAM_EAUTH,
			       "'%s': the SSH library gave no host key to "
			       "check: refusing",
			       c->u->host);
		return cb_fail(c, IPAM_EAUTH);
	}
	err = read_small_file(&file, kh, MAX_KNOWN_HOSTS, "known_hosts");
	if (err) {
		strbuf_release(&file);
		return cb_fail(c, err);
	}
	if (c->u->port == 22)
		strbuf_addstr(&name, c->u->host);
	else
		strbuf_addf(&name, "[%s]:%d", c->u->host, c->u->port);
	for (line = file.buf; *line; line = next) {
		const char *f[4], *e[4], *p = line;
		int nf = 0, is_revoked = 0;

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		/* split into up to four blank-separated fields */
		while (nf < 4) {
			while (p < next && (*p == ' ' || *p == '\t'))
				p++;
			if (p >= next || *p == '\n' || *p == '\r' ||
			    (!nf && *p == '#'))
				break;
			f[nf] = p;
			while (p < next && *p != ' ' && *p != '\t' &&
			       *p != '\n' && *p != '\r')
				p++;
			e[nf++] = p;
		}
		if (nf && f[0][0] == '@') {
			/* @cert-authority lines pin no host key */
			if ((size_t)(e[0] - f[0]) != strlen("@revoked") ||
			    strncmp(f[0], "@revoked", strlen("@revoked")))
				continue;
			is_revoked = 1;
			memmove(f, f + 1, 3 * sizeof(*f));
			memmove(e, e + 1, 3 * sizeof(*e));
			nf--;
		}
		if (nf < 3 || !hosts_match(f[0], (size_t)(e[0] - f[0]),
					   name.buf, &hashed))
			continue;
		strbuf_reset(&key);
		if (b64_decode(&key, f[2], (size_t)(e[2] - f[2])))
			continue;
		if (!is_revoked)
			known = 1;
		if (key.len != hk->hostkey_len ||
		    memcmp(key.buf, hk->hostkey, key.len))
			continue;
		if (is_revoked)
			revoked = 1;
		else
			ok = 1;
	}
	describe_key(&offered, (const unsigned char *)hk->hostkey,
		     hk->hostkey_len);
	if (revoked || !ok) {
		if (revoked)
			ipam_error_set(IPAM_EAUTH,
				       "host key of '%s' (%s) is revoked in "
				       "'%s': refusing",
				       name.buf, offered.buf, kh);
		else if (known)
			ipam_error_set(IPAM_EAUTH,
				       "host key of '%s' (%s) does not match "
				       "the pinned known_hosts '%s': refusing",
				       name.buf, offered.buf, kh);
		else
			ipam_error_set(IPAM_EAUTH,
				       "host '%s' is not in the pinned "
				       "known_hosts '%s'%s: refusing its key "
				       "%s",
				       name.buf, kh,
				       hashed ? " (hashed names are not read: "
						"list the host in plain)"
					      : "",
				       offered.buf);
		err = cb_fail(c, IPAM_EAUTH);
	}
	strbuf_release(&file);
	strbuf_release(&key);
	strbuf_release(&name);
	strbuf_release(&offered);
	return err;
}

/* ---- remote callbacks ---- */

static int cb_certificate(git_cert *cert, int valid, const char *host,
			  void *payload)
{
	struct fetch_ctx *c = payload;
	int err = cb_check_time(c);

	(void)valid;
	(void)host;
	if (err)
		return err;
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2 &&
	    c->u->kind == URL_SSH)
		return check_hostkey(c, (const git_cert_hostkey *)cert);
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		ipam_error_set(IPAM_EAUTH, "unexpected SSH host key");
		return cb_fail(c, IPAM_EAUTH);
	}
	/* TLS: libgit2 checked the chain against the CA and the name */
	return GIT_PASSTHROUGH;
}

static int cb_credentials(git_credential **out, const char *url,
			  const char *user_from_url, unsigned int allowed,
			  void *payload)
{
	struct fetch_ctx *c = payload;
	const char *user =
		user_from_url && *user_from_url ? user_from_url : NULL;
	int err = cb_check_time(c);

	(void)url;
	if (err)
		return err;
	c->cred_calls++;
	if (c->u->kind == URL_HTTPS) {
		if (!c->have_token)
			ipam_error_set(IPAM_EAUTH,
				       "the server asks for credentials: name "
				       "a token file or environment variable");
		else if (c->cred_calls > 1)
			ipam_error_set(IPAM_EAUTH,
				       "the server rejected the token from %s "
				       "'%s'",
				       c->o->token_file ? "file"
							: "environment "
							  "variable",
				       c->o->token_file ? c->o->token_file
							: c->o->token_env);
		else if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
			ipam_error_set(IPAM_EAUTH, "the server takes no basic "
						   "authentication");
		else if (git_credential_userpass_plaintext_new(
				 out, DEFAULT_TOKEN_USER, c->token.buf) < 0)
			git_fail(IPAM_EAUTH, "token credentials");
		else
			return 0;
		return cb_fail(c, IPAM_EAUTH);
	}
	if (c->u->kind == URL_SSH && c->cred_calls <= 4) {
		const char *key = c->o->ssh_key;

		if (!user)
			user = DEFAULT_SSH_USER;
		if (allowed & GIT_CREDENTIAL_SSH_KEY) {
			struct strbuf pub = STRBUF_INIT;
			int r;

			if (c->keys_offered++) {
				ipam_error_set(
					IPAM_EAUTH,
					"the server rejected the SSH key "
					"%s%s%s for user '%s'",
					key ? "'" : "",
					key ? key : "of ssh-agent",
					key ? "'" : "", user);
				return cb_fail(c, IPAM_EAUTH);
			}
			if (!key) {
				r = git_credential_ssh_key_from_agent(out,
								      user);
			} else {
				strbuf_addf(&pub, "%s.pub", key);
				r = git_credential_ssh_key_new(
					out, user,
					access(pub.buf, R_OK) ? NULL : pub.buf,
					key, NULL);
				strbuf_release(&pub);
			}
			if (r < 0) {
				git_fail(IPAM_EAUTH, "SSH key %s",
					 key ? key : "of ssh-agent");
				return cb_fail(c, IPAM_EAUTH);
			}
			return 0;
		}
		if (allowed & GIT_CREDENTIAL_USERNAME) {
			if (git_credential_username_new(out, user) < 0) {
				git_fail(IPAM_EAUTH, "SSH user '%s'", user);
				return cb_fail(c, IPAM_EAUTH);
			}
			return 0;
		}
	}
	ipam_error_set(IPAM_EAUTH, "the server accepts none of the "
				   "credentials given");
	return cb_fail(c, IPAM_EAUTH);
}

static int cb_transfer(const git_indexer_progress *st, void *payload)
{
	struct fetch_ctx *c = payload;
	int err = cb_check_time(c);

	if (err)
		return err;
	if (st->received_bytes > IPAM_GIT_MAX_FETCH) {
		ipam_error_set(IPAM_ELIMIT,
			       "the server sent more than %u MiB: refusing",
			       IPAM_GIT_MAX_FETCH >> 20);
		return cb_fail(c, IPAM_ELIMIT);
	}
	return 0;
}

static int cb_sideband(const char *str, int len, void *payload)
{
	(void)str;
	(void)len;
	return cb_check_time(payload);
}

static int cb_update_tips(const char *refname, const git_oid *a,
			  const git_oid *b, void *payload)
{
	(void)refname;
	(void)a;
	(void)b;
	return cb_check_time(payload);
}

/* ---- the cache ---- */

static int mkdir_p(const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	const char *p = dir;
	int err = 0;

	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t n = slash ? (size_t)(slash - dir) : strlen(dir);

		strbuf_reset(&sb);
		strbuf_add(&sb, dir, n);
		if (mkdir(sb.buf, 0700) && errno != EEXIST) {
			err = ipam_error_set(IPAM_EIO,
					     "cannot create the git cache "
					     "'%s': %s",
					     sb.buf, strerror(errno));
			break;
		}
		p = slash ? slash : dir + n;
	}
	if (!err && (stat(dir, &st) || !S_ISDIR(st.st_mode)))
		err = ipam_error_set(
			IPAM_EIO, "the git cache '%s' is not a directory", dir);
	strbuf_release(&sb);
	return err;
}

/* One fetch per cache at a time, across processes. */
static int lock_cache(int *fd_out, const char *path, struct fetch_ctx *c)
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot open lock '%s': %s",
				      path, strerror(errno));
	for (;;) {
		if (!flock(fd, c->has_deadline ? LOCK_EX | LOCK_NB : LOCK_EX))
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			ipam_error_set(IPAM_EIO, "cannot lock '%s': %s", path,
				       strerror(errno));
			close(fd);
			return IPAM_EIO;
		}
		if (deadline_passed(c)) {
			close(fd);
			return ipam_error_set(IPAM_ETIMEOUT,
					      "the git cache '%s' stayed "
					      "locked by another fetch for %d "
					      "s",
					      path, c->o->timeout);
		}
		nanosleep(&pause, NULL);
	}
	*fd_out = fd;
	return 0;
}

static int open_cache(git_repository **repo, const char *path, const char *url)
{
	git_repository_init_options io;
	git_config *cfg = NULL;
	struct stat st;

	if (!stat(path, &st)) {
		if (git_repository_open_bare(repo, path) < 0)
			return git_fail(IPAM_EIO,
					"git cache '%s' is not a usable "
					"repository (remove it to clone "
					"again)",
					path);
		return 0;
	}
	if (errno != ENOENT)
		return ipam_error_set(IPAM_EIO, "git cache '%s': %s", path,
				      strerror(errno));
	git_repository_init_options_init(&io,
					 GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
		   GIT_REPOSITORY_INIT_MKDIR;
	io.initial_head = "main";
	if (git_repository_init_ext(repo, path, &io) < 0)
		return git_fail(IPAM_EIO,
				"git clone: cannot create the cache "
				"'%s'",
				path);
	/* Which URL a cache mirrors, for whoever looks inside. */
	if (!git_repository_config(&cfg, *repo)) {
		git_config_set_string(cfg, "ipamctl.url", url);
		git_config_free(cfg);
	}
	return 0;
}

/* "clone" until a first fetch brought something. */
static int has_refs(git_repository *repo)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int r;

	if (git_reference_iterator_new(&it, repo) < 0)
		return 1;
	r = git_reference_next(&ref, it);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return r != GIT_ITEROVER;
}

static int fetch(git_repository *repo, struct fetch_ctx *c, const char *path,
		 int first)
{
	static char heads[] = "+refs/heads/*:refs/heads/*";
	static char tags[] = "+refs/tags/*:refs/tags/*";
	char *specs[] = {heads, tags};
	git_strarray refspecs = {specs, 2};
	git_remote *remote = NULL;
	git_remote_create_options ro;
	git_fetch_options fo;
	const char *step = first ? "clone" : "fetch";
	int r, code;

	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		   GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks.credentials = cb_credentials;
	fo.callbacks.certificate_check = cb_certificate;
	fo.callbacks.transfer_progress = cb_transfer;
	fo.callbacks.sideband_progress = cb_sideband;
	fo.callbacks.update_tips = cb_update_tips;
	fo.callbacks.payload = c;
	/* a mirror of the branches and tags: a deleted branch must not
	 * live on in the cache */
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.proxy_opts.type = GIT_PROXY_AUTO;

	if (c->u->kind == URL_LOCAL) {
		/* libgit2 calls a missing path an unsupported protocol */
		const char *dir = c->u->url;
		struct stat st;

		if (starts_with(dir, "file://"))
			dir += strlen("file://");
		if (stat(dir, &st))
			return ipam_error_set(IPAM_EIO,
					      "git %s '%s': no repository "
					      "there: %s",
					      step, c->u->url, strerror(errno));
	}
	/* no url.*.insteadOf (and none of libgit2 1.5's leak per config
	 * entry while it looks for them) */
	if (git_remote_create_with_opts(&remote, c->u->url, &ro) < 0)
		return git_fail(IPAM_EINVAL, "git %s '%s'", step, c->u->url);
	r = git_remote_fetch(remote, &refspecs, &fo, NULL);
	git_remote_free(remote);
	if (!r)
		return 0;
	if (c->err)
		return ipam_error_prefix(c->err, "git %s '%s'", step,
					 c->u->url);
	code = r == GIT_EAUTH || r == GIT_ECERTIFICATE ? IPAM_EAUTH : IPAM_EIO;
	return git_fail(code, "git %s '%s' (cache '%s')", step, c->u->url,
			path);
}

/*
 * Lock files a fetch killed halfway left behind (ipamctl stopped by its
 * supervisor, or a fetch stopped at its deadline): under our lock on the
 * cache nobody else writes there, so every one is stale and would make
 * the next fetch fail.
 */
static void sweep_locks(const char *dir, int depth)
{
	struct strbuf sb = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	size_t n;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s/%s", dir, de->d_name);
		if (lstat(sb.buf, &st))
			continue;
		n = strlen(de->d_name);
		if (S_ISREG(st.st_mode) && n > 5 &&
		    !strcmp(de->d_name + n - 5, ".lock"))
			unlink(sb.buf);
		else if (S_ISDIR(st.st_mode) && depth < 32 &&
			 (depth || !strcmp(de->d_name, "refs")))
			sweep_locks(sb.buf, depth + 1);
	}
	closedir(d);
	strbuf_release(&sb);
}

static int ms_left(const struct fetch_ctx *c, int grace_ms)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000 +
	     (c->deadline.tv_nsec - now.tv_nsec) / 1000000 + grace_ms;
	return ms < 0 ? 0 : ms > 1000000000 ? 1000000000 : (int)ms;
}

struct child_args {
	struct fetch_ctx *c;
	const char *path;
	int first;
};

/* The child's side: fetch, then "<code>\n<message>" down the pipe. */
static void child_fetch(int fd, void *ctx)
{
	struct child_args *a = ctx;
	struct strbuf sb = STRBUF_INIT;
	git_repository *repo = NULL;
	const char *p;
	ssize_t w;
	int err;

	if (git_repository_open_bare(&repo, a->path) < 0)
		err = git_fail(IPAM_EIO, "git cache '%s'", a->path);
	else
		err = fetch(repo, a->c, a->path, a->first);
	git_repository_free(repo);
	ipam_secret_wipe(&a->c->token);
	strbuf_addf(&sb, "%d\n%s", err, err ? ipam_error_last() : "");
	for (p = sb.buf; p < sb.buf + sb.len; p += w) {
		w = write(fd, p, (size_t)(sb.buf + sb.len - p));
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w < 0)
			break;
	}
	_exit(0);
}

/*
 * The fetch in a child process stopped at the deadline: libgit2 1.5 has
 * no network timeouts, and a server that accepts the connection and then
 * says nothing (or a peer gone mid-transfer) would hang ipamctl for good.
 * The callbacks' own deadline usually ends it first, with a finer message.
 */
static int fetch_bounded(struct fetch_ctx *c, const char *path, int first)
{
	struct child_args a = {c, path, first};
	struct strbuf msg = STRBUF_INIT;
	const char *step = first ? "clone" : "fetch";
	int code, err;
	char *end;

	err = ipam_proc_call(&msg, 65536, child_fetch, &a,
			     ipam_proc_now_ms() + ms_left(c, 1000), NULL);
	if (err == IPAM_EIO) {
		err = ipam_error_prefix(IPAM_EIO, "git %s", step);
	} else if (err == IPAM_ETIMEOUT) {
		sweep_locks(path, 0);
		err = ipam_error_set(IPAM_ETIMEOUT,
				     "git %s '%s': no answer within the "
				     "timeout of %d s: stopped",
				     step, c->u->url, c->o->timeout);
	} else {
		errno = 0;
		code = (int)strtol(msg.buf, &end, 10);
		if (end == msg.buf || *end != '\n' || errno)
			err = ipam_error_set(IPAM_ERROR,
					     "git %s '%s': the fetching "
					     "process ended without a result",
					     step, c->u->url);
		else
			err = code ? ipam_error_set(code, "%s", end + 1) : 0;
	}
	strbuf_release(&msg);
	return err;
}

/* ---- resolving the ref ---- */

static int is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* The commit of ref name; *out stays NULL when there is no such ref. */
static int peel_ref(git_commit **out, git_repository *repo, const char *name)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int r;

	r = git_reference_lookup(&ref, repo, name);
	if (r == GIT_ENOTFOUND)
		return 0;
	if (r < 0)
		return git_fail(IPAM_EIO, "git ref '%s'", name);
	r = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
	if (r < 0)
		return git_fail(IPAM_EINVAL, "git ref '%s' names no commit",
				name);
	*out = (git_commit *)obj;
	return 0;
}

/*
 * A full ref name, else a tag or a branch (both of one name, naming two
 * commits, is refused rather than guessed), else a commit id.
 */
static int resolve(git_commit **out, git_repository *repo, const char *ref,
		   const char *url)
{
	struct strbuf tag = STRBUF_INIT, head = STRBUF_INIT;
	git_commit *t = NULL, *h = NULL;
	int valid = 0, err = 0;

	*out = NULL;
	if (starts_with(ref, "refs/")) {
		strbuf_addstr(&head, ref);
	} else {
		strbuf_addf(&tag, "refs/tags/%s", ref);
		strbuf_addf(&head, "refs/heads/%s", ref);
	}
	if (git_reference_name_is_valid(&valid, head.buf) < 0 || !valid) {
		err = ipam_error_set(IPAM_EINVAL, "git ref '%s': invalid name",
				     ref);
		goto out;
	}
	if (tag.len && (err = peel_ref(&t, repo, tag.buf)))
		goto out;
	if ((err = peel_ref(&h, repo, head.buf)))
		goto out;
	if (t && h && !git_oid_equal(git_commit_id(t), git_commit_id(h))) {
		err = ipam_error_set(IPAM_EINVAL,
				     "git ref '%s' is ambiguous in '%s': both "
				     "a branch and a tag; name it in full "
				     "(refs/heads/%s or refs/tags/%s)",
				     ref, url, ref, ref);
		goto out;
	}
	if (t) {
		*out = t;
		t = NULL;
		goto out;
	}
	if (h) {
		*out = h;
		h = NULL;
		goto out;
	}
	if (is_hex(ref, GIT_OID_MINPREFIXLEN, GIT_OID_HEXSZ)) {
		git_object *obj = NULL, *peeled = NULL;
		git_oid oid;
		size_t n = strlen(ref);
		int r;

		git_oid_fromstrn(&oid, ref, n);
		r = git_object_lookup_prefix(&obj, repo, &oid, n,
					     GIT_OBJECT_ANY);
		if (r == GIT_EAMBIGUOUS) {
			err = ipam_error_set(IPAM_EINVAL,
					     "git ref '%s' is an ambiguous "
					     "commit id in '%s': give more "
					     "digits",
					     ref, url);
			goto out;
		}
		if (!r) {
			r = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
			git_object_free(obj);
			if (r < 0) {
				err = git_fail(IPAM_EINVAL,
					       "git ref '%s' names no commit",
					       ref);
				goto out;
			}
			*out = (git_commit *)peeled;
			goto out;
		}
	}
	err = ipam_error_set(IPAM_ENOTFOUND,
			     "git ref '%s' not found in '%s': no branch, tag "
			     "or fetched commit of that name",
			     ref, url);
out:
	git_commit_free(t);
	git_commit_free(h);
	strbuf_release(&tag);
	strbuf_release(&head);
	return err;
}

/* ---- reading the tree ---- */

/* "a//b/" -> "a/b"; "." and ".." components are refused. */
static int normalise_path(struct strbuf *out, const char *path)
{
	const char *p = path ? path : "";

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return ipam_error_set(IPAM_EINVAL,
					      "git path '%s': '.' and '..' "
					      "are not allowed",
					      path);
		if (n) {
			if (out->len)
				strbuf_addch(out, '/');
			strbuf_add(out, p, n);
		}
		p += n + (slash ? 1 : 0);
	}
	return 0;
}

struct pending {
	char *path;
	git_oid id;
};

static int cmp_pending(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->path,
		      ((const struct pending *)b)->path);
}

/* Refuse what a local directory read would refuse, and links. */
static int check_entry(const git_tree_entry *e, const char *path,
		       const char *commit)
{
	git_filemode_t mode = git_tree_entry_filemode(e);

	if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	if (mode == GIT_FILEMODE_LINK)
		return ipam_error_set(IPAM_EINVAL,
				      "git read '%.*s:%s': a symbolic link: "
				      "links are not followed in a git tree",
				      IPAM_GIT_ABBREV, commit, path);
	return ipam_error_set(IPAM_EIO,
			      "git read '%.*s:%s': not a regular file",
			      IPAM_GIT_ABBREV, commit, path);
}

static int list_files(struct pending **list, size_t *nr, git_repository *repo,
		      git_commit *commit, const char *path, const char *hex)
{
	git_tree *root = NULL, *dir = NULL;
	git_tree_entry *e = NULL;
	size_t alloc = 0, i, n;
	int err = 0;

	if (git_commit_tree(&root, commit) < 0)
		return git_fail(IPAM_EIO, "git read: tree of commit %s", hex);
	if (!*path) {
		dir = root;
		root = NULL;
	} else {
		int r = git_tree_entry_bypath(&e, root, path);

		if (r == GIT_ENOTFOUND) {
			err = ipam_error_set(IPAM_ENOTFOUND,
					     "git path '%s' not found in "
					     "commit %.*s",
					     path, IPAM_GIT_ABBREV, hex);
			goto out;
		}
		if (r < 0) {
			err = git_fail(IPAM_EIO, "git read '%.*s:%s'",
				       IPAM_GIT_ABBREV, hex, path);
			goto out;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			/* one file, as a local path naming a file */
			if ((err = check_entry(e, path, hex)))
				goto out;
			*list = xcalloc(1, sizeof(**list));
			(*list)[0].path = xstrdup(path);
			git_oid_cpy(&(*list)[0].id, git_tree_entry_id(e));
			*nr = 1;
			goto out;
		}
		if (git_tree_lookup(&dir, repo, git_tree_entry_id(e)) < 0) {
			err = git_fail(IPAM_EIO, "git read '%.*s:%s'",
				       IPAM_GIT_ABBREV, hex, path);
			goto out;
		}
	}
	n = git_tree_entrycount(dir);
	for (i = 0; i < n; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(dir, i);
		const char *name = git_tree_entry_name(te);
		char *full;

		if (!ipam_decode_is_yaml_name(name))
			continue;
		full = *path ? xasprintf("%s/%s", path, name) : xstrdup(name);
		err = check_entry(te, full, hex);
		if (!err && *nr >= IPAM_GIT_MAX_FILES)
			err = ipam_error_set(IPAM_ELIMIT,
					     "git read '%.*s:%s': more than %d "
					     "*.yaml or *.yml files",
					     IPAM_GIT_ABBREV, hex,
					     *path ? path : ".",
					     IPAM_GIT_MAX_FILES);
		if (err) {
			free(full);
			goto out;
		}
		ALLOC_GROW(*list, *nr + 1, alloc);
		(*list)[*nr].path = full;
		git_oid_cpy(&(*list)[*nr].id, git_tree_entry_id(te));
		(*nr)++;
	}
	if (!*nr) {
		err = ipam_error_set(IPAM_EINVAL,
				     "no *.yaml or *.yml files in '%.*s:%s'",
				     IPAM_GIT_ABBREV, hex, *path ? path : "");
		goto out;
	}
	qsort(*list, *nr, sizeof(**list), cmp_pending);
out:
	git_tree_entry_free(e);
	git_tree_free(dir);
	git_tree_free(root);
	return err;
}

static int read_files(struct ipam_git_snapshot *s, git_repository *repo,
		      git_commit *commit, const char *path)
{
	struct pending *list = NULL;
	git_odb *odb = NULL;
	size_t nr = 0, i, total = 0;
	int err;

	err = list_files(&list, &nr, repo, commit, path, s->commit);
	if (err)
		goto out;
	if (git_repository_odb(&odb, repo) < 0) {
		err = git_fail(IPAM_EIO, "git read: object database");
		goto out;
	}
	s->files = xcalloc(nr, sizeof(*s->files));
	for (i = 0; i < nr; i++) {
		struct ipam_git_file *f = &s->files[i];
		git_object_t type;
		git_blob *blob = NULL;
		size_t len;

		f->name = xasprintf("%.*s:%s", IPAM_GIT_ABBREV, s->commit,
				    list[i].path);
		s->nr++;
		/* the size before the content: a huge blob is never loaded */
		if (git_odb_read_header(&len, &type, odb, &list[i].id) < 0) {
			err = git_fail(IPAM_EIO, "git read '%s'", f->name);
			goto out;
		}
		if (len > IPAM_DECODE_MAX_FILE) {
			err = ipam_error_set(IPAM_ELIMIT,
					     "'%s' is larger than %u MiB: "
					     "refusing",
					     f->name,
					     IPAM_DECODE_MAX_FILE >> 20);
			goto out;
		}
		total += len;
		if (total > IPAM_GIT_MAX_TOTAL) {
			err = ipam_error_set(IPAM_ELIMIT,
					     "git read '%.*s:%s': the files "
					     "add up to more than %u MiB: "
					     "refusing",
					     IPAM_GIT_ABBREV, s->commit, path,
					     IPAM_GIT_MAX_TOTAL >> 20);
			goto out;
		}
		if (git_blob_lookup(&blob, repo, &list[i].id) < 0) {
			err = git_fail(IPAM_EIO, "git read '%s'", f->name);
			goto out;
		}
		f->len = (size_t)git_blob_rawsize(blob);
		f->data = xmalloc(f->len + 1);
		memcpy(f->data, git_blob_rawcontent(blob), f->len);
		f->data[f->len] = '\0';
		git_blob_free(blob);
	}
out:
	for (i = 0; i < nr; i++)
		free(list[i].path);
	free(list);
	git_odb_free(odb);
	return err;
}

static void describe_commit(struct ipam_git_snapshot *s, git_commit *commit)
{
	const git_signature *a = git_commit_author(commit);
	struct strbuf sb = STRBUF_INIT;

	git_oid_tostr(s->commit, sizeof(s->commit), git_commit_id(commit));
	strbuf_addf(&sb, "%s <%s>", a && a->name ? a->name : "",
		    a && a->email ? a->email : "");
	s->author = ipam_text_clean(sb.buf, 0);
	s->subject = ipam_text_clean(git_commit_summary(commit), 0);
	s->time = (long long)git_commit_time(commit);
	strbuf_release(&sb);
}

/* ---- the whole ---- */

static int check_opts(const struct ipam_git_opts *o, const struct url_info *u)
{
	if (u->kind == URL_SSH) {
		if (!(git_libgit2_features() & GIT_FEATURE_SSH))
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': this libgit2 was "
					      "built without SSH",
					      u->url);
		if (!o->known_hosts || !*o->known_hosts)
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': SSH needs a "
					      "pinned known_hosts file",
					      u->url);
		if (o->ssh_key && access(o->ssh_key, R_OK))
			return ipam_error_set(IPAM_EIO,
					      "cannot read SSH key '%s': %s",
					      o->ssh_key, strerror(errno));
	}
	if (u->kind == URL_HTTPS &&
	    !(git_libgit2_features() & GIT_FEATURE_HTTPS))
		return ipam_error_set(IPAM_EINVAL,
				      "git URL '%s': this libgit2 was built "
				      "without HTTPS",
				      u->url);
	return 0;
}

int ipam_git_fetch(struct ipam_git_snapshot *out, const struct ipam_git_opts *o)
{
	struct fetch_ctx c = {0};
	struct url_info u = {0};
	struct strbuf path = STRBUF_INIT, repo_path = STRBUF_INIT;
	struct strbuf lock_path = STRBUF_INIT;
	char key[IPAM_SHA256_HEX_LEN + 1];
	const char *ref = o->ref && *o->ref ? o->ref : "main";
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	int lock_fd = -1, first, err;

	memset(out, 0, sizeof(*out));
	strbuf_init(&c.token);
	c.o = o;
	c.u = &u;
	if (!o->url || !*o->url)
		return ipam_error_set(IPAM_EINVAL, "git: no repository URL");
	if (!o->cache_dir || !*o->cache_dir)
		return ipam_error_set(IPAM_EINVAL, "git: no cache directory");
	pthread_once(&init_once, init_libgit2);
	if (init_failed)
		return ipam_error_set(IPAM_ERROR, "git: libgit2 did not "
						  "initialise");
	if ((err = parse_url(&u, o->url)) || (err = check_opts(o, &u)) ||
	    (err = normalise_path(&path, o->path)))
		goto out;
	if (u.kind == URL_HTTPS) {
		if (o->token_file || o->token_env) {
			err = ipam_secret_read(&c.token, o->token_file,
					       o->token_env);
			if (err) {
				ipam_error_prefix(err, "git token");
				goto out;
			}
			c.have_token = 1;
		}
		if ((err = set_ca(o->ca_file)))
			goto out;
	}
	deadline_set(&c, o->timeout);

	ipam_sha256_hex(key, u.url, strlen(u.url));
	strbuf_addf(&repo_path, "%s/%s", o->cache_dir, key);
	strbuf_addf(&lock_path, "%s.lock", repo_path.buf);
	if ((err = mkdir_p(o->cache_dir)) ||
	    (err = lock_cache(&lock_fd, lock_path.buf, &c)))
		goto out;
	sweep_locks(repo_path.buf, 0);
	if ((err = open_cache(&repo, repo_path.buf, u.url)))
		goto out;
	first = !has_refs(repo);
	if (c.has_deadline && u.kind != URL_LOCAL) {
		git_repository_free(repo);
		repo = NULL;
		if ((err = fetch_bounded(&c, repo_path.buf, first)))
			goto out;
		if (git_repository_open_bare(&repo, repo_path.buf) < 0) {
			err = git_fail(IPAM_EIO, "git cache '%s'",
				       repo_path.buf);
			goto out;
		}
	} else if ((err = fetch(repo, &c, repo_path.buf, first))) {
		goto out;
	}
	if ((err = resolve(&commit, repo, ref, u.url)))
		goto out;
	describe_commit(out, commit);
	err = read_files(out, repo, commit, path.buf);
out:
	git_commit_free(commit);
	git_repository_free(repo);
	if (lock_fd >= 0)
		close(lock_fd);
	ipam_secret_wipe(&c.token);
	strbuf_release(&path);
	strbuf_release(&repo_path);
	strbuf_release(&lock_path);
	url_info_release(&u);
	if (err)
		ipam_git_snapshot_release(out);
	return err;
}

/* ---- a checkout ---- */

/* Does the work-tree path file (relative) hold a desired-state file of
 * rel: rel itself for a file, a *.yaml / *.yml directly in it for a
 * directory ("" being the root)? */
static bool desired_file(const char *file, const char *rel, bool is_dir)
{
	size_t n = strlen(rel);

	if (!file)
		return false;
	if (!is_dir)
		return !strcmp(file, rel);
	if (n) {
		if (strncmp(file, rel, n) || file[n] != '/')
			return false;
		file += n + 1;
	}
	return !strchr(file, '/') && ipam_decode_is_yaml_name(file);
}

static bool delta_touches(const git_diff_delta *d, const char *rel, bool is_dir)
{
	if (!d)
		return false;
	return desired_file(d->old_file.path, rel, is_dir) ||
	       desired_file(d->new_file.path, rel, is_dir);
}

static int worktree_dirty(bool *dirty, git_repository *repo, const char *rel,
			  bool is_dir)
{
	git_status_options so;
	git_status_list *list = NULL;
	char *spec[1] = {(char *)rel};
	size_t i, n;

	*dirty = false;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		   GIT_STATUS_OPT_INCLUDE_IGNORED |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES |
		   GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	/* Below the root, the walk is bounded by rel and goes into
	 * untracked and ignored directories (rel may be in one).  At the
	 * root, those are reported whole, not walked (a build tree can be
	 * large): only files directly in the root count. */
	if (*rel) {
		so.pathspec.strings = spec;
		so.pathspec.count = 1;
		so.flags |= GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
			    GIT_STATUS_OPT_RECURSE_IGNORED_DIRS;
	}
	if (git_status_list_new(&list, repo, &so) < 0)
		return git_fail(IPAM_EIO, "git status of '%s'",
				*rel ? rel : ".");
	n = git_status_list_entrycount(list);
	for (i = 0; i < n && !*dirty; i++) {
		const git_status_entry *e = git_status_byindex(list, i);

		*dirty = e->status != GIT_STATUS_CURRENT &&
			 (delta_touches(e->head_to_index, rel, is_dir) ||
			  delta_touches(e->index_to_workdir, rel, is_dir));
	}
	git_status_list_free(list);
	return 0;
}

int ipam_git_worktree_head(struct ipam_git_worktree *out, const char *path)
{
	git_repository *repo = NULL;
	git_oid head;
	struct stat st;
	char *real = NULL, *top = NULL;
	const char *wd, *rel;
	bool is_dir;
	size_t n;
	int r, err = 0;

	memset(out, 0, sizeof(*out));
	pthread_once(&init_once, init_libgit2);
	if (init_failed)
		return ipam_error_set(IPAM_ERROR, "git: libgit2 did not "
						  "initialise");
	real = realpath(path, NULL);
	if (!real || stat(real, &st)) {
		err = ipam_error_set(IPAM_EIO, "cannot resolve '%s': %s", path,
				     strerror(errno));
		goto out;
	}
	is_dir = S_ISDIR(st.st_mode);
	if (!is_dir) {
		char *slash = strrchr(real, '/');

		*slash = '\0';
		r = git_repository_open_ext(&repo, *real ? real : "/", 0, NULL);
		*slash = '/';
	} else {
		r = git_repository_open_ext(&repo, real, 0, NULL);
	}
	if (r == GIT_ENOTFOUND)
		goto out;
	if (r < 0) {
		err = git_fail(IPAM_EIO, "git repository of '%s'", path);
		goto out;
	}
	wd = git_repository_workdir(repo);
	if (git_repository_is_bare(repo) || !wd)
		goto out;
	r = git_reference_name_to_id(&head, repo, "HEAD");
	if (r == GIT_ENOTFOUND || r == GIT_EUNBORNBRANCH)
		goto out;
	if (r < 0) {
		err = git_fail(IPAM_EIO, "git HEAD of '%s'", wd);
		goto out;
	}
	/* path relative to the work tree, both with symbolic links
	 * resolved; not under it (in .git, say): no commit of its own */
	top = realpath(wd, NULL);
	if (!top) {
		err = ipam_error_set(IPAM_EIO, "cannot resolve '%s': %s", wd,
				     strerror(errno));
		goto out;
	}
	n = strcmp(top, "/") ? strlen(top) : 0;
	if (strncmp(real, top, n) || (real[n] && real[n] != '/'))
		goto out;
	rel = real + n + (real[n] == '/');
	if (!strcmp(rel, ".git") || !strncmp(rel, ".git/", 5))
		goto out;
	if ((err = worktree_dirty(&out->dirty, repo, rel, is_dir)))
		goto out;
	git_oid_tostr(out->commit, sizeof(out->commit), &head);
out:
	git_repository_free(repo);
	free(top);
	free(real);
	return err;
}

void ipam_git_snapshot_release(struct ipam_git_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++) {
		free(s->files[i].name);
		free(s->files[i].data);
	}
	free(s->files);
	free(s->author);
	free(s->subject);
	memset(s, 0, sizeof(*s));
}
