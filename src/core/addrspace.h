/*
 * Address space arithmetic: how many addresses a block or range holds
 * (IPv6 up to 2^128, exact as decimal text, saturating as 64 bits), how
 * full it is (used, free, percent) and its utilization state against the
 * range's thresholds; which declared range or block an address falls in;
 * the DHCP ranges' servers checked against the inventory.  Pure: no I/O.
 * The values themselves (parse, format, compare, contain, overlap) are
 * formats/ipnet.h, included here.
 *
 * Prefixes: ipam_addrspace_, ipam_util_
 */
#ifndef IPAM_ADDRSPACE_H
#define IPAM_ADDRSPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "inventory.h"
#include "ipnet.h"
#include "model.h"
#include "strbuf.h"

/* The number of addresses in r, exactly, in decimal ("256",
 * "340282366920938463463374607431768211456" for ::/0). */
void ipam_addrspace_size_text(struct strbuf *out, const struct ipam_iprange *r);
/* The same, saturating at UINT64_MAX. */
uint64_t ipam_addrspace_size(const struct ipam_iprange *r);
/* The same as a double (exact up to 2^53, close beyond). */
double ipam_addrspace_size_double(const struct ipam_iprange *r);
/* size - used in decimal; used is capped at the size. */
void ipam_addrspace_free_text(struct strbuf *out, const struct ipam_iprange *r,
			      uint64_t used);

enum ipam_util_state {
	IPAM_UTIL_UNDER,   /* percent < under */
	IPAM_UTIL_OPTIMAL, /* under <= percent <= over */
	IPAM_UTIL_OVER,	   /* percent > over */
	IPAM_UTIL_NR_STATE,
};

/* "under", "optimal", "over". */
const char *ipam_util_state_name(enum ipam_util_state s);
int ipam_util_state_parse(const char *s, enum ipam_util_state *out);
/* The state of percent with thresholds under and over (percent). */
enum ipam_util_state ipam_util_state_of(double percent, int under, int over);

/* How full a range or block is. */
struct ipam_util {
	uint64_t size;	/* saturating at UINT64_MAX */
	uint64_t used;	/* capped at the exact size */
	uint64_t free;	/* exact size - used, saturating */
	double percent; /* used / exact size * 100, 0..100 */
	enum ipam_util_state state;
};

/* u for r with used addresses in use and thresholds under/over. */
void ipam_util_compute(struct ipam_util *u, const struct ipam_iprange *r,
		       uint64_t used, int under, int over);

/*
 * The range of as holding ip (the smallest when ranges nest, which
 * validation forbids; the first declared on ties), -1 when none: such an
 * address is unmapped.  Ranges and blocks that did not parse are skipped.
 */
long ipam_addrspace_find_range(const struct ipam_address_space *as,
			       const struct ipam_ip *ip);
/* The block of as holding ip, -1 when none. */
long ipam_addrspace_find_block(const struct ipam_address_space *as,
			       const struct ipam_ip *ip);
/* The smallest block of as wholly containing r, -1 when none. */
long ipam_addrspace_block_of(const struct ipam_address_space *as,
			     const struct ipam_iprange *r);

/*
 * Every DHCP range whose server is not a DHCP server of inv (absent, gone,
 * or without the DHCP role) is an error at the range's server position.
 * Returns the number of such ranges.  For plan/collect time: validation
 * alone cannot know the inventory.
 */
size_t ipam_addrspace_check_dhcp(const struct ipam_desired *d,
				 const struct ipam_inventory *inv,
				 struct ipam_diags *diags);

#endif
