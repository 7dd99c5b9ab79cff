/* Security templates (GptTmpl.inf): what parses writes and parses again. */
#include "fuzz.h"
#include "secedit.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_inf inf, again;
	struct strbuf out = STRBUF_INIT;

	memset(&inf, 0, sizeof(inf));
	memset(&again, 0, sizeof(again));
	if (ipam_inf_parse(&inf, data, size) == 0) {
		if (ipam_inf_write(&out, &inf) != 0 ||
		    ipam_inf_parse(&again, out.buf, out.len) != 0)
			abort();
	}
	ipam_inf_release(&inf);
	ipam_inf_release(&again);
	strbuf_release(&out);
	return 0;
}
