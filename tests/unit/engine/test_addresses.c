/* engine/addresses on a state database filled by hand: the addresses the
 * leases, DNS records and inventory show, the utilization of blocks and
 * ranges, the unmapped addresses, the samples and the crossings, the purge
 * of an unmanaged server's addresses, and the JSON of ipamctl addresses
 * (against schemas/addresses.schema.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addresses.h"
#include "db.h"
#include "db_events.h"
#include "error.h"
#include "testutil.h"

#define NOW  1796000000LL
#define HOUR 3600LL
#define DAY  (24 * HOUR)

#define SPACE(over)                                                            \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: manual}\n"                                     \
	"addressSpace:\n"                                                      \
	"  blocks:\n"                                                          \
	"    - cidr: 198.51.100.0/24\n"                                        \
	"    - cidr: 2001:db8::/32\n"                                          \
	"  ranges:\n"                                                          \
	"    - {start: 198.51.100.100, end: 198.51.100.109, "                  \
	"assignment: static, overUtilized: " over "}\n"                        \
	"    - {cidr: 2001:db8:0:1::/64, assignment: static}\n"

struct fx {
	char *dir, *path, *cfg;
	struct ipam_db *db;
	struct ipam_desired *d;
};

static void sql(struct fx *f, const char *q)
{
	free(sqlite_query(f->path, q));
}

/* One audit event of server, stored as the audit task stores it (a
 * batch of its own, with the search keys tracking reads). */
static void lease(struct fx *f, const char *server, long long at, int id,
		  const char *ip, const char *host, const char *mac)
{
	static size_t line;
	struct ipam_dhcplog_event e = {
		.family = 4,
		.event_id = id,
		.description = "",
		.ip = ip,
		.host = host,
		.client_id = mac,
		.line = ++line,
	};
	const char **rest[] = {
		&e.user_name,	     &e.transaction_id,	    &e.qresult,
		&e.probation_time,   &e.correlation_id,	    &e.dhcid,
		&e.vendor_class_hex, &e.vendor_class_ascii, &e.user_class_hex,
		&e.user_class_ascii, &e.relay_agent,	    &e.dns_reg_error,
		&e.error_code,	     &e.subnet_prefix,
	};
	struct ipam_db_event_in in = {.e = &e, .at = at, .local_time = "x"};
	struct ipam_db_audit_cursor c = {.line = (long long)line,
					 .generation = 1};
	struct ipam_db_events_batch *b;

	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		*rest[i] = "";
	snprintf(c.head_sha256, sizeof(c.head_sha256), "%064d", 0);
	assert_int_equal(ipam_db_events_begin(f->db, &b, server, 0, "f", 1), 0);
	assert_int_equal(ipam_db_events_add(b, &in), 0);
	assert_int_equal(ipam_db_events_commit(b, &c), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *q;

	f->dir = tmpdir_make();
	f->path = test_db_new(f->dir);
	f->cfg = xasprintf("%s/d.yaml", f->dir);
	assert_int_equal(write_file(f->cfg, SPACE("80")), 0);
	f->d = desired_from_text(SPACE("80"));
	assert_non_null(f->d);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	/* leases: .101 new and renewed (in use), .102 released, .103 an
	 * old lease (expired by time), .104 deleted then leased again by
	 * the second server, 10.9.9.9 outside every range */
	q = xasprintf(
		"INSERT INTO servers (id, name, roles, manageability, status) "
		"VALUES (1, 'dhcp1.corp.example.test', 'dhcp', 'managed', "
		"'unchanged'), (2, 'dhcp2.corp.example.test', 'dhcp', "
		"'managed', 'unchanged'), (3, 'dc1.corp.example.test', "
		"'dc,dns', 'managed', 'unchanged');"
		"INSERT INTO server_addresses VALUES (3, 4, '198.51.100.2');"
		"INSERT INTO dns_zones (id, server_id, domain, name, "
		"partition, dn, collected_at) VALUES (1, 3, "
		"'corp.example.test', 'corp.example.test', 'domain', 'dn', "
		"'x');"
		"INSERT INTO dns_records (zone_id, name, type, data, ttl) "
		"VALUES (1, 'www', 1, '198.51.100.105', 3600),"
		"(1, 'ws101', 1, '198.51.100.101', 3600),"
		"(1, 'v6', 28, '2001:db8:0:1::5', 3600),"
		"(1, '@', 1, '198.51.100.2', 3600),"
		"(1, 'mx', 15, '10 mail', 3600);");
	sql(f, q);
	free(q);
	/* through the audit task's own store, so that tracking finds them */
	lease(f, "dhcp1.corp.example.test", NOW - 3 * DAY, 10, "198.51.100.101",
	      "ws101", "00155d0a0101");
	lease(f, "dhcp1.corp.example.test", NOW - HOUR, 11, "198.51.100.101",
	      "ws101", "00155d0a0101");
	lease(f, "dhcp1.corp.example.test", NOW - 5 * HOUR, 10,
	      "198.51.100.102", "ws102", "00155d0a0102");
	lease(f, "dhcp1.corp.example.test", NOW - 4 * HOUR, 12,
	      "198.51.100.102", "ws102", "00155d0a0102");
	lease(f, "dhcp1.corp.example.test", NOW - 30 * DAY, 10,
	      "198.51.100.103", "pr7", "0800270b0c0d");
	lease(f, "dhcp1.corp.example.test", NOW - 2 * HOUR, 16,
	      "198.51.100.104", "", "");
	lease(f, "dhcp2.corp.example.test", NOW - HOUR, 10, "198.51.100.104",
	      "ws104", "aa");
	lease(f, "dhcp1.corp.example.test", NOW - HOUR, 10, "10.9.9.9", "stray",
	      "bb");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_db_close(f->db);
	ipam_desired_free(f->d);
	tmpdir_remove(f->dir);
	free(f->path);
	free(f->cfg);
	free(f);
	return 0;
}

static size_t update(struct fx *f, const struct ipam_desired *d)
{
	struct ipam_run run;
	size_t crossed = 0;

	memset(&run, 0, sizeof(run));
	run.d = d;
	run.db = f->db;
	assert_int_equal(ipam_addresses_update(&run, NOW, &crossed), 0);
	return crossed;
}

static void test_addresses_from_collected_data(void **state)
{
	struct fx *f = *state;
	char *s;

	update(f, f->d);
	s = sqlite_query(f->path,
			 "SELECT group_concat(address || ' ' || state || ' ' "
			 "|| sources || ' ' || coalesce(host, '-'), '|') FROM "
			 "(SELECT * FROM addresses ORDER BY address) a");
	assert_string_equal(s,
			    "10.9.9.9 in_use dhcp stray|"
			    "198.51.100.101 in_use dhcp,dns "
			    "ws101.corp.example.test|"
			    "198.51.100.102 inactive dhcp ws102|"
			    "198.51.100.103 inactive dhcp pr7|"
			    "198.51.100.104 in_use dhcp ws104|"
			    "198.51.100.105 in_use dns "
			    "www.corp.example.test|"
			    "198.51.100.2 in_use dns,inventory "
			    "dc1.corp.example.test|"
			    "2001:db8:0:1::5 in_use dns v6.corp.example.test");
	free(s);
	/* the lease of .101 ends 8 days after its renewal; .104's decider is
	 * the second server's lease; MACs from the leases */
	s = sqlite_query(f->path, "SELECT lease_expires - 1796000000, "
				  "dhcp_server_id, mac FROM addresses WHERE "
				  "address = '198.51.100.101'");
	assert_string_equal(s, "687600|1|00155d0a0101");
	free(s);
	s = sqlite_query(f->path, "SELECT dhcp_server_id FROM addresses "
				  "WHERE address = '198.51.100.104'");
	assert_string_equal(s, "2");
	free(s);
}

static void test_utilization_and_unmapped(void **state)
{
	struct fx *f = *state;
	struct ipam_addr_view v;

	update(f, f->d);
	assert_int_equal(ipam_addr_view_load(&v, f->d, f->db), 0);
	assert_int_equal(v.nr_usage, 4);
	/* the /24 block: .2 .101 .104 .105 in use */
	assert_string_equal(v.usage[0].name, "198.51.100.0/24");
	assert_true(v.usage[0].block);
	assert_string_equal(v.usage[0].size, "256");
	assert_int_equal(v.usage[0].util.used, 4);
	assert_string_equal(v.usage[0].free, "252");
	/* the range .100-.109: .101 .104 .105 = 30 % */
	assert_string_equal(v.usage[2].name, "198.51.100.100-198.51.100.109");
	assert_int_equal(v.usage[2].util.used, 3);
	assert_string_equal(v.usage[2].free, "7");
	assert_int_equal(v.usage[2].util.state, IPAM_UTIL_OPTIMAL);
	assert_string_equal(v.usage[2].block_name, "198.51.100.0/24");
	/* the v6 /64 */
	assert_string_equal(v.usage[3].size, "18446744073709551616");
	assert_int_equal(v.usage[3].util.used, 1);
	assert_int_equal(v.usage[3].util.state, IPAM_UTIL_UNDER);
	/* unmapped: 10.9.9.9 and 198.51.100.2 (in the block, no range) */
	assert_int_equal(v.nr_unmapped, 2);
	assert_int_equal(v.range_of[0], -1);
	assert_string_equal(v.addrs[0].address, "10.9.9.9");
	ipam_addr_view_release(&v);
}

static void test_samples_and_crossings(void **state)
{
	struct fx *f = *state;
	struct ipam_desired *low = desired_from_text(SPACE("25"));
	char *s;

	/* the first sample crosses nothing, nor does the same state again */
	assert_int_equal(update(f, f->d), 0);
	assert_int_equal(update(f, f->d), 0);
	/* the threshold moved below the use: one crossing, then none */
	assert_int_equal(update(f, low), 1);
	assert_int_equal(update(f, low), 0);
	s = sqlite_query(f->path, "SELECT group_concat(state, ',') FROM "
				  "(SELECT state FROM utilization_samples "
				  "WHERE kind = 'range' AND name LIKE "
				  "'198.%' ORDER BY id) s");
	assert_string_equal(s, "optimal,optimal,over,over");
	free(s);
	s = sqlite_query(f->path, "SELECT count(*) FROM utilization_samples");
	assert_string_equal(s, "16");
	free(s);
	ipam_desired_free(low);
}

static void test_first_seen_kept_and_gone_removed(void **state)
{
	struct fx *f = *state;
	char *s;

	update(f, f->d);
	sql(f, "UPDATE addresses SET first_seen = 5 WHERE address = "
	       "'198.51.100.105'");
	update(f, f->d);
	s = sqlite_query(f->path, "SELECT first_seen FROM addresses WHERE "
				  "address = '198.51.100.105'");
	assert_string_equal(s, "5");
	free(s);
	/* the record removed: the address goes */
	sql(f, "DELETE FROM dns_records WHERE name = 'www'");
	update(f, f->d);
	s = sqlite_query(f->path, "SELECT count(*) FROM addresses WHERE "
				  "address = '198.51.100.105'");
	assert_string_equal(s, "0");
	free(s);
}

/* What did not change is not written again: a row's updated_at is when
 * it last changed, sources that differ from what they should be are
 * written anew without touching their address's row. */
static void test_unchanged_left_alone(void **state)
{
	struct fx *f = *state;
	char *s;

	update(f, f->d);
	sql(f, "UPDATE addresses SET updated_at = '2000-01-01T00:00:00Z';"
	       "UPDATE address_sources SET detail = 'tampered' WHERE "
	       "address = '198.51.100.105'");
	update(f, f->d);
	s = sqlite_query(f->path, "SELECT count(*) FROM addresses WHERE "
				  "updated_at <> '2000-01-01T00:00:00Z'");
	assert_string_equal(s, "0");
	free(s);
	s = sqlite_query(f->path, "SELECT detail FROM address_sources WHERE "
				  "address = '198.51.100.105'");
	assert_string_equal(s, "www.corp.example.test");
	free(s);
	/* a host name changes: that address's row, and only it */
	sql(f, "UPDATE dns_records SET name = 'web' WHERE name = 'www'");
	update(f, f->d);
	s = sqlite_query(f->path,
			 "SELECT group_concat(address || ' ' || host, '|') "
			 "FROM addresses WHERE updated_at <> "
			 "'2000-01-01T00:00:00Z'");
	assert_string_equal(s, "198.51.100.105 web.corp.example.test");
	free(s);
	s = sqlite_query(f->path, "SELECT detail FROM address_sources WHERE "
				  "address = '198.51.100.105'");
	assert_string_equal(s, "web.corp.example.test");
	free(s);
}

static void test_cli_json(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	char *argv[] = {(char *)ipamctl_path(),
			"addresses",
			"-c",
			f->cfg,
			"--db",
			f->path,
			"-o",
			"json",
			NULL,
			NULL,
			NULL};

	update(f, f->d);
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	schema_check("addresses.schema.json", r.out);
	assert_non_null(strstr(r.out, "\"used\": 3"));
	run_result_free(&r);
	argv[8] = "show";
	argv[9] = "198.51.100.100-198.51.100.109";
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	schema_check("addresses.schema.json", r.out);
	assert_non_null(strstr(r.out, "198.51.100.104"));
	assert_null(strstr(r.out, "198.51.100.2\""));
	run_result_free(&r);
	argv[9] = "198.51.100.102";
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	schema_check("addresses.schema.json", r.out);
	assert_non_null(strstr(r.out, "\"leaseHistory\""));
	assert_non_null(strstr(r.out, "\"eventId\": 12"));
	run_result_free(&r);
	/* text */
	argv[6] = "-o";
	argv[7] = "text";
	argv[8] = NULL;
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "unmapped (outside every range): 2"));
	run_result_free(&r);
	/* --range: that range alone; --block: the block and its ranges */
	argv[8] = "--range";
	argv[9] = "2001:db8:0:1::/64";
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "2001:db8:0:1::/64"));
	assert_null(strstr(r.out, "198.51.100"));
	assert_null(strstr(r.out, "unmapped"));
	run_result_free(&r);
	argv[8] = "--block";
	argv[9] = "198.51.100.0/24";
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "198.51.100.0/24"));
	assert_non_null(strstr(r.out, "198.51.100.100-198.51.100.109"));
	assert_null(strstr(r.out, "2001:db8"));
	run_result_free(&r);
	/* a bad span is a usage error naming it */
	argv[9] = "198.51.100.1/24";
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "'198.51.100.1/24'"));
	assert_non_null(strstr(r.err, ipam_ip_bad_text(IPAM_IP_BAD_HOST_BITS)));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_addresses_from_collected_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utilization_and_unmapped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_samples_and_crossings,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_first_seen_kept_and_gone_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_left_alone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_json, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
