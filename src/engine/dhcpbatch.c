#include "dhcpbatch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/* One domain's probes, waiting on its discovery's thread. */
struct request {
	struct ipam_dhcp_probe *probes;
	size_t n;
	int err;
	char *message; /* the batch's error, when err */
	bool done;
	struct request *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool busy;	      /* a batch holds the port */
static struct request *queue; /* asked since, in order */
static struct request **tail = &queue;

/* Run the requests of b as one ipam_dhcp_inform, without the lock. */
static void run_batch(struct request *b, int client_port, int server_port,
		      int timeout_ms, int tries)
{
	struct ipam_dhcp_probe *all;
	struct request *q;
	size_t total = 0, k = 0;
	int err;

	for (q = b; q; q = q->next)
		total += q->n;
	all = xcalloc(total + 1, sizeof(*all));
	for (q = b; q; q = q->next) {
		memcpy(all + k, q->probes, q->n * sizeof(*all));
		k += q->n;
	}
	err = ipam_dhcp_inform(all, total, client_port, server_port, timeout_ms,
			       tries);
	for (k = 0, q = b; q; q = q->next) {
		memcpy(q->probes, all + k, q->n * sizeof(*all));
		k += q->n;
		q->err = err;
		q->message = err ? xstrdup(ipam_error_last()) : NULL;
	}
	free(all);
}

int ipam_dhcpbatch_inform(struct ipam_dhcp_probe *probes, size_t n,
			  int client_port, int server_port, int timeout_ms,
			  int tries)
{
	struct request me = {probes, n, 0, NULL, false, NULL};
	int rc;

	pthread_mutex_lock(&mu);
	*tail = &me;
	tail = &me.next;
	while (!me.done) {
		struct request *b, *q;

		if (busy) {
			pthread_cond_wait(&cv, &mu);
			continue;
		}
		/* Lead a batch of everything asked so far, this one too. */
		b = queue;
		queue = NULL;
		tail = &queue;
		busy = true;
		pthread_mutex_unlock(&mu);
		run_batch(b, client_port, server_port, timeout_ms, tries);
		pthread_mutex_lock(&mu);
		for (q = b; q; q = q->next)
			q->done = true;
		busy = false;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	rc = me.err;
	if (rc)
		ipam_error_set(rc, "%s", me.message);
	free(me.message);
	return rc;
}
