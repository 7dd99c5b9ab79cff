/*
 * The state database's record of the scheduled tasks: when each task
 * last ran, with what outcome (collect_tasks), and what each server gave
 * it the last time (collect_server_status).
 *
 * Prefixes: ipam_db_task_, ipam_db_tasks_
 */
#ifndef IPAM_DB_COLLECT_H
#define IPAM_DB_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

struct ipam_db_task_row {
	char *task;
	long long last_run_id;		       /* 0: none */
	char *last_started_at, *last_ended_at; /* ISO 8601 UTC, or NULL */
	char *last_outcome; /* succeeded, partial, failed; NULL: never ran */
	char *last_summary;
};

/* Every task that ever ran, by name. */
int ipam_db_tasks_list(struct ipam_db *db, struct ipam_db_task_row **out,
		       size_t *nr);
void ipam_db_tasks_free(struct ipam_db_task_row *v, size_t nr);
/* The row of task in rows, NULL when it never ran. */
const struct ipam_db_task_row *
ipam_db_tasks_find(const struct ipam_db_task_row *rows, size_t nr,
		   const char *task);

/* task started as run_id (0: no run), now. */
int ipam_db_task_started(struct ipam_db *db, const char *task,
			 long long run_id);
/* task ended now: outcome succeeded, partial or failed. */
int ipam_db_task_ended(struct ipam_db *db, const char *task, long long run_id,
		       const char *outcome, const char *summary);

/* What server gave task in run_id (replaces the previous row). */
int ipam_db_task_server(struct ipam_db *db, const char *task,
			const char *server, long long run_id, bool ok,
			const char *detail);

struct ipam_db_task_server_row {
	char *task, *server, *at, *detail;
	bool ok;
};

/* The servers' last outcomes of task (NULL: every task). */
int ipam_db_task_servers(struct ipam_db *db, const char *task,
			 struct ipam_db_task_server_row **out, size_t *nr);
void ipam_db_task_servers_free(struct ipam_db_task_server_row *v, size_t nr);

#endif
