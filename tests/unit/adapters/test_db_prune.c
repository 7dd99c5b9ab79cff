/* Retention of collected history and the purge of an unmanaged server's
 * collected data, on a real state database (SQLite's file, or a
 * PostgreSQL database in the _pg variant) checked with the sqlite3 shell
 * or psql. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "db_prune.h"
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

	f->dir = tmpdir_make();
	f->path = test_db_new(f->dir);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
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

static void sql(struct fx *f, const char *text)
{
	free(sqlite_query(f->path, text));
}

/* A newline in SQL: SQLite's char(10), PostgreSQL's chr(10). */
static const char *nl(void)
{
	return test_db_is_pg() ? "chr(10)" : "char(10)";
}

static long long count(struct fx *f, const char *text)
{
	char *s = sqlite_query(f->path, text);
	long long n = atoll(s);

	free(s);
	return n;
}

/* 2026-12-07T00:00:00Z */
#define NOW 1796601600LL
#define DAY 86400LL

/* n audit events of server 1 at at, at + 1, ..., one batch of their own
 * (as the audit task stores them: db_events.c). */
static void events(struct fx *f, long long n, long long at)
{
	char *q = xasprintf(
		"INSERT INTO dhcp_event_batches (server_id, file, generation, "
		"seg, first_id, last_id, at_min, at_max) SELECT 1, "
		"'DhcpSrvLog-Mon.log', 1, 0, coalesce(max(last_id), 0) + 1, "
		"coalesce(max(last_id), 0) + %lld, %lld, %lld FROM "
		"dhcp_event_blocks;"
		/* blocks of 100 events, records as db_events_internal.h has
		 * them: id offset, at, local - at, family, event id, line,
		 * description, ip, host, client id, extra */
		"WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM "
		"k WHERE i + 1 < %lld), b AS (SELECT id, first_id FROM "
		"dhcp_event_batches ORDER BY id DESC LIMIT 1) "
		"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "
		"at_max, events) SELECT b.first_id + min(i), b.id, b.first_id "
		"+ max(i), count(*), %lld + min(i), %lld + max(i), "
		"group_concat((i %% 100) || ',' || (%lld + i) || ',0,4,10,' || "
		"i || ',,10.0.0.' || (i %% 250) || ',,,' || %s, '') "
		"FROM k, b GROUP BY i / 100, b.id, b.first_id",
		n, at, at + n - 1, n, at, at, at, nl());

	sql(f, q);
	free(q);
}

static void test_prune_both_sides_of_the_cutoff(void **state)
{
	struct fx *f = *state;
	struct ipam_db_prune_counts c;
	long long cut = NOW - 30 * DAY;

	sql(f, "INSERT INTO servers (id, name, roles, manageability) VALUES "
	       "(1, 'dhcp1.corp.example.test', 'dhcp,dns', 'managed');"
	       "INSERT INTO dns_zones (id, server_id, domain, name, "
	       "partition, dn, collected_at) VALUES (1, 1, "
	       "'corp.example.test', 'corp.example.test', 'domain', "
	       "'DC=corp.example.test,CN=MicrosoftDNS', "
	       "'2026-12-01T00:00:00Z')");
	/* 12,001 old events (three batches), the one exactly at the
	 * cut-off and 4 newer stay */
	events(f, 12001, cut - 20000);
	events(f, 5, cut);
	sql(f, "INSERT INTO dns_record_history (zone_id, at, change, name, "
	       "type) VALUES (1, '2026-11-07T00:00:00Z', 'added', 'a', 1),"
	       "(1, '2026-11-06T23:59:59Z', 'removed', 'b', 1),"
	       "(1, '2025-01-01T00:00:00Z', 'added', 'c', 1),"
	       "(1, '2026-12-06T10:00:00Z', 'changed', 'd', 1);"
	       "INSERT INTO availability_history (server_id, service, at, "
	       "state) VALUES (1, 'dhcp', '2026-10-01T00:00:00Z', 'down'),"
	       "(1, 'dhcp', '2026-11-07T00:00:01Z', 'up'),"
	       "(1, 'dns', '2026-11-06T12:00:00Z', 'up');"
	       "INSERT INTO availability (server_id, service, state, since, "
	       "checked_at) VALUES (1, 'dhcp', 'up', '2020-01-01T00:00:00Z', "
	       "'2020-01-01T00:00:00Z')");
	assert_int_equal(ipam_db_prune_history(f->db, 30, NOW, &c), 0);
	assert_int_equal(c.dhcp_events, 12001);
	assert_int_equal(c.dns_record_history, 2);
	assert_int_equal(c.availability_history, 2);
	/* 5000 + 5000 + 2001 (short: done), then one each for the others */
	assert_int_equal(c.batches, 5);
	assert_int_equal(count(f, "SELECT sum(n) FROM dhcp_event_blocks"), 5);
	assert_int_equal(count(f, "SELECT min(at_min) FROM dhcp_event_blocks"),
			 cut);
	{
		char *s = sqlite_query(f->path,
				       "SELECT group_concat(name) FROM (SELECT "
				       "name FROM dns_record_history ORDER BY "
				       "name) h");

		assert_string_equal(s, "a,d");
		free(s);
		s = sqlite_query(f->path, "SELECT group_concat(at) FROM "
					  "availability_history");
		assert_string_equal(s, "2026-11-07T00:00:01Z");
		free(s);
	}
	/* what is current is never pruned */
	assert_int_equal(count(f, "SELECT count(*) FROM availability"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM dns_zones"), 1);
	/* again: nothing more to do, one batch per table */
	assert_int_equal(ipam_db_prune_history(f->db, 30, NOW, &c), 0);
	assert_int_equal(c.dhcp_events + c.dns_record_history +
				 c.availability_history,
			 0);
	assert_int_equal(c.batches, 3);
	/* the longest retention keeps all */
	assert_int_equal(ipam_db_prune_history(f->db, 36500, NOW, &c), 0);
	assert_int_equal(c.dhcp_events, 0);
	assert_int_equal(ipam_db_prune_history(f->db, 0, NOW, &c), IPAM_EINVAL);
}

/* The delete goes through the index on at (the audit events: their
 * batches' at_min), not a scan of the table.  On PostgreSQL, whose
 * planner scans tables this small whatever their indexes, with sequential
 * scans priced out: the index is there and serves the condition. */
static void test_prune_uses_the_index(void **state)
{
	struct fx *f = *state;
	static const char *const plans[] = {
		"SELECT id FROM dhcp_event_batches WHERE at_min < 5 LIMIT 5000",
		"SELECT id FROM dns_record_history WHERE at < 'x' LIMIT 5000",
		"SELECT id FROM availability_history WHERE at < 'x' LIMIT 5000",
	};
	int pg = test_db_is_pg();

	for (size_t i = 0; i < sizeof(plans) / sizeof(*plans); i++) {
		char *q = xasprintf("%s%s",
				    pg ? "SET enable_seqscan = off; EXPLAIN "
				       : "EXPLAIN QUERY PLAN ",
				    plans[i]);
		char *s = sqlite_query(f->path, q);

		if (!strstr(s, pg ? "Index Scan" : "USING") ||
		    !strstr(s, pg ? "Index Cond" : "INDEX") ||
		    !strstr(s, "_by_at"))
			fail_msg("%s: %s", q, s);
		free(s);
		free(q);
	}
}

/* One discovery round of corp.example.test with dhcp1 and dhcp2, as d
 * says their manageability. */
static void store_round(struct ipam_db *db, const char *servers)
{
	char *text =
		xasprintf("version: 1\nipamServer: ipam1.corp.example.test\n"
			  "provisioning: {method: manual}\n"
			  "discovery: [{domain: corp.example.test}]\n"
			  "servers:\n%s",
			  servers);
	struct ipam_desired *d = desired_from_text(text);
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan plan;
	struct ipam_obs_domain *od;
	long long run;

	assert_non_null(d);
	obs.domains = xcalloc(1, sizeof(*obs.domains));
	obs.nr_domains = 1;
	od = &obs.domains[0];
	od->name = xstrdup("corp.example.test");
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_COMPLETE, NULL);
	for (int i = 1; i <= 2; i++) {
		char *name = xasprintf("dhcp%d.corp.example.test", i);
		struct ipam_obs_server *s = ipam_obs_get(od, name);

		s->roles = IPAM_ROLE_DHCP | IPAM_ROLE_DNS;
		s->addrs = xcalloc(1, sizeof(*s->addrs));
		s->addrs[0].family = AF_INET;
		snprintf(s->addrs[0].text, sizeof(s->addrs[0].text),
			 "10.0.0.%d", i);
		s->nr_addrs = 1;
		free(name);
	}
	assert_int_equal(ipam_db_run_begin(db, "discover", &run), 0);
	assert_int_equal(ipam_db_inventory_load(db, &prev), 0);
	ipam_inventory_plan(&plan, &prev, &obs, d);
	assert_int_equal(ipam_db_inventory_store(db, run, d, &obs, &plan), 0);
	assert_int_equal(ipam_db_run_end(db, run, "succeeded", "{}"), 0);
	ipam_inv_plan_release(&plan);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(od);
	free(obs.domains);
	ipam_desired_free(d);
	free(text);
}

/* Collected rows of each kind for server name. */
static void collected(struct fx *f, const char *name, int zone)
{
	char *q = xasprintf(
		"INSERT INTO dhcp_event_batches (server_id, file, generation, "
		"seg, first_id, last_id, at_min, at_max) SELECT id, 'f', 1, 0, "
		"(SELECT coalesce(max(last_id), 0) + 1 FROM "
		"dhcp_event_blocks), "
		"(SELECT coalesce(max(last_id), 0) + 1 FROM "
		"dhcp_event_blocks), "
		"1, 1 FROM servers WHERE name = '%s';"
		"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "
		"at_max, events) SELECT first_id, id, first_id, 1, 1, 1, "
		"'0,1,0,4,10,1,,,,,' || %s FROM dhcp_event_batches "
		"ORDER BY id DESC LIMIT 1;"
		"INSERT INTO dhcp_audit_files (server_id, name, \"offset\", "
		"line, head_len, head_sha256, read_at) SELECT id, "
		"'DhcpSrvLog-Mon.log', 10, 1, 4, 'h', 'x' FROM servers WHERE "
		"name = '%s';"
		"INSERT INTO dns_zones (id, server_id, domain, name, "
		"partition, "
		"dn, collected_at) SELECT %d, id, 'corp.example.test', "
		"'z%d.corp.example.test', 'domain', 'dn', 'x' FROM servers "
		"WHERE name = '%s';"
		"INSERT INTO dns_records (zone_id, name, type, data, ttl) "
		"VALUES (%d, '@', 1, '10.0.0.9', 3600);"
		"INSERT INTO dns_record_history (zone_id, at, change, name, "
		"type) VALUES (%d, 'x', 'added', '@', 1);"
		"INSERT INTO zone_status (zone_id, checked_at, status) VALUES "
		"(%d, 'x', 'OK');"
		"INSERT INTO availability (server_id, service, state, since, "
		"checked_at) SELECT id, 'dhcp', 'up', 'x', 'x' FROM servers "
		"WHERE name = '%s';"
		"INSERT INTO availability_history (server_id, service, at, "
		"state) SELECT id, 'dhcp', 'x', 'up' FROM servers WHERE name = "
		"'%s';"
		"INSERT INTO collect_server_status (task, server_id, at, ok) "
		"SELECT 'audit', id, 'x', 1 FROM servers WHERE name = '%s'",
		name, nl(), name, zone, zone, name, zone, zone, zone, name,
		name, name);

	sql(f, q);
	free(q);
}

/* Rows of every collected table that belong to server name. */
static char *rows_of(struct fx *f, const char *name)
{
	char *q = xasprintf(
		"SELECT (SELECT coalesce(sum(e.n), 0) FROM dhcp_event_blocks e "
		"JOIN dhcp_event_batches b ON e.batch = b.id WHERE b.server_id "
		"= s.id) || ',' || (SELECT count(*) FROM dhcp_audit_files a "
		"WHERE a.server_id = s.id) || ',' || (SELECT count(*) FROM "
		"dns_zones z WHERE z.server_id = s.id) || ',' || (SELECT "
		"count(*) FROM dns_records r JOIN dns_zones z ON r.zone_id = "
		"z.id WHERE z.server_id = s.id) || ',' || (SELECT count(*) "
		"FROM availability v WHERE v.server_id = s.id) || ',' || "
		"(SELECT count(*) FROM availability_history h WHERE "
		"h.server_id = s.id) || ',' || (SELECT count(*) FROM "
		"collect_server_status c WHERE c.server_id = s.id) FROM "
		"servers s WHERE s.name = '%s'",
		name);
	char *s = sqlite_query(f->path, q);

	free(q);
	return s;
}

static void test_unmanaged_purges_unspecified_keeps(void **state)
{
	struct fx *f = *state;
	char *s;

	store_round(f->db, "  - {name: dhcp1.corp.example.test, "
			   "manageability: managed}\n"
			   "  - {name: dhcp2.corp.example.test, "
			   "manageability: managed}\n");
	collected(f, "dhcp1.corp.example.test", 1);
	collected(f, "dhcp2.corp.example.test", 2);
	/* addresses: .50 a lease of dhcp1 alone, .51 also a record of
	 * dhcp2's zone, .52 dhcp1's own (inventory) */
	sql(f, "INSERT INTO addresses (address, family, state, first_seen, "
	       "last_seen, updated_at) VALUES ('10.0.0.50', 4, 'in_use', 1, "
	       "1, 'x'), ('10.0.0.51', 4, 'in_use', 1, 1, 'x'), "
	       "('10.0.0.52', 4, 'in_use', 1, 1, 'x');"
	       "INSERT INTO address_sources (address, source, server_id) "
	       "SELECT '10.0.0.50', 'dhcp', id FROM servers WHERE name = "
	       "'dhcp1.corp.example.test' UNION ALL SELECT '10.0.0.51', "
	       "'dhcp', id FROM servers WHERE name = "
	       "'dhcp1.corp.example.test' UNION ALL SELECT '10.0.0.51', "
	       "'dns', id FROM servers WHERE name = "
	       "'dhcp2.corp.example.test' UNION ALL SELECT '10.0.0.52', "
	       "'inventory', id FROM servers WHERE name = "
	       "'dhcp1.corp.example.test'");
	s = rows_of(f, "dhcp1.corp.example.test");
	assert_string_equal(s, "1,1,1,1,1,1,1");
	free(s);
	store_round(f->db, "  - {name: dhcp1.corp.example.test, "
			   "manageability: unmanaged}\n"
			   "  - {name: dhcp2.corp.example.test, "
			   "manageability: unspecified}\n");
	s = rows_of(f, "dhcp1.corp.example.test");
	assert_string_equal(s, "0,0,0,0,0,0,0");
	free(s);
	/* the zone's records, history and status went with it */
	assert_int_equal(count(f, "SELECT count(*) FROM dns_records WHERE "
				  "zone_id = 1"),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM dns_record_history "
				  "WHERE zone_id = 1"),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM zone_status WHERE "
				  "zone_id = 1"),
			 0);
	/* what only dhcp1's data showed went; the rest stays */
	s = sqlite_query(f->path, "SELECT group_concat(address || ':' || "
				  "(SELECT group_concat(source) FROM "
				  "address_sources s WHERE s.address = "
				  "a.address), ' ') FROM (SELECT * FROM "
				  "addresses ORDER BY address) a");
	assert_string_equal(s, "10.0.0.51:dns 10.0.0.52:inventory");
	free(s);
	s = rows_of(f, "dhcp2.corp.example.test");
	assert_string_equal(s, "1,1,1,1,1,1,1");
	free(s);
	assert_int_equal(count(f, "SELECT count(*) FROM dns_record_history "
				  "WHERE zone_id = 2"),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM zone_status WHERE "
				  "zone_id = 2"),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_prune_both_sides_of_the_cutoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_uses_the_index,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unmanaged_purges_unspecified_keeps, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
