/*
 * The report's renderers: the document tree of schemas/report.schema.json
 * (built by engine/report.c from the state database) as one self-contained
 * HTML page (inline CSS and SVG, no script, nothing fetched) or as
 * Markdown tables.  Pure.  Every value is data from AD, DNS, DHCP logs or
 * the desired state: escaped for HTML text and attributes alike (& < > "
 * '), control characters shown as escapes, Markdown cells with their
 * pipes and newlines escaped.
 *
 * Prefixes: ipam_reportout_
 */
#ifndef IPAM_REPORTOUT_H
#define IPAM_REPORTOUT_H

#include "model.h" /* enum ipam_report_format */
#include "node.h"
#include "strbuf.h"

void ipam_reportout_html(struct strbuf *out, const struct ipam_node *root);
void ipam_reportout_markdown(struct strbuf *out, const struct ipam_node *root);

/* HTML-escape s (NULL: nothing) into out: & < > " ' as entities, controls
 * and bytes that are not UTF-8 as visible escapes (\n, \x1b, \xff). */
void ipam_reportout_html_escape(struct strbuf *out, const char *s);
/* A Markdown table cell: the HTML escaping, | \ ` * _ [ ] # behind a
 * backslash, a newline as <br> (a cell stays on its row). */
void ipam_reportout_md_cell(struct strbuf *out, const char *s);

/* The value at path "a.b.c" under n (maps only), or NULL. */
const struct ipam_node *ipam_reportout_get(const struct ipam_node *n,
					   const char *path);

#endif
