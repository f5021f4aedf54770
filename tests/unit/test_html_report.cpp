// fwcert report --html: the page writer on hand-made models (escaping, one bar per certificate, windows, odd dates,
// the script's CSP hash) and the atomic write.
#include <openssl/evp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fwcert/report/html_report.hpp"
#include "fwcert/report/metrics.hpp"
#include "support.hpp"

using fwcert::CertStatus;
using fwcert::ReportCert;
using fwcert::ReportModel;

namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

fwcert::TimeValue at(int64_t t) {
  fwcert::TimeValue v;
  v.type = "UTCTime";
  v.raw = "raw";
  v.unix = t;
  return v;
}

ReportCert cert(const std::string& cn, const std::string& sha, CertStatus st, int64_t nb, int64_t na,
                const std::string& image = "img.bin") {
  ReportCert c;
  c.cert.common_name = cn;
  c.cert.subject = "CN=" + cn;
  c.cert.issuer = "CN=Test CA";
  c.cert.sha256 = sha;
  c.cert.not_before = at(nb);
  c.cert.not_after = at(na);
  c.status = st;
  c.roles = {"stunnel [ikvm] server certificate"};
  c.placements = {{image, image + "!cramfs@0x80000:/etc/" + cn + ".pem"}};
  return c;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

ReportModel sample_model() {
  ReportModel m;
  m.now = kNow;
  fwcert::ReportImage im;
  im.path = "img.bin";
  im.certificates = 3;
  fwcert::ClockWindow w;
  w.from = 1463651196;   // 2016-05-19T09:46:36Z
  w.until = 1779011196;  // 2026-05-17T09:46:36Z
  im.bmc_window = w;
  m.images.push_back(im);
  m.certs.push_back(cert("IPMI", std::string(64, 'a'), CertStatus::Valid, 1463651196, 1779011196));
  m.certs.push_back(cert("<script>alert(1)</script>", std::string(64, 'b'), CertStatus::Expired, 1400000000,
                         1600000000));
  m.certs.push_back(cert("a\"b'c&d", std::string(64, 'c'), CertStatus::NotYetValid, 1800000000, 1900000000));
  return m;
}

}  // namespace

TEST_CASE("html: firmware text is escaped (& < > \" ' and control/bidi characters)", "[html]") {
  CHECK(fwcert::html_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(fwcert::html_text("a\"b'c&d") == "a&quot;b&#39;c&amp;d");
  CHECK(fwcert::html_text("x\x1b[31my") == "x\\x1B[31my");
  CHECK(fwcert::html_text("a\xE2\x80\xAE" "b") == "a\\u{202E}b");  // RIGHT-TO-LEFT OVERRIDE shown, not obeyed
  CHECK(fwcert::html_text("\xff") == "\\xFF");
}

TEST_CASE("html: a script-injection CN renders as text; the page's only script is its own", "[html]") {
  std::string h = fwcert::render_html_report(sample_model());
  CHECK(h.find("<script>alert") == std::string::npos);
  CHECK(h.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(count(h, "<script") == 1);
  CHECK(h.find("a\"b'c") == std::string::npos);
  CHECK(h.find("a&quot;b&#39;c&amp;d") != std::string::npos);
}

TEST_CASE("html: one bar per certificate, the status as a word, a now line", "[html]") {
  ReportModel m = sample_model();
  std::string h = fwcert::render_html_report(m);
  CHECK(count(h, "<g class=\"bar ") == 3);
  CHECK(count(h, "data-sha256=\"" + std::string(64, 'b') + "\"") == 1);
  CHECK(count(h, "<g class=\"bar s-expired\"") == 1);
  CHECK(h.find(">EXPIRED</tspan>") != std::string::npos);  // colour is never the only signal
  CHECK(h.find(">NOT YET</tspan>") != std::string::npos);
  CHECK(h.find("fill=\"url(#p-expired)\"") != std::string::npos);
  CHECK(h.find("now 2026-01-01") != std::string::npos);
  // Every location is in the bar's title.
  CHECK(h.find("img.bin!cramfs@0x80000:/etc/IPMI.pem</title>") != std::string::npos);
  // One table row per certificate.
  CHECK(count(h, "<tr id=\"c-") == 3);
  m.certs.resize(1);
  h = fwcert::render_html_report(m);
  CHECK(count(h, "<g class=\"bar ") == 1);
}

TEST_CASE("html: each image's safe BMC clock window is drawn; empty and missing windows are said", "[html]") {
  ReportModel m = sample_model();
  std::string h = fwcert::render_html_report(m);
  CHECK(count(h, "<g class=\"window\"") == 1);
  CHECK(h.find("window 2016-05-19 to 2026-05-17") != std::string::npos);
  CHECK(h.find("fill=\"url(#p-window)\"") != std::string::npos);

  fwcert::ReportImage other;
  other.path = "empty-window.bin";
  other.certificates = 2;
  other.bmc_window = fwcert::ClockWindow{};
  other.bmc_window->empty = true;
  m.images.push_back(other);
  fwcert::ReportImage none;
  none.path = "no-window.bin";
  none.certificates = 1;
  m.images.push_back(none);
  h = fwcert::render_html_report(m);
  CHECK(count(h, "<g class=\"window\"") == 2);
  CHECK(h.find("no safe window") != std::string::npos);
  CHECK(h.find("1 image: the BMC verifies none of their certificates") != std::string::npos);
}

TEST_CASE("html: unreadable dates and no-expiry certificates are marked, not guessed", "[html]") {
  ReportModel m = sample_model();
  ReportCert bad = cert("bad-date", std::string(64, 'd'), CertStatus::InvalidDate, 0, 0);
  bad.cert.not_after.unix.reset();
  bad.cert.not_after.raw = "991332000000Z";
  m.certs.push_back(bad);
  ReportCert forever = cert("forever", std::string(64, 'e'), CertStatus::Valid, 1463651196, 253402300799);
  forever.cert.not_after.no_expiry = true;
  m.certs.push_back(forever);
  ReportCert ancient = cert("ancient", std::string(64, 'f'), CertStatus::Valid, -62135596800, 1900000000);
  m.certs.push_back(ancient);
  m.certs.push_back(cert("inverted", std::string(64, '9'), CertStatus::Expired, 1600000000, 1500000000));
  std::string h = fwcert::render_html_report(m);
  CHECK(count(h, "<g class=\"bar ") == 7);
  CHECK(count(h, "inverted: notAfter before notBefore") == 1);
  CHECK(h.find("dates unreadable: 1970-01-01T00:00:00Z / invalid date (991332000000Z)") != std::string::npos);
  CHECK(h.find("no expiry &#x25B6;") != std::string::npos);
  CHECK(h.find("&#x25C0;</text>") != std::string::npos);  // year 1 is cut at the left edge, marked
  // The axis ends at the latest real notAfter (no-expiry does not stretch it) and starts at most 30 years before
  // now (year 1 and 1970 do not squash the bars).
  CHECK(h.find(">9999<") == std::string::npos);
  CHECK(h.find(">2030<") != std::string::npos);
  CHECK(h.find(">1970<") == std::string::npos);
  CHECK(h.find(">2000<") != std::string::npos);
}

TEST_CASE("html: nothing from the network; the script runs by its hash", "[html]") {
  std::string h = fwcert::render_html_report(sample_model());
  CHECK(h.find("default-src 'none'") != std::string::npos);
  CHECK(h.find("http://") == std::string::npos);
  CHECK(h.find("https://") == std::string::npos);
  size_t a = h.find("<script>") + 8, b = h.find("</script>");
  REQUIRE(b > a);
  std::string script = h.substr(a, b - a);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(script.data(), script.size(), md, &len, EVP_sha256(), nullptr);
  unsigned char b64[96] = {};
  EVP_EncodeBlock(b64, md, static_cast<int>(len));
  CHECK(h.find("script-src 'sha256-" + std::string(reinterpret_cast<char*>(b64)) + "'") != std::string::npos);
  // The table still reads without the script: the filter starts hidden, the rows are all there.
  CHECK(h.find("<div id=\"tools\" hidden>") != std::string::npos);
}

TEST_CASE("html: hundreds of loose files are grouped by folder, not one group per file", "[html]") {
  ReportModel m;
  m.now = kNow;
  for (int i = 0; i < 300; ++i) {
    char sha[65];
    std::snprintf(sha, sizeof sha, "%064d", i);
    m.certs.push_back(cert("dev" + std::to_string(i), sha, CertStatus::Valid, 1400000000, 1900000000,
                           "keys/certificates/" + std::to_string(i) + ".pem"));
  }
  std::string h = fwcert::render_html_report(m);
  CHECK(count(h, "<g class=\"bar ") == 300);
  CHECK(count(h, "<g class=\"group\"") == 1);
  CHECK(h.find("keys/certificates/ (300 certificates)") != std::string::npos);
}

TEST_CASE("html: the page is written atomically (write_file_atomically of report/metrics)", "[html]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("fwcert-html-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path = (dir / "r.html").string();
  { std::ofstream(path) << "old"; }
  REQUIRE(fwcert::write_file_atomically(path, "new page"));
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str() == "new page");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temp file left
  auto r = fwcert::write_file_atomically((dir / "no-such" / "r.html").string(), "x");
  REQUIRE(!r);
  CHECK(r.error().message.find("no-such/r.html") != std::string::npos);
  fs::remove_all(dir);
}
