/*
 * Growable string buffer in the manner of git's strbuf: buf is never NULL
 * (it points at a static "" until something is added) and always
 * NUL-terminated.  Allocation failure aborts: a configuration tool has no
 * sensible way to go on without memory, and every caller stays simple.
 *
 * Prefixes: strbuf_, x
 *   (git's names, kept so that code reads like git's).
 */
#ifndef IPAM_STRBUF_H
#define IPAM_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT                                                            \
	{                                                                      \
		0, 0, strbuf_slopbuf                                           \
	}

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Hand the string to the caller (malloc'd) and reset the buffer. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
/* Drop trailing newlines. */
void strbuf_rtrim_newline(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* malloc wrappers that abort on failure (see above). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow an array of *nr elements to hold at least need. */
#define ALLOC_GROW(arr, need, alloc)                                           \
	do {                                                                   \
		if ((need) > (alloc)) {                                        \
			size_t na_ = (alloc) ? (alloc)*2 : 8;                  \
			if (na_ < (need))                                      \
				na_ = (need);                                  \
			(arr) = xrealloc((arr), na_ * sizeof(*(arr)));         \
			(alloc) = na_;                                         \
		}                                                              \
	} while (0)

#endif
