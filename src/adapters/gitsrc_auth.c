#include "gitsrc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "error.h"
#include "sha256.h"
#include "strbuf.h"

#include "banned.h"

#define MAX_KNOWN_HOSTS	   (1u << 20)
#define DEFAULT_TOKEN_USER "x-access-token"
#define DEFAULT_SSH_USER   "git"

/* Record a callback's failure (the message is already set). */
static int cb_fail(struct ipam_git_ctx *c, int code)
{
	c->err = code;
	return GIT_EUSER;
}

static int cb_check_time(struct ipam_git_ctx *c)
{
	if (c->err)
		return GIT_EUSER;
	if (!ipam_git_deadline_passed(c))
		return 0;
	ipam_error_set(IPAM_ETIMEOUT, "not done within the timeout of %d s",
		       c->o->timeout);
	return cb_fail(c, IPAM_ETIMEOUT);
}

/* ---- SSH host keys against the pinned known_hosts ---- */

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

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
		if (ipam_git_starts_with(pat.buf, "|1|"))
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

static int check_hostkey(struct ipam_git_ctx *c, const git_cert_hostkey *hk)
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
	struct ipam_git_ctx *c = payload;
	int err = cb_check_time(c);

	(void)valid;
	(void)host;
	if (err)
		return err;
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2 &&
	    c->u->kind == IPAM_GITURL_SSH)
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
	struct ipam_git_ctx *c = payload;
	const char *user =
		user_from_url && *user_from_url ? user_from_url : NULL;
	int err = cb_check_time(c);

	(void)url;
	if (err)
		return err;
	c->cred_calls++;
	if (c->u->kind == IPAM_GITURL_HTTPS) {
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
			ipam_git_fail(IPAM_EAUTH, "token credentials");
		else
			return 0;
		return cb_fail(c, IPAM_EAUTH);
	}
	if (c->u->kind == IPAM_GITURL_SSH && c->cred_calls <= 4) {
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
				ipam_git_fail(IPAM_EAUTH, "SSH key %s",
					      key ? key : "of ssh-agent");
				return cb_fail(c, IPAM_EAUTH);
			}
			return 0;
		}
		if (allowed & GIT_CREDENTIAL_USERNAME) {
			if (git_credential_username_new(out, user) < 0) {
				ipam_git_fail(IPAM_EAUTH, "SSH user '%s'",
					      user);
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
	struct ipam_git_ctx *c = payload;
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

void ipam_git_callbacks(git_remote_callbacks *cbs, struct ipam_git_ctx *c)
{
	cbs->credentials = cb_credentials;
	cbs->certificate_check = cb_certificate;
	cbs->transfer_progress = cb_transfer;
	cbs->sideband_progress = cb_sideband;
	cbs->update_tips = cb_update_tips;
	cbs->payload = c;
}
