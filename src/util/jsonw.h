/*
 * A JSON writer that streams: the bytes ipam_json_write (json.h) gives
 * for the same tree, indented or compact, made as the values come and
 * handed to a sink whenever a buffer's worth is ready.  A plan of 20,000
 * actions is written without its tree (the node tree, jansson's copy of
 * it and the whole text at once were most of its peak memory).
 *
 * Strings are escaped as jansson does (", \, the C0 controls) and as
 * json.h adds (DEL and the C1 controls as \u00XX).  jansson refuses
 * malformed UTF-8, so callers check their strings with ipam_jsonw_valid
 * before the first byte goes out; a malformed string met while writing
 * sets the error that ipam_jsonw_finish returns.  Pure: the sink does the
 * I/O.
 *
 * Prefixes: ipam_jsonw_
 *   (the streaming JSON writer).
 */
#ifndef IPAM_JSONW_H
#define IPAM_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "node.h"
#include "strbuf.h"

#define IPAM_JSONW_MAX_DEPTH 32

/* Takes len bytes of text; returns 0 or a negative IPAM_E* code with the
 * last error set (the writer keeps the first). */
typedef int (*ipam_jsonw_sink)(void *ctx, const char *data, size_t len);

struct ipam_jsonw {
	struct strbuf buf;
	ipam_jsonw_sink sink; /* NULL: everything stays in buf */
	void *ctx;
	bool pretty;
	bool after_key;			/* the next value follows a key */
	int depth;			/* open containers */
	bool any[IPAM_JSONW_MAX_DEPTH]; /* an item written, per level */
	int error;
};

/* pretty: jansson's JSON_INDENT(2); else JSON_COMPACT. */
void ipam_jsonw_init(struct ipam_jsonw *w, bool pretty, ipam_jsonw_sink sink,
		     void *ctx);
void ipam_jsonw_begin_map(struct ipam_jsonw *w);
void ipam_jsonw_end_map(struct ipam_jsonw *w);
void ipam_jsonw_begin_seq(struct ipam_jsonw *w);
void ipam_jsonw_end_seq(struct ipam_jsonw *w);
/* A map's key; its value is the next thing written. */
void ipam_jsonw_key(struct ipam_jsonw *w, const char *key);
void ipam_jsonw_str(struct ipam_jsonw *w, const char *s);
/* s, or null when s is NULL. */
void ipam_jsonw_str_or_null(struct ipam_jsonw *w, const char *s);
void ipam_jsonw_int(struct ipam_jsonw *w, long long v);
void ipam_jsonw_bool(struct ipam_jsonw *w, bool v);
void ipam_jsonw_null(struct ipam_jsonw *w);
/*
 * A node tree as ipam_json_write writes it (IPAM_JSON_SORT_KEYS: keys in
 * byte order); a key that is no string or a node with no JSON form sets
 * the error.
 */
void ipam_jsonw_node(struct ipam_jsonw *w, const struct ipam_node *n,
		     bool sort_keys);
/*
 * The final newline, the rest to the sink; the first error met (0: none).
 * The buffer is released unless there is no sink: then buf holds it all
 * (strbuf_release it).
 */
int ipam_jsonw_finish(struct ipam_jsonw *w);

/* Is s (NUL-terminated; NULL counts as valid) text jansson accepts? */
bool ipam_jsonw_valid(const char *s);

#endif
