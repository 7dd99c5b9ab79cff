/*
 * dnsRecord, the attribute of an AD-integrated zone's dnsNode that holds
 * one resource record per value (MS-DNSP 2.3.2.2): a 24-byte header
 * (DataLength, Type, Version 5, Rank, Flags, Serial, TtlSeconds in network
 * order, Reserved, TimeStamp: hours since 1601 when the record was last
 * refreshed, 0 for a static one) and the record's data.  Names inside the
 * data are DNS_COUNT_NAMEs (MS-DNSP 2.2.2.2.2: length, label count, wire
 * labels); the integers of SOA, MX and SRV are in network order.
 *
 * Decoded to the presentation form dig prints: names absolute with their
 * trailing dot, TXT strings quoted, AAAA compressed (RFC 5952), and every
 * type this module does not know as RFC 3597's "\# LEN HEX".  Type 0
 * (DNS_TYPE_ZERO) is a tombstone: a deleted record whose data is the time
 * it was deleted.  The input is untrusted: every length is checked
 * against the value, the work is linear in its size.  Pure: no I/O.
 *
 * Prefixes: ipam_dnsrecord_
 */
#ifndef IPAM_DNSRECORD_H
#define IPAM_DNSRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define IPAM_DNSRECORD_HEADER 24

enum {
	IPAM_DNSRECORD_ZERO = 0,
	IPAM_DNSRECORD_A = 1,
	IPAM_DNSRECORD_NS = 2,
	IPAM_DNSRECORD_CNAME = 5,
	IPAM_DNSRECORD_SOA = 6,
	IPAM_DNSRECORD_PTR = 12,
	IPAM_DNSRECORD_MX = 15,
	IPAM_DNSRECORD_TXT = 16,
	IPAM_DNSRECORD_AAAA = 28,
	IPAM_DNSRECORD_SRV = 33,
};

struct ipam_dnsrecord {
	unsigned type;
	unsigned rank;
	unsigned flags;
	uint32_t serial;    /* the zone's SOA serial when it was written */
	uint32_t ttl;	    /* seconds */
	uint32_t timestamp; /* hours since 1601-01-01; 0: static */
	bool tombstone;	    /* type 0 */
	struct strbuf data; /* presentation form */
};

#define IPAM_DNSRECORD_INIT                                                    \
	{                                                                      \
		.data = STRBUF_INIT                                            \
	}

/*
 * Decode one dnsRecord value into r (its data replaced).  IPAM_EINVAL,
 * with what is wrong and at which byte, when the value is shorter than
 * its header says, its version is not 5, the data of a known type is
 * malformed (a name running past its length, a label count that does not
 * match, bytes left over) or a name is longer than 255 bytes.
 */
int ipam_dnsrecord_decode(struct ipam_dnsrecord *r, const void *buf,
			  size_t len);
void ipam_dnsrecord_release(struct ipam_dnsrecord *r);

/* "A", "SRV", ... for the types decoded here; "TYPE99" (RFC 3597) for
 * the others. */
void ipam_dnsrecord_type_text(struct strbuf *out, unsigned type);
/* The reverse, any case: "mx" -> 15, "TYPE99" -> 99; IPAM_EINVAL for
 * anything else. */
int ipam_dnsrecord_type_parse(unsigned *out, const char *s);

#endif
