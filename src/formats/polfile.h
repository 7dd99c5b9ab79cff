/*
 * The settings files of the three IPAM GPOs (<prefix>_DHCP, <prefix>_DNS,
 * <prefix>_DC_NPS), rendered byte-exact and parsed back for drift
 * detection.  This module: Machine\Registry.pol (MS-GPREG) with the
 * firewall rules of the access-settings table, and the whole settings set
 * of one GPO.  The Group Policy Preferences XML files (MS-GPPREF) are
 * gpp.h, GPT.INI, the GPO version arithmetic and gPCMachineExtensionNames
 * gpt.h; this header includes both, so that its users see the whole set.
 * Pure: no I/O, no globals; output goes to strbufs (Registry.pol holds
 * NULs: use sb.len).
 *
 * Parsers take untrusted bytes from SYSVOL: they are bounded, validate
 * everything and fail with IPAM_EINVAL (malformed) or IPAM_ELIMIT (a bound
 * was hit) rather than guess.
 *
 * Prefixes: ipam_pol_
 *   (the Registry.pol codec).
 */
#ifndef IPAM_POLFILE_H
#define IPAM_POLFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sha256.h"
#include "strbuf.h"

/* The three GPOs IPAM provisions. */
enum ipam_pol_gpo {
	IPAM_POL_GPO_DHCP,
	IPAM_POL_GPO_DNS,
	IPAM_POL_GPO_DC_NPS,
};

/* "_DHCP", "_DNS", "_DC_NPS": appended to the GPO prefix. */
const char *ipam_pol_gpo_suffix(enum ipam_pol_gpo gpo);
/* gpo is one of the three. */
bool ipam_pol_gpo_valid(enum ipam_pol_gpo gpo);

/* ---- Registry.pol (MS-GPREG) ----------------------------------------- */

enum ipam_pol_type {
	IPAM_POL_SZ = 1,
	IPAM_POL_EXPAND_SZ = 2,
	IPAM_POL_BINARY = 3,
	IPAM_POL_DWORD = 4,
	IPAM_POL_MULTI_SZ = 7,
	IPAM_POL_QWORD = 11,
};

/* Bounds on what the parser accepts (and the writer produces). */
#define IPAM_POL_MAX_FILE    (16u * 1024 * 1024)
#define IPAM_POL_MAX_ENTRIES 65536u
#define IPAM_POL_MAX_NAME    16383u /* UTF-16 units in a key or value name */
#define IPAM_POL_MAX_DATA    (1024u * 1024)

struct ipam_pol_entry {
	char *key;   /* UTF-8, never empty */
	char *value; /* UTF-8, "" for the key's default value */
	uint32_t type;
	unsigned char *data; /* raw, as stored (strings UTF-16LE + NUL) */
	size_t size;
};

struct ipam_pol {
	struct ipam_pol_entry *entries;
	size_t nr, alloc;
};

#define IPAM_POL_INIT                                                          \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void ipam_pol_init(struct ipam_pol *pol);
/* Releases the entries (pol itself is the caller's); accepts NULL. */
void ipam_pol_release(struct ipam_pol *pol);

/* Append an entry; data is checked against the type as the parser does. */
int ipam_pol_add(struct ipam_pol *pol, const char *key, const char *value,
		 uint32_t type, const void *data, size_t size);
/* type IPAM_POL_SZ or IPAM_POL_EXPAND_SZ; str is UTF-8. */
int ipam_pol_add_sz(struct ipam_pol *pol, const char *key, const char *value,
		    uint32_t type, const char *str);
int ipam_pol_add_dword(struct ipam_pol *pol, const char *key, const char *value,
		       uint32_t v);
int ipam_pol_add_qword(struct ipam_pol *pol, const char *key, const char *value,
		       uint64_t v);
/* n UTF-8 strings, none empty (an empty one would end the list). */
int ipam_pol_add_multi_sz(struct ipam_pol *pol, const char *key,
			  const char *value, const char *const *items,
			  size_t n);

/* The file's bytes: "PReg", version 1, the entries in order. */
int ipam_pol_write(struct strbuf *out, const struct ipam_pol *pol);
/* Strict parse of a whole file into an empty pol; on error pol is empty. */
int ipam_pol_parse(struct ipam_pol *out, const void *buf, size_t len);

/* The entry with this key (case-insensitive, as the registry compares)
 * and value name (case-insensitive), or NULL. */
const struct ipam_pol_entry *ipam_pol_find(const struct ipam_pol *pol,
					   const char *key, const char *value);
/* Append an SZ/EXPAND_SZ entry's string as UTF-8. */
int ipam_pol_entry_string(struct strbuf *out, const struct ipam_pol_entry *e);
/* Same entries, same order, same bytes. */
bool ipam_pol_equal(const struct ipam_pol *a, const struct ipam_pol *b);

/* ---- Firewall rules (MS-GPFAS) --------------------------------------- */

#define IPAM_POL_FW_KEY                                                        \
	"Software\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules"

/* One predefined Windows inbound rule, TCP. */
struct ipam_fw_rule {
	const char *id;	   /* Windows rule id: the registry value name */
	const char *name;  /* display name, as Windows shows it */
	const char *lport; /* "RPC", "RPC-EPMap" or a port number */
	const char *app;   /* program */
	const char *svc;   /* service short name, NULL when the rule has none */
};

/* The rules gpo needs, in the order they are written; *nr set. */
const struct ipam_fw_rule *const *ipam_pol_fw_rules(enum ipam_pol_gpo gpo,
						    size_t *nr);
/* "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=…|App=…|
 * [Svc=…|]Name=…|" */
int ipam_pol_fw_rule_string(struct strbuf *out, const struct ipam_fw_rule *r);
/* The Registry.pol content of gpo, into an empty pol. */
int ipam_pol_build(struct ipam_pol *out, enum ipam_pol_gpo gpo);

/* ---- The whole settings set of one GPO -------------------------------- */

#define IPAM_POL_MAX_FILES 4

struct ipam_pol_file {
	const char *path; /* relative to the GPO folder, '\\'-separated */
	struct strbuf data;
	unsigned char sha256[IPAM_SHA256_LEN];
};

struct ipam_pol_set {
	struct ipam_pol_file files[IPAM_POL_MAX_FILES];
	size_t nr;
};

struct ipam_gpp_params; /* gpp.h */

/* Render every settings file of gpo, with its digest. */
int ipam_pol_render_set(struct ipam_pol_set *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p);
void ipam_pol_set_release(struct ipam_pol_set *set); /* accepts NULL */

/*
 * Last, because they use enum ipam_pol_gpo: included from here (the
 * guard above is set) or first (they include this header, which then
 * skips them), either order sees the enum before its use.
 */
#include "gpp.h"
#include "gpt.h"

#endif
