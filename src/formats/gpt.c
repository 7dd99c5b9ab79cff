#include "gpt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "sid.h"

#include "banned.h"

int ipam_gpt_ini_write(struct strbuf *out, uint32_t version)
{
	strbuf_addf(out, "[General]\r\nVersion=%lu\r\n",
		    (unsigned long)version);
	return 0;
}

#define GPT_INI_MAX (64u * 1024)

int ipam_gpt_ini_parse(uint32_t *version, const char *buf, size_t len)
{
	size_t pos = 0;
	bool general = false, found = false;
	uint32_t v = 0;

	if (len > GPT_INI_MAX)
		return ipam_error_set(IPAM_ELIMIT,
				      "GPT.INI of %zu bytes exceeds %u", len,
				      GPT_INI_MAX);
	if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
		pos = 3;
	while (pos < len) {
		const char *line = buf + pos, *nl, *end;
		size_t n;

		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		end = line + n;
		if (memchr(line, '\0', n))
			return ipam_error_set(IPAM_EINVAL,
					      "GPT.INI holds a NUL byte");
		while (end > line && isspace((unsigned char)end[-1]))
			end--;
		while (line < end && isspace((unsigned char)*line))
			line++;
		n = (size_t)(end - line);
		if (!n || *line == ';')
			continue;
		if (*line == '[') {
			general = n == 9 && !strncasecmp(line, "[General]", 9);
			continue;
		}
		if (general && n >= 7 && !strncasecmp(line, "Version", 7)) {
			const char *p = line + 7;
			uint64_t acc = 0;

			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end || *p != '=')
				continue; /* another key, e.g. VersionX */
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				return ipam_error_set(IPAM_EINVAL,
						      "GPT.INI: empty Version");
			for (; p < end; p++) {
				if (!isdigit((unsigned char)*p))
					return ipam_error_set(
						IPAM_EINVAL,
						"GPT.INI: Version is not a "
						"number");
				acc = acc * 10 + (uint64_t)(*p - '0');
				if (acc > UINT32_MAX)
					return ipam_error_set(
						IPAM_EINVAL,
						"GPT.INI: Version out of "
						"range");
			}
			if (found)
				return ipam_error_set(
					IPAM_EINVAL,
					"GPT.INI: Version given twice");
			found = true;
			v = (uint32_t)acc;
		}
	}
	if (!found)
		return ipam_error_set(IPAM_ENOTFOUND,
				      "GPT.INI has no [General] Version");
	*version = v;
	return 0;
}

uint32_t ipam_gpt_bump_machine(uint32_t v)
{
	uint32_t m = v & 0xFFFF;

	m = m == 0xFFFF ? 1 : m + 1;
	return (v & 0xFFFF0000u) | m;
}

/* ---- gPCMachineExtensionNames ----------------------------------------- */

/* A braced GUID in the 38 characters at s (the caller has checked that
 * there are 38). */
static bool braced_guid_at(const char *s)
{
	char tmp[39];

	memcpy(tmp, s, 38);
	tmp[38] = '\0';
	return ipam_guid_text_valid(tmp, true);
}

struct ext_pair {
	const char *cse, *tool;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct ext_pair *x = a, *y = b;
	int c = strcasecmp(x->cse, y->cse);

	if (c)
		return c;
	if (!x->tool || !y->tool)
		return x->tool ? 1 : (y->tool ? -1 : 0);
	return strcasecmp(x->tool, y->tool);
}

int ipam_gpt_ext_build(struct strbuf *out, const struct ipam_gpt_ext *exts,
		       size_t n)
{
	struct ext_pair *pairs = NULL;
	size_t i, j, nr = 0, alloc = 0;
	const char *last_cse = NULL;
	int rc = 0;

	if (n > IPAM_GPT_MAX_EXTS)
		return ipam_error_set(IPAM_ELIMIT, "more than %u extensions",
				      IPAM_GPT_MAX_EXTS);
	for (i = 0; i < n && rc == 0; i++) {
		if (!exts[i].cse) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension %zu: no GUID", i);
			break;
		}
		if (!ipam_guid_text_valid(exts[i].cse, true)) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "'%s' is not a braced GUID",
					    exts[i].cse);
			break;
		}
		if (exts[i].nr_tools > IPAM_GPT_MAX_TOOLS) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "more than %u tools for %s",
					    IPAM_GPT_MAX_TOOLS, exts[i].cse);
			break;
		}
		/* An extension with no tool still gets its group. */
		ALLOC_GROW(pairs, nr + 1, alloc);
		pairs[nr++] = (struct ext_pair){exts[i].cse, NULL};
		for (j = 0; j < exts[i].nr_tools; j++) {
			const char *t = exts[i].tools[j];

			if (!ipam_guid_text_valid(t, true)) {
				rc = ipam_error_set(IPAM_EINVAL,
						    "'%s' is not a braced GUID",
						    t);
				break;
			}
			ALLOC_GROW(pairs, nr + 1, alloc);
			pairs[nr++] = (struct ext_pair){exts[i].cse, t};
		}
	}
	if (rc == 0 && nr)
		qsort(pairs, nr, sizeof(*pairs), pair_cmp);
	for (i = 0; rc == 0 && i < nr; i++) {
		if (!last_cse || strcasecmp(last_cse, pairs[i].cse)) {
			if (last_cse)
				strbuf_addch(out, ']');
			strbuf_addf(out, "[%s", pairs[i].cse);
			last_cse = pairs[i].cse;
		}
		/* Every pair has a cse (checked above); the analyzer loses
		 * that across qsort(). */
		/* NOLINTBEGIN(clang-analyzer-core.NonNullParamChecker) */
		if (pairs[i].tool &&
		    (!i || !pairs[i - 1].tool ||
		     strcasecmp(pairs[i - 1].tool, pairs[i].tool) ||
		     strcasecmp(pairs[i - 1].cse, pairs[i].cse)))
			strbuf_addstr(out, pairs[i].tool);
		/* NOLINTEND(clang-analyzer-core.NonNullParamChecker) */
	}
	if (rc == 0 && last_cse)
		strbuf_addch(out, ']');
	free(pairs);
	return rc;
}

void ipam_gpt_ext_list_release(struct ipam_gpt_ext_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr; i++)
		free(l->exts[i].tools);
	free(l->exts);
	l->exts = NULL;
	l->nr = 0;
}

int ipam_gpt_ext_parse(struct ipam_gpt_ext_list *out, const char *s)
{
	size_t pos = 0, len = strlen(s), alloc = 0;
	int rc = 0;

	out->exts = NULL;
	out->nr = 0;
	while (pos < len && rc == 0) {
		struct ipam_gpt_ext_owned *e;
		size_t talloc = 0;

		if (s[pos] != '[') {
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension names: expected '[' at "
					    "%zu",
					    pos);
			break;
		}
		pos++;
		if (out->nr >= IPAM_GPT_MAX_EXTS) {
			rc = ipam_error_set(IPAM_ELIMIT,
					    "more than %u extensions",
					    IPAM_GPT_MAX_EXTS);
			break;
		}
		if (len - pos < 38 || !braced_guid_at(s + pos)) {
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension names: expected a GUID "
					    "at %zu",
					    pos);
			break;
		}
		ALLOC_GROW(out->exts, out->nr + 1, alloc);
		e = &out->exts[out->nr++];
		memcpy(e->cse, s + pos, 38);
		e->cse[38] = '\0';
		e->tools = NULL;
		e->nr_tools = 0;
		pos += 38;
		while (pos < len && s[pos] == '{') {
			if (e->nr_tools >= IPAM_GPT_MAX_TOOLS) {
				rc = ipam_error_set(IPAM_ELIMIT,
						    "more than %u tools",
						    IPAM_GPT_MAX_TOOLS);
				break;
			}
			if (len - pos < 38 || !braced_guid_at(s + pos)) {
				rc = ipam_error_set(IPAM_EINVAL,
						    "extension names: expected "
						    "a GUID at %zu",
						    pos);
				break;
			}
			ALLOC_GROW(e->tools, e->nr_tools + 1, talloc);
			memcpy(e->tools[e->nr_tools], s + pos, 38);
			e->tools[e->nr_tools][38] = '\0';
			e->nr_tools++;
			pos += 38;
		}
		if (rc == 0 && (pos >= len || s[pos] != ']'))
			rc = ipam_error_set(IPAM_EINVAL,
					    "extension names: expected ']' at "
					    "%zu",
					    pos);
		pos++;
	}
	if (rc)
		ipam_gpt_ext_list_release(out);
	return rc;
}

/*
 * Client-side extensions and the GPMC tools that write each file.  The
 * registry CSE's tool is the "Windows Firewall with Advanced Security"
 * snap-in {B05566AC-…} because Registry.pol only holds firewall rules here
 * (GPOs whose firewall rules GPMC wrote list [{35378EAC-…}{B05566AC-…}]);
 * the others are the GPP tools of ad-formats.md.
 */
#define CSE_REGISTRY	  "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}"
#define TOOL_FIREWALL	  "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}"
#define CSE_GPP_GROUPS	  "{17D89FEC-5C44-4972-B12D-241CAEF74509}"
#define TOOL_GPP_GROUPS	  "{79F92669-4224-476C-9C5C-6EFB4D87DF4A}"
#define CSE_GPP_REGISTRY  "{B087BE9D-ED37-454F-AF9C-04291E351182}"
#define TOOL_GPP_REGISTRY "{BEE07A6A-EC9F-4659-B8C9-0B1937907C83}"
#define CSE_GPP_SHARES	  "{6A4C88C6-C502-4F74-8F60-2CB23EDC24E2}"
#define TOOL_GPP_SHARES	  "{BFCBBEB0-9DF4-4C0C-A728-434EA66A0373}"

int ipam_gpt_ext_for_gpo(struct strbuf *out, enum ipam_pol_gpo gpo)
{
	static const char *const t_fw[] = {TOOL_FIREWALL};
	static const char *const t_groups[] = {TOOL_GPP_GROUPS};
	static const char *const t_reg[] = {TOOL_GPP_REGISTRY};
	static const char *const t_shares[] = {TOOL_GPP_SHARES};
	struct ipam_gpt_ext exts[3] = {
		{CSE_REGISTRY, t_fw, 1},
		{CSE_GPP_GROUPS, t_groups, 1},
	};
	size_t n = 2;

	if (!ipam_pol_gpo_valid(gpo))
		return ipam_error_set(IPAM_EINVAL, "unknown GPO kind %d",
				      (int)gpo);
	if (gpo == IPAM_POL_GPO_DHCP)
		exts[n++] = (struct ipam_gpt_ext){CSE_GPP_SHARES, t_shares, 1};
	else if (gpo == IPAM_POL_GPO_DNS)
		exts[n++] = (struct ipam_gpt_ext){CSE_GPP_REGISTRY, t_reg, 1};
	return ipam_gpt_ext_build(out, exts, n);
}
