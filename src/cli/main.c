/*
 * ipamctl: Windows Server IPAM "Group Policy based provisioning", as code.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "banned.h"

#ifndef IPAM_VERSION
#define IPAM_VERSION "0.0.0"
#endif

static const struct command *const commands[] = {
	&cmd_validate_def,  &cmd_show_desired_def, &cmd_discover_def,
	&cmd_inventory_def, &cmd_plan_def,	   &cmd_apply_def,
	&cmd_drift_def,	    &cmd_history_def,	   &cmd_reconcile_def,
	&cmd_status_def,    &cmd_provision_def,
	&cmd_gpo_def,	    &cmd_db_def,
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_LONGOPTS,
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	size_t i;
	int c;

	ipam_log_init("ipamctl");
	/* A peer closing a socket (LDAP, SMB, a closed pipe) is an error to
	 * report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	/* "+": stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'V') {
			printf("ipamctl %s\n", IPAM_VERSION);
			return IPAM_EXIT_OK;
		}
		if (c == 'h') {
			usage(stdout);
			return IPAM_EXIT_OK;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "ipamctl: bad option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return IPAM_EXIT_ERROR;
		}
		if (cli_global_option(&cli, c, optarg))
			return IPAM_EXIT_ERROR;
	}
	if (optind >= argc) {
		usage(stderr);
		return IPAM_EXIT_ERROR;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc) {
			for (i = 0; i < NR_COMMANDS; i++)
				if (!strcmp(commands[i]->name,
					    argv[optind + 1])) {
					cli_usage(commands[i], 0);
					return IPAM_EXIT_OK;
				}
		}
		usage(stdout);
		return IPAM_EXIT_OK;
	}
	if (!strcmp(argv[optind], "version")) {
		printf("ipamctl %s\n", IPAM_VERSION);
		return IPAM_EXIT_OK;
	}
	for (i = 0; i < NR_COMMANDS; i++) {
		if (strcmp(commands[i]->name, argv[optind]))
			continue;
		return commands[i]->run(&cli, argc - optind, argv + optind);
	}
	fprintf(stderr, "ipamctl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return IPAM_EXIT_ERROR;
}
