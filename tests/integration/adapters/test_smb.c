/*
 * The SMB adapter against the lab's corp DC: files of a scratch GPO's
 * SYSVOL folder written, read, overwritten, listed and removed, each
 * checked with smbclient; the folder ACL read and compared with smbcacls,
 * set to Samba's mapping of the GPO's AD DACL so that `samba-tool gpo
 * aclcheck` passes (after failing on a deliberately wrong one); a wrong
 * password; Kerberos from a credential cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "labtest.h"

#include "error.h"
#include "sd.h"
#include "smb.h"
#include "strbuf.h"

/* Shared by the tests: the scratch GPO and its SYSVOL paths. */
static char gpo_guid[64];
static char gpo_path[1024]; /* sysvol/<domain>/Policies/{GUID} */
static char gpo_share[512]; /* <domain>/Policies/{GUID}, in sysvol */
static char *password;

static struct lab_run_opts pw_opts(const char **env, char *buf, size_t len)
{
	struct lab_run_opts o = {.env = env, .timeout_ms = 60000};

	snprintf(buf, len, "PASSWD_FILE=%s",
		 lab_need_forest(1, "ADMIN_PASSWORD_FILE"));
	env[0] = buf;
	env[1] = NULL;
	return o;
}

/* samba-tool <args> -H ldap://dc1 -U admin, password from its file. */
static void samba_tool(const char *const args[], struct lab_run *res)
{
	const char *argv[32], *env[2];
	char pw[4096];
	struct lab_run_opts o = pw_opts(env, pw, sizeof(pw));
	size_t n = 0;

	argv[n++] = "samba-tool";
	while (*args && n < 26)
		argv[n++] = *args++;
	argv[n++] = "-H";
	argv[n++] = lab_need_forest(1, "LDAP_URI");
	argv[n++] = "-U";
	argv[n++] = lab_need_forest(1, "ADMIN_USER");
	argv[n] = NULL;
	lab_must_run(argv, &o, res);
}

static void smbclient(const char *command, struct lab_run *res)
{
	char service[512];
	const char *argv[] = {
		"smbclient", service, "-A", lab_need_forest(1, "SMB_AUTH_FILE"),
		"-c",	     command, NULL};
	struct lab_run_opts o = {.timeout_ms = 30000};

	snprintf(service, sizeof(service), "//%s/sysvol",
		 lab_need_forest(1, "DC"));
	lab_must_run(argv, &o, res);
}

/* The SDDL smbcacls prints for the GPO folder. */
static char *smbcacls_sddl(void)
{
	char service[512];
	const char *argv[] = {"smbcacls", "--sddl",
			      "-A",	  lab_need_forest(1, "SMB_AUTH_FILE"),
			      service,	  gpo_share,
			      NULL};
	struct lab_run_opts o = {.timeout_ms = 30000};
	struct lab_run res;
	char **lines, *s;

	snprintf(service, sizeof(service), "//%s/sysvol",
		 lab_need_forest(1, "DC"));
	lab_must_succeed(argv, &o, &res);
	lines = lab_collect_lines(res.out, "O:", NULL);
	assert_non_null(lines);
	assert_non_null(lines[0]);
	s = malloc(strlen(lines[0]) + 3);
	snprintf(s, strlen(lines[0]) + 3, "O:%s", lines[0]);
	lab_strv_free(lines);
	lab_run_free(&res);
	return s;
}

static int aclcheck(struct lab_run *res)
{
	static const char *const args[] = {"gpo", "aclcheck", NULL};

	samba_tool(args, res);
	return res->exit_code;
}

static struct ipam_smb *connect_admin(void)
{
	struct ipam_smb_opts o = {.server = lab_need_forest(1, "DC"),
				  .auth = IPAM_AUTH_SIMPLE,
				  .user = lab_need_forest(1, "ADMIN_USER"),
				  .password = password,
				  .timeout = 10};
	struct ipam_smb *s = NULL;

	if (ipam_smb_connect(&s, &o))
		fail_msg("connect: %s", ipam_error_last());
	return s;
}

static int setup(void **state)
{
	static const char *const args[] = {"gpo", "create", NULL, NULL};
	const char *argv[4] = {args[0], args[1], NULL, NULL};
	char name[64];
	struct lab_run res;
	const char *p, *e;
	size_t len;

	(void)state;
	password =
		lab_need_file(lab_need_forest(1, "ADMIN_PASSWORD_FILE"), &len);
	snprintf(name, sizeof(name), "ipamctl-smb-test-%ld", (long)getpid());
	argv[2] = name;
	samba_tool(argv, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "samba-tool gpo create"));
	p = strstr(res.out, "created as {");
	assert_non_null(p);
	p += strlen("created as ");
	e = strchr(p, '}');
	assert_non_null(e);
	snprintf(gpo_guid, sizeof(gpo_guid), "%.*s", (int)(e - p + 1), p);
	snprintf(gpo_share, sizeof(gpo_share), "%s/Policies/%s",
		 lab_need_forest(1, "DOMAIN"), gpo_guid);
	snprintf(gpo_path, sizeof(gpo_path), "sysvol/%s", gpo_share);
	lab_run_free(&res);
	return 0;
}

static int teardown(void **state)
{
	const char *argv[] = {"gpo", "del", gpo_guid, NULL};
	struct lab_run res;

	(void)state;
	if (gpo_guid[0]) {
		samba_tool(argv, &res);
		lab_run_free(&res);
	}
	free(password);
	return 0;
}

/* smbclient get of a file under the GPO folder, compared with want. */
static void check_remote(const char *rel, const char *want, size_t want_len)
{
	char *dir = lab_mkdtemp(), local[4096], cmd[8192], *got;
	struct lab_run res;
	size_t got_len;

	assert_non_null(dir);
	snprintf(local, sizeof(local), "%s/got", dir);
	snprintf(cmd, sizeof(cmd), "get \"%s\\%s\" %s", gpo_share, rel, local);
	for (char *c = cmd; *c; c++)
		if (*c == '/' &&
		    c < cmd + 6 + strlen(gpo_share) + 1 + strlen(rel))
			*c = '\\';
	smbclient(cmd, &res);
	if (res.exit_code != 0)
		fail_msg("%s", lab_run_describe(&res, "smbclient get"));
	lab_run_free(&res);
	got = lab_need_file(local, &got_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(got);
	lab_rm_rf(dir);
	free(dir);
}

static void join(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", gpo_path, rel);
}

static void test_files(void **state)
{
	static const char ini1[] = "[General]\r\nVersion=1\r\n";
	static const char ini2[] = "[General]\r\nVersion=65538\r\n";
	struct ipam_smb *s = connect_admin();
	struct strbuf sb = STRBUF_INIT;
	struct ipam_smb_stat st;
	char path[2048];
	int exists;

	(void)state;
	join(path, sizeof(path), "GPT.INI");
	assert_int_equal(ipam_smb_write(s, path, ini1, sizeof(ini1) - 1), 0);
	check_remote("GPT.INI", ini1, sizeof(ini1) - 1);
	assert_int_equal(ipam_smb_read(&sb, s, path, 4096), 0);
	assert_string_equal(sb.buf, ini1);
	/* Overwrite with a longer, then a shorter content: truncated. */
	assert_int_equal(ipam_smb_write(s, path, ini2, sizeof(ini2) - 1), 0);
	check_remote("GPT.INI", ini2, sizeof(ini2) - 1);
	assert_int_equal(ipam_smb_write(s, path, ini1, sizeof(ini1) - 1), 0);
	check_remote("GPT.INI", ini1, sizeof(ini1) - 1);
	strbuf_reset(&sb);
	assert_int_equal(ipam_smb_read(&sb, s, path, 4096), 0);
	assert_string_equal(sb.buf, ini1);
	/* Bounded read. */
	strbuf_reset(&sb);
	assert_int_equal(ipam_smb_read(&sb, s, path, 4), IPAM_ELIMIT);
	assert_int_equal(sb.len, 0);
	assert_int_equal(ipam_smb_stat(&st, s, path), 0);
	assert_false(st.is_dir);
	assert_int_equal(st.size, sizeof(ini1) - 1);

	/* mkdir -p, twice (idempotent), then a file in it. */
	join(path, sizeof(path), "Machine/Preferences/Groups");
	assert_int_equal(ipam_smb_mkdir_p(s, path), 0);
	assert_int_equal(ipam_smb_mkdir_p(s, path), 0);
	assert_int_equal(ipam_smb_stat(&st, s, path), 0);
	assert_true(st.is_dir);
	join(path, sizeof(path), "Machine\\Preferences\\Groups\\Groups.xml");
	assert_int_equal(ipam_smb_write(s, path, "<Groups/>", 9), 0);
	check_remote("Machine\\Preferences\\Groups\\Groups.xml", "<Groups/>",
		     9);
	{
		struct ipam_smb_dirent *d;
		size_t n;

		join(path, sizeof(path), "Machine");
		assert_int_equal(ipam_smb_list(&d, &n, s, path), 0);
		assert_int_equal(n, 1);
		assert_string_equal(d[0].name, "Preferences");
		assert_true(d[0].is_dir);
		ipam_smb_dirents_free(d, n);
		assert_int_equal(ipam_smb_list(&d, &n, s, gpo_path), 0);
		assert_true(n >= 3); /* GPT.INI, Machine, User */
		assert_string_equal(d[0].name, "GPT.INI");
		ipam_smb_dirents_free(d, n);
	}

	/* Not found, with the path as a UNC in the message. */
	join(path, sizeof(path), "Machine/nothing.txt");
	strbuf_reset(&sb);
	assert_int_equal(ipam_smb_read(&sb, s, path, 4096), IPAM_ENOTFOUND);
	assert_non_null(strstr(ipam_error_last(), "smb read '\\\\dc1."));
	assert_non_null(strstr(ipam_error_last(), "\\Machine\\nothing.txt'"));
	assert_int_equal(ipam_smb_exists(&exists, s, path), 0);
	assert_false(exists);

	/* Remove a file, then a tree; smbclient sees neither. */
	join(path, sizeof(path), "Machine/Preferences/Groups/Groups.xml");
	assert_int_equal(ipam_smb_remove(s, path), 0);
	assert_int_equal(ipam_smb_exists(&exists, s, path), 0);
	assert_false(exists);
	assert_int_equal(ipam_smb_write(s, path, "<Groups/>", 9), 0);
	join(path, sizeof(path), "Machine/Preferences");
	assert_int_equal(ipam_smb_remove_tree(s, path), 0);
	{
		struct lab_run res;
		char cmd[2048];

		snprintf(cmd, sizeof(cmd), "ls \"%s\\Machine\\*\"", gpo_share);
		for (char *c = cmd; *c; c++)
			if (*c == '/')
				*c = '\\';
		smbclient(cmd, &res);
		assert_int_equal(res.exit_code, 0);
		assert_null(strstr(res.out, "Preferences"));
		lab_run_free(&res);
	}
	strbuf_release(&sb);
	ipam_smb_close(s);
}

/* A whole GPO-like folder removed recursively (rollback). */
static void test_remove_tree(void **state)
{
	struct ipam_smb *s = connect_admin();
	char root[1024], path[2048];
	struct lab_run res;
	int exists;

	(void)state;
	snprintf(root, sizeof(root), "sysvol/%s/Policies/ipamctl-rollback-%ld",
		 lab_need_forest(1, "DOMAIN"), (long)getpid());
	snprintf(path, sizeof(path), "%s/Machine/Preferences/Groups", root);
	assert_int_equal(ipam_smb_mkdir_p(s, path), 0);
	snprintf(path, sizeof(path), "%s/User", root);
	assert_int_equal(ipam_smb_mkdir_p(s, path), 0);
	snprintf(path, sizeof(path), "%s/GPT.INI", root);
	assert_int_equal(ipam_smb_write(s, path, "x", 1), 0);
	snprintf(path, sizeof(path), "%s/Machine/Preferences/Groups/G.xml",
		 root);
	assert_int_equal(ipam_smb_write(s, path, "y", 1), 0);
	assert_int_equal(ipam_smb_remove_tree(s, root), 0);
	assert_int_equal(ipam_smb_exists(&exists, s, root), 0);
	assert_false(exists);
	snprintf(path, sizeof(path), "ls %s\\Policies\\ipamctl-rollback-%ld",
		 lab_need_forest(1, "DOMAIN"), (long)getpid());
	smbclient(path, &res);
	assert_non_null(strstr(res.out, "NT_STATUS_NO_SUCH_FILE") ||
					strstr(res.out, "NOT_FOUND")
				? "gone"
				: NULL);
	lab_run_free(&res);
	/* The share itself is never removed. */
	assert_int_equal(ipam_smb_remove_tree(s, "sysvol"), IPAM_EINVAL);
	ipam_smb_close(s);
}

/*
 * The AD DACL of the GPO replaced with dacl (SDDL, explicit SIDs), by
 * Samba's own Python bindings: an independent writer.
 */
static void set_ad_dacl(const char *sddl)
{
	static const char script[] =
		"import sys\n"
		"from samba.samdb import SamDB\n"
		"from samba.param import LoadParm\n"
		"from samba.credentials import Credentials\n"
		"from samba.dcerpc import security\n"
		"from samba.ndr import ndr_pack\n"
		"import ldb\n"
		"url, auth, guid, sddl = sys.argv[1:5]\n"
		"lp = LoadParm(); lp.load_default()\n"
		"c = Credentials(); c.guess(lp); c.parse_file(auth)\n"
		"db = SamDB(url=url, credentials=c, lp=lp)\n"
		"dn = 'CN=%s,CN=Policies,CN=System,%s' % (guid, "
		"db.domain_dn())\n"
		"sd = security.descriptor.from_sddl(sddl, "
		"security.dom_sid(db.get_domain_sid()))\n"
		"m = ldb.Message(); m.dn = ldb.Dn(db, dn)\n"
		"m['nTSecurityDescriptor'] = ldb.MessageElement(ndr_pack(sd), "
		"ldb.FLAG_MOD_REPLACE, 'nTSecurityDescriptor')\n"
		"db.modify(m, controls=['sd_flags:1:4'])\n";
	const char *argv[] = {"/usr/bin/python3",
			      "-c",
			      script,
			      lab_need_forest(1, "LDAP_URI"),
			      lab_need_forest(1, "SMB_AUTH_FILE"),
			      gpo_guid,
			      sddl,
			      NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};
	struct lab_run res;

	lab_must_succeed(argv, &o, &res);
	lab_run_free(&res);
}

/* The GPO's AD descriptor (owner, group, DACL) as Samba renders it, read
 * with Samba's own bindings: independent of the adapters. */
static char *get_ad_sddl(void)
{
	static const char script[] =
		"import sys\n"
		"from samba.samdb import SamDB\n"
		"from samba.param import LoadParm\n"
		"from samba.credentials import Credentials\n"
		"from samba.dcerpc import security\n"
		"from samba.ndr import ndr_unpack\n"
		"import ldb\n"
		"url, auth, guid = sys.argv[1:4]\n"
		"lp = LoadParm(); lp.load_default()\n"
		"c = Credentials(); c.guess(lp); c.parse_file(auth)\n"
		"db = SamDB(url=url, credentials=c, lp=lp)\n"
		"dn = 'CN=%s,CN=Policies,CN=System,%s' % (guid, "
		"db.domain_dn())\n"
		"r = db.search(base=dn, scope=ldb.SCOPE_BASE, "
		"attrs=['nTSecurityDescriptor'], controls=['sd_flags:1:7'])\n"
		"print(ndr_unpack(security.descriptor, "
		"r[0]['nTSecurityDescriptor'][0]).as_sddl())\n";
	const char *argv[] = {"/usr/bin/python3",
			      "-c",
			      script,
			      lab_need_forest(1, "LDAP_URI"),
			      lab_need_forest(1, "SMB_AUTH_FILE"),
			      gpo_guid,
			      NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};
	struct lab_run res;
	char *out;

	lab_must_succeed(argv, &o, &res);
	out = xstrdup(res.out);
	lab_run_free(&res);
	if (*out && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

/* The corp domain's SID, from Samba's bindings. */
static void corp_domain_sid(struct ipam_sid *out)
{
	static const char script[] =
		"import sys\n"
		"from samba.samdb import SamDB\n"
		"from samba.param import LoadParm\n"
		"from samba.credentials import Credentials\n"
		"lp = LoadParm(); lp.load_default()\n"
		"c = Credentials(); c.guess(lp); c.parse_file(sys.argv[2])\n"
		"print(SamDB(url=sys.argv[1], credentials=c, lp=lp)"
		".get_domain_sid())\n";
	const char *argv[] = {"/usr/bin/python3",
			      "-c",
			      script,
			      lab_need_forest(1, "LDAP_URI"),
			      lab_need_forest(1, "SMB_AUTH_FILE"),
			      NULL};
	struct lab_run_opts o = {.timeout_ms = 60000};
	struct lab_run res;
	char *nl;

	lab_must_succeed(argv, &o, &res);
	nl = strchr(res.out, '\n');
	if (nl)
		*nl = '\0';
	if (ipam_sid_parse(out, res.out, NULL))
		fail_msg("domain SID '%s': %s", res.out, ipam_error_last());
	lab_run_free(&res);
}

/* SDDL text through the SD module's renderer (aliases resolved against
 * the domain SID, full SIDs out), so two descriptors that are the same
 * compare equal whatever aliases their sources used: smbcacls prints
 * "DA" in some runs and the full SID in others. */
static char *normalised(const char *sddl)
{
	struct ipam_sd *sd = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct ipam_sid dom;

	corp_domain_sid(&dom);
	if (ipam_sd_from_sddl(&sd, sddl, &dom))
		fail_msg("cannot parse '%s': %s", sddl, ipam_error_last());
	assert_int_equal(ipam_sd_to_sddl(&sb, sd, NULL), 0);
	ipam_sd_free(sd);
	return strbuf_detach(&sb, NULL);
}

/* Map one folder ACE back to the AD ACE it came from (test's table). */
static void ds_ace_of(struct strbuf *out, const char *ace, size_t len)
{
	static const struct {
		const char *file, *ds;
	} map[] = {
		{";OICI;0x001f01ff;", ";CI;RPWPCCDCLCLORCWOWDSDDTSW;"},
		{";OICIIO;0x001f01ff;", ";CIIO;RPWPCCDCLCLORCWOWDSDDTSW;"},
		{";OICI;0x001200a9;", ";CI;RPLCLORC;"},
		{";OICI;;", ";CI;CR;"},
	};
	struct strbuf a = STRBUF_INIT;
	size_t i;

	strbuf_add(&a, ace, len);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *p = strstr(a.buf, map[i].file);

		if (p) {
			strbuf_add(out, a.buf, (size_t)(p - a.buf));
			strbuf_addstr(out, map[i].ds);
			strbuf_addstr(out, p + strlen(map[i].file));
			strbuf_release(&a);
			return;
		}
	}
	fail_msg("no DS ACE for folder ACE %s", a.buf);
}

static void test_acl(void **state)
{
	struct ipam_smb *s = connect_admin();
	struct strbuf got = STRBUF_INIT, applied = STRBUF_INIT;
	struct strbuf ds = STRBUF_INIT, wrong = STRBUF_INIT;
	struct lab_run res;
	char *want, *owner_end, path[2048];
	const char *p;

	(void)state;
	/* Read: the same text smbcacls prints. */
	assert_int_equal(ipam_smb_acl_get(&got, s, gpo_path), 0);
	want = smbcacls_sddl();
	assert_string_equal(got.buf, want);
	assert_non_null(strstr(got.buf, "D:P("));
	assert_non_null(strstr(got.buf, "(OA;OICI;;edacfd8f-ffb3-11d1-b41d-"
					"00a0c968f939;;AU)"));

	/* Deliberately wrong (the protected flag and the object ACE lost,
	 * as libsmbclient would write it): aclcheck fails. */
	strbuf_addstr(&wrong, got.buf);
	owner_end = strstr(wrong.buf, "D:P(");
	assert_non_null(owner_end);
	memmove(owner_end + 2, owner_end + 3, strlen(owner_end + 3) + 1);
	wrong.len--;
	assert_int_equal(ipam_smb_acl_set(&applied, s, gpo_path, wrong.buf), 0);
	assert_null(strstr(applied.buf, "D:P("));
	assert_int_not_equal(aclcheck(&res), 0);
	assert_non_null(strstr(res.err, "Invalid GPO ACL"));
	lab_run_free(&res);

	/* Right: Samba's mapping of the AD descriptor as it is (samba-tool
	 * gpo create sometimes leaves the AD owner in another domain SID
	 * than the folder's, so the folder's first ACL is no model), set;
	 * then the AD DACL written in the order the folder holds, as the
	 * GPO engine does. */
	{
		char *ad = get_ad_sddl();
		struct ipam_sd *ds_sd = NULL, *fs_sd = NULL;
		struct strbuf mapped = STRBUF_INIT;

		assert_int_equal(ipam_sd_from_sddl(&ds_sd, ad, NULL), 0);
		assert_int_equal(ipam_sd_to_fs(&fs_sd, ds_sd), 0);
		assert_int_equal(ipam_sd_to_sddl(&mapped, fs_sd, NULL), 0);
		free(want);
		want = strbuf_detach(&mapped, NULL);
		ipam_sd_free(fs_sd);
		ipam_sd_free(ds_sd);
		free(ad);
	}
	strbuf_reset(&applied);
	assert_int_equal(ipam_smb_acl_set(&applied, s, gpo_path, want), 0);
	assert_non_null(strstr(applied.buf, "D:P("));
	assert_non_null(strstr(applied.buf, "edacfd8f-ffb3-11d1-b41d-"
					    "00a0c968f939"));
	p = strstr(applied.buf, "D:P(");
	strbuf_add(&ds, applied.buf, (size_t)(p - applied.buf));
	strbuf_addstr(&ds, "D:P");
	for (p += 3; *p == '(';) {
		const char *e = strchr(p, ')');

		assert_non_null(e);
		ds_ace_of(&ds, p, (size_t)(e - p + 1));
		p = e + 1;
	}
	set_ad_dacl(ds.buf);
	/*
	 * The folder now holds Samba's mapping (dsacl2fsacl) of the AD ACL.
	 * Checked as descriptors: the AD one read back with Samba's bindings,
	 * mapped by the SD module (byte-equal to Samba's mapping on the
	 * captured fixtures), against the folder's as smbcacls reports it.
	 * Then Samba's own check of the same, samba-tool gpo aclcheck.
	 */
	{
		char *ad = get_ad_sddl(), *folder = smbcacls_sddl();
		struct ipam_sd *ds_sd = NULL, *fs_sd = NULL;
		struct strbuf mapped = STRBUF_INIT;
		char *want_fs, *got_fs;

		assert_int_equal(ipam_sd_from_sddl(&ds_sd, ad, NULL), 0);
		assert_int_equal(ipam_sd_to_fs(&fs_sd, ds_sd), 0);
		assert_int_equal(ipam_sd_to_sddl(&mapped, fs_sd, NULL), 0);
		want_fs = normalised(mapped.buf);
		got_fs = normalised(folder);
		if (strcmp(want_fs, got_fs))
			fail_msg("folder %s is not the mapping %s of the AD "
				 "ACL %s",
				 got_fs, want_fs, ad);
		assert_non_null(strstr(got_fs, "D:P("));
		free(want_fs);
		free(got_fs);
		strbuf_release(&mapped);
		ipam_sd_free(fs_sd);
		ipam_sd_free(ds_sd);
		free(folder);
		free(ad);
	}
	if (aclcheck(&res) != 0)
		fail_msg("%s",
			 lab_run_describe(&res, "samba-tool gpo aclcheck"));
	lab_run_free(&res);

	/* Files written before the ACL are still writable in place. */
	join(path, sizeof(path), "GPT.INI");
	assert_int_equal(
		ipam_smb_write(s, path, "[General]\r\nVersion=2\r\n", 22), 0);
	check_remote("GPT.INI", "[General]\r\nVersion=2\r\n", 22);

	free(want);
	strbuf_release(&got);
	strbuf_release(&applied);
	strbuf_release(&ds);
	strbuf_release(&wrong);
	ipam_smb_close(s);
}

static void test_wrong_password(void **state)
{
	struct ipam_smb_opts o = {.server = lab_need_forest(1, "DC"),
				  .auth = IPAM_AUTH_SIMPLE,
				  .user = lab_need_forest(1, "ADMIN_USER"),
				  .password = "Wrong.Passw0rd.4711",
				  .timeout = 10};
	struct ipam_smb *s = NULL;

	(void)state;
	if (ipam_smb_connect(&s, &o) != IPAM_EAUTH)
		fail_msg("not IPAM_EAUTH: %s", ipam_error_last());
	assert_null(s);
	assert_non_null(strstr(ipam_error_last(), "dc1.corp.example.test"));
	assert_null(strstr(ipam_error_last(), "Wrong.Passw0rd"));
}

static void test_unreachable(void **state)
{
	struct ipam_smb_opts o = {.server = "127.0.0.9",
				  .auth = IPAM_AUTH_SIMPLE,
				  .user = "x",
				  .password = "y",
				  .timeout = 5};
	struct ipam_smb *s = NULL;
	int rc;

	(void)state;
	rc = ipam_smb_connect(&s, &o);
	if (rc != IPAM_EIO && rc != IPAM_ETIMEOUT)
		fail_msg("rc %d: %s", rc, ipam_error_last());
	assert_non_null(
		strstr(ipam_error_last(), "smb connect '\\\\127.0.0.9'"));
}

static void test_kerberos_ccache(void **state)
{
	char *dir = lab_mkdtemp(), cc[4096], ccenv[4200], principal[256];
	const char *env[] = {ccenv, NULL};
	const char *argv[] = {"kinit", principal, NULL};
	struct lab_run_opts o = {.env = env,
				 .input = password,
				 .input_len = strlen(password),
				 .timeout_ms = 30000};
	struct ipam_smb_opts so = {.server = lab_need_forest(1, "DC"),
				   .auth = IPAM_AUTH_KERBEROS,
				   .ccache = cc,
				   .principal = principal,
				   .timeout = 10};
	struct ipam_smb *s = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct lab_run res;
	char path[2048];

	(void)state;
	assert_non_null(dir);
	snprintf(cc, sizeof(cc), "FILE:%s/cc", dir);
	snprintf(ccenv, sizeof(ccenv), "KRB5CCNAME=%s", cc);
	snprintf(principal, sizeof(principal), "Administrator@%s",
		 lab_need_forest(1, "REALM"));
	lab_must_succeed(argv, &o, &res);
	lab_run_free(&res);

	if (ipam_smb_connect(&s, &so))
		fail_msg("kerberos connect: %s", ipam_error_last());
	join(path, sizeof(path), "User/krb.txt");
	assert_int_equal(ipam_smb_write(s, path, "kerberos", 8), 0);
	check_remote("User\\krb.txt", "kerberos", 8);
	assert_int_equal(ipam_smb_read(&sb, s, path, 100), 0);
	assert_string_equal(sb.buf, "kerberos");
	strbuf_reset(&sb);
	if (ipam_smb_acl_get(&sb, s, gpo_path))
		fail_msg("kerberos acl get: %s", ipam_error_last());
	assert_non_null(strstr(sb.buf, "D:P("));
	assert_int_equal(ipam_smb_remove(s, path), 0);
	ipam_smb_close(s);
	strbuf_release(&sb);

	/* An empty cache: the logon fails as such. */
	snprintf(cc, sizeof(cc), "FILE:%s/empty", dir);
	assert_int_not_equal(ipam_smb_connect(&s, &so), 0);
	assert_null(s);
	lab_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_remove_tree),
		cmocka_unit_test(test_acl),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_kerberos_ccache),
	};

	return cmocka_run_group_tests_name("lab_smb_adapter", tests, setup,
					   teardown);
}
