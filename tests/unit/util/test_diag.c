#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"

static void test_sorted_deduplicated_formatted(void **state)
{
	struct ipam_diags d = {0};
	struct ipam_pos b9 = {"b.yaml", 9, 1}, a3 = {"a.yaml", 3, 7},
			a12 = {"a.yaml", 12, 2}, a3b = {"a.yaml", 3, 2};
	struct strbuf sb = STRBUF_INIT;
	char file[] = "b.yaml";
	struct ipam_pos owned = {file, 1, 1};

	(void)state;
	ipam_diag_error(&d, &b9, "late");
	ipam_diag_error(&d, &a12, "twelve");
	ipam_diag_warn(&d, &a3, "a warning");
	ipam_diag_error(&d, &a3b, "first");
	ipam_diag_error(&d, &a12, "twelve"); /* exact duplicate */
	ipam_diag_error(&d, &owned, "copied name");
	file[0] = 'X'; /* the diagnostic keeps its own copy */
	assert_int_equal(d.errors, 5);
	ipam_diags_sort(&d);
	assert_int_equal(d.nr, 5);
	assert_int_equal(d.errors, 4);
	ipam_diag_format(&sb, &d.items[0]);
	assert_string_equal(sb.buf, "a.yaml:3:2: first");
	strbuf_reset(&sb);
	ipam_diag_format(&sb, &d.items[1]);
	assert_string_equal(sb.buf, "a.yaml:3:7: warning: a warning");
	strbuf_reset(&sb);
	ipam_diag_format(&sb, &d.items[2]);
	assert_string_equal(sb.buf, "a.yaml:12:2: twelve");
	strbuf_reset(&sb);
	ipam_diag_format(&sb, &d.items[3]);
	assert_string_equal(sb.buf, "b.yaml:1:1: copied name");
	strbuf_release(&sb);
	ipam_diags_free(&d);
	ipam_diags_free(NULL);
}

/* A diagnostic quoting a YAML key or a file name full of controls stays
 * one line of visible text. */
static void test_format_escapes(void **state)
{
	struct ipam_diags d = {0};
	struct ipam_pos pos = {"e\x1b[2Jvil.yaml", 4, 1};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_diag_error(&d, &pos, "unknown key '%s'", "k\x1b]0;t\x07\r\n");
	ipam_diag_format(&sb, &d.items[0]);
	assert_string_equal(sb.buf, "e\\x1b[2Jvil.yaml:4:1: unknown key "
				    "'k\\x1b]0;t\\x07\\r\\n'");
	strbuf_release(&sb);
	ipam_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_deduplicated_formatted),
		cmocka_unit_test(test_format_escapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
