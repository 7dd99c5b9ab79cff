#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "polfile.h"
#include "sha256.h"
#include "testutil.h"

#include "polgolden.h"

/* ---- SHA-256 --------------------------------------------------------- */

static void test_sha256_vectors(void **state)
{
	/* FIPS 180-4 examples (NIST CSRC) and the million-'a' vector. */
	static const struct {
		const char *msg;
		const char *hex;
	} v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7"
		     "852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
			"61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419d"
		 "b06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhij"
		 "klmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037af"
		 "ee9d1"},
	};
	char hex[IPAM_SHA256_HEX_LEN + 1];
	struct ipam_sha256 ctx;
	unsigned char md[32], md2[32];
	char *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ipam_sha256_hex(hex, v[i].msg, strlen(v[i].msg));
		assert_string_equal(hex, v[i].hex);
	}
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	ipam_sha256_hex(hex, a, 1000000);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a4972"
				 "00e046d39ccc7112cd0");
	/* Any split of the input gives the same digest. */
	ipam_sha256(md, a, 1000);
	for (i = 1; i < 200; i += 7) {
		size_t off = 0;

		ipam_sha256_init(&ctx);
		while (off < 1000) {
			size_t n = 1000 - off < i ? 1000 - off : i;

			ipam_sha256_update(&ctx, a + off, n);
			off += n;
		}
		ipam_sha256_final(md2, &ctx);
		assert_memory_equal(md, md2, 32);
	}
	free(a);
}

/* ---- Registry.pol ------------------------------------------------------ */

static void sample_pol(struct ipam_pol *pol)
{
	static const char *const multi[] = {"one", "tw\xC3\xB6", "three"};
	static const unsigned char bin[] = {0, 1, 2, 0xFF};

	ipam_pol_init(pol);
	assert_int_equal(ipam_pol_add_sz(pol, "Software\\Test", "sz",
					 IPAM_POL_SZ, "h\xC3\xA9llo"),
			 0);
	assert_int_equal(ipam_pol_add_sz(pol, "Software\\Test", "",
					 IPAM_POL_EXPAND_SZ, "%SystemRoot%"),
			 0);
	assert_int_equal(
		ipam_pol_add_dword(pol, "Software\\Test", "dw", 0xDEADBEEF), 0);
	assert_int_equal(ipam_pol_add_qword(pol, "Software\\Test", "qw",
					    0x0102030405060708ull),
			 0);
	assert_int_equal(
		ipam_pol_add_multi_sz(pol, "Software\\Test", "multi", multi, 3),
		0);
	assert_int_equal(ipam_pol_add(pol, "Software\\Test", "bin",
				      IPAM_POL_BINARY, bin, sizeof(bin)),
			 0);
	assert_int_equal(ipam_pol_add(pol, "Software\\Test", "empty",
				      IPAM_POL_BINARY, NULL, 0),
			 0);
	assert_int_equal(ipam_pol_add_sz(pol, "Software\\Test", "empty-sz",
					 IPAM_POL_SZ, ""),
			 0);
}

static void test_pol_roundtrip(void **state)
{
	struct ipam_pol pol, back;
	struct strbuf out = STRBUF_INIT, s = STRBUF_INIT;
	const struct ipam_pol_entry *e;

	(void)state;
	sample_pol(&pol);
	assert_int_equal(ipam_pol_write(&out, &pol), 0);
	assert_memory_equal(out.buf, "PReg\x01\x00\x00\x00", 8);
	assert_int_equal(ipam_pol_parse(&back, out.buf, out.len), 0);
	assert_true(ipam_pol_equal(&pol, &back));
	e = ipam_pol_find(&back, "SOFTWARE\\test", "SZ");
	assert_non_null(e);
	assert_int_equal(ipam_pol_entry_string(&s, e), 0);
	assert_string_equal(s.buf, "h\xC3\xA9llo");
	assert_null(ipam_pol_find(&back, "Software\\Test", "nope"));
	e = ipam_pol_find(&back, "Software\\Test", "dw");
	assert_int_equal(ipam_pol_entry_string(&s, e), IPAM_EINVAL);
	/* An empty file is valid. */
	ipam_pol_release(&back);
	assert_int_equal(ipam_pol_parse(&back, "PReg\1\0\0\0", 8), 0);
	assert_int_equal(back.nr, 0);
	ipam_pol_release(&pol);
	ipam_pol_release(&back);
	ipam_pol_release(NULL);
	strbuf_release(&out);
	strbuf_release(&s);
}

static void test_pol_add_rejects(void **state)
{
	struct ipam_pol pol = IPAM_POL_INIT;
	static const char *const with_empty[] = {"a", ""};

	(void)state;
	assert_int_equal(ipam_pol_add_sz(&pol, "", "v", IPAM_POL_SZ, "x"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_pol_add_sz(&pol, "K", "v", IPAM_POL_DWORD, "x"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_pol_add(&pol, "K", "v", IPAM_POL_DWORD, "abc", 3),
			 IPAM_EINVAL);
	assert_int_equal(ipam_pol_add(&pol, "K", "v", 5, "abcd", 4),
			 IPAM_EINVAL);
	assert_int_equal(ipam_pol_add(&pol, "K", "v", IPAM_POL_SZ, "a\0b", 3),
			 IPAM_EINVAL);
	assert_int_equal(ipam_pol_add_multi_sz(&pol, "K", "v", with_empty, 2),
			 IPAM_EINVAL);
	assert_int_equal(ipam_pol_add_sz(&pol, "K\xFF", "v", IPAM_POL_SZ, "x"),
			 IPAM_EINVAL);
	assert_int_equal(pol.nr, 0);
	ipam_pol_release(&pol);
}

/* Build "PReg" v1 + one hand-made entry. */
static void raw_entry(struct strbuf *sb, const char *key_utf16, size_t key_len,
		      uint32_t type, uint32_t size, const void *data,
		      size_t data_len, bool close)
{
	unsigned char u32[4];

	strbuf_reset(sb);
	strbuf_add(sb, "PReg\1\0\0\0", 8);
	strbuf_add(sb, "[\0", 2);
	strbuf_add(sb, key_utf16, key_len);
	strbuf_add(sb, ";\0v\0\0\0;\0", 8);
	u32[0] = (unsigned char)type;
	u32[1] = u32[2] = u32[3] = 0;
	strbuf_add(sb, u32, 4);
	strbuf_add(sb, ";\0", 2);
	u32[0] = (unsigned char)size;
	u32[1] = (unsigned char)(size >> 8);
	u32[2] = (unsigned char)(size >> 16);
	u32[3] = (unsigned char)(size >> 24);
	strbuf_add(sb, u32, 4);
	strbuf_add(sb, ";\0", 2);
	strbuf_add(sb, data, data_len);
	if (close)
		strbuf_add(sb, "]\0", 2);
}

static void test_pol_hostile(void **state)
{
	struct ipam_pol pol, ref;
	struct strbuf good = STRBUF_INIT, sb = STRBUF_INIT;
	uint32_t seed = 12345;
	size_t i, j;

	(void)state;
	/* Every prefix of a valid file: no crash; accepted only at an
	 * entry boundary and then equal to a prefix of the entries. */
	sample_pol(&ref);
	assert_int_equal(ipam_pol_write(&good, &ref), 0);
	for (i = 0; i < good.len; i++) {
		int rc = ipam_pol_parse(&pol, good.buf, i);

		if (rc == 0) {
			assert_true(pol.nr < ref.nr);
			for (j = 0; j < pol.nr; j++)
				assert_string_equal(pol.entries[j].value,
						    ref.entries[j].value);
		} else {
			assert_int_equal(pol.nr, 0);
		}
		ipam_pol_release(&pol);
	}
	/* Wrong magic, wrong version. */
	assert_int_equal(ipam_pol_parse(&pol, "PRef\1\0\0\0", 8), IPAM_EINVAL);
	assert_int_equal(ipam_pol_parse(&pol, "PReg\2\0\0\0", 8), IPAM_EINVAL);
	assert_int_equal(ipam_pol_parse(&pol, "PReg", 4), IPAM_EINVAL);
	/* Size past the end. */
	raw_entry(&sb, "K\0\0\0", 4, IPAM_POL_DWORD, 0xFFFFFFF0u, "abcd", 4,
		  true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	/* Odd string size, DWORD of 3 bytes, unterminated SZ. */
	raw_entry(&sb, "K\0\0\0", 4, IPAM_POL_SZ, 3, "a\0\0", 3, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	raw_entry(&sb, "K\0\0\0", 4, IPAM_POL_DWORD, 3, "abc", 3, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	raw_entry(&sb, "K\0\0\0", 4, IPAM_POL_SZ, 2, "a\0", 2, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	/* Lone surrogate in a key, and in SZ data. */
	raw_entry(&sb, "\x00\xD8\0\0", 4, IPAM_POL_DWORD, 4, "abcd", 4, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	raw_entry(&sb, "K\0\0\0", 4, IPAM_POL_SZ, 4, "\x00\xDC\0\0", 4, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	/* Empty key, unknown type, missing ']'. */
	raw_entry(&sb, "\0\0", 2, IPAM_POL_DWORD, 4, "abcd", 4, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	raw_entry(&sb, "K\0\0\0", 4, 5, 4, "abcd", 4, true);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	raw_entry(&sb, "K\0\0\0", 4, IPAM_POL_DWORD, 4, "abcd", 4, false);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	/* An unterminated key running to the end of the file. */
	strbuf_reset(&sb);
	strbuf_add(&sb, "PReg\1\0\0\0[\0K\0K\0K", 15);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_EINVAL);
	/* A key longer than the bound. */
	strbuf_reset(&sb);
	strbuf_add(&sb, "PReg\1\0\0\0[\0", 10);
	for (i = 0; i < IPAM_POL_MAX_NAME + 1; i++)
		strbuf_add(&sb, "K\0", 2);
	strbuf_add(&sb, "\0\0", 2);
	assert_int_equal(ipam_pol_parse(&pol, sb.buf, sb.len), IPAM_ELIMIT);
	/* Random corruption of a valid file never crashes. */
	for (i = 0; i < 3000; i++) {
		strbuf_reset(&sb);
		strbuf_add(&sb, good.buf, good.len);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245u + 12345u;
			sb.buf[8 + (seed >> 8) % (sb.len - 8)] =
				(char)(seed >> 24);
		}
		if (ipam_pol_parse(&pol, sb.buf, sb.len) == 0)
			ipam_pol_release(&pol);
		else
			assert_int_equal(pol.nr, 0);
	}
	ipam_pol_release(&ref);
	strbuf_release(&good);
	strbuf_release(&sb);
}

/* ---- Firewall rules and golden Registry.pol ----------------------------- */

static void test_fw_rule_string(void **state)
{
	struct strbuf s = STRBUF_INIT;
	const struct ipam_fw_rule *const *r;
	size_t nr;

	(void)state;
	r = ipam_pol_fw_rules(IPAM_POL_GPO_DHCP, &nr);
	assert_int_equal(nr, 8);
	assert_int_equal(ipam_pol_fw_rule_string(&s, r[0]), 0);
	assert_string_equal(s.buf,
			    "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|"
			    "LPort=RPC|App=%systemroot%\\system32\\svchost.exe|"
			    "Svc=dhcpserver|Name=DHCP Server (RPC-In)|");
	strbuf_reset(&s);
	assert_int_equal(ipam_pol_fw_rule_string(&s, r[3]), 0);
	assert_string_equal(s.buf, "v2.10|Action=Allow|Active=TRUE|Dir=In|"
				   "Protocol=6|LPort=445|App=System|"
				   "Name=File and Printer Sharing (SMB-In)|");
	ipam_pol_fw_rules(IPAM_POL_GPO_DNS, &nr);
	assert_int_equal(nr, 6);
	ipam_pol_fw_rules(IPAM_POL_GPO_DC_NPS, &nr);
	assert_int_equal(nr, 2);
	strbuf_release(&s);
}

/* Samba's own Registry.pol decoder, as an independent oracle: prints
 * key|value|type|data per entry. */
static const char samba_oracle[] =
	"import sys\n"
	"from samba.gp_parse.gp_pol import GPPolParser\n"
	"p = GPPolParser()\n"
	"p.parse(open(sys.argv[1], 'rb').read())\n"
	"for e in p.pol_file.entries:\n"
	"    sys.stdout.write('%s|%s|%d|%s\\n' % (e.keyname, e.valuename,\n"
	"        e.type, e.data))\n";

static void test_pol_golden(void **state)
{
	enum ipam_pol_gpo gpo;

	(void)state;
	for (gpo = IPAM_POL_GPO_DHCP; gpo <= IPAM_POL_GPO_DC_NPS; gpo++) {
		struct ipam_pol pol, back;
		struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;
		const struct ipam_fw_rule *const *rules;
		struct run_result rr;
		char *path = fixture_path(gpo, "Registry.pol");
		char *argv[] = {"/usr/bin/python3", "-c", (char *)samba_oracle,
				path, NULL};
		size_t i, nr;

		assert_int_equal(ipam_pol_build(&pol, gpo), 0);
		assert_int_equal(ipam_pol_write(&out, &pol), 0);
		check_golden(gpo, "Registry.pol", &out);
		assert_int_equal(ipam_pol_parse(&back, out.buf, out.len), 0);
		assert_true(ipam_pol_equal(&pol, &back));

		rules = ipam_pol_fw_rules(gpo, &nr);
		for (i = 0; i < nr; i++) {
			strbuf_addf(&want, "%s|%s|1|", IPAM_POL_FW_KEY,
				    rules[i]->id);
			assert_int_equal(
				ipam_pol_fw_rule_string(&want, rules[i]), 0);
			strbuf_addch(&want, '\n');
		}
		assert_int_equal(run_cmd(&rr, NULL, NULL, argv), 0);
		if (rr.status != 0)
			fail_msg("samba oracle failed: %s", rr.err);
		assert_string_equal(rr.out, want.buf);
		run_result_free(&rr);
		ipam_pol_release(&pol);
		ipam_pol_release(&back);
		strbuf_release(&out);
		strbuf_release(&want);
		free(path);
	}
}

/* ---- The whole set --------------------------------------------------- */

static void test_render_set(void **state)
{
	enum ipam_pol_gpo gpo;

	(void)state;
	for (gpo = IPAM_POL_GPO_DHCP; gpo <= IPAM_POL_GPO_DC_NPS; gpo++) {
		struct ipam_gpp_params p = params(gpo);
		struct ipam_pol_set set, again;
		size_t i;

		assert_int_equal(ipam_pol_render_set(&set, gpo, &p), 0);
		assert_int_equal(set.nr, gpo == IPAM_POL_GPO_DC_NPS ? 2 : 3);
		assert_string_equal(set.files[0].path, "Machine\\Registry.pol");
		/* Re-rendering is byte-identical. */
		assert_int_equal(ipam_pol_render_set(&again, gpo, &p), 0);
		for (i = 0; i < set.nr; i++) {
			const char *base = strrchr(set.files[i].path, '\\') + 1;
			char *path = fixture_path(gpo, base);
			size_t len;
			char *want = slurp(path, &len);
			unsigned char md[32];

			assert_non_null(want);
			ipam_sha256(md, want, len);
			assert_memory_equal(md, set.files[i].sha256, 32);
			assert_memory_equal(set.files[i].sha256,
					    again.files[i].sha256, 32);
			free(want);
			free(path);
		}
		ipam_pol_set_release(&set);
		ipam_pol_set_release(&again);
	}
	ipam_pol_set_release(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_pol_roundtrip),
		cmocka_unit_test(test_pol_add_rejects),
		cmocka_unit_test(test_pol_hostile),
		cmocka_unit_test(test_fw_rule_string),
		cmocka_unit_test(test_pol_golden),
		cmocka_unit_test(test_render_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
