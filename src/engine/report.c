#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_collect.h"
#include "db_report.h"
#include "error.h"
#include "json.h"
#include "schedule.h"
#include "tasks.h"
#include "banned.h"

static const struct ipam_db_task_row *
find_row(const struct ipam_db_task_row *rows, size_t nr, enum ipam_task t)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(rows[i].task, ipam_task_name(t)))
			return &rows[i];
	return NULL;
}

/* The scheduled tasks as IPAM's Scheduled Tasks tile: interval, last
 * run and its outcome, next run. */
static int build_tasks(struct ipam_db *db, const struct ipam_desired *d,
		       long long now, struct ipam_node *ov)
{
	static const struct ipam_collection_cfg defaults;
	struct ipam_schedule_task sched[IPAM_TASK_NR];
	struct ipam_db_task_row *rows = NULL;
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	size_t nr = 0;
	int err;

	ipam_node_set(ov, "tasks", seq);
	err = ipam_tasks_schedule(sched, d ? &d->collection : &defaults, db);
	if (!err)
		err = ipam_db_tasks_list(db, &rows, &nr);
	if (err)
		return err;
	for (int t = 0; t < IPAM_TASK_NR; t++) {
		const struct ipam_db_task_row *r =
			find_row(rows, nr, (enum ipam_task)t);
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct strbuf iv = STRBUF_INIT;
		long long next = ipam_schedule_next(&sched[t], now);
		char at[21];

		ipam_collection_duration(&iv, sched[t].interval);
		ipam_node_set_str(m, "task", ipam_task_name((enum ipam_task)t));
		ipam_node_set_str(m, "interval", iv.buf);
		strbuf_release(&iv);
		ipam_node_set(m, "lastStarted",
			      ipam_node_str_or_null(r ? r->last_started_at
						      : NULL));
		ipam_node_set(m, "lastEnded",
			      ipam_node_str_or_null(r ? r->last_ended_at
						      : NULL));
		ipam_node_set(m, "lastOutcome",
			      ipam_node_str_or_null(r ? r->last_outcome
						      : NULL));
		ipam_node_set(m, "lastSummary",
			      ipam_node_str_or_null(r ? r->last_summary
						      : NULL));
		ipam_schedule_format_time(at, next);
		ipam_node_set_str(m, "nextRun", at);
		ipam_node_set(m, "due", ipam_node_bool(next <= now));
		ipam_node_push(seq, m);
	}
	ipam_db_tasks_free(rows, nr);
	return 0;
}

int ipam_report_build(struct ipam_db *db, const struct ipam_desired *d,
		      long long now, struct ipam_node **out)
{
	const struct ipam_db_report_opts o = {.events = IPAM_REPORT_EVENTS,
					      .runs = IPAM_REPORT_RUNS,
					      .trend = IPAM_REPORT_TREND};
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP), *ov;
	char at[21];
	int err;

	ipam_schedule_format_time(at, now);
	ipam_node_set(root, "reportVersion", ipam_node_int(1));
	ipam_node_set_str(root, "generatedAt", at);
	err = ipam_db_report_read(db, &o, root);
	ov = NULL;
	for (size_t i = 0; i < root->nr; i++)
		if (!strcmp(root->keys[i]->str, "overview"))
			ov = root->items[i];
	if (!err && ov)
		err = build_tasks(db, d, now, ov);
	if (err) {
		ipam_node_free(root);
		return err;
	}
	*out = root;
	return 0;
}

int ipam_report_render(struct strbuf *out, const struct ipam_node *root,
		       enum ipam_report_format fmt)
{
	switch (fmt) {
	case IPAM_REPORT_UNSET:
	case IPAM_REPORT_HTML:
		ipam_reportout_html(out, root);
		return 0;
	case IPAM_REPORT_MARKDOWN:
		ipam_reportout_markdown(out, root);
		return 0;
	case IPAM_REPORT_JSON:
		return ipam_json_write(out, root, IPAM_JSON_PRETTY);
	}
	return ipam_error_set(IPAM_EINVAL, "unknown report format");
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int ipam_report_write_file(const char *path, const char *data, size_t len)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir,
			      strrchr(path, '/') ? strrchr(path, '/') + 1
						 : path);
	int fd = mkstemp(tmp), err = 0;

	free(copy);
	if (fd < 0) {
		err = ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				     strerror(errno));
		free(tmp);
		return err;
	}
	if (fchmod(fd, 0644) || write_all(fd, data, len) || fsync(fd))
		err = ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				     strerror(errno));
	if (close(fd) && !err)
		err = ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				     strerror(errno));
	if (!err && rename(tmp, path))
		err = ipam_error_set(IPAM_EIO, "cannot rename '%s' to '%s': %s",
				     tmp, path, strerror(errno));
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

int ipam_report_write(struct ipam_db *db, const struct ipam_desired *d,
		      const char *path, enum ipam_report_format fmt)
{
	struct ipam_node *root = NULL;
	struct strbuf sb = STRBUF_INIT;
	int err = ipam_report_build(db, d, (long long)time(NULL), &root);

	if (!err)
		err = ipam_report_render(&sb, root, fmt);
	if (!err)
		err = ipam_report_write_file(path, sb.buf, sb.len);
	ipam_node_free(root);
	strbuf_release(&sb);
	return err;
}
