/*
 * What of the DNS module runs without a resolver: the answer parsers on
 * hand-made messages (ordering, normalisation, compression, malformed
 * input) and ipam_dns_resolve_many on address literals, which getaddrinfo
 * answers without asking any server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "dns.h"
#include "dns_internal.h"
#include "error.h"
#include "strbuf.h"

#define T_NS	2
#define T_CNAME 5
#define T_SRV	33

struct msg {
	unsigned char b[4096];
	size_t len;
	size_t ancount_at;
	unsigned ancount;
};

static void put8(struct msg *m, unsigned v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = (unsigned char)v;
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, (v >> 8) & 0xff);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, unsigned long v)
{
	put16(m, (unsigned)(v >> 16) & 0xffff);
	put16(m, (unsigned)v & 0xffff);
}

/* "a.b.c" as labels; a trailing dot changes nothing. */
static void put_name(struct msg *m, const char *name)
{
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		assert_true(l > 0 && l < 64);
		put8(m, (unsigned)l);
		memcpy(m->b + m->len, p, l);
		m->len += l;
		p += l;
		if (*p == '.')
			p++;
	}
	put8(m, 0);
}

/* Header and one question; the name sits at offset 12 (pointer 0xC00C). */
static void begin(struct msg *m, const char *qname, unsigned qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, 0x1234);
	put16(m, 0x8180); /* response, RD, RA, NOERROR */
	put16(m, 1);
	m->ancount_at = m->len;
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

static size_t rr_begin(struct msg *m, unsigned type)
{
	size_t rdlen_at;

	put16(m, 0xC00C);
	put16(m, type);
	put16(m, 1);
	put32(m, 600);
	rdlen_at = m->len;
	put16(m, 0);
	m->ancount++;
	m->b[m->ancount_at] = (unsigned char)(m->ancount >> 8);
	m->b[m->ancount_at + 1] = (unsigned char)m->ancount;
	return rdlen_at;
}

static void rr_end(struct msg *m, size_t rdlen_at)
{
	size_t rdlen = m->len - rdlen_at - 2;

	m->b[rdlen_at] = (unsigned char)(rdlen >> 8);
	m->b[rdlen_at + 1] = (unsigned char)rdlen;
}

static void add_srv(struct msg *m, unsigned prio, unsigned weight,
		    unsigned port, const char *target)
{
	size_t at = rr_begin(m, T_SRV);

	put16(m, prio);
	put16(m, weight);
	put16(m, port);
	put_name(m, target);
	rr_end(m, at);
}

static void add_ns(struct msg *m, const char *target)
{
	size_t at = rr_begin(m, T_NS);

	put_name(m, target);
	rr_end(m, at);
}

static void test_srv_sorted_and_normalised(void **state)
{
	struct ipam_dns_srv *v;
	struct msg m;
	size_t nr;

	(void)state;
	begin(&m, "_ldap._tcp.dc._msdcs.corp.example.test", T_SRV);
	add_srv(&m, 10, 0, 389, "b.corp.example.test");
	add_srv(&m, 0, 50, 389, "A.Corp.Example.TEST.");
	add_srv(&m, 0, 100, 3268, "c.corp.example.test");
	add_srv(&m, 0, 50, 389, "a.corp.example.test"); /* a duplicate */
	assert_int_equal(ipam_dns_parse_srv(&v, &nr, m.b, m.len), 0);
	assert_int_equal(nr, 3);
	assert_string_equal(v[0].target, "c.corp.example.test");
	assert_int_equal(v[0].port, 3268);
	assert_int_equal(v[0].weight, 100);
	assert_string_equal(v[1].target, "a.corp.example.test");
	assert_int_equal(v[1].priority, 0);
	assert_int_equal(v[1].weight, 50);
	assert_int_equal(v[1].port, 389);
	assert_string_equal(v[2].target, "b.corp.example.test");
	assert_int_equal(v[2].priority, 10);
	ipam_dns_srv_free(v, nr);
}

static void test_srv_compressed_target_and_cname(void **state)
{
	struct ipam_dns_srv *v;
	struct msg m;
	size_t nr, at;

	(void)state;
	begin(&m, "dc1.corp.example.test", T_SRV);
	/* A CNAME ahead of the data is skipped. */
	at = rr_begin(&m, T_CNAME);
	put_name(&m, "x.corp.example.test");
	rr_end(&m, at);
	/* Target as a pointer to the question name (RFC 2782 forbids it,
	 * some servers do it). */
	at = rr_begin(&m, T_SRV);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 389);
	put16(&m, 0xC00C);
	rr_end(&m, at);
	assert_int_equal(ipam_dns_parse_srv(&v, &nr, m.b, m.len), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(v[0].target, "dc1.corp.example.test");
	ipam_dns_srv_free(v, nr);
}

static void test_srv_root_target_means_none(void **state)
{
	struct ipam_dns_srv *v;
	struct msg m;
	size_t nr, at;

	(void)state;
	begin(&m, "_ldap._tcp.example.test", T_SRV);
	at = rr_begin(&m, T_SRV);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 0);
	put8(&m, 0);
	rr_end(&m, at);
	assert_int_equal(ipam_dns_parse_srv(&v, &nr, m.b, m.len), 0);
	assert_int_equal(nr, 0);
	assert_null(v);
}

static void test_no_answers(void **state)
{
	struct ipam_dns_srv *v;
	char **names;
	struct msg m;
	size_t nr;

	(void)state;
	begin(&m, "_ldap._tcp.example.test", T_SRV);
	assert_int_equal(ipam_dns_parse_srv(&v, &nr, m.b, m.len), 0);
	assert_int_equal(nr, 0);
	begin(&m, "example.test", T_NS);
	assert_int_equal(ipam_dns_parse_ns(&names, &nr, m.b, m.len), 0);
	assert_int_equal(nr, 0);
	assert_null(names);
}

static void expect_malformed_srv(const struct msg *m, size_t len)
{
	struct ipam_dns_srv *v = (void *)1;
	size_t nr = 99;

	ipam_error_clear();
	assert_int_equal(ipam_dns_parse_srv(&v, &nr, m->b, len), IPAM_EIO);
	assert_null(v);
	assert_int_equal(nr, 0);
	assert_string_equal(ipam_error_last(), "malformed DNS answer");
}

static void test_srv_malformed(void **state)
{
	struct msg m;
	size_t at, cut;

	(void)state;
	/* rdata too short to hold priority, weight, port and a name */
	begin(&m, "s.example.test", T_SRV);
	at = rr_begin(&m, T_SRV);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 389);
	rr_end(&m, at);
	expect_malformed_srv(&m, m.len);

	/* The target runs past rdlength into the next record, whose owner
	 * name (a pointer) would complete it. */
	begin(&m, "s.example.test", T_SRV);
	at = rr_begin(&m, T_SRV);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 389);
	put8(&m, 1);
	put8(&m, 'a');
	rr_end(&m, at);
	add_ns(&m, "ns.example.test");
	expect_malformed_srv(&m, m.len);

	/* a compression pointer to itself */
	begin(&m, "s.example.test", T_SRV);
	at = rr_begin(&m, T_SRV);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 389);
	put16(&m, 0xC000 | (unsigned)m.len);
	rr_end(&m, at);
	expect_malformed_srv(&m, m.len);

	/* every truncation of a good message */
	begin(&m, "s.example.test", T_SRV);
	add_srv(&m, 0, 0, 389, "dc1.example.test");
	for (cut = 0; cut < m.len; cut++) {
		struct ipam_dns_srv *v;
		size_t nr;
		int r = ipam_dns_parse_srv(&v, &nr, m.b, cut);

		/* Cuts that drop whole sections parse, but never yield a
		 * record from half of one. */
		if (r == 0) {
			assert_int_equal(nr, 0);
			continue;
		}
		assert_int_equal(r, IPAM_EIO);
	}
}

static void test_ns_sorted_lower_deduplicated(void **state)
{
	char **v;
	struct msg m;
	size_t nr;

	(void)state;
	begin(&m, "corp.example.test", T_NS);
	add_ns(&m, "DNS1.corp.example.test");
	add_ns(&m, "dc2.corp.example.test.");
	add_ns(&m, "dc1.Corp.Example.Test");
	add_ns(&m, "dc2.corp.example.test");
	assert_int_equal(ipam_dns_parse_ns(&v, &nr, m.b, m.len), 0);
	assert_int_equal(nr, 3);
	assert_string_equal(v[0], "dc1.corp.example.test");
	assert_string_equal(v[1], "dc2.corp.example.test");
	assert_string_equal(v[2], "dns1.corp.example.test");
	ipam_dns_names_free(v, nr);
}

static void test_frees_accept_null(void **state)
{
	(void)state;
	ipam_dns_srv_free(NULL, 0);
	ipam_dns_names_free(NULL, 0);
}

static void free_results(struct ipam_addr **results, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(results[i]);
}

static void test_resolve_literals_and_invalid(void **state)
{
	char long_name[300];
	const char *names[] = {"192.0.2.7", "2001:db8::1", "", long_name,
			       "0.0.0.0"};
	size_t n = sizeof(names) / sizeof(names[0]);
	struct ipam_addr *results[5];
	size_t nr[5];
	int status[5];
	const char *reason[5];

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(
		ipam_dns_resolve_many(names, n, results, nr, status, reason, 5),
		0);
	assert_int_equal(status[0], 0);
	assert_int_equal(nr[0], 1);
	assert_int_equal(results[0][0].family, AF_INET);
	assert_string_equal(results[0][0].text, "192.0.2.7");
	assert_int_equal(status[1], 0);
	assert_int_equal(nr[1], 1);
	assert_int_equal(results[1][0].family, AF_INET6);
	assert_string_equal(results[1][0].text, "2001:db8::1");
	assert_int_equal(status[2], IPAM_EIO);
	assert_string_equal(reason[2], "invalid name");
	assert_int_equal(nr[2], 0);
	assert_null(results[2]);
	assert_int_equal(status[3], IPAM_EIO);
	assert_int_equal(status[4], 0);
	assert_string_equal(results[4][0].text, "0.0.0.0");
	free_results(results, n);
}

/* Many more names than lookups in flight, each answered in order. */
static void test_resolve_many_literals(void **state)
{
	enum { N = 20000 };
	char **names = xcalloc(N, sizeof(*names));
	struct ipam_addr **results = xcalloc(N, sizeof(*results));
	size_t *nr = xcalloc(N, sizeof(*nr));
	int *status = xcalloc(N, sizeof(*status));
	const char **reason = xcalloc(N, sizeof(*reason));
	struct timespec t0, t1;
	size_t i;

	(void)state;
	for (i = 0; i < N; i++)
		names[i] = i % 2 ? xasprintf("10.%zu.%zu.%zu", i >> 16,
					     (i >> 8) & 255, i & 255)
				 : xasprintf("fd00::1:%zx", i);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ipam_dns_resolve_many((const char *const *)names, N,
					       results, nr, status, reason, 5),
			 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < N; i++) {
		assert_int_equal(status[i], 0);
		assert_int_equal(nr[i], 1);
		assert_string_equal(results[i][0].text, names[i]);
		free(names[i]);
	}
	print_message("%d literal names in %.0f ms\n", N,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	free_results(results, N);
	free(names);
	free(results);
	free(nr);
	free(status);
	free(reason);
}

/* A dnsRecord value: MS-DNSP header (24 bytes), then data. */
static size_t dns_record(unsigned char *buf, unsigned type,
			 const unsigned char *data, size_t len)
{
	memset(buf, 0, 24);
	buf[0] = (unsigned char)(len & 0xff);
	buf[1] = (unsigned char)(len >> 8);
	buf[2] = (unsigned char)(type & 0xff);
	buf[3] = (unsigned char)(type >> 8);
	buf[4] = 5;	/* version */
	buf[5] = 0xf0;	/* rank: zone */
	buf[15] = 0x84; /* TTL 900 s, big-endian */
	buf[14] = 0x03;
	memcpy(buf + 24, data, len);
	return 24 + len;
}

static void test_ad_dns_record(void **state)
{
	static const unsigned char v4[] = {192, 0, 2, 10};
	static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const unsigned char ns[] = {0x03, 3, 'd', 'c', '1', 0};
	unsigned char buf[64];
	struct ipam_addr a;
	size_t len;

	(void)state;
	len = dns_record(buf, 1, v4, sizeof(v4));
	assert_int_equal(ipam_dns_record_addr(&a, buf, len), 1);
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(a.text, "192.0.2.10");
	len = dns_record(buf, 28, v6, sizeof(v6));
	assert_int_equal(ipam_dns_record_addr(&a, buf, len), 1);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(a.text, "2001:db8::1");
	/* other types, tombstones (type 0) included: not an address */
	len = dns_record(buf, 2, ns, sizeof(ns));
	assert_int_equal(ipam_dns_record_addr(&a, buf, len), 0);
	len = dns_record(buf, 0, v4, 0);
	assert_int_equal(ipam_dns_record_addr(&a, buf, len), 0);
	/* malformed: short, data past the end, wrong version, bad size */
	assert_int_equal(ipam_dns_record_addr(&a, buf, 10), -1);
	len = dns_record(buf, 1, v4, sizeof(v4));
	assert_int_equal(ipam_dns_record_addr(&a, buf, len - 1), -1);
	buf[4] = 4;
	assert_int_equal(ipam_dns_record_addr(&a, buf, len), -1);
	len = dns_record(buf, 1, v6, sizeof(v6));
	assert_int_equal(ipam_dns_record_addr(&a, buf, len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_sorted_and_normalised),
		cmocka_unit_test(test_srv_compressed_target_and_cname),
		cmocka_unit_test(test_srv_root_target_means_none),
		cmocka_unit_test(test_no_answers),
		cmocka_unit_test(test_srv_malformed),
		cmocka_unit_test(test_ns_sorted_lower_deduplicated),
		cmocka_unit_test(test_frees_accept_null),
		cmocka_unit_test(test_resolve_literals_and_invalid),
		cmocka_unit_test(test_resolve_many_literals),
		cmocka_unit_test(test_ad_dns_record),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
