/*
 * The observed provisioning state of one domain, as the GPO engine reads
 * it from AD and SYSVOL: IPAMUG, the three GPOs (container, versions,
 * link, DACL, settings files, SYSVOL folder ACL), the DC-side grants and
 * ipamctl's ownership marks.  A plain value: the diff and the renderers
 * read it without touching the engine.
 *
 * Prefixes: ipam_gpo_
 *   (the GPO state types are struct ipam_gpo_*).
 */
#ifndef IPAM_GPOSTATE_H
#define IPAM_GPOSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "polfile.h"

struct ipam_sd;

#define IPAM_GPO_COUNT 3

/* The largest ACL AD stores: AclSize is 16 bits. */
#define IPAM_GPO_ACL_MAX 65535u

/* A trustee in a GPO's DACL: SID and, when it resolves, its name. */
struct ipam_gpo_trustee {
	char *sid;
	char *name; /* sAMAccountName or well-known name; NULL if unknown */
};

struct ipam_gpo_trustees {
	struct ipam_gpo_trustee *v;
	size_t nr, alloc;
};

struct ipam_gpo_file_state {
	const char *path; /* relative to the GPO folder, '\\'-separated */
	bool present;
	bool current;	 /* byte-equal to what ipamctl renders */
	char sha256[65]; /* of the present file, hex; "" when absent */
	/* What the present file says, one line an item (a firewall rule,
	 * a group and its members, a share, a registry value), as read
	 * (a file that does not parse: one "unreadable: ..." line);
	 * NULL-terminated, NULL when absent or after ipamctl rewrote it. */
	char **content;
	size_t nr_content;
};

/* A file in the GPO's SYSVOL folder that ipamctl does not declare. */
struct ipam_gpo_foreign {
	char *path; /* relative to the GPO folder, '\\'-separated */
	char *note; /* what it does to IPAM's access, or NULL */
};

/*
 * provisioning.filtering: group -- a GPO's filter group, the domain-local
 * security group whose members the GPO applies to (read in every mode:
 * computer mode deletes the one ipamctl made).
 */
struct ipam_gpo_fgroup {
	char *name; /* sAMAccountName: "<prefix>_DHCP_Servers" */
	char *dn;   /* where it is, or would be made */
	bool exists, owned;
	char *sid, *mark;
	long group_type;
	bool ace; /* read + apply for it in the GPO's DACL */
	/* Members (group mode only): SIDs, names where known. */
	struct ipam_gpo_trustees members;
	bool members_read;
	bool planned; /* dry run: would be created by this run */
};

struct ipam_gpo_obs {
	enum ipam_pol_gpo kind;
	char *name; /* "<prefix>_DHCP" */
	bool exists;
	size_t same_name; /* GPOs carrying this displayName (> 1: error) */
	char *guid;	  /* "{…}" upper case */
	char *dn;
	char *file_sys_path;
	char *mark;	  /* adminDescription when it is ipamctl's mark */
	bool owned;	  /* marked by ipamctl for this ipamServer and prefix */
	uint32_t version; /* versionNumber */
	bool gpt_present; /* GPT.INI readable */
	uint32_t gpt_version; /* its Version */
	long flags;
	long functionality_version;
	char *machine_ext; /* gPCMachineExtensionNames, "" when absent */
	bool ext_current;  /* equal to what its settings need */
	bool linked;
	unsigned link_options; /* 1 disabled, 2 enforced */
	struct ipam_sd *sd;    /* owner, group, DACL as read */
	bool au_read, au_apply;
	struct ipam_gpo_trustees readers, appliers, editors;
	/* Computers and groups with both filtering ACEs, AU excluded. */
	struct ipam_gpo_trustees filtering;
	bool dacl_current; /* AU apply gone, IPAMUG + delegates can edit */
	size_t dacl_size;  /* bytes of the DACL as written */
	char *folder_sddl; /* SYSVOL folder ACL (smbcacls) */
	char *folder_want; /* Samba's mapping of the AD ACL */
	bool folder_consistent;
	struct ipam_gpo_file_state files[IPAM_POL_MAX_FILES];
	size_t nr_files;
	/* Files nobody declared (a GptTmpl.inf, a script, ...), sorted. */
	struct ipam_gpo_foreign *foreign;
	size_t nr_foreign;
	bool settings_current; /* every file current, none foreign */
	bool planned;	       /* dry run: would be created by this run */
	/* Parts a run killed mid-creation can leave out: CN=User,
	 * CN=Machine, the SYSVOL Machine\ and User\ folders.  NULL: whole. */
	char *missing;
	/* Why the SYSVOL folder ACL could not be read (then neither
	 * folder_consistent nor its opposite is known), or NULL. */
	char *folder_error;
	struct ipam_gpo_fgroup fgroup;
};

struct ipam_gpo_state {
	char *domain, *domain_dn, *domain_sid, *netbios, *dc;
	char *prefix;
	char *ipam_server;
	bool server_found;
	char *server_dn, *server_sid;
	/* The IPAM server's account lives in this other discovery domain
	 * (NULL: here, or nowhere we know); foreign_trusted: this domain
	 * trusts that one.  Then server_found means it was found there:
	 * server_sid is its SID, server_dn its foreign security principal
	 * here (which IPAMUG's member refers to once it holds it). */
	char *foreign_domain;
	bool foreign_trusted;
	struct {
		bool exists, owned;
		char *dn, *sid, *mark;
		long group_type;
		char **members; /* DNs */
		size_t nr_members;
		bool has_server;
	} ipamug;
	char *elr_dn;	     /* Builtin\Event Log Readers */
	bool elr_member;     /* IPAMUG in it */
	char *dns_container; /* CN=MicrosoftDNS,CN=System,…; NULL if absent */
	bool dns_ace;	     /* (A;CI;LCRPRC;;;IPAMUG) on it */
	char *gplink;	     /* of the domain head, "" when absent */
	struct ipam_gpo_obs gpos[IPAM_GPO_COUNT];
};

void ipam_gpo_state_free(struct ipam_gpo_state *st);
void ipam_gpo_fgroup_release(struct ipam_gpo_fgroup *f);
/* What one GPO holds, its fixed fields kept (the name too: freed). */
void ipam_gpo_obs_release(struct ipam_gpo_obs *g);

/* Add sid to t unless it is there (name unset). */
void ipam_gpo_trustees_add(struct ipam_gpo_trustees *t, const char *sid);
void ipam_gpo_trustees_release(struct ipam_gpo_trustees *t);
/* Release what g holds besides its fixed fields: its foreign files and the
 * parsed content of its settings files. */
void ipam_gpo_obs_release_foreign(struct ipam_gpo_obs *g);
void ipam_gpo_file_content_release(struct ipam_gpo_file_state *f);

#endif
