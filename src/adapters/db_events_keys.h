/*
 * The audit events' keys as the import computes them (db_events_keys.c;
 * ipam_db_track_key and the postings' hashes are declared in db_events.h
 * and db_events_internal.h).
 *
 * Prefixes: ipam_db_events_, ipam_db_track_
 */
#ifndef IPAM_DB_EVENTS_KEYS_H
#define IPAM_DB_EVENTS_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* ipam_db_events_row_keys of strings of known lengths (0: none). */
size_t ipam_db_events_row_keys_n(uint64_t keys[3], const char *ip,
				 size_t ip_len, const char *client_id,
				 size_t client_len, const char *host,
				 size_t host_len);
/* Is s (n bytes) an IPv4 address as its key writes it (four decimal
 * numbers up to 255 without leading zeros, '.' between)?  Then it is its
 * own key. */
bool ipam_db_events_ipv4_canonical(const char *s, size_t n);
/* s (n bytes) in lower case into out when it is all hex digits (what
 * ipam_client_id_normalize gives of it, or, an odd count, what the import
 * keeps of it); false, out untouched, for any other. */
bool ipam_db_events_hex_lower(struct strbuf *out, const char *s, size_t n);

#endif
