/*
 * Binary security descriptors (nTSecurityDescriptor, smbcacls): what
 * parses writes back to bytes that parse to the same bytes again, and
 * its SDDL text reads back to the same text.
 */
#include "fuzz.h"
#include "sd.h"
#include "sid.h"
#include "strbuf.h"

static void check_sddl(const struct ipam_sd *sd, const struct ipam_sid *dom)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct ipam_sd *again = NULL;

	if (ipam_sd_to_sddl(&a, sd, dom) == 0) {
		if (ipam_sd_from_sddl(&again, a.buf, dom) != 0 ||
		    ipam_sd_to_sddl(&b, again, dom) != 0 ||
		    strcmp(a.buf, b.buf) != 0)
			abort();
	}
	ipam_sd_free(again);
	strbuf_release(&a);
	strbuf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_sd *sd = NULL, *again = NULL;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct ipam_sid dom;

	if (ipam_sid_parse(&dom, "S-1-5-21-1004336348-1177238915-682003330",
			   NULL) != 0)
		abort();
	if (ipam_sd_parse(&sd, data, size) != 0)
		return 0;
	if (ipam_sd_write(&a, sd) != 0 ||
	    ipam_sd_parse(&again, a.buf, a.len) != 0 ||
	    ipam_sd_write(&b, again) != 0 || a.len != b.len ||
	    memcmp(a.buf, b.buf, a.len) != 0)
		abort();
	check_sddl(sd, &dom);
	ipam_sd_free(again);
	ipam_sd_free(sd);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
