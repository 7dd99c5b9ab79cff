#include "gpogroup.h"

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
		steps |= IPAM_GPOGROUP_NO_SERVER;
	else if (!st->ipamug.exists || !st->ipamug.has_server)
		steps |= IPAM_GPOGROUP_ADD_SERVER;
	return steps;
}
