#include "dhcplog.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

#include "banned.h"

/*
 * One line at a time, in a buffer of fixed size: a line is copied into it
 * once, split there in place and handed out, so the work is linear in
 * the bytes fed and the memory independent of the file.  A line that
 * does not fit is counted and skipped to its end.
 */

enum field {
	F_ID,
	F_DATE,
	F_TIME,
	F_DESC,
	F_IP,
	F_HOST,
	F_CLIENT,
	F_USER,
	F_TXID,
	F_QRESULT,
	F_PROBATION,
	F_CORR,
	F_DHCID,
	F_VC_HEX,
	F_VC_ASCII,
	F_UC_HEX,
	F_UC_ASCII,
	F_RELAY,
	F_DNSREG,
	F_ERRCODE,
	F_SUBNET,
	F_NR
};

/* Column names as both logs spell them (compared trimmed, any case,
 * without a trailing '.'); family 0 for columns both have. */
static const struct {
	const char *name;
	enum field f;
	int family;
} known_columns[] = {
	{"ID", F_ID, 0},
	{"Date", F_DATE, 0},
	{"Time", F_TIME, 0},
	{"Description", F_DESC, 0},
	{"IP Address", F_IP, 4},
	{"IPv6 Address", F_IP, 6},
	{"Host Name", F_HOST, 0},
	{"MAC Address", F_CLIENT, 4},
	{"Duid Bytes(Hex)", F_CLIENT, 6},
	{"User Name", F_USER, 0},
	{"TransactionID", F_TXID, 0},
	{"QResult", F_QRESULT, 0},
	{"Probationtime", F_PROBATION, 0},
	{"CorrelationID", F_CORR, 0},
	{"Dhcid", F_DHCID, 0},
	{"VendorClass(Hex)", F_VC_HEX, 0},
	{"VendorClass(ASCII)", F_VC_ASCII, 0},
	{"UserClass(Hex)", F_UC_HEX, 0},
	{"UserClass(ASCII)", F_UC_ASCII, 0},
	{"RelayAgentInformation", F_RELAY, 0},
	{"DnsRegError", F_DNSREG, 0},
	{"Error Code", F_ERRCODE, 6},
	{"Subnet Prefix", F_SUBNET, 6},
};

#define MAX_COLUMNS 64
/* A line's bytes as held: its content, a CR and the NUL. */
#define HOLD_SIZE (IPAM_DHCPLOG_MAX_LINE + 2)

struct ipam_dhcplog {
	int family;    /* from the file name, then the column line */
	int ncols;     /* 0: no column line yet */
	int in_header; /* a header block began again after events */
	int skipping;  /* the current line is too long */
	int failed;    /* a callback's code: the feed stopped for good */
	int colmap[MAX_COLUMNS];
	char *columns;	 /* the column line as seen, trimmed */
	size_t held;	 /* bytes of the incomplete line fed so far */
	size_t hold_len; /* of them in hold (0 while skipping) */
	size_t consumed; /* bytes up to the end of the last complete line */
	size_t line;	 /* number of the last complete line */
	ipam_dhcplog_event_fn on_event;
	ipam_dhcplog_bad_fn on_bad;
	void *ctx;
	char hold[HOLD_SIZE];
};

static char *trim(char *s, char **endp)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	if (endp)
		*endp = e;
	return s;
}

static int is_column_line(const char *s)
{
	return !strncasecmp(s, "ID", 2) && (s[2] == ',' || s[2] == ' ');
}

static int column_field(const char *name, int *family)
{
	for (size_t i = 0; i < sizeof(known_columns) / sizeof(known_columns[0]);
	     i++)
		if (!strcasecmp(name, known_columns[i].name)) {
			if (known_columns[i].family)
				*family = known_columns[i].family;
			return (int)known_columns[i].f;
		}
	return -1;
}

/* Take a column line (s is modified); 0, or -1 when it is not one. */
static int set_columns(struct ipam_dhcplog *p, char *s)
{
	int map[MAX_COLUMNS], n = 0, family = p->family, seen = 0;
	char *copy = xstrdup(s), *field = s;

	for (;;) {
		char *comma = strchr(field, ','), *end, *name;

		if (comma)
			*comma = '\0';
		name = trim(field, &end);
		if (end > name && end[-1] == '.')
			end[-1] = '\0';
		if (n == MAX_COLUMNS)
			break;
		map[n] = column_field(trim(name, NULL), &family);
		if (map[n] >= 0)
			seen |= 1 << map[n];
		n++;
		if (!comma)
			break;
		field = comma + 1;
	}
	if ((seen & 7) != 7) { /* ID, Date and Time at least */
		free(copy);
		return -1;
	}
	memcpy(p->colmap, map, sizeof(map[0]) * (size_t)n);
	p->ncols = n;
	p->family = family;
	p->in_header = 0;
	free(p->columns);
	p->columns = copy;
	return 0;
}

/* Digits only, 1 to max of them, as a number; -1 otherwise. */
static long digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	long v = 0;

	if (n < min || n > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Three numbers separated by sep, each of 1-2 digits (the last may have
 * up to last_max); 0 or -1. */
static int triple(const char *s, int sep, size_t last_max, long v[3])
{
	char part[8];
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		const char *e = i < 2 ? strchr(p, sep) : p + strlen(p);
		size_t n;

		if (!e)
			return -1;
		n = (size_t)(e - p);
		if (n >= sizeof(part))
			return -1;
		memcpy(part, p, n);
		part[n] = '\0';
		v[i] = digits(part, 1, i < 2 ? 2 : last_max);
		if (v[i] < 0)
			return -1;
		p = e + 1;
	}
	return 0;
}

static int days_in_month(long y, long m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int bad(struct ipam_dhcplog *p, const char *what, const char *value)
{
	char why[96];
	int n = (int)strlen(value);

	if (!p->on_bad)
		return 0;
	if (!value[0] && what[0] == 'b')
		snprintf(why, sizeof(why), "%s: empty", what);
	else if (n > 32)
		snprintf(why, sizeof(why), "%s '%.32s...'", what, value);
	else if (value[0])
		snprintf(why, sizeof(why), "%s '%s'", what, value);
	else
		snprintf(why, sizeof(why), "%s", what);
	return p->on_bad(p->line, why, p->ctx);
}

/* A bad line reported: 1 to go on, or the callback's code. */
static int reported(int rc)
{
	return rc ? rc : 1;
}

/* 0, 1 when the line was bad (and reported), or a callback's code. */
static int set_date_time(struct ipam_dhcplog *p, struct ipam_dhcplog_event *e,
			 const char *date, const char *time)
{
	const char *year = strrchr(date, '/');
	size_t ylen = year ? strlen(year + 1) : 0;
	long d[3], t[3];

	if (triple(date, '/', 4, d) || (ylen != 2 && ylen != 4) || d[0] < 1 ||
	    d[0] > 12 || d[1] < 1)
		return reported(bad(p, "bad date", date));
	if (d[2] < 100)
		d[2] += 2000;
	if (d[1] > days_in_month(d[2], d[0]))
		return reported(bad(p, "bad date", date));
	if (triple(time, ':', 2, t) || t[0] > 23 || t[1] > 59 || t[2] > 60)
		return reported(bad(p, "bad time", time));
	e->year = (int)d[2];
	e->month = (int)d[0];
	e->day = (int)d[1];
	e->hour = (int)t[0];
	e->minute = (int)t[1];
	e->second = (int)t[2];
	return 0;
}

static void assign(struct ipam_dhcplog_event *e, enum field f, const char *v)
{
	const char **slot[F_NR] = {
		[F_DESC] = &e->description,
		[F_IP] = &e->ip,
		[F_HOST] = &e->host,
		[F_CLIENT] = &e->client_id,
		[F_USER] = &e->user_name,
		[F_TXID] = &e->transaction_id,
		[F_QRESULT] = &e->qresult,
		[F_PROBATION] = &e->probation_time,
		[F_CORR] = &e->correlation_id,
		[F_DHCID] = &e->dhcid,
		[F_VC_HEX] = &e->vendor_class_hex,
		[F_VC_ASCII] = &e->vendor_class_ascii,
		[F_UC_HEX] = &e->user_class_hex,
		[F_UC_ASCII] = &e->user_class_ascii,
		[F_RELAY] = &e->relay_agent,
		[F_DNSREG] = &e->dns_reg_error,
		[F_ERRCODE] = &e->error_code,
		[F_SUBNET] = &e->subnet_prefix,
	};

	if (slot[f])
		*slot[f] = v;
}

/* An event line (s is modified): the callback's code, 0 after a bad
 * line reported. */
static int event_line(struct ipam_dhcplog *p, char *s)
{
	struct ipam_dhcplog_event e = {0};
	const char *val[F_NR];
	char *field = s;
	long id;
	int n = 0, rc;

	for (int i = 0; i < F_NR; i++)
		val[i] = "";
	for (;;) {
		char *comma = strchr(field, ',');

		if (comma)
			*comma = '\0';
		if (n == p->ncols) {
			char count[64];

			while (comma) {
				n++;
				comma = strchr(comma + 1, ',');
			}
			snprintf(count, sizeof(count),
				 "%d fields where the column line has %d",
				 n + 1, p->ncols);
			return bad(p, count, "");
		}
		if (p->colmap[n] >= 0)
			val[p->colmap[n]] = trim(field, NULL);
		n++;
		if (!comma)
			break;
		field = comma + 1;
	}
	id = digits(val[F_ID], 1, 5);
	if (id < 0)
		return bad(p, "bad event id", val[F_ID]);
	rc = set_date_time(p, &e, val[F_DATE], val[F_TIME]);
	if (rc)
		return rc > 0 ? 0 : rc;
	e.family = p->family;
	e.event_id = (int)id;
	for (int f = F_DESC; f < F_NR; f++)
		assign(&e, (enum field)f, val[f]);
	e.line = p->line;
	return p->on_event ? p->on_event(&e, p->ctx) : 0;
}

/* A complete line in hold (hold_len bytes, its '\n' dropped). */
static int one_line(struct ipam_dhcplog *p)
{
	char *s = p->hold;
	size_t n = p->hold_len;

	if (n && s[n - 1] == '\r')
		n--;
	if (n > IPAM_DHCPLOG_MAX_LINE)
		return bad(p, "line longer than 8192 bytes", "");
	s[n] = '\0';
	if (memchr(s, '\0', n))
		return bad(p, "NUL byte in the line", "");
	s = trim(s, NULL);
	if (!*s)
		return 0;
	if (is_column_line(s)) {
		if (set_columns(p, s) && p->ncols && !p->in_header)
			return bad(p, "bad column line", "");
		return 0;
	}
	if (!p->ncols || p->in_header)
		return 0; /* the header block */
	if (!isdigit((unsigned char)*s)) {
		if (strstr(s, "Service Activity Log")) {
			p->in_header = 1; /* a new header block */
			return 0;
		}
		return bad(p, "not an event line", s);
	}
	return event_line(p, s);
}

struct ipam_dhcplog *ipam_dhcplog_new(int family, const char *columns,
				      size_t line,
				      ipam_dhcplog_event_fn on_event,
				      ipam_dhcplog_bad_fn on_bad, void *ctx)
{
	struct ipam_dhcplog *p = xcalloc(1, sizeof(*p));

	p->family = family == 6 ? 6 : 4;
	p->line = line ? line - 1 : 0;
	p->on_event = on_event;
	p->on_bad = on_bad;
	p->ctx = ctx;
	if (columns) {
		char *copy = xstrdup(columns), *s;
		size_t n = strcspn(copy, "\r\n");

		copy[n] = '\0';
		s = trim(copy, NULL);
		if (is_column_line(s))
			set_columns(p, s);
		free(copy);
	}
	return p;
}

/* The line in hold is complete (chunk bytes of it in this call).  It
 * counts as consumed before the callbacks see it: an importer that
 * commits in a callback stores a position after the line it stored. */
static int complete(struct ipam_dhcplog *p, size_t chunk)
{
	int skipped = p->skipping;

	p->consumed += p->held + chunk + 1;
	p->line++;
	p->held = 0;
	p->skipping = 0;
	if (skipped)
		return bad(p, "line longer than 8192 bytes", "");
	return one_line(p);
}

int ipam_dhcplog_feed(struct ipam_dhcplog *p, const char *buf, size_t len)
{
	size_t pos = 0;

	if (p->failed)
		return p->failed;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t chunk = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		if (!p->skipping && p->hold_len + chunk > HOLD_SIZE - 1) {
			p->skipping = 1;
			p->hold_len = 0;
		}
		if (!p->skipping) {
			memcpy(p->hold + p->hold_len, buf + pos, chunk);
			p->hold_len += chunk;
		}
		if (!nl) {
			p->held += chunk;
			break;
		}
		p->failed = complete(p, chunk);
		p->hold_len = 0;
		if (p->failed)
			return p->failed;
		pos += chunk + 1;
	}
	return 0;
}

size_t ipam_dhcplog_consumed(const struct ipam_dhcplog *p)
{
	return p->consumed;
}

size_t ipam_dhcplog_lines(const struct ipam_dhcplog *p)
{
	return p->line;
}

const char *ipam_dhcplog_columns(const struct ipam_dhcplog *p)
{
	return p->columns;
}

void ipam_dhcplog_free(struct ipam_dhcplog *p)
{
	if (!p)
		return;
	free(p->columns);
	free(p);
}

int ipam_dhcplog_family(const char *file_name)
{
	const char *base = strrchr(file_name, '/');
	size_t n;

	base = base ? base + 1 : file_name;
	n = strlen(base);
	if (n < 4 || strcasecmp(base + n - 4, ".log"))
		return 0;
	if (!strncasecmp(base, "DhcpSrvLog-", 11))
		return 4;
	if (!strncasecmp(base, "DhcpV6SrvLog-", 13))
		return 6;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One group of a client id between separators: 0 or -1. */
static int add_group(struct strbuf *out, const char *g, size_t n, int sep)
{
	if (!n || ((sep == ':' || sep == '-') && n > 2) ||
	    ((sep == '.' || !sep) && n % 2))
		return -1;
	if (n == 1)
		strbuf_addch(out, '0'); /* aa:b:cc */
	for (size_t i = 0; i < n; i++) {
		if (hexval((unsigned char)g[i]) < 0)
			return -1;
		strbuf_addch(out, (char)tolower((unsigned char)g[i]));
	}
	return 0;
}

int ipam_client_id_normalize(struct strbuf *out, const char *s)
{
	size_t start = out->len, n, k;
	const char *p = s, *end;
	int sep;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - p > 2 && !strncasecmp(p, "0x", 2))
		p += 2;
	n = (size_t)(end - p);
	k = strcspn(p, ":-.");
	sep = k < n ? p[k] : 0;
	if (!n)
		goto invalid;
	while (p < end) {
		const char *g = p;

		while (p < end && *p != sep)
			p++;
		if (add_group(out, g, (size_t)(p - g), sep))
			goto invalid;
		if (p < end && ++p == end)
			goto invalid; /* a trailing separator */
	}
	return 0;
invalid:
	out->len = start;
	out->buf[start] = '\0';
	return ipam_error_set(IPAM_EINVAL,
			      "'%s' is not a MAC address or DUID (hex bytes, "
			      "as aa:bb:cc, aa-bb-cc, aabb.cc or aabbcc)",
			      s);
}
