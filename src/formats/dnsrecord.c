#include "dnsrecord.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "banned.h"

#define MAX_NAME  255 /* wire octets (RFC 1035 3.1) */
#define MAX_LABEL 63

struct cursor {
	const unsigned char *p;
	size_t len, off;
};

static int bad(const struct cursor *c, const char *what)
{
	return ipam_error_set(IPAM_EINVAL,
			      "dnsRecord: %s at byte %zu of the data", what,
			      c->off);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

static int take_be(struct cursor *c, size_t n, uint32_t *v)
{
	if (c->len - c->off < n)
		return bad(c, "truncated number");
	*v = n == 2 ? (uint32_t)c->p[c->off] << 8 | c->p[c->off + 1]
		    : be32(c->p + c->off);
	c->off += n;
	return 0;
}

/* One label byte as dig prints it: the zone-file specials escaped with a
 * backslash, what is not printable ASCII as \DDD. */
static void add_label_byte(struct strbuf *out, unsigned char ch)
{
	if (ch <= 0x20 || ch >= 0x7f)
		strbuf_addf(out, "\\%03u", ch);
	else if (strchr(".;\\()@$\"", ch))
		strbuf_addf(out, "\\%c", ch);
	else
		strbuf_addch(out, (char)ch);
}

/* DNS_COUNT_NAME: Length (of RawName), LabelCount, RawName (wire labels
 * ending with the zero label).  Appended absolute, with its dot. */
static int take_count_name(struct cursor *c, struct strbuf *out)
{
	size_t cch, labels, seen = 0, i, end;
	const unsigned char *raw;
	bool term = false;

	if (c->len - c->off < 2)
		return bad(c, "truncated name");
	cch = c->p[c->off];
	labels = c->p[c->off + 1];
	c->off += 2;
	if (c->len - c->off < cch)
		return bad(c, "name longer than the data");
	if (cch > MAX_NAME + 1)
		return bad(c, "name longer than 255 bytes");
	raw = c->p + c->off;
	end = cch;
	if (cch == 0) { /* the root, written without its zero byte */
		if (labels)
			return bad(c, "label count does not match the name");
		strbuf_addch(out, '.');
		return 0;
	}
	for (i = 0; i < end;) {
		size_t l = raw[i++];

		if (l == 0) {
			term = true;
			break;
		}
		if (l > MAX_LABEL)
			return bad(c, "label longer than 63 bytes");
		if (end - i < l)
			return bad(c, "label runs past the name");
		for (size_t k = 0; k < l; k++)
			add_label_byte(out, raw[i + k]);
		strbuf_addch(out, '.');
		i += l;
		seen++;
	}
	if (!term || i != end)
		return bad(c, "name without its terminating zero label");
	if (seen != labels)
		return bad(c, "label count does not match the name");
	if (!seen)
		strbuf_addch(out, '.');
	c->off += cch;
	return 0;
}

static void add_hex(struct strbuf *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	strbuf_addf(out, "\\# %zu", n);
	if (n)
		strbuf_addch(out, ' ');
	strbuf_grow(out, 2 * n);
	for (size_t i = 0; i < n; i++) {
		strbuf_addch(out, hex[p[i] >> 4]);
		strbuf_addch(out, hex[p[i] & 15]);
	}
}

/* TXT: one or more character-strings, each a length byte and bytes. */
static int decode_txt(struct cursor *c, struct strbuf *out)
{
	if (c->off == c->len)
		strbuf_addstr(out, "\"\"");
	while (c->off < c->len) {
		size_t l = c->p[c->off++];

		if (c->len - c->off < l)
			return bad(c, "string longer than the data");
		if (out->len)
			strbuf_addch(out, ' ');
		strbuf_addch(out, '"');
		for (size_t k = 0; k < l; k++) {
			unsigned char ch = c->p[c->off + k];

			if (ch < 0x20 || ch >= 0x7f)
				strbuf_addf(out, "\\%03u", ch);
			else if (ch == '"' || ch == '\\')
				strbuf_addf(out, "\\%c", ch);
			else
				strbuf_addch(out, (char)ch);
		}
		strbuf_addch(out, '"');
		c->off += l;
	}
	return 0;
}

static int decode_fixed(struct cursor *c, struct strbuf *out, unsigned type)
{
	char text[INET6_ADDRSTRLEN];
	size_t need = type == IPAM_DNSRECORD_A ? 4 : 16;

	if (c->len != need)
		return bad(c, type == IPAM_DNSRECORD_A
				      ? "A data is not 4 bytes"
				      : "AAAA data is not 16 bytes");
	if (!inet_ntop(type == IPAM_DNSRECORD_A ? AF_INET : AF_INET6, c->p,
		       text, sizeof(text)))
		return bad(c, "address");
	strbuf_addstr(out, text);
	c->off = c->len;
	return 0;
}

static int decode_soa(struct cursor *c, struct strbuf *out)
{
	uint32_t v[5];
	struct strbuf names = STRBUF_INIT;
	int rc = 0;

	for (int i = 0; i < 5 && !rc; i++)
		rc = take_be(c, 4, &v[i]);
	if (!rc)
		rc = take_count_name(c, &names);
	if (!rc) {
		strbuf_addch(&names, ' ');
		rc = take_count_name(c, &names);
	}
	if (!rc)
		strbuf_addf(out, "%s %lu %lu %lu %lu %lu", names.buf,
			    (unsigned long)v[0], (unsigned long)v[1],
			    (unsigned long)v[2], (unsigned long)v[3],
			    (unsigned long)v[4]);
	strbuf_release(&names);
	return rc;
}

static int decode_data(struct cursor *c, struct strbuf *out, unsigned type)
{
	uint32_t a = 0, b = 0, p = 0; /* set by take_be on success */
	int rc;

	switch (type) {
	case IPAM_DNSRECORD_A:
	case IPAM_DNSRECORD_AAAA:
		return decode_fixed(c, out, type);
	case IPAM_DNSRECORD_NS:
	case IPAM_DNSRECORD_CNAME:
	case IPAM_DNSRECORD_PTR:
		return take_count_name(c, out);
	case IPAM_DNSRECORD_SOA:
		return decode_soa(c, out);
	case IPAM_DNSRECORD_MX:
		rc = take_be(c, 2, &a);
		if (!rc)
			strbuf_addf(out, "%lu ", (unsigned long)a);
		return rc ? rc : take_count_name(c, out);
	case IPAM_DNSRECORD_SRV:
		rc = take_be(c, 2, &a);
		if (!rc)
			rc = take_be(c, 2, &b);
		if (!rc)
			rc = take_be(c, 2, &p);
		if (!rc)
			strbuf_addf(out, "%lu %lu %lu ", (unsigned long)a,
				    (unsigned long)b, (unsigned long)p);
		return rc ? rc : take_count_name(c, out);
	case IPAM_DNSRECORD_TXT:
		return decode_txt(c, out);
	default:
		add_hex(out, c->p, c->len);
		c->off = c->len;
		return 0;
	}
}

int ipam_dnsrecord_decode(struct ipam_dnsrecord *r, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct cursor c = {0};
	size_t dlen;
	int rc;

	strbuf_reset(&r->data);
	if (len < IPAM_DNSRECORD_HEADER)
		return ipam_error_set(IPAM_EINVAL,
				      "dnsRecord: %zu bytes, shorter than "
				      "its 24-byte header",
				      len);
	dlen = (size_t)p[0] | (size_t)p[1] << 8;
	r->type = (unsigned)p[2] | (unsigned)p[3] << 8;
	if (p[4] != 5)
		return ipam_error_set(IPAM_EINVAL,
				      "dnsRecord: version %u, not 5", p[4]);
	r->rank = p[5];
	r->flags = (unsigned)p[6] | (unsigned)p[7] << 8;
	r->serial = le32(p + 8);
	r->ttl = be32(p + 12);
	r->timestamp = le32(p + 20);
	r->tombstone = r->type == IPAM_DNSRECORD_ZERO;
	if (len - IPAM_DNSRECORD_HEADER < dlen)
		return ipam_error_set(IPAM_EINVAL,
				      "dnsRecord: DataLength %zu, but %zu "
				      "bytes follow the header",
				      dlen, len - IPAM_DNSRECORD_HEADER);
	/* Up to 3 bytes of zero padding (DNS_RPC_RECORD's 4-byte alignment)
	 * are tolerated after the data; anything else is not ours. */
	for (size_t i = IPAM_DNSRECORD_HEADER + dlen; i < len; i++)
		if (len - IPAM_DNSRECORD_HEADER - dlen > 3 || p[i])
			return ipam_error_set(IPAM_EINVAL,
					      "dnsRecord: %zu bytes after "
					      "its data",
					      len - IPAM_DNSRECORD_HEADER -
						      dlen);
	c.p = p + IPAM_DNSRECORD_HEADER;
	c.len = dlen;
	if (r->tombstone) {
		add_hex(&r->data, c.p, c.len);
		return 0;
	}
	rc = decode_data(&c, &r->data, r->type);
	if (!rc && c.off != c.len)
		rc = bad(&c, "bytes left over");
	if (rc)
		strbuf_reset(&r->data);
	return rc;
}

void ipam_dnsrecord_release(struct ipam_dnsrecord *r)
{
	if (r)
		strbuf_release(&r->data);
}

static const struct {
	unsigned type;
	const char *name;
} types[] = {
	{IPAM_DNSRECORD_A, "A"},	 {IPAM_DNSRECORD_NS, "NS"},
	{IPAM_DNSRECORD_CNAME, "CNAME"}, {IPAM_DNSRECORD_SOA, "SOA"},
	{IPAM_DNSRECORD_PTR, "PTR"},	 {IPAM_DNSRECORD_MX, "MX"},
	{IPAM_DNSRECORD_TXT, "TXT"},	 {IPAM_DNSRECORD_AAAA, "AAAA"},
	{IPAM_DNSRECORD_SRV, "SRV"},
};

void ipam_dnsrecord_type_text(struct strbuf *out, unsigned type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type) {
			strbuf_addstr(out, types[i].name);
			return;
		}
	strbuf_addf(out, "TYPE%u", type);
}

int ipam_dnsrecord_type_parse(unsigned *out, const char *s)
{
	char *end;
	unsigned long v;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(types[i].name, s)) {
			*out = types[i].type;
			return 0;
		}
	if (!strncasecmp(s, "TYPE", 4) && s[4] >= '0' && s[4] <= '9') {
		v = strtoul(s + 4, &end, 10);
		if (!*end && v <= 65535) {
			*out = (unsigned)v;
			return 0;
		}
	}
	return ipam_error_set(IPAM_EINVAL,
			      "unknown record type '%s' (A, AAAA, CNAME, MX, "
			      "NS, PTR, SOA, SRV, TXT or TYPEnnn)",
			      s);
}
