/* Access status with history in a real state database (SQLite's file, or
 * a PostgreSQL database in the _pg variant), checked with the sqlite3
 * shell or psql as well as through the adapter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"
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
	f->path = test_db_new(f->dir);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	out = sqlite_query(f->path,
			   "INSERT INTO servers (name, roles, manageability) "
			   "VALUES ('dc1.corp.example.test', 'dc,dns', "
			   "'managed'), ('dhcp1.corp.example.test', 'dhcp', "
			   "'managed')");
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

static void check(struct ipam_access *a, enum ipam_access_status dns,
		  const char *dns_reason, enum ipam_access_status evt,
		  const char *evt_reason)
{
	memset(a, 0, sizeof(*a));
	ipam_access_set(a, IPAM_ACCESS_DNS_RPC, dns, dns_reason);
	ipam_access_set(a, IPAM_ACCESS_EVENT_LOG, evt, evt_reason);
	ipam_access_settle(a, IPAM_ROLE_DC | IPAM_ROLE_DNS,
			   IPAM_MANAGE_MANAGED);
}

static void test_store_and_history(void **state)
{
	struct fx *f = *state;
	struct ipam_access a;
	struct ipam_db_access latest, *h = NULL;
	struct ipam_inventory inv = {0};
	long long run;
	size_t nr;
	char *out;

	check(&a, IPAM_ACCESS_UNBLOCKED, "server info read (MS-DNSP)",
	      IPAM_ACCESS_BLOCKED, "access denied for IPAM1$");
	assert_int_equal(ipam_db_run_begin(f->db, "verify", &run), 0);
	assert_int_equal(
		ipam_db_access_store(f->db, run, "dc1.corp.example.test", &a),
		0);
	ipam_access_release(&a);
	check(&a, IPAM_ACCESS_UNBLOCKED, "server info read (MS-DNSP)",
	      IPAM_ACCESS_UNBLOCKED, "System log read, 0 records (MS-EVEN)");
	assert_int_equal(
		ipam_db_access_store(f->db, 0, "DC1.corp.example.test", &a), 0);
	ipam_access_release(&a);

	/* the rows, as the sqlite3 shell or psql reads them */
	out = sqlite_query(f->path,
			   "SELECT overall, dhcp_rpc, dns_rpc, event_log, "
			   "recommended_action, CAST(run_id IS NULL AS "
			   "INTEGER), reasons FROM "
			   "access_status ORDER BY id");
	assert_string_equal(
		out, "Blocked|Not applicable|Unblocked|Blocked|Unblock IPAM "
		     "Access|0|{\"dns_rpc\":\"server info read (MS-DNSP)\","
		     "\"event_log\":\"access denied for IPAM1$\"}\n"
		     "Unblocked|Not applicable|Unblocked|Unblocked|IPAM "
		     "Access Unblocked|1|{\"dns_rpc\":\"server info read "
		     "(MS-DNSP)\",\"event_log\":\"System log read, 0 "
		     "records (MS-EVEN)\"}");
	free(out);

	/* the latest, the history oldest first, the inventory's overall */
	assert_int_equal(
		ipam_db_access_latest(f->db, "dc1.corp.example.test", &latest),
		0);
	assert_int_equal(latest.access.overall, IPAM_ACCESS_UNBLOCKED);
	assert_int_equal(latest.access.action, IPAM_ACCESS_ACTION_UNBLOCKED);
	assert_string_equal(latest.access.detail[IPAM_ACCESS_EVENT_LOG].reason,
			    "System log read, 0 records (MS-EVEN)");
	assert_null(latest.access.detail[IPAM_ACCESS_DHCP_RPC].reason);
	assert_non_null(latest.checked_at);
	ipam_db_access_release(&latest);
	assert_int_equal(ipam_db_access_history(f->db, "dc1.corp.example.test",
						0, &h, &nr),
			 0);
	assert_int_equal(nr, 2);
	assert_int_equal(h[0].access.overall, IPAM_ACCESS_BLOCKED);
	assert_int_equal(h[0].run_id, run);
	assert_string_equal(h[0].access.detail[IPAM_ACCESS_EVENT_LOG].reason,
			    "access denied for IPAM1$");
	assert_int_equal(h[1].access.overall, IPAM_ACCESS_UNBLOCKED);
	ipam_db_access_free(h, nr);
	assert_int_equal(ipam_db_access_history(f->db, "dc1.corp.example.test",
						1, &h, &nr),
			 0);
	assert_int_equal(nr, 1);
	assert_int_equal(h[0].access.overall, IPAM_ACCESS_UNBLOCKED);
	ipam_db_access_free(h, nr);
	assert_int_equal(ipam_db_inventory_load(f->db, &inv), 0);
	assert_string_equal(
		ipam_inventory_find(&inv, "dc1.corp.example.test")->access,
		"Unblocked");
	assert_null(
		ipam_inventory_find(&inv, "dhcp1.corp.example.test")->access);
	ipam_inventory_release(&inv);
}

static void test_unknown_server(void **state)
{
	struct fx *f = *state;
	struct ipam_access a = {0};
	struct ipam_db_access latest;

	ipam_access_settle(&a, IPAM_ROLE_DNS, IPAM_MANAGE_MANAGED);
	assert_int_equal(
		ipam_db_access_store(f->db, 0, "nope.example.test", &a),
		IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "nope.example.test"));
	assert_int_equal(ipam_db_access_latest(f->db, "dhcp1.corp.example.test",
					       &latest),
			 IPAM_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_and_history, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_server, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
