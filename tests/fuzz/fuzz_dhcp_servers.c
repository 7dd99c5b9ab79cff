/* One dhcpServers value of the DHCP root object in AD. */
#include "dhcp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipam_dhcp_auth a;

	memset(&a, 0, sizeof(a));
	ipam_dhcp_parse_servers_value(&a, (const char *)data, size);
	ipam_dhcp_auth_release(&a);
	return 0;
}
