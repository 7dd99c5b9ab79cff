/*
 * The pure parts of the SMB adapter: URLs and UNC names of GPO paths
 * (braces, spaces, both separators), the paths refused before any network
 * is touched, and the authentication file handed to smbcacls: never on
 * disk, never in argv, and a run killed meanwhile leaves no secret behind;
 * libsmbclient is loaded at the first session, not when the program starts.
 */
#define _GNU_SOURCE /* strndup, nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "smb.h"
#include "smb_internal.h"
#include "smb_lib.h"
#include "strbuf.h"
#include "testutil.h"

#define GPO "{31B2F340-016D-11D2-945F-00C04FB984F9}"

/* Whether this process has libsmbclient mapped. */
static bool smbclient_mapped(void)
{
	char *maps = slurp("/proc/self/maps", NULL);
	bool yes;

	assert_non_null(maps);
	yes = strstr(maps, "/libsmbclient.so") != NULL;
	free(maps);
	return yes;
}

/* First of the tests: none before it may make a session. */
static void test_lib_loaded_on_first_use(void **state)
{
	const struct ipam_smb_lib *lib = NULL, *again = NULL;
	void *fn[sizeof(*lib) / sizeof(void *)];
	void *sym;

	(void)state;
	/* not linked: a program that speaks no SMB never loads it */
	assert_false(smbclient_mapped());
	assert_int_equal(ipam_smb_lib_load(&lib), 0);
	assert_non_null(lib);
	assert_true(smbclient_mapped());
	/* every function found (a pointer's bytes, as smb_lib.c copies
	 * them in) */
	memcpy(fn, lib, sizeof(fn));
	for (size_t i = 0; i < sizeof(fn) / sizeof(fn[0]); i++)
		assert_non_null(fn[i]);
	/* the library's own functions (new_context, the first): what the
	 * name resolves to in the global scope it was loaded into */
	sym = dlsym(RTLD_DEFAULT, "smbc_new_context");
	assert_non_null(sym);
	assert_memory_equal(&fn[0], &sym, sizeof(sym));
	assert_int_equal(ipam_smb_lib_load(&again), 0);
	assert_ptr_equal(again, lib);
}

static void check_url(const char *path, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(ipam_smb_url(&sb, "dc1.corp.example.test", path), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void check_unc(const char *path, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(ipam_smb_unc(&sb, "dc1", path), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_url_gpo_path(void **state)
{
	(void)state;
	check_url("sysvol/corp.example.test/Policies/" GPO "/GPT.INI",
		  "smb://dc1.corp.example.test/sysvol/corp.example.test/"
		  "Policies/%7B31B2F340-016D-11D2-945F-00C04FB984F9%7D/"
		  "GPT.INI");
	/* Backslashes, a leading and a trailing separator. */
	check_url("\\sysvol\\corp.example.test\\Policies\\" GPO "\\",
		  "smb://dc1.corp.example.test/sysvol/corp.example.test/"
		  "Policies/%7B31B2F340-016D-11D2-945F-00C04FB984F9%7D");
	check_url("sysvol", "smb://dc1.corp.example.test/sysvol");
}

static void test_url_escaping(void **state)
{
	(void)state;
	check_url("share/Windows NT/SecEdit/a%b#c&d",
		  "smb://dc1.corp.example.test/share/Windows%20NT/SecEdit/"
		  "a%25b%23c%26d");
	/* UTF-8 bytes, each escaped. */
	check_url("share/caf\xc3\xa9", "smb://dc1.corp.example.test/share/"
				       "caf%C3%A9");
	check_url("share/a~b_c-d.e", "smb://dc1.corp.example.test/share/"
				     "a~b_c-d.e");
}

static void test_unc(void **state)
{
	(void)state;
	check_unc("sysvol/corp.example.test/Policies/" GPO "/GPT.INI",
		  "\\\\dc1\\sysvol\\corp.example.test\\Policies\\" GPO
		  "\\GPT.INI");
	check_unc("share/Windows NT", "\\\\dc1\\share\\Windows NT");
}

static void refuse(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_error_clear();
	assert_int_equal(ipam_smb_url(&sb, "dc1", path), IPAM_EINVAL);
	assert_int_equal(sb.len, 0);
	assert_true(strstr(ipam_error_last(), "smb ") != NULL);
	assert_int_equal(ipam_smb_unc(&sb, "dc1", path), IPAM_EINVAL);
	strbuf_release(&sb);
}

static void test_refused_paths(void **state)
{
	(void)state;
	refuse("sysvol/corp.example.test/Policies/../../etc");
	refuse("sysvol/..");
	refuse("..");
	refuse("sysvol\\..\\x");
	refuse("sysvol/./x");
	refuse("sysvol//x");
	refuse("");
	refuse("/");
	refuse("sysvol/a:b");
	refuse("sysvol/a*");
	refuse("sysvol/a\nb");
	refuse("sysvol/a?b");
	/* ".." inside a name is a name. */
	check_url("sysvol/a..b", "smb://dc1.corp.example.test/sysvol/a..b");
}

static void test_refused_servers(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_smb_url(&sb, "", "sysvol"), IPAM_EINVAL);
	assert_int_equal(ipam_smb_url(&sb, "dc1/x", "sysvol"), IPAM_EINVAL);
	assert_int_equal(ipam_smb_url(&sb, "user:pw@dc1", "sysvol"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_smb_url(&sb, NULL, "sysvol"), IPAM_EINVAL);
	strbuf_release(&sb);
}

/* The authentication file's text (smbcacls reads it from a descriptor),
 * and the 0600, never-over-an-existing-file writer of the private files. */
static int write_authfile(const char *path, const char *user,
			  const char *password)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = ipam_smb_authfile_text(&sb, user, password);

	if (!rc)
		rc = ipam_smb_write_private(path, sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}

static void test_authfile(void **state)
{
	char *dir = tmpdir_make(), *text, path[4096];
	struct stat st;
	size_t len;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/auth", dir);
	assert_int_equal(write_authfile(path,
					"Administrator@corp."
					"example.test",
					"S3cret=pass word!"),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = slurp(path, &len);
	assert_non_null(text);
	assert_string_equal(text, "username = Administrator@corp.example.test\n"
				  "password = S3cret=pass word!\n");
	free(text);
	/* Never over an existing file (or a planted symlink). */
	assert_int_equal(write_authfile(path, "a", "b"), IPAM_EIO);
	unlink(path);

	assert_int_equal(write_authfile(path, "CORP\\ipam", "pw"), 0);
	text = slurp(path, &len);
	assert_string_equal(text, "domain = CORP\nusername = ipam\n"
				  "password = pw\n");
	free(text);
	unlink(path);

	/* What the format cannot carry is refused, and nothing written. */
	assert_int_equal(write_authfile(path, "a%b", "pw"), IPAM_EINVAL);
	assert_int_equal(write_authfile(path, "a", "p\nw"), IPAM_EINVAL);
	assert_int_equal(write_authfile(path, "a", " pw"), IPAM_EINVAL);
	assert_null(strstr(ipam_error_last(), " pw"));
	assert_int_equal(write_authfile(path, "", "pw"), IPAM_EINVAL);
	assert_int_not_equal(stat(path, &st), 0);
	tmpdir_remove(dir);
}

static void test_connect_refuses_before_network(void **state)
{
	struct ipam_smb_opts o = {.server = "dc1.corp.example.test",
				  .auth = IPAM_AUTH_SIMPLE,
				  .user = "Administrator"};
	struct ipam_smb *s = (struct ipam_smb *)&o;

	(void)state;
	/* No password. */
	assert_int_equal(ipam_smb_connect(&s, &o), IPAM_EINVAL);
	assert_null(s);
	/* A keytab without a principal. */
	o.auth = IPAM_AUTH_KERBEROS;
	o.keytab = "/nonexistent.keytab";
	assert_int_equal(ipam_smb_connect(&s, &o), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "principal"));
	/* A server that is no host name. */
	o.server = "dc1/sysvol";
	assert_int_equal(ipam_smb_connect(&s, &o), IPAM_EINVAL);
	ipam_smb_close(NULL);
	ipam_smb_dirents_free(NULL, 0);
}

#define PASSWORD "S3cret-pw-never-on-disk"

/* What a walk of the temporary directory found. */
static struct {
	int files, with_secret, readable, dirs;
} seen;

static int look(const char *path, const struct stat *st, int type,
		struct FTW *f)
{
	(void)f;
	if (type == FTW_D || type == FTW_DP) {
		seen.dirs++;
		if (st->st_mode & 077)
			seen.readable++;
		return 0;
	}
	seen.files++;
	if (st->st_mode & 077)
		seen.readable++;
	if (S_ISREG(st->st_mode)) {
		size_t len;
		char *text = slurp(path, &len);

		if (text && memmem(text, len, PASSWORD, strlen(PASSWORD)))
			seen.with_secret++;
		free(text);
	}
	return 0;
}

static void walk(const char *dir)
{
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(nftw(dir, look, 16, FTW_PHYS), 0);
}

/* Wait (at most 20 s) for path to exist. */
static int wait_for(const char *path)
{
	for (int i = 0; i < 2000; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (access(path, F_OK) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static long long read_pid(const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	long long pid = text ? atoll(text) : -1;

	free(text);
	return pid;
}

/* The child: what ipamctl does for a folder ACL, until it is killed. */
static void acl_get_in_child(void)
{
	struct ipam_smb *s = xcalloc(1, sizeof(*s));
	struct strbuf sb = STRBUF_INIT;

	s->server = xstrdup("dc1.corp.example.test");
	s->authname = xstrdup("CORP\\ipam");
	s->password = xstrdup(PASSWORD);
	s->timeout = 30;
	if (ipam_smb_private_dir_make(s) == 0)
		ipam_smb_acl_get(&sb, s, "sysvol/corp.example.test/Policies");
	_exit(0);
}

/*
 * A fake smbcacls first in PATH records its command line and what the
 * authentication file held, leaves a cache file as Samba would, and
 * sleeps; the process running it is killed with SIGKILL.  The password
 * reached the tool, yet was never in argv nor in any file under the
 * temporary directory, nothing there was readable by others, and the next
 * connection's sweep removes the dead run's directory.
 */
static void test_secret_after_kill(void **state)
{
	char *root = tmpdir_make(), path[4200], tmp[4096], rec[4096];
	char *old_path = xstrdup(getenv("PATH")), *old_tmp = NULL, *text;
	struct ipam_smb *s;
	long long tool, sleeper;
	size_t len;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(root);
	if (getenv("TMPDIR"))
		old_tmp = xstrdup(getenv("TMPDIR"));
	snprintf(tmp, sizeof(tmp), "%s/tmp", root);
	snprintf(rec, sizeof(rec), "%s/rec", root);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(mkdir(rec, 0700), 0);
	snprintf(path, sizeof(path), "%s/smbcacls", root);
	text = xasprintf("#!/bin/sh\n"
			 "for a; do case $a in\n"
			 "--authentication-file=*) f=${a#*=};;\n"
			 "--configfile=*) c=${a#*=};;\n"
			 "esac; done\n"
			 "cat \"$f\" >%s/auth\n"
			 ": >\"${c%%/*}/gencache.tdb\"\n"
			 "sleep 30 & echo $! >%s/sleep\n"
			 "echo $$ >%s/pid.tmp && mv %s/pid.tmp %s/pid\n"
			 "wait\n",
			 rec, rec, rec, rec, rec);
	assert_int_equal(write_file(path, text), 0);
	free(text);
	assert_int_equal(chmod(path, 0700), 0);
	text = xasprintf("%s:%s", root, old_path);
	setenv("PATH", text, 1);
	free(text);
	setenv("TMPDIR", tmp, 1);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		acl_get_in_child();
	snprintf(path, sizeof(path), "%s/pid", rec);
	assert_int_equal(wait_for(path), 0);
	tool = read_pid(path);
	snprintf(path, sizeof(path), "%s/sleep", rec);
	sleeper = read_pid(path);

	/* It got the password, but not through argv. */
	snprintf(path, sizeof(path), "%s/auth", rec);
	text = slurp(path, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "password = " PASSWORD "\n"));
	free(text);
	snprintf(path, sizeof(path), "/proc/%lld/cmdline", tool);
	text = slurp(path, &len);
	assert_non_null(text);
	assert_null(memmem(text, len, PASSWORD, strlen(PASSWORD)));
	assert_non_null(memmem(text, len, "--authentication-file=",
			       strlen("--authentication-file=")));
	free(text);

	/* While it runs: no secret on disk, nothing for others. */
	walk(tmp);
	assert_int_equal(seen.with_secret, 0);
	assert_int_equal(seen.readable, 0);
	assert_true(seen.files >= 3); /* smb.conf, owner, gencache.tdb */

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	kill((pid_t)tool, SIGKILL);
	kill((pid_t)sleeper, SIGKILL);
	walk(tmp);
	assert_int_equal(seen.with_secret, 0);
	assert_true(seen.dirs > 1); /* the killed run's directory is left */

	/* The next run sweeps it (and makes its own, then removes it). */
	s = xcalloc(1, sizeof(*s));
	assert_int_equal(ipam_smb_private_dir_make(s), 0);
	walk(tmp);
	assert_int_equal(seen.dirs, 3); /* tmp, ours, ours/private */
	assert_int_equal(seen.readable, 0);
	ipam_smb_private_dir_remove(s->dir);
	walk(tmp);
	assert_int_equal(seen.dirs, 1);
	free(s->dir);
	free(s->conf);
	free(s);

	setenv("PATH", old_path, 1);
	if (old_tmp)
		setenv("TMPDIR", old_tmp, 1);
	else
		unsetenv("TMPDIR");
	free(old_path);
	free(old_tmp);
	tmpdir_remove(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lib_loaded_on_first_use),
		cmocka_unit_test(test_url_gpo_path),
		cmocka_unit_test(test_url_escaping),
		cmocka_unit_test(test_unc),
		cmocka_unit_test(test_refused_paths),
		cmocka_unit_test(test_refused_servers),
		cmocka_unit_test(test_authfile),
		cmocka_unit_test(test_connect_refuses_before_network),
		cmocka_unit_test(test_secret_after_kill),
	};

	return cmocka_run_group_tests_name("smb", tests, NULL, NULL);
}
