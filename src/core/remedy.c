#include "remedy.h"

#include <stdint.h>
#include <string.h>

#include "gpp.h"
#include "polfile.h"
#include "utf8.h"

#include "banned.h"

#define NR(a) (sizeof(a) / sizeof((a)[0]))

/* Characters that must not reach a script or a terminal as they are: C0,
 * DEL, C1, the line and paragraph separators, and the bidirectional
 * controls that make a line read other than it runs. */
static bool unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 ||
	       cp == 0x2029 || (cp >= 0x200e && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* PowerShell ends a single-quoted string at any of these, not only at
 * the ASCII quote. */
static bool ps_quote_char(uint32_t cp)
{
	return cp == '\'' || (cp >= 0x2018 && cp <= 0x201b);
}

void ipam_remedy_ps_quote(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), k;
	bool open = false, joined = false, plain = true;
	size_t start = out->len;
	uint32_t cp;

	for (size_t i = 0; i < n; i += k) {
		k = ipam_utf8_decode(p + i, n - i, &cp);
		if (!k || unsafe(cp) || (cp >= 0x2018 && cp <= 0x201b)) {
			plain = false;
			break;
		}
	}
	if (!plain)
		strbuf_addch(out, '(');
	for (size_t i = 0; i < n; i += k) {
		k = ipam_utf8_decode(p + i, n - i, &cp);
		if (!k || unsafe(cp) || (cp != '\'' && ps_quote_char(cp))) {
			if (open)
				strbuf_addch(out, '\'');
			strbuf_addf(out, "%s[char]0x%04X", joined ? " + " : "",
				    k ? (unsigned)cp : 0xFFFDu);
			open = false;
			joined = true;
			k = k ? k : 1;
			continue;
		}
		if (!open) {
			strbuf_addstr(out, joined ? " + '" : "'");
			open = joined = true;
		}
		if (cp == '\'')
			strbuf_addch(out, '\'');
		strbuf_add(out, p + i, k);
	}
	if (open)
		strbuf_addch(out, '\'');
	if (out->len == start)
		strbuf_addstr(out, "''");
	if (!plain)
		strbuf_addch(out, ')');
}

/* s in a comment, escaped as everything printed is (util/text.h): \n,
 * \r, \t, \xNN for the other C0 controls, DEL and bytes that are not
 * UTF-8, \uNNNN for C1 controls; here also for the separators and
 * bidirectional controls of unsafe(). */
static void comment_text(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	uint32_t cp;

	for (size_t i = 0; i < n; i += k) {
		k = ipam_utf8_decode(p + i, n - i, &cp);
		if (!k) {
			strbuf_addf(out, "\\x%02x", p[i]);
			k = 1;
		} else if (!unsafe(cp)) {
			strbuf_add(out, p + i, k);
		} else if (cp == '\n' || cp == '\r' || cp == '\t') {
			strbuf_addstr(out, cp == '\n'	? "\\n"
					   : cp == '\r' ? "\\r"
							: "\\t");
		} else {
			strbuf_addf(out, cp < 0x80 ? "\\x%02x" : "\\u%04x",
				    (unsigned)cp);
		}
	}
}

/* ---- what each detail needs --------------------------------------------- */

/*
 * The firewall rules behind each detail, by Windows rule id, from the
 * GPO that carries them (test_remedy checks that every rule of every
 * GPO is here and every id here is in its GPO).  Remote Service
 * Management goes with the RPC details: the GPOs carry it for DHCP and
 * DNS servers, for IPAM's service monitoring.
 */
struct fw_need {
	enum ipam_pol_gpo gpo;
	const char *ids[4];
};

static const struct fw_need fw_needs[IPAM_ACCESS_NR_DETAILS] = {
	[IPAM_ACCESS_DHCP_RPC] =
		{IPAM_POL_GPO_DHCP,
		 {"Microsoft-Windows-DHCP-ClientSvc-RPC-TCP-In",
		  "Microsoft-Windows-DHCP-ClientSvc-RPCSS-TCP-"
		  "In",
		  "RemoteSvcAdmin-In-TCP", "RemoteSvcAdmin-RPCSS-In-TCP"}},
	[IPAM_ACCESS_DHCP_AUDIT_SHARE] = {IPAM_POL_GPO_DHCP,
					  {"FPS-NB_Session-In-TCP",
					   "FPS-SMB-In-TCP"}},
	[IPAM_ACCESS_DNS_RPC] = {IPAM_POL_GPO_DNS,
				 {"DNSSrv-RPC-TCP-In", "DNSSrv-RPCEPMAP-TCP-In",
				  "RemoteSvcAdmin-In-TCP",
				  "RemoteSvcAdmin-RPCSS-In-TCP"}},
	[IPAM_ACCESS_EVENT_LOG] = {IPAM_POL_GPO_DC_NPS,
				   {"RemoteEventLogSvc-In-TCP",
				    "RemoteEventLogSvc-RPCSS-In-TCP"}},
};

static const struct ipam_fw_rule *fw_rule(enum ipam_pol_gpo gpo, const char *id)
{
	size_t nr;
	const struct ipam_fw_rule *const *r = ipam_pol_fw_rules(gpo, &nr);

	for (size_t i = 0; i < nr; i++)
		if (!strcmp(r[i]->id, id))
			return r[i];
	return NULL;
}

struct render {
	struct strbuf *out;
	const struct ipam_remedy_server *s;
	bool dc;
	const char *fw_done[16]; /* rule ids already enabled above */
	size_t nr_fw_done;
};

static bool blocked(const struct ipam_remedy_server *s,
		    enum ipam_access_detail d)
{
	return s->access && ipam_access_applies(d, s->roles) &&
	       s->access->detail[d].status == IPAM_ACCESS_BLOCKED;
}

/* Enable the rules of detail d not enabled by an earlier block. */
static void firewall(struct render *R, enum ipam_access_detail d)
{
	const struct fw_need *need = &fw_needs[d];
	struct strbuf names = STRBUF_INIT, cmd = STRBUF_INIT;

	for (size_t i = 0; i < NR(need->ids) && need->ids[i]; i++) {
		const struct ipam_fw_rule *r = fw_rule(need->gpo, need->ids[i]);
		bool done = false;

		for (size_t j = 0; j < R->nr_fw_done; j++)
			done |= !strcmp(R->fw_done[j], need->ids[i]);
		if (done || !r || R->nr_fw_done == NR(R->fw_done))
			continue;
		R->fw_done[R->nr_fw_done++] = r->id;
		strbuf_addf(&names, "%s%s", names.len ? ", " : "", r->name);
		strbuf_addstr(&cmd, cmd.len ? ", " : "");
		ipam_remedy_ps_quote(&cmd, r->id);
	}
	if (cmd.len)
		strbuf_addf(R->out,
			    "# firewall: %s\nEnable-NetFirewallRule -Name %s\n",
			    names.buf, cmd.buf);
	strbuf_release(&cmd);
	strbuf_release(&names);
}

/* IPAMUG into a group of the server: the local group on a member
 * server, the domain's group (built-in or the DHCP role's) on a DC,
 * whose local groups are the domain's.  group is a constant. */
static void group_add(struct render *R, const char *what, const char *sid,
		      const char *name)
{
	struct strbuf *o = R->out;

	strbuf_addf(o, "# IPAMUG in %s%s\n", what,
		    R->dc ? " (the domain's group: this is a DC)" : "");
	if (R->dc) {
		strbuf_addf(o,
			    "if (-not (Get-ADGroupMember -Identity '%s' | "
			    "Where-Object { $_.SID -eq $ipamug.SID })) {\n"
			    "\tAdd-ADGroupMember -Identity '%s' "
			    "-Members $ipamug\n}\n",
			    sid ? sid : name, sid ? sid : name);
		return;
	}
	strbuf_addf(o,
		    "if (-not (Get-LocalGroupMember %s '%s' -Member $member "
		    "-ErrorAction SilentlyContinue)) {\n"
		    "\tAdd-LocalGroupMember %s '%s' -Member $member\n}\n",
		    sid ? "-SID" : "-Group", sid ? sid : name,
		    sid ? "-SID" : "-Group", sid ? sid : name);
}

static void block_head(struct render *R, enum ipam_access_detail d,
		       const char *why)
{
	const struct ipam_access_result *res = &R->s->access->detail[d];

	strbuf_addf(R->out, "\n# %s: Blocked", ipam_access_detail_name(d));
	if (res->reason) {
		strbuf_addstr(R->out, " (");
		comment_text(R->out, res->reason);
		strbuf_addch(R->out, ')');
	}
	strbuf_addf(R->out, "\n# %s\n", why);
}

static void dhcp_rpc(struct render *R)
{
	block_head(R, IPAM_ACCESS_DHCP_RPC,
		   "The DHCP Server management RPC, for IPAMUG through DHCP "
		   "Users; the DHCP Server service reads that group when it "
		   "starts.");
	firewall(R, IPAM_ACCESS_DHCP_RPC);
	group_add(R, IPAM_GPP_DHCP_USERS, NULL, IPAM_GPP_DHCP_USERS);
	strbuf_addstr(R->out, "Restart-Service -Name 'DHCPServer'\n");
}

static void audit_share(struct render *R)
{
	block_head(R, IPAM_ACCESS_DHCP_AUDIT_SHARE,
		   "The share " IPAM_GPP_SHARE_NAME
		   " on the DHCP audit-log folder, read for IPAMUG, over SMB.");
	firewall(R, IPAM_ACCESS_DHCP_AUDIT_SHARE);
	strbuf_addstr(R->out,
		      "$path = (Get-DhcpServerAuditLog).Path\n"
		      "if (-not (Get-SmbShare -Name '" IPAM_GPP_SHARE_NAME
		      "' -ErrorAction SilentlyContinue)) {\n"
		      "\tNew-SmbShare -Name '" IPAM_GPP_SHARE_NAME
		      "' -Path $path -ReadAccess $member "
		      "-Description 'IPAM DHCP audit logs'\n"
		      "} else {\n"
		      "\tGrant-SmbShareAccess -Name '" IPAM_GPP_SHARE_NAME
		      "' -AccountName $member -AccessRight Read -Force\n"
		      "}\n");
}

static void dns_rpc(struct render *R)
{
	if (R->dc) {
		block_head(R, IPAM_ACCESS_DNS_RPC,
			   "The DNS Server management RPC: read for IPAMUG "
			   "in the DNS ACL (CN=MicrosoftDNS, AD-integrated "
			   "DNS, the whole domain's).");
		firewall(R, IPAM_ACCESS_DNS_RPC);
		strbuf_addstr(
			R->out,
			"$dns = 'AD:CN=MicrosoftDNS,CN=System,' + "
			"(Get-ADDomain -Identity $domain).DistinguishedName\n"
			"$acl = Get-Acl -Path $dns\n"
			"$rights = [System.DirectoryServices."
			"ActiveDirectoryRights]'ListChildren, ReadProperty, "
			"ReadControl'\n"
			"$acl.AddAccessRule((New-Object System.Directory"
			"Services.ActiveDirectoryAccessRule($ipamug.SID, "
			"$rights, 'Allow', 'All')))\n"
			"Set-Acl -Path $dns -AclObject $acl\n");
		return;
	}
	block_head(R, IPAM_ACCESS_DNS_RPC,
		   "The DNS Server management RPC.  A DNS server that is not "
		   "a DC reads no DNS ACL from AD: IPAMUG needs its local "
		   "Administrators, as the product documents, then a DNS "
		   "Server restart.");
	firewall(R, IPAM_ACCESS_DNS_RPC);
	group_add(R, "Administrators", "S-1-5-32-544", NULL);
	strbuf_addstr(R->out, "Restart-Service -Name 'DNS'\n");
}

/* The DNS Server log's CustomSD: the Windows default unless the server
 * has its own, with read for IPAMUG appended once. */
static void customsd(struct render *R)
{
	struct strbuf sd = STRBUF_INIT;
	static const char placeholder[] = "(A;;0x1;;;S-1-0-0)";

	/* gpp.c writes the Windows default with IPAMUG's ACE appended: the
	 * default is that value for any SID, less its last ACE. */
	if (ipam_gpp_dns_customsd(&sd, "S-1-0-0") == 0 &&
	    sd.len > strlen(placeholder))
		sd.len -= strlen(placeholder);
	sd.buf[sd.len] = '\0';
	strbuf_addstr(R->out,
		      "# read (0x1) for IPAMUG in the DNS Server log's "
		      "CustomSD\n"
		      "$key = 'HKLM:\\" IPAM_GPP_CUSTOMSD_KEY "'\n"
		      "$sd = (Get-ItemProperty -Path $key -Name 'CustomSD' "
		      "-ErrorAction SilentlyContinue).CustomSD\n"
		      "if (-not $sd) { $sd = ");
	ipam_remedy_ps_quote(R->out, sd.buf);
	strbuf_addstr(R->out, " }\n"
			      "$ace = '(A;;0x1;;;' + $ipamug.SID.Value + ')'\n"
			      "if (-not $sd.Contains($ace)) {\n"
			      "\tSet-ItemProperty -Path $key -Name 'CustomSD' "
			      "-Value ($sd + $ace)\n}\n");
	strbuf_release(&sd);
}

static void event_log(struct render *R)
{
	block_head(R, IPAM_ACCESS_EVENT_LOG,
		   "Remote event log reading, for IPAMUG through Event Log "
		   "Readers.");
	firewall(R, IPAM_ACCESS_EVENT_LOG);
	group_add(R, "Event Log Readers", IPAM_GPP_ELR_SID, NULL);
	if (R->s->roles & IPAM_ROLE_DNS)
		customsd(R);
}

/* ---- the script -----------------------------------------------------------
 */

static void header(struct render *R)
{
	const struct ipam_remedy_server *s = R->s;
	struct strbuf *o = R->out;
	bool member = blocked(s, IPAM_ACCESS_DHCP_AUDIT_SHARE) ||
		      (!R->dc && (blocked(s, IPAM_ACCESS_DHCP_RPC) ||
				  blocked(s, IPAM_ACCESS_DNS_RPC) ||
				  blocked(s, IPAM_ACCESS_EVENT_LOG)));
	bool ad = R->dc ||
		  (blocked(s, IPAM_ACCESS_EVENT_LOG) &&
		   (s->roles & IPAM_ROLE_DNS)) ||
		  (member && !s->netbios);

	strbuf_addstr(o, "# ");
	comment_text(o, s->name);
	strbuf_addf(o, ": IPAM access Blocked (%s)\n",
		    ipam_access_action_name(IPAM_ACCESS_ACTION_UNBLOCK));
	strbuf_addstr(o, "# Run on ");
	comment_text(o, s->name);
	strbuf_addstr(o, " in an elevated PowerShell (a local "
			 "administrator).\n# These are the settings the IPAM "
			 "GPOs carry; IPAMUG must hold the IPAM server's "
			 "account");
	if (s->ipam_account) {
		strbuf_addch(o, ' ');
		comment_text(o, s->ipam_account);
	}
	strbuf_addstr(o, ".\n");
	if (s->by_gpo)
		strbuf_addstr(o, "# Provisioning is by Group Policy: once "
				 "ipamctl apply has put this server in the "
				 "GPOs' filtering,\n# 'gpupdate /force' here "
				 "applies the same (then restart the DHCP or "
				 "DNS Server service).\n");
	if (ad)
		strbuf_addstr(o, "# Get-ADGroup needs the ActiveDirectory "
				 "module (RSAT-AD-PowerShell on a member "
				 "server).\n");
	strbuf_addstr(o, "$domain = ");
	ipam_remedy_ps_quote(o, s->domain);
	strbuf_addch(o, '\n');
	if (ad)
		strbuf_addstr(o, "$ipamug = Get-ADGroup -Identity 'IPAMUG' "
				 "-Server $domain\n");
	if (member && s->netbios) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "%s\\IPAMUG", s->netbios);
		strbuf_addstr(o, "$member = ");
		ipam_remedy_ps_quote(o, m.buf);
		strbuf_addch(o, '\n');
		strbuf_release(&m);
	} else if (member) {
		strbuf_addstr(o, "$member = $ipamug.SID.Translate("
				 "[System.Security.Principal.NTAccount])."
				 "Value\n");
	}
}

/* The details the check left Not checked: said, nothing to run. */
static void not_checked(struct render *R)
{
	for (int i = 0; i < IPAM_ACCESS_NR_DETAILS; i++) {
		enum ipam_access_detail d = (enum ipam_access_detail)i;
		const struct ipam_access_result *res = &R->s->access->detail[d];

		if (!ipam_access_applies(d, R->s->roles) ||
		    res->status != IPAM_ACCESS_NOT_CHECKED)
			continue;
		strbuf_addf(R->out, "\n# %s: Not checked",
			    ipam_access_detail_name(d));
		if (res->reason) {
			strbuf_addstr(R->out, " (");
			comment_text(R->out, res->reason);
			strbuf_addch(R->out, ')');
		}
		strbuf_addstr(R->out, ": ipamctl verify again once the "
				      "steps above are done\n");
	}
}

void ipam_remedy_render(struct strbuf *out, const struct ipam_remedy_server *s)
{
	static void (*const blocks[IPAM_ACCESS_NR_DETAILS])(struct render *) = {
		[IPAM_ACCESS_DHCP_RPC] = dhcp_rpc,
		[IPAM_ACCESS_DHCP_AUDIT_SHARE] = audit_share,
		[IPAM_ACCESS_DNS_RPC] = dns_rpc,
		[IPAM_ACCESS_EVENT_LOG] = event_log,
	};
	struct render R = {
		out, s, s->is_dc || (s->roles & IPAM_ROLE_DC), {NULL}, 0};
	enum ipam_access_status overall =
		s->access ? s->access->overall : IPAM_ACCESS_NOT_CHECKED;

	if (overall != IPAM_ACCESS_BLOCKED) {
		strbuf_addstr(out, "# ");
		comment_text(out, s->name);
		strbuf_addstr(out, overall == IPAM_ACCESS_UNBLOCKED
					   ? ": IPAM access Unblocked, "
					     "nothing to do\n"
					   : ": IPAM access Not checked: "
					     "ipamctl verify first\n");
		return;
	}
	header(&R);
	for (int i = 0; i < IPAM_ACCESS_NR_DETAILS; i++)
		if (blocked(s, (enum ipam_access_detail)i))
			blocks[i](&R);
	not_checked(&R);
}
