#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "yamlio.h"

static struct ipam_node *parse_ok(const char *text)
{
	struct ipam_diags d = {0};
	struct ipam_node *n = NULL;

	assert_int_equal(ipam_yaml_parse(&n, "t.yaml", text, strlen(text), &d),
			 0);
	assert_int_equal(d.nr, 0);
	ipam_diags_free(&d);
	return n;
}

/* Parse text expecting failure; returns the single diagnostic text. */
static char *parse_err(const char *text, size_t len)
{
	struct ipam_diags d = {0};
	struct ipam_node *n = NULL;
	struct strbuf sb = STRBUF_INIT;

	assert_int_not_equal(ipam_yaml_parse(&n, "t.yaml", text, len, &d), 0);
	assert_null(n);
	assert_int_equal(d.nr, 1);
	ipam_diag_format(&sb, &d.items[0]);
	ipam_diags_free(&d);
	return strbuf_detach(&sb, NULL);
}

static void test_positions(void **state)
{
	struct ipam_node *n =
		parse_ok("version: 1\nservers:\n  - name: \"dhcp1\"\n");
	const struct ipam_node *servers, *item;

	(void)state;
	assert_int_equal(n->kind, IPAM_NODE_MAP);
	assert_int_equal(n->nr, 2);
	assert_string_equal(n->keys[0]->str, "version");
	assert_int_equal(n->keys[0]->pos.line, 1);
	assert_int_equal(n->keys[0]->pos.col, 1);
	assert_int_equal(n->items[0]->pos.col, 10);
	assert_int_equal(n->items[0]->style, IPAM_SCALAR_PLAIN);
	servers = n->items[1];
	assert_int_equal(servers->kind, IPAM_NODE_SEQ);
	item = servers->items[0];
	assert_int_equal(item->kind, IPAM_NODE_MAP);
	assert_int_equal(item->items[0]->pos.line, 3);
	assert_int_equal(item->items[0]->pos.col, 11);
	assert_int_equal(item->items[0]->style, IPAM_SCALAR_QUOTED);
	assert_string_equal(item->items[0]->str, "dhcp1");
	assert_string_equal(item->items[0]->pos.file, "t.yaml");
	ipam_node_free(n);
}

static void test_columns_count_characters(void **state)
{
	/* "é" is two bytes but one column. */
	struct ipam_node *n = parse_ok("owner: é\nx: [é, y]\n");

	(void)state;
	assert_int_equal(n->items[1]->items[1]->pos.col, 8);
	ipam_node_free(n);
}

static void test_empty_documents(void **state)
{
	(void)state;
	assert_null(parse_ok(""));
	assert_null(parse_ok("# only a comment\n\n"));
	assert_null(parse_ok("---\n"));
	assert_null(parse_ok("~\n"));
}

static void test_aliases_share_nodes(void **state)
{
	struct ipam_node *n = parse_ok("a: &x {k: v}\nb: *x\n");
	const struct ipam_node *b;

	(void)state;
	b = n->items[1];
	assert_int_equal(b->kind, IPAM_NODE_ALIAS);
	assert_int_equal(b->pos.line, 2);
	assert_ptr_equal(ipam_node_deref(b), n->items[0]);
	ipam_node_free(n);
}

static void test_alias_bomb_refused(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *msg;
	int i, j;

	(void)state;
	strbuf_addstr(&sb, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 9; i++) {
		strbuf_addf(&sb, "a%d: &a%d [", i, i);
		for (j = 0; j < 10; j++)
			strbuf_addf(&sb, "%s*a%d", j ? ", " : "", i - 1);
		strbuf_addstr(&sb, "]\n");
	}
	msg = parse_err(sb.buf, sb.len);
	assert_non_null(strstr(msg, "expands the document past 100000 nodes"));
	assert_non_null(strstr(msg, "t.yaml:"));
	free(msg);
	strbuf_release(&sb);
}

static void test_recursive_alias_refused(void **state)
{
	char *msg = parse_err("a: &r [x, *r]\n", 14);

	(void)state;
	assert_string_equal(msg, "t.yaml:1:11: alias '*r' refers to a node "
				 "that contains it");
	free(msg);
}

static void test_unknown_alias(void **state)
{
	char *msg = parse_err("a: *nope\n", 9);

	(void)state;
	assert_non_null(strstr(msg, "t.yaml:1:4:"));
	free(msg);
}

static void test_depth_limit(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *msg;
	int i;

	(void)state;
	for (i = 0; i < 200; i++)
		strbuf_addch(&sb, '[');
	for (i = 0; i < 200; i++)
		strbuf_addch(&sb, ']');
	msg = parse_err(sb.buf, sb.len);
	assert_string_equal(msg, "t.yaml:1:65: nesting deeper than 64 levels: "
				 "refusing");
	free(msg);
	strbuf_release(&sb);
}

static void test_utf8_checked_with_position(void **state)
{
	char *msg;

	(void)state;
	msg = parse_err("a: b\nc: d\xc3\x28\n", 11);
	assert_string_equal(msg, "t.yaml:2:5: invalid UTF-8 byte 0xc3: the "
				 "desired state must be UTF-8 text");
	free(msg);
	/* overlong encoding of '/' */
	msg = parse_err("a: \xc0\xaf\n", 6);
	assert_non_null(strstr(msg, "t.yaml:1:4: invalid UTF-8"));
	free(msg);
	/* UTF-16 surrogate encoded in UTF-8 */
	msg = parse_err("a: \xed\xa0\x80\n", 7);
	assert_non_null(strstr(msg, "invalid UTF-8"));
	free(msg);
	msg = parse_err("a: b\0c\n", 7);
	assert_string_equal(msg, "t.yaml:1:5: NUL byte in input: not a text "
				 "file");
	free(msg);
}

static void test_syntax_error_position(void **state)
{
	char *msg = parse_err("a:\n  b: 1\n   c: 2\n", 18);

	(void)state;
	assert_string_equal(msg, "t.yaml:3:5: YAML syntax error: mapping "
				 "values are not allowed in this context");
	free(msg);
}

static void test_one_document_only(void **state)
{
	char *msg = parse_err("a: 1\n---\nb: 2\n", 14);

	(void)state;
	assert_string_equal(msg, "t.yaml:2:1: only one YAML document per file "
				 "is allowed");
	free(msg);
}

static void test_emit_quotes_ambiguous_strings(void **state)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *back;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	ipam_node_set_str(root, "s1", "true");
	ipam_node_set_str(root, "s2", "12");
	ipam_node_set_str(root, "s3", "");
	ipam_node_set_str(root, "s4", "plain text");
	ipam_node_set(root, "b", ipam_node_bool(true));
	ipam_node_set(root, "i", ipam_node_int(-3));
	assert_int_equal(ipam_yaml_emit(&out, root), 0);
	assert_non_null(strstr(out.buf, "s1: \"true\"\n"));
	assert_non_null(strstr(out.buf, "s2: \"12\"\n"));
	assert_non_null(strstr(out.buf, "s4: plain text\n"));
	assert_non_null(strstr(out.buf, "b: true\n"));
	assert_non_null(strstr(out.buf, "i: -3\n"));
	/* and it reads back as the same types */
	back = parse_ok(out.buf);
	assert_int_equal(back->items[0]->style, IPAM_SCALAR_QUOTED);
	assert_int_equal(back->items[4]->style, IPAM_SCALAR_PLAIN);
	assert_string_equal(back->items[2]->str, "");
	assert_int_equal(back->items[2]->style, IPAM_SCALAR_QUOTED);
	ipam_node_free(back);
	ipam_node_free(root);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_columns_count_characters),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_aliases_share_nodes),
		cmocka_unit_test(test_alias_bomb_refused),
		cmocka_unit_test(test_recursive_alias_refused),
		cmocka_unit_test(test_unknown_alias),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_utf8_checked_with_position),
		cmocka_unit_test(test_syntax_error_position),
		cmocka_unit_test(test_one_document_only),
		cmocka_unit_test(test_emit_quotes_ambiguous_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
