/* Group Policy preferences XML (Groups.xml, Shares.xml, Registry.xml). */
#include "fuzz.h"
#include "gpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_gpp_file f;

	memset(&f, 0, sizeof(f));
	ipam_gpp_parse(&f, (const char *)data, size);
	ipam_gpp_file_release(&f);
	return 0;
}
