#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

const char *const labad_gpo_name[LABAD_NGPO] = {"IPAM1_DHCP", "IPAM1_DNS",
						"IPAM1_DC_NPS"};

void labad_forest_init(struct labad_forest *fo, int n)
{
	memset(fo, 0, sizeof(*fo));
	fo->n = n;
	fo->domain = lab_need_forest(n, "DOMAIN");
	fo->dn = lab_domain_dn(fo->domain);
}

void labad_forest_release(struct labad_forest *fo)
{
	for (int k = 0; k < LABAD_NGPO; k++) {
		free(fo->guid[k]);
		free(fo->gpo_dn[k]);
	}
	free(fo->ipamug_sid);
	free(fo->dn);
	memset(fo, 0, sizeof(*fo));
}

/* ---- running things ----------------------------------------------------- */

const char *labad_ipamctl(void)
{
	return lab_need_env("IPAMCTL");
}

static void run_ipamctl_v(struct lab_run *res, const char *const *env,
			  va_list ap)
{
	const char *argv[40] = {labad_ipamctl()};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 180000};
	size_t n = 1;
	const char *a;

	while ((a = va_arg(ap, const char *)) && n < 39)
		argv[n++] = a;
	argv[n] = NULL;
	lab_must_run(argv, &opts, res);
}

void labad_run_ipamctl(struct lab_run *res, ...)
{
	va_list ap;

	va_start(ap, res);
	run_ipamctl_v(res, NULL, ap);
	va_end(ap);
}

void labad_run_ipamctl_env(struct lab_run *res, const char *const *env, ...)
{
	va_list ap;

	va_start(ap, env);
	run_ipamctl_v(res, env, ap);
	va_end(ap);
}

void labad_expect_exit(const struct lab_run *res, int code, const char *what)
{
	if (res->exit_code != code || res->timed_out)
		fail_msg("expected exit %d: %s", code,
			 lab_run_describe(res, what));
}

void labad_samba_tool(int f, const char *const args[], struct lab_run *res)
{
	const char *argv[32], *env[2];
	char pw[4096];
	struct lab_run_opts o = {.env = env, .timeout_ms = 120000};
	size_t n = 0;

	snprintf(pw, sizeof(pw), "PASSWD_FILE=%s",
		 lab_need_forest(f, "ADMIN_PASSWORD_FILE"));
	env[0] = pw;
	env[1] = NULL;
	argv[n++] = "samba-tool";
	while (*args && n < 26)
		argv[n++] = *args++;
	argv[n++] = "-H";
	argv[n++] = lab_need_forest(f, "LDAP_URI");
	argv[n++] = "-U";
	argv[n++] = lab_need_forest(f, "ADMIN_USER");
	argv[n] = NULL;
	lab_must_run(argv, &o, res);
}

void labad_samba_tool_ok(int f, const char *const args[], struct lab_run *res)
{
	labad_samba_tool(f, args, res);
	if (res->exit_code != 0 || res->timed_out)
		fail_msg("%s", lab_run_describe(res, "samba-tool"));
}

void labad_ldap_search(int f, const char *base, const char *scope,
		       const char *filter, const char *const attrs[],
		       struct lab_run *res)
{
	char ca[4096];
	const char *env[] = {ca, NULL};
	const char *argv[40] = {
		"ldapsearch", "-LLL",
		"-x",	      "-ZZ",
		"-o",	      "ldif-wrap=no",
		"-H",	      lab_need_forest(f, "LDAP_URI"),
		"-D",	      lab_need_forest(f, "ADMIN_USER"),
		"-y",	      lab_need_forest(f, "ADMIN_PASSWORD_FILE"),
		"-s",	      scope,
		"-b",	      base,
		filter};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 60000};
	size_t n = 17, i;

	snprintf(ca, sizeof(ca), "LDAPTLS_CACERT=%s", lab_need_forest(f, "CA"));
	for (i = 0; attrs[i] && n < 39; i++)
		argv[n++] = attrs[i];
	argv[n] = NULL;
	lab_must_succeed(argv, &opts, res);
}

void labad_ldap_delete_tree(int f, const char *dn, struct lab_run *res)
{
	char ca[4096];
	const char *env[] = {ca, NULL};
	const char *argv[] = {"ldapdelete",
			      "-x",
			      "-ZZ",
			      "-H",
			      lab_need_forest(f, "LDAP_URI"),
			      "-D",
			      lab_need_forest(f, "ADMIN_USER"),
			      "-y",
			      lab_need_forest(f, "ADMIN_PASSWORD_FILE"),
			      "-r",
			      dn,
			      NULL};
	struct lab_run_opts opts = {.env = env, .timeout_ms = 60000};

	snprintf(ca, sizeof(ca), "LDAPTLS_CACERT=%s", lab_need_forest(f, "CA"));
	lab_must_run(argv, &opts, res);
}

void labad_smbclient(int f, const char *command, struct lab_run *res)
{
	char service[512];
	const char *argv[] = {
		"smbclient", service, "-A", lab_need_forest(f, "SMB_AUTH_FILE"),
		"-c",	     command, NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};

	snprintf(service, sizeof(service), "//%s/sysvol",
		 lab_need_forest(f, "DC"));
	lab_must_run(argv, &o, res);
}

/* The modes are described at labad_py() in labad.h.  (rmace rebuilds the
 * ACE list: descriptor.dacl_del_ace of Samba 4.17 drops every ACE after
 * the one it removes.) */
static const char py_script[] =
	"import sys\n"
	"mode = sys.argv[1]\n"
	"if mode == 'pol':\n"
	"    from samba.gp_parse.gp_pol import GPPolParser\n"
	"    p = GPPolParser()\n"
	"    p.parse(open(sys.argv[2], 'rb').read())\n"
	"    for e in p.pol_file.entries:\n"
	"        d = e.data\n"
	"        if isinstance(d, bytes):\n"
	"            d = 'hex:' + d.hex()\n"
	"        elif isinstance(d, str):\n"
	"            d = d.rstrip('\\x00')\n"
	"        print('%s\\t%s\\t%d\\t%s' % (e.keyname, e.valuename, e.type, "
	"d))\n"
	"    sys.exit(0)\n"
	"if mode == 'gpp':\n"
	"    import xml.etree.ElementTree as ET\n"
	"    r = ET.parse(sys.argv[2]).getroot()\n"
	"    print('root\\t%s\\t%s' % (r.tag, r.get('clsid')))\n"
	"    for it in r:\n"
	"        print('item\\t%s\\t%s\\t%s' % (it.tag, it.get('clsid'), "
	"it.get('name')))\n"
	"        pr = it.find('Properties')\n"
	"        if pr is None:\n"
	"            continue\n"
	"        for k in sorted(pr.attrib):\n"
	"            print('prop\\t%s\\t%s' % (k, pr.get(k)))\n"
	"        for m in pr.iter('Member'):\n"
	"            print('member\\t%s\\t%s\\t%s' % (m.get('name'), "
	"m.get('action'), m.get('sid')))\n"
	"    sys.exit(0)\n"
	"from samba.samdb import SamDB\n"
	"from samba.param import LoadParm\n"
	"from samba.credentials import Credentials\n"
	"from samba.dcerpc import security\n"
	"from samba.ndr import ndr_unpack, ndr_pack\n"
	"import ldb\n"
	"url, auth = sys.argv[2:4]\n"
	"args = sys.argv[4:]\n"
	"lp = LoadParm(); lp.load_default()\n"
	"c = Credentials(); c.guess(lp); c.parse_file(auth)\n"
	"db = SamDB(url=url, credentials=c, lp=lp)\n"
	"base = str(db.domain_dn())\n"
	"def sid(v):\n"
	"    return str(ndr_unpack(security.dom_sid, v))\n"
	"def getsd(dn):\n"
	"    r = db.search(base=dn, scope=ldb.SCOPE_BASE, "
	"attrs=['nTSecurityDescriptor'], controls=['sd_flags:1:4'])\n"
	"    return ndr_unpack(security.descriptor, "
	"r[0]['nTSecurityDescriptor'][0])\n"
	"def obj(a):\n"
	"    if a.type in (5, 6) and a.object.flags & 1:\n"
	"        return str(a.object.type)\n"
	"    return '-'\n"
	"if mode == 'sid':\n"
	"    for m in db.search(base=base, scope=ldb.SCOPE_SUBTREE, "
	"expression=args[0], attrs=['objectSid']):\n"
	"        print('%s\\t%s' % (m.dn, sid(m['objectSid'][0])))\n"
	"elif mode == 'aces':\n"
	"    names = {0: 'A', 1: 'D', 5: 'OA', 6: 'OD'}\n"
	"    for i, dn in enumerate(args):\n"
	"        for a in getsd(dn).dacl.aces:\n"
	"            print('%d\\t%s 0x%02x 0x%08x %s %s' % (i, "
	"names.get(a.type, str(a.type)), a.flags, a.access_mask, obj(a), "
	"a.trustee))\n"
	"elif mode == 'rmace':\n"
	"    dn, who = args[0], args[1]\n"
	"    sd = getsd(dn)\n"
	"    def hit(a):\n"
	"        return str(a.trustee) == who and (len(args) < 3 or "
	"obj(a) == args[2])\n"
	"    kept = [a for a in sd.dacl.aces if not hit(a)]\n"
	"    if len(kept) == len(sd.dacl.aces):\n"
	"        sys.exit('no ACE of %s on %s' % (who, dn))\n"
	"    sd.dacl.aces = kept\n"
	"    sd.dacl.num_aces = len(kept)\n"
	"    m = ldb.Message()\n"
	"    m.dn = ldb.Dn(db, dn)\n"
	"    m['nTSecurityDescriptor'] = ldb.MessageElement(ndr_pack(sd), "
	"ldb.FLAG_MOD_REPLACE, 'nTSecurityDescriptor')\n"
	"    db.modify(m, controls=['sd_flags:1:4'])\n"
	"elif mode == 'tombstones':\n"
	"    r = db.search(base='CN=Deleted Objects,' + base, "
	"scope=ldb.SCOPE_ONELEVEL, expression='(isDeleted=TRUE)', "
	"attrs=['objectClass', 'sAMAccountName', 'objectSid', "
	"'lastKnownParent', 'name'], controls=['show_deleted:1', "
	"'show_recycled:1'])\n"
	"    for m in r:\n"
	"        nm = m.get('sAMAccountName', m.get('name'))\n"
	"        print('%s\\t%s\\t%s\\t%s' % (m['objectClass'][-1], "
	"nm[0] if nm else '-', sid(m['objectSid'][0]) if 'objectSid' in m "
	"else '-', m['lastKnownParent'][0] if 'lastKnownParent' in m else "
	"'-'))\n"
	"else:\n"
	"    sys.exit('unknown mode ' + mode)\n";

void labad_py(int f, const char *mode, const char *const args[],
	      struct lab_run *res)
{
	const char *argv[16] = {"/usr/bin/python3", "-c", py_script, mode};
	struct lab_run_opts o = {.timeout_ms = 60000};
	size_t n = 4;

	if (f) {
		argv[n++] = lab_need_forest(f, "LDAP_URI");
		argv[n++] = lab_need_forest(f, "SMB_AUTH_FILE");
	}
	while (args && *args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	lab_must_succeed(argv, &o, res);
}

/* ---- string vectors and text -------------------------------------------- */

char **labad_strv_new(void)
{
	return xcalloc(1, sizeof(char *));
}

void labad_strv_push(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

size_t labad_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

bool labad_strv_has(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

bool labad_strv_has_ci(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (!strcasecmp(*v, s))
			return true;
	return false;
}

char **labad_lines(const char *text)
{
	char **v = NULL;
	size_t n = 0;

	while (text && *text) {
		size_t len = strcspn(text, "\n");
		char *line = xstrndup(text, len);

		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (line[0])
			labad_strv_push(&v, &n, line);
		free(line);
		text += len + (text[len] == '\n');
	}
	return v ? v : labad_strv_new();
}

char *labad_join(char *const *v)
{
	char *s = lab_strv_join(v, "\n  ");

	return s ? s : xstrdup("");
}

char *labad_ci_strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return (char *)hay;
	return n ? NULL : (char *)hay;
}

char *labad_field(const char *text, const char *key)
{
	char **all = lab_lines(text, NULL), *s = NULL;
	size_t i;

	for (i = 0; all && all[i] && !s; i++) {
		const char *p = all[i];

		while (*p == ' ')
			p++;
		if (strncmp(p, key, strlen(key)))
			continue;
		p += strlen(key);
		while (*p == ' ')
			p++;
		if (*p != ':')
			continue;
		p++;
		while (*p == ' ')
			p++;
		s = xstrdup(p);
	}
	lab_strv_free(all);
	return s;
}

double labad_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- LDAP --------------------------------------------------------------- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static char *b64decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0, i;
	unsigned acc = 0;
	int bits = 0;

	for (i = 0; i < len; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return out;
}

char **labad_ldif_values(const char *text, const char *attr)
{
	size_t alen = strlen(attr), n = 0;
	const char *p = text;
	char **v = NULL;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > alen && !strncasecmp(p, attr, alen) &&
		    p[alen] == ':') {
			char *val;

			if (len > alen + 1 && p[alen + 1] == ':') {
				const char *b = p + alen + 2;

				while (*b == ' ')
					b++;
				val = b64decode(b, len - (size_t)(b - p));
			} else {
				const char *b = p + alen + 1;

				if (*b == ' ')
					b++;
				val = xstrndup(b, len - (size_t)(b - p));
			}
			labad_strv_push(&v, &n, val);
			free(val);
		}
		p = eol ? eol + 1 : NULL;
	}
	return v ? v : labad_strv_new();
}

char **labad_ldap_all(int f, const char *dn, const char *attr)
{
	const char *attrs[] = {attr, NULL};
	struct lab_run res;
	char **v;

	labad_ldap_search(f, dn, "base", "(objectClass=*)", attrs, &res);
	v = labad_ldif_values(res.out, attr);
	lab_run_free(&res);
	return v;
}

char *labad_ldap_get(int f, const char *dn, const char *attr)
{
	char **v = labad_ldap_all(f, dn, attr);
	char *s = v[0] ? xstrdup(v[0]) : NULL;

	lab_strv_free(v);
	return s;
}

char **labad_ldap_dns(int f, const char *base, const char *scope,
		      const char *filter)
{
	static const char *const attrs[] = {"1.1", NULL};
	struct lab_run res;
	char **v;

	labad_ldap_search(f, base, scope, filter, attrs, &res);
	v = labad_ldif_values(res.out, "dn");
	lab_run_free(&res);
	return v;
}

/* ---- the lab's objects -------------------------------------------------- */

char *labad_ipamug_dn(const struct labad_forest *fo)
{
	return xasprintf("CN=IPAMUG,CN=Users,%s", fo->dn);
}

char *labad_sid_of(int f, const char *filter)
{
	const char *args[] = {filter, NULL};
	struct lab_run res;
	char **lines, *s;

	labad_py(f, "sid", args, &res);
	lines = lab_lines(res.out, NULL);
	if (labad_strv_len(lines) != 1 || !strchr(lines[0], '\t'))
		fail_msg("%zu objects match %s in %s:\n%s",
			 labad_strv_len(lines), filter,
			 lab_need_forest(f, "DOMAIN"), res.out);
	s = xstrdup(strchr(lines[0], '\t') + 1);
	lab_strv_free(lines);
	lab_run_free(&res);
	return s;
}

void labad_aces_of(int f, const char *const dns[], size_t n, char **acl[])
{
	const char *args[8];
	struct lab_run res;
	char **lines;
	size_t i, cnt[8] = {0};

	assert_true(n < 8);
	for (i = 0; i < n; i++) {
		args[i] = dns[i];
		acl[i] = NULL;
	}
	args[n] = NULL;
	labad_py(f, "aces", args, &res);
	lines = lab_lines(res.out, NULL);
	for (i = 0; lines && lines[i]; i++) {
		char *tab = strchr(lines[i], '\t');
		long k = strtol(lines[i], NULL, 10);

		if (!tab || k < 0 || (size_t)k >= n)
			fail_msg("aces: bad line '%s'", lines[i]);
		labad_strv_push(&acl[k], &cnt[k], tab + 1);
	}
	for (i = 0; i < n; i++)
		if (!acl[i])
			acl[i] = labad_strv_new();
	lab_strv_free(lines);
	lab_run_free(&res);
}

char **labad_aces(int f, const char *dn)
{
	const char *dns[] = {dn};
	char **acl[1];

	labad_aces_of(f, dns, 1, acl);
	return acl[0];
}

void labad_expect_ace(char **acl, const char *prefix, const char *sid,
		      bool present, const char *what)
{
	char *line = xasprintf("%s%s", prefix, sid);

	if (labad_strv_has(acl, line) != present) {
		char *all = labad_join(acl);

		fail_msg("%s: ACE '%s' %s; the DACL:\n  %s", what, line,
			 present ? "missing" : "present", all);
	}
	free(line);
}

char **labad_apply_sids(char **acl)
{
	char **v = NULL;
	size_t n = 0;

	for (; *acl; acl++) {
		const char *sp = strrchr(*acl, ' ');

		if (!strncmp(*acl, "OA ", 3) &&
		    strstr(*acl, LABAD_APPLY_GUID) && sp)
			labad_strv_push(&v, &n, sp + 1);
	}
	return v ? v : labad_strv_new();
}

size_t labad_list_gpos(int f, char *guid[LABAD_NGPO], size_t count[LABAD_NGPO])
{
	static const char *const args[] = {"gpo", "listall", NULL};
	struct lab_run res;
	char *cur = NULL;
	const char *p;
	size_t k, total = 0;

	labad_samba_tool_ok(f, args, &res);
	for (k = 0; k < LABAD_NGPO; k++) {
		if (guid)
			guid[k] = NULL;
		if (count)
			count[k] = 0;
	}
	/* in order: a display name follows its GPO line */
	for (p = res.out; p && *p;) {
		const char *eol = strchr(p, '\n');
		char *line = xstrndup(p, eol ? (size_t)(eol - p) : strlen(p));
		char *v;

		if (!strncmp(line, "GPO ", 4)) {
			free(cur);
			cur = labad_field(line, "GPO");
		} else if (!strncmp(line, "display name", 12) && cur) {
			v = labad_field(line, "display name");
			if (v && !strncmp(v, "IPAM1_", 6))
				total++;
			for (k = 0; v && k < LABAD_NGPO; k++) {
				if (strcmp(v, labad_gpo_name[k]))
					continue;
				if (count)
					count[k]++;
				if (guid && !guid[k])
					guid[k] = xstrdup(cur);
			}
			free(v);
		}
		free(line);
		p = eol ? eol + 1 : NULL;
	}
	free(cur);
	lab_run_free(&res);
	return total;
}

void labad_need_gpos(struct labad_forest *fo, bool alone)
{
	size_t count[LABAD_NGPO], k, total;
	char *g[LABAD_NGPO];

	total = labad_list_gpos(fo->n, g, count);
	for (k = 0; k < LABAD_NGPO; k++) {
		if (count[k] != 1)
			fail_msg("%s: %zu GPOs named %s (samba-tool gpo "
				 "listall)",
				 fo->domain, count[k], labad_gpo_name[k]);
		free(fo->guid[k]);
		free(fo->gpo_dn[k]);
		fo->guid[k] = g[k];
		fo->gpo_dn[k] = xasprintf("CN=%s,CN=Policies,CN=System,%s",
					  g[k], fo->dn);
	}
	if (alone && total != LABAD_NGPO)
		fail_msg("%s: %zu IPAM1_* GPOs (samba-tool gpo listall)",
			 fo->domain, total);
}

char *labad_getlink_options(const char *getlink_out, const char *guid)
{
	const char *p;
	char *cur = NULL, *found = NULL;

	for (p = getlink_out; p && *p && !found;) {
		const char *eol = strchr(p, '\n');
		char *line = xstrndup(p, eol ? (size_t)(eol - p) : strlen(p));
		char *v;

		if ((v = labad_field(line, "GPO"))) {
			free(cur);
			cur = v;
		} else if ((v = labad_field(line, "Options"))) {
			if (cur && !strcasecmp(cur, guid))
				found = v;
			else
				free(v);
		}
		free(line);
		p = eol ? eol + 1 : NULL;
	}
	free(cur);
	return found;
}

char *labad_link_options(const struct labad_forest *fo, const char *guid)
{
	const char *args[] = {"gpo", "getlink", fo->dn, NULL};
	struct lab_run res;
	char *found;

	labad_samba_tool_ok(fo->n, args, &res);
	found = labad_getlink_options(res.out, guid);
	lab_run_free(&res);
	return found;
}

void labad_aclcheck_ok(int f)
{
	static const char *const args[] = {"gpo", "aclcheck", NULL};
	struct lab_run res;

	labad_samba_tool(f, args, &res);
	if (res.exit_code != 0 || strstr(res.out, "ERROR") ||
	    strstr(res.err, "ERROR"))
		fail_msg("%s: %s", lab_need_forest(f, "DOMAIN"),
			 lab_run_describe(&res, "samba-tool gpo aclcheck"));
	lab_run_free(&res);
}

void labad_remove_leftovers(const struct labad_forest *fo)
{
	static const char *const attrs[] = {"cn", NULL};
	char *base = xasprintf("CN=Policies,CN=System,%s", fo->dn);
	int f = fo->n;
	struct lab_run res;
	char **cns, **ug;
	size_t i;

	labad_ldap_search(f, base, "one", "(displayName=IPAM1_*)", attrs, &res);
	cns = labad_ldif_values(res.out, "cn");
	lab_run_free(&res);
	for (i = 0; cns[i]; i++) {
		const char *del[] = {"gpo", "del", cns[i], NULL};
		const char *unlink_args[] = {"gpo", "dellink", fo->dn, cns[i],
					     NULL};
		char *dn, *cmd;

		labad_samba_tool(f, del, &res);
		if (res.exit_code == 0) {
			lab_run_free(&res);
			continue;
		}
		printf("note: samba-tool gpo del %s failed; removing it with "
		       "ldapdelete -r and smbclient deltree: %s\n",
		       cns[i], res.err);
		lab_run_free(&res);
		labad_samba_tool(f, unlink_args, &res);
		lab_run_free(&res);
		dn = xasprintf("CN=%s,%s", cns[i], base);
		labad_ldap_delete_tree(f, dn, &res);
		lab_run_free(&res);
		cmd = xasprintf("deltree \"%s\\Policies\\%s\"", fo->domain,
				cns[i]);
		labad_smbclient(f, cmd, &res);
		lab_run_free(&res);
		free(cmd);
		free(dn);
	}
	lab_strv_free(cns);
	free(base);
	ug = labad_ldap_dns(f, fo->dn, "sub", "(sAMAccountName=IPAMUG)");
	if (ug[0]) {
		static const char *const args[] = {"group", "delete", "IPAMUG",
						   NULL};

		labad_samba_tool(f, args, &res);
		lab_run_free(&res);
	}
	lab_strv_free(ug);
}

pid_t labad_samba_pid(const char *name)
{
	char *path = xasprintf("%s/pids", lab_need_env("IPAM_LAB_DIR"));
	char *text = lab_read_file(path, 1 << 16, NULL);
	char *key = xasprintf("%s ", name), *p;
	pid_t pid = 0;

	assert_non_null(text);
	p = strstr(text, key);
	if (p)
		pid = (pid_t)strtol(p + strlen(key), NULL, 10);
	free(key);
	free(text);
	free(path);
	if (pid <= 1)
		fail_msg("no %s in $IPAM_LAB_DIR/pids", name);
	return pid;
}

/* ---- ipamctl's JSON ----------------------------------------------------- */

const struct ipam_node *labad_jkey(const struct ipam_node *map, const char *key)
{
	size_t i;

	for (i = 0; map && map->kind == IPAM_NODE_MAP && i < map->nr; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->items[i];
	return NULL;
}

const char *labad_jstr(const struct ipam_node *map, const char *key)
{
	const struct ipam_node *v = labad_jkey(map, key);

	return v && v->kind == IPAM_NODE_STR ? v->str : NULL;
}

struct ipam_node *labad_parse_json(const char *text, size_t len,
				   const char *what)
{
	struct ipam_node *root = NULL;

	if (ipam_json_parse(&root, what, text, len))
		fail_msg("%s: not JSON:\n%s", what, text);
	return root;
}

void labad_schema_ok_file(const char *schema, const char *path)
{
	static const char script[] =
		"import json, sys, jsonschema\n"
		"s = json.load(open(sys.argv[1]))\n"
		"jsonschema.Draft202012Validator.check_schema(s)\n"
		"jsonschema.Draft202012Validator(s).validate("
		"json.load(open(sys.argv[2])))\n";
	char file[4096];
	const char *argv[] = {
		"/usr/bin/python3", "-c", script, file, path, NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};
	struct lab_run res;

	snprintf(file, sizeof(file), "%s/../../../schemas/%s.schema.json",
		 lab_need_env("IPAM_LAB_FIXTURES"), schema);
	lab_must_succeed(argv, &o, &res);
	lab_run_free(&res);
}

void labad_schema_ok(const char *schema, const char *json, size_t len,
		     const char *path)
{
	assert_int_equal(lab_write_file(path, json, len), 0);
	labad_schema_ok_file(schema, path);
}

void labad_write_managed_config(const char *dir, const char *db_path,
				const char *keytab, const char *principal,
				const char *extra)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL), *path;
	struct strbuf out = STRBUF_INIT;
	bool skipping = false;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len && p[0] != ' ' && p[0] != '#')
			skipping = !strncmp(p, "identity:", 9);
		if (!strncmp(p, "database:", 9))
			strbuf_addf(&out, "database: %s%s\n",
				    db_path[0] == '/' ? "sqlite:" : "",
				    db_path);
		else if (len > 26 && !strncmp(p + len - 26,
					      "manageability: unspecified", 26))
			strbuf_addf(&out, "%.*smanageability: managed\n",
				    (int)(len - 26), p);
		else if (!skipping) {
			strbuf_add(&out, p, len);
			strbuf_addch(&out, '\n');
		}
		p += len + (eol ? 1 : 0);
	}
	strbuf_addf(&out,
		    "identity:\n  keytab: %s\n  principal: %s\n  timeout: 10\n",
		    keytab, principal);
	if (extra)
		strbuf_addstr(&out, extra);
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out.buf, out.len), 0);
	free(path);
	strbuf_release(&out);
	free(text);
	free(src);
}
