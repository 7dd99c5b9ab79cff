/*
 * The lab environment as `ci/lab exec` hands it to tests: every documented
 * IPAM_LAB_* variable is set, the process runs in the lab's namespace,
 * secrets are 0600 files, and the ipamctl config references them instead of
 * holding them; the IPAM server's keytab gives ipam1$ a ticket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>

#include "labtest.h"

static const char *const forest_fields[] = {
	"REALM",       "DOMAIN",     "LDAP_URI",
	"CA",	       "ADMIN_USER", "ADMIN_PASSWORD_FILE",
	"KRB5_CONFIG", NULL};

static void test_variables(void **state)
{
	static const char *const global[] = {"IPAM_LAB_NETNS",
					     "IPAM_LAB_DIR",
					     "IPAM_LAB_CONFIG",
					     "IPAM_LAB_AUDIT_USER",
					     "IPAM_LAB_AUDIT_HOST",
					     "IPAM_LAB_AUDIT_PASSWORD_FILE",
					     "IPAM_LAB_IPAM_PRINCIPAL",
					     "IPAM_LAB_IPAM_KEYTAB",
					     "IPAM_LAB_IPAM_PASSWORD_FILE",
					     "IPAM_LAB_IPAM_SERVER",
					     NULL};
	char upn[256];
	size_t i;
	int n;

	(void)state;
	for (i = 0; global[i] != NULL; i++)
		lab_need_env(global[i]);
	for (n = 1; n <= 2; n++)
		for (i = 0; forest_fields[i] != NULL; i++)
			lab_need_forest(n, forest_fields[i]);
	assert_string_equal(lab_need_forest(1, "DOMAIN"), "corp.example.test");
	assert_string_equal(lab_need_forest(1, "REALM"), "CORP.EXAMPLE.TEST");
	assert_string_equal(lab_need_forest(2, "DOMAIN"),
			    "branch.example.test");
	assert_string_equal(lab_need_forest(2, "REALM"), "BRANCH.EXAMPLE.TEST");
	for (n = 1; n <= 2; n++) {
		snprintf(upn, sizeof(upn), "Administrator@%s",
			 lab_need_forest(n, "DOMAIN"));
		assert_string_equal(lab_need_forest(n, "ADMIN_USER"), upn);
	}
	/* The IPAM server's computer account, the probes' identity. */
	assert_string_equal(lab_need_env("IPAM_LAB_IPAM_PRINCIPAL"),
			    "IPAM1$@CORP.EXAMPLE.TEST");
	assert_string_equal(lab_need_env("IPAM_LAB_IPAM_SERVER"),
			    "ipam1.corp.example.test");
}

/* The keytab is the identity's secret: 0600, and it gives a ticket. */
static void test_ipam_keytab(void **state)
{
	const char *keytab = lab_need_env("IPAM_LAB_IPAM_KEYTAB");
	const char *principal = lab_need_env("IPAM_LAB_IPAM_PRINCIPAL");
	const char *kinit[] = {"kinit", "-k", "-t", keytab, principal, NULL};
	const char *klist[] = {"klist", NULL};
	char *dir = lab_mkdtemp(), cc[4200], want[512];
	const char *env[] = {cc, NULL};
	struct lab_run_opts o = {.env = env, .timeout_ms = 30000};
	struct lab_run res;
	struct stat st;

	(void)state;
	assert_non_null(dir);
	if (stat(keytab, &st) != 0)
		fail_msg("%s: %s", keytab, strerror(errno));
	if ((st.st_mode & 0777) != 0600)
		fail_msg("%s: mode %o, want 600", keytab, st.st_mode & 0777);
	snprintf(cc, sizeof(cc), "KRB5CCNAME=FILE:%s/cc", dir);
	lab_must_succeed(kinit, &o, &res);
	lab_run_free(&res);
	lab_must_succeed(klist, &o, &res);
	snprintf(want, sizeof(want), "Default principal: %s", principal);
	if (!lab_has_line(res.out, want))
		fail_msg("klist: no '%s' in %s", want, res.out);
	lab_run_free(&res);
	lab_rm_rf(dir);
	free(dir);
}

static void test_in_lab_namespace(void **state)
{
	const char *argv[] = {"ip", "netns", "identify", NULL};
	struct lab_run res;
	char *want;

	(void)state;
	lab_must_succeed(argv, NULL, &res);
	want = strdup(lab_need_env("IPAM_LAB_NETNS"));
	assert_non_null(want);
	if (!lab_has_line(res.out, want))
		fail_msg("ip netns identify said '%s', want '%s'", res.out,
			 want);
	free(want);
	lab_run_free(&res);
}

static void check_secret(const char *path)
{
	struct stat st;
	size_t len;
	char *s;

	if (stat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & 0777) != 0600)
		fail_msg("%s: mode %o, want 600", path, st.st_mode & 0777);
	s = lab_need_file(path, &len);
	assert_true(len >= 12);
	assert_null(memchr(s, '\n', len));
	free(s);
}

/* No file of the config dir may contain secret. */
static void check_not_in_config(const char *dir, const char *secret)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	int files = 0;

	if (d == NULL)
		fail_msg("IPAM_LAB_CONFIG %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char *text;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = lab_need_file(path, NULL);
		if (strstr(text, secret) != NULL)
			fail_msg("%s holds a password", path);
		files++;
		free(text);
	}
	closedir(d);
	assert_true(files > 0);
}

static void test_secrets(void **state)
{
	const char *cfg = lab_need_env("IPAM_LAB_CONFIG");
	char path[4096], *text;
	int n;

	(void)state;
	check_secret(lab_need_env("IPAM_LAB_AUDIT_PASSWORD_FILE"));
	check_secret(lab_need_env("IPAM_LAB_IPAM_PASSWORD_FILE"));
	for (n = 1; n <= 2; n++) {
		const char *pwfile = lab_need_forest(n, "ADMIN_PASSWORD_FILE");
		char *pw;

		check_secret(pwfile);
		pw = lab_need_file(pwfile, NULL);
		check_not_in_config(cfg, pw);
		free(pw);
	}

	/* Both forests are discovery domains; the password is a file
	 * reference. */
	snprintf(path, sizeof(path), "%s/ipamctl.yaml", cfg);
	text = lab_need_file(path, NULL);
	assert_non_null(strstr(text, "- domain: corp.example.test\n"));
	assert_non_null(strstr(text, "- domain: branch.example.test\n"));
	assert_non_null(
		strstr(text, lab_need_forest(1, "ADMIN_PASSWORD_FILE")));
	assert_non_null(strstr(text, lab_need_forest(1, "CA")));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_variables),
		cmocka_unit_test(test_in_lab_namespace),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_ipam_keytab),
	};

	return cmocka_run_group_tests_name("lab_env", tests, NULL, NULL);
}
