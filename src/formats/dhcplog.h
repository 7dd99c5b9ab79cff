/*
 * The DHCP server's audit log (DhcpSrvLog-<Day>.log for IPv4,
 * DhcpV6SrvLog-<Day>.log for IPv6): a header block of text, a column
 * line ("ID,Date,Time,Description,..."), then one comma-separated event
 * per line, CRLF or LF.  The column line says which of the formats a
 * file uses (the old seven columns, the current nineteen, the IPv6
 * columns); fields are taken by the column's name, so a column the
 * parser does not know is skipped and a missing one is empty.  A
 * column line it does not know (a localised server's) is header: the
 * event lines after it are read in the usual column order.
 *
 * The parser is fed bytes as they come (a file read in pieces over SMB)
 * and keeps at most one line: a line longer than IPAM_DHCPLOG_MAX_LINE is
 * malformed, and skipped up to its end without being held.  It can resume
 * in the middle of a file: start it with the column line and the number
 * of the next line.
 *
 * Prefixes: ipam_dhcplog_, ipam_client_id_
 */
#ifndef IPAM_DHCPLOG_H
#define IPAM_DHCPLOG_H

#include <stddef.h>

#include "strbuf.h"

#define IPAM_DHCPLOG_MAX_LINE 8192

/* The text fields of an event in the order of the struct below, from
 * description to subnet_prefix: the indexes of its len[]. */
enum ipam_dhcplog_text {
	IPAM_DHCPLOG_DESCRIPTION,
	IPAM_DHCPLOG_IP,
	IPAM_DHCPLOG_HOST,
	IPAM_DHCPLOG_CLIENT_ID,
	IPAM_DHCPLOG_USER_NAME, /* the first of the extra columns */
	IPAM_DHCPLOG_TEXTS = 18
};

/*
 * One event as the file has it.  The strings are NUL-terminated, never
 * NULL ("" when empty or absent) and valid only during the callback.
 */
struct ipam_dhcplog_event {
	int family;   /* 4 or 6 (from the column line) */
	int event_id; /* the ID column: 0..99999 (IPv6: 11000 and up) */
	/* The server's local time as written (MM/DD/YY, HH:MM:SS). */
	int year, month, day, hour, minute, second;
	const char *description;
	const char *ip; /* "IP Address" or "IPv6 Address" */
	const char *host;
	/* "MAC Address" (IPv4) or "Duid Bytes(Hex)" (IPv6), as written. */
	const char *client_id;
	const char *user_name, *transaction_id, *qresult, *probation_time;
	const char *correlation_id, *dhcid;
	const char *vendor_class_hex, *vendor_class_ascii;
	const char *user_class_hex, *user_class_ascii;
	const char *relay_agent, *dns_reg_error;
	const char *error_code, *subnet_prefix; /* IPv6 */
	size_t line;				/* 1-based line number */
	/* The strlen of each text field (enum ipam_dhcplog_text), so that
	 * nobody counts them again; the parser sets it, an event made
	 * otherwise may leave it NULL. */
	const size_t *len;
	/* No '\\' in the line: no text field holds a byte that
	 * ipam_db_events_escape escapes (a field never has a ',' or '\n'). */
	int plain;
};

/* An event: 0 to go on, a negative IPAM_E* code to stop the feed. */
typedef int (*ipam_dhcplog_event_fn)(const struct ipam_dhcplog_event *e,
				     void *ctx);
/* A malformed line (why: "bad date '13/45/26'"): 0 or stop, as above. */
typedef int (*ipam_dhcplog_bad_fn)(size_t line, const char *why, void *ctx);

struct ipam_dhcplog;

/*
 * A parser for a file of family (4 or 6, from its name).  columns: the
 * column line the file had (from a previous read), or NULL to read the
 * file from its first line; line: the number of the first line fed.
 */
struct ipam_dhcplog *ipam_dhcplog_new(int family, const char *columns,
				      size_t line,
				      ipam_dhcplog_event_fn on_event,
				      ipam_dhcplog_bad_fn on_bad, void *ctx);
/*
 * Parse the complete lines in buf (an incomplete last line is kept for
 * the next call).  Returns 0, or what a callback returned: the parser
 * then stops for good (each later feed returns the same).
 */
int ipam_dhcplog_feed(struct ipam_dhcplog *p, const char *buf, size_t len);
/* Bytes fed up to the end of the last complete line (the resume offset
 * is the starting offset plus this), and the number of that line (the
 * line given to new, minus one, plus the lines consumed since).  In a
 * callback both already count the line handed out. */
size_t ipam_dhcplog_consumed(const struct ipam_dhcplog *p);
size_t ipam_dhcplog_lines(const struct ipam_dhcplog *p);
/* The column line in use, NULL while none was seen. */
const char *ipam_dhcplog_columns(const struct ipam_dhcplog *p);
void ipam_dhcplog_free(struct ipam_dhcplog *p);

/* 4 for DhcpSrvLog-*.log, 6 for DhcpV6SrvLog-*.log (any case), 0 for
 * any other name. */
int ipam_dhcplog_family(const char *file_name);

/*
 * A client id (MAC or DUID) in any common notation, "00:15:5D:0A:01:01",
 * "00-15-5d-0a-01-01", "0015.5d0a.0101", "00155D0A0101", as lower-case
 * hex without separators; IPAM_EINVAL when it is not hex bytes.
 */
int ipam_client_id_normalize(struct strbuf *out, const char *s);

#endif
