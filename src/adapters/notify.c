#include "notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "node.h"
#include "secret.h"
#include "sigpipe.h"
#include "banned.h"

#ifdef IPAM_VERSION
#define USER_AGENT "ipamctl/" IPAM_VERSION
#else
#define USER_AGENT "ipamctl"
#endif

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS	 2000

/* What chat messages say. */
static const char *const event_titles[IPAM_EVENT_NR] = {
	[IPAM_EVENT_DRIFT] = "drift found",
	[IPAM_EVENT_APPLIED] = "applied with changes",
	[IPAM_EVENT_APPLY_FAILED] = "apply failed",
	[IPAM_EVENT_REFUSED] = "plan refused by a safety rule",
	[IPAM_EVENT_SOURCE_INVALID] = "desired-state source invalid",
	[IPAM_EVENT_ACCESS_CHANGED] = "IPAM access changed",
};

/* MessageCard themeColor: amber for drift, green, red. */
static const char *const event_colors[IPAM_EVENT_NR] = {
	[IPAM_EVENT_DRIFT] = "E8A317",
	[IPAM_EVENT_APPLIED] = "2EB886",
	[IPAM_EVENT_APPLY_FAILED] = "D00000",
	[IPAM_EVENT_REFUSED] = "D00000",
	[IPAM_EVENT_SOURCE_INVALID] = "D00000",
	[IPAM_EVENT_ACCESS_CHANGED] = "E8A317",
};

static const char *const kind_names[] = {
	[IPAM_HOOK_GENERIC] = "generic",
	[IPAM_HOOK_SLACK] = "slack",
	[IPAM_HOOK_TEAMS] = "teams",
};

void ipam_notify_hook_init(struct ipam_hook *h)
{
	memset(h, 0, sizeof(*h));
	h->kind = IPAM_HOOK_GENERIC;
	h->events = IPAM_EVENT_ALL;
	h->timeout_ms = IPAM_NOTIFY_TIMEOUT_MS;
	h->retries = IPAM_NOTIFY_RETRIES;
}

/* --- libcurl, once -------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int curl_ready(void)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return ipam_error_set(IPAM_ERROR, "curl_global_init: %s",
				      curl_easy_strerror(curl_init_result));
	return 0;
}

/* --- URLs ----------------------------------------------------------- */

/* Parse url into *u, keeping http and https URLs with a host only. */
static int url_parse(CURLU **out, struct strbuf *redacted, const char *url)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL, *port = NULL;
	int err = 0;

	*out = NULL;
	if (!url || !*url)
		return ipam_error_set(IPAM_EINVAL, "no webhook URL");
	u = curl_url();
	if (!u)
		return ipam_error_set(IPAM_ENOMEM, "curl_url: out of memory");
	/* Flags 0: a scheme is required, spaces and control characters are
	 * refused.  The message of curl_url_strerror never quotes the URL. */
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		bool scheme_err = uc == CURLUE_BAD_SCHEME ||
				  uc == CURLUE_UNSUPPORTED_SCHEME;

		err = ipam_error_set(IPAM_EINVAL, "webhook URL: %s%s",
				     curl_url_strerror(uc),
				     scheme_err ? " (http or https only)" : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		err = ipam_error_set(IPAM_EINVAL,
				     "webhook URL: scheme '%s' is not allowed "
				     "(http or https only)",
				     scheme ? scheme : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		err = ipam_error_set(IPAM_EINVAL, "webhook URL: no host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL; /* none written: the scheme's own */
	strbuf_addf(redacted, "%s://%s", scheme, host);
	if (port)
		strbuf_addf(redacted, ":%s", port);
out:
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	if (err)
		curl_url_cleanup(u);
	else
		*out = u;
	return err;
}

int ipam_notify_url_check(struct strbuf *redacted, const char *url)
{
	CURLU *u;
	int err;

	err = curl_ready();
	if (!err)
		err = url_parse(&u, redacted, url);
	if (!err)
		curl_url_cleanup(u);
	return err;
}

/* Whether msg quotes a part of u that may hold a token. */
static bool mentions_secret_part(const char *msg, CURLU *u)
{
	static const CURLUPart parts[] = {
		CURLUPART_PATH, CURLUPART_QUERY,    CURLUPART_FRAGMENT,
		CURLUPART_USER, CURLUPART_PASSWORD,
	};
	bool found = false;
	size_t i;

	for (i = 0; !found && i < sizeof(parts) / sizeof(parts[0]); i++) {
		char *v = NULL;

		if (curl_url_get(u, parts[i], &v, 0) == CURLUE_OK && v &&
		    strcmp(v, "/") && *v && strstr(msg, v))
			found = true;
		curl_free(v);
	}
	return found;
}

/* --- payloads ------------------------------------------------------- */

#define ISO8601_SIZE sizeof("1970-01-01T00:00:00Z")

static void iso8601_now(char out[ISO8601_SIZE])
{
	struct tm tm;
	time_t now = time(NULL);

	if (!gmtime_r(&now, &tm) ||
	    !strftime(out, ISO8601_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm))
		memcpy(out, "1970-01-01T00:00:00Z", ISO8601_SIZE);
}

static struct ipam_node *generic_body(const struct ipam_notice *n)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP), *details;
	char when[ISO8601_SIZE];

	ipam_node_set_str(root, "event", ipam_event_name(n->event));
	ipam_node_set(root, "summary", ipam_node_str_or_null(n->summary));
	ipam_node_set(root, "commit", ipam_node_str_or_null(n->commit));
	ipam_node_set(root, "commit_author", ipam_node_str_or_null(n->author));
	ipam_node_set(root, "commit_subject",
		      ipam_node_str_or_null(n->subject));
	ipam_node_set(root, "run", ipam_node_str_or_null(n->run));
	if (n->details) {
		/* An alias borrows the caller's tree: it is not owned, so
		 * freeing root leaves it alone. */
		details = ipam_node_new(IPAM_NODE_ALIAS);
		details->target = n->details;
	} else {
		details = ipam_node_new(IPAM_NODE_MAP);
	}
	ipam_node_set(root, "details", details);
	iso8601_now(when);
	ipam_node_set_str(root, "sent_at", when);
	return root;
}

/* Slack's mrkdwn gives &, < and > a meaning; its documentation asks for
 * these three, and only these, to be escaped. */
static void add_slack_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			strbuf_addstr(sb, "&amp;");
		else if (*s == '<')
			strbuf_addstr(sb, "&lt;");
		else if (*s == '>')
			strbuf_addstr(sb, "&gt;");
		else
			strbuf_addch(sb, *s);
	}
}

static void add_text(struct strbuf *sb, const char *s, bool slack)
{
	if (slack)
		add_slack_escaped(sb, s);
	else
		strbuf_addstr(sb, s);
}

/* "commit abc (subject), run 42", or "" when neither is known. */
static void add_provenance(struct strbuf *sb, const struct ipam_notice *n,
			   bool slack)
{
	if (n->commit) {
		strbuf_addstr(sb, "commit ");
		add_text(sb, n->commit, slack);
		if (n->subject) {
			strbuf_addstr(sb, " (");
			add_text(sb, n->subject, slack);
			strbuf_addch(sb, ')');
		}
	}
	if (n->run) {
		strbuf_addstr(sb, n->commit ? ", run " : "run ");
		add_text(sb, n->run, slack);
	}
}

static struct ipam_node *slack_body(const struct ipam_notice *n)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct strbuf text = STRBUF_INIT;

	strbuf_addf(&text, "*ipamctl: %s*", event_titles[n->event]);
	if (n->summary) {
		strbuf_addch(&text, '\n');
		add_slack_escaped(&text, n->summary);
	}
	if (n->commit || n->run) {
		strbuf_addch(&text, '\n');
		add_provenance(&text, n, true);
	}
	ipam_node_set_str(root, "text", text.buf);
	strbuf_release(&text);
	return root;
}

static struct ipam_node *teams_body(const struct ipam_notice *n)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct strbuf title = STRBUF_INIT, text = STRBUF_INIT;

	strbuf_addf(&title, "ipamctl: %s", event_titles[n->event]);
	if (n->summary)
		strbuf_addstr(&text, n->summary);
	if (n->commit || n->run) {
		if (text.len)
			strbuf_addstr(&text, "\n\n");
		add_provenance(&text, n, false);
	}
	if (!text.len)
		strbuf_addstr(&text, title.buf);
	ipam_node_set_str(root, "@type", "MessageCard");
	ipam_node_set_str(root, "@context", "https://schema.org/extensions");
	ipam_node_set_str(root, "summary", title.buf);
	ipam_node_set_str(root, "themeColor", event_colors[n->event]);
	ipam_node_set_str(root, "title", title.buf);
	ipam_node_set_str(root, "text", text.buf);
	strbuf_release(&text);
	strbuf_release(&title);
	return root;
}

int ipam_notify_render(struct strbuf *body, struct strbuf *content_type,
		       const struct ipam_hook *h,
		       const struct ipam_notice *notice)
{
	struct ipam_node *root;
	int err;

	if ((unsigned)notice->event >= IPAM_EVENT_NR)
		return ipam_error_set(IPAM_EINVAL, "unknown event %d",
				      (int)notice->event);
	if (notice->details &&
	    ipam_node_deref(notice->details)->kind != IPAM_NODE_MAP)
		return ipam_error_set(IPAM_EINVAL,
				      "notification details are not a map");
	switch (h->kind) {
	case IPAM_HOOK_GENERIC:
		root = generic_body(notice);
		break;
	case IPAM_HOOK_SLACK:
		root = slack_body(notice);
		break;
	case IPAM_HOOK_TEAMS:
		root = teams_body(notice);
		break;
	default:
		return ipam_error_set(IPAM_EINVAL, "unknown hook kind %d",
				      (int)h->kind);
	}
	err = ipam_json_write(body, root, 0);
	ipam_node_free(root);
	if (err)
		return ipam_error_prefix(err, "notification body");
	strbuf_addstr(content_type, "application/json");
	return 0;
}

void ipam_notify_signature(struct strbuf *out, const void *key, size_t keylen,
			   const void *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[IPAM_SHA256_LEN];
	int i;

	ipam_sha256_hmac(md, key, keylen, body, len);
	strbuf_addstr(out, "sha256=");
	for (i = 0; i < IPAM_SHA256_LEN; i++) {
		strbuf_addch(out, hex[md[i] >> 4]);
		strbuf_addch(out, hex[md[i] & 0xf]);
	}
}

/* --- delivery ------------------------------------------------------- */

enum attempt {
	ATTEMPT_OK,
	ATTEMPT_RETRY, /* transient: try again after the backoff */
	ATTEMPT_FAIL,  /* permanent: retrying will not help */
};

static size_t discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* Errors that another attempt would meet again. */
static bool curl_permanent(CURLcode c)
{
	switch (c) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
		return true;
	default:
		return false;
	}
}

/* What one finished attempt means: rc from libcurl, then the HTTP status. */
static enum attempt classify(CURL *c, CURLcode rc, CURLU *u, const char *errbuf,
			     struct strbuf *why)
{
	long status = 0;

	strbuf_reset(why);
	if (rc != CURLE_OK) {
		/* The detailed message helps (TLS problems above all) but is
		 * not ours: drop it if it quotes a part of the URL. */
		if (*errbuf && !mentions_secret_part(errbuf, u))
			strbuf_addstr(why, errbuf);
		else
			strbuf_addstr(why, curl_easy_strerror(rc));
		return curl_permanent(rc) ? ATTEMPT_FAIL : ATTEMPT_RETRY;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300)
		return ATTEMPT_OK;
	strbuf_addf(why, "HTTP %ld", status);
	if (status >= 300 && status < 400)
		strbuf_addstr(why, " (redirects are not followed)");
	if (status >= 500 || status == 408 || status == 429)
		return ATTEMPT_RETRY;
	return ATTEMPT_FAIL;
}

/* Monotonic milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int clamp_timeout(int ms)
{
	if (ms <= 0)
		return IPAM_NOTIFY_TIMEOUT_MS;
	return ms > IPAM_NOTIFY_TIMEOUT_MAX_MS ? IPAM_NOTIFY_TIMEOUT_MAX_MS
					       : ms;
}

static int clamp_retries(int n)
{
	if (n < 0)
		return 0;
	return n > IPAM_NOTIFY_RETRIES_MAX ? IPAM_NOTIFY_RETRIES_MAX : n;
}

static int setup(CURL *c, const struct ipam_hook *h, CURLU *u,
		 struct curl_slist *headers, const struct strbuf *body,
		 char *errbuf)
{
	long t = clamp_timeout(h->timeout_ms);
	CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = curl_easy_setopt(c, (opt), (val));                \
	} while (0)
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_CURLU, u);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, t);
	SET(CURLOPT_CONNECTTIMEOUT_MS, t);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		SET(CURLOPT_CAINFO, h->ca_file);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_POSTFIELDS, body->buf);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	SET(CURLOPT_WRITEFUNCTION, discard);
#undef SET
	if (rc != CURLE_OK)
		return ipam_error_set(IPAM_ERROR, "curl setup: %s",
				      curl_easy_strerror(rc));
	return 0;
}

/* Append a header line; false when libcurl is out of memory. */
static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (!l)
		return false;
	*list = l;
	return true;
}

/* One hook's delivery: its request, its attempts, its outcome. */
struct job {
	const struct ipam_hook *h;
	const char *kind, *event;
	struct strbuf secret, where, body, ctype, line, why;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	CURLU *u;
	CURL *c;
	int attempts, tries, err;
	long long retry_at; /* now_ms() of the next attempt; 0: none due */
	bool done;
};

static void finish(struct job *j, int err);

/* Build job's request (secret, URL, body, headers, easy handle); on
 * failure job->err is set and job->done. */
static void prepare(struct job *j, const struct ipam_notice *n)
{
	const struct ipam_hook *h = j->h;
	const char *url = h->url;
	int err;

	j->kind = (size_t)h->kind < sizeof(kind_names) / sizeof(kind_names[0])
			  ? kind_names[h->kind]
			  : "?";
	j->event = ipam_event_name(n->event);
	j->errbuf[0] = '\0';
	err = curl_ready();
	if (err)
		goto out;
	if (url) {
		err = url_parse(&j->u, &j->where, url);
		if (err)
			goto out;
	}
	if (h->kind == IPAM_HOOK_GENERIC || !url) {
		if (!h->secret_file && !h->secret_env) {
			err = ipam_error_set(IPAM_EINVAL,
					     h->kind == IPAM_HOOK_GENERIC
						     ? "no secret to sign with"
						     : "no URL and no secret "
						       "holding one");
			goto out;
		}
		err = ipam_secret_read(&j->secret, h->secret_file,
				       h->secret_env);
		if (err) {
			err = ipam_error_prefix(err, "hook secret");
			goto out;
		}
		if (!url) {
			err = url_parse(&j->u, &j->where, j->secret.buf);
			if (err) {
				err = ipam_error_prefix(err, "hook secret");
				goto out;
			}
		}
	}
	err = ipam_notify_render(&j->body, &j->ctype, h, n);
	if (err)
		goto out;

	strbuf_addf(&j->line, "Content-Type: %s", j->ctype.buf);
	if (!add_header(&j->headers, j->line.buf))
		goto nomem;
	strbuf_reset(&j->line);
	strbuf_addf(&j->line, "X-Ipamctl-Event: %s", j->event);
	if (!add_header(&j->headers, j->line.buf))
		goto nomem;
	if (h->kind == IPAM_HOOK_GENERIC) {
		strbuf_reset(&j->line);
		strbuf_addstr(&j->line, "X-Ipamctl-Signature-256: ");
		ipam_notify_signature(&j->line, j->secret.buf, j->secret.len,
				      j->body.buf, j->body.len);
		if (!add_header(&j->headers, j->line.buf))
			goto nomem;
	}
	/* No "Expect: 100-continue" wait on larger bodies. */
	if (!add_header(&j->headers, "Expect:"))
		goto nomem;

	j->c = curl_easy_init();
	if (!j->c)
		goto nomem;
	err = setup(j->c, h, j->u, j->headers, &j->body, j->errbuf);
	if (!err && curl_easy_setopt(j->c, CURLOPT_PRIVATE, j) != CURLE_OK)
		err = ipam_error_set(IPAM_ERROR, "curl setup: CURLOPT_PRIVATE");
	j->tries = clamp_retries(h->retries) + 1;
	goto out;
nomem:
	err = ipam_error_set(IPAM_ENOMEM, "out of memory");
out:
	if (err)
		finish(j, err);
}

/* Log job's outcome (err: ipam_error_last() holds why) and mark it done. */
static void finish(struct job *j, int err)
{
	j->err = err;
	j->done = true;
	if (err && j->attempts)
		log_warn("notify: %s to %s hook %s failed after %d attempt%s: "
			 "%s",
			 j->event, j->kind, j->where.buf, j->attempts,
			 j->attempts == 1 ? "" : "s", ipam_error_last());
	else if (err)
		log_warn("notify: %s to %s hook %s failed: %s", j->event,
			 j->kind,
			 j->where.len ? j->where.buf : "(no valid URL)",
			 ipam_error_last());
	else
		log_info("notify: %s sent to %s hook %s", j->event, j->kind,
			 j->where.buf);
}

static void job_release(struct job *j)
{
	curl_easy_cleanup(j->c);
	curl_slist_free_all(j->headers);
	curl_url_cleanup(j->u);
	/* The signature header holds nothing secret, but the line buffer
	 * and the URL (when it came from the secret) are wiped too. */
	ipam_secret_wipe(&j->line);
	strbuf_release(&j->why);
	strbuf_release(&j->ctype);
	strbuf_release(&j->body);
	strbuf_release(&j->where);
	ipam_secret_wipe(&j->secret);
}

/* Start job's next attempt on m. */
static void start(CURLM *m, struct job *j)
{
	j->errbuf[0] = '\0';
	j->retry_at = 0;
	j->attempts++;
	if (curl_multi_add_handle(m, j->c) != CURLM_OK) {
		ipam_error_set(IPAM_ERROR, "curl: cannot start a transfer");
		finish(j, IPAM_ERROR);
	}
}

/* An attempt of job ended with rc: done, or a retry after the backoff. */
static void attempt_done(CURLM *m, struct job *j, CURLcode rc)
{
	enum attempt res;
	long backoff;

	curl_multi_remove_handle(m, j->c);
	res = classify(j->c, rc, j->u, j->errbuf, &j->why);
	if (res == ATTEMPT_OK) {
		finish(j, 0);
		return;
	}
	if (res == ATTEMPT_FAIL || j->attempts >= j->tries) {
		ipam_error_set(IPAM_EIO, "%s", j->why.buf);
		finish(j, IPAM_EIO);
		return;
	}
	backoff = (long)BACKOFF_FIRST_MS << (j->attempts - 1);
	if (backoff > BACKOFF_MAX_MS)
		backoff = BACKOFF_MAX_MS;
	log_info("notify: %s to %s hook %s: %s; retrying in %ld ms", j->event,
		 j->kind, j->where.buf, j->why.buf, backoff);
	j->retry_at = now_ms() + backoff;
}

/*
 * Run every prepared job at once on one multi handle: the time all hooks
 * take is that of the slowest, not the sum.
 */
static void run_jobs(struct job *jobs, size_t nr)
{
	struct ipam_sigpipe sp;
	CURLM *m = curl_multi_init();
	size_t pending = 0;

	for (size_t i = 0; i < nr; i++)
		if (!jobs[i].done)
			pending++;
	if (!pending)
		goto out;
	if (!m) {
		for (size_t i = 0; i < nr; i++)
			if (!jobs[i].done) {
				ipam_error_set(IPAM_ENOMEM, "out of memory");
				finish(&jobs[i], IPAM_ENOMEM);
			}
		goto out;
	}
	ipam_sigpipe_block(&sp);
	for (size_t i = 0; i < nr; i++)
		if (!jobs[i].done)
			start(m, &jobs[i]);
	for (;;) {
		long long now, next = 0;
		int running = 0, left, wait_ms;
		CURLMsg *msg;

		if (curl_multi_perform(m, &running) != CURLM_OK) {
			for (size_t i = 0; i < nr; i++)
				if (!jobs[i].done) {
					curl_multi_remove_handle(m, jobs[i].c);
					ipam_error_set(IPAM_ERROR,
						       "curl: the transfers "
						       "failed");
					finish(&jobs[i], IPAM_ERROR);
				}
			break;
		}
		while ((msg = curl_multi_info_read(m, &left))) {
			struct job *j = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&j);
			if (j)
				attempt_done(m, j, msg->data.result);
		}
		pending = 0;
		now = now_ms();
		for (size_t i = 0; i < nr; i++) {
			struct job *j = &jobs[i];

			if (j->done)
				continue;
			pending++;
			if (j->retry_at && j->retry_at <= now)
				start(m, j);
			else if (j->retry_at && (!next || j->retry_at < next))
				next = j->retry_at;
		}
		if (!pending)
			break;
		/* Wake for the transfers, or for the next retry that is due. */
		wait_ms = 1000;
		if (next && next - now < wait_ms)
			wait_ms = (int)(next - now);
		curl_multi_poll(m, NULL, 0, wait_ms > 0 ? wait_ms : 0, NULL);
	}
	ipam_sigpipe_restore(&sp);
out:
	curl_multi_cleanup(m);
}

int ipam_notify(const struct ipam_hook *hooks, size_t n,
		const struct ipam_notice *notice)
{
	struct job *jobs;
	size_t nr = 0;
	int failed = 0;

	if ((unsigned)notice->event >= IPAM_EVENT_NR) {
		log_warn("notify: unknown event %d not sent",
			 (int)notice->event);
		return (int)n;
	}
	jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		struct job *j;

		if (!(hooks[i].events & IPAM_EVENT_BIT(notice->event)))
			continue;
		j = &jobs[nr++];
		j->h = &hooks[i];
		strbuf_init(&j->secret);
		strbuf_init(&j->where);
		strbuf_init(&j->body);
		strbuf_init(&j->ctype);
		strbuf_init(&j->line);
		strbuf_init(&j->why);
		prepare(j, notice);
	}
	run_jobs(jobs, nr);
	for (size_t i = 0; i < nr; i++) {
		if (jobs[i].err)
			failed++;
		job_release(&jobs[i]);
	}
	free(jobs);
	return failed;
}
