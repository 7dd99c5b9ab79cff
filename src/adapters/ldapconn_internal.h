/*
 * What the pieces of the LDAP adapter share: the connection, the bounds
 * and the turning of libldap's errors into ours.  Private to
 * src/adapters/ldapconn*.c; the public interface is ldapconn.h.
 *
 * ldapconn.c connects (URI or DNS SRV, TLS) and maps errors;
 * ldapconn_bind.c binds (simple, Kerberos from a keytab or a cache);
 * ldapconn_rootdse.c reads the naming contexts; ldapconn_search.c pages
 * searches and hands out entries; ldapconn_write.c adds, modifies and
 * deletes; ldapconn_sd.c reads and writes security descriptors.
 */
#ifndef IPAM_LDAPCONN_INTERNAL_H
#define IPAM_LDAPCONN_INTERNAL_H

#include <ldap.h>
#include <stddef.h>
/* uintptr_t: libldap takes char * where it only reads; casts to it go
 * through uintptr_t to say the const is dropped on purpose. */
#include <stdint.h>

#include "ldapconn.h"

/* Bounds on what a server may send us (see ldapconn.h). */
#define MAX_VALUE_LEN	 (1024 * 1024)
#define MAX_ENTRY_VALUES 10000
/* One LDAP message; larger ones break the connection in liblber. */
#define MAX_PDU_LEN (32 * 1024 * 1024)

struct ipam_ldapconn {
	LDAP *ld;
	char *uri;
	char *default_nc;
	char *config_nc;
	char *root_nc;
	int timeout;
	int page_size;
	int tls;       /* TLS in place (LDAPS or StartTLS) */
	size_t writes; /* write requests sent */
};

/* libldap's result code in ours, for reads and binds. */
int ipam_ldapconn_map_code(int lrc);
/*
 * "ldap <op> ['<base>' ]on <uri>: <error>[: <server's words>]" as the last
 * error; code 0 maps lrc.  diag is the server's diagnostic message, or
 * NULL to ask the handle for it.  Returns the code.
 */
int ipam_ldapconn_fail(LDAP *ld, const char *uri, int code, int lrc,
		       const char *op, const char *base, const char *diag);
/* Add " (why)" after the current message; returns code. */
int ipam_ldapconn_add_hint(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The result code the handle last recorded. */
int ipam_ldapconn_result_code(LDAP *ld);
int ipam_ldapconn_set_opt(LDAP *ld, const char *uri, int opt, const void *val,
			  const char *what);

/* Binds, on a connected (and, for simple binds, TLS-secured) handle. */
int ipam_ldapconn_bind_simple(struct ipam_ldapconn *l,
			      const struct ipam_ldapconn_opts *o);
int ipam_ldapconn_bind_gssapi(struct ipam_ldapconn *l,
			      const struct ipam_ldapconn_opts *o);

/* Fill the naming contexts from the rootDSE. */
int ipam_ldapconn_read_rootdse(struct ipam_ldapconn *l);

/*
 * ipam_ldapconn_search without the SIGPIPE guard, paged or not, with
 * extra (may be NULL) as one more server control.
 */
int ipam_ldapconn_search_ext(struct ipam_ldapconn *l, const char *base,
			     enum ipam_ldapconn_scope scope, const char *filter,
			     const char *const attrs[],
			     ipam_ldapconn_entry_fn fn, void *ctx, int paged,
			     LDAPControl *extra);

/* A DN and a live handle, or the last error naming op. */
int ipam_ldapconn_check_write(struct ipam_ldapconn *l, const char *op,
			      const char *dn);
/* add (adding) or modify, with extra (may be NULL) as a server control. */
int ipam_ldapconn_write_entry(struct ipam_ldapconn *l, const char *op,
			      const char *dn,
			      const struct ipam_ldapconn_mod *mods, size_t n,
			      int adding, LDAPControl *extra);

#endif
