#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "proc.h"
#include "strbuf.h"

static int run(struct ipam_proc_result *r, int timeout, size_t max,
	       const char *hint, const char *const argv[])
{
	struct ipam_proc_opts o = {
		.timeout = timeout,
		.max_output = max,
		.missing_hint = hint,
	};

	return ipam_proc_run(r, argv, &o);
}

static void test_run_status_and_output(void **state)
{
	const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3",
			      NULL};
	struct ipam_proc_result r;

	(void)state;
	assert_int_equal(run(&r, 10, 0, NULL, argv), 0);
	assert_int_equal(r.status, 3);
	assert_string_equal(r.out.buf, "out\n");
	assert_string_equal(r.err.buf, "err\n");
	ipam_proc_result_release(&r);
}

/* A signal shows as 128 + its number, as a shell says it. */
static void test_run_killed_by_signal(void **state)
{
	const char *argv[] = {"sh", "-c", "kill -TERM $$", NULL};
	struct ipam_proc_result r;

	(void)state;
	assert_int_equal(run(&r, 10, 0, NULL, argv), 0);
	assert_int_equal(r.status, 128 + 15);
	ipam_proc_result_release(&r);
}

/* set_umask gives the child its own umask; the process keeps its. */
static void test_run_child_umask(void **state)
{
	const char *argv[] = {"sh", "-c", "umask", NULL};
	struct ipam_proc_opts o = {.timeout = 10};
	struct ipam_proc_result r;
	mode_t mine = umask(022);

	(void)state;
	assert_int_equal(ipam_proc_run(&r, argv, &o), 0);
	assert_string_equal(r.out.buf, "0022\n");
	ipam_proc_result_release(&r);
	o.set_umask = true;
	o.child_umask = 077;
	assert_int_equal(ipam_proc_run(&r, argv, &o), 0);
	assert_string_equal(r.out.buf, "0077\n");
	ipam_proc_result_release(&r);
	assert_int_equal(umask(mine), 022);
}

/* Each stream is kept to about max bytes; the child still runs to its
 * end (it is not blocked on a full pipe). */
static void test_run_output_bounded(void **state)
{
	const char *argv[] = {"sh", "-c",
			      "head -c 200000 /dev/zero | tr '\\000' a; "
			      "head -c 200000 /dev/zero | tr '\\000' b >&2; "
			      "exit 4",
			      NULL};
	struct ipam_proc_result r;

	(void)state;
	assert_int_equal(run(&r, 20, 1000, NULL, argv), 0);
	assert_int_equal(r.status, 4);
	assert_true(r.out.len >= 1000);
	assert_true(r.out.len < 1000 + 4096);
	assert_true(r.err.len >= 1000);
	assert_true(r.err.len < 1000 + 4096);
	assert_int_equal(r.out.buf[0], 'a');
	assert_int_equal(r.err.buf[0], 'b');
	ipam_proc_result_release(&r);
}

static void test_run_timeout_kills(void **state)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct ipam_proc_result r;
	int64_t t0 = ipam_proc_now_ms();

	(void)state;
	assert_int_equal(run(&r, 1, 0, NULL, argv), IPAM_ETIMEOUT);
	assert_true(ipam_proc_now_ms() - t0 < 10000);
	assert_int_equal(r.status, -1);
	assert_non_null(strstr(ipam_error_last(), "sleep did not finish"));
	ipam_proc_result_release(&r);
	ipam_error_clear();
}

static void test_run_missing_program(void **state)
{
	const char *argv[] = {"ipamctl-test-no-such-program", NULL};
	struct ipam_proc_result r;

	(void)state;
	assert_int_equal(run(&r, 10, 0, "install the frobnicator", argv),
			 IPAM_EIO);
	assert_int_equal(r.status, 127);
	assert_non_null(strstr(ipam_error_last(),
			       "ipamctl-test-no-such-program: not found "
			       "(install the frobnicator)"));
	ipam_proc_result_release(&r);
	assert_int_equal(run(&r, 10, 0, NULL, argv), IPAM_EIO);
	assert_non_null(strstr(ipam_error_last(), "not found"));
	assert_null(strstr(ipam_error_last(), "("));
	ipam_proc_result_release(&r);
	ipam_error_clear();
}

/* Standard input is /dev/null (a child never waits on the terminal) and
 * descriptors above 2 are not inherited. */
static void test_run_stdin_and_descriptors(void **state)
{
	const char *argv[] = {"readlink", "/proc/self/fd/0", NULL};
	const char *argv2[] = {"sh", "-c", "test -e /proc/self/fd/57", NULL};
	struct ipam_proc_result r;
	int fd;

	(void)state;
	assert_int_equal(run(&r, 10, 0, NULL, argv), 0);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out.buf, "/dev/null\n");
	ipam_proc_result_release(&r);

	fd = dup2(1, 57); /* no FD_CLOEXEC */
	assert_int_equal(fd, 57);
	assert_int_equal(run(&r, 10, 0, NULL, argv2), 0);
	assert_int_equal(r.status, 1);
	ipam_proc_result_release(&r);
	close(fd);
}

/* A descriptor handed over arrives as 3 and is readable by name; others
 * above 2 stay closed. */
static void test_run_pass_fd(void **state)
{
	const char *argv[] = {"sh", "-c",
			      "cat /dev/fd/3; ls /proc/self/fd | sort -n | "
			      "tr '\\n' ' '",
			      NULL};
	struct ipam_proc_opts o = {.timeout = 10};
	struct ipam_proc_result r;
	int p[2], high;

	(void)state;
	assert_int_equal(pipe(p), 0);
	high = fcntl(p[0], F_DUPFD_CLOEXEC, 20);
	assert_true(high >= 20);
	assert_int_equal(write(p[1], "secret\n", 7), 7);
	close(p[1]);
	o.pass_fd = high;
	assert_int_equal(ipam_proc_run(&r, argv, &o), 0);
	assert_int_equal(r.status, 0);
	/* 0-2, 3, and the one ls itself opens on /proc/self/fd */
	assert_string_equal(r.out.buf, "secret\n0 1 2 3 4 ");
	ipam_proc_result_release(&r);
	close(high);
	close(p[0]);
}

static void write_hello(int fd, void *ctx)
{
	const char *s = ctx;

	if (write(fd, s, strlen(s)) < 0)
		_exit(2);
	_exit(5);
}

static void write_lots(int fd, void *ctx)
{
	char buf[4096];

	(void)ctx;
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) < 0)
			_exit(2);
	_exit(0);
}

static void hang(int fd, void *ctx)
{
	(void)fd;
	(void)ctx;
	sleep(30);
	_exit(0);
}

static void test_call_collects_output(void **state)
{
	struct strbuf out = STRBUF_INIT;
	int status = 0;

	(void)state;
	assert_int_equal(ipam_proc_call(&out, 1024, write_hello, "hello",
					ipam_proc_now_ms() + 10000, &status),
			 0);
	assert_string_equal(out.buf, "hello");
	assert_int_equal(status, 5);
	strbuf_release(&out);

	assert_int_equal(ipam_proc_call(&out, 100, write_lots, NULL,
					ipam_proc_now_ms() + 10000, NULL),
			 0);
	assert_true(out.len >= 100);
	assert_true(out.len < 100 + 4096);
	strbuf_release(&out);
}

static void test_call_deadline_kills(void **state)
{
	struct strbuf out = STRBUF_INIT;
	int64_t t0 = ipam_proc_now_ms();
	int status = 0;

	(void)state;
	assert_int_equal(
		ipam_proc_call(&out, 1024, hang, NULL, t0 + 300, &status),
		IPAM_ETIMEOUT);
	assert_true(ipam_proc_now_ms() - t0 < 10000);
	assert_int_equal(status, -1);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

static void test_identity_of_self(void **state)
{
	char a[64], b[64];
	long long t = ipam_proc_start_ticks(getpid());

	(void)state;
	assert_true(t > 0);
	assert_int_equal(ipam_proc_start_ticks(getpid()), t);
	assert_int_equal(ipam_proc_exists(getpid()), 1);
	assert_int_equal(ipam_proc_exists(0), 0);
	assert_int_equal(ipam_proc_exists(-1), 0);
	assert_int_equal(ipam_proc_exists(1LL << 40), 0);
	assert_int_equal(ipam_proc_start_ticks(-1), -1);

	ipam_proc_boot_id(a);
	ipam_proc_boot_id(b);
	assert_int_equal(strlen(a), 36); /* a UUID */
	assert_int_equal(a[8], '-');
	assert_string_equal(a, b);
}

/* A zombie still exists (its pid is not free yet); once reaped it is
 * gone and its start time cannot be told. */
static void test_identity_of_reaped_child(void **state)
{
	long long self = ipam_proc_start_ticks(getpid());
	long long t;
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	/* wait until it is a zombie, without reaping it */
	for (int i = 0; i < 500; i++) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0 &&
		    si.si_pid == pid)
			break;
		usleep(10000);
	}
	t = ipam_proc_start_ticks(pid);
	assert_true(t >= self);
	assert_int_equal(ipam_proc_exists(pid), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(ipam_proc_exists(pid), 0);
	assert_int_equal(ipam_proc_start_ticks(pid), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_status_and_output),
		cmocka_unit_test(test_run_killed_by_signal),
		cmocka_unit_test(test_run_child_umask),
		cmocka_unit_test(test_run_output_bounded),
		cmocka_unit_test(test_run_timeout_kills),
		cmocka_unit_test(test_run_missing_program),
		cmocka_unit_test(test_run_stdin_and_descriptors),
		cmocka_unit_test(test_run_pass_fd),
		cmocka_unit_test(test_call_collects_output),
		cmocka_unit_test(test_call_deadline_kills),
		cmocka_unit_test(test_identity_of_self),
		cmocka_unit_test(test_identity_of_reaped_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
