/* The inventory plan: previous rows + observation + desired state in, the
 * rows to store out.  Pure, so plain structs stand in for LDAP and DNS. */
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
#include "inventory.h"

#define DESIRED_HEAD                                                           \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning: {method: gpo, gpoPrefix: IPAM}\n"                       \
	"discovery:\n"                                                         \
	"  - domain: corp.example.test\n"

static struct ipam_desired *desired(const char *servers_yaml)
{
	char *text = xasprintf("%s%s", DESIRED_HEAD, servers_yaml);
	struct ipam_desired *d = desired_from_text(text);

	assert_non_null(d);
	free(text);
	return d;
}

static struct ipam_obs_domain *obs_domain(struct ipam_observed *o)
{
	struct ipam_obs_domain *od;

	o->domains = xcalloc(1, sizeof(*o->domains));
	o->nr_domains = 1;
	od = &o->domains[0];
	od->name = xstrdup("corp.example.test");
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->declared, IPAM_VERDICT_OFF, NULL);
	return od;
}

static void obs_server(struct ipam_obs_domain *od, const char *name,
		       unsigned roles, const char *addr)
{
	struct ipam_obs_server *s = ipam_obs_get(od, name);

	s->roles |= roles;
	s->in_ad = true;
	s->os_name = xstrdup("Windows Server 2019 Datacenter");
	s->addrs = xcalloc(1, sizeof(*s->addrs));
	s->addrs[0].family = AF_INET;
	snprintf(s->addrs[0].text, sizeof(s->addrs[0].text), "%s", addr);
	s->nr_addrs = 1;
}

static void prev_server(struct ipam_inventory *inv, long long id,
			const char *name, unsigned roles, const char *addr,
			enum ipam_manageability m, enum ipam_inv_status st)
{
	struct ipam_inv_server *s;

	ALLOC_GROW(inv->servers, inv->nr + 1, inv->alloc);
	s = &inv->servers[inv->nr++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->name = xstrdup(name);
	s->domain = xstrdup("corp.example.test");
	s->roles = roles;
	s->manageability = m;
	s->status = st;
	s->os_name = xstrdup("Windows Server 2019 Datacenter");
	s->first_seen = xstrdup("2026-01-01T00:00:00Z");
	s->addrs = xcalloc(1, sizeof(*s->addrs));
	s->addrs[0].family = AF_INET;
	snprintf(s->addrs[0].text, sizeof(s->addrs[0].text), "%s", addr);
	s->nr_addrs = 1;
}

static const struct ipam_inv_update *find(const struct ipam_inv_plan *p,
					  const char *name)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (!strcmp(p->updates[i].row.name, name))
			return &p->updates[i];
	return NULL;
}

static void test_first_run_all_new(void **state)
{
	struct ipam_desired *d = desired("");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan p;
	struct ipam_obs_domain *od = obs_domain(&obs);
	const struct ipam_inv_update *u;

	(void)state;
	obs_server(od, "dc1.corp.example.test", IPAM_ROLE_DC | IPAM_ROLE_DNS,
		   "10.0.0.1");
	obs_server(od, "dhcp1.corp.example.test", IPAM_ROLE_DHCP, "10.0.0.2");
	ipam_inventory_plan(&p, &prev, &obs, d);
	assert_int_equal(p.nr, 2);
	assert_int_equal(p.counts[IPAM_INV_NEW], 2);
	u = find(&p, "dc1.corp.example.test");
	assert_non_null(u);
	assert_true(u->seen);
	assert_false(u->purge);
	assert_int_equal(u->row.id, 0);
	assert_string_equal(u->change, "discovered: dc,dns");
	assert_int_equal(u->row.manageability, IPAM_MANAGE_UNSPECIFIED);
	ipam_inv_plan_release(&p);
	for (size_t i = 0; i < obs.nr_domains; i++)
		ipam_obs_domain_release(&obs.domains[i]);
	free(obs.domains);
	ipam_desired_free(d);
}

static void test_changed_unchanged_gone(void **state)
{
	struct ipam_desired *d = desired("servers:\n"
					 "  - name: dc1.corp.example.test\n"
					 "    manageability: managed\n"
					 "    owner: netops\n");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan p;
	struct ipam_obs_domain *od = obs_domain(&obs);
	const struct ipam_inv_update *u;

	(void)state;
	prev_server(&prev, 1, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1",
		    IPAM_MANAGE_UNSPECIFIED, IPAM_INV_NEW);
	prev_server(&prev, 2, "dns1.corp.example.test", IPAM_ROLE_DNS,
		    "10.0.0.3", IPAM_MANAGE_UNSPECIFIED, IPAM_INV_NEW);
	prev_server(&prev, 3, "dhcp1.corp.example.test", IPAM_ROLE_DHCP,
		    "10.0.0.2", IPAM_MANAGE_MANAGED, IPAM_INV_UNCHANGED);
	obs_server(od, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.9");
	obs_server(od, "dns1.corp.example.test", IPAM_ROLE_DNS, "10.0.0.3");
	ipam_inventory_plan(&p, &prev, &obs, d);

	u = find(&p, "dc1.corp.example.test");
	assert_int_equal(u->row.id, 1);
	assert_int_equal(u->row.status, IPAM_INV_CHANGED);
	assert_string_equal(u->change,
			    "addresses: 10.0.0.1 -> 10.0.0.9; manageability: "
			    "unspecified -> managed; owner: (none) -> netops");
	assert_string_equal(u->row.first_seen, "2026-01-01T00:00:00Z");
	u = find(&p, "dns1.corp.example.test");
	assert_int_equal(u->row.status, IPAM_INV_UNCHANGED);
	assert_null(u->change);
	u = find(&p, "dhcp1.corp.example.test");
	assert_non_null(u);
	assert_int_equal(u->row.status, IPAM_INV_GONE);
	assert_false(u->seen);
	assert_string_equal(u->change, "no longer discovered; manageability: "
				       "managed -> unspecified");
	assert_int_equal(p.counts[IPAM_INV_CHANGED], 1);
	assert_int_equal(p.counts[IPAM_INV_UNCHANGED], 1);
	assert_int_equal(p.counts[IPAM_INV_GONE], 1);
	ipam_inv_plan_release(&p);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	ipam_desired_free(d);
}

static void test_incomplete_domain_changes_nothing(void **state)
{
	struct ipam_desired *d = desired("servers:\n"
					 "  - name: dc1.corp.example.test\n"
					 "    manageability: unmanaged\n");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan p;
	struct ipam_obs_domain *od = obs_domain(&obs);

	(void)state;
	prev_server(&prev, 1, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1",
		    IPAM_MANAGE_MANAGED, IPAM_INV_NEW);
	prev_server(&prev, 3, "dhcp1.corp.example.test", IPAM_ROLE_DHCP,
		    "10.0.0.2", IPAM_MANAGE_MANAGED, IPAM_INV_UNCHANGED);
	/* the DC search timed out: nothing found, nothing may change */
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_INCOMPLETE, "timeout");
	obs_server(od, "new.corp.example.test", IPAM_ROLE_DNS, "10.0.0.7");
	ipam_inventory_plan(&p, &prev, &obs, d);
	assert_int_equal(p.nr, 0);
	assert_int_equal(p.nr_not_found, 0);
	ipam_inv_plan_release(&p);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	ipam_desired_free(d);
}

static void test_role_switched_off_keeps_role(void **state)
{
	struct ipam_desired *d = desired("");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan p;
	struct ipam_obs_domain *od = obs_domain(&obs);
	const struct ipam_inv_update *u;

	(void)state;
	prev_server(&prev, 1, "dc1.corp.example.test",
		    IPAM_ROLE_DC | IPAM_ROLE_DHCP, "10.0.0.1",
		    IPAM_MANAGE_UNSPECIFIED, IPAM_INV_UNCHANGED);
	prev_server(&prev, 2, "dhcp1.corp.example.test", IPAM_ROLE_DHCP,
		    "10.0.0.2", IPAM_MANAGE_UNSPECIFIED, IPAM_INV_UNCHANGED);
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_OFF, "local DHCP server");
	obs_server(od, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1");
	ipam_inventory_plan(&p, &prev, &obs, d);
	u = find(&p, "dc1.corp.example.test");
	assert_int_equal(u->row.roles, IPAM_ROLE_DC | IPAM_ROLE_DHCP);
	assert_int_equal(u->row.status, IPAM_INV_UNCHANGED);
	/* dhcp1 was not looked for: it is not gone */
	assert_null(find(&p, "dhcp1.corp.example.test"));
	ipam_inv_plan_release(&p);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	ipam_desired_free(d);
}

static void test_unmanaged_purges_and_declared_not_found(void **state)
{
	struct ipam_desired *d = desired("servers:\n"
					 "  - name: dc1.corp.example.test\n"
					 "    manageability: unmanaged\n"
					 "  - name: nps1.corp.example.test\n"
					 "    roles: [nps]\n"
					 "  - name: lost.corp.example.test\n"
					 "    manageability: managed\n"
					 "  - name: old.corp.example.test\n");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan p;
	struct ipam_obs_domain *od = obs_domain(&obs);
	const struct ipam_inv_update *u;

	(void)state;
	prev_server(&prev, 1, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1",
		    IPAM_MANAGE_MANAGED, IPAM_INV_UNCHANGED);
	prev_server(&prev, 4, "old.corp.example.test", IPAM_ROLE_DNS,
		    "10.0.0.4", IPAM_MANAGE_UNSPECIFIED, IPAM_INV_UNCHANGED);
	obs_server(od, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1");
	ipam_inventory_plan(&p, &prev, &obs, d);
	u = find(&p, "dc1.corp.example.test");
	assert_true(u->purge);
	assert_int_equal(u->row.status, IPAM_INV_CHANGED);
	/* listed, stored, not discovered */
	u = find(&p, "old.corp.example.test");
	assert_int_equal(u->row.status, IPAM_INV_NOT_FOUND);
	assert_string_equal(u->change, "declared, not found");
	/* listed, never stored, not discovered: reported, not stored */
	assert_int_equal(p.nr_not_found, 2);
	assert_string_equal(p.not_found[0], "lost.corp.example.test");
	assert_string_equal(p.not_found[1], "nps1.corp.example.test");
	ipam_inv_plan_release(&p);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	ipam_desired_free(d);
}

static void test_gone_server_comes_back(void **state)
{
	struct ipam_desired *d = desired("");
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan p;
	struct ipam_obs_domain *od = obs_domain(&obs);
	const struct ipam_inv_update *u;

	(void)state;
	prev_server(&prev, 1, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1",
		    IPAM_MANAGE_UNSPECIFIED, IPAM_INV_GONE);
	prev_server(&prev, 2, "dc2.corp.example.test", IPAM_ROLE_DC, "10.0.0.2",
		    IPAM_MANAGE_UNSPECIFIED, IPAM_INV_GONE);
	obs_server(od, "dc1.corp.example.test", IPAM_ROLE_DC, "10.0.0.1");
	ipam_inventory_plan(&p, &prev, &obs, d);
	u = find(&p, "dc1.corp.example.test");
	assert_int_equal(u->row.status, IPAM_INV_CHANGED);
	assert_string_equal(u->change, "discovered again");
	/* still gone: no new row, no new history line */
	assert_null(find(&p, "dc2.corp.example.test"));
	ipam_inv_plan_release(&p);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	ipam_desired_free(d);
}

static void test_collision_with_stored_server(void **state)
{
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_obs_domain *od = obs_domain(&obs);

	(void)state;
	/* stored, not seen this run (say, its domain was skipped) */
	prev_server(&prev, 7, "app2.branch.example.test", IPAM_ROLE_DNS,
		    "192.0.2.30", IPAM_MANAGE_UNSPECIFIED, IPAM_INV_UNCHANGED);
	/* stored and gone: its address is free */
	prev_server(&prev, 8, "old.branch.example.test", IPAM_ROLE_DNS,
		    "192.0.2.31", IPAM_MANAGE_UNSPECIFIED, IPAM_INV_GONE);
	obs_server(od, "app1.corp.example.test", IPAM_ROLE_NPS, "192.0.2.30");
	od->servers[0].declared = true;
	obs_server(od, "app3.corp.example.test", IPAM_ROLE_NPS, "192.0.2.31");
	od->servers[1].declared = true;
	/* a discovered server sharing an address is not this rule's */
	obs_server(od, "dc1.corp.example.test", IPAM_ROLE_DC, "192.0.2.30");
	ipam_inventory_check_collisions(&obs, &prev);
	assert_int_equal(od->nr_errors, 1);
	assert_string_equal(
		od->errors[0],
		"address collision: 'app1.corp.example.test' and "
		"'app2.branch.example.test' (in the inventory) both "
		"have the address 192.0.2.30");
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_run_all_new),
		cmocka_unit_test(test_changed_unchanged_gone),
		cmocka_unit_test(test_incomplete_domain_changes_nothing),
		cmocka_unit_test(test_role_switched_off_keeps_role),
		cmocka_unit_test(test_unmanaged_purges_and_declared_not_found),
		cmocka_unit_test(test_gone_server_comes_back),
		cmocka_unit_test(test_collision_with_stored_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
