/* ipamctl availability: the DHCP and DNS services of the managed servers,
 * up or down and since when, as the availability task last found them. */
#define _GNU_SOURCE /* timegm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "db_monitor.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "node.h"
#include "strbuf.h"
#include "banned.h"

static const struct cli_option availability_options[] = {
	{"domain", CLI_ARG, 'D', "only the servers of this domain"},
	{NULL, 0, 0, NULL},
};

struct availability_opts {
	const char *domain;
};

static int availability_option(struct cli *cli, void *opts, int id,
			       const char *arg);
static int availability_check(struct cli *cli, void *opts, int argc,
			      char **argv);
static int availability_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_availability_def = {
	.name = "availability",
	.summary = "DHCP and DNS service up or down per managed server",
	.usage = "availability [-c PATH] [--domain D] [-o text|json]\n\n"
		 "The state of the DHCP service of each managed DHCP server "
		 "and of the DNS\n"
		 "service of each managed DNS server, as the availability "
		 "task (`ipamctl\n"
		 "collect --task availability`, or a reconcile cycle) last "
		 "measured it:\n"
		 "DHCP up when the server answered a DHCPINFORM, DNS up when "
		 "it answered\n"
		 "the SOA query of its domain (with any rcode, named as the "
		 "reason); down\n"
		 "when it did not answer.  Each with since when it has been "
		 "in that state,\n"
		 "the time in it, when it was checked and the reason.\n\n"
		 "  --domain D  only the servers of discovery domain D",
	/* Reading needs no desired state, but uses its database if
	 * named. */
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = availability_options,
	.opts_size = sizeof(struct availability_opts),
	.option = availability_option,
	.check = availability_check,
	.run = availability_run,
};

static int availability_option(struct cli *cli, void *opts, int id,
			       const char *arg)
{
	struct availability_opts *o = opts;

	(void)cli;
	(void)id;
	o->domain = arg;
	return 0;
}

static int availability_check(struct cli *cli, void *opts, int argc,
			      char **argv)
{
	(void)opts;
	(void)argv;
	if (argc)
		return cli_usage_error(cli->cmd, "no arguments expected");
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "availability writes text or json");
	return 0;
}

/* Seconds since the epoch of a stored time, or -1. */
static long long parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end)
		return -1;
	return (long long)timegm(&tm);
}

/* "45s", "12m", "2h 05m", "3d 04h". */
static void duration(char *buf, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh %02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%lldd %02lldh", s / 86400,
			 s % 86400 / 3600);
}

static struct ipam_node *avail_node(const struct ipam_db_avail *a,
				    long long now)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	long long since = parse_time(a->since);

	ipam_node_set_str(m, "server", a->server);
	ipam_node_set(m, "domain", ipam_node_str_or_null(a->domain));
	ipam_node_set_str(m, "service", a->service);
	ipam_node_set_str(m, "state", a->up ? "up" : "down");
	ipam_node_set_str(m, "since", a->since);
	ipam_node_set(
		m, "secondsInState",
		ipam_node_int(since < 0 || now < since ? 0 : now - since));
	ipam_node_set_str(m, "checkedAt", a->checked_at);
	ipam_node_set(m, "rttMs",
		      a->rtt_ms < 0 ? ipam_node_new(IPAM_NODE_NULL)
				    : ipam_node_int(a->rtt_ms));
	ipam_node_set(m, "reason", ipam_node_str_or_null(a->reason));
	ipam_node_set(m, "run",
		      a->run_id ? ipam_node_int(a->run_id)
				: ipam_node_new(IPAM_NODE_NULL));
	return m;
}

static void print_text(const struct ipam_db_avail *v, size_t nr, long long now)
{
	if (!nr) {
		cli_printf("no availability measured yet (ipamctl collect "
			   "--task availability)\n");
		return;
	}
	cli_printf("%-32s  %-7s  %-18s  %-20s  %-20s  %s\n", "server",
		   "service", "state", "since", "checked at", "reason");
	for (size_t i = 0; i < nr; i++) {
		long long since = parse_time(v[i].since);
		char d[32], state[48];

		duration(d, sizeof(d), since < 0 ? 0 : now - since);
		snprintf(state, sizeof(state), "%s for %s",
			 v[i].up ? "up" : "down", d);
		cli_printf("%-32s  %-7s  %-18s  %-20s  %-20s  %s\n",
			   v[i].server, v[i].service, state, v[i].since,
			   v[i].checked_at, v[i].reason ? v[i].reason : "");
	}
}

static int availability_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct availability_opts *o = opts;
	struct ipam_db_avail *v = NULL;
	size_t nr = 0;
	long long now = (long long)time(NULL);

	(void)argc;
	(void)argv;
	if (ipam_db_monitor_avail_list(cli->db, o->domain, &v, &nr)) {
		log_error("%s", ipam_error_last());
		return IPAM_EXIT_ERROR;
	}
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

		for (size_t i = 0; i < nr; i++)
			ipam_node_push(seq, avail_node(&v[i], now));
		ipam_node_set(m, "services", seq);
		cli_print_json(m);
		ipam_node_free(m);
	} else {
		print_text(v, nr, now);
	}
	ipam_db_monitor_avail_free(v, nr);
	return IPAM_EXIT_OK;
}
