/*
 * The dnsRecord decoder on values recorded from the lab's Samba DCs
 * (tests/fixtures/dnsrecord/, see its README), checked against what
 * samba-tool dns query and dig printed for the same records, then on
 * values broken byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dnsrecord.h"
#include "error.h"
#include "strbuf.h"
#include "testutil.h"

static unsigned char *load(const char *name, size_t *len)
{
	char *path = xasprintf("%s/dnsrecord/%s.bin", fixtures_dir(), name);
	unsigned char *b = (unsigned char *)slurp(path, len);

	assert_non_null(b);
	free(path);
	return b;
}

static void expect(const char *name, unsigned type, const char *data,
		   uint32_t ttl, uint32_t serial)
{
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;
	size_t len;
	unsigned char *b = load(name, &len);

	if (ipam_dnsrecord_decode(&r, b, len))
		fail_msg("%s: %s", name, ipam_error_last());
	assert_int_equal(r.type, type);
	assert_string_equal(r.data.buf, data);
	assert_int_equal(r.ttl, ttl);
	assert_int_equal(r.serial, serial);
	assert_int_equal(r.rank, 0xf0);
	assert_false(r.tombstone);
	ipam_dnsrecord_release(&r);
	free(b);
}

/* samba-tool dns query dc1 corp.example.test @ ALL printed, for the apex:
 *   SOA: serial=8, refresh=900, retry=600, expire=86400, minttl=3600,
 *        ns=dc1.corp.example.test., email=hostmaster.corp.example.test.
 *        (flags=600000f0, serial=8, ttl=3600)
 *   NS: dc1.corp.example.test. (flags=600000f0, serial=1, ttl=900)
 *   A: 127.0.0.2 (flags=600000f0, serial=1, ttl=900)
 * and for the records the capture added (fx-*):
 *   AAAA: 2001:0db8:0000:0000:0000:0000:0000:0001 (serial=5, ttl=900)
 *   CNAME: dc1.corp.example.test. (serial=6)
 *   MX: mail.corp.example.test. (10) (serial=3)
 *   SRV: dc1.corp.example.test. (389, 10, 20) (serial=2)
 *   TXT: "hello world","a"b","second" (serial=4) */
static void test_recorded_types(void **state)
{
	(void)state;
	expect("soa", IPAM_DNSRECORD_SOA,
	       "dc1.corp.example.test. hostmaster.corp.example.test. 8 900 "
	       "600 86400 3600",
	       3600, 8);
	expect("ns", IPAM_DNSRECORD_NS, "dc1.corp.example.test.", 900, 1);
	expect("a", IPAM_DNSRECORD_A, "127.0.0.2", 900, 1);
	expect("aaaa", IPAM_DNSRECORD_AAAA, "2001:db8::1", 900, 5);
	expect("cname", IPAM_DNSRECORD_CNAME, "dc1.corp.example.test.", 900, 6);
	expect("mx", IPAM_DNSRECORD_MX, "10 mail.corp.example.test.", 900, 3);
	/* priority weight port target, as dig prints it */
	expect("srv", IPAM_DNSRECORD_SRV, "10 20 389 dc1.corp.example.test.",
	       900, 2);
	expect("txt", IPAM_DNSRECORD_TXT,
	       "\"hello world\" \"a\\\"b\" \"second\"", 900, 4);
	expect("ptr", IPAM_DNSRECORD_PTR, "dhcp1.corp.example.test.", 900, 2);
}

static void test_unknown_and_aging(void **state)
{
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;
	size_t len;
	unsigned char *b = load("unknown", &len);

	(void)state;
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), 0);
	assert_int_equal(r.type, 99);
	assert_string_equal(r.data.buf, "\\# 12 0B763D73706631202D616C6C");
	assert_int_equal(r.timestamp, 3800000);
	free(b);
	ipam_dnsrecord_release(&r);
}

static void test_tombstone(void **state)
{
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;
	size_t len;
	unsigned char *b = load("tombstone", &len);

	(void)state;
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), 0);
	assert_int_equal(r.type, 0);
	assert_true(r.tombstone);
	assert_string_equal(r.data.buf, "\\# 8 004061503D6BDC01");
	free(b);
	ipam_dnsrecord_release(&r);
}

static void test_type_names(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned t;

	(void)state;
	ipam_dnsrecord_type_text(&sb, 33);
	strbuf_addch(&sb, ' ');
	ipam_dnsrecord_type_text(&sb, 99);
	assert_string_equal(sb.buf, "SRV TYPE99");
	strbuf_release(&sb);
	assert_int_equal(ipam_dnsrecord_type_parse(&t, "aaaa"), 0);
	assert_int_equal(t, 28);
	assert_int_equal(ipam_dnsrecord_type_parse(&t, "type99"), 0);
	assert_int_equal(t, 99);
	assert_int_equal(ipam_dnsrecord_type_parse(&t, "TYPE70000"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_dnsrecord_type_parse(&t, "bogus"), IPAM_EINVAL);
}

/* Every truncation of every recorded value is refused or decoded, never
 * read past; a few breakages are named. */
static void test_broken(void **state)
{
	static const char *const names[] = {
		"soa", "ns",  "a",   "aaaa",	  "cname",  "mx",
		"srv", "txt", "ptr", "tombstone", "unknown"};
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;
	size_t len;
	unsigned char *b;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		b = load(names[i], &len);
		for (size_t n = 0; n < len; n++) {
			unsigned char *copy = malloc(n ? n : 1);

			memcpy(copy, b, n);
			/* shorter than DataLength: always refused */
			assert_int_equal(ipam_dnsrecord_decode(&r, copy, n),
					 IPAM_EINVAL);
			free(copy);
		}
		free(b);
	}
	b = load("ns", &len);
	b[4] = 4; /* version */
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "version 4"));
	b[4] = 5;
	b[25]++; /* label count */
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "label count"));
	b[25]--;
	b[26] = 0x40; /* first label: 64 bytes */
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), IPAM_EINVAL);
	b[26] = 0x30; /* runs past the name */
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), IPAM_EINVAL);
	b[26] = 3;
	b[len - 1] = 'x'; /* no terminating label */
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len), IPAM_EINVAL);
	free(b);
	b = load("a", &len);
	b[0] = 3; /* A of 3 bytes */
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len - 1), IPAM_EINVAL);
	b[0] = 4; /* padding: zeros only */
	b = realloc(b, len + 4);
	memset(b + len, 0, 4);
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len + 3), 0);
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len + 4), IPAM_EINVAL);
	b[len] = 1;
	assert_int_equal(ipam_dnsrecord_decode(&r, b, len + 1), IPAM_EINVAL);
	free(b);
	ipam_dnsrecord_release(&r);
}

/* Label bytes outside printable ASCII and the zone-file specials are
 * escaped as dig escapes them. */
static void test_escapes(void **state)
{
	static const unsigned char v[] = {
		9, 0, 5, 0, 5,	  0xf0, 0,   0,	   1,	0,    0,
		0, 0, 0, 3, 0x84, 0,	0,   0,	   0,	0,    0,
		0, 0, 7, 1, 5,	  'a',	'.', 0x07, '"', 0xe9, 0,
	};
	struct ipam_dnsrecord r = IPAM_DNSRECORD_INIT;

	(void)state;
	assert_int_equal(ipam_dnsrecord_decode(&r, v, sizeof(v)), 0);
	assert_string_equal(r.data.buf, "a\\.\\007\\\"\\233.");
	ipam_dnsrecord_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_types),
		cmocka_unit_test(test_unknown_and_aging),
		cmocka_unit_test(test_tombstone),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
