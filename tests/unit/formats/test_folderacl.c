/*
 * The folder-ACL side of a GPO's DACL: folding ACEs whose folder mapping
 * repeats, ordering like the folder (the two transformations that make
 * `samba-tool gpo aclcheck` pass), the folder ACL Samba derives and the
 * comparison of two folder ACLs.  The DACL is the one Samba 4.17 gives a
 * groupPolicyContainer created over LDAP, as samba-tool dsacl get printed
 * it in the lab.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "folderacl.h"
#include "sd.h"
#include "strbuf.h"

#define DOM "S-1-5-21-2820351779-2267529607-1606226845"
/* As Samba 4.17 creates it (owner/group DA; DA twice). */
#define GPC_SDDL                                                               \
	"O:" DOM "-512G:" DOM "-512D:P(A;CIIO;RPWPCCDCLCLORCWOWDSDDTSW;;;CO)"  \
	"(A;CI;RPLCLORC;;;ED)(A;CI;RPLCLORC;;;AU)"                             \
	"(OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"                  \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;SY)"                                 \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"                        \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-519)"                        \
	"(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"

static struct ipam_sd *parse(const char *sddl)
{
	struct ipam_sd *sd = NULL;

	if (ipam_sd_from_sddl(&sd, sddl, NULL))
		fail_msg("%s: %s", sddl, ipam_error_last());
	return sd;
}

static char *sddl_of(const struct ipam_sd *sd)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(ipam_sd_to_sddl(&sb, sd, NULL), 0);
	return strbuf_detach(&sb, NULL);
}

static void test_fold_duplicates(void **state)
{
	struct ipam_sd *sd = parse(GPC_SDDL), *fs = NULL;
	char *text;

	(void)state;
	assert_int_equal(sd->dacl->count, 8);
	/* The object-only DA ACE maps to the same folder ACE as the CI one
	 * (OICI 0x1f01ff): it goes, its rights already held by the other. */
	assert_int_equal(ipam_folderacl_fold_duplicates(sd), 1);
	assert_int_equal(sd->dacl->count, 7);
	text = sddl_of(sd);
	assert_null(
		strstr(text, "(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"));
	assert_non_null(
		strstr(text, "(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"));
	free(text);
	/* Now every folder ACE is distinct. */
	assert_int_equal(ipam_sd_to_fs(&fs, sd), 0);
	for (size_t i = 0; i < fs->dacl->count; i++)
		for (size_t j = i + 1; j < fs->dacl->count; j++)
			assert_false(ipam_ace_equal(&fs->dacl->aces[i],
						    &fs->dacl->aces[j]));
	/* Folding again changes nothing. */
	assert_int_equal(ipam_folderacl_fold_duplicates(sd), 0);
	ipam_sd_free(fs);
	ipam_sd_free(sd);

	/* Rights are merged, not lost: a CR-only object-level ACE and a
	 * read ACE of the same trustee map to the same folder ACE. */
	sd = parse("O:SYG:SYD:P(A;CI;RPLCLORC;;;" DOM
		   "-1200)(A;;RPLCLORCCR;;;" DOM "-1200)(A;CI;RPLCLORC;;;" DOM
		   "-1201)");
	assert_int_equal(ipam_folderacl_fold_duplicates(sd), 1);
	text = sddl_of(sd);
	assert_string_equal(text, "O:SYG:SYD:P(A;CI;RPCRLCLORC;;;" DOM
				  "-1200)(A;CI;RPLCLORC;;;" DOM "-1201)");
	free(text);
	ipam_sd_free(sd);
}

static void test_order_like_folder(void **state)
{
	struct ipam_sd *sd = parse(GPC_SDDL), *fs = NULL, *sorted,
		       *again = NULL;
	char *want, *got;

	(void)state;
	assert_int_equal(ipam_folderacl_fold_duplicates(sd), 1);
	assert_int_equal(ipam_sd_to_fs(&fs, sd), 0);
	/* smbcacls' order, as it printed this folder in the lab. */
	sorted = parse("O:" DOM "-512G:" DOM "-512D:P"
		       "(OA;OICI;;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"
		       "(A;OICIIO;0x001f01ff;;;CO)"
		       "(A;OICI;0x001200a9;;;ED)(A;OICI;0x001200a9;;;AU)"
		       "(A;OICI;0x001f01ff;;;SY)"
		       "(A;OICI;0x001f01ff;;;" DOM "-512)"
		       "(A;OICI;0x001f01ff;;;" DOM "-519)");
	assert_int_equal(ipam_folderacl_order_like(sd, sorted), 0);
	/* The AD DACL now maps ACE for ACE onto the folder's. */
	assert_int_equal(ipam_sd_to_fs(&again, sd), 0);
	want = sddl_of(sorted);
	got = sddl_of(again);
	assert_string_equal(got, want);
	/* Same ACEs, only their order changed. */
	{
		struct ipam_sd *folded = parse(GPC_SDDL);

		assert_int_equal(ipam_folderacl_fold_duplicates(folded), 1);
		assert_true(ipam_sd_canonical_equal(sd, folded));
		assert_int_equal(sd->dacl->count, 7);
		ipam_sd_free(folded);
	}
	free(want);
	free(got);
	ipam_sd_free(again);
	ipam_sd_free(sorted);
	ipam_sd_free(fs);
	ipam_sd_free(sd);
}

static void test_want_and_same(void **state)
{
	struct ipam_sd *sd = parse("O:SYG:SYD:P(A;CI;RPLCLORC;;;AU)");
	struct ipam_sid dom;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(ipam_folderacl_want(&sb, sd), 0);
	/* Read on the object maps to read and execute on the folder. */
	assert_string_equal(sb.buf, "O:SYG:SYD:P(A;OICI;0x001200a9;;;AU)");
	assert_int_equal(ipam_sid_parse(&dom, DOM, NULL), 0);
	/* Aliases and S- forms compare equal once resolved. */
	assert_true(ipam_folderacl_same(sb.buf,
					"O:S-1-5-18G:S-1-5-18D:P"
					"(A;OICI;0x001200a9;;;S-1-5-11)",
					&dom));
	assert_true(ipam_folderacl_same("O:DAG:DAD:P(A;OICI;FA;;;DA)",
					"O:" DOM "-512G:" DOM "-512D:P"
					"(A;OICI;FA;;;" DOM "-512)",
					&dom));
	assert_false(ipam_folderacl_same(
		sb.buf, "O:SYG:SYD:P(A;OICI;0x001f01ff;;;AU)", &dom));
	/* Text that does not parse compares as it is. */
	assert_true(ipam_folderacl_same("garbage", "garbage", &dom));
	assert_false(ipam_folderacl_same("garbage", sb.buf, &dom));
	strbuf_release(&sb);
	ipam_sd_free(sd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_duplicates),
		cmocka_unit_test(test_order_like_folder),
		cmocka_unit_test(test_want_and_same),
	};

	return cmocka_run_group_tests_name("folderacl", tests, NULL, NULL);
}
