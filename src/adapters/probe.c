#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "error.h"
#include "probemap.h"
#include "proc.h"
#include "smb.h"
#include "banned.h"

#define MAX_TOOL_OUTPUT (64 * 1024)
#define SAMBA_HINT	"install Samba's client tools (smbclient, samba-common-bin)"

const char *ipam_probe_dhcpm_script(void)
{
	const char *env = getenv("IPAMCTL_PROBE_DHCPM");
	struct stat st;

	if (env && env[0] == '/')
		return env;
	if (!stat(IPAM_PROBE_DHCPM_INSTALLED, &st))
		return IPAM_PROBE_DHCPM_INSTALLED;
	return IPAM_PROBE_DHCPM_SOURCE;
}

static int kinit(struct ipam_probe_identity *id, const char *keytab)
{
	struct ipam_proc_result r;
	struct ipam_proc_opts o = {
		.timeout = id->timeout,
		.missing_hint = "install krb5-user",
	};
	const char *argv[] = {"kinit", "-k",	   "-t",	  keytab,
			      "-c",    id->ccache, id->principal, NULL};
	int rc = ipam_proc_run(&r, argv, &o);

	if (!rc && r.status != 0) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_add(&msg, r.err.buf, r.err.len);
		strbuf_rtrim_newline(&msg);
		rc = ipam_error_set(IPAM_EAUTH,
				    "no ticket for the identity '%s' "
				    "from keytab '%s': %s",
				    id->principal, keytab,
				    msg.len ? msg.buf : "kinit failed");
		strbuf_release(&msg);
	} else if (rc) {
		rc = ipam_error_prefix(rc,
				       "kinit for the identity "
				       "'%s'",
				       id->principal);
	}
	ipam_proc_result_release(&r);
	return rc;
}

int ipam_probe_identity_open(struct ipam_probe_identity **out,
			     const struct ipam_probe_opts *o)
{
	struct ipam_probe_identity *id = xcalloc(1, sizeof(*id));
	struct strbuf acc = STRBUF_INIT;
	int rc;

	*out = NULL;
	id->timeout = o->timeout > 0 ? o->timeout : 10;
	id->principal = xstrdup(o->principal);
	ipam_probemap_account(&acc, o->principal);
	id->account = strbuf_detach(&acc, NULL);
	rc = ipam_smb_private_dir_new(&id->dir, &id->conf);
	if (rc)
		goto fail;
	if (o->ccache) {
		const char *p = o->ccache;

		if (!strncmp(p, "FILE:", 5))
			p += 5;
		id->ccache = xasprintf("FILE:%s", p);
		id->ccache_path = xstrdup(p);
	} else {
		id->ccache = xasprintf("FILE:%s/ccache", id->dir);
		id->ccache_path = xasprintf("%s/ccache", id->dir);
		rc = kinit(id, o->keytab);
		if (rc)
			goto fail;
	}
	*out = id;
	return 0;
fail:
	ipam_probe_identity_close(id);
	return rc;
}

void ipam_probe_identity_close(struct ipam_probe_identity *id)
{
	if (!id)
		return;
	ipam_smb_private_dir_free(id->dir);
	free(id->conf);
	free(id->ccache);
	free(id->ccache_path);
	free(id->principal);
	free(id->account);
	free(id);
}

/* One non-blocking connect, waited for until deadline: 0 or an errno. */
static int try_connect(const struct addrinfo *ai, int64_t deadline)
{
	int fd, e = 0;
	socklen_t len = sizeof(e);

	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	e = errno;
	if (e != EINPROGRESS)
		goto out;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int64_t left = deadline - ipam_proc_now_ms();
		int n;

		if (left <= 0) {
			e = ETIMEDOUT;
			break;
		}
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : ETIMEDOUT;
			break;
		}
		e = 0;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		break;
	}
out:
	close(fd);
	return e;
}

int ipam_probe_tcp(struct strbuf *addr, struct strbuf *reason, const char *host,
		   int port, int timeout)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int64_t deadline = ipam_proc_now_ms() + (int64_t)timeout * 1000;
	char text[INET6_ADDRSTRLEN] = "";
	int e = 0, g;

	strbuf_reset(addr);
	strbuf_reset(reason);
	g = getaddrinfo(host, NULL, &hints, &res);
	if (g) {
		strbuf_addf(reason, "unreachable (cannot resolve '%s': %s)",
			    host, gai_strerror(g));
		return 0;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		void *a = ai->ai_family == AF_INET6
				  ? (void *)&((struct sockaddr_in6 *)(void *)
						      ai->ai_addr)
					    ->sin6_addr
				  : (void *)&((struct sockaddr_in *)(void *)
						      ai->ai_addr)
					    ->sin_addr;

		if (ai->ai_family == AF_INET6)
			((struct sockaddr_in6 *)(void *)ai->ai_addr)
				->sin6_port = htons((uint16_t)port);
		else
			((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port =
				htons((uint16_t)port);
		inet_ntop(ai->ai_family, a, text, sizeof(text));
		e = try_connect(ai, deadline);
		if (!e)
			break;
	}
	freeaddrinfo(res);
	strbuf_addstr(addr, text);
	if (!e)
		return 1;
	ipam_probemap_connect(reason, e, text, port, timeout);
	return 0;
}

/* Run a tool with KRB5CCNAME set to the identity's cache, map its answer. */
static void run_tool(struct ipam_access_result *r,
		     const struct ipam_probe_identity *id,
		     enum ipam_probemap_tool tool, const char *const argv[],
		     const char *hint)
{
	struct ipam_proc_result pr;
	struct ipam_proc_opts o = {
		.timeout = id->timeout,
		.max_output = MAX_TOOL_OUTPUT,
		.missing_hint = hint,
	};
	struct strbuf text = STRBUF_INIT;
	int rc = ipam_proc_run(&pr, argv, &o);

	if (rc == IPAM_ETIMEOUT) {
		free(r->reason);
		r->status = IPAM_ACCESS_BLOCKED;
		r->reason = xasprintf("timed out after %d s", id->timeout);
	} else if (rc && pr.status == 127) {
		/* argv[0] is env: name the tool it did not find */
		free(r->reason);
		r->status = IPAM_ACCESS_NOT_CHECKED;
		r->reason = xasprintf("not checked: %s is not installed (%s)",
				      argv[2], hint);
		ipam_error_clear();
	} else if (rc) {
		free(r->reason);
		r->status = IPAM_ACCESS_NOT_CHECKED;
		r->reason = xasprintf("not checked: %s", ipam_error_last());
	} else {
		strbuf_add(&text, pr.out.buf, pr.out.len);
		strbuf_add(&text, pr.err.buf, pr.err.len);
		ipam_probemap_result(r, tool, pr.status, text.buf, id->account);
	}
	strbuf_release(&text);
	ipam_proc_result_release(&pr);
}

/*
 * A Samba client tool as the identity: env KRB5CCNAME=<cache> TOOL
 * ARGS... --use-krb5-ccache=<cache> --configfile=<private smb.conf>.  The
 * tools of 4.17 take the cache from the variable for SMB (the option alone
 * is not enough for rpcclient), the option for the DCE/RPC binding.
 */
static void run_samba_tool(struct ipam_access_result *r,
			   const struct ipam_probe_identity *id,
			   enum ipam_probemap_tool tool,
			   const char *const args[])
{
	struct strbuf env = STRBUF_INIT, cc = STRBUF_INIT, conf = STRBUF_INIT;
	const char *argv[16];
	size_t n = 0;

	strbuf_addf(&env, "KRB5CCNAME=%s", id->ccache);
	strbuf_addf(&cc, "--use-krb5-ccache=%s", id->ccache);
	strbuf_addf(&conf, "--configfile=%s", id->conf);
	argv[n++] = "env";
	argv[n++] = env.buf;
	for (; *args && n < 13; args++)
		argv[n++] = *args;
	argv[n++] = cc.buf;
	argv[n++] = conf.buf;
	argv[n] = NULL;
	run_tool(r, id, tool, argv, SAMBA_HINT);
	strbuf_release(&env);
	strbuf_release(&cc);
	strbuf_release(&conf);
}

void ipam_probe_dns(struct ipam_access_result *r,
		    const struct ipam_probe_identity *id, const char *host)
{
	const char *args[] = {"samba-tool", "dns", "serverinfo", host, NULL};

	run_samba_tool(r, id, IPAM_PROBEMAP_DNS, args);
}

void ipam_probe_eventlog(struct ipam_access_result *r,
			 const struct ipam_probe_identity *id, const char *host)
{
	struct strbuf target = STRBUF_INIT;
	const char *args[] = {"rpcclient",
			      NULL, /* ncacn_np:host */
			      "--use-kerberos=required",
			      "-N",
			      "-c",
			      "eventlog_numrecord System",
			      NULL};

	strbuf_addf(&target, "ncacn_np:%s", host);
	args[1] = target.buf;
	run_samba_tool(r, id, IPAM_PROBEMAP_EVENTLOG, args);
	strbuf_release(&target);
}

/*
 * The service ticket for cifs/host, into the identity's cache: impacket
 * 0.10's own TGS-REQ gets KRB_AP_ERR_INAPP_CKSUM from a Samba 4.17 KDC,
 * and it uses a ticket it finds in the cache.  Best effort: when it
 * fails, the probe says why.
 */
static void fetch_service_ticket(const struct ipam_probe_identity *id,
				 const char *host)
{
	struct strbuf env = STRBUF_INIT, spn = STRBUF_INIT;
	struct ipam_proc_opts o = {.timeout = id->timeout};
	struct ipam_proc_result r;
	const char *argv[5];

	strbuf_addf(&env, "KRB5CCNAME=%s", id->ccache);
	strbuf_addf(&spn, "cifs/%s", host);
	argv[0] = "env";
	argv[1] = env.buf;
	argv[2] = "kvno";
	argv[3] = spn.buf;
	argv[4] = NULL;
	if (ipam_proc_run(&r, argv, &o))
		ipam_error_clear();
	ipam_proc_result_release(&r);
	strbuf_release(&env);
	strbuf_release(&spn);
}

void ipam_probe_dhcpm(struct ipam_access_result *r,
		      const struct ipam_probe_identity *id, const char *host)
{
	struct strbuf env = STRBUF_INIT;
	const char *argv[5];

	fetch_service_ticket(id, host);
	/* impacket wants the cache's path, without "FILE:" */
	strbuf_addf(&env, "KRB5CCNAME=%s", id->ccache_path);
	argv[0] = "env";
	argv[1] = env.buf;
	argv[2] = ipam_probe_dhcpm_script();
	argv[3] = host;
	argv[4] = NULL;
	run_tool(r, id, IPAM_PROBEMAP_DHCPM, argv,
		 "install python3-impacket and ipamctl's probe-dhcpm");
	strbuf_release(&env);
}

void ipam_probe_share(struct ipam_access_result *r,
		      const struct ipam_probe_identity *id, const char *host)
{
	struct strbuf what = STRBUF_INIT;
	int ok = 0, rc;

	rc = ipam_smb_probe_share(&ok, &what, host, "dhcpaudit", id->ccache,
				  id->principal, id->timeout);
	free(r->reason);
	r->reason = NULL;
	if (rc) {
		r->status = IPAM_ACCESS_NOT_CHECKED;
		r->reason = xasprintf("not checked: %s", ipam_error_last());
	} else if (ok) {
		r->status = IPAM_ACCESS_UNBLOCKED;
		r->reason = strbuf_detach(&what, NULL);
	} else if (!strncmp(what.buf, "timed out", 9)) {
		r->status = IPAM_ACCESS_BLOCKED;
		r->reason = strbuf_detach(&what, NULL);
	} else {
		ipam_probemap_result(r, IPAM_PROBEMAP_SHARE, 1, what.buf,
				     id->account);
	}
	strbuf_release(&what);
}
