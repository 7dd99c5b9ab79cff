#include "db_collect.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/*
 * One row per task (collect_tasks), rewritten at each start and end; one
 * row per task and server (collect_server_status), the last outcome.
 */

int ipam_db_task_started(struct ipam_db *db, const char *task, long long run_id)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO collect_tasks (task, last_run_id, "
		"last_started_at) "
		"VALUES (?1, ?2, " NOW_SQL ") "
		"ON CONFLICT (task) DO UPDATE SET last_run_id = ?2, "
		"last_started_at = excluded.last_started_at");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, task);
	if (run_id)
		ipam_sql_bind_int64(st, 2, run_id);
	else
		ipam_sql_bind_null(st, 2);
	return ipam_db_sql_step_done(db, st, "cannot record a task in");
}

int ipam_db_task_ended(struct ipam_db *db, const char *task, long long run_id,
		       const char *outcome, const char *summary)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO collect_tasks (task, last_run_id, "
		"last_started_at, "
		"last_ended_at, last_outcome, last_summary) "
		"VALUES (?1, ?2, " NOW_SQL ", " NOW_SQL ", ?3, ?4) "
		"ON CONFLICT (task) DO UPDATE SET last_run_id = ?2, "
		"last_ended_at = excluded.last_ended_at, last_outcome = ?3, "
		"last_summary = ?4");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, task);
	if (run_id)
		ipam_sql_bind_int64(st, 2, run_id);
	else
		ipam_sql_bind_null(st, 2);
	ipam_sql_bind_text(st, 3, outcome);
	ipam_sql_bind_text(st, 4, summary);
	return ipam_db_sql_step_done(db, st, "cannot record a task in");
}

int ipam_db_tasks_list(struct ipam_db *db, struct ipam_db_task_row **out,
		       size_t *nr)
{
	struct ipam_db_task_row *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT task, last_run_id, last_started_at, "
				  "last_ended_at, last_outcome, last_summary "
				  "FROM collect_tasks ORDER BY task");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_task_row *r;

		ALLOC_GROW(v, n + 1, alloc);
		r = &v[n++];
		r->task = ipam_sql_column_dup(st, 0);
		r->last_run_id = ipam_sql_column_int64(st, 1);
		r->last_started_at = ipam_sql_column_dup(st, 2);
		r->last_ended_at = ipam_sql_column_dup(st, 3);
		r->last_outcome = ipam_sql_column_dup(st, 4);
		r->last_summary = ipam_sql_column_dup(st, 5);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_tasks_free(v, n);
		return ipam_db_sql_error(db, IPAM_EDB, "cannot read tasks in");
	}
	*out = v;
	*nr = n;
	return 0;
}

void ipam_db_tasks_free(struct ipam_db_task_row *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].task);
		free(v[i].last_started_at);
		free(v[i].last_ended_at);
		free(v[i].last_outcome);
		free(v[i].last_summary);
	}
	free(v);
}

const struct ipam_db_task_row *
ipam_db_tasks_find(const struct ipam_db_task_row *rows, size_t nr,
		   const char *task)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(rows[i].task, task))
			return &rows[i];
	return NULL;
}

int ipam_db_task_server(struct ipam_db *db, const char *task,
			const char *server, long long run_id, bool ok,
			const char *detail)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO collect_server_status (task, server_id, run_id, "
		"at, ok, detail) "
		"SELECT ?1, id, ?3, " NOW_SQL ", ?4, ?5 FROM servers "
		"WHERE name = ?2 ON CONFLICT (task, server_id) DO UPDATE "
		"SET run_id = excluded.run_id, at = excluded.at, "
		"ok = excluded.ok, detail = excluded.detail");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, task);
	ipam_sql_bind_text(st, 2, server);
	if (run_id)
		ipam_sql_bind_int64(st, 3, run_id);
	else
		ipam_sql_bind_null(st, 3);
	ipam_sql_bind_int64(st, 4, ok);
	ipam_sql_bind_text(st, 5, detail);
	return ipam_db_sql_step_done(db, st,
				     "cannot record a server's outcome in");
}

int ipam_db_task_servers(struct ipam_db *db, const char *task,
			 struct ipam_db_task_server_row **out, size_t *nr)
{
	struct ipam_db_task_server_row *v = NULL;
	size_t n = 0, alloc = 0;
	struct ipam_sql_stmt *st;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(db, &st,
				  "SELECT c.task, s.name, c.at, c.ok, c.detail "
				  "FROM collect_server_status c JOIN servers s "
				  "ON s.id = c.server_id WHERE c.task = ?1 "
				  "OR CAST(?1 AS TEXT) IS NULL "
				  "ORDER BY c.task, s.name");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, task);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_task_server_row *r;

		ALLOC_GROW(v, n + 1, alloc);
		r = &v[n++];
		r->task = ipam_sql_column_dup(st, 0);
		r->server = ipam_sql_column_dup(st, 1);
		r->at = ipam_sql_column_dup(st, 2);
		r->ok = ipam_sql_column_int64(st, 3) != 0;
		r->detail = ipam_sql_column_dup(st, 4);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_task_servers_free(v, n);
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read task outcomes in");
	}
	*out = v;
	*nr = n;
	return 0;
}

void ipam_db_task_servers_free(struct ipam_db_task_server_row *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].task);
		free(v[i].server);
		free(v[i].at);
		free(v[i].detail);
	}
	free(v);
}
