/* The shared option parser: named long options, --opt=value, short
 * letters, the global options, and its messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "strbuf.h"
#include "testutil.h"

enum { OPT_LIMIT = CLI_OPT_OWN, OPT_DRY_RUN };

static const struct cli_option options[] = {
	{"domain", CLI_ARG, 'D', "the domain"},
	{"limit", CLI_ARG, OPT_LIMIT, "a count"},
	{"dry-run", CLI_NO_ARG, OPT_DRY_RUN, "write nothing"},
	{NULL, 0, 0, NULL},
};

struct seen {
	/* "id=arg;" for each of the command's options ('D' 68, OPT_LIMIT
	 * 512, OPT_DRY_RUN 513) */
	struct strbuf log;
	int refuse; /* refuse the option with this id */
};

static int option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct seen *s = opts;

	(void)cli;
	strbuf_addf(&s->log, "%d=%s;", id, arg ? arg : "");
	return id == s->refuse;
}

static const struct command test_cmd = {
	.name = "test",
	.usage = "test [--domain D] [--limit N] [--dry-run]",
	.options = options,
	.option = option,
};

/* Parse argv (NULL-terminated) with stderr caught in *err. */
static int parse(struct cli *cli, struct seen *s, char **err, int *first,
		 char **argv)
{
	char path[] = "/tmp/test_options.XXXXXX";
	int fd = mkstemp(path), saved, argc = 0, rc;

	assert_true(fd >= 0);
	while (argv[argc])
		argc++;
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	rc = cli_parse_options(cli, &test_cmd, s, argc, argv, first);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	*err = slurp(path, NULL);
	unlink(path);
	return rc;
}

#define ARGV(...) ((char *[]){"test", __VA_ARGS__, NULL})

static void test_long_and_short(void **state)
{
	struct seen s = {STRBUF_INIT, 0};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(parse(&cli, &s, &err, &first,
			       ARGV("--domain", "corp.test", "--limit=5",
				    "-Dother", "--dry-run", "-c", "desired",
				    "--db=sqlite:/x", "-o", "json", "show")),
			 0);
	assert_string_equal(err, "");
	assert_string_equal(s.log.buf, "68=corp.test;512=5;68=other;513=;");
	assert_string_equal(cli.config, "desired");
	assert_string_equal(cli.db_uri, "sqlite:/x");
	assert_int_equal(cli.output, IPAM_OUT_JSON);
	/* the argument is moved after the options */
	assert_int_equal(first, 11);
	free(err);
	strbuf_release(&s.log);
}

static void test_abbreviation(void **state)
{
	struct seen s = {STRBUF_INIT, 0};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(
		parse(&cli, &s, &err, &first, ARGV("--lim", "7", "--dry")), 0);
	assert_string_equal(s.log.buf, "512=7;513=;");
	free(err);
	strbuf_release(&s.log);
}

static void test_missing_argument(void **state)
{
	struct seen s = {STRBUF_INIT, 0};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(parse(&cli, &s, &err, &first, ARGV("--limit")), -1);
	assert_string_equal(err, "ipamctl: option '--limit' needs an argument\n"
				 "usage: ipamctl test [--domain D] [--limit "
				 "N] [--dry-run]\n");
	free(err);
	/* a short option (global or the command's) said as it was given */
	assert_int_equal(parse(&cli, &s, &err, &first, ARGV("-D", "x", "-c")),
			 -1);
	assert_string_equal(err, "ipamctl: option '-c' needs an argument\n"
				 "usage: ipamctl test [--domain D] [--limit "
				 "N] [--dry-run]\n");
	free(err);
	strbuf_release(&s.log);
}

static void test_unknown_option(void **state)
{
	struct seen s = {STRBUF_INIT, 0};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(
		parse(&cli, &s, &err, &first, ARGV("--dry-run", "--frob")), -1);
	assert_string_equal(err, "ipamctl: bad option '--frob'\n"
				 "usage: ipamctl test [--domain D] [--limit "
				 "N] [--dry-run]\n");
	free(err);
	/* a value given to an option that takes none */
	strbuf_reset(&s.log);
	assert_int_equal(parse(&cli, &s, &err, &first, ARGV("--dry-run=yes")),
			 -1);
	assert_string_equal(err, "ipamctl: bad option '--dry-run=yes'\n"
				 "usage: ipamctl test [--domain D] [--limit "
				 "N] [--dry-run]\n");
	free(err);
	/* an unknown short option, and one whose name holds controls */
	assert_int_equal(parse(&cli, &s, &err, &first, ARGV("-Z")), -1);
	assert_string_equal(err, "ipamctl: bad option '-Z'\n"
				 "usage: ipamctl test [--domain D] [--limit "
				 "N] [--dry-run]\n");
	free(err);
	assert_int_equal(
		parse(&cli, &s, &err, &first, ARGV("--\x1b]0;t\x07\r")), -1);
	assert_string_equal(err, "ipamctl: bad option '--\\x1b]0;t\\x07\\r'\n"
				 "usage: ipamctl test [--domain D] [--limit "
				 "N] [--dry-run]\n");
	free(err);
	strbuf_release(&s.log);
}

static void test_bad_global_value(void **state)
{
	struct seen s = {STRBUF_INIT, 0};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(parse(&cli, &s, &err, &first, ARGV("-o", "xml")), -1);
	assert_string_equal(err, "ipamctl: unknown output format 'xml' "
				 "(text, json, yaml, markdown, html)\n");
	free(err);
	strbuf_release(&s.log);
}

static void test_refused_stops(void **state)
{
	struct seen s = {STRBUF_INIT, OPT_LIMIT};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(parse(&cli, &s, &err, &first,
			       ARGV("--limit", "x", "--dry-run")),
			 -1);
	assert_string_equal(s.log.buf, "512=x;");
	free(err);
	strbuf_release(&s.log);
}

static void test_help(void **state)
{
	struct seen s = {STRBUF_INIT, 0};
	struct cli cli = {0};
	char *err;
	int first;

	(void)state;
	assert_int_equal(parse(&cli, &s, &err, &first, ARGV("--help")), 1);
	assert_string_equal(err, "");
	free(err);
	strbuf_release(&s.log);
}

/* main's scan: stops at the command name, leaves its options alone. */
static void test_stop_at_argument(void **state)
{
	char *argv[] = {"ipamctl", "-v", "plan", "--out", "x", NULL};
	struct cli_getopt g;
	const char *arg;

	(void)state;
	cli_getopt_init(&g, NULL, cli_global_options, true, 5, argv);
	assert_int_equal(cli_getopt_next(&g, &arg), 'v');
	assert_int_equal(cli_getopt_next(&g, &arg), CLI_GETOPT_END);
	assert_int_equal(g.next, 2);
	cli_getopt_release(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_and_short),
		cmocka_unit_test(test_abbreviation),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_bad_global_value),
		cmocka_unit_test(test_refused_stops),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_stop_at_argument),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
