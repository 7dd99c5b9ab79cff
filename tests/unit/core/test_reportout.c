/*
 * The report's renderers: a model (tests/fixtures/report/model.json, the
 * JSON of a state database full of hostile values, valid against
 * schemas/report.schema.json) rendered as HTML and Markdown, compared with
 * the golden files beside it; every hostile value shows as text; the
 * escaping functions alone on the nasty cases.
 * IPAM_REPORT_REGEN=1 rewrites the golden files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "node.h"
#include "reportout.h"
#include "strbuf.h"
#include "testutil.h"

static char *fixture(const char *name)
{
	return xasprintf("%s/report/%s", fixtures_dir(), name);
}

static struct ipam_node *model(void)
{
	char *path = fixture("model.json"), *text;
	size_t len = 0;
	struct ipam_node *n = NULL;

	text = slurp(path, &len);
	assert_non_null(text);
	assert_int_equal(ipam_json_parse(&n, path, text, len), 0);
	free(text);
	free(path);
	return n;
}

static void check_golden(const char *name, const char *got)
{
	char *path = fixture(name), *want;
	size_t len = 0;

	if (getenv("IPAM_REPORT_REGEN"))
		assert_int_equal(write_file(path, got), 0);
	want = slurp(path, &len);
	if (!want)
		fail_msg("cannot read %s", path);
	if (len != strlen(got) || memcmp(want, got, len))
		fail_msg("%s differs; rendered:\n%s", path, got);
	free(want);
	free(path);
}

static void test_model_valid(void **state)
{
	char *path = fixture("model.json"), *text = slurp(path, NULL);

	(void)state;
	schema_check("report.schema.json", text);
	free(text);
	free(path);
}

/* Nothing of the hostile values is markup: no element but ours. */
static void no_injection(const char *html)
{
	static const char *const bad[] = {
		"<script",    "<img",	   "<svg onload", "<b>",
		"onerror=\"", "pwned=3</", "\x1b",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(html, bad[i]))
			fail_msg("'%s' in the HTML", bad[i]);
}

static void test_html(void **state)
{
	struct ipam_node *m = model();
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_reportout_html(&sb, m);
	check_golden("golden.html", sb.buf);
	no_injection(sb.buf);
	/* shown as text */
	assert_non_null(strstr(sb.buf, "&lt;script&gt;document.body.dataset."
				       "pwned=3&lt;/script&gt;"));
	assert_non_null(strstr(sb.buf, "&lt;img src=x onerror=&quot;document."
				       "body.dataset.pwned=2&quot;&gt;"));
	assert_non_null(strstr(sb.buf, "newline &apos;quoted&apos; &amp; "
				       "\\x1b[31m"));
	/* no script, nothing fetched */
	assert_null(strstr(sb.buf, " src=\""));
	assert_null(strstr(sb.buf, "href=\"http"));
	assert_null(strstr(sb.buf, "url("));
	assert_non_null(strstr(sb.buf, "default-src 'none'"));
	/* an anchor per section, bars and sparklines */
	assert_non_null(strstr(sb.buf, "<section id=\"overview\">"));
	assert_non_null(strstr(sb.buf, "<section id=\"events\">"));
	assert_non_null(strstr(sb.buf, "<a href=\"#address-space\">"));
	assert_non_null(strstr(sb.buf, "<rect class=\"u optimal\" "
				       "width=\"79.9\""));
	assert_non_null(strstr(sb.buf, "<polyline class=\"sp\" points=\"0.0,"
				       "17.2 33.3,12.6 66.7,8.2 100.0,4.6\""));
	/* access status in colour, the reasons shown */
	assert_non_null(strstr(sb.buf, "<td class=\"bad\" title=\"dhcp_rpc: "
				       "access denied &lt;img"));
	strbuf_release(&sb);
	ipam_node_free(m);
}

/* Every table row of md has as many unescaped pipes as its header. */
static void check_md_rows(const char *md)
{
	const char *line = md;
	int want = -1;

	while (*line) {
		const char *end = strchr(line, '\n');
		int pipes = 0;

		if (!end)
			end = line + strlen(line);
		for (const char *p = line; p < end; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				continue;
			}
			pipes += *p == '|';
		}
		if (*line != '|')
			want = -1;
		else if (want < 0)
			want = pipes;
		else if (pipes != want)
			fail_msg("row with %d cells, header %d: %.*s", pipes,
				 want, (int)(end - line), line);
		line = *end ? end + 1 : end;
	}
}

static void test_markdown(void **state)
{
	struct ipam_node *m = model();
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_reportout_markdown(&sb, m);
	check_golden("golden.md", sb.buf);
	check_md_rows(sb.buf);
	no_injection(sb.buf);
	assert_non_null(strstr(sb.buf, "pipe \\| and<br>newline"));
	assert_non_null(strstr(sb.buf, "| a\\|b\\`c\\*d\\_e |"));
	assert_non_null(strstr(sb.buf, "\u2581\u2583\u2585\u2587"));
	strbuf_release(&sb);
	ipam_node_free(m);
}

static char *html_of(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_reportout_html_escape(&sb, s);
	return strbuf_detach(&sb, NULL);
}

static char *md_of(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_reportout_md_cell(&sb, s);
	return strbuf_detach(&sb, NULL);
}

static void test_escape(void **state)
{
	static const struct {
		const char *in, *html, *md;
	} cases[] = {
		{"<script>alert(1)</script>",
		 "&lt;script&gt;alert(1)&lt;/script&gt;",
		 "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"<img src=x onerror='a()'>",
		 "&lt;img src=x onerror=&apos;a()&apos;&gt;",
		 "&lt;img src=x onerror=&apos;a()&apos;&gt;"},
		{"a\"b&c", "a&quot;b&amp;c", "a&quot;b&amp;c"},
		{"x|y\nz", "x|y\\nz", "x\\|y<br>z"},
		{"a\r\nb", "a\\r\\nb", "a<br>b"},
		{"esc\x1b[2Jbell\x07", "esc\\x1b[2Jbell\\x07",
		 "esc\\\\x1b\\[2Jbell\\\\x07"},
		{"bad \xff byte", "bad \\xff byte", "bad \\\\xff byte"},
		{"&lt;", "&amp;lt;", "&amp;lt;"},
		{"", "", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *h = html_of(cases[i].in), *m = md_of(cases[i].in);

		if (strcmp(h, cases[i].html))
			fail_msg("html of case %zu: %s", i, h);
		if (strcmp(m, cases[i].md))
			fail_msg("markdown of case %zu: %s", i, m);
		free(h);
		free(m);
	}
}

static void test_get(void **state)
{
	struct ipam_node *m = model();
	const struct ipam_node *v;

	(void)state;
	v = ipam_reportout_get(m, "overview.servers.total");
	assert_non_null(v);
	assert_int_equal(v->num, 3);
	assert_null(ipam_reportout_get(m, "overview.nope"));
	assert_null(ipam_reportout_get(m, "overview.servers.total.x"));
	ipam_node_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_valid),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
