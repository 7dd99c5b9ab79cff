/*
 * The ownership mark ipamctl writes into adminDescription of what it
 * creates (IPAMUG, the three GPOs): "ipamctl/1; ipamServer=…;
 * gpoPrefix=…[; source=…]".  It is what lets ipamctl remove or rewrite an
 * object without touching one made by hand or by another IPAM server.
 */
#ifndef IPAM_GPOMARK_H
#define IPAM_GPOMARK_H

#include <stdbool.h>

#include "strbuf.h"

/* Every mark starts so. */
#define IPAM_GPOMARK_PREFIX "ipamctl/1;"

/* The mark text for ipamServer and prefix (and source, if any). */
void ipam_gpomark_format(struct strbuf *out, const char *ipam_server,
			 const char *prefix, const char *source);
/* Is text an ipamctl mark at all (of whichever server)? */
bool ipam_gpomark_is(const char *text);
/* Does mark say ipamctl, this ipamServer and prefix? */
bool ipam_gpomark_owned(const char *mark, const char *ipam_server,
			const char *prefix);

#endif
