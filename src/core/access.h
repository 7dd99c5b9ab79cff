/*
 * IPAM access status, as the Windows console shows it: per managed server
 * four detail statuses (DHCP RPC, DHCP audit share, DNS RPC, event log),
 * each with its reason, the overall status and the recommended action.
 * Pure: the probes (engine/verify) fill the details, this module says
 * what applies to which roles and what follows from the details.
 */
#ifndef IPAM_ACCESS_H
#define IPAM_ACCESS_H

#include <stdbool.h>

#include "model.h"

enum ipam_access_status {
	IPAM_ACCESS_NOT_CHECKED = 0,
	IPAM_ACCESS_UNBLOCKED,
	IPAM_ACCESS_BLOCKED,
	IPAM_ACCESS_NOT_APPLICABLE,
};

/* The four details, in the console's column order. */
enum ipam_access_detail {
	IPAM_ACCESS_DHCP_RPC,
	IPAM_ACCESS_DHCP_AUDIT_SHARE,
	IPAM_ACCESS_DNS_RPC,
	IPAM_ACCESS_EVENT_LOG,
	IPAM_ACCESS_NR_DETAILS,
};

enum ipam_access_action {
	IPAM_ACCESS_ACTION_NONE = 0,  /* unmanaged: nothing recommended */
	IPAM_ACCESS_ACTION_UNBLOCKED, /* "IPAM Access Unblocked" */
	IPAM_ACCESS_ACTION_UNBLOCK,   /* "Unblock IPAM Access" */
	IPAM_ACCESS_ACTION_SET_MANAGEABILITY, /* "Set Manageability Status" */
};

struct ipam_access_result {
	enum ipam_access_status status;
	char *reason; /* words an administrator acts on; NULL when none */
};

struct ipam_access {
	struct ipam_access_result detail[IPAM_ACCESS_NR_DETAILS];
	enum ipam_access_status overall; /* never NOT_APPLICABLE */
	enum ipam_access_action action;
};

/* "Unblocked", "Not checked", ... as the console and the database say. */
const char *ipam_access_status_name(enum ipam_access_status s);
int ipam_access_status_parse(const char *s, enum ipam_access_status *out);
/* "DHCP RPC", "DHCP audit share", "DNS RPC", "Event log". */
const char *ipam_access_detail_name(enum ipam_access_detail d);
/* "dhcp_rpc", ... (JSON keys and database columns). */
const char *ipam_access_detail_key(enum ipam_access_detail d);
/* "IPAM Access Unblocked", ...; "" for IPAM_ACCESS_ACTION_NONE. */
const char *ipam_access_action_name(enum ipam_access_action a);
int ipam_access_action_parse(const char *s, enum ipam_access_action *out);

/*
 * Whether detail d applies to a server with roles (IPAM_ROLE_* bits):
 * RPC and audit share for DHCP, RPC for DNS, the event log for all four.
 */
bool ipam_access_applies(enum ipam_access_detail d, unsigned roles);

/*
 * The overall status and recommended action from the details: Unblocked
 * only when every applicable detail is Unblocked, Blocked when one is,
 * else Not checked.  Details that do not apply to roles are set to Not
 * applicable (their reason dropped) first.  Unspecified servers are not
 * probed: Not checked, "Set Manageability Status".
 */
void ipam_access_settle(struct ipam_access *a, unsigned roles,
			enum ipam_manageability m);

/* Set detail d (reason copied; NULL for none), replacing what was there. */
void ipam_access_set(struct ipam_access *a, enum ipam_access_detail d,
		     enum ipam_access_status s, const char *reason);
void ipam_access_release(struct ipam_access *a);

struct ipam_gpo_state;

/*
 * What ipamctl knows itself about why a server is blocked, added to the
 * reasons of its Blocked details (after what the probe said, "; "
 * between): the GPO of a role the detail needs missing, not linked, or
 * its security filtering without the server (sid, as the inventory has
 * it; NULL: unknown), IPAMUG without the IPAM server, and a DNS server
 * that is not a DC (the IPAM server needs local Administrators there).
 * st NULL: only what the roles say.
 */
void ipam_access_hints(struct ipam_access *a, unsigned roles, const char *sid,
		       const struct ipam_gpo_state *st);

#endif
