/*
 * DHCPINFORM for domains discovered side by side.  The probes go out from
 * UDP port 68 of this host and the answers come back to it: two probes at
 * once would each bind the port and the kernel would hand an answer to
 * either.  So one batch holds the port at a time, and the domains that
 * ask while it runs are probed together in the next one: a discovery of
 * many domains waits for at most two probe timeouts here, not one per
 * domain.
 */
#ifndef IPAM_DHCPBATCH_H
#define IPAM_DHCPBATCH_H

#include <stddef.h>

#include "dhcp.h"

/* ipam_dhcp_inform(probes, n, ...), sharing the port as above: the same
 * results, 0 or the error of the batch (last error set). */
int ipam_dhcpbatch_inform(struct ipam_dhcp_probe *probes, size_t n,
			  int client_port, int server_port, int timeout_ms,
			  int tries);

#endif
