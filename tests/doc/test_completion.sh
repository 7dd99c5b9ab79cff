#!/bin/bash
# contrib/completion/ipamctl.bash, driven as bash drives it: commands,
# options (global, per command, per gpo subcommand), subcommands, option
# values, discovery domains from the desired state, and server names
# from a state database made here (db init, then inventory rows with
# sqlite3, as discovery would leave them).  Without a database the
# names are simply none, and nothing is printed on stderr.
#
#   test_completion.sh IPAMCTL SRCDIR
set -u
ipamctl=$1 src=$2
script=$src/contrib/completion/ipamctl.bash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PATH="$(dirname "$ipamctl"):$PATH"
unset IPAMCTL_CONFIG
export HOME=$tmp XDG_STATE_HOME=$tmp/state
fails=0

# The words completed for the command line given, cursor on the last.
complete_words()
{
	bash --norc --noprofile -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_ipamctl
		((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}"' _ "$script" "$@" \
		2>"$tmp/stderr"
	if [[ -s $tmp/stderr ]]; then
		echo "FAIL: stderr for '$*': $(cat "$tmp/stderr")"
		fails=$((fails + 1))
	fi
}

# expect "WORDS..." -- COMMAND LINE: exactly these words (sorted).
expect()
{
	local want=$1 got
	shift 2
	got=$(complete_words "$@" | sort | tr '\n' ' ')
	want=$(for w in $want; do echo "$w"; done | sort | tr '\n' ' ')
	if [[ $got != "$want" ]]; then
		echo "FAIL: '$*': got '$got', want '$want'"
		fails=$((fails + 1))
	fi
}

# expect_has "WORDS..." -- COMMAND LINE: at least these words.
expect_has()
{
	local want=$1 got w
	shift 2
	got=" $(complete_words "$@" | tr '\n' ' ') "
	for w in $want; do
		if [[ $got != *" $w "* ]]; then
			echo "FAIL: '$*': no '$w' in '$got'"
			fails=$((fails + 1))
		fi
	done
}

expect "plan provision" -- ipamctl p
expect_has "validate discover inventory gpo db reconcile status help" -- ipamctl ''
expect "drift" -- ipamctl -v dr
expect "--detailed-exitcode" -- ipamctl plan --det
expect "--auto-approve --allow-removals --allow-empty" -- ipamctl apply --a
expect "--dry-run --domain --db" -- ipamctl gpo filter --d
expect "--domain --db" -- ipamctl gpo show --d
expect "--add --add-file" -- ipamctl gpo filter --add
expect "--version --verbose" -- ipamctl --ver
expect "--verbose" -- ipamctl discover --ver
expect "show filter" -- ipamctl gpo ''
expect "show" -- ipamctl inventory s
expect "dhcp dns dc_nps" -- ipamctl gpo filter --gpo ''
expect "json" -- ipamctl -o j
expect "managed" -- ipamctl inventory --manageability ma
expect "dc dns dhcp nps" -- ipamctl inventory --role ''
expect "discover" -- ipamctl help disc

# Domains from the desired state (-c), whatever the option's spelling.
cfg=$src/examples/two-domains.yaml
expect "branch.example.test corp.example.test" -- \
	ipamctl -c "$cfg" discover --domain ''
expect "corp.example.test" -- ipamctl discover -c "$cfg" -D co
expect "corp.example.test" -- ipamctl --config "$cfg" provision --domain c

# No database: no names, and no noise (stderr is checked).
expect "" -- ipamctl --db "$tmp/none.db" inventory show ''
expect "" -- ipamctl inventory show ''

# A database with an inventory.
db=$tmp/state.db
if ! "$ipamctl" --db "sqlite:$db" db init -c "$cfg" >"$tmp/out" 2>&1; then
	echo "FAIL: db init: $(cat "$tmp/out")"
	exit 1
fi
sqlite3 "$db" "
	INSERT INTO domains (name) VALUES ('corp.example.test');
	INSERT INTO domains (name) VALUES ('branch.example.test');
	INSERT INTO servers (name, domain_id, roles)
	VALUES ('dc1.corp.example.test', 1, 'dc,dns'),
	       ('dhcp1.corp.example.test', 1, 'dhcp'),
	       ('dc1.branch.example.test', 2, 'dc');" || exit 1
expect "dc1.corp.example.test dc1.branch.example.test dhcp1.corp.example.test" -- \
	ipamctl --db "$db" inventory show ''
expect "dhcp1.corp.example.test" -- ipamctl inventory --db "$db" show dh
# sqlite:PATH, split at ':' as bash splits words.
expect "dc1.corp.example.test dc1.branch.example.test" -- \
	ipamctl --db sqlite : "$db" inventory show dc
expect "dc1.corp.example.test" -- \
	ipamctl --db "$db" gpo filter --domain corp.example.test --add dc1.c
# The inventory's domains too, without a desired state.
expect "branch.example.test corp.example.test" -- \
	ipamctl --db "$db" discover --domain ''

if ((fails)); then
	echo "$fails failure(s)"
	exit 1
fi
echo ok
