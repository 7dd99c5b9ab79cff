/*
 * The GPO engine's SYSVOL side: the settings files (read, compared,
 * rendered, written), the files nobody declared, GPT.INI and the folders,
 * and the folder ACL Samba derives from the GPO's DACL.
 */
#include "gpo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "folderacl.h"
#include "gpo_internal.h"
#include "gposettings.h"
#include "gpoview.h"
#include "polfile.h"
#include "secedit.h"
#include "sha256.h"
#include "smb.h"
#include "strbuf.h"
#include "banned.h"

/* Bounds on the walk of a GPO folder for files nobody declared. */
#define FOREIGN_MAX_DEPTH   8
#define FOREIGN_MAX_ENTRIES 2000
#define SECEDIT_PATH	    "Machine\\Microsoft\\Windows NT\\SecEdit\\GptTmpl.inf"

/* ---- the folder ACL -------------------------------------------------------
 */

static void check_folder(struct ipam_gpo_session *s, struct ipam_gpo_obs *g)
{
	struct strbuf want = STRBUF_INIT, path = STRBUF_INIT, got = STRBUF_INIT;

	free(g->folder_want);
	free(g->folder_sddl);
	g->folder_want = g->folder_sddl = NULL;
	g->folder_consistent = false;
	if (ipam_folderacl_want(&want, g->sd))
		goto out;
	g->folder_want = strbuf_detach(&want, NULL);
	ipam_gpo_path(&path, s, g->guid, NULL);
	free(g->folder_error);
	g->folder_error = NULL;
	if (ipam_smb_acl_get(&got, s->smb, path.buf)) {
		g->folder_error = xstrdup(ipam_error_last());
		goto out;
	}
	g->folder_sddl = strbuf_detach(&got, NULL);
	g->folder_consistent = ipam_folderacl_same(g->folder_sddl,
						   g->folder_want, &s->dom_sid);
out:
	strbuf_release(&want);
	strbuf_release(&path);
	strbuf_release(&got);
}

int ipam_gpo_sync_folder(struct ipam_gpo_session *s, struct ipam_gpo_obs *g,
			 struct ipam_sd *sd)
{
	struct ipam_sd *fs = NULL, *applied_sd = NULL;
	struct strbuf sddl = STRBUF_INIT, applied = STRBUF_INIT,
		      path = STRBUF_INIT;
	int rc;

	rc = ipam_gpo_need_smb(s);
	if (!rc)
		rc = ipam_sd_to_fs(&fs, sd);
	if (!rc)
		rc = ipam_sd_to_sddl(&sddl, fs, NULL);
	ipam_gpo_path(&path, s, g->guid, NULL);
	if (!rc)
		rc = ipam_smb_acl_set(&applied, s->smb, path.buf, sddl.buf);
	if (!rc)
		rc = ipam_sd_from_sddl(&applied_sd, applied.buf, &s->dom_sid);
	if (!rc)
		rc = ipam_folderacl_order_like(sd, applied_sd);
	if (!rc) {
		free(g->folder_sddl);
		g->folder_sddl = strbuf_detach(&applied, NULL);
	}
	ipam_sd_free(fs);
	ipam_sd_free(applied_sd);
	strbuf_release(&sddl);
	strbuf_release(&applied);
	strbuf_release(&path);
	return rc;
}

void ipam_gpo_folder_recheck(const struct ipam_gpo_session *s,
			     struct ipam_gpo_obs *g)
{
	struct strbuf want = STRBUF_INIT;

	if (!ipam_folderacl_want(&want, g->sd)) {
		g->folder_consistent = ipam_folderacl_same(
			want.buf, g->folder_sddl, &s->dom_sid);
		free(g->folder_want);
		g->folder_want = strbuf_detach(&want, NULL);
	}
	strbuf_release(&want);
}

/* ---- settings files ------------------------------------------------------ */

/* Render file i of the set again with the given changed time. */
static int render_one(struct strbuf *out, const char *path,
		      enum ipam_pol_gpo kind, const struct ipam_gpp_params *p)
{
	if (strstr(path, "Groups.xml"))
		return ipam_gpp_groups_xml(out, kind, p);
	if (strstr(path, "NetworkShares.xml"))
		return ipam_gpp_shares_xml(out, kind, p);
	if (strstr(path, "Registry.xml"))
		return ipam_gpp_registry_xml(out, kind, p);
	return IPAM_ENOTFOUND;
}

int ipam_gpo_render_settings(struct ipam_gpo_session *s,
			     const struct ipam_gpo_state *st,
			     const struct ipam_gpo_obs *g,
			     struct ipam_pol_set *set, struct strbuf *present,
			     bool *is_present)
{
	struct ipam_gpp_params p = {0};
	struct strbuf name = STRBUF_INIT;
	int rc;

	strbuf_addf(&name, "%s\\%s", s->netbios, GROUP_NAME);
	p.gpo_guid = g->guid;
	p.ipamug_name = name.buf;
	p.ipamug_sid = st->ipamug.sid;
	p.changed = time(NULL);
	rc = ipam_pol_render_set(set, g->kind, &p);
	for (size_t i = 0; !rc && i < set->nr; i++) {
		struct ipam_pol_file *f = &set->files[i];
		struct strbuf path = STRBUF_INIT;
		struct ipam_gpp_file x = {0};
		time_t t;

		is_present[i] = false;
		ipam_gpo_path(&path, s, g->guid, f->path);
		rc = ipam_smb_read(&present[i], s->smb, path.buf, MAX_SETTING);
		strbuf_release(&path);
		if (rc == IPAM_ENOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		is_present[i] = true;
		if (!ipam_gpp_parse(&x, present[i].buf, present[i].len) &&
		    x.nr &&
		    !ipam_gposettings_parse_changed(x.items[0].changed, &t)) {
			p.changed = t;
			strbuf_reset(&f->data);
			rc = render_one(&f->data, f->path, g->kind, &p);
			if (!rc)
				ipam_sha256(f->sha256, f->data.buf,
					    f->data.len);
		}
		ipam_gpp_file_release(&x);
	}
	strbuf_release(&name);
	return rc;
}

/* What a security template put into an IPAM GPO does to IPAM's access. */
static char *secedit_note(struct ipam_gpo_session *s,
			  const struct ipam_gpo_state *st,
			  const struct ipam_gpo_obs *g, const char *rel)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT,
		      note = STRBUF_INIT, name = STRBUF_INIT;
	struct ipam_inf inf;

	ipam_gpo_path(&path, s, g->guid, rel);
	strbuf_addstr(&note, "security template");
	if (ipam_smb_read(&data, s->smb, path.buf, IPAM_INF_MAX + 1) ||
	    ipam_inf_parse(&inf, data.buf, data.len)) {
		strbuf_addf(&note, ", unreadable: %s", ipam_error_last());
	} else {
		size_t at;

		strbuf_addf(&name, "%s\\%s", s->netbios, GROUP_NAME);
		strbuf_addstr(&note, ": ");
		at = note.len;
		ipam_inf_ipam_conflicts(&note, &inf, st->ipamug.sid, name.buf);
		if (note.len == at)
			strbuf_addstr(&note, "leaves IPAM's groups alone");
		ipam_inf_release(&inf);
	}
	strbuf_release(&path);
	strbuf_release(&data);
	strbuf_release(&name);
	return strbuf_detach(&note, NULL);
}

/*
 * Collect the files under rel (NULL: the GPO folder) that are neither
 * GPT.INI nor one of set's: a GPO ipamctl owns holds what its desired
 * state declares and nothing else.
 */
static int walk_foreign(struct ipam_gpo_session *s,
			const struct ipam_gpo_state *st, struct ipam_gpo_obs *g,
			const struct ipam_pol_set *set, const char *rel,
			int depth, size_t *seen, size_t *alloc)
{
	struct ipam_smb_dirent *d = NULL;
	struct strbuf path = STRBUF_INIT;
	size_t nr = 0;
	int rc;

	ipam_gpo_path(&path, s, g->guid, rel);
	rc = ipam_smb_list(&d, &nr, s->smb, path.buf);
	strbuf_release(&path);
	if (rc == IPAM_ENOTFOUND)
		return 0; /* no folder yet (a half-made GPO), or just removed */
	if (rc)
		return rc;
	*seen += nr;
	if (*seen > FOREIGN_MAX_ENTRIES || depth > FOREIGN_MAX_DEPTH)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "%s: SYSVOL folder of %s holds more than "
				    "%d entries or %d levels",
				    s->dom->name, g->name, FOREIGN_MAX_ENTRIES,
				    FOREIGN_MAX_DEPTH);
	for (size_t i = 0; !rc && i < nr; i++) {
		char *child = rel ? xasprintf("%s\\%s", rel, d[i].name)
				  : xstrdup(d[i].name);
		bool known = !rel && !strcasecmp(d[i].name, "GPT.INI");

		for (size_t f = 0; !known && f < set->nr; f++)
			known = !strcasecmp(child, set->files[f].path);
		if (d[i].is_dir) {
			rc = walk_foreign(s, st, g, set, child, depth + 1, seen,
					  alloc);
		} else if (!known) {
			struct ipam_gpo_foreign *x;

			ALLOC_GROW(g->foreign, g->nr_foreign + 1, *alloc);
			x = &g->foreign[g->nr_foreign++];
			x->note = !strcasecmp(child, SECEDIT_PATH)
					  ? secedit_note(s, st, g, child)
					  : NULL;
			x->path = child;
			child = NULL;
		}
		free(child);
	}
	ipam_smb_dirents_free(d, nr);
	return rc;
}

static int read_settings(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 struct ipam_gpo_obs *g)
{
	struct ipam_pol_set set = {0};
	struct strbuf present[IPAM_POL_MAX_FILES];
	bool is_present[IPAM_POL_MAX_FILES] = {0};
	struct strbuf ext = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_init(&present[i]);
	g->settings_current = false;
	for (size_t i = 0; i < g->nr_files; i++)
		ipam_gpo_file_content_release(&g->files[i]);
	g->nr_files = 0;
	rc = ipam_gpt_ext_for_gpo(&ext, g->kind);
	if (!rc)
		g->ext_current = !strcmp(ext.buf, g->machine_ext);
	if (!rc && st->ipamug.sid)
		rc = ipam_gpo_render_settings(s, st, g, &set, present,
					      is_present);
	if (rc)
		goto out;
	if (!st->ipamug.sid) {
		/* Nothing to compare with: report what is there. */
		rc = ipam_pol_render_set(
			&set, g->kind,
			&(struct ipam_gpp_params){g->guid, "X\\IPAMUG",
						  "S-1-5-32-0", 0});
		for (size_t i = 0; !rc && i < set.nr; i++) {
			struct strbuf path = STRBUF_INIT;

			ipam_gpo_path(&path, s, g->guid, set.files[i].path);
			rc = ipam_smb_read(&present[i], s->smb, path.buf,
					   MAX_SETTING);
			strbuf_release(&path);
			is_present[i] = !rc;
			if (rc == IPAM_ENOTFOUND)
				rc = 0;
		}
		if (rc)
			goto out;
	}
	g->settings_current = st->ipamug.sid != NULL;
	for (size_t i = 0; i < set.nr; i++) {
		struct ipam_gpo_file_state *f = &g->files[g->nr_files++];
		f->path = set.files[i].path;
		f->present = is_present[i];
		f->sha256[0] = '\0';
		if (f->present) {
			ipam_sha256_hex(f->sha256, present[i].buf,
					present[i].len);
			ipam_gpoview_file_content(f, present[i].buf,
						  present[i].len);
		}
		f->current = st->ipamug.sid &&
			     ipam_gposettings_same(&present[i], f->present,
						   &set.files[i]);
		if (!f->current)
			g->settings_current = false;
	}
	ipam_gpo_obs_release_foreign(g);
	{
		size_t seen = 0, alloc = 0;

		rc = walk_foreign(s, st, g, &set, NULL, 0, &seen, &alloc);
	}
	if (g->nr_foreign)
		g->settings_current = false;
out:
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_release(&present[i]);
	ipam_pol_set_release(&set);
	strbuf_release(&ext);
	return rc;
}

int ipam_gpo_read_sysvol(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 struct ipam_gpo_obs *g)
{
	struct strbuf path = STRBUF_INIT, ini = STRBUF_INIT;
	int rc, exists = 0;

	rc = ipam_gpo_need_smb(s);
	if (rc)
		return rc;
	/* No folder at all (a run killed before making it): a missing
	 * part, to be made with its ACL, not an unreadable one. */
	ipam_gpo_path(&path, s, g->guid, NULL);
	rc = ipam_smb_exists(&exists, s->smb, path.buf);
	strbuf_reset(&path);
	if (!rc && !exists) {
		ipam_gpo_add_missing(g, "SYSVOL folder");
		strbuf_release(&path);
		return read_settings(s, st, g);
	}
	ipam_gpo_path(&path, s, g->guid, GPT_INI);
	rc = ipam_smb_read(&ini, s->smb, path.buf, 64 * 1024);
	if (!rc)
		g->gpt_present =
			!ipam_gpt_ini_parse(&g->gpt_version, ini.buf, ini.len);
	else if (rc == IPAM_ENOTFOUND)
		rc = 0;
	strbuf_release(&path);
	strbuf_release(&ini);
	for (size_t i = 0; !rc && i < 2; i++) {
		static const char *const dirs[] = {"Machine", "User"};
		struct strbuf p = STRBUF_INIT;

		ipam_gpo_path(&p, s, g->guid, dirs[i]);
		rc = ipam_smb_exists(&exists, s->smb, p.buf);
		if (!rc && !exists)
			ipam_gpo_add_missing(g, "SYSVOL %s\\ folder", dirs[i]);
		strbuf_release(&p);
	}
	if (!rc)
		rc = read_settings(s, st, g);
	if (!rc)
		check_folder(s, g);
	return rc;
}

/* ---- writing --------------------------------------------------------------
 */

int ipam_gpo_write_gpt_ini(struct ipam_gpo_session *s, const char *guid,
			   uint32_t version)
{
	struct strbuf path = STRBUF_INIT, ini = STRBUF_INIT;
	int rc;

	ipam_gpo_path(&path, s, guid, GPT_INI);
	rc = ipam_gpt_ini_write(&ini, version);
	if (!rc)
		rc = ipam_smb_write(s->smb, path.buf, ini.buf, ini.len);
	strbuf_release(&path);
	strbuf_release(&ini);
	return rc;
}

int ipam_gpo_make_dirs(struct ipam_gpo_session *s, const char *guid)
{
	static const char *const dirs[] = {"Machine", "User"};
	int rc = ipam_gpo_need_smb(s);

	for (size_t i = 0; !rc && i < 2; i++) {
		struct strbuf p = STRBUF_INIT;

		ipam_gpo_path(&p, s, guid, dirs[i]);
		rc = ipam_smb_mkdir_p(s->smb, p.buf);
		strbuf_release(&p);
	}
	return rc;
}

int ipam_gpo_make_folder(struct ipam_gpo_session *s, const char *guid,
			 uint32_t version)
{
	int rc = ipam_gpo_make_dirs(s, guid);

	if (!rc)
		rc = ipam_gpo_write_gpt_ini(s, guid, version);
	return rc;
}

/* "Machine\\Preferences\\Groups\\Groups.xml" -> its folder, '/'-separated */
static void parent_dir(struct strbuf *out, const struct ipam_gpo_session *s,
		       const char *guid, const char *rel)
{
	const char *slash = strrchr(rel, '\\');
	char *dir = xasprintf("%.*s", slash ? (int)(slash - rel) : 0, rel);

	ipam_gpo_path(out, s, guid, dir);
	free(dir);
}

int ipam_gpo_write_files(struct ipam_gpo_session *s,
			 const struct ipam_gpo_obs *g,
			 const struct ipam_pol_set *set, const bool *write)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < set->nr; i++) {
		struct strbuf p = STRBUF_INIT;

		if (!write[i])
			continue;
		parent_dir(&p, s, g->guid, set->files[i].path);
		rc = ipam_smb_mkdir_p(s->smb, p.buf);
		strbuf_reset(&p);
		ipam_gpo_path(&p, s, g->guid, set->files[i].path);
		if (!rc)
			rc = ipam_smb_write(s->smb, p.buf,
					    set->files[i].data.buf,
					    set->files[i].data.len);
		strbuf_release(&p);
	}
	for (size_t i = 0; !rc && i < g->nr_foreign; i++) {
		struct strbuf p = STRBUF_INIT;

		ipam_gpo_path(&p, s, g->guid, g->foreign[i].path);
		rc = ipam_smb_remove(s->smb, p.buf);
		if (rc == IPAM_ENOTFOUND)
			rc = 0;
		strbuf_release(&p);
	}
	return rc;
}
