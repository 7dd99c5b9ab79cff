/*
 * The command-line tool: a table of commands, each saying what set-up it
 * needs, sharing the global options.  Only this layer prints errors and
 * chooses the exit status.
 */
#ifndef IPAM_CLI_H
#define IPAM_CLI_H

#include <getopt.h>

#include "diag.h"
#include "model.h"

enum ipam_exit {
	IPAM_EXIT_OK = 0,
	IPAM_EXIT_ERROR = 1,
	IPAM_EXIT_CHANGES = 2, /* plan --detailed-exitcode: changes pending */
};

enum ipam_output {
	IPAM_OUT_TEXT,
	IPAM_OUT_JSON,
	IPAM_OUT_YAML,
	IPAM_OUT_MARKDOWN,
};

struct cli {
	const char *config; /* -c; NULL = IPAMCTL_CONFIG or the default */
	const char *db_uri; /* --db */
	enum ipam_output output;
	int output_set;
	int verbosity; /* -v count minus -q count */
};

struct command {
	const char *name;
	const char *summary;
	const char *usage; /* full help text after "usage: ipamctl " */
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* Options every command accepts (getopt_long), after its own. */
#define CLI_GLOBAL_SHORTOPTS "c:o:vqh"
extern const struct option cli_global_options[];
#define CLI_GLOBAL_LONGOPTS                                                    \
	{"config", required_argument, NULL, 'c'},                              \
		{"db", required_argument, NULL, 0x100},                        \
		{"output", required_argument, NULL, 'o'},                      \
		{"verbose", no_argument, NULL, 'v'},                           \
		{"quiet", no_argument, NULL, 'q'},                             \
	{                                                                      \
		"help", no_argument, NULL, 'h'                                 \
	}

/*
 * Handle a global option returned by getopt_long: 0 when handled,
 * 1 when it is not a global option, -1 on a bad value (message printed).
 */
int cli_global_option(struct cli *cli, int opt, const char *arg);
/* Print the command's usage to stdout (help) or stderr (error). */
void cli_usage(const struct command *cmd, int to_stderr);
/* Report a usage error for cmd and return IPAM_EXIT_ERROR. */
int cli_usage_error(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Parse a command's options: only the global ones. */
int cli_parse_global_only(struct cli *cli, const struct command *cmd, int argc,
			  char **argv);

/* The path of the desired state: -c, $IPAMCTL_CONFIG, or /etc/ipamctl. */
const char *cli_config_path(const struct cli *cli);
/*
 * The commit of a desired state read from a checkout (-c PATH in a CI
 * job): HEAD of the work tree that holds path, "+dirty" when its files
 * differ from HEAD, in buf (48 bytes will do).  Not in a work tree: NULL,
 * and that is no error (a repository libgit2 will not open: a warning).
 */
const char *cli_checkout_commit(char *buf, size_t size, const char *path);
/*
 * Load and validate the desired state; on problems print them (stderr)
 * and return nonzero.  Warnings are printed and do not fail.
 */
int cli_load_desired(struct cli *cli, struct ipam_desired **out);
/* Print diagnostics, one "file:line:col: message" a line. */
void cli_print_diags(FILE *f, const struct ipam_diags *diags);
/* The state database path: --db, the config's database, or the default. */
int cli_db_path(struct cli *cli, const struct ipam_desired *d,
		struct strbuf *out);
/* A desired state is named (-c, $IPAMCTL_CONFIG) or the default exists:
 * read-only commands use it only then. */
int cli_config_available(const struct cli *cli);
struct ipam_db;
/* Open the state database for a command that changes it: it must exist,
 * be of this ipamctl's schema, and agree with d's provisioning settings. */
int cli_open_db(struct cli *cli, const struct ipam_desired *d,
		struct ipam_db **out);

int cmd_validate(struct cli *cli, int argc, char **argv);
int cmd_show_desired(struct cli *cli, int argc, char **argv);
int cmd_db(struct cli *cli, int argc, char **argv);
int cmd_discover(struct cli *cli, int argc, char **argv);
int cmd_inventory(struct cli *cli, int argc, char **argv);
int cmd_gpo(struct cli *cli, int argc, char **argv);
int cmd_provision(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_apply(struct cli *cli, int argc, char **argv);
int cmd_drift(struct cli *cli, int argc, char **argv);
int cmd_history(struct cli *cli, int argc, char **argv);
int cmd_reconcile(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);

extern const struct command cmd_validate_def, cmd_show_desired_def, cmd_db_def,
	cmd_discover_def, cmd_inventory_def, cmd_gpo_def, cmd_provision_def,
	cmd_plan_def, cmd_apply_def, cmd_drift_def, cmd_history_def,
	cmd_reconcile_def, cmd_status_def;

#endif
