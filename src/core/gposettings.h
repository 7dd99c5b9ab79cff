/*
 * The decisions behind writing a GPO's settings, apart from the SYSVOL
 * and LDAP traffic: which rendered files differ from what SYSVOL holds,
 * whether the version goes up (in AD and GPT.INI together), what else on
 * the container needs fixing, and how the observed state reads once that
 * is done.  Pure: model/gpostate.h and formats/polfile.h values.
 */
#ifndef IPAM_GPOSETTINGS_H
#define IPAM_GPOSETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gpostate.h"
#include "polfile.h"
#include "strbuf.h"

struct ipam_gposettings_plan {
	bool write[IPAM_POL_MAX_FILES]; /* set->files[i] to be written */
	bool files;	    /* a file to write or a foreign one to remove */
	bool bump;	    /* the version goes up, in AD and GPT.INI */
	bool fix_attrs;	    /* gPCFunctionalityVersion 2, computer side on */
	uint32_t version;   /* the versionNumber to write */
	long flags;	    /* the flags to write (with fix_attrs) */
	struct strbuf what; /* the changes in words */
};

/* Is the present file (is_present: there at all) byte-equal to want? */
bool ipam_gposettings_same(const struct strbuf *present, bool is_present,
			   const struct ipam_pol_file *want);

/*
 * Compare g (its version, GPT.INI, extension names, flags and foreign
 * files) and what SYSVOL holds (present[i], is_present[i] for
 * set->files[i]) with the rendered set and the extension names ext.
 * True when anything needs writing; out is to be released either way.
 */
bool ipam_gposettings_plan(struct ipam_gposettings_plan *out,
			   const struct ipam_gpo_obs *g,
			   const struct ipam_pol_set *set,
			   const struct strbuf *present, const bool *is_present,
			   const char *ext);
void ipam_gposettings_plan_release(struct ipam_gposettings_plan *p);

/* g once plan p (made with ext) was carried out: every settings file
 * current, what was read of them gone, no foreign file left. */
void ipam_gposettings_applied(struct ipam_gpo_obs *g,
			      const struct ipam_gposettings_plan *p,
			      const char *ext);

/* A preferences item's "changed" stamp, "YYYY-MM-DD HH:MM:SS" (UTC). */
int ipam_gposettings_parse_changed(const char *s, time_t *out);

#endif
