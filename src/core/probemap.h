/*
 * What the access probes' answers mean, in words an administrator acts
 * on.  Pure: fed with what a probe printed (Samba's rpcclient and
 * samba-tool, ipamctl's MS-DHCPM probe script) and how it ended, it says
 * Unblocked or Blocked and why ("access denied for IPAM1$", "event log
 * not configured (NT_STATUS_OBJECT_PATH_INVALID)", ...).  The outputs it
 * knows were recorded from Samba 4.17 and python3-impacket 0.10 (see
 * tests/unit/core/probe/).
 */
#ifndef IPAM_PROBEMAP_H
#define IPAM_PROBEMAP_H

#include "access.h"
#include "strbuf.h"

enum ipam_probemap_tool {
	IPAM_PROBEMAP_DNS,	/* samba-tool dns serverinfo (MS-DNSP) */
	IPAM_PROBEMAP_EVENTLOG, /* rpcclient eventlog_numrecord (MS-EVEN) */
	IPAM_PROBEMAP_DHCPM,	/* probe-dhcpm (MS-DHCPM) */
	IPAM_PROBEMAP_SHARE,	/* the dhcpaudit share over SMB */
};

/*
 * The status and reason of one probe that ran to its end with exit
 * status exit_status, having printed text (stdout and stderr).  account
 * is the identity's account name ("IPAM1$") for "access denied for ...".
 * Unblocked only when the answer proves the read worked.
 */
void ipam_probemap_result(struct ipam_access_result *r,
			  enum ipam_probemap_tool tool, int exit_status,
			  const char *text, const char *account);

/*
 * The NT status named in text: "NT_STATUS_ACCESS_DENIED" from
 * "NT_STATUS_ACCESS_DENIED", impacket's "STATUS_ACCESS_DENIED(...)" or
 * samba-tool's "(3221225506, '...')"; "" when none.
 */
void ipam_probemap_ntstatus(struct strbuf *out, const char *text);

/* The words for an NT status ("logon failure", ...); NULL if unknown. */
const char *ipam_probemap_status_words(const char *ntstatus);

/*
 * "unreachable (network unreachable to 192.0.2.10:445)" for a failed TCP
 * connect with errno e (ETIMEDOUT: "timed out after N s" when secs > 0).
 */
void ipam_probemap_connect(struct strbuf *out, int e, const char *addr,
			   int port, int secs);

/* The account part of a principal: "IPAM1$" of "IPAM1$@CORP.TEST". */
void ipam_probemap_account(struct strbuf *out, const char *principal);

#endif
