/* ipamctl collect: run IPAM's collection tasks now, each a run of its own
 * in the history, on the managed servers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "collect.h"
#include "db.h"
#include "db_prune.h"
#include "error.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"
#include "text.h"
#include "banned.h"

enum { OPT_TASK = CLI_OPT_OWN, OPT_LOCK_TIMEOUT };

static const struct cli_option collect_options[] = {
	{"task", CLI_ARG, OPT_TASK, "only this task (repeatable)"},
	{"domain", CLI_ARG, 'D', "only the servers of this domain"},
	{"server", CLI_ARG, 'S', "only this server"},
	{"lock-timeout", CLI_ARG, OPT_LOCK_TIMEOUT, "seconds to wait"},
	{NULL, 0, 0, NULL},
};

/* The order tasks run in when none is named: zones reads what dns
 * stored. */
static const enum ipam_task all_tasks[] = {
	IPAM_TASK_AVAILABILITY,
	IPAM_TASK_DNS,
	IPAM_TASK_ZONES,
	IPAM_TASK_AUDIT,
};

#define NR_ALL (sizeof(all_tasks) / sizeof(all_tasks[0]))

struct collect_opts {
	const char *domain, *server;
	bool want[IPAM_TASK_NR];
	bool any;
	int lock_timeout;
};

static int collect_option(struct cli *cli, void *opts, int id, const char *arg);
static int collect_check(struct cli *cli, void *opts, int argc, char **argv);
static int collect_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_collect_def = {
	.name = "collect",
	.summary = "run the collection tasks on the managed servers now",
	.usage =
		"collect [-c PATH] [--task T]... [--domain D] [--server NAME]\n"
		"        [--lock-timeout S] [-o text|json]\n\n"
		"Retrieves data from the managed servers as IPAM's "
		"scheduled tasks do,\n"
		"each task a run of its own in the history:\n"
		"  availability  DHCP and DNS service up or down\n"
		"  dns           the AD-integrated zones and their records "
		"(LDAP)\n"
		"  zones         zone monitoring: each server hosting a "
		"zone answers it\n"
		"  audit         the DHCP audit logs (SMB), for IP address "
		"tracking\n"
		"Without --task, all four in that order.  dns and audit read "
		"as the IPAM\n"
		"identity.  Only managed servers are collected; a server "
		"that fails keeps\n"
		"what was collected from it before.\n\n"
		"  --task T          availability, dns, zones or audit\n"
		"  --domain D        only the servers of discovery domain D\n"
		"  --server NAME     only this server\n"
		"  --lock-timeout S  wait up to S seconds for a running "
		"reconciler\n\n"
		"Exit status 0 when every task collected from every server, "
		"1 otherwise.",
	.setup = CLI_CONFIG | CLI_DB | CLI_LAB,
	.options = collect_options,
	.opts_size = sizeof(struct collect_opts),
	.option = collect_option,
	.check = collect_check,
	.run = collect_run,
};

static int collect_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct collect_opts *o = opts;
	enum ipam_task t;
	char *end;
	long v;

	switch (id) {
	case 'D':
		o->domain = arg;
		return 0;
	case 'S':
		o->server = arg;
		return 0;
	case OPT_LOCK_TIMEOUT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 0 || v > 86400)
			return cli_usage_error(cli->cmd, "--lock-timeout wants "
							 "seconds (0-86400)");
		o->lock_timeout = (int)v;
		return 0;
	default:
		if (ipam_task_parse(arg, &t) || t == IPAM_TASK_DISCOVERY ||
		    t == IPAM_TASK_ACCESS)
			return cli_usage_error(
				cli->cmd,
				"--task wants availability, dns, zones or "
				"audit, not '%s'%s",
				arg,
				t == IPAM_TASK_ACCESS
					? " (access: ipamctl verify)"
				: t == IPAM_TASK_DISCOVERY
					? " (discovery: ipamctl discover)"
					: "");
		o->want[t] = true;
		o->any = true;
		return 0;
	}
}

static int collect_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "collect writes text or json");
	return 0;
}

static void print_text(const struct ipam_collect_result *r, int err)
{
	struct strbuf sum = STRBUF_INIT;

	ipam_collect_summary(&sum, r);
	cli_printf("%s: %s (%lld.%01lld s)\n", ipam_task_name(r->task),
		   err ? "failed" : sum.buf, r->ms / 1000, r->ms % 1000 / 100);
	for (size_t i = 0; i < r->nr; i++)
		cli_printf("  %s  %s%s%s\n", r->servers[i].name,
			   r->servers[i].ok ? "ok" : "FAILED",
			   r->servers[i].detail ? "  " : "",
			   r->servers[i].detail ? r->servers[i].detail : "");
	for (size_t i = 0; i < r->nr_warnings; i++)
		cli_printf("  warning: %s\n", r->warnings[i]);
	if (r->warnings_dropped)
		cli_printf("  (%zu more warnings not shown)\n",
			   r->warnings_dropped);
	strbuf_release(&sum);
}

/* History older than retainDays goes after the tasks (db_prune.h). */
static void prune(const struct ipam_desired *d, struct ipam_db *db)
{
	struct ipam_db_prune_counts c;

	if (ipam_db_prune_history(db,
				  ipam_collection_retain_days(&d->collection),
				  (long long)time(NULL), &c))
		log_warn("retention: %s", ipam_error_last());
	else if (c.dhcp_events + c.dns_record_history + c.availability_history)
		log_notice("retention: %lld audit events, %lld DNS record "
			   "changes, %lld availability changes deleted",
			   c.dhcp_events, c.dns_record_history,
			   c.availability_history);
}

static int collect_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct collect_opts *o = opts;
	struct ipam_collect_opts co = {.domain = o->domain,
				       .server = o->server,
				       .lock_timeout = o->lock_timeout};
	struct ipam_run_hooks hooks = {0};
	struct ipam_node *tasks = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_db *db = NULL;
	bool failed = false;
	int err;

	(void)argc;
	(void)argv;
	err = cli_open_db(cli, cli->d, &db);
	if (err) {
		log_error("%s", ipam_error_last());
		ipam_node_free(tasks);
		return IPAM_EXIT_ERROR;
	}
	ipam_run_hooks_add(&hooks, cli->d,
			   IPAM_EVENT_BIT(IPAM_EVENT_COLLECTION_FAILED) |
				   IPAM_EVENT_BIT(IPAM_EVENT_UTILIZATION));
	for (size_t i = 0; i < NR_ALL; i++) {
		enum ipam_task t = all_tasks[i];
		struct ipam_collect_result r;

		if (o->any && !o->want[t])
			continue;
		err = ipam_collect_run_task(&r, t, cli->d, db, &co, &hooks);
		if (err)
			log_error("%s: %s", ipam_task_name(t),
				  ipam_error_last());
		failed |= err || ipam_collect_failed(&r);
		if (cli->output == IPAM_OUT_JSON) {
			struct ipam_node *n = ipam_collect_to_node(&r);

			ipam_node_set(n, "error",
				      ipam_node_str_or_null(
					      err ? ipam_error_last() : NULL));
			ipam_node_push(tasks, n);
		} else {
			print_text(&r, err);
		}
		ipam_collect_result_release(&r);
	}
	prune(cli->d, db);
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set(m, "tasks", tasks);
		cli_print_json(m);
		ipam_node_free(m);
	} else {
		ipam_node_free(tasks);
	}
	ipam_run_hooks_release(&hooks);
	ipam_db_close(db);
	return failed ? IPAM_EXIT_ERROR : 0;
}
