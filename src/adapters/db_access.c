#include "db.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "strbuf.h"
#include "banned.h"

/*
 * Access status with history: a row per server per check (verify, or a
 * reconcile cycle), never updated.  The four detail statuses have their
 * columns; their reasons are one JSON object in `reasons`, keyed as the
 * columns are ("dhcp_rpc": "access denied for IPAM1$", ...).
 */

static int encode_reasons(struct strbuf *out, const struct ipam_access *a)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	int rc;

	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		if (a->detail[d].reason)
			ipam_node_set_str(m,
					  ipam_access_detail_key(
						  (enum ipam_access_detail)d),
					  a->detail[d].reason);
	rc = ipam_json_write(out, m, IPAM_JSON_SORT_KEYS);
	ipam_node_free(m);
	strbuf_rtrim_newline(out);
	return rc;
}

static void decode_reasons(struct ipam_access *a, const char *text)
{
	struct ipam_node *n = NULL;

	if (!text || ipam_json_parse(&n, "reasons", text, strlen(text))) {
		ipam_error_clear();
		return;
	}
	for (size_t i = 0; n->kind == IPAM_NODE_MAP && i < n->nr; i++) {
		const struct ipam_node *k = n->keys[i], *v = n->items[i];

		if (k->kind != IPAM_NODE_STR || v->kind != IPAM_NODE_STR)
			continue;
		for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
			if (!strcmp(k->str, ipam_access_detail_key((
						    enum ipam_access_detail)d)))
				ipam_access_set(a, (enum ipam_access_detail)d,
						a->detail[d].status, v->str);
	}
	ipam_node_free(n);
}

int ipam_db_access_store(struct ipam_db *db, long long run_id,
			 const char *server, const struct ipam_access *a)
{
	struct strbuf reasons = STRBUF_INIT;
	struct ipam_sql_stmt *st = NULL;
	int err;

	err = encode_reasons(&reasons, a);
	if (err)
		goto out;
	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO access_status (server_id, run_id, checked_at, "
		"overall, dhcp_rpc, dhcp_audit_share, dns_rpc, event_log, "
		"recommended_action, reasons) "
		"SELECT id, ?2, " NOW_SQL ", ?3, ?4, ?5, ?6, ?7, ?8, ?9 "
		"FROM servers WHERE name = ?1");
	if (err)
		goto out;
	ipam_sql_bind_text(st, 1, server);
	if (run_id)
		ipam_sql_bind_int64(st, 2, run_id);
	else
		ipam_sql_bind_null(st, 2);
	ipam_sql_bind_text(st, 3, ipam_access_status_name(a->overall));
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		ipam_sql_bind_text(
			st, 4 + d,
			ipam_access_status_name(a->detail[d].status));
	ipam_sql_bind_text(st, 8, ipam_access_action_name(a->action));
	ipam_sql_bind_text(st, 9, reasons.buf);
	err = ipam_db_sql_step_done(db, st,
				    "cannot store the access status in");
	st = NULL; /* finalized */
	if (!err && ipam_sql_changes(db->h) != 1)
		err = ipam_error_set(IPAM_ENOTFOUND,
				     "access status of '%s': no such server in "
				     "the inventory",
				     server);
out:
	ipam_sql_finalize(st);
	strbuf_release(&reasons);
	return err;
}

static void read_row(struct ipam_db_access *r, struct ipam_sql_stmt *st)
{
	enum ipam_access_status s;
	enum ipam_access_action act;

	memset(r, 0, sizeof(*r));
	r->checked_at = ipam_sql_column_dup(st, 0);
	r->run_id = ipam_sql_column_int64(st, 1);
	if (!ipam_access_status_parse(ipam_sql_column_text(st, 2), &s))
		r->access.overall = s;
	for (int d = 0; d < IPAM_ACCESS_NR_DETAILS; d++)
		if (!ipam_access_status_parse(ipam_sql_column_text(st, 3 + d),
					      &s))
			r->access.detail[d].status = s;
	if (!ipam_access_action_parse(ipam_sql_column_text(st, 7), &act))
		r->access.action = act;
	decode_reasons(&r->access, ipam_sql_column_text(st, 8));
}

int ipam_db_access_history(struct ipam_db *db, const char *server, size_t limit,
			   struct ipam_db_access **out, size_t *nr)
{
	struct ipam_sql_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	/* the newest limit rows, given oldest first */
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT * FROM (SELECT a.checked_at, a.run_id, a.overall, "
		"a.dhcp_rpc, a.dhcp_audit_share, a.dns_rpc, a.event_log, "
		"a.recommended_action, a.reasons, a.id FROM access_status a "
		"JOIN servers s ON s.id = a.server_id WHERE s.name = ?1 "
		"ORDER BY a.id DESC LIMIT ?2) ORDER BY id");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, server);
	ipam_sql_bind_int64(st, 2, limit ? (long long)limit : -1);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		read_row(&(*out)[*nr], st);
		(*nr)++;
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_access_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read access status from");
	}
	return 0;
}

int ipam_db_access_latest(struct ipam_db *db, const char *server,
			  struct ipam_db_access *out)
{
	struct ipam_db_access *v = NULL;
	size_t nr = 0;
	int rc = ipam_db_access_history(db, server, 1, &v, &nr);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if (!nr) {
		free(v);
		return IPAM_ENOTFOUND;
	}
	*out = v[0];
	free(v);
	return 0;
}

void ipam_db_access_release(struct ipam_db_access *r)
{
	if (!r)
		return;
	free(r->checked_at);
	r->checked_at = NULL;
	ipam_access_release(&r->access);
}

void ipam_db_access_free(struct ipam_db_access *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		ipam_db_access_release(&v[i]);
	free(v);
}
