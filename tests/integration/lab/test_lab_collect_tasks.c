/*
 * The scheduled tasks of `reconcile --every` against the lab.  After db
 * init, discover and apply (IPAMUG holds ipam1$, the identity), a loop
 * runs with --every 10m and collection.intervals.availability at the
 * minimum, 1m; dhcp1 (the audit share, a DHCP server) and dhcp2 (up, but
 * no DHCP server and SMB refused) are managed; a signed generic webhook
 * on loopback wants collection_failed.
 *  (1) the first pass: the cycle once (recorded as discovery, access run
 *      in it), then availability, dns, zones and audit each a run of its
 *      own -- a task that fails does not stop the ones after it;
 *      history older than retainDays (30 days: audit events and an
 *      availability change written with the database's shell) is pruned,
 *      the newer kept;
 *  (2) a minute later availability runs again, nothing else does (the
 *      runs table read with the database's shell; the second start is at
 *      least 60 s after the first);
 *  (3) `ipamctl tasks -o json` matches schemas/tasks.schema.json: every
 *      task has its last run, availability's next run is its start plus
 *      60 s, zones is not due; --detailed names the servers that failed;
 *  (4) every collection task that failed somewhere sent collection_failed
 *      to the receiver (a Python HTTP server checking each HMAC
 *      signature), naming the task, and the audit task's names dhcp2
 *      once the task is built (smbclient shows dhcp2 refusing SMB);
 *      availability, once built, succeeded on every server all the same.
 * Until every task is built (collect_pending.c) a task not built fails
 * as a whole: that failure is the one told, the others still run.
 * At the end the GPOs and IPAMUG this test made are removed.
 */
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
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "schedule.h"
#include "strbuf.h"

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static char *tmpdir, *db_path, *cfg_dir, *hooks_path, *log_path;

/* The webhook receiver: each request one JSON line in argv[2] with the
 * event header, whether its HMAC signature (key in argv[1]) is good, and
 * the body; its port into argv[3]. */
static const char receiver_py[] =
	"import hashlib, hmac, http.server, json, sys\n"
	"key = open(sys.argv[1], 'rb').read()\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_POST(self):\n"
	"        body = self.rfile.read(int(self.headers['Content-Length']))\n"
	"        want = 'sha256=' + hmac.new(key, body,\n"
	"                                    hashlib.sha256).hexdigest()\n"
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
	"import os; os.rename(sys.argv[3] + '.tmp', sys.argv[3])\n"
	"s.serve_forever()\n";

static pid_t receiver_pid;

static int start_receiver(const char *secret)
{
	char *port_file = xasprintf("%s/port", tmpdir), *text = NULL;
	int port = 0;

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
	return port;
}

/* The lab's desired state as it is, and ours beside it (merged: the
 * servers lists are concatenated). */
static void write_config(int port, const char *secret)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL), *path, *ours;

	cfg_dir = xasprintf("%s/config", tmpdir);
	assert_int_equal(mkdir(cfg_dir, 0700), 0);
	path = xasprintf("%s/10-lab.yaml", cfg_dir);
	assert_int_equal(lab_write_file(path, text, strlen(text)), 0);
	free(path);
	ours = xasprintf("servers:\n"
			 "  - name: dc1.corp.example.test\n"
			 "    manageability: managed\n"
			 "  - name: dhcp1.corp.example.test\n"
			 "    manageability: managed\n"
			 "    timeZone: Europe/Berlin\n"
			 "  - name: dhcp2.corp.example.test\n"
			 "    roles: [dhcp]\n"
			 "    manageability: managed\n"
			 "collection:\n"
			 "  intervals:\n"
			 "    availability: 1m\n"
			 "  retainDays: 30\n"
			 "notify:\n"
			 "  - kind: generic\n"
			 "    url: http://127.0.0.1:%d/hook\n"
			 "    secretFile: %s\n"
			 "    events: [collection_failed]\n",
			 port, secret);
	path = xasprintf("%s/50-tasks.yaml", cfg_dir);
	assert_int_equal(lab_write_file(path, ours, strlen(ours)), 0);
	free(path);
	free(ours);
	free(text);
	free(src);
}

/* ipamctl with our database. */
#define IPAMCTL(res, ...)                                                      \
	labad_run_ipamctl((res), "--db", db_path, "-c", cfg_dir, __VA_ARGS__,  \
			  NULL)

static int setup(void **state)
{
	char *secret;
	struct lab_run res;
	int port;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	hooks_path = xasprintf("%s/hooks.jsonl", tmpdir);
	log_path = xasprintf("%s/loop.log", tmpdir);
	secret = xasprintf("%s/hook.secret", tmpdir);
	assert_int_equal(lab_write_file(secret, "tasks-hook-key", 14), 0);
	port = start_receiver(secret);
	write_config(port, secret);
	free(secret);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	IPAMCTL(&res, "db", "init");
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	IPAMCTL(&res, "apply", "--auto-approve");
	labad_expect_exit(&res, 0, "ipamctl apply");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	int st;

	(void)state;
	if (receiver_pid > 0) {
		kill(receiver_pid, SIGTERM);
		waitpid(receiver_pid, &st, 0);
	}
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(cfg_dir);
	free(hooks_path);
	free(log_path);
	return 0;
}

/* The database shell's answer to sql on our database (sqlite3 or
 * psql). */
static char *sql(const char *q)
{
	/* SQLite's clock functions as PostgreSQL says them */
	static const char *const pg[][2] = {
		{"CAST(strftime('%s', 'now') AS INTEGER)",
		 "CAST(extract(epoch FROM now()) AS BIGINT)"},
		{"strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || d || ' days')",
		 "to_char(now() AT TIME ZONE 'UTC' - d * interval '1 day', "
		 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
		{"strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-30 days')",
		 "to_char(now() AT TIME ZONE 'UTC' - interval '30 days', "
		 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
		{"strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-4 days')",
		 "to_char(now() AT TIME ZONE 'UTC' - interval '4 days', "
		 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"},
		{"round((julianday(max(started_at)) - "
		 "julianday(min(started_at)))"
		 " * 86400)",
		 "round(extract(epoch FROM CAST(max(started_at) AS TIMESTAMPTZ)"
		 " - CAST(min(started_at) AS TIMESTAMPTZ)))"},
	};
	char *text = xstrdup(q), *out, *at;

	for (size_t i = 0; test_db_is_pg() && i < sizeof(pg) / sizeof(pg[0]);
	     i++)
		while ((at = strstr(text, pg[i][0]))) {
			char *next =
				xasprintf("%.*s%s%s", (int)(at - text), text,
					  pg[i][1], at + strlen(pg[i][0]));

			free(text);
			text = next;
		}
	out = sqlite_query(db_path, text);
	free(text);
	return out;
}

static long sql_long(const char *q)
{
	char *s = sql(q);
	long v = strtol(s, NULL, 10);

	free(s);
	return v;
}

static long runs_of(const char *command)
{
	char *q = xasprintf("SELECT count(*) FROM runs WHERE command = '%s'",
			    command);
	long n = sql_long(q);

	free(q);
	return n;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (long)s) * 1e9)};

	nanosleep(&ts, NULL);
}

static pid_t loop_pid;

static void start_loop(void)
{
	fflush(NULL);
	loop_pid = fork();
	assert_true(loop_pid >= 0);
	if (loop_pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(labad_ipamctl(), "ipamctl", "--db", db_path, "-c",
		      cfg_dir, "reconcile", "--every", "10m", (char *)NULL);
		_exit(127);
	}
}

/* Stop the loop (SIGTERM: it finishes its step); its log. */
static char *stop_loop(void)
{
	int st;
	char *text;

	kill(loop_pid, SIGTERM);
	assert_int_equal(waitpid(loop_pid, &st, 0), loop_pid);
	text = lab_need_file(log_path, NULL);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("reconcile --every: status %d:\n%s", st, text);
	return text;
}

static const char *const collection[] = {"availability", "dns", "zones",
					 "audit"};

static void test_1_loop_runs_each_task_on_its_interval(void **state)
{
	char *text = NULL, *s, *q;
	long first_gap;
	double t0;

	(void)state;
	/* history on both sides of retainDays (30): the first collection
	 * task prunes what is older */
	free(sql("INSERT INTO dhcp_event_batches (server_id, file, generation, "
		 "seg, first_id, last_id, at_min, at_max) SELECT id, "
		 "'DhcpSrvLog-Mon.log', 1, (SELECT coalesce(max(last_id), 0) + "
		 "1 FROM dhcp_event_blocks) >> 16, (SELECT coalesce(max("
		 "last_id), 0) + 1 FROM dhcp_event_blocks), (SELECT coalesce("
		 "max(last_id), 0) + 3 FROM dhcp_event_blocks), CAST(strftime("
		 "'%s', 'now') AS INTEGER) - 40 * 86400, CAST(strftime('%s', "
		 "'now') AS INTEGER) - 29 * 86400 FROM servers WHERE name = "
		 "'dhcp1.corp.example.test'"));
	/* one block of three events (db_events_internal.h), the oldest
	 * first */
	q = xasprintf(
		"INSERT INTO dhcp_event_blocks (id, batch, last_id, n, at_min, "
		"at_max, events) SELECT b.first_id, b.id, b.last_id, 3, "
		"b.at_min, b.at_max, %s(CASE d WHEN 40 THEN 0 WHEN 31 THEN 1 "
		"ELSE 2 END || ',' || (CAST(strftime('%%s', 'now') AS INTEGER) "
		"- d * 86400) || ',0,4,10,' || d || ',,10.99.0.' || d || ',,,' "
		"|| %s, ''%s) FROM (SELECT * FROM dhcp_event_batches ORDER BY "
		"id DESC LIMIT 1) AS b, (SELECT 40 AS d UNION ALL SELECT 31 "
		"UNION ALL SELECT 29) AS n GROUP BY b.id, b.first_id, "
		"b.last_id, b.at_min, b.at_max",
		test_db_is_pg() ? "string_agg" : "group_concat",
		test_db_is_pg() ? "chr(10)" : "char(10)",
		test_db_is_pg() ? " ORDER BY d DESC" : "");
	free(sql(q));
	free(q);
	free(sql("INSERT INTO availability_history (server_id, service, at, "
		 "state) SELECT id, 'dhcp', strftime('%Y-%m-%dT%H:%M:%SZ', "
		 "'now', '-' || d || ' days'), 'down' FROM servers, (SELECT 45 "
		 "AS d UNION ALL SELECT 5) AS n WHERE name = "
		 "'dhcp1.corp.example.test'"));
	assert_int_equal(sql_long("SELECT count(*) FROM dhcp_event_blocks "
				  "WHERE events LIKE '%,10.99.0.%'"),
			 1);
	start_loop();
	/* (1) the first pass: the cycle, then the tasks that never ran */
	t0 = labad_now_s();
	while (labad_now_s() - t0 < 240) {
		free(text);
		text = lab_read_file(log_path, 1 << 20, NULL);
		if (text && strstr(text, "next scheduled task in"))
			break;
		sleep_s(0.5);
	}
	if (!text || !strstr(text, "next scheduled task in"))
		fail_msg("no first pass of the tasks in 240 s:\n%s",
			 text ? text : "");
	free(text);
	text = NULL;
	assert_int_equal(runs_of("reconcile-report") + runs_of("reconcile"), 1);
	for (size_t i = 0; i < 4; i++) {
		char *cmd = xasprintf("collect %s", collection[i]);

		if (runs_of(cmd) != 1)
			fail_msg("%s: %ld runs after the first pass", cmd,
				 runs_of(cmd));
		free(cmd);
	}
	/* retention: the 40- and 31-day-old events and the 45-day-old
	 * availability change went, the rest stayed (the block the prune
	 * rewrote is packed: the zstd tool unpacks it) */
	test_db_unpack_blocks(db_path);
	s = sql(test_db_is_pg()
			? "SELECT string_agg(n || ':' || substr(events, "
			  "strpos(events, ',10.99.') + 1, 10), ',') FROM "
			  "dhcp_event_blocks WHERE events LIKE '%,10.99.0.%'"
			: "SELECT group_concat(n || ':' || substr(events, "
			  "instr(events, ',10.99.') + 1, 10)) FROM "
			  "dhcp_event_blocks WHERE events LIKE '%,10.99.0.%'");
	assert_string_equal(s, "1:10.99.0.29");
	free(s);
	assert_int_equal(sql_long("SELECT count(*) FROM availability_history "
				  "WHERE at < strftime('%Y-%m-%dT%H:%M:%SZ', "
				  "'now', '-30 days')"),
			 0);
	assert_int_equal(sql_long("SELECT count(*) FROM availability_history "
				  "WHERE at < strftime('%Y-%m-%dT%H:%M:%SZ', "
				  "'now', '-4 days')"),
			 1);
	/* access ran inside the cycle, not as a run of its own */
	assert_int_equal(runs_of("access"), 0);
	s = sql("SELECT last_outcome FROM collect_tasks WHERE task = "
		"'access'");
	assert_string_equal(s, "succeeded");
	free(s);
	s = sql("SELECT last_outcome FROM collect_tasks WHERE task = "
		"'discovery'");
	assert_string_equal(s, "succeeded");
	free(s);

	/* (2) a minute later: availability again, nothing else */
	t0 = labad_now_s();
	while (runs_of("collect availability") < 2 && labad_now_s() - t0 < 150)
		sleep_s(1);
	text = stop_loop();
	if (runs_of("collect availability") != 2)
		fail_msg("availability ran %ld times in 150 s:\n%s",
			 runs_of("collect availability"), text);
	for (size_t i = 1; i < 4; i++) {
		char *cmd = xasprintf("collect %s", collection[i]);

		if (runs_of(cmd) != 1)
			fail_msg("%s ran %ld times:\n%s", cmd, runs_of(cmd),
				 text);
		free(cmd);
	}
	assert_int_equal(runs_of("reconcile-report") + runs_of("reconcile"), 1);
	/* one cycle: "next cycle in 600 s" once, never again */
	s = strstr(text, "next cycle in 600 s");
	assert_non_null(s);
	assert_null(strstr(s + 1, "next cycle in"));
	first_gap = sql_long(
		"SELECT CAST(round((julianday(max(started_at)) - julianday(min("
		"started_at))) * 86400) AS BIGINT) FROM runs "
		"WHERE command = 'collect availability'");
	/* not before its interval; a first pass of slow tasks may hold it
	 * back a little */
	if (first_gap < 60 || first_gap > 150)
		fail_msg("availability ran again after %ld s, not 60:\n%s",
			 first_gap, text);
	free(text);
}

/* The tasks -o json entry of task. */
static const struct ipam_node *entry(const struct ipam_node *n,
				     const char *task)
{
	const struct ipam_node *seq = labad_jkey(n, "tasks");

	for (size_t i = 0; seq && i < seq->nr; i++)
		if (!strcmp(labad_jstr(seq->items[i], "task"), task))
			return seq->items[i];
	fail_msg("tasks -o json has no %s", task);
	return NULL;
}

static void test_2_tasks_view(void **state)
{
	struct lab_run res;
	struct ipam_node *n;
	const struct ipam_node *a, *last;
	char *path = xasprintf("%s/tasks.json", tmpdir), *s;
	long long started;
	char want[21];

	(void)state;
	IPAMCTL(&res, "tasks", "-o", "json");
	labad_expect_exit(&res, 0, "ipamctl tasks -o json");
	labad_schema_ok("tasks", res.out, res.out_len, path);
	n = labad_parse_json(res.out, res.out_len, "tasks");
	lab_run_free(&res);
	for (size_t i = 0; i < 6; i++) {
		static const char *const all[] = {"discovery",	  "access",
						  "availability", "zones",
						  "dns",	  "audit"};
		const struct ipam_node *t = entry(n, all[i]);

		last = labad_jkey(t, "last_run");
		if (!last || last->kind != IPAM_NODE_MAP ||
		    !labad_jstr(last, "ended_at"))
			fail_msg("%s has no ended last run", all[i]);
	}
	a = entry(n, "availability");
	assert_string_equal(labad_jstr(a, "interval"), "1m");
	last = labad_jkey(a, "last_run");
	assert_int_equal(ipam_schedule_parse_time(
				 labad_jstr(last, "started_at"), &started),
			 0);
	s = sql("SELECT max(started_at) FROM runs WHERE command = 'collect "
		"availability'");
	assert_string_equal(labad_jstr(last, "started_at"), s);
	free(s);
	if (strcmp(labad_jstr(last, "outcome"), "failed")) {
		ipam_schedule_format_time(want, started + 60);
		assert_string_equal(labad_jstr(a, "next_run"), want);
	}
	assert_false(labad_jkey(entry(n, "zones"), "due")->boolean);
	assert_false(labad_jkey(entry(n, "dns"), "due")->boolean);
	assert_string_equal(labad_jstr(entry(n, "zones"), "interval"), "30m");
	ipam_node_free(n);

	IPAMCTL(&res, "tasks", "--detailed");
	labad_expect_exit(&res, 0, "ipamctl tasks --detailed");
	assert_non_null(strstr(res.out, "availability  1m"));
	assert_non_null(strstr(res.out, "discovery     1h"));
	lab_run_free(&res);
	free(path);
}

/* A task of ours is built once its runs say something else than the
 * scaffold's "not built yet". */
static bool built(const char *task)
{
	char *q = xasprintf("SELECT count(*) FROM collect_tasks WHERE task = "
			    "'%s' AND last_summary NOT LIKE '%%not built "
			    "yet%%'",
			    task);
	long n = sql_long(q);

	free(q);
	return n > 0;
}

static void test_3_collection_failed_sent(void **state)
{
	char *text = lab_need_file(hooks_path, NULL);
	char **lines = labad_lines(text);
	size_t nr = labad_strv_len(lines), seen[4] = {0};

	(void)state;
	for (size_t i = 0; i < nr; i++) {
		struct ipam_node *n =
			labad_parse_json(lines[i], strlen(lines[i]), "hook");
		const struct ipam_node *body = labad_jkey(n, "body");
		const struct ipam_node *det = labad_jkey(body, "details");
		const char *task = labad_jstr(det, "task");
		size_t k;

		assert_string_equal(labad_jstr(n, "event"),
				    "collection_failed");
		assert_string_equal(labad_jstr(body, "event"),
				    "collection_failed");
		if (!labad_jkey(n, "signed")->boolean)
			fail_msg("a webhook with a bad signature: %s",
				 lines[i]);
		for (k = 0; k < 4 && strcmp(collection[k], task); k++)
			;
		if (k == 4)
			fail_msg("collection_failed for task '%s'", task);
		seen[k]++;
		if (!strcmp(task, "audit") && built("audit") &&
		    !strstr(lines[i], "dhcp2.corp.example.test"))
			fail_msg("audit's collection_failed does not name "
				 "dhcp2: %s",
				 lines[i]);
		ipam_node_free(n);
	}
	/* a failing task stops none of the others: availability reaches
	 * every managed server (a service down is data, not a failure) */
	if (built("availability")) {
		char *o = sql("SELECT last_outcome FROM collect_tasks WHERE "
			      "task = 'availability'");

		assert_string_equal(o, "succeeded");
		free(o);
	}
	/* each task whose last run failed somewhere told the receiver */
	for (size_t k = 0; k < 4; k++) {
		char *q = xasprintf("SELECT last_outcome FROM collect_tasks "
				    "WHERE task = '%s'",
				    collection[k]);
		char *outcome = sql(q);

		if (strcmp(outcome, "succeeded") && !seen[k])
			fail_msg("%s ended %s, no collection_failed:\n%s",
				 collection[k], outcome, text);
		free(outcome);
		free(q);
	}
	if (built("audit")) {
		const char *argv[] = {"smbclient", "-N", "-L",
				      "//dhcp2.corp.example.test", NULL};
		struct lab_run res;
		char *s = sql("SELECT ok || ' ' || coalesce(detail, '') FROM "
			      "collect_server_status c JOIN servers s ON "
			      "s.id = c.server_id WHERE c.task = 'audit' AND "
			      "s.name = 'dhcp2.corp.example.test'");

		lab_must_run(argv, NULL, &res);
		assert_int_not_equal(res.exit_code, 0);
		if (!strstr(res.out, "NT_STATUS_CONNECTION_REFUSED") &&
		    !strstr(res.err, "NT_STATUS_CONNECTION_REFUSED"))
			fail_msg("%s", lab_run_describe(&res, "smbclient -L "
							      "dhcp2"));
		lab_run_free(&res);
		assert_true(s[0] == '0');
		free(s);
	}
	lab_strv_free(lines);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_loop_runs_each_task_on_its_interval),
		cmocka_unit_test(test_2_tasks_view),
		cmocka_unit_test(test_3_collection_failed_sent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
