#include "gitsrc_internal.h"

#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "decode.h"
#include "error.h"
#include "text.h"
#include "strbuf.h"

#include "banned.h"

/* ---- resolving the ref ---- */

static int is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* The commit of ref name; *out stays NULL when there is no such ref. */
static int peel_ref(git_commit **out, git_repository *repo, const char *name)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int r;

	r = git_reference_lookup(&ref, repo, name);
	if (r == GIT_ENOTFOUND)
		return 0;
	if (r < 0)
		return ipam_git_fail(IPAM_EIO, "git ref '%s'", name);
	r = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	git_reference_free(ref);
	if (r < 0)
		return ipam_git_fail(IPAM_EINVAL,
				     "git ref '%s' names no commit", name);
	*out = (git_commit *)obj;
	return 0;
}

/*
 * A full ref name, else a tag or a branch (both of one name, naming two
 * commits, is refused rather than guessed), else a commit id.
 */
int ipam_git_resolve(git_commit **out, git_repository *repo, const char *ref,
		     const char *url)
{
	struct strbuf tag = STRBUF_INIT, head = STRBUF_INIT;
	git_commit *t = NULL, *h = NULL;
	int valid = 0, err = 0;

	*out = NULL;
	if (ipam_git_starts_with(ref, "refs/")) {
		strbuf_addstr(&head, ref);
	} else {
		strbuf_addf(&tag, "refs/tags/%s", ref);
		strbuf_addf(&head, "refs/heads/%s", ref);
	}
	if (git_reference_name_is_valid(&valid, head.buf) < 0 || !valid) {
		err = ipam_error_set(IPAM_EINVAL, "git ref '%s': invalid name",
				     ref);
		goto out;
	}
	if (tag.len && (err = peel_ref(&t, repo, tag.buf)))
		goto out;
	if ((err = peel_ref(&h, repo, head.buf)))
		goto out;
	if (t && h && !git_oid_equal(git_commit_id(t), git_commit_id(h))) {
		err = ipam_error_set(IPAM_EINVAL,
				     "git ref '%s' is ambiguous in '%s': both "
				     "a branch and a tag; name it in full "
				     "(refs/heads/%s or refs/tags/%s)",
				     ref, url, ref, ref);
		goto out;
	}
	if (t) {
		*out = t;
		t = NULL;
		goto out;
	}
	if (h) {
		*out = h;
		h = NULL;
		goto out;
	}
	if (is_hex(ref, GIT_OID_MINPREFIXLEN, GIT_OID_HEXSZ)) {
		git_object *obj = NULL, *peeled = NULL;
		git_oid oid;
		size_t n = strlen(ref);
		int r;

		git_oid_fromstrn(&oid, ref, n);
		r = git_object_lookup_prefix(&obj, repo, &oid, n,
					     GIT_OBJECT_ANY);
		if (r == GIT_EAMBIGUOUS) {
			err = ipam_error_set(IPAM_EINVAL,
					     "git ref '%s' is an ambiguous "
					     "commit id in '%s': give more "
					     "digits",
					     ref, url);
			goto out;
		}
		if (!r) {
			r = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
			git_object_free(obj);
			if (r < 0) {
				err = ipam_git_fail(
					IPAM_EINVAL,
					"git ref '%s' names no commit", ref);
				goto out;
			}
			*out = (git_commit *)peeled;
			goto out;
		}
	}
	err = ipam_error_set(IPAM_ENOTFOUND,
			     "git ref '%s' not found in '%s': no branch, tag "
			     "or fetched commit of that name",
			     ref, url);
out:
	git_commit_free(t);
	git_commit_free(h);
	strbuf_release(&tag);
	strbuf_release(&head);
	return err;
}

/* ---- reading the tree ---- */

/* "a//b/" -> "a/b"; "." and ".." components are refused. */
int ipam_git_normalise_path(struct strbuf *out, const char *path)
{
	const char *p = path ? path : "";

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return ipam_error_set(IPAM_EINVAL,
					      "git path '%s': '.' and '..' "
					      "are not allowed",
					      path);
		if (n) {
			if (out->len)
				strbuf_addch(out, '/');
			strbuf_add(out, p, n);
		}
		p += n + (slash ? 1 : 0);
	}
	return 0;
}

struct pending {
	char *path;
	git_oid id;
};

static int cmp_pending(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->path,
		      ((const struct pending *)b)->path);
}

/* Refuse what a local directory read would refuse, and links. */
static int check_entry(const git_tree_entry *e, const char *path,
		       const char *commit)
{
	git_filemode_t mode = git_tree_entry_filemode(e);

	if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		return 0;
	if (mode == GIT_FILEMODE_LINK)
		return ipam_error_set(IPAM_EINVAL,
				      "git read '%.*s:%s': a symbolic link: "
				      "links are not followed in a git tree",
				      IPAM_GIT_ABBREV, commit, path);
	return ipam_error_set(IPAM_EIO,
			      "git read '%.*s:%s': not a regular file",
			      IPAM_GIT_ABBREV, commit, path);
}

static int list_files(struct pending **list, size_t *nr, git_repository *repo,
		      git_commit *commit, const char *path, const char *hex)
{
	git_tree *root = NULL, *dir = NULL;
	git_tree_entry *e = NULL;
	size_t alloc = 0, i, n;
	int err = 0;

	if (git_commit_tree(&root, commit) < 0)
		return ipam_git_fail(IPAM_EIO, "git read: tree of commit %s",
				     hex);
	if (!*path) {
		dir = root;
		root = NULL;
	} else {
		int r = git_tree_entry_bypath(&e, root, path);

		if (r == GIT_ENOTFOUND) {
			err = ipam_error_set(IPAM_ENOTFOUND,
					     "git path '%s' not found in "
					     "commit %.*s",
					     path, IPAM_GIT_ABBREV, hex);
			goto out;
		}
		if (r < 0) {
			err = ipam_git_fail(IPAM_EIO, "git read '%.*s:%s'",
					    IPAM_GIT_ABBREV, hex, path);
			goto out;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
			/* one file, as a local path naming a file */
			if ((err = check_entry(e, path, hex)))
				goto out;
			*list = xcalloc(1, sizeof(**list));
			(*list)[0].path = xstrdup(path);
			git_oid_cpy(&(*list)[0].id, git_tree_entry_id(e));
			*nr = 1;
			goto out;
		}
		if (git_tree_lookup(&dir, repo, git_tree_entry_id(e)) < 0) {
			err = ipam_git_fail(IPAM_EIO, "git read '%.*s:%s'",
					    IPAM_GIT_ABBREV, hex, path);
			goto out;
		}
	}
	n = git_tree_entrycount(dir);
	for (i = 0; i < n; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(dir, i);
		const char *name = git_tree_entry_name(te);
		char *full;

		if (!ipam_decode_is_yaml_name(name))
			continue;
		full = *path ? xasprintf("%s/%s", path, name) : xstrdup(name);
		err = check_entry(te, full, hex);
		if (!err && *nr >= IPAM_GIT_MAX_FILES)
			err = ipam_error_set(IPAM_ELIMIT,
					     "git read '%.*s:%s': more than %d "
					     "*.yaml or *.yml files",
					     IPAM_GIT_ABBREV, hex,
					     *path ? path : ".",
					     IPAM_GIT_MAX_FILES);
		if (err) {
			free(full);
			goto out;
		}
		ALLOC_GROW(*list, *nr + 1, alloc);
		(*list)[*nr].path = full;
		git_oid_cpy(&(*list)[*nr].id, git_tree_entry_id(te));
		(*nr)++;
	}
	if (!*nr) {
		err = ipam_error_set(IPAM_EINVAL,
				     "no *.yaml or *.yml files in '%.*s:%s'",
				     IPAM_GIT_ABBREV, hex, *path ? path : "");
		goto out;
	}
	qsort(*list, *nr, sizeof(**list), cmp_pending);
out:
	git_tree_entry_free(e);
	git_tree_free(dir);
	git_tree_free(root);
	return err;
}

int ipam_git_read_files(struct ipam_git_snapshot *s, git_repository *repo,
			git_commit *commit, const char *path)
{
	struct pending *list = NULL;
	git_odb *odb = NULL;
	size_t nr = 0, i, total = 0;
	int err;

	err = list_files(&list, &nr, repo, commit, path, s->commit);
	if (err)
		goto out;
	if (git_repository_odb(&odb, repo) < 0) {
		err = ipam_git_fail(IPAM_EIO, "git read: object database");
		goto out;
	}
	s->files = xcalloc(nr, sizeof(*s->files));
	for (i = 0; i < nr; i++) {
		struct ipam_git_file *f = &s->files[i];
		git_object_t type;
		git_blob *blob = NULL;
		size_t len;

		f->name = xasprintf("%.*s:%s", IPAM_GIT_ABBREV, s->commit,
				    list[i].path);
		s->nr++;
		/* the size before the content: a huge blob is never loaded */
		if (git_odb_read_header(&len, &type, odb, &list[i].id) < 0) {
			err = ipam_git_fail(IPAM_EIO, "git read '%s'", f->name);
			goto out;
		}
		if (len > IPAM_DECODE_MAX_FILE) {
			err = ipam_error_set(IPAM_ELIMIT,
					     "'%s' is larger than %u MiB: "
					     "refusing",
					     f->name,
					     IPAM_DECODE_MAX_FILE >> 20);
			goto out;
		}
		total += len;
		if (total > IPAM_GIT_MAX_TOTAL) {
			err = ipam_error_set(IPAM_ELIMIT,
					     "git read '%.*s:%s': the files "
					     "add up to more than %u MiB: "
					     "refusing",
					     IPAM_GIT_ABBREV, s->commit, path,
					     IPAM_GIT_MAX_TOTAL >> 20);
			goto out;
		}
		if (git_blob_lookup(&blob, repo, &list[i].id) < 0) {
			err = ipam_git_fail(IPAM_EIO, "git read '%s'", f->name);
			goto out;
		}
		f->len = (size_t)git_blob_rawsize(blob);
		f->data = xmalloc(f->len + 1);
		memcpy(f->data, git_blob_rawcontent(blob), f->len);
		f->data[f->len] = '\0';
		git_blob_free(blob);
	}
out:
	for (i = 0; i < nr; i++)
		free(list[i].path);
	free(list);
	git_odb_free(odb);
	return err;
}

void ipam_git_describe_commit(struct ipam_git_snapshot *s, git_commit *commit)
{
	const git_signature *a = git_commit_author(commit);
	struct strbuf sb = STRBUF_INIT;

	git_oid_tostr(s->commit, sizeof(s->commit), git_commit_id(commit));
	strbuf_addf(&sb, "%s <%s>", a && a->name ? a->name : "",
		    a && a->email ? a->email : "");
	s->author = ipam_text_clean(sb.buf, 0);
	s->subject = ipam_text_clean(git_commit_summary(commit), 0);
	s->time = (long long)git_commit_time(commit);
	strbuf_release(&sb);
}
