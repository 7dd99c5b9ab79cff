/*
 * A saved plan against the plan computed now: stale digests, edited,
 * added, repeated or dropped fields and actions are refused; "source"
 * may differ; the same plan passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "plancheck.h"

#define ACT(target, src)                                                       \
	"{\"seq\":1,\"kind\":\"group\",\"op\":\"create\",\"target\":\"" target \
	"\",\"gpo\":null,\"source\":{\"file\":\"" src "\",\"line\":2}}"
#define PLAN(acts)                                                             \
	"{\"config_digest\":\"cd\",\"observed_fingerprint\":\"fp\","           \
	"\"actions\":[" acts "]}"

static struct ipam_node *parse(const char *s)
{
	struct ipam_node *n = NULL;

	assert_int_equal(ipam_json_parse(&n, "t", s, strlen(s)), 0);
	return n;
}

static int check(const char *saved, const char *fresh, const char *cd)
{
	struct ipam_node *a = parse(saved), *b = parse(fresh);
	int rc = ipam_plancheck_shape(a, "p.json");

	if (!rc)
		rc = ipam_plancheck_saved("p.json", a, b, cd, "fp");
	ipam_node_free(a);
	ipam_node_free(b);
	return rc;
}

static void test_shape(void **state)
{
	(void)state;
	assert_int_equal(check("{\"actions\":[]}", PLAN(""), "cd"),
			 IPAM_EINVAL);
	assert_int_equal(check("{\"config_digest\":\"cd\","
			       "\"observed_fingerprint\":\"fp\","
			       "\"actions\":{}}",
			       PLAN(""), "cd"),
			 IPAM_EINVAL);
	assert_string_equal(ipam_error_last(),
			    "'p.json' is not a saved ipamctl plan");
}

static void test_same(void **state)
{
	(void)state;
	assert_int_equal(check(PLAN(ACT("IPAMUG", "a.yaml")),
			       PLAN(ACT("IPAMUG", "a.yaml")), "cd"),
			 0);
	/* where the YAML asked for it is provenance */
	assert_int_equal(check(PLAN(ACT("IPAMUG", "/ci/checkout/a.yaml")),
			       PLAN(ACT("IPAMUG", "a.yaml")), "cd"),
			 0);
	assert_int_equal(check(PLAN(""), PLAN(""), "cd"), 0);
}

static void test_refused(void **state)
{
	(void)state;
	assert_int_equal(check(PLAN(""), PLAN(""), "other"), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "is stale"));

	assert_int_equal(check(PLAN(ACT("Evil", "a.yaml")),
			       PLAN(ACT("IPAMUG", "a.yaml")), "cd"),
			 IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(),
			       "action 1's target is 'Evil' in the file, "
			       "'IPAMUG' now"));

	assert_int_equal(check(PLAN(""), PLAN(ACT("IPAMUG", "a")), "cd"),
			 IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "0 actions in the file"));

	/* a field no action has */
	assert_int_equal(check(PLAN("{\"seq\":1,\"kind\":\"group\","
				    "\"op\":\"create\",\"target\":\"IPAMUG\","
				    "\"gpo\":null,\"extra\":1}"),
			       PLAN(ACT("IPAMUG", "a")), "cd"),
			 IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "was edited"));

	/* a field repeated (the second value is what a reader of the file
	 * believes): the JSON reader already refuses it */
	{
		static const char dup[] = PLAN(
			"{\"seq\":1,\"target\":\"IPAMUG\",\"target\":\"E\"}");
		struct ipam_node *n = NULL;

		assert_int_not_equal(
			ipam_json_parse(&n, "t", dup, sizeof(dup) - 1), 0);
		assert_null(n);
	}

	/* a value of another type */
	assert_int_equal(check(PLAN("{\"seq\":\"1\",\"kind\":\"group\","
				    "\"op\":\"create\",\"target\":\"IPAMUG\","
				    "\"gpo\":null}"),
			       PLAN(ACT("IPAMUG", "a")), "cd"),
			 IPAM_ECONFLICT);
	assert_int_equal(check(PLAN("[]"), PLAN(ACT("IPAMUG", "a")), "cd"),
			 IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "is not an object"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
