/*
 * The GPO engine's write side: IPAMUG, the GPOs, their settings and their
 * links.  Each step writes only what differs from the observed state
 * (core/ decides what that is) and keeps the state up to date.
 */
#include "gpo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "error.h"
#include "gplink.h"
#include "gpo_internal.h"
#include "gpogroup.h"
#include "gposettings.h"
#include "ldapconn.h"
#include "log.h"
#include "polfile.h"
#include "strbuf.h"
#include "banned.h"

/* ---- IPAMUG ---------------------------------------------------------------
 */

static int create_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	char *dn = xasprintf("CN=" GROUP_NAME ",CN=Users,%s", s->domain_dn);
	int rc;

	ipam_gpo_report(s, IPAM_GPO_CREATE, "group " GROUP_NAME " (%s)", dn);
	if (s->o.dry_run) {
		st->ipamug.exists = st->ipamug.owned = true;
		st->ipamug.dn = dn;
		st->ipamug.mark = xstrdup(s->mark);
		return 0;
	}
	{
		/* groupType as LDAP text, from the one constant the
		 * decision compares with */
		char gtype[24];
		struct ipam_ldapconn_value oc = ipam_gpo_val("group"),
					   sam = ipam_gpo_val(GROUP_NAME), gt,
					   desc = ipam_gpo_val(
						   "IPAM Users Group: "
						   "IPAM servers' access "
						   "(managed by ipamctl)"),
					   mark = ipam_gpo_val(s->mark);

		snprintf(gtype, sizeof(gtype), "%ld", IPAM_GPOGROUP_TYPE);
		gt = ipam_gpo_val(gtype);
		struct ipam_ldapconn_mod mods[] = {
			{IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc, 1},
			{IPAM_LDAPCONN_MOD_ADD, "sAMAccountName", &sam, 1},
			{IPAM_LDAPCONN_MOD_ADD, "groupType", &gt, 1},
			{IPAM_LDAPCONN_MOD_ADD, "description", &desc, 1},
			{IPAM_LDAPCONN_MOD_ADD, "adminDescription", &mark, 1},
		};

		rc = ipam_ldapconn_add(s->ldap, dn, mods, 5);
	}
	if (!rc)
		ipam_gpo_journal(s, UNDO_LDAP_TREE, dn, NULL);
	free(dn);
	if (!rc)
		rc = ipam_gpo_read_group(s, st);
	if (!rc && !st->ipamug.sid)
		rc = ipam_error_set(IPAM_EIO,
				    "%s: " GROUP_NAME " created but not found",
				    s->dom->name);
	return rc;
}

static int adopt_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	int rc;

	ipam_gpo_report(s, IPAM_GPO_UPDATE,
			"group " GROUP_NAME ": ownership mark (adopted)");
	if (!s->o.dry_run) {
		rc = ipam_gpo_modify1(s, st->ipamug.dn,
				      IPAM_LDAPCONN_MOD_REPLACE,
				      "adminDescription", s->mark);
		if (rc)
			return rc;
	}
	free(st->ipamug.mark);
	st->ipamug.mark = xstrdup(s->mark);
	st->ipamug.owned = true;
	return 0;
}

int ipam_gpo_ensure_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	unsigned steps = ipam_gpogroup_plan(st, s->o.adopt);
	bool added;
	int rc = 0;

	if (steps & IPAM_GPOGROUP_CREATE)
		rc = create_group(s, st);
	else if (steps & IPAM_GPOGROUP_ADOPT)
		rc = adopt_group(s, st);
	if (rc)
		return rc;
	/* Warnings the caller has no other way to see: the run goes on. */
	if (steps & IPAM_GPOGROUP_BAD_TYPE)
		log_warn("%s: %s is not a universal security group "
			 "(groupType %ld)",
			 s->dom->name, st->ipamug.dn, st->ipamug.group_type);
	if (steps & IPAM_GPOGROUP_NO_SERVER)
		log_warn("%s: the IPAM server %s has no computer account in "
			 "%s%s; " GROUP_NAME " stays without it",
			 s->dom->name, st->ipam_server,
			 st->foreign_domain ? st->foreign_domain
					    : "this domain",
			 st->foreign_domain ? ""
					    : " (add it through a trust as a "
					      "foreign security principal)");
	if (steps & IPAM_GPOGROUP_NO_TRUST)
		log_warn("%s: the IPAM server %s is in %s, which this domain "
			 "does not trust; " GROUP_NAME " stays without it",
			 s->dom->name, st->ipam_server, st->foreign_domain);
	if (!(steps & (IPAM_GPOGROUP_ADD_SERVER | IPAM_GPOGROUP_ADD_FOREIGN)))
		return 0;
	ipam_gpo_report(s, IPAM_GPO_CREATE, "%s in group " GROUP_NAME,
			st->server_dn);
	st->ipamug.has_server = true;
	if (s->o.dry_run)
		return 0;
	if (steps & IPAM_GPOGROUP_ADD_FOREIGN) {
		/* By SID: the DC makes the foreign security principal. */
		char *member = xasprintf("<SID=%s>", st->server_sid);

		rc = ipam_gpo_add_member(s, st->ipamug.dn, member, &added);
		free(member);
	} else {
		rc = ipam_gpo_add_member(s, st->ipamug.dn, st->server_dn,
					 &added);
	}
	if (!rc && added)
		ipam_gpo_journal(s, UNDO_MEMBER, st->ipamug.dn, st->server_dn);
	return rc;
}

/* ---- GPOs -----------------------------------------------------------------
 */

static char *new_guid(void)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return NULL;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xasprintf("{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
			 "%02X%02X%02X%02X%02X%02X}",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
			 b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int create_gpo(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
{
	char *guid = new_guid(), *dn, *child = NULL, *fsp;
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!guid)
		return ipam_error_set(IPAM_EIO, "no random GUID: %s",
				      "getrandom failed");
	dn = xasprintf("CN=%s,CN=Policies,CN=System,%s", guid, s->domain_dn);
	fsp = xasprintf("\\\\%s\\SysVol\\%s\\Policies\\%s", s->dom->name,
			s->dom->name, guid);
	ipam_gpo_report(s, IPAM_GPO_CREATE, "GPO %s %s", g->name, guid);
	if (s->o.dry_run) {
		g->exists = g->planned = g->owned = true;
		g->guid = guid;
		g->dn = dn;
		free(fsp);
		return 0;
	}
	{
		struct ipam_ldapconn_value oc = ipam_gpo_val(
						   "groupPolicyContainer"),
					   name = ipam_gpo_val(g->name),
					   path_v = ipam_gpo_val(fsp),
					   zero = ipam_gpo_val("0"),
					   two = ipam_gpo_val("2"),
					   mark = ipam_gpo_val(s->mark);
		struct ipam_ldapconn_mod mods[] = {
			{IPAM_LDAPCONN_MOD_ADD, "objectClass", &oc, 1},
			{IPAM_LDAPCONN_MOD_ADD, "displayName", &name, 1},
			{IPAM_LDAPCONN_MOD_ADD, "gPCFileSysPath", &path_v, 1},
			{IPAM_LDAPCONN_MOD_ADD, "flags", &zero, 1},
			{IPAM_LDAPCONN_MOD_ADD, "versionNumber", &zero, 1},
			{IPAM_LDAPCONN_MOD_ADD, "gPCFunctionalityVersion", &two,
			 1},
			{IPAM_LDAPCONN_MOD_ADD, "adminDescription", &mark, 1},
		};

		rc = ipam_ldapconn_add(s->ldap, dn, mods, 7);
	}
	if (!rc)
		ipam_gpo_journal(s, UNDO_LDAP_TREE, dn, NULL);
	for (size_t i = 0; !rc && i < 2; i++) {
		struct ipam_ldapconn_value oc = ipam_gpo_val("container");
		struct ipam_ldapconn_mod m = {IPAM_LDAPCONN_MOD_ADD,
					      "objectClass", &oc, 1};

		free(child);
		child = xasprintf("CN=%s,%s", i ? "Machine" : "User", dn);
		rc = ipam_ldapconn_add(s->ldap, child, &m, 1);
	}
	if (!rc) {
		ipam_gpo_path(&path, s, guid, NULL);
		rc = ipam_gpo_need_smb(s);
		if (!rc) {
			ipam_gpo_journal(s, UNDO_SMB_TREE, path.buf, NULL);
			rc = ipam_gpo_make_folder(s, guid, 0);
		}
	}
	free(child);
	free(fsp);
	strbuf_release(&path);
	if (rc) {
		free(guid);
		free(dn);
		return rc;
	}
	g->exists = g->owned = true;
	g->same_name = 1;
	g->guid = guid;
	g->dn = dn;
	g->mark = xstrdup(s->mark);
	g->machine_ext = xstrdup("");
	g->version = g->gpt_version = 0;
	g->gpt_present = true;
	g->functionality_version = 2;
	g->flags = 0;
	return ipam_gpo_read_sd(s, g);
}

int ipam_gpo_ensure_gpo(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	int rc;

	if (g->same_name > 1)
		return ipam_error_set(IPAM_ECONFLICT,
				      "%s: %zu GPOs are named %s; ipamctl "
				      "cannot tell which one is its own: "
				      "rename or delete the others",
				      s->dom->name, g->same_name, g->name);
	if (!g->exists)
		return create_gpo(s, g);
	if (!g->owned) {
		if (!s->o.adopt)
			return ipam_error_set(
				IPAM_ECONFLICT,
				"%s: GPO %s %s was not created by ipamctl for "
				"%s (no ownership mark in adminDescription): "
				"rename or delete it, or take it over with "
				"provision --adopt",
				s->dom->name, g->name, g->guid,
				st->ipam_server);
		ipam_gpo_report(s, IPAM_GPO_UPDATE,
				"GPO %s: ownership mark (adopted)", g->name);
		if (!s->o.dry_run) {
			rc = ipam_gpo_modify1(s, g->dn,
					      IPAM_LDAPCONN_MOD_REPLACE,
					      "adminDescription", s->mark);
			if (rc)
				return rc;
		}
		free(g->mark);
		g->mark = xstrdup(s->mark);
		g->owned = true;
	}
	if (g->planned || (g->gpt_present && !g->missing))
		return 0;
	/* A run killed while creating it left parts out: complete it. */
	ipam_gpo_report(s, IPAM_GPO_UPDATE, "GPO %s: completed (%s%s%s)",
			g->name, g->missing ? g->missing : "",
			g->missing && !g->gpt_present ? ", " : "",
			g->gpt_present ? "" : "GPT.INI");
	if (s->o.dry_run)
		return 0;
	for (size_t i = 0; i < 2; i++) {
		struct ipam_ldapconn_value oc = ipam_gpo_val("container");
		struct ipam_ldapconn_mod m = {IPAM_LDAPCONN_MOD_ADD,
					      "objectClass", &oc, 1};
		char *child =
			xasprintf("CN=%s,%s", i ? "Machine" : "User", g->dn);

		rc = ipam_ldapconn_add(s->ldap, child, &m, 1);
		free(child);
		if (rc == IPAM_EEXISTS) {
			ipam_error_clear();
			rc = 0;
		}
		if (rc)
			return rc;
	}
	rc = g->gpt_present ? ipam_gpo_make_dirs(s, g->guid)
			    : ipam_gpo_make_folder(s, g->guid, g->version);
	if (rc)
		return rc;
	free(g->missing);
	g->missing = NULL;
	if (!g->gpt_present) {
		g->gpt_present = true;
		g->gpt_version = g->version;
	}
	return 0;
}

/* ---- settings -------------------------------------------------------------
 */

/* versionNumber, extension names and, when they need fixing, the
 * functionality version and flags, in one LDAP write. */
static int write_container(struct ipam_gpo_session *s,
			   const struct ipam_gpo_obs *g,
			   const struct ipam_gposettings_plan *p,
			   const struct strbuf *ext)
{
	char num[16], flags[24];
	struct ipam_ldapconn_value vn, ex = ipam_gpo_val(ext->buf),
				       two = ipam_gpo_val("2"), fl;
	struct ipam_ldapconn_mod mods[4];
	size_t n = 0;

	snprintf(num, sizeof(num), "%u", (unsigned)p->version);
	snprintf(flags, sizeof(flags), "%ld", p->flags);
	vn = ipam_gpo_val(num);
	fl = ipam_gpo_val(flags);
	mods[n++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_REPLACE,
					       "versionNumber", &vn, 1};
	mods[n++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_REPLACE,
					       "gPCMachineExtensionNames", &ex,
					       ext->len ? 1 : 0};
	if (p->fix_attrs) {
		mods[n++] = (struct ipam_ldapconn_mod){
			IPAM_LDAPCONN_MOD_REPLACE, "gPCFunctionalityVersion",
			&two, 1};
		mods[n++] = (struct ipam_ldapconn_mod){
			IPAM_LDAPCONN_MOD_REPLACE, "flags", &fl, 1};
	}
	return ipam_ldapconn_modify(s->ldap, g->dn, mods, n);
}

int ipam_gpo_ensure_settings(struct ipam_gpo_session *s,
			     struct ipam_gpo_state *st, enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	struct ipam_pol_set set = {0};
	struct strbuf present[IPAM_POL_MAX_FILES];
	bool is_present[IPAM_POL_MAX_FILES] = {0};
	struct ipam_gposettings_plan p;
	struct strbuf ext = STRBUF_INIT;
	int rc;

	if (!g->exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no GPO %s",
				      s->dom->name, g->name);
	if (g->planned || !st->ipamug.sid) {
		ipam_gpo_report(s, IPAM_GPO_UPDATE,
				"GPO %s settings: written, version %u -> %u",
				g->name, (unsigned)g->version,
				(unsigned)ipam_gpt_bump_machine(g->version));
		return 0;
	}
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_init(&present[i]);
	strbuf_init(&p.what);
	rc = ipam_gpo_need_smb(s);
	if (!rc)
		rc = ipam_gpt_ext_for_gpo(&ext, kind);
	if (!rc)
		rc = ipam_gpo_render_settings(s, st, g, &set, present,
					      is_present);
	if (rc ||
	    !ipam_gposettings_plan(&p, g, &set, present, is_present, ext.buf))
		goto out;
	ipam_gpo_report(s, IPAM_GPO_UPDATE,
			"GPO %s settings: %s; version %u -> %u", g->name,
			p.what.buf, (unsigned)g->version, (unsigned)p.version);
	if (s->o.dry_run)
		goto out;
	rc = ipam_gpo_write_files(s, g, &set, p.write);
	if (!rc)
		rc = write_container(s, g, &p, &ext);
	if (!rc && p.bump)
		rc = ipam_gpo_write_gpt_ini(s, g->guid, p.version);
	if (!rc)
		ipam_gposettings_applied(g, &p, ext.buf);
out:
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_release(&present[i]);
	ipam_gposettings_plan_release(&p);
	ipam_pol_set_release(&set);
	strbuf_release(&ext);
	return rc;
}

/* ---- links ----------------------------------------------------------------
 */

int ipam_gpo_write_gplink(struct ipam_gpo_session *s, const char *old,
			  const char *new)
{
	struct ipam_ldapconn_value o = ipam_gpo_val(old), n = ipam_gpo_val(new);
	struct ipam_ldapconn_mod mods[2];
	size_t k = 0;

	if (old && *old)
		mods[k++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_DELETE,
						       "gPLink", &o, 1};
	if (new &&*new)
		mods[k++] = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_ADD,
						       "gPLink", &n, 1};
	if (!k)
		return 0;
	return ipam_ldapconn_modify(s->ldap, s->domain_dn, mods, k);
}

int ipam_gpo_ensure_link(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	struct strbuf nl = STRBUF_INIT;
	unsigned opts;
	int rc;

	if (!g->exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no GPO %s",
				      s->dom->name, g->name);
	if (g->linked && !(g->link_options & 1))
		return 0;
	opts = g->linked ? g->link_options & ~1u : 0;
	rc = ipam_gplink_set(&nl, st->gplink, g->dn, opts);
	if (rc)
		return rc;
	if (g->linked)
		ipam_gpo_report(s, IPAM_GPO_UPDATE,
				"link of GPO %s on %s: enabled", g->name,
				s->domain_dn);
	else
		ipam_gpo_report(s, IPAM_GPO_CREATE, "link of GPO %s on %s",
				g->name, s->domain_dn);
	if (!s->o.dry_run) {
		rc = ipam_gpo_write_gplink(s, st->gplink, nl.buf);
		if (rc) {
			strbuf_release(&nl);
			return rc;
		}
		if (!g->linked)
			ipam_gpo_journal(s, UNDO_LINK, g->dn, NULL);
	}
	free(st->gplink);
	st->gplink = strbuf_detach(&nl, NULL);
	g->linked = true;
	g->link_options = opts;
	return 0;
}
