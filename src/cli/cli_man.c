/*
 * ipamctl help --man: the manual's generated sections, in roff, from the
 * command table.  The summaries, usage texts and option tables --help
 * prints are the only text: the usage texts keep their terminal layout
 * (a synopsis, a blank line, paragraphs, indented "term  text" lists),
 * and this file reads that layout back, so the two cannot drift apart.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "strbuf.h"
#include "banned.h"

/* One "term  text" entry of an indented list of a usage text. */
struct entry {
	struct strbuf term;
	struct strbuf text; /* its lines, without their indent */
	bool used;	    /* printed among the options already */
};

struct entries {
	struct entry *v;
	size_t nr;
};

static void entries_release(struct entries *e)
{
	for (size_t i = 0; i < e->nr; i++) {
		strbuf_release(&e->v[i].term);
		strbuf_release(&e->v[i].text);
	}
	free(e->v);
	e->v = NULL;
	e->nr = 0;
}

static size_t indent_of(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] == ' ')
		i++;
	return i;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' ||
	       c == '%';
}

/*
 * Text: every dash of an option (a word that starts with one) and of
 * literal syntax is a minus, which man renders as the ASCII character
 * one can copy; a backslash is printed; `code` is bold; and a line never
 * starts a request.
 */
static void put_text_as(FILE *f, const char *s, size_t n, bool literal)
{
	bool code = false, option = false;

	if (n && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", f);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '-' && (!i || !word_char(s[i - 1])))
			option = true;
		else if (!word_char(c))
			option = false;
		if (c == '-' && (literal || option)) {
			fputs("\\-", f);
		} else if (c == '\\') {
			fputs("\\e", f);
		} else if (c == '`') {
			code = !code;
			fputs(code ? "\\fB" : "\\fR", f);
		} else {
			fputc(c, f);
		}
	}
	if (code)
		fputs("\\fR", f);
}

static void put_text(FILE *f, const char *s, size_t n)
{
	put_text_as(f, s, n, false);
}

/*
 * Synopsis words: literal words and options bold, upper-case
 * placeholders (PATH, D) italic, punctuation ([ ] | ...) as it is.
 */
static void put_syntax(FILE *f, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		bool lower = false, alnum = false;

		while (j < n && word_char(s[j])) {
			lower |= islower((unsigned char)s[j]) != 0;
			alnum |= isalnum((unsigned char)s[j]) != 0;
			j++;
		}
		/* "..." after a word is punctuation. */
		while (alnum && s[j - 1] == '.')
			j--;
		if (j == i) {
			j = i + 1;
		} else if (alnum) {
			fputs(lower || s[i] == '-' ||
					      !isalpha((unsigned char)s[j - 1])
				      ? "\\fB"
				      : "\\fI",
			      f);
			put_text_as(f, s + i, j - i, true);
			fputs("\\fR", f);
			i = j;
			continue;
		}
		put_text(f, s + i, j - i);
		i = j;
	}
}

/* Does the line end at or before s + n? */
static const char *line_end(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));

	return nl ? nl : end;
}

/*
 * The indented list of one paragraph (s, n).  The text starts at the
 * column of the continuation lines (the paragraph's deepest indent);
 * without any, after the first run of two spaces of each line.
 */
static void parse_entries(struct entries *out, const char *s, size_t n)
{
	const char *end = s + n, *p, *e;
	size_t min = (size_t)-1, max = 0, col;

	for (p = s; p < end; p = e + 1) {
		size_t ind;

		e = line_end(p, end);
		ind = indent_of(p, (size_t)(e - p));
		if (ind < min)
			min = ind;
		if (ind > max)
			max = ind;
	}
	col = max > min ? max : 0;
	for (p = s; p < end; p = e + 1) {
		size_t len, ind, at;
		struct entry *en;
		const char *gap;

		e = line_end(p, end);
		len = (size_t)(e - p);
		ind = indent_of(p, len);
		if (col && ind >= col && out->nr) {
			en = &out->v[out->nr - 1];
			strbuf_addch(&en->text, '\n');
			strbuf_add(&en->text, p + ind, len - ind);
			continue;
		}
		out->v = xrealloc(out->v, (out->nr + 1) * sizeof(*out->v));
		en = &out->v[out->nr++];
		strbuf_init(&en->term);
		strbuf_init(&en->text);
		en->used = false;
		if (col && len > col && p[col - 1] == ' ' && p[col] != ' ') {
			at = col;
		} else {
			gap = strstr(p + ind, "  ");
			at = gap && gap < e ? (size_t)(gap - p) : len;
		}
		while (at > ind && p[at - 1] == ' ')
			at--;
		strbuf_add(&en->term, p + ind, at - ind);
		while (at < len && p[at] == ' ')
			at++;
		strbuf_add(&en->text, p + at, len - at);
	}
}

static void put_entry(FILE *f, const struct entry *en)
{
	const char *s = en->text.buf, *end = s + en->text.len, *e;

	fputs(".TP\n", f);
	put_syntax(f, en->term.buf, en->term.len);
	fputc('\n', f);
	for (; s < end; s = e + 1) {
		e = line_end(s, end);
		put_text(f, s, (size_t)(e - s));
		fputc('\n', f);
	}
}

/* Is "--name" in s (n bytes), as a whole option? */
static const char *find_option(const char *s, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i + len + 2 <= n; i++) {
		if (s[i] != '-' || s[i + 1] != '-' ||
		    (i && word_char(s[i - 1])) || strncmp(s + i + 2, name, len))
			continue;
		if (i + len + 2 == n || !word_char(s[i + len + 2]))
			return s + i;
	}
	return NULL;
}

/* The synopsis: the usage up to its first blank line. */
static size_t synopsis_len(const char *usage)
{
	const char *e = strstr(usage, "\n\n");

	return e ? (size_t)(e - usage) : strlen(usage);
}

bool cli_option_documented(const struct command *cmd,
			   const struct cli_option *o)
{
	const struct cli_option *p;
	size_t n = synopsis_len(cmd->usage);

	if (find_option(cmd->usage, n, o->name))
		return true;
	for (p = cmd->options; p && p->name; p++)
		if (find_option(cmd->usage, n, p->name))
			return false;
	return true;
}

/* An option's term: "-D, --domain D", its value named as the usage
 * names it. */
static void option_term(struct strbuf *sb, const struct command *cmd,
			const struct cli_option *o)
{
	const char *u = cmd->usage, *at;
	size_t n;

	if (o->id < 0x80 && isalpha(o->id))
		strbuf_addf(sb, "-%c, ", o->id);
	strbuf_addf(sb, "--%s", o->name);
	if (!o->has_arg)
		return;
	at = find_option(u, synopsis_len(u), o->name);
	if (!at)
		at = find_option(u, strlen(u), o->name);
	if (at && at[strlen(o->name) + 2] == ' ') {
		at += strlen(o->name) + 3;
		for (n = 0; at[n] && (word_char(at[n]) || at[n] == '|'); n++)
			;
		while (n && at[n - 1] == '.')
			n--;
		if (n && at[0] != '-') {
			strbuf_addch(sb, ' ');
			strbuf_add(sb, at, n);
			return;
		}
	}
	strbuf_addstr(sb, " VALUE");
}

/* The options of cmd its usage documents, each with the usage's own
 * entry for it when there is one, else the table's help. */
static void put_options(FILE *f, const struct command *cmd, struct entries *e,
			const char *title)
{
	const struct cli_option *o;
	bool any = false;

	for (o = cmd->options; o && o->name; o++) {
		struct entry gen = {STRBUF_INIT, STRBUF_INIT, false};
		const struct entry *en = NULL;

		if (!cli_option_documented(cmd, o))
			continue;
		for (size_t i = 0; i < e->nr && !en; i++)
			if (find_option(e->v[i].term.buf, e->v[i].term.len,
					o->name)) {
				e->v[i].used = true;
				en = &e->v[i];
			}
		if (!en) {
			option_term(&gen.term, cmd, o);
			strbuf_addstr(&gen.text, o->help);
			en = &gen;
		}
		if (!any)
			fprintf(f, ".PP\n%s:\n", title);
		any = true;
		put_entry(f, en);
		strbuf_release(&gen.term);
		strbuf_release(&gen.text);
	}
}

/* The synopsis forms, right after the .SS: a line that starts with the
 * command's name (after an optional "ipamctl ") starts one, other lines
 * continue it. */
static void put_forms(FILE *f, const struct command *cmd, const char *s,
		      size_t n)
{
	const char *end = s + n, *p, *e;
	size_t len = strlen(cmd->name);
	bool first = true;

	for (p = s; p < end; p = e + 1) {
		const char *w;

		e = line_end(p, end);
		w = p + indent_of(p, (size_t)(e - p));
		if (!strncmp(w, "ipamctl ", 8))
			w += 8;
		if (first || (!strncmp(w, cmd->name, len) && w[len] == ' ')) {
			if (!first)
				fputs(".br\n", f);
			fputs("\\fBipamctl\\fR ", f);
		}
		first = false;
		put_syntax(f, w, (size_t)(e - w));
		fputc('\n', f);
	}
}

static const char *next_paragraph(const char *s, const char **after)
{
	const char *e = strstr(s, "\n\n");

	if (!e) {
		*after = NULL;
		return s + strlen(s);
	}
	*after = e + 2;
	return e;
}

/* A paragraph of running text, or an indented list whose option entries
 * are left for put_options. */
static void put_paragraph(FILE *f, const char *s, const char *e,
			  struct entries *all)
{
	const char *p, *le;

	if (*s == ' ') {
		size_t from = all->nr;

		parse_entries(all, s, (size_t)(e - s));
		for (size_t i = from; i < all->nr; i++)
			if (all->v[i].term.buf[0] != '-')
				put_entry(f, &all->v[i]);
		return;
	}
	fputs(".PP\n", f);
	for (p = s; p < e; p = le + 1) {
		le = line_end(p, e);
		put_text(f, p, (size_t)(le - p));
		fputc('\n', f);
	}
}

static void put_command(FILE *f, const struct command *cmd)
{
	struct entries all = {NULL, 0};
	const char *s = cmd->usage, *e, *next;
	const struct cli_subcommand *sub;

	fputs(".SS ", f);
	put_text_as(f, cmd->name, strlen(cmd->name), true);
	fputc('\n', f);
	e = next_paragraph(s, &next);
	put_forms(f, cmd, s, (size_t)(e - s));
	fprintf(f, ".PP\n%c", toupper((unsigned char)cmd->summary[0]));
	put_text(f, cmd->summary + 1, strlen(cmd->summary + 1));
	fputs(".\n", f);
	while ((s = next)) {
		e = next_paragraph(s, &next);
		put_paragraph(f, s, e, &all);
	}
	put_options(f, cmd, &all, "Options");
	for (sub = cmd->subcommands; sub && sub->name; sub++) {
		struct strbuf title = STRBUF_INIT;

		if (!sub->cmd)
			continue;
		strbuf_addf(&title, "Options of \\fB%s %s\\fR", cmd->name,
			    sub->name);
		put_options(f, sub->cmd, &all, title.buf);
		strbuf_release(&title);
	}
	/* An option entry no table claims stays where the usage put it. */
	for (size_t i = 0; i < all.nr; i++)
		if (all.v[i].term.buf[0] == '-' && !all.v[i].used)
			put_entry(f, &all.v[i]);
	entries_release(&all);
}

static void put_global_options(FILE *f, const struct cli_table *t)
{
	struct entries all = {NULL, 0};
	const char *s = strchr(cli_global_help + 1, '\n');
	const struct cli_option *o;

	fputs(".SH GLOBAL OPTIONS\nBefore or after the command:\n", f);
	if (s)
		parse_entries(&all, s + 1, strlen(s + 1) - 1);
	for (size_t i = 0; i < all.nr; i++)
		put_entry(f, &all.v[i]);
	entries_release(&all);
	fputs(".PP\nBefore the command only:\n", f);
	for (o = t->main_options; o && o->name; o++) {
		struct strbuf term = STRBUF_INIT;

		strbuf_addf(&term, "--%s", o->name);
		fputs(".TP\n", f);
		put_syntax(f, term.buf, term.len);
		fputc('\n', f);
		put_text(f, o->help, strlen(o->help));
		fputc('\n', f);
		strbuf_release(&term);
	}
}

void cli_man_page(FILE *f, const struct cli_table *t)
{
	fputs(".SH SYNOPSIS\n"
	      ".B ipamctl\n"
	      "[\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] "
	      "[\\fIarguments\\fR]\n"
	      ".br\n"
	      ".B ipamctl\n"
	      "\\fIcommand\\fR \\fB\\-\\-help\\fR\n"
	      ".br\n"
	      ".B ipamctl help\n"
	      "[\\fIcommand\\fR]\n"
	      ".br\n"
	      ".B ipamctl \\-\\-version\n"
	      ".SH COMMANDS\n",
	      f);
	for (size_t i = 0; i < t->nr; i++)
		put_command(f, t->cmds[i]);
	put_global_options(f, t);
}
