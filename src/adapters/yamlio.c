#include "yamlio.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"
#include "scalar.h"
#include "utf8.h"
#include "banned.h"

struct anchor {
	char *name;
	struct ipam_node *node;
};

struct frame {
	struct ipam_node *node; /* an open sequence or mapping */
	struct ipam_node *key;	/* mapping: key waiting for its value */
};

struct builder {
	const char *file;
	struct ipam_diags *diags;
	struct frame *stack;
	size_t depth, stack_alloc;
	struct anchor *anchors; /* one per name: the latest definition */
	size_t nr_anchors, anchors_alloc;
	size_t *slots;	 /* open addressing: anchor index + 1, 0 free */
	size_t nr_slots; /* a power of two, over twice nr_anchors */
	size_t nodes;
	size_t expanded;
	struct ipam_node *root;
};

static struct ipam_pos mark_pos(const char *file, yaml_mark_t m)
{
	struct ipam_pos p = {file, (int)m.line + 1, (int)m.column + 1};

	return p;
}

/*
 * libyaml checks UTF-8 too but reports only a byte offset for reader
 * errors; checking first gives the user a line and column.
 */
static int check_utf8(const char *file, const unsigned char *s, size_t len,
		      struct ipam_diags *diags)
{
	size_t i = 0;
	int line = 1, col = 1;

	while (i < len) {
		struct ipam_pos p = {file, line, col};
		uint32_t cp;
		size_t n = ipam_utf8_decode(s + i, len - i, &cp);

		if (!n) {
			ipam_diag_error(diags, &p,
					"invalid UTF-8 byte 0x%02x: the "
					"desired state must be UTF-8 text",
					s[i]);
			return IPAM_EINVAL;
		}
		if (!cp) {
			ipam_diag_error(diags, &p,
					"NUL byte in input: not a text file");
			return IPAM_EINVAL;
		}
		/* Line breaks as libyaml counts them, so that these positions
		 * agree with the parser's: CR LF is one, CR alone one, and
		 * (YAML 1.1) NEL, LS and PS too. */
		if (cp == '\r' && i + 1 < len && s[i + 1] == '\n') {
			n++;
			cp = '\n';
		}
		if (cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 ||
		    cp == 0x2029) {
			line++;
			col = 1;
		} else if (!(i == 0 && cp == 0xFEFF)) {
			col++;
		}
		i += n;
	}
	return 0;
}

/*
 * Anchors are found by hash: a document of N anchors and N aliases costs
 * N lookups, not N scans.
 */
static size_t hash_name(const char *s)
{
	size_t h = 14695981039346656037u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The slot of name: its anchor's, or the free one where it would go. */
static size_t *anchor_slot(struct builder *b, const char *name)
{
	size_t mask = b->nr_slots - 1, i = hash_name(name) & mask;

	while (b->slots[i] && strcmp(b->anchors[b->slots[i] - 1].name, name))
		i = (i + 1) & mask;
	return &b->slots[i];
}

static void grow_slots(struct builder *b)
{
	size_t i;

	b->nr_slots = b->nr_slots ? b->nr_slots * 2 : 64;
	free(b->slots);
	b->slots = xcalloc(b->nr_slots, sizeof(*b->slots));
	for (i = 0; i < b->nr_anchors; i++)
		*anchor_slot(b, b->anchors[i].name) = i + 1;
}

static void add_anchor(struct builder *b, const char *name, struct ipam_node *n)
{
	size_t *slot;

	if (2 * (b->nr_anchors + 1) > b->nr_slots)
		grow_slots(b);
	slot = anchor_slot(b, name);
	/* The latest definition wins, as YAML says anchors may be reused. */
	if (*slot) {
		b->anchors[*slot - 1].node = n;
		return;
	}
	ALLOC_GROW(b->anchors, b->nr_anchors + 1, b->anchors_alloc);
	b->anchors[b->nr_anchors].name = xstrdup(name);
	b->anchors[b->nr_anchors].node = n;
	*slot = ++b->nr_anchors;
}

static struct ipam_node *find_anchor(struct builder *b, const char *name)
{
	size_t *slot;

	if (!b->nr_slots)
		return NULL;
	slot = anchor_slot(b, name);
	return *slot ? b->anchors[*slot - 1].node : NULL;
}

static size_t add_weight(size_t a, size_t b)
{
	return a > SIZE_MAX / 4 - b ? SIZE_MAX / 4 : a + b;
}

/* Attach a node to the open collection, or make it the root. */
static void attach(struct builder *b, struct ipam_node *n)
{
	struct frame *f;

	if (!b->depth) {
		b->root = n;
		return;
	}
	f = &b->stack[b->depth - 1];
	if (f->node->kind == IPAM_NODE_SEQ) {
		ipam_node_push(f->node, n);
	} else if (!f->key) {
		f->key = n;
	} else {
		size_t old = f->node->alloc;

		ALLOC_GROW(f->node->items, f->node->nr + 1, f->node->alloc);
		if (old != f->node->alloc)
			f->node->keys = xrealloc(
				f->node->keys,
				f->node->alloc * sizeof(*f->node->keys));
		f->node->keys[f->node->nr] = f->key;
		f->node->items[f->node->nr++] = n;
		f->key = NULL;
	}
}

static int open_node(struct builder *b, struct ipam_node *n,
		     const yaml_char_t *anchor, const yaml_char_t *tag)
{
	b->nodes++;
	if (b->nodes > IPAM_YAML_MAX_NODES) {
		ipam_diag_error(b->diags, &n->pos,
				"document has more than %d nodes: refusing",
				IPAM_YAML_MAX_NODES);
		ipam_node_free(n);
		return IPAM_ELIMIT;
	}
	if (tag)
		n->tag = xstrdup((const char *)tag);
	if (anchor)
		add_anchor(b, (const char *)anchor, n);
	return 0;
}

static int on_scalar(struct builder *b, yaml_event_t *ev)
{
	struct ipam_node *n = ipam_node_new(IPAM_NODE_STR);
	int err;

	n->pos = mark_pos(b->file, ev->start_mark);
	n->str = xstrndup((const char *)ev->data.scalar.value,
			  ev->data.scalar.length);
	n->len = ev->data.scalar.length;
	if (memchr(n->str, '\0', n->len)) {
		ipam_diag_error(b->diags, &n->pos, "NUL character in a value");
		ipam_node_free(n);
		return IPAM_EINVAL;
	}
	n->style = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
			   ? IPAM_SCALAR_PLAIN
			   : IPAM_SCALAR_QUOTED;
	err = open_node(b, n, ev->data.scalar.anchor, ev->data.scalar.tag);
	if (err)
		return err;
	attach(b, n);
	return 0;
}

static int on_alias(struct builder *b, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ipam_node *target = find_anchor(b, name);
	struct ipam_pos pos = mark_pos(b->file, ev->start_mark);
	struct ipam_node *n;

	if (!target) {
		ipam_diag_error(b->diags, &pos, "unknown alias '*%s'", name);
		return IPAM_EINVAL;
	}
	if (!target->weight) {
		ipam_diag_error(b->diags, &pos,
				"alias '*%s' refers to a node that contains "
				"it",
				name);
		return IPAM_EINVAL;
	}
	b->expanded = add_weight(b->expanded, target->weight);
	if (b->expanded > IPAM_YAML_MAX_ALIAS_EXPANSION) {
		ipam_diag_error(b->diags, &pos,
				"alias '*%s' expands the document past %d "
				"nodes: refusing (alias expansion bomb?)",
				name, IPAM_YAML_MAX_ALIAS_EXPANSION);
		return IPAM_ELIMIT;
	}
	n = ipam_node_new(IPAM_NODE_ALIAS);
	n->pos = pos;
	n->target = target;
	n->weight = target->weight;
	n->str = xstrdup(name);
	attach(b, n);
	return 0;
}

static int on_start(struct builder *b, yaml_event_t *ev,
		    enum ipam_node_kind kind)
{
	struct ipam_node *n = ipam_node_new(kind);
	const yaml_char_t *anchor, *tag;
	int err;

	n->pos = mark_pos(b->file, ev->start_mark);
	if (b->depth >= IPAM_YAML_MAX_DEPTH) {
		ipam_diag_error(b->diags, &n->pos,
				"nesting deeper than %d levels: refusing",
				IPAM_YAML_MAX_DEPTH);
		ipam_node_free(n);
		return IPAM_ELIMIT;
	}
	if (kind == IPAM_NODE_MAP) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	} else {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	}
	err = open_node(b, n, anchor, tag);
	if (err)
		return err;
	n->weight = 0; /* open: an alias to it now would be recursive */
	attach(b, n);
	ALLOC_GROW(b->stack, b->depth + 1, b->stack_alloc);
	b->stack[b->depth].node = n;
	b->stack[b->depth].key = NULL;
	b->depth++;
	return 0;
}

static void on_end(struct builder *b)
{
	struct ipam_node *n;
	size_t i, w = 1;

	/* libyaml pairs every end event with a start: a stray one is not
	 * ours to pop */
	if (!b->depth)
		return;
	n = b->stack[--b->depth].node;

	for (i = 0; i < n->nr; i++) {
		if (n->keys)
			w = add_weight(w, n->keys[i]->weight);
		w = add_weight(w, n->items[i]->weight);
	}
	n->weight = w;
}

static void parser_diag(struct builder *b, yaml_parser_t *p)
{
	struct ipam_pos pos;
	const char *problem = p->problem ? p->problem : "unknown problem";

	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry only an offset; the UTF-8 pre-check
		 * catches most of them with a position. */
		pos.file = b->file;
		pos.line = 1;
		pos.col = 1;
		ipam_diag_error(b->diags, &pos,
				"cannot read YAML: %s (at byte %zu)", problem,
				p->problem_offset);
		return;
	}
	pos = mark_pos(b->file, p->problem_mark);
	if (p->context)
		ipam_diag_error(b->diags, &pos,
				"YAML syntax error: %s (%s started at line "
				"%d, column %d)",
				problem, p->context,
				(int)p->context_mark.line + 1,
				(int)p->context_mark.column + 1);
	else
		ipam_diag_error(b->diags, &pos, "YAML syntax error: %s",
				problem);
}

int ipam_yaml_parse(struct ipam_node **out, const char *file, const char *buf,
		    size_t len, struct ipam_diags *diags)
{
	struct builder b = {.file = file, .diags = diags};
	yaml_parser_t parser;
	yaml_event_t ev;
	int err = 0, done = 0, docs = 0;
	size_t i;

	*out = NULL;
	err = check_utf8(file, (const unsigned char *)buf, len, diags);
	if (err)
		return err;
	if (!yaml_parser_initialize(&parser))
		return ipam_error_set(IPAM_ENOMEM, "cannot start YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done && !err) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_diag(&b, &parser);
			err = IPAM_EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				struct ipam_pos p =
					mark_pos(file, ev.start_mark);

				ipam_diag_error(diags, &p,
						"only one YAML document per "
						"file is allowed");
				err = IPAM_EINVAL;
			}
			break;
		case YAML_SCALAR_EVENT:
			err = on_scalar(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			err = on_alias(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			err = on_start(&b, &ev, IPAM_NODE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			err = on_start(&b, &ev, IPAM_NODE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&b);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);

	for (i = 0; i < b.depth; i++)
		ipam_node_free(b.stack[i].key); /* keys left by an error */
	for (i = 0; i < b.nr_anchors; i++)
		free(b.anchors[i].name);
	free(b.anchors);
	free(b.slots);
	free(b.stack);
	if (err) {
		ipam_node_free(b.root);
		return err;
	}
	/* "---" alone, or a lone "~": an empty document. */
	if (b.root && b.root->kind == IPAM_NODE_STR &&
	    b.root->style == IPAM_SCALAR_PLAIN && !b.root->tag &&
	    ipam_scalar_is_null(b.root->str)) {
		ipam_node_free(b.root);
		b.root = NULL;
	}
	*out = b.root;
	return 0;
}

int ipam_yaml_plain_is_string(const char *s)
{
	return ipam_scalar_resolve(s) == IPAM_SCALAR_STRING;
}

/* ---- emitter ---- */

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	strbuf_add(data, buffer, size);
	return 1;
}

static int emit_node(yaml_emitter_t *em, const struct ipam_node *n)
{
	yaml_event_t ev;
	char num[32];
	const char *text;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	size_t i;

	n = ipam_node_deref(n);
	switch (n->kind) {
	case IPAM_NODE_SEQ:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < n->nr; i++)
			if (emit_node(em, n->items[i]))
				return -1;
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	case IPAM_NODE_MAP:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    YAML_BLOCK_MAPPING_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return -1;
		for (i = 0; i < n->nr; i++)
			if (emit_node(em, n->keys[i]) ||
			    emit_node(em, n->items[i]))
				return -1;
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev) ? 0 : -1;
	case IPAM_NODE_NULL:
		text = "null";
		break;
	case IPAM_NODE_BOOL:
		text = n->boolean ? "true" : "false";
		break;
	case IPAM_NODE_INT:
		snprintf(num, sizeof(num), "%lld", n->num);
		text = num;
		break;
	default:
		text = n->str;
		/* A string that would read back as another type is quoted. */
		if (!ipam_yaml_plain_is_string(text))
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		break;
	}
	yaml_scalar_event_initialize(&ev, NULL, NULL,
				     (yaml_char_t *)(uintptr_t)text,
				     (int)strlen(text), 1, 1, style);
	return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

int ipam_yaml_emit(struct strbuf *out, const struct ipam_node *root)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int err = 0;

	if (!yaml_emitter_initialize(&em))
		return ipam_error_set(IPAM_ENOMEM, "cannot start YAML emitter");
	yaml_emitter_set_output(&em, write_handler, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, 100);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (!yaml_emitter_emit(&em, &ev))
		goto fail;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	if (!yaml_emitter_emit(&em, &ev))
		goto fail;
	if (emit_node(&em, root))
		goto fail;
	yaml_document_end_event_initialize(&ev, 1);
	if (!yaml_emitter_emit(&em, &ev))
		goto fail;
	yaml_stream_end_event_initialize(&ev);
	if (!yaml_emitter_emit(&em, &ev))
		goto fail;
	goto out;
fail:
	err = ipam_error_set(IPAM_ERROR, "cannot write YAML: %s",
			     em.problem ? em.problem : "emitter error");
out:
	yaml_emitter_delete(&em);
	return err;
}
