/*
 * IPv4 and IPv6 addresses, CIDR prefixes and start-end ranges as values:
 * parsing (strict: no leading zeros in IPv4, no zone ids, a prefix's host
 * bits must be zero), canonical text (RFC 5952 for IPv6), comparison,
 * containment and overlap.  Pure; the model keeps these values for the
 * address space (addressSpace:), core/addrspace.h adds sizes and
 * utilization on top.
 *
 * Prefixes: ipam_ip_, ipam_iprange_
 */
#ifndef IPAM_IPNET_H
#define IPAM_IPNET_H

#include <stdbool.h>

#include "strbuf.h"

/* One address; b holds network byte order, 4 bytes for IPv4, 16 for v6. */
struct ipam_ip {
	int family; /* AF_INET or AF_INET6; 0 = unset */
	unsigned char b[16];
};

/*
 * A contiguous span of addresses of one family, first <= last.  prefix is
 * the CIDR length when the span was written as (and is exactly) a prefix,
 * -1 when it was written as start-end.
 */
struct ipam_iprange {
	struct ipam_ip first, last;
	int prefix;
};

/* Why a text is not an address, prefix or range (ipam_iprange_parse_*). */
enum ipam_ip_bad {
	IPAM_IP_OK = 0,
	IPAM_IP_BAD_SYNTAX,    /* not an address / prefix at all */
	IPAM_IP_BAD_LENGTH,    /* prefix length out of 0..32 / 0..128 */
	IPAM_IP_BAD_HOST_BITS, /* 10.0.0.1/24: bits set after the prefix */
	IPAM_IP_BAD_FAMILY,    /* start and end of different families */
	IPAM_IP_BAD_ORDER,     /* start after end */
};

/* "not an IP address", "host bits set", ... for messages. */
const char *ipam_ip_bad_text(enum ipam_ip_bad why);

/* An IPv4 dotted quad or an IPv6 address; IPAM_IP_BAD_SYNTAX else. */
enum ipam_ip_bad ipam_ip_parse(struct ipam_ip *out, const char *s);
/* Canonical text (lower case, RFC 5952 compression) appended to out. */
void ipam_ip_format(struct strbuf *out, const struct ipam_ip *ip);
/* Number of bits: 32 or 128 (0 when unset). */
int ipam_ip_bits(const struct ipam_ip *ip);
/* Order: by family (IPv4 first), then numerically. <0, 0, >0. */
int ipam_ip_compare(const struct ipam_ip *a, const struct ipam_ip *b);

/*
 * "ADDR/LEN" (a prefix; host bits must be zero).  On IPAM_IP_BAD_HOST_BITS
 * *out still holds the prefix with the host bits cleared, to suggest it.
 */
enum ipam_ip_bad ipam_iprange_parse_cidr(struct ipam_iprange *out,
					 const char *s);
/* The range start..end: same family, start <= end. */
enum ipam_ip_bad ipam_iprange_from_bounds(struct ipam_iprange *out,
					  const struct ipam_ip *start,
					  const struct ipam_ip *end);
/* "10.0.0.0/24" or "10.0.0.10-10.0.0.20" appended to out. */
void ipam_iprange_format(struct strbuf *out, const struct ipam_iprange *r);
/* Of the range's family? */
int ipam_iprange_family(const struct ipam_iprange *r);

bool ipam_iprange_contains_ip(const struct ipam_iprange *r,
			      const struct ipam_ip *ip);
/* Is inner wholly inside outer (same family)? */
bool ipam_iprange_contains(const struct ipam_iprange *outer,
			   const struct ipam_iprange *inner);
/* Do a and b share at least one address? */
bool ipam_iprange_overlaps(const struct ipam_iprange *a,
			   const struct ipam_iprange *b);
/* Order by first address, then the larger range first. */
int ipam_iprange_compare(const struct ipam_iprange *a,
			 const struct ipam_iprange *b);

#endif
