#include "ldapconn.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ldapconn_internal.h"
#include "ldapesc.h"
#include "banned.h"

/* The rootDSE's naming contexts, read once at connect. */

static int copy_first(char **out, const struct ipam_ldapconn_entry *e,
		      const char *attr)
{
	const char *v = ipam_ldapconn_entry_str(e, attr);

	if (!v || !*v)
		return ipam_error_set(IPAM_EIO, "the rootDSE lacks %s", attr);
	free(*out);
	*out = xstrdup(v);
	return 0;
}

static int rootdse_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct ipam_ldapconn *l = ctx;
	int rc;

	rc = copy_first(&l->default_nc, e, "defaultNamingContext");
	if (!rc)
		rc = copy_first(&l->config_nc, e, "configurationNamingContext");
	if (!rc)
		rc = copy_first(&l->root_nc, e, "rootDomainNamingContext");
	return rc;
}

int ipam_ldapconn_read_rootdse(struct ipam_ldapconn *l)
{
	static const char *const attrs[] = {"defaultNamingContext",
					    "configurationNamingContext",
					    "rootDomainNamingContext", NULL};
	int rc;

	rc = ipam_ldapconn_search_ext(l, "", IPAM_LDAPCONN_BASE,
				      "(objectClass=*)", attrs, rootdse_entry,
				      l, 0, NULL);
	if (rc)
		return ipam_error_prefix(rc, "reading the rootDSE");
	if (!l->default_nc)
		return ipam_error_set(IPAM_EIO,
				      "ldap search '' on %s: no "
				      "rootDSE",
				      l->uri);
	return 0;
}

const char *ipam_ldapconn_uri(const struct ipam_ldapconn *l)
{
	return l->uri;
}

const char *ipam_ldapconn_default_nc(const struct ipam_ldapconn *l)
{
	return l->default_nc;
}

const char *ipam_ldapconn_config_nc(const struct ipam_ldapconn *l)
{
	return l->config_nc;
}

const char *ipam_ldapconn_root_domain_nc(const struct ipam_ldapconn *l)
{
	return l->root_nc;
}
void ipam_ldapconn_domain_dn(struct strbuf *out, const char *domain)
{
	const char *p = domain, *dot;
	struct strbuf label = STRBUF_INIT;
	int first = 1;

	while (*p) {
		dot = strchr(p, '.');
		if (!dot)
			dot = p + strlen(p);
		/* Empty labels ("a..b", a trailing dot) name nothing. */
		if (dot > p) {
			strbuf_reset(&label);
			strbuf_add(&label, p, (size_t)(dot - p));
			strbuf_addstr(out, first ? "DC=" : ",DC=");
			ipam_ldapesc_dn(out, label.buf);
			first = 0;
		}
		p = *dot ? dot + 1 : dot;
	}
	strbuf_release(&label);
}
