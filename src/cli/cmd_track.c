/* ipamctl track: IP address tracking, the audit events collected from the
 * managed DHCP servers, by IP address, client id (MAC or DUID) or host
 * name, newest first. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "db.h"
#include "db_events.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "text.h"
#include "tzif.h"
#include "utf8.h"
#include "banned.h"

enum {
	OPT_IP = CLI_OPT_OWN,
	OPT_MAC,
	OPT_HOST,
	OPT_FROM,
	OPT_TO,
	OPT_LIMIT,
};

#define TRACK_DEFAULT_LIMIT 1000

struct track_opts {
	enum ipam_db_track_by by;
	const char *value;
	const char *by_name; /* "ip", "mac", "host"; NULL: none given */
	const char *from_arg, *to_arg;
	long long from, to;
	size_t limit;
	struct strbuf key; /* the value as searched */
};

static const struct track_opts track_defaults = {
	.limit = TRACK_DEFAULT_LIMIT,
};
static int track_option(struct cli *cli, void *opts, int id, const char *arg);
static int track_check(struct cli *cli, void *opts, int argc, char **argv);
static int track_run(struct cli *cli, void *opts, int argc, char **argv);

static const struct cli_option track_options[] = {
	{"ip", CLI_ARG, OPT_IP, "the events of an IPv4 or IPv6 address"},
	{"mac", CLI_ARG, OPT_MAC,
	 "the events of a client id: a MAC address or a DUID"},
	{"host", CLI_ARG, OPT_HOST, "the events of a host name"},
	{"from", CLI_ARG, OPT_FROM, "events at or after T"},
	{"to", CLI_ARG, OPT_TO, "events at or before T"},
	{"limit", CLI_ARG, OPT_LIMIT, "at most N events (0: all)"},
	{NULL, 0, 0, NULL},
};

const struct command cmd_track_def = {
	.name = "track",
	.summary = "IP address tracking: the DHCP events of an address, "
		   "client or host",
	.usage = "track (--ip ADDRESS | --mac CLIENT-ID | --host NAME)\n"
		 "             [--from T] [--to T] [--limit N] [-o "
		 "text|json]\n\n"
		 "The events the audit task collected from the managed DHCP "
		 "servers' audit\n"
		 "logs, newest first: each with its time in UTC and on the "
		 "server's clock,\n"
		 "the server, the event id and description, the IP address, "
		 "MAC or DUID\n"
		 "and host name.  --mac takes aa:bb:cc:dd:ee:ff, "
		 "aa-bb-cc-dd-ee-ff,\n"
		 "aabb.ccdd.eeff or aabbccddeeff in any case, and DUIDs "
		 "alike; --host any\n"
		 "case, with or without the trailing dot.  T is an ISO 8601 "
		 "date\n"
		 "(2026-11-02; as --to, the end of that day) or date-time "
		 "(2026-11-02T08:00:00Z,\n"
		 "...+01:00; without a zone, UTC).  --limit defaults to "
		 "1000.\n"
		 "Exit status 0 with events and without (\"no events\"), 1 on "
		 "an error.",
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = track_options,
	.opts_size = sizeof(struct track_opts),
	.defaults = &track_defaults,
	.option = track_option,
	.check = track_check,
	.run = track_run,
};

/* Digits: exactly n of them at *p, as a number; -1 otherwise. */
static int take(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/*
 * An ISO 8601 time: YYYY-MM-DD, then optionally T (or a space) and
 * HH:MM[:SS], then Z or +HH:MM / -HH:MM (none: UTC).  A bare date is its
 * first second, or (end) its last.  0 or -1.
 */
static int parse_time(const char *s, int end, long long *out)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0, date_only = 0;

	y = take(&p, 4);
	if (y < 0 || *p++ != '-' || (mo = take(&p, 2)) < 1 || mo > 12 ||
	    *p++ != '-' || (d = take(&p, 2)) < 1 || d > 31)
		return -1;
	if (!*p) {
		date_only = 1;
	} else {
		if ((*p != 'T' && *p != 't' && *p != ' ') || !p++ ||
		    (h = take(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
		    (mi = take(&p, 2)) < 0 || mi > 59)
			return -1;
		if (*p == ':' && (p++, (sec = take(&p, 2)) < 0 || sec > 60))
			return -1;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			oh = take(&p, 2);
			if (*p == ':')
				p++;
			om = take(&p, 2);
			if (oh < 0 || oh > 23 || om < 0 || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		}
		if (*p)
			return -1;
	}
	/* 2026-02-30: past the first of the next month */
	if (ipam_tz_civil(y, mo, d, 0, 0, 0) >=
	    ipam_tz_civil(y + (mo == 12), mo % 12 + 1, 1, 0, 0, 0))
		return -1;
	*out = ipam_tz_civil(y, mo, d, h, mi, sec) - off;
	if (date_only && end)
		*out += 86399;
	return 0;
}

static int track_by(struct cli *cli, struct track_opts *o,
		    enum ipam_db_track_by by, const char *name, const char *arg)
{
	if (o->by_name)
		return cli_usage_error(cli->cmd,
				       "--%s and --%s: search by one of "
				       "--ip, --mac, --host",
				       o->by_name, name);
	o->by = by;
	o->by_name = name;
	o->value = arg;
	return 0;
}

static int track_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct track_opts *o = opts;
	char *end;
	long long v;

	switch (id) {
	case OPT_IP:
		return track_by(cli, o, IPAM_TRACK_IP, "ip", arg);
	case OPT_MAC:
		return track_by(cli, o, IPAM_TRACK_CLIENT, "mac", arg);
	case OPT_HOST:
		return track_by(cli, o, IPAM_TRACK_HOST, "host", arg);
	case OPT_FROM:
	case OPT_TO:
		if (parse_time(arg, id == OPT_TO,
			       id == OPT_TO ? &o->to : &o->from))
			return cli_usage_error(
				cli->cmd,
				"--%s: '%s' is not an ISO 8601 date or "
				"date-time (2026-11-02, 2026-11-02T08:00:00Z)",
				id == OPT_TO ? "to" : "from", arg);
		*(id == OPT_TO ? &o->to_arg : &o->from_arg) = arg;
		return 0;
	case OPT_LIMIT:
		errno = 0;
		v = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || v < 0)
			return cli_usage_error(cli->cmd,
					       "--limit wants a count");
		o->limit = (size_t)v;
		return 0;
	}
	return cli_usage_error(cli->cmd, "unknown option");
}

static int track_check(struct cli *cli, void *opts, int argc, char **argv)
{
	struct track_opts *o = opts;

	(void)argv;
	if (argc)
		return cli_usage_error(cli->cmd, "track takes no arguments");
	if (!o->by_name)
		return cli_usage_error(cli->cmd,
				       "say what to track: --ip, --mac or "
				       "--host");
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "track writes text or json");
	if (o->from_arg && o->to_arg && o->to < o->from)
		return cli_usage_error(cli->cmd, "--to is before --from");
	strbuf_init(&o->key);
	if (ipam_db_track_key(&o->key, o->by, o->value)) {
		int rc = cli_usage_error(cli->cmd, "--%s: %s", o->by_name,
					 ipam_error_last());

		strbuf_release(&o->key);
		return rc;
	}
	return 0;
}

static void iso_utc(char *buf, size_t size, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", t);
}

/* A string for JSON: text that is not UTF-8 made so (U+FFFD). */
static struct ipam_node *json_text(const char *s)
{
	size_t n, len;
	char *clean;
	struct ipam_node *node;

	if (!s)
		return ipam_node_new(IPAM_NODE_NULL);
	len = strlen(s);
	for (n = 0; n < len;) {
		size_t k = ipam_utf8_decode((const unsigned char *)s + n,
					    len - n, NULL);

		if (!k)
			break;
		n += k;
	}
	if (n == len)
		return ipam_node_str(s);
	clean = ipam_text_clean(s, 0);
	node = ipam_node_str(clean);
	free(clean);
	return node;
}

static struct ipam_node *time_node(const char *arg, long long t)
{
	char buf[32];

	if (!arg)
		return ipam_node_new(IPAM_NODE_NULL);
	iso_utc(buf, sizeof(buf), t);
	return ipam_node_str(buf);
}

static void print_json(const struct track_opts *o,
		       const struct ipam_db_track_row *v, size_t nr)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *q = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

	ipam_node_set_str(q, "by", o->by_name);
	ipam_node_set(q, "value", json_text(o->value));
	ipam_node_set_str(q, "key", o->key.buf);
	ipam_node_set(q, "from", time_node(o->from_arg, o->from));
	ipam_node_set(q, "to", time_node(o->to_arg, o->to));
	ipam_node_set(q, "limit", ipam_node_int((long long)o->limit));
	ipam_node_set(m, "query", q);
	for (size_t i = 0; i < nr; i++) {
		struct ipam_node *e = ipam_node_new(IPAM_NODE_MAP);
		char at[32];

		iso_utc(at, sizeof(at), v[i].at);
		ipam_node_set_str(e, "at", at);
		ipam_node_set(e, "localTime", json_text(v[i].local_time));
		ipam_node_set(e, "server", json_text(v[i].server));
		ipam_node_set(e, "family", ipam_node_int(v[i].family));
		ipam_node_set(e, "eventId", ipam_node_int(v[i].event_id));
		ipam_node_set(e, "description", json_text(v[i].description));
		ipam_node_set(e, "ip", json_text(v[i].ip));
		ipam_node_set(e, "clientId", json_text(v[i].client_id));
		ipam_node_set(e, "host", json_text(v[i].host));
		for (size_t x = 0; x < IPAM_DB_TRACK_EXTRAS; x++)
			ipam_node_set(e, ipam_db_track_extra_names[x],
				      json_text(v[i].extra[x]));
		ipam_node_set(e, "file", json_text(v[i].file));
		ipam_node_set(e, "line", ipam_node_int(v[i].line));
		ipam_node_push(seq, e);
	}
	ipam_node_set(m, "count", ipam_node_int((long long)nr));
	ipam_node_set(m, "truncated",
		      ipam_node_bool(o->limit && nr == o->limit));
	ipam_node_set(m, "events", seq);
	cli_print_json(m);
	ipam_node_free(m);
}

/* Width of a column: the longest value (at most max), at least the
 * heading's. */
static int width(const struct ipam_db_track_row *v, size_t nr, size_t field,
		 const char *heading, int max)
{
	int w = (int)strlen(heading);

	for (size_t i = 0; i < nr; i++) {
		const char *s = *(char *const *)((const char *)&v[i] + field);
		int n = s ? (int)strlen(s) : 1;

		if (n > w)
			w = n < max ? n : max;
	}
	return w;
}

#define W(f, h, max) width(v, nr, offsetof(struct ipam_db_track_row, f), h, max)
#define S(x)	     ((x) ? (x) : "-")

static void print_text(const struct track_opts *o,
		       const struct ipam_db_track_row *v, size_t nr)
{
	int ws = W(server, "SERVER", 40), wd = W(description, "EVENT", 32);
	int wi = W(ip, "IP ADDRESS", 39), wc = W(client_id, "MAC/DUID", 40);

	if (!nr) {
		cli_printf("no events for --%s %s%s\n", o->by_name, o->value,
			   o->from_arg || o->to_arg ? " in that time range"
						    : "");
		return;
	}
	cli_printf("%-20s  %-19s  %-*s  %-*s  %-*s  %-*s  %s\n", "TIME (UTC)",
		   "SERVER LOCAL TIME", ws, "SERVER", wd + 7, "EVENT", wi,
		   "IP ADDRESS", wc, "MAC/DUID", "HOST");
	for (size_t i = 0; i < nr; i++) {
		char at[32], local[32];

		iso_utc(at, sizeof(at), v[i].at);
		snprintf(local, sizeof(local), "%s", S(v[i].local_time));
		if (local[10] == 'T')
			local[10] = ' ';
		cli_printf("%-20s  %-19s  %-*.*s  %5d  %-*.*s  %-*s  %-*s  "
			   "%s\n",
			   at, local, ws, ws, S(v[i].server), v[i].event_id, wd,
			   wd, S(v[i].description), wi, S(v[i].ip), wc,
			   S(v[i].client_id), S(v[i].host));
	}
	if (o->limit && nr == o->limit)
		cli_printf("(the newest %zu events: --limit N for more, 0 for "
			   "all)\n",
			   nr);
}

static int track_run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct track_opts *o = opts;
	struct ipam_db_track_query q = {
		.by = o->by,
		.value = o->key.buf,
		.from = o->from_arg ? o->from : -(1LL << 62),
		.to = o->to_arg ? o->to : 0,
		.limit = o->limit,
	};
	struct ipam_db_track_row *v = NULL;
	size_t nr = 0;
	int rc;

	int version;

	(void)argc;
	(void)argv;
	rc = ipam_db_check_schema(cli->db, &version, 1);
	if (!rc)
		rc = ipam_db_track(cli->db, &q, &v, &nr);
	if (rc) {
		log_error("%s", ipam_error_last());
		strbuf_release(&o->key);
		return IPAM_EXIT_ERROR;
	}
	if (cli->output == IPAM_OUT_JSON)
		print_json(o, v, nr);
	else
		print_text(o, v, nr);
	ipam_db_track_free(v, nr);
	strbuf_release(&o->key);
	return IPAM_EXIT_OK;
}
