#include "polfile.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "utf8.h"

#include "banned.h"

const char *ipam_pol_gpo_suffix(enum ipam_pol_gpo gpo)
{
	switch (gpo) {
	case IPAM_POL_GPO_DHCP:
		return "_DHCP";
	case IPAM_POL_GPO_DNS:
		return "_DNS";
	case IPAM_POL_GPO_DC_NPS:
		return "_DC_NPS";
	}
	return "";
}

static bool gpo_valid(enum ipam_pol_gpo gpo)
{
	return gpo == IPAM_POL_GPO_DHCP || gpo == IPAM_POL_GPO_DNS ||
	       gpo == IPAM_POL_GPO_DC_NPS;
}

/* ---- Little-endian fields --------------------------------------------- */

static void put_u16(struct strbuf *out, uint16_t v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	strbuf_add(out, b, 2);
}

static void put_u32(struct strbuf *out, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
			      (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};

	strbuf_add(out, b, 4);
}

static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- Registry.pol ----------------------------------------------------- */

void ipam_pol_init(struct ipam_pol *pol)
{
	pol->entries = NULL;
	pol->nr = pol->alloc = 0;
}

void ipam_pol_release(struct ipam_pol *pol)
{
	size_t i;

	if (!pol)
		return;
	for (i = 0; i < pol->nr; i++) {
		free(pol->entries[i].key);
		free(pol->entries[i].value);
		free(pol->entries[i].data);
	}
	free(pol->entries);
	ipam_pol_init(pol);
}

/* Is data acceptable for type?  The parser and ipam_pol_add share this,
 * so the writer never emits what the parser would refuse. */
static int check_data(uint32_t type, const unsigned char *data, size_t size)
{
	size_t units = size / 2;

	if (size > IPAM_POL_MAX_DATA)
		return ipam_error_set(IPAM_ELIMIT,
				      "data of %zu bytes exceeds %u", size,
				      IPAM_POL_MAX_DATA);
	switch (type) {
	case IPAM_POL_SZ:
	case IPAM_POL_EXPAND_SZ:
		if (size < 2 || size % 2 || get_u16(data + size - 2) != 0 ||
		    !ipam_utf16le_valid(data, units - 1, false))
			return ipam_error_set(
				IPAM_EINVAL,
				"string data is not NUL-terminated UTF-16");
		return 0;
	case IPAM_POL_MULTI_SZ:
		if (size < 2 || size % 2 || get_u16(data + size - 2) != 0 ||
		    !ipam_utf16le_valid(data, units, true))
			return ipam_error_set(IPAM_EINVAL,
					      "multi-string data is not "
					      "NUL-terminated UTF-16");
		return 0;
	case IPAM_POL_DWORD:
		if (size != 4)
			return ipam_error_set(IPAM_EINVAL, "DWORD of %zu bytes",
					      size);
		return 0;
	case IPAM_POL_QWORD:
		if (size != 8)
			return ipam_error_set(IPAM_EINVAL, "QWORD of %zu bytes",
					      size);
		return 0;
	case IPAM_POL_BINARY:
		return 0;
	default:
		return ipam_error_set(IPAM_EINVAL, "unsupported type %u",
				      (unsigned)type);
	}
}

static int check_name(const char *what, const char *s, bool allow_empty)
{
	struct strbuf tmp = STRBUF_INIT;
	int rc;

	if (!*s && !allow_empty)
		return ipam_error_set(IPAM_EINVAL, "empty %s", what);
	rc = ipam_utf8_to_utf16le(&tmp, s, strlen(s));
	if (rc == 0 && tmp.len / 2 > IPAM_POL_MAX_NAME)
		rc = ipam_error_set(IPAM_ELIMIT, "%s longer than %u characters",
				    what, IPAM_POL_MAX_NAME);
	else if (rc)
		rc = ipam_error_prefix(rc, "%s", what);
	strbuf_release(&tmp);
	return rc;
}

int ipam_pol_add(struct ipam_pol *pol, const char *key, const char *value,
		 uint32_t type, const void *data, size_t size)
{
	struct ipam_pol_entry *e;
	int rc;

	if (pol->nr >= IPAM_POL_MAX_ENTRIES)
		return ipam_error_set(IPAM_ELIMIT, "more than %u entries",
				      IPAM_POL_MAX_ENTRIES);
	if ((rc = check_name("registry key", key, false)) ||
	    (rc = check_name("registry value name", value, true)))
		return rc;
	if ((rc = check_data(type, data, size)))
		return ipam_error_prefix(rc, "'%s\\%s'", key, value);
	ALLOC_GROW(pol->entries, pol->nr + 1, pol->alloc);
	e = &pol->entries[pol->nr++];
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->type = type;
	e->size = size;
	e->data = xmalloc(size ? size : 1);
	if (size)
		memcpy(e->data, data, size);
	return 0;
}

int ipam_pol_add_sz(struct ipam_pol *pol, const char *key, const char *value,
		    uint32_t type, const char *str)
{
	struct strbuf w = STRBUF_INIT;
	int rc;

	if (type != IPAM_POL_SZ && type != IPAM_POL_EXPAND_SZ)
		return ipam_error_set(IPAM_EINVAL, "type %u is not a string",
				      (unsigned)type);
	rc = ipam_utf8_to_utf16le(&w, str, strlen(str));
	if (rc == 0) {
		put_u16(&w, 0);
		rc = ipam_pol_add(pol, key, value, type, w.buf, w.len);
	}
	strbuf_release(&w);
	return rc;
}

int ipam_pol_add_dword(struct ipam_pol *pol, const char *key, const char *value,
		       uint32_t v)
{
	struct strbuf w = STRBUF_INIT;
	int rc;

	put_u32(&w, v);
	rc = ipam_pol_add(pol, key, value, IPAM_POL_DWORD, w.buf, w.len);
	strbuf_release(&w);
	return rc;
}

int ipam_pol_add_qword(struct ipam_pol *pol, const char *key, const char *value,
		       uint64_t v)
{
	struct strbuf w = STRBUF_INIT;
	int rc;

	put_u32(&w, (uint32_t)v);
	put_u32(&w, (uint32_t)(v >> 32));
	rc = ipam_pol_add(pol, key, value, IPAM_POL_QWORD, w.buf, w.len);
	strbuf_release(&w);
	return rc;
}

int ipam_pol_add_multi_sz(struct ipam_pol *pol, const char *key,
			  const char *value, const char *const *items, size_t n)
{
	struct strbuf w = STRBUF_INIT;
	int rc = 0;
	size_t i;

	for (i = 0; i < n && rc == 0; i++) {
		if (!*items[i])
			rc = ipam_error_set(IPAM_EINVAL,
					    "empty string in a multi-string");
		else
			rc = ipam_utf8_to_utf16le(&w, items[i],
						      strlen(items[i]));
		put_u16(&w, 0);
	}
	if (rc == 0) {
		put_u16(&w, 0);
		rc = ipam_pol_add(pol, key, value, IPAM_POL_MULTI_SZ, w.buf,
				  w.len);
	}
	strbuf_release(&w);
	return rc;
}

static int put_name(struct strbuf *out, const char *s)
{
	int rc = ipam_utf8_to_utf16le(out, s, strlen(s));

	put_u16(out, 0);
	return rc;
}

int ipam_pol_write(struct strbuf *out, const struct ipam_pol *pol)
{
	size_t i, start = out->len;
	int rc = 0;

	strbuf_add(out, "PReg", 4);
	put_u32(out, 1);
	for (i = 0; i < pol->nr && rc == 0; i++) {
		const struct ipam_pol_entry *e = &pol->entries[i];

		if (e->size > UINT32_MAX) {
			rc = ipam_error_set(IPAM_ELIMIT, "entry too large");
			break;
		}
		put_u16(out, '[');
		if ((rc = put_name(out, e->key)))
			break;
		put_u16(out, ';');
		if ((rc = put_name(out, e->value)))
			break;
		put_u16(out, ';');
		put_u32(out, e->type);
		put_u16(out, ';');
		put_u32(out, (uint32_t)e->size);
		put_u16(out, ';');
		strbuf_add(out, e->data, e->size);
		put_u16(out, ']');
	}
	if (rc) {
		out->len = start;
		out->buf[start] = '\0';
	}
	return rc;
}

struct reader {
	const unsigned char *p;
	size_t len, pos;
};

static int expect_char(struct reader *r, char c)
{
	if (r->len - r->pos < 2)
		return ipam_error_set(IPAM_EINVAL,
				      "truncated at byte %zu (expected '%c')",
				      r->pos, c);
	if (get_u16(r->p + r->pos) != (uint16_t)c)
		return ipam_error_set(IPAM_EINVAL, "expected '%c' at byte %zu",
				      c, r->pos);
	r->pos += 2;
	return 0;
}

static int read_u32(struct reader *r, uint32_t *v)
{
	if (r->len - r->pos < 4)
		return ipam_error_set(IPAM_EINVAL, "truncated at byte %zu",
				      r->pos);
	*v = get_u32(r->p + r->pos);
	r->pos += 4;
	return 0;
}

/* A NUL-terminated UTF-16LE name, bounded, into a malloc'd UTF-8 string. */
static int read_name(struct reader *r, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t start = r->pos, units = 0;
	int rc;

	for (;;) {
		if (r->len - r->pos < 2)
			return ipam_error_set(
				IPAM_EINVAL,
				"unterminated name starting at byte %zu",
				start);
		if (get_u16(r->p + r->pos) == 0)
			break;
		if (++units > IPAM_POL_MAX_NAME)
			return ipam_error_set(
				IPAM_ELIMIT,
				"name at byte %zu longer than %u characters",
				start, IPAM_POL_MAX_NAME);
		r->pos += 2;
	}
	rc = ipam_utf16le_to_utf8(&sb, r->p + start, units * 2);
	r->pos += 2;
	if (rc) {
		strbuf_release(&sb);
		return ipam_error_prefix(rc, "name at byte %zu", start);
	}
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

static int parse_entry(struct ipam_pol *pol, struct reader *r)
{
	char *key = NULL, *value = NULL;
	size_t at = r->pos;
	uint32_t type = 0, size = 0;
	int rc;

	if ((rc = expect_char(r, '[')) || (rc = read_name(r, &key)) ||
	    (rc = expect_char(r, ';')) || (rc = read_name(r, &value)) ||
	    (rc = expect_char(r, ';')) || (rc = read_u32(r, &type)) ||
	    (rc = expect_char(r, ';')) || (rc = read_u32(r, &size)) ||
	    (rc = expect_char(r, ';')))
		goto out;
	if (size > r->len - r->pos) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "data size %u runs past the end of the "
				    "file",
				    (unsigned)size);
		goto out;
	}
	r->pos += size;
	if ((rc = expect_char(r, ']')))
		goto out;
	rc = ipam_pol_add(pol, key, value, type, r->p + r->pos - 2 - size,
			  size);
out:
	free(key);
	free(value);
	if (rc)
		rc = ipam_error_prefix(rc, "entry at byte %zu", at);
	return rc;
}

int ipam_pol_parse(struct ipam_pol *out, const void *buf, size_t len)
{
	struct reader r = {buf, len, 8};
	int rc = 0;

	ipam_pol_init(out);
	if (len > IPAM_POL_MAX_FILE)
		return ipam_error_set(IPAM_ELIMIT,
				      "Registry.pol of %zu bytes exceeds %u",
				      len, IPAM_POL_MAX_FILE);
	if (len < 8 || memcmp(buf, "PReg", 4))
		return ipam_error_set(IPAM_EINVAL,
				      "not a Registry.pol file (no PReg "
				      "header)");
	if (get_u32(r.p + 4) != 1)
		return ipam_error_set(IPAM_EINVAL,
				      "Registry.pol version %u (expected 1)",
				      (unsigned)get_u32(r.p + 4));
	while (r.pos < r.len && rc == 0)
		rc = parse_entry(out, &r);
	if (rc)
		ipam_pol_release(out);
	return rc;
}

const struct ipam_pol_entry *ipam_pol_find(const struct ipam_pol *pol,
					   const char *key, const char *value)
{
	size_t i;

	/* ASCII case folding: the keys and names ipamctl looks for are
	 * ASCII; the registry itself folds all of Unicode. */
	for (i = 0; i < pol->nr; i++)
		if (!strcasecmp(pol->entries[i].key, key) &&
		    !strcasecmp(pol->entries[i].value, value))
			return &pol->entries[i];
	return NULL;
}

int ipam_pol_entry_string(struct strbuf *out, const struct ipam_pol_entry *e)
{
	if (e->type != IPAM_POL_SZ && e->type != IPAM_POL_EXPAND_SZ)
		return ipam_error_set(IPAM_EINVAL, "'%s\\%s' is not a string",
				      e->key, e->value);
	/* check_data guaranteed the terminator. */
	return ipam_utf16le_to_utf8(out, e->data, e->size - 2);
}

bool ipam_pol_equal(const struct ipam_pol *a, const struct ipam_pol *b)
{
	size_t i;

	if (a->nr != b->nr)
		return false;
	for (i = 0; i < a->nr; i++) {
		const struct ipam_pol_entry *x = &a->entries[i];
		const struct ipam_pol_entry *y = &b->entries[i];

		if (strcmp(x->key, y->key) || strcmp(x->value, y->value) ||
		    x->type != y->type || x->size != y->size ||
		    memcmp(x->data, y->data, x->size))
			return false;
	}
	return true;
}

/* ---- Firewall rules ---------------------------------------------------- */

/*
 * The predefined Windows inbound rules of the seed's access-settings table.
 * Rule ids, ports, programs and services as Windows defines them:
 *
 * - FPS-*, RemoteEventLogSvc-*, RemoteSvcAdmin-*: the rule strings of a
 *   Windows registry export of
 *   HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\
 *   FirewallPolicy\FirewallRules (values "FPS-SMB-In-TCP"="v2.33|…|LPort=445|
 *   App=System|…", "RemoteEventLogSvc-In-TCP"="…|LPort=RPC|App=%SystemRoot%\
 *   system32\svchost.exe|Svc=Eventlog|…", "RemoteSvcAdmin-In-TCP"="…|LPort=RPC|
 *   App=%SystemRoot%\system32\services.exe|…" with no Svc, the *-RPCSS-*
 *   rules LPort=RPC-EPMap, svchost.exe, Svc=RPCSS), and the
 *   Get-NetFirewallRule Name/DisplayName listings of Windows Server.
 * - Microsoft-Windows-DHCP-ClientSvc-RPC-TCP-In / -RPCSS-TCP-In ("DHCP Server
 *   (RPC-In)" / "(RPCSS-In)", group "DHCP Server Management") and
 *   DNSSrv-RPC-TCP-In / DNSSrv-RPCEPMAP-TCP-In ("RPC (TCP, Incoming)" /
 *   "RPC Endpoint Mapper (TCP, Incoming)", group "DNS Service"): the
 *   Windows Server rule tables reproduced in
 *   MichaelGrafnetter/active-directory-firewall (DHCP RPC: svchost.exe,
 *   service dhcpserver, port RPC; DNS RPC: %systemroot%\System32\dns.exe,
 *   service dns, port RPC; the RPCSS/endpoint-mapper rules: svchost.exe,
 *   service "Remote Procedure Call (RPC)" = RpcSs, port RPCEPMap).
 *
 * Service short names and paths compare case-insensitively in Windows;
 * the spelling below follows the source of each rule.
 */
#define SVCHOST "%SystemRoot%\\system32\\svchost.exe"

static const struct ipam_fw_rule fw_dhcp_rpc = {
	"Microsoft-Windows-DHCP-ClientSvc-RPC-TCP-In", "DHCP Server (RPC-In)",
	"RPC", "%systemroot%\\system32\\svchost.exe", "dhcpserver"};
static const struct ipam_fw_rule fw_dhcp_rpcss = {
	"Microsoft-Windows-DHCP-ClientSvc-RPCSS-TCP-In",
	"DHCP Server (RPCSS-In)", "RPC-EPMap",
	"%systemroot%\\system32\\svchost.exe", "RpcSs"};
static const struct ipam_fw_rule fw_fps_nb = {
	"FPS-NB_Session-In-TCP", "File and Printer Sharing (NB-Session-In)",
	"139", "System", NULL};
static const struct ipam_fw_rule fw_fps_smb = {
	"FPS-SMB-In-TCP", "File and Printer Sharing (SMB-In)", "445", "System",
	NULL};
static const struct ipam_fw_rule fw_dns_rpc = {
	"DNSSrv-RPC-TCP-In", "RPC (TCP, Incoming)", "RPC",
	"%systemroot%\\System32\\dns.exe", "dns"};
static const struct ipam_fw_rule fw_dns_epmap = {
	"DNSSrv-RPCEPMAP-TCP-In", "RPC Endpoint Mapper (TCP, Incoming)",
	"RPC-EPMap", "%systemroot%\\system32\\svchost.exe", "RpcSs"};
static const struct ipam_fw_rule fw_evt_rpc = {
	"RemoteEventLogSvc-In-TCP", "Remote Event Log Management (RPC)", "RPC",
	SVCHOST, "Eventlog"};
static const struct ipam_fw_rule fw_evt_epmap = {
	"RemoteEventLogSvc-RPCSS-In-TCP",
	"Remote Event Log Management (RPC-EPMAP)", "RPC-EPMap", SVCHOST,
	"RPCSS"};
static const struct ipam_fw_rule fw_svc_rpc = {
	"RemoteSvcAdmin-In-TCP", "Remote Service Management (RPC)", "RPC",
	"%SystemRoot%\\system32\\services.exe", NULL};
static const struct ipam_fw_rule fw_svc_epmap = {
	"RemoteSvcAdmin-RPCSS-In-TCP", "Remote Service Management (RPC-EPMAP)",
	"RPC-EPMap", SVCHOST, "RPCSS"};

static const struct ipam_fw_rule *const fw_dhcp[] = {
	&fw_dhcp_rpc, &fw_dhcp_rpcss, &fw_fps_nb,  &fw_fps_smb,
	&fw_evt_rpc,  &fw_evt_epmap,  &fw_svc_rpc, &fw_svc_epmap,
};
static const struct ipam_fw_rule *const fw_dns[] = {
	&fw_dns_rpc,   &fw_dns_epmap, &fw_evt_rpc,
	&fw_evt_epmap, &fw_svc_rpc,   &fw_svc_epmap,
};
static const struct ipam_fw_rule *const fw_dc_nps[] = {
	&fw_evt_rpc,
	&fw_evt_epmap,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const struct ipam_fw_rule *const *ipam_pol_fw_rules(enum ipam_pol_gpo gpo,
						    size_t *nr)
{
	switch (gpo) {
	case IPAM_POL_GPO_DHCP:
		*nr = NELEM(fw_dhcp);
		return fw_dhcp;
	case IPAM_POL_GPO_DNS:
		*nr = NELEM(fw_dns);
		return fw_dns;
	case IPAM_POL_GPO_DC_NPS:
		*nr = NELEM(fw_dc_nps);
		return fw_dc_nps;
	}
	*nr = 0;
	return NULL;
}

int ipam_pol_fw_rule_string(struct strbuf *out, const struct ipam_fw_rule *r)
{
	const char *f[] = {r->lport, r->app, r->name, r->svc};
	size_t i;

	/* '|' separates fields and has no escape in the rule grammar. */
	for (i = 0; i < NELEM(f); i++)
		if (f[i] && (!*f[i] || strchr(f[i], '|')))
			return ipam_error_set(IPAM_EINVAL,
					      "firewall rule '%s': empty field "
					      "or '|' in a field",
					      r->id);
	strbuf_addf(out,
		    "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|"
		    "LPort=%s|App=%s|",
		    r->lport, r->app);
	if (r->svc)
		strbuf_addf(out, "Svc=%s|", r->svc);
	strbuf_addf(out, "Name=%s|", r->name);
	return 0;
}

int ipam_pol_build(struct ipam_pol *out, enum ipam_pol_gpo gpo)
{
	const struct ipam_fw_rule *const *rules;
	struct strbuf s = STRBUF_INIT;
	size_t i, nr;
	int rc = 0;

	ipam_pol_init(out);
	if (!gpo_valid(gpo))
		return ipam_error_set(IPAM_EINVAL, "unknown GPO kind %d",
				      (int)gpo);
	rules = ipam_pol_fw_rules(gpo, &nr);
	for (i = 0; i < nr && rc == 0; i++) {
		strbuf_reset(&s);
		rc = ipam_pol_fw_rule_string(&s, rules[i]);
		if (rc == 0)
			rc = ipam_pol_add_sz(out, IPAM_POL_FW_KEY, rules[i]->id,
					     IPAM_POL_SZ, s.buf);
	}
	strbuf_release(&s);
	if (rc)
		ipam_pol_release(out);
	return rc;
}

/* ---- GUIDs, SIDs --------------------------------------------------------- */

/* "{8-4-4-4-12}" hex, either case. */
static bool is_braced_guid(const char *s, size_t len)
{
	static const char shape[] = "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}";
	size_t i;

	if (len != sizeof(shape) - 1)
		return false;
	for (i = 0; i < len; i++) {
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i])
				    : s[i] != shape[i])
			return false;
	}
	return true;
}

static bool is_sid(const char *s)
{
	size_t parts = 0;

	if (strncmp(s, "S-1-", 4))
		return false;
	s += 4;
	for (;;) {
		size_t n = 0;

		while (isdigit((unsigned char)s[n]))
			n++;
		if (!n || n > 10)
			return false;
		parts++;
		s += n;
		if (!*s)
			break;
		if (*s++ != '-')
			return false;
	}
	return parts >= 1 && parts <= 16;
}

/* ---- GPP XML ----------------------------------------------------------- */

#define GPP_GROUPS_CLSID "{3125E937-EB16-4b4c-9934-544FC6D24D26}"
#define GPP_GROUP_CLSID	 "{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}"
#define GPP_SHARES_CLSID "{520870D8-A6E7-47e8-A8D8-E6A4E76EAEC2}"
#define GPP_SHARE_CLSID	 "{2888C5E7-94FC-4739-90AA-2C1536D68BC0}"
#define GPP_REGS_CLSID	 "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}"
#define GPP_REG_CLSID	 "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}"

/*
 * The Windows default security descriptor of an event log (the
 * channelAccess wevtutil reports for classic logs with no CustomSD of
 * their own, e.g. Application): SYSTEM full, Administrators and Server
 * Operators read/write/clear, Interactive, Service and Batch logons
 * read/write, WRITE RESTRICTED read/write, Event Log Readers read.
 * The DNS Server log has no CustomSD value by default, so the effective
 * descriptor is this one; writing the CustomSD replaces it, so ipamctl
 * keeps every default ACE and appends read (0x1) for IPAMUG, as IPAM's
 * documentation asks.
 */
#define EVENTLOG_DEFAULT_SDDL                                                  \
	"O:BAG:SYD:(A;;0xf0007;;;SY)(A;;0x7;;;BA)(A;;0x7;;;SO)(A;;0x3;;;IU)"   \
	"(A;;0x3;;;SU)(A;;0x3;;;S-1-5-3)(A;;0x3;;;S-1-5-33)"                   \
	"(A;;0x1;;;S-1-5-32-573)"

int ipam_gpp_item_uid(char out[39], const char *gpo_guid, const char *item_key)
{
	static const char hex[] = "0123456789ABCDEF";
	struct ipam_sha256 ctx;
	unsigned char md[IPAM_SHA256_LEN];
	char up[39];
	size_t i, o = 0;

	if (!is_braced_guid(gpo_guid, strlen(gpo_guid)))
		return ipam_error_set(IPAM_EINVAL,
				      "GPO GUID '%s' is not "
				      "{XXXXXXXX-XXXX-XXXX-XXXX-"
				      "XXXXXXXXXXXX}",
				      gpo_guid);
	for (i = 0; i < 38; i++)
		up[i] = (char)toupper((unsigned char)gpo_guid[i]);
	up[38] = '\0';
	ipam_sha256_init(&ctx);
	ipam_sha256_update(&ctx, "ipamctl-gpp-uid", 16); /* with its NUL */
	ipam_sha256_update(&ctx, up, 39);
	ipam_sha256_update(&ctx, item_key, strlen(item_key));
	ipam_sha256_final(md, &ctx);
	md[6] = (unsigned char)((md[6] & 0x0F) | 0x80); /* version 8 */
	md[8] = (unsigned char)((md[8] & 0x3F) | 0x80); /* RFC variant */
	out[o++] = '{';
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 0xF];
	}
	out[o++] = '}';
	out[o] = '\0';
	return 0;
}

int ipam_gpp_dns_customsd(struct strbuf *out, const char *ipamug_sid)
{
	if (!is_sid(ipamug_sid))
		return ipam_error_set(IPAM_EINVAL, "'%s' is not a SID",
				      ipamug_sid);
	strbuf_addf(out, "%s(A;;0x1;;;%s)", EVENTLOG_DEFAULT_SDDL, ipamug_sid);
	return 0;
}

/* Append s as an attribute value: valid UTF-8, no control characters
 * (they would need character references GPMC never writes). */
static int xml_attr(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = ipam_utf8_decode(p + i, len - i, &cp);

		if (!n || cp < 0x20 || cp == 0x7F || cp == 0xFFFE ||
		    cp == 0xFFFF)
			return ipam_error_set(IPAM_EINVAL,
					      "value '%.40s' has invalid UTF-8 "
					      "or a control character",
					      s);
		switch (cp) {
		case '&':
			strbuf_addstr(out, "&amp;");
			break;
		case '<':
			strbuf_addstr(out, "&lt;");
			break;
		case '>':
			strbuf_addstr(out, "&gt;");
			break;
		case '"':
			strbuf_addstr(out, "&quot;");
			break;
		case '\'':
			strbuf_addstr(out, "&apos;");
			break;
		default:
			strbuf_add(out, p + i, n);
		}
		i += n;
	}
	return 0;
}

/* A run of name="value" pairs; NULL name ends the list. */
static int xml_attrs(struct strbuf *out, const char *const *kv)
{
	int rc = 0;

	for (; *kv && rc == 0; kv += 2) {
		strbuf_addf(out, " %s=\"", kv[0]);
		rc = xml_attr(out, kv[1]);
		strbuf_addch(out, '"');
	}
	return rc;
}

static int check_params(const struct ipam_gpp_params *p, char changed[20])
{
	struct strbuf sb = STRBUF_INIT;
	struct tm tm;

	if (!p->gpo_guid || !is_braced_guid(p->gpo_guid, strlen(p->gpo_guid)))
		return ipam_error_set(IPAM_EINVAL, "invalid GPO GUID '%s'",
				      p->gpo_guid ? p->gpo_guid : "");
	if (!p->ipamug_sid || !is_sid(p->ipamug_sid))
		return ipam_error_set(IPAM_EINVAL, "invalid IPAMUG SID '%s'",
				      p->ipamug_sid ? p->ipamug_sid : "");
	if (!p->ipamug_name || !*p->ipamug_name)
		return ipam_error_set(IPAM_EINVAL, "empty IPAMUG name");
	if (!gmtime_r(&p->changed, &tm) || tm.tm_year < 1601 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return ipam_error_set(IPAM_EINVAL, "change time out of range");
	/* gmtime_r's fields are in range, so this is exactly 19 bytes. */
	strbuf_addf(&sb, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
	if (sb.len != 19) {
		strbuf_release(&sb);
		return ipam_error_set(IPAM_EINVAL, "change time out of range");
	}
	memcpy(changed, sb.buf, 20);
	strbuf_release(&sb);
	return 0;
}

/* GPMC's layout: declaration, CRLF, root start tag immediately followed by
 * the items, CRLF, root end tag, CRLF. */
static void xml_open(struct strbuf *out, const char *root, const char *clsid)
{
	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n");
	strbuf_addf(out, "<%s clsid=\"%s\">", root, clsid);
}

static void xml_close(struct strbuf *out, const char *root)
{
	strbuf_addf(out, "\r\n</%s>\r\n", root);
}

static int group_item(struct strbuf *out, const struct ipam_gpp_params *p,
		      const char *changed, const char *name, const char *sid)
{
	char uid[39];
	int rc;
	struct strbuf key = STRBUF_INIT;

	strbuf_addf(&key, "Groups/%s", name);
	rc = ipam_gpp_item_uid(uid, p->gpo_guid, key.buf);
	strbuf_release(&key);
	if (rc)
		return rc;
	{
		/* image 2 = update; action U adds our member and keeps the
		 * others (the three delete/remove flags stay 0). */
		const char *item[] = {
			"clsid",   GPP_GROUP_CLSID, "name", name, "image", "2",
			"changed", changed,	    "uid",  uid,  NULL};
		const char *props[] = {"action",
				       "U",
				       "newName",
				       "",
				       "description",
				       "",
				       "deleteAllUsers",
				       "0",
				       "deleteAllGroups",
				       "0",
				       "removeAccounts",
				       "0",
				       "groupSid",
				       sid,
				       "groupName",
				       name,
				       NULL};
		const char *member[] = {"name", p->ipamug_name, "action", "ADD",
					"sid",	p->ipamug_sid,	NULL};

		strbuf_addstr(out, "<Group");
		if ((rc = xml_attrs(out, item)))
			return rc;
		strbuf_addstr(out, "><Properties");
		if ((rc = xml_attrs(out, props)))
			return rc;
		strbuf_addstr(out, "><Members><Member");
		if ((rc = xml_attrs(out, member)))
			return rc;
		strbuf_addstr(out, "/></Members></Properties></Group>");
	}
	return 0;
}

static int render_begin(struct strbuf *out, size_t *start,
			const struct ipam_gpp_params *p, char changed[20])
{
	*start = out->len;
	return check_params(p, changed);
}

static int render_end(struct strbuf *out, size_t start, int rc)
{
	if (rc) {
		out->len = start;
		out->buf[start] = '\0';
	}
	return rc;
}

int ipam_gpp_groups_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p)
{
	char changed[20];
	size_t start;
	int rc;

	if (!gpo_valid(gpo))
		return ipam_error_set(IPAM_EINVAL, "unknown GPO kind %d",
				      (int)gpo);
	if ((rc = render_begin(out, &start, p, changed)))
		return rc;
	xml_open(out, "Groups", GPP_GROUPS_CLSID);
	rc = group_item(out, p, changed, IPAM_GPP_ELR_NAME, IPAM_GPP_ELR_SID);
	/* DHCP Users is created by the DHCP role with a machine-specific
	 * SID: GPMC names it and leaves groupSid empty. */
	if (rc == 0 && gpo == IPAM_POL_GPO_DHCP)
		rc = group_item(out, p, changed, IPAM_GPP_DHCP_USERS, "");
	if (rc == 0)
		xml_close(out, "Groups");
	return render_end(out, start, rc);
}

int ipam_gpp_shares_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p)
{
	char changed[20], uid[39];
	size_t start;
	int rc;

	if (gpo != IPAM_POL_GPO_DHCP)
		return ipam_error_set(IPAM_EINVAL,
				      "only the _DHCP GPO has network shares");
	if ((rc = render_begin(out, &start, p, changed)))
		return rc;
	rc = ipam_gpp_item_uid(uid, p->gpo_guid,
			       "NetworkShares/" IPAM_GPP_SHARE_NAME);
	if (rc == 0) {
		/*
		 * MS-GPPREF network share items carry no share ACL: the
		 * share gets Windows' default share permission (Everyone:
		 * Read), which is the read IPAMUG needs at share level.
		 */
		const char *item[] = {"clsid",	 GPP_SHARE_CLSID,
				      "image",	 "2",
				      "name",	 IPAM_GPP_SHARE_NAME,
				      "changed", changed,
				      "uid",	 uid,
				      NULL};
		const char *props[] = {"action",
				       "U",
				       "name",
				       IPAM_GPP_SHARE_NAME,
				       "path",
				       IPAM_GPP_SHARE_PATH,
				       "comment",
				       "IPAM DHCP audit logs",
				       "allRegular",
				       "0",
				       "allHidden",
				       "0",
				       "allAdminDrive",
				       "0",
				       "limitUsers",
				       "NO_CHANGE",
				       "abe",
				       "NO_CHANGE",
				       NULL};

		xml_open(out, "NetworkShareSettings", GPP_SHARES_CLSID);
		strbuf_addstr(out, "<NetShare");
		rc = xml_attrs(out, item);
		if (rc == 0) {
			strbuf_addstr(out, "><Properties");
			rc = xml_attrs(out, props);
		}
		if (rc == 0) {
			strbuf_addstr(out, "/></NetShare>");
			xml_close(out, "NetworkShareSettings");
		}
	}
	return render_end(out, start, rc);
}

int ipam_gpp_registry_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			  const struct ipam_gpp_params *p)
{
	struct strbuf sddl = STRBUF_INIT;
	char changed[20], uid[39];
	size_t start;
	int rc;

	if (gpo != IPAM_POL_GPO_DNS)
		return ipam_error_set(IPAM_EINVAL,
				      "only the _DNS GPO has registry "
				      "preferences");
	if ((rc = render_begin(out, &start, p, changed)))
		return rc;
	rc = ipam_gpp_item_uid(uid, p->gpo_guid, "Registry/CustomSD");
	if (rc == 0)
		rc = ipam_gpp_dns_customsd(&sddl, p->ipamug_sid);
	if (rc == 0) {
		/* image 7 = update of a string value. */
		const char *item[] = {
			"clsid",    GPP_REG_CLSID, "name", "CustomSD", "status",
			"CustomSD", "image",	   "7",	   "changed",  changed,
			"uid",	    uid,	   NULL};
		const char *props[] = {"action",
				       "U",
				       "displayDecimal",
				       "0",
				       "default",
				       "0",
				       "hive",
				       "HKEY_LOCAL_MACHINE",
				       "key",
				       IPAM_GPP_CUSTOMSD_KEY,
				       "name",
				       "CustomSD",
				       "type",
				       "REG_SZ",
				       "value",
				       sddl.buf,
				       NULL};

		xml_open(out, "RegistrySettings", GPP_REGS_CLSID);
		strbuf_addstr(out, "<Registry");
		rc = xml_attrs(out, item);
		if (rc == 0) {
			strbuf_addstr(out, "><Properties");
			rc = xml_attrs(out, props);
		}
		if (rc == 0) {
			strbuf_addstr(out, "/></Registry>");
			xml_close(out, "RegistrySettings");
		}
	}
	strbuf_release(&sddl);
	return render_end(out, start, rc);
}

/* ---- A small bounded XML reader for preference files -------------------- */

struct xml {
	const char *s;
	size_t len, pos;
};

#define XML_MAX_DEPTH 16

static int xml_err(const struct xml *x, const char *what)
{
	return ipam_error_set(IPAM_EINVAL, "%s at byte %zu", what, x->pos);
}

static bool xml_at(const struct xml *x, const char *lit)
{
	size_t n = strlen(lit);

	return x->len - x->pos >= n && !memcmp(x->s + x->pos, lit, n);
}

static void xml_ws(struct xml *x)
{
	while (x->pos < x->len && strchr(" \t\r\n", x->s[x->pos]) &&
	       x->s[x->pos])
		x->pos++;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':' || c == '-' ||
	       c == '.';
}

/* Skip to just past lit; error when absent. */
static int xml_skip_past(struct xml *x, const char *lit)
{
	size_t n = strlen(lit);

	while (x->len - x->pos >= n) {
		if (!memcmp(x->s + x->pos, lit, n)) {
			x->pos += n;
			return 0;
		}
		x->pos++;
	}
	return xml_err(x, "unterminated markup");
}

static int xml_name(struct xml *x, const char **name, size_t *n)
{
	size_t start = x->pos;

	while (x->pos < x->len && name_char(x->s[x->pos]))
		x->pos++;
	if (x->pos == start)
		return xml_err(x, "expected a name");
	*name = x->s + start;
	*n = x->pos - start;
	return 0;
}

/* Decode an attribute value's references into out (UTF-8). */
static int xml_unescape(struct strbuf *out, const struct xml *x, const char *v,
			size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *semi;
		size_t rl;

		if (v[i] == '<' || v[i] == '\0')
			return xml_err(x, "invalid character in a value");
		if (v[i] != '&') {
			strbuf_addch(out, v[i++]);
			continue;
		}
		semi = memchr(v + i, ';', n - i);
		if (!semi || semi - (v + i) > 12)
			return xml_err(x, "bad reference in a value");
		rl = (size_t)(semi - (v + i)) + 1;
		if (rl == 5 && !memcmp(v + i, "&amp;", 5))
			strbuf_addch(out, '&');
		else if (rl == 4 && !memcmp(v + i, "&lt;", 4))
			strbuf_addch(out, '<');
		else if (rl == 4 && !memcmp(v + i, "&gt;", 4))
			strbuf_addch(out, '>');
		else if (rl == 6 && !memcmp(v + i, "&quot;", 6))
			strbuf_addch(out, '"');
		else if (rl == 6 && !memcmp(v + i, "&apos;", 6))
			strbuf_addch(out, '\'');
		else if (rl > 3 && v[i + 1] == '#') {
			uint32_t cp = 0;
			size_t j = i + 2;
			int base = 10;

			if (v[j] == 'x') {
				base = 16;
				j++;
			}
			if (j == i + rl - 1)
				return xml_err(x, "bad character reference");
			for (; j < i + rl - 1; j++) {
				int d;

				if (base == 16 && isxdigit((unsigned char)v[j]))
					d = isdigit((unsigned char)v[j])
						    ? v[j] - '0'
						    : (tolower((unsigned char)
								       v[j]) -
						       'a' + 10);
				else if (isdigit((unsigned char)v[j]))
					d = v[j] - '0';
				else
					return xml_err(
						x, "bad character reference");
				cp = cp * (uint32_t)base + (uint32_t)d;
				if (cp > 0x10FFFF)
					return xml_err(
						x, "bad character reference");
			}
			if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
				return xml_err(x, "bad character reference");
			ipam_utf8_put(out, cp);
		} else {
			return xml_err(x, "unknown entity in a value");
		}
		i += rl;
	}
	return 0;
}

struct xml_attr {
	const char *name;
	size_t nlen;
	char *value; /* unescaped */
};

struct xml_tag {
	const char *name;
	size_t nlen;
	bool end, empty;
	struct xml_attr *attrs;
	size_t nr, alloc;
};

static void tag_clear(struct xml_tag *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->attrs[i].value);
	t->nr = 0;
}

static const char *tag_attr(const struct xml_tag *t, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < t->nr; i++)
		if (t->attrs[i].nlen == n && !memcmp(t->attrs[i].name, name, n))
			return t->attrs[i].value;
	return NULL;
}

static bool tag_is(const struct xml_tag *t, const char *name)
{
	return t->nlen == strlen(name) && !memcmp(t->name, name, t->nlen);
}

/* Next tag; skips text, comments and processing instructions.  Returns 1
 * at the end of input. */
static int xml_next(struct xml *x, struct xml_tag *t)
{
	int rc;

	tag_clear(t);
	for (;;) {
		while (x->pos < x->len && x->s[x->pos] != '<') {
			if (x->s[x->pos] == '\0')
				return xml_err(x, "NUL byte");
			x->pos++;
		}
		if (x->pos >= x->len)
			return 1;
		if (xml_at(x, "<!--")) {
			if ((rc = xml_skip_past(x, "-->")))
				return rc;
		} else if (xml_at(x, "<?")) {
			if ((rc = xml_skip_past(x, "?>")))
				return rc;
		} else if (xml_at(x, "<!")) {
			return xml_err(x, "DTD or CDATA not supported");
		} else {
			break;
		}
	}
	x->pos++;
	t->end = t->empty = false;
	if (x->pos < x->len && x->s[x->pos] == '/') {
		t->end = true;
		x->pos++;
	}
	if ((rc = xml_name(x, &t->name, &t->nlen)))
		return rc;
	for (;;) {
		struct xml_attr *a;
		struct strbuf v = STRBUF_INIT;
		const char *an, *q;
		size_t al;
		char quote;

		xml_ws(x);
		if (x->pos >= x->len)
			return xml_err(x, "unterminated tag");
		if (x->s[x->pos] == '>') {
			x->pos++;
			return 0;
		}
		if (xml_at(x, "/>") && !t->end) {
			t->empty = true;
			x->pos += 2;
			return 0;
		}
		if (t->end)
			return xml_err(x, "attribute in an end tag");
		if ((rc = xml_name(x, &an, &al)))
			return rc;
		xml_ws(x);
		if (x->pos >= x->len || x->s[x->pos] != '=')
			return xml_err(x, "expected '='");
		x->pos++;
		xml_ws(x);
		if (x->pos >= x->len ||
		    (x->s[x->pos] != '"' && x->s[x->pos] != '\''))
			return xml_err(x, "expected a quoted value");
		quote = x->s[x->pos++];
		q = memchr(x->s + x->pos, quote, x->len - x->pos);
		if (!q)
			return xml_err(x, "unterminated value");
		rc = xml_unescape(&v, x, x->s + x->pos,
				  (size_t)(q - (x->s + x->pos)));
		if (rc) {
			strbuf_release(&v);
			return rc;
		}
		x->pos = (size_t)(q - x->s) + 1;
		{
			size_t i;

			for (i = 0; i < t->nr; i++)
				if (t->attrs[i].nlen == al &&
				    !memcmp(t->attrs[i].name, an, al)) {
					strbuf_release(&v);
					return xml_err(x,
						       "duplicate attribute");
				}
		}
		ALLOC_GROW(t->attrs, t->nr + 1, t->alloc);
		a = &t->attrs[t->nr++];
		a->name = an;
		a->nlen = al;
		a->value = strbuf_detach(&v, NULL);
	}
}

static char *dup_attr(const struct xml_tag *t, const char *name)
{
	const char *v = tag_attr(t, name);

	return v ? xstrdup(v) : NULL;
}

static bool flag_attr(const struct xml_tag *t, const char *name)
{
	const char *v = tag_attr(t, name);

	return v && !strcmp(v, "1");
}

static void item_release(struct ipam_gpp_item *it)
{
	size_t i;

	free(it->tag);
	free(it->clsid);
	free(it->name);
	free(it->uid);
	free(it->changed);
	free(it->action);
	free(it->group_name);
	free(it->group_sid);
	for (i = 0; i < it->nr_members; i++) {
		free(it->members[i].name);
		free(it->members[i].action);
		free(it->members[i].sid);
	}
	free(it->members);
	free(it->share_path);
	free(it->hive);
	free(it->key);
	free(it->value_name);
	free(it->type);
	free(it->value);
}

void ipam_gpp_file_release(struct ipam_gpp_file *f)
{
	size_t i;

	if (!f)
		return;
	free(f->root);
	free(f->root_clsid);
	for (i = 0; i < f->nr; i++)
		item_release(&f->items[i]);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

static void take_properties(struct ipam_gpp_item *it, const struct xml_tag *t)
{
	if (it->action) /* first Properties wins; GPMC writes one */
		return;
	it->action = dup_attr(t, "action");
	if (!strcmp(it->tag, "Group")) {
		it->group_name = dup_attr(t, "groupName");
		it->group_sid = dup_attr(t, "groupSid");
		it->delete_all_users = flag_attr(t, "deleteAllUsers");
		it->delete_all_groups = flag_attr(t, "deleteAllGroups");
		it->remove_accounts = flag_attr(t, "removeAccounts");
	} else if (!strcmp(it->tag, "NetShare")) {
		it->share_path = dup_attr(t, "path");
	} else if (!strcmp(it->tag, "Registry")) {
		it->hive = dup_attr(t, "hive");
		it->key = dup_attr(t, "key");
		it->value_name = dup_attr(t, "name");
		it->type = dup_attr(t, "type");
		it->value = dup_attr(t, "value");
	}
}

int ipam_gpp_parse(struct ipam_gpp_file *out, const char *buf, size_t len)
{
	struct xml x = {buf, len, 0};
	struct xml_tag t = {0};
	/* Element names open at each depth (0 = root). */
	const char *stack[XML_MAX_DEPTH];
	size_t stack_len[XML_MAX_DEPTH];
	size_t depth = 0, members_alloc = 0;
	struct ipam_gpp_item *cur = NULL;
	bool done = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > IPAM_GPP_MAX_FILE)
		return ipam_error_set(IPAM_ELIMIT,
				      "preferences file of %zu bytes exceeds "
				      "%u",
				      len, IPAM_GPP_MAX_FILE);
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		x.pos = 3;
	while (rc == 0) {
		rc = xml_next(&x, &t);
		if (rc == 1) {
			rc = done ? 0
				  : ipam_error_set(IPAM_EINVAL,
						   "no complete root element");
			break;
		}
		if (rc)
			break;
		if (done) {
			rc = xml_err(&x, "content after the root element");
			break;
		}
		if (t.end) {
			if (!depth || stack_len[depth - 1] != t.nlen ||
			    memcmp(stack[depth - 1], t.name, t.nlen)) {
				rc = xml_err(&x, "mismatched end tag");
				break;
			}
			depth--;
			if (depth == 1)
				cur = NULL;
			if (depth == 0)
				done = true;
			continue;
		}
		if (depth == 0) {
			out->root = xstrndup(t.name, t.nlen);
			out->root_clsid = dup_attr(&t, "clsid");
		} else if (depth == 1) {
			if (out->nr >= IPAM_GPP_MAX_ITEMS) {
				rc = ipam_error_set(IPAM_ELIMIT,
						    "more than %u items",
						    IPAM_GPP_MAX_ITEMS);
				break;
			}
			ALLOC_GROW(out->items, out->nr + 1, out->alloc);
			cur = &out->items[out->nr++];
			memset(cur, 0, sizeof(*cur));
			members_alloc = 0;
			cur->tag = xstrndup(t.name, t.nlen);
			cur->clsid = dup_attr(&t, "clsid");
			cur->name = dup_attr(&t, "name");
			cur->uid = dup_attr(&t, "uid");
			cur->changed = dup_attr(&t, "changed");
		} else if (cur && depth == 2 && tag_is(&t, "Properties")) {
			take_properties(cur, &t);
		} else if (cur && depth == 4 && tag_is(&t, "Member") &&
			   stack_len[3] == 7 &&
			   !memcmp(stack[3], "Members", 7) &&
			   stack_len[2] == 10 &&
			   !memcmp(stack[2], "Properties", 10)) {
			struct ipam_gpp_member *m;

			if (cur->nr_members >= IPAM_GPP_MAX_ITEMS) {
				rc = ipam_error_set(IPAM_ELIMIT,
						    "more than %u members",
						    IPAM_GPP_MAX_ITEMS);
				break;
			}
			ALLOC_GROW(cur->members, cur->nr_members + 1,
				   members_alloc);
			m = &cur->members[cur->nr_members++];
			m->name = dup_attr(&t, "name");
			m->action = dup_attr(&t, "action");
			m->sid = dup_attr(&t, "sid");
		}
		if (t.empty) {
			if (depth == 0)
				done = true;
			continue;
		}
		if (depth >= XML_MAX_DEPTH) {
			rc = xml_err(&x, "elements nested too deeply");
			break;
		}
		stack[depth] = t.name;
		stack_len[depth] = t.nlen;
		depth++;
	}
	tag_clear(&t);
	free(t.attrs);
	if (rc) {
		ipam_gpp_file_release(out);
		return ipam_error_prefix(rc, "preferences XML");
	}
	return 0;
}

/* ---- GPT.INI ----------------------------------------------------------- */

int ipam_gpt_ini_write(struct strbuf *out, uint32_t version)
{
	strbuf_addf(out, "[General]\r\nVersion=%lu\r\n",
		    (unsigned long)version);
	return 0;
}

#define GPT_INI_MAX (64u * 1024)

int ipam_gpt_ini_parse(uint32_t *version, const char *buf, size_t len)
{
	size_t pos = 0;
	bool general = false, found = false;
	uint32_t v = 0;

	if (len > GPT_INI_MAX)
		return ipam_error_set(IPAM_ELIMIT,
				      "GPT.INI of %zu bytes exceeds %u", len,
				      GPT_INI_MAX);
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		pos = 3;
	while (pos < len) {
		const char *line = buf + pos, *nl, *end;
		size_t n;

		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		end = line + n;
		if (memchr(line, '\0', n))
			return ipam_error_set(IPAM_EINVAL,
					      "GPT.INI holds a NUL byte");
		while (end > line && isspace((unsigned char)end[-1]))
			end--;
		while (line < end && isspace((unsigned char)*line))
			line++;
		n = (size_t)(end - line);
		if (!n || *line == ';')
			continue;
		if (*line == '[') {
			general = n == 9 && !strncasecmp(line, "[General]", 9);
			continue;
		}
		if (general && n >= 7 && !strncasecmp(line, "Version", 7)) {
			const char *p = line + 7;
			uint64_t acc = 0;

			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end || *p != '=')
				continue; /* another key, e.g. VersionX */
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				return ipam_error_set(IPAM_EINVAL,
						      "GPT.INI: empty Version");
			for (; p < end; p++) {
				if (!isdigit((unsigned char)*p))
					return ipam_error_set(
						IPAM_EINVAL,
						"GPT.INI: Version is not a "
						"number");
				acc = acc * 10 + (uint64_t)(*p - '0');
				if (acc > UINT32_MAX)
					return ipam_error_set(
						IPAM_EINVAL,
						"GPT.INI: Version out of "
						"range");
			}
			if (found)
				return ipam_error_set(
					IPAM_EINVAL,
					"GPT.INI: Version given twice");
			found = true;
			v = (uint32_t)acc;
		}
	}
	if (!found)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "GPT.INI has no [General] Version");
	*version = v;
	return 0;
}

uint32_t ipam_gpt_bump_machine(uint32_t v)
{
	uint32_t m = v & 0xFFFF;

	m = m == 0xFFFF ? 1 : m + 1;
	return (v & 0xFFFF0000u) | m;
}

/* ---- gPCMachineExtensionNames ----------------------------------------- */

struct ext_pair {
	const char *cse, *tool;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct ext_pair *x = a, *y = b;
	int c = strcasecmp(x->cse, y->cse);

	if (c)
		return c;
	if (!x->tool || !y->tool)
		return x->tool ? 1 : (y->tool ? -1 : 0);
	return strcasecmp(x->tool, y->tool);
}

int ipam_gpt_ext_build(struct strbuf *out, const struct ipam_gpt_ext *exts,
		       size_t n)
{
	struct ext_pair *pairs = NULL;
	size_t i, j, nr = 0, alloc = 0;
	const char *last_cse = NULL;
	int rc = 0;

	if (n > IPAM_GPT_MAX_EXTS)
		return ipam_error_set(IPAM_ELIMIT, "more than %u extensions",
				      IPAM_GPT_MAX_EXTS);
	for (i = 0; i < n && rc == 0; i++) {
		if (!is_braced_guid(exts[i].cse, strlen(exts[i].cse))) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "'%s' is not a braced GUID",
					    exts[i].cse);
			break;
		}
		if (exts[i].nr_tools > IPAM_GPT_MAX_TOOLS) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "more than %u tools for %s",
					    IPAM_GPT_MAX_TOOLS, exts[i].cse);
			break;
		}
		/* An extension with no tool still gets its group. */
		ALLOC_GROW(pairs, nr + 1, alloc);
		pairs[nr++] = (struct ext_pair){exts[i].cse, NULL};
		for (j = 0; j < exts[i].nr_tools; j++) {
			const char *t = exts[i].tools[j];

			if (!is_braced_guid(t, strlen(t))) {
				rc = ipam_error_set(IPAM_EINVAL,
						    "'%s' is not a braced GUID",
						    t);
				break;
			}
			ALLOC_GROW(pairs, nr + 1, alloc);
			pairs[nr++] = (struct ext_pair){exts[i].cse, t};
		}
	}
	if (rc == 0 && nr)
		qsort(pairs, nr, sizeof(*pairs), pair_cmp);
	for (i = 0; rc == 0 && i < nr; i++) {
		if (!last_cse || strcasecmp(last_cse, pairs[i].cse)) {
			if (last_cse)
				strbuf_addch(out, ']');
			strbuf_addf(out, "[%s", pairs[i].cse);
			last_cse = pairs[i].cse;
		}
		if (pairs[i].tool &&
		    (!i || !pairs[i - 1].tool ||
		     strcasecmp(pairs[i - 1].tool, pairs[i].tool) ||
		     strcasecmp(pairs[i - 1].cse, pairs[i].cse)))
			strbuf_addstr(out, pairs[i].tool);
	}
	if (rc == 0 && last_cse)
		strbuf_addch(out, ']');
	free(pairs);
	return rc;
}

void ipam_gpt_ext_list_release(struct ipam_gpt_ext_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++)
		free(l->exts[i].tools);
	free(l->exts);
	l->exts = NULL;
	l->nr = 0;
}

int ipam_gpt_ext_parse(struct ipam_gpt_ext_list *out, const char *s)
{
	size_t pos = 0, len = strlen(s), alloc = 0;
	int rc = 0;

	out->exts = NULL;
	out->nr = 0;
	while (pos < len && rc == 0) {
		struct ipam_gpt_ext_owned *e;
		size_t talloc = 0;

		if (s[pos] != '[') {
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension names: expected '[' at "
					    "%zu",
					    pos);
			break;
		}
		pos++;
		if (out->nr >= IPAM_GPT_MAX_EXTS) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "more than %u extensions",
					    IPAM_GPT_MAX_EXTS);
			break;
		}
		if (len - pos < 38 || !is_braced_guid(s + pos, 38)) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension names: expected a GUID "
					    "at %zu",
					    pos);
			break;
		}
		ALLOC_GROW(out->exts, out->nr + 1, alloc);
		e = &out->exts[out->nr++];
		memcpy(e->cse, s + pos, 38);
		e->cse[38] = '\0';
		e->tools = NULL;
		e->nr_tools = 0;
		pos += 38;
		while (pos < len && s[pos] == '{') {
			if (e->nr_tools >= IPAM_GPT_MAX_TOOLS) {
				rc = ipam_error_set(IPAM_ELIMIT,
						    "more than %u tools",
						    IPAM_GPT_MAX_TOOLS);
				break;
			}
			if (len - pos < 38 || !is_braced_guid(s + pos, 38)) {
				rc = ipam_error_set(IPAM_EINVAL,
						    "extension names: expected "
						    "a GUID at %zu",
						    pos);
				break;
			}
			ALLOC_GROW(e->tools, e->nr_tools + 1, talloc);
			memcpy(e->tools[e->nr_tools], s + pos, 38);
			e->tools[e->nr_tools][38] = '\0';
			e->nr_tools++;
			pos += 38;
		}
		if (rc == 0 && (pos >= len || s[pos] != ']'))
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension names: expected ']' at "
					    "%zu",
					    pos);
		pos++;
	}
	if (rc)
		ipam_gpt_ext_list_release(out);
	return rc;
}

/*
 * Client-side extensions and the GPMC tools that write each file.  The
 * registry CSE's tool is the "Windows Firewall with Advanced Security"
 * snap-in {B05566AC-…} because Registry.pol only holds firewall rules here
 * (GPOs whose firewall rules GPMC wrote list [{35378EAC-…}{B05566AC-…}]);
 * the others are the GPP tools of ad-formats.md.
 */
#define CSE_REGISTRY	  "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
#define TOOL_FIREWALL	  "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}"
#define CSE_GPP_GROUPS	  "{17D89FEC-5C44-4972-B12D-241CAEF74509}"
#define TOOL_GPP_GROUPS	  "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"
#define CSE_GPP_REGISTRY  "{B087BE9D-ED37-454F-AF9C-04291E351182}"
#define TOOL_GPP_REGISTRY "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}"
#define CSE_GPP_SHARES	  "{6A4C88C6-C502-4F74-8F60-2CB23EDC24E2}"
#define TOOL_GPP_SHARES	  "{BFCBBEB0-9DF4-4C0C-A728-434EA66A0373}"

int ipam_gpt_ext_for_gpo(struct strbuf *out, enum ipam_pol_gpo gpo)
{
	static const char *const t_fw[] = {TOOL_FIREWALL};
	static const char *const t_groups[] = {TOOL_GPP_GROUPS};
	static const char *const t_reg[] = {TOOL_GPP_REGISTRY};
	static const char *const t_shares[] = {TOOL_GPP_SHARES};
	struct ipam_gpt_ext exts[3] = {
		{CSE_REGISTRY, t_fw, 1},
		{CSE_GPP_GROUPS, t_groups, 1},
	};
	size_t n = 2;

	if (!gpo_valid(gpo))
		return ipam_error_set(IPAM_EINVAL, "unknown GPO kind %d",
				      (int)gpo);
	if (gpo == IPAM_POL_GPO_DHCP)
		exts[n++] = (struct ipam_gpt_ext){CSE_GPP_SHARES, t_shares, 1};
	else if (gpo == IPAM_POL_GPO_DNS)
		exts[n++] = (struct ipam_gpt_ext){CSE_GPP_REGISTRY, t_reg, 1};
	return ipam_gpt_ext_build(out, exts, n);
}

/* ---- The settings set ------------------------------------------------- */

void ipam_pol_set_release(struct ipam_pol_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->nr; i++)
		strbuf_release(&set->files[i].data);
	set->nr = 0;
}

static struct ipam_pol_file *set_add(struct ipam_pol_set *set, const char *path)
{
	struct ipam_pol_file *f = &set->files[set->nr++];

	f->path = path;
	strbuf_init(&f->data);
	return f;
}

int ipam_pol_render_set(struct ipam_pol_set *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p)
{
	struct ipam_pol pol = IPAM_POL_INIT;
	struct ipam_pol_file *f;
	size_t i;
	int rc;

	out->nr = 0;
	if ((rc = ipam_pol_build(&pol, gpo)))
		return rc;
	f = set_add(out, "Machine\\Registry.pol");
	rc = ipam_pol_write(&f->data, &pol);
	ipam_pol_release(&pol);
	if (rc == 0) {
		f = set_add(out, "Machine\\Preferences\\Groups\\Groups.xml");
		rc = ipam_gpp_groups_xml(&f->data, gpo, p);
	}
	if (rc == 0 && gpo == IPAM_POL_GPO_DHCP) {
		f = set_add(out, "Machine\\Preferences\\NetworkShares\\"
				 "NetworkShares.xml");
		rc = ipam_gpp_shares_xml(&f->data, gpo, p);
	}
	if (rc == 0 && gpo == IPAM_POL_GPO_DNS) {
		f = set_add(out,
			    "Machine\\Preferences\\Registry\\Registry.xml");
		rc = ipam_gpp_registry_xml(&f->data, gpo, p);
	}
	if (rc) {
		ipam_pol_set_release(out);
		return rc;
	}
	for (i = 0; i < out->nr; i++)
		ipam_sha256(out->files[i].sha256, out->files[i].data.buf,
			    out->files[i].data.len);
	return 0;
}
