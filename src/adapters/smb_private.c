#include "smb.h"
#include "smb_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "proc.h"
#include "banned.h"

/*
 * The private directory of a connection: Samba's smb.conf, its tdb
 * caches and a Kerberos cache filled from a keytab live there.  It is
 * 0700 and every file in it 0600; a run killed with SIGKILL cannot remove
 * it, so each new connection sweeps the directories whose owner (the
 * process named in their owner file, with its start time against pid
 * reuse) is gone.
 */

#define DIR_PREFIX "ipamctl-smb-"
#define OWNER_FILE "owner"
/* A directory without an owner file: made by an older ipamctl, or by one
 * between mkdtemp and writing the file.  Only the first grows old. */
#define ORPHAN_AGE (60 * 60)
/* Samba's files sit at most one directory down (private/, ncalrpc/). */
#define SWEEP_DEPTH 3

int ipam_smb_write_private(const char *path, const char *data, size_t len)
{
	int fd, rc = 0;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return ipam_error_set(IPAM_EIO, "cannot create '%s': %s", path,
				      strerror(errno));
	if (fchmod(fd, 0600) < 0)
		rc = -1;
	while (!rc && off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = -1;
		else
			off += (size_t)n;
	}
	if (close(fd) < 0)
		rc = -1;
	if (rc) {
		rc = ipam_error_set(IPAM_EIO, "cannot write '%s': %s", path,
				    strerror(errno));
		unlink(path);
	}
	return rc;
}

/* Remove what is inside the directory dfd (closed here), depth levels
 * down, never following a symbolic link. */
static void remove_inside(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (depth <= 0)
			continue;
		sub = openat(dirfd(d), e->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		remove_inside(sub, depth - 1);
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void ipam_smb_private_dir_remove(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	remove_inside(fd, SWEEP_DEPTH);
	rmdir(dir);
}

/* Is the owner of the private directory dfd (with status st) gone? */
static int owner_gone(int dfd, const struct stat *st)
{
	char buf[64], *end;
	long long pid = 0, ticks = -1;
	ssize_t n = -1;
	int fd;

	fd = openat(dfd, OWNER_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n > 0) {
		buf[n] = '\0';
		errno = 0;
		pid = strtoll(buf, &end, 10);
		if (errno || end == buf)
			pid = 0;
		else
			ticks = strtoll(end, NULL, 10);
	}
	if (pid <= 0) /* none, or unreadable: judged by its age */
		return time(NULL) - st->st_mtime > ORPHAN_AGE;
	if (!ipam_proc_exists(pid))
		return 1;
	return ticks >= 0 && ipam_proc_start_ticks(pid) >= 0 &&
	       ipam_proc_start_ticks(pid) != ticks;
}

void ipam_smb_private_dir_sweep(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (strncmp(e->d_name, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
			continue;
		fd = openat(dirfd(d), e->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* Only ours: in a shared /tmp another user's is left alone. */
		if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
		    !owner_gone(fd, &st)) {
			close(fd);
			continue;
		}
		remove_inside(fd, SWEEP_DEPTH);
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static int write_owner(const char *dir)
{
	char buf[64];
	struct strbuf path = STRBUF_INIT;
	long long pid = (long long)getpid();
	int rc;

	snprintf(buf, sizeof(buf), "%lld %lld\n", pid,
		 ipam_proc_start_ticks(pid));
	strbuf_addf(&path, "%s/%s", dir, OWNER_FILE);
	rc = ipam_smb_write_private(path.buf, buf, strlen(buf));
	strbuf_release(&path);
	return rc;
}

int ipam_smb_private_dir_make(struct ipam_smb *s)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf sb = STRBUF_INIT;
	char *d;
	int rc;

	if (!tmp || tmp[0] != '/' || strchr(tmp, '\n'))
		tmp = "/tmp";
	ipam_smb_private_dir_sweep(tmp);
	strbuf_addf(&sb, "%s/" DIR_PREFIX "XXXXXX", tmp);
	d = strbuf_detach(&sb, NULL);
	if (!mkdtemp(d)) {
		rc = ipam_error_set(IPAM_EIO,
				    "smb: cannot make a private directory "
				    "'%s': %s",
				    d, strerror(errno));
		free(d);
		return rc;
	}
	s->dir = d;
	rc = write_owner(d);
	if (rc)
		return rc;
	strbuf_addf(&sb, "%s/private", d);
	if (mkdir(sb.buf, 0700) < 0) {
		rc = ipam_error_set(IPAM_EIO, "smb: cannot make '%s': %s",
				    sb.buf, strerror(errno));
		strbuf_release(&sb);
		return rc;
	}
	strbuf_reset(&sb);
	strbuf_addf(&sb,
		    "# ipamctl: private client configuration\n"
		    "[global]\n"
		    "lock directory = %s\n"
		    "state directory = %s\n"
		    "cache directory = %s\n"
		    "private dir = %s/private\n"
		    "ncalrpc dir = %s/ncalrpc\n"
		    "client min protocol = SMB2_02\n"
		    "client max protocol = SMB3\n"
		    "client signing = required\n"
		    "client ipc signing = required\n"
		    "disable netbios = yes\n"
		    "log level = 0\n",
		    d, d, d, d, d);
	s->conf = xasprintf("%s/smb.conf", d);
	rc = ipam_smb_write_private(s->conf, sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}

int ipam_smb_private_dir_new(char **dir, char **conf)
{
	struct ipam_smb s = {0};
	int rc = ipam_smb_private_dir_make(&s);

	if (rc) {
		if (s.dir)
			ipam_smb_private_dir_remove(s.dir);
		free(s.dir);
		free(s.conf);
		return rc;
	}
	*dir = s.dir;
	*conf = s.conf;
	return 0;
}

void ipam_smb_private_dir_free(char *dir)
{
	if (!dir)
		return;
	ipam_smb_private_dir_remove(dir);
	free(dir);
}
