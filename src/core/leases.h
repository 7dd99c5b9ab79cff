/*
 * Whether an address holds a DHCP lease, from the audit events of the
 * servers' logs: the last lease event per address decides.  A new lease or
 * a renewal (IPv4 10, 11; IPv6 11002 request, 11003 confirm, 11004 renew,
 * 11005 rebind) holds it until the lease ends; a release (12, 11007), a
 * deletion (16, 11016) or an expiry (17, 18, 11018) ends it at once.
 * Other events (NACKs, DNS updates, server start) decide nothing.
 *
 * The audit log does not carry the lease time: a lease is taken to last
 * IPAM_LEASE_DEFAULT_SECS (8 days, the Windows DHCP server's default
 * scope lease) from its last grant or renewal.  Pure: no I/O.
 *
 * Prefixes: ipam_lease_, ipam_leases_
 */
#ifndef IPAM_LEASES_H
#define IPAM_LEASES_H

#include <stdbool.h>
#include <stddef.h>

#define IPAM_LEASE_DEFAULT_SECS (8LL * 24 * 3600)

/* What one audit event means for the lease of its address. */
enum ipam_lease_kind {
	IPAM_LEASE_OTHER = 0, /* decides nothing */
	IPAM_LEASE_GRANT,     /* new lease, renewal */
	IPAM_LEASE_RELEASE,   /* released by the client */
	IPAM_LEASE_DELETE,    /* deleted by an administrator */
	IPAM_LEASE_EXPIRE,    /* expired */
};

enum ipam_lease_kind ipam_lease_kind_of(int event_id);
/* "lease", "release", "delete", "expire", "other". */
const char *ipam_lease_kind_name(enum ipam_lease_kind k);

/* One audit event of an address. */
struct ipam_lease_event {
	long long at;  /* UTC seconds */
	long long seq; /* the order of events of the same second (row id) */
	int event_id;  /* the audit log's ID */
	long long server_id; /* the DHCP server whose log has it */
	const char *mac;     /* client id (MAC or DUID), or NULL */
	const char *host;    /* host name, or NULL */
};

/* The lease of an address at a moment. */
struct ipam_lease_state {
	bool in_use;	     /* holds an unexpired lease */
	long long expires;   /* end of the last lease (0: never leased) */
	long long first;     /* the first event, UTC seconds (0: none) */
	long long last;	     /* the last event */
	long long server_id; /* of the last deciding event (0: none) */
	/* of the last event carrying them; point into the events */
	const char *mac, *host;
	const struct ipam_lease_event *decided; /* the last deciding event */
};

/*
 * The state at now of the address whose events are ev[0..nr), in any
 * order: the last deciding event (by at, then seq) decides; a grant holds
 * the address until at + lease_secs (<= 0: IPAM_LEASE_DEFAULT_SECS).
 * Overlapping grants (a renewal by a failover partner, a new lease before
 * the old one ended) extend the lease from the later one.
 */
void ipam_leases_decide(struct ipam_lease_state *out,
			const struct ipam_lease_event *ev, size_t nr,
			long long now, long long lease_secs);

#endif
