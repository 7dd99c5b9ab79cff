#include "ldapconn.h"

#include <lber.h>
#include <ldap.h>
#include <string.h>

#include "error.h"
#include "ldapconn_internal.h"
#include "sigpipe.h"
#include "banned.h"

/* Security descriptors, through the LDAP_SERVER_SD_FLAGS control. */

#define SD_FLAGS_ALL 0xF
/* LDAP_SERVER_SD_FLAGS_OID, which <ldap.h> does not name. */
#define SD_FLAGS_OID "1.2.840.113556.1.4.801"

int ipam_ldapconn_sd_flags_value(struct strbuf *out, int sd_flags)
{
	if (sd_flags <= 0 || (sd_flags & ~SD_FLAGS_ALL))
		return ipam_error_set(IPAM_EINVAL,
				      "security descriptor flags %#x: not a "
				      "nonzero mix of owner 1, group 2, "
				      "DACL 4, SACL 8",
				      (unsigned)sd_flags);
	/* SEQUENCE (3 bytes) { INTEGER (1 byte) flags }: < 0x80, so short. */
	strbuf_addch(out, 0x30);
	strbuf_addch(out, 0x03);
	strbuf_addch(out, 0x02);
	strbuf_addch(out, 0x01);
	strbuf_addch(out, sd_flags);
	return 0;
}

/* The LDAP_SERVER_SD_FLAGS control, critical: never the whole SD by
 * surprise from a server that ignores it. */
static int sd_control(LDAPControl **out, struct ipam_ldapconn *l,
		      const char *op, const char *dn, int sd_flags)
{
	struct strbuf v = STRBUF_INIT;
	struct berval bv;
	int lrc, rc;

	*out = NULL;
	rc = ipam_ldapconn_sd_flags_value(&v, sd_flags);
	if (rc) {
		rc = ipam_error_prefix(rc, "ldap %s '%s' on %s", op, dn,
				       l->uri);
		goto out;
	}
	bv.bv_val = v.buf;
	bv.bv_len = v.len;
	lrc = ldap_control_create(SD_FLAGS_OID, 1, &bv, 1, out);
	if (lrc != LDAP_SUCCESS)
		rc = ipam_ldapconn_fail(l->ld, l->uri, 0, lrc, op, dn, "");
out:
	strbuf_release(&v);
	return rc;
}

struct sd_read {
	struct strbuf *out;
	int entries, found;
};

static int sd_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct sd_read *r = ctx;
	const struct ipam_ldapconn_value *v;
	size_t nr;

	r->entries++;
	v = ipam_ldapconn_entry_values(e, "nTSecurityDescriptor", &nr);
	if (nr == 1 && !r->found) {
		strbuf_add(r->out, v->data, v->len);
		r->found = 1;
	}
	return 0;
}

static int read_sd(struct strbuf *out, struct ipam_ldapconn *l, const char *dn,
		   int sd_flags)
{
	static const char *const attrs[] = {"nTSecurityDescriptor", NULL};
	static const char op[] = "read security descriptor";
	struct strbuf got = STRBUF_INIT;
	struct sd_read r = {.out = &got};
	LDAPControl *ctrl = NULL;
	int rc;

	rc = ipam_ldapconn_check_write(l, op, dn);
	if (!rc)
		rc = sd_control(&ctrl, l, op, dn, sd_flags);
	if (rc)
		goto out;
	rc = ipam_ldapconn_search_ext(l, dn, IPAM_LDAPCONN_BASE,
				      "(objectClass=*)", attrs, sd_entry, &r, 0,
				      ctrl);
	if (rc)
		goto out;
	if (!r.entries) {
		rc = ipam_error_set(IPAM_ENOTFOUND,
				    "ldap %s '%s' on %s: No such object", op,
				    dn, l->uri);
		goto out;
	}
	if (!r.found) {
		/* AD leaves out what the bind may not read (no READ_CONTROL).
		 */
		rc = ipam_error_set(IPAM_EIO,
				    "ldap %s '%s' on %s: the server returned "
				    "no nTSecurityDescriptor (no right to "
				    "read it?)",
				    op, dn, l->uri);
		goto out;
	}
	strbuf_add(out, got.buf, got.len);
out:
	if (ctrl)
		ldap_control_free(ctrl);
	strbuf_release(&got);
	return rc;
}

int ipam_ldapconn_read_sd(struct strbuf *out, struct ipam_ldapconn *l,
			  const char *dn, int sd_flags)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = read_sd(out, l, dn, sd_flags);
	ipam_sigpipe_restore(&g);
	return rc;
}

static int write_sd(struct ipam_ldapconn *l, const char *dn, const void *sd,
		    size_t len, int sd_flags)
{
	static const char op[] = "write security descriptor";
	struct ipam_ldapconn_value v = {.data = sd, .len = len};
	struct ipam_ldapconn_mod mod = {.op = IPAM_LDAPCONN_MOD_REPLACE,
					.attr = "nTSecurityDescriptor",
					.values = &v,
					.nr = 1};
	LDAPControl *ctrl = NULL;
	int rc;

	rc = ipam_ldapconn_check_write(l, op, dn);
	if (rc)
		return rc;
	/* A self-relative descriptor has at least its 20-byte header. */
	if (!sd || len < 20)
		return ipam_error_set(IPAM_EINVAL,
				      "ldap %s '%s' on %s: descriptor of %zu "
				      "bytes",
				      op, dn, l->uri, sd ? len : 0);
	rc = sd_control(&ctrl, l, op, dn, sd_flags);
	if (!rc)
		rc = ipam_ldapconn_write_entry(l, op, dn, &mod, 1, 0, ctrl);
	if (ctrl)
		ldap_control_free(ctrl);
	return rc;
}

int ipam_ldapconn_write_sd(struct ipam_ldapconn *l, const char *dn,
			   const void *sd, size_t len, int sd_flags)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = write_sd(l, dn, sd, len, sd_flags);
	ipam_sigpipe_restore(&g);
	return rc;
}
