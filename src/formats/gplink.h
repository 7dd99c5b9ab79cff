/*
 * gPLink, the attribute of a domain or OU head that lists the GPOs linked
 * to it: "[LDAP://dn;options][LDAP://dn;options]…", options 1 disabled,
 * 2 enforced.  Reading and editing its text; nothing here talks to AD.
 */
#ifndef IPAM_GPLINK_H
#define IPAM_GPLINK_H

#include "strbuf.h"

/* "[LDAP://dn;opts]…": the options of the link to dn (case-insensitive),
 * or -1 when not linked. */
long ipam_gplink_find(const char *gplink, const char *dn);
/* gplink with the link to dn added in front (or its options changed in
 * place when it is there). */
int ipam_gplink_set(struct strbuf *out, const char *gplink, const char *dn,
		    unsigned options);
/* gplink without the link to dn. */
int ipam_gplink_remove(struct strbuf *out, const char *gplink, const char *dn);

#endif
