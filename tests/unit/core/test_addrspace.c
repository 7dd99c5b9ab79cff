/* Address values (formats/ipnet) and the address space arithmetic
 * (core/addrspace): parsing, canonical text, sizes beyond 64 bits,
 * containment and overlap edges, utilization and its state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "addrspace.h"
#include "ipnet.h"

static struct ipam_iprange cidr(const char *s)
{
	struct ipam_iprange r;

	if (ipam_iprange_parse_cidr(&r, s) != IPAM_IP_OK)
		fail_msg("'%s' should parse", s);
	return r;
}

static struct ipam_iprange span(const char *a, const char *b)
{
	struct ipam_ip x, y;
	struct ipam_iprange r;

	assert_int_equal(ipam_ip_parse(&x, a), IPAM_IP_OK);
	assert_int_equal(ipam_ip_parse(&y, b), IPAM_IP_OK);
	assert_int_equal(ipam_iprange_from_bounds(&r, &x, &y), IPAM_IP_OK);
	return r;
}

static struct ipam_ip ip(const char *s)
{
	struct ipam_ip v;

	assert_int_equal(ipam_ip_parse(&v, s), IPAM_IP_OK);
	return v;
}

static void expect_size(const struct ipam_iprange *r, const char *text,
			uint64_t sat)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_addrspace_size_text(&sb, r);
	assert_string_equal(sb.buf, text);
	assert_true(ipam_addrspace_size(r) == sat);
	strbuf_release(&sb);
}

static void expect_text(const struct ipam_iprange *r, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_iprange_format(&sb, r);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_parse_ip(void **state)
{
	struct ipam_ip v;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_ip_parse(&v, "192.0.2.1"), IPAM_IP_OK);
	assert_int_equal(v.family, AF_INET);
	assert_int_equal(ipam_ip_bits(&v), 32);
	assert_int_equal(ipam_ip_parse(&v, "2001:DB8:0:0:0:0:0:1"), IPAM_IP_OK);
	assert_int_equal(v.family, AF_INET6);
	ipam_ip_format(&sb, &v);
	assert_string_equal(sb.buf, "2001:db8::1");
	strbuf_reset(&sb);
	ipam_ip_format(&sb, &(struct ipam_ip){0});
	assert_string_equal(sb.buf, "?");
	strbuf_reset(&sb);
	/* RFC 5952: one zero field is not compressed. */
	v = ip("2001:db8:0:1:1:1:1:1");
	ipam_ip_format(&sb, &v);
	assert_string_equal(sb.buf, "2001:db8:0:1:1:1:1:1");
	strbuf_release(&sb);
	assert_int_equal(ipam_ip_parse(&v, "192.0.2.01"), IPAM_IP_BAD_SYNTAX);
	assert_int_equal(ipam_ip_parse(&v, "192.0.2"), IPAM_IP_BAD_SYNTAX);
	assert_int_equal(ipam_ip_parse(&v, "192.0.2.256"), IPAM_IP_BAD_SYNTAX);
	assert_int_equal(ipam_ip_parse(&v, "fe80::1%eth0"), IPAM_IP_BAD_SYNTAX);
	assert_int_equal(ipam_ip_parse(&v, ""), IPAM_IP_BAD_SYNTAX);
	assert_int_equal(ipam_ip_parse(&v, " 192.0.2.1"), IPAM_IP_BAD_SYNTAX);
	assert_int_equal(v.family, 0);
}

static void expect_canonical(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	struct ipam_ip v = ip(in);

	ipam_ip_format(&sb, &v);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

/* RFC 5952, section 4 and 5. */
static void test_canonical_v6(void **state)
{
	(void)state;
	expect_canonical("0:0:0:0:0:0:0:0", "::");
	expect_canonical("0:0:0:0:0:0:0:1", "::1");
	expect_canonical("1:0:0:0:0:0:0:0", "1::");
	expect_canonical("2001:0DB8:0000:0000:0000:0000:0000:0001",
			 "2001:db8::1");
	/* The longest run; the first of equal runs; never one field. */
	expect_canonical("1:0:0:1:0:0:0:1", "1:0:0:1::1");
	expect_canonical("1:0:0:1:0:0:1:1", "1::1:0:0:1:1");
	expect_canonical("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0");
	expect_canonical("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	expect_canonical("0:1:2:3:4:5:6:0", "0:1:2:3:4:5:6:0");
	/* Dotted only for IPv4-mapped addresses, not the deprecated
	 * IPv4-compatible ones. */
	expect_canonical("::FFFF:c000:0201", "::ffff:192.0.2.1");
	expect_canonical("::1.2.3.4", "::102:304");
	expect_canonical("ffff::", "ffff::");
	expect_canonical("192.0.2.1", "192.0.2.1");
	expect_canonical("0.0.0.0", "0.0.0.0");
}

static void test_parse_cidr(void **state)
{
	struct ipam_iprange r;

	(void)state;
	r = cidr("192.0.2.0/24");
	assert_int_equal(r.prefix, 24);
	expect_text(&r, "192.0.2.0/24");
	r = cidr("2001:DB8::/32");
	expect_text(&r, "2001:db8::/32");
	assert_int_equal(ipam_iprange_parse_cidr(&r, "192.0.2.1/24"),
			 IPAM_IP_BAD_HOST_BITS);
	expect_text(&r, "192.0.2.0/24"); /* the prefix to suggest */
	assert_int_equal(ipam_iprange_parse_cidr(&r, "2001:db8::1/127"),
			 IPAM_IP_BAD_HOST_BITS);
	expect_text(&r, "2001:db8::/127");
	assert_int_equal(ipam_iprange_parse_cidr(&r, "10.0.0.0/33"),
			 IPAM_IP_BAD_LENGTH);
	assert_int_equal(ipam_iprange_parse_cidr(&r, "::/129"),
			 IPAM_IP_BAD_LENGTH);
	assert_int_equal(ipam_iprange_parse_cidr(&r, "10.0.0.0/08"),
			 IPAM_IP_BAD_LENGTH);
	assert_int_equal(ipam_iprange_parse_cidr(&r, "10.0.0.0/"),
			 IPAM_IP_BAD_LENGTH);
	assert_int_equal(ipam_iprange_parse_cidr(&r, "10.0.0.0/-1"),
			 IPAM_IP_BAD_LENGTH);
	assert_int_equal(ipam_iprange_parse_cidr(&r, "10.0.0.0"),
			 IPAM_IP_BAD_SYNTAX);
	assert_int_equal(ipam_iprange_parse_cidr(&r, "ten/8"),
			 IPAM_IP_BAD_SYNTAX);
	r = cidr("0.0.0.0/0");
	expect_text(&r, "0.0.0.0/0");
	r = cidr("::/0");
	expect_text(&r, "::/0");
	r = cidr("192.0.2.7/32");
	expect_text(&r, "192.0.2.7/32");
	assert_true(ipam_ip_compare(&r.first, &r.last) == 0);
	assert_string_equal(ipam_ip_bad_text(IPAM_IP_BAD_HOST_BITS),
			    "host bits set after the prefix length");
}

static void test_bounds(void **state)
{
	struct ipam_ip a = ip("198.51.100.200"), b = ip("198.51.100.100"),
		       c = ip("2001:db8::1");
	struct ipam_iprange r;

	(void)state;
	assert_int_equal(ipam_iprange_from_bounds(&r, &a, &b),
			 IPAM_IP_BAD_ORDER);
	assert_int_equal(ipam_iprange_from_bounds(&r, &b, &c),
			 IPAM_IP_BAD_FAMILY);
	assert_int_equal(ipam_iprange_from_bounds(&r, &b, &a), IPAM_IP_OK);
	assert_int_equal(r.prefix, -1);
	expect_text(&r, "198.51.100.100-198.51.100.200");
	/* One address. */
	assert_int_equal(ipam_iprange_from_bounds(&r, &a, &a), IPAM_IP_OK);
	expect_size(&r, "1", 1);
	assert_int_equal(ipam_iprange_family(&r), AF_INET);
}

static void test_sizes(void **state)
{
	struct ipam_iprange r;

	(void)state;
	r = cidr("192.0.2.0/24");
	expect_size(&r, "256", 256);
	r = cidr("192.0.2.0/31");
	expect_size(&r, "2", 2);
	r = cidr("192.0.2.1/32");
	expect_size(&r, "1", 1);
	r = cidr("0.0.0.0/0");
	expect_size(&r, "4294967296", 4294967296ULL);
	r = cidr("2001:db8::/127");
	expect_size(&r, "2", 2);
	r = cidr("2001:db8::1/128");
	expect_size(&r, "1", 1);
	r = cidr("2001:db8::/64");
	expect_size(&r, "18446744073709551616", UINT64_MAX);
	r = cidr("2001:db8::/65");
	expect_size(&r, "9223372036854775808", 9223372036854775808ULL);
	r = cidr("2001:db8::/32");
	expect_size(&r, "79228162514264337593543950336", UINT64_MAX);
	r = cidr("::/1");
	expect_size(&r, "170141183460469231731687303715884105728", UINT64_MAX);
	r = cidr("::/0");
	expect_size(&r, "340282366920938463463374607431768211456", UINT64_MAX);
	assert_true(ipam_addrspace_size_double(&r) > 3.4e38);
	r = span("2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::");
	expect_size(&r, "2", 2);
	r = span("198.51.100.100", "198.51.100.199");
	expect_size(&r, "100", 100);
}

static void test_contains_overlap(void **state)
{
	struct ipam_iprange b24 = cidr("192.0.2.0/24"),
			    b25 = cidr("192.0.2.128/25"),
			    lo = cidr("192.0.2.0/25"), v6 = cidr("::/0"),
			    v4all = cidr("0.0.0.0/0"),
			    edge = span("192.0.2.127", "192.0.2.128"),
			    one = span("192.0.2.255", "192.0.2.255"),
			    next = cidr("192.0.3.0/24");
	struct ipam_ip x;

	(void)state;
	assert_true(ipam_iprange_contains(&b24, &b25));
	assert_true(ipam_iprange_contains(&b24, &b24));
	assert_false(ipam_iprange_contains(&b25, &b24));
	assert_true(ipam_iprange_contains(&v4all, &b24));
	/* Families never contain or overlap each other, not even ::/0. */
	assert_false(ipam_iprange_contains(&v6, &b24));
	assert_false(ipam_iprange_overlaps(&v6, &v4all));
	assert_false(ipam_iprange_overlaps(&lo, &b25)); /* adjacent */
	assert_true(ipam_iprange_overlaps(&edge, &lo));
	assert_true(ipam_iprange_overlaps(&edge, &b25));
	assert_true(ipam_iprange_overlaps(&b25, &edge));
	assert_true(ipam_iprange_overlaps(&one, &b25));
	assert_true(ipam_iprange_contains(&b25, &one));
	assert_false(ipam_iprange_overlaps(&next, &b24));
	x = ip("192.0.2.255");
	assert_true(ipam_iprange_contains_ip(&b24, &x));
	x = ip("192.0.3.0");
	assert_false(ipam_iprange_contains_ip(&b24, &x));
	x = ip("::ffff:192.0.2.1"); /* mapped: an IPv6 address */
	assert_false(ipam_iprange_contains_ip(&b24, &x));
	assert_true(ipam_iprange_contains_ip(&v6, &x));
	assert_true(ipam_iprange_compare(&b24, &b25) < 0);
	assert_true(ipam_iprange_compare(&b24, &lo) < 0); /* larger first */
	assert_true(ipam_iprange_compare(&b24, &v6) < 0); /* IPv4 first */
	assert_int_equal(ipam_iprange_compare(&b24, &b24), 0);
}

static void test_utilization(void **state)
{
	struct ipam_iprange r = span("198.51.100.100", "198.51.100.199");
	struct strbuf sb = STRBUF_INIT;
	struct ipam_util u;

	(void)state;
	ipam_util_compute(&u, &r, 0, 20, 80);
	assert_true(u.size == 100 && u.used == 0 && u.free == 100);
	assert_true(u.percent == 0.0);
	assert_int_equal(u.state, IPAM_UTIL_UNDER);
	ipam_util_compute(&u, &r, 20, 20, 80);
	assert_int_equal(u.state, IPAM_UTIL_OPTIMAL); /* at under: optimal */
	ipam_util_compute(&u, &r, 80, 20, 80);
	assert_int_equal(u.state, IPAM_UTIL_OPTIMAL);
	ipam_util_compute(&u, &r, 81, 20, 80);
	assert_int_equal(u.state, IPAM_UTIL_OVER);
	assert_true(u.free == 19);
	/* More in use than exists (a bad count) is capped. */
	ipam_util_compute(&u, &r, 1000, 20, 80);
	assert_true(u.used == 100 && u.free == 0 && u.percent == 100.0);
	/* One address, used. */
	r = cidr("192.0.2.1/32");
	ipam_util_compute(&u, &r, 1, 20, 80);
	assert_true(u.percent == 100.0 && u.free == 0);
	assert_int_equal(u.state, IPAM_UTIL_OVER);
	r = cidr("192.0.2.0/31");
	ipam_util_compute(&u, &r, 1, 20, 80);
	assert_true(u.percent == 50.0);
	/* A /64: 2^64 addresses (the size saturates), percent tiny, > 0. */
	r = cidr("2001:db8::/64");
	ipam_util_compute(&u, &r, 3, 20, 80);
	assert_true(u.size == UINT64_MAX);
	assert_true(u.free == 18446744073709551613ULL); /* fits */
	assert_true(u.percent > 0.0 && u.percent < 1e-15);
	ipam_addrspace_free_text(&sb, &r, 3);
	assert_string_equal(sb.buf, "18446744073709551613");
	strbuf_reset(&sb);
	r = cidr("2001:db8::/48");
	ipam_util_compute(&u, &r, 3, 20, 80);
	assert_true(u.free == UINT64_MAX); /* 2^80 - 3 saturates */
	assert_int_equal(u.state, IPAM_UTIL_UNDER);
	ipam_addrspace_free_text(&sb, &r, 3);
	assert_string_equal(sb.buf, "1208925819614629174706173");
	strbuf_reset(&sb);
	r = cidr("::/0");
	ipam_addrspace_free_text(&sb, &r, 1);
	assert_string_equal(sb.buf, "340282366920938463463374607431768211455");
	strbuf_reset(&sb);
	ipam_addrspace_free_text(&sb, &r, 0);
	assert_string_equal(sb.buf, "340282366920938463463374607431768211456");
	strbuf_reset(&sb);
	r = cidr("2001:db8::/127");
	ipam_util_compute(&u, &r, 2, 20, 80);
	assert_true(u.percent == 100.0 && u.free == 0);
	ipam_addrspace_free_text(&sb, &r, 5);
	assert_string_equal(sb.buf, "0");
	strbuf_release(&sb);
	/* Thresholds at the ends. */
	assert_int_equal(ipam_util_state_of(0.0, 0, 100), IPAM_UTIL_OPTIMAL);
	assert_int_equal(ipam_util_state_of(100.0, 0, 100), IPAM_UTIL_OPTIMAL);
	assert_int_equal(ipam_util_state_of(19.99, 20, 80), IPAM_UTIL_UNDER);
	assert_int_equal(ipam_util_state_of(80.01, 20, 80), IPAM_UTIL_OVER);
}

static void test_state_names(void **state)
{
	enum ipam_util_state s;

	(void)state;
	for (int i = 0; i < IPAM_UTIL_NR_STATE; i++) {
		assert_int_equal(
			ipam_util_state_parse(
				ipam_util_state_name((enum ipam_util_state)i),
				&s),
			0);
		assert_int_equal(s, i);
	}
	assert_string_equal(ipam_util_state_name(IPAM_UTIL_OPTIMAL), "optimal");
	assert_int_equal(ipam_util_state_parse("full", &s), -1);
}

/* An address space by hand: what validation leaves. */
static void add_block(struct ipam_address_space *as, const char *c)
{
	ALLOC_GROW(as->blocks, as->nr_blocks + 1, as->alloc_blocks);
	memset(&as->blocks[as->nr_blocks], 0, sizeof(as->blocks[0]));
	as->blocks[as->nr_blocks].net = cidr(c);
	as->blocks[as->nr_blocks++].ok = true;
}

static void add_range(struct ipam_address_space *as, struct ipam_iprange net,
		      enum ipam_assignment a, const char *server)
{
	struct ipam_range *r;

	ALLOC_GROW(as->ranges, as->nr_ranges + 1, as->alloc_ranges);
	r = &as->ranges[as->nr_ranges++];
	memset(r, 0, sizeof(*r));
	r->net = net;
	r->ok = true;
	r->assignment = a;
	r->dhcp_server.value = (char *)server;
	r->dhcp_server.pos.file = "a.yaml";
	r->dhcp_server.pos.line = (int)as->nr_ranges;
	r->dhcp_server.pos.col = 5;
}

static void test_find(void **state)
{
	struct ipam_address_space as = {0};
	struct ipam_iprange wide;
	struct ipam_ip x;

	(void)state;
	add_block(&as, "198.51.100.0/24");
	add_block(&as, "192.0.2.0/24");
	add_block(&as, "2001:db8::/32");
	add_range(&as, span("198.51.100.100", "198.51.100.199"),
		  IPAM_ASSIGNMENT_DHCP, "dhcp1.corp.example.test");
	add_range(&as, cidr("192.0.2.0/24"), IPAM_ASSIGNMENT_STATIC, NULL);
	add_range(&as, cidr("2001:db8::/64"), IPAM_ASSIGNMENT_STATIC, NULL);
	x = ip("198.51.100.150");
	assert_int_equal(ipam_addrspace_find_range(&as, &x), 0);
	assert_int_equal(ipam_addrspace_find_block(&as, &x), 0);
	x = ip("198.51.100.10"); /* in the block, no range: unmapped */
	assert_int_equal(ipam_addrspace_find_range(&as, &x), -1);
	assert_int_equal(ipam_addrspace_find_block(&as, &x), 0);
	x = ip("192.0.2.30");
	assert_int_equal(ipam_addrspace_find_range(&as, &x), 1);
	x = ip("2001:db8::5");
	assert_int_equal(ipam_addrspace_find_range(&as, &x), 2);
	assert_int_equal(ipam_addrspace_find_block(&as, &x), 2);
	x = ip("203.0.113.1");
	assert_int_equal(ipam_addrspace_find_block(&as, &x), -1);
	assert_int_equal(ipam_addrspace_block_of(&as, &as.ranges[0].net), 0);
	assert_int_equal(ipam_addrspace_block_of(&as, &as.ranges[2].net), 2);
	wide = cidr("198.51.0.0/16");
	assert_int_equal(ipam_addrspace_block_of(&as, &wide), -1);
	/* A range that did not parse is never found. */
	as.ranges[1].ok = false;
	x = ip("192.0.2.30");
	assert_int_equal(ipam_addrspace_find_range(&as, &x), -1);
	free(as.blocks);
	free(as.ranges);
}

static void add_server(struct ipam_inventory *inv, const char *name,
		       unsigned roles, enum ipam_inv_status st)
{
	ALLOC_GROW(inv->servers, inv->nr + 1, inv->alloc);
	memset(&inv->servers[inv->nr], 0, sizeof(inv->servers[0]));
	inv->servers[inv->nr].name = xstrdup(name);
	inv->servers[inv->nr].roles = roles;
	inv->servers[inv->nr++].status = st;
}

static void test_check_dhcp(void **state)
{
	struct ipam_desired d = {0};
	struct ipam_address_space *as = &d.address_space;
	struct ipam_inventory inv = {0};
	struct ipam_diags diags = {0};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	add_server(&inv, "dhcp1.corp.example.test", IPAM_ROLE_DHCP,
		   IPAM_INV_UNCHANGED);
	add_server(&inv, "dns1.corp.example.test", IPAM_ROLE_DNS,
		   IPAM_INV_UNCHANGED);
	add_server(&inv, "dhcp2.corp.example.test", IPAM_ROLE_DHCP,
		   IPAM_INV_GONE);
	add_block(as, "198.51.100.0/24");
	add_range(as, span("198.51.100.100", "198.51.100.199"),
		  IPAM_ASSIGNMENT_DHCP, "dhcp1.corp.example.test");
	add_range(as, span("198.51.100.200", "198.51.100.209"),
		  IPAM_ASSIGNMENT_DHCP, "dns1.corp.example.test");
	add_range(as, span("198.51.100.210", "198.51.100.219"),
		  IPAM_ASSIGNMENT_DHCP, "dhcp2.corp.example.test");
	add_range(as, span("198.51.100.220", "198.51.100.229"),
		  IPAM_ASSIGNMENT_DHCP, "dhcp7.corp.example.test");
	add_range(as, span("198.51.100.1", "198.51.100.9"),
		  IPAM_ASSIGNMENT_STATIC, NULL);
	assert_int_equal(ipam_addrspace_check_dhcp(&d, &inv, &diags), 3);
	assert_int_equal(diags.nr, 3);
	for (size_t i = 0; i < diags.nr; i++) {
		ipam_diag_format(&sb, &diags.items[i]);
		strbuf_addch(&sb, '\n');
	}
	assert_string_equal(
		sb.buf,
		"a.yaml:2:5: the DHCP range's server "
		"'dns1.corp.example.test' is not a DHCP server\n"
		"a.yaml:3:5: the DHCP range's server "
		"'dhcp2.corp.example.test' was not found by the last "
		"discovery\n"
		"a.yaml:4:5: the DHCP range's server "
		"'dhcp7.corp.example.test' is not in the server inventory\n");
	strbuf_release(&sb);
	ipam_diags_free(&diags);
	free(as->blocks);
	free(as->ranges);
	ipam_inventory_release(&inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ip),
		cmocka_unit_test(test_canonical_v6),
		cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_contains_overlap),
		cmocka_unit_test(test_utilization),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_check_dhcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
