/*
 * What ensuring IPAMUG comes to, from its observed state: create it,
 * adopt it, put the IPAM server's computer account in, or only warn.
 * Pure: reads model/gpostate.h.
 */
#ifndef IPAM_GPOGROUP_H
#define IPAM_GPOGROUP_H

#include <stdbool.h>

#include "gpostate.h"

/* groupType of a universal security group (0x80000008). */
#define IPAM_GPOGROUP_TYPE (-2147483640L)

enum ipam_gpogroup_step {
	IPAM_GPOGROUP_CREATE = 1,     /* IPAMUG does not exist */
	IPAM_GPOGROUP_ADOPT = 2,      /* it does, unmarked; adopt asked */
	IPAM_GPOGROUP_BAD_TYPE = 4,   /* it is not universal security */
	IPAM_GPOGROUP_NO_SERVER = 8,  /* no computer account to add */
	IPAM_GPOGROUP_ADD_SERVER = 16 /* the IPAM server goes in */
};

/* The steps (a mask of enum ipam_gpogroup_step) that make st's IPAMUG
 * right; adopt: take over one that carries no mark. */
unsigned ipam_gpogroup_plan(const struct ipam_gpo_state *st, bool adopt);

#endif
