/*
 * ipamctl status names the managed servers whose latest IPAM access check
 * said Blocked: a state database made by `db init`, access checks written
 * with the sqlite3 shell (as verify would store them), then `status` in
 * text and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "node.h"
#include "strbuf.h"
#include "testutil.h"

static struct run_result status(const char *db, const char *output)
{
	char *const argv[] = {
		(char *)ipamctl_path(), "status", "--db", (char *)db, "-o",
		(char *)output,		NULL};
	struct run_result r;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("status: %s", r.err);
	return r;
}

/* One access check of server id: its overall status on day. */
#define CHECK(id, day, overall)                                                \
	"INSERT INTO access_status(server_id, checked_at, overall, dhcp_rpc,"  \
	" dhcp_audit_share, dns_rpc, event_log, recommended_action) VALUES"    \
	" (" id ", '2026-01-0" day "T00:00:00Z', '" overall "', 'Not "         \
	"checked', 'Not checked', 'Not checked', 'Not checked', '');"

static void test_status_blocked(void **state)
{
	char *dir = tmpdir_make(), *yaml = xasprintf("%s/d.yaml", dir),
	     *db = test_db_new(dir);
	char *const init[] = {(char *)ipamctl_path(),
			      "db",
			      "init",
			      "-c",
			      yaml,
			      "--db",
			      db,
			      NULL};
	struct run_result r;
	char *sql;
	struct ipam_node *n;
	const struct ipam_node *b = NULL;

	(void)state;
	assert_int_equal(write_file(yaml,
				    "version: 1\n"
				    "ipamServer: ipam1.corp.example.test\n"
				    "provisioning:\n"
				    "  method: manual\n"),
			 0);
	assert_int_equal(run_cmd(&r, NULL, NULL, init), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);

	/* nothing checked yet: status says nothing about access */
	r = status(db, "text");
	assert_null(strstr(r.out, "blocked"));
	run_result_free(&r);

	/* dhcp1 Blocked after an Unblocked; dns2 Blocked then Unblocked;
	 * old3 Blocked but unmanaged; esc4 Blocked, a name with a terminal
	 * escape in it */
	sql = xasprintf("INSERT INTO servers(id, name, manageability) VALUES"
			" (1, 'dhcp1.corp.example.test', 'managed'),"
			" (2, 'dns2.corp.example.test', 'managed'),"
			" (3, 'old3.corp.example.test', 'unmanaged'),"
			" (4, 'esc4' || %s(27) || '[2J.corp.example.test',"
			" 'managed');",
			test_db_is_pg() ? "chr" : "char");
	free(sqlite_query(db, sql));
	free(sql);
	free(sqlite_query(db, CHECK("1", "1", "Unblocked")));
	free(sqlite_query(db, CHECK("1", "2", "Blocked")));
	free(sqlite_query(db, CHECK("2", "1", "Blocked")));
	free(sqlite_query(db, CHECK("2", "2", "Unblocked")));
	free(sqlite_query(db, CHECK("3", "2", "Blocked")));
	free(sqlite_query(db, CHECK("4", "2", "Blocked")));

	r = status(db, "text");
	assert_non_null(strstr(r.out,
			       "IPAM access blocked on 2 managed "
			       "servers: dhcp1.corp.example.test, esc4"));
	assert_non_null(strstr(r.out, "(ipamctl verify for the reasons)\n"));
	assert_null(strstr(r.out, "dns2"));
	assert_null(strstr(r.out, "old3"));
	assert_null(strchr(r.out, '\x1b'));
	run_result_free(&r);

	r = status(db, "json");
	assert_int_equal(ipam_json_parse(&n, "status", r.out, strlen(r.out)),
			 0);
	for (size_t i = 0; i < n->nr; i++)
		if (!strcmp(n->keys[i]->str, "blocked_servers"))
			b = n->items[i];
	assert_non_null(b);
	assert_int_equal(b->nr, 2);
	assert_string_equal(b->items[0]->str, "dhcp1.corp.example.test");
	/* JSON carries the exact name */
	assert_string_equal(b->items[1]->str, "esc4\x1b[2J.corp.example.test");
	ipam_node_free(n);
	run_result_free(&r);

	free(db);
	free(yaml);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_blocked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
