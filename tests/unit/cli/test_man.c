/* cli_man.c: a usage text laid out for the terminal, read back as roff
 * (synopsis forms, paragraphs, "term  text" lists, option entries taken
 * out of the text into the options). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"

static const struct cli_option fake_options[] = {
	{"domain", CLI_ARG, 'D', "only domain D"},
	{"every", CLI_ARG, CLI_OPT_OWN, "a cycle every DURATION"},
	{"jitter", CLI_ARG, CLI_OPT_OWN + 1, "spread by PCT"},
	{"dry-run", CLI_NO_ARG, CLI_OPT_OWN + 2, "write nothing"},
	{"other-mode", CLI_NO_ARG, CLI_OPT_OWN + 3, "not this command's"},
	{NULL, 0, 0, NULL},
};

static const struct command fake = {
	.name = "fake-cmd",
	.summary = "do a fake thing",
	.usage = "fake-cmd [--domain D] [--every DURATION [--jitter PCT]]\n"
		 "         [--dry-run]\n"
		 "       fake-cmd show NAME\n\n"
		 "Does it.  See `ipamctl plan`.\n"
		 ".dots start this line\n\n"
		 "  init         make it\n"
		 "  --every 15m  a cycle every interval, until\n"
		 "               SIGTERM\n"
		 "  --jitter 10% spread the cycles",
	.options = fake_options,
};

static char *render(void)
{
	const struct command *cmds[] = {&fake};
	static const struct cli_option none[] = {{NULL, 0, 0, NULL}};
	struct cli_table t = {cmds, 1, none};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cli_man_page(f, &t);
	fclose(f);
	return buf;
}

static void test_forms_and_text(void **state)
{
	char *m = render();

	(void)state;
	assert_non_null(strstr(m, ".SS fake\\-cmd\n\\fBipamctl\\fR "
				  "\\fBfake\\-cmd\\fR [\\fB\\-\\-domain\\fR "
				  "\\fID\\fR]"));
	/* A continuation joins its form; a new form breaks the line. */
	assert_non_null(strstr(m, "\\fIPCT\\fR]]\n[\\fB\\-\\-dry\\-run\\fR]\n"
				  ".br\n\\fBipamctl\\fR \\fBfake\\-cmd\\fR "
				  "\\fBshow\\fR \\fINAME\\fR\n"));
	assert_non_null(strstr(m, ".PP\nDo a fake thing.\n"));
	assert_non_null(strstr(m, "Does it.  See \\fBipamctl plan\\fR.\n"
				  "\\&.dots start this line\n"));
	assert_non_null(strstr(m, ".TP\n\\fBinit\\fR\nmake it\n"));
	free(m);
}

static void test_options(void **state)
{
	char *m = render();
	char *opts;

	(void)state;
	opts = strstr(m, ".PP\nOptions:\n");
	assert_non_null(opts);
	/* From the table, with the value the synopsis names. */
	assert_non_null(strstr(opts, ".TP\n\\fB\\-D\\fR, \\fB\\-\\-domain\\fR "
				     "\\fID\\fR\nonly domain D\n"));
	/* From the usage's own entries, continuation and all, even where
	 * a single space separates term and text. */
	assert_non_null(strstr(opts, ".TP\n\\fB\\-\\-every\\fR \\fB15m\\fR\n"
				     "a cycle every interval, until\n"
				     "SIGTERM\n"));
	assert_non_null(strstr(opts, ".TP\n\\fB\\-\\-jitter\\fR \\fB10%\\fR\n"
				     "spread the cycles\n"));
	assert_non_null(strstr(opts, "\\fB\\-\\-dry\\-run\\fR\nwrite nothing"));
	/* Not in the synopsis: another command's option of a shared table. */
	assert_null(strstr(m, "other\\-mode"));
	/* Taken out of the text, not printed twice. */
	assert_ptr_equal(strstr(m, "\\-\\-every\\fR \\fB15m"),
			 strstr(opts, "\\-\\-every\\fR \\fB15m"));
	free(m);
}

static void test_documented(void **state)
{
	(void)state;
	assert_true(cli_option_documented(&fake, &fake_options[0]));
	assert_true(cli_option_documented(&fake, &fake_options[3]));
	assert_false(cli_option_documented(&fake, &fake_options[4]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms_and_text),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
