/*
 * What the pieces of the diff share (private to src/core/diff*.c): the
 * inventory view, a domain's diff context and the helpers that add to
 * the plan.
 *
 *   diff.c         the plan: domains, GPOs, IPAMUG, inventory, order
 *   diff_filter.c  security filtering: a GPO's DACL entries, or (group
 *                  mode) its filter group and the group's members
 */
#ifndef IPAM_DIFF_INTERNAL_H
#define IPAM_DIFF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "diff.h"

/* The inventory as it will be after this run's update: the update's rows,
 * and the stored rows it does not touch (incomplete domains). */
struct diff_view {
	const struct ipam_inv_server **v;
	size_t nr;
	const struct ipam_inv_server **by_sid;
	size_t nr_sid;
	const struct ipam_server **desired;
	size_t nr_desired;
};

struct diff_ctx {
	struct ipam_plan *p;
	const struct ipam_diff_input *in;
	const struct diff_view *inv;
	const struct ipam_domain *dom;
	size_t decl;
	bool complete;	      /* removals allowed */
	const char *why_not;  /* when not */
	bool desired_changed; /* config differs from the last apply's */
};

struct ipam_action *ipam_diff_add(struct diff_ctx *c, enum ipam_act_kind kind,
				  enum ipam_act_op op, bool drift, int gpo,
				  const char *target,
				  const struct ipam_pos *pos, const char *fmt,
				  ...) __attribute__((format(printf, 8, 9)));
/* A removal left out (the domain was seen incompletely). */
void ipam_diff_skip(struct diff_ctx *c, const char *what);
void ipam_diff_conflict(struct diff_ctx *c, const char *what,
			const char *reason);
void ipam_diff_note(struct diff_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Where the desired state sets a server's manageability, and to what. */
const struct ipam_pos *ipam_diff_manage_pos(const struct ipam_desired *d,
					    const struct diff_view *w,
					    const char *name);
enum ipam_manageability ipam_diff_manage(const struct ipam_desired *d,
					 const struct diff_view *w,
					 const struct ipam_inv_server *s);
const struct ipam_inv_server *ipam_diff_by_sid(const struct diff_view *w,
					       const char *sid);
/* strcmp of two const char * behind pointers (qsort, bsearch). */
int ipam_diff_cmp_str(const void *a, const void *b);
/* sid in the sorted v? */
bool ipam_diff_had(const char **v, size_t n, const char *sid);

/* Filter adds and removes of one GPO (diff_filter.c). */
void ipam_diff_filter(struct diff_ctx *c, const struct ipam_gpo_obs *g,
		      const struct ipam_applied_gpo *ag);

#endif
