/*
 * LDAP adapter: the only module that includes <ldap.h>.  One connection to
 * one domain controller: found from the configured URI or from the DNS SRV
 * record _ldap._tcp.dc._msdcs.<domain>; always TLS for simple binds (LDAPS,
 * or ldap:// upgraded with StartTLS, the certificate checked against the
 * CA file); SASL GSSAPI (Kerberos) from a keytab or a credential cache.
 * Searches are paged (RFC 2696) and delivered entry by entry, so memory
 * stays bounded at any directory size; referrals are never chased.
 * Errors name the server, the operation and the base DN.
 */
#ifndef IPAM_LDAPCONN_H
#define IPAM_LDAPCONN_H

#include <stddef.h>

/* Filter values and DN components are escaped with ldapesc.h, which every
 * caller building a filter or a DN needs. */
#include "ldapesc.h"
#include "model.h"
#include "strbuf.h"

struct ipam_ldapconn;

struct ipam_ldapconn_opts {
	const char *domain; /* DNS domain: SRV lookup, messages */
	const char *uri;    /* ldap:// or ldaps://; NULL: DNS SRV */
	enum ipam_auth auth;
	const char *user;      /* simple: UPN, DOMAIN\name or DN */
	const char *password;  /* simple: the secret itself (caller reads it) */
	const char *ca_file;   /* NULL: the system's CAs */
	const char *keytab;    /* kerberos: NULL = the credential cache */
	const char *principal; /* kerberos: NULL = the keytab's first */
	const char *ccache;    /* kerberos: NULL = the default cache */
	int timeout;	       /* seconds, for connect and each operation */
};

/*
 * Connect, secure and bind.  IPAM_EIO when no DC answers (every SRV target
 * is tried in priority order), IPAM_ETIMEOUT when one stopped answering,
 * IPAM_EINVAL for a refused configuration (simple bind without TLS, a
 * certificate that does not verify), IPAM_EAUTH for rejected credentials:
 * callers tell "unreachable" from "bind failed" by the code.
 */
int ipam_ldapconn_connect(struct ipam_ldapconn **out,
			  const struct ipam_ldapconn_opts *o);
void ipam_ldapconn_close(struct ipam_ldapconn *l);

/* Write requests (add, modify, delete, descriptor) sent so far. */
size_t ipam_ldapconn_writes(const struct ipam_ldapconn *l);

/* The URI actually connected to, and the RootDSE naming contexts. */
const char *ipam_ldapconn_uri(const struct ipam_ldapconn *l);
const char *ipam_ldapconn_default_nc(const struct ipam_ldapconn *l);
const char *ipam_ldapconn_config_nc(const struct ipam_ldapconn *l);
const char *ipam_ldapconn_root_domain_nc(const struct ipam_ldapconn *l);

/* One attribute value: bytes, NUL-terminated for convenience. */
struct ipam_ldapconn_value {
	const char *data;
	size_t len;
};

struct ipam_ldapconn_attr {
	const char *name;
	const struct ipam_ldapconn_value *values;
	size_t nr;
};

/* An entry, valid only during the callback. */
struct ipam_ldapconn_entry {
	const char *dn;
	const struct ipam_ldapconn_attr *attrs;
	size_t nr;
};

/* The values of attr (case-insensitive name), NULL and *nr = 0 if absent. */
const struct ipam_ldapconn_value *
ipam_ldapconn_entry_values(const struct ipam_ldapconn_entry *e,
			   const char *attr, size_t *nr);
/* The first value of attr as a string, or NULL. */
const char *ipam_ldapconn_entry_str(const struct ipam_ldapconn_entry *e,
				    const char *attr);

enum ipam_ldapconn_scope {
	IPAM_LDAPCONN_BASE,
	IPAM_LDAPCONN_ONELEVEL,
	IPAM_LDAPCONN_SUBTREE,
};

/* Return nonzero from the callback to stop the search (it is returned). */
typedef int (*ipam_ldapconn_entry_fn)(void *ctx,
				      const struct ipam_ldapconn_entry *e);

/*
 * Paged search.  attrs is NULL-terminated.  Values larger than 1 MiB and
 * entries with more than 10,000 values are refused (IPAM_ELIMIT).  A base
 * that does not exist gives IPAM_ENOTFOUND; a server that stops answering
 * IPAM_ETIMEOUT or IPAM_EIO.
 */
int ipam_ldapconn_search(struct ipam_ldapconn *l, const char *base,
			 enum ipam_ldapconn_scope scope, const char *filter,
			 const char *const attrs[], ipam_ldapconn_entry_fn fn,
			 void *ctx);

/* "corp.example.test" -> "DC=corp,DC=example,DC=test" (escaped). */
void ipam_ldapconn_domain_dn(struct strbuf *out, const char *domain);

/* objectGUID bytes -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (MS-DTYP), as
 * ipam_guid_format writes it. */
int ipam_ldapconn_guid_text(struct strbuf *out, const char *bytes, size_t len);
/* objectSid bytes -> "S-1-5-21-…", as ipam_sid_format writes it;
 * IPAM_EINVAL when malformed or followed by other bytes. */
int ipam_ldapconn_sid_text(struct strbuf *out, const char *bytes, size_t len);

/*
 * Writes.  DNs are used as given: build them with ipam_ldapesc_dn.
 * Values are bytes (each at most 1 MiB), at most 1000 mods a request.
 * Errors name the operation, the DN and the server and keep the server's
 * words; codes: IPAM_ENOTFOUND (no such object), IPAM_EEXISTS (the entry
 * already exists), IPAM_EINVAL (the schema, a constraint or the request
 * refused), IPAM_ETIMEOUT, IPAM_EIO (busy, unavailable, insufficient
 * access, anything else), IPAM_ELIMIT (a bound above).
 */
enum ipam_ldapconn_mod_op {
	IPAM_LDAPCONN_MOD_ADD,
	IPAM_LDAPCONN_MOD_REPLACE,
	IPAM_LDAPCONN_MOD_DELETE,
};

struct ipam_ldapconn_mod {
	int op; /* enum ipam_ldapconn_mod_op */
	const char *attr;
	/* DELETE with nr 0 removes the attribute; REPLACE with nr 0 too. */
	const struct ipam_ldapconn_value *values;
	size_t nr;
};

/* Create dn; every mod must be an IPAM_LDAPCONN_MOD_ADD with values. */
int ipam_ldapconn_add(struct ipam_ldapconn *l, const char *dn,
		      const struct ipam_ldapconn_mod *mods, size_t n);
int ipam_ldapconn_modify(struct ipam_ldapconn *l, const char *dn,
			 const struct ipam_ldapconn_mod *mods, size_t n);
/* One leaf entry. */
int ipam_ldapconn_delete(struct ipam_ldapconn *l, const char *dn);
/*
 * dn and everything below it, deepest first (a rollback of a GPO container
 * with its CN=User and CN=Machine).  Nothing is deleted when the tree has
 * more than 10,000 entries or is deeper than 32 levels (IPAM_ELIMIT);
 * children that vanish meanwhile are fine.
 */
int ipam_ldapconn_delete_tree(struct ipam_ldapconn *l, const char *dn);

/* LDAP_SERVER_SD_FLAGS (MS-ADTS 3.1.1.3.4.1.11): which parts to read or
 * write; with DACL alone a write needs only WRITE_DAC. */
#define IPAM_LDAPCONN_SD_OWNER 1
#define IPAM_LDAPCONN_SD_GROUP 2
#define IPAM_LDAPCONN_SD_DACL  4
#define IPAM_LDAPCONN_SD_SACL  8

/* The control's value, BER SEQUENCE { INTEGER flags }: 30 03 02 01 04
 * for the DACL.  IPAM_EINVAL unless flags is a nonzero mix of the above. */
int ipam_ldapconn_sd_flags_value(struct strbuf *out, int sd_flags);
/* The raw nTSecurityDescriptor of dn, holding the parts sd_flags asks for. */
int ipam_ldapconn_read_sd(struct strbuf *out, struct ipam_ldapconn *l,
			  const char *dn, int sd_flags);
/* Replace the parts sd_flags names with those of sd (self-relative). */
int ipam_ldapconn_write_sd(struct ipam_ldapconn *l, const char *dn,
			   const void *sd, size_t len, int sd_flags);

#endif
