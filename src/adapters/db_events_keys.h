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

#include "dhcplog.h"
#include "strbuf.h"

/* ipam_db_events_row_keys of strings of known lengths (0: none). */
size_t ipam_db_events_row_keys_n(uint64_t keys[3], const char *ip,
				 size_t ip_len, const char *client_id,
				 size_t client_len, const char *host,
				 size_t host_len);
/* The ip and client_id columns of e (lengths ip_len and client_len) as
 * the import stores them, into ip and client (reset first; empty: none):
 * the key (ipam_db_track_key), or a value that is no address or hex as
 * written (a client id in lower case). */
void ipam_db_events_keys_of(struct strbuf *ip, struct strbuf *client,
			    const struct ipam_dhcplog_event *e, size_t ip_len,
			    size_t client_len);

#endif
