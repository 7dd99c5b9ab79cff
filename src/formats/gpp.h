/*
 * The Group Policy Preferences files (MS-GPPREF) of the IPAM GPOs:
 * Groups.xml, NetworkShares.xml and Registry.xml rendered byte-exact as
 * GPMC writes them, and a tolerant reader for drift detection.  Pure.
 *
 * The reader takes untrusted bytes from SYSVOL: it is bounded and fails
 * with IPAM_EINVAL (malformed) or IPAM_ELIMIT (a bound was hit).
 */
#ifndef IPAM_GPP_H
#define IPAM_GPP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "polfile.h" /* enum ipam_pol_gpo */
#include "strbuf.h"

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

#endif
