/*
 * An IP address as the models carry it: its family and canonical text.
 * Shared by the observed model, the inventory and the DNS adapter.
 */
#ifndef IPAM_ADDR_H
#define IPAM_ADDR_H

struct ipam_addr {
	int family;    /* AF_INET or AF_INET6 */
	char text[46]; /* INET6_ADDRSTRLEN */
};

#endif
