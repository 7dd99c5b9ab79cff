/*
 * DHCPINFORM probes of domains on several threads: they share the client
 * port in batches.  On loopback, unprivileged ports: a bound socket on
 * 127.0.0.2 stays silent, so every probe runs to its timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "dhcpbatch.h"
#include "error.h"

#define THREADS	   6
#define TIMEOUT_MS 400

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A UDP socket on addr:port (0: any free port, returned in *port). */
static int udp_bound(const char *addr, int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_port = htons((uint16_t)*port);
	assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("bind %s:%d: %s", addr, *port, strerror(errno));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

struct domain {
	pthread_t thread;
	int client, server;
	struct ipam_dhcp_probe probes[2];
	int rc;
	char error[256];
};

static void *probe_main(void *arg)
{
	struct domain *d = arg;

	d->rc = ipam_dhcpbatch_inform(d->probes, 2, d->client, d->server,
				      TIMEOUT_MS, 1);
	if (d->rc)
		snprintf(d->error, sizeof(d->error), "%s", ipam_error_last());
	return NULL;
}

/* THREADS domains probing at once; the wall time in seconds. */
static double run_domains(struct domain *d, int client, int server)
{
	double t0 = now_s();

	for (int i = 0; i < THREADS; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].client = client;
		d[i].server = server;
		d[i].probes[0].server_ip = "127.0.0.2";
		d[i].probes[1].server_ip = "127.0.0.2";
		assert_int_equal(
			pthread_create(&d[i].thread, NULL, probe_main, &d[i]),
			0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(d[i].thread, NULL);
	return now_s() - t0;
}

static void test_batched(void **state)
{
	struct domain d[THREADS];
	int server = 0, client = 0, fd = udp_bound("127.0.0.2", &server);
	int cfd = udp_bound("0.0.0.0", &client);
	double t;

	(void)state;
	close(cfd); /* a free port for the client */
	t = run_domains(d, client, server);
	close(fd);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(d[i].rc, 0);
		for (int k = 0; k < 2; k++) {
			assert_false(d[i].probes[k].answered);
			assert_int_equal(d[i].probes[k].tries, 1);
			assert_true(d[i].probes[k].error[0]);
		}
	}
	/* One probe after another would take THREADS timeouts; batches
	 * take at most two (the one in flight, then everyone else). */
	if (t > 2.0 * TIMEOUT_MS / 1000 + 0.6)
		fail_msg("%d domains took %.2f s: not batched", THREADS, t);
}

static void test_port_taken(void **state)
{
	struct domain d[THREADS];
	int server = 0, client = 0, fd = udp_bound("127.0.0.2", &server);
	int cfd = udp_bound("0.0.0.0", &client); /* held, no SO_REUSEADDR */

	(void)state;
	run_domains(d, client, server);
	close(cfd);
	close(fd);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(d[i].rc, IPAM_EIO);
		if (!strstr(d[i].error, "bind UDP port"))
			fail_msg("domain %d: %s", i, d[i].error);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batched),
		cmocka_unit_test(test_port_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
