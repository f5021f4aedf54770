#include "fwcert/report/scan_report.hpp"

#include "fwcert/certs/compromised.hpp"
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

// The name a person recognises: the CN, else the subject (the JSON field common_name stays the CN only).
std::string shown_name(const Certificate& c) { return c.common_name.empty() ? c.subject : c.common_name; }

// A short mark for the FINDINGS column, from the wording of certificate_anomalies(). The shipped private key is left
// out: the KEY column shows it.
std::string finding_mark(const std::string& a) {
  const auto starts = [&](const char* p) { return a.rfind(p, 0) == 0; };
  if (starts("weak key: ")) return "weak key " + a.substr(10);
  if (starts("weak signature: ")) {
    const std::string alg = a.substr(16);
    std::string lower;
    for (char ch : alg) lower += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    static constexpr std::pair<const char*, const char*> kHashes[] = {
        {"md2", "MD2"}, {"md4", "MD4"}, {"md5", "MD5"}, {"sha1", "SHA-1"}};
    for (const auto& [needle, name] : kHashes)
      if (lower.find(needle) != std::string::npos) return std::string(name) + " signature";
    return "weak signature " + alg;
  }
  if (starts("notBefore in 1970")) return "notBefore 1970";
  if (starts("notAfter after 2038")) return "notAfter > 2038";
  if (starts("private key shipped")) return "";
  return a;
}

std::string findings_cell(const CertRecord& c) {
  std::string s;
  for (const auto& a : c.anomalies) {
    const std::string m = finding_mark(a);
    if (m.empty()) continue;
    if (!s.empty()) s += ", ";
    s += m;
  }
  return s.empty() ? "-" : display(s);
}

std::string pad(const std::string& s, size_t w, bool right_align = false) {
  const size_t have = display_width(s);
  if (have >= w) return s;
  return right_align ? std::string(w - have, ' ') + s : s + std::string(w - have, ' ');
}

// Columns a row takes (two of indent, two between columns); hidden columns have width 0 and no gap.
size_t row_width(const std::vector<size_t>& w) {
  size_t t = 0, n = 0;
  for (size_t x : w)
    if (x) t += x, ++n;
  return 2 + t + (n ? 2 * (n - 1) : 0);
}

// Shrinks the flexible columns until a row fits in `limit` columns: the column `first` (the least telling) down to 24
// columns, then the widest ones, never below their minimum. Returns whether the row fits.
bool fit_columns(std::vector<size_t>& w, const std::vector<size_t>& min, size_t limit, size_t first) {
  size_t t = row_width(w);
  for (; t > limit; --t) {
    size_t pick = w.size();
    if (w[first] > std::max<size_t>(min[first], 24)) {
      pick = first;
    } else {
      for (size_t i = 0; i < w.size(); ++i)
        if (w[i] > min[i] && (pick == w.size() || w[i] > w[pick])) pick = i;
    }
    if (pick == w.size()) return false;  // everything at its minimum
    --w[pick];
  }
  return true;
}

// A location as the table shows it: the input's own name (the first step, already in the header) is left out.
std::string table_location(const ScanReport& r, const std::string& loc) {
  if (!r.input.empty() && loc.size() > r.input.size() + 1 && loc.compare(0, r.input.size(), r.input) == 0 &&
      loc[r.input.size()] == '!')
    return display(loc.substr(r.input.size() + 1));
  return display(loc);
}

// A cell with a " +N" suffix (more roles or locations): the text is shortened, the suffix kept.
std::string fit_with_more(const std::string& text, size_t total, size_t cols, bool middle) {
  const std::string more = total > 1 ? " +" + std::to_string(total - 1) : "";
  const size_t room = cols > more.size() ? cols - more.size() : 0;
  return (middle ? fit_middle(text, room) : fit_end(text, room)) + more;
}

void write_summary_line(std::ostream& out, const std::string& label, const ScanSummary& s, bool color) {
  const bool bad = s.expired || s.not_yet_valid || s.invalid_date || s.private_keys || s.compromised || s.weak_keys ||
                   s.weak_signatures;
  out << "  " << (color && bad ? kBold + label + kReset : label) << ": " << summary_text(s) << "\n";
}

void write_one_table(std::ostream& out, const ScanReport& r, const ScanTableOptions& opt) {
  const bool color = opt.color;
  const size_t limit = opt.width;  // 0: no limit
  const auto bold = [&](const std::string& s) { return color ? kBold + s + kReset : s; };
  out << bold("fwcert scan: " + display(r.input)) << "\n";
  out << "  size " << r.size << " bytes, sha256 " << (r.sha256.empty() ? "-" : display(r.sha256)) << "\n";
  out << "  clock " << format_rfc3339(r.now) << ", warning window " << r.warn_days << " days\n\n";

  if (r.certificates.empty()) {
    out << (r.incomplete ? "  no certificates found in the part that could be read (see the problems)\n"
                         : "  no certificates found\n");
  } else {
    using Row = std::vector<std::string>;
    enum Col { kStatus, kNotAfter, kDays, kCn, kFindings, kRole, kWhere, kKey, kCols };
    const Row header = {"STATUS", "NOT AFTER", "DAYS", "CN", "FINDINGS", "ROLE", "WHERE", "KEY"};
    // Full texts first; the flexible columns are shortened once the widths are known.
    std::vector<Row> rows;
    std::vector<CertStatus> statuses;
    for (const auto& c : r.certificates) {
      const TimeValue& na = c.cert.not_after;
      Row row(kCols);
      row[kStatus] = std::string(to_string(c.status));
      row[kNotAfter] = na.unix ? format_date(*na.unix) : std::string(na.lenient ? "invalid" : "unreadable");
      row[kDays] = c.days_left ? std::to_string(*c.days_left) : (na.no_expiry ? "never" : "-");
      row[kCn] = display(shown_name(c.cert));
      if (row[kCn].empty()) row[kCn] = "-";
      row[kFindings] = findings_cell(c);
      row[kRole] = c.roles.empty() ? "-" : display(c.roles.front());
      row[kWhere] = c.locations.empty() ? "-" : table_location(r, c.locations.front());
      row[kKey] = c.private_keys.empty() ? "no" : "yes (" + std::to_string(c.private_keys.size()) + ")";
      rows.push_back(std::move(row));
      statuses.push_back(c.status);
    }
    const auto more = [](size_t n) { return n > 1 ? 2 + std::to_string(n - 1).size() : 0; };
    std::vector<size_t> w(kCols);
    for (size_t i = 0; i < kCols; ++i) w[i] = display_width(header[i]);
    for (size_t k = 0; k < rows.size(); ++k) {
      const CertRecord& c = r.certificates[k];
      for (size_t i = 0; i < kCols; ++i) {
        size_t cw = display_width(rows[k][i]);
        if (i == kRole) cw += more(c.roles.size());
        if (i == kWhere) cw += more(c.locations.size());
        w[i] = std::max(w[i], cw);
      }
    }
    if (limit) {
      // Minimums keep every column useful: a location needs room for both of its ends.
      std::vector<size_t> min = w;
      min[kCn] = std::min(w[kCn], size_t{14});
      min[kFindings] = std::min(w[kFindings], size_t{16});
      min[kRole] = std::min(w[kRole], size_t{10});
      min[kWhere] = std::min(w[kWhere], size_t{28});
      // A narrow terminal loses the ROLE column, then KEY (the summary and the private key list still say both),
      // rather than wrapping every row.
      const std::vector<size_t> natural = w;
      for (size_t hide : {kRole, kKey}) {
        if (fit_columns(w, min, limit, kRole)) break;
        min[hide] = 0;
        for (size_t i = 0; i < kCols; ++i) w[i] = min[i] ? natural[i] : 0;  // start again from the full widths
      }
      fit_columns(w, min, limit, kRole);
    }
    for (size_t k = 0; k < rows.size(); ++k) {
      const CertRecord& c = r.certificates[k];
      Row& row = rows[k];
      row[kCn] = fit_end(row[kCn], w[kCn]);
      row[kFindings] = fit_end(row[kFindings], w[kFindings]);
      row[kRole] = c.roles.empty() ? row[kRole] : fit_with_more(row[kRole], c.roles.size(), w[kRole], false);
      row[kWhere] =
          c.locations.empty() ? row[kWhere] : fit_with_more(row[kWhere], c.locations.size(), w[kWhere], true);
    }
    const auto emit = [&](const Row& row, const CertStatus* status) {
      std::string line = "  ";
      size_t last_shown = 0;
      for (size_t i = 0; i < row.size(); ++i)
        if (w[i]) last_shown = i;
      for (size_t i = 0; i < row.size(); ++i) {
        if (!w[i]) continue;  // hidden for want of room
        const bool last = i == last_shown;
        std::string cell = last ? row[i] : pad(row[i], w[i], i == kDays);
        if (i == kStatus && status && color) cell = status_color(*status) + row[i] + kReset + cell.substr(row[i].size());
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
    // The location gets what a row leaves after about 60 columns of key description, at least 28.
    const size_t loc_max = limit ? std::max<size_t>(28, limit > 64 ? limit - 64 : 0) : SIZE_MAX;
    size_t loc_width = 0;
    for (const auto& k : r.keys)
      loc_width = std::max(loc_width, display_width(fit_middle(table_location(r, k.location), loc_max)));
    for (const auto& k : r.keys) {
      std::string matches;
      if (k.certificates.empty()) {
        matches = "no certificate";
      } else {
        const CertRecord* first = find_cert(r, k.certificates.front());
        std::string name = first ? display(shown_name(first->cert)) : display(k.certificates.front().substr(0, 16));
        matches = "matches " + with_more(limit ? fit_end(name, 40) : name, k.certificates.size());
      }
      std::string role = k.roles.empty() ? std::string() : display(k.roles.front());
      if (limit) role = fit_end(role, 60);
      out << "  " << pad(fit_middle(table_location(r, k.location), loc_max), loc_width) << "  " << display(key_text(k.key))
          << ", " << display(k.format) << ", " << (k.encrypted ? "encrypted" : "not encrypted") << ", " << matches
          << (role.empty() ? std::string() : ", " + role);
      for (const auto& a : k.anomalies) out << ", " << display(a);
      out << "\n";
    }
  }

  if (!r.problems.empty()) {
    out << "\n" << bold("Problems (" + std::to_string(r.problems.size()) + ")") << "\n";
    for (const auto& p : r.problems)
      out << "  " << to_string(p.diagnostic.severity) << ": " << display(p.location) << " at "
          << hex_offset(p.diagnostic.offset) << ": " << display(p.diagnostic.message) << "\n";
  }
  out << "\n";
  write_summary_line(out, "Summary", summarize(r), color);
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
  return {{"type", utf8(t.type)},
          {"text", utf8(t.raw)},
          {"error", nullable_string(t.error)},
          {"lenient", t.lenient ? json(format_rfc3339(*t.lenient)) : json(nullptr)}};
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
          {"common_name", nullable_string(c.common_name)},
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
          {"anomalies", strings(r.anomalies)},
          {"recovered_locations", strings(r.recovered_locations)}};
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
          {"roles", strings(k.roles)},
          {"anomalies", strings(k.anomalies)},
          {"recovered", k.recovered}};
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
    {"FWCERT007", "private-key-public", "error", "9.5", "Private key is public",
     "The public key of this certificate or private key is on a list of known-compromised keys (its private key was "
     "published, e.g. by SEC Consult's House of Keys research): anyone can impersonate the device or decrypt its "
     "traffic without even opening the image."},
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
  if (t.lenient) {
    return "invalid " + utf8(t.type) + " \"" + utf8(t.raw) + "\" (" + utf8(t.error) + "; read leniently as " +
           format_rfc3339(*t.lenient) + ")";
  }
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

  for (const auto& a : c.anomalies) {
    if (!is_compromised_anomaly(a)) continue;
    json p = props;
    p["anomaly"] = utf8(a);
    p["spki_sha256"] = nullable_string(cert.spki_sha256);
    results.push_back(sarif_result("FWCERT007", "Certificate '" + cn + "': " + utf8(a) + "; " + window + "; at " + where,
                                   sarif_locations(artifact, uri, c.locations),
                                   {{"fwcertFinding/v1", "FWCERT007:" + utf8(cert.sha256)}}, std::move(p)));
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
  for (const auto& a : k.anomalies) {
    if (!is_compromised_anomaly(a)) continue;
    json p = props;
    p["anomaly"] = utf8(a);
    results.push_back(sarif_result("FWCERT007", "Private key at " + utf8(k.location) + ": " + utf8(a),
                                   json::array({sarif_location(artifact, uri, k.location)}),
                                   {{"fwcertFinding/v1", "FWCERT007:" + id + ":" + utf8(k.location)}}, std::move(p)));
  }
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

ScanSummary& ScanSummary::operator+=(const ScanSummary& o) {
  inputs += o.inputs;
  certificates += o.certificates;
  expired += o.expired;
  expiring += o.expiring;
  not_yet_valid += o.not_yet_valid;
  invalid_date += o.invalid_date;
  private_keys += o.private_keys;
  unencrypted_keys += o.unencrypted_keys;
  weak_keys += o.weak_keys;
  weak_signatures += o.weak_signatures;
  not_before_1970 += o.not_before_1970;
  not_after_2038 += o.not_after_2038;
  compromised += o.compromised;
  problems += o.problems;
  return *this;
}

ScanSummary summarize(const ScanReport& r) {
  ScanSummary s;
  s.inputs = 1;
  s.certificates = r.certificates.size();
  for (const auto& c : r.certificates) {
    switch (c.status) {
      case CertStatus::Expired:
        ++s.expired;
        break;
      case CertStatus::Expiring:
        ++s.expiring;
        break;
      case CertStatus::NotYetValid:
        ++s.not_yet_valid;
        break;
      case CertStatus::InvalidDate:
        ++s.invalid_date;
        break;
      case CertStatus::Valid:
        break;
    }
    bool weak_key = false, weak_sig = false, y1970 = false, y2038 = false;
    for (const auto& a : c.anomalies) {
      weak_key = weak_key || a.rfind("weak key", 0) == 0;
      weak_sig = weak_sig || a.rfind("weak signature", 0) == 0;
      y1970 = y1970 || a.rfind("notBefore in 1970", 0) == 0;
      y2038 = y2038 || a.rfind("notAfter after 2038", 0) == 0;
    }
    s.weak_keys += weak_key;
    s.weak_signatures += weak_sig;
    s.not_before_1970 += y1970;
    s.not_after_2038 += y2038;
    s.compromised += std::any_of(c.anomalies.begin(), c.anomalies.end(), is_compromised_anomaly);
  }
  s.private_keys = r.keys.size();
  for (const auto& k : r.keys) {
    s.unencrypted_keys += !k.encrypted;
    s.compromised += std::any_of(k.anomalies.begin(), k.anomalies.end(), is_compromised_anomaly);
  }
  s.problems = r.problems.size();
  return s;
}

std::string summary_text(const ScanSummary& s) {
  std::string out;
  const auto add = [&](size_t n, const char* one, const char* many) {
    if (!n) return;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + (n == 1 ? one : many);
  };
  add(s.certificates, "certificate", "certificates");
  if (out.empty()) out = "no certificates";
  const size_t before = out.size();
  add(s.expired, "expired", "expired");
  add(s.expiring, "expiring", "expiring");
  add(s.not_yet_valid, "not yet valid", "not yet valid");
  add(s.invalid_date, "with an unreadable date", "with unreadable dates");
  if (s.private_keys) {
    add(s.private_keys, "private key shipped", "private keys shipped");
    if (s.unencrypted_keys == s.private_keys)
      out += s.private_keys == 1 ? " (not encrypted)" : " (none encrypted)";
    else
      out += " (" + std::to_string(s.unencrypted_keys) + " not encrypted)";
  }
  add(s.compromised, "with a public private key", "with a public private key");
  add(s.weak_keys, "weak key", "weak keys");
  add(s.weak_signatures, "weak signature", "weak signatures");
  add(s.not_before_1970, "notBefore in 1970", "notBefore in 1970");
  add(s.not_after_2038, "notAfter after 2038", "notAfter after 2038");
  if (out.size() == before) out += ", no findings";
  add(s.problems, "problem", "problems");
  return out;
}

std::vector<std::string> fail_on_matches(const ScanReport& r, const std::set<std::string>& conditions) {
  std::vector<std::string> out;
  const auto certs = [](size_t n) { return std::to_string(n) + (n == 1 ? " certificate" : " certificates"); };
  const ScanSummary s = summarize(r);
  const std::pair<const char*, size_t> by_status[] = {
      {"expired", s.expired}, {"expiring", s.expiring}, {"not-yet-valid", s.not_yet_valid},
      {"invalid-date", s.invalid_date}};
  for (const auto& [name, n] : by_status)
    if (n && conditions.count(name)) out.push_back(std::string(name) + " (" + certs(n) + ")");
  if (conditions.count("weak")) {
    size_t n = 0;
    for (const auto& c : r.certificates)
      n += std::any_of(c.anomalies.begin(), c.anomalies.end(),
                       [](const std::string& a) { return a.find("weak") != std::string::npos; });
    if (n) out.push_back("weak (" + certs(n) + ")");
  }
  if (conditions.count("compromised") && s.compromised)
    out.push_back("compromised (" + std::to_string(s.compromised) +
                  (s.compromised == 1 ? " certificate or key)" : " certificates or keys)"));
  if (conditions.count("private-key") && !r.keys.empty())
    out.push_back("private-key (" + std::to_string(r.keys.size()) + (r.keys.size() == 1 ? " key)" : " keys)"));
  return out;
}

void write_scan_table(std::ostream& out, const std::vector<ScanReport>& reports, const ScanTableOptions& options) {
  ScanSummary overall;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i) out << "\n";
    write_one_table(out, reports[i], options);
    overall += summarize(reports[i]);
  }
  if (reports.size() > 1) {
    out << "\n";
    write_summary_line(out, "Overall (" + std::to_string(reports.size()) + " inputs)", overall, options.color);
  }
}

nlohmann::json scan_to_json(const std::vector<ScanReport>& reports) {
  json inputs = json::array();
  for (const auto& r : reports) {
    json certs = json::array(), keys = json::array(), problems = json::array();
    for (const auto& c : r.certificates) certs.push_back(cert_json(c));
    for (const auto& k : r.keys) keys.push_back(private_key_json(k));
    for (const auto& p : r.problems) problems.push_back(problem_json(p));
    json in = {{"input", utf8(r.input)},
               {"sha256", utf8(r.sha256)},
               {"size", r.size},
               {"now", format_rfc3339(r.now)},
               {"warn_days", r.warn_days},
               {"certificates", std::move(certs)},
               {"keys", std::move(keys)},
               {"problems", std::move(problems)}};
    put_name(in, "input", r.input);  // adds input_bytes when the path is not valid UTF-8
    inputs.push_back(std::move(in));
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

nlohmann::json scan_to_sarif(const std::vector<ScanReport>& reports, const std::vector<UnreadableInput>& unreadable) {
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
  // An input that could not be read has no artifact index (it gave no report): the notification names it by URI.
  for (const auto& u : unreadable) {
    notifications.push_back(
        {{"level", "error"},
         {"message", {{"text", utf8(u.message)}}},
         {"locations", json::array({{{"physicalLocation", {{"artifactLocation", {{"uri", path_to_uri(u.path)}}}}}}})},
         {"descriptor", {{"id", "input-unreadable"}}}});
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
       json::array({{{"executionSuccessful", unreadable.empty()}, {"toolExecutionNotifications", std::move(notifications)}}})},
      {"results", std::move(results)}};
  if (!reports.empty())
    run["properties"] = {{"now", format_rfc3339(reports.front().now)}, {"warn_days", reports.front().warn_days}};
  return {{"$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({std::move(run)})}};
}

}  // namespace fwcert
