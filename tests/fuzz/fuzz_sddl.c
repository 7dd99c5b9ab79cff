/*
 * SDDL text: from_sddl -> to_sddl -> from_sddl -> to_sddl is stable (the
 * GPO engine compares descriptors through this text).
 */
#include "fuzz.h"
#include "sd.h"
#include "sid.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct ipam_sd *sd = NULL, *again = NULL;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct ipam_sid dom;

	if (ipam_sid_parse(&dom, "S-1-5-21-1004336348-1177238915-682003330",
			   NULL) != 0)
		abort();
	if (ipam_sd_from_sddl(&sd, text, &dom) == 0) {
		if (ipam_sd_to_sddl(&a, sd, &dom) != 0 ||
		    ipam_sd_from_sddl(&again, a.buf, &dom) != 0 ||
		    ipam_sd_to_sddl(&b, again, &dom) != 0 ||
		    strcmp(a.buf, b.buf) != 0)
			abort();
	}
	ipam_sd_free(again);
	ipam_sd_free(sd);
	strbuf_release(&a);
	strbuf_release(&b);
	free(text);
	return 0;
}
