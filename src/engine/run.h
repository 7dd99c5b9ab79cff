/*
 * The life of one run of the reconciler, the same for every command that
 * changes (or plans to change) AD: begin (take the reconciler lock, start
 * the run record), prepare (discover, read the GPO state, diff -- or the
 * caller's own step), the safety checks, apply (the plan, journalled -- or
 * the caller's own step), end (record the outcome and summary, release
 * the lock), and the webhook notices of the caller's hook list.
 *
 * The caller decides what is printed: no step prints; each returns 0 or
 * a negative IPAM_E* code with the last error set.
 *
 * Layer engine/ (this header is its centre): what composes adapters --
 * loading the desired state, connecting, discovery, the GPO engine,
 * reconcile and this lifecycle.  Uses adapters/ and below; never prints.
 */
#ifndef IPAM_RUN_H
#define IPAM_RUN_H

#include <stdbool.h>

#include "model.h"
#include "node.h"
#include "notify.h"
#include "reconcile.h"

struct ipam_db;

/* Domains handled at once when the command does not say (--parallel). */
#define IPAM_RUN_PARALLEL 4
/* No more threads than this, whatever is asked. */
#define IPAM_RUN_PARALLEL_MAX 64

enum ipam_run_kind {
	IPAM_RUN_PLAN,
	IPAM_RUN_APPLY,
	IPAM_RUN_DRIFT,
	IPAM_RUN_RECONCILE,
	IPAM_RUN_PROVISION,
	IPAM_RUN_GPO_FILTER,
	IPAM_RUN_VERIFY,  /* access probes only: changes nothing in AD */
	IPAM_RUN_COLLECT, /* a collection task: reads, changes nothing */
};

/* The webhooks a run tells (none: nothing is sent). */
struct ipam_run_hooks {
	struct ipam_hook *v;
	size_t nr;
};

struct ipam_run;

/* A step of the caller's own (provision, gpo filter): 0 or IPAM_E*. */
typedef int (*ipam_run_step_fn)(struct ipam_run *run, void *ctx);

struct ipam_run {
	enum ipam_run_kind kind;
	const struct ipam_desired *d;
	struct ipam_db *db;  /* NULL: nothing locked, nothing recorded */
	const char *command; /* in the history; default: the kind's name */
	const char *lock_as; /* the lock's holder; default: the kind's name */
	bool lock, record;   /* default: true when there is a database */
	int lock_timeout;    /* seconds to wait for another run */
	long long allow_removals; /* -1: safety.maxRemovals */
	bool with_result;     /* the summary has the apply's counts (apply and
				 reconcile that apply) */
	bool summary_newline; /* provision's record ends its summary with a
				 newline, as it always has */

	/* Where the desired state came from: the ownership mark's source,
	 * the commit recorded (a checkout's may end in "+dirty"), and the
	 * commit fetched from the repository (for the summary and the
	 * notices; id NULL when not from git). */
	const char *source;
	const char *commit;
	struct {
		const char *id, *author, *subject;
		/* who signed it, when source.verify found it good (else
		 * NULL): recorded with the run, told in every notice */
		const char *signer, *signer_key;
	} fetched;

	const struct ipam_run_hooks *hooks; /* NULL: no notices */
	struct ipam_discover_progress progress;
	int (*stop)(void); /* asked between actions; NULL: never */
	int parallel;	   /* domains at once (0: IPAM_RUN_PARALLEL) */

	/* Own steps instead of the reconciler's (NULL: reconcile). */
	ipam_run_step_fn prepare, apply;
	void *ctx;

	/* Filled by the steps. */
	long long id; /* the run record, 0 when none */
	bool locked, prepared, applied;
	/* The dead holder whose lock begin took over ("apply (pid 42 on
	 * host) since ..."), NULL when none: the caller warns. */
	char *took_over;
	struct ipam_reconcile r;
	struct ipam_apply_result res;
	/* The summary recorded by end: the caller's when it set one before,
	 * else the reconciler's; kept for the caller to print. */
	struct ipam_node *summary;
};

/* The kind's name ("plan", "gpo-filter", ...). */
const char *ipam_run_kind_name(enum ipam_run_kind kind);

void ipam_run_init(struct ipam_run *run, enum ipam_run_kind kind,
		   const struct ipam_desired *d, struct ipam_db *db);

/* Take the lock (waiting up to lock_timeout) and start the run record. */
int ipam_run_begin(struct ipam_run *run);

/* Record the source of the run: its commit (and with a fetched commit
 * its author, and its signer when verified) and the digest of the
 * desired state (NULL: unknown). */
int ipam_run_record_source(struct ipam_run *run, const char *config_digest);

/* The caller's prepare, or the reconciler's: discover, read, diff, then
 * record the source with the desired state's digest. */
int ipam_run_prepare(struct ipam_run *run);

/* safety.maxRemovals (or allow_removals): IPAM_ECONFLICT when the plan
 * removes more; the hooks are told (refused). */
int ipam_run_safety(struct ipam_run *run);

/* IPAM_ECONFLICT when something not ipamctl's stands in the way, IPAM_ERROR
 * when a domain was seen incompletely: the plan is not exact. */
int ipam_run_complete(const struct ipam_run *run);

/* The caller's apply, or the reconciler's (journalled under the run). */
int ipam_run_apply(struct ipam_run *run);

/*
 * End the run: record outcome ("succeeded", "no_changes", "failed",
 * "refused", "interrupted") and the summary (with error, when not NULL),
 * then release the lock.  Nothing is recorded without a run record.
 */
int ipam_run_end(struct ipam_run *run, const char *outcome, const char *error);

/* Free what the steps made; releases the lock if end did not run. */
void ipam_run_release(struct ipam_run *run);

/* Add the hooks of d's notify: to h, but none to a target h has; with
 * only (event bits), just the hooks that want one of them, so that a hook
 * skipped as a duplicate is one that would have sent the same event. */
void ipam_run_hooks_add(struct ipam_run_hooks *h, const struct ipam_desired *d,
			unsigned only);
void ipam_run_hooks_release(struct ipam_run_hooks *h);

/* Tell the hooks ev, with a summary line and details (a map, or NULL);
 * the commit's verified signer goes into details as "signer" and
 * "signer_key" (so details, the caller's, gains those keys). */
void ipam_run_notify(const struct ipam_run *run, enum ipam_event ev,
		     struct ipam_node *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Tell the hooks about the drift the plan found (none: nothing). */
void ipam_run_notify_drift(const struct ipam_run *run);

/* Tell the hooks how the apply went: applied (when there were actions)
 * or apply failed with error. */
void ipam_run_notify_applied(const struct ipam_run *run, const char *error);

#endif
