/*
 * labad: Active Directory in the lab, for the integration tests of ipamctl
 * that check AD with tools independent of it (samba-tool, ldapsearch,
 * smbclient, Samba's Python bindings) and read its `-o json` output.
 * labutil is the lab-generic layer below; this one knows the forests, the
 * IPAM1_* GPOs and IPAMUG.
 *
 * Helpers fail the running cmocka test (fail_msg) instead of returning an
 * error.  Runners take the forest number n of IPAM_LAB_<n>_* (1 corp, 2
 * branch); helpers about a forest's objects take its struct labad_forest.
 * Every char * and char ** returned is malloc'ed and the caller's: free it
 * with free() or lab_strv_free(); string vectors are NULL-terminated and
 * never NULL themselves.
 */
#ifndef IPAM_LABAD_H
#define IPAM_LABAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "labutil.h"

struct ipam_node;

/* The GPOs ipamctl makes in each domain, in this order. */
#define LABAD_NGPO 3
extern const char *const labad_gpo_name[LABAD_NGPO];

/* The Apply Group Policy extended right. */
#define LABAD_APPLY_GUID "edacfd8f-ffb3-11d1-b41d-00a0c968f939"
/* Authenticated Users. */
#define LABAD_AU_SID "S-1-5-11"

/* ACEs as labad_aces() prints them, up to the SID: type flags mask obj. */
#define LABAD_ACE_READ "A 0x02 0x00020094 - " /* (A;CI;RPLCLORC;;;…) */
#define LABAD_ACE_APPLY                                                        \
	"OA 0x02 0x00000100 " LABAD_APPLY_GUID " " /* (OA;CI;CR;…) */
#define LABAD_ACE_EDIT                                                         \
	"A 0x02 0x000f00ff - " /* (A;CI;RPWPCCDCLCLORCWOWDSDDTSW) */
#define LABAD_ACE_DNS "A 0x02 0x00020014 - " /* (A;CI;LCRPRC;;;…) */

/* What a test knows of forest n of the lab. */
struct labad_forest {
	int n;
	const char *domain;	/* $IPAM_LAB_<n>_DOMAIN */
	char *dn;		/* "DC=…" of domain */
	char *guid[LABAD_NGPO]; /* "{…}" from samba-tool gpo listall */
	char *gpo_dn[LABAD_NGPO];
	char *ipamug_sid;
};

/* Fill fo for forest n (domain and dn; the rest NULL). */
void labad_forest_init(struct labad_forest *fo, int n);
/* Free what fo holds and clear it. */
void labad_forest_release(struct labad_forest *fo);

/* ---- running things ---------------------------------------------------- */

/* $IPAMCTL, the binary under test (not to be freed). */
const char *labad_ipamctl(void);
/* ipamctl with the arguments up to NULL (3 minutes at most); *res to be
 * released with lab_run_free(). */
void labad_run_ipamctl(struct lab_run *res, ...);
/* The same with extra environment ("NAME=value", NULL-terminated). */
void labad_run_ipamctl_env(struct lab_run *res, const char *const *env, ...);
/* Fail unless the run exited with code (what names it in the message). */
void labad_expect_exit(const struct lab_run *res, int code, const char *what);

/* samba-tool args... -H ldap://<DC> -U <admin> against forest f, the
 * password from its file; *res to be released with lab_run_free(). */
void labad_samba_tool(int f, const char *const args[], struct lab_run *res);
/* The same, failing unless it exits 0. */
void labad_samba_tool_ok(int f, const char *const args[], struct lab_run *res);
/* ldapsearch -s scope -b base filter attrs... (StartTLS, admin, no LDIF
 * wrapping) against forest f; fails unless it exits 0. */
void labad_ldap_search(int f, const char *base, const char *scope,
		       const char *filter, const char *const attrs[],
		       struct lab_run *res);
/* ldapdelete -r dn: the entry and everything under it (may fail). */
void labad_ldap_delete_tree(int f, const char *dn, struct lab_run *res);
/* smbclient //<DC>/sysvol -c command against forest f (may fail). */
void labad_smbclient(int f, const char *command, struct lab_run *res);

/*
 * Samba's Python bindings as an independent reader of AD and SYSVOL
 * files, and as the hand that makes drift; fails unless the script exits
 * 0.  f 0: a local mode, args name a file:
 *   pol FILE            Registry.pol entries: key TAB value TAB type TAB data
 *   gpp FILE            preferences XML: root, items, Properties, Members
 * f 1 or 2: against that forest's DC:
 *   sid FILTER          dn TAB objectSid of every match in the domain
 *   aces DN...          each DN's DACL, one ACE a line:
 *                       index TAB type flags mask obj SID
 *   rmace DN SID [GUID] remove the ACEs of SID (object ACEs of that object
 *                       type only, with GUID) from DN's DACL
 *   tombstones          deleted objects: class TAB name TAB sid TAB parent
 * args is NULL-terminated (NULL: none).
 */
void labad_py(int f, const char *mode, const char *const args[],
	      struct lab_run *res);

/* ---- string vectors and text ------------------------------------------- */

/* A new empty vector. */
char **labad_strv_new(void);
/* Append a copy of s to *v of *n entries (*v may start NULL). */
void labad_strv_push(char ***v, size_t *n, const char *s);
/* Entries in v (NULL counts as empty). */
size_t labad_strv_len(char *const *v);
/* Does v hold s (exactly; _ci: ignoring case)? */
bool labad_strv_has(char *const *v, const char *s);
bool labad_strv_has_ci(char *const *v, const char *s);
/* Every line of text in order (lab_lines() sorts them), without its CR;
 * empty lines dropped. */
char **labad_lines(const char *text);
/* v joined with "\n  ", for messages ("" when empty). */
char *labad_join(char *const *v);
/* strcasestr (glibc has it only with _GNU_SOURCE): into hay, or NULL. */
char *labad_ci_strstr(const char *hay, const char *needle);
/* The value after "key   : " on the first line of text starting with key
 * (leading blanks skipped), or NULL. */
char *labad_field(const char *text, const char *key);
/* CLOCK_MONOTONIC in seconds. */
double labad_now_s(void);

/* ---- LDAP -------------------------------------------------------------- */

/* Values of attr (case-insensitive) in LDIF text, base64 decoded. */
char **labad_ldif_values(const char *text, const char *attr);
/* Every value of attr of the entry dn. */
char **labad_ldap_all(int f, const char *dn, const char *attr);
/* The first value of attr of the entry dn, or NULL. */
char *labad_ldap_get(int f, const char *dn, const char *attr);
/* DNs of the entries matching filter under base (scope base/one/sub). */
char **labad_ldap_dns(int f, const char *base, const char *scope,
		      const char *filter);

/*
 * The lab's desired state ($IPAM_LAB_CONFIG/ipamctl.yaml) with database
 * DB_PATH (a file, as sqlite:DB_PATH, or a URI: test_db_new), every
 * unspecified server managed, and the identity mapping replaced by KEYTAB
 * and PRINCIPAL (timeout 10), then extra (may be NULL), written to
 * DIR/ipamctl.yaml; DIR is made (0700).
 */
void labad_write_managed_config(const char *dir, const char *db_path,
				const char *keytab, const char *principal,
				const char *extra);

/* ---- the lab's objects ------------------------------------------------- */

/* "CN=IPAMUG,CN=Users,<domain DN>". */
char *labad_ipamug_dn(const struct labad_forest *fo);
/* The objectSid of the one object matching filter in forest f; fails
 * unless exactly one does. */
char *labad_sid_of(int f, const char *filter);
/* The DACLs of n (< 8) DNs in one go: acl[i] the ACE lines of dns[i],
 * sorted, each a vector. */
void labad_aces_of(int f, const char *const dns[], size_t n, char **acl[]);
/* The DACL of dn as ACE lines, sorted. */
char **labad_aces(int f, const char *dn);
/* Fail unless ACE prefix+sid is in acl (present) or not (!present). */
void labad_expect_ace(char **acl, const char *prefix, const char *sid,
		      bool present, const char *what);
/* The SIDs an ACL gives Apply Group Policy (OA … edacfd8f… SID), sorted. */
char **labad_apply_sids(char **acl);

/* samba-tool gpo listall of forest f: the GUIDs of labad_gpo_name (the
 * first of each, NULL when none; guid may be NULL), how many GPOs have
 * each name (count may be NULL); returns the number of IPAM1_* GPOs. */
size_t labad_list_gpos(int f, char *guid[LABAD_NGPO], size_t count[LABAD_NGPO]);
/* Fill fo->guid and fo->gpo_dn from listall; fail unless each of the
 * three is there exactly once and, when alone, no other IPAM1_* GPO. */
void labad_need_gpos(struct labad_forest *fo, bool alone);
/* The Options of the link of the GPO guid ("{…}", any case) in the
 * output of samba-tool gpo getlink, or NULL when not linked. */
char *labad_getlink_options(const char *getlink_out, const char *guid);
/* samba-tool gpo getlink <domain DN>, then the same. */
char *labad_link_options(const struct labad_forest *fo, const char *guid);
/* Fail unless samba-tool gpo aclcheck of forest f finds nothing. */
void labad_aclcheck_ok(int f);
/*
 * Remove every IPAM1_* GPO (links, container, SYSVOL folder) and IPAMUG:
 * what earlier runs on a lab kept up by hand left.  samba-tool gpo del
 * first; a GPO it cannot delete (a container without its CN=User child, as
 * a run killed in the middle of creating it leaves it) goes with
 * ldapdelete -r and smbclient deltree.  Best effort.
 */
void labad_remove_leftovers(const struct labad_forest *fo);
/* The pid in $IPAM_LAB_DIR/pids of the lab's process name; fails when
 * there is none. */
pid_t labad_samba_pid(const char *name);

/* ---- ipamctl's JSON ---------------------------------------------------- */

/* The value of key in a map, or NULL (map NULL or not a map: NULL). */
const struct ipam_node *labad_jkey(const struct ipam_node *map,
				   const char *key);
/* The string value of key, or NULL (absent or not a string); map's. */
const char *labad_jstr(const struct ipam_node *map, const char *key);
/* text parsed as JSON (free with ipam_node_free()); fails naming what. */
struct ipam_node *labad_parse_json(const char *text, size_t len,
				   const char *what);
/* The file validates against schemas/<schema>.schema.json
 * (python3-jsonschema, Draft 2020-12). */
void labad_schema_ok_file(const char *schema, const char *path);
/* json, written to path, validates against that schema. */
void labad_schema_ok(const char *schema, const char *json, size_t len,
		     const char *path);

#endif
