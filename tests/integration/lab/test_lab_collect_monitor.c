/*
 * The availability and zones tasks against the lab.  After db init,
 * discover, apply and verify with every server managed (the identity
 * ipam1$ from the lab's keytab):
 *  (1) availability: `collect --task availability` finds dhcp1's and
 *      bdhcp1's DHCP up (lab-dhcpinform gets a DHCPACK from dhcp1 and the
 *      lab's dnsmasq runs), the corp and branch DCs' DNS up (`dig
 *      +norecurse @DC SOA domain` answers NOERROR, aa) and the TEST-NET
 *      DNS servers down, unreachable (dig cannot reach them either); a
 *      second run keeps `since`; `ci/lab dhcp-stop` (dnsmasq gone,
 *      lab-dhcpinform unanswered) turns dhcp1 down on the next run with
 *      `since` moved and a history row; `ci/lab dhcp-start` turns it up
 *      again; `availability -o json` matches its schema, the text says
 *      "down for" / "up for";
 *  (2) zones: after `collect --task dns`, `collect --task zones` finds
 *      _msdcs.corp.example.test (one NS, the corp DC) OK with the serial
 *      dig reads from the DC, and corp.example.test Critical, naming dc2
 *      and dns1 (listed by `dig NS`, unreachable for dig too) with the
 *      reason, while the corp DC answered authoritatively; `dns zones`
 *      shows the statuses.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"
#include "testutil.h"
#include "labad.h"
#include "labtest.h"
#include "node.h"
#include "strbuf.h"

static struct labad_forest F[3]; /* index 1 corp, 2 branch */
static char *tmpdir, *db_path, *cfg;
static const char *keytab, *principal;

static const char *const dhcp1 = "dhcp1.corp.example.test";

/* The lab's desired state with our database, every server managed, the
 * identity ipam1$ from the lab's keytab. */
static char *write_config(const char *name)
{
	char *dir = xasprintf("%s/%s", tmpdir, name);

	labad_write_managed_config(dir, db_path, keytab, principal, NULL);
	return dir;
}

/* ---- independent looks ------------------------------------------------- */

/* dig without recursion; its output in *out, its exit status. */
static int dig(char **out, const char *server, const char *type,
	       const char *name)
{
	char at[64];
	const char *argv[] = {"dig", "+norecurse", "+time=2", "+tries=1",
			      at,    type,	   name,      NULL};
	struct lab_run res;
	int code;

	snprintf(at, sizeof(at), "@%s", server);
	lab_must_run(argv, NULL, &res);
	code = res.exit_code;
	*out = xasprintf("%s%s", res.out, res.err);
	lab_run_free(&res);
	return code;
}

/* The SOA serial dig reads from server (authoritative, NOERROR). */
static long long dig_serial(const char *server, const char *zone)
{
	char *out, *line;
	long long serial = -1;

	if (dig(&out, server, "SOA", zone) != 0 ||
	    !strstr(out, "status: NOERROR") || !strstr(out, "flags: qr aa"))
		fail_msg("dig @%s SOA %s: no authoritative answer:\n%s", server,
			 zone, out);
	for (line = out; line && *line; line = strchr(line, '\n')) {
		char name[256], mname[256], rname[256];

		while (*line == '\n')
			line++;
		if (sscanf(line, "%255s %*d IN SOA %255s %255s %lld", name,
			   mname, rname, &serial) == 4)
			break;
		serial = -1;
	}
	if (serial < 0)
		fail_msg("no SOA in dig's answer:\n%s", out);
	free(out);
	return serial;
}

/* dig cannot reach server at all. */
static void dig_unreachable(const char *server, const char *zone)
{
	char *out;

	if (dig(&out, server, "SOA", zone) == 0)
		fail_msg("dig @%s answered:\n%s", server, out);
	if (!strstr(out, "no servers could be reached"))
		fail_msg("dig @%s: %s", server, out);
	free(out);
}

/* lab-dhcpinform's exit status: 0 DHCPACK, 1 no answer. */
static int dhcpinform(const char *server)
{
	const char *argv[] = {lab_need_env("IPAM_LAB_DHCPINFORM"), "-t", "1000",
			      server, NULL};
	struct lab_run res;
	int code;

	lab_must_run(argv, NULL, &res);
	code = res.exit_code;
	lab_run_free(&res);
	return code;
}

/* Is the lab's dnsmasq running (a process whose command line is dnsmasq's
 * and names the lab dir)? */
static bool dnsmasq_runs(void)
{
	const char *dir = lab_need_env("IPAM_LAB_DIR");
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while (!found && (e = readdir(d))) {
		char path[300], *cmd;
		size_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		cmd = lab_read_file(path, 1 << 16, &len);
		if (!cmd)
			continue;
		for (size_t i = 0; i + 1 < len; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		found = !strncmp(cmd, "dnsmasq ", 8) && strstr(cmd, dir);
		free(cmd);
	}
	closedir(d);
	return found;
}

static void lab_dhcp(const char *what)
{
	const char *argv[] = {lab_need_env("IPAM_LAB_SCRIPT"), "--state",
			      lab_need_env("IPAM_LAB_STATE"), what, NULL};
	struct lab_run res;

	lab_must_succeed(argv, NULL, &res);
	lab_run_free(&res);
}

/* An independent look at the database. */
static char *sql(const char *query)
{
	char *out = sqlite_query(db_path, query), *line;

	line = xasprintf("%s\n", out);
	free(out);
	return line;
}

/* ---- ipamctl ----------------------------------------------------------- */

static struct ipam_node *collect(const char *task)
{
	struct lab_run res;
	struct ipam_node *n;

	labad_run_ipamctl(&res, "collect", "-c", cfg, "--task", task, "-o",
			  "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl collect");
	n = labad_parse_json(res.out, res.out_len, "collect -o json");
	lab_run_free(&res);
	return n;
}

static struct ipam_node *availability(void)
{
	struct lab_run res;
	struct ipam_node *n;
	char *path = xasprintf("%s/availability.json", tmpdir);

	labad_run_ipamctl(&res, "availability", "-c", cfg, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl availability -o json");
	labad_schema_ok("availability", res.out, res.out_len, path);
	n = labad_parse_json(res.out, res.out_len, "availability -o json");
	lab_run_free(&res);
	free(path);
	return n;
}

static const struct ipam_node *service(const struct ipam_node *v,
				       const char *server, const char *svc)
{
	const struct ipam_node *seq = labad_jkey(v, "services");

	for (size_t i = 0; seq && i < seq->nr; i++) {
		const char *s = labad_jstr(seq->items[i], "server");
		const char *k = labad_jstr(seq->items[i], "service");

		if (s && k && !strcasecmp(s, server) && !strcmp(k, svc))
			return seq->items[i];
	}
	fail_msg("availability says nothing of %s %s", server, svc);
	return NULL;
}

static void expect_state(const struct ipam_node *v, const char *server,
			 const char *svc, const char *state,
			 const char *reason_has)
{
	const struct ipam_node *s = service(v, server, svc);
	const char *got = labad_jstr(s, "state"),
		   *why = labad_jstr(s, "reason");

	if (!got || strcmp(got, state) ||
	    (reason_has && (!why || !strstr(why, reason_has))))
		fail_msg("%s %s: %s (%s), want %s (%s)", server, svc,
			 got ? got : "-", why ? why : "no reason", state,
			 reason_has ? reason_has : "any reason");
}

static char *since_of(const struct ipam_node *v, const char *server,
		      const char *svc)
{
	return xstrdup(labad_jstr(service(v, server, svc), "since"));
}

/* ---- setup ------------------------------------------------------------- */

static int setup(void **state)
{
	struct lab_run res;

	(void)state;
	keytab = lab_need_env("IPAM_LAB_IPAM_KEYTAB");
	principal = lab_env("IPAM_LAB_IPAM_PRINCIPAL");
	if (!principal)
		principal = "IPAM1$@CORP.EXAMPLE.TEST";
	tmpdir = lab_mkdtemp();
	assert_non_null(tmpdir);
	db_path = test_db_new(tmpdir);
	for (int f = 1; f <= 2; f++) {
		labad_forest_init(&F[f], f);
		labad_remove_leftovers(&F[f]);
	}
	cfg = write_config("config");
	labad_run_ipamctl(&res, "db", "init", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl db init");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "discover", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl discover");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "apply", "-c", cfg, "--auto-approve", NULL);
	labad_expect_exit(&res, 0, "ipamctl apply");
	lab_run_free(&res);
	labad_run_ipamctl(&res, "verify", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl verify");
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (!dnsmasq_runs())
		lab_dhcp("dhcp-start");
	for (int f = 1; f <= 2; f++) {
		labad_remove_leftovers(&F[f]);
		labad_forest_release(&F[f]);
	}
	lab_rm_rf(tmpdir);
	free(tmpdir);
	free(db_path);
	free(cfg);
	return 0;
}

/* ---- (1) availability -------------------------------------------------- */

static void expect_first_run(const struct ipam_node *v)
{
	const char *corp = lab_need_forest(1, "DC"),
		   *branch = lab_need_forest(2, "DC");
	char *out;

	expect_state(v, dhcp1, "dhcp", "up", NULL);
	expect_state(v, "bdhcp1.branch.example.test", "dhcp", "up", NULL);
	assert_true(dnsmasq_runs());
	assert_int_equal(dhcpinform(dhcp1), 0);
	expect_state(v, corp, "dns", "up", NULL);
	expect_state(v, branch, "dns", "up", NULL);
	(void)dig_serial(lab_need_forest(1, "DC_IP"), "corp.example.test");
	(void)dig_serial(lab_need_forest(2, "DC_IP"), "branch.example.test");
	expect_state(v, "dns1.corp.example.test", "dns", "down",
		     "no answer to the SOA query of corp.example.test: "
		     "Network is unreachable");
	expect_state(v, "dc2.corp.example.test", "dns", "down",
		     "Network is unreachable");
	dig_unreachable("192.0.2.10", "corp.example.test");
	assert_null(labad_jstr(service(v, corp, "dns"), "reason"));
	assert_true(labad_jkey(service(v, corp, "dns"), "rttMs")->num >= 0);
	out = sql("SELECT count(*) FROM availability_history");
	assert_string_equal(out, "7\n"); /* one row a service: the first */
	free(out);
}

static void test_1_availability(void **state)
{
	struct ipam_node *c, *v;
	char *since1, *since2, *out;
	struct lab_run res;

	(void)state;
	c = collect("availability");
	{
		const struct ipam_node *t = labad_jkey(c, "tasks")->items[0];

		assert_int_equal(labad_jkey(labad_jkey(t, "counts"), "up")->num,
				 4);
		assert_int_equal(
			labad_jkey(labad_jkey(t, "counts"), "down")->num, 3);
	}
	ipam_node_free(c);
	v = availability();
	expect_first_run(v);
	since1 = since_of(v, dhcp1, "dhcp");
	ipam_node_free(v);

	/* a second later, the same states: since kept */
	sleep(1);
	ipam_node_free(collect("availability"));
	v = availability();
	expect_state(v, dhcp1, "dhcp", "up", NULL);
	since2 = since_of(v, dhcp1, "dhcp");
	assert_string_equal(since1, since2);
	assert_string_not_equal(
		labad_jstr(service(v, dhcp1, "dhcp"), "checkedAt"), since1);
	ipam_node_free(v);
	free(since2);

	/* the lab's DHCP server stopped: dhcp1 down, since moved */
	lab_dhcp("dhcp-stop");
	assert_false(dnsmasq_runs());
	assert_int_equal(dhcpinform(dhcp1), 1);
	ipam_node_free(collect("availability"));
	v = availability();
	expect_state(v, dhcp1, "dhcp", "down", "no answer to a DHCPINFORM");
	since2 = since_of(v, dhcp1, "dhcp");
	assert_true(strcmp(since2, since1) > 0);
	expect_state(v, lab_need_forest(1, "DC"), "dns", "up", NULL);
	ipam_node_free(v);
	out = sql("SELECT h.state || ' ' || h.at FROM availability_history h "
		  "JOIN servers s ON s.id = h.server_id WHERE s.name = "
		  "'dhcp1.corp.example.test' AND h.service = 'dhcp' "
		  "ORDER BY h.id");
	{
		char *want = xasprintf("up %s\ndown %s\n", since1, since2);

		assert_string_equal(out, want);
		free(want);
	}
	free(out);
	labad_run_ipamctl(&res, "availability", "-c", cfg, NULL);
	labad_expect_exit(&res, 0, "ipamctl availability");
	if (!strstr(res.out, "down for ") || !strstr(res.out, "up for "))
		fail_msg("availability text:\n%s", res.out);
	lab_run_free(&res);

	/* started again: up, a third history row */
	lab_dhcp("dhcp-start");
	assert_true(dnsmasq_runs());
	ipam_node_free(collect("availability"));
	v = availability();
	expect_state(v, dhcp1, "dhcp", "up", NULL);
	ipam_node_free(v);
	out = sql("SELECT group_concat(h.state, ',') FROM availability_history"
		  " h JOIN servers s ON s.id = h.server_id WHERE s.name = "
		  "'dhcp1.corp.example.test' AND h.service = 'dhcp'");
	assert_string_equal(out, "up,down,up\n");
	free(out);
	free(since1);
	free(since2);
}

/* ---- (2) zones --------------------------------------------------------- */

static const struct ipam_node *zone(const struct ipam_node *v, const char *name)
{
	const struct ipam_node *seq = labad_jkey(v, "zones");

	for (size_t i = 0; seq && i < seq->nr; i++) {
		const char *z = labad_jstr(seq->items[i], "zone");

		if (z && !strcasecmp(z, name))
			return seq->items[i];
	}
	fail_msg("dns zones says nothing of %s", name);
	return NULL;
}

/* What zone_status holds for one server of a zone, as "answered
 * authoritative serial". */
static char *zone_server(const char *zname, const char *server)
{
	char *q =
		test_db_is_pg()
			? xasprintf("SELECT CAST(CAST(j->>'answered' AS "
				    "BOOLEAN) AS INT) || ' ' || "
				    "CAST(CAST(j->>'authoritative' AS BOOLEAN) "
				    "AS INT) || ' ' || coalesce(j->>'serial', "
				    "'-') FROM zone_status s JOIN dns_zones z "
				    "ON z.id = s.zone_id, json_array_elements("
				    "CAST(s.servers AS JSON)) j WHERE z.name = "
				    "'%s' AND j->>'server' = '%s'",
				    zname, server)
			: xasprintf(
				  "SELECT json_extract(j.value, '$.answered') "
				  "|| ' ' || json_extract(j.value, "
				  "'$.authoritative') || ' ' || coalesce("
				  "json_extract(j.value, '$.serial'), '-') "
				  "FROM zone_status s JOIN dns_zones z ON "
				  "z.id = s.zone_id, json_each(s.servers) j "
				  "WHERE z.name = '%s' AND json_extract("
				  "j.value, '$.server') = '%s'",
				  zname, server);
	char *out = sql(q);

	free(q);
	return out;
}

static void test_2_zones(void **state)
{
	const char *corp_ip = lab_need_forest(1, "DC_IP");
	struct ipam_node *c, *v;
	const struct ipam_node *z, *t;
	struct lab_run res;
	char *out, *want;
	long long serial;

	(void)state;
	ipam_node_free(collect("dns"));
	c = collect("zones");
	t = labad_jkey(c, "tasks")->items[0];
	assert_true(labad_jkey(labad_jkey(t, "counts"), "ok")->num >= 1);
	assert_true(labad_jkey(labad_jkey(t, "counts"), "critical")->num >= 1);
	ipam_node_free(c);

	labad_run_ipamctl(&res, "dns", "zones", "-c", cfg, "-o", "json", NULL);
	labad_expect_exit(&res, 0, "ipamctl dns zones -o json");
	v = labad_parse_json(res.out, res.out_len, "dns zones -o json");
	lab_run_free(&res);

	/* _msdcs: one NS, the corp DC, which dig finds authoritative */
	z = zone(v, "_msdcs.corp.example.test");
	assert_string_equal(labad_jstr(z, "status"), "OK");
	serial = dig_serial(corp_ip, "_msdcs.corp.example.test");
	out = zone_server("_msdcs.corp.example.test", "dc1.corp.example.test");
	want = xasprintf("1 1 %lld\n", serial);
	assert_string_equal(out, want);
	free(want);
	free(out);

	/* corp: dig lists dc1, dc2, dns1; dc2 and dns1 cannot be reached */
	if (dig(&out, corp_ip, "NS", "corp.example.test") != 0 ||
	    !strstr(out, "dc2.corp.example.test.") ||
	    !strstr(out, "dns1.corp.example.test."))
		fail_msg("dig NS corp.example.test:\n%s", out);
	free(out);
	dig_unreachable("192.0.2.2", "corp.example.test");
	dig_unreachable("192.0.2.10", "corp.example.test");
	z = zone(v, "corp.example.test");
	assert_string_equal(labad_jstr(z, "status"), "Critical");
	if (!labad_jstr(z, "reason") ||
	    !strstr(labad_jstr(z, "reason"),
		    "dc2.corp.example.test (192.0.2.2) did not answer the "
		    "SOA query: Network is unreachable") ||
	    !strstr(labad_jstr(z, "reason"),
		    "dns1.corp.example.test (192.0.2.10) did not answer the "
		    "SOA query: Network is unreachable") ||
	    strstr(labad_jstr(z, "reason"), "dc1."))
		fail_msg("corp.example.test: %s", labad_jstr(z, "reason"));
	serial = dig_serial(corp_ip, "corp.example.test");
	out = zone_server("corp.example.test", "dc1.corp.example.test");
	want = xasprintf("1 1 %lld\n", serial);
	assert_string_equal(out, want);
	free(want);
	free(out);
	out = zone_server("corp.example.test", "dns1.corp.example.test");
	assert_string_equal(out, "0 0 -\n");
	free(out);
	/* reverse zones get no status */
	out = sql("SELECT count(*) FROM zone_status s JOIN dns_zones z ON "
		  "z.id = s.zone_id WHERE z.reverse = 1");
	assert_string_equal(out, "0\n");
	free(out);
	ipam_node_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_1_availability),
		cmocka_unit_test(test_2_zones),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
