#include "gitsrc_internal.h"

#include <errno.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "decode.h"
#include "error.h"

#include "banned.h"

/* ---- a checkout ---- */

/* Does the work-tree path file (relative) hold a desired-state file of
 * rel: rel itself for a file, a *.yaml / *.yml directly in it for a
 * directory ("" being the root)? */
static bool desired_file(const char *file, const char *rel, bool is_dir)
{
	size_t n = strlen(rel);

	if (!file)
		return false;
	if (!is_dir)
		return !strcmp(file, rel);
	if (n) {
		if (strncmp(file, rel, n) || file[n] != '/')
			return false;
		file += n + 1;
	}
	return !strchr(file, '/') && ipam_decode_is_yaml_name(file);
}

static bool delta_touches(const git_diff_delta *d, const char *rel, bool is_dir)
{
	if (!d)
		return false;
	return desired_file(d->old_file.path, rel, is_dir) ||
	       desired_file(d->new_file.path, rel, is_dir);
}

static int worktree_dirty(bool *dirty, git_repository *repo, const char *rel,
			  bool is_dir)
{
	git_status_options so;
	git_status_list *list = NULL;
	char *spec[1] = {(char *)(uintptr_t)rel};
	size_t i, n;

	*dirty = false;
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		   GIT_STATUS_OPT_INCLUDE_IGNORED |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES |
		   GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH;
	/* Below the root, the walk is bounded by rel and goes into
	 * untracked and ignored directories (rel may be in one).  At the
	 * root, those are reported whole, not walked (a build tree can be
	 * large): only files directly in the root count. */
	if (*rel) {
		so.pathspec.strings = spec;
		so.pathspec.count = 1;
		so.flags |= GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
			    GIT_STATUS_OPT_RECURSE_IGNORED_DIRS;
	}
	if (git_status_list_new(&list, repo, &so) < 0)
		return ipam_git_fail(IPAM_EIO, "git status of '%s'",
				     *rel ? rel : ".");
	n = git_status_list_entrycount(list);
	for (i = 0; i < n && !*dirty; i++) {
		const git_status_entry *e = git_status_byindex(list, i);

		*dirty = e->status != GIT_STATUS_CURRENT &&
			 (delta_touches(e->head_to_index, rel, is_dir) ||
			  delta_touches(e->index_to_workdir, rel, is_dir));
	}
	git_status_list_free(list);
	return 0;
}

int ipam_git_worktree_head(struct ipam_git_worktree *out, const char *path)
{
	git_repository *repo = NULL;
	git_oid head;
	struct stat st;
	char *real = NULL, *top = NULL;
	const char *wd, *rel;
	bool is_dir;
	size_t n;
	int r, err = 0;

	memset(out, 0, sizeof(*out));
	if ((err = ipam_git_init()))
		return err;
	real = realpath(path, NULL);
	if (!real || stat(real, &st)) {
		err = ipam_error_set(IPAM_EIO, "cannot resolve '%s': %s", path,
				     strerror(errno));
		goto out;
	}
	is_dir = S_ISDIR(st.st_mode);
	if (!is_dir) {
		char *slash = strrchr(real, '/');

		*slash = '\0';
		r = git_repository_open_ext(&repo, *real ? real : "/", 0, NULL);
		*slash = '/';
	} else {
		r = git_repository_open_ext(&repo, real, 0, NULL);
	}
	if (r == GIT_ENOTFOUND)
		goto out;
	if (r < 0) {
		err = ipam_git_fail(IPAM_EIO, "git repository of '%s'", path);
		goto out;
	}
	wd = git_repository_workdir(repo);
	if (git_repository_is_bare(repo) || !wd)
		goto out;
	r = git_reference_name_to_id(&head, repo, "HEAD");
	if (r == GIT_ENOTFOUND || r == GIT_EUNBORNBRANCH)
		goto out;
	if (r < 0) {
		err = ipam_git_fail(IPAM_EIO, "git HEAD of '%s'", wd);
		goto out;
	}
	/* path relative to the work tree, both with symbolic links
	 * resolved; not under it (in .git, say): no commit of its own */
	top = realpath(wd, NULL);
	if (!top) {
		err = ipam_error_set(IPAM_EIO, "cannot resolve '%s': %s", wd,
				     strerror(errno));
		goto out;
	}
	n = strcmp(top, "/") ? strlen(top) : 0;
	if (strncmp(real, top, n) || (real[n] && real[n] != '/'))
		goto out;
	rel = real + n + (real[n] == '/');
	if (!strcmp(rel, ".git") || !strncmp(rel, ".git/", 5))
		goto out;
	if ((err = worktree_dirty(&out->dirty, repo, rel, is_dir)))
		goto out;
	git_oid_tostr(out->commit, sizeof(out->commit), &head);
out:
	git_repository_free(repo);
	free(top);
	free(real);
	return err;
}
