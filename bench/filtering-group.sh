# bench/filtering-group.sh: the group mode of bench/filtering (sourced by it
# with --group, after its helpers; see its header).  Exits.
# shellcheck shell=bash disable=SC2154

# members GROUP: how many values its `member` holds (ldapsearch; Samba
# hands over every value, no ranged retrieval)
members() {
	ldapq -b "CN=$1,CN=Users,$basedn" -s base member | grep -c '^member:' ||
		true
}

mount_tmpfs
tag_lab="$(findmnt -n -o FSTYPE --target "$lab_root") lab"
log "group mode, $tag_lab: bringing up the lab with $n computers under $lab_root"
lab_up "$lab_root"
gcfg=$work/group.yaml
sed 's/^  gpoPrefix: IPAM1$/&\n  filtering: group/' \
	"$IPAM_LAB_CONFIG/ipamctl.yaml" >"$gcfg"
grep -q '^  filtering: group$' "$gcfg" || die "no gpoPrefix line to follow in $IPAM_LAB_CONFIG/ipamctl.yaml"

# ---- provision in group mode ---------------------------------------------------
cfg=$gcfg
ipam dbinit db init || { cat "$work/dbinit.err" >&2; die "db init failed"; }
u0=$(usn)
ipam provision provision --domain "$domain" ||
	{ cat "$work/provision.err" >&2; die "provision failed"; }
w_prov=$(($(usn) - u0))
t_prov=$(cat "$work/provision.t")
declare -A gdn base_sha cnt gsid
for g in DHCP DNS DC_NPS; do
	gdn[$g]=$(ldapq -b "CN=Policies,CN=System,$basedn" \
		"(&(objectClass=groupPolicyContainer)(displayName=IPAM1_$g))" dn |
		sed -n 's/^dn: //p')
	[ -n "${gdn[$g]}" ] || die "provision made no GPO IPAM1_$g"
	base_sha[$g]=$(jf "$(dacl "${gdn[$g]}")" sha)
	gt=$(ldapq -b "CN=IPAM1_${g}_Servers,CN=Users,$basedn" -s base groupType |
		sed -n 's/^groupType: //p')
	check "$([ "$gt" = -2147483644 ] && echo 1)" \
		"provision made IPAM1_${g}_Servers, a domain-local security group (groupType $gt)"
done
ipam show gpo show --domain "$domain" -o json ||
	{ cat "$work/show.err" >&2; die "gpo show failed"; }
for g in DHCP DNS DC_NPS; do
	in=$(python3 -c 'import json, sys
for g in json.load(open(sys.argv[1]))["domains"][0]["gpos"]:
    if g["name"] == sys.argv[2]:
        f = g["filterGroup"]
        print(str(f["inFiltering"]).lower(), len(f["members"]))' \
		"$work/show.out" "IPAM1_$g")
	check "$([ "$in" = "true 0" ] && echo 1)" \
		"gpo show: IPAM1_${g}_Servers in IPAM1_$g's filtering, no member yet ($in)"
done

# ---- the split, and computer mode's refusal --------------------------------------
third=$(((n + 2) / 3))
i=0
for g in DHCP DNS DC_NPS; do
	sed -n "$((i * third + 1)),$(((i + 1) * third))p" "$work/bench.map" >"$work/g.$g"
	awk '{ print $1 }' "$work/g.$g" >"$work/g.$g.names"
	awk '{ print $2 }' "$work/g.$g" >"$work/g.$g.sam"
	cnt[$g]=$(wc -l <"$work/g.$g")
	i=$((i + 1))
done
split_desc="${cnt[DHCP]} → IPAM1_DHCP, ${cnt[DNS]} → IPAM1_DNS, ${cnt[DC_NPS]} → IPAM1_DC_NPS"
cfg=
u0=$(usn)
filter refuse dhcp --add-file "$work/g.DHCP.names" && rc=0 || rc=$?
u1=$(usn)
refused="no (${cnt[DHCP]} fit)"
if [ "$rc" != 0 ]; then
	refused="yes: $(tr '\n' ' ' <"$work/refuse.err" | cut -c1-240)"
fi
if [ "${cnt[DHCP]}" -gt 707 ]; then
	check "$([ "$rc" = 1 ] && grep -Eqi '65535|65,535|64 ?KiB|limit' "$work/refuse.err" && [ "$u0" = "$u1" ] && echo 1)" \
		"computer mode: ${cnt[DHCP]} computers into IPAM1_DHCP refused (exit $rc), naming the limit, DC USN +$((u1 - u0))"
else
	notes+=("computer mode took ${cnt[DHCP]} computers (under the ACL limit): run with N > 2121 to see it refuse")
	[ "$rc" != 0 ] || filter unrefuse dhcp --remove-file "$work/g.DHCP.names" ||
		die "gpo filter --remove-file (computer mode) failed"
fi
cfg=$gcfg

# ---- ipamctl: into the groups and out again ---------------------------------------
# run_ipam OP: each third into (or out of) its group; sets t lw du
run_ipam() {
	local op=$1 g tag w k past=${1%e}ed want
	t=0 lw=0
	u0=$(usn)
	for g in DHCP DNS DC_NPS; do
		tag=g$op-$g
		filter "$tag" "$(role "$g")" "--$op-file" "$work/g.$g.names" ||
			{ cat "$work/$tag.err" >&2; die "gpo filter --$op-file ($g) failed"; }
		t=$(calc "$t + $(cat "$work/$tag.t")")
		w=$(sdpy get "$work/$tag.out" ldapWrites)
		k=$(sdpy get "$work/$tag.out" "$past")
		lw=$((lw + ${w//[!0-9]/0}))
		want=$(((cnt[$g] + 999) / 1000))
		check "$([ "$k" = "${cnt[$g]}" ] && [ "$w" = "$want" ] && echo 1)" \
			"ipamctl $op ${cnt[$g]} (IPAM1_${g}_Servers): $past $k, ldapWrites $w (batches of 1,000: $want), $(cat "$work/$tag.t") s"
	done
	du=$(($(usn) - u0))
}
# groups_ok WANT TEXT: each group holds WANT (full: its third; 0), each DACL
# is the provisioned one
groups_ok() {
	local g m ok=1 got=
	for g in DHCP DNS DC_NPS; do
		m=$(members "IPAM1_${g}_Servers")
		got+=" $g:$m"
		if [ "$1" = full ]; then [ "$m" = "${cnt[$g]}" ] || ok=0; else [ "$m" = 0 ] || ok=0; fi
		[ "$(jf "$(dacl "${gdn[$g]}")" sha)" = "${base_sha[$g]}" ] || ok=0
	done
	check "$ok" "$2: members$got; every DACL byte for byte the provisioned one"
}
log "group mode: ipamctl, $split_desc"
run_ipam add
t_gadd=$t lw_gadd=$lw w_gadd=$du
groups_ok full "after ipamctl's adds"
samba aclcheck >"$work/aclcheck.out" 2>&1 && rc=0 || rc=$?
check "$([ $rc = 0 ] && [ ! -s "$work/aclcheck.out" ] && echo 1)" \
	"samba-tool gpo aclcheck with the groups filled: exit $rc"
run_ipam remove
t_grm=$t lw_grm=$lw w_grm=$du
groups_ok empty "after ipamctl's removals"

# ---- samba-tool group addmembers / removemembers, the same membership -------------
log "group mode: samba-tool group addmembers/removemembers"
st=$work/st
for op in addmembers removemembers; do
	u0=$(usn)
	for g in DHCP DNS DC_NPS; do
		samba "$op" "$st" "IPAM1_${g}_Servers" "$work/g.$g.sam" ||
			die "samba-tool group $op failed: $(tail -c 300 "$st/samba.log")"
	done
	du=$(($(usn) - u0))
	if [ "$op" = addmembers ]; then w_sadd=$du; groups_ok full "after samba-tool group addmembers"; else w_srm=$du; groups_ok empty "after samba-tool group removemembers"; fi
done
sum() { awk '{ s += $1 } END { printf "%.6f\n", s }' "$@"; }
t_sadd=$(sum "$st/addmembers.t")
t_srm=$(sum "$st/removemembers.t")

# ---- results -----------------------------------------------------------------------
runtime=$(calc "$(date +%s.%N) - $t_script")
f2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
f3() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", b / a }'; }
cat <<EOF

## bench/filtering --group: $n servers, $domain, $(samba-tool --version)

Lab: SYSVOL on $(findmnt -n -o FSTYPE --target "$lab_root") ($lab_root), up with $n seeded computers in $(f2 "$seed") s.
provisioning.filtering: group.  Split: $split_desc.  One run each.
LDAP writes = objects written as counted by the DC (highestCommittedUSN); for ipamctl also its ldapWrites.

| operation | ipamctl s | samba-tool s | samba-tool / ipamctl | LDAP writes ipamctl (ldapWrites) | LDAP writes samba-tool |
| --- | ---: | ---: | ---: | ---: | ---: |
| provision (IPAMUG, 3 GPOs, 3 filter groups with their ACE) | $(f3 "$t_prov") | – | – | $w_prov | – |
| add $n servers (3 × gpo filter --add-file; 3 × samba-tool group addmembers) | $(f3 "$t_gadd") | $(f3 "$t_sadd") | $(ratio "$t_gadd" "$t_sadd") | $w_gadd ($lw_gadd) | $w_sadd |
| remove them (3 × gpo filter --remove-file; 3 × samba-tool group removemembers) | $(f3 "$t_grm") | $(f3 "$t_srm") | $(ratio "$t_grm" "$t_srm") | $w_grm ($lw_grm) | $w_srm |

Computer mode, ${cnt[DHCP]} computers into IPAM1_DHCP: refused: $refused

### Checks

$(printf '%s\n' "${checks[@]}")
$([ ${#notes[@]} -eq 0 ] || printf -- '- note: %s\n' "${notes[@]}")

Runtime: $(f2 "$runtime") s.
EOF
exit "$failed"
