/*
 * SMB in the lab: each DC serves SYSVOL to its admin (UPN + password file),
 * and the audit file server at dhcp1.corp serves the dhcpaudit share, whose
 * DHCP audit logs the audit account can download byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labtest.h"

/* smbclient //host/share -U user -c command, password from PASSWD_FILE. */
static void smbclient(const char *host, const char *share, const char *user,
		      const char *password_file, const char *command,
		      struct lab_run *res)
{
	char service[512], pw_env[4096];
	const char *env[] = {pw_env, NULL};
	const char *argv[] = {"smbclient", service, "-U", user,
			      "-c",	   command, NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 30000};

	snprintf(service, sizeof(service), "//%s/%s", host, share);
	snprintf(pw_env, sizeof(pw_env), "PASSWD_FILE=%s", password_file);
	lab_must_run(argv, &opts, res);
}

/* Names of the entries an smbclient `ls` printed, "." and ".." left out. */
static char **ls_names(const char *out)
{
	char **lines = lab_lines(out, NULL), **names;
	size_t i, n = 0;

	assert_non_null(lines);
	for (i = 0; lines[i] != NULL; i++)
		;
	names = calloc(i + 1, sizeof(*names));
	assert_non_null(names);
	for (i = 0; lines[i] != NULL; i++) {
		char name[256], attr[16];
		unsigned long size;

		/* "  NAME   ATTR   SIZE  Date" (names here have no spaces) */
		if (sscanf(lines[i], " %255s %15s %lu", name, attr, &size) != 3)
			continue;
		if (strspn(attr, "DAHNRS") != strlen(attr))
			continue;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		names[n++] = strdup(name);
	}
	lab_strv_free(lines);
	return names;
}

static void check_sysvol(int forest)
{
	const char *domain = lab_need_forest(forest, "DOMAIN");
	const char *const want[] = {domain, NULL};
	struct lab_run res;
	char **names;

	smbclient(lab_need_forest(forest, "DC"), "sysvol",
		  lab_need_forest(forest, "ADMIN_USER"),
		  lab_need_forest(forest, "ADMIN_PASSWORD_FILE"), "ls", &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "smbclient sysvol"));
	names = ls_names(res.out);
	lab_assert_set(names, want, "SYSVOL root");
	lab_strv_free(names);
	lab_run_free(&res);
}

static void test_sysvol_corp(void **state)
{
	(void)state;
	check_sysvol(1);
}

static void test_sysvol_branch(void **state)
{
	(void)state;
	check_sysvol(2);
}

static void test_dhcpaudit_listing(void **state)
{
	static const char *const want[] = {"DhcpSrvLog-Mon.log",
					   "DhcpSrvLog-Tue.log",
					   "DhcpSrvLog-Wed.log", NULL};
	struct lab_run res;
	char **names;

	(void)state;
	smbclient(lab_need_env("IPAM_LAB_AUDIT_HOST"),
		  lab_need_env("IPAM_LAB_AUDIT_SHARE"),
		  lab_need_env("IPAM_LAB_AUDIT_USER"),
		  lab_need_env("IPAM_LAB_AUDIT_PASSWORD_FILE"), "ls", &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "smbclient dhcpaudit"));
	names = ls_names(res.out);
	lab_assert_set(names, want, "dhcpaudit");
	lab_strv_free(names);
	lab_run_free(&res);
}

static void test_dhcpaudit_get(void **state)
{
	char *dir = lab_mkdtemp(), local[4096], cmd[4200], fixture[4096];
	char *got, *want;
	size_t got_len, want_len;
	struct lab_run res;

	(void)state;
	assert_non_null(dir);
	snprintf(local, sizeof(local), "%s/Mon.log", dir);
	snprintf(cmd, sizeof(cmd), "get DhcpSrvLog-Mon.log %s", local);
	snprintf(fixture, sizeof(fixture), "%s/audit/DhcpSrvLog-Mon.log",
		 lab_need_env("IPAM_LAB_FIXTURES"));
	smbclient(lab_need_env("IPAM_LAB_AUDIT_HOST"),
		  lab_need_env("IPAM_LAB_AUDIT_SHARE"),
		  lab_need_env("IPAM_LAB_AUDIT_USER"),
		  lab_need_env("IPAM_LAB_AUDIT_PASSWORD_FILE"), cmd, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "smbclient get"));
	lab_run_free(&res);

	got = lab_need_file(local, &got_len);
	want = lab_need_file(fixture, &want_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	/* Windows audit logs: CRLF lines, the column header, a lease. */
	assert_non_null(strstr(got, "\r\nID,Date,Time,Description,IP Address,"
				    "Host Name,MAC Address,"));
	assert_non_null(strstr(got, "\r\n10,11/02/26,08:01:15,Assign,"
				    "198.51.100.101,ws101.corp.example.test,"));
	free(got);
	free(want);
	lab_rm_rf(dir);
	free(dir);
}

static void test_dhcpaudit_wrong_password(void **state)
{
	char *dir = lab_mkdtemp(), path[4096];
	struct lab_run res;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/wrong.pw", dir);
	assert_int_equal(lab_write_file(path, "Wrong.Passw0rd", 14), 0);
	smbclient(lab_need_env("IPAM_LAB_AUDIT_HOST"),
		  lab_need_env("IPAM_LAB_AUDIT_SHARE"),
		  lab_need_env("IPAM_LAB_AUDIT_USER"), path, "ls", &res);
	assert_int_not_equal(res.exit_code, 0);
	if (strstr(res.out, "NT_STATUS_LOGON_FAILURE") == NULL &&
	    strstr(res.err, "NT_STATUS_LOGON_FAILURE") == NULL)
		fail_msg("expected NT_STATUS_LOGON_FAILURE: %s",
			 lab_run_describe(&res, "smbclient"));
	lab_run_free(&res);
	lab_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysvol_corp),
		cmocka_unit_test(test_sysvol_branch),
		cmocka_unit_test(test_dhcpaudit_listing),
		cmocka_unit_test(test_dhcpaudit_get),
		cmocka_unit_test(test_dhcpaudit_wrong_password),
	};

	return cmocka_run_group_tests_name("lab_smb", tests, NULL, NULL);
}
