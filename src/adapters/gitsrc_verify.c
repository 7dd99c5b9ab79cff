/*
 * Signed commits: whoever can push to the desired state's repository
 * decides which computers get the IPAM GPOs, so a commit may be required
 * to carry a signature by a known key, as Flux and `git verify-commit`
 * check it.  libgit2 gives the signature and the signed data; the
 * signature is checked by the tools git itself runs: ssh-keygen -Y (SSH
 * signatures, an allowed_signers file) or gpgv (OpenPGP, a keyring).
 * Their output is read by the pure functions at the top.
 */
#define _GNU_SOURCE /* closefrom */
#include "gitsrc.h"
#include "gitsrc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "error.h"
#include "proc.h"
#include "strbuf.h"
#include "text.h"

#include "banned.h"

/* Seconds ssh-keygen or gpgv may take. */
#define VERIFY_TIMEOUT 30
/* Largest signature read from a commit header (an SSH one is ~300
 * bytes, an OpenPGP one a few KiB). */
#define MAX_SIGNATURE (64u << 10)
/* Longest signer name or key kept. */
#define MAX_NAME 256

#define SSH_ARMOR  "-----BEGIN SSH SIGNATURE-----"
#define PGP_ARMOR  "-----BEGIN PGP SIGNATURE-----"
#define GPG_STATUS "[GNUPG:] "

void ipam_git_signature_release(struct ipam_git_signature *s)
{
	if (!s)
		return;
	free(s->signer);
	free(s->key);
	free(s->reason);
	memset(s, 0, sizeof(*s));
}

/* ---- the pure parts ---- */

enum ipam_verify_mode ipam_git_signature_kind(const char *sig, size_t len)
{
	if (len >= strlen(SSH_ARMOR) &&
	    !strncmp(sig, SSH_ARMOR, strlen(SSH_ARMOR)))
		return IPAM_VERIFY_SSH;
	if (len >= strlen(PGP_ARMOR) &&
	    !strncmp(sig, PGP_ARMOR, strlen(PGP_ARMOR)))
		return IPAM_VERIFY_OPENPGP;
	return IPAM_VERIFY_NONE;
}

/* The first non-blank line of text as a clean new string, or NULL. */
static char *first_line(const char *text)
{
	const char *p = text;
	struct strbuf sb = STRBUF_INIT;
	char *s;

	while (*p) {
		size_t n = strcspn(p, "\n"), skip = strspn(p, " \t\r");

		strbuf_reset(&sb);
		if (skip < n)
			strbuf_add(&sb, p + skip, n - skip);
		while (sb.len && strchr(" \t\r", sb.buf[sb.len - 1]))
			sb.buf[--sb.len] = '\0';
		if (sb.len) {
			s = ipam_text_clean(sb.buf, MAX_NAME);
			strbuf_release(&sb);
			return s;
		}
		p += n + (p[n] ? 1 : 0);
	}
	strbuf_release(&sb);
	return NULL;
}

char *ipam_git_ssh_principal(const char *out)
{
	return first_line(out ? out : "");
}

/* The whitespace-delimited word starting at p (a new clean string). */
static char *word_at(const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	strbuf_add(&sb, p, strcspn(p, " \t\r\n"));
	s = ipam_text_clean(sb.buf, MAX_NAME);
	strbuf_release(&sb);
	return s;
}

void ipam_git_ssh_verdict(struct ipam_git_signature *out, const char *text,
			  int status)
{
	const char *good = strstr(text, "Good \"git\" signature");
	const char *key = NULL;

	out->good = false;
	if (good) {
		size_t n = strcspn(good, "\n");

		key = strstr(good, "SHA256:");
		if (key && key >= good + n)
			key = NULL;
	}
	if (key) {
		free(out->key);
		out->key = word_at(key);
	}
	if (good && status == 0) {
		out->good = true;
		return;
	}
	free(out->reason);
	if (good) {
		out->reason = xasprintf("ssh-keygen said the signature is "
					"good but ended with status %d",
					status);
	} else {
		/* ssh-keygen's own words, past its "Could not verify
		 * signature." */
		const char *failed = strstr(text, "failed:");
		char *why = NULL;

		while (failed && failed > text && failed[-1] != '\n')
			failed--;
		why = first_line(failed ? failed : text);

		out->reason = xasprintf("bad signature: %s",
					why ? why : "ssh-keygen refused it");
		free(why);
	}
}

/* The n-th (from 0) space-separated argument of a status line's rest,
 * or NULL; the last one (n < 0: from n to the end) keeps its spaces. */
static char *status_arg(const char *args, int n, bool rest)
{
	const char *p = args;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || !*p)
		return NULL;
	if (rest) {
		struct strbuf sb = STRBUF_INIT;
		char *s;

		strbuf_add(&sb, p, strcspn(p, "\n"));
		s = ipam_text_clean(sb.buf, MAX_NAME);
		strbuf_release(&sb);
		return s;
	}
	return word_at(p);
}

/* What the status lines of one gpgv run say. */
struct gpg_status {
	char *good_uid, *bad_uid, *keyid, *valid_fpr, *err_fpr;
	const char *problem; /* the first refusal seen, by keyword */
	bool goodsig, validsig;
};

static char *take(char **p)
{
	char *v = *p;

	*p = NULL;
	return v;
}

static void set_once(char **dst, char *v)
{
	if (*dst || !v) {
		free(v);
		return;
	}
	*dst = v;
}

static void gpg_status_line(struct gpg_status *st, const char *kw,
			    const char *args)
{
	if (!strcmp(kw, "GOODSIG")) {
		st->goodsig = true;
		set_once(&st->keyid, status_arg(args, 0, false));
		set_once(&st->good_uid, status_arg(args, 1, true));
	} else if (!strcmp(kw, "VALIDSIG")) {
		char *primary = status_arg(args, 9, false);

		st->validsig = true;
		/* the primary key's fingerprint: a subkey may sign */
		set_once(&st->valid_fpr,
			 primary ? primary : status_arg(args, 0, false));
	} else if (!strcmp(kw, "BADSIG") || !strcmp(kw, "EXPSIG") ||
		   !strcmp(kw, "EXPKEYSIG") || !strcmp(kw, "REVKEYSIG")) {
		if (!st->problem)
			st->problem = kw[0] == 'B'   ? "BADSIG"
				      : kw[0] == 'R' ? "REVKEYSIG"
				      : kw[3] == 'K' ? "EXPKEYSIG"
						     : "EXPSIG";
		set_once(&st->keyid, status_arg(args, 0, false));
		set_once(&st->bad_uid, status_arg(args, 1, true));
	} else if (!strcmp(kw, "ERRSIG") || !strcmp(kw, "NO_PUBKEY")) {
		if (!st->problem || !strcmp(st->problem, "ERRSIG"))
			st->problem = kw[0] == 'N' ? "NO_PUBKEY" : "ERRSIG";
		set_once(&st->keyid, status_arg(args, 0, false));
		if (kw[0] == 'E')
			set_once(&st->err_fpr, status_arg(args, 6, false));
	}
}

static const char *gpg_reason(const char *problem)
{
	if (!strcmp(problem, "BADSIG"))
		return "bad signature: the commit does not match it";
	if (!strcmp(problem, "EXPSIG"))
		return "the signature has expired";
	if (!strcmp(problem, "EXPKEYSIG"))
		return "signed by an expired key";
	if (!strcmp(problem, "REVKEYSIG"))
		return "signed by a revoked key";
	return NULL;
}

void ipam_git_gpgv_verdict(struct ipam_git_signature *out, const char *status,
			   int exit_status, const char *keyring)
{
	struct gpg_status st = {0};
	const char *p = status ? status : "";
	const char *why;

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, GPG_STATUS, strlen(GPG_STATUS))) {
			struct strbuf line = STRBUF_INIT;
			const char *sp;

			strbuf_add(&line, p + strlen(GPG_STATUS),
				   n - strlen(GPG_STATUS));
			sp = strchr(line.buf, ' ');
			if (sp) {
				line.buf[sp - line.buf] = '\0';
				gpg_status_line(&st, line.buf, sp + 1);
			} else {
				gpg_status_line(&st, line.buf, "");
			}
			strbuf_release(&line);
		}
		p += n + (p[n] ? 1 : 0);
	}
	out->good =
		st.goodsig && st.validsig && !st.problem && exit_status == 0;
	free(out->signer);
	out->signer = st.good_uid ? take(&st.good_uid) : take(&st.bad_uid);
	free(out->key);
	out->key = st.valid_fpr ? take(&st.valid_fpr)
		   : st.err_fpr ? take(&st.err_fpr)
				: take(&st.keyid);
	free(out->reason);
	out->reason = NULL;
	if (out->good)
		goto out;
	if (!st.problem && st.goodsig)
		out->reason = xasprintf("gpgv did not confirm the signature "
					"(no VALIDSIG, exit status %d)",
					exit_status);
	else if (!st.problem)
		out->reason = xstrdup("no signature gpgv could read");
	else if (!strcmp(st.problem, "NO_PUBKEY") ||
		 !strcmp(st.problem, "ERRSIG"))
		out->reason = xasprintf(
			"signed by key %s, which is not in the keyring '%s'",
			out->key ? out->key : "?", keyring ? keyring : "?");
	else if ((why = gpg_reason(st.problem)))
		out->reason = xstrdup(why);
out:
	free(st.good_uid);
	free(st.bad_uid);
	free(st.keyid);
	free(st.valid_fpr);
	free(st.err_fpr);
}

/* ---- running the tools ---- */

struct exec_args {
	const char *const *argv;
	const char *input; /* a file for standard input */
};

/* ipam_proc_call's child: the tool with input on its standard input and
 * both its outputs down fd (ssh-keygen -Y verify reads the signed data
 * from standard input only). */
static void exec_with_input(int fd, void *ctx)
{
	const struct exec_args *a = ctx;
	sigset_t none;
	int in = open(a->input, O_RDONLY | O_CLOEXEC);

	if (in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	closefrom(3);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execvp(a->argv[0], (char *const *)(uintptr_t)a->argv);
	_exit(127);
}

static int run_with_input(struct strbuf *out, int *status,
			  const char *const argv[], const char *input)
{
	struct exec_args a = {argv, input};
	int rc;

	rc = ipam_proc_call(out, 65536, exec_with_input, &a,
			    ipam_proc_now_ms() + VERIFY_TIMEOUT * 1000, status);
	if (rc == IPAM_ETIMEOUT)
		return ipam_error_set(IPAM_ETIMEOUT,
				      "%s did not finish in %d s", argv[0],
				      VERIFY_TIMEOUT);
	if (rc)
		return ipam_error_prefix(rc, "cannot run %s", argv[0]);
	if (*status == 127 || *status == 126)
		return ipam_error_set(IPAM_EIO,
				      "cannot run %s: not found (install "
				      "openssh-client)",
				      argv[0]);
	return 0;
}

static int run_tool(struct ipam_proc_result *r, const char *const argv[],
		    const char *hint)
{
	struct ipam_proc_opts po = {.timeout = VERIFY_TIMEOUT,
				    .max_output = 65536,
				    .missing_hint = hint};

	return ipam_proc_run(r, argv, &po);
}

/* SSH: the principal whose key made the signature, then the signature
 * checked for it; a key nobody is allowed is still told by its
 * fingerprint (check-novalidate checks the signature alone). */
static int verify_ssh(struct ipam_git_signature *out, const char *sig,
		      const char *data, const char *allowed)
{
	const char *find[] = {"ssh-keygen", "-Y", "find-principals", "-s",
			      sig,	    "-f", allowed,	     NULL};
	struct ipam_proc_result r;
	struct strbuf text = STRBUF_INIT;
	char *principal = NULL;
	int status = -1, rc;

	rc = run_tool(&r, find, "install openssh-client");
	if (!rc && r.status == 0)
		principal = ipam_git_ssh_principal(r.out.buf);
	ipam_proc_result_release(&r);
	if (rc)
		return rc;
	if (principal) {
		const char *verify[] = {"ssh-keygen", "-Y", "verify",  "-f",
					allowed,      "-I", principal, "-n",
					"git",	      "-s", sig,       NULL};

		rc = run_with_input(&text, &status, verify, data);
	} else {
		const char *check[] = {"ssh-keygen", "-Y",  "check-novalidate",
				       "-n",	     "git", "-s",
				       sig,	     NULL};

		rc = run_with_input(&text, &status, check, data);
	}
	if (rc)
		goto out;
	ipam_git_ssh_verdict(out, text.buf, status);
	if (principal) {
		out->signer = principal;
		principal = NULL;
	} else if (out->good) {
		out->good = false;
		out->reason = xasprintf("signed by key %s, which is not in "
					"the allowed signers '%s'",
					out->key ? out->key : "?", allowed);
	} else {
		char *why = out->reason;

		out->reason = xasprintf("%s (and its key is not in the "
					"allowed signers '%s')",
					why, allowed);
		free(why);
	}
out:
	free(principal);
	strbuf_release(&text);
	return rc;
}

static int verify_openpgp(struct ipam_git_signature *out, const char *dir,
			  const char *sig, const char *data,
			  const char *keyring)
{
	/* our own empty home: no user's keys or options are read */
	const char *argv[] = {"gpgv",  "--homedir",   dir, "--keyring",
			      keyring, "--status-fd", "1", sig,
			      data,    NULL};
	struct ipam_proc_result r;
	int rc;

	rc = run_tool(&r, argv, "install gpgv");
	if (!rc)
		ipam_git_gpgv_verdict(out, r.out.buf, r.status, keyring);
	ipam_proc_result_release(&r);
	return rc;
}

/* ---- the commit ---- */

static int write_private(const char *path, const char *data, size_t len)
{
	int fd =
		open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	size_t off = 0;

	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot create '%s': %s", path,
				      strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			return ipam_error_set(IPAM_EIO, "cannot write '%s': %s",
					      path, strerror(e));
		}
		off += (size_t)w;
	}
	if (close(fd))
		return ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				      strerror(errno));
	return 0;
}

/* The policy's file, readable, absolute (gpgv reads a bare name in its
 * home, and the run's directory is nobody's choice). */
static int check_policy(const struct ipam_git_opts *o, const char **file)
{
	const char *what =
		o->verify == IPAM_VERIFY_SSH ? "allowed signers" : "keyring";

	*file = o->verify == IPAM_VERIFY_SSH ? o->allowed_signers : o->keyring;
	if (o->verify != IPAM_VERIFY_SSH && o->verify != IPAM_VERIFY_OPENPGP)
		return ipam_error_set(IPAM_EINVAL, "git verify: no mode");
	if (!*file || **file != '/')
		return ipam_error_set(IPAM_EINVAL,
				      "git verify: the %s file must be an "
				      "absolute path, got '%s'",
				      what, *file ? *file : "");
	if (access(*file, R_OK))
		return ipam_error_set(IPAM_EIO,
				      "git verify: cannot read the %s file "
				      "'%s': %s",
				      what, *file, strerror(errno));
	return 0;
}

/* Check sig (over data) in a private directory of its own. */
static int check_signature(struct ipam_git_signature *out, const git_buf *sig,
			   const git_buf *data, const char *file,
			   enum ipam_verify_mode mode)
{
	struct strbuf dir = STRBUF_INIT, sig_path = STRBUF_INIT;
	struct strbuf data_path = STRBUF_INIT;
	const char *tmp = getenv("TMPDIR");
	int rc;

	strbuf_addf(&dir, "%s/ipamctl-verify-XXXXXX",
		    tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir.buf)) {
		rc = ipam_error_set(IPAM_EIO,
				    "git verify: cannot make a temporary "
				    "directory '%s': %s",
				    dir.buf, strerror(errno));
		strbuf_release(&dir);
		return rc;
	}
	strbuf_addf(&sig_path, "%s/commit.sig", dir.buf);
	strbuf_addf(&data_path, "%s/commit", dir.buf);
	rc = write_private(sig_path.buf, sig->ptr, sig->size);
	if (!rc)
		rc = write_private(data_path.buf, data->ptr, data->size);
	if (!rc && mode == IPAM_VERIFY_SSH)
		rc = verify_ssh(out, sig_path.buf, data_path.buf, file);
	else if (!rc)
		rc = verify_openpgp(out, dir.buf, sig_path.buf, data_path.buf,
				    file);
	unlink(sig_path.buf);
	unlink(data_path.buf);
	rmdir(dir.buf);
	strbuf_release(&sig_path);
	strbuf_release(&data_path);
	strbuf_release(&dir);
	return rc;
}

int ipam_git_verify_commit(struct ipam_git_signature *out, git_repository *repo,
			   const git_oid *id, const struct ipam_git_opts *o)
{
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	git_oid oid;
	enum ipam_verify_mode kind;
	const char *file;
	char hex[GIT_OID_HEXSZ + 1];
	int r, rc;

	ipam_git_signature_release(out);
	if ((rc = check_policy(o, &file)))
		return rc;
	git_oid_cpy(&oid, id);
	git_oid_tostr(hex, sizeof(hex), id);
	out->checked = true;
	r = git_commit_extract_signature(&sig, &data, repo, &oid, NULL);
	if (r == GIT_ENOTFOUND) {
		out->reason = xstrdup("the commit is not signed");
		rc = 0;
		goto out;
	}
	if (r < 0) {
		rc = ipam_git_fail(IPAM_EIO, "git verify: commit %s", hex);
		goto out;
	}
	kind = ipam_git_signature_kind(sig.ptr, sig.size);
	if (kind != o->verify) {
		out->reason = xasprintf(
			"signed with %s, but source.verify wants %s signatures",
			kind == IPAM_VERIFY_SSH	      ? "an SSH signature"
			: kind == IPAM_VERIFY_OPENPGP ? "an OpenPGP signature"
						      : "an unknown signature",
			o->verify == IPAM_VERIFY_SSH ? "SSH" : "OpenPGP");
		rc = 0;
		goto out;
	}
	if (sig.size > MAX_SIGNATURE) {
		out->reason = xasprintf("the signature is larger than %u KiB",
					MAX_SIGNATURE >> 10);
		rc = 0;
		goto out;
	}
	rc = check_signature(out, &sig, &data, file, kind);
	if (rc)
		ipam_error_prefix(rc, "git verify: commit %.12s", hex);
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	if (!rc && !out->good && !out->reason)
		out->reason = xstrdup("the signature was not accepted");
	return rc;
}

int ipam_git_verify(struct ipam_git_signature *out, const char *repo_path,
		    const char *commit, const struct ipam_git_opts *o)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = ipam_git_init()))
		return rc;
	if (git_repository_open_ext(&repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return ipam_git_fail(IPAM_EIO, "git verify: repository '%s'",
				     repo_path);
	if (git_revparse_single(&obj, repo, commit) < 0) {
		rc = ipam_git_fail(IPAM_ENOTFOUND, "git verify: commit '%s'",
				   commit);
		goto out;
	}
	rc = ipam_git_verify_commit(out, repo, git_object_id(obj), o);
out:
	git_object_free(obj);
	git_repository_free(repo);
	return rc;
}
