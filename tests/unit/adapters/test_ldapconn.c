/*
 * The pure parts of the LDAP adapter: domain DNs, GUID and SID text, entry
 * lookups, and the configurations refused before any network is touched.
 * Filter and DN escaping are tests/unit/formats/test_ldapesc.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "ldapconn.h"
#include "strbuf.h"

static void check_domain(const char *domain, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_ldapconn_domain_dn(&sb, domain);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_domain_dn(void **state)
{
	(void)state;
	check_domain("corp.example.test", "DC=corp,DC=example,DC=test");
	check_domain("branch.example.test.", "DC=branch,DC=example,DC=test");
	check_domain("test", "DC=test");
	check_domain("", "");
	check_domain("a..b", "DC=a,DC=b");
	check_domain("we,ird+x.test", "DC=we\\,ird\\+x,DC=test");
	check_domain("#x. y.test", "DC=\\#x,DC=\\ y,DC=test");
}

static void check_guid(const unsigned char *b, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "guid:");
	assert_int_equal(ipam_ldapconn_guid_text(&sb, (const char *)b, len), 0);
	assert_string_equal(sb.buf + 5, want);
	strbuf_release(&sb);
}

static void test_guid_text(void **state)
{
	/* Apply-Group-Policy, as ad-formats.md gives its wire bytes. */
	static const unsigned char apply[] = {
		0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11,
		0xb4, 0x1d, 0x00, 0xa0, 0xc9, 0x68, 0xf9, 0x39};
	static const unsigned char seq[] = {0, 1, 2,  3,  4,  5,  6,  7,
					    8, 9, 10, 11, 12, 13, 14, 15};
	static const unsigned char zero[16];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	check_guid(apply, sizeof(apply),
		   "edacfd8f-ffb3-11d1-b41d-00a0c968f939");
	check_guid(seq, sizeof(seq), "03020100-0504-0706-0809-0a0b0c0d0e0f");
	check_guid(zero, sizeof(zero), "00000000-0000-0000-0000-000000000000");

	strbuf_addstr(&sb, "kept");
	assert_int_equal(ipam_ldapconn_guid_text(&sb, (const char *)apply, 15),
			 IPAM_EINVAL);
	assert_int_equal(ipam_ldapconn_guid_text(&sb, (const char *)apply, 17),
			 IPAM_EINVAL);
	assert_int_equal(ipam_ldapconn_guid_text(&sb, "", 0), IPAM_EINVAL);
	assert_string_equal(sb.buf, "kept");
	assert_non_null(strstr(ipam_error_last(), "GUID"));
	strbuf_release(&sb);
}

static void check_sid(const unsigned char *b, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(ipam_ldapconn_sid_text(&sb, (const char *)b, len), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void check_bad_sid(const unsigned char *b, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "kept");
	assert_int_equal(ipam_ldapconn_sid_text(&sb, (const char *)b, len),
			 IPAM_EINVAL);
	assert_string_equal(sb.buf, "kept");
	assert_non_null(strstr(ipam_error_last(), "malformed SID"));
	strbuf_release(&sb);
}

static void test_sid_text(void **state)
{
	/* Authenticated Users, as ad-formats.md gives its bytes. */
	static const unsigned char au[] = {1, 1, 0,    0, 0, 0,
					   0, 5, 0x0b, 0, 0, 0};
	/* Event Log Readers: S-1-5-32-573 (573 = 0x23d). */
	static const unsigned char elr[] = {1,	2, 0, 0, 0,    0, 0, 5,
					    32, 0, 0, 0, 0x3d, 2, 0, 0};
	/* Domain Admins of S-1-5-21-1004336348-1177238915-682003330. */
	static const unsigned char da[] = {
		1,    5,    0,	  0,	0,    0,    0,	  5,	21,   0,
		0,    0,    0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46,
		0x82, 0x8b, 0xa6, 0x28, 0x00, 0x02, 0,	  0};
	static const unsigned char nobody[] = {1, 1, 0, 0, 0, 0,
					       0, 0, 0, 0, 0, 0};
	static const unsigned char bare[] = {1, 0, 0, 0, 0, 0, 0, 5};
	static const unsigned char maxsub[] = {1, 1, 0,	   0,	 0,    0,
					       0, 5, 0xff, 0xff, 0xff, 0xff};
	/* An authority beyond 32 bits is written in hex (MS-DTYP 2.4.2.1),
	 * lower-case, as ipam_sid_format writes every SID. */
	static const unsigned char big[] = {1, 1,    0x01, 0, 0, 0,
					    0, 0x2a, 7,	   0, 0, 0};

	(void)state;
	check_sid(au, sizeof(au), "S-1-5-11");
	check_sid(elr, sizeof(elr), "S-1-5-32-573");
	check_sid(da, sizeof(da),
		  "S-1-5-21-1004336348-1177238915-682003330-512");
	check_sid(nobody, sizeof(nobody), "S-1-0-0");
	check_sid(bare, sizeof(bare), "S-1-5");
	check_sid(maxsub, sizeof(maxsub), "S-1-5-4294967295");
	check_sid(big, sizeof(big), "S-1-0x01000000002a-7");
}

static void test_sid_malformed(void **state)
{
	static const unsigned char au[] = {1, 1, 0,    0, 0, 0,
					   0, 5, 0x0b, 0, 0, 0};
	static const unsigned char rev2[] = {2, 1, 0,	 0, 0, 0,
					     0, 5, 0x0b, 0, 0, 0};
	static const unsigned char count2[] = {1, 2, 0,	   0, 0, 0,
					       0, 5, 0x0b, 0, 0, 0};
	unsigned char sixteen[8 + 16 * 4] = {1, 16, 0, 0, 0, 0, 0, 5};
	unsigned char longer[13];

	(void)state;
	check_bad_sid(au, 0);
	check_bad_sid(au, 7);
	check_bad_sid(au, 11); /* truncated sub-authority */
	memcpy(longer, au, sizeof(au));
	longer[12] = 0;
	check_bad_sid(longer, sizeof(longer)); /* trailing byte */
	check_bad_sid(rev2, sizeof(rev2));
	check_bad_sid(count2, sizeof(count2));
	check_bad_sid(sixteen, sizeof(sixteen)); /* more than 15 */
}

static void test_entry_lookup(void **state)
{
	static const struct ipam_ldapconn_value cn[] = {{"DC1", 3}};
	static const struct ipam_ldapconn_value spn[] = {
		{"HOST/dc1", 8}, {"ldap/dc1.corp.example.test", 26}};
	static const struct ipam_ldapconn_value empty[] = {{"", 0}};
	static const struct ipam_ldapconn_attr attrs[] = {
		{"cn", cn, 1},
		{"servicePrincipalName", spn, 2},
		{"description", empty, 1},
	};
	const struct ipam_ldapconn_entry e = {"CN=DC1,OU=Domain Controllers",
					      attrs, 3};
	const struct ipam_ldapconn_value *v;
	size_t nr = 99;

	(void)state;
	v = ipam_ldapconn_entry_values(&e, "SERVICEPRINCIPALNAME", &nr);
	assert_non_null(v);
	assert_int_equal(nr, 2);
	assert_string_equal(v[1].data, "ldap/dc1.corp.example.test");
	assert_string_equal(ipam_ldapconn_entry_str(&e, "CN"), "DC1");
	assert_string_equal(ipam_ldapconn_entry_str(&e, "description"), "");
	nr = 99;
	assert_null(ipam_ldapconn_entry_values(&e, "dNSHostName", &nr));
	assert_int_equal(nr, 0);
	assert_null(ipam_ldapconn_entry_str(&e, "dNSHostName"));
}

/* Refused before any socket is opened: these need no network. */
static int refused(const struct ipam_ldapconn_opts *o)
{
	struct ipam_ldapconn *l = (struct ipam_ldapconn *)&l;
	int rc;

	ipam_error_clear();
	rc = ipam_ldapconn_connect(&l, o);
	assert_null(l);
	return rc;
}

static void test_connect_refuses_config(void **state)
{
	struct ipam_ldapconn_opts o = {
		.domain = "corp.example.test",
		.auth = IPAM_AUTH_SIMPLE,
		.user = "Administrator@corp.example.test",
		.password = "s3cret.Value",
		.timeout = 1};

	(void)state;
	o.uri = "http://dc1.corp.example.test";
	assert_int_equal(refused(&o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "neither ldap:// nor"));

	o.uri = "ldapi:///var/run/ldapi";
	assert_int_equal(refused(&o), IPAM_EINVAL);

	o.uri = "ldap://dc1.corp.example.test ldap://dc2.corp.example.test";
	assert_int_equal(refused(&o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "one server"));

	/* An empty password would be an unauthenticated bind. */
	o.uri = "ldaps://dc1.corp.example.test";
	o.password = "";
	assert_int_equal(refused(&o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "password"));
	o.password = NULL;
	assert_int_equal(refused(&o), IPAM_EINVAL);

	o.password = "s3cret.Value";
	setenv("IPAM_LDAPCONN_PAGE_SIZE", "0", 1);
	assert_int_equal(refused(&o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "IPAM_LDAPCONN_PAGE_SIZE"));
	setenv("IPAM_LDAPCONN_PAGE_SIZE", "1001", 1);
	assert_int_equal(refused(&o), IPAM_EINVAL);
	setenv("IPAM_LDAPCONN_PAGE_SIZE", "12x", 1);
	assert_int_equal(refused(&o), IPAM_EINVAL);
	unsetenv("IPAM_LDAPCONN_PAGE_SIZE");

	/* Never the password, whatever went wrong. */
	assert_null(strstr(ipam_error_last(), "s3cret"));
}

static void test_close_null(void **state)
{
	(void)state;
	ipam_ldapconn_close(NULL);
}

static void check_sd_flags(int flags, unsigned char last)
{
	const unsigned char want[] = {0x30, 0x03, 0x02, 0x01, last};
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(ipam_ldapconn_sd_flags_value(&sb, flags), 0);
	assert_int_equal(sb.len, sizeof(want));
	assert_memory_equal(sb.buf, want, sizeof(want));
	strbuf_release(&sb);
}

/* BER SEQUENCE { INTEGER flags } of the LDAP_SERVER_SD_FLAGS control. */
static void test_sd_flags_value(void **state)
{
	static const int bad[] = {0, -1, 16, 0x14, 0x100, -4};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	check_sd_flags(IPAM_LDAPCONN_SD_DACL, 0x04);
	check_sd_flags(IPAM_LDAPCONN_SD_OWNER | IPAM_LDAPCONN_SD_GROUP |
			       IPAM_LDAPCONN_SD_DACL,
		       0x07);
	check_sd_flags(IPAM_LDAPCONN_SD_OWNER, 0x01);
	check_sd_flags(IPAM_LDAPCONN_SD_SACL, 0x08);
	check_sd_flags(0xF, 0x0F);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ipam_ldapconn_sd_flags_value(&sb, bad[i]),
				 IPAM_EINVAL);
		assert_int_equal(sb.len, 0);
	}
	/* Appends, like every other output buffer here. */
	strbuf_addstr(&sb, "x");
	assert_int_equal(ipam_ldapconn_sd_flags_value(&sb, 4), 0);
	assert_int_equal(sb.len, 6);
	assert_memory_equal(sb.buf, "x\x30\x03\x02\x01\x04", 6);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_dn),
		cmocka_unit_test(test_guid_text),
		cmocka_unit_test(test_sid_text),
		cmocka_unit_test(test_sid_malformed),
		cmocka_unit_test(test_entry_lookup),
		cmocka_unit_test(test_connect_refuses_config),
		cmocka_unit_test(test_close_null),
		cmocka_unit_test(test_sd_flags_value),
	};

	return cmocka_run_group_tests_name("ldapconn", tests, NULL, NULL);
}
