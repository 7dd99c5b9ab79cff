/*
 * ipamctl status: from the run history, the last applied and the last
 * attempted desired state, the servers IPAM's access check blocks, and
 * who holds the reconciler's locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "planout.h"
#include "strbuf.h"
#include "banned.h"

/* The command of a run that planned and reported only (cmd_reconcile.c). */
#define REPORT_ONLY "reconcile-report"

static bool applies(const struct ipam_db_run *r)
{
	return !strcmp(r->command, "reconcile") || !strcmp(r->command, "apply");
}

static bool is_cycle(const struct ipam_db_run *r)
{
	return applies(r) || !strcmp(r->command, REPORT_ONLY);
}

const struct ipam_db_run *
ipam_cmd_status_last_applied(const struct ipam_db_run *runs, size_t nr)
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
	applied = ipam_cmd_status_last_applied(runs, nr);
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

		ipam_node_set(m, "last_applied", status_run_node(applied));
		ipam_node_set(m, "last_attempted", status_run_node(attempted));
		for (size_t i = 0; i < nr_blocked; i++)
			ipam_node_push(seq, ipam_node_str(blocked[i]));
		ipam_node_set(m, "blocked_servers", seq);
		cli_status_lock(cli->db, m);
		cli_print_json(m);
		ipam_node_free(m);
	} else {
		struct strbuf sb = STRBUF_INIT;

		status_text(applied, attempted);
		cli_status_lock(cli->db, NULL);
		ipam_plan_blocked_text(&sb, blocked, nr_blocked);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	}
	free(blocked);
	ipam_inventory_release(&inv);
	ipam_db_runs_free(runs, nr);
	return IPAM_EXIT_OK;
}

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
