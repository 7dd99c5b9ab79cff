#include "validate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dburi.h"
#include "error.h"
#include "scalar.h"
#include "strbuf.h"
#include "banned.h"

bool ipam_validate_gpo_prefix(const char *p)
{
	size_t n = strlen(p), i;

	if (n < 1 || n > 64 || !isalnum((unsigned char)p[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
			return false;
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static bool is_env_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* An account name: no control characters and none AD forbids. */
static bool is_account_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 256)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || strchr("\"/[]:;|=,+*?<>", *s))
			return false;
	return true;
}

static void check_absolute(struct ipam_diags *diags, const struct ipam_str *s,
			   const char *key)
{
	if (s->value && s->value[0] != '/')
		ipam_diag_error(diags, &s->pos,
				"'%s' must be an absolute path, got '%s'", key,
				s->value);
}

/* Checks of the values as written, wherever the connection block is. */
static void check_connection_fields(struct ipam_diags *diags,
				    const struct ipam_connection *c)
{
	check_absolute(diags, &c->keytab, "keytab");
	check_absolute(diags, &c->password_file, "passwordFile");
	check_absolute(diags, &c->ca_file, "caFile");
	if (c->password_env.value && !is_env_name(c->password_env.value))
		ipam_diag_error(diags, &c->password_env.pos,
				"'passwordEnv' must name an environment "
				"variable (letters, digits, '_'), got '%s'",
				c->password_env.value);
	if (c->ldap_uri.value && strncmp(c->ldap_uri.value, "ldap://", 7) &&
	    strncmp(c->ldap_uri.value, "ldaps://", 8))
		ipam_diag_error(diags, &c->ldap_uri.pos,
				"'ldapUri' must start with ldap:// (StartTLS) "
				"or ldaps://, got '%s'",
				c->ldap_uri.value);
	if (c->user.value && !is_account_name(c->user.value) &&
	    !strchr(c->user.value, '='))
		ipam_diag_error(diags, &c->user.pos,
				"'user' must be a UPN, DOMAIN\\name or a DN, "
				"got '%s'",
				c->user.value);
}

static void merge_str(struct ipam_str *dst, const struct ipam_str *over,
		      const struct ipam_str *base)
{
	const struct ipam_str *src = over->value ? over : base;

	dst->value = src->value ? xstrdup(src->value) : NULL;
	dst->pos = src->pos;
}

static void merge_connection(struct ipam_connection *eff,
			     const struct ipam_connection *over,
			     const struct ipam_connection *base)
{
	memset(eff, 0, sizeof(*eff));
	eff->auth = over->auth ? over->auth : base->auth;
	eff->auth_pos = over->auth ? over->auth_pos : base->auth_pos;
	if (!eff->auth)
		eff->auth = IPAM_AUTH_KERBEROS;
	merge_str(&eff->ldap_uri, &over->ldap_uri, &base->ldap_uri);
	merge_str(&eff->keytab, &over->keytab, &base->keytab);
	merge_str(&eff->principal, &over->principal, &base->principal);
	merge_str(&eff->ccache, &over->ccache, &base->ccache);
	merge_str(&eff->user, &over->user, &base->user);
	merge_str(&eff->password_file, &over->password_file,
		  &base->password_file);
	merge_str(&eff->password_env, &over->password_env, &base->password_env);
	merge_str(&eff->ca_file, &over->ca_file, &base->ca_file);
	eff->timeout = over->timeout ? over->timeout : base->timeout;
	if (!eff->timeout)
		eff->timeout = IPAM_DEFAULT_TIMEOUT;
	eff->pos = over->pos.line ? over->pos : base->pos;
}

/* Rules on the connection a domain ends up with. */
static void check_effective(struct ipam_diags *diags,
			    const struct ipam_domain *dom)
{
	const struct ipam_connection *c = &dom->effective;
	const struct ipam_pos *where = c->pos.line ? &c->pos : &dom->pos;

	if (c->auth != IPAM_AUTH_SIMPLE) {
		if (c->password_file.value || c->password_env.value)
			ipam_diag_warn(diags,
				       c->password_file.value
					       ? &c->password_file.pos
					       : &c->password_env.pos,
				       "domain '%s' uses auth 'kerberos': the "
				       "password is not used",
				       dom->name);
		return;
	}
	if (!c->user.value)
		ipam_diag_error(diags, where,
				"domain '%s': auth 'simple' needs 'user' (a "
				"UPN or DN to bind as)",
				dom->name);
	if (!c->password_file.value && !c->password_env.value)
		ipam_diag_error(diags, where,
				"domain '%s': auth 'simple' needs "
				"'passwordFile' or 'passwordEnv'",
				dom->name);
	else if (c->password_file.value && c->password_env.value)
		ipam_diag_error(diags, &c->password_env.pos,
				"domain '%s': set one of 'passwordFile' and "
				"'passwordEnv', not both",
				dom->name);
}

static int cmp_domain(const void *a, const void *b)
{
	const struct ipam_domain *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->decl < y->decl ? -1 : x->decl > y->decl;
}

static int cmp_server(const void *a, const void *b)
{
	const struct ipam_server *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->decl < y->decl ? -1 : x->decl > y->decl;
}

static void validate_domains(struct ipam_desired *d, struct ipam_diags *diags)
{
	size_t i;

	for (i = 0; i < d->nr_domains; i++) {
		struct ipam_domain *dom = &d->domains[i];

		if (!ipam_scalar_is_fqdn(dom->name))
			ipam_diag_error(diags, &dom->pos,
					"'%s' is not a valid DNS domain name "
					"(two or more labels of letters, "
					"digits and '-')",
					dom->name);
		lower(dom->name);
		check_connection_fields(diags, &dom->conn);
		merge_connection(&dom->effective, &dom->conn, &d->conn);
		check_effective(diags, dom);
	}
	if (d->nr_domains > 1)
		qsort(d->domains, d->nr_domains, sizeof(*d->domains),
		      cmp_domain);
	for (i = 1; i < d->nr_domains; i++) {
		const struct ipam_domain *a = &d->domains[i - 1];
		const struct ipam_domain *b = &d->domains[i];

		if (strcmp(a->name, b->name))
			continue;
		ipam_diag_error(diags, &b->pos,
				"discovery domain '%s' is declared twice "
				"(also at %s:%d:%d)",
				b->name, a->pos.file, a->pos.line, a->pos.col);
	}
}

/* The discovery domain a server belongs to: the longest matching suffix. */
static const struct ipam_domain *domain_of(const struct ipam_desired *d,
					   const char *name)
{
	const struct ipam_domain *best = NULL;
	size_t n = strlen(name), i;

	for (i = 0; i < d->nr_domains; i++) {
		const char *dn = d->domains[i].name;
		size_t m = strlen(dn);

		if (n > m + 1 && name[n - m - 1] == '.' &&
		    !strcmp(name + n - m, dn) &&
		    (!best || m > strlen(best->name)))
			best = &d->domains[i];
	}
	return best;
}

static void validate_servers(struct ipam_desired *d, struct ipam_diags *diags)
{
	size_t i;

	for (i = 0; i < d->nr_servers; i++) {
		struct ipam_server *s = &d->servers[i];

		if (!ipam_scalar_is_fqdn(s->name)) {
			ipam_diag_error(diags, &s->pos,
					"'%s' is not a fully qualified server "
					"name (host.domain, letters, digits "
					"and '-')",
					s->name);
		}
		lower(s->name);
		if (!s->manageability)
			s->manageability = d->default_manageability;
	}
	if (d->nr_servers > 1)
		qsort(d->servers, d->nr_servers, sizeof(*d->servers),
		      cmp_server);
	for (i = 0; i < d->nr_servers; i++) {
		struct ipam_server *s = &d->servers[i];

		if (i && !strcmp(d->servers[i - 1].name, s->name)) {
			const struct ipam_pos *p = &d->servers[i - 1].pos;

			ipam_diag_error(diags, &s->pos,
					"server '%s' is declared twice (also "
					"at %s:%d:%d)",
					s->name, p->file, p->line, p->col);
			continue;
		}
		s->domain = domain_of(d, s->name);
		if (s->domain || !ipam_scalar_is_fqdn(s->name))
			continue;
		if (!s->roles_set)
			ipam_diag_error(diags, &s->pos,
					"server '%s' is in no discovery domain "
					"and declares no roles: a server that "
					"is not discovered (such as an NPS "
					"server) needs 'roles'",
					s->name);
		else
			ipam_diag_error(diags, &s->pos,
					"server '%s' is in no discovery "
					"domain: add its domain to "
					"'discovery'",
					s->name);
	}
}

/* Each delegated user once (sorted, not compared pairwise: 50,000 are
 * checked in well under a second). */
static void check_delegated(const struct ipam_desired *d,
			    struct ipam_diags *diags)
{
	size_t n = d->nr_delegated, i, j;
	const char **names = xcalloc(n ? n : 1, sizeof(*names));
	size_t *first = xcalloc(n ? n : 1, sizeof(*first));

	for (i = 0; i < n; i++)
		names[i] = d->delegated_users[i].value;
	ipam_scalar_first_equal(first, names, n, true);
	for (i = 0; i < n; i++) {
		const struct ipam_str *u = &d->delegated_users[i];

		if (!is_account_name(u->value)) {
			ipam_diag_error(diags, &u->pos,
					"'%s' is not a valid account name",
					u->value);
			continue;
		}
		j = first[i];
		if (j < i)
			ipam_diag_error(diags, &u->pos,
					"delegated GPO user '%s' is listed "
					"twice (also at line %d, column %d)",
					u->value,
					d->delegated_users[j].pos.line,
					d->delegated_users[j].pos.col);
	}
	free(names);
	free(first);
}

/* A filter group name template: {prefix} and {role} the only
 * placeholders, {role} there (three GPOs, three groups), the rest
 * letters, digits, '-', '_' or '.'; at most 64 characters once the
 * longest role is put in (a CN's limit). */
static const char *check_group_template(const struct ipam_desired *d)
{
	const char *t = d->filter_group_name.value;
	struct strbuf sb = STRBUF_INIT;
	const char *why = NULL;

	if (!strstr(t, "{role}"))
		return "it must contain {role}: each GPO has a group of its "
		       "own";
	for (const char *p = t; *p && !why; p++) {
		if (*p == '{') {
			if (strncmp(p, "{prefix}", 8) &&
			    strncmp(p, "{role}", 6))
				why = "the placeholders are {prefix} and "
				      "{role}";
			else
				p = strchr(p, '}');
		} else if (!isalnum((unsigned char)*p) && *p != '-' &&
			   *p != '_' && *p != '.') {
			why = "use letters, digits, '-', '_', '.' and the "
			      "placeholders {prefix} and {role}";
		}
	}
	if (!why) {
		ipam_desired_filter_group_name(&sb, d, "DC_NPS");
		if (sb.len > 64 || !isalnum((unsigned char)sb.buf[0]))
			why = "the names it forms must start with a letter or "
			      "digit and have at most 64 characters";
	}
	strbuf_release(&sb);
	return why;
}

/* filterGroupOu: RDNs "OU=x" or "CN=x" joined by ',', relative to the
 * domain's DN (which ipamctl appends). */
static bool group_ou_ok(const char *ou)
{
	const char *p = ou;

	for (;;) {
		size_t n = 0;

		if (strncasecmp(p, "OU=", 3) && strncasecmp(p, "CN=", 3))
			return false;
		p += 3;
		while (isalnum((unsigned char)p[n]) || p[n] == ' ' ||
		       p[n] == '-' || p[n] == '_' || p[n] == '.')
			n++;
		if (!n || p[0] == ' ' || p[n - 1] == ' ')
			return false;
		p += n;
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}

static void validate_filtering(const struct ipam_desired *d,
			       struct ipam_diags *diags)
{
	const char *why;

	if (d->filter_group_name.value &&
	    (why = check_group_template(d)) != NULL)
		ipam_diag_error(diags, &d->filter_group_name.pos,
				"filterGroupName '%s': %s",
				d->filter_group_name.value, why);
	if (d->filter_group_ou.value && !group_ou_ok(d->filter_group_ou.value))
		ipam_diag_error(diags, &d->filter_group_ou.pos,
				"filterGroupOu '%s': give the container "
				"relative to the domain's DN, as OU=... or "
				"CN=... parts joined by ',' (e.g. "
				"'OU=IPAM,OU=Groups'; letters, digits, ' ', "
				"'-', '_', '.')",
				d->filter_group_ou.value);
	if (d->filtering == IPAM_FILTERING_GROUP &&
	    d->method != IPAM_METHOD_GPO)
		ipam_diag_error(diags, &d->filtering_pos,
				"filtering 'group' needs provisioning method "
				"'gpo'");
}

static void validate_provisioning(struct ipam_desired *d,
				  struct ipam_diags *diags)
{
	validate_filtering(d, diags);
	if (d->method == IPAM_METHOD_GPO && !d->gpo_prefix.value)
		ipam_diag_error(diags, &d->method_pos,
				"provisioning method 'gpo' needs 'gpoPrefix' "
				"(the GPOs are named <prefix>_DHCP, "
				"<prefix>_DNS and <prefix>_DC_NPS)");
	if (d->gpo_prefix.value &&
	    !ipam_validate_gpo_prefix(d->gpo_prefix.value))
		ipam_diag_error(diags, &d->gpo_prefix.pos,
				"gpoPrefix '%s' cannot form valid GPO names: "
				"use 1 to 64 letters, digits, '-' or '_', "
				"starting with a letter or digit",
				d->gpo_prefix.value);
	check_delegated(d, diags);
}

/*
 * database: a SQLite file or a PostgreSQL URI without a password, and no
 * plain-text connection to another host (formats/dburi); the password's
 * file or variable in databaseConnection:, which only a PostgreSQL
 * database uses.
 */
static void validate_database(const struct ipam_desired *d,
			      struct ipam_diags *diags)
{
	const struct ipam_db_connection *c = &d->db_conn;
	const char *v = d->database.value;
	struct ipam_dburi u;

	if (v && ipam_dburi_parse(&u, v))
		ipam_diag_error(diags, &d->database.pos, "%s",
				ipam_error_last());
	else if (v)
		ipam_dburi_release(&u);
	check_absolute(diags, &c->password_file, "passwordFile");
	if (c->password_env.value && !is_env_name(c->password_env.value))
		ipam_diag_error(diags, &c->password_env.pos,
				"'passwordEnv' must name an environment "
				"variable (letters, digits, '_'), got '%s'",
				c->password_env.value);
	if (c->password_file.value && c->password_env.value)
		ipam_diag_error(diags, &c->password_env.pos,
				"databaseConnection: set one of "
				"'passwordFile' and 'passwordEnv', not both");
}

/*
 * source.verify: a mode, the file of that mode, not the other's.  An
 * absolute path, as every file a desired state names on the host: the
 * file is the host's (never read from the repository, whose commits it
 * judges), and reconcile runs from wherever its timer starts it.
 */
static void validate_verify(const struct ipam_verify_cfg *v,
			    struct ipam_diags *diags)
{
	const struct ipam_str *want = NULL, *other = NULL;
	const char *want_key = "", *other_key = "";

	if (!v->pos.line)
		return;
	check_absolute(diags, &v->allowed_signers, "allowedSigners");
	check_absolute(diags, &v->keyring, "keyring");
	if (v->mode == IPAM_VERIFY_SSH) {
		want = &v->allowed_signers;
		want_key = "allowedSigners";
		other = &v->keyring;
		other_key = "keyring";
	} else if (v->mode == IPAM_VERIFY_OPENPGP) {
		want = &v->keyring;
		want_key = "keyring";
		other = &v->allowed_signers;
		other_key = "allowedSigners";
	} else {
		if (!v->mode_pos.line)
			ipam_diag_error(diags, &v->pos,
					"'verify' needs 'mode' (ssh or "
					"openpgp)");
		return;
	}
	if (!want->value)
		ipam_diag_error(diags, &v->pos,
				"'verify' with mode %s needs '%s' (%s)",
				ipam_verify_mode_name(v->mode), want_key,
				v->mode == IPAM_VERIFY_SSH
					? "an OpenSSH allowed_signers file"
					: "a keyring file for gpgv");
	if (other->value)
		ipam_diag_error(diags, &other->pos,
				"'%s' goes with mode %s, not %s", other_key,
				v->mode == IPAM_VERIFY_SSH ? "openpgp" : "ssh",
				ipam_verify_mode_name(v->mode));
}

/* The account part of a UPN, DOMAIN\\name or principal, lower-cased and
 * with its realm or domain: "administrator@corp.example.test". */
static char *account_key(const char *s)
{
	const char *bs = strchr(s, '\\');
	char *k;

	if (bs && !strchr(s, '@'))
		k = xasprintf("%s@%.*s", bs + 1, (int)(bs - s), s);
	else
		k = xstrdup(s);
	lower(k);
	return k;
}

/* Does the account a equal b, the NetBIOS domain of a DOMAIN\\name
 * matching any realm whose first label it is? */
static bool same_account(const char *a, const char *b)
{
	char *x = account_key(a), *y = account_key(b);
	const char *ax = strchr(x, '@'), *ay = strchr(y, '@');
	bool same = !strcmp(x, y);

	if (!same && ax && ay && ax - x == ay - y &&
	    !strncmp(x, y, (size_t)(ax - x))) {
		size_t nx = strcspn(ax + 1, "."), ny = strcspn(ay + 1, ".");

		same = nx == ny && !strncmp(ax + 1, ay + 1, nx) &&
		       (!ax[1 + nx] || !ay[1 + ny]);
	}
	free(x);
	free(y);
	return same;
}

static void check_not_admin(struct ipam_diags *diags,
			    const struct ipam_identity_cfg *id,
			    const char *principal,
			    const struct ipam_connection *c, const char *where)
{
	const struct ipam_str *admin[] = {&c->user, &c->principal};

	for (size_t i = 0; i < 2; i++) {
		if (!admin[i]->value ||
		    !same_account(principal, admin[i]->value))
			continue;
		ipam_diag_error(diags,
				id->principal.value ? &id->principal.pos
						    : &id->pos,
				"the identity '%s' is the administrative "
				"account of %s (%s:%d:%d): verify must probe "
				"as the IPAM server's computer account, which "
				"proves the access IPAM has",
				principal, where, admin[i]->pos.file,
				admin[i]->pos.line, admin[i]->pos.col);
		return;
	}
	if (id->keytab.value && c->keytab.value &&
	    !strcmp(id->keytab.value, c->keytab.value))
		ipam_diag_error(diags, &id->keytab.pos,
				"the identity's keytab '%s' is the one of the "
				"administrative connection of %s: give the "
				"IPAM server's own keytab",
				id->keytab.value, where);
}

static void validate_identity(struct ipam_desired *d, struct ipam_diags *diags)
{
	const struct ipam_identity_cfg *id = &d->identity;
	struct strbuf p = STRBUF_INIT;

	if (!id->pos.line)
		return;
	check_absolute(diags, &id->keytab, "keytab");
	check_absolute(diags, &id->ccache, "ccache");
	if (id->principal.value && (!is_account_name(id->principal.value) ||
				    !strchr(id->principal.value, '@')))
		ipam_diag_error(diags, &id->principal.pos,
				"'principal' must be NAME@REALM, got '%s'",
				id->principal.value);
	ipam_identity_principal(&p, d);
	if (!p.len) {
		if (d->ipam_server.value)
			ipam_diag_error(diags, &id->pos,
					"'identity' needs 'principal': none "
					"follows from ipamServer '%s'",
					d->ipam_server.value);
		goto out;
	}
	check_not_admin(diags, id, p.buf, &d->conn, "'connection'");
	for (size_t i = 0; i < d->nr_domains; i++) {
		struct strbuf w = STRBUF_INIT;

		strbuf_addf(&w, "domain '%s'", d->domains[i].name);
		check_not_admin(diags, id, p.buf, &d->domains[i].conn, w.buf);
		strbuf_release(&w);
	}
out:
	strbuf_release(&p);
}

static void validate_report(struct ipam_report_cfg *c, struct ipam_diags *diags)
{
	if (!c->pos.line)
		return;
	check_absolute(diags, &c->path, "path");
	if (!c->format)
		c->format = IPAM_REPORT_HTML;
}

void ipam_validate(struct ipam_desired *d, struct ipam_diags *diags)
{
	if (!d->default_manageability)
		d->default_manageability = IPAM_MANAGE_UNSPECIFIED;
	if (d->max_removals < 0)
		d->max_removals = IPAM_DEFAULT_MAX_REMOVALS;
	if (!d->conn.auth)
		d->conn.auth = IPAM_AUTH_KERBEROS;
	if (!d->conn.timeout)
		d->conn.timeout = IPAM_DEFAULT_TIMEOUT;

	if (d->ipam_server.value) {
		if (!ipam_scalar_is_fqdn(d->ipam_server.value))
			ipam_diag_error(diags, &d->ipam_server.pos,
					"ipamServer '%s' is not a fully "
					"qualified name (host.domain)",
					d->ipam_server.value);
		lower(d->ipam_server.value);
	}
	validate_provisioning(d, diags);
	validate_database(d, diags);
	check_connection_fields(diags, &d->conn);
	if (d->conn.ldap_uri.value)
		ipam_diag_error(diags, &d->conn.ldap_uri.pos,
				"'ldapUri' names one domain's controller: set "
				"it under that discovery entry's "
				"'connection'");
	validate_domains(d, diags);
	validate_servers(d, diags);
	validate_verify(&d->source.verify, diags);
	validate_identity(d, diags);
	validate_report(&d->report, diags);
	ipam_validate_address_space(d, diags);
}
