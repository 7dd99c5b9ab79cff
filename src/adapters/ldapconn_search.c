#include "ldapconn.h"

#include <lber.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "ldapconn_internal.h"
#include "sd.h"
#include "sigpipe.h"
#include "banned.h"

/* A paging cookie larger than this is no cookie a DC would send. */
#define MAX_COOKIE_LEN (64 * 1024)

/* One attribute held while its entry is being delivered. */
struct held_attr {
	char *name;
	struct berval **bv;
	size_t nr;
};

struct search_state {
	struct ipam_ldapconn *l;
	const char *base;
	ipam_ldapconn_entry_fn fn;
	void *ctx;
	struct held_attr *held;
	size_t nr_held, alloc_held;
	struct ipam_ldapconn_attr *attrs;
	size_t alloc_attrs;
	struct ipam_ldapconn_value *vals;
	size_t alloc_vals;
};

const struct ipam_ldapconn_value *
ipam_ldapconn_entry_values(const struct ipam_ldapconn_entry *e,
			   const char *attr, size_t *nr)
{
	size_t i;

	for (i = 0; i < e->nr; i++) {
		if (strcasecmp(e->attrs[i].name, attr) == 0) {
			*nr = e->attrs[i].nr;
			return e->attrs[i].values;
		}
	}
	*nr = 0;
	return NULL;
}

const char *ipam_ldapconn_entry_str(const struct ipam_ldapconn_entry *e,
				    const char *attr)
{
	size_t nr;
	const struct ipam_ldapconn_value *v =
		ipam_ldapconn_entry_values(e, attr, &nr);

	return nr ? v[0].data : NULL;
}

static void release_held(struct search_state *s)
{
	size_t i;

	for (i = 0; i < s->nr_held; i++) {
		ldap_memfree(s->held[i].name);
		ldap_value_free_len(s->held[i].bv);
	}
	s->nr_held = 0;
}

static void search_state_release(struct search_state *s)
{
	release_held(s);
	free(s->held);
	free(s->attrs);
	free(s->vals);
}

/* Turn one entry into plain structs, check its bounds, hand it over. */
static int deliver_entry(struct search_state *s, LDAPMessage *msg)
{
	LDAP *ld = s->l->ld;
	struct ipam_ldapconn_entry e = {0};
	BerElement *ber = NULL;
	char *dn = NULL, *a;
	size_t total = 0, i, j, k;
	int ok = LDAP_SUCCESS, rc = 0;

	dn = ldap_get_dn(ld, msg);
	if (!dn) {
		rc = ipam_ldapconn_fail(ld, s->l->uri, IPAM_EIO,
					ipam_ldapconn_result_code(ld), "search",
					s->base, NULL);
		goto out;
	}
	ldap_set_option(ld, LDAP_OPT_RESULT_CODE, &ok);
	for (a = ldap_first_attribute(ld, msg, &ber); a;
	     a = ldap_next_attribute(ld, msg, ber)) {
		struct held_attr *h;

		ALLOC_GROW(s->held, s->nr_held + 1, s->alloc_held);
		h = &s->held[s->nr_held++];
		h->name = a;
		/* libldap copies each value and NUL-terminates it. */
		h->bv = ldap_get_values_len(ld, msg, a);
		h->nr = h->bv ? (size_t)ldap_count_values_len(h->bv) : 0;
		total += h->nr;
		if (total > MAX_ENTRY_VALUES) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "ldap search '%s' on %s: entry "
					    "'%s' has more than %d values",
					    s->base, s->l->uri, dn,
					    MAX_ENTRY_VALUES);
			goto out;
		}
		for (j = 0; j < h->nr; j++) {
			if (h->bv[j]->bv_len > MAX_VALUE_LEN) {
				rc = ipam_error_set(
					IPAM_ELIMIT,
					"ldap search '%s' on %s: value of "
					"'%s' in '%s' is larger than 1 MiB",
					s->base, s->l->uri, a, dn);
				goto out;
			}
		}
	}
	if (ipam_ldapconn_result_code(ld) != LDAP_SUCCESS) {
		rc = ipam_ldapconn_fail(ld, s->l->uri, IPAM_EIO,
					ipam_ldapconn_result_code(ld), "search",
					s->base, NULL);
		goto out;
	}

	ALLOC_GROW(s->attrs, s->nr_held, s->alloc_attrs);
	ALLOC_GROW(s->vals, total, s->alloc_vals);
	for (i = 0, k = 0; i < s->nr_held; i++) {
		s->attrs[i].name = s->held[i].name;
		s->attrs[i].values = s->vals + k;
		s->attrs[i].nr = s->held[i].nr;
		for (j = 0; j < s->held[i].nr; j++, k++) {
			s->vals[k].data = s->held[i].bv[j]->bv_val;
			s->vals[k].len = s->held[i].bv[j]->bv_len;
		}
	}
	e.dn = dn;
	e.attrs = s->attrs;
	e.nr = s->nr_held;
	rc = s->fn(s->ctx, &e);
out:
	release_held(s);
	if (ber)
		ber_free(ber, 0);
	if (dn)
		ldap_memfree(dn);
	return rc;
}

/* The final result of one page; *cookie gets the next page's cookie. */
static int page_result(struct search_state *s, LDAPMessage *msg,
		       struct berval *cookie)
{
	LDAP *ld = s->l->ld;
	LDAPControl **sctrls = NULL, *page;
	char *diag = NULL, *matched = NULL, **refs = NULL;
	ber_int_t count = 0;
	int err = LDAP_SUCCESS, lrc, rc = 0;

	lrc = ldap_parse_result(ld, msg, &err, &matched, &diag, &refs, &sctrls,
				0);
	if (lrc != LDAP_SUCCESS) {
		rc = ipam_ldapconn_fail(ld, s->l->uri, IPAM_EIO, lrc, "search",
					s->base, NULL);
		goto out;
	}
	if (err != LDAP_SUCCESS) {
		rc = ipam_ldapconn_fail(ld, s->l->uri, 0, err, "search",
					s->base, diag ? diag : "");
		goto out;
	}
	page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL);
	if (!page)
		goto out;
	lrc = ldap_parse_pageresponse_control(ld, page, &count, cookie);
	if (lrc != LDAP_SUCCESS) {
		rc = ipam_ldapconn_fail(ld, s->l->uri, IPAM_EIO, lrc, "search",
					s->base,
					"malformed paged results control");
		goto out;
	}
	if (cookie->bv_len > MAX_COOKIE_LEN)
		rc = ipam_error_set(IPAM_ELIMIT,
				    "ldap search '%s' on %s: paging cookie "
				    "larger than %d bytes",
				    s->base, s->l->uri, MAX_COOKIE_LEN);
out:
	if (sctrls)
		ldap_controls_free(sctrls);
	if (refs)
		ber_memvfree((void **)refs);
	if (diag)
		ldap_memfree(diag);
	if (matched)
		ldap_memfree(matched);
	return rc;
}

/* Read one request's answers until its final result. */
static int read_results(struct search_state *s, int msgid,
			struct berval *cookie)
{
	LDAP *ld = s->l->ld;
	struct timeval tv = {.tv_sec = s->l->timeout};
	LDAPMessage *msg = NULL;
	int type, rc = 0;

	for (;;) {
		type = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
		if (type == 0) {
			rc = ipam_ldapconn_fail(ld, s->l->uri, IPAM_ETIMEOUT,
						LDAP_TIMEOUT, "search", s->base,
						"");
			break;
		}
		if (type < 0) {
			rc = ipam_ldapconn_fail(ld, s->l->uri, 0,
						ipam_ldapconn_result_code(ld),
						"search", s->base, NULL);
			msg = NULL;
			break;
		}
		if (type == LDAP_RES_SEARCH_ENTRY) {
			rc = deliver_entry(s, msg);
		} else if (type == LDAP_RES_SEARCH_RESULT) {
			rc = page_result(s, msg, cookie);
			ldap_msgfree(msg);
			return rc;
		}
		/* Continuation references are never chased. */
		ldap_msgfree(msg);
		msg = NULL;
		if (rc)
			break;
	}
	if (msg)
		ldap_msgfree(msg);
	/* Stopped early: tell the server so it stops sending. */
	ldap_abandon_ext(ld, msgid, NULL, NULL);
	return rc;
}

int ipam_ldapconn_search_ext(struct ipam_ldapconn *l, const char *base,
			     enum ipam_ldapconn_scope scope, const char *filter,
			     const char *const attrs[],
			     ipam_ldapconn_entry_fn fn, void *ctx, int paged,
			     LDAPControl *extra)
{
	static const int scopes[] = {
		[IPAM_LDAPCONN_BASE] = LDAP_SCOPE_BASE,
		[IPAM_LDAPCONN_ONELEVEL] = LDAP_SCOPE_ONELEVEL,
		[IPAM_LDAPCONN_SUBTREE] = LDAP_SCOPE_SUBTREE,
	};
	struct search_state s = {.l = l, .base = base, .fn = fn, .ctx = ctx};
	struct timeval tv = {.tv_sec = l->timeout};
	struct berval cookie = {0, NULL};
	LDAPControl *page = NULL, *ctrls[3] = {NULL, NULL, NULL};
	int lrc, msgid, rc = 0;
	size_t nc;

	if (!l->ld) {
		rc = ipam_error_set(IPAM_EIO,
				    "ldap search '%s' on %s: not "
				    "connected",
				    base, l->uri);
		goto out;
	}
	if ((unsigned)scope > IPAM_LDAPCONN_SUBTREE || !filter || !fn) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "ldap search '%s' on %s: invalid request",
				    base, l->uri);
		goto out;
	}
	do {
		nc = 0;
		if (paged) {
			lrc = ldap_create_page_control(l->ld, l->page_size,
						       &cookie, 1, &page);
			if (lrc != LDAP_SUCCESS) {
				rc = ipam_ldapconn_fail(l->ld, l->uri, 0, lrc,
							"search", base, "");
				goto out;
			}
			ctrls[nc++] = page;
		}
		if (extra)
			ctrls[nc++] = extra;
		ctrls[nc] = NULL;
		lrc = ldap_search_ext(l->ld, base, scopes[scope], filter,
				      (char **)(uintptr_t)attrs, 0, ctrls, NULL,
				      &tv, 0, &msgid);
		if (page)
			ldap_control_free(page);
		page = NULL;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (lrc != LDAP_SUCCESS) {
			rc = ipam_ldapconn_fail(l->ld, l->uri, 0, lrc, "search",
						base, NULL);
			goto out;
		}
		rc = read_results(&s, msgid, &cookie);
		if (rc)
			goto out;
	} while (paged && cookie.bv_len > 0);
out:
	ber_memfree(cookie.bv_val);
	search_state_release(&s);
	return rc;
}

int ipam_ldapconn_search(struct ipam_ldapconn *l, const char *base,
			 enum ipam_ldapconn_scope scope, const char *filter,
			 const char *const attrs[], ipam_ldapconn_entry_fn fn,
			 void *ctx)
{
	struct ipam_sigpipe g;
	int rc;

	ipam_sigpipe_block(&g);
	rc = ipam_ldapconn_search_ext(l, base, scope, filter, attrs, fn, ctx, 1,
				      NULL);
	ipam_sigpipe_restore(&g);
	return rc;
}
/*
 * Attribute values as text, in the one form formats/sid.c writes: so a SID
 * or a GUID read here compares equal, as a string, to one from a
 * security descriptor.
 */

/* MS-DTYP 2.3.4: Data1, Data2, Data3 little-endian; Data4 as stored. */
int ipam_ldapconn_guid_text(struct strbuf *out, const char *bytes, size_t len)
{
	struct ipam_guid g;

	if (len != sizeof(g.b))
		return ipam_error_set(IPAM_EINVAL,
				      "a GUID is 16 bytes, not %zu", len);
	memcpy(g.b, bytes, sizeof(g.b));
	ipam_guid_format(out, &g);
	return 0;
}

/* MS-DTYP 2.4.2; the value must be the SID and nothing after it. */
int ipam_ldapconn_sid_text(struct strbuf *out, const char *bytes, size_t len)
{
	struct ipam_sid sid;
	size_t used = 0;

	if (ipam_sid_from_bin(&sid, &used, bytes, len) || used != len)
		return ipam_error_set(IPAM_EINVAL, "malformed SID (%zu bytes)",
				      len);
	ipam_sid_format(out, &sid);
	return 0;
}
