/*
 * Notifications: the libcurl adapter, the only module that includes
 * <curl/curl.h>.  Webhooks named by the desired state (notify:) are told
 * about drift, applies, failures, refused plans and an invalid source.
 *
 * A notification never stops the loop: every attempt has a deadline, a
 * hook gets a few retries with a capped backoff, and a hook that still
 * fails is logged (log_warn) and counted, nothing more.  Secrets are never
 * logged, and neither is a URL in full (Slack and Teams URLs carry a
 * token): messages name the scheme and host only.
 */
#ifndef IPAM_NOTIFY_H
#define IPAM_NOTIFY_H

#include <stddef.h>

#include "model.h"
#include "sha256.h"
#include "strbuf.h"

/* enum ipam_event, ipam_event_name() and ipam_event_parse() are the
 * desired state's (model.h). */
#define IPAM_EVENT_BIT(e) (1u << (e))
#define IPAM_EVENT_ALL	  ((1u << IPAM_EVENT_NR) - 1)

enum ipam_hook_kind {
	/* POST of a JSON document, signed: X-Ipamctl-Signature-256. */
	IPAM_HOOK_GENERIC,
	/* Slack incoming webhook: {"text": ...}. */
	IPAM_HOOK_SLACK,
	/* Teams incoming webhook (Office 365 connector): a MessageCard with
	 * title, summary, themeColor and text.  Teams "Workflows" webhooks
	 * want an Adaptive Card instead and are not supported. */
	IPAM_HOOK_TEAMS,
};

#define IPAM_NOTIFY_TIMEOUT_MS	   5000	 /* per attempt, by default */
#define IPAM_NOTIFY_TIMEOUT_MAX_MS 60000 /* longer is cut to this */
#define IPAM_NOTIFY_RETRIES	   3	 /* by default */
#define IPAM_NOTIFY_RETRIES_MAX	   5	 /* more is cut to this */

struct ipam_hook {
	enum ipam_hook_kind kind;
	/*
	 * http:// or https:// only; redirects are not followed.  For slack
	 * and teams, url may be NULL: the secret is then the URL, so the
	 * token it holds stays out of the git repository.
	 */
	const char *url;
	unsigned events; /* IPAM_EVENT_BIT(e) for each event wanted */
	/*
	 * Where the secret is (file first, as ipam_secret_read): for
	 * generic hooks the HMAC key, required; for slack and teams the
	 * webhook URL when url is NULL, else unused.
	 */
	const char *secret_file, *secret_env;
	const char *ca_file; /* CAs to trust instead of the system's */
	int timeout_ms;	     /* whole attempt; <= 0: the default */
	int retries;	     /* attempts after the first; < 0: none */
};

/* Zero h and set the defaults (timeout, retries, every event). */
void ipam_notify_hook_init(struct ipam_hook *h);

struct ipam_notice {
	enum ipam_event event;
	const char *summary;		 /* one line, for humans */
	const struct ipam_node *details; /* a MAP for generic hooks, or NULL */
	const char *commit;		 /* desired-state commit, or NULL */
	const char *author;  /* its author, "Name <email>", or NULL */
	const char *subject; /* its subject line, or NULL */
	const char *run;     /* run id or URL, or NULL */
};

/*
 * Send notice to every hook that wants its event, all at once (libcurl's
 * multi interface), and return when each is delivered or given up.
 * Returns the number of hooks that failed; each failure is logged with
 * log_warn.  Time is bounded by the slowest hook, not the sum: per hook at
 * most retries + 1 attempts of at most timeout_ms each, with 0.5 s, 1 s,
 * then 2 s between them.  A retry
 * follows a connection error, a timeout, HTTP 5xx, 408 or 429; other
 * answers outside 2xx fail at once.
 */
int ipam_notify(const struct ipam_hook *hooks, size_t n,
		const struct ipam_notice *notice);

/*
 * The request body of notice for h (appended to body) and its media type
 * (appended to content_type).  Generic:
 *   {"event", "summary", "commit", "commit_author", "commit_subject",
 *    "run", "details", "sent_at"}
 * with commit (the 40-hex id, as it always was), its author, its subject
 * and run null when unknown, details {} when NULL, sent_at ISO 8601 UTC
 * (2024-05-01T12:00:00Z).  Slack and Teams show the subject after the
 * commit.
 */
int ipam_notify_render(struct strbuf *body, struct strbuf *content_type,
		       const struct ipam_hook *h,
		       const struct ipam_notice *notice);

/* The X-Ipamctl-Signature-256 value of body under key:
 * "sha256=" and the lower-case hex HMAC-SHA256, appended to out. */
void ipam_notify_signature(struct strbuf *out, const void *key, size_t keylen,
			   const void *body, size_t len);

/*
 * Check that url is an http or https URL with a host, and append its
 * scheme and host (and port, if given) to redacted: the form every message
 * uses.  IPAM_EINVAL with a message that does not quote the URL.
 */
int ipam_notify_url_check(struct strbuf *redacted, const char *url);

#endif
