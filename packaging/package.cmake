# The Debian package: `cpack -G DEB` in the build directory (after a full build) makes fwcert_VERSION_ARCH.deb from
# the same install rules as `cmake --install`, with the prefix /usr. VERSION is PROJECT_VERSION, which is also what
# every tool's --version prints (fwcert::version()), then the Debian revision: 0.1.0-1 is the first package of 0.1.0
# (a package that is not Debian-native keeps its changelog in changelog.Debian.gz). packaging/changelog must have an
# entry for that version.
set(FWCERT_DEBIAN_REVISION 1)
set(FWCERT_DEBIAN_VERSION ${PROJECT_VERSION}-${FWCERT_DEBIAN_REVISION})

set(FWCERT_MAINTAINER "fwcert maintainers <maintainers@users.noreply.r-seed-5498e32c.example>")

# The changelog's latest entry names the version being packaged; a project(VERSION) bumped without an entry is said
# here (and fails tests/package/changelog_version.cmake).
file(READ ${CMAKE_CURRENT_LIST_DIR}/changelog FWCERT_CHANGELOG)
if(NOT FWCERT_CHANGELOG MATCHES "^fwcert \\(${FWCERT_DEBIAN_VERSION}\\) ")
  message(WARNING "packaging/changelog: the latest entry is not for ${FWCERT_DEBIAN_VERSION}: add one before packaging")
endif()

# /usr/share/doc/fwcert: the machine-readable copyright file and the changelog, compressed the way Debian policy
# asks (gzip -9n: no name or time stamp, so the package is reproducible).
set(FWCERT_CHANGELOG_GZ ${CMAKE_CURRENT_BINARY_DIR}/packaging/changelog.Debian.gz)
add_custom_command(
  OUTPUT ${FWCERT_CHANGELOG_GZ}
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_LIST_DIR}/changelog
          ${CMAKE_CURRENT_BINARY_DIR}/packaging/changelog.Debian
  COMMAND gzip -9nf ${CMAKE_CURRENT_BINARY_DIR}/packaging/changelog.Debian
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/changelog
  COMMENT "Compressing packaging/changelog"
  VERBATIM)
add_custom_target(debian_changelog ALL DEPENDS ${FWCERT_CHANGELOG_GZ})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/copyright ${FWCERT_CHANGELOG_GZ} DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fwcert)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${FWCERT_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TLS certificates and private keys in BMC firmware images")
set(CPACK_PACKAGE_DESCRIPTION
    "fwcert tells which TLS certificates and private keys a BMC firmware image
carries, and when each stops working, before the image is flashed onto a
fleet. fwwalk finds and validates every known structure in an image (CramFS,
uImage, FIT, squashfs, JFFS2, UBI, compressed streams, archives, keys),
fwextract unpacks it in-process without root, and fwcert scans it: every
certificate, key and keystore, dates judged at a chosen clock, keys paired
with certificates, roles from the firmware's own configuration. A SQLite
catalog of many images exports the expiry dates as an RFC 5545 calendar.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${FWCERT_DEBIAN_REVISION})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FWCERT_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the shared libraries the binaries load (dpkg-shlibdeps, in dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Opened with dlopen by probe and fleet check (lib/src/live/dynamic.hpp), so dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.62.0), libfreeipmi17 (>= 1.6.0)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# postinst links the bash completion where bash-completion reads it at start-up; prerm takes the link away.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/postinst ${CMAKE_CURRENT_LIST_DIR}/prerm)
include(CPack)
