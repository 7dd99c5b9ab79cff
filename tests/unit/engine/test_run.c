/* The run lifecycle without AD: a temporary state database (SQLite's
 * file, or a PostgreSQL database in the _pg variant) and the caller's own
 * prepare and apply steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "db.h"
#include "error.h"
#include "run.h"
#include "testutil.h"

struct fx {
	char *dir, *path;
	struct ipam_db *db;
	struct ipam_desired *d;
	/* what the steps saw */
	int prepared, applied;
	char *lock_seen; /* the lock's holder while the run ran */
	int fail_prepare, fail_apply;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int from, to;

	f->dir = tmpdir_make();
	f->path = test_db_new(f->dir);
	f->d = desired_from_text("version: 1\n"
				 "ipamServer: ipam1.corp.example.test\n"
				 "provisioning: {method: gpo, gpoPrefix: "
				 "IPAM}\n");
	if (!f->dir || !f->d || ipam_db_open(&f->db, f->path, IPAM_DB_CREATE) ||
	    ipam_db_migrate(f->db, &from, &to))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ipam_db_close(f->db);
	ipam_desired_free(f->d);
	tmpdir_remove(f->dir);
	free(f->path);
	free(f->lock_seen);
	free(f);
	return 0;
}

static int prepare(struct ipam_run *run, void *ctx)
{
	struct fx *f = ctx;

	(void)run;
	f->prepared++;
	free(f->lock_seen);
	f->lock_seen = sqlite_query(f->path, "SELECT command FROM "
					     "reconcile_lock");
	if (f->fail_prepare)
		return ipam_error_set(IPAM_EIO, "cannot read 'the GPO'");
	return 0;
}

static int apply(struct ipam_run *run, void *ctx)
{
	struct fx *f = ctx;

	(void)run;
	f->applied++;
	if (f->fail_apply)
		return ipam_error_set(IPAM_ERROR, "apply broke");
	return 0;
}

static void run_init(struct ipam_run *run, struct fx *f,
		     enum ipam_run_kind kind)
{
	ipam_run_init(run, kind, f->d, f->db);
	run->prepare = prepare;
	run->apply = apply;
	run->ctx = f;
}

/* The one run in the history: "command|outcome|summary". */
static char *the_run(const struct fx *f)
{
	return sqlite_query(f->path, "SELECT (SELECT count(*) FROM runs) || "
				     "'|' || command || '|' || outcome || "
				     "'|' || coalesce(summary, '') FROM runs");
}

static char *the_lock(const struct fx *f)
{
	return sqlite_query(f->path, "SELECT count(*) FROM reconcile_lock");
}

static void test_success(void **state)
{
	struct fx *f = *state;
	struct ipam_run run;
	char *s;

	run_init(&run, f, IPAM_RUN_PROVISION);
	assert_int_equal(ipam_run_begin(&run), 0);
	assert_true(run.locked);
	assert_true(run.id > 0);
	assert_int_equal(ipam_run_prepare(&run), 0);
	assert_int_equal(ipam_run_apply(&run), 0);
	run.summary = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(run.summary, "domain", "corp.example.test");
	assert_int_equal(ipam_run_end(&run, "succeeded", NULL), 0);
	assert_false(run.locked);
	ipam_run_release(&run);

	assert_int_equal(f->prepared, 1);
	assert_int_equal(f->applied, 1);
	assert_string_equal(f->lock_seen, "provision");
	s = the_lock(f);
	assert_string_equal(s, "0");
	free(s);
	s = the_run(f);
	assert_string_equal(s, "1|provision|succeeded|"
			       "{\"domain\":\"corp.example.test\"}");
	free(s);
}

static void test_failure_records_error(void **state)
{
	struct fx *f = *state;
	struct ipam_run run;
	char *s;

	f->fail_prepare = 1;
	run_init(&run, f, IPAM_RUN_PLAN);
	assert_int_equal(ipam_run_begin(&run), 0);
	assert_int_equal(ipam_run_prepare(&run), IPAM_EIO);
	assert_int_equal(ipam_run_end(&run, "failed", ipam_error_last()), 0);
	ipam_run_release(&run);

	assert_int_equal(f->applied, 0);
	assert_string_equal(f->lock_seen, "plan");
	s = the_lock(f);
	assert_string_equal(s, "0");
	free(s);
	/* plan's summary: the reconciler's counts (none) and the error */
	s = the_run(f);
	assert_string_equal(s, "1|plan|failed|{\"actions\":0,\"create\":0,"
			       "\"update\":0,\"remove\":0,\"drift\":0,"
			       "\"error\":\"cannot read 'the GPO'\"}");
	free(s);
}

static void test_apply_failure_has_result(void **state)
{
	struct fx *f = *state;
	struct ipam_run run;
	char *s;

	f->fail_apply = 1;
	run_init(&run, f, IPAM_RUN_APPLY);
	run.command = "apply";
	assert_int_equal(ipam_run_begin(&run), 0);
	assert_int_equal(ipam_run_prepare(&run), 0);
	assert_int_equal(ipam_run_apply(&run), IPAM_ERROR);
	assert_int_equal(ipam_run_end(&run, "failed", "apply broke"), 0);
	ipam_run_release(&run);
	s = the_run(f);
	assert_string_equal(s, "1|apply|failed|{\"actions\":0,\"create\":0,"
			       "\"update\":0,\"remove\":0,\"drift\":0,"
			       "\"done\":0,\"failed\":0,\"not_done\":0,"
			       "\"error\":\"apply broke\"}");
	free(s);
}

static void test_refusal(void **state)
{
	struct fx *f = *state;
	struct ipam_run run;
	char *s;

	run_init(&run, f, IPAM_RUN_APPLY);
	run.allow_removals = 1;
	assert_int_equal(ipam_run_begin(&run), 0);
	assert_int_equal(ipam_run_prepare(&run), 0);
	/* the plan a prepare would have made: three removals */
	run.r.d = f->d;
	run.r.plan.removals = 3;
	assert_int_equal(ipam_run_safety(&run), IPAM_ECONFLICT);
	assert_non_null(strstr(ipam_error_last(), "--allow-removals 3"));
	assert_int_equal(ipam_run_end(&run, "refused", ipam_error_last()), 0);
	ipam_run_release(&run);

	assert_int_equal(f->applied, 0);
	s = sqlite_query(f->path, "SELECT outcome FROM runs");
	assert_string_equal(s, "refused");
	free(s);
	s = the_lock(f);
	assert_string_equal(s, "0");
	free(s);
}

/* A run that ends before it began records nothing; release alone lets
 * the lock go. */
static void test_release_unlocks(void **state)
{
	struct fx *f = *state;
	struct ipam_run run;
	char *s;

	run_init(&run, f, IPAM_RUN_PROVISION);
	run.record = false; /* provision --dry-run */
	assert_int_equal(ipam_run_begin(&run), 0);
	assert_int_equal(run.id, 0);
	s = the_lock(f);
	assert_string_equal(s, "1");
	free(s);
	ipam_run_release(&run);
	s = the_lock(f);
	assert_string_equal(s, "0");
	free(s);
	s = sqlite_query(f->path, "SELECT count(*) FROM runs");
	assert_string_equal(s, "0");
	free(s);
}

/* gpo filter: no database, nothing locked or recorded, steps still run */
static void test_without_database(void **state)
{
	struct fx *f = *state;
	struct ipam_run run;

	ipam_run_init(&run, IPAM_RUN_GPO_FILTER, f->d, NULL);
	run.prepare = prepare;
	run.apply = apply;
	run.ctx = f;
	assert_false(run.lock);
	assert_false(run.record);
	assert_int_equal(ipam_run_begin(&run), 0);
	assert_int_equal(ipam_run_apply(&run), 0);
	assert_int_equal(ipam_run_end(&run, "succeeded", NULL), 0);
	assert_null(run.summary);
	ipam_run_release(&run);
	assert_int_equal(f->applied, 1);
}

/* Without hooks, notices go nowhere (and need no run record). */
static void test_notify_without_hooks(void **state)
{
	struct fx *f = *state;
	struct ipam_run_hooks hooks = {0};
	struct ipam_run run;

	ipam_run_init(&run, IPAM_RUN_RECONCILE, f->d, NULL);
	ipam_run_notify(&run, IPAM_EVENT_REFUSED, NULL, "ipamctl: %s", "x");
	run.hooks = &hooks;
	ipam_run_hooks_add(&hooks, f->d, 0);
	assert_int_equal(hooks.nr, 0);
	ipam_run_notify_applied(&run, "broke");
	ipam_run_release(&run);
	ipam_run_hooks_release(&hooks);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(ipam_run_kind_name(IPAM_RUN_PLAN), "plan");
	assert_string_equal(ipam_run_kind_name(IPAM_RUN_RECONCILE),
			    "reconcile");
	assert_string_equal(ipam_run_kind_name(IPAM_RUN_GPO_FILTER),
			    "gpo-filter");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_records_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_failure_has_result,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_unlocks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_database, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_notify_without_hooks,
						setup, teardown),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
