#include "giturl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

static bool is_ssh_scheme(const char *s, size_t n)
{
	return (n == 3 && !strncmp(s, "ssh", n)) ||
	       (n == 7 &&
		(!strncmp(s, "git+ssh", n) || !strncmp(s, "ssh+git", n)));
}

/*
 * Credentials never live in a URL: the URL is in messages, log lines,
 * the run history, the mark on every object ipamctl creates and the
 * cache's name.  Checked before anything else looks at the URL, so that
 * no message repeats it.  schemas/ipamctl.schema.json states the same
 * rule for source.repo (the fixture corpus checks that they agree).
 */
const char *ipam_giturl_secret(const char *url)
{
	const char *p = url, *auth, *end, *at = NULL, *q;

	if (!url)
		return NULL;
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
		       *p == '.')
			p++;
	if (p > url && !strncmp(p, "://", 3)) {
		auth = p + 3;
		end = auth + strcspn(auth, "/");
		for (q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		if (!at)
			return NULL;
		if (!is_ssh_scheme(url, (size_t)(p - url)))
			return "a user name or token in the URL is refused: "
			       "put the token in a file or an environment "
			       "variable named by source.tokenFile or "
			       "source.tokenEnv";
		if (memchr(auth, ':', (size_t)(at - auth)))
			goto ssh_password;
		return NULL;
	}
	/* scp-like: user:password@host:path reads as host "user" to git */
	end = url + strcspn(url, ":/@");
	if (end > url && *end == ':' && end[1 + strcspn(end + 1, "/@")] == '@')
		goto ssh_password;
	return NULL;
ssh_password:
	return "a password in the URL is refused: use an SSH key (sshKey) "
	       "or ssh-agent";
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

void ipam_giturl_release(struct ipam_giturl *u)
{
	if (!u)
		return;
	free(u->url);
	free(u->host);
	memset(u, 0, sizeof(*u));
}

/* host[:port] or [host]:port of an authority without user info. */
static int parse_host_port(struct ipam_giturl *u, const char *s, size_t n,
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

static int parse(struct ipam_giturl *u, const char *url)
{
	static const char *const ssh_schemes[] = {"ssh://", "git+ssh://",
						  "ssh+git://"};
	const char *auth, *slash, *at, *colon, *why;
	size_t i;

	memset(u, 0, sizeof(*u));
	if ((why = ipam_giturl_secret(url)))
		return ipam_error_set(IPAM_EINVAL, "git URL: %s", why);
	if (starts_with(url, "https://")) {
		u->kind = IPAM_GITURL_HTTPS;
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
		u->kind = IPAM_GITURL_SSH;
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
		u->kind = IPAM_GITURL_LOCAL;
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
		u->kind = IPAM_GITURL_SSH;
		u->url = xstrdup(url);
		u->port = 22;
		if (auth == colon)
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': no host", url);
		return parse_host_port(u, auth, (size_t)(colon - auth), url);
	}
	u->kind = IPAM_GITURL_LOCAL;
	u->url = xstrdup(url);
	u->relative = url[0] != '/';
	return 0;
}

int ipam_giturl_parse(struct ipam_giturl *u, const char *url)
{
	int rc = parse(u, url);

	if (rc)
		ipam_giturl_release(u);
	return rc;
}
