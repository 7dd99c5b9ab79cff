#include "diag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "banned.h"

void ipam_diags_add(struct ipam_diags *d, enum ipam_diag_severity sev,
		    const struct ipam_pos *pos, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct ipam_diag *diag;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(d->items, d->nr + 1, d->alloc);
	diag = &d->items[d->nr++];
	diag->severity = sev;
	memset(&diag->pos, 0, sizeof(diag->pos));
	if (pos) {
		diag->pos = *pos;
		/* Diagnostics outlive the model whose file names they cite. */
		diag->pos.file = pos->file ? xstrdup(pos->file) : NULL;
	}
	diag->message = strbuf_detach(&sb, NULL);
	if (sev == IPAM_DIAG_ERROR)
		d->errors++;
}

static int cmp_diag(const void *a, const void *b)
{
	const struct ipam_diag *x = a, *y = b;
	int c;

	c = strcmp(x->pos.file ? x->pos.file : "",
		   y->pos.file ? y->pos.file : "");
	if (c)
		return c;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	if (x->severity != y->severity)
		return x->severity < y->severity ? -1 : 1;
	return strcmp(x->message, y->message);
}

void ipam_diags_sort(struct ipam_diags *d)
{
	size_t i, out = 0;

	if (!d->nr)
		return;
	qsort(d->items, d->nr, sizeof(*d->items), cmp_diag);
	for (i = 0; i < d->nr; i++) {
		if (out && !cmp_diag(&d->items[out - 1], &d->items[i])) {
			if (d->items[i].severity == IPAM_DIAG_ERROR)
				d->errors--;
			free(d->items[i].message);
			free((void *)(uintptr_t)d->items[i].pos.file);
			continue;
		}
		d->items[out++] = d->items[i];
	}
	d->nr = out;
}

void ipam_diag_format(struct strbuf *out, const struct ipam_diag *diag)
{
	const struct ipam_pos *p = &diag->pos;

	/* A file name and a message may quote anything a YAML file holds. */
	ipam_text_add_escaped(out, p->file);
	if (p->file && p->line)
		strbuf_addf(out, ":%d:%d: ", p->line, p->col);
	else if (p->file)
		strbuf_addstr(out, ": ");
	if (diag->severity == IPAM_DIAG_WARNING)
		strbuf_addstr(out, "warning: ");
	ipam_text_add_escaped(out, diag->message);
}

void ipam_diags_free(struct ipam_diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nr; i++) {
		free(d->items[i].message);
		free((void *)(uintptr_t)d->items[i].pos.file);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}
