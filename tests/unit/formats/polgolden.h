/*
 * The golden settings files of tests/fixtures/polfile and their fixed
 * inputs, shared by the polfile and gpp tests.  Include after cmocka.h.
 */
#ifndef IPAM_TEST_POLGOLDEN_H
#define IPAM_TEST_POLGOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "polfile.h"
#include "strbuf.h"
#include "testutil.h"

/* The fixed inputs of the golden files (see tests/fixtures/polfile). */
#define IPAMUG_NAME "CORP\\IPAMUG"
#define IPAMUG_SID  "S-1-5-21-1004336348-1177238915-682003330-1105"
#define CHANGED	    1704110400 /* 2024-01-01 12:00:00 UTC */

static const char *const gpo_dir[] = {"DHCP", "DNS", "DC_NPS"};
static const char *const gpo_guid[] = {
	"{5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A51}",
	"{5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A52}",
	"{5C2A0B14-7E3D-4F61-9A8B-0C1D2E3F4A53}",
};

static inline struct ipam_gpp_params params(enum ipam_pol_gpo gpo)
{
	struct ipam_gpp_params p = {gpo_guid[gpo], IPAMUG_NAME, IPAMUG_SID,
				    (time_t)CHANGED};
	return p;
}

static inline char *fixture_path(enum ipam_pol_gpo gpo, const char *file)
{
	return xasprintf("%s/polfile/%s/%s", fixtures_dir(), gpo_dir[gpo],
			 file);
}

/* Compare with the golden file; IPAM_POLFILE_REGEN=1 rewrites it. */
static inline void check_golden(enum ipam_pol_gpo gpo, const char *file,
				const struct strbuf *got)
{
	char *path = fixture_path(gpo, file);
	size_t len = 0;
	char *want;

	if (getenv("IPAM_POLFILE_REGEN")) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got->buf, 1, got->len, f), got->len);
		assert_int_equal(fclose(f), 0);
	}
	want = slurp(path, &len);
	if (!want)
		fail_msg("cannot read %s", path);
	if (len != got->len || memcmp(want, got->buf, len))
		fail_msg("%s differs from the rendered bytes", path);
	free(want);
	free(path);
}

#endif
