#include "gpoview.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "polfile.h"
#include "strbuf.h"
#include "banned.h"

static const char *const role_names[IPAM_GPO_COUNT] = {"dhcp", "dns", "dc_nps"};

/* ---- state as a tree ---------------------------------------------------- */

static struct ipam_node *trustees_node(const struct ipam_gpo_trustees *t)
{
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);

	for (size_t i = 0; i < t->nr; i++) {
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "sid", t->v[i].sid);
		ipam_node_set(m, "name", ipam_node_str_or_null(t->v[i].name));
		ipam_node_push(seq, m);
	}
	return seq;
}

/* provisioning.filtering: group -- the GPO's filter group. */
static struct ipam_node *fgroup_node(const struct ipam_gpo_fgroup *f)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set_str(m, "name", f->name);
	ipam_node_set(m, "exists", ipam_node_bool(f->exists));
	ipam_node_set(m, "dn", ipam_node_str_or_null(f->dn));
	ipam_node_set(m, "sid", ipam_node_str_or_null(f->sid));
	ipam_node_set(m, "owned", ipam_node_bool(f->owned));
	ipam_node_set(m, "inFiltering", ipam_node_bool(f->ace));
	ipam_node_set(m, "members",
		      f->members_read ? trustees_node(&f->members)
				      : ipam_node_new(IPAM_NODE_NULL));
	return m;
}

static struct ipam_node *gpo_node(const struct ipam_gpo_obs *g)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *x, *files;

	ipam_node_set_str(m, "name", g->name);
	ipam_node_set_str(m, "role", role_names[g->kind]);
	ipam_node_set(m, "exists", ipam_node_bool(g->exists));
	if (g->same_name > 1)
		ipam_node_set(m, "sameName",
			      ipam_node_int((long long)g->same_name));
	if (g->fgroup.name)
		ipam_node_set(m, "filterGroup", fgroup_node(&g->fgroup));
	if (!g->exists)
		return m;
	ipam_node_set_str(m, "guid", g->guid);
	ipam_node_set_str(m, "dn", g->dn);
	ipam_node_set(m, "owned", ipam_node_bool(g->owned));
	ipam_node_set(m, "mark", ipam_node_str_or_null(g->mark));
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "ad", ipam_node_int(g->version));
	ipam_node_set(x, "gptIni",
		      g->gpt_present ? ipam_node_int(g->gpt_version)
				     : ipam_node_new(IPAM_NODE_NULL));
	ipam_node_set(m, "version", x);
	ipam_node_set(m, "flags", ipam_node_int(g->flags));
	ipam_node_set(m, "functionalityVersion",
		      ipam_node_int(g->functionality_version));
	ipam_node_set_str(m, "machineExtensionNames", g->machine_ext);
	ipam_node_set(m, "extensionsCurrent", ipam_node_bool(g->ext_current));
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "linked", ipam_node_bool(g->linked));
	ipam_node_set(x, "enabled",
		      ipam_node_bool(g->linked && !(g->link_options & 1)));
	ipam_node_set(x, "enforced",
		      ipam_node_bool(g->linked && (g->link_options & 2)));
	ipam_node_set(m, "link", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "read", ipam_node_bool(g->au_read));
	ipam_node_set(x, "apply", ipam_node_bool(g->au_apply));
	ipam_node_set(m, "authenticatedUsers", x);
	ipam_node_set(m, "read", trustees_node(&g->readers));
	ipam_node_set(m, "apply", trustees_node(&g->appliers));
	ipam_node_set(m, "edit", trustees_node(&g->editors));
	ipam_node_set(m, "filtering", trustees_node(&g->filtering));
	ipam_node_set(m, "daclCurrent", ipam_node_bool(g->dacl_current));
	ipam_node_set(m, "daclSize", ipam_node_int((long long)g->dacl_size));
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "sddl", ipam_node_str_or_null(g->folder_sddl));
	ipam_node_set(x, "expected", ipam_node_str_or_null(g->folder_want));
	ipam_node_set(x, "consistent", ipam_node_bool(g->folder_consistent));
	ipam_node_set(m, "folderAcl", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "current", ipam_node_bool(g->settings_current));
	files = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < g->nr_files; i++) {
		struct ipam_node *f = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(f, "path", g->files[i].path);
		ipam_node_set(f, "present",
			      ipam_node_bool(g->files[i].present));
		ipam_node_set(f, "current",
			      ipam_node_bool(g->files[i].current));
		ipam_node_set(f, "sha256",
			      g->files[i].present
				      ? ipam_node_str(g->files[i].sha256)
				      : ipam_node_new(IPAM_NODE_NULL));
		{
			struct ipam_node *c = ipam_node_new(IPAM_NODE_SEQ);

			for (size_t j = 0; j < g->files[i].nr_content; j++)
				ipam_node_push(
					c,
					ipam_node_str(g->files[i].content[j]));
			ipam_node_set(f, "content", c);
		}
		ipam_node_push(files, f);
	}
	ipam_node_set(x, "files", files);
	files = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < g->nr_foreign; i++) {
		struct ipam_node *f = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(f, "path", g->foreign[i].path);
		ipam_node_set(f, "note",
			      ipam_node_str_or_null(g->foreign[i].note));
		ipam_node_push(files, f);
	}
	ipam_node_set(x, "foreign", files);
	ipam_node_set(m, "settings", x);
	return m;
}

struct ipam_node *ipam_gpoview_to_node(const struct ipam_gpo_state *st)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *x, *seq;

	ipam_node_set_str(m, "domain", st->domain);
	ipam_node_set_str(m, "dn", st->domain_dn);
	ipam_node_set_str(m, "sid", st->domain_sid);
	ipam_node_set_str(m, "netbios", st->netbios);
	ipam_node_set_str(m, "dc", st->dc);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(x, "name", st->ipam_server);
	ipam_node_set(x, "found", ipam_node_bool(st->server_found));
	ipam_node_set(x, "dn", ipam_node_str_or_null(st->server_dn));
	ipam_node_set(x, "sid", ipam_node_str_or_null(st->server_sid));
	ipam_node_set(m, "ipamServer", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "exists", ipam_node_bool(st->ipamug.exists));
	ipam_node_set(x, "owned", ipam_node_bool(st->ipamug.owned));
	ipam_node_set(x, "dn", ipam_node_str_or_null(st->ipamug.dn));
	ipam_node_set(x, "sid", ipam_node_str_or_null(st->ipamug.sid));
	ipam_node_set(x, "mark", ipam_node_str_or_null(st->ipamug.mark));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < st->ipamug.nr_members; i++)
		ipam_node_push(seq, ipam_node_str(st->ipamug.members[i]));
	ipam_node_set(x, "members", seq);
	ipam_node_set(x, "holdsIpamServer",
		      ipam_node_bool(st->ipamug.has_server));
	ipam_node_set(m, "ipamug", x);
	x = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(x, "eventLogReaders", ipam_node_bool(st->elr_member));
	ipam_node_set(x, "dnsContainer",
		      ipam_node_str_or_null(st->dns_container));
	ipam_node_set(x, "dnsAcl", ipam_node_bool(st->dns_ace));
	ipam_node_set(m, "dcGrants", x);
	ipam_node_set_str(m, "gplink", st->gplink);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		ipam_node_push(seq, gpo_node(&st->gpos[k]));
	ipam_node_set(m, "gpos", seq);
	return m;
}

/* ---- settings file content ---------------------------------------------- */

#define MAX_CONTENT_LINES 256

static void content_add(struct ipam_gpo_file_state *f, struct strbuf *line)
{
	if (f->nr_content >= MAX_CONTENT_LINES) {
		strbuf_reset(line);
		return;
	}
	f->content =
		xrealloc(f->content, (f->nr_content + 2) * sizeof(*f->content));
	f->content[f->nr_content++] = strbuf_detach(line, NULL);
	f->content[f->nr_content] = NULL;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

void ipam_gpoview_file_content(struct ipam_gpo_file_state *f, const char *buf,
			       size_t len)
{
	struct strbuf line = STRBUF_INIT;
	size_t plen = strlen(f->path);

	if (plen > 4 && !strcasecmp(f->path + plen - 4, ".pol")) {
		struct ipam_pol pol = IPAM_POL_INIT;

		if (ipam_pol_parse(&pol, buf, len)) {
			strbuf_addf(&line, "unreadable: %s", ipam_error_last());
			content_add(f, &line);
		}
		for (size_t i = 0; i < pol.nr; i++) {
			const struct ipam_pol_entry *e = &pol.entries[i];
			bool fw = !strcasecmp(e->key, IPAM_POL_FW_KEY);

			if (fw)
				strbuf_addf(&line, "firewall rule %s",
					    e->value);
			else
				strbuf_addf(&line, "%s\\%s", e->key, e->value);
			if ((e->type == IPAM_POL_SZ ||
			     e->type == IPAM_POL_EXPAND_SZ) &&
			    !fw) {
				strbuf_addstr(&line, " = ");
				ipam_pol_entry_string(&line, e);
			} else if (e->type == IPAM_POL_DWORD && e->size == 4) {
				strbuf_addf(&line, " = %u",
					    (unsigned)e->data[0] |
						    (unsigned)e->data[1] << 8 |
						    (unsigned)e->data[2] << 16 |
						    (unsigned)e->data[3] << 24);
			}
			content_add(f, &line);
		}
		ipam_pol_release(&pol);
	} else {
		struct ipam_gpp_file x = {0};

		if (ipam_gpp_parse(&x, buf, len)) {
			strbuf_addf(&line, "unreadable: %s", ipam_error_last());
			content_add(f, &line);
		}
		for (size_t i = 0; i < x.nr; i++) {
			const struct ipam_gpp_item *it = &x.items[i];

			if (it->tag && !strcmp(it->tag, "Group")) {
				strbuf_addf(
					&line, "group %s (%s%s):",
					or_dash(it->group_name),
					or_dash(it->action),
					it->delete_all_users ||
							it->delete_all_groups
						? ", clears members"
						: "");
				for (size_t m = 0; m < it->nr_members; m++)
					strbuf_addf(
						&line, " %s %s%s%s%s",
						or_dash(it->members[m].action),
						or_dash(it->members[m].name),
						it->members[m].sid ? " (" : "",
						it->members[m].sid
							? it->members[m].sid
							: "",
						it->members[m].sid ? ")" : "");
			} else if (it->tag && !strcmp(it->tag, "NetShare")) {
				strbuf_addf(&line, "share %s (%s): %s",
					    or_dash(it->name),
					    or_dash(it->action),
					    or_dash(it->share_path));
			} else if (it->tag && !strcmp(it->tag, "Registry")) {
				strbuf_addf(&line,
					    "registry %s\\%s\\%s (%s): %s",
					    or_dash(it->hive), or_dash(it->key),
					    or_dash(it->value_name),
					    or_dash(it->action),
					    or_dash(it->value));
			} else {
				strbuf_addf(&line, "%s %s", or_dash(it->tag),
					    or_dash(it->name));
			}
			content_add(f, &line);
		}
		ipam_gpp_file_release(&x);
	}
	strbuf_release(&line);
}
