/*
 * Shared by the libFuzzer harnesses of tests/fuzz: the entry point's
 * prototype (libFuzzer provides no header for it) and a NUL-terminated
 * copy of the input for the parsers that take C strings.
 */
#ifndef IPAM_FUZZ_H
#define IPAM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a C string: an embedded NUL ends it early, as it would for a
 * value read from LDAP or a file. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
