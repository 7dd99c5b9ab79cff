#include "gpostate.h"

#include <stdlib.h>
#include <string.h>

#include "sd.h"
#include "strbuf.h"
#include "banned.h"

void ipam_gpo_trustees_add(struct ipam_gpo_trustees *t, const char *sid)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->v[i].sid, sid))
			return;
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr].sid = xstrdup(sid);
	t->v[t->nr].name = NULL;
	t->nr++;
}

void ipam_gpo_trustees_release(struct ipam_gpo_trustees *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		free(t->v[i].sid);
		free(t->v[i].name);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void ipam_gpo_obs_release_foreign(struct ipam_gpo_obs *g)
{
	for (size_t i = 0; i < g->nr_foreign; i++) {
		free(g->foreign[i].path);
		free(g->foreign[i].note);
	}
	free(g->foreign);
	g->foreign = NULL;
	g->nr_foreign = 0;
}

void ipam_gpo_file_content_release(struct ipam_gpo_file_state *f)
{
	for (size_t i = 0; i < f->nr_content; i++)
		free(f->content[i]);
	free(f->content);
	f->content = NULL;
	f->nr_content = 0;
}

void ipam_gpo_fgroup_release(struct ipam_gpo_fgroup *f)
{
	free(f->name);
	free(f->dn);
	free(f->sid);
	free(f->mark);
	ipam_gpo_trustees_release(&f->members);
	memset(f, 0, sizeof(*f));
}

void ipam_gpo_obs_release(struct ipam_gpo_obs *g)
{
	free(g->name);
	free(g->guid);
	free(g->dn);
	free(g->file_sys_path);
	free(g->mark);
	free(g->machine_ext);
	ipam_sd_free(g->sd);
	ipam_gpo_trustees_release(&g->readers);
	ipam_gpo_trustees_release(&g->appliers);
	ipam_gpo_trustees_release(&g->editors);
	ipam_gpo_trustees_release(&g->filtering);
	free(g->folder_sddl);
	free(g->folder_want);
	free(g->missing);
	free(g->folder_error);
	ipam_gpo_obs_release_foreign(g);
	for (size_t i = 0; i < g->nr_files; i++)
		ipam_gpo_file_content_release(&g->files[i]);
	ipam_gpo_fgroup_release(&g->fgroup);
}

void ipam_gpo_state_free(struct ipam_gpo_state *st)
{
	if (!st)
		return;
	free(st->domain);
	free(st->domain_dn);
	free(st->domain_sid);
	free(st->netbios);
	free(st->dc);
	free(st->prefix);
	free(st->ipam_server);
	free(st->server_dn);
	free(st->server_sid);
	free(st->foreign_domain);
	free(st->ipamug.dn);
	free(st->ipamug.sid);
	free(st->ipamug.mark);
	for (size_t i = 0; i < st->ipamug.nr_members; i++)
		free(st->ipamug.members[i]);
	free(st->ipamug.members);
	free(st->elr_dn);
	free(st->dns_container);
	free(st->gplink);
	for (size_t k = 0; k < IPAM_GPO_COUNT; k++)
		ipam_gpo_obs_release(&st->gpos[k]);
	free(st);
}
