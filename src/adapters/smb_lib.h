/*
 * libsmbclient, loaded with dlopen when the first SMB session is made
 * instead of linked: the library and the Samba libraries it pulls in
 * (over ninety) cost every ipamctl command about 25 ms in the dynamic
 * linker at its start, the ones that never speak SMB too (`track`,
 * `dns records`, `--version`).  The SMB adapter calls the library
 * through the functions below, never by their own names.  Not for use
 * outside src/adapters/smb*.c.
 *
 * Prefixes: ipam_smb_lib
 */
#ifndef IPAM_SMB_LIB_H
#define IPAM_SMB_LIB_H

#include <libsmbclient.h>

/* The soname loaded (Debian's libsmbclient package). */
#define IPAM_SMB_LIB_SONAME "libsmbclient.so.0"

/* libsmbclient's functions of the same names without "smbc_". */
struct ipam_smb_lib {
	SMBCCTX *(*new_context)(void);
	SMBCCTX *(*init_context)(SMBCCTX *c);
	int (*free_context)(SMBCCTX *c, int shutdown_ctx);
	void (*setLogCallback)(SMBCCTX *c, void *private_ptr,
			       smbc_debug_callback_fn fn);
	void (*setDebug)(SMBCCTX *c, int debug);
	void (*setOptionDebugToStderr)(SMBCCTX *c, smbc_bool b);
	int (*setConfiguration)(SMBCCTX *c, const char *file);
	void (*setOptionUserData)(SMBCCTX *c, void *user_data);
	void *(*getOptionUserData)(SMBCCTX *c);
	void (*setFunctionAuthDataWithContext)(
		SMBCCTX *c, smbc_get_auth_data_with_context_fn fn);
	void (*setTimeout)(SMBCCTX *c, int timeout);
	void (*setOptionUseKerberos)(SMBCCTX *c, smbc_bool b);
	void (*setOptionFallbackAfterKerberos)(SMBCCTX *c, smbc_bool b);
	void (*setOptionNoAutoAnonymousLogin)(SMBCCTX *c, smbc_bool b);
	void (*setOptionUseCCache)(SMBCCTX *c, smbc_bool b);
	void (*setOptionOneSharePerServer)(SMBCCTX *c, smbc_bool b);
	void (*setOptionUrlEncodeReaddirEntries)(SMBCCTX *c, smbc_bool b);
	void (*setOptionCaseSensitive)(SMBCCTX *c, smbc_bool b);
	smbc_bool (*setOptionProtocols)(SMBCCTX *c, const char *min_proto,
					const char *max_proto);
	smbc_open_fn (*getFunctionOpen)(SMBCCTX *c);
	smbc_close_fn (*getFunctionClose)(SMBCCTX *c);
	smbc_read_fn (*getFunctionRead)(SMBCCTX *c);
	smbc_write_fn (*getFunctionWrite)(SMBCCTX *c);
	smbc_lseek_fn (*getFunctionLseek)(SMBCCTX *c);
	smbc_stat_fn (*getFunctionStat)(SMBCCTX *c);
	smbc_fstat_fn (*getFunctionFstat)(SMBCCTX *c);
	smbc_unlink_fn (*getFunctionUnlink)(SMBCCTX *c);
	smbc_mkdir_fn (*getFunctionMkdir)(SMBCCTX *c);
	smbc_rmdir_fn (*getFunctionRmdir)(SMBCCTX *c);
	smbc_opendir_fn (*getFunctionOpendir)(SMBCCTX *c);
	smbc_closedir_fn (*getFunctionClosedir)(SMBCCTX *c);
	smbc_readdir_fn (*getFunctionReaddir)(SMBCCTX *c);
};

/*
 * The library's functions, loaded on the first call (once per process,
 * any thread): 0 with *out set, or IPAM_EIO (set, with dlerror's reason)
 * when the library or one of its functions cannot be loaded.
 */
int ipam_smb_lib_load(const struct ipam_smb_lib **out);

#endif
