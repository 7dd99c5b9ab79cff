#include "db.h"

#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "error.h"
#include "banned.h"

int ipam_db_get_settings(struct ipam_db *db, struct ipam_db_settings *out)
{
	struct ipam_sql_stmt *st;
	int v, rc, err;

	memset(out, 0, sizeof(*out));
	err = ipam_db_schema_version(db, &v);
	if (err || v < 1)
		return err;
	if (ipam_sql_prepare(db->h, &st,
			     "SELECT key, value, set_at FROM settings "
			     "WHERE key IN ('provisioning_method', "
			     "'gpo_prefix')"))
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read settings of");
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *key = ipam_sql_column_text(st, 0);

		if (!strcmp(key, "provisioning_method")) {
			free(out->method);
			free(out->fixed_at);
			out->method = ipam_sql_column_dup(st, 1);
			out->fixed_at = ipam_sql_column_dup(st, 2);
		} else {
			free(out->gpo_prefix);
			out->gpo_prefix = ipam_sql_column_dup(st, 1);
		}
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE) {
		ipam_db_settings_release(out);
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot read settings of");
	}
	return 0;
}

void ipam_db_settings_release(struct ipam_db_settings *s)
{
	free(s->method);
	free(s->gpo_prefix);
	free(s->fixed_at);
	memset(s, 0, sizeof(*s));
}

static int insert_setting(struct ipam_db *db, const char *key,
			  const char *value)
{
	struct ipam_sql_stmt *st;
	int rc;

	if (ipam_sql_prepare(db->h, &st,
			     "INSERT INTO settings(key, value, set_at) "
			     "VALUES (?1, ?2, " NOW_SQL ")"))
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot record settings in");
	ipam_sql_bind_text(st, 1, key);
	ipam_sql_bind_text(st, 2, value);
	rc = ipam_sql_step(st);
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		return ipam_db_sql_error(db, IPAM_EDB,
					 "cannot record settings in");
	return 0;
}

int ipam_db_record_settings(struct ipam_db *db, const char *method,
			    const char *gpo_prefix)
{
	struct ipam_db_settings cur;
	int err;

	err = ipam_sql_begin(db->h);
	if (err)
		return err;
	err = ipam_db_get_settings(db, &cur);
	if (!err && !cur.method) {
		err = insert_setting(db, "provisioning_method", method);
		if (!err && gpo_prefix)
			err = insert_setting(db, "gpo_prefix", gpo_prefix);
	}
	ipam_db_settings_release(&cur);
	if (!err)
		return ipam_db_sql_exec(db, "COMMIT");
	ipam_sql_rollback(db->h);
	return err;
}

int ipam_db_check_settings(struct ipam_db *db, const struct ipam_desired *d)
{
	struct ipam_db_settings s;
	const char *want = ipam_method_name(d->method);
	const struct ipam_pos *p = &d->method_pos;
	int err;

	err = ipam_db_get_settings(db, &s);
	if (err || !s.method)
		return err;
	if (strcmp(s.method, want)) {
		err = ipam_error_set(
			IPAM_ECONFLICT,
			"%s:%d:%d: provisioning method '%s' conflicts with the "
			"state database '%s': its method is fixed to '%s' "
			"since %s. The method cannot change on an existing "
			"database; to change it, re-create the database with "
			"'ipamctl db init --force' (this discards its "
			"inventory and history)",
			p->file, p->line, p->col, want, db->path, s.method,
			s.fixed_at ? s.fixed_at : "its creation");
	} else if (s.gpo_prefix && d->gpo_prefix.value &&
		   strcmp(s.gpo_prefix, d->gpo_prefix.value)) {
		p = &d->gpo_prefix.pos;
		err = ipam_error_set(
			IPAM_ECONFLICT,
			"%s:%d:%d: gpoPrefix '%s' conflicts with the state "
			"database '%s': its GPO prefix is fixed to '%s' since "
			"%s. To change it, re-create the database with "
			"'ipamctl db init --force' (this discards its "
			"inventory and history)",
			p->file, p->line, p->col, d->gpo_prefix.value, db->path,
			s.gpo_prefix, s.fixed_at ? s.fixed_at : "its creation");
	}
	ipam_db_settings_release(&s);
	return err;
}
