/* The desired-state loader and validator, the input as one YAML file. */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_source src = {"fuzz.yaml", (const char *)data, size};
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;

	if (ipam_config_load_sources(&d, &src, 1, &diags) == 0 && !d)
		abort();
	ipam_desired_free(d);
	ipam_diags_free(&diags);
	return 0;
}
