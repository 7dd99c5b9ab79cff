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
#include "strbuf.h"
#include "banned.h"

const struct command cmd_gpo_def = {
	.name = "gpo",
	.summary = "show the IPAM GPOs; change their security filtering",
	.usage = "gpo show [--domain D] [-c PATH] [-o text|json]\n"
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
		 "line ('#' comments).  The reconciler does this from the "
		 "manageability\n"
		 "of servers; this command is for repairs and trials.",
	.run = cmd_gpo,
};

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

static void print_trustees(const char *label, const struct ipam_gpo_trustees *t)
{
	printf("    %-10s", label);
	if (!t->nr)
		printf(" (none)");
	for (size_t i = 0; i < t->nr; i++)
		printf("%s %s", i ? "," : "",
		       t->v[i].name ? t->v[i].name : t->v[i].sid);
	printf("\n");
}

static void print_state(const struct ipam_gpo_state *st)
{
	printf("%s (%s, %s, via %s)\n", st->domain, st->netbios, st->domain_dn,
	       st->dc);
	if (st->ipamug.exists)
		printf("  IPAMUG: %s %s%s; holds %s: %s\n", st->ipamug.dn,
		       st->ipamug.sid ? st->ipamug.sid : "",
		       st->ipamug.owned ? " (ipamctl's)" : " (not ipamctl's)",
		       st->ipam_server, yes(st->ipamug.has_server));
	else
		printf("  IPAMUG: absent\n");
	if (!st->server_found)
		printf("  IPAM server %s: no computer account here\n",
		       st->ipam_server);
	printf("  DC grants: Event Log Readers %s; DNS ACL %s\n",
	       yes(st->elr_member),
	       st->dns_container ? yes(st->dns_ace) : "n/a (no MicrosoftDNS)");
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++) {
		const struct ipam_gpo_obs *g = &st->gpos[k];

		if (!g->exists) {
			printf("  %s: absent\n", g->name);
			continue;
		}
		printf("  %s %s%s\n", g->name, g->guid,
		       g->owned ? " (ipamctl's)" : " (not ipamctl's)");
		if (g->same_name > 1)
			printf("    WARNING: %zu GPOs carry this name\n",
			       g->same_name);
		printf("    version   %u (GPT.INI %s%s), link %s\n",
		       (unsigned)g->version, g->gpt_present ? "" : "missing",
		       g->gpt_present
			       ? (g->gpt_version == g->version ? "same"
							       : "DIFFERS")
			       : "",
		       !g->linked	     ? "none"
		       : g->link_options & 1 ? "disabled"
					     : "enabled");
		printf("    Authenticated Users: read %s, apply %s\n",
		       yes(g->au_read), yes(g->au_apply));
		print_trustees("edit:", &g->editors);
		print_trustees("filtering:", &g->filtering);
		printf("    settings  %s; extensions %s; DACL %s (%zu "
		       "bytes); folder ACL %s\n",
		       g->settings_current ? "current" : "DIFFER",
		       g->ext_current ? "current" : "DIFFER",
		       g->dacl_current ? "current" : "DIFFERS", g->dacl_size,
		       g->folder_consistent ? "consistent" : "INCONSISTENT");
		for (size_t i = 0; i < g->nr_files; i++) {
			const struct ipam_gpo_file_state *f = &g->files[i];

			printf("      %s: %s\n", f->path,
			       f->current   ? "current"
			       : f->present ? "differs"
					    : "missing");
			for (size_t j = 0; j < f->nr_content; j++)
				printf("        %s\n", f->content[j]);
		}
		for (size_t i = 0; i < g->nr_foreign; i++)
			printf("      %s: not declared%s%s\n",
			       g->foreign[i].path,
			       g->foreign[i].note ? ", " : "",
			       g->foreign[i].note ? g->foreign[i].note : "");
	}
}

static int gpo_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'D'},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct ipam_desired *d = NULL;
	struct ipam_node *root = NULL, *seq;
	struct strbuf out = STRBUF_INIT;
	const char *domain = NULL;
	int c, ret = IPAM_EXIT_ERROR, ok = 1, seen = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "D:" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'h') {
			cli_usage(&cmd_gpo_def, 0);
			return IPAM_EXIT_OK;
		}
		if (c == 'D') {
			domain = optarg;
			continue;
		}
		if (c == '?' || c == ':')
			return cli_usage_error(&cmd_gpo_def, "bad option '%s'",
					       argv[optind - 1]);
		if (cli_global_option(cli, c, optarg))
			return IPAM_EXIT_ERROR;
	}
	if (optind < argc)
		return cli_usage_error(&cmd_gpo_def, "unexpected argument '%s'",
				       argv[optind]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(&cmd_gpo_def, "gpo show writes text or "
						     "json");
	if (cli_load_desired(cli, &d))
		goto out;
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
	if (cli->output == IPAM_OUT_JSON &&
	    !ipam_json_write(&out, root, IPAM_JSON_PRETTY))
		fputs(out.buf, stdout);
	ret = ok ? IPAM_EXIT_OK : IPAM_EXIT_ERROR;
out:
	strbuf_release(&out);
	ipam_node_free(root);
	ipam_desired_free(d);
	return ret;
}

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

	printf("%s: %c %s\n", domain, (char)kind, what);
}

static int gpo_filter(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"domain", required_argument, NULL, 'D'},
		{"gpo", required_argument, NULL, 0x200},
		{"add", required_argument, NULL, 0x201},
		{"remove", required_argument, NULL, 0x202},
		{"add-file", required_argument, NULL, 0x203},
		{"remove-file", required_argument, NULL, 0x204},
		{"dry-run", no_argument, NULL, 0x205},
		CLI_GLOBAL_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	static const struct {
		const char *name;
		enum ipam_pol_gpo kind;
	} kinds[] = {
		{"dhcp", IPAM_POL_GPO_DHCP},
		{"dns", IPAM_POL_GPO_DNS},
		{"dc_nps", IPAM_POL_GPO_DC_NPS},
	};
	struct ipam_gpo_opts go = {0};
	struct ipam_gpo_filter_change fc = {0};
	struct names add = {0}, rem = {0};
	struct ipam_desired *d = NULL;
	const struct ipam_domain *dom;
	struct ipam_gpo_session *s = NULL;
	struct ipam_gpo_state *st = NULL;
	struct ipam_gpo_obs *g = NULL;
	char **add_sids = NULL, **rem_sids = NULL;
	const char *domain = NULL, *which = NULL;
	enum ipam_pol_gpo kind = IPAM_POL_GPO_DHCP;
	size_t writes0;
	int c, err = 0, ret = IPAM_EXIT_ERROR, found = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "D:" CLI_GLOBAL_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_usage(&cmd_gpo_def, 0);
			ret = IPAM_EXIT_OK;
			goto out;
		case 'D':
			domain = optarg;
			continue;
		case 0x200:
			which = optarg;
			continue;
		case 0x201:
			names_add(&add, optarg, strlen(optarg));
			continue;
		case 0x202:
			names_add(&rem, optarg, strlen(optarg));
			continue;
		case 0x203:
		case 0x204:
			err = names_from_file(c == 0x203 ? &add : &rem, optarg);
			if (err) {
				log_error("%s", ipam_error_last());
				goto out;
			}
			continue;
		case 0x205:
			go.dry_run = true;
			continue;
		case '?':
		case ':':
			ret = cli_usage_error(&cmd_gpo_def, "bad option '%s'",
					      argv[optind - 1]);
			goto out;
		}
		if (cli_global_option(cli, c, optarg))
			goto out;
	}
	if (optind < argc) {
		ret = cli_usage_error(&cmd_gpo_def, "unexpected argument '%s'",
				      argv[optind]);
		goto out;
	}
	for (size_t i = 0; which && i < 3; i++)
		if (!strcasecmp(which, kinds[i].name)) {
			kind = kinds[i].kind;
			found = 1;
		}
	if (!domain || !found || (!add.nr && !rem.nr)) {
		ret = cli_usage_error(&cmd_gpo_def,
				      "gpo filter needs --domain, --gpo "
				      "dhcp|dns|dc_nps and names to add or "
				      "remove");
		goto out;
	}
	if (cli_load_desired(cli, &d))
		goto out;
	dom = ipam_desired_find_domain(d, domain);
	if (!dom) {
		log_error("'%s' is not a discovery domain of %s", domain,
			  cli_config_path(cli));
		goto out;
	}
	go.report = cli->output == IPAM_OUT_TEXT ? print_quiet : NULL;
	go.report_ctx = (void *)dom->name;
	err = ipam_gpo_open(&s, d, dom, &go);
	if (!err)
		err = ipam_gpo_read(&st, s);
	if (err)
		goto fail;
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		if (st->gpos[k].kind == kind)
			g = &st->gpos[k];
	if (!g->exists) {
		log_error("%s: no GPO %s (run ipamctl provision first)",
			  dom->name, g->name);
		goto out;
	}
	if (!g->owned) {
		log_error("%s: GPO %s was not created by ipamctl: its "
			  "filtering is not ipamctl's to change",
			  dom->name, g->name);
		goto out;
	}
	err = ipam_gpo_lookup_computers(s, (const char *const *)add.v, add.nr,
					&add_sids);
	if (!err)
		err = ipam_gpo_lookup_computers(s, (const char *const *)rem.v,
						rem.nr, &rem_sids);
	if (err)
		goto fail;
	fc.add_sids = (const char *const *)add_sids;
	fc.nr_add = add.nr;
	fc.remove_sids = (const char *const *)rem_sids;
	fc.nr_remove = rem.nr;
	writes0 = ipam_gpo_ldap_writes(s);
	err = ipam_gpo_ensure_dacl(s, st, kind, &fc);
	if (err)
		goto fail;
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct strbuf out = STRBUF_INIT;

		ipam_node_set_str(m, "domain", dom->name);
		ipam_node_set_str(m, "gpo", g->name);
		ipam_node_set(m, "added", ipam_node_int((long long)fc.added));
		ipam_node_set(m, "removed",
			      ipam_node_int((long long)fc.removed));
		ipam_node_set(
			m, "ldapWrites",
			ipam_node_int((long long)(ipam_gpo_ldap_writes(s) -
						  writes0)));
		ipam_node_set(m, "dryRun", ipam_node_bool(go.dry_run));
		ipam_node_set(m, "daclSize",
			      ipam_node_int((long long)g->dacl_size));
		ipam_node_set(m, "filtering",
			      ipam_node_int((long long)g->filtering.nr));
		if (!ipam_json_write(&out, m, IPAM_JSON_PRETTY))
			fputs(out.buf, stdout);
		strbuf_release(&out);
		ipam_node_free(m);
	} else if (!fc.added && !fc.removed) {
		printf("%s: %s: filtering already as asked\n", dom->name,
		       g->name);
	}
	ret = IPAM_EXIT_OK;
	goto out;
fail:
	log_error("%s", ipam_error_last());
out:
	if (add_sids)
		for (size_t i = 0; i < add.nr; i++)
			free(add_sids[i]);
	if (rem_sids)
		for (size_t i = 0; i < rem.nr; i++)
			free(rem_sids[i]);
	free(add_sids);
	free(rem_sids);
	names_release(&add);
	names_release(&rem);
	ipam_gpo_state_free(st);
	ipam_gpo_close(s);
	ipam_desired_free(d);
	return ret;
}

int cmd_gpo(struct cli *cli, int argc, char **argv)
{
	int (*fn)(struct cli *, int, char **) = NULL;
	char **args;
	int i, n = 0, ret;

	/* The subcommand: the first "show" or "filter" (global options may
	 * come before it). */
	for (i = 1; i < argc && !fn; i++) {
		if (!strcmp(argv[i], "show"))
			fn = gpo_show;
		else if (!strcmp(argv[i], "filter"))
			fn = gpo_filter;
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
	ret = fn(cli, n, args);
	free(args);
	return ret;
}
