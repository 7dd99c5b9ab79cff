/*
 * SHA-256 from the text of FIPS 180-4: the constants of section 4.2.2,
 * the functions of section 4.1.2, padding per 5.1.1, initial hash value
 * per 5.3.3 and the computation of 6.2.2.
 */
#include "sha256.h"

#include <string.h>

#include "banned.h"

/* First 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (FIPS 180-4, 4.2.2). */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void compress(uint32_t h[8], const unsigned char block[64])
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int t;

	for (t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (t = 16; t < 64; t++) {
		uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^
			      (w[t - 15] >> 3);
		uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^
			      (w[t - 2] >> 10);
		w[t] = s1 + w[t - 7] + s0 + w[t - 16];
	}
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	f = h[5];
	g = h[6];
	hh = h[7];
	for (t = 0; t < 64; t++) {
		uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);

		t1 = hh + S1 + ch + K[t] + w[t];
		t2 = S0 + maj;
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void ipam_sha256_init(struct ipam_sha256 *ctx)
{
	/* FIPS 180-4, 5.3.3: square roots of the first 8 primes. */
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(ctx->h, h0, sizeof(h0));
	ctx->total = 0;
	ctx->fill = 0;
}

void ipam_sha256_update(struct ipam_sha256 *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->total += len;
	if (ctx->fill) {
		size_t take = 64 - ctx->fill;

		if (take > len)
			take = len;
		memcpy(ctx->block + ctx->fill, p, take);
		ctx->fill += take;
		p += take;
		len -= take;
		if (ctx->fill < 64)
			return;
		compress(ctx->h, ctx->block);
		ctx->fill = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		compress(ctx->h, p);
	if (len) {
		memcpy(ctx->block, p, len);
		ctx->fill = len;
	}
}

void ipam_sha256_final(unsigned char out[IPAM_SHA256_LEN],
		       struct ipam_sha256 *ctx)
{
	uint64_t bits = ctx->total * 8;
	int i;

	/* 5.1.1: a 1 bit, zeros to 56 mod 64 bytes, the length in bits. */
	ctx->block[ctx->fill++] = 0x80;
	if (ctx->fill > 56) {
		memset(ctx->block + ctx->fill, 0, 64 - ctx->fill);
		compress(ctx->h, ctx->block);
		ctx->fill = 0;
	}
	memset(ctx->block + ctx->fill, 0, 56 - ctx->fill);
	store_be32(ctx->block + 56, (uint32_t)(bits >> 32));
	store_be32(ctx->block + 60, (uint32_t)bits);
	compress(ctx->h, ctx->block);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, ctx->h[i]);
	memset(ctx, 0, sizeof(*ctx));
}

void ipam_sha256(unsigned char out[IPAM_SHA256_LEN], const void *data,
		 size_t len)
{
	struct ipam_sha256 ctx;

	ipam_sha256_init(&ctx);
	ipam_sha256_update(&ctx, data, len);
	ipam_sha256_final(out, &ctx);
}

void ipam_sha256_hex(char out[IPAM_SHA256_HEX_LEN + 1], const void *data,
		     size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[IPAM_SHA256_LEN];
	int i;

	ipam_sha256(md, data, len);
	for (i = 0; i < IPAM_SHA256_LEN; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[IPAM_SHA256_HEX_LEN] = '\0';
}

void ipam_sha256_hmac(unsigned char out[IPAM_SHA256_LEN], const void *key,
		      size_t keylen, const void *msg, size_t len)
{
	unsigned char k[64], pad[64], inner[IPAM_SHA256_LEN];
	struct ipam_sha256 ctx;
	int i;

	/* RFC 2104, section 2: K is hashed when longer than B, then padded
	 * with zeros to B bytes. */
	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		ipam_sha256(k, key, keylen);
	else if (keylen)
		memcpy(k, key, keylen);

	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	ipam_sha256_init(&ctx);
	ipam_sha256_update(&ctx, pad, sizeof(pad));
	ipam_sha256_update(&ctx, msg, len);
	ipam_sha256_final(inner, &ctx);

	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	ipam_sha256_init(&ctx);
	ipam_sha256_update(&ctx, pad, sizeof(pad));
	ipam_sha256_update(&ctx, inner, sizeof(inner));
	ipam_sha256_final(out, &ctx);

	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
}
