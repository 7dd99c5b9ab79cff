/*
 * The access probes of `verify`: what the Windows IPAM server does to a
 * managed server, done as the IPAM identity (the IPAM server's computer
 * account).  A fresh Kerberos ticket from the identity's keytab per run,
 * in a private cache (a group change shows at once), then per server:
 * a TCP check of port 445, MS-DNSP (samba-tool dns serverinfo), MS-EVEN
 * (rpcclient eventlog_numrecord), MS-DHCPM (the probe-dhcpm script, with
 * python3-impacket), and the dhcpaudit share (the SMB adapter).  Each
 * tool runs without a shell, the ticket cache its only credential, with
 * a timeout; what it printed becomes a status and reason (core/probemap).
 *
 * The probe functions are safe to call from several threads at once
 * (each runs its own child processes); they fill a result and fail only
 * when a probe could not be run at all.
 */
#ifndef IPAM_PROBE_H
#define IPAM_PROBE_H

#include "access.h"
#include "strbuf.h"

struct ipam_probe_identity {
	char *dir;	   /* private directory */
	char *conf;	   /* smb.conf in it, for Samba's tools */
	char *ccache;	   /* "FILE:<dir>/ccache" (or the configured one) */
	char *ccache_path; /* the same without "FILE:" (impacket) */
	char *principal;
	char *account; /* "IPAM1$", for the reasons */
	int timeout;   /* seconds per probe */
};

struct ipam_probe_opts {
	const char *keytab;    /* or */
	const char *ccache;    /* a cache filled by someone else */
	const char *principal; /* the identity */
	int timeout;	       /* per probe, seconds */
};

/*
 * Make the private directory and get the identity's ticket (kinit -k -t
 * KEYTAB -c FILE:<dir>/ccache PRINCIPAL): IPAM_EAUTH when the KDC refuses
 * it, with kinit's words.
 */
int ipam_probe_identity_open(struct ipam_probe_identity **out,
			     const struct ipam_probe_opts *o);
void ipam_probe_identity_close(struct ipam_probe_identity *id);

/*
 * Can host be reached on port, within timeout seconds?  1 with the
 * address in addr, 0 with the reason in reason ("unreachable (network
 * unreachable to 192.0.2.10:445)", "timed out after 10 s (...)").
 */
int ipam_probe_tcp(struct strbuf *addr, struct strbuf *reason, const char *host,
		   int port, int timeout);

void ipam_probe_dns(struct ipam_access_result *r,
		    const struct ipam_probe_identity *id, const char *host);
void ipam_probe_eventlog(struct ipam_access_result *r,
			 const struct ipam_probe_identity *id,
			 const char *host);
void ipam_probe_dhcpm(struct ipam_access_result *r,
		      const struct ipam_probe_identity *id, const char *host);
void ipam_probe_share(struct ipam_access_result *r,
		      const struct ipam_probe_identity *id, const char *host);

/* The MS-DHCPM probe script: $IPAMCTL_PROBE_DHCPM, the installed one, or
 * the source tree's. */
const char *ipam_probe_dhcpm_script(void);

#endif
