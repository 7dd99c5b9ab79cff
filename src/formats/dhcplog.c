#include "dhcplog.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

_Static_assert(F_SUBNET - F_DESC + 1 == IPAM_DHCPLOG_TEXTS &&
		       F_CLIENT - F_DESC == IPAM_DHCPLOG_CLIENT_ID &&
		       F_USER - F_DESC == IPAM_DHCPLOG_USER_NAME,
	       "the text fields in the order of enum ipam_dhcplog_text");

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
	/* and room for next_comma's last read */
	char hold[HOLD_SIZE + 16];
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

/* "ID," or "ID " in any case (s[0] first: an event line's is a digit). */
static int is_column_line(const char *s)
{
	return (s[0] | 0x20) == 'i' && (s[1] | 0x20) == 'd' &&
	       (s[2] == ',' || s[2] == ' ');
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

/* Digits only, min to max of them, s..s+n, as a number; -1 otherwise. */
static long digits_n(const char *s, size_t n, size_t min, size_t max)
{
	long v = 0;

	if (n < min || n > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Three numbers separated by sep, each of 1-2 digits (the last may have
 * up to last_max); 0 or -1. */
static int triple(const char *s, int sep, size_t last_max, long v[3])
{
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		const char *e = p;

		while (*e && *e != sep)
			e++;
		if ((i < 2) != (*e == sep))
			return -1;
		v[i] = digits_n(p, (size_t)(e - p), 1, i < 2 ? 2 : last_max);
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

/* Two digits at s as a number, -1 otherwise. */
static int two_digits(const char *s)
{
	unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';

	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* The common "MM/DD/YY" and "HH:MM:SS" (lengths dn and tn) into e when
 * they are valid: 1, else 0 (set_date_time's general reading decides). */
static int fixed_date_time(struct ipam_dhcplog_event *e, const char *date,
			   size_t dn, const char *time, size_t tn)
{
	int m, d, y, hh, mm, ss;

	if (dn != 8 || tn != 8 || date[2] != '/' || date[5] != '/' ||
	    time[2] != ':' || time[5] != ':')
		return 0;
	m = two_digits(date);
	d = two_digits(date + 3);
	y = two_digits(date + 6);
	hh = two_digits(time);
	mm = two_digits(time + 3);
	ss = two_digits(time + 6);
	if (m < 1 || m > 12 || d < 1 || y < 0 || hh < 0 || hh > 23 || mm < 0 ||
	    mm > 59 || ss < 0 || ss > 60 || d > days_in_month(2000 + y, m))
		return 0;
	e->year = 2000 + y;
	e->month = m;
	e->day = d;
	e->hour = hh;
	e->minute = mm;
	e->second = ss;
	return 1;
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

/* The text fields of e from the line's values (each set once: a table
 * of slots built per field showed in bench/collect's profile), and their
 * lengths. */
static void assign(struct ipam_dhcplog_event *e, const char *const val[F_NR],
		   const size_t len[F_NR])
{
	e->len = len + F_DESC;
	e->description = val[F_DESC];
	e->ip = val[F_IP];
	e->host = val[F_HOST];
	e->client_id = val[F_CLIENT];
	e->user_name = val[F_USER];
	e->transaction_id = val[F_TXID];
	e->qresult = val[F_QRESULT];
	e->probation_time = val[F_PROBATION];
	e->correlation_id = val[F_CORR];
	e->dhcid = val[F_DHCID];
	e->vendor_class_hex = val[F_VC_HEX];
	e->vendor_class_ascii = val[F_VC_ASCII];
	e->user_class_hex = val[F_UC_HEX];
	e->user_class_ascii = val[F_UC_ASCII];
	e->relay_agent = val[F_RELAY];
	e->dns_reg_error = val[F_DNSREG];
	e->error_code = val[F_ERRCODE];
	e->subnet_prefix = val[F_SUBNET];
}

/* s..e without the spaces and tabs around it, NUL-terminated at its
 * end (e itself is a ',' or the line's end), which goes to *endp. */
static char *trim_span(char *s, char *e, char **endp)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	*endp = e;
	return s;
}

/*
 * The ',' of the COMMA_STEP bytes at q as bits (a line of the current
 * format has nineteen fields of seven bytes on average: a vector or word
 * at a time, each ',' then found by its bit; comma_at gives the byte of
 * a bit).  The hold has room for a vector read past the line's end.
 */
#ifdef __SSE2__
#define COMMA_STEP 16
static uint64_t comma_bits(const char *q)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);

	return (uint64_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(v, _mm_set1_epi8(',')));
}

static unsigned comma_at(uint64_t m)
{
	return (unsigned)__builtin_ctzll(m);
}
#else
#define COMMA_STEP 8
static uint64_t comma_bits(const char *q)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t w;

	memcpy(&w, q, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);   /* the first byte in the lowest bits */
#endif
	w ^= 0x2c2c2c2c2c2c2c2cULL; /* ',' in each byte: those become 0 */
	return ~(((w & low7) + low7) | w | low7);
}

static unsigned comma_at(uint64_t m)
{
	return (unsigned)__builtin_ctzll(m) >> 3;
}
#endif

/* The next field's end from the bytes at *base and their bits *m: the
 * next ',' before end, or end. */
static char *next_comma(char **base, uint64_t *m, char *end)
{
	char *q;

	while (!*m) {
		*base += COMMA_STEP;
		if (*base >= end)
			return end;
		*m = comma_bits(*base);
	}
	q = *base + comma_at(*m);
	*m &= *m - 1;
	return q < end ? q : end;
}

/* field..q (q: its ',' or the line's end) trimmed of spaces and tabs
 * and NUL-terminated; its length to *len. */
static const char *field_value(char *field, char *q, size_t *len)
{
	/* neither a space nor a tab above ' ': most fields are untrimmed */
	if (field < q && (unsigned char)*field <= ' ')
		while (field < q && (*field == ' ' || *field == '\t'))
			field++;
	if (q > field && (unsigned char)q[-1] <= ' ')
		while (q > field && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
	*q = '\0';
	*len = (size_t)(q - field);
	return field;
}

/* An event line s..end (modified): the callback's code, 0 after a bad
 * line reported. */
static int event_line(struct ipam_dhcplog *p, char *s, char *end)
{
	struct ipam_dhcplog_event e = {0};
	const char *val[F_NR];
	size_t len[F_NR] = {0};
	char *field = s, *base = s;
	uint64_t m = comma_bits(s);
	/* not read through p in the loop, whose stores are of chars */
	const int *colmap = p->colmap, ncols = p->ncols;
	long id;
	int n = 0, rc;

	for (int i = 0; i < F_NR; i++)
		val[i] = "";
	for (;;) {
		char *q = next_comma(&base, &m, end);

		if (n == ncols) {
			char count[64];

			for (; q < end; q++)
				n += *q == ',';
			snprintf(count, sizeof(count),
				 "%d fields where the column line has %d",
				 n + 1, p->ncols);
			return bad(p, count, "");
		}
		if (colmap[n] >= 0)
			val[colmap[n]] = field_value(field, q, &len[colmap[n]]);
		n++;
		if (q == end)
			break;
		field = q + 1;
	}
	id = digits_n(val[F_ID], len[F_ID], 1, 5);
	if (id < 0)
		return bad(p, "bad event id", val[F_ID]);
	if (!fixed_date_time(&e, val[F_DATE], len[F_DATE], val[F_TIME],
			     len[F_TIME])) {
		rc = set_date_time(p, &e, val[F_DATE], val[F_TIME]);
		if (rc)
			return rc > 0 ? 0 : rc;
	}
	e.family = p->family;
	e.event_id = (int)id;
	e.plain = !memchr(s, '\\', (size_t)(end - s));
	assign(&e, val, len);
	e.line = p->line;
	return p->on_event ? p->on_event(&e, p->ctx) : 0;
}

/* "10,11/02/26,..." and the like: an event line whatever the header. */
static int looks_like_event(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n >= 1 && n <= 5 && s[n] == ',' &&
	       isdigit((unsigned char)s[n + 1]) &&
	       (s[n + 2] == '/' ||
		(isdigit((unsigned char)s[n + 2]) && s[n + 3] == '/'));
}

/* The column lines Windows Server 2012 and later write, in English. */
static const char *default_columns(int family)
{
	if (family == 6)
		return "ID,Date,Time,Description,IPv6 Address,Host Name,"
		       "Error Code,Duid Length,Duid Bytes(Hex),User Name,"
		       "Dhcid,Subnet Prefix";
	return "ID,Date,Time,Description,IP Address,Host Name,MAC Address,"
	       "User Name,TransactionID,QResult,Probationtime,CorrelationID,"
	       "Dhcid,VendorClass(Hex),VendorClass(ASCII),UserClass(Hex),"
	       "UserClass(ASCII),RelayAgentInformation,DnsRegError";
}

/* A complete line in hold (hold_len bytes, its '\n' dropped). */
static int one_line(struct ipam_dhcplog *p)
{
	char *s = p->hold, *end;
	size_t n = p->hold_len;

	if (n && s[n - 1] == '\r')
		n--;
	if (n > IPAM_DHCPLOG_MAX_LINE)
		return bad(p, "line longer than 8192 bytes", "");
	s[n] = '\0';
	if (memchr(s, '\0', n))
		return bad(p, "NUL byte in the line", "");
	s = trim_span(s, s + n, &end);
	if (!*s)
		return 0;
	if (is_column_line(s)) {
		if (set_columns(p, s) && p->ncols && !p->in_header)
			return bad(p, "bad column line", "");
		return 0;
	}
	if (!p->ncols || p->in_header) {
		if (!looks_like_event(s))
			return 0; /* the header block */
		/* events after a header whose column line is not ours (a
		 * localised server): the columns in their usual order */
		if (!p->ncols) {
			char *cols = xstrdup(default_columns(p->family));

			set_columns(p, cols);
			free(cols);
		}
		p->in_header = 0;
	}
	if ((unsigned char)(*s - '0') > 9) {
		if (strstr(s, "Service Activity Log")) {
			p->in_header = 1; /* a new header block */
			return 0;
		}
		return bad(p, "not an event line", s);
	}
	return event_line(p, s, end);
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
	strbuf_grow(out, n + 1);
	if (n == 1)
		out->buf[out->len++] = '0'; /* aa:b:cc */
	for (size_t i = 0; i < n; i++) {
		int v = hexval((unsigned char)g[i]);

		if (v < 0) {
			out->buf[out->len] = '\0';
			return -1;
		}
		out->buf[out->len++] = "0123456789abcdef"[v];
	}
	out->buf[out->len] = '\0';
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
