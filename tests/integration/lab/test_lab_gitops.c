/*
 * The GitOps loop against both forests of the lab: ipamctl reconcile
 * fetching the desired state from a local bare git repository, its --every
 * loop and its signals, ipamctl status, and the webhooks of notify:.
 *
 * The repository (a bare one under a temporary directory, commits made
 * with git in a work tree and pushed) holds ipamctl.yaml: the lab's desired
 * state ($IPAM_LAB_CONFIG, never modified) with our own state database and
 * a generic webhook, /hook on a receiver of ours.  The local configuration
 * given with -c (LOCAL) names the repository in source: and has its own
 * webhook, /local (other paths in the loops), with another secret: it is
 * the one told when the fetched state is invalid (source_invalid); the
 * fetched state's own notify: list is used otherwise.
 *
 * The receiver is a child process on an ephemeral port of 127.0.0.1 that
 * records every request (headers and body) to a file and answers 200.  For
 * each request the test checks the path, X-Ipamctl-Event against the
 * body's "event", X-Ipamctl-Signature-256 against an HMAC-SHA256 of the
 * exact body computed by Python's hmac module with the secret of that
 * hook, and the payload (its keys, event, summary, the 40-hex commit with
 * the author and subject git log gives it, the run id as recorded in
 * `ipamctl history`, sent_at).  No request may go unexpected or
 * unverified.  Runs and `ipamctl status` must carry each commit's author
 * and subject too.
 *
 * AD is read with samba-tool, ldapsearch and Samba's Python bindings; YAML
 * positions with PyYAML's pure-Python loader.  In order (the cases share
 * the repository, the state database and the lab):
 *  (1) commit A (valid; IPAMUG and the GPOs do not exist yet) is applied by
 *      `reconcile -c LOCAL`: exit 0, the GPOs made once in each forest, an
 *      "applied" event for commit A and its run, status names A;
 *  (2) the ownership marks it wrote name the repository as the source;
 *  (3) commit B (dhcp1 made managed, but broken YAML) applies nothing: exit
 *      1, "<B>:ipamctl.yaml:LINE:COL: ..." on stderr at the position PyYAML
 *      finds, AD unchanged (uSNChanged, gPLink), dhcp1 not in the filter, a
 *      failed run for B, status: last applied A, last attempted B (failed),
 *      a source_invalid event naming B to LOCAL's webhook and to that of
 *      A (the last applied commit, read again from the git cache);
 *  (4) commit C (the fix) with --dry-run: exit 2, AD unchanged, no event,
 *      and status still says A was the last applied;
 *  (5) commit C applies: dhcp1 gets read and apply on IPAM1_DHCP, an
 *      "applied" event for C, status names C;
 *  (6) `reconcile --every 2s` runs cycles against the lab: a link deleted
 *      by hand is reported (drift) and corrected (applied); SIGHUP with the
 *      -c file broken keeps the configuration in use and the loop goes on;
 *      commit D (broken) fails every cycle with a source_invalid event that
 *      says C is still in force, to the loop's webhook and to C's (kept in
 *      memory); commit E fixes it; SIGTERM in the middle
 *      of a cycle stops the loop once the step ends (exit 0, "stopped",
 *      the run recorded, none left open);
 *  (7) `reconcile --every 1h`: SIGHUP with a valid -c re-reads it (another
 *      ref, another webhook), SIGUSR1 runs a cycle at once (the broken
 *      ref: source_invalid to the new webhook and to the kept state's),
 *      SIGINT ends the wait as SIGTERM would;
 *  (8) commit F (dhcp1 unmanaged, suspend: true, another database:) plans
 *      and reports only: exit 2, AD unchanged, a reconcile-report run in
 *      LOCAL's database (the other one never made); commit G (broken),
 *      with a -c whose webhook is the repository's own URL: its failed
 *      run lands in the same database, one source_invalid to that URL;
 *  (9) commit H (dhcp1 unmanaged, safety.maxRemovals 0) is refused: exit
 *      1, AD unchanged, a refused run, a "refused" event to its webhook;
 *  (10) every request the receiver got was verified.
 *
 * Discovery binds UDP 68: the test holds the lab's DHCP client lock too.
 * IPAM_GITOPSTEST_KEEP=1 keeps the GPOs, IPAMUG and the temporary
 * directory at the end.
 */
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

enum { GPO_DHCP, GPO_DNS, GPO_DC_NPS };

#define DHCP1  "dhcp1.corp.example.test"
#define ABBREV 12 /* hex digits of a commit in file names */
#define EVENTS "[drift, applied, apply_failed, refused, source_invalid]"

/* Per forest (index 1 corp, 2 branch). */
static struct labad_forest F[3];

/* The commits, in the order they are made. */
enum { C_A, C_B, C_C, C_D, C_E, C_F, C_G, C_H, NCOMMIT };
static char *sha[NCOMMIT];
/* Their author ("Name <email>") and subject, as git log gives them. */
static char *author[NCOMMIT], *subject[NCOMMIT];

static char *tmpdir, *db_path, *db_uri;
static char *bare, *repo_url, *worktree, *cache_dir;
static char *local_cfg;			 /* -c of the one-shot runs */
static char *hook_secret, *local_secret; /* secret files */
static char *bad_pos;			 /* "LINE:COL" of the broken YAML */
static int hook_port;			 /* the webhook receiver's */

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- running things ----------------------------------------------------- */

/* git with the arguments up to NULL, isolated from the host's settings;
 * must succeed.  Its stdout, trimmed (malloc'ed). */
static char *git(const char *first, ...)
{
	char home[4096];
	const char *env[] = {home,
			     "GIT_CONFIG_NOSYSTEM=1",
			     "GIT_AUTHOR_NAME=ipamctl test",
			     "GIT_AUTHOR_EMAIL=gitops@example.test",
			     "GIT_COMMITTER_NAME=ipamctl test",
			     "GIT_COMMITTER_EMAIL=gitops@example.test",
			     NULL};
	const char *argv[24] = {"git", first};
	struct lab_run_opts o = {.env = env, .timeout_ms = 60000};
	struct lab_run res;
	size_t n = 2, l;
	const char *a;
	char *out;
	va_list ap;

	snprintf(home, sizeof(home), "HOME=%s", tmpdir);
	va_start(ap, first);
	while ((a = va_arg(ap, const char *)) && n < 23)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	lab_must_succeed(argv, &o, &res);
	out = xstrdup(res.out);
	for (l = strlen(out); l && isspace((unsigned char)out[l - 1]);)
		out[--l] = '\0';
	lab_run_free(&res);
	return out;
}

/* ---- small text helpers ------------------------------------------------- */

/* Occurrences of needle in text. */
static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;
	const char *p = text;

	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* The first line of text starting with prefix (malloc'ed), or NULL;
 * lines in their order (lab_lines sorts them). */
static char *line_with(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');

		if (starts_with(p, prefix))
			return xstrndup(p, eol ? (size_t)(eol - p) : strlen(p));
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* The last non-empty line of text (malloc'ed). */
static char *last_line(const char *text)
{
	size_t len = strlen(text), start;

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	for (start = len; start && text[start - 1] != '\n'; start--)
		;
	return xstrndup(text + start, len - start);
}

static bool is_hex40(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return false;
	return i == 40;
}

/* ---- the lab's objects -------------------------------------------------- */

/* The SIDs given Apply Group Policy on dn (OA … edacfd8f… SID). */
static char **apply_sids(int f, const char *dn)
{
	char **acl = labad_aces(f, dn), **v = labad_apply_sids(acl);

	lab_strv_free(acl);
	return v;
}

/* Does dhcp1 have Apply Group Policy on corp's IPAM1_DHCP? */
static bool dhcp1_filtered(void)
{
	char *sid = labad_sid_of(1, "(dNSHostName=" DHCP1 ")");
	char **v;
	bool has;

	labad_need_gpos(&F[1], true);
	v = apply_sids(1, F[1].gpo_dn[GPO_DHCP]);
	has = labad_strv_has(v, sid);
	lab_strv_free(v);
	free(sid);
	return has;
}

/* What any write by ipamctl would change: uSNChanged of IPAMUG and the
 * IPAM1_* GPOs, and the domain head's gPLink, in both forests. */
static char *ad_snapshot(void)
{
	static const char *const usn[] = {"uSNChanged", NULL};
	static const char *const gplink[] = {"gPLink", NULL};
	struct strbuf sb = STRBUF_INIT;
	struct lab_run res;

	for (int f = 1; f <= 2; f++) {
		labad_ldap_search(
			f, F[f].dn, "sub",
			"(|(sAMAccountName=IPAMUG)(displayName=IPAM1_*))", usn,
			&res);
		strbuf_addstr(&sb, res.out);
		lab_run_free(&res);
		labad_ldap_search(f, F[f].dn, "base", "(objectClass=*)", gplink,
				  &res);
		strbuf_addstr(&sb, res.out);
		lab_run_free(&res);
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- JSON --------------------------------------------------------------- */

static long long jint_or(const struct ipam_node *map, const char *key,
			 long long dflt)
{
	const struct ipam_node *v = labad_jkey(map, key);

	return v && v->kind == IPAM_NODE_INT ? v->num : dflt;
}

/* ---- the state database, through ipamctl history and status ------------ */

struct run {
	long long id, pid;
	char *commit, *outcome, *ended, *command;
	char *author, *subject;		/* of the commit, as recorded */
	long long actions, drift, done; /* -1 when the summary has none */
	char *error;			/* summary.error */
};

/* Which of our commits id is (fails when none). */
static int commit_index(const char *id)
{
	for (int i = 0; i < NCOMMIT; i++)
		if (sha[i] && id && !strcmp(sha[i], id))
			return i;
	fail_msg("'%s' is none of the test's commits", id ? id : "(null)");
	return -1;
}

/* The run r carries the author and subject of its commit, as git says. */
static void expect_run_author(const struct run *r, const char *what)
{
	int c = commit_index(r->commit);

	if (!r->author || strcmp(r->author, author[c]) || !r->subject ||
	    strcmp(r->subject, subject[c]))
		fail_msg("%s: run %lld of commit %.12s records author '%s' and "
			 "subject '%s', git says '%s' and '%s'",
			 what, r->id, r->commit, r->author ? r->author : "",
			 r->subject ? r->subject : "", author[c], subject[c]);
}

static void runs_free(struct run *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].commit);
		free(v[i].command);
		free(v[i].author);
		free(v[i].subject);
		free(v[i].outcome);
		free(v[i].ended);
		free(v[i].error);
	}
	free(v);
}

/* Every run, newest first (ipamctl history -o json). */
static size_t load_runs(struct run **out)
{
	struct lab_run res;
	struct ipam_node *root;
	struct run *v;
	size_t n = 0;

	labad_run_ipamctl(&res, "history", "--db", db_uri, "--limit", "0", "-o",
			  "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl history -o json");
	root = labad_parse_json(res.out, res.out_len,
				"ipamctl history -o json");
	if (root->kind != IPAM_NODE_SEQ)
		fail_msg("ipamctl history -o json is not a list:\n%s", res.out);
	v = xcalloc(root->nr + 1, sizeof(*v));
	for (size_t i = 0; i < root->nr; i++) {
		const struct ipam_node *r = root->items[i];
		const struct ipam_node *s = labad_jkey(r, "summary");
		const char *c = labad_jstr(r, "git_commit"),
			   *e = labad_jstr(r, "ended_at");
		const char *o = labad_jstr(r, "outcome"),
			   *err = labad_jstr(s, "error");

		v[n].id = jint_or(r, "id", -1);
		v[n].pid = jint_or(r, "pid", -1);
		v[n].commit = c ? xstrdup(c) : NULL;
		v[n].command = xstrdup(labad_jstr(r, "command")
					       ? labad_jstr(r, "command")
					       : "?");
		v[n].author = labad_jstr(r, "git_author")
				      ? xstrdup(labad_jstr(r, "git_author"))
				      : NULL;
		v[n].subject = labad_jstr(r, "git_subject")
				       ? xstrdup(labad_jstr(r, "git_subject"))
				       : NULL;
		v[n].outcome = xstrdup(o ? o : "?");
		v[n].ended = e ? xstrdup(e) : NULL;
		v[n].actions = jint_or(s, "actions", -1);
		v[n].drift = jint_or(s, "drift", -1);
		v[n].done = jint_or(s, "done", -1);
		v[n].error = err ? xstrdup(err) : NULL;
		n++;
	}
	ipam_node_free(root);
	lab_run_free(&res);
	*out = v;
	return n;
}

static char *runs_text(const struct run *v, size_t n)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb,
			    "  run %lld pid %lld %s %s commit %.12s (%s: %s) "
			    "actions %lld drift %lld done %lld%s%s\n",
			    v[i].id, v[i].pid, v[i].command, v[i].outcome,
			    v[i].commit ? v[i].commit : "-",
			    v[i].author ? v[i].author : "-",
			    v[i].subject ? v[i].subject : "-", v[i].actions,
			    v[i].drift, v[i].done, v[i].error ? " error: " : "",
			    v[i].error ? v[i].error : "");
	return strbuf_detach(&sb, NULL);
}

static long long max_run_id(void)
{
	struct run *v;
	size_t n = load_runs(&v);
	long long id = n ? v[0].id : 0;

	runs_free(v, n);
	return id;
}

/* The newest run after min_id with commit and outcome (NULL: any), or
 * NULL; *v and *n hold the list (free with runs_free). */
static const struct run *find_run(struct run **v, size_t *n, long long min_id,
				  const char *commit, const char *outcome)
{
	*n = load_runs(v);
	for (size_t i = 0; i < *n; i++) {
		const struct run *r = &(*v)[i];

		if (r->id > min_id &&
		    (!commit || (r->commit && !strcmp(r->commit, commit))) &&
		    (!outcome || !strcmp(r->outcome, outcome)))
			return r;
	}
	return NULL;
}

/* ipamctl status (-o json and text): last_applied must be commit applied
 * (of run applied_run, unless 0), last_attempted commit attempted (with
 * that outcome, unless NULL). */
static void expect_status(const char *applied, long long applied_run,
			  const char *attempted, const char *outcome,
			  const char *what)
{
	struct lab_run res;
	struct ipam_node *root;
	const struct ipam_node *a, *t;
	const char *ac, *tc, *to;
	char *want, *line;

	labad_run_ipamctl(&res, "status", "--db", db_uri, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl status -o json");
	root = labad_parse_json(res.out, res.out_len, "ipamctl status -o json");
	a = labad_jkey(root, "last_applied");
	t = labad_jkey(root, "last_attempted");
	ac = labad_jstr(a, "commit");
	tc = labad_jstr(t, "commit");
	to = labad_jstr(t, "outcome");
	if (!ac || strcmp(ac, applied) ||
	    (applied_run && jint_or(a, "run", -1) != applied_run))
		fail_msg("%s: status: last_applied should be commit %s (run "
			 "%lld):\n%s",
			 what, applied, applied_run, res.out);
	if (!tc || strcmp(tc, attempted) || !to ||
	    (outcome && strcmp(to, outcome)))
		fail_msg("%s: status: last_attempted should be commit %s, "
			 "%s:\n%s",
			 what, attempted, outcome ? outcome : "(any outcome)",
			 res.out);
	/* with the author and subject git gives each commit */
	{
		const struct ipam_node *m[2] = {a, t};
		const char *id[2] = {applied, attempted};

		for (int k = 0; k < 2; k++) {
			int c = commit_index(id[k]);
			const char *au = labad_jstr(m[k], "author");
			const char *su = labad_jstr(m[k], "subject");

			if (!au || strcmp(au, author[c]) || !su ||
			    strcmp(su, subject[c]))
				fail_msg("%s: status: %s should be by '%s', "
					 "subject '%s':\n%s",
					 what,
					 k ? "last_attempted" : "last_applied",
					 author[c], subject[c], res.out);
		}
	}
	ipam_node_free(root);
	lab_run_free(&res);
	/* the text form says the same */
	labad_run_ipamctl(&res, "status", "--db", db_uri, NULL);
	labad_expect_exit(&res, 0, "ipamctl status");
	{
		int ca = commit_index(applied), ct = commit_index(attempted);
		char *la = xasprintf("commit %s\n                by %s: %s\n",
				     applied, author[ca], subject[ca]);
		char *lt = xasprintf("commit %s\n                by %s: %s\n",
				     attempted, author[ct], subject[ct]);
		const char *pa = strstr(res.out, "last applied:");
		const char *pt = strstr(res.out, "last attempted:");

		if (!pa || !pt || !strstr(pa, la) || !strstr(pt, lt))
			fail_msg("%s: ipamctl status should name each commit's "
				 "author and subject on the line after it:\n%s",
				 what, res.out);
		free(la);
		free(lt);
	}
	want = xasprintf("commit %s", applied);
	line = line_with(res.out, "last applied:");
	if (!line || !ends_with(line, want))
		fail_msg("%s: ipamctl status should say 'last applied: … %s':"
			 "\n%s",
			 what, want, res.out);
	free(line);
	free(want);
	want = outcome ? xasprintf("%s, commit %s", outcome, attempted)
		       : xasprintf("commit %s", attempted);
	line = line_with(res.out, "last attempted:");
	if (!line || !ends_with(line, want))
		fail_msg("%s: ipamctl status should say 'last attempted: … "
			 "%s':\n%s",
			 what, want, res.out);
	free(line);
	free(want);
	lab_run_free(&res);
}

/* ---- the repository ----------------------------------------------------- */

/* Variants of the desired state: A the lab's; B dhcp1 managed, but
 * ipamServer broken (an unclosed flow sequence); C dhcp1 managed; E C with
 * a comment (another commit, the same state); F dhcp1 unmanaged with
 * suspend: true and another database; G dhcp1 unmanaged with
 * safety.maxRemovals 0. */
enum { V_A, V_B, V_C, V_E, V_F, V_G };

/* The database commit F names (never created: the local one wins). */
static char *elsewhere_db;

static char *desired(int v)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL);
	struct strbuf out = STRBUF_INIT;
	bool db = false, srv = false, ipam = false, maxrm = v != V_G;
	const char *p;

	for (p = text; *p;) {
		const char *eol = strchr(p, '\n');
		char *l = xstrndup(p, eol ? (size_t)(eol - p) : strlen(p));

		if (starts_with(l, "database:")) {
			strbuf_addf(&out, "database: %s%s\n",
				    v == V_F ? "sqlite:" : "",
				    v == V_F ? elsewhere_db : db_uri);
			db = true;
		} else if (v == V_G && strstr(l, "maxRemovals:")) {
			strbuf_addf(&out, "%.*smaxRemovals: 0\n",
				    (int)(strstr(l, "maxRemovals:") - l), l);
			maxrm = true;
		} else if (starts_with(l, "ipamServer:") && v == V_B) {
			strbuf_addstr(&out, "ipamServer: [oops\n");
			ipam = true;
		} else {
			strbuf_addf(&out, "%s\n", l);
			if (starts_with(l, "ipamServer:"))
				ipam = true;
			if (!strcmp(l, "servers:")) {
				srv = true;
				if (v != V_A)
					strbuf_addf(&out,
						    "  - name: " DHCP1 "\n"
						    "    manageability: %s\n",
						    v == V_F || v == V_G
							    ? "unmanaged"
							    : "managed");
			}
		}
		free(l);
		p = eol ? eol + 1 : p + strlen(p);
	}
	if (!db || !srv || !ipam || !maxrm)
		fail_msg("%s: no database (%d), servers (%d), ipamServer "
			 "(%d) or safety.maxRemovals (%d) to change:\n%s",
			 src, db, srv, ipam, maxrm, text);
	if (v == V_F)
		strbuf_addstr(&out, "suspend: true\n");
	strbuf_addf(&out,
		    "notify:\n"
		    "  - kind: generic\n"
		    "    url: http://127.0.0.1:%d/hook\n"
		    "    secretFile: %s\n"
		    "    events: " EVENTS "\n",
		    hook_port, hook_secret);
	if (v == V_E)
		strbuf_addstr(&out, "# E: the state of C again\n");
	free(text);
	free(src);
	return strbuf_detach(&out, NULL);
}

/* The line:col of the first YAML error in path, as PyYAML's pure-Python
 * loader sees it. */
static char *yaml_error_pos(const char *path)
{
	static const char script[] =
		"import sys, yaml\n"
		"try:\n"
		"    yaml.load(open(sys.argv[1]), Loader=yaml.SafeLoader)\n"
		"except yaml.MarkedYAMLError as e:\n"
		"    m = e.problem_mark\n"
		"    print('%d:%d' % (m.line + 1, m.column + 1))\n"
		"    sys.exit(0)\n"
		"sys.exit('no YAML error in ' + sys.argv[1])\n";
	const char *argv[] = {"/usr/bin/python3", "-c", script, path, NULL};
	struct lab_run res;
	char *s;

	lab_must_succeed(argv, NULL, &res);
	s = xstrdup(res.out);
	s[strcspn(s, "\n")] = '\0';
	lab_run_free(&res);
	return s;
}

/* Commit variant v to the work tree and push it to main (and to
 * refs/heads/<also> when given); sha[which] = the commit. */
static void make_commit(int which, int v, const char *msg, const char *also)
{
	char *text = desired(v), *file, *head, *spec;

	file = xasprintf("%s/ipamctl.yaml", worktree);
	assert_int_equal(lab_write_file(file, text, strlen(text)), 0);
	if (v == V_B && !bad_pos)
		bad_pos = yaml_error_pos(file);
	free(git("-C", worktree, "add", "ipamctl.yaml", NULL));
	free(git("-C", worktree, "commit", "-q", "-m", msg, NULL));
	head = git("-C", worktree, "rev-parse", "HEAD", NULL);
	if (!is_hex40(head))
		fail_msg("git rev-parse HEAD: '%s'", head);
	free(git("-C", worktree, "push", "-q", bare, "HEAD:refs/heads/main",
		 NULL));
	if (also) {
		spec = xasprintf("HEAD:refs/heads/%s", also);
		free(git("-C", worktree, "push", "-q", "-f", bare, spec, NULL));
		free(spec);
	}
	free(sha[which]);
	sha[which] = head;
	free(author[which]);
	free(subject[which]);
	author[which] =
		git("-C", worktree, "log", "-1", "--format=%an <%ae>", NULL);
	subject[which] = git("-C", worktree, "log", "-1", "--format=%s", NULL);
	printf("commit %c %s: %s\n", "ABCDEFGH"[which], head, msg);
	free(file);
	free(text);
}

/* The local configuration: where to fetch from (ref), whom to notify
 * (the receiver at path, signed with local_secret). */
static void write_local(const char *path, const char *ref,
			const char *hook_path)
{
	char *text = xasprintf("version: 1\n"
			       "ipamServer: ipam1.corp.example.test\n"
			       "database: %s\n"
			       "provisioning:\n"
			       "  method: gpo\n"
			       "  gpoPrefix: IPAM1\n"
			       "source:\n"
			       "  repo: %s\n"
			       "  ref: %s\n"
			       "  cacheDir: %s\n"
			       "notify:\n"
			       "  - kind: generic\n"
			       "    url: http://127.0.0.1:%d%s\n"
			       "    secretFile: %s\n"
			       "    events: " EVENTS "\n",
			       db_uri, repo_url, ref, cache_dir, hook_port,
			       hook_path, local_secret);

	assert_int_equal(lab_write_file(path, text, strlen(text)), 0);
	free(text);
}

/* ---- the webhook receiver ----------------------------------------------- */

static pid_t hook_pid = -1;
static char *hook_dir;
static unsigned hook_mark; /* requests verified so far */

/* The value of header name in the head of a request (malloc'ed), or NULL. */
static char *header_value(const char *raw, size_t head_len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = memchr(raw, '\n', head_len), *end = raw + head_len;

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (len > nlen && !strncasecmp(p, name, nlen) &&
		    p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
				len--;
			return xstrndup(v, (size_t)(p + len - v));
		}
		p = eol;
	}
	return NULL;
}

static char *req_path(unsigned i)
{
	return xasprintf("%s/req-%04u", hook_dir, i);
}

/* The child: accept, read one request, record it, answer 200. */
static void serve(int ls)
{
	unsigned n = 0;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct timeval tv = {10, 0};
		char *buf = NULL, *tmp, *final;
		size_t len = 0, cap = 0, head = 0, need = 0;
		int c = accept(ls, NULL, NULL), fd;
		static const char ok[] = "HTTP/1.1 200 OK\r\n"
					 "Content-Type: text/plain\r\n"
					 "Content-Length: 3\r\n"
					 "Connection: close\r\n\r\nok\n";
		static const char bad[] = "HTTP/1.1 400 Bad Request\r\n"
					  "Content-Length: 0\r\n"
					  "Connection: close\r\n\r\n";

		if (c < 0) {
			if (errno == EINTR)
				continue;
			_exit(2);
		}
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (;;) {
			ssize_t r;

			if (len + 4096 > cap) {
				cap = cap ? 2 * cap : 16384;
				buf = xrealloc(buf, cap + 1);
			}
			r = read(c, buf + len, cap - len);
			if (r <= 0)
				break;
			len += (size_t)r;
			buf[len] = '\0';
			if (!head) {
				char *e = strstr(buf, "\r\n\r\n"), *cl;

				if (e) {
					head = (size_t)(e - buf) + 4;
					cl = header_value(buf, head,
							  "Content-Length");
					need = head +
					       (cl ? strtoul(cl, NULL, 10) : 0);
					free(cl);
				}
			}
			if ((head && len >= need) || len > (4u << 20))
				break;
		}
		if (!head || len < need) {
			send(c, bad, sizeof(bad) - 1, MSG_NOSIGNAL);
			close(c);
			free(buf);
			continue;
		}
		tmp = xasprintf("%s/.tmp", hook_dir);
		final = req_path(n++);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, buf, len) != (ssize_t)len ||
		    close(fd) || rename(tmp, final))
			_exit(3);
		send(c, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
		close(c);
		free(tmp);
		free(final);
		free(buf);
	}
}

static void start_receiver(void)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	pid_t parent = getpid();
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
	hook_port = ntohs(sa.sin_port);
	hook_dir = xasprintf("%s/hooks", tmpdir);
	assert_int_equal(mkdir(hook_dir, 0700), 0);
	fflush(NULL);
	hook_pid = fork();
	assert_true(hook_pid >= 0);
	if (hook_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		serve(ls);
		_exit(0);
	}
	close(ls);
	printf("webhook receiver: pid %ld on 127.0.0.1:%d\n", (long)hook_pid,
	       hook_port);
}

static void stop_receiver(void)
{
	if (hook_pid > 0) {
		kill(hook_pid, SIGKILL);
		waitpid(hook_pid, NULL, 0);
	}
	hook_pid = -1;
}

static unsigned req_count(void)
{
	unsigned n = 0;
	struct stat st;

	for (;;) {
		char *p = req_path(n);
		int rc = stat(p, &st);

		free(p);
		if (rc)
			return n;
		n++;
	}
}

struct req {
	unsigned idx;
	char *file;
	char *raw;
	size_t len, head;
	char *method, *path; /* from the request line */
	const char *body;
	size_t body_len;
	char *event;	  /* X-Ipamctl-Event */
	char *json_event; /* the body's "event" */
};

static void req_free(struct req *r)
{
	free(r->file);
	free(r->raw);
	free(r->method);
	free(r->path);
	free(r->event);
	free(r->json_event);
	memset(r, 0, sizeof(*r));
}

static void req_load(struct req *r, unsigned i)
{
	char *e, *sp1, *sp2;

	memset(r, 0, sizeof(*r));
	r->idx = i;
	r->file = req_path(i);
	r->raw = lab_read_file(r->file, 8u << 20, &r->len);
	if (!r->raw)
		fail_msg("cannot read %s: %s", r->file, strerror(errno));
	e = strstr(r->raw, "\r\n\r\n");
	assert_non_null(e);
	r->head = (size_t)(e - r->raw) + 4;
	r->body = r->raw + r->head;
	r->body_len = r->len - r->head;
	sp1 = strchr(r->raw, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp2 > e)
		fail_msg("request %u: bad request line:\n%s", i, r->raw);
	r->method = xstrndup(r->raw, (size_t)(sp1 - r->raw));
	r->path = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	r->event = header_value(r->raw, r->head, "X-Ipamctl-Event");
	{
		struct ipam_node *root = NULL;
		const char *ev;

		if (!ipam_json_parse(&root, "webhook body", r->body,
				     r->body_len) &&
		    (ev = labad_jstr(root, "event")))
			r->json_event = xstrdup(ev);
		ipam_node_free(root);
	}
}

/* "  #3 POST /hook applied" lines for messages. */
static char *reqs_text(unsigned from, unsigned to)
{
	struct strbuf sb = STRBUF_INIT;

	for (unsigned i = from; i < to; i++) {
		struct req r;

		req_load(&r, i);
		strbuf_addf(&sb, "  #%u %s %s %s: %.*s\n", i, r.method, r.path,
			    r.event ? r.event : "(no event header)",
			    (int)(r.body_len > 300 ? 300 : r.body_len), r.body);
		req_free(&r);
	}
	return strbuf_detach(&sb, NULL);
}

/* sha256=<HMAC-SHA256 of the request's body under the secret in
 * secret_file>, computed by Python (one trailing newline of the file is
 * not part of the secret, as ipamctl documents). */
static char *python_hmac(const char *secret_file, const char *req_file)
{
	static const char script[] =
		"import hmac, hashlib, sys\n"
		"k = open(sys.argv[1], 'rb').read()\n"
		"if k.endswith(b'\\n'):\n"
		"    k = k[:-1]\n"
		"raw = open(sys.argv[2], 'rb').read()\n"
		"body = raw[raw.index(b'\\r\\n\\r\\n') + 4:]\n"
		"print('sha256=' + hmac.new(k, body, "
		"hashlib.sha256).hexdigest())\n";
	const char *argv[] = {"/usr/bin/python3", "-c",	    script,
			      secret_file,	  req_file, NULL};
	struct lab_run res;
	char *s;

	lab_must_succeed(argv, NULL, &res);
	s = xstrdup(res.out);
	s[strcspn(s, "\n")] = '\0';
	lab_run_free(&res);
	return s;
}

struct want {
	const char *path, *event, *secret, *commit;
	long long run;	       /* 0: any run id of runs[] */
	const long long *runs; /* with run 0: the allowed ids */
	size_t nr_runs;
	const char *summary_has[4]; /* substrings, up to NULL */
	const char *summary_end;    /* suffix, or NULL */
};

/* An integer member of a map, or -1. */
static long long jnum(const struct ipam_node *m, const char *key)
{
	const struct ipam_node *v = labad_jkey(m, key);

	return v && v->kind == IPAM_NODE_INT ? v->num : -1;
}

/*
 * What an event's details say: the plan's counts for drift, refused,
 * apply_failed and applied (the drift list with drift, the outcome of the
 * apply with applied and apply_failed, the error with refused and
 * apply_failed); the error and the commit still in force with
 * source_invalid.
 */
static void details_ok(const struct ipam_node *d, const char *event,
		       const char *ctx, const char *body)
{
	/* refused without a plan: a desired state with no domain */
	bool plan = strcmp(event, "source_invalid") != 0 &&
		    (strcmp(event, "refused") || labad_jkey(d, "actions"));
	const struct ipam_node *v;

	if (plan && jnum(d, "actions") <= 0)
		fail_msg("%s: details.actions:\n%s", ctx, body);
	if (!strcmp(event, "drift")) {
		v = labad_jkey(d, "changes");
		if (jnum(d, "drift") <= 0 || !v || v->kind != IPAM_NODE_SEQ ||
		    v->nr == 0 || !labad_jstr(v->items[0], "what"))
			fail_msg("%s: details.drift and .changes:\n%s", ctx,
				 body);
	}
	if (!strcmp(event, "applied") &&
	    (jnum(d, "done") != jnum(d, "actions") || jnum(d, "failed") != 0))
		fail_msg("%s: details.done, .failed:\n%s", ctx, body);
	if (!strcmp(event, "apply_failed") && jnum(d, "failed") <= 0)
		fail_msg("%s: details.failed:\n%s", ctx, body);
	if (!strcmp(event, "refused") && jnum(d, "removals") <= 0)
		fail_msg("%s: details.removals:\n%s", ctx, body);
	if ((!strcmp(event, "refused") || !strcmp(event, "apply_failed") ||
	     !strcmp(event, "source_invalid")) &&
	    !labad_jstr(d, "error"))
		fail_msg("%s: details.error:\n%s", ctx, body);
	if (!strcmp(event, "source_invalid") &&
	    !labad_jkey(d, "still_in_force"))
		fail_msg("%s: details.still_in_force:\n%s", ctx, body);
}

/* Check one request against w; returns its run id. */
static long long verify_req(const struct req *r, const struct want *w,
			    const char *what)
{
	static const char *const keys[] = {
		"event",	  "summary", "commit",	"commit_author",
		"commit_subject", "run",     "details", "sent_at"};
	char *ctype = header_value(r->raw, r->head, "Content-Type");
	char *clen = header_value(r->raw, r->head, "Content-Length");
	char *sig = header_value(r->raw, r->head, "X-Ipamctl-Signature-256");
	char *ua = header_value(r->raw, r->head, "User-Agent");
	char *mac,
		*ctx = xasprintf("%s: request #%u (%s)", what, r->idx, r->file);
	struct ipam_node *root = NULL;
	const struct ipam_node *v;
	const char *s;
	long long run;
	char *end;

	if (strcmp(r->method, "POST") || strcmp(r->path, w->path))
		fail_msg("%s: %s %s, expected POST %s:\n%s", ctx, r->method,
			 r->path, w->path, r->raw);
	if (!ctype || strcmp(ctype, "application/json"))
		fail_msg("%s: Content-Type '%s'", ctx, ctype ? ctype : "");
	if (!clen || strtoull(clen, NULL, 10) != r->body_len)
		fail_msg("%s: Content-Length '%s' for a %zu-byte body", ctx,
			 clen ? clen : "", r->body_len);
	if (!ua || !starts_with(ua, "ipamctl"))
		fail_msg("%s: User-Agent '%s'", ctx, ua ? ua : "");
	/* the signature: HMAC-SHA256 of the exact body, by Python */
	mac = python_hmac(w->secret, r->file);
	if (!sig || strcmp(sig, mac))
		fail_msg("%s: X-Ipamctl-Signature-256 '%s', but HMAC-SHA256 "
			 "of the body under %s is '%s':\n%s",
			 ctx, sig ? sig : "(none)", w->secret, mac, r->raw);
	/* the event, in the header and in the body */
	if (!r->event || strcmp(r->event, w->event))
		fail_msg("%s: X-Ipamctl-Event '%s', expected '%s':\n%s", ctx,
			 r->event ? r->event : "(none)", w->event, r->raw);
	if (ipam_json_parse(&root, "webhook body", r->body, r->body_len) ||
	    root->kind != IPAM_NODE_MAP)
		fail_msg("%s: the body is not a JSON object:\n%s", ctx,
			 r->body);
	if (root->nr != sizeof(keys) / sizeof(keys[0]))
		fail_msg("%s: %zu keys in the payload, expected event, "
			 "summary, commit, commit_author, commit_subject, run, "
			 "details, sent_at:\n%s",
			 ctx, root->nr, r->body);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!labad_jkey(root, keys[i]))
			fail_msg("%s: no '%s' in the payload:\n%s", ctx,
				 keys[i], r->body);
	s = labad_jstr(root, "event");
	if (!s || strcmp(s, r->event))
		fail_msg("%s: payload event '%s' but X-Ipamctl-Event '%s'", ctx,
			 s ? s : "(not a string)", r->event);
	s = labad_jstr(root, "commit");
	if (!s || !is_hex40(s) || strcmp(s, w->commit))
		fail_msg("%s: payload commit '%s', expected %s:\n%s", ctx,
			 s ? s : "(not a string)", w->commit, r->body);
	{
		int c = commit_index(w->commit);
		const char *au = labad_jstr(root, "commit_author");
		const char *su = labad_jstr(root, "commit_subject");

		if (!au || strcmp(au, author[c]) || !su ||
		    strcmp(su, subject[c]))
			fail_msg("%s: payload commit_author '%s' and "
				 "commit_subject '%s', git says '%s' and "
				 "'%s':\n%s",
				 ctx, au ? au : "(not a string)",
				 su ? su : "(not a string)", author[c],
				 subject[c], r->body);
	}
	s = labad_jstr(root, "run");
	run = s ? strtoll(s, &end, 10) : 0;
	if (!s || !*s || *end || run <= 0)
		fail_msg("%s: payload run '%s' is not a run id:\n%s", ctx,
			 s ? s : "(not a string)", r->body);
	if (w->run && run != w->run)
		fail_msg("%s: payload run %lld, expected %lld:\n%s", ctx, run,
			 w->run, r->body);
	if (!w->run) {
		size_t i;

		for (i = 0; i < w->nr_runs && w->runs[i] != run; i++)
			;
		if (i == w->nr_runs)
			fail_msg("%s: payload run %lld is none of the %zu "
				 "expected runs:\n%s",
				 ctx, run, w->nr_runs, r->body);
	}
	v = labad_jkey(root, "details");
	if (v->kind != IPAM_NODE_MAP)
		fail_msg("%s: details is not an object:\n%s", ctx, r->body);
	details_ok(v, w->event, ctx, r->body);
	s = labad_jstr(root, "sent_at");
	{
		struct tm tm = {0};
		int y, mo, d, h, mi, se, used = 0;
		long long skew;

		if (!s || strlen(s) != 20 ||
		    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h,
			   &mi, &se, &used) != 6 ||
		    used != 20)
			fail_msg("%s: sent_at '%s' is not ISO 8601 UTC", ctx,
				 s ? s : "(not a string)");
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = se;
		skew = (long long)(timegm(&tm) - time(NULL));
		if (skew < -600 || skew > 60)
			fail_msg("%s: sent_at %s is %lld s from now", ctx, s,
				 skew);
	}
	s = labad_jstr(root, "summary");
	if (!s || !starts_with(s, "ipamctl: "))
		fail_msg("%s: summary '%s'", ctx, s ? s : "(not a string)");
	for (size_t i = 0; i < 4 && w->summary_has[i]; i++)
		if (!strstr(s, w->summary_has[i]))
			fail_msg("%s: the summary does not say '%s':\n%s", ctx,
				 w->summary_has[i], s);
	if (w->summary_end && !ends_with(s, w->summary_end))
		fail_msg("%s: the summary does not end with '%s':\n%s", ctx,
			 w->summary_end, s);
	ipam_node_free(root);
	free(mac);
	free(ctype);
	free(clen);
	free(sig);
	free(ua);
	free(ctx);
	return run;
}

/* Wait up to limit_s for at least n requests after the verified ones. */
static unsigned wait_requests(unsigned n, double limit_s)
{
	double end = labad_now_s() + limit_s;
	unsigned got;

	while ((got = req_count() - hook_mark) < n && labad_now_s() < end)
		sleep_s(0.05);
	return got;
}

/*
 * The requests since the last verified one must be exactly w[0..n), in
 * order for each path (ipamctl has exited: its notifications are
 * delivered, since it waits for each; the hooks of one event are sent at
 * once, so requests to different paths may come in any order).
 */
static void expect_hooks(const struct want *w, size_t n, const char *what)
{
	bool used[16] = {false};

	unsigned got = wait_requests((unsigned)n, n ? 5 : 0);

	sleep_s(0.3); /* anything more on its way */
	got = req_count() - hook_mark;
	if (got != n) {
		char *t = reqs_text(hook_mark, hook_mark + got);

		fail_msg("%s: the receiver got %u requests, expected %zu:\n%s",
			 what, got, n, t);
	}
	assert_true(n <= sizeof(used) / sizeof(used[0]));
	for (size_t i = 0; i < n; i++) {
		struct req r;
		size_t j;

		req_load(&r, hook_mark + (unsigned)i);
		for (j = 0; j < n && (used[j] || strcmp(w[j].path, r.path));
		     j++)
			;
		if (j == n) {
			char *t = reqs_text(hook_mark, hook_mark + got);

			fail_msg("%s: request #%u to %s is none of those "
				 "expected:\n%s",
				 what, r.idx, r.path, t);
		}
		used[j] = true;
		verify_req(&r, &w[j], what);
		req_free(&r);
	}
	hook_mark += (unsigned)n;
}

/* A broken commit's source_invalid, once to the local configuration's
 * webhook (local_path) and once to /hook, the last good state's, in any
 * order. */
static void expect_source_invalid(const char *local_path, const char *commit,
				  long long run, const char *has,
				  const char *end, const char *what)
{
	struct want w[] = {{.path = local_path,
			    .event = "source_invalid",
			    .secret = local_secret,
			    .commit = commit,
			    .run = run,
			    .summary_has = {has},
			    .summary_end = end},
			   {.path = "/hook",
			    .event = "source_invalid",
			    .secret = hook_secret,
			    .commit = commit,
			    .run = run,
			    .summary_has = {has},
			    .summary_end = end}};

	expect_hooks(w, 2, what);
}

/* 32 random bytes in hex and a newline, into a new 0600 file. */
static char *write_secret(const char *name)
{
	unsigned char b[32];
	char hex[66];
	char *path = xasprintf("%s/%s", tmpdir, name);

	assert_int_equal(getrandom(b, sizeof(b), 0), (ssize_t)sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[64] = '\n';
	hex[65] = '\0';
	assert_int_equal(lab_write_file(path, hex, 65), 0);
	return path;
}

/* ---- ipamctl reconcile in the background -------------------------------- */

struct bg {
	pid_t pid;
	char *out, *err; /* files */
	int status;
	const char *what;
};

static struct bg *running; /* killed by the teardown */

static void bg_start(struct bg *b, const char *tag, const char *const argv[])
{
	b->out = xasprintf("%s/%s.out", tmpdir, tag);
	b->err = xasprintf("%s/%s.err", tmpdir, tag);
	b->status = -1;
	b->what = tag;
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
	running = b;
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
	if (running == b)
		running = NULL;
	return true;
}

static void bg_kill(struct bg *b)
{
	if (b->status >= 0)
		return;
	kill(-b->pid, SIGKILL);
	kill(b->pid, SIGKILL);
	bg_done(b, true);
}

static char *bg_text(const struct bg *b, bool err)
{
	char *t = lab_read_file(err ? b->err : b->out, 1 << 24, NULL);

	return t ? t : xstrdup("");
}

static char *bg_describe(const struct bg *b)
{
	char *e = bg_text(b, true);
	size_t len = strlen(e);
	char *s = xasprintf("ipamctl %s (pid %ld) %s %d\nstderr%s:\n%s",
			    b->what, (long)b->pid,
			    b->status >= 0 ? "exit" : "running, status",
			    b->status, len > 6000 ? " (its end)" : "",
			    len > 6000 ? e + len - 6000 : e);

	free(e);
	return s;
}

static void bg_free(struct bg *b)
{
	bg_kill(b);
	free(b->out);
	free(b->err);
}

/* Fail, killing the loop, with what it said. */
static void bg_fail(struct bg *b, const char *why)
{
	char *d;

	bg_kill(b);
	d = bg_describe(b);
	fail_msg("%s\n%s", why, d);
	free(d);
}

/* Wait until the loop's stderr holds needle at least n times. */
static void wait_stderr(struct bg *b, const char *needle, size_t n,
			double limit_s)
{
	double end = labad_now_s() + limit_s;

	for (;;) {
		char *e = bg_text(b, true);
		size_t got = count_of(e, needle);

		free(e);
		if (got >= n)
			return;
		if (bg_done(b, false) || labad_now_s() > end) {
			char *why = xasprintf("'%s' %zu times on stderr "
					      "within %.0f s: only %zu",
					      needle, n, limit_s, got);

			bg_fail(b, why);
			free(why);
		}
		sleep_s(0.1);
	}
}

/* Wait for a run after min_id with commit and outcome; its id. */
static long long wait_run(struct bg *b, long long min_id, const char *commit,
			  const char *outcome, double limit_s)
{
	double end = labad_now_s() + limit_s;

	for (;;) {
		struct run *v;
		size_t n;
		const struct run *r = find_run(&v, &n, min_id, commit, outcome);
		long long id = r ? r->id : 0;

		if (id) {
			runs_free(v, n);
			return id;
		}
		if (bg_done(b, false) || labad_now_s() > end) {
			char *t = runs_text(v, n);
			char *why =
				xasprintf("no run %s for commit %.12s "
					  "after run %lld within %.0f "
					  "s; the runs:\n%s",
					  outcome, commit, min_id, limit_s, t);

			runs_free(v, n);
			bg_fail(b, why);
			free(why);
			free(t);
		}
		runs_free(v, n);
		sleep_s(0.25);
	}
}

/* SIGTERM or SIGINT (sig): it must exit 0 within limit_s, having logged
 * "stopped". */
static double bg_stop(struct bg *b, int sig, double limit_s)
{
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	double t0 = labad_now_s(), took;
	char *e, *last, *why;

	assert_int_equal(kill(b->pid, sig), 0);
	while (!bg_done(b, false)) {
		if (labad_now_s() - t0 > limit_s) {
			why = xasprintf("still running %.0f s after %s",
					limit_s, name);
			bg_fail(b, why);
			free(why);
		}
		sleep_s(0.02);
	}
	took = labad_now_s() - t0;
	if (b->status != 0) {
		why = xasprintf("exit %d after %s, expected 0", b->status,
				name);
		bg_fail(b, why);
		free(why);
	}
	e = bg_text(b, true);
	last = last_line(e);
	if (strcmp(last, "ipamctl: stopped")) {
		why = xasprintf("the last line on stderr after %s is not "
				"'ipamctl: stopped'",
				name);
		bg_fail(b, why);
		free(why);
	}
	free(last);
	free(e);
	return took;
}

/* No run of pid is left open: each has ended, none is 'running'. */
static void runs_closed(pid_t pid, size_t min_runs, const char *what)
{
	struct run *v;
	size_t n = load_runs(&v), mine = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i].pid != pid)
			continue;
		mine++;
		if (!v[i].ended || !strcmp(v[i].outcome, "running")) {
			char *t = runs_text(v, n);

			fail_msg("%s: run %lld left open (%s):\n%s", what,
				 v[i].id, v[i].outcome, t);
		}
	}
	if (mine < min_runs) {
		char *t = runs_text(v, n);

		fail_msg("%s: %zu runs recorded by pid %ld, expected at least "
			 "%zu:\n%s",
			 what, mine, (long)pid, min_runs, t);
	}
	runs_free(v, n);
}

/* ---- setup -------------------------------------------------------------- */

static int setup(void **state)
{
	struct lab_run res;
	char *a;

	(void)state;
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	db_uri = test_db_is_pg() ? xstrdup(db_path)
				 : xasprintf("sqlite:%s", db_path);
	elsewhere_db = xasprintf("%s/elsewhere.db", tmpdir);
	bare = xasprintf("%s/desired.git", tmpdir);
	repo_url = xasprintf("file://%s", bare);
	worktree = xasprintf("%s/work", tmpdir);
	cache_dir = xasprintf("%s/cache", tmpdir);
	local_cfg = xasprintf("%s/local.yaml", tmpdir);
	hook_secret = write_secret("hook.secret");
	local_secret = write_secret("local.secret");
	start_receiver();
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
		if (labad_list_gpos(f, NULL, NULL))
			fail_msg("%s: IPAM1_* GPOs left after cleaning",
				 F[f].domain);
	}
	free(git("init", "-q", "--bare", "-b", "main", bare, NULL));
	free(git("init", "-q", "-b", "main", worktree, NULL));
	write_local(local_cfg, "main", "/local");
	/* the state database, from the first desired state */
	a = desired(V_A);
	{
		char *path = xasprintf("%s/A.yaml", tmpdir);

		assert_int_equal(lab_write_file(path, a, strlen(a)), 0);
		labad_run_ipamctl(&res, "db", "init", "-c", path, NULL);
		labad_expect_exit(&res, 0, "ipamctl db init");
		lab_run_free(&res);
		labad_run_ipamctl(&res, "validate", "-c", local_cfg, NULL);
		labad_expect_exit(&res, 0, "ipamctl validate (the local file)");
		lab_run_free(&res);
		free(path);
	}
	free(a);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (running)
		bg_kill(running);
	stop_receiver();
	for (int f = 1; f <= 2; f++) {
		if (!lab_env("IPAM_GITOPSTEST_KEEP"))
			labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	for (int i = 0; i < NCOMMIT; i++) {
		free(sha[i]);
		free(author[i]);
		free(subject[i]);
	}
	if (lab_env("IPAM_GITOPSTEST_KEEP"))
		printf("kept %s\n", tmpdir);
	else
		lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(db_uri);
	free(elsewhere_db);
	free(bare);
	free(repo_url);
	free(worktree);
	free(cache_dir);
	free(local_cfg);
	free(hook_secret);
	free(local_secret);
	free(bad_pos);
	free(hook_dir);
	return 0;
}

/* The abbreviated commit, as file names and messages give it. */
static char *abbrev(int which)
{
	assert_non_null(sha[which]);
	return xstrndup(sha[which], ABBREV);
}

/* "Apply complete: N done, 0 failed, 0 not done." on stdout: N. */
static long long applied_count(const struct lab_run *res, const char *what)
{
	const char *p = strstr(res->out, "Apply complete: ");
	long long n;
	char tail[64];

	if (!p ||
	    sscanf(p, "Apply complete: %lld done, %63[^\n]", &n, tail) != 2 ||
	    strcmp(tail, "0 failed, 0 not done."))
		fail_msg("%s", lab_run_describe(res, what));
	return n;
}

/* ---- (1) a valid commit is applied -------------------------------------- */

static void test_1_valid_commit_applies(void **state)
{
	struct lab_run res;
	struct run *v;
	size_t n;
	const struct run *r;
	long long done, run;
	char *a12, *fetched, *summary;
	double t0 = labad_now_s();

	(void)state;
	make_commit(C_A, V_A, "lab desired state with a webhook", NULL);
	a12 = abbrev(C_A);
	labad_run_ipamctl(&res, "reconcile", "-c", local_cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl reconcile -c LOCAL (commit A)");
	done = applied_count(&res, "ipamctl reconcile (commit A)");
	if (done <= 0)
		fail_msg("commit A applied nothing on a clean lab:\n%s",
			 res.out);
	/* where it came from, with the commit's author and subject */
	fetched = xasprintf("ipamctl: desired state: %s at %s (ipamctl test "
			    "<gitops@example.test>: lab desired state with a "
			    "webhook)",
			    repo_url, a12);
	if (!lab_has_line(res.err, fetched))
		fail_msg("no line '%s':\n%s", fetched,
			 lab_run_describe(&res, "ipamctl reconcile"));
	lab_run_free(&res);
	/* AD, read with samba-tool and ldapsearch */
	for (int f = 1; f <= 2; f++) {
		char **ug = labad_ldap_dns(f, F[f].dn, "sub",
					   "(sAMAccountName=IPAMUG)");

		labad_need_gpos(&F[f], true);
		if (labad_strv_len(ug) != 1)
			fail_msg("%s: %zu IPAMUG groups after applying A",
				 F[f].domain, labad_strv_len(ug));
		lab_strv_free(ug);
	}
	assert_false(dhcp1_filtered());
	/* the run, recorded with its commit */
	r = find_run(&v, &n, 0, NULL, NULL);
	if (n != 1 || !r->commit || strcmp(r->commit, sha[C_A]) ||
	    strcmp(r->outcome, "succeeded") || r->done != done ||
	    r->actions != done) {
		char *t = runs_text(v, n);

		fail_msg("after commit A, expected one run, succeeded, commit "
			 "%s, %lld actions done:\n%s",
			 sha[C_A], done, t);
	}
	run = r->id;
	expect_run_author(r, "commit A");
	runs_free(v, n);
	/* one event: applied, to the desired state's own webhook */
	summary = xasprintf("ipamctl: applied %lld action", done);
	{
		struct want w[] = {{.path = "/hook",
				    .event = "applied",
				    .secret = hook_secret,
				    .commit = sha[C_A],
				    .run = run,
				    .summary_has = {summary}}};

		expect_hooks(w, 1, "commit A");
	}
	expect_status(sha[C_A], run, sha[C_A], "succeeded", "commit A");
	/* history's text: the run's line, then who made the commit, why */
	labad_run_ipamctl(&res, "history", "--db", db_uri, NULL);
	labad_expect_exit(&res, 0, "ipamctl history");
	{
		char *by = xasprintf("       by %s: %s\n", author[C_A],
				     subject[C_A]);
		char *id = xasprintf("%.12s  ", sha[C_A]);
		const char *p = strstr(res.out, id);

		if (!p || !strstr(p, by))
			fail_msg("ipamctl history should show commit %s and, "
				 "below it, '%s':\n%s",
				 id, by, res.out);
		free(by);
		free(id);
	}
	lab_run_free(&res);
	free(summary);
	free(fetched);
	free(a12);
	printf("(1) commit A applied (%lld actions): %.1f s\n", done,
	       labad_now_s() - t0);
}

/* ---- (2) the ownership marks name the repository ------------------------ */

static void test_2_marks_name_the_repository(void **state)
{
	static const char *const attrs[] = {"adminDescription", NULL};
	char *want = xasprintf("; source=%s", repo_url);

	(void)state;
	for (int f = 1; f <= 2; f++) {
		struct lab_run res;
		char **marks;

		labad_ldap_search(
			f, F[f].dn, "sub",
			"(|(sAMAccountName=IPAMUG)(displayName=IPAM1_*))",
			attrs, &res);
		marks = labad_ldif_values(res.out, "adminDescription");
		if (labad_strv_len(marks) != LABAD_NGPO + 1)
			fail_msg("%s: %zu marks for IPAMUG and the three "
				 "GPOs:\n%s",
				 F[f].domain, labad_strv_len(marks), res.out);
		for (size_t i = 0; marks[i]; i++)
			if (!starts_with(marks[i], "ipamctl/1;") ||
			    !ends_with(marks[i], want))
				fail_msg("%s: the desired state came from %s "
					 "(the source: of %s), but the "
					 "ownership mark says '%s'",
					 F[f].domain, repo_url, local_cfg,
					 marks[i]);
		lab_strv_free(marks);
		lab_run_free(&res);
	}
	free(want);
}

/* ---- (3) an invalid commit applies nothing ------------------------------ */

static void test_3_invalid_commit_applies_nothing(void **state)
{
	struct lab_run res;
	struct run *v;
	size_t n;
	const struct run *r;
	char *b12, *before, *after, *diag, *where;
	char **lines;
	long long run, last;
	bool found = false;
	double t0 = labad_now_s();

	(void)state;
	last = max_run_id();
	before = ad_snapshot();
	/* dhcp1 made managed -- and ipamServer broken; the "broken" branch
	 * keeps this commit for (7) */
	make_commit(C_B, V_B, "make dhcp1 managed (broken YAML)", "broken");
	b12 = abbrev(C_B);
	assert_non_null(bad_pos);
	/* the CLI's --repo (a plain path) and --cache over source: */
	{
		char *cache = xasprintf("%s/cache-cli", tmpdir);

		labad_run_ipamctl(&res, "reconcile", "-c", local_cfg, "--repo",
				  bare, "--ref", "main", "--cache", cache,
				  NULL);
		free(cache);
	}
	labad_expect_exit(&res, 1, "ipamctl reconcile (commit B, broken YAML)");
	where = xasprintf("%s:ipamctl.yaml:%s: ", b12, bad_pos);
	lines = lab_lines(res.err, NULL);
	for (size_t i = 0; lines[i]; i++)
		if (starts_with(lines[i], where) &&
		    strstr(lines[i], "YAML syntax error"))
			found = true;
	if (!found)
		fail_msg("no diagnostic '%sYAML syntax error…' (the position "
			 "PyYAML finds) naming commit B:\n%s",
			 where, lab_run_describe(&res, "ipamctl reconcile"));
	lab_strv_free(lines);
	diag = xasprintf("the desired state at commit %s is invalid: %s", b12,
			 where);
	if (!strstr(res.err, diag))
		fail_msg("stderr does not say '%s':\n%s", diag, res.err);
	if (strstr(res.out, "Plan:") || strstr(res.out, "Apply"))
		fail_msg("an invalid commit was planned or applied:\n%s",
			 res.out);
	lab_run_free(&res);
	/* AD untouched: no write at all, and dhcp1 not in the filter */
	after = ad_snapshot();
	if (strcmp(before, after))
		fail_msg("AD changed under an invalid commit:\nbefore:\n%s\n"
			 "after:\n%s",
			 before, after);
	assert_false(dhcp1_filtered());
	/* recorded: a failed run for B, with the error; A stays applied */
	r = find_run(&v, &n, last, NULL, NULL);
	if (!r || (n > 1 && v[1].id > last) || !r->commit ||
	    strcmp(r->commit, sha[C_B]) || strcmp(r->outcome, "failed") ||
	    !r->error || !strstr(r->error, where)) {
		char *t = runs_text(v, n);

		fail_msg("expected one new run, failed, commit %s, its error "
			 "naming %s:\n%s",
			 sha[C_B], where, t);
	}
	run = r->id;
	/* the failed run names who made the broken commit */
	expect_run_author(r, "commit B");
	runs_free(v, n);
	{
		struct run *w;
		size_t m;
		const struct run *a = find_run(&w, &m, 0, sha[C_A], NULL);

		expect_status(sha[C_A], a ? a->id : 0, sha[C_B], "failed",
			      "commit B");
		runs_free(w, m);
	}
	/* source_invalid naming B, to LOCAL's webhook and to the one of
	 * the last applied commit (A, read again from the git cache) */
	{
		char *still = xasprintf("; still in force: %.12s; nothing "
					"applied",
					sha[C_A]);
		expect_source_invalid("/local", sha[C_B], run, diag, still,
				      "commit B");
		free(still);
	}
	free(before);
	free(after);
	free(diag);
	free(where);
	free(b12);
	printf("(3) commit B refused at %s: %.1f s\n", bad_pos,
	       labad_now_s() - t0);
}

/* ---- (4) the fix, with --dry-run ---------------------------------------- */

static void test_4_dry_run_applies_nothing(void **state)
{
	struct lab_run res;
	char *before, *after;
	long long last = max_run_id();
	double t0 = labad_now_s();

	(void)state;
	before = ad_snapshot();
	make_commit(C_C, V_C, "make dhcp1 managed", NULL);
	labad_run_ipamctl(&res, "reconcile", "-c", local_cfg, "--dry-run",
			  NULL);
	labad_expect_exit(&res, 2, "ipamctl reconcile --dry-run (commit C)");
	if (!strstr(res.out, "filter_add") || !strstr(res.out, DHCP1) ||
	    strstr(res.out, "Apply complete") ||
	    strstr(res.out, "Apply stopped"))
		fail_msg("the dry run should plan dhcp1's filter_add and "
			 "apply nothing:\n%s",
			 res.out);
	lab_run_free(&res);
	after = ad_snapshot();
	if (strcmp(before, after))
		fail_msg("AD changed under --dry-run:\nbefore:\n%s\nafter:\n%s",
			 before, after);
	assert_false(dhcp1_filtered());
	/* no drift, nothing applied: nothing to tell */
	expect_hooks(NULL, 0, "reconcile --dry-run");
	/* the run is recorded with its commit... */
	{
		struct run *v;
		size_t n;
		const struct run *r = find_run(&v, &n, last, sha[C_C], NULL);

		if (!r || r->done >= 0) {
			char *t = runs_text(v, n);

			fail_msg("the dry run of C: no run recorded, or one "
				 "with actions done:\n%s",
				 t);
		}
		runs_free(v, n);
	}
	/* ...but nothing of C was applied: status must still name A */
	{
		struct run *w;
		size_t m;
		const struct run *a = find_run(&w, &m, 0, sha[C_A], NULL);
		long long id = a ? a->id : 0;

		runs_free(w, m);
		expect_status(sha[C_A], id, sha[C_C], NULL,
			      "reconcile --dry-run of commit C");
	}
	free(before);
	free(after);
	printf("(4) dry run of commit C: %.1f s\n", labad_now_s() - t0);
}

/* ---- (5) the fix applies ------------------------------------------------ */

static void test_5_fix_applies(void **state)
{
	struct lab_run res;
	struct run *v;
	size_t n;
	const struct run *r;
	long long done, run, last = max_run_id();
	char *summary, *show;
	double t0 = labad_now_s();

	(void)state;
	if (!sha[C_C])
		make_commit(C_C, V_C, "make dhcp1 managed", NULL);
	labad_run_ipamctl(&res, "reconcile", "-c", local_cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl reconcile (commit C)");
	done = applied_count(&res, "ipamctl reconcile (commit C)");
	if (done <= 0)
		fail_msg("commit C applied nothing:\n%s", res.out);
	lab_run_free(&res);
	/* dhcp1 in IPAM1_DHCP's security filtering, read from the DACL */
	assert_true(dhcp1_filtered());
	r = find_run(&v, &n, last, sha[C_C], "succeeded");
	if (!r || r->done != done) {
		char *t = runs_text(v, n);

		fail_msg("no succeeded run of commit C with %lld done:\n%s",
			 done, t);
	}
	run = r->id;
	runs_free(v, n);
	/* its journal has dhcp1's filter_add */
	show = xasprintf("%lld", run);
	labad_run_ipamctl(&res, "history", "--db", db_uri, "show", show, "-o",
			  "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl history show");
	{
		struct ipam_node *root =
			labad_parse_json(res.out, res.out_len, "history show");
		const struct ipam_node *acts = labad_jkey(root, "actions");
		bool found = false;

		for (size_t i = 0; acts && i < acts->nr; i++) {
			const char *k = labad_jstr(acts->items[i], "kind");
			const char *t = labad_jstr(acts->items[i], "target");
			const char *s = labad_jstr(acts->items[i], "state");

			if (k && t && s && !strcmp(k, "filter_add") &&
			    labad_ci_strstr(t, DHCP1) && !strcmp(s, "done"))
				found = true;
		}
		if (!found)
			fail_msg("run %lld: no filter_add of %s done:\n%s", run,
				 DHCP1, res.out);
		ipam_node_free(root);
	}
	lab_run_free(&res);
	summary = xasprintf("ipamctl: applied %lld action", done);
	{
		struct want w[] = {{.path = "/hook",
				    .event = "applied",
				    .secret = hook_secret,
				    .commit = sha[C_C],
				    .run = run,
				    .summary_has = {summary}}};

		expect_hooks(w, 1, "commit C");
	}
	expect_status(sha[C_C], run, sha[C_C], "succeeded", "commit C");
	free(summary);
	free(show);
	printf("(5) commit C applied (%lld actions): %.1f s\n", done,
	       labad_now_s() - t0);
}

/* ---- (6) the --every loop ----------------------------------------------- */

static void test_6_every_loop(void **state)
{
	char *loop_cfg = xasprintf("%s/loop.yaml", tmpdir);
	const char *argv[] = {labad_ipamctl(), "reconcile", "-c",
			      loop_cfg,	       "--every",   "2s",
			      "--jitter",      "0%",	    NULL};
	struct bg b = {0};
	long long first, drift_run, last, e_run;
	char *c12, *d12, *e, *hup, *fetch_c, *where, *diag, *still;
	size_t fetches, n;
	double t0 = labad_now_s(), took;
	struct run *v;
	const struct run *r;

	(void)state;
	if (!sha[C_C])
		make_commit(C_C, V_C, "make dhcp1 managed", NULL);
	c12 = abbrev(C_C);
	labad_need_gpos(&F[1], true);
	write_local(loop_cfg, "main", "/loop");
	last = max_run_id();
	bg_start(&b, "loop", argv);

	/* a first cycle: C again, nothing to do */
	wait_stderr(&b, "ipamctl: next cycle in 2 s", 1, 60);
	first = wait_run(&b, last, sha[C_C], "no_changes", 5);

	/* drift: corp's IPAM1_DNS link deleted by hand; a later cycle
	 * reports it and puts the link back */
	{
		const char *args[] = {"gpo", "dellink", F[1].dn,
				      F[1].guid[GPO_DNS], NULL};
		struct lab_run res;

		labad_samba_tool_ok(1, args, &res);
		lab_run_free(&res);
	}
	drift_run = wait_run(&b, first, sha[C_C], "succeeded", 60);
	r = find_run(&v, &n, drift_run - 1, sha[C_C], "succeeded");
	if (!r || r->drift < 1 || r->done < 1) {
		char *t = runs_text(v, n);

		bg_fail(&b, t);
	}
	{
		char *drift_sum = xasprintf("ipamctl: drift found: %lld action",
					    r->drift);
		char *applied_sum =
			xasprintf("ipamctl: applied %lld action", r->actions);
		struct want w[] = {{.path = "/hook",
				    .event = "drift",
				    .secret = hook_secret,
				    .commit = sha[C_C],
				    .run = drift_run,
				    .summary_has = {drift_sum}},
				   {.path = "/hook",
				    .event = "applied",
				    .secret = hook_secret,
				    .commit = sha[C_C],
				    .run = drift_run,
				    .summary_has = {applied_sum}}};

		runs_free(v, n);
		/* the drift cycle has notified: its run has ended */
		expect_hooks(w, 2, "the loop's drift cycle");
		free(drift_sum);
		free(applied_sum);
	}
	{
		static const char *const attrs[] = {"gPLink", NULL};
		struct lab_run res;
		char *link = xasprintf("CN=%s,CN=Policies", F[1].guid[GPO_DNS]);

		labad_ldap_search(1, F[1].dn, "base", "(objectClass=*)", attrs,
				  &res);
		if (!labad_ci_strstr(res.out, link))
			fail_msg("the loop did not link IPAM1_DNS again:\n%s",
				 res.out);
		lab_run_free(&res);
		free(link);
	}

	/* SIGHUP with the -c file broken: the configuration in use stays,
	 * and the loop goes on fetching from its source */
	{
		static const char broken[] = "version: 1\nipamServer: [oops\n";

		assert_int_equal(
			lab_write_file(loop_cfg, broken, sizeof(broken) - 1),
			0);
	}
	assert_int_equal(kill(b.pid, SIGHUP), 0);
	hup = xasprintf("SIGHUP: %s is invalid: keeping the configuration in "
			"use",
			loop_cfg);
	wait_stderr(&b, hup, 1, 30);
	e = bg_text(&b, true);
	fetch_c = xasprintf("ipamctl: desired state: %s at %s", repo_url, c12);
	fetches = count_of(e, fetch_c);
	free(e);
	wait_stderr(&b, fetch_c, fetches + 1, 30);
	e = bg_text(&b, true);
	if (!strstr(strstr(e, hup), fetch_c))
		bg_fail(&b, "no cycle from the kept configuration after "
			    "SIGHUP");
	free(e);

	/* commit D (broken): each cycle fails, notifies the kept
	 * configuration's webhook, and names C as still in force */
	last = max_run_id();
	make_commit(C_D, V_B, "break ipamServer again", NULL);
	d12 = abbrev(C_D);
	/* two failed cycles, then the fix */
	wait_run(&b, wait_run(&b, last, sha[C_D], "failed", 30), sha[C_D],
		 "failed", 30);
	make_commit(C_E, V_E, "fix ipamServer", NULL);
	e_run = wait_run(&b, last, sha[C_E], "no_changes", 60);
	where = xasprintf("%s:ipamctl.yaml:%s: ", d12, bad_pos);
	diag = xasprintf("the desired state at commit %s is invalid: %s", d12,
			 where);
	still = xasprintf("; still in force: %s; nothing applied", c12);
	{
		long long ids[64];
		size_t nids = 0;
		unsigned got = req_count() - hook_mark;
		long long hook_ids[64];
		struct want w = {.path = "/loop",
				 .event = "source_invalid",
				 .secret = local_secret,
				 .commit = sha[C_D],
				 .runs = ids,
				 .summary_has = {diag},
				 .summary_end = still};
		/* and the webhook of C, the good state the loop keeps */
		struct want wh = {.path = "/hook",
				  .event = "source_invalid",
				  .secret = hook_secret,
				  .commit = sha[C_D],
				  .runs = hook_ids,
				  .summary_has = {diag},
				  .summary_end = still};

		r = find_run(&v, &n, last, NULL, NULL);
		for (size_t i = 0; i < n; i++)
			if (v[i].id > last && v[i].id < e_run && nids < 64 &&
			    v[i].commit && !strcmp(v[i].commit, sha[C_D]) &&
			    !strcmp(v[i].outcome, "failed"))
				ids[nids++] = v[i].id;
		runs_free(v, n);
		w.nr_runs = nids;
		wh.nr_runs = nids;
		memcpy(hook_ids, ids, sizeof(ids));
		/* two notifications per failed cycle, each its own run */
		if (nids < 2 || got != 2 * nids) {
			char *t = reqs_text(hook_mark, hook_mark + got);

			fail_msg("%zu failed cycles of commit D, %u requests "
				 "(two each expected: /loop and /hook):\n%s",
				 nids, got, t);
		}
		for (unsigned i = 0; i < got; i++) {
			struct req q;
			struct want *x;
			long long id, *left;

			req_load(&q, hook_mark + i);
			x = !strcmp(q.path, "/hook") ? &wh : &w;
			left = x == &wh ? hook_ids : ids;
			id = verify_req(&q, x, "the loop, commit D");
			for (size_t j = 0; j < nids; j++)
				if (left[j] == id)
					left[j] = -1; /* once each */
			req_free(&q);
		}
		for (size_t j = 0; j < nids; j++)
			if (ids[j] != -1 || hook_ids[j] != -1)
				fail_msg("failed run of D not notified to "
					 "both webhooks");
		hook_mark += got;
	}
	/* (the loop goes on: later runs of E may be there too) */
	expect_status(sha[C_E], 0, sha[C_E], "no_changes",
		      "the loop, commit E");

	/* SIGTERM in the middle of a cycle (just after its fetch, while it
	 * discovers): the step in progress finishes, exit 0, nothing open */
	e = bg_text(&b, true);
	fetches = count_of(e, "ipamctl: desired state: ");
	free(e);
	wait_stderr(&b, "ipamctl: desired state: ", fetches + 1, 30);
	took = bg_stop(&b, SIGTERM, 30);
	runs_closed(b.pid, 6, "the --every 2s loop");
	r = find_run(&v, &n, e_run, NULL, NULL);
	if (!r || !r->commit || strcmp(r->commit, sha[C_E]) ||
	    (strcmp(r->outcome, "no_changes") &&
	     strcmp(r->outcome, "interrupted"))) {
		char *t = runs_text(v, n);

		fail_msg("the cycle SIGTERM interrupted should be recorded, "
			 "no_changes or interrupted, for commit E:\n%s",
			 t);
	}
	printf("the cycle SIGTERM interrupted: run %lld, %s\n", r->id,
	       r->outcome);
	runs_free(v, n);
	e = bg_text(&b, true);
	printf("(6) --every 2s: %zu cycles, %zu 'next cycle' waits, stopped "
	       "%.1f s after SIGTERM: %.1f s\n",
	       count_of(e, "ipamctl: desired state: "),
	       count_of(e, "ipamctl: next cycle in 2 s"), took,
	       labad_now_s() - t0);
	free(e);
	/* nothing after the stop */
	expect_hooks(NULL, 0, "after the loop stopped");
	bg_free(&b);
	free(where);
	free(diag);
	free(still);
	free(fetch_c);
	free(hup);
	free(d12);
	free(c12);
	free(loop_cfg);
}

/* ---- (7) SIGHUP re-reads a valid -c, SIGUSR1 runs a cycle now ----------- */

static void test_7_reload_and_run_now(void **state)
{
	char *cfg = xasprintf("%s/hourly.yaml", tmpdir);
	const char *argv[] = {labad_ipamctl(), "reconcile", "-c", cfg,
			      "--every",       "1h",	    NULL};
	struct bg b = {0};
	long long last = max_run_id(), run;
	char *reread, *b12, *where, *diag, *still, *head12, *e;
	const char *head;
	double t0 = labad_now_s(), t_usr1, took;

	(void)state;
	assert_non_null(sha[C_B]);
	head = sha[C_E] ? sha[C_E] : sha[C_C];
	assert_non_null(head);
	head12 = xstrndup(head, ABBREV);
	write_local(cfg, "main", "/hourly");
	bg_start(&b, "hourly", argv);
	wait_stderr(&b, "ipamctl: next cycle in 3600 s", 1, 60);
	wait_run(&b, last, head, "no_changes", 5);

	/* a valid -c: another ref (the broken branch), another webhook */
	write_local(cfg, "broken", "/reloaded");
	assert_int_equal(kill(b.pid, SIGHUP), 0);
	reread = xasprintf("SIGHUP: configuration %s re-read", cfg);
	wait_stderr(&b, reread, 1, 10);
	/* A reload keeps the cycle's due time: no new wait is announced
	 * (a HUP must not put the next cycle off), and no cycle runs. */
	sleep_s(1);
	e = bg_text(&b, true);
	if (count_of(e, "ipamctl: desired state: ") != 1)
		bg_fail(&b, "SIGHUP ran a cycle");
	if (count_of(e, "ipamctl: next cycle in ") != 1)
		bg_fail(&b, "SIGHUP restarted the wait");
	free(e);

	/* SIGUSR1: a cycle now, from the re-read configuration */
	t_usr1 = labad_now_s();
	assert_int_equal(kill(b.pid, SIGUSR1), 0);
	run = wait_run(&b, last, sha[C_B], "failed", 20);
	wait_stderr(&b, "ipamctl: next cycle in 3600 s", 2, 20);
	took = labad_now_s() - t_usr1;
	b12 = abbrev(C_B);
	where = xasprintf("%s:ipamctl.yaml:%s: ", b12, bad_pos);
	diag = xasprintf("the desired state at commit %s is invalid: %s", b12,
			 where);
	still = xasprintf("; still in force: %s; nothing applied", head12);
	{
		/* the re-read -c's webhook, and the one of the good state
		 * the loop keeps (head's), once each */
		expect_source_invalid("/reloaded", sha[C_B], run, diag, still,
				      "SIGUSR1 after SIGHUP");
	}
	/* SIGINT during the wait: at once, as SIGTERM */
	{
		double stop = bg_stop(&b, SIGINT, 10);

		if (stop > 3)
			bg_fail(&b, "slow to stop in its wait");
		runs_closed(b.pid, 2, "the --every 1h loop");
		printf("(7) SIGUSR1 cycle in %.1f s, stopped %.1f s after "
		       "SIGINT: %.1f s\n",
		       took, stop, labad_now_s() - t0);
	}
	bg_free(&b);
	free(reread);
	free(b12);
	free(where);
	free(diag);
	free(still);
	free(head12);
	free(cfg);
}

/* ---- (8) suspend: true; one database for every run -------------------- */

static void test_8_suspend_and_one_database(void **state)
{
	struct lab_run res;
	struct run *v;
	size_t n;
	const struct run *r;
	struct stat st;
	char *before, *after, *g12, *head12, *still, *bad, *same_cfg;
	const char *head = sha[C_E] ? sha[C_E] : sha[C_C];
	long long last = max_run_id(), frun, grun;
	double t0 = labad_now_s();

	(void)state;
	assert_non_null(head);
	head12 = xstrndup(head, ABBREV);
	assert_true(dhcp1_filtered());
	before = ad_snapshot();
	/* dhcp1 unmanaged -- but suspended, and naming another database,
	 * which the local configuration's database: overrides */
	make_commit(C_F, V_F, "unmanage dhcp1, suspended, another database",
		    NULL);
	labad_run_ipamctl(&res, "reconcile", "-c", local_cfg, NULL);
	labad_expect_exit(&res, 2, "ipamctl reconcile (commit F, suspend)");
	if (!strstr(res.out, "filter_remove") ||
	    !labad_ci_strstr(res.out, DHCP1) || strstr(res.out, "Apply "))
		fail_msg("suspend: true should plan dhcp1's filter_remove and "
			 "apply nothing:\n%s",
			 lab_run_describe(&res, "ipamctl reconcile"));
	if (!strstr(res.err, "suspend: true in the desired state: planned "
			     "and reported, nothing applied"))
		fail_msg("no word of suspend: true:\n%s", res.err);
	lab_run_free(&res);
	after = ad_snapshot();
	if (strcmp(before, after))
		fail_msg("AD changed under suspend: true:\nbefore:\n%s\n"
			 "after:\n%s",
			 before, after);
	assert_true(dhcp1_filtered());
	/* recorded as report-only, in the local configuration's database */
	r = find_run(&v, &n, last, sha[C_F], NULL);
	if (!r || strcmp(r->command, "reconcile-report") ||
	    strcmp(r->outcome, "succeeded") || r->actions < 1 || r->done >= 0) {
		char *t = runs_text(v, n);

		fail_msg("expected a reconcile-report run of commit F with "
			 "actions planned and none done:\n%s",
			 t);
	}
	frun = r->id;
	expect_run_author(r, "commit F (suspend)");
	runs_free(v, n);
	if (!stat(elsewhere_db, &st))
		fail_msg("%s was made: the repository's database: won over "
			 "the local one",
			 elsewhere_db);
	/* no drift, nothing applied: nothing to tell */
	expect_hooks(NULL, 0, "suspend: true");
	expect_status(head, 0, sha[C_F], "succeeded", "suspend: true");

	/* a broken commit after it: its run lands in the same database.
	 * The local configuration's webhook is the repository's own URL
	 * this time: it is told once (signed with the local secret) */
	same_cfg = xasprintf("%s/same-hook.yaml", tmpdir);
	write_local(same_cfg, "main", "/hook");
	make_commit(C_G, V_B, "break ipamServer once more", NULL);
	g12 = abbrev(C_G);
	labad_run_ipamctl(&res, "reconcile", "-c", same_cfg, NULL);
	labad_expect_exit(&res, 1, "ipamctl reconcile (commit G, broken)");
	lab_run_free(&res);
	n = load_runs(&v);
	{
		bool f_there = false, g_there = false;

		for (size_t i = 0; i < n; i++) {
			f_there |= v[i].id == frun;
			g_there |= v[i].id > frun && v[i].commit &&
				   !strcmp(v[i].commit, sha[C_G]) &&
				   !strcmp(v[i].outcome, "failed");
		}
		if (!f_there || !g_there) {
			char *t = runs_text(v, n);

			fail_msg("the runs of F (a cycle) and G (a broken "
				 "commit) should both be in %s:\n%s",
				 db_path, t);
		}
	}
	runs_free(v, n);
	r = find_run(&v, &n, frun, sha[C_G], "failed");
	grun = r->id;
	expect_run_author(r, "commit G (broken)");
	runs_free(v, n);
	if (!stat(elsewhere_db, &st))
		fail_msg("%s was made by the broken commit's run",
			 elsewhere_db);
	bad = xasprintf("the desired state at commit %s is invalid", g12);
	still = xasprintf("; still in force: %s; nothing applied", head12);
	{
		struct want w[] = {{.path = "/hook",
				    .event = "source_invalid",
				    .secret = local_secret,
				    .commit = sha[C_G],
				    .run = grun,
				    .summary_has = {bad},
				    .summary_end = still}};

		expect_hooks(w, 1, "commit G, one webhook URL in both lists");
	}
	expect_status(head, 0, sha[C_G], "failed", "commit G");
	free(same_cfg);
	free(bad);
	free(still);
	free(g12);
	free(head12);
	free(before);
	free(after);
	printf("(8) suspend, then a broken commit, one database: %.1f s\n",
	       labad_now_s() - t0);
}

/* ---- (9) a plan over safety.maxRemovals is refused, and told ----------- */

static void test_9_refused(void **state)
{
	struct lab_run res;
	struct run *v;
	size_t n;
	const struct run *r;
	char *before, *after;
	const char *head = sha[C_E] ? sha[C_E] : sha[C_C];
	long long last = max_run_id(), run;
	double t0 = labad_now_s();

	(void)state;
	assert_true(dhcp1_filtered());
	before = ad_snapshot();
	make_commit(C_H, V_G, "unmanage dhcp1 (more removals than allowed)",
		    NULL);
	labad_run_ipamctl(&res, "reconcile", "-c", local_cfg, NULL);
	labad_expect_exit(&res, 1, "ipamctl reconcile (over maxRemovals)");
	if (!strstr(res.err, "refused: the plan removes") ||
	    !strstr(res.err, "safety.maxRemovals 0") ||
	    strstr(res.out, "Apply "))
		fail_msg("expected a refusal over safety.maxRemovals 0, "
			 "nothing applied:\n%s",
			 lab_run_describe(&res, "ipamctl reconcile"));
	lab_run_free(&res);
	after = ad_snapshot();
	if (strcmp(before, after))
		fail_msg("AD changed under a refused plan:\nbefore:\n%s\n"
			 "after:\n%s",
			 before, after);
	assert_true(dhcp1_filtered());
	r = find_run(&v, &n, last, sha[C_H], NULL);
	if (!r || strcmp(r->command, "reconcile") ||
	    strcmp(r->outcome, "refused")) {
		char *t = runs_text(v, n);

		fail_msg("expected a refused reconcile run of commit H:\n%s",
			 t);
	}
	run = r->id;
	expect_run_author(r, "commit H (refused)");
	runs_free(v, n);
	{
		struct want w[] = {{.path = "/hook",
				    .event = "refused",
				    .secret = hook_secret,
				    .commit = sha[C_H],
				    .run = run,
				    .summary_has = {"refused: the plan removes",
						    "safety.maxRemovals 0"}}};

		expect_hooks(w, 1, "commit H (refused)");
	}
	expect_status(head, 0, sha[C_H], "refused", "commit H");
	free(before);
	free(after);
	printf("(9) refused over maxRemovals: %.1f s\n", labad_now_s() - t0);
}

/* ---- (10) no request went unverified ------------------------------------ */

static void test_10_every_request_verified(void **state)
{
	unsigned n = req_count();
	int st;

	(void)state;
	if (n != hook_mark) {
		char *t = reqs_text(hook_mark, n);

		fail_msg("%u requests were never expected:\n%s", n - hook_mark,
			 t);
	}
	/* and the receiver is still there: no request was refused */
	if (hook_pid <= 0 || waitpid(hook_pid, &st, WNOHANG) != 0)
		fail_msg("the webhook receiver died");
	printf("(10) %u webhook requests, each verified\n", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_valid_commit_applies),
		cmocka_unit_test(test_2_marks_name_the_repository),
		cmocka_unit_test(test_3_invalid_commit_applies_nothing),
		cmocka_unit_test(test_4_dry_run_applies_nothing),
		cmocka_unit_test(test_5_fix_applies),
		cmocka_unit_test(test_6_every_loop),
		cmocka_unit_test(test_7_reload_and_run_now),
		cmocka_unit_test(test_8_suspend_and_one_database),
		cmocka_unit_test(test_9_refused),
		cmocka_unit_test(test_10_every_request_verified),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
