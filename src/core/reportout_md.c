/* The report as Markdown for wikis and merge-request comments: the same
 * sections as the HTML page, as tables. */
#include "reportout_internal.h"

#include <stdio.h>
#include <string.h>

#include "banned.h"

#define cellesc ipam_reportout_md_cell

/* ▁▂▃▄▅▆▇█ */
static const char *const ticks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
				    "\u2585", "\u2586", "\u2587", "\u2588"};

static void md_cell(struct strbuf *out, const struct ipam_node *row,
		    const struct ipam_reportout_col *c, struct strbuf *flat)
{
	const struct ipam_node *v = ipam_reportout_get(row, c->key);
	char buf[32];
	const char *s = ipam_reportout_text(v, buf, flat);
	double p;

	strbuf_addstr(out, " ");
	switch (c->kind) {
	case RCOL_ACCESS: {
		const struct ipam_node *r = ipam_reportout_get(row, "reasons");
		const char *why = ipam_reportout_text(r, buf, flat);

		strbuf_addstr(out, "**");
		cellesc(out, s ? s : "-");
		strbuf_addstr(out, "**");
		if (why) {
			strbuf_addstr(out, " (");
			cellesc(out, why);
			strbuf_addstr(out, ")");
		}
		break;
	}
	case RCOL_BAR:
		p = ipam_reportout_percent(v);
		if (p >= 0)
			strbuf_addf(out, "%.1f %%", p);
		break;
	case RCOL_TREND:
		for (size_t i = 0; v && v->kind == IPAM_NODE_SEQ && i < v->nr;
		     i++) {
			p = ipam_reportout_percent(v->items[i]);
			strbuf_addstr(out, ticks[p < 0	    ? 0
						 : p >= 100 ? 7
							    : (int)(p / 12.5)]);
		}
		break;
	case RCOL_DRIFT:
		strbuf_addstr(out, v && v->kind == IPAM_NODE_BOOL && v->boolean
					   ? "**drift**"
					   : "none");
		break;
	case RCOL_STATUS:
		if (s && !strcmp(ipam_reportout_status_class(s), "bad")) {
			strbuf_addstr(out, "**");
			cellesc(out, s);
			strbuf_addstr(out, "**");
			break;
		}
		/* fall through */
	default:
		cellesc(out, s ? s : "");
	}
	strbuf_addstr(out, " |");
}

static void md_table(struct strbuf *out, const struct ipam_node *root,
		     const struct ipam_reportout_table *t)
{
	const struct ipam_node *seq = ipam_reportout_get(root, t->path);
	struct strbuf flat = STRBUF_INIT;
	const struct ipam_reportout_col *c;

	if (t->title)
		strbuf_addf(out, "### %s\n\n", t->title);
	if (!seq || seq->kind != IPAM_NODE_SEQ || !seq->nr) {
		strbuf_addf(out, "_%s_\n\n", t->empty ? t->empty : "none");
		return;
	}
	strbuf_addstr(out, "|");
	for (c = t->cols; c->head; c++)
		strbuf_addf(out, " %s |", c->head);
	strbuf_addstr(out, "\n|");
	for (c = t->cols; c->head; c++)
		strbuf_addstr(out, " --- |");
	strbuf_addch(out, '\n');
	for (size_t i = 0; i < seq->nr; i++) {
		strbuf_addstr(out, "|");
		for (c = t->cols; c->head; c++)
			md_cell(out, seq->items[i], c, &flat);
		strbuf_addch(out, '\n');
	}
	strbuf_addch(out, '\n');
	strbuf_release(&flat);
}

static void md_value(struct strbuf *out, const struct ipam_node *root,
		     const char *label, const char *path)
{
	char buf[32];
	const char *s =
		ipam_reportout_text(ipam_reportout_get(root, path), buf, NULL);

	strbuf_addf(out, "| %s | ", label);
	cellesc(out, s ? s : "-");
	strbuf_addstr(out, " |\n");
}

void ipam_reportout_markdown(struct strbuf *out, const struct ipam_node *root)
{
	char buf[32];

	strbuf_addstr(out, "# IPAM report\n\nGenerated ");
	cellesc(out,
		ipam_reportout_text(ipam_reportout_get(root, "generatedAt"),
				    buf, NULL));
	strbuf_addstr(out, " from the state database by ipamctl.\n\n");
	for (const struct ipam_reportout_section *s = ipam_reportout_sections;
	     s->id; s++) {
		strbuf_addf(out, "## %s\n\n", s->title);
		if (!strcmp(s->id, "overview")) {
			strbuf_addstr(out, "| Setting | Value |\n"
					   "| --- | --- |\n");
			md_value(out, root, "Provisioning method",
				 "overview.provisioningMethod");
			md_value(out, root, "GPO prefix", "overview.gpoPrefix");
			md_value(out, root, "Servers",
				 "overview.servers.total");
			strbuf_addch(out, '\n');
		} else if (!strcmp(s->id, "events")) {
			strbuf_addstr(out, "| Events | Value |\n"
					   "| --- | --- |\n");
			md_value(out, root, "Total", "events.total");
			md_value(out, root, "First", "events.first");
			md_value(out, root, "Last", "events.last");
			strbuf_addch(out, '\n');
		}
		for (const struct ipam_reportout_table *t = s->tables; t->path;
		     t++)
			md_table(out, root, t);
	}
}
