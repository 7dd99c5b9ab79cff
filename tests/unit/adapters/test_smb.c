/*
 * The pure parts of the SMB adapter: URLs and UNC names of GPO paths
 * (braces, spaces, both separators), the paths refused before any network
 * is touched, and the authentication file handed to smbcacls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "smb.h"
#include "strbuf.h"
#include "testutil.h"

#define GPO "{31B2F340-016D-11D2-945F-00C04FB984F9}"

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

static void test_authfile(void **state)
{
	char *dir = tmpdir_make(), *text, path[4096];
	struct stat st;
	size_t len;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/auth", dir);
	assert_int_equal(ipam_smb_write_authfile(path,
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
	assert_int_equal(ipam_smb_write_authfile(path, "a", "b"), IPAM_EIO);
	unlink(path);

	assert_int_equal(ipam_smb_write_authfile(path, "CORP\\ipam", "pw"), 0);
	text = slurp(path, &len);
	assert_string_equal(text, "domain = CORP\nusername = ipam\n"
				  "password = pw\n");
	free(text);
	unlink(path);

	/* What the format cannot carry is refused, and nothing written. */
	assert_int_equal(ipam_smb_write_authfile(path, "a%b", "pw"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_smb_write_authfile(path, "a", "p\nw"),
			 IPAM_EINVAL);
	assert_int_equal(ipam_smb_write_authfile(path, "a", " pw"),
			 IPAM_EINVAL);
	assert_null(strstr(ipam_error_last(), " pw"));
	assert_int_equal(ipam_smb_write_authfile(path, "", "pw"), IPAM_EINVAL);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_gpo_path),
		cmocka_unit_test(test_url_escaping),
		cmocka_unit_test(test_unc),
		cmocka_unit_test(test_refused_paths),
		cmocka_unit_test(test_refused_servers),
		cmocka_unit_test(test_authfile),
		cmocka_unit_test(test_connect_refuses_before_network),
	};

	return cmocka_run_group_tests_name("smb", tests, NULL, NULL);
}
