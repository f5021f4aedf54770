#include "fwcert/report/scan_report.hpp"

#include "fwcert/core/civil_time.hpp"
#include "fwcert/report/text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#ifndef FWCERT_VERSION
#define FWCERT_VERSION "0.0.0"
#endif

namespace fwcert {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// Time: RFC 3339 in UTC for any 64-bit unix time (proleptic Gregorian, H. Hinnant's civil_from_days). Years outside
// 0000..9999 are written with a sign (ISO 8601 expanded form), which RFC 3339 itself cannot express.

std::string format_rfc3339(int64_t t) { return rfc3339_utc(t); }

// The date part of format_rfc3339.
std::string format_date(int64_t t) {
  std::string s = format_rfc3339(t);
  return s.substr(0, s.find('T'));
}

// ---------------------------------------------------------------------------------------------------------------
// Untrusted text (decode_utf8 and valid_utf8 in fwcert/report/text.hpp).

std::string utf8(std::string_view s) { return valid_utf8(s); }

// For the terminal: control characters (C0, DEL, C1) and invalid bytes become \xNN, so a hostile subject cannot send
// escape sequences to the terminal. The result is valid UTF-8.
std::string display(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  decode_utf8(s, [&](int32_t cp, std::string_view bytes) {
    char buf[16];  // "\\xNN" needs 5; 16 also fits any unsigned, which GCC at -O0 cannot rule out
    if (cp < 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(-1 - cp));
      out += buf;
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out += bytes;
    }
  });
  return out;
}

// Columns a valid UTF-8 string takes, counting one per code point (wide CJK characters are the exception we accept).
size_t width(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Byte index where code point number n starts (s.size() when there are fewer).
size_t cp_index(std::string_view s, size_t n) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (seen == n) return i;
    ++seen;
  }
  return s.size();
}

// Keeps the start: "Very long common na...".
std::string truncate_right(const std::string& s, size_t max) {
  if (width(s) <= max) return s;
  return s.substr(0, cp_index(s, max > 3 ? max - 3 : 0)) + "...";
}

// Keeps the end, which is the telling part of a location ("...cramfs@0x400000:/etc/stunnel/server.pem"), starting
// at a step boundary ('!' or '/') when one is close.
std::string truncate_left(const std::string& s, size_t max) {
  const size_t w = width(s);
  if (w <= max) return s;
  const size_t keep = max > 3 ? max - 3 : 0;
  std::string tail = s.substr(cp_index(s, w - keep));
  const size_t cut = tail.find_first_of("!/");
  if (cut != std::string::npos && cut > 0 && cut < 24) tail = tail.substr(cut);
  return "..." + tail;
}

std::string pad(const std::string& s, size_t w, bool right_align = false) {
  const size_t have = width(s);
  if (have >= w) return s;
  return right_align ? std::string(w - have, ' ') + s : s + std::string(w - have, ' ');
}

std::string with_more(const std::string& first, size_t total) {
  return total > 1 ? first + " +" + std::to_string(total - 1) : first;
}

std::string hex_offset(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIX64, v);
  return buf;
}

std::string key_text(const KeyDesc& k) {
  std::string s = k.algorithm.empty() ? std::string("unknown") : k.algorithm;
  if (!k.curve.empty()) s += " " + k.curve;
  if (k.bits > 0) s += " " + std::to_string(k.bits);
  return s;
}

const char* status_color(CertStatus s) {
  switch (s) {
    case CertStatus::Expired:
      return "\x1b[31m";
    case CertStatus::Expiring:
    case CertStatus::NotYetValid:
      return "\x1b[33m";
    case CertStatus::InvalidDate:
      return "\x1b[35m";
    case CertStatus::Valid:
      return "\x1b[32m";
  }
  return "";
}
constexpr const char* kReset = "\x1b[0m";
constexpr const char* kBold = "\x1b[1m";

const CertRecord* find_cert(const ScanReport& r, const std::string& sha256) {
  for (const auto& c : r.certificates)
    if (c.cert.sha256 == sha256) return &c;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------------------
// Table

void write_one_table(std::ostream& out, const ScanReport& r, bool color) {
  const auto bold = [&](const std::string& s) { return color ? kBold + s + kReset : s; };
  out << bold("fwcert scan: " + display(r.input)) << "\n";
  out << "  size " << r.size << " bytes, sha256 " << (r.sha256.empty() ? "-" : display(r.sha256)) << "\n";
  out << "  clock " << format_rfc3339(r.now) << ", warning window " << r.warn_days << " days\n\n";

  if (r.certificates.empty()) {
    out << (r.incomplete ? "  no certificates found in the part that could be read (see the problems)\n"
                         : "  no certificates found\n");
  } else {
    using Row = std::vector<std::string>;
    const Row header = {"STATUS", "NOT AFTER", "DAYS", "CN", "ROLE", "WHERE", "KEY"};
    std::vector<Row> rows;
    std::vector<CertStatus> statuses;
    for (const auto& c : r.certificates) {
      const TimeValue& na = c.cert.not_after;
      std::string not_after = na.unix ? format_date(*na.unix) : std::string("unreadable");
      std::string days = c.days_left ? std::to_string(*c.days_left) : (na.no_expiry ? "never" : "-");
      std::string cn = truncate_right(display(c.cert.common_name.empty() ? c.cert.subject : c.cert.common_name), 40);
      if (cn.empty()) cn = "-";
      std::string role =
          c.roles.empty() ? "-" : with_more(truncate_right(display(c.roles.front()), 36), c.roles.size());
      std::string where =
          c.locations.empty() ? "-" : with_more(truncate_left(display(c.locations.front()), 56), c.locations.size());
      std::string key = c.private_keys.empty() ? "no" : "yes (" + std::to_string(c.private_keys.size()) + ")";
      rows.push_back({std::string(to_string(c.status)), not_after, days, cn, role, where, key});
      statuses.push_back(c.status);
    }
    std::vector<size_t> w(header.size());
    for (size_t i = 0; i < header.size(); ++i) {
      w[i] = width(header[i]);
      for (const auto& row : rows) w[i] = std::max(w[i], width(row[i]));
    }
    const auto emit = [&](const Row& row, const CertStatus* status) {
      std::string line = "  ";
      for (size_t i = 0; i < row.size(); ++i) {
        const bool last = i + 1 == row.size();
        std::string cell = last ? row[i] : pad(row[i], w[i], i == 2);
        if (i == 0 && status && color) cell = status_color(*status) + row[i] + kReset + cell.substr(row[i].size());
        line += cell;
        if (!last) line += "  ";
      }
      out << line << "\n";
    };
    emit(header, nullptr);
    for (size_t i = 0; i < rows.size(); ++i) emit(rows[i], &statuses[i]);
  }

  if (!r.keys.empty()) {
    out << "\n" << bold("Private keys (" + std::to_string(r.keys.size()) + ")") << "\n";
    size_t loc_width = 0;
    for (const auto& k : r.keys) loc_width = std::max(loc_width, width(truncate_left(display(k.location), 64)));
    for (const auto& k : r.keys) {
      std::string matches;
      if (k.certificates.empty()) {
        matches = "no certificate";
      } else {
        const CertRecord* first = find_cert(r, k.certificates.front());
        std::string name =
            first ? display(first->cert.common_name.empty() ? first->cert.subject : first->cert.common_name)
                  : display(k.certificates.front().substr(0, 16));
        matches = "matches " + with_more(truncate_right(name, 40), k.certificates.size());
      }
      out << "  " << pad(truncate_left(display(k.location), 64), loc_width) << "  " << display(key_text(k.key)) << ", "
          << display(k.format) << ", " << (k.encrypted ? "encrypted" : "not encrypted") << ", " << matches
          << (k.roles.empty() ? std::string() : ", " + display(truncate_right(k.roles.front(), 60))) << "\n";
    }
  }

  if (!r.problems.empty()) {
    out << "\n" << bold("Problems (" + std::to_string(r.problems.size()) + ")") << "\n";
    for (const auto& p : r.problems)
      out << "  " << to_string(p.diagnostic.severity) << ": " << display(p.location) << " at "
          << hex_offset(p.diagnostic.offset) << ": " << display(p.diagnostic.message) << "\n";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

json nullable_string(const std::string& s) { return s.empty() ? json(nullptr) : json(utf8(s)); }

json strings(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(utf8(s));
  return a;
}

json time_json(const TimeValue& t) { return t.unix ? json(format_rfc3339(*t.unix)) : json(nullptr); }

json raw_time_json(const TimeValue& t) {
  return {{"type", utf8(t.type)}, {"text", utf8(t.raw)}, {"error", nullable_string(t.error)}};
}

json key_json(const KeyDesc& k) {
  return {{"algorithm", nullable_string(k.algorithm)},
          {"bits", k.bits > 0 ? json(k.bits) : json(nullptr)},
          {"curve", nullable_string(k.curve)}};
}

json cert_json(const CertRecord& r) {
  const Certificate& c = r.cert;
  return {{"sha256", utf8(c.sha256)},
          {"sha1", utf8(c.sha1)},
          {"spki_sha256", nullable_string(c.spki_sha256)},
          {"subject", utf8(c.subject)},
          {"issuer", utf8(c.issuer)},
          {"common_name", utf8(c.common_name)},
          {"serial", utf8(c.serial)},
          {"not_before", time_json(c.not_before)},
          {"not_after", time_json(c.not_after)},
          {"not_before_raw", raw_time_json(c.not_before)},
          {"not_after_raw", raw_time_json(c.not_after)},
          {"no_expiry", c.not_after.no_expiry},
          {"status", std::string(to_string(r.status))},
          {"days_left", r.days_left ? json(*r.days_left) : json(nullptr)},
          {"key", key_json(c.key)},
          {"signature_algorithm", utf8(c.signature_algorithm)},
          {"self_signed", c.self_signed},
          {"is_ca", c.is_ca},
          {"locations", strings(r.locations)},
          {"roles", strings(r.roles)},
          {"private_keys", strings(r.private_keys)},
          {"anomalies", strings(r.anomalies)}};
}

json private_key_json(const PrivateKey& k) {
  return {{"location", utf8(k.location)},
          {"format", utf8(k.format)},
          {"algorithm", nullable_string(k.key.algorithm)},
          {"bits", k.key.bits > 0 ? json(k.key.bits) : json(nullptr)},
          {"curve", nullable_string(k.key.curve)},
          {"encrypted", k.encrypted},
          {"spki_sha256", nullable_string(k.spki_sha256)},
          {"matches", strings(k.certificates)},
          {"roles", strings(k.roles)}};
}

json problem_json(const ScanProblem& p) {
  return {{"location", utf8(p.location)},
          {"offset", p.diagnostic.offset},
          {"severity", std::string(to_string(p.diagnostic.severity))},
          {"message", utf8(p.diagnostic.message)}};
}

// ---------------------------------------------------------------------------------------------------------------
// CSV (RFC 4180)

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += v[i];
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// SARIF 2.1.0

struct Rule {
  const char* id;
  const char* name;
  const char* level;              // default level
  const char* security_severity;  // GitHub code scanning: 0.1-3.9 low, 4-6.9 medium, 7-8.9 high, 9+ critical
  const char* short_text;
  const char* full_text;
};

constexpr Rule kRules[] = {
    {"FWCERT001", "certificate-expired", "error", "7.5", "Certificate has expired",
     "The firmware carries a certificate whose notAfter is before the scan clock. TLS peers that check dates reject "
     "it; if it is a trust anchor, everything it signs fails too."},
    {"FWCERT002", "certificate-expiring", "warning", "5.0", "Certificate expires soon",
     "The firmware carries a certificate that expires within the warning window after the scan clock."},
    {"FWCERT003", "certificate-not-yet-valid", "warning", "4.0", "Certificate is not yet valid",
     "The certificate's notBefore is after the scan clock; devices without a set clock (1970) reject it."},
    {"FWCERT004", "certificate-invalid-date", "error", "6.0", "Certificate has an unreadable validity date",
     "A notBefore or notAfter value cannot be read as a date (impossible day or month, bad encoding). Validators "
     "disagree on such certificates."},
    {"FWCERT005", "private-key-in-firmware", "error", "9.0", "Private key shipped in firmware",
     "The firmware image contains a private key. Every device running this image shares it, so anyone with the "
     "image can impersonate or decrypt traffic of every device."},
    {"FWCERT006", "weak-certificate", "warning", "5.5", "Certificate uses a weak key or signature",
     "The certificate's public key is too short or its signature uses a broken hash (MD5, SHA-1)."},
};

size_t rule_index(std::string_view id) {
  for (size_t i = 0; i < std::size(kRules); ++i)
    if (id == kRules[i].id) return i;
  return 0;
}

// Percent-encodes a file path into a URI reference (RFC 3986): unreserved characters and '/' stay.
std::string path_to_uri(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  // An absolute path is a valid relative reference; a ':' in the first segment would read as a scheme, so escape it
  // (done above: ':' is encoded).
  return out;
}

std::string cn_of(const Certificate& c) { return utf8(c.common_name.empty() ? c.subject : c.common_name); }

std::string where_text(const std::vector<std::string>& locations) {
  if (locations.empty()) return "an unknown location";
  std::string s = utf8(locations.front());
  if (locations.size() > 1) s += " (and " + std::to_string(locations.size() - 1) + " more)";
  return s;
}

std::string time_text(const TimeValue& t) {
  if (t.unix) return format_rfc3339(*t.unix);
  return "unreadable " + utf8(t.type) + " \"" + utf8(t.raw) + "\"" +
         (t.error.empty() ? "" : " (" + utf8(t.error) + ")");
}

json sarif_location(size_t artifact, const std::string& uri, const std::string& tree_location) {
  json loc = {{"physicalLocation", {{"artifactLocation", {{"uri", uri}, {"index", artifact}}}}}};
  if (!tree_location.empty())
    loc["logicalLocations"] = json::array({{{"fullyQualifiedName", utf8(tree_location)}, {"kind", "resource"}}});
  return loc;
}

json sarif_locations(size_t artifact, const std::string& uri, const std::vector<std::string>& tree_locations) {
  json a = json::array();
  if (tree_locations.empty()) a.push_back(sarif_location(artifact, uri, ""));
  for (const auto& l : tree_locations) a.push_back(sarif_location(artifact, uri, l));
  return a;
}

json sarif_result(const char* rule_id, std::string text, json locations, json fingerprints, json properties) {
  const Rule& rule = kRules[rule_index(rule_id)];
  return {{"ruleId", rule.id},
          {"ruleIndex", rule_index(rule_id)},
          {"level", rule.level},
          {"message", {{"text", std::move(text)}}},
          {"locations", std::move(locations)},
          {"partialFingerprints", std::move(fingerprints)},
          {"properties", std::move(properties)}};
}

void certificate_results(json& results, size_t artifact, const std::string& uri, const ScanReport& r,
                         const CertRecord& c) {
  const Certificate& cert = c.cert;
  const std::string cn = cn_of(cert);
  const std::string window = "valid from " + time_text(cert.not_before) + " to " + time_text(cert.not_after);
  const std::string where = where_text(c.locations);
  json props = {{"certificate_sha256", utf8(cert.sha256)},
                {"subject", utf8(cert.subject)},
                {"issuer", utf8(cert.issuer)},
                {"status", std::string(to_string(c.status))},
                {"not_before", time_json(cert.not_before)},
                {"not_after", time_json(cert.not_after)},
                {"days_left", c.days_left ? json(*c.days_left) : json(nullptr)},
                {"roles", strings(c.roles)}};
  const auto fp = [&](const char* rule) {
    return json{{"fwcertFinding/v1", std::string(rule) + ":" + utf8(cert.sha256)}};
  };
  // Whole days between the clock and the date, counted towards zero ("expired 3 days before", "expires in 30 days").
  const auto days_between = [&](const TimeValue& t) -> std::string {
    if (!t.unix) return "?";
    const auto a = static_cast<uint64_t>(*t.unix), b = static_cast<uint64_t>(r.now);  // no signed overflow
    const uint64_t d = (*t.unix > r.now ? a - b : b - a) / 86400;
    return std::to_string(d) + (d == 1 ? " day" : " days");
  };

  switch (c.status) {
    case CertStatus::Expired:
      results.push_back(sarif_result("FWCERT001",
                                     "Certificate '" + cn + "' expired on " + time_text(cert.not_after) + " (" +
                                         days_between(cert.not_after) + " before " + format_rfc3339(r.now) + "); " +
                                         window + "; at " + where,
                                     sarif_locations(artifact, uri, c.locations), fp("FWCERT001"), props));
      break;
    case CertStatus::Expiring:
      results.push_back(sarif_result("FWCERT002",
                                     "Certificate '" + cn + "' expires on " + time_text(cert.not_after) + " (in " +
                                         days_between(cert.not_after) + ", warning window " +
                                         std::to_string(r.warn_days) + " days); " + window + "; at " + where,
                                     sarif_locations(artifact, uri, c.locations), fp("FWCERT002"), props));
      break;
    case CertStatus::NotYetValid:
      results.push_back(sarif_result("FWCERT003",
                                     "Certificate '" + cn + "' is not valid before " + time_text(cert.not_before) +
                                         " (" + days_between(cert.not_before) + " after " + format_rfc3339(r.now) +
                                         "); " + window + "; at " + where,
                                     sarif_locations(artifact, uri, c.locations), fp("FWCERT003"), props));
      break;
    case CertStatus::InvalidDate:
      results.push_back(sarif_result(
          "FWCERT004", "Certificate '" + cn + "' has an unreadable validity date: " + window + "; at " + where,
          sarif_locations(artifact, uri, c.locations), fp("FWCERT004"), props));
      break;
    case CertStatus::Valid:
      break;
  }

  // Weak key or signature: certificate_anomalies() words them "weak key: ..." and "weak signature: ...".
  for (const auto& a : c.anomalies) {
    if (a.rfind("weak ", 0) != 0) continue;
    json p = props;
    p["anomaly"] = utf8(a);
    results.push_back(
        sarif_result("FWCERT006", "Certificate '" + cn + "': " + utf8(a) + "; " + window + "; at " + where,
                     sarif_locations(artifact, uri, c.locations),
                     {{"fwcertFinding/v1", "FWCERT006:" + utf8(cert.sha256) + ":" + utf8(a)}}, std::move(p)));
  }
}

void key_results(json& results, size_t artifact, const std::string& uri, const ScanReport& r, const PrivateKey& k) {
  std::string text = "Private key (" + utf8(key_text(k.key)) + ", " + utf8(k.format) + ", " +
                     (k.encrypted ? "encrypted" : "not encrypted") + ") shipped at " + utf8(k.location);
  if (!k.certificates.empty()) {
    const CertRecord* first = find_cert(r, k.certificates.front());
    text += "; matches certificate '" + (first ? cn_of(first->cert) : utf8(k.certificates.front())) + "'";
    if (k.certificates.size() > 1) text += " and " + std::to_string(k.certificates.size() - 1) + " more";
  }
  json props = {{"location", utf8(k.location)},
                {"format", utf8(k.format)},
                {"encrypted", k.encrypted},
                {"spki_sha256", nullable_string(k.spki_sha256)},
                {"certificates", strings(k.certificates)}};
  const std::string id = k.spki_sha256.empty() ? utf8(k.location) : utf8(k.spki_sha256);
  results.push_back(sarif_result("FWCERT005", std::move(text), json::array({sarif_location(artifact, uri, k.location)}),
                                 {{"fwcertFinding/v1", "FWCERT005:" + id}}, std::move(props)));
}

const char* sarif_level(Severity s) {
  switch (s) {
    case Severity::Info:
      return "note";
    case Severity::Warning:
      return "warning";
    case Severity::Error:
      return "error";
  }
  return "warning";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

void write_scan_table(std::ostream& out, const std::vector<ScanReport>& reports, bool color) {
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i) out << "\n";
    write_one_table(out, reports[i], color);
  }
}

nlohmann::json scan_to_json(const std::vector<ScanReport>& reports) {
  json inputs = json::array();
  for (const auto& r : reports) {
    json certs = json::array(), keys = json::array(), problems = json::array();
    for (const auto& c : r.certificates) certs.push_back(cert_json(c));
    for (const auto& k : r.keys) keys.push_back(private_key_json(k));
    for (const auto& p : r.problems) problems.push_back(problem_json(p));
    inputs.push_back({{"input", utf8(r.input)},
                      {"sha256", utf8(r.sha256)},
                      {"size", r.size},
                      {"now", format_rfc3339(r.now)},
                      {"warn_days", r.warn_days},
                      {"certificates", std::move(certs)},
                      {"keys", std::move(keys)},
                      {"problems", std::move(problems)}});
  }
  return {{"tool", "fwcert"},
          {"version", FWCERT_VERSION},
          {"format_version", kScanJsonFormatVersion},
          {"now", reports.empty() ? json(nullptr) : json(format_rfc3339(reports.front().now))},
          {"now_unix", reports.empty() ? json(nullptr) : json(reports.front().now)},
          {"warn_days", reports.empty() ? json(nullptr) : json(reports.front().warn_days)},
          {"inputs", std::move(inputs)}};
}

void write_scan_csv(std::ostream& out, const std::vector<ScanReport>& reports) {
  static const char* const kHeader[] = {"input",    "status",      "not_after", "days_left", "common_name",
                                        "subject",  "issuer",      "serial",    "sha256",    "roles",
                                        "location", "private_key", "anomalies"};
  for (size_t i = 0; i < std::size(kHeader); ++i) out << (i ? "," : "") << kHeader[i];
  out << "\r\n";
  for (const auto& r : reports) {
    for (const auto& c : r.certificates) {
      const std::string not_after = c.cert.not_after.unix ? format_rfc3339(*c.cert.not_after.unix) : "";
      const std::string days = c.days_left ? std::to_string(*c.days_left) : "";
      const std::string roles = join(c.roles, "; "), anomalies = join(c.anomalies, "; ");
      // One row per location; a certificate without a location still gets its row.
      const std::vector<std::string> none = {""};
      for (const auto& loc : c.locations.empty() ? none : c.locations) {
        out << csv_field(r.input, true) << ',' << csv_field(std::string(to_string(c.status)), false) << ','
            << csv_field(not_after, false) << ',' << csv_field(days, false) << ','
            << csv_field(c.cert.common_name, true) << ',' << csv_field(c.cert.subject, true) << ','
            << csv_field(c.cert.issuer, true) << ',' << csv_field(c.cert.serial, false) << ','
            << csv_field(c.cert.sha256, false) << ',' << csv_field(roles, true) << ',' << csv_field(loc, true) << ','
            << (c.private_keys.empty() ? "no" : "yes") << ',' << csv_field(anomalies, true) << "\r\n";
      }
    }
  }
}

nlohmann::json scan_to_sarif(const std::vector<ScanReport>& reports) {
  json rules = json::array();
  for (const auto& rule : kRules) {
    rules.push_back(
        {{"id", rule.id},
         {"name", rule.name},
         {"shortDescription", {{"text", rule.short_text}}},
         {"fullDescription", {{"text", rule.full_text}}},
         {"help", {{"text", rule.full_text}}},
         {"defaultConfiguration", {{"level", rule.level}}},
         {"properties",
          {{"tags", json::array({"security", "certificate"})}, {"security-severity", rule.security_severity}}}});
  }

  json artifacts = json::array(), results = json::array(), notifications = json::array();
  for (size_t i = 0; i < reports.size(); ++i) {
    const ScanReport& r = reports[i];
    const std::string uri = path_to_uri(r.input);
    json artifact = {{"location", {{"uri", uri}}}, {"length", r.size}, {"roles", json::array({"analysisTarget"})}};
    if (!r.sha256.empty()) artifact["hashes"] = {{"sha-256", utf8(r.sha256)}};
    artifacts.push_back(std::move(artifact));
    for (const auto& c : r.certificates) certificate_results(results, i, uri, r, c);
    for (const auto& k : r.keys) key_results(results, i, uri, r, k);
    for (const auto& p : r.problems) {
      json n = {{"level", sarif_level(p.diagnostic.severity)},
                {"message", {{"text", utf8(p.diagnostic.message)}}},
                {"locations", json::array({sarif_location(i, uri, p.location)})},
                {"properties", {{"offset", p.diagnostic.offset}}}};
      notifications.push_back(std::move(n));
    }
  }

  json run = {
      {"tool",
       {{"driver",
         {{"name", "fwcert"},
          {"version", FWCERT_VERSION},
          {"semanticVersion", FWCERT_VERSION},
          {"rules", std::move(rules)}}}}},
      {"artifacts", std::move(artifacts)},
      {"invocations",
       json::array({{{"executionSuccessful", true}, {"toolExecutionNotifications", std::move(notifications)}}})},
      {"results", std::move(results)}};
  if (!reports.empty())
    run["properties"] = {{"now", format_rfc3339(reports.front().now)}, {"warn_days", reports.front().warn_days}};
  return {{"$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({std::move(run)})}};
}

}  // namespace fwcert
