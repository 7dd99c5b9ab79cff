/*
 * The decisions about a GPO's DACL, apart from reading and writing it:
 * what an observed DACL says (who reads, applies, edits, who is filtered
 * in; is it as ipamctl wants it), and the DACL to write given the
 * observed one and a filtering change.  Pure: model/gpostate.h values and
 * formats/sd.h descriptors in, the same out.
 */
#ifndef IPAM_GPODACL_H
#define IPAM_GPODACL_H

#include <stddef.h>

#include "gpostate.h"
#include "sd.h"
#include "strbuf.h"

/*
 * From g->sd: g's readers, appliers, editors and filtering trustees,
 * au_read/au_apply, dacl_size and dacl_current (Authenticated Users read
 * without apply, IPAMUG -- ipamug_sid, may be NULL -- and every one of
 * editor_sids may edit).
 */
void ipam_gpodacl_decode(struct ipam_gpo_obs *g, const char *ipamug_sid,
			 const char *const *editor_sids, size_t nr_editors);

/* What the DACL should grant, and the filtering change asked for. */
struct ipam_gpodacl_want {
	const char *label; /* "<domain>: GPO <name>", for the error */
	const char *ipamug_sid;
	const char *const *editor_sids; /* the delegated users */
	const char *const *editor_names;
	size_t nr_editors;
	const char *const *add_sids; /* computers to filter in */
	size_t nr_add;
	const char *const *remove_sids; /* and out */
	size_t nr_remove;
};

struct ipam_gpodacl_plan {
	struct ipam_sd *sd;    /* the descriptor to write */
	struct strbuf what;    /* the changes in words; empty: none */
	size_t added, removed; /* filtering entries that changed */
	size_t size;	       /* AclSize of sd's DACL */
};

/*
 * The DACL to write over observed: Authenticated Users read and no
 * apply, IPAMUG and the delegated users edit, delete and modify security,
 * the filtering change made, ACEs whose folder mapping repeats folded.
 * IPAM_ELIMIT when it would outgrow what AD stores; IPAM_EINVAL for a SID
 * that does not parse.  out is released on failure.
 */
int ipam_gpodacl_plan(struct ipam_gpodacl_plan *out,
		      const struct ipam_sd *observed,
		      const struct ipam_gpodacl_want *w);
void ipam_gpodacl_plan_release(struct ipam_gpodacl_plan *p);

/* The DACL's AclSize as ipam_sd_write lays it out. */
size_t ipam_gpodacl_bytes(const struct ipam_sd *sd);

#endif
