/*
 * Rules of the desired state that go beyond one value's type: names,
 * duplicates across files, cross-key requirements.  Also normalises the
 * model (defaults, lower-case names, sorted lists, effective connections).
 * Pure: no I/O.
 */
#ifndef IPAM_VALIDATE_H
#define IPAM_VALIDATE_H

#include <stdbool.h>

#include "diag.h"
#include "model.h"

void ipam_validate(struct ipam_desired *d, struct ipam_diags *diags);

/* 1 to 64 letters, digits, '-' or '_', starting with a letter or digit. */
bool ipam_validate_gpo_prefix(const char *prefix);

/* addressSpace: thresholds' defaults, each range's block, no overlaps
 * (validate_addrspace.c; called by ipam_validate). */
void ipam_validate_address_space(struct ipam_desired *d,
				 struct ipam_diags *diags);

#endif
