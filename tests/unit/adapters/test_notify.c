/*
 * The notification adapter against a real HTTP receiver on loopback: a
 * forked child listens on 127.0.0.1 (an ephemeral port), keeps every
 * request it gets as a file, and answers from a script (status codes,
 * delays, a redirect).  Signatures are checked with Python's hmac module,
 * bodies with the JSON adapter.
 */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "node.h"
#include "notify.h"
#include "strbuf.h"
#include "testutil.h"

/* --- the receiver ---------------------------------------------------- */

struct step {
	int status;
	int delay_ms; /* before answering */
};

struct receiver {
	pid_t pid;
	int port;
	char *dir; /* req-1, req-2, ...: the requests as received */
};

#define MAX_REQUEST (256 * 1024)

static void child_sleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One request, headers and Content-Length body, into sb; -1 on error. */
static int read_request(int fd, struct strbuf *sb)
{
	char buf[4096];
	const char *end = NULL;
	size_t want = 0;
	ssize_t r;

	while (sb->len < MAX_REQUEST) {
		if (!end) {
			end = strstr(sb->buf, "\r\n\r\n");
			if (end) {
				const char *cl = strcasestr(
					sb->buf, "\r\nContent-Length:");
				size_t head = (size_t)(end - sb->buf) + 4;

				want = head;
				if (cl && cl < end)
					want += strtoul(cl + 17, NULL, 10);
			}
		}
		if (end && sb->len >= want)
			return 0;
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		strbuf_add(sb, buf, (size_t)r);
		end = NULL;
	}
	return -1;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static void serve(int lfd, const char *dir, const struct step *steps,
		  size_t nsteps)
{
	struct timeval tv = {5, 0};
	int n;

	signal(SIGPIPE, SIG_IGN);
	for (n = 1;; n++) {
		size_t i = (size_t)n <= nsteps ? (size_t)n - 1 : nsteps - 1;
		const struct step *s = &steps[i];
		struct strbuf req = STRBUF_INIT, path = STRBUF_INIT;
		struct strbuf tmp = STRBUF_INIT, resp = STRBUF_INIT;
		int fd = accept(lfd, NULL, NULL);
		int out;

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (read_request(fd, &req)) {
			close(fd);
			n--;
			continue;
		}
		/* Written whole, then renamed: the test never sees half. */
		strbuf_addf(&tmp, "%s/tmp", dir);
		strbuf_addf(&path, "%s/req-%d", dir, n);
		out = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (out >= 0) {
			write_all(out, req.buf, req.len);
			close(out);
			rename(tmp.buf, path.buf);
		}
		if (s->delay_ms)
			child_sleep(s->delay_ms);
		strbuf_addf(&resp,
			    "HTTP/1.1 %d Scripted\r\n"
			    "Content-Type: text/plain\r\n"
			    "Content-Length: 2\r\n",
			    s->status);
		if (s->status >= 300 && s->status < 400)
			strbuf_addf(&resp,
				    "Location: http://127.0.0.1:1/x\r\n");
		strbuf_addstr(&resp, "Connection: close\r\n\r\nok");
		write_all(fd, resp.buf, resp.len);
		close(fd);
		strbuf_release(&resp);
		strbuf_release(&tmp);
		strbuf_release(&path);
		strbuf_release(&req);
	}
}

/* A socket listening on 127.0.0.1, on a port the kernel picks. */
static int listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return lfd;
}

/* Start a receiver answering with steps (the last one repeats). */
static void receiver_start(struct receiver *rv, const struct step *steps,
			   size_t nsteps)
{
	int lfd;

	memset(rv, 0, sizeof(*rv));
	rv->dir = tmpdir_make();
	assert_non_null(rv->dir);
	lfd = listen_loopback(&rv->port);
	fflush(NULL);
	rv->pid = fork();
	assert_true(rv->pid >= 0);
	if (rv->pid == 0) {
		serve(lfd, rv->dir, steps, nsteps);
		_exit(0);
	}
	close(lfd);
}

/*
 * A self-signed certificate for IP 127.0.0.1 only (not "localhost"),
 * valid 2000 to 2100, and its key: made once with openssl, for the HTTPS
 * receiver below and nothing else.
 */
static const char test_cert[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBdjCCARugAwIBAgICEAAwCgYIKoZIzj0EAwIwIDEeMBwGA1UEAwwVaXBhbWN0\n"
	"bCB0ZXN0IHJlY2VpdmVyMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAw\n"
	"WjAgMR4wHAYDVQQDDBVpcGFtY3RsIHRlc3QgcmVjZWl2ZXIwWTATBgcqhkjOPQIB\n"
	"BggqhkjOPQMBBwNCAAQlpgV4vH8sZV6e4fPELIae5MLiE/SUmytDVMQ55mOVNT5p\n"
	"OUqAhmf9L8uViL0un1mtzd9BJ0bgSz3WboGR5Azuo0MwQTAPBgNVHREECDAGhwR/\n"
	"AAABMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFATSrEzm8Dv6u2mzFy5UfEpi\n"
	"7432MAoGCCqGSM49BAMCA0kAMEYCIQCyHACGwFV7io7EqLYTmI1HczLiV/UFsxGX\n"
	"+pC13A+nbQIhAIMm3Ezxr1SHsf+hv5J/C4EcDR8ohlzrrFVCL3gmTfF3\n"
	"-----END CERTIFICATE-----\n";
static const char test_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg88mWuHa75tiVgDtz\n"
	"2dihlShByZzYv9GWJCsCirQa4iuhRANCAAQlpgV4vH8sZV6e4fPELIae5MLiE/SU\n"
	"mytDVMQ55mOVNT5pOUqAhmf9L8uViL0un1mtzd9BJ0bgSz3WboGR5Azu\n"
	"-----END PRIVATE KEY-----\n";

/* The TLS side is Python's ssl module, on the socket the test made
 * (fd 3); it keeps requests as the plain receiver does and answers 200. */
static const char tls_server_py[] =
	"import os, socket, ssl, sys\n"
	"cert, key, out = sys.argv[1:4]\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(cert, key)\n"
	"ls = socket.socket(fileno=3)\n"
	"n = 0\n"
	"while True:\n"
	"    c, _ = ls.accept()\n"
	"    try:\n"
	"        c.settimeout(5)\n"
	"        s = ctx.wrap_socket(c, server_side=True)\n"
	"        data = b''\n"
	"        while b'\\r\\n\\r\\n' not in data:\n"
	"            d = s.recv(65536)\n"
	"            if not d:\n"
	"                raise EOFError\n"
	"            data += d\n"
	"        head, _, body = data.partition(b'\\r\\n\\r\\n')\n"
	"        want = 0\n"
	"        for line in head.split(b'\\r\\n')[1:]:\n"
	"            k, _, v = line.partition(b':')\n"
	"            if k.strip().lower() == b'content-length':\n"
	"                want = int(v)\n"
	"        while len(body) < want:\n"
	"            d = s.recv(65536)\n"
	"            if not d:\n"
	"                raise EOFError\n"
	"            body += d\n"
	"        n += 1\n"
	"        with open(out + '/tmp', 'wb') as f:\n"
	"            f.write(head + b'\\r\\n\\r\\n' + body)\n"
	"        os.rename(out + '/tmp', out + '/req-%d' % n)\n"
	"        s.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n'\n"
	"                  b'Connection: close\\r\\n\\r\\nok')\n"
	"        s.close()\n"
	"    except Exception:\n"
	"        c.close()\n";

/* An HTTPS receiver answering 200; *ca is the file of its certificate. */
static void receiver_start_tls(struct receiver *rv, char **ca)
{
	char *key;
	int lfd;

	memset(rv, 0, sizeof(*rv));
	rv->dir = tmpdir_make();
	assert_non_null(rv->dir);
	*ca = xasprintf("%s/ca.pem", rv->dir);
	key = xasprintf("%s/key.pem", rv->dir);
	assert_int_equal(write_file(*ca, test_cert), 0);
	assert_int_equal(write_file(key, test_key), 0);
	lfd = listen_loopback(&rv->port);
	fflush(NULL);
	rv->pid = fork();
	assert_true(rv->pid >= 0);
	if (rv->pid == 0) {
		/* dup2 onto itself would keep close-on-exec. */
		if (lfd == 3 ? fcntl(lfd, F_SETFD, 0) < 0 : dup2(lfd, 3) < 0)
			_exit(127);
		execl("/usr/bin/python3", "python3", "-c", tls_server_py, *ca,
		      key, rv->dir, (char *)NULL);
		_exit(127);
	}
	close(lfd);
	free(key);
}

static void receiver_stop(struct receiver *rv)
{
	int st;

	kill(rv->pid, SIGKILL);
	while (waitpid(rv->pid, &st, 0) < 0 && errno == EINTR)
		;
	tmpdir_remove(rv->dir);
	rv->dir = NULL;
}

static char *receiver_url(const struct receiver *rv, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", rv->port, path);
}

/* Number of requests received so far. */
static int receiver_count(const struct receiver *rv)
{
	struct strbuf p = STRBUF_INIT;
	int n;

	for (n = 0;; n++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/req-%d", rv->dir, n + 1);
		if (access(p.buf, F_OK))
			break;
	}
	strbuf_release(&p);
	return n;
}

struct request {
	char *raw;
	size_t len;
	char *method, *target; /* request line */
	char *head;	       /* header lines, each ending "\r\n" */
	const char *body;
	size_t body_len;
};

static void request_load(struct request *r, const struct receiver *rv, int n)
{
	struct strbuf p = STRBUF_INIT;
	char *end, *sp1, *sp2, *eol;

	memset(r, 0, sizeof(*r));
	strbuf_addf(&p, "%s/req-%d", rv->dir, n);
	r->raw = slurp(p.buf, &r->len);
	strbuf_release(&p);
	assert_non_null(r->raw);
	end = strstr(r->raw, "\r\n\r\n");
	assert_non_null(end);
	r->body = end + 4;
	r->body_len = r->len - (size_t)(r->body - r->raw);
	eol = strstr(r->raw, "\r\n");
	sp1 = memchr(r->raw, ' ', (size_t)(eol - r->raw));
	assert_non_null(sp1);
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	assert_non_null(sp2);
	r->method = xstrndup(r->raw, (size_t)(sp1 - r->raw));
	r->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	r->head = xstrndup(eol + 2, (size_t)(end + 2 - (eol + 2)));
}

static void request_free(struct request *r)
{
	free(r->raw);
	free(r->method);
	free(r->target);
	free(r->head);
}

/* The value of header name (case-insensitive), malloc'd, or NULL. */
static char *request_header(const struct request *r, const char *name)
{
	const char *line = r->head;
	size_t nl = strlen(name);

	while (*line) {
		const char *eol = strstr(line, "\r\n");

		if (!strncasecmp(line, name, nl) && line[nl] == ':') {
			const char *v = line + nl + 1;

			while (*v == ' ')
				v++;
			return xstrndup(v, (size_t)(eol - v));
		}
		line = eol + 2;
	}
	return NULL;
}

static void assert_header(const struct request *r, const char *name,
			  const char *expect)
{
	char *v = request_header(r, name);

	if (!v)
		fail_msg("no %s header", name);
	assert_string_equal(v, expect);
	free(v);
}

/* --- helpers --------------------------------------------------------- */

static const struct ipam_node *map_get(const struct ipam_node *map,
				       const char *key)
{
	size_t i;

	assert_int_equal(map->kind, IPAM_NODE_MAP);
	for (i = 0; i < map->nr; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->items[i];
	return NULL;
}

static void assert_str_field(const struct ipam_node *map, const char *key,
			     const char *expect)
{
	const struct ipam_node *v = map_get(map, key);

	if (!v)
		fail_msg("no '%s' in the body", key);
	assert_int_equal(v->kind, IPAM_NODE_STR);
	assert_string_equal(v->str, expect);
}

static struct ipam_node *parse_body(const char *buf, size_t len)
{
	struct ipam_node *n = NULL;

	if (ipam_json_parse(&n, "body", buf, len))
		fail_msg("body is not JSON: %s", ipam_error_last());
	assert_int_equal(n->kind, IPAM_NODE_MAP);
	return n;
}

/* HMAC-SHA256 of the request body under key, computed by Python. */
static char *python_hmac(const char *key, const struct request *r)
{
	char *dir = tmpdir_make(), *file, *env, *hex;
	char *argv[] = {
		"/usr/bin/python3", "-c",
		"import hashlib, hmac, os, sys\n"
		"body = open(sys.argv[1], 'rb').read()\n"
		"key = os.environb[b'HMAC_KEY']\n"
		"print(hmac.new(key, body, hashlib.sha256).hexdigest())",
		NULL, NULL};
	struct run_result res;
	FILE *f;

	assert_non_null(dir);
	file = xasprintf("%s/body", dir);
	f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(r->body, 1, r->body_len, f), r->body_len);
	fclose(f);
	env = xasprintf("HMAC_KEY=%s", key);
	{
		char *envv[] = {env, NULL};

		argv[3] = file;
		assert_int_equal(run_cmd(&res, NULL, envv, argv), 0);
	}
	if (res.status)
		fail_msg("python3: %s", res.err);
	hex = xstrndup(res.out, strcspn(res.out, "\n"));
	run_result_free(&res);
	free(env);
	free(file);
	tmpdir_remove(dir);
	return hex;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* stderr into a file while notifications run, to check what is logged. */
struct capture {
	int saved;
	char *dir, *path;
};

static void capture_start(struct capture *c)
{
	int fd;

	c->dir = tmpdir_make();
	assert_non_null(c->dir);
	c->path = xasprintf("%s/stderr", c->dir);
	fflush(stderr);
	c->saved = dup(2);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0 && c->saved >= 0);
	dup2(fd, 2);
	close(fd);
	ipam_log_set_level(IPAM_LOG_DEBUG);
}

static char *capture_stop(struct capture *c)
{
	char *text;

	ipam_log_set_level(IPAM_LOG_NOTICE);
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	text = slurp(c->path, NULL);
	assert_non_null(text);
	/* Show it, for whoever reads the test output. */
	fputs(text, stderr);
	free(c->path);
	tmpdir_remove(c->dir);
	return text;
}

static struct ipam_hook hook(enum ipam_hook_kind kind, const char *url)
{
	struct ipam_hook h;

	ipam_notify_hook_init(&h);
	h.kind = kind;
	h.url = url;
	return h;
}

static const struct ipam_notice drift_notice = {
	.event = IPAM_EVENT_DRIFT,
	.summary = "2 drifted: IPAM1_DNS unlinked",
	.commit = "0123456789abcdef0123456789abcdef01234567",
	.run = "42",
};

/* --- events and URLs ------------------------------------------------- */

static void test_event_names(void **state)
{
	enum ipam_event e, back;

	(void)state;
	for (e = 0; e < IPAM_EVENT_NR; e++) {
		assert_non_null(ipam_event_name(e));
		assert_int_equal(ipam_event_parse(ipam_event_name(e), &back),
				 0);
		assert_int_equal(back, e);
	}
	assert_string_equal(ipam_event_name(IPAM_EVENT_DRIFT), "drift");
	assert_string_equal(ipam_event_name(IPAM_EVENT_APPLY_FAILED),
			    "apply_failed");
	assert_string_equal(ipam_event_name(IPAM_EVENT_SOURCE_INVALID),
			    "source_invalid");
	assert_int_not_equal(ipam_event_parse("drifts", &back), 0);
	/* One bit per event, as hooks ask for them. */
	assert_int_equal(IPAM_EVENT_ALL, 0xff);
	assert_int_equal(IPAM_EVENT_BIT(IPAM_EVENT_REFUSED), 0x08);
}

static void url_ok(const char *url, const char *redacted)
{
	struct strbuf sb = STRBUF_INIT;

	if (ipam_notify_url_check(&sb, url))
		fail_msg("%s: %s", url, ipam_error_last());
	assert_string_equal(sb.buf, redacted);
	strbuf_release(&sb);
}

static void url_refused(const char *url, const char *msg)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_error_clear();
	if (ipam_notify_url_check(&sb, url) != IPAM_EINVAL)
		fail_msg("'%s' accepted as %s", url, sb.buf);
	if (!strstr(ipam_error_last(), msg))
		fail_msg("'%s': '%s' has no '%s'", url, ipam_error_last(), msg);
	/* The message never quotes the URL, which may hold a token. */
	assert_null(strstr(ipam_error_last(), "T0KEN"));
	strbuf_release(&sb);
}

static void test_url_check(void **state)
{
	(void)state;
	url_ok("https://hooks.slack.com/services/T0/B0/T0KEN",
	       "https://hooks.slack.com");
	url_ok("http://127.0.0.1:8080/hook?token=T0KEN#frag",
	       "http://127.0.0.1:8080");
	url_ok("https://user:T0KEN@example.com/x", "https://example.com");
	url_ok("HTTPS://Example.COM/x", "https://Example.COM");
	url_ok("https://[::1]:8443/x", "https://[::1]:8443");
	url_refused("ftp://example.com/T0KEN", "scheme 'ftp' is not allowed");
	url_refused("file:///etc/T0KEN", "scheme 'file' is not allowed");
	url_refused("example.com/T0KEN", "(http or https only)");
	url_refused("gopher+x://example.com/T0KEN", "(http or https only)");
	url_refused("https://:443/T0KEN", "webhook URL: No host");
	url_refused("https://exa mple.com/T0KEN", "webhook URL: Bad hostname");
	url_refused("https://example.com/T0\nKEN", "webhook URL");
	url_refused("", "no webhook URL");
}

/* --- rendering ------------------------------------------------------- */

static void test_render_generic(void **state)
{
	struct ipam_hook h = hook(IPAM_HOOK_GENERIC, "http://x/");
	struct ipam_node *details = ipam_node_new(IPAM_NODE_MAP), *body;
	struct strbuf sb = STRBUF_INIT, ct = STRBUF_INIT;
	struct ipam_notice n = {
		.event = IPAM_EVENT_APPLIED,
		.summary = "applied 3 \"changes\"\n\ttab <&>",
	};
	const struct ipam_node *v;

	(void)state;
	ipam_node_set_str(details, "domain", "corp.example.test");
	ipam_node_set(details, "actions", ipam_node_int(3));
	n.details = details;
	assert_int_equal(ipam_notify_render(&sb, &ct, &h, &n), 0);
	assert_string_equal(ct.buf, "application/json");
	body = parse_body(sb.buf, sb.len);
	assert_str_field(body, "event", "applied");
	assert_str_field(body, "summary", n.summary);
	assert_int_equal(map_get(body, "commit")->kind, IPAM_NODE_NULL);
	assert_int_equal(map_get(body, "run")->kind, IPAM_NODE_NULL);
	v = map_get(body, "details");
	assert_non_null(v);
	assert_str_field(v, "domain", "corp.example.test");
	assert_int_equal(map_get(v, "actions")->num, 3);
	v = map_get(body, "sent_at");
	assert_non_null(v);
	assert_int_equal(v->len, 20);
	assert_true(v->str[4] == '-' && v->str[10] == 'T' && v->str[19] == 'Z');
	ipam_node_free(body);

	/* No details: an empty object, so receivers see one type. */
	n.details = NULL;
	strbuf_reset(&sb);
	assert_int_equal(ipam_notify_render(&sb, &ct, &h, &n), 0);
	body = parse_body(sb.buf, sb.len);
	v = map_get(body, "details");
	assert_int_equal(v->kind, IPAM_NODE_MAP);
	assert_int_equal(v->nr, 0);
	ipam_node_free(body);

	/* Details must be an object. */
	n.details = map_get(details, "domain");
	assert_int_equal(ipam_notify_render(&sb, &ct, &h, &n), IPAM_EINVAL);
	ipam_node_free(details);
	strbuf_release(&ct);
	strbuf_release(&sb);
}

static void test_render_slack(void **state)
{
	struct ipam_hook h = hook(IPAM_HOOK_SLACK, "http://x/");
	struct strbuf sb = STRBUF_INIT, ct = STRBUF_INIT;
	struct ipam_notice n = {
		.event = IPAM_EVENT_REFUSED,
		.summary = "plan would delete <IPAM1_DHCP> & \"more\" \\ \x01",
		.run = "run <7>",
	};
	struct ipam_node *body;

	(void)state;
	assert_int_equal(ipam_notify_render(&sb, &ct, &h, &n), 0);
	/* JSON escapes made by the JSON adapter, not by hand. */
	assert_non_null(strstr(sb.buf, "\\\"more\\\" \\\\ \\u0001"));
	body = parse_body(sb.buf, sb.len);
	assert_int_equal(body->nr, 1);
	assert_str_field(body, "text",
			 "*ipamctl: plan refused by a safety rule*\n"
			 "plan would delete &lt;IPAM1_DHCP&gt; &amp; "
			 "\"more\" \\ \x01\n"
			 "run run &lt;7&gt;");
	ipam_node_free(body);
	strbuf_release(&ct);
	strbuf_release(&sb);
}

static void test_render_teams(void **state)
{
	struct ipam_hook h = hook(IPAM_HOOK_TEAMS, "http://x/");
	struct strbuf sb = STRBUF_INIT, ct = STRBUF_INIT;
	struct ipam_node *body;

	(void)state;
	assert_int_equal(ipam_notify_render(&sb, &ct, &h, &drift_notice), 0);
	body = parse_body(sb.buf, sb.len);
	assert_str_field(body, "@type", "MessageCard");
	assert_str_field(body, "@context", "https://schema.org/extensions");
	assert_str_field(body, "title", "ipamctl: drift found");
	assert_str_field(body, "summary", "ipamctl: drift found");
	assert_str_field(body, "text",
			 "2 drifted: IPAM1_DNS unlinked\n\n"
			 "commit 0123456789abcdef0123456789abcdef01234567, "
			 "run 42");
	assert_non_null(map_get(body, "themeColor"));
	ipam_node_free(body);
	strbuf_release(&ct);
	strbuf_release(&sb);
}

/* The commit's author and subject: beside commit in the generic payload
 * (commit itself unchanged), after the commit in Slack's text. */
static void test_render_commit_author(void **state)
{
	struct ipam_hook g = hook(IPAM_HOOK_GENERIC, "http://x/");
	struct ipam_hook sl = hook(IPAM_HOOK_SLACK, "http://x/");
	struct strbuf sb = STRBUF_INIT, ct = STRBUF_INIT;
	struct ipam_notice n = drift_notice;
	struct ipam_node *body;

	(void)state;
	n.author = "Ann Example <ann@example.test>";
	n.subject = "make dhcp1 managed <now>";
	assert_int_equal(ipam_notify_render(&sb, &ct, &g, &n), 0);
	body = parse_body(sb.buf, sb.len);
	assert_str_field(body, "commit", drift_notice.commit);
	assert_str_field(body, "commit_author", n.author);
	assert_str_field(body, "commit_subject", n.subject);
	assert_int_equal(body->nr, 8);
	ipam_node_free(body);
	strbuf_reset(&sb);
	assert_int_equal(ipam_notify_render(&sb, &ct, &sl, &n), 0);
	body = parse_body(sb.buf, sb.len);
	assert_str_field(body, "text",
			 "*ipamctl: drift found*\n"
			 "2 drifted: IPAM1_DNS unlinked\n"
			 "commit 0123456789abcdef0123456789abcdef01234567 "
			 "(make dhcp1 managed &lt;now&gt;), run 42");
	ipam_node_free(body);
	/* unknown: null, as commit is */
	strbuf_reset(&sb);
	assert_int_equal(ipam_notify_render(&sb, &ct, &g, &drift_notice), 0);
	body = parse_body(sb.buf, sb.len);
	assert_int_equal(map_get(body, "commit_author")->kind, IPAM_NODE_NULL);
	assert_int_equal(map_get(body, "commit_subject")->kind, IPAM_NODE_NULL);
	ipam_node_free(body);
	strbuf_release(&ct);
	strbuf_release(&sb);
}

/* --- delivery -------------------------------------------------------- */

static void test_generic_signed_env(void **state)
{
	static const struct step ok[] = {{200, 0}};
	struct receiver rv;
	struct request r;
	struct ipam_hook h;
	struct ipam_node *body;
	struct capture cap;
	char *url, *sig, *hex, *want, *log;

	(void)state;
	setenv("IPAM_TEST_HOOK_SECRET", "s3cr3t-k\xc3\xa9y", 1);
	receiver_start(&rv, ok, 1);
	url = receiver_url(&rv, "/hooks/ipam?x=1");
	h = hook(IPAM_HOOK_GENERIC, url);
	h.secret_env = "IPAM_TEST_HOOK_SECRET";
	capture_start(&cap);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	log = capture_stop(&cap);
	assert_int_equal(receiver_count(&rv), 1);

	request_load(&r, &rv, 1);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.target, "/hooks/ipam?x=1");
	assert_header(&r, "Content-Type", "application/json");
	assert_header(&r, "X-Ipamctl-Event", "drift");
	assert_header(&r, "User-Agent", "ipamctl/" IPAM_VERSION);
	assert_null(request_header(&r, "Expect"));
	sig = request_header(&r, "X-Ipamctl-Signature-256");
	assert_non_null(sig);
	hex = python_hmac("s3cr3t-k\xc3\xa9y", &r);
	want = xasprintf("sha256=%s", hex);
	assert_string_equal(sig, want);

	body = parse_body(r.body, r.body_len);
	assert_str_field(body, "event", "drift");
	assert_str_field(body, "summary", drift_notice.summary);
	assert_str_field(body, "commit", drift_notice.commit);
	assert_str_field(body, "run", "42");
	assert_int_equal(map_get(body, "details")->kind, IPAM_NODE_MAP);
	assert_non_null(map_get(body, "sent_at"));

	/* Logged by scheme and host, never with the secret. */
	assert_non_null(strstr(log, "sent to generic hook http://127.0.0.1:"));
	assert_null(strstr(log, "s3cr3t"));
	assert_null(strstr(log, "/hooks/ipam"));

	ipam_node_free(body);
	free(log);
	free(want);
	free(hex);
	free(sig);
	request_free(&r);
	free(url);
	receiver_stop(&rv);
	unsetenv("IPAM_TEST_HOOK_SECRET");
}

static void test_generic_secret_file(void **state)
{
	static const struct step ok[] = {{204, 0}};
	struct receiver rv;
	struct request r;
	struct ipam_hook h;
	char *dir = tmpdir_make(), *file, *url, *sig, *hex, *want;

	(void)state;
	assert_non_null(dir);
	file = xasprintf("%s/hook.secret", dir);
	/* The trailing newline an editor leaves is not part of the key. */
	assert_int_equal(write_file(file, "file-secret\n"), 0);
	chmod(file, 0600);
	receiver_start(&rv, ok, 1);
	url = receiver_url(&rv, "/");
	h = hook(IPAM_HOOK_GENERIC, url);
	h.secret_file = file;
	h.secret_env = "IPAM_TEST_NOT_USED";
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	assert_int_equal(receiver_count(&rv), 1);
	request_load(&r, &rv, 1);
	sig = request_header(&r, "X-Ipamctl-Signature-256");
	hex = python_hmac("file-secret", &r);
	want = xasprintf("sha256=%s", hex);
	assert_string_equal(sig, want);

	free(want);
	free(hex);
	free(sig);
	request_free(&r);
	free(url);
	receiver_stop(&rv);
	free(file);
	tmpdir_remove(dir);
}

static void test_generic_without_secret(void **state)
{
	static const struct step ok[] = {{200, 0}};
	struct receiver rv;
	struct ipam_hook h[2];
	struct capture cap;
	char *url, *log;

	(void)state;
	unsetenv("IPAM_TEST_UNSET_SECRET");
	receiver_start(&rv, ok, 1);
	url = receiver_url(&rv, "/");
	h[0] = hook(IPAM_HOOK_GENERIC, url); /* no secret named */
	h[1] = hook(IPAM_HOOK_GENERIC, url);
	h[1].secret_env = "IPAM_TEST_UNSET_SECRET";
	capture_start(&cap);
	assert_int_equal(ipam_notify(h, 2, &drift_notice), 2);
	log = capture_stop(&cap);
	/* Never sent unsigned. */
	assert_int_equal(receiver_count(&rv), 0);
	assert_non_null(strstr(log, "no secret to sign with"));
	assert_non_null(strstr(log, "IPAM_TEST_UNSET_SECRET"));
	free(log);
	free(url);
	receiver_stop(&rv);
}

static void test_slack_url_from_secret(void **state)
{
	static const struct step ok[] = {{200, 0}};
	struct receiver rv;
	struct request r;
	struct ipam_hook h;
	struct ipam_node *body;
	struct capture cap;
	char *url, *log;

	(void)state;
	receiver_start(&rv, ok, 1);
	url = receiver_url(&rv, "/services/T000/B000/XXXXTOKEN");
	setenv("IPAM_TEST_SLACK_URL", url, 1);
	h = hook(IPAM_HOOK_SLACK, NULL);
	h.secret_env = "IPAM_TEST_SLACK_URL";
	capture_start(&cap);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	log = capture_stop(&cap);
	assert_int_equal(receiver_count(&rv), 1);
	request_load(&r, &rv, 1);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.target, "/services/T000/B000/XXXXTOKEN");
	assert_header(&r, "Content-Type", "application/json");
	assert_null(request_header(&r, "X-Ipamctl-Signature-256"));
	body = parse_body(r.body, r.body_len);
	assert_str_field(body, "text",
			 "*ipamctl: drift found*\n"
			 "2 drifted: IPAM1_DNS unlinked\n"
			 "commit 0123456789abcdef0123456789abcdef01234567, "
			 "run 42");
	assert_null(strstr(log, "XXXXTOKEN"));
	assert_non_null(strstr(log, "sent to slack hook http://127.0.0.1:"));
	ipam_node_free(body);
	request_free(&r);
	free(log);
	unsetenv("IPAM_TEST_SLACK_URL");
	free(url);
	receiver_stop(&rv);
}

static void test_teams_delivered(void **state)
{
	static const struct step ok[] = {{200, 0}};
	struct receiver rv;
	struct request r;
	struct ipam_hook h;
	struct ipam_node *body;
	char *url;

	(void)state;
	receiver_start(&rv, ok, 1);
	url = receiver_url(&rv, "/webhookb2/abc");
	h = hook(IPAM_HOOK_TEAMS, url);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	assert_int_equal(receiver_count(&rv), 1);
	request_load(&r, &rv, 1);
	assert_string_equal(r.target, "/webhookb2/abc");
	body = parse_body(r.body, r.body_len);
	assert_str_field(body, "@type", "MessageCard");
	assert_str_field(body, "title", "ipamctl: drift found");
	ipam_node_free(body);
	request_free(&r);
	free(url);
	receiver_stop(&rv);
}

static void test_event_filter(void **state)
{
	static const struct step ok[] = {{200, 0}};
	struct receiver rv;
	struct request r;
	struct ipam_hook h[3];
	struct ipam_notice n = drift_notice;
	char *url_drift, *url_applied, *url_none;

	(void)state;
	receiver_start(&rv, ok, 1);
	url_drift = receiver_url(&rv, "/drift");
	url_applied = receiver_url(&rv, "/applied");
	url_none = receiver_url(&rv, "/none");
	h[0] = hook(IPAM_HOOK_TEAMS, url_applied);
	h[0].events = IPAM_EVENT_BIT(IPAM_EVENT_APPLIED) |
		      IPAM_EVENT_BIT(IPAM_EVENT_APPLY_FAILED);
	h[1] = hook(IPAM_HOOK_TEAMS, url_drift);
	h[1].events = IPAM_EVENT_BIT(IPAM_EVENT_DRIFT);
	h[2] = hook(IPAM_HOOK_TEAMS, url_none);
	h[2].events = 0;

	assert_int_equal(ipam_notify(h, 3, &n), 0);
	assert_int_equal(receiver_count(&rv), 1);
	request_load(&r, &rv, 1);
	assert_string_equal(r.target, "/drift");
	request_free(&r);

	n.event = IPAM_EVENT_APPLY_FAILED;
	assert_int_equal(ipam_notify(h, 3, &n), 0);
	assert_int_equal(receiver_count(&rv), 2);
	request_load(&r, &rv, 2);
	assert_string_equal(r.target, "/applied");
	request_free(&r);

	n.event = IPAM_EVENT_SOURCE_INVALID;
	assert_int_equal(ipam_notify(h, 3, &n), 0);
	assert_int_equal(receiver_count(&rv), 2);

	free(url_none);
	free(url_applied);
	free(url_drift);
	receiver_stop(&rv);
}

static void test_retry_until_delivered(void **state)
{
	static const struct step steps[] = {{500, 0}, {500, 0}, {200, 0}};
	struct receiver rv;
	struct request r1, r3;
	struct ipam_hook h;
	char *url, *s1, *s3;
	double t0, dt;

	(void)state;
	setenv("IPAM_TEST_HOOK_SECRET", "k", 1);
	receiver_start(&rv, steps, 3);
	url = receiver_url(&rv, "/");
	h = hook(IPAM_HOOK_GENERIC, url);
	h.secret_env = "IPAM_TEST_HOOK_SECRET";
	t0 = now_s();
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	dt = now_s() - t0;
	assert_int_equal(receiver_count(&rv), 3);
	/* Backoff 0.5 s then 1 s. */
	assert_true(dt >= 1.4);
	assert_true(dt < 5.0);
	/* The same body and signature each time: receivers can dedupe. */
	request_load(&r1, &rv, 1);
	request_load(&r3, &rv, 3);
	assert_int_equal(r1.body_len, r3.body_len);
	assert_memory_equal(r1.body, r3.body, r1.body_len);
	s1 = request_header(&r1, "X-Ipamctl-Signature-256");
	s3 = request_header(&r3, "X-Ipamctl-Signature-256");
	assert_string_equal(s1, s3);
	free(s3);
	free(s1);
	request_free(&r3);
	request_free(&r1);
	free(url);
	receiver_stop(&rv);
	unsetenv("IPAM_TEST_HOOK_SECRET");
}

static void test_retry_429_503(void **state)
{
	static const struct step steps[] = {{429, 0}, {503, 0}, {201, 0}};
	struct receiver rv;
	struct ipam_hook h;
	char *url;

	(void)state;
	receiver_start(&rv, steps, 3);
	url = receiver_url(&rv, "/");
	h = hook(IPAM_HOOK_SLACK, url);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	assert_int_equal(receiver_count(&rv), 3);
	free(url);
	receiver_stop(&rv);
}

static void test_retries_exhausted(void **state)
{
	static const struct step steps[] = {{502, 0}};
	struct receiver rv;
	struct ipam_hook h;
	struct capture cap;
	char *url, *log;

	(void)state;
	receiver_start(&rv, steps, 1);
	url = receiver_url(&rv, "/");
	h = hook(IPAM_HOOK_SLACK, url);
	h.retries = 1;
	capture_start(&cap);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 1);
	log = capture_stop(&cap);
	assert_int_equal(receiver_count(&rv), 2);
	assert_non_null(strstr(log, "failed after 2 attempts: HTTP 502"));
	free(log);
	free(url);
	receiver_stop(&rv);
}

static void test_4xx_not_retried(void **state)
{
	static const struct step steps[] = {{404, 0}, {200, 0}};
	struct receiver rv;
	struct ipam_hook h[2];
	struct capture cap;
	char *url, *url2, *log;

	(void)state;
	receiver_start(&rv, steps, 2);
	url = receiver_url(&rv, "/services/T/B/SECRETPATH");
	url2 = receiver_url(&rv, "/second");
	h[0] = hook(IPAM_HOOK_SLACK, url);
	h[1] = hook(IPAM_HOOK_TEAMS, url2);
	capture_start(&cap);
	/* The first hook fails for good; the second is still served. */
	assert_int_equal(ipam_notify(h, 2, &drift_notice), 1);
	log = capture_stop(&cap);
	assert_int_equal(receiver_count(&rv), 2);
	assert_non_null(strstr(log, "failed after 1 attempt: HTTP 404"));
	assert_null(strstr(log, "SECRETPATH"));
	free(log);
	free(url2);
	free(url);
	receiver_stop(&rv);
}

static void test_redirect_not_followed(void **state)
{
	static const struct step steps[] = {{302, 0}};
	struct receiver rv;
	struct ipam_hook h;
	struct capture cap;
	char *url, *log;

	(void)state;
	receiver_start(&rv, steps, 1);
	url = receiver_url(&rv, "/");
	h = hook(IPAM_HOOK_TEAMS, url);
	capture_start(&cap);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 1);
	log = capture_stop(&cap);
	assert_int_equal(receiver_count(&rv), 1);
	assert_non_null(strstr(log, "redirects are not followed"));
	free(log);
	free(url);
	receiver_stop(&rv);
}

static void test_timeout_bounded(void **state)
{
	static const struct step steps[] = {{200, 3000}};
	struct receiver rv;
	struct ipam_hook h;
	struct capture cap;
	char *url, *log;
	double t0, dt;

	(void)state;
	receiver_start(&rv, steps, 1);
	url = receiver_url(&rv, "/slow");
	h = hook(IPAM_HOOK_TEAMS, url);
	h.timeout_ms = 300;
	h.retries = 1;
	capture_start(&cap);
	t0 = now_s();
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 1);
	dt = now_s() - t0;
	log = capture_stop(&cap);
	/* Two attempts of 0.3 s and a backoff of 0.5 s, well under the 3 s
	 * the receiver takes. */
	assert_true(dt >= 1.0);
	assert_true(dt < 2.5);
	assert_true(receiver_count(&rv) >= 1);
	assert_non_null(strstr(log, "failed after 2 attempts: "));
	free(log);
	free(url);
	receiver_stop(&rv);
}

/* Hooks are served at once: three slow ones cost the time of one, and a
 * quick one among them is delivered meanwhile. */
static void test_hooks_concurrent(void **state)
{
	static const struct step slow[] = {{200, 3000}}, ok[] = {{200, 0}};
	struct receiver rv[4];
	struct ipam_hook h[4];
	char *url[4], *log;
	struct capture cap;
	double t0, dt;

	(void)state;
	for (int i = 0; i < 4; i++) {
		receiver_start(&rv[i], i < 3 ? slow : ok, 1);
		url[i] = receiver_url(&rv[i], "/hook");
		h[i] = hook(IPAM_HOOK_SLACK, url[i]);
		h[i].timeout_ms = 300;
		h[i].retries = 1;
	}
	capture_start(&cap);
	t0 = now_s();
	assert_int_equal(ipam_notify(h, 4, &drift_notice), 3);
	dt = now_s() - t0;
	log = capture_stop(&cap);
	/* Each slow hook: two attempts of 0.3 s and a 0.5 s backoff, 1.1 s;
	 * one after the other they would take 3.3 s. */
	assert_true(dt >= 1.0);
	if (dt >= 2.0)
		fail_msg("three slow hooks took %.2f s: not concurrent", dt);
	for (int i = 0; i < 3; i++)
		assert_true(receiver_count(&rv[i]) >= 1);
	assert_int_equal(receiver_count(&rv[3]), 1);
	assert_non_null(strstr(log, "sent to slack hook"));
	assert_non_null(strstr(log, "failed after 2 attempts: "));
	free(log);
	for (int i = 0; i < 4; i++) {
		free(url[i]);
		receiver_stop(&rv[i]);
	}
}

static void test_connection_refused(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct ipam_hook h;
	char *url;
	double t0, dt;
	int fd;

	(void)state;
	/* A port that was free a moment ago, with nobody listening. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	url = xasprintf("http://127.0.0.1:%d/", ntohs(sa.sin_port));
	h = hook(IPAM_HOOK_SLACK, url);
	h.retries = 1;
	t0 = now_s();
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 1);
	dt = now_s() - t0;
	/* Retried once after 0.5 s. */
	assert_true(dt >= 0.45 && dt < 2.0);
	free(url);
}

static void test_bad_scheme_refused(void **state)
{
	static const struct step ok[] = {{200, 0}};
	struct receiver rv;
	struct ipam_hook h[3];
	struct capture cap;
	char *ftp, *log;
	double t0;

	(void)state;
	receiver_start(&rv, ok, 1);
	ftp = xasprintf("ftp://127.0.0.1:%d/x", rv.port);
	h[0] = hook(IPAM_HOOK_SLACK, ftp);
	h[1] = hook(IPAM_HOOK_TEAMS, "file:///etc/passwd");
	h[2] = hook(IPAM_HOOK_TEAMS, "127.0.0.1/no-scheme");
	capture_start(&cap);
	t0 = now_s();
	assert_int_equal(ipam_notify(h, 3, &drift_notice), 3);
	/* Refused up front: no attempt, no backoff. */
	assert_true(now_s() - t0 < 0.4);
	log = capture_stop(&cap);
	assert_int_equal(receiver_count(&rv), 0);
	assert_non_null(strstr(log, "scheme 'ftp' is not allowed"));
	assert_non_null(strstr(log, "scheme 'file' is not allowed"));
	free(log);
	free(ftp);
	receiver_stop(&rv);
}

static void test_https_verified(void **state)
{
	struct receiver rv;
	struct request r;
	struct ipam_hook h;
	struct capture cap;
	char *ca, *url, *localhost, *log;

	(void)state;
	receiver_start_tls(&rv, &ca);
	url = xasprintf("https://127.0.0.1:%d/tls", rv.port);
	localhost = xasprintf("https://localhost:%d/tls", rv.port);
	h = hook(IPAM_HOOK_TEAMS, url);

	/* Not trusted by the system's CAs: refused, and not retried. */
	capture_start(&cap);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 1);
	log = capture_stop(&cap);
	assert_non_null(strstr(log, "failed after 1 attempt: "));
	assert_int_equal(receiver_count(&rv), 0);
	free(log);

	/* Trusted through ca_file, for the name in the certificate. */
	h.ca_file = ca;
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 0);
	assert_int_equal(receiver_count(&rv), 1);
	request_load(&r, &rv, 1);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.target, "/tls");
	request_free(&r);

	/* The same certificate for another name: the host is checked. */
	h.url = localhost;
	capture_start(&cap);
	assert_int_equal(ipam_notify(&h, 1, &drift_notice), 1);
	log = capture_stop(&cap);
	assert_non_null(strstr(log, "failed after 1 attempt: "));
	assert_int_equal(receiver_count(&rv), 1);
	free(log);

	free(localhost);
	free(url);
	receiver_stop(&rv);
	free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_render_generic),
		cmocka_unit_test(test_render_commit_author),
		cmocka_unit_test(test_render_slack),
		cmocka_unit_test(test_render_teams),
		cmocka_unit_test(test_generic_signed_env),
		cmocka_unit_test(test_generic_secret_file),
		cmocka_unit_test(test_generic_without_secret),
		cmocka_unit_test(test_slack_url_from_secret),
		cmocka_unit_test(test_teams_delivered),
		cmocka_unit_test(test_event_filter),
		cmocka_unit_test(test_retry_until_delivered),
		cmocka_unit_test(test_retry_429_503),
		cmocka_unit_test(test_retries_exhausted),
		cmocka_unit_test(test_4xx_not_retried),
		cmocka_unit_test(test_redirect_not_followed),
		cmocka_unit_test(test_timeout_bounded),
		cmocka_unit_test(test_hooks_concurrent),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_bad_scheme_refused),
		cmocka_unit_test(test_https_verified),
	};
	static const char *const proxies[] = {
		"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
		"ALL_PROXY",  "no_proxy",    "NO_PROXY",
	};
	size_t i;

	/* The receiver is on loopback: no proxy from the environment. */
	for (i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
