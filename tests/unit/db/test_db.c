#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "error.h"
#include "testutil.h"

#include <sys/socket.h>

struct fx {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_make();
	f->path = xasprintf("%s/sub/dir/state.db", f->dir);
	*state = f;
	return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static struct ipam_desired *desired(const char *method_and_prefix)
{
	char *text =
		xasprintf("version: 1\nipamServer: ipam1.corp.example.test\n"
			  "provisioning: {%s}\n",
			  method_and_prefix);
	struct ipam_source src = {"d.yaml", text, strlen(text)};
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;

	assert_int_equal(ipam_config_load_sources(&d, &src, 1, &diags), 0);
	ipam_diags_free(&diags);
	free(text);
	return d;
}

/* Run SQL through the sqlite3 command-line shell, an independent look at
 * the file; returns its output (or, when it fails, its error text). */
static char *sqlite_run(const char *path, const char *sql, int want_ok)
{
	char *const argv[] = {"/usr/bin/sqlite3", (char *)path, (char *)sql,
			      NULL};
	struct run_result r;
	char *out;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (want_ok)
		assert_int_equal(r.status, 0);
	else
		assert_int_not_equal(r.status, 0);
	out = xstrdup(want_ok ? r.out : r.err);
	run_result_free(&r);
	if (out[0] && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

static char *sqlite_query(const char *path, const char *sql)
{
	return sqlite_run(path, sql, 1);
}

static void test_open_requires_existing_without_create(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;

	assert_int_equal(ipam_db_open(&db, f->path, 0), IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "ipamctl db init"));
	assert_null(db);
}

static void test_migrations_from_zero(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	struct stat st;
	int from = -1, to = -1, v;
	char *s;

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ipam_db_schema_version(db, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, ipam_db_latest_version());
	/* idempotent */
	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	assert_int_equal(from, to);
	ipam_db_close(db);

	s = sqlite_query(f->path, "PRAGMA user_version");
	assert_int_equal(strtol(s, NULL, 10), ipam_db_latest_version());
	free(s);
	s = sqlite_query(f->path, "PRAGMA journal_mode");
	assert_string_equal(s, "wal");
	free(s);
	s = sqlite_query(f->path, "SELECT group_concat(version) FROM "
				  "schema_migrations");
	assert_string_equal(s, "1");
	free(s);
	s = sqlite_query(f->path,
			 "SELECT group_concat(name, ',') FROM (SELECT name "
			 "FROM sqlite_master WHERE type='table' ORDER BY "
			 "name)");
	assert_string_equal(s, "access_status,actions,domains,runs,"
			       "schema_migrations,server_addresses,"
			       "server_history,servers,settings");
	free(s);
}

static void test_schema_constraints(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	char *s;

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	ipam_db_close(db);
	/* manageability is one of three values */
	s = sqlite_run(f->path,
		       "INSERT INTO servers(name, manageability) VALUES "
		       "('a.test','sometimes')",
		       0);
	assert_non_null(strstr(s, "CHECK constraint failed"));
	free(s);
	/* names are unique without regard to case; addresses cascade */
	s = sqlite_query(
		f->path,
		"PRAGMA foreign_keys=ON;"
		"INSERT INTO servers(name) VALUES ('dc1.corp.example.test');"
		"INSERT OR IGNORE INTO servers(name) VALUES "
		"('DC1.corp.example.test');"
		"INSERT INTO server_addresses VALUES (1, 4, '127.0.0.2');"
		"DELETE FROM servers;"
		"SELECT count(*) FROM server_addresses;");
	assert_string_equal(s, "0");
	free(s);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	char *s;

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	ipam_db_close(db);
	s = sqlite_query(f->path, "PRAGMA user_version = 99");
	free(s);
	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "schema version 99"));
	assert_non_null(strstr(ipam_error_last(), "upgrade ipamctl"));
	ipam_db_close(db);
}

static void test_settings_lock(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	struct ipam_db_settings s;
	struct ipam_desired *gpo = desired("method: gpo, gpoPrefix: IPAM");
	struct ipam_desired *manual = desired("method: manual");
	struct ipam_desired *other = desired("method: gpo, gpoPrefix: OTHER");

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	/* nothing recorded: nothing to conflict with */
	assert_int_equal(ipam_db_check_settings(db, manual), 0);
	assert_int_equal(ipam_db_record_settings(db, "gpo", "IPAM"), 0);
	/* recording again keeps the first */
	assert_int_equal(ipam_db_record_settings(db, "manual", NULL), 0);
	assert_int_equal(ipam_db_get_settings(db, &s), 0);
	assert_string_equal(s.method, "gpo");
	assert_string_equal(s.gpo_prefix, "IPAM");
	assert_non_null(s.fixed_at);
	assert_int_equal(strlen(s.fixed_at), strlen("2026-01-01T00:00:00Z"));

	assert_int_equal(ipam_db_check_settings(db, gpo), 0);
	assert_int_equal(ipam_db_check_settings(db, manual), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "d.yaml:3:24: provisioning "
						  "method 'manual' conflicts"));
	assert_non_null(strstr(ipam_error_last(), s.fixed_at));
	assert_non_null(strstr(ipam_error_last(), "ipamctl db init --force"));
	assert_int_equal(ipam_db_check_settings(db, other), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "gpoPrefix 'OTHER'"));
	ipam_db_settings_release(&s);
	ipam_db_close(db);
	ipam_desired_free(gpo);
	ipam_desired_free(manual);
	ipam_desired_free(other);
}

static void test_counts_and_removal(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	struct ipam_db_count *c = NULL;
	struct stat st;
	size_t nr = 0, i;
	char *wal;

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	assert_int_equal(ipam_db_counts(db, &c, &nr), 0);
	assert_true(nr >= 5);
	for (i = 0; i < nr; i++)
		assert_int_equal(c[i].rows, 0);
	free(c);
	ipam_db_close(db);
	wal = xasprintf("%s-wal", f->path);
	assert_int_equal(ipam_db_remove_files(f->path), 0);
	assert_int_not_equal(stat(f->path, &st), 0);
	assert_int_not_equal(stat(wal, &st), 0);
	/* removing nothing is fine */
	assert_int_equal(ipam_db_remove_files(f->path), 0);
	free(wal);
}

static void test_uri_and_default_path(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_db_path_from_uri(&sb, "sqlite:/var/x.db"), 0);
	assert_string_equal(sb.buf, "/var/x.db");
	assert_int_equal(ipam_db_path_from_uri(&sb, "sqlite:///var/x.db"), 0);
	assert_string_equal(sb.buf, "/var/x.db");
	assert_int_equal(ipam_db_path_from_uri(&sb, "sqlite:rel.db"), 0);
	assert_string_equal(sb.buf, "rel.db");
	assert_int_equal(ipam_db_path_from_uri(&sb, "/plain.db"), 0);
	assert_string_equal(sb.buf, "/plain.db");
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgres://db/ipam"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_db_path_from_uri(&sb, "sqlite:"), IPAM_EINVAL);
	ipam_db_default_path(&sb);
	if (geteuid() == 0)
		assert_string_equal(sb.buf, "/var/lib/ipamctl/state.db");
	else
		assert_non_null(strstr(sb.buf, "/ipamctl/state.db"));
	strbuf_release(&sb);
}

/* One observed domain with one server, and the plan to store it. */
static void store_round(struct ipam_db *db, struct ipam_desired *d,
			const char *addr, long long *run_id)
{
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan plan;
	struct ipam_obs_domain *od;
	struct ipam_obs_server *s;

	obs.domains = xcalloc(1, sizeof(*obs.domains));
	obs.nr_domains = 1;
	od = &obs.domains[0];
	od->name = xstrdup("corp.example.test");
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_OFF, "off");
	s = ipam_obs_get(od, "dc1.corp.example.test");
	s->roles = IPAM_ROLE_DC | IPAM_ROLE_DNS;
	s->in_ad = true;
	s->guid = xstrdup("0106a77a-002f-4910-915d-47678ff6420c");
	s->sid = xstrdup("S-1-5-21-1-2-3-1000");
	s->dn = xstrdup("CN=DC1,OU=Domain Controllers,DC=corp,DC=example,"
			"DC=test");
	s->addrs = xcalloc(2, sizeof(*s->addrs));
	s->addrs[0].family = AF_INET;
	snprintf(s->addrs[0].text, sizeof(s->addrs[0].text), "%s", addr);
	s->addrs[1].family = AF_INET6;
	snprintf(s->addrs[1].text, sizeof(s->addrs[1].text), "2001:db8::1");
	s->nr_addrs = 2;
	assert_int_equal(ipam_db_run_begin(db, "discover", run_id), 0);
	assert_int_equal(ipam_db_inventory_load(db, &prev), 0);
	ipam_inventory_plan(&plan, &prev, &obs, d);
	assert_int_equal(ipam_db_inventory_store(db, *run_id, d, &obs, &plan),
			 0);
	assert_int_equal(ipam_db_run_end(db, *run_id, "succeeded", "{}"), 0);
	ipam_inv_plan_release(&plan);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(od);
	free(obs.domains);
}

static void test_inventory_round_trip(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	struct ipam_desired *d = desired("method: manual");
	struct ipam_inventory inv = {0};
	struct ipam_db_history *h = NULL;
	size_t nr = 0;
	long long run1, run2;
	char *s, *sql;

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	store_round(db, d, "10.0.0.1", &run1);
	assert_int_equal(ipam_db_inventory_load(db, &inv), 0);
	assert_int_equal(inv.nr, 1);
	assert_string_equal(inv.servers[0].name, "dc1.corp.example.test");
	assert_string_equal(inv.servers[0].domain, "corp.example.test");
	assert_int_equal(inv.servers[0].roles, IPAM_ROLE_DC | IPAM_ROLE_DNS);
	assert_int_equal(inv.servers[0].status, IPAM_INV_NEW);
	assert_int_equal(inv.servers[0].nr_addrs, 2);
	assert_string_equal(inv.servers[0].addrs[0].text, "10.0.0.1");
	assert_string_equal(inv.servers[0].addrs[1].text, "2001:db8::1");
	assert_int_equal(inv.servers[0].addrs[1].family, AF_INET6);
	assert_string_equal(inv.servers[0].sid, "S-1-5-21-1-2-3-1000");
	assert_non_null(inv.servers[0].first_seen);
	assert_null(inv.servers[0].access);

	/* collected data exists for it; turning unmanaged purges it */
	sql = xasprintf("INSERT INTO access_status(server_id, checked_at, "
			"overall, dhcp_rpc, dhcp_audit_share, dns_rpc, "
			"event_log, recommended_action) VALUES (%lld, "
			"'2026-01-01T00:00:00Z', 'Blocked', 'Not applicable', "
			"'Not applicable', 'Blocked', 'Blocked', 'Unblock IPAM "
			"Access')",
			inv.servers[0].id);
	s = sqlite_query(f->path, sql);
	free(s);
	free(sql);
	ipam_inventory_release(&inv);
	assert_int_equal(ipam_db_inventory_load(db, &inv), 0);
	assert_string_equal(inv.servers[0].access, "Blocked");
	ipam_inventory_release(&inv);

	ipam_desired_free(d);
	{
		const char *text =
			"version: 1\nipamServer: ipam1.corp.example.test\n"
			"provisioning: {method: manual}\n"
			"discovery: [{domain: corp.example.test}]\n"
			"servers: [{name: dc1.corp.example.test, "
			"manageability: unmanaged}]\n";
		struct ipam_source src = {"d.yaml", text, strlen(text)};
		struct ipam_diags diags = {0};

		d = NULL;
		assert_int_equal(ipam_config_load_sources(&d, &src, 1, &diags),
				 0);
		ipam_diags_free(&diags);
	}
	store_round(db, d, "10.0.0.2", &run2);
	assert_int_equal(ipam_db_inventory_load(db, &inv), 0);
	assert_int_equal(inv.servers[0].status, IPAM_INV_CHANGED);
	assert_int_equal(inv.servers[0].manageability, IPAM_MANAGE_UNMANAGED);
	assert_string_equal(inv.servers[0].addrs[0].text, "10.0.0.2");
	assert_null(inv.servers[0].access); /* purged */
	assert_int_equal(
		ipam_db_server_history(db, "DC1.corp.example.test", &h, &nr),
		0);
	assert_int_equal(nr, 2);
	assert_string_equal(h[0].change, "discovered: dc,dns");
	assert_int_equal(h[0].run_id, run1);
	assert_string_equal(h[1].change,
			    "addresses: 10.0.0.1, 2001:db8::1 -> 10.0.0.2, "
			    "2001:db8::1; manageability: unspecified -> "
			    "unmanaged");
	assert_int_equal(h[1].run_id, run2);
	ipam_db_history_free(h, nr);
	ipam_inventory_release(&inv);
	s = sqlite_query(f->path, "SELECT group_concat(outcome) FROM runs");
	assert_string_equal(s, "succeeded,succeeded");
	free(s);
	s = sqlite_query(f->path, "SELECT last_status FROM domains");
	assert_string_equal(s, "complete");
	free(s);
	ipam_db_close(db);
	ipam_desired_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_open_requires_existing_without_create, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_migrations_from_zero,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_constraints, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counts_and_removal, setup,
						teardown),
		cmocka_unit_test(test_uri_and_default_path),
		cmocka_unit_test_setup_teardown(test_inventory_round_trip,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
