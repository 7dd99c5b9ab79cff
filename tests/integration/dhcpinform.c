/*
 * lab-dhcpinform: send one DHCPINFORM to a DHCP server and wait for its
 * DHCPACK, the way IPAM checks that an authorized server is live.
 *
 *   lab-dhcpinform [-t timeout_ms] [-c ciaddr] [-r] server
 *
 * server is an IPv4 address or a host name.  The request goes from UDP 68
 * (needs root or CAP_NET_BIND_SERVICE) to the server's UDP 67 with ciaddr
 * set (default: the address the kernel would send from) and option 53 = 8;
 * -r adds option 43 with the rogue-detection sub-option 94 (5E 00).
 *
 * Exit status: 0 DHCPACK received, 1 no answer (timeout, or an ICMP port
 * unreachable from the server: a live host without a DHCP server), 3
 * DHCPNAK received, 2 usage or system error.  One line on stdout says what
 * happened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BOOTP_MIN_LEN	 300
#define DHCP_FIXED_LEN	 236 /* op .. file, before the magic cookie */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

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

static void usage(void)
{
	fprintf(stderr, "usage: lab-dhcpinform [-t timeout_ms] [-c ciaddr] "
			"[-r] server\n");
	exit(2);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int resolve(const char *name, struct in_addr *addr)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_DGRAM};
	struct addrinfo *ai;
	int r;

	if (inet_pton(AF_INET, name, addr) == 1)
		return 0;
	r = getaddrinfo(name, NULL, &hints, &ai);
	if (r != 0) {
		fprintf(stderr, "lab-dhcpinform: resolve '%s': %s\n", name,
			gai_strerror(r));
		return -1;
	}
	*addr = ((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;
	freeaddrinfo(ai);
	return 0;
}

/* The source address the kernel picks for the server (connect, no send). */
static int local_addr_for(struct in_addr server, struct in_addr *local)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(DHCP_SERVER_PORT),
				 .sin_addr = server};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	*local = sa.sin_addr;
	return 0;
}

static size_t build_inform(uint8_t *p, size_t cap, uint32_t xid,
			   struct in_addr ciaddr, int rogue)
{
	size_t o = DHCP_FIXED_LEN;

	memset(p, 0, cap);
	p[0] = 1; /* BOOTREQUEST */
	p[1] = 1; /* Ethernet */
	p[2] = 6;
	memcpy(p + 4, &xid, 4); /* opaque to the server: any byte order */
	memcpy(p + 12, &ciaddr, 4);
	/* chaddr: a locally administered MAC derived from the xid. */
	p[28] = 0x02;
	memcpy(p + 30, &xid, 4);
	memcpy(p + o, magic_cookie, 4);
	o += 4;
	p[o++] = OPT_MSG_TYPE;
	p[o++] = 1;
	p[o++] = DHCPINFORM;
	p[o++] = OPT_PARAM_LIST;
	p[o++] = 3;
	p[o++] = 1;  /* subnet mask */
	p[o++] = 3;  /* router */
	p[o++] = 15; /* domain name */
	if (rogue) {
		p[o++] = OPT_VENDOR;
		p[o++] = 2;
		p[o++] = 94; /* rogue detection request */
		p[o++] = 0;
	}
	p[o++] = OPT_END;
	return o < BOOTP_MIN_LEN ? BOOTP_MIN_LEN : o;
}

/*
 * An ICMP error queued for the socket (IP_RECVERR): true when it is "port
 * unreachable" from the server, i.e. the host is up and nothing serves 67.
 */
static int port_unreachable(int fd, struct in_addr server)
{
	char cbuf[512];
	uint8_t data[64];
	struct sockaddr_in offender;
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr msg = {.msg_name = &offender,
			     .msg_namelen = sizeof(offender),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm;

	if (recvmsg(fd, &msg, MSG_ERRQUEUE) < 0)
		return 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		struct sock_extended_err ee;
		struct sockaddr_in from;

		if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_RECVERR)
			continue;
		memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
		if (ee.ee_origin != SO_EE_ORIGIN_ICMP || ee.ee_type != 3 ||
		    ee.ee_code != 3)
			continue;
		memcpy(&from,
		       SO_EE_OFFENDER((struct sock_extended_err *)(void *)
					      CMSG_DATA(cm)),
		       sizeof(from));
		if (from.sin_addr.s_addr == server.s_addr)
			return 1;
	}
	return 0;
}

/* Message type of a BOOTREPLY to xid (0 if none); *server_id if given. */
static int parse_reply(const uint8_t *p, size_t len, uint32_t xid,
		       struct in_addr *server_id)
{
	size_t o = DHCP_FIXED_LEN + 4;
	int type = 0;

	if (len < o || p[0] != 2 || memcmp(p + 4, &xid, 4) != 0 ||
	    memcmp(p + DHCP_FIXED_LEN, magic_cookie, 4) != 0)
		return 0;
	while (o < len && p[o] != OPT_END) {
		uint8_t code = p[o], olen;

		if (code == OPT_PAD) {
			o++;
			continue;
		}
		if (o + 2 > len)
			break;
		olen = p[o + 1];
		if (o + 2 + olen > len)
			break;
		if (code == OPT_MSG_TYPE && olen == 1)
			type = p[o + 2];
		if (code == OPT_SERVER_ID && olen == 4)
			memcpy(server_id, p + o + 2, 4);
		o += 2 + (size_t)olen;
	}
	return type;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(DHCP_SERVER_PORT)};
	struct sockaddr_in me = {.sin_family = AF_INET,
				 .sin_port = htons(DHCP_CLIENT_PORT),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	struct in_addr ciaddr = {0}, server_id = {0};
	const char *server, *ciaddr_arg = NULL;
	uint8_t pkt[576], reply[1500];
	int timeout_ms = 3000, rogue = 0, one = 1, fd, c;
	char sbuf[INET_ADDRSTRLEN], ibuf[INET_ADDRSTRLEN];
	long long deadline;
	uint32_t xid;
	size_t len;

	while ((c = getopt(argc, argv, "t:c:r")) != -1) {
		switch (c) {
		case 't':
			timeout_ms = atoi(optarg);
			if (timeout_ms <= 0)
				usage();
			break;
		case 'c':
			ciaddr_arg = optarg;
			break;
		case 'r':
			rogue = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	server = argv[optind];
	if (resolve(server, &to.sin_addr) < 0)
		return 2;
	if (ciaddr_arg != NULL) {
		if (inet_pton(AF_INET, ciaddr_arg, &ciaddr) != 1)
			usage();
	} else if (local_addr_for(to.sin_addr, &ciaddr) < 0) {
		fprintf(stderr, "lab-dhcpinform: no route to %s: %s\n", server,
			strerror(errno));
		return 2;
	}
	if (getrandom(&xid, sizeof(xid), 0) != (ssize_t)sizeof(xid)) {
		fprintf(stderr, "lab-dhcpinform: getrandom: %s\n",
			strerror(errno));
		return 2;
	}

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "lab-dhcpinform: bind UDP %d: %s\n",
			DHCP_CLIENT_PORT, strerror(errno));
		return 2;
	}
	len = build_inform(pkt, sizeof(pkt), xid, ciaddr, rogue);
	inet_ntop(AF_INET, &to.sin_addr, sbuf, sizeof(sbuf));
	inet_ntop(AF_INET, &ciaddr, ibuf, sizeof(ibuf));
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		/* An unreachable server is "no answer", as for IPAM. */
		printf("no answer from %s (%s): send: %s\n", server, sbuf,
		       strerror(errno));
		return 1;
	}

	deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		long long left = deadline - now_ms();
		ssize_t n;
		int type;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		if (pfd.revents & POLLERR) {
			if (port_unreachable(fd, to.sin_addr)) {
				printf("no answer from %s (%s): port "
				       "unreachable (ciaddr %s)\n",
				       server, sbuf, ibuf);
				close(fd);
				return 1;
			}
			continue;
		}
		n = recvfrom(fd, reply, sizeof(reply), 0,
			     (struct sockaddr *)&from, &flen);
		if (n <= 0)
			continue;
		type = parse_reply(reply, (size_t)n, xid, &server_id);
		if (type == DHCPACK || type == DHCPNAK) {
			char fbuf[INET_ADDRSTRLEN], idbuf[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &from.sin_addr, fbuf, sizeof(fbuf));
			inet_ntop(AF_INET, &server_id, idbuf, sizeof(idbuf));
			printf("%s from %s (asked %s, ciaddr %s, "
			       "server-id %s)\n",
			       type == DHCPACK ? "DHCPACK" : "DHCPNAK", fbuf,
			       sbuf, ibuf, idbuf);
			close(fd);
			return type == DHCPACK ? 0 : 3;
		}
	}
	printf("no answer from %s (%s) within %d ms (ciaddr %s)\n", server,
	       sbuf, timeout_ms, ibuf);
	close(fd);
	return 1;
}
