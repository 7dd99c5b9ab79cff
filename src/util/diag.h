/*
 * Diagnostics about the desired state: every problem found in one run,
 * each pointing at file:line:col, printed sorted.  Validation collects
 * into a list instead of stopping at the first error so a user fixes all
 * of them in one edit.
 *
 * Prefixes: ipam_diags_
 *   (the collection of diagnostics).
 */
#ifndef IPAM_DIAG_H
#define IPAM_DIAG_H

#include <stddef.h>

#include "strbuf.h"

/* Where a value came from; line and col are 1-based, 0 when unknown. */
struct ipam_pos {
	const char *file; /* owned by the config's file list */
	int line;
	int col;
};

enum ipam_diag_severity {
	IPAM_DIAG_ERROR,
	IPAM_DIAG_WARNING,
};

struct ipam_diag {
	enum ipam_diag_severity severity;
	struct ipam_pos pos; /* pos.file is owned by the diagnostic */
	char *message;
};

struct ipam_diags {
	struct ipam_diag *items;
	size_t nr, alloc;
	size_t errors;
};

void ipam_diags_add(struct ipam_diags *d, enum ipam_diag_severity sev,
		    const struct ipam_pos *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define ipam_diag_error(d, pos, ...)                                           \
	ipam_diags_add((d), IPAM_DIAG_ERROR, (pos), __VA_ARGS__)
#define ipam_diag_warn(d, pos, ...)                                            \
	ipam_diags_add((d), IPAM_DIAG_WARNING, (pos), __VA_ARGS__)

/* Sort by file, line, column, then message; drop exact duplicates. */
void ipam_diags_sort(struct ipam_diags *d);
/* "file:line:col: message" (warnings: "file:line:col: warning: message"),
 * file and message escaped (text.h): one line of visible text. */
void ipam_diag_format(struct strbuf *out, const struct ipam_diag *diag);
void ipam_diags_free(struct ipam_diags *d);

#endif
