/*
 * TZif files (the system's time zones, and the footer's POSIX TZ rule),
 * then local time both ways at times the input's last bytes choose: a
 * parsed zone's offsets stay within a day either way.
 */
#include "fuzz.h"
#include "tzif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_tz *tz;
	unsigned long long bits = 0;
	long long t;

	if (ipam_tz_parse(&tz, data, size))
		return 0;
	for (size_t i = size > 8 ? size - 8 : 0; i < size; i++)
		bits = bits << 8 | data[i];
	/* beyond any real time too: the functions clamp */
	t = (long long)(bits % (1ULL << 62)) - (1LL << 61);
	for (int i = 0; i < 4; i++, t = t / 3 - (1LL << 35)) {
		long long l = ipam_tz_to_local(tz, t),
			  u = ipam_tz_to_utc(tz, t);

		if (t > -(1LL << 58) && t < 1LL << 58 &&
		    (l - t > 86400 * 2 || t - l > 86400 * 2 ||
		     u - t > 86400 * 2 || t - u > 86400 * 2))
			abort();
	}
	ipam_tz_free(tz);
	return 0;
}
