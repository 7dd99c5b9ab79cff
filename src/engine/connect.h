/*
 * Connections to a discovery domain with its effective connection
 * settings (auth, credentials read from their file or variable, CA,
 * timeout): the one place that turns the desired state's `connection`
 * into adapter options.
 */
#ifndef IPAM_CONNECT_H
#define IPAM_CONNECT_H

#include "model.h"

struct ipam_ldapconn;
struct ipam_smb;

/* LDAP to dom: its ldapUri, else a DC from DNS SRV. */
int ipam_connect_ldap(struct ipam_ldapconn **out,
		      const struct ipam_domain *dom);
/* SMB to server (a DC of dom) with dom's credentials. */
int ipam_connect_smb(struct ipam_smb **out, const struct ipam_domain *dom,
		     const char *server);

#endif
