// Scan reporters: table, JSON, CSV, SARIF. The reports are built by hand with an explicit clock, so nothing here
// depends on today's date or on the certificate parser.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <zlib.h>

#include "fwcert/certs/scan.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/extract/writer.hpp"
#include "fwcert/report/scan_report.hpp"
#include "fwcert/report/text.hpp"
#include "fwcert/report/walk_report.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::CertRecord;
using fwcert::CertStatus;
using fwcert::ScanReport;
using nlohmann::json;

namespace {

constexpr int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z

fwcert::TimeValue tv(const std::string& type, const std::string& raw, std::optional<int64_t> unix) {
  fwcert::TimeValue t;
  t.type = type;
  t.raw = raw;
  t.unix = unix;
  if (!unix) t.error = "month 13";
  return t;
}

CertRecord cert(const std::string& tag, const std::string& cn, CertStatus status, std::optional<int64_t> not_before,
                std::optional<int64_t> not_after, std::optional<int64_t> days_left) {
  CertRecord r;
  r.cert.sha256 = std::string(62, '0') + tag;
  r.cert.sha1 = std::string(38, '1') + tag;
  r.cert.spki_sha256 = std::string(62, 'e') + tag;
  r.cert.subject = "CN=" + cn + ",O=Example";
  r.cert.issuer = "CN=Example CA,O=Example";
  r.cert.common_name = cn;
  r.cert.serial = "0A1B" + tag;
  r.cert.not_before = tv("UTCTime", "200101000000Z", not_before);
  r.cert.not_after = tv("UTCTime", "300101000000Z", not_after);
  r.cert.key = {"RSA", 2048, ""};
  r.cert.signature_algorithm = "sha256WithRSAEncryption";
  r.status = status;
  r.days_left = days_left;
  r.locations = {"x10.bin!cramfs@0x400000:/etc/ssl/" + tag + ".pem"};
  return r;
}

const std::string kLongLocation =
    "x10.bin!uimage@0x1400000!gzip!cpio:/usr/local/share/very/deeply/nested/directory/tree/for/certificates/"
    "acme-server.pem";

std::vector<ScanReport> sample_reports() {
  ScanReport a;
  a.input = "images/x10 fw.bin";
  a.sha256 = std::string(64, 'a');
  a.size = 33554432;
  a.now = kNow;
  a.warn_days = 90;

  CertRecord expired = cert("01", "old.example", CertStatus::Expired, 1500000000, 1600000000, -1158);
  expired.locations.push_back("x10.bin!cramfs@0x1700000:/iKVM.jar!zip:res/client.crt");
  expired.roles = {"stunnel [ikvm] server certificate", "iKVM client certificate"};
  expired.private_keys = {"x10.bin!cramfs@0x400000:/etc/ssl/01.key"};
  expired.anomalies = {"weak key: RSA-1024", "private key shipped in firmware"};
  expired.cert.key = {"RSA", 1024, ""};

  CertRecord expiring = cert("02", "Acme, \"Best\" Corp", CertStatus::Expiring, 1600000000, kNow + 30 * 86400 + 5, 30);
  expiring.cert.subject = "CN=Acme\\, \"Best\" Corp,O=Acme";
  expiring.locations = {kLongLocation};
  expiring.roles = {"=cmd|' /C calc'!A0"};  // a hostile role text must not become a spreadsheet formula

  CertRecord valid = cert("03", "valid.example", CertStatus::Valid, 1600000000, 1750000000, 578);
  valid.cert.key = {"EC", 256, "prime256v1"};
  valid.anomalies = {"notBefore in 1970 (generated without a clock)"};

  CertRecord not_yet = cert("04", "future.example", CertStatus::NotYetValid, 1800000000, 1900000000, 2314);

  CertRecord forever = cert("05", "forever.example", CertStatus::Valid, 1600000000, 253402300799, std::nullopt);
  forever.cert.not_after = tv("GeneralizedTime", "99991231235959Z", 253402300799);
  forever.cert.not_after.no_expiry = true;
  forever.cert.is_ca = true;
  forever.cert.self_signed = true;

  CertRecord broken = cert("06", "\x1b[31mevil", CertStatus::InvalidDate, std::nullopt, std::nullopt, std::nullopt);
  broken.cert.not_before = tv("UTCTime", "201345000000Z", std::nullopt);
  broken.cert.not_after = tv("UTCTime", "201345000000Z", std::nullopt);
  broken.cert.issuer = "CN=Evil\nCorp";  // a newline in a field
  broken.locations = {"x10.bin!cramfs@0x400000:/etc/bad\xff\xfename.pem", "x10.bin!pem@0x7A120", "x10.bin!pem@0x8000"};
  broken.anomalies = {"weak signature: md5WithRSAEncryption", "inverted validity window"};

  a.certificates = {expired, expiring, valid, not_yet, forever, broken};

  fwcert::PrivateKey plain;
  plain.location = "x10.bin!cramfs@0x400000:/etc/ssl/01.key";
  plain.format = "PEM PKCS#1";
  plain.key = {"RSA", 1024, ""};
  plain.spki_sha256 = expired.cert.spki_sha256;
  plain.certificates = {expired.cert.sha256};
  fwcert::PrivateKey locked;
  locked.location = "x10.bin!cramfs@0x400000:/etc/ssl/other.key";
  locked.format = "PEM encrypted PKCS#8";
  locked.encrypted = true;
  a.keys = {plain, locked};
  a.problems = {{"x10.bin!gzip@0x200", {0x200, fwcert::Severity::Warning, "gzip stream truncated"}}};

  ScanReport b;
  b.input = "/abs/path/second.bin";
  b.sha256 = std::string(64, 'b');
  b.size = 1024;
  b.now = kNow;
  b.warn_days = 90;
  b.certificates = {cert("11", "second.example", CertStatus::Expired, 1400000000, 1500000000, -2315)};
  b.problems = {{"second.bin", {0x10, fwcert::Severity::Error, "not a firmware image"}}};
  return {a, b};
}

std::string table(bool color, size_t width = 200) {
  std::ostringstream os;
  fwcert::write_scan_table(os, sample_reports(), {color, width});
  return os.str();
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream is(s);
  for (std::string l; std::getline(is, l);) out.push_back(l);
  return out;
}

std::string line_with(const std::string& text, const std::string& needle) {
  for (const auto& l : lines_of(text))
    if (l.find(needle) != std::string::npos) return l;
  return "";
}

// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF record ends, line breaks inside quotes.
std::vector<std::vector<std::string>> parse_csv(const std::string& s) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      quoted = false;
    } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      quoted = false;
      ++i;
    } else {
      REQUIRE(c != '"');  // a bare quote in an unquoted field breaks RFC 4180
      REQUIRE(c != '\n');
      field += c;
    }
  }
  REQUIRE_FALSE(in_quotes);
  REQUIRE(field.empty());  // the last record ends with CRLF
  REQUIRE(row.empty());
  return rows;
}

const json& cert_by_cn(const json& input, const std::string& cn) {
  for (const auto& c : input.at("certificates"))
    if (c.at("common_name") == cn) return c;
  FAIL("no certificate " << cn);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("scan table without colour: cells, order, no escape codes") {
  const std::string t = table(false);
  CHECK(t.find('\x1b') == std::string::npos);
  CHECK(t.find("fwcert scan: images/x10 fw.bin") != std::string::npos);
  CHECK(t.find("fwcert scan: /abs/path/second.bin") != std::string::npos);
  CHECK(t.find("clock 2023-11-14T22:13:20Z, warning window 90 days") != std::string::npos);

  const std::string old = line_with(t, "old.example");
  CHECK(old.find("expired") != std::string::npos);
  CHECK(old.find("2020-09-13") != std::string::npos);
  CHECK(old.find("-1158") != std::string::npos);
  CHECK(old.find("stunnel [ikvm] ") != std::string::npos);  // shortened to fit 160 columns, the count kept
  CHECK(old.find("... +1") != std::string::npos);
  CHECK(old.find("x10.bin!cramfs@0x400000:/etc/ssl/01.pem +1") != std::string::npos);
  CHECK(old.find("yes (1)") != std::string::npos);

  const std::string forever = line_with(t, "forever.example");
  CHECK(forever.find("9999-12-31") != std::string::npos);
  CHECK(forever.find("never") != std::string::npos);
  CHECK(forever.find("  no") != std::string::npos);

  // The hostile CN is shown escaped; its invalid-date row says so.
  const std::string evil = line_with(t, "evil");
  CHECK(evil.find("invalid-date") != std::string::npos);
  CHECK(evil.find("unreadable") != std::string::npos);
  CHECK(evil.find("\\x1B[31mevil") != std::string::npos);
  CHECK(evil.find("\\xFF\\xFE") != std::string::npos);
  CHECK(evil.find("+2") != std::string::npos);

  // The long location keeps its end.
  const std::string acme = line_with(t, "Acme");
  CHECK(acme.find("expiring") != std::string::npos);
  CHECK(acme.find("...") != std::string::npos);
  CHECK(acme.find("acme-server.pem") != std::string::npos);
  CHECK(acme.find(kLongLocation) == std::string::npos);

  // Columns line up: the CN column starts at the same place in the header and in each row of the first input.
  const std::string header = line_with(t, "STATUS");
  const size_t cn_col = header.find("CN");
  REQUIRE(cn_col != std::string::npos);
  CHECK(old.find("old.example") == cn_col);
  CHECK(forever.find("forever.example") == cn_col);
  CHECK(header.find("DAYS") < header.find("CN"));
  // Order kept: expired first, invalid-date last.
  CHECK(t.find("old.example") < t.find("Acme"));
  CHECK(t.find("future.example") < t.find("evil"));
  CHECK(t.find("evil") < t.find("second.example"));

  CHECK(t.find("Private keys (2)") != std::string::npos);
  const std::string plain = line_with(t, "/etc/ssl/01.key  ");
  CHECK(plain.find("RSA 1024, PEM PKCS#1, not encrypted, matches old.example") != std::string::npos);
  const std::string locked = line_with(t, "other.key");
  CHECK(locked.find("unknown, PEM encrypted PKCS#8, encrypted, no certificate") != std::string::npos);
  CHECK(t.find("Problems (1)") != std::string::npos);
  CHECK(t.find("warning: x10.bin!gzip@0x200 at 0x200: gzip stream truncated") != std::string::npos);
  CHECK(t.find("error: second.bin at 0x10: not a firmware image") != std::string::npos);
}

TEST_CASE("scan table with colour colours the status cell only") {
  const std::string t = table(true);
  CHECK(t.find("\x1b[31mexpired\x1b[0m") != std::string::npos);
  CHECK(t.find("\x1b[33mexpiring\x1b[0m") != std::string::npos);
  CHECK(t.find("\x1b[33mnot-yet-valid\x1b[0m") != std::string::npos);
  CHECK(t.find("\x1b[35minvalid-date\x1b[0m") != std::string::npos);
  CHECK(t.find("\x1b[32mvalid\x1b[0m") != std::string::npos);
  CHECK(t.find("\x1b[31mevil") == std::string::npos);  // the CN's own escape sequence never reaches the terminal
  // Same layout as without colour once the codes are removed.
  std::string stripped;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\x1b') {
      while (i < t.size() && t[i] != 'm') ++i;
      continue;
    }
    stripped += t[i];
  }
  CHECK(stripped == table(false));
}

TEST_CASE("scan table of an input without certificates") {
  ScanReport r;
  r.input = "empty.bin";
  r.now = 0;
  std::ostringstream os;
  fwcert::write_scan_table(os, {r}, {});
  CHECK(os.str().find("no certificates found") != std::string::npos);
  CHECK(os.str().find("clock 1970-01-01T00:00:00Z") != std::string::npos);
  CHECK(os.str().find("Private keys") == std::string::npos);
}

TEST_CASE("scan JSON has the documented fields and types") {
  const json doc = json::parse(fwcert::scan_to_json(sample_reports()).dump());  // dump must not throw on bad UTF-8
  CHECK(doc.at("tool") == "fwcert");
  CHECK(doc.at("version").is_string());
  CHECK(doc.at("format_version") == fwcert::kScanJsonFormatVersion);
  CHECK(doc.at("now") == "2023-11-14T22:13:20Z");
  CHECK(doc.at("now_unix") == kNow);
  CHECK(doc.at("warn_days") == 90);
  REQUIRE(doc.at("inputs").size() == 2);

  const json& a = doc.at("inputs").at(0);
  CHECK(a.at("input") == "images/x10 fw.bin");
  CHECK(a.at("sha256") == std::string(64, 'a'));
  CHECK(a.at("size") == 33554432);
  CHECK(a.at("now") == "2023-11-14T22:13:20Z");
  REQUIRE(a.at("certificates").size() == 6);

  for (const auto& c : a.at("certificates")) {
    for (const char* f :
         {"sha256", "sha1", "subject", "issuer", "common_name", "serial", "status", "signature_algorithm"})
      CHECK(c.at(f).is_string());
    for (const char* f : {"no_expiry", "self_signed", "is_ca"}) CHECK(c.at(f).is_boolean());
    for (const char* f : {"locations", "roles", "private_keys", "anomalies", "recovered_locations"}) {
      REQUIRE(c.at(f).is_array());
      for (const auto& s : c.at(f)) CHECK(s.is_string());
    }
    for (const char* f : {"not_before", "not_after"}) CHECK((c.at(f).is_string() || c.at(f).is_null()));
    for (const char* f : {"not_before_raw", "not_after_raw"}) {
      CHECK(c.at(f).at("type").is_string());
      CHECK(c.at(f).at("text").is_string());
      CHECK((c.at(f).at("error").is_string() || c.at(f).at("error").is_null()));
    }
    CHECK((c.at("days_left").is_number_integer() || c.at("days_left").is_null()));
    CHECK((c.at("key").at("algorithm").is_string() || c.at("key").at("algorithm").is_null()));
    CHECK((c.at("key").at("bits").is_number_integer() || c.at("key").at("bits").is_null()));
    CHECK((c.at("key").at("curve").is_string() || c.at("key").at("curve").is_null()));
  }

  const json& old = cert_by_cn(a, "old.example");
  CHECK(old.at("status") == "expired");
  CHECK(old.at("days_left") == -1158);
  CHECK(old.at("not_after") == "2020-09-13T12:26:40Z");
  CHECK(old.at("not_before") == "2017-07-14T02:40:00Z");
  CHECK(old.at("not_after_raw").at("error").is_null());
  CHECK(old.at("key").at("bits") == 1024);
  CHECK(old.at("key").at("curve").is_null());
  CHECK(old.at("locations").size() == 2);
  CHECK(old.at("roles").at(1) == "iKVM client certificate");
  CHECK(old.at("private_keys").at(0) == "x10.bin!cramfs@0x400000:/etc/ssl/01.key");

  const json& broken = cert_by_cn(a, "\x1b[31mevil");
  CHECK(broken.at("status") == "invalid-date");
  CHECK(broken.at("not_after").is_null());
  CHECK(broken.at("not_before").is_null());
  CHECK(broken.at("days_left").is_null());
  CHECK(broken.at("not_after_raw").at("type") == "UTCTime");
  CHECK(broken.at("not_after_raw").at("text") == "201345000000Z");
  CHECK(broken.at("not_after_raw").at("error") == "month 13");
  CHECK(broken.at("locations").at(0) == "x10.bin!cramfs@0x400000:/etc/bad\xEF\xBF\xBD\xEF\xBF\xBDname.pem");
  CHECK(broken.at("issuer") == "CN=Evil\nCorp");

  const json& forever = cert_by_cn(a, "forever.example");
  CHECK(forever.at("no_expiry") == true);
  CHECK(forever.at("days_left").is_null());
  CHECK(forever.at("not_after") == "9999-12-31T23:59:59Z");
  CHECK(forever.at("is_ca") == true);
  CHECK(forever.at("self_signed") == true);

  CHECK(cert_by_cn(a, "valid.example").at("key").at("curve") == "prime256v1");

  REQUIRE(a.at("keys").size() == 2);
  const json& plain = a.at("keys").at(0);
  CHECK(plain.at("format") == "PEM PKCS#1");
  CHECK(plain.at("algorithm") == "RSA");
  CHECK(plain.at("bits") == 1024);
  CHECK(plain.at("encrypted") == false);
  CHECK(plain.at("recovered") == false);
  CHECK(plain.at("matches") == json::array({std::string(62, '0') + "01"}));
  const json& locked = a.at("keys").at(1);
  CHECK(locked.at("encrypted") == true);
  CHECK(locked.at("algorithm").is_null());
  CHECK(locked.at("bits").is_null());
  CHECK(locked.at("spki_sha256").is_null());
  CHECK(locked.at("matches").empty());

  REQUIRE(a.at("problems").size() == 1);
  CHECK(a.at("problems").at(0).at("offset") == 0x200);
  CHECK(a.at("problems").at(0).at("severity") == "warning");
  CHECK(a.at("problems").at(0).at("location") == "x10.bin!gzip@0x200");
  CHECK(doc.at("inputs").at(1).at("problems").at(0).at("severity") == "error");
}

TEST_CASE("scan JSON times: RFC 3339 across the 64-bit range") {
  const auto now_of = [](int64_t t) {
    ScanReport r;
    r.now = t;
    return fwcert::scan_to_json({r}).at("now").get<std::string>();
  };
  CHECK(now_of(0) == "1970-01-01T00:00:00Z");
  CHECK(now_of(-1) == "1969-12-31T23:59:59Z");
  CHECK(now_of(951782400) == "2000-02-29T00:00:00Z");
  CHECK(now_of(2147483648) == "2038-01-19T03:14:08Z");
  CHECK(now_of(253402300799) == "9999-12-31T23:59:59Z");
  CHECK(now_of(253402300800) == "+10000-01-01T00:00:00Z");
  CHECK(now_of(-62167219200) == "0000-01-01T00:00:00Z");
  CHECK(now_of(-62167219201) == "-0001-12-31T23:59:59Z");
  CHECK_FALSE(now_of(INT64_MAX).empty());
  CHECK_FALSE(now_of(INT64_MIN).empty());
  CHECK(fwcert::scan_to_json({}).at("now").is_null());
  CHECK(fwcert::scan_to_json({}).at("inputs").empty());
}

TEST_CASE("scan CSV is RFC 4180 and parses back") {
  std::ostringstream os;
  fwcert::write_scan_csv(os, sample_reports());
  const std::string text = os.str();
  const auto rows = parse_csv(text);
  REQUIRE(rows.size() == 1 + (2 + 1 + 1 + 1 + 1 + 3) + 1);  // header + a row per certificate and location
  const std::vector<std::string> header = {"input",    "status",      "not_after", "days_left", "common_name",
                                           "subject",  "issuer",      "serial",    "sha256",    "roles",
                                           "location", "private_key", "anomalies"};
  CHECK(rows[0] == header);
  for (const auto& r : rows) CHECK(r.size() == header.size());

  const auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  CHECK(rows[1][col("input")] == "images/x10 fw.bin");
  CHECK(rows[1][col("status")] == "expired");
  CHECK(rows[1][col("not_after")] == "2020-09-13T12:26:40Z");
  CHECK(rows[1][col("days_left")] == "-1158");
  CHECK(rows[1][col("roles")] == "stunnel [ikvm] server certificate; iKVM client certificate");
  CHECK(rows[1][col("location")] == "x10.bin!cramfs@0x400000:/etc/ssl/01.pem");
  CHECK(rows[2][col("location")] == "x10.bin!cramfs@0x1700000:/iKVM.jar!zip:res/client.crt");
  CHECK(rows[1][col("private_key")] == "yes");
  CHECK(rows[1][col("anomalies")] == "weak key: RSA-1024; private key shipped in firmware");

  CHECK(rows[3][col("common_name")] == "Acme, \"Best\" Corp");
  CHECK(rows[3][col("subject")] == "CN=Acme\\, \"Best\" Corp,O=Acme");
  CHECK(rows[3][col("roles")] == "'=cmd|' /C calc'!A0");  // formula guard
  CHECK(rows[3][col("private_key")] == "no");
  CHECK(rows[3][col("location")] == kLongLocation);

  // invalid-date: empty not_after and days_left, newline kept inside the quoted issuer, one row per location.
  CHECK(rows[7][col("status")] == "invalid-date");
  CHECK(rows[7][col("not_after")].empty());
  CHECK(rows[7][col("days_left")].empty());
  CHECK(rows[7][col("issuer")] == "CN=Evil\nCorp");
  CHECK(rows[9][col("location")] == "x10.bin!pem@0x8000");
  CHECK(rows[10][col("input")] == "/abs/path/second.bin");
  CHECK(rows[10][col("days_left")] == "-2315");
  CHECK(text.find("\"CN=Evil\nCorp\"") != std::string::npos);
}

TEST_CASE("scan SARIF: rules, results, levels, locations") {
  const json s = json::parse(fwcert::scan_to_sarif(sample_reports()).dump());
  CHECK(s.at("version") == "2.1.0");
  REQUIRE(s.at("runs").size() == 1);
  const json& run = s.at("runs").at(0);
  const json& driver = run.at("tool").at("driver");
  CHECK(driver.at("name") == "fwcert");
  std::vector<std::string> ids;
  for (const auto& r : driver.at("rules")) ids.push_back(r.at("id"));
  CHECK(ids == std::vector<std::string>{"FWCERT001", "FWCERT002", "FWCERT003", "FWCERT004", "FWCERT005", "FWCERT006", "FWCERT007"});
  CHECK(driver.at("rules").at(0).at("name") == "certificate-expired");
  CHECK(driver.at("rules").at(4).at("name") == "private-key-in-firmware");
  CHECK(driver.at("rules").at(5).at("name") == "weak-certificate");

  const json& results = run.at("results");
  std::multiset<std::string> got;
  for (const auto& r : results) {
    got.insert(r.at("ruleId").get<std::string>() + " " + r.at("level").get<std::string>());
    CHECK(driver.at("rules").at(r.at("ruleIndex").get<size_t>()).at("id") == r.at("ruleId"));
    CHECK(r.at("properties").value("status", "") != "valid");
  }
  const std::multiset<std::string> want = {"FWCERT001 error",   "FWCERT001 error",   "FWCERT002 warning",
                                           "FWCERT003 warning", "FWCERT004 error",   "FWCERT005 error",
                                           "FWCERT005 error",   "FWCERT006 warning", "FWCERT006 warning"};
  CHECK(got == want);

  // The expired certificate: message with CN, date, location; one location per tree location.
  const json& first = results.at(0);
  CHECK(first.at("ruleId") == "FWCERT001");
  const std::string msg = first.at("message").at("text");
  CHECK(msg.find("old.example") != std::string::npos);
  CHECK(msg.find("expired on 2020-09-13T12:26:40Z (1157 days before 2023-11-14T22:13:20Z)") != std::string::npos);
  CHECK(msg.find("x10.bin!cramfs@0x400000:/etc/ssl/01.pem") != std::string::npos);
  REQUIRE(first.at("locations").size() == 2);
  const json& loc = first.at("locations").at(1);
  CHECK(loc.at("physicalLocation").at("artifactLocation").at("uri") == "images/x10%20fw.bin");
  CHECK(loc.at("logicalLocations").at(0).at("fullyQualifiedName") ==
        "x10.bin!cramfs@0x1700000:/iKVM.jar!zip:res/client.crt");

  const json& expiring = results.at(2);
  CHECK(expiring.at("ruleId") == "FWCERT002");
  CHECK(expiring.at("message").at("text").get<std::string>().find("(in 30 days, warning window 90 days)") !=
        std::string::npos);

  bool saw_second = false, saw_key = false;
  for (const auto& r : results) {
    const auto& al = r.at("locations").at(0).at("physicalLocation").at("artifactLocation");
    if (al.at("uri") == "/abs/path/second.bin") {
      saw_second = true;
      CHECK(al.at("index") == 1);
    }
    if (r.at("ruleId") == "FWCERT005" && r.at("properties").at("encrypted") == false) {
      saw_key = true;
      CHECK(r.at("message").at("text").get<std::string>().find("matches certificate 'old.example'") !=
            std::string::npos);
      CHECK(r.at("locations").at(0).at("logicalLocations").at(0).at("fullyQualifiedName") ==
            "x10.bin!cramfs@0x400000:/etc/ssl/01.key");
    }
  }
  CHECK(saw_second);
  CHECK(saw_key);
  CHECK(run.at("artifacts").size() == 2);
  CHECK(run.at("invocations").at(0).at("toolExecutionNotifications").size() == 2);

  // No findings: no results, still a valid run.
  ScanReport clean;
  clean.input = "clean.bin";
  clean.now = kNow;
  clean.certificates = {cert("21", "ok.example", CertStatus::Valid, 1600000000, 1750000000, 578)};
  CHECK(fwcert::scan_to_sarif({clean}).at("runs").at(0).at("results").empty());
}

TEST_CASE("scan SARIF validates against the SARIF 2.1.0 schema") {
  const std::filesystem::path schema =
      std::filesystem::path(FWCERT_SOURCE_DIR) / "../shared/schemas/sarif-schema-2.1.0.json";
  if (!std::filesystem::exists(schema)) {
    WARN("SARIF schema absent (" << schema.string() << "): schema validation skipped");
    return;
  }
  // The python3 first on PATH (pyenv, venv) may lack the module Debian's python3-jsonschema put under /usr/bin.
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"})
    if (std::system((std::string(candidate) + " -c 'import json, jsonschema' >/dev/null 2>&1").c_str()) == 0) {
      python = candidate;
      break;
    }
  if (python.empty()) {
    WARN("python3 with jsonschema absent (Debian: python3-jsonschema): schema validation skipped");
    return;
  }
  const auto check = [&](const std::vector<ScanReport>& reports, const std::string& name,
                         const std::vector<fwcert::UnreadableInput>& unreadable = {}) {
    const auto file =
        std::filesystem::temp_directory_path() / ("fwcert-test-" + std::to_string(::getpid()) + "-" + name + ".sarif");
    {
      std::ofstream out(file);
      out << fwcert::scan_to_sarif(reports, unreadable).dump(2);
    }
    const std::string cmd =
        python + " -c 'import json,jsonschema,sys; "
        "jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' '" +
        schema.string() + "' '" + file.string() + "'";
    const int rc = std::system(cmd.c_str());
    std::filesystem::remove(file);
    return rc;
  };
  CHECK(check(sample_reports(), "sample") == 0);
  CHECK(check({}, "empty") == 0);
  CHECK(check(sample_reports(), "unreadable", {{"gone.bin", "gone.bin: no such file or directory"}}) == 0);

  // The validator does reject a broken document (so the check above can fail).
  const auto file =
      std::filesystem::temp_directory_path() / ("fwcert-test-" + std::to_string(::getpid()) + "-bad.sarif");
  {
    json bad = fwcert::scan_to_sarif(sample_reports());
    bad["runs"][0]["results"][0]["level"] = "fatal";
    std::ofstream out(file);
    out << bad.dump();
  }
  const std::string cmd =
      python + " -c 'import json,jsonschema,sys; "
      "jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' '" +
      schema.string() + "' '" + file.string() + "' 2>/dev/null";
  CHECK(std::system(cmd.c_str()) != 0);
  std::filesystem::remove(file);
}

// ---------------------------------------------------------------------------------------------------------------
// Issue 13: what is found must be seen (findings, summaries, width), machine output that never aborts.

namespace {

// Lines of the table that are certificate rows or the header (they start with two spaces and a status word).
std::vector<std::string> row_lines(const std::string& t) {
  std::vector<std::string> out;
  for (const auto& l : lines_of(t))
    for (const char* s : {"  STATUS", "  expired", "  expiring", "  valid", "  not-yet-valid", "  invalid-date"})
      if (l.rfind(s, 0) == 0) {
        out.push_back(l);
        break;
      }
  return out;
}

// A stored (uncompressed) zip built by hand, so a member name can hold any bytes and no UTF-8 flag is set.
Bytes make_stored_zip(const std::vector<std::pair<std::string, std::string>>& members) {
  Bytes out, central;
  for (const auto& [name, data] : members) {
    const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()),
                                                 static_cast<uInt>(data.size())));
    const auto offset = static_cast<uint32_t>(out.size());
    Bytes local(30);
    put_u32le(local, 0, 0x04034b50);
    put_u16le(local, 4, 20);
    put_u32le(local, 14, crc);
    put_u32le(local, 18, static_cast<uint32_t>(data.size()));
    put_u32le(local, 22, static_cast<uint32_t>(data.size()));
    put_u16le(local, 26, static_cast<uint16_t>(name.size()));
    append(out, local);
    append(out, name);
    append(out, data);
    Bytes cd(46);
    put_u32le(cd, 0, 0x02014b50);
    put_u16le(cd, 4, 20);
    put_u16le(cd, 6, 20);
    put_u32le(cd, 16, crc);
    put_u32le(cd, 20, static_cast<uint32_t>(data.size()));
    put_u32le(cd, 24, static_cast<uint32_t>(data.size()));
    put_u16le(cd, 28, static_cast<uint16_t>(name.size()));
    put_u32le(cd, 42, offset);
    append(central, cd);
    append(central, name);
  }
  const auto cd_offset = static_cast<uint32_t>(out.size());
  append(out, central);
  Bytes eocd(22);
  put_u32le(eocd, 0, 0x06054b50);
  put_u16le(eocd, 8, static_cast<uint16_t>(members.size()));
  put_u16le(eocd, 10, static_cast<uint16_t>(members.size()));
  put_u32le(eocd, 12, static_cast<uint32_t>(central.size()));
  put_u32le(eocd, 16, cd_offset);
  append(out, eocd);
  return out;
}

std::string sample_pem() {
  const Bytes b = read_file(source_dir() + "/samples/certs/ca.crt");
  return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("scan table: a findings column and a summary per input and overall") {
  const std::string t = table(false);
  const std::string header = line_with(t, "STATUS");
  CHECK(header.find("FINDINGS") != std::string::npos);
  CHECK(line_with(t, "old.example").find("weak key RSA-1024") != std::string::npos);
  CHECK(line_with(t, "evil").find("MD5 signature") != std::string::npos);
  CHECK(line_with(t, "valid.example").find("notBefore 1970") != std::string::npos);
  // The findings column lines up like the others.
  const size_t col = header.find("FINDINGS");
  CHECK(line_with(t, "old.example").find("weak key RSA-1024") == col);
  CHECK(line_with(t, "future.example").find("- ") == col);

  CHECK(t.find("  Summary: 6 certificates, 1 expired, 1 expiring, 1 not yet valid, 1 with an unreadable date, "
               "2 private keys shipped (1 not encrypted), 1 weak key, 1 weak signature, 1 notBefore in 1970, "
               "1 problem\n") != std::string::npos);
  CHECK(t.find("  Summary: 1 certificate, 1 expired, 1 problem\n") != std::string::npos);
  CHECK(t.find("  Overall (2 inputs): 7 certificates, 2 expired, 1 expiring, 1 not yet valid, 1 with an unreadable "
               "date, 2 private keys shipped (1 not encrypted), 1 weak key, 1 weak signature, 1 notBefore in 1970, "
               "2 problems\n") != std::string::npos);
  // One input: no overall line; nothing found says so.
  ScanReport clean;
  clean.input = "clean.bin";
  clean.certificates = {cert("21", "ok.example", CertStatus::Valid, 1600000000, 1750000000, 578)};
  std::ostringstream os;
  fwcert::write_scan_table(os, {clean}, {});
  CHECK(os.str().find("Summary: 1 certificate, no findings") != std::string::npos);
  CHECK(os.str().find("Overall") == std::string::npos);
}

TEST_CASE("fail_on_matches names what matched (the --fail-on line)") {
  const auto reports = sample_reports();
  CHECK(fwcert::fail_on_matches(reports[0], {"expired", "private-key", "weak"}) ==
        std::vector<std::string>{"expired (1 certificate)", "weak (2 certificates)", "private-key (2 keys)"});
  CHECK(fwcert::fail_on_matches(reports[0], {"expiring", "invalid-date", "not-yet-valid"}) ==
        std::vector<std::string>{"expiring (1 certificate)", "not-yet-valid (1 certificate)",
                                 "invalid-date (1 certificate)"});
  CHECK(fwcert::fail_on_matches(reports[1], {"private-key", "weak", "expiring"}).empty());
}

TEST_CASE("scan table follows the width; locations keep both ends; --wide shows everything") {
  ScanReport r;
  r.input = "vendor.zip";
  r.now = kNow;
  const std::string mid = "!cramfs@0x400000:/usr/local/share/very/deeply/nested/directory/tree/etc/ssl/";
  CertRecord a = cert("31", "a.example", CertStatus::Valid, 1600000000, 1750000000, 578);
  a.locations = {"vendor.zip!zip:X11_BMC_A_v1.bin" + mid + "server.pem"};
  CertRecord b = cert("32", "b.example", CertStatus::Valid, 1600000000, 1750000000, 578);
  b.locations = {"vendor.zip!zip:X11_BMC_B_v1.bin" + mid + "server.pem"};
  r.certificates = {a, b};

  for (size_t width : {100, 120}) {
    INFO("width " << width);
    std::ostringstream os;
    fwcert::write_scan_table(os, {r}, {false, width});
    const auto rows = row_lines(os.str());
    REQUIRE(rows.size() == 3);
    for (const auto& l : rows) CHECK(fwcert::display_width(l) <= width);
    // Both images and the file name survive, so the two rows differ.
    CHECK(rows[1].find("X11_BMC_A") != std::string::npos);
    CHECK(rows[2].find("X11_BMC_B") != std::string::npos);
    CHECK(rows[1].find("server.pem") != std::string::npos);
    CHECK(rows[1].find("...") != std::string::npos);
    CHECK(rows[1] != rows[2]);
  }
  std::ostringstream wide;
  fwcert::write_scan_table(wide, {r}, {false, 0});
  CHECK(wide.str().find("zip:X11_BMC_A_v1.bin" + mid + "server.pem") != std::string::npos);
}

TEST_CASE("display width: East Asian wide counts 2, combining marks 0") {
  CHECK(fwcert::display_width("abc") == 3);
  CHECK(fwcert::display_width("\xE4\xB8\xAD\xE6\x96\x87") == 4);  // 中文
  CHECK(fwcert::display_width("e\xCC\x81") == 1);                  // e + COMBINING ACUTE ACCENT
  CHECK(fwcert::display_width("\xEF\xBC\xA1") == 2);               // FULLWIDTH LATIN CAPITAL A
  CHECK(fwcert::display_width(fwcert::fit_end("\xE4\xB8\xAD\xE6\x96\x87\xE4\xB8\xAD\xE6\x96\x87", 7)) <= 7);
  // Never cuts inside a character: fitting gives valid UTF-8.
  const std::string cut = fwcert::fit_middle(std::string(20, 'a') + "\xE4\xB8\xAD\xE6\x96\x87" + std::string(20, 'b'), 21);
  CHECK(fwcert::valid_utf8(cut) == cut);
  CHECK(fwcert::display_width(cut) <= 21);

  // A CN of wide characters and one with a combining mark keep the next column aligned.
  ScanReport r;
  r.input = "wide.bin";
  r.now = kNow;
  r.certificates = {cert("41", "\xE8\xA8\xBC\xE6\x98\x8E\xE6\x9B\xB8", CertStatus::Valid, 1600000000, 1750000000, 578),
                    cert("42", "Cafe\xCC\x81", CertStatus::Valid, 1600000000, 1750000000, 578),
                    cert("43", "plain-name", CertStatus::Valid, 1600000000, 1750000000, 578)};
  std::ostringstream os;
  fwcert::write_scan_table(os, {r}, {false, 160});
  const auto rows = row_lines(os.str());
  REQUIRE(rows.size() == 4);
  const auto col_of = [](const std::string& line, const std::string& needle) {
    return fwcert::display_width(line.substr(0, line.find(needle)));
  };
  const size_t findings = col_of(rows[0], "FINDINGS");
  for (size_t i = 1; i < rows.size(); ++i) CHECK(col_of(rows[i], "-  ") == findings);
}

TEST_CASE("display makes control and bidi characters visible; the table uses it") {
  CHECK(fwcert::display("a\x1b[2Jb") == "a\\x1B[2Jb");
  CHECK(fwcert::display("caf\xE9") == "caf\\xE9");
  CHECK(fwcert::display("x\xE2\x80\xAEgpj.exe") == "x\\u{202E}gpj.exe");  // U+202E RIGHT-TO-LEFT OVERRIDE
  CHECK(fwcert::display("\xE2\x81\xA6z\xE2\x81\xA9") == "\\u{2066}z\\u{2069}");
  CHECK(fwcert::display("\xC2\x85") == "\\x85");  // C1 NEL
  CHECK(fwcert::display("Zertifikat f\xC3\xBCr") == "Zertifikat f\xC3\xBCr");

  ScanReport r;
  r.input = "bidi.bin";
  r.now = kNow;
  r.certificates = {cert("51", "admin\xE2\x80\xAEmoc.evil", CertStatus::Valid, 1600000000, 1750000000, 578)};
  r.certificates[0].locations = {"bidi.bin!tar:etc/\xE2\x81\xA7x.pem"};
  std::ostringstream os;
  fwcert::write_scan_table(os, {r}, {false, 0});
  CHECK(os.str().find("\xE2\x80\xAE") == std::string::npos);
  CHECK(os.str().find("\xE2\x81\xA7") == std::string::npos);
  CHECK(os.str().find("admin\\u{202E}moc.evil") != std::string::npos);
  CHECK(os.str().find("tar:etc/\\u{2067}x.pem") != std::string::npos);
}

TEST_CASE("CSV formula guard: text cells only, numbers stay numbers") {
  CHECK(fwcert::csv_field("-4507", true) == "-4507");
  CHECK(fwcert::csv_field("-1.5", true) == "-1.5");
  CHECK(fwcert::csv_field("+12", true) == "+12");
  CHECK(fwcert::csv_field("-1+2", true) == "'-1+2");
  CHECK(fwcert::csv_field("-", true) == "'-");
  CHECK(fwcert::csv_field("=SUM(A1)", true) == "'=SUM(A1)");
  CHECK(fwcert::csv_field("-2+3,4", true) == "\"'-2+3,4\"");
  CHECK(fwcert::csv_field("@x", false) == "@x");
}

TEST_CASE("common_name is the CN only: null in JSON, empty in CSV, the subject in the table") {
  // A certificate without a CN, made by openssl itself.
  const auto dir = std::filesystem::temp_directory_path() / ("fwcert-test-nocn-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string der = (dir / "nocn.der").string();
  const std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" +
                          (dir / "k.pem").string() + "' -subj '/O=No CN Corp/OU=BMC' -days 30 -outform DER -out '" +
                          der + "' >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const Bytes bytes = read_file(der);
  std::filesystem::remove_all(dir);
  auto parsed = fwcert::parse_certificate(fwcert::ByteView(bytes.data(), bytes.size()));
  REQUIRE(parsed);
  CHECK(parsed->subject.find("No CN Corp") != std::string::npos);
  CHECK(parsed->common_name.empty());

  ScanReport r;
  r.input = "nocn.der";
  r.now = kNow;
  CertRecord c = cert("61", "", CertStatus::Valid, 1600000000, 1750000000, 578);
  c.cert = *parsed;
  r.certificates = {c};
  const json doc = json::parse(fwcert::dump_json(fwcert::scan_to_json({r})));
  CHECK(doc.at("inputs").at(0).at("certificates").at(0).at("common_name").is_null());
  std::ostringstream csv;
  fwcert::write_scan_csv(csv, {r});
  const auto rows = parse_csv(csv.str());
  REQUIRE(rows.size() == 2);
  CHECK(rows[1][4].empty());
  CHECK(rows[1][5].find("No CN Corp") != std::string::npos);
  std::ostringstream t;
  fwcert::write_scan_table(t, {r}, {});
  CHECK(line_with(t.str(), "valid").find("No CN Corp") != std::string::npos);
}

TEST_CASE("SARIF: an unreadable input is a failed execution with an error notification") {
  const json s = json::parse(fwcert::dump_json(
      fwcert::scan_to_sarif(sample_reports(), {{"missing dir/x.bin", "missing dir/x.bin: no such file or directory"}})));
  const json& inv = s.at("runs").at(0).at("invocations").at(0);
  CHECK(inv.at("executionSuccessful") == false);
  const json& notes = inv.at("toolExecutionNotifications");
  REQUIRE(notes.size() == 3);
  const json& n = notes.at(2);
  CHECK(n.at("level") == "error");
  CHECK(n.at("message").at("text") == "missing dir/x.bin: no such file or directory");
  CHECK(n.at("locations").at(0).at("physicalLocation").at("artifactLocation").at("uri") == "missing%20dir/x.bin");
  // Every input read: a successful execution.
  CHECK(fwcert::scan_to_sarif(sample_reports()).at("runs").at(0).at("invocations").at(0).at("executionSuccessful") ==
        true);
}

TEST_CASE("JSON output survives names that are not UTF-8 (tar, zip, file names)") {
  const std::string pem = sample_pem();
  const std::string latin1 = "caf\xE9.crt", esc = "esc\x1b]0;PWNED\x07\x1b[2J.crt";
  const Bytes tar = make_tar({{latin1, pem, '0', ""}, {esc, pem, '0', ""}});
  const Bytes zip = make_stored_zip({{latin1, pem}});
  // dump_json replaces each invalid byte with U+FFFD, as valid_utf8 does, and never throws.
  CHECK(fwcert::dump_json(json("a\xE4\xB8.b\xFF"), -1) == "\"a\xEF\xBF\xBD\xEF\xBF\xBD.b\xEF\xBF\xBD\"");
  CHECK(fwcert::dump_json(json{{"k\xFF", 1}}, -1) == "{\"k\xEF\xBF\xBD\":1}");

  for (const auto& [name, bytes] : {std::pair<std::string, Bytes>{"bad\xE9.tar", tar}, {"bad\xE9.zip", zip}}) {
    INFO(name);
    const fwcert::ByteView view(bytes.data(), bytes.size());
    const fwcert::Tree tree = fwcert::extract_tree(view, name, walker());
    // fwextract --list --json
    const json listed = json::parse(fwcert::dump_json(fwcert::tree_manifest(tree, nullptr)));
    CHECK(listed.at("input") == "bad\xEF\xBF\xBD" + name.substr(4));
    CHECK(listed.at("input_bytes") == "626164e9" + std::string(name.substr(4) == ".tar" ? "2e746172" : "2e7a6970"));
    bool saw_latin1 = false;
    for (const auto& n : listed.at("nodes")) {
      const std::string loc = n.at("location");
      if (loc.size() >= 10 && loc.compare(loc.size() - 10, 10, "caf\xEF\xBF\xBD.crt") == 0) {
        saw_latin1 = true;
        CHECK(n.at("location_bytes").get<std::string>().find("636166e92e637274") != std::string::npos);
      }
    }
    CHECK(saw_latin1);

    // fwextract -o: the manifest is written (it was not: the tool died with exit 3 after writing the files).
    const auto out = std::filesystem::temp_directory_path() /
                     ("fwcert-test-badname-" + std::to_string(::getpid()) + name.substr(4));
    std::filesystem::remove_all(out);
    auto written = fwcert::write_tree(tree, out.string());
    REQUIRE(written);
    const Bytes manifest = read_file((out / "manifest.json").string());
    const json m = json::parse(std::string(manifest.begin(), manifest.end()));
    CHECK(m.at("nodes").size() == tree.nodes.size());
    std::filesystem::remove_all(out);

    // fwcert scan --format json / sarif: the certificates are found and the documents serialise.
    fwcert::ScanOptions so;
    so.now = kNow;
    const ScanReport r = fwcert::scan_input(view, name, walker(), so);
    CHECK_FALSE(r.certificates.empty());
    const json doc = json::parse(fwcert::dump_json(fwcert::scan_to_json({r})));
    CHECK(doc.at("inputs").at(0).at("input_bytes").is_string());
    CHECK_NOTHROW(json::parse(fwcert::dump_json(fwcert::scan_to_sarif({r}))));
    std::ostringstream t;
    fwcert::write_scan_table(t, {r}, {});
    CHECK(t.str().find('\x1b') == std::string::npos);
    CHECK(t.str().find("caf\\xE9.crt") != std::string::npos);

    // fwwalk --json
    fwcert::FileWalk fw{name, walker().walk(view, {})};
    const json walked = json::parse(fwcert::dump_json(fwcert::walks_to_json({fw})));
    REQUIRE_FALSE(walked.empty());
    CHECK(walked.at(0).at("file_bytes").is_string());
  }
}

TEST_CASE("fwwalk table: firmware text in descriptions reaches the terminal escaped") {
  fwcert::Hit h;
  h.offset = 64;
  h.type = "uimage";
  h.description = "uImage header, image name: \"\x1b]0;PWNED\x07\xE9\"";
  h.diag(64, fwcert::Severity::Warning, "name \x1b[2J");
  fwcert::FileWalk fw{"fw\xE2\x80\xAE.bin", {}};
  fw.result.hits.push_back(h);
  std::ostringstream os;
  fwcert::write_walk_table(os, fw, true);
  const std::string t = os.str();
  CHECK(t.find('\x1b') == std::string::npos);
  CHECK(t.find('\x07') == std::string::npos);
  CHECK(t.find("image name: \"\\x1B]0;PWNED\\x07\\xE9\"") != std::string::npos);
  CHECK(t.find("warning: name \\x1B[2J") != std::string::npos);
  CHECK(t.find("Target File:   fw\\u{202E}.bin") != std::string::npos);
}
