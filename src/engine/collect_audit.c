#include "collect.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_events.h"
#include "dhcplog.h"
#include "error.h"
#include "sha256.h"
#include "smb_audit.h"
#include "strbuf.h"
#include "tzdb.h"
#include "tzif.h"
#include "banned.h"

/*
 * The audit task: each managed DHCP server's audit logs, read over SMB
 * from its dhcpaudit share as the IPAM identity, imported incrementally.
 *
 * Where a file was read up to is its cursor (db_events.h): the offset of
 * the end of the last complete line imported, the line number, the
 * column line, and the head: the SHA-256 of the file's first head_len
 * bytes (at most IPAM_SMB_AUDIT_HEAD_MAX, fewer while the file was
 * shorter).  A file whose head is unchanged and that is not shorter than
 * the offset was appended to: it is read on from the offset.  Any other
 * (a weekday file the server overwrote a week later, or one cut short) is
 * read from its first byte as the file's next generation, counted as
 * rewritten; what was imported from the earlier generation stays.
 *
 * Events are committed in batches together with the cursor at the end of
 * the last line they came from: a failure or a crash loses no line and
 * imports none twice.  An incomplete last line (the server is writing
 * it) waits for the next collect.
 */

/* Events per transaction: a batch is built in memory and each commit
 * writes one postings row per key of it (db_events.c); this bounds that
 * memory (two batches: one committed by a thread while the next is
 * parsed); a crash re-reads at most twice this many. */
#define BATCH_EVENTS 100000

struct file_import {
	const struct ipam_collect_ctx *c;
	struct ipam_collect_result *out;
	const char *server;
	const struct ipam_smb_audit_file *f;
	const struct ipam_tz *tz;
	struct ipam_smb_audit_session *smb;
	bool have_cursor;
	struct ipam_db_audit_cursor cur; /* what was stored */
	/* this read */
	long long start, base_line, generation, size, head_len;
	char head_sha256[IPAM_SHA256_HEX_LEN + 1];
	struct ipam_dhcplog *p;
	struct ipam_db_events_batch *b;
	long long in_batch, events, malformed;
	long long handed; /* the events of the batch committed by a thread */
	bool rewritten;
};

static int on_event(const struct ipam_dhcplog_event *e, void *ctx)
{
	struct file_import *fi = ctx;
	int year = e->year < 100 ? 2000 + e->year : e->year;
	long long local = ipam_tz_civil(year, e->month, e->day, e->hour,
					e->minute, e->second);
	struct ipam_db_event_in ev = {
		.e = e,
		.at = ipam_tz_to_utc(fi->tz, local),
		.local = local,
	};

	fi->in_batch++;
	return ipam_db_events_add(fi->b, &ev);
}

static int on_bad(size_t line, const char *why, void *ctx)
{
	struct file_import *fi = ctx;

	fi->malformed++;
	ipam_collect_warn(fi->out, "%s:%s:%zu: %s", fi->server, fi->f->name,
			  line, why);
	return 0;
}

static bool same_head(const struct file_import *fi, const unsigned char *head,
		      size_t len)
{
	char hex[IPAM_SHA256_HEX_LEN + 1];

	if (fi->cur.head_len < 0 || (long long)len < fi->cur.head_len)
		return false;
	ipam_sha256_hex(hex, head, (size_t)fi->cur.head_len);
	return !strcmp(hex, fi->cur.head_sha256);
}

static int begin_batch(struct file_import *fi)
{
	fi->in_batch = 0;
	return ipam_db_events_begin(fi->c->db, &fi->b, fi->server,
				    fi->c->o->run_id, fi->f->name,
				    fi->generation);
}

/* Commit what the batch holds with the cursor at the parser's end: in
 * the background when next (the batch goes on), else now. */
static int commit_batch(struct file_import *fi, bool next)
{
	const char *columns = ipam_dhcplog_columns(fi->p);
	struct ipam_db_audit_cursor cur = {
		.offset = fi->start + (long long)ipam_dhcplog_consumed(fi->p),
		.line = (long long)ipam_dhcplog_lines(fi->p),
		.head_len = fi->head_len,
		.generation = fi->generation,
		.columns = columns ? xstrdup(columns) : NULL,
		.size = fi->size,
	};
	int rc;

	memcpy(cur.head_sha256, fi->head_sha256, sizeof(cur.head_sha256));
	if (next) {
		rc = ipam_db_events_commit_next(&fi->b, &cur);
	} else {
		rc = ipam_db_events_commit(fi->b, &cur);
		fi->b = NULL;
	}
	free(cur.columns);
	/* success says the batch handed over before is committed */
	if (!rc)
		fi->events += fi->handed;
	fi->handed = 0;
	if (!rc && next)
		fi->handed = fi->in_batch;
	else if (!rc)
		fi->events += fi->in_batch;
	fi->in_batch = 0;
	return rc;
}

static long long on_head(const unsigned char *head, size_t len, long long size,
			 void *ctx)
{
	struct file_import *fi = ctx;
	const char *columns = NULL;
	size_t hl =
		len < IPAM_SMB_AUDIT_HEAD_MAX ? len : IPAM_SMB_AUDIT_HEAD_MAX;
	int rc;

	fi->size = size;
	if (fi->have_cursor && same_head(fi, head, len) &&
	    size >= fi->cur.offset) {
		fi->start = fi->cur.offset;
		fi->base_line = fi->cur.line;
		fi->generation = fi->cur.generation;
		columns = fi->cur.columns;
	} else {
		fi->start = 0;
		fi->base_line = 0;
		fi->generation = fi->have_cursor ? fi->cur.generation + 1 : 1;
		fi->rewritten = fi->have_cursor;
	}
	/* The head grows with the file up to its bound: the bytes read now
	 * begin with the ones the stored hash covers. */
	fi->head_len = (long long)hl;
	ipam_sha256_hex(fi->head_sha256, head, hl);
	fi->p = ipam_dhcplog_new(fi->f->family, columns,
				 (size_t)fi->base_line + 1, on_event, on_bad,
				 fi);
	rc = begin_batch(fi);
	return rc ? rc : fi->start;
}

static int on_data(const char *buf, size_t len, void *ctx)
{
	struct file_import *fi = ctx;
	int rc = ipam_dhcplog_feed(fi->p, buf, len);

	if (!rc && fi->in_batch >= BATCH_EVENTS)
		rc = commit_batch(fi, true);
	return rc;
}

/* Import what is new in one file; 0, or a negative code with the reason
 * in *reason. */
static int import_file(struct file_import *fi, struct strbuf *reason)
{
	const struct ipam_collect_ctx *c = fi->c;
	struct ipam_smb_audit_reader r = {on_head, on_data, fi};
	int rc;

	rc = ipam_db_audit_cursor_get(c->db, fi->server, fi->f->name, &fi->cur);
	if (rc && rc != IPAM_ENOTFOUND) {
		strbuf_addstr(reason, ipam_error_last());
		return rc;
	}
	fi->have_cursor = !rc;
	rc = ipam_smb_audit_read(fi->smb, reason, fi->f->name,
				 IPAM_SMB_AUDIT_HEAD_MAX, &r);
	if (!rc && fi->p)
		rc = commit_batch(fi, false);
	if (rc && !reason->len)
		strbuf_addf(reason, "%s: %s", fi->f->name, ipam_error_last());
	ipam_db_events_abort(fi->b);
	fi->b = NULL;
	ipam_dhcplog_free(fi->p);
	fi->p = NULL;
	if (fi->have_cursor)
		ipam_db_audit_cursor_release(&fi->cur);
	return rc;
}

struct server_counts {
	long long events, files, rewritten, malformed;
};

static int import_server(struct ipam_collect_result *out,
			 const struct ipam_collect_ctx *c,
			 const struct ipam_collect_target *t,
			 struct server_counts *n, struct strbuf *reason)
{
	struct ipam_smb_audit_file *files = NULL;
	struct ipam_smb_audit_session *smb = NULL;
	struct ipam_tz *tz = NULL;
	size_t nr = 0;
	int rc;

	rc = ipam_tzdb_load(&tz, t->time_zone);
	if (rc) {
		strbuf_addf(reason, "time zone '%s': %s",
			    t->time_zone ? t->time_zone : "UTC",
			    ipam_error_last());
		return rc;
	}
	rc = ipam_smb_audit_open(&smb, &files, &nr, reason, c->id, t->name,
				 IPAM_SMB_AUDIT_SHARE);
	for (size_t i = 0; !rc && i < nr; i++) {
		struct file_import fi = {
			.c = c,
			.out = out,
			.server = t->name,
			.f = &files[i],
			.tz = tz,
			.smb = smb,
		};

		rc = import_file(&fi, reason);
		n->events += fi.events;
		n->malformed += fi.malformed;
		n->rewritten += fi.rewritten;
		n->files++;
	}
	ipam_smb_audit_close(smb);
	ipam_smb_audit_files_free(files, nr);
	ipam_tz_free(tz);
	return rc;
}

int ipam_collect_audit(struct ipam_collect_result *out,
		       const struct ipam_collect_ctx *c)
{
	struct ipam_collect_target *t = NULL;
	struct server_counts all = {0};
	size_t nr = 0;
	int rc;

	out->task = IPAM_TASK_AUDIT;
	if (!c->id)
		return ipam_error_set(IPAM_EINVAL,
				      "the audit task reads as the IPAM "
				      "identity: none was given");
	rc = ipam_collect_targets(&t, &nr, c, IPAM_ROLE_DHCP);
	if (rc)
		return rc;
	for (size_t i = 0; i < nr; i++) {
		struct server_counts n = {0};
		struct strbuf reason = STRBUF_INIT;

		if (import_server(out, c, &t[i], &n, &reason))
			ipam_collect_server_add(out, t[i].name, false, "%s",
						reason.buf);
		else
			ipam_collect_server_add(
				out, t[i].name, true,
				"%lld events from %lld files (%lld "
				"rewritten, %lld malformed lines)",
				n.events, n.files, n.rewritten, n.malformed);
		all.events += n.events;
		all.files += n.files;
		all.rewritten += n.rewritten;
		all.malformed += n.malformed;
		strbuf_release(&reason);
	}
	ipam_collect_count(out, "events", all.events);
	ipam_collect_count(out, "files", all.files);
	ipam_collect_count(out, "rewritten", all.rewritten);
	ipam_collect_count(out, "malformed", all.malformed);
	ipam_collect_targets_free(t, nr);
	return 0;
}
