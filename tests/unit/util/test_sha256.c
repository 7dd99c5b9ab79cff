/*
 * SHA-256 against FIPS 180-4 examples, and HMAC-SHA256 against the test
 * vectors of RFC 4231 (section 4), plus keys at the block-size boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

static void to_hex(char *out, const unsigned char *md, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static void test_sha256_fips(void **state)
{
	char hex[IPAM_SHA256_HEX_LEN + 1];
	const char *two_blocks =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	ipam_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	ipam_sha256_hex(hex, two_blocks, strlen(two_blocks));
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
				 "a33ce45964ff2167f6ecedd419db06c1");
	ipam_sha256_hex(hex, "", 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
}

static void hmac_is(const void *key, size_t keylen, const void *msg, size_t len,
		    const char *expect)
{
	unsigned char md[IPAM_SHA256_LEN];
	char hex[IPAM_SHA256_HEX_LEN + 1];

	ipam_sha256_hmac(md, key, keylen, msg, len);
	to_hex(hex, md, sizeof(md));
	/* Test case 5 checks the output truncated to 128 bits. */
	if (strlen(expect) < IPAM_SHA256_HEX_LEN)
		hex[strlen(expect)] = '\0';
	assert_string_equal(hex, expect);
}

static void test_hmac_rfc4231(void **state)
{
	unsigned char key[131], data[50];
	const char *tc6 = "Test Using Larger Than Block-Size Key - Hash Key "
			  "First";
	const char *tc7 = "This is a test using a larger than block-size key "
			  "and a larger than block-size data. The key needs "
			  "to be hashed before being used by the HMAC "
			  "algorithm.";
	size_t i;

	(void)state;
	/* 4.2, test case 1 */
	memset(key, 0x0b, 20);
	hmac_is(key, 20, "Hi There", 8,
		"b0344c61d8db38535ca8afceaf0bf12b"
		"881dc200c9833da726e9376c2e32cff7");
	/* 4.3, test case 2: a key shorter than the output */
	hmac_is("Jefe", 4, "what do ya want for nothing?", 28,
		"5bdcc146bf60754e6a042426089575c7"
		"5a003f089d2739839dec58b964ec3843");
	/* 4.4, test case 3 */
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	hmac_is(key, 20, data, 50,
		"773ea91e36800e46854db8ebd09181a7"
		"2959098b3ef8c122d9635514ced565fe");
	/* 4.5, test case 4 */
	for (i = 0; i < 25; i++)
		key[i] = (unsigned char)(i + 1);
	memset(data, 0xcd, 50);
	hmac_is(key, 25, data, 50,
		"82558a389a443c0ea4cc819899f2083a"
		"85f0faa3e578f8077a2e3ff46729665b");
	/* 4.6, test case 5: truncation to 128 bits */
	memset(key, 0x0c, 20);
	hmac_is(key, 20, "Test With Truncation", 20,
		"a3b6167473100ee06e0c796c2955552b");
	/* 4.7, test case 6: a key longer than the block is hashed first */
	memset(key, 0xaa, 131);
	hmac_is(key, 131, tc6, strlen(tc6),
		"60e431591ee0b67f0d8a26aacbf5b77f"
		"8e0bc6213728c5140546040f0ee37f54");
	/* 4.8, test case 7: long key and data longer than a block */
	hmac_is(key, 131, tc7, strlen(tc7),
		"9b09ffa71b942fcb27635fbcd5b0e944"
		"bfdc63644f0713938a7f51535c3a35e2");
}

/* Values from Python's hmac module: a key of exactly the block size is
 * used as is, one byte more is hashed; the empty key and message. */
static void test_hmac_block_boundary(void **state)
{
	unsigned char key[65];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	hmac_is(key, 64, "block-size key", 14,
		"1dad230598e011a4e4eabc6c8da8f55e"
		"f9a66a8881d1e16e23ea116ae28231ec");
	hmac_is(key, 65, "block-size key + 1", 18,
		"b77ae331b557dac29f8d04bef2423ce8"
		"54442e7a0ab66f6239a40d08b4ed997a");
	hmac_is("", 0, "", 0,
		"b613679a0814d9ec772f95d778c35fc5"
		"ff1697c493715653c6c712144292c5ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_hmac_block_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
