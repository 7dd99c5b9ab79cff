#include "sid.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

/* Little-endian access; callers have checked the bounds. */
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void add32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4] = {
		(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff),
		(unsigned char)((v >> 16) & 0xff), (unsigned char)(v >> 24)};

	strbuf_add(sb, b, 4);
}

/* ---- SIDs ---- */

size_t ipam_sid_size(const struct ipam_sid *sid)
{
	return 8 + 4 * (size_t)sid->sub_count;
}

int ipam_sid_from_bin(struct ipam_sid *out, size_t *used, const void *buf,
		      size_t len)
{
	const unsigned char *p = buf;
	struct ipam_sid sid;
	size_t need;

	if (len < 8)
		return ipam_error_set(IPAM_EINVAL,
				      "SID: %zu bytes, need at least 8", len);
	memset(&sid, 0, sizeof(sid));
	sid.revision = p[0];
	sid.sub_count = p[1];
	if (sid.revision != 1)
		return ipam_error_set(IPAM_EINVAL, "SID: revision %u, want 1",
				      sid.revision);
	if (sid.sub_count > IPAM_SID_MAX_SUBAUTH)
		return ipam_error_set(IPAM_EINVAL,
				      "SID: %u sub-authorities, at most %d",
				      sid.sub_count, IPAM_SID_MAX_SUBAUTH);
	need = ipam_sid_size(&sid);
	if (len < need)
		return ipam_error_set(IPAM_EINVAL,
				      "SID: %zu bytes, its %u sub-authorities "
				      "need %zu",
				      len, sid.sub_count, need);
	for (int i = 2; i < 8; i++)
		sid.authority = (sid.authority << 8) | p[i];
	for (unsigned i = 0; i < sid.sub_count; i++)
		sid.sub[i] = get32(p + 8 + 4 * i);
	*out = sid;
	if (used)
		*used = need;
	return 0;
}

void ipam_sid_to_bin(struct strbuf *out, const struct ipam_sid *sid)
{
	unsigned char h[8];

	h[0] = sid->revision ? sid->revision : 1;
	h[1] = sid->sub_count;
	for (int i = 0; i < 6; i++)
		h[2 + i] = (unsigned char)((sid->authority >> (8 * (5 - i))) &
					   0xff);
	strbuf_add(out, h, sizeof(h));
	for (unsigned i = 0; i < sid->sub_count; i++)
		add32(out, sid->sub[i]);
}

void ipam_sid_format(struct strbuf *out, const struct ipam_sid *sid)
{
	if (sid->authority <= UINT32_MAX)
		strbuf_addf(out, "S-%u-%" PRIu64, sid->revision,
			    sid->authority);
	else
		strbuf_addf(out, "S-%u-0x%012" PRIx64, sid->revision,
			    sid->authority);
	for (unsigned i = 0; i < sid->sub_count; i++)
		strbuf_addf(out, "-%" PRIu32, sid->sub[i]);
}

bool ipam_sid_equal(const struct ipam_sid *a, const struct ipam_sid *b)
{
	return ipam_sid_cmp(a, b) == 0;
}

int ipam_sid_cmp(const struct ipam_sid *a, const struct ipam_sid *b)
{
	if (a->revision != b->revision)
		return a->revision < b->revision ? -1 : 1;
	if (a->authority != b->authority)
		return a->authority < b->authority ? -1 : 1;
	for (unsigned i = 0; i < a->sub_count && i < b->sub_count; i++)
		if (a->sub[i] != b->sub[i])
			return a->sub[i] < b->sub[i] ? -1 : 1;
	if (a->sub_count != b->sub_count)
		return a->sub_count < b->sub_count ? -1 : 1;
	return 0;
}

int ipam_sid_append_rid(struct ipam_sid *out, const struct ipam_sid *domain,
			uint32_t rid)
{
	if (domain->sub_count >= IPAM_SID_MAX_SUBAUTH)
		return ipam_error_set(IPAM_EINVAL,
				      "SID: no room for a RID after %u "
				      "sub-authorities",
				      domain->sub_count);
	*out = *domain;
	out->sub[out->sub_count++] = rid;
	return 0;
}

/*
 * SDDL SID aliases as Samba 4.17 knows them.  A non-zero rid makes the
 * alias domain-relative (Samba uses the domain SID for its machine- and
 * forest-relative ones too).
 */
static const struct sid_alias {
	const char code[3];
	const char *sid;
	uint32_t rid;
} sid_aliases[] = {
	{"WD", "S-1-1-0", 0},
	{"CO", "S-1-3-0", 0},
	{"CG", "S-1-3-1", 0},
	{"OW", "S-1-3-4", 0},
	{"NU", "S-1-5-2", 0},
	{"IU", "S-1-5-4", 0},
	{"SU", "S-1-5-6", 0},
	{"AN", "S-1-5-7", 0},
	{"ED", "S-1-5-9", 0},
	{"PS", "S-1-5-10", 0},
	{"AU", "S-1-5-11", 0},
	{"RC", "S-1-5-12", 0},
	{"SY", "S-1-5-18", 0},
	{"LS", "S-1-5-19", 0},
	{"NS", "S-1-5-20", 0},
	{"WR", "S-1-5-33", 0},
	{"BA", "S-1-5-32-544", 0},
	{"BU", "S-1-5-32-545", 0},
	{"BG", "S-1-5-32-546", 0},
	{"PU", "S-1-5-32-547", 0},
	{"AO", "S-1-5-32-548", 0},
	{"SO", "S-1-5-32-549", 0},
	{"PO", "S-1-5-32-550", 0},
	{"BO", "S-1-5-32-551", 0},
	{"RE", "S-1-5-32-552", 0},
	{"RU", "S-1-5-32-554", 0},
	{"RD", "S-1-5-32-555", 0},
	{"NO", "S-1-5-32-556", 0},
	{"MU", "S-1-5-32-558", 0},
	{"LU", "S-1-5-32-559", 0},
	{"IS", "S-1-5-32-568", 0},
	{"CY", "S-1-5-32-569", 0},
	{"ER", "S-1-5-32-573", 0},
	{"CD", "S-1-5-32-574", 0},
	{"RA", "S-1-5-32-575", 0},
	{"ES", "S-1-5-32-576", 0},
	{"MS", "S-1-5-32-577", 0},
	{"HA", "S-1-5-32-578", 0},
	{"AA", "S-1-5-32-579", 0},
	{"RM", "S-1-5-32-580", 0},
	{"UD", "S-1-5-84-0-0-0-0-0", 0},
	{"AC", "S-1-15-2-1", 0},
	{"LW", "S-1-16-4096", 0},
	{"ME", "S-1-16-8192", 0},
	{"MP", "S-1-16-8448", 0},
	{"HI", "S-1-16-12288", 0},
	{"SI", "S-1-16-16384", 0},
	{"AS", "S-1-18-1", 0},
	{"SS", "S-1-18-2", 0},
	{"RO", NULL, 498},
	{"LA", NULL, 500},
	{"LG", NULL, 501},
	{"DA", NULL, 512},
	{"DU", NULL, 513},
	{"DG", NULL, 514},
	{"DC", NULL, 515},
	{"DD", NULL, 516},
	{"CA", NULL, 517},
	{"SA", NULL, 518},
	{"EA", NULL, 519},
	{"PA", NULL, 520},
	{"CN", NULL, 522},
	{"AP", NULL, 525},
	{"KA", NULL, 526},
	{"EK", NULL, 527},
	{"RS", NULL, 553},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The hex authority is exactly 12 digits (MS-DTYP 2.4.2.1), not as many
 * as strtoull takes: in SDDL the SID may be followed by "D:", and D is a
 * hex digit.
 */
static bool hex_authority(unsigned long long *out, const char *p)
{
	unsigned long long v = 0;

	for (int i = 0; i < 12; i++) {
		int d;

		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return false;
		v = (v << 4) | (unsigned long long)d;
	}
	*out = v;
	return true;
}

/* Numeric "S-1-…" at s; *end gets the first character after it.  Sets
 * no error: callers decide whether a mismatch is one. */
static bool sid_scan(struct ipam_sid *out, const char *s, const char **end)
{
	struct ipam_sid sid;
	const char *p = s;
	unsigned long long v;
	char *e;

	memset(&sid, 0, sizeof(sid));
	if ((p[0] != 'S' && p[0] != 's') || p[1] != '-')
		return false;
	p += 2;
	if (!isdigit((unsigned char)*p))
		return false;
	errno = 0;
	v = strtoull(p, &e, 10);
	if (errno || v != 1 || *e != '-')
		return false;
	sid.revision = 1;
	p = e + 1;
	if (!isdigit((unsigned char)*p))
		return false;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		if (!hex_authority(&v, p + 2))
			return false;
		p += 2 + 12;
	} else {
		errno = 0;
		v = strtoull(p, &e, 10);
		if (errno || v > 0xFFFFFFFFFFFFull)
			return false;
		p = e;
	}
	sid.authority = v;
	while (*p == '-' && isdigit((unsigned char)p[1])) {
		if (sid.sub_count == IPAM_SID_MAX_SUBAUTH)
			return false;
		errno = 0;
		v = strtoull(p + 1, &e, 10);
		if (errno || v > UINT32_MAX)
			return false;
		sid.sub[sid.sub_count++] = (uint32_t)v;
		p = e;
	}
	*out = sid;
	*end = p;
	return true;
}

static int sid_parse_numeric(struct ipam_sid *out, const char *s,
			     const char **end)
{
	if (!sid_scan(out, s, end))
		return ipam_error_set(IPAM_EINVAL, "invalid SID '%.80s'", s);
	return 0;
}

/*
 * Canonical means it reads back to the same text: what the scanner
 * accepts beyond the canonical form (lower-case "s-", leading zeros, a
 * hex authority below 2^32, upper-case hex) formats differently.
 */
bool ipam_sid_text_valid(const char *s)
{
	struct ipam_sid sid;
	struct strbuf sb = STRBUF_INIT;
	const char *end;
	bool ok;

	if (!s || !sid_scan(&sid, s, &end) || *end)
		return false;
	ipam_sid_format(&sb, &sid);
	ok = !strcmp(sb.buf, s);
	strbuf_release(&sb);
	return ok;
}

/* A SID at s (alias or numeric); *end gets what follows it. */
int ipam_sid_parse_prefix(struct ipam_sid *out, const char *s, const char **end,
			  const struct ipam_sid *domain)
{
	const char *e;

	if ((s[0] == 'S' || s[0] == 's') && s[1] == '-')
		return sid_parse_numeric(out, s, end);
	for (size_t i = 0; i < ARRAY_SIZE(sid_aliases); i++) {
		const struct sid_alias *a = &sid_aliases[i];

		if (s[0] != a->code[0] || s[1] != a->code[1])
			continue;
		*end = s + 2;
		if (!a->rid)
			return sid_parse_numeric(out, a->sid, &e);
		if (!domain)
			return ipam_error_set(IPAM_EINVAL,
					      "SID alias '%s' needs the domain "
					      "SID",
					      a->code);
		return ipam_sid_append_rid(out, domain, a->rid);
	}
	return ipam_error_set(IPAM_EINVAL, "unknown SID alias '%.2s'", s);
}

int ipam_sid_parse(struct ipam_sid *out, const char *s,
		   const struct ipam_sid *domain)
{
	const char *end;
	int rc = ipam_sid_parse_prefix(out, s, &end, domain);

	if (rc < 0)
		return rc;
	if (*end)
		return ipam_error_set(IPAM_EINVAL, "invalid SID '%.80s'", s);
	return 0;
}

void ipam_sid_to_sddl(struct strbuf *out, const struct ipam_sid *sid,
		      const struct ipam_sid *domain)
{
	struct ipam_sid cand;
	const char *e;

	for (size_t i = 0; i < ARRAY_SIZE(sid_aliases); i++) {
		const struct sid_alias *a = &sid_aliases[i];

		if (a->rid) {
			if (!domain ||
			    ipam_sid_append_rid(&cand, domain, a->rid) < 0)
				continue;
		} else if (sid_parse_numeric(&cand, a->sid, &e) < 0) {
			continue;
		}
		if (ipam_sid_equal(&cand, sid)) {
			strbuf_addstr(out, a->code);
			return;
		}
	}
	ipam_sid_format(out, sid);
}

/* ---- GUIDs ---- */

/* The wire position of each byte in text order: Data1..3 are shown
 * big-endian and stored little-endian. */
static const int text_pos[16] = {3, 2, 1,  0,  5,  4,  7,  6,
				 8, 9, 10, 11, 12, 13, 14, 15};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 36 characters at p, 8-4-4-4-12 hex digits of either case, into the
 * bytes in text order. */
static bool guid_scan(uint8_t text[16], const char *p)
{
	int k = 0;

	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return false;
			continue;
		}
		if (hexval(p[i]) < 0 || hexval(p[i + 1]) < 0)
			return false;
		text[k++] = (uint8_t)(hexval(p[i]) << 4 | hexval(p[i + 1]));
		i++;
	}
	return true;
}

void ipam_guid_from_text_bytes(struct ipam_guid *out, const uint8_t text[16])
{
	for (int i = 0; i < 16; i++)
		out->b[text_pos[i]] = text[i];
}

int ipam_guid_parse(struct ipam_guid *out, const char *s)
{
	const char *p = s;
	size_t n = strlen(s);
	uint8_t text[16];

	if (n == 38 && s[0] == '{' && s[37] == '}') {
		p = s + 1;
		n = 36;
	}
	if (n != 36 || !guid_scan(text, p))
		return ipam_error_set(IPAM_EINVAL, "invalid GUID '%.40s'", s);
	ipam_guid_from_text_bytes(out, text);
	return 0;
}

bool ipam_guid_text_valid(const char *s, bool braced)
{
	uint8_t text[16];
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (braced)
		return n == 38 && s[0] == '{' && s[37] == '}' &&
		       guid_scan(text, s + 1);
	return n == 36 && guid_scan(text, s);
}

void ipam_guid_format(struct strbuf *out, const struct ipam_guid *g)
{
	ipam_guid_format_as(out, g, 0);
}

void ipam_guid_format_as(struct strbuf *out, const struct ipam_guid *g,
			 unsigned flags)
{
	const char *hex = flags & IPAM_GUID_UPPER ? "0123456789ABCDEF"
						  : "0123456789abcdef";

	if (flags & IPAM_GUID_BRACES)
		strbuf_addch(out, '{');
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			strbuf_addch(out, '-');
		strbuf_addch(out, hex[g->b[text_pos[i]] >> 4]);
		strbuf_addch(out, hex[g->b[text_pos[i]] & 0xF]);
	}
	if (flags & IPAM_GUID_BRACES)
		strbuf_addch(out, '}');
}
