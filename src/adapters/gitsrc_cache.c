#include "gitsrc_internal.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "error.h"
#include "proc.h"
#include "secret.h"
#include "strbuf.h"

#include "banned.h"

/* ---- the cache ---- */

int ipam_git_mkdir_p(const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	const char *p = dir;
	int err = 0;

	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t n = slash ? (size_t)(slash - dir) : strlen(dir);

		strbuf_reset(&sb);
		strbuf_add(&sb, dir, n);
		if (mkdir(sb.buf, 0700) && errno != EEXIST) {
			err = ipam_error_set(IPAM_EIO,
					     "cannot create the git cache "
					     "'%s': %s",
					     sb.buf, strerror(errno));
			break;
		}
		p = slash ? slash : dir + n;
	}
	if (!err && (stat(dir, &st) || !S_ISDIR(st.st_mode)))
		err = ipam_error_set(
			IPAM_EIO, "the git cache '%s' is not a directory", dir);
	strbuf_release(&sb);
	return err;
}

/* One fetch per cache at a time, across processes. */
int ipam_git_lock_cache(int *fd_out, const char *path, struct ipam_git_ctx *c)
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	int fd;

	*fd_out = -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot open lock '%s': %s",
				      path, strerror(errno));
	for (;;) {
		if (!flock(fd, c->has_deadline ? LOCK_EX | LOCK_NB : LOCK_EX))
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			ipam_error_set(IPAM_EIO, "cannot lock '%s': %s", path,
				       strerror(errno));
			close(fd);
			return IPAM_EIO;
		}
		if (ipam_git_deadline_passed(c)) {
			close(fd);
			return ipam_error_set(IPAM_ETIMEOUT,
					      "the git cache '%s' stayed "
					      "locked by another fetch for %d "
					      "s",
					      path, c->o->timeout);
		}
		nanosleep(&pause, NULL);
	}
	*fd_out = fd;
	return 0;
}

int ipam_git_open_cache(git_repository **repo, const char *path,
			const char *url)
{
	git_repository_init_options io;
	git_config *cfg = NULL;
	struct stat st;

	if (!stat(path, &st)) {
		if (git_repository_open_bare(repo, path) < 0)
			return ipam_git_fail(IPAM_EIO,
					     "git cache '%s' is not a usable "
					     "repository (remove it to clone "
					     "again)",
					     path);
		return 0;
	}
	if (errno != ENOENT)
		return ipam_error_set(IPAM_EIO, "git cache '%s': %s", path,
				      strerror(errno));
	git_repository_init_options_init(&io,
					 GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT |
		   GIT_REPOSITORY_INIT_MKDIR;
	io.initial_head = "main";
	if (git_repository_init_ext(repo, path, &io) < 0)
		return ipam_git_fail(IPAM_EIO,
				     "git clone: cannot create the cache "
				     "'%s'",
				     path);
	/* Which URL a cache mirrors, for whoever looks inside. */
	if (!git_repository_config(&cfg, *repo)) {
		git_config_set_string(cfg, "ipamctl.url", url);
		git_config_free(cfg);
	}
	return 0;
}

/* "clone" until a first fetch brought something. */
int ipam_git_has_refs(git_repository *repo)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int r;

	if (git_reference_iterator_new(&it, repo) < 0)
		return 1;
	r = git_reference_next(&ref, it);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return r != GIT_ITEROVER;
}

int ipam_git_fetch_into(git_repository *repo, struct ipam_git_ctx *c,
			const char *path, int first)
{
	static char heads[] = "+refs/heads/*:refs/heads/*";
	static char tags[] = "+refs/tags/*:refs/tags/*";
	char *specs[] = {heads, tags};
	git_strarray refspecs = {specs, 2};
	git_remote *remote = NULL;
	git_remote_create_options ro;
	git_fetch_options fo;
	const char *step = first ? "clone" : "fetch";
	int r, code;

	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		   GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	ipam_git_callbacks(&fo.callbacks, c);
	/* a mirror of the branches and tags: a deleted branch must not
	 * live on in the cache */
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.proxy_opts.type = GIT_PROXY_AUTO;

	if (c->u->kind == IPAM_GITURL_LOCAL) {
		/* libgit2 calls a missing path an unsupported protocol */
		const char *dir = c->u->url;
		struct stat st;

		if (ipam_git_starts_with(dir, "file://"))
			dir += strlen("file://");
		if (stat(dir, &st))
			return ipam_error_set(IPAM_EIO,
					      "git %s '%s': no repository "
					      "there: %s",
					      step, c->u->url, strerror(errno));
	}
	/* no url.*.insteadOf (and none of libgit2 1.5's leak per config
	 * entry while it looks for them) */
	if (git_remote_create_with_opts(&remote, c->u->url, &ro) < 0)
		return ipam_git_fail(IPAM_EINVAL, "git %s '%s'", step,
				     c->u->url);
	r = git_remote_fetch(remote, &refspecs, &fo, NULL);
	git_remote_free(remote);
	if (!r)
		return 0;
	if (c->err)
		return ipam_error_prefix(c->err, "git %s '%s'", step,
					 c->u->url);
	code = r == GIT_EAUTH || r == GIT_ECERTIFICATE ? IPAM_EAUTH : IPAM_EIO;
	return ipam_git_fail(code, "git %s '%s' (cache '%s')", step, c->u->url,
			     path);
}

/*
 * Lock files a fetch killed halfway left behind (ipamctl stopped by its
 * supervisor, or a fetch stopped at its deadline): under our lock on the
 * cache nobody else writes there, so every one is stale and would make
 * the next fetch fail.
 */
void ipam_git_sweep_locks(const char *dir, int depth)
{
	struct strbuf sb = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	size_t n;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s/%s", dir, de->d_name);
		if (lstat(sb.buf, &st))
			continue;
		n = strlen(de->d_name);
		if (S_ISREG(st.st_mode) && n > 5 &&
		    !strcmp(de->d_name + n - 5, ".lock"))
			unlink(sb.buf);
		else if (S_ISDIR(st.st_mode) && depth < 32 &&
			 (depth || !strcmp(de->d_name, "refs")))
			ipam_git_sweep_locks(sb.buf, depth + 1);
	}
	closedir(d);
	strbuf_release(&sb);
}

static int ms_left(const struct ipam_git_ctx *c, int grace_ms)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(c->deadline.tv_sec - now.tv_sec) * 1000 +
	     (c->deadline.tv_nsec - now.tv_nsec) / 1000000 + grace_ms;
	return ms < 0 ? 0 : ms > 1000000000 ? 1000000000 : (int)ms;
}

struct child_args {
	struct ipam_git_ctx *c;
	const char *path;
	int first;
};

/* The child's side: fetch, then "<code>\n<message>" down the pipe. */
static void child_fetch(int fd, void *ctx)
{
	struct child_args *a = ctx;
	struct strbuf sb = STRBUF_INIT;
	git_repository *repo = NULL;
	const char *p;
	ssize_t w;
	int err;

	if (git_repository_open_bare(&repo, a->path) < 0)
		err = ipam_git_fail(IPAM_EIO, "git cache '%s'", a->path);
	else
		err = ipam_git_fetch_into(repo, a->c, a->path, a->first);
	git_repository_free(repo);
	ipam_secret_wipe(&a->c->token);
	strbuf_addf(&sb, "%d\n%s", err, err ? ipam_error_last() : "");
	for (p = sb.buf; p < sb.buf + sb.len; p += w) {
		w = write(fd, p, (size_t)(sb.buf + sb.len - p));
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w < 0)
			break;
	}
	_exit(0);
}

/*
 * The fetch in a child process stopped at the deadline: libgit2 1.5 has
 * no network timeouts, and a server that accepts the connection and then
 * says nothing (or a peer gone mid-transfer) would hang ipamctl for good.
 * The callbacks' own deadline usually ends it first, with a finer message.
 */
int ipam_git_fetch_bounded(struct ipam_git_ctx *c, const char *path, int first)
{
	struct child_args a = {c, path, first};
	struct strbuf msg = STRBUF_INIT;
	const char *step = first ? "clone" : "fetch";
	int code, err;
	char *end;

	err = ipam_proc_call(&msg, 65536, child_fetch, &a,
			     ipam_proc_now_ms() + ms_left(c, 1000), NULL);
	if (err == IPAM_EIO) {
		err = ipam_error_prefix(IPAM_EIO, "git %s", step);
	} else if (err == IPAM_ETIMEOUT) {
		ipam_git_sweep_locks(path, 0);
		err = ipam_error_set(IPAM_ETIMEOUT,
				     "git %s '%s': no answer within the "
				     "timeout of %d s: stopped",
				     step, c->u->url, c->o->timeout);
	} else {
		errno = 0;
		code = (int)strtol(msg.buf, &end, 10);
		if (end == msg.buf || *end != '\n' || errno)
			err = ipam_error_set(IPAM_ERROR,
					     "git %s '%s': the fetching "
					     "process ended without a result",
					     step, c->u->url);
		else
			err = code ? ipam_error_set(code, "%s", end + 1) : 0;
	}
	strbuf_release(&msg);
	return err;
}
