#include "applied.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "banned.h"

const struct ipam_applied_domain *
ipam_applied_find(const struct ipam_applied *a, const char *domain)
{
	for (size_t i = 0; a && i < a->nr; i++)
		if (!strcasecmp(a->domains[i].domain, domain))
			return &a->domains[i];
	return NULL;
}

void ipam_applied_domain_release(struct ipam_applied_domain *d)
{
	free(d->domain);
	free(d->config_digest);
	for (size_t k = 0; k < d->nr_gpos; k++) {
		free(d->gpos[k].guid);
		for (size_t j = 0; j < d->gpos[k].nr_filter; j++)
			free(d->gpos[k].filter_sids[j]);
		free(d->gpos[k].filter_sids);
	}
	memset(d, 0, sizeof(*d));
}

void ipam_applied_release(struct ipam_applied *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nr; i++)
		ipam_applied_domain_release(&a->domains[i]);
	free(a->domains);
	memset(a, 0, sizeof(*a));
}
