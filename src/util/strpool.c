#include "strpool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "banned.h"

/* Big enough that the headers are noise, small enough that a pool of a
 * few rows costs little. */
#define BLOCK_SIZE (64 * 1024 - 64)

struct ipam_strpool_block {
	struct ipam_strpool_block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

static struct ipam_strpool_block *new_block(struct ipam_strpool *p, size_t size)
{
	struct ipam_strpool_block *b = xcalloc(1, sizeof(*b) + size);

	b->size = size;
	b->next = p->blocks;
	p->blocks = b;
	return b;
}

void *ipam_strpool_alloc(struct ipam_strpool *p, size_t n)
{
	/* pointers, integers: what a pool holds */
	const size_t align = sizeof(void *);
	struct ipam_strpool_block *b = p->blocks;
	size_t at;

	if (n > BLOCK_SIZE / 4) {
		/* a block of its own, behind the current one */
		struct ipam_strpool_block *own = xcalloc(1, sizeof(*own) + n);

		own->size = own->used = n;
		if (b) {
			own->next = b->next;
			b->next = own;
		} else {
			p->blocks = own;
		}
		return own->data;
	}
	at = b ? (b->used + align - 1) / align * align : 0;
	if (!b || at + n > b->size) {
		b = new_block(p, BLOCK_SIZE);
		at = 0;
	}
	b->used = at + n;
	return b->data + at;
}

/* Strings need no alignment: packed end to end. */
static char *pool_chars(struct ipam_strpool *p, size_t n)
{
	struct ipam_strpool_block *b = p->blocks;
	char *s;

	if (!b || b->used + n > b->size || n > BLOCK_SIZE / 4)
		return ipam_strpool_alloc(p, n);
	s = (char *)b->data + b->used;
	b->used += n;
	return s;
}

char *ipam_strpool_dup(struct ipam_strpool *p, const char *s)
{
	size_t n;
	char *d;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = pool_chars(p, n);
	memcpy(d, s, n);
	return d;
}

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static void grow_slots(struct ipam_strpool *p)
{
	size_t cap = p->cap_slots ? p->cap_slots * 2 : 64;
	char **slots = xcalloc(cap, sizeof(*slots));

	for (size_t i = 0; i < p->cap_slots; i++) {
		size_t k;

		if (!p->slots[i])
			continue;
		for (k = hash_str(p->slots[i]) & (cap - 1); slots[k];
		     k = (k + 1) & (cap - 1))
			;
		slots[k] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->cap_slots = cap;
}

char *ipam_strpool_intern(struct ipam_strpool *p, const char *s)
{
	size_t k;

	if (!s)
		return NULL;
	if (2 * (p->nr_slots + 1) > p->cap_slots)
		grow_slots(p);
	for (k = hash_str(s) & (p->cap_slots - 1); p->slots[k];
	     k = (k + 1) & (p->cap_slots - 1))
		if (!strcmp(p->slots[k], s))
			return p->slots[k];
	p->slots[k] = ipam_strpool_dup(p, s);
	p->nr_slots++;
	return p->slots[k];
}

void ipam_strpool_release(struct ipam_strpool *p)
{
	while (p->blocks) {
		struct ipam_strpool_block *next = p->blocks->next;

		free(p->blocks);
		p->blocks = next;
	}
	free(p->slots);
	memset(p, 0, sizeof(*p));
}
