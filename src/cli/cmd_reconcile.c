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
#include "report.h"
#include "run.h"
#include "strbuf.h"
#include "tasks.h"
#include "text.h"
#include "verify.h"
#include "banned.h"

struct loop {
	struct cli *cli;
	struct ipam_desired *local; /* -c, when there is one */
	const char *repo, *ref, *path, *cache;
	bool dry_run;
	int lock_timeout;
	int parallel; /* 0: IPAM_RUN_PARALLEL */
	long long allow_removals;
	long long every, jitter_pct;
	/* The last valid desired state and its commit ("local" for -c
	 * files), kept from cycle to cycle by the --every loop. */
	struct ipam_desired *good;
	char *last_good;
	const char *url; /* the repository of this cycle, or NULL */
	/* A one-shot cycle's last applied commit (id and desired state,
	 * read again through the cache) once looked up for its signature
	 * policy: it serves a broken commit's notice too.  Per cycle. */
	struct ipam_desired *applied;
	char *applied_id;
	bool applied_looked_up;
};

static const struct loop reconcile_defaults = {.allow_removals = -1};

enum {
	OPT_REPO = CLI_OPT_OWN,
	OPT_REF,
	OPT_PATH,
	OPT_CACHE,
	OPT_DRY_RUN,
	OPT_EVERY,
	OPT_JITTER,
	OPT_LOCK_TIMEOUT,
	OPT_ALLOW_REMOVALS,
	OPT_PARALLEL,
};

static const struct cli_option reconcile_options[] = {
	{"repo", CLI_ARG, OPT_REPO, "the desired state's repository"},
	{"ref", CLI_ARG, OPT_REF, "its branch, tag or commit"},
	{"path", CLI_ARG, OPT_PATH, "the folder of the desired state in it"},
	{"cache", CLI_ARG, OPT_CACHE, "where its mirror is kept"},
	{"dry-run", CLI_NO_ARG, OPT_DRY_RUN, "plan and report only"},
	{"every", CLI_ARG, OPT_EVERY, "a cycle every DURATION"},
	{"jitter", CLI_ARG, OPT_JITTER, "spread the cycles by PCT"},
	{"lock-timeout", CLI_ARG, OPT_LOCK_TIMEOUT, "seconds to wait"},
	{"allow-removals", CLI_ARG, OPT_ALLOW_REMOVALS, "accept N removals"},
	{"parallel", CLI_ARG, OPT_PARALLEL, "N domains at once (4)"},
	{NULL, 0, 0, NULL},
};

static int reconcile_option(struct cli *cli, void *opts, int id,
			    const char *arg);
static int reconcile_check(struct cli *cli, void *opts, int argc, char **argv);
static int reconcile_run(struct cli *cli, void *opts, int argc, char **argv);
static int status_check(struct cli *cli, void *opts, int argc, char **argv);
static int status_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_reconcile_def = {
	.name = "reconcile",
	.summary = "fetch, plan, apply and report: once, or --every interval",
	.usage =
		"reconcile [-c PATH] [--repo URL [--ref REF] [--path DIR]] "
		"[--cache DIR]\n"
		"          [--dry-run] [--every DURATION [--jitter PCT]] "
		"[--lock-timeout S]\n"
		"          [--allow-removals N] [--parallel N]\n\n"
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
		"interval\n"
		"  --parallel N domains discovered, read and applied N at "
		"once (4)\n\n"
		"In the loop the scheduled tasks run each on its own "
		"interval\n"
		"(collection.intervals; ipamctl tasks shows them): the cycle "
		"is discovery,\n"
		"access runs in it when due, availability, dns, zones and "
		"audit between\n"
		"cycles, each followed by the pruning of history past "
		"retainDays.\n\n"
		"Exit status of a single cycle: 0 applied or nothing to do, "
		"1 error or\n"
		"refusal, 2 drift or changes found with --dry-run or suspend.",
	.setup = CLI_CONFIG_IF_ANY | CLI_LOCK | CLI_LAB,
	.options = reconcile_options,
	.opts_size = sizeof(struct loop),
	.defaults = &reconcile_defaults,
	.option = reconcile_option,
	.check = reconcile_check,
	.run = reconcile_run,
};

const struct command cmd_status_def = {
	.name = "status",
	.summary = "the last applied and last attempted desired state",
	.usage = "status [-c PATH] [-o text|json]\n\n"
		 "From the run history: the last run that applied (or found "
		 "nothing to do)\n"
		 "with its commit (author, subject) and time, and the last "
		 "attempt, with its\n"
		 "outcome and error when it failed, and the managed servers "
		 "whose last\n"
		 "IPAM access check said Blocked (ipamctl verify for the "
		 "reasons).\n"
		 "The database: --db, else "
		 "-c's database:,\n"
		 "else the default (reconcile's rule; status reads no "
		 "repository).",
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.check = status_check,
	.run = status_run,
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

/* The commit a cycle fetched: id ("" when none), author and subject,
 * and what its signature said when a policy checked it. */
struct commit_info {
	char id[41];
	char *author, *subject; /* NULL when unknown */
	bool fetched;		/* the repository answered */
	struct ipam_git_signature sig;
};

static void commit_info_release(struct commit_info *c)
{
	free(c->author);
	free(c->subject);
	ipam_git_signature_release(&c->sig);
	memset(c, 0, sizeof(*c));
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

/* Hold the fetch to policy v (NULL or no mode: nothing checked). */
static void git_policy(struct ipam_git_opts *go,
		       const struct ipam_verify_cfg *v)
{
	go->verify = v ? v->mode : IPAM_VERIFY_NONE;
	go->allowed_signers = v ? v->allowed_signers.value : NULL;
	go->keyring = v ? v->keyring.value : NULL;
}

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

/* The commit last applied, from the history (NULL if none): a commit of
 * the repository, a plain id (an apply from a local checkout records
 * "<id>+dirty" when edited). */
static char *last_good_commit(struct ipam_db *db)
{
	struct ipam_db_run *runs = NULL;
	const struct ipam_db_run *a;
	char *good = NULL;
	size_t nr = 0;

	if (!ipam_db_runs_list(db, 0, &runs, &nr) &&
	    (a = last_applied(runs, nr)) && a->git_commit &&
	    strlen(a->git_commit) == 40 &&
	    strspn(a->git_commit, "0123456789abcdef") == 40)
		good = xstrdup(a->git_commit);
	ipam_db_runs_free(runs, nr);
	return good;
}

/* Record run, which ended before planning (the source was bad); *good
 * gets the commit last applied, from the history (NULL if none).  d is
 * the last good desired state, if known, for the database path. */
static void record_failure(struct loop *L, const struct ipam_desired *d,
			   struct ipam_run *run, const char *error, char **good)
{
	struct ipam_db *db = NULL;
	struct strbuf path = STRBUF_INIT;
	int version;

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
	run->db = db;
	run->record = true;
	if (!ipam_run_begin(run)) {
		cli_print_took_over(run);
		ipam_run_record_source(run, NULL);
		run->summary = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(run->summary, "error", error);
		cli_tasks_record(run, IPAM_TASK_DISCOVERY, NULL, NULL);
		cli_tasks_record(run, IPAM_TASK_DISCOVERY, "failed", error);
		ipam_run_end(run, "failed", NULL);
	}
	*good = last_good_commit(db);
	run->db = NULL;
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

/*
 * The last applied commit (from the history of the state database) and
 * its desired state read again through the cache, for a cycle that has
 * no last good state of its own (a one-shot run, the loop's first
 * cycle); looked up once per cycle.
 */
static const struct ipam_desired *applied_state(struct loop *L)
{
	struct ipam_db *db = NULL;
	struct strbuf path = STRBUF_INIT;
	int version;

	if (L->applied_looked_up)
		return L->applied;
	L->applied_looked_up = true;
	if (!state_db_path(L->cli, L->local, NULL, &path) &&
	    !ipam_db_open(&db, path.buf, 0) &&
	    !ipam_db_check_schema(db, &version, 0))
		L->applied_id = last_good_commit(db);
	ipam_db_close(db);
	strbuf_release(&path);
	if (L->applied_id)
		L->applied = reread_good(L, L->applied_id);
	return L->applied;
}

/*
 * The signature policy a fetched commit is held to: the local
 * configuration's source.verify, else that of the last good desired
 * state (the loop's, else the last applied commit's); NULL when neither
 * has one, and then a commit that asks for signed commits is held to
 * its own policy (load).  Never the new commit's own when a trusted one
 * exists: a commit must not be able to switch verification off, or
 * swap the keys, for itself; a commit that passes changes the policy
 * for the ones after it.
 */
static const struct ipam_verify_cfg *trusted_policy(struct loop *L,
						    const char **whose)
{
	const struct ipam_desired *prev;

	if (L->local && L->local->source.verify.mode) {
		*whose = "the local configuration";
		return &L->local->source.verify;
	}
	prev = L->good ? L->good : applied_state(L);
	if (prev && prev->source.verify.mode) {
		*whose = L->good ? "the last good commit"
				 : "the last applied commit";
		return &prev->source.verify;
	}
	*whose = "the commit itself";
	return NULL;
}

/* Keep what sig (moved into ci) says; IPAM_EAUTH with the reason in
 * error when the commit is refused. */
static int signature_verdict(struct commit_info *ci,
			     struct ipam_git_signature *sig, const char *whose,
			     struct strbuf *error)
{
	if (!sig->checked)
		return 0;
	ipam_git_signature_release(&ci->sig);
	ci->sig = *sig;
	memset(sig, 0, sizeof(*sig));
	if (ci->sig.good) {
		log_notice("commit %.12s is signed by %s (key %s)", ci->id,
			   ci->sig.signer, ci->sig.key ? ci->sig.key : "?");
		return 0;
	}
	strbuf_addf(error,
		    "commit %.12s refused by the signature policy of %s: %s",
		    ci->id, whose, ci->sig.reason);
	if (ci->sig.signer)
		strbuf_addf(error, " (signer %s)", ci->sig.signer);
	log_error("%s", error->buf);
	return IPAM_EAUTH;
}

/* No trusted policy yet, and commit ci asks for signed commits: it is
 * held to its own policy before it is trusted (fetched again, with it;
 * the mirror is up to date). */
static int verify_own(struct ipam_git_opts *go, const struct ipam_desired *d,
		      struct commit_info *ci, struct strbuf *error)
{
	struct ipam_git_snapshot snap = {0};
	int rc;

	git_policy(go, &d->source.verify);
	go->ref = ci->id;
	rc = ipam_git_fetch(&snap, go);
	if (rc) {
		strbuf_addstr(error, ipam_error_last());
		log_error("%s", error->buf);
	} else {
		rc = signature_verdict(ci, &snap.sig,
				       "the commit's own source.verify", error);
	}
	ipam_git_snapshot_release(&snap);
	return rc;
}

/* The desired state of this cycle: from git, or from -c. */
static int load(struct loop *L, struct ipam_desired **out,
		struct commit_info *ci, struct strbuf *error)
{
	struct ipam_git_opts go;
	struct ipam_git_snapshot snap = {0};
	struct ipam_diags diags = {0};
	const struct ipam_verify_cfg *policy;
	const char *whose;
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
	policy = trusted_policy(L, &whose);
	git_policy(&go, policy);
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
	rc = signature_verdict(ci, &snap.sig, whose, error);
	if (rc)
		goto out;
	rc = parse_snapshot(out, &snap, &diags);
	cli_print_diags(stderr, &diags);
	if (!rc && !policy && (*out)->source.verify.mode)
		rc = verify_own(&go, *out, ci, error);
	else if (rc) {
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
out:
	ipam_diags_free(&diags);
	ipam_git_snapshot_release(&snap);
	return rc;
}

/* A run of this cycle, telling hooks, from commit ci. */
static void run_init(struct ipam_run *run, const struct ipam_desired *d,
		     struct ipam_db *db, const struct commit_info *ci,
		     const struct ipam_run_hooks *hooks)
{
	ipam_run_init(run, IPAM_RUN_RECONCILE, d, db);
	run->hooks = hooks;
	run->fetched.id = ci->id[0] ? ci->id : NULL;
	run->fetched.author = ci->author;
	run->fetched.subject = ci->subject;
	if (ci->sig.good) {
		run->fetched.signer = ci->sig.signer;
		run->fetched.signer_key = ci->sig.key;
	}
}

/*
 * The desired state of this cycle is bad.  Last known good stays in
 * force: nothing is applied.  Told: the local configuration's webhooks
 * and those of the last good desired state -- the loop's, or in a
 * one-shot run the last applied commit read again through the cache
 * (not when the repository did not answer: that would only wait for it
 * again).
 */
static int source_failed(struct loop *L, const struct commit_info *ci,
			 const char *error)
{
	const unsigned ev = IPAM_EVENT_BIT(IPAM_EVENT_SOURCE_INVALID);
	struct ipam_run_hooks hooks = {0};
	struct ipam_desired *reread = NULL;
	const struct ipam_desired *gd = L->good;
	struct ipam_node *details;
	struct ipam_run run;
	char *good = NULL;

	run_init(&run, NULL, NULL, ci, &hooks);
	run.commit = run.fetched.id;
	record_failure(L, gd, &run, error, &good);
	if (!good && L->last_good)
		good = xstrdup(L->last_good);
	if (!gd && good && L->applied_id && !strcmp(good, L->applied_id))
		gd = L->applied; /* read already (NULL: it could not be) */
	else if (!gd && good && L->url && ci->fetched)
		gd = reread = reread_good(L, good);
	ipam_run_hooks_add(&hooks, L->local, ev);
	ipam_run_hooks_add(&hooks, gd, ev);
	details = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(details, "error", error);
	ipam_node_set(details, "still_in_force",
		      good ? ipam_node_str(good)
			   : ipam_node_new(IPAM_NODE_NULL));
	if (ci->sig.checked && !ci->sig.good) {
		/* who signed it (null: unsigned, or a key not allowed) and
		 * why it is refused */
		ipam_node_set(details, "signer",
			      ipam_node_str_or_null(ci->sig.signer));
		ipam_node_set(details, "signer_key",
			      ipam_node_str_or_null(ci->sig.key));
		ipam_node_set_str(details, "signature", ci->sig.reason);
	}
	ipam_run_notify(&run, IPAM_EVENT_SOURCE_INVALID, details,
			"ipamctl: %s%s%.12s; nothing applied", error,
			good ? "; still in force: " : "", good ? good : "");
	ipam_node_free(details);
	ipam_run_release(&run);
	ipam_run_hooks_release(&hooks);
	ipam_desired_free(reread);
	free(good);
	return IPAM_EXIT_ERROR;
}

/* The access refresh after the cycle's plan or apply, when due (the
 * access task): reported, never failing the cycle. */
static void cycle_verify(const struct ipam_run *run, bool due)
{
	struct ipam_verify v = {0};
	int rc = due ? ipam_tasks_access_in(&v, run) : 1;

	if (rc < 0) {
		log_warn("verify: %s (access status not refreshed)",
			 ipam_error_last());
	} else if (rc == 0) {
		printf("Access: %zu unblocked, %zu blocked",
		       v.counts[IPAM_ACCESS_UNBLOCKED],
		       v.counts[IPAM_ACCESS_BLOCKED]);
		for (size_t i = 0, n = 0; i < v.nr; i++)
			if (v.v[i].access.overall == IPAM_ACCESS_BLOCKED)
				printf("%s%s",
				       n++ ? ", " : " (blocked: ", v.v[i].name);
		printf("%s.\n", v.counts[IPAM_ACCESS_BLOCKED] ? ")" : "");
		for (size_t i = 0; i < v.nr_warnings; i++)
			log_warn("verify: %s", v.warnings[i]);
	}
	ipam_verify_release(&v);
}

/* The cycle once its run began: an exit status, or a negative IPAM_E*
 * code (the last error) with *outcome set. */
static int cycle_steps(struct ipam_run *run, const char **outcome, bool access)
{
	const struct ipam_plan *p = &run->r.plan;
	struct ipam_plan_doc doc;
	struct strbuf text = STRBUF_INIT;
	int rc;

	rc = ipam_run_prepare(run);
	cli_print_prepare_errors(run);
	if (rc)
		return rc;
	doc = ipam_reconcile_doc(&run->r);
	ipam_plan_render_text(&text, &doc, false);
	ipam_text_fputs(stdout, text.buf);
	strbuf_release(&text);
	fflush(stdout);
	ipam_run_notify_drift(run);
	if (!run->with_result) { /* report only */
		if (run->d->suspend)
			log_notice("suspend: true in the desired state: "
				   "planned and reported, nothing applied");
		*outcome = p->nr ? "succeeded" : "no_changes";
		cycle_verify(run, access);
		return p->nr ? IPAM_EXIT_CHANGES : IPAM_EXIT_OK;
	}
	if (p->nr && should_stop()) {
		*outcome = "interrupted";
		return ipam_error_set(IPAM_ERROR, "stopped by a signal before "
						  "applying");
	}
	rc = ipam_run_safety(run);
	if (rc) {
		*outcome = "refused";
		return rc;
	}
	rc = ipam_run_apply(run);
	cli_print_apply_errors(run);
	cli_printf("Apply %s: %zu done, %zu failed, %zu not done.\n",
		   rc ? "stopped" : "complete", run->res.done, run->res.failed,
		   run->res.not_done);
	if (rc) {
		*outcome = stop_requested ? "interrupted" : "failed";
		ipam_run_notify_applied(run, run->res.error
						     ? run->res.error
						     : ipam_error_last());
		return rc;
	}
	*outcome = p->nr ? "succeeded" : "no_changes";
	ipam_run_notify_applied(run, NULL);
	cycle_verify(run, access);
	return IPAM_EXIT_OK;
}

/* A cycle with a valid desired state d; its exit status. */
static int cycle_run(struct loop *L, const struct ipam_desired *d,
		     const struct commit_info *ci)
{
	struct ipam_run_hooks hooks = {0};
	struct ipam_db *db = NULL;
	const char *outcome = "failed";
	struct ipam_run run;
	struct cli c = db_cli(L->cli, L->local);
	char checkout[48];
	bool access = true;
	int ret;

	ipam_run_hooks_add(&hooks, d, 0);
	if (!d->nr_domains) {
		struct ipam_node *details = ipam_node_new(IPAM_NODE_MAP);

		run_init(&run, d, NULL, ci, &hooks);
		ipam_error_set(
			IPAM_EINVAL,
			"the desired state declares no discovery domain: "
			"refused (never read as 'remove everything')");
		ipam_node_set_str(details, "error", ipam_error_last());
		ipam_run_notify(&run, IPAM_EVENT_REFUSED, details,
				"ipamctl: %s", ipam_error_last());
		ipam_node_free(details);
		ret = IPAM_EINVAL;
		goto end;
	}
	ret = cli_open_db(&c, d, &db);
	run_init(&run, d, db, ci, &hooks);
	run.lock_as = "reconcile";
	run.command = L->dry_run || d->suspend ? REPORT_ONLY : "reconcile";
	run.with_result = !(L->dry_run || d->suspend);
	run.lock_timeout = L->lock_timeout;
	run.parallel = L->parallel;
	run.allow_removals = L->allow_removals;
	run.stop = should_stop;
	/* The mark on what ipamctl creates names the repository.  A local
	 * -c in a checkout records that checkout's commit, as plan does. */
	run.source = L->url ? L->url : cli_config_path(L->cli);
	if (!ret) {
		ret = ipam_run_begin(&run);
		cli_print_took_over(&run);
	}
	if (!ret) {
		/* The cycle is the discovery task; in the loop the access
		 * refresh runs when its interval says. */
		access = !L->every || cli_tasks_due(d, db, IPAM_TASK_ACCESS);
		cli_tasks_record(&run, IPAM_TASK_DISCOVERY, NULL, NULL);
		if (L->every && d->collection.interval[IPAM_TASK_DISCOVERY] &&
		    d->collection.interval[IPAM_TASK_DISCOVERY] != L->every)
			log_warn("collection.intervals.discovery is not the "
				 "loop's: --every %lld s sets the cycle",
				 L->every);
		run.commit = ci->id[0] ? ci->id
			     : !L->url ? cli_checkout_commit(checkout,
							     sizeof(checkout),
							     run.source)
				       : NULL;
		ret = cycle_steps(&run, &outcome, access);
	}
end:
	if (ret < 0) {
		log_error("%s", ipam_error_last());
		ret = IPAM_EXIT_ERROR;
	}
	/* A plan that could not see everything is not exact: say so in
	 * the exit status, whatever it applied safely. */
	if (ret != IPAM_EXIT_ERROR && ipam_run_complete(&run)) {
		log_error("%s", ipam_error_last());
		ret = IPAM_EXIT_ERROR;
	}
	cli_tasks_record(&run, IPAM_TASK_DISCOVERY, outcome,
			 ret == IPAM_EXIT_ERROR ? ipam_error_last() : NULL);
	ipam_run_end(&run, outcome,
		     ret == IPAM_EXIT_ERROR ? ipam_error_last() : NULL);
	/* report: {path, format}: the whole report after each cycle */
	if (db && d->report.path.value &&
	    ipam_report_write(db, d, d->report.path.value, d->report.format))
		log_warn("report not written: %s", ipam_error_last());
	ipam_run_release(&run);
	ipam_db_close(db);
	ipam_run_hooks_release(&hooks);
	return ret;
}

/* One cycle; returns the exit status it would have alone. */
static int cycle(struct loop *L)
{
	struct ipam_desired *d = NULL;
	struct strbuf err = STRBUF_INIT;
	struct commit_info ci;
	int ret;

	if (load(L, &d, &ci, &err)) {
		ipam_desired_free(d);
		ret = source_failed(L, &ci, err.buf);
	} else {
		free(L->last_good);
		L->last_good = xstrdup(ci.id[0] ? ci.id : "local");
		/* The loop keeps it: its notify: and database serve a
		 * later broken commit. */
		ipam_desired_free(L->good);
		L->good = d;
		ret = cycle_run(L, d, &ci);
	}
	strbuf_release(&err);
	commit_info_release(&ci);
	ipam_desired_free(L->applied);
	free(L->applied_id);
	L->applied = NULL;
	L->applied_id = NULL;
	L->applied_looked_up = false;
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

static int reconcile_option(struct cli *cli, void *opts, int id,
			    const char *arg)
{
	struct loop *L = opts;
	char *end;
	long long v;

	switch (id) {
	case OPT_REPO:
		L->repo = arg;
		return 0;
	case OPT_REF:
		L->ref = arg;
		return 0;
	case OPT_PATH:
		L->path = arg;
		return 0;
	case OPT_CACHE:
		L->cache = arg;
		return 0;
	case OPT_DRY_RUN:
		L->dry_run = true;
		return 0;
	case OPT_EVERY:
		if (parse_duration(arg, &L->every))
			return cli_usage_error(cli->cmd,
					       "--every wants a duration such "
					       "as 90s, 15m or 2h (at most 7 "
					       "days)");
		return 0;
	case OPT_JITTER:
		errno = 0;
		v = strtoll(arg, &end, 10);
		if (errno || v < 0 || v > 50 || (*end && strcmp(end, "%")))
			return cli_usage_error(cli->cmd, "--jitter wants a "
							 "percentage (0-50%%)");
		L->jitter_pct = v;
		return 0;
	case OPT_PARALLEL:
		return cli_parallel_arg(cli->cmd, arg, &L->parallel);
	default: /* OPT_LOCK_TIMEOUT, OPT_ALLOW_REMOVALS */
		errno = 0;
		v = strtoll(arg, &end, 10);
		if (errno || *end || v < 0 ||
		    (id == OPT_LOCK_TIMEOUT && v > 86400))
			return cli_usage_error(cli->cmd, "bad value '%s'", arg);
		if (id == OPT_LOCK_TIMEOUT)
			L->lock_timeout = (int)v;
		else
			L->allow_removals = v;
		return 0;
	}
}

static int reconcile_check(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct loop *L = opts;

	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (L->jitter_pct && !L->every)
		return cli_usage_error(cli->cmd, "--jitter goes with --every");
	if (cli->output != IPAM_OUT_TEXT)
		return cli_usage_error(cli->cmd,
				       "reconcile writes text (its runs are "
				       "in `ipamctl history -o json`)");
	return 0;
}

/* --every: a cycle each interval until a signal says stop. */
static int loop(struct loop *L, int ret)
{
	long long due = 0;

	while (L->every && !should_stop()) {
		long long now = mono_s(), wake;
		struct cli c = db_cli(L->cli, L->local);
		int sig;

		/* A reload keeps the cycle's due time: SIGHUPs must not be
		 * able to put cycles off. */
		if (!due) {
			due = now + next_interval(L);
			log_notice("next cycle in %lld s", due - now);
		}
		/* the other tasks due now, then sleep until the earlier of
		 * the cycle and the next task */
		wake = cli_tasks_run_due(&c, L->good, L->lock_timeout,
					 should_stop);
		now = mono_s();
		wake = wake >= 0 && now + wake < due ? now + wake : due;
		sig = wait_signal(wake > now ? wake - now : 0);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			reload(L);
			continue;
		}
		if (sig != SIGUSR1 && mono_s() < due)
			continue;
		due = 0;
		ret = cycle(L);
	}
	return ret;
}

static int reconcile_run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct loop *L = opts;
	int ret;

	(void)argc;
	(void)argv;
	/* The local configuration: the desired state itself, or (with
	 * source:) where to fetch it from and whom to notify.  The loop
	 * owns it: SIGHUP replaces it. */
	L->cli = cli;
	L->local = cli->d;
	cli->d = NULL;
	if (!L->local && !L->repo) {
		log_error("no desired state: give -c PATH or --repo URL");
		return IPAM_EXIT_ERROR;
	}
	block_signals();
	ret = loop(L, cycle(L));
	if (L->every)
		log_notice("stopped");
	free(L->last_good);
	ipam_desired_free(L->good);
	ipam_desired_free(L->local);
	return L->every ? IPAM_EXIT_OK : ret;
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

/* "                by Name <email>: subject" under a run's line, and
 * who signed the commit when source.verify checked it. */
static void print_author(const struct ipam_db_run *r)
{
	if (r->git_author || r->git_subject)
		cli_printf("                by %s: %s\n",
			   r->git_author ? r->git_author : "?",
			   r->git_subject ? r->git_subject : "");
	if (r->git_signer)
		cli_printf("                signed by %s (key %s)\n",
			   r->git_signer,
			   r->git_signer_key ? r->git_signer_key : "?");
}

static struct ipam_node *status_run_node(const struct ipam_db_run *r)
{
	struct ipam_node *x;

	if (!r)
		return ipam_node_new(IPAM_NODE_NULL);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "run", ipam_node_int(r->id));
	ipam_node_set_str(x, "command", r->command);
	ipam_node_set_str(x, "started_at", r->started_at);
	ipam_node_set_str(x, "outcome", r->outcome);
	ipam_node_set(x, "commit",
		      r->git_commit ? ipam_node_str(r->git_commit)
				    : ipam_node_new(IPAM_NODE_NULL));
	ipam_node_set(x, "author", ipam_node_str_or_null(r->git_author));
	ipam_node_set(x, "subject", ipam_node_str_or_null(r->git_subject));
	ipam_node_set(x, "signer", ipam_node_str_or_null(r->git_signer));
	ipam_node_set(x, "signer_key",
		      ipam_node_str_or_null(r->git_signer_key));
	return x;
}

static void status_text(const struct ipam_db_run *applied,
			const struct ipam_db_run *attempted)
{
	if (applied) {
		cli_printf("last applied:   run %lld, %s, commit %s\n",
			   applied->id, applied->started_at,
			   applied->git_commit ? applied->git_commit
					       : "(local files)");
		print_author(applied);
	} else {
		cli_printf("last applied:   none\n");
	}
	if (attempted) {
		cli_printf("last attempted: run %lld, %s, %s, commit %s\n",
			   attempted->id, attempted->started_at,
			   attempted->outcome,
			   attempted->git_commit ? attempted->git_commit
						 : "(local files)");
		print_author(attempted);
		if (attempted->summary)
			cli_printf("                %s\n", attempted->summary);
	} else {
		cli_printf("last attempted: none\n");
	}
}

static int status_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "status writes text or json");
	return 0;
}

/* The database: reconcile's rule (CLI_DB_READ: --db, -c's database:,
 * the default), without a repository to read: status fetches nothing. */
/* The blocked managed servers of the inventory, for status: the
 * inventory (names in it) into inv, the count returned. */
static int status_blocked(struct cli *cli, struct ipam_inventory *inv,
			  const char ***names, size_t *nr)
{
	*names = NULL;
	*nr = 0;
	if (ipam_db_inventory_load(cli->db, inv))
		return -1;
	*nr = ipam_plan_blocked_servers(names, inv);
	return 0;
}

static int status_run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct ipam_db_run *runs = NULL;
	const struct ipam_db_run *applied = NULL, *attempted = NULL;
	struct ipam_inventory inv = {0};
	const char **blocked = NULL;
	size_t nr = 0, nr_blocked = 0;

	(void)opts;
	(void)argc;
	(void)argv;
	if (ipam_db_runs_list(cli->db, 0, &runs, &nr) ||
	    status_blocked(cli, &inv, &blocked, &nr_blocked)) {
		log_error("%s", ipam_error_last());
		ipam_db_runs_free(runs, nr);
		ipam_inventory_release(&inv);
		return IPAM_EXIT_ERROR;
	}
	for (size_t i = 0; i < nr && !attempted; i++)
		if (is_cycle(&runs[i]))
			attempted = &runs[i];
	applied = last_applied(runs, nr);
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

		ipam_node_set(m, "last_applied", status_run_node(applied));
		ipam_node_set(m, "last_attempted", status_run_node(attempted));
		for (size_t i = 0; i < nr_blocked; i++)
			ipam_node_push(seq, ipam_node_str(blocked[i]));
		ipam_node_set(m, "blocked_servers", seq);
		cli_print_json(m);
		ipam_node_free(m);
	} else {
		struct strbuf sb = STRBUF_INIT;

		status_text(applied, attempted);
		ipam_plan_blocked_text(&sb, blocked, nr_blocked);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	}
	free(blocked);
	ipam_inventory_release(&inv);
	ipam_db_runs_free(runs, nr);
	return IPAM_EXIT_OK;
}
