#include "gpomark.h"

#include <string.h>
#include <strings.h>

#include "banned.h"

void ipam_gpomark_format(struct strbuf *out, const char *ipam_server,
			 const char *prefix, const char *source)
{
	strbuf_addf(out, IPAM_GPOMARK_PREFIX " ipamServer=%s; gpoPrefix=%s",
		    ipam_server, prefix);
	if (source && *source)
		strbuf_addf(out, "; source=%s", source);
}

bool ipam_gpomark_is(const char *text)
{
	return text &&
	       !strncmp(text, IPAM_GPOMARK_PREFIX, strlen(IPAM_GPOMARK_PREFIX));
}

/* The value of "key=" in a mark, up to ';'. */
static bool field_is(const char *mark, const char *key, const char *want)
{
	size_t k = strlen(key), w = strlen(want);
	const char *p = mark;

	while ((p = strstr(p, key))) {
		if ((p == mark || p[-1] == ' ' || p[-1] == ';') &&
		    p[k] == '=') {
			const char *v = p + k + 1, *e = strchr(v, ';');
			size_t n = e ? (size_t)(e - v) : strlen(v);

			return n == w && !strncasecmp(v, want, w);
		}
		p += k;
	}
	return false;
}

bool ipam_gpomark_owned(const char *mark, const char *ipam_server,
			const char *prefix)
{
	return ipam_gpomark_is(mark) &&
	       field_is(mark, "ipamServer", ipam_server) &&
	       field_is(mark, "gpoPrefix", prefix);
}
