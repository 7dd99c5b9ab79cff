#include "access.h"

#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "gpostate.h"
#include "strbuf.h"

static const char *const status_names[] = {
	[IPAM_ACCESS_NOT_CHECKED] = "Not checked",
	[IPAM_ACCESS_UNBLOCKED] = "Unblocked",
	[IPAM_ACCESS_BLOCKED] = "Blocked",
	[IPAM_ACCESS_NOT_APPLICABLE] = "Not applicable",
};

static const char *const detail_names[] = {
	[IPAM_ACCESS_DHCP_RPC] = "DHCP RPC",
	[IPAM_ACCESS_DHCP_AUDIT_SHARE] = "DHCP audit share",
	[IPAM_ACCESS_DNS_RPC] = "DNS RPC",
	[IPAM_ACCESS_EVENT_LOG] = "Event log",
};

static const char *const detail_keys[] = {
	[IPAM_ACCESS_DHCP_RPC] = "dhcp_rpc",
	[IPAM_ACCESS_DHCP_AUDIT_SHARE] = "dhcp_audit_share",
	[IPAM_ACCESS_DNS_RPC] = "dns_rpc",
	[IPAM_ACCESS_EVENT_LOG] = "event_log",
};

static const char *const action_names[] = {
	[IPAM_ACCESS_ACTION_NONE] = "",
	[IPAM_ACCESS_ACTION_UNBLOCKED] = "IPAM Access Unblocked",
	[IPAM_ACCESS_ACTION_UNBLOCK] = "Unblock IPAM Access",
	[IPAM_ACCESS_ACTION_SET_MANAGEABILITY] = "Set Manageability Status",
};

#define NR(a) (sizeof(a) / sizeof((a)[0]))

const char *ipam_access_status_name(enum ipam_access_status s)
{
	return (unsigned)s < NR(status_names) ? status_names[s] : "?";
}

int ipam_access_status_parse(const char *s, enum ipam_access_status *out)
{
	for (size_t i = 0; s && i < NR(status_names); i++)
		if (!strcmp(s, status_names[i])) {
			*out = (enum ipam_access_status)i;
			return 0;
		}
	return -1;
}

const char *ipam_access_detail_name(enum ipam_access_detail d)
{
	return (unsigned)d < NR(detail_names) ? detail_names[d] : "?";
}

const char *ipam_access_detail_key(enum ipam_access_detail d)
{
	return (unsigned)d < NR(detail_keys) ? detail_keys[d] : "?";
}

const char *ipam_access_action_name(enum ipam_access_action a)
{
	return (unsigned)a < NR(action_names) ? action_names[a] : "?";
}

int ipam_access_action_parse(const char *s, enum ipam_access_action *out)
{
	for (size_t i = 0; s && i < NR(action_names); i++)
		if (!strcmp(s, action_names[i])) {
			*out = (enum ipam_access_action)i;
			return 0;
		}
	return -1;
}

bool ipam_access_applies(enum ipam_access_detail d, unsigned roles)
{
	switch (d) {
	case IPAM_ACCESS_DHCP_RPC:
	case IPAM_ACCESS_DHCP_AUDIT_SHARE:
		return roles & IPAM_ROLE_DHCP;
	case IPAM_ACCESS_DNS_RPC:
		return roles & IPAM_ROLE_DNS;
	case IPAM_ACCESS_EVENT_LOG:
		return roles != 0;
	default:
		return false;
	}
}

void ipam_access_set(struct ipam_access *a, enum ipam_access_detail d,
		     enum ipam_access_status s, const char *reason)
{
	free(a->detail[d].reason);
	a->detail[d].status = s;
	a->detail[d].reason = reason ? xstrdup(reason) : NULL;
}

void ipam_access_settle(struct ipam_access *a, unsigned roles,
			enum ipam_manageability m)
{
	bool any_blocked = false, all_unblocked = true, any = false;

	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
		struct ipam_access_result *r = &a->detail[d];

		if (!ipam_access_applies((enum ipam_access_detail)d, roles)) {
			ipam_access_set(a, (enum ipam_access_detail)d,
					IPAM_ACCESS_NOT_APPLICABLE, NULL);
			continue;
		}
		any = true;
		if (r->status == IPAM_ACCESS_BLOCKED)
			any_blocked = true;
		if (r->status != IPAM_ACCESS_UNBLOCKED)
			all_unblocked = false;
	}
	if (any_blocked)
		a->overall = IPAM_ACCESS_BLOCKED;
	else if (any && all_unblocked)
		a->overall = IPAM_ACCESS_UNBLOCKED;
	else
		a->overall = IPAM_ACCESS_NOT_CHECKED;

	switch (m) {
	case IPAM_MANAGE_MANAGED:
		a->action = a->overall == IPAM_ACCESS_UNBLOCKED
				    ? IPAM_ACCESS_ACTION_UNBLOCKED
				    : IPAM_ACCESS_ACTION_UNBLOCK;
		break;
	case IPAM_MANAGE_UNMANAGED:
		a->action = IPAM_ACCESS_ACTION_NONE;
		break;
	default:
		a->action = IPAM_ACCESS_ACTION_SET_MANAGEABILITY;
		break;
	}
}

void ipam_access_release(struct ipam_access *a)
{
	if (!a)
		return;
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
		free(a->detail[d].reason);
		a->detail[d].reason = NULL;
	}
}

/* The GPO a role's access comes from. */
static const struct ipam_gpo_obs *gpo_of(const struct ipam_gpo_state *st,
					 enum ipam_pol_gpo kind)
{
	for (size_t i = 0; i < IPAM_GPO_COUNT; i++)
		if (st->gpos[i].kind == kind)
			return &st->gpos[i];
	return NULL;
}

static bool in_filtering(const struct ipam_gpo_obs *g, const char *sid)
{
	for (size_t i = 0; i < g->filtering.nr; i++)
		if (!strcmp(g->filtering.v[i].sid, sid))
			return true;
	return false;
}

/*
 * provisioning.filtering: group.  A computer reads its group memberships
 * into its Kerberos ticket when it starts: a new member is filtered in
 * only after a reboot or `klist purge -li 0x3e7` (the product says the
 * same of the DHCP Users group), so a Blocked member is told that.
 */
static void group_hint(struct strbuf *sb, const struct ipam_gpo_obs *g,
		       const char *sid)
{
	const struct ipam_gpo_fgroup *f = &g->fgroup;
	bool member = false;

	for (size_t i = 0; sid && i < f->members.nr; i++)
		if (!strcmp(f->members.v[i].sid, sid))
			member = true;
	if (!f->exists)
		strbuf_addf(sb, "; group %s does not exist (apply pending)",
			    f->name);
	else if (!f->ace)
		strbuf_addf(sb,
			    "; group %s is not in the security filtering of "
			    "%s (apply pending)",
			    f->name, g->name);
	else if (sid && member && !in_filtering(g, sid))
		strbuf_addf(sb,
			    "; a member of %s, which %s applies to: the "
			    "server takes a new group membership only after "
			    "a reboot or `klist purge -li 0x3e7` and a "
			    "`gpupdate /force`",
			    f->name, g->name);
	else if (sid && !member && !in_filtering(g, sid))
		strbuf_addf(sb, "; not a member of %s (apply pending)",
			    f->name);
}

static void gpo_hint(struct strbuf *sb, const struct ipam_gpo_state *st,
		     enum ipam_pol_gpo kind, const char *sid)
{
	const struct ipam_gpo_obs *g = gpo_of(st, kind);
	const char *name = g && g->name ? g->name : ipam_pol_gpo_suffix(kind);

	if (!g || !g->exists)
		strbuf_addf(sb, "; %s does not exist (apply pending)", name);
	else if (!g->linked)
		strbuf_addf(sb,
			    "; %s is not linked to the domain (apply "
			    "pending)",
			    name);
	else if (g->fgroup.members_read)
		group_hint(sb, g, sid);
	else if (sid && !in_filtering(g, sid))
		strbuf_addf(sb,
			    "; not in the security filtering of %s (apply "
			    "pending)",
			    name);
}

/* The GPOs detail d needs for a server with roles (bits of ipam_pol_gpo):
 * the event log needs those of all its roles. */
static unsigned gpos_for(enum ipam_access_detail d, unsigned roles)
{
	if (d == IPAM_ACCESS_DHCP_RPC || d == IPAM_ACCESS_DHCP_AUDIT_SHARE)
		return 1u << IPAM_POL_GPO_DHCP;
	if (d == IPAM_ACCESS_DNS_RPC)
		return 1u << IPAM_POL_GPO_DNS;
	return ipam_gpos_for_roles(roles);
}

void ipam_access_hints(struct ipam_access *a, unsigned roles, const char *sid,
		       const struct ipam_gpo_state *st)
{
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
		struct ipam_access_result *r = &a->detail[d];
		struct strbuf sb = STRBUF_INIT;
		unsigned want;

		if (r->status != IPAM_ACCESS_BLOCKED)
			continue;
		if (r->reason)
			strbuf_addstr(&sb, r->reason);
		want = gpos_for((enum ipam_access_detail)d, roles);
		for (int k = IPAM_POL_GPO_DHCP; st && k <= IPAM_POL_GPO_DC_NPS;
		     k++)
			if (want & (1u << k))
				gpo_hint(&sb, st, (enum ipam_pol_gpo)k, sid);
		if (st && !st->server_found)
			strbuf_addstr(&sb, "; IPAMUG cannot hold the IPAM "
					   "server: it has no account in this "
					   "forest (a trust is needed)");
		else if (st && (!st->ipamug.exists || !st->ipamug.has_server))
			strbuf_addstr(&sb,
				      st->ipamug.exists
					      ? "; IPAMUG does not hold the "
						"IPAM server (apply pending)"
					      : "; IPAMUG does not exist "
						"(apply pending)");
		if ((d == IPAM_ACCESS_DNS_RPC || d == IPAM_ACCESS_EVENT_LOG) &&
		    (roles & IPAM_ROLE_DNS) && !(roles & IPAM_ROLE_DC))
			strbuf_addstr(&sb, "; a DNS server that is not a DC: "
					   "the IPAM server needs local "
					   "Administrators there");
		free(r->reason);
		r->reason = NULL;
		if (sb.len)
			r->reason =
				xstrdup(sb.buf[0] == ';' ? sb.buf + 2 : sb.buf);
		strbuf_release(&sb);
	}
}
