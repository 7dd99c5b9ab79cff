#include "scalar.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"
#include "banned.h"

bool ipam_scalar_is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

int ipam_scalar_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		*out = false;
		return 0;
	}
	return -1;
}

static bool all_in(const char *s, const char *set)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

int ipam_scalar_int(const char *s, long long *out)
{
	const char *digits = s;
	int base = 10;
	char *end;
	long long v;

	if (!strncmp(s, "0o", 2)) {
		base = 8;
		digits = s + 2;
		if (!all_in(digits, "01234567"))
			return -1;
	} else if (!strncmp(s, "0x", 2)) {
		base = 16;
		digits = s + 2;
		if (!all_in(digits, "0123456789abcdefABCDEF"))
			return -1;
	} else {
		if (*digits == '-' || *digits == '+')
			digits++;
		if (!all_in(digits, "0123456789"))
			return -1;
		digits = s;
	}
	errno = 0;
	v = strtoll(digits, &end, base);
	if (errno == ERANGE || *end)
		return -1;
	*out = v;
	return 0;
}

static bool is_float(const char *s)
{
	const char *p = s;
	bool digits = false;

	if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF") ||
	    !strcmp(s, "+.inf") || !strcmp(s, "+.Inf") || !strcmp(s, "+.INF") ||
	    !strcmp(s, "-.inf") || !strcmp(s, "-.Inf") || !strcmp(s, "-.INF") ||
	    !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
		return true;
	/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
	if (*p == '-' || *p == '+')
		p++;
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

enum ipam_scalar_type ipam_scalar_resolve(const char *s)
{
	bool b;
	long long i;

	if (ipam_scalar_is_null(s))
		return IPAM_SCALAR_NULL;
	if (!ipam_scalar_bool(s, &b))
		return IPAM_SCALAR_BOOL;
	if (!ipam_scalar_int(s, &i))
		return IPAM_SCALAR_INT;
	if (!strncmp(s, "0o", 2) || !strncmp(s, "0x", 2))
		return IPAM_SCALAR_STRING;
	if (is_float(s))
		return IPAM_SCALAR_FLOAT;
	return IPAM_SCALAR_STRING;
}

bool ipam_scalar_is_fqdn(const char *s)
{
	size_t total = strlen(s), labels = 0;
	const char *p = s, *last = s;

	if (total == 0 || total > 253)
		return false;
	while (*p) {
		const char *start = p;
		size_t n;

		while (*p && *p != '.') {
			if (!isalnum((unsigned char)*p) && *p != '-')
				return false;
			p++;
		}
		n = (size_t)(p - start);
		if (n < 1 || n > 63 || start[0] == '-' || p[-1] == '-')
			return false;
		labels++;
		last = start;
		if (*p == '.') {
			p++;
			if (!*p)
				return false; /* trailing dot */
		}
	}
	if (labels < 2)
		return false;
	for (p = last; *p; p++)
		if (!isdigit((unsigned char)*p))
			return true;
	return false;
}

int ipam_scalar_edit_distance(const char *a, const char *b, int cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int *prev2, *prev, *cur, d;

	if (la > 64 || lb > 64)
		return cap + 1;
	prev2 = calloc(lb + 1, sizeof(int));
	prev = calloc(lb + 1, sizeof(int));
	cur = calloc(lb + 1, sizeof(int));
	if (!prev2 || !prev || !cur) {
		free(prev2);
		free(prev);
		free(cur);
		return cap + 1;
	}
	for (j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (i = 1; i <= la; i++) {
		int *tmp;

		cur[0] = (int)i;
		for (j = 1; j <= lb; j++) {
			int cost =
				tolower((unsigned char)a[i - 1]) ==
						tolower((unsigned char)b[j - 1])
					? 0
					: 1;
			int v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	d = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return d > cap ? cap + 1 : d;
}

struct indexed {
	const char *s;
	size_t i;
};

static int cmp_indexed(const struct indexed *a, const struct indexed *b,
		       bool nocase)
{
	int c = nocase ? strcasecmp(a->s, b->s) : strcmp(a->s, b->s);

	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int cmp_case(const void *a, const void *b)
{
	return cmp_indexed(a, b, false);
}

static int cmp_nocase(const void *a, const void *b)
{
	return cmp_indexed(a, b, true);
}

void ipam_scalar_first_equal(size_t *first, const char *const *strs, size_t n,
			     bool nocase)
{
	struct indexed *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		first[i] = i;
		if (strs[i]) {
			v[m].s = strs[i];
			v[m++].i = i;
		}
	}
	/* Sorted by text, then index: each run of equals starts with the
	 * first of them. */
	qsort(v, m, sizeof(*v), nocase ? cmp_nocase : cmp_case);
	for (i = 1; i < m; i++)
		if (!(nocase ? strcasecmp(v[i].s, v[i - 1].s)
			     : strcmp(v[i].s, v[i - 1].s)))
			first[v[i].i] = first[v[i - 1].i];
	free(v);
}
