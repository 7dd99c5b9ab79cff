/*
 * The lab's directories answer LDAP as ipamctl will use them: StartTLS and
 * LDAPS with the lab CA, simple bind as the admin UPN with a password file,
 * and hold the fixture servers of tests/fixtures/lab/README.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "labtest.h"

static const char *const corp_computers[] = {"APP1", "APP2",  "DC1",   "DC2",
					     "DC3",  "DC4",   "DHCP1", "DHCP2",
					     "DNS1", "IPAM1", "NPS1",  NULL};
static const char *const branch_computers[] = {"BDC2", "BDHCP1", "BSRV1", "DC2",
					       NULL};
static const char *const corp_dcs[] = {"DC1", "DC2", "DC3", "DC4", NULL};
static const char *const branch_dcs[] = {"BDC2", "DC2", NULL};

static const char *const corp_dhcp_objects[] = {
	"DhcpRoot", "dhcp1.corp.example.test", "dhcp2.corp.example.test",
	"dhcp9.corp.example.test", NULL};
static const char *const corp_dhcp_root[] = {
	"i198.51.100.10$rcn=dhcp1.corp.example.test$f0x00000000$"
	"sdhcp1.corp.example.test$",
	"i198.51.100.11$rcn=dhcp2.corp.example.test$f0x00000000$"
	"sdhcp2.corp.example.test$",
	"i198.51.100.19$rcn=dhcp9.corp.example.test$f0x00000000$"
	"sdhcp9.corp.example.test$",
	NULL};
static const char *const branch_dhcp_objects[] = {
	"DhcpRoot", "bdhcp1.branch.example.test", NULL};
static const char *const branch_dhcp_root[] = {
	"i198.51.100.20$rcn=bdhcp1.branch.example.test$f0x00000000$"
	"sbdhcp1.branch.example.test$",
	NULL};

#define DC_FILTER                                                              \
	"(&(objectCategory=computer)"                                          \
	"(userAccountControl:1.2.840.113556.1.4.803:=8192))"

enum transport { STARTTLS, LDAPS, PLAIN };

struct search {
	int forest;
	enum transport transport;
	const char *password_file; /* NULL: the admin's */
	const char *base;	   /* NULL: the domain's DN */
	const char *filter;
	const char *attr;
};

/* ldapsearch as the forest's admin; returns its run for inspection. */
static void ldapsearch(const struct search *s, struct lab_run *res)
{
	char ca_env[4096], base_buf[512];
	const char *env[] = {ca_env, "LDAPTLS_REQCERT=demand", NULL};
	const char *uri = lab_need_forest(
		s->forest, s->transport == LDAPS ? "LDAPS_URI" : "LDAP_URI");
	const char *user = lab_need_forest(s->forest, "ADMIN_USER");
	const char *pw =
		s->password_file
			? s->password_file
			: lab_need_forest(s->forest, "ADMIN_PASSWORD_FILE");
	const char *base = s->base;
	const char *argv[20];
	struct lab_run_opts opts = {.env = env, .timeout_ms = 30000};
	char *dn = NULL;
	int a = 0;

	snprintf(ca_env, sizeof(ca_env), "LDAPTLS_CACERT=%s",
		 lab_need_forest(s->forest, "CA"));
	if (base == NULL) {
		dn = lab_domain_dn(lab_need_forest(s->forest, "DOMAIN"));
		assert_non_null(dn);
		snprintf(base_buf, sizeof(base_buf), "%s", dn);
		free(dn);
		base = base_buf;
	}
	argv[a++] = "ldapsearch";
	argv[a++] = "-LLL";
	argv[a++] = "-x";
	if (s->transport == STARTTLS)
		argv[a++] = "-ZZ";
	argv[a++] = "-o";
	argv[a++] = "ldif-wrap=no";
	argv[a++] = "-H";
	argv[a++] = uri;
	argv[a++] = "-D";
	argv[a++] = user;
	argv[a++] = "-y";
	argv[a++] = pw;
	argv[a++] = "-b";
	argv[a++] = base;
	argv[a++] = s->filter;
	argv[a++] = s->attr;
	argv[a] = NULL;
	lab_must_run(argv, &opts, res);
}

/* Search and require success; return the sorted values of s->attr. */
static char **search_values(const struct search *s)
{
	struct lab_run res;
	char prefix[128];
	char **v;

	ldapsearch(s, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "ldapsearch"));
	snprintf(prefix, sizeof(prefix), "%s: ", s->attr);
	v = lab_collect_lines(res.out, prefix, NULL);
	assert_non_null(v);
	lab_run_free(&res);
	return v;
}

static void check_computers(int forest, const char *const *expected)
{
	struct search s = {.forest = forest,
			   .transport = STARTTLS,
			   .filter = "(objectCategory=computer)",
			   .attr = "cn"};
	char **cn = search_values(&s);

	lab_assert_set(cn, expected, "computers (StartTLS)");
	lab_strv_free(cn);
}

static void test_starttls_finds_corp_computers(void **state)
{
	(void)state;
	check_computers(1, corp_computers);
}

static void test_starttls_finds_branch_computers(void **state)
{
	(void)state;
	check_computers(2, branch_computers);
}

static void check_ldaps(int forest, const char *const *expected)
{
	struct search s = {.forest = forest,
			   .transport = LDAPS,
			   .filter = DC_FILTER,
			   .attr = "cn"};
	char **cn = search_values(&s);

	lab_assert_set(cn, expected, "domain controllers (LDAPS)");
	lab_strv_free(cn);
}

static void test_ldaps_finds_domain_controllers(void **state)
{
	(void)state;
	check_ldaps(1, corp_dcs);
	check_ldaps(2, branch_dcs);
}

static void check_one(int forest, const char *filter, const char *attr,
		      const char *expected)
{
	struct search s = {.forest = forest,
			   .transport = STARTTLS,
			   .filter = filter,
			   .attr = attr};
	const char *const want[] = {expected, NULL};
	char **v = search_values(&s);

	lab_assert_set(v, want, filter);
	lab_strv_free(v);
}

static void test_fixture_attributes(void **state)
{
	(void)state;
	check_one(1, "(cn=DC2)", "operatingSystemVersion", "10.0 (17763)");
	check_one(1, "(cn=DC2)", "userAccountControl", "532480");
	check_one(1, "(cn=DC3)", "operatingSystemVersion", "6.3 (9600)");
	check_one(1, "(cn=DC4)", "operatingSystemVersion", "5.2 (3790)");
	check_one(1, "(cn=DNS1)", "operatingSystemVersion", "6.1 (7601)");
	check_one(1, "(cn=DC1)", "operatingSystem", "Samba");
	check_one(1, "(servicePrincipalName=host/ipam1.corp.example.test)",
		  "dNSHostName", "ipam1.corp.example.test");
	check_one(2, "(cn=BDHCP1)", "operatingSystemVersion", "6.3 (9600)");
}

static void check_dhcp(int forest, const char *const *objects,
		       const char *const *root)
{
	char base[512], *dn;
	struct search s = {.forest = forest,
			   .transport = STARTTLS,
			   .base = base,
			   .filter = "(objectClass=dHCPClass)",
			   .attr = "cn"};
	char **v;

	dn = lab_domain_dn(lab_need_forest(forest, "DOMAIN"));
	assert_non_null(dn);
	snprintf(base, sizeof(base),
		 "CN=NetServices,CN=Services,CN=Configuration,%s", dn);
	free(dn);

	v = search_values(&s);
	lab_assert_set(v, objects, "dHCPClass objects");
	lab_strv_free(v);

	s.filter = "(&(objectClass=dHCPClass)(cn=DhcpRoot))";
	s.attr = "dhcpServers";
	v = search_values(&s);
	lab_assert_set(v, root, "DhcpRoot dhcpServers");
	lab_strv_free(v);
}

static void test_dhcp_authorizations(void **state)
{
	(void)state;
	check_dhcp(1, corp_dhcp_objects, corp_dhcp_root);
	check_dhcp(2, branch_dhcp_objects, branch_dhcp_root);
}

static void test_wrong_password_is_rejected(void **state)
{
	char *dir = lab_mkdtemp(), path[4096];
	struct search s = {.forest = 1,
			   .transport = STARTTLS,
			   .password_file = path,
			   .filter = "(objectCategory=computer)",
			   .attr = "cn"};
	struct lab_run res;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/wrong.pw", dir);
	assert_int_equal(lab_write_file(path, "Wrong.Passw0rd", 14), 0);
	ldapsearch(&s, &res);
	assert_int_equal(res.exit_code, 49); /* invalidCredentials */
	assert_null(strstr(res.out, "cn: "));
	lab_run_free(&res);
	lab_rm_rf(dir);
	free(dir);
}

static void test_simple_bind_needs_tls(void **state)
{
	struct search s = {.forest = 1,
			   .transport = PLAIN,
			   .filter = "(objectCategory=computer)",
			   .attr = "cn"};
	struct lab_run res;

	(void)state;
	ldapsearch(&s, &res);
	assert_int_equal(res.exit_code, 8); /* strongerAuthRequired */
	lab_run_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starttls_finds_corp_computers),
		cmocka_unit_test(test_starttls_finds_branch_computers),
		cmocka_unit_test(test_ldaps_finds_domain_controllers),
		cmocka_unit_test(test_fixture_attributes),
		cmocka_unit_test(test_dhcp_authorizations),
		cmocka_unit_test(test_wrong_password_is_rejected),
		cmocka_unit_test(test_simple_bind_needs_tls),
	};

	return cmocka_run_group_tests_name("lab_ldap", tests, NULL, NULL);
}
