/*
 * The settings files of the three IPAM GPOs (<prefix>_DHCP, <prefix>_DNS,
 * <prefix>_DC_NPS), rendered byte-exact and parsed back for drift
 * detection: Machine\Registry.pol (MS-GPREG) with the firewall rules of
 * the access-settings table, the Group Policy Preferences XML files
 * (MS-GPPREF), GPT.INI, the GPO version arithmetic and
 * gPCMachineExtensionNames.  Pure: no I/O, no globals; output goes to
 * strbufs (Registry.pol holds NULs: use sb.len).
 *
 * Parsers take untrusted bytes from SYSVOL: they are bounded, validate
 * everything and fail with IPAM_EINVAL (malformed) or IPAM_ELIMIT (a bound
 * was hit) rather than guess.
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

/* ---- Group Policy Preferences XML (MS-GPPREF) ------------------------ */

struct ipam_gpp_params {
	const char *gpo_guid;	 /* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" */
	const char *ipamug_name; /* as GPMC writes it: "CORP\IPAMUG" */
	const char *ipamug_sid;	 /* "S-1-5-21-…" */
	time_t changed;		 /* written as UTC "YYYY-MM-DD HH:MM:SS" */
};

/* Local groups ipamctl adds IPAMUG to. */
#define IPAM_GPP_ELR_NAME   "Event Log Readers (built-in)"
#define IPAM_GPP_ELR_SID    "S-1-5-32-573"
#define IPAM_GPP_DHCP_USERS "DHCP Users"
#define IPAM_GPP_SHARE_NAME "dhcpaudit"
#define IPAM_GPP_SHARE_PATH "%SystemRoot%\\System32\\dhcp"
#define IPAM_GPP_CUSTOMSD_KEY                                                  \
	"SYSTEM\\CurrentControlSet\\Services\\EventLog\\DNS Server"

/*
 * The uid of an item: a GUID derived from the GPO GUID (case-insensitive)
 * and the item's key, so re-rendering gives the same bytes.  out gets
 * "{XXXXXXXX-XXXX-8XXX-XXXX-XXXXXXXXXXXX}" (RFC 9562 version 8).
 */
int ipam_gpp_item_uid(char out[39], const char *gpo_guid, const char *item_key);

/* The CustomSD ipamctl writes: the Windows default plus IPAMUG read. */
int ipam_gpp_dns_customsd(struct strbuf *out, const char *ipamug_sid);

/* Machine\Preferences\Groups\Groups.xml (all three GPOs). */
int ipam_gpp_groups_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p);
/* Machine\Preferences\NetworkShares\NetworkShares.xml (_DHCP only). */
int ipam_gpp_shares_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p);
/* Machine\Preferences\Registry\Registry.xml (_DNS only). */
int ipam_gpp_registry_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			  const struct ipam_gpp_params *p);

/*
 * What the tolerant reader extracts from a preferences file: every item
 * (Group, NetShare, Registry) with the attributes drift detection looks
 * at.  Strings are unescaped UTF-8; absent attributes are NULL.
 */
struct ipam_gpp_member {
	char *name, *action, *sid;
};

struct ipam_gpp_item {
	char *tag; /* "Group", "NetShare", "Registry" */
	char *clsid, *name, *uid, *changed;
	char *action; /* Properties/@action */
	/* Group */
	char *group_name, *group_sid;
	bool delete_all_users, delete_all_groups, remove_accounts;
	struct ipam_gpp_member *members;
	size_t nr_members;
	/* NetShare */
	char *share_path;
	/* Registry */
	char *hive, *key, *value_name, *type, *value;
};

struct ipam_gpp_file {
	char *root;	  /* root element name */
	char *root_clsid; /* its clsid */
	struct ipam_gpp_item *items;
	size_t nr, alloc;
};

#define IPAM_GPP_MAX_FILE  (1024u * 1024)
#define IPAM_GPP_MAX_ITEMS 4096u

/*
 * Parse a preferences file of the shapes ipamctl and GPMC write (any
 * attribute order, optional whitespace, BOM, comments, unknown elements
 * skipped).  Not a general XML parser: no DTDs, no CDATA.
 */
int ipam_gpp_parse(struct ipam_gpp_file *out, const char *buf, size_t len);
void ipam_gpp_file_release(struct ipam_gpp_file *f); /* accepts NULL */

/* ---- GPT.INI, versions, extension names ------------------------------- */

/* "[General]\r\nVersion=<v>\r\n", as samba-tool gpo create writes it. */
int ipam_gpt_ini_write(struct strbuf *out, uint32_t version);
/* The Version of [General]; tolerant of LF, BOM, other keys. */
int ipam_gpt_ini_parse(uint32_t *version, const char *buf, size_t len);

static inline uint16_t ipam_gpt_user_version(uint32_t v)
{
	return (uint16_t)(v >> 16);
}

static inline uint16_t ipam_gpt_machine_version(uint32_t v)
{
	return (uint16_t)(v & 0xFFFF);
}

/* v with the machine half incremented, wrapping 0xFFFF to 1 (never 0);
 * the user half is kept. */
uint32_t ipam_gpt_bump_machine(uint32_t v);

/* One client-side extension and the tools (snap-ins) that wrote it. */
struct ipam_gpt_ext {
	const char *cse;
	const char *const *tools;
	size_t nr_tools;
};

/*
 * "[{CSE}{tool}…]…": extensions sorted ascending by GUID and tools within
 * each, case-insensitively as Windows sorts; the same CSE given twice is
 * merged and duplicate tools dropped.  GUIDs must be "{8-4-4-4-12}".
 */
int ipam_gpt_ext_build(struct strbuf *out, const struct ipam_gpt_ext *exts,
		       size_t n);

struct ipam_gpt_ext_list {
	struct ipam_gpt_ext_owned {
		char cse[39];
		char (*tools)[39];
		size_t nr_tools;
	} * exts;
	size_t nr;
};

#define IPAM_GPT_MAX_EXTS  256u
#define IPAM_GPT_MAX_TOOLS 64u

/* Parse a gPCMachineExtensionNames value ("" is an empty list). */
int ipam_gpt_ext_parse(struct ipam_gpt_ext_list *out, const char *s);
void ipam_gpt_ext_list_release(struct ipam_gpt_ext_list *l); /* NULL ok */

/* The gPCMachineExtensionNames of gpo, from the files ipamctl writes. */
int ipam_gpt_ext_for_gpo(struct strbuf *out, enum ipam_pol_gpo gpo);

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

/* Render every settings file of gpo, with its digest. */
int ipam_pol_render_set(struct ipam_pol_set *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p);
void ipam_pol_set_release(struct ipam_pol_set *set); /* accepts NULL */

#endif
