#include "xml.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "utf8.h"

#include "banned.h"

void ipam_xml_init(struct ipam_xml *x, const char *buf, size_t len)
{
	x->s = buf;
	x->len = len;
	x->pos = len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0;
}

int ipam_xml_error(const struct ipam_xml *x, const char *what)
{
	return ipam_error_set(IPAM_EINVAL, "%s at byte %zu", what, x->pos);
}

static bool xml_at(const struct ipam_xml *x, const char *lit)
{
	size_t n = strlen(lit);

	return x->len - x->pos >= n && !memcmp(x->s + x->pos, lit, n);
}

static void xml_ws(struct ipam_xml *x)
{
	while (x->pos < x->len && strchr(" \t\r\n", x->s[x->pos]) &&
	       x->s[x->pos])
		x->pos++;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':' || c == '-' ||
	       c == '.';
}

/* Skip to just past lit; error when absent. */
static int xml_skip_past(struct ipam_xml *x, const char *lit)
{
	size_t n = strlen(lit);

	while (x->len - x->pos >= n) {
		if (!memcmp(x->s + x->pos, lit, n)) {
			x->pos += n;
			return 0;
		}
		x->pos++;
	}
	return ipam_xml_error(x, "unterminated markup");
}

static int xml_name(struct ipam_xml *x, const char **name, size_t *n)
{
	size_t start = x->pos;

	while (x->pos < x->len && name_char(x->s[x->pos]))
		x->pos++;
	if (x->pos == start)
		return ipam_xml_error(x, "expected a name");
	*name = x->s + start;
	*n = x->pos - start;
	return 0;
}

/* Decode an attribute value's references into out (UTF-8). */
static int xml_unescape(struct strbuf *out, const struct ipam_xml *x,
			const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *semi;
		size_t rl;

		if (v[i] == '<' || v[i] == '\0')
			return ipam_xml_error(x,
					      "invalid character in a value");
		if (v[i] != '&') {
			strbuf_addch(out, v[i++]);
			continue;
		}
		semi = memchr(v + i, ';', n - i);
		if (!semi || semi - (v + i) > 12)
			return ipam_xml_error(x, "bad reference in a value");
		rl = (size_t)(semi - (v + i)) + 1;
		if (rl == 5 && !memcmp(v + i, "&amp;", 5))
			strbuf_addch(out, '&');
		else if (rl == 4 && !memcmp(v + i, "&lt;", 4))
			strbuf_addch(out, '<');
		else if (rl == 4 && !memcmp(v + i, "&gt;", 4))
			strbuf_addch(out, '>');
		else if (rl == 6 && !memcmp(v + i, "&quot;", 6))
			strbuf_addch(out, '"');
		else if (rl == 6 && !memcmp(v + i, "&apos;", 6))
			strbuf_addch(out, '\'');
		else if (rl > 3 && v[i + 1] == '#') {
			uint32_t cp = 0;
			size_t j = i + 2;
			int base = 10;

			if (v[j] == 'x') {
				base = 16;
				j++;
			}
			if (j == i + rl - 1)
				return ipam_xml_error(
					x, "bad character reference");
			for (; j < i + rl - 1; j++) {
				int d;

				if (base == 16 && isxdigit((unsigned char)v[j]))
					d = isdigit((unsigned char)v[j])
						    ? v[j] - '0'
						    : (tolower((unsigned char)
								       v[j]) -
						       'a' + 10);
				else if (isdigit((unsigned char)v[j]))
					d = v[j] - '0';
				else
					return ipam_xml_error(
						x, "bad character reference");
				cp = cp * (uint32_t)base + (uint32_t)d;
				if (cp > 0x10FFFF)
					return ipam_xml_error(
						x, "bad character reference");
			}
			if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				return ipam_xml_error(
					x, "bad character reference");
			ipam_utf8_put(out, cp);
		} else {
			return ipam_xml_error(x, "unknown entity in a value");
		}
		i += rl;
	}
	return 0;
}

static void tag_clear(struct ipam_xml_tag *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->attrs[i].value);
	t->nr = 0;
}

const char *ipam_xml_tag_attr(const struct ipam_xml_tag *t, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < t->nr; i++)
		if (t->attrs[i].nlen == n && !memcmp(t->attrs[i].name, name, n))
			return t->attrs[i].value;
	return NULL;
}

bool ipam_xml_tag_is(const struct ipam_xml_tag *t, const char *name)
{
	return t->nlen == strlen(name) && !memcmp(t->name, name, t->nlen);
}

int ipam_xml_next(struct ipam_xml *x, struct ipam_xml_tag *t)
{
	int rc;

	tag_clear(t);
	for (;;) {
		while (x->pos < x->len && x->s[x->pos] != '<') {
			if (x->s[x->pos] == '\0')
				return ipam_xml_error(x, "NUL byte");
			x->pos++;
		}
		if (x->pos >= x->len)
			return 1;
		if (xml_at(x, "<!--")) {
			if ((rc = xml_skip_past(x, "-->")))
				return rc;
		} else if (xml_at(x, "<?")) {
			if ((rc = xml_skip_past(x, "?>")))
				return rc;
		} else if (xml_at(x, "<!")) {
			return ipam_xml_error(x, "DTD or CDATA not supported");
		} else {
			break;
		}
	}
	x->pos++;
	t->end = t->empty = false;
	if (x->pos < x->len && x->s[x->pos] == '/') {
		t->end = true;
		x->pos++;
	}
	if ((rc = xml_name(x, &t->name, &t->nlen)))
		return rc;
	for (;;) {
		struct ipam_xml_attr *a;
		struct strbuf v = STRBUF_INIT;
		const char *an, *q;
		size_t al;
		char quote;

		xml_ws(x);
		if (x->pos >= x->len)
			return ipam_xml_error(x, "unterminated tag");
		if (x->s[x->pos] == '>') {
			x->pos++;
			return 0;
		}
		if (xml_at(x, "/>") && !t->end) {
			t->empty = true;
			x->pos += 2;
			return 0;
		}
		if (t->end)
			return ipam_xml_error(x, "attribute in an end tag");
		if ((rc = xml_name(x, &an, &al)))
			return rc;
		xml_ws(x);
		if (x->pos >= x->len || x->s[x->pos] != '=')
			return ipam_xml_error(x, "expected '='");
		x->pos++;
		xml_ws(x);
		if (x->pos >= x->len ||
		    (x->s[x->pos] != '"' && x->s[x->pos] != '\''))
			return ipam_xml_error(x, "expected a quoted value");
		quote = x->s[x->pos++];
		q = memchr(x->s + x->pos, quote, x->len - x->pos);
		if (!q)
			return ipam_xml_error(x, "unterminated value");
		rc = xml_unescape(&v, x, x->s + x->pos,
				  (size_t)(q - (x->s + x->pos)));
		if (rc) {
			strbuf_release(&v);
			return rc;
		}
		x->pos = (size_t)(q - x->s) + 1;
		{
			size_t i;

			for (i = 0; i < t->nr; i++)
				if (t->attrs[i].nlen == al &&
				    !memcmp(t->attrs[i].name, an, al)) {
					strbuf_release(&v);
					return ipam_xml_error(
						x, "duplicate attribute");
				}
		}
		ALLOC_GROW(t->attrs, t->nr + 1, t->alloc);
		a = &t->attrs[t->nr++];
		a->name = an;
		a->nlen = al;
		a->value = strbuf_detach(&v, NULL);
	}
}

void ipam_xml_tag_release(struct ipam_xml_tag *t)
{
	if (!t)
		return;
	tag_clear(t);
	free(t->attrs);
	t->attrs = NULL;
	t->alloc = 0;
}

/* Append s as an attribute value: valid UTF-8, no control characters
 * (they would need character references GPMC never writes). */
int ipam_xml_add_attr(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = ipam_utf8_decode(p + i, len - i, &cp);

		if (!n || cp < 0x20 || cp == 0x7F || cp == 0xFFFE ||
		    cp == 0xFFFF)
			return ipam_error_set(IPAM_EINVAL,
					      "value '%.40s' has invalid UTF-8 "
					      "or a control character",
					      s);
		switch (cp) {
		case '&':
			strbuf_addstr(out, "&amp;");
			break;
		case '<':
			strbuf_addstr(out, "&lt;");
			break;
		case '>':
			strbuf_addstr(out, "&gt;");
			break;
		case '"':
			strbuf_addstr(out, "&quot;");
			break;
		case '\'':
			strbuf_addstr(out, "&apos;");
			break;
		default:
			strbuf_add(out, p + i, n);
		}
		i += n;
	}
	return 0;
}
