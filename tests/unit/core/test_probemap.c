/* What the access probes' answers mean: the outputs of Samba's tools and
 * of probe-dhcpm, recorded in the lab (tests/fixtures/probe/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probemap.h"
#include "testutil.h"

static char *recorded(const char *name)
{
	char *path = xasprintf("%s/probe/%s", fixtures_dir(), name);
	char *text = slurp(path, NULL);

	if (!text)
		fail_msg("cannot read %s", path);
	free(path);
	return text;
}

static void expect(enum ipam_probemap_tool tool, const char *file, int status,
		   enum ipam_access_status want, const char *reason)
{
	struct ipam_access_result r = {0};
	char *text = recorded(file);

	ipam_probemap_result(&r, tool, status, text, "IPAM1$");
	if (r.status != want || !r.reason || strcmp(r.reason, reason))
		fail_msg("%s: got %d '%s', want %d '%s'", file, r.status,
			 r.reason ? r.reason : "(null)", want, reason);
	free(r.reason);
	free(text);
}

static void test_dns(void **state)
{
	(void)state;
	expect(IPAM_PROBEMAP_DNS, "dns-ok.txt", 0, IPAM_ACCESS_UNBLOCKED,
	       "server info read (MS-DNSP)");
	/* the same text with a failing exit status proves nothing */
	expect(IPAM_PROBEMAP_DNS, "dns-ok.txt", 1, IPAM_ACCESS_BLOCKED,
	       "failed (exit status 1: dwVersion                   : "
	       "0xece0205)");
	expect(IPAM_PROBEMAP_DNS, "dns-refused.txt", 255, IPAM_ACCESS_BLOCKED,
	       "unreachable (connection refused) "
	       "(NT_STATUS_CONNECTION_REFUSED)");
	expect(IPAM_PROBEMAP_DNS, "dns-netunreach.txt", 255,
	       IPAM_ACCESS_BLOCKED,
	       "unreachable (network unreachable) "
	       "(NT_STATUS_NETWORK_UNREACHABLE)");
	expect(IPAM_PROBEMAP_DNS, "dns-unsuccessful.txt", 255,
	       IPAM_ACCESS_BLOCKED,
	       "RPC bind refused (NT_STATUS_UNSUCCESSFUL)");
}

static void test_eventlog(void **state)
{
	(void)state;
	expect(IPAM_PROBEMAP_EVENTLOG, "evt-path-invalid.txt", 1,
	       IPAM_ACCESS_BLOCKED,
	       "event log not configured (NT_STATUS_OBJECT_PATH_INVALID)");
	expect(IPAM_PROBEMAP_EVENTLOG, "evt-logon-failure.txt", 1,
	       IPAM_ACCESS_BLOCKED, "logon failure for IPAM1$");
	expect(IPAM_PROBEMAP_EVENTLOG, "evt-refused.txt", 1,
	       IPAM_ACCESS_BLOCKED,
	       "unreachable (connection refused) "
	       "(NT_STATUS_CONNECTION_REFUSED)");
	expect(IPAM_PROBEMAP_EVENTLOG, "evt-unknown-etype.txt", 1,
	       IPAM_ACCESS_BLOCKED,
	       "no Kerberos ticket for the server (is it a member of the "
	       "domain?) (NT_STATUS_KDC_UNKNOWN_ETYPE)");
}

static void test_eventlog_inline(void **state)
{
	struct ipam_access_result r = {0};

	(void)state;
	ipam_probemap_result(&r, IPAM_PROBEMAP_EVENTLOG, 0,
			     "number of records: 42\n", "IPAM1$");
	assert_int_equal(r.status, IPAM_ACCESS_UNBLOCKED);
	assert_string_equal(r.reason, "System log read, 42 records (MS-EVEN)");
	ipam_probemap_result(&r, IPAM_PROBEMAP_EVENTLOG, 1,
			     "result was NT_STATUS_ACCESS_DENIED\n", "IPAM1$");
	assert_int_equal(r.status, IPAM_ACCESS_BLOCKED);
	assert_string_equal(r.reason, "access denied for IPAM1$");
	/* control characters from a tool never reach a reason */
	ipam_probemap_result(&r, IPAM_PROBEMAP_EVENTLOG, 3,
			     "\n  weird\x1b[31m answer  \n", "IPAM1$");
	assert_string_equal(r.reason,
			    "failed (exit status 3: weird [31m answer)");
	free(r.reason);
}

static void test_dhcpm(void **state)
{
	struct ipam_access_result r = {0};

	(void)state;
	expect(IPAM_PROBEMAP_DHCPM, "dhcpm-not-served.txt", 1,
	       IPAM_ACCESS_BLOCKED,
	       "interface not served (NT_STATUS_OBJECT_NAME_NOT_FOUND)");
	expect(IPAM_PROBEMAP_DHCPM, "dhcpm-logon-failure.txt", 1,
	       IPAM_ACCESS_BLOCKED, "logon failure for IPAM1$");
	expect(IPAM_PROBEMAP_DHCPM, "dhcpm-netunreach.txt", 1,
	       IPAM_ACCESS_BLOCKED, "unreachable (network unreachable)");
	/* a Windows DHCP server's answer: the lab has none */
	ipam_probemap_result(&r, IPAM_PROBEMAP_DHCPM, 0,
			     "ok dhcpsrv: 3 scopes\n", "IPAM1$");
	assert_int_equal(r.status, IPAM_ACCESS_UNBLOCKED);
	assert_string_equal(r.reason,
			    "DHCP server RPC answered, 3 scopes (MS-DHCPM)");
	ipam_probemap_result(&r, IPAM_PROBEMAP_DHCPM, 1,
			     "error: DCERPC Runtime Error: code: 0x5 - "
			     "rpc_s_access_denied\n",
			     "IPAM1$");
	assert_int_equal(r.status, IPAM_ACCESS_BLOCKED);
	assert_string_equal(r.reason,
			    "failed (exit status 1: error: DCERPC Runtime "
			    "Error: code: 0x5 - rpc_s_access_denied)");
	ipam_probemap_result(&r, IPAM_PROBEMAP_DHCPM, 1,
			     "error: Kerberos SessionError: "
			     "KRB_AP_ERR_INAPP_CKSUM(Inappropriate)\n",
			     "IPAM1$");
	assert_string_equal(r.reason,
			    "Kerberos error (KRB_AP_ERR_INAPP_CKSUM)");
	free(r.reason);
}

static void test_share(void **state)
{
	struct ipam_access_result r = {0};

	(void)state;
	ipam_probemap_result(&r, IPAM_PROBEMAP_SHARE, 1,
			     "smb list '\\\\dhcp1\\dhcpaudit': "
			     "NT_STATUS_ACCESS_DENIED",
			     "IPAM1$");
	assert_string_equal(r.reason, "access denied for IPAM1$");
	ipam_probemap_result(&r, IPAM_PROBEMAP_SHARE, 1,
			     "smb list '\\\\dc1\\dhcpaudit': "
			     "NT_STATUS_BAD_NETWORK_NAME",
			     "IPAM1$");
	assert_string_equal(r.reason,
			    "share not found (NT_STATUS_BAD_NETWORK_NAME)");
	free(r.reason);
}

static void test_ntstatus_and_connect(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_probemap_ntstatus(&sb, "failed with (3221225506, 'x')");
	assert_string_equal(sb.buf, "NT_STATUS_ACCESS_DENIED");
	ipam_probemap_ntstatus(&sb, "failed with (3221229999, 'x')");
	assert_string_equal(sb.buf, "0xC00011AF");
	ipam_probemap_ntstatus(&sb, "SMB SessionError: STATUS_LOGON_FAILURE(");
	assert_string_equal(sb.buf, "NT_STATUS_LOGON_FAILURE");
	ipam_probemap_ntstatus(&sb, "no status here");
	assert_string_equal(sb.buf, "");
	ipam_probemap_connect(&sb, ENETUNREACH, "192.0.2.10", 445, 10);
	assert_string_equal(sb.buf, "unreachable (network unreachable to "
				    "192.0.2.10:445)");
	ipam_probemap_connect(&sb, ECONNREFUSED, "127.0.0.9", 445, 10);
	assert_string_equal(sb.buf, "unreachable (connection refused on 445)");
	ipam_probemap_connect(&sb, ETIMEDOUT, "10.0.0.1", 445, 10);
	assert_string_equal(sb.buf,
			    "timed out after 10 s (connect to 10.0.0.1:445)");
	ipam_probemap_account(&sb, "IPAM1$@CORP.EXAMPLE.TEST");
	assert_string_equal(sb.buf, "IPAM1$");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_eventlog),
		cmocka_unit_test(test_eventlog_inline),
		cmocka_unit_test(test_dhcpm),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_ntstatus_and_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
