/*
 * The report of the lab, in a real browser.  The lab's desired state plus
 * ours: dc1, dhcp1 and dhcp2 managed, dhcp1's description (desired state,
 * so in the inventory) carrying <script> and <img onerror>, an
 * addressSpace over the lab's networks (dhcp1's scope a DHCP range; the
 * servers' /27 a static one, so ipam1 at 192.0.2.50 and dhcp1 at
 * 198.51.100.10 are unmapped) and report: {path, format: html}.
 *  (1) db init, apply, then one `reconcile`: the cycle wrote the report
 *      at report.path (mode 0644, a whole page);
 *  (2) `collect` (every task), then `report -o json`: valid against
 *      schemas/report.schema.json, every section holds the lab's data,
 *      the event count is the database shell's (the sum of n over
 *      dhcp_event_blocks), the zones are the ones collected;
 *  (3) `report -o html` rendered by headless Chromium in a network
 *      namespace of its own (nothing can be fetched): the DOM it built
 *      has no element the description injected and no mark its script
 *      would set, the description shows as text; a screenshot of each
 *      section (its anchor) is not blank (png_not_blank.py decodes it).
 * With IPAM_REPORT_SCREENSHOTS=DIR the screenshots are copied there as
 * report-<section>.png (ci/screenshots makes docs/ this way).
 * At the end the GPOs and IPAMUG this test made are removed.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

static struct labad_forest F[3];
static char *tmpdir, *db_path, *cfg_dir, *www;

static const char *const sections[] = {
	"overview",  "servers",	     "gpos",   "address-space",
	"dns-zones", "availability", "events",
};

#define HOSTILE                                                                \
	"<script>document.body.dataset.pwned=1</script>"                       \
	"<img src=x onerror=\"document.body.dataset.pwned=2\">"

static void write_config(void)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL), *path, *ours;

	cfg_dir = xasprintf("%s/config", tmpdir);
	assert_int_equal(mkdir(cfg_dir, 0700), 0);
	path = xasprintf("%s/10-lab.yaml", cfg_dir);
	assert_int_equal(lab_write_file(path, text, strlen(text)), 0);
	free(path);
	ours = xasprintf("servers:\n"
			 "  - name: dc1.corp.example.test\n"
			 "    manageability: managed\n"
			 "  - name: dhcp1.corp.example.test\n"
			 "    manageability: managed\n"
			 "    description: '%s'\n"
			 "  - name: dhcp2.corp.example.test\n"
			 "    roles: [dhcp]\n"
			 "    manageability: managed\n"
			 "addressSpace:\n"
			 "  blocks:\n"
			 "    - cidr: 198.51.100.0/24\n"
			 "      description: the DHCP segment\n"
			 "    - cidr: 192.0.2.0/24\n"
			 "      description: servers\n"
			 "  ranges:\n"
			 "    - start: 198.51.100.100\n"
			 "      end: 198.51.100.199\n"
			 "      assignment: dhcp\n"
			 "      dhcpServer: dhcp1.corp.example.test\n"
			 "    - cidr: 192.0.2.0/27\n"
			 "      assignment: static\n"
			 "report:\n"
			 "  path: %s/report.html\n"
			 "  format: html\n",
			 HOSTILE, www);
	path = xasprintf("%s/50-report.yaml", cfg_dir);
	assert_int_equal(lab_write_file(path, ours, strlen(ours)), 0);
	free(path);
	free(ours);
	free(text);
	free(src);
}

#define IPAMCTL(res, ...)                                                      \
	labad_run_ipamctl((res), "--db", db_path, "-c", cfg_dir, __VA_ARGS__,  \
			  NULL)

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	www = xasprintf("%s/www", tmpdir);
	assert_int_equal(mkdir(www, 0755), 0);
	write_config();
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	IPAMCTL(&res, "db", "init");
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	IPAMCTL(&res, "apply", "--auto-approve");
	labad_expect_exit(&res, 0, "ipamctl apply");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(cfg_dir);
	free(www);
	return 0;
}

static long sql_long(const char *q)
{
	char *out = sqlite_query(db_path, q);
	long v = strtol(out, NULL, 10);

	free(out);
	return v;
}

static const struct ipam_node *seq_at(const struct ipam_node *n, const char *a,
				      const char *b)
{
	const struct ipam_node *v = labad_jkey(labad_jkey(n, a), b);

	if (!v || v->kind != IPAM_NODE_SEQ)
		fail_msg("%s.%s is not a list", a, b);
	return v;
}

static bool seq_has(const struct ipam_node *seq, const char *key,
		    const char *value)
{
	for (size_t i = 0; i < seq->nr; i++) {
		const char *s = labad_jstr(seq->items[i], key);

		if (s && !strcmp(s, value))
			return true;
	}
	return false;
}

static void test_reconcile_writes(void **state)
{
	char *path = xasprintf("%s/report.html", www), *html;
	struct lab_run res;
	struct stat st;

	(void)state;
	IPAMCTL(&res, "reconcile");
	if (res.exit_code != 0 && res.exit_code != 2)
		fail_msg("%s", lab_run_describe(&res, "ipamctl reconcile"));
	lab_run_free(&res);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	html = lab_read_file(path, 16 * 1024 * 1024, NULL);
	assert_non_null(html);
	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	assert_non_null(strstr(html, "</html>\n"));
	assert_non_null(strstr(html, "dhcp1.corp.example.test"));
	free(html);
	free(path);
}

static void test_sections(void **state)
{
	struct lab_run res;
	struct ipam_node *n;
	const struct ipam_node *srv, *zones, *avail, *space;
	char *json = xasprintf("%s/report.json", tmpdir);

	(void)state;
	/* twice: two utilization samples, a trend */
	for (int i = 0; i < 2; i++) {
		IPAMCTL(&res, "collect");
		lab_run_free(&res); /* dhcp2 fails some tasks: its part */
	}
	IPAMCTL(&res, "report", "-o", "json");
	labad_expect_exit(&res, 0, "ipamctl report -o json");
	labad_schema_ok("report", res.out, res.out_len, json);
	n = labad_parse_json(res.out, res.out_len, "report -o json");
	lab_run_free(&res);

	srv = seq_at(n, "servers", "items");
	assert_true(seq_has(srv, "name", "dhcp1.corp.example.test"));
	assert_true(seq_has(srv, "description", HOSTILE));
	assert_true(seq_has(srv, "access", "Unblocked") ||
		    seq_has(srv, "access", "Blocked"));
	zones = seq_at(n, "dnsZones", "items");
	assert_int_equal((long)zones->nr,
			 sql_long("SELECT count(*) FROM dns_zones"));
	assert_true(seq_has(zones, "name", "corp.example.test"));
	avail = seq_at(n, "availability", "items");
	assert_int_equal((long)avail->nr,
			 sql_long("SELECT count(*) FROM availability"));
	assert_true(avail->nr > 0);
	assert_int_equal(labad_jkey(labad_jkey(n, "events"), "total")->num,
			 sql_long("SELECT sum(n) FROM dhcp_event_blocks"));
	assert_true(labad_jkey(labad_jkey(n, "events"), "total")->num > 0);
	space = labad_jkey(n, "addressSpace");
	assert_true(labad_jkey(space, "available")->boolean);
	assert_int_equal((long)seq_at(n, "addressSpace", "items")->nr,
			 sql_long("SELECT count(DISTINCT kind || name) FROM "
				  "utilization_samples"));
	assert_non_null(labad_jkey(space, "unmapped"));
	assert_true(seq_has(labad_jkey(labad_jkey(space, "unmapped"), "items"),
			    "address", "192.0.2.50"));
	assert_int_equal(seq_at(n, "overview", "tasks")->nr, 6);
	ipam_node_free(n);
	free(json);
}

/* chromium in a network namespace of its own: it can fetch nothing. */
static void chromium(const char *a1, const char *a2, const char *url,
		     struct lab_run *res)
{
	char *udd = xasprintf("--user-data-dir=%s/profile", tmpdir);
	const char *argv[] = {"unshare",
			      "--net",
			      "chromium",
			      "--headless",
			      "--no-sandbox",
			      "--disable-gpu",
			      "--hide-scrollbars",
			      "--no-first-run",
			      "--disable-background-networking",
			      "--disable-component-update",
			      "--disable-default-apps",
			      "--disable-extensions",
			      "--disable-sync",
			      "--no-pings",
			      udd,
			      a1,
			      a2,
			      url,
			      NULL};
	struct lab_run_opts o = {.timeout_ms = 120000,
				 .max_output = 64 * 1024 * 1024};

	lab_must_succeed(argv, &o, res);
	free(udd);
}

static void copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *data = lab_read_file(from, 16 * 1024 * 1024, &len);

	assert_non_null(data);
	assert_int_equal(lab_write_file(to, data, len), 0);
	assert_int_equal(chmod(to, 0644), 0);
	free(data);
}

static void test_browser(void **state)
{
	char *html = xasprintf("%s/lab.html", www);
	char *url = xasprintf("file://%s", html);
	char *script = xasprintf("%s/../report/png_not_blank.py",
				 lab_need_env("IPAM_LAB_FIXTURES"));
	const char *check[sizeof(sections) / sizeof(sections[0]) + 3];
	char *png[sizeof(sections) / sizeof(sections[0])];
	const char *keep = lab_env("IPAM_REPORT_SCREENSHOTS");
	struct lab_run res;
	size_t n = 0;

	(void)state;
	IPAMCTL(&res, "report", "-o", "html", "--out", html);
	labad_expect_exit(&res, 0, "ipamctl report -o html");
	lab_run_free(&res);

	chromium("--dump-dom", "--virtual-time-budget=1000", url, &res);
	assert_non_null(strstr(res.out, "<section id=\"address-space\">"));
	assert_non_null(strstr(res.out, "dhcp1.corp.example.test"));
	assert_null(strstr(res.out, "<script"));
	assert_null(strstr(res.out, "<img"));
	assert_null(strstr(res.out, "data-pwned="));
	assert_non_null(strstr(res.out, "&lt;script&gt;document.body.dataset"
					".pwned=1&lt;/script&gt;&lt;img src=x "
					"onerror=\"document.body.dataset."
					"pwned=2\"&gt;"));
	lab_run_free(&res);

	check[n++] = "python3";
	check[n++] = script;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		char *opt, *at;

		png[i] = xasprintf("%s/report-%s.png", tmpdir, sections[i]);
		opt = xasprintf("--screenshot=%s", png[i]);
		at = xasprintf("%s#%s", url, sections[i]);
		chromium(opt, "--window-size=1280,800", at, &res);
		lab_run_free(&res);
		check[n++] = png[i];
		free(opt);
		free(at);
	}
	check[n] = NULL;
	lab_must_succeed(check, NULL, &res);
	print_message("%s", res.out);
	lab_run_free(&res);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (keep) {
			char *to = xasprintf("%s/report-%s.png", keep,
					     sections[i]);

			copy_file(png[i], to);
			free(to);
		}
		free(png[i]);
	}
	free(script);
	free(url);
	free(html);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reconcile_writes),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_browser),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
