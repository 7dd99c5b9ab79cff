/*
 * A pool of strings (and small arrays) that live and die together: no
 * malloc header per string, and the values many rows repeat (a domain, an
 * operating system, a timestamp) stored once.  What a pool hands out is
 * never freed alone; ipam_strpool_release frees it all.  A loaded
 * inventory of 100,000 servers keeps its strings in one.
 *
 * Prefixes: ipam_strpool_
 */
#ifndef IPAM_STRPOOL_H
#define IPAM_STRPOOL_H

#include <stddef.h>

struct ipam_strpool_block;

struct ipam_strpool {
	struct ipam_strpool_block *blocks;
	/* ipam_strpool_intern's open-addressing table of its strings */
	char **slots;
	size_t cap_slots, nr_slots;
};

/* n bytes, zeroed, aligned for pointers and integers (8 bytes). */
void *ipam_strpool_alloc(struct ipam_strpool *p, size_t n);
/* A copy of s in the pool (NULL stays NULL). */
char *ipam_strpool_dup(struct ipam_strpool *p, const char *s);
/* The pool's one copy of s: equal strings give the same pointer. */
char *ipam_strpool_intern(struct ipam_strpool *p, const char *s);
void ipam_strpool_release(struct ipam_strpool *p);

#endif
