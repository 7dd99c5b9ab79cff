#include "model.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"
#include "banned.h"

static const char *const method_names[] = {
	[IPAM_METHOD_GPO] = "gpo",
	[IPAM_METHOD_MANUAL] = "manual",
};

static const char *const manage_names[] = {
	[IPAM_MANAGE_UNSPECIFIED] = "unspecified",
	[IPAM_MANAGE_UNMANAGED] = "unmanaged",
	[IPAM_MANAGE_MANAGED] = "managed",
};

static const struct {
	enum ipam_role role;
	const char *name;
} role_names[] = {
	{IPAM_ROLE_DC, "dc"},
	{IPAM_ROLE_DNS, "dns"},
	{IPAM_ROLE_DHCP, "dhcp"},
	{IPAM_ROLE_NPS, "nps"},
};

void ipam_desired_filter_group_name(struct strbuf *out,
				    const struct ipam_desired *d,
				    const char *role)
{
	const char *t = d->filter_group_name.value
				? d->filter_group_name.value
				: IPAM_DEFAULT_FILTER_GROUP_NAME;
	const char *prefix = d->gpo_prefix.value ? d->gpo_prefix.value : "";

	while (*t) {
		if (!strncmp(t, "{prefix}", 8)) {
			strbuf_addstr(out, prefix);
			t += 8;
		} else if (!strncmp(t, "{role}", 6)) {
			strbuf_addstr(out, role);
			t += 6;
		} else {
			strbuf_addch(out, *t++);
		}
	}
}

const char *ipam_desired_filter_group_ou(const struct ipam_desired *d)
{
	return d->filter_group_ou.value ? d->filter_group_ou.value
					: IPAM_DEFAULT_FILTER_GROUP_OU;
}

const char *ipam_method_name(enum ipam_method m)
{
	return m == IPAM_METHOD_GPO || m == IPAM_METHOD_MANUAL ? method_names[m]
							       : "unset";
}

int ipam_method_parse(const char *s, enum ipam_method *out)
{
	if (!strcmp(s, "gpo"))
		*out = IPAM_METHOD_GPO;
	else if (!strcmp(s, "manual"))
		*out = IPAM_METHOD_MANUAL;
	else
		return -1;
	return 0;
}

const char *ipam_manageability_name(enum ipam_manageability m)
{
	return m >= IPAM_MANAGE_UNSPECIFIED && m <= IPAM_MANAGE_MANAGED
		       ? manage_names[m]
		       : "unset";
}

int ipam_manageability_parse(const char *s, enum ipam_manageability *out)
{
	int i;

	for (i = IPAM_MANAGE_UNSPECIFIED; i <= IPAM_MANAGE_MANAGED; i++) {
		if (!strcmp(s, manage_names[i])) {
			*out = (enum ipam_manageability)i;
			return 0;
		}
	}
	return -1;
}

const char *ipam_auth_name(enum ipam_auth a)
{
	switch (a) {
	case IPAM_AUTH_KERBEROS:
		return "kerberos";
	case IPAM_AUTH_SIMPLE:
		return "simple";
	default:
		return "unset";
	}
}

const char *ipam_role_name(enum ipam_role r)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i].role == r)
			return role_names[i].name;
	return "?";
}

int ipam_role_parse(const char *s, enum ipam_role *out)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (!strcmp(s, role_names[i].name)) {
			*out = role_names[i].role;
			return 0;
		}
	}
	return -1;
}

void ipam_roles_format(struct strbuf *sb, unsigned roles, const char *sep)
{
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (!(roles & role_names[i].role))
			continue;
		if (!first)
			strbuf_addstr(sb, sep);
		strbuf_addstr(sb, role_names[i].name);
		first = 0;
	}
}

const struct ipam_domain *ipam_desired_find_domain(const struct ipam_desired *d,
						   const char *name)
{
	size_t i;

	for (i = 0; i < d->nr_domains; i++)
		if (!strcasecmp(d->domains[i].name, name))
			return &d->domains[i];
	return NULL;
}

const struct ipam_server *ipam_desired_find_server(const struct ipam_desired *d,
						   const char *name)
{
	size_t i;

	for (i = 0; i < d->nr_servers; i++)
		if (!strcasecmp(d->servers[i].name, name))
			return &d->servers[i];
	return NULL;
}

static void set_opt(struct ipam_node *map, const char *key,
		    const struct ipam_str *s)
{
	if (s->value)
		ipam_node_set_str(map, key, s->value);
}

/*
 * A connection block.  The effective one of a domain shows only the keys
 * its auth method uses; the global block shows all, as it is the base.
 */
static struct ipam_node *connection_node(const struct ipam_connection *c,
					 bool effective)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	bool krb = !effective || c->auth == IPAM_AUTH_KERBEROS;
	bool simple = !effective || c->auth == IPAM_AUTH_SIMPLE;

	ipam_node_set_str(m, "auth", ipam_auth_name(c->auth));
	set_opt(m, "ldapUri", &c->ldap_uri);
	if (krb) {
		set_opt(m, "keytab", &c->keytab);
		set_opt(m, "principal", &c->principal);
		set_opt(m, "ccache", &c->ccache);
	}
	if (simple) {
		set_opt(m, "user", &c->user);
		set_opt(m, "passwordFile", &c->password_file);
		set_opt(m, "passwordEnv", &c->password_env);
	}
	set_opt(m, "caFile", &c->ca_file);
	ipam_node_set(m, "timeout", ipam_node_int(c->timeout));
	return m;
}

/* source:, as written (verify only when given: the digests of other
 * states stay as they were). */
static struct ipam_node *source_node(const struct ipam_source_cfg *c)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	set_opt(m, "repo", &c->repo);
	set_opt(m, "ref", &c->ref);
	set_opt(m, "path", &c->path);
	set_opt(m, "tokenFile", &c->token_file);
	set_opt(m, "tokenEnv", &c->token_env);
	set_opt(m, "caFile", &c->ca_file);
	set_opt(m, "sshKey", &c->ssh_key);
	set_opt(m, "knownHosts", &c->known_hosts);
	set_opt(m, "cacheDir", &c->cache_dir);
	if (c->verify.pos.line) {
		struct ipam_node *v = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(v, "mode",
				  ipam_verify_mode_name(c->verify.mode));
		set_opt(v, "allowedSigners", &c->verify.allowed_signers);
		set_opt(v, "keyring", &c->verify.keyring);
		ipam_node_set(m, "verify", v);
	}
	return m;
}

/* identity:, as written, with the principal it ends up with. */
static struct ipam_node *identity_node(const struct ipam_desired *d)
{
	const struct ipam_identity_cfg *c = &d->identity;
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct strbuf p = STRBUF_INIT;

	set_opt(m, "keytab", &c->keytab);
	ipam_identity_principal(&p, d);
	if (p.len)
		ipam_node_set_str(m, "principal", p.buf);
	strbuf_release(&p);
	set_opt(m, "ccache", &c->ccache);
	ipam_node_set(
		m, "timeout",
		ipam_node_int(c->timeout ? c->timeout : IPAM_IDENTITY_TIMEOUT));
	ipam_node_set(m, "concurrency",
		      ipam_node_int(c->concurrency
					    ? c->concurrency
					    : IPAM_IDENTITY_CONCURRENCY));
	return m;
}

void ipam_collection_duration(struct strbuf *out, long long secs)
{
	static const struct {
		char unit;
		long long n;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t len = out->len;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (secs >= units[i].n) {
			strbuf_addf(out, "%lld%c", secs / units[i].n,
				    units[i].unit);
			secs %= units[i].n;
		}
	if (out->len == len)
		strbuf_addstr(out, "0s");
}

static struct ipam_node *duration_node(long long secs)
{
	struct strbuf sb = STRBUF_INIT;
	struct ipam_node *n;

	ipam_collection_duration(&sb, secs);
	n = ipam_node_str(sb.buf);
	strbuf_release(&sb);
	return n;
}

/* collection:, every interval and the retention as they end up. */
static struct ipam_node *collection_node(const struct ipam_collection_cfg *c)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *iv = ipam_node_new(IPAM_NODE_MAP);

	for (int t = 0; t < IPAM_TASK_NR; t++)
		ipam_node_set(iv, ipam_task_name((enum ipam_task)t),
			      duration_node(ipam_collection_interval(
				      c, (enum ipam_task)t)));
	ipam_node_set(m, "intervals", iv);
	ipam_node_set(m, "retainDays",
		      ipam_node_int(ipam_collection_retain_days(c)));
	return m;
}

static struct ipam_node *iprange_node(const struct ipam_iprange *r)
{
	struct strbuf sb = STRBUF_INIT;
	struct ipam_node *n;

	ipam_iprange_format(&sb, r);
	n = ipam_node_str(sb.buf);
	strbuf_release(&sb);
	return n;
}

static struct ipam_node *ip_node(const struct ipam_ip *ip)
{
	struct strbuf sb = STRBUF_INIT;
	struct ipam_node *n;

	ipam_ip_format(&sb, ip);
	n = ipam_node_str(sb.buf);
	strbuf_release(&sb);
	return n;
}

/* addressSpace:, canonical addresses and thresholds filled in. */
static struct ipam_node *addrspace_node(const struct ipam_address_space *as)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *blocks = ipam_node_new(IPAM_NODE_SEQ);
	struct ipam_node *ranges = ipam_node_new(IPAM_NODE_SEQ);
	size_t i;

	for (i = 0; i < as->nr_blocks; i++) {
		const struct ipam_block *b = &as->blocks[i];
		struct ipam_node *n = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set(n, "cidr", iprange_node(&b->net));
		set_opt(n, "description", &b->description);
		set_opt(n, "owner", &b->owner);
		ipam_node_push(blocks, n);
	}
	for (i = 0; i < as->nr_ranges; i++) {
		const struct ipam_range *r = &as->ranges[i];
		struct ipam_node *n = ipam_node_new(IPAM_NODE_MAP);

		if (r->net.prefix >= 0) {
			ipam_node_set(n, "cidr", iprange_node(&r->net));
		} else {
			ipam_node_set(n, "start", ip_node(&r->net.first));
			ipam_node_set(n, "end", ip_node(&r->net.last));
		}
		ipam_node_set_str(n, "assignment",
				  ipam_assignment_name(r->assignment));
		set_opt(n, "dhcpServer", &r->dhcp_server);
		set_opt(n, "description", &r->description);
		set_opt(n, "owner", &r->owner);
		ipam_node_set(n, "underUtilized", ipam_node_int(r->under));
		ipam_node_set(n, "overUtilized", ipam_node_int(r->over));
		ipam_node_push(ranges, n);
	}
	ipam_node_set(m, "blocks", blocks);
	ipam_node_set(m, "ranges", ranges);
	return m;
}

static struct ipam_node *report_node(const struct ipam_report_cfg *c)
{
	struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

	set_opt(m, "path", &c->path);
	ipam_node_set_str(m, "format", ipam_report_format_name(c->format));
	return m;
}

long long ipam_collection_interval(const struct ipam_collection_cfg *c,
				   enum ipam_task t)
{
	if (t >= IPAM_TASK_NR)
		return 0;
	return c->interval[t] ? c->interval[t] : ipam_task_default_interval(t);
}

int ipam_collection_retain_days(const struct ipam_collection_cfg *c)
{
	return c->retain_days ? c->retain_days : IPAM_COLLECTION_RETAIN_DAYS;
}

void ipam_identity_principal(struct strbuf *out, const struct ipam_desired *d)
{
	const char *s = d->ipam_server.value, *dot;

	strbuf_reset(out);
	if (d->identity.principal.value) {
		strbuf_addstr(out, d->identity.principal.value);
		return;
	}
	if (!s || !(dot = strchr(s, '.')) || dot == s || !dot[1])
		return;
	for (const char *p = s; p < dot; p++)
		strbuf_addch(out, *p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	strbuf_addstr(out, "$@");
	for (const char *p = dot + 1; *p; p++)
		strbuf_addch(out, *p >= 'a' && *p <= 'z' ? *p - 32 : *p);
}

/* databaseConnection: when the desired state has it. */
static void set_db_connection(struct ipam_node *root,
			      const struct ipam_db_connection *c)
{
	struct ipam_node *dbc;

	if (!c->pos.line)
		return;
	dbc = ipam_node_new(IPAM_NODE_MAP);
	set_opt(dbc, "passwordFile", &c->password_file);
	set_opt(dbc, "passwordEnv", &c->password_env);
	ipam_node_set(root, "databaseConnection", dbc);
}

static struct ipam_node *provisioning_node(const struct ipam_desired *d)
{
	struct ipam_node *prov = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *users = ipam_node_new(IPAM_NODE_SEQ);

	ipam_node_set_str(prov, "method", ipam_method_name(d->method));
	set_opt(prov, "gpoPrefix", &d->gpo_prefix);
	/* Only when not the default: the digest of a computer-mode state
	 * stays what it was. */
	if (d->filtering == IPAM_FILTERING_GROUP) {
		ipam_node_set_str(prov, "filtering", "group");
		set_opt(prov, "filterGroupName", &d->filter_group_name);
		set_opt(prov, "filterGroupOu", &d->filter_group_ou);
	}
	for (size_t i = 0; i < d->nr_delegated; i++)
		ipam_node_push(users,
			       ipam_node_str(d->delegated_users[i].value));
	ipam_node_set(prov, "delegatedGpoUsers", users);
	return prov;
}

struct ipam_node *ipam_desired_to_node(const struct ipam_desired *d)
{
	struct ipam_node *root = ipam_node_new(IPAM_NODE_MAP);
	struct ipam_node *seq, *defaults, *safety;
	size_t i;

	ipam_node_set(root, "version", ipam_node_int(d->version));
	set_opt(root, "ipamServer", &d->ipam_server);
	set_opt(root, "database", &d->database);
	set_db_connection(root, &d->db_conn);

	ipam_node_set(root, "provisioning", provisioning_node(d));

	ipam_node_set(root, "connection", connection_node(&d->conn, false));

	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (i = 0; i < d->nr_domains; i++) {
		const struct ipam_domain *dom = &d->domains[i];
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "domain", dom->name);
		ipam_node_set(m, "dc", ipam_node_bool(dom->dc));
		ipam_node_set(m, "dns", ipam_node_bool(dom->dns));
		ipam_node_set(m, "dhcp", ipam_node_bool(dom->dhcp));
		/* Only when set: the digests of other states stay as they
		 * were. */
		if (dom->remove)
			ipam_node_set(m, "remove", ipam_node_bool(true));
		ipam_node_set(m, "connection",
			      connection_node(&dom->effective, true));
		set_opt(m, "timeZone", &dom->time_zone);
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "discovery", seq);

	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (i = 0; i < d->nr_servers; i++) {
		const struct ipam_server *s = &d->servers[i];
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP);

		ipam_node_set_str(m, "name", s->name);
		if (s->roles_set) {
			struct ipam_node *roles = ipam_node_new(IPAM_NODE_SEQ);
			unsigned r;

			for (r = IPAM_ROLE_DC; r <= IPAM_ROLE_NPS; r <<= 1)
				if (s->roles & r)
					ipam_node_push(
						roles,
						ipam_node_str(ipam_role_name(
							(enum ipam_role)r)));
			ipam_node_set(m, "roles", roles);
		}
		ipam_node_set_str(m, "manageability",
				  ipam_manageability_name(s->manageability));
		set_opt(m, "owner", &s->owner);
		set_opt(m, "description", &s->description);
		set_opt(m, "timeZone", &s->time_zone);
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "servers", seq);

	defaults = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set_str(defaults, "manageability",
			  ipam_manageability_name(d->default_manageability));
	ipam_node_set(root, "defaults", defaults);
	safety = ipam_node_new(IPAM_NODE_MAP);
	ipam_node_set(safety, "maxRemovals", ipam_node_int(d->max_removals));
	ipam_node_set(root, "safety", safety);
	if (d->source.pos.line)
		ipam_node_set(root, "source", source_node(&d->source));
	ipam_node_set(root, "suspend", ipam_node_bool(d->suspend));
	/* Only when given: the digests of other states stay as they were. */
	if (d->identity.pos.line)
		ipam_node_set(root, "identity", identity_node(d));
	if (d->collection.pos.line)
		ipam_node_set(root, "collection",
			      collection_node(&d->collection));
	if (d->address_space.pos.line)
		ipam_node_set(root, "addressSpace",
			      addrspace_node(&d->address_space));
	if (d->report.pos.line)
		ipam_node_set(root, "report", report_node(&d->report));
	seq = ipam_node_new(IPAM_NODE_SEQ);
	for (i = 0; i < d->nr_notify; i++) {
		const struct ipam_notify_cfg *h = &d->notify[i];
		struct ipam_node *m = ipam_node_new(IPAM_NODE_MAP), *ev;

		set_opt(m, "kind", &h->kind);
		set_opt(m, "url", &h->url);
		ev = ipam_node_new(IPAM_NODE_SEQ);
		for (int e = 0; e < IPAM_EVENT_NR; e++)
			if (h->events & (1u << e))
				ipam_node_push(ev,
					       ipam_node_str(ipam_event_name(
						       (enum ipam_event)e)));
		ipam_node_set(m, "events", ev);
		set_opt(m, "secretFile", &h->secret_file);
		set_opt(m, "secretEnv", &h->secret_env);
		set_opt(m, "caFile", &h->ca_file);
		ipam_node_set(m, "timeout", ipam_node_int(h->timeout));
		ipam_node_push(seq, m);
	}
	ipam_node_set(root, "notify", seq);
	return root;
}

static void str_release(struct ipam_str *s)
{
	free(s->value);
	s->value = NULL;
}

void ipam_connection_release(struct ipam_connection *c)
{
	str_release(&c->ldap_uri);
	str_release(&c->keytab);
	str_release(&c->principal);
	str_release(&c->ccache);
	str_release(&c->user);
	str_release(&c->password_file);
	str_release(&c->password_env);
	str_release(&c->ca_file);
}

const char *ipam_verify_mode_name(enum ipam_verify_mode m)
{
	return m == IPAM_VERIFY_SSH	  ? "ssh"
	       : m == IPAM_VERIFY_OPENPGP ? "openpgp"
					  : "none";
}

static const char *const event_names[IPAM_EVENT_NR] = {
	"drift",	  "applied",	    "apply_failed",	 "refused",
	"source_invalid", "access_changed", "collection_failed", "utilization",
};

const char *ipam_event_name(enum ipam_event e)
{
	return e < IPAM_EVENT_NR ? event_names[e] : "?";
}

int ipam_event_parse(const char *s, enum ipam_event *out)
{
	for (int i = 0; i < IPAM_EVENT_NR; i++)
		if (!strcmp(s, event_names[i])) {
			*out = (enum ipam_event)i;
			return 0;
		}
	return -1;
}

static const struct {
	const char *name;
	long long interval;
} tasks[IPAM_TASK_NR] = {
	[IPAM_TASK_DISCOVERY] = {"discovery", 3600},
	[IPAM_TASK_ACCESS] = {"access", 3600},
	[IPAM_TASK_AVAILABILITY] = {"availability", 900},
	[IPAM_TASK_ZONES] = {"zones", 1800},
	[IPAM_TASK_DNS] = {"dns", 6 * 3600},
	[IPAM_TASK_AUDIT] = {"audit", 3600},
};

const char *ipam_task_name(enum ipam_task t)
{
	return t < IPAM_TASK_NR ? tasks[t].name : "?";
}

int ipam_task_parse(const char *s, enum ipam_task *out)
{
	for (int i = 0; i < IPAM_TASK_NR; i++)
		if (!strcmp(s, tasks[i].name)) {
			*out = (enum ipam_task)i;
			return 0;
		}
	return -1;
}

long long ipam_task_default_interval(enum ipam_task t)
{
	return t < IPAM_TASK_NR ? tasks[t].interval : 0;
}

static void source_release(struct ipam_source_cfg *c)
{
	str_release(&c->repo);
	str_release(&c->ref);
	str_release(&c->path);
	str_release(&c->token_file);
	str_release(&c->token_env);
	str_release(&c->ca_file);
	str_release(&c->ssh_key);
	str_release(&c->known_hosts);
	str_release(&c->cache_dir);
	str_release(&c->verify.allowed_signers);
	str_release(&c->verify.keyring);
}

static const char *const assignment_names[] = {"", "dhcp", "static"};

const char *ipam_assignment_name(enum ipam_assignment a)
{
	return a <= IPAM_ASSIGNMENT_STATIC ? assignment_names[a] : "?";
}

int ipam_assignment_parse(const char *s, enum ipam_assignment *out)
{
	for (int i = IPAM_ASSIGNMENT_DHCP; i <= IPAM_ASSIGNMENT_STATIC; i++)
		if (!strcmp(s, assignment_names[i])) {
			*out = (enum ipam_assignment)i;
			return 0;
		}
	return -1;
}

static const char *const report_format_names[] = {"", "html", "markdown",
						  "json"};

const char *ipam_report_format_name(enum ipam_report_format f)
{
	return f <= IPAM_REPORT_JSON ? report_format_names[f] : "?";
}

int ipam_report_format_parse(const char *s, enum ipam_report_format *out)
{
	for (int i = IPAM_REPORT_HTML; i <= IPAM_REPORT_JSON; i++)
		if (!strcmp(s, report_format_names[i])) {
			*out = (enum ipam_report_format)i;
			return 0;
		}
	return -1;
}

static void address_space_release(struct ipam_address_space *as)
{
	size_t i;

	for (i = 0; i < as->nr_blocks; i++) {
		str_release(&as->blocks[i].cidr);
		str_release(&as->blocks[i].description);
		str_release(&as->blocks[i].owner);
	}
	free(as->blocks);
	for (i = 0; i < as->nr_ranges; i++) {
		str_release(&as->ranges[i].cidr);
		str_release(&as->ranges[i].start);
		str_release(&as->ranges[i].end);
		str_release(&as->ranges[i].dhcp_server);
		str_release(&as->ranges[i].description);
		str_release(&as->ranges[i].owner);
	}
	free(as->ranges);
}

void ipam_desired_free(struct ipam_desired *d)
{
	size_t i;

	if (!d)
		return;
	source_release(&d->source);
	address_space_release(&d->address_space);
	str_release(&d->report.path);
	str_release(&d->identity.keytab);
	str_release(&d->identity.principal);
	str_release(&d->identity.ccache);
	for (i = 0; i < d->nr_notify; i++) {
		str_release(&d->notify[i].kind);
		str_release(&d->notify[i].url);
		str_release(&d->notify[i].secret_file);
		str_release(&d->notify[i].secret_env);
		str_release(&d->notify[i].ca_file);
	}
	free(d->notify);
	for (i = 0; i < d->nr_domains; i++) {
		free(d->domains[i].name);
		ipam_connection_release(&d->domains[i].conn);
		ipam_connection_release(&d->domains[i].effective);
		str_release(&d->domains[i].time_zone);
	}
	free(d->domains);
	for (i = 0; i < d->nr_servers; i++) {
		free(d->servers[i].name);
		str_release(&d->servers[i].owner);
		str_release(&d->servers[i].description);
		str_release(&d->servers[i].time_zone);
	}
	free(d->servers);
	for (i = 0; i < d->nr_delegated; i++)
		str_release(&d->delegated_users[i]);
	free(d->delegated_users);
	ipam_connection_release(&d->conn);
	str_release(&d->ipam_server);
	str_release(&d->database);
	str_release(&d->db_conn.password_file);
	str_release(&d->db_conn.password_env);
	str_release(&d->gpo_prefix);
	str_release(&d->filter_group_name);
	str_release(&d->filter_group_ou);
	for (i = 0; i < d->nr_files; i++)
		free(d->files[i]);
	free(d->files);
	free(d);
}
