/* What the zones and availability tasks store, in a real SQLite file,
 * checked with the sqlite3 shell as well as through the adapter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "db.h"
#include "db_monitor.h"
#include "error.h"
#include "testutil.h"

struct fx {
	char *dir;
	char *path;
	struct ipam_db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *out;

	f->dir = tmpdir_make();
	/* IPAM_TEST_DB=postgres: a fresh database of ci/pg's server */
	f->path = test_db_is_pg() ? test_db_new(f->dir)
				  : xasprintf("%s/state.db", f->dir);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	out = sqlite_query(
		f->path,
		"INSERT INTO domains (id, name) VALUES (1, "
		"'corp.example.test'),"
		" (2, 'branch.example.test');"
		"INSERT INTO servers (id, name, domain_id, roles, "
		"manageability) VALUES "
		"(1, 'dc1.corp.example.test', 1, 'dc,dns', 'managed'),"
		"(2, 'dhcp1.corp.example.test', 1, 'dhcp', 'managed'),"
		"(3, 'dc2.branch.example.test', 2, 'dc,dns', 'managed');");
	free(out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_db_close(f->db);
	tmpdir_remove(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void test_avail_since_and_history(void **state)
{
	struct fx *f = *state;
	struct ipam_db_avail *v = NULL;
	long long run;
	bool changed;
	size_t nr;
	char *out;

	assert_int_equal(ipam_db_run_begin(f->db, "collect availability", &run),
			 0);
	const char *dhcp1 = "dhcp1.corp.example.test";

	/* first check: a change (from nothing), since = now */
	assert_int_equal(ipam_db_monitor_avail_store(
				 f->db, run, dhcp1, "dhcp", true, 3, NULL,
				 "2026-12-07T09:00:00Z", &changed),
			 0);
	assert_true(changed);
	/* the same state later: since kept, checked_at moves, no history */
	assert_int_equal(ipam_db_monitor_avail_store(
				 f->db, 0, dhcp1, "dhcp", true, 4, NULL,
				 "2026-12-07T09:15:00Z", &changed),
			 0);
	assert_false(changed);
	out = sqlite_query(f->path, "SELECT state, since, checked_at, rtt_ms,"
				    " CASE WHEN run_id IS NULL THEN 1 ELSE 0 "
				    "END FROM availability");
	assert_string_equal(out, "up|2026-12-07T09:00:00Z|"
				 "2026-12-07T09:15:00Z|4|1");
	free(out);
	/* down: since moves, a history row with the reason */
	assert_int_equal(ipam_db_monitor_avail_store(
				 f->db, run, "DHCP1.corp.example.test", "dhcp",
				 false, -1, "no answer to a DHCPINFORM",
				 "2026-12-07T09:30:00Z", &changed),
			 0);
	assert_true(changed);
	out = sqlite_query(f->path, "SELECT state, since, CASE WHEN rtt_ms IS "
				    "NULL THEN 1 ELSE 0 END, "
				    "reason FROM availability");
	assert_string_equal(out, "down|2026-12-07T09:30:00Z|1|"
				 "no answer to a DHCPINFORM");
	free(out);
	out = sqlite_query(f->path, "SELECT service, at, state, "
				    "coalesce(reason, '-') FROM "
				    "availability_history ORDER BY id");
	assert_string_equal(out, "dhcp|2026-12-07T09:00:00Z|up|-\n"
				 "dhcp|2026-12-07T09:30:00Z|down|"
				 "no answer to a DHCPINFORM");
	free(out);

	assert_int_equal(ipam_db_monitor_avail_store(
				 f->db, run, "dc1.corp.example.test", "dns",
				 true, 1, "answered with REFUSED",
				 "2026-12-07T09:30:00Z", NULL),
			 0);
	assert_int_equal(ipam_db_monitor_avail_store(
				 f->db, run, "dc2.branch.example.test", "dns",
				 true, 1, NULL, "2026-12-07T09:30:00Z", NULL),
			 0);
	assert_int_equal(
		ipam_db_monitor_avail_list(f->db, "corp.example.test", &v, &nr),
		0);
	assert_int_equal(nr, 2);
	assert_string_equal(v[0].server, "dc1.corp.example.test");
	assert_string_equal(v[0].service, "dns");
	assert_true(v[0].up);
	assert_string_equal(v[0].reason, "answered with REFUSED");
	assert_string_equal(v[1].server, "dhcp1.corp.example.test");
	assert_false(v[1].up);
	assert_int_equal(v[1].rtt_ms, -1);
	assert_int_equal(v[1].run_id, run);
	assert_string_equal(v[1].since, "2026-12-07T09:30:00Z");
	ipam_db_monitor_avail_free(v, nr);
	assert_int_equal(ipam_db_monitor_avail_list(f->db, NULL, &v, &nr), 0);
	assert_int_equal(nr, 3);
	ipam_db_monitor_avail_free(v, nr);

	assert_int_equal(ipam_db_monitor_avail_store(f->db, 0, "nope", "dns",
						     true, 1, NULL, "x", NULL),
			 IPAM_ENOTFOUND);
	assert_int_equal(ipam_db_monitor_avail_store(f->db, 0, dhcp1, "smtp",
						     true, 1, NULL, "x", NULL),
			 IPAM_EINVAL);
	/* nothing half-written after the refusal: a write works */
	assert_int_equal(ipam_db_monitor_avail_store(
				 f->db, 0, dhcp1, "dhcp", false, -1, NULL,
				 "2026-12-07T09:45:00Z", &changed),
			 0);
	assert_false(changed);
}

static void seed_zones(const char *path)
{
	char *out = sqlite_query(
		path,
		"INSERT INTO dns_zones (id, server_id, domain, name, "
		"partition, dn, reverse, collected_at) VALUES "
		"(1, 1, 'corp.example.test', 'corp.example.test', 'domain', "
		"'DC=corp.example.test', 0, 'now'),"
		"(2, 1, 'corp.example.test', '_msdcs.corp.example.test', "
		"'forest', 'DC=_msdcs', 0, 'now'),"
		"(3, 1, 'corp.example.test', '100.51.198.in-addr.arpa', "
		"'domain', 'DC=rev', 1, 'now'),"
		"(4, 1, 'corp.example.test', 'RootDNSServers', 'domain', "
		"'DC=RootDNSServers', 0, 'now'),"
		"(5, 1, 'corp.example.test', '..TrustAnchors', 'domain', "
		"'DC=..TrustAnchors', 0, 'now');"
		"INSERT INTO dns_records (zone_id, name, type, data, ttl) "
		"VALUES "
		"(1, '@', 2, 'dc1.corp.example.test.', 900),"
		"(1, '@', 2, 'DNS1.corp.example.test', 900),"
		"(1, '@', 2, 'dc2.corp.example.test', 900),"
		"(1, '@', 6, 'dc1.corp.example.test. hostmaster. 7 900 600 "
		"86400 3600', 3600),"
		"(1, 'dc1', 1, '127.0.0.2', 900),"
		"(1, 'dns1', 1, '192.0.2.10', 900),"
		"(1, 'dns1', 28, '2001:DB8::10', 900),"
		"(1, 'weird', 1, 'not-an-address', 900),"
		"(2, '@', 2, 'dc1.corp.example.test', 900),"
		"(3, '@', 2, 'dc1.corp.example.test', 900),"
		"(4, '@', 2, 'a.root-servers.net', 900);");
	free(out);
}

static void test_zones_and_glue(void **state)
{
	struct fx *f = *state;
	struct ipam_db_monitor_zone *z = NULL;
	struct ipam_addr *a = NULL;
	size_t nr;

	seed_zones(f->path);
	assert_int_equal(ipam_db_monitor_zones(f->db, &z, &nr), 0);
	assert_int_equal(nr, 2); /* reverse, root hints, anchors left out */
	assert_string_equal(z[0].name, "_msdcs.corp.example.test");
	assert_int_equal(z[0].nr_ns, 1);
	assert_string_equal(z[1].name, "corp.example.test");
	assert_string_equal(z[1].server, "dc1.corp.example.test");
	assert_int_equal(z[1].nr_ns, 3);
	assert_string_equal(z[1].ns[0], "dc1.corp.example.test");
	assert_string_equal(z[1].ns[1], "dc2.corp.example.test");
	assert_string_equal(z[1].ns[2], "dns1.corp.example.test");
	ipam_db_monitor_zones_free(z, nr);

	assert_int_equal(
		ipam_db_monitor_glue(f->db, "DNS1.corp.example.test.", &a, &nr),
		0);
	assert_int_equal(nr, 2);
	assert_int_equal(a[0].family, AF_INET);
	assert_string_equal(a[0].text, "192.0.2.10");
	assert_string_equal(a[1].text, "2001:db8::10");
	free(a);
	/* glue from the zone above for a zone below's NS */
	assert_int_equal(
		ipam_db_monitor_glue(f->db, "dc1.corp.example.test", &a, &nr),
		0);
	assert_int_equal(nr, 1);
	assert_string_equal(a[0].text, "127.0.0.2");
	free(a);
	assert_int_equal(
		ipam_db_monitor_glue(f->db, "dc2.corp.example.test", &a, &nr),
		0);
	assert_int_equal(nr, 0);
	free(a);
	assert_int_equal(
		ipam_db_monitor_glue(f->db, "weird.corp.example.test", &a, &nr),
		0);
	assert_int_equal(nr, 0);
	free(a);
}

static void test_zone_status(void **state)
{
	struct fx *f = *state;
	struct ipam_db_zone_status *v = NULL;
	size_t nr;
	char *out;

	seed_zones(f->path);
	assert_int_equal(
		ipam_db_monitor_zone_status_store(
			f->db, 1, 0, "2026-12-07T09:00:00Z", "OK", NULL, "[]"),
		0);
	assert_int_equal(ipam_db_monitor_zone_status_store(
				 f->db, 1, 0, "2026-12-07T09:30:00Z",
				 "Critical", "dns1 did not answer", "[{}]"),
			 0);
	assert_int_equal(
		ipam_db_monitor_zone_status_store(
			f->db, 2, 0, "2026-12-07T09:30:00Z", "OK", NULL, "[]"),
		0);
	out = sqlite_query(f->path, "SELECT zone_id, status, reason, servers "
				    "FROM zone_status ORDER BY zone_id");
	assert_string_equal(out, "1|Critical|dns1 did not answer|[{}]\n"
				 "2|OK||[]");
	free(out);
	assert_int_equal(ipam_db_monitor_zone_status_store(f->db, 2, 0, "x",
							   "Bad", NULL, "[]"),
			 IPAM_EDB);
	assert_int_equal(ipam_db_monitor_zone_status_list(
				 f->db, "corp.example.test", &v, &nr),
			 0);
	assert_int_equal(nr, 2);
	assert_string_equal(v[1].zone, "corp.example.test");
	assert_string_equal(v[1].status, "Critical");
	assert_string_equal(v[1].checked_at, "2026-12-07T09:30:00Z");
	assert_null(v[0].reason);
	ipam_db_monitor_zone_status_free(v, nr);
	assert_int_equal(ipam_db_monitor_zone_status_list(
				 f->db, "branch.example.test", &v, &nr),
			 0);
	assert_int_equal(nr, 0);
	ipam_db_monitor_zone_status_free(v, nr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_avail_since_and_history,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_zones_and_glue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_zone_status, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
