/*
 * The desired state: what the YAML says, normalised, with every value
 * remembering where it was written.  A plain value, decoded by decode.c
 * and read by every later stage.
 *
 * Prefixes: ipam_desired_, ipam_connection_, ipam_role_, ipam_roles_,
 *   ipam_manageability_, ipam_method_, ipam_auth_, ipam_event_,
 *   ipam_verify_, ipam_identity_, ipam_task_, ipam_collection_,
 *   ipam_assignment_, ipam_report_
 *   (one per type the desired model defines).
 *
 * Layer model/ (this header is its centre): the desired state, the
 * observed state, the GPO state, what was applied; decoding and
 * validation.  Uses formats/ and util/; no I/O.
 */
#ifndef IPAM_MODEL_H
#define IPAM_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "ipnet.h"
#include "node.h"

enum ipam_method {
	IPAM_METHOD_UNSET = 0,
	IPAM_METHOD_GPO,
	IPAM_METHOD_MANUAL,
};

/* provisioning.filtering: how a managed server gets into a GPO's security
 * filtering -- its own ACEs, or membership of a group that has them. */
enum ipam_filtering {
	IPAM_FILTERING_COMPUTER = 0,
	IPAM_FILTERING_GROUP,
};

enum ipam_manageability {
	IPAM_MANAGE_UNSET = 0,
	IPAM_MANAGE_UNSPECIFIED,
	IPAM_MANAGE_UNMANAGED,
	IPAM_MANAGE_MANAGED,
};

enum ipam_role {
	IPAM_ROLE_DC = 1 << 0,
	IPAM_ROLE_DNS = 1 << 1,
	IPAM_ROLE_DHCP = 1 << 2,
	IPAM_ROLE_NPS = 1 << 3,
};

enum ipam_auth {
	IPAM_AUTH_UNSET = 0,
	IPAM_AUTH_KERBEROS,
	IPAM_AUTH_SIMPLE,
};

/* A string value and where it was written (value NULL when unset). */
struct ipam_str {
	char *value;
	struct ipam_pos pos;
};

struct ipam_connection {
	enum ipam_auth auth;
	struct ipam_pos auth_pos;
	struct ipam_str ldap_uri;      /* per discovery domain only */
	struct ipam_str keytab;	       /* kerberos */
	struct ipam_str principal;     /* kerberos */
	struct ipam_str ccache;	       /* kerberos */
	struct ipam_str user;	       /* simple: UPN or DN */
	struct ipam_str password_file; /* simple */
	struct ipam_str password_env;  /* simple */
	struct ipam_str ca_file;
	int timeout; /* seconds; 0 = unset */
	struct ipam_pos timeout_pos;
	struct ipam_pos pos; /* the mapping itself; line 0 = absent */
};

struct ipam_domain {
	char *name; /* lower case */
	struct ipam_pos pos;
	size_t decl; /* declaration order, across files */
	bool dc, dns, dhcp;
	/* remove: true -- take out what ipamctl made in the domain (its
	 * GPOs and their links, IPAMUG, the DC grants); not discovered. */
	bool remove;
	struct ipam_pos remove_pos;
	struct ipam_connection conn;	  /* as written under the domain */
	struct ipam_connection effective; /* global merged with the above */
	/* timeZone: the IANA name its servers' audit logs are written in
	 * (NULL: UTC). */
	struct ipam_str time_zone;
};

struct ipam_server {
	char *name; /* lower case FQDN */
	struct ipam_pos pos;
	size_t decl;	/* declaration order, across files */
	unsigned roles; /* IPAM_ROLE_* declared; 0 = from discovery */
	bool roles_set;
	struct ipam_pos roles_pos;
	enum ipam_manageability manageability;
	struct ipam_pos manageability_pos;
	struct ipam_str owner;
	struct ipam_str description;
	/* timeZone: the IANA name (Europe/Berlin) of the local time its DHCP
	 * audit log is written in; NULL: its domain's, else UTC. */
	struct ipam_str time_zone;
	const struct ipam_domain *domain; /* discovery domain it is under */
};

/* How a fetched commit's signature is checked (source.verify). */
enum ipam_verify_mode {
	IPAM_VERIFY_NONE = 0, /* no verify: mapping: commits are not checked */
	IPAM_VERIFY_SSH,     /* ssh-keygen -Y verify, an allowed_signers file */
	IPAM_VERIFY_OPENPGP, /* gpgv, a keyring file */
};

struct ipam_verify_cfg {
	enum ipam_verify_mode mode;
	struct ipam_pos mode_pos;
	struct ipam_str allowed_signers; /* ssh */
	struct ipam_str keyring;	 /* openpgp */
	struct ipam_pos pos;		 /* the mapping; line 0 = absent */
};

const char *ipam_verify_mode_name(enum ipam_verify_mode m);

/* Where `reconcile` fetches the desired state from (a git repository). */
struct ipam_source_cfg {
	struct ipam_str repo; /* URL or path */
	struct ipam_str ref;  /* branch, tag or commit; default main */
	struct ipam_str path; /* directory in the tree; default the root */
	struct ipam_str token_file, token_env; /* HTTPS */
	struct ipam_str ca_file;	       /* HTTPS */
	struct ipam_str ssh_key, known_hosts;  /* SSH */
	struct ipam_str cache_dir;
	struct ipam_verify_cfg verify; /* commits must be signed */
	struct ipam_pos pos;	       /* the mapping; line 0 = absent */
};

/*
 * The IPAM identity (identity:): the IPAM server's computer account, as
 * which `verify` probes the managed servers.  Never the administrative
 * connection's account: that one passes everywhere and proves nothing.
 */
struct ipam_identity_cfg {
	struct ipam_str keytab; /* absolute path; verify needs it or ccache */
	struct ipam_str principal; /* NULL: derived from ipamServer */
	struct ipam_str ccache;	   /* a ready cache instead of the keytab */
	int timeout;		   /* per probe, seconds; 0 = default */
	struct ipam_pos timeout_pos;
	int concurrency; /* servers probed at once; 0 = default */
	struct ipam_pos concurrency_pos;
	struct ipam_pos pos; /* the mapping; line 0 = absent */
};

#define IPAM_IDENTITY_TIMEOUT	  10
#define IPAM_IDENTITY_CONCURRENCY 8

/*
 * IPAM's scheduled tasks (collection.intervals): discovery and access
 * (ServerDiscovery), availability (ServerAvailability), zones
 * (ServiceMonitoring), dns (ServerConfiguration: the zones and records)
 * and audit (Audit: the DHCP audit logs, IP address tracking).
 */
enum ipam_task {
	IPAM_TASK_DISCOVERY,
	IPAM_TASK_ACCESS,
	IPAM_TASK_AVAILABILITY,
	IPAM_TASK_ZONES,
	IPAM_TASK_DNS,
	IPAM_TASK_AUDIT,
	IPAM_TASK_NR,
};

/* "discovery", "access", "availability", "zones", "dns", "audit". */
const char *ipam_task_name(enum ipam_task t);
int ipam_task_parse(const char *s, enum ipam_task *out);
/* The default interval of t, in seconds. */
long long ipam_task_default_interval(enum ipam_task t);

/* collection: how often each task runs, how long history is kept. */
struct ipam_collection_cfg {
	long long interval[IPAM_TASK_NR]; /* seconds; 0 = the default */
	struct ipam_pos interval_pos[IPAM_TASK_NR];
	int retain_days; /* 0 = IPAM_COLLECTION_RETAIN_DAYS */
	struct ipam_pos retain_days_pos;
	struct ipam_pos pos; /* the mapping; line 0 = absent */
};

#define IPAM_COLLECTION_RETAIN_DAYS 365

/* The interval of t in seconds and the retention in days, defaults
 * filled in. */
long long ipam_collection_interval(const struct ipam_collection_cfg *c,
				   enum ipam_task t);
int ipam_collection_retain_days(const struct ipam_collection_cfg *c);
/* secs as the shortest duration text: 5400 -> "1h30m". */
void ipam_collection_duration(struct strbuf *out, long long secs);

/* How a range's addresses are handed out (addressSpace.ranges.assignment). */
enum ipam_assignment {
	IPAM_ASSIGNMENT_UNSET = 0,
	IPAM_ASSIGNMENT_DHCP,	/* leases of a DHCP server of the inventory */
	IPAM_ASSIGNMENT_STATIC, /* set by hand */
};

/* "dhcp", "static" ("" when unset). */
const char *ipam_assignment_name(enum ipam_assignment a);
int ipam_assignment_parse(const char *s, enum ipam_assignment *out);

/* addressSpace.blocks[]: a CIDR prefix the organisation holds. */
struct ipam_block {
	struct ipam_str cidr;	 /* as written */
	struct ipam_iprange net; /* parsed; valid when ok */
	bool ok;		 /* cidr parsed without error */
	struct ipam_str description;
	struct ipam_str owner;
	struct ipam_pos pos; /* the item */
};

#define IPAM_RANGE_UNDER_DEFAULT 20
#define IPAM_RANGE_OVER_DEFAULT	 80

/*
 * addressSpace.ranges[]: addresses handed out one way, written as a CIDR
 * (cidr) or as start and end; it lies in exactly one block (derived).
 */
struct ipam_range {
	struct ipam_str cidr;	    /* as written, or NULL */
	struct ipam_str start, end; /* as written, or NULL */
	struct ipam_iprange net;    /* parsed; valid when ok */
	bool ok;		    /* cidr or start-end parsed */
	enum ipam_assignment assignment;
	struct ipam_pos assignment_pos;
	struct ipam_str dhcp_server; /* dhcp: lower case FQDN */
	struct ipam_str description;
	struct ipam_str owner;
	/* Percent thresholds: below under is under-utilized, above over
	 * over-utilized; -1 until validation fills in the defaults. */
	int under, over;
	struct ipam_pos under_pos, over_pos;
	long block;	     /* index in address_space.blocks; -1 = none */
	struct ipam_pos pos; /* the item */
};

/* addressSpace: */
struct ipam_address_space {
	struct ipam_block *blocks;
	size_t nr_blocks, alloc_blocks;
	struct ipam_range *ranges;
	size_t nr_ranges, alloc_ranges;
	struct ipam_pos pos; /* the mapping; line 0 = absent */
};

/* report: where reconcile writes the report after each cycle. */
enum ipam_report_format {
	IPAM_REPORT_UNSET = 0, /* html once validated */
	IPAM_REPORT_HTML,
	IPAM_REPORT_MARKDOWN,
	IPAM_REPORT_JSON,
};

/* "html", "markdown", "json" ("" when unset). */
const char *ipam_report_format_name(enum ipam_report_format f);
int ipam_report_format_parse(const char *s, enum ipam_report_format *out);

struct ipam_report_cfg {
	struct ipam_str path; /* absolute */
	enum ipam_report_format format;
	struct ipam_pos format_pos;
	struct ipam_pos pos; /* the mapping; line 0 = absent */
};

/* Events a webhook can ask for (bit 1 << event). */
enum ipam_event {
	IPAM_EVENT_DRIFT,
	IPAM_EVENT_APPLIED,
	IPAM_EVENT_APPLY_FAILED,
	IPAM_EVENT_REFUSED,
	IPAM_EVENT_SOURCE_INVALID,
	IPAM_EVENT_ACCESS_CHANGED, /* a managed server Unblocked <-> Blocked */
	IPAM_EVENT_COLLECTION_FAILED, /* a collection task failed somewhere */
	IPAM_EVENT_UTILIZATION, /* a range crossed a utilization threshold */
	IPAM_EVENT_NR,
};

const char *ipam_event_name(enum ipam_event e);
int ipam_event_parse(const char *s, enum ipam_event *out);

struct ipam_notify_cfg {
	struct ipam_str kind; /* generic, slack, teams */
	struct ipam_str url;
	unsigned events; /* bit per enum ipam_event */
	struct ipam_pos events_pos;
	struct ipam_str secret_file, secret_env, ca_file;
	int timeout; /* seconds; 0 = default */
	struct ipam_pos pos;
};

struct ipam_desired {
	/* Files read, in merge order; positions point into these names. */
	char **files;
	size_t nr_files;

	int version;
	struct ipam_pos version_pos;
	struct ipam_str ipam_server;
	struct ipam_str database;
	/* databaseConnection: the PostgreSQL password's file or variable
	 * (neither: libpq's own, PGPASSFILE or ~/.pgpass); pos.line 0 when
	 * the key is absent */
	struct ipam_db_connection {
		struct ipam_str password_file, password_env;
		struct ipam_pos pos;
	} db_conn;

	enum ipam_method method;
	struct ipam_pos method_pos;
	struct ipam_str gpo_prefix;
	struct ipam_str *delegated_users;
	size_t nr_delegated, alloc_delegated;
	enum ipam_filtering filtering;
	struct ipam_pos filtering_pos;
	struct ipam_str filter_group_name; /* template; NULL: the default */
	struct ipam_str filter_group_ou;   /* relative to the domain DN */

	struct ipam_connection conn;

	struct ipam_domain *domains;
	size_t nr_domains, alloc_domains;
	struct ipam_server *servers;
	size_t nr_servers, alloc_servers;

	enum ipam_manageability default_manageability;
	struct ipam_pos default_manageability_pos;
	long long max_removals;
	struct ipam_pos max_removals_pos;
	struct ipam_source_cfg source;
	bool suspend; /* reconcile plans and reports only */
	struct ipam_pos suspend_pos;
	struct ipam_notify_cfg *notify;
	size_t nr_notify, alloc_notify;
	struct ipam_identity_cfg identity;
	struct ipam_collection_cfg collection;
	struct ipam_address_space address_space;
	struct ipam_report_cfg report;
};

#define IPAM_DEFAULT_MAX_REMOVALS 10
#define IPAM_DEFAULT_TIMEOUT	  30

#define IPAM_DEFAULT_FILTER_GROUP_NAME "{prefix}_{role}_Servers"
#define IPAM_DEFAULT_FILTER_GROUP_OU   "CN=Users"

/*
 * The filter group of a GPO role ("DHCP", "DNS", "DC_NPS"): the name
 * template (provisioning.filterGroupName, or the default) with {prefix}
 * and {role} put in.
 */
void ipam_desired_filter_group_name(struct strbuf *out,
				    const struct ipam_desired *d,
				    const char *role);
/* Where the filter groups live, relative to the domain DN. */
const char *ipam_desired_filter_group_ou(const struct ipam_desired *d);
const char *ipam_method_name(enum ipam_method m);
int ipam_method_parse(const char *s, enum ipam_method *out);
const char *ipam_manageability_name(enum ipam_manageability m);
int ipam_manageability_parse(const char *s, enum ipam_manageability *out);
const char *ipam_auth_name(enum ipam_auth a);
const char *ipam_role_name(enum ipam_role r);
int ipam_role_parse(const char *s, enum ipam_role *out);
/* Roles as "dc,dns" (sb) in canonical order. */
void ipam_roles_format(struct strbuf *sb, unsigned roles, const char *sep);

const struct ipam_domain *ipam_desired_find_domain(const struct ipam_desired *d,
						   const char *name);
const struct ipam_server *ipam_desired_find_server(const struct ipam_desired *d,
						   const char *name);

/* The normalised desired state as a tree (for show-desired). */
struct ipam_node *ipam_desired_to_node(const struct ipam_desired *d);

/*
 * The identity's principal: identity.principal, or derived from
 * ipamServer, "IPAM1$@CORP.EXAMPLE.TEST" for ipam1.corp.example.test (the
 * short name and the domain upper-cased).  "" when neither is known.
 */
void ipam_identity_principal(struct strbuf *out, const struct ipam_desired *d);

void ipam_connection_release(struct ipam_connection *c);
void ipam_desired_free(struct ipam_desired *d);

#endif
