/*
 * The DHCP audit-log parser, fed the input in pieces whose size the first
 * byte chooses (a file read over SMB in blocks), for the IPv4 or the IPv6
 * log, from the first line or resumed with a column line; and the client
 * id normalizer on the input as a C string.  Its promises are checked:
 * the resume offset is the end of a complete line, the line count is the
 * newlines before it, every event's line number is in order, and a client
 * id comes out as lower-case hex bytes.
 */
#include "dhcplog.h"
#include "error.h"
#include "fuzz.h"
#include "strbuf.h"

struct seen {
	size_t last;
};

static void check_line(struct seen *s, size_t line)
{
	if (line <= s->last)
		abort();
	s->last = line;
}

static int on_event(const struct ipam_dhcplog_event *e, void *ctx)
{
	if (!e->description || !e->ip || !e->client_id || !e->dns_reg_error ||
	    e->month < 1 || e->month > 12 || e->day < 1 || e->day > 31)
		abort();
	check_line(ctx, e->line);
	return 0;
}

static int on_bad(size_t line, const char *why, void *ctx)
{
	if (!why[0])
		abort();
	check_line(ctx, line);
	return 0;
}

static void normalize(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;
	char *s = fuzz_cstr(data, size);

	if (!ipam_client_id_normalize(&out, s)) {
		if (!out.len || out.len % 2)
			abort();
		for (size_t i = 0; i < out.len; i++)
			if (!strchr("0123456789abcdef", out.buf[i]))
				abort();
	}
	ipam_error_clear();
	strbuf_release(&out);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char columns[] = "ID,Date,Time,Description,IP Address,"
				      "Host Name,MAC Address,User Name";
	struct seen s = {0};
	struct ipam_dhcplog *p;
	size_t piece, consumed, newlines = 0;
	unsigned mode;

	if (!size)
		return 0;
	mode = data[0];
	data++;
	size--;
	normalize(data, size);
	piece = 1 + (mode >> 3) * (mode >> 3);
	p = ipam_dhcplog_new(mode & 1 ? 6 : 4, mode & 2 ? columns : NULL, 1,
			     on_event, on_bad, &s);
	for (size_t at = 0; at < size; at += piece)
		ipam_dhcplog_feed(p, (const char *)data + at,
				  size - at < piece ? size - at : piece);
	consumed = ipam_dhcplog_consumed(p);
	if (consumed > size || (consumed && data[consumed - 1] != '\n'))
		abort();
	for (size_t i = 0; i < consumed; i++)
		newlines += data[i] == '\n';
	if (ipam_dhcplog_lines(p) != newlines ||
	    memchr(data + consumed, '\n', size - consumed))
		abort();
	ipam_dhcplog_free(p);
	return 0;
}
