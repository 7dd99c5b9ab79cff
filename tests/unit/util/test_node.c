#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node.h"

/* Optional strings in output: a JSON null, never "(null)" or a crash. */
static void test_str_or_null(void **state)
{
	struct ipam_node *n;

	(void)state;
	n = ipam_node_str_or_null(NULL);
	assert_non_null(n);
	assert_int_equal(n->kind, IPAM_NODE_NULL);
	assert_null(n->str);
	ipam_node_free(n);

	n = ipam_node_str_or_null("dc1");
	assert_int_equal(n->kind, IPAM_NODE_STR);
	assert_string_equal(n->str, "dc1");
	assert_int_equal(n->len, 3);
	ipam_node_free(n);

	/* empty is a string, not null */
	n = ipam_node_str_or_null("");
	assert_int_equal(n->kind, IPAM_NODE_STR);
	assert_string_equal(n->str, "");
	assert_int_equal(n->len, 0);
	ipam_node_free(n);
}

/* The value is copied: the caller's buffer may go. */
static void test_str_or_null_copies(void **state)
{
	char buf[] = "sysvol";
	struct ipam_node *map = ipam_node_new(IPAM_NODE_MAP);

	(void)state;
	ipam_node_set(map, "share", ipam_node_str_or_null(buf));
	ipam_node_set(map, "none", ipam_node_str_or_null(NULL));
	buf[0] = 'X';
	assert_int_equal(map->nr, 2);
	assert_string_equal(map->items[0]->str, "sysvol");
	assert_int_equal(map->items[1]->kind, IPAM_NODE_NULL);
	ipam_node_free(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_or_null),
		cmocka_unit_test(test_str_or_null_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
