#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "sd.h"
#include "strbuf.h"
#include "testutil.h"

/* The lab's corp.example.test, where the fixtures were captured. */
#define DOMSID "S-1-5-21-1007883843-2278064255-3487682541"
#define APPLY  "edacfd8f-ffb3-11d1-b41d-00a0c968f939"

static const char *const fixtures[] = {
	"gpo",		"gpo-sacl",	     "domain",	   "domain-sacl",
	"microsoftdns", "microsoftdns-sacl", "gpo-sysvol",
};

static char *fixture(const char *name, const char *ext, size_t *len)
{
	char *path = xasprintf("%s/sd/%s.%s", fixtures_dir(), name, ext);
	char *data = slurp(path, len);

	if (!data)
		fail_msg("cannot read %s", path);
	free(path);
	return data;
}

static struct ipam_sid domsid(void)
{
	struct ipam_sid sid;

	assert_int_equal(ipam_sid_parse(&sid, DOMSID, NULL), 0);
	return sid;
}

static struct ipam_sd *parse_fixture(const char *name)
{
	size_t len;
	char *bin = fixture(name, "bin", &len);
	struct ipam_sd *sd;

	if (ipam_sd_parse(&sd, bin, len) < 0)
		fail_msg("%s: %s", name, ipam_error_last());
	free(bin);
	return sd;
}

static char *sddl_of(const struct ipam_sd *sd, const struct ipam_sid *dom)
{
	struct strbuf sb = STRBUF_INIT;

	if (ipam_sd_to_sddl(&sb, sd, dom) < 0)
		fail_msg("to_sddl: %s", ipam_error_last());
	return strbuf_detach(&sb, NULL);
}

static struct ipam_sd *from_sddl(const char *text)
{
	struct ipam_sid dom = domsid();
	struct ipam_sd *sd;

	if (ipam_sd_from_sddl(&sd, text, &dom) < 0)
		fail_msg("from_sddl '%s': %s", text, ipam_error_last());
	return sd;
}

static void test_fixtures_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(*fixtures); i++) {
		struct strbuf out = STRBUF_INIT;
		size_t len;
		char *bin = fixture(fixtures[i], "bin", &len);
		struct ipam_sd *sd = parse_fixture(fixtures[i]);

		assert_int_equal(ipam_sd_write(&out, sd), 0);
		if (out.len != len || memcmp(out.buf, bin, len))
			fail_msg("%s: written back differs", fixtures[i]);
		assert_int_equal(sd->layout, IPAM_SD_LAYOUT_SAMBA);
		strbuf_release(&out);
		ipam_sd_free(sd);
		free(bin);
	}
}

/* Our SDDL equals what Samba printed for the same descriptor, and parsing
 * that text gives back the same ACEs. */
static void test_fixtures_sddl(void **state)
{
	struct ipam_sid dom = domsid();

	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(*fixtures); i++) {
		char *want = fixture(fixtures[i], "sddl", NULL);
		struct ipam_sd *sd = parse_fixture(fixtures[i]), *back;
		char *got = sddl_of(sd, &dom), *again;

		if (strcmp(got, want))
			fail_msg("%s:\n got %s\nwant %s", fixtures[i], got,
				 want);
		back = from_sddl(want);
		assert_true(ipam_sd_canonical_equal(sd, back));
		assert_int_equal(back->dacl->count, sd->dacl->count);
		for (size_t k = 0; k < sd->dacl->count; k++)
			assert_true(ipam_ace_equal(&sd->dacl->aces[k],
						   &back->dacl->aces[k]));
		assert_true(ipam_sid_equal(&sd->owner, &back->owner));
		assert_true(ipam_sid_equal(&sd->group, &back->group));
		again = sddl_of(back, &dom);
		assert_string_equal(again, want);
		free(again);
		ipam_sd_free(back);
		free(got);
		free(want);
		ipam_sd_free(sd);
	}
}

/* samba-tool gpo show prints SIDs without the domain's aliases. */
static void test_sddl_without_domain(void **state)
{
	char *want = fixture("gpo-sacl.nodomain", "sddl", NULL);
	struct ipam_sd *sd = parse_fixture("gpo-sacl");
	char *got = sddl_of(sd, NULL);
	struct ipam_sd *back;

	(void)state;
	assert_string_equal(got, want);
	assert_int_equal(ipam_sd_from_sddl(&back, want, NULL), 0);
	assert_true(ipam_sd_canonical_equal(sd, back));
	ipam_sd_free(back);
	/* Domain aliases need the domain. */
	assert_int_equal(ipam_sd_from_sddl(&back, "O:DA", NULL), IPAM_EINVAL);
	assert_null(back);
	free(got);
	free(want);
	ipam_sd_free(sd);
}

/* What Samba 4.17 set on the GPO's SYSVOL folder is dsacl2fsacl of the
 * GPO's AD descriptor. */
static void test_to_fs_matches_sysvol(void **state)
{
	struct ipam_sid dom = domsid();
	struct ipam_sd *ds = parse_fixture("gpo"), *fs;
	struct strbuf out = STRBUF_INIT;
	size_t len;
	char *want = fixture("gpo-sysvol", "bin", &len);
	char *want_sddl = fixture("gpo-sysvol", "sddl", NULL), *got;

	(void)state;
	assert_int_equal(ipam_sd_to_fs(&fs, ds), 0);
	assert_int_equal(ipam_sd_write(&out, fs), 0);
	got = sddl_of(fs, &dom);
	assert_string_equal(got, want_sddl);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.buf, want, len);
	free(got);
	free(want_sddl);
	free(want);
	strbuf_release(&out);
	ipam_sd_free(fs);
	ipam_sd_free(ds);
}

static void test_to_fs_rules(void **state)
{
	struct ipam_sid dom = domsid();
	struct ipam_sd *ds = from_sddl(
		"O:DAG:DAD:AI(D;;RP;;;BU)(A;;RPLCLORC;;;RU)(A;;0xf00ff;;;CO)"
		"(A;ID;RPWP;;;AU)(OA;;RP;" APPLY ";;AU)(A;;CR;;;BA)"
		"S:(AU;SA;RP;;;WD)");
	struct ipam_sd *fs;
	char *got;

	(void)state;
	assert_int_equal(ipam_sd_to_fs(&fs, ds), 0);
	got = sddl_of(fs, &dom);
	/* deny and RU dropped, CO inherit-only, object ACE kept, no SACL */
	assert_string_equal(got, "O:DAG:DAD:AI(A;OICIIO;0x001f01ff;;;CO)"
				 "(A;OICIID;0x00100116;;;AU)"
				 "(OA;OICI;;" APPLY ";;AU)(A;OICI;;;;BA)");
	assert_int_equal(ipam_sd_fs_mask(0x00020094), 0x001200A9);
	assert_int_equal(ipam_sd_fs_mask(0x000F00FF), 0x001F01FF);
	assert_int_equal(ipam_sd_fs_mask(0x100), 0);
	assert_int_equal(ipam_sd_fs_mask(0x10), 0); /* RP without LC */
	free(got);
	ipam_sd_free(fs);
	ipam_sd_free(ds);
}

static void test_filter_add_remove(void **state)
{
	struct ipam_sid dom = domsid(), pc, au;
	struct ipam_sd *sd = parse_fixture("gpo");
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	char *text, *want;
	size_t n;

	(void)state;
	assert_int_equal(ipam_sid_append_rid(&pc, &dom, 1105), 0);
	assert_int_equal(ipam_sid_parse(&au, "AU", NULL), 0);
	assert_int_equal(ipam_sd_write(&before, sd), 0);
	n = sd->dacl->count;
	assert_true(ipam_sd_filter_has(sd, &au));
	assert_false(ipam_sd_filter_has(sd, &pc));
	assert_int_equal(ipam_sd_filter_add(sd, &pc), 2);
	assert_int_equal(ipam_sd_filter_add(sd, &pc), 0);
	assert_true(ipam_sd_filter_has(sd, &pc));
	assert_int_equal(sd->dacl->count, n + 2);
	text = sddl_of(sd, &dom);
	want = xasprintf("(A;CI;RPLCLORC;;;ED)(A;CI;RPLCLORC;;;" DOMSID
			 "-1105)(OA;CI;CR;" APPLY ";;" DOMSID "-1105)");
	assert_non_null(strstr(text, want));
	free(want);
	free(text);
	assert_int_equal(ipam_sd_filter_remove(sd, &pc), 2);
	assert_int_equal(ipam_sd_filter_remove(sd, &pc), 0);
	assert_int_equal(ipam_sd_write(&after, sd), 0);
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.buf, before.buf, before.len);

	/* An entry written by another tool -- no inheritance flag, more
	 * rights -- goes too: its apply ACE is what made it filtering; an
	 * inherited apply ACE is not the GPO's own and stays. */
	{
		struct ipam_sd *hand;

		want = xasprintf("O:DAG:DAD:(A;;RPLCLORC;;;" DOMSID "-1105)"
				 "(OA;;CRRP;" APPLY ";;" DOMSID "-1105)"
				 "(OA;CIID;CR;" APPLY ";;" DOMSID "-1106)");
		assert_int_equal(ipam_sd_from_sddl(&hand, want, &dom), 0);
		assert_int_equal(ipam_sd_filter_remove(hand, &pc), 1);
		text = sddl_of(hand, &dom);
		assert_null(strstr(text, "(OA;;CRRP;"));
		assert_non_null(
			strstr(text, "(A;;RPLCLORC;;;" DOMSID "-1105)"));
		assert_non_null(strstr(text, "(OA;CIID;CR;" APPLY));
		free(text);
		free(want);
		ipam_sd_free(hand);
	}

	/* Filtering to chosen computers: AU keeps read, loses apply. */
	assert_int_equal(ipam_sd_ace_remove(sd, IPAM_ACE_ALLOWED_OBJECT, &au,
					    &ipam_guid_apply_group_policy),
			 1);
	assert_false(ipam_sd_filter_has(sd, &au));
	text = sddl_of(sd, &dom);
	assert_non_null(strstr(text, "(A;CI;RPLCLORC;;;AU)"));
	assert_null(strstr(text, "(OA;CI;CR;" APPLY ";;AU)"));
	free(text);
	strbuf_release(&before);
	strbuf_release(&after);
	ipam_sd_free(sd);
}

static void test_ace_edit(void **state)
{
	struct ipam_sid dom = domsid();
	struct ipam_sd *sd = from_sddl("D:(D;;RP;;;BU)(A;;RP;;;AU)"
				       "(A;ID;RP;;;SY)");
	struct ipam_sd *cp;
	struct ipam_ace ace = {0};
	struct ipam_sid bu;
	char *text;

	(void)state;
	/* an explicit allow goes before the inherited ACEs */
	ace.type = IPAM_ACE_ALLOWED;
	ace.mask = IPAM_SD_RIGHT_WP;
	assert_int_equal(ipam_sid_parse(&ace.sid, "BA", NULL), 0);
	assert_int_equal(ipam_sd_ace_add(sd, &ace), 1);
	assert_int_equal(ipam_sd_ace_add(sd, &ace), 0);
	assert_int_equal(ipam_sd_ace_find(sd, &ace), 2);
	/* a deny goes after the other explicit denies */
	ace.type = IPAM_ACE_DENIED;
	assert_int_equal(ipam_sd_ace_add(sd, &ace), 1);
	text = sddl_of(sd, &dom);
	assert_string_equal(text, "D:(D;;RP;;;BU)(D;;WP;;;BA)(A;;RP;;;AU)"
				  "(A;;WP;;;BA)(A;ID;RP;;;SY)");
	free(text);
	/* inherited ACEs are not removed */
	assert_int_equal(ipam_sid_parse(&bu, "SY", NULL), 0);
	assert_int_equal(ipam_sd_ace_remove(sd, IPAM_ACE_ALLOWED, &bu, NULL),
			 0);
	assert_int_equal(ipam_sid_parse(&bu, "BA", NULL), 0);
	assert_int_equal(ipam_sd_ace_remove(sd, IPAM_ACE_ALLOWED, &bu, NULL),
			 1);
	cp = ipam_sd_dup(sd);
	assert_true(ipam_sd_canonical_equal(sd, cp));
	ipam_sd_free(cp);
	ipam_sd_free(sd);

	/* adding to a descriptor without a DACL makes one */
	sd = ipam_sd_new();
	ace.type = IPAM_ACE_ALLOWED;
	assert_int_equal(ipam_sd_ace_add(sd, &ace), 1);
	assert_true(sd->control & IPAM_SD_DACL_PRESENT);
	text = sddl_of(sd, &dom);
	assert_string_equal(text, "D:(A;;WP;;;BA)");
	free(text);
	ipam_sd_free(sd);
}

static void test_canonical(void **state)
{
	struct ipam_sid dom = domsid();
	struct ipam_sd *a = from_sddl("D:(A;;RP;;;AU)(A;ID;RP;;;SY)"
				      "(D;;RP;;;BA)(OD;;CR;" APPLY ";;BA)"
				      "(OA;;CR;" APPLY ";;AU)(A;ID;WP;;;SY)"
				      "(D;;WP;;;BU)");
	struct ipam_sd *b = from_sddl("D:(OD;;CR;" APPLY ";;BA)(D;;WP;;;BU)"
				      "(OA;;CR;" APPLY ";;AU)(A;;RP;;;AU)"
				      "(D;;RP;;;BA)(A;;RP;;;AU)");
	struct ipam_sd *c = from_sddl("D:(A;;RP;;;AU)(D;;RP;;;BA)"
				      "(OD;;CR;" APPLY ";;BA)(D;;WP;;;BU)");
	struct ipam_sd *d = from_sddl("D:(A;;WP;;;AU)(D;;RP;;;BA)"
				      "(OD;;CR;" APPLY ";;BA)(D;;WP;;;BU)"
				      "(OA;;CR;" APPLY ";;AU)");
	char *text;

	(void)state;
	assert_true(ipam_sd_canonical_equal(a, b));
	assert_true(ipam_sd_canonical_equal(b, a));
	assert_false(ipam_sd_canonical_equal(a, c));
	assert_false(ipam_sd_canonical_equal(c, a));
	assert_false(ipam_sd_canonical_equal(a, d));
	ipam_sd_canonicalize(a);
	text = sddl_of(a, &dom);
	assert_string_equal(text, "D:(D;;RP;;;BA)(D;;WP;;;BU)"
				  "(OD;;CR;" APPLY ";;BA)(A;;RP;;;AU)"
				  "(OA;;CR;" APPLY ";;AU)(A;ID;RP;;;SY)"
				  "(A;ID;WP;;;SY)");
	free(text);
	ipam_sd_free(a);
	ipam_sd_free(b);
	ipam_sd_free(c);
	ipam_sd_free(d);
}

/* The constant is the GUID its comment names (see test_sid.c for GUID
 * parsing and formatting). */
static void test_apply_guid(void **state)
{
	static const unsigned char wire[16] = {
		0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11,
		0xb4, 0x1d, 0x00, 0xa0, 0xc9, 0x68, 0xf9, 0x39};
	struct ipam_guid g;

	(void)state;
	assert_int_equal(ipam_guid_parse(&g, APPLY), 0);
	assert_memory_equal(g.b, wire, 16);
	assert_memory_equal(ipam_guid_apply_group_policy.b, wire, 16);
}

/* Rights letters where Samba 4.17 prints them, else hex. */
static void test_sddl_text(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"D:(A;;0x20094;;;AU)", "D:(A;;RPLCLORC;;;AU)"},
		{"D:(A;;0xf00ff;;;AU)", "D:(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;AU)"},
		{"D:(A;;0xf01ff;;;AU)",
		 "D:(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;AU)"},
		{"D:(A;;0xf0000000;;;AU)", "D:(A;;GAGRGWGX;;;AU)"},
		{"D:(A;;0x1f01ff;;;AU)", "D:(A;;0x001f01ff;;;AU)"},
		{"D:(A;;FA;;;AU)", "D:(A;;0x001f01ff;;;AU)"},
		{"D:(A;;0x200;;;AU)", "D:(A;;0x00000200;;;AU)"},
		{"D:(A;;512;;;AU)", "D:(A;;0x00000200;;;AU)"},
		{"D:(A;;0;;;AU)", "D:(A;;;;;AU)"},
		{"D:PAIAR(A;;RP;;;AU)", "D:PARAI(A;;RP;;;AU)"},
		{"D:ARAI(A;OICINPIOIDSAFA;RP;;;AU)",
		 "D:ARAI(A;OICINPIOIDSAFA;RP;;;AU)"},
		{"G:AUO:SY", "O:SYG:AU"},
		{"S:PAI(AU;SA;RP;;;AU)O:AUD:(A;;RP;;;AU)",
		 "O:AUD:(A;;RP;;;AU)S:PAI(AU;SA;RP;;;AU)"},
		{"D:(OA;;RP;EDACFD8F-FFB3-11D1-B41D-00A0C968F939;;AU)",
		 "D:(OA;;RP;" APPLY ";;AU)"},
		{"D:(OD;;RP;;" APPLY ";S-1-5-21-1-2-3-512)",
		 "D:(OD;;RP;;" APPLY ";S-1-5-21-1-2-3-512)"},
		{"O:S-1-5-21-1-2-3-512G:DAD:", "O:S-1-5-21-1-2-3-512G:DAD:"},
		{"D:P", "D:P"},
		{"", ""},
	};
	static const char *const bad[] = {
		"X:AU",
		"O:",
		"O:AUO:AU",
		"D:(A;;RP;;;AU",
		"D:(A;;RP;;AU)",
		"D:(A;;RP;;;;AU)",
		"D:(Q;;RP;;;AU)",
		"D:(A;XX;RP;;;AU)",
		"D:(A;C;RP;;;AU)",
		"D:(A;;RPX;;;AU)",
		"D:(A;;0x100000000;;;AU)",
		"D:(A;;0x1z;;;AU)",
		"D:(A;;RP;" APPLY ";;AU)",
		"D:(OA;;RP;edacfd8f;;AU)",
		"D:(A;;RP;;;AUX)",
		"D:(A;;RP;;;S-1-5-)",
		"D:(A;;RP;;;AU)D:",
		"D:(A;;RP;;;AU)x",
		"O:AU:",
	};
	struct ipam_sid dom = domsid();
	struct ipam_sd *sd;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got;

		sd = from_sddl(cases[i].in);
		got = sddl_of(sd, &dom);
		if (strcmp(got, cases[i].out))
			fail_msg("'%s': got '%s', want '%s'", cases[i].in, got,
				 cases[i].out);
		free(got);
		ipam_sd_free(sd);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		sd = (struct ipam_sd *)1;
		if (ipam_sd_from_sddl(&sd, bad[i], &dom) != IPAM_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_null(sd);
		assert_true(strlen(ipam_error_last()) > 0);
	}
}

/*
 * A SID whose identifier authority is 2^32 or more prints as "0x" and 12
 * hex digits; an SDDL letter after it ("D:") is a hex digit too, so the
 * round trip holds only when the reader takes exactly 12 (finding 10).
 */
static void test_sddl_large_authority(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"O:S-1-9999999999D:AI", "O:S-1-0x0002540be3ffD:AI"},
		{"O:S-1-0x0002540BE3FFD:AI", "O:S-1-0x0002540be3ffD:AI"},
		{"G:S-1-0xffffffffffff-5D:(A;;RP;;;S-1-0x0000000abcde)",
		 "G:S-1-0xffffffffffff-5D:(A;;RP;;;S-1-703710)"},
		{"O:S-1-4294967296-1D:", "O:S-1-0x000100000000-1D:"},
	};
	struct ipam_sid dom = domsid();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct ipam_sd *sd = from_sddl(cases[i].in);
		char *got = sddl_of(sd, &dom);
		char *again;

		if (strcmp(got, cases[i].out))
			fail_msg("'%s': got '%s', want '%s'", cases[i].in, got,
				 cases[i].out);
		ipam_sd_free(sd);
		sd = from_sddl(got);
		again = sddl_of(sd, &dom);
		assert_string_equal(again, got);
		free(again);
		free(got);
		ipam_sd_free(sd);
	}
}

/* ACL revision 4 with an object ACE, else 2 (unless read as more). */
static void test_acl_revision(void **state)
{
	struct ipam_sd *sd = from_sddl("O:AUD:(A;;RP;;;AU)");
	struct strbuf out = STRBUF_INIT;
	struct ipam_sid au;

	(void)state;
	assert_int_equal(ipam_sd_write(&out, sd), 0);
	/* owner at 20 (12 bytes), DACL at 32 */
	assert_int_equal((unsigned char)out.buf[32], 2);
	assert_int_equal(ipam_sid_parse(&au, "AU", NULL), 0);
	assert_int_equal(ipam_sd_filter_add(sd, &au), 2);
	strbuf_reset(&out);
	assert_int_equal(ipam_sd_write(&out, sd), 0);
	assert_int_equal((unsigned char)out.buf[32], 4);
	/* the object ACE: 4 + 4 + 4 + 16 + 12 = 40 bytes */
	assert_int_equal((unsigned char)out.buf[32 + 8 + 20 + 20 + 2], 40);
	strbuf_release(&out);
	ipam_sd_free(sd);
}

/* Windows' layout (SACL, DACL, owner, group) is kept on a round trip. */
static void test_windows_layout(void **state)
{
	struct ipam_sid dom = domsid();
	struct ipam_sd *sd = parse_fixture("gpo-sacl"), *back;
	struct strbuf w = STRBUF_INIT, w2 = STRBUF_INIT;
	char *a, *b;

	(void)state;
	sd->layout = IPAM_SD_LAYOUT_WINDOWS;
	assert_int_equal(ipam_sd_write(&w, sd), 0);
	/* SACL right after the header */
	assert_memory_equal(w.buf + 12, "\x14\0\0\0", 4);
	assert_int_equal(ipam_sd_parse(&back, w.buf, w.len), 0);
	assert_int_equal(back->layout, IPAM_SD_LAYOUT_WINDOWS);
	assert_int_equal(ipam_sd_write(&w2, back), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	a = sddl_of(sd, &dom);
	b = sddl_of(back, &dom);
	assert_string_equal(a, b);
	free(a);
	free(b);
	strbuf_release(&w);
	strbuf_release(&w2);
	ipam_sd_free(back);
	ipam_sd_free(sd);
}

/* Unknown ACE types and bytes after the SID survive a round trip. */
static void test_opaque_aces(void **state)
{
	/* SD: DACL at 20; ACL of 2 ACEs: type 0x11 (8 bytes of body) and
	 * an allowed ACE with 4 trailing bytes. */
	static const unsigned char bin[] = {
		1,
		0,
		0x04,
		0x80,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		0,
		20,
		0,
		0,
		0,
		/* ACL */
		2,
		0,
		44,
		0,
		2,
		0,
		0,
		0,
		/* opaque ACE */
		0x11,
		0,
		12,
		0,
		1,
		2,
		3,
		4,
		5,
		6,
		7,
		8,
		/* allowed ACE with trailing bytes */
		0,
		0x02,
		24,
		0,
		0x10,
		0,
		0,
		0,
		1,
		1,
		0,
		0,
		0,
		0,
		0,
		5,
		11,
		0,
		0,
		0,
		0xde,
		0xad,
		0xbe,
		0xef,
	};
	struct ipam_sd *sd, *cp;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_sd_parse(&sd, bin, sizeof(bin)), 0);
	assert_int_equal(sd->dacl->count, 2);
	assert_int_equal(sd->dacl->aces[0].extra_len, 8);
	assert_int_equal(sd->dacl->aces[1].extra_len, 4);
	cp = ipam_sd_dup(sd);
	assert_int_equal(ipam_sd_write(&out, cp), 0);
	assert_int_equal(out.len, sizeof(bin));
	assert_memory_equal(out.buf, bin, sizeof(bin));
	strbuf_reset(&out);
	assert_int_equal(ipam_sd_to_sddl(&out, sd, NULL), IPAM_EINVAL);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
	ipam_sd_free(cp);
	ipam_sd_free(sd);
}

static void expect_bad(const void *buf, size_t len)
{
	struct ipam_sd *sd = (struct ipam_sd *)1;

	assert_int_equal(ipam_sd_parse(&sd, buf, len), IPAM_EINVAL);
	assert_null(sd);
}

static void test_hostile(void **state)
{
	size_t len;
	unsigned char *bin = (unsigned char *)fixture("gpo-sacl", "bin", &len);
	unsigned char *copy = xmalloc(len);
	struct ipam_sd *sd;

	(void)state;
	/* every truncation */
	for (size_t n = 0; n < len; n++) {
		unsigned char *t = xmalloc(n ? n : 1);

		memcpy(t, bin, n);
		if (ipam_sd_parse(&sd, t, n) == 0)
			fail_msg("truncated to %zu accepted", n);
		free(t);
	}
	/* offsets past the end, inside the header, ACE size 0, counts */
	for (int field = 4; field < 20; field += 4) {
		static const uint32_t offs[] = {8,   19,	  431,
						432, 0xFFFFFFF0u, 0xFFFFFFFFu};

		for (size_t k = 0; k < sizeof(offs) / sizeof(*offs); k++) {
			memcpy(copy, bin, len);
			copy[field] = (unsigned char)offs[k];
			copy[field + 1] = (unsigned char)(offs[k] >> 8);
			copy[field + 2] = (unsigned char)(offs[k] >> 16);
			copy[field + 3] = (unsigned char)(offs[k] >> 24);
			expect_bad(copy, len);
		}
	}
	{
		/* gpo-sacl: DACL at 196, its first ACE at 204 */
		uint32_t dacl = 196;

		memcpy(copy, bin, len);
		copy[dacl + 8 + 2] = 0;
		copy[dacl + 8 + 3] = 0;
		expect_bad(copy, len); /* ACE size 0 */
		memcpy(copy, bin, len);
		copy[dacl + 8 + 2] = 6;
		copy[dacl + 8 + 3] = 0;
		expect_bad(copy, len); /* not a multiple of 4 */
		memcpy(copy, bin, len);
		copy[dacl + 8 + 2] = 0xfc;
		copy[dacl + 8 + 3] = 0xff;
		expect_bad(copy, len); /* past the ACL */
		memcpy(copy, bin, len);
		copy[dacl + 4] = 0xff;
		copy[dacl + 5] = 0xff;
		expect_bad(copy, len); /* count larger than data */
		memcpy(copy, bin, len);
		copy[dacl + 4] = 9;
		copy[dacl + 5] = 0;
		expect_bad(copy, len); /* one ACE more than there is */
		memcpy(copy, bin, len);
		copy[dacl + 2] = 0xff;
		copy[dacl + 3] = 0xff;
		expect_bad(copy, len); /* ACL size past the end */
		memcpy(copy, bin, len);
		copy[dacl + 2] = 4;
		copy[dacl + 3] = 0;
		expect_bad(copy, len); /* ACL size below its header */
		memcpy(copy, bin, len);
		copy[20 + 1] = 16; /* owner: 16 sub-authorities */
		expect_bad(copy, len);
		memcpy(copy, bin, len);
		copy[0] = 2;
		expect_bad(copy, len);
		memcpy(copy, bin, len);
		copy[3] &= 0x7f; /* not self-relative */
		expect_bad(copy, len);
	}
	free(copy);
	free(bin);
}

/* Deterministic mutations of every fixture: parse, and when that works,
 * write and print; never a crash (the sanitizer build runs this). */
static void test_fuzz(void **state)
{
	uint32_t seed = 12345;
	int parsed = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(*fixtures); f++) {
		size_t len;
		unsigned char *bin =
			(unsigned char *)fixture(fixtures[f], "bin", &len);
		unsigned char *m = xmalloc(len);

		for (int iter = 0; iter < 3000; iter++) {
			struct ipam_sd *sd;
			int flips;

			memcpy(m, bin, len);
			seed = seed * 1103515245u + 12345u;
			flips = 1 + (int)((seed >> 16) % 4);
			for (int k = 0; k < flips; k++) {
				seed = seed * 1103515245u + 12345u;
				/* mostly the headers, where it hurts */
				size_t pos = (seed >> 8) % (k ? len : 64);

				seed = seed * 1103515245u + 12345u;
				m[pos < len ? pos : 0] =
					(unsigned char)(seed >> 16);
			}
			if (ipam_sd_parse(&sd, m, len) == 0) {
				struct strbuf out = STRBUF_INIT;

				parsed++;
				struct ipam_sd *back;

				(void)ipam_sd_to_sddl(&out, sd, NULL);
				strbuf_reset(&out);
				if (ipam_sd_write(&out, sd) == 0) {
					assert_int_equal(ipam_sd_parse(&back,
								       out.buf,
								       out.len),
							 0);
					ipam_sd_free(back);
				}
				strbuf_release(&out);
				ipam_sd_free(sd);
			}
		}
		free(m);
		free(bin);
	}
	/* the write path was exercised too */
	assert_true(parsed > 1000);
}

/* Thousands of ACEs: as many as fit in an ACL, then one too many. */
static void test_many_aces(void **state)
{
	struct ipam_sd *sd = ipam_sd_new(), *back;
	struct strbuf out = STRBUF_INIT;
	struct ipam_ace ace = {0};
	struct ipam_sid base;
	size_t n = (0xFFFF - 8) / 20; /* 20-byte ACEs: S-1-5-<rid> */

	(void)state;
	ace.type = IPAM_ACE_ALLOWED;
	ace.mask = IPAM_SD_MASK_GPO_READ;
	assert_int_equal(ipam_sid_parse(&base, "S-1-5", NULL), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ipam_sid_append_rid(&ace.sid, &base,
						     1000 + (uint32_t)i),
				 0);
		assert_int_equal(ipam_sd_ace_add(sd, &ace), 1);
	}
	assert_int_equal(ipam_sd_write(&out, sd), 0);
	assert_int_equal(ipam_sd_parse(&back, out.buf, out.len), 0);
	assert_int_equal(back->dacl->count, n);
	assert_true(ipam_sd_canonical_equal(sd, back));
	ipam_sd_free(back);
	strbuf_reset(&out);
	assert_int_equal(ipam_sid_append_rid(&ace.sid, &base, 999), 0);
	assert_int_equal(ipam_sd_ace_add(sd, &ace), 1);
	assert_int_equal(ipam_sd_write(&out, sd), IPAM_ELIMIT);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
	ipam_sd_free(sd);

	/* an ACL claiming 65535 ACEs in 8 bytes */
	{
		static const unsigned char bin[] = {
			1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0,	  0,	0, 0,
			0, 0, 20,   0,	  0, 0, 2, 0, 8, 0, 0xff, 0xff, 0, 0};

		expect_bad(bin, sizeof(bin));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_round_trip),
		cmocka_unit_test(test_fixtures_sddl),
		cmocka_unit_test(test_sddl_without_domain),
		cmocka_unit_test(test_to_fs_matches_sysvol),
		cmocka_unit_test(test_to_fs_rules),
		cmocka_unit_test(test_filter_add_remove),
		cmocka_unit_test(test_ace_edit),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_apply_guid),
		cmocka_unit_test(test_sddl_text),
		cmocka_unit_test(test_sddl_large_authority),
		cmocka_unit_test(test_acl_revision),
		cmocka_unit_test(test_windows_layout),
		cmocka_unit_test(test_opaque_aces),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_many_aces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
