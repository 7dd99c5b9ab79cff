/*
 * SCAFFOLD, deleted before issue 14 is closed: the collection tasks that
 * are still being written on their branches.  Whoever lands a task
 * deletes its function here (the linker says which when both exist).
 */
#include "collect.h"

#include "error.h"
#include "banned.h"

static int pending(struct ipam_collect_result *out, enum ipam_task t)
{
	out->task = t;
	return ipam_error_set(IPAM_EINVAL, "the %s task is not built yet",
			      ipam_task_name(t));
}

int ipam_collect_audit(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *c)
{
	(void)c;
	return pending(out, IPAM_TASK_AUDIT);
}

int ipam_collect_dns(struct ipam_collect_result *out,
		     const struct ipam_collect_ctx *c)
{
	(void)c;
	return pending(out, IPAM_TASK_DNS);
}

int ipam_collect_zones(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *c)
{
	(void)c;
	return pending(out, IPAM_TASK_ZONES);
}

int ipam_collect_availability(struct ipam_collect_result *out,
			      const struct ipam_collect_ctx *c)
{
	(void)c;
	return pending(out, IPAM_TASK_AVAILABILITY);
}
