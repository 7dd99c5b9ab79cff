/* The report as one self-contained HTML page: inline CSS, inline SVG
 * bars and sparklines, no script, nothing fetched (the page's own
 * Content-Security-Policy says so to the browser too). */
#include "reportout_internal.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

#define esc ipam_reportout_html_escape

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;"
	"background:#fafafa}"
	"header{background:#1f3a5f;color:#fff;padding:12px 24px}"
	"header h1{margin:0;font-size:22px}"
	"nav a{color:#cfe0ff;margin-right:14px;text-decoration:none}"
	"main{padding:0 24px 24px}"
	"section{margin-top:18px}"
	/* a section's anchor shows that section alone, as the console's
	 * views; #top (the title) shows them all again */
	"main:has(section:target) section:not(:target){display:none}"
	/* and keeps the header in view */
	"section:target{scroll-margin-top:12em}"
	"h2{border-bottom:2px solid #1f3a5f;padding-bottom:4px}"
	"h3{margin:14px 0 6px;font-size:15px}"
	"table{border-collapse:collapse;background:#fff;margin-bottom:8px}"
	"th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;"
	"vertical-align:top}"
	"th{background:#eef2f7}"
	"td{overflow-wrap:break-word;max-width:24em}"
	".good{background:#dff3e3;color:#135c24}"
	".bad{background:#fbe0e0;color:#8a1515;font-weight:bold}"
	".warn{background:#fff3cd;color:#7a5600}"
	".info{color:#555}"
	".r{font-size:12px;font-weight:normal;color:#6b1111}"
	".u{fill:#3d7bd9}.u.over{fill:#c62828}.u.under{fill:#9e9e9e}"
	".bg{fill:#e5e8ec}"
	".sp{fill:none;stroke:#1f3a5f;stroke-width:1.5}"
	".note{color:#555}"
	"@media print{nav{display:none}header{background:none;color:#000}"
	"body{background:#fff}section{break-before:auto}"
	"tr{break-inside:avoid}}";

static void bar(struct strbuf *out, const struct ipam_node *row,
		const struct ipam_node *v)
{
	double p = ipam_reportout_percent(v);
	const struct ipam_node *st = ipam_reportout_get(row, "state");
	const char *state = st && st->kind == IPAM_NODE_STR ? st->str : "";

	if (p < 0)
		return;
	strbuf_addf(out,
		    "<svg width=\"120\" height=\"12\" viewBox=\"0 0 100 10\" "
		    "role=\"img\"><rect class=\"bg\" width=\"100\" "
		    "height=\"10\"/><rect class=\"u ");
	esc(out, state);
	strbuf_addf(out, "\" width=\"%.1f\" height=\"10\"/></svg> %.1f %%", p,
		    p);
}

static void sparkline(struct strbuf *out, const struct ipam_node *v)
{
	if (!v || v->kind != IPAM_NODE_SEQ || !v->nr)
		return;
	strbuf_addstr(out, "<svg width=\"100\" height=\"20\" viewBox=\"0 0 "
			   "100 20\" role=\"img\"><polyline class=\"sp\" "
			   "points=\"");
	for (size_t i = 0; i < v->nr; i++) {
		double p = ipam_reportout_percent(v->items[i]);
		double x = v->nr > 1 ? 100.0 * (double)i / (double)(v->nr - 1)
				     : 50.0;

		strbuf_addf(out, "%s%.1f,%.1f", i ? " " : "", x,
			    19.0 - 18.0 * (p < 0 ? 0 : p) / 100.0);
	}
	strbuf_addstr(out, "\"/></svg>");
}

static void access_cell(struct strbuf *out, const struct ipam_node *row,
			const char *s)
{
	const struct ipam_node *r = ipam_reportout_get(row, "reasons");
	struct strbuf flat = STRBUF_INIT;
	char buf[32];
	const char *why = ipam_reportout_text(r, buf, &flat);

	strbuf_addf(out, "<td class=\"%s\"", ipam_reportout_status_class(s));
	if (why) {
		strbuf_addstr(out, " title=\"");
		esc(out, why);
		strbuf_addch(out, '"');
	}
	strbuf_addch(out, '>');
	esc(out, s);
	if (why) {
		strbuf_addstr(out, "<div class=\"r\">");
		esc(out, why);
		strbuf_addstr(out, "</div>");
	}
	strbuf_release(&flat);
}

static void cell(struct strbuf *out, const struct ipam_node *row,
		 const struct ipam_reportout_col *c, struct strbuf *flat)
{
	const struct ipam_node *v = ipam_reportout_get(row, c->key);
	char buf[32];
	const char *s = ipam_reportout_text(v, buf, flat);
	bool yes = v && v->kind == IPAM_NODE_BOOL && v->boolean;

	switch (c->kind) {
	case RCOL_STATUS:
		if (s)
			strbuf_addf(out, "<td class=\"%s\">",
				    ipam_reportout_status_class(s));
		else
			strbuf_addstr(out, "<td>");
		break;
	case RCOL_ACCESS:
		access_cell(out, row, s);
		return;
	case RCOL_BAR:
		strbuf_addstr(out, "<td>");
		bar(out, row, v);
		return;
	case RCOL_TREND:
		strbuf_addstr(out, "<td>");
		sparkline(out, v);
		return;
	case RCOL_DRIFT:
		strbuf_addstr(out, yes ? "<td class=\"bad\">drift"
				       : "<td class=\"good\">none");
		return;
	default:
		strbuf_addstr(out, "<td>");
	}
	esc(out, s ? s : "");
}

/* Rows with the end tags HTML lets go (</td>, </tr>): a server table of
 * 20,000 rows stays small. */
static void table(struct strbuf *out, const struct ipam_node *root,
		  const struct ipam_reportout_table *t)
{
	const struct ipam_node *seq = ipam_reportout_get(root, t->path);
	struct strbuf flat = STRBUF_INIT;

	if (t->title)
		strbuf_addf(out, "<h3>%s</h3>\n", t->title);
	if (!seq || seq->kind != IPAM_NODE_SEQ || !seq->nr) {
		strbuf_addf(out, "<p class=\"note\">%s</p>\n",
			    t->empty ? t->empty : "none");
		return;
	}
	strbuf_addstr(out, "<table>\n<thead><tr>");
	for (const struct ipam_reportout_col *c = t->cols; c->head; c++)
		strbuf_addf(out, "<th>%s</th>", c->head);
	strbuf_addstr(out, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < seq->nr; i++) {
		strbuf_addstr(out, "<tr>");
		for (const struct ipam_reportout_col *c = t->cols; c->head; c++)
			cell(out, seq->items[i], c, &flat);
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "</tbody>\n</table>\n");
	strbuf_release(&flat);
}

static void kv(struct strbuf *out, const char *label, const char *value)
{
	strbuf_addf(out, "<tr><th>%s</th><td>", label);
	esc(out, value ? value : "-");
	strbuf_addstr(out, "</td></tr>\n");
}

static const char *str_at(const struct ipam_node *root, const char *path,
			  char buf[32])
{
	return ipam_reportout_text(ipam_reportout_get(root, path), buf, NULL);
}

/* What a section says before its tables. */
static void intro(struct strbuf *out, const struct ipam_node *root,
		  const char *id)
{
	char a[32], b[32], c[32];

	if (!strcmp(id, "overview")) {
		strbuf_addstr(out, "<table>\n");
		kv(out, "Provisioning method",
		   str_at(root, "overview.provisioningMethod", a));
		kv(out, "GPO prefix", str_at(root, "overview.gpoPrefix", a));
		kv(out, "Servers", str_at(root, "overview.servers.total", a));
		strbuf_addstr(out, "</table>\n");
	} else if (!strcmp(id, "gpos") &&
		   ipam_reportout_get(root, "gpos.lastCheck.id")) {
		strbuf_addstr(out, "<p>Last check: run ");
		esc(out, str_at(root, "gpos.lastCheck.id", a));
		strbuf_addstr(out, " (");
		esc(out, str_at(root, "gpos.lastCheck.command", b));
		strbuf_addstr(out, ", ");
		esc(out, str_at(root, "gpos.lastCheck.startedAt", c));
		strbuf_addstr(out, "): ");
		esc(out, str_at(root, "gpos.lastCheck.summary", a));
		strbuf_addstr(out, "</p>\n");
	} else if (!strcmp(id, "events")) {
		const char *shown = NULL;
		const struct ipam_node *items =
			ipam_reportout_get(root, "events.items");

		snprintf(c, sizeof(c), "%zu", items ? items->nr : 0);
		shown = c;
		strbuf_addstr(out, "<p>");
		esc(out, str_at(root, "events.total", a));
		strbuf_addstr(out, " DHCP audit events from ");
		esc(out, str_at(root, "events.first", b));
		strbuf_addstr(out, " to ");
		esc(out, str_at(root, "events.last", b));
		strbuf_addstr(out, "; the latest ");
		esc(out, shown);
		strbuf_addstr(out, " below.</p>\n");
	} else if (!strcmp(id, "address-space") &&
		   ipam_reportout_get(root, "addressSpace.unmapped.total")) {
		strbuf_addstr(out, "<p>Unmapped addresses (outside every "
				   "declared range): ");
		esc(out, str_at(root, "addressSpace.unmapped.total", a));
		strbuf_addstr(out, "</p>\n");
	}
}

void ipam_reportout_html(struct strbuf *out, const struct ipam_node *root)
{
	const struct ipam_reportout_section *s;
	char buf[32];

	strbuf_addstr(out,
		      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		      "<meta charset=\"utf-8\">\n"
		      "<meta http-equiv=\"Content-Security-Policy\" "
		      "content=\"default-src 'none'; style-src "
		      "'unsafe-inline'\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, "
		      "initial-scale=1\">\n<title>IPAM report ");
	esc(out, str_at(root, "generatedAt", buf));
	strbuf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	strbuf_addstr(out, "<header id=\"top\"><h1>IPAM report</h1>\n<p>"
			   "Generated ");
	esc(out, str_at(root, "generatedAt", buf));
	strbuf_addstr(out, " from the state database by ipamctl.</p>\n<nav>");
	strbuf_addstr(out, "<a href=\"#top\">All</a>");
	for (s = ipam_reportout_sections; s->id; s++)
		strbuf_addf(out, "<a href=\"#%s\">%s</a>", s->id, s->title);
	strbuf_addstr(out, "</nav></header>\n<main>\n");
	for (s = ipam_reportout_sections; s->id; s++) {
		strbuf_addf(out, "<section id=\"%s\">\n<h2>%s</h2>\n", s->id,
			    s->title);
		intro(out, root, s->id);
		for (const struct ipam_reportout_table *t = s->tables; t->path;
		     t++)
			table(out, root, t);
		strbuf_addstr(out, "</section>\n");
	}
	strbuf_addstr(out, "</main>\n</body>\n</html>\n");
}
