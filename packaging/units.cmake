# The systemd units as installed: examples/ipamctl-reconcile.{service,timer}
# with the path of the ipamctl that is installed with them.  The examples
# are the one source (they name /usr/local/bin, a source install's); both
# the install rule (at install time, when the prefix is known: cpack
# installs into /usr whatever the build was configured with) and the
# build tree's copy for the lab test use this.

# The directory systemd reads units from for a prefix: Debian 12 keeps
# packaged units in /lib (usrmerge or not; lintian wants them there), and
# systemd also reads <prefix>/lib/systemd/system for /usr/local.
function(ipam_unit_dir out prefix)
	if(prefix STREQUAL "/usr")
		set(${out} "/lib/systemd/system" PARENT_SCOPE)
	else()
		set(${out} "${prefix}/lib/systemd/system" PARENT_SCOPE)
	endif()
endfunction()

# Write unit src to dst with ipamctl at bindir, its first comment naming
# where it is installed (unitdir).
function(ipam_unit_write src dst bindir unitdir)
	file(READ "${src}" text)
	string(REPLACE "/usr/local/bin/ipamctl" "${bindir}/ipamctl" text
		"${text}")
	string(REGEX REPLACE "^# /etc/systemd/system/" "# ${unitdir}/" text
		"${text}")
	file(WRITE "${dst}" "${text}")
endfunction()
