#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "banned.h"

void ipam_text_add_clean(struct strbuf *sb, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, k, used = 0;
	uint32_t cp;

	if (!s)
		return;
	n = strlen(s);
	while (n) {
		k = ipam_utf8_decode(p, n, &cp);
		if (max && used + (k ? k : 1) > max) {
			strbuf_addstr(sb, "...");
			return;
		}
		if (!k) {
			strbuf_addstr(sb, "\xef\xbf\xbd");
			k = 1;
		} else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			strbuf_addch(sb, ' ');
		} else {
			strbuf_add(sb, p, k);
		}
		p += k;
		n -= k;
		used += k;
	}
}

char *ipam_text_clean(const char *s, size_t max)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_text_add_clean(&sb, s, max);
	return strbuf_detach(&sb, NULL);
}

/* The rule's escape for code point cp (or a bad byte), or NULL to keep. */
static const char *escape_of(uint32_t cp, bool bad, char buf[8])
{
	if (bad) {
		snprintf(buf, 8, "\\x%02x", (unsigned)cp);
		return buf;
	}
	if (cp == '\n')
		return "\\n";
	if (cp == '\r')
		return "\\r";
	if (cp == '\t')
		return "\\t";
	if (cp < 0x20 || cp == 0x7f) {
		snprintf(buf, 8, "\\x%02x", (unsigned)cp);
		return buf;
	}
	if (cp >= 0x80 && cp < 0xa0) {
		snprintf(buf, 8, "\\u%04x", (unsigned)cp);
		return buf;
	}
	return NULL;
}

void ipam_text_add_escaped_n(struct strbuf *sb, const char *s, size_t len,
			     bool keep_newlines)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p;
	char buf[8];
	uint32_t cp;

	while (len) {
		size_t k = ipam_utf8_decode(p, len, &cp);
		const char *esc;

		if (!k) {
			cp = *p;
			k = 1;
			esc = escape_of(cp, true, buf);
		} else if (keep_newlines && cp == '\n') {
			esc = NULL;
		} else {
			esc = escape_of(cp, false, buf);
		}
		if (esc) {
			strbuf_add(sb, run, (size_t)(p - run));
			strbuf_addstr(sb, esc);
			run = p + k;
		}
		p += k;
		len -= k;
	}
	strbuf_add(sb, run, (size_t)(p - run));
}

void ipam_text_add_escaped(struct strbuf *sb, const char *s)
{
	if (s)
		ipam_text_add_escaped_n(sb, s, strlen(s), false);
}

char *ipam_text_escaped(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_text_add_escaped(&sb, s);
	return strbuf_detach(&sb, NULL);
}

bool ipam_text_needs_escape(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[8];
	uint32_t cp;

	while (len) {
		size_t k = ipam_utf8_decode(p, len, &cp);

		if (!k || escape_of(cp, false, buf))
			return true;
		p += k;
		len -= k;
	}
	return false;
}

int ipam_text_fputs(FILE *f, const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	ipam_text_add_escaped_n(&sb, s, strlen(s), true);
	ret = fputs(sb.buf, f);
	strbuf_release(&sb);
	return ret;
}

int ipam_text_printf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ipam_text_vprintf(f, fmt, ap);
	va_end(ap);
	return ret;
}

int ipam_text_vprintf(FILE *f, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT, esc = STRBUF_INIT;
	size_t flen = strlen(fmt), tail = 0;
	int ret;

	strbuf_vaddf(&sb, fmt, ap);
	while (tail < flen && fmt[flen - 1 - tail] == '\n')
		tail++;
	if (memchr(fmt, '\n', flen - tail) || tail > sb.len) {
		/* Newlines inside the format: a value's cannot be told from
		 * them, so every newline stays. */
		ipam_text_add_escaped_n(&esc, sb.buf, sb.len, true);
	} else {
		/* The format's newlines are its last characters: those stay,
		 * a value's newline is escaped like any control. */
		ipam_text_add_escaped_n(&esc, sb.buf, sb.len - tail, false);
		while (tail--)
			strbuf_addch(&esc, '\n');
	}
	ret = fputs(esc.buf, f);
	strbuf_release(&esc);
	strbuf_release(&sb);
	return ret;
}
