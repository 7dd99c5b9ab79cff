#include "smb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "proc.h"
#include "banned.h"

/*
 * The DHCP audit share probe.  The first bytes of a log prove read
 * access as well as the whole file would, and a busy server's log is
 * large: at most this much is read.
 */
#define PROBE_READ_MAX (64 * 1024)
#define PROBE_OUT_MAX  2048

struct share_probe {
	const char *server, *share, *ccache, *principal;
	int timeout;
};

static int is_audit_log(const struct ipam_smb_dirent *e)
{
	size_t n = strlen(e->name);

	return !e->is_dir && !strncasecmp(e->name, "DhcpSrvLog-", 11) &&
	       n > 15 && !strcasecmp(e->name + n - 4, ".log");
}

static void write_all(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);

		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* In the child: "ok <what>" or "error: <what>" on fd. */
static void share_child(int fd, void *ctx)
{
	const struct share_probe *p = ctx;
	struct ipam_smb_opts o = {
		.server = p->server,
		.auth = IPAM_AUTH_KERBEROS,
		.principal = p->principal,
		.ccache = p->ccache,
		.timeout = p->timeout,
	};
	struct ipam_smb *s = NULL;
	struct ipam_smb_dirent *d = NULL;
	struct strbuf out = STRBUF_INIT, path = STRBUF_INIT, data = STRBUF_INIT;
	size_t nr = 0, i;
	int rc;

	rc = ipam_smb_connect(&s, &o);
	if (!rc)
		rc = ipam_smb_list(&d, &nr, s, p->share);
	if (rc) {
		strbuf_addf(&out, "error: %s", ipam_error_last());
		goto out;
	}
	for (i = 0; i < nr && !is_audit_log(&d[i]); i++)
		;
	if (i == nr) {
		strbuf_addf(&out,
			    "error: no DhcpSrvLog-*.log in \\\\%s\\%s "
			    "to read (%zu entries listed)",
			    p->server, p->share, nr);
		goto out;
	}
	strbuf_addf(&path, "%s/%s", p->share, d[i].name);
	rc = ipam_smb_read(&data, s, path.buf, PROBE_READ_MAX);
	if (rc && rc != IPAM_ELIMIT)
		strbuf_addf(&out, "error: %s", ipam_error_last());
	else
		strbuf_addf(&out, "ok listed \\\\%s\\%s, read %s", p->server,
			    p->share, d[i].name);
out:
	write_all(fd, out.buf);
	ipam_smb_dirents_free(d, nr);
	ipam_smb_close(s);
	_exit(0);
}

int ipam_smb_probe_share(int *ok, struct strbuf *what, const char *server,
			 const char *share, const char *ccache,
			 const char *principal, int timeout)
{
	struct share_probe p = {server, share, ccache, principal, timeout};
	struct strbuf out = STRBUF_INIT;
	int64_t deadline = ipam_proc_now_ms() + (int64_t)timeout * 1000;
	int rc, status;

	*ok = 0;
	strbuf_reset(what);
	rc = ipam_proc_call(&out, PROBE_OUT_MAX, share_child, &p, deadline,
			    &status);
	if (rc == IPAM_ETIMEOUT) {
		strbuf_addf(what, "timed out after %d s", timeout);
		rc = 0;
	} else if (!rc && !strncmp(out.buf, "ok ", 3)) {
		*ok = 1;
		strbuf_addstr(what, out.buf + 3);
	} else if (!rc && !strncmp(out.buf, "error: ", 7)) {
		strbuf_addstr(what, out.buf + 7);
	} else if (!rc) {
		strbuf_addf(what, "the probe ended with status %d", status);
	}
	strbuf_release(&out);
	return rc;
}
