#include "jsonw.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "utf8.h"
#include "banned.h"

/* Hand the buffer to the sink once this much is ready. */
#define JSONW_CHUNK (64u << 10)

void ipam_jsonw_init(struct ipam_jsonw *w, bool pretty, ipam_jsonw_sink sink,
		     void *ctx)
{
	memset(w, 0, sizeof(*w));
	strbuf_init(&w->buf);
	w->pretty = pretty;
	w->sink = sink;
	w->ctx = ctx;
}

static void drain(struct ipam_jsonw *w)
{
	if (!w->sink || !w->buf.len)
		return;
	if (!w->error)
		w->error = w->sink(w->ctx, w->buf.buf, w->buf.len);
	strbuf_reset(&w->buf);
}

static void fail(struct ipam_jsonw *w, int code, const char *what)
{
	if (!w->error)
		w->error = ipam_error_set(code, "cannot write JSON: %s", what);
}

/* jansson's dump_indent: a newline and two spaces a level, or nothing. */
static void indent(struct ipam_jsonw *w, int depth)
{
	if (!w->pretty)
		return;
	strbuf_addch(&w->buf, '\n');
	for (int i = 0; i < depth; i++)
		strbuf_add(&w->buf, "  ", 2);
}

/* What goes before a value or key: the separator from the item before. */
static void before_item(struct ipam_jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->depth)
		return;
	if (w->any[w->depth - 1])
		strbuf_addch(&w->buf, ',');
	w->any[w->depth - 1] = true;
	indent(w, w->depth);
}

static void begin(struct ipam_jsonw *w, char open)
{
	before_item(w);
	if (w->depth == IPAM_JSONW_MAX_DEPTH) {
		fail(w, IPAM_ELIMIT, "nested too deep");
		return;
	}
	strbuf_addch(&w->buf, open);
	w->any[w->depth++] = false;
}

static void end(struct ipam_jsonw *w, char close)
{
	if (!w->depth) {
		fail(w, IPAM_EINVAL, "no container to close");
		return;
	}
	if (w->any[--w->depth])
		indent(w, w->depth);
	strbuf_addch(&w->buf, close);
	if (w->buf.len >= JSONW_CHUNK)
		drain(w);
}

void ipam_jsonw_begin_map(struct ipam_jsonw *w)
{
	begin(w, '{');
}

void ipam_jsonw_end_map(struct ipam_jsonw *w)
{
	end(w, '}');
}

void ipam_jsonw_begin_seq(struct ipam_jsonw *w)
{
	begin(w, '[');
}

void ipam_jsonw_end_seq(struct ipam_jsonw *w)
{
	end(w, ']');
}

bool ipam_jsonw_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0;

	while (n) {
		size_t k = *p < 0x80 ? 1 : ipam_utf8_decode(p, n, NULL);

		if (!k)
			return false;
		p += k;
		n -= k;
	}
	return true;
}

/*
 * The string in quotes: jansson's escapes (\" \\ \b \f \n \r \t, other C0
 * controls as \u00XX), then json.h's (DEL, and C1 controls, which are
 * 0xC2 0x80..0x9F in UTF-8, as \u00XX).
 */
static void quoted(struct ipam_jsonw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	char esc[8];

	if (!ipam_jsonw_valid(s)) {
		fail(w, IPAM_EINVAL, "a string is not UTF-8");
		return;
	}
	strbuf_addch(&w->buf, '"');
	for (; *p; p++) {
		const char *e = NULL;
		unsigned c = *p;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f &&
		    !(c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			continue;
		strbuf_add(&w->buf, run, (size_t)(p - run));
		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			if (c == 0xc2)
				c = *++p;
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			e = esc;
			break;
		}
		strbuf_addstr(&w->buf, e);
		run = p + 1;
	}
	strbuf_add(&w->buf, run, (size_t)(p - run));
	strbuf_addch(&w->buf, '"');
}

void ipam_jsonw_key(struct ipam_jsonw *w, const char *key)
{
	before_item(w);
	quoted(w, key);
	strbuf_addstr(&w->buf, w->pretty ? ": " : ":");
	w->after_key = true;
}

void ipam_jsonw_str(struct ipam_jsonw *w, const char *s)
{
	before_item(w);
	quoted(w, s);
}

void ipam_jsonw_str_or_null(struct ipam_jsonw *w, const char *s)
{
	if (s)
		ipam_jsonw_str(w, s);
	else
		ipam_jsonw_null(w);
}

void ipam_jsonw_int(struct ipam_jsonw *w, long long v)
{
	before_item(w);
	strbuf_addf(&w->buf, "%lld", v);
}

void ipam_jsonw_bool(struct ipam_jsonw *w, bool v)
{
	before_item(w);
	strbuf_addstr(&w->buf, v ? "true" : "false");
}

void ipam_jsonw_null(struct ipam_jsonw *w)
{
	before_item(w);
	strbuf_addstr(&w->buf, "null");
}

/* ---- a node tree ---------------------------------------------------- */

struct key_ref {
	const struct ipam_node *key;
	size_t index;
};

/* Keys by their bytes (jansson's JSON_SORT_KEYS order), equal keys in
 * the order they were set. */
static int cmp_key(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
	int c = memcmp(x->key->str, y->key->str, n);

	if (c)
		return c;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static bool same_key(const struct ipam_node *a, const struct ipam_node *b)
{
	return a->len == b->len && !memcmp(a->str, b->str, a->len);
}

static void write_node(struct ipam_jsonw *w, const struct ipam_node *n,
		       bool sort_keys);

/*
 * A map as jansson writes its object: a key set twice keeps the place of
 * the first and the value of the last; sorted by key when asked.
 */
static void write_map(struct ipam_jsonw *w, const struct ipam_node *n,
		      bool sort_keys)
{
	struct key_ref *refs = xcalloc(n->nr ? n->nr : 1, sizeof(*refs));
	size_t *value = xcalloc(n->nr ? n->nr : 1, sizeof(*value));
	bool *first = xcalloc(n->nr ? n->nr : 1, sizeof(*first));

	for (size_t i = 0; i < n->nr; i++) {
		refs[i].key = ipam_node_deref(n->keys[i]);
		refs[i].index = i;
		if (refs[i].key->kind != IPAM_NODE_STR) {
			fail(w, IPAM_EINVAL, "a key is not a string");
			goto out;
		}
	}
	qsort(refs, n->nr, sizeof(*refs), cmp_key);
	/* equal keys are side by side now, the first set first */
	for (size_t i = 0, g = 0; i < n->nr; i++) {
		if (!same_key(refs[i].key, refs[g].key))
			g = i;
		first[refs[g].index] = true;
		value[refs[g].index] = refs[i].index;
	}
	ipam_jsonw_begin_map(w);
	for (size_t i = 0; i < n->nr; i++) {
		size_t k = sort_keys ? refs[i].index : i;

		if (!first[k])
			continue;
		ipam_jsonw_key(w, ipam_node_deref(n->keys[k])->str);
		write_node(w, n->items[value[k]], sort_keys);
	}
	ipam_jsonw_end_map(w);
out:
	free(first);
	free(value);
	free(refs);
}

static void write_node(struct ipam_jsonw *w, const struct ipam_node *n,
		       bool sort_keys)
{
	n = ipam_node_deref(n);
	switch (n ? n->kind : IPAM_NODE_ALIAS) {
	case IPAM_NODE_NULL:
		ipam_jsonw_null(w);
		break;
	case IPAM_NODE_BOOL:
		ipam_jsonw_bool(w, n->boolean);
		break;
	case IPAM_NODE_INT:
		ipam_jsonw_int(w, n->num);
		break;
	case IPAM_NODE_STR:
		ipam_jsonw_str(w, n->str);
		break;
	case IPAM_NODE_SEQ:
		ipam_jsonw_begin_seq(w);
		for (size_t i = 0; i < n->nr && !w->error; i++)
			write_node(w, n->items[i], sort_keys);
		ipam_jsonw_end_seq(w);
		break;
	case IPAM_NODE_MAP:
		write_map(w, n, sort_keys);
		break;
	default:
		fail(w, IPAM_EINVAL, "a node has no JSON form");
		break;
	}
}

void ipam_jsonw_node(struct ipam_jsonw *w, const struct ipam_node *n,
		     bool sort_keys)
{
	write_node(w, n, sort_keys);
}

int ipam_jsonw_finish(struct ipam_jsonw *w)
{
	if (w->depth)
		fail(w, IPAM_EINVAL, "a container is left open");
	strbuf_addch(&w->buf, '\n');
	if (w->sink) {
		drain(w);
		strbuf_release(&w->buf);
	}
	return w->error;
}
