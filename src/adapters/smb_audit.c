#define _GNU_SOURCE /* pipe2 */
#include "smb_audit.h"
#include "smb.h"
#include "smb_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libsmbclient.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dhcplog.h"
#include "error.h"
#include "probemap.h"
#include "proc.h"
#include "sigpipe.h"
#include "banned.h"

/*
 * The child speaks in frames on a pipe: a type byte, a length (4 bytes,
 * this machine's order: both ends are this program) and that many bytes.
 *   'H'  the head: the file's size (8 bytes) then its first bytes
 *   'D'  file data, at most IPAM_SMB_AUDIT_CHUNK bytes
 *   'E'  the end: everything was sent
 *   'X'  a failure: its message
 * The parent answers the head on a second pipe with the offset to read
 * from (8 bytes; negative: stop).  Listing is one answer of text lines,
 * "<size> <name>", collected by ipam_proc_call.
 */

#define LIST_OUT_MAX (1024 * 1024)
#define FRAME_HDR    5
/* The child reads this much at a time (libsmbclient pipelines the SMB2
 * reads of one call) and the pipe holds as much, so that the network
 * and the caller's work overlap; both bounds stay the same whatever the
 * file's size. */
#define READ_AHEAD (1024 * 1024)

struct audit_job {
	const struct ipam_probe_identity *id;
	const char *server, *share, *file;
	size_t head_max;
	int back; /* read end of the parent's answer (child) */
};

static int connect_as(struct ipam_smb **s, const struct audit_job *j)
{
	struct ipam_smb_opts o = {
		.server = j->server,
		.auth = IPAM_AUTH_KERBEROS,
		.principal = j->id->principal,
		.ccache = j->id->ccache,
		.timeout = j->id->timeout,
	};

	return ipam_smb_connect(s, &o);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int frame(int fd, char type, const void *a, size_t alen, const void *b,
		 size_t blen)
{
	unsigned char hdr[FRAME_HDR];
	uint32_t len = (uint32_t)(alen + blen);

	hdr[0] = (unsigned char)type;
	memcpy(hdr + 1, &len, 4);
	if (write_all(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	if (alen && write_all(fd, a, alen) < 0)
		return -1;
	return blen ? write_all(fd, b, blen) : 0;
}

/* --- listing ------------------------------------------------------------ */

static int printable_name(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void list_child(int fd, void *ctx)
{
	const struct audit_job *j = ctx;
	struct ipam_smb *s = NULL;
	struct ipam_smb_dirent *d = NULL;
	struct strbuf out = STRBUF_INIT, path = STRBUF_INIT;
	size_t nr = 0;
	int rc;

	rc = connect_as(&s, j);
	if (!rc)
		rc = ipam_smb_list(&d, &nr, s, j->share);
	for (size_t i = 0; !rc && i < nr; i++) {
		struct ipam_smb_stat st;

		if (d[i].is_dir || !ipam_dhcplog_family(d[i].name) ||
		    !printable_name(d[i].name))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", j->share, d[i].name);
		rc = ipam_smb_stat(&st, s, path.buf);
		if (rc == IPAM_ENOTFOUND) { /* removed since the listing */
			rc = 0;
			continue;
		}
		if (!rc)
			strbuf_addf(&out, "%llu %s\n",
				    (unsigned long long)st.size, d[i].name);
	}
	if (rc) {
		strbuf_reset(&out);
		strbuf_addf(&out, "error: %s", ipam_error_last());
	}
	write_all(fd, out.buf, out.len);
	ipam_smb_dirents_free(d, nr);
	ipam_smb_close(s);
	_exit(0);
}

/* The reason for a failure message: the probes' words, then the
 * message itself. */
static int fail_reason(struct strbuf *reason, int code,
		       const struct ipam_probe_identity *id, const char *msg)
{
	struct ipam_access_result r = {0};

	ipam_probemap_result(&r, IPAM_PROBEMAP_SHARE, 1, msg, id->account);
	strbuf_reset(reason);
	if (r.reason && strncmp(r.reason, "failed (", 8)) {
		/* the NT status is the message's own */
		char *st = strstr(r.reason, " (NT_STATUS_");

		strbuf_addf(reason, "%.*s: %s",
			    st ? (int)(st - r.reason) : (int)strlen(r.reason),
			    r.reason, msg);
	} else {
		strbuf_addstr(reason, msg);
	}
	free(r.reason);
	return ipam_error_set(code, "%s", reason->buf);
}

static int parse_list(struct ipam_smb_audit_file **out, size_t *nr,
		      const char *text)
{
	struct ipam_smb_audit_file *v = NULL;
	size_t n = 0, alloc = 0;

	while (*text) {
		const char *eol = strchr(text, '\n'), *sp;
		char *end;
		unsigned long long size;

		if (!eol)
			break;
		sp = memchr(text, ' ', (size_t)(eol - text));
		errno = 0;
		size = strtoull(text, &end, 10);
		if (sp && end == sp && !errno && size <= INT64_MAX) {
			ALLOC_GROW(v, n + 1, alloc);
			v[n].name = xstrndup(sp + 1, (size_t)(eol - sp - 1));
			v[n].family = ipam_dhcplog_family(v[n].name);
			v[n].size = (long long)size;
			n++;
		}
		text = eol + 1;
	}
	*out = v;
	*nr = n;
	return 0;
}

int ipam_smb_audit_list(struct ipam_smb_audit_file **out, size_t *nr,
			struct strbuf *reason,
			const struct ipam_probe_identity *id,
			const char *server, const char *share)
{
	struct audit_job j = {.id = id, .server = server, .share = share};
	struct strbuf text = STRBUF_INIT;
	int64_t deadline = ipam_proc_now_ms() + (int64_t)id->timeout * 1000;
	int rc, status;

	*out = NULL;
	*nr = 0;
	rc = ipam_proc_call(&text, LIST_OUT_MAX, list_child, &j, deadline,
			    &status);
	if (rc == IPAM_ETIMEOUT) {
		strbuf_reset(reason);
		strbuf_addf(reason, "timed out after %d s listing \\\\%s\\%s",
			    id->timeout, server, share);
		rc = ipam_error_set(IPAM_ETIMEOUT, "%s", reason->buf);
	} else if (rc) {
		strbuf_reset(reason);
		strbuf_addstr(reason, ipam_error_last());
	} else if (!strncmp(text.buf, "error: ", 7)) {
		rc = fail_reason(reason, IPAM_EIO, id, text.buf + 7);
	} else if (status) {
		strbuf_reset(reason);
		strbuf_addf(reason,
			    "listing \\\\%s\\%s ended with status %d (%s)",
			    server, share, status, text.buf);
		rc = ipam_error_set(IPAM_EIO, "%s", reason->buf);
	} else {
		rc = parse_list(out, nr, text.buf);
	}
	strbuf_release(&text);
	return rc;
}

void ipam_smb_audit_files_free(struct ipam_smb_audit_file *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
}

/* --- reading one file --------------------------------------------------- */

/* Read up to len bytes at the file's position; -1 with errno. */
static ssize_t smb_read_some(struct ipam_smb *s, SMBCFILE *f, char *buf,
			     size_t len)
{
	struct ipam_smb_guard g;
	ssize_t n;

	ipam_smb_guard_enter(&g, s);
	errno = 0;
	n = smbc_getFunctionRead(s->ctx)(s->ctx, f, buf, len);
	if (n < 0 && !errno)
		errno = EIO;
	ipam_smb_guard_leave(&g);
	return n;
}

static int smb_seek(struct ipam_smb *s, SMBCFILE *f, long long off)
{
	struct ipam_smb_guard g;
	off_t r;

	ipam_smb_guard_enter(&g, s);
	errno = 0;
	r = smbc_getFunctionLseek(s->ctx)(s->ctx, f, (off_t)off, SEEK_SET);
	if (r < 0 && !errno)
		errno = EIO;
	ipam_smb_guard_leave(&g);
	return r < 0 ? -1 : 0;
}

/* Read the head (up to len bytes from the start) into buf. */
static ssize_t read_head(struct ipam_smb *s, SMBCFILE *f, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = smb_read_some(s, f, buf + got, len - got);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Stream the file from the offset the parent sends; 0, errno, or -1
 * when the parent stopped listening. */
static int stream_file(int fd, const struct audit_job *j, struct ipam_smb *s,
		       SMBCFILE *f, long long size)
{
	static char buf[READ_AHEAD];
	long long off, left;
	ssize_t n;

	n = read_head(s, f, buf, j->head_max);
	if (n < 0)
		return errno;
	if (frame(fd, 'H', &size, sizeof(size), buf, (size_t)n) < 0 ||
	    read_all(j->back, &off, sizeof(off)) < 0 || off < 0 || off > size)
		return -1;
	if (smb_seek(s, f, off) < 0)
		return errno;
	for (left = size - off; left > 0; left -= n) {
		size_t want = left < (long long)sizeof(buf) ? (size_t)left
							    : sizeof(buf);

		n = smb_read_some(s, f, buf, want);
		if (n < 0)
			return errno;
		if (n == 0) /* shorter than when opened */
			break;
		for (ssize_t at = 0; at < n; at += IPAM_SMB_AUDIT_CHUNK) {
			size_t k = (size_t)(n - at) < IPAM_SMB_AUDIT_CHUNK
					   ? (size_t)(n - at)
					   : IPAM_SMB_AUDIT_CHUNK;

			if (frame(fd, 'D', buf + at, k, NULL, 0) < 0)
				return -1;
		}
	}
	return 0;
}

static void read_child(int fd, void *ctx)
{
	const struct audit_job *j = ctx;
	struct ipam_smb *s = NULL;
	struct ipam_smb_target t = {0};
	struct ipam_smb_guard g;
	struct strbuf path = STRBUF_INIT;
	SMBCFILE *f = NULL;
	struct stat st = {0};
	int rc, e = 0;

	strbuf_addf(&path, "%s/%s", j->share, j->file);
	rc = connect_as(&s, j);
	if (!rc)
		rc = ipam_smb_target_init(&t, s, path.buf);
	if (!rc) {
		ipam_smb_guard_enter(&g, s);
		errno = 0;
		f = smbc_getFunctionOpen(s->ctx)(s->ctx, t.url.buf, O_RDONLY,
						 0);
		if (!f || smbc_getFunctionFstat(s->ctx)(s->ctx, f, &st) < 0)
			e = errno ? errno : EIO;
		ipam_smb_guard_leave(&g);
		if (!e)
			e = stream_file(fd, j, s, f, (long long)st.st_size);
		if (e > 0)
			rc = ipam_smb_fail(0, "read", t.unc.buf, e);
	}
	if (rc)
		frame(fd, 'X', ipam_error_last(), strlen(ipam_error_last()),
		      NULL, 0);
	else if (!e)
		frame(fd, 'E', NULL, 0, NULL, 0);
	if (f) {
		ipam_smb_guard_enter(&g, s);
		smbc_getFunctionClose(s->ctx)(s->ctx, f);
		ipam_smb_guard_leave(&g);
	}
	if (s)
		ipam_smb_target_release(&t);
	ipam_smb_close(s);
	strbuf_release(&path);
	_exit(0);
}

struct reading {
	int fd;		/* frames from the child */
	int back;	/* answers to it */
	int timeout_ms; /* without a frame */
	const struct ipam_smb_audit_reader *r;
	unsigned char *buf; /* IPAM_SMB_AUDIT_CHUNK + 8 */
};

/* The next frame into rd->buf: 1 with its type and length, 0 at a closed
 * pipe, IPAM_ETIMEOUT. */
static int next_frame(struct reading *rd, char *type, size_t *len)
{
	unsigned char hdr[FRAME_HDR];
	struct pollfd p = {.fd = rd->fd, .events = POLLIN};
	uint32_t n;
	int k;

	do
		k = poll(&p, 1, rd->timeout_ms);
	while (k < 0 && errno == EINTR);
	if (k == 0)
		return IPAM_ETIMEOUT;
	if (k < 0 || read_all(rd->fd, hdr, sizeof(hdr)) < 0)
		return 0;
	memcpy(&n, hdr + 1, 4);
	if (n > IPAM_SMB_AUDIT_CHUNK + 8)
		return 0;
	/* The rest of a frame follows at once: the child wrote it whole. */
	if (n && read_all(rd->fd, rd->buf, n) < 0)
		return 0;
	*type = (char)hdr[0];
	*len = n;
	return 1;
}

static int answer(struct reading *rd, long long off)
{
	struct ipam_sigpipe sig;
	int rc;

	ipam_sigpipe_block(&sig);
	rc = write_all(rd->back, &off, sizeof(off));
	ipam_sigpipe_restore(&sig);
	return rc;
}

/* Frames until 'E': 0, a callback's code, or a failure. */
static int pump(struct reading *rd, struct strbuf *msg)
{
	char type;
	size_t len;
	int k, rc = 0;

	while ((k = next_frame(rd, &type, &len)) == 1) {
		long long size, off;

		switch (type) {
		case 'H':
			if (len < sizeof(size))
				return 0;
			memcpy(&size, rd->buf, sizeof(size));
			off = rd->r->on_head(rd->buf + sizeof(size),
					     len - sizeof(size), size,
					     rd->r->ctx);
			answer(rd, off < 0 ? -1 : off);
			if (off < 0)
				return (int)off;
			break;
		case 'D':
			rc = rd->r->on_data((const char *)rd->buf, len,
					    rd->r->ctx);
			if (rc)
				return rc;
			break;
		case 'E':
			return 1;
		case 'X':
			strbuf_add(msg, (const char *)rd->buf, len);
			return 2;
		default:
			return 0;
		}
	}
	return k;
}

static int start_reader(pid_t *pid, int *fd, int *back, struct audit_job *j)
{
	int up[2], down[2];

	if (pipe2(up, O_CLOEXEC))
		return ipam_error_set(IPAM_EIO, "pipe: %s", strerror(errno));
	if (pipe2(down, O_CLOEXEC)) {
		close(up[0]);
		close(up[1]);
		return ipam_error_set(IPAM_EIO, "pipe: %s", strerror(errno));
	}
	*pid = fork();
	if (*pid < 0) {
		int e = errno;

		close(up[0]);
		close(up[1]);
		close(down[0]);
		close(down[1]);
		return ipam_error_set(IPAM_EIO, "fork: %s", strerror(e));
	}
	if (!*pid) {
		close(up[0]);
		close(down[1]);
		j->back = down[0];
		read_child(up[1], j);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	fcntl(up[0], F_SETPIPE_SZ, READ_AHEAD); /* a smaller one works too */
	*fd = up[0];
	*back = down[1];
	return 0;
}

int ipam_smb_audit_read(struct strbuf *reason,
			const struct ipam_probe_identity *id,
			const char *server, const char *share, const char *file,
			size_t head_max, const struct ipam_smb_audit_reader *r)
{
	struct audit_job j = {id, server, share, file, head_max, -1};
	struct reading rd = {.timeout_ms = id->timeout * 1000, .r = r};
	struct strbuf msg = STRBUF_INIT;
	pid_t pid = -1;
	int rc, st;

	if (j.head_max > IPAM_SMB_AUDIT_HEAD_MAX)
		j.head_max = IPAM_SMB_AUDIT_HEAD_MAX;
	rc = start_reader(&pid, &rd.fd, &rd.back, &j);
	if (rc) {
		strbuf_reset(reason);
		strbuf_addstr(reason, ipam_error_last());
		return rc;
	}
	rd.buf = xmalloc(IPAM_SMB_AUDIT_CHUNK + 8);
	rc = pump(&rd, &msg);
	close(rd.fd);
	close(rd.back);
	if (rc != 1)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	free(rd.buf);
	strbuf_reset(reason);
	if (rc == 1) {
		rc = 0;
	} else if (rc == 2) {
		rc = fail_reason(reason, IPAM_EIO, id, msg.buf);
	} else if (rc == IPAM_ETIMEOUT) {
		strbuf_addf(reason,
			    "timed out after %d s reading \\\\%s\\%s\\%s",
			    id->timeout, server, share, file);
		rc = ipam_error_set(IPAM_ETIMEOUT, "%s", reason->buf);
	} else if (rc == 0) {
		strbuf_addf(reason,
			    "reading \\\\%s\\%s\\%s: the reader ended "
			    "early",
			    server, share, file);
		rc = ipam_error_set(IPAM_EIO, "%s", reason->buf);
	} else {
		strbuf_addstr(reason, ipam_error_last());
	}
	strbuf_release(&msg);
	return rc;
}
