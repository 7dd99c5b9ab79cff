#include "planout.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "strbuf.h"
#include "banned.h"

static const char *op_name(enum ipam_act_op op)
{
	return op == IPAM_OP_CREATE   ? "create"
	       : op == IPAM_OP_UPDATE ? "update"
				      : "remove";
}

const char *ipam_plan_gpo_name(const struct ipam_reconcile *r, int gpo,
			       char *buf, size_t len)
{
	if (gpo < 0 || !r->d->gpo_prefix.value)
		return NULL;
	snprintf(buf, len, "%s%s", r->d->gpo_prefix.value,
		 ipam_pol_gpo_suffix((enum ipam_pol_gpo)gpo));
	return buf;
}

static bool shown(const struct ipam_action *a, bool drift_only)
{
	return !drift_only || a->origin == IPAM_ORIGIN_DRIFT;
}

static bool is_drift_note(const char *n)
{
	return strstr(n, ": drift: ") != NULL;
}

static struct ipam_node *opt_str(const char *s)
{
	return s ? ipam_node_str(s) : ipam_node_new(IPAM_NODE_NULL);
}

struct ipam_node *ipam_plan_to_node(const struct ipam_reconcile *r,
				    bool drift_only)
{
	const struct ipam_plan *p = &r->plan;
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP), *m, *seq;
	size_t counts[3] = {0}, drift = 0, pending = 0;
	char gbuf[128], when[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ipam_node_set(root, "format_version",
		      ipam_node_int(IPAM_PLAN_FORMAT_VERSION));
	ipam_node_set_str(root, "generated_at", when);
	ipam_node_set(root, "git_commit", opt_str(r->o.git_commit));
	ipam_node_set_str(root, "config_digest", r->config_digest);
	ipam_node_set_str(root, "observed_fingerprint", r->fingerprint);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];
		struct ipam_node *src;

		if (!shown(a, drift_only))
			continue;
		counts[a->op == IPAM_OP_CREATE	 ? 0
		       : a->op == IPAM_OP_UPDATE ? 1
						 : 2]++;
		if (a->origin == IPAM_ORIGIN_DRIFT)
			drift++;
		else
			pending++;
		m = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set(m, "seq", ipam_node_int((long long)i + 1));
		ipam_node_set_str(m, "kind", ipam_act_kind_name(a->kind));
		ipam_node_set_str(m, "op", op_name(a->op));
		ipam_node_set_str(m, "origin",
				  a->origin == IPAM_ORIGIN_DRIFT ? "drift"
								 : "pending");
		ipam_node_set_str(m, "domain", a->domain);
		ipam_node_set(m, "gpo",
			      opt_str(ipam_plan_gpo_name(r, a->gpo, gbuf,
							 sizeof(gbuf))));
		ipam_node_set_str(m, "target", a->target);
		ipam_node_set(m, "sid", opt_str(a->sid));
		ipam_node_set(m, "before", opt_str(a->before));
		ipam_node_set(m, "after", opt_str(a->after));
		ipam_node_set_str(m, "reason", a->reason);
		if (a->pos.file) {
			src = ipam_node_new(IPAM_NODE_MAP);
			ipam_node_set_str(src, "file", a->pos.file);
			ipam_node_set(src, "line", ipam_node_int(a->pos.line));
			ipam_node_set(src, "col", ipam_node_int(a->pos.col));
		} else {
			src = ipam_node_new(IPAM_NODE_NULL);
		}
		ipam_node_set(m, "source", src);
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "actions", seq);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr_notes; i++)
		if (!drift_only || is_drift_note(p->notes[i]))
			ipam_node_push(seq, ipam_node_str(p->notes[i]));
	ipam_node_set(root, "notes", seq);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr_incomplete; i++) {
		const char *c = strstr(p->incomplete[i], ": ");

		m = ipam_node_new(IPAM_NODE_MAP);
		if (c) {
			struct strbuf dom = STRBUF_INIT;

			strbuf_add(&dom, p->incomplete[i],
				   (size_t)(c - p->incomplete[i]));
			ipam_node_set_str(m, "domain", dom.buf);
			ipam_node_set_str(m, "reason", c + 2);
			strbuf_release(&dom);
		} else {
			ipam_node_set_str(m, "domain", p->incomplete[i]);
			ipam_node_set_str(m, "reason", "incomplete");
		}
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "incomplete_domains", seq);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr_skipped; i++) {
		m = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(m, "domain", p->skipped[i].domain);
		ipam_node_set_str(m, "what", p->skipped[i].what);
		ipam_node_set_str(m, "reason", p->skipped[i].reason);
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "skipped_removals", seq);
	m = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(m, "create", ipam_node_int((long long)counts[0]));
	ipam_node_set(m, "update", ipam_node_int((long long)counts[1]));
	ipam_node_set(m, "remove", ipam_node_int((long long)counts[2]));
	ipam_node_set(m, "pending", ipam_node_int((long long)pending));
	ipam_node_set(m, "drift", ipam_node_int((long long)drift));
	ipam_node_set(m, "skipped_removals",
		      ipam_node_int((long long)p->nr_skipped));
	ipam_node_set(m, "changes",
		      ipam_node_bool(counts[0] + counts[1] + counts[2] > 0));
	ipam_node_set(root, "summary", m);
	return root;
}

static void summary_line(struct strbuf *sb, const struct ipam_reconcile *r,
			 bool drift_only)
{
	size_t c[3] = {0}, drift = 0;

	for (size_t i = 0; i < r->plan.nr; i++) {
		const struct ipam_action *a = &r->plan.actions[i];

		if (!shown(a, drift_only))
			continue;
		c[a->op == IPAM_OP_CREATE   ? 0
		  : a->op == IPAM_OP_UPDATE ? 1
					    : 2]++;
		drift += a->origin == IPAM_ORIGIN_DRIFT;
	}
	if (!c[0] && !c[1] && !c[2]) {
		strbuf_addstr(sb, drift_only ? "No drift."
					     : "No changes: AD matches the "
					       "desired state.");
		return;
	}
	strbuf_addf(sb, "%s: %zu to create, %zu to update, %zu to remove",
		    drift_only ? "Drift" : "Plan", c[0], c[1], c[2]);
	if (!drift_only)
		strbuf_addf(sb, " (%zu drift, %zu pending)", drift,
			    c[0] + c[1] + c[2] - drift);
	strbuf_addch(sb, '.');
}

static void source_text(struct strbuf *sb, const struct ipam_pos *pos)
{
	if (pos->file)
		strbuf_addf(sb, "%s:%d:%d", pos->file, pos->line, pos->col);
}

void ipam_plan_print_text(FILE *f, const struct ipam_reconcile *r,
			  bool drift_only)
{
	const struct ipam_plan *p = &r->plan;
	struct strbuf sb = STRBUF_INIT;
	char gbuf[128];

	for (size_t di = 0; di < r->d->nr_domains; di++) {
		const char *dom = r->d->domains[di].name;
		bool header = false;

		/* Domain-wide actions, then each GPO's. */
		for (int g = -1; g < IPAM_GPO_COUNT; g++) {
			bool gheader = false;

			for (size_t i = 0; i < p->nr; i++) {
				const struct ipam_action *a = &p->actions[i];

				if (a->gpo != g || strcasecmp(a->domain, dom) ||
				    !shown(a, drift_only))
					continue;
				if (!header) {
					fprintf(f, "%s\n", dom);
					header = true;
				}
				if (g >= 0 && !gheader) {
					fprintf(f, "  %s\n",
						ipam_plan_gpo_name(
							r, g, gbuf,
							sizeof(gbuf)));
					gheader = true;
				}
				strbuf_reset(&sb);
				source_text(&sb, &a->pos);
				fprintf(f, "%s  %c %-14s %s%s%s%s%s%s\n",
					g >= 0 ? "  " : "", (char)a->op,
					ipam_act_kind_name(a->kind), a->target,
					a->before ? " (" : "",
					a->before ? a->before : "",
					a->before ? " -> " : "",
					a->before ? a->after : "",
					a->before ? ")" : "");
				fprintf(f, "%s      %s%s%s%s\n",
					g >= 0 ? "  " : "", a->reason,
					a->origin == IPAM_ORIGIN_DRIFT &&
							!strstr(a->reason,
								"drift")
						? " [drift]"
						: "",
					sb.len ? "  at " : "", sb.buf);
			}
		}
	}
	for (size_t i = 0; i < p->nr_notes; i++)
		if (!drift_only || is_drift_note(p->notes[i]))
			fprintf(f, "note: %s\n", p->notes[i]);
	for (size_t i = 0; i < p->nr_incomplete; i++)
		fprintf(f, "incomplete: %s\n", p->incomplete[i]);
	for (size_t i = 0; i < p->nr_skipped; i++)
		fprintf(f, "skipped removal: %s: %s (%s)\n",
			p->skipped[i].domain, p->skipped[i].what,
			p->skipped[i].reason);
	strbuf_reset(&sb);
	summary_line(&sb, r, drift_only);
	fprintf(f, "%s\n", sb.buf);
	strbuf_release(&sb);
}

/* Markdown table cell: pipes and newlines escaped. */
static void md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else if (*s == '<')
			fputs("&lt;", f);
		else
			fputc(*s, f);
	}
}

void ipam_plan_print_markdown(FILE *f, const struct ipam_reconcile *r,
			      bool drift_only)
{
	const struct ipam_plan *p = &r->plan;
	struct strbuf sb = STRBUF_INIT;
	char gbuf[128];
	bool any = false;

	summary_line(&sb, r, drift_only);
	fprintf(f, "### ipamctl %s\n\n**%s**\n\n",
		drift_only ? "drift" : "plan", sb.buf);
	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];

		if (!shown(a, drift_only))
			continue;
		if (!any) {
			fputs("| | domain | GPO | action | target | reason | "
			      "source |\n|---|---|---|---|---|---|---|\n",
			      f);
			any = true;
		}
		fprintf(f, "| `%c` | ", (char)a->op);
		md_cell(f, a->domain);
		fputs(" | ", f);
		md_cell(f, ipam_plan_gpo_name(r, a->gpo, gbuf, sizeof(gbuf)));
		fprintf(f, " | %s%s | ", ipam_act_kind_name(a->kind),
			a->origin == IPAM_ORIGIN_DRIFT ? " (drift)" : "");
		md_cell(f, a->target);
		fputs(" | ", f);
		md_cell(f, a->reason);
		fputs(" | ", f);
		strbuf_reset(&sb);
		source_text(&sb, &a->pos);
		if (sb.len) {
			fputc('`', f);
			md_cell(f, sb.buf);
			fputc('`', f);
		}
		fputs(" |\n", f);
	}
	if (p->nr_incomplete || p->nr_skipped || p->nr_notes)
		fputc('\n', f);
	for (size_t i = 0; i < p->nr_incomplete; i++) {
		fputs("- :warning: incomplete: ", f);
		md_cell(f, p->incomplete[i]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->nr_skipped; i++) {
		fputs("- removal skipped: ", f);
		md_cell(f, p->skipped[i].domain);
		fputs(": ", f);
		md_cell(f, p->skipped[i].what);
		fputs(" (", f);
		md_cell(f, p->skipped[i].reason);
		fputs(")\n", f);
	}
	for (size_t i = 0; i < p->nr_notes; i++)
		if (!drift_only || is_drift_note(p->notes[i])) {
			fputs("- note: ", f);
			md_cell(f, p->notes[i]);
			fputc('\n', f);
		}
	fprintf(f, "\n<sub>config `%.12s`%s%s%s</sub>\n", r->config_digest,
		r->o.git_commit ? ", commit `" : "",
		r->o.git_commit ? r->o.git_commit : "",
		r->o.git_commit ? "`" : "");
	strbuf_release(&sb);
}
