# The default scan table shows what was found (issue 13, item 5): findings, summaries, --fail-on reasons, the width.
# The clock is pinned. With -DCORPUS_ONLY=1 it checks the Supermicro OpenWSMAN certificate of ../shared/corpus
# instead, and says SKIPPED when the corpus is absent.
function(run expect_rc)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=COLUMNS ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL ${expect_rc})
    message(FATAL_ERROR "${ARGN}: expected exit ${expect_rc}, got ${rc}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()
function(expect text haystack what)
  string(FIND "${haystack}" "${text}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${what} lacks '${text}':\n${haystack}")
  endif()
endfunction()

if(CORPUS_ONLY)
  set(wsman ${SRC}/../shared/corpus/supermicro_ipmi_firmware/SDK/OpenWSMAN/openwsman/cp_file/servercert.pem)
  if(NOT EXISTS ${wsman})
    message(STATUS "SKIPPED: corpus absent (${wsman})")
    return()
  endif()
  run(0 ${FWCERT} scan --now 2026-12-07 ${wsman})
  foreach(text "notBefore 1970" "weak key RSA-1024" "SHA-1 signature" "1 expired" "1 weak key" "1 weak signature"
               "1 notBefore in 1970")
    expect("${text}" "${out}" "OpenWSMAN table")
  endforeach()
  return()
endif()

set(sample ${SRC}/samples/bmc-sample.bin)
# Not a terminal and no COLUMNS: 120 columns.
run(0 ${FWCERT} scan --now 2026-12-07 ${sample})
expect("Summary: 4 certificates, 1 expired, 1 not yet valid, 5 private keys shipped" "${out}" "sample table")
expect("FINDINGS" "${out}" "sample table")
# Square brackets would stop CMake from splitting the list: make them bars first.
string(REGEX REPLACE "[][]" "|" flat "${out}")
string(REPLACE "\n" ";" lines "${flat}")
foreach(l IN LISTS lines)
  string(LENGTH "${l}" n)
  if(l MATCHES "^  (STATUS|expired|valid|not-yet-valid) " AND n GREATER 120)
    message(FATAL_ERROR "row wider than 120 columns (${n}): ${l}")
  endif()
endforeach()

# COLUMNS is followed; --wide shows every cell in full.
run(0 ${FWCERT} scan --now 2026-12-07 ${sample})
execute_process(COMMAND ${CMAKE_COMMAND} -E env COLUMNS=100 ${FWCERT} scan --now 2026-12-07 ${sample}
                OUTPUT_VARIABLE narrow)
string(REGEX REPLACE "[][]" "|" flat "${narrow}")
string(REPLACE "\n" ";" lines "${flat}")
foreach(l IN LISTS lines)
  string(LENGTH "${l}" n)
  if(l MATCHES "^  (STATUS|expired|valid|not-yet-valid) " AND n GREATER 100)
    message(FATAL_ERROR "COLUMNS=100: row wider than 100 columns (${n}): ${l}")
  endif()
endforeach()
run(0 ${FWCERT} scan --now 2026-12-07 --wide ${sample})
expect("stunnel [ikvm] server certificate (accept 5900 -> connect 127.0.0.1:5901) +1" "${out}" "--wide table")
expect("cramfs@0x80000:/etc/stunnel/server.crt +2" "${out}" "--wide table")

# --fail-on says on stderr what matched.
run(1 ${FWCERT} scan --now 2026-12-07 --fail-on expired,private-key,weak ${sample})
expect("--fail-on matched in ${sample}: expired (1 certificate), private-key (5 keys)" "${err}" "--fail-on stderr")
run(0 ${FWCERT} scan --now 2026-01-01 --fail-on expired ${sample})
string(FIND "${err}" "matched" pos)
if(NOT pos EQUAL -1)
  message(FATAL_ERROR "--fail-on reported a match that exit 0 denies: ${err}")
endif()

# SARIF: an unreadable input fails the execution and is named.
run(2 ${FWCERT} scan --now 2026-12-07 --format sarif ${sample} ${SRC}/no-such-image.bin)
string(JSON ok GET "${out}" runs 0 invocations 0 executionSuccessful)
if(ok)
  message(FATAL_ERROR "SARIF executionSuccessful is ${ok} with an unreadable input")
endif()
string(JSON note GET "${out}" runs 0 invocations 0 toolExecutionNotifications 0 message text)
expect("no-such-image.bin" "${note}" "SARIF notification")
