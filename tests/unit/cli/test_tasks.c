/*
 * ipamctl tasks and the scheduled tasks of reconcile --every, without a
 * network: a state database made by `db init`, task runs written with
 * the sqlite3 shell (as the tasks record them) or made by a loop whose
 * domain controller is a closed port on loopback; the JSON checked
 * against schemas/tasks.schema.json.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"
#include "node.h"
#include "schedule.h"
#include "strbuf.h"
#include "testutil.h"

struct fx {
	char *dir, *cfg, *db;
};

#define DESIRED                                                                \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"database: sqlite:%s\n"                                                \
	"provisioning:\n"                                                      \
	"  method: manual\n"                                                   \
	"connection:\n"                                                        \
	"  auth: kerberos\n"                                                   \
	"  keytab: %s/none.keytab\n"                                           \
	"  timeout: 2\n"                                                       \
	"discovery:\n"                                                         \
	"  - domain: corp.example.test\n"                                      \
	"    dns: false\n"                                                     \
	"    dhcp: false\n"                                                    \
	"    connection:\n"                                                    \
	"      ldapUri: ldap://127.0.0.1:1\n"                                  \
	"collection:\n"                                                        \
	"  intervals: {availability: 2m, dns: 1h30m, discovery: 2h}\n"

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *text;
	char *argv[] = {(char *)ipamctl_path(), "db", "init", "-c", NULL, NULL};
	struct run_result r;

	f->dir = tmpdir_make();
	f->cfg = xasprintf("%s/d.yaml", f->dir);
	f->db = xasprintf("%s/state.db", f->dir);
	text = xasprintf(DESIRED, f->db, f->dir);
	assert_int_equal(write_file(f->cfg, text), 0);
	free(text);
	argv[4] = f->cfg;
	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("db init: %s", r.err);
	run_result_free(&r);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->dir);
	free(f->cfg);
	free(f->db);
	free(f);
	return 0;
}

static struct run_result tasks(struct fx *f, const char *extra)
{
	char *const argv[] = {(char *)ipamctl_path(), "tasks", "-c", f->cfg,
			      (char *)extra,	      NULL};
	struct run_result r;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("tasks: %s", r.err);
	return r;
}

/* tasks -o json, checked against the schema, as a tree. */
static struct ipam_node *tasks_json(struct fx *f)
{
	char *argv[] = {(char *)ipamctl_path(),
			"tasks",
			"-c",
			f->cfg,
			"-o",
			"json",
			NULL};
	struct run_result r;
	struct ipam_node *n = NULL;

	assert_int_equal(run_cmd(&r, NULL, NULL, argv), 0);
	if (r.status)
		fail_msg("tasks -o json: %s", r.err);
	schema_check("tasks.schema.json", r.out);
	assert_int_equal(ipam_json_parse(&n, "tasks", r.out, strlen(r.out)), 0);
	run_result_free(&r);
	return n;
}

static const struct ipam_node *get(const struct ipam_node *m, const char *k)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, k))
			return m->items[i];
	return NULL;
}

static const char *str(const struct ipam_node *m, const char *k)
{
	const struct ipam_node *v = get(m, k);

	return v && v->kind == IPAM_NODE_STR ? v->str : NULL;
}

/* The entry of task in a tasks -o json tree. */
static const struct ipam_node *task(const struct ipam_node *n, const char *name)
{
	const struct ipam_node *seq = get(n, "tasks");

	for (size_t i = 0; seq && i < seq->nr; i++)
		if (!strcmp(str(seq->items[i], "task"), name))
			return seq->items[i];
	fail_msg("no task %s", name);
	return NULL;
}

static void iso(char out[21], long long t)
{
	ipam_schedule_format_time(out, t);
}

static void test_never_ran(void **state)
{
	struct fx *f = *state;
	struct ipam_node *n = tasks_json(f);
	const struct ipam_node *seq = get(n, "tasks");
	static const char *const names[] = {
		"discovery", "access", "availability", "zones", "dns", "audit"};
	struct run_result r;

	assert_int_equal(seq->nr, 6);
	for (size_t i = 0; i < 6; i++) {
		const struct ipam_node *t = seq->items[i];

		assert_string_equal(str(t, "task"), names[i]);
		assert_int_equal(get(t, "last_run")->kind, IPAM_NODE_NULL);
		assert_string_equal(str(t, "next_run"), str(n, "now"));
		assert_true(get(t, "due")->boolean);
	}
	assert_string_equal(str(task(n, "availability"), "interval"), "2m");
	assert_string_equal(str(task(n, "dns"), "interval"), "1h30m");
	assert_string_equal(str(task(n, "zones"), "interval"), "30m");
	ipam_node_free(n);
	r = tasks(f, NULL);
	assert_non_null(strstr(r.out, "availability  2m       never"));
	assert_int_equal(strstr(r.out, " now\n") != NULL, 1);
	run_result_free(&r);
}

/* Runs recorded as the tasks record them: next runs from the interval,
 * a whole failure retried within 15 minutes, the servers of the last run
 * (a reason with controls shown escaped). */
static void test_last_and_next_runs(void **state)
{
	struct fx *f = *state;
	long long now = (long long)time(NULL);
	char a[21], b[21], c[21], d[21], want[21];
	char *sql, *out;
	struct ipam_node *n;
	const struct ipam_node *t, *srv;
	struct run_result r;

	iso(a, now - 600);
	iso(b, now - 590);
	iso(c, now - 7200);
	iso(d, now - 7100);
	sql = xasprintf(
		"INSERT INTO runs (id, command, started_at, outcome) VALUES "
		"(7, 'collect availability', '%s', 'succeeded');"
		"INSERT INTO servers (id, name, roles, manageability) VALUES "
		"(1, 'dhcp1.corp.example.test', 'dhcp', 'managed'),"
		"(2, 'dhcp2.corp.example.test', 'dhcp', 'managed');"
		"INSERT INTO collect_tasks VALUES "
		"('availability', 7, '%s', '%s', 'partial', '1 of 2 servers "
		"failed'),"
		"('audit', NULL, '%s', '%s', 'failed', 'no ticket'),"
		"('dns', NULL, '%s', '%s', 'succeeded', 'zones 3'),"
		"('zones', NULL, '%s', NULL, NULL, NULL);"
		"INSERT INTO collect_server_status VALUES "
		"('availability', 1, 7, '%s', 1, 'dhcp up, dns up'),"
		"('availability', 2, 7, '%s', 0, 'dhcp down' || char(27) || "
		"']0;x' || char(7))",
		a, a, b, c, d, c, d, a, b, b);
	out = sqlite_query(f->db, sql);
	free(out);
	free(sql);
	n = tasks_json(f);
	t = task(n, "availability");
	assert_string_equal(str(get(t, "last_run"), "outcome"), "partial");
	assert_string_equal(str(get(t, "last_run"), "started_at"), a);
	iso(want, now - 600 + 120);
	assert_string_equal(str(t, "next_run"), want);
	srv = get(t, "servers");
	assert_int_equal(srv->nr, 2);
	assert_string_equal(str(srv->items[1], "server"),
			    "dhcp2.corp.example.test");
	assert_string_equal(str(srv->items[1], "detail"),
			    "dhcp down\x1b]0;x\x07");
	/* failed as a whole: from its end, within 15 minutes */
	iso(want, now - 7100 + 900);
	assert_string_equal(str(task(n, "audit"), "next_run"), want);
	/* dns: 1h30m from its start */
	iso(want, now - 7200 + 5400);
	assert_string_equal(str(task(n, "dns"), "next_run"), want);
	/* zones: running, no end yet */
	assert_int_equal(
		get(get(task(n, "zones"), "last_run"), "ended_at")->kind,
		IPAM_NODE_NULL);
	ipam_node_free(n);

	r = tasks(f, "--detailed");
	assert_non_null(strstr(r.out, "    1 of 2 servers failed\n"));
	assert_non_null(strstr(r.out, "dhcp2.corp.example.test: failed at"));
	assert_non_null(strstr(r.out, "dhcp down\\x1b]0;x\\x07\n"));
	assert_null(strpbrk(r.out, "\x1b\x07"));
	assert_null(strstr(r.out, "dhcp1.corp.example.test: failed"));
	assert_non_null(strstr(r.out, "(running)"));
	run_result_free(&r);
	r = tasks(f, NULL);
	assert_null(strstr(r.out, "dhcp2"));
	run_result_free(&r);
}

static void sleep_for(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (long)s) * 1e9)};

	nanosleep(&ts, NULL);
}

/*
 * reconcile --every 1h: the first cycle (its DC a closed port: it fails,
 * the desired state is valid) is recorded as the discovery task and runs
 * access; the other tasks run at once, having never run; the loop then
 * sleeps until the next task (availability, 2m) -- well before the next
 * cycle.  SIGTERM stops it.
 */
static void test_loop_runs_tasks(void **state)
{
	struct fx *f = *state;
	char *log = xasprintf("%s/err.log", f->dir), *text, *out;
	struct ipam_node *n;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execl(ipamctl_path(), "ipamctl", "reconcile", "-c", f->cfg,
		      "--every", "1h", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		text = slurp(log, NULL);
		if (text && strstr(text, "next scheduled task in"))
			break;
		free(text);
		text = NULL;
		sleep_for(0.1);
	}
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(text);
	text = slurp(log, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("reconcile --every: status %d:\n%s", status, text);
	if (!strstr(text, "next cycle in 3600 s") ||
	    !strstr(text, "next scheduled task in 1") ||
	    !strstr(text, "collection.intervals.discovery is not the loop's: "
			  "--every 3600 s sets the cycle"))
		fail_msg("reconcile --every 1h:\n%s", text);
	out = sqlite_query(f->db,
			   "SELECT group_concat(task || ':' || "
			   "ifnull(last_outcome, '-'), ' ') FROM "
			   "(SELECT * FROM collect_tasks ORDER BY task)");
	/* access ran in the cycle and not again; the cycle failed (its DC
	 * does not answer) */
	assert_non_null(strstr(out, "access:succeeded"));
	assert_non_null(strstr(out, "discovery:failed"));
	assert_non_null(strstr(out, "availability:"));
	assert_non_null(strstr(out, "audit:"));
	assert_non_null(strstr(out, "dns:"));
	assert_non_null(strstr(out, "zones:"));
	free(out);
	out = sqlite_query(f->db, "SELECT count(*) FROM runs WHERE command = "
				  "'access'");
	assert_string_equal(out, "0");
	free(out);
	n = tasks_json(f);
	assert_false(get(task(n, "availability"), "due")->boolean);
	assert_false(get(task(n, "audit"), "due")->boolean);
	assert_string_equal(
		str(get(task(n, "discovery"), "last_run"), "outcome"),
		"failed");
	ipam_node_free(n);
	free(text);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_never_ran, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_last_and_next_runs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loop_runs_tasks, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
