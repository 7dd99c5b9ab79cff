/* MIT Kerberos keytab files (source.keytab). */
#include "fuzz.h"
#include "keytab.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;

	ipam_keytab_first_principal(&out, data, size, "fuzz.keytab");
	strbuf_release(&out);
	return 0;
}
