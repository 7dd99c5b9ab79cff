#include "probemap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "banned.h"

/* NT status codes seen from the probes, with what they mean for access. */
static const struct {
	unsigned long code;
	const char *name; /* without NT_ */
	const char *words;
} statuses[] = {
	{0xC0000001UL, "STATUS_UNSUCCESSFUL", "RPC bind refused"},
	{0xC0000022UL, "STATUS_ACCESS_DENIED", NULL}, /* "access denied for" */
	{0xC0000034UL, "STATUS_OBJECT_NAME_NOT_FOUND", "interface not served"},
	{0xC0000039UL, "STATUS_OBJECT_PATH_INVALID", "path not found"},
	{0xC000006DUL, "STATUS_LOGON_FAILURE", NULL}, /* "logon failure for" */
	{0xC0000072UL, "STATUS_ACCOUNT_DISABLED", "the identity is disabled"},
	{0xC00000B5UL, "STATUS_IO_TIMEOUT", "timed out"},
	{0xC00000BBUL, "STATUS_NOT_SUPPORTED", "interface not served"},
	{0xC00000CCUL, "STATUS_BAD_NETWORK_NAME", "share not found"},
	{0xC000015BUL, "STATUS_LOGON_TYPE_NOT_GRANTED", "logon not granted"},
	{0xC0000236UL, "STATUS_CONNECTION_REFUSED",
	 "unreachable (connection refused)"},
	{0xC000023CUL, "STATUS_NETWORK_UNREACHABLE",
	 "unreachable (network unreachable)"},
	{0xC000023DUL, "STATUS_HOST_UNREACHABLE",
	 "unreachable (host unreachable)"},
	{0xC000023FUL, "STATUS_PORT_UNREACHABLE", "interface not served"},
	{0, "STATUS_KDC_UNKNOWN_ETYPE",
	 "no Kerberos ticket for the server (is it a member of the domain?)"},
	{0, "STATUS_NO_LOGON_SERVERS", "no logon server"},
};

#define NR(a) (sizeof(a) / sizeof((a)[0]))

static int is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void ipam_probemap_ntstatus(struct strbuf *out, const char *text)
{
	const char *p, *q;

	strbuf_reset(out);
	/* "NT_STATUS_X" (Samba) or "STATUS_X(" (impacket) */
	for (p = text; (p = strstr(p, "STATUS_")); p++) {
		if (p > text && is_name_char(p[-1]) &&
		    !(p - text >= 3 && !strncmp(p - 3, "NT_", 3)))
			continue;
		for (q = p + 7; is_name_char(*q); q++)
			;
		if (q == p + 7)
			continue;
		strbuf_addf(out, "NT_%.*s", (int)(q - p), p);
		return;
	}
	/* samba-tool: "failed with (3221226038, '...')" */
	p = strstr(text, "failed with (");
	if (p) {
		char *end;
		unsigned long code = strtoul(p + 13, &end, 10);

		if (end == p + 13 || *end != ',')
			return;
		for (size_t i = 0; i < NR(statuses); i++)
			if (statuses[i].code && statuses[i].code == code) {
				strbuf_addf(out, "NT_%s", statuses[i].name);
				return;
			}
		strbuf_addf(out, "0x%08lX", code);
	}
}

const char *ipam_probemap_status_words(const char *ntstatus)
{
	if (strncmp(ntstatus, "NT_", 3))
		return NULL;
	for (size_t i = 0; i < NR(statuses); i++)
		if (!strcmp(ntstatus + 3, statuses[i].name))
			return statuses[i].words;
	return NULL;
}

void ipam_probemap_account(struct strbuf *out, const char *principal)
{
	const char *at = principal ? strrchr(principal, '@') : NULL;

	strbuf_reset(out);
	if (!principal)
		return;
	strbuf_add(out, principal,
		   at ? (size_t)(at - principal) : strlen(principal));
}

void ipam_probemap_connect(struct strbuf *out, int e, const char *addr,
			   int port, int secs)
{
	strbuf_reset(out);
	switch (e) {
	case ENETUNREACH:
		strbuf_addf(out, "unreachable (network unreachable to %s:%d)",
			    addr, port);
		break;
	case EHOSTUNREACH:
		strbuf_addf(out, "unreachable (host unreachable: %s:%d)", addr,
			    port);
		break;
	case ECONNREFUSED:
		strbuf_addf(out, "unreachable (connection refused on %d)",
			    port);
		break;
	case ETIMEDOUT:
		if (secs > 0)
			strbuf_addf(out,
				    "timed out after %d s (connect to "
				    "%s:%d)",
				    secs, addr, port);
		else
			strbuf_addf(out,
				    "unreachable (connect to %s:%d timed "
				    "out)",
				    addr, port);
		break;
	default:
		strbuf_addf(out, "unreachable (%s:%d: %s)", addr, port,
			    strerror(e));
		break;
	}
}

/* The first non-empty line of text, control characters replaced, at most
 * max bytes: what a probe said when nothing else is known. */
static void first_line(struct strbuf *out, const char *text, size_t max)
{
	const char *p = text, *e;

	while (*p == '\n' || *p == ' ' || *p == '\r' || *p == '\t')
		p++;
	e = p + strcspn(p, "\n");
	while (e > p && (e[-1] == ' ' || e[-1] == '\r'))
		e--;
	{
		char *line = xstrndup(p, (size_t)(e - p));

		ipam_text_add_clean(out, line, max);
		free(line);
	}
}

/* What a Python errno in impacket's answer says. */
static const char *python_errno(const char *text)
{
	if (strstr(text, "[Errno 101]"))
		return "unreachable (network unreachable)";
	if (strstr(text, "[Errno 113]"))
		return "unreachable (host unreachable)";
	if (strstr(text, "[Errno 111]"))
		return "unreachable (connection refused on 445)";
	if (strstr(text, "timed out"))
		return "timed out";
	return NULL;
}

/* Unblocked: the answer proves the read worked; its reason in sb. */
static int proved(struct strbuf *sb, enum ipam_probemap_tool tool,
		  int exit_status, const char *text)
{
	const char *p;

	if (exit_status != 0)
		return 0;
	switch (tool) {
	case IPAM_PROBEMAP_DNS:
		if (!strstr(text, "pszServerName"))
			return 0;
		strbuf_addstr(sb, "server info read (MS-DNSP)");
		return 1;
	case IPAM_PROBEMAP_EVENTLOG:
		p = strstr(text, "number of records:");
		if (!p)
			return 0;
		strbuf_addf(sb, "System log read, %lld records (MS-EVEN)",
			    strtoll(p + 18, NULL, 10));
		return 1;
	case IPAM_PROBEMAP_DHCPM:
		p = strstr(text, "ok dhcpsrv: ");
		if (!p)
			return 0;
		strbuf_addf(sb,
			    "DHCP server RPC answered, %lld scopes "
			    "(MS-DHCPM)",
			    strtoll(p + 12, NULL, 10));
		return 1;
	default:
		return 0;
	}
}

void ipam_probemap_result(struct ipam_access_result *r,
			  enum ipam_probemap_tool tool, int exit_status,
			  const char *text, const char *account)
{
	struct strbuf sb = STRBUF_INIT, st = STRBUF_INIT;
	const char *words, *krb;

	free(r->reason);
	r->status = IPAM_ACCESS_BLOCKED;
	if (proved(&sb, tool, exit_status, text)) {
		r->status = IPAM_ACCESS_UNBLOCKED;
		goto out;
	}
	ipam_probemap_ntstatus(&st, text);
	if (!strcmp(st.buf, "NT_STATUS_ACCESS_DENIED")) {
		strbuf_addf(&sb, "access denied for %s", account);
	} else if (!strcmp(st.buf, "NT_STATUS_LOGON_FAILURE")) {
		strbuf_addf(&sb, "logon failure for %s", account);
	} else if (!strcmp(st.buf, "NT_STATUS_OBJECT_PATH_INVALID") &&
		   tool == IPAM_PROBEMAP_EVENTLOG) {
		strbuf_addf(&sb, "event log not configured (%s)", st.buf);
	} else if (st.len && (words = ipam_probemap_status_words(st.buf))) {
		strbuf_addf(&sb, "%s (%s)", words, st.buf);
	} else if ((krb = strstr(text, "KRB_"))) {
		strbuf_addstr(&sb, "Kerberos error (");
		for (; is_name_char(*krb); krb++)
			strbuf_addch(&sb, *krb);
		strbuf_addch(&sb, ')');
	} else if (tool == IPAM_PROBEMAP_DHCPM &&
		   (words = python_errno(text))) {
		strbuf_addstr(&sb, words);
	} else if (st.len) {
		strbuf_addf(&sb, "failed (%s)", st.buf);
	} else {
		strbuf_addf(&sb, "failed (exit status %d", exit_status);
		if (*text)
			strbuf_addstr(&sb, ": ");
		first_line(&sb, text, 160);
		strbuf_addch(&sb, ')');
	}
out:
	r->reason = strbuf_detach(&sb, NULL);
	strbuf_release(&st);
}
