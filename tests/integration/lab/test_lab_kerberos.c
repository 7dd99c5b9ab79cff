/*
 * Each forest's KDC issues tickets with the lab's krb5.conf: kinit with the
 * password on stdin and a private ccache, then a service ticket for the
 * DC's LDAP service; a wrong password gets nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labtest.h"

struct krb_env {
	char *dir;
	char conf[4200];
	char ccache[4200];
	const char *env[3];
	char principal[256];
};

static void krb_env_init(struct krb_env *k, int forest)
{
	k->dir = lab_mkdtemp();
	assert_non_null(k->dir);
	snprintf(k->conf, sizeof(k->conf), "KRB5_CONFIG=%s",
		 lab_need_forest(forest, "KRB5_CONFIG"));
	snprintf(k->ccache, sizeof(k->ccache), "KRB5CCNAME=FILE:%s/cc", k->dir);
	k->env[0] = k->conf;
	k->env[1] = k->ccache;
	k->env[2] = NULL;
	snprintf(k->principal, sizeof(k->principal), "Administrator@%s",
		 lab_need_forest(forest, "REALM"));
}

static void krb_env_free(struct krb_env *k)
{
	lab_rm_rf(k->dir);
	free(k->dir);
}

static void kinit(struct krb_env *k, const char *password, size_t len,
		  struct lab_run *res)
{
	const char *argv[] = {"kinit", k->principal, NULL};
	struct lab_run_opts opts = {.env = k->env,
				    .input = password,
				    .input_len = len,
				    .timeout_ms = 30000};

	lab_must_run(argv, &opts, res);
}

static void check_forest(int forest)
{
	struct krb_env k;
	struct lab_run res;
	struct lab_run_opts opts;
	char line[300], svc[300], *pw;
	size_t len;
	const char *klist[] = {"klist", NULL};
	const char *kvno[] = {"kvno", svc, NULL};

	krb_env_init(&k, forest);
	opts = (struct lab_run_opts){.env = k.env, .timeout_ms = 30000};
	pw = lab_need_file(lab_need_forest(forest, "ADMIN_PASSWORD_FILE"),
			   &len);
	kinit(&k, pw, len, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "kinit"));
	lab_run_free(&res);
	free(pw);

	lab_must_succeed(klist, &opts, &res);
	snprintf(line, sizeof(line), "Default principal: %s", k.principal);
	if (!lab_has_line(res.out, line))
		fail_msg("klist lacks '%s':\n%s", line, res.out);
	snprintf(line, sizeof(line), "krbtgt/%s@%s",
		 lab_need_forest(forest, "REALM"),
		 lab_need_forest(forest, "REALM"));
	assert_non_null(strstr(res.out, line));
	lab_run_free(&res);

	snprintf(svc, sizeof(svc), "ldap/%s", lab_need_forest(forest, "DC"));
	lab_must_succeed(kvno, &opts, &res);
	lab_run_free(&res);
	krb_env_free(&k);
}

static void test_kinit_corp(void **state)
{
	(void)state;
	check_forest(1);
}

static void test_kinit_branch(void **state)
{
	(void)state;
	check_forest(2);
}

static void test_kinit_wrong_password(void **state)
{
	static const char wrong[] = "Wrong.Passw0rd\n";
	struct krb_env k;
	struct lab_run res;

	(void)state;
	krb_env_init(&k, 1);
	kinit(&k, wrong, sizeof(wrong) - 1, &res);
	assert_int_not_equal(res.exit_code, 0);
	if (strstr(res.err, "Password incorrect") == NULL)
		fail_msg("expected 'Password incorrect': %s",
			 lab_run_describe(&res, "kinit"));
	lab_run_free(&res);
	krb_env_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinit_corp),
		cmocka_unit_test(test_kinit_branch),
		cmocka_unit_test(test_kinit_wrong_password),
	};

	return cmocka_run_group_tests_name("lab_kerberos", tests, NULL, NULL);
}
