#include "addrspace.h"

#include <string.h>
#include <sys/socket.h>

#include "banned.h"

/* Sizes up to 2^128 - 1 fit; ::/0 holds 2^128, one more (see span). */
__extension__ typedef unsigned __int128 u128;

static u128 ip_value(const struct ipam_ip *ip)
{
	size_t n = ip->family == AF_INET ? 4 : 16;
	u128 v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | ip->b[i];
	return v;
}

/* last - first: the size minus one, which always fits 128 bits. */
static u128 span(const struct ipam_iprange *r)
{
	return ip_value(&r->last) - ip_value(&r->first);
}

static void add_u128(struct strbuf *out, u128 v)
{
	char buf[48];
	size_t i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	strbuf_addstr(out, buf + i);
}

/* "2^128" as decimal, the one size that does not fit u128. */
#define ALL_V6 "340282366920938463463374607431768211456"

void ipam_addrspace_size_text(struct strbuf *out, const struct ipam_iprange *r)
{
	u128 s = span(r);

	if (s == ~(u128)0)
		strbuf_addstr(out, ALL_V6);
	else
		add_u128(out, s + 1);
}

uint64_t ipam_addrspace_size(const struct ipam_iprange *r)
{
	u128 s = span(r);

	return s >= UINT64_MAX ? UINT64_MAX : (uint64_t)s + 1;
}

double ipam_addrspace_size_double(const struct ipam_iprange *r)
{
	return (double)span(r) + 1.0;
}

void ipam_addrspace_free_text(struct strbuf *out, const struct ipam_iprange *r,
			      uint64_t used)
{
	u128 s = span(r);

	if (!used) {
		ipam_addrspace_size_text(out, r);
		return;
	}
	/* size - used = span + 1 - used, never below zero. */
	add_u128(out, (u128)used - 1 > s ? 0 : s - ((u128)used - 1));
}

static const char *const state_names[IPAM_UTIL_NR_STATE] = {"under", "optimal",
							    "over"};

const char *ipam_util_state_name(enum ipam_util_state s)
{
	return s < IPAM_UTIL_NR_STATE ? state_names[s] : "?";
}

int ipam_util_state_parse(const char *s, enum ipam_util_state *out)
{
	for (int i = 0; i < IPAM_UTIL_NR_STATE; i++)
		if (!strcmp(s, state_names[i])) {
			*out = (enum ipam_util_state)i;
			return 0;
		}
	return -1;
}

enum ipam_util_state ipam_util_state_of(double percent, int under, int over)
{
	if (percent < under)
		return IPAM_UTIL_UNDER;
	if (percent > over)
		return IPAM_UTIL_OVER;
	return IPAM_UTIL_OPTIMAL;
}

void ipam_util_compute(struct ipam_util *u, const struct ipam_iprange *r,
		       uint64_t used, int under, int over)
{
	u128 s = span(r);

	if (used && (u128)used - 1 > s)
		used = (uint64_t)s + 1;
	u->size = ipam_addrspace_size(r);
	u->used = used;
	if (!used)
		u->free = u->size;
	else if (s - ((u128)used - 1) >= UINT64_MAX)
		u->free = UINT64_MAX;
	else
		u->free = (uint64_t)(s - ((u128)used - 1));
	/* Exact when the size fits a double's mantissa; beyond, the
	 * relative error is far below what a percent shows. */
	u->percent = (double)used * 100.0 / ((double)s + 1.0);
	if (u->percent > 100.0)
		u->percent = 100.0;
	u->state = ipam_util_state_of(u->percent, under, over);
}

long ipam_addrspace_find_range(const struct ipam_address_space *as,
			       const struct ipam_ip *ip)
{
	long best = -1;

	for (size_t i = 0; i < as->nr_ranges; i++) {
		const struct ipam_range *r = &as->ranges[i];

		if (!r->ok || !ipam_iprange_contains_ip(&r->net, ip))
			continue;
		if (best < 0 || span(&r->net) < span(&as->ranges[best].net))
			best = (long)i;
	}
	return best;
}

long ipam_addrspace_block_of(const struct ipam_address_space *as,
			     const struct ipam_iprange *r)
{
	long best = -1;

	for (size_t i = 0; i < as->nr_blocks; i++) {
		const struct ipam_block *b = &as->blocks[i];

		if (!b->ok || !ipam_iprange_contains(&b->net, r))
			continue;
		if (best < 0 || span(&b->net) < span(&as->blocks[best].net))
			best = (long)i;
	}
	return best;
}

long ipam_addrspace_find_block(const struct ipam_address_space *as,
			       const struct ipam_ip *ip)
{
	const struct ipam_iprange one = {*ip, *ip, -1};

	return ipam_addrspace_block_of(as, &one);
}

size_t ipam_addrspace_check_dhcp(const struct ipam_desired *d,
				 const struct ipam_inventory *inv,
				 struct ipam_diags *diags)
{
	const struct ipam_address_space *as = &d->address_space;
	size_t bad = 0;

	for (size_t i = 0; i < as->nr_ranges; i++) {
		const struct ipam_range *r = &as->ranges[i];
		const struct ipam_inv_server *s;
		const char *why = NULL;

		if (r->assignment != IPAM_ASSIGNMENT_DHCP ||
		    !r->dhcp_server.value)
			continue;
		s = ipam_inventory_find(inv, r->dhcp_server.value);
		if (!s)
			why = "is not in the server inventory";
		else if (s->status == IPAM_INV_GONE ||
			 s->status == IPAM_INV_NOT_FOUND)
			why = "was not found by the last discovery";
		else if (!(s->roles & IPAM_ROLE_DHCP))
			why = "is not a DHCP server";
		if (!why)
			continue;
		ipam_diag_error(diags, &r->dhcp_server.pos,
				"the DHCP range's server '%s' %s",
				s ? s->name : r->dhcp_server.value, why);
		bad++;
	}
	return bad;
}
