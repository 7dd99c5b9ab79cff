#define _GNU_SOURCE /* closefrom */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "banned.h"

#define DEFAULT_MAX_OUTPUT (1u << 20)

int64_t ipam_proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void reap(pid_t pid, int *st)
{
	while (waitpid(pid, st, 0) < 0 && errno == EINTR)
		;
}

/*
 * Read the pipes in fds (-1: closed) until both close or the deadline
 * passes: 0, IPAM_ETIMEOUT, or IPAM_EIO (poll failed; errno kept).
 */
static int drain(int fds[2], struct strbuf *sbs[2], size_t max,
		 int64_t deadline)
{
	while (fds[0] >= 0 || fds[1] >= 0) {
		struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN},
				      {.fd = fds[1], .events = POLLIN}};
		int64_t left = deadline - ipam_proc_now_ms();
		int n;

		if (left <= 0)
			return IPAM_ETIMEOUT;
		n = poll(p, 2, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return IPAM_EIO;
		for (int i = 0; n > 0 && i < 2; i++) {
			char buf[4096];
			ssize_t got;

			if (fds[i] < 0 || !p[i].revents)
				continue;
			got = read(fds[i], buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close_fd(&fds[i]);
				continue;
			}
			if (sbs[i]->len < max)
				strbuf_add(sbs[i], buf, (size_t)got);
		}
	}
	return 0;
}

int ipam_proc_run(struct ipam_proc_result *r, const char *const argv[],
		  const struct ipam_proc_opts *o)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, rc = 0, st = 0, err;
	size_t max = o->max_output ? o->max_output : DEFAULT_MAX_OUTPUT;
	int64_t deadline = ipam_proc_now_ms() + (int64_t)o->timeout * 1000;
	struct strbuf *sbs[2] = {&r->out, &r->err};
	int fds[2];
	pid_t pid;

	strbuf_init(&r->out);
	strbuf_init(&r->err);
	r->status = -1;
	if (pipe(po) < 0 || pipe(pe) < 0 || set_cloexec(po[0]) < 0 ||
	    set_cloexec(pe[0]) < 0) {
		rc = ipam_error_set(IPAM_EIO, "cannot run %s: pipe: %s",
				    argv[0], strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = ipam_error_set(IPAM_EIO, "cannot run %s: fork: %s",
				    argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		if (nul < 0 || dup2(nul, 0) < 0 || dup2(po[1], 1) < 0 ||
		    dup2(pe[1], 2) < 0)
			_exit(126);
		/* pass_fd > 2 is untouched by the dup2s above; dup2 onto
		 * itself would keep its close-on-exec flag, hence F_SETFD. */
		if (o->pass_fd > 2 &&
		    ((o->pass_fd != IPAM_PROC_PASS_FD &&
		      dup2(o->pass_fd, IPAM_PROC_PASS_FD) < 0) ||
		     fcntl(IPAM_PROC_PASS_FD, F_SETFD, 0) < 0))
			_exit(126);
		closefrom(o->pass_fd > 2 ? IPAM_PROC_PASS_FD + 1 : 3);
		signal(SIGPIPE, SIG_DFL);
		if (o->set_umask)
			umask((mode_t)o->child_umask);
		execvp(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close_fd(&po[1]);
	close_fd(&pe[1]);
	fds[0] = po[0];
	fds[1] = pe[0];
	po[0] = pe[0] = -1;
	rc = drain(fds, sbs, max, deadline);
	err = errno;
	close_fd(&fds[0]);
	close_fd(&fds[1]);
	if (rc) {
		kill(pid, SIGKILL);
		reap(pid, NULL);
		if (rc == IPAM_ETIMEOUT)
			rc = ipam_error_set(IPAM_ETIMEOUT,
					    "%s did not finish in %d s",
					    argv[0], o->timeout);
		else
			rc = ipam_error_set(IPAM_EIO, "cannot run %s: poll: %s",
					    argv[0], strerror(err));
		goto out;
	}
	reap(pid, &st);
	r->status = status_of(st);
	if (r->status == 127)
		rc = ipam_error_set(IPAM_EIO, "cannot run %s: not found%s%s%s",
				    argv[0], o->missing_hint ? " (" : "",
				    o->missing_hint ? o->missing_hint : "",
				    o->missing_hint ? ")" : "");
out:
	close_fd(&po[0]);
	close_fd(&po[1]);
	close_fd(&pe[0]);
	close_fd(&pe[1]);
	return rc;
}

void ipam_proc_result_release(struct ipam_proc_result *r)
{
	if (!r)
		return;
	strbuf_release(&r->out);
	strbuf_release(&r->err);
}

int ipam_proc_call(struct strbuf *out, size_t max,
		   void (*fn)(int fd, void *ctx), void *ctx,
		   int64_t deadline_ms, int *status)
{
	struct strbuf ignored = STRBUF_INIT;
	struct strbuf *sbs[2] = {out, &ignored};
	int fds[2], p[2], st = 0, rc, err;
	pid_t pid;

	if (status)
		*status = -1;
	if (pipe(p))
		return ipam_error_set(IPAM_EIO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(p[0]);
		close(p[1]);
		return ipam_error_set(IPAM_EIO, "fork: %s", strerror(err));
	}
	if (!pid) {
		close(p[0]);
		fn(p[1], ctx);
		_exit(0);
	}
	close(p[1]);
	fds[0] = p[0];
	fds[1] = -1;
	rc = drain(fds, sbs, max, deadline_ms);
	err = errno;
	close_fd(&fds[0]);
	if (rc)
		kill(pid, SIGKILL);
	reap(pid, &st);
	if (status && !rc)
		*status = status_of(st);
	if (rc == IPAM_EIO)
		rc = ipam_error_set(IPAM_EIO, "poll: %s", strerror(err));
	return rc;
}

long long ipam_proc_start_ticks(long long pid)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long start;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command's ')', field 3 (state) on */
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || *p < '0' || *p > '9')
		return -1;
	errno = 0;
	start = strtoull(p, &end, 10);
	if (errno || end == p || start > (unsigned long long)LLONG_MAX)
		return -1;
	return (long long)start;
}

const char *ipam_proc_boot_id(char buf[64])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, 63, f);
		fclose(f);
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

int ipam_proc_exists(long long pid)
{
	if (pid <= 0 || pid > INT_MAX)
		return 0;
	return !(kill((pid_t)pid, 0) && errno == ESRCH);
}
