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
#include "db_events.h"
#include "diff.h"
#include "error.h"
#include "testutil.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

struct fx {
	char *dir;
	char *path;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = tmpdir_make();
	/* IPAM_TEST_DB=postgres: a fresh database of ci/pg's server */
	f->path = test_db_is_pg() ? test_db_new(f->dir)
				  : xasprintf("%s/sub/dir/state.db", f->dir);
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
	struct ipam_desired *d = desired_from_text(text);

	assert_non_null(d);
	free(text);
	return d;
}

/* A test of SQLite's file, PRAGMAs or lock row: skipped on PostgreSQL,
 * which has its own below. */
#define SQLITE_ONLY()                                                          \
	do {                                                                   \
		if (test_db_is_pg())                                           \
			skip();                                                \
	} while (0)

#define TABLES_SQL                                                             \
	"SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master " \
	"WHERE type='table' ORDER BY name)"

/* The tables of schema version 1, as migration 1 alone makes them. */
/* What migrations 6 to 10 made, dropped to go back to version 5. */
#define DROP_V6_TO_V11                                                         \
	"DROP TABLE dhcp_address_fold_state; DROP TABLE dhcp_address_fold;"    \
	"DROP TABLE dhcp_batch_addresses;"                                     \
	"DROP TABLE utilization_samples; DROP TABLE address_sources;"          \
	"DROP TABLE addresses;"                                                \
	"DROP TABLE availability_history; DROP TABLE availability;"            \
	"DROP TABLE zone_status; DROP TABLE dns_record_history;"               \
	"DROP TABLE dns_records; DROP TABLE dns_zones;"                        \
	"DROP TABLE dhcp_event_postings; DROP TABLE dhcp_event_blocks;"        \
	"DROP TABLE dhcp_event_batches; DROP TABLE dhcp_audit_files;"          \
	"DROP TABLE collect_server_status; DROP TABLE collect_tasks;"

#define V1_TABLES                                                              \
	"access_status,actions,domains,runs,schema_migrations,"                \
	"server_addresses,server_history,servers,settings"

static void test_open_requires_existing_without_create(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;

	SQLITE_ONLY();
	assert_int_equal(ipam_db_open(&db, f->path, 0), IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "ipamctl db init"));
	assert_null(db);
}

/* What is wrong with a path that names no database, said in its terms:
 * a directory, a missing or non-directory parent, a device. */
static void test_open_names_the_path_problem(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	char *want, *file, *under;

	SQLITE_ONLY();
	/* f->path's directory does not exist yet */
	assert_int_equal(ipam_db_open(&db, f->path, 0), IPAM_ENOTFOUND);
	want = xasprintf("no state database at '%s': its directory "
			 "'%s/sub/dir' does not exist; run 'ipamctl db init'",
			 f->path, f->dir);
	assert_string_equal(ipam_error_last(), want);
	free(want);
	/* a directory, with or without IPAM_DB_CREATE */
	assert_int_equal(ipam_db_open(&db, f->dir, 0), IPAM_EINVAL);
	want = xasprintf("state database '%s' is a directory: name a file "
			 "(such as '%s/state.db')",
			 f->dir, f->dir);
	assert_string_equal(ipam_error_last(), want);
	assert_int_equal(ipam_db_open(&db, f->dir, IPAM_DB_CREATE),
			 IPAM_EINVAL);
	assert_string_equal(ipam_error_last(), want);
	free(want);
	/* a parent that is a file */
	file = xasprintf("%s/plain", f->dir);
	under = xasprintf("%s/state.db", file);
	assert_int_equal(write_file(file, "x"), 0);
	assert_int_equal(ipam_db_open(&db, under, 0), IPAM_EINVAL);
	want = xasprintf("no state database at '%s': '%s' is not a directory",
			 under, file);
	assert_string_equal(ipam_error_last(), want);
	free(want);
	assert_int_not_equal(ipam_db_open(&db, under, IPAM_DB_CREATE), 0);
	want = xasprintf("cannot create '%s': '%s' is not a directory", under,
			 file);
	assert_string_equal(ipam_error_last(), want);
	free(want);
	/* not a regular file */
	assert_int_equal(ipam_db_open(&db, "/dev/null", 0), IPAM_EINVAL);
	assert_string_equal(ipam_error_last(), "state database '/dev/null' is "
					       "not a regular file");
	assert_null(db);
	free(under);
	free(file);
}

static void test_migrations_from_zero(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	struct stat st;
	int from = -1, to = -1, v;
	char *s;

	SQLITE_ONLY();
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
	assert_string_equal(s, "1,2,3,4,5,6,7,8,9,10,11,12");
	free(s);
	s = sqlite_query(f->path, TABLES_SQL);
	assert_string_equal(s, "access_status,actions,address_sources,"
			       "addresses,applied_domains,"
			       "applied_filter,applied_gpos,availability,"
			       "availability_history,collect_server_status,"
			       "collect_tasks,dhcp_address_fold,"
			       "dhcp_address_fold_state,dhcp_audit_files,"
			       "dhcp_batch_addresses,"
			       "dhcp_event_batches,dhcp_event_blocks,"
			       "dhcp_event_postings,"
			       "dns_record_history,dns_records,dns_zones,"
			       "domains,reconcile_lock,runs,"
			       "schema_migrations,server_addresses,"
			       "server_history,servers,settings,"
			       "utilization_samples,zone_status");
	free(s);
}

static void test_schema_constraints(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	char *s;

	SQLITE_ONLY();
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

	SQLITE_ONLY();
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

	SQLITE_ONLY();
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
	/* A PostgreSQL URI is passed on as it is, by its rules. */
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgres://db/ipam"), 0);
	assert_string_equal(sb.buf, "postgres://db/ipam");
	assert_int_equal(ipam_db_path_from_uri(&sb,
					       "postgresql://ipam@db:5432/ipam"
					       "?sslmode=verify-full"),
			 0);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://ipam:pw@db/"
						    "ipam"),
			 IPAM_EINVAL);
	assert_null(strstr(ipam_error_last(), "pw@"));
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://db/ipam?"
						    "sslmode=require&"
						    "password=pw"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://db/ipam?"
						    "sslmode=disable"),
			 IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "Unix socket or loopback"));
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://127.0.0.1:5/"
						    "ipam?sslmode=disable"),
			 0);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql:///ipam?host="
						    "%2Frun%2Fpg&sslmode="
						    "disable"),
			 0);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://%2Frun%2Fpg/"
						    "ipam?sslmode=disable"),
			 0);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://[::1]:5/ipam"
						    "?sslmode=prefer"),
			 0);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://db,localhost"
						    "/ipam?sslmode=allow"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_db_path_from_uri(&sb, "postgresql://db/ipam?"
						    "sslmode=bogus"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_db_path_from_uri(&sb, "mysql://db/ipam"),
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
/* One audit event of dc1 (its batch, row and postings). */
static void store_event(struct ipam_db *db)
{
	struct ipam_db_events_batch *b;
	struct ipam_dhcplog_event e = {
		.family = 4,
		.event_id = 10,
		.description = "Assign",
		.ip = "10.9.9.9",
		.host = "h.corp.example.test",
		.client_id = "00155d000001",
		.line = 1,
	};
	struct ipam_db_event_in in = {&e, 100, "2026-01-01T00:01:40", 0};
	struct ipam_db_audit_cursor c = {.generation = 1};

	assert_int_equal(ipam_db_events_begin(db, &b, "dc1.corp.example.test",
					      0, "DhcpSrvLog-Mon.log", 1),
			 0);
	assert_int_equal(ipam_db_events_add(b, &in), 0);
	assert_int_equal(ipam_db_events_commit(b, &c), 0);
}

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

/* New and known servers in one store (PostgreSQL pipelines it): the new
 * ones get their ids in plan order, each its own addresses and history. */
static void test_inventory_store_mixed(void **state)
{
	static const char *const names[] = {"srv-b.corp.example.test",
					    "srv-a.corp.example.test",
					    "srv-c.corp.example.test"};
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	struct ipam_desired *d = desired("method: manual");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0}, inv = {0};
	struct ipam_inv_plan plan;
	struct ipam_db_history *h = NULL;
	long long run, last = 0;
	size_t i, k, nr = 0;

	assert_int_equal(ipam_db_open(&db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	store_round(db, d, "10.0.0.1", &run);
	obs.domains = xcalloc(1, sizeof(*obs.domains));
	obs.nr_domains = 1;
	obs.domains[0].name = xstrdup("corp.example.test");
	for (i = 0; i < 4; i++) {
		struct ipam_obs_server *s = ipam_obs_get(
			&obs.domains[0],
			i ? names[i - 1] : "dc1.corp.example.test");

		s->roles = i ? IPAM_ROLE_DHCP : IPAM_ROLE_DC | IPAM_ROLE_DNS;
		s->in_ad = true;
		s->addrs = xcalloc(1, sizeof(*s->addrs));
		s->addrs[0].family = AF_INET;
		snprintf(s->addrs[0].text, sizeof(s->addrs[0].text),
			 "10.0.1.%zu", i);
		s->nr_addrs = 1;
	}
	assert_int_equal(ipam_db_run_begin(db, "discover", &run), 0);
	assert_int_equal(ipam_db_inventory_load(db, &prev), 0);
	ipam_inventory_plan(&plan, &prev, &obs, d);
	assert_int_equal(ipam_db_inventory_store(db, run, d, &obs, &plan), 0);
	assert_int_equal(ipam_db_inventory_load(db, &inv), 0);
	assert_int_equal(inv.nr, 4);
	for (i = 0; i < plan.nr; i++) {
		const struct ipam_inv_server *s = NULL;
		char want[16];

		for (k = 0; k < inv.nr; k++)
			if (!strcmp(inv.servers[k].name,
				    plan.updates[i].row.name))
				s = &inv.servers[k];
		assert_non_null(s);
		assert_int_equal(s->nr_addrs, 1);
		for (k = 0; k < 4; k++)
			if (!strcmp(s->name,
				    k ? names[k - 1] : "dc1.corp.example.test"))
				break;
		snprintf(want, sizeof(want), "10.0.1.%zu", k);
		assert_string_equal(s->addrs[0].text, want);
		if (plan.updates[i].row.id) {
			assert_int_equal(s->id, plan.updates[i].row.id);
			continue;
		}
		assert_true(s->id > last); /* plan order */
		last = s->id;
		assert_int_equal(ipam_db_server_history(db, s->name, &h, &nr),
				 0);
		assert_int_equal(nr, 1);
		assert_int_equal(h[0].run_id, run);
		ipam_db_history_free(h, nr);
	}
	assert_true(last > 0);
	ipam_inv_plan_release(&plan);
	ipam_inventory_release(&prev);
	ipam_inventory_release(&inv);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	ipam_desired_free(d);
	ipam_db_close(db);
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
	store_event(db);
	s = sqlite_query(f->path, "SELECT (SELECT count(*) FROM "
				  "dhcp_event_blocks), "
				  "(SELECT count(*) FROM dhcp_event_batches), "
				  "(SELECT count(*) FROM dhcp_event_postings)");
	assert_string_equal(s, "1|1|3");
	free(s);

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
	s = sqlite_query(f->path, "SELECT (SELECT count(*) FROM "
				  "dhcp_event_blocks), "
				  "(SELECT count(*) FROM dhcp_event_batches), "
				  "(SELECT count(*) FROM dhcp_event_postings)");
	assert_string_equal(s, "0|0|0");
	free(s);
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

/* ---- schema version 2: reconciling ---- */

static struct ipam_db *open_migrated(const char *path)
{
	struct ipam_db *db = NULL;

	assert_int_equal(ipam_db_open(&db, path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	return db;
}

static char *sid_a[] = {"S-1-5-21-7-7-7-1105", "S-1-5-21-7-7-7-1104"};
static char *sid_b[] = {"S-1-5-21-7-7-7-2001", "S-1-5-21-7-7-7-1000",
			"S-1-5-21-7-7-7-2001"};
static char *sid_c[] = {"S-1-5-21-7-7-7-3000"};

/* zeta: its DC_NPS GPO before its DHCP GPO, filters unsorted, a dup. */
static void applied_zeta(struct ipam_applied_domain *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->domain = "zeta.example.test";
	ad->config_digest = "digest-1";
	ad->group = true;
	ad->group_member = true;
	ad->dns_ace = true;
	ad->gpos[0].gpo = IPAM_POL_GPO_DC_NPS;
	ad->gpos[0].guid = "{3C4A7E6B-0000-4000-8000-000000000003}";
	ad->gpos[0].version = 0x00010002u;
	ad->gpos[0].linked = true;
	ad->gpos[0].settings_current = true;
	ad->gpos[0].filter_sids = sid_a;
	ad->gpos[0].nr_filter = 2;
	ad->gpos[1].gpo = IPAM_POL_GPO_DHCP;
	ad->gpos[1].guid = "{3C4A7E6B-0000-4000-8000-000000000001}";
	ad->gpos[1].version = 0xfffffffeu;
	ad->gpos[1].dacl_current = true;
	ad->gpos[1].filter_sids = sid_b;
	ad->gpos[1].nr_filter = 3;
	ad->nr_gpos = 2;
}

static void test_applied_round_trip(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = open_migrated(f->path);
	struct ipam_applied a = {0};
	struct ipam_applied_domain zeta, corp = {0}, again;
	const struct ipam_applied_gpo *g;
	long long run;
	char *s, *sql;

	assert_int_equal(ipam_db_applied_load(db, &a), 0);
	assert_int_equal(a.nr, 0);
	ipam_applied_release(&a);

	assert_int_equal(ipam_db_run_begin(db, "apply", &run), 0);
	applied_zeta(&zeta);
	assert_int_equal(ipam_db_applied_store(db, run, &zeta), 0);
	corp.domain = "corp.example.test";
	corp.elr = true;
	assert_int_equal(ipam_db_applied_store(db, 0, &corp), 0);

	assert_int_equal(ipam_db_applied_load(db, &a), 0);
	assert_int_equal(a.nr, 2);
	/* sorted by domain */
	assert_string_equal(a.domains[0].domain, "corp.example.test");
	assert_null(a.domains[0].config_digest);
	assert_false(a.domains[0].group);
	assert_true(a.domains[0].elr);
	assert_int_equal(a.domains[0].nr_gpos, 0);
	assert_string_equal(a.domains[1].domain, "zeta.example.test");
	assert_string_equal(a.domains[1].config_digest, "digest-1");
	assert_true(a.domains[1].group);
	assert_true(a.domains[1].group_member);
	assert_false(a.domains[1].elr);
	assert_true(a.domains[1].dns_ace);
	/* GPOs in role order, filter SIDs sorted and unique */
	assert_int_equal(a.domains[1].nr_gpos, 2);
	g = &a.domains[1].gpos[0];
	assert_int_equal(g->gpo, IPAM_POL_GPO_DHCP);
	assert_string_equal(g->guid, "{3C4A7E6B-0000-4000-8000-000000000001}");
	assert_int_equal(g->version, 0xfffffffeu);
	assert_false(g->linked);
	assert_false(g->settings_current);
	assert_true(g->dacl_current);
	assert_int_equal(g->nr_filter, 2);
	assert_string_equal(g->filter_sids[0], "S-1-5-21-7-7-7-1000");
	assert_string_equal(g->filter_sids[1], "S-1-5-21-7-7-7-2001");
	g = &a.domains[1].gpos[1];
	assert_int_equal(g->gpo, IPAM_POL_GPO_DC_NPS);
	assert_int_equal(g->version, 0x00010002u);
	assert_true(g->linked);
	assert_true(g->settings_current);
	assert_false(g->dacl_current);
	assert_int_equal(g->nr_filter, 2);
	assert_string_equal(g->filter_sids[0], "S-1-5-21-7-7-7-1104");
	assert_string_equal(g->filter_sids[1], "S-1-5-21-7-7-7-1105");
	assert_non_null(ipam_applied_find(&a, "zeta.example.test"));
	ipam_applied_release(&a);

	sql = xasprintf("SELECT domain, CASE WHEN run_id = %lld THEN 1 END, "
			"length(applied_at), role FROM applied_domains JOIN "
			"applied_gpos USING (domain) ORDER BY role",
			run);
	s = sqlite_query(f->path, sql);
	assert_string_equal(s, "zeta.example.test|1|20|dc_nps\n"
			       "zeta.example.test|1|20|dhcp");
	free(s);
	free(sql);
	s = sqlite_query(f->path,
			 "SELECT coalesce(CAST(run_id AS TEXT), 'null') FROM "
			 "applied_domains WHERE domain = "
			 "'CORP.example.test'");
	assert_string_equal(s, "null");
	free(s);

	/* storing again replaces everything of that domain (any case) */
	memset(&again, 0, sizeof(again));
	again.domain = "ZETA.example.test";
	again.config_digest = "digest-2";
	again.gpos[0].gpo = IPAM_POL_GPO_DNS;
	again.gpos[0].guid = "{3C4A7E6B-0000-4000-8000-000000000002}";
	again.gpos[0].version = 7;
	again.gpos[0].filter_sids = sid_c;
	again.gpos[0].nr_filter = 1;
	again.nr_gpos = 1;
	assert_int_equal(ipam_db_applied_store(db, run, &again), 0);
	s = sqlite_query(f->path,
			 "SELECT (SELECT count(*) FROM applied_domains), "
			 "(SELECT count(*) FROM applied_gpos), "
			 "(SELECT count(*) FROM applied_filter)");
	assert_string_equal(s, "2|1|1");
	free(s);

	/* a failure half-way leaves what was recorded as it was */
	applied_zeta(&zeta);
	zeta.gpos[1].gpo = IPAM_POL_GPO_DC_NPS; /* twice: primary key */
	assert_int_equal(ipam_db_applied_store(db, run, &zeta), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "recording what was applied "
						  "to 'zeta.example.test'"));
	zeta.gpos[1].gpo = 7;
	assert_int_equal(ipam_db_applied_store(db, run, &zeta), IPAM_EINVAL);
	zeta.gpos[1].gpo = IPAM_POL_GPO_DHCP;
	zeta.gpos[1].guid = NULL;
	assert_int_equal(ipam_db_applied_store(db, run, &zeta), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "dhcp GPO has no GUID"));

	assert_int_equal(ipam_db_applied_load(db, &a), 0);
	assert_int_equal(a.nr, 2);
	assert_string_equal(a.domains[1].domain, "ZETA.example.test");
	assert_string_equal(a.domains[1].config_digest, "digest-2");
	assert_false(a.domains[1].group);
	assert_int_equal(a.domains[1].nr_gpos, 1);
	assert_int_equal(a.domains[1].gpos[0].gpo, IPAM_POL_GPO_DNS);
	assert_int_equal(a.domains[1].gpos[0].version, 7);
	assert_int_equal(a.domains[1].gpos[0].nr_filter, 1);
	assert_string_equal(a.domains[1].gpos[0].filter_sids[0],
			    "S-1-5-21-7-7-7-3000");
	ipam_applied_release(&a);
	ipam_db_close(db);

	/* the schema itself: roles are checked, deletes cascade */
	s = sqlite_run(f->path,
		       "INSERT INTO applied_gpos(domain, role, guid, version) "
		       "VALUES ('corp.example.test', 'nps', '{x}', 1)",
		       0);
	assert_non_null(strstr(s, test_db_is_pg() ? "violates check constraint"
						  : "CHECK constraint failed"));
	free(s);
	s = sqlite_query(
		f->path,
		test_db_is_pg()
			? "DELETE FROM applied_domains;"
			  "SELECT (SELECT count(*) FROM "
			  "applied_gpos), (SELECT count(*) "
			  "FROM applied_filter)"
			: "PRAGMA foreign_keys=ON; DELETE FROM applied_domains;"
			  "SELECT (SELECT count(*) FROM applied_gpos), "
			  "(SELECT count(*) FROM applied_filter)");
	assert_string_equal(s, "0|0");
	free(s);
}

static void test_runs_and_journal(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = open_migrated(f->path);
	struct ipam_db_run *runs = NULL, r;
	struct ipam_db_action_row *acts = NULL;
	char host[256] = "";
	size_t nr = 0;
	long long r1, r2;

	gethostname(host, sizeof(host) - 1);
	assert_int_equal(ipam_db_run_begin(db, "plan", &r1), 0);
	assert_int_equal(ipam_db_run_end(db, r1, "no_changes", "{}"), 0);
	assert_int_equal(ipam_db_run_begin(db, "apply", &r2), 0);
	assert_int_equal(
		ipam_db_run_set_source(db, r2, "0123456789abcdef", "digest"),
		0);
	assert_int_equal(ipam_db_run_set_source(db, 9999, NULL, "x"),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "no run 9999"));
	assert_int_equal(
		ipam_db_run_set_author(db, r2, "Ann Example <ann@example.test>",
				       "make dhcp1 managed 'now'"),
		0);
	assert_int_equal(ipam_db_run_set_author(db, 9999, "x", "y"),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "no run 9999"));

	assert_int_equal(ipam_db_action_add(db, r2, 2, "filter_add",
					    "dhcp1.corp.example.test",
					    "corp.example.test", "IPAM_DHCP"),
			 0);
	assert_int_equal(ipam_db_action_add(db, r2, 1, "gpo_create",
					    "IPAM_DHCP", "corp.example.test",
					    NULL),
			 0);
	assert_int_equal(ipam_db_action_add(db, r2, 3, "gpo_link", "IPAM_DHCP",
					    NULL, NULL),
			 0);
	assert_int_equal(
		ipam_db_action_add(db, r2, 1, "gpo_create", "X", NULL, NULL),
		IPAM_EDB);
	assert_int_equal(ipam_db_action_set(db, r2, 1, "started", NULL), 0);
	assert_int_equal(ipam_db_action_set(db, r2, 1, "done", NULL), 0);
	assert_int_equal(ipam_db_action_set(db, r2, 2, "started", NULL), 0);
	assert_int_equal(
		ipam_db_action_set(db, r2, 2, "failed", "insufficient access"),
		0);
	assert_int_equal(ipam_db_action_set(db, r2, 3, "skipped", NULL), 0);
	assert_int_equal(ipam_db_action_set(db, r2, 3, "pending", NULL),
			 IPAM_EINVAL);
	assert_int_equal(ipam_db_action_set(db, r2, 4, "done", NULL),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "no action 4 in run"));

	assert_int_equal(ipam_db_run_actions(db, r2, &acts, &nr), 0);
	assert_int_equal(nr, 3);
	assert_int_equal(acts[0].seq, 1);
	assert_string_equal(acts[0].kind, "gpo_create");
	assert_string_equal(acts[0].target, "IPAM_DHCP");
	assert_string_equal(acts[0].domain, "corp.example.test");
	assert_null(acts[0].detail);
	assert_string_equal(acts[0].state, "done");
	assert_non_null(acts[0].started_at);
	assert_non_null(acts[0].ended_at);
	assert_null(acts[0].error);
	assert_int_equal(acts[1].seq, 2);
	assert_string_equal(acts[1].detail, "IPAM_DHCP");
	assert_string_equal(acts[1].state, "failed");
	assert_string_equal(acts[1].error, "insufficient access");
	assert_non_null(acts[1].ended_at);
	assert_int_equal(acts[2].seq, 3);
	assert_null(acts[2].domain);
	assert_string_equal(acts[2].state, "skipped");
	assert_null(acts[2].started_at);
	assert_non_null(acts[2].ended_at);
	ipam_db_actions_free(acts, nr);
	assert_int_equal(ipam_db_run_actions(db, r1, &acts, &nr), 0);
	assert_int_equal(nr, 0);
	ipam_db_actions_free(acts, nr);

	assert_int_equal(ipam_db_runs_list(db, 0, &runs, &nr), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(runs[0].id, r2); /* newest first */
	assert_string_equal(runs[0].command, "apply");
	assert_string_equal(runs[0].outcome, "running");
	assert_null(runs[0].ended_at);
	assert_string_equal(runs[0].git_commit, "0123456789abcdef");
	assert_string_equal(runs[0].config_digest, "digest");
	assert_string_equal(runs[0].git_author,
			    "Ann Example <ann@example.test>");
	assert_string_equal(runs[0].git_subject, "make dhcp1 managed 'now'");
	assert_string_equal(runs[0].host, host);
	assert_int_equal(runs[0].pid, getpid());
	assert_int_equal(runs[1].id, r1);
	assert_string_equal(runs[1].outcome, "no_changes");
	assert_string_equal(runs[1].summary, "{}");
	assert_non_null(runs[1].ended_at);
	assert_null(runs[1].git_commit);
	assert_null(runs[1].git_author);
	assert_null(runs[1].git_subject);
	ipam_db_runs_free(runs, nr);
	assert_int_equal(ipam_db_runs_list(db, 1, &runs, &nr), 0);
	assert_int_equal(nr, 1);
	assert_int_equal(runs[0].id, r2);
	ipam_db_runs_free(runs, nr);

	assert_int_equal(ipam_db_run_get(db, r1, &r), 0);
	assert_int_equal(r.id, r1);
	assert_string_equal(r.command, "plan");
	assert_non_null(r.started_at);
	assert_null(r.git_author);
	ipam_db_run_release(&r);
	assert_int_equal(ipam_db_run_get(db, r2, &r), 0);
	assert_string_equal(r.git_subject, "make dhcp1 managed 'now'");
	ipam_db_run_release(&r);
	assert_int_equal(ipam_db_run_get(db, 12345, &r), IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "no run 12345"));
	ipam_db_run_release(&r);
	ipam_db_close(db);
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The other process: opens the database, begins an "apply" run, takes the
 * lock, closes the database (the lock is a row: it outlives the
 * connection) and tells the parent the run's id.  Then it either waits
 * for the parent's word and exits still holding the lock (release_ms < 0)
 * or releases it after release_ms.  No cmocka here: it is a copy of the
 * test process.
 */
static pid_t lock_child(const char *path, int release_ms, int *ready_fd,
			int *go_fd)
{
	int ready[2], go[2];
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ipam_db *db = NULL;
		long long run = -1;
		int ok;
		char c;

		close(ready[0]);
		close(go[1]);
		ok = !ipam_db_open(&db, path, 0) &&
		     !ipam_db_run_begin(db, "apply", &run) &&
		     !ipam_db_lock(db, "apply", 0, NULL);
		if (ok && release_ms >= 0) {
			struct timespec ts = {release_ms / 1000,
					      (release_ms % 1000) * 1000000L};

			if (write(ready[1], &run, sizeof(run)) != sizeof(run))
				_exit(3);
			nanosleep(&ts, NULL);
			ok = !ipam_db_unlock(db);
			ipam_db_close(db);
			_exit(ok ? 0 : 2);
		}
		ipam_db_close(db);
		if (!ok)
			run = -1;
		if (write(ready[1], &run, sizeof(run)) != sizeof(run))
			_exit(3);
		if (read(go[0], &c, 1) < 0)
			_exit(3);
		_exit(ok ? 0 : 1);
	}
	close(ready[1]);
	close(go[0]);
	*ready_fd = ready[0];
	*go_fd = go[1];
	return pid;
}

static void reap(pid_t pid, int ready_fd, int go_fd)
{
	int status = -1;

	if (go_fd >= 0)
		assert_int_equal(write(go_fd, "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(ready_fd);
	if (go_fd >= 0)
		close(go_fd);
}

static void test_lock_two_processes(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db;
	char host[256] = "", *want, *s, *sql;
	struct strbuf took = STRBUF_INIT;
	struct timespec t0;
	long long child_run = 0, my_run;
	int ready, go;
	pid_t pid;

	SQLITE_ONLY();
	db = open_migrated(f->path);
	gethostname(host, sizeof(host) - 1);
	ipam_db_close(db); /* no connection crosses the fork */
	pid = lock_child(f->path, -1, &ready, &go);
	assert_int_equal(read(ready, &child_run, sizeof(child_run)),
			 sizeof(child_run));
	assert_true(child_run > 0);

	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	assert_int_equal(ipam_db_run_begin(db, "plan", &my_run), 0);
	/* held by a live process: refused at once with timeout 0 ... */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ipam_db_lock(db, "plan", 0, NULL), IPAM_ECONFLICT);
	assert_true(ms_since(&t0) < 1000);
	want = xasprintf("is locked by apply (pid %lld on %s) since 20",
			 (long long)pid, host);
	assert_non_null(strstr(ipam_error_last(), want));
	free(want);
	assert_non_null(strstr(ipam_error_last(), f->path));
	/* ... unlocking does not release another process's lock ... */
	assert_int_equal(ipam_db_unlock(db), 0);
	/* ... and after timeout_s of waiting */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ipam_db_lock(db, "plan", 1, NULL), IPAM_ECONFLICT);
	assert_true(ms_since(&t0) >= 1000);
	assert_non_null(strstr(ipam_error_last(), "; waited 1 s. "));
	assert_non_null(strstr(ipam_error_last(), "--lock-timeout"));
	assert_non_null(strstr(ipam_error_last(), "'ipamctl db unlock'"));
	s = sqlite_query(f->path, "SELECT group_concat(outcome) FROM runs "
				  "ORDER BY id");
	assert_string_equal(s, "running,running");
	free(s);

	/* the holder exits without unlocking: its lock is stale, taken
	 * over, and the caller told whose it was */
	reap(pid, ready, go);
	assert_int_equal(ipam_db_lock(db, "plan", 0, &took), 0);
	want = xasprintf("(pid %lld on %s) since ", (long long)pid, host);
	assert_non_null(strstr(took.buf, want));
	free(want);
	strbuf_release(&took);
	sql = xasprintf("SELECT outcome, ended_at IS NOT NULL FROM runs "
			"WHERE id = %lld",
			child_run);
	s = sqlite_query(f->path, sql);
	assert_string_equal(s, "interrupted|1");
	free(s);
	free(sql);
	sql = xasprintf("SELECT outcome FROM runs WHERE id = %lld", my_run);
	s = sqlite_query(f->path, sql);
	assert_string_equal(s, "running");
	free(s);
	free(sql);
	want = xasprintf("%s|%lld|plan", host, (long long)getpid());
	s = sqlite_query(f->path,
			 "SELECT host, pid, command FROM reconcile_lock");
	assert_string_equal(s, want);
	free(s);
	free(want);
	/* taking it again is fine; one unlock releases it */
	assert_int_equal(ipam_db_lock(db, "plan", 0, NULL), 0);
	assert_int_equal(ipam_db_unlock(db), 0);
	s = sqlite_query(f->path, "SELECT count(*) FROM reconcile_lock");
	assert_string_equal(s, "0");
	free(s);
	assert_int_equal(ipam_db_unlock(db), 0);
	ipam_db_close(db);
}

static void test_lock_waits_for_release(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db;
	long long child_run = 0;
	struct timespec t0;
	int ready, go;
	pid_t pid;
	char *s;

	SQLITE_ONLY();
	db = open_migrated(f->path);
	ipam_db_close(db);
	pid = lock_child(f->path, 400, &ready, &go);
	assert_int_equal(read(ready, &child_run, sizeof(child_run)),
			 sizeof(child_run));
	assert_true(child_run > 0);
	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ipam_db_lock(db, "apply", 30, NULL), 0);
	assert_true(ms_since(&t0) < 30000);
	close(go);
	reap(pid, ready, -1);
	s = sqlite_query(f->path, "SELECT command FROM reconcile_lock");
	assert_string_equal(s, "apply");
	free(s);
	/* released properly: the child's run was not interrupted */
	s = sqlite_query(f->path, "SELECT outcome FROM runs");
	assert_string_equal(s, "running");
	free(s);
	assert_int_equal(ipam_db_unlock(db), 0);
	ipam_db_close(db);
}

static void test_lock_other_host(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db;
	char host[256] = "", *sql, *s;
	int status = -1;
	pid_t dead = fork();

	SQLITE_ONLY();
	/* a pid that no longer runs here (forked before any connection) */
	assert_true(dead >= 0);
	if (dead == 0)
		_exit(0);
	assert_int_equal(waitpid(dead, &status, 0), dead);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	db = open_migrated(f->path);
	gethostname(host, sizeof(host) - 1);

	/* on another host it cannot be checked: it is not stale */
	sql = xasprintf("INSERT INTO reconcile_lock(id, host, pid, command, "
			"started_at) VALUES (1, "
			"'elsewhere.example.test', %lld, 'reconcile', "
			"'2026-01-01T00:00:00Z')",
			(long long)dead);
	s = sqlite_query(f->path, sql);
	free(s);
	free(sql);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), IPAM_ECONFLICT);
	sql = xasprintf("locked by reconcile (pid %lld on "
			"elsewhere.example.test) since 2026-01-01T00:00:00Z",
			(long long)dead);
	assert_non_null(strstr(ipam_error_last(), sql));
	free(sql);
	assert_int_equal(ipam_db_unlock(db), 0);
	s = sqlite_query(f->path, "SELECT count(*) FROM reconcile_lock");
	assert_string_equal(s, "1");
	free(s);

	/* the same pid on this host is gone: taken over */
	sql = xasprintf("UPDATE reconcile_lock SET host = '%s'", host);
	s = sqlite_query(f->path, sql);
	free(s);
	free(sql);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), 0);
	assert_int_equal(ipam_db_unlock(db), 0);
	ipam_db_close(db);
}

/* Field 22 of /proc/PID/stat: the process's start in ticks since boot. */
static long long start_ticks(pid_t pid)
{
	char *path = xasprintf("/proc/%ld/stat", (long)pid), *p;
	char *text = slurp(path, NULL);
	long long v = -1;
	int field = 2;

	assert_non_null(text);
	p = strrchr(text, ')');
	assert_non_null(p);
	for (; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	assert_int_equal(sscanf(p, "%lld", &v), 1);
	free(text);
	free(path);
	return v;
}

/*
 * A lock whose pid runs here again, but as a process that started at
 * another time or in another boot, is stale (the pid was reused); with
 * the holder's own start time and boot it is held.  No wall clock.
 */
static void test_lock_reused_pid(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db;
	char host[256] = "", *sql, *s, *boot;
	int pipefd[2], status;
	long long ticks;
	pid_t live;

	SQLITE_ONLY();
	db = open_migrated(f->path);
	gethostname(host, sizeof(host) - 1);
	boot = slurp("/proc/sys/kernel/random/boot_id", NULL);
	assert_non_null(boot);
	boot[strcspn(boot, "\n")] = '\0';
	/* a live process that is not us */
	assert_int_equal(pipe(pipefd), 0);
	live = fork();
	assert_true(live >= 0);
	if (live == 0) {
		char c;

		close(pipefd[1]);
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	ticks = start_ticks(live);

	/* its pid, another start time: reused, stale */
	sql = xasprintf("INSERT INTO reconcile_lock VALUES (1, '%s', %lld, "
			"'reconcile', '2026-01-01T00:00:00Z', %lld, '%s')",
			host, (long long)live, ticks + 1, boot);
	s = sqlite_query(f->path, sql);
	free(s);
	free(sql);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), 0);
	assert_int_equal(ipam_db_unlock(db), 0);
	/* its pid and start time, another boot: stale */
	sql = xasprintf("INSERT INTO reconcile_lock VALUES (1, '%s', %lld, "
			"'reconcile', '2026-01-01T00:00:00Z', %lld, "
			"'00000000-0000-4000-8000-000000000000')",
			host, (long long)live, ticks);
	s = sqlite_query(f->path, sql);
	free(s);
	free(sql);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), 0);
	assert_int_equal(ipam_db_unlock(db), 0);
	/* its pid, start time and boot: held, whatever the dates say */
	sql = xasprintf("INSERT INTO reconcile_lock VALUES (1, '%s', %lld, "
			"'reconcile', '2001-01-01T00:00:00Z', %lld, '%s')",
			host, (long long)live, ticks, boot);
	s = sqlite_query(f->path, sql);
	free(s);
	free(sql);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), IPAM_ECONFLICT);
	/* and what ipamctl records for itself is its own start and boot */
	s = sqlite_query(f->path, "DELETE FROM reconcile_lock");
	free(s);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), 0);
	sql = xasprintf("%lld|%s", start_ticks(getpid()), boot);
	s = sqlite_query(f->path, "SELECT proc_start || '|' || boot_id FROM "
				  "reconcile_lock");
	assert_string_equal(s, sql);
	free(s);
	free(sql);
	assert_int_equal(ipam_db_unlock(db), 0);
	close(pipefd[1]);
	assert_int_equal(waitpid(live, &status, 0), live);
	free(boot);
	ipam_db_close(db);
}

static void test_migrate_from_version_1(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db;
	struct ipam_desired *d;
	struct ipam_inventory inv = {0};
	struct ipam_db_count *c = NULL;
	struct ipam_applied a = {0};
	struct ipam_applied_domain ad;
	int from = -1, to = -1, v;
	size_t nr = 0, i;
	long long run;
	char *s;

	SQLITE_ONLY();
	db = open_migrated(f->path);
	d = desired("method: manual");
	/* Some data, then back to version 1: migration 2 only adds tables,
	 * so dropping them gives what migration 1 alone made. */
	store_round(db, d, "10.0.0.1", &run);
	ipam_db_close(db);
	s = sqlite_query(f->path, DROP_V6_TO_V11
			 "ALTER TABLE runs DROP COLUMN git_author;"
			 "ALTER TABLE runs DROP COLUMN git_subject;"
			 "ALTER TABLE runs DROP COLUMN git_signer;"
			 "ALTER TABLE runs DROP COLUMN git_signer_key;"
			 "DROP TABLE applied_filter;"
			 "DROP TABLE applied_gpos;"
			 "DROP TABLE applied_domains;"
			 "DROP TABLE reconcile_lock;"
			 "DELETE FROM schema_migrations WHERE "
			 "version > 1;"
			 "PRAGMA user_version = 1;");
	free(s);
	s = sqlite_query(f->path, TABLES_SQL);
	assert_string_equal(s, V1_TABLES);
	free(s);

	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	assert_int_equal(ipam_db_check_schema(db, &v, 1), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "ipamctl db migrate"));
	assert_int_equal(ipam_db_check_schema(db, &v, 0), 0);
	assert_int_equal(v, 1);
	/* "db info" still counts what version 1 has */
	assert_int_equal(ipam_db_counts(db, &c, &nr), 0);
	assert_int_equal(nr, 7);
	for (i = 0; i < nr; i++)
		assert_null(strstr(c[i].table, "applied"));
	free(c);

	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	assert_int_equal(from, 1);
	assert_int_equal(to, 12);
	assert_int_equal(ipam_db_check_schema(db, &v, 1), 0);
	s = sqlite_query(f->path, "SELECT group_concat(version) FROM "
				  "schema_migrations");
	assert_string_equal(s, "1,2,3,4,5,6,7,8,9,10,11,12");
	free(s);
	assert_int_equal(ipam_db_counts(db, &c, &nr), 0);
	assert_int_equal(nr, 24);
	assert_string_equal(c[7].table, "applied_domains");
	free(c);

	/* the data of version 1 is still there, the new functions work */
	assert_int_equal(ipam_db_inventory_load(db, &inv), 0);
	assert_int_equal(inv.nr, 1);
	assert_string_equal(inv.servers[0].name, "dc1.corp.example.test");
	ipam_inventory_release(&inv);
	assert_int_equal(ipam_db_lock(db, "apply", 0, NULL), 0);
	assert_int_equal(ipam_db_run_begin(db, "apply", &run), 0);
	assert_int_equal(ipam_db_action_add(db, run, 1, "group", "IPAMUG",
					    "corp.example.test", NULL),
			 0);
	applied_zeta(&ad);
	assert_int_equal(ipam_db_applied_store(db, run, &ad), 0);
	assert_int_equal(ipam_db_applied_load(db, &a), 0);
	assert_int_equal(a.nr, 1);
	assert_int_equal(a.domains[0].nr_gpos, 2);
	ipam_applied_release(&a);
	assert_int_equal(ipam_db_unlock(db), 0);
	ipam_db_close(db);
	ipam_desired_free(d);
}

static void test_migrate_from_version_2(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db;
	struct ipam_db_run *runs = NULL, one;
	int from = -1, to = -1, v;
	size_t nr = 0;
	long long run;
	char *s;

	SQLITE_ONLY();
	db = open_migrated(f->path);
	/* A run of version 2 (with its commit), then back to version 2:
	 * migration 3 only adds the two columns. */
	assert_int_equal(ipam_db_run_begin(db, "reconcile", &run), 0);
	assert_int_equal(ipam_db_run_set_source(db, run, "feedc0de", "dg"), 0);
	assert_int_equal(ipam_db_run_end(db, run, "succeeded", "{}"), 0);
	ipam_db_close(db);
	s = sqlite_query(f->path, DROP_V6_TO_V11
			 "ALTER TABLE runs DROP COLUMN git_author;"
			 "ALTER TABLE runs DROP COLUMN git_subject;"
			 "ALTER TABLE runs DROP COLUMN git_signer;"
			 "ALTER TABLE runs DROP COLUMN git_signer_key;"
			 "ALTER TABLE reconcile_lock DROP COLUMN "
			 "proc_start;"
			 "ALTER TABLE reconcile_lock DROP COLUMN boot_id;"
			 "DELETE FROM schema_migrations WHERE "
			 "version > 2;"
			 "PRAGMA user_version = 2;");
	free(s);
	s = sqlite_query(f->path, "SELECT count(*) FROM pragma_table_info("
				  "'runs') WHERE name LIKE 'git_%'");
	assert_string_equal(s, "1");
	free(s);

	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	assert_int_equal(ipam_db_check_schema(db, &v, 1), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "ipamctl db migrate"));
	/* history and status read a database not migrated yet */
	assert_int_equal(ipam_db_runs_list(db, 0, &runs, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(runs[0].git_commit, "feedc0de");
	assert_null(runs[0].git_author);
	assert_null(runs[0].git_subject);
	assert_null(runs[0].git_signer);
	ipam_db_runs_free(runs, nr);
	assert_int_equal(ipam_db_run_set_author(db, run, "a", "b"), IPAM_EDB);
	assert_int_equal(ipam_db_run_set_signer(db, run, "a", "b"), IPAM_EDB);

	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	assert_int_equal(from, 2);
	assert_int_equal(to, 12);
	assert_int_equal(ipam_db_check_schema(db, &v, 1), 0);
	s = sqlite_query(f->path, "SELECT group_concat(version) FROM "
				  "schema_migrations");
	assert_string_equal(s, "1,2,3,4,5,6,7,8,9,10,11,12");
	free(s);
	/* the old run is still there, without an author; new ones get it */
	assert_int_equal(ipam_db_run_set_author(db, run, "Bo <bo@example.test>",
						"fix: one \"quoted\" word"),
			 0);
	assert_int_equal(ipam_db_runs_list(db, 0, &runs, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(runs[0].git_commit, "feedc0de");
	assert_string_equal(runs[0].outcome, "succeeded");
	assert_string_equal(runs[0].git_author, "Bo <bo@example.test>");
	assert_string_equal(runs[0].git_subject, "fix: one \"quoted\" word");
	assert_null(runs[0].git_signer);
	assert_null(runs[0].git_signer_key);
	ipam_db_runs_free(runs, nr);
	/* version 5: who signed it, when source.verify checked */
	assert_int_equal(ipam_db_run_set_signer(db, run, "alice@example.test",
						"SHA256:AEF1TiOjyhmX4ofF"),
			 0);
	assert_int_equal(ipam_db_run_get(db, run, &one), 0);
	assert_string_equal(one.git_signer, "alice@example.test");
	assert_string_equal(one.git_signer_key, "SHA256:AEF1TiOjyhmX4ofF");
	ipam_db_run_release(&one);
	ipam_db_close(db);
	s = sqlite_query(f->path, "SELECT git_author || '|' || git_subject "
				  "FROM runs");
	assert_string_equal(s, "Bo <bo@example.test>|fix: one \"quoted\" "
			       "word");
	free(s);
}

/* ---- PostgreSQL: the version table, the advisory locks ---------------- */

#define PG_ONLY()                                                              \
	do {                                                                   \
		if (!test_db_is_pg())                                          \
			skip();                                                \
	} while (0)

static struct ipam_db *pg_open_init(const char *uri)
{
	struct ipam_db *db = NULL;
	int from, to;

	assert_int_equal(ipam_db_open(&db, uri, IPAM_DB_CREATE), 0);
	assert_true(ipam_db_is_postgres(db));
	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	return db;
}

static void test_pg_migrations_and_newer(void **state)
{
	struct fx *f = *state;
	struct ipam_db *db = NULL;
	int from = -1, to = -1, v;
	char *s;

	PG_ONLY();
	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	assert_int_equal(ipam_db_schema_version(db, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ipam_db_check_schema(db, &v, 0), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "not initialised"));
	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, ipam_db_latest_version());
	assert_int_equal(ipam_db_migrate(db, &from, &to), 0);
	assert_int_equal(from, to);
	ipam_db_close(db);
	/* psql's look: the versions, the types PostgreSQL was given */
	s = sqlite_query(f->path, "SELECT string_agg(version::text, ',' ORDER "
				  "BY version) FROM schema_migrations");
	{
		struct strbuf want = STRBUF_INIT;

		for (int i = 1; i <= ipam_db_latest_version(); i++)
			strbuf_addf(&want, "%s%d", i > 1 ? "," : "", i);
		assert_string_equal(s, want.buf);
		strbuf_release(&want);
	}
	free(s);
	s = sqlite_query(
		f->path,
		"SELECT data_type || ',' || coalesce(identity_generation, "
		"'-') FROM information_schema.columns WHERE "
		"table_name = 'servers' AND column_name = 'id'");
	assert_string_equal(s, "bigint,BY DEFAULT");
	free(s);
	s = sqlite_query(f->path, "SELECT data_type FROM information_schema."
				  "columns WHERE table_name = 'servers' AND "
				  "column_name = 'name'");
	assert_string_equal(s, "USER-DEFINED"); /* citext */
	free(s);
	/* a newer schema than this ipamctl knows is refused */
	free(sqlite_query(f->path, "INSERT INTO schema_migrations VALUES "
				   "(99, 'x')"));
	assert_int_equal(ipam_db_open(&db, f->path, 0), 0);
	assert_int_equal(ipam_db_check_schema(db, &v, 0), IPAM_EDB);
	assert_int_equal(v, 99);
	assert_non_null(strstr(ipam_error_last(), "newer than this ipamctl"));
	assert_int_equal(ipam_db_migrate(db, &from, &to), IPAM_EDB);
	ipam_db_close(db);
}

/* End the backend that holds the reconciler's lock in the database of
 * uri, through psql's look at it.  Advisory locks are a database's own:
 * another test's database (ctest -j) has its holder too. */
static void pg_kill_holder(const char *uri)
{
	char *admin = test_pg_var("IPAM_PG_ADMIN_URI");
	const char *name = strchr(strstr(uri, "://") + 3, '/') + 1;
	char *sql = xasprintf("SELECT count(pg_terminate_backend(l.pid)) FROM "
			      "pg_locks l JOIN pg_database d ON d.oid = "
			      "l.database WHERE l.locktype = 'advisory' AND "
			      "l.classid::bigint = 1229996366 AND "
			      "d.datname = '%.*s'",
			      (int)strcspn(name, "?"), name);
	char *s = sqlite_query(admin, sql);

	assert_string_equal(s, "1");
	free(s);
	free(sql);
	free(admin);
}

static void test_pg_lock(void **state)
{
	struct fx *f = *state;
	struct ipam_db *a, *b, *c;
	struct strbuf took = STRBUF_INIT, run = STRBUF_INIT,
		      active = STRBUF_INIT;
	char host[256];
	long long id;
	char *s, *want;

	PG_ONLY();
	a = pg_open_init(f->path);
	assert_int_equal(ipam_db_open(&b, f->path, 0), 0);
	ipam_db_set_lock_scope(a, "ipam1.corp.example.test");
	ipam_db_set_lock_scope(b, "IPAM1.corp.example.test");
	/* one run at a time, keyed by the database and ipamServer */
	assert_int_equal(ipam_db_lock(a, "apply", 0, &took), 0);
	assert_int_equal(took.len, 0);
	assert_int_equal(ipam_db_lock(a, "apply", 0, &took), 0); /* nested */
	assert_int_equal(ipam_db_run_begin(a, "apply", &id), 0);
	assert_int_equal(ipam_db_lock(b, "plan", 1, NULL), IPAM_ECONFLICT);
	gethostname(host, sizeof(host));
	want = xasprintf("apply (pid %ld on %s) since ", (long)getpid(), host);
	assert_non_null(strstr(ipam_error_last(), want));
	assert_int_equal(ipam_db_lock_holder(b, &run, &active), 0);
	assert_int_equal(strncmp(run.buf, want, strlen(want)), 0);
	assert_int_equal(active.len, 0);
	/* another ipamServer's reconciler is not in the way */
	assert_int_equal(ipam_db_open(&c, f->path, 0), 0);
	ipam_db_set_lock_scope(c, "ipam2.corp.example.test");
	assert_int_equal(ipam_db_lock(c, "plan", 0, NULL), 0);
	assert_int_equal(ipam_db_unlock(c), 0);
	ipam_db_close(c);
	/* a live holder's lock is never broken from here */
	assert_int_equal(ipam_db_lock_break(b, &run), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "live connection"));
	/* the holder's connection ends: the lock is free, its run that
	 * never ended is interrupted, and the taker is told whose it was */
	ipam_db_close(a);
	assert_int_equal(ipam_db_lock(b, "plan", 2, &took), 0);
	assert_int_equal(strncmp(took.buf, want, strlen(want)), 0);
	s = sqlite_query(f->path, "SELECT outcome FROM runs");
	assert_string_equal(s, "interrupted");
	free(s);
	assert_int_equal(ipam_db_unlock(b), 0);
	assert_int_equal(ipam_db_lock_holder(b, &run, &active), 0);
	assert_int_equal(run.len, 0);
	/* the active reconciler: held for good, the standby is told who */
	assert_int_equal(ipam_db_open(&c, f->path, 0), 0);
	ipam_db_set_lock_scope(c, "ipam1.corp.example.test");
	assert_int_equal(ipam_db_lead(b, "reconcile --every", &run), 0);
	assert_int_equal(ipam_db_lead(b, "reconcile --every", &run), 0);
	assert_int_equal(ipam_db_lead(c, "reconcile --every", &run),
			 IPAM_ECONFLICT);
	assert_non_null(strstr(run.buf, "reconcile --every (pid"));
	assert_int_equal(ipam_db_lock_holder(c, &run, &active), 0);
	assert_non_null(strstr(active.buf, "reconcile --every (pid"));
	/* the server ends the active one's connection (a killed host):
	 * the standby takes over; the old one learns it lost it */
	pg_kill_holder(f->path);
	/* the backend ends a moment after it is told to */
	for (int i = 0; i < 50 && ipam_db_lead(c, "reconcile --every", &run) ==
					  IPAM_ECONFLICT;
	     i++)
		usleep(100000);
	assert_int_equal(ipam_db_lead(c, "reconcile --every", &run), 0);
	assert_int_not_equal(ipam_db_lead_check(b), 0);
	assert_int_equal(ipam_db_lead_check(c), 0);
	ipam_db_close(b);
	ipam_db_close(c);
	free(want);
	strbuf_release(&took);
	strbuf_release(&run);
	strbuf_release(&active);
}

/*
 * A holder that has taken the lock but not yet written its row (as a
 * run does in the moment after pg_try_advisory_lock): a refusal without
 * waiting still names it once the row is there, and says "another
 * session" after a bounded wait when it never comes.
 */
static void test_pg_lock_names_a_new_holder(void **state)
{
	struct fx *f = *state;
	struct ipam_db *a, *b;
	struct timespec t0;
	long long ms;
	pid_t pid;
	int status;
	char *want;

	PG_ONLY();
	a = pg_open_init(f->path);
	assert_int_equal(ipam_db_open(&b, f->path, 0), 0);
	assert_int_equal(ipam_db_lock(a, "apply", 0, NULL), 0);
	free(sqlite_query(f->path, "CREATE TABLE saved AS SELECT * FROM "
				   "reconcile_lock; DELETE FROM "
				   "reconcile_lock"));
	/* the row comes 300 ms after the lock (psql itself: no cmocka in
	 * the child; PGPASSFILE is set by the query above) */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char *const argv[] = {
			"/usr/bin/psql",
			"-X",
			"-q",
			"-o",
			"/dev/null",
			"-v",
			"ON_ERROR_STOP=1",
			"-d",
			f->path,
			"-c",
			"SELECT pg_sleep(0.3); INSERT INTO reconcile_lock "
			"SELECT * FROM saved",
			NULL};

		execv(argv[0], argv);
		_exit(127);
	}
	assert_int_equal(ipam_db_lock(b, "plan", 0, NULL), IPAM_ECONFLICT);
	want = xasprintf("locked by apply (pid %ld on ", (long)getpid());
	assert_non_null(strstr(ipam_error_last(), want));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a row that never comes: refused after the grace, not forever */
	free(sqlite_query(f->path, "DELETE FROM reconcile_lock"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ipam_db_lock(b, "plan", 0, NULL), IPAM_ECONFLICT);
	ms = ms_since(&t0);
	assert_non_null(strstr(ipam_error_last(), "locked by another session"));
	assert_true(ms >= 1900 && ms < 10000);
	ipam_db_close(a);
	ipam_db_close(b);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_open_requires_existing_without_create, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_open_names_the_path_problem, setup, teardown),
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
		cmocka_unit_test_setup_teardown(test_pg_migrations_and_newer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_lock_names_a_new_holder,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_store_mixed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_applied_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_runs_and_journal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_two_processes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_waits_for_release,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_reused_pid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_other_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_1,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_2,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
