/*
 * The observed GPO state put into words: the tree `gpo show -o json`
 * prints (schemas/gpo-show.schema.json) and the one-line-an-item summary
 * of what a settings file holds.  Pure: reads model/gpostate.h values and
 * bytes already read.
 */
#ifndef IPAM_GPOVIEW_H
#define IPAM_GPOVIEW_H

#include <stddef.h>

#include "gpostate.h"
#include "node.h"

/* For `gpo show -o json` and the reconcile status. */
struct ipam_node *ipam_gpoview_to_node(const struct ipam_gpo_state *st);

/*
 * f->content from the bytes of the present file (f->path says whether it
 * is a Registry.pol or a preferences XML file): one line an entry or
 * item, at most 256; a file that does not parse gets an
 * "unreadable: …" line first.
 */
void ipam_gpoview_file_content(struct ipam_gpo_file_state *f, const char *buf,
			       size_t len);

#endif
