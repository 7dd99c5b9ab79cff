#include "decode.h"
#include "decode_internal.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "giturl.h"
#include "scalar.h"
#include "strbuf.h"
#include "banned.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

static const char *const root_keys[] = {
	"version",
	"ipamServer",
	"database",
	"provisioning",
	"connection",
	"discovery",
	"servers",
	"defaults",
	"safety",
	"source",
	"suspend",
	"notify",
	"identity",
	"collection",
	"addressSpace",
	"report",
	"databaseConnection",
	NULL,
};
static const char *const identity_keys[] = {
	"keytab", "principal", "ccache", "timeout", "concurrency", NULL,
};
static const char *const source_keys[] = {
	"repo",	  "ref",	"path",	    "tokenFile", "tokenEnv", "caFile",
	"sshKey", "knownHosts", "cacheDir", "verify",	 NULL,
};
static const char *const verify_keys[] = {
	"mode",
	"allowedSigners",
	"keyring",
	NULL,
};
static const char *const notify_keys[] = {
	"kind",	     "url",    "events",  "secretFile",
	"secretEnv", "caFile", "timeout", NULL,
};
static const char *const provisioning_keys[] = {
	"method",    "gpoPrefix",	"delegatedGpoUsers",
	"filtering", "filterGroupName", "filterGroupOu",
	NULL,
};
static const char *const connection_keys[] = {
	"auth",		"ldapUri",     "keytab", "principal", "ccache", "user",
	"passwordFile", "passwordEnv", "caFile", "timeout",   NULL,
};
static const char *const discovery_keys[] = {
	"domain", "dc", "dns", "dhcp", "remove", "connection", "timeZone", NULL,
};
static const char *const server_keys[] = {
	"name",	    "roles", "manageability", "owner", "description",
	"timeZone", NULL,
};
static const char *const defaults_keys[] = {"manageability", NULL};
static const char *const safety_keys[] = {"maxRemovals", NULL};

/* ---- scalar typing ---- */

/* The YAML 1.2 core type of a scalar node, honouring explicit tags. */
static int scalar_type(const struct ipam_node *n, enum ipam_scalar_type *t)
{
	const char *tag = n->tag;

	if (!tag) {
		*t = n->style == IPAM_SCALAR_PLAIN ? ipam_scalar_resolve(n->str)
						   : IPAM_SCALAR_STRING;
		return 0;
	}
	if (!strcmp(tag, "!") || !strcmp(tag, TAG_PREFIX "str"))
		*t = IPAM_SCALAR_STRING;
	else if (!strcmp(tag, TAG_PREFIX "int"))
		*t = IPAM_SCALAR_INT;
	else if (!strcmp(tag, TAG_PREFIX "bool"))
		*t = IPAM_SCALAR_BOOL;
	else if (!strcmp(tag, TAG_PREFIX "null"))
		*t = IPAM_SCALAR_NULL;
	else if (!strcmp(tag, TAG_PREFIX "float"))
		*t = IPAM_SCALAR_FLOAT;
	else
		return -1;
	return 0;
}

const char *ipam_decode_describe(const struct ipam_node *n)
{
	enum ipam_scalar_type t;

	n = ipam_node_deref(n);
	if (n->kind == IPAM_NODE_MAP)
		return "a mapping";
	if (n->kind == IPAM_NODE_SEQ)
		return "a list";
	if (scalar_type(n, &t))
		return "a tagged value";
	switch (t) {
	case IPAM_SCALAR_NULL:
		return "null";
	case IPAM_SCALAR_BOOL:
		return "a boolean";
	case IPAM_SCALAR_INT:
		return "an integer";
	case IPAM_SCALAR_FLOAT:
		return "a number";
	default:
		return "a string";
	}
}

/* Tags other than the core ones are refused wherever they appear. */
static int check_tag(struct decoder *dc, const struct ipam_node *n)
{
	const char *tag = n->tag;

	if (!tag || !strcmp(tag, "!") ||
	    (!strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) &&
	     (!strcmp(tag + strlen(TAG_PREFIX), "str") ||
	      !strcmp(tag + strlen(TAG_PREFIX), "int") ||
	      !strcmp(tag + strlen(TAG_PREFIX), "bool") ||
	      !strcmp(tag + strlen(TAG_PREFIX), "null") ||
	      !strcmp(tag + strlen(TAG_PREFIX), "float") ||
	      !strcmp(tag + strlen(TAG_PREFIX), "map") ||
	      !strcmp(tag + strlen(TAG_PREFIX), "seq"))))
		return 0;
	ipam_diag_error(dc->diags, &n->pos, "unsupported YAML tag '%s'", tag);
	return -1;
}

static const struct ipam_node *want_kind(struct decoder *dc,
					 const struct ipam_node *n,
					 enum ipam_node_kind kind,
					 const char *key)
{
	const struct ipam_node *v = ipam_node_deref(n);

	if (check_tag(dc, v))
		return NULL;
	if (v->kind == kind)
		return v;
	ipam_diag_error(dc->diags, &v->pos, "'%s' must be %s, got %s", key,
			kind == IPAM_NODE_MAP ? "a mapping" : "a list",
			ipam_decode_describe(v));
	return NULL;
}

int ipam_decode_string(struct decoder *dc, const struct ipam_node *n,
		       const char *key, struct ipam_str *out)
{
	const struct ipam_node *v = ipam_node_deref(n);
	enum ipam_scalar_type t;

	if (check_tag(dc, v))
		return -1;
	if (v->kind != IPAM_NODE_STR || scalar_type(v, &t) ||
	    t != IPAM_SCALAR_STRING) {
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' must be a string, got %s", key,
				ipam_decode_describe(v));
		return -1;
	}
	if (!v->len) {
		ipam_diag_error(dc->diags, &v->pos, "'%s' must not be empty",
				key);
		return -1;
	}
	free(out->value);
	out->value = xstrdup(v->str);
	/* Where the value is used: an alias's own place, not its anchor's
	 * (one value used twice is then cited at two places). */
	out->pos = n->pos;
	return 0;
}

static int get_bool(struct decoder *dc, const struct ipam_node *n,
		    const char *key, bool *out)
{
	const struct ipam_node *v = ipam_node_deref(n);
	enum ipam_scalar_type t;

	if (check_tag(dc, v))
		return -1;
	if (v->kind != IPAM_NODE_STR || scalar_type(v, &t) ||
	    t != IPAM_SCALAR_BOOL || ipam_scalar_bool(v->str, out)) {
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' must be true or false, got %s", key,
				ipam_decode_describe(v));
		return -1;
	}
	return 0;
}

/*
 * Written as an integer (YAML 1.2 core: decimal with a sign, 0o octal, 0x
 * hex), whatever its size: the value of a plain scalar or a !!int one.
 */
static bool int_shaped(const struct ipam_node *n)
{
	const char *s = n->str, *digits = "0123456789";

	if (n->style != IPAM_SCALAR_PLAIN &&
	    !(n->tag && !strcmp(n->tag, TAG_PREFIX "int")))
		return false;
	if (n->tag && strcmp(n->tag, TAG_PREFIX "int"))
		return false;
	if (!strncmp(s, "0o", 2)) {
		s += 2;
		digits = "01234567";
	} else if (!strncmp(s, "0x", 2)) {
		s += 2;
		digits = "0123456789abcdefABCDEF";
	} else if (*s == '-' || *s == '+') {
		s++;
	}
	return *s && strspn(s, digits) == strlen(s);
}

/* An integer; min and max (what the caller accepts) only name the range
 * when the text is an integer too large for any. */
int ipam_decode_int(struct decoder *dc, const struct ipam_node *n,
		    const char *key, long long min, long long max,
		    long long *out, struct ipam_pos *pos)
{
	const struct ipam_node *v = ipam_node_deref(n);
	enum ipam_scalar_type t;

	if (check_tag(dc, v))
		return -1;
	if (v->kind == IPAM_NODE_STR && int_shaped(v) &&
	    ipam_scalar_int(v->str, out)) {
		if (min == max)
			ipam_diag_error(dc->diags, &v->pos,
					"'%s' is out of range: %s (it must be "
					"%lld)",
					key, v->str, min);
		else
			ipam_diag_error(dc->diags, &v->pos,
					"'%s' is out of range: %s (it must be "
					"between %lld and %lld)",
					key, v->str, min, max);
		return -1;
	}
	if (v->kind == IPAM_NODE_STR && v->tag &&
	    !strcmp(v->tag, TAG_PREFIX "int") && ipam_scalar_int(v->str, out)) {
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' must be an integer: the value '%s' is "
				"not one (tagged !!int)",
				key, v->str);
		return -1;
	}
	if (v->kind != IPAM_NODE_STR || scalar_type(v, &t) ||
	    t != IPAM_SCALAR_INT || ipam_scalar_int(v->str, out)) {
		ipam_diag_error(dc->diags, &v->pos,
				"'%s' must be an integer, got %s", key,
				ipam_decode_describe(v));
		return -1;
	}
	if (pos)
		*pos = v->pos;
	return 0;
}

/* Enumerations: report the accepted values and the closest one. */
static int get_enum(struct decoder *dc, const struct ipam_node *n,
		    const char *key, const char *const values[],
		    const char **out, struct ipam_pos *pos)
{
	struct ipam_str s = {0};
	struct strbuf list = STRBUF_INIT;
	const char *best = NULL;
	int i, best_d = 3;

	if (ipam_decode_string(dc, n, key, &s))
		return -1;
	for (i = 0; values[i]; i++) {
		int d;

		if (!strcmp(values[i], s.value)) {
			*out = values[i];
			*pos = s.pos;
			free(s.value);
			strbuf_release(&list);
			return 0;
		}
		d = ipam_scalar_edit_distance(values[i], s.value, 2);
		if (d < best_d && d * 3 <= (int)strlen(values[i])) {
			best_d = d;
			best = values[i];
		}
		strbuf_addf(&list, "%s%s", i ? ", " : "", values[i]);
	}
	if (best)
		ipam_diag_error(dc->diags, &s.pos,
				"'%s' must be one of %s; got '%s' (did you "
				"mean '%s'?)",
				key, list.buf, s.value, best);
	else
		ipam_diag_error(dc->diags, &s.pos,
				"'%s' must be one of %s; got '%s'", key,
				list.buf, s.value);
	strbuf_release(&list);
	free(s.value);
	return -1;
}

/* ---- mappings ---- */

/* Keys that would hold a secret inline; *File / *Env variants are fine. */
static int is_secret_key(const char *k)
{
	static const char *const words[] = {"password", "passwd", "secret",
					    "token",	"apikey", "credential"};
	struct strbuf low = STRBUF_INIT;
	size_t i;
	int secret = 0;

	for (i = 0; k[i]; i++)
		strbuf_addch(&low,
			     k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]);
	if (low.len > 4 && (!strcmp(low.buf + low.len - 4, "file") ||
			    !strcmp(low.buf + low.len - 3, "env")))
		goto out;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low.buf, words[i]))
			secret = 1;
out:
	strbuf_release(&low);
	return secret;
}

static const char *key_text(const struct ipam_node *k)
{
	k = ipam_node_deref(k);
	return k->kind == IPAM_NODE_STR ? k->str : NULL;
}

/*
 * Check a mapping's keys: strings, no duplicates, all known.  ok[i] says
 * whether entry i is usable; every problem becomes a diagnostic.
 */
static void check_map(struct decoder *dc, const struct ipam_node *map,
		      const char *const known[], const char *where, char *ok)
{
	const char **texts = xcalloc(map->nr ? map->nr : 1, sizeof(*texts));
	size_t *first = xcalloc(map->nr ? map->nr : 1, sizeof(*first));
	size_t i, j;

	for (i = 0; i < map->nr; i++)
		texts[i] = key_text(map->keys[i]);
	ipam_scalar_first_equal(first, texts, map->nr, false);
	for (i = 0; i < map->nr; i++) {
		const struct ipam_node *k = ipam_node_deref(map->keys[i]);
		const char *best = NULL;
		int best_d = 3;

		ok[i] = 0;
		if (k->kind != IPAM_NODE_STR) {
			ipam_diag_error(dc->diags, &k->pos,
					"mapping keys must be strings, got %s",
					ipam_decode_describe(k));
			continue;
		}
		j = first[i];
		if (j < i) {
			const struct ipam_pos *first_pos =
				&ipam_node_deref(map->keys[j])->pos;

			ipam_diag_error(dc->diags, &k->pos,
					"duplicate key '%s' (first at line %d, "
					"column %d)",
					k->str, first_pos->line,
					first_pos->col);
			continue;
		}
		for (j = 0; known[j]; j++)
			if (!strcmp(known[j], k->str))
				break;
		if (known[j]) {
			ok[i] = 1;
			continue;
		}
		if (is_secret_key(k->str)) {
			ipam_diag_error(dc->diags, &k->pos,
					"inline secret '%s' is not allowed: "
					"name a file (passwordFile) or an "
					"environment variable (passwordEnv) "
					"that holds it",
					k->str);
			continue;
		}
		for (j = 0; known[j]; j++) {
			int d = ipam_scalar_edit_distance(known[j], k->str, 2);

			if (d < best_d && d * 3 <= (int)strlen(known[j])) {
				best_d = d;
				best = known[j];
			}
		}
		if (best)
			ipam_diag_error(dc->diags, &k->pos,
					"unknown key '%s' in %s (did you mean "
					"'%s'?)",
					k->str, where, best);
		else
			ipam_diag_error(dc->diags, &k->pos,
					"unknown key '%s' in %s", k->str,
					where);
	}
	free(texts);
	free(first);
}

/* Advance *i to the next usable entry of a checked mapping. */
int ipam_decode_next(const struct ipam_node *map, const char *ok, size_t *i,
		     const char **key, const struct ipam_node **val)
{
	for (; *i < map->nr; (*i)++) {
		if (ok[*i]) {
			*key = key_text(map->keys[*i]);
			*val = map->items[*i];
			return 1;
		}
	}
	return 0;
}

static void require(struct decoder *dc, const struct ipam_node *map,
		    const char *key, const char *where, int present)
{
	if (!present)
		ipam_diag_error(dc->diags, &map->pos,
				"missing required key '%s' in %s", key, where);
}

/*
 * The mapping n as the value of key, with its keys checked: NULL when n is
 * not a mapping (diagnosed), else *ok says which entries to use (free it).
 */
const struct ipam_node *
ipam_decode_map(struct decoder *dc, const struct ipam_node *n, const char *key,
		const char *const known[], const char *where, char **ok)
{
	const struct ipam_node *map = want_kind(dc, n, IPAM_NODE_MAP, key);

	*ok = NULL;
	if (!map)
		return NULL;
	*ok = xcalloc(map->nr + 1, 1);
	check_map(dc, map, known, where, *ok);
	return map;
}

static void decode_connection(struct decoder *dc, const struct ipam_node *n,
			      struct ipam_connection *c, const char *where)
{
	static const char *const auths[] = {"kerberos", "simple", NULL};
	const struct ipam_node *map, *val;
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "connection", connection_keys, where, &ok);
	if (!map)
		return;
	c->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "auth")) {
			const char *a;

			if (!get_enum(dc, val, key, auths, &a, &c->auth_pos))
				c->auth = !strcmp(a, "simple")
						  ? IPAM_AUTH_SIMPLE
						  : IPAM_AUTH_KERBEROS;
		} else if (!strcmp(key, "ldapUri")) {
			ipam_decode_string(dc, val, key, &c->ldap_uri);
		} else if (!strcmp(key, "keytab")) {
			ipam_decode_string(dc, val, key, &c->keytab);
		} else if (!strcmp(key, "principal")) {
			ipam_decode_string(dc, val, key, &c->principal);
		} else if (!strcmp(key, "ccache")) {
			ipam_decode_string(dc, val, key, &c->ccache);
		} else if (!strcmp(key, "user")) {
			ipam_decode_string(dc, val, key, &c->user);
		} else if (!strcmp(key, "passwordFile")) {
			ipam_decode_string(dc, val, key, &c->password_file);
		} else if (!strcmp(key, "passwordEnv")) {
			ipam_decode_string(dc, val, key, &c->password_env);
		} else if (!strcmp(key, "caFile")) {
			ipam_decode_string(dc, val, key, &c->ca_file);
		} else if (!strcmp(key, "timeout")) {
			long long t;

			if (!ipam_decode_int(dc, val, key, 1, 3600, &t,
					     &c->timeout_pos)) {
				if (t < 1 || t > 3600)
					ipam_diag_error(dc->diags,
							&c->timeout_pos,
							"'timeout' must be "
							"between 1 and 3600 "
							"seconds, got %lld",
							t);
				else
					c->timeout = (int)t;
			}
		}
	}
	free(ok);
}

static void decode_provisioning(struct decoder *dc, const struct ipam_node *n)
{
	static const char *const methods[] = {"gpo", "manual", NULL};
	static const char *const filterings[] = {"computer", "group", NULL};
	struct ipam_desired *d = dc->d;
	const struct ipam_node *map, *val;
	const char *key;
	int has_method = 0;
	char *ok;
	size_t i, j;

	map = ipam_decode_map(dc, n, "provisioning", provisioning_keys,
			      "'provisioning'", &ok);
	if (!map)
		return;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "method")) {
			const char *m;

			has_method = 1;
			if (!get_enum(dc, val, key, methods, &m,
				      &d->method_pos))
				ipam_method_parse(m, &d->method);
		} else if (!strcmp(key, "gpoPrefix")) {
			ipam_decode_string(dc, val, key, &d->gpo_prefix);
		} else if (!strcmp(key, "filtering")) {
			const char *m;

			if (!get_enum(dc, val, key, filterings, &m,
				      &d->filtering_pos))
				d->filtering =
					!strcmp(m, "group")
						? IPAM_FILTERING_GROUP
						: IPAM_FILTERING_COMPUTER;
		} else if (!strcmp(key, "filterGroupName")) {
			ipam_decode_string(dc, val, key, &d->filter_group_name);
		} else if (!strcmp(key, "filterGroupOu")) {
			ipam_decode_string(dc, val, key, &d->filter_group_ou);
		} else if (!strcmp(key, "delegatedGpoUsers")) {
			const struct ipam_node *seq =
				want_kind(dc, val, IPAM_NODE_SEQ, key);

			for (j = 0; seq && j < seq->nr; j++) {
				struct ipam_str u = {0};

				if (ipam_decode_string(dc, seq->items[j],
						       "delegatedGpoUsers[]",
						       &u))
					continue;
				ALLOC_GROW(d->delegated_users,
					   d->nr_delegated + 1,
					   d->alloc_delegated);
				d->delegated_users[d->nr_delegated++] = u;
			}
		}
	}
	require(dc, map, "method", "'provisioning'", has_method);
	free(ok);
}

static void decode_domain(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_domain dom = {.dc = true, .dns = true, .dhcp = true};
	const struct ipam_node *map, *val;
	struct ipam_str name = {0};
	const char *key;
	int has_domain = 0;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "discovery[]", discovery_keys,
			      "a discovery entry", &ok);
	if (!map)
		return;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "domain")) {
			has_domain = 1;
			ipam_decode_string(dc, val, key, &name);
		} else if (!strcmp(key, "dc")) {
			get_bool(dc, val, key, &dom.dc);
		} else if (!strcmp(key, "dns")) {
			get_bool(dc, val, key, &dom.dns);
		} else if (!strcmp(key, "dhcp")) {
			get_bool(dc, val, key, &dom.dhcp);
		} else if (!strcmp(key, "remove")) {
			if (!get_bool(dc, val, key, &dom.remove))
				dom.remove_pos = ipam_node_deref(val)->pos;
		} else if (!strcmp(key, "connection")) {
			decode_connection(dc, val, &dom.conn,
					  "a domain's 'connection'");
		} else if (!strcmp(key, "timeZone")) {
			ipam_decode_time_zone(dc, val, &dom.time_zone);
		}
	}
	require(dc, map, "domain", "a discovery entry", has_domain);
	free(ok);
	if (!name.value) {
		ipam_connection_release(&dom.conn);
		free(dom.time_zone.value);
		return;
	}
	/* A domain being removed is not discovered: its servers keep what
	 * the inventory knew. */
	if (dom.remove)
		dom.dc = dom.dns = dom.dhcp = false;
	dom.name = name.value;
	/* An entry that is an alias is cited where the alias stands. */
	dom.pos = n->kind == IPAM_NODE_ALIAS ? n->pos : name.pos;
	dom.decl = dc->decl++;
	ALLOC_GROW(dc->d->domains, dc->d->nr_domains + 1, dc->d->alloc_domains);
	dc->d->domains[dc->d->nr_domains++] = dom;
}

static void decode_roles(struct decoder *dc, const struct ipam_node *n,
			 struct ipam_server *s)
{
	const struct ipam_node *seq = want_kind(dc, n, IPAM_NODE_SEQ, "roles");
	static const char *const roles[] = {"dc", "dns", "dhcp", "nps", NULL};
	size_t i;

	if (!seq)
		return;
	s->roles_set = true;
	s->roles_pos = seq->pos;
	for (i = 0; i < seq->nr; i++) {
		const char *r;
		struct ipam_pos pos;
		enum ipam_role role;

		if (get_enum(dc, seq->items[i], "roles[]", roles, &r, &pos))
			continue;
		ipam_role_parse(r, &role);
		if (s->roles & role)
			ipam_diag_error(dc->diags, &pos,
					"role '%s' is listed twice", r);
		s->roles |= role;
	}
	if (!seq->nr)
		ipam_diag_error(dc->diags, &seq->pos,
				"'roles' must not be empty: list the roles "
				"(dc, dns, dhcp, nps) or leave the key out "
				"to take them from discovery");
}

static int get_manageability(struct decoder *dc, const struct ipam_node *n,
			     enum ipam_manageability *out, struct ipam_pos *pos)
{
	static const char *const values[] = {"managed", "unmanaged",
					     "unspecified", NULL};
	const char *m;

	if (get_enum(dc, n, "manageability", values, &m, pos))
		return -1;
	return ipam_manageability_parse(m, out);
}

static void decode_server(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_server s = {0};
	struct ipam_str name = {0};
	const struct ipam_node *map, *val;
	const char *key;
	int has_name = 0;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "servers[]", server_keys, "a server entry",
			      &ok);
	if (!map)
		return;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "name")) {
			has_name = 1;
			ipam_decode_string(dc, val, key, &name);
		} else if (!strcmp(key, "roles")) {
			decode_roles(dc, val, &s);
		} else if (!strcmp(key, "manageability")) {
			get_manageability(dc, val, &s.manageability,
					  &s.manageability_pos);
		} else if (!strcmp(key, "owner")) {
			ipam_decode_string(dc, val, key, &s.owner);
		} else if (!strcmp(key, "description")) {
			ipam_decode_string(dc, val, key, &s.description);
		} else if (!strcmp(key, "timeZone")) {
			ipam_decode_time_zone(dc, val, &s.time_zone);
		}
	}
	require(dc, map, "name", "a server entry", has_name);
	free(ok);
	if (!name.value) {
		free(s.owner.value);
		free(s.description.value);
		free(s.time_zone.value);
		return;
	}
	s.name = name.value;
	/* An entry that is an alias is cited where the alias stands. */
	s.pos = n->kind == IPAM_NODE_ALIAS ? n->pos : name.pos;
	s.decl = dc->decl++;
	ALLOC_GROW(dc->d->servers, dc->d->nr_servers + 1, dc->d->alloc_servers);
	dc->d->servers[dc->d->nr_servers++] = s;
}

static void decode_simple_map(struct decoder *dc, const struct ipam_node *n,
			      const char *name)
{
	const struct ipam_node *map, *val;
	const char *key;
	char *ok;
	size_t i;
	int is_defaults = !strcmp(name, "defaults");
	struct strbuf where = STRBUF_INIT;

	strbuf_addf(&where, "'%s'", name);
	map = ipam_decode_map(dc, n, name,
			      is_defaults ? defaults_keys : safety_keys,
			      where.buf, &ok);
	if (!map) {
		strbuf_release(&where);
		return;
	}
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (is_defaults) {
			get_manageability(dc, val,
					  &dc->d->default_manageability,
					  &dc->d->default_manageability_pos);
		} else {
			long long v;
			struct ipam_pos pos;

			if (ipam_decode_int(dc, val, key, 0, LLONG_MAX, &v,
					    &pos))
				continue;
			if (v < 0)
				ipam_diag_error(dc->diags, &pos,
						"'maxRemovals' must not be "
						"negative, got %lld",
						v);
			else {
				dc->d->max_removals = v;
				dc->d->max_removals_pos = pos;
			}
		}
	}
	strbuf_release(&where);
	free(ok);
}

/* A top-level key may be set by one file only (lists are merged). */
static int claim_top_key(struct decoder *dc, const char *key,
			 const struct ipam_node *knode)
{
	size_t i;

	if (!strcmp(key, "version") || !strcmp(key, "discovery") ||
	    !strcmp(key, "servers") || !strcmp(key, "notify"))
		return 0;
	for (i = 0; i < dc->nr_seen; i++) {
		if (strcmp(dc->seen[i].key, key))
			continue;
		ipam_diag_error(dc->diags, &knode->pos,
				"'%s' is already set in %s:%d:%d (a key other "
				"than discovery, servers and notify may be "
				"set in one file only)",
				key, dc->seen[i].pos.file, dc->seen[i].pos.line,
				dc->seen[i].pos.col);
		return -1;
	}
	if (dc->nr_seen < sizeof(dc->seen) / sizeof(dc->seen[0])) {
		dc->seen[dc->nr_seen].key = key;
		dc->seen[dc->nr_seen].pos = knode->pos;
		dc->nr_seen++;
	}
	return 0;
}

/* source.verify: the mode and the one file it reads; which file goes
 * with which mode is validate's (it names both places). */
static void decode_verify(struct decoder *dc, const struct ipam_node *n,
			  struct ipam_verify_cfg *v)
{
	static const char *const modes[] = {"ssh", "openpgp", NULL};
	const struct ipam_node *map, *val;
	const char *key, *m;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "verify", verify_keys, "'verify'", &ok);
	if (!map)
		return;
	v->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "mode")) {
			/* present, even when its value is refused: validate
			 * then does not call it missing */
			v->mode_pos = ipam_node_deref(val)->pos;
			if (!get_enum(dc, val, key, modes, &m, &v->mode_pos))
				v->mode = !strcmp(m, "ssh")
						  ? IPAM_VERIFY_SSH
						  : IPAM_VERIFY_OPENPGP;
		} else if (!strcmp(key, "allowedSigners")) {
			ipam_decode_string(dc, val, key, &v->allowed_signers);
		} else {
			ipam_decode_string(dc, val, key, &v->keyring);
		}
	}
	free(ok);
}

static void decode_source(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_source_cfg *c = &dc->d->source;
	const struct ipam_node *map, *val;
	const char *key, *why;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "source", source_keys, "'source'", &ok);
	if (!map)
		return;
	c->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		struct ipam_str *dst;

		if (!strcmp(key, "verify")) {
			decode_verify(dc, val, &c->verify);
			continue;
		}
		dst = !strcmp(key, "repo")	   ? &c->repo
		      : !strcmp(key, "ref")	   ? &c->ref
		      : !strcmp(key, "path")	   ? &c->path
		      : !strcmp(key, "tokenFile")  ? &c->token_file
		      : !strcmp(key, "tokenEnv")   ? &c->token_env
		      : !strcmp(key, "caFile")	   ? &c->ca_file
		      : !strcmp(key, "sshKey")	   ? &c->ssh_key
		      : !strcmp(key, "knownHosts") ? &c->known_hosts
						   : &c->cache_dir;

		ipam_decode_string(dc, val, key, dst);
	}
	if (!c->repo.value)
		ipam_diag_error(dc->diags, &c->pos,
				"'source' needs 'repo' (a git URL or path)");
	else if ((why = ipam_giturl_secret(c->repo.value)))
		ipam_diag_error(dc->diags, &c->repo.pos, "'repo': %s", why);
	if (c->token_file.value && c->token_env.value)
		ipam_diag_error(dc->diags, &c->token_env.pos,
				"'source' takes 'tokenFile' or 'tokenEnv', not "
				"both");
	if (c->path.value &&
	    (c->path.value[0] == '/' || strstr(c->path.value, "..")))
		ipam_diag_error(dc->diags, &c->path.pos,
				"'path' must be a directory inside the "
				"repository, without '..', got '%s'",
				c->path.value);
	free(ok);
}

static void decode_notify(struct decoder *dc, const struct ipam_node *n)
{
	static const char *const kinds[] = {"generic", "slack", "teams", NULL};
	struct ipam_notify_cfg h = {0};
	const struct ipam_node *map, *val;
	const char *key, *k;
	bool has_kind = false;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "notify", notify_keys, "a 'notify' entry",
			      &ok);
	if (!map)
		return;
	h.pos = map->pos;
	h.events = (1u << IPAM_EVENT_NR) - 1;
	h.timeout = 5;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "kind")) {
			has_kind = true;
			if (!get_enum(dc, val, key, kinds, &k, &h.kind.pos))
				h.kind.value = xstrdup(k);
		} else if (!strcmp(key, "url")) {
			if (!ipam_decode_string(dc, val, key, &h.url) &&
			    strncmp(h.url.value, "https://", 8) &&
			    strncmp(h.url.value, "http://", 7))
				ipam_diag_error(dc->diags, &h.url.pos,
						"'url' must be an http:// or "
						"https:// URL");
		} else if (!strcmp(key, "events")) {
			const struct ipam_node *seq =
				want_kind(dc, val, IPAM_NODE_SEQ, key);

			h.events = 0;
			h.events_pos = ipam_node_deref(val)->pos;
			for (size_t j = 0; seq && j < seq->nr; j++) {
				struct ipam_str e = {0};
				enum ipam_event ev;

				if (ipam_decode_string(dc, seq->items[j], key,
						       &e))
					continue;
				if (ipam_event_parse(e.value, &ev))
					ipam_diag_error(
						dc->diags, &e.pos,
						"unknown event '%s' (drift, "
						"applied, apply_failed, "
						"refused, source_invalid, "
						"access_changed, "
						"collection_failed, "
						"utilization)",
						e.value);
				else
					h.events |= 1u << ev;
				free(e.value);
			}
			if (seq && !seq->nr)
				ipam_diag_error(dc->diags, &h.events_pos,
						"'events' must not be empty");
		} else if (!strcmp(key, "secretFile")) {
			ipam_decode_string(dc, val, key, &h.secret_file);
		} else if (!strcmp(key, "secretEnv")) {
			ipam_decode_string(dc, val, key, &h.secret_env);
		} else if (!strcmp(key, "caFile")) {
			ipam_decode_string(dc, val, key, &h.ca_file);
		} else if (!strcmp(key, "timeout")) {
			long long t;
			struct ipam_pos pos;

			if (ipam_decode_int(dc, val, key, 1, 60, &t, &pos))
				continue;
			if (t < 1 || t > 60)
				ipam_diag_error(dc->diags, &pos,
						"'timeout' must be between 1 "
						"and 60 seconds, got %lld",
						t);
			else
				h.timeout = (int)t;
		}
	}
	free(ok);
	if (!has_kind)
		ipam_diag_error(dc->diags, &h.pos,
				"a 'notify' entry needs 'kind' (generic, "
				"slack or teams)");
	/* Slack and Teams URLs carry a token: they may come from the
	 * secret instead, to keep it out of the repository. */
	if (!h.url.value &&
	    ((h.kind.value && !strcmp(h.kind.value, "generic")) ||
	     (!h.secret_file.value && !h.secret_env.value)))
		ipam_diag_error(dc->diags, &h.pos,
				"a 'notify' entry needs 'url' (slack and "
				"teams may take it from secretFile or "
				"secretEnv instead)");
	if (h.secret_file.value && h.secret_env.value)
		ipam_diag_error(dc->diags, &h.secret_env.pos,
				"a 'notify' entry takes 'secretFile' or "
				"'secretEnv', not both");
	/* Unsigned, a receiver cannot tell ipamctl from anyone who knows
	 * the URL: refused here rather than at the first event. */
	if (h.kind.value && !strcmp(h.kind.value, "generic") &&
	    !h.secret_file.value && !h.secret_env.value)
		ipam_diag_error(dc->diags, &h.pos,
				"a 'generic' notify entry needs 'secretFile' "
				"or 'secretEnv' (the key of its HMAC-SHA256 "
				"signature)");
	ALLOC_GROW(dc->d->notify, dc->d->nr_notify + 1, dc->d->alloc_notify);
	dc->d->notify[dc->d->nr_notify++] = h;
}

/* An integer in [lo, hi] into *out (left alone when refused). */
static void get_bounded(struct decoder *dc, const struct ipam_node *n,
			const char *key, long long lo, long long hi, int *out,
			struct ipam_pos *pos)
{
	long long t;

	if (ipam_decode_int(dc, n, key, lo, hi, &t, pos))
		return;
	if (t < lo || t > hi)
		ipam_diag_error(dc->diags, pos,
				"'%s' must be between %lld and %lld, got %lld",
				key, lo, hi, t);
	else
		*out = (int)t;
}

static void decode_identity(struct decoder *dc, const struct ipam_node *n)
{
	struct ipam_identity_cfg *c = &dc->d->identity;
	const struct ipam_node *map, *val;
	const char *key;
	char *ok;
	size_t i;

	map = ipam_decode_map(dc, n, "identity", identity_keys, "'identity'",
			      &ok);
	if (!map)
		return;
	c->pos = map->pos;
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (!strcmp(key, "keytab"))
			ipam_decode_string(dc, val, key, &c->keytab);
		else if (!strcmp(key, "principal"))
			ipam_decode_string(dc, val, key, &c->principal);
		else if (!strcmp(key, "ccache"))
			ipam_decode_string(dc, val, key, &c->ccache);
		else if (!strcmp(key, "timeout"))
			get_bounded(dc, val, key, 1, 300, &c->timeout,
				    &c->timeout_pos);
		else
			get_bounded(dc, val, key, 1, 64, &c->concurrency,
				    &c->concurrency_pos);
	}
	if (c->keytab.value && c->ccache.value)
		ipam_diag_error(dc->diags, &c->ccache.pos,
				"'identity' takes 'keytab' or 'ccache', not "
				"both");
	free(ok);
}

static void decode_root(struct decoder *dc, const struct ipam_node *root)
{
	struct ipam_desired *d = dc->d;
	const struct ipam_node *map, *val;
	const char *key;
	char *ok;
	size_t i, j;

	map = ipam_node_deref(root);
	if (map->kind != IPAM_NODE_MAP) {
		ipam_diag_error(dc->diags, &map->pos,
				"the desired state must be a mapping (keys "
				"such as version, discovery, servers), got %s",
				ipam_decode_describe(map));
		dc->unreadable = 1;
		return;
	}
	ok = xcalloc(map->nr + 1, 1);
	check_map(dc, map, root_keys, "the desired state", ok);
	FOR_EACH_KEY(map, ok, i, key, val)
	{
		if (claim_top_key(dc, key, ipam_node_deref(map->keys[i])))
			continue;
		if (!strcmp(key, "version")) {
			long long v;
			struct ipam_pos pos;

			dc->version_seen = 1;
			if (ipam_decode_int(dc, val, key, 1, 1, &v, &pos))
				continue;
			if (v != 1)
				ipam_diag_error(
					dc->diags, &pos,
					"unsupported version %lld: this "
					"ipamctl reads version 1",
					v);
			else if (!d->version) {
				d->version = 1;
				d->version_pos = pos;
			}
		} else if (!strcmp(key, "ipamServer")) {
			ipam_decode_string(dc, val, key, &d->ipam_server);
		} else if (!strcmp(key, "database")) {
			ipam_decode_string(dc, val, key, &d->database);
		} else if (!strcmp(key, "databaseConnection")) {
			ipam_decode_db_connection(dc, val);
		} else if (!strcmp(key, "provisioning")) {
			decode_provisioning(dc, val);
		} else if (!strcmp(key, "connection")) {
			decode_connection(dc, val, &d->conn, "'connection'");
		} else if (!strcmp(key, "discovery")) {
			const struct ipam_node *seq =
				want_kind(dc, val, IPAM_NODE_SEQ, key);

			for (j = 0; seq && j < seq->nr; j++)
				decode_domain(dc, seq->items[j]);
		} else if (!strcmp(key, "servers")) {
			const struct ipam_node *seq =
				want_kind(dc, val, IPAM_NODE_SEQ, key);

			for (j = 0; seq && j < seq->nr; j++)
				decode_server(dc, seq->items[j]);
		} else if (!strcmp(key, "defaults") || !strcmp(key, "safety")) {
			decode_simple_map(dc, val, key);
		} else if (!strcmp(key, "source")) {
			decode_source(dc, val);
		} else if (!strcmp(key, "suspend")) {
			if (!get_bool(dc, val, key, &d->suspend))
				d->suspend_pos = ipam_node_deref(val)->pos;
		} else if (!strcmp(key, "notify")) {
			const struct ipam_node *seq =
				want_kind(dc, val, IPAM_NODE_SEQ, key);

			for (j = 0; seq && j < seq->nr; j++)
				decode_notify(dc, seq->items[j]);
		} else if (!strcmp(key, "identity")) {
			decode_identity(dc, val);
		} else if (!strcmp(key, "collection")) {
			ipam_decode_collection(dc, val);
		} else if (!strcmp(key, "addressSpace")) {
			ipam_decode_address_space(dc, val);
		} else if (!strcmp(key, "report")) {
			ipam_decode_report(dc, val);
		}
	}
	free(ok);
}

/* Keys some file must set; reported at the top of the first file. */
static void require_top_keys(struct decoder *dc)
{
	static const char *const required[] = {"ipamServer", "provisioning"};
	struct ipam_pos top = {dc->d->files[0], 1, 1};
	size_t i, j;

	if (!dc->version_seen)
		ipam_diag_error(dc->diags, &top,
				"missing required key 'version'");
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		for (j = 0; j < dc->nr_seen; j++)
			if (!strcmp(dc->seen[j].key, required[i]))
				break;
		if (j == dc->nr_seen)
			ipam_diag_error(dc->diags, &top,
					"missing required key '%s'",
					required[i]);
	}
}

int ipam_decode(struct ipam_desired *d, struct ipam_node *const *roots,
		size_t n, bool unreadable, struct ipam_diags *diags)
{
	struct decoder dc = {.d = d, .diags = diags, .unreadable = unreadable};

	for (size_t i = 0; i < n; i++)
		if (roots[i])
			decode_root(&dc, roots[i]);
	if (n && !dc.unreadable)
		require_top_keys(&dc);
	return dc.unreadable ? -1 : 0;
}

int ipam_decode_is_yaml_name(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}
