/* ipamctl db init|info|migrate: the state database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db.h"
#include "dburi.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

struct db_opts {
	int force;
	int if_missing;
	int replace;
	const char *from, *to;
};

enum { OPT_IF_MISSING = CLI_OPT_OWN, OPT_FROM, OPT_TO, OPT_REPLACE };

static int db_option(struct cli *cli, void *opts, int id, const char *arg);
static int db_check(struct cli *cli, void *opts, int argc, char **argv);
static int db_run(struct cli *cli, void *opts, int argc, char **argv);

static const struct cli_option db_options[] = {
	{"force", CLI_NO_ARG, 'f', "with init: delete the database first"},
	{"if-missing", CLI_NO_ARG, OPT_IF_MISSING,
	 "with init: only create a database that is not there"},
	{"from", CLI_ARG, OPT_FROM, "with copy: the database to copy"},
	{"to", CLI_ARG, OPT_TO, "with copy: the database to copy into"},
	{"replace", CLI_NO_ARG, OPT_REPLACE,
	 "with copy: delete the target's data first"},
	{NULL, 0, 0, NULL},
};

/* For completion and the manual: db's subcommands share its options. */
static const struct cli_subcommand db_subcommands[] = {
	{"init", NULL},	  {"info", NULL}, {"migrate", NULL},
	{"unlock", NULL}, {"copy", NULL}, {NULL, NULL},
};

const struct command cmd_db_def = {
	.name = "db",
	.summary = "create, inspect or upgrade the state database",
	.usage =
		"db init [--force | --if-missing] | db info | db migrate | "
		"db unlock |\n"
		"       db copy --from DB --to DB [--replace]\n\n"
		"  init      create the state database, apply the migrations "
		"and record the\n"
		"            provisioning method and GPO prefix of the desired "
		"state (-c),\n"
		"            which are fixed from then on.  On an existing "
		"database it only\n"
		"            migrates, and refuses a different method or "
		"prefix.\n"
		"  --force   with init: delete the existing database first "
		"(its inventory,\n"
		"            runs and history are lost); the way to change the "
		"method\n"
		"  --if-missing\n"
		"            with init: create the database only when no file "
		"is at its path,\n"
		"            with a warning and a run in the history; leave an "
		"existing one\n"
		"            untouched (a service's first start: "
		"ExecStartPre=)\n"
		"  info      schema version, provisioning settings, row "
		"counts\n"
		"  migrate   apply pending schema migrations\n"
		"  unlock    remove the reconciler lock of a plan/apply "
		"that is gone\n"
		"            (one on another host: check it is, first)\n"
		"  copy      copy everything of one state database into "
		"another (SQLite to\n"
		"            PostgreSQL or back: paths, sqlite:PATH, "
		"postgresql://...), in\n"
		"            one transaction, each table's rows counted on "
		"both sides; the\n"
		"            target must hold no data but the same "
		"provisioning settings\n"
		"  --replace with copy: delete the target's data first",
	.options = db_options,
	.subcommands = db_subcommands,
	.opts_size = sizeof(struct db_opts),
	.option = db_option,
	.check = db_check,
	.run = db_run,
};

/*
 * db init --if-missing made the database: say so loudly, on stderr (the
 * journal, at warning priority, under a unit) and as a run in the
 * history, since on a host that had a database before this is the moment
 * its inventory and history were lost.  A failure to record the run is a
 * warning too: the database itself is good.
 */
static void note_created(struct ipam_db *db, const char *path,
			 const struct ipam_db_settings *s)
{
	struct ipam_node *sum = ipam_node_new(IPAM_NODE_MAP);
	struct strbuf text = STRBUF_INIT;
	long long run_id;
	int err;

	log_warn("no state database at '%s': created it (db init "
		 "--if-missing) with provisioning method '%s'%s%s%s from the "
		 "desired state, fixed from now on; if this host had a "
		 "database before, its inventory, run history and record of "
		 "what was applied are gone (what ipamctl made in AD keeps "
		 "its mark)",
		 path, s->method, s->gpo_prefix ? " and GPO prefix '" : "",
		 s->gpo_prefix ? s->gpo_prefix : "", s->gpo_prefix ? "'" : "");
	ipam_node_set_str(sum, "created",
			  "no database at its path (--if-missing)");
	ipam_node_set_str(sum, "database", path);
	ipam_node_set_str(sum, "provisioningMethod", s->method);
	ipam_node_set(sum, "gpoPrefix",
		      s->gpo_prefix ? ipam_node_str(s->gpo_prefix)
				    : ipam_node_new(IPAM_NODE_NULL));
	err = ipam_json_write(&text, sum, 0);
	if (!err)
		err = ipam_db_run_begin(db, "db init", &run_id);
	if (!err)
		err = ipam_db_run_end(db, run_id, "succeeded", text.buf);
	if (err)
		log_warn("the creation of '%s' is not in its history: %s", path,
			 ipam_error_last());
	strbuf_release(&text);
	ipam_node_free(sum);
}

/*
 * A SQLite file for db init: *existed says whether it was there; with
 * --if-missing and a file there, *done (nothing to do).  Only "no such
 * file" is missing: a file that is there, readable or not, a database or
 * not, is for the command that opens it to judge, never replaced.
 */
static int init_sqlite(struct cli *cli, const struct db_opts *o,
		       const struct ipam_desired *d, const char *path,
		       struct ipam_db **db, int *existed, int *done)
{
	struct stat st;
	int err;

	*existed = !stat(path, &st);
	if (o->if_missing && *existed) {
		*done = 1;
		return 0;
	}
	if (o->if_missing && errno != ENOENT)
		return ipam_error_set(IPAM_EIO, "state database '%s': %s", path,
				      strerror(errno));
	if (o->force && *existed) {
		err = ipam_db_remove_files(path);
		if (err)
			return err;
		log_notice("removed the state database '%s' (--force)", path);
		*existed = 0;
	}
	return cli_db_connect(cli, d, NULL, IPAM_DB_CREATE, db);
}

/*
 * A PostgreSQL database for db init: the administrator made it (README);
 * it "exists" for --if-missing and --force once it has ipamctl's schema.
 */
static int init_postgres(struct cli *cli, const struct db_opts *o,
			 const struct ipam_desired *d, const char *path,
			 struct ipam_db **db, int *existed, int *done)
{
	int v, err;

	err = cli_db_connect(cli, d, NULL, 0, db);
	if (!err)
		err = ipam_db_schema_version(*db, &v);
	if (err)
		return err;
	*existed = v > 0;
	if (o->if_missing && *existed) {
		*done = 1;
		return 0;
	}
	if (o->force && *existed) {
		err = ipam_db_drop_all(*db);
		if (err)
			return err;
		log_notice("emptied the state database '%s' (--force)", path);
		*existed = 0;
	}
	return 0;
}

static int db_init(struct cli *cli, const struct db_opts *o)
{
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct ipam_db_settings s = {0};
	struct strbuf path = STRBUF_INIT;
	int from = 0, to = 0, err, ret = IPAM_EXIT_ERROR;
	int existed = 0, done = 0;

	if (cli_load_desired(cli, &d)) {
		log_error("db init records the provisioning method of the "
			  "desired state: give a valid one with -c PATH");
		goto out;
	}
	err = cli_db_path(cli, d, &path);
	if (!err && ipam_dburi_is_postgres(path.buf))
		err = init_postgres(cli, o, d, path.buf, &db, &existed, &done);
	else if (!err)
		err = init_sqlite(cli, o, d, path.buf, &db, &existed, &done);
	if (err)
		goto fail;
	if (done) {
		log_info("state database %s is there: left as it is "
			 "(--if-missing)",
			 path.buf);
		ret = IPAM_EXIT_OK;
		goto out;
	}
	/* Refuse before changing anything in an existing database. */
	err = ipam_db_check_settings(db, d);
	if (err)
		goto fail;
	err = ipam_db_migrate(db, &from, &to);
	if (err)
		goto fail;
	err = ipam_db_record_settings(db, ipam_method_name(d->method),
				      d->gpo_prefix.value);
	if (err)
		goto fail;
	err = ipam_db_get_settings(db, &s);
	if (err)
		goto fail;
	if (existed && from == to)
		cli_printf("state database %s is already initialised (schema "
			   "version %d, provisioning method %s",
			   path.buf, to, s.method);
	else
		cli_printf("initialised state database %s (schema version %d, "
			   "provisioning method %s",
			   path.buf, to, s.method);
	if (s.gpo_prefix)
		cli_printf(", GPO prefix %s", s.gpo_prefix);
	cli_printf(", fixed since %s)\n", s.fixed_at);
	if (o->if_missing)
		note_created(db, path.buf, &s);
	ret = IPAM_EXIT_OK;
	goto out;
fail:
	log_error("%s", ipam_error_last());
out:
	ipam_db_settings_release(&s);
	ipam_db_close(db);
	ipam_desired_free(d);
	strbuf_release(&path);
	return ret;
}

static void print_info_text(const char *path, int version,
			    const struct ipam_db_settings *s,
			    const struct ipam_db_count *counts, size_t nr)
{
	size_t i;

	cli_printf("database:            %s\n", path);
	cli_printf("schema version:      %d (this ipamctl: %d)\n", version,
		   ipam_db_latest_version());
	if (s->method)
		cli_printf("provisioning method: %s (fixed since %s)\n",
			   s->method, s->fixed_at);
	else
		cli_printf("provisioning method: not recorded (run 'ipamctl db "
			   "init')\n");
	cli_printf("GPO prefix:          %s\n",
		   s->gpo_prefix ? s->gpo_prefix : "-");
	cli_printf("rows:\n");
	for (i = 0; i < nr; i++)
		cli_printf("  %-18s %lld\n", counts[i].table, counts[i].rows);
}

static void print_info_json(const char *path, int version,
			    const struct ipam_db_settings *s,
			    const struct ipam_db_count *counts, size_t nr)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *rows = ipam_node_new(IPAM_NODE_MAP);
	struct strbuf out = STRBUF_INIT;
	size_t i;

	ipam_node_set_str(root, "database", path);
	ipam_node_set(root, "schemaVersion", ipam_node_int(version));
	ipam_node_set(root, "latestSchemaVersion",
		      ipam_node_int(ipam_db_latest_version()));
	ipam_node_set(root, "provisioningMethod",
		      s->method ? ipam_node_str(s->method)
				: ipam_node_new(IPAM_NODE_NULL));
	ipam_node_set(root, "gpoPrefix",
		      s->gpo_prefix ? ipam_node_str(s->gpo_prefix)
				    : ipam_node_new(IPAM_NODE_NULL));
	ipam_node_set(root, "fixedAt",
		      s->fixed_at ? ipam_node_str(s->fixed_at)
				  : ipam_node_new(IPAM_NODE_NULL));
	for (i = 0; i < nr; i++)
		ipam_node_set(rows, counts[i].table,
			      ipam_node_int(counts[i].rows));
	ipam_node_set(root, "rows", rows);
	if (!ipam_json_write(&out, root, IPAM_JSON_PRETTY))
		fputs(out.buf, stdout);
	strbuf_release(&out);
	ipam_node_free(root);
}

static int db_info_or_migrate(struct cli *cli, int migrate)
{
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct ipam_db_settings s = {0};
	struct ipam_db_count *counts = NULL;
	struct strbuf path = STRBUF_INIT;
	size_t nr = 0;
	int version, from, err, ret = IPAM_EXIT_ERROR;

	if (cli_config_available(cli) && cli_load_desired(cli, &d))
		goto out;
	err = cli_db_path(cli, d, &path);
	if (!err)
		err = cli_db_connect(cli, d, NULL, 0, &db);
	if (err)
		goto fail;
	if (migrate) {
		if (d) {
			err = ipam_db_check_settings(db, d);
			if (err)
				goto fail;
		}
		err = ipam_db_migrate(db, &from, &version);
		if (err)
			goto fail;
		if (from == version)
			cli_printf("state database %s is up to date (schema "
				   "version %d)\n",
				   path.buf, version);
		else
			cli_printf("migrated state database %s from schema "
				   "version %d to %d\n",
				   path.buf, from, version);
		ret = IPAM_EXIT_OK;
		goto out;
	}
	err = ipam_db_check_schema(db, &version, 0);
	if (!err)
		err = ipam_db_get_settings(db, &s);
	if (!err)
		err = ipam_db_counts(db, &counts, &nr);
	if (err)
		goto fail;
	if (cli->output == IPAM_OUT_JSON)
		print_info_json(path.buf, version, &s, counts, nr);
	else
		print_info_text(path.buf, version, &s, counts, nr);
	/* A conflict is worth saying, but info itself succeeded. */
	if (d && ipam_db_check_settings(db, d))
		log_warn("%s", ipam_error_last());
	ret = IPAM_EXIT_OK;
	goto out;
fail:
	log_error("%s", ipam_error_last());
out:
	free(counts);
	ipam_db_settings_release(&s);
	ipam_db_close(db);
	ipam_desired_free(d);
	strbuf_release(&path);
	return ret;
}

/* Remove a reconciler lock left by a process that is gone. */
static int db_unlock(struct cli *cli)
{
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct strbuf path = STRBUF_INIT, holder = STRBUF_INIT;
	int version, err, ret = IPAM_EXIT_ERROR;

	if (cli_config_available(cli) && cli_load_desired(cli, &d))
		goto out;
	err = cli_db_path(cli, d, &path);
	if (!err)
		err = cli_db_connect(cli, d, NULL, 0, &db);
	if (!err)
		err = ipam_db_check_schema(db, &version, 1);
	if (!err)
		err = ipam_db_lock_break(db, &holder);
	if (err) {
		log_error("%s", ipam_error_last());
		goto out;
	}
	if (holder.len)
		cli_printf("removed the lock of %s held by %s\n", path.buf,
			   holder.buf);
	else
		cli_printf("%s was not locked\n", path.buf);
	ret = IPAM_EXIT_OK;
out:
	ipam_db_close(db);
	ipam_desired_free(d);
	strbuf_release(&path);
	strbuf_release(&holder);
	return ret;
}

static int db_option(struct cli *cli, void *opts, int id, const char *arg)
{
	struct db_opts *o = opts;

	(void)cli;
	(void)arg;
	if (id == 'f')
		o->force = 1;
	else if (id == OPT_IF_MISSING)
		o->if_missing = 1;
	else if (id == OPT_FROM)
		o->from = arg;
	else if (id == OPT_TO)
		o->to = arg;
	else if (id == OPT_REPLACE)
		o->replace = 1;
	return 0;
}

static int db_check(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct db_opts *o = opts;
	const char *sub = argc ? argv[0] : NULL;

	if (!sub)
		return cli_usage_error(cli->cmd, "db needs a subcommand");
	if (argc > 1)
		return cli_usage_error(cli->cmd, "unexpected argument '%s'",
				       argv[1]);
	if (o->force && strcmp(sub, "init"))
		return cli_usage_error(cli->cmd, "--force goes with 'db init'");
	if (o->if_missing && strcmp(sub, "init"))
		return cli_usage_error(cli->cmd,
				       "--if-missing goes with 'db init'");
	if ((o->from || o->to || o->replace) != !strcmp(sub, "copy") ||
	    (!strcmp(sub, "copy") && (!o->from || !o->to)))
		return cli_usage_error(cli->cmd, "'db copy' takes --from and "
						 "--to (and --replace); no "
						 "other db subcommand does");
	if (o->force && o->if_missing)
		return cli_usage_error(cli->cmd, "--force and --if-missing "
						 "exclude each other");
	if (cli->output != IPAM_OUT_TEXT &&
	    (cli->output != IPAM_OUT_JSON || strcmp(sub, "info")))
		return cli_usage_error(cli->cmd, "only 'db info' writes json");
	return 0;
}

static int db_run(struct cli *cli, void *opts, int argc, char **argv)
{
	const struct db_opts *o = opts;
	const char *sub = argv[0];

	(void)argc;
	if (!strcmp(sub, "init"))
		return db_init(cli, o);
	if (!strcmp(sub, "info"))
		return db_info_or_migrate(cli, 0);
	if (!strcmp(sub, "migrate"))
		return db_info_or_migrate(cli, 1);
	if (!strcmp(sub, "unlock"))
		return db_unlock(cli);
	if (!strcmp(sub, "copy"))
		return cli_db_copy(cli, o->from, o->to, o->replace);
	return cli_usage_error(cli->cmd, "unknown db subcommand '%s'", sub);
}
