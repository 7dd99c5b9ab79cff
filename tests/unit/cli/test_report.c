/*
 * ipamctl report of a state database made by `db init` (SQLite's file, or
 * a PostgreSQL database in the _pg variant) and filled with the sqlite3
 * shell or psql from tests/fixtures/report/hostile.sql (host names,
 * descriptions, reasons and DHCP log values carrying <script>, <img
 * onerror>, quotes, pipes, newlines, terminal escapes):
 * - JSON valid against schemas/report.schema.json, with the counts;
 * - --out written atomically with mode 0644, nothing else left behind;
 * - Markdown rows that keep their cells;
 * - the HTML in a real browser (Debian's chromium, headless, in a network
 *   namespace of its own: it can fetch nothing): the DOM it builds has no
 *   element the values injected and no mark a script would set, the
 *   values show as text, and a screenshot of each section (its anchor)
 *   is not blank (decoded by png_not_blank.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include "db.h"
#include "db_report.h"
#include "json.h"
#include "node.h"
#include "strbuf.h"
#include "testutil.h"

#define CHROMIUM "/usr/bin/chromium"

static const char *const sections[] = {
	"overview",  "servers",	     "gpos",   "address-space",
	"dns-zones", "availability", "events",
};

struct fx {
	char *dir, *db, *yaml;
};

/* SQL text written for SQLite, in the dialect of the backend under
 * test: PostgreSQL's chr(N) for SQLite's char(N), the one difference
 * of hostile.sql and this file's SQL. */
static char *dialect(const char *sql)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	if (!test_db_is_pg())
		return xstrdup(sql);
	while ((p = strstr(sql, "char("))) {
		strbuf_add(&sb, sql, (size_t)(p - sql));
		strbuf_addstr(&sb, "chr(");
		sql = p + 5;
	}
	strbuf_addstr(&sb, sql);
	return strbuf_detach(&sb, NULL);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *yaml, *sql, *path, *out, *text;
	struct run_result r;

	f->dir = tmpdir_make();
	f->db = test_db_new(f->dir);
	yaml = xasprintf("%s/d.yaml", f->dir);
	assert_int_equal(write_file(yaml,
				    "version: 1\n"
				    "ipamServer: ipam1.corp.example\n"
				    "provisioning:\n"
				    "  method: manual\n"
				    "discovery:\n"
				    "  - domain: corp.example\n"
				    "addressSpace:\n"
				    "  blocks:\n"
				    "    - cidr: 10.0.0.0/16\n"
				    "  ranges:\n"
				    "    - cidr: 10.0.0.0/24\n"
				    "      assignment: static\n"
				    "      description: 'lab <b>a</b>'\n"),
			 0);
	f->yaml = yaml;
	{
		char *const argv[] = {(char *)ipamctl_path(),
				      "db",
				      "init",
				      "-c",
				      yaml,
				      "--db",
				      f->db,
				      NULL};

		assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
		if (r.status)
			fail_msg("db init: %s", r.err);
		run_result_free(&r);
	}
	path = xasprintf("%s/report/hostile.sql", fixtures_dir());
	/* the sqlite3 shell reads the file; psql gets its text (-c) */
	if (test_db_is_pg()) {
		text = slurp(path, NULL);
		assert_non_null(text);
		sql = dialect(text);
		free(text);
	} else {
		sql = xasprintf(".read %s", path);
	}
	out = sqlite_query(f->db, sql);
	free(out);
	free(sql);
	free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f) /* its setup failed before it handed the fixture over */
		return 0;
	tmpdir_remove(f->dir);
	free(f->yaml);
	free(f->db);
	free(f);
	return 0;
}

static struct run_result report(const struct fx *f, const char *fmt,
				const char *out)
{
	char *const argv[] = {(char *)ipamctl_path(),
			      "report",
			      "-c",
			      f->yaml,
			      "--db",
			      f->db,
			      "-o",
			      (char *)fmt,
			      out ? "--out" : NULL,
			      (char *)out,
			      NULL};
	struct run_result r;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("report -o %s: %s", fmt, r.err);
	return r;
}

static const struct ipam_node *get(const struct ipam_node *m, const char *k)
{
	for (size_t i = 0; m && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, k))
			return m->items[i];
	fail_msg("no key %s", k);
	return NULL;
}

static void test_json(void **state)
{
	struct fx *f = *state;
	struct run_result r = report(f, "json", NULL);
	struct ipam_node *n = NULL;
	const struct ipam_node *srv, *ev, *space;

	schema_check("report.schema.json", r.out);
	assert_int_equal(ipam_json_parse(&n, "out", r.out, strlen(r.out)), 0);
	srv = get(get(n, "servers"), "items");
	assert_int_equal(srv->nr, 3);
	/* the blocked first, its reasons as stored */
	assert_string_equal(get(srv->items[0], "name")->str,
			    "dhcp1.corp.example");
	assert_string_equal(get(srv->items[0], "access")->str, "Blocked");
	assert_non_null(
		strstr(get(get(srv->items[0], "reasons"), "dhcp_rpc")->str,
		       "<img src=x onerror="));
	/* the exact text in JSON */
	assert_string_equal(get(srv->items[2], "name")->str,
			    "<script>document.body.dataset.pwned=3</script>");
	ev = get(n, "events");
	assert_int_equal(get(ev, "total")->num, 3);
	assert_int_equal(get(ev, "items")->nr, 3);
	assert_string_equal(get(get(ev, "items")->items[0], "ip")->str,
			    "10.0.0.12");
	/* the user name, out of the packed columns (bytes, not letters) */
	assert_string_equal(get(get(ev, "items")->items[2], "userName")->str,
			    "CORP\\\xc3\xa4lice<b>");
	assert_int_equal(get(get(ev, "items")->items[0], "userName")->kind,
			 IPAM_NODE_NULL);
	assert_int_equal(get(get(n, "gpos"), "items")->nr, 2);
	/* the address space: the latest sample and the trend, unmapped */
	space = get(n, "addressSpace");
	assert_string_equal(get(get(space, "items")->items[1], "name")->str,
			    "10.0.0.0/24");
	assert_string_equal(get(get(space, "items")->items[1], "percent")->str,
			    "82.0");
	assert_int_equal(get(get(space, "items")->items[1], "trend")->nr, 2);
	assert_string_equal(
		get(get(space, "items")->items[1], "description")->str,
		"lab <b>a</b>");
	assert_string_equal(
		get(get(space, "items")->items[1], "assignment")->str,
		"static");
	assert_int_equal(get(get(space, "unmapped"), "total")->num, 1);
	assert_string_equal(
		get(get(get(space, "unmapped"), "items")->items[0], "address")
			->str,
		"192.168.99.5");
	assert_true(
		get(get(get(n, "gpos"), "items")->items[1], "drift")->boolean);
	ipam_node_free(n);
	run_result_free(&r);
}

static void test_out_file(void **state)
{
	struct fx *f = *state;
	char *sub = xasprintf("%s/www", f->dir),
	     *path = xasprintf("%s/www/report.html", f->dir), *html;
	struct run_result r;
	struct stat st;
	struct dirent *e;
	DIR *d;
	int files = 0;

	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(write_file(path, "old"), 0);
	assert_int_equal(chmod(path, 0600), 0);
	r = report(f, "html", path);
	assert_string_equal(r.out, "");
	run_result_free(&r);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	html = slurp(path, NULL);
	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	d = opendir(sub);
	while ((e = readdir(d)))
		files += e->d_name[0] != '.' || strlen(e->d_name) > 2;
	closedir(d);
	assert_int_equal(files, 1); /* no temporary file left */
	free(sub);
	free(path);
}

static void test_markdown(void **state)
{
	struct fx *f = *state;
	struct run_result r = report(f, "markdown", NULL);

	assert_non_null(strstr(r.out, "## Server inventory\n"));
	assert_non_null(strstr(r.out, "pipe \\| and<br>newline &apos;quoted"
				      "&apos; &amp; \\\\x1b\\[31m"));
	assert_null(strstr(r.out, "<script"));
	assert_null(strstr(r.out, "\x1b"));
	run_result_free(&r);
}

/* chromium, headless, in a network namespace of its own, args after
 * its fixed flags. */
static struct run_result chromium(const struct fx *f, const char *a1,
				  const char *a2, const char *url)
{
	char *profile = xasprintf("%s/profile", f->dir);
	char *udd = xasprintf("--user-data-dir=%s", profile);
	char *const argv[] = {"/usr/bin/unshare",
			      "--net",
			      CHROMIUM,
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
			      (char *)a1,
			      (char *)a2,
			      (char *)url,
			      NULL};
	struct run_result r;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("chromium: %s", r.err);
	free(udd);
	free(profile);
	return r;
}

static void test_browser(void **state)
{
	struct fx *f = *state;
	char *html = xasprintf("%s/report.html", f->dir);
	char *url = xasprintf("file://%s", html);
	char *script = xasprintf("%s/report/png_not_blank.py", fixtures_dir());
	char *shots[sizeof(sections) / sizeof(sections[0]) + 3];
	struct run_result r;
	size_t n = 0;

	if (access(CHROMIUM, X_OK)) {
		print_message("chromium is not installed (ci/deps)\n");
		skip();
	}
	r = report(f, "html", html);
	run_result_free(&r);

	/* the DOM the browser built: the values are text, nothing ran */
	r = chromium(f, "--dump-dom", "--virtual-time-budget=1000", url);
	assert_non_null(strstr(r.out, "<section id=\"servers\">"));
	assert_null(strstr(r.out, "<script"));
	assert_null(strstr(r.out, "<img"));
	assert_null(strstr(r.out, "<b>"));
	assert_null(strstr(r.out, "<svg onload"));
	assert_null(strstr(r.out, "data-pwned="));
	assert_non_null(strstr(r.out, "&lt;script&gt;document.body.dataset."
				      "pwned=3&lt;/script&gt;"));
	assert_non_null(strstr(r.out, "&lt;img src=x onerror=\"document."
				      "body.dataset.pwned=2\"&gt;"));
	run_result_free(&r);

	/* a screenshot per section, each not blank */
	shots[n++] = "/usr/bin/python3";
	shots[n++] = script;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		char *png = xasprintf("%s/%s.png", f->dir, sections[i]);
		char *opt = xasprintf("--screenshot=%s", png);
		char *at = xasprintf("%s#%s", url, sections[i]);

		r = chromium(f, opt, "--window-size=1280,800", at);
		run_result_free(&r);
		shots[n++] = png;
		free(opt);
		free(at);
	}
	shots[n] = NULL;
	assert_int_equal(run_cmd(&r, NULL, NULL, shots), 0);
	if (r.status)
		fail_msg("blank screenshot:\n%s%s", r.out, r.err);
	print_message("%s", r.out);
	run_result_free(&r);
	for (size_t i = 2; i < n; i++)
		free(shots[i]);
	free(script);
	free(url);
	free(html);
}

/* The latest events come through the batches that can hold them; when
 * a partly pruned batch holds fewer than its id range says, the whole
 * table is read instead: the answer is the same. */
static void test_latest_events_past_a_pruned_batch(void **state)
{
	struct fx *f = *state;
	struct ipam_db_report_opts o = {
		.events = 2, .runs = 1, .trend = 1, .changes = 1};
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	const struct ipam_node *items;
	struct ipam_db *db;

	/* batch 1 says ids 1-2 but id 2 was pruned; batch 2 ends earlier */
	char *sql = dialect(
		"DELETE FROM dhcp_event_blocks; DELETE FROM dhcp_event_batches;"
		"INSERT INTO dhcp_event_batches (id, server_id, file, "
		"generation, seg, first_id, last_id, at_min, at_max) VALUES "
		"(1, 2, 'f', 1, 0, 1, 2, 1796000190, 1796000200), "
		"(2, 2, 'f', 1, 0, 3, 3, 1796000100, 1796000100);"
		"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "
		"at_max, events) VALUES (1, 1, 2, 1, 1796000190, 1796000190, "
		"'0,1796000190,0,4,10,1,,,,,' || char(10)), (3, 2, 3, 1, "
		"1796000100, 1796000100, '0,1796000100,0,4,11,3,,,,,' || "
		"char(10))");

	free(sqlite_query(f->db, sql));
	free(sql);
	assert_int_equal(ipam_db_open(&db, f->db, 0), 0);
	assert_int_equal(ipam_db_report_read(db, &o, root), 0);
	items = get(get(root, "events"), "items");
	assert_int_equal(items->nr, 2);
	assert_int_equal(get(items->items[0], "eventId")->num, 10);
	assert_int_equal(get(items->items[1], "eventId")->num, 11);
	ipam_node_free(root);
	ipam_db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_out_file),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_browser),
		cmocka_unit_test(test_latest_events_past_a_pruned_batch),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
