# packaging/changelog's latest entry is for the project's version (the one place it is set: project(VERSION) in
# CMakeLists.txt, which --version prints and CPack packages) with a Debian revision (VERSION-N), and is well formed: a
# version bumped without a changelog entry fails here.
# Usage: cmake -DSRC=... -DVERSION=... -DREVISION=... -P changelog_version.cmake
cmake_minimum_required(VERSION 3.22)
file(READ ${SRC}/packaging/changelog text)
if(NOT text MATCHES "^fwcert \\(([^)]+)-([0-9]+)\\) [a-z-]+; urgency=[a-z]+\n")
  message(FATAL_ERROR "packaging/changelog: the first line is not 'fwcert (VERSION-N) DIST; urgency=U'")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL VERSION OR NOT CMAKE_MATCH_2 STREQUAL REVISION)
  message(FATAL_ERROR "packaging/changelog: the latest entry is for ${CMAKE_MATCH_1}-${CMAKE_MATCH_2}, the package is "
                      "${VERSION}-${REVISION} (project(VERSION) in CMakeLists.txt, FWCERT_DEBIAN_REVISION in "
                      "packaging/package.cmake)")
endif()
# The entry's trailer: " -- NAME <MAIL>  RFC 5322 date".
set(date "[A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] [0-9][0-9][0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] [+-][0-9]+")
if(NOT text MATCHES "\n\n  \\* [^\n]+\n.*\n -- [^<\n]+ <[^>\n]+>  ${date}\n")
  message(FATAL_ERROR "packaging/changelog: the latest entry has no '  * change' line, "
                      "or no ' -- NAME <MAIL>  DATE' line")
endif()
message(STATUS "packaging/changelog: latest entry ${VERSION}-${REVISION}")
