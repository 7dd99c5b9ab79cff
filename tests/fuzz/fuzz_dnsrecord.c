/* dnsRecord values (MS-DNSP 2.3.2.2) as a dnsNode read over LDAP holds
 * them: whatever decodes is printable ASCII, nothing is read past the
 * value. */
#include <stdlib.h>
#include <string.h>

#include "dnsrecord.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;
	/* a copy of exactly size bytes, so ASan sees any read past it */
	unsigned char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	if (!ipam_dnsrecord_decode(&r, copy, size))
		for (size_t i = 0; i < r.data.len; i++)
			if (r.data.buf[i] < 0x20 || r.data.buf[i] > 0x7e)
				abort();
	ipam_dnsrecord_release(&r);
	free(copy);
	return 0;
}
