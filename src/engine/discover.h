/*
 * Server discovery, IPAM's ServerDiscovery task made exact: per discovery
 * domain, the domain controllers (LDAP), the DNS servers (NS records of
 * the zone), the DHCP servers (authorized in AD and answering a
 * DHCPINFORM) and the declared servers (resolving, with a computer object,
 * no address collision), each role with a completeness verdict.
 */
#ifndef IPAM_DISCOVER_H
#define IPAM_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "observed.h"

/*
 * Where discovery says what it is doing: fn(ctx, domain, step) before each
 * step, and fn(ctx, domain, NULL) when the domain is done.  fn NULL: say
 * nothing.  The caller decides how (and whether) it is shown.
 */
struct ipam_discover_progress {
	void (*fn)(void *ctx, const char *domain, const char *step);
	void *ctx;
};

/*
 * Called on the domain's worker thread once its discovery is done, with
 * the index of dom in d->domains: the reconciler reads the domain's GPO
 * state there, so that each domain's discovery and GPO read run one after
 * the other while other domains run beside them.
 */
struct ipam_discover_then {
	void (*fn)(void *ctx, size_t domain_index);
	void *ctx;
};

struct ipam_discover_opts {
	const char *only_domain; /* NULL: every discovery domain */
	/* Domains discovered at once (a bounded pool of threads); 0 or 1:
	 * one after the other.  Progress calls are never concurrent. */
	int parallel;
	struct ipam_discover_then then;
	struct ipam_discover_progress progress;
	int dhcp_client_port; /* 68 */
	int dhcp_server_port; /* 67 */
	int dhcp_timeout_ms;  /* per try */
	int dhcp_tries;
};

void ipam_discover_opts_init(struct ipam_discover_opts *o);

/*
 * Discover; a failing source never fails the call: it marks its role
 * incomplete with the reason.  Returns nonzero only for a problem before
 * discovery (an unknown --domain), with the last error set.
 */
int ipam_discover(struct ipam_observed **out, const struct ipam_desired *d,
		  const struct ipam_discover_opts *o);

/*
 * The IPAM rule for domain controllers: a Windows DC is discovered when
 * its operatingSystemVersion is 6.0 or later; a DC that does not run
 * Windows (Samba) is kept and said so.  Returns 1 to keep, 0 to exclude;
 * *why receives a static explanation for an exclusion or a kept oddity.
 */
int ipam_discover_dc_eligible(const char *os_name, const char *os_version,
			      const char **why);

/* Every server address used by two servers, as "a and b share x" lines
 * in each domain's errors (when one of them is declared) or warnings. */
void ipam_discover_check_collisions(struct ipam_observed *o);

#endif
