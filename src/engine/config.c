#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "error.h"
#include "json.h"
#include "node.h"
#include "strbuf.h"
#include "validate.h"
#include "yamlio.h"
#include "banned.h"

/*
 * Each timeZone names a zone of this machine's database ($TZDIR, else
 * /usr/share/zoneinfo): a TZif file.  The name's syntax (no "..", not
 * absolute) was checked by the decoder, so it stays under the directory.
 */
static void check_time_zone(const struct ipam_str *tz, struct ipam_diags *diags)
{
	const char *dir = getenv("TZDIR");
	char *path, magic[4];
	ssize_t n = -1;
	int fd;

	if (!tz->value)
		return;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	path = xasprintf("%s/%s", dir, tz->value);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0) {
		struct stat st;

		if (!fstat(fd, &st) && S_ISREG(st.st_mode))
			n = read(fd, magic, sizeof(magic));
		close(fd);
	}
	if (n != (ssize_t)sizeof(magic) || memcmp(magic, "TZif", 4))
		ipam_diag_error(diags, &tz->pos,
				"unknown timeZone '%s': no time zone file %s",
				tz->value, path);
	free(path);
}

static void check_time_zones(const struct ipam_desired *d,
			     struct ipam_diags *diags)
{
	size_t i;

	for (i = 0; i < d->nr_domains; i++)
		check_time_zone(&d->domains[i].time_zone, diags);
	for (i = 0; i < d->nr_servers; i++)
		check_time_zone(&d->servers[i].time_zone, diags);
}

int ipam_config_load_sources(struct ipam_desired **out,
			     const struct ipam_source *sources, size_t n,
			     struct ipam_diags *diags)
{
	struct ipam_desired *d = xcalloc(1, sizeof(*d));
	struct ipam_node **roots = xcalloc(n + 1, sizeof(*roots));
	size_t errors_before = diags->errors, i;
	bool unreadable = false;

	*out = NULL;
	d->max_removals = -1;
	d->files = xcalloc(n + 1, sizeof(*d->files));
	for (i = 0; i < n; i++)
		d->files[d->nr_files++] = xstrdup(sources[i].name);

	for (i = 0; i < n; i++) {
		struct ipam_pos top = {d->files[i], 1, 1};

		if (ipam_yaml_parse(&roots[i], d->files[i], sources[i].data,
				    sources[i].len, diags)) {
			unreadable = true;
			continue;
		}
		if (!roots[i]) {
			ipam_diag_error(
				diags, &top,
				"file is empty: expected the desired "
				"state (version, discovery, servers, …)");
			unreadable = true;
		}
	}
	if (!ipam_decode(d, roots, n, unreadable, diags)) {
		ipam_validate(d, diags);
		check_time_zones(d, diags);
	}
	for (i = 0; i < n; i++)
		ipam_node_free(roots[i]);
	free(roots);

	ipam_diags_sort(diags);
	if (diags->errors != errors_before) {
		ipam_desired_free(d);
		return IPAM_EINVAL;
	}
	*out = d;
	return 0;
}

static int read_file(const char *path, struct strbuf *sb)
{
	struct stat st;
	ssize_t r;
	int fd;

	/* O_NONBLOCK: a FIFO's open would wait for a writer forever.  The
	 * fstat of what was opened decides (no race with a stat before). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot open '%s': %s", path,
				      strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return ipam_error_set(IPAM_EIO, "'%s' is not a regular file",
				      path);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((unsigned long long)st.st_size > IPAM_DECODE_MAX_FILE) {
		close(fd);
		return ipam_error_set(IPAM_ELIMIT,
				      "'%s' is larger than %u MiB: refusing",
				      path, IPAM_DECODE_MAX_FILE >> 20);
	}
	strbuf_grow(sb, (size_t)st.st_size);
	for (;;) {
		strbuf_grow(sb, 8192);
		r = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return ipam_error_set(IPAM_EIO, "cannot read '%s': %s",
					      path, strerror(errno));
		}
		if (!r)
			break;
		sb->len += (size_t)r;
		sb->buf[sb->len] = '\0';
		if (sb->len > IPAM_DECODE_MAX_FILE) {
			close(fd);
			return ipam_error_set(IPAM_ELIMIT,
					      "'%s' is larger than %u MiB: "
					      "refusing",
					      path, IPAM_DECODE_MAX_FILE >> 20);
		}
	}
	close(fd);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml / *.yml files of a directory, sorted by name. */
static int list_dir(const char *path, char ***names, size_t *nr)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	size_t alloc = 0;
	const char *sep = path[strlen(path) - 1] == '/' ? "" : "/";

	*names = NULL;
	*nr = 0;
	if (!dir)
		return ipam_error_set(IPAM_EIO,
				      "cannot open directory '%s': %s", path,
				      strerror(errno));
	while ((de = readdir(dir))) {
		if (!ipam_decode_is_yaml_name(de->d_name))
			continue;
		ALLOC_GROW(*names, *nr + 1, alloc);
		(*names)[(*nr)++] = xasprintf("%s%s%s", path, sep, de->d_name);
	}
	closedir(dir);
	if (*nr)
		qsort(*names, *nr, sizeof(**names), cmp_str);
	return 0;
}

int ipam_config_load(struct ipam_desired **out, const char *path,
		     struct ipam_diags *diags)
{
	struct ipam_source *src = NULL;
	struct strbuf *bufs = NULL;
	char **names = NULL;
	size_t nr = 0, i;
	struct stat st;
	int err;

	*out = NULL;
	if (stat(path, &st))
		return ipam_error_set(IPAM_EIO,
				      "cannot read the desired state '%s': %s",
				      path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		err = list_dir(path, &names, &nr);
		if (err)
			return err;
		if (!nr) {
			free(names);
			return ipam_error_set(IPAM_EINVAL,
					      "no *.yaml or *.yml files in "
					      "'%s'",
					      path);
		}
	} else {
		names = xcalloc(1, sizeof(*names));
		names[nr++] = xstrdup(path);
	}
	src = xcalloc(nr, sizeof(*src));
	bufs = xcalloc(nr, sizeof(*bufs));
	for (i = 0; i < nr; i++) {
		strbuf_init(&bufs[i]);
		err = read_file(names[i], &bufs[i]);
		if (err)
			goto out;
		src[i].name = names[i];
		src[i].data = bufs[i].buf;
		src[i].len = bufs[i].len;
	}
	err = ipam_config_load_sources(out, src, nr, diags);
out:
	for (i = 0; i < nr; i++) {
		strbuf_release(&bufs[i]);
		free(names[i]);
	}
	free(bufs);
	free(src);
	free(names);
	return err;
}

int ipam_config_digest(char out[IPAM_SHA256_HEX_LEN + 1],
		       const struct ipam_desired *d)
{
	struct ipam_node *n = ipam_desired_to_node(d);
	struct strbuf sb = STRBUF_INIT;
	int rc = ipam_json_write(&sb, n, IPAM_JSON_SORT_KEYS);

	if (!rc)
		ipam_sha256_hex(out, sb.buf, sb.len);
	strbuf_release(&sb);
	ipam_node_free(n);
	return rc;
}
