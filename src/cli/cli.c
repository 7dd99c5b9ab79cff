#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "gitsrc.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

#define DEFAULT_CONFIG "/etc/ipamctl"

int cli_global_option(struct cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		cli->config = arg;
		return 0;
	case 0x100:
		cli->db_uri = arg;
		return 0;
	case 'o':
		if (!strcmp(arg, "text"))
			cli->output = IPAM_OUT_TEXT;
		else if (!strcmp(arg, "json"))
			cli->output = IPAM_OUT_JSON;
		else if (!strcmp(arg, "yaml"))
			cli->output = IPAM_OUT_YAML;
		else if (!strcmp(arg, "markdown"))
			cli->output = IPAM_OUT_MARKDOWN;
		else {
			fprintf(stderr,
				"ipamctl: unknown output format '%s' (text, "
				"json, yaml, markdown)\n",
				arg);
			return -1;
		}
		cli->output_set = 1;
		return 0;
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

static const char global_help[] =
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
	"  -o, --output FMT    text or json (some commands: yaml, markdown)\n"
	"  -v, --verbose       more detail on stderr (repeat for debug)\n"
	"  -q, --quiet         only warnings and errors on stderr\n"
	"  -h, --help          this help\n";

void cli_usage(const struct command *cmd, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;

	fprintf(f, "usage: ipamctl %s\n", cmd->usage);
	if (!to_stderr)
		fputs(global_help, f);
}

int cli_usage_error(const struct command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("ipamctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_usage(cmd, 1);
	return IPAM_EXIT_ERROR;
}

int cli_parse_global_only(struct cli *cli, const struct command *cmd, int argc,
			  char **argv)
{
	static const struct option opts[] = {CLI_GLOBAL_LONGOPTS,
					     {NULL, 0, NULL, 0}};
	int c;

	optind = 0; /* 0: glibc re-initialises (and permutes) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'h') {
			cli_usage(cmd, 0);
			return -2;
		}
		if (c == '?' || c == ':') {
			cli_usage_error(cmd, "bad option '%s'",
					argv[optind - 1]);
			return -1;
		}
		if (cli_global_option(cli, c, optarg))
			return -1;
	}
	if (optind < argc) {
		cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
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
