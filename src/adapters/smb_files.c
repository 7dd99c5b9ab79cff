#include "smb.h"
#include "smb_internal.h"
#include "smb_lib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"
#include "fault.h"
#include "banned.h"

/*
 * Files and folders through libsmbclient, each call inside the guard of
 * smb.c.  Files are written in place; smb.c says why.
 */

#define MAX_TREE_DEPTH	32
#define MAX_DIR_ENTRIES 100000

int ipam_smb_read(struct strbuf *out, struct ipam_smb *s, const char *path,
		  size_t max)
{
	struct ipam_smb_target t;
	struct ipam_smb_guard g;
	SMBCFILE *f = NULL;
	struct strbuf data = STRBUF_INIT;
	char buf[16384];
	int rc, e = 0;

	rc = ipam_smb_target_init(&t, s, path);
	if (rc)
		goto out;
	ipam_smb_guard_enter(&g, s);
	errno = 0;
	f = s->lib->getFunctionOpen(s->ctx)(s->ctx, t.url.buf, O_RDONLY, 0);
	if (!f)
		e = errno ? errno : EIO;
	while (f) {
		ssize_t n = s->lib->getFunctionRead(s->ctx)(s->ctx, f, buf,
							    sizeof(buf));

		if (n < 0) {
			e = errno ? errno : EIO;
			break;
		}
		if (n == 0)
			break;
		if (data.len + (size_t)n > max) {
			e = -1;
			break;
		}
		strbuf_add(&data, buf, (size_t)n);
	}
	if (f)
		s->lib->getFunctionClose(s->ctx)(s->ctx, f);
	ipam_smb_guard_leave(&g);
	if (e == -1)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "smb read '%s': larger than %zu bytes",
				    t.unc.buf, max);
	else if (e)
		rc = ipam_smb_fail(0, "read", t.unc.buf, e);
	else
		strbuf_add(out, data.buf, data.len);
out:
	strbuf_release(&data);
	ipam_smb_target_release(&t);
	return rc;
}

int ipam_smb_write(struct ipam_smb *s, const char *path, const void *data,
		   size_t len)
{
	const char *p = data;
	struct ipam_smb_target t;
	struct ipam_smb_guard g;
	SMBCFILE *f;
	size_t off = 0;
	int rc, e = 0;

	rc = ipam_smb_target_init(&t, s, path);
	if (rc)
		goto out;
	if (t.p.nr < 2) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb write '%s': not a file path",
				    t.unc.buf);
		goto out;
	}
	ipam_smb_guard_enter(&g, s);
	errno = 0;
	f = s->lib->getFunctionOpen(s->ctx)(s->ctx, t.url.buf,
					    O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (!f)
		e = errno ? errno : EIO;
	while (f && off < len) {
		size_t chunk = len - off > 65536 ? 65536 : len - off;
		ssize_t n = s->lib->getFunctionWrite(s->ctx)(s->ctx, f, p + off,
							     chunk);

		if (n <= 0) {
			e = errno ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	if (f && s->lib->getFunctionClose(s->ctx)(s->ctx, f) < 0 && !e)
		e = errno ? errno : EIO;
	ipam_smb_guard_leave(&g);
	ipam_fault_point("smb write", t.unc.buf);
	if (e)
		rc = ipam_smb_fail(0, "write", t.unc.buf, e);
out:
	ipam_smb_target_release(&t);
	return rc;
}

static int do_stat(struct ipam_smb_stat *out, int *err, struct ipam_smb *s,
		   const char *url)
{
	struct stat st;
	struct ipam_smb_guard g;
	int r;

	ipam_smb_guard_enter(&g, s);
	errno = 0;
	r = s->lib->getFunctionStat(s->ctx)(s->ctx, url, &st);
	*err = r < 0 ? (errno ? errno : EIO) : 0;
	ipam_smb_guard_leave(&g);
	if (r < 0)
		return -1;
	out->is_dir = S_ISDIR(st.st_mode);
	out->size = (uint64_t)st.st_size;
	out->mtime = (int64_t)st.st_mtime;
	return 0;
}

int ipam_smb_stat(struct ipam_smb_stat *out, struct ipam_smb *s,
		  const char *path)
{
	struct ipam_smb_target t;
	int rc, e;

	memset(out, 0, sizeof(*out));
	rc = ipam_smb_target_init(&t, s, path);
	if (!rc && do_stat(out, &e, s, t.url.buf) < 0)
		rc = ipam_smb_fail(0, "stat", t.unc.buf, e);
	ipam_smb_target_release(&t);
	return rc;
}

int ipam_smb_exists(int *exists, struct ipam_smb *s, const char *path)
{
	struct ipam_smb_stat st;
	int rc;

	*exists = 0;
	rc = ipam_smb_stat(&st, s, path);
	if (rc == IPAM_ENOTFOUND) {
		ipam_error_clear();
		return 0;
	}
	if (!rc)
		*exists = 1;
	return rc;
}

int ipam_smb_mkdir_p(struct ipam_smb *s, const char *path)
{
	struct ipam_smb_target t;
	struct strbuf url = STRBUF_INIT, unc = STRBUF_INIT;
	size_t i;
	int rc;

	rc = ipam_smb_target_init(&t, s, path);
	if (rc)
		goto out;
	for (i = 2; i <= t.p.nr && !rc; i++) {
		struct ipam_smb_stat st;
		struct ipam_smb_guard g;
		int e, r;

		strbuf_reset(&url);
		strbuf_reset(&unc);
		ipam_smb_url_of(&url, s->server, &t.p, i);
		ipam_smb_unc_of(&unc, s->server, &t.p, i);
		if (do_stat(&st, &e, s, url.buf) == 0) {
			if (!st.is_dir)
				rc = ipam_error_set(IPAM_EEXISTS,
						    "smb mkdir '%s': exists "
						    "and is not a directory",
						    unc.buf);
			continue;
		}
		if (e != ENOENT) {
			rc = ipam_smb_fail(0, "mkdir", unc.buf, e);
			break;
		}
		ipam_smb_guard_enter(&g, s);
		errno = 0;
		r = s->lib->getFunctionMkdir(s->ctx)(s->ctx, url.buf, 0755);
		e = errno ? errno : EIO;
		ipam_smb_guard_leave(&g);
		ipam_fault_point("smb mkdir", unc.buf);
		if (r < 0 && e != EEXIST)
			rc = ipam_smb_fail(0, "mkdir", unc.buf, e);
	}
out:
	strbuf_release(&url);
	strbuf_release(&unc);
	ipam_smb_target_release(&t);
	return rc;
}

static int cmp_dirent(const void *a, const void *b)
{
	const struct ipam_smb_dirent *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void ipam_smb_dirents_free(struct ipam_smb_dirent *d, size_t nr)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < nr; i++)
		free(d[i].name);
	free(d);
}

static int list_url(struct ipam_smb_dirent **out, size_t *nr,
		    struct ipam_smb *s, const char *url, const char *unc)
{
	struct ipam_smb_dirent *v = NULL;
	size_t n = 0;
	struct ipam_smb_guard g;
	SMBCFILE *d;
	int rc = 0, e = 0;

	*out = NULL;
	*nr = 0;
	ipam_smb_guard_enter(&g, s);
	errno = 0;
	d = s->lib->getFunctionOpendir(s->ctx)(s->ctx, url);
	if (!d)
		e = errno ? errno : EIO;
	while (d) {
		struct smbc_dirent *de;

		errno = 0;
		de = s->lib->getFunctionReaddir(s->ctx)(s->ctx, d);
		if (!de) {
			e = errno;
			break;
		}
		if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0)
			continue;
		if (de->smbc_type != SMBC_DIR && de->smbc_type != SMBC_FILE)
			continue;
		if (n >= MAX_DIR_ENTRIES) {
			e = -1;
			break;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].name = xstrdup(de->name);
		v[n].is_dir = de->smbc_type == SMBC_DIR;
		n++;
	}
	if (d)
		s->lib->getFunctionClosedir(s->ctx)(s->ctx, d);
	ipam_smb_guard_leave(&g);
	if (e == -1)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "smb list '%s': more than %d entries", unc,
				    MAX_DIR_ENTRIES);
	else if (e)
		rc = ipam_smb_fail(0, "list", unc, e);
	if (rc) {
		ipam_smb_dirents_free(v, n);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_dirent);
	*out = v;
	*nr = n;
	return 0;
}

int ipam_smb_list(struct ipam_smb_dirent **out, size_t *nr, struct ipam_smb *s,
		  const char *path)
{
	struct ipam_smb_target t;
	int rc;

	*out = NULL;
	*nr = 0;
	rc = ipam_smb_target_init(&t, s, path);
	if (!rc)
		rc = list_url(out, nr, s, t.url.buf, t.unc.buf);
	ipam_smb_target_release(&t);
	return rc;
}

static int remove_one(struct ipam_smb *s, const char *url, const char *unc,
		      int is_dir)
{
	struct ipam_smb_guard g;
	int r, e;

	ipam_smb_guard_enter(&g, s);
	errno = 0;
	r = is_dir ? s->lib->getFunctionRmdir(s->ctx)(s->ctx, url)
		   : s->lib->getFunctionUnlink(s->ctx)(s->ctx, url);
	e = errno ? errno : EIO;
	ipam_smb_guard_leave(&g);
	ipam_fault_point(is_dir ? "smb rmdir" : "smb unlink", unc);
	if (r < 0)
		return ipam_smb_fail(0, "remove", unc, e);
	return 0;
}

static int remove_tree(struct ipam_smb *s, const char *url, const char *unc,
		       int depth)
{
	struct ipam_smb_dirent *v;
	size_t n, i;
	int rc;

	if (depth > MAX_TREE_DEPTH)
		return ipam_error_set(IPAM_ELIMIT,
				      "smb remove '%s': deeper than %d levels",
				      unc, MAX_TREE_DEPTH);
	rc = list_url(&v, &n, s, url, unc);
	for (i = 0; !rc && i < n; i++) {
		struct strbuf cu = STRBUF_INIT, cn = STRBUF_INIT;

		strbuf_addf(&cu, "%s/", url);
		ipam_smb_add_pct(&cu, v[i].name);
		strbuf_addf(&cn, "%s\\%s", unc, v[i].name);
		if (v[i].is_dir)
			rc = remove_tree(s, cu.buf, cn.buf, depth + 1);
		else
			rc = remove_one(s, cu.buf, cn.buf, 0);
		strbuf_release(&cu);
		strbuf_release(&cn);
	}
	ipam_smb_dirents_free(v, n);
	if (!rc)
		rc = remove_one(s, url, unc, 1);
	return rc;
}

/* Remove path: a file, an empty folder, or (recursive) a whole tree. */
static int remove_path(struct ipam_smb *s, const char *path, int recursive)
{
	struct ipam_smb_stat st;
	struct ipam_smb_target t;
	int rc, e;

	rc = ipam_smb_target_init(&t, s, path);
	if (rc)
		goto out;
	if (t.p.nr < 2) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb remove '%s': a share is not removed",
				    t.unc.buf);
		goto out;
	}
	if (do_stat(&st, &e, s, t.url.buf) < 0)
		rc = ipam_smb_fail(0, "remove", t.unc.buf, e);
	else if (st.is_dir && recursive)
		rc = remove_tree(s, t.url.buf, t.unc.buf, 0);
	else
		rc = remove_one(s, t.url.buf, t.unc.buf, st.is_dir);
out:
	ipam_smb_target_release(&t);
	return rc;
}

int ipam_smb_remove(struct ipam_smb *s, const char *path)
{
	return remove_path(s, path, 0);
}

int ipam_smb_remove_tree(struct ipam_smb *s, const char *path)
{
	return remove_path(s, path, 1);
}
