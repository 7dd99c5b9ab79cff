/*
 * ipamctl collect --task audit against the lab's audit file server
 * (\\dhcp1.corp.example.test\dhcpaudit), as the IPAM identity ipam1$.
 * After db init, discover, apply and verify with every server managed
 * and dhcp1's timeZone Europe/Berlin, with an old-format (seven-column)
 * log and an IPv6 log put on the share beside the lab's fixtures:
 *  (1) collect imports every event of the share's files; track --ip,
 *      --mac (in other notations, DUIDs too) and --host return exactly
 *      the events this test computes itself from the files fetched with
 *      smbclient, parsed here and turned into UTC by glibc with the
 *      server's zone; the local time is as the log wrote it;
 *  (2) new events appended to a log over SMB (as the share's
 *      administrator, Samba's Python bindings) with a malformed line and an
 *      incomplete last line: the next collect imports only the complete
 *      new lines, reports the malformed one as SERVER:FILE:LINE;
 *  (3) the incomplete line finished and a weekday file overwritten with
 *      a new week's content: the next collect reads that file again from
 *      its start once (rewritten 1), keeps the old week's events, and
 *      imports nothing twice; one more collect imports nothing;
 *  (4) each collect is a run in `history` with its counts;
 *  (5) a collect of a 250,000-line log killed (SIGKILL) after its first
 *      batch was committed: the next collect imports exactly the rest,
 *      every line once;
 *  (6) ipam1$ taken out of IPAMUG: collect says access denied for
 *      IPAM1$ and keeps what it had collected.
 * At the end the share has its fixtures back and the GPOs this test
 * made are removed.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

#define ZONE "Europe/Berlin"
/* The generated log of test 5. */
#define BIG "DhcpSrvLog-Fri.log"

static struct labad_forest F[3];
static char *tmpdir, *db_path, *cfg;
static const char *keytab, *principal, *host;

/* ---- the desired state -------------------------------------------------- */

/* The lab's desired state with our database, every server managed,
 * dhcp1 in Europe/Berlin, the identity ipam1$ from the lab's keytab. */
static char *write_config(void)
{
	char *src =
		xasprintf("%s/ipamctl.yaml", lab_need_env("IPAM_LAB_CONFIG"));
	char *text = lab_need_file(src, NULL);
	char *dir = xasprintf("%s/config", tmpdir), *path;
	struct strbuf out = STRBUF_INIT;
	bool skipping = false;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len && p[0] != ' ' && p[0] != '#')
			skipping = !strncmp(p, "identity:", 9);
		if (!strncmp(p, "database:", 9))
			strbuf_addf(&out, "database: %s%s\n",
				    test_db_is_pg() ? "" : "sqlite:", db_path);
		else if (len > 26 && !strncmp(p + len - 26,
					      "manageability: unspecified", 26))
			strbuf_addf(&out, "%.*smanageability: managed\n",
				    (int)(len - 26), p);
		else if (!skipping) {
			strbuf_add(&out, p, len);
			strbuf_addch(&out, '\n');
		}
		if (len == 8 && !strncmp(p, "servers:", 8))
			strbuf_addf(&out,
				    "  - name: %s\n"
				    "    manageability: managed\n"
				    "    timeZone: " ZONE "\n",
				    host);
		p += len + (eol ? 1 : 0);
	}
	strbuf_addf(&out,
		    "identity:\n  keytab: %s\n  principal: %s\n  timeout: 20\n",
		    keytab, principal);
	assert_int_equal(mkdir(dir, 0700), 0);
	path = xasprintf("%s/ipamctl.yaml", dir);
	assert_int_equal(lab_write_file(path, out.buf, out.len), 0);
	free(path);
	strbuf_release(&out);
	free(text);
	free(src);
	return dir;
}

#define IPAMCTL_OK(what, ...)                                                  \
	do {                                                                   \
		struct lab_run r_;                                             \
		labad_run_ipamctl(&r_, __VA_ARGS__, NULL);                     \
		labad_expect_exit(&r_, 0, what);                               \
		lab_run_free(&r_);                                             \
	} while (0)

/* ---- the share, as its administrator ------------------------------------ */

static void smb_admin(const char *command, struct lab_run *res)
{
	char service[256];
	const char *argv[] = {
		"smbclient", service,
		"-A",	     lab_need_env("IPAM_LAB_AUDIT_ADMIN_AUTH_FILE"),
		"-c",	     command,
		NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};

	snprintf(service, sizeof(service), "//%s/%s", host,
		 lab_need_env("IPAM_LAB_AUDIT_SHARE"));
	lab_must_run(argv, &o, res);
}

static void smb_admin_ok(const char *fmt, ...)
{
	char cmd[2048];
	struct lab_run res;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	smb_admin(cmd, &res);
	if (res.exit_code != 0 || strstr(res.out, "NT_STATUS_"))
		fail_msg("%s", lab_run_describe(&res, cmd));
	lab_run_free(&res);
}

/* A file of the share, as smbclient gets it. */
static char *fetch(const char *name, size_t *len)
{
	char *local = xasprintf("%s/fetched", tmpdir), *text;

	unlink(local);
	smb_admin_ok("get %s %s", name, local);
	text = lab_read_file(local, 64 * 1024 * 1024, len);
	assert_non_null(text);
	free(local);
	return text;
}

static void put_file(const char *local, const char *name)
{
	smb_admin_ok("put %s %s", local, name);
}

/*
 * Append to a file of the share as the DHCP server does: written at its
 * end over SMB, by Samba's Python bindings as the share's administrator
 * (smbclient 4.17's reput writes the missing tail at offset 0).
 */
static const char append_py[] =
	"import sys\n"
	"from samba.samba3 import libsmb_samba_internal as libsmb\n"
	"from samba.samba3 import param as s3param\n"
	"from samba import credentials\n"
	"host, share, auth, name, local = sys.argv[1:6]\n"
	"kv = dict(l.split(' = ', 1) for l in open(auth).read().splitlines()\n"
	"          if ' = ' in l)\n"
	"lp = s3param.get_context()\n"
	"lp.load_default()\n"
	"c = credentials.Credentials()\n"
	"c.guess(lp)\n"
	"c.set_username(kv['username'])\n"
	"c.set_password(kv['password'])\n"
	"c.set_domain(kv['domain'])\n"
	"conn = libsmb.Conn(host, share, lp, c)\n"
	"size = [e['size'] for e in conn.list('', name)][0]\n"
	"data = open(local, 'rb').read()\n"
	"f = conn.create(name, DesiredAccess=0x00120196, CreateDisposition=1)\n"
	"conn.write(f, data, size)\n"
	"conn.close(f)\n";

static void append(const char *name, const char *data)
{
	size_t len;
	char *text = fetch(name, &len);
	char *local = xasprintf("%s/append", tmpdir);
	struct strbuf sb = STRBUF_INIT;
	const char *argv[] = {"/usr/bin/python3",
			      "-c",
			      append_py,
			      host,
			      lab_need_env("IPAM_LAB_AUDIT_SHARE"),
			      lab_need_env("IPAM_LAB_AUDIT_ADMIN_AUTH_FILE"),
			      name,
			      local,
			      NULL};
	struct lab_run res;

	strbuf_add(&sb, text, len);
	strbuf_addstr(&sb, data);
	unlink(local);
	assert_int_equal(lab_write_file(local, data, strlen(data)), 0);
	lab_must_succeed(argv, NULL, &res);
	lab_run_free(&res);
	free(text);
	text = fetch(name, &len);
	assert_int_equal(len, sb.len);
	assert_memory_equal(text, sb.buf, len);
	strbuf_release(&sb);
	free(local);
	free(text);
}

/* ---- what the test expects, from the files themselves -------------------- */

struct xev {
	char *file;
	int gen;
	long line;
	char at[32], local[32];
	int id;
	char *ip, *client, *host;
};

static struct xev *X;
static size_t NX, alloc_x;

static char *norm_hex(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++)
		if (isxdigit((unsigned char)*s))
			strbuf_addch(&sb, (char)tolower((unsigned char)*s));
	return strbuf_detach(&sb, NULL);
}

static char *lower(const char *s)
{
	char *r = xstrdup(s);
	size_t n = strlen(r);

	for (size_t i = 0; i < n; i++)
		r[i] = (char)tolower((unsigned char)r[i]);
	if (n && r[n - 1] == '.')
		r[n - 1] = '\0';
	return r;
}

static bool known(const char *file, int gen, long line)
{
	for (size_t i = 0; i < NX; i++)
		if (X[i].gen == gen && X[i].line == line &&
		    !strcmp(X[i].file, file))
			return true;
	return false;
}

/* glibc's mktime in the server's zone. */
static void utc_of(char out[32], int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = s,
			.tm_isdst = -1};
	time_t t;

	setenv("TZ", ZONE, 1);
	tzset();
	t = mktime(&tm);
	unsetenv("TZ");
	tzset();
	assert_true(t != (time_t)-1);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

/* Split a CSV line (no quoting in these logs) into at most max fields. */
static size_t split(char *s, char **f, size_t max)
{
	size_t n = 0;

	for (;;) {
		char *c = strchr(s, ',');

		if (n < max)
			f[n++] = s;
		if (!c)
			return n;
		*c = '\0';
		s = c + 1;
	}
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '.'))
		*--e = '\0';
	return s;
}

/* Column numbers of the fields the test compares. */
struct cols {
	int id, date, time, ip, host, client, n;
};

static void take_columns(struct cols *c, char *line)
{
	char *f[64];
	size_t n = split(line, f, 64);

	memset(c, -1, sizeof(*c));
	c->n = (int)n;
	for (size_t i = 0; i < n; i++) {
		const char *name = trim(f[i]);

		if (!strcasecmp(name, "ID"))
			c->id = (int)i;
		else if (!strcasecmp(name, "Date"))
			c->date = (int)i;
		else if (!strcasecmp(name, "Time"))
			c->time = (int)i;
		else if (!strcasecmp(name, "IP Address") ||
			 !strcasecmp(name, "IPv6 Address"))
			c->ip = (int)i;
		else if (!strcasecmp(name, "Host Name"))
			c->host = (int)i;
		else if (!strcasecmp(name, "MAC Address") ||
			 !strcasecmp(name, "Duid Bytes(Hex)"))
			c->client = (int)i;
	}
}

/* One event line; false when it is malformed. */
static bool take_event(const struct cols *c, char *line, const char *file,
		       int gen, long no)
{
	char *f[64], tail[2];
	size_t n = split(line, f, 64);
	int mo, d, y, h, mi, s, id;
	struct xev *e;

	if ((int)n != c->n || sscanf(f[c->id], "%d%1s", &id, tail) != 1 ||
	    sscanf(f[c->date], "%d/%d/%d%1s", &mo, &d, &y, tail) != 3 ||
	    sscanf(f[c->time], "%d:%d:%d%1s", &h, &mi, &s, tail) != 3 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
		return false;
	if (known(file, gen, no))
		return true;
	ALLOC_GROW(X, NX + 1, alloc_x);
	e = &X[NX++];
	memset(e, 0, sizeof(*e));
	e->file = xstrdup(file);
	e->gen = gen;
	e->line = no;
	e->id = id;
	y += y < 100 ? 2000 : 0;
	utc_of(e->at, y, mo, d, h, mi, s);
	snprintf(e->local, sizeof(e->local), "%04d-%02d-%02dT%02d:%02d:%02d", y,
		 mo, d, h, mi, s);
	e->ip = lower(f[c->ip]);
	e->host = lower(f[c->host]);
	e->client = norm_hex(f[c->client]);
	return true;
}

/* The complete lines of a file's text, generation gen: events not seen
 * yet are added; the malformed lines' numbers go to bad (may be NULL). */
static void ingest(const char *file, const char *text, size_t len, int gen,
		   long *bad)
{
	struct cols c = {.n = 0};
	long no = 0;

	for (const char *p = text, *end = text + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char *line;
		size_t l;

		if (!eol)
			break; /* incomplete: not yet an event */
		l = (size_t)(eol - p);
		line = xstrndup(p, l && p[l - 1] == '\r' ? l - 1 : l);
		no++;
		if (!strncmp(line, "ID,", 3))
			take_columns(&c, line);
		else if (c.n && *line && !take_event(&c, line, file, gen, no) &&
			 bad)
			*bad = no;
		free(line);
		p = eol + 1;
	}
}

static void ingest_share(const char *file, int gen, long *bad)
{
	size_t len;
	char *text = fetch(file, &len);

	ingest(file, text, len, gen, bad);
	free(text);
}

/* ---- ipamctl's answers ----------------------------------------------------
 */

/* The keys of track -o json's events. */
#define K_AT	"at"
#define K_LOCAL "localTime"
#define K_ID	"eventId"
#define K_IP	"ip"

static char *row_key(const char *at, const char *local, long long id,
		     const char *ip)
{
	return xasprintf("%s %s %lld %s", at, local, id, ip ? ip : "");
}

static const struct ipam_node *find_seq(const struct ipam_node *n)
{
	if (n->kind == IPAM_NODE_SEQ)
		return n;
	for (size_t i = 0; n->kind == IPAM_NODE_MAP && i < n->nr; i++)
		if (n->items[i]->kind == IPAM_NODE_SEQ)
			return n->items[i];
	fail_msg("track -o json holds no list of events");
	return NULL;
}

/* track --by value -o json: one key per event, in the order given; newest
 * first is checked. */
static char **track(const char *by, const char *value)
{
	struct lab_run res;
	struct ipam_node *n;
	const struct ipam_node *seq;
	char **v = labad_strv_new();
	size_t nv = 0;
	const char *prev = NULL;

	labad_run_ipamctl(&res, "track", by, value, "-c", cfg, "-o", "json",
			  NULL);
	labad_expect_exit(&res, 0, "ipamctl track");
	n = labad_parse_json(res.out, res.out_len, "track -o json");
	seq = find_seq(n);
	for (size_t i = 0; i < seq->nr; i++) {
		const struct ipam_node *e = seq->items[i];
		const struct ipam_node *id = labad_jkey(e, K_ID);
		const char *at = labad_jstr(e, K_AT);
		char *ip =
			lower(labad_jstr(e, K_IP) ? labad_jstr(e, K_IP) : "");
		char *k;

		assert_non_null(at);
		assert_non_null(id);
		if (prev && strcmp(prev, at) < 0)
			fail_msg("track %s %s: %s after %s, not newest first",
				 by, value, at, prev);
		prev = at;
		k = row_key(at, labad_jstr(e, K_LOCAL), id->num, ip);
		labad_strv_push(&v, &nv, k);
		free(k);
		free(ip);
	}
	ipam_node_free(n);
	lab_run_free(&res);
	return v;
}

enum by { BY_IP, BY_CLIENT, BY_HOST };

/* What track must say, from X. */
static char **expected(enum by by, const char *value)
{
	char **v = labad_strv_new(), *want;
	size_t nv = 0;

	want = by == BY_CLIENT ? norm_hex(value) : lower(value);
	for (size_t i = 0; i < NX; i++) {
		const char *have = by == BY_IP	     ? X[i].ip
				   : by == BY_CLIENT ? X[i].client
						     : X[i].host;
		char *k;

		if (strcmp(have, want))
			continue;
		k = row_key(X[i].at, X[i].local, X[i].id, X[i].ip);
		labad_strv_push(&v, &nv, k);
		free(k);
	}
	free(want);
	return v;
}

static void expect_track(enum by by, const char *value, size_t at_least)
{
	static const char *const opt[] = {"--ip", "--mac", "--host"};
	char **got = track(opt[by], value), **want = expected(by, value);
	char *why = NULL;

	if (labad_strv_len(want) < at_least)
		fail_msg("the test's own reading has %zu events for %s %s",
			 labad_strv_len(want), opt[by], value);
	if (!lab_strv_equal(got, (const char *const *)want, &why))
		fail_msg("track %s %s: %s", opt[by], value, why);
	free(why);
	lab_strv_free(got);
	lab_strv_free(want);
}

struct counts {
	long long events, files, rewritten, malformed;
};

/* What each collect of this test counted, for the history. */
static struct counts collects[8];
static size_t nr_collects;

static const struct ipam_node *task_node(const struct ipam_node *n)
{
	const char *t;

	if (n->kind == IPAM_NODE_MAP && (t = labad_jstr(n, "task")) &&
	    !strcmp(t, "audit"))
		return n;
	for (size_t i = 0;
	     (n->kind == IPAM_NODE_MAP || n->kind == IPAM_NODE_SEQ) &&
	     i < n->nr;
	     i++) {
		const struct ipam_node *r = task_node(n->items[i]);

		if (r)
			return r;
	}
	return NULL;
}

static long long count_of(const struct ipam_node *t, const char *name)
{
	const struct ipam_node *c = labad_jkey(labad_jkey(t, "counts"), name);

	if (!c)
		fail_msg("collect -o json: no count '%s'", name);
	return c->num;
}

/* The servers of the audit task: dhcp1 collected; every other managed
 * DHCP server of the lab (bdhcp1.branch: DHCP without an SMB server) a
 * failure with its reason, which stops nothing. */
static void expect_servers(const struct ipam_node *servers)
{
	bool seen = false;

	assert_non_null(servers);
	for (size_t i = 0; i < servers->nr; i++) {
		const struct ipam_node *s = servers->items[i];
		const char *name = labad_jstr(s, "name");
		const char *detail = labad_jstr(s, "detail");
		bool ok = labad_jkey(s, "ok")->boolean;

		if (!strcasecmp(name, host)) {
			seen = true;
			if (!ok)
				fail_msg("collect: %s failed: %s", name,
					 detail);
		} else if (ok || !detail || !strstr(detail, "unreachable")) {
			fail_msg("collect: %s should be unreachable: %s", name,
				 detail ? detail : "no reason");
		}
	}
	if (!seen)
		fail_msg("collect did not read %s", host);
}

/* collect --task audit -o json: its counts; *warnings (may be NULL) the
 * warnings joined by newlines.  Exit status 1: a server failed. */
static void collect(struct counts *n, char **warnings)
{
	struct lab_run res;
	struct ipam_node *root;
	const struct ipam_node *t, *w, *servers;
	struct strbuf sb = STRBUF_INIT;

	labad_run_ipamctl(&res, "collect", "--task", "audit", "-c", cfg, "-o",
			  "json", NULL);
	labad_expect_exit(&res, 1, "ipamctl collect --task audit");
	root = labad_parse_json(res.out, res.out_len, "collect -o json");
	t = task_node(root);
	if (!t)
		fail_msg("collect -o json has no audit task:\n%s", res.out);
	servers = labad_jkey(t, "servers");
	expect_servers(servers);
	n->events = count_of(t, "events");
	n->files = count_of(t, "files");
	n->rewritten = count_of(t, "rewritten");
	n->malformed = count_of(t, "malformed");
	assert_true(nr_collects < 8);
	collects[nr_collects++] = *n;
	w = labad_jkey(t, "warnings");
	for (size_t i = 0; w && i < w->nr; i++)
		strbuf_addf(&sb, "%s\n", w->items[i]->str);
	if (warnings)
		*warnings = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	ipam_node_free(root);
	lab_run_free(&res);
}

static void expect_counts(const struct counts *n, long long events,
			  long long files, long long rewritten,
			  long long malformed)
{
	if (n->events != events || n->files != files ||
	    n->rewritten != rewritten || n->malformed != malformed)
		fail_msg("collect counted events %lld, files %lld, rewritten "
			 "%lld, malformed %lld; want %lld, %lld, %lld, %lld",
			 n->events, n->files, n->rewritten, n->malformed,
			 events, files, rewritten, malformed);
}

/* ---- set-up ----------------------------------------------------------------
 */

static const char *const share_files[] = {
	"DhcpSrvLog-Mon.log", "DhcpSrvLog-Tue.log",   "DhcpSrvLog-Wed.log",
	"DhcpSrvLog-Thu.log", "DhcpV6SrvLog-Thu.log",
};
#define NR_FILES 5

static char *fixture(const char *name)
{
	return xasprintf("%s/audit/%s", lab_need_env("IPAM_LAB_FIXTURES"),
			 name);
}

/* The share as the lab made it, plus the two extra logs. */
static void share_reset(bool extra)
{
	for (size_t i = 0; i < 3; i++) {
		char *f = fixture(share_files[i]);

		put_file(f, share_files[i]);
		free(f);
	}
	for (size_t i = 3; i < NR_FILES; i++) {
		char *f = xasprintf("%s/audit/collect/%s",
				    lab_need_env("IPAM_LAB_FIXTURES"),
				    share_files[i]);

		if (extra)
			put_file(f, share_files[i]);
		else
			smb_admin_ok("del %s", share_files[i]);
		free(f);
	}
}

static int setup(void **state)
{
	(void)state;
	keytab = lab_need_env("IPAM_LAB_IPAM_KEYTAB");
	principal = lab_env("IPAM_LAB_IPAM_PRINCIPAL");
	if (!principal)
		principal = "IPAM1$@CORP.EXAMPLE.TEST";
	host = lab_need_env("IPAM_LAB_AUDIT_HOST");
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	cfg = write_config();
	share_reset(true);
	IPAMCTL_OK("ipamctl db init", "db", "init", "-c", cfg);
	IPAMCTL_OK("ipamctl discover", "discover", "-c", cfg);
	IPAMCTL_OK("ipamctl apply", "apply", "-c", cfg, "--auto-approve");
	IPAMCTL_OK("ipamctl verify", "verify", "-c", cfg, "--server", host);
	return 0;
}

static int teardown(void **state)
{
	struct lab_run res;

	(void)state;
	share_reset(false);
	smb_admin("del " BIG, &res); /* test 5's, when it got that far */
	lab_run_free(&res);
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	for (size_t i = 0; i < NX; i++) {
		free(X[i].file);
		free(X[i].ip);
		free(X[i].client);
		free(X[i].host);
	}
	free(X);
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(cfg);
	return 0;
}

/* ---- (1) the first collect ------------------------------------------------
 */

static void expect_all_tracks(void)
{
	expect_track(BY_IP, "198.51.100.101", 4);
	expect_track(BY_IP, "198.51.100.102", 4);
	expect_track(BY_IP, "198.51.100.110", 3);
	expect_track(BY_IP, "2001:DB8:100::110", 4);
	expect_track(BY_CLIENT, "00-15-5d-0a-01-01", 3);
	expect_track(BY_CLIENT, "a4bb.6d11.2233", 2);
	expect_track(BY_CLIENT, "00:01:00:01:30:A1:B2:C3:00:15:5D:0A:01:10", 4);
	expect_track(BY_HOST, "WS101.corp.example.test.", 5);
	expect_track(BY_HOST, "lap201.corp.example.test", 3);
	expect_track(BY_HOST, "old5.corp.example.test", 1);
}

static void test_1_first_collect(void **state)
{
	struct counts n;
	size_t before;

	(void)state;
	for (size_t i = 0; i < NR_FILES; i++)
		ingest_share(share_files[i], 1, NULL);
	before = NX;
	collect(&n, NULL);
	expect_counts(&n, (long long)before, NR_FILES, 0, 0);
	expect_all_tracks();
}

/* ---- (2) appended lines ---------------------------------------------------
 */

#define WED  "DhcpSrvLog-Wed.log"
#define MSFT ",0x4D53465420352E30,MSFT 5.0,,,,0"

static const char appended[] =
	"10,11/04/26,08:00:01,Assign,198.51.100.130,ws130.corp.example.test,"
	"00155D0A0130,,555000111,0,,," MSFT "\r\n"
	"11,11/04/26,12:00:02,Renew,198.51.100.101,ws101.corp.example.test,"
	"00155D0A0101,,2316576000,0,,," MSFT "\r\n"
	"10,11/04/26,25:61:00,Assign,198.51.100.131,ws131.corp.example.test,"
	"00155D0A0131,,555000222,0,,," MSFT "\r\n"
	"12,11/04/26,17:30:00,Release,198.51.100.130,ws130.corp.example.test,"
	"00155D0A0130,,555000999,0,,," MSFT "\r\n"
	"11,11/04/26,18:00:00,Renew,198.51.100.102,lap201.corp.example.test,"
	"A4BB6D112233,,987650002,0,,,";
static const char completion[] = MSFT "\r\n";

static void test_2_append(void **state)
{
	struct counts n;
	size_t before = NX;
	long bad = 0;
	char *warnings = NULL, *want;

	(void)state;
	append(WED, appended);
	ingest_share(WED, 1, &bad);
	assert_int_equal(NX - before, 3);
	assert_true(bad > 0);
	collect(&n, &warnings);
	expect_counts(&n, 3, NR_FILES, 0, 1);
	want = xasprintf("%s:%s:%ld: ", host, WED, bad);
	if (!strstr(warnings, want))
		fail_msg("collect should report %s...; it said:\n%s", want,
			 warnings);
	free(want);
	free(warnings);
	expect_track(BY_IP, "198.51.100.130", 2);
	expect_track(BY_IP, "198.51.100.131", 0);
	expect_all_tracks();
}

/* ---- (3) a weekday file overwritten -------------------------------------- */

static void test_3_overwrite(void **state)
{
	struct counts n;
	size_t before = NX;
	char *next = xasprintf("%s/audit/collect/next-week-Tue.log",
			       lab_need_env("IPAM_LAB_FIXTURES"));

	(void)state;
	append(WED, completion);
	ingest_share(WED, 1, NULL);
	assert_int_equal(NX - before, 1);
	put_file(next, "DhcpSrvLog-Tue.log");
	ingest_share("DhcpSrvLog-Tue.log", 2, NULL);
	collect(&n, NULL);
	expect_counts(&n, (long long)(NX - before), NR_FILES, 1, 0);
	expect_track(BY_IP, "198.51.100.120", 2);
	expect_all_tracks();
	/* nothing new: nothing imported, nothing read again */
	collect(&n, NULL);
	expect_counts(&n, 0, NR_FILES, 0, 0);
	expect_all_tracks();
	free(next);
}

/* ---- (4) the runs in history --------------------------------------------- */

static void test_4_history(void **state)
{
	struct lab_run res;
	struct ipam_node *h;
	size_t k = 0;

	(void)state;
	labad_run_ipamctl(&res, "history", "-c", cfg, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl history -o json");
	h = labad_parse_json(res.out, res.out_len, "history -o json");
	assert_int_equal(h->kind, IPAM_NODE_SEQ);
	/* newest first: the collects of this test in reverse */
	for (size_t i = 0; i < h->nr; i++) {
		const struct ipam_node *run = h->items[i];
		const struct ipam_node *sum = labad_jkey(run, "summary");
		const struct counts *want;
		struct counts got;

		if (strcmp(labad_jstr(run, "command"), "collect audit"))
			continue;
		if (k == nr_collects)
			fail_msg("history has more audit collects than %zu",
				 nr_collects);
		want = &collects[nr_collects - 1 - k++];
		got.events = count_of(sum, "events");
		got.files = count_of(sum, "files");
		got.rewritten = count_of(sum, "rewritten");
		got.malformed = count_of(sum, "malformed");
		expect_counts(&got, want->events, want->files, want->rewritten,
			      want->malformed);
	}
	if (k != nr_collects)
		fail_msg("history shows %zu audit collects, want %zu", k,
			 nr_collects);
	ipam_node_free(h);
	lab_run_free(&res);
}

/* ---- (5) a collect killed in the middle --------------------------------- */

#define BIG_LINES   250000
#define BIG_CLIENTS 500

/* A log of BIG_LINES events of BIG_CLIENTS clients (10.99.N/256.N%256+1,
 * 00155E00NNNN, genNNN), 11/06/26, into path. */
static void write_big(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("ID,Date,Time,Description,IP Address,Host Name,MAC Address,"
	      "User Name, TransactionID, QResult,Probationtime, "
	      "CorrelationID,Dhcid,VendorClass(Hex),VendorClass(ASCII),"
	      "UserClass(Hex),UserClass(ASCII),RelayAgentInformation,"
	      "DnsRegError.\r\n",
	      f);
	for (long i = 0; i < BIG_LINES; i++) {
		long c = i % BIG_CLIENTS, t = i * 86400L / BIG_LINES;

		fprintf(f,
			"11,11/06/26,%02ld:%02ld:%02ld,Renew,10.99.%ld.%ld,"
			"gen%03ld.corp.example.test,00155E00%04lX,,%ld,0,,"
			"," MSFT "\r\n",
			t / 3600, t / 60 % 60, t % 60, c / 256, c % 256 + 1, c,
			c, 7000000 + i);
	}
	assert_int_equal(fclose(f), 0);
}

/* The blocks of the big log (db_events_internal.h has their text). */
#define BIG_BLOCKS                                                             \
	"SELECT k.n, k.events FROM dhcp_event_blocks k JOIN "                  \
	"dhcp_event_batches b ON b.id = k.batch WHERE b.file = '" BIG "'"
/* How many events are stored from the big log. */
#define BIG_COUNT "SELECT coalesce(sum(k.n), 0) FROM (" BIG_BLOCKS ") k;"
/* How many of them differ in something else than their id: each record
 * of each block (SQLite: a JSON array made of its lines; PostgreSQL: its
 * lines split) without its first field (the id). */
#define BIG_DISTINCT_SQLITE                                                    \
	"SELECT count(DISTINCT substr(j.value, instr(j.value, ',') + 1)) "     \
	"FROM (" BIG_BLOCKS ") k, json_each('[\"' || replace(replace("         \
	"replace(k.events, '\\', '\\\\'), '\"', '\\\"'), char(10), "           \
	"'\",\"') || '\"]') j WHERE j.value <> '';"
#define BIG_DISTINCT_PG                                                        \
	"SELECT count(DISTINCT substr(j.value, strpos(j.value, ',') + 1)) "    \
	"FROM (" BIG_BLOCKS ") k, regexp_split_to_table(k.events, chr(10)) "   \
	"AS j(value) WHERE j.value <> '';"
#define BIG_DISTINCT (test_db_is_pg() ? BIG_DISTINCT_PG : BIG_DISTINCT_SQLITE)

/* A number the database's shell gives for sql on the state database. */
static long stored(const char *sql)
{
	char *out;
	long n;

	out = sqlite_query(db_path, sql);
	n = strtol(out, NULL, 10);
	free(out);
	return n;
}

/* Start collect, kill it once a batch of the big log is committed;
 * returns the events it committed. */
static long collect_killed(void)
{
	const char *argv[] = {
		labad_ipamctl(), "collect", "--task", "audit", "-c", cfg, NULL};
	char *errs = xasprintf("%s/killed.out", tmpdir);
	long n = 0;
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int out = open(errs, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(out, 1);
		dup2(out, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0 && !(n = stored(BIG_COUNT)))
		usleep(20000);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	/* what it committed when the signal came, not when the shell looked:
	 * the next batch may have gone in between */
	if (n)
		n = stored(BIG_COUNT);
	if (!n || n >= BIG_LINES)
		fail_msg("collect was not killed in the middle of the big log "
			 "(%ld of %d events stored, status %d):\n%s",
			 n, BIG_LINES, st, lab_read_file(errs, 65536, NULL));
	free(errs);
	return n;
}

static void test_5_killed(void **state)
{
	char *local = xasprintf("%s/big.log", tmpdir), client[32];
	struct counts n;
	long before;
	char **got;

	(void)state;
	write_big(local);
	put_file(local, BIG);
	unlink(local);
	before = collect_killed();
	collect(&n, NULL);
	/* the cursor was committed with the events: exactly the rest now */
	expect_counts(&n, BIG_LINES - before, NR_FILES + 1, 0, 0);
	assert_int_equal(stored(BIG_COUNT), BIG_LINES);
	/* the blocks' records, unpacked by the zstd tool */
	test_db_unpack_blocks(db_path);
	assert_int_equal(stored(BIG_DISTINCT), BIG_LINES);
	/* and tracking sees each line once */
	for (int c = 0; c < BIG_CLIENTS; c += 167) {
		struct lab_run res;
		struct ipam_node *j;

		snprintf(client, sizeof(client), "00-15-5e-00-%02x-%02x",
			 c / 256, c % 256);
		labad_run_ipamctl(&res, "track", "--mac", client, "--limit",
				  "0", "-c", cfg, "-o", "json", NULL);
		labad_expect_exit(&res, 0, "ipamctl track --limit 0");
		j = labad_parse_json(res.out, res.out_len, "track -o json");
		assert_int_equal(labad_jkey(j, "count")->num,
				 BIG_LINES / BIG_CLIENTS);
		ipam_node_free(j);
		lab_run_free(&res);
	}
	got = track("--ip", "10.99.0.1");
	assert_int_equal(labad_strv_len(got) > 0, 1);
	lab_strv_free(got);
	free(local);
}

/* ---- (6) access denied: the server fails, its events stay ------------- */

static void set_membership(bool member)
{
	char acct[128];
	const char *args[] = {"group", member ? "addmembers" : "removemembers",
			      "IPAMUG", acct, NULL};
	struct lab_run res;

	snprintf(acct, sizeof(acct), "%.*s", (int)strcspn(principal, "@"),
		 principal);
	labad_samba_tool_ok(1, args, &res);
	lab_run_free(&res);
}

static void test_6_access_denied(void **state)
{
	struct lab_run res;
	struct ipam_node *root;
	const struct ipam_node *t, *servers;
	long before = stored(BIG_COUNT);
	char **want = expected(BY_IP, "198.51.100.102"), **got;
	char *why = NULL;

	(void)state;
	set_membership(false);
	labad_run_ipamctl(&res, "collect", "--task", "audit", "--server", host,
			  "-c", cfg, "-o", "json", NULL);
	set_membership(true);
	labad_expect_exit(&res, 1, "ipamctl collect, ipam1$ out of IPAMUG");
	root = labad_parse_json(res.out, res.out_len, "collect -o json");
	t = task_node(root);
	assert_non_null(t);
	servers = labad_jkey(t, "servers");
	assert_int_equal(servers->nr, 1);
	if (labad_jkey(servers->items[0], "ok")->boolean ||
	    !strstr(labad_jstr(servers->items[0], "detail"),
		    "access denied for IPAM1$"))
		fail_msg("collect should say access denied for IPAM1$:\n%s",
			 res.out);
	ipam_node_free(root);
	lab_run_free(&res);
	/* what was collected before is kept */
	assert_int_equal(stored(BIG_COUNT), before);
	got = track("--ip", "198.51.100.102");
	if (!lab_strv_equal(got, (const char *const *)want, &why))
		fail_msg("track after the failed collect: %s", why);
	lab_strv_free(got);
	lab_strv_free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_first_collect),
		cmocka_unit_test(test_2_append),
		cmocka_unit_test(test_3_overwrite),
		cmocka_unit_test(test_4_history),
		cmocka_unit_test(test_5_killed),
		cmocka_unit_test(test_6_access_denied),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
