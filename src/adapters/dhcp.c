#include "dhcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/* A dhcpServers value is a few hundred bytes at most in practice. */
#define SERVERS_VALUE_MAX 4096
#define NAME_MAX_LEN	  255

#define BOOTP_FIXED   236 /* op .. file, before the magic cookie */
#define BOOTP_OPTIONS (BOOTP_FIXED + 4)
#define BOOTP_MIN_LEN 300 /* RFC 1542: some relays drop shorter requests */
#define REPLY_MAX     1500

enum {
	OPT_PAD = 0,
	OPT_VENDOR = 43,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAM_LIST = 55,
	OPT_END = 255,
};

enum { DHCPACK = 5, DHCPNAK = 6, DHCPINFORM = 8 };

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};
/* Locally administered and unicast: never a real interface's address. */
static const uint8_t probe_mac[6] = {0x02, 0x49, 0x50, 0x41, 0x4d, 0x01};

/* The field after its type letter, as a string; NULL if empty. */
static char *field_dup(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_MAX_LEN)
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return NULL;
	return xstrndup(p, len);
}

static void set_once(char **dst, char *v)
{
	if (*dst == NULL)
		*dst = v;
	else
		free(v);
}

int ipam_dhcp_parse_servers_value(struct ipam_dhcp_auth *out, const char *value,
				  size_t len)
{
	const char *p = value, *end = value + len;
	struct in_addr a;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (len > SERVERS_VALUE_MAX) {
		err = ipam_error_set(IPAM_ELIMIT,
				     "dhcpServers value of %zu bytes is over "
				     "the %d-byte limit",
				     len, SERVERS_VALUE_MAX);
		goto out;
	}
	if (len && memchr(value, '\0', len)) {
		err = ipam_error_set(IPAM_EINVAL,
				     "dhcpServers value holds a NUL byte");
		goto out;
	}
	while (p < end) {
		const char *f = p, *q = memchr(p, '$', (size_t)(end - p));
		size_t flen;

		if (q == NULL)
			q = end;
		flen = (size_t)(q - f);
		p = q < end ? q + 1 : end;
		if (flen < 2)
			continue;
		switch (f[0]) {
		case 'i':
			set_once(&out->ip, field_dup(f + 1, flen - 1));
			break;
		case 'r':
			/* The RDN comes as "cn=<value>": keep the value. */
			if (flen > 4 && strncasecmp(f + 1, "cn=", 3) == 0)
				set_once(&out->rdn, field_dup(f + 4, flen - 4));
			else
				set_once(&out->rdn, field_dup(f + 1, flen - 1));
			break;
		case 's':
			set_once(&out->name, field_dup(f + 1, flen - 1));
			break;
		default:
			/* 'f' (flags) and letters of later versions. */
			break;
		}
	}
	if (out->ip && inet_pton(AF_INET, out->ip, &a) != 1) {
		free(out->ip);
		out->ip = NULL;
	}
	if (out->name) {
		char *c;

		for (c = out->name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	if (out->name == NULL &&
	    (out->ip == NULL || strcmp(out->ip, "255.0.0.1") == 0)) {
		err = ipam_error_set(IPAM_EINVAL,
				     "dhcpServers value '%.*s' names no server "
				     "and no address",
				     (int)(len > 80 ? 80 : len), value);
		goto out;
	}
out:
	if (err)
		ipam_dhcp_auth_release(out);
	return err;
}

void ipam_dhcp_auth_release(struct ipam_dhcp_auth *a)
{
	if (a == NULL)
		return;
	free(a->ip);
	free(a->rdn);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

/* Per-probe state of one ipam_dhcp_inform call. */
struct probe_state {
	struct ipam_dhcp_probe *p;
	struct sockaddr_in to;
	struct in_addr ciaddr;
	uint32_t xid;
	long long sent_ms;
	int done;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The source address the kernel picks towards server (connect, no send). */
static int local_addr_for(const struct sockaddr_in *server,
			  struct in_addr *local)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)server, sizeof(*server)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		err = -errno;
	else
		*local = sa.sin_addr;
	close(fd);
	return err;
}

static size_t build_inform(uint8_t *pkt, size_t cap, uint32_t xid,
			   struct in_addr ciaddr)
{
	static const uint8_t tail[] = {
		OPT_MSG_TYPE, 1, DHCPINFORM,
		/* subnet mask, router, domain name, DNS servers */
		OPT_PARAM_LIST, 4, 1, 3, 15, 6,
		/* rogue detection request (sub-option 94), as Windows asks */
		OPT_VENDOR, 2, 0x5e, 0x00, OPT_END};
	uint32_t nxid = htonl(xid);

	memset(pkt, 0, cap);
	pkt[0] = 1; /* BOOTREQUEST */
	pkt[1] = 1; /* Ethernet */
	pkt[2] = 6;
	memcpy(pkt + 4, &nxid, 4);
	memcpy(pkt + 12, &ciaddr, 4);
	memcpy(pkt + 28, probe_mac, sizeof(probe_mac));
	memcpy(pkt + BOOTP_FIXED, magic_cookie, 4);
	memcpy(pkt + BOOTP_OPTIONS, tail, sizeof(tail));
	return BOOTP_MIN_LEN;
}

static int xid_cmp(const void *a, const void *b)
{
	const struct probe_state *x = *(const struct probe_state *const *)a;
	const struct probe_state *y = *(const struct probe_state *const *)b;

	return (x->xid > y->xid) - (x->xid < y->xid);
}

static int xid_key_cmp(const void *key, const void *elem)
{
	uint32_t k = *(const uint32_t *)key;
	const struct probe_state *y = *(const struct probe_state *const *)elem;

	return (k > y->xid) - (k < y->xid);
}

/*
 * Distinct random transaction ids, and an index sorted by them so that a
 * reply finds its probe in O(log n).
 */
static int assign_xids(struct probe_state *ps, struct probe_state **by_xid,
		       size_t n)
{
	size_t i, dup;

	do {
		for (i = 0; i < n; i++) {
			if (getrandom(&ps[i].xid, sizeof(ps[i].xid), 0) !=
			    (ssize_t)sizeof(ps[i].xid))
				return ipam_error_set(IPAM_EIO,
						      "dhcp probe: getrandom: "
						      "%s",
						      strerror(errno));
			by_xid[i] = &ps[i];
		}
		qsort(by_xid, n, sizeof(*by_xid), xid_cmp);
		for (dup = 0, i = 1; i < n; i++)
			if (by_xid[i - 1]->xid == by_xid[i]->xid)
				dup = 1;
	} while (dup);
	return 0;
}

static void probe_fail(struct probe_state *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void probe_fail(struct probe_state *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->p->error, sizeof(s->p->error), fmt, ap);
	va_end(ap);
	s->done = 1;
}

int ipam_dhcp_parse_reply(const uint8_t *pkt, size_t len, uint32_t *xid,
			  struct in_addr *server_id)
{
	size_t o = BOOTP_OPTIONS;
	int type = 0, ended = 0;
	uint32_t nxid;

	server_id->s_addr = 0;
	if (len < BOOTP_OPTIONS || len > REPLY_MAX || pkt[0] != 2 ||
	    memcmp(pkt + 28, probe_mac, sizeof(probe_mac)) != 0 ||
	    memcmp(pkt + BOOTP_FIXED, magic_cookie, 4) != 0)
		return 0;
	memcpy(&nxid, pkt + 4, 4);
	*xid = ntohl(nxid);
	while (o < len) {
		uint8_t code = pkt[o], olen;

		if (code == OPT_PAD) {
			o++;
			continue;
		}
		if (code == OPT_END) {
			ended = 1;
			break;
		}
		if (o + 2 > len)
			return 0;
		olen = pkt[o + 1];
		if (o + 2 + olen > len)
			return 0;
		if (code == OPT_MSG_TYPE) {
			if (olen != 1 || type)
				return 0;
			type = pkt[o + 2];
		} else if (code == OPT_SERVER_ID && olen == 4) {
			memcpy(server_id, pkt + o + 2, 4);
		}
		o += 2 + (size_t)olen;
	}
	return ended ? type : 0;
}

static void handle_reply(struct probe_state **by_xid, size_t n,
			 const uint8_t *pkt, size_t len,
			 const struct sockaddr_in *from)
{
	struct probe_state **hit, *s;
	struct in_addr server_id;
	char addr[INET_ADDRSTRLEN];
	uint32_t xid = 0;
	int type;

	type = ipam_dhcp_parse_reply(pkt, len, &xid, &server_id);
	if (type != DHCPACK && type != DHCPNAK)
		return;
	hit = bsearch(&xid, by_xid, n, sizeof(*by_xid), xid_key_cmp);
	if (hit == NULL || (*hit)->done)
		return;
	s = *hit;
	inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
	if (type == DHCPNAK) {
		probe_fail(s, "answered DHCPNAK from %s", addr);
		return;
	}
	s->done = 1;
	s->p->answered = 1;
	s->p->error[0] = '\0';
	s->p->rtt_ms = (int)(now_ms() - s->sent_ms);
	snprintf(s->p->reply_from, sizeof(s->p->reply_from), "%s", addr);
	if (server_id.s_addr)
		inet_ntop(AF_INET, &server_id, s->p->server_id,
			  sizeof(s->p->server_id));
}

static const char *icmp_reason(const struct sock_extended_err *ee)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP && ee->ee_type == 3) {
		switch (ee->ee_code) {
		case 0:
			return "network unreachable";
		case 1:
			return "host unreachable";
		case 3:
			return "port unreachable";
		case 9:
		case 10:
		case 13:
			return "administratively prohibited";
		default:
			return "destination unreachable";
		}
	}
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP && ee->ee_type == 11)
		return "time exceeded";
	return NULL;
}

/*
 * Drain the ICMP errors IP_RECVERR queued on the socket and pin each on
 * the probes sent to the datagram's original destination: with one
 * unconnected socket for every server, that is the only way to learn that
 * a host is up but nothing listens on its DHCP port.
 */
static void drain_errors(int fd, struct probe_state *ps, size_t n)
{
	int guard;

	for (guard = 0; guard < 1024; guard++) {
		union {
			char buf[512];
			struct cmsghdr align;
		} cbuf;
		uint8_t data[64];
		struct sockaddr_in dest;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr msg = {.msg_name = &dest,
				     .msg_namelen = sizeof(dest),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf.buf,
				     .msg_controllen = sizeof(cbuf.buf)};
		struct cmsghdr *cm;

		memset(&dest, 0, sizeof(dest));
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err ee;
			struct sockaddr_in off;
			char from[INET_ADDRSTRLEN], why[64];
			const char *reason;
			size_t i;

			if (cm->cmsg_level != IPPROTO_IP ||
			    cm->cmsg_type != IP_RECVERR ||
			    cm->cmsg_len < CMSG_LEN(sizeof(ee) + sizeof(off)))
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			/* SO_EE_OFFENDER: the sockaddr right after ee. */
			memcpy(&off, CMSG_DATA(cm) + sizeof(ee), sizeof(off));
			reason = icmp_reason(&ee);
			if (reason == NULL || dest.sin_family != AF_INET)
				continue;
			inet_ntop(AF_INET, &off.sin_addr, from, sizeof(from));
			snprintf(why, sizeof(why), "%s (ICMP from %s)", reason,
				 from);
			for (i = 0; i < n; i++)
				if (!ps[i].done && ps[i].p->tries > 0 &&
				    ps[i].to.sin_addr.s_addr ==
					    dest.sin_addr.s_addr &&
				    ps[i].to.sin_port == dest.sin_port)
					probe_fail(&ps[i], "%s", why);
		}
	}
}

/* Read every datagram waiting; a malformed one is dropped unread. */
static void drain_replies(int fd, struct probe_state *ps,
			  struct probe_state **by_xid, size_t n)
{
	uint8_t pkt[REPLY_MAX + 1];
	int guard;

	for (guard = 0; guard < 1024; guard++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t got;

		got = recvfrom(fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC,
			       (struct sockaddr *)&from, &flen);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* A pending ICMP error surfaces here too. */
			drain_errors(fd, ps, n);
			continue;
		}
		if (got > REPLY_MAX || flen != sizeof(from) ||
		    from.sin_family != AF_INET)
			continue;
		handle_reply(by_xid, n, pkt, (size_t)got, &from);
	}
}

static size_t count_pending(const struct probe_state *ps, size_t n)
{
	size_t i, pending = 0;

	for (i = 0; i < n; i++)
		pending += !ps[i].done;
	return pending;
}

/* Send, letting an ICMP error of another probe pending on the socket
 * surface and be recorded instead of failing this send. */
static void send_one(int fd, struct probe_state *ps, size_t n,
		     struct probe_state *s)
{
	uint8_t pkt[BOOTP_MIN_LEN];
	size_t len = build_inform(pkt, sizeof(pkt), s->xid, s->ciaddr);
	int attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		if (sendto(fd, pkt, len, 0, (const struct sockaddr *)&s->to,
			   sizeof(s->to)) == (ssize_t)len) {
			s->p->tries++;
			s->sent_ms = now_ms();
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != ECONNREFUSED && errno != EHOSTUNREACH &&
		    errno != ENETUNREACH && errno != EHOSTDOWN)
			break;
		drain_errors(fd, ps, n);
		if (s->done)
			return;
	}
	probe_fail(s, "send: %s", strerror(errno));
}

static int open_socket(int *out, int client_port)
{
	struct sockaddr_in me;
	int fd, one = 1;

	*out = -1;
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_port = htons((uint16_t)client_port);
	me.sin_addr.s_addr = htonl(INADDR_ANY);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "dhcp probe: socket: %s",
				      strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		int e = errno;

		close(fd);
		return ipam_error_set(IPAM_EIO,
				      "dhcp probe: bind UDP port %d: %s",
				      client_port, strerror(e));
	}
	*out = fd;
	return 0;
}

/* Fill in the destination and ciaddr; a probe that cannot go is done. */
static void prepare(struct probe_state *s, struct ipam_dhcp_probe *p,
		    int server_port)
{
	int e;

	s->p = p;
	p->answered = 0;
	p->tries = 0;
	p->rtt_ms = 0;
	p->reply_from[0] = '\0';
	p->server_id[0] = '\0';
	p->error[0] = '\0';
	s->to.sin_family = AF_INET;
	s->to.sin_port = htons((uint16_t)server_port);
	if (p->server_ip == NULL ||
	    inet_pton(AF_INET, p->server_ip, &s->to.sin_addr) != 1) {
		probe_fail(s, "'%s' is not an IPv4 address",
			   p->server_ip ? p->server_ip : "");
		return;
	}
	e = local_addr_for(&s->to, &s->ciaddr);
	if (e < 0)
		probe_fail(s, "no route: %s", strerror(-e));
}

int ipam_dhcp_inform(struct ipam_dhcp_probe *probes, size_t n, int client_port,
		     int server_port, int timeout_ms, int tries)
{
	struct probe_state *ps = NULL, **by_xid = NULL;
	size_t i;
	int fd = -1, err = 0, t;

	if (n == 0)
		goto out;
	if (client_port < 1 || client_port > 65535 || server_port < 1 ||
	    server_port > 65535) {
		err = ipam_error_set(IPAM_EINVAL, "dhcp probe: invalid port");
		goto out;
	}
	if (timeout_ms < 1)
		timeout_ms = 1;
	if (tries < 1)
		tries = 1;
	ps = xcalloc(n, sizeof(*ps));
	by_xid = xcalloc(n, sizeof(*by_xid));
	for (i = 0; i < n; i++)
		prepare(&ps[i], &probes[i], server_port);
	err = assign_xids(ps, by_xid, n);
	if (err)
		goto out;
	err = open_socket(&fd, client_port);
	if (err)
		goto out;
	for (t = 0; t < tries && count_pending(ps, n); t++) {
		long long deadline;

		drain_errors(fd, ps, n);
		for (i = 0; i < n; i++)
			if (!ps[i].done)
				send_one(fd, ps, n, &ps[i]);
		deadline = now_ms() + timeout_ms;
		while (count_pending(ps, n)) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			long long left = deadline - now_ms();
			int r;

			if (left <= 0)
				break;
			r = poll(&pfd, 1, (int)left);
			if (r < 0 && errno != EINTR) {
				err = ipam_error_set(IPAM_EIO,
						     "dhcp probe: poll: %s",
						     strerror(errno));
				goto out;
			}
			if (r <= 0)
				continue;
			if (pfd.revents & POLLERR)
				drain_errors(fd, ps, n);
			if (pfd.revents & POLLIN)
				drain_replies(fd, ps, by_xid, n);
		}
	}
	for (i = 0; i < n; i++)
		if (!ps[i].done)
			snprintf(ps[i].p->error, sizeof(ps[i].p->error),
				 "no answer after %d %s of %d ms",
				 ps[i].p->tries,
				 ps[i].p->tries == 1 ? "try" : "tries",
				 timeout_ms);
out:
	if (fd >= 0)
		close(fd);
	free(by_xid);
	free(ps);
	return err;
}

/* Is any socket in a /proc/net/udp{,6} table bound to local port 67? */
static int table_has_port67(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int found = 0, first = 1;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char local[128];
		const char *colon;

		/* The header line, then "sl: local rem st ..." rows. */
		if (first) {
			first = 0;
			continue;
		}
		if (sscanf(line, "%*s %127s", local) != 1)
			continue;
		colon = strrchr(local, ':');
		if (colon && strcmp(colon + 1, "0043") == 0) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

int ipam_dhcp_local_server(void)
{
	return table_has_port67("/proc/net/udp") ||
	       table_has_port67("/proc/net/udp6");
}
