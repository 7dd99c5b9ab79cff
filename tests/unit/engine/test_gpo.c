/*
 * The GPO engine's pure parts: gPLink editing, ownership marks, and the
 * two DACL transformations that make `samba-tool gpo aclcheck` pass
 * (folding ACEs whose folder mapping repeats, ordering like the folder).
 * The DACL is the one Samba 4.17 gives a groupPolicyContainer created
 * over LDAP, as samba-tool dsacl get printed it in the lab.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "gpo.h"
#include "sd.h"
#include "strbuf.h"

#define DOM "S-1-5-21-2820351779-2267529607-1606226845"
#define A                                                                      \
	"CN={A2D2BF7D-026E-46F6-ADF4-2D369AB4781D},CN=Policies,CN=System,DC="  \
	"corp,DC=example,DC=test"
#define B                                                                      \
	"CN={31B2F340-016D-11D2-945F-00C04FB984F9},CN=Policies,CN=System,DC="  \
	"corp,DC=example,DC=test"

/* As Samba 4.17 creates it (owner/group DA; DA twice). */
#define GPC_SDDL                                                               \
	"O:" DOM "-512G:" DOM "-512D:P(A;CIIO;RPWPCCDCLCLORCWOWDSDDTSW;;;CO)"  \
	"(A;CI;RPLCLORC;;;ED)(A;CI;RPLCLORC;;;AU)"                             \
	"(OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"                  \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;SY)"                                 \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"                        \
	"(A;CI;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-519)"                        \
	"(A;;RPWPCCDCLCLORCWOWDSDDTSW;;;" DOM "-512)"

static void test_gplink_find(void **state)
{
	const char *gl = "[LDAP://" A ";0][ldap://" B ";3]";

	(void)state;
	assert_int_equal(ipam_gplink_find(gl, A), 0);
	assert_int_equal(ipam_gplink_find(gl, B), 3);
	/* DNs compare case-insensitively, as AD does. */
	assert_int_equal(ipam_gplink_find(gl, "cn={a2d2bf7d-026e-46f6-adf4-"
					      "2d369ab4781d},cn=policies,"
					      "cn=system,dc=corp,dc=example,"
					      "dc=test"),
			 0);
	assert_int_equal(ipam_gplink_find(gl, "CN=other"), -1);
	assert_int_equal(ipam_gplink_find("", A), -1);
	assert_int_equal(ipam_gplink_find(NULL, A), -1);
	/* A prefix of a linked DN is not linked. */
	assert_int_equal(ipam_gplink_find(gl, "CN={A2D2BF7D"), -1);
	/* Garbage without brackets: nothing linked, no crash. */
	assert_int_equal(ipam_gplink_find("[LDAP://" A ";0", A), -1);
}

static void test_gplink_set_remove(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* New links go in front, as GPMC adds them. */
	assert_int_equal(ipam_gplink_set(&sb, "[LDAP://" B ";0]", A, 0), 0);
	assert_string_equal(sb.buf, "[LDAP://" A ";0][LDAP://" B ";0]");
	/* An existing link keeps its place and spelling; options change. */
	strbuf_reset(&sb);
	assert_int_equal(
		ipam_gplink_set(&sb, "[LDAP://" B ";0][ldap://" A ";1]", A, 0),
		0);
	assert_string_equal(sb.buf, "[LDAP://" B ";0][ldap://" A ";0]");
	strbuf_reset(&sb);
	assert_int_equal(ipam_gplink_set(&sb, "", A, 2), 0);
	assert_string_equal(sb.buf, "[LDAP://" A ";2]");
	/* A DN that would break the syntax is refused. */
	strbuf_reset(&sb);
	assert_int_equal(ipam_gplink_set(&sb, "", "CN=a];x", 0), IPAM_EINVAL);

	strbuf_reset(&sb);
	ipam_gplink_remove(&sb, "[LDAP://" A ";0][LDAP://" B ";0]", A);
	assert_string_equal(sb.buf, "[LDAP://" B ";0]");
	strbuf_reset(&sb);
	ipam_gplink_remove(&sb, "[LDAP://" A ";0]", A);
	assert_string_equal(sb.buf, "");
	strbuf_reset(&sb);
	ipam_gplink_remove(&sb, "[LDAP://" B ";1]", A);
	assert_string_equal(sb.buf, "[LDAP://" B ";1]");
	strbuf_release(&sb);
}

static void test_marks(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	ipam_gpo_mark(&sb, "ipam1.corp.example.test", "IPAM1", "/srv/desired");
	assert_string_equal(sb.buf,
			    "ipamctl/1; ipamServer=ipam1.corp.example.test; "
			    "gpoPrefix=IPAM1; source=/srv/desired");
	assert_true(ipam_gpo_mark_owned(sb.buf, "ipam1.corp.example.test",
					"IPAM1"));
	/* Host names compare without case; another server or prefix is
	 * somebody else's. */
	assert_true(ipam_gpo_mark_owned(sb.buf, "IPAM1.corp.example.test",
					"ipam1"));
	assert_false(ipam_gpo_mark_owned(sb.buf, "ipam2.corp.example.test",
					 "IPAM1"));
	assert_false(
		ipam_gpo_mark_owned(sb.buf, "ipam1.corp.example.test", "IPAM"));
	assert_false(ipam_gpo_mark_owned(NULL, "ipam1", "IPAM1"));
	assert_false(ipam_gpo_mark_owned("", "ipam1", "IPAM1"));
	/* Without the ipamctl prefix it is not a mark at all. */
	assert_false(ipam_gpo_mark_owned(
		"made by hand; ipamServer=ipam1; gpoPrefix=IPAM1", "ipam1",
		"IPAM1"));
	/* A key that only ends like ours does not count. */
	assert_false(ipam_gpo_mark_owned(
		"ipamctl/1; xipamServer=ipam1; gpoPrefix=IPAM1", "ipam1",
		"IPAM1"));
	strbuf_release(&sb);
}

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
	assert_int_equal(ipam_gpo_fold_duplicates(sd), 1);
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
	assert_int_equal(ipam_gpo_fold_duplicates(sd), 0);
	ipam_sd_free(fs);
	ipam_sd_free(sd);

	/* Rights are merged, not lost: a CR-only object-level ACE and a
	 * read ACE of the same trustee map to the same folder ACE. */
	sd = parse("O:SYG:SYD:P(A;CI;RPLCLORC;;;" DOM
		   "-1200)(A;;RPLCLORCCR;;;" DOM "-1200)(A;CI;RPLCLORC;;;" DOM
		   "-1201)");
	assert_int_equal(ipam_gpo_fold_duplicates(sd), 1);
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
	assert_int_equal(ipam_gpo_fold_duplicates(sd), 1);
	assert_int_equal(ipam_sd_to_fs(&fs, sd), 0);
	/* smbcacls' order, as it printed this folder in the lab. */
	sorted = parse("O:" DOM "-512G:" DOM "-512D:P"
		       "(OA;OICI;;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)"
		       "(A;OICIIO;0x001f01ff;;;CO)"
		       "(A;OICI;0x001200a9;;;ED)(A;OICI;0x001200a9;;;AU)"
		       "(A;OICI;0x001f01ff;;;SY)"
		       "(A;OICI;0x001f01ff;;;" DOM "-512)"
		       "(A;OICI;0x001f01ff;;;" DOM "-519)");
	assert_int_equal(ipam_gpo_order_like_folder(sd, sorted), 0);
	/* The AD DACL now maps ACE for ACE onto the folder's. */
	assert_int_equal(ipam_sd_to_fs(&again, sd), 0);
	want = sddl_of(sorted);
	got = sddl_of(again);
	assert_string_equal(got, want);
	/* Same ACEs, only their order changed. */
	{
		struct ipam_sd *folded = parse(GPC_SDDL);

		assert_int_equal(ipam_gpo_fold_duplicates(folded), 1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gplink_find),
		cmocka_unit_test(test_gplink_set_remove),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_fold_duplicates),
		cmocka_unit_test(test_order_like_folder),
	};

	return cmocka_run_group_tests_name("gpo", tests, NULL, NULL);
}
