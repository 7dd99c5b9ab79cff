/*
 * YAML 1.2 core schema resolution of plain scalars, and the text checks
 * shared by the validator (FQDNs, names).  Pure functions.
 */
#ifndef IPAM_SCALAR_H
#define IPAM_SCALAR_H

#include <stdbool.h>
#include <stddef.h>

enum ipam_scalar_type {
	IPAM_SCALAR_STRING,
	IPAM_SCALAR_NULL,
	IPAM_SCALAR_BOOL,
	IPAM_SCALAR_INT,
	IPAM_SCALAR_FLOAT,
};

enum ipam_scalar_type ipam_scalar_resolve(const char *s);
bool ipam_scalar_is_null(const char *s);
/* Parse a core-schema boolean; 0 on success. */
int ipam_scalar_bool(const char *s, bool *out);
/* Parse a core-schema integer (decimal, 0o, 0x); 0 on success. */
int ipam_scalar_int(const char *s, long long *out);

/*
 * A fully qualified DNS name as AD uses it: two or more labels of
 * letters, digits and hyphens (1 to 63 characters, no hyphen at either
 * end), at most 253 characters, no trailing dot, last label not numeric.
 */
bool ipam_scalar_is_fqdn(const char *s);

/* Damerau-Levenshtein distance, capped at cap + 1. */
int ipam_scalar_edit_distance(const char *a, const char *b, int cap);

/*
 * For each of the n strings (NULL: none), the index of the first one equal
 * to it (itself when it is the first), compared with strcmp or, when
 * nocase, strcasecmp: duplicate checks in O(n log n), not a scan per
 * entry.  first has room for n.
 */
void ipam_scalar_first_equal(size_t *first, const char *const *strs, size_t n,
			     bool nocase);

#endif
