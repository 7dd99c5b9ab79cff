/*
 * ipamctl availability: a state database made by `db init`, states
 * written with the sqlite3 shell (as the availability task stores them),
 * then the command in text (the time in state, the escaping of a reason
 * from the network, --domain) and JSON (against
 * schemas/availability.schema.json).
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

static struct run_result availability(const char *db, const char *output,
				      const char *domain)
{
	char *const argv[] = {(char *)ipamctl_path(),
			      "availability",
			      "--db",
			      (char *)db,
			      "-o",
			      (char *)output,
			      domain ? "--domain" : NULL,
			      (char *)domain,
			      NULL};
	struct run_result r;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("availability: %s", r.err);
	return r;
}

static const struct ipam_node *get(const struct ipam_node *m, const char *k)
{
	for (size_t i = 0; m && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, k))
			return m->items[i];
	fail_msg("no key %s", k);
	return NULL;
}

static void schema_ok(const char *dir, const char *json)
{
	(void)dir;
	schema_check("availability.schema.json", json);
}

static void test_availability(void **state)
{
	char *dir = tmpdir_make(), *yaml = xasprintf("%s/d.yaml", dir),
	     *db = xasprintf("%s/state.db", dir);
	char *const init[] = {(char *)ipamctl_path(),
			      "db",
			      "init",
			      "-c",
			      yaml,
			      "--db",
			      db,
			      NULL};
	struct run_result r;
	struct ipam_node *n;
	const struct ipam_node *seq;
	char *out;

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

	r = availability(db, "text", NULL);
	assert_non_null(strstr(r.out, "no availability measured yet"));
	run_result_free(&r);

	out = sqlite_query(
		db,
		"INSERT INTO domains (id, name) VALUES (1, "
		"'corp.example.test'),"
		" (2, 'branch.example.test');"
		"INSERT INTO servers (id, name, domain_id, roles, "
		"manageability) VALUES "
		"(1, 'dc1.corp.example.test', 1, 'dc,dns', 'managed'),"
		"(2, 'dhcp1.corp.example.test', 1, 'dhcp', 'managed'),"
		"(3, 'dc2.branch.example.test', 2, 'dc,dns', 'managed');"
		"INSERT INTO availability (server_id, service, state, since, "
		"checked_at, rtt_ms, reason) VALUES "
		"(1, 'dns', 'up', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
		"'-7510 seconds'), '2026-12-07T09:00:00Z', 2, NULL),"
		"(2, 'dhcp', 'down', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
		"'-3 days', '-4 hours', '-10 seconds'), "
		"'2026-12-07T09:00:00Z', NULL, 'no answer' || char(27) || "
		"'[2J'),"
		"(3, 'dns', 'up', '2026-12-07T08:00:00Z', "
		"'2026-12-07T09:00:00Z', 1, NULL);");
	free(out);

	r = availability(db, "text", "corp.example.test");
	if (!strstr(r.out, "dc1.corp.example.test") ||
	    !strstr(r.out, "up for 2h 05m") ||
	    !strstr(r.out, "down for 3d 04h") ||
	    !strstr(r.out, "no answer\\x1b[2J") || strchr(r.out, 27) ||
	    strstr(r.out, "dc2.branch"))
		fail_msg("availability text:\n%s", r.out);
	run_result_free(&r);

	r = availability(db, "json", NULL);
	schema_ok(dir, r.out);
	assert_int_equal(ipam_json_parse(&n, "out", r.out, strlen(r.out)), 0);
	seq = get(n, "services");
	assert_non_null(seq);
	assert_int_equal(seq->nr, 3);
	assert_string_equal(get(seq->items[0], "server")->str,
			    "dc1.corp.example.test");
	assert_true(get(seq->items[0], "secondsInState")->num >= 7510);
	assert_string_equal(get(seq->items[2], "state")->str, "down");
	assert_string_equal(get(seq->items[2], "reason")->str,
			    "no answer\x1b[2J");
	ipam_node_free(n);
	run_result_free(&r);

	free(yaml);
	free(db);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_availability),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
