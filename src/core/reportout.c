#include "reportout_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "text.h"
#include "xml.h"
#include "banned.h"

static const struct ipam_reportout_col domain_cols[] = {
	{"Domain", "name", RCOL_TEXT},
	{"Servers", "servers", RCOL_TEXT},
	{"Last discovery", "lastDiscoveryAt", RCOL_TEXT},
	{"Status", "lastStatus", RCOL_STATUS},
	{"Reason", "lastReason", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col role_cols[] = {
	{"Role", "role", RCOL_TEXT},
	{"Servers", "total", RCOL_TEXT},
	{"Managed", "managed", RCOL_TEXT},
	{"Unmanaged", "unmanaged", RCOL_TEXT},
	{"Unspecified", "unspecified", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col access_sum_cols[] = {
	{"Access status", "access", RCOL_STATUS},
	{"Servers", "count", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col task_cols[] = {
	{"Task", "task", RCOL_TEXT},
	{"Interval", "interval", RCOL_TEXT},
	{"Last run", "lastStarted", RCOL_TEXT},
	{"Ended", "lastEnded", RCOL_TEXT},
	{"Outcome", "lastOutcome", RCOL_STATUS},
	{"Next run", "nextRun", RCOL_TEXT},
	{"Summary", "lastSummary", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col run_cols[] = {
	{"Run", "id", RCOL_TEXT},
	{"Command", "command", RCOL_TEXT},
	{"Started", "startedAt", RCOL_TEXT},
	{"Ended", "endedAt", RCOL_TEXT},
	{"Outcome", "outcome", RCOL_STATUS},
	{"Summary", "summary", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table overview_tables[] = {
	{"Managed network", "overview.domains", domain_cols,
	 "no domain discovered yet"},
	{"Servers per role", "overview.servers.byRole", role_cols, NULL},
	{"Access status", "servers.byAccess", access_sum_cols,
	 "no server in the inventory"},
	{"Scheduled tasks", "overview.tasks", task_cols, NULL},
	{"Last runs", "overview.runs", run_cols, "no run recorded"},
	{NULL, NULL, NULL, NULL},
};

static const struct ipam_reportout_col server_cols[] = {
	{"Server", "name", RCOL_TEXT},
	{"Domain", "domain", RCOL_TEXT},
	{"Roles", "roles", RCOL_TEXT},
	{"Manageability", "manageability", RCOL_TEXT},
	{"Inventory", "status", RCOL_TEXT},
	{"Access", "access", RCOL_ACCESS},
	{"Recommended action", "recommendedAction", RCOL_TEXT},
	{"Checked", "checkedAt", RCOL_TEXT},
	{"Description", "description", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table server_tables[] = {
	{NULL, "servers.items", server_cols, "no server in the inventory"},
	{NULL, NULL, NULL, NULL},
};

static const struct ipam_reportout_col gpo_cols[] = {
	{"Domain", "domain", RCOL_TEXT},
	{"Role", "role", RCOL_TEXT},
	{"GUID", "guid", RCOL_TEXT},
	{"Version", "version", RCOL_TEXT},
	{"Linked", "linked", RCOL_BOOL},
	{"Filtering", "filtering", RCOL_TEXT},
	{"Settings current", "settingsCurrent", RCOL_BOOL},
	{"DACL current", "daclCurrent", RCOL_BOOL},
	{"Drift", "drift", RCOL_DRIFT},
	{"Applied", "appliedAt", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table gpo_tables[] = {
	{NULL, "gpos.items", gpo_cols, "no GPO applied yet"},
	{NULL, NULL, NULL, NULL},
};

static const struct ipam_reportout_col space_cols[] = {
	{"Kind", "kind", RCOL_TEXT},
	{"Name", "name", RCOL_TEXT},
	{"Description", "description", RCOL_TEXT},
	{"Assignment", "assignment", RCOL_TEXT},
	{"Size", "size", RCOL_TEXT},
	{"Used", "used", RCOL_TEXT},
	{"Utilization", "percent", RCOL_BAR},
	{"State", "state", RCOL_STATUS},
	{"Trend", "trend", RCOL_TREND},
	{"Sampled", "at", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col addr_state_cols[] = {
	{"Address state", "state", RCOL_TEXT},
	{"Addresses", "count", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col unmapped_cols[] = {
	{"Address", "address", RCOL_TEXT},
	{"State", "state", RCOL_TEXT},
	{"MAC", "mac", RCOL_TEXT},
	{"Host", "host", RCOL_TEXT},
	{"Sources", "sources", RCOL_TEXT},
	{"Last seen", "lastSeen", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table space_tables[] = {
	{"Blocks and ranges", "addressSpace.items", space_cols,
	 "no utilization sampled yet (ipamctl collect)"},
	{"Addresses", "addressSpace.addressesByState", addr_state_cols,
	 "no address seen yet"},
	{"Unmapped addresses", "addressSpace.unmapped.items", unmapped_cols,
	 "no unmapped address"},
	{NULL, NULL, NULL, NULL},
};

static const struct ipam_reportout_col zone_cols[] = {
	{"Domain", "domain", RCOL_TEXT},
	{"Zone", "name", RCOL_TEXT},
	{"Partition", "partition", RCOL_TEXT},
	{"Reverse", "reverse", RCOL_BOOL},
	{"Records", "records", RCOL_TEXT},
	{"Status", "status", RCOL_STATUS},
	{"Reason", "reason", RCOL_TEXT},
	{"Servers", "servers", RCOL_TEXT},
	{"Checked", "checkedAt", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table zone_tables[] = {
	{NULL, "dnsZones.items", zone_cols, "no zone collected yet"},
	{NULL, NULL, NULL, NULL},
};

static const struct ipam_reportout_col avail_cols[] = {
	{"Server", "server", RCOL_TEXT},
	{"Domain", "domain", RCOL_TEXT},
	{"Service", "service", RCOL_TEXT},
	{"State", "state", RCOL_STATUS},
	{"Since", "since", RCOL_TEXT},
	{"Checked", "checkedAt", RCOL_TEXT},
	{"RTT ms", "rttMs", RCOL_TEXT},
	{"Reason", "reason", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table avail_tables[] = {
	{NULL, "availability.items", avail_cols, "no availability measured"},
	{NULL, NULL, NULL, NULL},
};

static const struct ipam_reportout_col event_count_cols[] = {
	{"Event ID", "eventId", RCOL_TEXT},
	{"Events", "count", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_col event_cols[] = {
	{"Time (UTC)", "at", RCOL_TEXT},
	{"Server", "server", RCOL_TEXT},
	{"ID", "eventId", RCOL_TEXT},
	{"Description", "description", RCOL_TEXT},
	{"IP address", "ip", RCOL_TEXT},
	{"Host", "host", RCOL_TEXT},
	{"Client ID", "clientId", RCOL_TEXT},
	{"User", "userName", RCOL_TEXT},
	{NULL, NULL, 0},
};

static const struct ipam_reportout_table event_tables[] = {
	{"Events per ID", "events.byEventId", event_count_cols, NULL},
	{"Latest events", "events.items", event_cols,
	 "no DHCP event collected"},
	{NULL, NULL, NULL, NULL},
};

const struct ipam_reportout_section ipam_reportout_sections[] = {
	{"overview", "Overview", overview_tables},
	{"servers", "Server inventory", server_tables},
	{"gpos", "GPOs", gpo_tables},
	{"address-space", "Address space", space_tables},
	{"dns-zones", "DNS zones", zone_tables},
	{"availability", "Service availability", avail_tables},
	{"events", "IP address tracking", event_tables},
	{NULL, NULL, NULL},
};

const struct ipam_node *ipam_reportout_get(const struct ipam_node *n,
					   const char *path)
{
	const char *p = path;

	while (n && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		const struct ipam_node *next = NULL;

		n = ipam_node_deref(n);
		if (n->kind != IPAM_NODE_MAP)
			return NULL;
		for (size_t i = 0; i < n->nr; i++)
			if (n->keys[i]->len == len &&
			    !memcmp(n->keys[i]->str, p, len)) {
				next = n->items[i];
				break;
			}
		n = next;
		p += len + (dot ? 1 : 0);
	}
	return n ? ipam_node_deref(n) : NULL;
}

static void flatten(struct strbuf *out, const struct ipam_node *v)
{
	char buf[32];

	v = ipam_node_deref(v);
	if (v->kind == IPAM_NODE_MAP) {
		for (size_t i = 0; i < v->nr; i++) {
			strbuf_addstr(out, i ? ", " : "");
			strbuf_addstr(out, v->keys[i]->str);
			strbuf_addstr(out, ": ");
			flatten(out, v->items[i]);
		}
	} else if (v->kind == IPAM_NODE_SEQ) {
		for (size_t i = 0; i < v->nr; i++) {
			strbuf_addstr(out, i ? "; " : "");
			flatten(out, v->items[i]);
		}
	} else {
		const char *s = ipam_reportout_text(v, buf, NULL);

		strbuf_addstr(out, s ? s : "-");
	}
}

const char *ipam_reportout_text(const struct ipam_node *v, char buf[32],
				struct strbuf *flat)
{
	if (!v)
		return NULL;
	v = ipam_node_deref(v);
	switch (v->kind) {
	case IPAM_NODE_STR:
		return v->str;
	case IPAM_NODE_INT:
		snprintf(buf, 32, "%lld", v->num);
		return buf;
	case IPAM_NODE_BOOL:
		return v->boolean ? "yes" : "no";
	case IPAM_NODE_MAP:
	case IPAM_NODE_SEQ:
		if (!flat || !v->nr)
			return NULL;
		strbuf_reset(flat);
		flatten(flat, v);
		return flat->buf;
	default:
		return NULL;
	}
}

const char *ipam_reportout_status_class(const char *s)
{
	static const char *const good[] = {"Unblocked",	 "up",	    "OK",
					   "succeeded",	 "optimal", "complete",
					   "no_changes", NULL};
	static const char *const bad[] = {"Blocked",	"down", "Critical",
					  "failed",	"over", "refused",
					  "incomplete", NULL};
	static const char *const warn[] = {"Warning",	  "partial", "under",
					   "interrupted", "running", NULL};

	for (size_t i = 0; s && good[i]; i++)
		if (!strcmp(s, good[i]))
			return "good";
	for (size_t i = 0; s && bad[i]; i++)
		if (!strcmp(s, bad[i]))
			return "bad";
	for (size_t i = 0; s && warn[i]; i++)
		if (!strcmp(s, warn[i]))
			return "warn";
	return "info";
}

double ipam_reportout_percent(const struct ipam_node *v)
{
	double p;
	char *end;

	v = v ? ipam_node_deref(v) : NULL;
	if (!v)
		return -1;
	if (v->kind == IPAM_NODE_INT)
		p = (double)v->num;
	else if (v->kind == IPAM_NODE_STR) {
		p = strtod(v->str, &end);
		if (end == v->str)
			return -1;
	} else {
		return -1;
	}
	return p < 0 ? 0 : p > 100 ? 100 : p;
}

void ipam_reportout_html_escape(struct strbuf *out, const char *s)
{
	struct strbuf t = STRBUF_INIT;

	if (!s)
		return;
	/* controls and bad bytes first, as visible escapes: what is left
	 * is UTF-8 text, which the five XML entities make HTML-safe in
	 * text and attributes alike */
	ipam_text_add_escaped(&t, s);
	if (ipam_xml_add_attr(out, t.buf))
		ipam_error_clear();
	strbuf_release(&t);
}

/* One line of a Markdown cell: escaped for HTML, then Markdown's own
 * characters behind a backslash. */
static void md_escape_segment(struct strbuf *out, const char *s, size_t len)
{
	struct strbuf t = STRBUF_INIT, md = STRBUF_INIT;

	ipam_text_add_escaped_n(&t, s, len, false);
	for (size_t i = 0; i < t.len; i++) {
		if (strchr("|\\`*_[]#", t.buf[i]))
			strbuf_addch(&md, '\\');
		strbuf_addch(&md, t.buf[i]);
	}
	if (ipam_xml_add_attr(out, md.buf))
		ipam_error_clear();
	strbuf_release(&md);
	strbuf_release(&t);
}

void ipam_reportout_md_cell(struct strbuf *out, const char *s)
{
	const char *nl;

	if (!s)
		return;
	/* a newline is a line break in the cell, never the end of a row */
	while ((nl = strchr(s, '\n'))) {
		size_t len = (size_t)(nl - s);

		if (len && s[len - 1] == '\r')
			len--;
		md_escape_segment(out, s, len);
		strbuf_addstr(out, "<br>");
		s = nl + 1;
	}
	md_escape_segment(out, s, strlen(s));
}
