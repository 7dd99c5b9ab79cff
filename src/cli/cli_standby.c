/*
 * reconcile --every against a PostgreSQL database shared by several
 * hosts: one loop is the active reconciler, the others are its standby.
 * The active one holds the database's "active" advisory lock on a
 * connection of its own for as long as it lives (db_lock_pg.c); each
 * other loop tries for it once a cycle, after fetching the desired state
 * (the lock's key has its ipamServer), and skips the cycle -- plan,
 * apply and the collection tasks alike -- while another holds it.  When
 * the active one dies, its connection ends, the server releases the
 * lock, and the next standby to try takes over: within one interval.
 * SQLite has no standby: one host, the run lock alone.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"
#include "dburi.h"
#include "error.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

static void standby_drop(struct cli_standby *s)
{
	ipam_db_close(s->db);
	s->db = NULL;
	free(s->target);
	s->target = NULL;
	s->active = false;
}

int cli_standby_turn(struct cli_standby *s, const struct cli *c,
		     const struct ipam_desired *d)
{
	struct strbuf path = STRBUF_INIT, holder = STRBUF_INIT;
	struct cli copy = *c;
	int err;

	s->passive = false;
	if (cli_db_path(&copy, d, &path) || !ipam_dburi_is_postgres(path.buf)) {
		strbuf_release(&path);
		standby_drop(s);
		return 1; /* the cycle says what is wrong, if anything */
	}
	if (s->target && strcmp(s->target, path.buf))
		standby_drop(s);
	err = 0;
	if (!s->db) {
		err = cli_db_connect(c, d, NULL, 0, &s->db);
		if (!err)
			s->target = strbuf_detach(&path, NULL);
	}
	if (!err) {
		ipam_db_set_lock_scope(s->db, d->ipam_server.value);
		err = ipam_db_lead(s->db, "reconcile --every", &holder);
	}
	if (!err && !s->active)
		log_notice("active reconciler of %s for %s", s->target,
			   d->ipam_server.value ? d->ipam_server.value : "?");
	if (!err)
		s->active = true;
	else if (err == IPAM_ECONFLICT)
		log_notice("standby: the active reconciler is %s; this one "
			   "takes over when its connection to %s ends",
			   holder.len ? holder.buf : "another process",
			   s->target);
	else
		log_error("%s%s", ipam_error_last(),
			  s->active ? " (this process is no longer the "
				      "active reconciler)"
				    : "");
	if (err && err != IPAM_ECONFLICT)
		standby_drop(s);
	s->passive = err != 0;
	strbuf_release(&path);
	strbuf_release(&holder);
	if (err && err != IPAM_ECONFLICT)
		return -1;
	return !err;
}

void cli_standby_release(struct cli_standby *s)
{
	standby_drop(s);
	s->passive = false;
}

void cli_status_lock(struct ipam_db *db, struct ipam_node *json)
{
	struct strbuf run = STRBUF_INIT, active = STRBUF_INIT;

	if (ipam_db_lock_holder(db, &run, &active)) {
		log_warn("the lock's holder cannot be told: %s",
			 ipam_error_last());
	} else if (json) {
		ipam_node_set(json, "lock_holder",
			      ipam_node_str_or_null(run.len ? run.buf : NULL));
		if (ipam_db_is_postgres(db))
			ipam_node_set(json, "active_reconciler",
				      ipam_node_str_or_null(
					      active.len ? active.buf : NULL));
	} else {
		cli_printf("lock:           %s\n", run.len ? run.buf : "free");
		if (ipam_db_is_postgres(db))
			cli_printf("active:         %s\n",
				   active.len ? active.buf
					      : "none (no reconcile --every "
						"holds it)");
	}
	strbuf_release(&run);
	strbuf_release(&active);
}
