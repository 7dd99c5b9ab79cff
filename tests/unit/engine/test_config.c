#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "error.h"
#include "testutil.h"

#define BASE                                                                   \
	"version: 1\n"                                                         \
	"ipamServer: ipam1.corp.example.test\n"                                \
	"provisioning:\n"                                                      \
	"  method: gpo\n"                                                      \
	"  gpoPrefix: IPAM\n"

static struct ipam_desired *load_ok(const struct ipam_source *src, size_t n)
{
	struct ipam_diags d = {0};
	struct ipam_desired *desired = NULL;

	assert_int_equal(ipam_config_load_sources(&desired, src, n, &d), 0);
	assert_int_equal(d.errors, 0);
	ipam_diags_free(&d);
	return desired;
}

/* All diagnostics, one formatted line each. */
static char *load_err(const struct ipam_source *src, size_t n)
{
	struct ipam_diags d = {0};
	struct ipam_desired *desired = NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	assert_int_equal(ipam_config_load_sources(&desired, src, n, &d),
			 IPAM_EINVAL);
	assert_null(desired);
	assert_true(d.errors > 0);
	for (i = 0; i < d.nr; i++) {
		ipam_diag_format(&sb, &d.items[i]);
		strbuf_addch(&sb, '\n');
	}
	ipam_diags_free(&d);
	return strbuf_detach(&sb, NULL);
}

#define SRC(name, text)                                                        \
	{                                                                      \
		(name), (text), sizeof(text) - 1                               \
	}

static void test_defaults_filled(void **state)
{
	const struct ipam_source src[] = {
		SRC("a.yaml",
		    BASE "discovery:\n  - domain: Corp.Example.Test\n"
			 "servers:\n  - name: DHCP1.corp.example.test\n"),
	};
	struct ipam_desired *d = load_ok(src, 1);

	(void)state;
	assert_int_equal(d->version, 1);
	assert_int_equal(d->method, IPAM_METHOD_GPO);
	assert_int_equal(d->max_removals, IPAM_DEFAULT_MAX_REMOVALS);
	assert_int_equal(d->default_manageability, IPAM_MANAGE_UNSPECIFIED);
	assert_int_equal(d->nr_domains, 1);
	assert_string_equal(d->domains[0].name, "corp.example.test");
	assert_true(d->domains[0].dc && d->domains[0].dns &&
		    d->domains[0].dhcp);
	assert_int_equal(d->domains[0].effective.auth, IPAM_AUTH_KERBEROS);
	assert_int_equal(d->domains[0].effective.timeout, IPAM_DEFAULT_TIMEOUT);
	assert_string_equal(d->servers[0].name, "dhcp1.corp.example.test");
	assert_int_equal(d->servers[0].manageability, IPAM_MANAGE_UNSPECIFIED);
	assert_ptr_equal(d->servers[0].domain, &d->domains[0]);
	assert_false(d->servers[0].roles_set);
	/* positions point back at the source */
	assert_string_equal(d->servers[0].pos.file, "a.yaml");
	assert_int_equal(d->servers[0].pos.line, 9);
	assert_int_equal(d->servers[0].pos.col, 11);
	assert_int_equal(d->method_pos.line, 4);
	ipam_desired_free(d);
}

static void test_merge_in_order(void **state)
{
	const struct ipam_source src[] = {
		SRC("10-base.yaml",
		    BASE "discovery:\n  - domain: corp.example.test\n"
			 "defaults:\n  manageability: managed\n"),
		SRC("20-more.yaml",
		    "version: 1\ndiscovery:\n  - domain: branch.example.test\n"
		    "servers:\n  - name: nps1.branch.example.test\n"
		    "    roles: [nps, dc]\n"
		    "  - name: dhcp1.corp.example.test\n"
		    "    manageability: unmanaged\n"),
	};
	struct ipam_desired *d = load_ok(src, 2);

	(void)state;
	assert_int_equal(d->nr_files, 2);
	assert_int_equal(d->nr_domains, 2);
	/* sorted by name, each keeping its file */
	assert_string_equal(d->domains[0].name, "branch.example.test");
	assert_string_equal(d->domains[0].pos.file, "20-more.yaml");
	assert_string_equal(d->domains[1].pos.file, "10-base.yaml");
	assert_int_equal(d->nr_servers, 2);
	assert_string_equal(d->servers[0].name, "dhcp1.corp.example.test");
	assert_int_equal(d->servers[0].manageability, IPAM_MANAGE_UNMANAGED);
	assert_string_equal(d->servers[0].domain->name, "corp.example.test");
	/* defaults from another file apply */
	assert_int_equal(d->servers[1].manageability, IPAM_MANAGE_MANAGED);
	assert_int_equal(d->servers[1].roles, IPAM_ROLE_NPS | IPAM_ROLE_DC);
	ipam_desired_free(d);
}

static void test_cross_file_duplicates_name_both_places(void **state)
{
	const struct ipam_source src[] = {
		SRC("a.yaml",
		    BASE "discovery:\n  - domain: corp.example.test\n"),
		SRC("b.yaml", "ipamServer: ipam2.corp.example.test\n"
			      "discovery:\n  - domain: CORP.example.test\n"),
	};
	char *msg = load_err(src, 2);

	(void)state;
	assert_string_equal(
		msg,
		"b.yaml:1:1: 'ipamServer' is already set in a.yaml:2:1 (a key "
		"other than discovery, servers and notify may be set in one "
		"file only)\n"
		"b.yaml:3:13: discovery domain 'corp.example.test' is declared "
		"twice (also at a.yaml:7:13)\n");
	free(msg);
}

static void test_all_errors_in_one_run(void **state)
{
	const struct ipam_source src[] = {
		SRC("a.yaml",
		    BASE "discovery:\n  - domain: corp.example.test\n"
			 "    dhcp: maybe\n"
			 "servers:\n  - name: bad_name.corp.example.test\n"
			 "  - name: x.corp.example.test\n"
			 "    manageability: yes\n"),
		SRC("b.yaml", "safety: {maxRemovals: many}\n"),
	};
	char *msg = load_err(src, 2);

	(void)state;
	assert_string_equal(
		msg,
		"a.yaml:8:11: 'dhcp' must be true or false, got a string\n"
		"a.yaml:10:11: 'bad_name.corp.example.test' is not a fully "
		"qualified server name (host.domain, letters, digits and '-')\n"
		"a.yaml:12:20: 'manageability' must be one of managed, "
		"unmanaged, unspecified; got 'yes'\n"
		"b.yaml:1:23: 'maxRemovals' must be an integer, got a "
		"string\n");
	free(msg);
}

static void test_parse_error_in_one_file_skips_cross_file_rules(void **state)
{
	const struct ipam_source src[] = {
		SRC("a.yaml", "version: 1\nprovisioning: [\n"),
		SRC("b.yaml", "servers:\n  - name: a.elsewhere.test\n"),
	};
	char *msg = load_err(src, 2);

	(void)state;
	/* no "missing key" or "no discovery domain" noise from b.yaml */
	assert_non_null(strstr(msg, "a.yaml:3:1: YAML syntax error"));
	assert_null(strstr(msg, "b.yaml"));
	free(msg);
}

static void test_load_directory_sorted(void **state)
{
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;
	char *dir = xasprintf("%s/desired/valid/split.d", fixtures_dir());

	(void)state;
	assert_int_equal(ipam_config_load(&d, dir, &diags), 0);
	assert_int_equal(d->nr_files, 3);
	assert_non_null(strstr(d->files[0], "00-base.yaml"));
	assert_non_null(strstr(d->files[1], "10-branch.yml"));
	assert_non_null(strstr(d->files[2], "20-corp-servers.yaml"));
	assert_int_equal(d->nr_servers, 3);
	ipam_desired_free(d);
	ipam_diags_free(&diags);
	free(dir);
}

static void test_unreadable_paths(void **state)
{
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;
	char *dir = tmpdir_make();

	(void)state;
	assert_int_equal(
		ipam_config_load(&d, "/nonexistent/ipamctl.yaml", &diags),
		IPAM_EIO);
	assert_non_null(strstr(ipam_error_last(), "/nonexistent/ipamctl.yaml"));
	assert_int_equal(ipam_config_load(&d, dir, &diags), IPAM_EINVAL);
	assert_non_null(strstr(ipam_error_last(), "no *.yaml or *.yml files"));
	assert_null(d);
	assert_int_equal(diags.nr, 0);
	tmpdir_remove(dir);
}

/* A FIFO given with -c or found in a directory is refused by name, at
 * once: the alarm fails the test rather than let it hang. */
static void test_fifo_refused(void **state)
{
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;
	char *dir = tmpdir_make();
	char *fifo = xasprintf("%s/10-pipe.yaml", dir);
	char *base = xasprintf("%s/00-base.yaml", dir);

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	assert_int_equal(ipam_config_load(&d, fifo, &diags), IPAM_EIO);
	assert_non_null(strstr(ipam_error_last(), fifo));
	assert_non_null(strstr(ipam_error_last(), "not a regular file"));
	assert_int_equal(write_file(base, BASE), 0);
	assert_int_equal(ipam_config_load(&d, dir, &diags), IPAM_EIO);
	assert_non_null(strstr(ipam_error_last(), fifo));
	alarm(0);
	assert_null(d);
	unlink(fifo);
	unlink(base);
	free(fifo);
	free(base);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_filled),
		cmocka_unit_test(test_merge_in_order),
		cmocka_unit_test(test_cross_file_duplicates_name_both_places),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(
			test_parse_error_in_one_file_skips_cross_file_rules),
		cmocka_unit_test(test_load_directory_sorted),
		cmocka_unit_test(test_unreadable_paths),
		cmocka_unit_test(test_fifo_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
