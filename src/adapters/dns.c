/* EAI_NODATA is GNU. */
#define _GNU_SOURCE

#include "dns.h"
#include "dns_internal.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "strbuf.h"
#include "banned.h"

/* The largest DNS message (over TCP): an answer never arrives truncated. */
#define DNS_MSG_MAX 65535
/* Longest presentation-form name, with room for escapes. */
#define DNS_NAME_MAX	 1025
#define RESOLVE_INFLIGHT 64
/* getaddrinfo needs far less than the default 8 MiB per thread. */
#define RESOLVE_STACK (512 * 1024)

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* dn_expand's output, normalised: lower case, no trailing dot. */
static void normalise_name(char *s)
{
	size_t len = strlen(s);

	lower_ascii(s);
	/* A trailing dot is escaped ("\.") only when part of a label. */
	if (len > 1 && s[len - 1] == '.' && s[len - 2] != '\\')
		s[len - 1] = '\0';
}

static int valid_query_name(const char *name)
{
	size_t len;

	if (name == NULL)
		return 0;
	len = strlen(name);
	/* 253 characters plus an optional root dot. */
	return len > 0 && len <= 254;
}

static int malformed(void)
{
	return ipam_error_set(IPAM_EIO, "malformed DNS answer");
}

/* Expand the name at rd, which must lie within the record's rdata. */
static int expand_in_rdata(const ns_msg *h, const unsigned char *rd,
			   const unsigned char *rd_end, char *dst, size_t cap)
{
	int used =
		dn_expand(ns_msg_base(*h), ns_msg_end(*h), rd, dst, (int)cap);

	if (used < 0 || rd + used > rd_end)
		return -1;
	normalise_name(dst);
	return 0;
}

static int srv_cmp(const void *a, const void *b)
{
	const struct ipam_dns_srv *x = a, *y = b;
	int c;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* Within a priority the heavier targets take more of the load. */
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	c = strcmp(x->target, y->target);
	if (c)
		return c;
	return (x->port > y->port) - (x->port < y->port);
}

int ipam_dns_parse_srv(struct ipam_dns_srv **out, size_t *nr,
		       const unsigned char *msg, size_t len)
{
	struct ipam_dns_srv *v = NULL;
	size_t n = 0, alloc = 0, i, kept;
	char target[DNS_NAME_MAX];
	int err = 0, count;
	ns_msg h;

	*out = NULL;
	*nr = 0;
	if (len > DNS_MSG_MAX || ns_initparse(msg, (int)len, &h) < 0) {
		err = malformed();
		goto out;
	}
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < (size_t)count; i++) {
		const unsigned char *rd;
		ns_rr rr;

		if (ns_parserr(&h, ns_s_an, (int)i, &rr) < 0) {
			err = malformed();
			goto out;
		}
		/* A CNAME may lead the answer; only SRV data is wanted. */
		if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_srv)
			continue;
		rd = ns_rr_rdata(rr);
		if (ns_rr_rdlen(rr) < 7 ||
		    expand_in_rdata(&h, rd + 6, rd + ns_rr_rdlen(rr), target,
				    sizeof(target)) < 0) {
			err = malformed();
			goto out;
		}
		/* RFC 2782: a target of "." says the service is not here. */
		if (target[0] == '\0' || strcmp(target, ".") == 0)
			continue;
		ALLOC_GROW(v, n + 1, alloc);
		/* 16-bit fields: they fit an int */
		v[n].priority = (int)ns_get16(rd);
		v[n].weight = (int)ns_get16(rd + 2);
		v[n].port = (int)ns_get16(rd + 4);
		v[n].target = xstrdup(target);
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), srv_cmp);
	for (i = 0, kept = 0; i < n; i++) {
		if (kept && srv_cmp(&v[kept - 1], &v[i]) == 0) {
			free(v[i].target);
			continue;
		}
		v[kept++] = v[i];
	}
	n = kept;
out:
	if (err) {
		ipam_dns_srv_free(v, n);
		return err;
	}
	*out = v;
	*nr = n;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ipam_dns_parse_ns(char ***out, size_t *nr, const unsigned char *msg,
		      size_t len)
{
	char **v = NULL;
	size_t n = 0, alloc = 0, i, kept;
	char target[DNS_NAME_MAX];
	int err = 0, count;
	ns_msg h;

	*out = NULL;
	*nr = 0;
	if (len > DNS_MSG_MAX || ns_initparse(msg, (int)len, &h) < 0) {
		err = malformed();
		goto out;
	}
	count = ns_msg_count(h, ns_s_an);
	for (i = 0; i < (size_t)count; i++) {
		const unsigned char *rd;
		ns_rr rr;

		if (ns_parserr(&h, ns_s_an, (int)i, &rr) < 0) {
			err = malformed();
			goto out;
		}
		if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_ns)
			continue;
		rd = ns_rr_rdata(rr);
		if (expand_in_rdata(&h, rd, rd + ns_rr_rdlen(rr), target,
				    sizeof(target)) < 0) {
			err = malformed();
			goto out;
		}
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = xstrdup(target);
	}
	if (n)
		qsort(v, n, sizeof(*v), str_cmp);
	for (i = 0, kept = 0; i < n; i++) {
		if (kept && strcmp(v[kept - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[kept++] = v[i];
	}
	n = kept;
out:
	if (err) {
		ipam_dns_names_free(v, n);
		return err;
	}
	*out = v;
	*nr = n;
	return 0;
}

/* Why res_nquery failed, from its h_errno, errno and the answer's rcode. */
static const char *query_failure(int herr, int saved_errno,
				 const unsigned char *ans)
{
	switch (ans[3] & 0x0f) {
	case ns_r_formerr:
		return "format error (FORMERR)";
	case ns_r_servfail:
		return "server failure (SERVFAIL)";
	case ns_r_notimpl:
		return "not implemented (NOTIMP)";
	case ns_r_refused:
		return "refused (REFUSED)";
	default:
		break;
	}
	if (saved_errno == ETIMEDOUT)
		return "timed out";
	/* glibc's "nobody answered at all", e.g. no server listening. */
	if (saved_errno == ECONNREFUSED)
		return "no DNS server answered (connection refused)";
	if (herr == NO_RECOVERY)
		return "non-recoverable failure";
	return saved_errno ? strerror(saved_errno) : "no answer";
}

/*
 * One query of the exact name (no search list) through a private resolver
 * state.  timeout (seconds) bounds the whole query: glibc asks each server
 * once with retrans seconds, then once more with 2 * retrans / nscount, so
 * retrans = timeout / (nscount + 2) keeps the worst case within it.
 * *ans is NULL (and 0 returned) when the name or the records do not exist.
 */
static int query(unsigned char **ans, size_t *anslen, const char *what,
		 const char *name, int type, int timeout)
{
	struct __res_state rs;
	unsigned char *buf = NULL;
	int err = 0, inited = 0, n, herr, saved_errno;

	*ans = NULL;
	*anslen = 0;
	if (!valid_query_name(name)) {
		err = ipam_error_set(IPAM_EINVAL,
				     "dns %s query: invalid name '%s'", what,
				     name ? name : "");
		goto out;
	}
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		err = ipam_error_set(IPAM_EIO,
				     "dns %s query for '%s': cannot set up the "
				     "resolver: %s",
				     what, name, strerror(errno));
		goto out;
	}
	inited = 1;
	rs.retry = 2;
	rs.retrans = timeout / (rs.nscount + 2);
	if (rs.retrans < 1)
		rs.retrans = 1;
	buf = xmalloc(DNS_MSG_MAX);
	/* A timeout leaves the buffer unwritten: read rcode 0 then. */
	memset(buf, 0, NS_HFIXEDSZ);
	errno = 0;
	n = res_nquery(&rs, name, ns_c_in, type, buf, DNS_MSG_MAX);
	saved_errno = errno;
	herr = rs.res_h_errno;
	if (n < 0) {
		if (herr == HOST_NOT_FOUND || herr == NO_DATA)
			goto out;
		err = ipam_error_set(IPAM_EIO, "dns %s query for '%s': %s",
				     what, name,
				     query_failure(herr, saved_errno, buf));
		goto out;
	}
	*ans = buf;
	*anslen = (size_t)(n > DNS_MSG_MAX ? DNS_MSG_MAX : n);
	buf = NULL;
out:
	free(buf);
	if (inited)
		res_nclose(&rs);
	return err;
}

int ipam_dns_srv(struct ipam_dns_srv **out, size_t *nr, const char *name,
		 int timeout)
{
	unsigned char *ans = NULL;
	size_t len;
	int err;

	*out = NULL;
	*nr = 0;
	err = query(&ans, &len, "SRV", name, ns_t_srv, timeout);
	if (err || ans == NULL)
		goto out;
	err = ipam_dns_parse_srv(out, nr, ans, len);
	if (err)
		ipam_error_prefix(err, "dns SRV query for '%s'", name);
out:
	free(ans);
	return err;
}

void ipam_dns_srv_free(struct ipam_dns_srv *srv, size_t nr)
{
	size_t i;

	if (srv == NULL)
		return;
	for (i = 0; i < nr; i++)
		free(srv[i].target);
	free(srv);
}

int ipam_dns_ns(char ***out, size_t *nr, const char *zone, int timeout)
{
	unsigned char *ans = NULL;
	size_t len;
	int err;

	*out = NULL;
	*nr = 0;
	err = query(&ans, &len, "NS", zone, ns_t_ns, timeout);
	if (err || ans == NULL)
		goto out;
	err = ipam_dns_parse_ns(out, nr, ans, len);
	if (err)
		ipam_error_prefix(err, "dns NS query for '%s'", zone);
out:
	free(ans);
	return err;
}

void ipam_dns_names_free(char **names, size_t nr)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
}

/* An address in binary, for numeric ordering. */
struct bin_addr {
	int family;
	unsigned char b[16];
};

static int bin_cmp(const void *a, const void *b)
{
	const struct bin_addr *x = a, *y = b;

	/* IPv4 first, then numeric order within a family. */
	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return memcmp(x->b, y->b, x->family == AF_INET ? 4 : 16);
}

static void collect_addrs(struct ipam_addr **out, size_t *nr,
			  const struct addrinfo *res)
{
	const struct addrinfo *ai;
	struct bin_addr *tmp;
	struct ipam_addr *v;
	size_t n = 0, i, kept;

	*out = NULL;
	*nr = 0;
	for (ai = res; ai; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			n++;
	if (n == 0)
		return;
	tmp = xcalloc(n, sizeof(*tmp));
	for (ai = res, i = 0; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *sin =
				(const void *)ai->ai_addr;

			tmp[i].family = AF_INET;
			memcpy(tmp[i++].b, &sin->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 =
				(const void *)ai->ai_addr;

			tmp[i].family = AF_INET6;
			memcpy(tmp[i++].b, &sin6->sin6_addr, 16);
		}
	}
	qsort(tmp, n, sizeof(*tmp), bin_cmp);
	v = xcalloc(n, sizeof(*v));
	for (i = 0, kept = 0; i < n; i++) {
		if (i && bin_cmp(&tmp[i - 1], &tmp[i]) == 0)
			continue;
		v[kept].family = tmp[i].family;
		inet_ntop(tmp[i].family, tmp[i].b, v[kept].text,
			  sizeof(v[kept].text));
		kept++;
	}
	free(tmp);
	*out = v;
	*nr = kept;
}

static const char *gai_reason(int e)
{
	switch (e) {
	case EAI_AGAIN:
		return "temporary failure (timeout or server failure)";
	case EAI_FAIL:
		return "non-recoverable failure";
	case EAI_MEMORY:
		return "out of memory";
	case EAI_SYSTEM:
		return "system error";
	default:
		return "lookup failed";
	}
}

/* Work shared by the resolver threads; each name is claimed once. */
struct resolve_job {
	const char *const *names;
	size_t n;
	atomic_size_t next;
	struct ipam_addr **results;
	size_t *nr_results;
	int *status;
	const char **reason;
	int timeout;
};

static void resolve_one(struct resolve_job *job, size_t i)
{
	struct addrinfo hints, *res = NULL;
	int e;

	if (!valid_query_name(job->names[i])) {
		job->status[i] = IPAM_EIO;
		job->reason[i] = "invalid name";
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	/* One socket type, or every address comes back three times. */
	hints.ai_socktype = SOCK_STREAM;
	e = getaddrinfo(job->names[i], NULL, &hints, &res);
	if (e == 0)
		collect_addrs(&job->results[i], &job->nr_results[i], res);
	else if (e != EAI_NONAME && e != EAI_NODATA) {
		job->status[i] = IPAM_EIO;
		job->reason[i] = gai_reason(e);
	}
	if (res)
		freeaddrinfo(res);
}

/*
 * getaddrinfo uses the calling thread's resolver state (_res): set up
 * once per thread, its retrans and retry carry the caller's timeout, as
 * query() does for its private state.
 */
static void *resolve_worker(void *arg)
{
	struct resolve_job *job = arg;
	size_t i;

	if (res_init() == 0) {
		_res.retry = 2;
		_res.retrans = job->timeout / (_res.nscount + 2);
		if (_res.retrans < 1)
			_res.retrans = 1;
	}
	while ((i = atomic_fetch_add(&job->next, 1)) < job->n)
		resolve_one(job, i);
	return NULL;
}

/*
 * A pool of threads, each resolving one name at a time with getaddrinfo,
 * so at most RESOLVE_INFLIGHT lookups run and a slow one holds up only its
 * own thread.  (getaddrinfo_a with gai_suspend was the first choice, but
 * glibc 2.36's gai_suspend can return while a finishing request still
 * links the waiter it kept on its stack, and the worker then crashes in
 * __gai_notify.)
 */
int ipam_dns_resolve_many(const char *const *names, size_t n,
			  struct ipam_addr **results, size_t *nr_results,
			  int *status, const char **reason, int timeout)
{
	struct resolve_job job = {.names = names,
				  .n = n,
				  .results = results,
				  .nr_results = nr_results,
				  .status = status,
				  .reason = reason,
				  .timeout = timeout > 0 ? timeout : 1};
	pthread_t threads[RESOLVE_INFLIGHT];
	pthread_attr_t attr;
	size_t k, want, started = 0;
	int err = 0, e = 0, attr_ok = 0;

	atomic_init(&job.next, 0);
	for (k = 0; k < n; k++) {
		results[k] = NULL;
		nr_results[k] = 0;
		status[k] = 0;
		reason[k] = NULL;
	}
	if (n == 0)
		goto out;
	want = n < RESOLVE_INFLIGHT ? n : RESOLVE_INFLIGHT;
	if (pthread_attr_init(&attr) == 0) {
		attr_ok = 1;
		pthread_attr_setstacksize(&attr, RESOLVE_STACK);
	}
	for (k = 0; k < want; k++) {
		e = pthread_create(&threads[started], attr_ok ? &attr : NULL,
				   resolve_worker, &job);
		if (e != 0)
			break;
		started++;
	}
	/* With fewer threads than wanted the work still gets done. */
	if (started == 0) {
		err = ipam_error_set(IPAM_EIO,
				     "cannot start resolver threads: %s",
				     strerror(e));
		goto out;
	}
	for (k = 0; k < started; k++)
		pthread_join(threads[k], NULL);
out:
	if (attr_ok)
		pthread_attr_destroy(&attr);
	return err;
}

int ipam_dns_record_addr(struct ipam_addr *out, const void *rec, size_t len)
{
	const unsigned char *p = rec;
	size_t data_len;
	unsigned type;

	/* DataLength u16 LE, Type u16 LE, Version u8, Rank u8, Flags u16,
	 * Serial u32, TtlSeconds u32 BE, Reserved u32, TimeStamp u32. */
	if (len < 24)
		return -1;
	data_len = (size_t)p[0] | (size_t)p[1] << 8;
	type = (unsigned)p[2] | (unsigned)p[3] << 8;
	if (p[4] != 5 || 24 + data_len > len)
		return -1;
	if (type == 1 && data_len == 4) {
		out->family = AF_INET;
		inet_ntop(AF_INET, p + 24, out->text, sizeof(out->text));
		return 1;
	}
	if (type == 28 && data_len == 16) {
		out->family = AF_INET6;
		inet_ntop(AF_INET6, p + 24, out->text, sizeof(out->text));
		return 1;
	}
	return type == 1 || type == 28 ? -1 : 0;
}
