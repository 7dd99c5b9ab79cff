#include "db_events_internal.h"

#include <stdint.h>
#include <stdlib.h>

#include <zstd.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * The blocks' text compressed (migration 12): libzstd, and nothing else
 * in the program, is behind these four functions.
 *
 * Level -1, zstd's first fast level: a block of 128 events (about 15 KB
 * of text) packs to a seventh or so at 800 MB/s of one core, on the
 * writer thread of the import (level 1 packs to a tenth at 600 MB/s: the
 * import's CPU went up more than its writes went down); the bytes
 * through the write-ahead log, the checkpoints and a PostgreSQL
 * connection are those packed.  The
 * frame carries the text's length, which the reader checks against
 * IPAM_DB_EVENTS_BLOCK_MAX before it allocates anything.
 */
#define PACK_LEVEL (-1)

int ipam_db_events_pack(struct ipam_db_events_packer *p, struct strbuf *out,
			const char *text, size_t len)
{
	size_t n, bound = ZSTD_compressBound(len);

	if (!p->c) {
		p->c = ZSTD_createCCtx();
		if (!p->c)
			return ipam_error_set(IPAM_ENOMEM,
					      "cannot pack audit events: out "
					      "of memory");
	}
	strbuf_reset(out);
	strbuf_grow(out, bound);
	n = ZSTD_compressCCtx(p->c, out->buf, bound, text, len, PACK_LEVEL);
	if (ZSTD_isError(n))
		return ipam_error_set(IPAM_EDB, "cannot pack audit events: %s",
				      ZSTD_getErrorName(n));
	out->len = n;
	out->buf[n] = '\0';
	return 0;
}

int ipam_db_events_unpack(struct ipam_db_events_packer *p, struct strbuf *out,
			  const void *packed, size_t len)
{
	unsigned long long size = ZSTD_getFrameContentSize(packed, len);
	size_t n;

	if (size == ZSTD_CONTENTSIZE_ERROR ||
	    size == ZSTD_CONTENTSIZE_UNKNOWN || size > IPAM_DB_EVENTS_BLOCK_MAX)
		return ipam_error_set(IPAM_EDB,
				      "a malformed block of audit events "
				      "(packed, %zu bytes)",
				      len);
	if (!p->d) {
		p->d = ZSTD_createDCtx();
		if (!p->d)
			return ipam_error_set(IPAM_ENOMEM,
					      "cannot read audit events: out "
					      "of memory");
	}
	strbuf_reset(out);
	strbuf_grow(out, (size_t)size);
	n = ZSTD_decompressDCtx(p->d, out->buf, (size_t)size, packed, len);
	if (ZSTD_isError(n) || n != size) {
		out->buf[0] = '\0';
		return ipam_error_set(IPAM_EDB,
				      "a malformed block of audit events "
				      "(packed, %zu bytes)",
				      len);
	}
	out->len = n;
	out->buf[n] = '\0';
	return 0;
}

void ipam_db_events_packer_release(struct ipam_db_events_packer *p)
{
	ZSTD_freeCCtx(p->c);
	ZSTD_freeDCtx(p->d);
	p->c = NULL;
	p->d = NULL;
}
