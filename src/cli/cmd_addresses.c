/* ipamctl addresses: the declared blocks and ranges with how full they are
 * and their trend, the unmapped addresses, and the addresses of a block,
 * range or prefix (or one address with its lease history), as the last
 * audit and dns collections left them in the state database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addresses.h"
#include "cli.h"
#include "db_addresses.h"
#include "db_events.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "node.h"
#include "strbuf.h"
#include "banned.h"

/* Samples shown as a trend. */
#define TREND 8

enum { OPT_BLOCK = CLI_OPT_OWN, OPT_RANGE };

static const struct cli_option addresses_options[] = {
	{"block", CLI_ARG, OPT_BLOCK, "only this block and its ranges"},
	{"range", CLI_ARG, OPT_RANGE, "only this range"},
	{NULL, 0, 0, NULL},
};

struct addresses_opts {
	const char *block, *range;
	struct ipam_iprange want; /* --block / --range / show's, parsed */
	bool single;		  /* show names one address */
};

static int addresses_option(struct cli *cli, void *opts, int id,
			    const char *arg);
static int addresses_check(struct cli *cli, void *opts, int argc, char **argv);
static int addresses_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_addresses_def = {
	.name = "addresses",
	.summary = "the address space: utilization per block and range",
	.usage = "addresses [-c PATH] [--block B | --range R] [-o text|json]\n"
		 "       addresses show CIDR_OR_IP [-c PATH] [-o text|json]\n\n"
		 "The blocks and ranges of the desired state's addressSpace "
		 "with their size,\n"
		 "the addresses in use, free, the percent used, the state "
		 "against the range's\n"
		 "thresholds (under, optimal, over) and the trend of the "
		 "last samples, then\n"
		 "the unmapped addresses (seen outside every range).  An "
		 "address is in use\n"
		 "while it holds an unexpired DHCP lease (the last audit "
		 "event decides; a\n"
		 "lease lasts 8 days from its grant or renewal), has a DNS "
		 "A/AAAA record or\n"
		 "belongs to an inventory server; the audit and dns tasks "
		 "recompute them.\n\n"
		 "  --block B  only block B (a CIDR) and its ranges\n"
		 "  --range R  only range R (a CIDR or START-END)\n\n"
		 "show lists the addresses in a prefix or range (IP, state, "
		 "MAC, host,\n"
		 "sources, last seen), or one address in full with its lease "
		 "history.",
	.setup = CLI_CONFIG | CLI_DB_READ,
	.options = addresses_options,
	.max_args = 2,
	.opts_size = sizeof(struct addresses_opts),
	.option = addresses_option,
	.check = addresses_check,
	.run = addresses_run,
};

static int addresses_option(struct cli *cli, void *opts, int id,
			    const char *arg)
{
	struct addresses_opts *o = opts;

	(void)cli;
	if (id == OPT_BLOCK)
		o->block = arg;
	else
		o->range = arg;
	return 0;
}

/* A CIDR, START-END or one address as a range: IPAM_IP_OK or why not. */
static enum ipam_ip_bad parse_span(struct ipam_iprange *r, const char *s,
				   bool *single)
{
	const char *dash = strchr(s, '-');
	struct ipam_ip a, b;
	enum ipam_ip_bad bad;

	*single = false;
	if (strchr(s, '/'))
		return ipam_iprange_parse_cidr(r, s);
	if (dash) {
		char *first = xstrndup(s, (size_t)(dash - s));

		bad = ipam_ip_parse(&a, first);
		if (!bad)
			bad = ipam_ip_parse(&b, dash + 1);
		if (!bad)
			bad = ipam_iprange_from_bounds(r, &a, &b);
		free(first);
		return bad;
	}
	bad = ipam_ip_parse(&a, s);
	if (!bad) {
		*single = true;
		bad = ipam_iprange_from_bounds(r, &a, &a);
	}
	return bad;
}

static int addresses_check(struct cli *cli, void *opts, int argc, char **argv)
{
	struct addresses_opts *o = opts;
	const char *span = o->block ? o->block : o->range;
	bool single = false;
	enum ipam_ip_bad bad;

	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "addresses writes text or json");
	if (o->block && o->range)
		return cli_usage_error(cli->cmd, "--block and --range "
						 "exclude each other");
	if (argc) {
		if (strcmp(argv[0], "show") || argc != 2)
			return cli_usage_error(cli->cmd,
					       "expected 'show CIDR_OR_IP'");
		if (span)
			return cli_usage_error(cli->cmd,
					       "show takes no --block or "
					       "--range");
		span = argv[1];
	}
	bad = span ? parse_span(&o->want, span, &single) : IPAM_IP_OK;
	if (bad)
		return cli_usage_error(cli->cmd,
				       "'%s' is not an address, a CIDR prefix "
				       "or START-END: %s",
				       span, ipam_ip_bad_text(bad));
	o->single = argc && single;
	return 0;
}

static void iso_utc(char *buf, size_t size, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "-");
}

static struct ipam_node *time_node(long long t)
{
	char buf[32];

	if (t <= 0)
		return ipam_node_new(IPAM_NODE_NULL);
	iso_utc(buf, sizeof(buf), t);
	return ipam_node_str(buf);
}

static const char *range_name(const struct ipam_addr_view *v, long r)
{
	for (size_t i = 0; r >= 0 && i < v->nr_usage; i++)
		if (!v->usage[i].block && v->usage[i].index == (size_t)r)
			return v->usage[i].name;
	return NULL;
}

static struct ipam_node *address_node(const struct ipam_addr_view *v, size_t i)
{
	const struct ipam_db_address *a = &v->addrs[i];
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *src = ipam_node_new(IPAM_NODE_SEQ);
	static const unsigned bits[] = {IPAM_ADDR_SRC_DHCP, IPAM_ADDR_SRC_DNS,
					IPAM_ADDR_SRC_INVENTORY};

	ipam_node_set_str(m, "ip", a->address);
	ipam_node_set(m, "family", ipam_node_int(a->family));
	ipam_node_set_str(m, "state", a->in_use ? "in_use" : "inactive");
	ipam_node_set(m, "mac", ipam_node_str_or_null(a->mac));
	ipam_node_set(m, "host", ipam_node_str_or_null(a->host));
	for (size_t k = 0; k < sizeof(bits) / sizeof(*bits); k++) {
		struct strbuf s = STRBUF_INIT;

		if (!(a->sources & bits[k]))
			continue;
		ipam_db_addr_sources_format(&s, bits[k]);
		ipam_node_push(src, ipam_node_str(s.buf));
		strbuf_release(&s);
	}
	ipam_node_set(m, "sources", src);
	ipam_node_set(m, "range",
		      ipam_node_str_or_null(range_name(v, v->range_of[i])));
	ipam_node_set(m, "leaseExpires", time_node(a->lease_expires));
	ipam_node_set(m, "dhcpServer", ipam_node_str_or_null(a->dhcp_server));
	ipam_node_set(m, "firstSeen", time_node(a->first_seen));
	ipam_node_set(m, "lastSeen", time_node(a->last_seen));
	return m;
}

static void print_address_line(const struct ipam_addr_view *v, size_t i)
{
	const struct ipam_db_address *a = &v->addrs[i];
	struct strbuf s = STRBUF_INIT;
	char seen[32];

	ipam_db_addr_sources_format(&s, a->sources);
	iso_utc(seen, sizeof(seen), a->last_seen);
	cli_printf("%-39s  %-8s  %-20s  %-32s  %-19s  %s\n", a->address,
		   a->in_use ? "in use" : "inactive", a->mac ? a->mac : "-",
		   a->host ? a->host : "-", s.buf, seen);
	strbuf_release(&s);
}

static void print_address_head(void)
{
	cli_printf("%-39s  %-8s  %-20s  %-32s  %-19s  %s\n", "ip", "state",
		   "mac", "host", "sources", "last seen");
}

/* Is usage u shown with --block / --range? */
static bool wanted(const struct addresses_opts *o, const struct ipam_desired *d,
		   const struct ipam_addr_usage *u)
{
	const struct ipam_address_space *as = &d->address_space;
	const struct ipam_iprange *r = u->block ? &as->blocks[u->index].net
						: &as->ranges[u->index].net;

	bool same = !ipam_iprange_compare(r, &o->want) &&
		    !ipam_ip_compare(&r->last, &o->want.last);

	if (o->range)
		return !u->block && same;
	if (o->block)
		return u->block ? same : ipam_iprange_contains(&o->want, r);
	return true;
}

static int trend_of(struct cli *cli, const struct ipam_addr_usage *u,
		    struct ipam_db_util_sample **s, size_t *nr)
{
	return ipam_db_util_samples(cli->db, u->block ? "block" : "range",
				    u->name, TREND, s, nr);
}

static struct ipam_node *usage_node(const struct ipam_addr_usage *u,
				    const struct ipam_db_util_sample *s,
				    size_t nr)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *t = ipam_node_new(IPAM_NODE_SEQ);
	char pct[32];

	snprintf(pct, sizeof(pct), "%.1f", u->util.percent);
	ipam_node_set_str(m, "kind", u->block ? "block" : "range");
	ipam_node_set_str(m, "name", u->name);
	if (!u->block)
		ipam_node_set(m, "block", ipam_node_str_or_null(u->block_name));
	ipam_node_set_str(m, "size", u->size);
	ipam_node_set(m, "used", ipam_node_int((long long)u->util.used));
	ipam_node_set_str(m, "free", u->free);
	ipam_node_set_str(m, "percent", pct);
	ipam_node_set_str(m, "state", ipam_util_state_name(u->util.state));
	ipam_node_set(m, "underUtilized", ipam_node_int(u->under));
	ipam_node_set(m, "overUtilized", ipam_node_int(u->over));
	for (size_t i = 0; i < nr; i++) {
		struct ipam_node *p = ipam_node_new(IPAM_NODE_MAP);

		snprintf(pct, sizeof(pct), "%.1f", s[i].percent);
		ipam_node_set_str(p, "at", s[i].at);
		ipam_node_set(p, "used", ipam_node_int(s[i].used));
		ipam_node_set_str(p, "percent", pct);
		ipam_node_set_str(p, "state", s[i].state);
		ipam_node_push(t, p);
	}
	ipam_node_set(m, "trend", t);
	return m;
}

static void print_usage_line(const struct ipam_addr_usage *u,
			     const struct ipam_db_util_sample *s, size_t nr)
{
	struct strbuf t = STRBUF_INIT;
	char pct[32];

	for (size_t i = 0; i < nr; i++)
		strbuf_addf(&t, "%s%lld", i ? " " : "", s[i].used);
	snprintf(pct, sizeof(pct), "%.1f%%", u->util.percent);
	cli_printf("%-5s  %-33s  %10s  %8llu  %10s  %7s  %-7s  %s\n",
		   u->block ? "block" : "range", u->name, u->size,
		   (unsigned long long)u->util.used, u->free, pct,
		   ipam_util_state_name(u->util.state), t.len ? t.buf : "-");
	strbuf_release(&t);
}

static int list_usage(struct cli *cli, const struct addresses_opts *o,
		      const struct ipam_addr_view *v)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *un = ipam_node_new(IPAM_NODE_SEQ);
	bool json = cli->output == IPAM_OUT_JSON;
	int rc = 0;

	if (!json)
		cli_printf("%-5s  %-33s  %10s  %8s  %10s  %7s  %-7s  %s\n",
			   "kind", "name", "size", "used", "free", "percent",
			   "state", "trend (used)");
	for (size_t i = 0; !rc && i < v->nr_usage; i++) {
		struct ipam_db_util_sample *s = NULL;
		size_t nr = 0;

		if (!wanted(o, cli->d, &v->usage[i]))
			continue;
		rc = trend_of(cli, &v->usage[i], &s, &nr);
		if (rc)
			break;
		if (json)
			ipam_node_push(seq, usage_node(&v->usage[i], s, nr));
		else
			print_usage_line(&v->usage[i], s, nr);
		ipam_db_util_samples_free(s, nr);
	}
	if (!rc && !o->block && !o->range) {
		if (!json && v->nr_unmapped) {
			cli_printf("\nunmapped (outside every range): %zu\n",
				   v->nr_unmapped);
			print_address_head();
		}
		for (size_t i = 0; i < v->nr; i++) {
			if (v->range_of[i] >= 0)
				continue;
			if (json)
				ipam_node_push(un, address_node(v, i));
			else
				print_address_line(v, i);
		}
	}
	ipam_node_set(root, "ranges", seq);
	ipam_node_set(root, "unmapped", un);
	if (!rc && json)
		cli_print_json(root);
	ipam_node_free(root);
	return rc;
}

static struct ipam_node *history_node(const struct ipam_db_track_row *r)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set(m, "at", time_node(r->at));
	ipam_node_set_str(m, "server", r->server);
	ipam_node_set(m, "eventId", ipam_node_int(r->event_id));
	ipam_node_set(m, "description", ipam_node_str_or_null(r->description));
	ipam_node_set(m, "mac", ipam_node_str_or_null(r->client_id));
	ipam_node_set(m, "host", ipam_node_str_or_null(r->host));
	return m;
}

static int show_one(struct cli *cli, const struct ipam_addr_view *v, size_t i,
		    const char *ip)
{
	struct ipam_db_track_query q = {.by = IPAM_TRACK_IP, .value = ip};
	struct ipam_db_track_row *h = NULL;
	struct ipam_node *m, *seq;
	size_t nr = 0;
	char t[32];

	if (ipam_db_track(cli->db, &q, &h, &nr))
		return -1;
	m = i < v->nr ? address_node(v, i) : ipam_node_new(IPAM_NODE_MAP);
	if (i >= v->nr) {
		ipam_node_set_str(m, "ip", ip);
		ipam_node_set_str(m, "state", "unknown");
	}
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t k = 0; k < nr; k++)
		ipam_node_push(seq, history_node(&h[k]));
	ipam_node_set(m, "leaseHistory", seq);
	if (cli->output == IPAM_OUT_JSON) {
		cli_print_json(m);
	} else {
		if (i < v->nr) {
			print_address_head();
			print_address_line(v, i);
			iso_utc(t, sizeof(t), v->addrs[i].lease_expires);
			cli_printf("range: %s  lease ends: %s  DHCP server: "
				   "%s  first seen: ",
				   range_name(v, v->range_of[i])
					   ? range_name(v, v->range_of[i])
					   : "unmapped",
				   t,
				   v->addrs[i].dhcp_server
					   ? v->addrs[i].dhcp_server
					   : "-");
			iso_utc(t, sizeof(t), v->addrs[i].first_seen);
			cli_printf("%s\n", t);
		} else {
			cli_printf("%s: not seen in the collected data\n", ip);
		}
		cli_printf("\nlease history (newest first): %zu events\n", nr);
		for (size_t k = 0; k < nr; k++) {
			iso_utc(t, sizeof(t), h[k].at);
			cli_printf("%-20s  %-5d  %-24s  %-20s  %-32s  %s\n", t,
				   h[k].event_id,
				   h[k].description ? h[k].description : "",
				   h[k].client_id ? h[k].client_id : "-",
				   h[k].host ? h[k].host : "-", h[k].server);
		}
	}
	ipam_node_free(m);
	ipam_db_track_free(h, nr);
	return 0;
}

static int show(struct cli *cli, const struct addresses_opts *o,
		const struct ipam_addr_view *v)
{
	struct ipam_node *seq;
	size_t i, n = 0;

	if (o->single) {
		struct strbuf ip = STRBUF_INIT;
		int rc;

		ipam_ip_format(&ip, &o->want.first);
		for (i = 0; i < v->nr; i++)
			if (!ipam_ip_compare(&v->ips[i], &o->want.first))
				break;
		rc = show_one(cli, v, i, ip.buf);
		strbuf_release(&ip);
		return rc;
	}
	seq = ipam_node_new(IPAM_NODE_SEQ);
	if (cli->output != IPAM_OUT_JSON)
		print_address_head();
	for (i = 0; i < v->nr; i++) {
		if (!ipam_iprange_contains_ip(&o->want, &v->ips[i]))
			continue;
		n++;
		if (cli->output == IPAM_OUT_JSON)
			ipam_node_push(seq, address_node(v, i));
		else
			print_address_line(v, i);
	}
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set(m, "addresses", seq);
		cli_print_json(m);
		ipam_node_free(m);
	} else {
		ipam_node_free(seq);
		cli_printf("%zu addresses\n", n);
	}
	return 0;
}

static int addresses_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct addresses_opts *o = opts;
	struct ipam_addr_view v;
	int rc;

	(void)argv;
	if (ipam_addr_view_load(&v, cli->d, cli->db)) {
		log_error("%s", ipam_error_last());
		return IPAM_EXIT_ERROR;
	}
	rc = argc ? show(cli, o, &v) : list_usage(cli, o, &v);
	ipam_addr_view_release(&v);
	if (rc) {
		log_error("%s", ipam_error_last());
		return IPAM_EXIT_ERROR;
	}
	return IPAM_EXIT_OK;
}
