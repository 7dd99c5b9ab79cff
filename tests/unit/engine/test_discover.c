/* The rules of discovery that need no network: the IPAM version rule for
 * domain controllers and the address collision check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "discover.h"

static void test_dc_version_rule(void **state)
{
	const char *why;

	(void)state;
	assert_true(ipam_discover_dc_eligible("Windows Server 2019 Datacenter",
					      "10.0 (17763)", &why));
	assert_null(why);
	assert_true(ipam_discover_dc_eligible("Windows Server 2008",
					      "6.0 (6001)", &why));
	assert_true(ipam_discover_dc_eligible("Windows Server 2012 R2",
					      "6.3 (9600)", &why));
	assert_false(ipam_discover_dc_eligible("Windows Server 2003",
					       "5.2 (3790)", &why));
	assert_non_null(strstr(why, "older than 6.0"));
	assert_false(ipam_discover_dc_eligible("Windows 2000 Server",
					       "5.0 (2195)", &why));
	assert_false(
		ipam_discover_dc_eligible("Windows Server 2019", NULL, &why));
	assert_false(ipam_discover_dc_eligible("Windows Server 2019", "garbage",
					       &why));
	/* Samba, or no OS at all: kept, and said so */
	assert_true(ipam_discover_dc_eligible("Samba", "4.17.12-Debian", &why));
	assert_non_null(strstr(why, "not a Windows DC"));
	assert_true(ipam_discover_dc_eligible(NULL, NULL, &why));
	assert_non_null(why);
}

static void add(struct ipam_obs_domain *od, const char *name, const char *addr,
		bool declared)
{
	struct ipam_obs_server *s = ipam_obs_get(od, name);

	s->declared = declared;
	s->addrs = xcalloc(1, sizeof(*s->addrs));
	s->addrs[0].family = AF_INET;
	snprintf(s->addrs[0].text, sizeof(s->addrs[0].text), "%s", addr);
	s->nr_addrs = 1;
}

static void test_collisions(void **state)
{
	struct ipam_observed *o = xcalloc(1, sizeof(*o));
	struct ipam_obs_domain *a, *b;

	(void)state;
	o->domains = xcalloc(2, sizeof(*o->domains));
	o->nr_domains = 2;
	a = &o->domains[0];
	b = &o->domains[1];
	a->name = xstrdup("corp.example.test");
	b->name = xstrdup("branch.example.test");
	add(a, "app1.corp.example.test", "192.0.2.30", false);
	add(a, "app2.corp.example.test", "192.0.2.30", false);
	add(a, "nps1.corp.example.test", "192.0.2.20", true);
	add(b, "x.branch.example.test", "192.0.2.20", false);
	add(b, "y.branch.example.test", "192.0.2.99", false);
	ipam_discover_check_collisions(o);
	/* a declared server's collision is an error in its domain */
	assert_int_equal(a->nr_errors, 1);
	assert_string_equal(a->errors[0],
			    "address collision: 'nps1.corp.example.test' and "
			    "'x.branch.example.test' both have the address "
			    "192.0.2.20");
	/* between discovered servers, a warning */
	assert_int_equal(a->nr_warnings, 1);
	assert_string_equal(a->warnings[0],
			    "address collision: 'app1.corp.example.test' and "
			    "'app2.corp.example.test' both have the address "
			    "192.0.2.30");
	assert_int_equal(b->nr_errors, 0);
	assert_int_equal(b->nr_warnings, 0);
	ipam_observed_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dc_version_rule),
		cmocka_unit_test(test_collisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
