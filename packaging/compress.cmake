# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): what dh_compress does
# for a debhelper package.  Debian wants manual pages gzip'ed (lintian:
# uncompressed-manual-page is an error); doc/ installs them as generated,
# which is right for `cmake --install`, so the package compresses them in
# its staging tree.  gzip -n: no name or time stamp, reproducible.
file(GLOB_RECURSE pages LIST_DIRECTORIES false
	"${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/*")
foreach(page IN LISTS pages)
	if(page MATCHES "\\.gz$" OR IS_SYMLINK "${page}")
		continue()
	endif()
	execute_process(COMMAND gzip -9 -n -f "${page}"
		RESULT_VARIABLE rc)
	if(rc)
		message(FATAL_ERROR "gzip ${page}: exit ${rc}")
	endif()
endforeach()
