/* The ipamctl binary end to end: the validation corpus, options, exit
 * statuses, and the state database commands (on SQLite's file, or on a
 * PostgreSQL database in the _pg variant). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "inventory.h"
#include "json.h"
#include "observed.h"
#include "strbuf.h"
#include "testutil.h"

/* Run ipamctl in cwd (NULL: here) with the arguments up to a NULL. */
static struct run_result runv(const char *cwd, ...)
{
	char *argv[16] = {(char *)ipamctl_path()};
	struct run_result r;
	size_t n = 1;
	va_list ap;
	const char *a;

	va_start(ap, cwd);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run_cmd(&r, cwd, NULL, argv), 0);
	return r;
}

#define RUN(...) runv(__VA_ARGS__, (const char *)NULL)

/* The state database of a test in dir as --db and the desired state's
 * "database" name it: SQLite's file sqlite:dir/rel, or on PostgreSQL a
 * database of its own (test_db_new). */
static char *db_uri(const char *dir, const char *rel)
{
	if (test_db_is_pg())
		return test_db_new(dir);
	return xasprintf("sqlite:%s/%s", dir, rel);
}

static int is_fixture(const char *dir, const char *name)
{
	size_t n = strlen(name);
	char *p;
	struct stat st;
	int isdir;

	if (name[0] == '.')
		return 0;
	if (n > 5 && !strcmp(name + n - 5, ".yaml"))
		return 1;
	p = xasprintf("%s/%s", dir, name);
	isdir = !stat(p, &st) && S_ISDIR(st.st_mode);
	free(p);
	return isdir;
}

static void test_invalid_corpus(void **state)
{
	char *base = xasprintf("%s/desired", fixtures_dir());
	char *dir = xasprintf("%s/invalid", base);
	DIR *d = opendir(dir);
	struct dirent *de;
	int count = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		struct run_result r;
		char *rel, *exp_path, *expected;

		if (!is_fixture(dir, de->d_name))
			continue;
		rel = xasprintf("invalid/%s", de->d_name);
		exp_path = xasprintf("%s/%s.expected", base, rel);
		expected = slurp(exp_path, NULL);
		if (!expected)
			fail_msg("%s has no .expected file", rel);
		r = RUN(base, "validate", "-c", rel);
		if (r.status != 1 || strcmp(r.out, expected))
			fail_msg("%s: exit %d, stdout:\n%s\nexpected:\n%s", rel,
				 r.status, r.out, expected);
		assert_non_null(strstr(r.err, "is invalid"));
		run_result_free(&r);
		free(expected);
		free(exp_path);
		free(rel);
		count++;
	}
	closedir(d);
	assert_true(count >= 30);
	free(dir);
	free(base);
}

static void test_valid_corpus_and_examples(void **state)
{
	const char *dirs[] = {"desired/valid", "../../examples"};
	size_t i;
	int count = 0;

	(void)state;
	for (i = 0; i < 2; i++) {
		char *dir = xasprintf("%s/%s", fixtures_dir(), dirs[i]);
		DIR *d = opendir(dir);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d))) {
			struct run_result r;
			char *want;

			if (!is_fixture(dir, de->d_name))
				continue;
			r = RUN(dir, "validate", "-c", de->d_name);
			want = xasprintf("%s: valid (", de->d_name);
			if (r.status != 0 || strncmp(r.out, want, strlen(want)))
				fail_msg("%s/%s: exit %d\n%s%s", dir,
					 de->d_name, r.status, r.out, r.err);
			free(want);
			run_result_free(&r);
			count++;
		}
		closedir(d);
		free(dir);
	}
	assert_true(count >= 6);
}

static void test_options_and_exit_status(void **state)
{
	static const char *const cmds[] = {"validate", "show-desired", "db"};
	struct run_result r;
	size_t i;

	(void)state;
	r = RUN(NULL, "--version");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "ipamctl " IPAM_VERSION "\n");
	run_result_free(&r);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *want = xasprintf("usage: ipamctl %s", cmds[i]);

		r = RUN(NULL, cmds[i], "--help");
		assert_int_equal(r.status, 0);
		assert_non_null(strstr(r.out, want));
		assert_non_null(strstr(r.out, "--config PATH"));
		run_result_free(&r);
		free(want);
	}
	r = RUN(NULL, "frobnicate");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
	run_result_free(&r);
	r = RUN(NULL, "validate", "--no-such-option");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "usage: ipamctl validate"));
	run_result_free(&r);
	r = RUN(NULL, "validate", "-o", "xml");
	assert_int_equal(r.status, 1);
	run_result_free(&r);
	r = RUN(NULL, "validate", "-c", "/nonexistent/x.yaml");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "/nonexistent/x.yaml"));
	run_result_free(&r);
	r = RUN(NULL);
	assert_int_equal(r.status, 1);
	run_result_free(&r);
}

static void test_validate_json(void **state)
{
	char *base = xasprintf("%s/desired", fixtures_dir());
	struct ipam_node *n = NULL;
	struct run_result r;

	(void)state;
	r = RUN(base, "validate", "-o", "json", "-c",
		"invalid/duplicate-key.yaml");
	assert_int_equal(r.status, 1);
	assert_int_equal(ipam_json_parse(&n, "out", r.out, strlen(r.out)), 0);
	assert_int_equal(n->kind, IPAM_NODE_MAP);
	assert_string_equal(n->keys[1]->str, "valid");
	assert_false(n->items[1]->boolean);
	assert_non_null(strstr(r.out, "\"line\": 9"));
	assert_non_null(strstr(r.out, "duplicate key 'dc'"));
	ipam_node_free(n);
	run_result_free(&r);
	free(base);
}

static void test_show_desired_json(void **state)
{
	char *path = xasprintf("%s/desired/valid/full.yaml", fixtures_dir());
	struct ipam_node *n = NULL;
	struct run_result r;

	(void)state;
	r = RUN(NULL, "show-desired", "-o", "json", "-c", path);
	assert_int_equal(r.status, 0);
	assert_int_equal(ipam_json_parse(&n, "out", r.out, strlen(r.out)), 0);
	assert_string_equal(n->keys[0]->str, "version");
	assert_int_equal(n->items[0]->num, 1);
	/* normalised: lower case, sorted */
	assert_non_null(
		strstr(r.out, "\"ipamServer\": \"ipam1.corp.example.test\""));
	assert_true(strstr(r.out, "branch.example.test") <
		    strstr(r.out, "\"domain\": \"corp.example.test\""));
	ipam_node_free(n);
	run_result_free(&r);
	free(path);
}

static void test_db_init_info_and_lock(void **state)
{
	char *dir = tmpdir_make();
	char *gpo = xasprintf("%s/gpo.yaml", dir);
	char *manual = xasprintf("%s/manual.yaml", dir);
	char *bad = xasprintf("%s/bad.yaml", dir);
	char *dbpath = xasprintf("%s/state/state.db", dir);
	char *db = db_uri(dir, "state/state.db");
	struct run_result r;
	struct stat st;
	char *s;

	(void)state;
	assert_int_equal(write_file(gpo, "version: 1\n"
					 "ipamServer: ipam1.corp.example.test\n"
					 "provisioning:\n"
					 "  method: gpo\n"
					 "  gpoPrefix: IPAM\n"),
			 0);
	assert_int_equal(write_file(manual,
				    "version: 1\n"
				    "ipamServer: ipam1.corp.example.test\n"
				    "provisioning:\n"
				    "  method: manual\n"),
			 0);
	assert_int_equal(write_file(bad, "version: 1\nprovisioning: {method: "
					 "gpo}\n"),
			 0);

	/* invalid desired state: nothing is written */
	r = RUN(NULL, "db", "init", "-c", bad, "--db", db);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "bad.yaml:2:24: provisioning method "
				      "'gpo' needs 'gpoPrefix'"));
	if (test_db_is_pg()) {
		/* the database is the administrator's: nothing in it */
		s = sqlite_query(db, "SELECT count(*) FROM pg_class c JOIN "
				     "pg_namespace n ON c.relnamespace = n.oid "
				     "WHERE n.nspname = 'public'");
		assert_string_equal(s, "0");
		free(s);
	} else {
		assert_int_not_equal(stat(dbpath, &st), 0);
	}
	run_result_free(&r);

	r = RUN(NULL, "db", "init", "-c", gpo, "--db", db);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "initialised state database"));
	assert_non_null(strstr(r.out, "provisioning method gpo, GPO prefix "
				      "IPAM, fixed since 20"));
	run_result_free(&r);

	r = RUN(NULL, "db", "info", "--db", db);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "schema version:      12"));
	assert_non_null(strstr(r.out, "provisioning method: gpo (fixed since"));
	assert_non_null(strstr(r.out, "GPO prefix:          IPAM"));
	assert_non_null(strstr(r.out, "  servers            0\n"));
	run_result_free(&r);

	r = RUN(NULL, "db", "info", "--db", db, "-o", "json");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"provisioningMethod\": \"gpo\""));
	run_result_free(&r);

	/* the other method is refused, with the way out */
	r = RUN(NULL, "db", "init", "-c", manual, "--db", db);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "manual.yaml:4:11: provisioning method "
				      "'manual' conflicts with the state "
				      "database"));
	assert_non_null(strstr(r.err, "fixed to 'gpo' since 20"));
	assert_non_null(strstr(r.err, "ipamctl db init --force"));
	run_result_free(&r);
	r = RUN(NULL, "db", "migrate", "-c", manual, "--db", db);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "conflicts with the state database"));
	run_result_free(&r);
	/* the same method again is fine and changes nothing */
	r = RUN(NULL, "db", "init", "-c", gpo, "--db", db);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "already initialised"));
	run_result_free(&r);

	/* --force re-creates it with the new method */
	r = RUN(NULL, "db", "init", "--force", "-c", manual, "--db", db);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "provisioning method manual"));
	run_result_free(&r);
	r = RUN(NULL, "db", "info", "--db", db);
	assert_non_null(strstr(r.out, "provisioning method: manual"));
	assert_non_null(strstr(r.out, "GPO prefix:          -"));
	run_result_free(&r);

	r = RUN(NULL, "db", "migrate", "--db", db);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "is up to date (schema version 12)"));
	run_result_free(&r);

	free(db);
	free(dbpath);
	free(bad);
	free(manual);
	free(gpo);
	tmpdir_remove(dir);
}

static void test_db_info_without_database(void **state)
{
	char *dir = tmpdir_make();
	char *db = db_uri(dir, "none.db");
	struct run_result r;

	(void)state;
	/* no file; on PostgreSQL a database (the administrator's) empty */
	r = RUN(NULL, "db", "info", "--db", db);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, test_db_is_pg()
					      ? "is not initialised"
					      : "no state database at"));
	assert_non_null(strstr(r.err, "ipamctl db init"));
	run_result_free(&r);
	free(db);
	if (test_db_is_pg()) {
		/* a directory is SQLite's alone */
		tmpdir_remove(dir);
		return;
	}
	/* --db naming a directory: said so, not sqlite's "unable to open
	 * database file" */
	db = xasprintf("sqlite:%s", dir);
	r = RUN(NULL, "db", "info", "--db", db);
	assert_int_equal(r.status, 1);
	assert_null(strstr(r.err, "unable to open"));
	assert_non_null(strstr(r.err, "is a directory: name a file"));
	run_result_free(&r);
	free(db);
	tmpdir_remove(dir);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_for(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) < 0)
		;
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* reconcile --every in a child, its stderr to log; the source fails at
 * once (no repository there), so cycles take no time.  Its pid. */
static pid_t start_failing_loop(const char *dir, const char *log,
				const char *every, const char *jitter)
{
	char *cfg = xasprintf("%s/d.yaml", dir), *db = db_uri(dir, "state.db");
	char *text = xasprintf("version: 1\n"
			       "ipamServer: ipam1.corp.example.test\n"
			       "database: %s\n"
			       "provisioning:\n"
			       "  method: gpo\n"
			       "  gpoPrefix: IPAM1\n"
			       "source:\n"
			       "  repo: %s/no-such-repo.git\n"
			       "  ref: main\n"
			       "  cacheDir: %s/cache\n",
			       db, dir, dir);
	pid_t pid;

	assert_int_equal(write_file(cfg, text), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(ipamctl_path(), "ipamctl", "reconcile", "-c", cfg,
		      "--every", every, "--jitter", jitter, (char *)NULL);
		_exit(127);
	}
	free(text);
	free(db);
	free(cfg);
	return pid;
}

/*
 * reconcile --every: SIGHUP re-reads the configuration but keeps the next
 * cycle's due time (HUPs must not put cycles off); SIGTERM stops it.  The
 * source is a repository that does not exist, so each cycle fails at once
 * without a network.
 */
static void test_reconcile_hup_keeps_schedule(void **state)
{
	char *dir = tmpdir_make(), *log, *text;
	pid_t pid;
	int status;
	double t0;

	(void)state;
	log = xasprintf("%s/err.log", dir);
	pid = start_failing_loop(dir, log, "3s", "0%");
	t0 = mono_now();
	/* HUPs every 0.7 s for 4.5 s: the second cycle is due at ~3 s. */
	while (mono_now() - t0 < 4.5) {
		sleep_for(0.7);
		kill(pid, SIGHUP);
	}
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	text = slurp(log, NULL);
	assert_non_null(text);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0)
		fail_msg("reconcile --every exited %d:\n%s",
			 WEXITSTATUS(status), text);
	if (count_lines_with(text, "no repository there") < 2)
		fail_msg("SIGHUPs put the second cycle off:\n%s", text);
	assert_true(count_lines_with(text, "SIGHUP: configuration") >= 3);
	assert_non_null(strstr(text, "stopped"));
	free(text);
	free(log);
	tmpdir_remove(dir);
}

/*
 * ipamctl with stdout and stderr going to files of dir, JOURNAL_STREAM set
 * to stream ("dev:ino"; NULL: unset); *out and *err the texts.
 */
static void run_streams(const char *dir, const char *stream, char **out,
			char **err, const char *cmd, const char *cfg)
{
	char *po = xasprintf("%s/out.log", dir),
	     *pe = xasprintf("%s/err.log", dir);
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(127);
		if (stream)
			setenv("JOURNAL_STREAM", stream, 1);
		else
			unsetenv("JOURNAL_STREAM");
		execl(ipamctl_path(), "ipamctl", cmd, "-c", cfg, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	*out = slurp(po, NULL);
	*err = slurp(pe, NULL);
	assert_non_null(*out);
	assert_non_null(*err);
	free(po);
	free(pe);
}

/* "dev:ino" of a file, as systemd puts it in JOURNAL_STREAM. */
static char *stream_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return xasprintf("%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
}

/* text holds prefix + cfg + rest. */
static void assert_has_line(const char *text, const char *prefix,
			    const char *cfg, const char *rest)
{
	char *want = xasprintf("%s%s%s", prefix, cfg, rest);

	if (!strstr(text, want))
		fail_msg("'%s' lacks '%s'", text, want);
	free(want);
}

/*
 * journald priorities only on the stream JOURNAL_STREAM names: a child of
 * a service whose output goes to a file or pipe inherits the variable and
 * must not write "<3>" there.  The file:line:col diagnostics carry their
 * own priority (error or warning); a terminal's text is unchanged.
 */
static void test_journal_stream_prefixes(void **state)
{
	char *dir = tmpdir_make(), *cfg, *other, *err_path, *out_path;
	char *plain_out, *plain_err, *out, *err, *stream;
	const char *warn_line, *error_line;

	(void)state;
	cfg = xasprintf("%s/d.yaml", dir);
	other = xasprintf("%s/other", dir);
	err_path = xasprintf("%s/err.log", dir);
	out_path = xasprintf("%s/out.log", dir);
	assert_int_equal(write_file(cfg,
				    "version: 1\n"
				    "ipamServer: ipam1.corp.example.test\n"
				    "provisioning: {method: gpo, gpoPrefix: "
				    "IPAM1}\n"
				    "connection:\n"
				    "  passwordEnv: PW\n"
				    "discovery:\n"
				    "  - domain: corp.example.test\n"
				    "servers:\n"
				    "  - name: dhcp1.corp.example.test\n"
				    "    manageability: sometimes\n"),
			 0);
	assert_int_equal(write_file(other, ""), 0);
	assert_int_equal(write_file(err_path, ""), 0);
	assert_int_equal(write_file(out_path, ""), 0);
	warn_line = ":5:16: warning: domain 'corp.example.test' uses auth "
		    "'kerberos': the password is not used\n";
	error_line = ":10:20: 'manageability' must be one of managed, "
		     "unmanaged, unspecified; got 'sometimes'\n";

	/* no journal: the text as a terminal shows it */
	run_streams(dir, NULL, &plain_out, &plain_err, "show-desired", cfg);
	assert_null(strchr(plain_err, '<'));
	assert_non_null(strstr(plain_err, warn_line));
	assert_non_null(strstr(plain_err, error_line));
	assert_non_null(strstr(plain_err, "ipamctl: error: the desired state"));

	/* JOURNAL_STREAM names another file, or is not "dev:ino" */
	stream = stream_of(other);
	run_streams(dir, stream, &out, &err, "show-desired", cfg);
	assert_string_equal(err, plain_err);
	free(out);
	free(err);
	run_streams(dir, "journal", &out, &err, "show-desired", cfg);
	assert_string_equal(err, plain_err);
	free(out);
	free(err);
	free(stream);

	/* JOURNAL_STREAM names stderr: every line has its priority */
	stream = stream_of(err_path);
	run_streams(dir, stream, &out, &err, "show-desired", cfg);
	assert_has_line(err, "<4>", cfg, warn_line);
	assert_has_line(err, "<3>", cfg, error_line);
	assert_has_line(err, "<3>ipamctl: error: the desired state '", cfg,
			"' is invalid");
	assert_int_equal(count_lines_with(err, "\n"),
			 count_lines_with(plain_err, "\n"));
	free(out);
	free(err);
	free(stream);

	/* validate writes the diagnostics to stdout: prefixed when stdout
	 * is the journal stream, stderr left alone */
	stream = stream_of(out_path);
	run_streams(dir, stream, &out, &err, "validate", cfg);
	assert_has_line(out, "<4>", cfg, warn_line);
	assert_has_line(out, "<3>", cfg, error_line);
	assert_null(strchr(err, '<'));
	free(out);
	free(err);
	free(stream);

	free(plain_out);
	free(plain_err);
	free(cfg);
	free(other);
	free(err_path);
	free(out_path);
	tmpdir_remove(dir);
}

/* The N of each "next cycle in N s" line of text, up to max. */
static size_t waits_of(const char *text, long *v, size_t max)
{
	const char *p = text;
	size_t n = 0;

	while (n < max && (p = strstr(p, "next cycle in "))) {
		p += strlen("next cycle in ");
		v[n++] = strtol(p, NULL, 10);
	}
	return n;
}

/* The file at path holds what (it may not exist yet). */
static bool log_says(const char *path, const char *what)
{
	char *text = slurp(path, NULL);
	bool yes = text && strstr(text, what);

	free(text);
	return yes;
}

/*
 * --jitter: every wait is within every +- jitter% of it, and the waits do
 * spread (SIGUSR1 runs a cycle now, each followed by a new wait); and
 * SIGINT stops the loop as SIGTERM does (exit 0, "stopped").
 */
static void test_reconcile_jitter_and_sigint(void **state)
{
	static const struct {
		const char *every, *jitter;
		long lo, hi;
	} cases[] = {
		{"10s", "50%", 5, 15},
		{"1m", "10", 54, 66},
		{"20s", "0%", 20, 20},
	};
	char *dir = tmpdir_make(), *log = xasprintf("%s/err.log", dir);

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		long v[64];
		size_t n, distinct = 0;
		pid_t pid;
		int status;
		char *text;

		unlink(log); /* the last case's says "next cycle" too */
		pid = start_failing_loop(dir, log, cases[c].every,
					 cases[c].jitter);

		/* Its handlers are in place once it waits: a loaded machine
		 * can take longer than any fixed delay to get there. */
		for (int t = 0; t < 200 && !log_says(log, "next cycle in ");
		     t++)
			sleep_for(0.05);
		for (int i = 0; i < 24; i++) {
			kill(pid, SIGUSR1);
			sleep_for(0.08);
		}
		sleep_for(0.3);
		kill(pid, SIGINT);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		text = slurp(log, NULL);
		assert_non_null(text);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("reconcile --every %s: status %d after "
				 "SIGINT:\n%s",
				 cases[c].every, status, text);
		if (!strstr(text, "ipamctl: stopped"))
			fail_msg("no 'stopped' after SIGINT:\n%s", text);
		n = waits_of(text, v, 64);
		/* SIGUSR1s that came during a cycle fold into one */
		if (n < 8)
			fail_msg("--every %s: %zu waits for 24 SIGUSR1s:\n%s",
				 cases[c].every, n, text);
		for (size_t i = 0; i < n; i++) {
			if (v[i] < cases[c].lo || v[i] > cases[c].hi)
				fail_msg("--every %s --jitter %s: a wait of "
					 "%ld s, outside %ld..%ld:\n%s",
					 cases[c].every, cases[c].jitter, v[i],
					 cases[c].lo, cases[c].hi, text);
			distinct += i == 0 || v[i] != v[0];
		}
		/* 8+ draws of 11 or 13 values all equal: not by chance */
		if (cases[c].lo != cases[c].hi && distinct < 2)
			fail_msg("--jitter %s did not spread the waits:\n%s",
				 cases[c].jitter, text);
		free(text);
	}
	free(log);
	tmpdir_remove(dir);
}

/* git args... in cwd, with a fixed identity and no user settings; its
 * stdout (malloc'ed). */
static char *git_run(const char *cwd, ...)
{
	static char *const env[] = {
		"GIT_CONFIG_NOSYSTEM=1",
		"HOME=/nonexistent",
		"GIT_AUTHOR_NAME=Ada",
		"GIT_AUTHOR_EMAIL=ada@example.test",
		"GIT_COMMITTER_NAME=Ada",
		"GIT_COMMITTER_EMAIL=ada@example.test",
		NULL,
	};
	char *argv[16] = {"/usr/bin/git"};
	struct run_result r;
	size_t n = 1;
	va_list ap;
	char *out;

	va_start(ap, cwd);
	while ((argv[n] = va_arg(ap, char *)) && n < 15)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run_cmd(&r, cwd, env, argv), 0);
	if (r.status)
		fail_msg("git %s: %s", argv[1], r.err);
	out = r.out;
	r.out = NULL;
	run_result_free(&r);
	return out;
}

/* The "git_commit" of each run in history -o json, joined by ",". */
static char *history_commits(const char *cfg)
{
	struct run_result r = RUN(NULL, "history", "-c", cfg, "-o", "json");
	struct strbuf sb = STRBUF_INIT;
	const char *p = r.out;

	assert_int_equal(r.status, 0);
	while ((p = strstr(p, "\"git_commit\": "))) {
		const char *v = p + 14, *e;

		if (*v == '"' && (e = strchr(v + 1, '"')))
			strbuf_addf(&sb, "%s%.*s", sb.len ? "," : "",
				    (int)(e - v - 1), v + 1);
		else
			strbuf_addf(&sb, "%snull", sb.len ? "," : "");
		p = v;
	}
	run_result_free(&r);
	return strbuf_detach(&sb, NULL);
}

/*
 * plan and reconcile with -c in a git checkout (a CI job's) record HEAD's
 * commit, "+dirty" when the desired state differs from it.  The domain's
 * DC is a closed port on loopback: each run is incomplete (exit 1) and
 * still recorded, with no traffic beyond loopback.
 */
static void test_checkout_commit_recorded(void **state)
{
	char *dir = tmpdir_make(), *cfg, *text, *edited, *head, *want, *got;
	char *db = db_uri(dir, "state.db");
	struct run_result r;

	(void)state;
	cfg = xasprintf("%s/d.yaml", dir);
	text = xasprintf("version: 1\n"
			 "ipamServer: ipam1.corp.example.test\n"
			 "database: %s\n"
			 "provisioning:\n"
			 "  method: manual\n"
			 "connection:\n"
			 "  auth: kerberos\n"
			 "  keytab: %s/none.keytab\n"
			 "  timeout: 2\n"
			 "discovery:\n"
			 "  - domain: corp.example.test\n"
			 "    dns: false\n"
			 "    dhcp: false\n"
			 "    connection:\n"
			 "      ldapUri: ldap://127.0.0.1:1\n",
			 db, dir);
	assert_int_equal(write_file(cfg, text), 0);
	free(git_run(dir, "init", "-q", ".", NULL));
	free(git_run(dir, "add", "d.yaml", NULL));
	free(git_run(dir, "commit", "-q", "-m", "the desired state", NULL));
	head = git_run(dir, "rev-parse", "HEAD", NULL);
	assert_true(strlen(head) >= 40);
	head[40] = '\0';
	r = RUN(NULL, "db", "init", "-c", cfg);
	assert_int_equal(r.status, 0);
	run_result_free(&r);

	r = RUN(NULL, "plan", "-c", cfg, "-o", "json");
	assert_int_equal(r.status, 1); /* the DC is unreachable */
	want = xasprintf("\"git_commit\": \"%s\"", head);
	assert_non_null(strstr(r.out, want));
	run_result_free(&r);
	r = RUN(NULL, "reconcile", "-c", cfg, "--dry-run");
	assert_int_equal(r.status, 1);
	run_result_free(&r);
	/* edited, not committed: +dirty */
	edited = xasprintf("%s# edited\n", text);
	assert_int_equal(write_file(cfg, edited), 0);
	free(edited);
	r = RUN(NULL, "plan", "-c", cfg);
	assert_int_equal(r.status, 1);
	run_result_free(&r);
	got = history_commits(cfg);
	free(want);
	/* newest first: the dirty plan, reconcile, plan */
	want = xasprintf("%s+dirty,%s,%s", head, head, head);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(head);
	free(text);
	free(db);
	free(cfg);
	tmpdir_remove(dir);
}

/* Escaped: ESC, BEL and CR from the input, as the printing rule writes
 * them (a backslash, then the rest). */
#define E_OSC "\\x1b]0;pwned\\x07"
#define E_CR  "\\r"

/* No byte of out would act on a terminal. */
static void assert_inert(const char *out)
{
	assert_null(strpbrk(out, "\x1b\x07\r"));
}

/*
 * A YAML key and a server name full of controls (set the terminal's
 * title, return to the line's start): validate's diagnostics on stdout
 * and the errors on stderr show them as visible escapes.
 */
static void test_controls_escaped_in_diagnostics(void **state)
{
	char *dir = tmpdir_make();
	char *cfg = xasprintf("%s/c.yaml", dir);
	char *odd = xasprintf("%s/\x1b]0;pwned\x07.yaml", dir);
	char *want;
	struct run_result r;

	(void)state;
	assert_int_equal(
		write_file(cfg,
			   "version: 1\n"
			   "ipamServer: ipam1.corp.example.test\n"
			   "provisioning: {method: gpo, gpoPrefix: IPAM}\n"
			   "discovery:\n"
			   "  - domain: corp.example.test\n"
			   "servers:\n"
			   "  - name: \"dc1\\e]0;pwned\\a\\rX.corp.test\"\n"
			   "\"ba\\ed\\rkey\": 1\n"),
		0);
	r = RUN(dir, "validate", "-c", "c.yaml");
	assert_int_equal(r.status, 1);
	assert_inert(r.out);
	assert_inert(r.err);
	assert_string_equal(r.out,
			    "c.yaml:7:11: 'dc1" E_OSC E_CR "X.corp.test' is "
			    "not a fully qualified server name (host.domain, "
			    "letters, digits and '-')\n"
			    "c.yaml:8:1: unknown key 'ba\\x1bd" E_CR
			    "key' in the desired state\n");
	run_result_free(&r);
	/* an error message naming a file, through the logger */
	r = RUN(dir, "validate", "-c", odd);
	assert_int_equal(r.status, 1);
	assert_inert(r.err);
	want = xasprintf("%s/" E_OSC ".yaml", dir);
	assert_non_null(strstr(r.err, want));
	free(want);
	run_result_free(&r);
	/* a usage error quoting an argument */
	r = RUN(dir, "validate", "-o", "x\x1b[2K\r");
	assert_int_equal(r.status, 1);
	assert_inert(r.err);
	assert_non_null(strstr(r.err, "format 'x\\x1b[2K\\r'"));
	run_result_free(&r);
	tmpdir_remove(dir);
	free(odd);
	free(cfg);
}

/* A server in the inventory whose name, operating system and DN (from AD)
 * hold controls: the inventory's text, listed and shown, escapes them. */
static void test_controls_escaped_in_inventory(void **state)
{
	static const char yaml[] = "version: 1\n"
				   "ipamServer: ipam1.corp.example.test\n"
				   "provisioning: {method: manual}\n"
				   "discovery:\n"
				   "  - domain: corp.example.test\n";
	static const char name[] = "ev\x1b]0;pwned\x07il\r.corp.example.test";
	char *dir = tmpdir_make();
	char *cfg = xasprintf("%s/c.yaml", dir);
	char *dbpath = test_db_new(dir);
	char *db = test_db_is_pg() ? xstrdup(dbpath)
				   : xasprintf("sqlite:%s", dbpath);
	struct ipam_desired *d = desired_from_text(yaml);
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan plan;
	struct ipam_obs_server *s;
	struct ipam_db *h = NULL;
	struct run_result r;
	long long run_id;

	(void)state;
	assert_int_equal(write_file(cfg, yaml), 0);
	r = RUN(dir, "db", "init", "-c", cfg, "--db", db);
	assert_int_equal(r.status, 0);
	run_result_free(&r);
	obs.domains = xcalloc(1, sizeof(*obs.domains));
	obs.nr_domains = 1;
	obs.domains[0].name = xstrdup("corp.example.test");
	ipam_obs_set_status(&obs.domains[0].dc, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&obs.domains[0].dns, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&obs.domains[0].dhcp, IPAM_VERDICT_OFF, "off");
	s = ipam_obs_get(&obs.domains[0], name);
	s->roles = IPAM_ROLE_DNS;
	s->in_ad = true;
	s->dn = xstrdup("CN=EV\x1b[2J,DC=corp,DC=example,DC=test");
	assert_int_equal(ipam_db_open(&h, dbpath, 0), 0);
	assert_int_equal(ipam_db_run_begin(h, "discover", &run_id), 0);
	assert_int_equal(ipam_db_inventory_load(h, &prev), 0);
	ipam_inventory_plan(&plan, &prev, &obs, d);
	assert_int_equal(ipam_db_inventory_store(h, run_id, d, &obs, &plan), 0);
	assert_int_equal(ipam_db_run_end(h, run_id, "succeeded", "{}"), 0);
	ipam_db_close(h);
	ipam_inv_plan_release(&plan);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);

	r = RUN(dir, "inventory", "-c", cfg, "--db", db);
	assert_int_equal(r.status, 0);
	assert_inert(r.out);
	assert_non_null(strstr(r.out, "\nev" E_OSC "il" E_CR ".corp.example."
				      "test  corp.example.test  "));
	run_result_free(&r);
	r = RUN(dir, "inventory", "-c", cfg, "--db", db, "show", name);
	assert_int_equal(r.status, 0);
	assert_inert(r.out);
	assert_non_null(strstr(r.out, "name:             ev" E_OSC "il" E_CR
				      ".corp.example.test\n"));
	assert_non_null(strstr(r.out, "DN:               CN=EV\\x1b[2J,DC="));
	run_result_free(&r);
	/* completion leaves the name out rather than print it */
	r = RUN(dir, "-c", cfg, "--db", db, "__complete", "servers");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	run_result_free(&r);
	/* JSON keeps the exact text, escaped by JSON's own rule */
	r = RUN(dir, "inventory", "-c", cfg, "--db", db, "-o", "json");
	assert_int_equal(r.status, 0);
	assert_inert(r.out);
	assert_non_null(strstr(r.out, "ev\\u001B]0;pwned\\u0007il\\r.corp"));
	run_result_free(&r);
	ipam_desired_free(d);
	tmpdir_remove(dir);
	free(db);
	free(dbpath);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_corpus),
		cmocka_unit_test(test_valid_corpus_and_examples),
		cmocka_unit_test(test_options_and_exit_status),
		cmocka_unit_test(test_validate_json),
		cmocka_unit_test(test_show_desired_json),
		cmocka_unit_test(test_db_init_info_and_lock),
		cmocka_unit_test(test_db_info_without_database),
		cmocka_unit_test(test_reconcile_hup_keeps_schedule),
		cmocka_unit_test(test_journal_stream_prefixes),
		cmocka_unit_test(test_reconcile_jitter_and_sigint),
		cmocka_unit_test(test_checkout_commit_recorded),
		cmocka_unit_test(test_controls_escaped_in_diagnostics),
		cmocka_unit_test(test_controls_escaped_in_inventory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
