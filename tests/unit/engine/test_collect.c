/* engine/collect without a network: which servers a task collects, the
 * result it builds, the record of a task's run (collect_tasks, the
 * history, each server's outcome) and the JSON collect prints (against
 * schemas/collect.schema.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "collect.h"
#include "db.h"
#include "db_collect.h"
#include "error.h"
#include "json.h"
#include "testutil.h"

struct fx {
	char *dir, *path;
	struct ipam_db *db;
	struct ipam_desired *d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_make();
	/* IPAM_TEST_DB=postgres: a fresh database of ci/pg's server */
	f->path = test_db_is_pg() ? test_db_new(f->dir)
				  : xasprintf("%s/state.db", f->dir);
	f->d = desired_from_text("version: 1\n"
				 "ipamServer: ipam1.corp.example.test\n"
				 "provisioning: {method: manual}\n"
				 "discovery:\n"
				 "  - domain: corp.example.test\n"
				 "  - domain: branch.example.test\n"
				 "servers:\n"
				 "  - name: dhcp1.corp.example.test\n"
				 "    manageability: managed\n");
	assert_non_null(f->d);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	free(sqlite_query(
		f->path,
		"INSERT INTO domains (name) VALUES ('corp.example.test'), "
		"('branch.example.test');"
		"INSERT INTO servers (name, domain_id, roles, manageability, "
		"status) VALUES "
		"('dc1.corp.example.test', 1, 'dc,dns', 'managed', "
		"'unchanged'),"
		"('dhcp1.corp.example.test', 1, 'dhcp', 'managed', 'new'),"
		"('dhcp2.corp.example.test', 1, 'dhcp', 'unspecified', 'new'),"
		"('dhcp9.corp.example.test', 1, 'dhcp', 'unmanaged', 'new'),"
		"('old.corp.example.test', 1, 'dhcp', 'managed', 'gone'),"
		"('dc2.branch.example.test', 2, 'dc,dns,dhcp', 'managed', "
		"'unchanged');"
		"INSERT INTO server_addresses VALUES (2, 4, "
		"'198.51.100.10');"));
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
	free(f);
	return 0;
}

static char *names(const struct ipam_collect_target *v, size_t nr)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < nr; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", v[i].name);
	return strbuf_detach(&sb, NULL);
}

/* Managed servers with the role, present, in scope; nothing else. */
static void test_targets(void **state)
{
	struct fx *f = *state;
	struct ipam_collect_opts o = {0};
	struct ipam_collect_ctx c = {.d = f->d, .db = f->db, .o = &o};
	struct ipam_collect_target *v;
	size_t nr;
	char *s;

	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP), 0);
	s = names(v, nr);
	assert_string_equal(s, "dc2.branch.example.test,"
			       "dhcp1.corp.example.test");
	free(s);
	assert_string_equal(v[1].addr, "198.51.100.10");
	assert_string_equal(v[1].domain, "corp.example.test");
	assert_null(v[0].addr);
	ipam_collect_targets_free(v, nr);

	o.domain = "CORP.example.test";
	assert_int_equal(ipam_collect_targets(&v, &nr, &c,
					      IPAM_ROLE_DHCP | IPAM_ROLE_DNS),
			 0);
	s = names(v, nr);
	assert_string_equal(s, "dc1.corp.example.test,"
			       "dhcp1.corp.example.test");
	free(s);
	ipam_collect_targets_free(v, nr);

	/* --server: a managed server without the role has nothing to give */
	o.domain = NULL;
	o.server = "dc1.corp.example.test";
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP), 0);
	assert_int_equal(nr, 0);
	ipam_collect_targets_free(v, nr);
}

static void test_target_refusals(void **state)
{
	struct fx *f = *state;
	struct ipam_collect_opts o = {.server = "nope.corp.example.test"};
	struct ipam_collect_ctx c = {.d = f->d, .db = f->db, .o = &o};
	struct ipam_collect_target *v;
	size_t nr;

	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "not in the inventory"));
	o.server = "dhcp9.corp.example.test";
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP),
			 IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "'dhcp9.corp.example.test' "
						  "is unmanaged: only managed "
						  "servers are collected"));
	o.server = "dhcp2.corp.example.test";
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP),
			 IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "is unspecified"));
	o.server = "old.corp.example.test";
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "not found by the last "
						  "discovery"));
	o.server = "dhcp1.corp.example.test";
	o.domain = "branch.example.test";
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "of that domain"));
}

/* The server's timeZone, else its domain's, else none (UTC). */
static void test_target_time_zone(void **state)
{
	struct fx *f = *state;
	struct ipam_collect_opts o = {0};
	struct ipam_collect_ctx c = {.d = f->d, .db = f->db, .o = &o};
	struct ipam_collect_target *v;
	struct ipam_domain *branch =
		(struct ipam_domain *)ipam_desired_find_domain(
			f->d, "branch.example.test");
	size_t nr;

	assert_non_null(branch);
	branch->time_zone.value = xstrdup("Europe/Berlin");
	f->d->servers[0].time_zone.value = xstrdup("America/New_York");
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(v[0].name, "dc2.branch.example.test");
	assert_string_equal(v[0].time_zone, "Europe/Berlin");
	assert_string_equal(v[1].time_zone, "America/New_York");
	ipam_collect_targets_free(v, nr);
	free(branch->time_zone.value);
	branch->time_zone.value = NULL;
	assert_int_equal(ipam_collect_targets(&v, &nr, &c, IPAM_ROLE_DHCP), 0);
	assert_null(v[0].time_zone);
	ipam_collect_targets_free(v, nr);
}

/* Counts keep their first order, warnings stop at the bound and count
 * the rest, the summary says who failed. */
static void test_result(void **state)
{
	struct ipam_collect_result r = {.task = IPAM_TASK_AUDIT};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_collect_count(&r, "events", 10);
	ipam_collect_count(&r, "files", 2);
	ipam_collect_count(&r, "events", 5);
	assert_int_equal(ipam_collect_count_get(&r, "events"), 15);
	assert_int_equal(ipam_collect_count_get(&r, "nothing"), 0);
	for (int i = 0; i < IPAM_COLLECT_MAX_WARNINGS + 7; i++)
		ipam_collect_warn(&r, "DhcpSrvLog-Mon.log:%d: bad date", i + 1);
	assert_int_equal(r.nr_warnings, IPAM_COLLECT_MAX_WARNINGS);
	assert_int_equal(r.warnings_dropped, 7);
	assert_string_equal(r.warnings[0], "DhcpSrvLog-Mon.log:1: bad date");
	ipam_collect_server_add(&r, "dhcp1.corp.example.test", true,
				"events %d", 15);
	ipam_collect_server_add(&r, "dhcp2.corp.example.test", false,
				"unreachable (%s)", "timed out");
	assert_int_equal(ipam_collect_failed(&r), 1);
	ipam_collect_summary(&sb, &r);
	assert_string_equal(sb.buf,
			    "events 15, files 2; 1 of 2 servers failed");
	strbuf_release(&sb);
	ipam_collect_result_release(&r);
	assert_int_equal(r.nr, 0);
	ipam_collect_summary(&sb, &r);
	assert_string_equal(sb.buf, "0 servers");
	strbuf_release(&sb);
}

/* A task with nothing in scope runs, and is recorded as a run, in
 * collect_tasks and as succeeded; a --server that is not managed fails
 * the task, recorded as failed with the reason. */
static void test_run_task_record(void **state)
{
	struct fx *f = *state;
	struct ipam_collect_opts o = {.domain = "nowhere.example.test"};
	struct ipam_collect_result r;
	struct ipam_db_task_row *t;
	size_t nr;
	char *s;

	assert_int_equal(ipam_collect_run_task(&r, IPAM_TASK_AUDIT, f->d, f->db,
					       &o, NULL),
			 0);
	assert_int_equal(r.nr, 0);
	ipam_collect_result_release(&r);
	o.domain = NULL;
	o.server = "dhcp9.corp.example.test";
	assert_int_equal(ipam_collect_run_task(&r, IPAM_TASK_AUDIT, f->d, f->db,
					       &o, NULL),
			 IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "unmanaged"));
	ipam_collect_result_release(&r);
	assert_int_equal(ipam_collect_run_task(&r, IPAM_TASK_ACCESS, f->d,
					       f->db, &o, NULL),
			 IPAM_EINVAL);
	ipam_collect_result_release(&r);

	s = sqlite_query(f->path, "SELECT group_concat(command || ':' || "
				  "outcome, ' ') FROM runs");
	assert_string_equal(s, "collect audit:succeeded collect audit:failed");
	free(s);
	assert_int_equal(ipam_db_tasks_list(f->db, &t, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(t[0].task, "audit");
	assert_string_equal(t[0].last_outcome, "failed");
	assert_non_null(strstr(t[0].last_summary, "unmanaged"));
	assert_int_equal(t[0].last_run_id, 2);
	assert_non_null(t[0].last_started_at);
	assert_non_null(t[0].last_ended_at);
	ipam_db_tasks_free(t, nr);
}

static void test_task_servers(void **state)
{
	struct fx *f = *state;
	struct ipam_db_task_server_row *v;
	size_t nr;

	assert_int_equal(ipam_db_task_server(f->db, "audit",
					     "dhcp1.corp.example.test", 0,
					     false, "access denied"),
			 0);
	assert_int_equal(ipam_db_task_server(f->db, "audit",
					     "dhcp1.corp.example.test", 0, true,
					     "events 3"),
			 0);
	assert_int_equal(ipam_db_task_server(f->db, "dns",
					     "dc1.corp.example.test", 0, true,
					     NULL),
			 0);
	assert_int_equal(ipam_db_task_servers(f->db, "audit", &v, &nr), 0);
	assert_int_equal(nr, 1);
	assert_true(v[0].ok);
	assert_string_equal(v[0].detail, "events 3");
	ipam_db_task_servers_free(v, nr);
	assert_int_equal(ipam_db_task_servers(f->db, NULL, &v, &nr), 0);
	assert_int_equal(nr, 2);
	assert_null(v[1].detail);
	ipam_db_task_servers_free(v, nr);
}

static void test_json_shape(void **state)
{
	struct ipam_collect_result r = {.task = IPAM_TASK_AUDIT, .ms = 12};
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *n;
	struct strbuf js = STRBUF_INIT;

	(void)state;
	ipam_collect_count(&r, "events", 3);
	ipam_collect_server_add(&r, "dhcp1.corp.example.test", true, NULL);
	ipam_collect_server_add(&r, "dhcp2.corp.example.test", false,
				"access denied for IPAM1$");
	ipam_collect_warn(&r, "dhcp1:DhcpSrvLog-Mon.log:41: bad date");
	n = ipam_collect_to_node(&r);
	ipam_node_set(n, "error", ipam_node_str_or_null(NULL));
	ipam_node_push(seq, n);
	ipam_node_set(root, "tasks", seq);
	assert_int_equal(ipam_json_write(&js, root, IPAM_JSON_PRETTY), 0);
	assert_non_null(strstr(js.buf, "\"events\": 3"));
	schema_check("collect.schema.json", js.buf);
	ipam_node_free(root);
	strbuf_release(&js);
	ipam_collect_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_target_time_zone, setup,
						teardown),
		cmocka_unit_test(test_result),
		cmocka_unit_test_setup_teardown(test_run_task_record, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_task_servers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_shape, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
