#include "db_copy.h"

#include <stdlib.h>
#include <string.h>

#include "db_dialect.h"
#include "db_internal.h"
#include "error.h"
#include "strbuf.h"
#include "banned.h"

/*
 * The tables copied, parents first: the order the migrations made them
 * in, which is an order in which every REFERENCES points back.  Deleted
 * (--replace) in the reverse order.  Those the source's schema version
 * does not have are left out (the target is of the same version).
 */
static const char *const tables[] = {
	"settings",
	"domains",
	"runs",
	"servers",
	"server_addresses",
	"server_history",
	"actions",
	"access_status",
	"applied_domains",
	"applied_gpos",
	"applied_filter",
	"collect_tasks",
	"collect_server_status",
	"dhcp_audit_files",
	"dhcp_event_batches",
	"dhcp_events",	     /* until schema version 10 */
	"dhcp_event_blocks", /* from 10 */
	"dhcp_event_postings",
	"dhcp_batch_addresses",	   /* from 11 */
	"dhcp_address_fold",	   /* from 11 */
	"dhcp_address_fold_state", /* from 11 */
	"dns_zones",
	"dns_records",
	"dns_record_history",
	"zone_status",
	"availability",
	"availability_history",
	"addresses",
	"address_sources",
	"utilization_samples",
};

#define NR_TABLES (sizeof(tables) / sizeof(tables[0]))

/* What each database keeps for itself (db_copy.h). */
static const char *const not_copied[] = {
	"schema_migrations",
	"reconcile_lock",
};

/* Parameters per INSERT: under SQLite's limit (32766), PostgreSQL's
 * (65535) and what libpq reads in the one message that describes them
 * (30,000 bytes, 4 a parameter); rows per INSERT at most ROWS_MAX. */
#define PARAMS_MAX 7000
#define ROWS_MAX   500

static bool listed(const char *name, const char *const *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(name, v[i]))
			return true;
	return false;
}

/* Every table of the source is copied or known not to be; have[i]:
 * the source has tables[i]. */
static int check_tables(struct ipam_db *from, bool *have)
{
	struct ipam_sql_stmt *st;
	int rc, err;

	err = ipam_db_sql_prepare(
		from, &st,
		IPAM_DB_SQL(from,
			    "SELECT name FROM sqlite_master WHERE type = "
			    "'table' AND substr(name, 1, 7) <> 'sqlite_'",
			    "SELECT CAST(table_name AS TEXT) FROM "
			    "information_schema.tables WHERE table_schema = "
			    "current_schema() AND table_type = 'BASE TABLE'"));
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		const char *name = ipam_sql_column_text(st, 0);

		for (size_t i = 0; i < NR_TABLES; i++)
			if (!strcmp(name, tables[i]))
				have[i] = true;
		if (listed(name, tables, NR_TABLES) ||
		    listed(name, not_copied,
			   sizeof(not_copied) / sizeof(not_copied[0])))
			continue;
		err = ipam_error_set(IPAM_EDB,
				     "'%s' has a table 'db copy' does not "
				     "know: %s (nothing copied)",
				     from->path, name);
		break;
	}
	ipam_sql_finalize(st);
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(from, IPAM_EDB,
					"cannot list tables in");
	return err;
}

static int count_rows(struct ipam_db *db, const char *table, long long *n)
{
	char *sql = xasprintf("SELECT count(*) FROM \"%s\"", table);
	struct ipam_sql_stmt *st;
	int err = ipam_db_sql_prepare(db, &st, sql), rc;

	free(sql);
	if (err)
		return err;
	rc = ipam_sql_step(st);
	*n = rc == IPAM_SQL_ROW ? ipam_sql_column_int64(st, 0) : -1;
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_ROW)
		return ipam_db_sql_error(db, IPAM_EDB, "cannot count rows in");
	return 0;
}

/*
 * The target's provisioning settings are the source's (or none): "db
 * init" with the same desired state made them, and they go before the
 * source's are copied.
 */
static int settings_agree(struct ipam_db *from, struct ipam_db *to)
{
	struct ipam_db_settings a = {0}, b = {0};
	int err = ipam_db_get_settings(from, &a);

	if (!err)
		err = ipam_db_get_settings(to, &b);
	if (!err && b.method &&
	    (!a.method || strcmp(a.method, b.method) ||
	     !a.gpo_prefix != !b.gpo_prefix ||
	     (a.gpo_prefix && strcmp(a.gpo_prefix, b.gpo_prefix))))
		err = ipam_error_set(IPAM_ECONFLICT,
				     "'%s' records provisioning method %s%s%s, "
				     "'%s' %s%s%s: give --replace to overwrite "
				     "the target's",
				     to->path, b.method,
				     b.gpo_prefix ? " and GPO prefix " : "",
				     b.gpo_prefix ? b.gpo_prefix : "",
				     from->path, a.method ? a.method : "none",
				     a.gpo_prefix ? " and GPO prefix " : "",
				     a.gpo_prefix ? a.gpo_prefix : "");
	ipam_db_settings_release(&a);
	ipam_db_settings_release(&b);
	return err;
}

/* An empty target (db_copy.h), or with replace one emptied now. */
static int empty_target(struct ipam_db *from, struct ipam_db *to,
			const bool *have, bool replace)
{
	int err = replace ? 0 : settings_agree(from, to);

	for (size_t i = 0; !err && !replace && i < NR_TABLES; i++) {
		long long n = 0;

		if (!have[i] || !strcmp(tables[i], "settings"))
			continue;
		err = count_rows(to, tables[i], &n);
		if (!err && n)
			err = ipam_error_set(
				IPAM_ECONFLICT,
				"'%s' is not empty (%lld rows in "
				"%s): give --replace to delete its "
				"data first",
				to->path, n, tables[i]);
	}
	for (size_t i = NR_TABLES; !err && i-- > 0;) {
		char *sql;

		if (!have[i])
			continue;
		sql = xasprintf("DELETE FROM \"%s\"", tables[i]);
		err = ipam_db_sql_exec(to, sql);
		free(sql);
	}
	return err;
}

/* INSERT INTO table (names) VALUES rows tuples of parameters. */
static char *insert_sql(struct ipam_db *to, const char *table,
			char *const *names, int cols, int rows)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "INSERT INTO \"%s\" (", table);
	for (int c = 0; c < cols; c++)
		strbuf_addf(&sb, "%s\"%s\"", c ? ", " : "", names[c]);
	/* The ids as they are, also into a GENERATED ALWAYS column. */
	strbuf_addstr(&sb, IPAM_DB_IS_PG(to)
				   ? ") OVERRIDING SYSTEM VALUE VALUES "
				   : ") VALUES ");
	ipam_db_sql_values(&sb, (size_t)rows, (size_t)cols);
	return strbuf_detach(&sb, NULL);
}

/* One value of a buffered row. */
struct val {
	enum ipam_sql_type type;
	long long i;
	double d;
	char *s; /* text (NUL-terminated) or blob */
	size_t n;
};

/* The rows of a table on their way: up to per rows of cols values, the
 * INSERT for a full batch kept, the one for the last (shorter) made. */
struct batch {
	const char *table;
	struct ipam_sql_stmt *full;
	char **names; /* the source's columns */
	struct val *v;
	int cols, per, n;
	long long rows;
};

/* The source's current row into the buffer. */
static void keep_row(struct val *v, struct ipam_sql_stmt *src, int cols)
{
	for (int c = 0; c < cols; c++) {
		const void *p;

		v[c].type = ipam_sql_column_type(src, c);
		switch (v[c].type) {
		case IPAM_SQL_NULL:
			break;
		case IPAM_SQL_INTEGER:
			v[c].i = ipam_sql_column_int64(src, c);
			break;
		case IPAM_SQL_FLOAT:
			v[c].d = ipam_sql_column_double(src, c);
			break;
		case IPAM_SQL_BLOB:
			v[c].n = ipam_sql_column_bytes(src, c);
			p = ipam_sql_column_blob(src, c);
			v[c].s = xmalloc(v[c].n + 1);
			if (v[c].n)
				memcpy(v[c].s, p, v[c].n);
			break;
		default:
			v[c].s = xstrdup(ipam_sql_column_text(src, c));
			break;
		}
	}
}

static void bind_val(struct ipam_sql_stmt *ins, int i, struct val *v)
{
	switch (v->type) {
	case IPAM_SQL_NULL:
		ipam_sql_bind_null(ins, i);
		break;
	case IPAM_SQL_INTEGER:
		ipam_sql_bind_int64(ins, i, v->i);
		break;
	case IPAM_SQL_FLOAT:
		ipam_sql_bind_double(ins, i, v->d);
		break;
	case IPAM_SQL_BLOB:
		/* a blob of no bytes stays one, not a NULL */
		ipam_sql_bind_blob(ins, i, v->s, v->n);
		break;
	default:
		ipam_sql_bind_text(ins, i, v->s);
		break;
	}
	free(v->s);
	v->s = NULL;
}

/* The buffered rows into the target. */
static int flush(struct ipam_db *to, struct batch *b)
{
	struct ipam_sql_stmt *ins = b->full;
	int err = 0, p = 0;

	if (!b->n)
		return 0;
	if (b->n < b->per) {
		char *sql = insert_sql(to, b->table, b->names, b->cols, b->n);

		err = ipam_db_sql_prepare(to, &ins, sql);
		free(sql);
	}
	for (int r = 0; r < b->n; r++)
		for (int c = 0; c < b->cols; c++, p++)
			if (!err)
				bind_val(ins, p + 1, &b->v[p]);
			else
				free(b->v[p].s);
	if (!err && ipam_sql_step(ins) != IPAM_SQL_DONE)
		err = ipam_error_prefix(
			ipam_db_sql_error(to, IPAM_EDB, "cannot copy into"),
			"table %s", b->table);
	if (ins != b->full)
		ipam_sql_finalize(ins);
	else
		ipam_sql_reset(ins);
	b->rows += b->n;
	b->n = 0;
	return err;
}

static int batch_add(struct ipam_db *to, struct batch *b,
		     struct ipam_sql_stmt *src)
{
	if (!b->v) {
		char *sql;
		int err;

		b->cols = ipam_sql_column_count(src);
		b->per = PARAMS_MAX / (b->cols ? b->cols : 1);
		if (b->per > ROWS_MAX)
			b->per = ROWS_MAX;
		b->v = xcalloc((size_t)b->per * (size_t)b->cols, sizeof(*b->v));
		b->names = xcalloc((size_t)b->cols, sizeof(*b->names));
		for (int c = 0; c < b->cols; c++)
			b->names[c] = xstrdup(ipam_sql_column_name(src, c));
		sql = insert_sql(to, b->table, b->names, b->cols, b->per);
		err = ipam_db_sql_prepare(to, &b->full, sql);
		free(sql);
		if (err)
			return err;
	}
	keep_row(&b->v[b->n * b->cols], src, b->cols);
	if (++b->n < b->per)
		return 0;
	return flush(to, b);
}

/* One table, from a snapshot of the source into the target. */
static int copy_table(struct ipam_db *from, struct ipam_db *to,
		      const char *table, long long *rows)
{
	char *sql = xasprintf("SELECT * FROM \"%s\"", table);
	struct batch b = {.table = table};
	struct ipam_sql_stmt *src;
	int rc, err;

	/* A cursor on PostgreSQL: the events are millions of rows. */
	err = ipam_sql_prepare_scan(from->h, &src, sql);
	free(sql);
	if (err)
		return ipam_db_sql_error(from, IPAM_EDB, "cannot read");
	while (!err && (rc = ipam_sql_step(src)) == IPAM_SQL_ROW)
		err = batch_add(to, &b, src);
	if (!err && rc != IPAM_SQL_DONE)
		err = ipam_error_prefix(
			ipam_db_sql_error(from, IPAM_EDB, "cannot read"),
			"table %s", table);
	if (!err)
		err = flush(to, &b);
	for (int i = 0; i < b.n * b.cols; i++)
		free(b.v[i].s);
	for (int c = 0; b.names && c < b.cols; c++)
		free(b.names[c]);
	free(b.names);
	free(b.v);
	ipam_sql_finalize(b.full);
	ipam_sql_finalize(src);
	*rows = b.rows;
	return err;
}

/* PostgreSQL: each identity column's sequence past the copied ids. */
static int set_sequences(struct ipam_db *to)
{
	struct ipam_sql_stmt *st = NULL;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int rc, err;

	if (!IPAM_DB_IS_PG(to))
		return 0; /* SQLite takes max(rowid) + 1 */
	err = ipam_db_sql_prepare(
		to, &st,
		"SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) "
		"FROM information_schema.columns WHERE table_schema = "
		"current_schema() AND is_identity = 'YES'");
	if (err)
		return err;
	while ((rc = ipam_sql_step(st)) == IPAM_SQL_ROW) {
		ALLOC_GROW(names, n + 2, alloc);
		names[n++] = ipam_sql_column_dup(st, 0);
		names[n++] = ipam_sql_column_dup(st, 1);
	}
	ipam_sql_finalize(st);
	if (rc != IPAM_SQL_DONE)
		err = ipam_db_sql_error(to, IPAM_EDB, "cannot list ids in");
	for (size_t i = 0; !err && i < n; i += 2) {
		char *sql = xasprintf(
			"SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'), "
			"coalesce(max(\"%s\"), 0) + 1, false) FROM \"%s\"",
			names[i], names[i + 1], names[i + 1], names[i]);

		st = NULL;
		err = ipam_db_sql_prepare(to, &st, sql);
		free(sql);
		if (!err && ipam_sql_step(st) != IPAM_SQL_ROW)
			err = ipam_db_sql_error(to, IPAM_EDB,
						"cannot set the ids of");
		ipam_sql_finalize(st);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

/* Each table's rows, counted in the target and in the source's
 * snapshot, are what was copied. */
static int verify(struct ipam_db *from, struct ipam_db *to,
		  const struct ipam_db_copy_count *c, size_t nr)
{
	int err = 0;

	for (size_t i = 0; !err && i < nr; i++) {
		long long a = 0, b = 0;

		err = count_rows(from, c[i].table, &a);
		if (!err)
			err = count_rows(to, c[i].table, &b);
		if (!err && (a != c[i].rows || b != c[i].rows))
			err = ipam_error_set(IPAM_EDB,
					     "table %s: %lld rows in the "
					     "source, %lld copied, %lld in the "
					     "target (nothing committed)",
					     c[i].table, a, c[i].rows, b);
	}
	return err;
}

/* Both databases of this ipamctl's schema; the target migrated to it. */
static int check_versions(struct ipam_db *from, struct ipam_db *to, bool *have)
{
	int v, err;

	if (!strcmp(from->path, to->path))
		return ipam_error_set(IPAM_EINVAL,
				      "'%s' is both the source and the target",
				      from->path);
	err = ipam_db_check_schema(from, &v, 1);
	if (!err)
		err = check_tables(from, have);
	if (!err)
		err = ipam_db_migrate(to, NULL, NULL);
	if (!err)
		err = ipam_db_check_schema(to, &v, 1);
	return err;
}

static int copy_all(struct ipam_db *from, struct ipam_db *to,
		    const struct ipam_db_copy_opts *o, const bool *have,
		    struct ipam_db_copy_count *c, size_t *nr)
{
	int err = empty_target(from, to, have, o->replace);

	for (size_t i = 0; !err && i < NR_TABLES; i++) {
		if (!have[i])
			continue;
		c[*nr].table = tables[i];
		err = copy_table(from, to, tables[i], &c[*nr].rows);
		if (!err && o->progress)
			o->progress(o->ctx, tables[i], c[*nr].rows);
		(*nr)++;
	}
	if (!err)
		err = set_sequences(to);
	if (!err)
		err = verify(from, to, c, *nr);
	return err;
}

int ipam_db_copy(struct ipam_db *from, struct ipam_db *to,
		 const struct ipam_db_copy_opts *o,
		 struct ipam_db_copy_count **out, size_t *nr)
{
	bool have[NR_TABLES] = {false};
	struct ipam_db_copy_count *c;
	size_t n = 0;
	int err;

	*out = NULL;
	*nr = 0;
	err = check_versions(from, to, have);
	if (err)
		return err;
	/* One snapshot of the source: a read transaction. */
	err = ipam_db_sql_exec(from,
			       IPAM_DB_SQL(from, "BEGIN",
					   "BEGIN ISOLATION LEVEL REPEATABLE "
					   "READ, READ ONLY"));
	if (err)
		return err;
	err = ipam_sql_begin(to->h);
	if (err) {
		ipam_sql_rollback(from->h);
		return err;
	}
	c = xcalloc(NR_TABLES, sizeof(*c));
	err = copy_all(from, to, o, have, c, &n);
	if (!err)
		err = ipam_db_sql_exec(to, "COMMIT");
	ipam_sql_rollback(to->h);
	ipam_sql_rollback(from->h);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	*nr = n;
	return 0;
}
