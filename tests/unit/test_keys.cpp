// Key material validators: pem, der-x509, der-private-key, pkcs12, jks/jceks, and the DER reader they share.
// Synthetic inputs are generated with the OpenSSL 3 API at run time (no binary fixtures); fixed validity dates.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/formats/der.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------------
// OpenSSL fixtures

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

EVP_PKEY* rsa_key() {
  static Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  if (!k) throw std::runtime_error("RSA keygen failed");
  return k.get();
}
EVP_PKEY* ec_key() {
  static Pkey k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!k) throw std::runtime_error("EC keygen failed");
  return k.get();
}

Cert make_cert(EVP_PKEY* key, const char* cn, long serial) {
  Cert x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
  ASN1_TIME_set_string(X509_getm_notBefore(x.get()), "20200102030405Z");
  ASN1_TIME_set_string(X509_getm_notAfter(x.get()), "20300102030405Z");
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("fwcert"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key);
  if (X509_sign(x.get(), key, EVP_sha256()) <= 0) throw std::runtime_error("X509_sign failed");
  return x;
}

Bytes bio_bytes(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  Bytes out(data, data + n);
  BIO_free(b);
  return out;
}

template <class F>
Bytes pem_of(F write) {
  BIO* b = BIO_new(BIO_s_mem());
  if (write(b) <= 0) throw std::runtime_error("PEM write failed");
  return bio_bytes(b);
}

Bytes cert_der(X509* x) {
  unsigned char* p = nullptr;
  int n = i2d_X509(x, &p);
  Bytes out(p, p + n);
  OPENSSL_free(p);
  return out;
}

const Bytes& test_cert_der() {
  static Bytes b = [] {
    Cert x = make_cert(rsa_key(), "fwcert test", 4242);
    return cert_der(x.get());
  }();
  return b;
}
const Bytes& test_cert_pem() {
  static Bytes b = [] {
    Cert x = make_cert(rsa_key(), "fwcert test", 4242);
    return pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, x.get()); });
  }();
  return b;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::string base64(const Bytes& data) {
  std::string out;
  out.resize(4 * ((data.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// A PEM block with a given label, body and line width.
Bytes pem_block(const std::string& label, const Bytes& der, size_t width = 64, const std::string& eol = "\n") {
  std::string b64 = base64(der), out = "-----BEGIN " + label + "-----" + eol;
  for (size_t i = 0; i < b64.size(); i += width) out += b64.substr(i, width) + eol;
  out += "-----END " + label + "-----" + eol;
  return bytes_of(out);
}

std::vector<fwcert::Hit> key_hits(const fwcert::WalkResult& r) {
  static const std::set<std::string> mine = {
      "pem",     "pem-certificate", "pem-private-key", "pem-public-key",  "pem-pkcs7", "pem-csr",
      "pem-crl", "pem-parameters",  "der-certificate", "der-private-key", "pkcs12",    "jks",
      "jceks"};
  std::vector<fwcert::Hit> out;
  for (const auto& h : r.hits)
    if (mine.count(h.type)) out.push_back(h);
  return out;
}

// A string literal with its embedded NULs (without the terminating one).
template <size_t N>
std::string lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

// ===============================================================================================================
// DER reader

TEST_CASE("der: header length rules (minimal, no indefinite)", "[keys][der]") {
  auto hdr = [](const Bytes& b) { return fwcert::der::read_header(fwcert::ByteView(b.data(), b.size()), 0); };
  REQUIRE(hdr({0x30, 0x05}));
  CHECK(hdr({0x30, 0x05})->length == 5);
  CHECK(hdr({0x30, 0x81, 0x80})->length == 0x80);
  CHECK(hdr({0x30, 0x82, 0x01, 0x00})->header_size == 4);
  CHECK_FALSE(hdr({0x30, 0x81, 0x05}));        // long form for a short length
  CHECK_FALSE(hdr({0x30, 0x82, 0x00, 0x80}));  // leading zero
  CHECK_FALSE(hdr({0x30, 0x80}));              // indefinite
  CHECK_FALSE(hdr({0x30, 0x85, 1, 2, 3, 4, 5}));
  CHECK_FALSE(hdr({0x1f, 0x01, 0x00}));  // high tag number form
  CHECK_FALSE(hdr({0x30, 0x82, 0x01}));  // cut off
  CHECK_FALSE(hdr({0x30}));
}

TEST_CASE("der: children, integers, oid text, BER sizes", "[keys][der]") {
  using namespace fwcert::der;
  Bytes seq = {0x30, 0x08, 0x02, 0x01, 0x03, 0x06, 0x03, 0x2a, 0x86, 0x48};
  fwcert::ByteView v(seq.data(), seq.size());
  auto t = read_tlv(v, 0, kSequence);
  REQUIRE(t);
  Children c(t->content);
  auto i = c.next(kInteger);
  REQUIRE(i);
  CHECK(small_integer(i->content) == 3);
  auto o = c.next(kOid);
  REQUIRE(o);
  CHECK(oid_text(o->content) == "1.2.840");
  CHECK(c.done_ok());
  CHECK(well_formed(v, kSequence));
  CHECK_FALSE(well_formed(v, kSet));

  Bytes neg = {0xff, 0x7f};
  CHECK(small_integer(fwcert::ByteView(neg.data(), 2)) == -129);
  Bytes padded = {0x00, 0x01};
  CHECK_FALSE(minimal_integer(fwcert::ByteView(padded.data(), 2)));

  // A child that overruns its parent makes the parent malformed.
  Bytes bad = {0x30, 0x03, 0x02, 0x05, 0x01};
  CHECK_FALSE(well_formed(fwcert::ByteView(bad.data(), bad.size())));

  Bytes ber = {0x30, 0x80, 0x02, 0x01, 0x03, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x00, 0x00, 0x00, 0x00, 0xee};
  CHECK(ber_element_size(fwcert::ByteView(ber.data(), ber.size()), 0) == 14);
  CHECK_FALSE(ber_element_size(fwcert::ByteView(ber.data(), 12), 0));  // end-of-contents cut off
  // Deep indefinite nesting is capped, not recursed without bound.
  Bytes deep;
  for (int k = 0; k < 5000; ++k) append(deep, Bytes{0x30, 0x80});
  CHECK_FALSE(ber_element_size(fwcert::ByteView(deep.data(), deep.size()), 0));
}

TEST_CASE("der_certificate_size: generated certificates, truncation and damage", "[keys][der]") {
  const Bytes& der = test_cert_der();
  fwcert::ByteView v(der.data(), der.size());
  REQUIRE(fwcert::der_certificate_size(v) == der.size());

  Bytes ec = cert_der(make_cert(ec_key(), "ec", 1).get());
  CHECK(fwcert::der_certificate_size(fwcert::ByteView(ec.data(), ec.size())) == ec.size());

  // Trailing bytes are allowed (the size says where the certificate ends).
  Bytes longer = der;
  append(longer, Bytes(100, 0xab));
  CHECK(fwcert::der_certificate_size(fwcert::ByteView(longer.data(), longer.size())) == der.size());

  for (size_t n = 0; n < der.size(); n += 13)
    CHECK_FALSE(fwcert::der_certificate_size(fwcert::ByteView(der.data(), n)));

  // Flip every bit of the first 64 bytes (all headers of the tbs prefix): never a crash; the size never exceeds the
  // data.
  size_t rejected = 0;
  for (size_t i = 0; i < 64; ++i)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes d = der;
      d[i] ^= static_cast<uint8_t>(1 << bit);
      auto s = fwcert::der_certificate_size(fwcert::ByteView(d.data(), d.size()));
      if (!s)
        ++rejected;
      else
        CHECK(*s <= d.size());
    }
  CHECK(rejected > 200);  // flips inside name strings keep the structure intact

  // Signature algorithm that differs from the inner one: rejected (FORMATS.md 6.3 step 3).
  Bytes mismatch = der;
  // sha256WithRSAEncryption OID ends in 0x0b; change the LAST occurrence (outer signatureAlgorithm).
  const Bytes oid = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
  auto last = std::find_end(mismatch.begin(), mismatch.end(), oid.begin(), oid.end());
  REQUIRE(last != mismatch.end());
  last[8] = 0x0c;
  CHECK_FALSE(fwcert::der_certificate_size(fwcert::ByteView(mismatch.data(), mismatch.size())));
}

// ===============================================================================================================
// d2i_x509_without_key: the walker's cheap certificate read must accept exactly what d2i_X509 accepts.

namespace {

struct ReadBoth {
  Cert full, bare;
  long full_used = 0, bare_used = 0;
};

ReadBoth read_both(const Bytes& der) {
  ReadBoth r;
  const unsigned char* p = der.data();
  r.full.reset(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  r.full_used = p - der.data();
  p = der.data();
  r.bare.reset(fwcert::d2i_x509_without_key(&p, static_cast<long>(der.size())));
  r.bare_used = p - der.data();
  return r;
}

Bytes spki_der(X509* x) {
  unsigned char* p = nullptr;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &p);
  Bytes out(p, p + std::max(n, 0));
  OPENSSL_free(p);
  return out;
}

// decode_spki gives the key d2i_X509 decoded, or nothing when it decoded none.
void check_same_key(X509* full) {
  Bytes spki = spki_der(full);
  Pkey key(fwcert::decode_spki(spki.data(), spki.size()));
  EVP_PKEY* expected = X509_get0_pubkey(full);
  REQUIRE(bool(key) == bool(expected));
  if (key) CHECK(EVP_PKEY_eq(key.get(), expected) == 1);
  ERR_clear_error();
}

// Same verdict; when both read it, the same length, subject, dates and re-encoding, and the same key.
void check_same_reading(const Bytes& der) {
  ReadBoth r = read_both(der);
  REQUIRE(bool(r.full) == bool(r.bare));
  if (!r.full) return;
  check_same_key(r.full.get());
  CHECK(r.bare_used == r.full_used);
  CHECK(X509_NAME_cmp(X509_get_subject_name(r.bare.get()), X509_get_subject_name(r.full.get())) == 0);
  CHECK(ASN1_TIME_compare(X509_get0_notAfter(r.bare.get()), X509_get0_notAfter(r.full.get())) == 0);
  CHECK(cert_der(r.bare.get()) == cert_der(r.full.get()));
}

}  // namespace

TEST_CASE("d2i_x509_without_key: same reading as d2i_X509, without the key", "[keys][x509-structure]") {
  for (EVP_PKEY* key : {rsa_key(), ec_key()}) {
    Bytes der = cert_der(make_cert(key, "structure", 9).get());
    ReadBoth r = read_both(der);
    REQUIRE(r.bare);
    CHECK(r.bare_used == static_cast<long>(der.size()));
    CHECK(X509_get0_pubkey(r.full.get()) != nullptr);
    CHECK(X509_get0_pubkey(r.bare.get()) == nullptr);  // the decoder search was skipped
    check_same_reading(der);

    for (size_t n = 0; n < der.size(); n += 7) check_same_reading(Bytes(der.begin(), der.begin() + n));
    for (size_t i = 0; i < 64; ++i)
      for (int bit = 0; bit < 8; ++bit) {
        Bytes d = der;
        d[i] ^= static_cast<uint8_t>(1 << bit);
        check_same_reading(d);
      }
  }
  const unsigned char* p = nullptr;
  CHECK(fwcert::d2i_x509_without_key(&p, 0) == nullptr);
}

TEST_CASE("decode_spki: the certificate's key, from a decoder each thread reuses", "[keys][x509-structure]") {
  Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  REQUIRE(ed);
  ERR_clear_error();  // earlier tests may leave errors behind
  for (EVP_PKEY* key : {rsa_key(), ec_key(), ed.get()}) {
    unsigned char* der = nullptr;
    const int size = i2d_PUBKEY(key, &der);
    REQUIRE(size > 0);
    Bytes spki(der, der + size);
    OPENSSL_free(der);
    Pkey got(fwcert::decode_spki(spki.data(), spki.size()));
    REQUIRE(got);
    CHECK(EVP_PKEY_eq(got.get(), key) == 1);
    // Truncated: nothing, and the reused decoder still works afterwards.
    for (size_t n = 0; n < spki.size(); n += 5) CHECK_FALSE(Pkey(fwcert::decode_spki(spki.data(), n)));
    Pkey again(fwcert::decode_spki(spki.data(), spki.size()));
    CHECK(EVP_PKEY_eq(again.get(), key) == 1);
  }
  Bytes junk(300, 0x30);
  CHECK_FALSE(Pkey(fwcert::decode_spki(junk.data(), junk.size())));
  CHECK_FALSE(Pkey(fwcert::decode_spki(nullptr, 0)));
  CHECK(ERR_peek_error() == 0);  // failures leave nothing on the error queue

  // Two threads at once, each with its own decoder, alternating key types.
  Bytes rsa = spki_der(make_cert(rsa_key(), "a", 1).get()), ec = spki_der(make_cert(ec_key(), "b", 2).get());
  std::atomic<int> right{0};
  auto work = [&](bool rsa_first) {
    for (int i = 0; i < 50; ++i) {
      const bool use_rsa = (i % 2 == 0) == rsa_first;
      const Bytes& b = use_rsa ? rsa : ec;
      Pkey k(fwcert::decode_spki(b.data(), b.size()));
      if (k && EVP_PKEY_eq(k.get(), use_rsa ? rsa_key() : ec_key()) == 1) ++right;
    }
  };
  std::thread t1(work, true), t2(work, false);
  t1.join();
  t2.join();
  CHECK(right == 100);
}

namespace {

Bytes private_der(EVP_PKEY* k) {  // the key's private part in its own traditional encoding (or PKCS#8)
  unsigned char* p = nullptr;
  const int n = i2d_PrivateKey(k, &p);
  Bytes out(p, p + std::max(n, 0));
  OPENSSL_free(p);
  return out;
}

Bytes pkcs8_der(EVP_PKEY* k) {
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(k);
  unsigned char* p = nullptr;
  const int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &p) : 0;
  Bytes out(p, p + std::max(n, 0));
  OPENSSL_free(p);
  PKCS8_PRIV_KEY_INFO_free(p8);
  return out;
}

// decode_private_key reads what d2i_PrivateKey / d2i_AutoPrivateKey read, for every key type asked for, and
// decode_pkcs8_private_key what d2i_PKCS8_PRIV_KEY_INFO + EVP_PKCS82PKEY read: the same verdict, the same key.
int check_same_private_key(const Bytes& der) {
  int accepted = 0;
  auto same = [&](EVP_PKEY* got, EVP_PKEY* want) {
    REQUIRE(bool(got) == bool(want));
    if (!got) return;
    ++accepted;
    CHECK(EVP_PKEY_get_base_id(got) == EVP_PKEY_get_base_id(want));
    CHECK(EVP_PKEY_get_bits(got) == EVP_PKEY_get_bits(want));
    CHECK(EVP_PKEY_eq(got, want) == 1);
    CHECK(private_der(got) == private_der(want));
  };
  for (int type : {EVP_PKEY_NONE, EVP_PKEY_RSA, EVP_PKEY_EC, EVP_PKEY_DSA}) {
    INFO("key type " << type);
    const unsigned char* p = der.data();
    const long len = static_cast<long>(der.size());
    Pkey want(type == EVP_PKEY_NONE ? d2i_AutoPrivateKey(nullptr, &p, len) : d2i_PrivateKey(type, nullptr, &p, len));
    ERR_clear_error();
    Pkey got(fwcert::decode_private_key(der.data(), der.size(), type));
    same(got.get(), want.get());
  }
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  Pkey want(p8 ? EVP_PKCS82PKEY(p8) : nullptr);
  PKCS8_PRIV_KEY_INFO_free(p8);
  ERR_clear_error();
  Pkey got(fwcert::decode_pkcs8_private_key(der.data(), der.size()));
  same(got.get(), want.get());
  return accepted;
}

// DSA 1024 (from generated parameters), RSA-PSS 2048, or DH on a named group.
Pkey keygen_with(const char* type, const char* group) {
  EVP_PKEY* params = nullptr;
  if (std::string(type) == "DSA") {
    EVP_PKEY_CTX* pc = EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr);
    if (pc && EVP_PKEY_paramgen_init(pc) == 1 && EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, 1024) == 1)
      EVP_PKEY_paramgen(pc, &params);
    EVP_PKEY_CTX_free(pc);
  }
  EVP_PKEY_CTX* kc = params ? EVP_PKEY_CTX_new(params, nullptr) : EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* k = nullptr;
  if (kc && EVP_PKEY_keygen_init(kc) == 1) {
    if (group) {
      OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("group", const_cast<char*>(group), 0), OSSL_PARAM_END};
      EVP_PKEY_CTX_set_params(kc, p);
    }
    if (std::string(type) == "RSA-PSS") EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048);
    EVP_PKEY_keygen(kc, &k);
  }
  EVP_PKEY_CTX_free(kc);
  EVP_PKEY_free(params);
  return Pkey(k);
}

}  // namespace

TEST_CASE("decode_private_key: what d2i_PrivateKey reads, from contexts each thread reuses", "[keys][x509-structure]") {
  Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")), x(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  Pkey ed448(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448")), x448(EVP_PKEY_Q_keygen(nullptr, nullptr, "X448"));
  Pkey pss = keygen_with("RSA-PSS", nullptr);
  Pkey dsa = keygen_with("DSA", nullptr), dh = keygen_with("DH", "ffdhe2048");
  Pkey explicit_ec(EVP_PKEY_dup(ec_key()));
  REQUIRE(ed);
  REQUIRE(x);
  REQUIRE(ed448);
  REQUIRE(x448);
  REQUIRE(pss);
  REQUIRE(dsa);
  REQUIRE(dh);
  REQUIRE(explicit_ec);
  REQUIRE(EVP_PKEY_set_utf8_string_param(explicit_ec.get(), "encoding", "explicit") == 1);
  ERR_clear_error();
  struct Case {
    const char* what;
    Bytes der;
    size_t reused;  // how many of check_same_private_key's five reads must take a reused context
  };
  // RSA PKCS#1 and SEC1: the automatic read and the type's own; PKCS#8: also the PKCS#8 read; EdDSA and X25519/X448
  // (PKCS#8 only, no traditional type): the automatic and the PKCS#8 read.
  std::vector<Case> cases = {
      {"RSA PKCS#1", private_der(rsa_key()), 2},    {"RSA PKCS#8", pkcs8_der(rsa_key()), 3},
      {"RSA-PSS PKCS#8", pkcs8_der(pss.get()), 2},  {"EC SEC1", private_der(ec_key()), 2},
      {"EC PKCS#8", pkcs8_der(ec_key()), 3},        {"DSA", private_der(dsa.get()), 2},
      {"DSA PKCS#8", pkcs8_der(dsa.get()), 3},      {"Ed25519 PKCS#8", pkcs8_der(ed.get()), 2},
      {"X25519 PKCS#8", pkcs8_der(x.get()), 2},     {"Ed448 PKCS#8", pkcs8_der(ed448.get()), 2},
      {"X448 PKCS#8", pkcs8_der(x448.get()), 2},    {"EC explicit curve SEC1", private_der(explicit_ec.get()), 0},
      {"EC explicit curve PKCS#8", pkcs8_der(explicit_ec.get()), 0},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    REQUIRE_FALSE(c.der.empty());
    // Accepted at least twice (the automatic read, and its own type's or the PKCS#8 one), always as OpenSSL reads it.
    const size_t before = fwcert::reused_private_key_decodes();
    CHECK(check_same_private_key(c.der) >= 2);
    CHECK(fwcert::reused_private_key_decodes() - before >= c.reused);
    Pkey auto_read(fwcert::decode_private_key(c.der.data(), c.der.size(), EVP_PKEY_NONE));
    REQUIRE(auto_read);
    // Truncated (about 40 lengths), and damaged in its first 40 bytes: the same verdicts as OpenSSL's own calls.
    const size_t step = std::max<size_t>(17, c.der.size() / 40);
    for (size_t n = 0; n < c.der.size(); n += step) check_same_private_key(Bytes(c.der.begin(), c.der.begin() + n));
    for (size_t i = 0; i < std::min<size_t>(40, c.der.size()); ++i)
      for (int bit : {0, 7}) {
        Bytes d = c.der;
        d[i] ^= static_cast<uint8_t>(1 << bit);
        check_same_private_key(d);
      }
    // Trailing bytes after the key, as in a file with padding.
    Bytes padded = c.der;
    padded.insert(padded.end(), 16, 0);
    check_same_private_key(padded);
  }

  // Left to OpenSSL's own calls, with the same results: a PKCS#8 version other than 0 or 1 (OpenSSL 3.5 refuses it
  // where 3.0 reads it), DH keys, and PKCS#8 algorithms nobody knows. The last do not fill the thread's contexts: an
  // RSA key after twenty of them still takes one.
  const Bytes rsa8 = pkcs8_der(rsa_key());
  REQUIRE(rsa8.size() > 8);
  REQUIRE(rsa8[4] == 0x02);
  REQUIRE(rsa8[6] == 0x00);  // 30 82 LL LL 02 01 00: version 0
  for (uint8_t version : {1, 2, 3}) {
    INFO("PKCS#8 version " << int(version));
    Bytes v = rsa8;
    v[6] = version;
    const size_t before = fwcert::reused_private_key_decodes();
    check_same_private_key(v);
    if (version == 1) CHECK(fwcert::reused_private_key_decodes() > before);
    else CHECK(fwcert::reused_private_key_decodes() == before);
  }
  {
    const size_t before = fwcert::reused_private_key_decodes();
    CHECK(check_same_private_key(pkcs8_der(dh.get())) >= 1);  // DH: read by the calls themselves
    CHECK(fwcert::reused_private_key_decodes() == before);
  }
  const Bytes ed8 = pkcs8_der(ed.get());
  REQUIRE(ed8.size() > 12);
  REQUIRE(ed8[11] == 0x70);  // 30 2e 02 01 00 30 05 06 03 2b 65 70: OID 1.3.101.112
  // On a new thread (its own contexts, none made yet): twenty unknown algorithms, then an RSA key.
  size_t odd_reused = 99, rsa_reused = 0;
  std::thread fresh([&] {
    const size_t before = fwcert::reused_private_key_decodes();
    for (uint8_t last = 0x01; last <= 0x14; ++last) {
      Bytes odd = ed8;
      odd[11] = last;
      for (int type : {EVP_PKEY_NONE, EVP_PKEY_RSA}) Pkey(fwcert::decode_private_key(odd.data(), odd.size(), type));
      Pkey(fwcert::decode_pkcs8_private_key(odd.data(), odd.size()));
    }
    odd_reused = fwcert::reused_private_key_decodes() - before;
    const Bytes rsa1 = private_der(rsa_key());
    Pkey k(fwcert::decode_private_key(rsa1.data(), rsa1.size(), EVP_PKEY_RSA));
    if (k && EVP_PKEY_eq(k.get(), rsa_key()) == 1) rsa_reused = fwcert::reused_private_key_decodes() - before;
  });
  fresh.join();
  CHECK(odd_reused == 0);
  CHECK(rsa_reused == 1);
  for (uint8_t last = 0x01; last <= 0x14; last += 3) {  // and they read as OpenSSL reads them
    Bytes odd = ed8;
    odd[11] = last;
    check_same_private_key(odd);
  }

  // Public keys only (an SPKI, a PKCS#1 RSAPublicKey) are no private keys, for either path.
  for (EVP_PKEY* k : {rsa_key(), ec_key()}) {
    unsigned char* p = nullptr;
    const int n = i2d_PUBKEY(k, &p);
    Bytes spki(p, p + std::max(n, 0));
    OPENSSL_free(p);
    CHECK(check_same_private_key(spki) == 0);
  }
  {
    unsigned char* p = nullptr;
    const int n = i2d_PublicKey(rsa_key(), &p);
    Bytes pub(p, p + std::max(n, 0));
    OPENSSL_free(p);
    REQUIRE_FALSE(pub.empty());
    CHECK(check_same_private_key(pub) == 0);
  }
  Bytes junk(300, 0x30);
  CHECK(check_same_private_key(junk) == 0);
  CHECK_FALSE(Pkey(fwcert::decode_private_key(nullptr, 0, EVP_PKEY_NONE)));
  CHECK_FALSE(Pkey(fwcert::decode_pkcs8_private_key(nullptr, 0)));
  CHECK_FALSE(Pkey(fwcert::decode_private_key(junk.data(), junk.size(), EVP_PKEY_RSA)));
  CHECK(ERR_peek_error() == 0);  // failures leave nothing on the error queue

  // Two threads at once, alternating key types and encodings.
  const Bytes rsa1 = private_der(rsa_key()), ec8 = pkcs8_der(ec_key());
  std::atomic<int> right{0};
  auto work = [&](bool rsa_first) {
    for (int i = 0; i < 40; ++i) {
      const bool use_rsa = (i % 2 == 0) == rsa_first;
      const Bytes& b = use_rsa ? rsa1 : ec8;
      Pkey k(use_rsa ? fwcert::decode_private_key(b.data(), b.size(), EVP_PKEY_RSA)
                     : fwcert::decode_pkcs8_private_key(b.data(), b.size()));
      if (k && EVP_PKEY_eq(k.get(), use_rsa ? rsa_key() : ec_key()) == 1 &&
          private_der(k.get()) == private_der(use_rsa ? rsa_key() : ec_key()))
        ++right;
    }
  };
  std::thread t1(work, true), t2(work, false);
  t1.join();
  t2.join();
  CHECK(right == 80);
}

TEST_CASE("corpus: decode_private_key reads the corpus's private keys as d2i_PrivateKey does",
          "[keys][corpus][x509-structure]") {
  int keys = 0, accepted = 0;
  for (const char* sub : {"houseofkeys", "x509-limbo", "supermicro_ipmi_firmware", "Supermicro-Nuvoton-WPCM450-IPMI",
                          "ATENtion", "boringssl"}) {
    auto dir = corpus_file(sub);
    if (!dir) continue;
    for (const auto& e : fs::recursive_directory_iterator(*dir)) {
      if (!e.is_regular_file() || e.file_size() > (1 << 20)) continue;
      const auto ext = e.path().extension();
      if (ext != ".pem" && ext != ".key" && ext != ".der") continue;
      INFO(e.path().string());
      Bytes data = read_file(e.path().string());
      if (ext == ".der") {
        if (check_same_private_key(data) > 0) ++keys, ++accepted;
        continue;
      }
      BIO* bio = BIO_new_mem_buf(data.data(), static_cast<int>(data.size()));
      char *name = nullptr, *header = nullptr;
      unsigned char* body = nullptr;
      long len = 0;
      while (PEM_read_bio(bio, &name, &header, &body, &len) == 1) {
        if (std::string(name).find("PRIVATE KEY") != std::string::npos) {
          ++keys;
          if (check_same_private_key(Bytes(body, body + len)) > 0) ++accepted;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(body);
      }
      BIO_free(bio);
      ERR_clear_error();
    }
  }
  if (keys == 0) return;  // no corpus
  CHECK(keys > 300);
  CHECK(accepted > 300);
}

TEST_CASE("corpus: d2i_x509_without_key reads the NIST PKITS and x509-limbo certificates as d2i_X509 does",
          "[keys][corpus][x509-structure]") {
  int certs = 0;
  if (auto dir = corpus_file("boringssl/pki/testdata/nist-pkits/certs"))
    for (const auto& e : fs::directory_iterator(*dir)) {
      if (e.path().extension() != ".crt") continue;
      INFO(e.path().filename().string());
      check_same_reading(read_file(e.path().string()));
      ++certs;
    }
  // PEM files with one or more certificates, some deliberately malformed.
  for (const char* sub : {"x509-limbo", "zlint", "houseofkeys"}) {
    auto dir = corpus_file(sub);
    if (!dir) continue;
    for (const auto& e : fs::recursive_directory_iterator(*dir)) {
      if (!e.is_regular_file() || e.path().extension() != ".pem") continue;
      INFO(e.path().string());
      Bytes text = read_file(e.path().string());
      BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
      char *name = nullptr, *header = nullptr;
      unsigned char* data = nullptr;
      long len = 0;
      while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
        if (std::string(name) == "CERTIFICATE") {
          check_same_reading(Bytes(data, data + len));
          ++certs;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
      }
      BIO_free(bio);
      ERR_clear_error();
    }
  }
  if (certs == 0) return;  // no corpus
  CHECK(certs > 100);
}

// ===============================================================================================================
// der-x509

TEST_CASE("der-x509: generated certificate", "[keys][der-x509]") {
  const Bytes& der = test_cert_der();
  auto hit = validate("der-x509", der);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->type == "der-certificate");
  CHECK(hit->size == der.size());
  CHECK(contains(hit->description, "DER X.509 certificate, " + std::to_string(der.size()) + " bytes"));
  CHECK(contains(hit->description, "CN=fwcert test"));
  CHECK(contains(hit->description, "2030-01-02 03:04:05"));

  auto r = walk_all(der);
  auto hits = key_hits(r);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].type == "der-certificate");
  CHECK(hits[0].offset == 0);
}

TEST_CASE("der-x509: truncated and damaged certificates are rejected or lowered, never crash", "[keys][der-x509]") {
  const Bytes& der = test_cert_der();
  for (size_t n = 0; n < der.size(); n += 7) {
    Bytes cut(der.begin(), der.begin() + static_cast<long>(n));
    CHECK_FALSE(validate("der-x509", cut));
  }
  Bytes d = der;
  d[4] = 0x31;  // tbsCertificate tag
  CHECK_FALSE(validate("der-x509", d));
  for (size_t i = 0; i < der.size(); i += 3) {
    Bytes f = der;
    f[i] ^= 0x40;
    auto h = validate("der-x509", f);
    if (h) CHECK(h->size <= f.size());
  }
}

TEST_CASE("der-x509: certificate embedded at an odd offset in random data", "[keys][der-x509]") {
  Bytes data = random_bytes(1 << 20, 77);
  const Bytes& der = test_cert_der();
  const size_t at = 300001;
  std::copy(der.begin(), der.end(), data.begin() + at);
  auto r = walk_all(data);
  auto certs = hits_of(r, "der-certificate");
  REQUIRE(certs.size() == 1);
  CHECK(certs[0].offset == at);
  CHECK(certs[0].size == der.size());
  CHECK(certs[0].confidence == Confidence::High);
}

TEST_CASE("key validators: 4 MiB of random bytes give no High hit", "[keys][random]") {
  Bytes data = random_bytes(4 << 20, 20240601);
  auto r = walk_all(data);
  for (const auto& h : key_hits(r)) {
    INFO(h.type << " at " << h.offset << ": " << h.description);
    CHECK(h.confidence != Confidence::High);
  }
}

// ===============================================================================================================
// der-private-key

TEST_CASE("der-private-key: PKCS#1, PKCS#8 and SEC1 EC keys", "[keys][der-private-key]") {
  auto der_of = [](EVP_PKEY* k, bool pkcs8) {
    unsigned char* p = nullptr;
    int n = 0;
    if (pkcs8) {
      PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(k);
      n = i2d_PKCS8_PRIV_KEY_INFO(info, &p);
      PKCS8_PRIV_KEY_INFO_free(info);
    } else {
      n = i2d_PrivateKey(k, &p);
    }
    Bytes out(p, p + n);
    OPENSSL_free(p);
    return out;
  };
  struct Case {
    EVP_PKEY* key;
    bool pkcs8;
    const char* what;
  };
  for (const Case& c :
       {Case{rsa_key(), false, "DER RSA private key (PKCS#1)"}, Case{rsa_key(), true, "DER private key (PKCS#8)"},
        Case{ec_key(), false, "DER EC private key (RFC 5915)"}, Case{ec_key(), true, "DER private key (PKCS#8)"}}) {
    Bytes der = der_of(c.key, c.pkcs8);
    INFO(c.what);
    Bytes data = random_bytes(4097, 5);
    std::copy(der.begin(), der.end(), data.begin() + 1001);
    auto r = walk_all(data);
    auto keys = hits_of(r, "der-private-key");
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].offset == 1001);
    CHECK(keys[0].size == der.size());
    CHECK(keys[0].confidence == Confidence::High);
    CHECK(contains(keys[0].description, c.what));

    // Truncated: never a hit; damaged version INTEGER: rejected.
    for (size_t n = 1; n < der.size(); n += 11) {
      Bytes cut(der.begin(), der.begin() + static_cast<long>(n));
      auto h = fwtest::validate("der-private-key", cut);
      CHECK_FALSE(h);
    }
  }
  Bytes rsa = der_of(rsa_key(), false);
  REQUIRE(validate("der-private-key", rsa));
  CHECK(contains(validate("der-private-key", rsa)->description, "2048 bits"));
  rsa[6] = 0x05;  // version 0 -> 5
  CHECK_FALSE(validate("der-private-key", rsa));
}

// ===============================================================================================================
// pem

TEST_CASE("pem: certificate", "[keys][pem]") {
  const Bytes& pem = test_cert_pem();
  auto hit = validate("pem", pem);
  REQUIRE(hit);
  CHECK(hit->type == "pem-certificate");
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->size == pem.size());
  CHECK(contains(hit->description, "PEM certificate"));
  CHECK(contains(hit->description, "CN=fwcert test"));

  // CRLF line endings and 76-character lines are tolerated.
  Bytes crlf = pem_block("CERTIFICATE", test_cert_der(), 76, "\r\n");
  auto h2 = validate("pem", crlf);
  REQUIRE(h2);
  CHECK(h2->confidence == Confidence::High);
  CHECK(h2->size == crlf.size());

  // Inside surrounding text, found by the walk at its offset.
  Bytes text = bytes_of("some config text\nmore\n");
  const size_t at = text.size();
  append(text, pem);
  append(text, std::string("trailing\n"));
  auto r = walk_all(text);
  auto certs = hits_of(r, "pem-certificate");
  REQUIRE(certs.size() == 1);
  CHECK(certs[0].offset == at);
  CHECK(certs[0].size == pem.size());
}

TEST_CASE("pem: private and public keys", "[keys][pem]") {
  EVP_PKEY* k = rsa_key();
  Bytes pkcs1 =
      pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey_traditional(b, k, nullptr, nullptr, 0, nullptr, nullptr); });
  Bytes pkcs8 = pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr); });
  char pass[] = "secret";
  Bytes legacy_enc = pem_of([&](BIO* b) {
    return PEM_write_bio_PrivateKey_traditional(b, k, EVP_des_ede3_cbc(), reinterpret_cast<unsigned char*>(pass), 6,
                                                nullptr, nullptr);
  });
  Bytes pkcs8_enc =
      pem_of([&](BIO* b) { return PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), pass, 6, nullptr, nullptr); });
  Bytes pub = pem_of([&](BIO* b) { return PEM_write_bio_PUBKEY(b, k); });
  Bytes ec = pem_of(
      [&](BIO* b) { return PEM_write_bio_PrivateKey_traditional(b, ec_key(), nullptr, nullptr, 0, nullptr, nullptr); });

  struct Case {
    const Bytes* pem;
    const char* type;
    const char* text;
  };
  for (const Case& c : {Case{&pkcs1, "pem-private-key", "PEM RSA private key, RSA, 2048 bits"},
                        Case{&pkcs8, "pem-private-key", "PEM private key (PKCS#8), RSA, 2048 bits"},
                        Case{&legacy_enc, "pem-private-key", "PEM RSA private key, encrypted (DES-EDE3-CBC)"},
                        Case{&pkcs8_enc, "pem-private-key", "PEM encrypted private key (PKCS#8)"},
                        Case{&pub, "pem-public-key", "PEM public key, RSA, 2048 bits"},
                        Case{&ec, "pem-private-key", "PEM EC private key"}}) {
    INFO(c.text);
    auto hit = validate("pem", *c.pem);
    REQUIRE(hit);
    CHECK(hit->type == c.type);
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->size == c.pem->size());
    CHECK(contains(hit->description, c.text));
  }

  // Key then certificate in one file (the lighttpd server.pem layout): two hits, back to back.
  Bytes both = pkcs1;
  append(both, test_cert_pem());
  auto r = walk_all(both);
  auto hits = key_hits(r);
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].type == "pem-private-key");
  CHECK(hits[0].offset == 0);
  CHECK(hits[1].type == "pem-certificate");
  CHECK(hits[1].offset == pkcs1.size());
}

TEST_CASE("pem: OpenSSH, parameters and unknown labels", "[keys][pem]") {
  Bytes ssh(std::begin("openssh-key-v1"), std::end("openssh-key-v1"));  // includes the NUL
  put_u32be(ssh, ssh.size(), 4);
  append(ssh, std::string("none"));
  append(ssh, Bytes(40, 0x11));
  auto h = validate("pem", pem_block("OPENSSH PRIVATE KEY", ssh, 70));
  REQUIRE(h);
  CHECK(h->type == "pem-private-key");
  CHECK(h->confidence == Confidence::High);
  CHECK(contains(h->description, "OpenSSH private key, not encrypted"));
  Bytes not_ssh(60, 0x42);
  auto h_bad = validate("pem", pem_block("OPENSSH PRIVATE KEY", not_ssh));
  REQUIRE(h_bad);
  CHECK(h_bad->confidence == Confidence::Low);
  CHECK_FALSE(h_bad->diagnostics.empty());

  // EC PARAMETERS holding a named-curve OID (not a SEQUENCE).
  Bytes curve = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  auto hp = validate("pem", pem_block("EC PARAMETERS", curve));
  REQUIRE(hp);
  CHECK(hp->type == "pem-parameters");
  CHECK(hp->confidence == Confidence::High);

  auto hu = validate("pem", pem_block("FOO BAR", test_cert_der()));
  REQUIRE(hu);
  CHECK(hu->type == "pem");
  CHECK(hu->confidence == Confidence::Low);

  // Mismatched END label: kept but at most Medium, with a diagnostic.
  std::string mixed = text_of(test_cert_pem());
  mixed.replace(mixed.find("-----END CERTIFICATE"), 20, "-----END CERTIFICATX");
  auto hm = validate("pem", bytes_of(mixed));
  REQUIRE(hm);
  CHECK(hm->confidence == Confidence::Medium);
  CHECK_FALSE(hm->diagnostics.empty());
}

TEST_CASE("pem: bare header/footer string constants are not PEM blocks (GM8135S case)", "[keys][pem]") {
  const std::string s =
      lit("\x7f"
          "ELF....-----BEGIN CERTIFICATE-----\0-----END CERTIFICATE-----\0"
          "-----BEGIN RSA PRIVATE KEY-----\0-----END RSA PRIVATE KEY-----\0"
          "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"
          "-----BEGIN CERTIFICATE-----\r\n\r\n-----END CERTIFICATE-----\r\n"
          "-----BEGIN \0-----BEGIN -----\n");
  Bytes data = bytes_of(s);
  // dropbear-style constants: the header WITH its newline, then NUL.
  append(data, lit("-----BEGIN RSA PRIVATE KEY-----\n\0-----BEGIN OPENSSH PRIVATE KEY-----\n\0-----END \0"));
  auto r = walk_all(data);
  CHECK(key_hits(r).empty());
  REQUIRE(data[8] == '-');
  CHECK_FALSE(validate("pem", data, 8));
}

TEST_CASE("corpus: PEM string constants inside s3linux rootfs.cramfs are not PEM blocks", "[keys][corpus][pem]") {
  auto path = corpus_file("s3linux-files/rootfs.cramfs");
  if (!path) return;
  Bytes data = read_file(*path);
  const std::string begin = "-----BEGIN ";
  int seen = 0;
  for (auto it = std::search(data.begin(), data.end(), begin.begin(), begin.end()); it != data.end();
       it = std::search(it + 1, data.end(), begin.begin(), begin.end())) {
    ++seen;
    CHECK_FALSE(validate("pem", data, static_cast<uint64_t>(it - data.begin())));
  }
  CHECK(seen == 5);
}

TEST_CASE("pem: truncated and damaged blocks never crash and never stay High", "[keys][pem]") {
  const Bytes& pem = test_cert_pem();
  const std::string text = text_of(pem);
  const size_t end_at = text.find("-----END ");
  for (size_t n = 0; n < end_at + 20; n += 5) {
    Bytes cut(pem.begin(), pem.begin() + static_cast<long>(n));
    auto h = validate("pem", cut);
    if (n < end_at + 9) CHECK_FALSE(h);  // END marker not complete: no block
  }
  // First base64 character 'M' -> 'N' changes the outer tag 0x30 -> 0x34: Low with a diagnostic.
  Bytes flipped = pem;
  const size_t body = text.find('\n') + 1;
  REQUIRE(flipped[body] == 'M');
  flipped[body] = 'N';
  auto h = validate("pem", flipped);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Low);
  CHECK_FALSE(h->diagnostics.empty());
  // A body character removed: the base64 no longer decodes (length not a multiple of 4) -> Low.
  Bytes missing = pem;
  missing.erase(missing.begin() + static_cast<long>(body + 10));
  auto hm = validate("pem", missing);
  REQUIRE(hm);
  CHECK(hm->confidence == Confidence::Low);
  // Bit flips anywhere: no crash.
  for (size_t i = 0; i < pem.size(); i += 3) {
    Bytes f = pem;
    f[i] ^= 0x20;
    auto hf = validate("pem", f);
    if (hf) CHECK(hf->size <= f.size());
  }
}

// ===============================================================================================================
// pkcs12

namespace {

Bytes make_p12(bool with_mac) {
  Cert x = make_cert(rsa_key(), "p12 test", 7);
  PKCS12* p12 = PKCS12_create("pass", "friendly", rsa_key(), x.get(), nullptr, 0, 0, 0, with_mac ? 0 : -1, 0);
  if (!p12) throw std::runtime_error("PKCS12_create failed");
  unsigned char* p = nullptr;
  int n = i2d_PKCS12(p12, &p);
  Bytes out(p, p + n);
  OPENSSL_free(p);
  PKCS12_free(p12);
  return out;
}

}  // namespace

TEST_CASE("pkcs12: generated keystore", "[keys][pkcs12]") {
  Bytes p12 = make_p12(true);
  auto hit = validate("pkcs12", p12);
  REQUIRE(hit);
  CHECK(hit->type == "pkcs12");
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->size == p12.size());
  CHECK(contains(hit->description, "PKCS#12 keystore, " + std::to_string(p12.size()) + " bytes"));
  CHECK(contains(hit->description, "MAC present (sha256"));

  Bytes data = random_bytes(20000, 9);
  std::copy(p12.begin(), p12.end(), data.begin() + 4999);
  auto r = walk_all(data);
  auto hits = key_hits(r);
  REQUIRE(hits.size() == 1);  // the certificate inside is not listed separately (opaque)
  CHECK(hits[0].type == "pkcs12");
  CHECK(hits[0].offset == 4999);

  Bytes no_mac = make_p12(false);
  auto hn = validate("pkcs12", no_mac);
  REQUIRE(hn);
  CHECK(hn->confidence == Confidence::High);
  CHECK(contains(hn->description, "no MAC"));

  // The same PFX re-encoded with an indefinite outer length (BER, as NSS writes it).
  auto outer = fwcert::der::read_header(fwcert::ByteView(p12.data(), p12.size()), 0);
  REQUIRE(outer);
  // (Built by reserve and push_back: GCC 12 warns, wrongly, of a memcpy out of bounds for {0x30, 0x80} + insert.)
  Bytes ber;
  ber.reserve(p12.size() + 4);
  ber.push_back(0x30);
  ber.push_back(0x80);
  ber.insert(ber.end(), p12.begin() + outer->header_size, p12.end());
  append(ber, Bytes{0x00, 0x00});
  auto hb = validate("pkcs12", ber);
  REQUIRE(hb);
  CHECK(hb->confidence == Confidence::High);
  CHECK(hb->size == ber.size());
  auto rb = walk_all(ber);
  REQUIRE(hits_of(rb, "pkcs12").size() == 1);
  CHECK(hits_of(rb, "pkcs12")[0].offset == 0);
}

TEST_CASE("pkcs12: truncated and damaged", "[keys][pkcs12]") {
  Bytes p12 = make_p12(true);
  for (size_t n = 0; n < p12.size(); n += 17) {
    Bytes cut(p12.begin(), p12.begin() + static_cast<long>(n));
    auto h = validate("pkcs12", cut);
    if (h) CHECK(h->confidence != Confidence::High);
  }
  Bytes wrong_oid = p12;
  const Bytes data_oid = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
  auto oid_at = std::search(wrong_oid.begin(), wrong_oid.end(), data_oid.begin(), data_oid.end());
  REQUIRE(oid_at - wrong_oid.begin() == 13);  // 30 82 LL LL, 02 01 03, 30 82 LL LL, 06 09: the authSafe's OID
  oid_at[8] = 0x05;                           // pkcs7-data -> 1.2.840.113549.1.7.5: not a PFX
  CHECK_FALSE(validate("pkcs12", wrong_oid));
  for (size_t i = 0; i < p12.size(); i += 5) {
    Bytes f = p12;
    f[i] ^= 0x81;
    auto h = validate("pkcs12", f);
    if (h) CHECK(h->size <= f.size());
  }
}

// ===============================================================================================================
// jks / jceks

namespace {

void put_utf(Bytes& b, const std::string& s) {
  put_u16be(b, b.size(), static_cast<uint16_t>(s.size()));
  append(b, s);
}
void put_der(Bytes& b, const Bytes& der) {
  put_u32be(b, b.size(), static_cast<uint32_t>(der.size()));
  append(b, der);
}

// JKS v2 with one private key entry (chain of one) and two trusted certificates (FORMATS.md 5.1).
Bytes make_jks(uint32_t magic = 0xFEEDFEED) {
  const Bytes& cert = test_cert_der();
  Bytes b;
  put_u32be(b, 0, magic);
  put_u32be(b, 4, 2);
  put_u32be(b, 8, 3);
  put_u32be(b, b.size(), 1);
  put_utf(b, "mykey");
  put_u64be(b, b.size(), 1463338262000ULL);
  // EncryptedPrivateKeyInfo-like SEQUENCE { SEQUENCE { OID }, OCTET STRING }
  put_der(b, Bytes{0x30, 0x0b, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03, 0x04, 0x03, 0x01, 0x02, 0x03});
  put_u32be(b, b.size(), 1);
  put_utf(b, "X.509");
  put_der(b, cert);
  for (const char* alias : {"ca1", "ca2"}) {
    put_u32be(b, b.size(), 2);
    put_utf(b, alias);
    put_u64be(b, b.size(), 1463338262000ULL);
    put_utf(b, "X.509");
    put_der(b, cert);
  }
  append(b, Bytes(20, 0x5a));  // SHA-1 trailer (not checkable without the password)
  return b;
}

}  // namespace

TEST_CASE("jks: generated keystore", "[keys][jks]") {
  Bytes jks = make_jks();
  auto hit = validate("jks", jks);
  REQUIRE(hit);
  CHECK(hit->type == "jks");
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->size == jks.size());
  CHECK(contains(hit->description, "Java KeyStore (JKS), version 2, 3 entries: 1 private key, 2 trusted certificates"));

  Bytes jceks = make_jks(0xCECECECE);
  auto hc = validate("jks", jceks);
  REQUIRE(hc);
  CHECK(hc->type == "jceks");
  CHECK(hc->confidence == Confidence::High);

  Bytes data = random_bytes(30000, 3);
  std::copy(jks.begin(), jks.end(), data.begin() + 777);
  auto r = walk_all(data);
  auto hits = key_hits(r);
  REQUIRE(hits.size() == 1);  // the certificates inside are not listed separately (opaque)
  CHECK(hits[0].offset == 777);
  CHECK(hits[0].size == jks.size());
}

TEST_CASE("jks: truncated, damaged, secret keys", "[keys][jks]") {
  Bytes jks = make_jks();
  for (size_t n = 0; n < jks.size(); n += 9) {
    Bytes cut(jks.begin(), jks.begin() + static_cast<long>(n));
    auto h = validate("jks", cut);
    if (h) CHECK(h->confidence != Confidence::High);
  }
  // A damaged certificate inside: Low with a diagnostic.
  Bytes bad = jks;
  bad[bad.size() - 20 - test_cert_der().size() + 4] = 0x31;
  auto hb = validate("jks", bad);
  REQUIRE(hb);
  CHECK(hb->confidence == Confidence::Low);
  CHECK_FALSE(hb->diagnostics.empty());
  // Version 3 / absurd counts: not a keystore.
  Bytes v3 = jks;
  v3[7] = 3;
  CHECK_FALSE(validate("jks", v3));
  Bytes many = jks;
  put_u32be(many, 8, 0x10000000);
  CHECK_FALSE(validate("jks", many));
  // JCEKS secret key entry: walked up to it, then Medium with no size.
  Bytes sk;
  put_u32be(sk, 0, 0xCECECECE);
  put_u32be(sk, 4, 2);
  put_u32be(sk, 8, 1);
  put_u32be(sk, 12, 3);
  put_utf(sk, "aes");
  put_u64be(sk, sk.size(), 1);
  append(sk, Bytes{0xac, 0xed, 0x00, 0x05});
  append(sk, Bytes(40, 0x77));
  auto hs = validate("jks", sk);
  REQUIRE(hs);
  CHECK(hs->type == "jceks");
  CHECK(hs->confidence == Confidence::Medium);
  CHECK(hs->size == 0);
  CHECK(contains(hs->description, "1 secret key"));
  // The same tag in a JKS (no secret keys there): Low.
  put_u32be(sk, 0, 0xFEEDFEED);
  auto hj = validate("jks", sk);
  REQUIRE(hj);
  CHECK(hj->confidence == Confidence::Low);
}

// ===============================================================================================================
// Corpus

TEST_CASE("corpus: ATENtion client certificate and key in PEM, DER, PKCS#12", "[keys][corpus]") {
  struct Case {
    const char* path;
    const char* type;
  };
  for (const Case& c : {Case{"ATENtion/derived/client.crt.der", "der-certificate"},
                        Case{"ATENtion/derived/client.crt.pem", "pem-certificate"},
                        Case{"ATENtion/derived/client.key.pkcs1.pem", "pem-private-key"},
                        Case{"ATENtion/derived/client.key.pkcs8.pem", "pem-private-key"},
                        Case{"ATENtion/derived/client.key.pkcs8.der", "der-private-key"},
                        Case{"ATENtion/src/ATENtion.App/client.pfx", "pkcs12"}}) {
    auto path = corpus_file(c.path);
    if (!path) continue;
    INFO(c.path);
    Bytes data = read_file(*path);
    auto hits = key_hits(walk_all(data));
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].type == c.type);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].size == data.size());
    CHECK(hits[0].confidence == Confidence::High);
    if (std::string(c.type) == "der-certificate" || std::string(c.type) == "pem-certificate") {
      CHECK(contains(hits[0].description, "CN=IPMI"));
      CHECK(contains(hits[0].description, "2026-05-17 09:46:36"));
    }
    if (std::string(c.type) == "pkcs12") CHECK(contains(hits[0].description, "MAC present (sha1, 2000 iterations)"));
  }
}

TEST_CASE("corpus: BoringSSL PKCS#12 samples", "[keys][corpus][pkcs12]") {
  auto dir = corpus_file("boringssl/crypto/pkcs8/test");
  if (!dir) return;
  int good = 0;
  for (const auto& e : fs::directory_iterator(*dir)) {
    if (e.path().extension() != ".p12") continue;
    const std::string name = e.path().filename().string();
    INFO(name);
    Bytes data = read_file(e.path().string());
    auto r = walk_all(data);  // must not crash, whatever the file
    if (name.rfind("bad", 0) == 0) {
      for (const auto& h : hits_of(r, "pkcs12")) CHECK(h.confidence != Confidence::High);
      continue;
    }
    auto hits = hits_of(r, "pkcs12");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].size == data.size());
    CHECK(hits[0].confidence == Confidence::High);
    ++good;
  }
  CHECK(good == 11);
}

TEST_CASE("corpus: pyjks JKS and JCEKS keystores", "[keys][corpus][jks]") {
  struct Case {
    const char* path;
    const char* type;
    Confidence confidence;
    const char* text;
  };
  const Case cases[] = {
      {"pyjks/tests/keystores/jks/3certs.jks", "jks", Confidence::High, "3 entries: 3 trusted certificates"},
      {"pyjks/tests/keystores/jks/DSA2048.jks", "jks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jks/RSA1024.jks", "jks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jks/RSA2048_3certs.jks", "jks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jks/custom_entry_passwords.jks", "jks", Confidence::High,
       "2 entries: 1 private key, 1 trusted certificate"},
      {"pyjks/tests/keystores/jks/empty.jks", "jks", Confidence::High, "0 entries"},
      {"pyjks/tests/keystores/jks/non_ascii_password.jks", "jks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jks/truststore.jks", "jks", Confidence::High, "2 entries: 2 trusted certificates"},
      {"pyjks/tests/keystores/jceks/3certs.jceks", "jceks", Confidence::High, "3 entries: 3 trusted certificates"},
      {"pyjks/tests/keystores/jceks/DSA2048.jceks", "jceks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jceks/RSA1024.jceks", "jceks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jceks/RSA2048_3certs.jceks", "jceks", Confidence::High, "1 entry: 1 private key"},
      {"pyjks/tests/keystores/jceks/empty.jceks", "jceks", Confidence::High, "0 entries"},
      {"pyjks/tests/keystores/jceks/AES128.jceks", "jceks", Confidence::Medium, "1 entry: 1 secret key"},
      {"pyjks/tests/keystores/jceks/DES.jceks", "jceks", Confidence::Medium, "1 entry: 1 secret key"},
  };
  for (const Case& c : cases) {
    auto path = corpus_file(c.path);
    if (!path) continue;
    INFO(c.path);
    Bytes data = read_file(*path);
    auto hits = key_hits(walk_all(data));
    REQUIRE(!hits.empty());
    CHECK(hits[0].type == c.type);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == c.confidence);
    CHECK(contains(hits[0].description, c.text));
    if (c.confidence == Confidence::High) CHECK(hits[0].size == data.size());
  }
  // Every keystore file (including the deliberately malformed ones and BKS/UBER) walks without crashing.
  if (auto dir = corpus_file("pyjks/tests/keystores")) {
    for (const auto& e : fs::recursive_directory_iterator(*dir))
      if (e.is_regular_file()) walk_all(read_file(e.path().string()));
  }
}

TEST_CASE("corpus: Supermicro lighttpd server.pem (key then certificate)", "[keys][corpus][pem]") {
  auto path = corpus_file("supermicro_ipmi_firmware/SDK/Web_Server/httpd/server.pem");
  if (!path) return;
  auto hits = key_hits(walk_all(read_file(*path)));
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].type == "pem-private-key");
  CHECK(hits[0].offset == 0);
  CHECK(hits[0].confidence == Confidence::High);
  CHECK(contains(hits[0].description, "PEM RSA private key"));
  CHECK(hits[1].type == "pem-certificate");
  CHECK(hits[1].offset == 1679);
  CHECK(hits[1].confidence == Confidence::High);
}

TEST_CASE("corpus: houseofkeys certificates (one PEM certificate each)", "[keys][corpus][pem]") {
  auto dir = corpus_file("houseofkeys/certificates");
  if (!dir) return;
  int files = 0, ok = 0;
  for (const auto& e : fs::directory_iterator(*dir)) {
    if (e.path().extension() != ".pem") continue;
    ++files;
    Bytes data = read_file(e.path().string());
    auto certs = hits_of(walk_all(data), "pem-certificate");
    INFO(e.path().filename().string());
    CHECK(certs.size() == 1);
    if (certs.size() == 1 && certs[0].confidence == Confidence::High) ++ok;
  }
  CHECK(files == 331);
  CHECK(ok == files);
  // Linksys RVS4000: version field 3 ("v4", not allowed by RFC 5280) is still found, with a warning.
  if (auto one = corpus_file("houseofkeys/certificates/"
                             "719195c289c0e5361ab5952932085883eb0503bcc01738096684204ddaf48ccf.pem")) {
    auto certs = hits_of(walk_all(read_file(*one)), "pem-certificate");
    REQUIRE(certs.size() == 1);
    CHECK(certs[0].confidence == Confidence::High);
    REQUIRE(certs[0].diagnostics.size() == 1);
    CHECK(contains(certs[0].diagnostics[0].message, "version field is 3"));
  }
}

TEST_CASE("corpus: NIST PKITS DER certificates", "[keys][corpus][der-x509]") {
  auto dir = corpus_file("boringssl/pki/testdata/nist-pkits/certs");
  if (!dir) return;
  int files = 0;
  for (const auto& e : fs::directory_iterator(*dir)) {
    if (e.path().extension() != ".crt") continue;
    ++files;
    INFO(e.path().filename().string());
    Bytes data = read_file(e.path().string());
    auto hits = key_hits(walk_all(data));
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].type == "der-certificate");
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].size == data.size());
    CHECK(hits[0].confidence == Confidence::High);
  }
  CHECK(files > 0);
}
