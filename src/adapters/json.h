/*
 * JSON adapter: the only module that includes <jansson.h>.  Serialises
 * ipam_node trees; later stages also parse JSON (saved plans) through it.
 */
#ifndef IPAM_JSON_H
#define IPAM_JSON_H

#include "node.h"
#include "strbuf.h"

enum {
	IPAM_JSON_PRETTY = 1, /* indented, one key a line */
	IPAM_JSON_SORT_KEYS = 2,
};

/* Append root as JSON text (with a final newline) to out. */
int ipam_json_write(struct strbuf *out, const struct ipam_node *root,
		    int flags);

/* Parse JSON text into a tree (positions: line and column of values). */
int ipam_json_parse(struct ipam_node **out, const char *name, const char *buf,
		    size_t len);

#endif
