/*
 * What an administrator runs on a managed server to unblock IPAM access
 * by hand: `ipamctl verify --remedy`.  For each Blocked detail that
 * applies to the server's roles, the PowerShell steps that set what the
 * IPAM GPOs carry (the firewall rules of formats/polfile.h, the group
 * memberships, the dhcpaudit share and the DNS Server event log CustomSD
 * of formats/gpp.h, the DNS ACL of the DC grants), or what the product
 * documents where no GPO helps (a DNS server that is not a DC needs
 * IPAMUG in its local Administrators).  Pure: the text goes to a strbuf.
 *
 * Every value that comes from data (names from AD and the inventory,
 * reasons from probes) is untrusted: in PowerShell it is single-quoted
 * with quotes doubled and control characters spelled as [char] codes,
 * in comments its control characters are escaped.
 */
#ifndef IPAM_REMEDY_H
#define IPAM_REMEDY_H

#include <stdbool.h>

#include "access.h"
#include "strbuf.h"

struct ipam_remedy_server {
	const char *name;    /* FQDN */
	const char *domain;  /* AD DNS name */
	const char *netbios; /* NetBIOS domain name, may be NULL */
	unsigned roles;	     /* IPAM_ROLE_* */
	bool is_dc;
	const struct ipam_access *access; /* NULL: Not checked */
	const char *ipam_account;	  /* e.g. "IPAM1$", may be NULL */
	/* Provisioning is by GPO: say that gpupdate /force applies the
	 * same settings once the server is in the GPOs' filtering. */
	bool by_gpo;
};

/*
 * Append the steps for s: a comment line alone when its access is
 * Unblocked or not checked, else a header naming where to run it and
 * one block per Blocked applicable detail, each headed by a comment
 * with the detail and its reason.  Unblocked and Not applicable
 * details print nothing.
 */
void ipam_remedy_render(struct strbuf *out, const struct ipam_remedy_server *s);

/* Append s as a PowerShell string expression: 'it''s', or with control
 * characters ('a' + [char]0x000A + 'b').  NULL appends ''. */
void ipam_remedy_ps_quote(struct strbuf *out, const char *s);

#endif
