/*
 * Signed commits, as git verify-commit checks them: a repository made with
 * git(1) in a temporary directory, SSH keys from ssh-keygen and OpenPGP
 * keys from gpg in a private GNUPGHOME (the allowed one exported to a
 * keyring file for gpgv).  Commits signed by an allowed key, by a key not
 * in the list, unsigned, and tampered (the message rewritten, the gpgsig
 * header kept) are verified or refused with the right signer and reason,
 * by ipam_git_verify and by a fetch with a policy.  The parsers of
 * ssh-keygen's output and of gpgv's status lines are tested on their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "gitsrc.h"
#include "strbuf.h"
#include "testutil.h"

#define GIT "/usr/bin/git"

static char *tmp, *work, *bare;
static char *alice_key, *mallory_key, *allowed, *keyring;
static char *env[] = {
	NULL, /* HOME= */
	NULL, /* GNUPGHOME= */
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_AUTHOR_NAME=Ada Lovelace",
	"GIT_AUTHOR_EMAIL=ada@example.test",
	"GIT_COMMITTER_NAME=Ada Lovelace",
	"GIT_COMMITTER_EMAIL=ada@example.test",
	NULL,
};

enum {
	C_SSH,
	C_SSH_OTHER,
	C_PGP,
	C_PGP_OTHER,
	C_UNSIGNED,
	C_SSH_TAMPERED,
	C_PGP_TAMPERED,
	NCOMMIT
};
static char *sha[NCOMMIT];
static char *bob_fpr, *eve_fpr;

/* argv (NULL-terminated, argv[0] a path) in cwd; must succeed; its
 * stdout without the trailing newline. */
static char *run_v(const char *cwd, char *argv[])
{
	struct run_result r;
	size_t len;
	char *out;

	assert_int_equal(run_cmd(&r, cwd, env, argv), 0);
	if (r.status) {
		fprintf(stderr, "%s %s: status %d: %s%s\n", argv[0], argv[1],
			r.status, r.err, r.out);
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

static char *run_in(const char *cwd, const char *first, ...)
{
	char *argv[32];
	va_list ap;
	size_t n = 0;

	argv[n++] = (char *)(uintptr_t)first;
	va_start(ap, first);
	while ((argv[n] = va_arg(ap, char *)) && n < 31)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_v(cwd, argv);
}

#define run(...)     free(run_in(__VA_ARGS__, NULL))
#define run_out(...) run_in(__VA_ARGS__, NULL)

/* A commit of the work tree (one YAML file changed) signed as the
 * arguments say (none: unsigned); its id. */
static char *commit(const char *msg, const char *a1, const char *a2,
		    const char *a3, const char *a4)
{
	char *path = xasprintf("%s/ipamctl.yaml", work);
	char *text = xasprintf("# %s\nversion: 1\n", msg);

	assert_int_equal(write_file(path, text), 0);
	run(work, GIT, "add", "-A");
	if (a1)
		run(work, GIT, a1, a2, a3, a4, "commit", "-q", "-S", "-m", msg);
	else
		run(work, GIT, "commit", "-q", "-m", msg);
	free(path);
	free(text);
	return run_out(work, GIT, "rev-parse", "HEAD");
}

/* The commit id with its message rewritten, its gpgsig header kept. */
static char *tamper(const char *id)
{
	char *raw = run_out(work, GIT, "cat-file", "commit", id);
	char *path = xasprintf("%s/tampered", tmp), *at, *out;
	struct strbuf sb = STRBUF_INIT;

	at = strstr(raw, "\n\n");
	assert_non_null(at);
	strbuf_add(&sb, raw, (size_t)(at - raw) + 2);
	strbuf_addstr(&sb, "add dhcp9 behind the reviewers' back\n");
	assert_int_equal(write_file(path, sb.buf), 0);
	out = run_out(work, GIT, "hash-object", "-t", "commit", "-w", path);
	strbuf_release(&sb);
	free(raw);
	free(path);
	return out;
}

/* The fingerprint of a key gpg holds. */
static char *fingerprint(const char *uid)
{
	char *list = run_out(tmp, "/usr/bin/gpg", "--batch", "--with-colons",
			     "--fingerprint", uid);
	char *fpr = strstr(list, "\nfpr:::::::::");
	char *out;

	assert_non_null(fpr);
	fpr += strlen("\nfpr:::::::::");
	out = xstrndup(fpr, strcspn(fpr, ":"));
	free(list);
	return out;
}

static void gpg_key(const char *uid)
{
	run(tmp, "/usr/bin/gpg", "--batch", "-q", "--passphrase", "",
	    "--quick-gen-key", uid, "ed25519", "sign", "never");
}

static int setup(void **state)
{
	char *gnupg, *pub, *line, *ssh_a, *ssh_m, *pgp_b, *pgp_e;

	(void)state;
	tmp = tmpdir_make();
	env[0] = xasprintf("HOME=%s", tmp);
	gnupg = xasprintf("%s/gnupg", tmp);
	env[1] = xasprintf("GNUPGHOME=%s", gnupg);
	run(tmp, "/usr/bin/mkdir", "-m", "700", gnupg);

	alice_key = xasprintf("%s/alice", tmp);
	mallory_key = xasprintf("%s/mallory", tmp);
	run(tmp, "/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
	    "alice", "-f", alice_key);
	run(tmp, "/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
	    "mallory", "-f", mallory_key);
	pub = xasprintf("%s.pub", alice_key);
	line = slurp(pub, NULL);
	allowed = xasprintf("%s/allowed_signers", tmp);
	free(pub);
	pub = xasprintf("alice@example.test namespaces=\"git\" %s", line);
	assert_int_equal(write_file(allowed, pub), 0);
	free(pub);
	free(line);

	gpg_key("Bob <bob@example.test>");
	gpg_key("Eve <eve@example.test>");
	bob_fpr = fingerprint("bob@example.test");
	eve_fpr = fingerprint("eve@example.test");
	/* only Bob's key goes to the keyring gpgv reads */
	keyring = xasprintf("%s/signers.gpg", tmp);
	run(tmp, "/usr/bin/gpg", "--batch", "-q", "--output", keyring,
	    "--export", "bob@example.test");

	work = xasprintf("%s/work", tmp);
	bare = xasprintf("%s/origin.git", tmp);
	run(tmp, GIT, "init", "-q", "-b", "main", work);
	run(tmp, GIT, "init", "-q", "--bare", "-b", "main", bare);
	ssh_a = xasprintf("user.signingkey=%s", alice_key);
	ssh_m = xasprintf("user.signingkey=%s", mallory_key);
	pgp_b = xstrdup("user.signingkey=bob@example.test");
	pgp_e = xstrdup("user.signingkey=eve@example.test");
	sha[C_UNSIGNED] = commit("unsigned", NULL, NULL, NULL, NULL);
	sha[C_SSH] = commit("by alice", "-c", "gpg.format=ssh", "-c", ssh_a);
	sha[C_SSH_OTHER] =
		commit("by mallory", "-c", "gpg.format=ssh", "-c", ssh_m);
	sha[C_PGP] = commit("by bob", "-c", "gpg.format=openpgp", "-c", pgp_b);
	sha[C_PGP_OTHER] =
		commit("by eve", "-c", "gpg.format=openpgp", "-c", pgp_e);
	sha[C_SSH_TAMPERED] = tamper(sha[C_SSH]);
	sha[C_PGP_TAMPERED] = tamper(sha[C_PGP]);
	for (int i = 0; i < NCOMMIT; i++) {
		char *spec = xasprintf("%s:refs/heads/c%d", sha[i], i);

		run(work, GIT, "push", "-q", bare, spec);
		free(spec);
	}
	free(ssh_a);
	free(ssh_m);
	free(pgp_b);
	free(pgp_e);
	free(gnupg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* the agent gpg started for the keys */
	run(tmp, "/usr/bin/gpgconf", "--kill", "gpg-agent");
	tmpdir_remove(tmp);
	for (int i = 0; i < NCOMMIT; i++)
		free(sha[i]);
	free(bob_fpr);
	free(eve_fpr);
	free(work);
	free(bare);
	free(alice_key);
	free(mallory_key);
	free(allowed);
	free(keyring);
	free(env[0]);
	free(env[1]);
	return 0;
}

static void ssh_policy(struct ipam_git_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->verify = IPAM_VERIFY_SSH;
	o->allowed_signers = allowed;
}

static void pgp_policy(struct ipam_git_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->verify = IPAM_VERIFY_OPENPGP;
	o->keyring = keyring;
}

/* The verdict on commit c under o; it must be reached. */
static void verify(struct ipam_git_signature *s, int c,
		   const struct ipam_git_opts *o)
{
	int rc = ipam_git_verify(s, work, sha[c], o);

	if (rc)
		fail_msg("verify %s: %s", sha[c], ipam_error_last());
	assert_true(s->checked);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("'%s' not in '%s'", needle, hay ? hay : "(null)");
}

static void test_ssh_signed_by_an_allowed_key(void **state)
{
	struct ipam_git_opts o;
	struct ipam_git_signature s;

	(void)state;
	ssh_policy(&o);
	verify(&s, C_SSH, &o);
	assert_true(s.good);
	assert_string_equal(s.signer, "alice@example.test");
	assert_non_null(s.key);
	assert_true(!strncmp(s.key, "SHA256:", 7));
	assert_null(s.reason);
	ipam_git_signature_release(&s);
}

static void test_ssh_refusals(void **state)
{
	struct ipam_git_opts o;
	struct ipam_git_signature s;

	(void)state;
	ssh_policy(&o);
	/* a key not in the allowed signers: no signer, its key named */
	verify(&s, C_SSH_OTHER, &o);
	assert_false(s.good);
	assert_null(s.signer);
	assert_non_null(s.key);
	assert_true(!strncmp(s.key, "SHA256:", 7));
	assert_contains(s.reason, "not in the allowed signers");
	assert_contains(s.reason, allowed);
	ipam_git_signature_release(&s);

	/* the message rewritten under alice's signature */
	verify(&s, C_SSH_TAMPERED, &o);
	assert_false(s.good);
	assert_string_equal(s.signer, "alice@example.test");
	assert_contains(s.reason, "bad signature");
	ipam_git_signature_release(&s);

	verify(&s, C_UNSIGNED, &o);
	assert_false(s.good);
	assert_null(s.signer);
	assert_null(s.key);
	assert_string_equal(s.reason, "the commit is not signed");
	ipam_git_signature_release(&s);

	/* an OpenPGP signature where SSH ones are wanted */
	verify(&s, C_PGP, &o);
	assert_false(s.good);
	assert_contains(s.reason, "signed with an OpenPGP signature, but "
				  "source.verify wants SSH");
	ipam_git_signature_release(&s);
}

static void test_openpgp_signed_by_an_allowed_key(void **state)
{
	struct ipam_git_opts o;
	struct ipam_git_signature s;

	(void)state;
	pgp_policy(&o);
	verify(&s, C_PGP, &o);
	assert_true(s.good);
	assert_string_equal(s.signer, "Bob <bob@example.test>");
	assert_string_equal(s.key, bob_fpr);
	assert_null(s.reason);
	ipam_git_signature_release(&s);
}

static void test_openpgp_refusals(void **state)
{
	struct ipam_git_opts o;
	struct ipam_git_signature s;

	(void)state;
	pgp_policy(&o);
	verify(&s, C_PGP_OTHER, &o);
	assert_false(s.good);
	assert_null(s.signer);
	assert_string_equal(s.key, eve_fpr);
	assert_contains(s.reason, "not in the keyring");
	assert_contains(s.reason, keyring);
	ipam_git_signature_release(&s);

	verify(&s, C_PGP_TAMPERED, &o);
	assert_false(s.good);
	assert_string_equal(s.signer, "Bob <bob@example.test>");
	assert_contains(s.reason, "bad signature");
	ipam_git_signature_release(&s);

	verify(&s, C_UNSIGNED, &o);
	assert_false(s.good);
	assert_string_equal(s.reason, "the commit is not signed");
	ipam_git_signature_release(&s);

	verify(&s, C_SSH, &o);
	assert_false(s.good);
	assert_contains(s.reason, "signed with an SSH signature, but "
				  "source.verify wants OpenPGP");
	ipam_git_signature_release(&s);
}

/* A fetch with a policy reads the files of a good commit only. */
static void test_fetch_with_a_policy(void **state)
{
	struct ipam_git_opts o;
	struct ipam_git_snapshot snap;
	char *cache = xasprintf("%s/cache", tmp);

	(void)state;
	ssh_policy(&o);
	o.url = bare;
	o.cache_dir = cache;
	o.ref = "c0"; /* C_SSH */
	assert_int_equal(ipam_git_fetch(&snap, &o), 0);
	assert_string_equal(snap.commit, sha[C_SSH]);
	assert_true(snap.sig.checked && snap.sig.good);
	assert_string_equal(snap.sig.signer, "alice@example.test");
	assert_int_equal(snap.nr, 1);
	ipam_git_snapshot_release(&snap);

	o.ref = "c4"; /* C_UNSIGNED */
	assert_int_equal(ipam_git_fetch(&snap, &o), 0);
	assert_string_equal(snap.commit, sha[C_UNSIGNED]);
	assert_true(snap.sig.checked);
	assert_false(snap.sig.good);
	assert_string_equal(snap.sig.reason, "the commit is not signed");
	assert_int_equal(snap.nr, 0);
	assert_string_equal(snap.author, "Ada Lovelace <ada@example.test>");
	assert_string_equal(snap.subject, "unsigned");
	ipam_git_snapshot_release(&snap);

	/* without a policy nothing is checked */
	o.verify = IPAM_VERIFY_NONE;
	assert_int_equal(ipam_git_fetch(&snap, &o), 0);
	assert_false(snap.sig.checked);
	assert_int_equal(snap.nr, 1);
	ipam_git_snapshot_release(&snap);
	free(cache);
}

/* A policy that cannot be applied is an error, never a pass. */
static void test_policy_errors(void **state)
{
	struct ipam_git_opts o;
	struct ipam_git_signature s;
	char *missing = xasprintf("%s/no-such-file", tmp);

	(void)state;
	ssh_policy(&o);
	o.allowed_signers = "allowed_signers";
	assert_int_equal(ipam_git_verify(&s, work, sha[C_SSH], &o),
			 IPAM_EINVAL);
	assert_contains(ipam_error_last(), "absolute path");
	o.allowed_signers = missing;
	assert_int_equal(ipam_git_verify(&s, work, sha[C_SSH], &o), IPAM_EIO);
	assert_contains(ipam_error_last(), "cannot read the allowed signers");
	pgp_policy(&o);
	o.keyring = missing;
	assert_int_equal(ipam_git_verify(&s, work, sha[C_PGP], &o), IPAM_EIO);
	assert_contains(ipam_error_last(), "keyring");
	ipam_git_signature_release(&s);
	free(missing);
}

/* ---- the parsers alone ---- */

static void test_signature_kind(void **state)
{
	static const char ssh[] = "-----BEGIN SSH SIGNATURE-----\nU1NI\n";
	static const char pgp[] = "-----BEGIN PGP SIGNATURE-----\n\niHUE\n";

	(void)state;
	assert_int_equal(ipam_git_signature_kind(ssh, strlen(ssh)),
			 IPAM_VERIFY_SSH);
	assert_int_equal(ipam_git_signature_kind(pgp, strlen(pgp)),
			 IPAM_VERIFY_OPENPGP);
	assert_int_equal(ipam_git_signature_kind(ssh, 10), IPAM_VERIFY_NONE);
	assert_int_equal(ipam_git_signature_kind("-----BEGIN SIGNED", 17),
			 IPAM_VERIFY_NONE);
}

static void test_ssh_output(void **state)
{
	struct ipam_git_signature s = {0};
	char *p;

	(void)state;
	p = ipam_git_ssh_principal("\n  alice@example.test \nbob\n");
	assert_string_equal(p, "alice@example.test");
	free(p);
	assert_null(ipam_git_ssh_principal(""));
	assert_null(ipam_git_ssh_principal(" \n\n"));
	/* a principal's control characters do not reach a log line */
	p = ipam_git_ssh_principal("ev\033[1mil\n");
	assert_null(strchr(p, '\033'));
	free(p);

	ipam_git_ssh_verdict(&s,
			     "Good \"git\" signature for alice@example.test "
			     "with ED25519 key SHA256:AEF1TiOjyhmX4ofF\n",
			     0);
	assert_true(s.good);
	assert_string_equal(s.key, "SHA256:AEF1TiOjyhmX4ofF");
	assert_null(s.reason);
	ipam_git_signature_release(&s);

	/* stdout and stderr together, in either order */
	ipam_git_ssh_verdict(&s,
			     "Could not verify signature.\nSignature "
			     "verification failed: incorrect signature\n",
			     255);
	assert_false(s.good);
	assert_null(s.key);
	assert_string_equal(s.reason, "bad signature: Signature verification "
				      "failed: incorrect signature");
	ipam_git_signature_release(&s);

	/* good words with a failing status are not good */
	ipam_git_ssh_verdict(&s, "Good \"git\" signature with RSA key SHA256:x",
			     1);
	assert_false(s.good);
	assert_string_equal(s.key, "SHA256:x");
	assert_contains(s.reason, "status 1");
	ipam_git_signature_release(&s);

	ipam_git_ssh_verdict(&s, "", 255);
	assert_false(s.good);
	assert_string_equal(s.reason, "bad signature: ssh-keygen refused it");
	ipam_git_signature_release(&s);
}

#define FPR "3B55CC9B22C5B1CF1D6D9A773BFD281B245D14A8"
#define SUB "E36ECE40645FFB6F1903BA8482CB33F8807912CB"

static void test_gpgv_status(void **state)
{
	struct ipam_git_signature s = {0};

	(void)state;
	ipam_git_gpgv_verdict(
		&s,
		"[GNUPG:] NEWSIG bob@example.test\n"
		"[GNUPG:] KEY_CONSIDERED " FPR " 0\n"
		"[GNUPG:] GOODSIG 3BFD281B245D14A8 Bob <bob@example.test>\n"
		"[GNUPG:] VALIDSIG " SUB " 2026-12-07 1796618492 0 4 0 22 8 "
		"00 " FPR "\n",
		0, "/k");
	assert_true(s.good);
	assert_string_equal(s.signer, "Bob <bob@example.test>");
	assert_string_equal(s.key, FPR); /* the primary key's */
	assert_null(s.reason);
	ipam_git_signature_release(&s);

	ipam_git_gpgv_verdict(&s,
			      "[GNUPG:] NEWSIG eve@example.test\n"
			      "[GNUPG:] ERRSIG 82CB33F8807912CB 22 8 00 "
			      "1796618492 9 " SUB "\n"
			      "[GNUPG:] NO_PUBKEY 82CB33F8807912CB\n",
			      2, "/etc/ipamctl/signers.gpg");
	assert_false(s.good);
	assert_null(s.signer);
	assert_string_equal(s.key, SUB);
	assert_string_equal(s.reason, "signed by key " SUB ", which is not in "
				      "the keyring '/etc/ipamctl/signers.gpg'");
	ipam_git_signature_release(&s);

	/* an older gpgv: ERRSIG without a fingerprint */
	ipam_git_gpgv_verdict(&s,
			      "[GNUPG:] ERRSIG 82CB33F8807912CB 22 8 00 "
			      "1796618492 9\n",
			      2, "/k");
	assert_string_equal(s.key, "82CB33F8807912CB");
	ipam_git_signature_release(&s);

	ipam_git_gpgv_verdict(
		&s, "[GNUPG:] BADSIG 3BFD281B245D14A8 Bob <bob@example.test>\n",
		1, "/k");
	assert_false(s.good);
	assert_string_equal(s.signer, "Bob <bob@example.test>");
	assert_string_equal(s.key, "3BFD281B245D14A8");
	assert_contains(s.reason, "bad signature");
	ipam_git_signature_release(&s);

	ipam_git_gpgv_verdict(
		&s,
		"[GNUPG:] EXPKEYSIG 3BFD281B245D14A8 Bob <bob@example.test>\n"
		"[GNUPG:] VALIDSIG " FPR " 2026-12-07 1 0 4 0 22 8 00 " FPR
		"\n",
		0, "/k");
	assert_false(s.good);
	assert_string_equal(s.reason, "signed by an expired key");
	ipam_git_signature_release(&s);

	ipam_git_gpgv_verdict(
		&s,
		"[GNUPG:] REVKEYSIG 3BFD281B245D14A8 Bob <bob@example.test>\n",
		1, "/k");
	assert_string_equal(s.reason, "signed by a revoked key");
	ipam_git_signature_release(&s);

	/* GOODSIG alone (no VALIDSIG), or a failing exit status, is not
	 * good */
	ipam_git_gpgv_verdict(&s, "[GNUPG:] GOODSIG 3BFD281B245D14A8 Bob\n", 0,
			      "/k");
	assert_false(s.good);
	assert_contains(s.reason, "no VALIDSIG");
	ipam_git_signature_release(&s);
	ipam_git_gpgv_verdict(&s,
			      "[GNUPG:] GOODSIG 3BFD281B245D14A8 Bob\n"
			      "[GNUPG:] VALIDSIG " FPR " x 1 0 4 0 22 8 00 " FPR
			      "\n",
			      2, "/k");
	assert_false(s.good);
	ipam_git_signature_release(&s);

	/* lines that only look like status lines count for nothing */
	ipam_git_gpgv_verdict(&s,
			      "gpgv: [GNUPG:] GOODSIG 1 x\n[GNUPG:]\n"
			      "[GNUPG:] VALIDSIG\n",
			      0, "/k");
	assert_false(s.good);
	ipam_git_signature_release(&s);
	ipam_git_gpgv_verdict(&s, "", 2, "/k");
	assert_string_equal(s.reason, "no signature gpgv could read");
	ipam_git_signature_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_kind),
		cmocka_unit_test(test_ssh_output),
		cmocka_unit_test(test_gpgv_status),
		cmocka_unit_test(test_ssh_signed_by_an_allowed_key),
		cmocka_unit_test(test_ssh_refusals),
		cmocka_unit_test(test_openpgp_signed_by_an_allowed_key),
		cmocka_unit_test(test_openpgp_refusals),
		cmocka_unit_test(test_fetch_with_a_policy),
		cmocka_unit_test(test_policy_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
