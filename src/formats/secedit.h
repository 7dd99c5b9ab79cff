/*
 * Security templates (MS-GPSB): Machine\Microsoft\Windows NT\SecEdit\
 * GptTmpl.inf.  ipamctl declares no security settings of its own (local
 * groups go through Group Policy Preferences, which add a member without
 * replacing the others), so it meets this file only when somebody put one
 * into an IPAM GPO.  The parser lets the read side say what such a file
 * does to the access IPAM needs: a Restricted Groups "__Members" line
 * replaces a group's members, and one for Event Log Readers or DHCP Users
 * takes IPAMUG out of it on every server the GPO applies to.
 *
 * Pure: no I/O.  The parser takes untrusted bytes from SYSVOL: bounded,
 * IPAM_EINVAL with the line number when malformed, IPAM_ELIMIT at a bound.
 *
 * Prefixes: ipam_inf_
 *   (the .inf format of security templates).
 */
#ifndef IPAM_SECEDIT_H
#define IPAM_SECEDIT_H

#include <stddef.h>

#include "strbuf.h"

struct ipam_inf_entry {
	char *section; /* without the brackets */
	char *key;     /* the whole line when it has no '=' */
	char *value;   /* NULL when the line has no '=' */
	unsigned line; /* 1-based; 0 for entries added by ipam_inf_set */
};

struct ipam_inf {
	struct ipam_inf_entry *e;
	size_t nr, alloc;
};

/* Largest GptTmpl.inf accepted (bytes as stored). */
#define IPAM_INF_MAX (1024 * 1024)

/*
 * Parse a security template: UTF-16LE with a byte-order mark (what Windows
 * writes), or UTF-8/ASCII; CRLF or LF; ';' comments.  Keys and values are
 * trimmed; a section may appear more than once.  On failure *out is empty.
 */
int ipam_inf_parse(struct ipam_inf *out, const void *buf, size_t len);

/*
 * Write it as Windows does: UTF-16LE with a byte-order mark, CRLF, each
 * section once (in the order of first appearance) with its lines in order,
 * "key=value" in [Unicode], [Version] and [Registry Values], "key = value"
 * ("key =" when the value is empty) elsewhere.
 */
int ipam_inf_write(struct strbuf *out, const struct ipam_inf *inf);

/* Set key in section (added at the end of it, or replaced in place). */
void ipam_inf_set(struct ipam_inf *inf, const char *section, const char *key,
		  const char *value);
/* The value of key in section (case-insensitive names), or NULL. */
const char *ipam_inf_get(const struct ipam_inf *inf, const char *section,
			 const char *key);
void ipam_inf_release(struct ipam_inf *inf);

/* A template with the [Unicode] and [Version] sections every one has. */
void ipam_inf_init_template(struct ipam_inf *inf);

/*
 * Append to out ("; " between items, none before the first) what the template's
 * Restricted Groups do to the local groups IPAM's access needs (Event Log
 * Readers, DHCP Users): each "__Members" line for one of them that leaves
 * IPAMUG out (named
 * "*<SID>", "<DOMAIN>\IPAMUG" or "IPAMUG"; either may be NULL).
 * Nothing is appended when the template leaves them alone.
 */
void ipam_inf_ipam_conflicts(struct strbuf *out, const struct ipam_inf *inf,
			     const char *ipamug_sid, const char *ipamug_name);

#endif
