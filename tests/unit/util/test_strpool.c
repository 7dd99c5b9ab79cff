/*
 * The string pool: copies equal their source, interned strings are one
 * pointer per value, allocations are aligned and zeroed, and what spans
 * many blocks (and a block of its own) stays intact until the release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strbuf.h"
#include "strpool.h"

static void test_strpool_dup_intern(void **state)
{
	struct ipam_strpool p = {0};
	char *a = ipam_strpool_dup(&p, "corp.example.test");
	char *b = ipam_strpool_dup(&p, "corp.example.test");
	char *x = ipam_strpool_intern(&p, "Windows Server 2019");
	char *y = ipam_strpool_intern(&p, "Windows Server 2019");
	char *z = ipam_strpool_intern(&p, "Windows Server 2022");

	(void)state;
	assert_string_equal(a, "corp.example.test");
	assert_ptr_not_equal(a, b);
	assert_string_equal(b, a);
	assert_ptr_equal(x, y);
	assert_ptr_not_equal(x, z);
	assert_string_equal(z, "Windows Server 2022");
	assert_null(ipam_strpool_dup(&p, NULL));
	assert_null(ipam_strpool_intern(&p, NULL));
	assert_ptr_equal(ipam_strpool_intern(&p, ""),
			 ipam_strpool_intern(&p, ""));
	ipam_strpool_release(&p);
	assert_null(p.blocks);
}

static void test_strpool_many(void **state)
{
	enum { N = 50000 };
	struct ipam_strpool p = {0};
	char **dup = calloc(N, sizeof(*dup));
	char **in = calloc(N, sizeof(*in));
	char buf[64];
	char *big, *after;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "server%zu.corp.example.test", i);
		dup[i] = ipam_strpool_dup(&p, buf);
		snprintf(buf, sizeof(buf), "value %zu", i % 1000);
		in[i] = ipam_strpool_intern(&p, buf);
	}
	big = ipam_strpool_alloc(&p, 100000);
	for (size_t i = 0; i < 100000; i++)
		assert_int_equal(big[i], 0);
	memset(big, 'x', 100000);
	after = ipam_strpool_dup(&p, "after the big one");
	for (size_t i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "server%zu.corp.example.test", i);
		assert_string_equal(dup[i], buf);
		snprintf(buf, sizeof(buf), "value %zu", i % 1000);
		assert_string_equal(in[i], buf);
		assert_ptr_equal(in[i], in[i % 1000]);
	}
	assert_int_equal(p.nr_slots, 1000);
	assert_string_equal(after, "after the big one");
	for (size_t n = 1; n < 100; n++) {
		void *v = ipam_strpool_alloc(&p, n);

		assert_int_equal((uintptr_t)v % sizeof(void *), 0);
		ipam_strpool_dup(&p, "odd");
	}
	ipam_strpool_release(&p);
	free(dup);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strpool_dup_intern),
		cmocka_unit_test(test_strpool_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
