#include "labutil.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct capture {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	bool truncated;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what is available; past max, keep draining but drop the bytes. */
static int capture_read(struct capture *c)
{
	char chunk[8192];
	ssize_t n;
	size_t keep;

	n = read(c->fd, chunk, sizeof(chunk));
	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 1 : -1;
	if (n == 0)
		return 0;
	keep = (size_t)n;
	if (c->len + keep > c->max) {
		keep = c->max - c->len;
		c->truncated = true;
	}
	if (keep > 0) {
		if (c->len + keep + 1 > c->cap) {
			size_t ncap = c->cap ? c->cap : 4096;
			char *nbuf;

			while (ncap < c->len + keep + 1)
				ncap *= 2;
			nbuf = realloc(c->buf, ncap);
			if (nbuf == NULL)
				return -1;
			c->buf = nbuf;
			c->cap = ncap;
		}
		memcpy(c->buf + c->len, chunk, keep);
		c->len += keep;
		c->buf[c->len] = '\0';
	}
	return 1;
}

static char *capture_take(struct capture *c, size_t *len)
{
	char *b = c->buf;

	if (b == NULL)
		b = calloc(1, 1);
	*len = c->len;
	c->buf = NULL;
	return b;
}

static int pipe_cloexec(int fds[2])
{
	if (pipe(fds) < 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void child_exec(const char *const argv[], const struct lab_run_opts *o,
		       int in_fd, int out_fd, int err_fd)
{
	const char *const *e;

	setpgid(0, 0);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	for (e = o->env; e != NULL && *e != NULL; e++) {
		const char *eq = strchr(*e, '=');
		char name[256];

		if (eq == NULL || (size_t)(eq - *e) >= sizeof(name))
			_exit(127);
		memcpy(name, *e, (size_t)(eq - *e));
		name[eq - *e] = '\0';
		if (setenv(name, eq + 1, 1) != 0)
			_exit(127);
	}
	execvp(argv[0], (char *const *)(uintptr_t)argv);
	dprintf(2, "labutil: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int lab_run(const char *const argv[], const struct lab_run_opts *opts,
	    struct lab_run *res)
{
	static const struct lab_run_opts defaults;
	const struct lab_run_opts *o = opts ? opts : &defaults;
	struct capture out = {.fd = -1}, err = {.fd = -1};
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1},
	    err_pipe[2] = {-1, -1};
	int in_fd = -1, status, saved_errno = 0, rc = -1;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	size_t written = 0;
	long long deadline;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	out.max = err.max =
		o->max_output ? o->max_output : LAB_RUN_DEFAULT_MAX_OUTPUT;
	deadline = now_ms() + (o->timeout_ms > 0 ? o->timeout_ms
						 : LAB_RUN_DEFAULT_TIMEOUT_MS);

	if (argv == NULL || argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	sigaction(SIGPIPE, &ign, &old_pipe);
	if (o->input != NULL) {
		if (pipe_cloexec(in_pipe) < 0)
			goto out;
	} else {
		in_pipe[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in_pipe[0] < 0)
			goto out;
	}
	if (pipe_cloexec(out_pipe) < 0 || pipe_cloexec(err_pipe) < 0)
		goto out;

	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0)
		child_exec(argv, o, in_pipe[0], out_pipe[1], err_pipe[1]);

	close_fd(&in_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	in_fd = in_pipe[1];
	in_pipe[1] = -1;
	out.fd = out_pipe[0];
	err.fd = err_pipe[0];
	out_pipe[0] = err_pipe[0] = -1;
	if (in_fd >= 0)
		fcntl(in_fd, F_SETFL, O_NONBLOCK);
	if (in_fd >= 0 && o->input_len == 0)
		close_fd(&in_fd);

	while (out.fd >= 0 || err.fd >= 0 || in_fd >= 0) {
		struct pollfd p[3];
		struct capture *who[3];
		nfds_t n = 0, i;
		long long left = deadline - now_ms();
		int r;

		if (left <= 0) {
			res->timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (out.fd >= 0) {
			who[n] = &out;
			p[n++] =
				(struct pollfd){.fd = out.fd, .events = POLLIN};
		}
		if (err.fd >= 0) {
			who[n] = &err;
			p[n++] =
				(struct pollfd){.fd = err.fd, .events = POLLIN};
		}
		if (in_fd >= 0) {
			who[n] = NULL;
			p[n++] =
				(struct pollfd){.fd = in_fd, .events = POLLOUT};
		}
		r = poll(p, n, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		for (i = 0; r > 0 && i < n; i++) {
			if (p[i].revents == 0)
				continue;
			if (who[i] == NULL) {
				ssize_t w = write(in_fd, o->input + written,
						  o->input_len - written);

				if (w > 0)
					written += (size_t)w;
				if ((w < 0 && errno != EAGAIN &&
				     errno != EINTR) ||
				    written == o->input_len)
					close_fd(&in_fd);
			} else if (capture_read(who[i]) <= 0) {
				close_fd(&who[i]->fd);
			}
		}
	}

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			saved_errno = errno;
			goto out;
		}
	}
	if (WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_code = 128 + WTERMSIG(status);
	rc = 0;
out:
	if (rc != 0 && saved_errno == 0)
		saved_errno = errno;
	close_fd(&in_fd);
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&out.fd);
	close_fd(&err.fd);
	res->out = capture_take(&out, &res->out_len);
	res->err = capture_take(&err, &res->err_len);
	res->out_truncated = out.truncated;
	res->err_truncated = err.truncated;
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (rc != 0)
		errno = saved_errno;
	return rc;
}

void lab_run_free(struct lab_run *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}

/* The last max bytes of s: the end of an output says most about a failure. */
static const char *tail(const char *s, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	if (s == NULL)
		return "";
	return len > max ? s + len - max : s;
}

const char *lab_run_describe(const struct lab_run *res, const char *cmd)
{
	static _Thread_local char buf[3072];

	snprintf(buf, sizeof(buf), "%s: %s%d%s\nstderr: %s\nstdout: %s", cmd,
		 res->timed_out ? "timed out, exit " : "exit ", res->exit_code,
		 res->out_truncated ? " (stdout truncated)" : "",
		 tail(res->err, 1200), tail(res->out, 1200));
	return buf;
}

const char *lab_env(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : NULL;
}

const char *lab_forest_env(int n, const char *field)
{
	char name[128];

	snprintf(name, sizeof(name), "IPAM_LAB_%d_%s", n, field);
	return lab_env(name);
}

char *lab_domain_dn(const char *domain)
{
	size_t len = strlen(domain), i, o = 3;
	char *dn = malloc(4 * len + 4);

	if (dn == NULL)
		return NULL;
	memcpy(dn, "DC=", 3);
	for (i = 0; i < len; i++) {
		if (domain[i] == '.') {
			memcpy(dn + o, ",DC=", 4);
			o += 4;
		} else {
			dn[o++] = domain[i];
		}
	}
	dn[o] = '\0';
	return dn;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **collect(const char *text, const char *prefix, size_t *count)
{
	size_t plen = prefix ? strlen(prefix) : 0, n = 0, cap = 8;
	char **v = malloc(cap * sizeof(*v));
	const char *line = text;

	if (v == NULL)
		return NULL;
	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len >= plen &&
		    (plen == 0 || strncmp(line, prefix, plen) == 0) &&
		    (plen > 0 || len > 0)) {
			if (n + 1 >= cap) {
				char **nv = realloc(v, 2 * cap * sizeof(*v));

				if (nv == NULL)
					goto fail;
				v = nv;
				cap *= 2;
			}
			v[n] = strndup(line + plen, len - plen);
			if (v[n] == NULL)
				goto fail;
			n++;
		}
		line = end ? end + 1 : NULL;
	}
	v[n] = NULL;
	qsort(v, n, sizeof(*v), cmp_str);
	if (count)
		*count = n;
	return v;
fail:
	v[n] = NULL;
	lab_strv_free(v);
	return NULL;
}

char **lab_collect_lines(const char *text, const char *prefix, size_t *count)
{
	return collect(text, prefix, count);
}

char **lab_lines(const char *text, size_t *count)
{
	return collect(text, NULL, count);
}

void lab_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

char *lab_strv_join(char *const *v, const char *sep)
{
	size_t len = 1, i, slen = strlen(sep);
	char *s, *p;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		len += strlen(v[i]) + slen;
	s = p = malloc(len);
	if (s == NULL)
		return NULL;
	*p = '\0';
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (i > 0)
			p = stpcpy(p, sep);
		p = stpcpy(p, v[i]);
	}
	return s;
}

/* A sorted shallow copy of a NULL-terminated vector; *n gets its length. */
static char **sorted_copy(const char *const *v, size_t *n)
{
	size_t len = 0, i;
	char **c;

	while (v != NULL && v[len] != NULL)
		len++;
	c = calloc(len + 1, sizeof(*c));
	if (c == NULL)
		abort();
	for (i = 0; i < len; i++)
		c[i] = (char *)v[i];
	qsort(c, len, sizeof(*c), cmp_str);
	*n = len;
	return c;
}

bool lab_strv_equal(char *const *got, const char *const *expected, char **why)
{
	size_t ng, ne, i;
	char **g = sorted_copy((const char *const *)got, &ng);
	char **e = sorted_copy(expected, &ne);
	bool equal = ng == ne;

	for (i = 0; equal && i < ne; i++)
		equal = strcmp(g[i], e[i]) == 0;
	if (!equal && why != NULL) {
		char *gs = lab_strv_join(g, ", ");
		char *es = lab_strv_join(e, ", ");
		size_t len = strlen(gs ? gs : "") + strlen(es ? es : "") + 32;

		*why = malloc(len);
		if (*why != NULL)
			snprintf(*why, len, "got [%s], expected [%s]",
				 gs ? gs : "", es ? es : "");
		free(gs);
		free(es);
	}
	free(g);
	free(e);
	return equal;
}

bool lab_has_line(const char *text, const char *line)
{
	size_t llen = strlen(line);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == llen && strncmp(p, line, len) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

char *lab_read_file(const char *path, size_t max, size_t *len)
{
	struct capture c = {.max = max};
	char *buf;
	int r;

	c.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c.fd < 0)
		return NULL;
	while ((r = capture_read(&c)) > 0)
		;
	close(c.fd);
	if (r < 0 || c.truncated) {
		free(c.buf);
		return NULL;
	}
	buf = capture_take(&c, &c.len);
	if (len)
		*len = c.len;
	return buf;
}

int lab_write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

char *lab_mkdtemp(void)
{
	/* Inside the lab dir, `ci/lab down` removes what a failed test left. */
	const char *t = lab_env("IPAM_LAB_DIR");
	size_t len;
	char *p;

	if (t == NULL)
		t = lab_env("TMPDIR");
	if (t == NULL)
		t = "/tmp";
	len = strlen(t) + sizeof("/ipamlab-test.XXXXXX");
	p = malloc(len);
	if (p == NULL)
		return NULL;
	snprintf(p, len, "%s/ipamlab-test.XXXXXX", t);
	if (mkdtemp(p) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

int lab_rm_rf(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t len;
		char *child;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		len = strlen(path) + strlen(de->d_name) + 2;
		child = malloc(len);
		if (child == NULL) {
			rc = -1;
			break;
		}
		snprintf(child, len, "%s/%s", path, de->d_name);
		if (lab_rm_rf(child) < 0)
			rc = -1;
		free(child);
	}
	closedir(d);
	if (rmdir(path) < 0)
		rc = -1;
	return rc;
}
