/*
 * MIT Kerberos keytab files (file format version 0x502): just enough to
 * name the principal Kerberos would take from a client keytab.  Pure: the
 * LDAP adapter reads the file and hands the bytes over.
 */
#ifndef IPAM_KEYTAB_H
#define IPAM_KEYTAB_H

#include <stddef.h>

struct strbuf;

/* Larger files are refused: a client keytab holds a handful of keys. */
#define IPAM_KEYTAB_MAX_LEN (1024 * 1024)

/*
 * Append "comp/comp@REALM" of the first entry of the keytab in data[0..len)
 * (holes left by deleted entries skipped).  IPAM_EINVAL when it is not a
 * version 2 keytab under IPAM_KEYTAB_MAX_LEN or holds no usable entry; name
 * (the file, for messages) is quoted in the error.  out is left as it was
 * on error.
 */
int ipam_keytab_first_principal(struct strbuf *out, const void *data,
				size_t len, const char *name);

#endif
