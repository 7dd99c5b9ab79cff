/*
 * The address space against the lab: an addressSpace with the lab's
 * networks as blocks, the servers' network as a static range and dhcp1's
 * DHCP range (dnsmasq's 198.51.100.100-198.51.100.199) as a DHCP range of
 * dhcp1; every server managed, the identity ipam1$.  Setup puts a log of
 * today's leases on dhcp1's audit share (smbclient, as the share's
 * administrator) beside the fixtures' old ones, adds an A record in the
 * DHCP range and one outside every block (samba-tool), and runs db init,
 * discover, apply and verify.
 *  (1) after `collect`, `addresses -o json` (valid against its schema)
 *      has for each range and block the used and free counts this test
 *      computes itself: the leases from the audit files fetched with
 *      smbclient (the last lease event per address decides; a lease lasts
 *      the documented 8 days), the A/AAAA records samba-tool lists in
 *      every zone of both forests, and the inventory's addresses (the
 *      database's shell on the database discover filled);
 *      the record outside every block is listed unmapped;
 *      `addresses show IP` of a leased address has its lease history;
 *  (2) the DHCP range's overUtilized moved below its use: the next
 *      `collect` sends one `utilization` webhook (to a Python HTTP
 *      receiver on loopback checking the HMAC signature) naming the
 *      range, over, previously optimal; one more collect sends none.
 * At the end the log, the records and the GPOs this test made are gone.
 */
#define _GNU_SOURCE /* timegm */
#include <arpa/inet.h>
#include <setjmp.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

#define LOG	     "DhcpSrvLog-Sun.log"
#define DHCP_RANGE   "198.51.100.100-198.51.100.199"
#define STATIC_RANGE "192.0.2.0/24"
#define UNMAPPED     "203.0.113.77"
#define LEASE_SECS   (8LL * 24 * 3600)

static char *tmpdir, *db_path, *cfg, *hooks_path, *secret;
static const char *keytab, *principal, *host;
static pid_t receiver_pid;
static int port;

/* ---- the webhook receiver ---------------------------------------------- */

/* Each POST one JSON line in argv[2]: the event header, whether the HMAC
 * signature (key in argv[1]) is good, the body; its port into argv[3]. */
static const char receiver_py[] =
	"import hashlib, hmac, http.server, json, os, sys\n"
	"key = open(sys.argv[1], 'rb').read()\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_POST(self):\n"
	"        n = int(self.headers['Content-Length'])\n"
	"        body = self.rfile.read(n)\n"
	"        want = 'sha256=' + hmac.new(key, body, "
	"hashlib.sha256).hexdigest()\n"
	"        sig = self.headers.get('X-Ipamctl-Signature-256', '')\n"
	"        with open(sys.argv[2], 'a') as f:\n"
	"            f.write(json.dumps({\n"
	"                'event': self.headers.get('X-Ipamctl-Event'),\n"
	"                'signed': hmac.compare_digest(sig, want),\n"
	"                'body': json.loads(body)}) + '\\n')\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Length', '0')\n"
	"        self.end_headers()\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	"with open(sys.argv[3] + '.tmp', 'w') as f:\n"
	"    f.write(str(s.server_port))\n"
	"os.rename(sys.argv[3] + '.tmp', sys.argv[3])\n"
	"s.serve_forever()\n";

static void start_receiver(void)
{
	char *port_file = xasprintf("%s/port", tmpdir), *text = NULL;

	fflush(NULL);
	receiver_pid = fork();
	assert_true(receiver_pid >= 0);
	if (receiver_pid == 0) {
		execl("/usr/bin/python3", "python3", "-c", receiver_py, secret,
		      hooks_path, port_file, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !text; i++) {
		struct timespec ts = {0, 100000000};

		text = lab_read_file(port_file, 64, NULL);
		if (!text)
			nanosleep(&ts, NULL);
	}
	if (!text)
		fail_msg("the webhook receiver did not start");
	port = atoi(text);
	free(text);
	free(port_file);
}

/* ---- the audit share and DNS, as their administrators ------------------ */

static int smb_admin(const char *command, struct lab_run *res)
{
	char service[256];
	const char *argv[] = {
		"smbclient", service,
		"-A",	     lab_need_env("IPAM_LAB_AUDIT_ADMIN_AUTH_FILE"),
		"-c",	     command,
		NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};

	snprintf(service, sizeof(service), "//%s/%s", host,
		 lab_need_env("IPAM_LAB_AUDIT_SHARE"));
	lab_must_run(argv, &o, res);
	return res->exit_code || strstr(res->out, "NT_STATUS_") ? -1 : 0;
}

static void smb_admin_ok(const char *command)
{
	struct lab_run res;

	if (smb_admin(command, &res))
		fail_msg("%s", lab_run_describe(&res, command));
	lab_run_free(&res);
}

/* samba-tool dns ARGS... against forest f's DC as its administrator. */
static int samba_dns(int f, const char *const args[], struct lab_run *res)
{
	char pw[4096];
	const char *argv[24], *env[] = {pw, NULL};
	struct lab_run_opts o = {.env = env, .timeout_ms = 60000};
	size_t n = 0;

	snprintf(pw, sizeof(pw), "PASSWD_FILE=%s",
		 lab_need_forest(f, "ADMIN_PASSWORD_FILE"));
	argv[n++] = "samba-tool";
	argv[n++] = "dns";
	argv[n++] = args[0];
	argv[n++] = lab_need_forest(f, "DC");
	for (args++; *args && n < 20; args++)
		argv[n++] = *args;
	argv[n++] = "-U";
	argv[n++] = lab_need_forest(f, "ADMIN_USER");
	argv[n] = NULL;
	lab_must_run(argv, &o, res);
	return res->timed_out ? -1 : res->exit_code;
}

static const char *const records[][2] = {
	{"fx-addr-in", "198.51.100.160"},
	{"fx-addr-out", UNMAPPED},
};

static void records_change(const char *verb, bool must)
{
	for (size_t i = 0; i < sizeof(records) / sizeof(*records); i++) {
		const char *args[] = {verb, "corp.example.test", records[i][0],
				      "A",  records[i][1],	 NULL};
		struct lab_run res;

		if (samba_dns(1, args, &res) && must)
			fail_msg("%s", lab_run_describe(&res, "samba-tool"));
		lab_run_free(&res);
	}
}

/* ---- today's log ------------------------------------------------------- */

/* "MM/DD/YY,HH:MM:SS" of now - ago, as the server writes its local time
 * (taken as UTC here: every lease is hours from the 8-day boundary). */
static void stamp(char *buf, size_t size, long long ago)
{
	time_t t = time(NULL) - (time_t)ago;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%02d/%02d/%02d,%02d:%02d:%02d", tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_year % 100, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

static void put_todays_log(void)
{
	static const struct {
		int id;
		long long ago;
		const char *ip, *name, *mac;
	} ev[] = {
		{10, 3 * 3600, "198.51.100.150", "fxa1", "00155DAA0150"},
		{10, 3 * 3600, "198.51.100.151", "fxa2", "00155DAA0151"},
		{12, 2 * 3600, "198.51.100.151", "fxa2", "00155DAA0151"},
		{10, 2 * 3600, "198.51.100.152", "fxa3", "00155DAA0152"},
		{11, 3600, "198.51.100.152", "fxa3", "00155DAA0152"},
		{10, 3600, "198.51.100.101", "fxa4", "00155DAA0101"},
	};
	char *fixture = xasprintf("%s/audit/DhcpSrvLog-Mon.log",
				  lab_need_env("IPAM_LAB_FIXTURES"));
	char *text = lab_need_file(fixture, NULL), *cols, *local, *cmd;
	struct strbuf sb = STRBUF_INIT;

	/* the fixture's header up to its column line, then our events */
	cols = strstr(text, "\nID,Date,Time");
	assert_non_null(cols);
	cols = strchr(cols + 1, '\n');
	assert_non_null(cols);
	strbuf_add(&sb, text, (size_t)(cols + 1 - text));
	for (size_t i = 0; i < sizeof(ev) / sizeof(*ev); i++) {
		char at[32];

		stamp(at, sizeof(at), ev[i].ago);
		strbuf_addf(&sb,
			    "%d,%s,%s,%s,%s.corp.example.test,%s,,1,0,,,,,,,,,"
			    "0\r\n",
			    ev[i].id, at, ev[i].id == 12 ? "Release" : "Assign",
			    ev[i].ip, ev[i].name, ev[i].mac);
	}
	local = xasprintf("%s/%s", tmpdir, LOG);
	assert_int_equal(lab_write_file(local, sb.buf, sb.len), 0);
	cmd = xasprintf("put %s %s", local, LOG);
	smb_admin_ok(cmd);
	free(cmd);
	free(local);
	strbuf_release(&sb);
	free(text);
	free(fixture);
}

/* ---- config and ipamctl ------------------------------------------------ */

static char *write_config_server(const char *name, int over, const char *server)
{
	char *dir = xasprintf("%s/%s", tmpdir, name);
	char *extra = xasprintf(
		"addressSpace:\n"
		"  blocks:\n"
		"    - {cidr: 192.0.2.0/24, description: servers}\n"
		"    - {cidr: 198.51.100.0/24, description: dhcp network}\n"
		"  ranges:\n"
		"    - {cidr: " STATIC_RANGE ", assignment: static}\n"
		"    - start: 198.51.100.100\n"
		"      end: 198.51.100.199\n"
		"      assignment: dhcp\n"
		"      dhcpServer: %s\n"
		"      underUtilized: 0\n"
		"      overUtilized: %d\n"
		"notify:\n"
		"  - kind: generic\n"
		"    url: http://127.0.0.1:%d/hook\n"
		"    secretFile: %s\n"
		"    events: [utilization]\n",
		server, over, port, secret);

	labad_write_managed_config(dir, db_path, keytab, principal, extra);
	free(extra);
	return dir;
}

static char *write_config(const char *name, int over)
{
	return write_config_server(name, over, "dhcp1.corp.example.test");
}

static void collect(void)
{
	struct lab_run res;

	labad_run_ipamctl(&res, "collect", "-c", cfg, NULL);
	/* unreachable fixture servers make some tasks partial */
	if (res.exit_code != 0 && res.exit_code != 1)
		fail_msg("%s", lab_run_describe(&res, "ipamctl collect"));
	lab_run_free(&res);
}

static struct ipam_node *addresses_json(const char *a, const char *b)
{
	struct lab_run res;
	struct ipam_node *n;
	char *path = xasprintf("%s/out.json", tmpdir);

	labad_run_ipamctl(&res, "addresses", "-c", cfg, "-o", "json", a, b,
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl addresses");
	labad_schema_ok("addresses", res.out, res.out_len, path);
	n = labad_parse_json(res.out, res.out_len, "ipamctl addresses");
	lab_run_free(&res);
	free(path);
	return n;
}

/* ---- what the test expects, from the sources themselves ---------------- */

/* The last lease event of one address. */
struct lease {
	char ip[64];
	long long at;
	long seq;
	int id;
};

static int lease_kind(int id)
{
	switch (id) {
	case 10:
	case 11:
	case 11002:
	case 11003:
	case 11004:
	case 11005:
		return 1; /* holds it */
	case 12:
	case 16:
	case 17:
	case 18:
	case 11007:
	case 11016:
	case 11018:
		return 2; /* ends it */
	default:
		return 0;
	}
}

static void lease_event(struct lease **v, size_t *nr, const char *ip,
			long long at, long seq, int id)
{
	size_t i;

	for (i = 0; i < *nr && strcmp((*v)[i].ip, ip); i++)
		;
	if (i == *nr) {
		*v = realloc(*v, (*nr + 1) * sizeof(**v));
		memset(&(*v)[i], 0, sizeof(**v));
		snprintf((*v)[i].ip, sizeof((*v)[i].ip), "%s", ip);
		(*v)[i].at = -1;
		(*nr)++;
	}
	if (at > (*v)[i].at || (at == (*v)[i].at && seq > (*v)[i].seq)) {
		(*v)[i].at = at;
		(*v)[i].seq = seq;
		(*v)[i].id = id;
	}
}

/* The events of one log file fetched from the share into v. */
static void parse_log(const char *text, long *seq, struct lease **v, size_t *nr)
{
	char **lines = labad_lines(text);

	for (size_t i = 0; lines[i]; i++) {
		char *f[8] = {0}, *l = xstrdup(lines[i]), *p;
		int mo, d, y, h, mi, s, n = 0;
		struct tm tm = {0};

		/* strtok would merge empty columns: split by hand */
		for (p = l; n < 8; n++) {
			f[n] = p;
			p = strchr(p, ',');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (n >= 4 && f[0][0] >= '0' && f[0][0] <= '9' &&
		    lease_kind(atoi(f[0])) && f[4] && *f[4] &&
		    sscanf(f[1], "%d/%d/%d", &mo, &d, &y) == 3 &&
		    sscanf(f[2], "%d:%d:%d", &h, &mi, &s) == 3) {
			tm.tm_year = y + 100;
			tm.tm_mon = mo - 1;
			tm.tm_mday = d;
			tm.tm_hour = h;
			tm.tm_min = mi;
			tm.tm_sec = s;
			lease_event(v, nr, f[4], (long long)timegm(&tm), ++*seq,
				    atoi(f[0]));
		}
		free(l);
	}
	lab_strv_free(lines);
}

/* The addresses holding a lease now, from every log on the share. */
static char **leased_now(void)
{
	struct lab_run res;
	char **lines, **out = labad_strv_new();
	struct lease *v = NULL;
	size_t nr = 0, nout = 0;
	long seq = 0;
	long long now = (long long)time(NULL);

	if (smb_admin("ls Dhcp*.log", &res))
		fail_msg("%s", lab_run_describe(&res, "smbclient ls"));
	lines = labad_lines(res.out);
	lab_run_free(&res);
	for (size_t i = 0; lines[i]; i++) {
		char name[256], *local, *cmd, *text;

		if (sscanf(lines[i], " %255s", name) != 1 ||
		    strncasecmp(name, "Dhcp", 4) ||
		    strcasecmp(name + strlen(name) - 4, ".log"))
			continue;
		local = xasprintf("%s/fetched-%s", tmpdir, name);
		cmd = xasprintf("get %s %s", name, local);
		smb_admin_ok(cmd);
		text = lab_need_file(local, NULL);
		parse_log(text, &seq, &v, &nr);
		free(text);
		free(cmd);
		free(local);
	}
	lab_strv_free(lines);
	for (size_t i = 0; i < nr; i++)
		if (lease_kind(v[i].id) == 1 && v[i].at + LEASE_SECS > now)
			labad_strv_push(&out, &nout, v[i].ip);
	free(v);
	return out;
}

/* The A and AAAA data under name of zone (samba-tool lists a node's
 * records and its children one level down; deeper ones asked for). */
static void dns_walk(int f, const char *zone, const char *name, char ***set,
		     size_t *nr)
{
	const char *args[] = {"query", zone, name, "ALL", NULL};
	struct lab_run res;
	char **lines, **todo = labad_strv_new();
	size_t ntodo = 0;

	if (samba_dns(f, args, &res)) {
		lab_run_free(&res);
		lab_strv_free(todo);
		return;
	}
	lines = labad_lines(res.out);
	for (size_t i = 0; lines[i]; i++) {
		const char *l = lines[i] + strspn(lines[i], " ");
		char child[512], data[128];
		unsigned long recs, kids;

		if (sscanf(l, "Name=%511[^,], Records=%lu, Children=%lu", child,
			   &recs, &kids) == 3) {
			if (kids) {
				char *sub = strcmp(name, "@")
						    ? xasprintf("%s.%s", child,
								name)
						    : xstrdup(child);

				labad_strv_push(&todo, &ntodo, sub);
				free(sub);
			}
			continue;
		}
		if ((sscanf(l, "A: %127s", data) == 1 ||
		     sscanf(l, "AAAA: %127s", data) == 1) &&
		    !labad_strv_has(*set, data))
			labad_strv_push(set, nr, data);
	}
	lab_strv_free(lines);
	lab_run_free(&res);
	for (size_t i = 0; i < ntodo; i++)
		dns_walk(f, zone, todo[i], set, nr);
	lab_strv_free(todo);
}

/* Every A/AAAA address in every zone of both forests. */
static char **dns_addresses(void)
{
	char **set = labad_strv_new();
	size_t nr = 0;

	for (int f = 1; f <= 2; f++) {
		const char *args[] = {"zonelist", NULL};
		struct lab_run res;
		char **lines;

		if (samba_dns(f, args, &res))
			fail_msg("%s", lab_run_describe(&res, "zonelist"));
		lines = labad_lines(res.out);
		lab_run_free(&res);
		for (size_t i = 0; lines[i]; i++) {
			char zone[256];

			if (sscanf(lines[i], " pszZoneName : %255s", zone) == 1)
				dns_walk(f, zone, "@", &set, &nr);
		}
		lab_strv_free(lines);
	}
	return set;
}

/* The inventory's addresses, read with the database's shell. */
static char **inventory_addresses(void)
{
	char *out = sqlite_query(
		db_path, "SELECT a.address FROM server_addresses a JOIN "
			 "servers s ON s.id = a.server_id WHERE s.status NOT "
			 "IN ('gone', 'declared_not_found')");
	char **lines = labad_lines(out);

	free(out);
	return lines;
}

static uint32_t v4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ? ntohl(a.s_addr) : 0;
}

/* How many of the addresses of sets (IPv4) lie in first..last. */
static long count_in(char **sets[], size_t n, uint32_t first, uint32_t last)
{
	char **seen = labad_strv_new();
	size_t nr = 0;

	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; sets[k][i]; i++) {
			uint32_t a = v4(sets[k][i]);

			if (a && a >= first && a <= last &&
			    !labad_strv_has(seen, sets[k][i]))
				labad_strv_push(&seen, &nr, sets[k][i]);
		}
	lab_strv_free(seen);
	return (long)nr;
}

/* ---- the tests ----------------------------------------------------------- */

static const struct ipam_node *usage_of(const struct ipam_node *n,
					const char *name)
{
	const struct ipam_node *seq = labad_jkey(n, "ranges");

	for (size_t i = 0; seq && i < seq->nr; i++)
		if (!strcmp(labad_jstr(seq->items[i], "name"), name))
			return seq->items[i];
	fail_msg("addresses -o json has no %s", name);
	return NULL;
}

static void expect_usage(const struct ipam_node *n, const char *name, long size,
			 long used)
{
	const struct ipam_node *u = usage_of(n, name);
	const struct ipam_node *got = labad_jkey(u, "used");
	char want_free[32];

	if (!got || got->kind != IPAM_NODE_INT || got->num != used)
		fail_msg("%s: used %lld, want %ld", name, got ? got->num : -1,
			 used);
	snprintf(want_free, sizeof(want_free), "%ld", size - used);
	if (strcmp(labad_jstr(u, "free"), want_free))
		fail_msg("%s: free %s, want %s", name, labad_jstr(u, "free"),
			 want_free);
	printf("# %s: %ld of %ld used\n", name, used, size);
}

static void test_used_and_free_from_the_sources(void **state)
{
	char **leases, **dns, **inv, **sets[3];
	struct ipam_node *n, *one;
	const struct ipam_node *un, *hist;
	bool found = false;

	(void)state;
	collect();
	leases = leased_now();
	dns = dns_addresses();
	inv = inventory_addresses();
	/* today's log: .150 and .152 (renewed) and .101 (reused) hold a
	 * lease, .151 was released */
	assert_true(labad_strv_has(leases, "198.51.100.150"));
	assert_true(labad_strv_has(leases, "198.51.100.152"));
	assert_false(labad_strv_has(leases, "198.51.100.151"));
	assert_true(labad_strv_has(dns, UNMAPPED));
	sets[0] = leases;
	sets[1] = dns;
	sets[2] = inv;
	n = addresses_json(NULL, NULL);
	expect_usage(
		n, DHCP_RANGE, 100,
		count_in(sets, 3, v4("198.51.100.100"), v4("198.51.100.199")));
	expect_usage(n, STATIC_RANGE, 256,
		     count_in(sets, 3, v4("192.0.2.0"), v4("192.0.2.255")));
	expect_usage(
		n, "198.51.100.0/24", 256,
		count_in(sets, 3, v4("198.51.100.0"), v4("198.51.100.255")));
	/* outside every block and range: unmapped */
	un = labad_jkey(n, "unmapped");
	for (size_t i = 0; un && i < un->nr; i++)
		if (!strcmp(labad_jstr(un->items[i], "ip"), UNMAPPED)) {
			found = true;
			assert_string_equal(labad_jstr(un->items[i], "host"),
					    "fx-addr-out.corp.example.test");
		}
	if (!found)
		fail_msg("%s is not listed unmapped", UNMAPPED);
	ipam_node_free(n);
	/* one leased address in full, with its lease history */
	one = addresses_json("show", "198.51.100.152");
	assert_string_equal(labad_jstr(one, "state"), "in_use");
	assert_string_equal(labad_jstr(one, "mac"), "00155daa0152");
	hist = labad_jkey(one, "leaseHistory");
	assert_non_null(hist);
	assert_int_equal(hist->nr, 2);
	assert_int_equal(labad_jkey(hist->items[0], "eventId")->num, 11);
	assert_int_equal(labad_jkey(hist->items[1], "eventId")->num, 10);
	ipam_node_free(one);
	lab_strv_free(leases);
	lab_strv_free(dns);
	lab_strv_free(inv);
}

/* The utilization webhooks the receiver got for the DHCP range. */
static size_t hooks_for_range(struct ipam_node **last)
{
	char *text = lab_read_file(hooks_path, 1 << 20, NULL);
	char **lines = text ? labad_lines(text) : labad_strv_new();
	size_t n = 0;

	*last = NULL;
	for (size_t i = 0; lines[i]; i++) {
		struct ipam_node *h = labad_parse_json(
			lines[i], strlen(lines[i]), "the receiver's line");
		const struct ipam_node *det =
			labad_jkey(labad_jkey(h, "body"), "details");

		if (strcmp(labad_jstr(h, "event"), "utilization") ||
		    strcmp(labad_jstr(det, "range"), DHCP_RANGE)) {
			ipam_node_free(h);
			continue;
		}
		assert_true(labad_jkey(h, "signed")->boolean);
		n++;
		ipam_node_free(*last);
		*last = h;
	}
	lab_strv_free(lines);
	free(text);
	return n;
}

static void test_threshold_crossing_sends_the_webhook(void **state)
{
	struct ipam_node *h;
	const struct ipam_node *det;

	(void)state;
	collect();
	assert_int_equal(hooks_for_range(&h), 0);
	/* the DHCP range is a few percent used (optimal with underUtilized
	 * 0): over 1 % is over */
	free(cfg);
	cfg = write_config("over", 1);
	collect();
	assert_int_equal(hooks_for_range(&h), 1);
	det = labad_jkey(labad_jkey(h, "body"), "details");
	assert_string_equal(labad_jstr(det, "state"), "over");
	assert_string_equal(labad_jstr(det, "previous"), "optimal");
	assert_string_equal(labad_jstr(det, "block"), "198.51.100.0/24");
	ipam_node_free(h);
	/* no crossing, no webhook */
	collect();
	assert_int_equal(hooks_for_range(&h), 1);
	ipam_node_free(h);
}

static void cleanup_lab(void)
{
	struct lab_run res;

	records_change("delete", false);
	smb_admin("del " LOG, &res);
	lab_run_free(&res);
}

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	keytab = lab_need_env("IPAM_LAB_IPAM_KEYTAB");
	principal = lab_env("IPAM_LAB_IPAM_PRINCIPAL");
	if (!principal)
		principal = "IPAM1$@CORP.EXAMPLE.TEST";
	host = lab_need_env("IPAM_LAB_AUDIT_HOST");
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	hooks_path = xasprintf("%s/hooks.jsonl", tmpdir);
	secret = xasprintf("%s/hook.secret", tmpdir);
	assert_int_equal(lab_write_file(secret, "addresses-hook-key", 18), 0);
	start_receiver();
	cleanup_lab();
	records_change("add", true);
	put_todays_log();
	cfg = write_config("config", 80);
	labad_run_ipamctl(&res, "db", "init", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "discover", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl discover");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "apply", "-c", cfg, "--auto-approve", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "verify", "-c", cfg, NULL);
	if (res.exit_code != 0 && res.exit_code != 1 && res.exit_code != 2)
		fail_msg("%s", lab_run_describe(&res, "ipamctl verify"));
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	struct labad_forest fo;
	int st;

	(void)state;
	if (receiver_pid > 0) {
		kill(receiver_pid, SIGTERM);
		waitpid(receiver_pid, &st, 0);
	}
	cleanup_lab();
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&fo, f);
		labad_remove_leftovers(&fo);
		labad_forest_release(&fo);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(cfg);
	free(hooks_path);
	free(secret);
	return 0;
}

/* count(*) of a table, with the database's shell. */
static char *rows_in(const char *table)
{
	char *q = xasprintf("SELECT count(*) FROM %s", table);
	char *out = sqlite_query(db_path, q);

	free(q);
	return out;
}

/* A DHCP range must name a DHCP server of the inventory: a DC that
 * serves no DHCP, or a name never discovered, is a desired-state error
 * at its dhcpServer line, and plan changes nothing. */
static void test_dhcp_range_server_is_checked(void **state)
{
	static const struct {
		const char *server, *why;
	} cases[] = {
		{"dc1.corp.example.test", "is not a DHCP server"},
		{"nohost.corp.example.test", "is not in the server inventory"},
	};
	char *runs_before = rows_in("actions");

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name = xasprintf("bad-server-%zu", i);
		char *dir = write_config_server(name, 80, cases[i].server);
		char *want = xasprintf("the DHCP range's server '%s' %s",
				       cases[i].server, cases[i].why);
		char *runs;
		struct lab_run res;
		const char *at;

		labad_run_ipamctl(&res, "plan", "-c", dir, NULL);
		labad_expect_exit(&res, 1, "ipamctl plan (bad dhcpServer)");
		at = strstr(res.err, want);
		if (!at)
			fail_msg("no '%s' in:\n%s", want, res.err);
		/* file:line:col: before the message */
		if (!strstr(res.err, "ipamctl.yaml:") ||
		    at - strstr(res.err, "ipamctl.yaml:") > 40)
			fail_msg("no file:line:col before the message:\n%s",
				 res.err);
		lab_run_free(&res);
		runs = rows_in("actions");
		assert_string_equal(runs, runs_before);
		free(runs);
		free(want);
		free(dir);
		free(name);
	}
	free(runs_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_used_and_free_from_the_sources),
		cmocka_unit_test(test_threshold_crossing_sends_the_webhook),
		cmocka_unit_test(test_dhcp_range_server_is_checked),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
