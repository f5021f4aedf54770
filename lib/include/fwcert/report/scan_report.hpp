// Reporters for certificate scan results: a table for people, JSON, CSV and SARIF 2.1.0 for tools.
//
// All four keep the order of the reports and of their certificates (the scan sorts by notAfter). Text that comes from
// the firmware (names, paths, subjects) is untrusted: the table escapes control characters and invalid UTF-8 as
// \xNN so nothing reaches the terminal raw; JSON, CSV and SARIF replace invalid UTF-8 bytes with U+FFFD (JSON
// escapes control characters itself). The JSON layout is documented in docs/scan-json.md.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "fwcert/certs/records.hpp"

namespace fwcert {

// Version of the JSON layout written by scan_to_json ("format_version"); bumped on incompatible changes only.
inline constexpr int kScanJsonFormatVersion = 1;

// For people: per input a header (path, clock, warning window), one row per certificate (STATUS, NOT AFTER, DAYS, CN,
// ROLE, WHERE, KEY), then the private keys and the problems. `color` adds ANSI colours to the status cell (red
// expired, yellow expiring / not-yet-valid, magenta invalid-date, green valid). The caller decides: colour only when
// the stream is a terminal and NO_COLOR (https://no-color.org) is unset or empty, and never when asked not to.
void write_scan_table(std::ostream& out, const std::vector<ScanReport>& reports, bool color);

// The documented JSON document (docs/scan-json.md).
nlohmann::json scan_to_json(const std::vector<ScanReport>& reports);

// RFC 4180 CSV with a header row and CRLF line ends; one row per certificate and location. Text cells that a
// spreadsheet would run as a formula (first character = + - @ TAB CR) get a leading apostrophe.
void write_scan_csv(std::ostream& out, const std::vector<ScanReport>& reports);

// SARIF 2.1.0, one run: rules FWCERT001..FWCERT006, one result per finding (valid certificates give none), scan
// problems as tool execution notifications.
nlohmann::json scan_to_sarif(const std::vector<ScanReport>& reports);

}  // namespace fwcert
