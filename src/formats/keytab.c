#include "keytab.h"

#include <stdint.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/* 16-bit and 32-bit big-endian reads: the keytab format is big-endian. */
static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Append one counted string at *p (bounded by end) to sb. */
static int keytab_string(struct strbuf *sb, const unsigned char **p,
			 const unsigned char *end)
{
	size_t n;

	if (end - *p < 2)
		return -1;
	n = get16(*p);
	*p += 2;
	if ((size_t)(end - *p) < n)
		return -1;
	strbuf_add(sb, *p, n);
	*p += n;
	return 0;
}

/*
 * One entry: a count of components, the realm, the components.  Appends
 * the principal to out and returns 0, or -1 when the entry is malformed
 * (out then holds a part of it).
 */
static int entry_principal(struct strbuf *out, const unsigned char *p,
			   const unsigned char *e)
{
	struct strbuf realm = STRBUF_INIT;
	unsigned i, ncomp;
	int rc = -1;

	if (e - p < 2)
		return -1;
	ncomp = get16(p);
	p += 2;
	if (keytab_string(&realm, &p, e))
		goto out;
	for (i = 0; i < ncomp; i++) {
		if (i)
			strbuf_addch(out, '/');
		if (keytab_string(out, &p, e))
			goto out;
	}
	if (ncomp == 0)
		goto out;
	strbuf_addch(out, '@');
	strbuf_add(out, realm.buf, realm.len);
	rc = 0;
out:
	strbuf_release(&realm);
	return rc;
}

/*
 * MIT Kerberos, given a client keytab and no principal, takes the first
 * entry's; a malformed first entry ends the walk rather than letting a
 * later one stand in for it.
 */
int ipam_keytab_first_principal(struct strbuf *out, const void *data,
				size_t len, const char *name)
{
	const unsigned char *p = data, *end = p + len;
	struct strbuf got = STRBUF_INIT;

	if (len >= IPAM_KEYTAB_MAX_LEN || len < 2 || get16(p) != 0x502)
		return ipam_error_set(IPAM_EINVAL,
				      "keytab '%s' is not a version 2 keytab "
				      "under 1 MiB",
				      name);
	p += 2;
	while (end - p >= 4) {
		int32_t size = (int32_t)get32(p);

		p += 4;
		if (size < 0) {
			/* A hole left by a deleted entry. */
			if ((size_t)(end - p) < (size_t) - (int64_t)size)
				break;
			p += (size_t) - (int64_t)size;
			continue;
		}
		if (size == 0 || (size_t)(end - p) < (size_t)size)
			break;
		if (entry_principal(&got, p, p + size) == 0) {
			strbuf_add(out, got.buf, got.len);
			strbuf_release(&got);
			return 0;
		}
		break;
	}
	strbuf_release(&got);
	return ipam_error_set(IPAM_EINVAL, "keytab '%s' holds no usable entry",
			      name);
}
