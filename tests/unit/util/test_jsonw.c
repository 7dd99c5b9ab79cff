/*
 * The streaming JSON writer: for any tree, the bytes ipam_json_write
 * (jansson) gives, in its four forms (compact or indented, keys as set or
 * sorted); fed to a sink in chunks or kept in its buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "json.h"
#include "jsonw.h"
#include "node.h"
#include "strbuf.h"
#include "yamlio.h"

static int sink_to(void *ctx, const char *data, size_t len)
{
	strbuf_add(ctx, data, len);
	return 0;
}

/* Both writers, every form, the same bytes. */
static void check_tree(const struct ipam_node *n)
{
	for (int flags = 0; flags < 4; flags++) {
		struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
		struct ipam_jsonw w;

		assert_int_equal(ipam_json_write(&want, n, flags), 0);
		ipam_jsonw_init(&w, flags & IPAM_JSON_PRETTY, sink_to, &got);
		ipam_jsonw_node(&w, n, flags & IPAM_JSON_SORT_KEYS);
		assert_int_equal(ipam_jsonw_finish(&w), 0);
		assert_string_equal(got.buf, want.buf);
		strbuf_release(&got);
		/* no sink: all of it in the buffer */
		ipam_jsonw_init(&w, flags & IPAM_JSON_PRETTY, NULL, NULL);
		ipam_jsonw_node(&w, n, flags & IPAM_JSON_SORT_KEYS);
		assert_int_equal(ipam_jsonw_finish(&w), 0);
		assert_string_equal(w.buf.buf, want.buf);
		strbuf_release(&w.buf);
		strbuf_release(&want);
	}
}

static void check_json_text(const char *text)
{
	struct ipam_node *n;

	assert_int_equal(ipam_json_parse(&n, "t.json", text, strlen(text)), 0);
	check_tree(n);
	ipam_node_free(n);
}

static void test_forms(void **state)
{
	(void)state;
	check_json_text("{}");
	check_json_text("[]");
	check_json_text("\"just a string\"");
	check_json_text("null");
	check_json_text("-9223372036854775807");
	check_json_text("{\"b\": 1, \"a\": [true, false, null, [], {}, "
			"[[1], {\"z\": {}, \"y\": []}]], \"ab\": \"\", "
			"\"A\": -3, \"\": \"empty key\"}");
	check_json_text("[{\"x\": \"q\\\"uote\\\\ \\t\\n\\r\\b\\f "
			"\\u0001\\u001f\\u007f \\u0080\\u009b\\u00a0 "
			"\\u20ac \\ud83d\\ude00\"}]");
}

/* Deep but within the bound, and the key order of a long map. */
static void test_nesting_and_order(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (int i = 0; i < IPAM_JSONW_MAX_DEPTH - 1; i++)
		strbuf_addstr(&sb, i % 2 ? "[" : "{\"k\": ");
	strbuf_addstr(&sb, "1");
	for (int i = IPAM_JSONW_MAX_DEPTH - 2; i >= 0; i--)
		strbuf_addstr(&sb, i % 2 ? "]" : "}");
	check_json_text(sb.buf);
	strbuf_reset(&sb);
	strbuf_addch(&sb, '{');
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&sb, "%s\"k%d\": %d", i ? ", " : "",
			    (i * 7919) % 3001, i);
	strbuf_addch(&sb, '}');
	check_json_text(sb.buf);
	strbuf_release(&sb);
}

/* A key set twice keeps its first place and its last value (jansson's
 * object), in either order; YAML aliases are followed. */
static void test_duplicate_keys_and_aliases(void **state)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *y;
	struct ipam_diags diags = {0};
	static const char yaml[] = "base: &b {x: 1, y: [a, b]}\n"
				   "copy: *b\n";

	(void)state;
	ipam_node_set(m, "z", ipam_node_int(1));
	ipam_node_set(m, "a", ipam_node_int(2));
	ipam_node_set(m, "z", ipam_node_int(3));
	ipam_node_set(m, "m", ipam_node_str("v"));
	ipam_node_set(m, "a", ipam_node_int(4));
	check_tree(m);
	ipam_node_free(m);
	assert_int_equal(
		ipam_yaml_parse(&y, "t.yaml", yaml, sizeof(yaml) - 1, &diags),
		0);
	check_tree(y);
	ipam_node_free(y);
	ipam_diags_free(&diags);
}

/* What jansson refuses, the writer refuses too. */
static void test_refused(void **state)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct strbuf sb = STRBUF_INIT;
	struct ipam_jsonw w;

	(void)state;
	ipam_node_set(m, "name", ipam_node_str("bad\xc3("));
	assert_int_not_equal(ipam_json_write(&sb, m, 0), 0);
	ipam_jsonw_init(&w, false, NULL, NULL);
	ipam_jsonw_node(&w, m, false);
	assert_int_not_equal(ipam_jsonw_finish(&w), 0);
	strbuf_release(&w.buf);
	ipam_node_free(m);
	assert_false(ipam_jsonw_valid("\xed\xa0\x80"));	    /* a surrogate */
	assert_false(ipam_jsonw_valid("\xc0\xaf"));	    /* overlong */
	assert_false(ipam_jsonw_valid("\xf4\x90\x80\x80")); /* > U+10FFFF */
	assert_true(ipam_jsonw_valid(NULL));
	assert_true(ipam_jsonw_valid("\xf4\x8f\xbf\xbf"));
	/* an unclosed container */
	ipam_jsonw_init(&w, true, NULL, NULL);
	ipam_jsonw_begin_seq(&w);
	assert_int_not_equal(ipam_jsonw_finish(&w), 0);
	strbuf_release(&w.buf);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_nesting_and_order),
		cmocka_unit_test(test_duplicate_keys_and_aliases),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
