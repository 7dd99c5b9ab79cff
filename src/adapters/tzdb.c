#include "tzdb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/* The largest zone file of the 2025 database is under 4 KiB (slim) or
 * 8 KiB (fat); anything this big is not one. */
#define TZDB_FILE_MAX (256 * 1024)

static const char *tzdir(void)
{
	const char *d = getenv("TZDIR");

	return d && *d ? d : "/usr/share/zoneinfo";
}

static int read_zone(struct strbuf *out, const char *path, const char *name)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return ipam_error_set(IPAM_ENOTFOUND,
					      "unknown time zone '%s' (no "
					      "%s)",
					      name, path);
		return ipam_error_set(IPAM_EIO, "time zone '%s': %s: %s", name,
				      path, strerror(errno));
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > TZDB_FILE_MAX) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "time zone '%s': %s is not a zone file",
				    name, path);
		goto out;
	}
	strbuf_grow(out, (size_t)st.st_size);
	for (;;) {
		ssize_t n;

		strbuf_grow(out, 4096);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ipam_error_set(IPAM_EIO,
					    "time zone '%s': cannot read %s: "
					    "%s",
					    name, path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
		if (out->len > TZDB_FILE_MAX) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "time zone '%s': %s is too large",
					    name, path);
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

int ipam_tzdb_load(struct ipam_tz **out, const char *name)
{
	struct strbuf path = STRBUF_INIT, data = STRBUF_INIT;
	int rc;

	*out = NULL;
	if (!name || !*name || !strcmp(name, "UTC")) {
		*out = ipam_tz_utc();
		return 0;
	}
	if (!ipam_tz_name_valid(name))
		return ipam_error_set(IPAM_EINVAL,
				      "'%s' is not a time zone name (an IANA "
				      "name such as Europe/Berlin)",
				      name);
	strbuf_addf(&path, "%s/%s", tzdir(), name);
	rc = read_zone(&data, path.buf, name);
	if (!rc) {
		rc = ipam_tz_parse(out, (const unsigned char *)data.buf,
				   data.len);
		if (rc)
			ipam_error_prefix(rc, "time zone '%s' (%s)", name,
					  path.buf);
	}
	strbuf_release(&data);
	strbuf_release(&path);
	return rc;
}
