/*
 * A saved plan (apply FILE): the JSON reader, the shape check and the
 * comparison with the plan computed now.  The input is compared with
 * itself (a plan always matches itself unless it holds what no plan
 * holds) and with a fixed fresh plan.
 */
#include "fuzz.h"
#include "error.h"
#include "json.h"
#include "node.h"
#include "plancheck.h"

static const char fresh_json[] =
	"{\"config_digest\":\"aa\",\"observed_fingerprint\":\"bb\","
	"\"actions\":[{\"seq\":1,\"kind\":\"group\",\"op\":\"create\","
	"\"domain\":\"corp.example.test\",\"gpo\":null,\"target\":\"IPAMUG\","
	"\"applied\":false,\"source\":{\"file\":\"d.yaml\",\"line\":2}}]}";

static const char *str_of(const struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key) &&
		    m->items[i]->kind == IPAM_NODE_STR)
			return m->items[i]->str;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ipam_node *fresh;
	struct ipam_node *root = NULL;
	int rc;

	if (!fresh && ipam_json_parse(&fresh, "fresh", fresh_json,
				      sizeof(fresh_json) - 1))
		abort();
	if (ipam_json_parse(&root, "plan.json", (const char *)data, size))
		return 0;
	if (!root)
		abort();
	if (ipam_plancheck_shape(root, "plan.json") == 0) {
		rc = ipam_plancheck_saved("plan.json", root, root,
					  str_of(root, "config_digest"),
					  str_of(root, "observed_fingerprint"));
		if (rc != 0 && rc != IPAM_ECONFLICT)
			abort();
		rc = ipam_plancheck_saved("plan.json", root, fresh, "aa", "bb");
		if (rc != 0 && rc != IPAM_ECONFLICT)
			abort();
	}
	ipam_node_free(root);
	return 0;
}
