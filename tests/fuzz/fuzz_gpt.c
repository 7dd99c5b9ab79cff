/*
 * GPT.INI, and the client-side extension lists of gPCMachineExtensionNames
 * (the same input as a C string).
 */
#include "fuzz.h"
#include "gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_gpt_ext_list l;
	uint32_t version;
	char *s = fuzz_cstr(data, size);

	ipam_gpt_ini_parse(&version, (const char *)data, size);
	memset(&l, 0, sizeof(l));
	ipam_gpt_ext_parse(&l, s);
	ipam_gpt_ext_list_release(&l);
	free(s);
	return 0;
}
