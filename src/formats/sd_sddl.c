#include "sd.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

#include "banned.h"

#define MAX_FIELD 0xFFFFu

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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
	if (!ipam_ace_type_is_object(ace->type) &&
	    (ace->has_object_type || ace->has_inherited_object_type))
		goto bad;
	{
		const char *end;

		rc = ipam_sid_parse_prefix(&ace->sid, f[5], &end, domain);
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
	ipam_acl_free(acl);
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
			if ((rc = ipam_sid_parse_prefix(sid, s, &s, domain)) <
			    0)
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
