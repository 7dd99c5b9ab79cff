#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli.h"
#include "config.h"
#include "strbuf.h"

extern char **environ;

int run_cmd(struct run_result *r, const char *cwd, char *const env[],
	    char *const argv[])
{
	int out[2], err[2];
	struct strbuf so = STRBUF_INIT, se = STRBUF_INIT;
	pid_t pid;
	int st, open_fds = 2;

	memset(r, 0, sizeof(*r));
	if (pipe(out) || pipe(err))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		if (cwd && chdir(cwd))
			_exit(127);
		for (; env && *env; env++)
			putenv(*env);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while (open_fds) {
		struct pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
		int i;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			char buf[4096];
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0) {
				strbuf_add(i ? &se : &so, buf, (size_t)n);
			} else {
				close(i ? err[0] : out[0]);
				if (i)
					err[0] = -1;
				else
					out[0] = -1;
				open_fds--;
			}
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = strbuf_detach(&so, NULL);
	r->err = strbuf_detach(&se, NULL);
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

char *tmpdir_make(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/ipamctl-test-XXXXXX",
			      base && *base ? base : "/tmp");

	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

int spawn_bg(char *const argv[], const char *err)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		if (!freopen(err, "w", stderr) ||
		    !freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return (int)pid;
}

double wait_for_text(const char *file, size_t from, const char *text,
		     double secs)
{
	struct timespec t0, t;
	double took;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		size_t n = 0;
		char *s = slurp(file, &n);
		int found = s && n > from && strstr(s + from, text);

		free(s);
		clock_gettime(CLOCK_MONOTONIC, &t);
		took = (double)(t.tv_sec - t0.tv_sec) +
		       (t.tv_nsec - t0.tv_nsec) / 1e9;
		if (found)
			return took;
		if (took >= secs)
			return -1;
		usleep(50000);
	}
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len);
}

int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

const char *fixtures_dir(void)
{
	const char *d = getenv("IPAM_TEST_FIXTURES");

	return d ? d : "tests/fixtures";
}

const char *ipamctl_path(void)
{
	const char *p = getenv("IPAMCTL");

	return p ? p : "ipamctl";
}

struct ipam_desired *desired_from_text(const char *text)
{
	struct ipam_source src = {"d.yaml", text, strlen(text)};
	struct ipam_diags diags = {0};
	struct ipam_desired *d = NULL;

	if (ipam_config_load_sources(&d, &src, 1, &diags))
		cli_print_diags(stderr, &diags);
	ipam_diags_free(&diags);
	return d;
}

char *desired_diags(const char *text, struct ipam_desired **out)
{
	struct ipam_source src = {"v.yaml", text, strlen(text)};
	struct ipam_diags diags = {0};
	struct strbuf sb = STRBUF_INIT;

	ipam_config_load_sources(out, &src, 1, &diags);
	for (size_t i = 0; i < diags.nr; i++) {
		ipam_diag_format(&sb, &diags.items[i]);
		strbuf_addch(&sb, '\n');
	}
	ipam_diags_free(&diags);
	return strbuf_detach(&sb, NULL);
}

void schema_check(const char *schema, const char *json)
{
	static const char script[] =
		"import json, sys, jsonschema\n"
		"s = json.load(open(sys.argv[1]))\n"
		"jsonschema.Draft202012Validator.check_schema(s)\n"
		"jsonschema.Draft202012Validator(s).validate("
		"json.load(open(sys.argv[2])))\n";
	char *dir = tmpdir_make();
	char *path = xasprintf("%s/out.json", dir);
	char *file = xasprintf("%s/../../schemas/%s", fixtures_dir(), schema);
	char *argv[] = {
		"/usr/bin/python3", "-c", (char *)script, file, path, NULL};
	struct run_result rr;

	assert_int_equal(write_file(path, json), 0);
	assert_int_equal(run_cmd(&rr, NULL, NULL, argv), 0);
	if (rr.status != 0)
		fail_msg("fails schemas/%s:\n%s\n%s", schema, rr.err, json);
	run_result_free(&rr);
	tmpdir_remove(dir);
	free(path);
	free(file);
}
