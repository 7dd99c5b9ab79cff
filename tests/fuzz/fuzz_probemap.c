/*
 * What the access probes print (samba-tool dns, rpcclient, probe-dhcpm,
 * the share probe), read back into a status and a reason.  The first
 * byte picks the tool, the second is its exit status, the rest its
 * output.  A verdict is Unblocked or Blocked, and a Blocked one always
 * says why.
 */
#include "fuzz.h"
#include "access.h"
#include "probemap.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_access_result r = {0};
	struct strbuf nt = STRBUF_INIT;
	char *text;

	if (size < 2)
		return 0;
	text = fuzz_cstr(data + 2, size - 2);
	ipam_probemap_result(&r, (enum ipam_probemap_tool)(data[0] % 4),
			     data[1], text, "IPAM1$");
	if (r.status != IPAM_ACCESS_UNBLOCKED &&
	    r.status != IPAM_ACCESS_BLOCKED &&
	    r.status != IPAM_ACCESS_NOT_CHECKED)
		abort();
	if (r.status == IPAM_ACCESS_BLOCKED && (!r.reason || !*r.reason))
		abort();
	ipam_probemap_ntstatus(&nt, text);
	if (nt.len && ipam_probemap_status_words(nt.buf) &&
	    !*ipam_probemap_status_words(nt.buf))
		abort();
	strbuf_release(&nt);
	free(r.reason);
	free(text);
	return 0;
}
