/* ipamctl gpo show | filter: the provisioning GPOs as they are in AD and
 * SYSVOL, and their security filtering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "error.h"
#include "gpo.h"
#include "json.h"
#include "log.h"
#include "run.h"
#include "strbuf.h"
#include "banned.h"

static const char gpo_usage[] =
	"gpo show [--domain D] [-c PATH] [-o text|json]\n"
	"       gpo filter --domain D --gpo dhcp|dns|dc_nps [--add "
	"NAME]...\n"
	"                  [--remove NAME]... [--add-file FILE] "
	"[--remove-file FILE]\n"
	"                  [--dry-run] [-c PATH] [-o text|json]\n\n"
	"show: per discovery domain (or D), IPAMUG and its members, "
	"the DC-side\n"
	"grants, and each of the three GPOs as read from AD and "
	"SYSVOL: GUID,\n"
	"ownership mark, version in AD and in GPT.INI, link, who may "
	"read, apply\n"
	"and edit it, its security filtering, whether its settings "
	"files and\n"
	"folder ACL are what they should be.\n\n"
	"filter: add computers to (or remove them from) the security "
	"filtering of\n"
	"one GPO, in one DACL write, keeping the SYSVOL folder ACL "
	"consistent.\n"
	"NAME is a computer's DNS name or account name; a FILE holds "
	"one name a\n"
	"line ('#' comments).  With provisioning.filtering: group the "
	"computers\n"
	"go into (or out of) the GPO's filter group instead, in "
	"batched member\n"
	"writes.  The reconciler does this from the manageability\n"
	"of servers; this command is for repairs and trials.";

static int gpo_run(struct cli *cli, void *opts, int argc, char **argv);
static const struct command gpo_show_cmd, gpo_filter_cmd;

static const struct cli_subcommand gpo_subcommands[] = {
	{"show", &gpo_show_cmd},
	{"filter", &gpo_filter_cmd},
	{NULL, NULL},
};

const struct command cmd_gpo_def = {
	.name = "gpo",
	.summary = "show the IPAM GPOs; change their security filtering",
	.usage = gpo_usage,
	.setup = CLI_RAW,
	.subcommands = gpo_subcommands,
	.run = gpo_run,
};

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static void print_trustees(const char *label, const struct ipam_gpo_trustees *t)
{
	cli_printf("    %-10s", label);
	if (!t->nr)
		cli_printf(" (none)");
	for (size_t i = 0; i < t->nr; i++)
		cli_printf("%s %s", i ? "," : "",
			   t->v[i].name ? t->v[i].name : t->v[i].sid);
	cli_printf("\n");
}

/* provisioning.filtering: group -- the GPO's filter group. */
static void print_fgroup(const struct ipam_gpo_fgroup *f)
{
	if (!f->exists && !f->members_read)
		return;
	if (!f->exists) {
		cli_printf("    group     %s: absent\n", f->name);
		return;
	}
	cli_printf("    group     %s%s, in the filtering: %s", f->name,
		   f->owned ? " (ipamctl's)" : " (not ipamctl's)", yes(f->ace));
	if (f->members_read)
		cli_printf(", %zu member%s", f->members.nr,
			   f->members.nr == 1 ? "" : "s");
	cli_printf("\n");
	if (f->members_read)
		print_trustees("members:", &f->members);
}

static void print_state(const struct ipam_gpo_state *st)
{
	cli_printf("%s (%s, %s, via %s)\n", st->domain, st->netbios,
		   st->domain_dn, st->dc);
	if (st->ipamug.exists)
		cli_printf("  IPAMUG: %s %s%s; holds %s: %s\n", st->ipamug.dn,
			   st->ipamug.sid ? st->ipamug.sid : "",
			   st->ipamug.owned ? " (ipamctl's)"
					    : " (not ipamctl's)",
			   st->ipam_server, yes(st->ipamug.has_server));
	else
		cli_printf("  IPAMUG: absent\n");
	if (!st->server_found)
		cli_printf("  IPAM server %s: no computer account here\n",
			   st->ipam_server);
	cli_printf("  DC grants: Event Log Readers %s; DNS ACL %s\n",
		   yes(st->elr_member),
		   st->dns_container ? yes(st->dns_ace)
				     : "n/a (no MicrosoftDNS)");
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		const struct ipam_gpo_obs *g = &st->gpos[k];

		if (!g->exists) {
			cli_printf("  %s: absent\n", g->name);
			continue;
		}
		cli_printf("  %s %s%s\n", g->name, g->guid,
			   g->owned ? " (ipamctl's)" : " (not ipamctl's)");
		if (g->same_name > 1)
			cli_printf("    WARNING: %zu GPOs carry this name\n",
				   g->same_name);
		cli_printf("    version   %u (GPT.INI %s%s), link %s\n",
			   (unsigned)g->version,
			   g->gpt_present ? "" : "missing",
			   g->gpt_present
				   ? (g->gpt_version == g->version ? "same"
								   : "DIFFERS")
				   : "",
			   !g->linked		 ? "none"
			   : g->link_options & 1 ? "disabled"
						 : "enabled");
		cli_printf("    Authenticated Users: read %s, apply %s\n",
			   yes(g->au_read), yes(g->au_apply));
		print_trustees("edit:", &g->editors);
		print_trustees("filtering:", &g->filtering);
		print_fgroup(&g->fgroup);
		cli_printf(
			"    settings  %s; extensions %s; DACL %s (%zu "
			"bytes); folder ACL %s\n",
			g->settings_current ? "current" : "DIFFER",
			g->ext_current ? "current" : "DIFFER",
			g->dacl_current ? "current" : "DIFFERS", g->dacl_size,
			g->folder_consistent ? "consistent" : "INCONSISTENT");
		for (size_t i = 0; i < g->nr_files; i++) {
			const struct ipam_gpo_file_state *f = &g->files[i];

			cli_printf("      %s: %s\n", f->path,
				   f->current	? "current"
				   : f->present ? "differs"
						: "missing");
			for (size_t j = 0; j < f->nr_content; j++)
				cli_printf("        %s\n", f->content[j]);
		}
		for (size_t i = 0; i < g->nr_foreign; i++)
			cli_printf("      %s: not declared%s%s\n",
				   g->foreign[i].path,
				   g->foreign[i].note ? ", " : "",
				   g->foreign[i].note ? g->foreign[i].note
						      : "");
	}
}

static const struct cli_option show_options[] = {
	{"domain", CLI_ARG, 'D', "only discovery domain D"},
	{NULL, 0, 0, NULL},
};

static int show_option(struct cli *cli, void *opts, int id, const char *arg)
{
	(void)cli;
	(void)id;
	*(const char **)opts = arg;
	return 0;
}

static int show_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd, "gpo show writes text or "
						 "json");
	return 0;
}

static int show_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const char *domain = *(const char **)opts;
	const struct ipam_desired *d = cli->d;
	struct ipam_node *root, *seq;
	int ret = IPAM_EXIT_ERROR, ok = 1, seen = 0;

	(void)argc;
	(void)argv;
	root = ipam_node_new(IPAM_NODE_MAP);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	ipam_node_set(root, "domains", seq);
	for (size_t i = 0; i < d->nr_domains; i++) {
		const struct ipam_domain *dom = &d->domains[i];
		struct ipam_gpo_session *s = NULL;
		struct ipam_gpo_state *st = NULL;

		if (domain && strcasecmp(domain, dom->name))
			continue;
		seen++;
		if (ipam_gpo_open(&s, d, dom, NULL) || ipam_gpo_read(&st, s)) {
			log_error("%s", ipam_error_last());
			ok = 0;
		} else if (cli->output == IPAM_OUT_JSON) {
			ipam_node_push(seq, ipam_gpoview_to_node(st));
		} else {
			print_state(st);
		}
		ipam_gpo_state_free(st);
		ipam_gpo_close(s);
	}
	if (domain && !seen) {
		log_error("'%s' is not a discovery domain of %s", domain,
			  cli_config_path(cli));
		goto out;
	}
	if (cli->output == IPAM_OUT_JSON)
		cli_print_json(root);
	ret = ok ? IPAM_EXIT_OK : IPAM_EXIT_ERROR;
out:
	ipam_node_free(root);
	return ret;
}

static const struct command gpo_show_cmd = {
	.name = "gpo",
	.usage = gpo_usage,
	.setup = CLI_CONFIG | CLI_LAB,
	.options = show_options,
	.opts_size = sizeof(const char *), /* the --domain */
	.option = show_option,
	.check = show_check,
	.run = show_run,
};

struct names {
	char **v;
	size_t nr, alloc;
};

static void names_add(struct names *n, const char *s, size_t len)
{
	ALLOC_GROW(n->v, n->nr + 1, n->alloc);
	n->v[n->nr++] = xasprintf("%.*s", (int)len, s);
}

static int names_from_file(struct names *n, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int lineno = 0;

	if (!f)
		return ipam_error_set(IPAM_EIO, "%s: cannot open", path);
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			fclose(f);
			return ipam_error_set(IPAM_EINVAL,
					      "%s:%d: line too long", path,
					      lineno);
		}
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, "#\r\n");
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p)
			names_add(n, p, (size_t)(e - p));
	}
	fclose(f);
	return 0;
}

static void names_release(struct names *n)
{
	for (size_t i = 0; i < n->nr; i++)
		free(n->v[i]);
	free(n->v);
}

static void print_quiet(void *ctx, enum ipam_gpo_change kind, const char *what)
{
	const char *domain = ctx;

	cli_printf("%s: %c %s\n", domain, (char)kind, what);
}

enum {
	OPT_GPO = CLI_OPT_OWN,
	OPT_ADD,
	OPT_REMOVE,
	OPT_ADD_FILE,
	OPT_REMOVE_FILE,
	OPT_DRY_RUN,
};

static const struct cli_option filter_options[] = {
	{"domain", CLI_ARG, 'D', "the discovery domain"},
	{"gpo", CLI_ARG, OPT_GPO, "dhcp, dns or dc_nps"},
	{"add", CLI_ARG, OPT_ADD, "a computer to add"},
	{"remove", CLI_ARG, OPT_REMOVE, "a computer to remove"},
	{"add-file", CLI_ARG, OPT_ADD_FILE, "computers to add, one a line"},
	{"remove-file", CLI_ARG, OPT_REMOVE_FILE, "computers to remove"},
	{"dry-run", CLI_NO_ARG, OPT_DRY_RUN, "write nothing"},
	{NULL, 0, 0, NULL},
};

struct filter_opts {
	const char *domain, *which;
	enum ipam_pol_gpo kind;
	struct names add, rem;
	bool dry_run;
	const struct ipam_domain *dom;
};

/* The run's own steps, on this state. */
struct filter {
	const struct filter_opts *o;
	struct ipam_gpo_opts go;
	struct ipam_gpo_session *s;
	struct ipam_gpo_state *st;
	struct ipam_gpo_obs *g;
	struct ipam_gpo_filter_change fc;
	char **add_sids, **rem_sids;
	size_t writes0;
};

static int filter_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct filter_opts *o = opts;

	(void)cli;
	switch (id) {
	case 'D':
		o->domain = arg;
		break;
	case OPT_GPO:
		o->which = arg;
		break;
	case OPT_ADD:
	case OPT_REMOVE:
		names_add(id == OPT_ADD ? &o->add : &o->rem, arg, strlen(arg));
		break;
	case OPT_ADD_FILE:
	case OPT_REMOVE_FILE:
		if (names_from_file(id == OPT_ADD_FILE ? &o->add : &o->rem,
				    arg)) {
			log_error("%s", ipam_error_last());
			return -1;
		}
		break;
	default: /* OPT_DRY_RUN */
		o->dry_run = true;
		break;
	}
	return 0;
}

static int filter_check(struct cli *cli, void *opts, int argc, char **argv)
{
	static const struct {
		const char *name;
		enum ipam_pol_gpo kind;
	} kinds[] = {
		{"dhcp", IPAM_POL_GPO_DHCP},
		{"dns", IPAM_POL_GPO_DNS},
		{"dc_nps", IPAM_POL_GPO_DC_NPS},
	};
	struct filter_opts *o = opts;
	int found = 0;

	if (argc)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	for (size_t i = 0; o->which && i < 3; i++)
		if (!strcasecmp(o->which, kinds[i].name)) {
			o->kind = kinds[i].kind;
			found = 1;
		}
	if (!o->domain || !found || (!o->add.nr && !o->rem.nr))
		return cli_usage_error(cli->cmd,
				       "gpo filter needs --domain, --gpo "
				       "dhcp|dns|dc_nps and names to add or "
				       "remove");
	return 0;
}

static int filter_ready(struct cli *cli, void *opts)
{
	struct filter_opts *o = opts;

	o->dom = ipam_desired_find_domain(cli->d, o->domain);
	if (o->dom)
		return 0;
	log_error("'%s' is not a discovery domain of %s", o->domain,
		  cli_config_path(cli));
	return IPAM_EXIT_ERROR;
}

/* Read the GPO, check it is ipamctl's, look the computers up. */
static int filter_prepare(struct ipam_run *run, void *ctx)
{
	struct filter *f = ctx;
	const struct filter_opts *o = f->o;
	int err;

	err = ipam_gpo_open(&f->s, run->d, o->dom, &f->go);
	if (!err)
		err = ipam_gpo_read(&f->st, f->s);
	if (err)
		return err;
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		if (f->st->gpos[k].kind == o->kind)
			f->g = &f->st->gpos[k];
	if (!f->g->exists)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "%s: no GPO %s (run ipamctl provision "
				      "first)",
				      o->dom->name, f->g->name);
	if (!f->g->owned)
		return ipam_error_set(IPAM_ECONFLICT,
				      "%s: GPO %s was not created by ipamctl: "
				      "its filtering is not ipamctl's to "
				      "change",
				      o->dom->name, f->g->name);
	err = ipam_gpo_lookup_computers(f->s, (const char *const *)o->add.v,
					o->add.nr, &f->add_sids);
	if (!err)
		err = ipam_gpo_lookup_computers(f->s,
						(const char *const *)o->rem.v,
						o->rem.nr, &f->rem_sids);
	return err;
}

static int filter_apply(struct ipam_run *run, void *ctx)
{
	struct filter *f = ctx;

	f->fc.add_sids = (const char *const *)f->add_sids;
	f->fc.nr_add = f->o->add.nr;
	f->fc.remove_sids = (const char *const *)f->rem_sids;
	f->fc.nr_remove = f->o->rem.nr;
	f->writes0 = ipam_gpo_ldap_writes(f->s);
	/* filtering: group -- the servers go into the GPO's filter group */
	if (run->d->filtering == IPAM_FILTERING_GROUP)
		return ipam_gpo_filter_members(f->s, f->st, f->o->kind, &f->fc);
	return ipam_gpo_ensure_dacl(f->s, f->st, f->o->kind, &f->fc);
}

static void filter_print(const struct cli *cli, const struct filter *f)
{
	const struct ipam_gpo_obs *g = f->g;
	const char *dom = f->o->dom->name;
	struct ipam_node *m;

	if (cli->output != IPAM_OUT_JSON) {
		if (!f->fc.added && !f->fc.removed)
			cli_printf("%s: %s: filtering already as asked\n", dom,
				   g->name);
		return;
	}
	m = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(m, "domain", dom);
	ipam_node_set_str(m, "gpo", g->name);
	ipam_node_set(m, "added", ipam_node_int((long long)f->fc.added));
	ipam_node_set(m, "removed", ipam_node_int((long long)f->fc.removed));
	ipam_node_set(m, "ldapWrites",
		      ipam_node_int((long long)(ipam_gpo_ldap_writes(f->s) -
						f->writes0)));
	ipam_node_set(m, "dryRun", ipam_node_bool(f->go.dry_run));
	ipam_node_set(m, "daclSize", ipam_node_int((long long)g->dacl_size));
	ipam_node_set(m, "filtering",
		      ipam_node_int((long long)g->filtering.nr));
	if (g->fgroup.members_read) {
		ipam_node_set_str(m, "group", g->fgroup.name);
		ipam_node_set(m, "members",
			      ipam_node_int((long long)g->fgroup.members.nr));
	}
	cli_print_json(m);
	ipam_node_free(m);
}

static void free_sids(char **sids, size_t n)
{
	for (size_t i = 0; sids && i < n; i++)
		free(sids[i]);
	free(sids);
}

/* A run that changes AD but, as ever, takes no lock and records nothing:
 * the reconciler's next plan sees what it did. */
static int filter_run(struct cli *cli, void *opts, int argc, char **argv)
{
	struct filter_opts *o = opts;
	struct filter f = {.o = o};
	struct ipam_run run;
	int err;

	(void)argc;
	(void)argv;
	f.go.dry_run = o->dry_run;
	f.go.report = cli->output == IPAM_OUT_TEXT ? print_quiet : NULL;
	f.go.report_ctx = (void *)o->dom->name;
	ipam_run_init(&run, IPAM_RUN_GPO_FILTER, cli->d, NULL);
	run.prepare = filter_prepare;
	run.apply = filter_apply;
	run.ctx = &f;
	err = ipam_run_begin(&run);
	if (!err)
		err = ipam_run_prepare(&run);
	if (!err)
		err = ipam_run_apply(&run);
	if (err)
		log_error("%s", ipam_error_last());
	else
		filter_print(cli, &f);
	ipam_run_end(&run, err ? "failed" : "succeeded", NULL);
	ipam_run_release(&run);
	free_sids(f.add_sids, o->add.nr);
	free_sids(f.rem_sids, o->rem.nr);
	names_release(&o->add);
	names_release(&o->rem);
	ipam_gpo_state_free(f.st);
	ipam_gpo_close(f.s);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}

static const struct command gpo_filter_cmd = {
	.name = "gpo",
	.usage = gpo_usage,
	.setup = CLI_CONFIG | CLI_LAB,
	.options = filter_options,
	.opts_size = sizeof(struct filter_opts),
	.option = filter_option,
	.check = filter_check,
	.ready = filter_ready,
	.run = filter_run,
};

static int gpo_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct command *fn = NULL;
	char **args;
	int i, n = 0, ret;

	(void)opts;
	/* The subcommand: the first "show" or "filter" (global options may
	 * come before it). */
	for (i = 1; i < argc && !fn; i++) {
		if (!strcmp(argv[i], "show"))
			fn = &gpo_show_cmd;
		else if (!strcmp(argv[i], "filter"))
			fn = &gpo_filter_cmd;
		else if (argv[i][0] != '-')
			break;
	}
	if (!fn) {
		for (i = 1; i < argc; i++)
			if (!strcmp(argv[i], "-h") ||
			    !strcmp(argv[i], "--help")) {
				cli_usage(&cmd_gpo_def, 0);
				return IPAM_EXIT_OK;
			}
		return cli_usage_error(&cmd_gpo_def,
				       i < argc ? "unknown subcommand '%s'"
						: "a subcommand is needed%s",
				       i < argc ? argv[i] : "");
	}
	args = xcalloc((size_t)argc, sizeof(*args));
	for (int j = 0; j < argc; j++)
		if (j != i - 1)
			args[n++] = argv[j];
	ret = cli_run_command(cli, fn, n, args);
	free(args);
	return ret;
}
