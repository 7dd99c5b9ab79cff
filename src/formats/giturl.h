/*
 * Git repository URLs as the desired state names them (source.repo):
 * pure checks shared by the validator and the git adapter.
 */
#ifndef IPAM_GITURL_H
#define IPAM_GITURL_H

/*
 * Why url must not be used because it carries a credential, or NULL: any
 * user information of a scheme:// URL other than SSH (https://TOKEN@host
 * as much as https://user:password@host), the password of an SSH URL
 * (ssh://user:pw@host/..., user:pw@host:path); the user of an SSH URL
 * (git@host:path) is not a secret and stays.  The message does not repeat
 * the URL.  Pure: the validator of the desired state uses it too.
 */
const char *ipam_giturl_secret(const char *url);

#endif
