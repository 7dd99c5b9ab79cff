/*
 * Text that came from elsewhere (a server's diagnostic, a commit's author,
 * a tool's error output) made safe to print, log, store and put in JSON:
 * one line, no control characters, valid UTF-8, bounded.
 */
#ifndef IPAM_TEXT_H
#define IPAM_TEXT_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Append s to sb: every control character (C0, DEL, C1: a newline or tab
 * too) becomes a space, every byte that is not UTF-8 U+FFFD; when s is
 * longer than max bytes (0: no bound) it is cut there, at a character
 * boundary, and "..." follows.  s NULL appends nothing.
 */
void ipam_text_add_clean(struct strbuf *sb, const char *s, size_t max);

/* The same into a new string (never NULL). */
char *ipam_text_clean(const char *s, size_t max);

#endif
