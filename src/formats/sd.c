#include "sd.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

#define SD_HEADER_SIZE	20
#define ACL_HEADER_SIZE 8
#define ACE_HEADER_SIZE 4
#define MAX_FIELD	0xFFFFu

const struct ipam_guid ipam_guid_apply_group_policy = {
	{0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11, 0xb4, 0x1d, 0x00, 0xa0,
	 0xc9, 0x68, 0xf9, 0x39}};

/* Little-endian access; callers have checked the bounds. */
static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xff);
	p[1] = (unsigned char)((v >> 8) & 0xff);
	p[2] = (unsigned char)((v >> 16) & 0xff);
	p[3] = (unsigned char)(v >> 24);
}

static void add16(struct strbuf *sb, uint16_t v)
{
	unsigned char b[2];

	put16(b, v);
	strbuf_add(sb, b, 2);
}

static void add32(struct strbuf *sb, uint32_t v)
{
	unsigned char b[4];

	put32(b, v);
	strbuf_add(sb, b, 4);
}

/* ---- SIDs ---- */

static size_t sid_size(const struct ipam_sid *sid)
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
	need = sid_size(&sid);
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

/* Numeric "S-1-…" at s; *end gets the first character after it. */
static int sid_parse_numeric(struct ipam_sid *out, const char *s,
			     const char **end)
{
	struct ipam_sid sid;
	const char *p = s;
	unsigned long long v;
	char *e;

	memset(&sid, 0, sizeof(sid));
	if ((p[0] != 'S' && p[0] != 's') || p[1] != '-')
		goto bad;
	p += 2;
	if (!isdigit((unsigned char)*p))
		goto bad;
	errno = 0;
	v = strtoull(p, &e, 10);
	if (errno || v != 1 || *e != '-')
		goto bad;
	sid.revision = 1;
	p = e + 1;
	if (!isdigit((unsigned char)*p))
		goto bad;
	errno = 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		v = strtoull(p + 2, &e, 16);
	else
		v = strtoull(p, &e, 10);
	if (errno || v > 0xFFFFFFFFFFFFull || e == p)
		goto bad;
	sid.authority = v;
	p = e;
	while (*p == '-' && isdigit((unsigned char)p[1])) {
		if (sid.sub_count == IPAM_SID_MAX_SUBAUTH)
			goto bad;
		errno = 0;
		v = strtoull(p + 1, &e, 10);
		if (errno || v > UINT32_MAX)
			goto bad;
		sid.sub[sid.sub_count++] = (uint32_t)v;
		p = e;
	}
	*out = sid;
	*end = p;
	return 0;
bad:
	return ipam_error_set(IPAM_EINVAL, "invalid SID '%.80s'", s);
}

/* A SID at s (alias or numeric); *end gets what follows it. */
static int sid_parse_prefix(struct ipam_sid *out, const char *s,
			    const char **end, const struct ipam_sid *domain)
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
	int rc = sid_parse_prefix(out, s, &end, domain);

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

int ipam_guid_parse(struct ipam_guid *out, const char *s)
{
	/* Text order of the bytes: Data1..3 are shown big-endian. */
	static const int pos[16] = {3, 2, 1,  0,  5,  4,  7,  6,
				    8, 9, 10, 11, 12, 13, 14, 15};
	const char *p = s;
	size_t n = strlen(s);
	uint8_t text[16];
	int k = 0;

	if (n == 38 && s[0] == '{' && s[37] == '}') {
		p = s + 1;
		n = 36;
	}
	if (n != 36)
		goto bad;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				goto bad;
			continue;
		}
		if (hexval(p[i]) < 0 || hexval(p[i + 1]) < 0)
			goto bad;
		text[k++] = (uint8_t)(hexval(p[i]) << 4 | hexval(p[i + 1]));
		i++;
	}
	for (int i = 0; i < 16; i++)
		out->b[pos[i]] = text[i];
	return 0;
bad:
	return ipam_error_set(IPAM_EINVAL, "invalid GUID '%.40s'", s);
}

void ipam_guid_format(struct strbuf *out, const struct ipam_guid *g)
{
	const uint8_t *b = g->b;

	strbuf_addf(out,
		    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		    "%02x%02x%02x%02x%02x%02x",
		    b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
		    b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- ACEs and ACLs ---- */

static bool type_is_basic(uint8_t t)
{
	return t == IPAM_ACE_ALLOWED || t == IPAM_ACE_DENIED ||
	       t == IPAM_ACE_AUDIT || t == IPAM_ACE_ALARM;
}

static bool type_is_object(uint8_t t)
{
	return t == IPAM_ACE_ALLOWED_OBJECT || t == IPAM_ACE_DENIED_OBJECT ||
	       t == IPAM_ACE_AUDIT_OBJECT || t == IPAM_ACE_ALARM_OBJECT;
}

void ipam_ace_clear(struct ipam_ace *ace)
{
	if (!ace)
		return;
	free(ace->extra);
	ace->extra = NULL;
	ace->extra_len = 0;
}

static void ace_copy(struct ipam_ace *dst, const struct ipam_ace *src)
{
	*dst = *src;
	dst->extra = NULL;
	if (src->extra_len) {
		dst->extra = xmalloc(src->extra_len);
		memcpy(dst->extra, src->extra, src->extra_len);
	}
}

bool ipam_ace_equal(const struct ipam_ace *a, const struct ipam_ace *b)
{
	if (a->type != b->type || a->flags != b->flags || a->mask != b->mask)
		return false;
	if (a->extra_len != b->extra_len ||
	    (a->extra_len && memcmp(a->extra, b->extra, a->extra_len)))
		return false;
	if (!type_is_basic(a->type) && !type_is_object(a->type))
		return true; /* opaque: the body is all in extra */
	if (!ipam_sid_equal(&a->sid, &b->sid))
		return false;
	if (!type_is_object(a->type))
		return true;
	if (a->has_object_type != b->has_object_type ||
	    a->has_inherited_object_type != b->has_inherited_object_type)
		return false;
	if (a->has_object_type &&
	    memcmp(&a->object_type, &b->object_type, sizeof(a->object_type)))
		return false;
	if (a->has_inherited_object_type &&
	    memcmp(&a->inherited_object_type, &b->inherited_object_type,
		   sizeof(a->inherited_object_type)))
		return false;
	return true;
}

static void acl_free(struct ipam_acl *acl)
{
	if (!acl)
		return;
	for (size_t i = 0; i < acl->count; i++)
		ipam_ace_clear(&acl->aces[i]);
	free(acl->aces);
	free(acl);
}

static struct ipam_acl *acl_dup(const struct ipam_acl *src)
{
	struct ipam_acl *acl;

	if (!src)
		return NULL;
	acl = xcalloc(1, sizeof(*acl));
	acl->revision = src->revision;
	if (src->count) {
		acl->aces = xcalloc(src->count, sizeof(*acl->aces));
		acl->alloc = src->count;
	}
	for (size_t i = 0; i < src->count; i++)
		ace_copy(&acl->aces[i], &src->aces[i]);
	acl->count = src->count;
	return acl;
}

/* One ACE of exactly size bytes at p. */
static int ace_parse(struct ipam_ace *ace, const unsigned char *p, size_t size)
{
	size_t off = ACE_HEADER_SIZE, used;
	int rc;

	memset(ace, 0, sizeof(*ace));
	ace->type = p[0];
	ace->flags = p[1];
	if (type_is_basic(ace->type) || type_is_object(ace->type)) {
		if (size < off + 4)
			return ipam_error_set(IPAM_EINVAL,
					      "ACE of %zu bytes has no mask",
					      size);
		ace->mask = get32(p + off);
		off += 4;
		if (type_is_object(ace->type)) {
			uint32_t of;

			if (size < off + 4)
				return ipam_error_set(IPAM_EINVAL,
						      "object ACE of %zu bytes "
						      "has no flags",
						      size);
			of = get32(p + off);
			off += 4;
			if (of & ~3u)
				return ipam_error_set(IPAM_EINVAL,
						      "object ACE flags 0x%x",
						      of);
			ace->has_object_type = of & 1;
			ace->has_inherited_object_type = (of & 2) != 0;
			if (ace->has_object_type) {
				if (size < off + 16)
					goto short_guid;
				memcpy(ace->object_type.b, p + off, 16);
				off += 16;
			}
			if (ace->has_inherited_object_type) {
				if (size < off + 16)
					goto short_guid;
				memcpy(ace->inherited_object_type.b, p + off,
				       16);
				off += 16;
			}
		}
		rc = ipam_sid_from_bin(&ace->sid, &used, p + off, size - off);
		if (rc < 0)
			return ipam_error_prefix(rc, "ACE");
		off += used;
	}
	if (size > off) {
		ace->extra_len = size - off;
		ace->extra = xmalloc(ace->extra_len);
		memcpy(ace->extra, p + off, ace->extra_len);
	}
	return 0;
short_guid:
	return ipam_error_set(IPAM_EINVAL,
			      "object ACE of %zu bytes: GUID "
			      "past its end",
			      size);
}

/* The ACL at buf + off; *declared gets its aclSize. */
static int acl_parse(struct ipam_acl **out, const unsigned char *buf,
		     size_t len, uint32_t off, size_t *declared)
{
	struct ipam_acl *acl = NULL;
	size_t size, count, pos;
	int rc;

	if (off > len || len - off < ACL_HEADER_SIZE)
		return ipam_error_set(IPAM_EINVAL,
				      "ACL at offset %" PRIu32
				      " is past the end (%zu bytes)",
				      off, len);
	size = get16(buf + off + 2);
	count = get16(buf + off + 4);
	if (size < ACL_HEADER_SIZE || size > len - off)
		return ipam_error_set(IPAM_EINVAL,
				      "ACL at offset %" PRIu32
				      ": size %zu does not fit in %zu bytes",
				      off, size, len - off);
	if (buf[off] == 0)
		return ipam_error_set(IPAM_EINVAL, "ACL revision 0");
	/* The smallest ACE is its 4-byte header. */
	if (count > (size - ACL_HEADER_SIZE) / ACE_HEADER_SIZE)
		return ipam_error_set(IPAM_EINVAL,
				      "ACL claims %zu ACEs in %zu bytes", count,
				      size);
	acl = xcalloc(1, sizeof(*acl));
	acl->revision = buf[off];
	if (count) {
		acl->aces = xcalloc(count, sizeof(*acl->aces));
		acl->alloc = count;
	}
	pos = ACL_HEADER_SIZE;
	for (size_t i = 0; i < count; i++) {
		const unsigned char *p = buf + off + pos;
		size_t ace_size;

		if (size - pos < ACE_HEADER_SIZE) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "ACE %zu starts past the ACL end",
					    i);
			goto fail;
		}
		ace_size = get16(p + 2);
		if (ace_size < ACE_HEADER_SIZE || ace_size % 4 ||
		    ace_size > size - pos) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "ACE %zu: size %zu (%zu bytes "
					    "left in the ACL)",
					    i, ace_size, size - pos);
			goto fail;
		}
		rc = ace_parse(&acl->aces[i], p, ace_size);
		acl->count = i + 1;
		if (rc < 0) {
			ipam_error_prefix(rc, "ACE %zu", i);
			goto fail;
		}
		pos += ace_size;
	}
	*declared = size;
	*out = acl;
	return 0;
fail:
	acl_free(acl);
	return rc;
}

static bool acl_has_object_ace(const struct ipam_acl *acl)
{
	for (size_t i = 0; i < acl->count; i++)
		if (type_is_object(acl->aces[i].type))
			return true;
	return false;
}

static size_t ace_body_size(const struct ipam_ace *ace)
{
	size_t n = 0;

	if (type_is_basic(ace->type) || type_is_object(ace->type)) {
		n = 4 + sid_size(&ace->sid);
		if (type_is_object(ace->type))
			n += 4 + (ace->has_object_type ? 16 : 0) +
			     (ace->has_inherited_object_type ? 16 : 0);
	}
	return n + ace->extra_len;
}

static size_t ace_size(const struct ipam_ace *ace)
{
	return (ACE_HEADER_SIZE + ace_body_size(ace) + 3) & ~(size_t)3;
}

static size_t acl_size(const struct ipam_acl *acl)
{
	size_t n = ACL_HEADER_SIZE;

	for (size_t i = 0; i < acl->count; i++)
		n += ace_size(&acl->aces[i]);
	return n;
}

static int acl_write(struct strbuf *out, const struct ipam_acl *acl)
{
	size_t size = acl_size(acl);
	uint8_t rev = acl_has_object_ace(acl) ? 4 : 2;

	if (acl->revision > rev)
		rev = acl->revision;
	if (size > MAX_FIELD || acl->count > MAX_FIELD)
		return ipam_error_set(IPAM_ELIMIT,
				      "ACL of %zu ACEs needs %zu bytes, at "
				      "most %u fit",
				      acl->count, size, MAX_FIELD);
	strbuf_addch(out, rev);
	strbuf_addch(out, 0);
	add16(out, (uint16_t)size);
	add16(out, (uint16_t)acl->count);
	add16(out, 0);
	for (size_t i = 0; i < acl->count; i++) {
		const struct ipam_ace *ace = &acl->aces[i];
		size_t sz = ace_size(ace), start = out->len;

		strbuf_addch(out, ace->type);
		strbuf_addch(out, ace->flags);
		add16(out, (uint16_t)sz);
		if (type_is_basic(ace->type) || type_is_object(ace->type)) {
			add32(out, ace->mask);
			if (type_is_object(ace->type)) {
				add32(out,
				      (ace->has_object_type ? 1u : 0u) |
					      (ace->has_inherited_object_type
						       ? 2u
						       : 0u));
				if (ace->has_object_type)
					strbuf_add(out, ace->object_type.b, 16);
				if (ace->has_inherited_object_type)
					strbuf_add(out,
						   ace->inherited_object_type.b,
						   16);
			}
			ipam_sid_to_bin(out, &ace->sid);
		}
		if (ace->extra_len)
			strbuf_add(out, ace->extra, ace->extra_len);
		while (out->len - start < sz)
			strbuf_addch(out, 0);
	}
	return 0;
}

/* ---- Descriptors ---- */

struct ipam_sd *ipam_sd_new(void)
{
	struct ipam_sd *sd = xcalloc(1, sizeof(*sd));

	sd->revision = 1;
	sd->control = IPAM_SD_SELF_RELATIVE;
	return sd;
}

void ipam_sd_free(struct ipam_sd *sd)
{
	if (!sd)
		return;
	acl_free(sd->dacl);
	acl_free(sd->sacl);
	free(sd);
}

struct ipam_sd *ipam_sd_dup(const struct ipam_sd *src)
{
	struct ipam_sd *sd = xcalloc(1, sizeof(*sd));

	*sd = *src;
	sd->dacl = acl_dup(src->dacl);
	sd->sacl = acl_dup(src->sacl);
	return sd;
}

enum { PART_OWNER, PART_GROUP, PART_SACL, PART_DACL, PART_N };

/* Offsets ipam_sd_write gives the parts in this layout; returns the total
 * size. */
static size_t layout_offsets(const struct ipam_sd *sd,
			     enum ipam_sd_layout layout, uint32_t off[PART_N])
{
	static const int samba[PART_N] = {PART_OWNER, PART_GROUP, PART_SACL,
					  PART_DACL};
	static const int windows[PART_N] = {PART_SACL, PART_DACL, PART_OWNER,
					    PART_GROUP};
	const int *order = layout == IPAM_SD_LAYOUT_WINDOWS ? windows : samba;
	size_t cur = SD_HEADER_SIZE;

	for (int i = 0; i < PART_N; i++) {
		size_t n = 0;

		switch (order[i]) {
		case PART_OWNER:
			n = sd->has_owner ? sid_size(&sd->owner) : 0;
			break;
		case PART_GROUP:
			n = sd->has_group ? sid_size(&sd->group) : 0;
			break;
		case PART_SACL:
			n = sd->sacl ? acl_size(sd->sacl) : 0;
			break;
		case PART_DACL:
			n = sd->dacl ? acl_size(sd->dacl) : 0;
			break;
		}
		off[order[i]] = n ? (uint32_t)cur : 0;
		cur += n;
	}
	return cur;
}

int ipam_sd_parse(struct ipam_sd **out, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	struct ipam_sd *sd = NULL;
	uint32_t off[PART_N], want[PART_N];
	size_t declared[PART_N] = {0}, end = SD_HEADER_SIZE, used;
	int rc;

	*out = NULL;
	if (len < SD_HEADER_SIZE)
		return ipam_error_set(IPAM_EINVAL,
				      "security descriptor of %zu bytes, need "
				      "at least %d",
				      len, SD_HEADER_SIZE);
	if (p[0] != 1)
		return ipam_error_set(IPAM_EINVAL,
				      "security descriptor revision %u, want 1",
				      p[0]);
	sd = ipam_sd_new();
	sd->sbz1 = p[1];
	sd->control = get16(p + 2);
	if (!(sd->control & IPAM_SD_SELF_RELATIVE)) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "security descriptor is not self-relative "
				    "(control 0x%04x)",
				    sd->control);
		goto fail;
	}
	off[PART_OWNER] = get32(p + 4);
	off[PART_GROUP] = get32(p + 8);
	off[PART_SACL] = get32(p + 12);
	off[PART_DACL] = get32(p + 16);
	for (int i = 0; i < PART_N; i++) {
		if (off[i] && (off[i] < SD_HEADER_SIZE || off[i] >= len)) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "security descriptor: offset "
					    "%" PRIu32 " outside 20..%zu",
					    off[i], len);
			goto fail;
		}
	}
	if (off[PART_OWNER]) {
		rc = ipam_sid_from_bin(&sd->owner, &used, p + off[PART_OWNER],
				       len - off[PART_OWNER]);
		if (rc < 0) {
			ipam_error_prefix(rc, "owner");
			goto fail;
		}
		sd->has_owner = true;
		declared[PART_OWNER] = used;
	}
	if (off[PART_GROUP]) {
		rc = ipam_sid_from_bin(&sd->group, &used, p + off[PART_GROUP],
				       len - off[PART_GROUP]);
		if (rc < 0) {
			ipam_error_prefix(rc, "group");
			goto fail;
		}
		sd->has_group = true;
		declared[PART_GROUP] = used;
	}
	if (off[PART_SACL]) {
		rc = acl_parse(&sd->sacl, p, len, off[PART_SACL],
			       &declared[PART_SACL]);
		if (rc < 0) {
			ipam_error_prefix(rc, "SACL");
			goto fail;
		}
	}
	if (off[PART_DACL]) {
		rc = acl_parse(&sd->dacl, p, len, off[PART_DACL],
			       &declared[PART_DACL]);
		if (rc < 0) {
			ipam_error_prefix(rc, "DACL");
			goto fail;
		}
	}
	for (int i = 0; i < PART_N; i++)
		if (off[i] && off[i] + declared[i] > end)
			end = off[i] + declared[i];
	/* Remember Windows' order when the input used it exactly. */
	if (layout_offsets(sd, IPAM_SD_LAYOUT_WINDOWS, want) == end &&
	    !memcmp(want, off, sizeof(off)) &&
	    layout_offsets(sd, IPAM_SD_LAYOUT_SAMBA, want) == end &&
	    memcmp(want, off, sizeof(off)))
		sd->layout = IPAM_SD_LAYOUT_WINDOWS;
	*out = sd;
	return 0;
fail:
	ipam_sd_free(sd);
	return ipam_error_prefix(rc, "security descriptor");
}

int ipam_sd_write(struct strbuf *out, const struct ipam_sd *sd)
{
	static const int samba[PART_N] = {PART_OWNER, PART_GROUP, PART_SACL,
					  PART_DACL};
	static const int windows[PART_N] = {PART_SACL, PART_DACL, PART_OWNER,
					    PART_GROUP};
	const int *order =
		sd->layout == IPAM_SD_LAYOUT_WINDOWS ? windows : samba;
	uint32_t off[PART_N];
	uint16_t control = sd->control | IPAM_SD_SELF_RELATIVE;
	size_t start = out->len;
	int rc;

	layout_offsets(sd, sd->layout, off);
	if (sd->dacl)
		control |= IPAM_SD_DACL_PRESENT;
	if (sd->sacl)
		control |= IPAM_SD_SACL_PRESENT;
	strbuf_addch(out, sd->revision ? sd->revision : 1);
	strbuf_addch(out, sd->sbz1);
	add16(out, control);
	add32(out, off[PART_OWNER]);
	add32(out, off[PART_GROUP]);
	add32(out, off[PART_SACL]);
	add32(out, off[PART_DACL]);
	for (int i = 0; i < PART_N; i++) {
		switch (order[i]) {
		case PART_OWNER:
			if (sd->has_owner)
				ipam_sid_to_bin(out, &sd->owner);
			break;
		case PART_GROUP:
			if (sd->has_group)
				ipam_sid_to_bin(out, &sd->group);
			break;
		case PART_SACL:
			if (sd->sacl && (rc = acl_write(out, sd->sacl)) < 0)
				goto fail;
			break;
		case PART_DACL:
			if (sd->dacl && (rc = acl_write(out, sd->dacl)) < 0)
				goto fail;
			break;
		}
	}
	return 0;
fail:
	strbuf_grow(out, 0);
	out->len = start;
	out->buf[start] = '\0';
	return ipam_error_prefix(rc, "writing security descriptor");
}

/* ---- SDDL ---- */

struct letter {
	const char name[3];
	uint32_t bit;
};

/* Samba 4.17's output order. */
static const struct letter rights_letters[] = {
	{"RP", IPAM_SD_RIGHT_RP}, {"WP", IPAM_SD_RIGHT_WP},
	{"CR", IPAM_SD_RIGHT_CR}, {"CC", IPAM_SD_RIGHT_CC},
	{"DC", IPAM_SD_RIGHT_DC}, {"LC", IPAM_SD_RIGHT_LC},
	{"LO", IPAM_SD_RIGHT_LO}, {"RC", IPAM_SD_RIGHT_RC},
	{"WO", IPAM_SD_RIGHT_WO}, {"WD", IPAM_SD_RIGHT_WD},
	{"SD", IPAM_SD_RIGHT_SD}, {"DT", IPAM_SD_RIGHT_DT},
	{"SW", IPAM_SD_RIGHT_SW}, {"GA", 0x10000000u},
	{"GR", 0x80000000u},	  {"GW", 0x40000000u},
	{"GX", 0x20000000u},
};

/* Accepted on input only (MS-DTYP 2.5.1.1 file rights). */
static const struct letter file_rights_letters[] = {
	{"FA", 0x001F01FFu},
	{"FR", 0x00120089u},
	{"FW", 0x00120116u},
	{"FX", 0x001200A0u},
};

static const struct letter ace_flag_letters[] = {
	{"OI", IPAM_ACE_OI}, {"CI", IPAM_ACE_CI}, {"NP", IPAM_ACE_NP},
	{"IO", IPAM_ACE_IO}, {"ID", IPAM_ACE_ID}, {"SA", IPAM_ACE_SA},
	{"FA", IPAM_ACE_FA},
};

static const struct {
	const char *name;
	uint8_t type;
} ace_type_names[] = {
	{"A", IPAM_ACE_ALLOWED},	 {"D", IPAM_ACE_DENIED},
	{"AU", IPAM_ACE_AUDIT},		 {"AL", IPAM_ACE_ALARM},
	{"OA", IPAM_ACE_ALLOWED_OBJECT}, {"OD", IPAM_ACE_DENIED_OBJECT},
	{"OU", IPAM_ACE_AUDIT_OBJECT},	 {"OL", IPAM_ACE_ALARM_OBJECT},
};

static void rights_to_sddl(struct strbuf *out, uint32_t mask)
{
	uint32_t known = 0;

	for (size_t i = 0; i < ARRAY_SIZE(rights_letters); i++)
		known |= rights_letters[i].bit;
	if (mask & ~known) {
		strbuf_addf(out, "0x%08" PRIx32, mask);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(rights_letters); i++)
		if (mask & rights_letters[i].bit)
			strbuf_addstr(out, rights_letters[i].name);
}

static int ace_to_sddl(struct strbuf *out, const struct ipam_ace *ace,
		       const struct ipam_sid *domain)
{
	const char *tname = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(ace_type_names); i++)
		if (ace_type_names[i].type == ace->type)
			tname = ace_type_names[i].name;
	if (!tname)
		return ipam_error_set(
			IPAM_EINVAL, "ACE type %u has no SDDL form", ace->type);
	if (ace->extra_len)
		return ipam_error_set(IPAM_EINVAL,
				      "ACE with %zu bytes after its SID has no "
				      "SDDL form",
				      ace->extra_len);
	strbuf_addf(out, "(%s;", tname);
	for (size_t i = 0; i < ARRAY_SIZE(ace_flag_letters); i++)
		if (ace->flags & ace_flag_letters[i].bit)
			strbuf_addstr(out, ace_flag_letters[i].name);
	if (ace->flags & 0x20)
		return ipam_error_set(IPAM_EINVAL,
				      "ACE flag 0x20 has no SDDL form");
	strbuf_addch(out, ';');
	rights_to_sddl(out, ace->mask);
	strbuf_addch(out, ';');
	if (ace->has_object_type)
		ipam_guid_format(out, &ace->object_type);
	strbuf_addch(out, ';');
	if (ace->has_inherited_object_type)
		ipam_guid_format(out, &ace->inherited_object_type);
	strbuf_addch(out, ';');
	ipam_sid_to_sddl(out, &ace->sid, domain);
	strbuf_addch(out, ')');
	return 0;
}

static int acl_to_sddl(struct strbuf *out, const struct ipam_acl *acl,
		       uint16_t control, bool sacl,
		       const struct ipam_sid *domain)
{
	uint16_t p = sacl ? IPAM_SD_SACL_PROTECTED : IPAM_SD_DACL_PROTECTED;
	uint16_t ar =
		sacl ? IPAM_SD_SACL_AUTO_INH_REQ : IPAM_SD_DACL_AUTO_INH_REQ;
	uint16_t ai = sacl ? IPAM_SD_SACL_AUTO_INH : IPAM_SD_DACL_AUTO_INH;
	int rc;

	strbuf_addstr(out, sacl ? "S:" : "D:");
	if (control & p)
		strbuf_addch(out, 'P');
	if (control & ar)
		strbuf_addstr(out, "AR");
	if (control & ai)
		strbuf_addstr(out, "AI");
	for (size_t i = 0; i < acl->count; i++)
		if ((rc = ace_to_sddl(out, &acl->aces[i], domain)) < 0)
			return ipam_error_prefix(rc, "%s ACE %zu",
						 sacl ? "SACL" : "DACL", i);
	return 0;
}

int ipam_sd_to_sddl(struct strbuf *out, const struct ipam_sd *sd,
		    const struct ipam_sid *domain)
{
	size_t start = out->len;
	int rc = 0;

	if (sd->has_owner) {
		strbuf_addstr(out, "O:");
		ipam_sid_to_sddl(out, &sd->owner, domain);
	}
	if (sd->has_group) {
		strbuf_addstr(out, "G:");
		ipam_sid_to_sddl(out, &sd->group, domain);
	}
	if (sd->dacl)
		rc = acl_to_sddl(out, sd->dacl, sd->control, false, domain);
	if (rc == 0 && sd->sacl)
		rc = acl_to_sddl(out, sd->sacl, sd->control, true, domain);
	if (rc < 0) {
		out->len = start;
		out->buf[start] = '\0';
	}
	return rc;
}

static bool match_letter(const struct letter *tab, size_t n, const char *s,
			 uint32_t *bit)
{
	for (size_t i = 0; i < n; i++)
		if (s[0] == tab[i].name[0] && s[1] == tab[i].name[1]) {
			*bit = tab[i].bit;
			return true;
		}
	return false;
}

/* Field [s, e) of an ACE as an access mask. */
static int rights_from_sddl(uint32_t *mask, const char *s, const char *e)
{
	uint32_t m = 0, bit;

	if (s < e && isdigit((unsigned char)*s)) {
		char tmp[16];
		unsigned long long v;
		char *end;

		if ((size_t)(e - s) >= sizeof(tmp))
			goto bad;
		memcpy(tmp, s, (size_t)(e - s));
		tmp[e - s] = '\0';
		errno = 0;
		v = strtoull(tmp, &end, 0);
		if (errno || *end || v > UINT32_MAX)
			goto bad;
		*mask = (uint32_t)v;
		return 0;
	}
	while (s < e) {
		if (e - s < 2 ||
		    (!match_letter(rights_letters, ARRAY_SIZE(rights_letters),
				   s, &bit) &&
		     !match_letter(file_rights_letters,
				   ARRAY_SIZE(file_rights_letters), s, &bit)))
			goto bad;
		m |= bit;
		s += 2;
	}
	*mask = m;
	return 0;
bad:
	return ipam_error_set(IPAM_EINVAL, "invalid access rights '%.*s'",
			      (int)(e - s), s);
}

static int guid_field(struct ipam_guid *g, bool *has, const char *s,
		      const char *e)
{
	char tmp[40];

	*has = false;
	if (s == e)
		return 0;
	if (e - s != 36)
		return ipam_error_set(IPAM_EINVAL, "invalid GUID '%.*s'",
				      (int)(e - s), s);
	memcpy(tmp, s, 36);
	tmp[36] = '\0';
	*has = true;
	return ipam_guid_parse(g, tmp);
}

/* One "(…)" ACE at *sp; advances *sp past it. */
static int ace_from_sddl(struct ipam_ace *ace, const char **sp,
			 const struct ipam_sid *domain)
{
	const char *s = *sp + 1, *f[6], *close;
	size_t nf = 0;
	uint32_t bit;
	bool found = false;
	int rc;

	memset(ace, 0, sizeof(*ace));
	close = strchr(s, ')');
	if (!close)
		return ipam_error_set(IPAM_EINVAL, "ACE '%.40s' has no ')'",
				      *sp);
	f[nf++] = s;
	for (const char *p = s; p < close; p++) {
		if (*p != ';')
			continue;
		if (nf == 6)
			goto bad;
		f[nf++] = p + 1;
	}
	if (nf != 6)
		goto bad;
		/* field i is [f[i], end(i)) */
#define FEND(i) ((i) == 5 ? close : f[(i) + 1] - 1)
	for (size_t i = 0; i < ARRAY_SIZE(ace_type_names); i++) {
		const char *n = ace_type_names[i].name;

		if ((size_t)(FEND(0) - f[0]) == strlen(n) &&
		    !memcmp(f[0], n, strlen(n))) {
			ace->type = ace_type_names[i].type;
			found = true;
		}
	}
	if (!found)
		goto bad;
	for (const char *p = f[1]; p < FEND(1); p += 2) {
		if (FEND(1) - p < 2 ||
		    !match_letter(ace_flag_letters,
				  ARRAY_SIZE(ace_flag_letters), p, &bit))
			goto bad;
		ace->flags |= (uint8_t)bit;
	}
	if ((rc = rights_from_sddl(&ace->mask, f[2], FEND(2))) < 0)
		return rc;
	if ((rc = guid_field(&ace->object_type, &ace->has_object_type, f[3],
			     FEND(3))) < 0 ||
	    (rc = guid_field(&ace->inherited_object_type,
			     &ace->has_inherited_object_type, f[4], FEND(4))) <
		    0)
		return rc;
	if (!type_is_object(ace->type) &&
	    (ace->has_object_type || ace->has_inherited_object_type))
		goto bad;
	{
		const char *end;

		rc = sid_parse_prefix(&ace->sid, f[5], &end, domain);
		if (rc < 0)
			return rc;
		if (end != close)
			goto bad;
	}
#undef FEND
	*sp = close + 1;
	return 0;
bad:
	return ipam_error_set(IPAM_EINVAL, "invalid ACE '%.*s'",
			      (int)(close - *sp + 1), *sp);
}

static int acl_from_sddl(struct ipam_acl **out, uint16_t *control,
			 const char **sp, bool sacl,
			 const struct ipam_sid *domain)
{
	const char *s = *sp;
	struct ipam_acl *acl = xcalloc(1, sizeof(*acl));
	int rc;

	for (;;) {
		if (s[0] == 'P') {
			*control |= sacl ? IPAM_SD_SACL_PROTECTED
					 : IPAM_SD_DACL_PROTECTED;
			s++;
		} else if (s[0] == 'A' && s[1] == 'R') {
			*control |= sacl ? IPAM_SD_SACL_AUTO_INH_REQ
					 : IPAM_SD_DACL_AUTO_INH_REQ;
			s += 2;
		} else if (s[0] == 'A' && s[1] == 'I') {
			*control |= sacl ? IPAM_SD_SACL_AUTO_INH
					 : IPAM_SD_DACL_AUTO_INH;
			s += 2;
		} else {
			break;
		}
	}
	while (*s == '(') {
		struct ipam_ace ace;

		if (acl->count >= MAX_FIELD) {
			rc = ipam_error_set(IPAM_ELIMIT, "more than %u ACEs",
					    MAX_FIELD);
			goto fail;
		}
		if ((rc = ace_from_sddl(&ace, &s, domain)) < 0) {
			ipam_error_prefix(rc, "ACE %zu", acl->count);
			goto fail;
		}
		ALLOC_GROW(acl->aces, acl->count + 1, acl->alloc);
		acl->aces[acl->count++] = ace;
	}
	*control |= sacl ? IPAM_SD_SACL_PRESENT : IPAM_SD_DACL_PRESENT;
	*out = acl;
	*sp = s;
	return 0;
fail:
	acl_free(acl);
	return rc;
}

int ipam_sd_from_sddl(struct ipam_sd **out, const char *sddl,
		      const struct ipam_sid *domain)
{
	struct ipam_sd *sd = ipam_sd_new();
	const char *s = sddl;
	int rc;

	*out = NULL;
	while (*s) {
		char part = s[0];

		if (s[1] != ':')
			goto bad;
		s += 2;
		switch (part) {
		case 'O':
		case 'G': {
			struct ipam_sid *sid =
				part == 'O' ? &sd->owner : &sd->group;
			bool *has =
				part == 'O' ? &sd->has_owner : &sd->has_group;

			if (*has)
				goto bad;
			if ((rc = sid_parse_prefix(sid, s, &s, domain)) < 0)
				goto fail;
			*has = true;
			break;
		}
		case 'D':
		case 'S': {
			struct ipam_acl **acl =
				part == 'D' ? &sd->dacl : &sd->sacl;

			if (*acl)
				goto bad;
			if ((rc = acl_from_sddl(acl, &sd->control, &s,
						part == 'S', domain)) < 0)
				goto fail;
			break;
		}
		default:
			goto bad;
		}
	}
	*out = sd;
	return 0;
bad:
	rc = ipam_error_set(IPAM_EINVAL, "unexpected '%.20s'", s);
fail:
	ipam_sd_free(sd);
	return ipam_error_prefix(rc, "SDDL '%.60s%s'", sddl,
				 strlen(sddl) > 60 ? "…" : "");
}

/* ---- Editing ---- */

/* Windows' canonical classes: explicit deny, explicit deny-object, other
 * explicit ACEs, inherited ACEs. */
static int ace_class(const struct ipam_ace *ace)
{
	if (ace->flags & IPAM_ACE_ID)
		return 3;
	if (ace->type == IPAM_ACE_DENIED)
		return 0;
	if (ace->type == IPAM_ACE_DENIED_OBJECT)
		return 1;
	return 2;
}

long ipam_sd_ace_find(const struct ipam_sd *sd, const struct ipam_ace *ace)
{
	if (!sd->dacl)
		return -1;
	for (size_t i = 0; i < sd->dacl->count; i++)
		if (ipam_ace_equal(&sd->dacl->aces[i], ace))
			return (long)i;
	return -1;
}

int ipam_sd_ace_add(struct ipam_sd *sd, const struct ipam_ace *ace)
{
	struct ipam_acl *acl;
	size_t pos;
	int cls = ace_class(ace);

	if (ipam_sd_ace_find(sd, ace) >= 0)
		return 0;
	if (!sd->dacl) {
		sd->dacl = xcalloc(1, sizeof(*sd->dacl));
		sd->control |= IPAM_SD_DACL_PRESENT;
	}
	acl = sd->dacl;
	if (acl->count >= MAX_FIELD)
		return ipam_error_set(
			IPAM_ELIMIT, "DACL already holds %zu ACEs", acl->count);
	for (pos = 0; pos < acl->count; pos++)
		if (ace_class(&acl->aces[pos]) > cls)
			break;
	ALLOC_GROW(acl->aces, acl->count + 1, acl->alloc);
	memmove(&acl->aces[pos + 1], &acl->aces[pos],
		(acl->count - pos) * sizeof(*acl->aces));
	ace_copy(&acl->aces[pos], ace);
	acl->count++;
	return 1;
}

static int remove_if(struct ipam_sd *sd, const struct ipam_ace *exact,
		     uint8_t type, const struct ipam_sid *sid,
		     const struct ipam_guid *object_type)
{
	struct ipam_acl *acl = sd->dacl;
	size_t j = 0;
	int removed = 0;

	if (!acl)
		return 0;
	for (size_t i = 0; i < acl->count; i++) {
		struct ipam_ace *a = &acl->aces[i];
		bool match;

		if (exact)
			match = ipam_ace_equal(a, exact);
		else
			match = !(a->flags & IPAM_ACE_ID) && a->type == type &&
				(type_is_basic(type) || type_is_object(type)) &&
				ipam_sid_equal(&a->sid, sid) &&
				(!object_type ||
				 (a->has_object_type &&
				  !memcmp(&a->object_type, object_type,
					  sizeof(*object_type))));
		if (match) {
			ipam_ace_clear(a);
			removed++;
			continue;
		}
		acl->aces[j++] = *a;
	}
	acl->count = j;
	return removed;
}

int ipam_sd_ace_remove(struct ipam_sd *sd, uint8_t type,
		       const struct ipam_sid *sid,
		       const struct ipam_guid *object_type)
{
	return remove_if(sd, NULL, type, sid, object_type);
}

void ipam_sd_canonicalize(struct ipam_sd *sd)
{
	struct ipam_acl *acl = sd->dacl;
	struct ipam_ace *sorted;
	size_t n = 0;

	if (!acl || acl->count < 2)
		return;
	sorted = xcalloc(acl->count, sizeof(*sorted));
	for (int cls = 0; cls <= 3; cls++)
		for (size_t i = 0; i < acl->count; i++)
			if (ace_class(&acl->aces[i]) == cls)
				sorted[n++] = acl->aces[i];
	free(acl->aces);
	acl->aces = sorted;
	acl->alloc = acl->count;
}

/* Every explicit ACE of a has an equal one in b. */
static bool explicit_subset(const struct ipam_acl *a, const struct ipam_acl *b)
{
	if (!a)
		return true;
	for (size_t i = 0; i < a->count; i++) {
		bool found = false;

		if (a->aces[i].flags & IPAM_ACE_ID)
			continue;
		for (size_t k = 0; b && k < b->count && !found; k++)
			found = ipam_ace_equal(&a->aces[i], &b->aces[k]);
		if (!found)
			return false;
	}
	return true;
}

bool ipam_sd_canonical_equal(const struct ipam_sd *a, const struct ipam_sd *b)
{
	return explicit_subset(a->dacl, b->dacl) &&
	       explicit_subset(b->dacl, a->dacl);
}

static void filter_aces(struct ipam_ace *read, struct ipam_ace *apply,
			const struct ipam_sid *sid)
{
	memset(read, 0, sizeof(*read));
	read->type = IPAM_ACE_ALLOWED;
	read->flags = IPAM_ACE_CI;
	read->mask = IPAM_SD_MASK_GPO_READ;
	read->sid = *sid;
	memset(apply, 0, sizeof(*apply));
	apply->type = IPAM_ACE_ALLOWED_OBJECT;
	apply->flags = IPAM_ACE_CI;
	apply->mask = IPAM_SD_MASK_CR;
	apply->has_object_type = true;
	apply->object_type = ipam_guid_apply_group_policy;
	apply->sid = *sid;
}

int ipam_sd_filter_add(struct ipam_sd *sd, const struct ipam_sid *sid)
{
	struct ipam_ace read, apply;
	int a, b;

	filter_aces(&read, &apply, sid);
	if ((a = ipam_sd_ace_add(sd, &read)) < 0)
		return a;
	if ((b = ipam_sd_ace_add(sd, &apply)) < 0)
		return b;
	return a + b;
}

int ipam_sd_filter_remove(struct ipam_sd *sd, const struct ipam_sid *sid)
{
	struct ipam_ace read, apply;

	/* ipamctl's read ACE exactly (another read grant is not filtering);
	 * every explicit Apply Group Policy ACE of the SID, whatever its
	 * flags and other rights, as GPMC or a hand may have written it. */
	filter_aces(&read, &apply, sid);
	return remove_if(sd, &read, 0, NULL, NULL) +
	       remove_if(sd, NULL, IPAM_ACE_ALLOWED_OBJECT, sid,
			 &ipam_guid_apply_group_policy);
}

bool ipam_sd_filter_has(const struct ipam_sd *sd, const struct ipam_sid *sid)
{
	struct ipam_ace read, apply;

	filter_aces(&read, &apply, sid);
	return ipam_sd_ace_find(sd, &read) >= 0 &&
	       ipam_sd_ace_find(sd, &apply) >= 0;
}

/* ---- SYSVOL mapping ---- */

uint32_t ipam_sd_fs_mask(uint32_t m)
{
	/* File rights: standard rights kept; read+list gives
	 * SYNCHRONIZE|LIST_DIRECTORY|READ_EA|TRAVERSE|READ_ATTRIBUTES; write
	 * property the write rights; create child ADD_FILE|ADD_SUBDIRECTORY;
	 * delete child DELETE_CHILD. */
	uint32_t f = m & 0x001F0000u;

	if ((m & IPAM_SD_RIGHT_RP) && (m & IPAM_SD_RIGHT_LC))
		f |= 0x00100000u | 0x01u | 0x08u | 0x20u | 0x80u;
	if (m & IPAM_SD_RIGHT_WP)
		f |= 0x00100000u | 0x02u | 0x04u | 0x10u | 0x100u;
	if (m & IPAM_SD_RIGHT_CC)
		f |= 0x02u | 0x04u;
	if (m & IPAM_SD_RIGHT_DC)
		f |= 0x40u;
	return f;
}

int ipam_sd_to_fs(struct ipam_sd **out, const struct ipam_sd *ds)
{
	static const struct ipam_sid prew2k = {1, 2, 5, {32, 554}};
	static const struct ipam_sid creator_owner = {1, 1, 3, {0}};
	struct ipam_sd *fs = ipam_sd_new();
	const uint16_t dbits = IPAM_SD_DACL_PROTECTED | IPAM_SD_DACL_AUTO_INH |
			       IPAM_SD_DACL_AUTO_INH_REQ;
	const uint16_t sbits = IPAM_SD_SACL_PROTECTED | IPAM_SD_SACL_AUTO_INH |
			       IPAM_SD_SACL_AUTO_INH_REQ;

	fs->has_owner = ds->has_owner;
	fs->owner = ds->owner;
	fs->has_group = ds->has_group;
	fs->group = ds->group;
	/* Samba goes through SDDL, which keeps only what it can print. */
	if (ds->sacl)
		fs->control |= IPAM_SD_SACL_PRESENT | (ds->control & sbits);
	if (ds->dacl) {
		fs->control |= IPAM_SD_DACL_PRESENT | (ds->control & dbits);
		fs->dacl = xcalloc(1, sizeof(*fs->dacl));
		for (size_t i = 0; i < ds->dacl->count; i++) {
			const struct ipam_ace *a = &ds->dacl->aces[i];
			struct ipam_ace *n;

			if (a->type != IPAM_ACE_ALLOWED &&
			    a->type != IPAM_ACE_ALLOWED_OBJECT)
				continue;
			if (ipam_sid_equal(&a->sid, &prew2k))
				continue;
			ALLOC_GROW(fs->dacl->aces, fs->dacl->count + 1,
				   fs->dacl->alloc);
			n = &fs->dacl->aces[fs->dacl->count++];
			*n = *a;
			n->extra = NULL;
			n->extra_len = 0;
			n->flags |= IPAM_ACE_OI | IPAM_ACE_CI;
			if (ipam_sid_equal(&a->sid, &creator_owner))
				n->flags |= IPAM_ACE_IO;
			n->mask = ipam_sd_fs_mask(a->mask);
		}
	}
	*out = fs;
	return 0;
}
