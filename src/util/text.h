/*
 * Text that came from elsewhere made safe.  Two tools, for two jobs:
 *
 * - Escaping, the one rule for everything printed to a terminal or a log,
 *   whatever its source (YAML, AD, DNS, DHCP, git, a tool's output): a C0
 *   control, DEL, a C1 control (U+0080..U+009F) and every byte that is not
 *   UTF-8 are shown as a visible escape, "\n", "\r", "\t", "\x1b" (C0,
 *   DEL and bad bytes) or "\u009b" (C1); everything else is kept.  So no
 *   input can move the cursor, erase a line, set a terminal's title or
 *   forge a line of its own.  A backslash is kept as it is: the rule is
 *   idempotent (escaped text has nothing left to escape), so each printer
 *   applies it at its boundary without knowing what was escaped before.
 *   JSON output carries the exact text instead.
 * - Cleaning (ipam_text_clean), for text stored or put in a one-line field
 *   (a commit's subject, a server's diagnostic): controls become spaces,
 *   bad bytes U+FFFD, and the length is bounded.
 */
#ifndef IPAM_TEXT_H
#define IPAM_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/*
 * Append the len bytes of s to sb under the escaping rule above.  With
 * keep_newlines a newline stays a newline (text of several lines, whose
 * values were escaped one by one where a newline of theirs matters).
 */
void ipam_text_add_escaped_n(struct strbuf *sb, const char *s, size_t len,
			     bool keep_newlines);
/* The same for a NUL-terminated value (NULL appends nothing); newlines
 * escaped too: a value stays on its line. */
void ipam_text_add_escaped(struct strbuf *sb, const char *s);
/* A new escaped string (never NULL). */
char *ipam_text_escaped(const char *s);
/* Whether s has anything the rule would escape. */
bool ipam_text_needs_escape(const char *s, size_t len);

/*
 * The print boundary of text output.  ipam_text_fputs writes s (lines of
 * text) to f with every line escaped, newlines kept.  ipam_text_printf
 * formats, then escapes: the newlines that end fmt stay, and when fmt has
 * no other newline a value's newline is escaped too (a line stays one
 * line); a format with newlines inside keeps every newline.  Both return
 * what fputs returns.
 */
int ipam_text_fputs(FILE *f, const char *s);
int ipam_text_printf(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ipam_text_vprintf(FILE *f, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
