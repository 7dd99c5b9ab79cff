/*
 * Time zones by IANA name from the system's tz database: the compiled
 * file under $TZDIR or /usr/share/zoneinfo, parsed by formats/tzif.
 *
 * Prefixes: ipam_tzdb_
 */
#ifndef IPAM_TZDB_H
#define IPAM_TZDB_H

#include "tzif.h"

/*
 * The zone name ("Europe/Berlin"); NULL, "" or "UTC" give UTC without a
 * file.  IPAM_EINVAL for a name that is not one, IPAM_ENOTFOUND for a
 * zone the database does not have.
 */
int ipam_tzdb_load(struct ipam_tz **out, const char *name);

#endif
