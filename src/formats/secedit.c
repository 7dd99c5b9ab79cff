#include "secedit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "utf8.h"

#include "banned.h"

/* A template with more lines than this is not one a GPO editor wrote. */
#define INF_MAX_ENTRIES 20000

static void add_entry(struct ipam_inf *inf, const char *section, size_t slen,
		      const char *key, size_t klen, const char *value,
		      size_t vlen, unsigned line)
{
	struct ipam_inf_entry *e;

	ALLOC_GROW(inf->e, inf->nr + 1, inf->alloc);
	e = &inf->e[inf->nr++];
	e->section = xstrndup(section, slen);
	e->key = xstrndup(key, klen);
	e->value = value ? xstrndup(value, vlen) : NULL;
	e->line = line;
}

static void trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b &&
	       ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* The template as UTF-8 text, whatever it was stored as. */
static int to_utf8(struct strbuf *text, const unsigned char *p, size_t len)
{
	if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
		if (ipam_utf16le_to_utf8(text, p + 2, len - 2))
			return ipam_error_set(
				IPAM_EINVAL, "GptTmpl.inf: malformed UTF-16LE");
		return 0;
	}
	if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF)
		return ipam_error_set(IPAM_EINVAL,
				      "GptTmpl.inf: UTF-16BE is not a template "
				      "encoding");
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
		p += 3;
		len -= 3;
	}
	for (size_t i = 0; i < len;) {
		size_t n = ipam_utf8_decode(p + i, len - i, NULL);

		if (!n || !p[i])
			return ipam_error_set(
				IPAM_EINVAL,
				"GptTmpl.inf: neither UTF-16LE "
				"with a byte-order mark nor UTF-8");
		i += n;
	}
	strbuf_add(text, p, len);
	return 0;
}

int ipam_inf_parse(struct ipam_inf *out, const void *buf, size_t len)
{
	struct strbuf text = STRBUF_INIT;
	const char *section = NULL;
	size_t slen = 0, pos = 0;
	unsigned line = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > IPAM_INF_MAX)
		return ipam_error_set(IPAM_ELIMIT,
				      "GptTmpl.inf of %zu bytes exceeds %d",
				      len, IPAM_INF_MAX);
	rc = to_utf8(&text, buf, len);
	while (!rc && pos < text.len) {
		const char *b = text.buf + pos, *nl, *e, *eq;

		nl = memchr(b, '\n', text.len - pos);
		e = nl ? nl : text.buf + text.len;
		pos = (size_t)(e - text.buf) + (nl ? 1 : 0);
		line++;
		trim(&b, &e);
		if (b == e || *b == ';')
			continue;
		if (*b == '[') {
			if (e[-1] != ']' || e - b < 3) {
				rc = ipam_error_set(IPAM_EINVAL,
						    "GptTmpl.inf:%u: malformed "
						    "section header",
						    line);
				break;
			}
			section = b + 1;
			slen = (size_t)(e - b - 2);
			continue;
		}
		if (!section) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "GptTmpl.inf:%u: a setting before "
					    "the first [section]",
					    line);
			break;
		}
		if (out->nr >= INF_MAX_ENTRIES) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "GptTmpl.inf: more than %d lines",
					    INF_MAX_ENTRIES);
			break;
		}
		eq = memchr(b, '=', (size_t)(e - b));
		if (!eq) {
			/* [Registry Keys], [File Security]: "name",mode,"acl"
			 */
			add_entry(out, section, slen, b, (size_t)(e - b), NULL,
				  0, line);
			continue;
		}
		{
			const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;

			trim(&kb, &ke);
			trim(&vb, &ve);
			if (kb == ke) {
				rc = ipam_error_set(IPAM_EINVAL,
						    "GptTmpl.inf:%u: a setting "
						    "without a name",
						    line);
				break;
			}
			add_entry(out, section, slen, kb, (size_t)(ke - kb), vb,
				  (size_t)(ve - vb), line);
		}
	}
	strbuf_release(&text);
	if (rc)
		ipam_inf_release(out);
	return rc;
}

int ipam_inf_write(struct strbuf *out, const struct ipam_inf *inf)
{
	struct strbuf text = STRBUF_INIT;
	bool *done = xcalloc(inf->nr ? inf->nr : 1, sizeof(*done));
	int rc;

	for (size_t i = 0; i < inf->nr; i++) {
		bool tight;

		if (done[i])
			continue;
		strbuf_addf(&text, "[%s]\r\n", inf->e[i].section);
		/* Windows writes these sections without spaces. */
		tight = !strcasecmp(inf->e[i].section, "Unicode") ||
			!strcasecmp(inf->e[i].section, "Version") ||
			!strcasecmp(inf->e[i].section, "Registry Values");
		for (size_t j = i; j < inf->nr; j++) {
			const struct ipam_inf_entry *e = &inf->e[j];

			if (done[j] ||
			    strcasecmp(e->section, inf->e[i].section))
				continue;
			done[j] = true;
			if (!e->value)
				strbuf_addf(&text, "%s\r\n", e->key);
			else if (tight)
				strbuf_addf(&text, "%s=%s\r\n", e->key,
					    e->value);
			else
				strbuf_addf(&text, "%s =%s%s\r\n", e->key,
					    *e->value ? " " : "", e->value);
		}
	}
	free(done);
	strbuf_add(out, "\xFF\xFE", 2);
	rc = ipam_utf8_to_utf16le(out, text.buf, text.len);
	strbuf_release(&text);
	return rc;
}

static struct ipam_inf_entry *find(const struct ipam_inf *inf,
				   const char *section, const char *key)
{
	for (size_t i = 0; i < inf->nr; i++)
		if (!strcasecmp(inf->e[i].section, section) &&
		    !strcasecmp(inf->e[i].key, key))
			return &inf->e[i];
	return NULL;
}

void ipam_inf_set(struct ipam_inf *inf, const char *section, const char *key,
		  const char *value)
{
	struct ipam_inf_entry *e = find(inf, section, key);
	size_t at = inf->nr;

	if (e) {
		free(e->value);
		e->value = value ? xstrdup(value) : NULL;
		return;
	}
	/* After the last line of the section, so that writing keeps order. */
	for (size_t i = 0; i < inf->nr; i++)
		if (!strcasecmp(inf->e[i].section, section))
			at = i + 1;
	add_entry(inf, section, strlen(section), key, strlen(key), value,
		  value ? strlen(value) : 0, 0);
	if (at < inf->nr - 1) {
		struct ipam_inf_entry tmp = inf->e[inf->nr - 1];

		memmove(&inf->e[at + 1], &inf->e[at],
			(inf->nr - 1 - at) * sizeof(*inf->e));
		inf->e[at] = tmp;
	}
}

const char *ipam_inf_get(const struct ipam_inf *inf, const char *section,
			 const char *key)
{
	const struct ipam_inf_entry *e = find(inf, section, key);

	return e ? e->value : NULL;
}

void ipam_inf_release(struct ipam_inf *inf)
{
	for (size_t i = 0; i < inf->nr; i++) {
		free(inf->e[i].section);
		free(inf->e[i].key);
		free(inf->e[i].value);
	}
	free(inf->e);
	memset(inf, 0, sizeof(*inf));
}

void ipam_inf_init_template(struct ipam_inf *inf)
{
	memset(inf, 0, sizeof(*inf));
	ipam_inf_set(inf, "Unicode", "Unicode", "yes");
	ipam_inf_set(inf, "Version", "signature", "\"$CHICAGO$\"");
	ipam_inf_set(inf, "Version", "Revision", "1");
}

/* The local groups IPAM's access needs, as Restricted Groups may name them. */
static const struct {
	const char *label;
	const char *names[3];
} ipam_groups[] = {
	{"Event Log Readers (S-1-5-32-573)",
	 {"*S-1-5-32-573", "Event Log Readers", "BUILTIN\\Event Log Readers"}},
	{"DHCP Users", {"DHCP Users", NULL, NULL}},
};

static const char *after_backslash(const char *s)
{
	const char *p = strrchr(s, '\\');

	return p ? p + 1 : s;
}

/* Whether the comma-separated member list holds IPAMUG. */
static bool holds_ipamug(const char *list, const char *sid, const char *name)
{
	const char *p = list;

	while (*p) {
		const char *b = p, *e = strchr(p, ',');
		char *m;
		bool hit;

		if (!e)
			e = p + strlen(p);
		p = *e ? e + 1 : e;
		trim(&b, &e);
		m = xstrndup(b, (size_t)(e - b));
		hit = (sid && m[0] == '*' && !strcasecmp(m + 1, sid)) ||
		      (name && (!strcasecmp(m, name) ||
				!strcasecmp(after_backslash(m),
					    after_backslash(name))));
		free(m);
		if (hit)
			return true;
	}
	return false;
}

void ipam_inf_ipam_conflicts(struct strbuf *out, const struct ipam_inf *inf,
			     const char *ipamug_sid, const char *ipamug_name)
{
	static const char suffix[] = "__Members";
	const size_t sl = sizeof(suffix) - 1, start = out->len;

	for (size_t i = 0; i < inf->nr; i++) {
		const struct ipam_inf_entry *e = &inf->e[i];
		size_t kl = strlen(e->key);

		if (strcasecmp(e->section, "Group Membership") || !e->value ||
		    kl <= sl || strcasecmp(e->key + kl - sl, suffix))
			continue;
		for (size_t g = 0;
		     g < sizeof(ipam_groups) / sizeof(ipam_groups[0]); g++) {
			bool named = false;

			for (size_t n = 0; n < 3 && ipam_groups[g].names[n];
			     n++)
				if (kl - sl ==
					    strlen(ipam_groups[g].names[n]) &&
				    !strncasecmp(e->key,
						 ipam_groups[g].names[n],
						 kl - sl))
					named = true;
			if (!named ||
			    holds_ipamug(e->value, ipamug_sid, ipamug_name))
				continue;
			strbuf_addf(out,
				    "%sline %u: Restricted Groups replace the "
				    "members of %s without IPAMUG",
				    out->len > start ? "; " : "", e->line,
				    ipam_groups[g].label);
		}
	}
}
