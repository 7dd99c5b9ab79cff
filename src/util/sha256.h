/*
 * SHA-256 (FIPS 180-4), written for ipamctl: digests of the GPO settings
 * files, so drift is detected by comparing 32 bytes instead of whole files;
 * and HMAC-SHA256 (RFC 2104) to sign webhook notifications.
 * Pure: no I/O, no allocation.
 */
#ifndef IPAM_SHA256_H
#define IPAM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define IPAM_SHA256_LEN	    32
#define IPAM_SHA256_HEX_LEN 64

struct ipam_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	unsigned char block[64];
	size_t fill; /* bytes waiting in block */
};

void ipam_sha256_init(struct ipam_sha256 *ctx);
void ipam_sha256_update(struct ipam_sha256 *ctx, const void *data, size_t len);
void ipam_sha256_final(unsigned char out[IPAM_SHA256_LEN],
		       struct ipam_sha256 *ctx);

/* One-shot digest; hex is lower case and NUL-terminated. */
void ipam_sha256(unsigned char out[IPAM_SHA256_LEN], const void *data,
		 size_t len);
void ipam_sha256_hex(char out[IPAM_SHA256_HEX_LEN + 1], const void *data,
		     size_t len);

/*
 * HMAC-SHA256 (RFC 2104, with SHA-256 as H, B = 64, L = 32) of msg under
 * key.  Keys longer than the block are hashed first, as the RFC says.
 * Intermediate key material is wiped before returning.
 */
void ipam_sha256_hmac(unsigned char out[IPAM_SHA256_LEN], const void *key,
		      size_t keylen, const void *msg, size_t len);

#endif
