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
#include "strbuf.h"
#include "banned.h"

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
		 "IPAMUG in Event Log Readers and reading the DNS ACL.  Each "
		 "step is a\n"
		 "no-op when already right; a second run changes nothing.  "
		 "When a step\n"
		 "fails, what this run created is removed again.\n\n"
		 "  --dry-run  print what would change, write nothing\n"
		 "  --adopt    take over an IPAMUG or GPOs of the right names "
		 "that\n"
		 "             ipamctl did not create (marks them as its own)",
	.run = cmd_provision,
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
		printf("%s: %c %s\n", p->domain, (char)kind, what);
		fflush(stdout);
	}
	if (p->changes) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "change", k);
		ipam_node_set_str(m, "what", what);
		ipam_node_push(p->changes, m);
	}
}

int cmd_provision(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'D'},
		{"dry-run", no_argument, NULL, 0x200},
		{"adopt", no_argument, NULL, 0x201},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct ipam_gpo_opts go = {0};
	struct printer pr = {0};
	struct ipam_desired *d = NULL;
	const struct ipam_domain *dom;
	struct ipam_gpo_session *s = NULL;
	struct ipam_gpo_state *st = NULL;
	struct ipam_db *db = NULL;
	struct ipam_node *res = NULL;
	struct strbuf out = STRBUF_INIT;
	const char *domain = NULL;
	long long run_id = 0;
	size_t changes = 0;
	bool locked = false;
	int c, err, ret = IPAM_EXIT_ERROR;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "D:" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'h') {
			cli_usage(&cmd_provision_def, 0);
			return IPAM_EXIT_OK;
		}
		if (c == 'D') {
			domain = optarg;
			continue;
		}
		if (c == 0x200) {
			go.dry_run = true;
			continue;
		}
		if (c == 0x201) {
			go.adopt = true;
			continue;
		}
		if (c == '?' || c == ':')
			return cli_usage_error(&cmd_provision_def,
					       "bad option '%s'",
					       argv[optind - 1]);
		if (cli_global_option(cli, c, optarg))
			return IPAM_EXIT_ERROR;
	}
	if (optind < argc)
		return cli_usage_error(&cmd_provision_def,
				       "unexpected argument '%s'",
				       argv[optind]);
	if (!domain)
		return cli_usage_error(&cmd_provision_def,
				       "--domain is required");
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(&cmd_provision_def,
				       "provision writes text or json");
	if (cli_load_desired(cli, &d))
		goto out;
	dom = ipam_desired_find_domain(d, domain);
	if (!dom) {
		log_error("'%s' is not a discovery domain of %s", domain,
			  cli_config_path(cli));
		goto out;
	}
	if (dom->remove) {
		log_error("%s:%d:%d: '%s' is marked 'remove: true': provision "
			  "will not make what apply is to take out",
			  dom->remove_pos.file, dom->remove_pos.line,
			  dom->remove_pos.col, domain);
		goto out;
	}
	if (d->method != IPAM_METHOD_GPO) {
		log_error("provisioning.method is %s: provision needs gpo",
			  ipam_method_name(d->method));
		goto out;
	}
	err = cli_open_db(cli, d, &db);
	if (!err)
		err = ipam_db_lock(db, "provision", 0);
	if (err)
		goto fail;
	locked = true;
	if (!go.dry_run) {
		err = ipam_db_run_begin(db, "provision", &run_id);
		if (err)
			goto fail;
	}
	pr.domain = dom->name;
	pr.text = cli->output == IPAM_OUT_TEXT;
	if (!pr.text)
		pr.changes = ipam_node_new(IPAM_NODE_SEQ);
	go.source = cli_config_path(cli);
	go.report = print_change;
	go.report_ctx = &pr;
	err = ipam_gpo_open(&s, d, dom, &go);
	if (!err)
		err = ipam_gpo_read(&st, s);
	if (!err)
		err = ipam_gpo_provision(s, st, &changes);
	if (err)
		goto fail;
	if (pr.text) {
		if (!changes)
			printf("%s: nothing to do\n", dom->name);
		else if (go.dry_run)
			printf("%s: %zu change%s to make (dry run: nothing "
			       "written)\n",
			       dom->name, changes, changes == 1 ? "" : "s");
		else
			printf("%s: %zu change%s made\n", dom->name, changes,
			       changes == 1 ? "" : "s");
	}
	ret = IPAM_EXIT_OK;
	goto done;
fail:
	log_error("%s", ipam_error_last());
done:
	res = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(res, "domain", dom->name);
	ipam_node_set(res, "dryRun", ipam_node_bool(go.dry_run));
	ipam_node_set(res, "ok", ipam_node_bool(ret == IPAM_EXIT_OK));
	if (ret != IPAM_EXIT_OK)
		ipam_node_set_str(res, "error", ipam_error_last());
	ipam_node_set(res, "changes",
		      pr.changes ? pr.changes : ipam_node_new(IPAM_NODE_SEQ));
	pr.changes = NULL;
	if (!ipam_json_write(&out, res, 0) && run_id)
		ipam_db_run_end(db, run_id,
				ret == IPAM_EXIT_OK ? "succeeded" : "failed",
				out.buf);
	if (cli->output == IPAM_OUT_JSON) {
		strbuf_reset(&out);
		if (!ipam_json_write(&out, res, IPAM_JSON_PRETTY))
			fputs(out.buf, stdout);
	}
out:
	ipam_node_free(pr.changes);
	ipam_node_free(res);
	strbuf_release(&out);
	ipam_gpo_state_free(st);
	ipam_gpo_close(s);
	if (locked)
		ipam_db_unlock(db);
	ipam_db_close(db);
	ipam_desired_free(d);
	return ret;
}
