/*
 * A small bounded XML reader for the Group Policy Preferences files, and
 * the attribute-value escaping their writer needs.  Not a general XML
 * parser: no DTDs, no CDATA, no namespaces; text content is skipped.
 * Input is untrusted (SYSVOL): every error is IPAM_EINVAL with the byte
 * offset.  Pure.
 */
#ifndef IPAM_XML_H
#define IPAM_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Deepest element nesting a caller needs to track. */
#define IPAM_XML_MAX_DEPTH 16

struct ipam_xml {
	const char *s;
	size_t len, pos;
};

struct ipam_xml_attr {
	const char *name; /* into the input, not terminated */
	size_t nlen;
	char *value; /* unescaped UTF-8, owned */
};

/* A start, end or empty-element tag; names point into the input. */
struct ipam_xml_tag {
	const char *name;
	size_t nlen;
	bool end, empty;
	struct ipam_xml_attr *attrs;
	size_t nr, alloc;
};

/* Read len bytes at buf (not copied); a UTF-8 BOM is skipped. */
void ipam_xml_init(struct ipam_xml *x, const char *buf, size_t len);
/*
 * The next tag into t (zero-initialised before the first call; its
 * previous attributes are released).  Skips text, comments and
 * processing instructions.  0, 1 at the end of the input, or < 0.
 */
int ipam_xml_next(struct ipam_xml *x, struct ipam_xml_tag *t);
/* Release what t holds; accepts NULL. */
void ipam_xml_tag_release(struct ipam_xml_tag *t);
/* The unescaped value of attribute name, or NULL. */
const char *ipam_xml_tag_attr(const struct ipam_xml_tag *t, const char *name);
bool ipam_xml_tag_is(const struct ipam_xml_tag *t, const char *name);
/* Set the last error to "<what> at byte <pos>" and return IPAM_EINVAL. */
int ipam_xml_error(const struct ipam_xml *x, const char *what);

/*
 * Append s escaped as an attribute value (the five predefined entities).
 * s must be valid UTF-8 without control characters: they would need
 * character references GPMC never writes.
 */
int ipam_xml_add_attr(struct strbuf *out, const char *s);

#endif
