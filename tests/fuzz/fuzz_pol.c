/* Registry.pol: what parses writes back to bytes that parse the same. */
#include "fuzz.h"
#include "polfile.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_pol pol, again;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	ipam_pol_init(&pol);
	ipam_pol_init(&again);
	if (ipam_pol_parse(&pol, data, size) == 0) {
		if (ipam_pol_write(&a, &pol) != 0 ||
		    ipam_pol_parse(&again, a.buf, a.len) != 0 ||
		    ipam_pol_write(&b, &again) != 0 || a.len != b.len ||
		    memcmp(a.buf, b.buf, a.len) != 0)
			abort();
	}
	ipam_pol_release(&pol);
	ipam_pol_release(&again);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
