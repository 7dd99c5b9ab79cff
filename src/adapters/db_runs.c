#include "db.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_internal.h"
#include "error.h"
#include "banned.h"

/* ---- runs ---- */

int ipam_db_run_begin(struct ipam_db *db, const char *command,
		      long long *run_id)
{
	char host[256];
	struct ipam_sql_stmt *st;
	int err;

	ipam_db_host(host, sizeof(host));
	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO runs(command, started_at, host, pid, "
		"outcome) VALUES (?1, " NOW_SQL ", ?2, ?3, 'running')");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, command);
	ipam_sql_bind_text(st, 2, host);
	ipam_sql_bind_int64(st, 3, (long long)getpid());
	err = ipam_db_sql_step_done(db, st, "cannot record the run in");
	if (!err)
		*run_id = ipam_sql_last_insert_id(db->h);
	return err;
}

int ipam_db_run_end(struct ipam_db *db, long long run_id, const char *outcome,
		    const char *summary)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(db, &st,
				  "UPDATE runs SET ended_at = " NOW_SQL
				  ", outcome = ?1, "
				  "summary = ?2 WHERE id = ?3");
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, outcome);
	ipam_sql_bind_text(st, 2, summary);
	ipam_sql_bind_int64(st, 3, run_id);
	return ipam_db_sql_step_done(db, st,
				     "cannot record the end of the run in");
}

/* ---- the journal ---- */

/* Step an UPDATE; IPAM_ENOTFOUND (message from the caller) if it matched
 * no row. */
static int step_update(struct ipam_db *db, struct ipam_sql_stmt *st,
		       const char *what, int *changed)
{
	int err = ipam_db_sql_step_done(db, st, what);

	*changed = err ? 0 : ipam_sql_changes(db->h);
	return err;
}

/* UPDATE runs SET <sql: ?1, ?2> WHERE id = ?3. */
static int run_set_two(struct ipam_db *db, long long run_id, const char *sql,
		       const char *a, const char *b)
{
	struct ipam_sql_stmt *st;
	int changed, err;

	err = ipam_db_sql_prepare(db, &st, sql);
	if (err)
		return err;
	ipam_sql_bind_text(st, 1, a);
	ipam_sql_bind_text(st, 2, b);
	ipam_sql_bind_int64(st, 3, run_id);
	err = step_update(db, st, "cannot record the run's source in",
			  &changed);
	if (!err && !changed)
		err = ipam_error_set(IPAM_ENOTFOUND,
				     "no run %lld in state database '%s'",
				     run_id, db->path);
	return err;
}

int ipam_db_run_set_source(struct ipam_db *db, long long run_id,
			   const char *git_commit, const char *config_digest)
{
	return run_set_two(
		db, run_id,
		"UPDATE runs SET git_commit = ?1, config_digest = ?2 "
		"WHERE id = ?3",
		git_commit, config_digest);
}

int ipam_db_run_set_author(struct ipam_db *db, long long run_id,
			   const char *author, const char *subject)
{
	return run_set_two(db, run_id,
			   "UPDATE runs SET git_author = ?1, git_subject = ?2 "
			   "WHERE id = ?3",
			   author, subject);
}

int ipam_db_run_set_signer(struct ipam_db *db, long long run_id,
			   const char *signer, const char *key)
{
	return run_set_two(
		db, run_id,
		"UPDATE runs SET git_signer = ?1, git_signer_key = ?2 "
		"WHERE id = ?3",
		signer, key);
}

int ipam_db_action_add(struct ipam_db *db, long long run_id, int seq,
		       const char *kind, const char *target, const char *domain,
		       const char *detail)
{
	struct ipam_sql_stmt *st;
	int err;

	err = ipam_db_sql_prepare(
		db, &st,
		"INSERT INTO actions(run_id, seq, kind, target, domain, "
		"detail, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		"'pending')");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, run_id);
	ipam_sql_bind_int64(st, 2, seq);
	ipam_sql_bind_text(st, 3, kind);
	ipam_sql_bind_text(st, 4, target);
	ipam_sql_bind_text(st, 5, domain);
	ipam_sql_bind_text(st, 6, detail);
	return ipam_db_sql_step_done(db, st, "cannot journal an action in");
}

int ipam_db_action_set(struct ipam_db *db, long long run_id, int seq,
		       const char *state, const char *error)
{
	static const char *const states[] = {"started", "done", "failed",
					     "skipped"};
	struct ipam_sql_stmt *st;
	size_t i;
	int changed, err;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (state && !strcmp(state, states[i]))
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return ipam_error_set(IPAM_EINVAL,
				      "unknown action state '%s': use started, "
				      "done, failed or skipped",
				      state ? state : "(null)");
	err = ipam_db_sql_prepare(
		db, &st,
		"UPDATE actions SET state = ?3, "
		"started_at = CASE WHEN ?3 = 'started' THEN " NOW_SQL
		" ELSE started_at END, "
		"ended_at = CASE WHEN ?3 IN ('done','failed','skipped') "
		"THEN " NOW_SQL " ELSE ended_at END, "
		"error = ?4 WHERE run_id = ?1 AND seq = ?2");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, run_id);
	ipam_sql_bind_int64(st, 2, seq);
	ipam_sql_bind_text(st, 3, state);
	ipam_sql_bind_text(st, 4, error);
	err = step_update(db, st, "cannot journal an action in", &changed);
	if (!err && !changed)
		err = ipam_error_set(IPAM_ENOTFOUND,
				     "no action %d in run %lld of state "
				     "database '%s'",
				     seq, run_id, db->path);
	return err;
}

#define RUN_COLUMNS                                                            \
	"SELECT id, command, started_at, ended_at, host, pid, git_commit, "    \
	"config_digest, outcome, summary, "

/* The runs of a database not migrated yet still read (history and status
 * work before `db migrate`): without the columns of versions 3 and 5. */
static int prepare_runs(struct ipam_db *db, struct ipam_sql_stmt **st,
			const char *tail)
{
	struct strbuf sql = STRBUF_INIT;
	int v, err = ipam_db_schema_version(db, &v);

	if (err)
		return err;
	strbuf_addstr(&sql, RUN_COLUMNS);
	strbuf_addstr(&sql,
		      v >= 3 ? "git_author, git_subject, " : "NULL, NULL, ");
	strbuf_addstr(&sql, v >= 5 ? "git_signer, git_signer_key FROM runs "
				   : "NULL, NULL FROM runs ");
	strbuf_addstr(&sql, tail);
	err = ipam_db_sql_prepare(db, st, sql.buf);
	strbuf_release(&sql);
	return err;
}

static void run_from_row(struct ipam_db_run *r, struct ipam_sql_stmt *st)
{
	r->id = ipam_sql_column_int64(st, 0);
	r->command = ipam_sql_column_dup(st, 1);
	r->started_at = ipam_sql_column_dup(st, 2);
	r->ended_at = ipam_sql_column_dup(st, 3);
	r->host = ipam_sql_column_dup(st, 4);
	r->pid = ipam_sql_column_int64(st, 5);
	r->git_commit = ipam_sql_column_dup(st, 6);
	r->config_digest = ipam_sql_column_dup(st, 7);
	r->outcome = ipam_sql_column_dup(st, 8);
	r->summary = ipam_sql_column_dup(st, 9);
	r->git_author = ipam_sql_column_dup(st, 10);
	r->git_subject = ipam_sql_column_dup(st, 11);
	r->git_signer = ipam_sql_column_dup(st, 12);
	r->git_signer_key = ipam_sql_column_dup(st, 13);
}

int ipam_db_runs_list(struct ipam_db *db, size_t limit,
		      struct ipam_db_run **out, size_t *nr)
{
	struct ipam_sql_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = prepare_runs(db, &st, "ORDER BY id DESC LIMIT ?1");
	if (err)
		return err;
	/* A negative LIMIT is none. */
	ipam_sql_bind_int64(
		st, 1,
		limit && limit <= (size_t)LLONG_MAX ? (long long)limit : -1);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		memset(&(*out)[*nr], 0, sizeof(**out));
		run_from_row(&(*out)[(*nr)++], st);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_runs_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return ipam_db_sql_error(db, IPAM_EDB, "cannot read runs from");
	}
	return 0;
}

int ipam_db_run_get(struct ipam_db *db, long long id, struct ipam_db_run *out)
{
	struct ipam_sql_stmt *st;
	int rc, err;

	memset(out, 0, sizeof(*out));
	err = prepare_runs(db, &st, "WHERE id = ?1");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, id);
	rc = ipam_sql_step(st);
	if (rc == IPAM_SQL_ROW)
		run_from_row(out, st);
	ipam_sql_finalize(st);
	if (rc == IPAM_SQL_DONE)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "no run %lld in state database '%s'", id,
				      db->path);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB, "cannot read runs from");
	return 0;
}

int ipam_db_run_actions(struct ipam_db *db, long long run_id,
			struct ipam_db_action_row **out, size_t *nr)
{
	struct ipam_sql_stmt *st;
	size_t alloc = 0;
	int rc, err;

	*out = NULL;
	*nr = 0;
	err = ipam_db_sql_prepare(
		db, &st,
		"SELECT seq, kind, target, domain, detail, state, "
		"started_at, ended_at, error FROM actions WHERE run_id "
		"= ?1 ORDER BY seq");
	if (err)
		return err;
	ipam_sql_bind_int64(st, 1, run_id);
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		struct ipam_db_action_row *a;

		ALLOC_GROW(*out, *nr + 1, alloc);
		a = &(*out)[(*nr)++];
		a->seq = ipam_sql_column_int64(st, 0);
		a->kind = ipam_sql_column_dup(st, 1);
		a->target = ipam_sql_column_dup(st, 2);
		a->domain = ipam_sql_column_dup(st, 3);
		a->detail = ipam_sql_column_dup(st, 4);
		a->state = ipam_sql_column_dup(st, 5);
		a->started_at = ipam_sql_column_dup(st, 6);
		a->ended_at = ipam_sql_column_dup(st, 7);
		a->error = ipam_sql_column_dup(st, 8);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_actions_free(*out, *nr);
		*out = NULL;
		*nr = 0;
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read the journal from");
	}
	return 0;
}

void ipam_db_run_release(struct ipam_db_run *r)
{
	if (!r)
		return;
	free(r->command);
	free(r->started_at);
	free(r->ended_at);
	free(r->host);
	free(r->git_commit);
	free(r->config_digest);
	free(r->outcome);
	free(r->summary);
	free(r->git_author);
	free(r->git_subject);
	free(r->git_signer);
	free(r->git_signer_key);
	memset(r, 0, sizeof(*r));
}

void ipam_db_runs_free(struct ipam_db_run *v, size_t nr)
{
	size_t i;

	for (i = 0; v && i < nr; i++)
		ipam_db_run_release(&v[i]);
	free(v);
}

void ipam_db_actions_free(struct ipam_db_action_row *v, size_t nr)
{
	size_t i;

	for (i = 0; v && i < nr; i++) {
		free(v[i].kind);
		free(v[i].target);
		free(v[i].domain);
		free(v[i].detail);
		free(v[i].state);
		free(v[i].started_at);
		free(v[i].ended_at);
		free(v[i].error);
	}
	free(v);
}
