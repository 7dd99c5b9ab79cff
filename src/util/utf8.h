/*
 * UTF-8 as RFC 3629 defines it: shortest form only, no surrogates,
 * nothing above U+10FFFF.  Every module that checks or converts text
 * decodes it here, and the UTF-16LE of Windows files (Registry.pol,
 * security templates) is converted here, on the same decoder.  Pure.
 *
 * Prefixes: ipam_utf16le_
 *   (UTF-16LE, converted through the one UTF-8 decoder).
 */
#ifndef IPAM_UTF8_H
#define IPAM_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/*
 * Decode the sequence at s (n bytes available): its length (1 to 4) with
 * the code point in *cp (cp may be NULL), or 0 when it is malformed or
 * cut short.  n == 0 gives 0.
 */
size_t ipam_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Append the UTF-8 form of code point cp (a scalar value: the caller has
 * ruled out surrogates and values above U+10FFFF). */
void ipam_utf8_put(struct strbuf *out, uint32_t cp);

/*
 * Append the UTF-16LE form of len bytes of UTF-8 (no terminator added).
 * Rejects malformed UTF-8 (overlong forms, surrogates, > U+10FFFF) and
 * embedded NULs; on error out is as it was.
 */
int ipam_utf8_to_utf16le(struct strbuf *out, const char *s, size_t len);
/*
 * Append the UTF-8 form of len bytes of UTF-16LE.  Rejects an odd length,
 * unpaired surrogates and NUL code units; on error out is as it was.
 */
int ipam_utf16le_to_utf8(struct strbuf *out, const void *p, size_t len);
/* units UTF-16LE code units at p are well formed (pairs only); NUL units
 * are allowed only when allow_nul (REG_MULTI_SZ separators). */
bool ipam_utf16le_valid(const void *p, size_t units, bool allow_nul);

#endif
