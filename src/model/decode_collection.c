#include "decode.h"
#include "decode_internal.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "banned.h"

static const char *const collection_keys[] = {"intervals", "retainDays", NULL};

int ipam_decode_duration(const char *s, long long *out)
{
	long long total = 0;

	if (!*s)
		return -1;
	while (*s) {
		long long n = 0, unit;

		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (*s - '0');
			if (n > IPAM_DECODE_MAX_DURATION)
				return -1;
		}
		switch (*s++) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			return -1;
		}
		if (n > (IPAM_DECODE_MAX_DURATION - total) / unit)
			return -1;
		total += n * unit;
	}
	*out = total;
	return 0;
}

bool ipam_decode_tz_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 255 || s[0] == '/' || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("/_-+", *s)))
			return false;
	return true;
}

void ipam_decode_time_zone(struct decoder *dc, const struct ipam_node *n,
			   struct ipam_str *out)
{
	if (ipam_decode_string(dc, n, "timeZone", out))
		return;
	if (ipam_decode_tz_name_ok(out->value))
		return;
	ipam_diag_error(dc->diags, &ipam_node_deref(n)->pos,
			"'timeZone' must be an IANA time zone name such as "
			"Europe/Berlin or UTC, got '%s'",
			out->value);
	free(out->value);
	out->value = NULL;
}

static void decode_interval(struct decoder *dc, const struct ipam_node *n,
			    const char *key, struct ipam_collection_cfg *c)
{
	const struct ipam_node *v = ipam_node_deref(n);
	struct ipam_str s = {0};
	enum ipam_task t;
	long long secs;

	ipam_task_parse(key, &t); /* the key was checked */
	if (v->kind == IPAM_NODE_STR && !v->tag &&
	    v->style == IPAM_SCALAR_PLAIN && v->len &&
	    strspn(v->str, "0123456789") == v->len) {
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' needs a unit: a duration such as 15m, "
				"1h, 6h or 1d, got %s",
				key, v->str);
		return;
	}
	if (ipam_decode_string(dc, n, key, &s))
		return;
	if (ipam_decode_duration(s.value, &secs))
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' must be a duration such as 15m, 1h, 6h "
				"or 1d (at most 365d), got '%s'",
				key, s.value);
	else if (secs < IPAM_DECODE_MIN_INTERVAL)
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' must be at least 1m, got '%s'", key,
				s.value);
	else {
		c->interval[t] = secs;
		c->interval_pos[t] = v->pos;
	}
	free(s.value);
}

static void decode_intervals(struct decoder *dc, const struct ipam_node *n,
			     struct ipam_collection_cfg *c)
{
	static const char *const keys[] = {
		"discovery", "access", "availability", "zones", "dns",
		"audit",     NULL};
	const struct ipam_node *map, *val;
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "intervals", keys,
			      "'collection.intervals'", &ok);
	if (!map)
		return;
	FOR_EACH_KEY(map, ok, i, key, val)
	decode_interval(dc, val, key, c);
	free(ok);
}

void ipam_decode_collection(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_collection_cfg *c = &dc->d->collection;
	const struct ipam_node *map, *val;
	const char *key;
	long long days;
	struct ipam_pos pos;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "collection", collection_keys,
			      "'collection'", &ok);
	if (!map)
		return;
	c->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "intervals")) {
			decode_intervals(dc, val, c);
			continue;
		}
		if (ipam_decode_int(dc, val, key, 1, IPAM_DECODE_MAX_RETAIN,
				    &days, &pos))
			continue;
		if (days < 1 || days > IPAM_DECODE_MAX_RETAIN) {
			ipam_diag_error(dc->diags, &pos,
					"'retainDays' must be between 1 and "
					"%d, got %lld",
					IPAM_DECODE_MAX_RETAIN, days);
			continue;
		}
		c->retain_days = (int)days;
		c->retain_days_pos = pos;
	}
	free(ok);
}

static const char *const db_connection_keys[] = {"passwordFile", "passwordEnv",
						 NULL};

void ipam_decode_db_connection(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_db_connection *c = &dc->d->db_conn;
	const struct ipam_node *map, *val;
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "databaseConnection", db_connection_keys,
			      "'databaseConnection'", &ok);
	if (!map)
		return;
	c->pos = n->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "passwordFile"))
			ipam_decode_string(dc, val, key, &c->password_file);
		else
			ipam_decode_string(dc, val, key, &c->password_env);
	}
	free(ok);
}
