#include "gpogroup.h"

#include <string.h>
#include <strings.h>

#include "banned.h"

unsigned ipam_gpogroup_plan(const struct ipam_gpo_state *st, bool adopt)
{
	unsigned steps = 0;

	if (!st->ipamug.exists)
		steps |= IPAM_GPOGROUP_CREATE;
	else if (!st->ipamug.owned && adopt)
		steps |= IPAM_GPOGROUP_ADOPT;
	else if (st->ipamug.group_type != IPAM_GPOGROUP_TYPE)
		steps |= IPAM_GPOGROUP_BAD_TYPE;
	/* A new group has no members yet. */
	if (!st->server_found)
		steps |= st->foreign_domain && !st->foreign_trusted
				 ? IPAM_GPOGROUP_NO_TRUST
				 : IPAM_GPOGROUP_NO_SERVER;
	else if (!st->ipamug.exists || !st->ipamug.has_server)
		steps |= st->foreign_domain ? IPAM_GPOGROUP_ADD_FOREIGN
					    : IPAM_GPOGROUP_ADD_SERVER;
	return steps;
}

bool ipam_gpogroup_in_domain(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (!d || n < d)
		return false;
	if (strcasecmp(name + n - d, domain))
		return false;
	return n == d || name[n - d - 1] == '.';
}

bool ipam_gpogroup_trusts(const struct ipam_gpogroup_trust *t, size_t nr,
			  const char *domain)
{
	for (size_t i = 0; i < nr; i++) {
		if (!t[i].partner ||
		    !(t[i].direction & IPAM_GPOGROUP_TRUST_OUTBOUND))
			continue;
		if (!strcasecmp(t[i].partner, domain))
			return true;
		/* A forest trust covers the partner forest's domains. */
		if ((t[i].attributes & IPAM_GPOGROUP_TRUST_FOREST) &&
		    ipam_gpogroup_in_domain(domain, t[i].partner))
			return true;
	}
	return false;
}

long ipam_gpogroup_home(const char *fqdn, const char *const *domains, size_t nr,
			const char *self)
{
	long best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < nr; i++) {
		size_t len = strlen(domains[i]);

		if (self && !strcasecmp(domains[i], self))
			continue;
		/* The host itself is not its domain. */
		if (!strcasecmp(fqdn, domains[i]) ||
		    !ipam_gpogroup_in_domain(fqdn, domains[i]))
			continue;
		if (len > best_len) {
			best = (long)i;
			best_len = len;
		}
	}
	return best;
}
