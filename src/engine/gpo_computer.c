/*
 * Computer accounts by name, for GPO filtering: by dNSHostName or
 * sAMAccountName in batches, then by SPN host/<name> one at a time for
 * what the batches did not find.
 */
#include "gpo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "gpo_internal.h"
#include "ldapconn.h"
#include "strbuf.h"
#include "banned.h"

struct lookup_ctx {
	const char *const *names;
	size_t nr;
	char **sids;
	int *hits;
};

static bool name_matches(const char *name, const char *dns, const char *sam)
{
	size_t n = strlen(name);

	if (dns && !strcasecmp(name, dns))
		return true;
	if (!sam)
		return false;
	return !strcasecmp(name, sam) ||
	       (strlen(sam) == n + 1 && sam[n] == '$' &&
		!strncasecmp(name, sam, n));
}

static int lookup_cb(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct lookup_ctx *c = ctx;
	const char *dns = ipam_ldapconn_entry_str(e, "dNSHostName");
	const char *sam = ipam_ldapconn_entry_str(e, "sAMAccountName");
	const struct ipam_ldapconn_value *v;
	struct strbuf sb = STRBUF_INIT;
	size_t nr;

	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	if (!nr || ipam_ldapconn_sid_text(&sb, v[0].data, v[0].len))
		return 0;
	for (size_t i = 0; i < c->nr; i++)
		if (name_matches(c->names[i], dns, sam)) {
			if (!c->hits[i]++)
				c->sids[i] = xstrdup(sb.buf);
		}
	strbuf_release(&sb);
	return 0;
}

int ipam_gpo_lookup_computers(struct ipam_gpo_session *s,
			      const char *const *names, size_t nr, char ***sids)
{
	static const char *const attrs[] = {"objectSid", "dNSHostName",
					    "sAMAccountName", NULL};
	char **v = xcalloc(nr ? nr : 1, sizeof(char *));
	int *hits = xcalloc(nr ? nr : 1, sizeof(int));
	int rc = 0;

	for (size_t i = 0; !rc && i < nr; i += LOOKUP_BATCH) {
		struct lookup_ctx c = {names + i,
				       nr - i < LOOKUP_BATCH ? nr - i
							     : LOOKUP_BATCH,
				       v + i, hits + i};
		struct strbuf f = STRBUF_INIT;

		strbuf_addstr(&f, "(&(objectCategory=computer)(|");
		for (size_t j = 0; j < c.nr; j++) {
			const char *n = c.names[j];
			size_t len = strlen(n);

			strbuf_addstr(&f, "(dNSHostName=");
			ipam_ldapesc_filter(&f, n, len);
			strbuf_addstr(&f, ")(sAMAccountName=");
			ipam_ldapesc_filter(&f, n, len);
			if (!len || n[len - 1] != '$')
				strbuf_addch(&f, '$');
			strbuf_addch(&f, ')');
		}
		strbuf_addstr(&f, "))");
		rc = ipam_ldapconn_search(s->ldap, s->domain_dn,
					  IPAM_LDAPCONN_SUBTREE, f.buf, attrs,
					  lookup_cb, &c);
		strbuf_release(&f);
	}
	/* Names not found that way: by SPN host/<name>, one at a time. */
	for (size_t i = 0; !rc && i < nr; i++) {
		char *dn = NULL, *sid = NULL;
		int count = 0;

		if (hits[i] == 1)
			continue;
		if (hits[i] > 1) {
			rc = ipam_error_set(IPAM_ECONFLICT,
					    "%s: '%s' names %d computer "
					    "accounts",
					    s->dom->name, names[i], hits[i]);
			break;
		}
		rc = ipam_gpo_find_computer(s, names[i], &dn, &sid, &count);
		if (!rc && (count != 1 || !sid))
			rc = ipam_error_set(
				count ? IPAM_ECONFLICT : IPAM_ENOTFOUND,
				"%s: computer '%s' %s", s->dom->name, names[i],
				count ? "is ambiguous" : "not found");
		free(dn);
		if (!rc)
			v[i] = sid;
		else
			free(sid);
	}
	free(hits);
	if (rc) {
		ipam_gpo_strv_free(v, nr);
		return rc;
	}
	*sids = v;
	return 0;
}
