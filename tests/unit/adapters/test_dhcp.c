/*
 * The dhcpServers value parser, and the DHCPINFORM probe end to end on
 * loopback: a responder thread answers (or misbehaves) on 127.0.0.1, a
 * bound socket on 127.0.0.2 stays silent, and nothing listens on
 * 127.0.0.3 (ICMP port unreachable).  Unprivileged ports only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "dhcp.h"
#include "error.h"
#include "strbuf.h"

/* --- dhcpServers values ------------------------------------------------ */

static void parse_ok(const char *value, const char *ip, const char *rdn,
		     const char *name)
{
	struct ipam_dhcp_auth a;

	ipam_error_clear();
	if (ipam_dhcp_parse_servers_value(&a, value, strlen(value)) != 0)
		fail_msg("'%s': %s", value, ipam_error_last());
	if (ip)
		assert_string_equal(a.ip, ip);
	else
		assert_null(a.ip);
	if (rdn)
		assert_string_equal(a.rdn, rdn);
	else
		assert_null(a.rdn);
	if (name)
		assert_string_equal(a.name, name);
	else
		assert_null(a.name);
	ipam_dhcp_auth_release(&a);
	assert_null(a.ip);
}

static void parse_fails(const char *value, size_t len, int code)
{
	struct ipam_dhcp_auth a;

	assert_int_equal(ipam_dhcp_parse_servers_value(&a, value, len), code);
	assert_null(a.ip);
	assert_null(a.rdn);
	assert_null(a.name);
	assert_string_not_equal(ipam_error_last(), "");
}

static void test_parse_ms_dhcpe_examples(void **state)
{
	(void)state;
	parse_ok("i10.0.0.1$rcn=dhcpsrv.contoso.com$f0x00000000$"
		 "sdhcpsrv.contoso.com$",
		 "10.0.0.1", "dhcpsrv.contoso.com", "dhcpsrv.contoso.com");
	parse_ok("i198.51.100.10$rcn=dhcp1.corp.example.test$f0x00000000$"
		 "sdhcp1.corp.example.test$",
		 "198.51.100.10", "dhcp1.corp.example.test",
		 "dhcp1.corp.example.test");
	/* A server with no IPv4 address. */
	parse_ok("i255.0.0.1$rcn=v6only.contoso.com$f0x00000000$"
		 "sv6only.contoso.com$",
		 "255.0.0.1", "v6only.contoso.com", "v6only.contoso.com");
	/* Names are folded to lower case, RDNs kept as written. */
	parse_ok("i10.0.0.2$rcn=DHCP2.Contoso.COM$f0x00000000$"
		 "sDHCP2.Contoso.COM$",
		 "10.0.0.2", "DHCP2.Contoso.COM", "dhcp2.contoso.com");
}

static void test_parse_lenient(void **state)
{
	(void)state;
	/* any order */
	parse_ok("sdhcp3.contoso.com$f0x00000000$i10.0.0.3$rcn=dhcp3$",
		 "10.0.0.3", "dhcp3", "dhcp3.contoso.com");
	/* no trailing '$' */
	parse_ok("i10.0.0.4$rcn=d4$f0x00000000$sd4.contoso.com", "10.0.0.4",
		 "d4", "d4.contoso.com");
	/* unknown fields, empty fields, an RDN without "cn=" */
	parse_ok("x42$$i10.0.0.5$$zfuture=1$rd5$sd5.contoso.com$$", "10.0.0.5",
		 "d5", "d5.contoso.com");
	/* the first of repeated fields wins */
	parse_ok("i10.0.0.6$i10.0.0.7$sfirst$ssecond$", "10.0.0.6", NULL,
		 "first");
	/* only a name, only an address */
	parse_ok("sonly.contoso.com$", NULL, NULL, "only.contoso.com");
	parse_ok("i192.0.2.9$", "192.0.2.9", NULL, NULL);
	/* an address that is not one is dropped, the name kept */
	parse_ok("i999.1.2.3$sbad-ip.contoso.com$", NULL, NULL,
		 "bad-ip.contoso.com");
	/* a control character spoils only its field */
	parse_ok("i10.0.0.8$sx\ty$rcn=ok$", "10.0.0.8", "ok", NULL);
}

static void test_parse_respects_len(void **state)
{
	static const char v[] = "i10.0.0.9$sname.contoso.com$";
	struct ipam_dhcp_auth a;

	(void)state;
	/* Values come from LDAP as bytes, not C strings. */
	assert_int_equal(ipam_dhcp_parse_servers_value(&a, v, 14), 0);
	assert_string_equal(a.ip, "10.0.0.9");
	assert_string_equal(a.name, "nam");
	ipam_dhcp_auth_release(&a);
	ipam_dhcp_auth_release(NULL);
}

static void test_parse_garbage(void **state)
{
	static const char nul[] = "i10.0.0.1$s\0evil$";
	char *big;

	(void)state;
	parse_fails("", 0, IPAM_EINVAL);
	parse_fails("$$$$", 4, IPAM_EINVAL);
	parse_fails("hello world", 11, IPAM_EINVAL);
	parse_fails("i$s$r$", 6, IPAM_EINVAL);
	parse_fails("i255.0.0.1$rcn=x$f0x00000000$", 29, IPAM_EINVAL);
	parse_fails("inot-an-ip$", 11, IPAM_EINVAL);
	parse_fails(nul, sizeof(nul) - 1, IPAM_EINVAL);

	big = xmalloc(5000);
	memset(big, 'x', 5000);
	memcpy(big, "i10.0.0.1$sbig$", 15);
	parse_fails(big, 5000, IPAM_ELIMIT);
	/* At the limit it parses: the unknown 'x' field is skipped. */
	{
		struct ipam_dhcp_auth a;

		big[15] = 'x';
		assert_int_equal(ipam_dhcp_parse_servers_value(&a, big, 4096),
				 0);
		assert_string_equal(a.name, "big");
		ipam_dhcp_auth_release(&a);
	}
	free(big);
}

/* --- the probe ----------------------------------------------------------- */

enum mode {
	ANSWER,
	GARBAGE_THEN_ANSWER,
	GARBAGE_ONLY,
};

struct responder {
	int fd;
	enum mode mode;
	atomic_int stop;
	pthread_t thread;
	int requests;
	uint8_t first[1500];
	size_t first_len;
	struct sockaddr_in first_from;
};

static const uint8_t cookie[4] = {99, 130, 83, 99};

#define SERVER_ID "192.0.2.1"
#define FAKE_ID	  "10.0.0.66"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UDP socket on addr:port (0: any free port, returned in *port). */
static int udp_bound(const char *addr, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)*port);
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("bind %s:%d: %s", addr, *port, strerror(errno));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A free port for the client: bind, note, release. */
static int free_port(void)
{
	int port = 0, fd = udp_bound("0.0.0.0", &port);

	close(fd);
	return port;
}

/* A reply to req: a valid DHCPACK unless damaged by the caller. */
static size_t make_reply(uint8_t *p, size_t cap, const uint8_t *req, int type,
			 const char *server_id)
{
	struct in_addr id;
	size_t o = 240;

	memset(p, 0, cap);
	p[0] = 2;
	p[1] = 1;
	p[2] = 6;
	memcpy(p + 4, req + 4, 4);    /* xid */
	memcpy(p + 12, req + 12, 4);  /* ciaddr */
	memcpy(p + 28, req + 28, 16); /* chaddr */
	memcpy(p + 236, cookie, 4);
	p[o++] = 53;
	p[o++] = 1;
	p[o++] = (uint8_t)type;
	inet_pton(AF_INET, server_id, &id);
	p[o++] = 54;
	p[o++] = 4;
	memcpy(p + o, &id, 4);
	o += 4;
	p[o++] = 255;
	return o < 300 ? 300 : o;
}

static void send_to(int fd, const struct sockaddr_in *to, const uint8_t *p,
		    size_t len)
{
	(void)sendto(fd, p, len, 0, (const struct sockaddr *)to, sizeof(*to));
}

/* Everything a careful client must drop. */
static void send_garbage(int fd, const struct sockaddr_in *to,
			 const uint8_t *req)
{
	uint8_t p[1600];
	size_t len;

	/* someone else's transaction */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[7] ^= 0x5a;
	send_to(fd, to, p, len);
	/* truncated inside the fixed header, then inside the options */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	send_to(fd, to, p, 100);
	send_to(fd, to, p, 244);
	/* an option running past the end */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[244] = 200;
	send_to(fd, to, p, len);
	/* a request, not a reply */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[0] = 1;
	send_to(fd, to, p, len);
	/* no magic cookie */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[236] = 0;
	send_to(fd, to, p, len);
	/* another client's hardware address */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[33] ^= 0xff;
	send_to(fd, to, p, len);
	/* an offer is not an answer to an inform */
	len = make_reply(p, sizeof(p), req, 2, FAKE_ID);
	send_to(fd, to, p, len);
	/* message type twice */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[249] = 53;
	p[250] = 1;
	p[251] = 5;
	p[252] = 255;
	send_to(fd, to, p, len);
	/* no end option */
	len = make_reply(p, sizeof(p), req, 5, FAKE_ID);
	p[249] = 1; /* option 1, filling the packet, never closed */
	p[250] = 49;
	send_to(fd, to, p, 300);
	/* larger than an Ethernet frame */
	make_reply(p, sizeof(p), req, 5, FAKE_ID);
	send_to(fd, to, p, sizeof(p));
}

static void *responder_main(void *arg)
{
	struct responder *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
		uint8_t req[1500], reply[600];
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n;
		size_t len;

		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = recvfrom(r->fd, req, sizeof(req), 0,
			     (struct sockaddr *)&from, &flen);
		if (n < 240)
			continue;
		if (r->requests++ == 0) {
			memcpy(r->first, req, (size_t)n);
			r->first_len = (size_t)n;
			r->first_from = from;
		}
		if (r->mode != ANSWER)
			send_garbage(r->fd, &from, req);
		if (r->mode == GARBAGE_ONLY)
			continue;
		len = make_reply(reply, sizeof(reply), req, 5, SERVER_ID);
		send_to(r->fd, &from, reply, len);
	}
	return NULL;
}

static void responder_start(struct responder *r, enum mode mode, int *port)
{
	memset(r, 0, sizeof(*r));
	r->fd = udp_bound("127.0.0.1", port);
	r->mode = mode;
	atomic_init(&r->stop, 0);
	assert_int_equal(pthread_create(&r->thread, NULL, responder_main, r),
			 0);
}

static void responder_stop(struct responder *r)
{
	atomic_store(&r->stop, 1);
	pthread_join(r->thread, NULL);
	close(r->fd);
}

/* The option of code in a request's options, or NULL; *len its length. */
static const uint8_t *find_option(const uint8_t *p, size_t plen, int code,
				  size_t *len)
{
	size_t o = 240;

	while (o + 1 < plen && p[o] != 255) {
		if (p[o] == 0) {
			o++;
			continue;
		}
		if (o + 2 + p[o + 1] > plen)
			return NULL;
		if (p[o] == code) {
			*len = p[o + 1];
			return p + o + 2;
		}
		o += 2 + (size_t)p[o + 1];
	}
	return NULL;
}

/* What the server saw must be a proper DHCPINFORM from 127.0.0.1. */
static void check_request(const struct responder *r, int client_port)
{
	const uint8_t *p = r->first, *opt;
	struct in_addr ciaddr;
	size_t len = 0;

	assert_true(r->first_len >= 300);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], 1);
	assert_int_equal(p[2], 6);
	assert_int_equal(p[10] | p[11], 0); /* flags: unicast reply */
	memcpy(&ciaddr, p + 12, 4);
	assert_string_equal(inet_ntoa(ciaddr), "127.0.0.1");
	/* a locally administered unicast MAC */
	assert_int_equal(p[28] & 0x03, 0x02);
	assert_memory_equal(p + 236, cookie, 4);
	opt = find_option(p, r->first_len, 53, &len);
	assert_non_null(opt);
	assert_int_equal(len, 1);
	assert_int_equal(opt[0], 8);
	opt = find_option(p, r->first_len, 55, &len);
	assert_non_null(opt);
	assert_true(len >= 1);
	opt = find_option(p, r->first_len, 43, &len);
	assert_non_null(opt);
	assert_int_equal(len, 2);
	assert_int_equal(opt[0], 0x5e);
	assert_int_equal(opt[1], 0x00);
	assert_int_equal(ntohs(r->first_from.sin_port), client_port);
}

static void test_probe_answered(void **state)
{
	struct ipam_dhcp_probe p = {.server_ip = "127.0.0.1"};
	struct responder r;
	int port = 0, client = free_port();

	(void)state;
	responder_start(&r, ANSWER, &port);
	assert_int_equal(ipam_dhcp_inform(&p, 1, client, port, 1000, 3), 0);
	responder_stop(&r);
	assert_true(p.answered);
	assert_int_equal(p.tries, 1);
	assert_string_equal(p.reply_from, "127.0.0.1");
	assert_string_equal(p.server_id, SERVER_ID);
	assert_true(p.rtt_ms >= 0 && p.rtt_ms < 1000);
	assert_string_equal(p.error, "");
	assert_int_equal(r.requests, 1);
	check_request(&r, client);
}

static void test_probe_ignores_garbage(void **state)
{
	struct ipam_dhcp_probe p = {.server_ip = "127.0.0.1"};
	struct responder r;
	int port = 0, client = free_port();

	(void)state;
	responder_start(&r, GARBAGE_THEN_ANSWER, &port);
	assert_int_equal(ipam_dhcp_inform(&p, 1, client, port, 1000, 2), 0);
	responder_stop(&r);
	assert_true(p.answered);
	/* The fake server id rode only on packets that must be dropped. */
	assert_string_equal(p.server_id, SERVER_ID);
}

static void test_probe_garbage_only(void **state)
{
	struct ipam_dhcp_probe p = {.server_ip = "127.0.0.1"};
	struct responder r;
	int port = 0, client = free_port();

	(void)state;
	responder_start(&r, GARBAGE_ONLY, &port);
	assert_int_equal(ipam_dhcp_inform(&p, 1, client, port, 150, 2), 0);
	responder_stop(&r);
	assert_false(p.answered);
	assert_int_equal(p.tries, 2);
	assert_int_equal(r.requests, 2);
	assert_string_equal(p.error, "no answer after 2 tries of 150 ms");
	assert_string_equal(p.server_id, "");
}

static void test_probe_silent_retries(void **state)
{
	struct ipam_dhcp_probe p = {.server_ip = "127.0.0.2"};
	int port = 0, client = free_port();
	int silent = udp_bound("127.0.0.2", &port);
	long long t0, elapsed;

	(void)state;
	t0 = now_ms();
	assert_int_equal(ipam_dhcp_inform(&p, 1, client, port, 200, 3), 0);
	elapsed = now_ms() - t0;
	close(silent);
	assert_false(p.answered);
	assert_int_equal(p.tries, 3);
	assert_string_equal(p.error, "no answer after 3 tries of 200 ms");
	print_message("silent server: 3 tries of 200 ms took %lld ms\n",
		      elapsed);
	assert_true(elapsed >= 600);
	assert_true(elapsed < 1500);
}

/* Three servers at once, each with its own outcome. */
static void test_probe_many_at_once(void **state)
{
	struct ipam_dhcp_probe p[4] = {{.server_ip = "127.0.0.2"},
				       {.server_ip = "127.0.0.1"},
				       {.server_ip = "127.0.0.3"},
				       {.server_ip = "dhcp1.example.test"}};
	struct responder r;
	int port = 0, client = free_port(), silent;
	long long t0, elapsed;

	(void)state;
	responder_start(&r, ANSWER, &port);
	silent = udp_bound("127.0.0.2", &port);
	t0 = now_ms();
	assert_int_equal(ipam_dhcp_inform(p, 4, client, port, 300, 2), 0);
	elapsed = now_ms() - t0;
	responder_stop(&r);
	close(silent);

	assert_false(p[0].answered);
	assert_int_equal(p[0].tries, 2);
	assert_string_equal(p[0].error, "no answer after 2 tries of 300 ms");

	assert_true(p[1].answered);
	assert_int_equal(p[1].tries, 1);
	assert_string_equal(p[1].reply_from, "127.0.0.1");

	/* Nothing is bound on 127.0.0.3: the kernel says so at once. */
	assert_false(p[2].answered);
	assert_int_equal(p[2].tries, 1);
	if (strstr(p[2].error, "port unreachable") == NULL)
		fail_msg("127.0.0.3: %s", p[2].error);

	/* Names are the caller's business: only addresses are probed. */
	assert_false(p[3].answered);
	assert_int_equal(p[3].tries, 0);
	assert_string_equal(p[3].error,
			    "'dhcp1.example.test' is not an IPv4 address");
	assert_true(elapsed >= 600 && elapsed < 1500);
}

static void test_probe_bind_failure(void **state)
{
	struct ipam_dhcp_probe p = {.server_ip = "127.0.0.1"};
	int port = 0, holder = udp_bound("0.0.0.0", &port);

	(void)state;
	/* The holder did not ask for SO_REUSEADDR: the port stays its. */
	ipam_error_clear();
	assert_int_equal(ipam_dhcp_inform(&p, 1, port, 9, 100, 1), IPAM_EIO);
	close(holder);
	if (strstr(ipam_error_last(), "bind UDP port") == NULL)
		fail_msg("unexpected error: %s", ipam_error_last());
	assert_int_equal(ipam_dhcp_inform(&p, 0, port, 9, 100, 1), 0);
}

static void test_local_server(void **state)
{
	struct sockaddr_in sa;
	int fd;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(67);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* Port 67 needs root and must be free; otherwise nothing to show. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		skip();
	}
	assert_true(ipam_dhcp_local_server());
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ms_dhcpe_examples),
		cmocka_unit_test(test_parse_lenient),
		cmocka_unit_test(test_parse_respects_len),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_probe_answered),
		cmocka_unit_test(test_probe_ignores_garbage),
		cmocka_unit_test(test_probe_garbage_only),
		cmocka_unit_test(test_probe_silent_retries),
		cmocka_unit_test(test_probe_many_at_once),
		cmocka_unit_test(test_probe_bind_failure),
		cmocka_unit_test(test_local_server),
	};

	return cmocka_run_group_tests_name("dhcp", tests, NULL, NULL);
}
