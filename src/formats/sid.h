/*
 * SIDs (MS-DTYP 2.4.2) and GUIDs (MS-DTYP 2.3.4): binary <-> struct <->
 * text, with one canonical text form each, so that every layer writes a
 * SID or a GUID the same way and compares text it did not write by
 * parsing it first.  Pure: no I/O.
 *
 * SID text: "S-1-" then the identifier authority in decimal when it is
 * below 2^32, else "0x" and 12 hex digits (MS-DTYP 2.4.2.1), then each
 * sub-authority in decimal, no leading zeros.  The hex digits are lower
 * case, as ipamctl has always written them; MS-DTYP's grammar takes
 * either case, and no AD or Samba SID ipamctl handles has such an
 * authority.
 *
 * GUID text: 8-4-4-4-12 hex digits.  Two spellings are in use and both
 * are kept, from one formatter: lower case without braces where Samba
 * and ldapsearch print GUIDs (SDDL object types, objectGUID), and upper
 * case in braces where Windows names things with them (a GPO's cn and
 * folder, "{31B2F340-016D-11D2-945F-00C04FB984F9}", GPP item uids,
 * client-side extension GUIDs).  Readers accept either case.
 *
 * Prefixes: ipam_guid_
 *   (GUIDs live beside SIDs).
 */
#ifndef IPAM_SID_H
#define IPAM_SID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

#define IPAM_SID_MAX_SUBAUTH 15

struct ipam_sid {
	uint8_t revision; /* 1 */
	uint8_t sub_count;
	uint64_t authority; /* 48 bits */
	uint32_t sub[IPAM_SID_MAX_SUBAUTH];
};

/* A GUID as its 16 wire bytes (Data1..3 little-endian, Data4 as is). */
struct ipam_guid {
	uint8_t b[16];
};

/* ---- SIDs ---- */

/* "S-1-5-…" or an SDDL alias ("AU", "DA"; domain-relative ones need
 * domain, else they are an error). */
int ipam_sid_parse(struct ipam_sid *out, const char *s,
		   const struct ipam_sid *domain);
/* The same at the start of s; *end gets the first character after the
 * SID (SDDL puts SIDs inside longer text). */
int ipam_sid_parse_prefix(struct ipam_sid *out, const char *s, const char **end,
			  const struct ipam_sid *domain);
/*
 * s is a SID in the canonical text form (see above): what
 * ipam_sid_format writes, exactly.  Aliases, lower-case "s-", leading
 * zeros and out-of-range numbers are not.  Sets no error.
 */
bool ipam_sid_text_valid(const char *s);
/* Binary SID at buf; *used (may be NULL) gets its size. */
int ipam_sid_from_bin(struct ipam_sid *out, size_t *used, const void *buf,
		      size_t len);
void ipam_sid_to_bin(struct strbuf *out, const struct ipam_sid *sid);
/* Bytes of the binary form. */
size_t ipam_sid_size(const struct ipam_sid *sid);
/* "S-1-5-21-…", the canonical form. */
void ipam_sid_format(struct strbuf *out, const struct ipam_sid *sid);
/* The SDDL alias when there is one (domain-relative ones only with
 * domain), else the S- form. */
void ipam_sid_to_sddl(struct strbuf *out, const struct ipam_sid *sid,
		      const struct ipam_sid *domain);
bool ipam_sid_equal(const struct ipam_sid *a, const struct ipam_sid *b);
int ipam_sid_cmp(const struct ipam_sid *a, const struct ipam_sid *b);
/* out = domain + rid */
int ipam_sid_append_rid(struct ipam_sid *out, const struct ipam_sid *domain,
			uint32_t rid);

/* ---- GUIDs ---- */

/* ipam_guid_format_as flags */
#define IPAM_GUID_BRACES 0x1u /* "{…}" */
#define IPAM_GUID_UPPER	 0x2u /* hex digits A-F */

/* "edacfd8f-ffb3-11d1-b41d-00a0c968f939", either case, braces accepted. */
int ipam_guid_parse(struct ipam_guid *out, const char *s);
/* s is 8-4-4-4-12 hex digits of either case, in braces when braced and
 * without them otherwise.  Sets no error. */
bool ipam_guid_text_valid(const char *s, bool braced);
/* The 16 bytes in the order the text shows them (RFC 9562 byte order,
 * Data1..3 big-endian). */
void ipam_guid_from_text_bytes(struct ipam_guid *out, const uint8_t text[16]);
/* "edacfd8f-ffb3-11d1-b41d-00a0c968f939": ipam_guid_format_as(…, 0). */
void ipam_guid_format(struct strbuf *out, const struct ipam_guid *g);
/* With IPAM_GUID_BRACES and/or IPAM_GUID_UPPER. */
void ipam_guid_format_as(struct strbuf *out, const struct ipam_guid *g,
			 unsigned flags);

#endif
