/* ipamctl verify: the IPAM access status of the managed servers,
 * measured by probing them as the IPAM identity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "log.h"
#include "remedy.h"
#include "run.h"
#include "strbuf.h"
#include "text.h"
#include "verify.h"
#include "banned.h"

enum { OPT_DETAILED = CLI_OPT_OWN, OPT_REMEDY };

static const struct cli_option verify_options[] = {
	{"domain", CLI_ARG, 'D', "only the servers of this domain"},
	{"server", CLI_ARG, 'S', "only this server"},
	{"detailed-exitcode", CLI_NO_ARG, OPT_DETAILED,
	 "exit 2 when a managed server is blocked"},
	{"remedy", CLI_NO_ARG, OPT_REMEDY,
	 "print the PowerShell that unblocks each blocked server"},
	{NULL, 0, 0, NULL},
};

struct verify_opts {
	const char *domain, *server;
	bool detailed, remedy;
};

static int verify_option(struct cli *cli, void *opts, int id, const char *arg);
static int verify_check(struct cli *cli, void *opts, int argc, char **argv);
static int verify_run(struct cli *cli, void *opts, int argc, char **argv);

const struct command cmd_verify_def = {
	.name = "verify",
	.summary =
		"probe the managed servers' IPAM access as the IPAM identity",
	.usage = "verify [-c PATH] [--domain D] [--server NAME] "
		 "[--detailed-exitcode] [--remedy]\n"
		 "       [-o text|json]\n\n"
		 "The IPAM access status of each managed server of the "
		 "inventory, as the\n"
		 "Windows IPAM server checks it, measured: as the IPAM "
		 "identity (the\n"
		 "IPAM server's computer account, from identity.keytab, a "
		 "fresh ticket\n"
		 "each run) it probes port 445, then the DNS server RPC "
		 "(MS-DNSP), the\n"
		 "event log (MS-EVEN), the DHCP server RPC (MS-DHCPM) and "
		 "the dhcpaudit\n"
		 "share, as the server's roles ask.  Each detail gets "
		 "Unblocked, Blocked,\n"
		 "Not applicable or Not checked with its reason; the overall "
		 "status and\n"
		 "the recommended action follow.  Unspecified servers are "
		 "not probed.\n"
		 "Each check is stored with the run (inventory show NAME).\n\n"
		 "  --domain D           only the servers of discovery domain "
		 "D\n"
		 "  --server NAME        only this server\n"
		 "  --detailed-exitcode  0 every managed server Unblocked, 2 "
		 "some\n"
		 "                       Blocked, 1 error\n"
		 "  --remedy             after the probes, print for each "
		 "managed server\n"
		 "                       the PowerShell that unblocks what "
		 "is blocked\n"
		 "                       (run on that server as a local "
		 "administrator)",
	.setup = CLI_CONFIG | CLI_LAB,
	.options = verify_options,
	.opts_size = sizeof(struct verify_opts),
	.option = verify_option,
	.check = verify_check,
	.run = verify_run,
};

static int verify_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct verify_opts *o = opts;

	(void)cli;
	if (id == 'D')
		o->domain = arg;
	else if (id == 'S')
		o->server = arg;
	else if (id == OPT_REMEDY)
		o->remedy = true;
	else
		o->detailed = true;
	return 0;
}

static int verify_check(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct verify_opts *o = opts;

	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "verify writes text or json");
	if (o->remedy && cli->output != IPAM_OUT_TEXT)
		return cli_usage_error(cli->cmd,
				       "--remedy writes PowerShell: no -o");
	return 0;
}

struct verify_step {
	struct ipam_verify_opts vo;
	struct ipam_verify v;
};

static int verify_prepare(struct ipam_run *run, void *ctx)
{
	struct verify_step *p = ctx;

	p->vo.run_id = run->id;
	p->vo.store = run->db != NULL;
	return ipam_verify_run(&p->v, run->d, run->db, &p->vo);
}

static const char *dash(const char *s)
{
	return s ? s : "-";
}

static void print_text(const struct ipam_verify *v)
{
	size_t managed = 0;

	for (size_t i = 0; i < v->nr; i++) {
		const struct ipam_verify_server *s = &v->v[i];
		const struct ipam_access *a = &s->access;

		managed += s->manageability == IPAM_MANAGE_MANAGED;
		cli_printf("%s  %s", dash(s->name),
			   ipam_access_status_name(a->overall));
		if (a->action)
			cli_printf("  (%s)",
				   ipam_access_action_name(a->action));
		if (s->changed)
			cli_printf("  was %s",
				   ipam_access_status_name(s->previous));
		cli_printf("\n");
		if (s->manageability != IPAM_MANAGE_MANAGED)
			continue;
		for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
			const struct ipam_access_result *r = &a->detail[d];

			cli_printf("  %-17s %-*s%s%s\n",
				   ipam_access_detail_name(
					   (enum ipam_access_detail)d),
				   r->reason ? 15 : 0,
				   ipam_access_status_name(r->status),
				   r->reason ? " " : "",
				   r->reason ? r->reason : "");
		}
	}
	cli_printf("%zu managed server%s: %zu unblocked, %zu blocked", managed,
		   managed == 1 ? "" : "s", v->counts[IPAM_ACCESS_UNBLOCKED],
		   v->counts[IPAM_ACCESS_BLOCKED]);
	if (v->principal)
		cli_printf(" (as %s, %lld.%01lld s)", v->principal,
			   v->ms / 1000, v->ms % 1000 / 100);
	cli_printf("\n");
}

/*
 * The PowerShell that unblocks each managed server (core/remedy): data
 * from AD and the probes is quoted and escaped by the renderer, so the
 * script is printed as it is (its tabs and newlines are its own).
 */
static void print_remedy(const struct ipam_verify *v,
			 const struct ipam_desired *d)
{
	struct strbuf out = STRBUF_INIT, account = STRBUF_INIT;
	const char *at = v->principal ? strchr(v->principal, '@') : NULL;

	if (v->principal)
		strbuf_add(&account, v->principal,
			   at ? (size_t)(at - v->principal)
			      : strlen(v->principal));
	for (size_t i = 0; i < v->nr; i++) {
		const struct ipam_verify_server *s = &v->v[i];
		struct ipam_remedy_server r = {
			.name = s->name,
			.domain = s->domain,
			.roles = s->roles,
			.is_dc = (s->roles & IPAM_ROLE_DC) != 0,
			.access = &s->access,
			.ipam_account = account.len ? account.buf : NULL,
			.by_gpo = d->method == IPAM_METHOD_GPO,
		};

		if (s->manageability != IPAM_MANAGE_MANAGED)
			continue;
		strbuf_addstr(&out, out.len ? "\n" : "");
		ipam_remedy_render(&out, &r);
	}
	if (!out.len)
		strbuf_addstr(&out, "# no managed server to unblock\n");
	fputs(out.buf, stdout);
	strbuf_release(&account);
	strbuf_release(&out);
}

static struct ipam_node *summary(const struct ipam_verify *v)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *blocked = ipam_node_new(IPAM_NODE_SEQ);

	ipam_node_set(
		m, "unblocked",
		ipam_node_int((long long)v->counts[IPAM_ACCESS_UNBLOCKED]));
	ipam_node_set(m, "blocked",
		      ipam_node_int((long long)v->counts[IPAM_ACCESS_BLOCKED]));
	for (size_t i = 0; i < v->nr; i++)
		if (v->v[i].access.overall == IPAM_ACCESS_BLOCKED)
			ipam_node_push(blocked, ipam_node_str(v->v[i].name));
	ipam_node_set(m, "blockedServers", blocked);
	return m;
}

static int verify_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct verify_opts *o = opts;
	struct verify_step p = {
		.vo = {.domain = o->domain, .server = o->server}};
	struct ipam_db *db = NULL;
	struct ipam_run run;
	int err;

	(void)argc;
	(void)argv;
	err = cli_open_db(cli, cli->d, &db);
	ipam_run_init(&run, IPAM_RUN_VERIFY, cli->d, db);
	/* probes change nothing in AD: no lock, a plan or apply may run */
	run.lock = false;
	run.prepare = verify_prepare;
	run.ctx = &p;
	if (!err)
		err = ipam_run_begin(&run);
	if (!err)
		err = ipam_run_prepare(&run);
	if (err)
		log_error("%s", ipam_error_last());
	for (size_t i = 0; i < p.v.nr_warnings; i++)
		log_warn("%s", p.v.warnings[i]);
	if (!err) {
		run.summary = summary(&p.v);
		if (cli->output == IPAM_OUT_JSON) {
			struct ipam_node *n = ipam_verify_to_node(&p.v);

			if (run.id)
				ipam_node_set(n, "run", ipam_node_int(run.id));
			cli_print_json(n);
			ipam_node_free(n);
		} else if (o->remedy) {
			print_remedy(&p.v, cli->d);
		} else {
			print_text(&p.v);
		}
	}
	ipam_run_end(&run, err ? "failed" : "succeeded",
		     err ? ipam_error_last() : NULL);
	ipam_run_release(&run);
	ipam_db_close(db);
	if (err)
		err = IPAM_EXIT_ERROR;
	else if (o->detailed && p.v.counts[IPAM_ACCESS_BLOCKED])
		err = IPAM_EXIT_CHANGES;
	ipam_verify_release(&p.v);
	return err;
}
