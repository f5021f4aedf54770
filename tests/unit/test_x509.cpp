// X.509 certificates, private keys and keystores (fwcert/certs/x509.hpp). Synthetic certificates and keys are built
// with the OpenSSL 3 API at run time; every judgement gets an explicit `now` (no test depends on today's date).
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "fwcert/certs/x509.hpp"
#include "support.hpp"

using namespace fwtest;
using namespace fwcert;

namespace {

namespace fs = std::filesystem;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509P = std::unique_ptr<X509, X509Free>;
using BioP = std::unique_ptr<BIO, BioFree>;

Pkey rsa_key(unsigned bits) { return Pkey(EVP_RSA_gen(bits)); }
Pkey ec_key() { return Pkey(EVP_EC_gen("P-256")); }
Pkey ed25519_key() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

// Sets an ASN.1 time with exactly these bytes and tag (bypassing OpenSSL's own checks, so that forms OpenSSL will
// not read back, such as UTCTime without seconds, can be produced).
void set_time(ASN1_TIME* t, int type, const std::string& raw) {
  REQUIRE(ASN1_STRING_set(t, raw.data(), static_cast<int>(raw.size())) == 1);
  t->type = type;
}

struct CertSpec {
  long serial = 1;
  std::string serial_hex;  // overrides serial when set (BN_hex2bn; "-" allowed)
  int nb_type = V_ASN1_UTCTIME;
  std::string nb = "200101000000Z";
  int na_type = V_ASN1_UTCTIME;
  std::string na = "300101000000Z";
  std::string cn = "test";
  const EVP_MD* md = nullptr;  // nullptr = SHA-256 (or none for Ed25519)
  bool ca = false;
};

Bytes make_cert(EVP_PKEY* key, const CertSpec& s, EVP_PKEY* signer = nullptr, const std::string& issuer_cn = "") {
  X509P x(X509_new());
  REQUIRE(x);
  X509_set_version(x.get(), 2);
  if (!s.serial_hex.empty()) {
    BIGNUM* bn = nullptr;
    REQUIRE(BN_hex2bn(&bn, s.serial_hex.c_str()) > 0);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
    BN_free(bn);
  } else {
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), s.serial);
  }
  set_time(X509_getm_notBefore(x.get()), s.nb_type, s.nb);
  set_time(X509_getm_notAfter(x.get()), s.na_type, s.na);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("US"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(s.cn.c_str()), -1,
                             -1, 0);
  if (issuer_cn.empty()) {
    X509_set_issuer_name(x.get(), name);
  } else {
    X509_NAME* iss = X509_NAME_new();
    X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(issuer_cn.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(x.get(), iss);
    X509_NAME_free(iss);
  }
  X509_set_pubkey(x.get(), key);
  if (s.ca) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    REQUIRE(ext);
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EVP_PKEY* sk = signer != nullptr ? signer : key;
  const EVP_MD* md = s.md;
  if (md == nullptr && EVP_PKEY_get_base_id(sk) != EVP_PKEY_ED25519) md = EVP_sha256();
  REQUIRE(X509_sign(x.get(), sk, md) > 0);
  unsigned char* der = nullptr;
  int n = i2d_X509(x.get(), &der);
  REQUIRE(n > 0);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Certificate parse_ok(const Bytes& der) {
  auto r = parse_certificate(ByteView(der.data(), der.size()));
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r.ok());
  return r.value();
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
bool has_prefix(const std::vector<std::string>& v, const std::string& p) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.rfind(p, 0) == 0; });
}

int64_t utc_year_of(const Certificate& c) { return std::stoll(rfc3339(*c.not_after.unix).substr(0, 4)); }

int64_t T(const std::string& text) {
  auto t = parse_user_time(text);
  REQUIRE(t.has_value());
  return *t;
}

CertStatus judge(const Certificate& c, int64_t now, int warn, std::optional<int64_t>& days) {
  return judge_certificate(c, now, warn, days);
}

std::string bio_text(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  return std::string(p, static_cast<size_t>(n));
}

std::string spki_of(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(k, &der);
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  EVP_Digest(der, static_cast<size_t>(n), md.data(), &len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  std::string s;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    s += buf;
  }
  return s;
}

std::optional<PrivateKey> key_of(const std::string& s) { return parse_private_key(ByteView(s)); }
std::optional<PrivateKey> key_of(const Bytes& b) { return parse_private_key(ByteView(b.data(), b.size())); }

// All PEM blocks with this label, decoded (OpenSSL's generic PEM reader: no parsing of the contents).
std::vector<Bytes> pem_ders(const Bytes& file, const std::string& label = "CERTIFICATE") {
  std::vector<Bytes> out;
  BioP bio(BIO_new_mem_buf(file.data(), static_cast<int>(file.size())));
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    if (label == name) out.emplace_back(data, data + len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  ERR_clear_error();
  return out;
}

std::optional<Certificate> corpus_cert(const std::string& rel, size_t index = 0) {
  auto path = corpus_file(rel);
  if (!path) return std::nullopt;
  Bytes file = read_file(*path);
  std::vector<Bytes> ders = pem_ders(file);
  if (ders.empty()) ders.push_back(file);  // DER file
  REQUIRE(index < ders.size());
  return parse_ok(ders[index]);
}

// SSH wire-format helpers for a synthetic openssh-key-v1 container.
void ssh_u32(Bytes& b, uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void ssh_string(Bytes& b, const Bytes& s) {
  ssh_u32(b, static_cast<uint32_t>(s.size()));
  append(b, s);
}
void ssh_string(Bytes& b, const std::string& s) { ssh_string(b, Bytes(s.begin(), s.end())); }
std::string openssh_pem(const Bytes& pubblob, const std::string& cipher) {
  Bytes body;
  append(body, std::string("openssh-key-v1", 14));
  body.push_back(0);
  ssh_string(body, cipher);
  ssh_string(body, std::string(cipher == "none" ? "none" : "bcrypt"));
  ssh_string(body, std::string());
  ssh_u32(body, 1);
  ssh_string(body, pubblob);
  ssh_string(body, Bytes(64, 0x11));  // private section (not read)
  std::string b64(4 * ((body.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), body.data(), static_cast<int>(body.size()));
  b64.resize(static_cast<size_t>(n));
  std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 70) pem += b64.substr(i, 70) + "\n";
  return pem + "-----END OPENSSH PRIVATE KEY-----\n";
}
Bytes bn_bytes(EVP_PKEY* k, const char* param) {
  BIGNUM* bn = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(k, param, &bn) == 1);
  Bytes out(static_cast<size_t>(BN_num_bytes(bn)) + 1, 0);  // leading 0: SSH mpint is signed
  BN_bn2bin(bn, out.data() + 1);
  BN_free(bn);
  return out;
}

void put_utf(Bytes& b, const std::string& s) {
  b.push_back(static_cast<uint8_t>(s.size() >> 8));
  b.push_back(static_cast<uint8_t>(s.size()));
  append(b, s);
}
void put_be32(Bytes& b, uint32_t v) { ssh_u32(b, v); }

}  // namespace

// =================================================================================================================
// Time text

TEST_CASE("parse_asn1_time: UTCTime century rule, seconds, offsets") {
  auto t = parse_asn1_time("UTCTime", "260517094636Z");
  REQUIRE(t.unix);
  CHECK(*t.unix == 1779011196);
  CHECK(rfc3339(*t.unix) == "2026-05-17T09:46:36Z");
  CHECK(t.error.empty());
  CHECK_FALSE(t.no_expiry);
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "500101000000Z").unix) == "1950-01-01T00:00:00Z");
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "491231235959Z").unix) == "2049-12-31T23:59:59Z");
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "991231235959Z").unix) == "1999-12-31T23:59:59Z");
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "000101000000Z").unix) == "2000-01-01T00:00:00Z");
  CHECK(*parse_asn1_time("UTCTime", "700101000000Z").unix == 0);
  // Relaxed forms TLS peers reject: no unix time (invalid-date), the lenient reading kept. Without seconds (X.680
  // allows it; zlint utcNoSeconds); -0500: local time five hours behind UTC.
  CHECK_FALSE(parse_asn1_time("UTCTime", "1204270000Z").unix);
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "1204270000Z").lenient) == "2012-04-27T00:00:00Z");
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "160810142728-0500").lenient) == "2016-08-10T19:27:28Z");
  CHECK(rfc3339(*parse_asn1_time("UTCTime", "160810142728+0130").lenient) == "2016-08-10T12:57:28Z");
  CHECK(parse_asn1_time("UTCTime", "160810142728+0130").error == "rejected by TLS peers (OpenSSL): an offset instead of Z");
  CHECK_FALSE(parse_asn1_time("UTCTime", "260517094636Z").lenient);
  // Feb 29 in a leap year; 2000 is leap, 2100 is not (GeneralizedTime).
  CHECK(parse_asn1_time("UTCTime", "240229000000Z").unix);
  CHECK(parse_asn1_time("UTCTime", "000229000000Z").unix);
  CHECK_FALSE(parse_asn1_time("GeneralizedTime", "21000229000000Z").unix);
  CHECK(parse_asn1_time("GeneralizedTime", "24000229000000Z").unix);
}

TEST_CASE("parse_asn1_time: GeneralizedTime forms, no expiry, leap second") {
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "20500101120100Z").unix) == "2050-01-01T12:01:00Z");
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "19241031140926Z").unix) == "1924-10-31T14:09:26Z");
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "21140101000000Z").unix) == "2114-01-01T00:00:00Z");
  // Fraction cut off; no seconds; offset: read leniently only.
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "20571201060708.999Z").lenient) == "2057-12-01T06:07:08Z");
  CHECK(parse_asn1_time("GeneralizedTime", "20571201060708.999Z").error == "rejected by TLS peers (OpenSSL): a fraction");
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "205712010607Z").lenient) == "2057-12-01T06:07:00Z");
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "20560811122001-0600").lenient) == "2056-08-11T18:20:01Z");
  CHECK_FALSE(parse_asn1_time("GeneralizedTime", "20560811122001-0600").unix);
  auto ne = parse_asn1_time("GeneralizedTime", "99991231235959Z");
  REQUIRE(ne.unix);
  CHECK(ne.no_expiry);
  CHECK(*ne.unix == 253402300799);
  CHECK_FALSE(parse_asn1_time("GeneralizedTime", "99991231235958Z").no_expiry);
  // Leap second: OpenSSL rejects it; read leniently as :59.
  CHECK_FALSE(parse_asn1_time("GeneralizedTime", "20161231235960Z").unix);
  CHECK(rfc3339(*parse_asn1_time("GeneralizedTime", "20161231235960Z").lenient) == "2016-12-31T23:59:59Z");
  CHECK_FALSE(parse_asn1_time("GeneralizedTime", "20161231235961Z").unix);
}

TEST_CASE("parse_asn1_time: unreadable texts give no unix time and an error") {
  const std::pair<const char*, const char*> bad[] = {
      {"UTCTime", "260230000000Z"},            // Feb 30
      {"UTCTime", "261301000000Z"},            // month 13
      {"UTCTime", "260001000000Z"},            // month 0
      {"UTCTime", "260100000000Z"},            // day 0
      {"UTCTime", "260431000000Z"},            // Apr 31
      {"UTCTime", "250229000000Z"},            // not a leap year
      {"UTCTime", "260517244636Z"},            // hour 24
      {"UTCTime", "260517096036Z"},            // minute 60
      {"UTCTime", "260517094636"},             // no zone
      {"UTCTime", "2605170946Z1"},             // trailing
      {"UTCTime", "26O517094636Z"},            // letter O
      {"UTCTime", "2613"},                     // short
      {"UTCTime", ""},                         //
      {"UTCTime", "260517094636.5Z"},          // fraction in UTCTime
      {"UTCTime", "260517094636+2400"},        // offset hour
      {"UTCTime", "260517094636+01"},          // short offset
      {"UTCTime", "-60517094636Z"},            // sign
      {"UTCTime", " 60517094636Z"},            // space
      {"GeneralizedTime", "260517094636Z"},    // two-digit year in GeneralizedTime
      {"GeneralizedTime", "2026051709Z"},      // no minutes
      {"GeneralizedTime", "20260517094636.Z"}, // empty fraction
      {"GeneralizedTime", "202605170946.5Z"},  // fraction without seconds
      {"GeneralizedTime", "20260517094636"},   // local time
      {"tag 4", "260517094636Z"},              // not a time type
  };
  for (const auto& [type, raw] : bad) {
    INFO(type << " " << raw);
    auto t = parse_asn1_time(type, raw);
    CHECK_FALSE(t.unix.has_value());
    CHECK_FALSE(t.error.empty());
    CHECK(t.raw == raw);
    CHECK_FALSE(t.no_expiry);
  }
}

TEST_CASE("rfc3339 and parse_user_time") {
  CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339(-1) == "1969-12-31T23:59:59Z");
  CHECK(rfc3339(2147483647) == "2038-01-19T03:14:07Z");
  CHECK(rfc3339(253402300799) == "9999-12-31T23:59:59Z");
  CHECK(rfc3339(951782400) == "2000-02-29T00:00:00Z");
  CHECK(rfc3339(INT64_MAX).size() > 20);  // any 64-bit value formats without UB
  CHECK(rfc3339(INT64_MIN).size() > 20);
  CHECK(parse_user_time("2026-05-17T09:46:36Z") == 1779011196);
  CHECK(parse_user_time("2026-05-17 09:46:36") == 1779011196);
  CHECK(parse_user_time("@1779010996") == 1779010996);
  CHECK(rfc3339(1779010996) == "2026-05-17T09:43:16Z");
  CHECK(parse_user_time("2026-05-17") == 1778976000);
  CHECK(parse_user_time("@1779010996") == 1779010996);
  CHECK(parse_user_time("@-5") == -5);
  for (const char* bad : {"", "2026-05-17T09:46:36", "2026-05-17T09:46:36+02:00", "2026-02-30", "2026-13-01",
                          "2026-5-17", "17.05.2026", "@", "@12x", "tomorrow", "2026-05-17 25:00:00",
                          "2026-05-17T09:46:60Z", "@99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_user_time(bad).has_value());
  }
}

// =================================================================================================================
// Synthetic certificates

TEST_CASE("parse_certificate: fields of a synthetic RSA-2048 CA certificate") {
  Pkey k = rsa_key(2048);
  CertSpec s;
  s.serial_hex = "D1B5B4583567AC1C";
  s.nb = "160519094636Z";
  s.na = "260517094636Z";
  s.cn = "IPMI";
  s.ca = true;
  Bytes der = make_cert(k.get(), s);
  Certificate c = parse_ok(der);
  CHECK(c.serial == "D1B5B4583567AC1C");
  CHECK(c.subject == "C=US, CN=IPMI");
  CHECK(c.issuer == c.subject);
  CHECK(c.common_name == "IPMI");
  CHECK(c.key.algorithm == "RSA");
  CHECK(c.key.bits == 2048);
  CHECK(c.signature_algorithm == "sha256WithRSAEncryption");
  CHECK(c.self_signed);
  CHECK(c.is_ca);
  CHECK(c.der == der);
  CHECK(c.sha256.size() == 64);
  CHECK(c.sha1.size() == 40);
  CHECK(c.spki_sha256 == spki_of(k.get()));
  CHECK(c.not_before.type == "UTCTime");
  CHECK(c.not_before.raw == "160519094636Z");
  CHECK(rfc3339(*c.not_after.unix) == "2026-05-17T09:46:36Z");
  CHECK(certificate_anomalies(c).empty());
  // Trailing bytes after the certificate are not part of it.
  Bytes padded = der;
  padded.resize(der.size() + 100, 0xFF);
  CHECK(parse_ok(padded).sha256 == c.sha256);
}

TEST_CASE("parse_certificate: not self-signed when signed by another key; EC and Ed25519 keys") {
  Pkey leaf = ec_key(), ca = rsa_key(2048);
  Certificate c = parse_ok(make_cert(leaf.get(), CertSpec{}, ca.get(), "Some CA"));
  CHECK_FALSE(c.self_signed);
  CHECK_FALSE(c.is_ca);
  CHECK(c.issuer == "CN=Some CA");
  CHECK(c.key.algorithm == "EC");
  CHECK(c.key.curve == "prime256v1");
  CHECK(c.key.bits == 256);
  // Same name as its issuer but signed by a different key: not self-signed.
  CertSpec same;
  same.cn = "x";
  Certificate forged = parse_ok(make_cert(leaf.get(), same, ca.get(), ""));
  CHECK_FALSE(forged.self_signed);

  Pkey ed = ed25519_key();
  Certificate e = parse_ok(make_cert(ed.get(), CertSpec{}));
  CHECK(e.key.algorithm == "Ed25519");
  CHECK(e.signature_algorithm == "ED25519");
  CHECK(e.self_signed);
  CHECK(e.spki_sha256 == spki_of(ed.get()));
}

TEST_CASE("parse_certificate: serials (negative, zero, large) are accepted") {
  Pkey k = ec_key();
  CertSpec s;
  s.serial = -5;
  Certificate neg = parse_ok(make_cert(k.get(), s));
  CHECK(neg.serial == "-5");
  CHECK(has(certificate_anomalies(neg), "negative serial"));
  s.serial = 0;
  Certificate zero = parse_ok(make_cert(k.get(), s));
  CHECK(zero.serial == "0");
  CHECK(has(certificate_anomalies(zero), "zero serial"));
  CHECK_FALSE(has(certificate_anomalies(zero), "negative serial"));
  s.serial_hex = "16E39F2C684405D62F4A8A9E2CD7D2F74000000000";
  CHECK(parse_ok(make_cert(k.get(), s)).serial == "16E39F2C684405D62F4A8A9E2CD7D2F74000000000");
  s.serial_hex = "-FBCE996C13";
  CHECK(parse_ok(make_cert(k.get(), s)).serial == "-FBCE996C13");
}

TEST_CASE("parse_certificate: date encodings and their anomalies") {
  Pkey k = ec_key();
  struct Case {
    int nb_type;
    const char* nb;
    int na_type;
    const char* na;
  };
  SECTION("UTCTime 1950 and 2049 edges") {
    CertSpec s;
    s.nb = "500101000000Z";
    s.na = "491231235959Z";
    Certificate c = parse_ok(make_cert(k.get(), s));
    CHECK(rfc3339(*c.not_before.unix) == "1950-01-01T00:00:00Z");
    CHECK(rfc3339(*c.not_after.unix) == "2049-12-31T23:59:59Z");
    auto a = certificate_anomalies(c);
    CHECK(has(a, "notAfter after 2038-01-19 (32-bit time_t)"));
    CHECK_FALSE(has_prefix(a, "notBefore uses GeneralizedTime"));
    CHECK_FALSE(has(a, "inverted validity window"));
  }
  SECTION("GeneralizedTime 2050 is right; GeneralizedTime for 1970 is the wrong type") {
    CertSpec s;
    s.nb_type = V_ASN1_GENERALIZEDTIME;
    s.nb = "19700101000000Z";
    s.na_type = V_ASN1_GENERALIZEDTIME;
    s.na = "20500101000000Z";
    Certificate c = parse_ok(make_cert(k.get(), s));
    CHECK(*c.not_before.unix == 0);
    CHECK(c.not_before.type == "GeneralizedTime");
    auto a = certificate_anomalies(c);
    CHECK(has(a, "notBefore in 1970 (generated without a clock)"));
    CHECK(has(a, "notBefore uses GeneralizedTime for a year in 1950-2049"));
    CHECK_FALSE(has(a, "notAfter uses GeneralizedTime for a year in 1950-2049"));
    CHECK(has(a, "notAfter after 2038-01-19 (32-bit time_t)"));
  }
  SECTION("no expiry") {
    CertSpec s;
    s.na_type = V_ASN1_GENERALIZEDTIME;
    s.na = "99991231235959Z";
    Certificate c = parse_ok(make_cert(k.get(), s));
    CHECK(c.not_after.no_expiry);
    std::optional<int64_t> days;
    CHECK(judge(c, T("2030-01-01"), 90, days) == CertStatus::Valid);
    CHECK_FALSE(days.has_value());
    CHECK(judge(c, T("2019-01-01"), 90, days) == CertStatus::NotYetValid);
  }
  SECTION("inverted window") {
    CertSpec s;
    s.nb = "140101000000Z";
    s.na_type = V_ASN1_GENERALIZEDTIME;
    s.na = "19241031140926Z";
    Certificate c = parse_ok(make_cert(k.get(), s));
    auto a = certificate_anomalies(c);
    CHECK(has(a, "inverted validity window"));
    std::optional<int64_t> days;
    CHECK(judge(c, T("2013-01-01"), 90, days) == CertStatus::NotYetValid);
    CHECK(judge(c, T("2015-01-01"), 90, days) == CertStatus::Expired);
    REQUIRE(days);
    CHECK(*days < 0);
  }
  SECTION("UTCTime without seconds and with an offset: OpenSSL refuses them, the DER walk keeps the certificate") {
    CertSpec s;
    s.nb = "1204270000Z";
    s.na = "220427050000-0500";
    Bytes der = make_cert(k.get(), s);
    Certificate c = parse_ok(der);
    CHECK_FALSE(c.not_before.unix);
    CHECK_FALSE(c.not_after.unix);
    CHECK(rfc3339(*c.not_before.lenient) == "2012-04-27T00:00:00Z");
    CHECK(rfc3339(*c.not_after.lenient) == "2022-04-27T10:00:00Z");
    std::optional<int64_t> days;
    CHECK(judge(c, T("2020-01-01"), 90, days) == CertStatus::InvalidDate);
    CHECK(c.subject == "C=US, CN=test");
    CHECK(c.key.algorithm == "EC");
    CHECK(c.spki_sha256 == spki_of(k.get()));
    CHECK(c.serial == "1");
    CHECK(c.signature_algorithm == "ecdsa-with-SHA256");
    CHECK(c.der == der);
    auto a = certificate_anomalies(c);
    CHECK(has(a, "notBefore rejected by TLS peers (OpenSSL): no seconds; read leniently as 2012-04-27T00:00:00Z"));
    CHECK(has(a, "notAfter rejected by TLS peers (OpenSSL): an offset instead of Z; read leniently as "
                 "2022-04-27T10:00:00Z"));
  }
}

TEST_CASE("parse_certificate: weak keys and signatures") {
  Pkey k1024 = rsa_key(1024);
  CertSpec s;
  s.md = EVP_sha1();
  Certificate c = parse_ok(make_cert(k1024.get(), s));
  CHECK(c.signature_algorithm == "sha1WithRSAEncryption");
  auto a = certificate_anomalies(c);
  CHECK(has(a, "weak key: RSA-1024"));
  CHECK(has(a, "weak signature: sha1WithRSAEncryption"));
  s.md = EVP_md5();
  Bytes md5 = make_cert(k1024.get(), s);
  Certificate m = parse_ok(md5);
  CHECK(m.signature_algorithm == "md5WithRSAEncryption");
  CHECK(has(certificate_anomalies(m), "weak signature: md5WithRSAEncryption"));
  Pkey k2048 = rsa_key(2048);
  Certificate strong = parse_ok(make_cert(k2048.get(), CertSpec{}));
  CHECK_FALSE(has_prefix(certificate_anomalies(strong), "weak"));
}

TEST_CASE("parse_certificate: a notAfter corrupted after signing is an invalid date, never valid or expired") {
  Pkey k = ec_key();
  CertSpec s;
  s.na = "260517094636Z";
  Bytes der = make_cert(k.get(), s);
  std::string text(der.begin(), der.end());
  size_t at = text.find("260517094636Z");
  REQUIRE(at != std::string::npos);
  for (const char* patch : {"261317094636Z", "26051709463AZ", "260230094636Z", "2605170946369"}) {
    INFO(patch);
    Bytes bad = der;
    std::memcpy(bad.data() + at, patch, 13);
    Certificate c = parse_ok(bad);
    CHECK_FALSE(c.not_after.unix.has_value());
    CHECK(c.not_after.raw == patch);
    CHECK_FALSE(c.not_after.error.empty());
    std::optional<int64_t> days = 5;
    for (const char* now : {"2000-01-01", "2026-05-17", "2040-01-01"}) {
      CHECK(judge(c, T(now), 90, days) == CertStatus::InvalidDate);
      CHECK_FALSE(days.has_value());
    }
    CHECK(has(certificate_anomalies(c), "unreadable notAfter"));
  }
  // A time with a wrong tag (OCTET STRING instead of UTCTime): OpenSSL refuses, our walk reports the tag.
  Bytes tagged = der;
  REQUIRE(at >= 2);
  tagged[at - 2] = 0x04;
  Certificate c = parse_ok(tagged);
  CHECK(c.not_after.type == "tag 4");
  CHECK_FALSE(c.not_after.unix);
}

TEST_CASE("parse_certificate: garbage, truncation and bit flips never crash") {
  Pkey k = ec_key();
  Bytes der = make_cert(k.get(), CertSpec{});
  CHECK_FALSE(parse_certificate(ByteView()).ok());
  Bytes rnd = random_bytes(4096, 7);
  CHECK_FALSE(parse_certificate(ByteView(rnd.data(), rnd.size())).ok());
  for (size_t n = 0; n < der.size(); n += 7) CHECK_FALSE(parse_certificate(ByteView(der.data(), n)).ok());
  for (size_t i = 0; i < der.size(); ++i) {
    Bytes b = der;
    b[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto r = parse_certificate(ByteView(b.data(), b.size()));
    if (r) {
      std::optional<int64_t> days;
      (void)judge(r.value(), 0, 90, days);
      (void)certificate_anomalies(r.value());
    }
  }
}

TEST_CASE("judge_certificate: boundaries") {
  Pkey k = ec_key();
  CertSpec s;
  s.nb = "160519094636Z";
  s.na = "260517094636Z";
  Certificate c = parse_ok(make_cert(k.get(), s));
  int64_t nb = *c.not_before.unix, na = *c.not_after.unix;
  std::optional<int64_t> days;
  CHECK(judge(c, nb - 1, 90, days) == CertStatus::NotYetValid);
  CHECK(judge(c, nb, 90, days) == CertStatus::Valid);
  CHECK(judge(c, na, 90, days) == CertStatus::Expiring);  // valid at exactly notAfter
  CHECK(days == 0);
  CHECK(judge(c, na + 1, 90, days) == CertStatus::Expired);
  CHECK(days == -1);  // floor
  CHECK(judge(c, na + 86400, 90, days) == CertStatus::Expired);
  CHECK(days == -1);
  CHECK(judge(c, na + 86401, 90, days) == CertStatus::Expired);
  CHECK(days == -2);
  CHECK(judge(c, na - 90 * 86400, 90, days) == CertStatus::Expiring);  // window edge is inside
  CHECK(days == 90);
  CHECK(judge(c, na - 90 * 86400 - 1, 90, days) == CertStatus::Valid);
  CHECK(days == 90);
  CHECK(judge(c, na - 1, 0, days) == CertStatus::Valid);
  CHECK(judge(c, na, 0, days) == CertStatus::Expiring);
  CHECK(days == 0);
  CHECK(judge(c, INT64_MIN, 90, days) == CertStatus::NotYetValid);
  CHECK(judge(c, INT64_MAX, 90, days) == CertStatus::Expired);
}

// =================================================================================================================
// Private keys

TEST_CASE("parse_private_key: PEM and DER forms pair with their certificate by SPKI") {
  struct KeyCase {
    const char* name;
    Pkey key;
    const char* trad;
  };
  KeyCase cases[] = {{"RSA", rsa_key(2048), "PEM PKCS#1"}, {"EC", ec_key(), "PEM SEC1"}};
  for (auto& kc : cases) {
    INFO(kc.name);
    Certificate cert = parse_ok(make_cert(kc.key.get(), CertSpec{}));
    BioP trad(BIO_new(BIO_s_mem()));
    REQUIRE(PEM_write_bio_PrivateKey_traditional(trad.get(), kc.key.get(), nullptr, nullptr, 0, nullptr, nullptr));
    auto k1 = key_of(bio_text(trad.get()));
    REQUIRE(k1);
    CHECK(k1->format == kc.trad);
    CHECK_FALSE(k1->encrypted);
    CHECK(k1->spki_sha256 == cert.spki_sha256);
    CHECK(k1->key.algorithm == cert.key.algorithm);
    CHECK(k1->key.bits == cert.key.bits);

    BioP p8(BIO_new(BIO_s_mem()));
    REQUIRE(PEM_write_bio_PrivateKey(p8.get(), kc.key.get(), nullptr, nullptr, 0, nullptr, nullptr));
    auto k2 = key_of(bio_text(p8.get()));
    REQUIRE(k2);
    CHECK(k2->format == "PEM PKCS#8");
    CHECK(k2->spki_sha256 == cert.spki_sha256);

    // Text around the block, and a certificate before it (cert + key in one file).
    auto k3 = key_of("junk\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + bio_text(p8.get()));
    REQUIRE(k3);
    CHECK(k3->spki_sha256 == cert.spki_sha256);

    unsigned char* der = nullptr;
    int n = i2d_PrivateKey(kc.key.get(), &der);  // traditional DER
    REQUIRE(n > 0);
    Bytes tder(der, der + n);
    OPENSSL_free(der);
    auto k4 = key_of(tder);
    REQUIRE(k4);
    CHECK(k4->spki_sha256 == cert.spki_sha256);
    CHECK(k4->format.rfind("DER ", 0) == 0);

    BioP p8der(BIO_new(BIO_s_mem()));
    REQUIRE(i2d_PKCS8PrivateKey_bio(p8der.get(), kc.key.get(), nullptr, nullptr, 0, nullptr, nullptr));
    std::string p8d = bio_text(p8der.get());
    auto k5 = key_of(Bytes(p8d.begin(), p8d.end()));
    REQUIRE(k5);
    CHECK(k5->format == "DER PKCS#8");
    CHECK(k5->spki_sha256 == cert.spki_sha256);

    // Encrypted PKCS#8 and legacy Proc-Type encryption: reported, never prompted for.
    BioP enc(BIO_new(BIO_s_mem()));
    REQUIRE(PEM_write_bio_PKCS8PrivateKey(enc.get(), kc.key.get(), EVP_aes_256_cbc(), "pw", 2, nullptr, nullptr));
    auto k6 = key_of(bio_text(enc.get()));
    REQUIRE(k6);
    CHECK(k6->encrypted);
    CHECK(k6->format == "PEM encrypted PKCS#8");
    CHECK(k6->spki_sha256.empty());

    BioP legacy(BIO_new(BIO_s_mem()));
    static unsigned char pw[] = "pw";
    REQUIRE(PEM_write_bio_PrivateKey_traditional(legacy.get(), kc.key.get(), EVP_des_ede3_cbc(), pw, 2, nullptr,
                                                 nullptr));
    std::string lt = bio_text(legacy.get());
    REQUIRE(lt.find("Proc-Type: 4,ENCRYPTED") != std::string::npos);
    auto k7 = key_of(lt);
    REQUIRE(k7);
    CHECK(k7->encrypted);
    CHECK(k7->key.algorithm == kc.name);
    CHECK(k7->format.find("DES-EDE3-CBC") != std::string::npos);
    CHECK(k7->spki_sha256.empty());
  }
}

TEST_CASE("parse_private_key: OpenSSH containers") {
  Pkey ed = ed25519_key();
  std::array<unsigned char, 32> raw{};
  size_t len = raw.size();
  REQUIRE(EVP_PKEY_get_raw_public_key(ed.get(), raw.data(), &len) == 1);
  Bytes blob;
  ssh_string(blob, std::string("ssh-ed25519"));
  ssh_string(blob, Bytes(raw.begin(), raw.end()));
  auto k = key_of(openssh_pem(blob, "none"));
  REQUIRE(k);
  CHECK(k->format == "OpenSSH");
  CHECK(k->key.algorithm == "Ed25519");
  CHECK_FALSE(k->encrypted);
  CHECK(k->spki_sha256 == spki_of(ed.get()));
  auto ke = key_of(openssh_pem(blob, "aes256-ctr"));
  REQUIRE(ke);
  CHECK(ke->encrypted);
  CHECK(ke->spki_sha256 == spki_of(ed.get()));  // the public blob is in the clear

  Pkey rsa = rsa_key(2048);
  Bytes rblob;
  ssh_string(rblob, std::string("ssh-rsa"));
  ssh_string(rblob, bn_bytes(rsa.get(), OSSL_PKEY_PARAM_RSA_E));
  ssh_string(rblob, bn_bytes(rsa.get(), OSSL_PKEY_PARAM_RSA_N));
  auto kr = key_of(openssh_pem(rblob, "none"));
  REQUIRE(kr);
  CHECK(kr->key.algorithm == "RSA");
  CHECK(kr->key.bits == 2048);
  CHECK(kr->spki_sha256 == spki_of(rsa.get()));

  // Truncated blob: still an OpenSSH key, with what is known; garbage body: not a key.
  Bytes cut(blob.begin(), blob.begin() + 10);
  auto kc = key_of(openssh_pem(cut, "none"));
  REQUIRE(kc);
  CHECK(kc->spki_sha256.empty());
  CHECK_FALSE(key_of(std::string("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n")));
}

TEST_CASE("parse_private_key: not keys") {
  CHECK_FALSE(key_of(std::string("")));
  CHECK_FALSE(key_of(std::string("hello world")));
  CHECK_FALSE(key_of(random_bytes(2048, 3)));
  CHECK_FALSE(key_of(std::string("-----BEGIN RSA PRIVATE KEY-----\n!!!!\n-----END RSA PRIVATE KEY-----\n")));
  CHECK_FALSE(key_of(std::string("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n")));  // no END
  Pkey k = rsa_key(2048);
  Bytes der = make_cert(k.get(), CertSpec{});
  CHECK_FALSE(key_of(der));  // a certificate is not a key
  BioP p8(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(p8.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::string pem = bio_text(p8.get());
  for (size_t i = 40; i < pem.size(); i += 13) {
    std::string b = pem;
    b[i] = b[i] == 'A' ? 'B' : 'A';
    (void)key_of(b);  // must not crash
  }
}

// =================================================================================================================
// Keystores

TEST_CASE("read_pkcs12: synthetic files, passwords, unencrypted certificates") {
  Pkey k = rsa_key(2048);
  Bytes der = make_cert(k.get(), CertSpec{});
  const unsigned char* p = der.data();
  X509P x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(x);
  auto make = [&](const char* pass, int nid_cert) {
    PKCS12* p12 = PKCS12_create(pass, "k", k.get(), x.get(), nullptr, 0, nid_cert, 0, 0, 0);
    REQUIRE(p12);
    unsigned char* out = nullptr;
    int n = i2d_PKCS12(p12, &out);
    PKCS12_free(p12);
    Bytes b(out, out + n);
    OPENSSL_free(out);
    return b;
  };
  Bytes foo = make("foo", 0);
  auto r = read_pkcs12(ByteView(foo.data(), foo.size()), {"", "bar", "foo"});
  CHECK(r.opened);
  CHECK(r.password_used == "foo");
  REQUIRE(r.certificates.size() == 1);
  CHECK(r.certificates[0] == der);
  REQUIRE(r.keys.size() == 1);
  CHECK_FALSE(r.keys[0].encrypted);
  CHECK(r.keys[0].spki_sha256 == parse_ok(der).spki_sha256);

  auto none = read_pkcs12(ByteView(foo.data(), foo.size()), default_pkcs12_passwords());
  CHECK_FALSE(none.opened);
  CHECK(none.certificates.empty());  // certificates encrypted too (default AES-256)
  CHECK(has_prefix(none.notes, "MAC did not verify"));

  Bytes plain_certs = make("secret", -1);  // certificates not encrypted
  auto pc = read_pkcs12(ByteView(plain_certs.data(), plain_certs.size()), default_pkcs12_passwords());
  CHECK_FALSE(pc.opened);
  REQUIRE(pc.certificates.size() == 1);
  CHECK(pc.certificates[0] == der);
  REQUIRE(pc.keys.size() == 1);
  CHECK(pc.keys[0].encrypted);

  Bytes empty = make("", 0);
  auto e = read_pkcs12(ByteView(empty.data(), empty.size()), default_pkcs12_passwords());
  CHECK(e.opened);
  CHECK(e.password_used.empty());
  CHECK(e.certificates.size() == 1);

  CHECK(default_pkcs12_passwords().front().empty());
  CHECK(default_pkcs12_passwords().size() <= 6);

  // Damage: no crash, never opened by a damaged MAC.
  for (size_t i = 0; i < foo.size(); i += 17) {
    Bytes b = foo;
    b[i] ^= 0x20;
    (void)read_pkcs12(ByteView(b.data(), b.size()), {"", "foo"});
  }
  auto g = read_pkcs12(ByteView(der.data(), der.size()), {""});
  CHECK_FALSE(g.opened);
  CHECK_FALSE(g.notes.empty());
}

TEST_CASE("read_jks: synthetic JKS and JCEKS stores") {
  Pkey k = ec_key();
  Bytes c1 = make_cert(k.get(), CertSpec{});
  CertSpec s2;
  s2.cn = "second";
  Bytes c2 = make_cert(k.get(), s2);
  auto build = [&](uint32_t magic, uint32_t version, bool secret) {
    Bytes b;
    put_be32(b, magic);
    put_be32(b, version);
    put_be32(b, secret ? 3 : 2);
    // trusted certificate entry
    put_be32(b, 2);
    put_utf(b, "trusted");
    b.insert(b.end(), 8, 0);
    if (version == 2) put_utf(b, "X.509");
    put_be32(b, static_cast<uint32_t>(c1.size()));
    append(b, c1);
    // private key entry with a chain of one
    put_be32(b, 1);
    put_utf(b, "mykey");
    b.insert(b.end(), 8, 0);
    put_be32(b, 5);
    append(b, Bytes{0x30, 0x03, 0x02, 0x01, 0x00});
    put_be32(b, 1);
    if (version == 2) put_utf(b, "X.509");
    put_be32(b, static_cast<uint32_t>(c2.size()));
    append(b, c2);
    if (secret) {
      put_be32(b, 3);
      put_utf(b, "aes");
      b.insert(b.end(), 8, 0);
      append(b, Bytes{0xAC, 0xED, 0x00, 0x05});
    }
    b.insert(b.end(), 20, 0xAA);  // trailer
    return b;
  };
  for (uint32_t version : {1u, 2u}) {
    Bytes jks = build(0xFEEDFEED, version, false);
    auto r = read_jks(ByteView(jks.data(), jks.size()));
    REQUIRE(r.certificates.size() == 2);
    CHECK(r.certificates[0] == c1);
    CHECK(r.certificates[1] == c2);
    REQUIRE(r.keys.size() == 1);
    CHECK(r.keys[0].format == "JKS (protected)");
    CHECK(r.keys[0].encrypted);
    CHECK(r.keys[0].spki_sha256 == parse_ok(c2).spki_sha256);
    // The aliases, for the catalog to show: each certificate's entry, and the key's.
    CHECK(r.certificate_aliases == std::vector<std::string>{"trusted", "mykey"});
    CHECK(r.keys[0].alias == "mykey");
    // Every truncation: bounded, no crash, never more than the full store.
    for (size_t n = 0; n < jks.size(); ++n) {
      auto t = read_jks(ByteView(jks.data(), n));
      CHECK(t.certificates.size() <= 2);
    }
  }
  Bytes jceks = build(0xCECECECE, 2, true);
  auto r = read_jks(ByteView(jceks.data(), jceks.size()));
  CHECK(r.certificates.size() == 2);
  CHECK(r.keys.at(0).format == "JCEKS (protected)");
  CHECK(has_prefix(r.notes, "JCEKS secret-key entry"));
  Bytes bad = build(0xFEEDFEED, 7, false);
  CHECK(read_jks(ByteView(bad.data(), bad.size())).certificates.empty());
  Bytes rnd = random_bytes(1000, 11);
  CHECK(read_jks(ByteView(rnd.data(), rnd.size())).certificates.empty());
}

// =================================================================================================================
// Corpus

TEST_CASE("corpus: Supermicro iKVM client.pfx (empty password) and its derived PEM/DER forms") {
  auto path = corpus_file("ATENtion/src/ATENtion.App/client.pfx");
  if (!path) return;
  Bytes pfx = read_file(*path);
  auto r = read_pkcs12(ByteView(pfx.data(), pfx.size()), default_pkcs12_passwords());
  CHECK(r.opened);
  CHECK(r.password_used.empty());
  REQUIRE(r.certificates.size() == 1);
  REQUIRE(r.keys.size() == 1);
  Certificate c = parse_ok(r.certificates[0]);
  CHECK(c.common_name == "IPMI");
  CHECK(c.subject.find("O=Super Micro Computer") != std::string::npos);
  CHECK(c.serial == "D1B5B4583567AC1C");
  CHECK(rfc3339(*c.not_before.unix) == "2016-05-19T09:46:36Z");
  CHECK(rfc3339(*c.not_after.unix) == "2026-05-17T09:46:36Z");
  CHECK(c.key.algorithm == "RSA");
  CHECK(c.key.bits == 2048);
  CHECK(c.self_signed);
  CHECK(c.sha256 == "e99d6a19fe21899e533815f1564d20b432d308bd4798bdb2b1522e29eeb9b896");
  CHECK(r.keys[0].spki_sha256 == c.spki_sha256);
  std::optional<int64_t> days;
  CHECK(judge(c, T("2015-06-01"), 90, days) == CertStatus::NotYetValid);
  CHECK(judge(c, T("2026-06-01"), 90, days) == CertStatus::Expired);
  CHECK(days == -15);
  CHECK(judge(c, T("2026-03-01"), 90, days) == CertStatus::Expiring);
  CHECK(days == 77);
  CHECK(judge(c, T("2020-01-01"), 90, days) == CertStatus::Valid);

  for (const char* f : {"ATENtion/derived/client.crt.der", "ATENtion/derived/client.crt.pem"}) {
    auto cc = corpus_cert(f);
    REQUIRE(cc);
    CHECK(cc->sha256 == c.sha256);
  }
  for (const char* f : {"ATENtion/derived/client.key.pkcs1.pem", "ATENtion/derived/client.key.pkcs8.der",
                        "ATENtion/derived/client.key.pkcs8.pem"}) {
    INFO(f);
    auto kp = corpus_file(f);
    REQUIRE(kp);
    auto k = key_of(read_file(*kp));
    REQUIRE(k);
    CHECK(k->spki_sha256 == c.spki_sha256);
    CHECK(k->key.bits == 2048);
  }
}

TEST_CASE("corpus: BoringSSL PKCS#12 files") {
  const std::string dir = "boringssl/crypto/pkcs8/test/";
  const std::vector<std::string> pw{"", "foo", "Hello, 世界"};
  struct Expect {
    const char* file;
    const char* password;
  };
  for (const Expect& e : {Expect{"openssl.p12", "foo"}, Expect{"nss.p12", "foo"}, Expect{"windows.p12", "foo"},
                          Expect{"pbes2_sha1.p12", "foo"}, Expect{"pbes2_sha256.p12", "foo"},
                          Expect{"no_encryption.p12", "foo"}, Expect{"empty_password.p12", ""},
                          Expect{"null_password.p12", ""}, Expect{"unicode_password.p12", "Hello, 世界"}}) {
    INFO(e.file);
    auto path = corpus_file(dir + e.file);
    if (!path) return;
    Bytes b = read_file(*path);
    auto r = read_pkcs12(ByteView(b.data(), b.size()), pw);
    CHECK(r.opened);
    CHECK(r.password_used == e.password);
    CHECK_FALSE(r.certificates.empty());
    for (const auto& d : r.certificates) CHECK(parse_certificate(ByteView(d.data(), d.size())).ok());
    if (std::string(e.file) == "windows.p12") {
      REQUIRE(r.certificates.size() == 1);
      Certificate c = parse_ok(r.certificates[0]);
      CHECK(c.common_name == "agl");
      CHECK(c.not_after.type == "GeneralizedTime");
      CHECK(utc_year_of(c) == 2114);
    }
  }
  for (const char* f : {"bad1.p12", "bad2.p12", "bad3.p12", "empty_password_ber.p12", "empty_password_ber_nested.p12"}) {
    auto path = corpus_file(dir + f);
    if (!path) return;
    Bytes b = read_file(*path);
    auto r = read_pkcs12(ByteView(b.data(), b.size()), pw);  // no crash; notes explain
    if (!r.opened) CHECK_FALSE(r.notes.empty());
  }
}

TEST_CASE("corpus: pyjks JKS/JCEKS stores list their certificates without a password") {
  struct Expect {
    const char* file;
    size_t certs;
    size_t keys;
  };
  // duplicate_aliases.jks holds two entries under one alias: both are in the file (keytool shows only the last).
  const std::string dir = "pyjks/tests/keystores/";
  for (const Expect& e : {Expect{"jks/3certs.jks", 3, 0}, Expect{"jks/DSA2048.jks", 1, 1}, Expect{"jks/RSA1024.jks", 1, 1},
                          Expect{"jks/RSA2048_3certs.jks", 3, 1}, Expect{"jks/custom_entry_passwords.jks", 2, 1},
                          Expect{"jks/duplicate_aliases.jks", 2, 0}, Expect{"jks/empty.jks", 0, 0},
                          Expect{"jks/non_ascii_password.jks", 1, 1}, Expect{"jceks/3certs.jceks", 3, 0},
                          Expect{"jceks/RSA1024.jceks", 1, 1}, Expect{"jceks/DSA2048.jceks", 1, 1},
                          Expect{"jceks/RSA2048_3certs.jceks", 3, 1}, Expect{"jceks/AES128.jceks", 0, 0},
                          Expect{"jceks/empty.jceks", 0, 0}}) {
    INFO(e.file);
    auto path = corpus_file(dir + e.file);
    if (!path) return;
    Bytes b = read_file(*path);
    auto r = read_jks(ByteView(b.data(), b.size()));
    CHECK(r.certificates.size() == e.certs);
    CHECK(r.keys.size() == e.keys);
    for (const auto& d : r.certificates) {
      Certificate c = parse_ok(d);
      CHECK(c.serial == "0");
      CHECK_FALSE(c.common_name.empty());
    }
    for (const auto& k : r.keys) {
      CHECK(k.encrypted);
      CHECK_FALSE(k.spki_sha256.empty());
    }
  }
  // truststore.jks: keytool cannot open it with '' either; must not crash.
  if (auto path = corpus_file(dir + "jks/truststore.jks")) {
    Bytes b = read_file(*path);
    (void)read_jks(ByteView(b.data(), b.size()));
  }
}

TEST_CASE("corpus: PKITS, zlint and limbo date and serial edge cases") {
  struct Expect {
    const char* file;
    const char* nb;  // RFC 3339 or "" when the date must be unreadable
    const char* na;
    const char* serial;
  };
  const Expect cases[] = {
      {"boringssl/pki/testdata/nist-pkits/certs/Validpre2000UTCnotBeforeDateTest3EE.crt", "1950-01-01T12:01:00Z",
       "2030-12-31T08:30:00Z", "4"},
      {"boringssl/pki/testdata/nist-pkits/certs/Invalidpre2000UTCEEnotAfterDateTest7EE.crt", "1997-01-01T12:01:00Z",
       "1999-01-01T12:01:00Z", "7"},
      {"boringssl/pki/testdata/nist-pkits/certs/ValidGeneralizedTimenotBeforeDateTest4EE.crt",
       "2002-01-01T12:01:00Z", "2030-12-31T08:30:00Z", "5"},
      {"boringssl/pki/testdata/nist-pkits/certs/ValidGeneralizedTimenotAfterDateTest8EE.crt",
       "2010-01-01T08:30:00Z", "2050-01-01T12:01:00Z", "8"},
      {"boringssl/pki/testdata/nist-pkits/certs/BadnotBeforeDateCACert.crt", "2047-01-01T12:01:00Z",
       "2049-01-01T12:01:00Z", "4"},
      {"zlint/v3/testdata/utcNoSeconds.pem", "2012-04-27T00:00:00Z", "2022-04-27T05:00:00Z", "4CB09A4F"},
      {"zlint/v3/testdata/utcNotZulu.pem", "2016-08-10T19:27:28Z", "2017-12-01T06:07:08Z", "4316693ED"},
      {"zlint/v3/testdata/generalizedNoSeconds.pem", "2016-08-11T15:08:31Z", "2057-12-01T06:07:00Z", "4316693ED"},
      {"zlint/v3/testdata/generalizedNoFraction.pem", "2055-12-01T06:07:08Z", "2057-12-01T06:07:08Z", "4316693ED"},
      {"zlint/v3/testdata/generalizedNotZulu.pem", "2055-12-01T06:07:08Z", "2056-08-11T18:20:01Z", "4316693ED"},
      {"zlint/v3/testdata/generalizedPrior2050.pem", "2055-01-01T00:00:00Z", "1957-12-01T00:00:00Z", "4316693ED"},
      {"zlint/v3/testdata/serialNumberNegative.pem", "2016-07-06T18:34:06Z", "2016-09-18T18:34:06Z", "-4316693ED"},
      {"zlint/v3/testdata/serialNumberZero.pem", "2021-03-31T20:33:38Z", "2021-03-31T20:33:38Z", "0"},
      {"zlint/v3/testdata/serialNumberLarge.pem", "2016-07-06T19:01:11Z", "2016-09-18T19:01:11Z",
       "16E39F2C684405D62F4A8A9E2CD7D2F74000000000"},
      {"zlint/v3/testdata/validityNegative.pem", "2055-12-01T06:07:08Z", "2016-10-15T11:34:11Z", "4316693ED"},
      {"x509-limbo/limbo/_assets/negative_serial.pem", "2016-07-06T18:34:06Z", "2016-09-18T18:34:06Z", "-4316693ED"},
  };
  for (const Expect& e : cases) {
    INFO(e.file);
    auto c = corpus_cert(e.file);
    if (!c) continue;
    // The relaxed forms (zlint's NoSeconds, NotZulu, NoFraction) are read leniently only: TLS peers reject them.
    const auto reading = [](const TimeValue& t) {
      REQUIRE((t.unix || t.lenient));
      return rfc3339(t.unix ? *t.unix : *t.lenient);
    };
    CHECK(reading(c->not_before) == e.nb);
    CHECK(reading(c->not_after) == e.na);
    CHECK(c->serial == e.serial);
    const std::string f = e.file;
    const bool relaxed = f.find("NoSeconds") != std::string::npos || f.find("NotZulu") != std::string::npos ||
                         f.find("NoFraction") != std::string::npos;
    CHECK((c->not_before.unix && c->not_after.unix) == !relaxed);
  }
  if (auto c = corpus_cert("zlint/v3/testdata/validityNegative.pem")) {
    CHECK(has(certificate_anomalies(*c), "inverted validity window"));
  }
  if (auto c = corpus_cert("zlint/v3/testdata/generalizedPrior2050.pem")) {
    CHECK(has(certificate_anomalies(*c), "notAfter uses GeneralizedTime for a year in 1950-2049"));
  }
  if (auto c = corpus_cert("zlint/v3/testdata/serialNumberNegative.pem")) {
    CHECK(has(certificate_anomalies(*c), "negative serial"));
  }
  if (auto c = corpus_cert("x509-limbo/limbo/_assets/explicit_curve_ca.pem")) {
    CHECK(c->key.algorithm == "EC");
    CHECK(c->key.curve == "explicit");
  }
  if (auto c = corpus_cert("x509-limbo/limbo/_assets/cryptography.io.pem", 2)) {
    CHECK(c->common_name == "ISRG Root X1");
    CHECK(c->self_signed);
    CHECK(c->is_ca);
    CHECK(c->key.bits == 4096);
  }
  // Every loose PKITS certificate parses with readable dates.
  if (auto dir = corpus_file("boringssl/pki/testdata/nist-pkits/certs")) {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(*dir)) {
      Bytes b = read_file(entry.path().string());
      auto r = parse_certificate(ByteView(b.data(), b.size()));
      INFO(entry.path());
      REQUIRE(r.ok());
      CHECK(r->not_before.unix);
      CHECK(r->not_after.unix);
      ++n;
    }
    CHECK(n >= 13);
  }
}

TEST_CASE("corpus: all House of Keys certificates parse; known oddities") {
  auto dir = corpus_file("houseofkeys/certificates");
  if (!dir) return;
  size_t certs = 0, keys_matched = 0, zero = 0, negative = 0, y1970 = 0, inverted = 0, after2038 = 0;
  for (const auto& entry : fs::directory_iterator(*dir)) {
    if (entry.path().extension() != ".pem") continue;
    INFO(entry.path());
    auto ders = pem_ders(read_file(entry.path().string()));
    REQUIRE(ders.size() == 1);
    Certificate c = parse_ok(ders[0]);
    ++certs;
    CHECK(c.not_before.unix);
    CHECK(c.not_after.unix);
    CHECK(c.sha256 == entry.path().stem().string());
    auto a = certificate_anomalies(c);
    zero += has(a, "zero serial");
    negative += has(a, "negative serial");
    y1970 += has(a, "notBefore in 1970 (generated without a clock)");
    inverted += has(a, "inverted validity window");
    after2038 += has(a, "notAfter after 2038-01-19 (32-bit time_t)");
    fs::path key = entry.path();
    key.replace_extension(".key");
    if (fs::exists(key)) {
      auto k = key_of(read_file(key.string()));
      if (k && k->spki_sha256 == c.spki_sha256) ++keys_matched;
    }
  }
  CHECK(certs == 331);
  CHECK(keys_matched > 250);
  CHECK(zero + negative > 20);
  CHECK(y1970 >= 10);
  CHECK(inverted >= 2);
  CHECK(after2038 >= 10);
  WARN("House of Keys: " << certs << " certificates, " << keys_matched << " keys matched, " << zero << " zero / "
                         << negative << " negative serials, " << y1970 << " from 1970, " << inverted
                         << " inverted, " << after2038 << " after 2038");

  const std::string d = "houseofkeys/certificates/";
  if (auto c = corpus_cert(d + "45587266ab88d1b558762be87a5f082826fdfdbd2f0c87d88fc7ca1de953953d.pem")) {
    CHECK(c->not_after.type == "GeneralizedTime");
    CHECK(c->not_after.raw == "19241031140926Z");
    CHECK(has(certificate_anomalies(*c), "inverted validity window"));
  }
  if (auto c = corpus_cert(d + "1d12450a59d208ccc9fa490af9498acd7ac7b5bd7c329c261eb3c635330637d5.pem")) {
    CHECK(c->not_before.type == "GeneralizedTime");
    CHECK(c->not_before.raw == "19700101000000Z");
    auto a = certificate_anomalies(*c);
    CHECK(has(a, "notBefore in 1970 (generated without a clock)"));
    CHECK(has(a, "notBefore uses GeneralizedTime for a year in 1950-2049"));
  }
  if (auto c = corpus_cert(d + "813ef18b596950a7a8724c5eb27674cb9e2a049265cdbd37174023a7fc9b9a1d.pem")) {
    CHECK(utc_year_of(*c) == 2114);
    CHECK(has(certificate_anomalies(*c), "notAfter after 2038-01-19 (32-bit time_t)"));
  }
}

TEST_CASE("corpus: real AMI / ATEN / Supermicro BMC certificates and keys") {
  const std::string w = "Supermicro-Nuvoton-WPCM450-IPMI/winbond/development/";
  if (auto c = corpus_cert(w + "binaries/usr/local/www/certs/server.pem")) {
    CHECK(c->serial == "0");
    CHECK(c->key.algorithm == "RSA");
    CHECK(c->key.bits == 512);
    CHECK(rfc3339(*c->not_before.unix) == "2006-03-08T22:01:07Z");
    CHECK(rfc3339(*c->not_after.unix) == "2006-04-07T22:01:07Z");
    auto a = certificate_anomalies(*c);
    CHECK(has(a, "zero serial"));
    CHECK(has(a, "weak key: RSA-512"));
    std::optional<int64_t> days;
    CHECK(judge_certificate(*c, T("2026-01-01"), 90, days) == CertStatus::Expired);
    auto kp = corpus_file(w + "binaries/usr/local/www/certs/privkey.pem");
    REQUIRE(kp);
    auto k = key_of(read_file(*kp));
    REQUIRE(k);
    CHECK(k->format == "PEM PKCS#1");
    CHECK(k->key.bits == 512);
    CHECK(k->spki_sha256 == c->spki_sha256);
  }
  if (auto c = corpus_cert(w + "otherscripts/porting/server.pem")) {
    auto k = key_of(read_file(*corpus_file(w + "otherscripts/porting/privkey.pem")));
    REQUIRE(k);
    CHECK(k->key.bits == 1024);
    CHECK(k->spki_sha256 == c->spki_sha256);
    CHECK(c->common_name == "DELLIMCSAMPLE");
    CHECK_FALSE(c->self_signed);
  }
  if (auto c = corpus_cert(w + "binaries/usr/local/www/certs/adcert.pem")) {
    CHECK(rfc3339(*c->not_after.unix) == "2026-08-29T18:02:25Z");
  }
  // Certificate and key in one file (key first).
  for (const char* f : {"Supermicro-Nuvoton-WPCM450-IPMI-ATEN/SDK/Web_Server/httpd/server.pem",
                        "supermicro_ipmi_firmware/SDK/Web_Server/httpd/server.pem"}) {
    INFO(f);
    auto c = corpus_cert(f);
    if (!c) continue;
    auto k = key_of(read_file(*corpus_file(f)));
    REQUIRE(k);
    CHECK(k->spki_sha256 == c->spki_sha256);
    CHECK(c->self_signed);
  }
  if (auto c = corpus_cert("Supermicro-Nuvoton-WPCM450-IPMI-ATEN/SDK/Web_Server/httpd/server.pem")) {
    CHECK(c->serial == "92878F35B4AA08D1");
    CHECK(c->common_name == "doris");
  }
  if (auto c = corpus_cert("supermicro_ipmi_firmware/SDK/OpenWSMAN/openwsman/cp_file/servercert.pem")) {
    CHECK(rfc3339(*c->not_before.unix) == "1970-01-01T00:51:08Z");
    CHECK(has(certificate_anomalies(*c), "notBefore in 1970 (generated without a clock)"));
  }
}

TEST_CASE("parse_certificate: a certificate seen twice parses the same; a failure keeps its own offset") {
  auto pem = fwtest::read_file(fwtest::source_dir() + "/samples/certs/server.crt");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(x);
  unsigned char* der = nullptr;
  const int n = i2d_X509(x, &der);
  X509_free(x);
  REQUIRE(n > 0);
  std::vector<uint8_t> bytes(der, der + n);
  OPENSSL_free(der);
  auto a = fwcert::parse_certificate(fwcert::ByteView(bytes.data(), bytes.size(), 100));
  auto b = fwcert::parse_certificate(fwcert::ByteView(bytes.data(), bytes.size(), 5000));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->sha256 == b->sha256);
  CHECK(a->subject == b->subject);
  CHECK(a->not_after.raw == b->not_after.raw);
  std::vector<uint8_t> junk(bytes.begin(), bytes.begin() + 40);
  auto e1 = fwcert::parse_certificate(fwcert::ByteView(junk.data(), junk.size(), 0x111));
  auto e2 = fwcert::parse_certificate(fwcert::ByteView(junk.data(), junk.size(), 0x222));
  REQUIRE(!e1);
  REQUIRE(!e2);
  CHECK(e1.error().offset == 0x111);
  CHECK(e2.error().offset == 0x222);
}
