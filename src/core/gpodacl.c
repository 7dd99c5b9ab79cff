#include "gpodacl.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "folderacl.h"
#include "banned.h"

#define AU_SID "S-1-5-11"

static char *sid_text(const struct ipam_sid *sid)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_sid_format(&sb, sid);
	return strbuf_detach(&sb, NULL);
}

/* The AclSize field of the DACL as ipam_sd_write writes sd; 0 when it
 * does not write. */
static size_t acl_size(const struct ipam_sd *sd)
{
	struct strbuf sb = STRBUF_INIT;
	size_t size = 0;

	if (!ipam_sd_write(&sb, sd) && sb.len >= 20) {
		const unsigned char *p = (const unsigned char *)sb.buf;
		size_t off = (size_t)p[16] | (size_t)p[17] << 8 |
			     (size_t)p[18] << 16 | (size_t)p[19] << 24;

		if (off + 4 <= sb.len)
			size = (size_t)p[off + 2] | (size_t)p[off + 3] << 8;
	}
	strbuf_release(&sb);
	return size;
}

void ipam_gpodacl_decode(struct ipam_gpo_obs *g, const char *ipamug_sid,
			 const char *const *editor_sids, size_t nr_editors)
{
	const struct ipam_acl *acl = g->sd ? g->sd->dacl : NULL;
	struct ipam_gpo_trustees explicit_apply = {0};
	bool ipamug_edit = false;
	size_t editors_ok = 0;

	g->au_read = g->au_apply = false;
	ipam_gpo_trustees_release(&g->readers);
	ipam_gpo_trustees_release(&g->appliers);
	ipam_gpo_trustees_release(&g->editors);
	ipam_gpo_trustees_release(&g->filtering);
	for (size_t i = 0; acl && i < acl->count; i++) {
		const struct ipam_ace *a = &acl->aces[i];
		char *sid;

		if (a->type != IPAM_ACE_ALLOWED &&
		    a->type != IPAM_ACE_ALLOWED_OBJECT)
			continue;
		sid = sid_text(&a->sid);
		if (a->type == IPAM_ACE_ALLOWED &&
		    (a->mask & IPAM_SD_MASK_GPO_READ) ==
			    IPAM_SD_MASK_GPO_READ) {
			ipam_gpo_trustees_add(&g->readers, sid);
			if (!strcmp(sid, AU_SID))
				g->au_read = true;
		}
		if (a->type == IPAM_ACE_ALLOWED_OBJECT &&
		    (a->mask & IPAM_SD_MASK_CR) && a->has_object_type &&
		    !memcmp(&a->object_type, &ipam_guid_apply_group_policy,
			    sizeof(a->object_type))) {
			ipam_gpo_trustees_add(&g->appliers, sid);
			if (!(a->flags & IPAM_ACE_ID))
				ipam_gpo_trustees_add(&explicit_apply, sid);
			if (!strcmp(sid, AU_SID))
				g->au_apply = true;
		}
		if (a->type == IPAM_ACE_ALLOWED &&
		    (a->mask & IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY) ==
			    IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY &&
		    !(a->flags & IPAM_ACE_IO)) {
			ipam_gpo_trustees_add(&g->editors, sid);
			if (ipamug_sid && !strcmp(sid, ipamug_sid))
				ipamug_edit = true;
		}
		free(sid);
	}
	/* Filtering: explicit apply and read, AU aside.  An inherited
	 * apply grant is not the GPO's own and no filter edit can take it
	 * out. */
	for (size_t i = 0; i < explicit_apply.nr; i++) {
		const char *sid = explicit_apply.v[i].sid;

		if (!strcmp(sid, AU_SID))
			continue;
		for (size_t j = 0; j < g->readers.nr; j++)
			if (!strcmp(g->readers.v[j].sid, sid)) {
				ipam_gpo_trustees_add(&g->filtering, sid);
				break;
			}
	}
	ipam_gpo_trustees_release(&explicit_apply);
	for (size_t i = 0; i < nr_editors; i++)
		for (size_t j = 0; j < g->editors.nr; j++)
			if (!strcmp(g->editors.v[j].sid, editor_sids[i])) {
				editors_ok++;
				break;
			}
	g->dacl_current = g->au_read && !g->au_apply && ipamug_edit &&
			  editors_ok == nr_editors;
	g->dacl_size = acl ? acl_size(g->sd) : 0;
}

size_t ipam_gpodacl_bytes(const struct ipam_sd *sd)
{
	size_t n = 8;

	for (size_t i = 0; sd->dacl && i < sd->dacl->count; i++) {
		const struct ipam_ace *a = &sd->dacl->aces[i];
		size_t sz = 8 + 8 + 4 * (size_t)a->sid.sub_count;

		if (a->type == IPAM_ACE_ALLOWED_OBJECT ||
		    a->type == IPAM_ACE_DENIED_OBJECT ||
		    a->type == IPAM_ACE_AUDIT_OBJECT ||
		    a->type == IPAM_ACE_ALARM_OBJECT)
			sz += 4 + 16 * (a->has_object_type +
					a->has_inherited_object_type);
		sz += a->extra_len;
		n += (sz + 3) & ~(size_t)3;
	}
	return n;
}

static struct ipam_ace plain_ace(uint32_t mask, const struct ipam_sid *sid)
{
	struct ipam_ace a = {0};

	a.type = IPAM_ACE_ALLOWED;
	a.flags = IPAM_ACE_CI;
	a.mask = mask;
	a.sid = *sid;
	return a;
}

/* Filter the computers of sids in (add) or out; *changed counts those
 * whose entries changed. */
static int filter_edit(struct ipam_sd *sd, const char *const *sids, size_t nr,
		       bool add, size_t *changed)
{
	struct ipam_sid sid;
	int n;

	for (size_t i = 0; i < nr; i++) {
		if (ipam_sid_parse(&sid, sids[i], NULL))
			return ipam_error_prefix(IPAM_EINVAL, "filtering");
		n = add ? ipam_sd_filter_add(sd, &sid)
			: ipam_sd_filter_remove(sd, &sid);
		if (n < 0)
			return n;
		if (n > 0)
			(*changed)++;
	}
	return 0;
}

/* Authenticated Users read without apply; IPAMUG and the delegated users
 * edit, delete and modify security. */
static int grant_base(struct ipam_sd *sd, struct strbuf *what,
		      const struct ipam_gpodacl_want *w)
{
	struct ipam_sid au, sid;
	struct ipam_ace a;
	int rc = 0, n;

	ipam_sid_parse(&au, AU_SID, NULL);
	if (ipam_sd_ace_remove(sd, IPAM_ACE_ALLOWED_OBJECT, &au,
			       &ipam_guid_apply_group_policy) > 0)
		strbuf_addstr(what, "Authenticated Users loses apply");
	a = plain_ace(IPAM_SD_MASK_GPO_READ, &au);
	if (ipam_sd_ace_add(sd, &a) > 0)
		strbuf_addf(what, "%sAuthenticated Users may read",
			    what->len ? ", " : "");
	for (size_t i = 0; !rc && i <= w->nr_editors; i++) {
		const char *t =
			i < w->nr_editors ? w->editor_sids[i] : w->ipamug_sid;

		rc = ipam_sid_parse(&sid, t, NULL);
		if (rc)
			break;
		a = plain_ace(IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY, &sid);
		n = ipam_sd_ace_add(sd, &a);
		if (n > 0)
			strbuf_addf(what,
				    "%s%s may edit, delete, modify "
				    "security",
				    what->len ? ", " : "",
				    i < w->nr_editors ? w->editor_names[i]
						      : "IPAMUG");
		rc = n < 0 ? n : 0;
	}
	return rc;
}

int ipam_gpodacl_plan(struct ipam_gpodacl_plan *out,
		      const struct ipam_sd *observed,
		      const struct ipam_gpodacl_want *w)
{
	int rc, n;

	memset(out, 0, sizeof(*out));
	strbuf_init(&out->what);
	out->sd = ipam_sd_dup(observed);
	rc = grant_base(out->sd, &out->what, w);
	if (!rc)
		rc = filter_edit(out->sd, w->add_sids, w->nr_add, true,
				 &out->added);
	if (!rc)
		rc = filter_edit(out->sd, w->remove_sids, w->nr_remove, false,
				 &out->removed);
	if (rc)
		goto fail;
	n = ipam_folderacl_fold_duplicates(out->sd);
	if (n > 0)
		strbuf_addf(&out->what,
			    "%s%d ACE%s folded into another that maps to the "
			    "same folder ACE",
			    out->what.len ? ", " : "", n, n == 1 ? "" : "s");
	out->size = ipam_gpodacl_bytes(out->sd);
	if (out->size > IPAM_GPO_ACL_MAX) {
		size_t base = ipam_gpodacl_bytes(observed);

		rc = ipam_error_set(
			IPAM_ELIMIT,
			"%s: the DACL would need %zu bytes, over the "
			"64 KiB (%u-byte) limit of an AD ACL; with %zu bytes "
			"in use, about %zu more computers fit (2 ACEs, ~92 "
			"bytes each): filter by group instead, or split the "
			"servers; nothing was written",
			w->label, out->size, IPAM_GPO_ACL_MAX, base,
			base < IPAM_GPO_ACL_MAX ? (IPAM_GPO_ACL_MAX - base) / 92
						: 0);
		goto fail;
	}
	if (out->added || out->removed)
		strbuf_addf(&out->what, "%sfiltering +%zu -%zu",
			    out->what.len ? ", " : "", out->added,
			    out->removed);
	return 0;
fail:
	ipam_gpodacl_plan_release(out);
	return rc;
}

void ipam_gpodacl_plan_release(struct ipam_gpodacl_plan *p)
{
	ipam_sd_free(p->sd);
	p->sd = NULL;
	strbuf_release(&p->what);
}
