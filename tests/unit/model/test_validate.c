#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "validate.h"

#define SRC(text)                                                              \
	{                                                                      \
		"v.yaml", (text), sizeof(text) - 1                             \
	}
#define BASE                                                                   \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: gpo, gpoPrefix: IPAM}\n"

static char *messages(const struct ipam_source *src, struct ipam_desired **out)
{
	struct ipam_diags d = {0};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	ipam_config_load_sources(out, src, 1, &d);
	for (i = 0; i < d.nr; i++) {
		ipam_diag_format(&sb, &d.items[i]);
		strbuf_addch(&sb, '\n');
	}
	ipam_diags_free(&d);
	return strbuf_detach(&sb, NULL);
}

static void test_gpo_prefix_rule(void **state)
{
	(void)state;
	assert_true(ipam_validate_gpo_prefix("IPAM"));
	assert_true(ipam_validate_gpo_prefix("ipam-prod_2"));
	assert_true(ipam_validate_gpo_prefix("9"));
	assert_false(ipam_validate_gpo_prefix(""));
	assert_false(ipam_validate_gpo_prefix("_IPAM"));
	assert_false(ipam_validate_gpo_prefix("IPAM 1"));
	assert_false(ipam_validate_gpo_prefix("IPAM/1"));
	assert_false(ipam_validate_gpo_prefix("IPAM*"));
	assert_false(ipam_validate_gpo_prefix("IPAM)(cn=*"));
	assert_true(
		ipam_validate_gpo_prefix("A12345678901234567890123456789012345"
					 "6789012345678901234567890123"));
	assert_false(
		ipam_validate_gpo_prefix("A1234567890123456789012345678901234"
					 "567890123456789012345678901234"));
}

static void test_effective_connection_merges(void **state)
{
	const struct ipam_source src =
		SRC(BASE "connection:\n"
			 "  auth: simple\n"
			 "  user: ipamctl@corp.example.test\n"
			 "  passwordFile: /etc/ipamctl/pw\n"
			 "  caFile: /etc/ipamctl/ca.pem\n"
			 "  timeout: 7\n"
			 "discovery:\n"
			 "  - domain: corp.example.test\n"
			 "  - domain: branch.example.test\n"
			 "    connection:\n"
			 "      ldapUri: ldaps://dc1.branch.example.test\n"
			 "      passwordFile: /etc/ipamctl/branch-pw\n");
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);
	const struct ipam_domain *branch, *corp;

	(void)state;
	assert_string_equal(msg, "");
	branch = ipam_desired_find_domain(d, "branch.example.test");
	corp = ipam_desired_find_domain(d, "CORP.example.test");
	assert_non_null(branch);
	assert_non_null(corp);
	assert_int_equal(branch->effective.auth, IPAM_AUTH_SIMPLE);
	assert_string_equal(branch->effective.user.value,
			    "ipamctl@corp.example.test");
	assert_string_equal(branch->effective.password_file.value,
			    "/etc/ipamctl/branch-pw");
	assert_string_equal(branch->effective.ldap_uri.value,
			    "ldaps://dc1.branch.example.test");
	assert_int_equal(branch->effective.timeout, 7);
	assert_string_equal(corp->effective.password_file.value,
			    "/etc/ipamctl/pw");
	assert_null(corp->effective.ldap_uri.value);
	ipam_desired_free(d);
	free(msg);
}

/* Two nested discovery domains and a server in each. */
#define NESTED                                                                 \
	BASE "discovery:\n"                                                    \
	     "  - domain: corp.example.test\n"                                 \
	     "  - domain: sub.corp.example.test\n"                             \
	     "servers:\n"                                                      \
	     "  - name: dns1.sub.corp.example.test\n"                          \
	     "  - name: dns2.corp.example.test\n"

static void test_server_domain_longest_suffix(void **state)
{
	const struct ipam_source src =
		SRC(NESTED "  - name: xcorp.example.test.other.test\n"
			   "    roles: [nps]\n");
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);

	(void)state;
	/* "xcorp.example.test.other.test" is not under corp.example.test */
	assert_string_equal(
		msg, "v.yaml:10:11: server 'xcorp.example.test.other.test' "
		     "is in no discovery domain: add its domain to "
		     "'discovery'\n");
	assert_null(d);
	free(msg);
}

static void test_server_domains_assigned(void **state)
{
	const struct ipam_source src = SRC(NESTED);
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);

	(void)state;
	assert_string_equal(msg, "");
	assert_string_equal(
		ipam_desired_find_server(d, "dns1.sub.corp.example.test")
			->domain->name,
		"sub.corp.example.test");
	assert_string_equal(
		ipam_desired_find_server(d, "dns2.corp.example.test")
			->domain->name,
		"corp.example.test");
	ipam_desired_free(d);
	free(msg);
}

static void test_kerberos_with_password_warns(void **state)
{
	const struct ipam_source src =
		SRC(BASE "connection:\n"
			 "  passwordEnv: PW\n"
			 "discovery:\n"
			 "  - domain: corp.example.test\n");
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);

	(void)state;
	assert_non_null(d); /* a warning does not fail */
	assert_string_equal(msg, "v.yaml:5:16: warning: domain "
				 "'corp.example.test' uses auth 'kerberos': "
				 "the password is not used\n");
	ipam_desired_free(d);
	free(msg);
}

static void test_secret_key_variants(void **state)
{
	const struct ipam_source src =
		SRC(BASE "connection:\n"
			 "  Password: x\n"
			 "  clientSecret: y\n"
			 "  secretFile: /etc/ipamctl/s\n");
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);

	(void)state;
	assert_null(d);
	assert_non_null(strstr(msg, "v.yaml:5:3: inline secret 'Password'"));
	assert_non_null(
		strstr(msg, "v.yaml:6:3: inline secret 'clientSecret'"));
	/* a *File key names a file: unknown here, but not a secret */
	assert_non_null(strstr(msg, "v.yaml:7:3: unknown key 'secretFile'"));
	free(msg);
}

static void test_identity_principal_derived(void **state)
{
	const struct ipam_source src =
		SRC(BASE "identity:\n"
			 "  keytab: /etc/ipamctl/ipam1.keytab\n");
	struct ipam_desired *d = NULL;
	struct strbuf p = STRBUF_INIT;
	char *msg = messages(&src, &d);

	(void)state;
	assert_string_equal(msg, "");
	assert_non_null(d);
	ipam_identity_principal(&p, d);
	assert_string_equal(p.buf, "IPAM1$@CORP.EXAMPLE.TEST");
	assert_int_equal(d->identity.timeout, 0); /* default: 10 s */
	assert_string_equal(d->identity.keytab.value,
			    "/etc/ipamctl/ipam1.keytab");
	strbuf_release(&p);
	ipam_desired_free(d);
	free(msg);
}

static void test_identity_not_the_admin(void **state)
{
	/* the same account written as DOMAIN\name and as a principal */
	const struct ipam_source src =
		SRC(BASE "connection:\n"
			 "  auth: simple\n"
			 "  user: CORP\\svc-ipam\n"
			 "  passwordFile: /etc/ipamctl/pw\n"
			 "identity:\n"
			 "  keytab: /etc/ipamctl/svc.keytab\n"
			 "  principal: SVC-IPAM@CORP.EXAMPLE.TEST\n");
	const struct ipam_source ok =
		SRC(BASE "connection:\n"
			 "  auth: kerberos\n"
			 "  keytab: /etc/ipamctl/admin.keytab\n"
			 "  principal: admin@CORP.EXAMPLE.TEST\n"
			 "identity:\n"
			 "  keytab: /etc/ipamctl/admin.keytab\n");
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);

	(void)state;
	assert_null(d);
	assert_non_null(strstr(msg, "v.yaml:10:14: the identity "
				    "'SVC-IPAM@CORP.EXAMPLE.TEST' is the "
				    "administrative account of 'connection' "
				    "(v.yaml:6:9)"));
	free(msg);
	/* another principal, but the administrative keytab */
	msg = messages(&ok, &d);
	assert_null(d);
	assert_non_null(strstr(msg, "v.yaml:9:11: the identity's keytab "
				    "'/etc/ipamctl/admin.keytab' is the one "
				    "of the administrative connection"));
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpo_prefix_rule),
		cmocka_unit_test(test_effective_connection_merges),
		cmocka_unit_test(test_server_domain_longest_suffix),
		cmocka_unit_test(test_server_domains_assigned),
		cmocka_unit_test(test_kerberos_with_password_warns),
		cmocka_unit_test(test_secret_key_variants),
		cmocka_unit_test(test_identity_principal_derived),
		cmocka_unit_test(test_identity_not_the_admin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
