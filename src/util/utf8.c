#include "utf8.h"

#include "error.h"
#include "strbuf.h"

#include "banned.h"

size_t ipam_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (!n)
		return 0;
	if (s[0] < 0x80) {
		len = 1;
		c = s[0];
	} else if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
	    (len == 4 && c < 0x10000) || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	if (cp)
		*cp = c;
	return len;
}

static void put_u16(struct strbuf *out, uint16_t v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	strbuf_add(out, b, 2);
}

static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int ipam_utf8_to_utf16le(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t start = out->len, i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = ipam_utf8_decode(p + i, len - i, &cp);

		if (!n || cp == 0) {
			out->len = start;
			out->buf[start] = '\0';
			return ipam_error_set(IPAM_EINVAL,
					      "invalid UTF-8 at byte %zu", i);
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put_u16(out, (uint16_t)(0xD800 | (cp >> 10)));
			put_u16(out, (uint16_t)(0xDC00 | (cp & 0x3FF)));
		} else {
			put_u16(out, (uint16_t)cp);
		}
		i += n;
	}
	return 0;
}

void ipam_utf8_put(struct strbuf *out, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	strbuf_add(out, b, n);
}

/*
 * Walk units UTF-16LE code units at p: well-formed pairs only, NUL units
 * allowed only when allow_nul.  Appends UTF-8 to out when out != NULL
 * (a NUL unit becomes a NUL byte).  Returns the offending unit's index + 1,
 * or 0 when well formed.
 */
static size_t utf16_walk(struct strbuf *out, const unsigned char *p,
			 size_t units, bool allow_nul)
{
	size_t i;

	for (i = 0; i < units; i++) {
		uint32_t c = get_u16(p + 2 * i);

		if (c == 0 && !allow_nul)
			return i + 1;
		if (c >= 0xDC00 && c <= 0xDFFF)
			return i + 1;
		if (c >= 0xD800 && c <= 0xDBFF) {
			uint32_t lo;

			if (i + 1 >= units)
				return i + 1;
			lo = get_u16(p + 2 * (i + 1));
			if (lo < 0xDC00 || lo > 0xDFFF)
				return i + 1;
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		}
		if (out)
			ipam_utf8_put(out, c);
	}
	return 0;
}

int ipam_utf16le_to_utf8(struct strbuf *out, const void *p, size_t len)
{
	size_t start = out->len, bad;

	if (len % 2)
		return ipam_error_set(IPAM_EINVAL,
				      "UTF-16 string of odd length %zu", len);
	bad = utf16_walk(out, p, len / 2, false);
	if (bad) {
		out->len = start;
		out->buf[start] = '\0';
		return ipam_error_set(IPAM_EINVAL,
				      "invalid UTF-16 at code unit %zu",
				      bad - 1);
	}
	return 0;
}

bool ipam_utf16le_valid(const void *p, size_t units, bool allow_nul)
{
	return utf16_walk(NULL, p, units, allow_nul) == 0;
}
