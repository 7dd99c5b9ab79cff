/* ipamctl db init|info|migrate: the state database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

struct db_opts {
	int force;
};

static int db_option(struct cli *cli, void *opts, int id, const char *arg);
static int db_check(struct cli *cli, void *opts, int argc, char **argv);
static int db_run(struct cli *cli, void *opts, int argc, char **argv);

static const struct cli_option db_options[] = {
	{"force", CLI_NO_ARG, 'f', "with init: delete the database first"},
	{NULL, 0, 0, NULL},
};

const struct command cmd_db_def = {
	.name = "db",
	.summary = "create, inspect or upgrade the state database",
	.usage =
		"db init [--force] | db info | db migrate | db unlock\n\n"
		"  init      create the state database, apply the migrations "
		"and "
		"record the\n"
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
		"  info      schema version, provisioning settings, row "
		"counts\n"
		"  migrate   apply pending schema migrations\n"
		"  unlock    remove the reconciler lock of a plan/apply "
		"that is gone\n"
		"            (one on another host: check it is, first)",
	.options = db_options,
	.opts_size = sizeof(struct db_opts),
	.option = db_option,
	.check = db_check,
	.run = db_run,
};

static int db_init(struct cli *cli, int force)
{
	struct ipam_desired *d = NULL;
	struct ipam_db *db = NULL;
	struct ipam_db_settings s = {0};
	struct strbuf path = STRBUF_INIT;
	int from = 0, to = 0, err, ret = IPAM_EXIT_ERROR;
	int existed;
	struct stat st;

	if (cli_load_desired(cli, &d)) {
		log_error("db init records the provisioning method of the "
			  "desired state: give a valid one with -c PATH");
		goto out;
	}
	err = cli_db_path(cli, d, &path);
	if (err)
		goto fail;
	existed = !stat(path.buf, &st);
	if (force && existed) {
		err = ipam_db_remove_files(path.buf);
		if (err)
			goto fail;
		log_notice("removed the state database '%s' (--force)",
			   path.buf);
		existed = 0;
	}
	err = ipam_db_open(&db, path.buf, IPAM_DB_CREATE);
	if (err)
		goto fail;
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
		printf("state database %s is already initialised (schema "
		       "version %d, provisioning method %s",
		       path.buf, to, s.method);
	else
		printf("initialised state database %s (schema version %d, "
		       "provisioning method %s",
		       path.buf, to, s.method);
	if (s.gpo_prefix)
		printf(", GPO prefix %s", s.gpo_prefix);
	printf(", fixed since %s)\n", s.fixed_at);
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

	printf("database:            %s\n", path);
	printf("schema version:      %d (this ipamctl: %d)\n", version,
	       ipam_db_latest_version());
	if (s->method)
		printf("provisioning method: %s (fixed since %s)\n", s->method,
		       s->fixed_at);
	else
		printf("provisioning method: not recorded (run 'ipamctl db "
		       "init')\n");
	printf("GPO prefix:          %s\n",
	       s->gpo_prefix ? s->gpo_prefix : "-");
	printf("rows:\n");
	for (i = 0; i < nr; i++)
		printf("  %-18s %lld\n", counts[i].table, counts[i].rows);
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
		err = ipam_db_open(&db, path.buf, 0);
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
			printf("state database %s is up to date (schema "
			       "version %d)\n",
			       path.buf, version);
		else
			printf("migrated state database %s from schema "
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
		err = ipam_db_open(&db, path.buf, 0);
	if (!err)
		err = ipam_db_check_schema(db, &version, 1);
	if (!err)
		err = ipam_db_lock_break(db, &holder);
	if (err) {
		log_error("%s", ipam_error_last());
		goto out;
	}
	if (holder.len)
		printf("removed the lock of %s held by %s\n", path.buf,
		       holder.buf);
	else
		printf("%s was not locked\n", path.buf);
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
	o->force = id == 'f';
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
		return db_init(cli, o->force);
	if (!strcmp(sub, "info"))
		return db_info_or_migrate(cli, 0);
	if (!strcmp(sub, "migrate"))
		return db_info_or_migrate(cli, 1);
	if (!strcmp(sub, "unlock"))
		return db_unlock(cli);
	return cli_usage_error(cli->cmd, "unknown db subcommand '%s'", sub);
}
