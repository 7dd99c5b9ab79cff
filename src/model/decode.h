/*
 * The desired state from parsed YAML: node trees (one per file, merged in
 * order) decoded into a struct ipam_desired, every problem reported as a
 * diagnostic at the node it concerns.  Unknown keys, wrong types, secrets
 * written inline and keys set twice across files are caught here; the
 * rules across values are validate.h's.
 */
#ifndef IPAM_DECODE_H
#define IPAM_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "node.h"

/* Largest desired-state file read. */
#define IPAM_DECODE_MAX_FILE (64u << 20)

/*
 * Decode roots[0..n) into d (whose files[] name them).  A NULL root is a
 * file that could not be read; unreadable says some file failed before
 * decoding.  Returns 0, or -1 when a file was unusable, in which case the
 * rules across files were not checked (they would report what is merely
 * missing from the unreadable file).
 */
int ipam_decode(struct ipam_desired *d, struct ipam_node *const *roots,
		size_t n, bool unreadable, struct ipam_diags *diags);

/* Does a directory entry count as a desired-state file: *.yaml or *.yml,
 * not hidden.  (The git source applies the same rule to a tree.) */
int ipam_decode_is_yaml_name(const char *name);

/* collection.intervals: at least a minute, at most a year. */
#define IPAM_DECODE_MIN_INTERVAL 60
#define IPAM_DECODE_MAX_DURATION (365LL * 86400)
#define IPAM_DECODE_MAX_RETAIN	 36500

/* A duration: one or more <digits><unit>, unit s, m, h or d ("1h30m"),
 * at most IPAM_DECODE_MAX_DURATION, into seconds; -1 when it is not. */
int ipam_decode_duration(const char *s, long long *out);

/* Does s read as an IANA time zone name (Europe/Berlin, Etc/GMT+1):
 * letters, digits, '/', '_', '-', '+', no "..", not absolute.  Whether
 * the zone exists is the config load's (it looks at the zoneinfo files). */
bool ipam_decode_tz_name_ok(const char *s);

#endif
