/*
 * ipamctl reconcile: one full cycle -- fetch, validate, discover, plan,
 * apply (or report only), record, notify -- for systemd timers and cron,
 * or with --every a long-lived loop.  ipamctl status: the last applied and
 * the last attempted desired state.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "gitsrc.h"
#include "json.h"
#include "log.h"
#include "notify.h"
#include "planout.h"
#include "reconcile.h"
#include "strbuf.h"
#include "banned.h"

const struct command cmd_reconcile_def = {
	.name = "reconcile",
	.summary = "fetch, plan, apply and report: once, or --every interval",
	.usage =
		"reconcile [-c PATH] [--repo URL [--ref REF] [--path DIR]] "
		"[--cache DIR]\n"
		"          [--dry-run] [--every DURATION [--jitter PCT]] "
		"[--lock-timeout S]\n"
		"          [--allow-removals N]\n\n"
		"One reconcile cycle: fetch the desired state (from git when "
		"--repo or\n"
		"the configuration's source: names a repository, else -c), "
		"validate it,\n"
		"discover, plan, apply (nothing with --dry-run or suspend: "
		"true), record\n"
		"the run with its commit, and notify the webhooks of notify:.  "
		"A commit\n"
		"that fails to fetch, parse or validate applies nothing; the "
		"last good one\n"
		"stays in force and the next cycle tries again.\n\n"
		"  --every 15m  run a cycle every interval (s, m, h) until "
		"SIGTERM or\n"
		"               SIGINT (the current step finishes first); "
		"SIGHUP re-reads\n"
		"               -c (kept only if valid), SIGUSR1 runs a cycle "
		"now\n"
		"  --jitter 10% spread the cycles by up to this share of the "
		"interval\n\n"
		"Exit status of a single cycle: 0 applied or nothing to do, "
		"1 error or\n"
		"refusal, 2 drift or changes found with --dry-run or suspend.",
	.run = cmd_reconcile,
};

const struct command cmd_status_def = {
	.name = "status",
	.summary = "the last applied and last attempted desired state",
	.usage = "status [-c PATH] [-o text|json]\n\n"
		 "From the run history: the last run that applied (or found "
		 "nothing to do)\n"
		 "with its commit (author, subject) and time, and the last "
		 "attempt, with its\n"
		 "outcome and error when it failed.  The database: --db, else "
		 "-c's database:,\n"
		 "else the default (reconcile's rule; status reads no "
		 "repository).",
	.run = cmd_status,
};

/* ---- signals ------------------------------------------------------------ */

/* The command of a run that planned and reported only (--dry-run or
 * suspend: true): never "last applied". */
#define REPORT_ONLY "reconcile-report"

/* Seconds a fetch of the desired state may take. */
#define GIT_TIMEOUT 300

static sigset_t loop_signals;

static void block_signals(void)
{
	sigemptyset(&loop_signals);
	sigaddset(&loop_signals, SIGTERM);
	sigaddset(&loop_signals, SIGINT);
	sigaddset(&loop_signals, SIGHUP);
	sigaddset(&loop_signals, SIGUSR1);
	sigprocmask(SIG_BLOCK, &loop_signals, NULL);
}

static int stop_requested;

/* Between steps: a pending SIGTERM or SIGINT means stop after this one. */
static int should_stop(void)
{
	sigset_t pending;

	if (stop_requested)
		return 1;
	if (sigpending(&pending))
		return 0;
	if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT))
		stop_requested = 1;
	return stop_requested;
}

/* ---- one cycle ----------------------------------------------------------- */

struct loop {
	struct cli *cli;
	struct ipam_desired *local; /* -c, when there is one */
	const char *repo, *ref, *path, *cache;
	bool dry_run;
	int lock_timeout;
	long long allow_removals;
	long long every, jitter_pct;
	/* The last valid desired state and its commit ("local" for -c
	 * files), kept from cycle to cycle by the --every loop. */
	struct ipam_desired *good;
	char *last_good;
	const char *url; /* the repository of this cycle, or NULL */
};

/* The commit a cycle fetched: id ("" when none), author and subject. */
struct commit_info {
	char id[41];
	char *author, *subject; /* NULL when unknown */
	bool fetched;		/* the repository answered */
};

static void commit_info_release(struct commit_info *c)
{
	free(c->author);
	free(c->subject);
	memset(c, 0, sizeof(*c));
}

struct hooks {
	struct ipam_hook *v;
	size_t nr;
};

static bool same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Two hooks that would post to the same place (a Slack or Teams hook
 * without url: has its secret as the URL). */
static bool same_target(const struct ipam_hook *k,
			const struct ipam_notify_cfg *c)
{
	if (k->url || c->url.value)
		return same_str(k->url, c->url.value);
	return same_str(k->secret_file, c->secret_file.value) ||
	       same_str(k->secret_env, c->secret_env.value);
}

/* Add the hooks of d's notify: to h, but none to a target h has; with
 * only (event bits), just the hooks that want one of them, so that a hook
 * skipped as a duplicate is one that would have sent the same event. */
static void hooks_add(struct hooks *h, const struct ipam_desired *d,
		      unsigned only)
{
	size_t have = h->nr;

	if (!d || !d->nr_notify)
		return;
	h->v = xrealloc(h->v, (h->nr + d->nr_notify) * sizeof(*h->v));
	for (size_t i = 0; i < d->nr_notify; i++) {
		const struct ipam_notify_cfg *c = &d->notify[i];
		struct ipam_hook *k;
		size_t j;

		if (only && !(c->events & only))
			continue;
		for (j = 0; j < have && !same_target(&h->v[j], c); j++)
			;
		if (j < have)
			continue;
		k = &h->v[h->nr++];

		ipam_hook_init(k);
		k->kind = !strcmp(c->kind.value, "slack")   ? IPAM_HOOK_SLACK
			  : !strcmp(c->kind.value, "teams") ? IPAM_HOOK_TEAMS
							    : IPAM_HOOK_GENERIC;
		k->url = c->url.value;
		k->events = c->events;
		k->secret_file = c->secret_file.value;
		k->secret_env = c->secret_env.value;
		k->ca_file = c->ca_file.value;
		k->timeout_ms = c->timeout * 1000;
	}
}

static void hooks_from(struct hooks *h, const struct ipam_desired *d)
{
	h->nr = 0;
	free(h->v);
	h->v = NULL;
	hooks_add(h, d, 0);
}

static void notify(const struct hooks *h, enum ipam_event ev,
		   const struct commit_info *commit, long long run_id,
		   const struct ipam_node *details, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void notify(const struct hooks *h, enum ipam_event ev,
		   const struct commit_info *commit, long long run_id,
		   const struct ipam_node *details, const char *fmt, ...)
{
	struct ipam_notice n = {0};
	struct strbuf sum = STRBUF_INIT;
	char run[32];
	va_list ap;

	if (!h->nr)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sum, fmt, ap);
	va_end(ap);
	snprintf(run, sizeof(run), "%lld", run_id);
	n.event = ev;
	n.summary = sum.buf;
	n.details = details;
	n.commit = commit->id[0] ? commit->id : NULL;
	n.author = n.commit ? commit->author : NULL;
	n.subject = n.commit ? commit->subject : NULL;
	n.run = run_id ? run : NULL;
	ipam_notify(h->v, h->nr, &n);
	strbuf_release(&sum);
}

/* The git source of this cycle: the CLI's, else the local source:. */
static bool git_opts(struct ipam_git_opts *go, const struct loop *L)
{
	const struct ipam_source_cfg *s = L->local ? &L->local->source : NULL;

	memset(go, 0, sizeof(*go));
	if (!L->repo && !(s && s->repo.value))
		return false;
	go->url = L->repo ? L->repo : s->repo.value;
	go->ref = L->ref ? L->ref : s && s->ref.value ? s->ref.value : "main";
	go->path = L->path ? L->path : s ? s->path.value : NULL;
	go->cache_dir = L->cache ? L->cache : s ? s->cache_dir.value : NULL;
	if (s) {
		go->token_file = s->token_file.value;
		go->token_env = s->token_env.value;
		go->ca_file = s->ca_file.value;
		go->ssh_key = s->ssh_key.value;
		go->known_hosts = s->known_hosts.value;
	}
	if (!go->cache_dir)
		go->cache_dir =
			geteuid() ? "ipamctl-cache" : "/var/cache/ipamctl";
	/* libgit2 has no network timeout of its own: the adapter bounds
	 * a remote fetch by running it in a child it kills at the end. */
	go->timeout = GIT_TIMEOUT;
	return true;
}

static const struct ipam_db_run *last_applied(const struct ipam_db_run *runs,
					      size_t nr);

/*
 * The state database of reconcile and status, one rule for every run
 * (a cycle's and a broken commit's alike): --db, else the local
 * configuration's database:, else the repository's desired state's (this
 * cycle's, or the last good one for a broken commit), else the default.
 * As the CLI would have it with the local database: given as --db.
 */
static struct cli db_cli(const struct cli *cli,
			 const struct ipam_desired *local)
{
	struct cli c = *cli;

	if (!c.db_uri && local && local->database.value)
		c.db_uri = local->database.value;
	return c;
}

static int state_db_path(const struct cli *cli,
			 const struct ipam_desired *local,
			 const struct ipam_desired *d, struct strbuf *out)
{
	struct cli c = db_cli(cli, local);

	return cli_db_path(&c, d, out);
}

/* Record a run that ended before planning (the source was bad); *good
 * gets the commit last applied, from the history (NULL if none).  d is
 * the last good desired state, if known, for the database path. */
static void record_failure(struct loop *L, const struct ipam_desired *d,
			   const struct commit_info *ci, const char *error,
			   long long *run_id, char **good)
{
	struct ipam_db *db = NULL;
	struct ipam_node *n;
	struct strbuf sum = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT;
	int version;

	*run_id = 0;
	if (!L->cli->db_uri && !(L->local && L->local->database.value) && !d &&
	    L->url)
		log_warn("the database of the broken commit is unknown (none "
			 "in --db or -c, no good commit seen yet): the "
			 "default one is used");
	/* The desired state is not usable: only the database is needed. */
	if (state_db_path(L->cli, L->local, d, &path) ||
	    ipam_db_open(&db, path.buf, 0) ||
	    ipam_db_check_schema(db, &version, 1)) {
		log_warn("the failed run is not recorded: %s",
			 ipam_error_last());
		strbuf_release(&path);
		ipam_db_close(db);
		return;
	}
	strbuf_release(&path);
	if (!ipam_db_run_begin(db, "reconcile", run_id)) {
		ipam_db_run_set_source(db, *run_id, ci->id[0] ? ci->id : NULL,
				       NULL);
		if (ci->id[0])
			ipam_db_run_set_author(db, *run_id, ci->author,
					       ci->subject);
		n = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(n, "error", error);
		if (!ipam_json_write(&sum, n, 0)) {
			strbuf_rtrim_newline(&sum);
			ipam_db_run_end(db, *run_id, "failed", sum.buf);
		}
		ipam_node_free(n);
	}
	{
		struct ipam_db_run *runs = NULL;
		const struct ipam_db_run *a;
		size_t nr = 0;

		/* a commit of the repository: a plain id (an apply from a
		 * local checkout records "<id>+dirty" when edited) */
		if (!ipam_db_runs_list(db, 0, &runs, &nr) &&
		    (a = last_applied(runs, nr)) && a->git_commit &&
		    strlen(a->git_commit) == 40 &&
		    strspn(a->git_commit, "0123456789abcdef") == 40)
			*good = xstrdup(a->git_commit);
		ipam_db_runs_free(runs, nr);
	}
	strbuf_release(&sum);
	ipam_db_close(db);
}

/* The desired state of a snapshot; diagnostics to stderr. */
static int parse_snapshot(struct ipam_desired **out,
			  const struct ipam_git_snapshot *snap,
			  struct ipam_diags *diags)
{
	struct ipam_source *src;
	int rc;

	src = xcalloc(snap->nr ? snap->nr : 1, sizeof(*src));
	for (size_t i = 0; i < snap->nr; i++) {
		src[i].name = snap->files[i].name;
		src[i].data = snap->files[i].data;
		src[i].len = snap->files[i].len;
	}
	/* The adapter refuses a tree without YAML files: nr > 0 here. */
	rc = ipam_config_load_sources(out, src, snap->nr, diags);
	free(src);
	return rc;
}

/*
 * The desired state of commit good of this cycle's repository, read again
 * through the cache -- one more fetch of a mirror just brought up to date
 * (for its notify: when the newest commit is broken);
 * NULL when it cannot be had.  Messages at notice level only: the cycle
 * has failed already, this is best effort.
 */
static struct ipam_desired *reread_good(struct loop *L, const char *good)
{
	struct ipam_git_opts go;
	struct ipam_git_snapshot snap = {0};
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;

	if (!git_opts(&go, L))
		return NULL;
	go.ref = good;
	if (ipam_git_fetch(&snap, &go) || parse_snapshot(&d, &snap, &diags)) {
		log_notice("the last applied commit %.12s cannot be read "
			   "again (its webhooks are not told): %s",
			   good, diags.nr ? "invalid" : ipam_error_last());
		ipam_desired_free(d);
		d = NULL;
	}
	ipam_diags_free(&diags);
	ipam_git_snapshot_release(&snap);
	return d;
}

/* The desired state of this cycle: from git, or from -c. */
static int load(struct loop *L, struct ipam_desired **out,
		struct commit_info *ci, struct strbuf *error)
{
	struct ipam_git_opts go;
	struct ipam_git_snapshot snap = {0};
	struct ipam_diags diags = {0};
	int rc;

	*out = NULL;
	memset(ci, 0, sizeof(*ci));
	L->url = NULL;
	if (!git_opts(&go, L)) {
		if (!cli_load_desired(L->cli, out))
			return 0;
		strbuf_addf(error, "the desired state %s is invalid",
			    cli_config_path(L->cli));
		return IPAM_EINVAL;
	}
	L->url = go.url;
	rc = ipam_git_fetch(&snap, &go);
	if (rc) {
		strbuf_addstr(error, ipam_error_last());
		log_error("%s", error->buf);
		return rc;
	}
	ci->fetched = true;
	memcpy(ci->id, snap.commit, 41);
	ci->author = snap.author ? xstrdup(snap.author) : NULL;
	ci->subject = snap.subject ? xstrdup(snap.subject) : NULL;
	log_notice("desired state: %s at %.12s (%s: %s)", go.url, snap.commit,
		   snap.author ? snap.author : "?",
		   snap.subject ? snap.subject : "");
	rc = parse_snapshot(out, &snap, &diags);
	cli_print_diags(stderr, &diags);
	if (rc) {
		const struct ipam_diag *first =
			diags.nr ? &diags.items[0] : NULL;

		strbuf_addf(error,
			    "the desired state at commit %.12s is invalid",
			    snap.commit);
		if (first) {
			strbuf_addstr(error, ": ");
			ipam_diag_format(error, first);
		}
		log_error("%s", error->buf);
	}
	ipam_diags_free(&diags);
	ipam_git_snapshot_release(&snap);
	return rc;
}

/* One cycle; returns the exit status it would have alone. */
static int cycle(struct loop *L)
{
	char checkout[48];
	struct ipam_desired *d = NULL;
	struct ipam_reconcile r = {0};
	struct ipam_plan_doc doc;
	struct ipam_reconcile_opts ro = {0};
	struct ipam_apply_result res = {0};
	struct ipam_db *db = NULL;
	struct hooks hooks = {0};
	struct strbuf err = STRBUF_INIT, sum = STRBUF_INIT;
	struct ipam_node *summary = NULL, *details = NULL;
	const char *outcome = "failed";
	struct commit_info ci;
	long long run_id = 0;
	bool locked = false, prepared = false, report_only = false;
	int rc, ret = IPAM_EXIT_ERROR;

	rc = load(L, &d, &ci, &err);
	if (rc) {
		/*
		 * Last known good stays in force: nothing is applied.  Told:
		 * the local configuration's webhooks and those of the last
		 * good desired state -- the loop's, or in a one-shot run the
		 * last applied commit read again through the cache (not
		 * when the repository did not answer: that would only wait
		 * for it again).
		 */
		struct ipam_desired *reread = NULL;
		const struct ipam_desired *gd = L->good;
		char *good = NULL;

		ipam_desired_free(d);
		d = NULL;
		record_failure(L, gd, &ci, err.buf, &run_id, &good);
		if (!good && L->last_good)
			good = xstrdup(L->last_good);
		if (!gd && good && L->url && ci.fetched)
			gd = reread = reread_good(L, good);
		hooks_add(&hooks, L->local,
			  IPAM_EVENT_BIT(IPAM_EVENT_SOURCE_INVALID));
		hooks_add(&hooks, gd,
			  IPAM_EVENT_BIT(IPAM_EVENT_SOURCE_INVALID));
		details = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(details, "error", err.buf);
		ipam_node_set(details, "still_in_force",
			      good ? ipam_node_str(good)
				   : ipam_node_new(IPAM_NODE_NULL));
		notify(&hooks, IPAM_EVENT_SOURCE_INVALID, &ci, run_id, details,
		       "ipamctl: %s%s%.12s; nothing applied", err.buf,
		       good ? "; still in force: " : "", good ? good : "");
		free(hooks.v);
		hooks.v = NULL;
		ipam_desired_free(reread);
		free(good);
		goto out;
	}
	free(L->last_good);
	L->last_good = xstrdup(ci.id[0] ? ci.id : "local");
	/* The loop keeps it: its notify: and database serve a later
	 * broken commit. */
	ipam_desired_free(L->good);
	L->good = d;
	hooks_from(&hooks, d);
	if (!d->nr_domains) {
		ipam_error_set(
			IPAM_EINVAL,
			"the desired state declares no discovery domain: "
			"refused (never read as 'remove everything')");
		details = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(details, "error", ipam_error_last());
		notify(&hooks, IPAM_EVENT_REFUSED, &ci, 0, details,
		       "ipamctl: %s", ipam_error_last());
		goto fail;
	}
	{
		struct cli c = db_cli(L->cli, L->local);

		rc = cli_open_db(&c, d, &db);
	}
	if (!rc)
		rc = ipam_db_lock(db, "reconcile", L->lock_timeout);
	if (rc)
		goto fail;
	locked = true;
	report_only = L->dry_run || d->suspend;
	rc = ipam_db_run_begin(db, report_only ? REPORT_ONLY : "reconcile",
			       &run_id);
	if (rc)
		goto fail;
	/* The mark on what ipamctl creates names the repository.  A local
	 * -c in a checkout records that checkout's commit, as plan does. */
	ro.source = L->url ? L->url : cli_config_path(L->cli);
	ro.git_commit =
		ci.id[0]  ? ci.id
		: !L->url ? cli_checkout_commit(checkout, sizeof(checkout),
						cli_config_path(L->cli))
			  : NULL;
	ro.stop = should_stop;
	rc = ipam_reconcile_prepare(&r, d, db, &ro);
	prepared = true;
	if (!rc)
		rc = ipam_db_run_set_source(db, run_id, ro.git_commit,
					    r.config_digest);
	if (!rc && ro.git_commit)
		rc = ipam_db_run_set_author(db, run_id, ci.author, ci.subject);
	if (rc)
		goto fail;
	doc = ipam_reconcile_doc(&r);
	ipam_plan_print_text(stdout, &doc, false);
	fflush(stdout);
	if (r.plan.drift) {
		/* details: the plan's counts and its drift list */
		details = ipam_reconcile_summary(&r, NULL, NULL);
		ipam_node_set(details, "changes", ipam_plan_drift_node(&doc));
		notify(&hooks, IPAM_EVENT_DRIFT, &ci, run_id, details,
		       "ipamctl: drift found: %zu action%s correct changes "
		       "made in AD behind ipamctl's back",
		       r.plan.drift, r.plan.drift == 1 ? "" : "s");
		ipam_node_free(details);
		details = NULL;
	}
	if (report_only) {
		if (d->suspend)
			log_notice("suspend: true in the desired state: "
				   "planned and reported, nothing applied");
		outcome = r.plan.nr ? "succeeded" : "no_changes";
		ret = r.plan.nr ? IPAM_EXIT_CHANGES : IPAM_EXIT_OK;
		goto record;
	}
	if (r.plan.nr && should_stop()) {
		outcome = "interrupted";
		ipam_error_set(IPAM_ERROR, "stopped by a signal before "
					   "applying");
		goto fail;
	}
	rc = ipam_reconcile_safety(&r, L->allow_removals);
	if (rc) {
		outcome = "refused";
		details = ipam_reconcile_summary(&r, NULL, ipam_error_last());
		ipam_node_set(details, "removals",
			      ipam_node_int((long long)r.plan.removals));
		notify(&hooks, IPAM_EVENT_REFUSED, &ci, run_id, details,
		       "ipamctl: %s", ipam_error_last());
		goto fail;
	}
	rc = ipam_reconcile_apply(&r, db, run_id, &res);
	printf("Apply %s: %zu done, %zu failed, %zu not done.\n",
	       rc ? "stopped" : "complete", res.done, res.failed, res.not_done);
	if (rc) {
		outcome = stop_requested ? "interrupted" : "failed";
		details = ipam_reconcile_summary(
			&r, &res, res.error ? res.error : ipam_error_last());
		notify(&hooks, IPAM_EVENT_APPLY_FAILED, &ci, run_id, details,
		       "ipamctl: apply failed: %s (%zu done, %zu not done)",
		       res.error ? res.error : ipam_error_last(), res.done,
		       res.not_done);
		goto fail;
	}
	outcome = r.plan.nr ? "succeeded" : "no_changes";
	if (r.plan.nr)
		details = ipam_reconcile_summary(&r, &res, NULL);
	if (r.plan.nr)
		notify(&hooks, IPAM_EVENT_APPLIED, &ci, run_id, details,
		       "ipamctl: applied %zu action%s (%zu to create, %zu to "
		       "update, %zu to remove)",
		       r.plan.nr, r.plan.nr == 1 ? "" : "s", r.plan.counts[0],
		       r.plan.counts[1], r.plan.counts[2]);
	ret = IPAM_EXIT_OK;
	goto record;
fail:
	log_error("%s", ipam_error_last());
record:
	/* A plan that could not see everything is not exact: say so in
	 * the exit status, whatever it applied safely. */
	if (prepared && ret != IPAM_EXIT_ERROR && ipam_reconcile_complete(&r)) {
		log_error("%s", ipam_error_last());
		ret = IPAM_EXIT_ERROR;
	}
	if (db && run_id) {
		summary = ipam_reconcile_summary(
			&r, report_only ? NULL : &res,
			ret == IPAM_EXIT_ERROR ? ipam_error_last() : NULL);
		if (ci.id[0])
			ipam_node_set_str(summary, "commit", ci.id);
		if (!ipam_json_write(&sum, summary, 0)) {
			strbuf_rtrim_newline(&sum);
			ipam_db_run_end(db, run_id, outcome, sum.buf);
		}
	}
out:
	ipam_node_free(details);
	ipam_node_free(summary);
	strbuf_release(&sum);
	strbuf_release(&err);
	ipam_apply_result_release(&res);
	if (prepared)
		ipam_reconcile_release(&r);
	if (locked)
		ipam_db_unlock(db);
	ipam_db_close(db);
	free(hooks.v);
	commit_info_release(&ci);
	/* d is the loop's now (L->good) */
	return ret;
}

/* ---- the loop ---------------------------------------------------------- */

/* "15m", "90s", "2h", "300" (seconds). */
static int parse_duration(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0)
		return -1;
	if (!strcmp(end, "h"))
		v *= 3600;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (v > 7 * 86400)
		return -1;
	*out = v;
	return 0;
}

/* Wait up to secs for a signal: SIGTERM/SIGINT stop, SIGHUP reloads,
 * SIGUSR1 runs now.  Returns the signal, or 0 at the timeout. */
static int wait_signal(long long secs)
{
	struct timespec ts = {.tv_sec = (time_t)secs};
	int sig;

	do
		sig = sigtimedwait(&loop_signals, NULL, &ts);
	while (sig < 0 && errno == EINTR);
	return sig < 0 ? 0 : sig;
}

static long long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

static long long next_interval(const struct loop *L)
{
	long long spread = L->every * L->jitter_pct / 100;
	unsigned r = 0;

	if (spread <= 0)
		return L->every;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned)time(NULL);
	return L->every - spread + (long long)(r % (unsigned)(2 * spread + 1));
}

static void reload(struct loop *L)
{
	struct ipam_desired *d = NULL;

	if (!cli_config_available(L->cli)) {
		log_notice("SIGHUP: no configuration to re-read");
		return;
	}
	if (cli_load_desired(L->cli, &d)) {
		log_error("SIGHUP: %s is invalid: keeping the configuration in "
			  "use",
			  cli_config_path(L->cli));
		return;
	}
	ipam_desired_free(L->local);
	L->local = d;
	log_notice("SIGHUP: configuration %s re-read", cli_config_path(L->cli));
}

int cmd_reconcile(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"repo", required_argument, NULL, 0x200},
		{"ref", required_argument, NULL, 0x201},
		{"path", required_argument, NULL, 0x202},
		{"cache", required_argument, NULL, 0x203},
		{"dry-run", no_argument, NULL, 0x204},
		{"every", required_argument, NULL, 0x205},
		{"jitter", required_argument, NULL, 0x206},
		{"lock-timeout", required_argument, NULL, 0x207},
		{"allow-removals", required_argument, NULL, 0x208},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct loop L = {.cli = cli, .allow_removals = -1};
	long long v, due = 0;
	char *end;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_usage(&cmd_reconcile_def, 0);
			return IPAM_EXIT_OK;
		case 0x200:
			L.repo = optarg;
			continue;
		case 0x201:
			L.ref = optarg;
			continue;
		case 0x202:
			L.path = optarg;
			continue;
		case 0x203:
			L.cache = optarg;
			continue;
		case 0x204:
			L.dry_run = true;
			continue;
		case 0x205:
			if (parse_duration(optarg, &L.every))
				return cli_usage_error(&cmd_reconcile_def,
						       "--every wants a "
						       "duration such as 90s, "
						       "15m or 2h (at most 7 "
						       "days)");
			continue;
		case 0x206:
			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || v < 0 || v > 50 ||
			    (*end && strcmp(end, "%")))
				return cli_usage_error(&cmd_reconcile_def,
						       "--jitter wants a "
						       "percentage (0-50%%)");
			L.jitter_pct = v;
			continue;
		case 0x207:
		case 0x208:
			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || *end || v < 0 || (c == 0x207 && v > 86400))
				return cli_usage_error(&cmd_reconcile_def,
						       "bad value '%s'",
						       optarg);
			if (c == 0x207)
				L.lock_timeout = (int)v;
			else
				L.allow_removals = v;
			continue;
		case '?':
		case ':':
			return cli_usage_error(&cmd_reconcile_def,
					       "bad option '%s'",
					       argv[optind - 1]);
		}
		if (cli_global_option(cli, c, optarg))
			return IPAM_EXIT_ERROR;
	}
	if (optind < argc)
		return cli_usage_error(&cmd_reconcile_def,
				       "unexpected argument '%s'",
				       argv[optind]);
	if (L.jitter_pct && !L.every)
		return cli_usage_error(&cmd_reconcile_def,
				       "--jitter goes with --every");
	if (cli->output != IPAM_OUT_TEXT)
		return cli_usage_error(&cmd_reconcile_def,
				       "reconcile writes text (its runs are "
				       "in `ipamctl history -o json`)");
	/* The local configuration: the desired state itself, or (with
	 * source:) where to fetch it from and whom to notify. */
	if (cli_config_available(cli) && cli_load_desired(cli, &L.local))
		return IPAM_EXIT_ERROR;
	if (!L.local && !L.repo) {
		log_error("no desired state: give -c PATH or --repo URL");
		return IPAM_EXIT_ERROR;
	}
	block_signals();
	ret = cycle(&L);
	while (L.every && !should_stop()) {
		long long now = mono_s();
		int sig;

		/* A reload keeps the cycle's due time: SIGHUPs must not be
		 * able to put cycles off. */
		if (!due) {
			due = now + next_interval(&L);
			log_notice("next cycle in %lld s", due - now);
		}
		sig = wait_signal(due > now ? due - now : 0);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			reload(&L);
			continue;
		}
		due = 0;
		ret = cycle(&L);
	}
	if (L.every)
		log_notice("stopped");
	free(L.last_good);
	ipam_desired_free(L.good);
	ipam_desired_free(L.local);
	return L.every ? IPAM_EXIT_OK : ret;
}

/* ---- status ----------------------------------------------------------------
 */

static bool applies(const struct ipam_db_run *r)
{
	return !strcmp(r->command, "reconcile") || !strcmp(r->command, "apply");
}

static bool is_cycle(const struct ipam_db_run *r)
{
	return applies(r) || !strcmp(r->command, REPORT_ONLY);
}

/* The last run that applied (or found nothing to apply), newest first. */
static const struct ipam_db_run *last_applied(const struct ipam_db_run *runs,
					      size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (applies(&runs[i]) &&
		    (!strcmp(runs[i].outcome, "succeeded") ||
		     !strcmp(runs[i].outcome, "no_changes")))
			return &runs[i];
	return NULL;
}

/* "                by Name <email>: subject" under a run's line. */
static void print_author(const struct ipam_db_run *r)
{
	if (r->git_author || r->git_subject)
		printf("                by %s: %s\n",
		       r->git_author ? r->git_author : "?",
		       r->git_subject ? r->git_subject : "");
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct ipam_db_run *runs = NULL;
	const struct ipam_db_run *applied = NULL, *attempted = NULL;
	struct strbuf path = STRBUF_INIT;
	size_t nr = 0;
	int rc, ret = IPAM_EXIT_ERROR;

	if (cli_parse_global_only(cli, &cmd_status_def, argc, argv))
		return IPAM_EXIT_ERROR;
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(&cmd_status_def,
				       "status writes text or json");
	if (cli_config_available(cli) && cli_load_desired(cli, &d))
		goto out;
	/* reconcile's rule, without a repository to read: status fetches
	 * nothing */
	rc = state_db_path(cli, d, NULL, &path);
	if (!rc)
		rc = ipam_db_open(&db, path.buf, 0);
	if (!rc)
		rc = ipam_db_runs_list(db, 0, &runs, &nr);
	if (rc) {
		log_error("%s", ipam_error_last());
		goto out;
	}
	for (size_t i = 0; i < nr && !attempted; i++)
		if (is_cycle(&runs[i]))
			attempted = &runs[i];
	applied = last_applied(runs, nr);
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		const struct ipam_db_run *which[2] = {applied, attempted};
		const char *keys[2] = {"last_applied", "last_attempted"};
		struct strbuf out = STRBUF_INIT;

		for (int k = 0; k < 2; k++) {
			struct ipam_node *x;

			if (!which[k]) {
				ipam_node_set(m, keys[k],
					      ipam_node_new(IPAM_NODE_NULL));
				continue;
			}
			x = ipam_node_new(IPAM_NODE_MAP);
			ipam_node_set(x, "run", ipam_node_int(which[k]->id));
			ipam_node_set_str(x, "command", which[k]->command);
			ipam_node_set_str(x, "started_at",
					  which[k]->started_at);
			ipam_node_set_str(x, "outcome", which[k]->outcome);
			ipam_node_set(
				x, "commit",
				which[k]->git_commit
					? ipam_node_str(which[k]->git_commit)
					: ipam_node_new(IPAM_NODE_NULL));
			ipam_node_set(x, "author",
				      ipam_node_str_or_null(which[k]->git_author));
			ipam_node_set(x, "subject",
				      ipam_node_str_or_null(which[k]->git_subject));
			ipam_node_set(m, keys[k], x);
		}
		if (!ipam_json_write(&out, m, IPAM_JSON_PRETTY))
			fputs(out.buf, stdout);
		strbuf_release(&out);
		ipam_node_free(m);
	} else {
		if (applied) {
			printf("last applied:   run %lld, %s, commit %s\n",
			       applied->id, applied->started_at,
			       applied->git_commit ? applied->git_commit
						   : "(local files)");
			print_author(applied);
		} else {
			printf("last applied:   none\n");
		}
		if (attempted) {
			printf("last attempted: run %lld, %s, %s, commit %s\n",
			       attempted->id, attempted->started_at,
			       attempted->outcome,
			       attempted->git_commit ? attempted->git_commit
						     : "(local files)");
			print_author(attempted);
			if (attempted->summary)
				printf("                %s\n",
				       attempted->summary);
		} else {
			printf("last attempted: none\n");
		}
	}
	ret = IPAM_EXIT_OK;
out:
	ipam_db_runs_free(runs, nr);
	ipam_db_close(db);
	ipam_desired_free(d);
	strbuf_release(&path);
	return ret;
}
