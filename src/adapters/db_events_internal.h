/*
 * What db_events.c (the import) and db_events_track.c (the search, the
 * pruning and the purge) share: the posting key of a search key and the
 * postings of one batch in memory.  Private to those two files.
 */
#ifndef IPAM_DB_EVENTS_INTERNAL_H
#define IPAM_DB_EVENTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_events.h"
#include "strbuf.h"

/*
 * The posting key (dhcp_event_postings.k) of a search key: FNV-1a over
 * the kind (one byte, 1 + by) and the key's bytes, then SplitMix64's
 * finalizer.  Stored: never change it without a migration.
 */
uint64_t ipam_db_events_hash(enum ipam_db_track_by by, const char *key,
			     size_t len);

/* The segment of a batch whose first event id is first (db_schema.c). */
#define IPAM_DB_EVENTS_SEG_SHIFT 19

/* The posting keys of an event from its stored columns (NULL or empty:
 * no key); returns how many of keys[3] it set.  tmp is scratch. */
size_t ipam_db_events_row_keys(uint64_t keys[3], const char *ip,
			       const char *client_id, const char *host,
			       struct strbuf *tmp);

/* One key's ids in a batch being built: unsigned LEB128 varints of the
 * differences between ascending ids (the first from 0). */
struct ipam_db_events_posting {
	uint64_t k;
	long long last;	     /* the last id added */
	uint32_t len, alloc; /* alloc 0: a free slot */
	union {
		unsigned char in[16]; /* alloc <= 16: the bytes are here */
		unsigned char *heap;
	} u;
};

/* The bytes of p. */
const unsigned char *
ipam_db_events_posting_bytes(const struct ipam_db_events_posting *p);

/* An open-addressing hash map by k; its size is bounded by the keys of
 * one batch. */
struct ipam_db_events_postings {
	struct ipam_db_events_posting *v;
	size_t nr, cap; /* cap: 0 or a power of two */
};

void ipam_db_events_postings_add(struct ipam_db_events_postings *m, uint64_t k,
				 long long id);
/* Whether k is in m. */
bool ipam_db_events_postings_has(const struct ipam_db_events_postings *m,
				 uint64_t k);
/* The entries in use, sorted by k, into a new array of m->nr (the
 * buffers stay m's). */
struct ipam_db_events_posting *
ipam_db_events_postings_sorted(const struct ipam_db_events_postings *m);
void ipam_db_events_postings_release(struct ipam_db_events_postings *m);

#endif
