/*
 * The DNS answer parsers behind ipam_dns_srv and ipam_dns_ns, exposed so
 * that unit tests can feed them hand-made messages: parsing and ordering
 * are testable without a resolver.
 */
#ifndef IPAM_DNS_INTERNAL_H
#define IPAM_DNS_INTERNAL_H

#include <stddef.h>

#include "dns.h"

/*
 * The SRV / NS records of the answer section of msg (a whole DNS message
 * as res_nquery returns it), normalised and sorted as ipam_dns_srv and
 * ipam_dns_ns return them.  IPAM_EIO "malformed DNS answer" when the
 * message does not parse.
 */
int ipam_dns_parse_srv(struct ipam_dns_srv **out, size_t *nr,
		       const unsigned char *msg, size_t len);
int ipam_dns_parse_ns(char ***out, size_t *nr, const unsigned char *msg,
		      size_t len);

#endif
