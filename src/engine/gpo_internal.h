/*
 * What the pieces of the GPO engine share: the session, the undo journal
 * of a provisioning run, and the LDAP and SYSVOL helpers each job calls.
 * Private to src/engine/gpo*.c.
 *
 *   gpo.c           session: open/close, reports, journal, counters
 *   gpo_read.c      read side: IPAMUG, GPOs, DC grants, names
 *   gpo_sysvol.c    SYSVOL: settings files, foreign files, folder ACL
 *   gpo_write.c     write side: group, GPO, settings, link
 *   gpo_dacl.c      the GPO DACL and the DC-side grants
 *   gpo_remove.c    removal
 *   gpo_fgroup.c    the filter groups (filtering: group) and their members
 *   gpo_computer.c  computer accounts by name (for filtering), the IPAM
 *                   server in another (trusted) domain
 *   gpo_provision.c provisioning and its rollback
 */
#ifndef IPAM_GPO_INTERNAL_H
#define IPAM_GPO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gpo.h"
#include "ldapconn.h"
#include "polfile.h"
#include "sd.h"
#include "smb.h"
#include "strbuf.h"

#define GROUP_NAME   "IPAMUG"
#define ELR_SID	     "S-1-5-32-573"
#define GPT_INI	     "GPT.INI"
#define MAX_SETTING  (4u * 1024 * 1024)
#define DNS_ACE_MASK (IPAM_SD_RIGHT_LC | IPAM_SD_RIGHT_RP | IPAM_SD_RIGHT_RC)
#define LOOKUP_BATCH 64
#define SD_ALL                                                                 \
	(IPAM_LDAPCONN_SD_OWNER | IPAM_LDAPCONN_SD_GROUP |                     \
	 IPAM_LDAPCONN_SD_DACL)

/* What a provisioning run created, to be removed again if it fails. */
enum undo_kind {
	UNDO_LDAP_TREE, /* dn */
	UNDO_SMB_TREE,	/* path */
	UNDO_MEMBER,	/* dn loses member arg */
	UNDO_LINK,	/* GPO dn unlinked from the domain head */
	UNDO_DNS_ACE,	/* IPAMUG's ACE on the DNS container */
};

struct undo {
	enum undo_kind kind;
	char *target, *arg;
};

struct ipam_gpo_session {
	const struct ipam_desired *d;
	const struct ipam_domain *dom;
	struct ipam_gpo_opts o;
	struct ipam_ldapconn *ldap;
	struct ipam_smb *smb;
	char *dc;
	char *domain_dn, *domain_sid, *netbios;
	struct ipam_sid dom_sid;
	char *mark;
	size_t changes;
	bool journal; /* record undo entries */
	struct undo *undo;
	size_t nr_undo, alloc_undo;
	/* A plan's member changes of each GPO's filter group, [gpo][add]:
	 * done in one batched go, by the first of their actions. */
	bool members_done[IPAM_GPO_COUNT][2];
};

extern const enum ipam_pol_gpo ipam_gpo_all_kinds[IPAM_GPO_COUNT];

/* ---- gpo.c -------------------------------------------------------------- */

/* A change made, or planned in dry-run mode: counted and reported. */
void ipam_gpo_report(struct ipam_gpo_session *s, enum ipam_gpo_change kind,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record what to undo should the provisioning run fail (when it
 * journals). */
void ipam_gpo_journal(struct ipam_gpo_session *s, enum undo_kind kind,
		      const char *target, const char *arg);
void ipam_gpo_undo_release(struct ipam_gpo_session *s);

static inline struct ipam_ldapconn_value ipam_gpo_val(const char *s)
{
	struct ipam_ldapconn_value v = {s, strlen(s)};

	return v;
}

/* "sysvol/<domain>/Policies/{GUID}" plus rel ('\\' or '/'-separated). */
void ipam_gpo_path(struct strbuf *out, const struct ipam_gpo_session *s,
		   const char *guid, const char *rel);
/* SMB to the session's DC, opened when first needed. */
int ipam_gpo_need_smb(struct ipam_gpo_session *s);
/* attr of the first entry found (*out NULL when none); bin_sid: attr is
 * a binary SID, returned as text. */
int ipam_gpo_read_first(struct ipam_gpo_session *s, char **out,
			const char *base, enum ipam_ldapconn_scope scope,
			const char *filter, const char *attr, bool bin_sid);
struct ipam_gpo_obs *ipam_gpo_obs_of(struct ipam_gpo_state *st,
				     enum ipam_pol_gpo kind);
/* One attribute of dn: op with value (NULL: no value). */
int ipam_gpo_modify1(struct ipam_gpo_session *s, const char *dn, int op,
		     const char *attr, const char *value);
/* Add a member; already a member is fine (*added false). */
int ipam_gpo_add_member(struct ipam_gpo_session *s, const char *group,
			const char *member, bool *added);
void ipam_gpo_strv_free(char **v, size_t n);

/* ---- gpo_read.c -----------------------------------------------------------
 */

int ipam_gpo_read_group(struct ipam_gpo_session *s, struct ipam_gpo_state *st);
/* g->sd from AD (owner, group, DACL). */
int ipam_gpo_read_sd(struct ipam_gpo_session *s, struct ipam_gpo_obs *g);
/* "CN=User, SYSVOL folder, …": what a run killed mid-creation left out. */
void ipam_gpo_add_missing(struct ipam_gpo_obs *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* SIDs of the delegated users (sAMAccountName), for the DACL. */
int ipam_gpo_delegated_sids(struct ipam_gpo_session *s, char ***out,
			    size_t *nr);

/* The computer account of fqdn (or sAMAccountName): its DN and SID, and
 * how many accounts matched. */
int ipam_gpo_find_computer(struct ipam_gpo_session *s, const char *name,
			   char **dn, char **sid, int *count);

/* ---- gpo_fgroup.c ---------------------------------------------------------
 */

/* Each GPO's filter group (name, DN, SID, mark), with its members in group
 * mode; after the GPOs' DACLs were decoded (fgroup.ace). */
int ipam_gpo_read_fgroups(struct ipam_gpo_session *s,
			  struct ipam_gpo_state *st);

/* ---- gpo_computer.c -------------------------------------------------------
 */

/*
 * When st's IPAM server has no account in the session's domain and lives
 * in another discovery domain: st->foreign_domain, whether this domain
 * trusts it (trustedDomain objects), and when it does, the account's SID
 * from there (st->server_found, server_dn its foreign security principal
 * here).  A failure to reach the other domain is only a warning.
 */
int ipam_gpo_find_foreign_server(struct ipam_gpo_session *s,
				 struct ipam_gpo_state *st);

/* ---- gpo_sysvol.c ---------------------------------------------------------
 */

/* Fill in the SYSVOL side of an existing GPO. */
int ipam_gpo_read_sysvol(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 struct ipam_gpo_obs *g);
/*
 * What the settings files should hold, with each preferences file's
 * "changed" stamp taken from the file in SYSVOL when it has one (so that
 * rendering again gives the same bytes); present[] gets what is there.
 */
int ipam_gpo_render_settings(struct ipam_gpo_session *s,
			     const struct ipam_gpo_state *st,
			     const struct ipam_gpo_obs *g,
			     struct ipam_pol_set *set, struct strbuf *present,
			     bool *is_present);
/* Write the files marked in write[] and remove g's foreign files. */
int ipam_gpo_write_files(struct ipam_gpo_session *s,
			 const struct ipam_gpo_obs *g,
			 const struct ipam_pol_set *set, const bool *write);
int ipam_gpo_write_gpt_ini(struct ipam_gpo_session *s, const char *guid,
			   uint32_t version);
/* The GPO folder with Machine\ and User\ (existing ones are fine). */
int ipam_gpo_make_dirs(struct ipam_gpo_session *s, const char *guid);
/* The same and GPT.INI at version. */
int ipam_gpo_make_folder(struct ipam_gpo_session *s, const char *guid,
			 uint32_t version);
/* Set the folder ACL to the mapping of sd; sd's ACEs then put in the
 * order smbcacls left the folder's. */
int ipam_gpo_sync_folder(struct ipam_gpo_session *s, struct ipam_gpo_obs *g,
			 struct ipam_sd *sd);
/* folder_want and folder_consistent again, after g->sd changed. */
void ipam_gpo_folder_recheck(const struct ipam_gpo_session *s,
			     struct ipam_gpo_obs *g);

/* ---- gpo_write.c ----------------------------------------------------------
 */

/* Replace the domain head's gPLink old -> new (compare-and-swap). */
int ipam_gpo_write_gplink(struct ipam_gpo_session *s, const char *old,
			  const char *new);

/* ---- gpo_dacl.c -----------------------------------------------------------
 */

/* (A;CI;LCRPRC;;;sid), IPAMUG's ACE on CN=MicrosoftDNS. */
struct ipam_ace ipam_gpo_dns_ace(const struct ipam_sid *sid);
/* Add ace to the DACL of dn, or remove every copy of it; *changed says
 * whether it was written. */
int ipam_gpo_edit_dacl(struct ipam_gpo_session *s, const char *dn,
		       const struct ipam_ace *ace, bool add, bool *changed);

#endif
