#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "text.h"

static const char *prog = "ipamctl";
static enum ipam_log_level threshold = IPAM_LOG_NOTICE;
/* stdout, stderr: connected to the journal (they get "<N>" prefixes) */
static bool journal_out, journal_err;

/*
 * systemd's rule: JOURNAL_STREAM ("device:inode") is inherited by
 * children whose output goes elsewhere (a pipe, a file), so it counts for
 * a descriptor only when it names that descriptor's stream.
 */
static bool is_journal_stream(int fd, const char *stream)
{
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!stream || *stream < '0' || *stream > '9')
		return false;
	dev = strtoull(stream, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return false;
	ino = strtoull(end + 1, &end, 10);
	if (*end || fstat(fd, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void ipam_log_init(const char *progname)
{
	const char *stream = getenv("JOURNAL_STREAM");

	if (progname)
		prog = progname;
	journal_out = is_journal_stream(STDOUT_FILENO, stream);
	journal_err = is_journal_stream(STDERR_FILENO, stream);
}

void ipam_log_set_level(enum ipam_log_level level)
{
	if (level < IPAM_LOG_ERROR)
		level = IPAM_LOG_ERROR;
	if (level > IPAM_LOG_DEBUG)
		level = IPAM_LOG_DEBUG;
	threshold = level;
}

enum ipam_log_level ipam_log_get_level(void)
{
	return threshold;
}

static void priority(FILE *f, enum ipam_log_level level)
{
	int fd = fileno(f);

	if ((fd == STDERR_FILENO && journal_err) ||
	    (fd == STDOUT_FILENO && journal_out))
		fprintf(f, "<%d>", (int)level);
}

void ipam_log(enum ipam_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {
		[IPAM_LOG_ERROR] = "error", [IPAM_LOG_WARNING] = "warning",
		[IPAM_LOG_NOTICE] = NULL,   [IPAM_LOG_INFO] = NULL,
		[IPAM_LOG_DEBUG] = "debug",
	};
	struct strbuf msg = STRBUF_INIT, line = STRBUF_INIT;
	va_list ap;

	if (level > threshold)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_addf(&line, "%s: ", prog);
	if (names[level])
		strbuf_addf(&line, "%s: ", names[level]);
	/* A message is one line, whatever its values hold. */
	ipam_text_add_escaped_n(&line, msg.buf, msg.len, false);
	priority(stderr, level);
	fprintf(stderr, "%s\n", line.buf);
	strbuf_release(&line);
	strbuf_release(&msg);
}

void ipam_log_line(FILE *f, enum ipam_log_level level, const char *line)
{
	struct strbuf sb = STRBUF_INIT;

	ipam_text_add_escaped(&sb, line);
	priority(f, level);
	fprintf(f, "%s\n", sb.buf);
	strbuf_release(&sb);
}
