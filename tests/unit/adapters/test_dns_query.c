/*
 * The direct DNS question: the query as sent (bytes, RD=0, bad names),
 * the answer parser on messages made here and on answers recorded from
 * the lab's Samba DC (the .bin files of tests/fixtures/dns_query), with every
 * kind of malformed or foreign input it must refuse, and the transports against
 * servers on loopback: UDP, the TCP retry of a truncated answer, silence
 * (a timeout) and a closed port (refused), which are no answer, apart from
 * an answer with an error rcode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "dns_query.h"
#include "error.h"
#include "strbuf.h"
#include "testutil.h"

#define T_A    1
#define T_NS   2
#define T_SOA  6
#define T_AAAA 28

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

static void put_name(struct msg *m, const char *name)
{
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		put8(m, (unsigned)l);
		for (size_t i = 0; i < l; i++)
			put8(m, (unsigned char)p[i]);
		p += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* Header (flags: QR, plus aa and rcode) and one question. */
static void begin(struct msg *m, unsigned id, bool aa, int rcode,
		  const char *qname, int qtype)
{
	memset(m, 0, sizeof(*m));
	put16(m, id);
	put8(m, 0x80 | (aa ? 0x04 : 0));
	put8(m, (unsigned)rcode);
	put16(m, 1);
	m->ancount_at = m->len;
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, qname);
	put16(m, (unsigned)qtype);
	put16(m, 1);
}

/* An answer record whose owner is a pointer to the question's name. */
static size_t rr_begin(struct msg *m, int type)
{
	put16(m, 0xc00c);
	put16(m, (unsigned)type);
	put16(m, 1);
	put32(m, 3600);
	put16(m, 0); /* rdlength, set by rr_end */
	m->ancount++;
	m->b[m->ancount_at] = (unsigned char)(m->ancount >> 8);
	m->b[m->ancount_at + 1] = (unsigned char)m->ancount;
	return m->len;
}

static void rr_end(struct msg *m, size_t start)
{
	size_t rdlen = m->len - start;

	m->b[start - 2] = (unsigned char)(rdlen >> 8);
	m->b[start - 1] = (unsigned char)rdlen;
}

static void add_soa(struct msg *m, const char *mname, unsigned long serial)
{
	size_t at = rr_begin(m, T_SOA);

	put_name(m, mname);
	put16(m, 0xc00c); /* rname compressed: the zone itself */
	put32(m, serial);
	put32(m, 900);
	put32(m, 600);
	put32(m, 86400);
	put32(m, 3600);
	rr_end(m, at);
}

static void add_ns(struct msg *m, const char *target)
{
	size_t at = rr_begin(m, T_NS);

	put_name(m, target);
	rr_end(m, at);
}

static struct ipam_dns_query question(const char *name, int type)
{
	struct ipam_dns_query q = {
		.server = "127.0.0.1", .name = name, .type = type};

	return q;
}

/* ---- the question ------------------------------------------------------ */

static void test_build(void **state)
{
	static const unsigned char want[] = {
		0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 4,	'c',  'o',  'r',  'p',	7,
		'e',  'x',  'a',  'm',	'p',  'l',  'e',  4,	't',
		'e',  's',  't',  0,	0x00, 0x06, 0x00, 0x01,
	};
	unsigned char buf[300];
	char name[300];
	int n;

	(void)state;
	n = ipam_dns_query_build(buf, sizeof(buf), 0x1234, "corp.example.test.",
				 T_SOA);
	assert_int_equal(n, (int)sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* RD is off: the server must not recurse for us */
	assert_int_equal(buf[2] & 0x01, 0);
	n = ipam_dns_query_build(buf, sizeof(buf), 1, ".", T_NS);
	assert_int_equal(n, 12 + 1 + 4);

	assert_int_equal(ipam_dns_query_build(buf, sizeof(buf), 1, "a..b", 6),
			 IPAM_EINVAL);
	assert_int_equal(ipam_dns_query_build(buf, sizeof(buf), 1, "a\\.b", 6),
			 IPAM_EINVAL);
	assert_int_equal(ipam_dns_query_build(buf, sizeof(buf), 1, "", 6), 17);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(ipam_dns_query_build(buf, sizeof(buf), 1, name, 6),
			 IPAM_EINVAL);
	/* 4 labels of 63: 256 octets on the wire, one too many */
	for (int i = 0; i < 4; i++) {
		memset(name + i * 64, 'b', 63);
		name[i * 64 + 63] = '.';
	}
	name[4 * 64 - 1] = '\0';
	assert_int_equal(ipam_dns_query_build(buf, sizeof(buf), 1, name, 6),
			 IPAM_EINVAL);
	name[3 * 64 + 61] = '\0'; /* 255 octets: fits */
	assert_true(ipam_dns_query_build(buf, sizeof(buf), 1, name, 6) > 0);
	assert_int_equal(ipam_dns_query_build(buf, 20, 1, "x", 6), IPAM_EINVAL);
}

/* ---- the answer -------------------------------------------------------- */

static void test_parse_soa(void **state)
{
	struct ipam_dns_query q = question("Corp.Example.Test", T_SOA);
	struct msg m;

	(void)state;
	begin(&m, 77, true, 0, "corp.example.test", T_SOA);
	add_soa(&m, "DC1.corp.example.test", 2026120701UL);
	assert_int_equal(ipam_dns_query_parse(&q, m.b, m.len, 77), 0);
	assert_true(q.answered);
	assert_true(q.aa);
	assert_int_equal(q.rcode, 0);
	assert_true(q.has_soa);
	assert_int_equal(q.serial, 2026120701UL);
	assert_string_equal(q.soa_mname, "dc1.corp.example.test");
	assert_int_equal(q.nr_ns, 0);
	ipam_dns_query_release(&q);
	assert_false(q.answered);
	assert_null(q.soa_mname);
}

static void test_parse_ns_and_addrs(void **state)
{
	struct ipam_dns_query q = question("corp.example.test", T_NS);
	struct msg m;
	size_t at;

	(void)state;
	begin(&m, 9, false, 0, "corp.example.test", T_NS);
	add_ns(&m, "dns1.corp.example.test.");
	add_ns(&m, "DC1.corp.example.test");
	assert_int_equal(ipam_dns_query_parse(&q, m.b, m.len, 9), 0);
	assert_false(q.aa);
	assert_int_equal(q.nr_ns, 2);
	assert_string_equal(q.ns[0], "dc1.corp.example.test");
	assert_string_equal(q.ns[1], "dns1.corp.example.test");
	ipam_dns_query_release(&q);

	q = question("dc1.corp.example.test", T_A);
	begin(&m, 10, true, 0, "dc1.corp.example.test", T_A);
	at = rr_begin(&m, T_A);
	put32(&m, 0x7f000002UL);
	rr_end(&m, at);
	at = rr_begin(&m, T_AAAA);
	for (int i = 0; i < 15; i++)
		put8(&m, 0);
	put8(&m, 1);
	rr_end(&m, at);
	assert_int_equal(ipam_dns_query_parse(&q, m.b, m.len, 10), 0);
	assert_int_equal(q.nr_addrs, 2);
	assert_string_equal(q.addrs[0].text, "127.0.0.2");
	assert_string_equal(q.addrs[1].text, "::1");
	ipam_dns_query_release(&q);
}

static void test_parse_error_rcode(void **state)
{
	struct ipam_dns_query q = question("corp.example.test", T_SOA);
	struct msg m;
	char rb[16];

	(void)state;
	begin(&m, 5, false, 5, "corp.example.test", T_SOA);
	assert_int_equal(ipam_dns_query_parse(&q, m.b, m.len, 5), 0);
	assert_true(q.answered); /* an answer, though a refusal */
	assert_int_equal(q.rcode, 5);
	assert_false(q.has_soa);
	assert_string_equal(ipam_dns_query_rcode_name(q.rcode, rb), "REFUSED");
	assert_string_equal(ipam_dns_query_rcode_name(9, rb), "NOTAUTH");
	assert_string_equal(ipam_dns_query_rcode_name(2, rb), "SERVFAIL");
	assert_string_equal(ipam_dns_query_rcode_name(23, rb), "RCODE23");
	ipam_dns_query_release(&q);
}

static void expect_refused(struct ipam_dns_query *q, const struct msg *m,
			   size_t len, unsigned id)
{
	assert_int_equal(ipam_dns_query_parse(q, m->b, len, id), IPAM_EIO);
	assert_false(q->answered);
	assert_null(q->ns);
	assert_true(q->error[0] != '\0');
}

static void test_parse_refuses(void **state)
{
	struct ipam_dns_query q = question("corp.example.test", T_SOA);
	struct msg m;

	(void)state;
	begin(&m, 1, true, 0, "corp.example.test", T_SOA);
	add_soa(&m, "dc1.corp.example.test", 1);
	expect_refused(&q, &m, m.len, 2);	  /* another id */
	expect_refused(&q, &m, 11, 1);		  /* shorter than a header */
	for (size_t cut = 12; cut < m.len; cut++) /* every truncation */
		expect_refused(&q, &m, cut, 1);
	m.b[2] &= 0x7f; /* a query, not a response */
	expect_refused(&q, &m, m.len, 1);

	begin(&m, 1, true, 0, "other.example.test", T_SOA);
	expect_refused(&q, &m, m.len, 1); /* another name */
	begin(&m, 1, true, 0, "corp.example.test", T_NS);
	expect_refused(&q, &m, m.len, 1); /* another type */

	/* an SOA whose fixed part is short by one byte */
	begin(&m, 1, true, 0, "corp.example.test", T_SOA);
	add_soa(&m, "dc1.corp.example.test", 1);
	{
		struct msg bad = m;
		size_t rdlen_at = 12 + 19 + 4 + 2 + 2 + 2 + 4;

		bad.b[rdlen_at + 1]--;
		bad.len--;
		expect_refused(&q, &bad, bad.len, 1);
	}
	/* a name pointer that loops on itself inside the rdata */
	begin(&m, 1, true, 0, "corp.example.test", T_NS);
	{
		size_t at = rr_begin(&m, T_NS);

		put16(&m, 0xc000 | (unsigned)m.len);
		rr_end(&m, at);
	}
	q.type = T_NS;
	expect_refused(&q, &m, m.len, 1);
	/* an A record of 5 bytes */
	q = question("h.example.test", T_A);
	begin(&m, 1, true, 0, "h.example.test", T_A);
	{
		size_t at = rr_begin(&m, T_A);

		put32(&m, 1);
		put8(&m, 1);
		rr_end(&m, at);
	}
	expect_refused(&q, &m, m.len, 1);
}

/* Answers the lab's Samba DC (dc1, 127.0.0.2) gave to the question
 * ipam_dns_query_build makes (id 0x4242, RD=0), recorded once with a
 * UDP socket: corp.example.test SOA and NS, branch.example.test SOA. */
static void test_parse_recorded(void **state)
{
	struct ipam_dns_query q = question("corp.example.test", T_SOA);
	char *path;
	size_t len;
	char *b;

	(void)state;
	path = xasprintf("%s/dns_query/corp-soa.bin", fixtures_dir());
	b = slurp(path, &len);
	free(path);
	assert_non_null(b);
	assert_int_equal(
		ipam_dns_query_parse(&q, (unsigned char *)b, len, 0x4242), 0);
	assert_true(q.answered);
	assert_true(q.aa);
	assert_int_equal(q.rcode, 0);
	assert_true(q.has_soa);
	assert_string_equal(q.soa_mname, "dc1.corp.example.test");
	ipam_dns_query_release(&q);
	free(b);

	q = question("corp.example.test", T_NS);
	path = xasprintf("%s/dns_query/corp-ns.bin", fixtures_dir());
	b = slurp(path, &len);
	free(path);
	assert_non_null(b);
	assert_int_equal(
		ipam_dns_query_parse(&q, (unsigned char *)b, len, 0x4242), 0);
	assert_true(q.aa);
	assert_int_equal(q.nr_ns, 3);
	assert_string_equal(q.ns[0], "dc1.corp.example.test");
	assert_string_equal(q.ns[1], "dc2.corp.example.test");
	assert_string_equal(q.ns[2], "dns1.corp.example.test");
	ipam_dns_query_release(&q);
	free(b);

	/* branch's zone asked of corp's DC without recursion: an answer
	 * (NXDOMAIN), not authoritative, no SOA */
	q = question("branch.example.test", T_SOA);
	path = xasprintf("%s/dns_query/branch-soa-from-dc1.bin",
			 fixtures_dir());
	b = slurp(path, &len);
	free(path);
	assert_non_null(b);
	assert_int_equal(
		ipam_dns_query_parse(&q, (unsigned char *)b, len, 0x4242), 0);
	assert_true(q.answered);
	assert_false(q.aa);
	assert_int_equal(q.rcode, 3);
	assert_false(q.has_soa);
	ipam_dns_query_release(&q);
	free(b);
}

/* ---- the transports, on loopback --------------------------------------- */

struct fake {
	int udp, tcp;
	int port;
	bool truncate; /* UDP answers say TC; TCP gives the whole answer */
	bool silent;
	int rcode;
	pthread_t th;
};

/* The answer to query q (len n): SOA with serial 42. */
static size_t answer(const struct fake *f, const unsigned char *q, size_t n,
		     unsigned char *out, bool tc)
{
	struct msg m;
	unsigned id = (unsigned)(q[0] << 8 | q[1]);

	(void)n;
	begin(&m, id, true, f->rcode, "zone.test", T_SOA);
	if (tc)
		m.b[2] |= 0x02;
	else if (!f->rcode)
		add_soa(&m, "ns.zone.test", 42);
	memcpy(out, m.b, m.len);
	return m.len;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	unsigned char buf[1024], out[4096];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(f->udp, buf, sizeof(buf), 0,
			     (struct sockaddr *)&from, &fl);
	size_t len;

	if (n < 12 || f->silent)
		return NULL;
	/* first some noise: a datagram with another id */
	len = answer(f, buf, (size_t)n, out, false);
	out[0] ^= 0xff;
	sendto(f->udp, out, len, 0, (struct sockaddr *)&from, fl);
	len = answer(f, buf, (size_t)n, out, f->truncate);
	sendto(f->udp, out, len, 0, (struct sockaddr *)&from, fl);
	if (f->truncate) {
		int c = accept(f->tcp, NULL, NULL);
		unsigned char lb[2];

		if (c < 0 || recv(c, lb, 2, MSG_WAITALL) != 2)
			return NULL;
		n = recv(c, buf, (size_t)(lb[0] << 8 | lb[1]), MSG_WAITALL);
		len = answer(f, buf, (size_t)n, out + 2, false);
		out[0] = (unsigned char)(len >> 8);
		out[1] = (unsigned char)len;
		send(c, out, len + 2, 0);
		close(c);
	}
	return NULL;
}

static void fake_start(struct fake *f)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->udp = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(f->udp >= 0);
	assert_int_equal(bind(f->udp, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(f->udp, (struct sockaddr *)&a, &al), 0);
	f->port = ntohs(a.sin_port);
	f->tcp = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->tcp >= 0);
	assert_int_equal(bind(f->tcp, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->tcp, 1), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->udp);
	close(f->tcp);
}

static void test_ask_udp_and_tcp(void **state)
{
	struct fake f = {0};
	struct ipam_dns_query q = {.server = "127.0.0.1",
				   .name = "zone.test",
				   .type = T_SOA,
				   .timeout_ms = 2000};

	(void)state;
	fake_start(&f);
	q.port = f.port;
	assert_int_equal(ipam_dns_query_ask(&q), 0);
	fake_stop(&f);
	assert_true(q.answered);
	assert_false(q.tcp);
	assert_true(q.aa);
	assert_int_equal(q.serial, 42);
	ipam_dns_query_release(&q);

	memset(&f, 0, sizeof(f));
	f.truncate = true;
	fake_start(&f);
	q.port = f.port;
	assert_int_equal(ipam_dns_query_ask(&q), 0);
	fake_stop(&f);
	assert_true(q.answered);
	assert_true(q.tcp);
	assert_int_equal(q.serial, 42);
	ipam_dns_query_release(&q);

	memset(&f, 0, sizeof(f));
	f.rcode = 2;
	fake_start(&f);
	q.port = f.port;
	assert_int_equal(ipam_dns_query_ask(&q), 0);
	fake_stop(&f);
	assert_true(q.answered); /* SERVFAIL is an answer */
	assert_int_equal(q.rcode, 2);
	ipam_dns_query_release(&q);
}

static void test_ask_no_answer(void **state)
{
	struct fake f = {.silent = true};
	struct ipam_dns_query q = {.server = "127.0.0.1",
				   .name = "zone.test",
				   .type = T_SOA,
				   .timeout_ms = 200};
	int port;

	(void)state;
	fake_start(&f);
	q.port = f.port;
	assert_int_equal(ipam_dns_query_ask(&q), 0);
	fake_stop(&f);
	assert_false(q.answered);
	assert_string_equal(q.error, "no answer within 200 ms");
	assert_true(q.rtt_ms >= 190);

	/* a closed port: ICMP port unreachable on loopback */
	{
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al),
				 0);
		port = ntohs(a.sin_port);
		close(fd);
	}
	q.port = port;
	q.timeout_ms = 2000;
	assert_int_equal(ipam_dns_query_ask(&q), 0);
	assert_false(q.answered);
	assert_non_null(strstr(q.error, "connection refused"));
	assert_true(q.rtt_ms < 1000);

	q.server = "dc1.corp.example.test";
	assert_int_equal(ipam_dns_query_ask(&q), IPAM_EINVAL);
	q.server = "::1";
	q.name = "a..b";
	assert_int_equal(ipam_dns_query_ask(&q), IPAM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_parse_soa),
		cmocka_unit_test(test_parse_ns_and_addrs),
		cmocka_unit_test(test_parse_error_rcode),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_recorded),
		cmocka_unit_test(test_ask_udp_and_tcp),
		cmocka_unit_test(test_ask_no_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
