#include "node.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "banned.h"

struct ipam_node *ipam_node_new(enum ipam_node_kind kind)
{
	struct ipam_node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->weight = 1;
	return n;
}

struct ipam_node *ipam_node_str(const char *s)
{
	struct ipam_node *n = ipam_node_new(IPAM_NODE_STR);

	n->len = strlen(s);
	n->str = xstrndup(s, n->len);
	return n;
}

struct ipam_node *ipam_node_str_or_null(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

struct ipam_node *ipam_node_int(long long v)
{
	struct ipam_node *n = ipam_node_new(IPAM_NODE_INT);

	n->num = v;
	return n;
}

struct ipam_node *ipam_node_bool(bool v)
{
	struct ipam_node *n = ipam_node_new(IPAM_NODE_BOOL);

	n->boolean = v;
	return n;
}

void ipam_node_push(struct ipam_node *seq, struct ipam_node *item)
{
	ALLOC_GROW(seq->items, seq->nr + 1, seq->alloc);
	seq->items[seq->nr++] = item;
}

void ipam_node_set(struct ipam_node *map, const char *key,
		   struct ipam_node *value)
{
	size_t old = map->alloc;

	ALLOC_GROW(map->items, map->nr + 1, map->alloc);
	if (map->alloc != old)
		map->keys =
			xrealloc(map->keys, map->alloc * sizeof(*map->keys));
	map->keys[map->nr] = ipam_node_str(key);
	map->items[map->nr++] = value;
}

void ipam_node_set_str(struct ipam_node *map, const char *key, const char *s)
{
	ipam_node_set(map, key, ipam_node_str(s));
}

const struct ipam_node *ipam_node_deref(const struct ipam_node *n)
{
	while (n && n->kind == IPAM_NODE_ALIAS)
		n = n->target;
	return n;
}

void ipam_node_free(struct ipam_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nr; i++) {
		if (n->keys)
			ipam_node_free(n->keys[i]);
		ipam_node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->str);
	free(n->tag);
	free(n);
}
