/* ipamctl track end to end: the lab's fixture audit logs imported into a
 * state database made by `ipamctl db init` (parser, Europe/Berlin from
 * the system's zoneinfo, the events store), then searched through the
 * binary.  The expected events are computed here from the files with a
 * plain split and glibc's mktime; the JSON is checked against
 * schemas/track.schema.json with python3-jsonschema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include "db.h"
#include "db_events.h"
#include "dhcplog.h"
#include "error.h"
#include "strbuf.h"
#include "testutil.h"
#include "tzdb.h"

static const char *const days[] = {"Mon", "Tue", "Wed"};
#define SERVER "dhcp1.corp.example.test"
#define ZONE   "Europe/Berlin"

static struct tm tm_of(int y, int mo, int d, int h, int mi, int sec)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return tm;
}

static long long utc(int y, int mo, int d, int h, int mi, int sec)
{
	struct tm tm = tm_of(y, mo, d, h, mi, sec);

	return (long long)timegm(&tm);
}

struct fx {
	char *dir, *db, *cfg;
};

struct import {
	struct ipam_db_events_batch *b;
	struct ipam_tz *tz;
};

static int import_event(const struct ipam_dhcplog_event *e, void *ctx)
{
	struct import *im = ctx;
	char local[32];
	struct ipam_db_event_in in = {.e = e, .local_time = local};

	in.at = ipam_tz_to_utc(im->tz,
			       ipam_tz_civil(e->year, e->month, e->day, e->hour,
					     e->minute, e->second));
	snprintf(local, sizeof(local), "%04d-%02d-%02dT%02d:%02d:%02d", e->year,
		 e->month, e->day, e->hour, e->minute, e->second);
	return ipam_db_events_add(im->b, &in);
}

static void import_file(struct ipam_db *db, struct ipam_tz *tz, const char *day)
{
	char *name = xasprintf("DhcpSrvLog-%s.log", day);
	char *path = xasprintf("%s/lab/audit/%s", fixtures_dir(), name);
	struct ipam_db_audit_cursor c = {.generation = 1};
	struct import im = {.tz = tz};
	struct ipam_dhcplog *p;
	size_t len;
	char *text = slurp(path, &len);

	assert_non_null(text);
	assert_int_equal(ipam_db_events_begin(db, &im.b, SERVER, 0, name, 1),
			 0);
	p = ipam_dhcplog_new(4, NULL, 1, import_event, NULL, &im);
	assert_int_equal(ipam_dhcplog_feed(p, text, len), 0);
	c.offset = (long long)ipam_dhcplog_consumed(p);
	c.line = (long long)ipam_dhcplog_lines(p);
	c.columns = (char *)ipam_dhcplog_columns(p);
	c.size = (long long)len;
	assert_int_equal(ipam_db_events_commit(im.b, &c), 0);
	ipam_dhcplog_free(p);
	free(text);
	free(path);
	free(name);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *argv[8], *out;
	struct run_result r;
	struct ipam_db *db;
	struct ipam_tz *tz;

	f->dir = tmpdir_make();
	f->db = test_db_new(f->dir);
	f->cfg = xasprintf("%s/d.yaml", f->dir);
	assert_int_equal(write_file(f->cfg,
				    "version: 1\n"
				    "ipamServer: ipam1.corp.example.test\n"
				    "provisioning:\n"
				    "  method: manual\n"),
			 0);
	argv[0] = (char *)ipamctl_path();
	argv[1] = "db";
	argv[2] = "init";
	argv[3] = "-c";
	argv[4] = f->cfg;
	argv[5] = "--db";
	argv[6] = f->db;
	argv[7] = NULL;
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	out = sqlite_query(f->db,
			   "INSERT INTO servers (name, roles, "
			   "manageability) VALUES ('" SERVER "', 'dhcp', "
			   "'managed')");
	free(out);
	assert_int_equal(ipam_db_open(&db, f->db, 0), 0);
	assert_int_equal(ipam_tzdb_load(&tz, ZONE), 0);
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		import_file(db, tz, days[i]);
	ipam_tz_free(tz);
	ipam_db_close(db);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->dir);
	free(f->db);
	free(f->cfg);
	free(f);
	return 0;
}

/* ---- the expected events, from the files -------------------------------- */

struct want {
	long long at;
	int day;
	long line;
	char text[160];
};

static int newest_first(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? 1 : -1;
	if (x->day != y->day)
		return x->day < y->day ? 1 : -1;
	return x->line < y->line ? 1 : x->line > y->line ? -1 : 0;
}

/* The log's local time (MM/DD/YY, HH:MM:SS) in UTC, by glibc's mktime. */
static long long berlin_utc(const char *date, const char *time)
{
	struct tm tm;
	int mo, d, y, h, mi, s;

	assert_int_equal(sscanf(date, "%d/%d/%d", &mo, &d, &y), 3);
	assert_int_equal(sscanf(time, "%d:%d:%d", &h, &mi, &s), 3);
	tm = tm_of(2000 + y, mo, d, h, mi, s);
	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

/* "at|eventId|line" for each event whose column col (4 IP, 5 host, 6
 * MAC) matches, newest first, as the files say. */
static void expected(struct strbuf *out, int col, const char *value,
		     long long from, long long to)
{
	struct want w[64];
	size_t n = 0;

	setenv("TZ", ZONE, 1);
	tzset();
	for (int d = 0; d < 3; d++) {
		char *path = xasprintf("%s/lab/audit/DhcpSrvLog-%s.log",
				       fixtures_dir(), days[d]);
		FILE *fp = fopen(path, "r");
		char line[1024];
		long no = 0;
		int events = 0;

		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp)) {
			char *f[20] = {0}, *p = line;
			int nf = 0;

			no++;
			if (!strncmp(line, "ID,", 3)) {
				events = 1;
				continue;
			}
			if (!events)
				continue;
			line[strcspn(line, "\r\n")] = '\0';
			while (nf < 20) {
				f[nf++] = p;
				p = strchr(p, ',');
				if (!p)
					break;
				*p++ = '\0';
			}
			if (strcasecmp(f[col], value))
				continue;
			w[n].at = berlin_utc(f[1], f[2]);
			w[n].day = d;
			w[n].line = no;
			snprintf(w[n].text, sizeof(w[n].text), "%lld|%s|%ld\n",
				 w[n].at, f[0], no);
			if (w[n].at >= from && (!to || w[n].at <= to))
				n++;
		}
		fclose(fp);
		free(path);
	}
	unsetenv("TZ");
	tzset();
	qsort(w, n, sizeof(w[0]), newest_first);
	for (size_t i = 0; i < n; i++)
		strbuf_addstr(out, w[i].text);
}

/* ---- running ipamctl ------------------------------------------------------
 */

static struct run_result track(struct fx *f, const char *a, const char *b,
			       const char *c, const char *d)
{
	char *argv[12] = {(char *)ipamctl_path(), "track", "--db", f->db};
	const char *more[] = {a, b, c, d};
	struct run_result r;
	int n = 4;

	for (int i = 0; i < 4 && more[i]; i++)
		argv[n++] = (char *)more[i];
	argv[n] = NULL;
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	return r;
}

/* The JSON validated by the schema, and "at|eventId|line" of each event
 * (at as epoch seconds). */
static char *json_events(struct fx *f, const char *json)
{
	char *file = xasprintf("%s/out.json", f->dir);
	char *schema =
		xasprintf("%s/../../schemas/track.schema.json", fixtures_dir());
	char *const argv[] = {
		"/usr/bin/python3",
		"-c",
		"import json, sys, jsonschema, calendar, time\n"
		"s = json.load(open(sys.argv[1]))\n"
		"jsonschema.Draft202012Validator.check_schema(s)\n"
		"d = json.load(open(sys.argv[2]))\n"
		"jsonschema.validate(d, s, "
		"cls=jsonschema.Draft202012Validator)\n"
		"assert d['count'] == len(d['events'])\n"
		"for e in d['events']:\n"
		"    t = calendar.timegm(time.strptime(e['at'],\n"
		"        '%Y-%m-%dT%H:%M:%SZ'))\n"
		"    print('%d|%02d|%d' % (t, e['eventId'], e['line']))\n",
		schema,
		file,
		NULL};
	struct run_result r;
	char *out;

	assert_int_equal(write_file(file, json), 0);
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("track JSON fails the schema:\n%s\n%s", json, r.err);
	out = r.out;
	r.out = NULL;
	run_result_free(&r);
	free(schema);
	free(file);
	return out;
}

/* track opt value [--from from] [--to to] -o json lists what the files
 * hold for column col == file_value, in that range. */
static void check(struct fx *f, const char *opt, const char *value, int col,
		  const char *file_value, const char *from, long long from_t,
		  const char *to, long long to_t)
{
	char *argv[14] = {
		(char *)ipamctl_path(), "track", "--db", f->db, (char *)opt,
		(char *)value,		"-o",	 "json"};
	struct strbuf want = STRBUF_INIT;
	struct run_result r;
	int n = 8;
	char *got;

	if (from) {
		argv[n++] = "--from";
		argv[n++] = (char *)from;
	}
	if (to) {
		argv[n++] = "--to";
		argv[n++] = (char *)to;
	}
	argv[n] = NULL;
	expected(&want, col, file_value, from_t, to_t);
	assert_true(want.len > 0);
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	got = json_events(f, r.out);
	assert_string_equal(got, want.buf);
	free(got);
	run_result_free(&r);
	strbuf_release(&want);
}

static void test_by_each_key(void **state)
{
	struct fx *f = *state;
	long long all = -(1LL << 40);

	check(f, "--ip", "198.51.100.101", 4, "198.51.100.101", NULL, all, NULL,
	      0);
	check(f, "--ip", "198.51.100.102", 4, "198.51.100.102", NULL, all, NULL,
	      0);
	check(f, "--mac", "00-15-5d-0a-01-01", 6, "00155D0A0101", NULL, all,
	      NULL, 0);
	check(f, "--mac", "08:00:27:0B:0C:0D", 6, "0800270B0C0D", NULL, all,
	      NULL, 0);
	check(f, "--host", "WS101.Corp.Example.Test.", 5,
	      "ws101.corp.example.test", NULL, all, NULL, 0);
	/* time ranges: an offset, Z, and a bare date as --to (its end) */
	check(f, "--ip", "198.51.100.101", 4, "198.51.100.101",
	      "2026-11-03T00:00:00+01:00", utc(2026, 11, 2, 23, 0, 0), NULL, 0);
	/* a bare date-time is UTC; both ends are inclusive */
	check(f, "--ip", "198.51.100.102", 4, "198.51.100.102",
	      "2026-11-03T06:55:31", utc(2026, 11, 3, 6, 55, 31), NULL, 0);
	check(f, "--ip", "198.51.100.102", 4, "198.51.100.102",
	      "2026-11-03T12:25:31+0530", utc(2026, 11, 3, 6, 55, 31), NULL, 0);
	check(f, "--mac", "00155d0a0101", 6, "00155D0A0101",
	      "2026-11-02T07:01:16Z", utc(2026, 11, 2, 7, 1, 16), "2026-11-02",
	      utc(2026, 11, 2, 23, 59, 59));
}

static void test_text_and_errors(void **state)
{
	struct fx *f = *state;
	struct run_result r;

	r = track(f, "--ip", "198.51.100.104", NULL, NULL);
	assert_int_equal(r.status, 0);
	/* 17 Expired (Tue 23:59:00 local = 22:59:00Z), 13 Conflict */
	assert_non_null(strstr(r.out, "TIME (UTC)"));
	assert_non_null(strstr(r.out, "2026-11-03T22:59:00Z  2026-11-03 "
				      "23:59:00  " SERVER "     17  Expired"));
	assert_non_null(strstr(r.out, "2026-11-02T12:12:44Z  2026-11-02 "
				      "13:12:44  " SERVER "     13  Conflict"));
	assert_true(strstr(r.out, "Expired") < strstr(r.out, "Conflict"));
	run_result_free(&r);

	r = track(f, "--ip", "192.0.2.1", NULL, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "no events for --ip 192.0.2.1\n");
	run_result_free(&r);
	r = track(f, "--host", "nobody", "-o", "json");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"count\": 0"));
	run_result_free(&r);

	r = track(f, "--ip", "198.51.100.1O1", NULL, NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "--ip: '198.51.100.1O1' is not an "
				      "IPv4 or IPv6 address"));
	run_result_free(&r);
	r = track(f, "--mac", "00:15:5d:zz", NULL, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "--mac: '00:15:5d:zz' is not a MAC"));
	run_result_free(&r);
	r = track(f, "--ip", "198.51.100.101", "--mac", "00155d0a0101");
	assert_int_equal(r.status, 1);
	run_result_free(&r);
	r = track(f, "--from", "2026-11-02", NULL, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "--ip, --mac or --host"));
	run_result_free(&r);
	r = track(f, "--ip", "198.51.100.101", "--to", "2026-02-30");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "--to: '2026-02-30'"));
	run_result_free(&r);
	r = track(f, "--ip", "198.51.100.101", "--limit", "2");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "(the newest 2 events"));
	run_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_each_key),
		cmocka_unit_test(test_text_and_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
