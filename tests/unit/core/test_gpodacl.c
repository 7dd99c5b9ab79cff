/*
 * The GPO DACL decisions: what a DACL says (readers, appliers, editors,
 * filtering, current or not) and the DACL to write for a filtering
 * change.  Starts from the DACL Samba 4.17 gives a groupPolicyContainer
 * created over LDAP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "gpodacl.h"
#include "gpostate.h"
#include "sd.h"
#include "strbuf.h"

#define DOM    "S-1-5-21-2820351779-2267529607-1606226845"
#define IPAMUG DOM "-1200"
#define ALICE  DOM "-1300"
#define PC     DOM "-1105"

#define GPC_SDDL                                                               \
	"O:" DOM "-512G:" DOM "-512D:P(A;CIIO;RPWPCCDCLCLORCWOWDSDDTSW;;;CO)"  \
	"(A;CI;RPLCLORC;;;ED)(A;CI;RPLCLORC;;;AU)"                             \
	"(OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"                  \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;SY)"                                 \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"                        \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-519)"                        \
	"(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"

static const char *const editors[] = {ALICE};
static const char *const editor_names[] = {"CORP\\alice"};

static struct ipam_sd *parse(const char *sddl)
{
	struct ipam_sd *sd = NULL;

	if (ipam_sd_from_sddl(&sd, sddl, NULL))
		fail_msg("%s: %s", sddl, ipam_error_last());
	return sd;
}

static bool has(const struct ipam_gpo_trustees *t, const char *sid)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->v[i].sid, sid))
			return true;
	return false;
}

static void release(struct ipam_gpo_obs *g)
{
	ipam_gpo_trustees_release(&g->readers);
	ipam_gpo_trustees_release(&g->appliers);
	ipam_gpo_trustees_release(&g->editors);
	ipam_gpo_trustees_release(&g->filtering);
	ipam_sd_free(g->sd);
	g->sd = NULL;
}

static void test_decode_default(void **state)
{
	struct ipam_gpo_obs g = {0};

	(void)state;
	g.sd = parse(GPC_SDDL);
	ipam_gpodacl_decode(&g, IPAMUG, editors, 1);
	assert_true(g.au_read);
	assert_true(g.au_apply);
	assert_true(has(&g.readers, "S-1-5-11"));
	assert_true(has(&g.readers, "S-1-5-9"));
	assert_true(has(&g.appliers, "S-1-5-11"));
	assert_true(has(&g.editors, DOM "-512"));
	/* CREATOR OWNER's ACE only reaches children: no editor. */
	assert_false(has(&g.editors, "S-1-3-0"));
	/* AU is not filtering; nobody else is. */
	assert_int_equal(g.filtering.nr, 0);
	assert_false(g.dacl_current);
	/* The size decode reads back equals the layout's computation. */
	assert_int_equal(g.dacl_size, ipam_gpodacl_bytes(g.sd));
	assert_true(g.dacl_size > 8);
	release(&g);
}

static void test_plan_and_decode(void **state)
{
	const char *add[] = {PC};
	struct ipam_gpodacl_want w = {
		"corp.example.test: GPO IPAM1_DHCP",
		IPAMUG,
		editors,
		editor_names,
		1,
		add,
		1,
		NULL,
		0,
	};
	struct ipam_gpodacl_plan p;
	struct ipam_sd *sd = parse(GPC_SDDL);
	struct ipam_gpo_obs g = {0};

	(void)state;
	assert_int_equal(ipam_gpodacl_plan(&p, sd, &w), 0);
	assert_non_null(strstr(p.what.buf, "Authenticated Users loses apply"));
	assert_non_null(strstr(p.what.buf, "CORP\\alice may edit, delete, "
					   "modify security"));
	assert_non_null(
		strstr(p.what.buf, "IPAMUG may edit, delete, modify security"));
	assert_non_null(strstr(p.what.buf, "1 ACE folded into another"));
	assert_non_null(strstr(p.what.buf, "filtering +1 -0"));
	assert_int_equal(p.added, 1);
	assert_int_equal(p.removed, 0);
	assert_int_equal(p.size, ipam_gpodacl_bytes(p.sd));
	/* The observed descriptor is left as it was. */
	assert_int_equal(sd->dacl->count, 8);

	/* What the plan makes is what ipamctl wants. */
	g.sd = ipam_sd_dup(p.sd);
	ipam_gpodacl_decode(&g, IPAMUG, editors, 1);
	assert_true(g.au_read);
	assert_false(g.au_apply);
	assert_true(g.dacl_current);
	assert_true(has(&g.filtering, PC));
	assert_true(has(&g.editors, IPAMUG));
	ipam_gpodacl_plan_release(&p);

	/* Again over its own result: nothing to do. */
	w.nr_add = 0;
	assert_int_equal(ipam_gpodacl_plan(&p, g.sd, &w), 0);
	assert_string_equal(p.what.buf, "");
	ipam_gpodacl_plan_release(&p);

	/* Filtering out changes one computer. */
	w.remove_sids = add;
	w.nr_remove = 1;
	assert_int_equal(ipam_gpodacl_plan(&p, g.sd, &w), 0);
	assert_int_equal(p.removed, 1);
	assert_string_equal(p.what.buf, "filtering +0 -1");
	ipam_gpodacl_plan_release(&p);
	/* Nor is IPAMUG's edit right enough without the delegated user. */
	ipam_gpodacl_decode(&g, IPAMUG, (const char *const[]){DOM "-1301"}, 1);
	assert_false(g.dacl_current);
	release(&g);
	ipam_sd_free(sd);
}

static void test_plan_limits(void **state)
{
	enum { N = 750 };
	char **sids = calloc(N, sizeof(char *));
	struct ipam_gpodacl_want w = {0};
	struct ipam_gpodacl_plan p;
	struct ipam_sd *sd = parse(GPC_SDDL);

	(void)state;
	for (size_t i = 0; i < N; i++) {
		sids[i] = malloc(80);
		snprintf(sids[i], 80, DOM "-%zu", 5000 + i);
	}
	w.label = "corp.example.test: GPO IPAM1_DHCP";
	w.ipamug_sid = IPAMUG;
	w.add_sids = (const char *const *)sids;
	w.nr_add = N;
	/* 750 computers, two ACEs each, outgrow AD's 64 KiB ACL. */
	assert_int_equal(ipam_gpodacl_plan(&p, sd, &w), IPAM_ELIMIT);
	assert_non_null(strstr(ipam_error_last(),
			       "corp.example.test: GPO IPAM1_DHCP: the DACL "
			       "would need"));
	assert_null(p.sd);
	/* A SID that does not parse is refused, not skipped. */
	w.nr_add = 1;
	w.add_sids = (const char *const[]){"S-1-bogus"};
	assert_int_equal(ipam_gpodacl_plan(&p, sd, &w), IPAM_EINVAL);
	for (size_t i = 0; i < N; i++)
		free(sids[i]);
	free(sids);
	ipam_sd_free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_default),
		cmocka_unit_test(test_plan_and_decode),
		cmocka_unit_test(test_plan_limits),
	};

	return cmocka_run_group_tests_name("gpodacl", tests, NULL, NULL);
}
