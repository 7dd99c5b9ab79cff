/* collection: (intervals, retainDays) and timeZone in the desired state:
 * decoding, the checks with their positions, show-desired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "json.h"
#include "testutil.h"

#define SRC(text)                                                              \
	{                                                                      \
		"v.yaml", (text), sizeof(text) - 1                             \
	}
#define BASE                                                                   \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: gpo, gpoPrefix: IPAM}\n"

/* The diagnostics of loading text, one line each; *out the state. */
static char *load(const char *text, struct ipam_desired **out)
{
	const struct ipam_source src = {"v.yaml", text, strlen(text)};
	struct ipam_diags d = {0};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	ipam_config_load_sources(out, &src, 1, &d);
	for (i = 0; i < d.nr; i++) {
		ipam_diag_format(&sb, &d.items[i]);
		strbuf_addch(&sb, '\n');
	}
	ipam_diags_free(&d);
	return strbuf_detach(&sb, NULL);
}

static void expect_error(const char *text, const char *want)
{
	struct ipam_desired *d = NULL;
	char *msg = load(text, &d);

	if (!strstr(msg, want))
		fail_msg("want '%s' in:\n%s", want, msg);
	assert_null(d);
	free(msg);
}

static void test_duration(void **state)
{
	long long s;

	(void)state;
	assert_int_equal(ipam_decode_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(ipam_decode_duration("1h", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(ipam_decode_duration("6h", &s), 0);
	assert_int_equal(s, 6 * 3600);
	assert_int_equal(ipam_decode_duration("1d", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(ipam_decode_duration("1h30m", &s), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(ipam_decode_duration("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(ipam_decode_duration("365d", &s), 0);
	assert_int_equal(ipam_decode_duration("366d", &s), -1);
	assert_int_equal(ipam_decode_duration("99999999999999999999d", &s), -1);
	assert_int_equal(ipam_decode_duration("", &s), -1);
	assert_int_equal(ipam_decode_duration("15", &s), -1);
	assert_int_equal(ipam_decode_duration("m", &s), -1);
	assert_int_equal(ipam_decode_duration("15 m", &s), -1);
	assert_int_equal(ipam_decode_duration("15M", &s), -1);
	assert_int_equal(ipam_decode_duration("-1h", &s), -1);
	assert_int_equal(ipam_decode_duration("1w", &s), -1);
}

static void test_tz_name_syntax(void **state)
{
	(void)state;
	assert_true(ipam_decode_tz_name_ok("UTC"));
	assert_true(ipam_decode_tz_name_ok("Europe/Berlin"));
	assert_true(ipam_decode_tz_name_ok("America/Argentina/Buenos_Aires"));
	assert_true(ipam_decode_tz_name_ok("Etc/GMT+1"));
	assert_true(ipam_decode_tz_name_ok("America/Port-au-Prince"));
	assert_false(ipam_decode_tz_name_ok(""));
	assert_false(ipam_decode_tz_name_ok("/etc/localtime"));
	assert_false(ipam_decode_tz_name_ok("Europe/../../etc/passwd"));
	assert_false(ipam_decode_tz_name_ok(".."));
	assert_false(ipam_decode_tz_name_ok("Europe/Berlin "));
	assert_false(ipam_decode_tz_name_ok("Europe\\Berlin"));
	assert_false(ipam_decode_tz_name_ok("Europe/Berlin\n"));
}

static void test_collection_defaults_and_values(void **state)
{
	struct ipam_desired *d = NULL;
	char *msg;

	(void)state;
	msg = load(BASE, &d);
	assert_string_equal(msg, "");
	assert_int_equal(d->collection.pos.line, 0);
	assert_int_equal(ipam_collection_interval(&d->collection,
						  IPAM_TASK_AVAILABILITY),
			 900);
	assert_int_equal(
		ipam_collection_interval(&d->collection, IPAM_TASK_DNS),
		6 * 3600);
	assert_int_equal(ipam_collection_retain_days(&d->collection), 365);
	ipam_desired_free(d);
	free(msg);

	msg = load(BASE "collection:\n"
			"  intervals:\n"
			"    availability: 1m\n"
			"    audit: \"2h\"\n"
			"    dns: 1d\n"
			"  retainDays: 30\n",
		   &d);
	assert_string_equal(msg, "");
	assert_int_equal(d->collection.pos.line, 5);
	assert_int_equal(ipam_collection_interval(&d->collection,
						  IPAM_TASK_AVAILABILITY),
			 60);
	assert_int_equal(
		d->collection.interval_pos[IPAM_TASK_AVAILABILITY].line, 6);
	assert_int_equal(
		ipam_collection_interval(&d->collection, IPAM_TASK_AUDIT),
		7200);
	assert_int_equal(
		ipam_collection_interval(&d->collection, IPAM_TASK_DNS), 86400);
	assert_int_equal(
		ipam_collection_interval(&d->collection, IPAM_TASK_ZONES),
		1800);
	assert_int_equal(ipam_collection_retain_days(&d->collection), 30);
	ipam_desired_free(d);
	free(msg);
}

static void test_collection_refused(void **state)
{
	(void)state;
	expect_error(BASE "collection:\n  retain: 3\n",
		     "v.yaml:5:3: unknown key 'retain' in 'collection'");
	expect_error(BASE "collection:\n  intervals:\n    discover: 1h\n",
		     "v.yaml:6:5: unknown key 'discover' in "
		     "'collection.intervals' (did you mean 'discovery'?)");
	expect_error(BASE "collection:\n  intervals:\n    availability: 30s\n",
		     "v.yaml:6:19: 'availability' must be at least 1m, got "
		     "'30s'");
	expect_error(BASE "collection:\n  intervals:\n    zones: 15\n",
		     "v.yaml:6:12: 'zones' needs a unit: a duration such as "
		     "15m, 1h, 6h or 1d, got 15");
	expect_error(BASE "collection:\n  intervals:\n    dns: 1 week\n",
		     "v.yaml:6:10: 'dns' must be a duration such as 15m, 1h, "
		     "6h or 1d (at most 365d), got '1 week'");
	expect_error(BASE "collection:\n  intervals:\n    audit: [1h]\n",
		     "v.yaml:6:12: 'audit' must be a string, got a list");
	expect_error(BASE "collection:\n  intervals: 1h\n",
		     "v.yaml:5:14: 'intervals' must be a mapping, got a "
		     "string");
	expect_error(BASE "collection:\n  retainDays: 0\n",
		     "v.yaml:5:15: 'retainDays' must be between 1 and 36500, "
		     "got 0");
	expect_error(BASE "collection:\n  retainDays: 36501\n",
		     "v.yaml:5:15: 'retainDays' must be between 1 and 36500, "
		     "got 36501");
	expect_error(BASE "collection:\n  retainDays: 1y\n",
		     "v.yaml:5:15: 'retainDays' must be an integer, got a "
		     "string");
	expect_error(BASE "collection: []\n",
		     "v.yaml:4:13: 'collection' must be a mapping, got a list");
}

#define DOMAINS                                                                \
	BASE "discovery:\n"                                                    \
	     "  - domain: corp.example.test\n"                                 \
	     "    timeZone: Europe/Berlin\n"                                   \
	     "  - domain: branch.example.test\n"                               \
	     "servers:\n"

static void test_time_zone(void **state)
{
	struct ipam_desired *d = NULL;
	struct ipam_node *n;
	struct strbuf js = STRBUF_INIT;
	char *msg;

	(void)state;
	unsetenv("TZDIR");
	msg = load(DOMAINS "  - name: dhcp1.corp.example.test\n"
			   "    timeZone: America/New_York\n"
			   "  - name: dhcp2.corp.example.test\n",
		   &d);
	assert_string_equal(msg, "");
	assert_string_equal(ipam_desired_find_domain(d, "corp.example.test")
				    ->time_zone.value,
			    "Europe/Berlin");
	assert_null(ipam_desired_find_domain(d, "branch.example.test")
			    ->time_zone.value);
	assert_string_equal(
		ipam_desired_find_server(d, "dhcp1.corp.example.test")
			->time_zone.value,
		"America/New_York");
	assert_null(ipam_desired_find_server(d, "dhcp2.corp.example.test")
			    ->time_zone.value);
	n = ipam_desired_to_node(d);
	assert_int_equal(ipam_json_write(&js, n, IPAM_JSON_SORT_KEYS), 0);
	assert_non_null(strstr(js.buf, "\"timeZone\":\"Europe/Berlin\""));
	assert_non_null(strstr(js.buf, "\"timeZone\":\"America/New_York\""));
	assert_null(strstr(js.buf, "\"collection\""));
	strbuf_release(&js);
	ipam_node_free(n);
	ipam_desired_free(d);
	free(msg);
}

static void test_time_zone_refused(void **state)
{
	(void)state;
	unsetenv("TZDIR");
	expect_error(DOMAINS "  - name: dhcp1.corp.example.test\n"
			     "    timeZone: ../../etc/passwd\n",
		     "v.yaml:10:15: 'timeZone' must be an IANA time zone name "
		     "such as Europe/Berlin or UTC, got '../../etc/passwd'");
	expect_error(DOMAINS "  - name: dhcp1.corp.example.test\n"
			     "    timeZone: /etc/localtime\n",
		     "v.yaml:10:15: 'timeZone' must be an IANA");
	expect_error(DOMAINS "  - name: dhcp1.corp.example.test\n"
			     "    timeZone: 1\n",
		     "v.yaml:10:15: 'timeZone' must be a string, got an "
		     "integer");
	/* well formed, but no such zone on this machine */
	expect_error(DOMAINS "  - name: dhcp1.corp.example.test\n"
			     "    timeZone: Mars/Olympus_Mons\n",
		     "v.yaml:10:15: unknown timeZone 'Mars/Olympus_Mons': no "
		     "time zone file /usr/share/zoneinfo/Mars/Olympus_Mons");
	/* a directory of the database is no zone */
	expect_error(DOMAINS "  - name: dhcp1.corp.example.test\n"
			     "    timeZone: Europe\n",
		     "v.yaml:10:15: unknown timeZone 'Europe'");
	expect_error(BASE "discovery:\n"
			  "  - domain: corp.example.test\n"
			  "    timeZone: Europe/Berlín\n",
		     "v.yaml:6:15: 'timeZone' must be an IANA");
	expect_error(BASE "discovery:\n"
			  "  - domain: corp.example.test\n"
			  "    timezone: UTC\n",
		     "v.yaml:6:5: unknown key 'timezone' in a discovery entry "
		     "(did you mean 'timeZone'?)");
}

#define PLAIN                                                                  \
	BASE "discovery:\n"                                                    \
	     "  - domain: corp.example.test\n"                                 \
	     "servers:\n"

/* $TZDIR names the zone database the names are looked up in. */
static void test_time_zone_tzdir(void **state)
{
	char *dir = tmpdir_make(), *sub, *file, *msg;
	struct ipam_desired *d = NULL;

	(void)state;
	sub = xasprintf("%s/Lab", dir);
	file = xasprintf("%s/Lab/Zone", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(write_file(file, "TZif2...."), 0);
	setenv("TZDIR", dir, 1);
	msg = load(PLAIN "  - name: dhcp1.corp.example.test\n"
			 "    timeZone: Lab/Zone\n",
		   &d);
	assert_string_equal(msg, "");
	assert_non_null(d);
	ipam_desired_free(d);
	free(msg);
	/* present in /usr/share/zoneinfo, not under $TZDIR */
	expect_error(PLAIN "  - name: dhcp1.corp.example.test\n"
			   "    timeZone: Europe/Paris\n",
		     "unknown timeZone 'Europe/Paris': no time zone file");
	/* not a TZif file */
	assert_int_equal(write_file(file, "hello"), 0);
	expect_error(PLAIN "  - name: dhcp1.corp.example.test\n"
			   "    timeZone: Lab/Zone\n",
		     "v.yaml:8:15: unknown timeZone 'Lab/Zone'");
	unsetenv("TZDIR");
	free(sub);
	free(file);
	tmpdir_remove(dir);
}

static void test_show_desired_collection(void **state)
{
	struct ipam_desired *d = NULL;
	struct ipam_node *n;
	struct strbuf js = STRBUF_INIT;
	char *msg;

	(void)state;
	msg = load(BASE "collection:\n"
			"  intervals: {availability: 90m, dns: 1d}\n",
		   &d);
	assert_string_equal(msg, "");
	n = ipam_desired_to_node(d);
	assert_int_equal(ipam_json_write(&js, n, IPAM_JSON_SORT_KEYS), 0);
	assert_non_null(strstr(js.buf,
			       "\"collection\":{\"intervals\":{\"access\":"
			       "\"1h\",\"audit\":\"1h\",\"availability\":"
			       "\"1h30m\",\"discovery\":\"1h\",\"dns\":\"1d\","
			       "\"zones\":\"30m\"},\"retainDays\":365}"));
	strbuf_release(&js);
	ipam_node_free(n);
	ipam_desired_free(d);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_tz_name_syntax),
		cmocka_unit_test(test_collection_defaults_and_values),
		cmocka_unit_test(test_collection_refused),
		cmocka_unit_test(test_time_zone),
		cmocka_unit_test(test_time_zone_refused),
		cmocka_unit_test(test_time_zone_tzdir),
		cmocka_unit_test(test_show_desired_collection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
