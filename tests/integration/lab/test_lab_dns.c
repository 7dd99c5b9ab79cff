/*
 * Inside the lab namespace the resolver is the lab's: NS records of both
 * forests name the DNS fixtures, fixture A records resolve, and names
 * outside the lab do not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labtest.h"

/* dig +short TYPE NAME through the namespace's resolv.conf. */
static char **dig_short(const char *type, const char *name)
{
	const char *argv[] = {"dig", "+short", "+time=3", "+tries=2",
			      type,  name,     NULL};
	struct lab_run res;
	char **v;

	lab_must_succeed(argv, NULL, &res);
	v = lab_lines(res.out, NULL);
	assert_non_null(v);
	lab_run_free(&res);
	return v;
}

static void expect(const char *type, const char *name, const char *const *want)
{
	char what[256];
	char **got = dig_short(type, name);

	snprintf(what, sizeof(what), "dig %s %s", type, name);
	lab_assert_set(got, want, what);
	lab_strv_free(got);
}

static void test_resolver_is_the_lab(void **state)
{
	char *conf;
	char line[64];

	(void)state;
	conf = lab_need_file("/etc/resolv.conf", NULL);
	snprintf(line, sizeof(line), "nameserver %s",
		 lab_need_forest(1, "DC_IP"));
	if (!lab_has_line(conf, line))
		fail_msg("/etc/resolv.conf lacks '%s':\n%s", line, conf);
	free(conf);
}

static void test_ns_corp(void **state)
{
	static const char *const want[] = {"dc1.corp.example.test.",
					   "dc2.corp.example.test.",
					   "dns1.corp.example.test.", NULL};

	(void)state;
	assert_string_equal(lab_need_forest(1, "DOMAIN"), "corp.example.test");
	expect("NS", "corp.example.test", want);
}

static void test_ns_branch(void **state)
{
	static const char *const want[] = {"bdc2.branch.example.test.",
					   "dc2.branch.example.test.", NULL};

	(void)state;
	assert_string_equal(lab_need_forest(2, "DOMAIN"),
			    "branch.example.test");
	expect("NS", "branch.example.test", want);
}

static void test_a_records(void **state)
{
	static const struct {
		const char *name, *addr;
	} recs[] = {
		{"dc1.corp.example.test", "127.0.0.2"},
		{"dc2.corp.example.test", "192.0.2.2"},
		{"dns1.corp.example.test", "192.0.2.10"},
		{"dhcp1.corp.example.test", "198.51.100.10"},
		{"dhcp2.corp.example.test", "198.51.100.11"},
		{"nps1.corp.example.test", "192.0.2.20"},
		{"ipam1.corp.example.test", "192.0.2.50"},
		/* the collision pair */
		{"app1.corp.example.test", "192.0.2.30"},
		{"app2.corp.example.test", "192.0.2.30"},
		{"dc2.branch.example.test", "127.0.0.3"},
		{"bdhcp1.branch.example.test", "198.51.100.20"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		const char *want[] = {recs[i].addr, NULL};

		expect("A", recs[i].name, want);
	}
}

/* dig's header status of a query (NOERROR, NXDOMAIN, ...). */
static char *dig_status(const char *name, int *answers)
{
	const char *argv[] = {"dig",	  "+noall", "+comments", "+time=3",
			      "+tries=2", "A",	    name,	 NULL};
	struct lab_run res;
	const char *p, *q;
	char *status;

	lab_must_succeed(argv, NULL, &res);
	p = strstr(res.out, "status: ");
	if (p == NULL)
		fail_msg("no status in dig output:\n%s", res.out);
	p += strlen("status: ");
	q = strchr(p, ',');
	assert_non_null(q);
	status = strndup(p, (size_t)(q - p));
	p = strstr(res.out, "ANSWER: ");
	assert_non_null(p);
	*answers = atoi(p + strlen("ANSWER: "));
	lab_run_free(&res);
	return status;
}

static void test_absent_names(void **state)
{
	char *st;
	int answers = -1;

	(void)state;
	/* dhcp9 is authorized for DHCP but has no DNS record. */
	st = dig_status("dhcp9.corp.example.test", &answers);
	assert_string_equal(st, "NXDOMAIN");
	assert_int_equal(answers, 0);
	free(st);
	/* Names outside the lab stay unresolved: forwarding ends on an
	 * unused loopback address. */
	st = dig_status("www.example.com", &answers);
	assert_int_equal(answers, 0);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolver_is_the_lab),
		cmocka_unit_test(test_ns_corp),
		cmocka_unit_test(test_ns_branch),
		cmocka_unit_test(test_a_records),
		cmocka_unit_test(test_absent_names),
	};

	return cmocka_run_group_tests_name("lab_dns", tests, NULL, NULL);
}
