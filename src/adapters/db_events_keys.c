#include "db_events_keys.h"
#include "db_events.h"
#include "db_events_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dhcplog.h"
#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The keys of the audit events: an address's and a client id's canonical
 * text, and the postings' 64-bit keys of a record (db_events.c).  The
 * import computes them for every event: the common values (a dotted quad
 * already canonical, a MAC or DUID as bare hex) have paths of their own
 * that give what the general code gives, and the hash reads eight bytes
 * at a time.
 */

/* SplitMix64's finalizer. */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

#define FNV_PRIME 0x100000001b3ULL
#define ONES	  0x0101010101010101ULL

/* The eight bytes at s, the first in the lowest bits. */
static uint64_t word_at(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* ASCII's upper-case letters of w in lower case (no locale is set:
 * tolower's). */
static uint64_t word_lower(uint64_t w)
{
	uint64_t low = w & (ONES * 0x7f);
	uint64_t ge_a = low + ONES * (0x80 - 'A'),
		 gt_z = low + ONES * (0x7f - 'Z');

	return w | ((~w & (ge_a ^ gt_z) & (ONES << 7)) >> 2);
}

/* Are the bytes of w all hex digits (any case)? */
static bool word_hex(uint64_t w)
{
	const uint64_t high = ONES << 7;
	uint64_t low = w & (ONES * 0x7f),
		 lc = (w | ONES * 0x20) & (ONES * 0x7f);
	/* the high bit of each byte in range: over the first, not the last */
	uint64_t digit =
		(low + ONES * (0x80 - '0')) ^ (low + ONES * (0x7f - '9'));
	uint64_t letter =
		(lc + ONES * (0x80 - 'a')) ^ (lc + ONES * (0x7f - 'f'));

	return ((digit | letter) & ~w & high) == high;
}

/* FNV-1a of h on with the len bytes of s (in lower case when lower),
 * eight of them per load. */
static uint64_t fnv(uint64_t h, const char *s, size_t len, bool lower)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w = word_at(s + i);

		if (lower)
			w = word_lower(w);
		for (int k = 0; k < 8; k++, w >>= 8)
			h = (h ^ (w & 0xff)) * FNV_PRIME;
	}
	for (; i < len; i++) {
		unsigned c = (unsigned char)s[i];

		if (lower)
			c += c - 'A' < 26 ? 'a' - 'A' : 0;
		h = (h ^ c) * FNV_PRIME;
	}
	return h;
}

/* (inlined: a call for each of an event's keys showed) */
static inline __attribute__((always_inline)) uint64_t
key_hash(enum ipam_db_track_by by, const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = (h ^ (uint64_t)(1 + (int)by)) * FNV_PRIME;
	return mix(fnv(h, key, len, false));
}

uint64_t ipam_db_events_hash(enum ipam_db_track_by by, const char *key,
			     size_t len)
{
	return key_hash(by, key, len);
}

/* The posting key of a host name (len bytes): its key's (lower case, no
 * trailing dot) without making the key.  (No locale is set: tolower is
 * ASCII's.) */
static bool host_hash(const char *host, size_t len, uint64_t *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len && host[len - 1] == '.')
		len--;
	if (!len)
		return false;
	h = (h ^ (uint64_t)(1 + (int)IPAM_TRACK_HOST)) * FNV_PRIME;
	*out = mix(fnv(h, host, len, true));
	return true;
}

/* ipam_db_events_row_keys of strings of known lengths (0: none). */
size_t ipam_db_events_row_keys_n(uint64_t keys[3], const char *ip,
				 size_t ip_len, const char *client_id,
				 size_t client_len, const char *host,
				 size_t host_len)
{
	size_t n = 0;

	if (ip_len)
		keys[n++] = key_hash(IPAM_TRACK_IP, ip, ip_len);
	if (client_len)
		keys[n++] = key_hash(IPAM_TRACK_CLIENT, client_id, client_len);
	if (host_len && host_hash(host, host_len, &keys[n]))
		n++;
	return n;
}

size_t ipam_db_events_row_keys(uint64_t keys[3], const char *ip,
			       const char *client_id, const char *host,
			       struct strbuf *tmp)
{
	(void)tmp;
	return ipam_db_events_row_keys_n(keys, ip, ip ? strlen(ip) : 0,
					 client_id,
					 client_id ? strlen(client_id) : 0,
					 host, host ? strlen(host) : 0);
}

/* Dotted-quad text of a (glibc's inet_ntop goes through sprintf, which
 * showed in the import's profile). */
static void ipv4_text(char *out, const unsigned char a[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

int ipam_db_track_key(struct strbuf *out, enum ipam_db_track_by by,
		      const char *value)
{
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];
	size_t start = out->len;

	switch (by) {
	case IPAM_TRACK_IP:
		if (inet_pton(AF_INET, value, bin) == 1)
			ipv4_text(text, bin);
		else if (inet_pton(AF_INET6, value, bin) == 1)
			inet_ntop(AF_INET6, bin, text, sizeof(text));
		else
			return ipam_error_set(IPAM_EINVAL,
					      "'%s' is not an IPv4 or IPv6 "
					      "address",
					      value);
		strbuf_addstr(out, text);
		return 0;
	case IPAM_TRACK_CLIENT:
		return ipam_client_id_normalize(out, value);
	case IPAM_TRACK_HOST:
		strbuf_addstr(out, value);
		for (size_t i = start; i < out->len; i++)
			out->buf[i] = (char)tolower((unsigned char)out->buf[i]);
		while (out->len > start && out->buf[out->len - 1] == '.')
			out->buf[--out->len] = '\0';
		if (out->len == start)
			return ipam_error_set(IPAM_EINVAL,
					      "an empty host name");
		return 0;
	}
	return ipam_error_set(IPAM_EINVAL, "unknown tracking key");
}

/* Is s (n bytes) an IPv4 address as ipv4_text writes it (four decimal
 * numbers up to 255 without leading zeros, '.' between)?  Then it is
 * its own key: inet_pton and ipv4_text give it back unchanged. */
static bool ipv4_canonical(const char *s, size_t n)
{
	const char *end = s + n;

	if (n < 7 || n > 15)
		return false;
	for (int part = 0; part < 4; part++) {
		unsigned a = (unsigned char)*s++ - '0', b, c, v;

		if (a > 9)
			return false;
		/* one digit, or two or three not starting with 0 */
		if (s < end && (b = (unsigned char)*s - '0') <= 9) {
			if (!a)
				return false;
			s++;
			v = a * 10 + b;
			if (s < end && (c = (unsigned char)*s - '0') <= 9) {
				s++;
				if (v * 10 + c > 255)
					return false;
			}
		}
		if (part < 3 && (s >= end - 1 || *s++ != '.'))
			return false;
	}
	return s == end;
}

/* s (n bytes) in lower case into out when it is all hex digits: what
 * ipam_client_id_normalize gives of it, or (an odd count) what event_keys
 * keeps of it.  false (out untouched) for any other. */
static bool hex_lower(struct strbuf *out, const char *s, size_t n)
{
	char *o;
	size_t i = 0;

	if (out->len + n + 1 > out->alloc) /* strbuf_grow's test, no call */
		strbuf_grow(out, n);
	o = out->buf + out->len;
	if (n >= 8) {
		/* eight at a time, the last eight overlapping the others */
		for (;; i += 8) {
			uint64_t w;

			if (i + 8 > n)
				i = n - 8;
			w = word_at(s + i);
			if (!word_hex(w))
				return false;
			w |= ONES * 0x20; /* '0'..'9' have that bit */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			w = __builtin_bswap64(w);
#endif
			memcpy(o + i, &w, sizeof(w));
			if (i + 8 == n)
				break;
		}
	}
	for (; i < n && n < 8; i++) {
		unsigned c = (unsigned char)s[i];
		unsigned l = c | 0x20;

		if (c - '0' >= 10 && l - 'a' >= 6)
			return false;
		o[i] = (char)l;
	}
	out->len += n;
	out->buf[out->len] = '\0';
	return true;
}

/* The ip and client_id columns of e (lengths ip_len, client_len) into
 * ip and client (empty: none).  A value that is no address or hex is kept
 * as written, in lower case.  The common ones (a dotted quad as a key
 * writes it, a MAC or DUID as bare hex) skip the general code. */
void ipam_db_events_keys_of(struct strbuf *ip, struct strbuf *client,
			    const struct ipam_dhcplog_event *e, size_t ip_len,
			    size_t client_len)
{
	ip->len = client->len = 0; /* strbuf_reset's, without two calls */
	if (ip->alloc)
		ip->buf[0] = '\0';
	if (client->alloc)
		client->buf[0] = '\0';
	if (ip_len && ipv4_canonical(e->ip, ip_len)) {
		if (ip_len + 1 > ip->alloc)
			strbuf_grow(ip, ip_len);
		memcpy(ip->buf, e->ip, ip_len);
		ip->buf[ip_len] = '\0';
		ip->len = ip_len;
	} else if (ip_len && ipam_db_track_key(ip, IPAM_TRACK_IP, e->ip)) {
		strbuf_addstr(ip, e->ip);
	}
	if (client_len && !hex_lower(client, e->client_id, client_len) &&
	    ipam_db_track_key(client, IPAM_TRACK_CLIENT, e->client_id)) {
		for (const char *p = e->client_id; *p; p++)
			strbuf_addch(client, (char)tolower((unsigned char)*p));
	}
	ipam_error_clear();
}
