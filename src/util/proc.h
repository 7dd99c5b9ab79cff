/*
 * Child processes and process identity.
 *
 * ipamctl runs Samba's client tools where no C library speaks a Windows
 * protocol, runs a libgit2 fetch in a child it can stop at a deadline,
 * and tells a live lock holder from a dead one whose pid was reused.
 * Every child is started here: no shell, standard input from /dev/null
 * (or a descriptor the caller gives), descriptors above 2 closed, output
 * captured with a bound, killed at the deadline.  Credentials go to a
 * child through a file or a descriptor, never in argv.
 */
#ifndef IPAM_PROC_H
#define IPAM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Milliseconds of CLOCK_MONOTONIC: deadlines that a clock change does not
 * move. */
int64_t ipam_proc_now_ms(void);

struct ipam_proc_result {
	struct strbuf out, err; /* captured, each at most max_output bytes */
	int status;		/* exit status, 128 + signal, or -1 */
};

struct ipam_proc_opts {
	int timeout;	   /* seconds; the child is killed after it */
	size_t max_output; /* per stream; 0: 1 MiB */
	/* What to say when argv[0] is not installed (exit 127), e.g.
	 * "install Samba's client tools"; NULL: nothing more. */
	const char *missing_hint;
	/* > 2: handed to the child as descriptor IPAM_PROC_PASS_FD (the
	 * rest above 2 stay closed), so a tool that wants a file name for a
	 * secret reads /dev/fd/3 and nothing is written to disk; 0: none. */
	int pass_fd;
	/* set_umask: the child's umask is child_umask (set between fork and
	 * exec), so that a caller need not change the process's while other
	 * threads run; else inherited. */
	bool set_umask;
	unsigned child_umask;
};

#define IPAM_PROC_PASS_FD 3

/*
 * Run argv (looked up in PATH, no shell) and wait for it.  0 when it ran
 * (whatever its exit status: r->status says), IPAM_ETIMEOUT when it was
 * killed at the timeout, IPAM_EIO when it could not be started or was not
 * found.  r is the caller's; release it with ipam_proc_result_release
 * whatever the outcome.
 */
int ipam_proc_run(struct ipam_proc_result *r, const char *const argv[],
		  const struct ipam_proc_opts *o);
void ipam_proc_result_release(struct ipam_proc_result *r);

/*
 * Call fn(fd, ctx) in a child process and collect what it writes to fd
 * (at most max bytes) into out.  fn must end the child with _exit.  When
 * deadline_ms (of ipam_proc_now_ms) passes first the child is killed and
 * IPAM_ETIMEOUT returned (without an error message: the caller knows what
 * was stopped); IPAM_EIO when it could not start.  *status (may be NULL)
 * receives the child's status as ipam_proc_run gives it.
 */
int ipam_proc_call(struct strbuf *out, size_t max,
		   void (*fn)(int fd, void *ctx), void *ctx,
		   int64_t deadline_ms, int *status);

/* When process pid started, in clock ticks since boot (field 22 of
 * /proc/PID/stat), or -1 when it cannot be told.  No wall clock: a clock
 * set forward does not change it. */
long long ipam_proc_start_ticks(long long pid);

/* This boot's id (/proc/sys/kernel/random/boot_id) in buf, or "". */
const char *ipam_proc_boot_id(char buf[64]);

/* Is there a process pid (a zombie counts)?  0 only when it is certainly
 * gone (kill(pid, 0) fails with ESRCH, or pid is out of range). */
int ipam_proc_exists(long long pid);

#endif
