# dhcp1.corp.example.test: IPAM access Blocked (Unblock IPAM Access)
# Run on dhcp1.corp.example.test in an elevated PowerShell (a local administrator).
# These are the settings the IPAM GPOs carry; IPAMUG must hold the IPAM server's account IPAM1$.
# Provisioning is by Group Policy: once ipamctl apply has put this server in the GPOs' filtering,
# 'gpupdate /force' here applies the same (then restart the DHCP or DNS Server service).
$domain = 'corp.example.test'
$member = 'CORP\IPAMUG'

# DHCP RPC: Blocked (access denied for IPAM1$)
# The DHCP Server management RPC, for IPAMUG through DHCP Users; the DHCP Server service reads that group when it starts.
# firewall: DHCP Server (RPC-In), DHCP Server (RPCSS-In), Remote Service Management (RPC), Remote Service Management (RPC-EPMAP)
Enable-NetFirewallRule -Name 'Microsoft-Windows-DHCP-ClientSvc-RPC-TCP-In', 'Microsoft-Windows-DHCP-ClientSvc-RPCSS-TCP-In', 'RemoteSvcAdmin-In-TCP', 'RemoteSvcAdmin-RPCSS-In-TCP'
# IPAMUG in DHCP Users
if (-not (Get-LocalGroupMember -Group 'DHCP Users' -Member $member -ErrorAction SilentlyContinue)) {
	Add-LocalGroupMember -Group 'DHCP Users' -Member $member
}
Restart-Service -Name 'DHCPServer'

# DHCP audit share: Blocked (unreachable (connection refused on 445))
# The share dhcpaudit on the DHCP audit-log folder, read for IPAMUG, over SMB.
# firewall: File and Printer Sharing (NB-Session-In), File and Printer Sharing (SMB-In)
Enable-NetFirewallRule -Name 'FPS-NB_Session-In-TCP', 'FPS-SMB-In-TCP'
$path = (Get-DhcpServerAuditLog).Path
if (-not (Get-SmbShare -Name 'dhcpaudit' -ErrorAction SilentlyContinue)) {
	New-SmbShare -Name 'dhcpaudit' -Path $path -ReadAccess $member -Description 'IPAM DHCP audit logs'
} else {
	Grant-SmbShareAccess -Name 'dhcpaudit' -AccountName $member -AccessRight Read -Force
}

# Event log: Blocked (timed out after 10 s)
# Remote event log reading, for IPAMUG through Event Log Readers.
# firewall: Remote Event Log Management (RPC), Remote Event Log Management (RPC-EPMAP)
Enable-NetFirewallRule -Name 'RemoteEventLogSvc-In-TCP', 'RemoteEventLogSvc-RPCSS-In-TCP'
# IPAMUG in Event Log Readers
if (-not (Get-LocalGroupMember -SID 'S-1-5-32-573' -Member $member -ErrorAction SilentlyContinue)) {
	Add-LocalGroupMember -SID 'S-1-5-32-573' -Member $member
}
