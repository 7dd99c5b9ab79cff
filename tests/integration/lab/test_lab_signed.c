/*
 * Signed commits against both forests of the lab: ipamctl reconcile with
 * source.verify in the local configuration (-c), fetching the lab's
 * desired state from a local bare git repository whose commits are
 * signed (or not) with SSH keys (ssh-keygen) and OpenPGP keys (gpg in a
 * private GNUPGHOME, the allowed key exported to a keyring for gpgv).
 *
 * The webhook receiver (a child on an ephemeral port of 127.0.0.1, as in
 * test_lab_gitops, which checks the signatures of the requests; here their
 * bodies are what counts) records every request.  In order:
 *  (1) mode ssh: a commit signed by the allowed key is applied: exit 0,
 *      history and status name its signer and key, the "applied" notice's
 *      details too;
 *  (2) an unsigned commit is refused: exit 1, a failed run, status still
 *      names the signed commit as last applied, a source_invalid notice
 *      names the commit, no signer, and why;
 *  (3) a commit signed by a key not in allowed_signers is refused: no
 *      signer, its key's fingerprint, and why;
 *  (4) mode openpgp: a commit signed by the keyring's key is applied (the
 *      same state: nothing to do), its signer recorded;
 *  (5) a commit signed by another OpenPGP key is refused, naming its key;
 *  (6) a tampered commit (the message of (4) rewritten, its gpgsig kept)
 *      is refused as a bad signature by the signer it claims.
 *
 * Discovery binds UDP 68: the test holds the lab's DHCP client lock too.
 */
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
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

static struct labad_forest F[3];
static char *tmpdir, *db_uri, *bare, *repo_url, *worktree, *cache_dir;
static char *gnupg, *alice_key, *mallory_key, *allowed, *keyring;
static char *hook_secret, *cfg_ssh, *cfg_pgp, *eve_fpr;
static char *signed_ssh, *signed_pgp; /* the commits applied */
static int hook_port;

/* ---- running things ----------------------------------------------------- */

/* argv (up to NULL) with our HOME and GNUPGHOME; must succeed; its
 * stdout, trimmed. */
static char *runv(const char *first, va_list ap)
{
	char home[4096], gh[4096];
	const char *env[] = {home,
			     gh,
			     "GIT_CONFIG_NOSYSTEM=1",
			     "GIT_AUTHOR_NAME=ipamctl test",
			     "GIT_AUTHOR_EMAIL=signed@example.test",
			     "GIT_COMMITTER_NAME=ipamctl test",
			     "GIT_COMMITTER_EMAIL=signed@example.test",
			     NULL};
	const char *argv[32] = {first};
	struct lab_run_opts o = {.env = env, .timeout_ms = 60000};
	struct lab_run res;
	size_t n = 1, l;
	const char *a;
	char *out;

	snprintf(home, sizeof(home), "HOME=%s", tmpdir);
	snprintf(gh, sizeof(gh), "GNUPGHOME=%s", gnupg);
	while ((a = va_arg(ap, const char *)) && n < 31)
		argv[n++] = a;
	argv[n] = NULL;
	lab_must_succeed(argv, &o, &res);
	out = xstrdup(res.out);
	for (l = strlen(out); l && isspace((unsigned char)out[l - 1]);)
		out[--l] = '\0';
	lab_run_free(&res);
	return out;
}

static char *run_out(const char *first, ...)
{
	va_list ap;
	char *out;

	va_start(ap, first);
	out = runv(first, ap);
	va_end(ap);
	return out;
}

#define run(...) free(run_out(__VA_ARGS__, NULL))

/* ---- the webhook receiver ----------------------------------------------- */

static pid_t hook_pid = -1;
static char *hook_dir;

static char *req_path(unsigned i)
{
	return xasprintf("%s/req-%04u", hook_dir, i);
}

/* The child: accept, read one request (to its Content-Length), keep it,
 * answer 200. */
static void serve(int ls)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
				 "Connection: close\r\n\r\n";
	unsigned n = 0;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct timeval tv = {10, 0};
		struct strbuf req = STRBUF_INIT;
		size_t need = 0;
		char buf[16384], *tmp, *final;
		int c = accept(ls, NULL, NULL), fd;

		if (c < 0) {
			if (errno == EINTR)
				continue;
			_exit(2);
		}
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (;;) {
			ssize_t r = read(c, buf, sizeof(buf));
			char *e;

			if (r <= 0)
				break;
			strbuf_add(&req, buf, (size_t)r);
			e = strstr(req.buf, "\r\n\r\n");
			if (!need && e) {
				char *cl = strstr(req.buf, "\nContent-Length:");

				need = (size_t)(e - req.buf) + 4 +
				       (cl && cl < e
						? strtoul(cl + 16, NULL, 10)
						: 0);
			}
			if (need && req.len >= need)
				break;
		}
		tmp = xasprintf("%s/.tmp", hook_dir);
		final = req_path(n++);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, req.buf, req.len) != (ssize_t)req.len ||
		    close(fd) || rename(tmp, final))
			_exit(3);
		send(c, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
		close(c);
		free(tmp);
		free(final);
		strbuf_release(&req);
	}
}

static void start_receiver(void)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	pid_t parent = getpid();
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	hook_port = ntohs(sa.sin_port);
	hook_dir = xasprintf("%s/hooks", tmpdir);
	assert_int_equal(mkdir(hook_dir, 0700), 0);
	fflush(NULL);
	hook_pid = fork();
	assert_true(hook_pid >= 0);
	if (hook_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		serve(ls);
		_exit(0);
	}
	close(ls);
}

static unsigned req_count(void)
{
	unsigned n = 0;
	struct stat st;

	for (;;) {
		char *p = req_path(n);
		int rc = stat(p, &st);

		free(p);
		if (rc)
			return n;
		n++;
	}
}

/* The body of the first request from index `from` on whose path is path
 * and event is event (parsed; NULL when none). */
static struct ipam_node *find_notice(unsigned from, const char *path,
				     const char *event)
{
	unsigned n = req_count();

	for (unsigned i = from; i < n; i++) {
		char *file = req_path(i), *raw, *body;
		struct ipam_node *root = NULL;
		size_t len;
		char *want = xasprintf("POST %s ", path);
		const char *ev;

		raw = lab_read_file(file, 8u << 20, &len);
		assert_non_null(raw);
		body = strstr(raw, "\r\n\r\n");
		if (body && !strncmp(raw, want, strlen(want)) &&
		    !ipam_json_parse(&root, "webhook body", body + 4,
				     len - (size_t)(body + 4 - raw)) &&
		    (ev = labad_jstr(root, "event")) && !strcmp(ev, event)) {
			free(want);
			free(raw);
			free(file);
			return root;
		}
		ipam_node_free(root);
		free(want);
		free(raw);
		free(file);
	}
	return NULL;
}

/* ---- the repository and the configurations ------------------------------ */

/* The lab's desired state with our database and webhook; extra (a
 * comment) makes another commit of the same state. */
static char *desired(const char *extra)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL);
	struct strbuf out = STRBUF_INIT;
	bool db = false;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (!strncmp(p, "database:", 9)) {
			strbuf_addf(&out, "database: %s\n", db_uri);
			db = true;
		} else {
			strbuf_add(&out, p, n);
			strbuf_addch(&out, '\n');
		}
		p += n + (eol ? 1 : 0);
	}
	if (!db)
		fail_msg("%s: no database: to change", src);
	strbuf_addf(&out,
		    "notify:\n"
		    "  - kind: generic\n"
		    "    url: http://127.0.0.1:%d/hook\n"
		    "    secretFile: %s\n"
		    "# %s\n",
		    hook_port, hook_secret, extra);
	free(text);
	free(src);
	return strbuf_detach(&out, NULL);
}

/* Commit the state (with extra) to main, signed with the -c settings
 * given (NULL: unsigned); its id. */
static char *make_commit(const char *extra, const char *format, const char *key)
{
	char *text = desired(extra), *file, *fmt, *sk, *id;

	file = xasprintf("%s/ipamctl.yaml", worktree);
	assert_int_equal(lab_write_file(file, text, strlen(text)), 0);
	run("git", "-C", worktree, "add", "ipamctl.yaml");
	if (format) {
		fmt = xasprintf("gpg.format=%s", format);
		sk = xasprintf("user.signingkey=%s", key);
		run("git", "-C", worktree, "-c", fmt, "-c", sk, "commit", "-q",
		    "-S", "-m", extra);
		free(fmt);
		free(sk);
	} else {
		run("git", "-C", worktree, "commit", "-q", "-m", extra);
	}
	id = run_out("git", "-C", worktree, "rev-parse", "HEAD", NULL);
	run("git", "-C", worktree, "push", "-q", "-f", bare,
	    "HEAD:refs/heads/main");
	printf("commit %s: %s\n", id, extra);
	free(file);
	free(text);
	return id;
}

/* Commit id with its message rewritten and its gpgsig header kept, pushed
 * to main; the new id. */
static char *tamper(const char *id)
{
	char *raw =
		run_out("git", "-C", worktree, "cat-file", "commit", id, NULL);
	char *path = xasprintf("%s/tampered", tmpdir), *at, *out, *spec;
	struct strbuf sb = STRBUF_INIT;

	at = strstr(raw, "\n\n");
	assert_non_null(at);
	strbuf_add(&sb, raw, (size_t)(at - raw) + 2);
	strbuf_addstr(&sb, "reviewed and approved (it was not)\n");
	assert_int_equal(lab_write_file(path, sb.buf, sb.len), 0);
	out = run_out("git", "-C", worktree, "hash-object", "-t", "commit",
		      "-w", path, NULL);
	spec = xasprintf("%s:refs/heads/main", out);
	run("git", "-C", worktree, "push", "-q", "-f", bare, spec);
	printf("tampered commit %s (from %s)\n", out, id);
	strbuf_release(&sb);
	free(spec);
	free(raw);
	free(path);
	return out;
}

/* A local configuration holding the fetch to verify (a YAML mapping). */
static char *write_local(const char *name, const char *verify)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	char *text = xasprintf("version: 1\n"
			       "ipamServer: ipam1.corp.example.test\n"
			       "database: %s\n"
			       "provisioning:\n"
			       "  method: gpo\n"
			       "  gpoPrefix: IPAM1\n"
			       "source:\n"
			       "  repo: %s\n"
			       "  cacheDir: %s\n"
			       "  verify: %s\n"
			       "notify:\n"
			       "  - kind: generic\n"
			       "    url: http://127.0.0.1:%d/local\n"
			       "    secretFile: %s\n",
			       db_uri, repo_url, cache_dir, verify, hook_port,
			       hook_secret);
	struct lab_run res;

	assert_int_equal(lab_write_file(path, text, strlen(text)), 0);
	labad_run_ipamctl(&res, "validate", "-c", path, NULL);
	labad_expect_exit(&res, 0, "ipamctl validate (the local file)");
	lab_run_free(&res);
	free(text);
	return path;
}

/* ---- what ipamctl recorded ---------------------------------------------- */

/* The newest run (history -o json) is of commit, with that outcome
 * ("applied": succeeded or no_changes) and signer (NULL: none recorded);
 * the key recorded starts with key_prefix. */
static void expect_run(const char *commit, const char *outcome,
		       const char *signer, const char *key_prefix)
{
	struct lab_run res;
	struct ipam_node *root;
	const struct ipam_node *r;
	const char *c, *o, *s, *k;

	labad_run_ipamctl(&res, "history", "--db", db_uri, "--limit", "1", "-o",
			  "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl history -o json");
	root = labad_parse_json(res.out, res.out_len, "history");
	assert_true(root->kind == IPAM_NODE_SEQ && root->nr == 1);
	r = root->items[0];
	c = labad_jstr(r, "git_commit");
	o = labad_jstr(r, "outcome");
	s = labad_jstr(r, "git_signer");
	k = labad_jstr(r, "git_signer_key");
	if (!c || strcmp(c, commit) || !o ||
	    (strcmp(outcome, "applied")
		     ? strcmp(o, outcome) != 0
		     : strcmp(o, "succeeded") && strcmp(o, "no_changes")) ||
	    (signer ? !s || strcmp(s, signer) : s != NULL) ||
	    (key_prefix ? !k || strncmp(k, key_prefix, strlen(key_prefix))
			: k != NULL))
		fail_msg("the newest run should be commit %s, %s, signed by "
			 "%s (key %s…):\n%s",
			 commit, outcome, signer ? signer : "nobody recorded",
			 key_prefix ? key_prefix : "-", res.out);
	ipam_node_free(root);
	lab_run_free(&res);
	/* the text form shows it too */
	if (signer) {
		char *line =
			xasprintf("signed by %s (key %s", signer, key_prefix);

		labad_run_ipamctl(&res, "history", "--db", db_uri, "--limit",
				  "1", NULL);
		labad_expect_exit(&res, 0, "ipamctl history");
		if (!strstr(res.out, line))
			fail_msg("ipamctl history should say '%s':\n%s", line,
				 res.out);
		lab_run_free(&res);
		free(line);
	}
}

/* ipamctl status: last applied is commit, signed by signer. */
static void expect_status(const char *commit, const char *signer)
{
	struct lab_run res;
	struct ipam_node *root;
	const struct ipam_node *a;
	char *line;

	labad_run_ipamctl(&res, "status", "--db", db_uri, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl status -o json");
	root = labad_parse_json(res.out, res.out_len, "status");
	a = labad_jkey(root, "last_applied");
	if (!labad_jstr(a, "commit") ||
	    strcmp(labad_jstr(a, "commit"), commit) ||
	    !labad_jstr(a, "signer") || strcmp(labad_jstr(a, "signer"), signer))
		fail_msg("status: last applied should be %s signed by %s:\n%s",
			 commit, signer, res.out);
	ipam_node_free(root);
	lab_run_free(&res);
	labad_run_ipamctl(&res, "status", "--db", db_uri, NULL);
	labad_expect_exit(&res, 0, "ipamctl status");
	line = xasprintf("signed by %s (key ", signer);
	if (!strstr(res.out, line))
		fail_msg("ipamctl status should say '%s':\n%s", line, res.out);
	free(line);
	lab_run_free(&res);
}

/* reconcile -c cfg must exit with code. */
static void reconcile(const char *cfg, int code, const char *what)
{
	struct lab_run res;

	labad_run_ipamctl(&res, "reconcile", "-c", cfg, NULL);
	labad_expect_exit(&res, code, what);
	lab_run_free(&res);
}

/*
 * A refused commit: exit 1, a failed run of it with no signer, the last
 * applied commit unchanged, and a source_invalid notice to -c's webhook
 * naming the commit, the signer (or null), the key (prefix, or null) and
 * a reason with why in it.
 */
static void expect_refused(const char *cfg, const char *commit,
			   const char *applied, const char *applied_signer,
			   const char *signer, const char *key, const char *why)
{
	unsigned mark = req_count();
	struct ipam_node *n;
	const struct ipam_node *d, *sg, *k;
	const char *c, *reason, *err;

	reconcile(cfg, 1, "reconcile of a commit to refuse");
	expect_run(commit, "failed", NULL, NULL);
	expect_status(applied, applied_signer);
	n = find_notice(mark, "/local", "source_invalid");
	if (!n)
		fail_msg("no source_invalid notice to /local for %s", commit);
	d = labad_jkey(n, "details");
	c = labad_jstr(n, "commit");
	sg = labad_jkey(d, "signer");
	k = labad_jkey(d, "signer_key");
	reason = labad_jstr(d, "signature");
	err = labad_jstr(d, "error");
	if (!c || strcmp(c, commit) || !sg || !k || !reason ||
	    !strstr(reason, why) || !err || !strstr(err, why) ||
	    (signer ? sg->kind != IPAM_NODE_STR || strcmp(sg->str, signer)
		    : sg->kind != IPAM_NODE_NULL) ||
	    (key ? k->kind != IPAM_NODE_STR || strncmp(k->str, key, strlen(key))
		 : k->kind != IPAM_NODE_NULL) ||
	    !labad_jstr(d, "still_in_force") ||
	    strcmp(labad_jstr(d, "still_in_force"), applied))
		fail_msg("source_invalid for %s should name the signer %s, key "
			 "%s, why '%s' and %s still in force: commit %s, "
			 "details signer %s, key %s, signature '%s', error "
			 "'%s'",
			 commit, signer ? signer : "null", key ? key : "null",
			 why, applied, c ? c : "-",
			 sg && sg->kind == IPAM_NODE_STR ? sg->str : "null",
			 k && k->kind == IPAM_NODE_STR ? k->str : "null",
			 reason ? reason : "-", err ? err : "-");
	ipam_node_free(n);
}

/* ---- the cases ---------------------------------------------------------- */

static void test_1_ssh_signed_applies(void **state)
{
	unsigned mark = req_count();
	struct ipam_node *n;
	const char *s;

	(void)state;
	signed_ssh = make_commit("signed by alice", "ssh", alice_key);
	reconcile(cfg_ssh, 0, "reconcile of an SSH-signed commit");
	expect_run(signed_ssh, "succeeded", "alice@example.test", "SHA256:");
	expect_status(signed_ssh, "alice@example.test");
	n = find_notice(mark, "/hook", "applied");
	if (!n)
		fail_msg("no applied notice to /hook");
	s = labad_jstr(labad_jkey(n, "details"), "signer");
	if (!s || strcmp(s, "alice@example.test"))
		fail_msg("the applied notice's details should name the "
			 "signer alice@example.test, not %s",
			 s ? s : "null");
	ipam_node_free(n);
}

static void test_2_unsigned_refused(void **state)
{
	char *id;

	(void)state;
	id = make_commit("unsigned", NULL, NULL);
	expect_refused(cfg_ssh, id, signed_ssh, "alice@example.test", NULL,
		       NULL, "the commit is not signed");
	free(id);
}

static void test_3_ssh_unknown_key_refused(void **state)
{
	char *id;

	(void)state;
	id = make_commit("signed by mallory", "ssh", mallory_key);
	expect_refused(cfg_ssh, id, signed_ssh, "alice@example.test", NULL,
		       "SHA256:", "not in the allowed signers");
	free(id);
}

static void test_4_openpgp_signed_applies(void **state)
{
	(void)state;
	signed_pgp =
		make_commit("signed by bob", "openpgp", "bob@example.test");
	reconcile(cfg_pgp, 0, "reconcile of an OpenPGP-signed commit");
	/* the state of (1) again: nothing (or only drift) to do */
	expect_run(signed_pgp, "applied", "Bob <bob@example.test>", "");
	expect_status(signed_pgp, "Bob <bob@example.test>");
}

static void test_5_openpgp_unknown_key_refused(void **state)
{
	char *id;

	(void)state;
	id = make_commit("signed by eve", "openpgp", "eve@example.test");
	expect_refused(cfg_pgp, id, signed_pgp, "Bob <bob@example.test>", NULL,
		       eve_fpr, "not in the keyring");
	free(id);
}

static void test_6_tampered_refused(void **state)
{
	char *id;

	(void)state;
	id = tamper(signed_pgp);
	expect_refused(cfg_pgp, id, signed_pgp, "Bob <bob@example.test>",
		       "Bob <bob@example.test>", "", "bad signature");
	free(id);
}

/* ---- set-up ------------------------------------------------------------- */

static int setup(void **state)
{
	struct lab_run res;
	char *pub, *line, *text, *path, *list, *fpr;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_uri = test_db_is_pg() ? test_db_new(tmpdir)
				 : xasprintf("sqlite:%s/state.db", tmpdir);
	bare = xasprintf("%s/desired.git", tmpdir);
	repo_url = xasprintf("file://%s", bare);
	worktree = xasprintf("%s/work", tmpdir);
	cache_dir = xasprintf("%s/cache", tmpdir);
	gnupg = xasprintf("%s/gnupg", tmpdir);
	assert_int_equal(mkdir(gnupg, 0700), 0);
	hook_secret = xasprintf("%s/hook.secret", tmpdir);
	assert_int_equal(
		lab_write_file(hook_secret, "s3cret-of-the-test\n", 19), 0);
	start_receiver();

	/* SSH: alice is allowed, mallory is not */
	alice_key = xasprintf("%s/alice", tmpdir);
	mallory_key = xasprintf("%s/mallory", tmpdir);
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f",
	    alice_key);
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mallory",
	    "-f", mallory_key);
	pub = xasprintf("%s.pub", alice_key);
	line = lab_need_file(pub, NULL);
	allowed = xasprintf("%s/allowed_signers", tmpdir);
	text = xasprintf("alice@example.test namespaces=\"git\" %s", line);
	assert_int_equal(lab_write_file(allowed, text, strlen(text)), 0);
	free(text);
	free(line);
	free(pub);
	/* OpenPGP: bob's key in the keyring, eve's not */
	run("gpg", "--batch", "-q", "--passphrase", "", "--quick-gen-key",
	    "Bob <bob@example.test>", "ed25519", "sign", "never");
	run("gpg", "--batch", "-q", "--passphrase", "", "--quick-gen-key",
	    "Eve <eve@example.test>", "ed25519", "sign", "never");
	keyring = xasprintf("%s/signers.gpg", tmpdir);
	run("gpg", "--batch", "-q", "--output", keyring, "--export",
	    "bob@example.test");
	list = run_out("gpg", "--batch", "--with-colons", "--fingerprint",
		       "eve@example.test", NULL);
	fpr = strstr(list, "\nfpr:::::::::");
	assert_non_null(fpr);
	fpr += strlen("\nfpr:::::::::");
	eve_fpr = xstrndup(fpr, strcspn(fpr, ":"));
	free(list);

	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	run("git", "init", "-q", "--bare", "-b", "main", bare);
	run("git", "init", "-q", "-b", "main", worktree);
	text = xasprintf("{mode: ssh, allowedSigners: %s}", allowed);
	cfg_ssh = write_local("local-ssh.yaml", text);
	free(text);
	text = xasprintf("{mode: openpgp, keyring: %s}", keyring);
	cfg_pgp = write_local("local-openpgp.yaml", text);
	free(text);
	/* the state database, from the desired state */
	text = desired("db init");
	path = xasprintf("%s/init.yaml", tmpdir);
	assert_int_equal(lab_write_file(path, text, strlen(text)), 0);
	labad_run_ipamctl(&res, "db", "init", "-c", path, NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	free(path);
	free(text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (hook_pid > 0) {
		kill(hook_pid, SIGKILL);
		waitpid(hook_pid, NULL, 0);
	}
	free(run_out("gpgconf", "--kill", "gpg-agent", NULL));
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_uri);
	free(bare);
	free(repo_url);
	free(worktree);
	free(cache_dir);
	free(gnupg);
	free(alice_key);
	free(mallory_key);
	free(allowed);
	free(keyring);
	free(hook_secret);
	free(hook_dir);
	free(cfg_ssh);
	free(cfg_pgp);
	free(eve_fpr);
	free(signed_ssh);
	free(signed_pgp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_ssh_signed_applies),
		cmocka_unit_test(test_2_unsigned_refused),
		cmocka_unit_test(test_3_ssh_unknown_key_refused),
		cmocka_unit_test(test_4_openpgp_signed_applies),
		cmocka_unit_test(test_5_openpgp_unknown_key_refused),
		cmocka_unit_test(test_6_tampered_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
