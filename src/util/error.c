#include "error.h"

#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERRMSG_MAX 2048

static _Thread_local char last_msg[ERRMSG_MAX];
static _Thread_local char last_site[128];

int ipam_error_set_at(const char *file, int line, int code, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	snprintf(last_site, sizeof(last_site), "%s:%d", file, line);
	return code;
}

/* Copy s into dst (size n), truncating at a character boundary. */
static void set_truncated(char *dst, size_t n, const char *s, size_t len)
{
	if (len >= n) {
		len = n - 1;
		while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

int ipam_error_prefix(int code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (last_msg[0]) {
		strbuf_addstr(&sb, ": ");
		strbuf_addstr(&sb, last_msg);
	}
	set_truncated(last_msg, sizeof(last_msg), sb.buf, sb.len);
	strbuf_release(&sb);
	return code;
}

const char *ipam_error_last(void)
{
	return last_msg;
}

const char *ipam_error_site(void)
{
	return last_site;
}

void ipam_error_clear(void)
{
	last_msg[0] = '\0';
	last_site[0] = '\0';
}
