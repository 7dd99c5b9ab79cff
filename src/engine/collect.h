/*
 * The collection tasks: what IPAM retrieves from its managed servers.
 *
 *   audit         the DHCP audit logs over SMB (collect_audit.c)
 *   dns           the AD-integrated zones and records over LDAP
 *                 (collect_dns.c)
 *   zones         zone monitoring: each hosting server asked for the
 *                 zone's SOA and NS (collect_zones.c)
 *   availability  DHCP and DNS service up or down (collect_avail.c)
 *
 * Only managed servers are collected.  A task's failure on one server is
 * a result for that server, not an error: the others go on, and what was
 * collected from it before is kept.  An error (IPAM_E*) is for what stops
 * the whole task (the database, no identity ticket).
 *
 * Prefixes: ipam_collect_
 */
#ifndef IPAM_COLLECT_H
#define IPAM_COLLECT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "node.h"

struct ipam_db;
struct ipam_probe_identity;
struct ipam_run_hooks;

/* What one server gave the task. */
struct ipam_collect_server {
	char *name;
	bool ok;
	char *detail; /* the reason when !ok, else a short summary or NULL */
};

#define IPAM_COLLECT_MAX_COUNTS	  8
#define IPAM_COLLECT_MAX_WARNINGS 100

struct ipam_collect_result {
	enum ipam_task task;
	struct ipam_collect_server *servers;
	size_t nr, alloc;
	/* Named counts, in the order first added ("events", "files", ...). */
	struct {
		const char *name; /* a string literal */
		long long n;
	} counts[IPAM_COLLECT_MAX_COUNTS];
	size_t nr_counts;
	/* What was worth telling ("DhcpSrvLog-Mon.log:41: bad date"), at most
	 * IPAM_COLLECT_MAX_WARNINGS kept, the rest counted. */
	char **warnings;
	size_t nr_warnings, alloc_warnings, warnings_dropped;
	long long ms;
};

struct ipam_collect_opts {
	const char *domain; /* only servers of this discovery domain */
	const char *server; /* only this server */
	long long run_id;   /* the run recorded with what is stored */
	long long now;	    /* UTC seconds the task runs at (0: time()) */
	int lock_timeout;   /* ipam_collect_run_task: seconds to wait for
			       the reconciler lock */
};

/* What a task works with: the desired state, the database, the IPAM
 * identity's ticket (NULL for tasks that need none). */
struct ipam_collect_ctx {
	const struct ipam_desired *d;
	struct ipam_db *db;
	const struct ipam_probe_identity *id;
	const struct ipam_collect_opts *o;
};

/* A managed server in scope, from the inventory. */
struct ipam_collect_target {
	char *name, *domain;
	unsigned roles;
	char *addr; /* the inventory's first address, or NULL */
	/* timeZone: the server's, its domain's, or NULL (UTC). */
	const char *time_zone;
};

/*
 * The managed servers of the inventory with any of roles (IPAM_ROLE_*),
 * restricted by o->domain and o->server.  IPAM_ENOTFOUND when o->server
 * names no server of the inventory; a server that is not managed is
 * IPAM_EINVAL ("'x' is unmanaged: only managed servers are collected").
 */
int ipam_collect_targets(struct ipam_collect_target **out, size_t *nr,
			 const struct ipam_collect_ctx *c, unsigned roles);
void ipam_collect_targets_free(struct ipam_collect_target *v, size_t nr);

/*
 * A fresh ticket of the IPAM identity (identity.keytab or .ccache) in a
 * private directory, for the tasks that read as the identity: IPAM_EINVAL
 * when the desired state names no identity, IPAM_EAUTH when the KDC
 * refuses it.
 */
int ipam_collect_identity_open(struct ipam_probe_identity **out,
			       const struct ipam_desired *d);

/* The tasks.  Each fills out (out->task set by the callee). */
int ipam_collect_audit(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *c);
int ipam_collect_dns(struct ipam_collect_result *out,
		     const struct ipam_collect_ctx *c);
int ipam_collect_zones(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *c);
int ipam_collect_availability(struct ipam_collect_result *out,
			      const struct ipam_collect_ctx *c);

/*
 * Run collection task t (availability, zones, dns or audit) as a run of
 * its own, "collect <task>" in the history: opens the identity when the
 * task reads as it, runs the task, stores each server's outcome
 * (collect_server_status) and the task's last run (collect_tasks), ends
 * the run with the summary, and tells hooks collection_failed when the
 * task or a server failed.  Returns the task's error; out holds what was
 * done either way.  Discovery and access are not run here: IPAM_EINVAL.
 */
int ipam_collect_run_task(struct ipam_collect_result *out, enum ipam_task t,
			  const struct ipam_desired *d, struct ipam_db *db,
			  const struct ipam_collect_opts *o,
			  const struct ipam_run_hooks *hooks);

/* Result building (collect.c). */
void ipam_collect_server_add(struct ipam_collect_result *r, const char *name,
			     bool ok, const char *detail_fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ipam_collect_count(struct ipam_collect_result *r, const char *name,
			long long n);
long long ipam_collect_count_get(const struct ipam_collect_result *r,
				 const char *name);
void ipam_collect_warn(struct ipam_collect_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Servers that failed. */
size_t ipam_collect_failed(const struct ipam_collect_result *r);
void ipam_collect_result_release(struct ipam_collect_result *r);

/* "events 12, files 3; 1 of 2 servers failed" for the history. */
void ipam_collect_summary(struct strbuf *out,
			  const struct ipam_collect_result *r);
/* The result as collect -o json prints it for one task. */
struct ipam_node *ipam_collect_to_node(const struct ipam_collect_result *r);

#endif
