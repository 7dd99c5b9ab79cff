/*
 * ipamctl discover and inventory against the lab's two forests.  The
 * expected servers are computed here, independently of ipamctl: domain
 * controllers with ldapsearch and the IPAM version rule, DNS servers with
 * dig, DHCP servers from the authorizations in AD that answer the lab's
 * own DHCPINFORM probe (lab-dhcpinform).
 */
#include <ctype.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "testutil.h"
#include "json.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

struct fx {
	char *dir;
	char *config; /* a copy of the lab's desired state */
	char *db;     /* sqlite:<dir>/state.db, or a PostgreSQL URI */
};

static const char *ipamctl(void)
{
	return lab_need_env("IPAMCTL");
}

/* Run ipamctl with the arguments up to NULL; output kept in res. */
static void run_ipamctl(struct lab_run *res, ...)
{
	const char *argv[24] = {ipamctl()};
	struct lab_run_opts opts = {.timeout_ms = 120000};
	size_t n = 1;
	const char *a;
	va_list ap;

	va_start(ap, res);
	while ((a = va_arg(ap, const char *)) && n < 23)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	lab_must_run(argv, &opts, res);
}

/* A copy of the lab's desired state in dir/name, with an extra file. */
static char *copy_lab_config(const char *dir, const char *name,
			     const char *extra)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *dst = xasprintf("%s/%s", dir, name), *text;
	char *path;
	size_t len;

	text = lab_read_file(src, 1 << 20, &len);
	assert_non_null(text);
	assert_int_equal(mkdir(dst, 0700), 0);
	path = xasprintf("%s/00-lab.yaml", dst);
	assert_int_equal(lab_write_file(path, text, len), 0);
	free(path);
	if (extra) {
		path = xasprintf("%s/50-test.yaml", dst);
		assert_int_equal(lab_write_file(path, extra, strlen(extra)), 0);
		free(path);
	}
	free(text);
	free(src);
	return dst;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct lab_run res;

	f->dir = lab_mkdtemp();
	f->config = copy_lab_config(f->dir, "config", NULL);
	/* IPAM_TEST_DB=postgres (test_lab_discover_pg): ci/pg's server */
	f->db = test_db_is_pg() ? test_db_new(f->dir)
				: xasprintf("sqlite:%s/state.db", f->dir);
	run_ipamctl(&res, "db", "init", "-c", f->config, "--db", f->db, NULL);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "ipamctl db init"));
	lab_run_free(&res);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lab_rm_rf(f->dir);
	free(f->dir);
	free(f->config);
	free(f->db);
	free(f);
	return 0;
}

/* ---- ground truth ---- */

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
	*v = realloc(*v, (*n + 2) * sizeof(**v));
	(*v)[*n] = xstrdup(s);
	lower((*v)[*n]);
	(*n)++;
	(*v)[*n] = NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted(char **v, size_t n)
{
	if (!v) {
		v = calloc(1, sizeof(*v));
		return v;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	return v;
}

static void ldapsearch(int forest, const char *base, const char *filter,
		       const char *const attrs[], struct lab_run *res)
{
	char ca[4096];
	const char *env[] = {ca, NULL};
	const char *argv[32] = {
		"ldapsearch", "-LLL",
		"-x",	      "-ZZ",
		"-o",	      "ldif-wrap=no",
		"-H",	      lab_need_forest(forest, "LDAP_URI"),
		"-D",	      lab_need_forest(forest, "ADMIN_USER"),
		"-y",	      lab_need_forest(forest, "ADMIN_PASSWORD_FILE"),
		"-b",	      base,
		filter};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 30000};
	size_t n = 15, i;

	snprintf(ca, sizeof(ca), "LDAPTLS_CACERT=%s",
		 lab_need_forest(forest, "CA"));
	for (i = 0; attrs[i] && n < 31; i++)
		argv[n++] = attrs[i];
	argv[n] = NULL;
	lab_must_succeed(argv, &opts, res);
}

/* The value of "attr: value" within one LDIF entry block. */
static char *ldif_value(const char *block, const char *attr)
{
	size_t alen = strlen(attr);
	const char *p = block;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > alen + 2 && !strncasecmp(p, attr, alen) &&
		    p[alen] == ':' && p[alen + 1] == ' ')
			return xstrndup(p + alen + 2, len - alen - 2);
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* DCs by the IPAM rule: Windows 6.0 and later, and any non-Windows DC. */
static char **truth_dcs(int forest, size_t *n)
{
	static const char *const attrs[] = {"dNSHostName", "operatingSystem",
					    "operatingSystemVersion", NULL};
	char *base = lab_domain_dn(lab_need_forest(forest, "DOMAIN"));
	struct lab_run res;
	char **v = NULL, *text, *block;

	*n = 0;
	ldapsearch(forest, base,
		   "(&(objectCategory=computer)(userAccountControl:1.2.840."
		   "113556.1.4.803:=8192))",
		   attrs, &res);
	/* LDIF entries are separated by blank lines. */
	text = xstrdup(res.out);
	block = text;
	while (block && *block) {
		char *end = strstr(block, "\n\n");
		char *host, *os, *ver;

		if (end)
			*end = '\0';
		host = ldif_value(block, "dNSHostName");
		os = ldif_value(block, "operatingSystem");
		ver = ldif_value(block, "operatingSystemVersion");
		if (host && (!os || strncmp(os, "Windows", 7) ||
			     (ver && atoi(ver) >= 6)))
			strv_push(&v, n, host);
		free(host);
		free(os);
		free(ver);
		block = end ? end + 2 : NULL;
	}
	free(text);
	free(base);
	lab_run_free(&res);
	return sorted(v, *n);
}

static char **truth_dns(int forest, size_t *n)
{
	const char *argv[] = {"dig", "+short", "NS",
			      lab_need_forest(forest, "DOMAIN"), NULL};
	struct lab_run res;
	char **lines, **v = NULL;
	size_t count = 0, i;

	*n = 0;
	lab_must_succeed(argv, NULL, &res);
	lines = lab_lines(res.out, &count);
	for (i = 0; i < count; i++) {
		size_t len = strlen(lines[i]);

		if (len && lines[i][len - 1] == '.')
			lines[i][len - 1] = '\0';
		if (*lines[i])
			strv_push(&v, n, lines[i]);
	}
	lab_strv_free(lines);
	lab_run_free(&res);
	return sorted(v, *n);
}

/* Authorized in AD (DhcpRoot's dhcpServers) and answering the probe. */
static char **truth_dhcp(int forest, size_t *n)
{
	static const char *const attrs[] = {"dhcpServers", NULL};
	const char *domain = lab_need_forest(forest, "DOMAIN");
	char *dn = lab_domain_dn(domain);
	char *base =
		xasprintf("CN=NetServices,CN=Services,CN=Configuration,%s", dn);
	struct lab_run res;
	char **values, **v = NULL;
	size_t count = 0, i;

	*n = 0;
	ldapsearch(forest, base, "(cn=DhcpRoot)", attrs, &res);
	values = lab_collect_lines(res.out, "dhcpServers: ", &count);
	for (i = 0; i < count; i++) {
		char ip[64] = "", name[256] = "";
		const char *p = values[i];
		struct lab_run probe;
		const char *argv[] = {lab_need_env("IPAM_LAB_DHCPINFORM"), "-t",
				      "1000", ip, NULL};

		/* fields: i<ip>$rcn=<rdn>$f<flags>$s<name>$ */
		while (*p) {
			const char *end = strchr(p, '$');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (*p == 'i' && len - 1 < sizeof(ip))
				snprintf(ip, sizeof(ip), "%.*s", (int)len - 1,
					 p + 1);
			if (*p == 's' && len - 1 < sizeof(name))
				snprintf(name, sizeof(name), "%.*s",
					 (int)len - 1, p + 1);
			p = end ? end + 1 : p + len;
		}
		if (!*ip || !*name)
			continue;
		lab_must_run(argv, NULL, &probe);
		if (probe.exit_code == 0)
			strv_push(&v, n, name);
		lab_run_free(&probe);
	}
	lab_strv_free(values);
	lab_run_free(&res);
	free(base);
	free(dn);
	return sorted(v, *n);
}

/* The A and AAAA answers of dig for name, sorted. */
static char **truth_addrs(const char *name)
{
	char **v = NULL;
	size_t n = 0, i, t;

	for (t = 0; t < 2; t++) {
		const char *argv[] = {"dig", "+short", t ? "AAAA" : "A", name,
				      NULL};
		struct lab_run res;
		char **lines;
		size_t count = 0;

		lab_must_succeed(argv, NULL, &res);
		lines = lab_lines(res.out, &count);
		for (i = 0; i < count; i++)
			if (*lines[i] && !strchr(lines[i], ' '))
				strv_push(&v, &n, lines[i]);
		lab_strv_free(lines);
		lab_run_free(&res);
	}
	return sorted(v, n);
}

/* ---- what ipamctl stored ---- */

static const struct ipam_node *get(const struct ipam_node *map, const char *key)
{
	size_t i;

	for (i = 0; map && map->kind == IPAM_NODE_MAP && i < map->nr; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->items[i];
	return NULL;
}

static struct ipam_node *inventory(struct fx *f)
{
	struct ipam_node *n = NULL;
	struct lab_run res;

	run_ipamctl(&res, "inventory", "--db", f->db, "-o", "json", NULL);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "ipamctl inventory"));
	assert_int_equal(ipam_json_parse(&n, "inventory", res.out, res.out_len),
			 0);
	assert_int_equal(n->kind, IPAM_NODE_SEQ);
	lab_run_free(&res);
	return n;
}

/* Names in domain whose roles include role ("dc", "dns", ...). */
static char **stored(const struct ipam_node *inv, const char *domain,
		     const char *role, size_t *n)
{
	char **v = NULL;
	size_t i, j;

	*n = 0;
	for (i = 0; i < inv->nr; i++) {
		const struct ipam_node *s = inv->items[i];
		const struct ipam_node *roles = get(s, "roles");

		if (strcmp(get(s, "domain")->str, domain) ||
		    strcmp(get(s, "status")->str, "gone") == 0)
			continue;
		for (j = 0; j < roles->nr; j++)
			if (!strcmp(roles->items[j]->str, role))
				strv_push(&v, n, get(s, "name")->str);
	}
	return sorted(v, *n);
}

static void assert_same(char **got, char **want, const char *what)
{
	char *why = NULL;

	if (!lab_strv_equal(got, (const char *const *)want, &why))
		fail_msg("%s: %s", what, why);
	lab_strv_free(got);
	lab_strv_free(want);
}

static void discover_ok(struct fx *f, const char *config)
{
	struct lab_run res;

	run_ipamctl(&res, "discover", "-c", config, "--db", f->db, NULL);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover"));
	lab_run_free(&res);
}

static void test_discovery_matches_ground_truth(void **state)
{
	struct fx *f = *state;
	struct ipam_node *inv;
	size_t n, m;
	int forest;

	discover_ok(f, f->config);
	inv = inventory(f);
	for (forest = 1; forest <= 2; forest++) {
		const char *domain = lab_need_forest(forest, "DOMAIN");
		char **want, **got;

		want = truth_dcs(forest, &n);
		got = stored(inv, domain, "dc", &m);
		assert_true(n >= 2);
		assert_same(got, want, "domain controllers");
		want = truth_dns(forest, &n);
		got = stored(inv, domain, "dns", &m);
		assert_true(n >= 2);
		assert_same(got, want, "DNS servers");
		want = truth_dhcp(forest, &n);
		got = stored(inv, domain, "dhcp", &m);
		assert_int_equal(n, 1);
		assert_same(got, want, "DHCP servers");
	}
	/* what the rules leave out, by name */
	{
		char **dcs = stored(inv, "corp.example.test", "dc", &n);
		char **dhcp = stored(inv, "corp.example.test", "dhcp", &m);
		char **nps = stored(inv, "corp.example.test", "nps", &n);
		size_t i;

		for (i = 0; dcs[i]; i++)
			assert_string_not_equal(dcs[i],
						"dc4.corp.example.test");
		for (i = 0; dhcp[i]; i++) {
			assert_string_not_equal(dhcp[i],
						"dhcp2.corp.example.test");
			assert_string_not_equal(dhcp[i],
						"dhcp9.corp.example.test");
		}
		/* the declared NPS server, verified */
		assert_non_null(nps[0]);
		assert_string_equal(nps[0], "nps1.corp.example.test");
		assert_null(nps[1]);
		lab_strv_free(dcs);
		lab_strv_free(dhcp);
		lab_strv_free(nps);
	}
	/* every stored server carries what AD says of it, and the addresses
	 * DNS gives for its name */
	for (n = 0; n < inv->nr; n++) {
		const struct ipam_node *s = inv->items[n];
		const struct ipam_node *addrs = get(s, "addresses");
		char **got = NULL;
		size_t k, nk = 0;

		for (k = 0; k < addrs->nr; k++)
			strv_push(&got, &nk, addrs->items[k]->str);
		assert_same(sorted(got, nk), truth_addrs(get(s, "name")->str),
			    get(s, "name")->str);

		assert_non_null(get(s, "objectSid"));
		assert_int_equal(get(s, "objectSid")->kind, IPAM_NODE_STR);
		assert_int_equal(
			strncmp(get(s, "objectSid")->str, "S-1-5-21-", 9), 0);
		assert_int_equal(get(s, "objectGUID")->kind, IPAM_NODE_STR);
		assert_int_equal(strlen(get(s, "objectGUID")->str), 36);
		assert_true(get(s, "addresses")->nr >= 1);
		assert_string_equal(get(s, "status")->str, "new");
		assert_string_equal(get(s, "accessStatus")->str, "Not checked");
	}
	ipam_node_free(inv);
}

static void test_second_run_unchanged(void **state)
{
	struct fx *f = *state;
	struct ipam_node *inv;
	size_t i;

	discover_ok(f, f->config);
	discover_ok(f, f->config);
	inv = inventory(f);
	assert_true(inv->nr >= 9);
	for (i = 0; i < inv->nr; i++)
		assert_string_equal(get(inv->items[i], "status")->str,
				    "unchanged");
	ipam_node_free(inv);
}

static void test_address_collision_reported(void **state)
{
	struct fx *f = *state;
	char *extra_dir;
	struct lab_run res;

	/* app1 and app2 share 192.0.2.30; declared, the collision is an
	 * error naming both */
	extra_dir = copy_lab_config(f->dir, "collide",
				    "servers:\n"
				    "  - name: app1.corp.example.test\n"
				    "    roles: [nps]\n"
				    "  - name: app2.corp.example.test\n"
				    "    roles: [nps]\n");
	run_ipamctl(&res, "discover", "-c", extra_dir, "--db", f->db, NULL);
	assert_int_equal(res.exit_code, 1);
	if (!strstr(res.out, "error: address collision: "
			     "'app1.corp.example.test' and "
			     "'app2.corp.example.test' both have the address "
			     "192.0.2.30"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover"));
	lab_run_free(&res);
	free(extra_dir);
}

static void test_listed_but_not_found_is_reported(void **state)
{
	struct fx *f = *state;
	char *dir = copy_lab_config(f->dir, "ghost",
				    "servers:\n"
				    "  - name: ghost.corp.example.test\n"
				    "    manageability: managed\n");
	struct lab_run res;

	run_ipamctl(&res, "discover", "-c", dir, "--db", f->db, NULL);
	if (res.exit_code != 0 ||
	    !strstr(res.out, "declared, not found: ghost.corp.example.test\n"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover"));
	lab_run_free(&res);
	free(dir);
}

static void test_kerberos_from_ccache(void **state)
{
	struct fx *f = *state;
	char *ccache = xasprintf("FILE:%s/krb5cc", f->dir);
	char *ccenv = xasprintf("KRB5CCNAME=%s", ccache);
	const char *env[] = {ccenv, NULL};
	char *pw = lab_read_file(lab_need_forest(1, "ADMIN_PASSWORD_FILE"),
				 4096, NULL);
	char *principal =
		xasprintf("Administrator@%s", lab_need_forest(1, "REALM"));
	const char *kinit[] = {"kinit", principal, NULL};
	struct lab_run_opts opts = {
		.env = env, .input = pw, .input_len = strlen(pw)};
	char *dir = xasprintf("%s/krb", f->dir), *file, *text;
	struct lab_run res;
	struct ipam_node *inv;
	char **dcs;
	size_t n;

	lab_must_succeed(kinit, &opts, &res);
	lab_run_free(&res);
	assert_int_equal(mkdir(dir, 0700), 0);
	text = xasprintf("version: 1\n"
			 "ipamServer: ipam1.corp.example.test\n"
			 "provisioning: {method: gpo, gpoPrefix: IPAM1}\n"
			 "connection:\n"
			 "  auth: kerberos\n"
			 "  ccache: %s\n"
			 "  caFile: %s\n"
			 "discovery:\n"
			 "  - domain: corp.example.test\n"
			 "    dhcp: false\n"
			 "    connection: {ldapUri: %s}\n",
			 ccache, lab_need_forest(1, "CA"),
			 lab_need_forest(1, "LDAP_URI"));
	file = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(file, text, strlen(text)), 0);
	run_ipamctl(&res, "discover", "-c", dir, "--db", f->db, NULL);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover "
						      "(kerberos)"));
	lab_run_free(&res);
	inv = inventory(f);
	dcs = stored(inv, "corp.example.test", "dc", &n);
	assert_int_equal(n, 3);
	lab_strv_free(dcs);
	ipam_node_free(inv);
	free(text);
	free(file);
	free(dir);
	free(principal);
	free(pw);
	free(ccenv);
	free(ccache);
}

static void test_wrong_credentials(void **state)
{
	struct fx *f = *state;
	char *pwfile = xasprintf("%s/wrong.pw", f->dir);
	char *dir = xasprintf("%s/wrong", f->dir), *file, *text;
	struct lab_run res;

	assert_int_equal(lab_write_file(pwfile, "Not-The-Password-42", 19), 0);
	chmod(pwfile, 0600);
	assert_int_equal(mkdir(dir, 0700), 0);
	text = xasprintf("version: 1\n"
			 "ipamServer: ipam1.corp.example.test\n"
			 "provisioning: {method: gpo, gpoPrefix: IPAM1}\n"
			 "discovery:\n"
			 "  - domain: corp.example.test\n"
			 "    dns: false\n"
			 "    connection:\n"
			 "      auth: simple\n"
			 "      ldapUri: %s\n"
			 "      user: %s\n"
			 "      passwordFile: %s\n"
			 "      caFile: %s\n",
			 lab_need_forest(1, "LDAP_URI"),
			 lab_need_forest(1, "ADMIN_USER"), pwfile,
			 lab_need_forest(1, "CA"));
	file = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(file, text, strlen(text)), 0);
	run_ipamctl(&res, "discover", "-c", dir, "--db", f->db, NULL);
	assert_int_equal(res.exit_code, 1);
	if (!strstr(res.out, "dc       incomplete: bind failed: ") ||
	    !strstr(res.err, "Administrator@corp.example.test"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover"));
	assert_null(strstr(res.out, "Not-The-Password-42"));
	assert_null(strstr(res.err, "Not-The-Password-42"));
	lab_run_free(&res);
	free(text);
	free(file);
	free(dir);
	free(pwfile);
}

/* The branch DC, frozen with SIGSTOP: a DC that stops answering. */
static pid_t branch_dc_pid(void)
{
	char *path = xasprintf("%s/pids", lab_need_env("IPAM_LAB_DIR"));
	char *text = lab_read_file(path, 1 << 16, NULL);
	char *p;
	pid_t pid = 0;

	assert_non_null(text);
	p = strstr(text, "samba-branch ");
	if (p)
		pid = (pid_t)atoi(p + strlen("samba-branch "));
	free(text);
	free(path);
	assert_true(pid > 1);
	return pid;
}

static int resume_branch(void **state)
{
	kill(branch_dc_pid(), SIGCONT);
	return teardown(state);
}

static void test_stopped_dc_removes_nothing(void **state)
{
	struct fx *f = *state;
	struct ipam_node *before, *after;
	struct lab_run res;
	size_t i;
	char *fast, *file, *text, *p;

	discover_ok(f, f->config);
	before = inventory(f);
	/* the same desired state, with a short timeout */
	fast = copy_lab_config(f->dir, "fast", NULL);
	file = xasprintf("%s/00-lab.yaml", fast);
	text = lab_read_file(file, 1 << 20, NULL);
	p = strstr(text, "timeout: ");
	assert_non_null(p);
	memcpy(p, "timeout: 3", 10);
	p[10] = '\n';
	memmove(p + 11, strchr(p + 9, '\n') + 1,
		strlen(strchr(p + 9, '\n') + 1) + 1);
	assert_int_equal(lab_write_file(file, text, strlen(text)), 0);

	assert_int_equal(kill(branch_dc_pid(), SIGSTOP), 0);
	run_ipamctl(&res, "discover", "-c", fast, "--db", f->db, NULL);
	kill(branch_dc_pid(), SIGCONT);
	assert_int_equal(res.exit_code, 1);
	if (!strstr(res.out, "branch.example.test: INCOMPLETE") ||
	    !strstr(res.out, "inventory: not changed (the domain is "
			     "incomplete)") ||
	    !strstr(res.out, "corp.example.test: complete") ||
	    !strstr(res.err, "discovery of 'branch.example.test' is "
			     "incomplete"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover"));
	lab_run_free(&res);
	after = inventory(f);
	/* nothing gone, nothing changed: same rows, same last_seen */
	assert_int_equal(after->nr, before->nr);
	for (i = 0; i < after->nr; i++) {
		const struct ipam_node *a = after->items[i];
		const struct ipam_node *b = before->items[i];

		assert_string_equal(get(a, "name")->str, get(b, "name")->str);
		assert_string_not_equal(get(a, "status")->str, "gone");
		if (!strcmp(get(a, "domain")->str, "branch.example.test"))
			assert_string_equal(get(a, "lastSeen")->str,
					    get(b, "lastSeen")->str);
	}
	ipam_node_free(before);
	ipam_node_free(after);
	free(text);
	free(file);
	free(fast);
}

/* LDIF that adds or deletes one dhcpServers value on corp's DhcpRoot. */
static char *dhcp_root_change(const char *op, const char *value)
{
	char *dn = lab_domain_dn("corp.example.test");
	char *ldif = xasprintf("dn: CN=DhcpRoot,CN=NetServices,CN=Services,"
			       "CN=Configuration,%s\n"
			       "changetype: modify\n%s: dhcpServers\n"
			       "dhcpServers: %s\n",
			       dn, op, value);

	free(dn);
	return ldif;
}

/* A DHCP authorization whose name carries LDAP filter metacharacters must
 * not change the computer lookup: it is left out as an invalid name. */
static void test_hostile_name_cannot_change_queries(void **state)
{
	static const char hostile[] = "i198.51.100.10$rcn=evil$f0x00000000$"
				      "sdhcp1.corp.example.test)(|(cn=*$";
	struct fx *f = *state;
	char *add = dhcp_root_change("add", hostile);
	char *del = dhcp_root_change("delete", hostile);
	char ca[4096];
	const char *env[] = {ca, NULL};
	const char *argv[] = {"ldapmodify",
			      "-x",
			      "-ZZ",
			      "-H",
			      lab_need_forest(1, "LDAP_URI"),
			      "-D",
			      lab_need_forest(1, "ADMIN_USER"),
			      "-y",
			      lab_need_forest(1, "ADMIN_PASSWORD_FILE"),
			      NULL};
	struct lab_run_opts opts = {
		.env = env, .input = add, .input_len = strlen(add)};
	struct lab_run res;
	struct ipam_node *inv;
	size_t i;

	snprintf(ca, sizeof(ca), "LDAPTLS_CACERT=%s", lab_need_forest(1, "CA"));
	lab_must_succeed(argv, &opts, &res);
	lab_run_free(&res);
	run_ipamctl(&res, "discover", "-c", f->config, "--db", f->db, NULL);
	opts.input = del;
	opts.input_len = strlen(del);
	{
		struct lab_run undo;

		lab_must_succeed(argv, &opts, &undo);
		lab_run_free(&undo);
	}
	if (res.exit_code ||
	    !strstr(res.out, "excluded dhcp1.corp.example.test)(|(cn=* (dhcp): "
			     "authorized under a name that is not a valid "
			     "DNS name"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl discover"));
	lab_run_free(&res);
	inv = inventory(f);
	for (i = 0; i < inv->nr; i++)
		assert_null(strpbrk(get(inv->items[i], "name")->str, "()*|"));
	ipam_node_free(inv);
	free(add);
	free(del);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_discovery_matches_ground_truth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_run_unchanged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_collision_reported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_listed_but_not_found_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kerberos_from_ccache,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_credentials, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_hostile_name_cannot_change_queries, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_stopped_dc_removes_nothing,
						setup, resume_branch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
