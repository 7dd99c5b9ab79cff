/*
 * The GPO provisioning engine: what Invoke-IpamGpoProvisioning and the IPAM
 * console's manageability changes do to a domain, over LDAP (ldapconn) and
 * SMB (smb).
 *
 * Read side: ipam_gpo_read() gathers the observed provisioning state of one
 * domain -- IPAMUG, the three GPOs (container, version in AD and in
 * GPT.INI, link, DACL, settings files, SYSVOL folder ACL), the DC-side
 * grants and ipamctl's ownership marks -- into a plain value.
 *
 * The pure decisions live below, in core/ (gpodacl, gposettings, gpogroup,
 * gpoview) and formats/ (gplink, gpomark, folderacl); the pieces of the
 * engine are listed in gpo_internal.h.
 *
 * Write side: each ipam_gpo_ensure_* / ipam_gpo_remove_* step compares the
 * state with what it should be and writes only the difference (a no-op,
 * and no version bump, when already right), updating the state value as
 * it goes.  Every change is reported through the session's callback
 * (also in dry-run mode, where nothing is written).  ipam_gpo_provision()
 * chains the steps and undoes what it created when one fails.
 */
#ifndef IPAM_GPO_H
#define IPAM_GPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "gpostate.h"
#include "gpoview.h"
#include "model.h"
#include "node.h"
#include "polfile.h"
#include "sd.h"
#include "strbuf.h"

struct ipam_gpo_session;

/* A change made (or, in dry-run mode, that would be made). */
enum ipam_gpo_change {
	IPAM_GPO_CREATE = '+',
	IPAM_GPO_UPDATE = '~',
	IPAM_GPO_DELETE = '-',
};

typedef void (*ipam_gpo_report_fn)(void *ctx, enum ipam_gpo_change kind,
				   const char *what);

struct ipam_gpo_opts {
	bool dry_run;
	/* Adopt GPOs and IPAMUG of the right names that carry no mark (made
	 * by hand or by the Windows cmdlet): mark them as ipamctl's. */
	bool adopt;
	/* Identifies the desired-state source in the mark ("-c PATH" or a
	 * repository URL); informational. */
	const char *source;
	ipam_gpo_report_fn report;
	void *report_ctx;
};

/* Open LDAP (and, when first needed, SMB to the same DC) for dom with its
 * effective connection settings; reads the domain's DN, SID and NetBIOS
 * name. */
int ipam_gpo_open(struct ipam_gpo_session **out, const struct ipam_desired *d,
		  const struct ipam_domain *dom, const struct ipam_gpo_opts *o);
void ipam_gpo_close(struct ipam_gpo_session *s);

/* ---- Observed state: gpostate.h ------------------------------------- */

int ipam_gpo_read(struct ipam_gpo_state **out, struct ipam_gpo_session *s);
/* As a tree for `gpo show -o json`: ipam_gpoview_to_node (gpoview.h). */

/* ---- Write side ----------------------------------------------------------
 * Each returns 0 (done, or nothing to do) or an IPAM_E* with the error
 * set, and keeps *st up to date with what it wrote. */

/* IPAMUG in CN=Users, universal security, marked, holding the IPAM
 * server's computer account (when the domain has one: a warning else). */
int ipam_gpo_ensure_group(struct ipam_gpo_session *s,
			  struct ipam_gpo_state *st);
/* The GPO exists (container, User/Machine, SYSVOL folder, GPT.INI). */
int ipam_gpo_ensure_gpo(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			enum ipam_pol_gpo kind);
/* Settings files, version (both places) and extension names. */
int ipam_gpo_ensure_settings(struct ipam_gpo_session *s,
			     struct ipam_gpo_state *st, enum ipam_pol_gpo kind);
/* Linked, enabled, on the domain head. */
int ipam_gpo_ensure_link(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind);
/*
 * The DACL: AU keeps read and loses apply, IPAMUG and the delegated users
 * may edit, delete and modify security; then the filtering changes --
 * computer SIDs to add and to remove -- in ONE DACL write, and the SYSVOL
 * folder ACL made Samba's mapping of it (also when only the folder was
 * wrong).  IPAM_ELIMIT when the DACL would outgrow 64 KiB.
 */
struct ipam_gpo_filter_change {
	const char *const *add_sids; /* computers to filter in */
	size_t nr_add;
	const char *const *remove_sids; /* and out */
	size_t nr_remove;
	/* Out: entries that changed (already right ones do not count). */
	size_t added, removed;
};

int ipam_gpo_ensure_dacl(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind,
			 struct ipam_gpo_filter_change *fc);
/* IPAMUG in Builtin\Event Log Readers and read on CN=MicrosoftDNS. */
int ipam_gpo_ensure_dc_grants(struct ipam_gpo_session *s,
			      struct ipam_gpo_state *st);

/*
 * provisioning.filtering: group.  The GPO's filter group exists, marked
 * (created in provisioning.filterGroupOu, or adopted with opts.adopt;
 * someone else's is IPAM_ECONFLICT).  Its ACE goes into the GPO's DACL
 * with ipam_gpo_ensure_dacl.
 */
int ipam_gpo_ensure_filter_group(struct ipam_gpo_session *s,
				 struct ipam_gpo_state *st,
				 enum ipam_pol_gpo kind);
/* Delete it (ipamctl's only). */
int ipam_gpo_remove_filter_group(struct ipam_gpo_session *s,
				 struct ipam_gpo_state *st,
				 enum ipam_pol_gpo kind);
/* Its members: fc's SIDs in and out, in batched `member` modifies (values
 * already right are left out); fc->added/removed say what changed. */
int ipam_gpo_filter_members(struct ipam_gpo_session *s,
			    struct ipam_gpo_state *st, enum ipam_pol_gpo kind,
			    struct ipam_gpo_filter_change *fc);
/* The member changes of plan p like a (an IPAM_ACT_MEMBER_ADD or _REMOVE):
 * the first such action of its GPO does all of them, the rest nothing. */
int ipam_gpo_apply_members(struct ipam_gpo_session *s,
			   struct ipam_gpo_state *st, const struct ipam_plan *p,
			   const struct ipam_action *a);

/* Removal of what ipamctl created (refused for what it does not own). */
int ipam_gpo_remove_link(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			 enum ipam_pol_gpo kind);
int ipam_gpo_remove_gpo(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
			enum ipam_pol_gpo kind);
int ipam_gpo_remove_dc_grants(struct ipam_gpo_session *s,
			      struct ipam_gpo_state *st);
int ipam_gpo_remove_group(struct ipam_gpo_session *s,
			  struct ipam_gpo_state *st);

/* Computer accounts by FQDN (dNSHostName or SPN host/<fqdn>) or
 * sAMAccountName: their SIDs, in order; a name not found is an
 * IPAM_ENOTFOUND naming it. */
int ipam_gpo_lookup_computers(struct ipam_gpo_session *s,
			      const char *const *names, size_t nr,
			      char ***sids);

/*
 * Invoke-IpamGpoProvisioning: IPAMUG, the three GPOs with their settings,
 * DACLs (filtering empty unless already set) and links, and the DC-side
 * grants.  When a step fails, what this call created is removed again
 * (newest first) and the first error is returned.  *changes counts the
 * changes made (or planned, in dry-run mode).
 */
int ipam_gpo_provision(struct ipam_gpo_session *s, struct ipam_gpo_state *st,
		       size_t *changes);

/* Number of changes reported so far in this session. */
size_t ipam_gpo_changes(const struct ipam_gpo_session *s);
/* LDAP write requests sent so far in this session. */
size_t ipam_gpo_ldap_writes(const struct ipam_gpo_session *s);

#endif
