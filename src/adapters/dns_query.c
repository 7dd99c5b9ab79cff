#include "dns_query.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

#define MSG_MAX		   65535
#define UDP_MAX		   4096
#define QUERY_MAX	   (12 + 256 + 4)
#define NAME_MAX_TXT	   1025
#define DEFAULT_TIMEOUT_MS 3000

/* ---- the question --------------------------------------------------- */

int ipam_dns_query_build(unsigned char *buf, size_t cap, unsigned id,
			 const char *name, int type)
{
	size_t len = 12, wire = 1;
	const char *p = name;

	if (!name || type < 0 || type > 65535 || cap < QUERY_MAX)
		return ipam_error_set(IPAM_EINVAL, "cannot ask that question");
	memset(buf, 0, 12);
	buf[0] = (unsigned char)(id >> 8);
	buf[1] = (unsigned char)id;
	buf[5] = 1; /* QDCOUNT; flags 0: a query, RD=0 */
	if (!strcmp(p, "."))
		p++;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63 || memchr(p, '\\', l) ||
		    (wire += l + 1) > 255)
			return ipam_error_set(IPAM_EINVAL,
					      "'%s' is not a DNS name", name);
		buf[len++] = (unsigned char)l;
		memcpy(buf + len, p, l);
		len += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[len++] = 0;
	buf[len++] = (unsigned char)(type >> 8);
	buf[len++] = (unsigned char)type;
	buf[len++] = 0;
	buf[len++] = ns_c_in;
	return (int)len;
}

/* ---- the answer ----------------------------------------------------- */

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Lower case, no trailing dot ("." stays the root). */
static void normalise(char *s)
{
	size_t len = strlen(s);

	lower_ascii(s);
	if (len > 1 && s[len - 1] == '.' && s[len - 2] != '\\')
		s[len - 1] = '\0';
}

static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	if (la == 1 && a[0] == '.')
		la = 0;
	if (lb == 1 && b[0] == '.')
		lb = 0;
	return la == lb && !strncasecmp(a, b, la);
}

static int malformed(struct ipam_dns_query *q, const char *why)
{
	snprintf(q->error, sizeof(q->error), "%s", why);
	return ipam_error_set(IPAM_EIO, "DNS answer from %s: %s",
			      q->server ? q->server : "?", why);
}

/* A name inside rd..rd_end of a record of h, normalised into dst. */
static int rdata_name(const ns_msg *h, const unsigned char *rd,
		      const unsigned char *rd_end, char *dst, size_t cap,
		      const unsigned char **after)
{
	int used;

	if (rd >= rd_end)
		return -1;
	used = dn_expand(ns_msg_base(*h), ns_msg_end(*h), rd, dst, (int)cap);
	if (used < 0 || rd + used > rd_end)
		return -1;
	normalise(dst);
	if (after)
		*after = rd + used;
	return 0;
}

struct parsed {
	bool has_soa;
	uint32_t serial;
	char *mname;
	char **ns;
	size_t nr_ns, alloc_ns;
	struct ipam_addr *addrs;
	size_t nr_addrs, alloc_addrs;
};

static void parsed_release(struct parsed *p)
{
	free(p->mname);
	for (size_t i = 0; i < p->nr_ns; i++)
		free(p->ns[i]);
	free(p->ns);
	free(p->addrs);
	memset(p, 0, sizeof(*p));
}

static int take_soa(struct parsed *p, const ns_msg *h, const ns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	const unsigned char *end = rd + ns_rr_rdlen(*rr), *at;
	char mname[NAME_MAX_TXT], rname[NAME_MAX_TXT];

	if (rdata_name(h, rd, end, mname, sizeof(mname), &at) < 0 ||
	    rdata_name(h, at, end, rname, sizeof(rname), &at) < 0 ||
	    end - at != 20)
		return -1;
	if (p->has_soa)
		return 0; /* one SOA per zone; a second is ignored */
	p->has_soa = true;
	p->serial = (uint32_t)ns_get32(at);
	p->mname = xstrdup(mname);
	return 0;
}

static int take_ns(struct parsed *p, const ns_msg *h, const ns_rr *rr)
{
	const unsigned char *rd = ns_rr_rdata(*rr);
	char target[NAME_MAX_TXT];

	if (rdata_name(h, rd, rd + ns_rr_rdlen(*rr), target, sizeof(target),
		       NULL) < 0)
		return -1;
	ALLOC_GROW(p->ns, p->nr_ns + 1, p->alloc_ns);
	p->ns[p->nr_ns++] = xstrdup(target);
	return 0;
}

static int take_addr(struct parsed *p, const ns_rr *rr, int family)
{
	size_t want = family == AF_INET ? 4 : 16;
	struct ipam_addr *a;

	if (ns_rr_rdlen(*rr) != want)
		return -1;
	ALLOC_GROW(p->addrs, p->nr_addrs + 1, p->alloc_addrs);
	a = &p->addrs[p->nr_addrs++];
	a->family = family;
	if (!inet_ntop(family, ns_rr_rdata(*rr), a->text, sizeof(a->text)))
		return -1;
	return 0;
}

/* The answer section's records for the question's name. */
static int parse_answers(struct parsed *p, ns_msg *h, const char *qname)
{
	int count = ns_msg_count(*h, ns_s_an);

	for (int i = 0; i < count; i++) {
		ns_rr rr;
		int rc = 0;

		if (ns_parserr(h, ns_s_an, i, &rr) < 0)
			return -1;
		if (ns_rr_class(rr) != ns_c_in ||
		    !same_name(ns_rr_name(rr), qname))
			continue;
		switch (ns_rr_type(rr)) {
		case ns_t_soa:
			rc = take_soa(p, h, &rr);
			break;
		case ns_t_ns:
			rc = take_ns(p, h, &rr);
			break;
		case ns_t_a:
			rc = take_addr(p, &rr, AF_INET);
			break;
		case ns_t_aaaa:
			rc = take_addr(p, &rr, AF_INET6);
			break;
		default:
			break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ipam_dns_query_parse(struct ipam_dns_query *q, const unsigned char *msg,
			 size_t len, unsigned id)
{
	struct parsed p = {0};
	ns_msg h;
	ns_rr qd;

	if (len < 12 || len > MSG_MAX || ns_initparse(msg, (int)len, &h) < 0)
		return malformed(q, "malformed DNS message");
	if (ns_msg_id(h) != (id & 0xffff) || !ns_msg_getflag(h, ns_f_qr))
		return malformed(q, "not the answer to our question");
	if (ns_msg_count(h, ns_s_qd) != 1 ||
	    ns_parserr(&h, ns_s_qd, 0, &qd) < 0 ||
	    (int)ns_rr_type(qd) != q->type || ns_rr_class(qd) != ns_c_in ||
	    !same_name(ns_rr_name(qd), q->name))
		return malformed(q, "the answer is for another question");
	if (parse_answers(&p, &h, q->name) < 0) {
		parsed_release(&p);
		return malformed(q, "malformed record in the answer");
	}
	ipam_dns_query_release(q);
	q->answered = true;
	q->rcode = ns_msg_getflag(h, ns_f_rcode);
	q->aa = ns_msg_getflag(h, ns_f_aa) != 0;
	q->has_soa = p.has_soa;
	q->serial = p.serial;
	q->soa_mname = p.mname;
	if (p.nr_ns)
		qsort(p.ns, p.nr_ns, sizeof(*p.ns), names_cmp);
	q->ns = p.ns;
	q->nr_ns = p.nr_ns;
	q->addrs = p.addrs;
	q->nr_addrs = p.nr_addrs;
	q->error[0] = '\0';
	return 0;
}

void ipam_dns_query_release(struct ipam_dns_query *q)
{
	free(q->soa_mname);
	for (size_t i = 0; i < q->nr_ns; i++)
		free(q->ns[i]);
	free(q->ns);
	free(q->addrs);
	q->soa_mname = NULL;
	q->ns = NULL;
	q->nr_ns = 0;
	q->addrs = NULL;
	q->nr_addrs = 0;
	q->has_soa = false;
	q->answered = false;
}

const char *ipam_dns_query_rcode_name(int rcode, char buf[16])
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
		"NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
		"NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, 16, "RCODE%d", rcode);
	return buf;
}

/* ---- the transports ------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timeout_text(struct ipam_dns_query *q, int ms)
{
	if (ms % 1000 == 0)
		snprintf(q->error, sizeof(q->error), "no answer within %d s",
			 ms / 1000);
	else
		snprintf(q->error, sizeof(q->error), "no answer within %d ms",
			 ms);
}

static void errno_text(struct ipam_dns_query *q, int e)
{
	if (e == ECONNREFUSED)
		snprintf(q->error, sizeof(q->error),
			 "connection refused (nothing listens on port %d)",
			 q->port);
	else
		snprintf(q->error, sizeof(q->error), "%s", strerror(e));
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		long long left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc > 0 ? 1 : rc;
	}
}

static int open_connected(struct ipam_dns_query *q,
			  const struct sockaddr_storage *sa, socklen_t salen,
			  int type)
{
	int fd = socket(sa->ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		errno_text(q, errno);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sa, salen) < 0 &&
	    errno != EINPROGRESS) {
		errno_text(q, errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 answered, 2 truncated (ask over TCP), 0 no answer (q->error). */
static int ask_udp(struct ipam_dns_query *q, const struct sockaddr_storage *sa,
		   socklen_t salen, const unsigned char *query, int qlen,
		   unsigned id, long long deadline)
{
	static __thread unsigned char buf[UDP_MAX];
	int fd = open_connected(q, sa, salen, SOCK_DGRAM), rc = 0;

	if (fd < 0)
		return 0;
	if (send(fd, query, (size_t)qlen, 0) < 0) {
		errno_text(q, errno);
		close(fd);
		return 0;
	}
	for (;;) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			timeout_text(q, q->timeout_ms);
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			errno_text(q, errno);
			break;
		}
		/* A truncated answer to our id: the rest comes over TCP. */
		if (n >= 12 && (unsigned)(buf[0] << 8 | buf[1]) == id &&
		    (buf[2] & 0x80) && (buf[2] & 0x02)) {
			rc = 2;
			break;
		}
		if (ipam_dns_query_parse(q, buf, (size_t)n, id) == 0) {
			rc = 1;
			break;
		}
		/* not ours, or garbage: wait on for the real answer */
	}
	close(fd);
	return rc;
}

static int io_all(struct ipam_dns_query *q, int fd, unsigned char *buf,
		  size_t len, bool out, long long deadline)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (wait_fd(fd, out ? POLLOUT : POLLIN, deadline) <= 0) {
			timeout_text(q, q->timeout_ms);
			return -1;
		}
		n = out ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
			: recv(fd, buf + done, len - done, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			errno_text(q, errno);
			return -1;
		}
		if (n == 0) {
			snprintf(q->error, sizeof(q->error),
				 "the server closed the TCP connection");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/* 1 answered, 0 no answer (q->error). */
static int ask_tcp(struct ipam_dns_query *q, const struct sockaddr_storage *sa,
		   socklen_t salen, const unsigned char *query, int qlen,
		   unsigned id, long long deadline)
{
	unsigned char out[2 + QUERY_MAX], lenbuf[2], *msg = NULL;
	int fd = open_connected(q, sa, salen, SOCK_STREAM), rc = 0, err = 0;
	socklen_t elen = sizeof(err);
	size_t mlen;

	if (fd < 0)
		return 0;
	if (wait_fd(fd, POLLOUT, deadline) <= 0) {
		timeout_text(q, q->timeout_ms);
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
		errno_text(q, err ? err : errno);
		goto out;
	}
	out[0] = (unsigned char)(qlen >> 8);
	out[1] = (unsigned char)qlen;
	memcpy(out + 2, query, (size_t)qlen);
	if (io_all(q, fd, out, (size_t)qlen + 2, true, deadline) < 0 ||
	    io_all(q, fd, lenbuf, 2, false, deadline) < 0)
		goto out;
	mlen = (size_t)lenbuf[0] << 8 | lenbuf[1];
	msg = xmalloc(mlen ? mlen : 1);
	if (io_all(q, fd, msg, mlen, false, deadline) < 0)
		goto out;
	if (ipam_dns_query_parse(q, msg, mlen, id) == 0)
		rc = 1;
out:
	free(msg);
	close(fd);
	return rc;
}

static int server_addr(struct sockaddr_storage *sa, socklen_t *len,
		       const char *server, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (server && inet_pton(AF_INET, server, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*len = sizeof(*in);
		return 0;
	}
	if (server && inet_pton(AF_INET6, server, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return ipam_error_set(IPAM_EINVAL, "'%s' is not an IP address",
			      server ? server : "");
}

int ipam_dns_query_ask(struct ipam_dns_query *q)
{
	unsigned char query[QUERY_MAX];
	struct sockaddr_storage sa;
	socklen_t salen = 0;
	uint16_t id16;
	long long t0;
	int qlen, rc;

	ipam_dns_query_release(q);
	q->tcp = false;
	q->rcode = 0;
	q->aa = false;
	q->rtt_ms = 0;
	q->error[0] = '\0';
	if (q->port <= 0 || q->port > 65535)
		q->port = IPAM_DNS_QUERY_PORT;
	if (q->timeout_ms <= 0)
		q->timeout_ms = DEFAULT_TIMEOUT_MS;
	if (server_addr(&sa, &salen, q->server, q->port))
		return IPAM_EINVAL;
	if (getrandom(&id16, sizeof(id16), 0) != sizeof(id16))
		id16 = (uint16_t)(now_ms() ^ getpid());
	qlen = ipam_dns_query_build(query, sizeof(query), id16, q->name,
				    q->type);
	if (qlen < 0)
		return qlen;
	t0 = now_ms();
	rc = ask_udp(q, &sa, salen, query, qlen, id16, t0 + q->timeout_ms);
	if (rc == 2) {
		q->tcp = true;
		rc = ask_tcp(q, &sa, salen, query, qlen, id16,
			     now_ms() + q->timeout_ms);
	}
	q->rtt_ms = (int)(now_ms() - t0);
	if (rc != 1)
		ipam_dns_query_release(q);
	return 0;
}
