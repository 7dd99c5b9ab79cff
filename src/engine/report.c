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
#include "addrspace.h"
#include "schedule.h"
#include "tasks.h"
#include "banned.h"

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
		const struct ipam_db_task_row *r = ipam_db_tasks_find(
			rows, nr, ipam_task_name((enum ipam_task)t));
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
		struct strbuf iv = STRBUF_INIT;
		long long next = ipam_schedule_next(&sched[t], now);
		char at[21];

		ipam_collection_duration(&iv, sched[t].interval);
		ipam_node_set_str(m, "task", ipam_task_name((enum ipam_task)t));
		ipam_node_set_str(m, "interval", iv.buf);
		strbuf_release(&iv);
		ipam_node_set(
			m, "lastStarted",
			ipam_node_str_or_null(r ? r->last_started_at : NULL));
		ipam_node_set(
			m, "lastEnded",
			ipam_node_str_or_null(r ? r->last_ended_at : NULL));
		ipam_node_set(
			m, "lastOutcome",
			ipam_node_str_or_null(r ? r->last_outcome : NULL));
		ipam_node_set(
			m, "lastSummary",
			ipam_node_str_or_null(r ? r->last_summary : NULL));
		ipam_schedule_format_time(at, next);
		ipam_node_set_str(m, "nextRun", at);
		ipam_node_set(m, "due", ipam_node_bool(next <= now));
		ipam_node_push(seq, m);
	}
	ipam_db_tasks_free(rows, nr);
	return 0;
}

static struct ipam_node *child(struct ipam_node *m, const char *key)
{
	for (size_t i = 0; m && i < m->nr; i++)
		if (!strcmp(m->keys[i]->str, key))
			return m->items[i];
	return NULL;
}

struct unmapped {
	const struct ipam_address_space *as;
	struct ipam_node *items;
	long long total;
};

static int unmapped_one(const struct ipam_db_report_addr *a, void *ctx)
{
	struct unmapped *u = ctx;
	struct ipam_node *m;
	struct ipam_ip ip;
	char at[21];

	if (!a->address || ipam_ip_parse(&ip, a->address) != IPAM_IP_OK ||
	    ipam_addrspace_find_range(u->as, &ip) >= 0)
		return 0;
	if (u->total++ >= IPAM_REPORT_UNMAPPED)
		return 0;
	m = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(m, "address", a->address);
	ipam_node_set_str(m, "state", a->state ? a->state : "in_use");
	ipam_node_set(m, "mac", ipam_node_str_or_null(a->mac));
	ipam_node_set(m, "host", ipam_node_str_or_null(a->host));
	ipam_node_set_str(m, "sources", a->sources ? a->sources : "");
	ipam_schedule_format_time(at, a->last_seen);
	ipam_node_set_str(m, "lastSeen", at);
	ipam_node_push(u->items, m);
	return 0;
}

/* The addresses outside every declared range: the product's Unmapped
 * view.  Only with a desired state that declares ranges. */
static int build_unmapped(struct ipam_db *db, const struct ipam_desired *d,
			  struct ipam_node *space)
{
	struct unmapped u = {0};
	struct ipam_node *m;
	int err;

	if (!d || !d->address_space.nr_ranges || !space)
		return 0;
	u.as = &d->address_space;
	u.items = ipam_node_new(IPAM_NODE_SEQ);
	err = ipam_db_report_addresses(db, unmapped_one, &u);
	m = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(m, "total", ipam_node_int(u.total));
	ipam_node_set(m, "items", u.items);
	ipam_node_set(space, "unmapped", m);
	return err;
}

static void set_opt(struct ipam_node *m, const char *key,
		    const struct ipam_str *v)
{
	if (v->value)
		ipam_node_set_str(m, key, v->value);
}

/* Whether r, formatted, is name. */
static bool same_net(const struct ipam_iprange *r, const char *name)
{
	struct strbuf t = STRBUF_INIT;
	bool same;

	ipam_iprange_format(&t, r);
	same = !strcmp(t.buf, name);
	strbuf_release(&t);
	return same;
}

/* What the desired state says of the block or range a sample names. */
static void describe_item(const struct ipam_address_space *as,
			  struct ipam_node *it)
{
	const struct ipam_node *kind = ipam_reportout_get(it, "kind");
	const struct ipam_node *name = ipam_reportout_get(it, "name");

	if (!kind || kind->kind != IPAM_NODE_STR || !name ||
	    name->kind != IPAM_NODE_STR)
		return;
	if (!strcmp(kind->str, "block")) {
		for (size_t i = 0; i < as->nr_blocks; i++) {
			const struct ipam_block *b = &as->blocks[i];

			if (!b->ok || !same_net(&b->net, name->str))
				continue;
			set_opt(it, "description", &b->description);
			set_opt(it, "owner", &b->owner);
			return;
		}
		return;
	}
	for (size_t i = 0; i < as->nr_ranges; i++) {
		const struct ipam_range *r = &as->ranges[i];

		if (!r->ok || !same_net(&r->net, name->str))
			continue;
		set_opt(it, "description", &r->description);
		set_opt(it, "owner", &r->owner);
		ipam_node_set_str(it, "assignment",
				  ipam_assignment_name(r->assignment));
		set_opt(it, "dhcpServer", &r->dhcp_server);
		return;
	}
}

static void describe_space(const struct ipam_desired *d,
			   struct ipam_node *space)
{
	struct ipam_node *items = child(space, "items");

	for (size_t i = 0; d && items && i < items->nr; i++)
		describe_item(&d->address_space, items->items[i]);
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
	ov = child(root, "overview");
	if (!err && ov)
		err = build_tasks(db, d, now, ov);
	if (!err)
		err = build_unmapped(db, d, child(root, "addressSpace"));
	if (!err)
		describe_space(d, child(root, "addressSpace"));
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
	char *tmp =
		xasprintf("%s/.%s.XXXXXX", dir,
			  strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
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
