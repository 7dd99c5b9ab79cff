/* ipamctl tasks: IPAM's scheduled tasks as the Scheduled Tasks tile shows
 * them -- each task's interval, last run and outcome, next run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "db.h"
#include "db_collect.h"
#include "error.h"
#include "log.h"
#include "schedule.h"
#include "strbuf.h"
#include "tasks.h"
#include "banned.h"

enum { OPT_DETAILED = CLI_OPT_OWN };

static const struct cli_option tasks_options[] = {
	{"detailed", CLI_NO_ARG, OPT_DETAILED,
	 "each task's summary and the servers that failed"},
	{NULL, 0, 0, NULL},
};

struct tasks_opts {
	bool detailed;
};

static int tasks_option(struct cli *cli, void *opts, int id, const char *arg);
static int tasks_check(struct cli *cli, void *opts, int argc, char **argv);
static int tasks_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_tasks_def = {
	.name = "tasks",
	.summary = "the scheduled tasks: interval, last run, next run",
	.usage = "tasks [-c PATH] [--detailed] [-o text|json]\n\n"
		 "IPAM's scheduled tasks as `reconcile --every` runs them, "
		 "each on its\n"
		 "own interval (collection.intervals):\n"
		 "  discovery     the GitOps cycle (discover, plan, apply)\n"
		 "  access        the IPAM identity's access probes (verify)\n"
		 "  availability  DHCP and DNS service up or down\n"
		 "  zones         zone monitoring\n"
		 "  dns           the AD-integrated zones and records\n"
		 "  audit         the DHCP audit logs\n"
		 "For each: its interval, its last run (start, end, outcome: "
		 "succeeded,\n"
		 "partial when some servers failed, failed) and its next run "
		 "(now when it\n"
		 "never ran or is overdue).  A task whose whole run failed is "
		 "tried again\n"
		 "within 15 minutes.\n\n"
		 "  --detailed  each task's summary and the servers its last "
		 "run failed on\n"
		 "              (-o json always has every server's outcome)",
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = tasks_options,
	.opts_size = sizeof(struct tasks_opts),
	.option = tasks_option,
	.check = tasks_check,
	.run = tasks_run,
};

static int tasks_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct tasks_opts *o = opts;

	(void)cli;
	(void)id;
	(void)arg;
	o->detailed = true;
	return 0;
}

static int tasks_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "tasks writes text or json");
	return 0;
}

/* What the view shows of one task. */
struct task_view {
	long long interval, next;
	bool due;
	const struct ipam_db_task_row *row; /* NULL: never ran */
};

static struct ipam_node *str_or_null(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

static struct ipam_node *task_node(enum ipam_task t, const struct task_view *v,
				   const struct ipam_db_task_server_row *srv,
				   size_t nr_srv)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *last, *seq;
	struct strbuf iv = STRBUF_INIT;
	char next[21];

	ipam_collection_duration(&iv, v->interval);
	ipam_node_set_str(m, "task", ipam_task_name(t));
	ipam_node_set_str(m, "interval", iv.buf);
	ipam_node_set(m, "interval_seconds", ipam_node_int(v->interval));
	if (v->row && v->row->last_started_at) {
		last = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set(last, "run",
			      v->row->last_run_id
				      ? ipam_node_int(v->row->last_run_id)
				      : ipam_node_new(IPAM_NODE_NULL));
		ipam_node_set_str(last, "started_at", v->row->last_started_at);
		ipam_node_set(last, "ended_at",
			      str_or_null(v->row->last_ended_at));
		ipam_node_set(last, "outcome",
			      str_or_null(v->row->last_outcome));
		ipam_node_set(last, "summary",
			      str_or_null(v->row->last_summary));
	} else {
		last = ipam_node_new(IPAM_NODE_NULL);
	}
	ipam_node_set(m, "last_run", last);
	ipam_schedule_format_time(next, v->next);
	ipam_node_set_str(m, "next_run", next);
	ipam_node_set(m, "due", ipam_node_bool(v->due));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < nr_srv; i++) {
		struct ipam_node *s;

		if (strcmp(srv[i].task, ipam_task_name(t)))
			continue;
		s = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(s, "server", srv[i].server);
		ipam_node_set(s, "ok", ipam_node_bool(srv[i].ok));
		ipam_node_set_str(s, "at", srv[i].at);
		ipam_node_set(s, "detail", str_or_null(srv[i].detail));
		ipam_node_push(seq, s);
	}
	ipam_node_set(m, "servers", seq);
	strbuf_release(&iv);
	return m;
}

static void task_text(enum ipam_task t, const struct task_view *v,
		      const struct ipam_db_task_server_row *srv, size_t nr_srv,
		      bool detailed)
{
	const struct ipam_db_task_row *r = v->row;
	struct strbuf iv = STRBUF_INIT;
	char next[21];
	bool ran = r && r->last_started_at;

	ipam_collection_duration(&iv, v->interval);
	ipam_schedule_format_time(next, v->next);
	cli_printf("%-13s %-8s %-20s %-20s %-9s %s\n", ipam_task_name(t),
		   iv.buf, ran ? r->last_started_at : "never",
		   ran && r->last_ended_at ? r->last_ended_at
		   : ran		   ? "(running)"
					   : "-",
		   ran && r->last_outcome ? r->last_outcome : "-",
		   v->due ? "now" : next);
	if (detailed && ran && r->last_summary)
		cli_printf("    %s\n", r->last_summary);
	for (size_t i = 0; detailed && i < nr_srv; i++)
		if (!strcmp(srv[i].task, ipam_task_name(t)) && !srv[i].ok)
			cli_printf("    %s: failed at %s: %s\n", srv[i].server,
				   srv[i].at,
				   srv[i].detail ? srv[i].detail : "?");
	strbuf_release(&iv);
}

static int tasks_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct tasks_opts *o = opts;
	static const struct ipam_collection_cfg defaults;
	const struct ipam_collection_cfg *cfg =
		cli->d ? &cli->d->collection : &defaults;
	struct ipam_schedule_task sched[IPAM_TASK_NR];
	struct ipam_db_task_row *rows = NULL;
	struct ipam_db_task_server_row *srv = NULL;
	size_t nr = 0, nr_srv = 0;
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	long long now = (long long)time(NULL);
	int err;

	(void)argc;
	(void)argv;
	err = ipam_tasks_schedule(sched, cfg, cli->db);
	if (!err)
		err = ipam_db_tasks_list(cli->db, &rows, &nr);
	if (!err)
		err = ipam_db_task_servers(cli->db, NULL, &srv, &nr_srv);
	if (err) {
		log_error("%s", ipam_error_last());
		goto out;
	}
	if (cli->output == IPAM_OUT_TEXT)
		cli_printf("%-13s %-8s %-20s %-20s %-9s %s\n", "TASK",
			   "INTERVAL", "LAST START", "LAST END", "OUTCOME",
			   "NEXT RUN");
	for (int t = 0; t < IPAM_TASK_NR; t++) {
		struct task_view v = {
			.interval = sched[t].interval,
			.row = ipam_db_tasks_find(
				rows, nr, ipam_task_name((enum ipam_task)t))};
		const struct ipam_schedule_task s = sched[t];

		v.next = ipam_schedule_next(&s, now);
		v.due = v.next <= now;
		if (cli->output == IPAM_OUT_JSON)
			ipam_node_push(seq, task_node((enum ipam_task)t, &v,
						      srv, nr_srv));
		else
			task_text((enum ipam_task)t, &v, srv, nr_srv,
				  o->detailed);
	}
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		char at[21];

		ipam_schedule_format_time(at, now);
		ipam_node_set_str(m, "now", at);
		ipam_node_set(m, "tasks", seq);
		seq = NULL;
		cli_print_json(m);
		ipam_node_free(m);
	}
out:
	ipam_node_free(seq);
	ipam_db_tasks_free(rows, nr);
	ipam_db_task_servers_free(srv, nr_srv);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}
