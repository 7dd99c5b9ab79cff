#define _GNU_SOURCE /* pipe2 */
#include "smb_audit.h"
#include "smb.h"
#include "smb_internal.h"
#include "smb_lib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dhcplog.h"
#include "error.h"
#include "probemap.h"
#include "sigpipe.h"
#include "banned.h"

/*
 * A session is one child process with one SMB connection: it lists the
 * share, then reads the files the parent asks for, one after the other
 * (a connection and its Kerberos authentication per file cost more than
 * reading a small file).  The child speaks in frames on a pipe: a type
 * byte, a length (4 bytes, this machine's order: both ends are this
 * program) and that many bytes.
 *   'L'  the listing: text lines "<size> <name>"
 *   'H'  the head: the file's size (8 bytes) then its first bytes
 *   'S'  file data in a slot of the ring (below): the slot's number and
 *        the data's length, 4 bytes each
 *   'E'  the end of the listing or of a file: everything was sent
 *   'X'  a failure: its message
 * The parent asks for a file on a second pipe (see session_child) and
 * answers the head there with the offset to read from (8 bytes;
 * negative: stop), then one byte for each 'S' frame it has done with.
 *
 * A file's data goes through a ring of RING_SLOTS slots of READ_AHEAD
 * bytes that both processes map (shared, made before the fork):
 * libsmbclient reads into a slot, the parent parses it where it is, and
 * the slot is the child's again when the parent's byte for it comes.
 * Through the pipe each byte of a log was copied twice more by the
 * kernel.  Before its 'E' or 'X' the child takes the bytes of every slot
 * it sent, so that they never stand before the parent's next request.
 */

#define LIST_OUT_MAX (1024 * 1024)
#define FRAME_HDR    5
/* The child reads this much at a time (libsmbclient pipelines the SMB2
 * reads of one call) into a slot of the ring, which holds RING_SLOTS of
 * them, so that the network and the caller's work overlap; both bounds
 * stay the same whatever the file's size. */
#define READ_AHEAD (1024 * 1024)
#define RING_SLOTS 4

struct audit_job {
	const struct ipam_probe_identity *id;
	const char *server, *share;
	int back;   /* read end of the parent's requests and answers (child) */
	char *ring; /* RING_SLOTS * READ_AHEAD bytes, shared */
};

static int connect_as(struct ipam_smb **s, const struct audit_job *j)
{
	struct ipam_smb_opts o = {
		.server = j->server,
		.auth = IPAM_AUTH_KERBEROS,
		.principal = j->id->principal,
		.ccache = j->id->ccache,
		.timeout = j->id->timeout,
		/* the listing of the share that follows reaches the server */
		.no_probe = 1,
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

/* The listing's text, "<size> <name>" lines, into out. */
static int list_text(struct strbuf *out, struct ipam_smb *s, const char *share)
{
	struct ipam_smb_dirent *d = NULL;
	struct strbuf path = STRBUF_INIT;
	size_t nr = 0;
	int rc = ipam_smb_list(&d, &nr, s, share);

	for (size_t i = 0; !rc && i < nr; i++) {
		struct ipam_smb_stat st;

		if (d[i].is_dir || !ipam_dhcplog_family(d[i].name) ||
		    !printable_name(d[i].name))
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", share, d[i].name);
		rc = ipam_smb_stat(&st, s, path.buf);
		if (rc == IPAM_ENOTFOUND) { /* removed since the listing */
			rc = 0;
			continue;
		}
		if (!rc)
			strbuf_addf(out, "%llu %s\n",
				    (unsigned long long)st.size, d[i].name);
	}
	ipam_smb_dirents_free(d, nr);
	strbuf_release(&path);
	return rc;
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
	n = s->lib->getFunctionRead(s->ctx)(s->ctx, f, buf, len);
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
	r = s->lib->getFunctionLseek(s->ctx)(s->ctx, f, (off_t)off, SEEK_SET);
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

/* Take the parent's byte for each of n slots sent; -1 when it is gone. */
static int slots_back(const struct audit_job *j, unsigned n)
{
	char done[RING_SLOTS];

	return n ? read_all(j->back, done, n) : 0;
}

/* Stream the file from the offset the parent sends, through the ring; 0,
 * errno, or -1 when the parent stopped listening. */
static int stream_file(int fd, const struct audit_job *j, struct ipam_smb *s,
		       SMBCFILE *f, long long size, size_t head_max)
{
	static char head[IPAM_SMB_AUDIT_HEAD_MAX];
	unsigned seq = 0, out = 0; /* slots sent, and not yet back */
	long long off, left;
	int e = 0;
	ssize_t n;

	n = read_head(s, f, head,
		      head_max < sizeof(head) ? head_max : sizeof(head));
	if (n < 0)
		return errno;
	if (frame(fd, 'H', &size, sizeof(size), head, (size_t)n) < 0 ||
	    read_all(j->back, &off, sizeof(off)) < 0 || off < 0 || off > size)
		return -1;
	if (smb_seek(s, f, off) < 0)
		return errno;
	for (left = size - off; left > 0; left -= n) {
		size_t want = left < READ_AHEAD ? (size_t)left : READ_AHEAD;
		uint32_t slot[2] = {seq % RING_SLOTS, 0};

		if (out == RING_SLOTS) {
			if (slots_back(j, 1) < 0)
				return -1;
			out--;
		}
		n = smb_read_some(s, f, j->ring + (size_t)slot[0] * READ_AHEAD,
				  want);
		if (n < 0) {
			e = errno;
			break;
		}
		if (n == 0) /* shorter than when opened */
			break;
		slot[1] = (uint32_t)n;
		if (frame(fd, 'S', slot, sizeof(slot), NULL, 0) < 0)
			return -1;
		seq++;
		out++;
	}
	return slots_back(j, out) < 0 ? -1 : e;
}

/* One file for the parent: 0 sent whole, errno (reported), or -1 when
 * the parent stopped listening. */
static int read_one(int fd, const struct audit_job *j, struct ipam_smb *s,
		    const char *file, size_t head_max)
{
	struct ipam_smb_target t = {0};
	struct ipam_smb_guard g;
	struct strbuf path = STRBUF_INIT;
	SMBCFILE *f = NULL;
	struct stat st = {0};
	int rc, e = 0;

	strbuf_addf(&path, "%s/%s", j->share, file);
	rc = ipam_smb_target_init(&t, s, path.buf);
	strbuf_release(&path);
	if (rc)
		return frame(fd, 'X', ipam_error_last(),
			     strlen(ipam_error_last()), NULL, 0) < 0
			       ? -1
			       : EINVAL;
	ipam_smb_guard_enter(&g, s);
	errno = 0;
	f = s->lib->getFunctionOpen(s->ctx)(s->ctx, t.url.buf, O_RDONLY, 0);
	if (!f || s->lib->getFunctionFstat(s->ctx)(s->ctx, f, &st) < 0)
		e = errno ? errno : EIO;
	ipam_smb_guard_leave(&g);
	if (!e)
		e = stream_file(fd, j, s, f, (long long)st.st_size, head_max);
	if (e > 0) {
		ipam_smb_fail(0, "read", t.unc.buf, e);
		if (frame(fd, 'X', ipam_error_last(), strlen(ipam_error_last()),
			  NULL, 0) < 0)
			e = -1;
	} else if (!e && frame(fd, 'E', NULL, 0, NULL, 0) < 0) {
		e = -1;
	}
	if (f) {
		ipam_smb_guard_enter(&g, s);
		s->lib->getFunctionClose(s->ctx)(s->ctx, f);
		ipam_smb_guard_leave(&g);
	}
	ipam_smb_target_release(&t);
	return e;
}

/*
 * The session's child: one connection for the listing and every file.
 * It sends the listing ('L' frames, then 'E', or 'X'), then reads a
 * file for each request of the parent (the head's bound and the name's
 * length, 4 bytes each, then the name) until a name of length 0 or the
 * pipe's end.
 */
static void session_child(int fd, void *ctx)
{
	const struct audit_job *j = ctx;
	struct ipam_smb *s = NULL;
	struct strbuf text = STRBUF_INIT;
	char name[IPAM_SMB_AUDIT_NAME_MAX + 1];
	uint32_t req[2];
	int rc;

	rc = connect_as(&s, j);
	if (!rc)
		rc = list_text(&text, s, j->share);
	if (rc) {
		frame(fd, 'X', ipam_error_last(), strlen(ipam_error_last()),
		      NULL, 0);
		_exit(0);
	}
	for (size_t at = 0; at < text.len; at += IPAM_SMB_AUDIT_CHUNK) {
		size_t k = text.len - at < IPAM_SMB_AUDIT_CHUNK
				   ? text.len - at
				   : IPAM_SMB_AUDIT_CHUNK;

		if (frame(fd, 'L', text.buf + at, k, NULL, 0) < 0)
			_exit(0);
	}
	strbuf_release(&text);
	if (frame(fd, 'E', NULL, 0, NULL, 0) < 0)
		_exit(0);
	while (read_all(j->back, req, sizeof(req)) == 0 && req[1] &&
	       req[1] <= IPAM_SMB_AUDIT_NAME_MAX &&
	       read_all(j->back, name, req[1]) == 0) {
		name[req[1]] = '\0';
		if (read_one(fd, j, s, name, req[0]) < 0)
			break;
	}
	ipam_smb_close(s);
	_exit(0);
}

struct ipam_smb_audit_session {
	struct audit_job j;
	pid_t pid;
	int fd;		    /* frames from the child */
	int back;	    /* requests and answers to it */
	int timeout_ms;	    /* without a frame */
	bool broken;	    /* the child is no longer in step: end it */
	unsigned char *buf; /* IPAM_SMB_AUDIT_CHUNK + 8 */
};

/* The next frame into ss->buf: 1 with its type and length, 0 at a closed
 * pipe, IPAM_ETIMEOUT. */
static int next_frame(struct ipam_smb_audit_session *ss, char *type,
		      size_t *len)
{
	unsigned char hdr[FRAME_HDR];
	struct pollfd p = {.fd = ss->fd, .events = POLLIN};
	uint32_t n;
	int k;

	do
		k = poll(&p, 1, ss->timeout_ms);
	while (k < 0 && errno == EINTR);
	if (k == 0)
		return IPAM_ETIMEOUT;
	if (k < 0 || read_all(ss->fd, hdr, sizeof(hdr)) < 0)
		return 0;
	memcpy(&n, hdr + 1, 4);
	if (n > IPAM_SMB_AUDIT_CHUNK + 8)
		return 0;
	/* The rest of a frame follows at once: the child wrote it whole. */
	if (n && read_all(ss->fd, ss->buf, n) < 0)
		return 0;
	*type = (char)hdr[0];
	*len = n;
	return 1;
}

/* Write to the child; -1 when it is gone. */
static int tell(struct ipam_smb_audit_session *ss, const void *a, size_t alen,
		const void *b, size_t blen)
{
	struct ipam_sigpipe sig;
	int rc;

	ipam_sigpipe_block(&sig);
	rc = write_all(ss->back, a, alen);
	if (!rc && blen)
		rc = write_all(ss->back, b, blen);
	ipam_sigpipe_restore(&sig);
	return rc;
}

/* The data of the 'S' frame in ss->buf to r, in IPAM_SMB_AUDIT_CHUNK
 * pieces, then the slot back to the child: 0, a callback's code, or
 * IPAM_EIO (set) with the session broken when the frame names no slot. */
static int take_slot(struct ipam_smb_audit_session *ss,
		     const struct ipam_smb_audit_reader *r)
{
	const char *data;
	uint32_t slot[2];
	int rc = 0;

	memcpy(slot, ss->buf, sizeof(slot));
	if (slot[0] >= RING_SLOTS || slot[1] > READ_AHEAD) {
		ss->broken = true;
		return ipam_error_set(IPAM_EIO, "audit log reader: a frame "
						"names no slot of the ring");
	}
	data = ss->j.ring + (size_t)slot[0] * READ_AHEAD;
	for (size_t at = 0; !rc && at < slot[1]; at += IPAM_SMB_AUDIT_CHUNK) {
		size_t k = slot[1] - at < IPAM_SMB_AUDIT_CHUNK
				   ? slot[1] - at
				   : IPAM_SMB_AUDIT_CHUNK;

		rc = r->on_data(data + at, k, r->ctx);
	}
	if (!rc)
		tell(ss, "S", 1, NULL, 0);
	return rc;
}

/* Frames until 'E': 1, 2 after 'X' (its message in msg), a callback's
 * code, 0 at a closed pipe or an unexpected frame, IPAM_ETIMEOUT.  The
 * listing's text into text (NULL: none expected), a file's to r. */
static int pump(struct ipam_smb_audit_session *ss,
		const struct ipam_smb_audit_reader *r, struct strbuf *text,
		struct strbuf *msg)
{
	char type;
	size_t len;
	int k, rc = 0;

	while ((k = next_frame(ss, &type, &len)) == 1) {
		long long size, off;

		if (type == 'E')
			return 1;
		if (type == 'X') {
			strbuf_add(msg, (const char *)ss->buf, len);
			return 2;
		}
		if (text && type == 'L') {
			if (text->len + len > LIST_OUT_MAX)
				return 0;
			strbuf_add(text, (const char *)ss->buf, len);
		} else if (r && type == 'H' && len >= sizeof(size)) {
			memcpy(&size, ss->buf, sizeof(size));
			off = r->on_head(ss->buf + sizeof(size),
					 len - sizeof(size), size, r->ctx);
			if (off < 0)
				off = -1;
			tell(ss, &off, sizeof(off), NULL, 0);
			if (off < 0)
				return (int)off;
		} else if (r && type == 'S' && len == 2 * sizeof(uint32_t)) {
			rc = take_slot(ss, r);
			if (rc)
				return rc;
		} else {
			return 0;
		}
	}
	return k;
}

static int start_child(struct ipam_smb_audit_session *ss)
{
	const struct ipam_smb_lib *lib;
	int up[2], down[2], rc;
	void *ring;

	/* Loaded here, not in the child: once for every server's child. */
	rc = ipam_smb_lib_load(&lib);
	if (rc)
		return rc;
	ring = mmap(NULL, (size_t)RING_SLOTS * READ_AHEAD,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ring == MAP_FAILED)
		return ipam_error_set(IPAM_ENOMEM, "mmap: %s", strerror(errno));
	ss->j.ring = ring;
	if (pipe2(up, O_CLOEXEC))
		return ipam_error_set(IPAM_EIO, "pipe: %s", strerror(errno));
	if (pipe2(down, O_CLOEXEC)) {
		close(up[0]);
		close(up[1]);
		return ipam_error_set(IPAM_EIO, "pipe: %s", strerror(errno));
	}
	ss->pid = fork();
	if (ss->pid < 0) {
		int e = errno;

		close(up[0]);
		close(up[1]);
		close(down[0]);
		close(down[1]);
		return ipam_error_set(IPAM_EIO, "fork: %s", strerror(e));
	}
	if (!ss->pid) {
		close(up[0]);
		close(down[1]);
		ss->j.back = down[0];
		session_child(up[1], &ss->j);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	ss->fd = up[0];
	ss->back = down[1];
	return 0;
}

/* The reason of a pump that did not end with 'E', the code returned. */
static int pump_failed(struct ipam_smb_audit_session *ss, struct strbuf *reason,
		       int rc, const char *what, const char *file,
		       const struct strbuf *msg)
{
	const struct audit_job *j = &ss->j;

	/* after 'X' the child waits for the next request */
	ss->broken = rc != 2;
	strbuf_reset(reason);
	if (rc == 2)
		return fail_reason(reason, IPAM_EIO, j->id, msg->buf);
	if (rc == IPAM_ETIMEOUT) {
		strbuf_addf(reason, "timed out after %d s %s \\\\%s\\%s%s%s",
			    j->id->timeout, what, j->server, j->share,
			    file ? "\\" : "", file ? file : "");
		return ipam_error_set(IPAM_ETIMEOUT, "%s", reason->buf);
	}
	if (rc == 0) {
		strbuf_addf(reason, "%s \\\\%s\\%s%s%s: the reader ended early",
			    what, j->server, j->share, file ? "\\" : "",
			    file ? file : "");
		return ipam_error_set(IPAM_EIO, "%s", reason->buf);
	}
	strbuf_addstr(reason, ipam_error_last());
	return rc;
}

int ipam_smb_audit_open(struct ipam_smb_audit_session **out,
			struct ipam_smb_audit_file **files, size_t *nr,
			struct strbuf *reason,
			const struct ipam_probe_identity *id,
			const char *server, const char *share)
{
	struct ipam_smb_audit_session *ss = xcalloc(1, sizeof(*ss));
	struct strbuf text = STRBUF_INIT, msg = STRBUF_INIT;
	int rc;

	*out = NULL;
	*files = NULL;
	*nr = 0;
	ss->j = (struct audit_job){id, server, share, -1, NULL};
	ss->timeout_ms = id->timeout * 1000;
	ss->fd = ss->back = -1;
	ss->pid = -1;
	rc = start_child(ss);
	if (rc) {
		strbuf_reset(reason);
		strbuf_addstr(reason, ipam_error_last());
		if (ss->j.ring)
			munmap(ss->j.ring, (size_t)RING_SLOTS * READ_AHEAD);
		free(ss);
		return rc;
	}
	ss->buf = xmalloc(IPAM_SMB_AUDIT_CHUNK + 8);
	rc = pump(ss, NULL, &text, &msg);
	if (rc == 1)
		rc = parse_list(files, nr, text.buf ? text.buf : "");
	else
		rc = pump_failed(ss, reason, rc, "listing", NULL, &msg);
	strbuf_release(&text);
	strbuf_release(&msg);
	if (rc) {
		ipam_smb_audit_close(ss);
		return rc;
	}
	*out = ss;
	return 0;
}

int ipam_smb_audit_read(struct ipam_smb_audit_session *ss,
			struct strbuf *reason, const char *file,
			size_t head_max, const struct ipam_smb_audit_reader *r)
{
	struct strbuf msg = STRBUF_INIT;
	uint32_t req[2];
	int rc;

	strbuf_reset(reason);
	if (ss->broken) {
		strbuf_addf(reason, "reading \\\\%s\\%s\\%s: the session ended",
			    ss->j.server, ss->j.share, file);
		return ipam_error_set(IPAM_EIO, "%s", reason->buf);
	}
	req[0] = (uint32_t)(head_max > IPAM_SMB_AUDIT_HEAD_MAX
				    ? IPAM_SMB_AUDIT_HEAD_MAX
				    : head_max);
	req[1] = (uint32_t)strlen(file);
	if (!req[1] || req[1] > IPAM_SMB_AUDIT_NAME_MAX) {
		strbuf_addf(reason, "'%s': not a file name to read", file);
		return ipam_error_set(IPAM_EINVAL, "%s", reason->buf);
	}
	/* a child gone shows as the pipe's end in pump */
	tell(ss, req, sizeof(req), file, req[1]);
	rc = pump(ss, r, NULL, &msg);
	if (rc == 1)
		rc = 0;
	else
		rc = pump_failed(ss, reason, rc, "reading", file, &msg);
	strbuf_release(&msg);
	return rc;
}

void ipam_smb_audit_close(struct ipam_smb_audit_session *ss)
{
	uint32_t bye[2] = {0, 0};
	int st;

	if (!ss)
		return;
	if (!ss->broken)
		tell(ss, bye, sizeof(bye), NULL, 0);
	close(ss->fd);
	close(ss->back);
	if (ss->broken)
		kill(ss->pid, SIGKILL);
	while (waitpid(ss->pid, &st, 0) < 0 && errno == EINTR)
		;
	munmap(ss->j.ring, (size_t)RING_SLOTS * READ_AHEAD);
	free(ss->buf);
	free(ss);
}
