/*
 * bench-diff: CPU time of the diff alone (ipam_diff) for N servers in D
 * domains, with a realistic mix: 60 % managed (half of them already in
 * their GPOs' filtering), 20 % unmanaged (some still filtered), 20 %
 * unspecified; roles DC, DNS, DHCP; a snapshot of the last apply.
 * Building the inputs is not timed.  Prints the median of R runs.
 *
 *   bench-diff [N] [D] [R]       (defaults 20000 3 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "diff.h"
#include "strbuf.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void trustee(struct ipam_gpo_trustees *t, const char *sid)
{
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr].sid = xstrdup(sid);
	t->v[t->nr].name = NULL;
	t->nr++;
}

static struct ipam_gpo_state *state_for(const char *domain, int di)
{
	struct ipam_gpo_state *st = xcalloc(1, sizeof(*st));

	st->domain = xstrdup(domain);
	st->domain_dn = xasprintf("DC=d%d,DC=test", di);
	st->domain_sid = xasprintf("S-1-5-21-9-9-%d", di);
	st->netbios = xasprintf("D%d", di);
	st->dc = xasprintf("dc1.%s", domain);
	st->prefix = xstrdup("IPAM");
	st->ipam_server = xstrdup("ipam1.d0.test");
	st->gplink = xstrdup("");
	st->ipamug.exists = st->ipamug.owned = true;
	st->ipamug.sid = xasprintf("S-1-5-21-9-9-%d-1113", di);
	st->elr_member = true;
	for (int k = 0; k < IPAM_GPO_COUNT; k++) {
		struct ipam_gpo_obs *g = &st->gpos[k];

		g->kind = (enum ipam_pol_gpo)k;
		g->name = xasprintf("IPAM%s", ipam_pol_gpo_suffix(g->kind));
		g->exists = g->owned = g->linked = true;
		g->guid = xasprintf("{%08d-0000-4000-8000-%012d}", di, k);
		g->dn = xasprintf("CN=%s,CN=Policies", g->guid);
		g->version = g->gpt_version = 1;
		g->gpt_present = g->settings_current = g->ext_current = true;
		g->dacl_current = g->folder_consistent = true;
		g->machine_ext = xstrdup("");
	}
	return st;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	size_t nd = argc > 2 ? strtoul(argv[2], NULL, 10) : 3;
	size_t rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 7;
	struct strbuf y = STRBUF_INIT;
	struct ipam_source src;
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan ip;
	struct ipam_gpo_state **states;
	struct ipam_applied applied = {0};
	struct ipam_diff_input in = {0};
	double *t;
	size_t actions = 0;

	/* The desired state: managed by default, 40 % listed. */
	strbuf_addstr(&y, "version: 1\nipamServer: ipam1.d0.test\n"
			  "provisioning: {method: gpo, gpoPrefix: IPAM}\n"
			  "defaults: {manageability: managed}\n"
			  "safety: {maxRemovals: 100000}\n"
			  "discovery:\n");
	for (size_t di = 0; di < nd; di++)
		strbuf_addf(&y, "  - domain: d%zu.test\n", di);
	strbuf_addstr(&y, "servers:\n");
	for (size_t i = 0; i < n; i++)
		if (i % 5 == 3 || i % 5 == 4)
			strbuf_addf(&y,
				    "  - name: s%zu.d%zu.test\n"
				    "    manageability: %s\n",
				    i, i % nd,
				    i % 5 == 3 ? "unmanaged" : "unspecified");
	src = (struct ipam_source){"bench.yaml", y.buf, y.len};
	if (ipam_config_load_sources(&d, &src, 1, &diags)) {
		fprintf(stderr, "bench-diff: the generated desired state is "
				"invalid\n");
		return 1;
	}
	obs.domains = xcalloc(nd, sizeof(*obs.domains));
	obs.nr_domains = nd;
	states = xcalloc(nd, sizeof(*states));
	applied.domains = xcalloc(nd, sizeof(*applied.domains));
	applied.nr = nd;
	for (size_t di = 0; di < nd; di++) {
		struct ipam_obs_domain *od = &obs.domains[di];
		char *name = xasprintf("d%zu.test", di);

		od->name = name;
		ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
		ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
		ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_COMPLETE, NULL);
		ipam_obs_set_status(&od->declared, IPAM_VERDICT_OFF, NULL);
		od->servers = xcalloc(n / nd + 1, sizeof(*od->servers));
		od->alloc_servers = n / nd + 1;
		states[di] = state_for(name, (int)di);
		applied.domains[di].domain = xstrdup(name);
		applied.domains[di].group = true;
		applied.domains[di].elr = true;
		for (int k = 0; k < IPAM_GPO_COUNT; k++) {
			struct ipam_applied_gpo *g =
				&applied.domains[di].gpos[k];

			g->gpo = k;
			g->guid = xstrdup(states[di]->gpos[k].guid);
			g->version = 1;
			g->linked = g->settings_current = g->dacl_current =
				true;
			g->filter_sids = xcalloc(n / nd + 1, sizeof(char *));
		}
		applied.domains[di].nr_gpos = IPAM_GPO_COUNT;
	}
	ALLOC_GROW(prev.servers, n, prev.alloc);
	for (size_t i = 0; i < n; i++) {
		size_t di = i % nd;
		struct ipam_obs_domain *od = &obs.domains[di];
		struct ipam_obs_server *s = &od->servers[od->nr_servers++];
		struct ipam_inv_server *p = &prev.servers[prev.nr++];
		unsigned roles = i % 3 == 0   ? IPAM_ROLE_DHCP
				 : i % 3 == 1 ? IPAM_ROLE_DNS
					      : IPAM_ROLE_DC | IPAM_ROLE_DNS;

		memset(s, 0, sizeof(*s));
		s->name = xasprintf("s%zu.d%zu.test", i, di);
		s->roles = roles;
		s->in_ad = true;
		s->sid = xasprintf("S-1-5-21-9-9-%zu-%zu", di, 5000 + i);
		memset(p, 0, sizeof(*p));
		p->id = (long long)i + 1;
		p->name = xstrdup(s->name);
		p->domain = xstrdup(od->name);
		p->roles = roles;
		p->sid = xstrdup(s->sid);
		p->manageability = IPAM_MANAGE_MANAGED;
		/* Half the managed ones and a quarter of the unmanaged ones
		 * already filtered, as a previous apply left them. */
		if ((i % 5 < 3 && i % 2 == 0) || (i % 5 == 3 && i % 4 == 0)) {
			unsigned gpos = ipam_gpos_for_roles(roles);

			for (int k = 0; k < IPAM_GPO_COUNT; k++) {
				struct ipam_applied_gpo *g =
					&applied.domains[di].gpos[k];

				if (!(gpos & (1u << k)))
					continue;
				trustee(&states[di]->gpos[k].filtering, s->sid);
				g->filter_sids[g->nr_filter++] =
					xstrdup(s->sid);
			}
		}
	}
	for (size_t di = 0; di < nd; di++)
		ipam_obs_domain_sort(&obs.domains[di]);
	ipam_inventory_plan(&ip, &prev, &obs, d);
	in.d = d;
	in.obs = &obs;
	in.inventory = &prev;
	in.inv_plan = &ip;
	in.gpo = states;
	in.applied = &applied;
	t = xcalloc(rounds, sizeof(*t));
	for (size_t r = 0; r < rounds; r++) {
		struct ipam_plan plan;
		double t0 = cpu_now();

		ipam_diff(&plan, &in);
		t[r] = cpu_now() - t0;
		actions = plan.nr;
		ipam_plan_release(&plan);
	}
	qsort(t, rounds, sizeof(*t), cmp_double);
	printf("diff: %zu servers, %zu domains, %zu actions: median %.1f ms "
	       "CPU (min %.1f, max %.1f, %zu runs)\n",
	       n, nd, actions, t[rounds / 2] * 1e3, t[0] * 1e3,
	       t[rounds - 1] * 1e3, rounds);
	return 0;
}
