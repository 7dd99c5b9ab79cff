# dns3.corp.example.test: IPAM access Blocked (Unblock IPAM Access)
# Run on dns3.corp.example.test in an elevated PowerShell (a local administrator).
# These are the settings the IPAM GPOs carry; IPAMUG must hold the IPAM server's account IPAM1$.
# Get-ADGroup needs the ActiveDirectory module (RSAT-AD-PowerShell on a member server).
$domain = 'corp.example.test'
$ipamug = Get-ADGroup -Identity 'IPAMUG' -Server $domain
$member = $ipamug.SID.Translate([System.Security.Principal.NTAccount]).Value

# DNS RPC: Blocked (a DNS server that is not a DC needs local Administrators)
# The DNS Server management RPC.  A DNS server that is not a DC reads no DNS ACL from AD: IPAMUG needs its local Administrators, as the product documents, then a DNS Server restart.
# firewall: RPC (TCP, Incoming), RPC Endpoint Mapper (TCP, Incoming), Remote Service Management (RPC), Remote Service Management (RPC-EPMAP)
Enable-NetFirewallRule -Name 'DNSSrv-RPC-TCP-In', 'DNSSrv-RPCEPMAP-TCP-In', 'RemoteSvcAdmin-In-TCP', 'RemoteSvcAdmin-RPCSS-In-TCP'
# IPAMUG in Administrators
if (-not (Get-LocalGroupMember -SID 'S-1-5-32-544' -Member $member -ErrorAction SilentlyContinue)) {
	Add-LocalGroupMember -SID 'S-1-5-32-544' -Member $member
}
Restart-Service -Name 'DNS'

# Event log: Not checked (timed out after 10 s): ipamctl verify again once the steps above are done
