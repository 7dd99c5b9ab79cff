# dc1.corp.example.test: IPAM access Blocked (Unblock IPAM Access)
# Run on dc1.corp.example.test in an elevated PowerShell (a local administrator).
# These are the settings the IPAM GPOs carry; IPAMUG must hold the IPAM server's account IPAM1$.
# Provisioning is by Group Policy: once ipamctl apply has put this server in the GPOs' filtering,
# 'gpupdate /force' here applies the same (then restart the DHCP or DNS Server service).
# Get-ADGroup needs the ActiveDirectory module (RSAT-AD-PowerShell on a member server).
$domain = 'corp.example.test'
$ipamug = Get-ADGroup -Identity 'IPAMUG' -Server $domain
$member = 'CORP\IPAMUG'

# DHCP RPC: Blocked (access denied for IPAM1$)
# The DHCP Server management RPC, for IPAMUG through DHCP Users; the DHCP Server service reads that group when it starts.
# firewall: DHCP Server (RPC-In), DHCP Server (RPCSS-In), Remote Service Management (RPC), Remote Service Management (RPC-EPMAP)
Enable-NetFirewallRule -Name 'Microsoft-Windows-DHCP-ClientSvc-RPC-TCP-In', 'Microsoft-Windows-DHCP-ClientSvc-RPCSS-TCP-In', 'RemoteSvcAdmin-In-TCP', 'RemoteSvcAdmin-RPCSS-In-TCP'
# IPAMUG in DHCP Users (the domain's group: this is a DC)
if (-not (Get-ADGroupMember -Identity 'DHCP Users' | Where-Object { $_.SID -eq $ipamug.SID })) {
	Add-ADGroupMember -Identity 'DHCP Users' -Members $ipamug
}
Restart-Service -Name 'DHCPServer'

# DHCP audit share: Blocked (access denied for IPAM1$)
# The share dhcpaudit on the DHCP audit-log folder, read for IPAMUG, over SMB.
# firewall: File and Printer Sharing (NB-Session-In), File and Printer Sharing (SMB-In)
Enable-NetFirewallRule -Name 'FPS-NB_Session-In-TCP', 'FPS-SMB-In-TCP'
$path = (Get-DhcpServerAuditLog).Path
if (-not (Get-SmbShare -Name 'dhcpaudit' -ErrorAction SilentlyContinue)) {
	New-SmbShare -Name 'dhcpaudit' -Path $path -ReadAccess $member -Description 'IPAM DHCP audit logs'
} else {
	Grant-SmbShareAccess -Name 'dhcpaudit' -AccountName $member -AccessRight Read -Force
}

# DNS RPC: Blocked (access denied for IPAM1$)
# The DNS Server management RPC: read for IPAMUG in the DNS ACL (CN=MicrosoftDNS, AD-integrated DNS, the whole domain's).
# firewall: RPC (TCP, Incoming), RPC Endpoint Mapper (TCP, Incoming)
Enable-NetFirewallRule -Name 'DNSSrv-RPC-TCP-In', 'DNSSrv-RPCEPMAP-TCP-In'
$dns = 'AD:CN=MicrosoftDNS,CN=System,' + (Get-ADDomain -Identity $domain).DistinguishedName
$acl = Get-Acl -Path $dns
$rights = [System.DirectoryServices.ActiveDirectoryRights]'ListChildren, ReadProperty, ReadControl'
$acl.AddAccessRule((New-Object System.DirectoryServices.ActiveDirectoryAccessRule($ipamug.SID, $rights, 'Allow', 'All')))
Set-Acl -Path $dns -AclObject $acl

# Event log: Blocked (access denied for IPAM1$)
# Remote event log reading, for IPAMUG through Event Log Readers.
# firewall: Remote Event Log Management (RPC), Remote Event Log Management (RPC-EPMAP)
Enable-NetFirewallRule -Name 'RemoteEventLogSvc-In-TCP', 'RemoteEventLogSvc-RPCSS-In-TCP'
# IPAMUG in Event Log Readers (the domain's group: this is a DC)
if (-not (Get-ADGroupMember -Identity 'S-1-5-32-573' | Where-Object { $_.SID -eq $ipamug.SID })) {
	Add-ADGroupMember -Identity 'S-1-5-32-573' -Members $ipamug
}
# read (0x1) for IPAMUG in the DNS Server log's CustomSD
$key = 'HKLM:\SYSTEM\CurrentControlSet\Services\EventLog\DNS Server'
$sd = (Get-ItemProperty -Path $key -Name 'CustomSD' -ErrorAction SilentlyContinue).CustomSD
if (-not $sd) { $sd = 'O:BAG:SYD:(A;;0xf0007;;;SY)(A;;0x7;;;BA)(A;;0x7;;;SO)(A;;0x3;;;IU)(A;;0x3;;;SU)(A;;0x3;;;S-1-5-3)(A;;0x3;;;S-1-5-33)(A;;0x1;;;S-1-5-32-573)' }
$ace = '(A;;0x1;;;' + $ipamug.SID.Value + ')'
if (-not $sd.Contains($ace)) {
	Set-ItemProperty -Path $key -Name 'CustomSD' -Value ($sd + $ace)
}
