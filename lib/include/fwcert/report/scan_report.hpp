// Reporters for certificate scan results: a table for people, JSON, CSV and SARIF 2.1.0 for tools.
//
// All four keep the order of the reports and of their certificates (the scan sorts by notAfter). Text that comes from
// the firmware (names, paths, subjects) is untrusted: the table goes through display() (control characters and
// invalid UTF-8 as \xNN, bidi controls as \u{XXXX}) so nothing reaches the terminal raw; JSON, CSV and SARIF replace
// invalid UTF-8 bytes with U+FFFD (JSON escapes control characters itself, e.g. \u001b). The JSON layout is
// documented in docs/scan-json.md.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "fwcert/certs/records.hpp"

namespace fwcert {

// Version of the JSON layout written by scan_to_json ("format_version"); bumped on incompatible changes only.
inline constexpr int kScanJsonFormatVersion = 1;

// What one input (or, added up, a whole run) holds that deserves a look. Certificates are counted once per category
// (a certificate with two weak-key anomalies is one weak key).
struct ScanSummary {
  size_t inputs = 0, certificates = 0;
  size_t expired = 0, expiring = 0, not_yet_valid = 0, invalid_date = 0;
  size_t private_keys = 0, unencrypted_keys = 0;
  size_t weak_keys = 0, weak_signatures = 0, not_before_1970 = 0, not_after_2038 = 0;
  size_t compromised = 0;  // certificates and keys with "private key is public (...)"
  size_t problems = 0;
  ScanSummary& operator+=(const ScanSummary& other);
};
ScanSummary summarize(const ScanReport& report);
// "6 certificates, 1 expired, 1 expiring, 2 private keys shipped (1 not encrypted), 1 weak key, 1 problem"; zero
// counts are left out; "no findings" when no category is hit.
std::string summary_text(const ScanSummary& summary);

// Which of the --fail-on conditions ("expired", "expiring", "not-yet-valid", "invalid-date", "weak", "private-key",
// "compromised": a certificate or key whose private key is public)
// the report meets, each with its count: {"expired (2 certificates)", "private-key (5 keys)"}. Empty: none met.
// "weak" is any certificate anomaly mentioning weak (weak key, weak signature).
std::vector<std::string> fail_on_matches(const ScanReport& report, const std::set<std::string>& conditions);

struct ScanTableOptions {
  // ANSI colours on the status cell (red expired, yellow expiring / not-yet-valid, magenta invalid-date, green
  // valid). The caller decides: colour only when the stream is a terminal and NO_COLOR (https://no-color.org) is
  // unset or empty, and never when asked not to.
  bool color = false;
  // Columns a certificate row may take (table_columns() in report/text.hpp); 0 = no limit, every cell in full
  // (`fwcert scan --wide`). Rows stay wider than this when every column is already at its minimum.
  size_t width = 0;
};

// For people: per input a header (path, clock, warning window), one row per certificate (STATUS, NOT AFTER, DAYS, CN,
// FINDINGS, ROLE, WHERE, KEY), then the private keys, the problems and a summary line; after several inputs an
// overall summary. Long cells are shortened to the width (CN and ROLE at the end, WHERE in the middle so that both
// the image and the file name stay); alignment counts display columns (wide characters 2, combining marks 0).
void write_scan_table(std::ostream& out, const std::vector<ScanReport>& reports, const ScanTableOptions& options);

// The documented JSON document (docs/scan-json.md).
nlohmann::json scan_to_json(const std::vector<ScanReport>& reports);

// RFC 4180 CSV with a header row and CRLF line ends; one row per certificate and location. Text cells that a
// spreadsheet would run as a formula (first character = + - @ TAB CR) get a leading apostrophe.
void write_scan_csv(std::ostream& out, const std::vector<ScanReport>& reports);

// SARIF 2.1.0, one run: rules FWCERT001..FWCERT007 (007: private key is public), one result per finding (valid certificates give none), scan
// problems as tool execution notifications. `unreadable` are the inputs that could not be read at all (no report):
// each becomes an error-level tool execution notification, and the invocation's executionSuccessful is false, since
// the run did not look at everything it was asked to.
struct UnreadableInput {
  std::string path;
  std::string message;
};
nlohmann::json scan_to_sarif(const std::vector<ScanReport>& reports, const std::vector<UnreadableInput>& unreadable = {});

}  // namespace fwcert
