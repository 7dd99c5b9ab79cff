/* A saved plan (apply FILE): the JSON reader it goes through. */
#include "fuzz.h"
#include "json.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_node *root = NULL;

	if (ipam_json_parse(&root, "plan.json", (const char *)data, size) ==
		    0 &&
	    !root)
		abort();
	ipam_node_free(root);
	return 0;
}
