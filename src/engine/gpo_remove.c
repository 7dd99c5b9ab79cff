/*
 * The GPO engine's removal steps: only what carries ipamctl's mark for
 * this IPAM server and prefix goes; anything else is refused.
 */
#include "gpo.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gplink.h"
#include "gpo_internal.h"
#include "ldapconn.h"
#include "smb.h"
#include "strbuf.h"
#include "banned.h"

static int refuse_foreign(const struct ipam_gpo_session *s, const char *what)
{
	return ipam_error_set(IPAM_ECONFLICT,
			      "%s: %s was not created by ipamctl (no ownership "
			      "mark): not removed",
			      s->dom->name, what);
}

int ipam_gpo_remove_link(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	struct strbuf nl = STRBUF_INIT;
	int rc = 0;

	if (!g->exists || !g->linked)
		return 0;
	if (!g->owned)
		return refuse_foreign(s, g->name);
	ipam_gplink_remove(&nl, st->gplink, g->dn);
	ipam_gpo_report(s, IPAM_GPO_DELETE, "link of GPO %s on %s", g->name,
			s->domain_dn);
	if (!s->o.dry_run)
		rc = ipam_gpo_write_gplink(s, st->gplink, nl.buf);
	if (!rc) {
		free(st->gplink);
		st->gplink = strbuf_detach(&nl, NULL);
		g->linked = false;
	}
	strbuf_release(&nl);
	return rc;
}

int ipam_gpo_remove_gpo(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			enum ipam_pol_gpo kind)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!g->exists)
		return 0;
	if (!g->owned)
		return refuse_foreign(s, g->name);
	rc = ipam_gpo_remove_link(s, st, kind);
	if (rc)
		return rc;
	ipam_gpo_report(s, IPAM_GPO_DELETE, "GPO %s %s", g->name, g->guid);
	if (!s->o.dry_run) {
		ipam_gpo_path(&path, s, g->guid, NULL);
		rc = ipam_ldapconn_delete_tree(s->ldap, g->dn);
		if (!rc)
			rc = ipam_gpo_need_smb(s);
		if (!rc) {
			rc = ipam_smb_remove_tree(s->smb, path.buf);
			if (rc == IPAM_ENOTFOUND)
				rc = 0;
		}
		strbuf_release(&path);
		if (rc)
			return rc;
	}
	{
		enum ipam_pol_gpo k = g->kind;
		char *name = g->name;
		/* The filter group outlives its GPO: removed on its own. */
		struct ipam_gpo_fgroup fg = g->fgroup;

		memset(&g->fgroup, 0, sizeof(g->fgroup));
		g->name = NULL;
		ipam_gpo_obs_release(g);
		memset(g, 0, sizeof(*g));
		g->kind = k;
		g->name = name;
		g->fgroup = fg;
	}
	return 0;
}

int ipam_gpo_remove_dc_grants(struct ipam_gpo_session *s,
			      struct ipam_gpo_state *st)
{
	struct ipam_sid g;
	struct ipam_ace a;
	bool done;
	int rc;

	if (!st->ipamug.exists)
		return 0;
	if (!st->ipamug.owned)
		return refuse_foreign(s, "the grants of " GROUP_NAME);
	if (st->elr_member) {
		ipam_gpo_report(s, IPAM_GPO_DELETE, GROUP_NAME " in %s",
				st->elr_dn);
		if (!s->o.dry_run) {
			rc = ipam_gpo_modify1(s, st->elr_dn,
					      IPAM_LDAPCONN_MOD_DELETE,
					      "member", st->ipamug.dn);
			if (rc && rc != IPAM_ENOTFOUND)
				return rc;
		}
		st->elr_member = false;
	}
	if (st->dns_container && st->dns_ace) {
		ipam_gpo_report(s, IPAM_GPO_DELETE,
				"read for " GROUP_NAME " on %s",
				st->dns_container);
		if (!s->o.dry_run) {
			rc = ipam_sid_parse(&g, st->ipamug.sid, NULL);
			if (rc)
				return rc;
			a = ipam_gpo_dns_ace(&g);
			rc = ipam_gpo_edit_dacl(s, st->dns_container, &a, false,
						&done);
			if (rc)
				return rc;
		}
		st->dns_ace = false;
	}
	return 0;
}

int ipam_gpo_remove_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st)
{
	int rc;

	if (!st->ipamug.exists)
		return 0;
	if (!st->ipamug.owned)
		return refuse_foreign(s, GROUP_NAME);
	ipam_gpo_report(s, IPAM_GPO_DELETE, "group " GROUP_NAME " (%s)",
			st->ipamug.dn);
	if (!s->o.dry_run) {
		rc = ipam_ldapconn_delete(s->ldap, st->ipamug.dn);
		if (rc)
			return rc;
	}
	st->ipamug.exists = st->ipamug.owned = false;
	st->ipamug.has_server = st->elr_member = st->dns_ace = false;
	return 0;
}
