// Known-compromised keys (data/compromised-keys.tsv, certs/compromised.hpp) and the metrics (report/metrics.hpp).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/compromised.hpp"
#include "fwcert/certs/scan.hpp"
#include "fwcert/core/bytes.hpp"
#include "fwcert/report/catalog_report.hpp"
#include "fwcert/report/metrics.hpp"
#include "fwcert/report/scan_report.hpp"
#include "support.hpp"

using namespace fwcert;
using fwtest::Bytes;
namespace fs = std::filesystem;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;  // the pinned clock

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

// A key made here, so no list can know it unless the test puts it there.
EVP_PKEY* test_key() {
  static Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  REQUIRE(k);
  return k.get();
}

std::string pem_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string s(data, static_cast<size_t>(n));
  BIO_free(b);
  return s;
}

std::string cert_pem(EVP_PKEY* key, const std::string& cn) {
  Cert x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 77);
  ASN1_TIME_set_string(X509_getm_notBefore(x.get()), "20200102030405Z");
  ASN1_TIME_set_string(X509_getm_notAfter(x.get()), "20300102030405Z");
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()),
                             static_cast<int>(cn.size()), -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key);
  REQUIRE(X509_sign(x.get(), key, EVP_sha256()) > 0);
  BIO* b = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_X509(b, x.get()) == 1);
  return pem_text(b);
}

std::string key_pem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  return pem_text(b);
}

// SHA-256 of the SubjectPublicKeyInfo, computed here the way `openssl pkey -pubout -outform DER | sha256sum` does.
std::string spki_sha256_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(key, &der);
  REQUIRE(n > 0);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(n), md);
  OPENSSL_free(der);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : md) s += {hex[c >> 4], hex[c & 15]};
  return s;
}

ScanReport scan_text(const std::string& text, const std::string& name, const CompromisedKeys* keys) {
  ScanOptions o;
  o.now = k2026Jan1;
  o.compromised_keys = keys;
  return scan_input(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()), name, fwtest::walker(), o);
}

bool has_public_anomaly(const std::vector<std::string>& anomalies, const std::string& source) {
  return std::find(anomalies.begin(), anomalies.end(), "private key is public (" + source + ")") != anomalies.end();
}

// Lines of the exposition text that are samples of `family` (its name followed by '{' or ' ').
size_t samples(const std::string& text, const std::string& family) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(family, 0) == 0 && line.size() > family.size() &&
        (line[family.size()] == '{' || line[family.size()] == ' '))
      ++n;
  return n;
}

struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    dir = fs::temp_directory_path() / ("fwcert-compromised-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the compromised-keys parser reads the TSV and names the file and line of a bad entry") {
  const std::string a(64, 'a'), b(64, 'B');
  auto r = parse_compromised_keys("# comment\n\n" + a + "\tHouse of Keys\thttps://x\tsome device\r\n" + b +
                                      "\tleak\t\t\n",
                                  "k.tsv");
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].spki_sha256 == a);
  CHECK((*r)[0].source == "House of Keys");
  CHECK((*r)[0].reference == "https://x");
  CHECK((*r)[0].comment == "some device");
  CHECK((*r)[1].spki_sha256 == std::string(64, 'b'));  // stored lowercase
  CHECK((*r)[1].source == "leak");

  auto short_hex = parse_compromised_keys("\n" + std::string(63, 'a') + "\tx\n", "k.tsv");
  REQUIRE_FALSE(short_hex);
  CHECK(short_hex.error().message.find("k.tsv: line 2:") == 0);
  CHECK_FALSE(parse_compromised_keys(std::string(63, 'a') + "g\tx\n", "k.tsv"));  // not hex
  CHECK_FALSE(parse_compromised_keys(a + "\n", "k.tsv"));                         // no source
  CHECK_FALSE(parse_compromised_keys(a + " House of Keys\n", "k.tsv"));           // spaces are not the separator
}

TEST_CASE("the built-in compromised keys equal data/compromised-keys.tsv") {
  auto file = load_compromised_keys_file(fwtest::source_dir() + "/data/compromised-keys.tsv");
  REQUIRE(file);
  auto builtin = parse_compromised_keys(builtin_compromised_keys_text(), "(built-in)");
  REQUIRE(builtin);
  REQUIRE(builtin->size() == file->size());
  CHECK(builtin->size() > 500);  // the House of Keys set
  for (size_t i = 0; i < builtin->size(); ++i) CHECK((*builtin)[i].spki_sha256 == (*file)[i].spki_sha256);
}

TEST_CASE("a key made in the test is flagged only once a data file lists it") {
  const std::string spki = spki_sha256_of(test_key());
  const std::string text = cert_pem(test_key(), "made here") + key_pem(test_key());

  // The shipped list (found beside the test program, as fwcert finds it) does not know a key made now.
  auto shipped = load_compromised_keys("", {});
  REQUIRE(shipped);
  REQUIRE(shipped->size() > 500);
  CHECK(shipped->find(spki) == nullptr);
  ScanReport plain = scan_text(text, "made.pem", &*shipped);
  REQUIRE(plain.certificates.size() == 1);
  REQUIRE(plain.keys.size() == 1);
  CHECK(plain.certificates[0].cert.spki_sha256 == spki);  // the digest the scan computes is the one the list holds
  CHECK(plain.keys[0].spki_sha256 == spki);
  CHECK_FALSE(has_public_anomaly(plain.certificates[0].anomalies, "House of Keys"));
  CHECK(plain.keys[0].anomalies.empty());
  CHECK(fail_on_matches(plain, {"compromised"}).empty());

  // A synthetic entry, added from a file as --compromised-keys does.
  TempDir tmp;
  const std::string extra = tmp.file("extra.tsv");
  std::ofstream(extra) << "# test\n" << spki << "\ttest list\thttps://example.invalid/advisory\tmade in the test\n";
  auto listed = load_compromised_keys("", {extra});
  REQUIRE(listed);
  CHECK(listed->size() == shipped->size() + 1);
  ScanReport flagged = scan_text(text, "made.pem", &*listed);
  REQUIRE(flagged.certificates.size() == 1);
  REQUIRE(flagged.keys.size() == 1);
  CHECK(has_public_anomaly(flagged.certificates[0].anomalies, "test list"));
  CHECK(has_public_anomaly(flagged.keys[0].anomalies, "test list"));
  CHECK(fail_on_matches(flagged, {"compromised"}) == std::vector<std::string>{"compromised (2 certificates or keys)"});
  CHECK(summarize(flagged).compromised == 2);
  CHECK(summary_text(summarize(flagged)).find("2 with a public private key") != std::string::npos);

  // Every format says it: JSON (certificate and key anomalies), CSV, the table, SARIF (FWCERT007 for both).
  const nlohmann::json j = scan_to_json({flagged});
  CHECK(j["inputs"][0]["certificates"][0]["anomalies"].dump().find("private key is public (test list)") !=
        std::string::npos);
  CHECK(j["inputs"][0]["keys"][0]["anomalies"] == nlohmann::json::array({"private key is public (test list)"}));
  std::ostringstream csv, table;
  write_scan_csv(csv, {flagged});
  CHECK(csv.str().find("private key is public (test list)") != std::string::npos);
  write_scan_table(table, {flagged}, {});
  CHECK(table.str().find("private key is public (test list)") != std::string::npos);
  const nlohmann::json sarif = scan_to_sarif({flagged});
  size_t fwcert007 = 0;
  for (const auto& res : sarif["runs"][0]["results"]) fwcert007 += res["ruleId"] == "FWCERT007";
  CHECK(fwcert007 == 2);
  CHECK(sarif["runs"][0]["results"].dump().find("private key is public (test list)") != std::string::npos);

  // And the metrics.
  const std::string prom = scan_to_prometheus({flagged}, {});
  CHECK(prom.find("fwcert_cert_key_compromised{") != std::string::npos);
  CHECK(prom.find(",source=\"test list\"} 1\n") != std::string::npos);
  CHECK(scan_to_prometheus({plain}, {}).find(",source=\"\"} 0\n") != std::string::npos);

  // Without a list, no check at all.
  ScanReport unchecked = scan_text(text, "made.pem", nullptr);
  REQUIRE(unchecked.keys.size() == 1);
  CHECK(unchecked.keys[0].anomalies.empty());
}

TEST_CASE("a certificate whose rsaEncryption has no NULL parameters pairs with its key and is flagged") {
  // Some House of Keys certificates spell their SubjectPublicKeyInfo this way; the digest of the bytes as written
  // matched neither their private key nor the list. Built here: an RSA certificate with the NULL cut out (the
  // signature no longer verifies, which the scan does not check).
  static Pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  REQUIRE(rsa);
  Cert x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 5);
  ASN1_TIME_set_string(X509_getm_notBefore(x.get()), "20200102030405Z");
  ASN1_TIME_set_string(X509_getm_notAfter(x.get()), "20300102030405Z");
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("no null"), -1, -1, 0);
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  X509_set_pubkey(x.get(), rsa.get());
  REQUIRE(X509_sign(x.get(), rsa.get(), EVP_sha256()) > 0);
  unsigned char* p = nullptr;
  const int n = i2d_X509(x.get(), &p);
  REQUIRE(n > 0);
  Bytes der(p, p + n);
  OPENSSL_free(p);
  // 30 0d 06 09 <rsaEncryption> 05 00 -> 30 0b 06 09 <rsaEncryption>, and the three enclosing SEQUENCEs (certificate,
  // TBSCertificate, SubjectPublicKeyInfo; each with a two-byte length) two bytes shorter.
  const Bytes alg = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  auto at = std::search(der.begin(), der.end(), alg.begin(), alg.end());
  REQUIRE(at != der.end());
  const size_t pos = static_cast<size_t>(at - der.begin());
  REQUIRE(pos >= 4);
  der.erase(der.begin() + static_cast<long>(pos) + 13, der.begin() + static_cast<long>(pos) + 15);
  der[pos + 1] = 0x0b;
  for (size_t len_at : {size_t{2}, size_t{6}, pos - 2}) {
    REQUIRE(der[len_at - 1] == 0x82);
    const unsigned v = (unsigned{der[len_at]} << 8 | der[len_at + 1]) - 2;
    der[len_at] = static_cast<uint8_t>(v >> 8);
    der[len_at + 1] = static_cast<uint8_t>(v);
  }
  std::string text(der.begin(), der.end());
  text += std::string(16, '\0') + key_pem(rsa.get());

  const std::string spki = spki_sha256_of(rsa.get());
  CompromisedKeys list;
  list.add({{spki, "test list", "", ""}});
  const ScanReport r = scan_text(text, "nonull.bin", &list);
  REQUIRE(r.certificates.size() == 1);
  REQUIRE(r.keys.size() == 1);
  CHECK(r.certificates[0].cert.common_name == "no null");
  CHECK(r.certificates[0].cert.spki_sha256 == spki);
  CHECK(r.certificates[0].private_keys.size() == 1);  // paired with its key
  CHECK(has_public_anomaly(r.certificates[0].anomalies, "test list"));
}

TEST_CASE("a compromised-keys file that cannot be read or parsed is an error naming it") {
  auto missing = load_compromised_keys("", {"/nonexistent/keys.tsv"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("/nonexistent/keys.tsv") != std::string::npos);
  TempDir tmp;
  std::ofstream(tmp.file("bad.tsv")) << "not a digest\tx\n";
  auto bad = load_compromised_keys("", {tmp.file("bad.tsv")});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("bad.tsv: line 1") != std::string::npos);
}

TEST_CASE("prometheus label values are valid UTF-8 with backslash, quote and line feed escaped") {
  CHECK(prometheus_label_value("plain") == "plain");
  CHECK(prometheus_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(prometheus_label_value(std::string("x\xff", 2)) == "x\xEF\xBF\xBD");
}

TEST_CASE("scan metrics: one series per certificate placement, hostile names escaped, unreadable inputs named") {
  // One certificate at two places, with a CN that tries to end the label and start a line.
  const std::string pem = cert_pem(test_key(), "evil\"} 1\nfwcert_cert_expired{x=\"\\");
  const ScanReport r = scan_text(pem + "padding between\n" + pem, "twice\n.bin", nullptr);
  REQUIRE(r.certificates.size() == 1);
  REQUIRE(r.certificates[0].locations.size() == 2);
  const std::string prom = scan_to_prometheus({r}, {{"gone.bin", "gone.bin: no such file or directory"}});
  for (const char* family : {"fwcert_cert_not_before_seconds", "fwcert_cert_not_after_seconds", "fwcert_cert_expired",
                             "fwcert_cert_expiring", "fwcert_cert_not_yet_valid", "fwcert_cert_invalid_date",
                             "fwcert_cert_private_key_shipped", "fwcert_cert_key_compromised"})
    CHECK(samples(prom, family) == 2);
  // The scan already replaces control characters in names; a file name can still hold a line feed.
  CHECK(prom.find("subject_cn=\"evil\\\"} 1") != std::string::npos);
  CHECK(prom.find("fwcert_cert_expired{x=\\\"\\\\\",") != std::string::npos);
  CHECK(prom.find("{image=\"twice\\n.bin\"") != std::string::npos);
  CHECK(prom.find("fwcert_input_readable{image=\"gone.bin\"} 0\n") != std::string::npos);
  CHECK(prom.find("fwcert_input_readable{image=\"twice\\n.bin\"} 1\n") != std::string::npos);
  CHECK(prom.find("fwcert_cert_not_after_seconds{") != std::string::npos);
  CHECK(prom.find(" 1893553445\n") != std::string::npos);  // 2030-01-02T03:04:05Z
  CHECK(prom.find("# TYPE fwcert_cert_expired gauge\n") != std::string::npos);
  // The same input twice gives the same series once.
  CHECK(samples(scan_to_prometheus({r, r}, {}), "fwcert_cert_expired") == 2);
}

TEST_CASE("write_file_atomically replaces the file and leaves no temporary file") {
  TempDir tmp;
  const std::string path = tmp.file("fwcert.prom");
  REQUIRE(write_file_atomically(path, "first\n"));
  REQUIRE(write_file_atomically(path, "second\n"));
  CHECK(read_text(path) == "second\n");
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.dir)) ++files;
  CHECK(files == 1);
  auto bad = write_file_atomically(tmp.file("no/such/dir/x.prom"), "x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("x.prom") != std::string::npos);
}

TEST_CASE("catalog: keys flagged as public, keys in several vendors' images, and one metric series per placement") {
  TempDir tmp;
  auto cat = Catalog::open(tmp.file("c.sqlite"));
  REQUIRE(cat);
  const std::string text = cert_pem(test_key(), "made here") + key_pem(test_key());
  const std::string spki = spki_sha256_of(test_key());
  CompromisedKeys list;
  list.add({{spki, "test list", "", ""}});
  const ScanReport r = scan_text(text, "img", &list);
  ImageMeta a, b, c;
  a.path = "/fw/a.bin", a.vendor = "Alpha";
  b.path = "/fw/b.bin", b.vendor = "Beta";
  c.path = "/fw/c.bin", c.vendor = "Alpha";
  REQUIRE((*cat)->record(a, r));

  // One image: not shared, but listed with keys(1), and flagged against the list.
  auto shared = (*cat)->shared_keys();
  REQUIRE(shared);
  CHECK(shared->empty());
  auto all = (*cat)->keys(1);
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().spki_sha256 == spki);
  const CatalogTable t1 = catalog_keys_table(*all, &list);
  std::ostringstream csv1;
  write_catalog_csv(csv1, t1);
  CHECK(csv1.str().find("private key is public (test list)") != std::string::npos);
  CHECK(csv1.str().find("vendors") != std::string::npos);
  CHECK(csv1.str().find("in images of") == std::string::npos);

  // The same vendor twice is not "several vendors"; a second vendor is.
  REQUIRE((*cat)->record(c, r));
  shared = (*cat)->shared_keys();
  REQUIRE(shared);
  REQUIRE(shared->size() == 1);
  CHECK(shared->front().vendor_count == 1);
  REQUIRE((*cat)->record(b, r));
  shared = (*cat)->shared_keys();
  REQUIRE(shared);
  REQUIRE(shared->size() == 1);
  CHECK(shared->front().image_count == 3);
  CHECK(shared->front().vendor_count == 2);
  std::ostringstream csv2;
  write_catalog_csv(csv2, catalog_keys_table(*shared, nullptr));
  CHECK(csv2.str().find("in images of 2 vendors") != std::string::npos);

  // Metrics: every certificate placement (1 per image here) and key placement, each once.
  CertFilter f;
  f.now = k2026Jan1;
  auto images = (*cat)->list_images();
  auto certs = (*cat)->certificates(f);
  auto keys = (*cat)->keys(1);
  REQUIRE(images);
  REQUIRE(certs);
  REQUIRE(keys);
  size_t placements = 0;
  for (const auto& e : *certs) placements += e.placements.size();
  CHECK(placements == 3);
  const std::string prom = catalog_to_prometheus(*images, *certs, *keys, &list, k2026Jan1);
  CHECK(samples(prom, "fwcert_cert_not_after_seconds") == placements);
  CHECK(samples(prom, "fwcert_cert_expired") == placements);
  CHECK(samples(prom, "fwcert_private_key_shipped") == 3);
  CHECK(samples(prom, "fwcert_input_readable") == 3);
  CHECK(prom.find("fwcert_cert_private_key_shipped{image=\"/fw/a.bin\"") != std::string::npos);
  CHECK(prom.find("fwcert_key_compromised{image=\"/fw/b.bin\"") != std::string::npos);
  CHECK(prom.find(",source=\"test list\"} 1\n") != std::string::npos);
  CHECK(prom.find("fwcert_cert_expired{") != std::string::npos);
}

TEST_CASE("House of Keys: a certificate and its key are flagged with the shipped list") {
  auto pem = fwtest::corpus_file("houseofkeys/certificates/007fdaa8c08e250b5587ae9a49345a5c41e971cf3a52242670fc8bfb2e6d75ab.pem");
  auto key = fwtest::corpus_file("houseofkeys/certificates/007fdaa8c08e250b5587ae9a49345a5c41e971cf3a52242670fc8bfb2e6d75ab.key");
  if (!pem || !key) return;
  auto shipped = load_compromised_keys("", {});
  REQUIRE(shipped);
  for (const auto& path : {*pem, *key}) {
    const Bytes data = fwtest::read_file(path);
    ScanOptions o;
    o.now = k2026Jan1;
    o.compromised_keys = &*shipped;
    const ScanReport r = scan_input(ByteView(data.data(), data.size()), path, fwtest::walker(), o);
    INFO(path);
    size_t flagged = 0;
    for (const auto& c : r.certificates) flagged += has_public_anomaly(c.anomalies, "House of Keys");
    for (const auto& k : r.keys) flagged += has_public_anomaly(k.anomalies, "House of Keys");
    CHECK(flagged == 1);
    CHECK(fail_on_matches(r, {"compromised"}).size() == 1);
  }
}

TEST_CASE("House of Keys: every certificate of the folder whose key is in the data file is flagged") {
  auto dir = fwtest::corpus_file("houseofkeys/certificates");
  if (!dir) return;
  auto shipped = load_compromised_keys("", {});
  REQUIRE(shipped);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(*dir))
    if (e.path().extension() == ".pem") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  size_t certificates = 0, listed = 0, flagged = 0, keys = 0, keys_flagged = 0;
  ScanOptions o;
  o.now = k2026Jan1;
  o.extract.threads = 1;
  o.compromised_keys = &*shipped;
  for (const auto& path : files) {
    for (const std::string& p : {path, path.substr(0, path.size() - 4) + ".key"}) {
      if (!fs::exists(p)) continue;
      const Bytes data = fwtest::read_file(p);
      const ScanReport r = scan_input(ByteView(data.data(), data.size()), p, fwtest::walker(), o);
      for (const auto& c : r.certificates) {
        ++certificates;
        const bool in_list = shipped->find(c.cert.spki_sha256) != nullptr;
        const bool is_flagged = has_public_anomaly(c.anomalies, "House of Keys");
        listed += in_list;
        flagged += is_flagged;
        INFO(p);
        CHECK(in_list == is_flagged);
      }
      for (const auto& k : r.keys) {
        ++keys;
        keys_flagged += has_public_anomaly(k.anomalies, "House of Keys");
      }
    }
  }
  WARN("House of Keys folder: " << files.size() << " certificate files, " << certificates << " certificates, "
                                << listed << " with their key in the data file, " << flagged << " flagged; " << keys
                                << " private keys, " << keys_flagged << " flagged");
  CHECK(files.size() > 300);
  CHECK(listed == flagged);
  CHECK(flagged == certificates);  // the list holds every key of the folder, so every certificate there is flagged
  CHECK(flagged > 300);
  CHECK(keys_flagged == keys);
}
