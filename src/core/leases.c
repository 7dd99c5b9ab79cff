#include "leases.h"

#include <string.h>

#include "banned.h"

enum ipam_lease_kind ipam_lease_kind_of(int event_id)
{
	switch (event_id) {
	case 10:    /* new lease */
	case 11:    /* renewed */
	case 11002: /* DHCPv6 request */
	case 11003: /* confirm */
	case 11004: /* renew */
	case 11005: /* rebind */
		return IPAM_LEASE_GRANT;
	case 12:
	case 11007:
		return IPAM_LEASE_RELEASE;
	case 16:
	case 11016:
		return IPAM_LEASE_DELETE;
	case 17: /* expired, DNS records not deleted */
	case 18: /* expired, DNS records deleted */
	case 11018:
		return IPAM_LEASE_EXPIRE;
	default:
		return IPAM_LEASE_OTHER;
	}
}

const char *ipam_lease_kind_name(enum ipam_lease_kind k)
{
	switch (k) {
	case IPAM_LEASE_GRANT:
		return "lease";
	case IPAM_LEASE_RELEASE:
		return "release";
	case IPAM_LEASE_DELETE:
		return "delete";
	case IPAM_LEASE_EXPIRE:
		return "expire";
	default:
		return "other";
	}
}

/* Is a after b? */
static bool later(const struct ipam_lease_event *a,
		  const struct ipam_lease_event *b)
{
	return a->at > b->at || (a->at == b->at && a->seq > b->seq);
}

void ipam_leases_decide(struct ipam_lease_state *out,
			const struct ipam_lease_event *ev, size_t nr,
			long long now, long long lease_secs)
{
	const struct ipam_lease_event *last = NULL, *named = NULL;

	memset(out, 0, sizeof(*out));
	if (lease_secs <= 0)
		lease_secs = IPAM_LEASE_DEFAULT_SECS;
	for (size_t i = 0; i < nr; i++) {
		const struct ipam_lease_event *e = &ev[i];

		if (!out->first || e->at < out->first)
			out->first = e->at;
		if (e->at > out->last)
			out->last = e->at;
		if ((e->mac && *e->mac) || (e->host && *e->host))
			if (!named || later(e, named))
				named = e;
		if (ipam_lease_kind_of(e->event_id) == IPAM_LEASE_OTHER)
			continue;
		if (!last || later(e, last))
			last = e;
	}
	if (named) {
		out->mac = named->mac && *named->mac ? named->mac : NULL;
		out->host = named->host && *named->host ? named->host : NULL;
	}
	if (!last)
		return;
	out->decided = last;
	out->server_id = last->server_id;
	if (ipam_lease_kind_of(last->event_id) == IPAM_LEASE_GRANT) {
		out->expires = last->at + lease_secs;
		out->in_use = now < out->expires;
	} else {
		out->expires = last->at;
	}
}
