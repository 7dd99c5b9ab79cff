/* ipamctl validate: parse and validate the desired state, print every
 * problem.  Diagnostics are this command's output, so they go to stdout. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

static int check(struct cli *cli, void *opts, int argc, char **argv);
static int run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_validate_def = {
	.name = "validate",
	.summary = "check the desired state and print every problem",
	.usage = "validate [-c PATH] [-o text|json]\n\n"
		 "Parses and validates the desired state and prints every "
		 "problem as\n"
		 "'file:line:col: message', sorted.  Exit status 1 when there "
		 "is an error.\n"
		 "Reads only: nothing is written anywhere.",
	.check = check,
	.run = run,
};

static void print_json(const char *path, const struct ipam_diags *diags,
		       const struct ipam_desired *d)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *list = ipam_node_new(IPAM_NODE_SEQ);
	struct strbuf out = STRBUF_INIT;
	size_t i;

	ipam_node_set_str(root, "path", path);
	ipam_node_set(root, "valid", ipam_node_bool(diags->errors == 0 && d));
	ipam_node_set(root, "errors", ipam_node_int((long long)diags->errors));
	ipam_node_set(root, "warnings",
		      ipam_node_int((long long)(diags->nr - diags->errors)));
	for (i = 0; i < diags->nr; i++) {
		const struct ipam_diag *g = &diags->items[i];
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "file", g->pos.file ? g->pos.file : path);
		ipam_node_set(m, "line", ipam_node_int(g->pos.line));
		ipam_node_set(m, "col", ipam_node_int(g->pos.col));
		ipam_node_set_str(m, "severity",
				  g->severity == IPAM_DIAG_ERROR ? "error"
								 : "warning");
		ipam_node_set_str(m, "message", g->message);
		ipam_node_push(list, m);
	}
	ipam_node_set(root, "diagnostics", list);
	if (d) {
		ipam_node_set(root, "domains",
			      ipam_node_int((long long)d->nr_domains));
		ipam_node_set(root, "servers",
			      ipam_node_int((long long)d->nr_servers));
	}
	if (!ipam_json_write(&out, root, IPAM_JSON_PRETTY))
		fputs(out.buf, stdout);
	strbuf_release(&out);
	ipam_node_free(root);
}

static int check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "validate writes text or json");
	return 0;
}

/* Not CLI_CONFIG: the problems are this command's output. */
static int run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;
	const char *path;
	int r, err;

	(void)opts;
	(void)argc;
	(void)argv;
	path = cli_config_path(cli);
	err = ipam_config_load(&d, path, &diags);
	if (err && err != IPAM_EINVAL) {
		log_error("%s", ipam_error_last());
		ipam_diags_free(&diags);
		return IPAM_EXIT_ERROR;
	}
	if (err && !diags.errors) {
		/* Invalid without a positioned problem (an empty directory). */
		log_error("%s", ipam_error_last());
		ipam_diags_free(&diags);
		return IPAM_EXIT_ERROR;
	}
	if (cli->output == IPAM_OUT_JSON) {
		print_json(path, &diags, d);
	} else {
		cli_print_diags(stdout, &diags);
		if (diags.errors)
			log_error("'%s' is invalid: %zu error%s", path,
				  diags.errors, diags.errors == 1 ? "" : "s");
		else if (cli->verbosity >= 0)
			cli_printf("%s: valid (%zu discovery domain%s, %zu "
				   "server%s, %zu file%s)\n",
				   path, d->nr_domains,
				   d->nr_domains == 1 ? "" : "s", d->nr_servers,
				   d->nr_servers == 1 ? "" : "s", d->nr_files,
				   d->nr_files == 1 ? "" : "s");
	}
	r = diags.errors ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
	ipam_diags_free(&diags);
	ipam_desired_free(d);
	return r;
}
