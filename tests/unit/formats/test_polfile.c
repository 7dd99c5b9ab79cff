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

/* The fixed inputs of the golden files (see tests/fixtures/polfile). */
#define IPAMUG_NAME "CORP\\IPAMUG"
#define IPAMUG_SID  "S-1-5-21-1004336348-1177238915-682003330-1105"
#define CHANGED	    1704110400 /* 2024-01-01 12:00:00 UTC */

static const char *const gpo_dir[] = {"DHCP", "DNS", "DC_NPS"};
static const char *const gpo_guid[] = {
	"{5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A51}",
	"{5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A52}",
	"{5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A53}",
};

static struct ipam_gpp_params params(enum ipam_pol_gpo gpo)
{
	struct ipam_gpp_params p = {gpo_guid[gpo], IPAMUG_NAME, IPAMUG_SID,
				    (time_t)CHANGED};
	return p;
}

static char *fixture_path(enum ipam_pol_gpo gpo, const char *file)
{
	return xasprintf("%s/polfile/%s/%s", fixtures_dir(), gpo_dir[gpo],
			 file);
}

/* Compare with the golden file; IPAM_POLFILE_REGEN=1 rewrites it. */
static void check_golden(enum ipam_pol_gpo gpo, const char *file,
			 const struct strbuf *got)
{
	char *path = fixture_path(gpo, file);
	size_t len = 0;
	char *want;

	if (getenv("IPAM_POLFILE_REGEN")) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got->buf, 1, got->len, f), got->len);
		assert_int_equal(fclose(f), 0);
	}
	want = slurp(path, &len);
	if (!want)
		fail_msg("cannot read %s", path);
	if (len != got->len || memcmp(want, got->buf, len))
		fail_msg("%s differs from the rendered bytes", path);
	free(want);
	free(path);
}

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

/* ---- GPP XML ------------------------------------------------------------ */

static void xmllint_ok(const char *path)
{
	struct run_result rr;
	char *argv[] = {"/usr/bin/xmllint", "--noout", (char *)path, NULL};

	assert_int_equal(run_cmd(&rr, NULL, NULL, argv), 0);
	if (rr.status != 0)
		fail_msg("xmllint rejects %s: %s", path, rr.err);
	run_result_free(&rr);
}

static void check_group(const struct ipam_gpp_item *it, const char *name,
			const char *sid, const char *gguid)
{
	char uid[39];
	char *key = xasprintf("Groups/%s", name);

	assert_string_equal(it->tag, "Group");
	assert_string_equal(it->clsid,
			    "{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}");
	assert_string_equal(it->name, name);
	assert_string_equal(it->changed, "2024-01-01 12:00:00");
	assert_int_equal(ipam_gpp_item_uid(uid, gguid, key), 0);
	assert_string_equal(it->uid, uid);
	assert_string_equal(it->action, "U");
	assert_string_equal(it->group_name, name);
	assert_string_equal(it->group_sid, sid);
	assert_false(it->delete_all_users);
	assert_false(it->delete_all_groups);
	assert_false(it->remove_accounts);
	assert_int_equal(it->nr_members, 1);
	assert_string_equal(it->members[0].name, IPAMUG_NAME);
	assert_string_equal(it->members[0].action, "ADD");
	assert_string_equal(it->members[0].sid, IPAMUG_SID);
	free(key);
}

static void test_gpp_golden(void **state)
{
	enum ipam_pol_gpo gpo;

	(void)state;
	for (gpo = IPAM_POL_GPO_DHCP; gpo <= IPAM_POL_GPO_DC_NPS; gpo++) {
		struct ipam_gpp_params p = params(gpo);
		struct strbuf out = STRBUF_INIT, sd = STRBUF_INIT;
		struct ipam_gpp_file f;
		char *path;

		assert_int_equal(ipam_gpp_groups_xml(&out, gpo, &p), 0);
		check_golden(gpo, "Groups.xml", &out);
		path = fixture_path(gpo, "Groups.xml");
		xmllint_ok(path);
		free(path);
		assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len), 0);
		assert_string_equal(f.root, "Groups");
		assert_string_equal(f.root_clsid,
				    "{3125E937-EB16-4b4c-9934-544FC6D24D26}");
		assert_int_equal(f.nr, gpo == IPAM_POL_GPO_DHCP ? 2 : 1);
		check_group(&f.items[0], IPAM_GPP_ELR_NAME, IPAM_GPP_ELR_SID,
			    gpo_guid[gpo]);
		if (gpo == IPAM_POL_GPO_DHCP)
			check_group(&f.items[1], IPAM_GPP_DHCP_USERS, "",
				    gpo_guid[gpo]);
		ipam_gpp_file_release(&f);

		strbuf_reset(&out);
		if (gpo != IPAM_POL_GPO_DHCP) {
			assert_int_equal(ipam_gpp_shares_xml(&out, gpo, &p),
					 IPAM_EINVAL);
		} else {
			assert_int_equal(ipam_gpp_shares_xml(&out, gpo, &p), 0);
			check_golden(gpo, "NetworkShares.xml", &out);
			path = fixture_path(gpo, "NetworkShares.xml");
			xmllint_ok(path);
			free(path);
			assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len),
					 0);
			assert_string_equal(f.root, "NetworkShareSettings");
			assert_int_equal(f.nr, 1);
			assert_string_equal(f.items[0].tag, "NetShare");
			assert_string_equal(f.items[0].name, "dhcpaudit");
			assert_string_equal(f.items[0].action, "U");
			assert_string_equal(f.items[0].share_path,
					    "%SystemRoot%\\System32\\dhcp");
			ipam_gpp_file_release(&f);
		}

		strbuf_reset(&out);
		if (gpo != IPAM_POL_GPO_DNS) {
			assert_int_equal(ipam_gpp_registry_xml(&out, gpo, &p),
					 IPAM_EINVAL);
		} else {
			assert_int_equal(ipam_gpp_registry_xml(&out, gpo, &p),
					 0);
			check_golden(gpo, "Registry.xml", &out);
			path = fixture_path(gpo, "Registry.xml");
			xmllint_ok(path);
			free(path);
			assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len),
					 0);
			assert_string_equal(f.root, "RegistrySettings");
			assert_int_equal(f.nr, 1);
			assert_string_equal(f.items[0].hive,
					    "HKEY_LOCAL_MACHINE");
			assert_string_equal(f.items[0].key,
					    IPAM_GPP_CUSTOMSD_KEY);
			assert_string_equal(f.items[0].value_name, "CustomSD");
			assert_string_equal(f.items[0].type, "REG_SZ");
			assert_int_equal(ipam_gpp_dns_customsd(&sd, IPAMUG_SID),
					 0);
			assert_string_equal(f.items[0].value, sd.buf);
			ipam_gpp_file_release(&f);
		}
		strbuf_release(&out);
		strbuf_release(&sd);
	}
}

static void test_gpp_customsd(void **state)
{
	struct strbuf sd = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_gpp_dns_customsd(&sd, "S-1-5-21-1-2-3-1105"), 0);
	assert_string_equal(
		sd.buf, "O:BAG:SYD:(A;;0xf0007;;;SY)(A;;0x7;;;BA)(A;;0x7;;;SO)"
			"(A;;0x3;;;IU)(A;;0x3;;;SU)(A;;0x3;;;S-1-5-3)"
			"(A;;0x3;;;S-1-5-33)(A;;0x1;;;S-1-5-32-573)"
			"(A;;0x1;;;S-1-5-21-1-2-3-1105)");
	assert_int_equal(ipam_gpp_dns_customsd(&sd, "S-1-5-(A;;GA;;;WD)"),
			 IPAM_EINVAL);
	strbuf_release(&sd);
}

static void test_gpp_escaping(void **state)
{
	struct ipam_gpp_params p = params(IPAM_POL_GPO_DC_NPS);
	struct strbuf out = STRBUF_INIT;
	struct ipam_gpp_file f;
	const char *nasty = "A&B<C>D\"E'F\xC3\xA9";

	(void)state;
	p.ipamug_name = nasty;
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p), 0);
	assert_non_null(strstr(out.buf, "name=\"A&amp;B&lt;C&gt;D&quot;E&apos;"
					"F\xC3\xA9\""));
	assert_int_equal(ipam_gpp_parse(&f, out.buf, out.len), 0);
	assert_string_equal(f.items[0].members[0].name, nasty);
	ipam_gpp_file_release(&f);
	/* Control characters and bad UTF-8 are refused, output untouched. */
	strbuf_reset(&out);
	p.ipamug_name = "a\nb";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	assert_int_equal(out.len, 0);
	p.ipamug_name = "a\xFF";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	p.ipamug_name = IPAMUG_NAME;
	p.ipamug_sid = "S-1-5-21-x";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	p.ipamug_sid = IPAMUG_SID;
	p.gpo_guid = "5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A51";
	assert_int_equal(ipam_gpp_groups_xml(&out, IPAM_POL_GPO_DC_NPS, &p),
			 IPAM_EINVAL);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void test_gpp_uid(void **state)
{
	char a[39], b[39], c[39], d[39];

	(void)state;
	assert_int_equal(ipam_gpp_item_uid(a, gpo_guid[0], "Groups/x"), 0);
	assert_int_equal(ipam_gpp_item_uid(b, gpo_guid[0], "Groups/x"), 0);
	assert_string_equal(a, b);
	assert_int_equal(ipam_gpp_item_uid(c, gpo_guid[1], "Groups/x"), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(ipam_gpp_item_uid(d, gpo_guid[0], "Groups/y"), 0);
	assert_string_not_equal(a, d);
	/* The GPO GUID's case does not matter. */
	assert_int_equal(
		ipam_gpp_item_uid(d, "{5c2a0b14-7e3d-4f61-9a8b-0c1d2e3f4a51}",
				  "Groups/x"),
		0);
	assert_string_equal(a, d);
	assert_int_equal(strlen(a), 38);
	assert_int_equal(a[15], '8'); /* version 8 */
	assert_int_equal(ipam_gpp_item_uid(d, "nope", "x"), IPAM_EINVAL);
}

static void test_gpp_reader(void **state)
{
	/* GPMC's shape with reordered attributes, whitespace, a comment,
	 * a BOM, single quotes, references, Filters and a User item. */
	static const char doc[] =
		"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
		"<!-- edited -->\n"
		"<Groups clsid=\"{3125E937-EB16-4b4c-9934-544FC6D24D26}\">\n"
		"  <Group uid='{U}' name=\"Event Log Readers (built-in)\" "
		"clsid=\"{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}\" "
		"image=\"2\">\n"
		"    <Properties groupName=\"Event Log Readers (built-in)\" "
		"action = \"U\" deleteAllUsers=\"1\" groupSid=\"S-1-5-32-573\">"
		"<Members><Member name=\"C&#x41;RP\\x\" action=\"ADD\" "
		"sid=\"S-1-5-21-1\"/><Member name=\"&#67;\" action=\"REMOVE\" "
		"sid=\"\"/></Members></Properties>\n"
		"    <Filters><FilterComputer name=\"X\"/></Filters>\n"
		"  </Group>\n"
		"  <User clsid=\"{DF5F1855-51E5-4d24-8B1A-D9BDE98BA1D1}\" "
		"name=\"Administrator (built-in)\"><Properties action=\"U\"/>"
		"</User>\n"
		"</Groups>\n";
	static const char *const bad[] = {
		"",
		"<Groups>",
		"<Groups></Group>",
		"<Groups a=\"1\" a=\"2\"/>",
		"<Groups a=\"&bogus;\"/>",
		"<Groups a=\"&#0;\"/>",
		"<Groups a=\"&#xD800;\"/>",
		"<Groups a=\"&#x110000;\"/>",
		"<!DOCTYPE x [<!ENTITY a \"b\">]><Groups/>",
		"<Groups/><Groups/>",
		"<Groups a=\"x/>",
		"<Groups a=x/>",
		"<Groups><![CDATA[x]]></Groups>",
		"<Groups><!-- unterminated </Groups>",
		"<Groups></Groups x=\"1\">",
	};
	struct ipam_gpp_file f;
	struct strbuf deep = STRBUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(ipam_gpp_parse(&f, doc, sizeof(doc) - 1), 0);
	assert_int_equal(f.nr, 2);
	assert_string_equal(f.items[0].uid, "{U}");
	assert_string_equal(f.items[0].action, "U");
	assert_true(f.items[0].delete_all_users);
	assert_null(f.items[0].changed);
	assert_int_equal(f.items[0].nr_members, 2);
	assert_string_equal(f.items[0].members[0].name, "CARP\\x");
	assert_string_equal(f.items[0].members[1].name, "C");
	assert_string_equal(f.items[0].members[1].action, "REMOVE");
	assert_string_equal(f.items[1].tag, "User");
	assert_int_equal(f.items[1].nr_members, 0);
	ipam_gpp_file_release(&f);
	ipam_gpp_file_release(NULL);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ipam_gpp_parse(&f, bad[i], strlen(bad[i]));

		if (rc != IPAM_EINVAL)
			fail_msg("accepted bad XML #%zu: %s", i, bad[i]);
		assert_null(f.items);
	}
	/* Every prefix of the document: no crash. */
	for (i = 0; i < sizeof(doc) - 1; i++)
		if (ipam_gpp_parse(&f, doc, i) == 0)
			ipam_gpp_file_release(&f);
	/* Nesting bound. */
	for (i = 0; i < 40; i++)
		strbuf_addstr(&deep, "<a>");
	assert_int_equal(ipam_gpp_parse(&f, deep.buf, deep.len), IPAM_EINVAL);
	strbuf_release(&deep);
}

/* ---- GPT.INI, versions, extension names --------------------------------- */

static void test_gpt_ini(void **state)
{
	struct strbuf out = STRBUF_INIT;
	uint32_t v = 0;
	static const char samba[] = "[General]\r\nVersion=0\r\n";
	static const char gpmc[] = "\xEF\xBB\xBF[General]\r\ndisplayName=New "
				   "Group Policy Object\r\nVersion = 65539\r\n";

	(void)state;
	/* The exact bytes samba-tool gpo create writes (4.17 netcmd/gpo.py). */
	assert_int_equal(ipam_gpt_ini_write(&out, 0), 0);
	assert_string_equal(out.buf, samba);
	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ini_write(&out, 4294967295u), 0);
	assert_string_equal(out.buf, "[General]\r\nVersion=4294967295\r\n");
	assert_int_equal(ipam_gpt_ini_parse(&v, out.buf, out.len), 0);
	assert_int_equal(v, 4294967295u);
	assert_int_equal(ipam_gpt_ini_parse(&v, samba, strlen(samba)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ipam_gpt_ini_parse(&v, gpmc, strlen(gpmc)), 0);
	assert_int_equal(v, 65539);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[general]\nversion=7", 19), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[Other]\nVersion=7\n", 18),
			 IPAM_ENOTFOUND);
	assert_int_equal(ipam_gpt_ini_parse(&v, "", 0), IPAM_ENOTFOUND);
	assert_int_equal(
		ipam_gpt_ini_parse(&v, "[General]\nVersion=4294967296\n", 28),
		IPAM_EINVAL);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[General]\nVersion=-1\n", 20),
			 IPAM_EINVAL);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[General]\nVersion=\n", 18),
			 IPAM_EINVAL);
	assert_int_equal(
		ipam_gpt_ini_parse(&v, "[General]\nVersion=1\nVersion=2\n", 29),
		IPAM_EINVAL);
	assert_int_equal(ipam_gpt_ini_parse(&v, "[General]\nVersion=1\0", 20),
			 IPAM_EINVAL);
	strbuf_release(&out);
}

static void test_gpt_version(void **state)
{
	(void)state;
	assert_int_equal(ipam_gpt_user_version(0x00030005u), 3);
	assert_int_equal(ipam_gpt_machine_version(0x00030005u), 5);
	assert_int_equal(ipam_gpt_bump_machine(0), 1);
	assert_int_equal(ipam_gpt_bump_machine(0x00030005u), 0x00030006u);
	assert_int_equal(ipam_gpt_bump_machine(0x0003FFFEu), 0x0003FFFFu);
	/* Wraparound skips 0 and keeps the user half. */
	assert_int_equal(ipam_gpt_bump_machine(0x0003FFFFu), 0x00030001u);
	assert_int_equal(ipam_gpt_bump_machine(0xFFFFFFFFu), 0xFFFF0001u);
}

static void test_gpt_ext(void **state)
{
	static const char *const t1[] = {
		"{D02B1F72-3407-48AE-BA88-E8213C6761F1}",
		"{b05566ac-fe9c-4368-be01-7a4cbb6cba11}",
		"{D02B1F72-3407-48ae-BA88-E8213C6761F1}", /* duplicate */
	};
	static const char *const t2[] = {
		"{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"};
	static const char *const t3[] = {
		"{0F6B957E-509E-11D1-A7CC-0000F87571E3}"};
	struct ipam_gpt_ext exts[] = {
		{"{35378EAC-683F-11D2-A89A-00C04FBBCFA2}", t1, 3},
		{"{17D89FEC-5C44-4972-B12D-241CAEF74509}", t2, 1},
		{"{35378eac-683f-11d2-a89a-00c04fbbcfa2}", t3, 1}, /* merged */
	};
	struct ipam_gpt_ext bad = {"{35378EAC-683F-11D2-A89A-00C04FBBCFA}", t2,
				   1};
	struct strbuf out = STRBUF_INIT;
	struct ipam_gpt_ext_list l;
	static const char *const bad_parse[] = {
		"[",
		"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}",
		"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{D02B1F72}]",
		"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}]x",
		"x",
		"[]",
	};
	size_t i;

	(void)state;
	assert_int_equal(ipam_gpt_ext_build(&out, exts, 3), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{0F6B957E-509E-11D1-A7CC-0000F87571E3}"
				     "{b05566ac-fe9c-4368-be01-7a4cbb6cba11}"
				     "{D02B1F72-3407-48AE-BA88-E8213C6761F1}]");
	assert_int_equal(ipam_gpt_ext_parse(&l, out.buf), 0);
	assert_int_equal(l.nr, 2);
	assert_int_equal(l.exts[1].nr_tools, 3);
	assert_string_equal(l.exts[1].tools[2],
			    "{D02B1F72-3407-48AE-BA88-E8213C6761F1}");
	ipam_gpt_ext_list_release(&l);
	ipam_gpt_ext_list_release(NULL);
	assert_int_equal(ipam_gpt_ext_parse(&l, ""), 0);
	assert_int_equal(l.nr, 0);
	for (i = 0; i < sizeof(bad_parse) / sizeof(bad_parse[0]); i++) {
		assert_int_equal(ipam_gpt_ext_parse(&l, bad_parse[i]),
				 IPAM_EINVAL);
		assert_null(l.exts);
	}
	assert_int_equal(ipam_gpt_ext_build(&out, &bad, 1), IPAM_EINVAL);

	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ext_for_gpo(&out, IPAM_POL_GPO_DHCP), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]"
				     "[{6A4C88C6-C502-4F74-8F60-2CB23EDC24E2}"
				     "{BFCBBEB0-9DF4-4C0C-A728-434EA66A0373}]");
	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ext_for_gpo(&out, IPAM_POL_GPO_DNS), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]"
				     "[{B087BE9D-ED37-454F-AF9C-04291E351182}"
				     "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]");
	strbuf_reset(&out);
	assert_int_equal(ipam_gpt_ext_for_gpo(&out, IPAM_POL_GPO_DC_NPS), 0);
	assert_string_equal(out.buf, "[{17D89FEC-5C44-4972-B12D-241CAEF74509}"
				     "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
				     "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
				     "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]");
	strbuf_release(&out);
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
		cmocka_unit_test(test_gpp_golden),
		cmocka_unit_test(test_gpp_customsd),
		cmocka_unit_test(test_gpp_escaping),
		cmocka_unit_test(test_gpp_uid),
		cmocka_unit_test(test_gpp_reader),
		cmocka_unit_test(test_gpt_ini),
		cmocka_unit_test(test_gpt_version),
		cmocka_unit_test(test_gpt_ext),
		cmocka_unit_test(test_render_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
