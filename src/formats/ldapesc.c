#include "ldapesc.h"

#include <string.h>

#include "strbuf.h"
#include "utf8.h"
#include "banned.h"

static void add_hex_escape(struct strbuf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	strbuf_addch(out, '\\');
	strbuf_addch(out, hex[c >> 4]);
	strbuf_addch(out, hex[c & 0xF]);
}

/*
 * One character of a value that needs no escape of its own: a UTF-8
 * character is copied; a control byte, or a byte that does not start
 * valid UTF-8, becomes \XX.  Returns the bytes consumed (n > 0).
 */
static size_t add_text_char(struct strbuf *out, const unsigned char *s,
			    size_t n)
{
	size_t len =
		s[0] < 0x20 || s[0] == 0x7f ? 0 : ipam_utf8_decode(s, n, NULL);

	if (!len) {
		add_hex_escape(out, s[0]);
		return 1;
	}
	strbuf_add(out, s, len);
	return len;
}

/*
 * RFC 4515 3: '*', '(', ')', '\' and NUL must become \XX.  Control bytes
 * and bytes that are not UTF-8 are escaped too, so binary values (GUIDs,
 * SIDs) can be matched; well-formed UTF-8 stays as it is.
 */
void ipam_ldapesc_filter(struct strbuf *out, const char *value, size_t len)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];

		if (c == '*' || c == '(' || c == ')' || c == '\\') {
			add_hex_escape(out, c);
			i++;
			continue;
		}
		i += add_text_char(out, s + i, len - i);
	}
}

/*
 * RFC 4514 2.4: a leading space or '#', a trailing space, and any of
 * '"', '+', ',', ';', '<', '>', '\' get a backslash; '=' too, which the
 * grammar allows and some parsers expect.  Control bytes and bytes that
 * are not UTF-8 become \XX.
 */
void ipam_ldapesc_dn(struct strbuf *out, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t len = strlen(value), i = 0;

	while (i < len) {
		unsigned char c = s[i];

		if ((i == 0 && (c == ' ' || c == '#')) ||
		    (i == len - 1 && c == ' ') || strchr("\"+,;<>\\=", c)) {
			strbuf_addch(out, '\\');
			strbuf_addch(out, c);
			i++;
			continue;
		}
		i += add_text_char(out, s + i, len - i);
	}
}
