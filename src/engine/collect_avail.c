/*
 * The availability task: is the DHCP service of each managed DHCP server
 * and the DNS service of each managed DNS server up?
 *
 * DHCP: a DHCPINFORM to the server's IPv4 address (from UDP port 68: root
 * or CAP_NET_BIND_SERVICE), all servers at once.  A DHCPACK or a DHCPNAK
 * is the service answering: up.  Silence after the retries: down.
 *
 * DNS: the SOA of the server's domain asked of the server itself (RD=0,
 * no resolver between).  Any answer is the service answering: up, even
 * with an error rcode (REFUSED, SERVFAIL: the rcode is the reason then),
 * as the product counts the service responding; no answer (timeout,
 * refused connection, unreachable): down.  Servers are asked
 * concurrently, identity.concurrency at a time.
 *
 * A server's state is stored with since when it holds (kept while it
 * does not change) and each change as history.  A server whose service
 * was measured, up or down, is a success of the task: down is what the
 * task found, not a failure to collect.  A failure is a server that could
 * not be asked at all (no address, the probe socket refused).
 */
#include "collect.h"
#include "collect_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_monitor.h"
#include "dhcp.h"
#include "dns_query.h"
#include "error.h"
#include "proc.h"
#include "strbuf.h"
#include "banned.h"

#define DHCP_TIMEOUT_MS 1000
#define DHCP_TRIES	3
#define DNS_TIMEOUT_MS	3000

/* One service of one server, as measured. */
struct check {
	const struct ipam_collect_target *t;
	const char *service; /* "dhcp" or "dns" */
	bool asked;	     /* measured: up is meaningful */
	bool up;
	int rtt_ms;
	char reason[200];
};

static bool is_ipv4(const char *a)
{
	return a && strchr(a, '.') && !strchr(a, ':');
}

static void check_dhcp(struct check *c, size_t nr)
{
	struct ipam_dhcp_probe *p = xcalloc(nr ? nr : 1, sizeof(*p));
	size_t *which = xcalloc(nr ? nr : 1, sizeof(*which)), n = 0;

	for (size_t i = 0; i < nr; i++) {
		if (!is_ipv4(c[i].t->addr)) {
			snprintf(c[i].reason, sizeof(c[i].reason),
				 "no IPv4 address in the inventory to send a "
				 "DHCPINFORM to");
			continue;
		}
		p[n].server_ip = c[i].t->addr;
		which[n++] = i;
	}
	if (n && ipam_dhcp_inform(p, n, 68, 67, DHCP_TIMEOUT_MS, DHCP_TRIES)) {
		for (size_t k = 0; k < n; k++)
			snprintf(c[which[k]].reason, sizeof(c[which[k]].reason),
				 "cannot send a DHCPINFORM: %s",
				 ipam_error_last());
		n = 0;
	}
	for (size_t k = 0; k < n; k++) {
		struct check *x = &c[which[k]];

		x->asked = true;
		x->rtt_ms = -1;
		if (p[k].answered) {
			x->up = true;
			x->rtt_ms = p[k].rtt_ms;
		} else if (!strncmp(p[k].error, "answered DHCPNAK", 16)) {
			x->up = true; /* it answered: the service is there */
			snprintf(x->reason, sizeof(x->reason), "%s",
				 p[k].error);
		} else {
			snprintf(x->reason, sizeof(x->reason),
				 "no answer to a DHCPINFORM (%d tr%s): %s",
				 p[k].tries, p[k].tries == 1 ? "y" : "ies",
				 p[k].error[0] ? p[k].error : "silent");
		}
	}
	free(which);
	free(p);
}

static void check_dns_one(struct check *c)
{
	struct ipam_dns_query q = {
		.server = c->t->addr,
		.name = c->t->domain,
		.type = 6, /* SOA */
		.timeout_ms = DNS_TIMEOUT_MS,
	};
	char rb[16];

	c->rtt_ms = -1;
	if (!c->t->addr || !c->t->domain) {
		snprintf(c->reason, sizeof(c->reason), "%s",
			 !c->t->addr ? "no address in the inventory to ask"
				     : "no domain to ask the SOA of");
		return;
	}
	if (ipam_dns_query_ask(&q)) {
		snprintf(c->reason, sizeof(c->reason), "%s", ipam_error_last());
		return;
	}
	c->asked = true;
	c->up = q.answered;
	if (q.answered) {
		c->rtt_ms = q.rtt_ms;
		if (q.rcode)
			snprintf(c->reason, sizeof(c->reason),
				 "answered the SOA query of %s with %s",
				 c->t->domain,
				 ipam_dns_query_rcode_name(q.rcode, rb));
	} else {
		snprintf(c->reason, sizeof(c->reason),
			 "no answer to the SOA query of %s: %s", c->t->domain,
			 q.error);
	}
	ipam_dns_query_release(&q);
}

static void check_dns_item(void *item)
{
	check_dns_one(item);
}

/* Store the checks and tell the result, one entry a server. */
static int settle(struct ipam_collect_result *out,
		  const struct ipam_collect_ctx *ctx, struct check *c,
		  size_t nr, const struct ipam_collect_target *t, size_t nt)
{
	char at[32];
	int err = 0;

	ipam_collect_pool_time(at, sizeof(at), ctx->o->now);
	for (size_t s = 0; s < nt; s++) {
		struct strbuf sum = STRBUF_INIT;
		bool ok = true;

		for (size_t i = 0; i < nr; i++) {
			if (c[i].t != &t[s])
				continue;
			if (sum.len)
				strbuf_addstr(&sum, "; ");
			if (!c[i].asked) {
				ok = false;
				strbuf_addf(&sum, "%s not checked: %s",
					    c[i].service, c[i].reason);
				continue;
			}
			strbuf_addf(&sum, "%s %s%s%s", c[i].service,
				    c[i].up ? "up" : "down",
				    c[i].reason[0] ? ": " : "", c[i].reason);
			ipam_collect_count(out, c[i].up ? "up" : "down", 1);
			if (!err)
				err = ipam_db_monitor_avail_store(
					ctx->db, ctx->o->run_id, t[s].name,
					c[i].service, c[i].up, c[i].rtt_ms,
					c[i].reason[0] ? c[i].reason : NULL, at,
					NULL);
		}
		ipam_collect_server_add(out, t[s].name, ok, "%s", sum.buf);
		strbuf_release(&sum);
	}
	return err;
}

int ipam_collect_availability(struct ipam_collect_result *out,
			      const struct ipam_collect_ctx *ctx)
{
	struct ipam_collect_target *t = NULL;
	struct check *dhcp = NULL, *dns = NULL, *all = NULL;
	size_t nt = 0, nd = 0, nn = 0;
	int64_t t0 = ipam_proc_now_ms();
	int err, conc = ctx->d && ctx->d->identity.concurrency
				? ctx->d->identity.concurrency
				: IPAM_IDENTITY_CONCURRENCY;

	out->task = IPAM_TASK_AVAILABILITY;
	ipam_collect_count(out, "up", 0);
	ipam_collect_count(out, "down", 0);
	err = ipam_collect_targets(&t, &nt, ctx,
				   IPAM_ROLE_DHCP | IPAM_ROLE_DNS);
	if (err)
		return err;
	dhcp = xcalloc(nt ? nt : 1, sizeof(*dhcp));
	dns = xcalloc(nt ? nt : 1, sizeof(*dns));
	for (size_t i = 0; i < nt; i++) {
		if (t[i].roles & IPAM_ROLE_DHCP)
			dhcp[nd++] =
				(struct check){.t = &t[i], .service = "dhcp"};
		if (t[i].roles & IPAM_ROLE_DNS)
			dns[nn++] =
				(struct check){.t = &t[i], .service = "dns"};
	}
	check_dhcp(dhcp, nd);
	ipam_collect_pool_run(dns, sizeof(*dns), nn, conc, check_dns_item);
	all = xcalloc(nd + nn + 1, sizeof(*all));
	memcpy(all, dhcp, nd * sizeof(*all));
	memcpy(all + nd, dns, nn * sizeof(*all));
	err = settle(out, ctx, all, nd + nn, t, nt);
	out->ms = ipam_proc_now_ms() - t0;
	free(all);
	free(dns);
	free(dhcp);
	ipam_collect_targets_free(t, nt);
	return err;
}
