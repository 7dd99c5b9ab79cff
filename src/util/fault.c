#include "fault.h"

/*
 * Built twice (fault.h says why): without IPAM_FAULT_INJECTION into the
 * util library, where ipam_fault_point() is empty, and with it into the
 * test program ipamctl-fault, whose own object file then defines the
 * function, so that the linker never takes the library's.  Both variants
 * define exactly the same symbols.
 */

#ifndef IPAM_FAULT_INJECTION

void ipam_fault_point(const char *op, const char *target)
{
	(void)op;
	(void)target;
}

#else

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "strbuf.h"
#include "text.h"
#include "banned.h"

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long fault_count, fault_after;
static int fault_ready;

/* IPAM_FAULT_AFTER as a positive count; anything else is "never". */
static unsigned long after_from_env(void)
{
	const char *v = getenv("IPAM_FAULT_AFTER");
	unsigned long k;
	char *end;

	if (!v || *v < '1' || *v > '9')
		return 0;
	errno = 0;
	k = strtoul(v, &end, 10);
	return errno || *end ? 0 : k;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Append line to IPAM_FAULT_COUNT_FILE, when it names one. */
static void record(const struct strbuf *line)
{
	const char *path = getenv("IPAM_FAULT_COUNT_FILE");
	int fd;

	if (!path || !*path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return;
	write_all(fd, line->buf, line->len);
	close(fd);
}

/* Die as a kill would leave things: no atexit handler, no stdio flush, no
 * core file in the working directory. */
static void die(void)
{
	struct rlimit no_core = {0, 0};

	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	signal(SIGABRT, SIG_DFL);
	abort();
}

void ipam_fault_point(const char *op, const char *target)
{
	static const char tag[] = "ipamctl: fault injection: ";
	struct strbuf line = STRBUF_INIT;

	pthread_mutex_lock(&fault_lock);
	if (!fault_ready) {
		fault_after = after_from_env();
		fault_ready = 1;
	}
	fault_count++;
	strbuf_addf(&line, "%lu ", fault_count);
	ipam_text_add_clean(&line, op, 64);
	strbuf_addch(&line, ' ');
	ipam_text_add_clean(&line, target, 1024);
	strbuf_addch(&line, '\n');
	if (fault_after && fault_count == fault_after) {
		strbuf_addf(&line, "abort after write %lu (pid %ld)\n",
			    fault_count, (long)getpid());
		record(&line);
		write_all(STDERR_FILENO, tag, sizeof(tag) - 1);
		write_all(STDERR_FILENO, line.buf, line.len);
		die();
	}
	record(&line);
	pthread_mutex_unlock(&fault_lock);
	strbuf_release(&line);
}

#endif
