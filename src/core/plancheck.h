/*
 * A saved plan (`plan --out FILE`, then `apply FILE`) checked against the
 * plan computed now: what is applied must be what was reviewed.  Pure:
 * both plans come in as JSON trees (planout's ipam_plan_to_node for the
 * fresh one), the file's name only for the messages.
 */
#ifndef IPAM_PLANCHECK_H
#define IPAM_PLANCHECK_H

#include "node.h"

/*
 * Whether root has the shape of a saved plan (config_digest and
 * observed_fingerprint strings, an actions list): 0 or IPAM_EINVAL naming
 * path.
 */
int ipam_plancheck_shape(const struct ipam_node *root, const char *path);

/*
 * The saved plan still holds: made from the same desired state (digest)
 * and the same observations (fingerprint), with exactly the actions of
 * fresh, field by field ("source", where the YAML asks for an action, is
 * provenance and may differ between checkouts).  0, or IPAM_ECONFLICT
 * with the first difference.  saved must have passed the shape check.
 */
int ipam_plancheck_saved(const char *path, const struct ipam_node *saved,
			 const struct ipam_node *fresh,
			 const char *config_digest, const char *fingerprint);

#endif
