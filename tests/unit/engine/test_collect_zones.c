/* Zone monitoring's decision: OK, Warning with the serials named,
 * Critical with each failing server's reason, a zone without NS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "collect_zones.h"
#include "strbuf.h"

static struct ipam_collect_zones_probe ok(const char *ns, unsigned long serial)
{
	struct ipam_collect_zones_probe p = {.ns = ns,
					     .answered = true,
					     .authoritative = true,
					     .has_serial = true,
					     .serial = serial};

	snprintf(p.addr, sizeof(p.addr), "192.0.2.1");
	return p;
}

static const char *judge(struct strbuf *why,
			 const struct ipam_collect_zones_probe *p, size_t nr)
{
	strbuf_reset(why);
	return ipam_collect_zones_judge(why, p, nr);
}

static void test_judge(void **state)
{
	struct ipam_collect_zones_probe p[3];
	struct strbuf why = STRBUF_INIT;

	(void)state;
	p[0] = ok("dc1.corp.example.test", 7);
	p[1] = ok("dc2.corp.example.test", 7);
	assert_string_equal(judge(&why, p, 2), "OK");
	assert_int_equal(why.len, 0);

	p[2] = ok("dns1.corp.example.test", 9);
	assert_string_equal(judge(&why, p, 3), "Warning");
	assert_string_equal(why.buf, "SOA serials differ: "
				     "dc1.corp.example.test 7, "
				     "dc2.corp.example.test 7, "
				     "dns1.corp.example.test 9");
	/* the odd one first: still a difference */
	assert_string_equal(judge(&why, p + 1, 2), "Warning");

	p[1] = ok("dc2.corp.example.test", 0);
	p[1].has_serial = false;
	p[1].answered = false;
	p[1].authoritative = false;
	snprintf(p[1].reason, sizeof(p[1].reason),
		 "dc2.corp.example.test (192.0.2.2) did not answer the SOA "
		 "query within 3 s");
	p[2] = ok("dns1.corp.example.test", 7);
	p[2].authoritative = false;
	p[2].has_serial = false;
	snprintf(p[2].reason, sizeof(p[2].reason),
		 "dns1.corp.example.test (192.0.2.10) is not authoritative "
		 "for corp.example.test");
	assert_string_equal(judge(&why, p, 3), "Critical");
	assert_string_equal(why.buf,
			    "dc2.corp.example.test (192.0.2.2) did not answer "
			    "the SOA query within 3 s; "
			    "dns1.corp.example.test (192.0.2.10) is not "
			    "authoritative for corp.example.test");
	/* Critical and differing serials: both said */
	p[2] = ok("dns1.corp.example.test", 8);
	assert_string_equal(judge(&why, p, 3), "Critical");
	assert_non_null(strstr(why.buf, "; SOA serials differ: "
					"dc1.corp.example.test 7, "
					"dns1.corp.example.test 8"));

	assert_string_equal(judge(&why, p, 0), "Critical");
	assert_string_equal(why.buf, "no NS records at the zone's apex");
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
