/*
 * A GPO's SYSVOL folder ACL as Samba derives it from the GPO's AD DACL
 * (ipam_sd_to_fs), and the two DACL transformations that let that
 * mapping match the folder ACE for ACE, so that `samba-tool gpo aclcheck`
 * passes.  Pure security-descriptor manipulation: the SMB side is the
 * engine's.
 */
#ifndef IPAM_FOLDERACL_H
#define IPAM_FOLDERACL_H

#include <stdbool.h>

#include "sd.h"
#include "strbuf.h"

/*
 * Put the ACEs of ds in the order of the folder ACL fs (as smbcacls left
 * it): each ACE of ds goes where its mapped folder ACE is; ACEs that map
 * to nothing (S-1-5-32-554, denies) keep their place after.  Used so that
 * Samba's mapping of the AD DACL matches the folder ACE for ACE.
 */
int ipam_folderacl_order_like(struct ipam_sd *ds, const struct ipam_sd *fs);
/*
 * Fold explicit ACEs whose folder mapping repeats an earlier one's (the
 * default GPO DACL holds (A;CI;…;;;DA) and (A;;…;;;DA)): the earlier ACE
 * takes the later one's rights and flags, the later one goes.  smbcacls
 * keeps one folder ACE of such a pair, so aclcheck could never pass with
 * both.  Returns how many ACEs went.
 */
int ipam_folderacl_fold_duplicates(struct ipam_sd *ds);
/* The SDDL of the folder ACL Samba maps the AD descriptor ds to. */
int ipam_folderacl_want(struct strbuf *out, const struct ipam_sd *ds);
/*
 * Do two folder ACLs in SDDL say the same, once aliases are resolved
 * (domain: for the domain-relative ones)?  smbcacls and ipamctl spell
 * SIDs differently; text that does not parse compares as it is.
 */
bool ipam_folderacl_same(const char *a, const char *b,
			 const struct ipam_sid *domain);

#endif
