# dc2.corp.example.test: IPAM access Blocked (Unblock IPAM Access)
# Run on dc2.corp.example.test in an elevated PowerShell (a local administrator).
# These are the settings the IPAM GPOs carry; IPAMUG must hold the IPAM server's account IPAM1$.
# Get-ADGroup needs the ActiveDirectory module (RSAT-AD-PowerShell on a member server).
$domain = 'corp.example.test'
$ipamug = Get-ADGroup -Identity 'IPAMUG' -Server $domain

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
