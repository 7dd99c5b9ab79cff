/*
 * DHCP: the authorizations Active Directory keeps (MS-DHCPE dhcpServers
 * values) and a DHCPINFORM probe that tells a live DHCP service from a
 * stale authorization.
 */
#ifndef IPAM_DHCP_H
#define IPAM_DHCP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* One dhcpServers value: i<ip>$rcn=<rdn>$f0x00000000$s<name>$ */
struct ipam_dhcp_auth {
	char *ip; /* "255.0.0.1" means no IPv4 */
	char *rdn;
	char *name; /* lower case */
};

/* Lenient parse (unknown fields skipped, any order); IPAM_EINVAL when
 * neither a name nor an address can be found. */
int ipam_dhcp_parse_servers_value(struct ipam_dhcp_auth *out, const char *value,
				  size_t len);
void ipam_dhcp_auth_release(struct ipam_dhcp_auth *a);

struct ipam_dhcp_probe {
	const char *server_ip; /* in: IPv4 address to ask */
	int answered;	       /* out: a DHCPACK came back */
	int tries;	       /* out: requests sent */
	int rtt_ms;	       /* out: time to the answer */
	char reply_from[16];   /* out: source address of the answer */
	char server_id[16];    /* out: option 54 of the answer, or "" */
	char error[160];       /* out: why not, when !answered */
};

/*
 * Send DHCPINFORM (option 53 = 8, ciaddr = the local address that routes
 * to each server) from UDP client_port (68 in production: needs root or
 * CAP_NET_BIND_SERVICE) to server_port (67) of every probe at once, and
 * wait timeout_ms per try, retrying up to tries times for those still
 * silent.  Answers are matched by transaction id.  Returns 0 when the
 * probes ran (whatever they found), IPAM_EIO when the socket could not be
 * set up (message in the last error).
 */
int ipam_dhcp_inform(struct ipam_dhcp_probe *probes, size_t n, int client_port,
		     int server_port, int timeout_ms, int tries);

/*
 * The message type of a well-formed BOOTREPLY carrying the probe's cookie
 * and chaddr, with its option 54 in *server_id; 0 for anything else
 * (what arrives on the probe's socket is untrusted).
 */
int ipam_dhcp_parse_reply(const uint8_t *pkt, size_t len, uint32_t *xid,
			  struct in_addr *server_id);

/* Does this host run a DHCP server (something bound to UDP port 67)?
 * IPAM skips DHCP discovery then. */
int ipam_dhcp_local_server(void);

#endif
