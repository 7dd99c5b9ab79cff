/* addressSpace: and report: in the desired state: decoding, the checks
 * with their positions (naming both places of an overlap), defaults, each
 * range's derived block, show-desired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "json.h"
#include "testutil.h"

#define BASE                                                                   \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: gpo, gpoPrefix: IPAM}\n"

/* Line 5 on: the blocks of the lab; ranges follow from line 9. */
#define SPACE                                                                  \
	BASE "addressSpace:\n"                                                 \
	     "  blocks:\n"                                                     \
	     "    - {cidr: 198.51.100.0/24, description: lab, owner: net}\n"   \
	     "    - cidr: 2001:db8::/32\n"                                     \
	     "  ranges:\n"

static void expect_error(const char *text, const char *want)
{
	struct ipam_desired *d = NULL;
	char *msg = desired_diags(text, &d);

	if (!strstr(msg, want))
		fail_msg("want '%s' in:\n%s", want, msg);
	assert_null(d);
	free(msg);
}

static void test_values(void **state)
{
	struct ipam_desired *d = NULL;
	const struct ipam_address_space *as;
	char *msg;

	(void)state;
	msg = desired_diags(SPACE "    - start: 198.51.100.100\n"
				  "      end: 198.51.100.199\n"
				  "      assignment: dhcp\n"
				  "      dhcpServer: DHCP1.Corp.Example.Test\n"
				  "      description: clients\n"
				  "    - cidr: 2001:DB8:0:1::/64\n"
				  "      assignment: static\n"
				  "      underUtilized: 0\n"
				  "      overUtilized: 100\n"
				  "      owner: ops\n",
			    &d);
	assert_string_equal(msg, "");
	as = &d->address_space;
	assert_int_equal(as->pos.line, 5);
	assert_int_equal(as->nr_blocks, 2);
	assert_string_equal(as->blocks[0].description.value, "lab");
	assert_string_equal(as->blocks[0].owner.value, "net");
	assert_true(as->blocks[0].ok);
	assert_int_equal(as->blocks[0].net.prefix, 24);
	assert_int_equal(as->blocks[1].pos.line, 7);
	assert_int_equal(as->nr_ranges, 2);
	assert_true(as->ranges[0].ok);
	assert_int_equal(as->ranges[0].net.prefix, -1);
	assert_int_equal(as->ranges[0].assignment, IPAM_ASSIGNMENT_DHCP);
	assert_string_equal(as->ranges[0].dhcp_server.value,
			    "dhcp1.corp.example.test");
	assert_int_equal(as->ranges[0].dhcp_server.pos.line, 12);
	assert_int_equal(as->ranges[0].under, 20);
	assert_int_equal(as->ranges[0].over, 80);
	assert_int_equal(as->ranges[0].block, 0);
	assert_int_equal(as->ranges[1].assignment, IPAM_ASSIGNMENT_STATIC);
	assert_int_equal(as->ranges[1].under, 0);
	assert_int_equal(as->ranges[1].over, 100);
	assert_int_equal(as->ranges[1].under_pos.line, 16);
	assert_int_equal(as->ranges[1].block, 1);
	assert_null(as->ranges[1].dhcp_server.value);
	assert_int_equal(d->report.pos.line, 0);
	ipam_desired_free(d);
	free(msg);
}

static void test_refused_values(void **state)
{
	(void)state;
	expect_error(SPACE "    - cidr: 198.51.100.64/25\n"
			   "      assignment: static\n",
		     "v.yaml:9:13: 'cidr' 198.51.100.64/25 has host bits "
		     "set: the prefix is 198.51.100.0/25");
	expect_error(BASE "addressSpace:\n  blocks:\n    - cidr: 10.1.0.0/8\n",
		     "v.yaml:6:13: 'cidr' 10.1.0.0/8 has host bits set: the "
		     "prefix is 10.0.0.0/8");
	expect_error(BASE "addressSpace:\n  blocks:\n    - cidr: 10.0.0.0/33\n",
		     "v.yaml:6:13: 'cidr' 10.0.0.0/33: the prefix length must "
		     "be 0 to 32 (IPv4) or 0 to 128 (IPv6)");
	expect_error(BASE "addressSpace:\n  blocks:\n    - cidr: 10.0.0.0\n",
		     "v.yaml:6:13: 'cidr' must be a prefix such as "
		     "192.0.2.0/24 or 2001:db8::/48, got '10.0.0.0'");
	expect_error(BASE "addressSpace:\n  blocks:\n    - owner: x\n",
		     "v.yaml:6:7: an 'addressSpace.blocks' item needs 'cidr'");
	expect_error(SPACE "    - start: 198.51.100.200\n"
			   "      end: 198.51.100.100\n"
			   "      assignment: static\n",
		     "v.yaml:9:14: range start 198.51.100.200 is after its "
		     "end 198.51.100.100");
	expect_error(SPACE "    - start: 198.51.100.1\n"
			   "      end: 2001:db8::1\n"
			   "      assignment: static\n",
		     "v.yaml:9:14: range start 198.51.100.1 and end "
		     "2001:db8::1 are of different address families");
	expect_error(SPACE "    - start: 198.51.100.300\n"
			   "      end: 198.51.100.1\n"
			   "      assignment: static\n",
		     "v.yaml:9:14: 'start' must be an IPv4 or IPv6 address, "
		     "got '198.51.100.300'");
	expect_error(SPACE "    - start: 198.51.100.1\n"
			   "      assignment: static\n",
		     "v.yaml:9:7: an 'addressSpace.ranges' item needs both "
		     "'start' and 'end'");
	expect_error(SPACE "    - assignment: static\n",
		     "v.yaml:9:7: an 'addressSpace.ranges' item needs 'cidr' "
		     "or 'start' and 'end'");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      start: 198.51.100.1\n"
			   "      end: 198.51.100.2\n"
			   "      assignment: static\n",
		     "v.yaml:9:13: a range is 'cidr' or 'start' and 'end', "
		     "not both");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n",
		     "v.yaml:9:7: an 'addressSpace.ranges' item needs "
		     "'assignment': dhcp or static");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: dynamic\n",
		     "v.yaml:10:19: 'assignment' must be dhcp or static, got "
		     "'dynamic'");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: dhcp\n",
		     "v.yaml:10:19: a dhcp range needs 'dhcpServer': the DHCP "
		     "server that hands out its leases");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "      dhcpServer: dhcp1.corp.example.test\n",
		     "v.yaml:11:19: 'dhcpServer' is only for ranges with "
		     "'assignment: dhcp'");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: dhcp\n"
			   "      dhcpServer: dhcp1\n",
		     "v.yaml:11:19: 'dhcpServer' 'dhcp1' is not a fully "
		     "qualified name (host.domain)");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "      overUtilized: 101\n",
		     "v.yaml:11:21: 'overUtilized' must be a percent from 0 "
		     "to 100, got 101");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "      underUtilized: -1\n",
		     "v.yaml:11:22: 'underUtilized' must be a percent from 0 "
		     "to 100, got -1");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "      underUtilized: 80\n",
		     "v.yaml:11:22: 'underUtilized' (80) must be below "
		     "'overUtilized' (80)");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "      overUtilized: 10\n",
		     "v.yaml:11:21: 'underUtilized' (20) must be below "
		     "'overUtilized' (10)");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "      utilization: 10\n",
		     "v.yaml:11:7: unknown key 'utilization' in an "
		     "'addressSpace.ranges' item");
	expect_error(BASE "addressSpace:\n  blocks: {cidr: 10.0.0.0/8}\n",
		     "v.yaml:5:11: 'blocks' must be a list, got a mapping");
	expect_error(BASE "addressSpace: [10.0.0.0/8]\n",
		     "v.yaml:4:15: 'addressSpace' must be a mapping, got a "
		     "list");
}

static void test_refused_layout(void **state)
{
	(void)state;
	expect_error(SPACE "    - cidr: 203.0.113.0/24\n"
			   "      assignment: static\n",
		     "v.yaml:9:13: range 203.0.113.0/24 is outside every "
		     "block of 'addressSpace.blocks'");
	/* Partly inside is outside. */
	expect_error(SPACE "    - start: 198.51.100.250\n"
			   "      end: 198.51.101.5\n"
			   "      assignment: static\n",
		     "v.yaml:9:14: range 198.51.100.250-198.51.101.5 is "
		     "outside every block");
	expect_error(SPACE "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n"
			   "    - start: 198.51.100.127\n"
			   "      end: 198.51.100.130\n"
			   "      assignment: static\n",
		     "v.yaml:11:14: range 198.51.100.127-198.51.100.130 "
		     "overlaps range 198.51.100.0/25 (at v.yaml:9:13)");
	/* Sorted by address, named the same whatever the order written. */
	expect_error(SPACE "    - start: 198.51.100.127\n"
			   "      end: 198.51.100.130\n"
			   "      assignment: static\n"
			   "    - cidr: 198.51.100.0/25\n"
			   "      assignment: static\n",
		     "v.yaml:12:13: range 198.51.100.0/25 overlaps range "
		     "198.51.100.127-198.51.100.130 (at v.yaml:9:14)");
	/* A long range overlapping one after a shorter one that ends
	 * earlier: each is named against the long one. */
	expect_error(SPACE
		     "    - start: 198.51.100.1\n"
		     "      end: 198.51.100.100\n"
		     "      assignment: static\n"
		     "    - {cidr: 198.51.100.50/31, assignment: static}\n"
		     "    - {cidr: 198.51.100.96/30, assignment: static}\n",
		     "v.yaml:12:14: range 198.51.100.50/31 overlaps range "
		     "198.51.100.1-198.51.100.100 (at v.yaml:9:14)\n"
		     "v.yaml:13:14: range 198.51.100.96/30 overlaps range "
		     "198.51.100.1-198.51.100.100 (at v.yaml:9:14)\n");
	expect_error(BASE "addressSpace:\n"
			  "  blocks:\n"
			  "    - cidr: 10.0.0.0/8\n"
			  "    - cidr: 10.20.0.0/16\n",
		     "v.yaml:7:13: block 10.20.0.0/16 overlaps block "
		     "10.0.0.0/8 (at v.yaml:6:13)");
	expect_error(BASE "addressSpace:\n"
			  "  blocks:\n"
			  "    - cidr: 2001:db8::/32\n"
			  "    - cidr: 2001:db8::/32\n",
		     "v.yaml:7:13: block 2001:db8::/32 overlaps block "
		     "2001:db8::/32 (at v.yaml:6:13)");
}

static void test_adjacent_and_families(void **state)
{
	struct ipam_desired *d = NULL;
	char *msg;

	(void)state;
	/* Adjacent ranges, one-address ranges, /31, /127, /128 and both
	 * families side by side: all fine. */
	msg = desired_diags(
		SPACE "    - {cidr: 198.51.100.0/25, assignment: static}\n"
		      "    - {start: 198.51.100.128, end: 198.51.100.128,\n"
		      "       assignment: static}\n"
		      "    - {cidr: 198.51.100.130/31, assignment: static}\n"
		      "    - {cidr: 2001:db8::/127, assignment: static}\n"
		      "    - {cidr: 2001:db8::2/128, assignment: static}\n"
		      "    - {start: 2001:db8::3, end: 2001:db8::ffff,\n"
		      "       assignment: static}\n",
		&d);
	assert_string_equal(msg, "");
	assert_int_equal(d->address_space.nr_ranges, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(d->address_space.ranges[i].block,
				 i < 3 ? 0 : 1);
	ipam_desired_free(d);
	free(msg);
}

static void test_report(void **state)
{
	struct ipam_desired *d = NULL;
	char *msg;

	(void)state;
	msg = desired_diags(BASE "report: {path: /var/www/ipam/index.html}\n",
			    &d);
	assert_string_equal(msg, "");
	assert_string_equal(d->report.path.value, "/var/www/ipam/index.html");
	assert_int_equal(d->report.format, IPAM_REPORT_HTML);
	assert_int_equal(d->report.pos.line, 4);
	ipam_desired_free(d);
	free(msg);
	msg = desired_diags(
		BASE "report:\n  path: /srv/r.md\n  format: markdown\n", &d);
	assert_string_equal(msg, "");
	assert_int_equal(d->report.format, IPAM_REPORT_MARKDOWN);
	assert_int_equal(d->report.format_pos.line, 6);
	assert_string_equal(ipam_report_format_name(d->report.format),
			    "markdown");
	ipam_desired_free(d);
	free(msg);
	expect_error(BASE "report: {path: report.html}\n",
		     "v.yaml:4:16: 'path' must be an absolute path, got "
		     "'report.html'");
	expect_error(BASE "report: {path: /r.pdf, format: pdf}\n",
		     "v.yaml:4:32: 'format' must be html, markdown or json, "
		     "got 'pdf'");
	expect_error(BASE "report: {format: json}\n",
		     "v.yaml:4:9: 'report' needs 'path': the file the report "
		     "is written to");
	expect_error(BASE "report: /r.html\n",
		     "v.yaml:4:9: 'report' must be a mapping, got a string");
}

static void test_show_desired(void **state)
{
	struct ipam_desired *d = NULL;
	struct ipam_node *n;
	struct strbuf js = STRBUF_INIT;
	char *msg;

	(void)state;
	msg = desired_diags(SPACE
			    "    - start: 198.51.100.100\n"
			    "      end: 198.51.100.199\n"
			    "      assignment: dhcp\n"
			    "      dhcpServer: DHCP1.corp.example.test\n"
			    "    - {cidr: 2001:DB8::/64, assignment: static,\n"
			    "       overUtilized: 90}\n"
			    "report: {path: /r.json, format: json}\n",
			    &d);
	assert_string_equal(msg, "");
	n = ipam_desired_to_node(d);
	assert_int_equal(ipam_json_write(&js, n, IPAM_JSON_SORT_KEYS), 0);
	assert_non_null(strstr(
		js.buf,
		"\"addressSpace\":{\"blocks\":[{\"cidr\":\"198.51.100.0/24\","
		"\"description\":\"lab\",\"owner\":\"net\"},{\"cidr\":"
		"\"2001:db8::/32\"}],\"ranges\":[{\"assignment\":\"dhcp\","
		"\"dhcpServer\":\"dhcp1.corp.example.test\",\"end\":"
		"\"198.51.100.199\",\"overUtilized\":80,\"start\":"
		"\"198.51.100.100\",\"underUtilized\":20},{\"assignment\":"
		"\"static\",\"cidr\":\"2001:db8::/64\",\"overUtilized\":90,"
		"\"underUtilized\":20}]}"));
	assert_non_null(strstr(js.buf, "\"report\":{\"format\":\"json\","
				       "\"path\":\"/r.json\"}"));
	strbuf_release(&js);
	ipam_node_free(n);
	ipam_desired_free(d);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refused_values),
		cmocka_unit_test(test_refused_layout),
		cmocka_unit_test(test_adjacent_and_families),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_show_desired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
