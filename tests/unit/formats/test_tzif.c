/* TZif parsing and local time, against the system's zoneinfo with glibc
 * (TZ + localtime_r / mktime) as the independent check; synthetic files
 * for the slim (footer only) form and for malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "strbuf.h"
#include "testutil.h"
#include "tzdb.h"
#include "tzif.h"

static struct tm tm_of(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return tm;
}

static long long utc_of(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = tm_of(y, mo, d, h, mi, s);

	return (long long)timegm(&tm);
}

static struct ipam_tz *load(const char *name)
{
	struct ipam_tz *tz = NULL;

	if (ipam_tzdb_load(&tz, name))
		fail_msg("%s: %s", name, ipam_error_last());
	return tz;
}

static void set_tz(const char *name)
{
	setenv("TZ", name, 1);
	tzset();
}

/* Every step seconds from..to: our offset is glibc's, and local time
 * goes back to the first UTC time that has it. */
static void compare_glibc(const char *name, long long from, long long to,
			  long long step)
{
	struct ipam_tz *tz = load(name);

	set_tz(name);
	for (long long t = from; t < to; t += step) {
		time_t tt = (time_t)t;
		struct tm tm;
		long long local, back;

		localtime_r(&tt, &tm);
		local = ipam_tz_to_local(tz, t);
		if (local - t != tm.tm_gmtoff)
			fail_msg("%s at %lld: offset %lld, glibc %ld", name, t,
				 local - t, (long)tm.tm_gmtoff);
		back = ipam_tz_to_utc(tz, local);
		if (back > t || ipam_tz_to_local(tz, back) != local)
			fail_msg("%s: local %lld of %lld back to %lld", name,
				 local, t, back);
	}
	ipam_tz_free(tz);
	unsetenv("TZ");
	tzset();
}

static void test_against_glibc(void **state)
{
	static const char *const zones[] = {
		"Europe/Berlin",       "America/New_York",
		"Asia/Kolkata",	       "Australia/Lord_Howe",
		"America/Sao_Paulo",   "Pacific/Chatham",
		"Africa/Casablanca",   "America/St_Johns",
		"Pacific/Kiritimati",  "Europe/London",
		"America/Los_Angeles", "Australia/Adelaide",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		/* 1970-2100 every 5 h 7 min, then 2026 every 15 min */
		compare_glibc(zones[i], 0, utc_of(2100, 1, 1, 0, 0, 0),
			      5 * 3600 + 420);
		compare_glibc(zones[i], utc_of(2026, 1, 1, 0, 0, 0),
			      utc_of(2027, 1, 1, 0, 0, 0), 900);
	}
}

/* mktime as the independent way from local time back to UTC. */
static long long glibc_to_utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = tm_of(y, mo, d, h, mi, s);

	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

static void test_berlin_2026(void **state)
{
	struct ipam_tz *tz = load("Europe/Berlin");

	(void)state;
	/* CEST from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC */
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 3, 29, 0, 59, 59)),
			 utc_of(2026, 3, 29, 1, 59, 59));
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 3, 29, 1, 0, 0)),
			 utc_of(2026, 3, 29, 3, 0, 0));
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 10, 25, 0, 59, 59)),
			 utc_of(2026, 10, 25, 2, 59, 59));
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 10, 25, 1, 0, 0)),
			 utc_of(2026, 10, 25, 2, 0, 0));
	/* a summer and a winter time */
	assert_int_equal(ipam_tz_to_utc(tz, utc_of(2026, 7, 1, 12, 0, 0)),
			 utc_of(2026, 7, 1, 10, 0, 0));
	assert_int_equal(ipam_tz_to_utc(tz, utc_of(2026, 11, 2, 8, 1, 15)),
			 utc_of(2026, 11, 2, 7, 1, 15));
	/* 02:30 on 29 March never happens: the offset before (+1) */
	assert_int_equal(ipam_tz_to_utc(tz, utc_of(2026, 3, 29, 2, 30, 0)),
			 utc_of(2026, 3, 29, 1, 30, 0));
	/* 02:30 on 25 October happens twice: the first (+2) */
	assert_int_equal(ipam_tz_to_utc(tz, utc_of(2026, 10, 25, 2, 30, 0)),
			 utc_of(2026, 10, 25, 0, 30, 0));
	/* glibc agrees away from the changes */
	set_tz("Europe/Berlin");
	for (int m = 1; m <= 12; m++)
		for (int h = 0; h < 24; h += 5)
			assert_int_equal(ipam_tz_to_utc(tz, utc_of(2026, m, 10,
								   h, 7, 9)),
					 glibc_to_utc(2026, m, 10, h, 7, 9));
	unsetenv("TZ");
	tzset();
	ipam_tz_free(tz);
}

static void test_other_zones(void **state)
{
	struct ipam_tz *ny = load("America/New_York");
	struct ipam_tz *in = load("Asia/Kolkata");
	struct ipam_tz *lh = load("Australia/Lord_Howe");

	(void)state;
	/* EDT from 2026-03-08 07:00 UTC to 2026-11-01 06:00 UTC */
	assert_int_equal(ipam_tz_to_local(ny, utc_of(2026, 3, 8, 7, 0, 0)),
			 utc_of(2026, 3, 8, 3, 0, 0));
	assert_int_equal(ipam_tz_to_utc(ny, utc_of(2026, 11, 1, 1, 30, 0)),
			 utc_of(2026, 11, 1, 5, 30, 0));
	assert_int_equal(ipam_tz_to_utc(ny, utc_of(2026, 3, 8, 2, 30, 0)),
			 utc_of(2026, 3, 8, 7, 30, 0));
	assert_int_equal(ipam_tz_to_utc(in, utc_of(2026, 6, 1, 5, 30, 0)),
			 utc_of(2026, 6, 1, 0, 0, 0));
	/* Lord Howe: +10:30, and +11 (half an hour of DST) from the first
	 * Sunday of October 02:00 to the first Sunday of April 02:00 */
	assert_int_equal(ipam_tz_to_local(lh, utc_of(2026, 7, 1, 0, 0, 0)) -
				 utc_of(2026, 7, 1, 0, 0, 0),
			 10 * 3600 + 1800);
	assert_int_equal(ipam_tz_to_local(lh, utc_of(2026, 12, 1, 0, 0, 0)) -
				 utc_of(2026, 12, 1, 0, 0, 0),
			 11 * 3600);
	/* 2026-10-04 02:00 local standard = 2026-10-03 15:30 UTC */
	assert_int_equal(ipam_tz_to_local(lh, utc_of(2026, 10, 3, 15, 30, 0)),
			 utc_of(2026, 10, 4, 2, 30, 0));
	assert_int_equal(ipam_tz_to_utc(lh, utc_of(2026, 10, 4, 2, 15, 0)),
			 utc_of(2026, 10, 3, 15, 45, 0));
	ipam_tz_free(ny);
	ipam_tz_free(in);
	ipam_tz_free(lh);
}

/* A version 2+ file: an empty v1 block, then a v2 block of n
 * transitions (times, types) and the footer. */
static void tzif_build(struct strbuf *f, int version, size_t n,
		       const long long *times, const unsigned char *idx,
		       const int *offs, size_t ntypes, const char *footer)
{
	for (int pass = 0; pass < 2; pass++) {
		unsigned char h[44] = {'T', 'Z', 'i', 'f'};
		size_t tn = pass ? n : 0;
		uint32_t c[6] = {0, 0, 0, (uint32_t)tn, (uint32_t)ntypes, 4};

		h[4] = (unsigned char)('0' + version);
		for (int i = 0; i < 6; i++)
			for (int b = 0; b < 4; b++)
				h[20 + 4 * i + b] =
					(unsigned char)(c[i] >> (24 - 8 * b));
		strbuf_add(f, h, sizeof(h));
		for (size_t i = 0; i < tn; i++)
			for (int b = 0; b < 8; b++)
				strbuf_addch(
					f,
					(char)((unsigned long long)times[i] >>
					       (56 - 8 * b)));
		strbuf_add(f, idx, tn);
		for (size_t i = 0; i < ntypes; i++) {
			for (int b = 0; b < 4; b++)
				strbuf_addch(f, (char)((uint32_t)offs[i] >>
						       (24 - 8 * b)));
			strbuf_addch(f, (char)(i > 0));
			strbuf_addch(f, 0);
		}
		strbuf_add(f, "CET", 4);
	}
	strbuf_addf(f, "\n%s\n", footer);
}

static void test_slim_and_footer(void **state)
{
	struct strbuf f = STRBUF_INIT;
	struct ipam_tz *tz, *sys;
	int offs[] = {3600, 7200};
	long long t0 = utc_of(1996, 1, 1, 0, 0, 0);

	(void)state;
	/* no transitions at all: everything from the footer */
	tzif_build(&f, 2, 0, NULL, NULL, offs, 1, "CET-1CEST,M3.5.0,M10.5.0/3");
	assert_int_equal(ipam_tz_parse(&tz, (unsigned char *)f.buf, f.len), 0);
	sys = load("Europe/Berlin");
	for (long long t = t0; t < utc_of(2060, 1, 1, 0, 0, 0); t += 1799)
		if (ipam_tz_to_local(tz, t) != ipam_tz_to_local(sys, t))
			fail_msg("slim Berlin differs at %lld", t);
	ipam_tz_free(tz);
	ipam_tz_free(sys);

	/* v3 rule times beyond 24 h, and J/n dates */
	strbuf_reset(&f);
	tzif_build(&f, 3, 0, NULL, NULL, offs, 1, "<+01>-1<+02>,J60/26,300/-1");
	assert_int_equal(ipam_tz_parse(&tz, (unsigned char *)f.buf, f.len), 0);
	/* J60 is 1 March; at 26:00 standard = 2 March 01:00 UTC */
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 3, 2, 1, 0, 0)) -
				 utc_of(2026, 3, 2, 1, 0, 0),
			 7200);
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 3, 2, 0, 59, 0)) -
				 utc_of(2026, 3, 2, 0, 59, 0),
			 3600);
	/* day 300 (0-based) of 2026 is 28 October; -1:00 in DST is
	 * 27 October 23:00 local = 21:00 UTC */
	assert_int_equal(ipam_tz_to_local(tz, utc_of(2026, 10, 27, 21, 0, 0)) -
				 utc_of(2026, 10, 27, 21, 0, 0),
			 3600);
	ipam_tz_free(tz);

	/* a transition then the footer for later times */
	strbuf_reset(&f);
	{
		long long times[] = {utc_of(2000, 1, 1, 0, 0, 0)};
		unsigned char idx[] = {1};

		tzif_build(&f, 4, 1, times, idx, offs, 2, "XXX-5");
		assert_int_equal(
			ipam_tz_parse(&tz, (unsigned char *)f.buf, f.len), 0);
		assert_int_equal(ipam_tz_to_local(tz, times[0] - 1),
				 times[0] - 1 + 3600);
		assert_int_equal(ipam_tz_to_local(tz, times[0] + 5),
				 times[0] + 5 + 5 * 3600);
		ipam_tz_free(tz);
	}
	strbuf_release(&f);
}

static void test_malformed(void **state)
{
	struct strbuf f = STRBUF_INIT;
	struct ipam_tz *tz = (struct ipam_tz *)&f;
	int offs[] = {3600};
	static const char *const footers[] = {
		"CET", "CET-1CEST,M13.5.0,M10.5.0",    "CET-1CEST,M3.5.0",
		"C-1", "CET-1CEST,M3.5.0/200,M10.5.0", "CET-25",
	};

	(void)state;
	assert_int_equal(ipam_tz_parse(&tz, (const unsigned char *)"TZi", 3),
			 IPAM_EINVAL);
	assert_null(tz);
	tzif_build(&f, 2, 0, NULL, NULL, offs, 1, "CET-1");
	for (size_t n = 0; n < f.len - 1; n++)
		assert_int_not_equal(
			ipam_tz_parse(&tz, (unsigned char *)f.buf, n), 0);
	f.buf[4] = '9';
	assert_int_equal(ipam_tz_parse(&tz, (unsigned char *)f.buf, f.len),
			 IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "version"));
	for (size_t i = 0; i < sizeof(footers) / sizeof(footers[0]); i++) {
		strbuf_reset(&f);
		tzif_build(&f, 2, 0, NULL, NULL, offs, 1, footers[i]);
		assert_int_equal(
			ipam_tz_parse(&tz, (unsigned char *)f.buf, f.len),
			IPAM_EINVAL);
		assert_non_null(strstr(ipam_error_last(), "footer"));
	}
	strbuf_release(&f);
}

static void test_names_and_db(void **state)
{
	struct ipam_tz *tz;
	char *dir = tmpdir_make(), *path;

	(void)state;
	assert_true(ipam_tz_name_valid("Europe/Berlin"));
	assert_true(ipam_tz_name_valid("Etc/GMT+5"));
	assert_true(ipam_tz_name_valid("America/Port-au-Prince"));
	assert_false(ipam_tz_name_valid("../../etc/passwd"));
	assert_false(ipam_tz_name_valid("/etc/localtime"));
	assert_false(ipam_tz_name_valid("Europe/"));
	assert_false(ipam_tz_name_valid(""));
	assert_false(ipam_tz_name_valid("Europe/Ber lin"));
	assert_false(ipam_tz_name_valid("Europe//Berlin"));

	assert_int_equal(ipam_tzdb_load(&tz, NULL), 0);
	assert_int_equal(ipam_tz_to_utc(tz, 1000), 1000);
	ipam_tz_free(tz);
	assert_int_equal(ipam_tzdb_load(&tz, "UTC"), 0);
	assert_int_equal(ipam_tz_to_local(tz, 1000), 1000);
	ipam_tz_free(tz);
	assert_int_equal(ipam_tzdb_load(&tz, "Mars/Olympus_Mons"),
			 IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(),
			       "unknown time zone 'Mars/Olympus_Mons'"));
	assert_int_equal(ipam_tzdb_load(&tz, "../passwd"), IPAM_EINVAL);
	assert_int_equal(ipam_tzdb_load(&tz, "Europe"), IPAM_EINVAL);

	/* $TZDIR is where zones are looked up */
	path = xasprintf("%s/Test", dir);
	assert_int_equal(write_file(path, "not a zone"), 0);
	setenv("TZDIR", dir, 1);
	assert_int_equal(ipam_tzdb_load(&tz, "Test"), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "time zone 'Test'"));
	assert_int_equal(ipam_tzdb_load(&tz, "Europe/Berlin"), IPAM_ENOTFOUND);
	unsetenv("TZDIR");
	free(path);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_glibc),
		cmocka_unit_test(test_berlin_2026),
		cmocka_unit_test(test_other_zones),
		cmocka_unit_test(test_slim_and_footer),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_names_and_db),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
