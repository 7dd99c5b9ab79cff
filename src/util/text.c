#include "text.h"

#include <stdint.h>
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
