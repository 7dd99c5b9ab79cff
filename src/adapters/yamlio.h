/*
 * YAML adapter: the only module that includes <yaml.h>.  Parses one file
 * into an ipam_node tree that keeps every position, and emits a tree as
 * YAML.  Input is bounded: UTF-8 only, nesting depth, node count and alias
 * expansion are limited so a hostile file cannot exhaust memory.
 *
 * Prefixes: ipam_yaml_
 *   (libyaml owns the name yaml.h).
 */
#ifndef IPAM_YAMLIO_H
#define IPAM_YAMLIO_H

#include <stddef.h>

#include "diag.h"
#include "node.h"
#include "strbuf.h"

#define IPAM_YAML_MAX_DEPTH	      64
#define IPAM_YAML_MAX_NODES	      4000000
#define IPAM_YAML_MAX_ALIAS_EXPANSION 100000

/*
 * Parse buf (len bytes, from file) into *out.  An empty document (nothing
 * but comments or white space) gives *out == NULL and 0.  On a problem a
 * diagnostic at file:line:col is added to diags and IPAM_EINVAL returned.
 */
int ipam_yaml_parse(struct ipam_node **out, const char *file, const char *buf,
		    size_t len, struct ipam_diags *diags);

/* Append root as a YAML document (block style) to out. */
int ipam_yaml_emit(struct strbuf *out, const struct ipam_node *root);

/* True when a plain scalar with this text is a string in YAML 1.2 core. */
int ipam_yaml_plain_is_string(const char *s);

#endif
