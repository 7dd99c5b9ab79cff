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

/* The message of a document of one file, d freed. */
static char *messages_of(const char *text, size_t len)
{
	const struct ipam_source src = {"v.yaml", text, len};
	struct ipam_desired *d = NULL;
	char *msg = messages(&src, &d);

	ipam_desired_free(d);
	return msg;
}

#define MSG(text) messages_of((text), sizeof(text) - 1)

/* An integer too large for any is out of range, with the key's range;
 * a !!int tag on words says the words are no integer. */
static void test_integer_messages(void **state)
{
	char *msg;

	(void)state;
	msg = MSG(BASE "safety:\n  maxRemovals: 9223372036854775808\n");
	assert_string_equal(msg, "v.yaml:5:16: 'maxRemovals' is out of range: "
				 "9223372036854775808 (it must be between 0 "
				 "and 9223372036854775807)\n");
	free(msg);
	msg = MSG(BASE "safety:\n  maxRemovals: 0x10000000000000000\n");
	assert_string_equal(msg, "v.yaml:5:16: 'maxRemovals' is out of range: "
				 "0x10000000000000000 (it must be between 0 "
				 "and 9223372036854775807)\n");
	free(msg);
	msg = MSG(BASE "connection:\n  timeout: -99999999999999999999\n");
	assert_string_equal(msg, "v.yaml:5:12: 'timeout' is out of range: "
				 "-99999999999999999999 (it must be between "
				 "1 and 3600)\n");
	free(msg);
	msg = MSG(BASE "safety:\n  maxRemovals: !!int ten\n");
	assert_string_equal(msg, "v.yaml:5:16: 'maxRemovals' must be an "
				 "integer: the value 'ten' is not one (tagged "
				 "!!int)\n");
	free(msg);
	/* unchanged: a float, a quoted number, and a tagged integer */
	msg = MSG(BASE "safety:\n  maxRemovals: 1.5\n");
	assert_string_equal(msg, "v.yaml:5:16: 'maxRemovals' must be an "
				 "integer, got a number\n");
	free(msg);
	msg = MSG(BASE "safety:\n  maxRemovals: \"5\"\n");
	assert_string_equal(msg, "v.yaml:5:16: 'maxRemovals' must be an "
				 "integer, got a string\n");
	free(msg);
	msg = MSG(BASE "safety:\n  maxRemovals: !!int \"7\"\n");
	assert_string_equal(msg, "");
	free(msg);
}

/* One value used twice through an alias is cited at the alias and at the
 * anchor, whether the alias stands for the name or the whole entry. */
static void test_alias_positions(void **state)
{
	char *msg;

	(void)state;
	msg = MSG(BASE "discovery:\n"
		       "  - domain: corp.example.test\n"
		       "servers:\n"
		       "  - &s\n"
		       "    name: dns1.corp.example.test\n"
		       "  - *s\n");
	assert_string_equal(msg, "v.yaml:9:5: server 'dns1.corp.example.test' "
				 "is declared twice (also at v.yaml:8:11)\n");
	free(msg);
	msg = MSG(BASE "discovery:\n"
		       "  - domain: corp.example.test\n"
		       "servers:\n"
		       "  - name: &n dns1.corp.example.test\n"
		       "  - name: *n\n");
	assert_string_equal(msg, "v.yaml:8:11: server 'dns1.corp.example.test' "
				 "is declared twice (also at v.yaml:7:11)\n");
	free(msg);
	msg = MSG(BASE "discovery:\n"
		       "  - &d\n"
		       "    domain: corp.example.test\n"
		       "  - *d\n");
	assert_string_equal(msg, "v.yaml:7:5: discovery domain "
				 "'corp.example.test' is declared twice (also "
				 "at v.yaml:6:13)\n");
	free(msg);
}

/* Line ends CR LF, CR alone (and LF): a bad byte, and a key libyaml
 * reports, are cited at the same line a reader counts. */
static void test_line_ends(void **state)
{
	char *msg;

	(void)state;
	msg = MSG("version: 1\ripamServer: ipam1.corp.example.test\r"
		  "provisioning: {method: manual}\rowner: \"a\xff"
		  "b\"\r");
	assert_string_equal(msg, "v.yaml:4:10: invalid UTF-8 byte 0xff: the "
				 "desired state must be UTF-8 text\n");
	free(msg);
	msg = MSG("version: 1\r\nipamServer: ipam1.corp.example.test\r\n"
		  "provisioning: {method: manual}\r\nowner: \"a\xff"
		  "b\"\r\n");
	assert_string_equal(msg, "v.yaml:4:10: invalid UTF-8 byte 0xff: the "
				 "desired state must be UTF-8 text\n");
	free(msg);
	msg = MSG("version: 1\ripamServer: ipam1.corp.example.test\r\n"
		  "provisioning: {method: manual}\nx: 1\r\r\ny: \"\xff\"\r");
	assert_string_equal(msg, "v.yaml:6:5: invalid UTF-8 byte 0xff: the "
				 "desired state must be UTF-8 text\n");
	free(msg);
	/* the parser's own count agrees */
	msg = MSG("version: 1\ripamServer: ipam1.corp.example.test\r\n"
		  "provisioning: {method: manual}\nx: 1\r\r\ny: 2\r");
	assert_string_equal(msg, "v.yaml:4:1: unknown key 'x' in the desired "
				 "state\n"
				 "v.yaml:6:1: unknown key 'y' in the desired "
				 "state\n");
	free(msg);
}

/* A key quoting ESC, BEL and CR: the diagnostic shows them escaped. */
static void test_key_with_controls(void **state)
{
	char *msg = MSG(BASE "\"k\\e]0;t\\a\\r\": 1\n");

	(void)state;
	assert_string_equal(msg, "v.yaml:4:1: unknown key "
				 "'k\\x1b]0;t\\x07\\r' in the desired state\n");
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
		cmocka_unit_test(test_integer_messages),
		cmocka_unit_test(test_alias_positions),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_key_with_controls),
		cmocka_unit_test(test_identity_principal_derived),
		cmocka_unit_test(test_identity_not_the_admin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
