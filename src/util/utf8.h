/*
 * UTF-8 as RFC 3629 defines it: shortest form only, no surrogates,
 * nothing above U+10FFFF.  Every module that checks or converts text
 * decodes it here.  Pure.
 */
#ifndef IPAM_UTF8_H
#define IPAM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the sequence at s (n bytes available): its length (1 to 4) with
 * the code point in *cp (cp may be NULL), or 0 when it is malformed or
 * cut short.  n == 0 gives 0.
 */
size_t ipam_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
