/*
 * The git source: the desired state read straight from a commit of a git
 * repository (libgit2), without a work tree.  The repository is mirrored
 * into a bare cache (cloned on first use, fetched after), the ref resolved
 * there, and the *.yaml / *.yml files of one directory of the commit's tree
 * read into memory, named "<commit>:<path>" so that every file:line:col
 * diagnostic names the commit too.
 *
 * Prefixes: ipam_git_
 *   (libgit2 owns the name git2.h; git_ is its prefix).
 */
#ifndef IPAM_GITSRC_H
#define IPAM_GITSRC_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* Largest number of desired-state files read from one tree. */
#define IPAM_GIT_MAX_FILES 1024
/* Largest total of their sizes (each is bounded by IPAM_DECODE_MAX_FILE). */
#define IPAM_GIT_MAX_TOTAL (256u << 20)
/* Largest amount of data one fetch may receive. */
#define IPAM_GIT_MAX_FETCH (1024u << 20)
/* Hex digits of the commit id in file names. */
#define IPAM_GIT_ABBREV 12

struct ipam_git_opts {
	/* a path, file://, https:// (http:// and git:// are refused),
	 * ssh:// or scp-like [user@]host:path; never credentials */
	const char *url;
	const char *ref;  /* branch, tag, full ref or commit id ("main") */
	const char *path; /* directory (or one file) in the tree; NULL=root */
	/* the mirrors (bare) live in <cache_dir>/<sha256 of url> */
	const char *cache_dir;
	/* HTTPS: a token sent as the password of basic authentication, user
	 * "x-access-token" (a URL with a user name is refused: a token is
	 * too easily written there, and the URL is logged and marked on
	 * what ipamctl creates) */
	const char *token_file;
	const char *token_env;
	/* HTTPS: CA bundle.  libgit2 holds it process-wide: the last one set
	 * wins, and the system bundle is put back when a later fetch names
	 * none. */
	const char *ca_file;
	/* SSH: a private key without passphrase (its .pub beside it is
	 * used when there); NULL: ssh-agent.  User: the URL's, else "git". */
	const char *ssh_key;
	/* SSH: required; the host key must match one of its plain-text
	 * entries ("host" or "[host]:port", '*' and '?', '!', @revoked) */
	const char *known_hosts;
	/* Seconds for the whole fetch (0: no bound).  With a bound, the
	 * network part runs in a child process killed at the deadline:
	 * libgit2 1.5 has no network timeouts of its own. */
	int timeout;
	/* The commit's signature must verify (IPAM_VERIFY_NONE: not
	 * checked), as git verify-commit does with gpg.format ssh or
	 * openpgp: against allowed_signers (ssh-keygen -Y) or keyring
	 * (gpgv), absolute paths of the host's files. */
	enum ipam_verify_mode verify;
	const char *allowed_signers;
	const char *keyring;
};

/* What the signature of a commit says, against a policy. */
struct ipam_git_signature {
	bool checked; /* a policy was given and applied */
	bool good;    /* signed, intact, by a signer the policy lists */
	/* Who signed: the principal of allowed_signers (ssh) or the key's
	 * user id (openpgp); NULL when unsigned or not listed. */
	char *signer;
	/* The key: "SHA256:..." (ssh) or its fingerprint (openpgp, the key
	 * id when only that is known); NULL when unsigned. */
	char *key;
	char *reason; /* why it is not good; NULL when good */
};

void ipam_git_signature_release(struct ipam_git_signature *s);

struct ipam_git_file {
	char *name; /* "<abbreviated commit>:<path in the tree>" */
	char *data; /* NUL-terminated */
	size_t len;
};

struct ipam_git_snapshot {
	char commit[41];
	char *author;	/* "Name <email>" */
	char *subject;	/* first paragraph of the message, on one line */
	long long time; /* commit time, seconds since the epoch */
	struct ipam_git_file *files; /* sorted by name */
	size_t nr;
	/* With a verify policy: the commit's signature.  A commit that is
	 * not good has no files read (nr 0): only the signature's verdict
	 * and who made the commit are known of it. */
	struct ipam_git_signature sig;
};

/*
 * Clone url into the cache on first use, fetch it after, resolve the ref
 * and read the files of path: *.yaml and *.yml directly in the directory,
 * not hidden, sorted by name, the same rule as a local directory (a path
 * naming one file reads that file).  Every failure is an error whose
 * message says which step failed (a failed fetch too, even with a cached
 * copy: last-known-good is the caller's choice).  IPAM_EAUTH, IPAM_ETIMEOUT,
 * IPAM_ELIMIT, IPAM_ENOTFOUND (ref or path), IPAM_EINVAL (options), IPAM_EIO.
 * Never prints; the token is never in a message.  Concurrent fetches of
 * one cache, even from several processes, wait for each other; calls with
 * different ca_file values must not overlap (see above), nor may other
 * threads run during a fetch with a timeout (it forks).
 */
int ipam_git_fetch(struct ipam_git_snapshot *out,
		   const struct ipam_git_opts *o);

/*
 * Verify commit (an id or a ref) of the repository at repo_path against
 * o's policy (o->verify, o->allowed_signers, o->keyring): out says
 * whether it is good, who signed and why not.  0 when the verdict was
 * reached, good or not; an error when it could not be (the repository,
 * the commit, a missing tool or file, a timeout).  Runs ssh-keygen or
 * gpgv without a shell; the signed data goes through a private temporary
 * directory, never argv.
 */
int ipam_git_verify(struct ipam_git_signature *out, const char *repo_path,
		    const char *commit, const struct ipam_git_opts *o);

/* ---- the pure parts of verifying, for the tests ---- */

/* Which kind of signature an armored one is, by its first line:
 * IPAM_VERIFY_SSH, IPAM_VERIFY_OPENPGP, else IPAM_VERIFY_NONE. */
enum ipam_verify_mode ipam_git_signature_kind(const char *sig, size_t len);

/* The first principal `ssh-keygen -Y find-principals` printed (a new
 * string), or NULL when none. */
char *ipam_git_ssh_principal(const char *out);

/*
 * The verdict of `ssh-keygen -Y verify` (or check-novalidate) from its
 * output (stdout and stderr together) and exit status: out->good, the
 * key's "SHA256:..." fingerprint when printed, the reason when not good.
 */
void ipam_git_ssh_verdict(struct ipam_git_signature *out, const char *text,
			  int status);

/*
 * The verdict of gpgv from its --status-fd lines and exit status: good
 * only with a GOODSIG and a VALIDSIG and none of BADSIG, ERRSIG,
 * NO_PUBKEY, EXPSIG, EXPKEYSIG, REVKEYSIG, with exit status 0; the
 * signer is GOODSIG's user id (or BADSIG's), the key VALIDSIG's primary
 * fingerprint (else ERRSIG's fingerprint, else the key id).  keyring
 * names the keyring in the reason.
 */
void ipam_git_gpgv_verdict(struct ipam_git_signature *out, const char *status,
			   int exit_status, const char *keyring);

void ipam_git_snapshot_release(struct ipam_git_snapshot *s);

/* A desired state read from a checkout (-c PATH in a CI job). */
struct ipam_git_worktree {
	char commit[41]; /* HEAD's commit id; "" when there is none */
	/* a desired-state file under the path differs from HEAD: modified,
	 * staged, deleted, untracked or ignored (the loader reads ignored
	 * files too) *.yaml / *.yml, by the loader's rule for a directory
	 * (directly in it, not hidden) or the one file path names */
	bool dirty;
};

/*
 * The git work tree that holds path (a file or a directory), HEAD's
 * commit and whether the files under path differ from it.  Not in a
 * work tree (no repository, a bare one, inside .git) or HEAD without a
 * commit yet: 0 with commit "".  IPAM_EIO when the repository cannot be
 * read (libgit2 refuses one owned by another user, as git does).  Reads
 * only: the index is not refreshed on disk.
 */
int ipam_git_worktree_head(struct ipam_git_worktree *out, const char *path);

#endif
