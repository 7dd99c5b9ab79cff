/*
 * LDAP string escaping: values inside search filters (RFC 4515) and
 * attribute values inside DNs (RFC 4514).  Every filter value and DN
 * component built from configuration or from what a server sent goes
 * through here.  Pure: no I/O.
 */
#ifndef IPAM_LDAPESC_H
#define IPAM_LDAPESC_H

#include <stddef.h>

struct strbuf;

/* RFC 4515: escape a value for use inside a search filter (appends). */
void ipam_ldapesc_filter(struct strbuf *out, const char *value, size_t len);
/* RFC 4514: escape a value for use as an attribute value in a DN
 * (appends). */
void ipam_ldapesc_dn(struct strbuf *out, const char *value);

#endif
