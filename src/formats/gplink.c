#include "gplink.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "banned.h"

/* One "[LDAP://dn;opts]" link of the list. */
struct link {
	const char *dn;
	size_t dn_len;
	const char *start; /* '[' */
	size_t len;	   /* through ']' */
	unsigned long options;
};

static int next_link(const char **pp, struct link *l)
{
	const char *p = *pp, *e, *semi;

	while (*p && *p != '[')
		p++;
	if (!*p)
		return 0;
	e = strchr(p, ']');
	if (!e)
		return 0;
	l->start = p;
	l->len = (size_t)(e - p + 1);
	semi = memchr(p, ';', l->len);
	if (!semi)
		semi = e;
	l->dn = p + 1;
	if (!strncasecmp(l->dn, "LDAP://", 7))
		l->dn += 7;
	l->dn_len = (size_t)(semi - l->dn);
	l->options = semi < e ? strtoul(semi + 1, NULL, 10) : 0;
	*pp = e + 1;
	return 1;
}

static bool link_is(const struct link *l, const char *dn)
{
	return strlen(dn) == l->dn_len && !strncasecmp(l->dn, dn, l->dn_len);
}

long ipam_gplink_find(const char *gplink, const char *dn)
{
	struct link l;
	const char *p = gplink ? gplink : "";

	while (next_link(&p, &l))
		if (link_is(&l, dn))
			return (long)(l.options & 0xffffffffu);
	return -1;
}

int ipam_gplink_set(struct strbuf *out, const char *gplink, const char *dn,
		    unsigned options)
{
	struct link l;
	const char *p = gplink ? gplink : "";
	bool found = false;

	if (strchr(dn, ']') || strchr(dn, ';'))
		return ipam_error_set(IPAM_EINVAL, "cannot link '%s'", dn);
	if (ipam_gplink_find(p, dn) < 0)
		strbuf_addf(out, "[LDAP://%s;%u]", dn, options);
	while (next_link(&p, &l)) {
		if (link_is(&l, dn) && !found) {
			strbuf_addch(out, '[');
			/* "LDAP://dn" as it was written */
			strbuf_add(out, l.start + 1,
				   (size_t)(l.dn + l.dn_len - l.start - 1));
			strbuf_addf(out, ";%u]", options);
			found = true;
			continue;
		}
		if (link_is(&l, dn))
			continue;
		strbuf_add(out, l.start, l.len);
	}
	return 0;
}

int ipam_gplink_remove(struct strbuf *out, const char *gplink, const char *dn)
{
	struct link l;
	const char *p = gplink ? gplink : "";

	while (next_link(&p, &l))
		if (!link_is(&l, dn))
			strbuf_add(out, l.start, l.len);
	return 0;
}
