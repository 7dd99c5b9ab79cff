/*
 * What db_events.c (the import), db_events_track.c (the search, the
 * pruning and the purge) and db_events_block.c (the blocks' encoding and
 * the readers' tables) share: the posting key of a search key, the
 * postings of one batch in memory and the blocks.  Private to those.
 */
#ifndef IPAM_DB_EVENTS_INTERNAL_H
#define IPAM_DB_EVENTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db_events.h"
#include "strbuf.h"

struct ipam_db;
struct ipam_sql_stmt;

/*
 * The posting key (dhcp_event_postings.k) of a search key: FNV-1a over
 * the kind (one byte, 1 + by) and the key's bytes, then SplitMix64's
 * finalizer.  Stored: never change it without a migration.
 */
uint64_t ipam_db_events_hash(enum ipam_db_track_by by, const char *key,
			     size_t len);

/*
 * The segment of a batch whose first event id is first (db_schema.c):
 * first >> SEG_SHIFT, kept in the batch's row.  A commit rewrites the
 * postings' leaves of its segment: with 2^16 ids a segment holds about
 * one batch of a large import (the audit task's 100,000 events), so a
 * commit rewrites little more than its own rows (a million-event
 * import wrote 75 MB to the log and the database instead of 119 MB with
 * 2^19); a search reads one range per segment, 153 of them over ten
 * million events.  Batches stored with 19 keep their segment: the
 * newest batch has the largest either way, which is all a search needs.
 */
#define IPAM_DB_EVENTS_SEG_SHIFT 16

/* The posting keys of an event from its stored columns (NULL or empty:
 * no key); returns how many of keys[3] it set.  tmp is scratch. */
size_t ipam_db_events_row_keys(uint64_t keys[3], const char *ip,
			       const char *client_id, const char *host,
			       struct strbuf *tmp);

/* v as an unsigned LEB128 varint at out (room for 10 bytes); its
 * length. */
size_t ipam_db_events_varint(unsigned char *out, uint64_t v);

/* One key's ids in a batch being built: unsigned LEB128 varints of the
 * differences between ascending ids (the first from 0). */
struct ipam_db_events_posting {
	uint64_t k;
	long long last;	     /* the last id added */
	uint32_t len, alloc; /* alloc 0: a free slot */
	union {
		unsigned char in[16]; /* alloc <= 16: the bytes are here */
		unsigned char *heap;
	} u;
};

/* The bytes of p. */
const unsigned char *
ipam_db_events_posting_bytes(const struct ipam_db_events_posting *p);

/* An open-addressing hash map by k; its size is bounded by the keys of
 * one batch. */
struct ipam_db_events_postings {
	struct ipam_db_events_posting *v;
	size_t nr, cap; /* cap: 0 or a power of two */
};

void ipam_db_events_postings_add(struct ipam_db_events_postings *m, uint64_t k,
				 long long id);
/* Whether k is in m. */
bool ipam_db_events_postings_has(const struct ipam_db_events_postings *m,
				 uint64_t k);
/* The entries in use, sorted by k, into a new array of m->nr (the
 * buffers stay m's). */
struct ipam_db_events_posting *
ipam_db_events_postings_sorted(const struct ipam_db_events_postings *m);
void ipam_db_events_postings_release(struct ipam_db_events_postings *m);

/*
 * The events are stored in blocks (migration 10, db_schema.c): one row
 * of dhcp_event_blocks holds up to BLOCK_EVENTS events of one batch, the
 * ids id..last_id, as text: one record per event, ended by '\n', its
 * fields separated by ','.  A record: the id minus the block's id, at
 * (UTC seconds), the server's local time minus at (seconds), the
 * family, the event id, the line, then description, ip, host,
 * client_id and extra (dhcp_events.extra's encoding of migration 6),
 * each escaped: '\\' as "\\\\", ',' as "\\c", '\n' as "\\n".
 */
#define IPAM_DB_EVENTS_BLOCK_EVENTS 128
#define IPAM_DB_EVENTS_BLOCK_BYTES  16384

/*
 * Migration 12: a block's text is stored packed (db_events_pack.c) in
 * dhcp_event_blocks.packed, its events column ''; a block of an earlier
 * version has packed NULL and its text in events.  A packed block holds
 * at most IPAM_DB_EVENTS_BLOCK_MAX bytes of text (BLOCK_BYTES and its last
 * record, which an over-long line makes at most a few times 8 KiB).
 */
#define IPAM_DB_EVENTS_BLOCK_MAX (1024 * 1024)

/* The compressor's contexts, made on first use (a thread's own). */
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct ipam_db_events_packer {
	struct ZSTD_CCtx_s *c;
	struct ZSTD_DCtx_s *d;
};

/* out = text (len bytes) packed; 0 or an error (set). */
int ipam_db_events_pack(struct ipam_db_events_packer *p, struct strbuf *out,
			const char *text, size_t len);
/* out = the text packed (len bytes) holds, NUL-terminated; 0, or
 * IPAM_EDB (set) when it is not a packed block's. */
int ipam_db_events_unpack(struct ipam_db_events_packer *p, struct strbuf *out,
			  const void *packed, size_t len);
void ipam_db_events_packer_release(struct ipam_db_events_packer *p);

/* One event of a block.  Encoding reads the strings (NULL: empty); a
 * decoded record's point into the block's text, unescaped in place and
 * NUL-terminated ("" when empty). */
struct ipam_db_events_rec {
	long long id, at, local; /* local: the server's clock, seconds */
	long long line;
	int family, event_id;
	const char *description, *ip, *host, *client_id, *extra;
};

/* Append the record of r (id counted from base) to out. */
void ipam_db_events_rec_put(struct strbuf *out, long long base,
			    const struct ipam_db_events_rec *r);
/* The same of r whose description, ip, host, client_id and extra are
 * len[0..4] bytes long; plain: none of them has a byte to escape. */
void ipam_db_events_rec_put_n(struct strbuf *out, long long base,
			      const struct ipam_db_events_rec *r,
			      const size_t len[5], int plain);
/* Append s (len bytes) escaped. */
void ipam_db_events_escape(struct strbuf *out, const char *s, size_t len);
/*
 * The next record of a block's text (modified in place) from *pos: 1
 * with *r set, 0 at the end, IPAM_EDB (set) when it is malformed.
 */
int ipam_db_events_rec_next(char *text, size_t len, size_t *pos, long long base,
			    struct ipam_db_events_rec *r);
/* "YYYY-MM-DDTHH:MM:SS" of local (seconds on the server's clock). */
void ipam_db_events_local_text(char out[32], long long local);
/* The seconds of "YYYY-MM-DDTHH:MM:SS"; 0 when it is not that. */
int ipam_db_events_local_parse(const char *s, long long *out);

/* The hex columns of the vendor and user classes in extra (each followed
 * by its ASCII column): stored as their letter alone when they are the
 * ASCII column's bytes in hex. */
#define IPAM_DB_EXTRA_VENDOR_HEX 6
#define IPAM_DB_EXTRA_USER_HEX	 8

/* The checkpoints of an import's write-ahead log on a thread of their
 * own (db_events_ckpt.c): start (the one parked on db, or a new one;
 * NULL: none, the connection's own go on; PostgreSQL has none), kick
 * after each commit, park at the end of the import (the connection's own
 * back, the thread copying what is left, db's until the next start or
 * ipam_db_close) or stop it.  No other thread may use db while it starts,
 * parks or stops. */
struct ipam_db_events_ckpt;
struct ipam_db_events_ckpt *ipam_db_events_ckpt_start(struct ipam_db *db);
void ipam_db_events_ckpt_kick(struct ipam_db_events_ckpt *c);
void ipam_db_events_ckpt_park(struct ipam_db_events_ckpt *c);
void ipam_db_events_ckpt_stop(struct ipam_db_events_ckpt *c);

/*
 * The addresses' events folded (db_events_fold.c, migration 11): per
 * address, the events that decide its lease and its sources.  A fold is
 * filled with the events of a batch (in id order) and stored as the
 * batch's; the addresses' pass adds those to the fold of every event.
 */
struct ipam_db_events_addr;
struct ipam_db_events_fold {
	struct ipam_db_events_addr *a; /* the addresses, as first seen */
	size_t nr, alloc;
	uint32_t *idx; /* a + 1 by the address's hash (0: free) */
	size_t cap;    /* of idx: 0 or a power of two */
};

/* Fold e (of server; one without an address is left out); ip_len: the
 * length of e->ip, ip_key its posting key (ipam_db_events_hash), which
 * the import has computed already.  rec_off:
 * where e's record begins in the batch's text, whose strings are read
 * there when the fold is stored (the import: no copy per event), or
 * SIZE_MAX to copy them now. */
void ipam_db_events_fold_take(struct ipam_db_events_fold *f,
			      const struct ipam_db_events_rec *e, size_t ip_len,
			      uint64_t ip_key, long long server,
			      size_t rec_off);
/* Fold the n records of a block (of server). */
void ipam_db_events_fold_block(struct ipam_db_events_fold *f,
			       const struct ipam_db_events_rec *recs, size_t n,
			       long long server);
/* How many addresses f has. */
size_t ipam_db_events_fold_count(const struct ipam_db_events_fold *f);
/* The addresses a batch's fold holds at most (the import stops folding
 * a batch with more: the pass reads its events instead). */
#define IPAM_DB_EVENTS_FOLD_MAX 32768
/* Whether the fold of a batch of events is worth storing: a fold is
 * written and read back a row per address, a batch's events are read a
 * block of 128 at a time. */
#define IPAM_DB_EVENTS_FOLD_KEEP(addresses, events) ((addresses)*4 <= (events))
/* Store f as batch's rows (the batch's row is written: they refer to
 * it), inside the caller's transaction; text: the batch's records
 * (fold_take's rec_off). */
int ipam_db_events_fold_store(struct ipam_db *db, long long batch,
			      struct ipam_db_events_fold *f,
			      const struct strbuf *text);
/* Events were deleted: the fold of every event is no more, the next
 * pass reads them all (inside the caller's transaction). */
int ipam_db_events_fold_reset(struct ipam_db *db);
/* Empty f, keeping its memory; release: free it. */
void ipam_db_events_fold_clear(struct ipam_db_events_fold *f);
void ipam_db_events_fold_release(struct ipam_db_events_fold *f);

/* The records of each block of the batches first_batch..last_batch, in
 * id order, decoded, with the server of their batch: fn returns 0 to go
 * on, a negative code to stop (returned). */
typedef int (*ipam_db_events_block_fn)(const struct ipam_db_events_rec *recs,
				       size_t n, long long server, void *ctx);
int ipam_db_events_each_block(struct ipam_db *db, long long first_batch,
			      long long last_batch, ipam_db_events_block_fn fn,
			      void *ctx);

/* Decode dhcp_events.extra's encoding (s, len bytes) into extra (each
 * malloc'd); a malformed rest is left out. */
void ipam_db_events_decode_extra(char *extra[IPAM_DB_TRACK_EXTRAS],
				 const char *s, size_t len);

/* A row of track's result from e (file and server copied, "" for NULL). */
void ipam_db_events_row(struct ipam_db_track_row *r,
			const struct ipam_db_events_rec *e, const char *file,
			const char *server);

/* A block read back: its row and its text (unpacked); pack: the
 * contexts of unpacking and packing it. */
struct ipam_db_events_block {
	long long id, batch, last_id, n, at_min, at_max;
	struct strbuf text;
	struct ipam_db_events_packer pack;
};

/* The columns of a block's row, as ipam_db_events_block_take reads
 * them. */
#define IPAM_DB_EVENTS_BLOCK_COLUMNS                                           \
	"id, batch, last_id, n, at_min, at_max, events, packed"

void ipam_db_events_block_init(struct ipam_db_events_block *b);
void ipam_db_events_block_release(struct ipam_db_events_block *b);

/* The block of batch holding event id: 1 (read into *b), 0 when none. */
int ipam_db_events_block_of(struct ipam_db *db, struct ipam_sql_stmt **st,
			    long long id, long long batch,
			    struct ipam_db_events_block *b);
/* The block's columns (IPAM_DB_EVENTS_BLOCK_COLUMNS) of the statement's
 * row from col into *b: 0, or IPAM_EDB (set) when its packed text is
 * malformed. */
int ipam_db_events_block_take(struct ipam_db_events_block *b,
			      struct ipam_sql_stmt *st, int col);
/* Store (replace) b with the records in its text, packed; a block with
 * no record (n 0) is deleted. */
int ipam_db_events_block_store(struct ipam_db *db,
			       struct ipam_db_events_block *b);

#endif
