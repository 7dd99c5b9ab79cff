/*
 * The git source against real repositories made with git(1) in a temporary
 * directory: a bare "origin" with a few commits, a tag and branches, read
 * by path and file:// URL; refs as branch, tag and commit id; the cache
 * reused by a second fetch; the directory rule of a local desired state;
 * the bounds; and the errors, which never carry the token.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "gitsrc.h"
#include "giturl.h"
#include "strbuf.h"
#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LSAN_DISABLE() __lsan_disable()
#define LSAN_ENABLE()  __lsan_enable()
#else
#define LSAN_DISABLE() ((void)0)
#define LSAN_ENABLE()  ((void)0)
#endif

#define GIT   "/usr/bin/git"
#define TOKEN "tok-5ecret-9f8e7d6c5b4a"

static char *tmp;
static char *origin; /* bare */
static char *work;
static char *env_home;
static char *env[] = {
	NULL, /* HOME=, set in setup */
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_AUTHOR_NAME=Ada Lovelace",
	"GIT_AUTHOR_EMAIL=ada@example.test",
	"GIT_COMMITTER_NAME=Charles Babbage",
	"GIT_COMMITTER_EMAIL=charles@example.test",
	"GIT_TERMINAL_PROMPT=0",
	NULL,
};
static unsigned cache_seq;

/* git args... (NULL-terminated) in cwd; its stdout with the trailing
 * newline dropped. */
static char *git_in(const char *cwd, ...)
{
	char *argv[32];
	struct run_result r;
	va_list ap;
	size_t n = 0, len;
	char *out;

	argv[n++] = GIT;
	va_start(ap, cwd);
	while ((argv[n] = va_arg(ap, char *)) && n < 31)
		n++;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(run_cmd(&r, cwd, env, argv), 0);
	if (r.status) {
		fprintf(stderr, "git %s: %s\n", argv[1], r.err);
		fail();
	}
	out = r.out;
	len = strlen(out);
	if (len && out[len - 1] == '\n')
		out[len - 1] = '\0';
	r.out = NULL;
	run_result_free(&r);
	return out;
}

#define git(...)     free(git_in(__VA_ARGS__, NULL))
#define git_out(...) git_in(__VA_ARGS__, NULL)

/* dir/rel with its parent directories. */
static void put(const char *dir, const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", dir, rel);
	char *q;

	for (q = p + strlen(dir) + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		mkdir(p, 0755);
		*q = '/';
	}
	assert_int_equal(write_file(p, text), 0);
	free(p);
}

/* A new bare repository and its work tree under tmp. */
static void new_repo(char **bare, char **wt, const char *name)
{
	*bare = xasprintf("%s/%s.git", tmp, name);
	*wt = xasprintf("%s/%s-work", tmp, name);
	git(tmp, "init", "-q", "--bare", "-b", "main", *bare);
	git(tmp, "init", "-q", "-b", "main", *wt);
}

static void commit_push(const char *wt, const char *bare, const char *msg)
{
	git(wt, "add", "-A");
	git(wt, "commit", "-q", "-m", msg);
	git(wt, "push", "-q", bare, "HEAD:refs/heads/main");
}

static char *new_cache(void)
{
	return xasprintf("%s/cache-%u", tmp, cache_seq++);
}

static int setup(void **state)
{
	(void)state;
	tmp = tmpdir_make();
	assert_non_null(tmp);
	env_home = xasprintf("HOME=%s", tmp);
	env[0] = env_home;
	new_repo(&origin, &work, "origin");

	/* first commit: the directory rule's cases */
	put(work, "root.yaml", "version: 1\n");
	put(work, "config/site.yaml", "version: 1\n# site\n");
	put(work, "config/b.yml", "servers: []\n");
	put(work, "config/a.yaml", "discovery: []\n");
	put(work, "config/notes.txt", "not yaml\n");
	put(work, "config/.hidden.yaml", "hidden: 1\n");
	put(work, "config/README.yaml.orig", "no\n");
	put(work, "config/sub/deep.yaml", "deep: 1\n");
	put(work, "links/real.yaml", "real: 1\n");
	put(work, "dirs/x.yaml/inner.yaml", "inner: 1\n");
	put(work, "plain/readme.txt", "nothing\n");
	{
		char *l = xasprintf("%s/links/link.yaml", work);

		assert_int_equal(symlink("real.yaml", l), 0);
		free(l);
	}
	commit_push(work, origin, "first commit\n\nwith a body line");
	git(work, "tag", "-a", "v1", "-m", "release 1");
	git(work, "branch", "dup");
	git(work, "push", "-q", origin, "refs/tags/v1", "refs/heads/dup");

	/* second commit on main */
	put(work, "config/site.yaml", "version: 1\n# site, second\n");
	commit_push(work, origin, "second: tune the site");
	git(work, "tag", "dup");
	git(work, "push", "-q", origin, "refs/tags/dup");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(origin);
	free(work);
	free(env_home);
	tmpdir_remove(tmp);
	return 0;
}

static void opts_init(struct ipam_git_opts *o, const char *url, const char *ref,
		      const char *path, const char *cache)
{
	memset(o, 0, sizeof(*o));
	o->url = url;
	o->ref = ref;
	o->path = path;
	o->cache_dir = cache;
	o->timeout = 60;
}

static int fetch_ok(struct ipam_git_snapshot *s, const char *url,
		    const char *ref, const char *path, const char *cache)
{
	struct ipam_git_opts o;
	int err;

	opts_init(&o, url, ref, path, cache);
	err = ipam_git_fetch(s, &o);
	if (err)
		fprintf(stderr, "fetch: %s\n", ipam_error_last());
	assert_int_equal(err, 0);
	return err;
}

static int fetch_err(struct ipam_git_snapshot *s, const char *url,
		     const char *ref, const char *path, const char *cache)
{
	struct ipam_git_opts o;
	int err;

	opts_init(&o, url, ref, path, cache);
	err = ipam_git_fetch(s, &o);
	assert_true(err < 0);
	/* nothing half-filled is left behind */
	assert_int_equal(s->nr, 0);
	assert_null(s->files);
	assert_null(s->author);
	return err;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		fprintf(stderr, "'%s' lacks '%s'\n", hay, needle);
		fail();
	}
}

/* "<abbrev>:<path>" as the adapter names files. */
static char *fname(const char *commit, const char *path)
{
	return xasprintf("%.*s:%s", IPAM_GIT_ABBREV, commit, path);
}

static void assert_file(const struct ipam_git_file *f, const char *commit,
			const char *path, const char *text)
{
	char *want = fname(commit, path);

	assert_string_equal(f->name, want);
	assert_int_equal(f->len, strlen(text));
	assert_memory_equal(f->data, text, f->len);
	assert_int_equal(f->data[f->len], '\0');
	free(want);
}

/* ---- the tests ---- */

static void test_branch_from_path(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();
	char *head = git_out(origin, "rev-parse", "main");
	char *author =
		git_out(origin, "log", "-1", "--format=%an <%ae>", "main");
	char *subject = git_out(origin, "log", "-1", "--format=%s", "main");
	char *ctime = git_out(origin, "log", "-1", "--format=%ct", "main");

	(void)state;
	fetch_ok(&s, origin, "main", "config", cache);
	assert_string_equal(s.commit, head);
	assert_string_equal(s.author, author);
	assert_string_equal(s.author, "Ada Lovelace <ada@example.test>");
	assert_string_equal(s.subject, subject);
	assert_string_equal(s.subject, "second: tune the site");
	assert_int_equal(s.time, strtoll(ctime, NULL, 10));
	/* *.yaml and *.yml directly in config, sorted; not notes.txt,
	 * .hidden.yaml, README.yaml.orig or sub/deep.yaml */
	assert_int_equal(s.nr, 3);
	assert_file(&s.files[0], head, "config/a.yaml", "discovery: []\n");
	assert_file(&s.files[1], head, "config/b.yml", "servers: []\n");
	assert_file(&s.files[2], head, "config/site.yaml",
		    "version: 1\n# site, second\n");
	ipam_git_snapshot_release(&s);
	ipam_git_snapshot_release(&s); /* twice is harmless */
	ipam_git_snapshot_release(NULL);
	free(head);
	free(author);
	free(subject);
	free(ctime);
	free(cache);
}

static void test_file_url_default_ref_root(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();
	char *url = xasprintf("file://%s", origin);
	char *head = git_out(origin, "rev-parse", "main");

	(void)state;
	/* no ref: main; no path: the root of the tree */
	fetch_ok(&s, url, NULL, NULL, cache);
	assert_string_equal(s.commit, head);
	assert_int_equal(s.nr, 1);
	assert_file(&s.files[0], head, "root.yaml", "version: 1\n");
	ipam_git_snapshot_release(&s);
	/* "/" and "" are the root too; "config/" is config */
	fetch_ok(&s, url, "main", "/", cache);
	assert_int_equal(s.nr, 1);
	ipam_git_snapshot_release(&s);
	fetch_ok(&s, url, "main", "config/", cache);
	assert_int_equal(s.nr, 3);
	ipam_git_snapshot_release(&s);
	free(url);
	free(head);
	free(cache);
}

static void test_tag_and_commit_id(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();
	char *first = git_out(origin, "rev-parse", "v1^{commit}");
	char *subject = git_out(origin, "log", "-1", "--format=%s", first);
	char short_id[11];

	(void)state;
	/* an annotated tag, peeled to its commit */
	fetch_ok(&s, origin, "v1", "config", cache);
	assert_string_equal(s.commit, first);
	assert_string_equal(s.subject, subject);
	assert_string_equal(s.subject, "first commit");
	assert_int_equal(s.nr, 3);
	assert_file(&s.files[2], first, "config/site.yaml",
		    "version: 1\n# site\n");
	ipam_git_snapshot_release(&s);
	/* the same commit by id, full and abbreviated; and full ref names */
	fetch_ok(&s, origin, first, "config", cache);
	assert_string_equal(s.commit, first);
	ipam_git_snapshot_release(&s);
	snprintf(short_id, sizeof(short_id), "%.10s", first);
	fetch_ok(&s, origin, short_id, "config", cache);
	assert_string_equal(s.commit, first);
	ipam_git_snapshot_release(&s);
	fetch_ok(&s, origin, "refs/tags/v1", "config", cache);
	assert_string_equal(s.commit, first);
	ipam_git_snapshot_release(&s);
	fetch_ok(&s, origin, "refs/heads/dup", NULL, cache);
	assert_string_equal(s.commit, first);
	ipam_git_snapshot_release(&s);
	free(first);
	free(subject);
	free(cache);
}

static void test_path_naming_a_file(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();
	char *head = git_out(origin, "rev-parse", "main");

	(void)state;
	/* as a local path naming a file: read whatever its name */
	fetch_ok(&s, origin, "main", "config/notes.txt", cache);
	assert_int_equal(s.nr, 1);
	assert_file(&s.files[0], head, "config/notes.txt", "not yaml\n");
	ipam_git_snapshot_release(&s);
	fetch_ok(&s, origin, "main", "config/sub", cache);
	assert_int_equal(s.nr, 1);
	assert_file(&s.files[0], head, "config/sub/deep.yaml", "deep: 1\n");
	ipam_git_snapshot_release(&s);
	free(head);
	free(cache);
}

static void test_second_fetch_reuses_cache(void **state)
{
	struct ipam_git_snapshot s;
	char *bare, *wt, *cache = new_cache(), *c1, *c2, *mirror;
	char key[80];
	struct stat st;

	(void)state;
	new_repo(&bare, &wt, "moving");
	put(wt, "a.yaml", "one: 1\n");
	commit_push(wt, bare, "one");
	git(wt, "push", "-q", bare, "HEAD:refs/heads/old");
	c1 = git_out(bare, "rev-parse", "main");
	fetch_ok(&s, bare, "main", NULL, cache);
	assert_string_equal(s.commit, c1);
	ipam_git_snapshot_release(&s);

	/* one mirror, bare, named by the URL's SHA-256 */
	{
		char *cmd_argv[] = {"/bin/sh", "-c", "ls | grep -v '\\.lock$'",
				    NULL};
		struct run_result r;

		assert_int_equal(run_cmd(&r, cache, env, cmd_argv), 0);
		assert_int_equal(r.status, 0);
		assert_int_equal(strlen(r.out), 65); /* 64 hex + newline */
		snprintf(key, sizeof(key), "%.64s", r.out);
		run_result_free(&r);
	}
	mirror = xasprintf("%s/%s", cache, key);
	assert_int_equal(stat(mirror, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	{
		char *bare_p =
			git_out(mirror, "rev-parse", "--is-bare-repository");
		char *head_p = xasprintf("%s/HEAD", mirror);
		char *dotgit = xasprintf("%s/.git", mirror);

		assert_string_equal(bare_p, "true");
		assert_int_equal(access(head_p, F_OK), 0);
		assert_int_equal(access(dotgit, F_OK), -1);
		free(bare_p);
		free(head_p);
		free(dotgit);
	}

	/* locks left by a fetch that was killed halfway do not block */
	{
		char *l1 = xasprintf("%s/refs/heads/main.lock", mirror);
		char *l2 = xasprintf("%s/packed-refs.lock", mirror);

		assert_int_equal(write_file(l1, "stale\n"), 0);
		assert_int_equal(write_file(l2, "stale\n"), 0);
		free(l1);
		free(l2);
	}

	/* new commits upstream, a branch deleted */
	put(wt, "a.yaml", "one: 2\n");
	put(wt, "b.yaml", "two: 2\n");
	commit_push(wt, bare, "two");
	git(wt, "push", "-q", bare, ":refs/heads/old");
	c2 = git_out(bare, "rev-parse", "main");
	fetch_ok(&s, bare, "main", NULL, cache);
	assert_string_equal(s.commit, c2);
	assert_string_equal(s.subject, "two");
	assert_int_equal(s.nr, 2);
	assert_memory_equal(s.files[0].data, "one: 2\n", 7);
	ipam_git_snapshot_release(&s);
	/* the same mirror was used, and it follows deletions */
	{
		char *in_cache = git_out(mirror, "rev-parse", "main");
		struct run_result r;
		char *argv[] = {GIT,  "rev-parse",	"--verify",
				"-q", "refs/heads/old", NULL};

		assert_string_equal(in_cache, c2);
		free(in_cache);
		assert_int_equal(run_cmd(&r, mirror, env, argv), 0);
		assert_int_not_equal(r.status, 0);
		run_result_free(&r);
	}
	assert_int_equal(fetch_err(&s, bare, "old", NULL, cache),
			 IPAM_ENOTFOUND);

	/* the origin gone: a fetch failure even with a cached copy */
	{
		char *moved = xasprintf("%s.away", bare);

		assert_int_equal(rename(bare, moved), 0);
		assert_int_equal(fetch_err(&s, bare, "main", NULL, cache),
				 IPAM_EIO);
		assert_contains(ipam_error_last(), "git fetch '");
		assert_contains(ipam_error_last(), bare);
		assert_int_equal(rename(moved, bare), 0);
		free(moved);
	}
	free(mirror);
	free(c1);
	free(c2);
	free(bare);
	free(wt);
	free(cache);
}

static void test_remote_text_cleaned(void **state)
{
	struct ipam_git_snapshot s;
	char *bare, *wt, *cache = new_cache(), *obj, *tree, *id, *text;

	(void)state;
	new_repo(&bare, &wt, "odd");
	put(wt, "a.yaml", "a: 1\n");
	commit_push(wt, bare, "plain");
	/* git commit would re-encode the message: write the object itself,
	 * with a tab, a control character and a byte that is not UTF-8 */
	tree = git_out(wt, "rev-parse", "HEAD^{tree}");
	text = xasprintf("tree %s\n"
			 "author Eve\x01 <eve@example.test> 1700000000 +0000\n"
			 "committer Eve <eve@example.test> 1700000000 +0000\n"
			 "\n"
			 "tab\there \x01 caf\xc3\xa9 \xff end\n"
			 "\nbody\n",
			 tree);
	obj = xasprintf("%s/commit-object", tmp);
	assert_int_equal(write_file(obj, text), 0);
	id = git_out(wt, "hash-object", "-t", "commit", "-w", obj);
	git(wt, "update-ref", "refs/heads/main", id);
	git(wt, "push", "-q", "-f", bare, "main");
	fetch_ok(&s, bare, "main", NULL, cache);
	assert_string_equal(s.commit, id);
	assert_string_equal(s.subject,
			    "tab here   caf\xc3\xa9 \xef\xbf\xbd end");
	assert_string_equal(s.author, "Eve <eve@example.test>");
	assert_int_equal(s.time, 1700000000);
	ipam_git_snapshot_release(&s);
	free(text);
	free(tree);
	free(obj);
	free(id);
	free(bare);
	free(wt);
	free(cache);
}

static void test_unknown_ref_and_path(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();

	(void)state;
	assert_int_equal(fetch_err(&s, origin, "no-such-branch", NULL, cache),
			 IPAM_ENOTFOUND);
	assert_contains(ipam_error_last(), "'no-such-branch'");
	assert_contains(ipam_error_last(), origin);
	assert_int_equal(fetch_err(&s, origin, "deadbeef", NULL, cache),
			 IPAM_ENOTFOUND);
	assert_contains(ipam_error_last(), "'deadbeef'");
	assert_int_equal(fetch_err(&s, origin, "bad..name", NULL, cache),
			 IPAM_EINVAL);
	assert_contains(ipam_error_last(), "'bad..name'");
	/* a branch and a tag of one name on different commits */
	assert_int_equal(fetch_err(&s, origin, "dup", NULL, cache),
			 IPAM_EINVAL);
	assert_contains(ipam_error_last(), "ambiguous");
	/* paths */
	assert_int_equal(fetch_err(&s, origin, "main", "nope", cache),
			 IPAM_ENOTFOUND);
	assert_contains(ipam_error_last(), "'nope'");
	assert_int_equal(
		fetch_err(&s, origin, "main", "config/../links", cache),
		IPAM_EINVAL);
	assert_int_equal(fetch_err(&s, origin, "main", "plain", cache),
			 IPAM_EINVAL);
	assert_contains(ipam_error_last(), "no *.yaml or *.yml files");
	free(cache);
}

static void test_links_and_yaml_named_dirs(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();

	(void)state;
	/* a link is refused, never followed out of the tree */
	assert_int_equal(fetch_err(&s, origin, "main", "links", cache),
			 IPAM_EINVAL);
	assert_contains(ipam_error_last(), "links/link.yaml");
	assert_contains(ipam_error_last(), "symbolic link");
	/* a directory named *.yaml: refused, as a local directory does */
	assert_int_equal(fetch_err(&s, origin, "main", "dirs", cache),
			 IPAM_EIO);
	assert_contains(ipam_error_last(), "dirs/x.yaml");
	free(cache);
}

static void test_unreachable(void **state)
{
	struct ipam_git_snapshot s;
	char *cache = new_cache();
	char *missing = xasprintf("%s/no-such-repo.git", tmp);
	char *url = xasprintf("file://%s", missing);

	(void)state;
	assert_int_equal(fetch_err(&s, missing, "main", NULL, cache), IPAM_EIO);
	assert_contains(ipam_error_last(), "git clone '");
	assert_contains(ipam_error_last(), missing);
	assert_int_equal(fetch_err(&s, url, "main", NULL, cache), IPAM_EIO);
	assert_contains(ipam_error_last(), missing);
	free(missing);
	free(url);
	free(cache);
}

/* A server that takes the connection and never answers. */
static void test_timeout_stops_a_silent_server(void **state)
{
	static const char *const schemes[] = {"https://", "ssh://git@"};
	struct ipam_git_snapshot s;
	struct ipam_git_opts o;
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	struct timespec t0, t1;
	char *cache = new_cache(), *url;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t i;

	(void)state;
	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0); /* the kernel completes the
					       handshake; nobody reads */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		url = xasprintf("%s127.0.0.1:%d/x.git", schemes[i],
				ntohs(a.sin_port));
		opts_init(&o, url, "main", NULL, cache);
		o.known_hosts = "/dev/null";
		o.timeout = 1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(ipam_git_fetch(&s, &o), IPAM_ETIMEOUT);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true(t1.tv_sec - t0.tv_sec < 10);
		assert_contains(ipam_error_last(), url);
		assert_contains(ipam_error_last(), "timeout of 1 s");
		free(url);
	}
	close(fd);
	free(cache);
}

static void test_file_over_the_bound(void **state)
{
	struct ipam_git_snapshot s;
	char *bare, *wt, *cache = new_cache(), *big;
	int fd;

	(void)state;
	new_repo(&bare, &wt, "big");
	put(wt, "a.yaml", "small: 1\n");
	big = xasprintf("%s/big.yaml", wt);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)IPAM_DECODE_MAX_FILE + 1), 0);
	close(fd);
	commit_push(wt, bare, "big");
	assert_int_equal(fetch_err(&s, bare, "main", NULL, cache), IPAM_ELIMIT);
	assert_contains(ipam_error_last(), ":big.yaml");
	/* exactly at the bound is read */
	fd = open(big, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)IPAM_DECODE_MAX_FILE), 0);
	close(fd);
	commit_push(wt, bare, "big, at the bound");
	fetch_ok(&s, bare, "main", NULL, cache);
	assert_int_equal(s.nr, 2);
	assert_int_equal(s.files[1].len, IPAM_DECODE_MAX_FILE);
	ipam_git_snapshot_release(&s);
	free(big);
	free(bare);
	free(wt);
	free(cache);
}

static void test_token_never_in_messages(void **state)
{
	struct ipam_git_snapshot s;
	struct ipam_git_opts o;
	char *cache = new_cache();
	char *tokfile = xasprintf("%s/token", tmp);

	(void)state;
	assert_int_equal(setenv("IPAM_TEST_GIT_TOKEN", TOKEN, 1), 0);
	assert_int_equal(write_file(tokfile, TOKEN "\n"), 0);
	assert_int_equal(chmod(tokfile, 0600), 0);
	opts_init(&o, "https://127.0.0.1:1/corp/ipam.git", "main", NULL, cache);
	o.token_env = "IPAM_TEST_GIT_TOKEN";
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EIO);
	assert_contains(ipam_error_last(), "git clone 'https://127.0.0.1:1/");
	assert_null(strstr(ipam_error_last(), TOKEN));
	assert_null(strstr(ipam_error_site(), TOKEN));
	/* from a file, a second time (a fetch now), and with a user */
	o.token_env = NULL;
	o.token_file = tokfile;
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EIO);
	assert_contains(ipam_error_last(), "git clone '");
	assert_null(strstr(ipam_error_last(), TOKEN));
	/* a token source that is not there names itself, not a value */
	o.token_file = NULL;
	o.token_env = "IPAM_TEST_GIT_NO_SUCH_VARIABLE";
	assert_true(ipam_git_fetch(&s, &o) < 0);
	assert_contains(ipam_error_last(), "IPAM_TEST_GIT_NO_SUCH_VARIABLE");
	/* a password in the URL is refused and not repeated */
	opts_init(&o, "https://user:" TOKEN "@127.0.0.1:1/x.git", "main", NULL,
		  cache);
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	assert_null(strstr(ipam_error_last(), TOKEN));
	/* so is a token written as the user name, even with a token file:
	 * nothing is fetched, nothing said names it */
	opts_init(&o, "https://" TOKEN "@127.0.0.1:1/x.git", "main", NULL,
		  cache);
	o.token_file = tokfile;
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	assert_null(strstr(ipam_error_last(), TOKEN));
	assert_null(strstr(ipam_error_site(), TOKEN));
	assert_contains(ipam_error_last(), "tokenFile or source.tokenEnv");
	unsetenv("IPAM_TEST_GIT_TOKEN");
	free(tokfile);
	free(cache);
}

static void test_url_secret(void **state)
{
	static const char *const refused[] = {
		"https://" TOKEN "@git.example.test/ipam.git",
		"https://oauth2@git.example.test/ipam.git",
		"https://x-access-token:" TOKEN "@git.example.test/x.git",
		"https://" TOKEN "@git.example.test",
		"http://" TOKEN "@git.example.test/ipam.git",
		"HTTPS://" TOKEN "@git.example.test/ipam.git",
		"https://git.example.test:443@evil.test/ipam.git",
		"ftp://" TOKEN "@git.example.test/ipam.git",
		"file://" TOKEN "@localhost/srv/ipam.git",
		"ssh://git:" TOKEN "@git.example.test/ipam.git",
		"git+ssh://git:" TOKEN "@git.example.test:2222/ipam.git",
		"ssh://git@git.example.test:" TOKEN "@x/ipam.git",
		"deploy:" TOKEN "@git.example.test:corp/ipam.git",
	};
	static const char *const kept[] = {
		"https://git.example.test/ipam.git",
		"https://git.example.test:8443/corp/ipam.git",
		"https://git.example.test/corp/user@host.git",
		"ssh://git@git.example.test/ipam.git",
		"ssh://git@[::1]:2222/ipam.git",
		"ssh+git://git.example.test/ipam.git",
		"git@git.example.test:corp/ipam.git",
		"git.example.test:corp/ipam.git",
		"git.example.test:corp/v@2.git",
		"/srv/git/ipam@2.git",
		"relative/dir",
		"file:///srv/git/ipam.git",
		"",
	};
	struct ipam_git_snapshot s;
	struct ipam_git_opts o;
	char *cache = new_cache();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *why = ipam_giturl_secret(refused[i]);

		if (!why)
			fail_msg("'%s' is not refused", refused[i]);
		assert_null(strstr(why, TOKEN));
		/* the adapter refuses it before anything names it */
		opts_init(&o, refused[i], "main", NULL, cache);
		o.known_hosts = "/dev/null";
		assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
		assert_null(strstr(ipam_error_last(), TOKEN));
		assert_contains(ipam_error_last(), why);
	}
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (ipam_giturl_secret(kept[i]))
			fail_msg("'%s' is refused: %s", kept[i],
				 ipam_giturl_secret(kept[i]));
	assert_null(ipam_giturl_secret(NULL));
	free(cache);
}

static void test_refused_options(void **state)
{
	static const char *const refused[] = {
		"http://git.example.test/ipam.git",
		"git://git.example.test/ipam.git",
		"ftp://git.example.test/ipam.git",
		"ssh://git:pw@git.example.test/ipam.git",
		"ssh://git.example.test:99999/ipam.git",
		"ssh://git.example.test",
	};
	struct ipam_git_snapshot s;
	struct ipam_git_opts o;
	char *cache = new_cache();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		opts_init(&o, refused[i], "main", NULL, cache);
		o.known_hosts = "/dev/null";
		assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	}
	/* SSH without a pinned known_hosts, in both spellings */
	opts_init(&o, "ssh://git@git.example.test/ipam.git", "main", NULL,
		  cache);
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	assert_contains(ipam_error_last(), "known_hosts");
	opts_init(&o, "git@git.example.test:corp/ipam.git", "main", NULL,
		  cache);
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	assert_contains(ipam_error_last(), "known_hosts");
	/* no URL, no cache */
	opts_init(&o, NULL, "main", NULL, cache);
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	opts_init(&o, origin, "main", NULL, NULL);
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EINVAL);
	/* a CA file that is not there */
	opts_init(&o, "https://127.0.0.1:1/x.git", "main", NULL, cache);
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(ipam_git_fetch(&s, &o), IPAM_EIO);
	assert_contains(ipam_error_last(), "/nonexistent/ca.pem");
	free(cache);
}

/* ---- a checkout (plan -c PATH in CI) ---- */

static void assert_head(const char *path, const char *commit, bool dirty)
{
	struct ipam_git_worktree w;
	int err = ipam_git_worktree_head(&w, path);

	if (err)
		fail_msg("%s: %s", path, ipam_error_last());
	if (strcmp(w.commit, commit) || w.dirty != dirty)
		fail_msg("%s: commit '%s'%s, want '%s'%s", path, w.commit,
			 w.dirty ? " dirty" : "", commit,
			 dirty ? " dirty" : "");
}

static void test_worktree_head(void **state)
{
	char *bare, *wt, *head, *dir, *file, *p, *q;
	char *argv[] = {GIT, "rev-parse", "--is-inside-work-tree", NULL};
	struct run_result r;

	(void)state;
	new_repo(&bare, &wt, "checkout");
	put(wt, "root.yaml", "version: 1\n");
	put(wt, "ipam/a.yaml", "version: 1\n");
	put(wt, "ipam/b.yml", "servers: []\n");
	put(wt, "ipam/notes.txt", "notes\n");
	put(wt, "ipam/sub/deep.yaml", "deep: 1\n");
	put(wt, ".gitignore", "local.yaml\nscratch/\n");
	dir = xasprintf("%s/ipam", wt);
	file = xasprintf("%s/ipam/a.yaml", wt);

	/* a work tree whose HEAD has no commit yet */
	assert_head(dir, "", false);
	commit_push(wt, bare, "desired state");
	head = git_out(wt, "rev-parse", "HEAD");
	assert_head(dir, head, false);
	assert_head(file, head, false);
	assert_head(wt, head, false);

	/* what the loader does not read changes nothing */
	put(wt, "ipam/notes.txt", "edited\n");
	put(wt, "ipam/sub/deep.yaml", "deep: 2\n");
	put(wt, "ipam/.hidden.yaml", "hidden: 1\n");
	put(wt, "elsewhere.yaml", "x: 1\n");
	assert_head(dir, head, false);
	assert_head(file, head, false);
	git(wt, "checkout", "-q", "--", ".");
	git(wt, "clean", "-q", "-f", "-d");

	/* modified, then staged with the work tree put back */
	put(wt, "ipam/a.yaml", "version: 1\n# edited\n");
	assert_head(dir, head, true);
	assert_head(file, head, true);
	assert_head(wt, head, false); /* the root holds root.yaml only */
	git(wt, "add", "ipam/a.yaml");
	put(wt, "ipam/a.yaml", "version: 1\n");
	assert_head(dir, head, true);
	git(wt, "reset", "-q");
	assert_head(dir, head, false);

	/* deleted; the other file of the directory is not the one file */
	p = xasprintf("%s/ipam/b.yml", wt);
	assert_int_equal(unlink(p), 0);
	assert_head(dir, head, true);
	assert_head(file, head, false);
	git(wt, "checkout", "-q", "--", ".");
	assert_head(dir, head, false);

	/* untracked, and ignored (the loader reads it all the same) */
	put(wt, "ipam/c.yaml", "servers: []\n");
	assert_head(dir, head, true);
	q = xasprintf("%s/ipam/c.yaml", wt);
	assert_int_equal(unlink(q), 0);
	put(wt, "ipam/local.yaml", "servers: []\n");
	assert_head(dir, head, true);
	git(wt, "clean", "-q", "-f", "-d", "-x");
	assert_head(dir, head, false);
	put(wt, "extra.yaml", "servers: []\n");
	assert_head(wt, head, true);
	git(wt, "clean", "-q", "-f", "-d", "-x");

	/* a directory untracked or ignored as a whole */
	free(dir);
	dir = xasprintf("%s/new/ipam", wt);
	put(wt, "new/ipam/x.yaml", "version: 1\n");
	assert_head(dir, head, true);
	free(dir);
	dir = xasprintf("%s/scratch/ipam", wt);
	put(wt, "scratch/ipam/x.yaml", "version: 1\n");
	assert_head(dir, head, true);
	git(wt, "clean", "-q", "-f", "-d", "-x");

	/* a symbolic link to the directory: the commit of where it leads */
	free(dir);
	dir = xasprintf("%s/ipam", wt);
	free(p);
	p = xasprintf("%s/link-to-ipam", tmp);
	assert_int_equal(symlink(dir, p), 0);
	assert_head(p, head, false);

	/* no work tree: a bare repository, its .git, no repository */
	assert_head(bare, "", false);
	free(q);
	q = xasprintf("%s/.git/refs", wt);
	assert_head(q, "", false);
	assert_int_equal(run_cmd(&r, tmp, env, argv), 0);
	if (r.status) /* $TMPDIR is not itself in a work tree */
		assert_head(tmp, "", false);
	run_result_free(&r);
	{
		struct ipam_git_worktree w;

		assert_int_equal(
			ipam_git_worktree_head(&w, "/nonexistent/ipam"),
			IPAM_EIO);
		assert_string_equal(w.commit, "");
	}
	free(p);
	free(q);
	free(head);
	free(dir);
	free(file);
	free(bare);
	free(wt);
}

/* ---- SSH, against a private sshd when the machine has one ---- */

#define SSHD "/usr/sbin/sshd"

static void run_ok(char *const argv[])
{
	struct run_result r;

	assert_int_equal(run_cmd(&r, tmp, env, argv), 0);
	if (r.status) {
		fprintf(stderr, "%s: %s\n", argv[0], r.err);
		fail();
	}
	run_result_free(&r);
}

static void keygen(const char *path)
{
	char *argv[] = {"/usr/bin/ssh-keygen",
			"-q",
			"-t",
			"ed25519",
			"-N",
			"",
			"-C",
			"test",
			"-f",
			(char *)path,
			NULL};

	run_ok(argv);
}

static int free_port(void)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = !connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return ok;
}

/* "<type> <base64>" of a public key file. */
static char *pubkey(const char *path)
{
	char *p = xasprintf("%s.pub", path), *text = slurp(p, NULL), *sp;

	assert_non_null(text);
	sp = strchr(text, ' ');
	sp = sp ? strchr(sp + 1, ' ') : NULL;
	if (sp)
		*sp = '\0';
	else
		text[strcspn(text, "\n")] = '\0';
	free(p);
	return text;
}

static int fetch_ssh(struct ipam_git_snapshot *s, const char *url,
		     const char *key, const char *known_hosts,
		     const char *cache)
{
	struct ipam_git_opts o;
	int err;

	opts_init(&o, url, "main", "config", cache);
	o.ssh_key = key;
	o.known_hosts = known_hosts;
	o.timeout = 30;
	/*
	 * libgit2 1.5.1's SSH transport leaks a few bytes a connection (its
	 * known_hosts handle, a path buffer, libssh2's list of methods):
	 * LeakSanitizer looks away; valgrind shows none of ipamctl's own.
	 */
	LSAN_DISABLE();
	err = ipam_git_fetch(s, &o);
	LSAN_ENABLE();
	return err;
}

static void test_ssh_pinned_host_key(void **state)
{
	struct ipam_git_snapshot s;
	struct timespec pause = {0, 50 * 1000 * 1000};
	struct passwd *pw = getpwuid(getuid());
	char *dir, *conf, *hostkey, *client, *stranger, *kh, *url, *cache;
	char *host_pub, *stranger_pub, *client_pub, *text, *head;
	int port, i, status;
	pid_t pid;

	(void)state;
	if (access(SSHD, X_OK) || access("/usr/bin/ssh-keygen", X_OK) || !pw) {
		skip();
		return;
	}
	dir = xasprintf("%s/ssh", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	if (!getuid())
		mkdir("/run/sshd", 0755); /* sshd's privilege separation */
	hostkey = xasprintf("%s/host_ed25519", dir);
	client = xasprintf("%s/client", dir);
	stranger = xasprintf("%s/stranger", dir);
	keygen(hostkey);
	keygen(client);
	keygen(stranger);
	client_pub = xasprintf("%s.pub", client);
	text = slurp(client_pub, NULL);
	assert_non_null(text);
	free(client_pub);
	client_pub = xasprintf("%s/authorized_keys", dir);
	assert_int_equal(write_file(client_pub, text), 0);
	free(text);

	port = free_port();
	conf = xasprintf("%s/sshd_config", dir);
	text = xasprintf("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
			 "AuthorizedKeysFile %s\nStrictModes no\nUsePAM no\n"
			 "PasswordAuthentication no\n"
			 "KbdInteractiveAuthentication no\n"
			 "PubkeyAuthentication yes\n"
			 "PermitRootLogin prohibit-password\nPidFile none\n"
			 "LogLevel ERROR\n",
			 port, hostkey, client_pub);
	assert_int_equal(write_file(conf, text), 0);
	free(text);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execl(SSHD, SSHD, "-D", "-f", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && !port_open(port); i++)
		nanosleep(&pause, NULL);
	assert_true(port_open(port));

	host_pub = pubkey(hostkey);
	stranger_pub = pubkey(stranger);
	kh = xasprintf("%s/known_hosts", dir);
	url = xasprintf("ssh://%s@127.0.0.1:%d%s", pw->pw_name, port, origin);
	head = git_out(origin, "rev-parse", "main");
	cache = new_cache();

	/* pinned: the files of the commit, as from a local path */
	text = xasprintf("# pinned\n"
			 "git.example.test %s\n"
			 "[127.0.0.1]:%d,[localhost]:%d %s extra comment\n",
			 stranger_pub, port, port, host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), 0);
	assert_string_equal(s.commit, head);
	assert_int_equal(s.nr, 3);
	assert_file(&s.files[2], head, "config/site.yaml",
		    "version: 1\n# site, second\n");
	ipam_git_snapshot_release(&s);
	/* a wildcard pattern */
	text = xasprintf("[127.0.0.?]:%d %s\n", port, host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), 0);
	ipam_git_snapshot_release(&s);

	/* the host pinned with another key */
	text = xasprintf("[127.0.0.1]:%d %s\n", port, stranger_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), IPAM_EAUTH);
	assert_contains(ipam_error_last(), "does not match");
	assert_contains(ipam_error_last(), "ssh-ed25519 SHA256:");
	/* the key, but for the default port only: not this host */
	text = xasprintf("127.0.0.1 %s\n", host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), IPAM_EAUTH);
	assert_contains(ipam_error_last(), "is not in the pinned known_hosts");
	/* negated, revoked */
	text = xasprintf("[127.0.0.*]:%d,![127.0.0.1]:%d %s\n", port, port,
			 host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), IPAM_EAUTH);
	text = xasprintf("[127.0.0.1]:%d %s\n@revoked * %s\n", port, host_pub,
			 host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), IPAM_EAUTH);
	assert_contains(ipam_error_last(), "revoked");
	/* hashed names are not read, and the message says so */
	text = xasprintf("|1|c2FsdHNhbHRzYWx0c2FsdHNhbHQ=|"
			 "aGFzaGhhc2hoYXNoaGFzaGhhc2g= %s\n",
			 host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), IPAM_EAUTH);
	assert_contains(ipam_error_last(), "hashed");
	/* a client key the server does not know */
	text = xasprintf("[127.0.0.1]:%d %s\n", port, host_pub);
	assert_int_equal(write_file(kh, text), 0);
	free(text);
	assert_int_equal(fetch_ssh(&s, url, stranger, kh, cache), IPAM_EAUTH);
	assert_contains(ipam_error_last(), stranger);
	/* and the right one again, through the cache */
	assert_int_equal(fetch_ssh(&s, url, client, kh, cache), 0);
	ipam_git_snapshot_release(&s);

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	free(dir);
	free(conf);
	free(hostkey);
	free(client);
	free(client_pub);
	free(stranger);
	free(host_pub);
	free(stranger_pub);
	free(kh);
	free(url);
	free(head);
	free(cache);
}

/* ---- HTTPS with a token and a private CA, when python3 and openssl are
 * there ---- */

#define PYTHON	"/usr/bin/python3"
#define OPENSSL "/usr/bin/openssl"

/* An HTTPS git server: git http-backend behind basic authentication
 * (any of two users, the token as password). */
static const char https_server_py[] =
	"import base64, http.server, os, ssl, subprocess, sys\n"
	"\n"
	"root, cert, key, token, portfile = sys.argv[1:6]\n"
	"\n"
	"\n"
	"class Handler(http.server.BaseHTTPRequestHandler):\n"
	"    protocol_version = \"HTTP/1.1\"\n"
	"\n"
	"    def log_message(self, *args):\n"
	"        pass\n"
	"\n"
	"    def body(self):\n"
	"        if self.headers.get(\"Transfer-Encoding\", \"\").lower() == "
	"\"chunked\":\n"
	"            data = b\"\"\n"
	"            while True:\n"
	"                size = int(self.rfile.readline().split(b\";\")[0], "
	"16)\n"
	"                if not size:\n"
	"                    while self.rfile.readline() not in (b\"\\r\\n\", "
	"b\"\\n\", b\"\"):\n"
	"                        pass\n"
	"                    return data\n"
	"                data += self.rfile.read(size)\n"
	"                self.rfile.readline()\n"
	"        return "
	"self.rfile.read(int(self.headers.get(\"Content-Length\") or 0))\n"
	"\n"
	"    def reply(self, status, headers, data):\n"
	"        self.send_response(status)\n"
	"        for k, v in headers:\n"
	"            self.send_header(k, v)\n"
	"        self.send_header(\"Content-Length\", str(len(data)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(data)\n"
	"\n"
	"    def serve(self):\n"
	"        data = self.body()\n"
	"        user = \"\"\n"
	"        auth = self.headers.get(\"Authorization\", \"\")\n"
	"        if auth.startswith(\"Basic \"):\n"
	"            user, _, password = "
	"base64.b64decode(auth[6:]).decode().partition(\":\")\n"
	"            if password != token or user not in (\"x-access-token\", "
	"\"oauth2\"):\n"
	"                user = \"\"\n"
	"        if not user:\n"
	"            self.reply(401, [(\"WWW-Authenticate\", 'Basic "
	"realm=\"git\"')], b\"\")\n"
	"            return\n"
	"        path, _, query = self.path.partition(\"?\")\n"
	"        env = dict(os.environ, GIT_PROJECT_ROOT=root, "
	"GIT_HTTP_EXPORT_ALL=\"1\",\n"
	"                   PATH_INFO=path, QUERY_STRING=query, "
	"REMOTE_USER=user,\n"
	"                   REQUEST_METHOD=self.command, "
	"CONTENT_LENGTH=str(len(data)),\n"
	"                   CONTENT_TYPE=self.headers.get(\"Content-Type\", "
	"\"\"),\n"
	"                   "
	"HTTP_CONTENT_ENCODING=self.headers.get(\"Content-Encoding\", \"\"))\n"
	"        out = subprocess.run([\"git\", \"http-backend\"], input=data, "
	"env=env,\n"
	"                             capture_output=True).stdout\n"
	"        head, _, data = out.partition(b\"\\r\\n\\r\\n\")\n"
	"        status, headers = 200, []\n"
	"        for line in head.decode().split(\"\\r\\n\"):\n"
	"            k, _, v = line.partition(\": \")\n"
	"            if k.lower() == \"status\":\n"
	"                status = int(v.split()[0])\n"
	"            elif k:\n"
	"                headers.append((k, v))\n"
	"        self.reply(status, headers, data)\n"
	"\n"
	"    do_GET = do_POST = serve\n"
	"\n"
	"\n"
	"httpd = http.server.ThreadingHTTPServer((\"127.0.0.1\", 0), Handler)\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(cert, key)\n"
	"httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)\n"
	"with open(portfile + \".tmp\", \"w\") as f:\n"
	"    f.write(str(httpd.server_address[1]))\n"
	"os.rename(portfile + \".tmp\", portfile)\n"
	"httpd.serve_forever()\n";

static void openssl(char **argv)
{
	struct run_result r;

	assert_int_equal(run_cmd(&r, tmp, env, argv), 0);
	if (r.status) {
		fprintf(stderr, "openssl %s: %s\n", argv[1], r.err);
		fail();
	}
	run_result_free(&r);
}

static int fetch_https(struct ipam_git_snapshot *s, const char *url,
		       const char *ca, const char *token_file,
		       const char *token_env, const char *cache)
{
	struct ipam_git_opts o;
	int err;

	opts_init(&o, url, "main", "config", cache);
	o.ca_file = ca;
	o.token_file = token_file;
	o.token_env = token_env;
	o.timeout = 30;
	err = ipam_git_fetch(s, &o);
	if (err)
		assert_null(strstr(ipam_error_last(), TOKEN));
	return err;
}

static void test_https_token_and_ca(void **state)
{
	struct ipam_git_snapshot s;
	struct timespec pause = {0, 50 * 1000 * 1000};
	char *dir, *ca_key, *ca, *key, *csr, *crt, *ext, *script, *portfile;
	char *badtok, *url, *url_oauth, *cache, *head, *text;
	int i, status;
	pid_t pid;

	(void)state;
	if (access(PYTHON, X_OK) || access(OPENSSL, X_OK)) {
		skip();
		return;
	}
	dir = xasprintf("%s/https", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	ca_key = xasprintf("%s/ca.key", dir);
	ca = xasprintf("%s/ca.pem", dir);
	key = xasprintf("%s/srv.key", dir);
	csr = xasprintf("%s/srv.csr", dir);
	crt = xasprintf("%s/srv.pem", dir);
	ext = xasprintf("%s/ext", dir);
	script = xasprintf("%s/srv.py", dir);
	portfile = xasprintf("%s/port", dir);
	badtok = xasprintf("%s/bad-token", dir);
	{
		char *a1[] = {OPENSSL,	  "req",
			      "-x509",	  "-newkey",
			      "rsa:2048", "-nodes",
			      "-keyout",  ca_key,
			      "-out",	  ca,
			      "-days",	  "2",
			      "-subj",	  "/CN=ipamctl test CA",
			      NULL};
		char *a2[] = {OPENSSL,	  "req",	   "-newkey",
			      "rsa:2048", "-nodes",	   "-keyout",
			      key,	  "-out",	   csr,
			      "-subj",	  "/CN=localhost", NULL};
		char *a3[] = {
			OPENSSL, "x509", "-req",   "-in",  csr,
			"-CA",	 ca,	 "-CAkey", ca_key, "-CAcreateserial",
			"-out",	 crt,	 "-days",  "2",	   "-extfile",
			ext,	 NULL};

		assert_int_equal(write_file(ext,
					    "subjectAltName=DNS:localhost\n"
					    "basicConstraints=CA:FALSE\n"),
				 0);
		openssl(a1);
		openssl(a2);
		openssl(a3);
	}
	assert_int_equal(write_file(script, https_server_py), 0);
	assert_int_equal(write_file(badtok, "not-the-token\n"), 0);
	assert_int_equal(chmod(badtok, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 0);
		dup2(devnull, 1);
		execl(PYTHON, PYTHON, script, tmp, crt, key, TOKEN, portfile,
		      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && access(portfile, F_OK); i++)
		nanosleep(&pause, NULL);
	text = slurp(portfile, NULL);
	assert_non_null(text);
	url = xasprintf("https://localhost:%s/origin.git", text);
	url_oauth = xasprintf("https://oauth2@localhost:%s/origin.git", text);
	free(text);
	head = git_out(origin, "rev-parse", "main");
	cache = new_cache();
	assert_int_equal(setenv("IPAM_TEST_GIT_TOKEN", TOKEN, 1), 0);

	/* the system CAs do not know the server */
	assert_int_equal(
		fetch_https(&s, url, NULL, NULL, "IPAM_TEST_GIT_TOKEN", cache),
		IPAM_EAUTH);
	assert_contains(ipam_error_last(), "certificate");
	/* the private CA and the token */
	assert_int_equal(
		fetch_https(&s, url, ca, NULL, "IPAM_TEST_GIT_TOKEN", cache),
		0);
	assert_string_equal(s.commit, head);
	assert_int_equal(s.nr, 3);
	assert_file(&s.files[2], head, "config/site.yaml",
		    "version: 1\n# site, second\n");
	ipam_git_snapshot_release(&s);
	/* a user in the URL is refused before the server is asked */
	assert_int_equal(fetch_https(&s, url_oauth, ca, NULL,
				     "IPAM_TEST_GIT_TOKEN", cache),
			 IPAM_EINVAL);
	assert_contains(ipam_error_last(), "tokenFile");
	/* a wrong token, no token */
	assert_int_equal(fetch_https(&s, url, ca, badtok, NULL, cache),
			 IPAM_EAUTH);
	assert_contains(ipam_error_last(), "rejected the token");
	assert_contains(ipam_error_last(), badtok);
	assert_int_equal(fetch_https(&s, url, ca, NULL, NULL, cache),
			 IPAM_EAUTH);
	assert_contains(ipam_error_last(), "asks for credentials");
	/* no CA named again: the system's are back */
	assert_int_equal(
		fetch_https(&s, url, NULL, NULL, "IPAM_TEST_GIT_TOKEN", cache),
		IPAM_EAUTH);
	assert_contains(ipam_error_last(), "certificate");

	unsetenv("IPAM_TEST_GIT_TOKEN");
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	free(dir);
	free(ca_key);
	free(ca);
	free(key);
	free(csr);
	free(crt);
	free(ext);
	free(script);
	free(portfile);
	free(badtok);
	free(url);
	free(url_oauth);
	free(cache);
	free(head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_branch_from_path),
		cmocka_unit_test(test_file_url_default_ref_root),
		cmocka_unit_test(test_tag_and_commit_id),
		cmocka_unit_test(test_path_naming_a_file),
		cmocka_unit_test(test_second_fetch_reuses_cache),
		cmocka_unit_test(test_remote_text_cleaned),
		cmocka_unit_test(test_unknown_ref_and_path),
		cmocka_unit_test(test_links_and_yaml_named_dirs),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_timeout_stops_a_silent_server),
		cmocka_unit_test(test_file_over_the_bound),
		cmocka_unit_test(test_token_never_in_messages),
		cmocka_unit_test(test_url_secret),
		cmocka_unit_test(test_refused_options),
		cmocka_unit_test(test_worktree_head),
		cmocka_unit_test(test_ssh_pinned_host_key),
		cmocka_unit_test(test_https_token_and_ca),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
