#include "giturl.h"

#include <stdbool.h>
#include <string.h>

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
