/*
 * The GPO engine's DACL writes: a GPO's DACL (what core/gpodacl decides,
 * written to AD once the SYSVOL folder took its mapping) and the DC-side
 * grants (Event Log Readers, the DNS container's ACL).
 */
#include "gpo.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "gpo_internal.h"
#include "gpodacl.h"
#include "ldapconn.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

struct ipam_ace ipam_gpo_dns_ace(const struct ipam_sid *sid)
{
	struct ipam_ace a = {0};

	a.type = IPAM_ACE_ALLOWED;
	a.flags = IPAM_ACE_CI;
	a.mask = DNS_ACE_MASK;
	a.sid = *sid;
	return a;
}

/*
 * Samba keeps a folder's ACL in its security.NTACL extended attribute:
 * ext4 holds about 4 KiB of attributes per file (some three dozen
 * filtered computers), XFS and tmpfs 64 KiB.  Say so when the DC refuses
 * the folder ACL of a grown DACL (nothing was written to AD yet).
 */
static int folder_refused(int rc, const struct ipam_gpo_session *s,
			  const struct ipam_gpo_obs *g,
			  const struct ipam_sd *sd)
{
	const char *e = ipam_error_last();
	size_t n = sd->dacl ? sd->dacl->count : 0;

	if (strstr(e, "DISK_FULL"))
		return ipam_error_prefix(
			IPAM_ELIMIT,
			"%s: GPO %s: %s could not store the SYSVOL folder ACL "
			"of %zu ACEs: Samba keeps it in an extended attribute, "
			"which its file system limits (ext4: about 4 KiB, some "
			"36 filtered computers; XFS or tmpfs: 64 KiB); nothing "
			"was written to AD",
			s->dom->name, g->name, s->dc, n);
	if (strstr(e, "ACCESS_DENIED") && ipam_gpodacl_bytes(sd) > 32768)
		return ipam_error_prefix(
			IPAM_ELIMIT,
			"%s: GPO %s: %s refused a SYSVOL folder ACL of %zu "
			"ACEs "
			"(%zu bytes in AD), at Samba's 64 KiB limit for ACLs "
			"stored in extended attributes; nothing was written to "
			"AD",
			s->dom->name, g->name, s->dc, n,
			ipam_gpodacl_bytes(sd));
	return rc;
}

/* The folder first (it is the one a DC may refuse), then AD when the
 * DACL changed, then g as AD now has it. */
static int write_dacl(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
		      struct ipam_gpo_obs *g, struct ipam_sd *sd,
		      const char *const *eds, size_t nr_eds)
{
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	int rc;

	rc = ipam_gpo_sync_folder(s, g, sd);
	if (rc)
		rc = folder_refused(rc, s, g, sd);
	if (!rc)
		rc = ipam_sd_write(&before, g->sd);
	if (!rc)
		rc = ipam_sd_write(&after, sd);
	if (!rc && (before.len != after.len ||
		    memcmp(before.buf, after.buf, before.len)))
		rc = ipam_ldapconn_write_sd(s->ldap, g->dn, after.buf,
					    after.len, IPAM_LDAPCONN_SD_DACL);
	if (!rc)
		rc = ipam_gpo_read_sd(s, g);
	if (!rc) {
		ipam_gpodacl_decode(g, st->ipamug.sid, eds, nr_eds);
		ipam_gpo_folder_recheck(s, g);
	}
	strbuf_release(&before);
	strbuf_release(&after);
	return rc;
}

int ipam_gpo_ensure_dacl(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind,
			 struct ipam_gpo_filter_change *fc)
{
	struct ipam_gpo_obs *g = ipam_gpo_obs_of(st, kind);
	struct ipam_gpodacl_want w = {0};
	struct ipam_gpodacl_plan p = {0};
	const char **names = NULL, **adds = NULL;
	const char *fsid =
		s->d->filtering == IPAM_FILTERING_GROUP ? g->fgroup.sid : NULL;
	char **eds = NULL, *label = NULL;
	size_t nr_eds = 0;
	int rc;

	if (fc) {
		w.add_sids = fc->add_sids;
		w.nr_add = fc->nr_add;
		w.remove_sids = fc->remove_sids;
		w.nr_remove = fc->nr_remove;
	}
	if (!g->exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no GPO %s",
				      s->dom->name, g->name);
	if (g->planned || !st->ipamug.sid ||
	    (s->d->filtering == IPAM_FILTERING_GROUP && !fsid)) {
		ipam_gpo_report(s, IPAM_GPO_UPDATE,
				"GPO %s security: Authenticated Users read "
				"only, " GROUP_NAME " may edit%s",
				g->name,
				w.nr_add || w.nr_remove ? ", filtering changed"
							: "");
		return 0;
	}
	rc = ipam_gpo_delegated_sids(s, &eds, &nr_eds);
	if (rc)
		return rc;
	names = xcalloc(nr_eds ? nr_eds : 1, sizeof(*names));
	for (size_t i = 0; i < nr_eds; i++)
		names[i] = s->d->delegated_users[i].value;
	if (fsid) {
		/* Group mode: the filter group is always filtered in. */
		adds = xcalloc(w.nr_add + 1, sizeof(*adds));
		for (size_t i = 0; i < w.nr_add; i++)
			adds[i] = w.add_sids[i];
		adds[w.nr_add] = fsid;
		w.add_sids = adds;
		w.nr_add++;
	}
	label = xasprintf("%s: GPO %s", s->dom->name, g->name);
	w.label = label;
	w.ipamug_sid = st->ipamug.sid;
	w.editor_sids = (const char *const *)eds;
	w.editor_names = names;
	w.nr_editors = nr_eds;
	rc = ipam_gpodacl_plan(&p, g->sd, &w);
	if (rc)
		goto out;
	if (fc) {
		fc->added = p.added;
		fc->removed = p.removed;
	}
	g->fgroup.ace = fsid != NULL;
	if (!p.what.len && (g->folder_consistent || g->folder_error))
		goto out;
	if (!p.what.len)
		strbuf_addstr(&p.what, "SYSVOL folder ACL made consistent");
	ipam_gpo_report(s, IPAM_GPO_UPDATE, "GPO %s security: %s", g->name,
			p.what.buf);
	if (!s->o.dry_run)
		rc = write_dacl(s, st, g, p.sd, (const char *const *)eds,
				nr_eds);
out:
	ipam_gpodacl_plan_release(&p);
	ipam_gpo_strv_free(eds, nr_eds);
	free(names);
	free(adds);
	free(label);
	return rc;
}

/* ---- DC-side grants -------------------------------------------------------
 */

int ipam_gpo_edit_dacl(struct ipam_gpo_session *s, const char *dn,
		       const struct ipam_ace *ace, bool add, bool *changed)
{
	struct strbuf raw = STRBUF_INIT, out = STRBUF_INIT;
	struct ipam_sd *sd = NULL;
	int rc, n = 0;

	*changed = false;
	rc = ipam_ldapconn_read_sd(&raw, s->ldap, dn, IPAM_LDAPCONN_SD_DACL);
	if (!rc)
		rc = ipam_sd_parse(&sd, raw.buf, raw.len);
	if (rc)
		goto out;
	if (add) {
		n = ipam_sd_ace_add(sd, ace);
	} else {
		long i;

		while ((i = ipam_sd_ace_find(sd, ace)) >= 0 && sd->dacl) {
			ipam_ace_clear(&sd->dacl->aces[i]);
			memmove(&sd->dacl->aces[i], &sd->dacl->aces[i + 1],
				(sd->dacl->count - (size_t)i - 1) *
					sizeof(*sd->dacl->aces));
			sd->dacl->count--;
			n++;
		}
	}
	if (n <= 0) {
		rc = n;
		goto out;
	}
	/* Inherited ACEs are the server's to compute when not protected. */
	if (!(sd->control & IPAM_SD_DACL_PROTECTED) && sd->dacl) {
		size_t k = 0;

		for (size_t i = 0; i < sd->dacl->count; i++) {
			if (sd->dacl->aces[i].flags & IPAM_ACE_ID)
				ipam_ace_clear(&sd->dacl->aces[i]);
			else
				sd->dacl->aces[k++] = sd->dacl->aces[i];
		}
		sd->dacl->count = k;
	}
	rc = ipam_sd_write(&out, sd);
	if (!rc)
		rc = ipam_ldapconn_write_sd(s->ldap, dn, out.buf, out.len,
					    IPAM_LDAPCONN_SD_DACL);
	*changed = rc == 0;
out:
	ipam_sd_free(sd);
	strbuf_release(&raw);
	strbuf_release(&out);
	return rc;
}

int ipam_gpo_ensure_dc_grants(struct ipam_gpo_session *s,
			      struct ipam_gpo_state *st)
{
	struct ipam_sid g;
	struct ipam_ace a;
	bool done;
	int rc;

	if (!st->ipamug.exists)
		return ipam_error_set(IPAM_ENOTFOUND, "%s: no " GROUP_NAME,
				      s->dom->name);
	if (!st->elr_member) {
		if (!st->elr_dn)
			return ipam_error_set(IPAM_ENOTFOUND,
					      "%s: no built-in Event Log "
					      "Readers group (" ELR_SID ")",
					      s->dom->name);
		ipam_gpo_report(s, IPAM_GPO_CREATE, GROUP_NAME " in %s",
				st->elr_dn);
		if (!s->o.dry_run) {
			rc = ipam_gpo_add_member(s, st->elr_dn, st->ipamug.dn,
						 &done);
			if (rc)
				return rc;
			if (done)
				ipam_gpo_journal(s, UNDO_MEMBER, st->elr_dn,
						 st->ipamug.dn);
		}
		st->elr_member = true;
	}
	if (!st->dns_container) {
		log_info("%s: no CN=MicrosoftDNS,CN=System: no DNS ACL to "
			 "grant",
			 s->dom->name);
		return 0;
	}
	if (st->dns_ace)
		return 0;
	ipam_gpo_report(s, IPAM_GPO_CREATE, "read for " GROUP_NAME " on %s",
			st->dns_container);
	st->dns_ace = true;
	if (s->o.dry_run)
		return 0;
	rc = ipam_sid_parse(&g, st->ipamug.sid, NULL);
	if (rc)
		return rc;
	a = ipam_gpo_dns_ace(&g);
	rc = ipam_gpo_edit_dacl(s, st->dns_container, &a, true, &done);
	if (!rc && done)
		ipam_gpo_journal(s, UNDO_DNS_ACE, st->dns_container,
				 st->ipamug.sid);
	return rc;
}
