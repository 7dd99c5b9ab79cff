/*
 * Errors: fallible functions return 0 or a negative IPAM_E* code and leave
 * a message in a thread-local "last error", as libgit2 does.  Callers add
 * context in front of a lower-level message instead of overwriting it.
 *
 * Layer util/ (this header is its centre): buffers, errors, diagnostics,
 * logging, text, hashing, the document tree, secrets and child processes.
 * It uses libc only; every other layer uses it.
 */
#ifndef IPAM_ERROR_H
#define IPAM_ERROR_H

enum {
	IPAM_OK = 0,
	IPAM_ERROR = -1,  /* generic failure */
	IPAM_ENOMEM = -2, /* out of memory */
	IPAM_EIO = -3,	  /* file or network I/O */
	IPAM_EINVAL = -4, /* invalid input or usage */
	IPAM_ENOTFOUND = -5,
	IPAM_EEXISTS = -6,
	IPAM_ECONFLICT = -7, /* refused: conflicts with recorded state */
	IPAM_EDB = -8,	     /* state database */
	IPAM_ELIMIT = -9,    /* a bound on input size or count was hit */
	IPAM_EAUTH = -10,    /* credentials rejected */
	IPAM_ETIMEOUT = -11, /* a remote peer did not answer in time */
};

/* Set the last error; records the call site for -vv output.  Returns
 * code.  Under clang's static analyzer the macro says so itself: the
 * analyzer cannot see into error.c and would otherwise follow
 * "return ipam_error_set(...)" as if it could return 0. */
#ifdef __clang_analyzer__
#define ipam_error_set(code, ...)                                              \
	(ipam_error_set_at(__FILE__, __LINE__, (code), __VA_ARGS__), (code))
#else
#define ipam_error_set(code, ...)                                              \
	ipam_error_set_at(__FILE__, __LINE__, (code), __VA_ARGS__)
#endif
int ipam_error_set_at(const char *file, int line, int code, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

/* Put "context: " in front of the current message; returns code. */
int ipam_error_prefix(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The last message ("" when none) and where it was set. */
const char *ipam_error_last(void);
const char *ipam_error_site(void);
void ipam_error_clear(void);

#endif
