#include "ipnet.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "banned.h"

static const char *const bad_text[] = {
	[IPAM_IP_OK] = "valid",
	[IPAM_IP_BAD_SYNTAX] = "not an IP address",
	[IPAM_IP_BAD_LENGTH] = "prefix length out of range",
	[IPAM_IP_BAD_HOST_BITS] = "host bits set after the prefix length",
	[IPAM_IP_BAD_FAMILY] = "start and end of different address families",
	[IPAM_IP_BAD_ORDER] = "start after end",
};

const char *ipam_ip_bad_text(enum ipam_ip_bad why)
{
	return why <= IPAM_IP_BAD_ORDER ? bad_text[why] : "?";
}

static size_t ip_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int ipam_ip_bits(const struct ipam_ip *ip)
{
	return (int)ip_len(ip->family) * 8;
}

enum ipam_ip_bad ipam_ip_parse(struct ipam_ip *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	/* inet_pton takes only dotted quads without leading zeros for
	 * IPv4 and no zone ids for IPv6: what an address space is written
	 * in. */
	if (inet_pton(AF_INET, s, out->b) == 1) {
		out->family = AF_INET;
		return IPAM_IP_OK;
	}
	if (inet_pton(AF_INET6, s, out->b) == 1) {
		out->family = AF_INET6;
		return IPAM_IP_OK;
	}
	memset(out, 0, sizeof(*out));
	return IPAM_IP_BAD_SYNTAX;
}

/*
 * RFC 5952: lower-case hex without leading zeros, the longest run of two
 * or more zero fields (the first of equals) as "::", and dotted IPv4 only
 * for IPv4-mapped addresses (::ffff:192.0.2.1); libc would also print the
 * deprecated IPv4-compatible form (::192.0.2.1) for ::/96.
 */
static void format_v6(struct strbuf *out, const unsigned char *b)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,	   0,
						 0, 0, 0, 0, 0xff, 0xff};
	int best = -1, best_len = 0, i;
	unsigned w[8];

	for (i = 0; i < 8; i++)
		w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	if (!memcmp(b, mapped, sizeof(mapped))) {
		strbuf_addf(out, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14],
			    b[15]);
		return;
	}
	for (i = 0; i < 8;) {
		int n = 0;

		while (i + n < 8 && !w[i + n])
			n++;
		if (n > best_len) {
			best = i;
			best_len = n;
		}
		i += n ? n : 1;
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			strbuf_addstr(out, "::");
			i += best_len - 1;
			continue;
		}
		if (i && i != best + best_len)
			strbuf_addch(out, ':');
		strbuf_addf(out, "%x", w[i]);
	}
}

void ipam_ip_format(struct strbuf *out, const struct ipam_ip *ip)
{
	if (ip->family == AF_INET)
		strbuf_addf(out, "%u.%u.%u.%u", ip->b[0], ip->b[1], ip->b[2],
			    ip->b[3]);
	else if (ip->family == AF_INET6)
		format_v6(out, ip->b);
	else
		strbuf_addstr(out, "?");
}

int ipam_ip_compare(const struct ipam_ip *a, const struct ipam_ip *b)
{
	if (a->family != b->family)
		return ip_len(a->family) < ip_len(b->family) ? -1 : 1;
	return memcmp(a->b, b->b, ip_len(a->family));
}

/* Keep the first len bits of ip; set the others to ones or zeros. */
static void fill_host(struct ipam_ip *ip, int len, int ones)
{
	int bits = ipam_ip_bits(ip);

	for (int i = len; i < bits; i++) {
		unsigned char m = (unsigned char)(0x80u >> (i % 8));

		if (ones)
			ip->b[i / 8] |= m;
		else
			ip->b[i / 8] &= (unsigned char)~m;
	}
}

static int parse_len(const char *s, int max)
{
	int n = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
		if (n > max)
			return -1;
	}
	return n;
}

enum ipam_ip_bad ipam_iprange_parse_cidr(struct ipam_iprange *out,
					 const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	struct ipam_ip probe;
	size_t n;
	int len;

	memset(out, 0, sizeof(*out));
	if (!slash)
		return IPAM_IP_BAD_SYNTAX;
	n = (size_t)(slash - s);
	if (n >= sizeof(addr))
		return IPAM_IP_BAD_SYNTAX;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (ipam_ip_parse(&out->first, addr))
		return IPAM_IP_BAD_SYNTAX;
	len = parse_len(slash + 1, ipam_ip_bits(&out->first));
	if (len < 0) {
		memset(out, 0, sizeof(*out));
		return IPAM_IP_BAD_LENGTH;
	}
	out->prefix = len;
	out->last = out->first;
	fill_host(&out->first, len, 0);
	fill_host(&out->last, len, 1);
	/* The address as written must be the prefix's first one. */
	ipam_ip_parse(&probe, addr);
	if (memcmp(out->first.b, probe.b, sizeof(probe.b)))
		return IPAM_IP_BAD_HOST_BITS;
	return IPAM_IP_OK;
}

enum ipam_ip_bad ipam_iprange_from_bounds(struct ipam_iprange *out,
					  const struct ipam_ip *start,
					  const struct ipam_ip *end)
{
	memset(out, 0, sizeof(*out));
	if (!start->family || !end->family)
		return IPAM_IP_BAD_SYNTAX;
	if (start->family != end->family)
		return IPAM_IP_BAD_FAMILY;
	if (ipam_ip_compare(start, end) > 0)
		return IPAM_IP_BAD_ORDER;
	out->first = *start;
	out->last = *end;
	out->prefix = -1;
	return IPAM_IP_OK;
}

void ipam_iprange_format(struct strbuf *out, const struct ipam_iprange *r)
{
	ipam_ip_format(out, &r->first);
	if (r->prefix >= 0) {
		strbuf_addf(out, "/%d", r->prefix);
		return;
	}
	strbuf_addch(out, '-');
	ipam_ip_format(out, &r->last);
}

int ipam_iprange_family(const struct ipam_iprange *r)
{
	return r->first.family;
}

bool ipam_iprange_contains_ip(const struct ipam_iprange *r,
			      const struct ipam_ip *ip)
{
	return r->first.family && ip->family == r->first.family &&
	       ipam_ip_compare(&r->first, ip) <= 0 &&
	       ipam_ip_compare(ip, &r->last) <= 0;
}

bool ipam_iprange_contains(const struct ipam_iprange *outer,
			   const struct ipam_iprange *inner)
{
	return ipam_iprange_contains_ip(outer, &inner->first) &&
	       ipam_iprange_contains_ip(outer, &inner->last);
}

bool ipam_iprange_overlaps(const struct ipam_iprange *a,
			   const struct ipam_iprange *b)
{
	return a->first.family && a->first.family == b->first.family &&
	       ipam_ip_compare(&a->first, &b->last) <= 0 &&
	       ipam_ip_compare(&b->first, &a->last) <= 0;
}

int ipam_iprange_compare(const struct ipam_iprange *a,
			 const struct ipam_iprange *b)
{
	int c = ipam_ip_compare(&a->first, &b->first);

	return c ? c : ipam_ip_compare(&b->last, &a->last);
}
