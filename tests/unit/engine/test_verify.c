/* engine/verify without a network: who is probed, what is refused, the
 * JSON it prints (against schemas/verify.schema.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"
#include "error.h"
#include "json.h"
#include "testutil.h"
#include "verify.h"

struct fx {
	char *dir, *path;
	struct ipam_db *db;
	struct ipam_desired *d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_make();
	f->path = test_db_new(f->dir); /* or IPAM_TEST_DB=postgres */
	f->d = desired_from_text("version: 1\n"
				 "ipamServer: ipam1.corp.example.test\n"
				 "provisioning: {method: manual}\n");
	assert_non_null(f->d);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	free(sqlite_query(
		f->path,
		"INSERT INTO servers (name, roles, manageability, status) "
		"VALUES ('dc1.corp.example.test', 'dc,dns', "
		"'unspecified', 'unchanged'), "
		"('old.corp.example.test', 'dns', 'managed', 'gone'), "
		"('dhcp9.corp.example.test', 'dhcp', 'unmanaged', "
		"'unchanged')"));
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

/* Unspecified servers are listed, not probed; unmanaged and gone ones
 * are left out; nothing needs the identity. */
static void test_unspecified_not_probed(void **state)
{
	struct fx *f = *state;
	struct ipam_verify_opts o = {.store = true};
	struct ipam_verify v;
	struct ipam_db_access a;

	assert_int_equal(ipam_verify_run(&v, f->d, f->db, &o), 0);
	assert_int_equal(v.nr, 1);
	assert_string_equal(v.v[0].name, "dc1.corp.example.test");
	assert_int_equal(v.v[0].access.overall, IPAM_ACCESS_NOT_CHECKED);
	assert_int_equal(v.v[0].access.action,
			 IPAM_ACCESS_ACTION_SET_MANAGEABILITY);
	assert_int_equal(v.v[0].access.detail[IPAM_ACCESS_DHCP_RPC].status,
			 IPAM_ACCESS_NOT_APPLICABLE);
	assert_int_equal(v.v[0].access.detail[IPAM_ACCESS_DNS_RPC].status,
			 IPAM_ACCESS_NOT_CHECKED);
	assert_null(v.principal);
	ipam_verify_release(&v);
	assert_int_equal(
		ipam_db_access_latest(f->db, "dc1.corp.example.test", &a), 0);
	assert_int_equal(a.access.action, IPAM_ACCESS_ACTION_SET_MANAGEABILITY);
	ipam_db_access_release(&a);
	/* the same again: no second row for an unspecified server */
	assert_int_equal(ipam_verify_run(&v, f->d, f->db, &o), 0);
	ipam_verify_release(&v);
	{
		struct ipam_db_access *h = NULL;
		size_t nr = 0;

		assert_int_equal(ipam_db_access_history(f->db,
							"dc1.corp.example.test",
							0, &h, &nr),
				 0);
		assert_int_equal(nr, 1);
		ipam_db_access_free(h, nr);
	}
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	struct ipam_verify_opts o = {.server = "nope.corp.example.test"};
	struct ipam_verify v;

	assert_int_equal(ipam_verify_run(&v, f->d, f->db, &o), IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "'nope.corp.example.test' "
						  "is not in the inventory"));
	ipam_verify_release(&v);
	o.server = "dhcp9.corp.example.test";
	assert_int_equal(ipam_verify_run(&v, f->d, f->db, &o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "unmanaged"));
	ipam_verify_release(&v);
	/* a managed server to probe and no identity: said, nothing run */
	free(sqlite_query(f->path,
			  "UPDATE servers SET manageability = 'managed' "
			  "WHERE name = 'dc1.corp.example.test'"));
	o.server = NULL;
	assert_int_equal(ipam_verify_run(&v, f->d, f->db, &o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "identity.keytab"));
	ipam_verify_release(&v);
}

/* The JSON of a result, a managed server made by hand among them,
 * validates against the schema. */
static void test_json_shape(void **state)
{
	struct fx *f = *state;
	struct ipam_verify_opts o = {0};
	struct ipam_verify v;
	struct ipam_verify_server *s;
	struct ipam_node *n;
	struct strbuf js = STRBUF_INIT;

	assert_int_equal(ipam_verify_run(&v, f->d, f->db, &o), 0);
	ALLOC_GROW(v.v, v.nr + 1, v.alloc);
	s = &v.v[v.nr++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup("dhcp1.corp.example.test");
	s->domain = xstrdup("corp.example.test");
	s->roles = IPAM_ROLE_DHCP;
	s->manageability = IPAM_MANAGE_MANAGED;
	s->addr = xstrdup("198.51.100.10");
	s->previous = IPAM_ACCESS_UNBLOCKED;
	s->changed = true;
	ipam_access_set(
		&s->access, IPAM_ACCESS_DHCP_RPC, IPAM_ACCESS_BLOCKED,
		"interface not served (NT_STATUS_OBJECT_NAME_NOT_FOUND)");
	ipam_access_set(&s->access, IPAM_ACCESS_DHCP_AUDIT_SHARE,
			IPAM_ACCESS_UNBLOCKED,
			"listed, read DhcpSrvLog-Mon.log");
	ipam_access_set(&s->access, IPAM_ACCESS_EVENT_LOG, IPAM_ACCESS_BLOCKED,
			"access denied for IPAM1$");
	ipam_access_settle(&s->access, s->roles, s->manageability);
	v.principal = xstrdup("IPAM1$@CORP.EXAMPLE.TEST");
	n = ipam_verify_to_node(&v);
	assert_int_equal(ipam_json_write(&js, n, IPAM_JSON_PRETTY), 0);
	assert_non_null(strstr(js.buf, "\"recommendedAction\": \"Unblock IPAM "
				       "Access\""));
	assert_non_null(strstr(js.buf, "\"recommendedAction\": \"Set "
				       "Manageability Status\""));
	schema_check("verify.schema.json", js.buf);
	ipam_node_free(n);
	strbuf_release(&js);
	ipam_verify_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unspecified_not_probed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_shape, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
