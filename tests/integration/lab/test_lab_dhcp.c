/*
 * DHCPINFORM in the lab: the authorized fixture dhcp1.corp (and
 * bdhcp1.branch) answer with a DHCPACK, the authorized fixture dhcp2.corp
 * (a live host without a DHCP server) answers nothing but an ICMP port
 * unreachable, and the stale authorization's address (no host) nothing.  Uses
 * the lab-dhcpinform probe (IPAM_LAB_DHCPINFORM), which binds UDP 68.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labtest.h"

static void probe(const char *server, const char *timeout_ms,
		  struct lab_run *res)
{
	const char *argv[] = {lab_need_env("IPAM_LAB_DHCPINFORM"), "-t",
			      timeout_ms, server, NULL};
	struct lab_run_opts opts = {.timeout_ms = 30000};

	lab_must_run(argv, &opts, res);
}

static void expect_ack(const char *server, const char *from)
{
	char prefix[128];
	struct lab_run res;

	probe(server, "5000", &res);
	if (res.exit_code != 0)
		fail_msg("%s: %s", server,
			 lab_run_describe(&res, "lab-dhcpinform"));
	snprintf(prefix, sizeof(prefix), "DHCPACK from %s ", from);
	if (strncmp(res.out, prefix, strlen(prefix)) != 0)
		fail_msg("expected '%s...', got '%s'", prefix, res.out);
	lab_run_free(&res);
}

static void test_dhcp1_answers(void **state)
{
	(void)state;
	expect_ack("dhcp1.corp.example.test", "198.51.100.10");
}

static void test_bdhcp1_answers(void **state)
{
	(void)state;
	/* dnsmasq owns both addresses and replies from its primary one. */
	expect_ack("bdhcp1.branch.example.test", "198.51.100.10");
}

static void test_dhcp2_is_silent(void **state)
{
	struct lab_run res;

	(void)state;
	probe("dhcp2.corp.example.test", "2000", &res);
	if (res.exit_code != 1)
		fail_msg("expected no answer (exit 1): %s",
			 lab_run_describe(&res, "lab-dhcpinform"));
	if (strstr(res.out, "no answer from dhcp2.corp.example.test "
			    "(198.51.100.11): port unreachable") == NULL)
		fail_msg("unexpected: %s", res.out);
	lab_run_free(&res);
}

static void test_nobody_at_dhcp9(void **state)
{
	struct lab_run res;

	(void)state;
	probe("198.51.100.19", "1500", &res);
	if (res.exit_code != 1)
		fail_msg("expected no answer (exit 1): %s",
			 lab_run_describe(&res, "lab-dhcpinform"));
	if (strstr(res.out, "no answer from 198.51.100.19 (198.51.100.19) "
			    "within 1500 ms") == NULL)
		fail_msg("unexpected: %s", res.out);
	lab_run_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp1_answers),
		cmocka_unit_test(test_bdhcp1_answers),
		cmocka_unit_test(test_dhcp2_is_silent),
		cmocka_unit_test(test_nobody_at_dhcp9),
	};

	return cmocka_run_group_tests_name("lab_dhcp", tests, NULL, NULL);
}
