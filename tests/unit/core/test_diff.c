/*
 * The diff: desired state + discovery + GPO state + what was last applied
 * in, ordered actions out.  Pure, so plain structs stand in for AD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config.h"
#include "testutil.h"
#include "diff.h"

#define DOMAIN "corp.example.test"
#define DSID   "S-1-5-21-1-2-3"

#define DESIRED_HEAD                                                           \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: gpo, gpoPrefix: IPAM}\n"                       \
	"discovery:\n"                                                         \
	"  - domain: corp.example.test\n"

struct world {
	struct ipam_desired *d;
	struct ipam_observed obs;
	struct ipam_inventory prev;
	struct ipam_inv_plan inv_plan;
	struct ipam_gpo_state *st;
	struct ipam_applied applied;
	struct ipam_plan plan;
};

static struct ipam_desired *desired(const char *servers_yaml)
{
	char *text = xasprintf("%s%s", DESIRED_HEAD, servers_yaml);
	struct ipam_desired *d = desired_from_text(text);

	assert_non_null(d);
	free(text);
	return d;
}

static void obs_init(struct world *w, bool complete)
{
	struct ipam_obs_domain *od;

	w->obs.domains = xcalloc(1, sizeof(*w->obs.domains));
	w->obs.nr_domains = 1;
	od = &w->obs.domains[0];
	od->name = xstrdup(DOMAIN);
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
	if (complete)
		ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
	else
		ipam_obs_set_status(&od->dns, IPAM_VERDICT_INCOMPLETE,
				    "NS query timed out");
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->declared, IPAM_VERDICT_OFF, NULL);
}

/* A server found by discovery, with its computer account's SID. */
static void found(struct world *w, const char *name, unsigned roles,
		  const char *rid)
{
	struct ipam_obs_server *s = ipam_obs_get(&w->obs.domains[0], name);

	s->roles |= roles;
	s->in_ad = true;
	s->sid = xasprintf(DSID "-%s", rid);
}

/* A stored inventory row (a previous run saw it). */
static void stored(struct world *w, const char *name, unsigned roles,
		   const char *rid, enum ipam_manageability m)
{
	struct ipam_inv_server *s;

	ALLOC_GROW(w->prev.servers, w->prev.nr + 1, w->prev.alloc);
	s = &w->prev.servers[w->prev.nr++];
	memset(s, 0, sizeof(*s));
	s->id = (long long)w->prev.nr;
	s->name = xstrdup(name);
	s->domain = xstrdup(DOMAIN);
	s->roles = roles;
	s->manageability = m;
	s->status = IPAM_INV_UNCHANGED;
	s->sid = xasprintf(DSID "-%s", rid);
}

static void trustee(struct ipam_gpo_trustees *t, const char *sid)
{
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr].sid = xstrdup(sid);
	t->v[t->nr].name = NULL;
	t->nr++;
}

/* GPO state: everything in place and current when ready, else nothing. */
static struct ipam_gpo_state *gpo_state(bool ready)
{
	struct ipam_gpo_state *st = xcalloc(1, sizeof(*st));
	static const char *const guids[] = {
		"{11111111-1111-4111-8111-111111111111}",
		"{22222222-2222-4222-8222-222222222222}",
		"{33333333-3333-4333-8333-333333333333}"};

	st->domain = xstrdup(DOMAIN);
	st->domain_dn = xstrdup("DC=corp,DC=example,DC=test");
	st->domain_sid = xstrdup(DSID);
	st->netbios = xstrdup("CORP");
	st->dc = xstrdup("dc1." DOMAIN);
	st->prefix = xstrdup("IPAM");
	st->ipam_server = xstrdup("ipam1." DOMAIN);
	st->server_found = true;
	st->server_dn = xstrdup("CN=IPAM1,CN=Computers,DC=corp");
	st->server_sid = xstrdup(DSID "-1001");
	st->gplink = xstrdup("");
	for (int k = 0; k < IPAM_GPO_COUNT; k++) {
		st->gpos[k].kind = (enum ipam_pol_gpo)k;
		st->gpos[k].name = xasprintf(
			"IPAM%s", ipam_pol_gpo_suffix((enum ipam_pol_gpo)k));
	}
	if (!ready)
		return st;
	st->ipamug.exists = st->ipamug.owned = st->ipamug.has_server = true;
	st->ipamug.dn = xstrdup("CN=IPAMUG,CN=Users,DC=corp");
	st->ipamug.sid = xstrdup(DSID "-1113");
	st->elr_member = st->dns_ace = true;
	st->dns_container = xstrdup("CN=MicrosoftDNS,CN=System,DC=corp");
	for (int k = 0; k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_obs *g = &st->gpos[k];

		g->exists = g->owned = true;
		g->same_name = 1;
		g->guid = xstrdup(guids[k]);
		g->dn = xasprintf("CN=%s,CN=Policies", guids[k]);
		g->version = g->gpt_version = 1;
		g->gpt_present = true;
		g->machine_ext = xstrdup("[x]");
		g->ext_current = g->settings_current = true;
		g->dacl_current = g->folder_consistent = true;
		g->linked = true;
		g->au_read = true;
	}
	return st;
}

/* What an apply of exactly st would have recorded. */
static void applied_as(struct world *w)
{
	struct ipam_applied_domain *ad;

	w->applied.domains = xcalloc(1, sizeof(*w->applied.domains));
	w->applied.nr = 1;
	ad = &w->applied.domains[0];
	ad->domain = xstrdup(DOMAIN);
	ad->group = ad->group_member = ad->elr = ad->dns_ace = true;
	for (int k = 0; k < IPAM_GPO_COUNT; k++) {
		struct ipam_applied_gpo *g = &ad->gpos[ad->nr_gpos++];
		const struct ipam_gpo_obs *o = &w->st->gpos[k];

		g->gpo = k;
		g->guid = xstrdup(o->guid);
		g->version = o->version;
		g->linked = g->settings_current = g->dacl_current = true;
		g->filter_sids = xcalloc(o->filtering.nr + 1, sizeof(char *));
		for (size_t i = 0; i < o->filtering.nr; i++)
			g->filter_sids[g->nr_filter++] =
				xstrdup(o->filtering.v[i].sid);
	}
}

static void run_diff(struct world *w)
{
	struct ipam_gpo_state *states[1] = {w->st};
	struct ipam_diff_input in = {0};

	ipam_inventory_plan(&w->inv_plan, &w->prev, &w->obs, w->d);
	in.d = w->d;
	in.obs = &w->obs;
	in.inventory = &w->prev;
	in.inv_plan = &w->inv_plan;
	in.gpo = states;
	in.applied = &w->applied;
	ipam_diff(&w->plan, &in);
}

/* The diff again, on w's world with DNS discovery complete or not. */
static void rediff(struct world *w, bool dns_complete)
{
	ipam_plan_release(&w->plan);
	if (dns_complete)
		ipam_obs_set_status(&w->obs.domains[0].dns,
				    IPAM_VERDICT_COMPLETE, NULL);
	else
		ipam_obs_set_status(&w->obs.domains[0].dns,
				    IPAM_VERDICT_INCOMPLETE,
				    "NS query timed out");
	ipam_inv_plan_release(&w->inv_plan);
	run_diff(w);
}

static void world_free(struct world *w)
{
	ipam_plan_release(&w->plan);
	ipam_applied_release(&w->applied);
	ipam_gpo_state_free(w->st);
	ipam_inv_plan_release(&w->inv_plan);
	ipam_inventory_release(&w->prev);
	for (size_t i = 0; i < w->obs.nr_domains; i++)
		ipam_obs_domain_release(&w->obs.domains[i]);
	free(w->obs.domains);
	ipam_desired_free(w->d);
}

/* "kind target" of each action, in order, joined by "; ". */
static char *actions(const struct ipam_plan *p)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < p->nr; i++)
		strbuf_addf(&sb, "%s%c%s %s%s", i ? "; " : "",
			    (char)p->actions[i].op,
			    ipam_act_kind_name(p->actions[i].kind),
			    p->actions[i].target,
			    p->actions[i].origin == IPAM_ORIGIN_DRIFT
				    ? " (drift)"
				    : "");
	return strbuf_detach(&sb, NULL);
}

static void test_fresh_domain(void **state)
{
	struct world w = {0};
	char *got;

	(void)state;
	w.d = desired("servers:\n"
		      "  - name: dhcp1.corp.example.test\n"
		      "    manageability: managed\n"
		      "  - name: dc1.corp.example.test\n"
		      "    manageability: managed\n");
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	found(&w, "dc1.corp.example.test", IPAM_ROLE_DC | IPAM_ROLE_DNS,
	      "1000");
	found(&w, "dns9.corp.example.test", IPAM_ROLE_DNS, "1209");
	w.st = gpo_state(false);
	run_diff(&w);
	got = actions(&w.plan);
	/* Creates, updates, links, filter adds: in that order; dc1 (DC and
	 * DNS) in _DNS and _DC_NPS, dhcp1 in _DHCP, dns9 (unspecified by
	 * default) nowhere. */
	assert_string_equal(
		got, "+group IPAMUG; +group_member ipam1.corp.example.test; "
		     "+dc_grants IPAMUG; "
		     "+gpo_create IPAM_DHCP; +gpo_create IPAM_DNS; "
		     "+gpo_create IPAM_DC_NPS; "
		     "~gpo_settings IPAM_DHCP; ~gpo_security IPAM_DHCP; "
		     "~gpo_settings IPAM_DNS; ~gpo_security IPAM_DNS; "
		     "~gpo_settings IPAM_DC_NPS; ~gpo_security IPAM_DC_NPS; "
		     "+gpo_link IPAM_DHCP; +gpo_link IPAM_DNS; "
		     "+gpo_link IPAM_DC_NPS; "
		     "+filter_add dhcp1.corp.example.test; "
		     "+filter_add dc1.corp.example.test; "
		     "+filter_add dc1.corp.example.test");
	assert_int_equal(w.plan.drift, 0);
	assert_int_equal(w.plan.removals, 0);
	/* A filter add points at the YAML line that made the server
	 * managed. */
	for (size_t i = 0; i < w.plan.nr; i++)
		if (w.plan.actions[i].kind == IPAM_ACT_FILTER_ADD &&
		    !strcmp(w.plan.actions[i].target,
			    "dhcp1.corp.example.test")) {
			assert_string_equal(w.plan.actions[i].pos.file,
					    "d.yaml");
			assert_int_equal(w.plan.actions[i].pos.line, 8);
			assert_string_equal(w.plan.actions[i].sid,
					    DSID "-1201");
			assert_int_equal(w.plan.actions[i].gpo,
					 IPAM_POL_GPO_DHCP);
			assert_string_equal(w.plan.actions[i].before,
					    "not filtered");
			assert_string_equal(w.plan.actions[i].after,
					    "read + apply");
		}
	free(got);
	world_free(&w);
}

static void test_converged_is_empty(void **state)
{
	struct world w = {0};

	(void)state;
	w.d = desired("servers:\n"
		      "  - name: dhcp1.corp.example.test\n"
		      "    manageability: managed\n");
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	w.st = gpo_state(true);
	trustee(&w.st->gpos[IPAM_POL_GPO_DHCP].filtering, DSID "-1201");
	applied_as(&w);
	run_diff(&w);
	assert_int_equal(w.plan.nr, 0);
	assert_int_equal(w.plan.nr_notes, 0);
	world_free(&w);
}

static void test_drift(void **state)
{
	struct world w = {0};
	char *got;

	(void)state;
	w.d = desired("servers:\n"
		      "  - name: dhcp1.corp.example.test\n"
		      "    manageability: managed\n");
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	w.st = gpo_state(true);
	trustee(&w.st->gpos[IPAM_POL_GPO_DHCP].filtering, DSID "-1201");
	applied_as(&w);
	/* Behind ipamctl's back: the _DNS link deleted, a _DHCP settings
	 * file edited, dhcp1's filter entry removed, the DNS ACL entry
	 * removed, and someone's computer added to _DC_NPS's filtering. */
	w.st->gpos[IPAM_POL_GPO_DNS].linked = false;
	w.st->gpos[IPAM_POL_GPO_DC_NPS].link_options = 1; /* disabled */
	w.st->gpos[IPAM_POL_GPO_DHCP].settings_current = false;

	free(w.st->gpos[IPAM_POL_GPO_DHCP].filtering.v[0].sid);
	free(w.st->gpos[IPAM_POL_GPO_DHCP].filtering.v);
	memset(&w.st->gpos[IPAM_POL_GPO_DHCP].filtering, 0,
	       sizeof(w.st->gpos[IPAM_POL_GPO_DHCP].filtering));
	w.st->dns_ace = false;
	trustee(&w.st->gpos[IPAM_POL_GPO_DC_NPS].filtering, DSID "-4242");
	run_diff(&w);
	got = actions(&w.plan);
	assert_string_equal(got, "+dc_grants IPAMUG (drift); "
				 "~gpo_settings IPAM_DHCP (drift); "
				 "+gpo_link IPAM_DNS (drift); "
				 "~gpo_link IPAM_DC_NPS (drift); "
				 "+filter_add dhcp1.corp.example.test (drift); "
				 "-filter_remove " DSID "-4242 (drift)");
	assert_int_equal(w.plan.drift, 6);
	assert_int_equal(w.plan.removals, 1);
	assert_int_equal(w.plan.nr_notes, 0);
	/* The hand-added entry goes: the filtering of a GPO ipamctl owns is
	 * the managed servers of its roles. */
	{
		const struct ipam_action *a = &w.plan.actions[w.plan.nr - 1];

		assert_string_equal(a->sid, DSID "-4242");
		assert_int_equal(a->gpo, IPAM_POL_GPO_DC_NPS);
		assert_non_null(strstr(a->reason, "by someone else"));
		assert_non_null(strstr(a->reason, "not a server in the"));
	}
	free(got);
	/* The same in a domain seen incompletely: skipped, not removed. */
	rediff(&w, false);
	assert_int_equal(w.plan.removals, 0);
	assert_int_equal(w.plan.nr_skipped, 1);
	assert_non_null(strstr(w.plan.skipped[0].what, DSID "-4242"));
	world_free(&w);
}

/* A file nobody declared in an owned GPO (a security template put there
 * by hand) is settings drift, named with what it does. */
static void test_foreign_file_is_drift(void **state)
{
	struct world w = {0};
	struct ipam_gpo_obs *g;
	char *got;

	(void)state;
	w.d = desired("");
	obs_init(&w, true);
	w.st = gpo_state(true);
	applied_as(&w);
	g = &w.st->gpos[IPAM_POL_GPO_DNS];
	g->foreign = xcalloc(2, sizeof(*g->foreign));
	g->foreign[0].path = xstrdup("Machine\\Microsoft\\Windows NT\\SecEdit\\"
				     "GptTmpl.inf");
	g->foreign[0].note = xstrdup("security template: line 8: Restricted "
				     "Groups replace the members of Event "
				     "Log Readers (S-1-5-32-573) without "
				     "IPAMUG");
	g->foreign[1].path = xstrdup("Machine\\Scripts\\Startup\\x.cmd");
	g->nr_foreign = 2;
	g->settings_current = false;
	run_diff(&w);
	got = actions(&w.plan);
	assert_string_equal(got, "~gpo_settings IPAM_DNS (drift)");
	assert_non_null(strstr(w.plan.actions[0].reason,
			       "SecEdit\\GptTmpl.inf not declared (security "
			       "template: line 8: Restricted Groups replace"));
	assert_non_null(strstr(w.plan.actions[0].reason,
			       "Startup\\x.cmd not declared"));
	assert_int_equal(w.plan.drift, 1);
	/* the files it deletes count towards maxRemovals */
	assert_int_equal(w.plan.actions[0].deletes, 2);
	assert_int_equal(w.plan.removals, 2);
	free(got);
	world_free(&w);
}

static void test_unmanaged_removed_unless_incomplete(void **state)
{
	for (int complete = 1; complete >= 0; complete--) {
		struct world w = {0};
		char *got;

		(void)state;
		w.d = desired("servers:\n"
			      "  - name: dhcp1.corp.example.test\n"
			      "    manageability: unmanaged\n");
		obs_init(&w, complete);
		found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
		stored(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201",
		       IPAM_MANAGE_MANAGED);
		w.st = gpo_state(true);
		trustee(&w.st->gpos[IPAM_POL_GPO_DHCP].filtering, DSID "-1201");
		applied_as(&w);
		run_diff(&w);
		got = actions(&w.plan);
		if (complete) {
			assert_string_equal(
				got, "~manageability dhcp1.corp.example.test; "
				     "-purge dhcp1.corp.example.test; "
				     "-filter_remove dhcp1.corp.example.test");
			assert_int_equal(w.plan.removals, 2);
			assert_int_equal(w.plan.nr_skipped, 0);
		} else {
			/* Seen incompletely: no removal, listed as skipped;
			 * the inventory is not touched either. */
			assert_string_equal(got, "");
			assert_int_equal(w.plan.nr_skipped, 1);
			assert_non_null(strstr(w.plan.skipped[0].reason,
					       "NS query timed out"));
			assert_int_equal(w.plan.nr_incomplete, 1);
		}
		free(got);
		world_free(&w);
	}
}

static void test_foreign_gpo_left_alone(void **state)
{
	struct world w = {0};

	(void)state;
	w.d = desired("");
	obs_init(&w, true);
	w.st = gpo_state(true);
	w.st->gpos[IPAM_POL_GPO_DNS].owned = false;
	w.st->gpos[IPAM_POL_GPO_DNS].linked = false;
	w.st->gpos[IPAM_POL_GPO_DNS].settings_current = false;
	applied_as(&w);
	run_diff(&w);
	assert_int_equal(w.plan.nr, 0);
	assert_int_equal(w.plan.nr_notes, 1);
	assert_non_null(strstr(w.plan.notes[0], "not created by ipamctl"));
	/* not a mere note: a conflict, which no exit status passes */
	assert_int_equal(w.plan.nr_conflicts, 1);
	assert_string_equal(w.plan.conflicts[0].domain, DOMAIN);
	assert_non_null(strstr(w.plan.conflicts[0].what, "GPO IPAM_DNS {"));
	assert_non_null(strstr(w.plan.conflicts[0].reason, "--adopt"));
	world_free(&w);
}

/* A hand-made GPO of an IPAM name before the first apply: a conflict, and
 * nothing at all is done in its domain (not even the other GPOs). */
static void test_hand_made_gpo_conflict(void **state)
{
	struct world w = {0};

	(void)state;
	w.d = desired("");
	obs_init(&w, true);
	w.st = gpo_state(false);
	w.st->gpos[IPAM_POL_GPO_DNS].exists = true;
	w.st->gpos[IPAM_POL_GPO_DNS].same_name = 1;
	w.st->gpos[IPAM_POL_GPO_DNS].guid =
		xstrdup("{44444444-4444-4444-8444-444444444444}");
	run_diff(&w);
	assert_int_equal(w.plan.nr, 0);
	assert_int_equal(w.plan.nr_conflicts, 1);
	assert_non_null(strstr(w.plan.conflicts[0].what, "IPAM_DNS"));
	world_free(&w);
}

/* The GPO state unreadable (the DC down): the removals the desired state
 * asks for are still listed as skipped, from the last apply's record. */
static void test_unread_state_lists_skipped(void **state)
{
	static const char *const yaml[] = {
		"servers:\n"
		"  - name: dhcp1.corp.example.test\n"
		"    manageability: unmanaged\n",
		"    remove: true\n",
	};

	for (int rm = 0; rm < 2; rm++) {
		struct world w = {0};

		(void)state;
		w.d = desired(yaml[rm]);
		obs_init(&w, true);
		stored(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201",
		       IPAM_MANAGE_MANAGED);
		w.st = gpo_state(true);
		trustee(&w.st->gpos[IPAM_POL_GPO_DHCP].filtering, DSID "-1201");
		applied_as(&w);
		ipam_gpo_state_free(w.st);
		w.st = NULL;
		run_diff(&w);
		assert_int_equal(w.plan.nr_incomplete, 1);
		/* nothing in AD (a purge is the state database's own) */
		for (size_t i = 0; i < w.plan.nr; i++)
			assert_true(w.plan.actions[i].op != IPAM_OP_REMOVE ||
				    w.plan.actions[i].kind == IPAM_ACT_PURGE);
		if (!rm) {
			assert_int_equal(w.plan.nr_skipped, 1);
			assert_string_equal(w.plan.skipped[0].what,
					    "dhcp1.corp.example.test from "
					    "IPAM_DHCP's filtering");
		} else {
			/* three GPOs, IPAMUG */
			assert_int_equal(w.plan.nr_skipped, 4);
			assert_non_null(strstr(w.plan.skipped[0].what,
					       "(unlink and delete)"));
		}
		assert_non_null(strstr(w.plan.skipped[0].reason,
				       "GPO state unreadable"));
		world_free(&w);
	}
}

static void test_domain_no_longer_desired(void **state)
{
	struct world w = {0};
	struct ipam_applied_domain *old;

	(void)state;
	w.d = desired("");
	obs_init(&w, true);
	w.st = gpo_state(true);
	applied_as(&w);
	w.applied.domains =
		xrealloc(w.applied.domains, 2 * sizeof(*w.applied.domains));
	old = &w.applied.domains[w.applied.nr++];
	memset(old, 0, sizeof(*old));
	old->domain = xstrdup("old.example.test");
	old->group = true;
	run_diff(&w);
	/* Never a removal for a domain ipamctl cannot see: a note. */
	assert_int_equal(w.plan.nr, 0);
	assert_int_equal(w.plan.nr_notes, 1);
	assert_non_null(strstr(w.plan.notes[0], "old.example.test: no longer "
						"in the desired state"));
	world_free(&w);
}

/* remove: true takes out what ipamctl made -- unlinks, deletes, then the
 * grants and IPAMUG -- and leaves what it did not make. */
static void test_remove_domain(void **state)
{
	struct world w = {0};
	char *got;

	(void)state;
	w.d = desired("    remove: true\n");
	assert_true(w.d->domains[0].remove);
	assert_false(w.d->domains[0].dc || w.d->domains[0].dns ||
		     w.d->domains[0].dhcp);
	obs_init(&w, true);
	w.st = gpo_state(true);
	w.st->gpos[IPAM_POL_GPO_DHCP].owned = false; /* made by hand */
	w.st->gpos[IPAM_POL_GPO_DC_NPS].linked = false;
	applied_as(&w);
	run_diff(&w);
	got = actions(&w.plan);
	assert_string_equal(got, "-gpo_unlink IPAM_DNS; "
				 "-gpo_delete IPAM_DNS; "
				 "-gpo_delete IPAM_DC_NPS; "
				 "-dc_grants IPAMUG; -group IPAMUG");
	assert_int_equal(w.plan.removals, 5);
	assert_int_equal(w.plan.drift, 0);
	assert_int_equal(w.plan.nr_notes, 1);
	assert_non_null(strstr(w.plan.notes[0], "IPAM_DHCP"));
	assert_non_null(strstr(w.plan.notes[0], "left alone"));
	/* Each points at the remove key. */
	for (size_t i = 0; i < w.plan.nr; i++)
		assert_int_equal(w.plan.actions[i].pos.line, 6);
	free(got);

	/* Seen incompletely: every removal skipped. */
	rediff(&w, false);
	assert_int_equal(w.plan.nr, 0);
	assert_int_equal(w.plan.nr_skipped, 3);
	assert_int_equal(w.plan.nr_incomplete, 1);

	/* A foreign IPAMUG (and its grants) stays. */
	w.st->ipamug.owned = false;
	rediff(&w, true);
	got = actions(&w.plan);
	assert_string_equal(got, "-gpo_unlink IPAM_DNS; "
				 "-gpo_delete IPAM_DNS; "
				 "-gpo_delete IPAM_DC_NPS");
	assert_int_equal(w.plan.nr_notes, 2);
	free(got);
	/* What an apply of it records: nothing of ipamctl's is left once
	 * its GPOs are gone (the foreign IPAMUG is not remembered). */
	{
		struct ipam_diff_input in = {0};
		struct ipam_applied_domain ad;

		for (int k = 0; k < IPAM_GPO_COUNT; k++)
			w.st->gpos[k].owned = false;
		in.d = w.d;
		in.obs = &w.obs;
		in.inventory = &w.prev;
		in.inv_plan = &w.inv_plan;
		ipam_diff_applied(&ad, &in, w.st, NULL);
		assert_int_equal(ad.nr_gpos, 0);
		assert_false(ad.group || ad.group_member || ad.elr ||
			     ad.dns_ace);
		ipam_applied_domain_release(&ad);
	}
	world_free(&w);
}

static void test_roles_to_gpos(void **state)
{
	(void)state;
	assert_int_equal(ipam_gpos_for_roles(IPAM_ROLE_DHCP),
			 1u << IPAM_POL_GPO_DHCP);
	assert_int_equal(ipam_gpos_for_roles(IPAM_ROLE_DNS),
			 1u << IPAM_POL_GPO_DNS);
	assert_int_equal(ipam_gpos_for_roles(IPAM_ROLE_NPS),
			 1u << IPAM_POL_GPO_DC_NPS);
	assert_int_equal(ipam_gpos_for_roles(IPAM_ROLE_DC | IPAM_ROLE_DHCP),
			 (1u << IPAM_POL_GPO_DC_NPS) |
				 (1u << IPAM_POL_GPO_DHCP));
	assert_int_equal(ipam_gpos_for_roles(0), 0);
}

/* ---- provisioning.filtering: group ----------------------------------------
 */

#define GROUP_HEAD                                                             \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: gpo, gpoPrefix: IPAM, filtering: group}\n"     \
	"discovery:\n"                                                         \
	"  - domain: corp.example.test\n"                                      \
	"servers:\n"                                                           \
	"  - name: dhcp1.corp.example.test\n"                                  \
	"    manageability: managed\n"

/* Each GPO's filter group named; made (owned or not, with its SID) when
 * exists. */
static void fgroups(struct ipam_gpo_state *st, bool exists, bool owned)
{
	for (int k = 0; k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_fgroup *f = &st->gpos[k].fgroup;

		f->name = xasprintf("%s_Servers", st->gpos[k].name);
		f->dn = xasprintf("CN=%s,CN=Users,DC=corp", f->name);
		f->exists = exists;
		f->owned = exists && owned;
		f->members_read = true;
		if (exists)
			f->sid = xasprintf(DSID "-%d", 1500 + k);
	}
}

/* Computer mode converged, then filtering: group: the groups are made
 * and filled first, their ACEs go in, the servers' own ACEs go last --
 * updates, not removals: no server is unfiltered on the way. */
static void test_group_switch(void **state)
{
	struct world w = {0};
	char *got;

	(void)state;
	w.d = desired_from_text(GROUP_HEAD);
	assert_non_null(w.d);
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	w.st = gpo_state(true);
	fgroups(w.st, false, false);
	trustee(&w.st->gpos[IPAM_POL_GPO_DHCP].filtering, DSID "-1201");
	applied_as(&w);
	run_diff(&w);
	got = actions(&w.plan);
	assert_string_equal(got, "+filter_group IPAM_DHCP_Servers; "
				 "+member_add dhcp1.corp.example.test; "
				 "+filter_group IPAM_DNS_Servers; "
				 "+filter_group IPAM_DC_NPS_Servers; "
				 "+filter_add IPAM_DHCP_Servers; "
				 "+filter_add IPAM_DNS_Servers; "
				 "+filter_add IPAM_DC_NPS_Servers; "
				 "~filter_remove dhcp1.corp.example.test");
	assert_int_equal(w.plan.removals, 0);
	assert_string_equal(w.plan.actions[1].sid, DSID "-1201");
	free(got);
	world_free(&w);
}

/* Group mode converged, then drift by hand: a member removed, someone
 * else's added, a group's ACE taken off its GPO. */
static void test_group_drift(void **state)
{
	struct world w = {0};
	char *got;

	(void)state;
	w.d = desired_from_text(GROUP_HEAD);
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	w.st = gpo_state(true);
	fgroups(w.st, true, true);
	for (int k = 0; k < IPAM_GPO_COUNT; k++) {
		w.st->gpos[k].fgroup.ace = true;
		trustee(&w.st->gpos[k].filtering, w.st->gpos[k].fgroup.sid);
	}
	trustee(&w.st->gpos[IPAM_POL_GPO_DHCP].fgroup.members, DSID "-1201");
	applied_as(&w);
	run_diff(&w);
	assert_int_equal(w.plan.nr, 0);

	ipam_plan_release(&w.plan);
	ipam_gpo_trustees_release(
		&w.st->gpos[IPAM_POL_GPO_DHCP].fgroup.members);
	trustee(&w.st->gpos[IPAM_POL_GPO_DNS].fgroup.members, DSID "-500");
	ipam_gpo_trustees_release(&w.st->gpos[IPAM_POL_GPO_DC_NPS].filtering);
	w.st->gpos[IPAM_POL_GPO_DC_NPS].fgroup.ace = false;
	/* the record of the last apply holds the members too */
	w.applied.domains[0].gpos[IPAM_POL_GPO_DHCP].filter_sids[1] =
		xstrdup(DSID "-1201");
	w.applied.domains[0].gpos[IPAM_POL_GPO_DHCP].nr_filter = 2;
	ipam_inv_plan_release(&w.inv_plan);
	run_diff(&w);
	got = actions(&w.plan);
	assert_string_equal(got, "+member_add dhcp1.corp.example.test (drift); "
				 "+filter_add IPAM_DC_NPS_Servers (drift); "
				 "-member_remove " DSID "-500 (drift)");
	assert_int_equal(w.plan.removals, 1);
	free(got);
	world_free(&w);
}

/* A group of the name ipamctl did not make: a conflict, nothing done. */
static void test_group_hand_made(void **state)
{
	struct world w = {0};

	(void)state;
	w.d = desired_from_text(GROUP_HEAD);
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	w.st = gpo_state(true);
	fgroups(w.st, true, false);
	run_diff(&w);
	assert_int_equal(w.plan.nr, 0);
	assert_int_equal(w.plan.nr_conflicts, IPAM_GPO_COUNT);
	assert_non_null(strstr(w.plan.conflicts[0].what, "IPAM_DHCP_Servers"));
	assert_non_null(strstr(w.plan.conflicts[0].reason, "--adopt"));
	world_free(&w);
}

/* Back to filtering: computer: the servers' own ACEs and the group's
 * going out in one DACL write, then the group deleted (a removal). */
static void test_group_switch_back(void **state)
{
	struct world w = {0};
	char *got;

	(void)state;
	w.d = desired("servers:\n"
		      "  - name: dhcp1.corp.example.test\n"
		      "    manageability: managed\n");
	obs_init(&w, true);
	found(&w, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "1201");
	w.st = gpo_state(true);
	fgroups(w.st, false, false);
	{
		struct ipam_gpo_obs *g = &w.st->gpos[IPAM_POL_GPO_DHCP];

		g->fgroup.exists = g->fgroup.owned = g->fgroup.ace = true;
		g->fgroup.sid = xstrdup(DSID "-1500");
		trustee(&g->filtering, DSID "-1500");
	}
	applied_as(&w);
	run_diff(&w);
	got = actions(&w.plan);
	assert_string_equal(got, "+filter_add dhcp1.corp.example.test; "
				 "~filter_remove IPAM_DHCP_Servers; "
				 "-filter_group IPAM_DHCP_Servers");
	assert_int_equal(w.plan.removals, 1);
	free(got);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_domain),
		cmocka_unit_test(test_converged_is_empty),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_foreign_file_is_drift),
		cmocka_unit_test(test_unmanaged_removed_unless_incomplete),
		cmocka_unit_test(test_foreign_gpo_left_alone),
		cmocka_unit_test(test_hand_made_gpo_conflict),
		cmocka_unit_test(test_unread_state_lists_skipped),
		cmocka_unit_test(test_domain_no_longer_desired),
		cmocka_unit_test(test_remove_domain),
		cmocka_unit_test(test_roles_to_gpos),
		cmocka_unit_test(test_group_switch),
		cmocka_unit_test(test_group_drift),
		cmocka_unit_test(test_group_hand_made),
		cmocka_unit_test(test_group_switch_back),
	};

	return cmocka_run_group_tests_name("diff", tests, NULL, NULL);
}
