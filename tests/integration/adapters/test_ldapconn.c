/*
 * The LDAP adapter against the lab's Samba DCs: simple binds over StartTLS
 * and LDAPS, Kerberos from a credential cache and from a keytab, paged
 * searches that agree with ldapsearch, and every failure mapped to the
 * code the header promises (unreachable, timeout, bad credentials, a
 * certificate that does not verify, a base that does not exist).  Writes:
 * add, modify, delete, delete of a tree, security descriptors with the
 * SD flags control, each checked with ldapsearch or samba-tool.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "labtest.h"

#include "error.h"
#include "ldapconn.h"
#include "sd.h"
#include "strbuf.h"

static const char *const corp_computers[] = {"APP1", "APP2",  "DC1",   "DC2",
					     "DC3",  "DC4",   "DHCP1", "DHCP2",
					     "DNS1", "IPAM1", "NPS1",  NULL};

/* A forest's admin, simple bind, with its password read from the lab. */
struct admin {
	struct ipam_ldapconn_opts o;
	char *password;
	char *dn;
};

static void admin_init(struct admin *a, int forest, const char *uri_field)
{
	size_t len;

	memset(a, 0, sizeof(*a));
	a->password = lab_need_file(
		lab_need_forest(forest, "ADMIN_PASSWORD_FILE"), &len);
	a->dn = lab_domain_dn(lab_need_forest(forest, "DOMAIN"));
	assert_non_null(a->dn);
	a->o.domain = lab_need_forest(forest, "DOMAIN");
	a->o.uri = lab_need_forest(forest, uri_field);
	a->o.auth = IPAM_AUTH_SIMPLE;
	a->o.user = lab_need_forest(forest, "ADMIN_USER");
	a->o.password = a->password;
	a->o.ca_file = lab_need_forest(forest, "CA");
	a->o.timeout = 10;
}

static void admin_free(struct admin *a)
{
	free(a->password);
	free(a->dn);
}

static struct ipam_ldapconn *must_connect(const struct ipam_ldapconn_opts *o)
{
	struct ipam_ldapconn *l = NULL;

	ipam_error_clear();
	if (ipam_ldapconn_connect(&l, o) != 0)
		fail_msg("connect %s: %s", o->uri ? o->uri : "(SRV)",
			 ipam_error_last());
	assert_non_null(l);
	return l;
}

static int must_fail(const struct ipam_ldapconn_opts *o)
{
	struct ipam_ldapconn *l = NULL;
	int rc;

	ipam_error_clear();
	rc = ipam_ldapconn_connect(&l, o);
	if (rc == 0)
		fail_msg("connect %s succeeded", o->uri ? o->uri : "(SRV)");
	assert_null(l);
	return rc;
}

static void check_rootdse(const struct ipam_ldapconn *l, const char *dn)
{
	char config[512];

	snprintf(config, sizeof(config), "CN=Configuration,%s", dn);
	assert_string_equal(ipam_ldapconn_default_nc(l), dn);
	assert_string_equal(ipam_ldapconn_root_domain_nc(l), dn);
	assert_string_equal(ipam_ldapconn_config_nc(l), config);
}

static void check_simple(int forest, const char *uri_field)
{
	struct admin a;
	struct ipam_ldapconn *l;

	admin_init(&a, forest, uri_field);
	l = must_connect(&a.o);
	assert_string_equal(ipam_ldapconn_uri(l), a.o.uri);
	check_rootdse(l, a.dn);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static void test_simple_starttls(void **state)
{
	(void)state;
	check_simple(1, "LDAP_URI");
	check_simple(2, "LDAP_URI");
}

static void test_simple_ldaps(void **state)
{
	(void)state;
	check_simple(1, "LDAPS_URI");
	check_simple(2, "LDAPS_URI");
}

/* Values of one attribute, collected by a search callback. */
struct collect {
	const char *attr;
	char **v;
	size_t nr, alloc;
	size_t entries;
	size_t stop_after; /* 0: never stop */
};

static int collect_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct collect *c = ctx;
	const struct ipam_ldapconn_value *v;
	size_t nr, i;

	assert_non_null(e->dn);
	c->entries++;
	v = ipam_ldapconn_entry_values(e, c->attr, &nr);
	for (i = 0; i < nr; i++) {
		/* NUL-terminated, as the header promises. */
		assert_int_equal(v[i].data[v[i].len], '\0');
		ALLOC_GROW(c->v, c->nr + 2, c->alloc);
		c->v[c->nr++] = xstrdup(v[i].data);
		c->v[c->nr] = NULL;
	}
	if (c->stop_after && c->entries == c->stop_after)
		return 7;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Search with the adapter; return the sorted values (NULL-terminated). */
static char **adapter_values(struct ipam_ldapconn *l, const char *base,
			     const char *filter, const char *attr,
			     size_t *entries)
{
	const char *const attrs[] = {attr, NULL};
	struct collect c = {.attr = attr};
	int rc;

	ALLOC_GROW(c.v, 1, c.alloc);
	c.v[0] = NULL;
	rc = ipam_ldapconn_search(l, base, IPAM_LDAPCONN_SUBTREE, filter, attrs,
				  collect_entry, &c);
	if (rc)
		fail_msg("search %s: %s", filter, ipam_error_last());
	qsort(c.v, c.nr, sizeof(*c.v), cmp_str);
	if (entries)
		*entries = c.entries;
	return c.v;
}

/* The same search with ldapsearch, as the independent witness. */
static char **ldapsearch_values(int forest, const char *base,
				const char *filter, const char *attr)
{
	char ca_env[4096], prefix[128];
	const char *env[] = {ca_env, "LDAPTLS_REQCERT=demand", NULL};
	const char *argv[] = {
		"ldapsearch", "-LLL",
		"-x",	      "-ZZ",
		"-o",	      "ldif-wrap=no",
		"-E",	      "pr=1000/noprompt",
		"-H",	      lab_need_forest(forest, "LDAP_URI"),
		"-D",	      lab_need_forest(forest, "ADMIN_USER"),
		"-y",	      lab_need_forest(forest, "ADMIN_PASSWORD_FILE"),
		"-b",	      base,
		filter,	      attr,
		NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 30000};
	struct lab_run res;
	char **v;

	snprintf(ca_env, sizeof(ca_env), "LDAPTLS_CACERT=%s",
		 lab_need_forest(forest, "CA"));
	snprintf(prefix, sizeof(prefix), "%s: ", attr);
	lab_must_succeed(argv, &opts, &res);
	v = lab_collect_lines(res.out, prefix, NULL);
	assert_non_null(v);
	lab_run_free(&res);
	return v;
}

static void check_computers(const char *page_size)
{
	struct admin a;
	struct ipam_ldapconn *l;
	char **got, **want;
	size_t entries = 0, n = 0;

	if (page_size)
		setenv("IPAM_LDAPCONN_PAGE_SIZE", page_size, 1);
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	unsetenv("IPAM_LDAPCONN_PAGE_SIZE");
	got = adapter_values(l, a.dn, "(objectCategory=computer)", "cn",
			     &entries);
	want = ldapsearch_values(1, a.dn, "(objectCategory=computer)", "cn");
	lab_assert_set(got, (const char *const *)want,
		       "computers: adapter vs ldapsearch");
	lab_assert_set(got, corp_computers, "computers: adapter vs fixtures");
	while (got[n])
		n++;
	assert_int_equal(entries, n);
	lab_strv_free(want);
	lab_strv_free(got);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static void test_paged_search_matches_ldapsearch(void **state)
{
	(void)state;
	check_computers(NULL);
}

static void test_small_pages(void **state)
{
	(void)state;
	check_computers("1");
	check_computers("3");
}

/* The bytes of one entry's objectGUID and objectSid, kept past the callback. */
struct ids {
	struct strbuf guid, sid;
	int entries;
};

static int grab_ids(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct ids *ids = ctx;
	const struct ipam_ldapconn_value *v;
	size_t nr;

	ids->entries++;
	v = ipam_ldapconn_entry_values(e, "objectGUID", &nr);
	assert_int_equal(nr, 1);
	assert_int_equal(ipam_ldapconn_guid_text(&ids->guid, v->data, v->len),
			 0);
	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	assert_int_equal(nr, 1);
	assert_int_equal(ipam_ldapconn_sid_text(&ids->sid, v->data, v->len), 0);
	return 0;
}

/* GUID and SID text agree with Samba's own rendering of them. */
static void test_guid_and_sid(void **state)
{
	static const char *const attrs[] = {"objectGUID", "objectSid", NULL};
	struct admin a;
	struct ipam_ldapconn *l;
	struct ids ids = {STRBUF_INIT, STRBUF_INIT, 0};
	char pw_env[4200], line[256];
	const char *env[] = {pw_env, NULL};
	const char *argv[] = {"samba-tool",
			      "computer",
			      "show",
			      "DC1",
			      "-H",
			      lab_need_forest(1, "LDAP_URI"),
			      "-U",
			      lab_need_forest(1, "ADMIN_USER"),
			      "--attributes=objectGUID,objectSid",
			      NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 60000};
	struct lab_run res;
	int rc;

	(void)state;
	snprintf(pw_env, sizeof(pw_env), "PASSWD_FILE=%s",
		 lab_need_forest(1, "ADMIN_PASSWORD_FILE"));
	admin_init(&a, 1, "LDAPS_URI");
	l = must_connect(&a.o);
	rc = ipam_ldapconn_search(l, a.dn, IPAM_LDAPCONN_SUBTREE,
				  "(&(objectCategory=computer)(cn=DC1))", attrs,
				  grab_ids, &ids);
	if (rc)
		fail_msg("%s", ipam_error_last());
	assert_int_equal(ids.entries, 1);
	assert_true(strncmp(ids.sid.buf, "S-1-5-21-", 9) == 0);

	lab_must_succeed(argv, &opts, &res);
	snprintf(line, sizeof(line), "objectGUID: %s", ids.guid.buf);
	if (!lab_has_line(res.out, line))
		fail_msg("samba-tool lacks '%s':\n%s", line, res.out);
	snprintf(line, sizeof(line), "objectSid: %s", ids.sid.buf);
	if (!lab_has_line(res.out, line))
		fail_msg("samba-tool lacks '%s':\n%s", line, res.out);
	lab_run_free(&res);
	strbuf_release(&ids.guid);
	strbuf_release(&ids.sid);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

/* Stopping from the callback returns its value; the connection lives on. */
static void test_stop_early(void **state)
{
	static const char *const attrs[] = {"cn", NULL};
	struct admin a;
	struct ipam_ldapconn *l;
	struct collect c = {.attr = "cn", .stop_after = 2};
	char **again;
	int rc;

	(void)state;
	setenv("IPAM_LDAPCONN_PAGE_SIZE", "1", 1);
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	unsetenv("IPAM_LDAPCONN_PAGE_SIZE");
	rc = ipam_ldapconn_search(l, a.dn, IPAM_LDAPCONN_SUBTREE,
				  "(objectCategory=computer)", attrs,
				  collect_entry, &c);
	assert_int_equal(rc, 7);
	assert_int_equal(c.entries, 2);
	lab_strv_free(c.v);
	again = adapter_values(l, a.dn, "(objectCategory=computer)", "cn",
			       NULL);
	lab_assert_set(again, corp_computers, "search after a stop");
	lab_strv_free(again);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static int never_called(void *ctx, const struct ipam_ldapconn_entry *e)
{
	(void)ctx;
	fail_msg("unexpected entry %s", e->dn);
	return 0;
}

static void test_missing_base(void **state)
{
	static const char *const attrs[] = {"cn", NULL};
	struct admin a;
	struct ipam_ldapconn *l;
	char base[512], want[1024];
	int rc;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	snprintf(base, sizeof(base), "OU=Nowhere,%s", a.dn);
	rc = ipam_ldapconn_search(l, base, IPAM_LDAPCONN_SUBTREE,
				  "(objectClass=*)", attrs, never_called, NULL);
	assert_int_equal(rc, IPAM_ENOTFOUND);
	snprintf(want, sizeof(want), "ldap search '%s' on %s: No such object",
		 base, a.o.uri);
	if (strncmp(ipam_error_last(), want, strlen(want)) != 0)
		fail_msg("message '%s', want '%s...'", ipam_error_last(), want);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static size_t count_matches(struct ipam_ldapconn *l, const char *base,
			    const char *filter)
{
	size_t entries = 0;
	char **v = adapter_values(l, base, filter, "cn", &entries);

	lab_strv_free(v);
	return entries;
}

/* An escaped hostile value is one value: it matches nothing. */
static void test_hostile_value(void **state)
{
	static const char *const hostile[] = {"*", "x)(objectClass=*",
					      "*)(|(cn=*", "DC1)(cn=*"};
	struct admin a;
	struct ipam_ldapconn *l;
	struct strbuf f = STRBUF_INIT;
	size_t i;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	/* Unescaped, the first would match every computer. */
	assert_int_equal(
		count_matches(l, a.dn, "(&(objectCategory=computer)(cn=*))"),
		11);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		strbuf_reset(&f);
		strbuf_addstr(&f, "(&(objectCategory=computer)(cn=");
		ipam_ldapesc_filter(&f, hostile[i], strlen(hostile[i]));
		strbuf_addstr(&f, "))");
		if (count_matches(l, a.dn, f.buf) != 0)
			fail_msg("%s matched", f.buf);
	}
	/* Escaping keeps ordinary values working. */
	strbuf_reset(&f);
	strbuf_addstr(&f, "(&(objectCategory=computer)(cn=");
	ipam_ldapesc_filter(&f, "DC1", 3);
	strbuf_addstr(&f, "))");
	assert_int_equal(count_matches(l, a.dn, f.buf), 1);
	strbuf_release(&f);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static void test_wrong_password(void **state)
{
	static const char wrong[] = "Wrong.Passw0rd.4711";
	struct admin a;
	int rc;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	a.o.password = wrong;
	rc = must_fail(&a.o);
	assert_int_equal(rc, IPAM_EAUTH);
	if (!strstr(ipam_error_last(), a.o.user))
		fail_msg("message lacks the user: %s", ipam_error_last());
	assert_non_null(strstr(ipam_error_last(), "Invalid credentials"));
	assert_null(strstr(ipam_error_last(), wrong));
	assert_null(strstr(ipam_error_last(), a.password));
	admin_free(&a);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_closed_port(void **state)
{
	struct admin a;
	char uri[256];
	double t0;
	int rc;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	snprintf(uri, sizeof(uri), "ldap://%s:1", lab_need_forest(1, "DC"));
	a.o.uri = uri;
	a.o.timeout = 5;
	t0 = now();
	rc = must_fail(&a.o);
	assert_int_equal(rc, IPAM_EIO);
	assert_true(now() - t0 < 5.0);
	assert_non_null(strstr(ipam_error_last(), uri));
	admin_free(&a);
}

/* A peer that accepts the connection and then says nothing. */
static void check_silent_server(const char *scheme)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	struct admin a;
	char uri[256];
	double t0, took;
	int fd, rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(uri, sizeof(uri), "%s://127.0.0.1:%u", scheme,
		 (unsigned)ntohs(sin.sin_port));

	admin_init(&a, 1, "LDAP_URI");
	a.o.uri = uri;
	a.o.timeout = 2;
	t0 = now();
	rc = must_fail(&a.o);
	took = now() - t0;
	if (rc != IPAM_ETIMEOUT)
		fail_msg("%s: rc %d: %s", uri, rc, ipam_error_last());
	if (took < 1.5 || took > 6.0)
		fail_msg("%s: gave up after %.1f s, timeout 2 s", uri, took);
	close(fd);
	admin_free(&a);
}

static void test_silent_server(void **state)
{
	(void)state;
	check_silent_server("ldap");
	check_silent_server("ldaps");
}

/*
 * A CA that did not issue the DC's certificate: refused at the TLS step,
 * before any bind (the wrong password would otherwise give IPAM_EAUTH).
 */
static void check_wrong_ca(const char *uri_field)
{
	struct admin a;
	int rc;

	admin_init(&a, 1, uri_field);
	a.o.ca_file = lab_need_forest(2, "CA");
	a.o.password = "Wrong.Passw0rd.4711";
	rc = must_fail(&a.o);
	if (rc != IPAM_EINVAL)
		fail_msg("%s: rc %d: %s", uri_field, rc, ipam_error_last());
	assert_null(strstr(ipam_error_last(), "bind"));
	assert_non_null(strstr(ipam_error_last(), a.o.uri));
	assert_non_null(strstr(ipam_error_last(), "certificate"));
	admin_free(&a);
}

static void test_wrong_ca(void **state)
{
	(void)state;
	check_wrong_ca("LDAP_URI");
	check_wrong_ca("LDAPS_URI");
}

/* The certificate names dc1.corp.example.test, not the domain. */
static void test_hostname_checked(void **state)
{
	struct admin a;
	char uri[256];
	int rc;

	(void)state;
	admin_init(&a, 1, "LDAPS_URI");
	snprintf(uri, sizeof(uri), "ldaps://%s", lab_need_forest(1, "DOMAIN"));
	a.o.uri = uri;
	rc = must_fail(&a.o);
	if (rc != IPAM_EINVAL)
		fail_msg("rc %d: %s", rc, ipam_error_last());
	assert_non_null(strstr(ipam_error_last(), "certificate"));
	admin_free(&a);
}

/* A private directory, Kerberos set up for one forest. */
struct krb {
	char *dir;
	char ccache[4200];
	char keytab[4200];
	char default_cc[4200];
	char principal[256];
};

static void krb_init(struct krb *k, int forest)
{
	k->dir = lab_mkdtemp();
	assert_non_null(k->dir);
	setenv("KRB5_CONFIG", lab_need_forest(forest, "KRB5_CONFIG"), 1);
	snprintf(k->ccache, sizeof(k->ccache), "FILE:%s/cc", k->dir);
	snprintf(k->keytab, sizeof(k->keytab), "%s/admin.keytab", k->dir);
	/* Stands for the user's own cache: the adapter must not touch it. */
	snprintf(k->default_cc, sizeof(k->default_cc), "%s/default-cc", k->dir);
	setenv("KRB5CCNAME", k->default_cc, 1);
	unsetenv("KRB5_CLIENT_KTNAME");
	snprintf(k->principal, sizeof(k->principal), "Administrator@%s",
		 lab_need_forest(forest, "REALM"));
}

static void krb_free(struct krb *k)
{
	struct stat st;

	/* The user's cache was neither read into nor created. */
	assert_string_equal(getenv("KRB5CCNAME"), k->default_cc);
	assert_null(getenv("KRB5_CLIENT_KTNAME"));
	assert_int_not_equal(stat(k->default_cc, &st), 0);
	unsetenv("KRB5CCNAME");
	lab_rm_rf(k->dir);
	free(k->dir);
}

static void kinit(struct krb *k, int forest)
{
	char conf[4200], cc[4300];
	const char *env[] = {conf, cc, NULL};
	const char *argv[] = {"kinit", k->principal, NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 30000};
	struct lab_run res;
	size_t len;

	snprintf(conf, sizeof(conf), "KRB5_CONFIG=%s",
		 lab_need_forest(forest, "KRB5_CONFIG"));
	snprintf(cc, sizeof(cc), "KRB5CCNAME=%s", k->ccache);
	opts.input = lab_need_file(
		lab_need_forest(forest, "ADMIN_PASSWORD_FILE"), &len);
	opts.input_len = len;
	lab_must_succeed(argv, &opts, &res);
	lab_run_free(&res);
	free((char *)opts.input);
}

/* Samba's own tool, on the DC's database: no change to the directory. */
static void export_keytab(struct krb *k, int forest)
{
	char smbconf[4200], principal[300];
	const char *dir = lab_need_env("IPAM_LAB_DIR");
	const char *argv[] = {"samba-tool", "domain", "exportkeytab", k->keytab,
			      principal,    "-s",     smbconf,	      NULL};
	struct lab_run_opts opts = {.timeout_ms = 60000};
	struct lab_run res;

	snprintf(smbconf, sizeof(smbconf), "%s/%s/dc/etc/smb.conf", dir,
		 forest == 1 ? "corp" : "branch");
	snprintf(principal, sizeof(principal), "--principal=%s", k->principal);
	lab_must_succeed(argv, &opts, &res);
	lab_run_free(&res);
}

static struct ipam_ldapconn_opts kerberos_opts(int forest,
					       const char *uri_field)
{
	struct ipam_ldapconn_opts o = {
		.domain = lab_need_forest(forest, "DOMAIN"),
		.uri = lab_need_forest(forest, uri_field),
		.auth = IPAM_AUTH_KERBEROS,
		.ca_file = lab_need_forest(forest, "CA"),
		.timeout = 10,
	};

	return o;
}

static void check_kerberos_search(struct ipam_ldapconn *l, int forest)
{
	char *dn = lab_domain_dn(lab_need_forest(forest, "DOMAIN"));
	char **v;

	check_rootdse(l, dn);
	v = adapter_values(l, dn, "(objectCategory=computer)", "cn", NULL);
	if (forest == 1)
		lab_assert_set(v, corp_computers, "computers over kerberos");
	lab_strv_free(v);
	free(dn);
}

static void test_kerberos_ccache(void **state)
{
	struct krb k;
	struct ipam_ldapconn_opts o = kerberos_opts(1, "LDAP_URI");
	struct ipam_ldapconn *l;

	(void)state;
	krb_init(&k, 1);
	kinit(&k, 1);
	o.ccache = k.ccache;
	l = must_connect(&o);
	check_kerberos_search(l, 1);
	ipam_ldapconn_close(l);
	krb_free(&k);
}

static void test_kerberos_keytab(void **state)
{
	struct krb k;
	struct ipam_ldapconn_opts o = kerberos_opts(1, "LDAP_URI");
	struct ipam_ldapconn *l;
	int rc;

	(void)state;
	krb_init(&k, 1);
	export_keytab(&k, 1);
	o.keytab = k.keytab;
	l = must_connect(&o);
	check_kerberos_search(l, 1);
	ipam_ldapconn_close(l);

	o.principal = k.principal;
	l = must_connect(&o);
	ipam_ldapconn_close(l);

	/* Kerberos would take the keytab's first entry, not this one. */
	o.principal = "nobody@CORP.EXAMPLE.TEST";
	rc = must_fail(&o);
	assert_int_equal(rc, IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "nobody@"));
	krb_free(&k);
}

static void test_kerberos_no_credentials(void **state)
{
	struct krb k;
	struct ipam_ldapconn_opts o = kerberos_opts(1, "LDAP_URI");
	char empty[4300];
	int rc;

	(void)state;
	krb_init(&k, 1);
	snprintf(empty, sizeof(empty), "FILE:%s/empty-cc", k.dir);
	o.ccache = empty;
	rc = must_fail(&o);
	if (rc != IPAM_EAUTH)
		fail_msg("rc %d: %s", rc, ipam_error_last());
	o.ccache = NULL;
	o.keytab = "/nonexistent/ipamctl.keytab";
	rc = must_fail(&o);
	assert_int_equal(rc, IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), o.keytab));
	krb_free(&k);
}

/*
 * Samba 4.17 ("ldap server require strong auth = yes") refuses SASL both
 * with and without a security layer inside TLS: say so, plainly.
 */
static void test_kerberos_over_ldaps_refused_by_samba(void **state)
{
	struct krb k;
	struct ipam_ldapconn_opts o = kerberos_opts(1, "LDAPS_URI");
	int rc;

	(void)state;
	krb_init(&k, 1);
	kinit(&k, 1);
	o.ccache = k.ccache;
	rc = must_fail(&o);
	if (rc != IPAM_EINVAL)
		fail_msg("rc %d: %s", rc, ipam_error_last());
	assert_non_null(strstr(ipam_error_last(), "use an ldap:// uri"));
	krb_free(&k);
}

/* No URI: the DCs come from _ldap._tcp.dc._msdcs.<domain>. */
static void test_srv_lookup(void **state)
{
	struct admin a;
	struct ipam_ldapconn *l;
	char want[512];
	int forest;

	(void)state;
	for (forest = 1; forest <= 2; forest++) {
		admin_init(&a, forest, "LDAP_URI");
		a.o.uri = NULL;
		l = must_connect(&a.o);
		snprintf(want, sizeof(want), "ldap://%s:389",
			 lab_need_forest(forest, "DC"));
		assert_string_equal(ipam_ldapconn_uri(l), want);
		check_rootdse(l, a.dn);
		ipam_ldapconn_close(l);
		admin_free(&a);
	}
}

static void test_srv_lookup_no_records(void **state)
{
	struct admin a;
	int rc;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	a.o.uri = NULL;
	a.o.domain = "nowhere.example.test";
	rc = must_fail(&a.o);
	assert_int_equal(rc, IPAM_EIO);
	assert_non_null(strstr(ipam_error_last(), "nowhere.example.test"));
	admin_free(&a);
}

/* Writes.  Every object made here has a random name under CN=Users. */

#define VAL(s)                                                                 \
	{                                                                      \
		(s), sizeof(s) - 1                                             \
	}

static void rand_tag(char *buf, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, size, "%06lx",
		 ((unsigned long)ts.tv_nsec ^ (unsigned long)getpid() << 8 ^
		  (unsigned long)ts.tv_sec) &
			 0xffffffUL);
}

/* ldapsearch -s base on dn: its exit status (32: no such object). */
static int ldapsearch_base(int forest, const char *dn, const char *attr,
			   struct lab_run *res)
{
	char ca_env[4096];
	const char *env[] = {ca_env, "LDAPTLS_REQCERT=demand", NULL};
	const char *argv[] = {"ldapsearch",
			      "-LLL",
			      "-x",
			      "-ZZ",
			      "-o",
			      "ldif-wrap=no",
			      "-H",
			      lab_need_forest(forest, "LDAP_URI"),
			      "-D",
			      lab_need_forest(forest, "ADMIN_USER"),
			      "-y",
			      lab_need_forest(forest, "ADMIN_PASSWORD_FILE"),
			      "-s",
			      "base",
			      "-b",
			      dn,
			      "(objectClass=*)",
			      attr,
			      NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 30000};

	snprintf(ca_env, sizeof(ca_env), "LDAPTLS_CACERT=%s",
		 lab_need_forest(forest, "CA"));
	lab_must_run(argv, &opts, res);
	if (res->timed_out)
		fail_msg("%s", lab_run_describe(res, "ldapsearch"));
	return res->exit_code;
}

/* The values of attr on dn, by ldapsearch (the entry must exist). */
static char **witness_values(const char *dn, const char *attr)
{
	struct lab_run res;
	char prefix[128];
	char **v;

	if (ldapsearch_base(1, dn, attr, &res) != 0)
		fail_msg("%s: %s", dn, lab_run_describe(&res, "ldapsearch"));
	snprintf(prefix, sizeof(prefix), "%s: ", attr);
	v = lab_collect_lines(res.out, prefix, NULL);
	assert_non_null(v);
	lab_run_free(&res);
	return v;
}

static void assert_gone(const char *dn)
{
	struct lab_run res;

	if (ldapsearch_base(1, dn, "cn", &res) != 32)
		fail_msg("%s still there: %s", dn,
			 lab_run_describe(&res, "ldapsearch"));
	lab_run_free(&res);
}

static void assert_message(const char *want)
{
	if (strncmp(ipam_error_last(), want, strlen(want)) != 0)
		fail_msg("message '%s', want '%s...'", ipam_error_last(), want);
}

static void must_write(int rc, const char *what)
{
	if (rc != 0)
		fail_msg("%s: rc %d: %s", what, rc, ipam_error_last());
}

static void add_container(struct ipam_ldapconn *l, const char *dn)
{
	static const struct ipam_ldapconn_value oc[] = {VAL("container")};
	const struct ipam_ldapconn_mod mods[] = {
		{IPAM_LDAPCONN_MOD_ADD, "objectClass", oc, 1},
	};

	must_write(ipam_ldapconn_add(l, dn, mods, 1), dn);
}

static void test_write_group(void **state)
{
	static const struct ipam_ldapconn_value oc[] = {VAL("group")};
	static const struct ipam_ldapconn_value type[] = {VAL("-2147483640")};
	static const struct ipam_ldapconn_value first[] = {VAL("first words")};
	static const struct ipam_ldapconn_mod too_many[1001];
	struct admin a;
	struct ipam_ldapconn *l;
	char tag[16], name[32], dn[512], member[512], want[1200];
	struct ipam_ldapconn_value sam = {name, 0}, mem = {member, 0};
	struct ipam_ldapconn_mod mods[3] = {
		{IPAM_LDAPCONN_MOD_ADD, "objectClass", oc, 1},
		{IPAM_LDAPCONN_MOD_ADD, "sAMAccountName", &sam, 1},
		{IPAM_LDAPCONN_MOD_ADD, "groupType", type, 1},
	};
	struct ipam_ldapconn_mod mod = {IPAM_LDAPCONN_MOD_ADD, "member", &mem,
					1};
	char **v;
	int rc;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	rand_tag(tag, sizeof(tag));
	snprintf(name, sizeof(name), "ipamctl-test-%s", tag);
	sam.len = strlen(name);
	snprintf(dn, sizeof(dn), "CN=%s,CN=Users,%s", name, a.dn);
	snprintf(member, sizeof(member), "CN=IPAM1,CN=Computers,%s", a.dn);
	mem.len = strlen(member);

	must_write(ipam_ldapconn_add(l, dn, mods, 3), "add group");
	v = witness_values(dn, "sAMAccountName");
	lab_assert_set(v, (const char *const[]){name, NULL}, "sAMAccountName");
	lab_strv_free(v);
	v = witness_values(dn, "groupType");
	lab_assert_set(v, (const char *const[]){"-2147483640", NULL},
		       "groupType");
	lab_strv_free(v);

	/* The same DN again. */
	rc = ipam_ldapconn_add(l, dn, mods, 3);
	assert_int_equal(rc, IPAM_EEXISTS);
	snprintf(want, sizeof(want), "ldap add '%s' on %s: Already exists", dn,
		 a.o.uri);
	assert_message(want);

	must_write(ipam_ldapconn_modify(l, dn, &mod, 1), "add member");
	v = witness_values(dn, "member");
	if (!v[0] || v[1] || strcasecmp(v[0], member) != 0)
		fail_msg("member: '%s'", v[0] ? v[0] : "(none)");
	lab_strv_free(v);

	mod = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_REPLACE,
					 "description", first, 1};
	must_write(ipam_ldapconn_modify(l, dn, &mod, 1), "replace description");
	v = witness_values(dn, "description");
	lab_assert_set(v, (const char *const[]){"first words", NULL},
		       "description");
	lab_strv_free(v);
	mod = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_DELETE,
					 "description", NULL, 0};
	must_write(ipam_ldapconn_modify(l, dn, &mod, 1), "delete description");
	v = witness_values(dn, "description");
	lab_assert_set(v, (const char *const[]){NULL}, "description gone");
	lab_strv_free(v);

	/* Refused before anything is sent. */
	assert_int_equal(ipam_ldapconn_modify(l, dn, too_many, 1001),
			 IPAM_ELIMIT);
	assert_int_equal(ipam_ldapconn_modify(l, dn, mods, 0), IPAM_EINVAL);
	mod = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_ADD, "description",
					 NULL, 0};
	assert_int_equal(ipam_ldapconn_modify(l, dn, &mod, 1), IPAM_EINVAL);
	/* An add takes only additions. */
	mods[1].op = IPAM_LDAPCONN_MOD_REPLACE;
	assert_int_equal(ipam_ldapconn_add(l, dn, mods, 3), IPAM_EINVAL);

	/* The schema's refusal, with the server's words.  Samba answers "no
	 * such attribute" (16) for an attribute the schema lacks, where
	 * Windows says undefinedAttributeType (17); 16 maps to
	 * IPAM_ENOTFOUND so that deleting an absent value reads as such. */
	mod = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_REPLACE,
					 "noSuchAttrIpam", first, 1};
	rc = ipam_ldapconn_modify(l, dn, &mod, 1);
	if (rc != IPAM_ENOTFOUND)
		fail_msg("rc %d: %s", rc, ipam_error_last());
	snprintf(want, sizeof(want),
		 "ldap modify '%s' on %s: No such attribute", dn, a.o.uri);
	assert_message(want);
	/* Adding a member twice, or removing one that is not there: told
	 * apart from real errors, for an idempotent reconciler. */
	mod = (struct ipam_ldapconn_mod){IPAM_LDAPCONN_MOD_ADD, "description",
					 first, 1};
	must_write(ipam_ldapconn_modify(l, dn, &mod, 1), "add description");
	assert_int_equal(ipam_ldapconn_modify(l, dn, &mod, 1), IPAM_EEXISTS);
	mod.op = IPAM_LDAPCONN_MOD_DELETE;
	must_write(ipam_ldapconn_modify(l, dn, &mod, 1), "delete description");
	assert_int_equal(ipam_ldapconn_modify(l, dn, &mod, 1), IPAM_ENOTFOUND);

	must_write(ipam_ldapconn_delete(l, dn), "delete group");
	assert_gone(dn);
	rc = ipam_ldapconn_delete(l, dn);
	assert_int_equal(rc, IPAM_ENOTFOUND);
	snprintf(want, sizeof(want), "ldap delete '%s' on %s: No such object",
		 dn, a.o.uri);
	assert_message(want);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static int grab_sid(void *ctx, const struct ipam_ldapconn_entry *e)
{
	const struct ipam_ldapconn_value *v;
	size_t nr;

	v = ipam_ldapconn_entry_values(e, "objectSid", &nr);
	assert_int_equal(nr, 1);
	assert_int_equal(ipam_sid_from_bin(ctx, NULL, v->data, v->len), 0);
	return 0;
}

/* Inherited ACEs come back from the server; they are not ours to write. */
static void drop_inherited(struct ipam_sd *sd)
{
	size_t i, j;

	for (i = 0, j = 0; i < sd->dacl->count; i++) {
		if (sd->dacl->aces[i].flags & IPAM_ACE_ID)
			ipam_ace_clear(&sd->dacl->aces[i]);
		else
			sd->dacl->aces[j++] = sd->dacl->aces[i];
	}
	sd->dacl->count = j;
}

static struct ipam_sd *read_dacl(struct ipam_ldapconn *l, const char *dn)
{
	struct strbuf raw = STRBUF_INIT;
	struct ipam_sd *sd = NULL;

	must_write(ipam_ldapconn_read_sd(&raw, l, dn, IPAM_LDAPCONN_SD_DACL),
		   "read sd");
	if (ipam_sd_parse(&sd, raw.buf, raw.len) != 0)
		fail_msg("parse sd of %s: %s", dn, ipam_error_last());
	strbuf_release(&raw);
	/* DACL only, as asked. */
	assert_false(sd->has_owner);
	assert_false(sd->has_group);
	assert_null(sd->sacl);
	assert_non_null(sd->dacl);
	return sd;
}

static void test_write_sd(void **state)
{
	static const char *const sid_attrs[] = {"objectSid", NULL};
	struct admin a;
	struct ipam_ldapconn *l;
	struct ipam_sd *sd;
	struct ipam_ace ace = {.type = IPAM_ACE_ALLOWED,
			       .mask = IPAM_SD_MASK_GPO_READ};
	struct strbuf bin = STRBUF_INIT, sid = STRBUF_INIT;
	char tag[16], dn[512], computer[512], want[256], pw_env[4200];
	char objectdn[600];
	const char *env[] = {pw_env, NULL};
	const char *argv[] = {"samba-tool", "dsacl",
			      "get",	    objectdn,
			      "-H",	    lab_need_forest(1, "LDAP_URI"),
			      "-U",	    lab_need_forest(1, "ADMIN_USER"),
			      NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 60000};
	struct lab_run res;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	rand_tag(tag, sizeof(tag));
	snprintf(dn, sizeof(dn), "CN=ipamctl-sd-%s,CN=Users,%s", tag, a.dn);
	add_container(l, dn);
	snprintf(computer, sizeof(computer), "CN=IPAM1,CN=Computers,%s", a.dn);
	must_write(ipam_ldapconn_search(l, computer, IPAM_LDAPCONN_BASE,
					"(objectClass=*)", sid_attrs, grab_sid,
					&ace.sid),
		   "computer's SID");
	ipam_sid_format(&sid, &ace.sid);

	sd = read_dacl(l, dn);
	drop_inherited(sd);
	assert_int_equal(ipam_sd_ace_add(sd, &ace), 1);
	assert_int_equal(ipam_sd_write(&bin, sd), 0);
	ipam_sd_free(sd);
	must_write(ipam_ldapconn_write_sd(l, dn, bin.buf, bin.len,
					  IPAM_LDAPCONN_SD_DACL),
		   "write sd");

	/* Samba's own view of it. */
	snprintf(pw_env, sizeof(pw_env), "PASSWD_FILE=%s",
		 lab_need_forest(1, "ADMIN_PASSWORD_FILE"));
	snprintf(objectdn, sizeof(objectdn), "--objectdn=%s", dn);
	lab_must_succeed(argv, &opts, &res);
	snprintf(want, sizeof(want), "(A;;RPLCLORC;;;%s)", sid.buf);
	if (!strstr(res.out, want))
		fail_msg("dsacl lacks %s:\n%s", want, res.out);
	lab_run_free(&res);

	/* And ours, read again. */
	sd = read_dacl(l, dn);
	assert_true(ipam_sd_ace_find(sd, &ace) >= 0);
	ipam_sd_free(sd);

	/* Refused flags, a missing object. */
	assert_int_equal(ipam_ldapconn_write_sd(l, dn, bin.buf, bin.len, 0x10),
			 IPAM_EINVAL);
	must_write(ipam_ldapconn_delete(l, dn), "delete");
	strbuf_reset(&bin);
	assert_int_equal(
		ipam_ldapconn_read_sd(&bin, l, dn, IPAM_LDAPCONN_SD_DACL),
		IPAM_ENOTFOUND);
	assert_int_equal(bin.len, 0);

	strbuf_release(&sid);
	strbuf_release(&bin);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

/* A GPO-like container with CN=User and CN=Machine (and one more level). */
static void test_delete_tree(void **state)
{
	struct admin a;
	struct ipam_ldapconn *l;
	char tag[16], top[512], user[600], machine[600], deep[700];
	char want[1200];
	const char *all[4];
	size_t i;
	int rc;

	(void)state;
	/* Tiny pages: the tree is gathered over several of them. */
	setenv("IPAM_LDAPCONN_PAGE_SIZE", "1", 1);
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	unsetenv("IPAM_LDAPCONN_PAGE_SIZE");
	rand_tag(tag, sizeof(tag));
	snprintf(top, sizeof(top), "CN=ipamctl-tree-%s,CN=Users,%s", tag, a.dn);
	snprintf(user, sizeof(user), "CN=User,%s", top);
	snprintf(machine, sizeof(machine), "CN=Machine,%s", top);
	snprintf(deep, sizeof(deep), "CN=x,%s", machine);
	all[0] = top;
	all[1] = user;
	all[2] = machine;
	all[3] = deep;
	for (i = 0; i < 4; i++)
		add_container(l, all[i]);

	/* Not a leaf: a plain delete is refused. */
	rc = ipam_ldapconn_delete(l, top);
	if (rc != IPAM_EINVAL)
		fail_msg("rc %d: %s", rc, ipam_error_last());

	must_write(ipam_ldapconn_delete_tree(l, top), "delete tree");
	for (i = 0; i < 4; i++)
		assert_gone(all[i]);

	rc = ipam_ldapconn_delete_tree(l, top);
	assert_int_equal(rc, IPAM_ENOTFOUND);
	snprintf(want, sizeof(want), "ldap search '%s' on %s: No such object",
		 top, a.o.uri);
	if (!strstr(ipam_error_last(), want))
		fail_msg("message '%s', want '%s'", ipam_error_last(), want);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

static int grab_cn(void *ctx, const struct ipam_ldapconn_entry *e)
{
	const char *cn = ipam_ldapconn_entry_str(e, "cn");

	assert_non_null(cn);
	strbuf_addstr(ctx, cn);
	return 0;
}

/* A name with every character a DN must escape, made and found as is. */
static void test_escaped_dn(void **state)
{
	static const char *const attrs[] = {"cn", NULL};
	struct admin a;
	struct ipam_ldapconn *l;
	struct strbuf dn = STRBUF_INIT, cn = STRBUF_INIT;
	char tag[16], value[128];
	char **v;

	(void)state;
	admin_init(&a, 1, "LDAP_URI");
	l = must_connect(&a.o);
	rand_tag(tag, sizeof(tag));
	snprintf(value, sizeof(value), "a,b+c\"d;<x>=\\ %s", tag);
	strbuf_addstr(&dn, "CN=");
	ipam_ldapesc_dn(&dn, value);
	strbuf_addf(&dn, ",CN=Users,%s", a.dn);

	add_container(l, dn.buf);
	v = witness_values(dn.buf, "cn");
	lab_assert_set(v, (const char *const[]){value, NULL}, "cn");
	lab_strv_free(v);
	must_write(ipam_ldapconn_search(l, dn.buf, IPAM_LDAPCONN_BASE,
					"(objectClass=*)", attrs, grab_cn, &cn),
		   "search");
	assert_string_equal(cn.buf, value);

	must_write(ipam_ldapconn_delete(l, dn.buf), "delete");
	assert_gone(dn.buf);
	strbuf_release(&cn);
	strbuf_release(&dn);
	ipam_ldapconn_close(l);
	admin_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_starttls),
		cmocka_unit_test(test_simple_ldaps),
		cmocka_unit_test(test_paged_search_matches_ldapsearch),
		cmocka_unit_test(test_small_pages),
		cmocka_unit_test(test_guid_and_sid),
		cmocka_unit_test(test_stop_early),
		cmocka_unit_test(test_missing_base),
		cmocka_unit_test(test_hostile_value),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_closed_port),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_hostname_checked),
		cmocka_unit_test(test_kerberos_ccache),
		cmocka_unit_test(test_kerberos_keytab),
		cmocka_unit_test(test_kerberos_no_credentials),
		cmocka_unit_test(test_kerberos_over_ldaps_refused_by_samba),
		cmocka_unit_test(test_srv_lookup),
		cmocka_unit_test(test_srv_lookup_no_records),
		cmocka_unit_test(test_write_group),
		cmocka_unit_test(test_write_sd),
		cmocka_unit_test(test_delete_tree),
		cmocka_unit_test(test_escaped_dn),
	};

	return cmocka_run_group_tests_name("ldapconn", tests, NULL, NULL);
}
