/*
 * A plan for people and machines, rendered into a buffer (the caller
 * prints it): Terraform-like text, JSON
 * (schemas/plan.schema.json) and Markdown for merge-request comments.
 *
 * Prefixes: ipam_plan_
 *   (it renders the plan).
 */
#ifndef IPAM_PLANOUT_H
#define IPAM_PLANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "jsonw.h"
#include "node.h"
#include "strbuf.h"
#include "diff.h"
#include "inventory.h"
#include "model.h"

#define IPAM_PLAN_FORMAT_VERSION 1

/* What a plan document shows: the plan and what it was computed from. */
struct ipam_plan_doc {
	const struct ipam_desired *d;
	const struct ipam_plan *plan;
	const char *git_commit;	   /* NULL when not from git */
	const char *config_digest; /* of the desired state */
	const char *fingerprint;   /* of what was observed */
	time_t generated_at;	   /* when the plan was made */
	/* Managed servers whose last access check said Blocked. */
	const char *const *blocked;
	size_t nr_blocked;
};

/* The JSON form; drift_only keeps drift actions and notes only. */
struct ipam_node *ipam_plan_to_node(const struct ipam_plan_doc *r,
				    bool drift_only);
/*
 * The JSON form written through w as it is made: the text ipam_json_write
 * gives for ipam_plan_to_node's tree, byte for byte, without the tree.
 * Returns ipam_jsonw_finish's result; nothing is written when a string of
 * the plan is not UTF-8 (jansson would refuse it too).
 */
int ipam_plan_write_json(struct ipam_jsonw *w, const struct ipam_plan_doc *r,
			 bool drift_only);
void ipam_plan_render_text(struct strbuf *out, const struct ipam_plan_doc *r,
			   bool drift_only);
void ipam_plan_render_markdown(struct strbuf *out,
			       const struct ipam_plan_doc *r, bool drift_only);

/* The JSON plan's "drift" list alone: what changed behind ipamctl's back,
 * each with the seq of the action correcting it (null: none does). */
struct ipam_node *ipam_plan_drift_node(const struct ipam_plan_doc *r);

/*
 * The managed servers of inv whose latest access status is Blocked, in
 * inventory order: their count, *out a malloc'd array (free() it; NULL
 * when none) of names that point into inv.
 */
size_t ipam_plan_blocked_servers(const char ***out,
				 const struct ipam_inventory *inv);
/* "IPAM access blocked on 2 managed servers: a, b (ipamctl verify for
 * the reasons)" and a newline; nothing when nr is 0. */
void ipam_plan_blocked_text(struct strbuf *sb, const char *const *names,
			    size_t nr);

/* "the GPO name" of an action (prefix + suffix), or NULL. */
const char *ipam_plan_gpo_name(const struct ipam_plan_doc *r, int gpo,
			       char *buf, size_t len);

#endif
