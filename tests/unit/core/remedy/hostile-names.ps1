# o'hara\n\u202eRemove-Item C:\.corp.example.test: IPAM access Blocked (Unblock IPAM Access)
# Run on o'hara\n\u202eRemove-Item C:\.corp.example.test in an elevated PowerShell (a local administrator).
# These are the settings the IPAM GPOs carry; IPAMUG must hold the IPAM server's account IPAM1$\r\nx.
$domain = 'corp.example.test''; Stop-Computer; '''
$member = 'CO''RP\IPAMUG'

# DHCP audit share: Blocked (logon failure\n$(evil))
# The share dhcpaudit on the DHCP audit-log folder, read for IPAMUG, over SMB.
# firewall: File and Printer Sharing (NB-Session-In), File and Printer Sharing (SMB-In)
Enable-NetFirewallRule -Name 'FPS-NB_Session-In-TCP', 'FPS-SMB-In-TCP'
$path = (Get-DhcpServerAuditLog).Path
if (-not (Get-SmbShare -Name 'dhcpaudit' -ErrorAction SilentlyContinue)) {
	New-SmbShare -Name 'dhcpaudit' -Path $path -ReadAccess $member -Description 'IPAM DHCP audit logs'
} else {
	Grant-SmbShareAccess -Name 'dhcpaudit' -AccountName $member -AccessRight Read -Force
}
