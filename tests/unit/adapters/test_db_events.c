/* The audit events in a real SQLite state database: batches committed
 * with their file position or rolled back, in blocks (migration 10), the
 * tracking search by each key, and its plan, checked with the sqlite3
 * shell as well as through the adapter. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "db.h"
#include "db_events.h"
#include "db_events_internal.h"
#include "db_internal.h"
#include "error.h"
#include "leases.h"
#include "testutil.h"

struct fx {
	char *dir;
	char *path;
	struct ipam_db *db;
};

/* A test of SQLite's own (its file, its query plans, its older schema,
 * the text of its rows). */
#define SQLITE_ONLY()                                                          \
	do {                                                                   \
		if (test_db_is_pg())                                           \
			skip();                                                \
	} while (0)

/* A database of the backend under test (a PostgreSQL database of its
 * own in the _pg variant), or SQLite's file when sqlite. */
static int setup_db(void **state, bool sqlite)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *out;

	f->dir = tmpdir_make();
	f->path =
		sqlite ? xasprintf("%s/state.db", f->dir) : test_db_new(f->dir);
	assert_int_equal(ipam_db_open(&f->db, f->path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(f->db, NULL, NULL), 0);
	out = sqlite_query(f->path,
			   "INSERT INTO servers (name, roles, manageability) "
			   "VALUES ('dhcp1.corp.example.test', 'dhcp', "
			   "'managed'), ('dhcp2.corp.example.test', 'dhcp', "
			   "'managed')");
	free(out);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_db(state, true);
}

static int setup_any(void **state)
{
	return setup_db(state, false);
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

static struct ipam_dhcplog_event event(int id, const char *ip, const char *host,
				       const char *mac, size_t line)
{
	struct ipam_dhcplog_event e = {
		.family = strchr(ip, ':') ? 6 : 4,
		.event_id = id,
		.description = id == 10 ? "Assign" : "Renew",
		.ip = ip,
		.host = host,
		.client_id = mac,
		.line = line,
	};
	const char **s[] = {
		&e.user_name,	     &e.transaction_id,	    &e.qresult,
		&e.probation_time,   &e.correlation_id,	    &e.dhcid,
		&e.vendor_class_hex, &e.vendor_class_ascii, &e.user_class_hex,
		&e.user_class_ascii, &e.relay_agent,	    &e.dns_reg_error,
		&e.error_code,	     &e.subnet_prefix,
	};

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		*s[i] = "";
	e.transaction_id = "2316574531";
	e.vendor_class_ascii = "MSFT 5.0";
	return e;
}

static void add(struct ipam_db_events_batch *b,
		const struct ipam_dhcplog_event *e, long long at)
{
	char local[32];
	struct ipam_db_event_in in = {.e = e, .at = at, .local_time = local};
	time_t t = (time_t)(at + 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(local, sizeof(local), "%Y-%m-%dT%H:%M:%S", &tm);
	assert_int_equal(ipam_db_events_add(b, &in), 0);
}

/* Three events of dhcp1 in one batch, one of dhcp2 in another. */
static void fill(struct fx *f)
{
	struct ipam_db_events_batch *b;
	struct ipam_dhcplog_event e;
	struct ipam_db_audit_cursor c = {
		.offset = 1234,
		.line = 37,
		.head_len = 512,
		.generation = 1,
		.columns = "ID,Date,Time",
		.size = 1300,
	};
	long long run;

	snprintf(c.head_sha256, sizeof(c.head_sha256), "%064d", 7);
	assert_int_equal(ipam_db_run_begin(f->db, "collect", &run), 0);
	assert_int_equal(ipam_db_events_begin(f->db, &b,
					      "dhcp1.corp.example.test", run,
					      "DhcpSrvLog-Mon.log", 1),
			 0);
	e = event(10, "198.51.100.101", "WS101.corp.example.test.",
		  "00155D0A0101", 35);
	add(b, &e, 1000);
	e = event(11, "198.51.100.101", "ws101.corp.example.test",
		  "00-15-5d-0a-01-01", 36);
	add(b, &e, 2000);
	e = event(10, "2001:0db8:0:0::0001", "ws6.corp.example.test",
		  "00:01:00:01:25:d1:f2:a3", 37);
	add(b, &e, 3000);
	assert_int_equal(ipam_db_events_commit(b, &c), 0);
	assert_int_equal(ipam_db_events_begin(f->db, &b,
					      "dhcp2.corp.example.test", 0,
					      "DhcpSrvLog-Mon.log", 1),
			 0);
	e = event(10, "198.51.100.101", "lap201", "A4BB6D112233", 5);
	add(b, &e, 2500);
	c.line = 5;
	assert_int_equal(ipam_db_events_commit(b, &c), 0);
}

/* The blocks fill() stores (id, batch, last id, events, times, then the
 * records of db_events_internal.h, '/' for '\n'), but for the last
 * event's extra. */
#define BLOCKS_OF_FILL                                                         \
	"1|1|3|3|1000|3000|"                                                   \
	"0,1000,3600,4,10,35,Assign,198.51.100.101,"                           \
	"WS101.corp.example.test.,00155d0a0101,"                               \
	"b10:2316574531h8:MSFT 5.0/"                                           \
	"1,2000,3600,4,11,36,Renew,198.51.100.101,"                            \
	"ws101.corp.example.test,00155d0a0101,"                                \
	"b10:2316574531h8:MSFT 5.0/"                                           \
	"2,3000,3600,6,10,37,Assign,2001:db8::1,"                              \
	"ws6.corp.example.test,0001000125d1f2a3,"                              \
	"b10:2316574531h8:MSFT 5.0/\n"                                         \
	"4|2|4|1|2500|2500|"                                                   \
	"0,2500,3600,4,10,5,Assign,198.51.100.101,lap201,"

static void test_batch_and_cursor(void **state)
{
	struct fx *f = *state;
	struct ipam_db_audit_cursor c;
	char *out;

	SQLITE_ONLY();
	fill(f);
	/* every block is packed (migration 12), its events column empty */
	out = sqlite_query(f->path, "SELECT count(*) > 0, "
				    "sum(packed IS NULL), sum(events <> '') "
				    "FROM dhcp_event_blocks");
	assert_string_equal(out, "1|0|0");
	free(out);
	/* one block per batch: id, batch, last id, events, times, then
	 * one record per event (db_events_internal.h), '/' for '\n' here;
	 * the zstd tool unpacks them */
	test_db_unpack_blocks(f->path);
	out = sqlite_query(f->path,
			   "SELECT id, batch, last_id, n, at_min, at_max, "
			   "replace(events, char(10), '/') FROM "
			   "dhcp_event_blocks ORDER BY id");
	assert_string_equal(out, BLOCKS_OF_FILL
			    "a4bb6d112233,b10:2316574531h8:MSFT 5.0/");
	free(out);
	out = sqlite_query(f->path,
			   "SELECT b.id, s.name, b.run_id IS NULL, b.file, "
			   "b.generation, b.first_id, b.last_id, b.at_min, "
			   "b.at_max FROM dhcp_event_batches b JOIN servers s "
			   "ON s.id = b.server_id ORDER BY b.id");
	assert_string_equal(out, "1|dhcp1.corp.example.test|0|"
				 "DhcpSrvLog-Mon.log|1|1|3|1000|3000\n"
				 "2|dhcp2.corp.example.test|1|"
				 "DhcpSrvLog-Mon.log|1|4|4|2500|2500");
	free(out);
	/* batch 1: two addresses, two client ids, two host names (one in
	 * two spellings); ids 1 and 2 are 01 01 (deltas), 3 is 03 */
	out = sqlite_query(f->path,
			   "SELECT batch, count(*), group_concat(hex(ids)) "
			   "FROM (SELECT * FROM dhcp_event_postings "
			   "ORDER BY batch, hex(ids)) GROUP BY batch");
	assert_string_equal(out, "1|6|0101,0101,0101,03,03,03\n"
				 "2|3|04,04,04");
	free(out);
	assert_int_equal(ipam_db_audit_cursor_get(f->db,
						  "dhcp1.corp.example.test",
						  "DhcpSrvLog-Mon.log", &c),
			 0);
	assert_int_equal(c.offset, 1234);
	assert_int_equal(c.line, 37);
	assert_int_equal(c.head_len, 512);
	assert_int_equal(c.generation, 1);
	assert_int_equal(c.size, 1300);
	assert_string_equal(c.columns, "ID,Date,Time");
	assert_int_equal(strlen(c.head_sha256), 64);
	ipam_db_audit_cursor_release(&c);
	assert_int_equal(ipam_db_audit_cursor_get(f->db,
						  "dhcp1.corp.example.test",
						  "DhcpSrvLog-Tue.log", &c),
			 IPAM_ENOTFOUND);
	assert_null(c.columns);
}

static void test_abort_and_unknown(void **state)
{
	struct fx *f = *state;
	struct ipam_db_events_batch *b;
	struct ipam_dhcplog_event e;
	struct ipam_db_audit_cursor c;
	char *out;

	assert_int_equal(ipam_db_events_begin(f->db, &b, "nope.example.test", 0,
					      "DhcpSrvLog-Mon.log", 1),
			 IPAM_ENOTFOUND);
	assert_null(b);
	assert_non_null(strstr(ipam_error_last(), "nope.example.test"));
	assert_int_equal(ipam_db_events_begin(f->db, &b,
					      "dhcp1.corp.example.test", 0,
					      "DhcpSrvLog-Mon.log", 1),
			 0);
	e = event(10, "198.51.100.9", "x", "01", 1);
	add(b, &e, 10);
	ipam_db_events_abort(b);
	ipam_db_events_abort(NULL);
	out = sqlite_query(f->path, "SELECT count(*) FROM dhcp_event_blocks");
	assert_string_equal(out, "0");
	free(out);
	assert_int_equal(ipam_db_audit_cursor_get(f->db,
						  "dhcp1.corp.example.test",
						  "DhcpSrvLog-Mon.log", &c),
			 IPAM_ENOTFOUND);
	/* the database takes the next batch */
	fill(f);
	out = sqlite_query(f->path, "SELECT sum(n) FROM dhcp_event_blocks");
	assert_string_equal(out, "4");
	free(out);
}

/* What a database holds of the events, as text (its blocks unpacked
 * by the zstd tool). */
static char *stored(const char *path)
{
	test_db_unpack_blocks(path);
	return sqlite_query(path,
			    "SELECT id, batch, last_id, n, at_min, at_max, "
			    "events FROM dhcp_event_blocks ORDER BY id; "
			    "SELECT seg, k, batch, hex(ids) FROM "
			    "dhcp_event_postings ORDER BY seg, k, batch; "
			    "SELECT id, server_id, file, first_id, last_id, "
			    "at_min, at_max FROM dhcp_event_batches "
			    "ORDER BY id; "
			    "SELECT name, \"offset\", line FROM "
			    "dhcp_audit_files");
}

/* A batch of file of server, begun. */
static struct ipam_db_events_batch *begin1(struct ipam_db *db,
					   const char *server, const char *file)
{
	struct ipam_db_events_batch *b;

	assert_int_equal(ipam_db_events_begin(db, &b, server, 0, file, 1), 0);
	return b;
}

/* Three batches of one file: each handed to a thread by commit_next (or
 * committed at once when sync), the last committed. */
static void three_batches(struct ipam_db *db, bool sync)
{
	struct ipam_db_events_batch *b;
	struct ipam_dhcplog_event e;
	struct ipam_db_audit_cursor c = {.generation = 1};
	const char *ip[] = {"198.51.100.1", "198.51.100.2", "2001:db8::7"};

	b = begin1(db, "dhcp1.corp.example.test", "DhcpSrvLog-Mon.log");
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 300; j++) {
			e = event(10 + j % 2, ip[j % 3], "ws1", "00155D0A0101",
				  (size_t)(300 * i + j + 1));
			add(b, &e, 1000 + 300 * i + j);
		}
		c.offset = 100 * (i + 1);
		c.line = 300 * (i + 1);
		if (i == 2) {
			assert_int_equal(ipam_db_events_commit(b, &c), 0);
		} else if (sync) {
			assert_int_equal(ipam_db_events_commit(b, &c), 0);
			assert_int_equal(ipam_db_events_begin(
						 db, &b,
						 "dhcp1.corp.example.test", 0,
						 "DhcpSrvLog-Mon.log", 1),
					 0);
		} else {
			assert_int_equal(ipam_db_events_commit_next(&b, &c), 0);
			assert_non_null(b);
		}
	}
}

/* The connection's automatic checkpoint bound (pages). */
static long long wal_autocheckpoint(struct ipam_db *db)
{
	struct ipam_sql_stmt *st;
	long long v = -1;

	assert_int_equal(
		ipam_sql_prepare(db->h, &st, "PRAGMA wal_autocheckpoint"), 0);
	if (ipam_sql_step(st) == IPAM_SQL_ROW)
		v = ipam_sql_column_int64(st, 0);
	ipam_sql_finalize(st);
	return v;
}

/* Batches committed by a thread while the next is built store what
 * batches committed one after the other do; a failure of one handed over
 * is the next call's, with its message; ids taken by another writer since
 * begin are refused. */
static void test_commit_next(void **state)
{
	struct fx *f = *state;
	char *path2, *a, *b2, *out;
	struct ipam_db *db2;
	struct ipam_db_events_batch *b, *other;
	struct ipam_dhcplog_event e = event(10, "198.51.100.9", "x", "01", 1);
	struct ipam_db_audit_cursor c = {.generation = 1, .line = 1};

	SQLITE_ONLY();
	path2 = xasprintf("%s/sync.db", f->dir);
	assert_int_equal(ipam_db_open(&db2, path2, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db2, NULL, NULL), 0);
	free(sqlite_query(path2, "INSERT INTO servers (name, roles, "
				 "manageability) VALUES "
				 "('dhcp1.corp.example.test', 'dhcp', "
				 "'managed')"));
	three_batches(f->db, false);
	three_batches(db2, true);
	/* the import's checkpoints ran on a thread of their own; the
	 * connection's own are back */
	assert_int_equal(wal_autocheckpoint(f->db), 1000);
	a = stored(f->path);
	b2 = stored(path2);
	assert_non_null(strstr(a, "|900|")); /* the last cursor */
	assert_string_equal(a, b2);
	free(a);
	free(b2);
	ipam_db_close(db2);
	free(path2);

	/* the batch handed over fails (its server is gone): the commit
	 * after it says why and stores nothing more */
	b = begin1(f->db, "dhcp2.corp.example.test", "DhcpSrvLog-Tue.log");
	add(b, &e, 5000);
	free(sqlite_query(f->path, "DELETE FROM servers WHERE name = "
				   "'dhcp2.corp.example.test'"));
	assert_int_equal(ipam_db_events_commit_next(&b, &c), 0);
	add(b, &e, 5001);
	assert_int_equal(ipam_db_events_commit(b, &c), IPAM_EDB);
	assert_true(strlen(ipam_error_last()) > 0);
	out = sqlite_query(f->path, "SELECT sum(n), count(*) FROM "
				    "dhcp_event_blocks; SELECT count(*) FROM "
				    "dhcp_audit_files");
	assert_string_equal(out, "900|9\n1");
	free(out);

	/* two batches from the same ids: the second to commit is refused */
	b = begin1(f->db, "dhcp1.corp.example.test", "DhcpSrvLog-Wed.log");
	other = begin1(f->db, "dhcp1.corp.example.test", "DhcpSrvLog-Thu.log");
	add(b, &e, 6000);
	add(other, &e, 6001);
	assert_int_equal(ipam_db_events_commit(other, &c), 0);
	assert_int_equal(ipam_db_events_commit(b, &c), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "another writer"));
	out = sqlite_query(f->path, "SELECT sum(n) FROM dhcp_event_blocks");
	assert_string_equal(out, "901");
	free(out);

	/* abort after a hand-over: that batch is committed, this one not */
	b = begin1(f->db, "dhcp1.corp.example.test", "DhcpSrvLog-Fri.log");
	add(b, &e, 7000);
	assert_int_equal(ipam_db_events_commit_next(&b, &c), 0);
	add(b, &e, 7001);
	ipam_db_events_abort(b);
	assert_int_equal(wal_autocheckpoint(f->db), 1000);
	out = sqlite_query(f->path, "SELECT sum(n) FROM dhcp_event_blocks");
	assert_string_equal(out, "902");
	free(out);
}

static void track(struct fx *f, enum ipam_db_track_by by, const char *v,
		  long long from, long long to, size_t limit, const char *want)
{
	struct ipam_db_track_query q = {by, v, from, to, limit};
	struct ipam_db_track_row *rows;
	struct strbuf got = STRBUF_INIT;
	size_t nr;

	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), 0);
	for (size_t i = 0; i < nr; i++)
		strbuf_addf(&got, "%lld %s %d/%d %s %s %s %s:%lld;", rows[i].at,
			    rows[i].server, rows[i].family, rows[i].event_id,
			    rows[i].ip, rows[i].client_id, rows[i].host,
			    rows[i].file, rows[i].line);
	assert_string_equal(got.buf, want);
	ipam_db_track_free(rows, nr);
	strbuf_release(&got);
}

/* The rows fill() stores, as track() prints them. */
#define R2500                                                                  \
	"2500 dhcp2.corp.example.test 4/10 198.51.100.101 a4bb6d112233 "       \
	"lap201 DhcpSrvLog-Mon.log:5;"
#define R2000                                                                  \
	"2000 dhcp1.corp.example.test 4/11 198.51.100.101 00155d0a0101 "       \
	"ws101.corp.example.test DhcpSrvLog-Mon.log:36;"
#define R1000                                                                  \
	"1000 dhcp1.corp.example.test 4/10 198.51.100.101 00155d0a0101 "       \
	"WS101.corp.example.test. DhcpSrvLog-Mon.log:35;"
#define R3000                                                                  \
	"3000 dhcp1.corp.example.test 6/10 2001:db8::1 0001000125d1f2a3 "      \
	"ws6.corp.example.test DhcpSrvLog-Mon.log:37;"

static void test_track(void **state)
{
	struct fx *f = *state;
	struct ipam_db_track_query q = {IPAM_TRACK_IP, "198.51.100.", 0, 0, 0};
	struct ipam_db_track_row *rows;
	size_t nr;

	fill(f);
	track(f, IPAM_TRACK_IP, "198.51.100.101", 0, 0, 0, R2500 R2000 R1000);
	track(f, IPAM_TRACK_IP, "198.51.100.101", 1000, 2000, 0, R2000 R1000);
	track(f, IPAM_TRACK_IP, "198.51.100.101", 1001, 0, 1, R2500);
	track(f, IPAM_TRACK_IP, "2001:db8::0:1", 0, 0, 0, R3000);
	track(f, IPAM_TRACK_CLIENT, "00:15:5D:0A:01:01", 0, 0, 0, R2000 R1000);
	track(f, IPAM_TRACK_CLIENT, "0001.0001.25d1.f2a3", 0, 0, 0, R3000);
	track(f, IPAM_TRACK_HOST, "Ws101.Corp.Example.Test.", 1500, 0, 0,
	      R2000);
	track(f, IPAM_TRACK_HOST, "nobody", 0, 0, 0, "");
	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "'198.51.100.'"));
	q.by = IPAM_TRACK_CLIENT;
	q.value = "xyz";
	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), IPAM_EINVAL);
}

/* A packed block that does not unpack, or would unpack past
 * IPAM_DB_EVENTS_BLOCK_MAX, is an error of the search that reads it, not
 * a block of no events; the others are still found. */
static void test_packed_malformed(void **state)
{
	struct fx *f = *state;
	struct ipam_db_track_query q = {IPAM_TRACK_IP, "198.51.100.101", 0, 0,
					0};
	struct ipam_db_events_packer p = {0};
	struct strbuf big = STRBUF_INIT, packed = STRBUF_INIT,
		      sql = STRBUF_INIT;
	struct ipam_db_track_row *rows;
	size_t nr;

	SQLITE_ONLY();
	fill(f);
	free(sqlite_query(f->path, "UPDATE dhcp_event_blocks SET packed = "
				   "X'28B52FFD0011223344' WHERE id = 1"));
	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "malformed block"));
	/* 2 MiB of text: a frame of 2 MiB content, a few hundred bytes */
	for (size_t i = 0; i < 2 * 1024 * 1024 / 64; i++)
		strbuf_addstr(&big, "0,1000,0,4,10,1,Assign,198.51.100.101,"
				    "h,00155d0a01,\n");
	assert_int_equal(ipam_db_events_pack(&p, &packed, big.buf, big.len), 0);
	assert_true(packed.len < 4096);
	strbuf_addstr(&sql, "UPDATE dhcp_event_blocks SET packed = X'");
	for (size_t i = 0; i < packed.len; i++)
		strbuf_addf(&sql, "%02X", (unsigned char)packed.buf[i]);
	strbuf_addstr(&sql, "' WHERE id = 1");
	free(sqlite_query(f->path, sql.buf));
	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), IPAM_EDB);
	assert_non_null(strstr(ipam_error_last(), "malformed block"));
	/* the other batch's block is read */
	track(f, IPAM_TRACK_HOST, "lap201", 0, 0, 0, R2500);
	ipam_db_events_packer_release(&p);
	strbuf_release(&big);
	strbuf_release(&packed);
	strbuf_release(&sql);
}

/* A search reads the postings of its key in each segment by the primary
 * key, the batches and servers by id, then the block of each event by
 * its id: no table is scanned. */
static void test_plan(void **state)
{
	struct fx *f = *state;

	SQLITE_ONLY();
	static const char *const want[] = {
		"SEARCH p USING PRIMARY KEY (seg=? AND k=?)",
		"SEARCH dhcp_event_blocks USING INTEGER PRIMARY KEY (rowid<?)",
	};

	for (int step = 0; step <= 1; step++) {
		struct strbuf sql = STRBUF_INIT, q = STRBUF_INIT;
		char *plan;

		assert_int_equal(ipam_db_track_sql(&sql, step), 0);
		/* the shell has no parameters: 5 for each */
		strbuf_addstr(&q, "EXPLAIN QUERY PLAN ");
		for (const char *p = sql.buf; *p; p++) {
			if (p[0] == '?') {
				strbuf_addstr(&q, "5");
				p++;
			} else {
				strbuf_addch(&q, *p);
			}
		}
		plan = sqlite_query(f->path, q.buf);
		/* g, the segments 0..?4, is scanned: it is no table */
		if (!strstr(plan, want[step]) || strstr(plan, "SCAN p") ||
		    strstr(plan, "SCAN b") || strstr(plan, "SCAN s") ||
		    strstr(plan, "SCAN dhcp_event_blocks") ||
		    strstr(plan, "TEMP B-TREE"))
			fail_msg("step %d: plan\n%s", step, plan);
		free(plan);
		strbuf_release(&q);
		strbuf_release(&sql);
	}
	assert_int_equal(ipam_db_track_sql(&(struct strbuf)STRBUF_INIT, 2),
			 IPAM_EINVAL);
}

/* The columns packed in extra come back, the empty ones as NULL. */
static void test_extra(void **state)
{
	struct fx *f = *state;
	struct ipam_db_track_query q = {IPAM_TRACK_HOST, "lap201", 0, 0, 0};
	struct ipam_db_events_batch *b;
	struct ipam_db_track_row *rows;
	struct ipam_dhcplog_event e;
	struct ipam_db_audit_cursor c = {.generation = 2};
	size_t nr;

	assert_int_equal(ipam_db_events_begin(f->db, &b,
					      "dhcp2.corp.example.test", 0,
					      "DhcpV6SrvLog-Mon.log", 2),
			 0);
	e = event(11000, "2001:db8::5", "lap201", "0001", 9);
	e.user_name = "CORP\\alice";
	e.transaction_id = "";
	e.relay_agent = "12:34";
	e.error_code = "0";
	e.subnet_prefix = "2001:db8::/64";
	e.dns_reg_error = "a:b7:c";
	e.description = "a, b\\c\nd"; /* what the block's text escapes */
	/* the hex of the ASCII column (kept as a mark), and one that is
	 * not quite (kept as it is) */
	e.vendor_class_hex = "0x4D53465420352E30";
	e.user_class_ascii = "RRAS.Microsoft";
	e.user_class_hex = "0x525241532e4d6963726f736f6674";
	add(b, &e, 77);
	e = event(11000, "2001:db8::6", "lap202", "0002", 10);
	e.user_class_hex = "0x";
	e.user_class_ascii = "";
	e.vendor_class_hex = "0x4D53465420352E";
	add(b, &e, 78);
	assert_int_equal(ipam_db_events_commit(b, &c), 0);
	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(rows[0].extra[6], "0x4D53465420352E30");
	assert_string_equal(rows[0].extra[8], "0x525241532e4d6963726f736f6674");
	assert_string_equal(rows[0].extra[9], "RRAS.Microsoft");
	assert_string_equal(rows[0].file, "DhcpV6SrvLog-Mon.log");
	assert_int_equal(rows[0].family, 6);
	assert_string_equal(rows[0].extra[0], "CORP\\alice");
	assert_string_equal(rows[0].description, "a, b\\c\nd");
	assert_string_equal(rows[0].local_time, "1970-01-01T01:01:17");
	assert_null(rows[0].extra[1]);
	assert_null(rows[0].extra[2]);
	assert_string_equal(rows[0].extra[7], "MSFT 5.0");
	assert_string_equal(rows[0].extra[10], "12:34");
	assert_string_equal(rows[0].extra[11], "a:b7:c");
	assert_string_equal(rows[0].extra[12], "0");
	assert_string_equal(rows[0].extra[13], "2001:db8::/64");
	assert_string_equal(ipam_db_track_extra_names[13], "subnetPrefix");
	ipam_db_track_free(rows, nr);
	q.value = "lap202";
	assert_int_equal(ipam_db_track(f->db, &q, &rows, &nr), 0);
	assert_int_equal(nr, 1);
	assert_string_equal(rows[0].extra[6], "0x4D53465420352E");
	assert_string_equal(rows[0].extra[7], "MSFT 5.0");
	assert_string_equal(rows[0].extra[8], "0x");
	assert_null(rows[0].extra[9]);
	ipam_db_track_free(rows, nr);
}

/* Pruning deletes whole batches by id range in bounded transactions,
 * and the older part of a batch that has newer events; a search finds
 * what is left, and no posting of a deleted key stays. */
static void test_prune(void **state)
{
	struct fx *f = *state;
	long long n = -1;
	char *out;

	fill(f);
	/* before 2501: batch 2 whole; batch 1 (1000..3000) in part */
	assert_int_equal(ipam_db_events_prune(f->db, 2501, 1, &n, NULL), 0);
	assert_int_equal(n, 3);
	/* block 1 keeps event 3 (its third record), packed again */
	out = sqlite_query(f->path, "SELECT count(*) FROM dhcp_event_blocks "
				    "WHERE packed IS NULL");
	assert_string_equal(out, "0");
	free(out);
	test_db_unpack_blocks(f->path);
	out = sqlite_query(f->path, "SELECT id, last_id, n, at_min, at_max, "
				    "substr(events, 1, 7) FROM "
				    "dhcp_event_blocks");
	assert_string_equal(out, "1|3|1|3000|3000|2,3000,");
	free(out);
	out = sqlite_query(f->path, "SELECT id, first_id, last_id, at_min "
				    "FROM dhcp_event_batches");
	assert_string_equal(out, "1|1|3|3000");
	free(out);
	/* only the keys of event 3 (address, client id, host) are left */
	out = sqlite_query(f->path, "SELECT count(*), min(batch) FROM "
				    "dhcp_event_postings");
	assert_string_equal(out, "3|1");
	free(out);
	track(f, IPAM_TRACK_IP, "198.51.100.101", 0, 0, 0, "");
	track(f, IPAM_TRACK_IP, "2001:db8::1", 0, 0, 0, R3000);
	assert_int_equal(ipam_db_events_prune(f->db, 2501, 0, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ipam_db_events_prune(f->db, 4000, 0, NULL, NULL), 0);
	out = sqlite_query(f->path,
			   "SELECT (SELECT count(*) FROM dhcp_event_blocks), "
			   "(SELECT count(*) FROM dhcp_event_batches), "
			   "(SELECT count(*) FROM dhcp_event_postings)");
	assert_string_equal(out, "0|0|0");
	free(out);
}

/* The purge of one server leaves the other's events searchable. */
static void test_purge(void **state)
{
	struct fx *f = *state;
	char *out;

	fill(f);
	assert_int_equal(ipam_db_events_purge(f->db, 1), 0);
	out = sqlite_query(f->path,
			   "SELECT (SELECT group_concat(id) FROM "
			   "dhcp_event_blocks), "
			   "(SELECT group_concat(id) FROM dhcp_event_batches), "
			   "(SELECT count(*) FROM dhcp_event_postings "
			   "WHERE batch = 2), (SELECT count(*) FROM "
			   "dhcp_event_postings)");
	assert_string_equal(out, "4|2|3|3");
	free(out);
	track(f, IPAM_TRACK_IP, "198.51.100.101", 0, 0, 0, R2500);
}

static void test_keys(void **state)
{
	struct strbuf k = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_db_track_key(&k, IPAM_TRACK_IP, "2001:DB8::01"),
			 0);
	assert_string_equal(k.buf, "2001:db8::1");
	strbuf_reset(&k);
	assert_int_equal(ipam_db_track_key(&k, IPAM_TRACK_IP, "10.0.0.0"), 0);
	assert_int_equal(ipam_db_track_key(&k, IPAM_TRACK_IP, "255.19.7.100"),
			 0);
	assert_string_equal(k.buf, "10.0.0.0255.19.7.100");
	strbuf_reset(&k);
	assert_int_equal(ipam_db_track_key(&k, IPAM_TRACK_HOST, "A.B.."), 0);
	assert_string_equal(k.buf, "a.b");
	strbuf_reset(&k);
	assert_int_equal(ipam_db_track_key(&k, IPAM_TRACK_HOST, "."),
			 IPAM_EINVAL);
	assert_int_equal(ipam_db_track_key(&k, IPAM_TRACK_IP, "10.0.0.256"),
			 IPAM_EINVAL);
	strbuf_release(&k);
}

/* Migration 10 carries the events of version 9 (one row each) over into
 * blocks: the postings of version 9 find them, and the store goes on
 * after them. */
static void test_migration_10(void **state)
{
	struct fx *f = *state;
	int from = 0, to = 0;
	char *out;

	SQLITE_ONLY();
	fill(f);
	ipam_db_close(f->db);
	/* back to version 9: the rows fill() stored, as dhcp_events had
	 * them (migration 6) */
	free(sqlite_query(
		f->path,
		"DROP TABLE dhcp_address_fold_state;"
		"DROP TABLE dhcp_address_fold;"
		"DROP TABLE dhcp_batch_addresses;"
		"ALTER TABLE dhcp_event_batches DROP COLUMN addresses;"
		"DROP TABLE dhcp_event_blocks;"
		"CREATE TABLE dhcp_events (id INTEGER PRIMARY KEY, batch "
		"INTEGER NOT NULL, at INTEGER NOT NULL, local_time TEXT NOT "
		"NULL, family INTEGER NOT NULL, event_id INTEGER NOT NULL, "
		"description TEXT, ip TEXT, host TEXT, client_id TEXT, line "
		"INTEGER NOT NULL, extra TEXT);"
		"INSERT INTO dhcp_events VALUES (1, 1, 1000, "
		"'1970-01-01T01:16:40', 4, 10, 'Assign', '198.51.100.101', "
		"'WS101.corp.example.test.', '00155d0a0101', 35, "
		"'b10:2316574531h8:MSFT 5.0'), (2, 1, 2000, "
		"'1970-01-01T01:33:20', 4, 11, 'Renew', '198.51.100.101', "
		"'ws101.corp.example.test', '00155d0a0101', 36, "
		"'b10:2316574531h8:MSFT 5.0'), (3, 1, 3000, "
		"'1970-01-01T01:50:00', 6, 10, 'Assign', '2001:db8::1', "
		"'ws6.corp.example.test', '0001000125d1f2a3', 37, "
		"'b10:2316574531h8:MSFT 5.0'), (4, 2, 2500, "
		"'1970-01-01T01:41:40', 4, 10, 'Assign', '198.51.100.101', "
		"'lap201', 'a4bb6d112233', 5, 'a4:a,\\b');"
		"DELETE FROM schema_migrations WHERE version > 9;"
		"PRAGMA user_version = 9;"));
	assert_int_equal(ipam_db_open(&f->db, f->path, 0), 0);
	assert_int_equal(ipam_db_migrate(f->db, &from, &to), 0);
	assert_int_equal(from, 9);
	assert_int_equal(to, 12);
	out = sqlite_query(f->path,
			   "SELECT id, batch, last_id, n, at_min, at_max, "
			   "replace(events, char(10), '/') FROM "
			   "dhcp_event_blocks ORDER BY id");
	assert_string_equal(out, BLOCKS_OF_FILL "a4bb6d112233,a4:a\\c\\\\b/");
	free(out);
	out = sqlite_query(f->path, "SELECT count(*) FROM sqlite_master "
				    "WHERE name = 'dhcp_events'");
	assert_string_equal(out, "0");
	free(out);
	track(f, IPAM_TRACK_IP, "198.51.100.101", 0, 0, 0, R2500 R2000 R1000);
	track(f, IPAM_TRACK_HOST, "ws6.corp.example.test", 0, 0, 0, R3000);
	/* the next batch takes ids after them */
	fill(f);
	out = sqlite_query(f->path, "SELECT group_concat(id) FROM (SELECT id "
				    "FROM dhcp_event_blocks ORDER BY id)");
	assert_string_equal(out, "1,4,5,8");
	free(out);
}

/* What every event of an address gives ipam_leases_decide, and its
 * servers, is what the events ipam_db_events_leases hands out give: over
 * pseudo-random events (ties of time, events without names, "other"
 * events, three servers, two batches each), at several moments. */
#define L_ADDRS	 7
#define L_EVENTS 600

struct l_event {
	long long at, id, server;
	int event_id, addr;
	bool named;
};

struct l_check {
	const struct l_event *all;
	long long srv[4];
	long long upto; /* the events imported: ids up to it */
	long long from; /* the events pruned: those before it */
	int gone;	/* a server purged (-1: none) */
	size_t seen;
};

static const int l_ids[] = {10, 11, 12, 16, 17, 18, 20, 24, 30, 11002};

static int l_check_one(const char *ip, int family,
		       const struct ipam_lease_event *ev, size_t nr, void *ctx)
{
	struct l_check *c = ctx;
	struct ipam_lease_event full[L_EVENTS];
	int addr = atoi(strrchr(ip, '.') + 1);
	unsigned want_srv = 0, got_srv = 0;
	size_t n = 0;

	assert_int_equal(family, 4);
	for (size_t i = 0; i < L_EVENTS; i++) {
		const struct l_event *e = &c->all[i];

		if (!e->id || e->addr != addr || e->id > c->upto ||
		    e->server == c->gone || e->at < c->from)
			continue;
		full[n++] = (struct ipam_lease_event){
			e->at,
			e->id,
			e->event_id,
			c->srv[e->server],
			e->named ? "00155d000001" : NULL,
			e->named ? "h.example.test" : NULL,
		};
		want_srv |= 1u << e->server;
	}
	for (size_t i = 0; i < nr; i++)
		for (unsigned k = 0; k < 3; k++)
			if (ev[i].server_id == c->srv[k])
				got_srv |= 1u << k;
	assert_int_equal(got_srv, want_srv);
	for (long long now = 0; now <= 2000000; now += 250000) {
		struct ipam_lease_state a, b;

		ipam_leases_decide(&a, full, n, now, 0);
		ipam_leases_decide(&b, ev, nr, now, 0);
		assert_int_equal(a.in_use, b.in_use);
		assert_int_equal(a.expires, b.expires);
		assert_int_equal(a.first, b.first);
		assert_int_equal(a.last, b.last);
		assert_int_equal(a.server_id, b.server_id);
		assert_int_equal(a.decided ? a.decided->seq : 0,
				 b.decided ? b.decided->seq : 0);
		assert_int_equal(!a.mac, !b.mac);
		assert_int_equal(!a.host, !b.host);
	}
	c->seen++;
	return 0;
}

/* How many addresses the events c counts have. */
static size_t l_addrs(const struct l_check *c)
{
	unsigned seen = 0;
	size_t n = 0;

	for (size_t i = 0; i < L_EVENTS; i++)
		if (c->all[i].id && c->all[i].id <= c->upto &&
		    c->all[i].server != c->gone && c->all[i].at >= c->from)
			seen |= 1u << c->all[i].addr;
	for (int a = 0; a < L_ADDRS; a++)
		n += (seen >> a) & 1;
	return n;
}

/* The stored fold of every address, as text. */
static char *l_fold(struct fx *f)
{
	return sqlite_query(f->path,
			    test_db_is_pg()
				    ? "SELECT string_agg(address || '=' || "
				      "encode(slots, 'hex'), ' ' ORDER BY "
				      "address) FROM dhcp_address_fold"
				    : "SELECT group_concat(address || '=' || "
				      "hex(slots), ' ') FROM (SELECT * FROM "
				      "dhcp_address_fold ORDER BY address)");
}

static void test_leases(void **state)
{
	struct fx *f = *state;
	static struct l_event all[L_EVENTS];
	static const char *const names[] = {"dhcp1.corp.example.test",
					    "dhcp2.corp.example.test",
					    "dhcp3.corp.example.test"};
	struct l_check c = {.all = all, .gone = -1};
	unsigned seed = 12345;
	long long id = 0;
	char *out, *fold;

	free(sqlite_query(f->path, "INSERT INTO servers (name) VALUES "
				   "('dhcp3.corp.example.test')"));
	for (int s = 0; s < 3; s++) {
		char *q = xasprintf("SELECT id FROM servers WHERE name = '%s'",
				    names[s]);

		out = sqlite_query(f->path, q);
		c.srv[s] = atoll(out);
		free(out);
		free(q);
	}
	/* two batches of each server in turn, 100 events each */
	for (int b = 0; b < 6; b++) {
		struct ipam_db_events_batch *batch;
		struct ipam_db_audit_cursor cur = {.generation = 1};

		assert_int_equal(ipam_db_events_begin(f->db, &batch,
						      names[b % 3], 0, "f", 1),
				 0);
		for (int i = 0; i < 100; i++) {
			struct l_event *e = &all[b * 100 + i];
			char ip[32];
			struct ipam_dhcplog_event in;

			seed = seed * 1103515245u + 12345u;
			e->addr = (int)(seed >> 16) % L_ADDRS;
			e->at = 1000 + (long long)((seed >> 8) % 40) * 50000;
			e->event_id = l_ids[(seed >> 4) % 10];
			e->named = (seed >> 20) % 3 != 0;
			e->server = b % 3;
			e->id = ++id;
			snprintf(ip, sizeof(ip), "10.0.0.%d", e->addr);
			in = event(e->event_id, ip,
				   e->named ? "h.example.test" : "",
				   e->named ? "00155d000001" : "", 1);
			add(batch, &in, e->at);
		}
		assert_int_equal(ipam_db_events_commit(batch, &cur), 0);
		/* a pass after the first, the third, the fourth and the
		 * sixth batch: it folds one or two batches into what the
		 * pass before folded */
		c.upto = id;
		/* the fifth batch as one whose fold was not worth storing
		 * (or one of an earlier version): the pass reads its
		 * events, then merges the sixth's fold */
		if (b == 4)
			free(sqlite_query(f->path,
					  "DELETE FROM dhcp_batch_addresses "
					  "WHERE batch = 5; UPDATE "
					  "dhcp_event_batches SET addresses = "
					  "NULL WHERE id = 5"));
		if (b == 1 || b == 4)
			continue;
		c.seen = 0;
		assert_int_equal(ipam_db_events_leases(f->db, l_check_one, &c),
				 0);
		assert_int_equal(c.seen, l_addrs(&c));
	}
	/* what the passes folded is what one pass over every event folds */
	fold = l_fold(f);
	out = sqlite_query(f->path, "SELECT (SELECT count(*) FROM "
				    "dhcp_batch_addresses), (SELECT "
				    "folded_batch FROM "
				    "dhcp_address_fold_state)");
	assert_string_equal(out, "0|6");
	free(out);
	free(sqlite_query(f->path, "UPDATE dhcp_address_fold_state SET "
				   "folded_batch = 0"));
	c.seen = 0;
	assert_int_equal(ipam_db_events_leases(f->db, l_check_one, &c), 0);
	assert_int_equal(c.seen, L_ADDRS);
	out = l_fold(f);
	assert_string_equal(out, fold);
	free(out);
	free(fold);
	/* the purge of a server: the next pass reads every event again */
	assert_int_equal(ipam_db_events_purge(f->db, c.srv[2]), 0);
	c.gone = 2;
	c.seen = 0;
	assert_int_equal(ipam_db_events_leases(f->db, l_check_one, &c), 0);
	assert_int_equal(c.seen, l_addrs(&c));
	/* a batch without a fold of its own (before migration 11) */
	free(sqlite_query(f->path, "UPDATE dhcp_event_batches SET addresses "
				   "= NULL WHERE id = 1"));
	c.seen = 0;
	assert_int_equal(ipam_db_events_leases(f->db, l_check_one, &c), 0);
	assert_int_equal(c.seen, l_addrs(&c));
	/* the prune of the older half: the pass after it folds what is
	 * left */
	c.from = 1000 + 20 * 50000;
	assert_int_equal(ipam_db_events_prune(f->db, c.from, 0, NULL, NULL), 0);
	out = sqlite_query(f->path, "SELECT folded_batch FROM "
				    "dhcp_address_fold_state");
	assert_string_equal(out, "0");
	free(out);
	c.seen = 0;
	assert_int_equal(ipam_db_events_leases(f->db, l_check_one, &c), 0);
	assert_int_equal(c.seen, l_addrs(&c));
}

static int count_addrs(const char *ip, int family,
		       const struct ipam_lease_event *ev, size_t nr, void *ctx)
{
	(void)ip;
	(void)family;
	assert_true(nr >= 1 && ev[0].seq > 0);
	(*(size_t *)ctx)++;
	return 0;
}

/* A batch of as many addresses as events stores no fold (writing and
 * reading it back would cost more than its events): the pass reads its
 * events; one of few addresses stores its fold (one part). */
static void test_fold_worth_storing(void **state)
{
	struct fx *f = *state;
	struct ipam_db_audit_cursor cur = {.generation = 1};
	struct ipam_db_events_batch *b;
	size_t seen = 0;
	char *out, *fold;

	for (int k = 0; k < 2; k++) {
		assert_int_equal(ipam_db_events_begin(f->db, &b,
						      "dhcp1.corp.example.test",
						      0, "f", 1),
				 0);
		for (int i = 0; i < 40; i++) {
			char ip[32];
			struct ipam_dhcplog_event e;

			snprintf(ip, sizeof(ip), "10.1.%d.%d", k,
				 k ? i % 4 : i);
			e = event(10, ip, "h", "00155d000001", (size_t)i + 1);
			add(b, &e, 1000 + i);
		}
		assert_int_equal(ipam_db_events_commit(b, &cur), 0);
	}
	out = sqlite_query(f->path,
			   "SELECT (SELECT group_concat(coalesce(addresses, "
			   "-1)) FROM (SELECT addresses FROM "
			   "dhcp_event_batches ORDER BY id) AS b), (SELECT "
			   "count(*) FROM dhcp_batch_addresses)");
	assert_string_equal(out, "-1,4|1");
	free(out);
	assert_int_equal(ipam_db_events_leases(f->db, count_addrs, &seen), 0);
	assert_int_equal(seen, 44);
	/* 1,100 addresses in 4,400 events: a fold of two parts, which the
	 * next pass merges as a pass over every event folds them */
	assert_int_equal(ipam_db_events_begin(f->db, &b,
					      "dhcp2.corp.example.test", 0, "g",
					      1),
			 0);
	for (int i = 0; i < 4400; i++) {
		char ip[32];
		struct ipam_dhcplog_event e;

		snprintf(ip, sizeof(ip), "10.2.%d.%d", i % 1100 / 256,
			 i % 1100 % 256);
		e = event(i % 3 ? 11 : 10, ip, i % 5 ? "h" : "", "00155d000002",
			  (size_t)i + 1);
		add(b, &e, 5000 + i / 7);
	}
	assert_int_equal(ipam_db_events_commit(b, &cur), 0);
	out = sqlite_query(f->path, "SELECT count(*) FROM "
				    "dhcp_batch_addresses WHERE batch = 3");
	assert_string_equal(out, "2");
	free(out);
	seen = 0;
	assert_int_equal(ipam_db_events_leases(f->db, count_addrs, &seen), 0);
	assert_int_equal(seen, 1144);
	fold = l_fold(f);
	free(sqlite_query(f->path, "UPDATE dhcp_address_fold_state SET "
				   "folded_batch = 0"));
	seen = 0;
	assert_int_equal(ipam_db_events_leases(f->db, count_addrs, &seen), 0);
	assert_int_equal(seen, 1144);
	out = l_fold(f);
	assert_string_equal(out, fold);
	free(out);
	free(fold);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_and_cursor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_next, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_unknown,
						setup_any, teardown),
		cmocka_unit_test_setup_teardown(test_track, setup_any,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_extra, setup_any,
						teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup_any,
						teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup_any,
						teardown),
		cmocka_unit_test(test_keys),
		cmocka_unit_test_setup_teardown(test_migration_10, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup_any,
						teardown),
		cmocka_unit_test_setup_teardown(test_fold_worth_storing,
						setup_any, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
