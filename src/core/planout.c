#include "planout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "access.h"
#include "error.h"
#include "jsonw.h"
#include "strbuf.h"
#include "text.h"
#include "banned.h"

static const char *op_name(enum ipam_act_op op)
{
	return op == IPAM_OP_CREATE   ? "create"
	       : op == IPAM_OP_UPDATE ? "update"
				      : "remove";
}

static size_t op_index(enum ipam_act_op op)
{
	return op == IPAM_OP_CREATE ? 0 : op == IPAM_OP_UPDATE ? 1 : 2;
}

const char *ipam_plan_gpo_name(const struct ipam_plan_doc *r, int gpo,
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

/* What a drift action says changed: the drift list and the drift section
 * say "drift" already. */
static const char *drift_what(const char *reason)
{
	return strncmp(reason, "drift: ", 7) ? reason : reason + 7;
}

/*
 * Drift no action corrects is a note "<domain>: drift: <what>" (the diff
 * says so in its words); dom gets the domain, *what the rest.
 */
static bool drift_note(const char *n, struct strbuf *dom, const char **what)
{
	const char *d = strstr(n, ": drift: "), *c = strstr(n, ": ");

	if (!d)
		return false;
	if (dom) {
		strbuf_reset(dom);
		strbuf_add(dom, n, (size_t)(c - n));
	}
	if (what)
		*what = d + 9;
	return true;
}

/* Does name stand alone at p (IPAM1_DNS is not in IPAM1_DNSX)? */
static bool whole_name(const char *p, size_t len)
{
	char c = p[len];

	return !(c == '_' || c == '-' || (c >= '0' && c <= '9') ||
		 (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
}

/* The GPO a note names, or -1: notes carry no GPO of their own. */
static int note_gpo(const struct ipam_plan_doc *r, const char *what)
{
	char gbuf[128];

	for (int g = 0; g < IPAM_GPO_COUNT; g++) {
		const char *name = ipam_plan_gpo_name(r, g, gbuf, sizeof(gbuf));
		size_t len = name ? strlen(name) : 0;

		for (const char *p = what; name && (p = strstr(p, name));
		     p += len)
			if (whole_name(p, len))
				return g;
	}
	return -1;
}

/* "before -> after", "new: after" or "was: before"; "" when neither. */
static void change_text(struct strbuf *sb, const struct ipam_action *a)
{
	if (a->before && a->after)
		strbuf_addf(sb, "%s -> %s", a->before, a->after);
	else if (a->after)
		strbuf_addf(sb, "new: %s", a->after);
	else if (a->before)
		strbuf_addf(sb, "was: %s", a->before);
}

static struct ipam_node *drift_entry(const char *domain, const char *gpo,
				     const char *target, const char *what,
				     long long corrected_by)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	ipam_node_set_str(m, "domain", domain);
	ipam_node_set(m, "gpo", ipam_node_str_or_null(gpo));
	ipam_node_set(m, "target", ipam_node_str_or_null(target));
	ipam_node_set_str(m, "what", what);
	ipam_node_set(m, "corrected_by",
		      corrected_by > 0 ? ipam_node_int(corrected_by)
				       : ipam_node_new(IPAM_NODE_NULL));
	return m;
}

/* Drift apart from the actions: each drift action (the one correcting
 * it by seq), then each drift note (nothing corrects it). */
struct ipam_node *ipam_plan_drift_node(const struct ipam_plan_doc *r)
{
	const struct ipam_plan *p = r->plan;
	struct ipam_node *seq = ipam_node_new(IPAM_NODE_SEQ);
	struct strbuf dom = STRBUF_INIT;
	char gbuf[128];
	const char *what;

	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];

		if (a->origin != IPAM_ORIGIN_DRIFT)
			continue;
		ipam_node_push(seq,
			       drift_entry(a->domain,
					   ipam_plan_gpo_name(r, a->gpo, gbuf,
							      sizeof(gbuf)),
					   a->target, drift_what(a->reason),
					   (long long)i + 1));
	}
	for (size_t i = 0; i < p->nr_notes; i++) {
		if (!drift_note(p->notes[i], &dom, &what))
			continue;
		ipam_node_push(seq, drift_entry(dom.buf,
						ipam_plan_gpo_name(
							r, note_gpo(r, what),
							gbuf, sizeof(gbuf)),
						NULL, what, 0));
	}
	strbuf_release(&dom);
	return seq;
}

static struct ipam_node *plan_node(const struct ipam_plan_doc *r,
				   bool drift_only)
{
	const struct ipam_plan *p = r->plan;
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP), *m, *seq;
	size_t counts[3] = {0}, drift = 0, pending = 0;
	char gbuf[128], when[32];
	struct tm tm;

	gmtime_r(&r->generated_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ipam_node_set(root, "format_version",
		      ipam_node_int(IPAM_PLAN_FORMAT_VERSION));
	ipam_node_set_str(root, "generated_at", when);
	ipam_node_set(root, "git_commit", ipam_node_str_or_null(r->git_commit));
	ipam_node_set_str(root, "config_digest", r->config_digest);
	ipam_node_set_str(root, "observed_fingerprint", r->fingerprint);
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];
		struct ipam_node *src;

		if (!shown(a, drift_only))
			continue;
		counts[op_index(a->op)]++;
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
			      ipam_node_str_or_null(ipam_plan_gpo_name(
				      r, a->gpo, gbuf, sizeof(gbuf))));
		ipam_node_set_str(m, "target", a->target);
		ipam_node_set(m, "sid", ipam_node_str_or_null(a->sid));
		ipam_node_set(m, "before", ipam_node_str_or_null(a->before));
		ipam_node_set(m, "after", ipam_node_str_or_null(a->after));
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
	ipam_node_set(root, "drift", ipam_plan_drift_node(r));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr_notes; i++)
		if (!drift_only || drift_note(p->notes[i], NULL, NULL))
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
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < p->nr_conflicts; i++) {
		m = ipam_node_new(IPAM_NODE_MAP);
		ipam_node_set_str(m, "domain", p->conflicts[i].domain);
		ipam_node_set_str(m, "what", p->conflicts[i].what);
		ipam_node_set_str(m, "reason", p->conflicts[i].reason);
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "conflicts", seq);
	m = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(m, "create", ipam_node_int((long long)counts[0]));
	ipam_node_set(m, "update", ipam_node_int((long long)counts[1]));
	ipam_node_set(m, "remove", ipam_node_int((long long)counts[2]));
	ipam_node_set(m, "pending", ipam_node_int((long long)pending));
	ipam_node_set(m, "drift", ipam_node_int((long long)drift));
	ipam_node_set(m, "skipped_removals",
		      ipam_node_int((long long)p->nr_skipped));
	ipam_node_set(m, "conflicts",
		      ipam_node_int((long long)p->nr_conflicts));
	ipam_node_set(m, "removals", ipam_node_int((long long)p->removals));
	ipam_node_set(m, "max_removals",
		      ipam_node_int((long long)r->d->max_removals));
	ipam_node_set(m, "changes",
		      ipam_node_bool(counts[0] + counts[1] + counts[2] > 0));
	ipam_node_set(root, "summary", m);
	return root;
}

static void summary_line(struct strbuf *sb, const struct ipam_plan_doc *r,
			 bool drift_only)
{
	size_t c[3] = {0}, drift = 0;

	for (size_t i = 0; i < r->plan->nr; i++) {
		const struct ipam_action *a = &r->plan->actions[i];

		if (!shown(a, drift_only))
			continue;
		c[op_index(a->op)]++;
		drift += a->origin == IPAM_ORIGIN_DRIFT;
	}
	if (!c[0] && !c[1] && !c[2] && r->plan->nr_conflicts) {
		/* Never the all-clear while something stands in the way. */
		strbuf_addf(sb,
			    "No %s, but %zu conflict%s must be resolved "
			    "first.",
			    drift_only ? "drift found" : "changes planned",
			    r->plan->nr_conflicts,
			    r->plan->nr_conflicts == 1 ? "" : "s");
		return;
	}
	if (!c[0] && !c[1] && !c[2] &&
	    (r->plan->nr_skipped || r->plan->nr_incomplete)) {
		strbuf_addf(sb,
			    "No %s in what could be read: %zu domain%s seen "
			    "incompletely, %zu removal%s skipped.",
			    drift_only ? "drift" : "changes",
			    r->plan->nr_incomplete,
			    r->plan->nr_incomplete == 1 ? "" : "s",
			    r->plan->nr_skipped,
			    r->plan->nr_skipped == 1 ? "" : "s");
		return;
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

static bool has_origin(const struct ipam_plan *p, enum ipam_act_origin origin)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->actions[i].origin == origin)
			return true;
	return false;
}

static bool has_drift_notes(const struct ipam_plan *p)
{
	for (size_t i = 0; i < p->nr_notes; i++)
		if (drift_note(p->notes[i], NULL, NULL))
			return true;
	return false;
}

/*
 * One line of the text plan, its newline added: the whole line escaped
 * (text.h), so whatever a name, reason or note from YAML, AD, DNS or DHCP
 * holds stays visible text on this line.  The formats' own text has
 * nothing to escape.
 */
static void text_line(struct strbuf *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void text_line(struct strbuf *f, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	ipam_text_add_escaped_n(f, line.buf, line.len, false);
	strbuf_addch(f, '\n');
	strbuf_release(&line);
}

static void text_action(struct strbuf *f, struct strbuf *sb,
			const struct ipam_action *a, bool in_gpo)
{
	const char *ind = in_gpo ? "  " : "";

	strbuf_reset(sb);
	change_text(sb, a);
	text_line(f, "%s  %c %-14s %s%s%s%s", ind, (char)a->op,
		  ipam_act_kind_name(a->kind), a->target, sb->len ? " (" : "",
		  sb->buf, sb->len ? ")" : "");
	strbuf_reset(sb);
	source_text(sb, &a->pos);
	text_line(f, "%s      %s%s%s", ind,
		  a->origin == IPAM_ORIGIN_DRIFT ? drift_what(a->reason)
						 : a->reason,
		  sb->len ? "  at " : "", sb->buf);
}

/*
 * The actions of one origin grouped per domain, then per GPO (domain-wide
 * first); with drift, each domain's uncorrected drift notes after them.
 */
static void text_section(struct strbuf *f, const struct ipam_plan_doc *r,
			 enum ipam_act_origin origin)
{
	const struct ipam_plan *p = r->plan;
	struct strbuf sb = STRBUF_INIT, dom = STRBUF_INIT;
	const char *what;
	char gbuf[128];

	for (size_t di = 0; di < r->d->nr_domains; di++) {
		const char *dname = r->d->domains[di].name;
		bool header = false;

		for (int g = -1; g < IPAM_GPO_COUNT; g++) {
			bool gheader = false;

			for (size_t i = 0; i < p->nr; i++) {
				const struct ipam_action *a = &p->actions[i];

				if (a->gpo != g ||
				    strcasecmp(a->domain, dname) ||
				    a->origin != origin)
					continue;
				if (!header) {
					text_line(f, "%s", dname);
					header = true;
				}
				if (g >= 0 && !gheader) {
					text_line(f, "  %s",
						  ipam_plan_gpo_name(
							  r, g, gbuf,
							  sizeof(gbuf)));
					gheader = true;
				}
				text_action(f, &sb, a, g >= 0);
			}
		}
		for (size_t i = 0;
		     origin == IPAM_ORIGIN_DRIFT && i < p->nr_notes; i++) {
			if (!drift_note(p->notes[i], &dom, &what) ||
			    strcasecmp(dom.buf, dname))
				continue;
			if (!header) {
				text_line(f, "%s", dname);
				header = true;
			}
			text_line(f, "  ! %s", what);
		}
	}
	/* Drift notes of a domain no longer desired. */
	for (size_t i = 0; origin == IPAM_ORIGIN_DRIFT && i < p->nr_notes;
	     i++) {
		if (drift_note(p->notes[i], &dom, &what) &&
		    !ipam_desired_find_domain(r->d, dom.buf)) {
			text_line(f, "%s", dom.buf);
			text_line(f, "  ! %s", what);
		}
	}
	strbuf_release(&dom);
	strbuf_release(&sb);
}

void ipam_plan_render_text(struct strbuf *f, const struct ipam_plan_doc *r,
			   bool drift_only)
{
	const struct ipam_plan *p = r->plan;
	struct strbuf sb = STRBUF_INIT;
	bool drift = has_origin(p, IPAM_ORIGIN_DRIFT) || has_drift_notes(p);

	if (drift) {
		strbuf_addstr(f, "Drift: AD changed behind ipamctl's back "
				 "since the last apply\n");
		text_section(f, r, IPAM_ORIGIN_DRIFT);
	}
	if (!drift_only && has_origin(p, IPAM_ORIGIN_PENDING)) {
		if (drift)
			strbuf_addch(f, '\n');
		strbuf_addstr(f, "Pending: what the desired state asks for\n");
		text_section(f, r, IPAM_ORIGIN_PENDING);
	}
	for (size_t i = 0; !drift_only && i < p->nr_notes; i++)
		if (!drift_note(p->notes[i], NULL, NULL))
			text_line(f, "note: %s", p->notes[i]);
	for (size_t i = 0; i < p->nr_incomplete; i++)
		text_line(f, "incomplete: %s", p->incomplete[i]);
	for (size_t i = 0; i < p->nr_skipped; i++)
		text_line(f, "skipped removal: %s: %s (%s)",
			  p->skipped[i].domain, p->skipped[i].what,
			  p->skipped[i].reason);
	for (size_t i = 0; i < p->nr_conflicts; i++)
		text_line(f, "conflict: %s: %s: %s", p->conflicts[i].domain,
			  p->conflicts[i].what, p->conflicts[i].reason);
	if (!drift_only && (long long)p->removals > r->d->max_removals)
		strbuf_addf(f,
			    "warning: %zu removal%s, more than "
			    "safety.maxRemovals %lld: apply will refuse "
			    "without --allow-removals %zu\n",
			    p->removals, p->removals == 1 ? "" : "s",
			    r->d->max_removals, p->removals);
	if (!drift_only)
		ipam_plan_blocked_text(f, r->blocked, r->nr_blocked);
	summary_line(&sb, r, drift_only);
	text_line(f, "%s", sb.buf);
	strbuf_release(&sb);
}

/* Markdown table cell: pipes and '<' made text, controls escaped by the
 * printing rule (text.h), so a cell stays in its row. */
static void md_cell(struct strbuf *f, const char *s)
{
	const char *run = s;

	for (; s && *s; s++) {
		if (*s != '|' && *s != '<')
			continue;
		ipam_text_add_escaped_n(f, run, (size_t)(s - run), false);
		strbuf_addstr(f, *s == '|' ? "\\|" : "&lt;");
		run = s + 1;
	}
	if (s)
		ipam_text_add_escaped_n(f, run, (size_t)(s - run), false);
}

static void md_table(struct strbuf *f, const struct ipam_plan_doc *r,
		     enum ipam_act_origin origin)
{
	const struct ipam_plan *p = r->plan;
	struct strbuf sb = STRBUF_INIT;
	char gbuf[128];
	bool any = false;

	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];

		if (a->origin != origin)
			continue;
		if (!any) {
			strbuf_addf(
				f,
				"| | domain | GPO | action | target | change "
				"| %s | source |\n"
				"|---|---|---|---|---|---|---|---|\n",
				origin == IPAM_ORIGIN_DRIFT ? "what changed"
							    : "reason");
			any = true;
		}
		strbuf_addf(f, "| `%c` | ", (char)a->op);
		md_cell(f, a->domain);
		strbuf_addstr(f, " | ");
		md_cell(f, ipam_plan_gpo_name(r, a->gpo, gbuf, sizeof(gbuf)));
		strbuf_addf(f, " | %s | ", ipam_act_kind_name(a->kind));
		md_cell(f, a->target);
		strbuf_addstr(f, " | ");
		strbuf_reset(&sb);
		change_text(&sb, a);
		md_cell(f, sb.buf);
		strbuf_addstr(f, " | ");
		md_cell(f, origin == IPAM_ORIGIN_DRIFT ? drift_what(a->reason)
						       : a->reason);
		strbuf_addstr(f, " | ");
		strbuf_reset(&sb);
		source_text(&sb, &a->pos);
		if (sb.len) {
			strbuf_addch(f, '`');
			md_cell(f, sb.buf);
			strbuf_addch(f, '`');
		}
		strbuf_addstr(f, " |\n");
	}
	strbuf_release(&sb);
}

/* ---- blocked managed servers (issue 13) --------------------------------- */

size_t ipam_plan_blocked_servers(const char ***out,
				 const struct ipam_inventory *inv)
{
	size_t nr = 0;

	*out = NULL;
	for (size_t i = 0; i < inv->nr; i++) {
		const struct ipam_inv_server *s = &inv->servers[i];

		if (s->manageability != IPAM_MANAGE_MANAGED || !s->access ||
		    strcmp(s->access,
			   ipam_access_status_name(IPAM_ACCESS_BLOCKED)))
			continue;
		*out = xrealloc(*out, (nr + 1) * sizeof(**out));
		(*out)[nr++] = s->name;
	}
	return nr;
}

/* The names are from AD and the inventory: made safe to print. */
void ipam_plan_blocked_text(struct strbuf *sb, const char *const *names,
			    size_t nr)
{
	if (!nr)
		return;
	strbuf_addf(sb, "IPAM access blocked on %zu managed server%s: ", nr,
		    nr == 1 ? "" : "s");
	for (size_t i = 0; i < nr; i++) {
		strbuf_addstr(sb, i ? ", " : "");
		ipam_text_add_escaped(sb, names[i]);
	}
	strbuf_addstr(sb, " (ipamctl verify for the reasons)\n");
}

static void blocked_markdown(struct strbuf *f, const struct ipam_plan_doc *r)
{
	if (!r->nr_blocked)
		return;
	strbuf_addf(f,
		    ":no_entry: IPAM access blocked on %zu managed server%s: ",
		    r->nr_blocked, r->nr_blocked == 1 ? "" : "s");
	for (size_t i = 0; i < r->nr_blocked; i++) {
		strbuf_addstr(f, i ? ", " : "");
		md_cell(f, r->blocked[i]);
	}
	strbuf_addstr(f, " (`ipamctl verify` for the reasons)\n\n");
}

/* ---- the JSON form, streamed ------------------------------------------- */

static bool action_valid(const struct ipam_action *a)
{
	return ipam_jsonw_valid(a->domain) && ipam_jsonw_valid(a->target) &&
	       ipam_jsonw_valid(a->sid) && ipam_jsonw_valid(a->before) &&
	       ipam_jsonw_valid(a->after) && ipam_jsonw_valid(a->reason) &&
	       ipam_jsonw_valid(a->pos.file);
}

/* Every string the JSON form holds is UTF-8: jansson writes nothing of a
 * tree that holds one that is not, and neither does the stream. */
static bool plan_valid(const struct ipam_plan_doc *r)
{
	const struct ipam_plan *p = r->plan;
	bool ok = ipam_jsonw_valid(r->git_commit) &&
		  ipam_jsonw_valid(r->config_digest) &&
		  ipam_jsonw_valid(r->fingerprint) &&
		  ipam_jsonw_valid(r->d->gpo_prefix.value);

	for (size_t i = 0; ok && i < p->nr; i++)
		ok = action_valid(&p->actions[i]);
	for (size_t i = 0; ok && i < p->nr_notes; i++)
		ok = ipam_jsonw_valid(p->notes[i]);
	for (size_t i = 0; ok && i < p->nr_incomplete; i++)
		ok = ipam_jsonw_valid(p->incomplete[i]);
	for (size_t i = 0; ok && i < p->nr_skipped; i++)
		ok = ipam_jsonw_valid(p->skipped[i].domain) &&
		     ipam_jsonw_valid(p->skipped[i].what) &&
		     ipam_jsonw_valid(p->skipped[i].reason);
	for (size_t i = 0; ok && i < p->nr_conflicts; i++)
		ok = ipam_jsonw_valid(p->conflicts[i].domain) &&
		     ipam_jsonw_valid(p->conflicts[i].what) &&
		     ipam_jsonw_valid(p->conflicts[i].reason);
	for (size_t i = 0; ok && i < r->nr_blocked; i++)
		ok = ipam_jsonw_valid(r->blocked[i]);
	return ok;
}

static void kv_str(struct ipam_jsonw *w, const char *key, const char *s)
{
	ipam_jsonw_key(w, key);
	ipam_jsonw_str_or_null(w, s);
}

static void kv_int(struct ipam_jsonw *w, const char *key, long long v)
{
	ipam_jsonw_key(w, key);
	ipam_jsonw_int(w, v);
}

static void write_action(struct ipam_jsonw *w, const struct ipam_plan_doc *r,
			 const struct ipam_action *a, size_t i)
{
	char gbuf[128];

	ipam_jsonw_begin_map(w);
	kv_int(w, "seq", (long long)i + 1);
	kv_str(w, "kind", ipam_act_kind_name(a->kind));
	kv_str(w, "op", op_name(a->op));
	kv_str(w, "origin",
	       a->origin == IPAM_ORIGIN_DRIFT ? "drift" : "pending");
	kv_str(w, "domain", a->domain);
	kv_str(w, "gpo", ipam_plan_gpo_name(r, a->gpo, gbuf, sizeof(gbuf)));
	kv_str(w, "target", a->target);
	kv_str(w, "sid", a->sid);
	kv_str(w, "before", a->before);
	kv_str(w, "after", a->after);
	kv_str(w, "reason", a->reason);
	ipam_jsonw_key(w, "source");
	if (a->pos.file) {
		ipam_jsonw_begin_map(w);
		kv_str(w, "file", a->pos.file);
		kv_int(w, "line", a->pos.line);
		kv_int(w, "col", a->pos.col);
		ipam_jsonw_end_map(w);
	} else {
		ipam_jsonw_null(w);
	}
	ipam_jsonw_end_map(w);
}

static void write_drift_entry(struct ipam_jsonw *w, const char *domain,
			      const char *gpo, const char *target,
			      const char *what, long long corrected_by)
{
	ipam_jsonw_begin_map(w);
	kv_str(w, "domain", domain);
	kv_str(w, "gpo", gpo);
	kv_str(w, "target", target);
	kv_str(w, "what", what);
	ipam_jsonw_key(w, "corrected_by");
	if (corrected_by > 0)
		ipam_jsonw_int(w, corrected_by);
	else
		ipam_jsonw_null(w);
	ipam_jsonw_end_map(w);
}

/* ipam_plan_drift_node's list. */
static void write_drift(struct ipam_jsonw *w, const struct ipam_plan_doc *r)
{
	const struct ipam_plan *p = r->plan;
	struct strbuf dom = STRBUF_INIT;
	char gbuf[128];
	const char *what;

	ipam_jsonw_begin_seq(w);
	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];

		if (a->origin == IPAM_ORIGIN_DRIFT)
			write_drift_entry(w, a->domain,
					  ipam_plan_gpo_name(r, a->gpo, gbuf,
							     sizeof(gbuf)),
					  a->target, drift_what(a->reason),
					  (long long)i + 1);
	}
	for (size_t i = 0; i < p->nr_notes; i++)
		if (drift_note(p->notes[i], &dom, &what))
			write_drift_entry(
				w, dom.buf,
				ipam_plan_gpo_name(r, note_gpo(r, what), gbuf,
						   sizeof(gbuf)),
				NULL, what, 0);
	ipam_jsonw_end_seq(w);
	strbuf_release(&dom);
}

/* A skipped removal or a conflict. */
static void write_what(struct ipam_jsonw *w, const char *domain,
		       const char *what, const char *reason)
{
	ipam_jsonw_begin_map(w);
	kv_str(w, "domain", domain);
	kv_str(w, "what", what);
	kv_str(w, "reason", reason);
	ipam_jsonw_end_map(w);
}

/* The notes, the incomplete domains, the skipped removals, conflicts. */
static void write_lists(struct ipam_jsonw *w, const struct ipam_plan *p,
			bool drift_only)
{
	ipam_jsonw_key(w, "notes");
	ipam_jsonw_begin_seq(w);
	for (size_t i = 0; i < p->nr_notes; i++)
		if (!drift_only || drift_note(p->notes[i], NULL, NULL))
			ipam_jsonw_str(w, p->notes[i]);
	ipam_jsonw_end_seq(w);
	ipam_jsonw_key(w, "incomplete_domains");
	ipam_jsonw_begin_seq(w);
	for (size_t i = 0; i < p->nr_incomplete; i++) {
		const char *c = strstr(p->incomplete[i], ": ");
		struct strbuf dom = STRBUF_INIT;

		strbuf_add(&dom, p->incomplete[i],
			   c ? (size_t)(c - p->incomplete[i])
			     : strlen(p->incomplete[i]));
		ipam_jsonw_begin_map(w);
		kv_str(w, "domain", dom.buf);
		kv_str(w, "reason", c ? c + 2 : "incomplete");
		ipam_jsonw_end_map(w);
		strbuf_release(&dom);
	}
	ipam_jsonw_end_seq(w);
	ipam_jsonw_key(w, "skipped_removals");
	ipam_jsonw_begin_seq(w);
	for (size_t i = 0; i < p->nr_skipped; i++)
		write_what(w, p->skipped[i].domain, p->skipped[i].what,
			   p->skipped[i].reason);
	ipam_jsonw_end_seq(w);
	ipam_jsonw_key(w, "conflicts");
	ipam_jsonw_begin_seq(w);
	for (size_t i = 0; i < p->nr_conflicts; i++)
		write_what(w, p->conflicts[i].domain, p->conflicts[i].what,
			   p->conflicts[i].reason);
	ipam_jsonw_end_seq(w);
}

static void write_summary(struct ipam_jsonw *w, const struct ipam_plan_doc *r,
			  const size_t counts[3], size_t drift, size_t pending)
{
	const struct ipam_plan *p = r->plan;

	ipam_jsonw_key(w, "summary");
	ipam_jsonw_begin_map(w);
	kv_int(w, "create", (long long)counts[0]);
	kv_int(w, "update", (long long)counts[1]);
	kv_int(w, "remove", (long long)counts[2]);
	kv_int(w, "pending", (long long)pending);
	kv_int(w, "drift", (long long)drift);
	kv_int(w, "skipped_removals", (long long)p->nr_skipped);
	kv_int(w, "conflicts", (long long)p->nr_conflicts);
	kv_int(w, "removals", (long long)p->removals);
	kv_int(w, "max_removals", (long long)r->d->max_removals);
	ipam_jsonw_key(w, "changes");
	ipam_jsonw_bool(w, counts[0] + counts[1] + counts[2] > 0);
	ipam_jsonw_end_map(w);
}

int ipam_plan_write_json(struct ipam_jsonw *w, const struct ipam_plan_doc *r,
			 bool drift_only)
{
	const struct ipam_plan *p = r->plan;
	size_t counts[3] = {0}, drift = 0, pending = 0;
	char when[32];
	struct tm tm;

	if (!plan_valid(r))
		return ipam_error_set(IPAM_EINVAL,
				      "cannot express the output as JSON");
	gmtime_r(&r->generated_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ipam_jsonw_begin_map(w);
	kv_int(w, "format_version", IPAM_PLAN_FORMAT_VERSION);
	kv_str(w, "generated_at", when);
	kv_str(w, "git_commit", r->git_commit);
	kv_str(w, "config_digest", r->config_digest);
	kv_str(w, "observed_fingerprint", r->fingerprint);
	ipam_jsonw_key(w, "actions");
	ipam_jsonw_begin_seq(w);
	for (size_t i = 0; i < p->nr; i++) {
		const struct ipam_action *a = &p->actions[i];

		if (!shown(a, drift_only))
			continue;
		counts[op_index(a->op)]++;
		if (a->origin == IPAM_ORIGIN_DRIFT)
			drift++;
		else
			pending++;
		write_action(w, r, a, i);
	}
	ipam_jsonw_end_seq(w);
	ipam_jsonw_key(w, "drift");
	write_drift(w, r);
	write_lists(w, p, drift_only);
	write_summary(w, r, counts, drift, pending);
	if (!drift_only) {
		ipam_jsonw_key(w, "blocked_servers");
		ipam_jsonw_begin_seq(w);
		for (size_t i = 0; i < r->nr_blocked; i++)
			ipam_jsonw_str(w, r->blocked[i]);
		ipam_jsonw_end_seq(w);
	}
	ipam_jsonw_end_map(w);
	return ipam_jsonw_finish(w);
}

/* The JSON form: the plan, then the blocked managed servers. */
struct ipam_node *ipam_plan_to_node(const struct ipam_plan_doc *r,
				    bool drift_only)
{
	struct ipam_node *root = plan_node(r, drift_only), *seq;

	if (drift_only)
		return root;
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (size_t i = 0; i < r->nr_blocked; i++)
		ipam_node_push(seq, ipam_node_str(r->blocked[i]));
	ipam_node_set(root, "blocked_servers", seq);
	return root;
}

void ipam_plan_render_markdown(struct strbuf *f, const struct ipam_plan_doc *r,
			       bool drift_only)
{
	const struct ipam_plan *p = r->plan;
	struct strbuf sb = STRBUF_INIT, dom = STRBUF_INIT;
	bool drift_acts = has_origin(p, IPAM_ORIGIN_DRIFT),
	     drift_notes = has_drift_notes(p), other_notes = false;
	const char *what;

	summary_line(&sb, r, drift_only);
	strbuf_addf(f, "### ipamctl %s\n\n**%s**\n\n",
		    drift_only ? "drift" : "plan", sb.buf);
	if (drift_acts || drift_notes) {
		strbuf_addstr(f, "#### Drift\n\nAD changed behind ipamctl's "
				 "back since the last apply.\n\n");
		md_table(f, r, IPAM_ORIGIN_DRIFT);
		if (drift_acts && drift_notes)
			strbuf_addch(f, '\n');
		for (size_t i = 0; i < p->nr_notes; i++) {
			if (!drift_note(p->notes[i], &dom, &what))
				continue;
			strbuf_addstr(f, "- not corrected: ");
			md_cell(f, dom.buf);
			strbuf_addstr(f, ": ");
			md_cell(f, what);
			strbuf_addch(f, '\n');
		}
		strbuf_addch(f, '\n');
	}
	if (!drift_only && has_origin(p, IPAM_ORIGIN_PENDING)) {
		strbuf_addstr(f, "#### Pending changes\n\nWhat the desired "
				 "state asks for.\n\n");
		md_table(f, r, IPAM_ORIGIN_PENDING);
		strbuf_addch(f, '\n');
	}
	for (size_t i = 0; !drift_only && i < p->nr_notes; i++)
		other_notes |= !drift_note(p->notes[i], NULL, NULL);
	for (size_t i = 0; i < p->nr_incomplete; i++) {
		strbuf_addstr(f, "- :warning: incomplete: ");
		md_cell(f, p->incomplete[i]);
		strbuf_addch(f, '\n');
	}
	for (size_t i = 0; i < p->nr_skipped; i++) {
		strbuf_addstr(f, "- removal skipped: ");
		md_cell(f, p->skipped[i].domain);
		strbuf_addstr(f, ": ");
		md_cell(f, p->skipped[i].what);
		strbuf_addstr(f, " (");
		md_cell(f, p->skipped[i].reason);
		strbuf_addstr(f, ")\n");
	}
	for (size_t i = 0; i < p->nr_conflicts; i++) {
		strbuf_addstr(f, "- :x: conflict: ");
		md_cell(f, p->conflicts[i].domain);
		strbuf_addstr(f, ": ");
		md_cell(f, p->conflicts[i].what);
		strbuf_addstr(f, " (");
		md_cell(f, p->conflicts[i].reason);
		strbuf_addstr(f, ")\n");
	}
	for (size_t i = 0; other_notes && i < p->nr_notes; i++)
		if (!drift_note(p->notes[i], NULL, NULL)) {
			strbuf_addstr(f, "- note: ");
			md_cell(f, p->notes[i]);
			strbuf_addch(f, '\n');
		}
	if (p->nr_incomplete || p->nr_skipped || p->nr_conflicts || other_notes)
		strbuf_addch(f, '\n');
	if (!drift_only)
		blocked_markdown(f, r);
	strbuf_addf(f, "<sub>config `%.12s`", r->config_digest);
	if (r->git_commit) {
		strbuf_addstr(f, ", commit `");
		md_cell(f, r->git_commit);
		strbuf_addch(f, '`');
	}
	strbuf_addstr(f, "</sub>\n");
	strbuf_release(&dom);
	strbuf_release(&sb);
}
