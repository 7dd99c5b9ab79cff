/*
 * What the signature tools print, read back: ssh-keygen -Y verify and
 * find-principals, gpgv --status-fd, and an armored signature's kind.
 * The first byte picks the reader, the second is the tool's exit status,
 * the rest its output.  A verdict is good with no reason, or not good
 * with one; never good on a failing exit status.
 */
#include "fuzz.h"
#include "gitsrc.h"

static void check(const struct ipam_git_signature *s, int status)
{
	if (s->good && (s->reason || status != 0))
		abort();
	if (!s->good && !s->reason)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_git_signature s = {0};
	int status;
	char *text, *p;

	if (size < 2)
		return 0;
	status = data[1] % 4 == 3 ? 255 : data[1] % 4;
	text = fuzz_cstr(data + 2, size - 2);
	switch (data[0] % 4) {
	case 0:
		ipam_git_ssh_verdict(&s, text, status);
		check(&s, status);
		break;
	case 1:
		ipam_git_gpgv_verdict(&s, text, status, "/k");
		check(&s, status);
		break;
	case 2:
		p = ipam_git_ssh_principal(text);
		if (p && (!*p || strchr(p, '\n')))
			abort();
		free(p);
		break;
	default:
		(void)ipam_git_signature_kind(text, size - 2);
		break;
	}
	ipam_git_signature_release(&s);
	free(text);
	return 0;
}
