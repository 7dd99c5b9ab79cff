/* ipamctl history [show RUN]: the runs recorded in the state database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

struct history_opts {
	size_t limit;
};

static const struct history_opts history_defaults = {.limit = 20};
static int history_option(struct cli *cli, void *opts, int id, const char *arg);
static int history_check(struct cli *cli, void *opts, int argc, char **argv);
static int history_run(struct cli *cli, void *opts, int argc, char **argv);

static const struct cli_option history_options[] = {
	{"limit", CLI_ARG, CLI_OPT_OWN, "at most N runs"},
	{NULL, 0, 0, NULL},
};

static const struct cli_subcommand history_subcommands[] = {
	{"show", NULL},
	{NULL, NULL},
};

const struct command cmd_history_def = {
	.name = "history",
	.summary = "list recorded runs; show one with its actions",
	.usage = "history [--limit N] [-o text|json]\n"
		 "       history show RUN [-o text|json]\n\n"
		 "Every command that reads AD or changes state is a run: when, "
		 "where, from\n"
		 "which desired state (config digest, git commit), its outcome "
		 "and counts.\n"
		 "`history show` adds the journal of an apply: each action, "
		 "its state\n"
		 "(done, failed, skipped), times and error.",
	/* Reading needs no desired state, but uses its database if
	 * named. */
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = history_options,
	.subcommands = history_subcommands,
	.opts_size = sizeof(struct history_opts),
	.defaults = &history_defaults,
	.option = history_option,
	.check = history_check,
	.run = history_run,
};

static struct ipam_node *opt(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

static struct ipam_node *run_node(const struct ipam_db_run *r)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *summary = NULL;

	ipam_node_set(m, "id", ipam_node_int(r->id));
	ipam_node_set_str(m, "command", r->command);
	ipam_node_set(m, "started_at", opt(r->started_at));
	ipam_node_set(m, "ended_at", opt(r->ended_at));
	ipam_node_set(m, "host", opt(r->host));
	ipam_node_set(m, "pid", ipam_node_int(r->pid));
	ipam_node_set(m, "git_commit", opt(r->git_commit));
	ipam_node_set(m, "git_author", opt(r->git_author));
	ipam_node_set(m, "git_subject", opt(r->git_subject));
	ipam_node_set(m, "git_signer", opt(r->git_signer));
	ipam_node_set(m, "git_signer_key", opt(r->git_signer_key));
	ipam_node_set(m, "config_digest", opt(r->config_digest));
	ipam_node_set_str(m, "outcome", r->outcome);
	if (r->summary && !ipam_json_parse(&summary, "summary", r->summary,
					   strlen(r->summary)))
		ipam_node_set(m, "summary", summary);
	else
		ipam_node_set(m, "summary", opt(r->summary));
	return m;
}

static int emit(struct ipam_node *n)
{
	struct strbuf out = STRBUF_INIT;
	int rc = ipam_json_write(&out, n, IPAM_JSON_PRETTY);

	if (!rc)
		fputs(out.buf, stdout);
	strbuf_release(&out);
	ipam_node_free(n);
	return rc;
}

static int show(struct cli *cli, struct ipam_db *db, const char *arg)
{
	struct ipam_db_run r = {0};
	struct ipam_db_action_row *a = NULL;
	size_t n = 0;
	char *end;
	long long id;
	int rc;

	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno || *end || id <= 0)
		return ipam_error_set(IPAM_EINVAL, "'%s' is not a run id", arg);
	rc = ipam_db_run_get(db, id, &r);
	if (!rc)
		rc = ipam_db_run_actions(db, id, &a, &n);
	if (rc)
		goto out;
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = run_node(&r), *seq;

		seq = ipam_node_new(IPAM_NODE_SEQ);
		for (size_t i = 0; i < n; i++) {
			struct ipam_node *x = ipam_node_new(IPAM_NODE_MAP);

			ipam_node_set(x, "seq", ipam_node_int(a[i].seq));
			ipam_node_set_str(x, "kind", a[i].kind);
			ipam_node_set_str(x, "target", a[i].target);
			ipam_node_set(x, "domain", opt(a[i].domain));
			ipam_node_set(x, "detail", opt(a[i].detail));
			ipam_node_set_str(x, "state", a[i].state);
			ipam_node_set(x, "started_at", opt(a[i].started_at));
			ipam_node_set(x, "ended_at", opt(a[i].ended_at));
			ipam_node_set(x, "error", opt(a[i].error));
			ipam_node_push(seq, x);
		}
		ipam_node_set(m, "actions", seq);
		rc = emit(m);
		goto out;
	}
	cli_printf("run %lld: %s, %s\n", r.id, r.command, r.outcome);
	cli_printf("  started  %s on %s (pid %lld)\n", r.started_at,
		   r.host ? r.host : "?", r.pid);
	cli_printf("  ended    %s\n", r.ended_at ? r.ended_at : "-");
	cli_printf("  config   %s%s%s\n",
		   r.config_digest ? r.config_digest : "-",
		   r.git_commit ? ", commit " : "",
		   r.git_commit ? r.git_commit : "");
	if (r.git_author || r.git_subject)
		cli_printf("  by       %s: %s\n",
			   r.git_author ? r.git_author : "?",
			   r.git_subject ? r.git_subject : "");
	if (r.git_signer)
		cli_printf("  signed   %s (key %s)\n", r.git_signer,
			   r.git_signer_key ? r.git_signer_key : "?");
	if (r.summary)
		cli_printf("  summary  %s\n", r.summary);
	for (size_t i = 0; i < n; i++) {
		cli_printf("  %3d %-8s %-14s %s%s%s\n", a[i].seq, a[i].state,
			   a[i].kind, a[i].domain ? a[i].domain : "",
			   a[i].domain ? " " : "", a[i].target);
		if (a[i].error)
			cli_printf("      error: %s\n", a[i].error);
	}
out:
	ipam_db_actions_free(a, n);
	ipam_db_run_release(&r);
	return rc;
}

static int history_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct history_opts *o = opts;
	char *end;
	long v;

	(void)id;
	v = strtol(arg, &end, 10);
	if (*end || v < 0)
		return cli_usage_error(cli->cmd, "--limit wants a count");
	o->limit = (size_t)v;
	return 0;
}

static int history_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc && strcmp(argv[0], "show"))
		return cli_usage_error(cli->cmd, "unknown subcommand '%s'",
				       argv[0]);
	if (argc && argc != 2)
		return cli_usage_error(cli->cmd,
				       "history show takes one run id");
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "history writes text or json");
	return 0;
}

static void list_text(const struct ipam_db_run *runs, size_t nr)
{
	cli_printf("%5s  %-20s  %-9s  %-10s  %-12s  %-12s  %s\n", "run",
		   "started", "command", "outcome", "config", "commit",
		   "summary");
	for (size_t i = 0; i < nr; i++) {
		const char *sum = runs[i].summary ? runs[i].summary : "";
		int len = (int)strcspn(sum, "\n");

		/* One line a run, the summary cut to fit; then who made
		 * its commit and why, when known. */
		cli_printf("%5lld  %-20s  %-9s  %-10s  %-12.12s  %-12.12s  "
			   "%.*s%s\n",
			   runs[i].id, runs[i].started_at, runs[i].command,
			   runs[i].outcome,
			   runs[i].config_digest ? runs[i].config_digest : "-",
			   runs[i].git_commit ? runs[i].git_commit : "-",
			   len > 100 ? 97 : len, sum, len > 100 ? "..." : "");
		if (runs[i].git_author || runs[i].git_subject)
			cli_printf(
				"%5s  by %s: %s\n", "",
				runs[i].git_author ? runs[i].git_author : "?",
				runs[i].git_subject ? runs[i].git_subject : "");
		if (runs[i].git_signer)
			cli_printf("%5s  signed by %s (key %s)\n", "",
				   runs[i].git_signer,
				   runs[i].git_signer_key
					   ? runs[i].git_signer_key
					   : "?");
	}
}

static int history_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct history_opts *o = opts;
	struct ipam_db_run *runs = NULL;
	size_t nr = 0;

	if (argc) {
		if (show(cli, cli->db, argv[1]))
			goto fail;
		return IPAM_EXIT_OK;
	}
	if (ipam_db_runs_list(cli->db, o->limit, &runs, &nr))
		goto fail;
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

		for (size_t i = 0; i < nr; i++)
			ipam_node_push(seq, run_node(&runs[i]));
		emit(seq);
	} else {
		list_text(runs, nr);
	}
	ipam_db_runs_free(runs, nr);
	return IPAM_EXIT_OK;
fail:
	log_error("%s", ipam_error_last());
	return IPAM_EXIT_ERROR;
}
