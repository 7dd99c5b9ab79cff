/*
 * Addresses, prefixes and ranges as written in addressSpace: the input is
 * an address, a prefix, or "start-end".  Whatever parses must print as a
 * text that parses back to the same value, keep first <= last in one
 * family, and count a size consistent with its prefix.
 */
#include "addrspace.h"
#include "fuzz.h"
#include "ipnet.h"

static void same_range(const struct ipam_iprange *r)
{
	struct strbuf sb = STRBUF_INIT;
	struct ipam_iprange back;
	struct ipam_ip a, b;
	char *dash;

	ipam_iprange_format(&sb, r);
	if (r->prefix >= 0) {
		if (ipam_iprange_parse_cidr(&back, sb.buf) != IPAM_IP_OK)
			abort();
	} else {
		dash = strchr(sb.buf, '-');
		if (!dash)
			abort();
		*dash = '\0';
		if (ipam_ip_parse(&a, sb.buf) || ipam_ip_parse(&b, dash + 1) ||
		    ipam_iprange_from_bounds(&back, &a, &b))
			abort();
	}
	if (ipam_iprange_compare(r, &back) ||
	    !ipam_iprange_contains(r, &back) ||
	    !ipam_iprange_overlaps(r, &back))
		abort();
	if (r->prefix >= 0 && r->prefix >= ipam_ip_bits(&r->first) - 63 &&
	    ipam_addrspace_size(r) !=
		    1ULL << (ipam_ip_bits(&r->first) - r->prefix))
		abort();
	strbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *dash;
	struct ipam_iprange r;
	struct ipam_ip a, b;

	if (ipam_iprange_parse_cidr(&r, s) == IPAM_IP_OK) {
		same_range(&r);
	} else if ((dash = strchr(s, '-'))) {
		*dash = '\0';
		if (!ipam_ip_parse(&a, s) && !ipam_ip_parse(&b, dash + 1) &&
		    !ipam_iprange_from_bounds(&r, &a, &b))
			same_range(&r);
	} else if (!ipam_ip_parse(&a, s)) {
		r = (struct ipam_iprange){a, a, -1};
		same_range(&r);
		if (ipam_addrspace_size(&r) != 1)
			abort();
	}
	free(s);
	return 0;
}
