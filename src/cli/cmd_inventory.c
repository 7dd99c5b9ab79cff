/* ipamctl inventory [show NAME]: the server inventory, as the IPAM
 * console shows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "inventory.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "text.h"
#include "verify.h"
#include "banned.h"

#define NOT_CHECKED "Not checked"

struct inventory_opts {
	enum ipam_role role;
	enum ipam_manageability manage;
};

static int inventory_option(struct cli *cli, void *opts, int id,
			    const char *arg);
static int inventory_check(struct cli *cli, void *opts, int argc, char **argv);
static int inventory_run(struct cli *cli, void *opts, int argc, char **argv);

static const struct cli_option inventory_options[] = {
	{"role", CLI_ARG, 'R', "only servers of role R"},
	{"manageability", CLI_ARG, 'M', "only servers of manageability M"},
	{NULL, 0, 0, NULL},
};

static const struct cli_subcommand inventory_subcommands[] = {
	{"show", NULL},
	{NULL, NULL},
};

const struct command cmd_inventory_def = {
	.name = "inventory",
	.summary = "list the server inventory, or show one server",
	.usage = "inventory [--role R] [--manageability M] [-o text|json]\n"
		 "       ipamctl inventory show NAME [-o text|json]\n\n"
		 "Lists the servers of the state database's inventory: name, "
		 "domain, roles,\n"
		 "manageability, addresses, operating system, IPAM access "
		 "status, status\n"
		 "since the last discovery and when last seen.  R is dc, dns, "
		 "dhcp or nps;\n"
		 "M is managed, unmanaged or unspecified.  'show' prints one "
		 "server in full\n"
		 "with its history of changes.",
	/* Reading needs no desired state, but uses its database if
	 * named. */
	.setup = CLI_CONFIG_IF_ANY | CLI_DB_READ,
	.options = inventory_options,
	.subcommands = inventory_subcommands,
	.opts_size = sizeof(struct inventory_opts),
	.option = inventory_option,
	.check = inventory_check,
	.run = inventory_run,
};

static struct ipam_node *server_node(const struct ipam_inv_server *s)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *roles = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *addrs = ipam_node_new(IPAM_NODE_SEQ);
	unsigned r;
	size_t i;

	ipam_node_set_str(m, "name", s->name);
	ipam_node_set(m, "domain", ipam_node_str_or_null(s->domain));
	for (r = IPAM_ROLE_DC; r <= IPAM_ROLE_NPS; r <<= 1)
		if (s->roles & r)
			ipam_node_push(roles, ipam_node_str(ipam_role_name(
						      (enum ipam_role)r)));
	ipam_node_set(m, "roles", roles);
	ipam_node_set(m, "declared", ipam_node_bool(s->declared));
	ipam_node_set_str(m, "manageability",
			  ipam_manageability_name(s->manageability));
	for (i = 0; i < s->nr_addrs; i++)
		ipam_node_push(addrs, ipam_node_str(s->addrs[i].text));
	ipam_node_set(m, "addresses", addrs);
	ipam_node_set(m, "operatingSystem", ipam_node_str_or_null(s->os_name));
	ipam_node_set(m, "operatingSystemVersion",
		      ipam_node_str_or_null(s->os_version));
	ipam_node_set_str(m, "accessStatus",
			  s->access ? s->access : NOT_CHECKED);
	ipam_node_set_str(m, "status", ipam_inv_status_name(s->status));
	ipam_node_set(m, "statusDetail",
		      ipam_node_str_or_null(s->status_detail));
	ipam_node_set(m, "owner", ipam_node_str_or_null(s->owner));
	ipam_node_set(m, "description", ipam_node_str_or_null(s->description));
	ipam_node_set(m, "objectGUID", ipam_node_str_or_null(s->guid));
	ipam_node_set(m, "objectSid", ipam_node_str_or_null(s->sid));
	ipam_node_set(m, "dn", ipam_node_str_or_null(s->dn));
	ipam_node_set(m, "firstSeen", ipam_node_str_or_null(s->first_seen));
	ipam_node_set(m, "lastSeen", ipam_node_str_or_null(s->last_seen));
	return m;
}

static int print_node(struct ipam_node *n)
{
	struct strbuf out = STRBUF_INIT;
	int err = ipam_json_write(&out, n, IPAM_JSON_PRETTY);

	if (!err)
		fputs(out.buf, stdout);
	strbuf_release(&out);
	ipam_node_free(n);
	return err;
}

#define NR_COLUMNS 9

/* A text table: every cell kept (escaped: it is measured as printed), then
 * printed with each column as wide as its widest cell. */
struct table {
	char **cells;
	size_t nr, alloc;
	size_t width[NR_COLUMNS];
};

static void table_add(struct table *t, const char *cell)
{
	char *text = ipam_text_escaped(cell);
	size_t col = t->nr % NR_COLUMNS, len = strlen(text);

	ALLOC_GROW(t->cells, t->nr + 1, t->alloc);
	t->cells[t->nr++] = text;
	if (len > t->width[col])
		t->width[col] = len;
}

static void table_print(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		size_t col = i % NR_COLUMNS;

		if (col == NR_COLUMNS - 1)
			cli_printf("%s\n", t->cells[i]);
		else
			cli_printf("%-*s  ", (int)t->width[col], t->cells[i]);
		free(t->cells[i]);
	}
	free(t->cells);
}

static void list_text(const struct ipam_inventory *inv, unsigned role,
		      enum ipam_manageability manage)
{
	static const char *const head[NR_COLUMNS] = {
		"NAME",		 "DOMAIN",    "ROLES",
		"MANAGEABILITY", "ADDRESSES", "OPERATING SYSTEM",
		"IPAM ACCESS",	 "STATUS",    "LAST SEEN",
	};
	struct table t = {0};
	struct strbuf sb = STRBUF_INIT;
	size_t i, shown = 0;

	for (i = 0; i < NR_COLUMNS; i++)
		table_add(&t, head[i]);
	for (i = 0; i < inv->nr; i++) {
		const struct ipam_inv_server *s = &inv->servers[i];

		if ((role && !(s->roles & role)) ||
		    (manage && s->manageability != manage))
			continue;
		table_add(&t, s->name);
		table_add(&t, s->domain ? s->domain : "-");
		strbuf_reset(&sb);
		ipam_roles_format(&sb, s->roles, ",");
		table_add(&t, sb.len ? sb.buf : "-");
		table_add(&t, ipam_manageability_name(s->manageability));
		strbuf_reset(&sb);
		ipam_addrs_format(&sb, s->addrs, s->nr_addrs);
		table_add(&t, sb.len ? sb.buf : "-");
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s%s%s", s->os_name ? s->os_name : "-",
			    s->os_version ? " " : "",
			    s->os_version ? s->os_version : "");
		table_add(&t, sb.buf);
		table_add(&t, s->access ? s->access : NOT_CHECKED);
		table_add(&t, ipam_inv_status_name(s->status));
		table_add(&t, s->last_seen ? s->last_seen : "-");
		shown++;
	}
	table_print(&t);
	cli_printf("%zu server%s\n", shown, shown == 1 ? "" : "s");
	strbuf_release(&sb);
}

/* How many checks inventory show reads back for the access changes. */
#define ACCESS_HISTORY_MAX 200

/* The checks of h where the overall status or a detail's status differs
 * from the check before (the first check is one). */
static bool access_changed_at(const struct ipam_db_access *h, size_t i)
{
	if (!i)
		return true;
	if (h[i].access.overall != h[i - 1].access.overall)
		return true;
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		if (h[i].access.detail[d].status !=
		    h[i - 1].access.detail[d].status)
			return true;
	return false;
}

static struct ipam_node *access_json(const struct ipam_db_access *h, size_t nr)
{
	struct ipam_node *m, *changes = ipam_node_new(IPAM_NODE_SEQ);

	if (!nr) {
		m = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(m, "overall", NOT_CHECKED);
		ipam_node_set(m, "checkedAt", ipam_node_str_or_null(NULL));
	} else {
		m = ipam_verify_access_node(&h[nr - 1].access);
		ipam_node_set_str(m, "checkedAt", h[nr - 1].checked_at);
		ipam_node_set(m, "run",
			      h[nr - 1].run_id ? ipam_node_int(h[nr - 1].run_id)
					       : ipam_node_str_or_null(NULL));
	}
	for (size_t i = 0; i < nr; i++) {
		struct ipam_node *c;

		if (!access_changed_at(h, i))
			continue;
		c = ipam_verify_access_node(&h[i].access);
		ipam_node_set_str(c, "checkedAt", h[i].checked_at);
		ipam_node_set(c, "run",
			      h[i].run_id ? ipam_node_int(h[i].run_id)
					  : ipam_node_str_or_null(NULL));
		ipam_node_push(changes, c);
	}
	ipam_node_set(m, "changes", changes);
	return m;
}

static void print_access(const struct ipam_db_access *h, size_t nr)
{
	const struct ipam_access *a;

	if (!nr) {
		cli_printf("IPAM access:      %s\n", NOT_CHECKED);
		return;
	}
	a = &h[nr - 1].access;
	cli_printf("IPAM access:      %s", ipam_access_status_name(a->overall));
	if (a->action)
		cli_printf(" (%s)", ipam_access_action_name(a->action));
	cli_printf(", checked %s, run %lld\n", h[nr - 1].checked_at,
		   h[nr - 1].run_id);
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
		const struct ipam_access_result *r = &a->detail[d];
		char *why = r->reason ? ipam_text_clean(r->reason, 0) : NULL;

		cli_printf("  %-16s %s%s%s\n",
			   ipam_access_detail_name((enum ipam_access_detail)d),
			   ipam_access_status_name(r->status), why ? ": " : "",
			   why ? why : "");
		free(why);
	}
	cli_printf("access changes:\n");
	for (size_t i = 0; i < nr; i++) {
		const char *sep = " (";

		if (!access_changed_at(h, i))
			continue;
		cli_printf("  %s  run %lld  %s", h[i].checked_at, h[i].run_id,
			   ipam_access_status_name(h[i].access.overall));
		for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++) {
			if (h[i].access.detail[d].status ==
			    IPAM_ACCESS_NOT_APPLICABLE)
				continue;
			cli_printf("%s%s %s", sep,
				   ipam_access_detail_name(
					   (enum ipam_access_detail)d),
				   ipam_access_status_name(
					   h[i].access.detail[d].status));
			sep = ", ";
		}
		cli_printf("%s\n", strcmp(sep, ", ") ? "" : ")");
	}
}

static int show_one(struct cli *cli, struct ipam_db *db,
		    const struct ipam_inventory *inv, const char *name)
{
	const struct ipam_inv_server *s = ipam_inventory_find(inv, name);
	struct ipam_db_history *h = NULL;
	struct ipam_db_access *ah = NULL;
	size_t nr = 0, anr = 0, i;
	struct strbuf sb = STRBUF_INIT;
	int err;

	if (!s)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "'%s' is not in the inventory", name);
	err = ipam_db_server_history(db, s->name, &h, &nr);
	if (!err)
		err = ipam_db_access_history(db, s->name, ACCESS_HISTORY_MAX,
					     &ah, &anr);
	if (err)
		goto out;
	if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *n = server_node(s);
		struct ipam_node *hist = ipam_node_new(IPAM_NODE_SEQ);

		for (i = 0; i < nr; i++) {
			struct ipam_node *e = ipam_node_new(IPAM_NODE_MAP);

			ipam_node_set_str(e, "at", h[i].at);
			ipam_node_set(e, "run", ipam_node_int(h[i].run_id));
			ipam_node_set_str(e, "change", h[i].change);
			ipam_node_push(hist, e);
		}
		ipam_node_set(n, "history", hist);
		ipam_node_set(n, "access", access_json(ah, anr));
		err = print_node(n);
		goto out;
	}
	ipam_roles_format(&sb, s->roles, ", ");
	cli_printf("name:             %s\n", s->name);
	cli_printf("domain:           %s\n", s->domain ? s->domain : "-");
	cli_printf("roles:            %s%s\n", sb.len ? sb.buf : "-",
		   s->declared ? " (declared)" : "");
	cli_printf("manageability:    %s\n",
		   ipam_manageability_name(s->manageability));
	strbuf_reset(&sb);
	ipam_addrs_format(&sb, s->addrs, s->nr_addrs);
	cli_printf("addresses:        %s\n", sb.len ? sb.buf : "-");
	cli_printf("operating system: %s%s%s\n", s->os_name ? s->os_name : "-",
		   s->os_version ? " " : "",
		   s->os_version ? s->os_version : "");
	cli_printf("status:           %s%s%s\n",
		   ipam_inv_status_name(s->status),
		   s->status_detail ? " (" : "",
		   s->status_detail ? s->status_detail : "");
	if (s->status_detail)
		cli_printf(")\n");
	cli_printf("owner:            %s\n", s->owner ? s->owner : "-");
	cli_printf("description:      %s\n",
		   s->description ? s->description : "-");
	cli_printf("objectGUID:       %s\n", s->guid ? s->guid : "-");
	cli_printf("objectSid:        %s\n", s->sid ? s->sid : "-");
	cli_printf("DN:               %s\n", s->dn ? s->dn : "-");
	cli_printf("first seen:       %s\n",
		   s->first_seen ? s->first_seen : "-");
	cli_printf("last seen:        %s\n", s->last_seen ? s->last_seen : "-");
	print_access(ah, anr);
	cli_printf("history:\n");
	for (i = 0; i < nr; i++)
		cli_printf("  %s  run %lld  %s\n", h[i].at, h[i].run_id,
			   h[i].change);
out:
	strbuf_release(&sb);
	ipam_db_history_free(h, nr);
	ipam_db_access_free(ah, anr);
	return err;
}

static int inventory_option(struct cli *cli, void *opts, int id,
			    const char *arg)
{
	struct inventory_opts *o = opts;

	if (id == 'R' && ipam_role_parse(arg, &o->role))
		return cli_usage_error(cli->cmd,
				       "unknown role '%s' (dc, dns, dhcp, nps)",
				       arg);
	if (id == 'M' && ipam_manageability_parse(arg, &o->manage))
		return cli_usage_error(cli->cmd,
				       "unknown manageability '%s' (managed, "
				       "unmanaged, unspecified)",
				       arg);
	return 0;
}

static int inventory_check(struct cli *cli, void *opts, int argc, char **argv)
{
	(void)opts;
	if (argc && (strcmp(argv[0], "show") || argc != 2))
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[0]);
	if (cli->output != IPAM_OUT_TEXT && cli->output != IPAM_OUT_JSON)
		return cli_usage_error(cli->cmd,
				       "inventory writes text or json");
	return 0;
}

static int inventory_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct inventory_opts *o = opts;
	struct ipam_inventory inv = {0};
	int err, ret = IPAM_EXIT_ERROR;

	err = ipam_db_inventory_load(cli->db, &inv);
	if (!err && argc)
		err = show_one(cli, cli->db, &inv, argv[1]);
	if (err) {
		log_error("%s", ipam_error_last());
		goto out;
	}
	if (argc) {
		/* shown */
	} else if (cli->output == IPAM_OUT_JSON) {
		struct ipam_node *list = ipam_node_new(IPAM_NODE_SEQ);

		for (size_t i = 0; i < inv.nr; i++) {
			const struct ipam_inv_server *s = &inv.servers[i];

			if ((o->role && !(s->roles & o->role)) ||
			    (o->manage && s->manageability != o->manage))
				continue;
			ipam_node_push(list, server_node(s));
		}
		print_node(list);
	} else {
		list_text(&inv, o->role, o->manage);
	}
	ret = IPAM_EXIT_OK;
out:
	ipam_inventory_release(&inv);
	return ret;
}
