// `fwcert report --html`: one self-contained HTML page (inline CSS and SVG, one small inline script allowed by its
// hash in the page's Content-Security-Policy, nothing loaded from the network) with a summary, a timeline of every
// unique certificate on one date axis with each image's safe BMC clock window, and a table that sorts and filters in
// the browser. Every string from firmware is untrusted: HTML-escaped after the terminal sanitiser (control and bidi
// characters shown as escapes), so a CN "<script>alert(1)</script>" is text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/certs/clock.hpp"
#include "fwcert/certs/records.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert {

class Catalog;

struct ReportImage {
  std::string path;
  std::string label;                     // vendor/board/version when the catalog knows them, else ""
  size_t certificates = 0, keys = 0;     // distinct certificates placed in it, private keys found in it
  std::optional<ClockWindow> bmc_window;  // from analyze_clock; nullopt when the BMC verifies none of its certificates
};

struct ReportPlacement {
  std::string image, location;
};

// One unique certificate (by SHA-256) over every image.
struct ReportCert {
  Certificate cert;
  CertStatus status = CertStatus::InvalidDate;
  std::optional<int64_t> days_left;
  std::vector<std::string> roles, anomalies;
  std::vector<ReportPlacement> placements;  // every location in every image
};

struct ReportModel {
  int64_t now = 0;
  int warn_days = 90;
  std::vector<ReportImage> images;
  std::vector<ReportCert> certs;  // sorted by notAfter (unreadable last), then SHA-256
  size_t private_keys = 0;        // private key placements over every image
};

// From scans (PATHs): certificates merged by SHA-256 over the inputs; windows from the matching ClockReports (same
// order as scans, may be empty).
ReportModel report_model_from_scans(const std::vector<ScanReport>& scans, const std::vector<ClockReport>& clocks);

// From a catalog: its certificates judged at now, its images with vendor/board/version, and each image's window.
Result<ReportModel> report_model_from_catalog(Catalog& catalog, int64_t now, int warn_days = 90);

// The page. Deterministic for a given model (no clock read here: model.now is "now").
std::string render_html_report(const ReportModel& model);

// HTML text of untrusted bytes: valid UTF-8, control and bidi characters as \xNN / \u{XXXX} escapes, then & < > " '
// as entities. Safe in element content and in quoted attribute values.
std::string html_text(std::string_view raw);

// The page is written with write_file_atomically (core/atomic_file.hpp).

}  // namespace fwcert
