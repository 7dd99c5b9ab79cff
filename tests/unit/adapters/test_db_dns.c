/* The dns task's storage in a real SQLite file: records stored by
 * difference, each difference a history row (checked with the sqlite3
 * shell), zones retained only as a complete read says, the views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"
#include "db_dns.h"
#include "error.h"
#include "strbuf.h"
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
	out = sqlite_query(f->path,
			   "INSERT INTO servers (name, roles, manageability) "
			   "VALUES ('dc1.corp.example.test', 'dc,dns', "
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

static const struct ipam_db_dns_zone corp = {
	.domain = "corp.example.test",
	.name = "corp.example.test",
	.partition = "domain",
	.dn = "DC=corp.example.test,CN=MicrosoftDNS,DC=DomainDnsZones,DC=corp,"
	      "DC=example,DC=test",
	.server = "dc1.corp.example.test",
};

#define SOA(serial)                                                            \
	{                                                                      \
		"@", 6,                                                        \
			"dc1.corp.example.test. "                              \
			"hostmaster.corp.example.test. " serial                \
			" 900 600 86400 3600",                                 \
			3600, 0                                                \
	}

static void store(struct fx *f, const struct ipam_db_dns_record *r, size_t n,
		  long long run, struct ipam_db_dns_changes *c)
{
	if (ipam_db_dns_store_zone(f->db, &corp, r, n, run, c))
		fail_msg("%s", ipam_error_last());
}

static void test_diff_to_history(void **state)
{
	struct fx *f = *state;
	const struct ipam_db_dns_record v1[] = {
		SOA("1"),
		{"@", 2, "dc1.corp.example.test.", 900, 0},
		{"dc1", 1, "127.0.0.2", 900, 0},
		{"app", 1, "192.0.2.30", 900, 0},
		{"app", 1, "192.0.2.31", 900, 0},
		{"www", 5, "app.corp.example.test.", 900, 0},
		{"gone", 1, "192.0.2.9", 900, 0},
		{"dc1", 1, "127.0.0.2", 900, 0}, /* twice: counts once */
	};
	const struct ipam_db_dns_record v2[] = {
		SOA("2"),				      /* changed */
		{"@", 2, "dc1.corp.example.test.", 900, 0},   /* same */
		{"DC1", 1, "127.0.0.2", 1200, 0},	      /* TTL changed */
		{"app", 1, "192.0.2.30", 900, 0},	      /* same */
		{"app", 1, "192.0.2.32", 900, 0},	      /* .31 -> .32 */
		{"www", 5, "dc1.corp.example.test.", 900, 0}, /* changed */
		{"new", 16, "\"hello\"", 900, 3800000},	      /* added */
	};
	struct ipam_db_dns_changes c;
	long long run;
	char *out;

	store(f, v1, sizeof(v1) / sizeof(v1[0]), 0, &c);
	assert_true(c.first);
	assert_int_equal(c.added + c.removed + c.changed, 0);
	out = sqlite_query(f->path, "SELECT count(*), (SELECT record_count "
				    "FROM dns_zones) FROM dns_records");
	assert_string_equal(out, "7|7");
	free(out);

	assert_int_equal(ipam_db_run_begin(f->db, "collect dns", &run), 0);
	store(f, v2, sizeof(v2) / sizeof(v2[0]), run, &c);
	assert_false(c.first);
	assert_int_equal(c.added, 2);	/* app .32, new */
	assert_int_equal(c.removed, 2); /* app .31, gone */
	assert_int_equal(c.changed, 3); /* SOA, www, dc1's TTL */
	out = sqlite_query(
		f->path, "SELECT change, name, type, coalesce(old_data, '-'), "
			 "coalesce(new_data, '-'), coalesce(CAST(old_ttl AS "
			 "TEXT), '-'), coalesce(CAST(new_ttl AS TEXT), '-'), "
			 "CASE WHEN run_id = (SELECT max(id) FROM runs) THEN "
			 "1 ELSE 0 END FROM dns_record_history "
			 "ORDER BY change, name, type");
	assert_string_equal(
		out, "added|app|1|-|192.0.2.32|-|900|1\n"
		     "added|new|16|-|\"hello\"|-|900|1\n"
		     "changed|@|6|dc1.corp.example.test. "
		     "hostmaster.corp.example.test. 1 900 600 86400 3600|"
		     "dc1.corp.example.test. hostmaster.corp.example.test. 2 "
		     "900 600 86400 3600|3600|3600|1\n"
		     "changed|DC1|1|127.0.0.2|127.0.0.2|900|1200|1\n"
		     "changed|www|5|app.corp.example.test.|"
		     "dc1.corp.example.test.|900|900|1\n"
		     "removed|app|1|192.0.2.31|-|900|-|1\n"
		     "removed|gone|1|192.0.2.9|-|900|-|1");
	free(out);
	out = sqlite_query(f->path, "SELECT name, type, data, ttl, aging FROM "
				    "dns_records ORDER BY name, type, data");
	assert_string_equal(out, "@|2|dc1.corp.example.test.|900|0\n"
				 "@|6|dc1.corp.example.test. "
				 "hostmaster.corp.example.test. 2 900 600 "
				 "86400 3600|3600|0\n"
				 "app|1|192.0.2.30|900|0\n"
				 "app|1|192.0.2.32|900|0\n"
				 "dc1|1|127.0.0.2|1200|0\n"
				 "new|16|\"hello\"|900|3800000\n"
				 "www|5|dc1.corp.example.test.|900|0");
	free(out);

	/* the same again: no difference, no history */
	store(f, v2, sizeof(v2) / sizeof(v2[0]), run, &c);
	assert_int_equal(c.added + c.removed + c.changed, 0);
	out = sqlite_query(f->path, "SELECT count(*) FROM dns_record_history");
	assert_string_equal(out, "7");
	free(out);
}

/* A store that fails leaves the zone as it was. */
static void test_unknown_server(void **state)
{
	struct fx *f = *state;
	struct ipam_db_dns_zone z = corp;
	const struct ipam_db_dns_record r[] = {SOA("1")};
	struct ipam_db_dns_changes c;
	char *out;

	z.server = "nobody.corp.example.test";
	assert_int_equal(ipam_db_dns_store_zone(f->db, &z, r, 1, 0, &c),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "nobody"));
	out = sqlite_query(f->path, "SELECT count(*) FROM dns_zones");
	assert_string_equal(out, "0");
	free(out);
}

static int count_record(void *ctx, const struct ipam_db_dns_record_row *r)
{
	struct strbuf *sb = ctx;

	strbuf_addf(sb, "%s %u %s;", r->name, r->type, r->data);
	return 0;
}

static int count_history(void *ctx, const struct ipam_db_dns_history_row *h)
{
	struct strbuf *sb = ctx;

	strbuf_addf(sb, "%s %s;", h->change, h->name);
	return 0;
}

static void test_views_and_retain(void **state)
{
	struct fx *f = *state;
	struct ipam_db_dns_zone rev = corp;
	const struct ipam_db_dns_record r[] = {
		SOA("1"),
		{"@", 2, "dc1.corp.example.test.", 900, 0},
		{"@", 2, "dns1.corp.example.test.", 900, 0},
		{"dc1", 1, "127.0.0.2", 900, 0},
	};
	const struct ipam_db_dns_record r2[] = {SOA("2"), r[1]};
	const struct ipam_db_dns_record p[] = {
		{"10", 12, "dhcp1.corp.example.test.", 900, 0}};
	struct ipam_db_dns_zone_row *z;
	struct ipam_db_dns_changes c;
	struct strbuf sb = STRBUF_INIT;
	const char *keep[] = {"CORP.example.test"};
	long long removed = -1;
	size_t nr;
	char *out;

	rev.name = "100.51.198.in-addr.arpa";
	rev.reverse = true;
	store(f, r, 4, 0, &c);
	assert_int_equal(ipam_db_dns_store_zone(f->db, &rev, p, 1, 0, &c), 0);
	out = sqlite_query(f->path,
			   "INSERT INTO zone_status (zone_id, checked_at, "
			   "status, reason) SELECT id, '2026-12-07T10:00:00Z', "
			   "'Critical', 'dns1 does not answer' FROM dns_zones "
			   "WHERE name = 'corp.example.test'");
	free(out);
	assert_int_equal(ipam_db_dns_zones(f->db, NULL, &z, &nr), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(z[0].name, "100.51.198.in-addr.arpa");
	assert_true(z[0].reverse);
	assert_null(z[0].status);
	assert_int_equal(z[0].records, 1);
	assert_string_equal(z[1].name, "corp.example.test");
	assert_int_equal(z[1].nr_ns, 2);
	assert_string_equal(z[1].ns[1], "dns1.corp.example.test.");
	assert_string_equal(z[1].status, "Critical");
	assert_string_equal(z[1].reason, "dns1 does not answer");
	assert_string_equal(z[1].server, "dc1.corp.example.test");
	ipam_db_dns_zones_free(z, nr);
	assert_int_equal(
		ipam_db_dns_zones(f->db, "branch.example.test", &z, &nr), 0);
	assert_int_equal(nr, 0);
	ipam_db_dns_zones_free(z, nr);

	/* records: by zone, name (relative or absolute) and type */
	assert_int_equal(ipam_db_dns_records(f->db, "Corp.Example.Test",
					     "corp.example.test.", 2,
					     count_record, &sb),
			 0);
	assert_string_equal(sb.buf, "@ 2 dc1.corp.example.test.;"
				    "@ 2 dns1.corp.example.test.;");
	strbuf_reset(&sb);
	assert_int_equal(ipam_db_dns_records(f->db, "corp.example.test",
					     "DC1.corp.example.test", 0,
					     count_record, &sb),
			 0);
	assert_string_equal(sb.buf, "dc1 1 127.0.0.2;");
	strbuf_reset(&sb);
	assert_int_equal(ipam_db_dns_records(f->db, "nope.test", NULL, 0,
					     count_record, &sb),
			 IPAM_ENOTFOUND);

	/* history: newest first, limited */
	store(f, r2, 2, 0, &c);
	assert_int_equal(ipam_db_dns_history(f->db, "corp.example.test", 2,
					     count_history, &sb),
			 0);
	assert_string_equal(sb.buf, "removed dc1;removed @;");
	strbuf_reset(&sb);

	/* a complete read of the partition without the reverse zone */
	assert_int_equal(ipam_db_dns_retain_zones(f->db, "corp.example.test",
						  "domain", keep, 1, &removed),
			 0);
	assert_int_equal(removed, 1);
	out = sqlite_query(f->path, "SELECT group_concat(name) FROM "
				    "dns_zones; SELECT count(*) FROM "
				    "dns_records WHERE type = 12");
	assert_string_equal(out, "corp.example.test\n0");
	free(out);
	strbuf_release(&sb);
}

/* ipamctl dns zones|records|history -o json on what was stored: each
 * validates against schemas/dns.schema.json (python3-jsonschema), and the
 * text views say the same. */
static void schema_ok(struct fx *f, const char *json)
{
	(void)f;
	schema_check("dns.schema.json", json);
}

static char *ipamctl(struct fx *f, int want, const char *a, const char *b,
		     const char *c, const char *d)
{
	char *db = xasprintf("sqlite:%s", f->path);
	char *argv[] = {(char *)ipamctl_path(),
			"--db",
			db,
			"dns",
			(char *)a,
			(char *)b,
			(char *)c,
			(char *)d,
			NULL};
	struct run_result rr;
	char *out;

	assert_int_equal(run_cmd(&rr, NULL, NULL, argv), 0);
	if (rr.status != want)
		fail_msg("ipamctl dns %s %s: exit %d\n%s%s", a, b ? b : "",
			 rr.status, rr.out, rr.err);
	out = want ? xasprintf("%s", rr.err) : xasprintf("%s", rr.out);
	run_result_free(&rr);
	free(db);
	return out;
}

static void test_cli_views(void **state)
{
	struct fx *f = *state;
	const struct ipam_db_dns_record r[] = {
		SOA("1"),
		{"@", 2, "dc1.corp.example.test.", 900, 0},
		{"txt", 16, "\"a\\\"b\" \"c\"", 600, 0},
		{"x", 99, "\\# 2 0A0B", 900, 3800000},
	};
	const struct ipam_db_dns_record r2[] = {SOA("2"), r[1], r[2]};
	struct ipam_db_dns_changes c;
	char *out;

	store(f, r, 4, 0, &c);
	store(f, r2, 3, 0, &c);
	out = ipamctl(f, 0, "zones", "-o", "json", NULL);
	schema_ok(f, out);
	assert_non_null(strstr(out, "\"status\": \"Not checked\""));
	assert_non_null(strstr(out, "\"servers\": [\n        "
				    "\"dc1.corp.example.test\""));
	free(out);
	out = ipamctl(f, 0, "records", "--zone=corp.example.test", "-o",
		      "json");
	schema_ok(f, out);
	free(out);
	out = ipamctl(f, 0, "history", "--zone=corp.example.test", "-o",
		      "json");
	schema_ok(f, out);
	assert_non_null(strstr(out, "\"type\": \"TYPE99\""));
	free(out);
	out = ipamctl(f, 0, "records", "--zone=corp.example.test", "--type=txt",
		      NULL);
	assert_string_equal(out, "NAME                             TYPE       "
				 "TTL  DATA\n"
				 "txt                              TXT        "
				 "600  \"a\\\"b\" \"c\"\n");
	free(out);
	out = ipamctl(f, 1, "records", "--zone=nope.test", NULL, NULL);
	assert_non_null(strstr(out, "zone 'nope.test' has not been "
				    "collected"));
	free(out);
	out = ipamctl(f, 1, "records", NULL, NULL, NULL);
	assert_non_null(strstr(out, "needs --zone"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_diff_to_history, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_server, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_views_and_retain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cli_views, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
