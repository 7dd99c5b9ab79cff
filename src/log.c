#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *prog = "ipamctl";
static enum ipam_log_level threshold = IPAM_LOG_NOTICE;
static int journald;

void ipam_log_init(const char *progname)
{
	if (progname)
		prog = progname;
	journald = getenv("JOURNAL_STREAM") != NULL;
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

void ipam_log(enum ipam_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {
		[IPAM_LOG_ERROR] = "error", [IPAM_LOG_WARNING] = "warning",
		[IPAM_LOG_NOTICE] = NULL,   [IPAM_LOG_INFO] = NULL,
		[IPAM_LOG_DEBUG] = "debug",
	};
	va_list ap;

	if (level > threshold)
		return;
	if (journald)
		fprintf(stderr, "<%d>", (int)level);
	fprintf(stderr, "%s: ", prog);
	if (names[level])
		fprintf(stderr, "%s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
