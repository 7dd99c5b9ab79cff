#include "json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "banned.h"

static json_t *to_json(const struct ipam_node *n)
{
	json_t *j;
	size_t i;

	n = ipam_node_deref(n);
	switch (n->kind) {
	case IPAM_NODE_NULL:
		return json_null();
	case IPAM_NODE_BOOL:
		return json_boolean(n->boolean);
	case IPAM_NODE_INT:
		return json_integer(n->num);
	case IPAM_NODE_STR:
		return json_stringn(n->str, n->len);
	case IPAM_NODE_SEQ:
		j = json_array();
		for (i = 0; j && i < n->nr; i++) {
			json_t *item = to_json(n->items[i]);

			if (!item || json_array_append_new(j, item)) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case IPAM_NODE_MAP:
		j = json_object();
		for (i = 0; j && i < n->nr; i++) {
			const struct ipam_node *k = ipam_node_deref(n->keys[i]);
			json_t *item;

			if (k->kind != IPAM_NODE_STR) {
				json_decref(j);
				return NULL;
			}
			item = to_json(n->items[i]);
			if (!item ||
			    json_object_setn_new(j, k->str, k->len, item)) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	default:
		return NULL;
	}
}

/*
 * jansson escapes C0 controls but passes DEL and C1 controls (U+0080 to
 * U+009F, whose U+009B a terminal may take for CSI) through raw.  They
 * can only stand inside strings, and in UTF-8 a C1 code point is always
 * 0xC2 then 0x80..0x9F, so they are escaped here byte by byte.
 */
static void add_json_text(struct strbuf *out, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;

	for (; *p; p++) {
		if (*p == 0x7f)
			strbuf_addstr(out, "\\u007F");
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			strbuf_addf(out, "\\u00%02X", (unsigned)*++p);
		else
			strbuf_addch(out, (char)*p);
	}
}

int ipam_json_write(struct strbuf *out, const struct ipam_node *root, int flags)
{
	json_t *j = to_json(root);
	size_t jflags = JSON_ENCODE_ANY;
	char *text;

	if (!j)
		return ipam_error_set(IPAM_EINVAL,
				      "cannot express the output as JSON");
	if (flags & IPAM_JSON_PRETTY)
		jflags |= JSON_INDENT(2);
	else
		jflags |= JSON_COMPACT;
	if (flags & IPAM_JSON_SORT_KEYS)
		jflags |= JSON_SORT_KEYS;
	text = json_dumps(j, jflags);
	json_decref(j);
	if (!text)
		return ipam_error_set(IPAM_ENOMEM, "cannot write JSON");
	add_json_text(out, text);
	strbuf_addch(out, '\n');
	free(text);
	return 0;
}

static struct ipam_node *from_json(json_t *j, const char *name)
{
	struct ipam_node *n;
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = ipam_node_new(IPAM_NODE_MAP);
		json_object_foreach(j, key, v)
		{
			struct ipam_node *c = from_json(v, name);

			if (!c) {
				ipam_node_free(n);
				return NULL;
			}
			ipam_node_set(n, key, c);
		}
		break;
	case JSON_ARRAY:
		n = ipam_node_new(IPAM_NODE_SEQ);
		json_array_foreach(j, i, v)
		{
			struct ipam_node *c = from_json(v, name);

			if (!c) {
				ipam_node_free(n);
				return NULL;
			}
			ipam_node_push(n, c);
		}
		break;
	case JSON_STRING:
		n = ipam_node_new(IPAM_NODE_STR);
		n->len = json_string_length(j);
		n->str = xstrndup(json_string_value(j), n->len);
		n->style = IPAM_SCALAR_QUOTED;
		break;
	case JSON_INTEGER:
		n = ipam_node_int(json_integer_value(j));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		n = ipam_node_bool(json_is_true(j));
		break;
	case JSON_NULL:
		n = ipam_node_new(IPAM_NODE_NULL);
		break;
	default:
		/* Reals are not part of any ipamctl document. */
		return NULL;
	}
	n->pos.file = name;
	return n;
}

int ipam_json_parse(struct ipam_node **out, const char *name, const char *buf,
		    size_t len)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		       &jerr);
	if (!j)
		return ipam_error_set(IPAM_EINVAL, "%s:%d:%d: %s", name,
				      jerr.line, jerr.column, jerr.text);
	*out = from_json(j, name);
	json_decref(j);
	if (!*out)
		return ipam_error_set(IPAM_EINVAL,
				      "%s: numbers with fractions are not "
				      "expected",
				      name);
	return 0;
}
