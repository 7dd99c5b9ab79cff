/*
 * bench/db-inventory DB N: the inventory update of a discovery of N servers
 * into the state database DB (a path or a postgresql:// URI, made by
 * `ipamctl db init`), timed as ipamctl does it: the desired state, the
 * inventory loaded, the plan, ipam_db_inventory_store in one transaction.
 * Three rounds: every server new (N rows with their address and a history
 * line), every server changed (its address), then nothing changed.  Prints
 * one line a round: "<round> <seconds>".
 *
 * Server i: srv<i>.corp.example.test, a DHCP and DNS server at
 * 10.(i>>16).((i>>8)&255).(i&255) (round 2: 10.128 + the same).
 * Part of bench/db; never part of the test run.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "diag.h"
#include "error.h"
#include "inventory.h"
#include "model.h"
#include "observed.h"
#include "strbuf.h"

static const char desired[] = "version: 1\n"
			      "ipamServer: ipam1.corp.example.test\n"
			      "provisioning: {method: manual}\n"
			      "discovery: [{domain: corp.example.test}]\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void observe(struct ipam_observed *obs, long n, int round)
{
	struct ipam_obs_domain *od;

	obs->domains = xcalloc(1, sizeof(*obs->domains));
	obs->nr_domains = 1;
	od = &obs->domains[0];
	od->name = xstrdup("corp.example.test");
	ipam_obs_set_status(&od->dc, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dns, IPAM_VERDICT_COMPLETE, NULL);
	ipam_obs_set_status(&od->dhcp, IPAM_VERDICT_COMPLETE, NULL);
	for (long i = 0; i < n; i++) {
		char name[64];
		struct ipam_obs_server *s;

		snprintf(name, sizeof(name), "srv%ld.corp.example.test", i);
		s = ipam_obs_get(od, name);
		s->roles = IPAM_ROLE_DHCP | IPAM_ROLE_DNS;
		s->addrs = xcalloc(1, sizeof(*s->addrs));
		s->addrs[0].family = AF_INET;
		snprintf(s->addrs[0].text, sizeof(s->addrs[0].text),
			 "10.%ld.%ld.%ld", (i >> 16) + (round == 2 ? 128 : 0),
			 (i >> 8) & 255, i & 255);
		s->nr_addrs = 1;
	}
}

static int round_trip(struct ipam_db *db, const struct ipam_desired *d, long n,
		      int round)
{
	struct ipam_observed obs = {0};
	struct ipam_inventory prev = {0};
	struct ipam_inv_plan plan;
	long long run;
	double t0;
	int err;

	observe(&obs, n, round);
	t0 = now();
	err = ipam_db_run_begin(db, "discover", &run);
	if (!err)
		err = ipam_db_inventory_load(db, &prev);
	if (!err) {
		ipam_inventory_plan(&plan, &prev, &obs, d);
		err = ipam_db_inventory_store(db, run, d, &obs, &plan);
		ipam_inv_plan_release(&plan);
	}
	if (!err)
		err = ipam_db_run_end(db, run, "succeeded", "{}");
	if (!err)
		printf("%s %.3f\n",
		       round == 1   ? "new"
		       : round == 2 ? "changed"
				    : "unchanged",
		       now() - t0);
	ipam_inventory_release(&prev);
	ipam_obs_domain_release(&obs.domains[0]);
	free(obs.domains);
	return err;
}

int main(int argc, char **argv)
{
	struct ipam_source src = {"bench.yaml", desired, sizeof(desired) - 1};
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct strbuf path = STRBUF_INIT;
	long n;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-db-inventory DB N\n");
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	err = ipam_config_load_sources(&d, &src, 1, &diags);
	ipam_diags_free(&diags);
	if (!err)
		err = ipam_db_path_from_uri(&path, argv[1]);
	if (!err)
		err = ipam_db_open(&db, path.buf, 0);
	for (int r = 1; !err && r <= 3; r++)
		err = round_trip(db, d, n, r);
	if (err)
		fprintf(stderr, "bench-db-inventory: %s\n", ipam_error_last());
	ipam_db_close(db);
	ipam_desired_free(d);
	strbuf_release(&path);
	return err ? 1 : 0;
}
