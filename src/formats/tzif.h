/*
 * Time zones from the tz database's compiled files (TZif, RFC 8536,
 * versions 1 to 4): the transitions and their UTC offsets, and the
 * footer's POSIX TZ rule for times after the last transition.  Turns a
 * server's local wall-clock time into UTC and back.
 *
 * Prefixes: ipam_tz_
 */
#ifndef IPAM_TZIF_H
#define IPAM_TZIF_H

#include <stddef.h>

struct ipam_tz;

/* Parse a TZif file's bytes: IPAM_EINVAL with the reason when they are
 * not one. */
int ipam_tz_parse(struct ipam_tz **out, const unsigned char *buf, size_t len);
/* UTC itself (no file needed). */
struct ipam_tz *ipam_tz_utc(void);
void ipam_tz_free(struct ipam_tz *tz);

/*
 * UTC seconds since the epoch of a local wall-clock time (seconds since
 * the epoch as if local were UTC).  A time that happens twice (the hour
 * a clock goes back) is taken at its first occurrence; one that never
 * happens (the hour a clock skips) is taken with the offset before the
 * change.
 */
long long ipam_tz_to_utc(const struct ipam_tz *tz, long long local);
/* The local wall-clock time of a UTC time. */
long long ipam_tz_to_local(const struct ipam_tz *tz, long long utc);

/* A calendar date and time as seconds since the epoch as if it were UTC
 * (proleptic Gregorian; no range check): what ipam_tz_to_utc takes. */
long long ipam_tz_civil(int year, int month, int day, int hour, int minute,
			int second);

/* Is name an IANA zone name that may be looked up as a file (letters,
 * digits, '/', '_', '-', '+'; no "..", no leading '/')? */
int ipam_tz_name_valid(const char *name);

#endif
