/*
 * The plan as people and machines read it: text, JSON and Markdown of a
 * plan built by hand, compared with the golden files beside this test
 * (IPAM_PLANOUT_REGEN=1 rewrites them), the JSON also checked against
 * schemas/plan.schema.json with python3-jsonschema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "json.h"
#include "jsonw.h"
#include "model.h"
#include "planout.h"
#include "strbuf.h"
#include "testutil.h"

#define CORP   "corp.example.test"
#define BRANCH "branch.example.test"
#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define DIGEST                                                                 \
	"aaaa1111bbbb2222cccc3333dddd4444eeee5555ffff6666aaaa7777bbbb8888"
#define FPRINT                                                                 \
	"1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"
#define WHEN "2026-01-02T03:04:05Z"

static const char desired_text[] = "version: 1\n"
				   "ipamServer: ipam1.corp.example.test\n"
				   "provisioning: {method: gpo, gpoPrefix: "
				   "IPAM1}\n"
				   "discovery:\n"
				   "  - domain: corp.example.test\n"
				   "  - domain: branch.example.test\n";

/* Managed servers whose last access check said Blocked (from the
 * inventory in real runs: see test_blocked_servers). */
static const char *const blocked_names[] = {"dhcp1.corp.example.test",
					    "dns1.corp.example.test"};

struct fixture {
	struct ipam_desired *d;
	struct ipam_plan plan;
	struct ipam_plan_doc r;
};

static struct ipam_action *act(struct ipam_plan *p, enum ipam_act_kind kind,
			       enum ipam_act_op op, enum ipam_act_origin origin,
			       const char *domain, int gpo, const char *target,
			       const char *reason, int line)
{
	struct ipam_action *a;

	ALLOC_GROW(p->actions, p->nr + 1, p->alloc);
	a = &p->actions[p->nr++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->op = op;
	a->origin = origin;
	a->domain = xstrdup(domain);
	a->gpo = gpo;
	a->target = xstrdup(target);
	a->reason = xstrdup(reason);
	if (line) {
		a->pos.file = "d.yaml";
		a->pos.line = line;
		a->pos.col = 3;
	}
	return a;
}

static void note(struct ipam_plan *p, const char *text)
{
	ALLOC_GROW(p->notes, p->nr_notes + 1, p->alloc_notes);
	p->notes[p->nr_notes++] = xstrdup(text);
}

/*
 * Two domains: in corp, a GPO deleted behind ipamctl's back (drift, put
 * back), a link disabled by hand (drift), a filter entry someone else
 * added (drift no action corrects) and pending work with before/after in
 * each form; branch seen incompletely, its removal skipped.
 */
static void full_plan(struct ipam_plan *p)
{
	struct ipam_action *a;

	act(p, IPAM_ACT_GROUP, IPAM_OP_CREATE, IPAM_ORIGIN_PENDING, CORP, -1,
	    "IPAMUG", "IPAMUG does not exist", 2);
	act(p, IPAM_ACT_GPO_CREATE, IPAM_OP_CREATE, IPAM_ORIGIN_DRIFT, CORP,
	    IPAM_POL_GPO_DHCP, "IPAM1_DHCP",
	    "drift: GPO IPAM1_DHCP was deleted since the last apply (it was "
	    "{0F1E2D3C-0000-4000-8000-00000000AB01})",
	    3);
	a = act(p, IPAM_ACT_GPO_CREATE, IPAM_OP_CREATE, IPAM_ORIGIN_PENDING,
		BRANCH, IPAM_POL_GPO_DC_NPS, "IPAM1_DC_NPS",
		"GPO IPAM1_DC_NPS does not exist", 3);
	a->after = xstrdup("version 1");
	act(p, IPAM_ACT_GPO_SETTINGS, IPAM_OP_UPDATE, IPAM_ORIGIN_DRIFT, CORP,
	    IPAM_POL_GPO_DHCP, "IPAM1_DHCP",
	    "settings of a new GPO: firewall rules, local groups, dhcpaudit "
	    "share",
	    3);
	a = act(p, IPAM_ACT_MANAGEABILITY, IPAM_OP_UPDATE, IPAM_ORIGIN_PENDING,
		CORP, -1, "dns1.corp.example.test",
		"manageability set by the desired state", 9);
	a->before = xstrdup("unspecified");
	a->after = xstrdup("managed");
	a = act(p, IPAM_ACT_GPO_LINK, IPAM_OP_UPDATE, IPAM_ORIGIN_DRIFT, CORP,
		IPAM_POL_GPO_DNS, "IPAM1_DNS",
		"drift: the link of IPAM1_DNS is disabled | enabled again", 3);
	a->before = xstrdup("link disabled");
	a->after = xstrdup("link enabled");
	a = act(p, IPAM_ACT_FILTER_ADD, IPAM_OP_CREATE, IPAM_ORIGIN_PENDING,
		CORP, IPAM_POL_GPO_DHCP, "dhcp1.corp.example.test",
		"managed: read and Apply Group Policy on IPAM1_DHCP", 7);
	a->sid = xstrdup("S-1-5-21-1-2-3-1105");
	a = act(p, IPAM_ACT_FILTER_REMOVE, IPAM_OP_REMOVE, IPAM_ORIGIN_PENDING,
		CORP, IPAM_POL_GPO_DNS, "old1.corp.example.test",
		"ipamctl put it there; unmanaged <now>", 0);
	a->sid = xstrdup("S-1-5-21-1-2-3-1110");
	a = act(p, IPAM_ACT_PURGE, IPAM_OP_REMOVE, IPAM_ORIGIN_PENDING, CORP,
		-1, "old1.corp.example.test",
		"unmanaged: its collected data is purged", 11);
	a->before = xstrdup("42 leases");
	note(p, CORP ": drift: old9.corp.example.test is in IPAM1_DNS's "
		     "filtering but ipamctl did not put it there: left alone");
	note(p,
	     CORP ": GPO IPAM1_DC_NPS {0F1E2D3C-0000-4000-8000-00000000AB03} "
		  "was not created by ipamctl: left alone (take it over "
		  "with ipamctl provision --adopt)");
	note(p, BRANCH ": drift: S-1-5-21-9-9-9-2001 is in IPAM1_DHCPX's "
		       "filtering: someone's own GPO");
	ALLOC_GROW(p->incomplete, p->nr_incomplete + 1, p->alloc_incomplete);
	p->incomplete[p->nr_incomplete++] =
		xstrdup(BRANCH ": DNS discovery failed: timed out");
	ALLOC_GROW(p->conflicts, p->nr_conflicts + 1, p->alloc_conflicts);
	p->conflicts[p->nr_conflicts].domain = xstrdup(CORP);
	p->conflicts[p->nr_conflicts].what = xstrdup(
		"GPO IPAM1_DC_NPS {0F1E2D3C-0000-4000-8000-00000000AB03}");
	p->conflicts[p->nr_conflicts++].reason =
		xstrdup("not created by ipamctl, so never changed by it");
	ALLOC_GROW(p->skipped, p->nr_skipped + 1, p->alloc_skipped);
	p->skipped[p->nr_skipped].domain = xstrdup(BRANCH);
	p->skipped[p->nr_skipped].what =
		xstrdup("bdns9.branch.example.test from IPAM1_DNS");
	p->skipped[p->nr_skipped++].reason =
		xstrdup("DNS discovery failed: timed out");
}

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	fx->d = desired_from_text(desired_text);
	assert_non_null(fx->d);
	fx->r.d = fx->d;
	fx->r.plan = &fx->plan;
	fx->r.git_commit = COMMIT;
	fx->r.config_digest = DIGEST;
	fx->r.fingerprint = FPRINT;
	fx->r.generated_at = time(NULL);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	ipam_plan_release(&fx->plan);
	ipam_desired_free(fx->d);
	free(fx);
	return 0;
}

static char *golden_path(const char *name)
{
	return xasprintf("%s/../unit/core/planout/%s", fixtures_dir(), name);
}

/* got must be the golden file name, byte for byte. */
static void check_golden(const char *name, const char *got)
{
	char *path = golden_path(name), *want;
	size_t len = 0;

	if (getenv("IPAM_PLANOUT_REGEN"))
		assert_int_equal(write_file(path, got), 0);
	want = slurp(path, &len);
	if (!want)
		fail_msg("cannot read %s", path);
	if (len != strlen(got) || memcmp(want, got, len))
		fail_msg("%s differs; rendered:\n%s", path, got);
	free(want);
	free(path);
}

enum form { TEXT, MARKDOWN };

static char *render(const struct ipam_plan_doc *r, enum form form,
		    bool drift_only)
{
	struct strbuf sb = STRBUF_INIT;

	if (form == TEXT)
		ipam_plan_render_text(&sb, r, drift_only);
	else
		ipam_plan_render_markdown(&sb, r, drift_only);
	return strbuf_detach(&sb, NULL);
}

/* The JSON, generated_at checked for its form and then pinned. */
static char *render_json(const struct ipam_plan_doc *r, bool drift_only)
{
	struct ipam_node *n = ipam_plan_to_node(r, drift_only);
	struct strbuf sb = STRBUF_INIT;
	bool pinned = false;

	for (size_t i = 0; i < n->nr; i++) {
		struct ipam_node *v = n->items[i];
		unsigned y, mo, dd, h, mi, s;
		char z;

		if (strcmp(n->keys[i]->str, "generated_at"))
			continue;
		assert_int_equal(v->kind, IPAM_NODE_STR);
		assert_int_equal(sscanf(v->str, "%4u-%2u-%2uT%2u:%2u:%2u%c", &y,
					&mo, &dd, &h, &mi, &s, &z),
				 7);
		assert_int_equal(z, 'Z');
		ipam_node_free(v);
		n->items[i] = ipam_node_str(WHEN);
		pinned = true;
	}
	assert_true(pinned);
	assert_int_equal(ipam_json_write(&sb, n, IPAM_JSON_PRETTY), 0);
	ipam_node_free(n);
	return strbuf_detach(&sb, NULL);
}

/* json validates against schemas/plan.schema.json. */
static void schema_ok(const char *json)
{
	schema_check("plan.schema.json", json);
}

static const struct ipam_node *key(const struct ipam_node *m, const char *k)
{
	for (size_t i = 0; m && m->kind == IPAM_NODE_MAP && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, k))
			return m->items[i];
	fail_msg("no key '%s'", k);
	return NULL;
}

/* The full plan (plan) and its drift part (drift) in one form. */
static void check_form(void **state, enum form form, const char *ext)
{
	struct fixture *fx = *state;
	char *out, *name;

	full_plan(&fx->plan);
	fx->r.blocked = blocked_names;
	fx->r.nr_blocked = 2;
	for (int drift_only = 0; drift_only <= 1; drift_only++) {
		name = xasprintf("%s.%s", drift_only ? "drift" : "plan", ext);
		out = render(&fx->r, form, drift_only);
		check_golden(name, out);
		free(out);
		free(name);
	}
}

static void test_text(void **state)
{
	check_form(state, TEXT, "txt");
}

static void test_markdown(void **state)
{
	check_form(state, MARKDOWN, "md");
}

static void test_json(void **state)
{
	struct fixture *fx = *state;
	struct ipam_node *n;
	const struct ipam_node *drift, *acts;
	char *out;

	full_plan(&fx->plan);
	fx->r.blocked = blocked_names;
	fx->r.nr_blocked = 2;
	out = render_json(&fx->r, false);
	check_golden("plan.json", out);
	schema_ok(out);
	/* drift apart: each drift action by its seq, the notes with none */
	assert_int_equal(ipam_json_parse(&n, "plan.json", out, strlen(out)), 0);
	drift = key(n, "drift");
	acts = key(n, "actions");
	assert_int_equal(drift->nr, 5);
	for (size_t i = 0; i < 3; i++) {
		const struct ipam_node *by =
			key(drift->items[i], "corrected_by");

		assert_int_equal(by->kind, IPAM_NODE_INT);
		assert_true(by->num >= 1 && (size_t)by->num <= acts->nr);
		assert_string_equal(
			key(acts->items[by->num - 1], "origin")->str, "drift");
	}
	assert_int_equal(key(drift->items[3], "corrected_by")->kind,
			 IPAM_NODE_NULL);
	assert_string_equal(key(drift->items[3], "gpo")->str, "IPAM1_DNS");
	/* IPAM1_DHCPX is not IPAM1_DHCP: no GPO of ipamctl's */
	assert_int_equal(key(drift->items[4], "gpo")->kind, IPAM_NODE_NULL);
	assert_int_equal(key(n, "blocked_servers")->nr, 2);
	ipam_node_free(n);
	free(out);

	/* drift -o json: drift actions only, seq still the plan's */
	out = render_json(&fx->r, true);
	check_golden("drift.json", out);
	schema_ok(out);
	free(out);
}

/* Nothing to do: one line, and no section headings. */
static void test_empty(void **state)
{
	struct fixture *fx = *state;
	char *out;

	fx->r.git_commit = NULL;
	out = render(&fx->r, TEXT, false);
	assert_string_equal(out, "No changes: AD matches the desired state.\n");
	free(out);
	out = render(&fx->r, TEXT, true);
	assert_string_equal(out, "No drift.\n");
	free(out);
	out = render(&fx->r, MARKDOWN, false);
	assert_string_equal(out, "### ipamctl plan\n\n"
				 "**No changes: AD matches the desired "
				 "state.**\n\n"
				 "<sub>config `aaaa1111bbbb`</sub>\n");
	free(out);
	out = render_json(&fx->r, false);
	schema_ok(out);
	assert_non_null(strstr(out, "\"drift\": []"));
	assert_non_null(strstr(out, "\"git_commit\": null"));
	free(out);
}

/* Nothing to do but removals skipped, or a conflict: never "AD matches". */
static void test_empty_not_clean(void **state)
{
	struct fixture *fx = *state;
	struct ipam_plan *p = &fx->plan;
	char *out;

	ALLOC_GROW(p->skipped, p->nr_skipped + 1, p->alloc_skipped);
	p->skipped[p->nr_skipped].domain = xstrdup(BRANCH);
	p->skipped[p->nr_skipped].what =
		xstrdup("bdhcp1.branch.example.test from IPAM1_DHCP's "
			"filtering");
	p->skipped[p->nr_skipped++].reason =
		xstrdup(BRANCH ": GPO state unreadable");
	out = render(&fx->r, TEXT, false);
	assert_null(strstr(out, "AD matches"));
	assert_non_null(strstr(out, "skipped removal: " BRANCH
				    ": bdhcp1.branch.example.test from "));
	assert_non_null(strstr(out, "1 removal skipped"));
	free(out);
	ALLOC_GROW(p->conflicts, p->nr_conflicts + 1, p->alloc_conflicts);
	p->conflicts[p->nr_conflicts].domain = xstrdup(CORP);
	p->conflicts[p->nr_conflicts].what = xstrdup("GPO IPAM1_DNS {x}");
	p->conflicts[p->nr_conflicts++].reason = xstrdup("not ipamctl's");
	out = render(&fx->r, TEXT, true);
	assert_null(strstr(out, "No drift."));
	assert_non_null(strstr(out, "conflict: " CORP ": GPO IPAM1_DNS {x}"));
	assert_non_null(strstr(out, "1 conflict must be resolved"));
	free(out);
}

/* More removals than safety.maxRemovals: plan says apply will refuse. */
static void test_max_removals_warning(void **state)
{
	struct fixture *fx = *state;
	char *out, *want;

	fx->plan.removals = (size_t)fx->d->max_removals + 1;
	want = xasprintf("warning: %zu removals, more than safety.maxRemovals "
			 "%lld: apply will refuse without --allow-removals "
			 "%zu\n",
			 fx->plan.removals, fx->d->max_removals,
			 fx->plan.removals);
	out = render(&fx->r, TEXT, false);
	assert_non_null(strstr(out, want));
	free(out);
	out = render_json(&fx->r, false);
	schema_ok(out);
	assert_non_null(strstr(out, "\"max_removals\": "));
	free(out);
	free(want);
}

/*
 * A server name, a reason and a note holding ESC, BEL, CR and a newline
 * (from AD, DNS or YAML): in text and Markdown each is visible escapes on
 * its own line, nothing reaches the terminal; JSON keeps the exact text.
 */
static void test_controls_escaped(void **state)
{
	struct fixture *fx = *state;
	struct ipam_action *a;
	char *out;

	a = act(&fx->plan, IPAM_ACT_FILTER_ADD, IPAM_OP_CREATE,
		IPAM_ORIGIN_PENDING, CORP, IPAM_POL_GPO_DNS,
		"ev\x1b]0;pwned\x07il\r.corp.example.test",
		"managed\nfake: line", 4);
	a->after = xstrdup("x\x1b[2Ky");
	a->before = xstrdup("del\x7f c1\xc2\x9b");
	out = render_json(&fx->r, false);
	assert_non_null(strstr(out, "ev\\u001B]0;pwned\\u0007il\\r.corp"));
	/* DEL and C1 too, which the JSON grammar would let through raw */
	assert_non_null(strstr(out, "\"del\\u007F c1\\u009B\""));
	free(out);
	note(&fx->plan, "note \xc2\x9b"
			"31m and \x9b"
			"2J");
	out = render(&fx->r, TEXT, false);
	assert_null(strpbrk(out, "\x1b\x07\r"));
	assert_null(strstr(out, "\xc2\x9b"));
	assert_null(strstr(out, "\x9b"));
	assert_non_null(strstr(
		out, "    + filter_add     ev\\x1b]0;pwned\\x07il\\r.corp."
		     "example.test (del\\x7f c1\\u009b -> x\\x1b[2Ky)\n"
		     "        managed\\nfake: line  at d.yaml:4:3\n"));
	assert_non_null(strstr(out, "note: note \\u009b31m and \\x9b2J\n"));
	free(out);
	out = render(&fx->r, MARKDOWN, false);
	assert_null(strpbrk(out, "\x1b\x07\r"));
	assert_non_null(
		strstr(out, "| ev\\x1b]0;pwned\\x07il\\r.corp."
			    "example.test | del\\x7f c1\\u009b -> x\\x1b[2Ky | "
			    "managed\\nfake: line |"));
	free(out);
}

/* Drift only (no pending work): the drift section and its heading. */
static void test_drift_only_plan(void **state)
{
	struct fixture *fx = *state;
	struct ipam_action *a;
	char *out;

	a = act(&fx->plan, IPAM_ACT_FILTER_ADD, IPAM_OP_CREATE,
		IPAM_ORIGIN_DRIFT, BRANCH, IPAM_POL_GPO_DNS,
		"bdns1.branch.example.test",
		"drift: removed from IPAM1_DNS's filtering by hand", 0);
	a->sid = xstrdup("S-1-5-21-4-5-6-1104");
	out = render(&fx->r, TEXT, false);
	assert_string_equal(
		out, "Drift: AD changed behind ipamctl's back since the last "
		     "apply\n"
		     "branch.example.test\n"
		     "  IPAM1_DNS\n"
		     "    + filter_add     bdns1.branch.example.test\n"
		     "        removed from IPAM1_DNS's filtering by hand\n"
		     "Plan: 1 to create, 0 to update, 0 to remove (1 drift, 0 "
		     "pending).\n");
	free(out);
}

/*
 * The blocked managed servers: from the inventory rows (managed, latest
 * access Blocked), named on one line with their control characters made
 * harmless.
 */
static void test_blocked_servers(void **state)
{
	struct ipam_inv_server rows[] = {
		{.name = "a.corp.example.test",
		 .manageability = IPAM_MANAGE_MANAGED,
		 .access = "Blocked"},
		{.name = "b.corp.example.test",
		 .manageability = IPAM_MANAGE_UNMANAGED,
		 .access = "Blocked"},
		{.name = "c.corp.example.test",
		 .manageability = IPAM_MANAGE_MANAGED,
		 .access = "Unblocked"},
		{.name = "d.corp.example.test",
		 .manageability = IPAM_MANAGE_MANAGED},
		{.name = "e\x1b[2J\n.corp.example.test",
		 .manageability = IPAM_MANAGE_MANAGED,
		 .access = "Blocked"},
	};
	struct ipam_inventory inv = {rows, 5, 5, NULL};
	struct strbuf sb = STRBUF_INIT;
	const char **names;
	size_t nr;

	(void)state;
	nr = ipam_plan_blocked_servers(&names, &inv);
	assert_int_equal(nr, 2);
	assert_string_equal(names[0], "a.corp.example.test");
	ipam_plan_blocked_text(&sb, names, nr);
	assert_null(strchr(sb.buf, '\x1b'));
	assert_int_equal(strchr(sb.buf, '\n') - sb.buf, (long)sb.len - 1);
	assert_non_null(strstr(sb.buf, "IPAM access blocked on 2 managed "
				       "servers: a.corp.example.test, e"));
	assert_non_null(strstr(sb.buf, " (ipamctl verify for the reasons)"));
	free(names);

	/* one: singular; none: nothing */
	strbuf_reset(&sb);
	ipam_plan_blocked_text(&sb, blocked_names, 1);
	assert_string_equal(sb.buf, "IPAM access blocked on 1 managed server: "
				    "dhcp1.corp.example.test (ipamctl verify "
				    "for the reasons)\n");
	strbuf_reset(&sb);
	ipam_plan_blocked_text(&sb, NULL, 0);
	assert_int_equal(sb.len, 0);
	inv.nr = 0;
	assert_int_equal(ipam_plan_blocked_servers(&names, &inv), 0);
	assert_null(names);
	strbuf_release(&sb);
}

/* drift shows no blocked servers: they are not drift. */
static void test_blocked_not_in_drift(void **state)
{
	struct fixture *fx = *state;
	char *out;

	full_plan(&fx->plan);
	fx->r.blocked = blocked_names;
	fx->r.nr_blocked = 2;
	out = render(&fx->r, TEXT, true);
	assert_null(strstr(out, "blocked"));
	free(out);
	out = render(&fx->r, MARKDOWN, true);
	assert_null(strstr(out, "blocked"));
	free(out);
}

/* ---- the streamed JSON against the tree's ------------------------------ */

/* The JSON writer's sink in small, odd pieces: the text must not depend
 * on where the buffer is cut. */
static int sink_to(void *ctx, const char *data, size_t len)
{
	strbuf_add(ctx, data, len);
	return 0;
}

/* The tree form through jansson (what plan -o json printed before it
 * streamed) and the streamed form, byte for byte. */
static void check_stream(const struct ipam_plan_doc *r, bool drift_only)
{
	struct ipam_node *n = ipam_plan_to_node(r, drift_only);
	struct strbuf tree = STRBUF_INIT, stream = STRBUF_INIT;
	struct ipam_jsonw w;

	assert_int_equal(ipam_json_write(&tree, n, IPAM_JSON_PRETTY), 0);
	ipam_jsonw_init(&w, true, sink_to, &stream);
	assert_int_equal(ipam_plan_write_json(&w, r, drift_only), 0);
	if (tree.len != stream.len || memcmp(tree.buf, stream.buf, tree.len)) {
		size_t i = 0;

		while (i < tree.len && tree.buf[i] == stream.buf[i])
			i++;
		fail_msg("streamed JSON differs at byte %zu of %zu: ...%.80s",
			 i, tree.len, stream.buf + (i > 40 ? i - 40 : 0));
	}
	ipam_node_free(n);
	strbuf_release(&tree);
	strbuf_release(&stream);
}

static void test_stream_small(void **state)
{
	struct fixture *fx = *state;

	check_stream(&fx->r, false); /* empty */
	full_plan(&fx->plan);
	fx->r.blocked = blocked_names;
	fx->r.nr_blocked = 2;
	check_stream(&fx->r, false);
	check_stream(&fx->r, true);
	fx->r.git_commit = NULL;
	check_stream(&fx->r, false);
}

/* Texts that exercise every escape: quotes, backslashes, the C0 controls
 * with and without a short form, DEL, a C1 control, 2- to 4-byte UTF-8. */
static const char *const odd_texts[] = {
	"plain",
	"say \"hi\" \\ back\\slash",
	"tab\there\nnew\rline\b\f",
	"esc\x1b[31m bel\x07 nul-ish\x01\x1f",
	"del\x7f c1\xc2\x9b c1end\xc2\x80\xc2\x9f",
	"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0",
	"",
};

static const char *odd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return odd_texts[(*seed >> 16) %
			 (sizeof(odd_texts) / sizeof(*odd_texts))];
}

/*
 * 20,000 actions of every kind, op and origin, in both domains and on no
 * GPO or each, the optional texts present or not, odd characters
 * throughout; notes (drift ones among them), incomplete domains, skipped
 * removals, conflicts and blocked servers by the hundred.
 */
static void large_plan(struct ipam_plan *p, const char ***blocked,
		       size_t *nr_blocked)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned seed = 18;

	for (size_t i = 0; i < 20000; i++) {
		struct ipam_action *a;

		strbuf_reset(&sb);
		strbuf_addf(&sb, "srv%05zu-%s.corp.example.test", i,
			    odd(&seed));
		a = act(p, (enum ipam_act_kind)(i % IPAM_ACT_NR_KINDS),
			(enum ipam_act_op)(i % 3 == 0	? IPAM_OP_CREATE
					   : i % 3 == 1 ? IPAM_OP_UPDATE
							: IPAM_OP_REMOVE),
			i % 7 ? IPAM_ORIGIN_PENDING : IPAM_ORIGIN_DRIFT,
			i % 2 ? CORP : BRANCH,
			(int)(i % (IPAM_GPO_COUNT + 1)) - 1, sb.buf, odd(&seed),
			(int)(i % 5) * 10);
		if (a->origin == IPAM_ORIGIN_DRIFT && i % 3) {
			char *r = xasprintf("drift: %s", a->reason);

			free(a->reason);
			a->reason = r;
		}
		if (i % 4 == 1)
			a->sid = xasprintf("S-1-5-21-1-2-3-%zu", 1000 + i);
		if (i % 3 == 1)
			a->before = xstrdup(odd(&seed));
		if (i % 5 == 2)
			a->after = xstrdup(odd(&seed));
	}
	for (size_t i = 0; i < 300; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s: %s%s IPAM1_%s %zu", i % 2 ? CORP : BRANCH,
			    i % 3 ? "drift: " : "", odd(&seed),
			    i % 4 ? "DNS" : "DHCPX", i);
		note(p, sb.buf);
	}
	for (size_t i = 0; i < 100; i++) {
		ALLOC_GROW(p->incomplete, p->nr_incomplete + 1,
			   p->alloc_incomplete);
		p->incomplete[p->nr_incomplete++] =
			i % 2 ? xasprintf("%s: %s", BRANCH, odd(&seed))
			      : xstrdup(odd(&seed));
		ALLOC_GROW(p->skipped, p->nr_skipped + 1, p->alloc_skipped);
		p->skipped[p->nr_skipped].domain = xstrdup(CORP);
		p->skipped[p->nr_skipped].what = xstrdup(odd(&seed));
		p->skipped[p->nr_skipped++].reason = xstrdup(odd(&seed));
		ALLOC_GROW(p->conflicts, p->nr_conflicts + 1,
			   p->alloc_conflicts);
		p->conflicts[p->nr_conflicts].domain = xstrdup(BRANCH);
		p->conflicts[p->nr_conflicts].what = xstrdup(odd(&seed));
		p->conflicts[p->nr_conflicts++].reason = xstrdup(odd(&seed));
	}
	p->removals = 6667;
	*nr_blocked = 500;
	*blocked = xcalloc(*nr_blocked, sizeof(**blocked));
	for (size_t i = 0; i < *nr_blocked; i++)
		(*blocked)[i] = odd(&seed);
	strbuf_release(&sb);
}

static void test_stream_large(void **state)
{
	struct fixture *fx = *state;
	const char **blocked;

	large_plan(&fx->plan, &blocked, &fx->r.nr_blocked);
	fx->r.blocked = blocked;
	check_stream(&fx->r, false);
	check_stream(&fx->r, true);
	free(blocked);
}

/* A string jansson refuses (not UTF-8): nothing streamed, an error. */
static void test_stream_not_utf8(void **state)
{
	struct fixture *fx = *state;
	struct strbuf out = STRBUF_INIT, tree = STRBUF_INIT;
	struct ipam_jsonw w;
	struct ipam_node *n;

	act(&fx->plan, IPAM_ACT_FILTER_ADD, IPAM_OP_CREATE, IPAM_ORIGIN_PENDING,
	    CORP, IPAM_POL_GPO_DNS, "bad\xc3(name", "managed", 4);
	n = ipam_plan_to_node(&fx->r, false);
	assert_int_not_equal(ipam_json_write(&tree, n, IPAM_JSON_PRETTY), 0);
	ipam_jsonw_init(&w, true, sink_to, &out);
	assert_int_not_equal(ipam_plan_write_json(&w, &fx->r, false), 0);
	assert_int_equal(out.len, 0);
	ipam_node_free(n);
	strbuf_release(&out);
	strbuf_release(&tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_markdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_not_clean, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_max_removals_warning,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_controls_escaped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drift_only_plan, setup,
						teardown),
		cmocka_unit_test(test_blocked_servers),
		cmocka_unit_test_setup_teardown(test_blocked_not_in_drift,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_small, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stream_large, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stream_not_utf8, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
