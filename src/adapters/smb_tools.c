#define _GNU_SOURCE /* memfd_create */
#include "smb.h"
#include "smb_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "fault.h"
#include "proc.h"
#include "text.h"
#include "banned.h"

/*
 * Samba's client tools, run without a shell through util/proc: kinit for
 * a keytab's ticket, smbcacls for a folder's security descriptor (smb.c
 * says why not libsmbclient).  Their failures become our errors, with the
 * NT_STATUS they printed mapped to a code.
 */

#define MAX_HELPER_OUTPUT (256 * 1024)
#define MAX_DIAG_LEN	  400

/* --- helper programs ------------------------------------------------- */

/* The NT_STATUS name and its code in a helper's output, if any. */
static int status_code(const char *status)
{
	static const struct {
		const char *name;
		int code;
	} map[] = {
		{"NT_STATUS_LOGON_FAILURE", IPAM_EAUTH},
		{"NT_STATUS_WRONG_PASSWORD", IPAM_EAUTH},
		{"NT_STATUS_NO_SUCH_USER", IPAM_EAUTH},
		{"NT_STATUS_ACCOUNT_DISABLED", IPAM_EAUTH},
		{"NT_STATUS_ACCOUNT_LOCKED_OUT", IPAM_EAUTH},
		{"NT_STATUS_PASSWORD_EXPIRED", IPAM_EAUTH},
		{"NT_STATUS_NO_LOGON_SERVERS", IPAM_EAUTH},
		{"NT_STATUS_INVALID_PARAMETER", IPAM_EINVAL},
		{"NT_STATUS_OBJECT_NAME_NOT_FOUND", IPAM_ENOTFOUND},
		{"NT_STATUS_OBJECT_PATH_NOT_FOUND", IPAM_ENOTFOUND},
		{"NT_STATUS_NO_SUCH_FILE", IPAM_ENOTFOUND},
		{"NT_STATUS_BAD_NETWORK_NAME", IPAM_ENOTFOUND},
		{"NT_STATUS_IO_TIMEOUT", IPAM_ETIMEOUT},
		{"NT_STATUS_ACCESS_DENIED", IPAM_EIO},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, status) == 0)
			return map[i].code;
	return IPAM_EIO;
}

int ipam_smb_authfile_text(struct strbuf *sb, const char *user,
			   const char *password)
{
	const char *bs;
	size_t plen;

	if (!user || !*user || !password)
		return ipam_error_set(IPAM_EINVAL,
				      "smb authentication file needs a user "
				      "and a password");
	/*
	 * Samba reads "name = value" lines, trims the value and splits a
	 * username at '%' (user%password): such values cannot be carried.
	 */
	if (strpbrk(user, "\r\n%") || strchr(password, '\n') ||
	    strchr(password, '\r'))
		return ipam_error_set(IPAM_EINVAL,
				      "smb user '%s' or its password holds a "
				      "character an authentication file "
				      "cannot carry (newline, or '%%' in the "
				      "user)",
				      user);
	plen = strlen(password);
	if (plen && (password[0] == ' ' || password[0] == '\t' ||
		     password[plen - 1] == ' ' || password[plen - 1] == '\t'))
		return ipam_error_set(IPAM_EINVAL,
				      "the password of smb user '%s' starts or "
				      "ends with a blank, which an "
				      "authentication file cannot carry",
				      user);
	bs = strchr(user, '\\');
	if (bs) {
		strbuf_addstr(sb, "domain = ");
		strbuf_add(sb, user, (size_t)(bs - user));
		strbuf_addf(sb, "\nusername = %s\n", bs + 1);
	} else {
		strbuf_addf(sb, "username = %s\n", user);
	}
	strbuf_addf(sb, "password = %s\n", password);
	return 0;
}

/*
 * Run a Samba client tool: no shell, output captured with a bound,
 * killed after timeout seconds.
 */
static int run_helper(struct ipam_proc_result *r, const char *const argv[],
		      int timeout, int pass_fd)
{
	struct ipam_proc_opts o = {
		.timeout = timeout,
		.max_output = MAX_HELPER_OUTPUT,
		.missing_hint = "install Samba's client tools",
		.pass_fd = pass_fd,
		/* Samba creates its files 0644: nothing it writes is for
		 * others, whatever the process's umask meanwhile. */
		.set_umask = true,
		.child_umask = 077,
	};

	return ipam_proc_run(r, argv, &o);
}

/* The helper failed: "<prefix>: <status or its words>". */
static int helper_fail(const struct ipam_proc_result *r, const char *prefix)
{
	struct strbuf sb = STRBUF_INIT;
	const char *text[2] = {r->err.buf, r->out.buf}, *nt = NULL;
	char status[64] = "";
	int code = IPAM_EIO, i;

	for (i = 0; i < 2 && !nt; i++)
		nt = strstr(text[i], "NT_STATUS_");
	if (nt) {
		size_t n = strspn(nt, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

		if (n < sizeof(status)) {
			memcpy(status, nt, n);
			status[n] = '\0';
			code = status_code(status);
		}
	}
	strbuf_addf(&sb, "%s: ", prefix);
	if (status[0])
		strbuf_addstr(&sb, status);
	else
		strbuf_addf(&sb, "exit status %d", r->status);
	for (i = 0; i < 2; i++) {
		struct strbuf t = STRBUF_INIT;

		strbuf_addstr(&t, text[i]);
		while (t.len &&
		       (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == ' '))
			t.buf[--t.len] = '\0';
		if (t.len) {
			strbuf_addstr(&sb, i ? " (stdout: " : " (stderr: ");
			ipam_text_add_clean(&sb,
					    t.len > MAX_DIAG_LEN
						    ? t.buf + t.len -
							      MAX_DIAG_LEN
						    : t.buf,
					    MAX_DIAG_LEN);
			strbuf_addch(&sb, ')');
		}
		strbuf_release(&t);
	}
	ipam_error_set(code, "%s", sb.buf);
	strbuf_release(&sb);
	return code;
}

int ipam_smb_kinit_keytab(struct ipam_smb *s, const struct ipam_smb_opts *o)
{
	struct ipam_proc_result r;
	struct strbuf cc = STRBUF_INIT, pre = STRBUF_INIT;
	const char *argv[8];
	int rc;

	strbuf_addf(&cc, "FILE:%s/ccache", s->dir);
	argv[0] = "kinit";
	argv[1] = "-k";
	argv[2] = "-t";
	argv[3] = o->keytab;
	argv[4] = "-c";
	argv[5] = cc.buf;
	argv[6] = o->principal;
	argv[7] = NULL;
	/* The cache is named on the command line and the umask is the
	 * child's: nothing of the process to guard. */
	rc = run_helper(&r, argv, s->timeout, 0);
	if (!rc && r.status != 0) {
		strbuf_addf(&pre,
			    "smb connect '\\\\%s': kerberos as '%s' from "
			    "keytab '%s'",
			    s->server, o->principal, o->keytab);
		rc = helper_fail(&r, pre.buf);
		if (rc == IPAM_EIO)
			rc = IPAM_EAUTH;
		ipam_error_set(rc, "%s", ipam_error_last());
	}
	ipam_proc_result_release(&r);
	if (!rc)
		s->ccache = strbuf_detach(&cc, NULL);
	strbuf_release(&cc);
	strbuf_release(&pre);
	return rc;
}

/* --- security descriptors (smbcacls) ------------------------------- */

/*
 * The authentication file as an anonymous memory file (close-on-exec; the
 * child gets it as /dev/fd/3): a regular file to the tool, which may
 * fstat it, yet nothing on disk for a kill to leave behind.  Its
 * descriptor in *fd.
 */
static int auth_memfd(int *fd, const struct ipam_smb *s)
{
	struct strbuf sb = STRBUF_INIT;
	size_t off = 0;
	int rc;

	*fd = -1;
	rc = ipam_smb_authfile_text(&sb, s->authname, s->password);
	if (!rc && (*fd = memfd_create("ipamctl-smb-auth", MFD_CLOEXEC)) < 0)
		rc = ipam_error_set(IPAM_EIO, "smb: memfd_create: %s",
				    strerror(errno));
	while (!rc && off < sb.len) {
		ssize_t n = write(*fd, sb.buf + off, sb.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = ipam_error_set(IPAM_EIO,
					    "smb: writing credentials: %s",
					    strerror(errno));
		else
			off += (size_t)n;
	}
	explicit_bzero(sb.buf, sb.len);
	strbuf_release(&sb);
	if (rc && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/*
 * smbcacls --sddl [--set=SDDL] -- //server/share dir\file.  The password
 * goes in an authentication file (a memory file, above), never on the
 * command line; with Kerberos, KRB5CCNAME names the cache as for
 * libsmbclient.
 */
static int smbcacls(struct ipam_proc_result *r, struct ipam_smb *s,
		    const struct ipam_smb_target *t, const char *set_sddl,
		    const char *op)
{
	struct strbuf conf = STRBUF_INIT;
	struct strbuf service = STRBUF_INIT, file = STRBUF_INIT;
	struct strbuf set = STRBUF_INIT, pre = STRBUF_INIT;
	const char *argv[12];
	struct ipam_smb_guard g;
	size_t i, n = 0;
	int rc = 0, authfd = -1;

	strbuf_init(&r->out);
	strbuf_init(&r->err);
	strbuf_addf(&conf, "--configfile=%s", s->conf);
	strbuf_addf(&service, "//%s/%s", s->server, t->p.comp[0]);
	for (i = 1; i < t->p.nr; i++) {
		if (i > 1)
			strbuf_addch(&file, '\\');
		strbuf_addstr(&file, t->p.comp[i]);
	}
	if (t->p.nr == 1)
		strbuf_addch(&file, '\\');
	argv[n++] = "smbcacls";
	argv[n++] = conf.buf;
	argv[n++] = "--sddl";
	if (s->kerberos) {
		argv[n++] = "--use-kerberos=required";
		/* Else it prompts for a password it then does not use. */
		argv[n++] = "--no-pass";
	} else {
		rc = auth_memfd(&authfd, s);
		if (rc)
			goto out;
		strbuf_addf(&pre, "--authentication-file=/dev/fd/%d",
			    IPAM_PROC_PASS_FD);
		argv[n++] = pre.buf;
	}
	if (set_sddl) {
		strbuf_addf(&set, "--set=%s", set_sddl);
		argv[n++] = set.buf;
	}
	argv[n++] = "--";
	argv[n++] = service.buf;
	argv[n++] = file.buf;
	argv[n] = NULL;
	/* The child's umask is its own (run_helper): only a Kerberos cache
	 * it must find in the environment needs the guard, whose lock would
	 * hold other domains' SMB calls for the whole run of the tool. */
	if (s->kerberos && s->ccache) {
		ipam_smb_guard_enter(&g, s);
		rc = run_helper(r, argv, s->timeout * 2 + 5, authfd);
		ipam_smb_guard_leave(&g);
	} else {
		rc = run_helper(r, argv, s->timeout * 2 + 5, authfd);
	}
	if (!rc && r->status != 0) {
		struct strbuf m = STRBUF_INIT;

		strbuf_addf(&m, "smb %s '%s' (smbcacls)", op, t->unc.buf);
		rc = helper_fail(r, m.buf);
		strbuf_release(&m);
	} else if (rc) {
		rc = ipam_error_prefix(rc, "smb %s '%s'", op, t->unc.buf);
	}
out:
	if (authfd >= 0)
		close(authfd);
	strbuf_release(&conf);
	strbuf_release(&service);
	strbuf_release(&file);
	strbuf_release(&set);
	strbuf_release(&pre);
	return rc;
}

/* The SDDL line smbcacls printed: the last line starting "O:" or "D:". */
static int parse_sddl(struct strbuf *out, const struct ipam_proc_result *r,
		      const char *unc)
{
	const char *s = r->out.buf, *found = NULL;
	size_t found_len = 0;

	while (*s) {
		size_t len = strcspn(s, "\r\n");

		if (len > 2 && (s[0] == 'O' || s[0] == 'G' || s[0] == 'D') &&
		    s[1] == ':') {
			found = s;
			found_len = len;
		}
		s += len;
		s += strspn(s, "\r\n");
	}
	if (!found) {
		struct strbuf m = STRBUF_INIT;
		int rc;

		strbuf_addf(&m, "smb acl get '%s': smbcacls printed no SDDL",
			    unc);
		rc = helper_fail(r, m.buf);
		strbuf_release(&m);
		return rc == IPAM_ENOTFOUND || rc == IPAM_EAUTH ? rc : IPAM_EIO;
	}
	strbuf_add(out, found, found_len);
	return 0;
}

int ipam_smb_acl_get(struct strbuf *sddl, struct ipam_smb *s, const char *path)
{
	struct ipam_proc_result r;
	struct ipam_smb_target t;
	int rc;

	strbuf_init(&r.out);
	strbuf_init(&r.err);
	rc = ipam_smb_target_init(&t, s, path);
	if (!rc)
		rc = smbcacls(&r, s, &t, NULL, "acl get");
	if (!rc)
		rc = parse_sddl(sddl, &r, t.unc.buf);
	ipam_proc_result_release(&r);
	ipam_smb_target_release(&t);
	return rc;
}

int ipam_smb_acl_set(struct strbuf *applied, struct ipam_smb *s,
		     const char *path, const char *sddl)
{
	struct ipam_proc_result r;
	struct ipam_smb_target t;
	int rc;

	strbuf_init(&r.out);
	strbuf_init(&r.err);
	rc = ipam_smb_target_init(&t, s, path);
	if (rc)
		goto out;
	if (!sddl || strncmp(sddl, "O:", 2) != 0 || strchr(sddl, '\n')) {
		rc = ipam_error_set(IPAM_EINVAL,
				    "smb acl set '%s': the SDDL must start "
				    "with an owner (O:) and be one line",
				    t.unc.buf);
		goto out;
	}
	rc = smbcacls(&r, s, &t, sddl, "acl set");
	ipam_fault_point("smb acl set", t.unc.buf);
	ipam_proc_result_release(&r);
	if (!rc && applied)
		rc = ipam_smb_acl_get(applied, s, path);
out:
	ipam_smb_target_release(&t);
	return rc;
}
