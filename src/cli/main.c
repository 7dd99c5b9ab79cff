/*
 * ipamctl: Windows Server IPAM "Group Policy based provisioning", as code.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "text.h"
#include "banned.h"

#ifndef IPAM_VERSION
#define IPAM_VERSION "0.0.0"
#endif

static const struct command *const commands[] = {
	&cmd_validate_def,     &cmd_show_desired_def, &cmd_discover_def,
	&cmd_inventory_def,    &cmd_plan_def,	      &cmd_apply_def,
	&cmd_drift_def,	       &cmd_history_def,      &cmd_reconcile_def,
	&cmd_status_def,       &cmd_provision_def,    &cmd_gpo_def,
	&cmd_verify_def,       &cmd_collect_def,      &cmd_tasks_def,
	&cmd_availability_def, &cmd_db_def,	      &cmd_dns_def,
	&cmd_track_def,	       &cmd_addresses_def,    &cmd_report_def,
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ipamctl [global options] <command> [options]\n\n"
		   "commands:\n");
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-14s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "\n'ipamctl <command> --help' describes a command and the "
		   "global options.\n");
	fprintf(f, "exit status: 0 success, 1 error, 2 changes pending "
		   "(plan --detailed-exitcode)\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* --version only: no -V. */
enum { OPT_VERSION = CLI_OPT_OWN };

static const struct cli_option main_options[] = {
	{"version", CLI_NO_ARG, OPT_VERSION, "the version of ipamctl"},
	{NULL, 0, 0, NULL},
};

/* The global options before the command: 0 to go on, else 1 + the exit
 * status (help, version, a bad option). */
static int parse_global(struct cli *cli, int argc, char **argv, int *next)
{
	struct cli_getopt g;
	const char *arg;
	int id, ret = 0;

	cli_getopt_init(&g, main_options, cli_global_options, true, argc, argv);
	while (!ret && (id = cli_getopt_next(&g, &arg)) != CLI_GETOPT_END) {
		if (id == OPT_VERSION) {
			printf("ipamctl %s\n", IPAM_VERSION);
			ret = 1 + IPAM_EXIT_OK;
		} else if (id == 'h') {
			usage(stdout);
			ret = 1 + IPAM_EXIT_OK;
		} else if (id == CLI_GETOPT_BAD) {
			ipam_text_printf(stderr, "ipamctl: %s\n", g.bad);
			usage(stderr);
			ret = 1 + IPAM_EXIT_ERROR;
		} else if (cli_global_option(cli, id, arg)) {
			ret = 1 + IPAM_EXIT_ERROR;
		}
	}
	*next = g.next;
	cli_getopt_release(&g);
	return ret;
}

/* Hidden: "help --man" (doc/ builds ipamctl(1) from it) and
 * "__complete" (contrib/completion/ipamctl.bash). */
static const struct cli_table table = {commands, NR_COMMANDS, main_options};

int main(int argc, char **argv)
{
	const struct command *cmd;
	struct cli cli = {0};
	int i, ret;

	ipam_log_init("ipamctl");
	/* A peer closing a socket (LDAP, SMB, a closed pipe) is an error to
	 * report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	ret = parse_global(&cli, argc, argv, &i);
	if (ret)
		return ret - 1;
	if (i >= argc) {
		usage(stderr);
		return IPAM_EXIT_ERROR;
	}
	if (!strcmp(argv[i], "help") && i + 1 < argc &&
	    !strcmp(argv[i + 1], "--man")) {
		cli_man_page(stdout, &table);
		return IPAM_EXIT_OK;
	}
	if (!strcmp(argv[i], "__complete"))
		return cli_complete(&cli, &table, argc - i, argv + i);
	if (!strcmp(argv[i], "help")) {
		cmd = i + 1 < argc ? find(argv[i + 1]) : NULL;
		if (cmd)
			cli_usage(cmd, 0);
		else
			usage(stdout);
		return IPAM_EXIT_OK;
	}
	if (!strcmp(argv[i], "version")) {
		printf("ipamctl %s\n", IPAM_VERSION);
		return IPAM_EXIT_OK;
	}
	cmd = find(argv[i]);
	if (cmd)
		return cli_run_command(&cli, cmd, argc - i, argv + i);
	ipam_text_printf(stderr, "ipamctl: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return IPAM_EXIT_ERROR;
}
