/* ipamctl dns zones|records|history: what the dns task collected, the
 * AD-integrated zones of the managed DNS servers' domains. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "db_dns.h"
#include "dnsrecord.h"
#include "error.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

enum { OPT_ZONE = CLI_OPT_OWN, OPT_NAME, OPT_TYPE, OPT_LIMIT };

static const struct cli_option dns_options[] = {
	{"domain", CLI_ARG, 'D', "zones: only those of this domain"},
	{"zone", CLI_ARG, OPT_ZONE, "records, history: the zone"},
	{"name", CLI_ARG, OPT_NAME, "records: only this name"},
	{"type", CLI_ARG, OPT_TYPE, "records: only this type"},
	{"limit", CLI_ARG, OPT_LIMIT, "history: at most N changes"},
	{NULL, 0, 0, NULL},
};

static const struct cli_subcommand dns_subcommands[] = {
	{"zones", NULL},
	{"records", NULL},
	{"history", NULL},
	{NULL, NULL},
};

struct dns_opts {
	const char *domain, *zone, *name;
	unsigned type;
	long long limit;
};

static const struct dns_opts dns_defaults = {.limit = 50};

static int dns_option(struct cli *cli, void *opts, int id, const char *arg);
static int dns_check(struct cli *cli, void *opts, int argc, char **argv);
static int dns_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_dns_def = {
	.name = "dns",
	.summary = "show the DNS zones and records the dns task collected",
	.usage = "dns zones [--domain D] [-o text|json]\n"
		 "       dns records --zone Z [--name N] [--type T] "
		 "[-o text|json]\n"
		 "       dns history --zone Z [--limit N] [-o text|json]\n\n"
		 "What `ipamctl collect --task dns` read from AD, as the "
		 "last collect\n"
		 "saw it:\n"
		 "  zones    each zone: forward or reverse, its partition "
		 "(domain, forest,\n"
		 "           legacy), the servers hosting it (the NS records "
		 "at its apex),\n"
		 "           its records, its monitoring status (the zones "
		 "task) and\n"
		 "           when it was collected\n"
		 "  records  the records of zone Z, as dig prints them\n"
		 "  history  the records added, removed and changed between "
		 "collects,\n"
		 "           newest first\n\n"
		 "  --domain D  only the zones of discovery domain D\n"
		 "  --zone Z    the zone (records, history)\n"
		 "  --name N    only the records of N (relative to the zone, "
		 "@ for the\n"
		 "              apex, or absolute)\n"
		 "  --type T    only records of type T (A, AAAA, CNAME, MX, "
		 "NS, PTR, SOA,\n"
		 "              SRV, TXT or TYPEnnn)\n"
		 "  --limit N   at most N changes (default 50, 0: all)",
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = dns_options,
	.subcommands = dns_subcommands,
	.opts_size = sizeof(struct dns_opts),
	.defaults = &dns_defaults,
	.option = dns_option,
	.check = dns_check,
	.run = dns_run,
};

static int dns_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct dns_opts *o = opts;
	char *end;
	long long v;

	switch (id) {
	case 'D':
		o->domain = arg;
		return 0;
	case OPT_ZONE:
		o->zone = arg;
		return 0;
	case OPT_NAME:
		o->name = arg;
		return 0;
	case OPT_TYPE:
		if (ipam_dnsrecord_type_parse(&o->type, arg))
			return cli_usage_error(cli->cmd, "%s",
					       ipam_error_last());
		return 0;
	default:
		errno = 0;
		v = strtoll(arg, &end, 10);
		if (errno || *end || v < 0 || end == arg)
			return cli_usage_error(cli->cmd,
					       "--limit wants a count");
		o->limit = v;
		return 0;
	}
}

static int dns_check(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct dns_opts *o = opts;
	bool zones;

	if (argc != 1 ||
	    (strcmp(argv[0], "zones") && strcmp(argv[0], "records") &&
	     strcmp(argv[0], "history")))
		return cli_usage_error(cli->cmd,
				       "dns wants one of zones, records, "
				       "history");
	zones = !strcmp(argv[0], "zones");
	if (!zones && !o->zone)
		return cli_usage_error(cli->cmd, "dns %s needs --zone",
				       argv[0]);
	if (zones && (o->zone || o->name || o->type))
		return cli_usage_error(cli->cmd, "dns zones takes --domain "
						 "only");
	if (!zones && o->domain)
		return cli_usage_error(cli->cmd, "--domain is for dns zones");
	if (strcmp(argv[0], "records") && (o->name || o->type))
		return cli_usage_error(cli->cmd, "--name and --type are for "
						 "dns records");
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "dns writes text or json");
	return 0;
}

static struct ipam_node *str_or_null(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

/* An NS target as a host name: without the root's dot. */
static void host_of(struct strbuf *out, const char *ns)
{
	size_t n = strlen(ns);

	strbuf_add(out, ns, n > 1 && ns[n - 1] == '.' ? n - 1 : n);
}

static struct ipam_node *zone_node(const struct ipam_db_dns_zone_row *z)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *servers = ipam_node_new(IPAM_NODE_SEQ);
	struct strbuf h = STRBUF_INIT;

	ipam_node_set_str(m, "zone", z->name);
	ipam_node_set_str(m, "domain", z->domain);
	ipam_node_set_str(m, "type", z->reverse ? "reverse" : "forward");
	ipam_node_set_str(m, "partition", z->partition);
	ipam_node_set_str(m, "dn", z->dn);
	for (size_t i = 0; i < z->nr_ns; i++) {
		strbuf_reset(&h);
		host_of(&h, z->ns[i]);
		ipam_node_push(servers, ipam_node_str(h.buf));
	}
	ipam_node_set(m, "servers", servers);
	ipam_node_set(m, "records", ipam_node_int(z->records));
	ipam_node_set_str(m, "status", z->status ? z->status : "Not checked");
	ipam_node_set(m, "reason", str_or_null(z->reason));
	ipam_node_set(m, "checkedAt", str_or_null(z->checked_at));
	ipam_node_set_str(m, "collectedThrough", z->server);
	ipam_node_set_str(m, "collectedAt", z->collected_at);
	strbuf_release(&h);
	return m;
}

static void zones_text(const struct ipam_db_dns_zone_row *v, size_t nr)
{
	struct strbuf servers = STRBUF_INIT;

	cli_printf("%-32s %-8s %-9s %7s  %-12s %-20s %s\n", "ZONE", "TYPE",
		   "PARTITION", "RECORDS", "STATUS", "COLLECTED", "SERVERS");
	for (size_t i = 0; i < nr; i++) {
		const struct ipam_db_dns_zone_row *z = &v[i];

		strbuf_reset(&servers);
		for (size_t k = 0; k < z->nr_ns; k++) {
			if (k)
				strbuf_addch(&servers, ',');
			host_of(&servers, z->ns[k]);
		}
		cli_printf("%-32s %-8s %-9s %7lld  %-12s %-20s %s\n", z->name,
			   z->reverse ? "reverse" : "forward", z->partition,
			   z->records, z->status ? z->status : "Not checked",
			   z->collected_at, servers.len ? servers.buf : "-");
		if (z->reason)
			cli_printf("  %s\n", z->reason);
	}
	strbuf_release(&servers);
}

static int zones(struct cli *cli, const struct dns_opts *o)
{
	struct ipam_db_dns_zone_row *v;
	size_t nr;
	int rc = ipam_db_dns_zones(cli->db, o->domain, &v, &nr);

	if (rc)
		return rc;
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

		for (size_t i = 0; i < nr; i++)
			ipam_node_push(seq, zone_node(&v[i]));
		ipam_node_set(m, "zones", seq);
		cli_print_json(m);
		ipam_node_free(m);
	} else {
		zones_text(v, nr);
	}
	ipam_db_dns_zones_free(v, nr);
	return rc;
}

struct listing {
	struct cli *cli;
	struct ipam_node *seq; /* JSON; NULL: text */
	struct strbuf type;
	bool history, said; /* text: the header is out */
};

/* The text header, once, when the zone turned out to be there. */
static void header(struct listing *l)
{
	if (l->said || l->seq)
		return;
	l->said = true;
	if (l->history)
		cli_printf("%-20s %-8s %-24s %-6s %s\n", "AT", "CHANGE", "NAME",
			   "TYPE", "DATA");
	else
		cli_printf("%-32s %-6s %7s  %s\n", "NAME", "TYPE", "TTL",
			   "DATA");
}

static void type_text(struct listing *l, unsigned type)
{
	strbuf_reset(&l->type);
	ipam_dnsrecord_type_text(&l->type, type);
}

static int on_record(void *ctx, const struct ipam_db_dns_record_row *r)
{
	struct listing *l = ctx;

	header(l);
	type_text(l, r->type);
	if (l->seq) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "name", r->name);
		ipam_node_set_str(m, "type", l->type.buf);
		ipam_node_set(m, "ttl", ipam_node_int(r->ttl));
		ipam_node_set_str(m, "data", r->data);
		ipam_node_set(m, "aging", ipam_node_int(r->aging));
		ipam_node_set_str(m, "partition", r->partition);
		ipam_node_push(l->seq, m);
	} else {
		cli_printf("%-32s %-6s %7lld  %s\n", r->name, l->type.buf,
			   r->ttl, r->data);
	}
	return 0;
}

static struct ipam_node *ttl_or_null(long long ttl)
{
	return ttl < 0 ? ipam_node_new(IPAM_NODE_NULL) : ipam_node_int(ttl);
}

static int on_change(void *ctx, const struct ipam_db_dns_history_row *h)
{
	struct listing *l = ctx;

	header(l);
	type_text(l, h->type);
	if (l->seq) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "at", h->at);
		ipam_node_set_str(m, "change", h->change);
		ipam_node_set_str(m, "name", h->name);
		ipam_node_set_str(m, "type", l->type.buf);
		ipam_node_set(m, "oldData", str_or_null(h->old_data));
		ipam_node_set(m, "newData", str_or_null(h->new_data));
		ipam_node_set(m, "oldTtl", ttl_or_null(h->old_ttl));
		ipam_node_set(m, "newTtl", ttl_or_null(h->new_ttl));
		ipam_node_set(m, "run",
			      h->run_id ? ipam_node_int(h->run_id)
					: ipam_node_new(IPAM_NODE_NULL));
		ipam_node_push(l->seq, m);
	} else if (!strcmp(h->change, "changed")) {
		cli_printf("%-20s %-8s %-24s %-6s %s (ttl %lld) -> %s "
			   "(ttl %lld)\n",
			   h->at, h->change, h->name, l->type.buf,
			   h->old_data ? h->old_data : "-", h->old_ttl,
			   h->new_data ? h->new_data : "-", h->new_ttl);
	} else {
		bool added = !strcmp(h->change, "added");
		const char *data = added ? h->new_data : h->old_data;

		cli_printf("%-20s %-8s %-24s %-6s %s\n", h->at, h->change,
			   h->name, l->type.buf, data ? data : "-");
	}
	return 0;
}

static int listing(struct cli *cli, const struct dns_opts *o, bool history)
{
	struct listing l = {
		.cli = cli, .type = STRBUF_INIT, .history = history};
	struct ipam_node *m = NULL;
	int rc;

	if (cli->output == IPAM_OUT_JSON) {
		m = ipam_node_new(IPAM_NODE_MAP);
		l.seq = ipam_node_new(IPAM_NODE_SEQ);
		ipam_node_set_str(m, "zone", o->zone);
		ipam_node_set(m, history ? "history" : "records", l.seq);
	}
	rc = history ? ipam_db_dns_history(cli->db, o->zone, o->limit,
					   on_change, &l)
		     : ipam_db_dns_records(cli->db, o->zone, o->name, o->type,
					   on_record, &l);
	if (!rc && m)
		cli_print_json(m);
	ipam_node_free(m);
	if (!rc)
		header(&l);
	strbuf_release(&l.type);
	return rc;
}

static int dns_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct dns_opts *o = opts;
	int rc;

	(void)argc;
	if (!strcmp(argv[0], "zones"))
		rc = zones(cli, o);
	else
		rc = listing(cli, o, !strcmp(argv[0], "history"));
	if (rc) {
		log_error("%s", ipam_error_last());
		return IPAM_EXIT_ERROR;
	}
	return IPAM_EXIT_OK;
}
