/*
 * A small document tree shared by the adapters: the YAML adapter builds it
 * from a file (every node keeps file:line:col), commands build it for
 * output, and the JSON and YAML adapters serialise it.  No library type
 * crosses a module boundary.
 */
#ifndef IPAM_NODE_H
#define IPAM_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum ipam_node_kind {
	IPAM_NODE_NULL,
	IPAM_NODE_BOOL,
	IPAM_NODE_INT,
	IPAM_NODE_STR,
	IPAM_NODE_SEQ,
	IPAM_NODE_MAP,
	IPAM_NODE_ALIAS, /* parsed only: stands for target */
};

/*
 * Scalars read from YAML are IPAM_NODE_STR with their source style kept:
 * the decoder resolves plain scalars (true, 12, null) by YAML 1.2 core
 * rules, so a quoted "12" stays a string.
 */
enum ipam_scalar_style {
	IPAM_SCALAR_PLAIN,
	IPAM_SCALAR_QUOTED, /* single, double, literal or folded */
};

struct ipam_node {
	enum ipam_node_kind kind;
	struct ipam_pos pos;
	enum ipam_scalar_style style;
	char *tag; /* explicit tag as written, or NULL */
	char *str; /* STR; NUL-terminated, len excludes NUL */
	size_t len;
	long long num; /* INT */
	bool boolean;  /* BOOL */
	/* SEQ: items[0..nr); MAP: keys[i] -> items[i]. */
	struct ipam_node **keys;
	struct ipam_node **items;
	size_t nr, alloc;
	const struct ipam_node
		*target; /* ALIAS: the anchored node (not owned) */
	size_t weight;	 /* nodes this one stands for, aliases expanded */
};

struct ipam_node *ipam_node_new(enum ipam_node_kind kind);
struct ipam_node *ipam_node_str(const char *s);
/* A string node, or a null node when s is NULL. */
struct ipam_node *ipam_node_str_or_null(const char *s);
struct ipam_node *ipam_node_int(long long v);
struct ipam_node *ipam_node_bool(bool v);
/* Append to a sequence; takes ownership of item. */
void ipam_node_push(struct ipam_node *seq, struct ipam_node *item);
/* Append key -> value to a mapping; takes ownership of value. */
void ipam_node_set(struct ipam_node *map, const char *key,
		   struct ipam_node *value);
void ipam_node_set_str(struct ipam_node *map, const char *key, const char *s);
/* Follow aliases. */
const struct ipam_node *ipam_node_deref(const struct ipam_node *n);
void ipam_node_free(struct ipam_node *n);

#endif
