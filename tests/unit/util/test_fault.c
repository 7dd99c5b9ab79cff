/*
 * util/fault: built twice, as fault.h says.  test_fault compiles fault.c
 * in with IPAM_FAULT_INJECTION, as ipamctl-fault does; test_fault_off
 * links the util library's no-op.  Each case runs the calls in a child
 * (the module reads its environment once per process).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fault.h"
#include "strbuf.h"

static char dir[] = "/tmp/ipam-test-fault.XXXXXX";
static char *trace;

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	trace = xasprintf("%s/writes", dir);
	return 0;
}

static int teardown(void **state)
{
	char *core = xasprintf("%s/core", dir);

	(void)state;
	unlink(trace);
	unlink(core);
	rmdir(dir);
	free(core);
	free(trace);
	return 0;
}

/* In a child, in dir, with IPAM_FAULT_AFTER=after (NULL: unset) and the
 * trace: n writes, then exit 0.  Its wait status. */
static int child(const char *after, int n)
{
	pid_t pid;
	int st;

	unlink(trace);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (chdir(dir) < 0)
			_exit(126);
		if (after)
			setenv("IPAM_FAULT_AFTER", after, 1);
		else
			unsetenv("IPAM_FAULT_AFTER");
		setenv("IPAM_FAULT_COUNT_FILE", trace, 1);
		for (int i = 1; i <= n; i++) {
			char target[32];

			snprintf(target, sizeof(target), "CN=x%d\n,DC=t", i);
			ipam_fault_point(i % 2 ? "ldap add" : "smb write",
					 target);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

#ifdef IPAM_FAULT_INJECTION

static char *read_trace(void)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	int fd = open(trace, O_RDONLY);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)n);
	close(fd);
	return strbuf_detach(&sb, NULL);
}

/* Every write a line, control characters of the target made spaces; the
 * file is the owner's alone. */
static void test_counts_every_write(void **state)
{
	struct stat st;
	int status = child(NULL, 4);
	char *t = read_trace();

	(void)state;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(t);
	assert_string_equal(t, "1 ldap add CN=x1 ,DC=t\n"
			       "2 smb write CN=x2 ,DC=t\n"
			       "3 ldap add CN=x3 ,DC=t\n"
			       "4 smb write CN=x4 ,DC=t\n");
	assert_int_equal(stat(trace, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(t);
}

/* SIGABRT right after write k, nothing after it, and no core file. */
static void test_aborts_after_the_kth(void **state)
{
	char *core = xasprintf("%s/core", dir), *t, *want;
	int status = child("3", 5);
	long pid;

	(void)state;
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	t = read_trace();
	assert_non_null(t);
	assert_non_null(strstr(t, "abort after write 3 (pid "));
	pid = strtol(strstr(t, "(pid ") + 5, NULL, 10);
	want = xasprintf("1 ldap add CN=x1 ,DC=t\n"
			 "2 smb write CN=x2 ,DC=t\n"
			 "3 ldap add CN=x3 ,DC=t\n"
			 "abort after write 3 (pid %ld)\n",
			 pid);
	assert_string_equal(t, want);
	assert_int_not_equal(access(core, F_OK), 0);
	free(want);
	free(t);
	free(core);
}

/* A k past the last write, 0, or not a count: no abort. */
static void test_no_abort_otherwise(void **state)
{
	static const char *const after[] = {"5", "0", "-1", "x", "2x", ""};

	(void)state;
	for (size_t i = 0; i < sizeof(after) / sizeof(*after); i++) {
		int status = child(after[i], 4);

		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

#else

/* The util library's variant: the variables change nothing. */
static void test_off_does_nothing(void **state)
{
	int status = child("1", 3);

	(void)state;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_not_equal(access(trace, F_OK), 0);
}

#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
#ifdef IPAM_FAULT_INJECTION
		cmocka_unit_test(test_counts_every_write),
		cmocka_unit_test(test_aborts_after_the_kth),
		cmocka_unit_test(test_no_abort_otherwise),
#else
		cmocka_unit_test(test_off_does_nothing),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
