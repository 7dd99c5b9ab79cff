#include "polfile.h"

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

bool ipam_pol_gpo_valid(enum ipam_pol_gpo gpo)
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
	if (!ipam_pol_gpo_valid(gpo))
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
