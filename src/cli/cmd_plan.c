/* ipamctl plan | apply | drift: the reconciler's commands. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "planout.h"
#include "reconcile.h"
#include "strbuf.h"
#include "banned.h"

const struct command cmd_plan_def = {
	.name = "plan",
	.summary = "show what apply would change, and the drift",
	.usage = "plan [-c PATH] [--detailed-exitcode] [--out FILE] "
		 "[--lock-timeout S]\n"
		 "     [-o text|json|markdown]\n\n"
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
		 "ipamctl run",
	.run = cmd_plan,
};

const struct command cmd_apply_def = {
	.name = "apply",
	.summary = "make AD match the desired state",
	.usage =
		"apply [FILE] [-c PATH] [--auto-approve] [--allow-removals "
		"N]\n"
		"      [--allow-empty] [--lock-timeout S] [-o text|json]\n\n"
		"Plans as `ipamctl plan` does and applies the plan: creates, "
		"updates,\n"
		"links, filter adds, filter removes, unlinks and deletes last; "
		"each\n"
		"action journalled; the first failure stops it.  With FILE "
		"(from plan\n"
		"--out), applies that plan only if neither the desired state "
		"nor what\n"
		"is observed changed since.  Asks for confirmation on a "
		"terminal;\n"
		"without one, --auto-approve is required.\n\n"
		"  --allow-removals N  accept up to N removals (default: "
		"safety.maxRemovals)\n"
		"  --allow-empty       accept a desired state with no domain",
	.run = cmd_apply,
};

const struct command cmd_drift_def = {
	.name = "drift",
	.summary = "report what changed in AD behind ipamctl's back",
	.usage = "drift [-c PATH] [--lock-timeout S] [-o "
		 "text|json|markdown]\n\n"
		 "The drift part of a plan only: GPOs deleted, unlinked or "
		 "disabled,\n"
		 "filter entries added or removed by hand, settings files "
		 "edited,\n"
		 "versions changed, IPAMUG membership or the DNS ACL entry "
		 "removed.\n"
		 "Exit status 2 when there is drift.",
	.run = cmd_drift,
};

enum mode { MODE_PLAN, MODE_APPLY, MODE_DRIFT };

struct opts {
	enum mode mode;
	const struct command *def;
	bool detailed, auto_approve, allow_empty;
	long long allow_removals; /* -1: safety.maxRemovals */
	int lock_timeout;
	const char *out, *in;
};

static int parse_opts(struct opts *o, struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"detailed-exitcode", no_argument, NULL, 0x200},
		{"out", required_argument, NULL, 0x201},
		{"lock-timeout", required_argument, NULL, 0x202},
		{"auto-approve", no_argument, NULL, 0x203},
		{"allow-removals", required_argument, NULL, 0x204},
		{"allow-empty", no_argument, NULL, 0x205},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	char *end;
	long v;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_usage(o->def, 0);
			return 1;
		case 0x200:
			o->detailed = true;
			continue;
		case 0x201:
			o->out = optarg;
			continue;
		case 0x202:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 86400)
				return cli_usage_error(o->def,
						       "--lock-timeout wants "
						       "seconds (0-86400)") +
				       1;
			o->lock_timeout = (int)v;
			continue;
		case 0x203:
			o->auto_approve = true;
			continue;
		case 0x204:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0)
				return cli_usage_error(o->def,
						       "--allow-removals "
						       "wants a count") +
				       1;
			o->allow_removals = v;
			continue;
		case 0x205:
			o->allow_empty = true;
			continue;
		case '?':
		case ':':
			return cli_usage_error(o->def, "bad option '%s'",
					       argv[optind - 1]) +
			       1;
		}
		if (cli_global_option(cli, c, optarg))
			return 2;
	}
	if (o->mode == MODE_APPLY && optind < argc)
		o->in = argv[optind++];
	if (optind < argc)
		return cli_usage_error(o->def, "unexpected argument '%s'",
				       argv[optind]) +
		       1;
	if (o->mode != MODE_PLAN && (o->detailed || o->out))
		return cli_usage_error(o->def, "--detailed-exitcode and --out "
					       "are plan options") +
		       1;
	if (o->mode != MODE_APPLY &&
	    (o->auto_approve || o->allow_removals >= 0 || o->allow_empty))
		return cli_usage_error(o->def, "--auto-approve, "
					       "--allow-removals and "
					       "--allow-empty are apply "
					       "options") +
		       1;
	if (cli->output == IPAM_OUT_YAML ||
	    (o->mode == MODE_APPLY && cli->output == IPAM_OUT_MARKDOWN))
		return cli_usage_error(o->def, "unsupported output format") + 1;
	return 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				      strerror(errno));
	if (fwrite(data, 1, len, f) != len || fclose(f))
		return ipam_error_set(IPAM_EIO, "cannot write '%s'", path);
	return 0;
}

static const char *node_str(const struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key) &&
		    m->items[i]->kind == IPAM_NODE_STR)
			return m->items[i]->str;
	return NULL;
}

/* A saved plan still holds: same desired state, same observations. */
static int check_saved(const char *path, const struct ipam_reconcile *r)
{
	struct strbuf buf = STRBUF_INIT;
	struct ipam_node *root = NULL;
	FILE *f = fopen(path, "r");
	const char *cd, *fp;
	char chunk[8192];
	size_t n;
	int rc = 0;

	if (!f)
		return ipam_error_set(IPAM_EIO, "cannot read plan '%s': %s",
				      path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&buf, chunk, n);
	fclose(f);
	rc = ipam_json_parse(&root, path, buf.buf, buf.len);
	strbuf_release(&buf);
	if (rc)
		return rc;
	cd = node_str(root, "config_digest");
	fp = node_str(root, "observed_fingerprint");
	if (!cd || !fp)
		rc = ipam_error_set(IPAM_EINVAL,
				    "'%s' is not a saved ipamctl plan", path);
	else if (strcmp(cd, r->config_digest))
		rc = ipam_error_set(IPAM_ECONFLICT,
				    "the saved plan '%s' is stale: the desired "
				    "state changed since it was made (config "
				    "%.12s, now %.12s); make a new plan",
				    path, cd, r->config_digest);
	else if (strcmp(fp, r->fingerprint))
		rc = ipam_error_set(IPAM_ECONFLICT,
				    "the saved plan '%s' is stale: AD or the "
				    "inventory changed since it was made; make "
				    "a new plan",
				    path);
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
	struct ipam_node *n;

	switch (cli->output) {
	case IPAM_OUT_JSON:
		n = ipam_plan_to_node(&doc, drift_only);
		if (!ipam_json_write(&out, n, IPAM_JSON_PRETTY))
			fputs(out.buf, stdout);
		ipam_node_free(n);
		break;
	case IPAM_OUT_MARKDOWN:
		ipam_plan_print_markdown(stdout, &doc, drift_only);
		break;
	default:
		ipam_plan_print_text(stdout, &doc, drift_only);
		break;
	}
	strbuf_release(&out);
}

static int run(struct cli *cli, struct opts *o, int argc, char **argv)
{
	struct ipam_reconcile r = {0};
	struct ipam_reconcile_opts ro = {0};
	struct ipam_apply_result res = {0};
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct strbuf summary = STRBUF_INIT;
	struct ipam_node *n = NULL;
	const char *outcome = "failed";
	char commit[48];
	long long run_id = 0;
	bool locked = false, prepared = false;
	int rc, ret = IPAM_EXIT_ERROR;

	o->allow_removals = -1;
	rc = parse_opts(o, cli, argc, argv);
	if (rc)
		return rc == 1 ? IPAM_EXIT_OK : IPAM_EXIT_ERROR;
	if (cli_load_desired(cli, &d))
		goto out;
	if (!d->nr_domains && !(o->mode == MODE_APPLY && o->allow_empty)) {
		log_error("the desired state declares no discovery domain: "
			  "refused (an empty desired state is never taken "
			  "for 'remove everything'; apply --allow-empty if "
			  "that is meant)");
		goto out;
	}
	rc = cli_open_db(cli, d, &db);
	if (!rc)
		rc = ipam_db_lock(db, o->def->name, o->lock_timeout);
	if (rc)
		goto fail;
	locked = true;
	rc = ipam_db_run_begin(db, o->def->name, &run_id);
	if (rc)
		goto fail;
	ro.source = cli_config_path(cli);
	ro.git_commit = cli_checkout_commit(commit, sizeof(commit),
					    cli_config_path(cli));
	ro.progress = isatty(STDERR_FILENO) && cli->verbosity >= 0;
	rc = ipam_reconcile_prepare(&r, d, db, &ro);
	prepared = true;
	if (!rc)
		rc = ipam_db_run_set_source(db, run_id, ro.git_commit,
					    r.config_digest);
	if (rc)
		goto fail;
	if (o->in) {
		rc = check_saved(o->in, &r);
		if (rc) {
			outcome = "refused";
			goto fail;
		}
	}
	if (o->out) {
		struct ipam_plan_doc doc = ipam_reconcile_doc(&r);

		n = ipam_plan_to_node(&doc, false);
		rc = ipam_json_write(&summary, n, IPAM_JSON_PRETTY);
		if (!rc)
			rc = write_file(o->out, summary.buf, summary.len);
		strbuf_reset(&summary);
		ipam_node_free(n);
		n = NULL;
		if (rc)
			goto fail;
	}
	if (o->mode != MODE_APPLY || cli->output != IPAM_OUT_JSON)
		print_plan(cli, &r, o->mode == MODE_DRIFT);
	if (o->mode != MODE_APPLY) {
		bool any = o->mode == MODE_DRIFT ? r.plan.drift > 0
						 : r.plan.nr > 0;

		outcome = any ? "succeeded" : "no_changes";
		ret = (o->detailed || o->mode == MODE_DRIFT) && any
			      ? IPAM_EXIT_CHANGES
			      : IPAM_EXIT_OK;
		goto record;
	}
	/* apply */
	rc = ipam_reconcile_safety(&r, o->allow_removals);
	if (rc) {
		outcome = "refused";
		goto fail;
	}
	if (!r.plan.nr) {
		/* Still record what is applied: a first run on a domain
		 * that needs nothing starts its drift baseline here. */
		rc = ipam_reconcile_apply(&r, db, run_id, &res);
		if (rc)
			goto fail;
		outcome = "no_changes";
		ret = IPAM_EXIT_OK;
		goto record;
	}
	if (!confirm(o, r.plan.nr)) {
		outcome = "refused";
		ipam_error_set(IPAM_ECONFLICT, "not applied");
		goto fail;
	}
	rc = ipam_reconcile_apply(&r, db, run_id, &res);
	if (cli->output == IPAM_OUT_TEXT)
		printf("Apply %s: %zu done, %zu failed, %zu not done.\n",
		       rc ? "stopped" : "complete", res.done, res.failed,
		       res.not_done);
	if (rc)
		goto fail;
	outcome = "succeeded";
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
		n = ipam_reconcile_summary(
			&r, o->mode == MODE_APPLY ? &res : NULL,
			ret == IPAM_EXIT_ERROR ? ipam_error_last() : NULL);
		if (cli->output == IPAM_OUT_JSON && o->mode == MODE_APPLY) {
			struct strbuf p = STRBUF_INIT;

			if (!ipam_json_write(&p, n, IPAM_JSON_PRETTY))
				fputs(p.buf, stdout);
			strbuf_release(&p);
		}
		if (!ipam_json_write(&summary, n, 0)) {
			while (summary.len &&
			       summary.buf[summary.len - 1] == '\n')
				summary.buf[--summary.len] = '\0';
			ipam_db_run_end(db, run_id, outcome, summary.buf);
		}
	}
out:
	ipam_node_free(n);
	strbuf_release(&summary);
	ipam_apply_result_release(&res);
	if (prepared)
		ipam_reconcile_release(&r);
	if (locked)
		ipam_db_unlock(db);
	ipam_db_close(db);
	ipam_desired_free(d);
	return ret;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	struct opts o = {.mode = MODE_PLAN, .def = &cmd_plan_def};

	return run(cli, &o, argc, argv);
}

int cmd_apply(struct cli *cli, int argc, char **argv)
{
	struct opts o = {.mode = MODE_APPLY, .def = &cmd_apply_def};

	return run(cli, &o, argc, argv);
}

int cmd_drift(struct cli *cli, int argc, char **argv)
{
	struct opts o = {.mode = MODE_DRIFT, .def = &cmd_drift_def};

	return run(cli, &o, argc, argv);
}
