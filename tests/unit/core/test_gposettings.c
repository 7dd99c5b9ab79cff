/*
 * The settings decisions: which files to write, whether and how far the
 * version goes up, what else on the container is fixed, and the state
 * once that is done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gposettings.h"
#include "gpostate.h"
#include "polfile.h"
#include "strbuf.h"

#define EXT "[{ext}{tool}]"

struct fixture {
	struct ipam_gpo_obs g;
	struct ipam_pol_set set;
	struct strbuf present[IPAM_POL_MAX_FILES];
	bool is_present[IPAM_POL_MAX_FILES];
};

/* A GPO at version 5 whose two files are what ipamctl renders. */
static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->g.version = f->g.gpt_version = 5;
	f->g.gpt_present = true;
	f->g.machine_ext = xstrdup(EXT);
	f->g.functionality_version = 2;
	f->set.nr = 2;
	f->set.files[0].path = "Machine\\Registry.pol";
	f->set.files[1].path = "Machine\\Preferences\\Groups\\Groups.xml";
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++) {
		strbuf_init(&f->set.files[i].data);
		strbuf_init(&f->present[i]);
	}
	for (size_t i = 0; i < 2; i++) {
		strbuf_addf(&f->set.files[i].data, "file %zu", i);
		strbuf_addf(&f->present[i], "file %zu", i);
		f->is_present[i] = true;
	}
}

static void teardown(struct fixture *f)
{
	for (size_t i = 0; i < IPAM_POL_MAX_FILES; i++)
		strbuf_release(&f->present[i]);
	ipam_pol_set_release(&f->set);
	ipam_gpo_obs_release_foreign(&f->g);
	free(f->g.machine_ext);
}

static bool plan(struct ipam_gposettings_plan *p, struct fixture *f,
		 const char *ext)
{
	return ipam_gposettings_plan(p, &f->g, &f->set, f->present,
				     f->is_present, ext);
}

static void test_same(void **state)
{
	struct fixture f;

	(void)state;
	setup(&f);
	assert_true(
		ipam_gposettings_same(&f.present[0], true, &f.set.files[0]));
	assert_false(
		ipam_gposettings_same(&f.present[0], false, &f.set.files[0]));
	assert_false(
		ipam_gposettings_same(&f.present[1], true, &f.set.files[0]));
	teardown(&f);
}

static void test_nothing_to_do(void **state)
{
	struct ipam_gposettings_plan p;
	struct fixture f;

	(void)state;
	setup(&f);
	assert_false(plan(&p, &f, EXT));
	assert_false(p.bump);
	assert_false(p.fix_attrs);
	ipam_gposettings_plan_release(&p);
	teardown(&f);
}

static void test_file_changed(void **state)
{
	struct ipam_gposettings_plan p;
	struct fixture f;

	(void)state;
	setup(&f);
	strbuf_addstr(&f.present[1], " edited");
	f.is_present[0] = false;
	assert_true(plan(&p, &f, EXT));
	assert_true(p.write[0]);
	assert_true(p.write[1]);
	assert_true(p.bump);
	assert_false(p.fix_attrs);
	assert_int_equal(p.version, ipam_gpt_bump_machine(5));
	assert_string_equal(p.what.buf,
			    "Machine\\Registry.pol, "
			    "Machine\\Preferences\\Groups\\Groups.xml");
	ipam_gposettings_plan_release(&p);
	teardown(&f);
}

static void test_version_and_ext(void **state)
{
	struct ipam_gposettings_plan p;
	struct fixture f;

	(void)state;
	setup(&f);
	/* Extension names alone bump the version too. */
	assert_true(plan(&p, &f, "[{other}{tool}]"));
	assert_false(p.write[0] || p.write[1]);
	assert_string_equal(p.what.buf, "extension names");
	ipam_gposettings_plan_release(&p);
	/* GPT.INI ahead of AD: the new version passes both. */
	f.g.gpt_version = 7;
	assert_true(plan(&p, &f, EXT));
	assert_string_equal(p.what.buf, "GPT.INI version");
	assert_int_equal(p.version, ipam_gpt_bump_machine(7));
	ipam_gposettings_plan_release(&p);
	/* No GPT.INI: bumped from AD's. */
	f.g.gpt_present = false;
	assert_true(plan(&p, &f, EXT));
	assert_int_equal(p.version, ipam_gpt_bump_machine(5));
	ipam_gposettings_plan_release(&p);
	teardown(&f);
}

static void test_attrs_and_foreign(void **state)
{
	struct ipam_gposettings_plan p;
	struct fixture f;

	(void)state;
	setup(&f);
	/* Computer side disabled: fixed without a version bump. */
	f.g.flags = 3;
	assert_true(plan(&p, &f, EXT));
	assert_false(p.bump);
	assert_true(p.fix_attrs);
	assert_int_equal(p.flags, 1);
	assert_int_equal(p.version, 5);
	assert_string_equal(p.what.buf,
			    "computer side enabled, functionality 2");
	ipam_gposettings_plan_release(&p);
	/* A file nobody declared goes, and that is a change. */
	f.g.flags = 0;
	f.g.foreign = calloc(1, sizeof(*f.g.foreign));
	f.g.foreign[0].path = xstrdup("Machine\\Scripts\\x.cmd");
	f.g.nr_foreign = 1;
	assert_true(plan(&p, &f, EXT));
	assert_true(p.bump);
	assert_string_equal(p.what.buf, "remove Machine\\Scripts\\x.cmd");
	/* Once done: current, at the new version, nothing foreign. */
	f.g.nr_files = 1;
	f.g.files[0].path = f.set.files[0].path;
	f.g.gpt_version = 3;
	ipam_gposettings_applied(&f.g, &p, "[{new}{tool}]");
	assert_int_equal(f.g.version, p.version);
	assert_int_equal(f.g.gpt_version, p.version);
	assert_string_equal(f.g.machine_ext, "[{new}{tool}]");
	assert_true(f.g.ext_current);
	assert_true(f.g.settings_current);
	assert_true(f.g.files[0].current && f.g.files[0].present);
	assert_int_equal(f.g.nr_foreign, 0);
	ipam_gposettings_plan_release(&p);
	teardown(&f);
}

static void test_parse_changed(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(
		ipam_gposettings_parse_changed("2024-02-29 13:14:15", &t), 0);
	assert_int_equal((long long)t, 1709212455LL);
	assert_int_equal(ipam_gposettings_parse_changed("2024-02-29", &t), -1);
	assert_int_equal(
		ipam_gposettings_parse_changed("2024-02-29 13:14:15x", &t), -1);
	assert_int_equal(ipam_gposettings_parse_changed(NULL, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_file_changed),
		cmocka_unit_test(test_version_and_ext),
		cmocka_unit_test(test_attrs_and_foreign),
		cmocka_unit_test(test_parse_changed),
	};

	return cmocka_run_group_tests_name("gposettings", tests, NULL, NULL);
}
