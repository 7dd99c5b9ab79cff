/*
 * ipamctl provision, gpo show and gpo filter against both forests of the
 * lab.  Every expectation is checked with tools independent of ipamctl:
 * samba-tool (gpo listall/getlink/show/aclcheck/dellink), ldapsearch,
 * smbclient, xmllint and Samba's Python bindings (security descriptors
 * read as ACEs, Registry.pol decoded by Samba's offline parser,
 * tombstones of what a rolled-back run created); `gpo show -o json` only
 * where ipamctl's own report is what is tested.
 *
 * In order, against one lab (the tests share its state):
 *  (a) a provision of corp that fails mid-way (the DC's smbd frozen with
 *      SIGSTOP, so SYSVOL times out after LDAP writes) exits 1 and leaves
 *      nothing: no IPAMUG, no IPAM1_* GPO, no stray SYSVOL folder;
 *  (b) provision of corp and branch: group, GPOs, links, DACLs, folder
 *      ACLs (aclcheck), settings files, versions, DC-side grants;
 *  (c) a second provision changes nothing at all;
 *  (d) gpo filter adds and removes computers in IPAM1_DHCP's filtering;
 *  (e) a deleted link is reported by a dry run that writes nothing, and
 *      restored by a real run;
 *  (f) a GPO named IPAM1_DNS made by samba-tool (no mark) stops a provision
 *      of a clean branch (exit 1, the GPO untouched, what the run made
 *      rolled back); --adopt takes it over, a second run has nothing to do;
 *  (g) a rollback (corp's smbd frozen) leaves alone an IPAMUG made by hand;
 *  (h) gpo filter --add-file/--remove-file, and a file naming an unknown
 *      computer writes nothing.
 * (f), (g) and (h) start from a lab cleaned of IPAMUG and IPAM1_* GPOs.
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
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

enum { GPO_DHCP, GPO_DNS, GPO_DC_NPS };

static const char *const gpo_role[LABAD_NGPO] = {"dhcp", "dns", "dc_nps"};

#define ELR_SID	  "S-1-5-32-573"
#define MARK	  "ipamctl/1;"
#define FW_KEY	  "Software\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules"
#define FW_PREFIX "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|"

/*
 * The firewall rules each GPO must carry in Machine\Registry.pol: the
 * access-settings table of ../shared/reference/ad-formats.md ("Windows
 * access settings IPAM needs") -- DHCP: DHCP Server (RPC-In), (RPCSS-In),
 * File and Printer Sharing (NB-Session-In), (SMB-In); DNS: DNS Service
 * RPC and RPC Endpoint Mapper; all: Remote Event Log Management (RPC),
 * (RPC-EPMAP); DHCP and DNS: Remote Service Management (RPC), (RPC-EPMAP)
 * -- with the Windows rule ids (the registry value names) that
 * src/formats/polfile.c's ipam_pol_fw_rules() tables use for them.
 */
struct fw_rule {
	const char *id, *name, *lport;
};

#define FW_EVT_RPC                                                             \
	{                                                                      \
		"RemoteEventLogSvc-In-TCP",                                    \
			"Remote Event Log Management (RPC)", "RPC"             \
	}
#define FW_EVT_EPMAP                                                           \
	{                                                                      \
		"RemoteEventLogSvc-RPCSS-In-TCP",                              \
			"Remote Event Log Management (RPC-EPMAP)", "RPC-EPMap" \
	}
#define FW_SVC_RPC                                                             \
	{                                                                      \
		"RemoteSvcAdmin-In-TCP", "Remote Service Management (RPC)",    \
			"RPC"                                                  \
	}
#define FW_SVC_EPMAP                                                           \
	{                                                                      \
		"RemoteSvcAdmin-RPCSS-In-TCP",                                 \
			"Remote Service Management (RPC-EPMAP)", "RPC-EPMap"   \
	}

static const struct fw_rule fw_dhcp[] = {
	{"Microsoft-Windows-DHCP-ClientSvc-RPC-TCP-In", "DHCP Server (RPC-In)",
	 "RPC"},
	{"Microsoft-Windows-DHCP-ClientSvc-RPCSS-TCP-In",
	 "DHCP Server (RPCSS-In)", "RPC-EPMap"},
	{"FPS-NB_Session-In-TCP", "File and Printer Sharing (NB-Session-In)",
	 "139"},
	{"FPS-SMB-In-TCP", "File and Printer Sharing (SMB-In)", "445"},
	FW_EVT_RPC,
	FW_EVT_EPMAP,
	FW_SVC_RPC,
	FW_SVC_EPMAP,
	{NULL, NULL, NULL},
};
static const struct fw_rule fw_dns[] = {
	{"DNSSrv-RPC-TCP-In", "RPC (TCP, Incoming)", "RPC"},
	{"DNSSrv-RPCEPMAP-TCP-In", "RPC Endpoint Mapper (TCP, Incoming)",
	 "RPC-EPMap"},
	FW_EVT_RPC,
	FW_EVT_EPMAP,
	FW_SVC_RPC,
	FW_SVC_EPMAP,
	{NULL, NULL, NULL},
};
static const struct fw_rule fw_dc_nps[] = {
	FW_EVT_RPC,
	FW_EVT_EPMAP,
	{NULL, NULL, NULL},
};
static const struct fw_rule *const fw_rules[LABAD_NGPO] = {fw_dhcp, fw_dns,
							   fw_dc_nps};

/*
 * gPCMachineExtensionNames (ad-formats.md, "Group Policy objects"): one
 * [{CSE}{tool}] per extension whose file the GPO holds, sorted by GUID --
 * Preferences Local Users and Groups (all three), Registry.pol (all
 * three), Preferences Network Shares (_DHCP), Preferences Registry (_DNS).
 * The Registry CSE's tool is the "Windows Firewall with Advanced Security"
 * snap-in {B05566AC-…}, as GPMC lists it for firewall rules (the choice
 * src/formats/polfile.c documents; ad-formats.md's table gives the generic
 * administrative-templates tool {D02B1F72-…} for Registry.pol).
 */
#define EXT_GROUPS                                                             \
	"[{17D89FEC-5C44-4972-B12D-241CAEF74509}"                              \
	"{79F92669-4224-476C-9C5C-6EFB4D87DF4A}]"
#define EXT_POL                                                                \
	"[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"                              \
	"{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]"
#define EXT_SHARES                                                             \
	"[{6A4C88C6-C502-4F74-8F60-2CB23EDC24E2}"                              \
	"{BFCBBEB0-9DF4-4C0C-A728-434EA66A0373}]"
#define EXT_REG                                                                \
	"[{B087BE9D-ED37-454F-AF9C-04291E351182}"                              \
	"{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}]"

static const char *const gpo_ext[LABAD_NGPO] = {
	EXT_GROUPS EXT_POL EXT_SHARES,
	EXT_GROUPS EXT_POL EXT_REG,
	EXT_GROUPS EXT_POL,
};

/* The settings files, relative to the GPO folder, and who has them. */
enum { F_GPT, F_POL, F_GROUPS, F_SHARES, F_REG, NFILES };
static const char *const file_path[NFILES] = {
	"GPT.INI",
	"Machine\\Registry.pol",
	"Machine\\Preferences\\Groups\\Groups.xml",
	"Machine\\Preferences\\NetworkShares\\NetworkShares.xml",
	"Machine\\Preferences\\Registry\\Registry.xml",
};
static const char *const file_local[NFILES] = {
	"GPT.INI", "Registry.pol", "Groups.xml", "NetworkShares.xml",
	"Registry.xml"};
static const bool file_in[LABAD_NGPO][NFILES] = {
	{true, true, true, true, false},
	{true, true, true, false, true},
	{true, true, true, false, false},
};

static struct labad_forest F[3];
static char *tmpdir;
static char *config;

/* ---- the lab's objects -------------------------------------------------- */

static char *elr_dn(int f)
{
	return xasprintf("CN=Event Log Readers,CN=Builtin,%s", F[f].dn);
}

static char *dns_dn(int f)
{
	return xasprintf("CN=MicrosoftDNS,CN=System,%s", F[f].dn);
}

static char *policies_dn(int f)
{
	return xasprintf("CN=Policies,CN=System,%s", F[f].dn);
}

/* Any apply ACE (OA … edacfd8f…) for sid? */
static bool has_apply(char **acl, const char *sid)
{
	for (; *acl; acl++) {
		size_t len = strlen(*acl), slen = strlen(sid);

		if (len > slen && !strncmp(*acl, "OA ", 3) &&
		    strstr(*acl, LABAD_APPLY_GUID) &&
		    (*acl)[len - slen - 1] == ' ' &&
		    !strcmp(*acl + len - slen, sid))
			return true;
	}
	return false;
}

static char *share_dir(int f, int k)
{
	return xasprintf("%s\\Policies\\%s", F[f].domain, F[f].guid[k]);
}

/* The GPO folder's settings files into a fresh local directory; the
 * names of those that are not there (NOT_FOUND) in *missing. */
static char *fetch_files(int f, int k, char ***missing)
{
	static unsigned serial;
	char *dir = xasprintf("%s/f%d-%s-%u", tmpdir, f, gpo_role[k], serial++);
	char *share = share_dir(f, k);
	struct strbuf cmd = STRBUF_INIT;
	struct lab_run res;
	size_t i, n = 0;

	assert_int_equal(mkdir(dir, 0700), 0);
	strbuf_addf(&cmd, "lcd %s", dir);
	for (i = 0; i < NFILES; i++)
		strbuf_addf(&cmd, "; get \"%s\\%s\" %s", share, file_path[i],
			    file_local[i]);
	labad_smbclient(f, cmd.buf, &res);
	*missing = NULL;
	for (i = 0; i < NFILES; i++) {
		char *local = xasprintf("%s/%s", dir, file_local[i]);
		struct stat st;

		if (stat(local, &st)) {
			char *needle = xasprintf("%s\\%s", share, file_path[i]);

			/* absent, not unreadable */
			if (!labad_ci_strstr(res.out, needle) ||
			    !(strstr(res.out, "NOT_FOUND") ||
			      strstr(res.out, "NO_SUCH_FILE")))
				fail_msg("%s: %s neither fetched nor "
					 "reported missing: %s",
					 F[f].domain, file_path[i],
					 lab_run_describe(&res, "smbclient"));
			labad_strv_push(missing, &n, file_path[i]);
			free(needle);
		}
		free(local);
	}
	if (!*missing)
		*missing = xcalloc(1, sizeof(**missing));
	lab_run_free(&res);
	strbuf_release(&cmd);
	free(share);
	return dir;
}

/* ---- freezing the corp DC's smbd --------------------------------------- */

static pid_t frozen[64];
static volatile sig_atomic_t nfrozen;

static void thaw(void)
{
	sig_atomic_t i;

	for (i = 0; i < nfrozen; i++)
		kill(frozen[i], SIGCONT);
	nfrozen = 0;
}

static void thaw_on_signal(int sig)
{
	thaw();
	signal(sig, SIG_DFL);
	raise(sig);
}

struct proc {
	pid_t pid, ppid;
	char comm[64];
	char state;
};

static size_t read_procs(struct proc **out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct proc *v = NULL;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char *path, *text, *open, *close;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		path = xasprintf("/proc/%s/stat", e->d_name);
		text = lab_read_file(path, 4096, NULL);
		free(path);
		if (!text)
			continue;
		open = strchr(text, '(');
		close = strrchr(text, ')');
		if (open && close && close > open && close[1] == ' ') {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n].pid = (pid_t)strtol(text, NULL, 10);
			snprintf(v[n].comm, sizeof(v[n].comm), "%.*s",
				 (int)(close - open - 1), open + 1);
			v[n].state = close[2];
			v[n].ppid = (pid_t)strtol(close + 4, NULL, 10);
			n++;
		}
		free(text);
	}
	closedir(d);
	*out = v;
	return n;
}

static bool descends_from(const struct proc *v, size_t n, pid_t pid, pid_t root)
{
	size_t depth, i;

	for (depth = 0; depth < 64 && pid > 1; depth++) {
		if (pid == root)
			return true;
		for (i = 0; i < n && v[i].pid != pid; i++)
			;
		if (i == n)
			return false;
		pid = v[i].ppid;
	}
	return false;
}

/* SIGSTOP every smbd under the corp samba: SMB to the DC stops
 * answering (TCP still connects), LDAP keeps working. */
static void freeze_corp_smbd(void)
{
	pid_t root = labad_samba_pid("samba-corp");
	struct proc *v;
	size_t n = read_procs(&v), i;

	signal(SIGTERM, thaw_on_signal);
	signal(SIGINT, thaw_on_signal);
	for (i = 0; i < n; i++) {
		if (strncmp(v[i].comm, "smbd", 4) ||
		    !descends_from(v, n, v[i].pid, root) ||
		    nfrozen >=
			    (sig_atomic_t)(sizeof(frozen) / sizeof(frozen[0])))
			continue;
		if (kill(v[i].pid, SIGSTOP) == 0)
			frozen[nfrozen++] = v[i].pid;
	}
	free(v);
	if (nfrozen == 0)
		fail_msg("no smbd process under samba-corp (pid %ld)",
			 (long)root);
	/* stopped for real before ipamctl starts */
	for (int tries = 0; tries < 50; tries++) {
		bool all = true;
		sig_atomic_t k;

		n = read_procs(&v);
		for (k = 0; k < nfrozen; k++)
			for (i = 0; i < n; i++)
				if (v[i].pid == frozen[k] && v[i].state != 'T')
					all = false;
		free(v);
		if (all)
			return;
		usleep(20000);
	}
	fail_msg("smbd did not stop");
}

/* ---- ipamctl's report --------------------------------------------------- */

/* "a.b.c" through maps; fails naming the path when absent. */
static const struct ipam_node *jpath(const struct ipam_node *n,
				     const char *path, const char *ctx)
{
	const char *p = path;

	while (n && *p) {
		const char *dot = strchr(p, '.');
		char *key = xstrndup(p, dot ? (size_t)(dot - p) : strlen(p));

		n = labad_jkey(n, key);
		free(key);
		p = dot ? dot + 1 : p + strlen(p);
	}
	if (!n)
		fail_msg("%s: no '%s' in gpo show -o json", ctx, path);
	return n;
}

static void jbool(const struct ipam_node *n, const char *path, bool want,
		  const char *ctx)
{
	const struct ipam_node *v = jpath(n, path, ctx);

	if (v->kind != IPAM_NODE_BOOL || v->boolean != want)
		fail_msg("%s: gpo show: %s is %s, expected %s", ctx, path,
			 v->kind == IPAM_NODE_BOOL
				 ? (v->boolean ? "true" : "false")
				 : "not a boolean",
			 want ? "true" : "false");
}

static void jint(const struct ipam_node *n, const char *path, long long want,
		 const char *ctx)
{
	const struct ipam_node *v = jpath(n, path, ctx);

	if (v->kind != IPAM_NODE_INT || v->num != want)
		fail_msg("%s: gpo show: %s is %lld (kind %d), expected %lld",
			 ctx, path, v->num, (int)v->kind, want);
}

static void jstr_ci(const struct ipam_node *n, const char *path,
		    const char *want, const char *ctx)
{
	const struct ipam_node *v = jpath(n, path, ctx);

	if (v->kind != IPAM_NODE_STR || strcasecmp(v->str, want))
		fail_msg("%s: gpo show: %s is '%s', expected '%s'", ctx, path,
			 v->kind == IPAM_NODE_STR ? v->str : "(not a string)",
			 want);
}

/* gpo show --domain -o json of forest f: the root (free it) and *dom. */
static struct ipam_node *gpo_show(int f, const struct ipam_node **dom)
{
	struct ipam_node *root = NULL;
	char *path;
	const struct ipam_node *doms;
	struct lab_run res;
	size_t i;

	labad_run_ipamctl(&res, "gpo", "show", "--domain", F[f].domain, "-c",
			  config, "-o", "json", NULL);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "ipamctl gpo show"));
	if (ipam_json_parse(&root, "gpo show", res.out, res.out_len))
		fail_msg("%s", lab_run_describe(&res, "ipamctl gpo show "
						      "(not JSON)"));
	path = xasprintf("%s/gpo-show.json", tmpdir);
	labad_schema_ok("gpo-show", res.out, res.out_len, path);
	free(path);
	lab_run_free(&res);
	doms = jpath(root, "domains", F[f].domain);
	*dom = NULL;
	for (i = 0; doms->kind == IPAM_NODE_SEQ && i < doms->nr; i++) {
		const struct ipam_node *d =
			labad_jkey(doms->items[i], "domain");

		if (d && d->kind == IPAM_NODE_STR &&
		    !strcasecmp(d->str, F[f].domain))
			*dom = doms->items[i];
	}
	if (!*dom)
		fail_msg("gpo show: no domain %s", F[f].domain);
	return root;
}

static const struct ipam_node *show_gpo(const struct ipam_node *dom, int k)
{
	const struct ipam_node *gpos = jpath(dom, "gpos", labad_gpo_name[k]);
	size_t i;

	for (i = 0; gpos->kind == IPAM_NODE_SEQ && i < gpos->nr; i++) {
		const struct ipam_node *r = labad_jkey(gpos->items[i], "role");

		if (r && r->kind == IPAM_NODE_STR &&
		    !strcmp(r->str, gpo_role[k]))
			return gpos->items[i];
	}
	fail_msg("gpo show: no GPO of role %s", gpo_role[k]);
	return NULL;
}

/* The SIDs of the filtering list of a GPO in gpo show, sorted. */
static char **show_filtering(const struct ipam_node *g, char ***names)
{
	const struct ipam_node *fl = jpath(g, "filtering", "filtering");
	char **v = NULL, **nm = NULL;
	size_t n = 0, m = 0, i;

	if (fl->kind != IPAM_NODE_SEQ)
		fail_msg("gpo show: filtering is not a list");
	for (i = 0; i < fl->nr; i++) {
		const struct ipam_node *s = labad_jkey(fl->items[i], "sid");
		const struct ipam_node *name = labad_jkey(fl->items[i], "name");

		if (!s || s->kind != IPAM_NODE_STR)
			fail_msg("gpo show: filtering entry without sid");
		labad_strv_push(&v, &n, s->str);
		labad_strv_push(&nm, &m,
				name && name->kind == IPAM_NODE_STR ? name->str
								    : "");
	}
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		nm = xcalloc(1, sizeof(*nm));
	}
	if (names)
		*names = nm;
	else
		lab_strv_free(nm);
	return v;
}

/* Change lines of provision's text output for domain ("D: + …"). */
static char **change_lines(const char *out, const char *domain)
{
	static const char kinds[] = "+~-";
	char **v = NULL;
	size_t n = 0, i;
	char **all = lab_lines(out, NULL);

	for (i = 0; all && all[i]; i++) {
		size_t dl = strlen(domain);
		const char *l = all[i];

		while (*l == ' ')
			l++;
		if (!strncasecmp(l, domain, dl) && l[dl] == ':' &&
		    l[dl + 1] == ' ' && l[dl + 2] && strchr(kinds, l[dl + 2]) &&
		    l[dl + 3] == ' ')
			labad_strv_push(&v, &n, l);
	}
	lab_strv_free(all);
	if (!v)
		v = xcalloc(1, sizeof(*v));
	return v;
}

static void provision_ok(int f, bool dry_run, struct lab_run *res)
{
	if (dry_run)
		labad_run_ipamctl(res, "provision", "--domain", F[f].domain,
				  "-c", config, "--dry-run", NULL);
	else
		labad_run_ipamctl(res, "provision", "--domain", F[f].domain,
				  "-c", config, NULL);
	if (res->exit_code != 0 || res->timed_out)
		fail_msg("%s", lab_run_describe(res, dry_run ? "ipamctl "
							       "provision "
							       "--dry-run"
							     : "ipamctl "
							       "provision"));
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	struct lab_run res;
	int f;

	(void)state;
	config = xstrdup(lab_need_env("IPAM_LAB_CONFIG"));
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	for (f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	labad_run_ipamctl(&res, "db", "init", "-c", config, NULL);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "ipamctl db init"));
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	int f;

	(void)state;
	thaw();
	for (f = 1; f <= 2; f++) {
		if (!lab_env("IPAM_GPOTEST_KEEP"))
			labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(config);
	return 0;
}

static int thaw_teardown(void **state)
{
	(void)state;
	thaw();
	return 0;
}

/* ---- (a) rollback ------------------------------------------------------- */

/* GPO folders under Policies (names starting with '{'), sorted. */
static char **policy_folders(int f)
{
	char *cmd = xasprintf("ls \"%s\\Policies\\*\"", F[f].domain);
	struct lab_run res;
	char **lines, **v = NULL;
	size_t n = 0, i;

	labad_smbclient(f, cmd, &res);
	if (res.exit_code)
		fail_msg("%s", lab_run_describe(&res, "smbclient ls"));
	lines = lab_lines(res.out, NULL);
	for (i = 0; lines && lines[i]; i++) {
		const char *l = lines[i];
		size_t len;

		while (*l == ' ')
			l++;
		if (*l != '{')
			continue;
		len = strcspn(l, "}");
		if (l[len] != '}')
			continue;
		{
			char *name = xstrndup(l, len + 1);

			for (char *c = name; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			labad_strv_push(&v, &n, name);
			free(name);
		}
	}
	lab_strv_free(lines);
	lab_run_free(&res);
	free(cmd);
	if (!v)
		v = xcalloc(1, sizeof(*v));
	return v;
}

/* CNs of the groupPolicyContainers, upper case. */
static char **policy_containers(int f)
{
	static const char *const attrs[] = {"cn", NULL};
	char *base = policies_dn(f);
	struct lab_run res;
	char **v;
	size_t i;

	labad_ldap_search(f, base, "one", "(objectClass=groupPolicyContainer)",
			  attrs, &res);
	v = labad_ldif_values(res.out, "cn");
	for (i = 0; v[i]; i++)
		for (char *c = v[i]; *c; c++)
			*c = (char)toupper((unsigned char)*c);
	lab_run_free(&res);
	free(base);
	return v;
}

static size_t count_tombstones(const char *text, const char *prefix,
			       char ***sids)
{
	char **lines = lab_lines(text, NULL);
	size_t n = 0, m = 0, i;

	for (i = 0; lines && lines[i]; i++)
		if (!strncmp(lines[i], prefix, strlen(prefix))) {
			if (sids) {
				char **fields = NULL, *p = lines[i];
				size_t nf = 0;

				while (p) {
					char *tab = strchr(p, '\t');
					char *fv = xstrndup(
						p, tab ? (size_t)(tab - p)
						       : strlen(p));

					labad_strv_push(&fields, &nf, fv);
					free(fv);
					p = tab ? tab + 1 : NULL;
				}
				if (nf >= 3)
					labad_strv_push(sids, &m, fields[2]);
				lab_strv_free(fields);
			}
			n++;
		}
	lab_strv_free(lines);
	return n;
}

static void test_a_failure_mid_way_rolls_back(void **state)
{
	const int f = 1;
	char **folders_before, **folders_after, **containers;
	char **ug_before = NULL, **ug_after = NULL, **ug, **gpcs, **elr;
	char **dnsacl, *elrdn, *dnsdn;
	struct lab_run res, tomb;
	size_t ug_n0, ug_n1, gpc_n0, gpc_n1, i;
	time_t t0;

	(void)state;
	folders_before = policy_folders(f);
	labad_py(f, "tombstones", NULL, &tomb);
	ug_n0 = count_tombstones(tomb.out, "group\tIPAMUG\t", &ug_before);
	gpc_n0 = count_tombstones(tomb.out, "groupPolicyContainer\t", NULL);
	lab_run_free(&tomb);

	freeze_corp_smbd();
	t0 = time(NULL);
	labad_run_ipamctl(&res, "provision", "--domain", F[f].domain, "-c",
			  config, NULL);
	thaw();
	if (res.exit_code != 1 || res.timed_out || res.err_len == 0)
		fail_msg("expected exit 1 with an error on stderr: %s",
			 lab_run_describe(&res, "ipamctl provision (smbd "
						"frozen)"));
	printf("provision with smbd frozen: exit 1 after %lds; "
	       "stderr: %s",
	       (long)(time(NULL) - t0), res.err);

	/* Nothing left: no IPAMUG, no IPAM1_* GPO (listall, and no
	 * container of that name), no stray folder in SYSVOL. */
	ug = labad_ldap_dns(f, F[f].dn, "sub", "(sAMAccountName=IPAMUG)");
	if (ug[0])
		fail_msg("IPAMUG left behind (%s) after the failed run: %s",
			 ug[0], lab_run_describe(&res, "provision"));
	lab_strv_free(ug);
	if (labad_list_gpos(f, NULL, NULL))
		fail_msg("IPAM1_* GPO left behind after the failed run: %s",
			 lab_run_describe(&res, "provision"));
	{
		char *base = policies_dn(f);

		gpcs = labad_ldap_dns(f, base, "sub", "(displayName=IPAM1_*)");
		if (gpcs[0])
			fail_msg("container left behind: %s", gpcs[0]);
		lab_strv_free(gpcs);
		free(base);
	}
	folders_after = policy_folders(f);
	lab_assert_set(folders_after, (const char *const *)folders_before,
		       "SYSVOL Policies folders before and after the failed "
		       "run");
	containers = policy_containers(f);
	lab_assert_set(folders_after, (const char *const *)containers,
		       "SYSVOL Policies folders against the GPO containers");

	/* It did get mid-way: IPAMUG was created (and deleted again) --
	 * its tombstone is the proof that the rollback ran. */
	labad_py(f, "tombstones", NULL, &tomb);
	ug_n1 = count_tombstones(tomb.out, "group\tIPAMUG\t", &ug_after);
	gpc_n1 = count_tombstones(tomb.out, "groupPolicyContainer\t", NULL);
	printf("rolled back: %zu IPAMUG group(s), %zu GPO "
	       "container(s)\n",
	       ug_n1 - ug_n0, gpc_n1 - gpc_n0);
	if (ug_n1 <= ug_n0)
		fail_msg("no IPAMUG was created and removed: the failure came "
			 "before any write, so no rollback was exercised "
			 "(tombstones:\n%s)\n%s",
			 tomb.out, lab_run_describe(&res, "ipamctl provision"));
	/* and the DC-side grants of that IPAMUG are gone too */
	elrdn = elr_dn(f);
	dnsdn = dns_dn(f);
	elr = labad_ldap_all(f, elrdn, "member");
	dnsacl = labad_aces(f, dnsdn);
	for (i = 0; ug_after[i]; i++) {
		if (labad_strv_has(ug_before, ug_after[i]))
			continue;
		for (char **a = dnsacl; *a; a++)
			if (strstr(*a, ug_after[i]))
				fail_msg("%s keeps an ACE of the rolled-back "
					 "IPAMUG: %s",
					 dnsdn, *a);
	}
	for (i = 0; elr[i]; i++)
		if (labad_ci_strstr(elr[i], "CN=IPAMUG"))
			fail_msg("Event Log Readers holds %s", elr[i]);
	lab_strv_free(elr);
	lab_strv_free(dnsacl);
	free(elrdn);
	free(dnsdn);
	lab_run_free(&tomb);
	lab_strv_free(ug_before);
	lab_strv_free(ug_after);
	lab_strv_free(folders_before);
	lab_strv_free(folders_after);
	lab_strv_free(containers);
	lab_run_free(&res);
}

/* ---- (b) provision ------------------------------------------------------ */

static void check_registry_pol(int f, int k, const char *file)
{
	const struct fw_rule *r;
	struct lab_run res;
	char **lines, **names = NULL, **want = NULL;
	size_t n = 0, m = 0, i;
	char ctx[128];

	snprintf(ctx, sizeof(ctx), "%s %s Registry.pol", F[f].domain,
		 labad_gpo_name[k]);
	labad_py(0, "pol", (const char *const[]){file, NULL}, &res);
	lines = lab_lines(res.out, NULL);
	for (i = 0; lines && lines[i]; i++) {
		char *l = lines[i], *t1 = strchr(l, '\t');
		char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;

		if (!t3)
			fail_msg("%s: bad line '%s'", ctx, l);
		*t1 = *t2 = *t3 = '\0';
		if (strcasecmp(l, FW_KEY))
			fail_msg("%s: unexpected key '%s'", ctx, l);
		if (strcmp(t2 + 1, "1"))
			fail_msg("%s: %s is of type %s, not REG_SZ", ctx,
				 t1 + 1, t2 + 1);
		labad_strv_push(&names, &n, t1 + 1);
		for (r = fw_rules[k]; r->id; r++) {
			char *lport, *name;

			if (strcmp(r->id, t1 + 1))
				continue;
			lport = xasprintf("|LPort=%s|", r->lport);
			name = xasprintf("|Name=%s|", r->name);
			if (strncmp(t3 + 1, FW_PREFIX, strlen(FW_PREFIX)) ||
			    !strstr(t3 + 1, lport) || !strstr(t3 + 1, name) ||
			    t3[1 + strlen(t3 + 1) - 1] != '|')
				fail_msg("%s: rule %s is '%s' (want %s…%s "
					 "and %s)",
					 ctx, r->id, t3 + 1, FW_PREFIX, lport,
					 name);
			free(lport);
			free(name);
		}
	}
	for (r = fw_rules[k]; r->id; r++)
		labad_strv_push(&want, &m, r->id);
	if (!names)
		names = xcalloc(1, sizeof(*names));
	/* the firewall rule ids, exactly (as a multiset) */
	lab_assert_set(names, (const char *const *)want, ctx);
	lab_strv_free(names);
	lab_strv_free(want);
	lab_strv_free(lines);
	lab_run_free(&res);
}

static void xmllint_ok(const char *file)
{
	const char *argv[] = {"xmllint", "--noout", file, NULL};
	struct lab_run res;

	lab_must_succeed(argv, NULL, &res);
	lab_run_free(&res);
}

static void check_gpp(int f, int k, int which, const char *file)
{
	const char *sid = F[f].ipamug_sid;
	struct lab_run res;
	char *need[4] = {NULL, NULL, NULL, NULL};
	size_t i;

	xmllint_ok(file);
	labad_py(0, "gpp", (const char *const[]){file, NULL}, &res);
	switch (which) {
	case F_GROUPS:
		/* IPAMUG added to the local Event Log Readers (all three)
		 * and DHCP Users (_DHCP) */
		need[0] = xstrdup("root\tGroups\t"
				  "{3125E937-EB16-4b4c-9934-544FC6D24D26}");
		need[1] = xasprintf("prop\tgroupSid\t%s", ELR_SID);
		need[2] = xasprintf("\tADD\t%s", sid);
		if (k == GPO_DHCP)
			need[3] = xstrdup("prop\tgroupName\tDHCP Users");
		/* adding the member without clearing the others */
		if (strstr(res.out, "prop\tdeleteAllUsers\t1") ||
		    strstr(res.out, "prop\tdeleteAllGroups\t1") ||
		    strstr(res.out, "prop\tremoveAccounts\t1"))
			fail_msg("%s %s Groups.xml clears members:\n%s",
				 F[f].domain, labad_gpo_name[k], res.out);
		break;
	case F_SHARES:
		need[0] = xstrdup("root\tNetworkShareSettings\t"
				  "{520870D8-A6E7-47e8-A8D8-E6A4E76EAEC2}");
		need[1] = xstrdup("prop\tname\tdhcpaudit");
		break;
	case F_REG:
		/* read for IPAMUG in the DNS Server event log CustomSD */
		need[0] = xstrdup("root\tRegistrySettings\t"
				  "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}");
		need[1] = xstrdup("prop\tname\tCustomSD");
		need[2] = xasprintf("(A;;0x1;;;%s)", sid);
		need[3] = xstrdup("prop\tkey\tSYSTEM\\CurrentControlSet\\"
				  "Services\\EventLog\\DNS Server");
		break;
	}
	for (i = 0; i < 4; i++) {
		if (need[i] && !labad_ci_strstr(res.out, need[i]))
			fail_msg("%s %s %s: no '%s' in\n%s", F[f].domain,
				 labad_gpo_name[k], file_path[which], need[i],
				 res.out);
		free(need[i]);
	}
	lab_run_free(&res);
}

static void check_gpo(int f, int k)
{
	static const char *const attrs[] = {"objectClass",
					    "displayName",
					    "adminDescription",
					    "gPCFunctionalityVersion",
					    "versionNumber",
					    "flags",
					    "gPCFileSysPath",
					    "gPCMachineExtensionNames",
					    NULL};
	const char *dn = F[f].gpo_dn[k];
	char ctx[128], *v, *path, *dir, *gpt, *ver_s, **missing, **acl;
	char **children;
	struct lab_run res;
	long version;
	size_t i;

	snprintf(ctx, sizeof(ctx), "%s %s %s", F[f].domain, labad_gpo_name[k],
		 F[f].guid[k]);

	/* the container */
	labad_ldap_search(f, dn, "base", "(objectClass=*)", attrs, &res);
	{
		char **oc = labad_ldif_values(res.out, "objectClass");
		char **dsc = labad_ldif_values(res.out, "adminDescription");
		char **fv =
			labad_ldif_values(res.out, "gPCFunctionalityVersion");
		char **vn = labad_ldif_values(res.out, "versionNumber");
		char **fl = labad_ldif_values(res.out, "flags");
		char **fsp = labad_ldif_values(res.out, "gPCFileSysPath");
		char **ext =
			labad_ldif_values(res.out, "gPCMachineExtensionNames");
		char *want_fsp =
			xasprintf("\\\\%s\\SysVol\\%s\\Policies\\%s",
				  F[f].domain, F[f].domain, F[f].guid[k]);

		if (!labad_strv_has(oc, "groupPolicyContainer"))
			fail_msg("%s: not a groupPolicyContainer", ctx);
		if (!dsc[0] || strncmp(dsc[0], MARK, strlen(MARK)))
			fail_msg("%s: adminDescription '%s' is not ipamctl's "
				 "mark",
				 ctx, dsc[0] ? dsc[0] : "(none)");
		if (!fv[0] || strcmp(fv[0], "2"))
			fail_msg("%s: gPCFunctionalityVersion %s", ctx,
				 fv[0] ? fv[0] : "(none)");
		if (!vn[0] || strcmp(vn[0], "1"))
			fail_msg("%s: versionNumber %s, expected 1", ctx,
				 vn[0] ? vn[0] : "(none)");
		if (fl[0] && strcmp(fl[0], "0"))
			fail_msg("%s: flags %s (a side disabled)", ctx, fl[0]);
		if (!fsp[0] || strcasecmp(fsp[0], want_fsp))
			fail_msg("%s: gPCFileSysPath %s, expected %s", ctx,
				 fsp[0] ? fsp[0] : "(none)", want_fsp);
		if (!ext[0] || strcasecmp(ext[0], gpo_ext[k]))
			fail_msg("%s: gPCMachineExtensionNames %s, expected "
				 "%s",
				 ctx, ext[0] ? ext[0] : "(none)", gpo_ext[k]);
		lab_strv_free(oc);
		lab_strv_free(dsc);
		lab_strv_free(fv);
		lab_strv_free(vn);
		lab_strv_free(fl);
		lab_strv_free(fsp);
		lab_strv_free(ext);
		free(want_fsp);
	}
	lab_run_free(&res);
	children = labad_ldap_dns(f, dn, "one", "(objectClass=container)");
	assert_int_equal(labad_strv_len(children), 2);
	{
		char *u = xasprintf("CN=User,%s", dn);
		char *m = xasprintf("CN=Machine,%s", dn);

		if (!labad_strv_has_ci(children, u) ||
		    !labad_strv_has_ci(children, m))
			fail_msg("%s: children %s, %s", ctx, children[0],
				 children[1]);
		free(u);
		free(m);
	}
	lab_strv_free(children);

	/* linked, enabled, not enforced, on the domain head */
	v = labad_link_options(&F[f], F[f].guid[k]);
	if (!v || strcmp(v, "NONE"))
		fail_msg("%s: link on %s: %s", ctx, F[f].dn,
			 v ? v : "not linked");
	free(v);

	/* the DACL, as samba-tool gpo show renders it, and ACE by ACE */
	{
		const char *args[] = {"gpo", "show", F[f].guid[k], NULL};
		char *sddl, *edit;

		labad_samba_tool_ok(f, args, &res);
		sddl = labad_field(res.out, "ACL");
		v = labad_field(res.out, "display name");
		if (!v || strcmp(v, labad_gpo_name[k]))
			fail_msg("%s: gpo show display name %s", ctx, v);
		free(v);
		if (!sddl || !strstr(sddl, "(A;CI;RPLCLORC;;;AU)") ||
		    strstr(sddl, "(OA;CI;CR;" LABAD_APPLY_GUID ";;AU)"))
			fail_msg("%s: Authenticated Users must read and not "
				 "apply: %s",
				 ctx, sddl ? sddl : "(no ACL)");
		edit = xasprintf("(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;%s)",
				 F[f].ipamug_sid);
		if (!strstr(sddl, edit))
			fail_msg("%s: no %s in %s", ctx, edit, sddl);
		free(edit);
		free(sddl);
		lab_run_free(&res);
	}
	acl = labad_aces(f, dn);
	labad_expect_ace(acl, LABAD_ACE_READ, LABAD_AU_SID, true, ctx);
	if (has_apply(acl, LABAD_AU_SID))
		fail_msg("%s: Authenticated Users can apply", ctx);
	labad_expect_ace(acl, LABAD_ACE_EDIT, F[f].ipamug_sid, true, ctx);
	/* filtering starts empty: nobody applies the GPO */
	for (i = 0; acl[i]; i++)
		if (strstr(acl[i], LABAD_APPLY_GUID))
			fail_msg("%s: apply ACE %s on a fresh GPO", ctx,
				 acl[i]);
	lab_strv_free(acl);

	/* the settings files */
	dir = fetch_files(f, k, &missing);
	for (i = 0; i < NFILES; i++) {
		bool absent = labad_strv_has(missing, file_path[i]);

		if (absent == file_in[k][i])
			fail_msg("%s: %s is %s", ctx, file_path[i],
				 absent ? "missing" : "there, unexpected");
	}
	path = xasprintf("%s/GPT.INI", dir);
	gpt = lab_need_file(path, NULL);
	free(path);
	ver_s = labad_ci_strstr(gpt, "Version=");
	if (!strstr(gpt, "[General]") || !ver_s)
		fail_msg("%s: GPT.INI '%s'", ctx, gpt);
	version = strtol(ver_s + 8, NULL, 10);
	v = labad_ldap_get(f, dn, "versionNumber");
	if (!v || strtol(v, NULL, 10) != version || version != 1)
		fail_msg("%s: GPT.INI Version %ld, versionNumber %s "
			 "(both must be 1)",
			 ctx, version, v ? v : "(none)");
	free(v);
	free(gpt);
	path = xasprintf("%s/Registry.pol", dir);
	check_registry_pol(f, k, path);
	free(path);
	for (i = F_GROUPS; i < NFILES; i++) {
		if (!file_in[k][i])
			continue;
		path = xasprintf("%s/%s", dir, file_local[i]);
		check_gpp(f, k, (int)i, path);
		free(path);
	}
	lab_strv_free(missing);
	free(dir);
}

/* The member that stands for ipam1 in forest f's IPAMUG: its computer
 * account in corp; in branch (which trusts corp) its foreign security
 * principal, named after its SID in corp. */
static char *server_member(int f)
{
	char *sid, *dn;

	if (f == 1)
		return xasprintf("CN=IPAM1,CN=Computers,%s", F[f].dn);
	sid = labad_sid_of(1, "(dNSHostName=ipam1.corp.example.test)");
	dn = xasprintf("CN=%s,CN=ForeignSecurityPrincipals,%s", sid, F[f].dn);
	free(sid);
	return dn;
}

static void check_domain(int f, bool has_server)
{
	static const char *const attrs[] = {"groupType", "adminDescription",
					    "member", NULL};
	char *ug = labad_ipamug_dn(&F[f]), *elr = elr_dn(f), *dns = dns_dn(f);
	char **dns_list, **members, **elr_members, **acl;
	struct lab_run res;
	int k;

	/* IPAMUG: CN=Users, universal security, marked, the server in it */
	dns_list = labad_ldap_dns(f, F[f].dn, "sub", "(sAMAccountName=IPAMUG)");
	if (labad_strv_len(dns_list) != 1 || strcasecmp(dns_list[0], ug))
		fail_msg("%s: IPAMUG at %s, expected %s", F[f].domain,
			 dns_list[0] ? dns_list[0] : "(nowhere)", ug);
	lab_strv_free(dns_list);
	labad_ldap_search(f, ug, "base", "(objectClass=group)", attrs, &res);
	{
		char **gt = labad_ldif_values(res.out, "groupType");
		char **dsc = labad_ldif_values(res.out, "adminDescription");

		/* 0x80000008 as LDAP's signed integer */
		if (!gt[0] || strcmp(gt[0], "-2147483640"))
			fail_msg("%s: IPAMUG groupType %s", F[f].domain,
				 gt[0] ? gt[0] : "(none)");
		if (!dsc[0] || strncmp(dsc[0], MARK, strlen(MARK)) ||
		    !strstr(dsc[0], "; ipamServer=ipam1.corp.example.test;") ||
		    !strstr(dsc[0], "; gpoPrefix=IPAM1;") ||
		    !strstr(dsc[0], "; source="))
			fail_msg("%s: IPAMUG adminDescription '%s'",
				 F[f].domain, dsc[0] ? dsc[0] : "(none)");
		lab_strv_free(gt);
		lab_strv_free(dsc);
	}
	members = labad_ldif_values(res.out, "member");
	lab_run_free(&res);
	if (has_server) {
		char *server = server_member(f);

		if (labad_strv_len(members) != 1 ||
		    strcasecmp(members[0], server))
			fail_msg("%s: IPAMUG members [%s], expected %s",
				 F[f].domain, labad_join(members), server);
		free(server);
	} else if (members[0]) {
		fail_msg("%s: IPAMUG members [%s], expected none", F[f].domain,
			 labad_join(members));
	}
	lab_strv_free(members);
	free(F[f].ipamug_sid);
	F[f].ipamug_sid = labad_sid_of(f, "(sAMAccountName=IPAMUG)");

	/* DC side: Event Log Readers, and read on CN=MicrosoftDNS */
	elr_members = labad_ldap_all(f, elr, "member");
	if (!labad_strv_has_ci(elr_members, ug))
		fail_msg("%s: %s not in %s (members: %s)", F[f].domain, ug, elr,
			 labad_join(elr_members));
	lab_strv_free(elr_members);
	/* never Administrators on a DC */
	{
		char *adm =
			xasprintf("CN=Administrators,CN=Builtin,%s", F[f].dn);
		char **am = labad_ldap_all(f, adm, "member");

		if (labad_strv_has_ci(am, ug))
			fail_msg("%s: IPAMUG is in %s", F[f].domain, adm);
		lab_strv_free(am);
		free(adm);
	}
	acl = labad_aces(f, dns);
	labad_expect_ace(acl, LABAD_ACE_DNS, F[f].ipamug_sid, true, dns);
	lab_strv_free(acl);

	labad_need_gpos(&F[f], false);
	for (k = 0; k < LABAD_NGPO; k++)
		check_gpo(f, k);
	labad_aclcheck_ok(f);
	free(ug);
	free(elr);
	free(dns);
}

/* gpo show's parsed content of a GPO's settings files: Registry.pol
 * holds exactly the firewall rules of its roles, Groups.xml adds IPAMUG
 * (by SID) to Event Log Readers. */
static void show_content_ok(const struct ipam_node *g, int k,
			    const char *ipamug_sid)
{
	const struct ipam_node *files = jpath(g, "settings.files", "gpo show");
	const char *want[16];
	char **got = labad_strv_new();
	size_t n = 0, nr_got = 0;
	bool pol = false, elr = false;
	int dhcp_users = 0; /* 1: IPAMUG added, -1: without IPAMUG */

	for (const struct fw_rule *r = fw_rules[k]; r->id && n < 15; r++)
		want[n++] = r->id;
	want[n] = NULL;
	for (size_t i = 0; files->kind == IPAM_NODE_SEQ && i < files->nr; i++) {
		const char *path = labad_jstr(files->items[i], "path");
		const struct ipam_node *c =
			labad_jkey(files->items[i], "content");

		if (!path || !c || c->kind != IPAM_NODE_SEQ)
			fail_msg("%s: gpo show: a file without content",
				 labad_gpo_name[k]);
		for (size_t j = 0; j < c->nr; j++) {
			const char *l = c->items[j]->str;

			if (strstr(path, "Registry.pol") &&
			    !strncmp(l, "firewall rule ", 14))
				labad_strv_push(&got, &nr_got, l + 14);
			if (strstr(path, "Groups.xml") &&
			    !strncmp(l, "group Event Log Readers", 23) &&
			    strstr(l, ipamug_sid))
				elr = true;
			if (strstr(path, "Groups.xml") &&
			    !strncmp(l, "group Administrators", 20))
				fail_msg("%s: Groups.xml touches "
					 "Administrators: "
					 "%s",
					 labad_gpo_name[k], l);
			if (strstr(path, "Groups.xml") &&
			    !strncmp(l, "group DHCP Users", 16))
				dhcp_users = strstr(l, ipamug_sid) ? 1 : -1;
		}
		pol |= strstr(path, "Registry.pol") != NULL;
	}
	if (!pol || !elr)
		fail_msg(
			"%s: gpo show: no Registry.pol (%d) or no IPAMUG %s in "
			"Event Log Readers in Groups.xml (%d)",
			labad_gpo_name[k], pol, ipamug_sid, elr);
	/* DHCP Users only in _DHCP, with IPAMUG */
	if (dhcp_users != (k == GPO_DHCP ? 1 : 0))
		fail_msg("%s: gpo show: DHCP Users in Groups.xml: %d",
			 labad_gpo_name[k], dhcp_users);
	lab_assert_set(got, want,
		       "gpo show: the firewall rules of Registry.pol");
	lab_strv_free(got);
}

/* What gpo show -o json reports after provisioning. */
static void check_show(int f, bool has_server)
{
	const struct ipam_node *dom, *g;
	struct ipam_node *root = gpo_show(f, &dom);
	const char *d = F[f].domain;
	char *ug = labad_ipamug_dn(&F[f]);
	int k;

	if (!F[f].ipamug_sid)
		F[f].ipamug_sid = labad_sid_of(f, "(sAMAccountName=IPAMUG)");

	jstr_ci(dom, "dn", F[f].dn, d);
	jstr_ci(dom, "netbios", lab_need_forest(f, "NETBIOS"), d);
	jstr_ci(dom, "dc", lab_need_forest(f, "DC"), d);
	{
		/* the domain SID: IPAMUG's without its RID */
		char *dsid = xstrdup(F[f].ipamug_sid);

		*strrchr(dsid, '-') = '\0';
		jstr_ci(dom, "sid", dsid, d);
		free(dsid);
	}
	jstr_ci(dom, "ipamServer.name", "ipam1.corp.example.test", d);
	jbool(dom, "ipamServer.found", has_server, d);
	if (has_server) {
		char *sdn = server_member(f);
		char *ssid = labad_sid_of(
			1, "(dNSHostName=ipam1.corp.example.test)");
		const struct ipam_node *m = jpath(dom, "ipamug.members", d);

		jstr_ci(dom, "ipamServer.dn", sdn, d);
		jstr_ci(dom, "ipamServer.sid", ssid, d);
		if (m->kind != IPAM_NODE_SEQ || m->nr != 1 ||
		    m->items[0]->kind != IPAM_NODE_STR ||
		    strcasecmp(m->items[0]->str, sdn))
			fail_msg("%s: gpo show: ipamug.members is not [%s]", d,
				 sdn);
		free(sdn);
		free(ssid);
	} else {
		const struct ipam_node *m = jpath(dom, "ipamug.members", d);

		if (jpath(dom, "ipamServer.dn", d)->kind != IPAM_NODE_NULL ||
		    m->kind != IPAM_NODE_SEQ || m->nr != 0)
			fail_msg("%s: gpo show: an IPAM server that is not "
				 "there",
				 d);
	}
	jbool(dom, "ipamug.exists", true, d);
	jbool(dom, "ipamug.owned", true, d);
	jstr_ci(dom, "ipamug.dn", ug, d);
	jstr_ci(dom, "ipamug.sid", F[f].ipamug_sid, d);
	{
		const struct ipam_node *mk = jpath(dom, "ipamug.mark", d);

		if (mk->kind != IPAM_NODE_STR ||
		    strncmp(mk->str, MARK, strlen(MARK)))
			fail_msg("%s: gpo show: ipamug.mark", d);
	}
	jbool(dom, "ipamug.holdsIpamServer", has_server, d);
	jbool(dom, "dcGrants.eventLogReaders", true, d);
	{
		char *dns = dns_dn(f);

		jstr_ci(dom, "dcGrants.dnsContainer", dns, d);
		free(dns);
	}
	jbool(dom, "dcGrants.dnsAcl", true, d);
	for (k = 0; k < LABAD_NGPO; k++) {
		char **filt;

		g = show_gpo(dom, k);
		jstr_ci(g, "name", labad_gpo_name[k], labad_gpo_name[k]);
		jbool(g, "exists", true, labad_gpo_name[k]);
		jbool(g, "owned", true, labad_gpo_name[k]);
		jstr_ci(g, "guid", F[f].guid[k], labad_gpo_name[k]);
		jint(g, "version.ad", 1, labad_gpo_name[k]);
		jint(g, "version.gptIni", 1, labad_gpo_name[k]);
		jbool(g, "link.linked", true, labad_gpo_name[k]);
		jbool(g, "link.enabled", true, labad_gpo_name[k]);
		jbool(g, "link.enforced", false, labad_gpo_name[k]);
		/* the issue: no apply for Authenticated Users */
		jbool(g, "authenticatedUsers.read", true, labad_gpo_name[k]);
		jbool(g, "authenticatedUsers.apply", false, labad_gpo_name[k]);
		jbool(g, "daclCurrent", true, labad_gpo_name[k]);
		jbool(g, "folderAcl.consistent", true, labad_gpo_name[k]);
		jbool(g, "settings.current", true, labad_gpo_name[k]);
		jbool(g, "extensionsCurrent", true, labad_gpo_name[k]);
		jstr_ci(g, "machineExtensionNames", gpo_ext[k],
			labad_gpo_name[k]);
		jint(g, "flags", 0, labad_gpo_name[k]);
		jint(g, "functionalityVersion", 2, labad_gpo_name[k]);
		jstr_ci(g, "dn", F[f].gpo_dn[k], labad_gpo_name[k]);
		filt = show_filtering(g, NULL);
		if (filt[0])
			fail_msg("%s %s: filtering [%s] on a fresh GPO", d,
				 labad_gpo_name[k], labad_join(filt));
		lab_strv_free(filt);
		show_content_ok(g, k, F[f].ipamug_sid);
	}
	free(ug);
	ipam_node_free(root);
}

static void test_b_provision_both_forests(void **state)
{
	struct lab_run res;
	char **changes;
	int f;

	(void)state;
	for (f = 1; f <= 2; f++) {
		char **planned, **ug;

		/* --dry-run on the clean domain: the same lines, nothing
		 * written */
		if (labad_list_gpos(f, NULL, NULL))
			fail_msg("%s: IPAM1_* GPOs before provision",
				 F[f].domain);
		provision_ok(f, true, &res);
		planned = change_lines(res.out, F[f].domain);
		lab_run_free(&res);
		ug = labad_ldap_dns(f, F[f].dn, "sub",
				    "(sAMAccountName=IPAMUG)");
		if (!planned[0] || labad_list_gpos(f, NULL, NULL) || ug[0])
			fail_msg("%s: provision --dry-run planned [%s] and "
				 "wrote something, or planned nothing",
				 F[f].domain, labad_join(planned));
		lab_strv_free(ug);
		provision_ok(f, false, &res);
		changes = change_lines(res.out, F[f].domain);
		if (labad_strv_len(planned) != labad_strv_len(changes))
			fail_msg("%s: --dry-run said %zu changes, provision "
				 "made %zu:\n  %s\nvs\n  %s",
				 F[f].domain, labad_strv_len(planned),
				 labad_strv_len(changes), labad_join(planned),
				 labad_join(changes));
		lab_strv_free(planned);
		if (!changes[0])
			fail_msg("no '%s: + …' change lines: %s", F[f].domain,
				 lab_run_describe(&res, "provision"));
		printf("provision %s: %zu changes\n%s%s", F[f].domain,
		       labad_strv_len(changes), res.out, res.err);
		lab_strv_free(changes);
		/* branch has no ipam1 computer, but trusts corp: ipam1
		 * goes in by SID, no warning */
		if (f == 2 && labad_ci_strstr(res.err, "warning"))
			fail_msg("a warning for branch's IPAMUG: %s",
				 lab_run_describe(&res, "provision branch"));
		lab_run_free(&res);
	}
	for (f = 1; f <= 2; f++) {
		check_domain(f, true);
		check_show(f, true);
	}
}

/* ---- (c) idempotence ---------------------------------------------------- */

/* The GPO folder {guid}, recursively listed (names, sizes, times), and
 * its GPT.INI. */
static void add_folder_text(struct strbuf *sb, int f, const char *guid)
{
	char *share = xasprintf("%s\\Policies\\%s", F[f].domain, guid);
	char *cmd = xasprintf("recurse ON; ls \"%s\\*\"; "
			      "get \"%s\\GPT.INI\" -",
			      share, share);
	struct lab_run res;
	char **lines;
	size_t i;

	labad_smbclient(f, cmd, &res);
	lines = lab_lines(res.out, NULL);
	for (i = 0; lines && lines[i]; i++)
		if (!strstr(lines[i], "blocks of size") &&
		    !strstr(lines[i], "getting file") &&
		    strncmp(lines[i], "  .. ", 5))
			strbuf_addf(sb, "%s\n", lines[i]);
	lab_strv_free(lines);
	lab_run_free(&res);
	free(cmd);
	free(share);
}

/* Everything a provision could touch, as text: USNs and times in AD,
 * the GPO folders' listings and GPT.INI, the DACLs. */
static char *snapshot(int f)
{
	static const char *const gpo_attrs[] = {"uSNChanged",
						"whenChanged",
						"versionNumber",
						"gPCMachineExtensionNames",
						"flags",
						"displayName",
						"adminDescription",
						NULL};
	static const char *const other_attrs[] = {"uSNChanged", "whenChanged",
						  "member", NULL};
	struct strbuf sb = STRBUF_INIT;
	struct lab_run res;
	char *base = policies_dn(f), *gplink;
	int k;

	labad_ldap_search(f, base, "sub", "(objectClass=*)", gpo_attrs, &res);
	strbuf_addf(&sb, "== CN=Policies\n%s", res.out);
	lab_run_free(&res);
	labad_ldap_search(
		f, F[f].dn, "sub",
		"(|(cn=IPAMUG)(cn=Event Log Readers)(cn=MicrosoftDNS))",
		other_attrs, &res);
	strbuf_addf(&sb, "== IPAMUG, ELR, MicrosoftDNS\n%s", res.out);
	lab_run_free(&res);
	gplink = labad_ldap_get(f, F[f].dn, "gPLink");
	strbuf_addf(&sb, "== gPLink\n%s\n", gplink ? gplink : "(none)");
	free(gplink);
	for (k = 0; k < LABAD_NGPO; k++) {
		char **acl;
		size_t i;

		strbuf_addf(&sb, "== %s folder\n", labad_gpo_name[k]);
		add_folder_text(&sb, f, F[f].guid[k]);
		acl = labad_aces(f, F[f].gpo_dn[k]);
		strbuf_addf(&sb, "== %s DACL\n", labad_gpo_name[k]);
		for (i = 0; acl[i]; i++)
			strbuf_addf(&sb, "%s\n", acl[i]);
		lab_strv_free(acl);
	}
	free(base);
	return strbuf_detach(&sb, NULL);
}

static void test_c_second_provision_changes_nothing(void **state)
{
	struct lab_run res;
	char *before[3], *after, **changes;
	int f;

	(void)state;
	for (f = 1; f <= 2; f++) {
		labad_need_gpos(&F[f], false);
		before[f] = snapshot(f);
	}
	sleep(1); /* SMB times have one-second steps */
	for (f = 1; f <= 2; f++) {
		provision_ok(f, false, &res);
		changes = change_lines(res.out, F[f].domain);
		if (changes[0] || !strstr(res.out, "nothing to do"))
			fail_msg("second run of %s: %s", F[f].domain,
				 lab_run_describe(&res, "provision"));
		lab_strv_free(changes);
		lab_run_free(&res);
	}
	for (f = 1; f <= 2; f++) {
		int k;

		after = snapshot(f);
		if (strcmp(before[f], after))
			fail_msg("the second provision of %s changed "
				 "something.\nbefore:\n%s\nafter:\n%s",
				 F[f].domain, before[f], after);
		for (k = 0; k < LABAD_NGPO; k++) {
			char *v = labad_ldap_get(f, F[f].gpo_dn[k],
						 "versionNumber");

			assert_non_null(v);
			assert_string_equal(v, "1");
			free(v);
		}
		free(after);
		free(before[f]);
	}
}

/* ---- (d) security filtering --------------------------------------------- */

static void filter_run(const char *what, ...)
{
	const char *argv[32] = {labad_ipamctl(), "gpo",	      "filter",
				"--domain",	 F[1].domain, "--gpo",
				"dhcp",		 "-c",	      config};
	struct lab_run_opts opts = {.timeout_ms = 180000};
	struct lab_run res;
	size_t n = 9;
	const char *a;
	va_list ap;

	va_start(ap, what);
	while ((a = va_arg(ap, const char *)) && n < 31)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	lab_must_run(argv, &opts, &res);
	if (res.exit_code || res.timed_out)
		fail_msg("%s", lab_run_describe(&res, what));
	lab_run_free(&res);
}

/* Filtering of IPAM1_DHCP in corp by gpo show: SIDs, names. */
static void expect_show_filtering(const char *const *sids,
				  const char *const *names)
{
	const struct ipam_node *dom, *g;
	struct ipam_node *root = gpo_show(1, &dom);
	char **got, **got_names;
	size_t i;

	g = show_gpo(dom, GPO_DHCP);
	got = show_filtering(g, &got_names);
	lab_assert_set(got, sids, "gpo show filtering of IPAM1_DHCP");
	for (i = 0; names[i]; i++) {
		bool found = false;

		for (char **p = got_names; *p; p++)
			if (labad_ci_strstr(*p, names[i]))
				found = true;
		if (!found)
			fail_msg("gpo show filtering: no name like %s in [%s]",
				 names[i], labad_join(got_names));
	}
	jbool(g, "authenticatedUsers.apply", false, "IPAM1_DHCP");
	jbool(g, "folderAcl.consistent", true, "IPAM1_DHCP");
	lab_strv_free(got);
	lab_strv_free(got_names);
	ipam_node_free(root);
}

static void test_d_filtering(void **state)
{
	const int f = 1;
	char *dhcp1, *dns1, **start, **acl, **others[LABAD_NGPO];
	const char *dn;
	int k;

	(void)state;
	labad_need_gpos(&F[f], false);
	dn = F[f].gpo_dn[GPO_DHCP];
	dhcp1 = labad_sid_of(f, "(dNSHostName=dhcp1.corp.example.test)");
	dns1 = labad_sid_of(f, "(sAMAccountName=DNS1$)");
	start = labad_aces(f, dn);
	for (k = 0; k < LABAD_NGPO; k++)
		others[k] =
			k == GPO_DHCP ? NULL : labad_aces(f, F[f].gpo_dn[k]);

	/* a dry run writes nothing */
	filter_run("gpo filter --dry-run", "--add", "dhcp1.corp.example.test",
		   "--dry-run", NULL);
	acl = labad_aces(f, dn);
	lab_assert_set(acl, (const char *const *)start,
		       "IPAM1_DHCP DACL after gpo filter --dry-run");
	lab_strv_free(acl);

	/* a name that is no computer: exit 1 naming it, nothing written
	 * (not even the valid name given with it) */
	{
		const char *argv[] = {labad_ipamctl(),
				      "gpo",
				      "filter",
				      "--domain",
				      F[f].domain,
				      "--gpo",
				      "dhcp",
				      "-c",
				      config,
				      "--add",
				      "dhcp1.corp.example.test",
				      "--add",
				      "nosuch.corp.example.test",
				      NULL};
		struct lab_run_opts opts = {.timeout_ms = 180000};
		struct lab_run res;

		lab_must_run(argv, &opts, &res);
		if (res.exit_code != 1 ||
		    !strstr(res.err, "nosuch.corp.example.test"))
			fail_msg("%s",
				 lab_run_describe(&res, "gpo filter --add "
							"nosuch"));
		lab_run_free(&res);
		acl = labad_aces(f, dn);
		lab_assert_set(acl, (const char *const *)start,
			       "IPAM1_DHCP DACL after a failed gpo filter");
		lab_strv_free(acl);
	}

	/* add two computers: by FQDN and by sAMAccountName */
	filter_run("gpo filter --add", "--add", "dhcp1.corp.example.test",
		   "--add", "DNS1$", NULL);
	acl = labad_aces(f, dn);
	labad_expect_ace(acl, LABAD_ACE_READ, dhcp1, true, "after --add");
	labad_expect_ace(acl, LABAD_ACE_APPLY, dhcp1, true, "after --add");
	labad_expect_ace(acl, LABAD_ACE_READ, dns1, true, "after --add");
	labad_expect_ace(acl, LABAD_ACE_APPLY, dns1, true, "after --add");
	labad_expect_ace(acl, LABAD_ACE_READ, LABAD_AU_SID, true,
			 "after --add");
	if (has_apply(acl, LABAD_AU_SID))
		fail_msg("after --add: Authenticated Users can apply");
	/* nothing else changed in the DACL */
	assert_int_equal(labad_strv_len(acl), labad_strv_len(start) + 4);
	for (char **p = start; *p; p++)
		if (!labad_strv_has(acl, *p))
			fail_msg("after --add: ACE %s lost", *p);
	lab_strv_free(acl);
	labad_aclcheck_ok(f);
	{
		const char *sids[] = {dhcp1, dns1, NULL};
		const char *names[] = {"DHCP1", "DNS1", NULL};

		expect_show_filtering(sids, names);
	}

	/* the same again: already so, nothing written */
	{
		char *usn0 = labad_ldap_get(f, dn, "uSNChanged"), *usn1;

		filter_run("gpo filter --add (again)", "--add", "DNS1$", NULL);
		usn1 = labad_ldap_get(f, dn, "uSNChanged");
		if (!usn0 || !usn1 || strcmp(usn0, usn1))
			fail_msg("adding a computer already in the filtering "
				 "wrote the GPO (uSNChanged %s -> %s)",
				 usn0, usn1);
		free(usn0);
		free(usn1);
	}

	/* remove one: gone, the other stays */
	filter_run("gpo filter --remove", "--remove", "dhcp1.corp.example.test",
		   NULL);
	acl = labad_aces(f, dn);
	labad_expect_ace(acl, LABAD_ACE_READ, dhcp1, false,
			 "after --remove dhcp1");
	labad_expect_ace(acl, LABAD_ACE_APPLY, dhcp1, false,
			 "after --remove dhcp1");
	labad_expect_ace(acl, LABAD_ACE_READ, dns1, true,
			 "after --remove dhcp1");
	labad_expect_ace(acl, LABAD_ACE_APPLY, dns1, true,
			 "after --remove dhcp1");
	lab_strv_free(acl);
	labad_aclcheck_ok(f);
	{
		const char *sids[] = {dns1, NULL};
		const char *names[] = {"DNS1", NULL};

		expect_show_filtering(sids, names);
	}

	/* remove the other: back to the DACL it started with */
	filter_run("gpo filter --remove", "--remove", "DNS1$", NULL);
	acl = labad_aces(f, dn);
	lab_assert_set(acl, (const char *const *)start,
		       "IPAM1_DHCP DACL after removing both");
	lab_strv_free(acl);
	labad_aclcheck_ok(f);
	{
		const char *none[] = {NULL};

		expect_show_filtering(none, none);
	}
	/* the other GPOs were never touched */
	for (k = 0; k < LABAD_NGPO; k++) {
		if (!others[k])
			continue;
		acl = labad_aces(f, F[f].gpo_dn[k]);
		lab_assert_set(acl, (const char *const *)others[k],
			       "DACL of a GPO gpo filter did not name");
		lab_strv_free(acl);
		lab_strv_free(others[k]);
	}
	lab_strv_free(start);
	free(dhcp1);
	free(dns1);
}

/* ---- (e) drift: a deleted link ----------------------------------------- */

static void test_e_dry_run_reports_deleted_link(void **state)
{
	const int f = 1;
	struct lab_run res;
	char *gplink_before, *gplink_after, *v, **changes, *snap0, *snap1;

	(void)state;
	labad_need_gpos(&F[f], false);
	{
		const char *args[] = {"gpo", "dellink", F[f].dn,
				      F[f].guid[GPO_DNS], NULL};

		labad_samba_tool_ok(f, args, &res);
		lab_run_free(&res);
	}
	v = labad_link_options(&F[f], F[f].guid[GPO_DNS]);
	if (v)
		fail_msg("samba-tool gpo dellink left the link (%s)", v);
	gplink_before = labad_ldap_get(f, F[f].dn, "gPLink");
	snap0 = snapshot(f);

	/* the dry run names the link and writes nothing */
	provision_ok(f, true, &res);
	changes = change_lines(res.out, F[f].domain);
	if (labad_strv_len(changes) != 1 ||
	    !labad_ci_strstr(changes[0], "link") ||
	    !strstr(changes[0], labad_gpo_name[GPO_DNS]))
		fail_msg("expected one change, the link of IPAM1_DNS: %s",
			 lab_run_describe(&res, "provision --dry-run"));
	printf("dry run after dellink:\n%s", res.out);
	lab_strv_free(changes);
	lab_run_free(&res);
	gplink_after = labad_ldap_get(f, F[f].dn, "gPLink");
	if (strcmp(gplink_before ? gplink_before : "",
		   gplink_after ? gplink_after : ""))
		fail_msg("the dry run changed gPLink: %s -> %s", gplink_before,
			 gplink_after);
	v = labad_link_options(&F[f], F[f].guid[GPO_DNS]);
	if (v)
		fail_msg("the dry run linked IPAM1_DNS (%s)", v);
	snap1 = snapshot(f);
	if (strcmp(snap0, snap1))
		fail_msg("the dry run changed something.\nbefore:\n%s\n"
			 "after:\n%s",
			 snap0, snap1);
	free(snap1);

	/* the real run restores it, and only it */
	provision_ok(f, false, &res);
	changes = change_lines(res.out, F[f].domain);
	if (labad_strv_len(changes) != 1 ||
	    !strstr(changes[0], labad_gpo_name[GPO_DNS]))
		fail_msg("expected one change, the link of IPAM1_DNS: %s",
			 lab_run_describe(&res, "provision"));
	lab_strv_free(changes);
	lab_run_free(&res);
	v = labad_link_options(&F[f], F[f].guid[GPO_DNS]);
	if (!v || strcmp(v, "NONE"))
		fail_msg("IPAM1_DNS link after the real run: %s",
			 v ? v : "none");
	free(v);
	v = labad_ldap_get(f, F[f].gpo_dn[GPO_DNS], "versionNumber");
	if (!v || strcmp(v, "1"))
		fail_msg("relinking changed IPAM1_DNS's version to %s", v);
	free(v);
	/* and then there is nothing to do */
	provision_ok(f, true, &res);
	changes = change_lines(res.out, F[f].domain);
	if (changes[0] || !strstr(res.out, "nothing to do"))
		fail_msg("%s", lab_run_describe(&res, "provision --dry-run "
						      "after the repair"));
	lab_strv_free(changes);
	lab_run_free(&res);
	labad_aclcheck_ok(f);
	free(gplink_before);
	free(gplink_after);
	free(snap0);
}

/* ---- (f) a GPO of the right name made by someone else ------------------- */

static char *gpo_dn_of(int f, const char *guid)
{
	return xasprintf("CN=%s,CN=Policies,CN=System,%s", guid, F[f].dn);
}

/* Version= of the GPT.INI of the GPO folder {guid}; -1 when unreadable. */
static long gpt_ini_version(int f, const char *guid)
{
	char *cmd = xasprintf("get \"%s\\Policies\\%s\\GPT.INI\" -",
			      F[f].domain, guid);
	struct lab_run res;
	const char *v;
	long version = -1;

	labad_smbclient(f, cmd, &res);
	v = labad_ci_strstr(res.out, "Version=");
	if (res.exit_code == 0 && v)
		version = strtol(v + 8, NULL, 10);
	lab_run_free(&res);
	free(cmd);
	return version;
}

/* One GPO as text: its container and children (USNs, times, every
 * attribute a provision writes), its DACL, its folder and GPT.INI. */
static char *gpo_snapshot(int f, const char *guid)
{
	static const char *const attrs[] = {"uSNChanged",
					    "whenChanged",
					    "versionNumber",
					    "adminDescription",
					    "displayName",
					    "flags",
					    "gPCFunctionalityVersion",
					    "gPCFileSysPath",
					    "gPCMachineExtensionNames",
					    "gPCUserExtensionNames",
					    NULL};
	char *dn = gpo_dn_of(f, guid);
	struct strbuf sb = STRBUF_INIT;
	struct lab_run res;
	char **acl;
	size_t i;

	labad_ldap_search(f, dn, "sub", "(objectClass=*)", attrs, &res);
	strbuf_addf(&sb, "== container\n%s", res.out);
	lab_run_free(&res);
	acl = labad_aces(f, dn);
	strbuf_addf(&sb, "== DACL\n");
	for (i = 0; acl[i]; i++)
		strbuf_addf(&sb, "%s\n", acl[i]);
	lab_strv_free(acl);
	strbuf_addf(&sb, "== folder\n");
	add_folder_text(&sb, f, guid);
	free(dn);
	return strbuf_detach(&sb, NULL);
}

/* The lines of a not in b ("- "), and of b not in a ("+ "). */
static char *line_diff(const char *a, const char *b)
{
	char **la = lab_lines(a, NULL), **lb = lab_lines(b, NULL);
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; la && la[i]; i++)
		if (!labad_strv_has(lb, la[i]))
			strbuf_addf(&sb, "- %s\n", la[i]);
	for (i = 0; lb && lb[i]; i++)
		if (!labad_strv_has(la, lb[i]))
			strbuf_addf(&sb, "+ %s\n", lb[i]);
	lab_strv_free(la);
	lab_strv_free(lb);
	return strbuf_detach(&sb, NULL);
}

static long ldap_long(int f, const char *dn, const char *attr)
{
	char *v = labad_ldap_get(f, dn, attr);
	long n;

	if (!v)
		fail_msg("%s: no %s", dn, attr);
	n = strtol(v, NULL, 10);
	free(v);
	return n;
}

static size_t count_gpc_tombstones(int f, size_t *ipamug)
{
	struct lab_run tomb;
	size_t n;

	labad_py(f, "tombstones", NULL, &tomb);
	n = count_tombstones(tomb.out, "groupPolicyContainer\t", NULL);
	if (ipamug)
		*ipamug = count_tombstones(tomb.out, "group\tIPAMUG\t", NULL);
	lab_run_free(&tomb);
	return n;
}

/* What a failed provision must have left as it found it: the GPO folders
 * (and a container for each), gPLink, the members of the domain's Event
 * Log Readers, the DACL of CN=MicrosoftDNS. */
struct around {
	char **folders, *gplink, **elr, **dnsacl;
};

static void around_take(int f, struct around *a)
{
	char *elr = elr_dn(f), *dns = dns_dn(f);

	a->folders = policy_folders(f);
	a->gplink = labad_ldap_get(f, F[f].dn, "gPLink");
	a->elr = labad_ldap_all(f, elr, "member");
	a->dnsacl = labad_aces(f, dns);
	free(elr);
	free(dns);
}

static void around_free(struct around *a)
{
	lab_strv_free(a->folders);
	free(a->gplink);
	lab_strv_free(a->elr);
	lab_strv_free(a->dnsacl);
}

static void around_same(int f, const struct around *before, const char *what)
{
	struct around now;
	char **containers, ctx[256];

	around_take(f, &now);
	snprintf(ctx, sizeof(ctx),
		 "%s: SYSVOL Policies folders before and "
		 "after %s",
		 F[f].domain, what);
	lab_assert_set(now.folders, (const char *const *)before->folders, ctx);
	containers = policy_containers(f);
	snprintf(ctx, sizeof(ctx),
		 "%s: SYSVOL Policies folders against the "
		 "GPO containers after %s",
		 F[f].domain, what);
	lab_assert_set(now.folders, (const char *const *)containers, ctx);
	lab_strv_free(containers);
	if (strcmp(before->gplink ? before->gplink : "",
		   now.gplink ? now.gplink : ""))
		fail_msg("%s: %s changed gPLink: %s -> %s", F[f].domain, what,
			 before->gplink, now.gplink);
	snprintf(ctx, sizeof(ctx),
		 "%s: members of Event Log Readers before "
		 "and after %s",
		 F[f].domain, what);
	lab_assert_set(now.elr, (const char *const *)before->elr, ctx);
	snprintf(ctx, sizeof(ctx),
		 "%s: DACL of CN=MicrosoftDNS before and "
		 "after %s",
		 F[f].domain, what);
	lab_assert_set(now.dnsacl, (const char *const *)before->dnsacl, ctx);
	around_free(&now);
}

static void test_f_foreign_gpo_refused_then_adopted(void **state)
{
	const int f = 2;
	const char *const dom = F[f].domain;
	struct lab_run res;
	struct around before;
	char *g[LABAD_NGPO], *foreign, *fdn, *snap0, *snap1, *v, **acl0, **acl,
		**changes, **ug;
	size_t count[LABAD_NGPO], gpc0, gpc1, ug0, ug1;
	long ver0, ver1;
	int k;

	(void)state;
	labad_remove_leftovers(&F[f]);
	{
		const char *args[] = {"gpo", "create", labad_gpo_name[GPO_DNS],
				      NULL};

		labad_samba_tool_ok(f, args, &res);
		lab_run_free(&res);
	}
	labad_list_gpos(f, g, count);
	if (count[GPO_DHCP] || count[GPO_DNS] != 1 || count[GPO_DC_NPS])
		fail_msg("%s: IPAM1_* GPOs after a clean-up and samba-tool "
			 "gpo create IPAM1_DNS: %zu %zu %zu",
			 dom, count[GPO_DHCP], count[GPO_DNS],
			 count[GPO_DC_NPS]);
	foreign = g[GPO_DNS];
	fdn = gpo_dn_of(f, foreign);
	/* what makes it foreign, and what adoption must change */
	v = labad_ldap_get(f, fdn, "adminDescription");
	if (v)
		fail_msg("samba-tool gave %s an adminDescription: %s", fdn, v);
	acl0 = labad_aces(f, fdn);
	if (!has_apply(acl0, LABAD_AU_SID))
		fail_msg("%s: samba-tool's GPO does not let Authenticated "
			 "Users apply it; the adoption check below would "
			 "prove nothing",
			 fdn);
	ver0 = ldap_long(f, fdn, "versionNumber");
	snap0 = gpo_snapshot(f, foreign);
	around_take(f, &before);
	gpc0 = count_gpc_tombstones(f, &ug0);

	/* refused: exit 1 naming it, nothing of this run left */
	labad_run_ipamctl(&res, "provision", "--domain", dom, "-c", config,
			  NULL);
	if (res.exit_code != 1 || res.timed_out ||
	    !strstr(res.err, labad_gpo_name[GPO_DNS]) ||
	    !strstr(res.err, "not created by ipamctl"))
		fail_msg("expected exit 1 with an error naming IPAM1_DNS, "
			 "'not created by ipamctl': %s",
			 lab_run_describe(&res, "ipamctl provision (a "
						"foreign IPAM1_DNS)"));
	gpc1 = count_gpc_tombstones(f, &ug1);
	printf("provision with a foreign IPAM1_DNS: exit 1; rolled back %zu "
	       "GPO container(s), %zu IPAMUG; stderr: %s",
	       gpc1 - gpc0, ug1 - ug0, res.err);
	lab_run_free(&res);

	/* the foreign GPO as it was, to the USN */
	snap1 = gpo_snapshot(f, foreign);
	if (strcmp(snap0, snap1)) {
		printf("the foreign GPO before:\n%s\nafter:\n%s", snap0, snap1);
		fail_msg("the refused provision changed the foreign GPO:\n%s",
			 line_diff(snap0, snap1));
	}
	free(snap1);
	v = labad_ldap_get(f, fdn, "adminDescription");
	if (v)
		fail_msg("the refused provision marked %s: %s", fdn, v);
	acl = labad_aces(f, fdn);
	lab_assert_set(acl, (const char *const *)acl0,
		       "DACL of the foreign GPO after the refused provision");
	lab_strv_free(acl);
	assert_int_equal(ldap_long(f, fdn, "versionNumber"), ver0);

	/* and nothing that was not there before */
	{
		char *g2[LABAD_NGPO];

		labad_list_gpos(f, g2, count);
		if (count[GPO_DHCP] || count[GPO_DC_NPS] ||
		    count[GPO_DNS] != 1 || strcasecmp(g2[GPO_DNS], foreign))
			fail_msg("%s: after the refused provision: %zu "
				 "IPAM1_DHCP, %zu IPAM1_DNS (%s, was %s), %zu "
				 "IPAM1_DC_NPS",
				 dom, count[GPO_DHCP], count[GPO_DNS],
				 g2[GPO_DNS], foreign, count[GPO_DC_NPS]);
		for (k = 0; k < LABAD_NGPO; k++)
			free(g2[k]);
	}
	ug = labad_ldap_dns(f, F[f].dn, "sub", "(sAMAccountName=IPAMUG)");
	if (ug[0])
		fail_msg("IPAMUG left behind (%s) after the refused provision",
			 ug[0]);
	lab_strv_free(ug);
	around_same(f, &before, "the refused provision");
	v = labad_link_options(&F[f], foreign);
	if (v)
		fail_msg("the refused provision linked the foreign GPO (%s)",
			 v);
	labad_aclcheck_ok(f);

	/* --adopt: the same GPO, marked, given the settings */
	labad_run_ipamctl(&res, "provision", "--domain", dom, "-c", config,
			  "--adopt", NULL);
	if (res.exit_code != 0 || res.timed_out)
		fail_msg("%s", lab_run_describe(&res, "ipamctl provision "
						      "--adopt"));
	changes = change_lines(res.out, dom);
	{
		bool adopted = false;

		for (char **c = changes; *c; c++)
			if (strstr(*c, labad_gpo_name[GPO_DNS]) &&
			    labad_ci_strstr(*c, "adopt"))
				adopted = true;
		if (!adopted)
			fail_msg("no change line adopting IPAM1_DNS: %s",
				 lab_run_describe(&res, "provision --adopt"));
	}
	printf("provision --adopt %s: %zu changes\n%s", dom,
	       labad_strv_len(changes), res.out);
	lab_strv_free(changes);
	lab_run_free(&res);
	labad_need_gpos(&F[f], false);
	if (strcasecmp(F[f].guid[GPO_DNS], foreign))
		fail_msg("IPAM1_DNS is %s after --adopt, not the adopted %s",
			 F[f].guid[GPO_DNS], foreign);
	v = labad_ldap_get(f, fdn, "adminDescription");
	if (!v || strncmp(v, MARK, strlen(MARK)))
		fail_msg("adopted %s: adminDescription '%s' is not ipamctl's "
			 "mark",
			 fdn, v ? v : "(none)");
	free(v);
	ver1 = ldap_long(f, fdn, "versionNumber");
	if (ver1 <= ver0)
		fail_msg("adopting IPAM1_DNS wrote its settings without a "
			 "version bump (%ld -> %ld)",
			 ver0, ver1);
	if (gpt_ini_version(f, foreign) != ver1)
		fail_msg("adopted IPAM1_DNS: GPT.INI Version %ld, "
			 "versionNumber %ld",
			 gpt_ini_version(f, foreign), ver1);
	acl = labad_aces(f, fdn);
	labad_expect_ace(acl, LABAD_ACE_READ, LABAD_AU_SID, true,
			 "adopted IPAM1_DNS");
	if (has_apply(acl, LABAD_AU_SID))
		fail_msg("adopted IPAM1_DNS: Authenticated Users can still "
			 "apply it");
	lab_strv_free(acl);
	labad_aclcheck_ok(f);
	/* everything else as a fresh provision leaves it */
	check_domain(f, true);
	check_show(f, true);

	/* a second run: nothing to do */
	provision_ok(f, false, &res);
	changes = change_lines(res.out, dom);
	if (changes[0] || !strstr(res.out, "nothing to do"))
		fail_msg("%s", lab_run_describe(&res, "provision after the "
						      "adoption"));
	lab_strv_free(changes);
	lab_run_free(&res);
	assert_int_equal(ldap_long(f, fdn, "versionNumber"), ver1);

	around_free(&before);
	lab_strv_free(acl0);
	free(snap0);
	free(fdn);
	for (k = 0; k < LABAD_NGPO; k++)
		free(g[k]);
}

/* ---- (g) a rollback spares what the run did not create ------------------ */

static void test_g_rollback_spares_hand_made_ipamug(void **state)
{
	const int f = 1;
	struct lab_run res;
	struct around before;
	char *ugdn, *sid0, *sid1, *v, **members0, **members, **ug, **gpcs;
	size_t gpc0, gpc1, ug0, ug1;

	(void)state;
	labad_remove_leftovers(&F[f]);
	{
		static const char *const args[] = {"group",
						   "add",
						   "IPAMUG",
						   "--group-scope=Universal",
						   "--group-type=Security",
						   NULL};

		labad_samba_tool_ok(f, args, &res);
		lab_run_free(&res);
	}
	ugdn = labad_ipamug_dn(&F[f]);
	sid0 = labad_sid_of(f, "(sAMAccountName=IPAMUG)");
	v = labad_ldap_get(f, ugdn, "adminDescription");
	if (v)
		fail_msg("samba-tool gave IPAMUG an adminDescription: %s", v);
	members0 = labad_ldap_all(f, ugdn, "member");
	around_take(f, &before);
	gpc0 = count_gpc_tombstones(f, &ug0);

	freeze_corp_smbd();
	labad_run_ipamctl(&res, "provision", "--domain", F[f].domain, "-c",
			  config, NULL);
	thaw();
	if (res.exit_code != 1 || res.timed_out || res.err_len == 0)
		fail_msg("expected exit 1 with an error on stderr: %s",
			 lab_run_describe(&res, "ipamctl provision (smbd "
						"frozen, IPAMUG by hand)"));
	printf("provision with smbd frozen, IPAMUG by hand: stderr: %s",
	       res.err);

	/* it did get mid-way: a GPO container was created and removed */
	gpc1 = count_gpc_tombstones(f, &ug1);
	if (gpc1 <= gpc0)
		fail_msg("no GPO container was created and removed: the "
			 "failure came before the run made anything, so no "
			 "rollback was exercised\n%s",
			 lab_run_describe(&res, "ipamctl provision"));

	/* IPAMUG: the same group, still not ipamctl's, its members back */
	ug = labad_ldap_dns(f, F[f].dn, "sub", "(sAMAccountName=IPAMUG)");
	if (labad_strv_len(ug) != 1 || strcasecmp(ug[0], ugdn))
		fail_msg("the hand-made IPAMUG is gone after the rollback "
			 "(found: %s)\n%s",
			 ug[0] ? ug[0] : "nothing",
			 lab_run_describe(&res, "ipamctl provision"));
	lab_strv_free(ug);
	if (ug1 != ug0)
		fail_msg("an IPAMUG was deleted by the rollback (%zu "
			 "tombstones, were %zu)",
			 ug1, ug0);
	sid1 = labad_sid_of(f, "(sAMAccountName=IPAMUG)");
	assert_string_equal(sid1, sid0);
	v = labad_ldap_get(f, ugdn, "adminDescription");
	if (v)
		fail_msg("the hand-made IPAMUG got an adminDescription: %s", v);
	members = labad_ldap_all(f, ugdn, "member");
	lab_assert_set(members, (const char *const *)members0,
		       "members of the hand-made IPAMUG before and after the "
		       "rolled-back provision");
	lab_strv_free(members);

	/* and what the run made is gone */
	if (labad_list_gpos(f, NULL, NULL))
		fail_msg("IPAM1_* GPO left behind after the failed run");
	{
		char *base = policies_dn(f);

		gpcs = labad_ldap_dns(f, base, "sub", "(displayName=IPAM1_*)");
		if (gpcs[0])
			fail_msg("container left behind: %s", gpcs[0]);
		lab_strv_free(gpcs);
		free(base);
	}
	around_same(f, &before, "the rolled-back provision");
	lab_run_free(&res);
	around_free(&before);
	lab_strv_free(members0);
	free(sid0);
	free(sid1);
	free(ugdn);
	/* the next test wants no foreign IPAMUG */
	labad_remove_leftovers(&F[f]);
}

/* ---- (h) security filtering from files ---------------------------------- */

static char *write_names(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);

	assert_int_equal(lab_write_file(path, text, strlen(text)), 0);
	return path;
}

static void test_h_filtering_from_files(void **state)
{
	const int f = 1;
	struct lab_run res;
	char *dhcp2, *app1, *add, *bad, *rem, *usn0, *usn1, **start, **acl,
		**others[LABAD_NGPO];
	const char *dn;
	int k;

	(void)state;
	labad_remove_leftovers(&F[f]);
	provision_ok(f, false, &res);
	lab_run_free(&res);
	labad_need_gpos(&F[f], false);
	dn = F[f].gpo_dn[GPO_DHCP];
	dhcp2 = labad_sid_of(f, "(dNSHostName=dhcp2.corp.example.test)");
	app1 = labad_sid_of(f, "(sAMAccountName=APP1$)");
	start = labad_aces(f, dn);
	for (k = 0; k < LABAD_NGPO; k++)
		others[k] =
			k == GPO_DHCP ? NULL : labad_aces(f, F[f].gpo_dn[k]);
	add = write_names("filter-add.txt",
			  "# IPAM1_DHCP: two servers\n"
			  "\n"
			  "dhcp2.corp.example.test\n"
			  "   \n"
			  "\tAPP1$   # by account name\n"
			  "# nosuch.corp.example.test is commented out\n");
	bad = write_names("filter-bad.txt", "dhcp2.corp.example.test\n"
					    "nosuch.corp.example.test\n");
	rem = write_names("filter-remove.txt",
			  "# both again, the other way round\n"
			  "APP1$\n"
			  "\n"
			  "  dhcp2.corp.example.test   # trailing comment\n");

	/* an unknown computer in the file: exit 1 naming it, nothing
	 * written (not even the valid name with it) */
	usn0 = labad_ldap_get(f, dn, "uSNChanged");
	labad_run_ipamctl(&res, "gpo", "filter", "--domain", F[f].domain,
			  "--gpo", "dhcp", "-c", config, "--add-file", bad,
			  NULL);
	if (res.exit_code != 1 || res.timed_out ||
	    !strstr(res.err, "nosuch.corp.example.test"))
		fail_msg("%s", lab_run_describe(&res, "gpo filter --add-file "
						      "(unknown computer)"));
	lab_run_free(&res);
	usn1 = labad_ldap_get(f, dn, "uSNChanged");
	if (!usn0 || !usn1 || strcmp(usn0, usn1))
		fail_msg("a failed gpo filter --add-file wrote the GPO "
			 "(uSNChanged %s -> %s)",
			 usn0, usn1);
	free(usn0);
	free(usn1);
	acl = labad_aces(f, dn);
	lab_assert_set(acl, (const char *const *)start,
		       "IPAM1_DHCP DACL after a failed gpo filter --add-file");
	lab_strv_free(acl);
	labad_aclcheck_ok(f);

	/* add both from the file: in one DACL write */
	labad_run_ipamctl(&res, "gpo", "filter", "--domain", F[f].domain,
			  "--gpo", "dhcp", "-c", config, "--add-file", add,
			  "-o", "json", NULL);
	if (res.exit_code || res.timed_out)
		fail_msg("%s", lab_run_describe(&res, "gpo filter --add-file"));
	{
		struct ipam_node *root = NULL;

		if (ipam_json_parse(&root, "gpo filter", res.out, res.out_len))
			fail_msg("%s", lab_run_describe(&res, "gpo filter "
							      "(not JSON)"));
		jint(root, "added", 2, "gpo filter --add-file");
		jint(root, "removed", 0, "gpo filter --add-file");
		jint(root, "ldapWrites", 1, "gpo filter --add-file");
		ipam_node_free(root);
	}
	lab_run_free(&res);
	acl = labad_aces(f, dn);
	labad_expect_ace(acl, LABAD_ACE_READ, dhcp2, true, "after --add-file");
	labad_expect_ace(acl, LABAD_ACE_APPLY, dhcp2, true, "after --add-file");
	labad_expect_ace(acl, LABAD_ACE_READ, app1, true, "after --add-file");
	labad_expect_ace(acl, LABAD_ACE_APPLY, app1, true, "after --add-file");
	labad_expect_ace(acl, LABAD_ACE_READ, LABAD_AU_SID, true,
			 "after --add-file");
	if (has_apply(acl, LABAD_AU_SID))
		fail_msg("after --add-file: Authenticated Users can apply");
	assert_int_equal(labad_strv_len(acl), labad_strv_len(start) + 4);
	for (char **p = start; *p; p++)
		if (!labad_strv_has(acl, *p))
			fail_msg("after --add-file: ACE %s lost", *p);
	lab_strv_free(acl);
	labad_aclcheck_ok(f);
	{
		const char *sids[] = {dhcp2, app1, NULL};
		const char *names[] = {"DHCP2", "APP1", NULL};

		expect_show_filtering(sids, names);
	}

	/* remove both from the file: back to the DACL it started with */
	filter_run("gpo filter --remove-file", "--remove-file", rem, NULL);
	acl = labad_aces(f, dn);
	labad_expect_ace(acl, LABAD_ACE_READ, dhcp2, false,
			 "after --remove-file");
	labad_expect_ace(acl, LABAD_ACE_APPLY, dhcp2, false,
			 "after --remove-file");
	labad_expect_ace(acl, LABAD_ACE_READ, app1, false,
			 "after --remove-file");
	labad_expect_ace(acl, LABAD_ACE_APPLY, app1, false,
			 "after --remove-file");
	lab_assert_set(acl, (const char *const *)start,
		       "IPAM1_DHCP DACL after --remove-file");
	lab_strv_free(acl);
	labad_aclcheck_ok(f);
	{
		const char *none[] = {NULL};

		expect_show_filtering(none, none);
	}
	for (k = 0; k < LABAD_NGPO; k++) {
		if (!others[k])
			continue;
		acl = labad_aces(f, F[f].gpo_dn[k]);
		lab_assert_set(acl, (const char *const *)others[k],
			       "DACL of a GPO gpo filter did not name");
		lab_strv_free(acl);
		lab_strv_free(others[k]);
	}
	lab_strv_free(start);
	free(add);
	free(bad);
	free(rem);
	free(dhcp2);
	free(app1);
}

/* ---- (i) provisioning.delegatedGpoUsers may edit the GPOs -------------- */

static void test_i_delegated_users(void **state)
{
	const int f = 1;
	const char *mk[] = {"user", "create", "gpodeleg", "--random-password",
			    NULL};
	const char *rm[] = {"user", "delete", "gpodeleg", NULL};
	char *src = xasprintf("%s/ipamctl.yaml", config);
	char *text = lab_need_file(src, NULL), *at, *out, *dir, *path, *sid;
	const char *key = "  gpoPrefix: IPAM1\n";
	struct lab_run res;
	int k;

	(void)state;
	labad_need_gpos(&F[f], true);
	free(F[f].ipamug_sid); /* (g) may have made IPAMUG anew */
	F[f].ipamug_sid = labad_sid_of(f, "(sAMAccountName=IPAMUG)");
	labad_samba_tool_ok(f, mk, &res);
	lab_run_free(&res);
	sid = labad_sid_of(f, "(sAMAccountName=gpodeleg)");
	at = strstr(text, key);
	if (!at)
		fail_msg("no '%s' in %s", key, src);
	at += strlen(key);
	out = xasprintf("%.*s  delegatedGpoUsers: [gpodeleg]\n%s",
			(int)(at - text), text, at);
	dir = xasprintf("%s/delegated", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out, strlen(out)), 0);

	/* before: gpodeleg may not edit; after provision: edit, delete,
	 * modify security on each of the three, and aclcheck clean */
	for (k = 0; k < LABAD_NGPO; k++) {
		char **acl = labad_aces(f, F[f].gpo_dn[k]);

		labad_expect_ace(acl, LABAD_ACE_EDIT, sid, false,
				 "before delegatedGpoUsers");
		lab_strv_free(acl);
	}
	labad_run_ipamctl(&res, "provision", "--domain", F[f].domain, "-c", dir,
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl provision (delegatedGpoUsers)");
	if (!strstr(res.out, "gpodeleg may edit, delete, modify security"))
		fail_msg("%s", lab_run_describe(&res, "provision, delegated"));
	lab_run_free(&res);
	for (k = 0; k < LABAD_NGPO; k++) {
		char **acl = labad_aces(f, F[f].gpo_dn[k]);

		labad_expect_ace(acl, LABAD_ACE_EDIT, sid, true,
				 labad_gpo_name[k]);
		labad_expect_ace(acl, LABAD_ACE_EDIT, F[f].ipamug_sid, true,
				 labad_gpo_name[k]);
		lab_strv_free(acl);
	}
	labad_aclcheck_ok(f);
	/* the read side counts it as an editor: a second run is a no-op */
	labad_run_ipamctl(&res, "provision", "--domain", F[f].domain, "-c", dir,
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl provision again (delegated)");
	if (!strstr(res.out, "nothing to do"))
		fail_msg("%s", lab_run_describe(&res, "provision again"));
	lab_run_free(&res);
	labad_samba_tool_ok(f, rm, &res);
	lab_run_free(&res);
	free(sid);
	free(path);
	free(dir);
	free(out);
	free(text);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_a_failure_mid_way_rolls_back,
					  thaw_teardown),
		cmocka_unit_test(test_b_provision_both_forests),
		cmocka_unit_test(test_c_second_provision_changes_nothing),
		cmocka_unit_test(test_d_filtering),
		cmocka_unit_test(test_e_dry_run_reports_deleted_link),
		cmocka_unit_test(test_f_foreign_gpo_refused_then_adopted),
		cmocka_unit_test_teardown(
			test_g_rollback_spares_hand_made_ipamug, thaw_teardown),
		cmocka_unit_test(test_h_filtering_from_files),
		cmocka_unit_test(test_i_delegated_users),
	};

	return cmocka_run_group_tests_name("lab_gpo", tests, setup, teardown);
}
