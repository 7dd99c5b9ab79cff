#include "smb_lib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "banned.h"

/*
 * The functions' names and where each goes in struct ipam_smb_lib.  A
 * function's address from dlsym is copied into its pointer's bytes (the
 * way POSIX asks for: C has no conversion between the two kinds of
 * pointer).
 */
#define FN(name)                                                               \
	{                                                                      \
		"smbc_" #name, offsetof(struct ipam_smb_lib, name)             \
	}

static const struct {
	const char *name;
	size_t off;
} fns[] = {
	FN(new_context),
	FN(init_context),
	FN(free_context),
	FN(setLogCallback),
	FN(setDebug),
	FN(setOptionDebugToStderr),
	FN(setConfiguration),
	FN(setOptionUserData),
	FN(getOptionUserData),
	FN(setFunctionAuthDataWithContext),
	FN(setTimeout),
	FN(setOptionUseKerberos),
	FN(setOptionFallbackAfterKerberos),
	FN(setOptionNoAutoAnonymousLogin),
	FN(setOptionUseCCache),
	FN(setOptionOneSharePerServer),
	FN(setOptionUrlEncodeReaddirEntries),
	FN(setOptionCaseSensitive),
	FN(setOptionProtocols),
	FN(getFunctionOpen),
	FN(getFunctionClose),
	FN(getFunctionRead),
	FN(getFunctionWrite),
	FN(getFunctionLseek),
	FN(getFunctionStat),
	FN(getFunctionFstat),
	FN(getFunctionUnlink),
	FN(getFunctionMkdir),
	FN(getFunctionRmdir),
	FN(getFunctionOpendir),
	FN(getFunctionClosedir),
	FN(getFunctionReaddir),
};

/* Every member of the struct is one function pointer of fns. */
_Static_assert(sizeof(struct ipam_smb_lib) ==
		       sizeof(fns) / sizeof(fns[0]) * sizeof(void *),
	       "struct ipam_smb_lib and fns[] differ");
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
	       "function pointers are not the size of void *");

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct ipam_smb_lib lib;
static int loaded;
static char failure[512]; /* why not, when not loaded */

static void load(void)
{
	struct ipam_smb_lib l;
	/* global, as a linked library is: what it loads in turn (its own
	 * modules, Kerberos's plugins) sees its symbols */
	void *h = dlopen(IPAM_SMB_LIB_SONAME, RTLD_NOW | RTLD_GLOBAL);
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(failure, sizeof(failure), "%s", e ? e : "not found");
		return;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		void *sym = dlsym(h, fns[i].name);

		if (!sym) {
			snprintf(failure, sizeof(failure), "%s has no %s",
				 IPAM_SMB_LIB_SONAME, fns[i].name);
			return; /* the library stays: it may hold threads */
		}
		memcpy((char *)&l + fns[i].off, &sym, sizeof(sym));
	}
	lib = l;
	loaded = 1;
}

int ipam_smb_lib_load(const struct ipam_smb_lib **out)
{
	pthread_once(&once, load);
	*out = loaded ? &lib : NULL;
	if (!loaded)
		return ipam_error_set(IPAM_EIO, "cannot load %s: %s",
				      IPAM_SMB_LIB_SONAME, failure);
	return 0;
}
