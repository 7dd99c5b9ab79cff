/* ipamctl show-desired: the merged, normalised desired state. */
#include <stdio.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "error.h"
#include "strbuf.h"
#include "yamlio.h"
#include "banned.h"

static int check(struct cli *cli, void *opts, int argc, char **argv);
static int run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_show_desired_def = {
	.name = "show-desired",
	.summary = "print the merged, normalised desired state",
	.usage = "show-desired [-c PATH] [-o yaml|json]\n\n"
		 "Prints the desired state after merging its files and filling "
		 "in defaults:\n"
		 "names in lower case, lists sorted, each discovery domain "
		 "with its effective\n"
		 "connection.  The output validates as a desired state itself.",
	.setup = CLI_CONFIG,
	.check = check,
	.run = run,
};

static int check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_YAML &&
	    cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "show-desired writes yaml or json");
	return 0;
}

static int run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct strbuf out = STRBUF_INIT;
	struct ipam_node *tree;
	int err;

	(void)opts;
	(void)argc;
	(void)argv;
	tree = ipam_desired_to_node(cli->d);
	if (cli->output == IPAM_OUT_JSON)
		err = ipam_json_write(&out, tree, IPAM_JSON_PRETTY);
	else
		err = ipam_yaml_emit(&out, tree);
	if (err)
		log_error("%s", ipam_error_last());
	else
		fputs(out.buf, stdout);
	strbuf_release(&out);
	ipam_node_free(tree);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}
