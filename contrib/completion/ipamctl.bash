# bash completion for ipamctl                              -*- shell-script -*-
#
# Commands, options and subcommands come from ipamctl itself (the hidden
# `ipamctl __complete`, which reads the command table --help prints);
# discovery domains and inventory server names from the desired state
# and the state database named on the command line (-c, --db) or the
# usual way (IPAMCTL_CONFIG, the defaults).  Needs no bash-completion
# helpers, but installs where bash-completion looks for it.

# Run the helper with the words' -c and --db, quietly.
_ipamctl_ask()
{
	"$_ipamctl_bin" "${_ipamctl_global[@]}" __complete "$@" 2>/dev/null
}

# COMPREPLY: the words given, else those on stdin, that start with $cur.
_ipamctl_reply()
{
	local w
	if (($#)); then
		for w; do
			[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
		done
		return 0
	fi
	while IFS= read -r w; do
		[[ $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
	return 0
}

_ipamctl_files()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -f -- "$cur"))
}

_ipamctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= sub= i w
	local _ipamctl_bin=${COMP_WORDS[0]}
	local -a _ipamctl_global=() subs=()
	local argopts

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--opt=value" is split at '=' by COMP_WORDBREAKS.
	if [[ $cur == = ]]; then
		cur= prev=${COMP_WORDS[COMP_CWORD - 1]}
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# The command, its subcommand, and -c/--db for the helper; skipping
	# the values of options that take one.
	argopts=" $(_ipamctl_ask arg-options | tr '\n' ' ') "
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-c | --config | --db)
			# The value, put together again where COMP_WORDBREAKS
			# split it at ':' (sqlite:PATH).
			local v=${COMP_WORDS[i + 1]}
			((i++))
			while ((i + 2 < COMP_CWORD)) &&
				[[ ${COMP_WORDS[i + 1]} == : ]]; do
				v+=:${COMP_WORDS[i + 2]}
				((i += 2))
			done
			((i < COMP_CWORD)) && _ipamctl_global+=("$w" "${v/#\~/$HOME}")
			continue
			;;
		--config=* | --db=*)
			_ipamctl_global+=("$w")
			continue
			;;
		-*)
			[[ $argopts == *" $w "* ]] && ((i++))
			continue
			;;
		esac
		if [[ -z $cmd ]]; then
			cmd=$w
			argopts=" $(_ipamctl_ask arg-options "$cmd" | tr '\n' ' ') "
			mapfile -t subs < <(_ipamctl_ask subcommands "$cmd")
		elif [[ -z $sub && " ${subs[*]} " == *" $w "* ]]; then
			sub=$w
			argopts=" $(_ipamctl_ask arg-options "$cmd" "$sub" |
				tr '\n' ' ') "
		fi
	done

	# The value of an option.
	if [[ $prev == -* && $argopts == *" $prev "* ]]; then
		case $prev in
		-D | --domain) _ipamctl_reply < <(_ipamctl_ask domains) ;;
		--add | --remove | -S | --server)
			_ipamctl_reply < <(_ipamctl_ask servers)
			;;
		-o | --output)
			_ipamctl_reply text json yaml markdown html
			;;
		-R | --role) _ipamctl_reply dc dns dhcp nps ;;
		-M | --manageability)
			_ipamctl_reply managed unmanaged unspecified
			;;
		--gpo) _ipamctl_reply dhcp dns dc_nps ;;
		-c | --config | --db | --out | --add-file | --remove-file | \
			--cache | --repo)
			_ipamctl_files
			;;
		esac
		return 0
	fi

	if [[ $cur == -* ]]; then
		_ipamctl_reply < <(_ipamctl_ask options ${cmd:+"$cmd"} \
			${sub:+"$sub"})
	elif [[ -z $cmd ]]; then
		_ipamctl_reply < <(_ipamctl_ask commands)
	elif [[ ${#subs[@]} -gt 0 && -z $sub ]]; then
		_ipamctl_reply "${subs[@]}"
	elif [[ $cmd == inventory && $sub == show ]]; then
		_ipamctl_reply < <(_ipamctl_ask servers)
	elif [[ $cmd == help ]]; then
		_ipamctl_reply < <(_ipamctl_ask commands)
	elif [[ $cmd == apply ]]; then
		_ipamctl_files
	fi
	return 0
}

complete -F _ipamctl ipamctl
