/*
 * Loading the desired state: one file, or a directory of *.yaml / *.yml
 * files merged in sorted name order.  Every problem is collected as a
 * diagnostic; a desired state is returned only when there were none.
 */
#ifndef IPAM_CONFIG_H
#define IPAM_CONFIG_H

#include <stddef.h>

#include "decode.h"
#include "diag.h"
#include "model.h"
#include "sha256.h"

/* One input document: a name for messages and its bytes. */
struct ipam_source {
	const char *name;
	const char *data;
	size_t len;
};

/*
 * Load path into *out.  Returns 0 when the desired state is valid,
 * IPAM_EINVAL when diags holds errors (then *out is NULL), or another
 * negative code (message in the last error) when path cannot be read.
 * Warnings may be added to diags on success.
 */
int ipam_config_load(struct ipam_desired **out, const char *path,
		     struct ipam_diags *diags);

/* The same from documents already in memory (merged in the given order). */
int ipam_config_load_sources(struct ipam_desired **out,
			     const struct ipam_source *sources, size_t n,
			     struct ipam_diags *diags);

/* SHA-256 of the normalised desired state (as show-desired -o json): what
 * a run records and a saved plan is checked against. */
int ipam_config_digest(char out[IPAM_SHA256_HEX_LEN + 1],
		       const struct ipam_desired *d);

#endif
