#include "gitsrc.h"
#include "gitsrc_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "giturl.h"
#include "error.h"
#include "secret.h"
#include "sha256.h"
#include "strbuf.h"
#include "banned.h"

/* Debian's libgit2 (mbedTLS) reads this bundle when told no other. */
#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* ---- libgit2, once per process ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_failed;
static pthread_mutex_t ca_lock = PTHREAD_MUTEX_INITIALIZER;
static char *ca_current; /* the CA file libgit2 holds; NULL: the system's */

static void init_libgit2(void)
{
	static const int levels[] = {
		GIT_CONFIG_LEVEL_PROGRAMDATA,
		GIT_CONFIG_LEVEL_SYSTEM,
		GIT_CONFIG_LEVEL_XDG,
		GIT_CONFIG_LEVEL_GLOBAL,
	};
	size_t i;

	if (git_libgit2_init() < 0) {
		init_failed = 1;
		return;
	}
	/*
	 * What is fetched must not depend on who runs ipamctl: no user or
	 * system git configuration (url.<base>.insteadOf, credential
	 * helpers, http.sslVerify, ...) is read.
	 */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "ipamctl/" IPAM_VERSION);
}

const char *ipam_git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* "context: <libgit2's message>" as the last error. */
int ipam_git_fail(int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ipam_error_set(code, "%s: %s", sb.buf, ipam_git_msg());
	strbuf_release(&sb);
	return code;
}

/*
 * libgit2 keeps the CA locations process-wide; set them only when they
 * change, and put the system bundle back after a custom one.
 */
static int set_ca(const char *ca_file)
{
	const char *path = ca_file ? ca_file : SYSTEM_CA_FILE;
	int err = 0;

	pthread_mutex_lock(&ca_lock);
	if ((!ca_file && !ca_current) ||
	    (ca_file && ca_current && !strcmp(ca_file, ca_current)))
		goto out;
	if (ca_file && access(ca_file, R_OK)) {
		err = ipam_error_set(IPAM_EIO, "cannot read CA file '%s': %s",
				     ca_file, strerror(errno));
		goto out;
	}
	if (git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, path, NULL) < 0) {
		err = ipam_git_fail(IPAM_EINVAL, "CA file '%s'", path);
		goto out;
	}
	free(ca_current);
	ca_current = ca_file ? xstrdup(ca_file) : NULL;
out:
	pthread_mutex_unlock(&ca_lock);
	return err;
}

int ipam_git_init(void)
{
	pthread_once(&init_once, init_libgit2);
	if (init_failed)
		return ipam_error_set(IPAM_ERROR, "git: libgit2 did not "
						  "initialise");
	return 0;
}

/* ---- deadlines ---- */

static void deadline_set(struct ipam_git_ctx *c, int seconds)
{
	if (seconds <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += seconds;
	c->has_deadline = 1;
}

int ipam_git_deadline_passed(const struct ipam_git_ctx *c)
{
	struct timespec now;

	if (!c->has_deadline)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > c->deadline.tv_sec ||
	       (now.tv_sec == c->deadline.tv_sec &&
		now.tv_nsec >= c->deadline.tv_nsec);
}

/* ---- the whole ---- */

/* The URL's transport; a relative path made absolute: the cache is named
 * by the URL, and a relative path must not name different repositories
 * from different places. */
static int parse_url(struct ipam_giturl *u, const char *url)
{
	char *cwd, *abs;
	int err = ipam_giturl_parse(u, url);

	if (err || !u->relative)
		return err;
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return ipam_error_set(IPAM_EIO,
				      "git URL '%s': cannot resolve a "
				      "relative path: %s",
				      url, strerror(errno));
	abs = xasprintf("%s/%s", cwd, url);
	free(cwd);
	free(u->url);
	u->url = abs;
	u->relative = false;
	return 0;
}

static int check_opts(const struct ipam_git_opts *o,
		      const struct ipam_giturl *u)
{
	if (u->kind == IPAM_GITURL_SSH) {
		if (!(git_libgit2_features() & GIT_FEATURE_SSH))
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': this libgit2 was "
					      "built without SSH",
					      u->url);
		if (!o->known_hosts || !*o->known_hosts)
			return ipam_error_set(IPAM_EINVAL,
					      "git URL '%s': SSH needs a "
					      "pinned known_hosts file",
					      u->url);
		if (o->ssh_key && access(o->ssh_key, R_OK))
			return ipam_error_set(IPAM_EIO,
					      "cannot read SSH key '%s': %s",
					      o->ssh_key, strerror(errno));
	}
	if (u->kind == IPAM_GITURL_HTTPS &&
	    !(git_libgit2_features() & GIT_FEATURE_HTTPS))
		return ipam_error_set(IPAM_EINVAL,
				      "git URL '%s': this libgit2 was built "
				      "without HTTPS",
				      u->url);
	return 0;
}

int ipam_git_fetch(struct ipam_git_snapshot *out, const struct ipam_git_opts *o)
{
	struct ipam_git_ctx c = {0};
	struct ipam_giturl u = {0};
	struct strbuf path = STRBUF_INIT, repo_path = STRBUF_INIT;
	struct strbuf lock_path = STRBUF_INIT;
	char key[IPAM_SHA256_HEX_LEN + 1];
	const char *ref = o->ref && *o->ref ? o->ref : "main";
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	int lock_fd = -1, first, err;

	memset(out, 0, sizeof(*out));
	strbuf_init(&c.token);
	c.o = o;
	c.u = &u;
	if (!o->url || !*o->url)
		return ipam_error_set(IPAM_EINVAL, "git: no repository URL");
	if (!o->cache_dir || !*o->cache_dir)
		return ipam_error_set(IPAM_EINVAL, "git: no cache directory");
	if ((err = ipam_git_init()))
		return err;
	if ((err = parse_url(&u, o->url)) || (err = check_opts(o, &u)) ||
	    (err = ipam_git_normalise_path(&path, o->path)))
		goto out;
	if (u.kind == IPAM_GITURL_HTTPS) {
		if (o->token_file || o->token_env) {
			err = ipam_secret_read(&c.token, o->token_file,
					       o->token_env);
			if (err) {
				ipam_error_prefix(err, "git token");
				goto out;
			}
			c.have_token = 1;
		}
		if ((err = set_ca(o->ca_file)))
			goto out;
	}
	deadline_set(&c, o->timeout);

	ipam_sha256_hex(key, u.url, strlen(u.url));
	strbuf_addf(&repo_path, "%s/%s", o->cache_dir, key);
	strbuf_addf(&lock_path, "%s.lock", repo_path.buf);
	if ((err = ipam_git_mkdir_p(o->cache_dir)) ||
	    (err = ipam_git_lock_cache(&lock_fd, lock_path.buf, &c)))
		goto out;
	ipam_git_sweep_locks(repo_path.buf, 0);
	if ((err = ipam_git_open_cache(&repo, repo_path.buf, u.url)))
		goto out;
	first = !ipam_git_has_refs(repo);
	if (c.has_deadline && u.kind != IPAM_GITURL_LOCAL) {
		git_repository_free(repo);
		repo = NULL;
		if ((err = ipam_git_fetch_bounded(&c, repo_path.buf, first)))
			goto out;
		if (git_repository_open_bare(&repo, repo_path.buf) < 0) {
			err = ipam_git_fail(IPAM_EIO, "git cache '%s'",
					    repo_path.buf);
			goto out;
		}
	} else if ((err = ipam_git_fetch_into(repo, &c, repo_path.buf,
					      first))) {
		goto out;
	}
	if ((err = ipam_git_resolve(&commit, repo, ref, u.url)))
		goto out;
	ipam_git_describe_commit(out, commit);
	if (o->verify != IPAM_VERIFY_NONE) {
		err = ipam_git_verify_commit(&out->sig, repo,
					     git_commit_id(commit), o);
		/* a commit refused is not read: its files are not to be
		 * acted on, and need not even parse */
		if (err || !out->sig.good)
			goto out;
	}
	err = ipam_git_read_files(out, repo, commit, path.buf);
out:
	git_commit_free(commit);
	git_repository_free(repo);
	if (lock_fd >= 0)
		close(lock_fd);
	ipam_secret_wipe(&c.token);
	strbuf_release(&path);
	strbuf_release(&repo_path);
	strbuf_release(&lock_path);
	ipam_giturl_release(&u);
	if (err)
		ipam_git_snapshot_release(out);
	return err;
}

void ipam_git_snapshot_release(struct ipam_git_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++) {
		free(s->files[i].name);
		free(s->files[i].data);
	}
	free(s->files);
	free(s->author);
	free(s->subject);
	ipam_git_signature_release(&s->sig);
	memset(s, 0, sizeof(*s));
}
