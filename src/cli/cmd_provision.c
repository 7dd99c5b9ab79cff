/* ipamctl provision: Invoke-IpamGpoProvisioning for one domain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "gpo.h"
#include "json.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"
#include "banned.h"

enum { OPT_DRY_RUN = CLI_OPT_OWN, OPT_ADOPT };

static const struct cli_option provision_options[] = {
	{"domain", CLI_ARG, 'D', "the discovery domain"},
	{"dry-run", CLI_NO_ARG, OPT_DRY_RUN, "write nothing"},
	{"adopt", CLI_NO_ARG, OPT_ADOPT, "take over GPOs of the right names"},
	{NULL, 0, 0, NULL},
};

struct provision_opts {
	const char *domain;
	bool dry_run, adopt;
	const struct ipam_domain *dom; /* the domain's desired state */
};

static int provision_option(struct cli *cli, void *opts, int id,
			    const char *arg);
static int provision_check(struct cli *cli, void *opts, int argc, char **argv);
static int provision_ready(struct cli *cli, void *opts);
static int provision_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_provision_def = {
	.name = "provision",
	.summary = "create IPAMUG, the three IPAM GPOs and the DC grants",
	.usage = "provision --domain D [-c PATH] [--dry-run] [--adopt] "
		 "[-o text|json]\n\n"
		 "What Invoke-IpamGpoProvisioning does, for discovery domain "
		 "D: the\n"
		 "IPAMUG group holding the IPAM server's computer account, "
		 "the GPOs\n"
		 "<prefix>_DHCP, <prefix>_DNS and <prefix>_DC_NPS with their "
		 "settings\n"
		 "(firewall rules, local groups, the dhcpaudit share, the DNS "
		 "event log\n"
		 "CustomSD), linked on the domain head, Authenticated Users "
		 "reading but\n"
		 "not applying them (security filtering starts empty), and "
		 "on the DCs\n"
		 "IPAMUG in Event Log Readers and reading the DNS ACL.  With "
		 "filtering:\n"
		 "group, also each GPO's filter group <prefix>_<ROLE>_Servers "
		 "with read\n"
		 "and Apply Group Policy on it.  Each step is a no-op when "
		 "already\n"
		 "right; a second run changes nothing.  When a step fails, "
		 "what this\n"
		 "run created is removed again.\n\n"
		 "  --dry-run  print what would change, write nothing\n"
		 "  --adopt    take over an IPAMUG, GPOs or filter groups of "
		 "the right\n"
		 "             names that ipamctl did not create (marks them "
		 "as its own)",
	.setup = CLI_CONFIG | CLI_LOCK | CLI_LAB,
	.options = provision_options,
	.opts_size = sizeof(struct provision_opts),
	.option = provision_option,
	.check = provision_check,
	.ready = provision_ready,
	.run = provision_run,
};

struct printer {
	const char *domain;
	bool text;
	struct ipam_node *changes;
};

static void print_change(void *ctx, enum ipam_gpo_change kind, const char *what)
{
	struct printer *p = ctx;
	char k[2] = {(char)kind, 0};

	if (p->text) {
		cli_printf("%s: %c %s\n", p->domain, (char)kind, what);
		fflush(stdout);
	}
	if (p->changes) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "change", k);
		ipam_node_set_str(m, "what", what);
		ipam_node_push(p->changes, m);
	}
}

/* The run's own steps, on this state. */
struct provision {
	struct ipam_gpo_opts go;
	const struct ipam_domain *dom;
	struct ipam_gpo_session *s;
	struct ipam_gpo_state *st;
	size_t changes;
};

static int provision_option(struct cli *cli, void *opts, int id,
			    const char *arg)
{
	struct provision_opts *o = opts;

	(void)cli;
	if (id == 'D')
		o->domain = arg;
	else if (id == OPT_DRY_RUN)
		o->dry_run = true;
	else
		o->adopt = true;
	return 0;
}

static int provision_check(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct provision_opts *o = opts;

	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (!o->domain)
		return cli_usage_error(cli->cmd, "--domain is required");
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "provision writes text or json");
	return 0;
}

static int provision_ready(struct cli *cli, void *opts)
{
	struct provision_opts *o = opts;
	const struct ipam_domain *dom;

	dom = o->dom = ipam_desired_find_domain(cli->d, o->domain);
	if (!dom) {
		log_error("'%s' is not a discovery domain of %s", o->domain,
			  cli_config_path(cli));
		return IPAM_EXIT_ERROR;
	}
	if (dom->remove) {
		log_error("%s:%d:%d: '%s' is marked 'remove: true': provision "
			  "will not make what apply is to take out",
			  dom->remove_pos.file, dom->remove_pos.line,
			  dom->remove_pos.col, o->domain);
		return IPAM_EXIT_ERROR;
	}
	if (cli->d->method != IPAM_METHOD_GPO) {
		log_error("provisioning.method is %s: provision needs gpo",
			  ipam_method_name(cli->d->method));
		return IPAM_EXIT_ERROR;
	}
	return 0;
}

static int provision_prepare(struct ipam_run *run, void *ctx)
{
	struct provision *p = ctx;
	int err = ipam_gpo_open(&p->s, run->d, p->dom, &p->go);

	return err ? err : ipam_gpo_read(&p->st, p->s);
}

static int provision_apply(struct ipam_run *run, void *ctx)
{
	struct provision *p = ctx;

	(void)run;
	return ipam_gpo_provision(p->s, p->st, &p->changes);
}

static void print_done(const struct provision *p)
{
	const char *name = p->dom->name;
	size_t n = p->changes;

	if (!n)
		cli_printf("%s: nothing to do\n", name);
	else if (p->go.dry_run)
		cli_printf(
			"%s: %zu change%s to make (dry run: nothing written)\n",
			name, n, n == 1 ? "" : "s");
	else
		cli_printf("%s: %zu change%s made\n", name, n,
			   n == 1 ? "" : "s");
}

/* The result: recorded with the run, printed with -o json. */
static struct ipam_node *result(const struct provision *p, struct printer *pr,
				bool ok)
{
	struct ipam_node *res = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set_str(res, "domain", p->dom->name);
	ipam_node_set(res, "dryRun", ipam_node_bool(p->go.dry_run));
	ipam_node_set(res, "ok", ipam_node_bool(ok));
	if (!ok)
		ipam_node_set_str(res, "error", ipam_error_last());
	ipam_node_set(res, "changes",
		      pr->changes ? pr->changes : ipam_node_new(IPAM_NODE_SEQ));
	pr->changes = NULL;
	return res;
}

static int provision_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct provision_opts *o = opts;
	struct provision p = {.dom = o->dom};
	struct printer pr = {.domain = o->dom->name};
	struct ipam_db *db = NULL;
	struct ipam_run run;
	int err;

	(void)argc;
	(void)argv;
	p.go.dry_run = o->dry_run;
	p.go.adopt = o->adopt;
	/* Its own database, not CLI_DB: the JSON result reports a database
	 * that will not open, too. */
	err = cli_open_db(cli, cli->d, &db);
	ipam_run_init(&run, IPAM_RUN_PROVISION, cli->d, db);
	run.record = db && !o->dry_run;
	run.summary_newline = true;
	run.prepare = provision_prepare;
	run.apply = provision_apply;
	run.ctx = &p;
	if (!err) {
		err = ipam_run_begin(&run);
		cli_print_took_over(&run);
	}
	pr.text = cli->output == IPAM_OUT_TEXT;
	if (!pr.text)
		pr.changes = ipam_node_new(IPAM_NODE_SEQ);
	p.go.source = cli_config_path(cli);
	p.go.report = print_change;
	p.go.report_ctx = &pr;
	if (!err)
		err = ipam_run_prepare(&run);
	if (!err)
		err = ipam_run_apply(&run);
	if (err)
		log_error("%s", ipam_error_last());
	else if (pr.text)
		print_done(&p);
	run.summary = result(&p, &pr, !err);
	ipam_run_end(&run, err ? "failed" : "succeeded", NULL);
	if (cli->output == IPAM_OUT_JSON)
		cli_print_json(run.summary);
	ipam_run_release(&run);
	ipam_gpo_state_free(p.st);
	ipam_gpo_close(p.s);
	ipam_db_close(db);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}
