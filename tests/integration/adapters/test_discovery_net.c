/*
 * The network side of discovery against the lab: NS and SRV records and
 * addresses through the dns module equal what dig says through the same
 * resolver, and the DHCPINFORM probe (UDP 68, so one DHCP client at a
 * time) finds the answering fixtures and not the silent one.  Expected
 * values come from dig, never from the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <sys/socket.h>

#include "labtest.h"

#include "dhcp.h"
#include "dns.h"
#include "error.h"

#define DNS_TIMEOUT 10

/* dig +short TYPE NAME through the lab's resolv.conf, one line each. */
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

/* dig's names, as the dns module gives them: lower case, no final dot. */
static void normalise(char **v)
{
	size_t i, len;
	char *c;

	for (i = 0; v[i]; i++) {
		for (c = v[i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		len = strlen(v[i]);
		if (len > 1 && v[i][len - 1] == '.')
			v[i][len - 1] = '\0';
	}
}

static void expect_ns(const char *zone)
{
	char **want = dig_short("NS", zone), **got = NULL;
	char what[128];
	size_t nr, i;

	normalise(want);
	ipam_error_clear();
	if (ipam_dns_ns(&got, &nr, zone, DNS_TIMEOUT) != 0)
		fail_msg("ipam_dns_ns %s: %s", zone, ipam_error_last());
	assert_true(nr > 0);
	for (i = 1; i < nr; i++)
		assert_true(strcmp(got[i - 1], got[i]) < 0);
	got = realloc(got, (nr + 1) * sizeof(*got));
	assert_non_null(got);
	got[nr] = NULL;
	snprintf(what, sizeof(what), "NS %s", zone);
	lab_assert_set(got, (const char *const *)want, what);
	ipam_dns_names_free(got, nr);
	lab_strv_free(want);
}

static void test_ns_corp(void **state)
{
	(void)state;
	expect_ns(lab_need_forest(1, "DOMAIN"));
}

static void test_ns_branch(void **state)
{
	(void)state;
	expect_ns(lab_need_forest(2, "DOMAIN"));
}

/* The SRV records of name against dig's "prio weight port target" lines. */
static void expect_srv(const char *name, const char *dc, int port)
{
	char **want = dig_short("SRV", name), **got;
	struct ipam_dns_srv *srv = NULL;
	size_t nr, i;
	int found = 0;

	normalise(want);
	ipam_error_clear();
	if (ipam_dns_srv(&srv, &nr, name, DNS_TIMEOUT) != 0)
		fail_msg("ipam_dns_srv %s: %s", name, ipam_error_last());
	got = calloc(nr + 1, sizeof(*got));
	assert_non_null(got);
	for (i = 0; i < nr; i++) {
		char line[300];

		snprintf(line, sizeof(line), "%d %d %d %s", srv[i].priority,
			 srv[i].weight, srv[i].port, srv[i].target);
		got[i] = strdup(line);
		if (strcmp(srv[i].target, dc) == 0 && srv[i].port == port)
			found = 1;
		if (i)
			assert_true(srv[i - 1].priority <= srv[i].priority);
	}
	if (!found)
		fail_msg("%s: no %s port %d", name, dc, port);
	lab_assert_set(got, (const char *const *)want, name);
	lab_strv_free(got);
	ipam_dns_srv_free(srv, nr);
	lab_strv_free(want);
}

static void test_srv_dc(void **state)
{
	char name[256], dc[256];

	(void)state;
	snprintf(name, sizeof(name), "_ldap._tcp.dc._msdcs.%s",
		 lab_need_forest(1, "DOMAIN"));
	snprintf(dc, sizeof(dc), "%s", lab_need_forest(1, "DC"));
	assert_string_equal(dc, "dc1.corp.example.test");
	expect_srv(name, dc, 389);
	snprintf(name, sizeof(name), "_ldap._tcp.dc._msdcs.%s",
		 lab_need_forest(2, "DOMAIN"));
	expect_srv(name, lab_need_forest(2, "DC"), 389);
}

static void test_absent_records(void **state)
{
	struct ipam_dns_srv *srv = (void *)1;
	char **names = (void *)1;
	size_t nr = 99;

	(void)state;
	/* NXDOMAIN and NODATA are answers: nothing there, no error. */
	assert_int_equal(ipam_dns_srv(&srv, &nr,
				      "_nosuch._tcp.corp.example.test",
				      DNS_TIMEOUT),
			 0);
	assert_int_equal(nr, 0);
	assert_null(srv);
	assert_int_equal(
		ipam_dns_ns(&names, &nr, "dc2.corp.example.test", DNS_TIMEOUT),
		0);
	assert_int_equal(nr, 0);
	assert_null(names);
}

static const char *const fixture_names[] = {
	"dc1.corp.example.test",
	"dc2.corp.example.test",
	"dns1.corp.example.test",
	"dhcp1.corp.example.test",
	"dhcp2.corp.example.test",
	"nps1.corp.example.test",
	"ipam1.corp.example.test",
	"app1.corp.example.test",
	"app2.corp.example.test",
	"dc2.branch.example.test",
	"bdhcp1.branch.example.test",
	"bsrv1.branch.example.test",
	/* authorized for DHCP, no DNS record: NXDOMAIN */
	"dhcp9.corp.example.test",
	"nosuch.branch.example.test",
};

/* The addresses of one family in results, as a NULL-terminated vector. */
static char **family_of(const struct ipam_addr *a, size_t nr, int family)
{
	char **v = calloc(nr + 1, sizeof(*v));
	size_t i, k = 0;

	assert_non_null(v);
	for (i = 0; i < nr; i++)
		if (a[i].family == family)
			v[k++] = strdup(a[i].text);
	return v;
}

static void test_resolve_many(void **state)
{
	enum { N = sizeof(fixture_names) / sizeof(fixture_names[0]) };
	struct ipam_addr *results[N];
	size_t nr[N], i;
	int status[N];
	const char *reason[N];

	(void)state;
	assert_int_equal(ipam_dns_resolve_many(fixture_names, N, results, nr,
					       status, reason, DNS_TIMEOUT),
			 0);
	for (i = 0; i < N; i++) {
		char **want4 = dig_short("A", fixture_names[i]);
		char **want6 = dig_short("AAAA", fixture_names[i]);
		char **got4 = family_of(results[i], nr[i], AF_INET);
		char **got6 = family_of(results[i], nr[i], AF_INET6);

		if (status[i] != 0)
			fail_msg("%s: %s", fixture_names[i], reason[i]);
		lab_assert_set(got4, (const char *const *)want4,
			       fixture_names[i]);
		lab_assert_set(got6, (const char *const *)want6,
			       fixture_names[i]);
		lab_strv_free(got4);
		lab_strv_free(got6);
		lab_strv_free(want4);
		lab_strv_free(want6);
		free(results[i]);
	}
	/* The last two do not exist: resolved, to nothing. */
	assert_int_equal(nr[N - 2], 0);
	assert_int_equal(nr[N - 1], 0);
	/* The collision pair shares its address. */
	assert_string_equal(fixture_names[7], "app1.corp.example.test");
	assert_int_equal(nr[7], 1);
}

/* The address dig gives for name (exactly one expected). */
static char *dig_addr(const char *name)
{
	char **v = dig_short("A", name);
	char *a;

	if (v[0] == NULL || v[1] != NULL)
		fail_msg("%s: expected one A record", name);
	a = strdup(v[0]);
	lab_strv_free(v);
	return a;
}

static void test_dhcp_inform(void **state)
{
	char *dhcp1 = dig_addr("dhcp1.corp.example.test");
	char *dhcp2 = dig_addr("dhcp2.corp.example.test");
	char *bdhcp1 = dig_addr("bdhcp1.branch.example.test");
	struct ipam_dhcp_probe p[3] = {{.server_ip = dhcp1},
				       {.server_ip = dhcp2},
				       {.server_ip = bdhcp1}};

	(void)state;
	ipam_error_clear();
	if (ipam_dhcp_inform(p, 3, 68, 67, 2000, 2) != 0)
		fail_msg("ipam_dhcp_inform: %s", ipam_error_last());

	if (!p[0].answered)
		fail_msg("dhcp1 (%s): %s", dhcp1, p[0].error);
	assert_string_equal(p[0].reply_from, dhcp1);
	assert_string_equal(p[0].server_id, dhcp1);
	assert_int_equal(p[0].tries, 1);

	/* A live host with no DHCP server: its kernel says so (ICMP). */
	assert_false(p[1].answered);
	if (strstr(p[1].error, "port unreachable") == NULL)
		fail_msg("dhcp2 (%s): %s", dhcp2, p[1].error);

	/* One dnsmasq serves both: bdhcp1's answer comes from dhcp1. */
	if (!p[2].answered)
		fail_msg("bdhcp1 (%s): %s", bdhcp1, p[2].error);
	assert_string_equal(p[2].reply_from, dhcp1);
	assert_string_equal(p[2].server_id, dhcp1);

	free(dhcp1);
	free(dhcp2);
	free(bdhcp1);
}

static void test_dhcp_nobody_there(void **state)
{
	/* dhcp9's stale authorization: nothing at that address. */
	struct ipam_dhcp_probe p = {.server_ip = "198.51.100.19"};

	(void)state;
	assert_int_equal(ipam_dhcp_inform(&p, 1, 68, 67, 1000, 2), 0);
	assert_false(p.answered);
	assert_string_not_equal(p.error, "");
	print_message("dhcp9: %s\n", p.error);
}

static void test_no_local_dhcp_server(void **state)
{
	(void)state;
	assert_false(ipam_dhcp_local_server());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_corp),
		cmocka_unit_test(test_ns_branch),
		cmocka_unit_test(test_srv_dc),
		cmocka_unit_test(test_absent_records),
		cmocka_unit_test(test_resolve_many),
		cmocka_unit_test(test_dhcp_inform),
		cmocka_unit_test(test_dhcp_nobody_there),
		cmocka_unit_test(test_no_local_dhcp_server),
	};

	return cmocka_run_group_tests_name("discovery_net", tests, NULL, NULL);
}
