/*
 * ipamctl __complete: what contrib/completion/ipamctl.bash offers, from
 * the command table (commands, options, subcommands) and from the
 * desired state and the state database (domains, servers), read the
 * usual way (-c, --db, IPAMCTL_CONFIG).  A completion must never shout:
 * whatever cannot be read gives no words, and nothing goes to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "strbuf.h"
#include "text.h"
#include "banned.h"

static const struct command *find_command(const struct cli_table *t,
					  const char *name)
{
	for (size_t i = 0; name && i < t->nr; i++)
		if (!strcmp(t->cmds[i]->name, name))
			return t->cmds[i];
	return NULL;
}

/* The command whose options apply: a subcommand's own when it has one. */
static const struct command *options_of(const struct command *cmd,
					const char *sub)
{
	const struct cli_subcommand *s;

	for (s = cmd->subcommands; sub && s && s->name; s++)
		if (!strcmp(s->name, sub) && s->cmd)
			return s->cmd;
	return cmd;
}

static void print_options(const struct command *cmd, const struct cli_option *o,
			  bool arg_only)
{
	for (; o && o->name; o++) {
		if ((cmd && !cli_option_documented(cmd, o)) ||
		    (arg_only && !o->has_arg))
			continue;
		printf("--%s\n", o->name);
		if (arg_only && o->id < 0x80 && o->id > ' ')
			printf("-%c\n", o->id);
	}
}

/* options|arg-options [CMD [SUB]]: long options (arg-options: those
 * that take a value, short ones too); the global ones always. */
static void complete_options(const struct cli_table *t, int argc, char **argv,
			     bool arg_only)
{
	const struct command *cmd = find_command(t, argc > 1 ? argv[1] : NULL);

	if (cmd) {
		const struct command *c =
			options_of(cmd, argc > 2 ? argv[2] : NULL);

		print_options(c, c->options, arg_only);
	} else {
		print_options(NULL, t->main_options, arg_only);
	}
	print_options(NULL, cli_global_options, arg_only);
}

static void quiet_load(struct cli *cli)
{
	struct ipam_diags diags = {0};

	if (cli_config_available(cli) &&
	    ipam_config_load(&cli->d, cli_config_path(cli), &diags))
		cli->d = NULL;
	ipam_diags_free(&diags);
}

/* The inventory, when there is a database of this ipamctl's schema. */
static int load_inventory(struct cli *cli, struct ipam_inventory *inv)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int version, err;

	err = cli_db_path(cli, cli->d, &path);
	if (!err && stat(path.buf, &st))
		err = -1;
	if (!err)
		err = ipam_db_open(&cli->db, path.buf, 0);
	if (!err)
		err = ipam_db_check_schema(cli->db, &version, 0);
	if (!err)
		err = ipam_db_inventory_load(cli->db, inv);
	strbuf_release(&path);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* domains: the desired state's discovery domains and those of the
 * inventory's servers; servers: the inventory's names. */
static void complete_data(struct cli *cli, bool domains)
{
	struct ipam_inventory inv = {0};
	const char **v = NULL;
	size_t nr = 0, alloc = 0, i;

	quiet_load(cli);
	if (domains && cli->d)
		for (i = 0; i < cli->d->nr_domains; i++) {
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = cli->d->domains[i].name;
		}
	if (!load_inventory(cli, &inv))
		for (i = 0; i < inv.nr; i++) {
			const char *s = domains ? inv.servers[i].domain
						: inv.servers[i].name;

			/* A name with controls (from AD) is not offered: it
			 * would reach the terminal raw, and its escaped form
			 * names nothing. */
			if (!s || ipam_text_needs_escape(s, strlen(s)))
				continue;
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr++] = s;
		}
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_str);
	for (i = 0; i < nr; i++)
		if (!i || strcmp(v[i], v[i - 1]))
			printf("%s\n", v[i]);
	free(v);
	ipam_inventory_release(&inv);
	ipam_db_close(cli->db);
	cli->db = NULL;
	ipam_desired_free(cli->d);
	cli->d = NULL;
}

int cli_complete(struct cli *cli, const struct cli_table *t, int argc,
		 char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const struct command *cmd;

	/* Warnings of a half-written desired state are not for the
	 * prompt. */
	ipam_log_set_level(IPAM_LOG_ERROR);
	if (!strcmp(what, "commands")) {
		for (size_t i = 0; i < t->nr; i++)
			printf("%s\n", t->cmds[i]->name);
		printf("help\nversion\n");
	} else if (!strcmp(what, "options") || !strcmp(what, "arg-options")) {
		complete_options(t, argc - 1, argv + 1,
				 !strcmp(what, "arg-options"));
	} else if (!strcmp(what, "subcommands")) {
		cmd = find_command(t, argc > 2 ? argv[2] : NULL);
		for (const struct cli_subcommand *s = cmd ? cmd->subcommands
							  : NULL;
		     s && s->name; s++)
			printf("%s\n", s->name);
	} else if (!strcmp(what, "domains") || !strcmp(what, "servers")) {
		complete_data(cli, !strcmp(what, "domains"));
	}
	return IPAM_EXIT_OK;
}
