#define _GNU_SOURCE /* strptime, timegm */
#include "gposettings.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

bool ipam_gposettings_same(const struct strbuf *present, bool is_present,
			   const struct ipam_pol_file *want)
{
	return is_present && present->len == want->data.len &&
	       !memcmp(present->buf, want->data.buf, present->len);
}

/* What the plan does when no settings file changes. */
static void describe_rest(struct ipam_gposettings_plan *p,
			  const struct ipam_gpo_obs *g, const char *ext)
{
	if (!p->files && p->bump)
		strbuf_addstr(&p->what, strcmp(ext, g->machine_ext)
						? "extension names"
						: "GPT.INI version");
	if (p->fix_attrs)
		strbuf_addf(&p->what,
			    "%scomputer side enabled, functionality 2",
			    p->what.len ? ", " : "");
}

bool ipam_gposettings_plan(struct ipam_gposettings_plan *out,
			   const struct ipam_gpo_obs *g,
			   const struct ipam_pol_set *set,
			   const struct strbuf *present, const bool *is_present,
			   const char *ext)
{
	memset(out, 0, sizeof(*out));
	strbuf_init(&out->what);
	for (size_t i = 0; i < set->nr; i++) {
		out->write[i] = !ipam_gposettings_same(
			&present[i], is_present[i], &set->files[i]);
		if (out->write[i]) {
			strbuf_addf(&out->what, "%s%s", out->files ? ", " : "",
				    set->files[i].path);
			out->files = true;
		}
	}
	/* What nobody declared goes: the GPO holds its desired state. */
	for (size_t i = 0; i < g->nr_foreign; i++) {
		strbuf_addf(&out->what, "%sremove %s", out->files ? ", " : "",
			    g->foreign[i].path);
		out->files = true;
	}
	out->bump = out->files || strcmp(ext, g->machine_ext) ||
		    !g->gpt_present || g->gpt_version != g->version;
	out->fix_attrs = g->functionality_version != 2 || (g->flags & 2);
	out->flags = g->flags & ~2L;
	out->version = g->version;
	/* GPT.INI ahead of AD (a half-done write): go past both, so that
	 * clients see a change whichever copy they read. */
	if (out->bump)
		out->version = ipam_gpt_bump_machine(
			g->gpt_present && g->gpt_version > g->version
				? g->gpt_version
				: g->version);
	if (!out->bump && !out->fix_attrs)
		return false;
	describe_rest(out, g, ext);
	return true;
}

void ipam_gposettings_plan_release(struct ipam_gposettings_plan *p)
{
	strbuf_release(&p->what);
}

void ipam_gposettings_applied(struct ipam_gpo_obs *g,
			      const struct ipam_gposettings_plan *p,
			      const char *ext)
{
	g->version = g->gpt_version = p->version;
	g->gpt_present = true;
	free(g->machine_ext);
	g->machine_ext = xstrdup(ext);
	g->ext_current = true;
	g->functionality_version = 2;
	g->flags &= ~2L;
	g->settings_current = true;
	for (size_t i = 0; i < g->nr_files; i++) {
		g->files[i].current = g->files[i].present = true;
		/* what was read is gone */
		ipam_gpo_file_content_release(&g->files[i]);
	}
	ipam_gpo_obs_release_foreign(g);
}

int ipam_gposettings_parse_changed(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *e;

	if (!s)
		return -1;
	e = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!e || *e)
		return -1;
	*out = timegm(&tm);
	return 0;
}
