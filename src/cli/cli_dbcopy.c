/* ipamctl db copy --from DB --to DB [--replace]: moving a state database
 * to another backend (db_copy.h). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "db.h"
#include "db_copy.h"
#include "error.h"
#include "log.h"
#include "strbuf.h"
#include "banned.h"

static void progress(void *ctx, const char *table, long long rows)
{
	(void)ctx;
	log_info("copied %s: %lld rows", table, rows);
}

/* Open the database of uri: a SQLite path, sqlite:PATH or a PostgreSQL
 * URI (libpq finds the password: PGPASSFILE, ~/.pgpass). */
static int open_uri(const char *uri, int flags, struct ipam_db **out)
{
	struct strbuf path = STRBUF_INIT;
	int err = ipam_db_path_from_uri(&path, uri);

	if (!err)
		err = ipam_db_open(out, path.buf, flags);
	strbuf_release(&path);
	return err;
}

int cli_db_copy(struct cli *cli, const char *from, const char *to, int replace)
{
	struct ipam_db_copy_opts o = {.replace = replace, .progress = progress};
	struct ipam_db *src = NULL, *dst = NULL;
	struct ipam_db_copy_count *c = NULL;
	long long total = 0;
	size_t nr = 0;
	int err;

	(void)cli;
	err = open_uri(from, 0, &src);
	if (!err)
		err = open_uri(to, IPAM_DB_CREATE, &dst);
	if (!err)
		err = ipam_db_copy(src, dst, &o, &c, &nr);
	if (err) {
		log_error("db copy: %s", ipam_error_last());
		goto out;
	}
	cli_printf("copied %s to %s:\n", ipam_db_path(src), ipam_db_path(dst));
	for (size_t i = 0; i < nr; i++) {
		cli_printf("  %-22s %lld\n", c[i].table, c[i].rows);
		total += c[i].rows;
	}
	cli_printf("%lld rows, each table's count checked on both sides\n",
		   total);
out:
	free(c);
	ipam_db_close(dst);
	ipam_db_close(src);
	return err ? IPAM_EXIT_ERROR : IPAM_EXIT_OK;
}
