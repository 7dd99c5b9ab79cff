/*
 * What the report's HTML and Markdown renderers share: the sections and
 * their columns, read from the document tree the same way.
 */
#ifndef IPAM_REPORTOUT_INTERNAL_H
#define IPAM_REPORTOUT_INTERNAL_H

#include "reportout.h"

enum ipam_reportout_kind {
	RCOL_TEXT,   /* any value, flattened */
	RCOL_STATUS, /* a status word, coloured by what it means */
	RCOL_ACCESS, /* access status with its reasons (key "reasons") */
	RCOL_BAR,    /* percent as a utilization bar (state: "state") */
	RCOL_TREND,  /* a sequence of percents as a sparkline */
	RCOL_BOOL,   /* yes / no */
	RCOL_DRIFT,  /* true: drift (bad), false: none (good) */
};

struct ipam_reportout_col {
	const char *head;
	const char *key;
	enum ipam_reportout_kind kind;
};

struct ipam_reportout_table {
	const char *title; /* a sub-heading, or NULL */
	const char *path;  /* the sequence of rows under the root */
	const struct ipam_reportout_col *cols;
	const char *empty; /* said when there is no row */
};

struct ipam_reportout_section {
	const char *id, *title;
	const struct ipam_reportout_table *tables; /* {NULL path} ends */
};

extern const struct ipam_reportout_section ipam_reportout_sections[];

/* The text of a scalar (NULL for null or a missing value); numbers and
 * booleans in buf.  Maps and sequences are flattened into flat. */
const char *ipam_reportout_text(const struct ipam_node *v, char buf[32],
				struct strbuf *flat);
/* "good", "warn", "bad" or "info" for a status word. */
const char *ipam_reportout_status_class(const char *s);
/* The percent of a row's value, clamped to 0..100 (-1 when none). */
double ipam_reportout_percent(const struct ipam_node *v);

#endif
