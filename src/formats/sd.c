#include "sd.h"

#include <inttypes.h>
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

/* ---- ACEs and ACLs ---- */

static bool type_is_basic(uint8_t t)
{
	return t == IPAM_ACE_ALLOWED || t == IPAM_ACE_DENIED ||
	       t == IPAM_ACE_AUDIT || t == IPAM_ACE_ALARM;
}

bool ipam_ace_type_is_object(uint8_t t)
{
	return t == IPAM_ACE_ALLOWED_OBJECT || t == IPAM_ACE_DENIED_OBJECT ||
	       t == IPAM_ACE_AUDIT_OBJECT || t == IPAM_ACE_ALARM_OBJECT;
}

void ipam_ace_clear(struct ipam_ace *ace)
{
	if (!ace)
		return;
	/* The analyzer loses track of which array slot remove_if() cleared
	 * and reports the NULL set below as a second free. */
	free(ace->extra); /* NOLINT(clang-analyzer-unix.Malloc) */
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
	if (!type_is_basic(a->type) && !ipam_ace_type_is_object(a->type))
		return true; /* opaque: the body is all in extra */
	if (!ipam_sid_equal(&a->sid, &b->sid))
		return false;
	if (!ipam_ace_type_is_object(a->type))
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

void ipam_acl_free(struct ipam_acl *acl)
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
	if (type_is_basic(ace->type) || ipam_ace_type_is_object(ace->type)) {
		if (size < off + 4)
			return ipam_error_set(IPAM_EINVAL,
					      "ACE of %zu bytes has no mask",
					      size);
		ace->mask = get32(p + off);
		off += 4;
		if (ipam_ace_type_is_object(ace->type)) {
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
	ipam_acl_free(acl);
	return rc;
}

static bool acl_has_object_ace(const struct ipam_acl *acl)
{
	for (size_t i = 0; i < acl->count; i++)
		if (ipam_ace_type_is_object(acl->aces[i].type))
			return true;
	return false;
}

static size_t ace_body_size(const struct ipam_ace *ace)
{
	size_t n = 0;

	if (type_is_basic(ace->type) || ipam_ace_type_is_object(ace->type)) {
		n = 4 + ipam_sid_size(&ace->sid);
		if (ipam_ace_type_is_object(ace->type))
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
		if (type_is_basic(ace->type) ||
		    ipam_ace_type_is_object(ace->type)) {
			add32(out, ace->mask);
			if (ipam_ace_type_is_object(ace->type)) {
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
	ipam_acl_free(sd->dacl);
	ipam_acl_free(sd->sacl);
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
			n = sd->has_owner ? ipam_sid_size(&sd->owner) : 0;
			break;
		case PART_GROUP:
			n = sd->has_group ? ipam_sid_size(&sd->group) : 0;
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
				(type_is_basic(type) ||
				 ipam_ace_type_is_object(type)) &&
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
		if (j != i) {
			/* the entry moves: its extra bytes go with it */
			acl->aces[j] = *a;
			a->extra = NULL;
			a->extra_len = 0;
		}
		j++;
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
