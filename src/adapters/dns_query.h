/*
 * One DNS question put to one given server, directly: the zone monitor's
 * and the availability task's probe.  No resolver configuration is read
 * or changed (several threads may ask at once).  The question goes over
 * UDP with RD=0 (the server answers from what it holds, it does not
 * recurse), again over TCP when the answer came back truncated.
 *
 * Two outcomes are kept apart: no answer (timeout, connection refused,
 * ICMP unreachable, a network without a route: answered = false, error
 * says why) and an answer, whatever its rcode (REFUSED, SERVFAIL,
 * NOTAUTH are answers: the service is there and said no).
 *
 * What arrives is untrusted: ipam_dns_query_parse checks every length
 * against the message and takes only the answer to the question asked
 * (same id, one question, same name, type and class).
 */
#ifndef IPAM_DNS_QUERY_H
#define IPAM_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define IPAM_DNS_QUERY_PORT 53

struct ipam_dns_query {
	/* in */
	const char *server; /* an IPv4 or IPv6 address */
	int port;	    /* 0: 53 */
	const char *name;   /* the question's name (a trailing dot is fine) */
	int type;	    /* 1 A, 2 NS, 6 SOA, 28 AAAA, ... */
	int timeout_ms;	    /* per transport; 0: 3000 */

	/* out */
	bool answered; /* a well-formed answer to this question came */
	bool tcp;      /* it came over TCP (the UDP answer was truncated) */
	int rcode;     /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED... */
	bool aa;       /* the server says it is authoritative */
	int rtt_ms;
	bool has_soa; /* an SOA for the name in the answer section */
	uint32_t serial;
	char *soa_mname; /* lower case, no trailing dot */
	char **ns;	 /* NS targets, lower case, no trailing dot */
	size_t nr_ns;
	struct ipam_addr *addrs; /* A and AAAA of the name */
	size_t nr_addrs;
	char error[160]; /* why there was no answer */
};

/*
 * Ask q->server q->name / q->type.  0 when the question was put, whatever
 * came back (q->answered says whether an answer did); IPAM_EINVAL for an
 * address or name that cannot be asked.
 */
int ipam_dns_query_ask(struct ipam_dns_query *q);

/*
 * Read msg as the answer to q's question with id: 0 and q's outputs set,
 * IPAM_EIO when the message is malformed or answers another question
 * (outputs untouched but for error).  Exposed for tests and the fuzzer.
 */
int ipam_dns_query_parse(struct ipam_dns_query *q, const unsigned char *msg,
			 size_t len, unsigned id);

/*
 * The question as sent: a 12-byte header (id, no flags: RD=0), one
 * question of class IN.  Its length, or IPAM_EINVAL for a name that is
 * not one (empty label, label over 63, over 255 octets, a backslash).
 */
int ipam_dns_query_build(unsigned char *buf, size_t cap, unsigned id,
			 const char *name, int type);

/* Free the outputs; the inputs are left. */
void ipam_dns_query_release(struct ipam_dns_query *q);

/* "NOERROR", "SERVFAIL", "NXDOMAIN", "REFUSED", "NOTAUTH", ... or
 * "RCODE<n>". */
const char *ipam_dns_query_rcode_name(int rcode, char buf[16]);

#endif
