/*
 * Git repository URLs as the desired state names them (source.repo):
 * pure checks and parsing shared by the validator and the git adapter.
 */
#ifndef IPAM_GITURL_H
#define IPAM_GITURL_H

#include <stdbool.h>

/*
 * Why url must not be used because it carries a credential, or NULL: any
 * user information of a scheme:// URL other than SSH (https://TOKEN@host
 * as much as https://user:password@host), the password of an SSH URL
 * (ssh://user:pw@host/..., user:pw@host:path); the user of an SSH URL
 * (git@host:path) is not a secret and stays.  The message does not repeat
 * the URL.  Pure: the validator of the desired state uses it too.
 */
const char *ipam_giturl_secret(const char *url);

/* The transport a URL takes. */
enum ipam_giturl_kind {
	IPAM_GITURL_LOCAL, /* a path or file:// */
	IPAM_GITURL_HTTPS,
	IPAM_GITURL_SSH, /* ssh://, git+ssh://, ssh+git:// or scp-like */
};

struct ipam_giturl {
	enum ipam_giturl_kind kind;
	char *url;     /* as given; what libgit2 is given once absolute */
	bool relative; /* LOCAL: a relative path, for the caller to resolve */
	char *host;    /* SSH: lower case, without brackets */
	int port;      /* SSH: 22 unless given */
};

/*
 * Parse url into an empty u: refuses credentials (ipam_giturl_secret),
 * http:// and git:// (unauthenticated), other schemes, and SSH URLs
 * without a host or repository path or with a bad port.  IPAM_EINVAL;
 * on error u is empty.  Pure: a relative path is only flagged.
 */
int ipam_giturl_parse(struct ipam_giturl *u, const char *url);
void ipam_giturl_release(struct ipam_giturl *u); /* accepts NULL */

#endif
