/*
 * DNS through the host's configured resolver (res_nquery and getaddrinfo
 * from glibc): SRV records to find domain controllers, NS
 * records of a zone to find its DNS servers, and addresses of names.
 * "No such name" and "no records" are answers (0 results), distinct from
 * a failure (timeout, SERVFAIL, refused: IPAM_EIO with the reason), so a
 * caller can tell an empty answer from an incomplete one.
 */
#ifndef IPAM_DNS_H
#define IPAM_DNS_H

#include <stddef.h>

#include "addr.h"

struct ipam_dns_srv {
	char *target; /* lower case, no trailing dot */
	int port, priority, weight;
};

/* SRV records of name, sorted by priority then weight (descending). */
int ipam_dns_srv(struct ipam_dns_srv **out, size_t *nr, const char *name,
		 int timeout);
void ipam_dns_srv_free(struct ipam_dns_srv *srv, size_t nr);

/* NS record targets of zone, lower case, sorted, no trailing dot. */
int ipam_dns_ns(char ***out, size_t *nr, const char *zone, int timeout);
void ipam_dns_names_free(char **names, size_t nr);

/*
 * An address record as Active Directory stores it in a dnsNode's
 * dnsRecord value (MS-DNSP DNS_RPC_RECORD: a 24-byte header with the data
 * length and type, then the data).  1 and *out set for an A or AAAA
 * record, 0 for any other type (tombstones included), -1 when malformed.
 */
int ipam_dns_record_addr(struct ipam_addr *out, const void *rec, size_t len);

/*
 * Resolve many names at once (A and AAAA), with at most 64 queries in
 * flight.  results[i] / nr_results[i] receive the sorted, de-duplicated
 * addresses of names[i]; status[i] is 0 (resolved, possibly to nothing
 * when the name does not exist) or IPAM_EIO (lookup failed; reason[i]
 * says why, a static string).  Returns 0 unless it could not run at all.
 */
int ipam_dns_resolve_many(const char *const *names, size_t n,
			  struct ipam_addr **results, size_t *nr_results,
			  int *status, const char **reason, int timeout);

#endif
