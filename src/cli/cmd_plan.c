/* ipamctl plan | apply | drift: the reconciler's commands. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "json.h"
#include "jsonw.h"
#include "log.h"
#include "plancheck.h"
#include "planout.h"
#include "reconcile.h"
#include "run.h"
#include "strbuf.h"
#include "text.h"
#include "banned.h"

enum mode { MODE_PLAN, MODE_APPLY, MODE_DRIFT };

struct opts {
	enum mode mode;
	bool detailed, auto_approve, allow_empty;
	long long allow_removals; /* -1: safety.maxRemovals */
	int lock_timeout;
	int parallel; /* 0: IPAM_RUN_PARALLEL */
	const char *out, *in;
};

static const struct opts plan_defaults = {MODE_PLAN, .allow_removals = -1};
static const struct opts apply_defaults = {MODE_APPLY, .allow_removals = -1};
static const struct opts drift_defaults = {MODE_DRIFT, .allow_removals = -1};

enum {
	OPT_DETAILED = CLI_OPT_OWN,
	OPT_OUT,
	OPT_LOCK_TIMEOUT,
	OPT_AUTO_APPROVE,
	OPT_ALLOW_REMOVALS,
	OPT_ALLOW_EMPTY,
	OPT_PARALLEL,
};

static const struct cli_option plan_options[] = {
	{"detailed-exitcode", CLI_NO_ARG, OPT_DETAILED, "exit 2 on changes"},
	{"out", CLI_ARG, OPT_OUT, "save the plan (JSON)"},
	{"lock-timeout", CLI_ARG, OPT_LOCK_TIMEOUT, "seconds to wait"},
	{"auto-approve", CLI_NO_ARG, OPT_AUTO_APPROVE, "apply unasked"},
	{"allow-removals", CLI_ARG, OPT_ALLOW_REMOVALS, "accept N removals"},
	{"allow-empty", CLI_NO_ARG, OPT_ALLOW_EMPTY, "accept no domain"},
	{"parallel", CLI_ARG, OPT_PARALLEL, "N domains at once (4)"},
	{NULL, 0, 0, NULL},
};

/* They talk to AD, record a run and hold the lock while they do. */
#define PLAN_SETUP (CLI_CONFIG | CLI_DB | CLI_LOCK | CLI_LAB)

static int plan_option(struct cli *cli, void *opts, int id, const char *arg);
static int plan_check(struct cli *cli, void *opts, int argc, char **argv);
static int plan_ready(struct cli *cli, void *opts);
static int plan_run(struct cli *cli, void *opts, int argc, char **argv);
static int read_saved(struct ipam_node **root, const char *path);

const struct command cmd_plan_def = {
	.name = "plan",
	.summary = "show what apply would change, and the drift",
	.usage = "plan [-c PATH] [--detailed-exitcode] [--out FILE] "
		 "[--lock-timeout S]\n"
		 "     [--parallel N] [-o text|json|markdown]\n\n"
		 "Discovers, reads the GPO state of every domain, and diffs "
		 "it against the\n"
		 "desired state and what was last applied: the actions apply "
		 "would take,\n"
		 "in order, each with its reason and the YAML line behind it; "
		 "drift (AD\n"
		 "changed behind ipamctl's back) apart from pending changes; "
		 "removals\n"
		 "skipped because a domain was seen incompletely.  Changes "
		 "nothing but the\n"
		 "run history.\n\n"
		 "  --detailed-exitcode  exit 0 nothing to do, 1 error, 2 "
		 "changes or drift\n"
		 "  --out FILE           save the plan (JSON) for `ipamctl "
		 "apply FILE`\n"
		 "  --lock-timeout S     wait up to S seconds for another "
		 "ipamctl run\n"
		 "  --parallel N         discover and read N domains at once "
		 "(default 4)",
	.setup = PLAN_SETUP,
	.options = plan_options,
	.opts_size = sizeof(struct opts),
	.defaults = &plan_defaults,
	.option = plan_option,
	.check = plan_check,
	.ready = plan_ready,
	.run = plan_run,
};

const struct command cmd_apply_def = {
	.name = "apply",
	.summary = "make AD match the desired state",
	.usage =
		"apply [FILE] [-c PATH] [--auto-approve] [--allow-removals "
		"N]\n"
		"      [--allow-empty] [--lock-timeout S] [--parallel N] "
		"[-o text|json]\n\n"
		"Plans as `ipamctl plan` does and applies the plan: creates, "
		"updates,\n"
		"links, filter adds, filter removes, unlinks and deletes last; "
		"each\n"
		"action journalled; a failure stops its own domain (the "
		"others go on).\n"
		"With FILE (from plan --out), applies that plan only if "
		"neither the\n"
		"desired state nor what is observed changed since.  Asks for "
		"confirmation\n"
		"on a terminal; without one, --auto-approve is required.\n\n"
		"  --allow-removals N  accept up to N removals (default: "
		"safety.maxRemovals)\n"
		"  --allow-empty       accept a desired state with no domain\n"
		"  --parallel N        handle N domains at once (default 4)",
	.setup = PLAN_SETUP,
	.options = plan_options,
	.opts_size = sizeof(struct opts),
	.defaults = &apply_defaults,
	.option = plan_option,
	.check = plan_check,
	.ready = plan_ready,
	.run = plan_run,
};

const struct command cmd_drift_def = {
	.name = "drift",
	.summary = "report what changed in AD behind ipamctl's back",
	.usage = "drift [-c PATH] [--lock-timeout S] [--parallel N] [-o "
		 "text|json|markdown]\n\n"
		 "The drift part of a plan only: GPOs deleted, unlinked or "
		 "disabled,\n"
		 "filter entries added or removed by hand, settings files "
		 "edited,\n"
		 "versions changed, IPAMUG membership or the DNS ACL entry "
		 "removed.\n"
		 "Exit status 2 when there is drift.",
	.setup = PLAN_SETUP,
	.options = plan_options,
	.opts_size = sizeof(struct opts),
	.defaults = &drift_defaults,
	.option = plan_option,
	.check = plan_check,
	.ready = plan_ready,
	.run = plan_run,
};

static int plan_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct opts *o = opts;
	char *end;
	long v;

	switch (id) {
	case OPT_DETAILED:
		o->detailed = true;
		return 0;
	case OPT_OUT:
		o->out = arg;
		return 0;
	case OPT_LOCK_TIMEOUT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 0 || v > 86400)
			return cli_usage_error(cli->cmd, "--lock-timeout wants "
							 "seconds (0-86400)");
		o->lock_timeout = (int)v;
		return 0;
	case OPT_AUTO_APPROVE:
		o->auto_approve = true;
		return 0;
	case OPT_ALLOW_REMOVALS:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 0)
			return cli_usage_error(cli->cmd, "--allow-removals "
							 "wants a count");
		o->allow_removals = v;
		return 0;
	case OPT_PARALLEL:
		return cli_parallel_arg(cli->cmd, arg, &o->parallel);
	default: /* OPT_ALLOW_EMPTY */
		o->allow_empty = true;
		return 0;
	}
}

static int plan_check(struct cli *cli, void *opts, int argc, char **argv)
{
	struct opts *o = opts;
	int i = 0;

	if (o->mode == MODE_APPLY && i < argc)
		o->in = argv[i++];
	if (i < argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[i]);
	if (o->mode != MODE_PLAN && (o->detailed || o->out))
		return cli_usage_error(cli->cmd, "--detailed-exitcode and "
						 "--out are plan options");
	if (o->mode != MODE_APPLY &&
	    (o->auto_approve || o->allow_removals >= 0 || o->allow_empty))
		return cli_usage_error(cli->cmd, "--auto-approve, "
						 "--allow-removals and "
						 "--allow-empty are apply "
						 "options");
	if (cli->output == IPAM_OUT_YAML ||
	    (o->mode == MODE_APPLY && cli->output == IPAM_OUT_MARKDOWN))
		return cli_usage_error(cli->cmd, "unsupported output format");
	/* A file that is no saved plan is said before anything else is
	 * done: no lock, no run recorded, no word to AD. */
	if (o->in) {
		struct ipam_node *root;

		if (read_saved(&root, o->in)) {
			log_error("%s", ipam_error_last());
			return IPAM_EXIT_ERROR;
		}
		ipam_node_free(root);
	}
	return 0;
}

static int plan_ready(struct cli *cli, void *opts)
{
	const struct opts *o = opts;

	if (cli->d->nr_domains || (o->mode == MODE_APPLY && o->allow_empty))
		return 0;
	log_error("the desired state declares no discovery domain: "
		  "refused (an empty desired state is never taken "
		  "for 'remove everything'; apply --allow-empty if "
		  "that is meant)");
	return IPAM_EXIT_ERROR;
}

/* The JSON writer's sink: a stream. */
static int file_sink(void *ctx, const char *data, size_t len)
{
	if (fwrite(data, 1, len, ctx) != len)
		return ipam_error_set(IPAM_EIO, "cannot write the plan: %s",
				      strerror(errno));
	return 0;
}

/* A saved plan is a few hundred kilobytes; more is not one of ours. */
#define SAVED_PLAN_MAX (64u << 20)

/*
 * The saved plan's JSON.  Opened without blocking and checked to be a
 * regular file first: a FIFO would hang the open or the read, a device
 * such as /dev/zero would never end.
 */
static int read_saved(struct ipam_node **root, const char *path)
{
	struct strbuf buf = STRBUF_INIT;
	char chunk[8192];
	struct stat sb;
	ssize_t n;
	int fd, rc = 0;

	*root = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot read plan '%s': %s",
				      path, strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
		rc = ipam_error_set(IPAM_EINVAL,
				    "plan '%s' is not a regular file", path);
	else if ((unsigned long long)sb.st_size > SAVED_PLAN_MAX)
		rc = ipam_error_set(IPAM_EINVAL,
				    "plan '%s' is larger than %u MiB: not a "
				    "saved ipamctl plan",
				    path, SAVED_PLAN_MAX >> 20);
	while (!rc && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = ipam_error_set(IPAM_EIO,
					    "cannot read plan '%s': %s", path,
					    strerror(errno));
		else if (buf.len + (size_t)n > SAVED_PLAN_MAX)
			rc = ipam_error_set(IPAM_EINVAL,
					    "plan '%s' is larger than %u MiB: "
					    "not a saved ipamctl plan",
					    path, SAVED_PLAN_MAX >> 20);
		else
			strbuf_add(&buf, chunk, (size_t)n);
	}
	close(fd);
	if (!rc)
		rc = ipam_json_parse(root, path, buf.buf, buf.len);
	strbuf_release(&buf);
	if (!rc)
		rc = ipam_plancheck_shape(*root, path);
	if (rc) {
		ipam_node_free(*root);
		*root = NULL;
	}
	return rc;
}

/* A saved plan still holds: same desired state, same observations, and
 * the same actions as those computed now. */
static int check_saved(const char *path, const struct ipam_reconcile *r)
{
	struct ipam_plan_doc doc = ipam_reconcile_doc(r);
	struct ipam_node *root, *now;
	int rc = read_saved(&root, path);

	if (rc)
		return rc;
	now = ipam_plan_to_node(&doc, false);
	rc = ipam_plancheck_saved(path, root, now, r->config_digest,
				  r->fingerprint);
	ipam_node_free(now);
	ipam_node_free(root);
	return rc;
}

static int confirm(const struct opts *o, size_t n)
{
	char line[64];

	if (o->auto_approve)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		log_error("not applying %zu action%s: no terminal to ask on; "
			  "use --auto-approve in pipelines",
			  n, n == 1 ? "" : "s");
		return 0;
	}
	fprintf(stderr, "Apply these %zu action%s? Only 'yes' is accepted: ", n,
		n == 1 ? "" : "s");
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return !strcmp(line, "yes\n") || !strcmp(line, "yes");
}

static void print_plan(struct cli *cli, const struct ipam_reconcile *r,
		       bool drift_only)
{
	struct ipam_plan_doc doc = ipam_reconcile_doc(r);
	struct strbuf out = STRBUF_INIT;
	struct ipam_jsonw w;

	switch (cli->output) {
	case IPAM_OUT_JSON:
		ipam_jsonw_init(&w, true, file_sink, stdout);
		if (ipam_plan_write_json(&w, &doc, drift_only))
			log_error("%s", ipam_error_last());
		break;
	case IPAM_OUT_MARKDOWN:
		ipam_plan_render_markdown(&out, &doc, drift_only);
		ipam_text_fputs(stdout, out.buf);
		break;
	default:
		ipam_plan_render_text(&out, &doc, drift_only);
		ipam_text_fputs(stdout, out.buf);
		break;
	}
	strbuf_release(&out);
}

/* --out: the plan, for a later `ipamctl apply FILE`, written as it is
 * made. */
static int save_plan(const char *path, const struct ipam_reconcile *r)
{
	struct ipam_plan_doc doc = ipam_reconcile_doc(r);
	struct ipam_jsonw w;
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				      strerror(errno));
	ipam_jsonw_init(&w, true, file_sink, f);
	rc = ipam_plan_write_json(&w, &doc, false);
	if (fclose(f) && !rc)
		rc = ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				    strerror(errno));
	return rc;
}

/* apply's part: the safety checks, the question, the apply itself. */
static int apply_plan(struct cli *cli, const struct opts *o,
		      struct ipam_run *run, const char **outcome)
{
	size_t n = run->r.plan.nr;
	int rc;

	rc = ipam_run_safety(run);
	if (rc) {
		*outcome = "refused";
		return rc;
	}
	if (!n) {
		/* Still record what is applied: a first run on a domain
		 * that needs nothing starts its drift baseline here. */
		rc = ipam_run_apply(run);
		cli_print_apply_errors(run);
		if (!rc)
			*outcome = "no_changes";
		return rc;
	}
	if (!confirm(o, n)) {
		*outcome = "refused";
		return ipam_error_set(IPAM_ECONFLICT, "not applied");
	}
	rc = ipam_run_apply(run);
	cli_print_apply_errors(run);
	if (cli->output == IPAM_OUT_TEXT)
		cli_printf("Apply %s: %zu done, %zu failed, %zu not done.\n",
			   rc ? "stopped" : "complete", run->res.done,
			   run->res.failed, run->res.not_done);
	if (!rc)
		*outcome = "succeeded";
	return rc;
}

/* Everything after the run began; the exit status, *outcome set. */
static int plan_steps(struct cli *cli, const struct opts *o,
		      struct ipam_run *run, const char **outcome)
{
	bool any;
	int rc;

	rc = ipam_run_prepare(run);
	cli_print_prepare_errors(run);
	if (!rc && o->in) {
		rc = check_saved(o->in, &run->r);
		if (rc)
			*outcome = "refused";
	}
	if (!rc && o->out)
		rc = save_plan(o->out, &run->r);
	if (rc)
		return rc;
	if (o->mode != MODE_APPLY || cli->output != IPAM_OUT_JSON)
		print_plan(cli, &run->r, o->mode == MODE_DRIFT);
	if (o->mode == MODE_APPLY)
		return apply_plan(cli, o, run, outcome);
	any = o->mode == MODE_DRIFT ? run->r.plan.drift > 0
				    : run->r.plan.nr > 0;
	*outcome = any ? "succeeded" : "no_changes";
	return (o->detailed || o->mode == MODE_DRIFT) && any ? IPAM_EXIT_CHANGES
							     : IPAM_EXIT_OK;
}

static int plan_run(struct cli *cli, void *opts, int argc, char **argv)
{
	static const enum ipam_run_kind kinds[] = {
		[MODE_PLAN] = IPAM_RUN_PLAN,
		[MODE_APPLY] = IPAM_RUN_APPLY,
		[MODE_DRIFT] = IPAM_RUN_DRIFT,
	};
	const struct opts *o = opts;
	const char *outcome = "failed";
	struct ipam_run run;
	char commit[48];
	int ret;

	(void)argc;
	(void)argv;
	ipam_run_init(&run, kinds[o->mode], cli->d, cli->db);
	run.lock_timeout = o->lock_timeout;
	run.parallel = o->parallel;
	run.allow_removals = o->allow_removals;
	run.progress = cli->progress;
	run.source = cli_config_path(cli);
	ret = ipam_run_begin(&run);
	cli_print_took_over(&run);
	if (!ret) {
		run.commit =
			cli_checkout_commit(commit, sizeof(commit), run.source);
		ret = plan_steps(cli, o, &run, &outcome);
	}
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
	ipam_run_end(&run, outcome,
		     ret == IPAM_EXIT_ERROR ? ipam_error_last() : NULL);
	if (run.summary && cli->output == IPAM_OUT_JSON &&
	    o->mode == MODE_APPLY)
		cli_print_json(run.summary);
	ipam_run_release(&run);
	return ret;
}
