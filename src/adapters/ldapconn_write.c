#include "ldapconn.h"

#include <lber.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fault.h"
#include "ldapconn_internal.h"
#include "sigpipe.h"
#include "banned.h"

/* Bounds on what we send (see the header). */
#define MAX_MODS	 1000
#define MAX_REQUEST_LEN	 MAX_PDU_LEN
#define MAX_TREE_ENTRIES 10000
#define MAX_TREE_DEPTH	 32

/*
 * A refused write, in our codes.  Insufficient access is not IPAM_EAUTH:
 * that code means "your credentials were rejected" and belongs to the
 * bind; here the bind succeeded and the server's words say what is
 * missing.
 */
static int map_write_code(int lrc)
{
	switch (lrc) {
	/* A reconciler adding a value that is there, or deleting one that is
	 * not, wants to tell that from a real error. */
	case LDAP_ALREADY_EXISTS:
	case LDAP_TYPE_OR_VALUE_EXISTS:
		return IPAM_EEXISTS;
	case LDAP_NO_SUCH_ATTRIBUTE:
		return IPAM_ENOTFOUND;
	case LDAP_UNDEFINED_TYPE:
	case LDAP_INAPPROPRIATE_MATCHING:
	case LDAP_CONSTRAINT_VIOLATION:
	case LDAP_INVALID_SYNTAX:
	case LDAP_NAMING_VIOLATION:
	case LDAP_OBJECT_CLASS_VIOLATION:
	case LDAP_NOT_ALLOWED_ON_NONLEAF:
	case LDAP_NOT_ALLOWED_ON_RDN:
	case LDAP_NO_OBJECT_CLASS_MODS:
	case LDAP_UNWILLING_TO_PERFORM:
		return IPAM_EINVAL;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_AFFECTS_MULTIPLE_DSAS:
		return IPAM_EIO;
	default:
		return ipam_ldapconn_map_code(lrc) == IPAM_ERROR
			       ? IPAM_EIO
			       : ipam_ldapconn_map_code(lrc);
	}
}

static int write_fail(struct ipam_ldapconn *l, int lrc, const char *op,
		      const char *dn, const char *diag)
{
	return ipam_ldapconn_fail(l->ld, l->uri, map_write_code(lrc), lrc, op,
				  dn, diag);
}

/* Wait for the result of one write request and turn it into our code. */
static int write_result(struct ipam_ldapconn *l, int msgid, const char *op,
			const char *dn)
{
	struct timeval tv = {.tv_sec = l->timeout};
	LDAPMessage *msg = NULL;
	char *diag = NULL, *matched = NULL;
	int err = LDAP_SUCCESS, type, lrc, rc = 0;

	type = ldap_result(l->ld, msgid, LDAP_MSG_ALL, &tv, &msg);
	if (type == 0) {
		/* The server may still apply it: the caller must re-read. */
		ldap_abandon_ext(l->ld, msgid, NULL, NULL);
		return ipam_ldapconn_fail(l->ld, l->uri, IPAM_ETIMEOUT,
					  LDAP_TIMEOUT, op, dn, "");
	}
	if (type < 0)
		return write_fail(l, ipam_ldapconn_result_code(l->ld), op, dn,
				  NULL);
	lrc = ldap_parse_result(l->ld, msg, &err, &matched, &diag, NULL, NULL,
				1);
	if (lrc != LDAP_SUCCESS)
		rc = ipam_ldapconn_fail(l->ld, l->uri, IPAM_EIO, lrc, op, dn,
					NULL);
	else if (err != LDAP_SUCCESS)
		rc = write_fail(l, err, op, dn, diag ? diag : "");
	if (diag)
		ldap_memfree(diag);
	if (matched)
		ldap_memfree(matched);
	return rc;
}

int ipam_ldapconn_check_write(struct ipam_ldapconn *l, const char *op,
			      const char *dn)
{
	if (!dn || !dn[0])
		return ipam_error_set(IPAM_EINVAL, "ldap %s on %s: no DN", op,
				      l->uri);
	if (!l->ld)
		return ipam_error_set(IPAM_EIO,
				      "ldap %s '%s' on %s: not connected", op,
				      dn, l->uri);
	return 0;
}

size_t ipam_ldapconn_writes(const struct ipam_ldapconn *l)
{
	return l->writes;
}

/* libldap's LDAPMod array for mods, in one allocation of arrays. */
struct mod_arrays {
	LDAPMod *mods;
	LDAPMod **pmods;
	struct berval *bv;
	struct berval **pbv;
};

static void mod_arrays_release(struct mod_arrays *m)
{
	free(m->mods);
	free(m->pmods);
	free(m->bv);
	free(m->pbv);
}

static int build_mods(struct mod_arrays *m, struct ipam_ldapconn *l,
		      const char *op, const char *dn,
		      const struct ipam_ldapconn_mod *mods, size_t n,
		      int adding)
{
	static const int ops[] = {
		[IPAM_LDAPCONN_MOD_ADD] = LDAP_MOD_ADD,
		[IPAM_LDAPCONN_MOD_REPLACE] = LDAP_MOD_REPLACE,
		[IPAM_LDAPCONN_MOD_DELETE] = LDAP_MOD_DELETE,
	};
	size_t i, j, k, p, total = 0, bytes = 0;

	memset(m, 0, sizeof(*m));
	if (!mods || n == 0)
		return ipam_error_set(IPAM_EINVAL,
				      "ldap %s '%s' on %s: nothing to write",
				      op, dn, l->uri);
	if (n > MAX_MODS)
		return ipam_error_set(IPAM_ELIMIT,
				      "ldap %s '%s' on %s: more than %d "
				      "modifications",
				      op, dn, l->uri, MAX_MODS);
	for (i = 0; i < n; i++) {
		const struct ipam_ldapconn_mod *md = &mods[i];

		if (!md->attr || !md->attr[0] ||
		    (md->op != IPAM_LDAPCONN_MOD_ADD &&
		     md->op != IPAM_LDAPCONN_MOD_REPLACE &&
		     md->op != IPAM_LDAPCONN_MOD_DELETE) ||
		    (adding && md->op != IPAM_LDAPCONN_MOD_ADD) ||
		    (md->op == IPAM_LDAPCONN_MOD_ADD && md->nr == 0) ||
		    (md->nr && !md->values))
			return ipam_error_set(IPAM_EINVAL,
					      "ldap %s '%s' on %s: invalid "
					      "modification of '%s'",
					      op, dn, l->uri,
					      md->attr ? md->attr : "");
		if (md->nr > MAX_ENTRY_VALUES - total)
			return ipam_error_set(IPAM_ELIMIT,
					      "ldap %s '%s' on %s: more than "
					      "%d values",
					      op, dn, l->uri, MAX_ENTRY_VALUES);
		total += md->nr;
		for (j = 0; j < md->nr; j++) {
			if (md->values[j].len > MAX_VALUE_LEN)
				return ipam_error_set(
					IPAM_ELIMIT,
					"ldap %s '%s' on %s: value of '%s' "
					"is larger than 1 MiB",
					op, dn, l->uri, md->attr);
			bytes += md->values[j].len;
			if (bytes > MAX_REQUEST_LEN)
				return ipam_error_set(
					IPAM_ELIMIT,
					"ldap %s '%s' on %s: request larger "
					"than %d MiB",
					op, dn, l->uri,
					MAX_REQUEST_LEN / (1024 * 1024));
		}
	}
	m->mods = xcalloc(n, sizeof(*m->mods));
	m->pmods = xcalloc(n + 1, sizeof(*m->pmods));
	m->bv = xcalloc(total ? total : 1, sizeof(*m->bv));
	m->pbv = xcalloc(total + n, sizeof(*m->pbv));
	for (i = 0, k = 0, p = 0; i < n; i++) {
		const struct ipam_ldapconn_mod *md = &mods[i];
		LDAPMod *lm = &m->mods[i];

		lm->mod_op = ops[md->op] | LDAP_MOD_BVALUES;
		/* libldap only reads what these point at. */
		lm->mod_type = (char *)(uintptr_t)md->attr;
		lm->mod_bvalues = md->nr ? &m->pbv[p] : NULL;
		for (j = 0; j < md->nr; j++, k++) {
			m->bv[k].bv_val = (char *)(uintptr_t)md->values[j].data;
			m->bv[k].bv_len = md->values[j].len;
			m->pbv[p++] = &m->bv[k];
		}
		if (md->nr)
			m->pbv[p++] = NULL;
		m->pmods[i] = lm;
	}
	return 0;
}

/* add or modify, with extra (may be NULL) as a server control. */
int ipam_ldapconn_write_entry(struct ipam_ldapconn *l, const char *op,
			      const char *dn,
			      const struct ipam_ldapconn_mod *mods, size_t n,
			      int adding, LDAPControl *extra)
{
	LDAPControl *ctrls[2] = {extra, NULL};
	struct mod_arrays m;
	int lrc, msgid, rc;

	rc = ipam_ldapconn_check_write(l, op, dn);
	if (rc)
		return rc;
	rc = build_mods(&m, l, op, dn, mods, n, adding);
	if (rc)
		goto out;
	l->writes++;
	if (adding)
		lrc = ldap_add_ext(l->ld, dn, m.pmods, extra ? ctrls : NULL,
				   NULL, &msgid);
	else
		lrc = ldap_modify_ext(l->ld, dn, m.pmods, extra ? ctrls : NULL,
				      NULL, &msgid);
	if (lrc != LDAP_SUCCESS)
		rc = write_fail(l, lrc, op, dn, NULL);
	else
		rc = write_result(l, msgid, op, dn);
	ipam_fault_point(adding ? "ldap add" : "ldap modify", dn);
out:
	mod_arrays_release(&m);
	return rc;
}

int ipam_ldapconn_add(struct ipam_ldapconn *l, const char *dn,
		      const struct ipam_ldapconn_mod *mods, size_t n)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = ipam_ldapconn_write_entry(l, "add", dn, mods, n, 1, NULL);
	ipam_sigpipe_restore(&g);
	return rc;
}

int ipam_ldapconn_modify(struct ipam_ldapconn *l, const char *dn,
			 const struct ipam_ldapconn_mod *mods, size_t n)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = ipam_ldapconn_write_entry(l, "modify", dn, mods, n, 0, NULL);
	ipam_sigpipe_restore(&g);
	return rc;
}

static int delete_one(struct ipam_ldapconn *l, const char *dn)
{
	int lrc, msgid, rc;

	rc = ipam_ldapconn_check_write(l, "delete", dn);
	if (rc)
		return rc;
	l->writes++;
	lrc = ldap_delete_ext(l->ld, dn, NULL, NULL, &msgid);
	if (lrc != LDAP_SUCCESS)
		rc = write_fail(l, lrc, "delete", dn, NULL);
	else
		rc = write_result(l, msgid, "delete", dn);
	ipam_fault_point("ldap delete", dn);
	return rc;
}

int ipam_ldapconn_delete(struct ipam_ldapconn *l, const char *dn)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = delete_one(l, dn);
	ipam_sigpipe_restore(&g);
	return rc;
}

/* The DNs of a subtree, with their depth (RDN count). */
struct tree_dn {
	char *dn;
	size_t depth;
};

struct tree {
	struct ipam_ldapconn *l;
	const char *base;
	struct tree_dn *v;
	size_t nr, alloc;
};

static size_t dn_depth(const char *dn)
{
	size_t n = 1;

	for (; *dn; dn++) {
		if (*dn == '\\' && dn[1])
			dn++;
		else if (*dn == ',')
			n++;
	}
	return n;
}

static int tree_entry(void *ctx, const struct ipam_ldapconn_entry *e)
{
	struct tree *t = ctx;

	if (t->nr >= MAX_TREE_ENTRIES)
		return ipam_error_set(IPAM_ELIMIT,
				      "ldap delete tree '%s' on %s: more than "
				      "%d entries, nothing deleted",
				      t->base, t->l->uri, MAX_TREE_ENTRIES);
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr].dn = xstrdup(e->dn);
	t->v[t->nr].depth = dn_depth(e->dn);
	t->nr++;
	return 0;
}

/* Deepest first, so every child goes before its parent. */
static int deeper_first(const void *a, const void *b)
{
	const struct tree_dn *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return strcmp(x->dn, y->dn);
}

static int delete_tree(struct ipam_ldapconn *l, const char *dn)
{
	static const char *const no_attrs[] = {LDAP_NO_ATTRS, NULL};
	struct tree t = {.l = l, .base = dn};
	size_t i, top;
	int rc;

	rc = ipam_ldapconn_check_write(l, "delete tree", dn);
	if (rc)
		return rc;
	rc = ipam_ldapconn_search_ext(l, dn, IPAM_LDAPCONN_SUBTREE,
				      "(objectClass=*)", no_attrs, tree_entry,
				      &t, 1, NULL);
	if (rc)
		goto out;
	if (t.nr == 0) {
		rc = ipam_error_set(IPAM_ENOTFOUND,
				    "ldap delete tree '%s' on %s: No such "
				    "object",
				    dn, l->uri);
		goto out;
	}
	top = t.v[0].depth;
	for (i = 1; i < t.nr; i++)
		if (t.v[i].depth < top)
			top = t.v[i].depth;
	for (i = 0; i < t.nr; i++) {
		if (t.v[i].depth - top >= MAX_TREE_DEPTH) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "ldap delete tree '%s' on %s: "
					    "deeper than %d levels, nothing "
					    "deleted",
					    dn, l->uri, MAX_TREE_DEPTH);
			goto out;
		}
	}
	qsort(t.v, t.nr, sizeof(*t.v), deeper_first);
	for (i = 0; i < t.nr; i++) {
		rc = delete_one(l, t.v[i].dn);
		/* Gone meanwhile (another rollback): what we wanted. */
		if (rc == IPAM_ENOTFOUND && i + 1 < t.nr)
			rc = 0;
		if (rc)
			goto out;
	}
out:
	for (i = 0; i < t.nr; i++)
		free(t.v[i].dn);
	free(t.v);
	return rc;
}

int ipam_ldapconn_delete_tree(struct ipam_ldapconn *l, const char *dn)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = delete_tree(l, dn);
	ipam_sigpipe_restore(&g);
	return rc;
}
