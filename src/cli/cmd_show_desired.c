/* ipamctl show-desired: the merged, normalised desired state. */
#include <stdio.h>

#include "cli.h"
#include "json.h"
#include "log.h"
#include "error.h"
#include "strbuf.h"
#include "yamlio.h"
#include "banned.h"

const struct command cmd_show_desired_def = {
	.name = "show-desired",
	.summary = "print the merged, normalised desired state",
	.usage = "show-desired [-c PATH] [-o yaml|json]\n\n"
		 "Prints the desired state after merging its files and filling "
		 "in defaults:\n"
		 "names in lower case, lists sorted, each discovery domain "
		 "with its effective\n"
		 "connection.  The output validates as a desired state itself.",
	.run = cmd_show_desired,
};

int cmd_show_desired(struct cli *cli, int argc, char **argv)
{
	struct ipam_desired *d = NULL;
	struct strbuf out = STRBUF_INIT;
	struct ipam_node *tree;
	int r, err;

	r = cli_parse_global_only(cli, &cmd_show_desired_def, argc, argv);
	if (r)
		return r == -2 ? IPAM_EXIT_OK : IPAM_EXIT_ERROR;
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_YAML &&
	    cli->output != IPAM_OUT_JSON)
		return cli_usage_error(&cmd_show_desired_def,
				       "show-desired writes yaml or json");
	if (cli_load_desired(cli, &d))
		return IPAM_EXIT_ERROR;
	tree = ipam_desired_to_node(d);
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
	ipam_desired_free(d);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}
