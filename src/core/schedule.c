#include "schedule.h"

#include <stdio.h>
#include <string.h>

#include "tzif.h"
#include "banned.h"

long long ipam_schedule_next(const struct ipam_schedule_task *t, long long now)
{
	long long base, wait = t->interval;

	if (!t->started)
		return now;
	base = t->started;
	if (t->failed) {
		if (t->ended > base)
			base = t->ended;
		if (wait > IPAM_SCHEDULE_RETRY)
			wait = IPAM_SCHEDULE_RETRY;
	}
	if (base > now)
		base = now;
	return base + wait;
}

unsigned ipam_schedule_due(const struct ipam_schedule_task v[IPAM_TASK_NR],
			   long long now, long long *next)
{
	unsigned due = 0;

	*next = 0;
	for (int i = 0; i < IPAM_TASK_NR; i++) {
		long long at;

		if (v[i].interval <= 0)
			continue;
		at = ipam_schedule_next(&v[i], now);
		if (at <= now)
			due |= 1u << i;
		else if (!*next || at < *next)
			*next = at;
	}
	return due;
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int ipam_schedule_parse_time(const char *iso, long long *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, s;

	if (!iso || strlen(iso) != 20 || iso[4] != '-' || iso[7] != '-' ||
	    iso[10] != 'T' || iso[13] != ':' || iso[16] != ':' ||
	    iso[19] != 'Z')
		return -1;
	y = digits(iso, 4);
	mo = digits(iso + 5, 2);
	d = digits(iso + 8, 2);
	h = digits(iso + 11, 2);
	mi = digits(iso + 14, 2);
	s = digits(iso + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return -1;
	*out = ipam_tz_civil(y, mo, d, h, mi, s);
	return 0;
}

void ipam_schedule_format_time(char out[21], long long t)
{
	long long days = t / 86400, secs = t % 86400;
	long long z, era, doe, yoe, y, doy, mp, d, m;
	char buf[96];

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* civil_from_days, the inverse of ipam_tz_civil's day count */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	/* the values are in range; the compiler cannot tell */
	snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
		 y % 10000, m, d, secs / 3600, secs / 60 % 60, secs % 60);
	memcpy(out, buf, 20);
	out[20] = '\0';
}
