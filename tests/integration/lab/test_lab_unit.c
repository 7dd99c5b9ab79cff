/*
 * The packaged systemd unit, started as systemd would start it, against
 * the lab: the unit file the .deb installs (the build tree's copy,
 * $IPAM_UNIT_FILE, which ci/package compares with the package's) is
 * read, its ExecStartPre= and ExecStart= lines are taken in order, the
 * binary (/usr/bin/ipamctl) becomes the one under test ($IPAMCTL) and the
 * local configuration (/etc/ipamctl/ipamctl.yaml) ours, and each start
 * runs them as systemd does: the next only when the last exited 0 or
 * with a SuccessExitStatus= of the unit, its Environment= set.
 *
 * Ours is the configuration of examples/reconcile.yaml for the lab: a
 * source: that is a bare git repository under a temporary directory,
 * holding the lab's desired state ($IPAM_LAB_CONFIG) with
 * suspend: true, so that cycles discover and plan against both forests
 * but change nothing in AD; and a database: in a state directory that
 * does not exist yet (a fresh host).  In order:
 *  (1) the first start works: the state database is made with a warning
 *      naming it, and a "db init" run; reconcile succeeds (0, or 2 for
 *      "changes found");
 *  (2) the second start too, and its ExecStartPre= says nothing and
 *      records nothing: the database is left as it is;
 *  (3) a database lost (its files removed) is made again as loudly, and
 *      its history starts at that run;
 *  (4) a file at the database's path that is no database is never
 *      replaced: ExecStartPre= leaves it, and reconcile refuses it (the
 *      start fails).
 *
 * The unit runs as root here, not as user ipamctl: what the user changes
 * (capabilities, directory ownership) is systemd's, not ipamctl's.
 * Discovery binds UDP 68: the test holds the lab's DHCP client lock.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

#define UNIT_BINARY "/usr/bin/ipamctl"
#define UNIT_CONFIG "/etc/ipamctl/ipamctl.yaml"
#define MAX_WORDS   32
#define MAX_LINES   8

/* One Exec line of the unit, as the test runs it. */
struct exec_line {
	char *text; /* as written in the unit */
	const char *argv[MAX_WORDS + 1];
	char *words;	     /* what argv points into */
	bool ignore_failure; /* the '-' prefix */
};

struct unit {
	struct exec_line pre[MAX_LINES];
	size_t npre;
	struct exec_line start;
	bool has_start;
	int success[MAX_WORDS]; /* SuccessExitStatus=, with 0 */
	size_t nsuccess;
	char *env[MAX_WORDS + 1]; /* Environment= */
	size_t nenv;
};

static struct unit U;
static char *tmpdir, *state_dir, *db_path, *db_uri;
static char *bare, *worktree, *cache_dir, *local_cfg;

/* ---- the unit file ------------------------------------------------------ */

/* The value of "key=value" when line is that key's, else NULL. */
static const char *value_of(const char *line, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(line, key, n) && line[n] == '=' ? line + n + 1 : NULL;
}

/* Split an Exec value into argv, mapping the unit's binary and
 * configuration to ours.  systemd's quoting, specifiers and variables
 * are not done here: a line that needs them fails the test, so that a
 * change to the unit is noticed rather than run differently. */
static void parse_exec(struct exec_line *x, const char *value)
{
	size_t n = 0, configs = 0;
	char *w, *save = NULL;
	const char *arg;

	if (strpbrk(value, "\"'$%\\"))
		fail_msg("unit line '%s': quoting, specifiers and variables "
			 "are not handled by this test",
			 value);
	x->text = xstrdup(value);
	x->words = xstrdup(value);
	for (w = strtok_r(x->words, " \t", &save); w && n < MAX_WORDS;
	     w = strtok_r(NULL, " \t", &save)) {
		if (!n) {
			for (; *w && strchr("-@:+!", *w); w++) {
				if (*w == '@')
					fail_msg("'%s': '@' not handled",
						 value);
				if (*w == '-')
					x->ignore_failure = true;
			}
			if (strcmp(w, UNIT_BINARY))
				fail_msg("'%s' does not run " UNIT_BINARY,
					 value);
			arg = labad_ipamctl();
		} else if (!strcmp(w, UNIT_CONFIG)) {
			arg = local_cfg;
			configs++;
		} else {
			arg = w;
		}
		x->argv[n++] = arg;
	}
	x->argv[n] = NULL;
	if (!configs)
		fail_msg("'%s' does not name " UNIT_CONFIG, value);
}

static void parse_success(const char *value)
{
	char *copy = xstrdup(value), *w, *save = NULL;

	for (w = strtok_r(copy, " \t", &save); w && U.nsuccess < MAX_WORDS;
	     w = strtok_r(NULL, " \t", &save)) {
		if (!isdigit((unsigned char)*w))
			fail_msg("SuccessExitStatus=%s: only numbers are "
				 "handled by this test",
				 value);
		U.success[U.nsuccess++] = atoi(w);
	}
	free(copy);
}

/* One line of the [Service] section. */
static void parse_service_line(const char *l)
{
	const char *v;

	if ((v = value_of(l, "ExecStartPre"))) {
		if (!*v) /* an empty assignment resets the list */
			U.npre = 0;
		else if (U.npre == MAX_LINES)
			fail_msg("more than %d ExecStartPre= lines", MAX_LINES);
		else
			parse_exec(&U.pre[U.npre++], v);
	} else if ((v = value_of(l, "ExecStart"))) {
		if (U.has_start)
			fail_msg("a oneshot unit with two ExecStart= lines "
				 "is not what the package ships");
		parse_exec(&U.start, v);
		U.has_start = true;
	} else if ((v = value_of(l, "SuccessExitStatus"))) {
		parse_success(v);
	} else if ((v = value_of(l, "Environment"))) {
		if (strchr(v, ' ') || !strchr(v, '=') || U.nenv == MAX_WORDS)
			fail_msg("Environment=%s: one NAME=value is handled",
				 v);
		U.env[U.nenv++] = xstrdup(v);
	}
}

static void read_unit(void)
{
	const char *path = lab_need_env("IPAM_UNIT_FILE");
	char *text = lab_read_file(path, 1 << 20, NULL);
	bool service = false;

	if (!text)
		fail_msg("cannot read the unit %s", path);
	U.success[U.nsuccess++] = 0;
	for (char *l = text, *eol; l && *l; l = eol ? eol + 1 : NULL) {
		eol = strchr(l, '\n');
		if (eol)
			*eol = '\0';
		if (*l == '[')
			service = !strcmp(l, "[Service]");
		else if (service && *l && *l != '#' && *l != ';')
			parse_service_line(l);
	}
	if (!U.has_start || !U.npre)
		fail_msg("%s: no ExecStart= or no ExecStartPre= (the first "
			 "start prepares the state database)",
			 path);
	free(text);
}

static void exec_line_release(struct exec_line *x)
{
	free(x->text);
	free(x->words);
}

/* ---- running it --------------------------------------------------------- */

static bool success(int code)
{
	for (size_t i = 0; i < U.nsuccess; i++)
		if (U.success[i] == code)
			return true;
	return false;
}

static void run_exec(const struct exec_line *x, struct lab_run *res)
{
	struct lab_run_opts o = {.env = (const char *const *)U.env,
				 .timeout_ms = 300000};

	printf("  %s\n", x->text);
	lab_must_run(x->argv, &o, res);
	printf("    exit %d%s\n", res->exit_code,
	       res->timed_out ? " (timed out)" : "");
}

/* The ExecStartPre= lines in order; each must succeed. res gets the
 * first line's result (the one that prepares the database). */
static void run_pre(struct lab_run *first)
{
	for (size_t i = 0; i < U.npre; i++) {
		struct lab_run res;

		run_exec(&U.pre[i], &res);
		if (!U.pre[i].ignore_failure &&
		    (res.exit_code < 0 || res.timed_out ||
		     !success(res.exit_code)))
			fail_msg("the start fails: %s",
				 lab_run_describe(&res, U.pre[i].text));
		if (i == 0)
			*first = res;
		else
			lab_run_free(&res);
	}
}

/* A whole start: ExecStartPre=, then ExecStart=, which must succeed. */
static void start(struct lab_run *pre, struct lab_run *main_res)
{
	run_pre(pre);
	run_exec(&U.start, main_res);
	if (main_res->timed_out || !success(main_res->exit_code))
		fail_msg("the start fails: %s",
			 lab_run_describe(main_res, U.start.text));
}

/* Runs of the database: command names, oldest first, joined by ','
 * (malloc'ed); outcomes must be final. */
static char *history(void)
{
	struct lab_run res;
	struct ipam_node *root;
	struct strbuf out = STRBUF_INIT;

	labad_run_ipamctl(&res, "history", "--db", db_uri, "--limit", "0", "-o",
			  "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl history -o json");
	root = labad_parse_json(res.out, res.out_len, "ipamctl history");
	if (root->kind != IPAM_NODE_SEQ)
		fail_msg("ipamctl history -o json is not a list:\n%s", res.out);
	/* newest first */
	for (size_t i = root->nr; i-- > 0;) {
		const char *c = labad_jstr(root->items[i], "command");
		const char *o = labad_jstr(root->items[i], "outcome");

		if (!c || !o || !strcmp(o, "running") || !strcmp(o, "failed"))
			fail_msg("run %zu: command %s, outcome %s:\n%s", i,
				 c ? c : "?", o ? o : "?", res.out);
		strbuf_addf(&out, "%s%s", out.len ? "," : "",
			    strncmp(c, "reconcile", 9) ? c : "reconcile");
	}
	ipam_node_free(root);
	lab_run_free(&res);
	return strbuf_detach(&out, NULL);
}

static void expect_history(const char *expected)
{
	char *got = history();

	if (strcmp(got, expected))
		fail_msg("history: expected %s, got %s", expected, got);
	free(got);
}

static void expect_created_warning(const struct lab_run *pre)
{
	char *want = xasprintf("warning: no state database at '%s': created "
			       "it",
			       db_path);

	if (!strstr(pre->err, want))
		fail_msg("no '%s' from the first ExecStartPre=: %s", want,
			 lab_run_describe(pre, U.pre[0].text));
	free(want);
}

static void remove_database(void)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < sizeof(suffix) / sizeof(*suffix); i++) {
		char *p = xasprintf("%s%s", db_path, suffix[i]);

		if (unlink(p) && errno != ENOENT)
			fail_msg("unlink %s: %s", p, strerror(errno));
		free(p);
	}
}

/* ---- the cases ---------------------------------------------------------- */

static void test_first_start(void **state)
{
	struct lab_run pre, res;
	struct stat st;

	(void)state;
	if (!stat(state_dir, &st))
		fail_msg("%s exists before the first start", state_dir);
	start(&pre, &res);
	expect_created_warning(&pre);
	if (stat(db_path, &st))
		fail_msg("no state database at %s after the first start",
			 db_path);
	expect_history("db init,reconcile");
	lab_run_free(&pre);
	lab_run_free(&res);
}

static void test_second_start(void **state)
{
	struct lab_run pre, res;

	(void)state;
	start(&pre, &res);
	if (pre.out_len || pre.err_len)
		fail_msg("the second ExecStartPre= said something: %s",
			 lab_run_describe(&pre, U.pre[0].text));
	expect_history("db init,reconcile,reconcile");
	lab_run_free(&pre);
	lab_run_free(&res);
}

static void test_lost_database(void **state)
{
	struct lab_run pre;

	(void)state;
	remove_database();
	run_pre(&pre);
	expect_created_warning(&pre);
	expect_history("db init");
	lab_run_free(&pre);
}

static void test_not_a_database(void **state)
{
	static const char junk[] = "not a database\n";
	struct lab_run pre, res;
	size_t len = 0;
	char *after;

	(void)state;
	remove_database();
	assert_int_equal(lab_write_file(db_path, junk, sizeof(junk) - 1), 0);
	run_pre(&pre);
	if (strstr(pre.err, "warning"))
		fail_msg("ExecStartPre= warned about a file that is there: %s",
			 lab_run_describe(&pre, U.pre[0].text));
	after = lab_read_file(db_path, 1 << 20, &len);
	if (!after || len != sizeof(junk) - 1 || memcmp(after, junk, len))
		fail_msg("ExecStartPre= changed %s", db_path);
	run_exec(&U.start, &res);
	if (success(res.exit_code) || !strstr(res.err, db_path))
		fail_msg("reconcile did not refuse the state database that "
			 "is no database: %s",
			 lab_run_describe(&res, U.start.text));
	free(after);
	lab_run_free(&pre);
	lab_run_free(&res);
}

/* ---- setup -------------------------------------------------------------- */

/* git with the arguments up to NULL, isolated from the host's settings;
 * must succeed. */
static void git(const char *first, ...)
{
	char home[4096];
	const char *env[] = {home,
			     "GIT_CONFIG_NOSYSTEM=1",
			     "GIT_AUTHOR_NAME=ipamctl test",
			     "GIT_AUTHOR_EMAIL=unit@example.test",
			     "GIT_COMMITTER_NAME=ipamctl test",
			     "GIT_COMMITTER_EMAIL=unit@example.test",
			     NULL};
	const char *argv[16] = {"git", first};
	struct lab_run_opts o = {.env = env, .timeout_ms = 60000};
	struct lab_run res;
	size_t n = 2;
	const char *a;
	va_list ap;

	snprintf(home, sizeof(home), "HOME=%s", tmpdir);
	va_start(ap, first);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	lab_must_succeed(argv, &o, &res);
	lab_run_free(&res);
}

/* The repository: the lab's desired state with our database, planned
 * and reported only (suspend: true), committed to main. */
static void make_repository(void)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_read_file(src, 1 << 20, NULL);
	char *file = xasprintf("%s/ipamctl.yaml", worktree);
	struct strbuf out = STRBUF_INIT;
	bool db = false;

	if (!text)
		fail_msg("cannot read %s", src);
	for (char *l = text, *eol; l && *l; l = eol ? eol + 1 : NULL) {
		eol = strchr(l, '\n');
		if (eol)
			*eol = '\0';
		if (!strncmp(l, "database:", 9)) {
			strbuf_addf(&out, "database: %s\n", db_uri);
			db = true;
		} else {
			strbuf_addf(&out, "%s\n", l);
		}
	}
	if (!db)
		fail_msg("%s has no database: line", src);
	strbuf_addstr(&out, "suspend: true\n");
	git("init", "-q", "--bare", "-b", "main", bare, NULL);
	git("init", "-q", "-b", "main", worktree, NULL);
	assert_int_equal(lab_write_file(file, out.buf, out.len), 0);
	git("-C", worktree, "add", "ipamctl.yaml", NULL);
	git("-C", worktree, "commit", "-q", "-m", "the lab, plan only", NULL);
	git("-C", worktree, "push", "-q", bare, "HEAD:refs/heads/main", NULL);
	strbuf_release(&out);
	free(file);
	free(text);
	free(src);
}

/* The host's local configuration, as examples/reconcile.yaml. */
static void write_local(void)
{
	char *text = xasprintf("version: 1\n"
			       "ipamServer: ipam1.corp.example.test\n"
			       "database: %s\n"
			       "provisioning:\n"
			       "  method: gpo\n"
			       "  gpoPrefix: IPAM1\n"
			       "source:\n"
			       "  repo: file://%s\n"
			       "  ref: main\n"
			       "  cacheDir: %s\n",
			       db_uri, bare, cache_dir);

	assert_int_equal(lab_write_file(local_cfg, text, strlen(text)), 0);
	free(text);
}

static int setup(void **state)
{
	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	state_dir = xasprintf("%s/var-lib-ipamctl", tmpdir);
	db_path = xasprintf("%s/state.db", state_dir);
	db_uri = xasprintf("sqlite:%s", db_path);
	bare = xasprintf("%s/desired.git", tmpdir);
	worktree = xasprintf("%s/work", tmpdir);
	cache_dir = xasprintf("%s/var-cache-ipamctl", tmpdir);
	local_cfg = xasprintf("%s/ipamctl.yaml", tmpdir);
	write_local();
	read_unit();
	make_repository();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < U.npre; i++)
		exec_line_release(&U.pre[i]);
	if (U.has_start)
		exec_line_release(&U.start);
	for (size_t i = 0; i < U.nenv; i++)
		free(U.env[i]);
	if (lab_env("IPAM_UNITTEST_KEEP"))
		printf("kept %s\n", tmpdir);
	else
		lab_rm_rf(tmpdir);
	free(tmpdir);
	free(state_dir);
	free(db_path);
	free(db_uri);
	free(bare);
	free(worktree);
	free(cache_dir);
	free(local_cfg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_start),
		cmocka_unit_test(test_second_start),
		cmocka_unit_test(test_lost_database),
		cmocka_unit_test(test_not_a_database),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
