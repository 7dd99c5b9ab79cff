/*
 * What a GPO's folder and object say about its version and extensions:
 * GPT.INI, the user/machine version halves and gPCMachineExtensionNames.
 * Pure; parsers are bounded and strict about what they return.
 */
#ifndef IPAM_GPT_H
#define IPAM_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "polfile.h" /* enum ipam_pol_gpo */
#include "strbuf.h"

/* "[General]\r\nVersion=<v>\r\n", as samba-tool gpo create writes it. */
int ipam_gpt_ini_write(struct strbuf *out, uint32_t version);
/* The Version of [General]; tolerant of LF, BOM, other keys. */
int ipam_gpt_ini_parse(uint32_t *version, const char *buf, size_t len);

static inline uint16_t ipam_gpt_user_version(uint32_t v)
{
	return (uint16_t)(v >> 16);
}

static inline uint16_t ipam_gpt_machine_version(uint32_t v)
{
	return (uint16_t)(v & 0xFFFF);
}

/* v with the machine half incremented, wrapping 0xFFFF to 1 (never 0);
 * the user half is kept. */
uint32_t ipam_gpt_bump_machine(uint32_t v);

/* One client-side extension and the tools (snap-ins) that wrote it. */
struct ipam_gpt_ext {
	const char *cse;
	const char *const *tools;
	size_t nr_tools;
};

/*
 * "[{CSE}{tool}…]…": extensions sorted ascending by GUID and tools within
 * each, case-insensitively as Windows sorts; the same CSE given twice is
 * merged and duplicate tools dropped.  GUIDs must be "{8-4-4-4-12}".
 */
int ipam_gpt_ext_build(struct strbuf *out, const struct ipam_gpt_ext *exts,
		       size_t n);

struct ipam_gpt_ext_list {
	struct ipam_gpt_ext_owned {
		char cse[39];
		char (*tools)[39];
		size_t nr_tools;
	} * exts;
	size_t nr;
};

#define IPAM_GPT_MAX_EXTS  256u
#define IPAM_GPT_MAX_TOOLS 64u

/* Parse a gPCMachineExtensionNames value ("" is an empty list). */
int ipam_gpt_ext_parse(struct ipam_gpt_ext_list *out, const char *s);
void ipam_gpt_ext_list_release(struct ipam_gpt_ext_list *l); /* NULL ok */

/* The gPCMachineExtensionNames of gpo, from the files ipamctl writes. */
int ipam_gpt_ext_for_gpo(struct strbuf *out, enum ipam_pol_gpo gpo);

#endif
