#include "tzif.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/*
 * A zone is a list of intervals of UTC time, each with one UTC offset:
 * the transitions of the file's data block, then (after the last one)
 * those the footer's POSIX TZ rule gives for each year.  Turning local
 * time into UTC walks the intervals around it and takes the first that
 * holds it.
 */

/* A POSIX TZ rule date: Jn, n or Mm.w.d, and the local time of day. */
struct rule_date {
	char kind; /* 'J', 'n' or 'M' */
	int n, m, w, d;
	long time;
};

struct footer {
	int present; /* a rule to use after the last transition */
	int has_dst;
	long std_off, dst_off; /* seconds east of UTC */
	struct rule_date start, end;
};

struct ipam_tz {
	size_t nr_trans;
	long long *trans;
	long *trans_off; /* the offset from trans[i] on */
	long first_off;	 /* before the first transition */
	struct footer rule;
};

#define TZIF_MAX (1024u * 1024)
#define DAY	 86400LL
/* No UTC offset reaches this far (RFC 8536: less than 25 hours). */
#define MAX_OFFSET (26 * 3600LL)

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static long long be64(const unsigned char *p)
{
	return (long long)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- dates ------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

long long ipam_tz_civil(int year, int month, int day, int hour, int minute,
			int second)
{
	/* the last day asked (a log's events are of a day or two) */
	static _Thread_local int last_y, last_m, last_d;
	static _Thread_local long long last_days;

	if (year != last_y || month != last_m || day != last_d || !last_m) {
		last_days = days_from_civil(year, month, day);
		last_y = year;
		last_m = month;
		last_d = day;
	}
	return last_days * DAY + hour * 3600LL + minute * 60LL + second;
}

static long long year_of(long long t)
{
	long long days = t >= 0 ? t / DAY : -((-t + DAY - 1) / DAY);
	long long z = days + 719468, era, doe, yoe, y, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return y + (mp >= 10);
}

static int is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(long long y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Seconds since the epoch (as if local were UTC) of a rule date in y. */
static long long rule_local(const struct rule_date *r, long long y)
{
	long long day;

	if (r->kind == 'J')
		day = days_from_civil(y, 1, 1) + r->n - 1 +
		      (is_leap(y) && r->n >= 60);
	else if (r->kind == 'n')
		day = days_from_civil(y, 1, 1) + r->n;
	else {
		long long first = days_from_civil(y, r->m, 1);
		/* 1970-01-01 was a Thursday (4) */
		int wd = (int)(((first % 7) + 7 + 4) % 7);
		int dom = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;

		while (dom > month_days(y, r->m))
			dom -= 7;
		day = first + dom - 1;
	}
	return day * DAY + r->time;
}

/* ---- the footer: a POSIX TZ string -------------------------------------- */

static int parse_name(const char **pp)
{
	const char *p = *pp;

	if (*p == '<') {
		const char *e = strchr(p, '>');

		if (!e || e - p < 4)
			return -1;
		*pp = e + 1;
		return 0;
	}
	while (isalpha((unsigned char)*p))
		p++;
	if (p - *pp < 3)
		return -1;
	*pp = p;
	return 0;
}

/* [+-]hh[:mm[:ss]], hours up to max_h; seconds. */
static int parse_hms(const char **pp, int max_h, long *out)
{
	const char *p = *pp;
	long sign = 1, v[3] = {0, 0, 0};

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (int i = 0; i < 3; i++) {
		int nd = 0;

		if (i && *p != ':')
			break;
		if (i)
			p++;
		while (isdigit((unsigned char)*p) && nd < 3) {
			v[i] = v[i] * 10 + (*p++ - '0');
			nd++;
		}
		if (!nd || (i && (nd != 2 || v[i] > 59)))
			return -1;
	}
	if (v[0] > max_h)
		return -1;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	*pp = p;
	return 0;
}

static int parse_num(const char **pp, int lo, int hi, int *out)
{
	const char *p = *pp;
	int v = 0, nd = 0;

	while (isdigit((unsigned char)*p) && nd < 4) {
		v = v * 10 + (*p++ - '0');
		nd++;
	}
	if (!nd || v < lo || v > hi)
		return -1;
	*out = v;
	*pp = p;
	return 0;
}

static int parse_date(const char **pp, struct rule_date *r)
{
	const char *p = *pp;

	r->time = 7200;
	if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (parse_num(&p, 1, 365, &r->n))
			return -1;
	} else if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (parse_num(&p, 1, 12, &r->m) || *p++ != '.' ||
		    parse_num(&p, 1, 5, &r->w) || *p++ != '.' ||
		    parse_num(&p, 0, 6, &r->d))
			return -1;
	} else {
		r->kind = 'n';
		if (parse_num(&p, 0, 365, &r->n))
			return -1;
	}
	if (*p == '/') {
		p++;
		if (parse_hms(&p, 167, &r->time))
			return -1;
	}
	*pp = p;
	return 0;
}

static int parse_footer(struct footer *f, const char *s)
{
	const char *p = s;
	long off;

	memset(f, 0, sizeof(*f));
	if (!*s)
		return 0; /* no rule: the last transition's type stays */
	if (parse_name(&p) || parse_hms(&p, 24, &off))
		return -1;
	f->std_off = -off; /* POSIX counts west of UTC */
	f->present = 1;
	if (!*p)
		return 0;
	if (parse_name(&p))
		return -1;
	f->has_dst = 1;
	f->dst_off = f->std_off + 3600;
	if (*p && *p != ',') {
		if (parse_hms(&p, 24, &off))
			return -1;
		f->dst_off = -off;
	}
	if (!*p) { /* the US rule POSIX implies */
		f->start = (struct rule_date){'M', 0, 3, 2, 0, 7200};
		f->end = (struct rule_date){'M', 0, 11, 1, 0, 7200};
		return 0;
	}
	if (*p++ != ',' || parse_date(&p, &f->start) || *p++ != ',' ||
	    parse_date(&p, &f->end) || *p)
		return -1;
	return 0;
}

/* ---- the file --------------------------------------------------------- */

struct counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static size_t block_size(const struct counts *c, size_t tsize)
{
	return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chars +
	       (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static int read_header(const unsigned char *buf, size_t len, size_t at,
		       struct counts *c, int *version)
{
	if (len - at < 44 || memcmp(buf + at, "TZif", 4))
		return ipam_error_set(IPAM_EINVAL,
				      "not a TZif file (no 'TZif' header)");
	*version = buf[at + 4] ? buf[at + 4] - '0' : 1;
	if (*version < 1 || *version > 4)
		return ipam_error_set(IPAM_EINVAL,
				      "TZif version byte 0x%02x unknown",
				      buf[at + 4]);
	c->isut = be32(buf + at + 20);
	c->isstd = be32(buf + at + 24);
	c->leap = be32(buf + at + 28);
	c->time = be32(buf + at + 32);
	c->type = be32(buf + at + 36);
	c->chars = be32(buf + at + 40);
	if (!c->type || c->type > 256 || !c->chars || c->time > 1u << 20 ||
	    c->leap > 1u << 16 || (c->isut && c->isut != c->type) ||
	    (c->isstd && c->isstd != c->type))
		return ipam_error_set(IPAM_EINVAL,
				      "TZif header counts are inconsistent");
	return 0;
}

static int read_block(struct ipam_tz *tz, const unsigned char *p,
		      const struct counts *c, size_t tsize)
{
	const unsigned char *idx = p + (size_t)c->time * tsize;
	const unsigned char *types = idx + c->time;
	const unsigned char *leaps = types + (size_t)c->type * 6 + c->chars;
	long long prev = 0, corr = 0;
	long offs[256];

	for (uint32_t i = 0; i < c->type; i++) {
		const unsigned char *t = types + (size_t)i * 6;
		int32_t off = (int32_t)be32(t);

		if (off == INT32_MIN || off <= -MAX_OFFSET ||
		    off >= MAX_OFFSET || t[4] > 1 || t[5] >= c->chars)
			return ipam_error_set(IPAM_EINVAL,
					      "TZif local time type %u is "
					      "invalid",
					      (unsigned)i);
		offs[i] = off;
	}
	tz->first_off = offs[0];
	tz->nr_trans = c->time;
	tz->trans = xcalloc(c->time ? c->time : 1, sizeof(*tz->trans));
	tz->trans_off = xcalloc(c->time ? c->time : 1, sizeof(*tz->trans_off));
	for (uint32_t i = 0, leap = 0; i < c->time; i++) {
		long long t = tsize == 8 ? be64(p + (size_t)i * 8)
					 : (int32_t)be32(p + (size_t)i * 4);

		if (i && t <= prev)
			return ipam_error_set(IPAM_EINVAL,
					      "TZif transition times are not "
					      "ascending");
		if (idx[i] >= c->type)
			return ipam_error_set(IPAM_EINVAL,
					      "TZif transition %u names type "
					      "%u of %u",
					      (unsigned)i, idx[i],
					      (unsigned)c->type);
		/* the "right/" zones count leap seconds: take them out */
		for (; leap < c->leap; leap++) {
			const unsigned char *l = leaps + leap * (tsize + 4);

			if ((tsize == 8 ? be64(l) : (int32_t)be32(l)) > t)
				break;
			corr = (int32_t)be32(l + tsize);
		}
		prev = t;
		tz->trans[i] = t - corr;
		tz->trans_off[i] = offs[idx[i]];
	}
	return 0;
}

static int read_footer(struct ipam_tz *tz, const unsigned char *p, size_t n)
{
	const unsigned char *nl;
	char *s;
	int rc;

	if (!n || p[0] != '\n' || !(nl = memchr(p + 1, '\n', n - 1)))
		return ipam_error_set(IPAM_EINVAL, "TZif footer is not a line");
	if (memchr(p + 1, '\0', (size_t)(nl - p - 1)))
		return ipam_error_set(IPAM_EINVAL, "TZif footer holds NUL");
	s = xstrndup((const char *)p + 1, (size_t)(nl - p - 1));
	rc = parse_footer(&tz->rule, s);
	if (rc)
		rc = ipam_error_set(IPAM_EINVAL,
				    "TZif footer '%.64s' is not a POSIX TZ "
				    "rule",
				    s);
	free(s);
	return rc;
}

int ipam_tz_parse(struct ipam_tz **out, const unsigned char *buf, size_t len)
{
	struct ipam_tz *tz;
	struct counts c;
	size_t at = 0, need;
	int version, rc;

	*out = NULL;
	if (len > TZIF_MAX)
		return ipam_error_set(IPAM_ELIMIT, "TZif file of %zu bytes",
				      len);
	rc = read_header(buf, len, 0, &c, &version);
	if (rc)
		return rc;
	need = 44 + block_size(&c, 4);
	if (need > len)
		return ipam_error_set(IPAM_EINVAL, "TZif file is truncated");
	tz = xcalloc(1, sizeof(*tz));
	if (version >= 2) {
		int v2;

		at = need;
		rc = read_header(buf, len, at, &c, &v2);
		if (rc)
			goto fail;
		need = at + 44 + block_size(&c, 8);
		if (need > len) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "TZif file is truncated");
			goto fail;
		}
	}
	rc = read_block(tz, buf + at + 44, &c, version >= 2 ? 8 : 4);
	if (!rc && version >= 2)
		rc = read_footer(tz, buf + need, len - need);
	if (rc)
		goto fail;
	*out = tz;
	return 0;
fail:
	ipam_tz_free(tz);
	return rc;
}

struct ipam_tz *ipam_tz_utc(void)
{
	struct ipam_tz *tz = xcalloc(1, sizeof(*tz));

	return tz;
}

void ipam_tz_free(struct ipam_tz *tz)
{
	if (!tz)
		return;
	free(tz->trans);
	free(tz->trans_off);
	free(tz);
}

/* ---- intervals ---------------------------------------------------------- */

struct span {
	long long start, end; /* [start, end) in UTC; T_MIN, T_MAX: open */
	long off;
};

#define T_MIN (-(1LL << 60))
#define T_MAX (1LL << 60)

/* The footer's changes in years y-1..y+1, sorted: at[i] starts off[i]. */
static void rule_changes(const struct footer *f, long long y, long long at[6],
			 long off[6])
{
	for (int k = 0; k < 3; k++) {
		at[2 * k] = rule_local(&f->start, y - 1 + k) - f->std_off;
		off[2 * k] = f->dst_off;
		at[2 * k + 1] = rule_local(&f->end, y - 1 + k) - f->dst_off;
		off[2 * k + 1] = f->std_off;
	}
	for (int i = 1; i < 6; i++) /* insertion sort of six */
		for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
			long long ta = at[j];
			long to = off[j];

			at[j] = at[j - 1];
			off[j] = off[j - 1];
			at[j - 1] = ta;
			off[j - 1] = to;
		}
}

static void footer_span(const struct ipam_tz *tz, long long t, long long from,
			struct span *s)
{
	const struct footer *f = &tz->rule;
	long long at[6];
	long off[6];
	int i;

	s->start = from;
	s->end = T_MAX;
	s->off = f->std_off;
	if (!f->has_dst)
		return;
	rule_changes(f, year_of(t + f->std_off), at, off);
	for (i = 5; i > 0 && at[i] > t; i--)
		;
	/* at[0] is in the year before t's: never after t */
	s->off = off[i];
	if (at[i] > s->start)
		s->start = at[i];
	if (i < 5)
		s->end = at[i + 1];
}

/* The interval of constant offset that holds UTC time t. */
static void span_at(const struct ipam_tz *tz, long long t, struct span *s)
{
	size_t lo = 0, hi = tz->nr_trans;

	while (lo < hi) { /* first transition after t */
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == tz->nr_trans && tz->rule.present) {
		footer_span(tz, t, lo ? tz->trans[lo - 1] : T_MIN, s);
		return;
	}
	s->start = lo ? tz->trans[lo - 1] : T_MIN;
	s->end = lo < tz->nr_trans ? tz->trans[lo] : T_MAX;
	s->off = lo ? tz->trans_off[lo - 1] : tz->first_off;
}

/* Times this far out are no one's (the year is about 36 million): kept
 * there, the arithmetic around them cannot overflow. */
#define T_CLAMP (1LL << 58)

static long long clamp(long long t)
{
	return t < -T_CLAMP ? -T_CLAMP : t > T_CLAMP ? T_CLAMP : t;
}

long long ipam_tz_to_local(const struct ipam_tz *tz, long long utc)
{
	struct span s;

	utc = clamp(utc);
	span_at(tz, utc, &s);
	return utc + s.off;
}

long long ipam_tz_to_utc(const struct ipam_tz *tz, long long local)
{
	struct span s;
	long long t;
	long long before = local; /* the offset before a skipped hour */
	int have_before = 0;

	/* a zone of one offset (UTC): no span to look for */
	if (!tz->nr_trans && !tz->rule.present)
		return clamp(local) - tz->first_off;
	local = clamp(local);
	before = local;
	t = local - MAX_OFFSET;
	for (int i = 0; i < 16 && t <= local + MAX_OFFSET; i++) {
		long long u;

		span_at(tz, t, &s);
		u = local - s.off;
		if (u >= s.start && u < s.end)
			return u;
		if (u >= s.end) {
			before = u;
			have_before = 1;
		}
		if (s.end >= T_MAX)
			break;
		t = s.end;
	}
	if (have_before)
		return before;
	span_at(tz, local, &s);
	return local - s.off;
}

int ipam_tz_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n > 255 || name[0] == '/' || name[n - 1] == '/' ||
	    strstr(name, "//") || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
			return 0;
	return 1;
}
