/*
 * What the lab promises the access probes of `ipamctl verify`, checked with
 * Samba's own tools run as the IPAM identity (ipam1$, from its keytab):
 *   - the keytab gives ipam1$ a ticket;
 *   - \\dhcp1\dhcpaudit (a corp member server) lets IPAMUG's members read
 *     and no one else, so ipam1$ is denied until it is in IPAMUG;
 *   - MS-EVEN: the corp DC lets BUILTIN\Event Log Readers read its logs
 *     (IPAMUG goes in there, as the IPAM GPO provisioning does), the branch
 *     DC only its administrators;
 *   - MS-DNSP answers ipam1$; MS-DHCPM is served by no lab host;
 *   - the fixture servers on TEST-NET-1 are unreachable at once.
 * The test changes IPAMUG of corp (made when missing) and puts it back as
 * it found it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "labad.h"
#include "labtest.h"

#define CORP	 1
#define BRANCH	 2
#define IPAM_SAM "IPAM1$"

static struct {
	char *dir;
	char cc[4200];	   /* FILE:<dir>/ipam1.cc */
	char cc_env[4300]; /* KRB5CCNAME=… */
	bool made_group, added_elr, was_member;
} acc;

static void samba_tool_ok(int f, const char *const args[])
{
	struct lab_run res;

	labad_samba_tool_ok(f, args, &res);
	lab_run_free(&res);
}

/* Is name (case-insensitive) a line of `samba-tool group listmembers`? */
static bool group_has(int f, const char *group, const char *name)
{
	const char *args[] = {"group", "listmembers", group, NULL};
	struct lab_run res;
	char **lines;
	bool found;

	labad_samba_tool_ok(f, args, &res);
	lines = lab_lines(res.out, NULL);
	found = labad_strv_has_ci(lines, name);
	lab_strv_free(lines);
	lab_run_free(&res);
	return found;
}

static void set_member(bool in)
{
	const char *args[] = {"group", in ? "addmembers" : "removemembers",
			      "IPAMUG", IPAM_SAM, NULL};

	if (group_has(CORP, "IPAMUG", IPAM_SAM) != in)
		samba_tool_ok(CORP, args);
}

/* A fresh ticket for ipam1$ from its keytab (new group memberships). */
static void kinit_ipam(void)
{
	const char *argv[] = {"kinit",
			      "-k",
			      "-t",
			      lab_need_env("IPAM_LAB_IPAM_KEYTAB"),
			      lab_need_env("IPAM_LAB_IPAM_PRINCIPAL"),
			      NULL};
	const char *env[] = {acc.cc_env, NULL};
	struct lab_run_opts o = {.env = env, .timeout_ms = 30000};
	struct lab_run res;

	lab_must_succeed(argv, &o, &res);
	lab_run_free(&res);
}

/* argv as ipam1$ (its ticket cache in KRB5CCNAME); output in *res. */
static void as_ipam(const char *const argv[], struct lab_run *res)
{
	const char *env[] = {acc.cc_env, NULL};
	struct lab_run_opts o = {.env = env, .timeout_ms = 60000};

	lab_must_run(argv, &o, res);
}

static bool said(const struct lab_run *res, const char *what)
{
	return strstr(res->out, what) != NULL || strstr(res->err, what) != NULL;
}

static void expect_said(const struct lab_run *res, const char *what,
			const char *cmd)
{
	if (!said(res, what))
		fail_msg("%s: expected %s: %s", cmd, what,
			 lab_run_describe(res, cmd));
}

static bool trusted(void)
{
	const char *t = lab_env("IPAM_LAB_TRUST");

	return t != NULL && strcmp(t, "forest") == 0;
}

static int setup(void **state)
{
	const char *show[] = {"group", "show", "IPAMUG", NULL};
	const char *add[] = {"group",
			     "add",
			     "IPAMUG",
			     "--group-scope=Universal",
			     "--group-type=Security",
			     NULL};
	const char *elr[] = {"group", "addmembers", "Event Log Readers",
			     "IPAMUG", NULL};
	struct lab_run res;

	(void)state;
	acc.dir = lab_mkdtemp();
	assert_non_null(acc.dir);
	snprintf(acc.cc, sizeof(acc.cc), "FILE:%s/ipam1.cc", acc.dir);
	snprintf(acc.cc_env, sizeof(acc.cc_env), "KRB5CCNAME=%s", acc.cc);
	labad_samba_tool(CORP, show, &res);
	acc.made_group = res.exit_code != 0;
	lab_run_free(&res);
	if (acc.made_group)
		samba_tool_ok(CORP, add);
	acc.was_member = group_has(CORP, "IPAMUG", IPAM_SAM);
	if (!group_has(CORP, "Event Log Readers", "IPAMUG")) {
		samba_tool_ok(CORP, elr);
		acc.added_elr = true;
	}
	return 0;
}

static int teardown(void **state)
{
	const char *del[] = {"group", "delete", "IPAMUG", NULL};
	const char *elr[] = {"group", "removemembers", "Event Log Readers",
			     "IPAMUG", NULL};

	(void)state;
	if (acc.made_group) {
		samba_tool_ok(CORP, del);
	} else {
		if (acc.added_elr)
			samba_tool_ok(CORP, elr);
		set_member(acc.was_member);
	}
	lab_rm_rf(acc.dir);
	free(acc.dir);
	return 0;
}

static void test_identity(void **state)
{
	const char *keytab = lab_need_env("IPAM_LAB_IPAM_KEYTAB");
	const char *klist[] = {"klist", acc.cc, NULL};
	struct lab_run res;
	struct stat st;

	(void)state;
	assert_string_equal(lab_need_env("IPAM_LAB_IPAM_PRINCIPAL"),
			    "IPAM1$@CORP.EXAMPLE.TEST");
	assert_string_equal(lab_need_env("IPAM_LAB_IPAM_SERVER"),
			    "ipam1.corp.example.test");
	if (stat(keytab, &st) != 0)
		fail_msg("%s: %s", keytab, strerror(errno));
	assert_int_equal(st.st_mode & 0777, 0600);
	kinit_ipam();
	as_ipam(klist, &res);
	expect_said(&res, "Default principal: IPAM1$@CORP.EXAMPLE.TEST",
		    "klist");
	lab_run_free(&res);
}

/* smbclient //dhcp1/dhcpaudit -c command as ipam1$ (Kerberos). */
static void share_as_ipam(const char *command, struct lab_run *res)
{
	char service[512];
	const char *argv[] = {"smbclient", service, "--use-kerberos=required",
			      "-N",	   "-c",    command,
			      NULL};

	snprintf(service, sizeof(service), "//%s/%s",
		 lab_need_env("IPAM_LAB_AUDIT_HOST"),
		 lab_need_env("IPAM_LAB_AUDIT_SHARE"));
	as_ipam(argv, res);
}

static void test_share_needs_ipamug(void **state)
{
	char service[512];
	const char *admin[] = {
		"smbclient", service,
		"-A",	     lab_need_forest(CORP, "SMB_AUTH_FILE"),
		"-c",	     "ls",
		NULL};
	struct lab_run res;

	(void)state;
	set_member(false);
	kinit_ipam();
	share_as_ipam("ls", &res);
	assert_int_not_equal(res.exit_code, 0);
	expect_said(&res, "NT_STATUS_ACCESS_DENIED", "smbclient as ipam1$");
	lab_run_free(&res);

	/* Not for others either: corp's Administrator is not in IPAMUG. */
	snprintf(service, sizeof(service), "//%s/%s",
		 lab_need_env("IPAM_LAB_AUDIT_HOST"),
		 lab_need_env("IPAM_LAB_AUDIT_SHARE"));
	lab_must_run(admin, NULL, &res);
	assert_int_not_equal(res.exit_code, 0);
	expect_said(&res, "NT_STATUS_ACCESS_DENIED", "smbclient as admin");
	lab_run_free(&res);
}

static void test_share_reads_in_ipamug(void **state)
{
	char local[4200], cmd[4300], fixture[4096];
	char *got, *want;
	size_t got_len, want_len;
	struct lab_run res;

	(void)state;
	set_member(true);
	kinit_ipam();
	share_as_ipam("ls", &res);
	if (res.exit_code != 0 || !said(&res, "DhcpSrvLog-Mon.log"))
		fail_msg("%s", lab_run_describe(&res, "smbclient ls"));
	lab_run_free(&res);

	snprintf(local, sizeof(local), "%s/Mon.log", acc.dir);
	snprintf(cmd, sizeof(cmd), "get DhcpSrvLog-Mon.log %s", local);
	share_as_ipam(cmd, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "smbclient get"));
	lab_run_free(&res);
	snprintf(fixture, sizeof(fixture), "%s/audit/DhcpSrvLog-Mon.log",
		 lab_need_env("IPAM_LAB_FIXTURES"));
	got = lab_need_file(local, &got_len);
	want = lab_need_file(fixture, &want_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(got);
	free(want);
}

/* rpcclient DC -c 'eventlog_numrecord "log"': as ipam1$ or as the admin. */
static void eventlog(int f, const char *log, bool admin, struct lab_run *res)
{
	char cmd[256];
	const char *argv[] = {"rpcclient",
			      lab_need_forest(f, "DC"),
			      admin ? "-A" : "--use-kerberos=required",
			      admin ? lab_need_forest(f, "SMB_AUTH_FILE")
				    : "-N",
			      "-c",
			      cmd,
			      NULL};

	snprintf(cmd, sizeof(cmd), "eventlog_numrecord \"%s\"", log);
	if (admin)
		lab_must_run(argv, NULL, res);
	else
		as_ipam(argv, res);
}

static void test_eventlog(void **state)
{
	static const char *const logs[] = {"Application", "System",
					   "DNS Server", NULL};
	struct lab_run res;

	(void)state;
	for (size_t i = 0; logs[i] != NULL; i++)
		for (int f = CORP; f <= BRANCH; f++) {
			eventlog(f, logs[i], true, &res);
			expect_said(&res,
				    "number of records: ", "eventlog as admin");
			lab_run_free(&res);
		}
	/* A log not in `eventlog list`. */
	eventlog(CORP, "Security", true, &res);
	expect_said(&res, "NT_STATUS_OBJECT_PATH_INVALID", "eventlog Security");
	lab_run_free(&res);

	set_member(true);
	kinit_ipam();
	for (size_t i = 0; logs[i] != NULL; i++) {
		eventlog(CORP, logs[i], false, &res);
		expect_said(&res, "number of records: ", "corp, in IPAMUG");
		lab_run_free(&res);
	}
	eventlog(BRANCH, "System", false, &res);
	if (said(&res, "number of records"))
		fail_msg("the branch DC let ipam1$ read its System log");
	if (trusted())
		expect_said(&res, "NT_STATUS_ACCESS_DENIED", "branch");
	lab_run_free(&res);

	set_member(false);
	kinit_ipam();
	eventlog(CORP, "System", false, &res);
	expect_said(&res, "NT_STATUS_ACCESS_DENIED", "corp, not in IPAMUG");
	lab_run_free(&res);
}

static void test_dns_rpc(void **state)
{
	char ccopt[4300];
	struct lab_run res;

	(void)state;
	snprintf(ccopt, sizeof(ccopt), "--use-krb5-ccache=%s", acc.cc);
	kinit_ipam();
	for (int f = CORP; f <= BRANCH; f++) {
		const char *argv[] = {"samba-tool", "dns",
				      "serverinfo", lab_need_forest(f, "DC"),
				      ccopt,	    NULL};

		as_ipam(argv, &res);
		if (f == CORP || trusted()) {
			if (res.exit_code != 0 || !said(&res, "dwVersion"))
				fail_msg("%s", lab_run_describe(
						       &res, "dns serverinfo"));
		} else {
			/* No trust: no ticket for the branch DC. */
			assert_int_not_equal(res.exit_code, 0);
		}
		lab_run_free(&res);
	}
}

/* dhcpm_bind.py HOST how arg: its one line. */
static void dhcpm(const char *host, const char *how, const char *arg,
		  struct lab_run *res)
{
	const char *argv[] = {"/usr/bin/python3",
			      lab_need_env("IPAM_LAB_DHCPM_PROBE"),
			      host,
			      how,
			      arg,
			      NULL};

	as_ipam(argv, res);
	if (res->exit_code != 0)
		fail_msg("%s", lab_run_describe(res, "dhcpm_bind.py"));
}

static void test_dhcpm_not_served(void **state)
{
	const char *pw = lab_need_env("IPAM_LAB_IPAM_PASSWORD_FILE");
	struct lab_run res;

	char spn[512];
	const char *kvno[] = {"kvno", spn, NULL};

	(void)state;
	/* impacket 0.10's own TGS-REQ gets KRB_AP_ERR_INAPP_CKSUM from
	 * Samba 4.17's KDC: the service ticket comes from MIT's kvno.  The
	 * member server (MIT acceptor) refuses impacket's AP-REQ even so
	 * (STATUS_LOGON_FAILURE): NTLM with the password there. */
	kinit_ipam();
	snprintf(spn, sizeof(spn), "cifs/%s", lab_need_forest(CORP, "DC"));
	as_ipam(kvno, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "kvno"));
	lab_run_free(&res);
	dhcpm(lab_need_forest(CORP, "DC"), "kerberos",
	      lab_need_forest(CORP, "DC_IP"), &res);
	expect_said(&res, "STATUS_OBJECT_NAME_NOT_FOUND", "dhcpm corp DC");
	lab_run_free(&res);
	dhcpm(lab_need_env("IPAM_LAB_AUDIT_HOST"), "password", pw, &res);
	expect_said(&res, "STATUS_OBJECT_NAME_NOT_FOUND", "dhcpm dhcp1");
	lab_run_free(&res);
}

/* connect() to addr:445 fails with errno want within max_ms. */
static void expect_connect_fails(const char *addr, int want, int max_ms)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(445)};
	double t0 = labad_now_s(), ms;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc, err;

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	err = errno;
	ms = (labad_now_s() - t0) * 1000;
	close(fd);
	if (rc == 0)
		fail_msg("%s:445 accepted a connection", addr);
	if (err != want)
		fail_msg("%s:445: %s, want %s", addr, strerror(err),
			 strerror(want));
	if (ms > max_ms)
		fail_msg("%s:445 took %.0f ms to fail", addr, ms);
}

static void test_unreachable_fast(void **state)
{
	(void)state;
	/* TEST-NET-1 fixtures (dc2, ipam1, bdc2...): no route at all. */
	expect_connect_fails("192.0.2.2", ENETUNREACH, 500);
	expect_connect_fails("192.0.2.50", ENETUNREACH, 500);
	expect_connect_fails("192.0.2.102", ENETUNREACH, 500);
	/* dhcp2 is up with nothing on 445; bdhcp1 has no SMB server. */
	expect_connect_fails("198.51.100.11", ECONNREFUSED, 500);
	expect_connect_fails("198.51.100.20", ECONNREFUSED, 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_share_needs_ipamug),
		cmocka_unit_test(test_share_reads_in_ipamug),
		cmocka_unit_test(test_eventlog),
		cmocka_unit_test(test_dns_rpc),
		cmocka_unit_test(test_dhcpm_not_served),
		cmocka_unit_test(test_unreachable_fast),
	};

	return cmocka_run_group_tests_name("lab_access_env", tests, setup,
					   teardown);
}
