/* A UDP datagram received on the DHCPINFORM probe's socket. */
#include "dhcp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in_addr server_id;
	uint32_t xid;

	ipam_dhcp_parse_reply(data, size, &xid, &server_id);
	return 0;
}
