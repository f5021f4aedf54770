// fwcert: which TLS certificates and private keys a firmware image carries, and when each stops working.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "fwcert/certs/scan.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/report/scan_report.hpp"
#include "fwcert/scan/walker.hpp"

namespace fs = std::filesystem;

namespace {

// Files to scan for one PATH argument: the file itself, or every regular file below a directory (sorted, symlinks
// not followed).
std::vector<std::string> expand_path(const std::string& path, std::vector<std::string>& errors) {
  std::vector<std::string> out;
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    errors.push_back(path + ": no such file or directory");
    return out;
  }
  if (!fs::is_directory(st)) {
    out.push_back(path);
    return out;
  }
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.push_back(it->path().string());
  }
  if (ec) errors.push_back(path + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

bool fails(const fwcert::ScanReport& r, const std::set<std::string>& fail_on) {
  for (const auto& c : r.certificates) {
    if (fail_on.count(std::string(fwcert::to_string(c.status)))) return true;
    if (fail_on.count("weak"))
      for (const auto& a : c.anomalies)
        if (a.find("weak") != std::string::npos) return true;
  }
  return fail_on.count("private-key") && !r.keys.empty();
}

int run_scan(const std::vector<std::string>& paths, const std::string& now_text, int warn_days, const std::string& format,
             const std::string& fail_on_text, const std::string& sig_path_opt, const std::vector<std::string>& passwords,
             const char* argv0) {
  fwcert::ScanOptions opts;
  opts.warn_days = warn_days;
  opts.pkcs12_passwords = passwords;
  if (now_text.empty()) {
    opts.now = static_cast<int64_t>(std::time(nullptr));
  } else {
    auto t = fwcert::parse_user_time(now_text);
    if (!t) {
      std::cerr << "fwcert scan: --now '" << now_text
                << "' is not a time (use 2026-05-17, 2026-05-17T09:46:36Z or @<unix seconds>)\n";
      return 2;
    }
    opts.now = *t;
  }
  std::set<std::string> fail_on;
  {
    std::stringstream ss(fail_on_text);
    std::string item;
    static const std::set<std::string> kKnown = {"expired", "not-yet-valid", "expiring", "invalid-date", "private-key",
                                                 "weak"};
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      if (!kKnown.count(item)) {
        std::cerr << "fwcert scan: --fail-on: unknown condition '" << item
                  << "' (use expired, not-yet-valid, expiring, invalid-date, private-key, weak)\n";
        return 2;
      }
      fail_on.insert(item);
    }
  }
  std::string sig_path = sig_path_opt.empty() ? fwcert::default_signature_path(argv0) : sig_path_opt;
  auto walker = fwcert::make_default_walker(sig_path);
  if (!walker) {
    std::cerr << "fwcert scan: " << walker.error().message << "\n";
    return 2;
  }

  std::vector<std::string> errors, files;
  for (const auto& p : paths)
    for (auto& f : expand_path(p, errors)) files.push_back(std::move(f));
  const bool progress = isatty(STDERR_FILENO) && files.size() > 1;
  std::vector<fwcert::ScanReport> reports;
  for (size_t i = 0; i < files.size(); ++i) {
    if (progress) std::cerr << "\r[" << i + 1 << "/" << files.size() << "] " << files[i] << "\033[K" << std::flush;
    auto mf = fwcert::MappedFile::open(files[i]);
    if (!mf) {
      errors.push_back(mf.error().message);
      continue;
    }
    reports.push_back(fwcert::scan_input(mf->view(), files[i], **walker, opts));
  }
  if (progress) std::cerr << "\r\033[K";

  if (format == "json") {
    std::cout << fwcert::scan_to_json(reports).dump(2) << "\n";
  } else if (format == "sarif") {
    std::cout << fwcert::scan_to_sarif(reports).dump(2) << "\n";
  } else if (format == "csv") {
    fwcert::write_scan_csv(std::cout, reports);
  } else {
    const char* no_color = std::getenv("NO_COLOR");
    const bool color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    fwcert::write_scan_table(std::cout, reports, color);
  }
  for (const auto& e : errors) std::cerr << "fwcert scan: " << e << "\n";
  if (!errors.empty()) return 2;
  for (const auto& r : reports)
    if (fails(r, fail_on)) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "fwcert: which TLS certificates and private keys a BMC firmware image carries, and when each stops working.",
      "fwcert"};
  app.require_subcommand(1);

  auto* scan = app.add_subcommand(
      "scan",
      "Every certificate, private key and keystore in firmware images, vendor zips, directories or plain files:\n"
      "validity window, status at a chosen clock, role from the firmware's own configs, and the paired key.\n\n"
      "Examples:\n"
      "  fwcert scan REDFISH_X10_390.bin                   table for people\n"
      "  fwcert scan --now 2015-06-01 image.bin            what a BMC whose clock says 2015 would see\n"
      "  fwcert scan --format json images/ > certs.json    every image below a folder, as JSON\n"
      "  fwcert scan --fail-on expired,expiring image.bin  exit 1 when any certificate is expired or expiring\n\n"
      "Status: valid, expiring (notAfter within --warn-days), expired, not-yet-valid, invalid-date (a date that\n"
      "cannot be read: never called valid or expired). Exit: 0 fine, 1 --fail-on matched, 2 usage or unreadable input.");
  std::vector<std::string> paths, passwords;
  std::string now_text, format = "table", fail_on, sig_path;
  int warn_days = 90;
  scan->add_option("PATH", paths, "Firmware images, vendor zips, directories (recursive), certificate/key/keystore files")
      ->required();
  scan->add_option("--now", now_text,
                   "Clock for every judgement: 2026-05-17, 2026-05-17T09:46:36Z or @<unix> (default: system clock)");
  scan->add_option("--warn-days", warn_days, "Days before notAfter that count as expiring")->default_val(90)->check(CLI::Range(0, 36500));
  scan->add_option("--format", format, "table, json, csv or sarif")
      ->default_val("table")
      ->check(CLI::IsMember({"table", "json", "csv", "sarif"}));
  scan->add_option("--fail-on", fail_on,
                   "Exit 1 when any of these holds (comma list): expired, not-yet-valid, expiring, invalid-date, "
                   "private-key, weak");
  scan->add_option("--pkcs12-password", passwords,
                   "Password to try on PKCS#12 files (repeatable; default: empty and a few vendor defaults)");
  scan->add_option("--signatures", sig_path, "Signature file or directory (default: built-in / next to the program)");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*scan) return run_scan(paths, now_text, warn_days, format, fail_on, sig_path, passwords, argv[0]);
  } catch (const std::exception& e) {
    std::cerr << "fwcert: internal error: " << e.what() << "\n";
    return 3;
  }
  return 2;
}
