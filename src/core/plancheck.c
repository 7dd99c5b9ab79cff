#include "plancheck.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "banned.h"

static const struct ipam_node *get(const struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key))
			return m->items[i];
	return NULL;
}

static const char *get_str(const struct ipam_node *m, const char *key)
{
	const struct ipam_node *v = get(m, key);

	return v && v->kind == IPAM_NODE_STR ? v->str : NULL;
}

int ipam_plancheck_shape(const struct ipam_node *root, const char *path)
{
	const struct ipam_node *a = get(root, "actions");

	if (!get_str(root, "config_digest") ||
	    !get_str(root, "observed_fingerprint") || !a ||
	    a->kind != IPAM_NODE_SEQ)
		return ipam_error_set(IPAM_EINVAL,
				      "'%s' is not a saved ipamctl plan", path);
	return 0;
}

/* A scalar as the message shows it. */
static const char *scalar_text(const struct ipam_node *n, char *buf, size_t len)
{
	if (!n)
		return "(absent)";
	switch (n->kind) {
	case IPAM_NODE_STR:
		return n->str;
	case IPAM_NODE_INT:
		snprintf(buf, len, "%lld", n->num);
		return buf;
	case IPAM_NODE_BOOL:
		return n->boolean ? "true" : "false";
	case IPAM_NODE_NULL:
		return "null";
	default:
		return "(not a scalar)";
	}
}

static bool scalar_same(const struct ipam_node *a, const struct ipam_node *b)
{
	if (!a || !b || a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IPAM_NODE_STR:
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	case IPAM_NODE_INT:
		return a->num == b->num;
	case IPAM_NODE_BOOL:
		return a->boolean == b->boolean;
	case IPAM_NODE_NULL:
		return true;
	default:
		return false;
	}
}

/* Keys other than "source" (a key with a NUL in it is never one of ours,
 * so it counts and can match nothing). */
static size_t nr_fields(const struct ipam_node *m)
{
	size_t n = 0;

	for (size_t k = 0; k < m->nr; k++)
		n += strcmp(m->keys[k]->str, "source") != 0 ||
		     m->keys[k]->len != strlen("source");
	return n;
}

static int edited(const char *path, size_t i, const char *what)
{
	return ipam_error_set(IPAM_ECONFLICT,
			      "the saved plan '%s' was edited: action %zu %s",
			      path, i + 1, what);
}

/*
 * Whether a saved action is the fresh one.  Every field of the fresh
 * action must be in the saved one with the same value; as many fields
 * on both sides means the saved one has no extra or repeated key.
 */
static int action_same(const char *path, size_t i,
		       const struct ipam_node *saved,
		       const struct ipam_node *fresh)
{
	char b1[32], b2[32];

	if (!saved || saved->kind != IPAM_NODE_MAP)
		return edited(path, i, "is not an object");
	for (size_t k = 0; k < fresh->nr; k++) {
		const char *key = fresh->keys[k]->str;
		const struct ipam_node *v = get(saved, key);

		if (!strcmp(key, "source") || scalar_same(v, fresh->items[k]))
			continue;
		return ipam_error_set(
			IPAM_ECONFLICT,
			"the saved plan '%s' differs from the "
			"plan now: action %zu's %s is '%s' in "
			"the file, '%s' now; refused (what is "
			"applied must be what was reviewed)",
			path, i + 1, key, scalar_text(v, b1, sizeof(b1)),
			scalar_text(fresh->items[k], b2, sizeof(b2)));
	}
	if (nr_fields(saved) != nr_fields(fresh))
		return edited(path, i, "has fields no action has");
	return 0;
}

int ipam_plancheck_saved(const char *path, const struct ipam_node *saved,
			 const struct ipam_node *fresh,
			 const char *config_digest, const char *fingerprint)
{
	const struct ipam_node *sa = get(saved, "actions"),
			       *fa = get(fresh, "actions");

	if (strcmp(get_str(saved, "config_digest"), config_digest))
		return ipam_error_set(
			IPAM_ECONFLICT,
			"the saved plan '%s' is stale: the desired state "
			"changed since it was made (config %.12s, now %.12s); "
			"make a new plan",
			path, get_str(saved, "config_digest"), config_digest);
	if (strcmp(get_str(saved, "observed_fingerprint"), fingerprint))
		return ipam_error_set(IPAM_ECONFLICT,
				      "the saved plan '%s' is stale: AD or the "
				      "inventory changed since it was made; "
				      "make a new plan",
				      path);
	if (!fa || fa->kind != IPAM_NODE_SEQ)
		return ipam_error_set(IPAM_EINVAL, "no actions in the plan");
	if (sa->nr != fa->nr)
		return ipam_error_set(
			IPAM_ECONFLICT,
			"the saved plan '%s' differs from the plan now: %zu "
			"action%s in the file, %zu now; refused (what is "
			"applied must be what was reviewed)",
			path, sa->nr, sa->nr == 1 ? "" : "s", fa->nr);
	for (size_t i = 0; i < fa->nr; i++) {
		int rc = action_same(path, i, sa->items[i], fa->items[i]);

		if (rc)
			return rc;
	}
	return 0;
}
