/*
 * ipamctl verify against the lab, as the IPAM identity (ipam1$, from the
 * keytab the lab exports: $IPAM_LAB_IPAM_KEYTAB).  After db init,
 * discover and apply with every server managed:
 *  (1) verify -o json gives every managed server its statuses, each with
 *      a reason: DNS RPC Unblocked on the corp DC, the event log Unblocked
 *      there (ipam1$ is in IPAMUG, which reads its event logs) and
 *      Blocked on the branch DC, the dhcpaudit share of the audit file
 *      server Unblocked, DHCP RPC Blocked (no lab host serves MS-DHCPM),
 *      the TEST-NET fixtures Blocked as unreachable; each cross-checked
 *      with smbclient, rpcclient and samba-tool dns run as ipam1$; the
 *      output matches schemas/verify.schema.json, inventory shows the
 *      overall status and inventory show the details; the whole lab takes
 *      under 15 s;
 *  (2) no probe child carries a secret in its argv (the administrators'
 *      passwords, --password): /proc/<pid>/cmdline of every process is
 *      read while verify runs;
 *  (3) ipam1$ taken out of IPAMUG by hand (samba-tool group
 *      removemembers): the next verify says the share and the corp DC's
 *      event log are Blocked, access denied; apply then verify: Unblocked
 *      again;
 *  (4) the same change seen by a reconcile cycle (suspend: true, so it
 *      does not put ipam1$ back first): a signed generic webhook gets
 *      access_changed for the corp DC, Unblocked -> Blocked, with the
 *      reasons; `status` names the blocked servers.
 * At the end the GPOs and IPAMUG this test made are removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static char *tmpdir, *db_path, *cfg, *ccache;
static const char *keytab, *principal;

/* The lab's desired state with our database, every server managed, the
 * identity ipam1$ from the lab's keytab. */
static char *write_config(const char *name, const char *extra)
{
	char *dir = xasprintf("%s/%s", tmpdir, name);

	labad_write_managed_config(dir, db_path, keytab, principal, extra);
	return dir;
}

/* ---- Samba's tools as ipam1$ ------------------------------------------ */

/* A fresh ticket for ipam1$ in our own cache (a group change shows). */
static void kinit_identity(void)
{
	const char *argv[] = {"kinit", "-k",   "-t",	  keytab,
			      "-c",    ccache, principal, NULL};
	struct lab_run res;

	lab_must_succeed(argv, NULL, &res);
	lab_run_free(&res);
}

/* Run a Samba tool with ipam1$'s cache; its exit status, output in *out. */
static int as_identity(char **out, const char *const tool[])
{
	char env_cc[512], use[512];
	const char *argv[16], *env[] = {env_cc, NULL};
	struct lab_run_opts o = {.env = env, .timeout_ms = 30000};
	struct lab_run res;
	size_t n = 0;
	int code;

	snprintf(env_cc, sizeof(env_cc), "KRB5CCNAME=%s", ccache);
	snprintf(use, sizeof(use), "--use-krb5-ccache=%s", ccache);
	for (; *tool && n < 13; tool++)
		argv[n++] = *tool;
	argv[n++] = use;
	argv[n] = NULL;
	lab_must_run(argv, &o, &res);
	code = res.timed_out ? -1 : res.exit_code;
	*out = xasprintf("%s%s", res.out, res.err);
	lab_run_free(&res);
	return code;
}

static bool share_reads(const char *host, char **out)
{
	char unc[256];
	const char *t[] = {"smbclient", unc, "-c", "ls DhcpSrvLog-*", NULL};

	snprintf(unc, sizeof(unc), "//%s/dhcpaudit", host);
	return as_identity(out, t) == 0 && strstr(*out, "DhcpSrvLog-");
}

static bool eventlog_reads(const char *host, char **out)
{
	char target[256];
	const char *t[] = {"rpcclient", target, "-c",
			   "eventlog_numrecord System", NULL};

	snprintf(target, sizeof(target), "ncacn_np:%s", host);
	return as_identity(out, t) == 0 && strstr(*out, "number of records");
}

static bool dns_answers(const char *host, char **out)
{
	const char *t[] = {"samba-tool", "dns", "serverinfo", host, NULL};

	return as_identity(out, t) == 0 && strstr(*out, "pszServerName");
}

/* ---- verify's JSON ---------------------------------------------------- */

static struct ipam_node *verify_json(double *secs)
{
	struct lab_run res;
	struct ipam_node *n;
	double t0 = labad_now_s();
	char *path = xasprintf("%s/verify.json", tmpdir);

	labad_run_ipamctl(&res, "verify", "-c", cfg, "-o", "json", NULL);
	if (secs)
		*secs = labad_now_s() - t0;
	labad_expect_exit(&res, 0, "ipamctl verify -o json");
	n = labad_parse_json(res.out, res.out_len, "verify -o json");
	labad_schema_ok("verify", res.out, res.out_len, path);
	lab_run_free(&res);
	free(path);
	return n;
}

static const struct ipam_node *server(const struct ipam_node *v,
				      const char *name)
{
	const struct ipam_node *seq = labad_jkey(v, "servers");

	for (size_t i = 0; seq && i < seq->nr; i++) {
		const char *s = labad_jstr(seq->items[i], "name");

		if (s && !strcasecmp(s, name))
			return seq->items[i];
	}
	fail_msg("verify says nothing of %s", name);
	return NULL;
}

static const char *status(const struct ipam_node *s, const char *detail)
{
	return labad_jstr(labad_jkey(labad_jkey(s, "details"), detail),
			  "status");
}

static const char *reason(const struct ipam_node *s, const char *detail)
{
	return labad_jstr(labad_jkey(labad_jkey(s, "details"), detail),
			  "reason");
}

static void expect_detail(const struct ipam_node *s, const char *detail,
			  const char *want, const char *reason_has)
{
	const char *got = status(s, detail), *why = reason(s, detail);

	if (!got || strcmp(got, want) || !why ||
	    (reason_has && !strstr(why, reason_has)))
		fail_msg("%s %s: %s (%s), want %s (%s)", labad_jstr(s, "name"),
			 detail, got ? got : "-", why ? why : "no reason", want,
			 reason_has ? reason_has : "any reason");
}

/* Every applicable detail of every managed server has a reason; the
 * overall status is as the details say. */
static void expect_reasons_everywhere(const struct ipam_node *v)
{
	static const char *const det[] = {"dhcp_rpc", "dhcp_audit_share",
					  "dns_rpc", "event_log"};
	const struct ipam_node *seq = labad_jkey(v, "servers");

	assert_non_null(seq);
	assert_true(seq->nr >= 5);
	for (size_t i = 0; i < seq->nr; i++) {
		const struct ipam_node *s = seq->items[i];
		bool blocked = false, all = true;

		assert_string_equal(labad_jstr(s, "manageability"), "managed");
		for (size_t d = 0; d < 4; d++) {
			const char *st = status(s, det[d]);

			assert_non_null(st);
			if (!strcmp(st, "Not applicable"))
				continue;
			if (!reason(s, det[d]))
				fail_msg("%s %s: %s without a reason",
					 labad_jstr(s, "name"), det[d], st);
			blocked |= !strcmp(st, "Blocked");
			all &= !strcmp(st, "Unblocked");
		}
		assert_string_equal(labad_jstr(s, "overall"),
				    blocked ? "Blocked"
				    : all   ? "Unblocked"
					    : "Not checked");
		assert_string_equal(labad_jstr(s, "recommendedAction"),
				    all && !blocked ? "IPAM Access Unblocked"
						    : "Unblock IPAM Access");
	}
}

/* The fixture servers on TEST-NET-1 addresses: Blocked, unreachable. */
static size_t expect_testnet_unreachable(const struct ipam_node *v)
{
	const struct ipam_node *seq = labad_jkey(v, "servers");
	size_t n = 0;

	for (size_t i = 0; i < seq->nr; i++) {
		const struct ipam_node *s = seq->items[i];
		const char *addr = labad_jstr(s, "address");

		if (!addr || strncmp(addr, "192.0.2.", 8))
			continue;
		n++;
		assert_string_equal(labad_jstr(s, "overall"), "Blocked");
		expect_detail(s, "event_log", "Blocked",
			      "unreachable (network unreachable to 192.0.2.");
	}
	return n;
}

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	keytab = lab_need_env("IPAM_LAB_IPAM_KEYTAB");
	principal = lab_env("IPAM_LAB_IPAM_PRINCIPAL");
	if (!principal)
		principal = "IPAM1$@CORP.EXAMPLE.TEST";
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	ccache = xasprintf("FILE:%s/ccache", tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	cfg = write_config("config", "");
	labad_run_ipamctl(&res, "db", "init", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "discover", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl discover");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "apply", "-c", cfg, "--auto-approve", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(ccache);
	free(cfg);
	return 0;
}

/* ---- (1) the predicted statuses, cross-checked ------------------------- */

static void test_1_statuses(void **state)
{
	const char *corp = lab_need_forest(1, "DC");
	const char *branch = lab_need_forest(2, "DC");
	const char *audit = lab_need_env("IPAM_LAB_AUDIT_HOST");
	struct ipam_node *v;
	const struct ipam_node *s;
	struct lab_run res;
	char *out = NULL, *json_path = xasprintf("%s/inventory.json", tmpdir);
	double secs;
	bool ok;

	(void)state;
	v = verify_json(&secs);
	if (secs >= 15.0)
		fail_msg("verify of the whole lab took %.1f s (>= 15)", secs);
	expect_reasons_everywhere(v);
	if (expect_testnet_unreachable(v) < 3)
		fail_msg("fewer than 3 fixture servers on TEST-NET addresses");
	kinit_identity();

	/* the corp DC: MS-DNSP and MS-EVEN answer ipam1$ */
	s = server(v, corp);
	expect_detail(s, "dns_rpc", "Unblocked", "MS-DNSP");
	ok = dns_answers(corp, &out);
	assert_true(ok);
	free(out);
	expect_detail(s, "event_log", "Unblocked", "MS-EVEN");
	ok = eventlog_reads(corp, &out);
	if (!ok)
		fail_msg("rpcclient as ipam1$ on %s: %s", corp, out);
	free(out);
	assert_string_equal(labad_jstr(s, "overall"), "Unblocked");
	assert_string_equal(labad_jstr(s, "recommendedAction"),
			    "IPAM Access Unblocked");

	/* the branch DC, reached across the forest trust: its event log is
	 * not for IPAMUG (access denied, not a logon failure: the trust
	 * carries ipam1$), its DNS RPC answers ipam1$ */
	s = server(v, branch);
	expect_detail(s, "event_log", "Blocked", "access denied for IPAM1$");
	assert_false(eventlog_reads(branch, &out));
	assert_non_null(strstr(out, "ACCESS_DENIED"));
	free(out);
	assert_true(dns_answers(branch, &out));
	free(out);
	expect_detail(s, "dns_rpc", "Unblocked", "MS-DNSP");

	/* the audit file server: the share reads, MS-DHCPM is not served */
	s = server(v, audit);
	expect_detail(s, "dhcp_audit_share", "Unblocked", "DhcpSrvLog-");
	ok = share_reads(audit, &out);
	if (!ok)
		fail_msg("smbclient as ipam1$ on %s: %s", audit, out);
	free(out);
	expect_detail(s, "dhcp_rpc", "Blocked", NULL);

	/* inventory: the overall status; inventory show: the details */
	labad_run_ipamctl(&res, "inventory", "-c", cfg, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "inventory -o json");
	labad_schema_ok("inventory", res.out, res.out_len, json_path);
	{
		struct ipam_node *inv =
			labad_parse_json(res.out, res.out_len, "inventory");

		for (size_t i = 0; i < inv->nr; i++)
			if (!strcasecmp(labad_jstr(inv->items[i], "name"),
					corp))
				assert_string_equal(labad_jstr(inv->items[i],
							       "accessStatus"),
						    "Unblocked");
		ipam_node_free(inv);
	}
	lab_run_free(&res);
	labad_run_ipamctl(&res, "inventory", "show", audit, "-c", cfg, "-o",
			  "json", NULL);
	labad_expect_exit(&res, 0, "inventory show -o json");
	labad_schema_ok("inventory", res.out, res.out_len, json_path);
	{
		struct ipam_node *one =
			labad_parse_json(res.out, res.out_len, "show");
		const struct ipam_node *a = labad_jkey(one, "access");

		expect_detail(a, "dhcp_audit_share", "Unblocked",
			      "DhcpSrvLog-");
		assert_non_null(labad_jstr(a, "checkedAt"));
		assert_true(labad_jkey(a, "changes")->nr >= 1);
		ipam_node_free(one);
	}
	lab_run_free(&res);
	ipam_node_free(v);
	free(json_path);
}

/* ---- (2) no secret in a probe's argv ---------------------------------- */

/* The parent of pid (field 4 of /proc/PID/stat), or -1. */
static long parent_of(long pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may hold spaces and parens */
	return p ? strtol(p + 4, NULL, 10) : -1;
}

static bool descends_from(long pid, long root)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		if (pid == root)
			return true;
		pid = parent_of(pid);
	}
	return false;
}

/* The argv of root and every process below it, NULs made spaces,
 * appended to seen (one a line): other tests' processes are not ours. */
static void scan_cmdlines(struct strbuf *seen, long root)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], buf[8192];
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    !descends_from(strtol(e->d_name, NULL, 10), root))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[n] = '\0';
		strbuf_addstr(seen, buf);
		strbuf_addch(seen, '\n');
	}
	closedir(d);
}

static void test_2_no_secret_in_argv(void **state)
{
	const char *argv[] = {labad_ipamctl(), "verify", "-c", cfg, NULL};
	struct strbuf seen = STRBUF_INIT;
	const char *secrets[4] = {NULL};
	size_t nsecrets = 0;
	int st = 0;
	pid_t pid;

	(void)state;
	for (int f = 1; f <= 2; f++)
		secrets[nsecrets++] = lab_need_file(
			lab_need_forest(f, "ADMIN_PASSWORD_FILE"), NULL);
	if (lab_env("IPAM_LAB_IPAM_PASSWORD_FILE"))
		secrets[nsecrets++] = lab_need_file(
			lab_env("IPAM_LAB_IPAM_PASSWORD_FILE"), NULL);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(nul, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		scan_cmdlines(&seen, (long)pid);
		usleep(2000);
	}
	/* the probes were seen, so the scan looked at them */
	if (!strstr(seen.buf, "rpcclient") || !strstr(seen.buf, "samba-tool"))
		fail_msg("no probe child seen while verify ran");
	assert_non_null(strstr(seen.buf, "--use-krb5-ccache=FILE:"));
	for (size_t i = 0; i < nsecrets; i++) {
		if (strlen(secrets[i]) >= 6 && strstr(seen.buf, secrets[i]))
			fail_msg("a password is in a process's argv");
		free((char *)secrets[i]);
	}
	assert_null(strstr(seen.buf, "--password"));
	assert_null(strstr(seen.buf, "-U Administrator"));
	strbuf_release(&seen);
}

/* ---- (3) a membership change shows at the next verify ------------------ */

static void set_membership(bool member)
{
	char acct[128];
	const char *args[] = {"group", member ? "addmembers" : "removemembers",
			      "IPAMUG", acct, NULL};
	struct lab_run res;

	snprintf(acct, sizeof(acct), "%.*s", (int)strcspn(principal, "@"),
		 principal);
	labad_samba_tool_ok(1, args, &res);
	lab_run_free(&res);
}

static void test_3_membership(void **state)
{
	const char *corp = lab_need_forest(1, "DC");
	const char *audit = lab_need_env("IPAM_LAB_AUDIT_HOST");
	struct ipam_node *v;
	const struct ipam_node *s;
	struct lab_run res;
	char *out = NULL;

	(void)state;
	set_membership(false);
	v = verify_json(NULL);
	s = server(v, corp);
	expect_detail(s, "event_log", "Blocked", "access denied for IPAM1$");
	expect_detail(s, "dns_rpc", "Unblocked", NULL);
	assert_string_equal(labad_jstr(s, "previous"), "Unblocked");
	assert_true(labad_jkey(s, "changed")->boolean);
	s = server(v, audit);
	expect_detail(s, "dhcp_audit_share", "Blocked",
		      "access denied for IPAM1$");
	ipam_node_free(v);
	kinit_identity();
	assert_false(share_reads(audit, &out));
	assert_non_null(strstr(out, "ACCESS_DENIED"));
	free(out);
	assert_false(eventlog_reads(corp, &out));
	free(out);

	/* --remedy: the PowerShell for what is blocked on the file server
	 * (its share), and the exit status of a blocked server */
	labad_run_ipamctl(&res, "verify", "-c", cfg, "--server", audit,
			  "--remedy", "--detailed-exitcode", NULL);
	labad_expect_exit(&res, 2, "ipamctl verify --remedy");
	if (!strstr(res.out, "# DHCP audit share: Blocked (access denied "
			     "for IPAM1$") ||
	    !strstr(res.out, "New-SmbShare -Name 'dhcpaudit'") ||
	    strstr(res.out, "# DNS RPC: Blocked"))
		fail_msg("verify --remedy should unblock the share of %s:\n%s",
			 audit, res.out);
	lab_run_free(&res);

	labad_run_ipamctl(&res, "apply", "-c", cfg, "--auto-approve", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply");
	lab_run_free(&res);
	v = verify_json(NULL);
	expect_detail(server(v, corp), "event_log", "Unblocked", NULL);
	expect_detail(server(v, audit), "dhcp_audit_share", "Unblocked", NULL);
	ipam_node_free(v);
	kinit_identity();
	assert_true(share_reads(audit, &out));
	free(out);
}

/* ---- (4) access_changed from a reconcile cycle ------------------------ */

/* A webhook receiver on 127.0.0.1 in a child: each request's body, one a
 * line, appended to path, answered 200; killed by the caller. */
static pid_t receiver(int *port, const char *path)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(fd);
		return pid;
	}
	alarm(300);
	for (;;) {
		static char buf[1 << 16];
		size_t n = 0;
		char *body;
		long clen = -1;
		int c = accept(fd, NULL, NULL);
		FILE *out;

		if (c < 0)
			continue;
		for (;;) {
			ssize_t k = read(c, buf + n, sizeof(buf) - 1 - n);

			if (k <= 0)
				break;
			n += (size_t)k;
			buf[n] = '\0';
			body = strstr(buf, "\r\n\r\n");
			if (body && clen < 0) {
				char *cl = strstr(buf, "Content-Length:");

				clen = cl ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (body &&
			    (long)(n - (size_t)(body + 4 - buf)) >= clen)
				break;
		}
		body = strstr(buf, "\r\n\r\n");
		out = fopen(path, "a");
		if (out && body)
			fprintf(out, "%s\n", body + 4);
		if (out)
			fclose(out);
		dprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
			   "Connection: close\r\n\r\n");
		close(c);
	}
}

static void test_4_access_changed_event(void **state)
{
	const char *corp = lab_need_forest(1, "DC");
	char *got = xasprintf("%s/hook.txt", tmpdir);
	char *secret = xasprintf("%s/hook.secret", tmpdir);
	char *extra, *hook_cfg, *text;
	struct lab_run res;
	int port, st;
	pid_t pid;

	(void)state;
	assert_int_equal(lab_write_file(secret, "s3cret-hook-key", 15), 0);
	pid = receiver(&port, got);
	extra = xasprintf("suspend: true\n"
			  "notify:\n"
			  "  - kind: generic\n"
			  "    url: http://127.0.0.1:%d/hook\n"
			  "    secretFile: %s\n"
			  "    events: [access_changed]\n",
			  port, secret);
	hook_cfg = write_config("hook", extra);
	set_membership(false);
	labad_run_ipamctl(&res, "reconcile", "-c", hook_cfg, NULL);
	/* report only: 2 with the drift the removal is */
	if (res.exit_code != 0 && res.exit_code != 2)
		fail_msg("%s", lab_run_describe(&res, "ipamctl reconcile"));
	if (!strstr(res.out, "Access: "))
		fail_msg("reconcile did not refresh the access status:\n%s",
			 res.out);
	lab_run_free(&res);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	text = lab_need_file(got, NULL);
	if (!strstr(text, "\"event\":\"access_changed\"") ||
	    !strstr(text, corp) ||
	    !strstr(text, "\"previous\":\"Unblocked\"") ||
	    !strstr(text, "access denied for IPAM1$"))
		fail_msg("no access_changed for %s with its reasons:\n%s", corp,
			 text);
	free(text);
	labad_run_ipamctl(&res, "status", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl status");
	if (!strstr(res.out, "IPAM access blocked on ") ||
	    !strstr(strstr(res.out, "IPAM access blocked on "), corp))
		fail_msg("status should name %s as blocked:\n%s", corp,
			 res.out);
	lab_run_free(&res);
	set_membership(true);
	free(extra);
	free(hook_cfg);
	free(secret);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_statuses),
		cmocka_unit_test(test_2_no_secret_in_argv),
		cmocka_unit_test(test_3_membership),
		cmocka_unit_test(test_4_access_changed_event),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
