/*
 * Crash safety: ipamctl apply killed right after each of its writes to AD
 * or SYSVOL, one run per write, and the next apply always converges.
 * Needs a build with IPAM_FAULT_INJECTION (src/util/fault.h): the killed
 * runs are ipamctl-fault with IPAM_FAULT_AFTER=k (SIGABRT right after the
 * k-th write, no cleanup of any kind); every other run is ipamctl itself.
 *
 * The desired state is the lab's with every server managed, so that the
 * security-filtering writes happen too; corp's DHCP servers are declared
 * (dhcp1, the one that answers) rather than probed, since the two
 * authorized servers that never answer a DHCPINFORM cost three seconds of
 * every discovery, and there are some three hundred discoveries here.
 *
 *  (1) A full apply of both forests from a clean lab, counting its writes
 *      (IPAM_FAULT_COUNT_FILE): N, what each write was; then the plan is
 *      empty and both forests pass the checks below.
 *  (2) Every k of 1..N: each write belongs to one forest, so each forest
 *      is crashed through by itself (each its own desired state, database
 *      and TMPDIR): corp alone, then branch with corp converged (branch's
 *      IPAMUG holds the IPAM server, found in corp across the trust, so
 *      branch's desired state names corp too, and each branch run starts
 *      from the database corp's last run left: no write to corp).  A forest's
 * own full apply must make exactly the full apply's writes to it, in the same
 * order (GPO GUIDs aside); then, for each of them, from the clean forest and a
 * fresh state database: ipamctl-fault apply with IPAM_FAULT_AFTER=k dies of
 *      SIGABRT after that very write (its trace up to k the full apply's);
 *      no file under its TMPDIR holds an admin password or is readable by
 *      others; the next apply exits 0, taking the dead run's lock over
 *      and saying so; plan --detailed-exitcode exits 0; history shows the
 *      dead run as an interrupted apply; no ipamctl-smb-* private
 *      directory is left; and the forest, seen by Samba's own code
 *      (test_lab_crash.py, one Python process for all the looks): each
 *      IPAM1 GPO exactly once and no other, a SYSVOL folder for each
 *      GPO container and a container for each folder, gPLink naming each
 *      IPAM1 GPO once and nothing missing, GPT.INI's version the
 *      container's versionNumber, `samba-tool gpo aclcheck`'s comparison
 *      clean, IPAMUG once (what the baseline had, other tests' leftovers
 *      included, left out).  A k that fails is reported with its write
 *      and what was wrong, and the next k goes on.
 *  (3) At the end samba-tool itself: gpo listall (each GPO once) and gpo
 *      aclcheck, both forests.
 *
 * (`samba-tool ntacl sysvolcheck` is no criterion: it wants every file of
 * a GPO to carry the folder's ACL explicitly, as provisioning sets it
 * locally, and fails on a GPO that `samba-tool gpo create` itself makes
 * over SMB.)  Reset between runs: back to the baseline taken at the start
 * (GPO containers and folders, gPLink, the DNS ACL), IPAMUG deleted.
 *
 * Discovery binds UDP 68 (branch's DHCP probe): the DHCP client lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

#define EYE_TIMEOUT_S  120
#define RUN_TIMEOUT_MS 180000
#define MAX_FILE_SCAN  (64 * 1024 * 1024)

/* ---- the Python helper: test_lab_crash.py --------------------------- */

struct eye {
	pid_t pid;
	int to, from;
	struct strbuf buf;
};

static void eye_start(struct eye *e)
{
	const char *script = lab_need_env("IPAM_CRASH_EYE");
	int in[2], out[2];

	memset(e, 0, sizeof(*e));
	strbuf_init(&e->buf);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	fflush(NULL);
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(126);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl("/usr/bin/python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	e->to = in[1];
	e->from = out[0];
	fcntl(e->to, F_SETFD, FD_CLOEXEC);
	fcntl(e->from, F_SETFD, FD_CLOEXEC);
}

/* The end of the answer in e->buf: the "END ..." line, NULL when it has
 * not come yet. */
static const char *eye_end(const struct eye *e)
{
	const char *p = e->buf.buf, *nl;

	while ((nl = strchr(p, '\n'))) {
		if (!strncmp(p, "END ", 4))
			return p;
		p = nl + 1;
	}
	return NULL;
}

/* Send cmd; *answer gets the lines before "END"; true on "END ok".  Never
 * fails the test (it runs in the forests' children too). */
static bool eye_ask(struct eye *e, const char *cmd, struct strbuf *answer)
{
	double end = labad_now_s() + EYE_TIMEOUT_S;
	char *line = xasprintf("%s\n", cmd);
	size_t len = strlen(line);
	bool sent = write(e->to, line, len) == (ssize_t)len;

	free(line);
	strbuf_reset(answer);
	if (!sent) {
		strbuf_addf(answer, "test_lab_crash.py: %s", strerror(errno));
		return false;
	}
	for (;;) {
		struct pollfd p = {.fd = e->from, .events = POLLIN};
		const char *fin = eye_end(e);
		char buf[4096];
		ssize_t n;

		if (fin) {
			size_t used = (size_t)(strchr(fin, '\n') - e->buf.buf);
			bool ok = !strncmp(fin, "END ok\n", 7);

			strbuf_add(answer, e->buf.buf,
				   (size_t)(fin - e->buf.buf));
			memmove(e->buf.buf, e->buf.buf + used + 1,
				e->buf.len - used);
			e->buf.len -= used + 1;
			return ok;
		}
		if (labad_now_s() > end) {
			strbuf_addf(answer,
				    "test_lab_crash.py: no answer to '%s' in "
				    "%d s",
				    cmd, EYE_TIMEOUT_S);
			return false;
		}
		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(e->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			strbuf_addf(answer, "test_lab_crash.py ended: %s",
				    e->buf.buf);
			return false;
		}
		strbuf_add(&e->buf, buf, (size_t)n);
	}
}

static void eye_need(struct eye *e, const char *cmd)
{
	struct strbuf a = STRBUF_INIT;

	if (!eye_ask(e, cmd, &a))
		fail_msg("test_lab_crash.py %s:\n%s", cmd, a.buf);
	strbuf_release(&a);
}

static void eye_stop(struct eye *e)
{
	int st;

	if (e->pid <= 0)
		return;
	if (write(e->to, "quit\n", 5) < 0)
		kill(e->pid, SIGKILL);
	close(e->to);
	close(e->from);
	waitpid(e->pid, &st, 0);
	strbuf_release(&e->buf);
	e->pid = 0;
}

/* ---- one lane: a desired state with its database and TMPDIR ---------- */

struct lane {
	int f;		  /* the forest, 0 both */
	const char *name; /* corp, branch, full */
	char *dir, *cfg, *db, *tmp, *trace;
	char *base_db; /* copied as each run's database; NULL: db init */
	char **want;   /* the full apply's writes to it, normalised */
	size_t nwant;
	struct strbuf problems;
	size_t fails;
	size_t left_private; /* kills that left a private directory behind */
	double t[5];	     /* seconds in each step (enum step) */
};

/* The steps of one k, timed. */
enum step { T_RESET, T_KILLED, T_APPLY, T_PLAN, T_CHECK };
static const char *const step_name[] = {"reset and db init", "killed apply",
					"next apply", "plan",
					"history, files, the forest"};

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static struct eye eye[3];	 /* one per forest */
static struct lane lanes[3];	 /* 0 full, 1 corp, 2 branch */
static char *tmpdir, *password[3];
static char **full_writes;
static size_t nfull;

static void write_config(const struct lane *l)
{
	struct strbuf y = STRBUF_INIT;

	strbuf_addf(&y,
		    "version: 1\n"
		    "ipamServer: ipam1.corp.example.test\n"
		    "database: %s%s\n"
		    "provisioning:\n  method: gpo\n  gpoPrefix: IPAM1\n"
		    "connection:\n  auth: simple\n  caFile: %s\n"
		    "  timeout: 10\n"
		    "discovery:\n",
		    test_db_is_pg() ? "" : "sqlite:", l->db,
		    lab_need_env("IPAM_LAB_CA"));
	/* branch's lane names corp too: branch's IPAMUG holds the IPAM
	 * server, whose account is found in corp (across the trust); corp
	 * is left converged by its own lane then and gets no write */
	for (int f = 1; f <= 2; f++) {
		if (l->f == 1 && f == 2)
			continue;
		strbuf_addf(&y,
			    "  - domain: %s\n%s"
			    "    connection:\n"
			    "      ldapUri: %s\n      user: %s\n"
			    "      passwordFile: %s\n      caFile: %s\n",
			    F[f].domain, f == 1 ? "    dhcp: false\n" : "",
			    lab_need_forest(f, "LDAP_URI"),
			    lab_need_forest(f, "ADMIN_USER"),
			    lab_need_forest(f, "ADMIN_PASSWORD_FILE"),
			    lab_need_forest(f, "CA"));
	}
	strbuf_addf(&y,
		    "servers:\n"
		    "  - name: dhcp1.%s\n    roles: [dhcp]\n"
		    "    manageability: managed\n"
		    "  - name: nps1.%s\n    roles: [nps]\n"
		    "    manageability: managed\n",
		    F[1].domain, F[1].domain);
	strbuf_addstr(&y, "defaults:\n  manageability: managed\n"
			  "safety:\n  maxRemovals: 10\n");
	assert_int_equal(lab_write_file(l->cfg, y.buf, y.len), 0);
	strbuf_release(&y);
}

static void lane_init(struct lane *l, int f, const char *name)
{
	memset(l, 0, sizeof(*l));
	l->f = f;
	l->name = name;
	l->dir = xasprintf("%s/%s", tmpdir, name);
	l->cfg = xasprintf("%s/ipamctl.yaml", l->dir);
	l->db = test_db_new(l->dir);
	l->tmp = xasprintf("%s/tmp", l->dir);
	l->trace = xasprintf("%s/writes", l->dir);
	strbuf_init(&l->problems);
	assert_int_equal(mkdir(l->dir, 0700), 0);
	assert_int_equal(mkdir(l->tmp, 0700), 0);
	write_config(l);
}

static void lane_release(struct lane *l)
{
	free(l->dir);
	free(l->cfg);
	free(l->db);
	free(l->tmp);
	free(l->trace);
	free(l->base_db);
	lab_strv_free(l->want);
	strbuf_release(&l->problems);
	memset(l, 0, sizeof(*l));
}

/* ---- running ipamctl ---------------------------------------------------- */

/* ipamctl (fault: ipamctl-fault with IPAM_FAULT_AFTER=after, 0 none, and
 * the trace) with args up to NULL, TMPDIR the lane's; never fails. */
static void run(struct lab_run *res, const struct lane *l, bool fault,
		size_t after, ...)
{
	const char *argv[16];
	char *env[4] = {NULL};
	struct lab_run_opts o = {.timeout_ms = RUN_TIMEOUT_MS};
	size_t n = 0, e = 0;
	const char *a;
	va_list ap;

	argv[n++] = fault ? lab_need_env("IPAMCTL_FAULT") : labad_ipamctl();
	va_start(ap, after);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	env[e++] = xasprintf("TMPDIR=%s", l->tmp);
	if (fault) {
		env[e++] = xasprintf("IPAM_FAULT_COUNT_FILE=%s", l->trace);
		if (after)
			env[e++] = xasprintf("IPAM_FAULT_AFTER=%zu", after);
	}
	o.env = (const char *const *)env;
	if (lab_run(argv, &o, res) < 0)
		res->exit_code = -1;
	for (size_t i = 0; i < e; i++)
		free(env[i]);
}

static void describe(struct strbuf *why, const struct lab_run *res,
		     const char *what)
{
	strbuf_addf(why, "\n    %s", lab_run_describe(res, what));
}

/* A new state database (the lane's desired state names it). */
static bool fresh_db(const struct lane *l, struct strbuf *why)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
	struct lab_run res;
	bool ok;

	if (test_db_is_pg()) {
		/* dropped (its sessions ended) and made again, from base_db
		 * as its template */
		test_db_reset(l->db, l->base_db);
		if (l->base_db)
			return true;
	}
	for (size_t i = 0; !test_db_is_pg() && i < sizeof(ext) / sizeof(*ext);
	     i++) {
		char *p = xasprintf("%s%s", l->db, ext[i]);

		unlink(p);
		free(p);
	}
	if (l->base_db) {
		size_t len;
		char *data = lab_read_file(l->base_db, 1 << 28, &len);

		ok = data && lab_write_file(l->db, data, len) == 0;
		if (!ok)
			strbuf_addf(why, "\n    cannot copy %s", l->base_db);
		free(data);
		return ok;
	}
	run(&res, l, false, 0, "db", "init", "-c", l->cfg, NULL);
	ok = res.exit_code == 0 && !res.timed_out;
	if (!ok)
		describe(why, &res, "ipamctl db init");
	lab_run_free(&res);
	return ok;
}

/* ---- the write trace ---------------------------------------------------- */

/* The trace's write lines ("<n> <op> <target>"), without their number,
 * GPO GUIDs numbered in order of appearance ({G1}, ...); *abort_pid the
 * pid of "abort after write <k> (pid <pid>)", 0 when none. */
static char **read_trace(const char *path, size_t *nr, long *abort_pid)
{
	char *text = lab_read_file(path, 1 << 22, NULL);
	char **lines = labad_lines(text), **v = NULL;
	char *guid[64];
	size_t n = 0, ng = 0;

	*abort_pid = 0;
	for (size_t i = 0; lines && lines[i]; i++) {
		const char *p = lines[i], *sp = strchr(p, ' '), *o;
		struct strbuf s = STRBUF_INIT;

		if (!strncmp(p, "abort after write ", 18)) {
			o = strstr(p, "(pid ");
			*abort_pid = o ? strtol(o + 5, NULL, 10) : -1;
			continue;
		}
		for (p = sp ? sp + 1 : p; *p; p = o) {
			const char *close = NULL;
			size_t g;

			o = strchr(p, '{');
			if (o)
				close = strchr(o, '}');
			if (!o || !close) {
				strbuf_addstr(&s, p);
				break;
			}
			strbuf_add(&s, p, (size_t)(o - p));
			for (g = 0; g < ng; g++)
				if (!strncasecmp(guid[g], o,
						 (size_t)(close - o + 1)) &&
				    strlen(guid[g]) == (size_t)(close - o + 1))
					break;
			if (g == ng && ng < 64)
				guid[ng++] =
					xstrndup(o, (size_t)(close - o + 1));
			strbuf_addf(&s, "{G%zu}", g + 1);
			o = close + 1;
		}
		labad_strv_push(&v, &n, s.buf);
		strbuf_release(&s);
	}
	for (size_t g = 0; g < ng; g++)
		free(guid[g]);
	lab_strv_free(lines);
	free(text);
	*nr = n;
	return v ? v : labad_strv_new();
}

/* The writes of the full apply to forest f, as read_trace numbers them. */
static char **writes_of(int f, size_t *nr)
{
	struct strbuf t = STRBUF_INIT;
	char *path = xasprintf("%s/writes-%d", tmpdir, f);
	char **v;
	long pid;

	for (size_t i = 0; i < nfull; i++) {
		const char *w = full_writes[i];
		bool mine = strstr(w, F[f].dn) || strstr(w, F[f].domain);
		bool other =
			strstr(w, F[3 - f].dn) || strstr(w, F[3 - f].domain);

		if (mine == other)
			fail_msg("write %zu of the full apply: to %s forest? "
				 "'%s'",
				 i + 1, mine ? "each" : "neither", w);
		if (mine)
			strbuf_addf(&t, "%zu %s\n", i + 1, w);
	}
	assert_int_equal(lab_write_file(path, t.buf, t.len), 0);
	v = read_trace(path, nr, &pid);
	free(path);
	strbuf_release(&t);
	return v;
}

/* ---- the checks after a run --------------------------------------------- */

static bool has_secret(const char *data, size_t len)
{
	for (int f = 1; f <= 2; f++) {
		size_t pl = strlen(password[f]);

		for (size_t i = 0; pl && i + pl <= len; i++)
			if (data[i] == password[f][0] &&
			    !memcmp(data + i, password[f], pl))
				return true;
	}
	return false;
}

/* No file under dir holds an admin password or is open to others;
 * *private counts the ipamctl-smb-* directories at the top. */
static void scan_dir(const char *dir, int depth, const char *when,
		     size_t *private, struct strbuf *why)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (depth == 0 && !strncmp(de->d_name, "ipamctl-smb-", 12))
			(*private)++;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &st) < 0) {
			free(p);
			continue;
		}
		if ((st.st_mode & 077) && !S_ISLNK(st.st_mode))
			strbuf_addf(why, "\n    %s: %s is mode %04o", when, p,
				    (unsigned)(st.st_mode & 07777));
		if (S_ISDIR(st.st_mode) && depth < 8) {
			scan_dir(p, depth + 1, when, private, why);
		} else if (S_ISREG(st.st_mode)) {
			size_t len = 0;
			char *data = lab_read_file(p, MAX_FILE_SCAN, &len);

			if (data && has_secret(data, len))
				strbuf_addf(why,
					    "\n    %s: %s holds an admin "
					    "password",
					    when, p);
			free(data);
		}
		free(p);
	}
	closedir(d);
}

/* The killed run: SIGABRT right after write k, its writes the full
 * apply's up to k; *pid its pid. */
static bool killed_run(struct lane *l, size_t k, long *pid, struct strbuf *why)
{
	char *tag = xasprintf("abort after write %zu (pid ", k);
	struct lab_run res;
	size_t n = 0;
	char **got;
	bool ok = true;

	unlink(l->trace);
	run(&res, l, true, k, "apply", "-c", l->cfg, "--auto-approve", "-q",
	    NULL);
	if (res.exit_code != 128 + SIGABRT || !strstr(res.err, tag)) {
		describe(why, &res,
			 "ipamctl-fault apply: expected SIGABRT at the write");
		ok = false;
	}
	lab_run_free(&res);
	got = read_trace(l->trace, &n, pid);
	if (n != k || *pid <= 0) {
		strbuf_addf(why,
			    "\n    the killed run's trace: %zu writes, "
			    "abort pid %ld",
			    n, *pid);
		ok = false;
	}
	for (size_t i = 0; ok && i < n; i++)
		if (strcmp(got[i], l->want[i])) {
			strbuf_addf(why,
				    "\n    write %zu of the killed run: '%s', "
				    "the full apply's: '%s'",
				    i + 1, got[i], l->want[i]);
			ok = false;
		}
	lab_strv_free(got);
	free(tag);
	return ok;
}

/* history: the run of pid an interrupted apply, the newest apply one that
 * succeeded (or found nothing to do: the kill came after the last write). */
static void check_history(const struct lane *l, long pid, struct strbuf *why)
{
	struct ipam_node *root = NULL;
	const char *dead = NULL, *newest = NULL;
	struct strbuf runs = STRBUF_INIT;
	struct lab_run res;

	run(&res, l, false, 0, "history", "-c", l->cfg, "-o", "json", NULL);
	if (res.exit_code != 0 ||
	    ipam_json_parse(&root, "history", res.out, res.out_len) ||
	    root->kind != IPAM_NODE_SEQ) {
		describe(why, &res, "ipamctl history -o json");
		goto out;
	}
	for (size_t i = 0; i < root->nr; i++) {
		const struct ipam_node *r = root->items[i];
		const struct ipam_node *p = labad_jkey(r, "pid");
		const char *cmd = labad_jstr(r, "command");
		const char *outcome = labad_jstr(r, "outcome");
		long long rp = p && p->kind == IPAM_NODE_INT ? p->num : -1;

		strbuf_addf(&runs, "\n      %s (pid %lld): %s", cmd ? cmd : "?",
			    rp, outcome ? outcome : "?");
		if (!cmd || strcmp(cmd, "apply"))
			continue;
		if (!newest)
			newest = outcome ? outcome : "?";
		if (rp == pid)
			dead = outcome ? outcome : "?";
	}
	if (!dead || strcmp(dead, "interrupted") || !newest ||
	    (strcmp(newest, "succeeded") && strcmp(newest, "no_changes")))
		strbuf_addf(why,
			    "\n    history: the killed apply (pid %ld) %s, "
			    "the last apply %s; newest first:%s",
			    pid, dead ? dead : "not there",
			    newest ? newest : "not there", runs.buf);
out:
	strbuf_release(&runs);
	ipam_node_free(root);
	lab_run_free(&res);
}

/* After the killed run: the next apply, the plan, history, the forest. */
static void converge(struct lane *l, long pid, struct strbuf *why)
{
	char *holder = xasprintf("(pid %ld ", pid), *cmd;
	struct strbuf a = STRBUF_INIT;
	struct lab_run res;
	size_t priv = 0;
	double t = labad_now_s();

	scan_dir(l->tmp, 0, "after the kill", &priv, why);
	l->left_private += priv > 0;
	run(&res, l, false, 0, "apply", "-c", l->cfg, "--auto-approve", "-q",
	    NULL);
	if (res.exit_code != 0 ||
	    !strstr(res.err, "took over the reconciler lock") ||
	    !strstr(res.err, holder))
		describe(why, &res,
			 "the next apply: exit 0, taking the lock over");
	lab_run_free(&res);
	l->t[T_APPLY] += labad_now_s() - t;
	t = labad_now_s();
	run(&res, l, false, 0, "plan", "-c", l->cfg, "--detailed-exitcode",
	    NULL);
	if (res.exit_code != 0)
		describe(why, &res, "plan --detailed-exitcode: exit 0");
	lab_run_free(&res);
	l->t[T_PLAN] += labad_now_s() - t;
	t = labad_now_s();
	check_history(l, pid, why);
	priv = 0;
	scan_dir(l->tmp, 0, "after the next apply", &priv, why);
	if (priv)
		strbuf_addf(why,
			    "\n    %zu ipamctl-smb-* directories left "
			    "in %s",
			    priv, l->tmp);
	cmd = xasprintf("check %d", l->f);
	if (!eye_ask(&eye[l->f], cmd, &a))
		strbuf_addf(why, "\n    %s: %s", F[l->f].domain, a.buf);
	l->t[T_CHECK] += labad_now_s() - t;
	free(cmd);
	free(holder);
	strbuf_release(&a);
}

/* ---- one forest, write by write ---------------------------------------- */

static bool reset_forest(int f, struct strbuf *why)
{
	struct strbuf a = STRBUF_INIT;
	char *cmd = xasprintf("reset %d", f);
	bool ok = eye_ask(&eye[f], cmd, &a);

	if (!ok)
		strbuf_addf(why, "\n    reset %s: %s", F[f].domain, a.buf);
	free(cmd);
	strbuf_release(&a);
	return ok;
}

static void crash_at(struct lane *l, size_t k)
{
	struct strbuf why = STRBUF_INIT;
	double t0 = labad_now_s(), t1 = 0;
	long pid = 0;
	bool ok = reset_forest(l->f, &why) && fresh_db(l, &why);

	l->t[T_RESET] += (t1 = labad_now_s()) - t0;
	ok = ok && killed_run(l, k, &pid, &why);
	l->t[T_KILLED] += labad_now_s() - t1;
	if (ok)
		converge(l, pid, &why);
	printf("%s: k=%zu/%zu %s: %s (%.1f s)\n", l->name, k, l->nwant,
	       l->want[k - 1], why.len ? "FAILED" : "converged",
	       labad_now_s() - t0);
	if (why.len) {
		l->fails++;
		strbuf_addf(&l->problems, "%s k=%zu, after '%s':%s\n",
			    F[l->f].domain, k, l->want[k - 1], why.buf);
	}
	fflush(stdout);
	strbuf_release(&why);
}

/* The forest's own full apply makes the full apply's writes to it. */
static bool same_writes(struct lane *l)
{
	struct strbuf why = STRBUF_INIT;
	struct lab_run res;
	size_t n = 0;
	char **got;
	long pid;
	bool ok = false;

	if (!reset_forest(l->f, &why) || !fresh_db(l, &why))
		goto out;
	unlink(l->trace);
	run(&res, l, true, 0, "apply", "-c", l->cfg, "--auto-approve", "-q",
	    NULL);
	if (res.exit_code != 0)
		describe(&why, &res, "ipamctl-fault apply, counting");
	lab_run_free(&res);
	got = read_trace(l->trace, &n, &pid);
	ok = !why.len && n == l->nwant;
	for (size_t i = 0; ok && i < n; i++)
		ok = !strcmp(got[i], l->want[i]);
	if (!ok && !why.len) {
		char *a = labad_join(got), *b = labad_join(l->want);

		strbuf_addf(&why,
			    "\n    its writes:\n  %s\n    the full "
			    "apply's:\n  %s",
			    a, b);
		free(a);
		free(b);
	}
	lab_strv_free(got);
out:
	if (!ok)
		strbuf_addf(&l->problems, "%s: its own apply differs:%s\n",
			    F[l->f].domain, why.buf);
	strbuf_release(&why);
	return ok;
}

static void lane_run(struct lane *l)
{
	double t0 = labad_now_s();

	if (same_writes(l))
		for (size_t k = 1; k <= l->nwant; k++)
			crash_at(l, k);
	printf("%s: %zu writes, %zu not converged, %.0f s; %zu kills left "
	       "a private directory (swept by the next run)\n",
	       l->name, l->nwant, l->fails, labad_now_s() - t0,
	       l->left_private);
	for (int i = 0; i <= T_CHECK && l->nwant; i++)
		printf("  %s: %.2f s per write\n", step_name[i],
		       l->t[i] / (double)l->nwant);
	fflush(stdout);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
		password[f] = lab_need_file(
			lab_need_forest(f, "ADMIN_PASSWORD_FILE"), NULL);
		if (strlen(password[f]) < 8)
			fail_msg("forest %d: an admin password of %zu "
				 "characters is too short to look for",
				 f, strlen(password[f]));
	}
	/* the baselines: the lab without anything of ipamctl's */
	for (int f = 1; f <= 2; f++) {
		char *cmd = xasprintf("open %d", f);

		eye_start(&eye[f]);
		eye_need(&eye[f], cmd);
		free(cmd);
	}
	lane_init(&lanes[0], 0, "full");
	lane_init(&lanes[1], 1, "corp");
	lane_init(&lanes[2], 2, "branch");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int f = 1; f <= 2; f++) {
		struct strbuf a = STRBUF_INIT;
		char *cmd = xasprintf("reset %d", f);

		if (eye[f].pid && !eye_ask(&eye[f], cmd, &a))
			printf("reset %d: %s\n", f, a.buf);
		free(cmd);
		strbuf_release(&a);
		eye_stop(&eye[f]);
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
		free(password[f]);
	}
	for (int i = 0; i < 3; i++)
		lane_release(&lanes[i]);
	lab_strv_free(full_writes);
	lab_rm_rf(tmpdir);
	free(tmpdir);
	return 0;
}

/* ---- (1) the full apply, counted ---------------------------------------- */

static void test_1_full_apply_counted(void **state)
{
	struct lane *l = &lanes[0];
	struct strbuf why = STRBUF_INIT, a = STRBUF_INIT;
	struct lab_run res;
	double t0 = labad_now_s();
	long pid;

	(void)state;
	if (!fresh_db(l, &why))
		fail_msg("%s", why.buf);
	run(&res, l, true, 0, "apply", "-c", l->cfg, "--auto-approve", "-q",
	    NULL);
	labad_expect_exit(&res, 0, "ipamctl-fault apply, counting its writes");
	lab_run_free(&res);
	full_writes = read_trace(l->trace, &nfull, &pid);
	if (nfull == 0 || pid)
		fail_msg("the full apply: %zu writes, abort pid %ld", nfull,
			 pid);
	run(&res, l, false, 0, "plan", "-c", l->cfg, "--detailed-exitcode",
	    NULL);
	labad_expect_exit(&res, 0, "plan --detailed-exitcode after it");
	lab_run_free(&res);
	for (int f = 1; f <= 2; f++) {
		char *cmd = xasprintf("check %d", f);

		if (!eye_ask(&eye[f], cmd, &a))
			fail_msg("after the full apply, %s:\n%s", F[f].domain,
				 a.buf);
		free(cmd);
		lanes[f].want = writes_of(f, &lanes[f].nwant);
	}
	printf("N = %zu writes to AD and SYSVOL (%zu corp, %zu branch) in a "
	       "full apply of %.1f s\n",
	       nfull, lanes[1].nwant, lanes[2].nwant, labad_now_s() - t0);
	for (size_t i = 0; i < nfull; i++)
		printf("  %3zu %s\n", i + 1, full_writes[i]);
	strbuf_release(&why);
	strbuf_release(&a);
}

/* ---- (2) killed after each write ---------------------------------------- */

static void test_2_killed_after_each_write(void **state)
{
	double t0 = labad_now_s();
	struct strbuf all = STRBUF_INIT;
	size_t len;
	char *data;

	(void)state;
	if (!nfull || !lanes[1].want || !lanes[2].want)
		fail_msg("no write count: (1) failed");
	/* corp first; its last run leaves corp converged and its database
	 * recording that, the start of every branch run */
	lane_run(&lanes[1]);
	if (test_db_is_pg()) {
		/* a database of its own, a copy of corp's lane's */
		lanes[2].base_db = test_db_new(lanes[2].dir);
		test_db_reset(lanes[2].base_db, lanes[1].db);
	} else {
		lanes[2].base_db = xasprintf("%s/base.db", lanes[2].dir);
		data = lab_read_file(lanes[1].db, 1 << 28, &len);
		assert_non_null(data);
		assert_int_equal(lab_write_file(lanes[2].base_db, data, len),
				 0);
		free(data);
	}
	lane_run(&lanes[2]);
	for (int f = 1; f <= 2; f++)
		strbuf_add(&all, lanes[f].problems.buf, lanes[f].problems.len);
	printf("(2) %zu killed applies, each converged after: %.0f s\n",
	       lanes[1].nwant + lanes[2].nwant, labad_now_s() - t0);
	if (all.len) {
		printf("NOT CONVERGED:\n%s", all.buf);
		fail_msg("some killed applies did not converge (above)");
	}
	strbuf_release(&all);
}

/* ---- (3) samba-tool's own view of the last one -------------------------- */

static void test_3_samba_tool(void **state)
{
	(void)state;
	for (int f = 1; f <= 2; f++) {
		labad_need_gpos(&F[f], true);
		labad_aclcheck_ok(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_full_apply_counted),
		cmocka_unit_test(test_2_killed_after_each_write),
		cmocka_unit_test(test_3_samba_tool),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
