/*
 * SMB adapter: the only module that includes <libsmbclient.h>.  One
 * connection to one server (a DC's SYSVOL), SMB2 or later with signing
 * required, credentials given to libsmbclient through its authentication
 * callback only (never in a URL), Kerberos from a credential cache or a
 * keytab.  File operations go through libsmbclient; the security
 * descriptor of a folder is read and written as SDDL by Samba's smbcacls,
 * run without a shell with its credentials in a private 0600 file, because
 * libsmbclient cannot set a protected DACL nor object ACEs (see smb.c).
 *
 * Paths are "share/dir/file", with '/' or '\' between components
 * ("sysvol/corp.example.test/Policies/{GUID}/GPT.INI"); "." and ".."
 * components, empty names and characters Windows refuses in names are
 * refused (IPAM_EINVAL).  Errors name the server, the operation and the
 * path as a UNC: "smb write '\\dc1\sysvol\...\GPT.INI': NT_STATUS_...".
 * Codes: unreachable IPAM_EIO, timeout IPAM_ETIMEOUT, logon failure
 * IPAM_EAUTH, not found IPAM_ENOTFOUND, access denied IPAM_EIO.
 */
#ifndef IPAM_SMB_H
#define IPAM_SMB_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "strbuf.h"

struct ipam_smb;

struct ipam_smb_opts {
	const char *server; /* host name, e.g. dc1.corp.example.test */
	enum ipam_auth auth;
	const char *user;      /* simple: UPN or DOMAIN\name */
	const char *password;  /* simple: the secret itself (caller reads it) */
	const char *keytab;    /* kerberos: needs principal */
	const char *principal; /* kerberos: the client (libsmbclient would
				  otherwise ask for $USER's ticket) */
	const char *ccache;    /* kerberos: NULL = the default cache */
	int timeout;	       /* seconds, per operation (0: 30) */
	/* no probe: the caller's first call (a listing of its share) is
	 * the one that reaches the server and proves the credentials, its
	 * failure classified as the probe's would be (one connection and
	 * session setup fewer) */
	int no_probe;
};

/*
 * Set up a private libsmbclient context and check the credentials by
 * listing the server's shares (unless o->no_probe).  IPAM_EIO unreachable,
 * IPAM_ETIMEOUT, IPAM_EAUTH logon failure, IPAM_EINVAL a refused configuration.
 */
int ipam_smb_connect(struct ipam_smb **out, const struct ipam_smb_opts *o);
void ipam_smb_close(struct ipam_smb *s);

/* The whole file into out; larger than max is IPAM_ELIMIT. */
int ipam_smb_read(struct strbuf *out, struct ipam_smb *s, const char *path,
		  size_t max);
/*
 * Write the whole file in place: created or truncated, then written (not
 * a temporary name and a rename; smb.c says why).
 */
int ipam_smb_write(struct ipam_smb *s, const char *path, const void *data,
		   size_t len);
/* Create the directory and its missing parents (below the share). */
int ipam_smb_mkdir_p(struct ipam_smb *s, const char *path);

struct ipam_smb_stat {
	int is_dir;
	uint64_t size;
	int64_t mtime; /* seconds since the epoch */
};

/* IPAM_ENOTFOUND when the path does not exist. */
int ipam_smb_stat(struct ipam_smb_stat *out, struct ipam_smb *s,
		  const char *path);
/* *exists = 1 or 0; other failures are errors. */
int ipam_smb_exists(int *exists, struct ipam_smb *s, const char *path);

struct ipam_smb_dirent {
	char *name;
	int is_dir;
};

/* Entries of a directory ("." and ".." left out), sorted by name. */
int ipam_smb_list(struct ipam_smb_dirent **out, size_t *nr, struct ipam_smb *s,
		  const char *path);
void ipam_smb_dirents_free(struct ipam_smb_dirent *d, size_t nr);

/* Remove a file or an empty directory. */
int ipam_smb_remove(struct ipam_smb *s, const char *path);
/* Remove a file or a directory with everything under it (GPO rollback). */
int ipam_smb_remove_tree(struct ipam_smb *s, const char *path);

/*
 * The security descriptor of path (owner, group, DACL) as SDDL, SIDs of
 * the domain written out in full ("O:S-1-5-21-...-512G:...D:P(...)").
 */
int ipam_smb_acl_get(struct strbuf *sddl, struct ipam_smb *s, const char *path);
/*
 * Replace owner, group, control flags (protected) and DACL of path with
 * sddl; object ACEs keep their GUIDs.  Give domain SIDs in full (not DA,
 * EA, ...).  The server's copy is read back into applied (may be NULL).
 *
 * smbcacls writes the ACEs sorted (denied first, then by type, SID, flags,
 * mask) and drops exact duplicates; `samba-tool gpo aclcheck` compares
 * order too, so for it to pass the AD DACL of the GPO must be written in
 * the order applied shows, without ACEs whose file mapping repeats one.
 * Set a GPO folder's ACL after its children are written: a mask-0 object
 * ACE inherited by a new child makes the child unwritable.
 */
int ipam_smb_acl_set(struct strbuf *applied, struct ipam_smb *s,
		     const char *path, const char *sddl);

/*
 * A private directory (0700, swept like the connections' when its owner
 * is gone) with a client smb.conf for Samba's tools (*conf, "-s"): the
 * access probes keep their ticket cache and Samba's caches there.  Free
 * both with ipam_smb_private_dir_free(dir) and free(conf).
 */
int ipam_smb_private_dir_new(char **dir, char **conf);
/* Remove the directory and what is in it; frees dir (NULL: nothing). */
void ipam_smb_private_dir_free(char *dir);

/*
 * The DHCP audit share probe, as the Windows IPAM server does it: list
 * \\server\share and read a DhcpSrvLog-*.log (the first bytes), with
 * Kerberos from ccache ("FILE:...") as principal.  Runs libsmbclient in
 * a child process (each probe its own, so that probes of several servers
 * run at once and the Kerberos cache variable is the child's alone),
 * stopped after timeout seconds.  0 and *ok = 1 with what was read in
 * what ("read DhcpSrvLog-Mon.log"), or *ok = 0 with the failure in what
 * (naming its NT status); IPAM_E* only when the child could not run.
 */
int ipam_smb_probe_share(int *ok, struct strbuf *what, const char *server,
			 const char *share, const char *ccache,
			 const char *principal, int timeout);

/* Building blocks, public for the unit tests. */

/* "smb://server/share/a%20b/%7BGUID%7D" (percent-encoded), or IPAM_EINVAL. */
int ipam_smb_url(struct strbuf *out, const char *server, const char *path);
/* "\\server\share\dir\file" for messages, or IPAM_EINVAL. */
int ipam_smb_unc(struct strbuf *out, const char *server, const char *path);

#endif
