/*
 * What the pieces of the decoder share: its state and the checked readers
 * of mappings and scalars.  Private to src/model/decode*.c.
 *
 *   decode.c             the desired state's keys
 *   decode_collection.c  collection: (intervals, retainDays), the
 *                        syntax of timeZone names, databaseConnection:
 *   decode_addrspace.c   addressSpace: (blocks, ranges) and report:
 */
#ifndef IPAM_DECODE_INTERNAL_H
#define IPAM_DECODE_INTERNAL_H

#include <stddef.h>

#include "decode.h"

struct seen_key {
	const char *key;
	struct ipam_pos pos;
};

struct decoder {
	struct ipam_desired *d;
	struct ipam_diags *diags;
	struct seen_key seen[24]; /* top-level keys, across files */
	size_t nr_seen;
	size_t decl;
	int unreadable; /* a file failed to parse: cross-file rules would lie */
	int version_seen;
};

/* "a mapping", "an integer", ... for messages. */
const char *ipam_decode_describe(const struct ipam_node *n);

/* A non-empty string into *out (its position with it). */
int ipam_decode_string(struct decoder *dc, const struct ipam_node *n,
		       const char *key, struct ipam_str *out);

/* An integer; min and max only name the range of one too large for any. */
int ipam_decode_int(struct decoder *dc, const struct ipam_node *n,
		    const char *key, long long min, long long max,
		    long long *out, struct ipam_pos *pos);

/*
 * The mapping n as the value of key, with its keys checked: NULL when n is
 * not a mapping (diagnosed), else *ok says which entries to use (free it).
 */
const struct ipam_node *
ipam_decode_map(struct decoder *dc, const struct ipam_node *n, const char *key,
		const char *const known[], const char *where, char **ok);

/* Advance *i to the next usable entry of a checked mapping. */
int ipam_decode_next(const struct ipam_node *map, const char *ok, size_t *i,
		     const char **key, const struct ipam_node **val);

#define FOR_EACH_KEY(map, ok, i, key, val)                                     \
	for ((i) = 0; ipam_decode_next((map), (ok), &(i), &(key), &(val));     \
	     (i)++)

/* collection: (decode_collection.c). */
void ipam_decode_collection(struct decoder *dc, const struct ipam_node *n);

/* timeZone: a string that reads as an IANA name (decode_collection.c). */
void ipam_decode_time_zone(struct decoder *dc, const struct ipam_node *n,
			   struct ipam_str *out);

/* addressSpace: (decode_addrspace.c); cross-item rules are validation's. */
void ipam_decode_address_space(struct decoder *dc, const struct ipam_node *n);

/* databaseConnection: (decode_collection.c). */
void ipam_decode_db_connection(struct decoder *dc, const struct ipam_node *n);

/* report: (decode_addrspace.c). */
void ipam_decode_report(struct decoder *dc, const struct ipam_node *n);

#endif
