/* ipamctl report: everything the console shows, from the state database,
 * as one HTML page, Markdown or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "error.h"
#include "log.h"
#include "node.h"
#include "report.h"
#include "strbuf.h"
#include "banned.h"

static const struct cli_option report_options[] = {
	{"out", CLI_ARG, 'O', "write to FILE atomically (mode 0644)"},
	{NULL, 0, 0, NULL},
};

struct report_opts {
	const char *out;
};

static int report_option(struct cli *cli, void *opts, int id, const char *arg);
static int report_check(struct cli *cli, void *opts, int argc, char **argv);
static int report_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_report_def = {
	.name = "report",
	.summary = "everything the console shows, as HTML, Markdown or JSON",
	.usage = "report [-c PATH] [-o html|markdown|json] [--out FILE]\n\n"
		 "A report of the state database: Overview (domains, "
		 "provisioning method,\n"
		 "GPO prefix, servers per role and manageability, the "
		 "scheduled tasks with\n"
		 "their last and next run, the last runs), Server inventory "
		 "(access status\n"
		 "and recommended action, with reasons), GPOs (link, "
		 "filtering, drift),\n"
		 "Address space (utilization and its trend per block and "
		 "range), DNS zones\n"
		 "with their monitoring status, service availability and the "
		 "latest IP\n"
		 "address tracking events with their counts.\n\n"
		 "  -o html      one self-contained page: inline CSS and SVG, "
		 "no script,\n"
		 "               nothing fetched (the default)\n"
		 "  -o markdown  the same sections as tables, for wikis and "
		 "merge requests\n"
		 "  -o json      the model both are rendered from "
		 "(schemas/report.schema.json)\n"
		 "  --out FILE   write FILE atomically (a temporary file in "
		 "its directory,\n"
		 "               then rename; mode 0644) instead of standard "
		 "output",
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = report_options,
	.opts_size = sizeof(struct report_opts),
	.option = report_option,
	.check = report_check,
	.run = report_run,
};

static int report_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct report_opts *o = opts;

	(void)cli;
	(void)id;
	o->out = arg;
	return 0;
}

static int report_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	(void)argv;
	if (argc)
		return cli_usage_error(cli->cmd, "no arguments expected");
	if (cli->output_set && cli->output != IPAM_OUT_HTML &&
	    cli->output != IPAM_OUT_MARKDOWN && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "report writes html, markdown or json");
	return 0;
}

static int report_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct report_opts *o = opts;
	enum ipam_report_format fmt = IPAM_REPORT_HTML;
	struct ipam_node *root = NULL;
	struct strbuf sb = STRBUF_INIT;
	int err;

	(void)argc;
	(void)argv;
	if (cli->output_set && cli->output == IPAM_OUT_MARKDOWN)
		fmt = IPAM_REPORT_MARKDOWN;
	else if (cli->output_set && cli->output == IPAM_OUT_JSON)
		fmt = IPAM_REPORT_JSON;
	err = ipam_report_build(cli->db, cli->d, (long long)time(NULL), &root);
	if (!err)
		err = ipam_report_render(&sb, root, fmt);
	if (!err && o->out)
		err = ipam_report_write_file(o->out, sb.buf, sb.len);
	else if (!err && (fwrite(sb.buf, 1, sb.len, stdout) != sb.len ||
			  fflush(stdout)))
		err = ipam_error_set(IPAM_EIO, "cannot write the report");
	if (err)
		log_error("%s", ipam_error_last());
	ipam_node_free(root);
	strbuf_release(&sb);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}
