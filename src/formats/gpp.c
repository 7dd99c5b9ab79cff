#include "gpp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sha256.h"
#include "sid.h"
#include "utf8.h"
#include "xml.h"

#include "banned.h"

#define GPP_GROUPS_CLSID "{3125E937-EB16-4b4c-9934-544FC6D24D26}"
#define GPP_GROUP_CLSID	 "{6D4A79E4-529C-4481-ABD0-F5BD7EA93BA7}"
#define GPP_SHARES_CLSID "{520870D8-A6E7-47e8-A8D8-E6A4E76EAEC2}"
#define GPP_SHARE_CLSID	 "{2888C5E7-94FC-4739-90AA-2C1536D68BC0}"
#define GPP_REGS_CLSID	 "{A3CCFC41-DFDB-43a5-8D26-0FE8B954DA51}"
#define GPP_REG_CLSID	 "{9CD4B2F4-923D-47f5-A062-E897DD1DAD50}"

/*
 * The Windows default security descriptor of an event log (the
 * channelAccess wevtutil reports for classic logs with no CustomSD of
 * their own, e.g. Application): SYSTEM full, Administrators and Server
 * Operators read/write/clear, Interactive, Service and Batch logons
 * read/write, WRITE RESTRICTED read/write, Event Log Readers read.
 * The DNS Server log has no CustomSD value by default, so the effective
 * descriptor is this one; writing the CustomSD replaces it, so ipamctl
 * keeps every default ACE and appends read (0x1) for IPAMUG, as IPAM's
 * documentation asks.
 */
#define EVENTLOG_DEFAULT_SDDL                                                  \
	"O:BAG:SYD:(A;;0xf0007;;;SY)(A;;0x7;;;BA)(A;;0x7;;;SO)(A;;0x3;;;IU)"   \
	"(A;;0x3;;;SU)(A;;0x3;;;S-1-5-3)(A;;0x3;;;S-1-5-33)"                   \
	"(A;;0x1;;;S-1-5-32-573)"

int ipam_gpp_item_uid(char out[39], const char *gpo_guid, const char *item_key)
{
	struct ipam_sha256 ctx;
	unsigned char md[IPAM_SHA256_LEN];
	struct ipam_guid g;
	struct strbuf sb = STRBUF_INIT;
	char up[39];
	size_t i;

	if (!ipam_guid_text_valid(gpo_guid, true))
		return ipam_error_set(IPAM_EINVAL,
				      "GPO GUID '%s' is not "
				      "{XXXXXXXX-XXXX-XXXX-XXXX-"
				      "XXXXXXXXXXXX}",
				      gpo_guid);
	for (i = 0; i < 38; i++)
		up[i] = (char)toupper((unsigned char)gpo_guid[i]);
	up[38] = '\0';
	ipam_sha256_init(&ctx);
	ipam_sha256_update(&ctx, "ipamctl-gpp-uid", 16); /* with its NUL */
	ipam_sha256_update(&ctx, up, 39);
	ipam_sha256_update(&ctx, item_key, strlen(item_key));
	ipam_sha256_final(md, &ctx);
	/* The first 16 bytes of the digest in text order, as RFC 9562
	 * numbers them for the version and variant bits. */
	md[6] = (unsigned char)((md[6] & 0x0F) | 0x80); /* version 8 */
	md[8] = (unsigned char)((md[8] & 0x3F) | 0x80); /* RFC variant */
	ipam_guid_from_text_bytes(&g, md);
	/* GPMC writes uids braced and upper case. */
	ipam_guid_format_as(&sb, &g, IPAM_GUID_BRACES | IPAM_GUID_UPPER);
	memcpy(out, sb.buf, 39);
	strbuf_release(&sb);
	return 0;
}

int ipam_gpp_dns_customsd(struct strbuf *out, const char *ipamug_sid)
{
	if (!ipam_sid_text_valid(ipamug_sid))
		return ipam_error_set(IPAM_EINVAL, "'%s' is not a SID",
				      ipamug_sid);
	strbuf_addf(out, "%s(A;;0x1;;;%s)", EVENTLOG_DEFAULT_SDDL, ipamug_sid);
	return 0;
}

/* A run of name="value" pairs; NULL name ends the list. */
static int xml_attrs(struct strbuf *out, const char *const *kv)
{
	int rc = 0;

	for (; *kv && rc == 0; kv += 2) {
		strbuf_addf(out, " %s=\"", kv[0]);
		rc = ipam_xml_add_attr(out, kv[1]);
		strbuf_addch(out, '"');
	}
	return rc;
}

static int check_params(const struct ipam_gpp_params *p, char changed[20])
{
	struct strbuf sb = STRBUF_INIT;
	struct tm tm;

	if (!p->gpo_guid || !ipam_guid_text_valid(p->gpo_guid, true))
		return ipam_error_set(IPAM_EINVAL, "invalid GPO GUID '%s'",
				      p->gpo_guid ? p->gpo_guid : "");
	if (!p->ipamug_sid || !ipam_sid_text_valid(p->ipamug_sid))
		return ipam_error_set(IPAM_EINVAL, "invalid IPAMUG SID '%s'",
				      p->ipamug_sid ? p->ipamug_sid : "");
	if (!p->ipamug_name || !*p->ipamug_name)
		return ipam_error_set(IPAM_EINVAL, "empty IPAMUG name");
	if (!gmtime_r(&p->changed, &tm) || tm.tm_year < 1601 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return ipam_error_set(IPAM_EINVAL, "change time out of range");
	/* gmtime_r's fields are in range, so this is exactly 19 bytes. */
	strbuf_addf(&sb, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
	if (sb.len != 19) {
		strbuf_release(&sb);
		return ipam_error_set(IPAM_EINVAL, "change time out of range");
	}
	memcpy(changed, sb.buf, 20);
	strbuf_release(&sb);
	return 0;
}

/* GPMC's layout: declaration, CRLF, root start tag immediately followed by
 * the items, CRLF, root end tag, CRLF. */
static void xml_open(struct strbuf *out, const char *root, const char *clsid)
{
	strbuf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n");
	strbuf_addf(out, "<%s clsid=\"%s\">", root, clsid);
}

static void xml_close(struct strbuf *out, const char *root)
{
	strbuf_addf(out, "\r\n</%s>\r\n", root);
}

static int group_item(struct strbuf *out, const struct ipam_gpp_params *p,
		      const char *changed, const char *name, const char *sid)
{
	char uid[39];
	int rc;
	struct strbuf key = STRBUF_INIT;

	strbuf_addf(&key, "Groups/%s", name);
	rc = ipam_gpp_item_uid(uid, p->gpo_guid, key.buf);
	strbuf_release(&key);
	if (rc)
		return rc;
	{
		/* image 2 = update; action U adds our member and keeps the
		 * others (the three delete/remove flags stay 0). */
		const char *item[] = {
			"clsid",   GPP_GROUP_CLSID, "name", name, "image", "2",
			"changed", changed,	    "uid",  uid,  NULL};
		const char *props[] = {"action",
				       "U",
				       "newName",
				       "",
				       "description",
				       "",
				       "deleteAllUsers",
				       "0",
				       "deleteAllGroups",
				       "0",
				       "removeAccounts",
				       "0",
				       "groupSid",
				       sid,
				       "groupName",
				       name,
				       NULL};
		const char *member[] = {"name", p->ipamug_name, "action", "ADD",
					"sid",	p->ipamug_sid,	NULL};

		strbuf_addstr(out, "<Group");
		if ((rc = xml_attrs(out, item)))
			return rc;
		strbuf_addstr(out, "><Properties");
		if ((rc = xml_attrs(out, props)))
			return rc;
		strbuf_addstr(out, "><Members><Member");
		if ((rc = xml_attrs(out, member)))
			return rc;
		strbuf_addstr(out, "/></Members></Properties></Group>");
	}
	return 0;
}

static int render_begin(struct strbuf *out, size_t *start,
			const struct ipam_gpp_params *p, char changed[20])
{
	*start = out->len;
	return check_params(p, changed);
}

static int render_end(struct strbuf *out, size_t start, int rc)
{
	if (rc) {
		out->len = start;
		out->buf[start] = '\0';
	}
	return rc;
}

int ipam_gpp_groups_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p)
{
	char changed[20];
	size_t start;
	int rc;

	if (!ipam_pol_gpo_valid(gpo))
		return ipam_error_set(IPAM_EINVAL, "unknown GPO kind %d",
				      (int)gpo);
	if ((rc = render_begin(out, &start, p, changed)))
		return rc;
	xml_open(out, "Groups", GPP_GROUPS_CLSID);
	rc = group_item(out, p, changed, IPAM_GPP_ELR_NAME, IPAM_GPP_ELR_SID);
	/* DHCP Users is created by the DHCP role with a machine-specific
	 * SID: GPMC names it and leaves groupSid empty. */
	if (rc == 0 && gpo == IPAM_POL_GPO_DHCP)
		rc = group_item(out, p, changed, IPAM_GPP_DHCP_USERS, "");
	if (rc == 0)
		xml_close(out, "Groups");
	return render_end(out, start, rc);
}

int ipam_gpp_shares_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			const struct ipam_gpp_params *p)
{
	char changed[20], uid[39];
	size_t start;
	int rc;

	if (gpo != IPAM_POL_GPO_DHCP)
		return ipam_error_set(IPAM_EINVAL,
				      "only the _DHCP GPO has network shares");
	if ((rc = render_begin(out, &start, p, changed)))
		return rc;
	rc = ipam_gpp_item_uid(uid, p->gpo_guid,
			       "NetworkShares/" IPAM_GPP_SHARE_NAME);
	if (rc == 0) {
		/*
		 * MS-GPPREF network share items carry no share ACL: the
		 * share gets Windows' default share permission (Everyone:
		 * Read), which is the read IPAMUG needs at share level.
		 */
		const char *item[] = {"clsid",	 GPP_SHARE_CLSID,
				      "image",	 "2",
				      "name",	 IPAM_GPP_SHARE_NAME,
				      "changed", changed,
				      "uid",	 uid,
				      NULL};
		const char *props[] = {"action",
				       "U",
				       "name",
				       IPAM_GPP_SHARE_NAME,
				       "path",
				       IPAM_GPP_SHARE_PATH,
				       "comment",
				       "IPAM DHCP audit logs",
				       "allRegular",
				       "0",
				       "allHidden",
				       "0",
				       "allAdminDrive",
				       "0",
				       "limitUsers",
				       "NO_CHANGE",
				       "abe",
				       "NO_CHANGE",
				       NULL};

		xml_open(out, "NetworkShareSettings", GPP_SHARES_CLSID);
		strbuf_addstr(out, "<NetShare");
		rc = xml_attrs(out, item);
		if (rc == 0) {
			strbuf_addstr(out, "><Properties");
			rc = xml_attrs(out, props);
		}
		if (rc == 0) {
			strbuf_addstr(out, "/></NetShare>");
			xml_close(out, "NetworkShareSettings");
		}
	}
	return render_end(out, start, rc);
}

int ipam_gpp_registry_xml(struct strbuf *out, enum ipam_pol_gpo gpo,
			  const struct ipam_gpp_params *p)
{
	struct strbuf sddl = STRBUF_INIT;
	char changed[20], uid[39];
	size_t start;
	int rc;

	if (gpo != IPAM_POL_GPO_DNS)
		return ipam_error_set(IPAM_EINVAL,
				      "only the _DNS GPO has registry "
				      "preferences");
	if ((rc = render_begin(out, &start, p, changed)))
		return rc;
	rc = ipam_gpp_item_uid(uid, p->gpo_guid, "Registry/CustomSD");
	if (rc == 0)
		rc = ipam_gpp_dns_customsd(&sddl, p->ipamug_sid);
	if (rc == 0) {
		/* image 7 = update of a string value. */
		const char *item[] = {
			"clsid",    GPP_REG_CLSID, "name", "CustomSD", "status",
			"CustomSD", "image",	   "7",	   "changed",  changed,
			"uid",	    uid,	   NULL};
		const char *props[] = {"action",
				       "U",
				       "displayDecimal",
				       "0",
				       "default",
				       "0",
				       "hive",
				       "HKEY_LOCAL_MACHINE",
				       "key",
				       IPAM_GPP_CUSTOMSD_KEY,
				       "name",
				       "CustomSD",
				       "type",
				       "REG_SZ",
				       "value",
				       sddl.buf,
				       NULL};

		xml_open(out, "RegistrySettings", GPP_REGS_CLSID);
		strbuf_addstr(out, "<Registry");
		rc = xml_attrs(out, item);
		if (rc == 0) {
			strbuf_addstr(out, "><Properties");
			rc = xml_attrs(out, props);
		}
		if (rc == 0) {
			strbuf_addstr(out, "/></Registry>");
			xml_close(out, "RegistrySettings");
		}
	}
	strbuf_release(&sddl);
	return render_end(out, start, rc);
}

/* ---- The tolerant reader ------------------------------------------------ */

static char *dup_attr(const struct ipam_xml_tag *t, const char *name)
{
	const char *v = ipam_xml_tag_attr(t, name);

	return v ? xstrdup(v) : NULL;
}

static bool flag_attr(const struct ipam_xml_tag *t, const char *name)
{
	const char *v = ipam_xml_tag_attr(t, name);

	return v && !strcmp(v, "1");
}

static void item_release(struct ipam_gpp_item *it)
{
	size_t i;

	free(it->tag);
	free(it->clsid);
	free(it->name);
	free(it->uid);
	free(it->changed);
	free(it->action);
	free(it->group_name);
	free(it->group_sid);
	for (i = 0; i < it->nr_members; i++) {
		free(it->members[i].name);
		free(it->members[i].action);
		free(it->members[i].sid);
	}
	free(it->members);
	free(it->share_path);
	free(it->hive);
	free(it->key);
	free(it->value_name);
	free(it->type);
	free(it->value);
}

void ipam_gpp_file_release(struct ipam_gpp_file *f)
{
	size_t i;

	if (!f)
		return;
	free(f->root);
	free(f->root_clsid);
	for (i = 0; i < f->nr; i++)
		item_release(&f->items[i]);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

/* The first Properties of an item wins (GPMC writes one); *taken says
 * whether there was one, action or not. */
static void take_properties(struct ipam_gpp_item *it,
			    const struct ipam_xml_tag *t, bool *taken)
{
	if (*taken)
		return;
	*taken = true;
	it->action = dup_attr(t, "action");
	if (!strcmp(it->tag, "Group")) {
		it->group_name = dup_attr(t, "groupName");
		it->group_sid = dup_attr(t, "groupSid");
		it->delete_all_users = flag_attr(t, "deleteAllUsers");
		it->delete_all_groups = flag_attr(t, "deleteAllGroups");
		it->remove_accounts = flag_attr(t, "removeAccounts");
	} else if (!strcmp(it->tag, "NetShare")) {
		it->share_path = dup_attr(t, "path");
	} else if (!strcmp(it->tag, "Registry")) {
		it->hive = dup_attr(t, "hive");
		it->key = dup_attr(t, "key");
		it->value_name = dup_attr(t, "name");
		it->type = dup_attr(t, "type");
		it->value = dup_attr(t, "value");
	}
}

int ipam_gpp_parse(struct ipam_gpp_file *out, const char *buf, size_t len)
{
	struct ipam_xml x;
	struct ipam_xml_tag t = {0};
	/* Element names open at each depth (0 = root). */
	const char *stack[IPAM_XML_MAX_DEPTH];
	size_t stack_len[IPAM_XML_MAX_DEPTH];
	size_t depth = 0, members_alloc = 0;
	struct ipam_gpp_item *cur = NULL;
	bool done = false, props_taken = false;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (len > IPAM_GPP_MAX_FILE)
		return ipam_error_set(IPAM_ELIMIT,
				      "preferences file of %zu bytes exceeds "
				      "%u",
				      len, IPAM_GPP_MAX_FILE);
	ipam_xml_init(&x, buf, len);
	while (rc == 0) {
		rc = ipam_xml_next(&x, &t);
		if (rc == 1) {
			rc = done ? 0
				  : ipam_error_set(IPAM_EINVAL,
						   "no complete root element");
			break;
		}
		if (rc)
			break;
		if (done) {
			rc = ipam_xml_error(&x,
					    "content after the root element");
			break;
		}
		if (t.end) {
			if (!depth || stack_len[depth - 1] != t.nlen ||
			    memcmp(stack[depth - 1], t.name, t.nlen)) {
				rc = ipam_xml_error(&x, "mismatched end tag");
				break;
			}
			depth--;
			if (depth == 1)
				cur = NULL;
			if (depth == 0)
				done = true;
			continue;
		}
		if (depth == 0) {
			out->root = xstrndup(t.name, t.nlen);
			out->root_clsid = dup_attr(&t, "clsid");
		} else if (depth == 1) {
			if (out->nr >= IPAM_GPP_MAX_ITEMS) {
				rc = ipam_error_set(IPAM_ELIMIT,
						    "more than %u items",
						    IPAM_GPP_MAX_ITEMS);
				break;
			}
			ALLOC_GROW(out->items, out->nr + 1, out->alloc);
			cur = &out->items[out->nr++];
			memset(cur, 0, sizeof(*cur));
			members_alloc = 0;
			props_taken = false;
			cur->tag = xstrndup(t.name, t.nlen);
			cur->clsid = dup_attr(&t, "clsid");
			cur->name = dup_attr(&t, "name");
			cur->uid = dup_attr(&t, "uid");
			cur->changed = dup_attr(&t, "changed");
		} else if (cur && depth == 2 &&
			   ipam_xml_tag_is(&t, "Properties")) {
			take_properties(cur, &t, &props_taken);
		} else if (cur && depth == 4 && ipam_xml_tag_is(&t, "Member") &&
			   stack_len[3] == 7 &&
			   !memcmp(stack[3], "Members", 7) &&
			   stack_len[2] == 10 &&
			   !memcmp(stack[2], "Properties", 10)) {
			struct ipam_gpp_member *m;

			if (cur->nr_members >= IPAM_GPP_MAX_ITEMS) {
				rc = ipam_error_set(IPAM_ELIMIT,
						    "more than %u members",
						    IPAM_GPP_MAX_ITEMS);
				break;
			}
			ALLOC_GROW(cur->members, cur->nr_members + 1,
				   members_alloc);
			m = &cur->members[cur->nr_members++];
			m->name = dup_attr(&t, "name");
			m->action = dup_attr(&t, "action");
			m->sid = dup_attr(&t, "sid");
		}
		if (t.empty) {
			if (depth == 0)
				done = true;
			continue;
		}
		if (depth >= IPAM_XML_MAX_DEPTH) {
			rc = ipam_xml_error(&x, "elements nested too deeply");
			break;
		}
		stack[depth] = t.name;
		stack_len[depth] = t.nlen;
		depth++;
	}
	ipam_xml_tag_release(&t);
	if (rc) {
		ipam_gpp_file_release(out);
		return ipam_error_prefix(rc, "preferences XML");
	}
	return 0;
}
