/* The access probes' plumbing, on loopback only: the TCP check of a
 * listening and of a closed port, a tool that is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "probe.h"
#include "testutil.h"

/* A socket listening on 127.0.0.1, its port in *port. */
static int listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_tcp(void **state)
{
	struct strbuf addr = STRBUF_INIT, reason = STRBUF_INIT;
	char want[64];
	int port, fd = listener(&port);

	(void)state;
	assert_int_equal(ipam_probe_tcp(&addr, &reason, "127.0.0.1", port, 2),
			 1);
	assert_string_equal(addr.buf, "127.0.0.1");
	assert_string_equal(reason.buf, "");
	close(fd); /* nothing listens there now */
	assert_int_equal(ipam_probe_tcp(&addr, &reason, "127.0.0.1", port, 2),
			 0);
	snprintf(want, sizeof(want), "unreachable (connection refused on %d)",
		 port);
	assert_string_equal(reason.buf, want);
	strbuf_release(&addr);
	strbuf_release(&reason);
}

/* With only env on PATH, a Samba tool is not installed: Not checked,
 * saying which tool and what to install. */
static void test_tool_missing(void **state)
{
	char *dir = tmpdir_make(), *link = xasprintf("%s/env", dir);
	char *old = xstrdup(getenv("PATH"));
	struct ipam_probe_identity id = {
		.conf = "/nonexistent/smb.conf",
		.ccache = "FILE:/nonexistent/ccache",
		.ccache_path = "/nonexistent/ccache",
		.principal = "IPAM1$@CORP.EXAMPLE.TEST",
		.account = "IPAM1$",
		.timeout = 5,
	};
	struct ipam_access_result r = {0};

	(void)state;
	assert_int_equal(symlink("/usr/bin/env", link), 0);
	setenv("PATH", dir, 1);
	ipam_probe_eventlog(&r, &id, "dc1.corp.example.test");
	setenv("PATH", old, 1);
	assert_int_equal(r.status, IPAM_ACCESS_NOT_CHECKED);
	assert_non_null(strstr(r.reason, "not checked: rpcclient is not "
					 "installed (install Samba's client "
					 "tools"));
	free(r.reason);
	free(old);
	free(link);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_tool_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
