/*
 * The inventory written in parts (ipam_inv_cursor + ipam_db_inventory_
 * write): the same rows, ids, addresses and history lines as the plan
 * stored whole, on SQLite and (as test_db_invparts_pg) PostgreSQL.  The
 * observed servers keep their strings in the domain's pool, as
 * discovery's do.
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
#include "db.h"
#include "error.h"
#include "inventory.h"
#include "testutil.h"

/* One database for the group: a fresh one of ci/pg's server under
 * IPAM_TEST_DB=postgres, else a file. */
static char *dir, *db_path;

static int group_setup(void **state)
{
	(void)state;
	dir = tmpdir_make();
	if (!dir)
		return -1;
	db_path = test_db_is_pg() ? test_db_new(dir)
				  : xasprintf("%s/state.db", dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tmpdir_remove(dir);
	free(db_path);
	return 0;
}

/* n servers s<i>.corp.example.test (i from first), pooled; round changes
 * the addresses of the even ones. */
static void observe(struct ipam_observed *obs, size_t first, size_t n,
		    int round)
{
	struct ipam_obs_domain *od;
	char name[64], text[64];

	obs->domains = xcalloc(1, sizeof(*obs->domains));
	obs->nr_domains = 1;
	od = &obs->domains[0];
	od->name = xstrdup("corp.example.test");
	od->pool = xcalloc(1, sizeof(*od->pool));
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_OFF, "off");
	for (size_t i = first; i < first + n; i++) {
		struct ipam_obs_server *s;
		struct ipam_addr a = {.family = AF_INET};

		snprintf(name, sizeof(name), "s%05zu.corp.example.test", i);
		s = ipam_obs_get(od, name);
		s->roles = IPAM_ROLE_DC;
		s->in_ad = true;
		snprintf(text, sizeof(text), "CN=S%05zu,DC=corp", i);
		ipam_obs_set_str(od, s, &s->dn, text, false);
		ipam_obs_set_str(od, s, &s->os_name, "Windows Server 2019",
				 true);
		snprintf(a.text, sizeof(a.text), "10.%d.%zu.%zu",
			 round == 2 && i % 2 == 0 ? 9 : 0, i >> 8, i & 255);
		ipam_obs_add_addr(od, s, &a);
		if (i % 7 == 0) {
			snprintf(a.text, sizeof(a.text), "10.8.%zu.%zu", i >> 8,
				 i & 255);
			ipam_obs_add_addr(od, s, &a);
		}
	}
	ipam_obs_domain_trim(od);
	ipam_obs_domain_sort(od);
}

static void obs_release(struct ipam_observed *obs)
{
	for (size_t i = 0; i < obs->nr_domains; i++)
		ipam_obs_domain_release(&obs->domains[i]);
	free(obs->domains);
	memset(obs, 0, sizeof(*obs));
}

/* One discovery round written in parts of part rows; the rows' statuses
 * counted. */
static void round_in_parts(struct ipam_db *db, const struct ipam_desired *d,
			   const struct ipam_observed *obs, size_t part_rows,
			   size_t counts[IPAM_INV_NR_STATUS])
{
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan part = {0};
	struct ipam_db_inv_writer w;
	struct ipam_inv_cursor c;
	long long run;
	size_t parts = 0;

	memset(counts, 0, sizeof(size_t) * IPAM_INV_NR_STATUS);
	assert_int_equal(ipam_db_run_begin(db, "discover", &run), 0);
	assert_int_equal(ipam_db_inventory_load(db, &prev), 0);
	ipam_inv_cursor_init(&c, &prev, obs, d);
	assert_int_equal(ipam_db_inventory_write_begin(&w, db, run, d, obs), 0);
	while (ipam_inv_cursor_next(&c, &part, part_rows)) {
		assert_true(part.nr <= part_rows);
		for (size_t i = 0; i < part.nr; i++)
			counts[part.updates[i].row.status]++;
		assert_int_equal(ipam_db_inventory_write(&w, &part), 0);
		parts++;
	}
	assert_int_equal(ipam_db_inventory_write_end(&w), 0);
	assert_true(parts > 1);
	assert_int_equal(ipam_db_run_end(db, run, "succeeded", "{}"), 0);
	ipam_inv_plan_release(&part);
	ipam_inv_cursor_release(&c);
	ipam_inventory_release(&prev);
}

static void check_stored(struct ipam_db *db, size_t first, size_t n, int round)
{
	struct ipam_inventory inv = {0};
	char want[64];

	assert_int_equal(ipam_db_inventory_load(db, &inv), 0);
	assert_non_null(inv.pool);
	assert_int_equal(inv.nr, n);
	for (size_t k = 0; k < inv.nr; k++) {
		const struct ipam_inv_server *s = &inv.servers[k];
		size_t i = first + k;

		snprintf(want, sizeof(want), "s%05zu.corp.example.test", i);
		assert_string_equal(s->name, want);
		assert_string_equal(s->os_name, "Windows Server 2019");
		/* interned: one copy of a value every row has */
		assert_ptr_equal(s->os_name, inv.servers[0].os_name);
		assert_ptr_equal(s->domain, inv.servers[0].domain);
		assert_int_equal(s->nr_addrs, i % 7 == 0 ? 2 : 1);
		snprintf(want, sizeof(want), "10.%d.%zu.%zu",
			 round == 2 && i % 2 == 0 ? 9 : 0, i >> 8, i & 255);
		/* stored in address order */
		assert_true(!strcmp(s->addrs[0].text, want) ||
			    !strcmp(s->addrs[s->nr_addrs - 1].text, want));
		if (round == 1 || i >= 3000)
			assert_int_equal(s->status, IPAM_INV_NEW);
		else
			assert_int_equal(s->status, i % 2 ? IPAM_INV_UNCHANGED
							  : IPAM_INV_CHANGED);
	}
	ipam_inventory_release(&inv);
}

/* 3,000 new servers in parts of 700, then 4,000 of which 3,000 known
 * (half with new addresses) and 1,000 new, in parts of 333: parts mixing
 * known and new rows. */
static void test_inventory_parts(void **state)
{
	struct ipam_db *db = NULL;
	struct ipam_desired *d = desired_from_text(
		"version: 1\nipamServer: ipam1.corp.example.test\n"
		"provisioning: {method: manual}\n");
	struct ipam_observed obs = {0};
	struct ipam_db_history *h = NULL;
	size_t counts[IPAM_INV_NR_STATUS], nr = 0;

	(void)state;
	assert_non_null(d);
	assert_int_equal(ipam_db_open(&db, db_path, IPAM_DB_CREATE), 0);
	assert_int_equal(ipam_db_migrate(db, NULL, NULL), 0);
	observe(&obs, 0, 3000, 1);
	round_in_parts(db, d, &obs, 700, counts);
	assert_int_equal(counts[IPAM_INV_NEW], 3000);
	obs_release(&obs);
	observe(&obs, 0, 4000, 2);
	round_in_parts(db, d, &obs, 333, counts);
	assert_int_equal(counts[IPAM_INV_NEW], 1000);
	assert_int_equal(counts[IPAM_INV_CHANGED], 1500);
	assert_int_equal(counts[IPAM_INV_UNCHANGED], 1500);
	obs_release(&obs);
	check_stored(db, 0, 4000, 2);
	assert_int_equal(
		ipam_db_server_history(db, "s02998.corp.example.test", &h, &nr),
		0);
	assert_int_equal(nr, 2); /* discovered; addresses changed */
	ipam_db_history_free(h, nr);
	assert_int_equal(
		ipam_db_server_history(db, "s02999.corp.example.test", &h, &nr),
		0);
	assert_int_equal(nr, 1);
	ipam_db_history_free(h, nr);
	ipam_desired_free(d);
	ipam_db_close(db);
}

/* The cursor's parts, joined, are ipam_inventory_plan's rows. */
static void test_cursor_is_plan(void **state)
{
	struct ipam_desired *d = desired_from_text(
		"version: 1\nipamServer: ipam1.corp.example.test\n"
		"provisioning: {method: manual}\n");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan whole, part = {0};
	struct ipam_inv_cursor c;
	size_t at = 0;

	(void)state;
	observe(&obs, 0, 1000, 1);
	ipam_inventory_plan(&whole, &prev, &obs, d);
	assert_int_equal(whole.nr, 1000);
	ipam_inv_cursor_init(&c, &prev, &obs, d);
	while (ipam_inv_cursor_next(&c, &part, 64)) {
		for (size_t i = 0; i < part.nr; i++, at++) {
			assert_true(at < whole.nr);
			assert_ptr_equal(part.updates[i].row.name,
					 whole.updates[at].row.name);
			assert_int_equal(part.updates[i].row.status,
					 whole.updates[at].row.status);
			assert_string_equal(part.updates[i].change,
					    whole.updates[at].change);
			assert_int_equal(part.updates[i].row.nr_addrs,
					 whole.updates[at].row.nr_addrs);
		}
	}
	assert_int_equal(at, whole.nr);
	ipam_inv_plan_release(&part);
	ipam_inv_plan_release(&whole);
	ipam_inv_cursor_release(&c);
	obs_release(&obs);
	ipam_desired_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory_parts),
		cmocka_unit_test(test_cursor_is_plan),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
