/*
 * The observed model's name lookup: hashed while discovery adds servers,
 * right after a sort, and never wrong when servers were moved behind the
 * index's back (it scans then).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "observed.h"
#include "strbuf.h"

#define N 5000

static void name_of(char *buf, size_t len, size_t i, bool upper)
{
	snprintf(buf, len,
		 upper ? "SRV%05zu.Corp.Example.TEST"
		       : "srv%05zu.corp.example.test",
		 (N - 1 - i) * 7 % N);
}

static void check_all(const struct ipam_obs_domain *d, size_t nr)
{
	char name[64];

	for (size_t i = 0; i < nr; i++) {
		struct ipam_obs_server *s;

		name_of(name, sizeof(name), i, i % 2);
		s = ipam_obs_find(d, name);
		assert_non_null(s);
		name_of(name, sizeof(name), i, false);
		assert_string_equal(s->name, name);
	}
	assert_null(ipam_obs_find(d, "nobody.corp.example.test"));
}

static void test_get_find_sort(void **state)
{
	struct ipam_obs_domain d = {0};
	char name[64];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		struct ipam_obs_server *s;

		name_of(name, sizeof(name), i, i % 3 == 0);
		s = ipam_obs_get(&d, name);
		assert_ptr_equal(s, &d.servers[d.nr_servers - 1]);
		/* a second get of any case is the same server */
		name_of(name, sizeof(name), i, i % 3 != 0);
		assert_ptr_equal(ipam_obs_get(&d, name), s);
		assert_int_equal(d.nr_servers, i + 1);
	}
	assert_int_equal(d.nr_servers, N);
	check_all(&d, N);
	ipam_obs_domain_sort(&d);
	for (size_t i = 1; i < N; i++)
		assert_true(strcmp(d.servers[i - 1].name, d.servers[i].name) <
			    0);
	check_all(&d, N);
	ipam_obs_domain_release(&d);
}

/* Servers dropped in place (as discovery drops a declared server that
 * does not resolve): the index is stale, the lookups still right. */
static void test_moved_behind_its_back(void **state)
{
	struct ipam_obs_domain d = {0};
	struct ipam_obs_server gone, *s;
	char name[64];

	(void)state;
	for (size_t i = 0; i < 100; i++) {
		name_of(name, sizeof(name), i, false);
		ipam_obs_get(&d, name);
	}
	gone = d.servers[0];
	memmove(&d.servers[0], &d.servers[1], 99 * sizeof(*d.servers));
	d.nr_servers--;
	assert_null(ipam_obs_find(&d, gone.name));
	assert_ptr_equal(ipam_obs_find(&d, d.servers[50].name), &d.servers[50]);
	/* a get after it adds one, and finds all */
	s = ipam_obs_get(&d, gone.name);
	assert_ptr_equal(s, &d.servers[d.nr_servers - 1]);
	ipam_obs_server_release(&gone);
	for (size_t i = 0; i < d.nr_servers; i++)
		assert_ptr_equal(ipam_obs_find(&d, d.servers[i].name),
				 &d.servers[i]);
	ipam_obs_domain_release(&d);
}

/* Built by hand (tests do): no index, a scan. */
static void test_hand_built(void **state)
{
	struct ipam_obs_server servers[2] = {{.name = "a.example.test"},
					     {.name = "b.example.test"}};
	struct ipam_obs_domain d = {.servers = servers, .nr_servers = 2};

	(void)state;
	assert_ptr_equal(ipam_obs_find(&d, "B.example.test"), &servers[1]);
	assert_null(ipam_obs_find(&d, "c.example.test"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_find_sort),
		cmocka_unit_test(test_moved_behind_its_back),
		cmocka_unit_test(test_hand_built),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
