/* A DNS message received from the server the zone monitor or the
 * availability task asked: read as the answer to an SOA, an NS and an A
 * question for corp.example.test (the id is the message's own, so that
 * the parser goes past the id check). */
#include "dns_query.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = {6, 2, 1, 28};
	unsigned id = size >= 2 ? (unsigned)(data[0] << 8 | data[1]) : 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct ipam_dns_query q = {.server = "192.0.2.1",
					   .name = "corp.example.test",
					   .type = types[i]};

		ipam_dns_query_parse(&q, data, size, id);
		ipam_dns_query_release(&q);
	}
	return 0;
}
