#include "db_monitor.h"
#include "db_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/* ---- availability ------------------------------------------------------ */

/* The server's id and the stored state (-1 none, 0 down, 1 up). */
static int avail_current(struct ipam_db *db, const char *server,
			 const char *service, long long *id, int *state)
{
	struct ipam_sql_stmt *st = NULL;
	int err, rc;

	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT s.id, a.state FROM servers s LEFT JOIN availability a "
		"ON a.server_id = s.id AND a.service = ?2 WHERE s.name = ?1");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, server);
	ipam_sql_bind_text(st, 2, service);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW) {
		const char *s = ipam_sql_column_text(st, 1);

		*id = ipam_sql_column_int64(st, 0);
		*state = !s ? -1 : !strcmp(s, "up");
		err = 0;
	} else if (rc == IPAM_SQL_DONE) {
		err = ipam_error_set(IPAM_ENOTFOUND,
				     "'%s' is not in the inventory", server);
	} else {
		err = ipam_db_sql_error(db, IPAM_EDB, "cannot read");
	}
	ipam_sql_finalize(st);
	return err;
}

static int avail_write(struct ipam_db *db, long long id, long long run_id,
		       const char *service, bool up, int rtt_ms,
		       const char *reason, const char *at, bool changed)
{
	struct ipam_sql_stmt *st = NULL;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO availability (server_id, service, state, since, "
		"checked_at, run_id, rtt_ms, reason) "
		"VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7) "
		"ON CONFLICT (server_id, service) DO UPDATE SET "
		"state = excluded.state, checked_at = excluded.checked_at, "
		"run_id = excluded.run_id, rtt_ms = excluded.rtt_ms, "
		"reason = excluded.reason, since = CASE WHEN ?8 = 1 "
		"THEN excluded.since ELSE availability.since END");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, id);
	ipam_sql_bind_text(st, 2, service);
	ipam_sql_bind_text(st, 3, up ? "up" : "down");
	ipam_sql_bind_text(st, 4, at);
	if (run_id)
		ipam_sql_bind_int64(st, 5, run_id);
	if (rtt_ms >= 0)
		ipam_sql_bind_int64(st, 6, rtt_ms);
	ipam_sql_bind_text(st, 7, reason);
	ipam_sql_bind_int64(st, 8, changed);
	err = ipam_db_sql_step_done(db, st, "cannot store availability in");
	if (err || !changed)
		return err;
	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO availability_history (server_id, service, run_id, "
		"at, state, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, id);
	ipam_sql_bind_text(st, 2, service);
	if (run_id)
		ipam_sql_bind_int64(st, 3, run_id);
	ipam_sql_bind_text(st, 4, at);
	ipam_sql_bind_text(st, 5, up ? "up" : "down");
	ipam_sql_bind_text(st, 6, reason);
	return ipam_db_sql_step_done(db, st,
				     "cannot store availability history in");
}

int ipam_db_monitor_avail_store(struct ipam_db *db, long long run_id,
				const char *server, const char *service,
				bool up, int rtt_ms, const char *reason,
				const char *at, bool *changed)
{
	long long id = 0;
	int state = -1, err;
	bool ch;

	if (changed)
		*changed = false;
	if (strcmp(service, "dhcp") && strcmp(service, "dns"))
		return ipam_error_set(IPAM_EINVAL, "no service '%s'", service);
	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	err = avail_current(db, server, service, &id, &state);
	ch = state != (up ? 1 : 0);
	if (!err)
		err = avail_write(db, id, run_id, service, up, rtt_ms, reason,
				  at, ch);
	if (!err)
		err = ipam_db_sql_exec(db, "COMMIT");
	if (err) {
		char *msg = xstrdup(ipam_error_last());

		(void)ipam_db_sql_exec(db, "ROLLBACK");
		ipam_error_set(err, "%s", msg);
		free(msg);
		return err;
	}
	if (changed)
		*changed = ch;
	return 0;
}

int ipam_db_monitor_avail_list(struct ipam_db *db, const char *domain,
			       struct ipam_db_avail **out, size_t *nr)
{
	struct ipam_db_avail *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st = NULL;
	int err, rc;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT s.name, d.name, a.service, a.state, a.since, "
		"a.checked_at, a.rtt_ms, a.reason, a.run_id "
		"FROM availability a JOIN servers s ON s.id = a.server_id "
		"LEFT JOIN domains d ON d.id = s.domain_id "
		"WHERE d.name = ?1 OR CAST(?1 AS TEXT) IS NULL "
		"ORDER BY s.name, a.service");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, domain);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_avail *a;

		ALLOC_GROW(v, n + 1, alloc);
		a = &v[n++];
		a->server = ipam_sql_column_dup(st, 0);
		a->domain = ipam_sql_column_dup(st, 1);
		a->service = ipam_sql_column_dup(st, 2);
		a->up = !strcmp(ipam_sql_column_text(st, 3), "up");
		a->since = ipam_sql_column_dup(st, 4);
		a->checked_at = ipam_sql_column_dup(st, 5);
		a->rtt_ms = ipam_sql_column_type(st, 6) == IPAM_SQL_NULL
				    ? -1
				    : (int)ipam_sql_column_int64(st, 6);
		a->reason = ipam_sql_column_dup(st, 7);
		a->run_id = ipam_sql_column_int64(st, 8);
	}
	if (rc != IPAM_SQL_DONE) {
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read availability from");
		ipam_db_monitor_avail_free(v, n);
		v = NULL;
		n = 0;
	}
	ipam_sql_finalize(st);
	*out = v;
	*nr = n;
	return err;
}

void ipam_db_monitor_avail_free(struct ipam_db_avail *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].server);
		free(v[i].domain);
		free(v[i].service);
		free(v[i].since);
		free(v[i].checked_at);
		free(v[i].reason);
	}
	free(v);
}

/* ---- zones ------------------------------------------------------------- */

/* A name as records carry it: lower case, no trailing dot. */
static char *host_name(const char *s)
{
	char *h = xstrdup(s);
	size_t len = strlen(h);

	for (char *p = h; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (len > 1 && h[len - 1] == '.')
		h[len - 1] = '\0';
	return h;
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_unique(char **v, size_t *nr)
{
	size_t k = 0;

	if (!*nr)
		return;
	if (*nr)
		qsort(v, *nr, sizeof(*v), names_cmp);
	for (size_t i = 0; i < *nr; i++) {
		if (k && !strcmp(v[k - 1], v[i])) {
			free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	*nr = k;
}

static int zone_ns(struct ipam_db *db, struct ipam_db_monitor_zone *z)
{
	struct ipam_sql_stmt *st = NULL;
	size_t alloc = 0;
	int err, rc;

	err = ipam_db_sql_prepare(db, &st,
				  "SELECT data FROM dns_records WHERE "
				  "zone_id = ?1 AND name = '@' AND type = 2");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, z->id);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *t = ipam_sql_column_text(st, 0);

		if (!t || !*t)
			continue;
		ALLOC_GROW(z->ns, z->nr_ns + 1, alloc);
		z->ns[z->nr_ns++] = host_name(t);
	}
	err = rc == IPAM_SQL_DONE
		      ? 0
		      : ipam_db_sql_error(db, IPAM_EDB,
					  "cannot read NS records from");
	ipam_sql_finalize(st);
	sort_unique(z->ns, &z->nr_ns);
	return err;
}

int ipam_db_monitor_zones(struct ipam_db *db, struct ipam_db_monitor_zone **out,
			  size_t *nr)
{
	struct ipam_db_monitor_zone *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st = NULL;
	int err, rc;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT z.id, z.name, z.domain, s.name FROM dns_zones z "
		"JOIN servers s ON s.id = z.server_id WHERE z.reverse = 0 "
		"AND z.name <> 'RootDNSServers' AND substr(z.name, 1, 2) <> "
		"'..' "
		"ORDER BY z.name, z.domain, z.partition");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_monitor_zone *z;

		ALLOC_GROW(v, n + 1, alloc);
		z = &v[n++];
		memset(z, 0, sizeof(*z));
		z->id = ipam_sql_column_int64(st, 0);
		z->name = ipam_sql_column_dup(st, 1);
		z->domain = ipam_sql_column_dup(st, 2);
		z->server = ipam_sql_column_dup(st, 3);
	}
	if (rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(db, IPAM_EDB, "cannot read zones from");
	ipam_sql_finalize(st);
	for (size_t i = 0; !err && i < n; i++)
		err = zone_ns(db, &v[i]);
	if (err) {
		ipam_db_monitor_zones_free(v, n);
		return err;
	}
	*out = v;
	*nr = n;
	return 0;
}

void ipam_db_monitor_zones_free(struct ipam_db_monitor_zone *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].name);
		free(v[i].domain);
		free(v[i].server);
		for (size_t k = 0; k < v[i].nr_ns; k++)
			free(v[i].ns[k]);
		free(v[i].ns);
	}
	free(v);
}

static int addr_cmp(const void *a, const void *b)
{
	const struct ipam_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return strcmp(x->text, y->text);
}

/* The A and AAAA records of rel in zones named zone; appended to v. */
static int glue_in(struct ipam_db *db, const char *zone, const char *rel,
		   struct ipam_addr **v, size_t *n, size_t *alloc)
{
	struct ipam_sql_stmt *st = NULL;
	int err, rc;

	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT r.type, r.data FROM dns_records r JOIN dns_zones z "
		"ON z.id = r.zone_id WHERE z.name = ?1 AND r.name = ?2 "
		"AND r.type IN (1, 28)");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, zone);
	ipam_sql_bind_text(st, 2, rel);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		int fam =
			ipam_sql_column_int64(st, 0) == 1 ? AF_INET : AF_INET6;
		const char *t = ipam_sql_column_text(st, 1);
		unsigned char bin[16];
		struct ipam_addr *a;

		if (!t || inet_pton(fam, t, bin) != 1)
			continue; /* not an address: nothing to ask */
		ALLOC_GROW(*v, *n + 1, *alloc);
		a = &(*v)[(*n)++];
		a->family = fam;
		inet_ntop(fam, bin, a->text, sizeof(a->text));
	}
	err = rc == IPAM_SQL_DONE
		      ? 0
		      : ipam_db_sql_error(db, IPAM_EDB,
					  "cannot read records from");
	ipam_sql_finalize(st);
	return err;
}

int ipam_db_monitor_glue(struct ipam_db *db, const char *host,
			 struct ipam_addr **out, size_t *nr)
{
	struct ipam_addr *v = NULL;
	size_t n = 0, alloc = 0, k = 0;
	char *h = host_name(host);
	int err = 0;

	*out = NULL;
	*nr = 0;
	/* Each suffix of host in turn, the longest (host itself) first. */
	for (const char *zone = h; zone && *zone && !n && !err;) {
		char *rel = zone == h ? xstrdup("@")
				      : xstrndup(h, (size_t)(zone - h - 1));

		err = glue_in(db, zone, rel, &v, &n, &alloc);
		free(rel);
		zone = strchr(zone, '.');
		if (zone)
			zone++;
	}
	free(h);
	if (err) {
		free(v);
		return err;
	}
	if (n)
		qsort(v, n, sizeof(*v), addr_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || addr_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*out = v;
	*nr = k;
	return 0;
}

int ipam_db_monitor_zone_status_store(struct ipam_db *db, long long zone_id,
				      long long run_id, const char *at,
				      const char *status, const char *reason,
				      const char *servers_json)
{
	struct ipam_sql_stmt *st = NULL;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO zone_status (zone_id, run_id, checked_at, "
		"status, reason, servers) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (zone_id) DO UPDATE SET run_id = "
		"excluded.run_id, checked_at = excluded.checked_at, status = "
		"excluded.status, reason = excluded.reason, servers = "
		"excluded.servers");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, zone_id);
	if (run_id)
		ipam_sql_bind_int64(st, 2, run_id);
	ipam_sql_bind_text(st, 3, at);
	ipam_sql_bind_text(st, 4, status);
	ipam_sql_bind_text(st, 5, reason);
	ipam_sql_bind_text(st, 6, servers_json);
	return ipam_db_sql_step_done(db, st, "cannot store zone status in");
}

int ipam_db_monitor_zone_status_list(struct ipam_db *db, const char *domain,
				     struct ipam_db_zone_status **out,
				     size_t *nr)
{
	struct ipam_db_zone_status *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st = NULL;
	int err, rc;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT z.name, z.domain, s.status, s.reason, s.checked_at, "
		"s.servers FROM zone_status s JOIN dns_zones z "
		"ON z.id = s.zone_id WHERE z.domain = ?1 OR "
		"CAST(?1 AS TEXT) IS NULL "
		"ORDER BY z.name, z.domain");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, domain);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_zone_status *z;

		ALLOC_GROW(v, n + 1, alloc);
		z = &v[n++];
		z->zone = ipam_sql_column_dup(st, 0);
		z->domain = ipam_sql_column_dup(st, 1);
		z->status = ipam_sql_column_dup(st, 2);
		z->reason = ipam_sql_column_dup(st, 3);
		z->checked_at = ipam_sql_column_dup(st, 4);
		z->servers_json = ipam_sql_column_dup(st, 5);
	}
	if (rc != IPAM_SQL_DONE) {
		err = ipam_db_sql_error(db, IPAM_EDB,
					"cannot read zone status from");
		ipam_db_monitor_zone_status_free(v, n);
		v = NULL;
		n = 0;
	}
	ipam_sql_finalize(st);
	*out = v;
	*nr = n;
	return err;
}

void ipam_db_monitor_zone_status_free(struct ipam_db_zone_status *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].zone);
		free(v[i].domain);
		free(v[i].status);
		free(v[i].reason);
		free(v[i].checked_at);
		free(v[i].servers_json);
	}
	free(v);
}
