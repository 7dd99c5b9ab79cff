/* ipamctl discover: run discovery and update the inventory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "discover.h"
#include "error.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"
#include "banned.h"

static int discover_option(struct cli *cli, void *opts, int id,
			   const char *arg);
static int discover_check(struct cli *cli, void *opts, int argc, char **argv);
static int discover_run(struct cli *cli, void *opts, int argc, char **argv);

enum { OPT_PARALLEL = CLI_OPT_OWN };

struct opts {
	const char *domain; /* --domain */
	int parallel;	    /* 0: IPAM_RUN_PARALLEL */
};

static const struct cli_option discover_options[] = {
	{"domain", CLI_ARG, 'D', "only discovery domain D"},
	{"parallel", CLI_ARG, OPT_PARALLEL, "N domains at once (4)"},
	{NULL, 0, 0, NULL},
};

const struct command cmd_discover_def = {
	.name = "discover",
	.summary = "discover DCs, DNS and DHCP servers; update the inventory",
	.usage =
		"discover [-c PATH] [--domain D] [--parallel N] [-o "
		"text|json]\n\n"
		"Discovers the servers of every discovery domain (or of D): "
		"domain\n"
		"controllers over LDAP, DNS servers from the NS records of the "
		"zone, DHCP\n"
		"servers authorized in AD that answer a DHCPINFORM (UDP port "
		"68: "
		"run as\n"
		"root), and the servers the desired state declares.  Updates "
		"the "
		"inventory\n"
		"of the state database and prints a summary per domain.  A "
		"domain "
		"whose\n"
		"discovery is incomplete changes nothing in the inventory.  "
		"Exit "
		"status 1\n"
		"when a domain is incomplete or a declared server fails its "
		"checks (a\n"
		"listed server that was not discovered is reported, not an "
		"error).\n"
		"Domains are discovered N at once (default 4); the summary "
		"keeps the\n"
		"desired state's order.",
	.setup = CLI_CONFIG | CLI_DB | CLI_LAB,
	.options = discover_options,
	.opts_size = sizeof(struct opts),
	.option = discover_option,
	.check = discover_check,
	.run = discover_run,
};

static const unsigned all_roles[] = {IPAM_ROLE_DC, IPAM_ROLE_DNS,
				     IPAM_ROLE_DHCP, IPAM_ROLE_NPS};

static const char *verdict_name(enum ipam_verdict v)
{
	switch (v) {
	case IPAM_VERDICT_OFF:
		return "off";
	case IPAM_VERDICT_COMPLETE:
		return "complete";
	default:
		return "incomplete";
	}
}

static size_t count_role(const struct ipam_obs_domain *od, unsigned role)
{
	size_t i, n = 0;

	for (i = 0; i < od->nr_servers; i++)
		if (od->servers[i].roles & role)
			n++;
	return n;
}

/*
 * What the inventory update did, kept as it is written part by part (the
 * plan of 100,000 servers is never held whole): per discovered domain the
 * rows per status and each server's status, and the declared servers not
 * found.
 */
struct outcome {
	size_t (*counts)[IPAM_INV_NR_STATUS]; /* per obs domain */
	unsigned char **status; /* per obs domain and server: status + 1 */
	char **not_found;
	size_t nr_not_found, alloc_not_found;
};

/* Parts of this many rows (a part is about 170 bytes a row). */
#define PART_ROWS 2048

static void outcome_init(struct outcome *oc, const struct ipam_observed *obs)
{
	size_t n = obs->nr_domains ? obs->nr_domains : 1;

	memset(oc, 0, sizeof(*oc));
	oc->counts = xcalloc(n, sizeof(*oc->counts));
	oc->status = xcalloc(n, sizeof(*oc->status));
	for (size_t i = 0; i < obs->nr_domains; i++)
		oc->status[i] = xcalloc(obs->domains[i].nr_servers + 1, 1);
}

static void outcome_release(struct outcome *oc, size_t nr_domains)
{
	for (size_t i = 0; oc->status && i < nr_domains; i++)
		free(oc->status[i]);
	free(oc->status);
	free(oc->counts);
	for (size_t i = 0; i < oc->nr_not_found; i++)
		free(oc->not_found[i]);
	free(oc->not_found);
	memset(oc, 0, sizeof(*oc));
}

/* Note a part's rows: a row counts in the domain it names (as stored),
 * its status goes to the server of that name first found there. */
static void outcome_add(struct outcome *oc, const struct ipam_observed *obs,
			struct ipam_inv_plan *part)
{
	for (size_t i = 0; i < part->nr; i++) {
		const struct ipam_inv_server *row = &part->updates[i].row;

		for (size_t k = 0; k < obs->nr_domains; k++) {
			const struct ipam_obs_domain *od = &obs->domains[k];
			const struct ipam_obs_server *s;
			unsigned char *st;

			if (!row->domain || strcasecmp(row->domain, od->name))
				continue;
			oc->counts[k][row->status]++;
			s = ipam_obs_find(od, row->name);
			st = s ? &oc->status[k][s - od->servers] : NULL;
			if (st && !*st)
				*st = (unsigned char)(row->status + 1);
		}
	}
	for (size_t i = 0; i < part->nr_not_found; i++) {
		ALLOC_GROW(oc->not_found, oc->nr_not_found + 1,
			   oc->alloc_not_found);
		oc->not_found[oc->nr_not_found++] = part->not_found[i];
	}
	part->nr_not_found = 0;
}

/* Inventory outcome per status for obs domain k. */
static void domain_counts(const struct outcome *oc, size_t k,
			  size_t counts[IPAM_INV_NR_STATUS])
{
	memcpy(counts, oc->counts[k], sizeof(size_t) * IPAM_INV_NR_STATUS);
}

/* The inventory status of server j of obs domain k, or NULL. */
static const char *server_status(const struct outcome *oc, size_t k, size_t j)
{
	unsigned char st = oc->status[k][j];

	return st ? ipam_inv_status_name((enum ipam_inv_status)(st - 1)) : NULL;
}

static void print_text(const struct ipam_observed *obs,
		       const struct outcome *plan)
{
	size_t i, j, k;

	for (i = 0; i < obs->nr_domains; i++) {
		const struct ipam_obs_domain *od = &obs->domains[i];
		const char *reason = ipam_obs_domain_reason(od);
		size_t c[IPAM_INV_NR_STATUS];
		struct strbuf sb = STRBUF_INIT;

		cli_printf("%s: %s", od->name,
			   reason ? "INCOMPLETE" : "complete");
		if (od->server_uri)
			cli_printf(" (%s)", od->server_uri);
		cli_printf("\n");
		for (k = 0; k < 4; k++) {
			const struct ipam_role_status *s =
				ipam_obs_role_status(od, all_roles[k]);

			/* "off" without a reason: nothing was declared. */
			if (s->verdict == IPAM_VERDICT_COMPLETE ||
			    (s->verdict == IPAM_VERDICT_OFF && !s->reason))
				continue;
			cli_printf(
				"  %-8s %s%s%s\n",
				all_roles[k] == IPAM_ROLE_NPS
					? "declared"
					: ipam_role_name(
						  (enum ipam_role)all_roles[k]),
				verdict_name(s->verdict), s->reason ? ": " : "",
				s->reason ? s->reason : "");
		}
		cli_printf("  found: %zu DC, %zu DNS, %zu DHCP, %zu NPS (%zu "
			   "server%s)\n",
			   count_role(od, IPAM_ROLE_DC),
			   count_role(od, IPAM_ROLE_DNS),
			   count_role(od, IPAM_ROLE_DHCP),
			   count_role(od, IPAM_ROLE_NPS), od->nr_servers,
			   od->nr_servers == 1 ? "" : "s");
		for (j = 0; j < od->nr_servers; j++) {
			const struct ipam_obs_server *s = &od->servers[j];

			strbuf_reset(&sb);
			ipam_roles_format(&sb, s->roles, ",");
			strbuf_addstr(&sb, "  ");
			ipam_addrs_format(&sb, s->addrs, s->nr_addrs);
			cli_printf("    %-34s %s\n", s->name, sb.buf);
		}
		if (reason) {
			cli_printf("  inventory: not changed (the domain is "
				   "incomplete)\n");
		} else {
			domain_counts(plan, i, c);
			cli_printf(
				"  inventory: %zu new, %zu changed, %zu "
				"unchanged, %zu gone, %zu declared not found\n",
				c[IPAM_INV_NEW], c[IPAM_INV_CHANGED],
				c[IPAM_INV_UNCHANGED], c[IPAM_INV_GONE],
				c[IPAM_INV_NOT_FOUND]);
		}
		for (j = 0; j < od->nr_excluded; j++) {
			strbuf_reset(&sb);
			ipam_roles_format(&sb, od->excluded[j].role, ",");
			cli_printf("  excluded %s (%s): %s\n",
				   od->excluded[j].name, sb.buf,
				   od->excluded[j].reason);
		}
		for (j = 0; j < od->nr_warnings; j++)
			cli_printf("  warning: %s\n", od->warnings[j]);
		for (j = 0; j < od->nr_errors; j++)
			cli_printf("  error: %s\n", od->errors[j]);
		strbuf_release(&sb);
	}
	for (i = 0; i < plan->nr_not_found; i++)
		cli_printf("declared, not found: %s\n", plan->not_found[i]);
}

static struct ipam_node *roles_node(unsigned roles)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	size_t k;

	for (k = 0; k < 4; k++)
		if (roles & all_roles[k])
			ipam_node_push(seq,
				       ipam_node_str(ipam_role_name(
					       (enum ipam_role)all_roles[k])));
	return seq;
}

static struct ipam_node *strv_node(char *const *v, size_t n)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	size_t i;

	for (i = 0; i < n; i++)
		ipam_node_push(seq, ipam_node_str(v[i]));
	return seq;
}

static void set_opt(struct ipam_node *m, const char *k, const char *v)
{
	ipam_node_set(m, k,
		      v ? ipam_node_str(v) : ipam_node_new(IPAM_NODE_NULL));
}

/*
 * A domain's outcome.  full adds every server, excluded server, error and
 * warning (for -o json); without it, verdicts and counts only: what the
 * run record keeps, small at any directory size.
 */
static struct ipam_node *domain_node(const struct ipam_observed *obs, size_t i,
				     const struct outcome *plan, bool full)
{
	static const char *const role_keys[] = {"dc", "dns", "dhcp",
						"declared"};
	const struct ipam_obs_domain *od = &obs->domains[i];
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *roles = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *servers = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *excluded = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *inv = ipam_node_new(IPAM_NODE_MAP);
	size_t c[IPAM_INV_NR_STATUS], j, k;

	ipam_node_set_str(m, "domain", od->name);
	ipam_node_set(m, "complete",
		      ipam_node_bool(ipam_obs_domain_complete(od)));
	set_opt(m, "server", od->server_uri);
	for (k = 0; k < 4; k++) {
		const struct ipam_role_status *s =
			ipam_obs_role_status(od, all_roles[k]);
		struct ipam_node *r = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(r, "status", verdict_name(s->verdict));
		set_opt(r, "reason", s->reason);
		ipam_node_set(roles, role_keys[k], r);
	}
	ipam_node_set(m, "roles", roles);
	domain_counts(plan, i, c);
	for (k = 0; k < IPAM_INV_NR_STATUS; k++)
		ipam_node_set(inv,
			      ipam_inv_status_name((enum ipam_inv_status)k),
			      ipam_node_int((long long)c[k]));
	ipam_node_set(m, "inventory", inv);
	if (!full) {
		struct ipam_node *found = ipam_node_new(IPAM_NODE_MAP);

		for (k = 0; k < 4; k++)
			ipam_node_set(found, k < 3 ? role_keys[k] : "nps",
				      ipam_node_int((long long)count_role(
					      od, all_roles[k])));
		ipam_node_set(m, "found", found);
		ipam_node_set(m, "excluded",
			      ipam_node_int((long long)od->nr_excluded));
		ipam_node_set(m, "errors",
			      strv_node(od->errors, od->nr_errors));
		ipam_node_free(servers);
		ipam_node_free(excluded);
		return m;
	}
	for (j = 0; j < od->nr_servers; j++) {
		const struct ipam_obs_server *s = &od->servers[j];
		struct ipam_node *n = ipam_node_new(IPAM_NODE_MAP);
		struct ipam_node *addrs = ipam_node_new(IPAM_NODE_SEQ);

		ipam_node_set_str(n, "name", s->name);
		ipam_node_set(n, "roles", roles_node(s->roles));
		ipam_node_set(n, "declared", ipam_node_bool(s->declared));
		for (k = 0; k < s->nr_addrs; k++)
			ipam_node_push(addrs, ipam_node_str(s->addrs[k].text));
		ipam_node_set(n, "addresses", addrs);
		set_opt(n, "operatingSystem", s->os_name);
		set_opt(n, "operatingSystemVersion", s->os_version);
		set_opt(n, "objectGUID", s->guid);
		set_opt(n, "objectSid", s->sid);
		set_opt(n, "dn", s->dn);
		set_opt(n, "note", s->note);
		set_opt(n, "inventory", server_status(plan, i, j));
		ipam_node_push(servers, n);
	}
	ipam_node_set(m, "servers", servers);
	for (j = 0; j < od->nr_excluded; j++) {
		struct ipam_node *n = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(n, "name", od->excluded[j].name);
		ipam_node_set(n, "roles", roles_node(od->excluded[j].role));
		ipam_node_set_str(n, "reason", od->excluded[j].reason);
		ipam_node_push(excluded, n);
	}
	ipam_node_set(m, "excluded", excluded);
	ipam_node_set(m, "errors", strv_node(od->errors, od->nr_errors));
	ipam_node_set(m, "warnings", strv_node(od->warnings, od->nr_warnings));
	return m;
}

static struct ipam_node *summary_node(long long run_id,
				      const struct ipam_observed *obs,
				      const struct outcome *plan, bool ok,
				      bool full)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *domains = ipam_node_new(IPAM_NODE_SEQ);
	size_t i;

	ipam_node_set(root, "run", ipam_node_int(run_id));
	ipam_node_set(root, "ok", ipam_node_bool(ok));
	for (i = 0; i < obs->nr_domains; i++)
		ipam_node_push(domains, domain_node(obs, i, plan, full));
	ipam_node_set(root, "domains", domains);
	ipam_node_set(root, "declaredNotFound",
		      strv_node(plan->not_found, plan->nr_not_found));
	return root;
}

static int discover_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct opts *o = opts;

	if (id == OPT_PARALLEL)
		return cli_parallel_arg(cli->cmd, arg, &o->parallel);
	o->domain = arg;
	return 0;
}

static int discover_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "discover writes text or json");
	return 0;
}

/* Say what discovery could not see. */
static void report_incomplete(const struct ipam_observed *obs)
{
	for (size_t i = 0; i < obs->nr_domains; i++) {
		const char *reason = ipam_obs_domain_reason(&obs->domains[i]);

		if (reason)
			log_error("discovery of '%s' is incomplete: %s",
				  obs->domains[i].name, reason);
	}
}

static void print_result(struct cli *cli, long long run_id,
			 const struct ipam_observed *obs,
			 const struct outcome *plan, int ok)
{
	struct strbuf out = STRBUF_INIT;
	struct ipam_node *n;

	if (cli->output != IPAM_OUT_JSON) {
		print_text(obs, plan);
		return;
	}
	n = summary_node(run_id, obs, plan, ok, true);
	if (!ipam_json_write(&out, n, IPAM_JSON_PRETTY))
		fputs(out.buf, stdout);
	ipam_node_free(n);
	strbuf_release(&out);
}

/* The inventory update, planned and written PART_ROWS rows at a time. */
static int store(struct cli *cli, long long run_id,
		 const struct ipam_observed *obs,
		 const struct ipam_inventory *prev, struct outcome *oc)
{
	struct ipam_db_inv_writer w;
	struct ipam_inv_cursor c;
	struct ipam_inv_plan part = {0};

	ipam_inv_cursor_init(&c, prev, obs, cli->d);
	if (!ipam_db_inventory_write_begin(&w, cli->db, run_id, cli->d, obs))
		while (ipam_inv_cursor_next(&c, &part, PART_ROWS)) {
			outcome_add(oc, obs, &part);
			if (ipam_db_inventory_write(&w, &part))
				break;
		}
	ipam_inv_plan_release(&part);
	ipam_inv_cursor_release(&c);
	return ipam_db_inventory_write_end(&w);
}

static int discover_run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct ipam_discover_opts dopts;
	struct ipam_observed *obs = NULL;
	struct ipam_inventory prev = {0};
	struct outcome plan = {0};
	struct ipam_node *summary = NULL;
	struct strbuf out = STRBUF_INIT;
	long long run_id = 0;
	int err, ok = 1, ret = IPAM_EXIT_ERROR;

	(void)argc;
	(void)argv;
	ipam_discover_opts_init(&dopts);
	dopts.only_domain = ((const struct opts *)opts)->domain;
	dopts.parallel = ((const struct opts *)opts)->parallel;
	if (!dopts.parallel)
		dopts.parallel = IPAM_RUN_PARALLEL;
	dopts.progress = cli->progress;
	err = ipam_db_run_begin(cli->db, "discover", &run_id);
	if (!err)
		err = ipam_discover(&obs, cli->d, &dopts);
	if (!err)
		err = ipam_db_inventory_load(cli->db, &prev);
	if (err)
		goto fail;
	ipam_inventory_check_collisions(obs, &prev);
	for (size_t i = 0; i < obs->nr_domains; i++)
		if (!ipam_obs_domain_complete(&obs->domains[i]) ||
		    obs->domains[i].nr_errors)
			ok = 0;
	outcome_init(&plan, obs);
	err = store(cli, run_id, obs, &prev, &plan);
	if (err)
		goto fail;
	summary = summary_node(run_id, obs, &plan, ok, false);
	if (!ipam_json_write(&out, summary, 0))
		ipam_db_run_end(cli->db, run_id, ok ? "succeeded" : "failed",
				out.buf);
	print_result(cli, run_id, obs, &plan, ok);
	report_incomplete(obs);
	ret = ok ? IPAM_EXIT_OK : IPAM_EXIT_ERROR;
	goto out;
fail:
	log_error("%s", ipam_error_last());
	if (run_id)
		ipam_db_run_end(cli->db, run_id, "failed", NULL);
out:
	strbuf_release(&out);
	ipam_node_free(summary);
	outcome_release(&plan, obs ? obs->nr_domains : 0);
	ipam_inventory_release(&prev);
	ipam_observed_free(obs);
	return ret;
}
