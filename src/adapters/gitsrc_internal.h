/*
 * What the pieces of the git adapter share: the state of one fetch, the
 * libgit2 error bridge and the steps ipam_git_fetch runs (gitsrc.c).
 * Host keys, credentials and the remote callbacks are gitsrc_auth.c; the
 * cache and the (bounded) fetch gitsrc_cache.c; resolving the ref and
 * reading the tree gitsrc_tree.c; a checkout's HEAD gitsrc_worktree.c;
 * commit signatures gitsrc_verify.c.
 * Only these files include <git2.h>.
 */
#ifndef IPAM_GITSRC_INTERNAL_H
#define IPAM_GITSRC_INTERNAL_H

#include <string.h>
#include <time.h>

#include <git2.h>

#include "gitsrc.h"
#include "giturl.h"
#include "strbuf.h"

struct ipam_git_ctx {
	const struct ipam_git_opts *o;
	const struct ipam_giturl *u;
	struct strbuf token;
	int have_token;
	int has_deadline;
	struct timespec deadline;
	unsigned cred_calls;
	unsigned keys_offered;
	int err; /* a callback failed: its code (message in the last error) */
};

static inline int ipam_git_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* gitsrc.c */
/* libgit2 initialised once per process, without user or system config. */
int ipam_git_init(void);
/* libgit2's last message. */
const char *ipam_git_msg(void);
/* "context: <libgit2's message>" as the last error; returns code. */
int ipam_git_fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ipam_git_deadline_passed(const struct ipam_git_ctx *c);

/* gitsrc_auth.c: credentials, certificate and host-key checks, progress
 * (the deadline), all reporting into c. */
void ipam_git_callbacks(git_remote_callbacks *cbs, struct ipam_git_ctx *c);

/* gitsrc_cache.c */
int ipam_git_mkdir_p(const char *dir);
int ipam_git_lock_cache(int *fd_out, const char *path, struct ipam_git_ctx *c);
int ipam_git_open_cache(git_repository **repo, const char *path,
			const char *url);
int ipam_git_has_refs(git_repository *repo);
/* Clone (first) or fetch into the cache repo at path, in this process. */
int ipam_git_fetch_into(git_repository *repo, struct ipam_git_ctx *c,
			const char *path, int first);
void ipam_git_sweep_locks(const char *dir, int depth);
/* The same in a child process stopped at c's deadline. */
int ipam_git_fetch_bounded(struct ipam_git_ctx *c, const char *path, int first);

/* gitsrc_tree.c */
int ipam_git_resolve(git_commit **out, git_repository *repo, const char *ref,
		     const char *url);
int ipam_git_normalise_path(struct strbuf *out, const char *path);
int ipam_git_read_files(struct ipam_git_snapshot *s, git_repository *repo,
			git_commit *commit, const char *path);
void ipam_git_describe_commit(struct ipam_git_snapshot *s, git_commit *commit);

/* gitsrc_verify.c: commit id's signature against o's policy (o->verify
 * set); 0 with the verdict in out, good or not. */
int ipam_git_verify_commit(struct ipam_git_signature *out, git_repository *repo,
			   const git_oid *id, const struct ipam_git_opts *o);

#endif
