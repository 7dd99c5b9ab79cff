/*
 * What the pieces of the SMB adapter share: smb.c (the libsmbclient
 * session, paths, errors and the per-call guard; smb_lib.c loads the
 * library), smb_files.c (file and
 * directory operations) and smb_tools.c (Samba's client tools run as
 * child processes: kinit for a keytab, smbcacls for folder ACLs).  Not
 * for use outside src/adapters/smb*.c.
 */
#ifndef IPAM_SMB_INTERNAL_H
#define IPAM_SMB_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "sigpipe.h"
#include "smb.h"
#include "strbuf.h"

struct ipam_smb_lib;

struct ipam_smb {
	void *ctx; /* libsmbclient's SMBCCTX (its header stays in smb*.c) */
	const struct ipam_smb_lib *lib; /* its functions (smb_lib.h) */
	char *server;
	char *dir;	/* private directory */
	char *conf;	/* its smb.conf */
	char *user;	/* simple: name without domain */
	char *domain;	/* simple: DOMAIN of DOMAIN\name, else "" */
	char *authname; /* simple: user as given (auth file) */
	char *password;
	char *ccache;	 /* kerberos: KRB5CCNAME for every call, or NULL */
	char *principal; /* kerberos: the client */
	int kerberos;
	int timeout;
};

/* A path split into its components; comp[0] is the share. */
struct ipam_smb_path {
	char **comp;
	size_t nr;
};

/* Split a path: IPAM_EINVAL for an empty path, a refused component. */
int ipam_smb_path_split(struct ipam_smb_path *p, const char *path);
void ipam_smb_path_free(struct ipam_smb_path *p);
/* Percent-encode s for a URL. */
void ipam_smb_add_pct(struct strbuf *sb, const char *s);
/* URL and UNC of the first n components of p. */
void ipam_smb_url_of(struct strbuf *out, const char *server,
		     const struct ipam_smb_path *p, size_t n);
void ipam_smb_unc_of(struct strbuf *out, const char *server,
		     const struct ipam_smb_path *p, size_t n);

/* A path split, with its URL and UNC. */
struct ipam_smb_target {
	struct ipam_smb_path p;
	struct strbuf url, unc;
};

int ipam_smb_target_init(struct ipam_smb_target *t, const struct ipam_smb *s,
			 const char *path);
void ipam_smb_target_release(struct ipam_smb_target *t);

/*
 * "smb <op> '<unc>': <status>" from errno e; code 0 picks the code from
 * e.  Returns the code.
 */
int ipam_smb_fail(int code, const char *op, const char *unc, int e);

/*
 * libsmbclient writes to sockets with write(2): a peer gone away raises
 * SIGPIPE.  Each call holds SIGPIPE blocked and swallows one it caused,
 * leaving the caller's disposition alone (as the LDAP adapter does).
 */
struct ipam_smb_guard {
	struct ipam_sigpipe sig;
	const char *env_name;
	char *env_old;
	int env_set;
	mode_t umask_old; /* 077 during the call: no file readable by others */
};

/* s may be NULL: then only SIGPIPE is guarded. */
void ipam_smb_guard_enter(struct ipam_smb_guard *g, const struct ipam_smb *s);
void ipam_smb_guard_leave(struct ipam_smb_guard *g);

/* Create path 0600 (it must not exist) holding data; removed on failure. */
int ipam_smb_write_private(const char *path, const char *data, size_t len);

/*
 * Make s->dir (0700, under $TMPDIR or /tmp, with an owner file naming
 * this process) and s->conf in it, after sweeping the directories of ours
 * whose owner is gone (a run killed before it could clean up).
 */
int ipam_smb_private_dir_make(struct ipam_smb *s);
/* Remove the private directory dir and what Samba left in it. */
void ipam_smb_private_dir_remove(const char *dir);
/* Remove the private directories under tmp whose owner is gone. */
void ipam_smb_private_dir_sweep(const char *tmp);

/* The text of an authentication file for user and password. */
int ipam_smb_authfile_text(struct strbuf *sb, const char *user,
			   const char *password);

/* kinit from o->keytab into a cache in the private directory. */
int ipam_smb_kinit_keytab(struct ipam_smb *s, const struct ipam_smb_opts *o);

#endif
