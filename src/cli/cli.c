#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "gitsrc.h"
#include "json.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"
#include "text.h"
#include "banned.h"

#define DEFAULT_CONFIG "/etc/ipamctl"

const struct cli_option cli_global_options[] = {
	{"config", CLI_ARG, 'c', "desired state: a file or a directory"},
	{"db", CLI_ARG, CLI_OPT_DB, "state database, sqlite:PATH"},
	{"output", CLI_ARG, 'o', "text, json, yaml or markdown"},
	{"verbose", CLI_NO_ARG, 'v', "more detail on stderr"},
	{"quiet", CLI_NO_ARG, 'q', "only warnings and errors on stderr"},
	{"help", CLI_NO_ARG, 'h', "this help"},
	{NULL, 0, 0, NULL},
};

static int set_output(struct cli *cli, const char *arg)
{
	static const struct {
		const char *name;
		enum ipam_output out;
	} formats[] = {
		{"text", IPAM_OUT_TEXT}, {"json", IPAM_OUT_JSON},
		{"yaml", IPAM_OUT_YAML}, {"markdown", IPAM_OUT_MARKDOWN},
		{"html", IPAM_OUT_HTML},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(arg, formats[i].name)) {
			cli->output = formats[i].out;
			cli->output_set = 1;
			return 0;
		}
	ipam_text_printf(stderr,
			 "ipamctl: unknown output format '%s' (text, json, "
			 "yaml, markdown, html)\n",
			 arg);
	return -1;
}

int cli_global_option(struct cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		cli->config = arg;
		return 0;
	case CLI_OPT_DB:
		cli->db_uri = arg;
		return 0;
	case 'o':
		return set_output(cli, arg);
	case 'v':
		cli->verbosity++;
		ipam_log_set_level(IPAM_LOG_NOTICE + cli->verbosity);
		return 0;
	case 'q':
		cli->verbosity--;
		ipam_log_set_level(IPAM_LOG_NOTICE + cli->verbosity);
		return 0;
	default:
		return 1;
	}
}

static size_t nr_options(const struct cli_option *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

static void add_options(struct cli_getopt *g, const struct cli_option *o)
{
	for (; o && o->name; o++) {
		struct option *lo = &g->longopts[g->nr++];

		lo->name = o->name;
		lo->has_arg = o->has_arg ? required_argument : no_argument;
		lo->flag = NULL;
		lo->val = o->id;
		if (o->id < 0x80 && isalpha(o->id)) {
			strbuf_addch(&g->shortopts, (char)o->id);
			if (o->has_arg)
				strbuf_addch(&g->shortopts, ':');
		}
	}
}

void cli_getopt_init(struct cli_getopt *g, const struct cli_option *own,
		     const struct cli_option *more, bool stop_at_arg, int argc,
		     char **argv)
{
	memset(g, 0, sizeof(*g));
	strbuf_init(&g->shortopts);
	strbuf_init(&g->why);
	/* "+": stop at the first argument (the command name); ":" then:
	 * a missing argument is ':', told apart from an unknown option. */
	if (stop_at_arg)
		strbuf_addch(&g->shortopts, '+');
	strbuf_addch(&g->shortopts, ':');
	g->longopts = xcalloc(nr_options(own) + nr_options(more) + 1,
			      sizeof(*g->longopts));
	add_options(g, own);
	add_options(g, more);
	g->argc = argc;
	g->argv = argv;
	optind = 0; /* 0: glibc re-initialises (and permutes) */
	opterr = 0;
}

int cli_getopt_next(struct cli_getopt *g, const char **arg)
{
	int c = getopt_long(g->argc, g->argv, g->shortopts.buf, g->longopts,
			    NULL);

	*arg = optarg;
	g->next = optind;
	if (c == '?' || c == ':') {
		const char *a = g->argv[optind - 1];

		strbuf_reset(&g->why);
		if (c == '?' && !strncmp(a, "--", 2))
			strbuf_addf(&g->why, "bad option '%s'", a);
		else if (c == '?')
			strbuf_addf(&g->why, "bad option '-%c'", optopt);
		else if (!strncmp(a, "--", 2))
			strbuf_addf(&g->why, "option '%.*s' needs an argument",
				    (int)strcspn(a, "="), a);
		else
			strbuf_addf(&g->why, "option '-%c' needs an argument",
				    optopt);
		g->bad = g->why.buf;
		return CLI_GETOPT_BAD;
	}
	return c == -1 ? CLI_GETOPT_END : c;
}

void cli_getopt_release(struct cli_getopt *g)
{
	free(g->longopts);
	g->longopts = NULL;
	strbuf_release(&g->shortopts);
	strbuf_release(&g->why);
}

int cli_parse_options(struct cli *cli, const struct command *cmd, void *opts,
		      int argc, char **argv, int *first_arg)
{
	struct cli_getopt g;
	const char *arg;
	int id, ret = 0;

	cli_getopt_init(&g, cmd->options, cli_global_options, false, argc,
			argv);
	while (!ret && (id = cli_getopt_next(&g, &arg)) != CLI_GETOPT_END) {
		if (id == 'h') {
			cli_usage(cmd, 0);
			ret = 1;
		} else if (id == CLI_GETOPT_BAD) {
			cli_usage_error(cmd, "%s", g.bad);
			ret = -1;
		} else if ((ret = cli_global_option(cli, id, arg)) == 1) {
			ret = cmd->option && cmd->option(cli, opts, id, arg)
				      ? -1
				      : 0;
		}
	}
	*first_arg = g.next;
	cli_getopt_release(&g);
	return ret;
}

const char cli_global_help[] =
	"\nglobal options:\n"
	"  -c, --config PATH   desired state: a file, or a directory of "
	"*.yaml/*.yml\n"
	"                      (default: $IPAMCTL_CONFIG, else " DEFAULT_CONFIG
	")\n"
	"      --db URI        state database, sqlite:PATH (default: the "
	"config's\n"
	"                      'database', else /var/lib/ipamctl/state.db as "
	"root,\n"
	"                      $XDG_STATE_HOME/ipamctl/state.db otherwise)\n"
	"  -o, --output FMT    text or json (some commands: yaml, markdown, "
	"html)\n"
	"  -v, --verbose       more detail on stderr (repeat for debug)\n"
	"  -q, --quiet         only warnings and errors on stderr\n"
	"  -h, --help          this help\n";

void cli_usage(const struct command *cmd, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	fprintf(f, "usage: ipamctl %s\n", cmd->usage);
	if (!to_stderr)
		fputs(cli_global_help, f);
}

int cli_usage_error(const struct command *cmd, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_addstr(&line, "ipamctl: ");
	ipam_text_add_escaped_n(&line, msg.buf, msg.len, false);
	fprintf(stderr, "%s\n", line.buf);
	strbuf_release(&line);
	strbuf_release(&msg);
	cli_usage(cmd, 1);
	return IPAM_EXIT_ERROR;
}

static int open_db_read(struct cli *cli)
{
	struct strbuf path = STRBUF_INIT;
	int rc = cli_db_path(cli, cli->d, &path);

	if (!rc)
		rc = ipam_db_open(&cli->db, path.buf, 0);
	strbuf_release(&path);
	return rc;
}

/* What the command's flags ask for, before its run; 0 or exit status. */
static int setup(struct cli *cli, const struct command *cmd, void *opts)
{
	if (cmd->setup & CLI_LAB && isatty(STDERR_FILENO) &&
	    cli->verbosity >= 0)
		cli->progress.fn = cli_progress;
	if ((cmd->setup & CLI_CONFIG ||
	     (cmd->setup & CLI_CONFIG_IF_ANY && cli_config_available(cli))) &&
	    cli_load_desired(cli, &cli->d))
		return IPAM_EXIT_ERROR;
	if (cmd->ready) {
		int ret = cmd->ready(cli, opts);

		if (ret)
			return ret;
	}
	if (cmd->setup & CLI_DB && cli_open_db(cli, cli->d, &cli->db)) {
		log_error("%s", ipam_error_last());
		return IPAM_EXIT_ERROR;
	}
	if (cmd->setup & CLI_DB_READ && open_db_read(cli)) {
		log_error("%s", ipam_error_last());
		return IPAM_EXIT_ERROR;
	}
	return 0;
}

int cli_run_command(struct cli *cli, const struct command *cmd, int argc,
		    char **argv)
{
	void *opts = NULL;
	int first = argc, ret;

	cli->cmd = cmd;
	if (cmd->setup & CLI_RAW)
		return cmd->run(cli, NULL, argc, argv);
	if (cmd->opts_size) {
		opts = xcalloc(1, cmd->opts_size);
		if (cmd->defaults)
			memcpy(opts, cmd->defaults, cmd->opts_size);
	}
	ret = cli_parse_options(cli, cmd, opts, argc, argv, &first);
	if (ret) {
		ret = ret > 0 ? IPAM_EXIT_OK : IPAM_EXIT_ERROR;
		goto out;
	}
	if (cmd->check)
		ret = cmd->check(cli, opts, argc - first, argv + first);
	else if (first + cmd->max_args < argc)
		ret = cli_usage_error(cmd, "unexpected argument '%s'",
				      argv[first + cmd->max_args]);
	if (!ret)
		ret = setup(cli, cmd, opts);
	if (!ret)
		ret = cmd->run(cli, opts, argc - first, argv + first);
out:
	ipam_db_close(cli->db);
	cli->db = NULL;
	ipam_desired_free(cli->d);
	cli->d = NULL;
	free(opts);
	return ret;
}

void cli_print_prepare_errors(const struct ipam_run *run)
{
	size_t n = run->prepared && run->r.d ? run->r.d->nr_domains : 0;

	for (size_t i = 0; i < n; i++)
		if (run->r.gpo_errors && run->r.gpo_errors[i])
			log_error("%s", run->r.gpo_errors[i]);
}

void cli_print_took_over(const struct ipam_run *run)
{
	if (run->took_over)
		log_warn("took over the reconciler lock of %s, which is no "
			 "longer running; its run is marked interrupted",
			 run->took_over);
}

void cli_print_apply_errors(const struct ipam_run *run)
{
	for (size_t i = 0; i < run->res.nr_record_errors; i++)
		log_error("%s", run->res.record_errors[i]);
}

void cli_print_json(const struct ipam_node *n)
{
	struct strbuf out = STRBUF_INIT;

	if (!ipam_json_write(&out, n, IPAM_JSON_PRETTY))
		fputs(out.buf, stdout);
	strbuf_release(&out);
}

void cli_progress(void *ctx, const char *domain, const char *step)
{
	(void)ctx;
	if (!step) {
		fputs("\r\033[K", stderr);
		return;
	}
	/* The only escape sequences here are ours. */
	fputs("\r\033[K", stderr);
	ipam_text_printf(stderr, "%s: %s", domain, step);
	fflush(stderr);
}

int cli_config_available(const struct cli *cli)
{
	struct stat st;

	return cli->config || getenv("IPAMCTL_CONFIG") ||
	       !stat(cli_config_path(cli), &st);
}

const char *cli_config_path(const struct cli *cli)
{
	const char *env = getenv("IPAMCTL_CONFIG");

	if (cli->config)
		return cli->config;
	if (env && *env)
		return env;
	return DEFAULT_CONFIG;
}

void cli_print_diags(FILE *f, const struct ipam_diags *diags)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < diags->nr; i++) {
		strbuf_reset(&sb);
		ipam_diag_format(&sb, &diags->items[i]);
		ipam_log_line(f,
			      diags->items[i].severity == IPAM_DIAG_WARNING
				      ? IPAM_LOG_WARNING
				      : IPAM_LOG_ERROR,
			      sb.buf);
	}
	strbuf_release(&sb);
}

int cli_load_desired(struct cli *cli, struct ipam_desired **out)
{
	struct ipam_diags diags = {0};
	const char *path = cli_config_path(cli);
	int err;

	err = ipam_config_load(out, path, &diags);
	cli_print_diags(stderr, &diags);
	if (err == IPAM_EINVAL && diags.errors) {
		log_error("the desired state '%s' is invalid (%zu error%s)",
			  path, diags.errors, diags.errors == 1 ? "" : "s");
	} else if (err) {
		log_error("%s", ipam_error_last());
	}
	ipam_diags_free(&diags);
	return err;
}

int cli_db_path(struct cli *cli, const struct ipam_desired *d,
		struct strbuf *out)
{
	if (cli->db_uri)
		return ipam_db_path_from_uri(out, cli->db_uri);
	if (d && d->database.value)
		return ipam_db_path_from_uri(out, d->database.value);
	ipam_db_default_path(out);
	return 0;
}

/* Open the state database for a command that changes it: it must exist,
 * be of this ipamctl's schema, and agree with d's provisioning settings. */
int cli_open_db(struct cli *cli, const struct ipam_desired *d,
		struct ipam_db **out)
{
	struct strbuf path = STRBUF_INIT;
	int version, err;

	*out = NULL;
	err = cli_db_path(cli, d, &path);
	if (!err)
		err = ipam_db_open(out, path.buf, 0);
	if (!err)
		err = ipam_db_check_schema(*out, &version, 1);
	if (!err)
		err = ipam_db_check_settings(*out, d);
	if (err) {
		ipam_db_close(*out);
		*out = NULL;
	}
	strbuf_release(&path);
	return err;
}

const char *cli_checkout_commit(char *buf, size_t size, const char *path)
{
	struct ipam_git_worktree w;

	if (ipam_git_worktree_head(&w, path)) {
		log_warn("no git commit recorded for '%s': %s", path,
			 ipam_error_last());
		return NULL;
	}
	if (!w.commit[0])
		return NULL;
	snprintf(buf, size, "%s%s", w.commit, w.dirty ? "+dirty" : "");
	return buf;
}

int cli_parallel_arg(const struct command *cmd, const char *arg, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > IPAM_RUN_PARALLEL_MAX)
		return cli_usage_error(cmd,
				       "--parallel wants a count of "
				       "domains (1-%d)",
				       IPAM_RUN_PARALLEL_MAX);
	*out = (int)v;
	return 0;
}
