/*
 * ipamctl plan, apply, drift and history -- the reconciler -- against both
 * forests of the lab.  AD is checked with tools independent of ipamctl:
 * samba-tool (gpo listall/getlink/aclcheck/dellink/del, group
 * removemembers), ldapsearch, smbclient, dig and Samba's Python bindings
 * (DACLs read and edited ACE by ACE); the plan's JSON against
 * schemas/plan.schema.json with python3-jsonschema (Draft 2020-12).
 *
 * The desired state is the lab's ($IPAM_LAB_CONFIG, never modified),
 * copied into a temporary directory with its own state database,
 * safety.maxRemovals 1, and four servers listed: dhcp1 and dc1 of corp, dc2
 * and bdhcp1 of branch, managed (some made unmanaged by later cases).  In
 * order, against one lab (the cases share its state):
 *  (1) plan --detailed-exitcode exits 2 (its JSON valid against the schema,
 *      in phase order; -o markdown a merge-request comment), apply
 *      --auto-approve exits 0, plan exits 0; in each forest the three GPOs
 *      exist once (CN=User, CN=Machine, SYSVOL folder), linked, aclcheck
 *      clean, IPAMUG and the DC grants there, each managed server's SID
 *      with read and apply on the GPOs of its roles and nowhere else;
 *  (2) drift made with Samba's tools -- a link deleted, a filter ACE
 *      removed, Groups.xml edited, a GPO deleted, the IPAM server taken out
 *      of IPAMUG, IPAMUG's DNS ACL entry removed -- is reported by drift
 *      (exit 2, origin drift) and corrected by one apply; plan exits 0;
 *  (3) a domain seen incompletely gets no removal: with UDP port 68 taken
 *      (DHCP discovery incomplete, GPO state readable) the removal is listed
 *      as skipped; with the branch DC frozen (SIGSTOP) nothing is planned
 *      for branch, nor for corp, which answers and is converged; applying
 *      either plan leaves the ACEs in AD; (3c, run after (5)) SYSVOL
 *      folder ACLs that cannot be read (smbcacls failing) are no drift;
 *  (4) a plan removing more than safety.maxRemovals is refused (exit 1, AD
 *      unchanged), and applies with --allow-removals N;
 *  (5) a saved plan is refused as stale once AD or the desired state
 *      changed, or when an action in it was edited, and applies when
 *      nothing did;
 *  (6) two applies at once: one applies, the other exits 1 naming the lock
 *      holder; no GPO made twice;
 *  (7) kill -9 of a fresh apply on a clean domain during discovery, during
 *      a GPO's creation and during a DACL write: the next run takes the
 *      stale lock over (the killed run is 'interrupted' in history), a
 *      normal apply converges, no GPO or IPAMUG twice; and (7b) what a run
 *      killed between a GPO's container and its children, or in making
 *      its SYSVOL folder, leaves (made by hand, so that these points are
 *      hit every time) is made whole; (7c) a GPO IPAM1_DNS made by hand
 *      before the first apply is a conflict: plan --detailed-exitcode,
 *      drift and apply exit 1 naming it, and apply writes nothing there.
 *
 * Discovery binds UDP 68: the test holds the lab's DHCP client lock too.
 * IPAM_RECTEST_KEEP=1 keeps the GPOs and IPAMUG at the end.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

enum { GPO_DHCP, GPO_DNS, GPO_DC_NPS };

/* Per forest (index 1 corp, 2 branch). */
static struct labad_forest F[3];

/* The servers the desired state lists (besides the lab's nps1). */
enum { S_DHCP1, S_DC1, S_BDC1, S_BDHCP1, NSRV };

struct server {
	int f;
	const char *name;
	bool dc;
	unsigned gpos; /* bit per GPO it belongs in (DNS added from dig) */
	char *sid;
};

static struct server SRV[NSRV] = {
	{1, "dhcp1.corp.example.test", false, 1u << GPO_DHCP, NULL},
	{1, "dc1.corp.example.test", true, 1u << GPO_DC_NPS, NULL},
	{2, "dc2.branch.example.test", true, 1u << GPO_DC_NPS, NULL},
	{2, "bdhcp1.branch.example.test", false, 1u << GPO_DHCP, NULL},
};

/* What the desired state last applied says of each server. */
static bool managed[NSRV];

/* The desired states: A all four managed; B dhcp1 unmanaged; C bdhcp1
 * unmanaged with a 3 s timeout (for a frozen DC); D dhcp1 and bdhcp1
 * unmanaged. */
enum { CFG_A, CFG_B, CFG_C, CFG_D, NCFG };
static char *cfg[NCFG];
static char *tmpdir, *db_path;

/* ---- running things ----------------------------------------------------- */

/* ldapmodify -a with the LDIF on stdin, must succeed. */
static void ldap_add(int f, const char *ldif)
{
	char ca[4096];
	const char *env[] = {ca, NULL};
	const char *argv[] = {
		"ldapmodify", "-a",
		"-x",	      "-ZZ",
		"-H",	      lab_need_forest(f, "LDAP_URI"),
		"-D",	      lab_need_forest(f, "ADMIN_USER"),
		"-y",	      lab_need_forest(f, "ADMIN_PASSWORD_FILE"),
		NULL};
	struct lab_run_opts opts = {
		.env = env, .input = ldif, .input_len = strlen(ldif)};
	struct lab_run res;

	snprintf(ca, sizeof(ca), "LDAPTLS_CACERT=%s", lab_need_forest(f, "CA"));
	lab_must_succeed(argv, &opts, &res);
	lab_run_free(&res);
}

/* ---- the lab's objects -------------------------------------------------- */

static void rmace(int f, const char *dn, const char *sid, const char *guid)
{
	const char *args[] = {dn, sid, guid, NULL};
	struct lab_run res;

	labad_py(f, "rmace", args, &res);
	lab_run_free(&res);
}

/* Any ACE at all naming sid? */
static bool names_sid(char **acl, const char *sid)
{
	size_t slen = strlen(sid);

	for (; *acl; acl++) {
		size_t len = strlen(*acl);

		if (len > slen && (*acl)[len - slen - 1] == ' ' &&
		    !strcmp(*acl + len - slen, sid))
			return true;
	}
	return false;
}

/* samba-tool gpo getlink <domain DN>: the options of each of our GPOs'
 * links (NULL: not linked). */
static void link_options(int f, char *opts[LABAD_NGPO])
{
	const char *args[] = {"gpo", "getlink", F[f].dn, NULL};
	struct lab_run res;

	labad_samba_tool_ok(f, args, &res);
	for (int k = 0; k < LABAD_NGPO; k++)
		opts[k] = F[f].guid[k]
				  ? labad_getlink_options(res.out, F[f].guid[k])
				  : NULL;
	lab_run_free(&res);
}

static char *link_option(int f, int k)
{
	char *o[LABAD_NGPO], *v;
	int i;

	link_options(f, o);
	v = o[k];
	for (i = 0; i < LABAD_NGPO; i++)
		if (i != k)
			free(o[i]);
	return v;
}

static void dellink(int f, int k)
{
	const char *args[] = {"gpo", "dellink", F[f].dn, F[f].guid[k], NULL};
	struct lab_run res;

	labad_samba_tool_ok(f, args, &res);
	lab_run_free(&res);
}

/* ---- the desired states ------------------------------------------------- */

/* The lab's desired state with our database, timeout, maxRemovals 1 and
 * the four servers (unmanaged where mask has their bit), in tmpdir/name. */
static char *write_config(const char *name, unsigned unmanaged, int timeout)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL);
	char *dir = xasprintf("%s/%s", tmpdir, name), *path;
	char **lines = NULL;
	struct strbuf out = STRBUF_INIT;
	bool db = false, to = false, mr = false, srv = false,
	     in_servers = false;
	size_t i, n = 0;
	const char *p;

	/* every line, empty ones included */
	for (p = text; *p;) {
		const char *eol = strchr(p, '\n');
		char *l = xstrndup(p, eol ? (size_t)(eol - p) : strlen(p));

		labad_strv_push(&lines, &n, l);
		free(l);
		p = eol ? eol + 1 : p + strlen(p);
	}
	for (i = 0; i < n; i++) {
		const char *l = lines[i], *t = l;

		while (*t == ' ')
			t++;
		if (!strncmp(l, "database:", 9)) {
			strbuf_addf(&out, "database: %s%s\n",
				    test_db_is_pg() ? "" : "sqlite:", db_path);
			db = true;
		} else if (!strncmp(l, "  timeout:", 10)) {
			strbuf_addf(&out, "  timeout: %d\n", timeout);
			to = true;
		} else if (!strncmp(t, "maxRemovals:", 12)) {
			strbuf_addf(&out, "%.*smaxRemovals: 1\n", (int)(t - l),
				    l);
			mr = true;
		} else {
			if (in_servers && l[0] && l[0] != ' ' && l[0] != '#') {
				for (int s = 0; s < NSRV; s++)
					strbuf_addf(&out,
						    "  - name: %s\n"
						    "    manageability: %s\n",
						    SRV[s].name,
						    unmanaged & (1u << s)
							    ? "unmanaged"
							    : "managed");
				in_servers = false;
				srv = true;
			}
			if (!strcmp(l, "servers:"))
				in_servers = true;
			strbuf_addf(&out, "%s\n", l);
		}
	}
	if (!db || !to || !mr || !srv)
		fail_msg("%s: no database (%d), connection timeout (%d), "
			 "maxRemovals (%d) or servers followed by another "
			 "key (%d) to change:\n%s",
			 src, db, to, mr, srv, text);
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out.buf, out.len), 0);
	free(path);
	lab_strv_free(lines);
	strbuf_release(&out);
	free(text);
	free(src);
	return dir;
}

static void set_managed(unsigned unmanaged)
{
	for (int s = 0; s < NSRV; s++)
		managed[s] = !(unmanaged & (1u << s));
}

/* ---- freezing the branch DC, holding UDP 68 ----------------------------- */

static volatile pid_t frozen_pid;
static int port68 = -1;

static void thaw(void)
{
	if (frozen_pid > 0)
		kill(frozen_pid, SIGCONT);
	frozen_pid = 0;
}

static void thaw_on_signal(int sig)
{
	thaw();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The state letter of /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char *path = xasprintf("/proc/%ld/stat", (long)pid);
	char *text = lab_read_file(path, 4096, NULL), *close, st = 0;

	if (text && (close = strrchr(text, ')')) && close[1] == ' ')
		st = close[2];
	free(text);
	free(path);
	return st;
}

/* SIGSTOP the branch samba (one process, -M single): its LDAP, DNS and
 * Kerberos stop answering; TCP still connects. */
static void freeze_branch(void)
{
	pid_t pid = labad_samba_pid("samba-branch");

	signal(SIGTERM, thaw_on_signal);
	signal(SIGINT, thaw_on_signal);
	frozen_pid = pid;
	assert_int_equal(kill(pid, SIGSTOP), 0);
	for (int tries = 0; tries < 100; tries++) {
		if (proc_state(pid) == 'T')
			return;
		usleep(10000);
	}
	fail_msg("samba-branch (pid %ld) did not stop", (long)pid);
}

/* Take UDP port 68 in the lab namespace without SO_REUSEADDR: ipamctl's
 * DHCPINFORM probe cannot bind it, so DHCP discovery is incomplete while
 * LDAP and SMB answer as ever. */
static void hold_port68(void)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(68);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	port68 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(port68 >= 0);
	if (bind(port68, (struct sockaddr *)&a, sizeof(a)))
		fail_msg("bind UDP 68: %s", strerror(errno));
}

static void release_port68(void)
{
	if (port68 >= 0)
		close(port68);
	port68 = -1;
}

static int thaw_teardown(void **state)
{
	(void)state;
	thaw();
	release_port68();
	return 0;
}

/* ---- ipamctl's JSON ----------------------------------------------------- */

static long long jint(const struct ipam_node *map, const char *key,
		      const char *ctx)
{
	const struct ipam_node *v = labad_jkey(map, key);

	if (!v || v->kind != IPAM_NODE_INT)
		fail_msg("%s: no integer '%s'", ctx, key);
	return v->num;
}

static const struct ipam_node *jseq(const struct ipam_node *map,
				    const char *key, const char *ctx)
{
	const struct ipam_node *v = labad_jkey(map, key);

	if (!v || v->kind != IPAM_NODE_SEQ)
		fail_msg("%s: no list '%s'", ctx, key);
	return v;
}

static struct ipam_node *parse_json_file(const char *path)
{
	size_t len;
	char *text = lab_read_file(path, 1 << 24, &len);
	struct ipam_node *root;

	if (!text)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	root = labad_parse_json(text, len, path);
	free(text);
	return root;
}

static bool eq_ci(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

/* Actions of a plan matching each of kind, domain, gpo, target, origin
 * that is not NULL. */
static size_t count_actions(const struct ipam_node *plan, const char *kind,
			    const char *domain, const char *gpo,
			    const char *target, const char *origin)
{
	const struct ipam_node *acts = jseq(plan, "actions", "plan");
	size_t i, n = 0;

	for (i = 0; i < acts->nr; i++) {
		const struct ipam_node *a = acts->items[i];

		if ((kind && !eq_ci(labad_jstr(a, "kind"), kind)) ||
		    (domain && !eq_ci(labad_jstr(a, "domain"), domain)) ||
		    (gpo && !eq_ci(labad_jstr(a, "gpo"), gpo)) ||
		    (target && !eq_ci(labad_jstr(a, "target"), target)) ||
		    (origin && !eq_ci(labad_jstr(a, "origin"), origin)))
			continue;
		n++;
	}
	return n;
}

/* The actions as text, for messages. */
static char *actions_text(const struct ipam_node *plan)
{
	const struct ipam_node *acts = jseq(plan, "actions", "plan");
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < acts->nr; i++) {
		const struct ipam_node *a = acts->items[i];
		const char *g = labad_jstr(a, "gpo"),
			   *r = labad_jstr(a, "reason");

		strbuf_addf(&sb, "  %s %s %s %s %s: %s\n",
			    labad_jstr(a, "origin"), labad_jstr(a, "kind"),
			    labad_jstr(a, "domain"), g ? g : "-",
			    labad_jstr(a, "target"), r ? r : "");
	}
	return strbuf_detach(&sb, NULL);
}

static void need_action(const struct ipam_node *plan, const char *kind,
			const char *domain, const char *gpo, const char *target,
			const char *origin, const char *what)
{
	if (!count_actions(plan, kind, domain, gpo, target, origin))
		fail_msg("%s: no %s action %s %s %s (origin %s) in:\n%s", what,
			 kind, domain, gpo ? gpo : "-", target ? target : "-",
			 origin ? origin : "any", actions_text(plan));
}

/* The filter actions name the computer's SID as AD has it. */
static void filter_sids_ok(const struct ipam_node *plan, const char *what)
{
	const struct ipam_node *acts = jseq(plan, "actions", "plan");
	size_t i;

	for (i = 0; i < acts->nr; i++) {
		const struct ipam_node *a = acts->items[i];
		const char *k = labad_jstr(a, "kind"),
			   *t = labad_jstr(a, "target");

		if (!k || strncmp(k, "filter_", 7))
			continue;
		for (int s = 0; s < NSRV; s++)
			if (eq_ci(t, SRV[s].name) &&
			    (!labad_jstr(a, "sid") ||
			     strcmp(labad_jstr(a, "sid"), SRV[s].sid)))
				fail_msg("%s: %s %s has sid %s, AD says %s",
					 what, k, t,
					 labad_jstr(a, "sid")
						 ? labad_jstr(a, "sid")
						 : "null",
					 SRV[s].sid);
	}
}

/* The inventory (manageability, purges), then creates, updates, links,
 * filter adds, filter removes, unlinks and deletes last; seq 1, 2, 3… */
static int phase(const char *kind, const char *op)
{
	static const char *const order[][4] = {
		{"manageability", "purge", NULL, NULL},
		{"group", "group_member", "dc_grants", "gpo_create"},
		{"gpo_settings", "gpo_security", NULL, NULL},
		{"gpo_link", NULL, NULL, NULL},
		{"filter_add", NULL, NULL, NULL},
		{"filter_remove", NULL, NULL, NULL},
		{"gpo_unlink", NULL, NULL, NULL},
		{"gpo_delete", NULL, NULL, NULL},
		{"dc_grants", NULL, NULL, NULL}, /* removed: after the GPOs */
		{"group", NULL, NULL, NULL},	 /* removed: last */
	};

	if (kind && op && !strcmp(op, "remove") &&
	    (!strcmp(kind, "dc_grants") || !strcmp(kind, "group")))
		return !strcmp(kind, "group") ? 9 : 8;
	for (size_t i = 0; kind && i < sizeof(order) / sizeof(order[0]); i++)
		for (size_t j = 0; j < 4 && order[i][j]; j++)
			if (!strcmp(kind, order[i][j]))
				return (int)i;
	fail_msg("unknown action kind '%s'", kind ? kind : "(none)");
	return -1;
}

static void order_ok(const struct ipam_node *plan, const char *what)
{
	const struct ipam_node *acts = jseq(plan, "actions", "plan");
	int last = 0;
	size_t i;

	for (i = 0; i < acts->nr; i++) {
		const struct ipam_node *a = acts->items[i];
		int ph = phase(labad_jstr(a, "kind"), labad_jstr(a, "op"));

		if (jint(a, "seq", what) != (long long)i + 1)
			fail_msg("%s: action %zu has seq %lld", what, i + 1,
				 jint(a, "seq", what));
		if (ph < last)
			fail_msg("%s: action %zu (%s) comes after a later "
				 "phase:\n%s",
				 what, i + 1, labad_jstr(a, "kind"),
				 actions_text(plan));
		last = ph;
	}
}

/* history -o json: the outcome of the run of pid (NULL: no such run). */
static char *run_outcome(const char *config, pid_t pid, long long *id)
{
	struct lab_run res;
	struct ipam_node *root;
	char *outcome = NULL;
	size_t i;

	labad_run_ipamctl(&res, "history", "-c", config, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl history -o json");
	root = labad_parse_json(res.out, res.out_len, "history -o json");
	if (root->kind != IPAM_NODE_SEQ)
		fail_msg("history -o json is not a list");
	for (i = 0; i < root->nr && !outcome; i++) {
		const struct ipam_node *r = root->items[i];
		const struct ipam_node *p = labad_jkey(r, "pid");

		if (p && p->kind == IPAM_NODE_INT && p->num == (long long)pid &&
		    labad_jstr(r, "outcome")) {
			outcome = xstrdup(labad_jstr(r, "outcome"));
			if (id)
				*id = jint(r, "id", "history");
		}
	}
	ipam_node_free(root);
	lab_run_free(&res);
	return outcome;
}

static void expect_outcome(const char *config, pid_t pid, const char *want)
{
	char *got = run_outcome(config, pid, NULL);

	if (!got || strcmp(got, want))
		fail_msg("history: the run of pid %ld is '%s', expected '%s'",
			 (long)pid, got ? got : "(no such run)", want);
	free(got);
}

/* ---- ground truth ------------------------------------------------------- */

/* A GPO as its creation makes it: CN=User and CN=Machine under the
 * container, User and Machine folders and GPT.INI in SYSVOL. */
static void gpo_structure_ok(int f, int k)
{
	char *user = xasprintf("CN=User,%s", F[f].gpo_dn[k]);
	char *machine = xasprintf("CN=Machine,%s", F[f].gpo_dn[k]);
	char **children =
		labad_ldap_dns(f, F[f].gpo_dn[k], "one", "(objectClass=*)");
	char *cmd = xasprintf("ls \"%s\\Policies\\%s\\*\"", F[f].domain,
			      F[f].guid[k]);
	struct lab_run res;
	char **lines;
	bool dir_user = false, dir_machine = false, gpt = false;

	if (labad_strv_len(children) != 2 ||
	    !labad_strv_has_ci(children, user) ||
	    !labad_strv_has_ci(children, machine))
		fail_msg("%s %s %s: children [%s], expected CN=User and "
			 "CN=Machine (as the GPO's creation makes them)",
			 F[f].domain, labad_gpo_name[k], F[f].guid[k],
			 labad_join(children));
	labad_smbclient(f, cmd, &res);
	lines = lab_lines(res.out, NULL);
	for (size_t i = 0; lines && lines[i]; i++) {
		const char *l = lines[i];

		while (*l == ' ')
			l++;
		if (!strncmp(l, "User ", 5) && strstr(l, " D "))
			dir_user = true;
		else if (!strncmp(l, "Machine ", 8) && strstr(l, " D "))
			dir_machine = true;
		else if (!strncasecmp(l, "GPT.INI ", 8))
			gpt = true;
	}
	if (!dir_user || !dir_machine || !gpt)
		fail_msg("%s %s %s: SYSVOL folder without %s%s%s (a GPO as "
			 "its creation makes it has User\\, Machine\\ and "
			 "GPT.INI); smbclient ls (exit %d):\n%s",
			 F[f].domain, labad_gpo_name[k], F[f].guid[k],
			 dir_user ? "" : "User\\ ",
			 dir_machine ? "" : "Machine\\ ", gpt ? "" : "GPT.INI",
			 res.exit_code, res.out);
	lab_strv_free(lines);
	lab_run_free(&res);
	lab_strv_free(children);
	free(cmd);
	free(user);
	free(machine);
}

/*
 * What AD must look like in forest f after a converged apply: IPAMUG once
 * (holding ipam1 in corp), in Event Log Readers, read on the DNS ACL; the
 * three GPOs once each, linked and enabled, Authenticated Users read and
 * no apply, IPAMUG edit; in each GPO's filtering exactly the managed
 * servers of f whose roles want it; unmanaged servers in no ACE of any of
 * the three; each GPO's CN=User and CN=Machine and SYSVOL folder there;
 * aclcheck clean.
 */
static void check_domain(int f)
{
	char *ug = labad_ipamug_dn(&F[f]), **v, *dns_dn, *elr_dn,
	     *opts[LABAD_NGPO];
	char **acl[LABAD_NGPO + 1];
	const char *dns[LABAD_NGPO + 1];
	char ctx[160];
	int k;

	v = labad_ldap_dns(f, F[f].dn, "sub", "(sAMAccountName=IPAMUG)");
	if (labad_strv_len(v) != 1 || strcasecmp(v[0], ug))
		fail_msg("%s: IPAMUG: [%s], expected one at %s", F[f].domain,
			 labad_join(v), ug);
	lab_strv_free(v);
	free(F[f].ipamug_sid);
	F[f].ipamug_sid = labad_sid_of(f, "(sAMAccountName=IPAMUG)");
	if (f == 1) {
		char *server = xasprintf("CN=IPAM1,CN=Computers,%s", F[f].dn);

		v = labad_ldap_all(f, ug, "member");
		if (!labad_strv_has_ci(v, server))
			fail_msg("%s: IPAMUG members [%s], no %s", F[f].domain,
				 labad_join(v), server);
		lab_strv_free(v);
		free(server);
	}
	elr_dn = xasprintf("CN=Event Log Readers,CN=Builtin,%s", F[f].dn);
	v = labad_ldap_all(f, elr_dn, "member");
	if (!labad_strv_has_ci(v, ug))
		fail_msg("%s: IPAMUG not in Event Log Readers: [%s]",
			 F[f].domain, labad_join(v));
	lab_strv_free(v);

	labad_need_gpos(&F[f], true);
	dns_dn = xasprintf("CN=MicrosoftDNS,CN=System,%s", F[f].dn);
	for (k = 0; k < LABAD_NGPO; k++)
		dns[k] = F[f].gpo_dn[k];
	dns[LABAD_NGPO] = dns_dn;
	labad_aces_of(f, dns, LABAD_NGPO + 1, acl);
	labad_expect_ace(acl[LABAD_NGPO], LABAD_ACE_DNS, F[f].ipamug_sid, true,
			 dns_dn);
	link_options(f, opts);
	for (k = 0; k < LABAD_NGPO; k++) {
		const char *want[NSRV + 1];
		char **got;
		size_t n = 0;

		snprintf(ctx, sizeof(ctx), "%s %s %s", F[f].domain,
			 labad_gpo_name[k], F[f].guid[k]);
		if (!opts[k] || strcmp(opts[k], "NONE"))
			fail_msg("%s: link on %s: %s", ctx, F[f].dn,
				 opts[k] ? opts[k] : "not linked");
		gpo_structure_ok(f, k);
		labad_expect_ace(acl[k], LABAD_ACE_READ, LABAD_AU_SID, true,
				 ctx);
		labad_expect_ace(acl[k], LABAD_ACE_EDIT, F[f].ipamug_sid, true,
				 ctx);
		for (int s = 0; s < NSRV; s++) {
			if (SRV[s].f != f)
				continue;
			if (managed[s] && (SRV[s].gpos & (1u << k))) {
				want[n++] = SRV[s].sid;
				labad_expect_ace(acl[k], LABAD_ACE_READ,
						 SRV[s].sid, true, ctx);
			} else if (names_sid(acl[k], SRV[s].sid)) {
				fail_msg("%s: an ACE for %s (%s, %s here):\n  "
					 "%s",
					 ctx, SRV[s].name, SRV[s].sid,
					 managed[s] ? "managed, not wanted"
						    : "unmanaged",
					 labad_join(acl[k]));
			}
		}
		want[n] = NULL;
		got = labad_apply_sids(acl[k]);
		snprintf(ctx, sizeof(ctx),
			 "%s %s: the SIDs that may apply it (security "
			 "filtering)",
			 F[f].domain, labad_gpo_name[k]);
		lab_assert_set(got, want, ctx);
		lab_strv_free(got);
		free(opts[k]);
	}
	for (k = 0; k <= LABAD_NGPO; k++)
		lab_strv_free(acl[k]);
	labad_aclcheck_ok(f);
	free(dns_dn);
	free(elr_dn);
	free(ug);
}

/* plan --detailed-exitcode with config c must exit 0 (nothing to do). */
static void plan_clean(int c, const char *after)
{
	struct lab_run res;
	char what[256];

	snprintf(what, sizeof(what),
		 "ipamctl plan --detailed-exitcode after %s", after);
	labad_run_ipamctl(&res, "plan", "-c", cfg[c], "--detailed-exitcode",
			  NULL);
	labad_expect_exit(&res, 0, what);
	lab_run_free(&res);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	struct lab_run res;
	int f;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	for (f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	/* SIDs, and the DNS role from the zones' NS records (dig) */
	for (int s = 0; s < NSRV; s++) {
		char *filter = xasprintf("(dNSHostName=%s)", SRV[s].name);
		const char *domain = F[SRV[s].f].domain;
		const char *argv[] = {"dig", "+short", "NS", domain, NULL};
		char *fqdn = xasprintf("%s.", SRV[s].name);

		SRV[s].sid = labad_sid_of(SRV[s].f, filter);
		lab_must_succeed(argv, NULL, &res);
		if (lab_has_line(res.out, fqdn))
			SRV[s].gpos |= 1u << GPO_DNS;
		lab_run_free(&res);
		free(filter);
		free(fqdn);
	}
	/* the lab's DCs are name servers of their zones */
	assert_true(SRV[S_DC1].gpos & (1u << GPO_DNS));
	assert_true(SRV[S_BDC1].gpos & (1u << GPO_DNS));
	cfg[CFG_A] = write_config("A", 0, 10);
	cfg[CFG_B] = write_config("B", 1u << S_DHCP1, 10);
	cfg[CFG_C] = write_config("C", 1u << S_BDHCP1, 3);
	cfg[CFG_D] = write_config("D", (1u << S_DHCP1) | (1u << S_BDHCP1), 10);
	set_managed(0);
	labad_run_ipamctl(&res, "db", "init", "-c", cfg[CFG_A], NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	int f, k;

	(void)state;
	thaw();
	release_port68();
	for (f = 1; f <= 2; f++) {
		if (!lab_env("IPAM_RECTEST_KEEP"))
			labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	for (int s = 0; s < NSRV; s++)
		free(SRV[s].sid);
	for (k = 0; k < NCFG; k++)
		free(cfg[k]);
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	return 0;
}

/* ---- (1) plan, apply, plan ---------------------------------------------- */

static void test_1_full_loop(void **state)
{
	char *out = xasprintf("%s/plan1.json", tmpdir);
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();
	int f, k;

	(void)state;
	/* the merge-request comment on stdout, the JSON plan in --out */
	labad_run_ipamctl(&res, "plan", "-c", cfg[CFG_A], "--detailed-exitcode",
			  "-o", "markdown", "--out", out, NULL);
	labad_expect_exit(&res, 2,
			  "ipamctl plan --detailed-exitcode (fresh lab)");
	if (strncmp(res.out, "### ipamctl plan", 16))
		fail_msg("plan -o markdown does not start with '### ipamctl "
			 "plan':\n%s",
			 res.out);
	lab_run_free(&res);
	labad_schema_ok_file("plan", out);
	plan = parse_json_file(out);
	order_ok(plan, "the first plan");
	filter_sids_ok(plan, "the first plan");
	for (f = 1; f <= 2; f++) {
		need_action(plan, "group", F[f].domain, NULL, NULL, "pending",
			    "first plan");
		need_action(plan, "dc_grants", F[f].domain, NULL, NULL,
			    "pending", "first plan");
		for (k = 0; k < LABAD_NGPO; k++) {
			need_action(plan, "gpo_create", F[f].domain,
				    labad_gpo_name[k], labad_gpo_name[k],
				    "pending", "first plan");
			need_action(plan, "gpo_link", F[f].domain,
				    labad_gpo_name[k], labad_gpo_name[k],
				    "pending", "first plan");
		}
	}
	need_action(plan, "group_member", F[1].domain, NULL,
		    "ipam1.corp.example.test", "pending", "first plan");
	for (int s = 0; s < NSRV; s++)
		for (k = 0; k < LABAD_NGPO; k++)
			if (count_actions(plan, "filter_add",
					  F[SRV[s].f].domain, labad_gpo_name[k],
					  SRV[s].name,
					  NULL) != !!(SRV[s].gpos & (1u << k)))
				fail_msg("first plan: filter_add of %s on %s: "
					 "expected %s:\n%s",
					 SRV[s].name, labad_gpo_name[k],
					 SRV[s].gpos & (1u << k) ? "one"
								 : "none",
					 actions_text(plan));
	if (count_actions(plan, NULL, NULL, NULL, NULL, "drift") ||
	    count_actions(plan, "filter_remove", NULL, NULL, NULL, NULL))
		fail_msg("first plan: drift or removals on a fresh lab:\n%s",
			 actions_text(plan));
	ipam_node_free(plan);

	/* no terminal, no --auto-approve: refused, nothing written */
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], NULL);
	labad_expect_exit(&res, 1, "ipamctl apply without a terminal");
	if (!strstr(res.err, "--auto-approve"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl apply without "
						      "a terminal"));
	lab_run_free(&res);
	if (labad_list_gpos(1, NULL, NULL) || labad_list_gpos(2, NULL, NULL))
		fail_msg("apply without --auto-approve made GPOs");

	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl apply --auto-approve");
	if (!strstr(res.out, "Apply complete: "))
		fail_msg("%s", lab_run_describe(&res, "ipamctl apply"));
	printf("%s", strstr(res.out, "Apply complete: "));
	lab_run_free(&res);
	plan_clean(CFG_A, "the first apply");
	for (f = 1; f <= 2; f++)
		check_domain(f);
	free(out);
	printf("(1) full loop: %.1f s\n", labad_now_s() - t0);
}

/* ---- (2) drift, made with Samba's tools --------------------------------- */

static char *groups_xml(int f, int k)
{
	return xasprintf("%s\\Policies\\%s\\Machine\\Preferences\\Groups\\"
			 "Groups.xml",
			 F[f].domain, F[f].guid[k]);
}

#define SECEDIT_DIR "Machine\\Microsoft\\Windows NT\\SecEdit"

/* A file of a GPO folder, fetched (NULL when smbclient cannot). */
static char *fetch(int f, const char *remote, const char *local, size_t *len)
{
	char *cmd = xasprintf("get \"%s\" \"%s\"", remote, local);
	struct lab_run res;
	char *text;

	unlink(local);
	labad_smbclient(f, cmd, &res);
	text = lab_read_file(local, 1 << 20, len);
	if (!text)
		fail_msg("cannot fetch %s: %s", remote,
			 lab_run_describe(&res, "smbclient get"));
	lab_run_free(&res);
	free(cmd);
	return text;
}

static char *hand_sid; /* the SID test 2 puts in a filter by hand */

static void test_2_drift_detected_and_corrected(void **state)
{
	const int c = 1, b = 2;
	char *ipam1 = xasprintf("CN=IPAM1,CN=Computers,%s", F[c].dn);
	char *dnsacl = xasprintf("CN=MicrosoftDNS,CN=System,%s", F[c].dn);
	char *xml_remote, *xml_local, *orig, *edited, *now, *p, *inf_remote;
	char *deleted_guid, *drift_json;
	size_t orig_len, now_len;
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();
	long long run_id = 0;

	(void)state;
	labad_need_gpos(&F[c], true);
	labad_need_gpos(&F[b], true);
	F[c].ipamug_sid = F[c].ipamug_sid
				  ? F[c].ipamug_sid
				  : labad_sid_of(c, "(sAMAccountName=IPAMUG)");

	/* corp: IPAM1_DNS unlinked */
	dellink(c, GPO_DNS);
	/* corp: dhcp1's Apply Group Policy ACE off IPAM1_DHCP, by hand */
	rmace(c, F[c].gpo_dn[GPO_DHCP], SRV[S_DHCP1].sid, LABAD_APPLY_GUID);
	/* corp: IPAM1_DC_NPS's Groups.xml edited over SMB */
	xml_remote = groups_xml(c, GPO_DC_NPS);
	xml_local = xasprintf("%s/Groups.xml", tmpdir);
	orig = fetch(c, xml_remote, xml_local, &orig_len);
	edited = xstrdup(orig);
	p = strstr(edited, "action=\"ADD\"");
	if (!p)
		fail_msg("no action=\"ADD\" in %s:\n%s", xml_remote, orig);
	memcpy(p, "action=\"DEL\"", 12);
	assert_int_equal(lab_write_file(xml_local, edited, strlen(edited)), 0);
	{
		char *cmd =
			xasprintf("put \"%s\" \"%s\"", xml_local, xml_remote);

		labad_smbclient(c, cmd, &res);
		labad_expect_exit(&res, 0, "smbclient put Groups.xml");
		lab_run_free(&res);
		free(cmd);
	}
	/* corp: a security template put into IPAM1_DNS (Restricted Groups
	 * that empty Event Log Readers; tests/fixtures/secedit) */
	inf_remote = xasprintf("%s\\Policies\\%s\\" SECEDIT_DIR "\\GptTmpl.inf",
			       F[c].domain, F[c].guid[GPO_DNS]);
	{
		static const char *const dirs[] = {
			"Machine\\Microsoft", "Machine\\Microsoft\\Windows NT",
			SECEDIT_DIR};
		char *local = xasprintf("%s/../secedit/GptTmpl.inf",
					lab_need_env("IPAM_LAB_FIXTURES"));
		char *cmd;

		for (size_t i = 0; i < 3; i++) {
			cmd = xasprintf("mkdir \"%s\\Policies\\%s\\%s\"",
					F[c].domain, F[c].guid[GPO_DNS],
					dirs[i]);
			labad_smbclient(c, cmd, &res); /* may exist already */
			lab_run_free(&res);
			free(cmd);
		}
		cmd = xasprintf("put \"%s\" \"%s\"", local, inf_remote);
		labad_smbclient(c, cmd, &res);
		labad_expect_exit(&res, 0, "smbclient put GptTmpl.inf");
		lab_run_free(&res);
		free(cmd);
		free(local);
	}
	/* corp: the IPAM server out of IPAMUG; IPAMUG off the DNS ACL */
	{
		static const char *const args[] = {"group", "removemembers",
						   "IPAMUG", "ipam1$", NULL};
		char *ug = labad_ipamug_dn(&F[c]), **m;

		labad_samba_tool_ok(c, args, &res);
		lab_run_free(&res);
		m = labad_ldap_all(c, ug, "member");
		free(ug);
		if (labad_strv_has_ci(m, ipam1))
			fail_msg("samba-tool group removemembers left ipam1 "
				 "in IPAMUG");
		lab_strv_free(m);
	}
	rmace(c, dnsacl, F[c].ipamug_sid, NULL);
	/* corp: a computer ipamctl does not manage (the IPAM server itself)
	 * put into IPAM1_DC_NPS's security filtering by hand, as GPMC does:
	 * read and Apply Group Policy, with samba-tool dsacl set */
	{
		char *sid = labad_sid_of(c, "(sAMAccountName=IPAM1$)");
		char *objdn =
			xasprintf("--objectdn=%s", F[c].gpo_dn[GPO_DC_NPS]);
		/* shaped unlike ipamctl's own pair: no inheritance, and
		 * another right beside Apply Group Policy */
		char *read = xasprintf("--sddl=(A;;RPLCLORC;;;%s)", sid);
		char *apply = xasprintf(
			"--sddl=(OA;;CRRP;" LABAD_APPLY_GUID ";;%s)", sid);
		const char *a1[] = {"dsacl", "set", objdn, read, NULL};
		const char *a2[] = {"dsacl", "set", objdn, apply, NULL};
		char **acl;

		labad_samba_tool_ok(c, a1, &res);
		lab_run_free(&res);
		labad_samba_tool_ok(c, a2, &res);
		lab_run_free(&res);
		acl = labad_aces(c, F[c].gpo_dn[GPO_DC_NPS]);
		{
			char **ap = labad_apply_sids(acl);

			if (!labad_strv_has(ap, sid))
				fail_msg("dsacl set: %s may not apply "
					 "IPAM1_DC_NPS:\n  %s",
					 sid, labad_join(acl));
			lab_strv_free(ap);
		}
		lab_strv_free(acl);
		free(hand_sid);
		hand_sid = sid;
		free(objdn);
		free(read);
		free(apply);
	}
	/* branch: IPAM1_DHCP deleted */
	deleted_guid = xstrdup(F[b].guid[GPO_DHCP]);
	{
		const char *args[] = {"gpo", "del", deleted_guid, NULL};

		labad_samba_tool_ok(b, args, &res);
		lab_run_free(&res);
	}

	/* gpo show names the template and what it does */
	labad_run_ipamctl(&res, "gpo", "show", "--domain", F[c].domain, "-c",
			  cfg[CFG_A], NULL);
	labad_expect_exit(&res, 0, "ipamctl gpo show");
	if (!strstr(res.out, "SecEdit\\GptTmpl.inf: not declared, security "
			     "template: line 8: Restricted Groups replace "
			     "the members of Event Log Readers"))
		fail_msg("gpo show does not explain GptTmpl.inf:\n%s", res.out);
	lab_run_free(&res);

	/* drift: each reported, as drift, and nothing but drift */
	labad_run_ipamctl(&res, "drift", "-c", cfg[CFG_A], "-o", "json", NULL);
	labad_expect_exit(&res, 2, "ipamctl drift -o json");
	drift_json = xasprintf("%s/drift.json", tmpdir);
	labad_schema_ok("plan", res.out, res.out_len, drift_json);
	free(drift_json);
	plan = labad_parse_json(res.out, res.out_len, "drift -o json");
	lab_run_free(&res);
	need_action(plan, "gpo_link", F[c].domain, "IPAM1_DNS", "IPAM1_DNS",
		    "drift", "drift after dellink");
	need_action(plan, "filter_add", F[c].domain, "IPAM1_DHCP",
		    SRV[S_DHCP1].name, "drift", "drift after the ACE removal");
	need_action(plan, "gpo_settings", F[c].domain, "IPAM1_DC_NPS", NULL,
		    "drift", "drift after the Groups.xml edit");
	need_action(plan, "gpo_settings", F[c].domain, "IPAM1_DNS", NULL,
		    "drift", "drift after the GptTmpl.inf put");
	need_action(plan, "group_member", F[c].domain, NULL,
		    "ipam1.corp.example.test", "drift",
		    "drift after removemembers");
	need_action(plan, "dc_grants", F[c].domain, NULL, NULL, "drift",
		    "drift after the DNS ACL entry removal");
	need_action(plan, "filter_remove", F[c].domain, "IPAM1_DC_NPS", NULL,
		    "drift", "drift after the hand-added filter entry");
	need_action(plan, "gpo_create", F[b].domain, "IPAM1_DHCP", NULL,
		    "drift", "drift after gpo del");
	need_action(plan, "filter_add", F[b].domain, "IPAM1_DHCP",
		    SRV[S_BDHCP1].name, "drift", "drift after gpo del");
	filter_sids_ok(plan, "drift");
	order_ok(plan, "drift");
	{
		size_t all = count_actions(plan, NULL, NULL, NULL, NULL, NULL);
		size_t drift =
			count_actions(plan, NULL, NULL, NULL, NULL, "drift");
		const struct ipam_node *sum = labad_jkey(plan, "summary");

		if (all != drift ||
		    jint(sum, "drift", "summary") != (long long)drift)
			fail_msg("drift shows %zu actions, %zu of them drift "
				 "(summary.drift %lld):\n%s",
				 all, drift, jint(sum, "drift", "summary"),
				 actions_text(plan));
		/* the settings drift names the file */
		for (size_t i = 0; i < jseq(plan, "actions", "drift")->nr;
		     i++) {
			const struct ipam_node *a =
				jseq(plan, "actions", "drift")->items[i];

			if (eq_ci(labad_jstr(a, "kind"), "gpo_settings") &&
			    eq_ci(labad_jstr(a, "gpo"), "IPAM1_DC_NPS") &&
			    !strstr(labad_jstr(a, "reason"), "Groups.xml"))
				fail_msg("the settings drift does not name "
					 "Groups.xml: %s",
					 labad_jstr(a, "reason"));
			/* the template is named with what it does */
			if (eq_ci(labad_jstr(a, "kind"), "gpo_settings") &&
			    eq_ci(labad_jstr(a, "gpo"), "IPAM1_DNS") &&
			    (!strstr(labad_jstr(a, "reason"),
				     "SecEdit\\GptTmpl.inf not declared") ||
			     !strstr(labad_jstr(a, "reason"),
				     "replace the members of Event Log "
				     "Readers (S-1-5-32-573) without IPAMUG")))
				fail_msg("the settings drift of IPAM1_DNS does "
					 "not explain GptTmpl.inf: %s",
					 labad_jstr(a, "reason"));
		}
	}
	ipam_node_free(plan);

	/* two removals -- the hand-added entry and GptTmpl.inf -- over
	 * maxRemovals 1: refused, nothing done; then one apply corrects it
	 * all */
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 1, "ipamctl apply (drift, 2 removals)");
	if (!strstr(res.err, "--allow-removals 2"))
		fail_msg("%s",
			 lab_run_describe(&res, "apply over maxRemovals"));
	lab_run_free(&res);
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], "--auto-approve",
			  "--allow-removals", "2", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply (drift)");
	lab_run_free(&res);
	plan_clean(CFG_A, "correcting the drift");
	/* its journal: every action done */
	{
		struct ipam_node *run;
		const struct ipam_node *acts;
		char id[32];
		long long last = 0;

		labad_run_ipamctl(&res, "history", "-c", cfg[CFG_A], "-o",
				  "json", NULL);
		labad_expect_exit(&res, 0, "ipamctl history -o json");
		run = labad_parse_json(res.out, res.out_len, "history");
		for (size_t i = 0; i < run->nr; i++)
			if (eq_ci(labad_jstr(run->items[i], "command"),
				  "apply") &&
			    jint(run->items[i], "id", "history") > last)
				last = jint(run->items[i], "id", "history");
		ipam_node_free(run);
		lab_run_free(&res);
		run_id = last;
		snprintf(id, sizeof(id), "%lld", run_id);
		labad_run_ipamctl(&res, "history", "show", id, "-c", cfg[CFG_A],
				  "-o", "json", NULL);
		labad_expect_exit(&res, 0, "ipamctl history show -o json");
		run = labad_parse_json(res.out, res.out_len, "history show");
		if (!eq_ci(labad_jstr(run, "outcome"), "succeeded"))
			fail_msg("%s", lab_run_describe(&res, "history show"));
		acts = jseq(run, "actions", "history show");
		if (acts->nr < 7)
			fail_msg("history show: %zu actions journalled:\n%s",
				 acts->nr, res.out);
		for (size_t i = 0; i < acts->nr; i++)
			if (!eq_ci(labad_jstr(acts->items[i], "state"), "done"))
				fail_msg("journal of run %lld: action %zu "
					 "is %s:\n%s",
					 run_id, i + 1,
					 labad_jstr(acts->items[i], "state"),
					 res.out);
		ipam_node_free(run);
		lab_run_free(&res);
	}

	/* AD, independently: check_domain wants the filtering to be exactly
	 * the managed servers, so the hand-added entry is gone too */
	check_domain(c);
	check_domain(b);
	{
		char **acl = labad_aces(c, F[c].gpo_dn[GPO_DC_NPS]);
		char **ap = labad_apply_sids(acl);

		if (labad_strv_has(ap, hand_sid))
			fail_msg("the hand-added entry for %s is still in "
				 "IPAM1_DC_NPS's filtering:\n  %s",
				 hand_sid, labad_join(acl));
		lab_strv_free(ap);
		lab_strv_free(acl);
	}
	if (!strcasecmp(F[b].guid[GPO_DHCP], deleted_guid))
		fail_msg("branch IPAM1_DHCP still has the deleted GUID %s",
			 deleted_guid);
	now = fetch(c, xml_remote, xml_local, &now_len);
	if (now_len != orig_len || memcmp(now, orig, orig_len))
		fail_msg("Groups.xml after apply:\n%s\nbefore the edit:\n%s",
			 now, orig);
	{
		char *cmd = xasprintf("allinfo \"%s\"", inf_remote);

		labad_smbclient(c, cmd, &res);
		if (!strstr(res.out, "NT_STATUS_OBJECT_NAME_NOT_FOUND") &&
		    !strstr(res.err, "NT_STATUS_OBJECT_NAME_NOT_FOUND"))
			fail_msg("GptTmpl.inf still in IPAM1_DNS after "
				 "apply: %s",
				 lab_run_describe(&res, "smbclient allinfo"));
		lab_run_free(&res);
		free(cmd);
	}
	free(inf_remote);
	free(now);
	free(orig);
	free(edited);
	free(xml_remote);
	free(xml_local);
	free(deleted_guid);
	free(ipam1);
	free(dnsacl);
	printf("(2) drift: %.1f s\n", labad_now_s() - t0);
}

/* ---- (3) an incomplete domain gets no removal --------------------------- */

static bool reason_has(const struct ipam_node *list, const char *domain,
		       const char *key, const char *needle)
{
	for (size_t i = 0; i < list->nr; i++) {
		const char *d = labad_jstr(list->items[i], "domain");
		const char *v = labad_jstr(list->items[i], key);

		if (eq_ci(d, domain) && v && labad_ci_strstr(v, needle))
			return true;
	}
	return false;
}

static void no_removals(const struct ipam_node *plan, const char *what)
{
	const struct ipam_node *sum = labad_jkey(plan, "summary");

	if (count_actions(plan, "filter_remove", NULL, NULL, NULL, NULL) ||
	    count_actions(plan, "purge", NULL, NULL, NULL, NULL) ||
	    count_actions(plan, "gpo_unlink", NULL, NULL, NULL, NULL) ||
	    count_actions(plan, "gpo_delete", NULL, NULL, NULL, NULL) ||
	    jint(sum, "remove", what) != 0)
		fail_msg("%s: removals planned:\n%s", what, actions_text(plan));
}

static void test_3a_incomplete_discovery_skips_removal(void **state)
{
	const int c = 1;
	char *out = xasprintf("%s/plan3a.json", tmpdir);
	char **before, **after;
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();

	(void)state;
	labad_need_gpos(&F[c], true);
	before = labad_aces(c, F[c].gpo_dn[GPO_DHCP]);
	labad_expect_ace(before, LABAD_ACE_APPLY, SRV[S_DHCP1].sid, true,
			 "corp IPAM1_DHCP before");

	/* desired: dhcp1 unmanaged; DHCP discovery cannot probe */
	hold_port68();
	labad_run_ipamctl(&res, "plan", "-c", cfg[CFG_B], "--out", out,
			  "--detailed-exitcode", NULL);
	/* A plan that could not see everything is not exact: exit 1, the
	 * plan saved all the same. */
	labad_expect_exit(&res, 1, "ipamctl plan (UDP 68 taken)");
	if (!strstr(res.err, "seen incompletely"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl plan (UDP 68 "
						      "taken): no word of the "
						      "incomplete domain"));
	lab_run_free(&res);
	labad_schema_ok_file("plan", out);
	plan = parse_json_file(out);
	no_removals(plan, "plan with DHCP discovery incomplete");
	if (!reason_has(jseq(plan, "incomplete_domains", "plan"), F[c].domain,
			"reason", "incomplete"))
		fail_msg("incomplete_domains does not list %s", F[c].domain);
	if (!reason_has(jseq(plan, "skipped_removals", "plan"), F[c].domain,
			"what", SRV[S_DHCP1].name) ||
	    !reason_has(jseq(plan, "skipped_removals", "plan"), F[c].domain,
			"what", "IPAM1_DHCP"))
		fail_msg("skipped_removals does not name %s in IPAM1_DHCP",
			 SRV[S_DHCP1].name);
	if (jint(labad_jkey(plan, "summary"), "skipped_removals", "summary") <
	    1)
		fail_msg("summary.skipped_removals is 0");
	ipam_node_free(plan);

	/* applying that plan removes nothing either */
	labad_run_ipamctl(&res, "apply", out, "-c", cfg[CFG_B],
			  "--auto-approve", NULL);
	labad_expect_exit(&res, 1, "ipamctl apply PLAN (UDP 68 taken)");
	lab_run_free(&res);
	release_port68();
	after = labad_aces(c, F[c].gpo_dn[GPO_DHCP]);
	lab_assert_set(after, (const char *const *)before,
		       "corp IPAM1_DHCP DACL before and after an apply with "
		       "DHCP discovery incomplete");
	lab_strv_free(before);
	lab_strv_free(after);
	free(out);
	printf("(3a) incomplete discovery: %.1f s\n", labad_now_s() - t0);
}

static void test_3b_frozen_dc_removes_nothing(void **state)
{
	const int b = 2;
	char *out = xasprintf("%s/plan3b.json", tmpdir);
	/* failed lookups through the frozen DC's DNS: one try each */
	static const char *const env[] = {"RES_OPTIONS=timeout:1 attempts:1",
					  NULL};
	char **before, **after;
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();

	(void)state;
	labad_need_gpos(&F[b], true);
	before = labad_aces(b, F[b].gpo_dn[GPO_DHCP]);
	labad_expect_ace(before, LABAD_ACE_APPLY, SRV[S_BDHCP1].sid, true,
			 "branch IPAM1_DHCP before");

	/* desired: bdhcp1 unmanaged; the branch DC frozen */
	freeze_branch();
	labad_run_ipamctl_env(&res, env, "plan", "-c", cfg[CFG_C], "--out", out,
			      NULL);
	if (res.timed_out || res.exit_code != 1)
		fail_msg("%s", lab_run_describe(&res, "ipamctl plan (branch "
						      "DC frozen): exit 1 "
						      "expected"));
	printf("plan with the branch DC frozen: exit %d\n%s", res.exit_code,
	       res.err);
	if (strstr(res.out, "AD matches") ||
	    !strstr(res.out, "skipped removal: "))
		fail_msg("%s", lab_run_describe(&res, "ipamctl plan (branch "
						      "DC frozen): skipped "
						      "removals not listed"));
	lab_run_free(&res);
	labad_schema_ok_file("plan", out);
	plan = parse_json_file(out);
	no_removals(plan, "plan with the branch DC frozen");
	if (count_actions(plan, NULL, F[b].domain, NULL, NULL, NULL))
		fail_msg("actions for the frozen domain:\n%s",
			 actions_text(plan));
	/* corp answers and is as the desired state wants it: nothing to do
	 * there either (what cannot be read is no drift) */
	if (count_actions(plan, NULL, F[1].domain, NULL, NULL, NULL))
		fail_msg("actions for %s, which is up and converged, while the "
			 "branch DC is frozen:\n%s",
			 F[1].domain, actions_text(plan));
	if (!reason_has(jseq(plan, "incomplete_domains", "plan"), F[b].domain,
			"reason", "incomplete"))
		fail_msg("incomplete_domains does not list %s", F[b].domain);
	if (!reason_has(jseq(plan, "skipped_removals", "plan"), F[b].domain,
			"what", SRV[S_BDHCP1].name) ||
	    !reason_has(jseq(plan, "skipped_removals", "plan"), F[b].domain,
			"what", "IPAM1_DHCP"))
		fail_msg("skipped_removals does not name %s in IPAM1_DHCP",
			 SRV[S_BDHCP1].name);
	ipam_node_free(plan);
	labad_run_ipamctl_env(&res, env, "apply", out, "-c", cfg[CFG_C],
			      "--auto-approve", NULL);
	thaw();
	if (res.timed_out || res.exit_code != 1)
		fail_msg("%s",
			 lab_run_describe(&res, "ipamctl apply PLAN "
						"(branch DC frozen): exit "
						"1 expected"));
	printf("apply with the branch DC frozen: exit %d\n%s", res.exit_code,
	       res.err);
	lab_run_free(&res);
	after = labad_aces(b, F[b].gpo_dn[GPO_DHCP]);
	lab_assert_set(after, (const char *const *)before,
		       "branch IPAM1_DHCP DACL before and after an apply with "
		       "the branch DC frozen");
	lab_strv_free(before);
	lab_strv_free(after);
	free(out);
	printf("(3b) frozen DC: %.1f s\n", labad_now_s() - t0);
}

/* ---- (4) safety.maxRemovals --------------------------------------------- */

static void test_4_max_removals(void **state)
{
	char **before[3], **after, *arg, *want, *p;
	const char *plan_line;
	struct lab_run res;
	long removals = -1;
	size_t filter_removes = 0;
	double t0 = labad_now_s();
	int f;

	(void)state;
	for (f = 1; f <= 2; f++) {
		labad_need_gpos(&F[f], true);
		before[f] = labad_aces(f, F[f].gpo_dn[GPO_DHCP]);
	}
	/* dhcp1 and bdhcp1 unmanaged, maxRemovals 1: refused */
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_D], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 1,
			  "ipamctl apply (more removals than allowed)");
	plan_line = strstr(res.out, "Plan: ");
	if (plan_line && (p = strstr(plan_line, " to update, ")))
		removals = strtol(p + 12, NULL, 10);
	for (p = res.out; (p = strstr(p, "filter_remove")); p++)
		filter_removes++;
	want = xasprintf("--allow-removals %ld", removals);
	if (removals < 2 || filter_removes != 2 ||
	    !strstr(res.err, "refused") || !strstr(res.err, want))
		fail_msg("expected a refusal naming '%s' (the plan's %ld "
			 "removals, two of them filter removes): %s",
			 want, removals,
			 lab_run_describe(&res, "ipamctl apply"));
	printf("refused: %s", res.err);
	lab_run_free(&res);
	for (f = 1; f <= 2; f++) {
		after = labad_aces(f, F[f].gpo_dn[GPO_DHCP]);
		lab_assert_set(after, (const char *const *)before[f],
			       "IPAM1_DHCP DACL before and after a refused "
			       "apply");
		lab_strv_free(after);
		lab_strv_free(before[f]);
	}
	/* allowed */
	arg = xasprintf("%ld", removals);
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_D], "--auto-approve",
			  "--allow-removals", arg, NULL);
	labad_expect_exit(&res, 0, "ipamctl apply --allow-removals");
	lab_run_free(&res);
	set_managed((1u << S_DHCP1) | (1u << S_BDHCP1));
	plan_clean(CFG_D, "apply --allow-removals");
	for (f = 1; f <= 2; f++)
		check_domain(f);
	free(arg);
	free(want);
	printf("(4) maxRemovals: %.1f s\n", labad_now_s() - t0);
}

/* ---- (5) a saved plan --------------------------------------------------- */

/* A copy of the saved plan at from with its first action's target
 * changed, as a hand edit would. */
static void edited_plan(const char *from, const char *to)
{
	static const char key[] = "\"target\": \"";
	size_t len;
	char *text = lab_read_file(from, 1 << 24, &len), *p = NULL, *q = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (!text || !(p = strstr(text, key)) ||
	    !(q = strchr(p + sizeof(key) - 1, '"')))
		fail_msg("no action target in %s", from);
	strbuf_add(&sb, text, (size_t)(p - text) + sizeof(key) - 1);
	strbuf_addstr(&sb, "edited.example.test");
	strbuf_addstr(&sb, q);
	assert_int_equal(lab_write_file(to, sb.buf, sb.len), 0);
	strbuf_release(&sb);
	free(text);
}

static void test_5_saved_plan(void **state)
{
	const int c = 1;
	char *f1 = xasprintf("%s/plan5.json", tmpdir);
	char *f2 = xasprintf("%s/plan5b.json", tmpdir);
	char *f3 = xasprintf("%s/plan5c.json", tmpdir);
	char **dhcp_before, **dhcp_after, *v;
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();

	(void)state;
	labad_need_gpos(&F[c], true);
	/* back to all managed: a plan with changes, saved */
	labad_run_ipamctl(&res, "plan", "-c", cfg[CFG_A], "--detailed-exitcode",
			  "--out", f1, NULL);
	labad_expect_exit(&res, 2, "ipamctl plan --out");
	lab_run_free(&res);

	/* AD changes behind its back: stale */
	dellink(c, GPO_DNS);
	dhcp_before = labad_aces(c, F[c].gpo_dn[GPO_DHCP]);
	labad_run_ipamctl(&res, "apply", f1, "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 1, "ipamctl apply PLAN after a dellink");
	if (!strstr(res.err, "stale"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl apply PLAN "
						      "(AD changed)"));
	lab_run_free(&res);
	/* the desired state changed: stale too */
	labad_run_ipamctl(&res, "apply", f1, "-c", cfg[CFG_D], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 1,
			  "ipamctl apply PLAN with another desired state");
	if (!strstr(res.err, "stale") || !strstr(res.err, "desired state"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl apply PLAN "
						      "(desired state "
						      "changed)"));
	lab_run_free(&res);
	/* neither wrote anything */
	dhcp_after = labad_aces(c, F[c].gpo_dn[GPO_DHCP]);
	lab_assert_set(dhcp_after, (const char *const *)dhcp_before,
		       "corp IPAM1_DHCP DACL after refused stale plans");
	labad_expect_ace(dhcp_after, LABAD_ACE_APPLY, SRV[S_DHCP1].sid, false,
			 "corp IPAM1_DHCP after refused stale plans");
	v = link_option(c, GPO_DNS);
	if (v)
		fail_msg("a refused stale plan linked IPAM1_DNS (%s)", v);

	/* a fresh plan, nothing changed since: applied */
	labad_run_ipamctl(&res, "plan", "-c", cfg[CFG_A], "--detailed-exitcode",
			  "--out", f2, NULL);
	labad_expect_exit(&res, 2, "ipamctl plan --out (again)");
	lab_run_free(&res);
	labad_schema_ok_file("plan", f2);
	plan = parse_json_file(f2);
	need_action(plan, "gpo_link", F[c].domain, "IPAM1_DNS", NULL, NULL,
		    "saved plan");
	need_action(plan, "filter_add", F[c].domain, "IPAM1_DHCP",
		    SRV[S_DHCP1].name, NULL, "saved plan");
	need_action(plan, "filter_add", F[2].domain, "IPAM1_DHCP",
		    SRV[S_BDHCP1].name, NULL, "saved plan");
	ipam_node_free(plan);
	/* its first action's target edited: not what was reviewed */
	edited_plan(f2, f3);
	labad_run_ipamctl(&res, "apply", f3, "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 1, "ipamctl apply PLAN (an action edited)");
	if (!strstr(res.err, "action 1's target") ||
	    !strstr(res.err, "edited.example.test"))
		fail_msg("%s", lab_run_describe(&res, "ipamctl apply PLAN "
						      "(an action edited): "
						      "no word of the "
						      "difference"));
	lab_run_free(&res);
	v = link_option(c, GPO_DNS);
	if (v)
		fail_msg("a refused edited plan linked IPAM1_DNS (%s)", v);
	labad_run_ipamctl(&res, "apply", f2, "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 0,
			  "ipamctl apply PLAN (nothing changed since)");
	lab_run_free(&res);
	set_managed(0);
	plan_clean(CFG_A, "applying a saved plan");
	check_domain(1);
	check_domain(2);
	lab_strv_free(dhcp_before);
	lab_strv_free(dhcp_after);
	free(f1);
	free(f2);
	free(f3);
	printf("(5) saved plan: %.1f s\n", labad_now_s() - t0);
}

/* ---- (3c) a failed read is no drift ------------------------------------ */

/*
 * On a converged lab, plan with an smbcacls that fails (first in PATH,
 * exit 1 with an NT status, as the real one does when the DC does not
 * answer in time): the SYSVOL folder ACLs cannot be read, which is no
 * evidence that they differ -- no action, least of all drift.
 */
static void test_3c_failed_acl_read_is_no_drift(void **state)
{
	char *shim = xasprintf("%s/shim", tmpdir);
	char *exe = xasprintf("%s/smbcacls", shim);
	char *path = xasprintf("PATH=%s:%s", shim,
			       getenv("PATH") ? getenv("PATH") : "/usr/bin");
	char *out = xasprintf("%s/plan3c.json", tmpdir);
	static const char script[] =
		"#!/bin/sh\n"
		"echo 'failed to lookup domain sid: NT_STATUS_IO_TIMEOUT' >&2\n"
		"exit 1\n";
	const char *env[] = {path, NULL};
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();

	(void)state;
	assert_int_equal(mkdir(shim, 0700), 0);
	assert_int_equal(lab_write_file(exe, script, strlen(script)), 0);
	assert_int_equal(chmod(exe, 0700), 0);
	labad_run_ipamctl_env(&res, env, "plan", "-c", cfg[CFG_A],
			      "--detailed-exitcode", "--out", out, NULL);
	if (res.timed_out)
		fail_msg("%s", lab_run_describe(&res, "ipamctl plan (smbcacls "
						      "failing)"));
	printf("plan with smbcacls failing: exit %d\n%s", res.exit_code,
	       res.err);
	if (res.exit_code == 1 && access(out, F_OK)) {
		/* an error and no plan: nothing would be done either */
		lab_run_free(&res);
		free(out);
		free(path);
		free(exe);
		free(shim);
		return;
	}
	plan = parse_json_file(out);
	if (count_actions(plan, NULL, NULL, NULL, NULL, NULL) ||
	    res.exit_code == 2)
		fail_msg("a failed folder ACL read on a converged lab: plan "
			 "--detailed-exitcode exits %d with actions:\n%s",
			 res.exit_code, actions_text(plan));
	lab_run_free(&res);
	ipam_node_free(plan);
	free(out);
	free(path);
	free(exe);
	free(shim);
	printf("(3c) failed ACL read: %.1f s\n", labad_now_s() - t0);
}

/* ---- ipamctl in the background ------------------------------------------ */

struct bg {
	pid_t pid;
	char *out, *err; /* files */
	int status;
};

/* ipamctl apply -c A --auto-approve in its own process group, stdin
 * /dev/null, output into files. */
static void bg_start(struct bg *b, const char *tag)
{
	const char *argv[] = {labad_ipamctl(), "apply",		 "-c",
			      cfg[CFG_A],      "--auto-approve", NULL};

	b->out = xasprintf("%s/%s.out", tmpdir, tag);
	b->err = xasprintf("%s/%s.err", tmpdir, tag);
	b->status = -1;
	fflush(NULL);
	b->pid = fork();
	assert_true(b->pid >= 0);
	if (b->pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int o = open(b->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(b->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		setpgid(0, 0);
		if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 ||
		    dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	setpgid(b->pid, b->pid);
}

/* Reaped?  Then b->status is its exit status (128 + signal). */
static bool bg_done(struct bg *b, bool block)
{
	int st;
	pid_t r;

	if (b->status >= 0)
		return true;
	r = waitpid(b->pid, &st, block ? 0 : WNOHANG);
	if (r == 0)
		return false;
	assert_int_equal(r, b->pid);
	b->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

static void bg_wait(struct bg *b, double limit_s)
{
	double end = labad_now_s() + limit_s;

	while (!bg_done(b, false)) {
		if (labad_now_s() > end) {
			kill(-b->pid, SIGKILL);
			bg_done(b, true);
			fail_msg("ipamctl (pid %ld) still running after %.0f s",
				 (long)b->pid, limit_s);
		}
		usleep(20000);
	}
}

static void bg_kill(struct bg *b)
{
	kill(-b->pid, SIGKILL);
	kill(b->pid, SIGKILL);
	bg_done(b, true);
}

static char *bg_text(const struct bg *b, bool err)
{
	char *t = lab_read_file(err ? b->err : b->out, 1 << 22, NULL);

	return t ? t : xstrdup("");
}

static char *bg_describe(const struct bg *b)
{
	char *o = bg_text(b, false), *e = bg_text(b, true);
	char *s = xasprintf("ipamctl apply (pid %ld) exit %d\nstderr:\n%s\n"
			    "stdout:\n%s",
			    (long)b->pid, b->status, e, o);

	free(o);
	free(e);
	return s;
}

static void bg_free(struct bg *b)
{
	free(b->out);
	free(b->err);
}

/* ---- (6) two applies at once -------------------------------------------- */

static void test_6_concurrent_applies(void **state)
{
	const int c = 1;
	struct bg a[2];
	double t0 = labad_now_s();
	int win, lose;
	char *err, *holder;

	(void)state;
	labad_remove_leftovers(&F[c]);
	bg_start(&a[0], "apply-a");
	bg_start(&a[1], "apply-b");
	bg_wait(&a[0], 240);
	bg_wait(&a[1], 240);
	if ((a[0].status == 0) == (a[1].status == 0))
		fail_msg("two applies at once: exits %d and %d, expected one "
			 "0\n%s\n%s",
			 a[0].status, a[1].status, bg_describe(&a[0]),
			 bg_describe(&a[1]));
	win = a[0].status == 0 ? 0 : 1;
	lose = 1 - win;
	err = bg_text(&a[lose], true);
	holder = xasprintf("(pid %ld ", (long)a[win].pid);
	if (a[lose].status != 1 || !strstr(err, "locked by") ||
	    !strstr(err, holder))
		fail_msg("the second apply: expected exit 1 naming the lock "
			 "holder '%s': %s",
			 holder, bg_describe(&a[lose]));
	printf("the other apply: %s", err);
	free(err);
	free(holder);
	/* no GPO made twice, everything in place */
	check_domain(c);
	plan_clean(CFG_A, "two applies at once");
	bg_free(&a[0]);
	bg_free(&a[1]);
	printf("(6) two applies: %.1f s\n", labad_now_s() - t0);
}

/* ---- (7) kill -9 -------------------------------------------------------- */

/* On PostgreSQL: the journal of the run of pid through psql, one row a
 * line; what selects each row's text, where narrows. */
static char *journal_psql(pid_t pid, const char *what, const char *where)
{
	char *q = xasprintf("SELECT %s FROM actions a JOIN runs r ON "
			    "a.run_id = r.id WHERE r.pid = %ld%s ORDER BY "
			    "a.seq",
			    what, (long)pid, where);
	char *out = sqlite_query(db_path, q);

	free(q);
	return out;
}

/* Has the run of pid journalled an action of kind as started (or done)? */
static bool journal_reached(sqlite3 *db, pid_t pid, const char *kind)
{
	sqlite3_stmt *st = NULL;
	bool hit = false;

	if (test_db_is_pg()) {
		char *w = xasprintf(" AND a.kind = '%s' AND a.state IN "
				    "('started', 'done', 'failed')",
				    kind);
		char *out = journal_psql(pid, "a.kind", w);

		hit = *out != '\0';
		free(out);
		free(w);
		return hit;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM actions a JOIN runs r ON "
			       "a.run_id = r.id WHERE r.pid = ?1 AND a.kind = "
			       "?2 AND a.state IN ('started', 'done', "
			       "'failed')",
			       -1, &st, NULL) != SQLITE_OK)
		return false; /* not created yet */
	sqlite3_bind_int64(st, 1, (sqlite3_int64)pid);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		hit = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	return hit;
}

/* What the journal of the run of pid says: "kind:state" in order. */
static char *journal_text(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;

	if (test_db_is_pg()) {
		char *out = journal_psql(pid, "a.kind || ':' || a.state", "");

		for (char *p = out; *p; p++)
			if (*p == '\n')
				*p = ' ';
		strbuf_addstr(&sb, out);
		free(out);
	} else if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
			   SQLITE_OK &&
		   sqlite3_prepare_v2(
			   db,
			   "SELECT a.kind, a.state FROM actions a JOIN "
			   "runs r ON a.run_id = r.id WHERE r.pid = ?1 "
			   "ORDER BY a.seq",
			   -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)pid);
		while (sqlite3_step(st) == SQLITE_ROW)
			strbuf_addf(&sb, "%s%s:%s", sb.len ? " " : "",
				    (const char *)sqlite3_column_text(st, 0),
				    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (!sb.len)
		strbuf_addstr(&sb, "(no actions)");
	return strbuf_detach(&sb, NULL);
}

/* A fresh apply, killed (its process group, SIGKILL) 0.5 s in when kind
 * is NULL, else delay_ms after it journalled kind as started. */
static void killed_apply(struct bg *b, const char *tag, const char *kind,
			 int delay_ms)
{
	sqlite3 *db = NULL;
	char *journal;
	double end;

	if (kind && !test_db_is_pg())
		assert_int_equal(sqlite3_open_v2(db_path, &db,
						 SQLITE_OPEN_READONLY, NULL),
				 SQLITE_OK);
	if (db)
		sqlite3_busy_timeout(db, 2000);
	bg_start(b, tag);
	end = labad_now_s() + (kind ? 120 : 0.5);
	for (;;) {
		if (bg_done(b, false))
			fail_msg("ipamctl ended before the kill point (%s): %s",
				 kind ? kind : "0.5 s", bg_describe(b));
		if (kind && journal_reached(db, b->pid, kind))
			break;
		if (labad_now_s() > end) {
			if (!kind)
				break;
			bg_kill(b);
			fail_msg("no %s in the journal after 120 s", kind);
		}
		usleep(kind ? 5000 : 20000);
	}
	if (delay_ms)
		usleep((useconds_t)delay_ms * 1000);
	bg_kill(b);
	if (db)
		sqlite3_close(db);
	journal = journal_text(b->pid);
	printf("killed apply (pid %ld) at %s%s; its journal: %s\n",
	       (long)b->pid, kind ? "the start of " : "0.5 s", kind ? kind : "",
	       journal);
	free(journal);
}

/* The next apply takes the dead run's lock over and converges. */
static void converge_after(struct bg *killed)
{
	const int c = 1;
	struct lab_run res;
	long long id = 0;
	char *o;

	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl apply after a kill -9");
	printf("the next apply: %s",
	       strstr(res.out, "Apply complete: ")
		       ? strstr(res.out, "Apply complete: ")
		       : "nothing to do\n");
	lab_run_free(&res);
	o = run_outcome(cfg[CFG_A], killed->pid, &id);
	if (!o || strcmp(o, "interrupted"))
		fail_msg("history: the killed run (pid %ld) is '%s', "
			 "expected 'interrupted'",
			 (long)killed->pid, o ? o : "(no such run)");
	free(o);
	plan_clean(CFG_A, "converging after a kill -9");
	check_domain(c);
}

static void test_7_kill_9(void **state)
{
	const int c = 1;
	struct bg k0, k1, k2;
	double t0 = labad_now_s();

	(void)state;
	/* during discovery, then in a GPO's creation: both on a clean
	 * corp (the first wrote nothing); the second takes the first's
	 * stale lock over */
	labad_remove_leftovers(&F[c]);
	killed_apply(&k0, "kill-discovery", NULL, 0);
	killed_apply(&k1, "kill-gpo-create", "gpo_create", 20);
	expect_outcome(cfg[CFG_A], k0.pid, "interrupted");
	/* and says whose lock it took over */
	{
		char *err = bg_text(&k1, true);
		char *want = xasprintf("took over the reconciler lock of apply "
				       "(pid %ld on ",
				       (long)k0.pid);

		if (!strstr(err, want))
			fail_msg("the apply that took the stale lock over "
				 "did not warn '%s...': %s",
				 want, err);
		free(want);
		free(err);
	}
	converge_after(&k1);

	/* in a GPO's DACL and SYSVOL folder ACL write */
	labad_remove_leftovers(&F[c]);
	killed_apply(&k2, "kill-gpo-security", "gpo_security", 40);
	converge_after(&k2);
	bg_free(&k0);
	bg_free(&k1);
	bg_free(&k2);
	printf("(7) kill -9: %.1f s\n", labad_now_s() - t0);
}

/* A GUID in braces, upper case, random enough for a scratch GPO. */
static char *random_guid(void)
{
	static bool seeded;

	if (!seeded) {
		srand((unsigned)time(NULL) ^ (unsigned)getpid());
		seeded = true;
	}
	return xasprintf("{%04X%04X-%04X-4%03X-A%03X-%04X%04X%04X}",
			 (unsigned)rand() & 0xffff, (unsigned)rand() & 0xffff,
			 (unsigned)rand() & 0xffff, (unsigned)rand() & 0xfff,
			 (unsigned)rand() & 0xfff, (unsigned)rand() & 0xffff,
			 (unsigned)rand() & 0xffff, (unsigned)rand() & 0xffff);
}

/* A GPO container as ipamctl's creation adds it first (marked, named),
 * with its CN=User and CN=Machine children when children is set. */
static void add_container(int f, const char *name, const char *mark,
			  bool children)
{
	char *guid = random_guid();
	char *dn = xasprintf("CN=%s,CN=Policies,CN=System,%s", guid, F[f].dn);
	char *ldif = xasprintf(
		"dn: %s\n"
		"objectClass: groupPolicyContainer\n"
		"displayName: %s\n"
		"gPCFileSysPath: \\\\%s\\SysVol\\%s\\Policies\\%s\n"
		"flags: 0\n"
		"versionNumber: 0\n"
		"gPCFunctionalityVersion: 2\n"
		"adminDescription: %s\n%s%s%s%s%s",
		dn, name, F[f].domain, F[f].domain, guid, mark,
		children ? "\ndn: CN=User," : "", children ? dn : "",
		children ? "\nobjectClass: container\n\ndn: CN=Machine," : "",
		children ? dn : "",
		children ? "\nobjectClass: container\n" : "");

	ldap_add(f, ldif);
	if (children) {
		/* and the GPO folder, still empty */
		char *cmd = xasprintf("mkdir \"%s\\Policies\\%s\"", F[f].domain,
				      guid);
		struct lab_run res;

		labad_smbclient(f, cmd, &res);
		labad_expect_exit(&res, 0, "smbclient mkdir");
		lab_run_free(&res);
		free(cmd);
	}
	printf("made %s %s by hand: container%s\n", name, guid,
	       children ? ", CN=User, CN=Machine, an empty folder" : " only");
	free(ldif);
	free(dn);
	free(guid);
}

/*
 * What a run killed in the middle of creating a GPO leaves, made by hand
 * so that each point is hit every time, on an otherwise clean corp:
 * IPAM1_DHCP killed between adding the container and its children (a
 * marked, named container, nothing else), IPAM1_DNS killed in making its
 * SYSVOL folder (container and children, an empty folder).  One apply
 * must make whole GPOs of them (or replace them).
 */
static void test_7b_half_made_gpos_converge(void **state)
{
	const int c = 1;
	struct lab_run res;
	double t0 = labad_now_s();
	char *mark;

	(void)state;
	labad_need_gpos(&F[c], true);
	mark = labad_ldap_get(c, F[c].gpo_dn[GPO_DHCP], "adminDescription");
	if (!mark || strncmp(mark, "ipamctl/1;", 10))
		fail_msg("IPAM1_DHCP carries no ipamctl mark: %s",
			 mark ? mark : "(none)");
	labad_remove_leftovers(&F[c]);
	add_container(c, labad_gpo_name[GPO_DHCP], mark, false);
	add_container(c, labad_gpo_name[GPO_DNS], mark, true);
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl apply (half-made GPOs)");
	lab_run_free(&res);
	plan_clean(CFG_A, "an apply over half-made GPOs");
	check_domain(c);
	free(mark);
	printf("(7b) half-made GPOs: %.1f s\n", labad_now_s() - t0);
}

/* ---- (7c) a hand-made GPO of an IPAM name is a conflict ---------------- */

/* ipamctl CMD on CFG_A must exit 1 naming the conflict. */
static void expect_conflict(const char *cmd, const char *extra)
{
	struct lab_run res;
	char *what = xasprintf("ipamctl %s (a hand-made IPAM1_DNS)", cmd);

	labad_run_ipamctl(&res, cmd, "-c", cfg[CFG_A], extra, NULL);
	labad_expect_exit(&res, 1, what);
	if (!strstr(res.err, "conflict") || !strstr(res.err, "IPAM1_DNS") ||
	    strstr(res.out, "AD matches") || strstr(res.out, "No drift."))
		fail_msg("%s", lab_run_describe(&res, what));
	printf("%s: %s", what, res.err);
	lab_run_free(&res);
	free(what);
}

static void test_7c_hand_made_gpo_conflict(void **state)
{
	const int c = 1;
	const char *args[] = {"gpo", "create", labad_gpo_name[GPO_DNS], NULL};
	size_t count[LABAD_NGPO];
	struct lab_run res;
	double t0 = labad_now_s();

	(void)state;
	/* before the first apply in corp: someone's own GPO named IPAM1_DNS */
	labad_remove_leftovers(&F[c]);
	labad_samba_tool_ok(c, args, &res);
	lab_run_free(&res);
	expect_conflict("plan", "--detailed-exitcode");
	expect_conflict("drift", NULL);
	expect_conflict("apply", "--auto-approve");
	/* nothing was written in corp */
	labad_list_gpos(c, NULL, count);
	if (count[GPO_DHCP] || count[GPO_DNS] != 1 || count[GPO_DC_NPS])
		fail_msg("IPAM1_* GPOs in %s after an apply refused for a "
			 "conflict: %zu %zu %zu",
			 F[c].domain, count[GPO_DHCP], count[GPO_DNS],
			 count[GPO_DC_NPS]);
	/* resolved (the GPO gone): converges */
	labad_remove_leftovers(&F[c]);
	labad_run_ipamctl(&res, "apply", "-c", cfg[CFG_A], "--auto-approve",
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl apply (conflict resolved)");
	lab_run_free(&res);
	plan_clean(CFG_A, "an apply after the conflict was resolved");
	check_domain(c);
	printf("(7c) hand-made GPO: %.1f s\n", labad_now_s() - t0);
}

/* ---- (8) remove: true takes out what ipamctl made in a domain --------- */

static void test_8_remove_domain(void **state)
{
	const int c = 1, b = 2;
	char *src = xasprintf("%s/ipamctl.yaml", cfg[CFG_A]);
	char *text = lab_need_file(src, NULL), *line, *dir, *path, *out;
	char *guids[LABAD_NGPO], *ug_sid, *ug_dn, *elr_dn, *dns_dn, *json;
	char *domain_line = xasprintf("  - domain: %s\n", F[b].domain);
	struct ipam_node *plan;
	struct lab_run res;
	double t0 = labad_now_s();
	char **v;

	(void)state;
	labad_need_gpos(&F[b], true);
	for (int k = 0; k < LABAD_NGPO; k++)
		guids[k] = xstrdup(F[b].guid[k]);
	ug_sid = labad_sid_of(b, "(sAMAccountName=IPAMUG)");
	ug_dn = labad_ipamug_dn(&F[b]);
	elr_dn = xasprintf("CN=Event Log Readers,CN=Builtin,%s", F[b].dn);
	dns_dn = xasprintf("CN=MicrosoftDNS,CN=System,%s", F[b].dn);
	line = strstr(text, domain_line);
	if (!line)
		fail_msg("no '%s' in %s:\n%s", domain_line, src, text);
	line += strlen(domain_line);
	out = xasprintf("%.*s    remove: true\n%s", (int)(line - text), text,
			line);
	dir = xasprintf("%s/E", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out, strlen(out)), 0);

	/* the plan: unlink and delete the three GPOs, then the grants and
	 * IPAMUG -- 8 removals, over maxRemovals 1 */
	labad_run_ipamctl(&res, "plan", "-c", dir, "-o", "json",
			  "--detailed-exitcode", NULL);
	labad_expect_exit(&res, 2, "ipamctl plan (remove: true)");
	json = xasprintf("%s/remove.json", tmpdir);
	labad_schema_ok("plan", res.out, res.out_len, json);
	plan = labad_parse_json(res.out, res.out_len, "plan (remove)");
	lab_run_free(&res);
	for (int k = 0; k < LABAD_NGPO; k++) {
		need_action(plan, "gpo_unlink", F[b].domain, labad_gpo_name[k],
			    NULL, "pending", "remove: true");
		need_action(plan, "gpo_delete", F[b].domain, labad_gpo_name[k],
			    NULL, "pending", "remove: true");
	}
	need_action(plan, "dc_grants", F[b].domain, NULL, NULL, "pending",
		    "remove: true");
	need_action(plan, "group", F[b].domain, NULL, NULL, "pending",
		    "remove: true");
	order_ok(plan, "remove: true");
	if (count_actions(plan, NULL, F[c].domain, NULL, NULL, NULL) ||
	    count_actions(plan, NULL, NULL, NULL, NULL, NULL) != 8)
		fail_msg(
			"remove: true: expected the 8 removals in %s only:\n%s",
			F[b].domain, actions_text(plan));
	ipam_node_free(plan);

	/* maxRemovals holds; --allow-removals 8 lets it through */
	labad_run_ipamctl(&res, "apply", "-c", dir, "--auto-approve", NULL);
	labad_expect_exit(&res, 1, "ipamctl apply (8 removals, max 1)");
	if (!strstr(res.err, "--allow-removals"))
		fail_msg("%s",
			 lab_run_describe(&res, "apply over maxRemovals"));
	lab_run_free(&res);
	if (labad_list_gpos(b, NULL, NULL) != LABAD_NGPO)
		fail_msg("a refused apply changed the GPOs of %s", F[b].domain);
	labad_run_ipamctl(&res, "apply", "-c", dir, "--auto-approve",
			  "--allow-removals", "8", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply --allow-removals 8");
	lab_run_free(&res);

	/* AD and SYSVOL, independently */
	if (labad_list_gpos(b, NULL, NULL) != 0)
		fail_msg("%s still has IPAM1_* GPOs after remove: true",
			 F[b].domain);
	{
		char *opts[LABAD_NGPO];

		for (int k = 0; k < LABAD_NGPO; k++) {
			free(F[b].guid[k]);
			F[b].guid[k] = xstrdup(guids[k]);
		}
		link_options(b, opts);
		for (int k = 0; k < LABAD_NGPO; k++) {
			if (opts[k])
				fail_msg("%s: %s %s still linked (%s)",
					 F[b].domain, labad_gpo_name[k],
					 guids[k], opts[k]);
			free(F[b].guid[k]);
			F[b].guid[k] = NULL;
		}
	}
	for (int k = 0; k < LABAD_NGPO; k++) {
		char *cmd = xasprintf("ls \"%s\\Policies\\%s\\*\"", F[b].domain,
				      guids[k]);

		labad_smbclient(b, cmd, &res);
		if (res.exit_code == 0)
			fail_msg("the SYSVOL folder of %s is still there: %s",
				 guids[k], lab_run_describe(&res, "smbclient"));
		lab_run_free(&res);
		free(cmd);
	}
	v = labad_ldap_dns(b, F[b].dn, "sub", "(sAMAccountName=IPAMUG)");
	if (labad_strv_len(v))
		fail_msg("IPAMUG still in %s: %s", F[b].domain, labad_join(v));
	lab_strv_free(v);
	v = labad_ldap_all(b, elr_dn, "member");
	if (labad_strv_has_ci(v, ug_dn))
		fail_msg("IPAMUG still in Event Log Readers of %s",
			 F[b].domain);
	lab_strv_free(v);
	v = labad_aces(b, dns_dn);
	if (names_sid(v, ug_sid))
		fail_msg("an ACE for the removed IPAMUG (%s) on %s:\n  %s",
			 ug_sid, dns_dn, labad_join(v));
	lab_strv_free(v);
	labad_aclcheck_ok(b);
	/* corp untouched; nothing left to do */
	check_domain(c);
	labad_run_ipamctl(&res, "plan", "-c", dir, "--detailed-exitcode", NULL);
	labad_expect_exit(&res, 0, "ipamctl plan after remove: true");
	lab_run_free(&res);
	printf("(8) remove: true: %.1f s\n", labad_now_s() - t0);
	for (int k = 0; k < LABAD_NGPO; k++)
		free(guids[k]);
	free(ug_sid);
	free(ug_dn);
	free(elr_dn);
	free(dns_dn);
	free(json);
	free(path);
	free(dir);
	free(out);
	free(domain_line);
	free(text);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_full_loop),
		cmocka_unit_test(test_2_drift_detected_and_corrected),
		cmocka_unit_test_teardown(
			test_3a_incomplete_discovery_skips_removal,
			thaw_teardown),
		cmocka_unit_test_teardown(test_3b_frozen_dc_removes_nothing,
					  thaw_teardown),
		cmocka_unit_test(test_4_max_removals),
		cmocka_unit_test(test_5_saved_plan),
		/* needs a converged lab: after (5) */
		cmocka_unit_test(test_3c_failed_acl_read_is_no_drift),
		cmocka_unit_test(test_6_concurrent_applies),
		cmocka_unit_test(test_7_kill_9),
		cmocka_unit_test(test_7b_half_made_gpos_converge),
		cmocka_unit_test(test_7c_hand_made_gpo_conflict),
		/* last: it takes the branch GPOs out */
		cmocka_unit_test(test_8_remove_domain),
	};

	return cmocka_run_group_tests_name("lab_reconcile", tests, setup,
					   teardown);
}
