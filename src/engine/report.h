/*
 * The report: everything an administrator looks at in IPAM's console,
 * from the state database, as one document tree (schemas/report.schema
 * .json) rendered as HTML, Markdown or JSON, and written to a file
 * atomically (a temporary file in the same directory, then rename) so a
 * web server or a CI artifact always serves a whole one.
 *
 * Prefixes: ipam_report_
 */
#ifndef IPAM_REPORT_H
#define IPAM_REPORT_H

#include "db.h"
#include "model.h"
#include "node.h"
#include "reportout.h"
#include "strbuf.h"

/* The latest IP address tracking events and runs a report shows. */
#define IPAM_REPORT_EVENTS   100
#define IPAM_REPORT_RUNS     10
#define IPAM_REPORT_TREND    30
#define IPAM_REPORT_UNMAPPED 100

/*
 * The report's tree from db at now (UTC seconds); d (may be NULL: the
 * default intervals) gives the scheduled tasks' intervals.
 */
int ipam_report_build(struct ipam_db *db, const struct ipam_desired *d,
		      long long now, struct ipam_node **out);

/* root rendered as fmt, appended to out. */
int ipam_report_render(struct strbuf *out, const struct ipam_node *root,
		       enum ipam_report_format fmt);

/* len bytes of data to path atomically, mode 0644. */
int ipam_report_write_file(const char *path, const char *data, size_t len);

/* Build, render and write the report of db to path. */
int ipam_report_write(struct ipam_db *db, const struct ipam_desired *d,
		      const char *path, enum ipam_report_format fmt);

#endif
