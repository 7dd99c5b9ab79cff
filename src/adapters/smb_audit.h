/*
 * The DHCP audit logs of a DHCP server's share (\\server\dhcpaudit), read
 * over SMB as the IPAM identity, as the Windows IPAM server's audit task
 * does: list the IPv4 DhcpSrvLog-*.log and IPv6 DhcpV6SrvLog-*.log files,
 * then read one from where the last read stopped.
 *
 * libsmbclient runs in a child process with the identity's ticket cache
 * (KRB5CCNAME set in the child only: threads of the caller never see it).
 * A file streams to the caller through a ring of a few MiB that both
 * processes map, handed to the caller in chunks of at most
 * IPAM_SMB_AUDIT_CHUNK bytes, so memory stays the same whatever the
 * file's size: first its head (the bytes that tell an overwritten file
 * from an appended one), then, from the offset the caller picks after
 * seeing the head, the rest.  The child is killed when it sends nothing
 * for the identity's timeout.
 *
 * Failures come with a reason an administrator acts on ("access denied
 * for IPAM1$ (...)", "share not found (...)", "unreachable (...)",
 * "timed out after 10 s ...").
 *
 * Prefixes: ipam_smb_audit_
 */
#ifndef IPAM_SMB_AUDIT_H
#define IPAM_SMB_AUDIT_H

#include <stddef.h>

#include "probe.h"
#include "strbuf.h"

#define IPAM_SMB_AUDIT_SHARE "dhcpaudit"
#define IPAM_SMB_AUDIT_CHUNK (64 * 1024)
/* The head is at most this long. */
#define IPAM_SMB_AUDIT_HEAD_MAX 4096
/* A file name to read is at most this long. */
#define IPAM_SMB_AUDIT_NAME_MAX 1024

struct ipam_smb_audit_file {
	char *name; /* "DhcpSrvLog-Mon.log" */
	int family; /* 4 or 6 */
	long long size;
};

/* A session with \\server\share: one connection for its listing and
 * the files read. */
struct ipam_smb_audit_session;

/*
 * Connect as id and list the audit logs of \\server\share (other files
 * left out) into *files.  0 with *out open, or a negative IPAM_E* code
 * with the reason in *reason (and the last error set).
 */
int ipam_smb_audit_open(struct ipam_smb_audit_session **out,
			struct ipam_smb_audit_file **files, size_t *nr,
			struct strbuf *reason,
			const struct ipam_probe_identity *id,
			const char *server, const char *share);
/* End the session (NULL: nothing). */
void ipam_smb_audit_close(struct ipam_smb_audit_session *s);
void ipam_smb_audit_files_free(struct ipam_smb_audit_file *v, size_t nr);

struct ipam_smb_audit_reader {
	/*
	 * The file's first min(size, head_max) bytes and its size when
	 * opened.  Returns the offset to read from (0 to size), or a
	 * negative IPAM_E* code to stop.
	 */
	long long (*on_head)(const unsigned char *head, size_t len,
			     long long size, void *ctx);
	/* The bytes that follow, in order, chunk by chunk: 0 to go on, a
	 * negative IPAM_E* code to stop. */
	int (*on_data)(const char *buf, size_t len, void *ctx);
	void *ctx;
};

/*
 * Read file of the session's share: the head (head_max bytes at most, up to
 * IPAM_SMB_AUDIT_HEAD_MAX), then the file from the offset on_head gives
 * to the end it had when opened.  Returns 0 when everything was given,
 * what a callback returned, or a negative IPAM_E* code with the reason
 * in *reason.
 */
int ipam_smb_audit_read(struct ipam_smb_audit_session *s, struct strbuf *reason,
			const char *file, size_t head_max,
			const struct ipam_smb_audit_reader *r);

#endif
