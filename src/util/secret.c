#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "banned.h"

static int read_file(struct strbuf *out, const char *file)
{
	char buf[IPAM_SECRET_MAX + 1];
	struct stat st;
	size_t len = 0;
	ssize_t r;
	int fd, err = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ipam_error_set(errno == ENOENT ? IPAM_ENOTFOUND
						      : IPAM_EIO,
				      "cannot open password file '%s': %s",
				      file, strerror(errno));
	if (!fstat(fd, &st) && (st.st_mode & 0077))
		log_warn("password file '%s' is readable by others (mode %03o)",
			 file, (unsigned)(st.st_mode & 0777));
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = ipam_error_set(
				IPAM_EIO, "cannot read password file '%s': %s",
				file, strerror(errno));
			break;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!err && len > IPAM_SECRET_MAX)
		err = ipam_error_set(IPAM_ELIMIT,
				     "password file '%s' is larger than %d "
				     "bytes",
				     file, IPAM_SECRET_MAX);
	if (!err) {
		if (len && buf[len - 1] == '\n')
			len--;
		if (len && buf[len - 1] == '\r')
			len--;
		strbuf_add(out, buf, len);
	}
	explicit_bzero(buf, sizeof(buf));
	return err;
}

int ipam_secret_read(struct strbuf *out, const char *file, const char *env)
{
	const char *v;

	strbuf_reset(out);
	if (file)
		return read_file(out, file);
	if (!env)
		return ipam_error_set(IPAM_EINVAL, "no password source named");
	v = getenv(env);
	if (!v)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "environment variable '%s' (passwordEnv) "
				      "is not set",
				      env);
	if (strlen(v) > IPAM_SECRET_MAX)
		return ipam_error_set(
			IPAM_ELIMIT,
			"environment variable '%s' is longer than "
			"%d bytes",
			env, IPAM_SECRET_MAX);
	strbuf_addstr(out, v);
	return 0;
}

void ipam_secret_wipe(struct strbuf *sb)
{
	if (sb->alloc)
		explicit_bzero(sb->buf, sb->alloc);
	strbuf_release(sb);
}
