/*
 * Security descriptors (MS-DTYP 2.4.6): self-relative binary <-> struct
 * (sd.c), SDDL text as Samba 4.17 prints it (sd_sddl.c), ACE editing for GPO
 * security filtering, and Samba's mapping of a GPO's AD ACL onto its SYSVOL
 * folder. Pure: no I/O.
 *
 * Prefixes: ipam_ace_, ipam_acl_
 *   (the parts of a descriptor).
 *
 * Layer formats/ (this header is its centre): pure Windows and AD codecs
 * -- SIDs, GUIDs, descriptors, policy files, security templates, gPLink,
 * keytabs, LDAP escaping, git URLs.  Uses util/ only; no I/O.
 */
#ifndef IPAM_SD_H
#define IPAM_SD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sid.h"

struct strbuf;

enum {
	IPAM_ACE_ALLOWED = 0,
	IPAM_ACE_DENIED = 1,
	IPAM_ACE_AUDIT = 2,
	IPAM_ACE_ALARM = 3,
	IPAM_ACE_ALLOWED_OBJECT = 5,
	IPAM_ACE_DENIED_OBJECT = 6,
	IPAM_ACE_AUDIT_OBJECT = 7,
	IPAM_ACE_ALARM_OBJECT = 8,
};

/* ACE flags */
#define IPAM_ACE_OI 0x01u
#define IPAM_ACE_CI 0x02u
#define IPAM_ACE_NP 0x04u
#define IPAM_ACE_IO 0x08u
#define IPAM_ACE_ID 0x10u /* inherited */
#define IPAM_ACE_SA 0x40u
#define IPAM_ACE_FA 0x80u

/* SD control bits */
#define IPAM_SD_OWNER_DEFAULTED	  0x0001u
#define IPAM_SD_GROUP_DEFAULTED	  0x0002u
#define IPAM_SD_DACL_PRESENT	  0x0004u
#define IPAM_SD_SACL_PRESENT	  0x0010u
#define IPAM_SD_DACL_AUTO_INH_REQ 0x0100u
#define IPAM_SD_SACL_AUTO_INH_REQ 0x0200u
#define IPAM_SD_DACL_AUTO_INH	  0x0400u
#define IPAM_SD_SACL_AUTO_INH	  0x0800u
#define IPAM_SD_DACL_PROTECTED	  0x1000u
#define IPAM_SD_SACL_PROTECTED	  0x2000u
#define IPAM_SD_SELF_RELATIVE	  0x8000u

/* Directory access masks (MS-ADTS 5.1.3.2; SDDL letters in comments). */
#define IPAM_SD_RIGHT_CC 0x00000001u
#define IPAM_SD_RIGHT_DC 0x00000002u
#define IPAM_SD_RIGHT_LC 0x00000004u
#define IPAM_SD_RIGHT_SW 0x00000008u
#define IPAM_SD_RIGHT_RP 0x00000010u
#define IPAM_SD_RIGHT_WP 0x00000020u
#define IPAM_SD_RIGHT_DT 0x00000040u
#define IPAM_SD_RIGHT_LO 0x00000080u
#define IPAM_SD_RIGHT_CR 0x00000100u
#define IPAM_SD_RIGHT_SD 0x00010000u
#define IPAM_SD_RIGHT_RC 0x00020000u
#define IPAM_SD_RIGHT_WD 0x00040000u
#define IPAM_SD_RIGHT_WO 0x00080000u

/* GPMC's "Read" on a GPO: RPLCLORC. */
#define IPAM_SD_MASK_GPO_READ 0x00020094u
/*
 * GPMC's "Edit settings, delete, modify security"
 * (permGPOEditSecurityAndDelete: edit settings plus DELETE, WRITE_DAC and
 * WRITE_OWNER): RPWPCCDCLCLORCWOWDSDDTSW, the mask the default GPO DACL
 * gives Domain Admins, Enterprise Admins and SYSTEM (seen on Samba 4.17).
 */
#define IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY 0x000F00FFu
#define IPAM_SD_MASK_GPO_FULL		      IPAM_SD_MASK_GPO_EDIT_DELETE_SECURITY
/* Control access (extended rights). */
#define IPAM_SD_MASK_CR 0x00000100u

/* Apply-Group-Policy extended right, edacfd8f-ffb3-11d1-b41d-00a0c968f939. */
extern const struct ipam_guid ipam_guid_apply_group_policy;

struct ipam_ace {
	uint8_t type;
	uint8_t flags;
	uint32_t mask;
	bool has_object_type; /* object ACE types only */
	bool has_inherited_object_type;
	struct ipam_guid object_type;
	struct ipam_guid inherited_object_type;
	struct ipam_sid sid;
	/*
	 * Bytes kept verbatim for a byte-exact round trip: what follows the
	 * SID inside the ACE (padding, callback data) or, for a type this
	 * module does not interpret, the whole body after the 4-byte header.
	 */
	unsigned char *extra;
	size_t extra_len;
};

struct ipam_acl {
	/* As read; 0 in a new ACL.  Written as the larger of this and what
	 * the ACEs need (4 with an object ACE, else 2). */
	uint8_t revision;
	size_t count, alloc;
	struct ipam_ace *aces;
};

/*
 * Where ipam_sd_write puts the parts.  Samba's NDR writes owner, group,
 * SACL, DACL; Windows writes SACL, DACL, owner, group.  ipam_sd_parse
 * records which of the two a descriptor used (Samba's when neither fits),
 * so a parsed descriptor is written back byte for byte.
 */
enum ipam_sd_layout {
	IPAM_SD_LAYOUT_SAMBA = 0,
	IPAM_SD_LAYOUT_WINDOWS,
};

struct ipam_sd {
	uint8_t revision; /* 1 */
	uint8_t sbz1;	  /* resource manager control bits, kept */
	uint16_t control;
	bool has_owner, has_group;
	struct ipam_sid owner, group;
	struct ipam_acl *dacl; /* NULL: none */
	struct ipam_acl *sacl; /* NULL: none */
	enum ipam_sd_layout layout;
};

/* Descriptors */
/* An empty descriptor: revision 1, self-relative, no parts. */
struct ipam_sd *ipam_sd_new(void);
void ipam_sd_free(struct ipam_sd *sd);
struct ipam_sd *ipam_sd_dup(const struct ipam_sd *sd);

/* Self-relative descriptor; every offset and size is checked against len. */
int ipam_sd_parse(struct ipam_sd **out, const void *buf, size_t len);
/* Self-relative, in sd->layout order, ACE sizes multiples of 4. */
int ipam_sd_write(struct strbuf *out, const struct ipam_sd *sd);

/* SDDL as Samba 4.17 prints it (O:, G:, D:, S:; control letters P, AR,
 * AI; rights letters where every bit has one, else 0x%08x). */
int ipam_sd_to_sddl(struct strbuf *out, const struct ipam_sd *sd,
		    const struct ipam_sid *domain);
int ipam_sd_from_sddl(struct ipam_sd **out, const char *sddl,
		      const struct ipam_sid *domain);

/* ACEs */
/* The object ACE types (OA, OD, OU, OL): they carry object type GUIDs. */
bool ipam_ace_type_is_object(uint8_t type);
bool ipam_ace_equal(const struct ipam_ace *a, const struct ipam_ace *b);
/* Release what an ACE owns (extra). */
void ipam_ace_clear(struct ipam_ace *ace);
/* Release an ACL and its ACEs; accepts NULL. */
void ipam_acl_free(struct ipam_acl *acl);
/* Index of an identical ACE in the DACL, or -1. */
long ipam_sd_ace_find(const struct ipam_sd *sd, const struct ipam_ace *ace);
/*
 * Add ace to the DACL unless an identical one is there: 1 added, 0 already
 * there, < 0 error.  It goes after the last ACE of its canonical class
 * (see ipam_sd_canonicalize), so a canonical DACL stays canonical.
 */
int ipam_sd_ace_add(struct ipam_sd *sd, const struct ipam_ace *ace);
/*
 * Remove the explicit (not inherited) DACL ACEs of this type and SID and,
 * when object_type is not NULL, this object type: the count removed.
 */
int ipam_sd_ace_remove(struct ipam_sd *sd, uint8_t type,
		       const struct ipam_sid *sid,
		       const struct ipam_guid *object_type);
/* Windows' order: explicit deny, explicit deny-object, other explicit ACEs,
 * then inherited ones; stable within each class. */
void ipam_sd_canonicalize(struct ipam_sd *sd);
/* Same explicit DACL ACEs, order and duplicates aside. */
bool ipam_sd_canonical_equal(const struct ipam_sd *a, const struct ipam_sd *b);

/* GPO security filtering: (A;CI;RPLCLORC;;;SID) and
 * (OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;SID).  add returns how
 * many ACEs it added; remove takes that read ACE and every explicit Apply
 * Group Policy object ACE of the SID (any flags or extra rights: entries
 * made elsewhere) and returns how many ACEs it removed. */
int ipam_sd_filter_add(struct ipam_sd *sd, const struct ipam_sid *sid);
int ipam_sd_filter_remove(struct ipam_sd *sd, const struct ipam_sid *sid);
/* Both ACEs are there. */
bool ipam_sd_filter_has(const struct ipam_sd *sd, const struct ipam_sid *sid);

/* Samba 4.17's file mask for a directory mask (ldapmask2filemask). */
uint32_t ipam_sd_fs_mask(uint32_t ds_mask);
/*
 * The SYSVOL folder descriptor Samba 4.17 derives from a GPO's AD one
 * (dsacl2fsacl): same owner and group, DACL control bits, allowed and
 * allowed-object ACEs except those of S-1-5-32-554, flags plus OI|CI
 * (CREATOR OWNER also IO), masks mapped; no SACL.
 */
int ipam_sd_to_fs(struct ipam_sd **out, const struct ipam_sd *ds);

#endif
