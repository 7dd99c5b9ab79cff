/*
 * Invoke-IpamGpoProvisioning: every ensure step in order, and when one
 * fails, what this run created undone again, newest first.
 */
#include "gpo.h"

#include <stdlib.h>

#include "error.h"
#include "gplink.h"
#include "gpo_internal.h"
#include "ldapconn.h"
#include "log.h"
#include "smb.h"
#include "strbuf.h"
#include "banned.h"

static const char *const undo_what[] = {
	[UNDO_LDAP_TREE] = "deleted",
	[UNDO_SMB_TREE] = "removed SYSVOL folder",
	[UNDO_MEMBER] = "group",
	[UNDO_LINK] = "unlinked",
	[UNDO_DNS_ACE] = "IPAMUG's ACE removed from",
};

/* Undo u; what failed goes into failed, for the error the caller gets. */
static void undo_one(struct ipam_gpo_session *s, const struct undo *u,
		     struct strbuf *failed)
{
	int rc = 0;

	switch (u->kind) {
	case UNDO_LDAP_TREE:
		rc = ipam_ldapconn_delete_tree(s->ldap, u->target);
		break;
	case UNDO_SMB_TREE:
		rc = ipam_gpo_need_smb(s);
		if (!rc)
			rc = ipam_smb_remove_tree(s->smb, u->target);
		break;
	case UNDO_MEMBER:
		rc = ipam_gpo_modify1(s, u->target, IPAM_LDAPCONN_MOD_DELETE,
				      "member", u->arg);
		break;
	case UNDO_LINK: {
		char *gl = NULL;
		struct strbuf nl = STRBUF_INIT;

		rc = ipam_gpo_read_first(s, &gl, s->domain_dn,
					 IPAM_LDAPCONN_BASE, "(objectClass=*)",
					 "gPLink", false);
		if (!rc && gl) {
			ipam_gplink_remove(&nl, gl, u->target);
			rc = ipam_gpo_write_gplink(s, gl, nl.buf);
		}
		free(gl);
		strbuf_release(&nl);
		break;
	}
	case UNDO_DNS_ACE: {
		struct ipam_sid g;
		struct ipam_ace a;
		bool done;

		rc = ipam_sid_parse(&g, u->arg, NULL);
		a = ipam_gpo_dns_ace(&g);
		if (!rc)
			rc = ipam_gpo_edit_dacl(s, u->target, &a, false, &done);
		break;
	}
	}
	if (rc && rc != IPAM_ENOTFOUND)
		strbuf_addf(failed, "; %s %s failed: %s", undo_what[u->kind],
			    u->target, ipam_error_last());
	else
		log_notice("%s: rolled back: %s %s%s%s", s->dom->name,
			   undo_what[u->kind], u->target,
			   u->kind == UNDO_MEMBER ? " loses " : "",
			   u->kind == UNDO_MEMBER ? u->arg : "");
}

int ipam_gpo_provision(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
		       size_t *changes)
{
	size_t before = s->changes;
	int rc;

	ipam_gpo_undo_release(s);
	s->journal = !s->o.dry_run;
	rc = ipam_gpo_ensure_group(s, st);
	if (!rc)
		rc = ipam_gpo_ensure_dc_grants(s, st);
	for (size_t k = 0; !rc && k < IPAM_GPO_COUNT; k++) {
		rc = ipam_gpo_ensure_gpo(s, st, ipam_gpo_all_kinds[k]);
		if (!rc)
			rc = ipam_gpo_ensure_settings(s, st,
						      ipam_gpo_all_kinds[k]);
		if (!rc && s->d->filtering == IPAM_FILTERING_GROUP)
			rc = ipam_gpo_ensure_filter_group(
				s, st, ipam_gpo_all_kinds[k]);
		if (!rc)
			rc = ipam_gpo_ensure_dacl(s, st, ipam_gpo_all_kinds[k],
						  NULL);
		if (!rc)
			rc = ipam_gpo_ensure_link(s, st, ipam_gpo_all_kinds[k]);
	}
	if (rc && s->nr_undo) {
		char *msg = xstrdup(ipam_error_last());
		struct strbuf failed = STRBUF_INIT;

		log_notice("%s: rolling back the %zu step(s) this run made",
			   s->dom->name, s->nr_undo);
		for (size_t i = s->nr_undo; i-- > 0;)
			undo_one(s, &s->undo[i], &failed);
		/* A step that could not be undone is the caller's to see,
		 * with the error that made the run fail. */
		if (failed.len)
			ipam_error_set(rc, "%s (rollback incomplete%s)", msg,
				       failed.buf);
		else
			ipam_error_set(rc, "%s (rolled back)", msg);
		strbuf_release(&failed);
		free(msg);
	}
	s->journal = false;
	ipam_gpo_undo_release(s);
	*changes = s->changes - before;
	return rc;
}
