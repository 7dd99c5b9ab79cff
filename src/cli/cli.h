/*
 * The command-line tool: a table of commands, each saying what set-up it
 * needs, sharing the global options.  Only this layer prints errors and
 * chooses the exit status.
 *
 * Prefixes: cli_
 *   (git's builtin style: the tool's own helpers, not a library's).
 *
 * Layer cli/ (this header is its centre): main, the command table and the
 * one option parser, one cmd_*.c per command.  Uses every layer below;
 * the only layer that prints or exits.
 */
#ifndef IPAM_CLI_H
#define IPAM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "discover.h"
#include "model.h"
#include "strbuf.h"
#include "text.h"

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
	IPAM_OUT_HTML,
};

struct ipam_db;
struct command;
struct option;

/*
 * The shared state of a run of the tool: the global options, and what
 * main set up for the command (its RUN_SETUP flags).
 */
struct cli {
	const char *config; /* -c; NULL = IPAMCTL_CONFIG or the default */
	const char *db_uri; /* --db */
	/* the password of db_uri's database (reconcile: the local
	 * configuration's databaseConnection); NULL: the desired state's */
	const struct ipam_db_connection *db_conn;
	enum ipam_output output;
	int output_set;
	int verbosity; /* -v count minus -q count */

	const struct command *cmd; /* the command running */
	struct ipam_desired *d;	   /* CLI_CONFIG (CLI_CONFIG_IF_ANY) */
	struct ipam_db *db;	   /* CLI_DB */
	struct ipam_discover_progress progress; /* CLI_LAB: on a terminal */
};

/* One option: --name (and -<id> when id is a letter). */
struct cli_option {
	const char *name;
	int has_arg; /* CLI_NO_ARG or CLI_ARG */
	int id;	     /* a letter, or CLI_OPT_OWN and up */
	const char *help;
};

enum { CLI_NO_ARG = 0, CLI_ARG = 1 };

/* The ids of long-only options: a command's own count up from
 * CLI_OPT_OWN (an enum in its file). */
enum { CLI_OPT_DB = 0x100, CLI_OPT_OWN = 0x200 };

/* What main sets up before a command's run, once (git's RUN_SETUP). */
enum cli_setup {
	CLI_CONFIG = 1 << 0,	    /* the desired state, in cli->d */
	CLI_CONFIG_IF_ANY = 1 << 1, /* the same when one is available */
	CLI_DB = 1 << 2,	    /* the state database (to change) */
	CLI_LOCK = 1 << 3,	    /* runs take the reconciler lock */
	CLI_LAB = 1 << 4,	    /* talks to AD: progress on a terminal */
	CLI_RAW = 1 << 5,	    /* parses its own argv (subcommands) */
	CLI_DB_READ = 1 << 6,	    /* the state database, to read only */
};

/* A subcommand of a command that parses its own argv (gpo show): for the
 * manual and the shell completion, which cannot see into its run. */
struct cli_subcommand {
	const char *name;
	const struct command *cmd; /* its options; NULL: the command's own */
};

struct command {
	const char *name;
	const char *summary;
	const char *usage; /* full help text after "usage: ipamctl " */
	unsigned setup;	   /* enum cli_setup */
	const struct cli_option *options;	  /* its own, up to {NULL} */
	const struct cli_subcommand *subcommands; /* up to {NULL}; or NULL */
	int max_args;				  /* positional arguments */
	/* The command's option values: opts_size bytes, a copy of
	 * defaults (NULL: zeroes). */
	size_t opts_size;
	const void *defaults;
	/* One of its own options: 0, or nonzero when refused (said). */
	int (*option)(struct cli *cli, void *opts, int id, const char *arg);
	/* After parsing, before any set-up: the positional arguments and
	 * option combinations; 0 or an exit status (said). */
	int (*check)(struct cli *cli, void *opts, int argc, char **argv);
	/* After the desired state is loaded, before the database opens. */
	int (*ready)(struct cli *cli, void *opts);
	/* The command; its exit status.  CLI_RAW: argc/argv as given. */
	int (*run)(struct cli *cli, void *opts, int argc, char **argv);
};

/* The global options, in every command's table, and their help. */
extern const struct cli_option cli_global_options[];
extern const char cli_global_help[];

/*
 * Parse argv (argv[0] the command name) with the options of cmd and the
 * global ones; a command option goes to cmd->option(cli, opts, ...).
 * *first_arg gets the index of the first positional argument (getopt
 * puts them last).  Returns 0, 1 when --help was printed, -1 on an
 * error (said on stderr, with the usage).
 */
int cli_parse_options(struct cli *cli, const struct command *cmd, void *opts,
		      int argc, char **argv, int *first_arg);

/*
 * The option scanner under cli_parse_options (and main's global options):
 * getopt_long over a table made of cli_option tables, so that every
 * command spells and abbreviates its options the same way.
 */
struct cli_getopt {
	struct option *longopts;
	size_t nr;
	struct strbuf shortopts;
	int argc;
	char **argv;
	int next;	 /* the index after the last option read */
	const char *bad; /* CLI_GETOPT_BAD: what is wrong, a message */
	struct strbuf why;
};

enum { CLI_GETOPT_END = -1, CLI_GETOPT_BAD = -2 };

/* Scan argv[1..] for own then more (either NULL); stop_at_arg: at the
 * first argument that is no option (else they are moved last). */
void cli_getopt_init(struct cli_getopt *g, const struct cli_option *own,
		     const struct cli_option *more, bool stop_at_arg, int argc,
		     char **argv);
/* The next option's id (*arg its value), CLI_GETOPT_END, or
 * CLI_GETOPT_BAD for an unknown option or a missing value. */
int cli_getopt_next(struct cli_getopt *g, const char **arg);
void cli_getopt_release(struct cli_getopt *g);

/* Parse, set up (cmd->setup) and run cmd; its exit status. */
int cli_run_command(struct cli *cli, const struct command *cmd, int argc,
		    char **argv);

/*
 * Handle a global option: 0 when handled, 1 when it is not a global
 * option, -1 on a bad value (message printed).
 */
int cli_global_option(struct cli *cli, int opt, const char *arg);
/* Print the command's usage to stdout (help) or stderr (error). */
void cli_usage(const struct command *cmd, int to_stderr);
/* Report a usage error for cmd and return IPAM_EXIT_ERROR. */
int cli_usage_error(const struct command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --parallel N (1 to IPAM_RUN_PARALLEL_MAX, domains handled at once) into
 * *out; 0, or nonzero when refused (said, with the usage). */
int cli_parallel_arg(const struct command *cmd, const char *arg, int *out);

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
/*
 * Open the state database d names (or --db): a SQLite file, or a
 * PostgreSQL server with the password of conn's file or variable (conn
 * NULL: d's databaseConnection; neither: libpq's own).  flags:
 * IPAM_DB_CREATE.
 */
struct ipam_db_connection;
int cli_db_connect(const struct cli *cli, const struct ipam_desired *d,
		   const struct ipam_db_connection *conn, int flags,
		   struct ipam_db **out);
/* Open the state database for a command that changes it: it must exist,
 * be of this ipamctl's schema, and agree with d's provisioning settings. */
int cli_open_db(struct cli *cli, const struct ipam_desired *d,
		struct ipam_db **out);

struct ipam_run;
struct ipam_node;
/* What a run's steps could not do but did not fail for (a domain whose
 * GPOs could not be read; what was applied but not recorded). */
void cli_print_prepare_errors(const struct ipam_run *run);
/* reconcile --every's active reconciler or standby (cli_standby.c). */
struct cli_standby {
	struct ipam_db *db; /* the connection that holds the active lock */
	char *target;	    /* its database */
	bool active;	    /* this loop is the active reconciler */
	bool passive;	    /* the last turn was the standby's */
};
/* Before a cycle of d: 1 when this loop runs it (SQLite, or the active
 * reconciler), 0 when it is the standby, -1 when the database could not
 * tell (said; the cycle is skipped). */
int cli_standby_turn(struct cli_standby *s, const struct cli *c,
		     const struct ipam_desired *d);
void cli_standby_release(struct cli_standby *s);
/* The last run that applied (or found nothing to apply) of runs, newest
 * first; NULL when none (cmd_status.c). */
struct ipam_db_run;
const struct ipam_db_run *
ipam_cmd_status_last_applied(const struct ipam_db_run *runs, size_t nr);

/* status: who holds the lock (and on PostgreSQL, the active lock), into
 * json, or printed as text when json is NULL. */
struct ipam_node;
void cli_status_lock(struct ipam_db *db, struct ipam_node *json);
/* The warning that begin took over a dead holder's lock, if it did. */
void cli_print_took_over(const struct ipam_run *run);
void cli_print_apply_errors(const struct ipam_run *run);
/* n as indented JSON on stdout. */
void cli_print_json(const struct ipam_node *n);
/*
 * Text output to stdout through the printing rule (text.h): values from
 * YAML, AD, DNS, DHCP or git are escaped; a format that ends with its
 * only newline(s) keeps a value's newline from making a line of its own.
 */
#define cli_printf(...) ipam_text_printf(stdout, __VA_ARGS__)

/* Print the discovery progress of cli's command (its callback). */
void cli_progress(void *ctx, const char *domain, const char *step);

/*
 * The manual and the completion read the same table --help prints from:
 * the commands in order, and main's own options (--version).
 */
struct cli_table {
	const struct command *const *cmds;
	size_t nr;
	const struct cli_option *main_options;
};

/* Whether cmd documents o: its synopsis (the usage up to the first
 * blank line) names --o->name, or names none of its table's options.
 * plan, apply and drift share one table and refuse each other's. */
bool cli_option_documented(const struct command *cmd,
			   const struct cli_option *o);
/* ipamctl help --man: the manual's SYNOPSIS, COMMANDS and GLOBAL OPTIONS
 * sections in roff (doc/ adds the prose around them). */
void cli_man_page(FILE *f, const struct cli_table *t);
/* ipamctl __complete WHAT [ARGS]: words for the shell completion, one a
 * line; never an error (a missing database is no servers). */
int cli_complete(struct cli *cli, const struct cli_table *t, int argc,
		 char **argv);

/* The scheduled tasks of reconcile --every (cli_tasks.c): record the
 * cycle's task t in run (outcome NULL: started; else the run's outcome),
 * say whether t is due by d's interval and db's last run, run those due
 * now but discovery (each printed) and return the seconds until the next
 * is due (-1: none known). */
void cli_tasks_record(const struct ipam_run *run, enum ipam_task t,
		      const char *outcome, const char *error);
bool cli_tasks_due(const struct ipam_desired *d, struct ipam_db *db,
		   enum ipam_task t);
long long cli_tasks_run_due(struct cli *c, const struct ipam_desired *d,
			    int lock_timeout, int (*stop)(void));

/* ipamctl db copy (cli_dbcopy.c): from's data into to (paths or URIs);
 * replace: delete the target's data first.  The exit status. */
int cli_db_copy(struct cli *cli, const char *from, const char *to, int replace);

extern const struct command cmd_validate_def, cmd_show_desired_def, cmd_db_def,
	cmd_discover_def, cmd_inventory_def, cmd_gpo_def, cmd_provision_def,
	cmd_plan_def, cmd_apply_def, cmd_drift_def, cmd_history_def,
	cmd_reconcile_def, cmd_status_def, cmd_verify_def, cmd_collect_def,
	cmd_tasks_def, cmd_availability_def;
extern const struct command cmd_dns_def;
extern const struct command cmd_track_def;
extern const struct command cmd_addresses_def;
extern const struct command cmd_report_def;

#endif
