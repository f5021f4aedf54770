# fwcert clock as a user runs it: the sample at a 2015 BMC clock and after 2026-05-17, JSON, --db, usage errors.
# Every clock is pinned.
function(run expect_rc)
  execute_process(COMMAND ${FWCERT} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL ${expect_rc})
    message(FATAL_ERROR "fwcert ${ARGN}: expected exit ${expect_rc}, got ${rc}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()
function(expect text)
  string(FIND "${out}" "${text}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "output lacks '${text}':\n${out}")
  endif()
endfunction()
set(sample ${SRC}/samples/bmc-sample.bin)

# The Supermicro incident: the BMC clock says 2015.
run(1 clock ${sample} --bmc-clock 2015-06-01 --now 2026-12-07)
expect("safe BMC clock window: 2016-05-19T09:46:36Z .. 2026-05-17T09:46:36Z  [BMC clock OUTSIDE]")
expect("not-yet-valid at the BMC clock 2015-06-01T00:00:00Z: the iKVM client certificate (CN=IPMI)")
expect("ALERT 42 bad_certificate sent by the BMC (X509_V_ERR_CERT_NOT_YET_VALID)")
expect("iKVM console refuses to connect: the BMC clock 2015-06-01 is before 2016-05-19T09:46:36Z, when the iKVM client certificate becomes valid; fix the BMC clock (NTP), not the certificate")
expect("verified by workstations, browsers and monitoring, at their own clock: the BMC clock does not break it")
expect("image-wide safe BMC clock window: 2016-05-19T09:46:36Z .. 2026-05-17T09:46:36Z")

# After 2026-05-17T09:46:36Z: expired, alert 45.
run(1 clock ${sample} --bmc-clock 2026-05-17T09:46:37Z --now 2026-12-07)
expect("ALERT 45 certificate_expired sent by the BMC (X509_V_ERR_CERT_HAS_EXPIRED)")

run(1 clock ${sample} --bmc-clock 2015-06-01 --now 2026-12-07 --format json)
string(JSON from GET "${out}" inputs 0 bmc_window from)
string(JSON alert GET "${out}" inputs 0 services 0 certificates 0 tls_alert)
if(NOT from STREQUAL "2016-05-19T09:46:36Z" OR NOT alert EQUAL 42)
  message(FATAL_ERROR "json: window from ${from}, alert ${alert}")
endif()

# --db: every image of the catalog.
file(REMOVE_RECURSE ${WORK}/clock-db)
file(MAKE_DIRECTORY ${WORK}/clock-db)
run(0 catalog add --db ${WORK}/clock-db/c.sqlite --now 2026-12-07 ${sample} ${SRC}/samples/bmc-sample-be.bin)
run(1 clock --db ${WORK}/clock-db/c.sqlite --bmc-clock 2015-06-01 --now 2026-12-07)
expect("bmc-sample-be.bin\n")
expect("bmc-sample.bin\n")
expect("ALERT 42 bad_certificate sent by the BMC")

run(2 clock)
run(2 clock --db ${WORK}/clock-db/missing.sqlite)
run(2 clock ${sample} --bmc-clock yesterday-ish)
run(2 clock ${SRC}/no/such/image.bin --now 2026-12-07)
