// Certificates, private keys and keystores through OpenSSL 3; dates are read and judged by our own 64-bit code.
//
// Why our own time code: OpenSSL's X509_cmp_time() returns 0 on a parse error (so `openssl x509 -checkend` calls a
// badly encoded expired certificate "will not expire"), and d2i_X509 refuses UTCTime without seconds and
// GeneralizedTime shorter than 15 characters. We take the raw ASN.1 time text, parse it ourselves, and when d2i_X509
// refuses a certificate we walk its DER with der.hpp so the certificate is still reported (with an invalid date when
// the date is what is wrong) instead of being lost.
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/core/memo.hpp"
#include "fwcert/core/civil_time.hpp"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "fwcert/formats/der.hpp"

namespace fwcert {

namespace {

// ---------------------------------------------------------------------------------------------------------------
// OpenSSL RAII

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using AlgorPtr = std::unique_ptr<X509_ALGOR, Deleter<X509_ALGOR, X509_ALGOR_free>>;
using BcPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>>;
using P8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Deleter<PKCS8_PRIV_KEY_INFO, PKCS8_PRIV_KEY_INFO_free>>;
using SigPtr = std::unique_ptr<X509_SIG, Deleter<X509_SIG, X509_SIG_free>>;
using P12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12, PKCS12_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

void free_p7_stack(STACK_OF(PKCS7) * s) { sk_PKCS7_pop_free(s, PKCS7_free); }
void free_bag_stack(STACK_OF(PKCS12_SAFEBAG) * s) { sk_PKCS12_SAFEBAG_pop_free(s, PKCS12_SAFEBAG_free); }
using P7StackPtr = std::unique_ptr<STACK_OF(PKCS7), Deleter<STACK_OF(PKCS7), free_p7_stack>>;
using BagStackPtr = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), Deleter<STACK_OF(PKCS12_SAFEBAG), free_bag_stack>>;

// Clears OpenSSL's thread-local error queue on every exit path, so failures here never leak into later calls.
struct ErrGuard {
  ErrGuard() { ERR_clear_error(); }
  ~ErrGuard() { ERR_clear_error(); }
  ErrGuard(const ErrGuard&) = delete;
  ErrGuard& operator=(const ErrGuard&) = delete;
};

std::string openssl_error() {
  unsigned long e = ERR_peek_last_error();
  if (e == 0) return "OpenSSL could not decode it";
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  return buf.data();
}

// ---------------------------------------------------------------------------------------------------------------
// Small text helpers

std::string hex_lower(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

std::string digest_hex(const uint8_t* p, size_t n, const EVP_MD* md) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_Digest(p, n, out.data(), &len, md, nullptr) != 1) return {};
  return hex_lower(out.data(), len);
}

// Keeps valid UTF-8 (control characters included: JSON escapes them and every human-readable output shows them
// through report/text.hpp display(), the one sanitiser) and replaces every other byte with '?'.
std::string sanitize_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(in[i + k]) >> 6) == 2;
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

// Raw ASN.1 time bytes for a report: printable ASCII kept, anything else as \xNN (the text is not trusted).
std::string escape_raw(std::string_view in) {
  static const char* d = "0123456789ABCDEF";
  std::string out;
  for (char ch : in.substr(0, 64)) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += d[c >> 4];
      out += d[c & 15];
    }
  }
  if (in.size() > 64) out += "...";
  return out;
}

// Serial text from a two's-complement magnitude: uppercase hex without leading zeros, "0" for zero.
std::string serial_text(const uint8_t* mag, size_t n, bool negative) {
  static const char* d = "0123456789ABCDEF";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[mag[i] >> 4];
    s += d[mag[i] & 15];
  }
  size_t nz = s.find_first_not_of('0');
  s = nz == std::string::npos ? "0" : s.substr(nz);
  if (negative && s != "0") s = "-" + s;
  return s;
}

// Serial from the raw INTEGER content (two's complement, as in the DER), for certificates OpenSSL refused.
std::string serial_from_der(ByteView content) {
  if (content.empty()) return "0";
  std::vector<uint8_t> v(content.data(), content.data() + content.size());
  bool negative = (v[0] & 0x80) != 0;
  if (negative) {  // magnitude = two's complement negation
    for (auto& b : v) b = static_cast<uint8_t>(~b);
    for (size_t i = v.size(); i-- > 0;) {
      if (++v[i] != 0) break;
    }
  }
  return serial_text(v.data(), v.size(), negative);
}

std::string obj_name(const ASN1_OBJECT* obj) {
  if (obj == nullptr) return {};
  int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    const char* ln = OBJ_nid2ln(nid);
    if (ln != nullptr) return ln;
  }
  std::array<char, 128> buf{};
  int n = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  return n > 0 ? std::string(buf.data()) : std::string();
}

// Names: X.500 order as encoded ("C=US, ST=California, ..., CN=IPMI"), short attribute names, RFC 2253 value
// escaping, UTF-8 kept (ESC_MSB off). Chosen over pure RFC 2253 (which reverses the order) because it reads like
// `openssl x509 -subject` and like vendor documentation.
constexpr unsigned long kNameFlags =
    XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN | (ASN1_STRFLGS_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB));

std::string name_text(const X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  if (X509_NAME_print_ex(bio.get(), name, 0, kNameFlags) < 0) return "(unprintable name)";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr) return {};
  return sanitize_utf8(std::string_view(data, static_cast<size_t>(n)));
}

std::string common_name(const X509_NAME* name) {
  if (name == nullptr) return {};
  int idx = -1, last = -1;
  while ((idx = X509_NAME_get_index_by_NID(name, NID_commonName, idx)) >= 0) last = idx;  // most specific = last
  if (last < 0) return {};
  X509_NAME_ENTRY* e = X509_NAME_get_entry(name, last);
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
  if (n < 0 || utf8 == nullptr) return {};
  std::string s(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return sanitize_utf8(s);
}

// Algorithm, size and curve of a key.
KeyDesc describe_key(EVP_PKEY* pkey) {
  KeyDesc k;
  if (pkey == nullptr) return k;
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA: k.algorithm = "RSA"; break;
    case EVP_PKEY_RSA_PSS: k.algorithm = "RSA-PSS"; break;
    case EVP_PKEY_EC: k.algorithm = "EC"; break;
    case EVP_PKEY_DSA: k.algorithm = "DSA"; break;
    case EVP_PKEY_ED25519: k.algorithm = "Ed25519"; break;
    case EVP_PKEY_ED448: k.algorithm = "Ed448"; break;
    case EVP_PKEY_X25519: k.algorithm = "X25519"; break;
    case EVP_PKEY_X448: k.algorithm = "X448"; break;
    case EVP_PKEY_DH:
    case EVP_PKEY_DHX: k.algorithm = "DH"; break;
    default: {
      const char* t = EVP_PKEY_get0_type_name(pkey);
      k.algorithm = t != nullptr ? t : "unknown";
    }
  }
  k.bits = EVP_PKEY_get_bits(pkey);
  if (k.algorithm == "EC") {
    std::array<char, 64> enc{};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, enc.data(), enc.size(), &len) == 1 &&
        std::string(enc.data()) == OSSL_PKEY_EC_ENCODING_EXPLICIT) {
      k.curve = "explicit";
    } else {
      std::array<char, 80> group{};
      if (EVP_PKEY_get_group_name(pkey, group.data(), group.size(), &len) == 1) k.curve = group.data();
      else k.curve = "explicit";
    }
  }
  ERR_clear_error();
  return k;
}

std::string pubkey_spki_sha256(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(pkey, &der);
  if (n <= 0 || der == nullptr) return {};
  std::string s = digest_hex(der, static_cast<size_t>(n), EVP_sha256());
  OPENSSL_free(der);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, 64-bit; the days-from-civil construction counts 400-year eras of 146097 days)

int64_t utc_year(int64_t unix_seconds) { return civil_from_unix(unix_seconds).year; }

constexpr int64_t kNoExpiry = 253402300799;   // 9999-12-31T23:59:59Z
constexpr int64_t kTime32Max = 2147483647;     // 2038-01-19T03:14:07Z
constexpr int64_t kYear1950 = -631152000;      // 1950-01-01T00:00:00Z
constexpr int64_t kYear2050 = 2524608000;      // 2050-01-01T00:00:00Z

std::string time_type_name(int asn1_type) {
  if (asn1_type == V_ASN1_UTCTIME) return "UTCTime";
  if (asn1_type == V_ASN1_GENERALIZEDTIME) return "GeneralizedTime";
  return "tag " + std::to_string(asn1_type);
}

TimeValue time_from_raw(const std::string& type, std::string_view raw) {
  TimeValue tv = parse_asn1_time(type, std::string(raw));
  tv.raw = escape_raw(raw);
  return tv;
}

TimeValue time_from_asn1(const ASN1_TIME* t) {
  if (t == nullptr) {
    TimeValue tv;
    tv.error = "missing";
    return tv;
  }
  const unsigned char* p = ASN1_STRING_get0_data(t);
  int n = ASN1_STRING_length(t);
  std::string_view raw = p != nullptr && n > 0 ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
                                               : std::string_view();
  return time_from_raw(time_type_name(ASN1_STRING_type(t)), raw);
}

TimeValue time_from_tlv(const der::Tlv& t) {
  std::string type = t.tag == der::kUtcTime ? "UTCTime"
                     : t.tag == der::kGeneralizedTime ? "GeneralizedTime"
                                                      : "tag " + std::to_string(t.tag);
  return time_from_raw(type, t.content.as_string_view());
}

ByteView whole(const der::Tlv& t) { return ByteView(t.content.data() - t.header_size, t.size(), 0); }

// ---------------------------------------------------------------------------------------------------------------
// Certificates

void fill_key_from_spki(Certificate& c, const X509_PUBKEY* xpk, EVP_PKEY* pkey) {
  ASN1_OBJECT* alg_obj = nullptr;
  X509_ALGOR* alg = nullptr;
  if (xpk != nullptr) X509_PUBKEY_get0_param(&alg_obj, nullptr, nullptr, &alg, xpk);
  if (pkey != nullptr) {
    c.key = describe_key(pkey);
  } else {
    c.key.algorithm = alg_obj != nullptr ? obj_name(alg_obj) : "unknown";  // algorithm OpenSSL cannot load
  }
  // Explicit EC parameters: the AlgorithmIdentifier carries a SEQUENCE instead of a named-curve OID (even when
  // OpenSSL recognises the parameters as a known curve).
  if (alg != nullptr && alg_obj != nullptr && OBJ_obj2nid(alg_obj) == NID_X9_62_id_ecPublicKey) {
    int ptype = 0;
    const void* pval = nullptr;
    X509_ALGOR_get0(nullptr, &ptype, &pval, alg);
    if (ptype == V_ASN1_SEQUENCE) c.key.curve = "explicit";
    if (c.key.algorithm.empty()) c.key.algorithm = "EC";
  }
}

// The DER of a certificate's SubjectPublicKeyInfo (empty if it cannot be encoded).
std::vector<uint8_t> spki_der(X509* x) {
  unsigned char* der = nullptr;
  const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
  std::vector<uint8_t> out;
  if (n > 0 && der != nullptr) out.assign(der, der + n);
  OPENSSL_free(der);
  return out;
}

// pkey: the certificate's key (nullptr when OpenSSL cannot decode it); spki: spki_der(x).
void fill_from_x509(Certificate& c, X509* x, EVP_PKEY* pkey, const std::vector<uint8_t>& spki) {
  c.subject = name_text(X509_get_subject_name(x));
  c.issuer = name_text(X509_get_issuer_name(x));
  c.common_name = common_name(X509_get_subject_name(x));  // empty without a CN: reporters fall back, not the record

  const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
  if (serial != nullptr) {
    c.serial = serial_text(ASN1_STRING_get0_data(serial), static_cast<size_t>(std::max(0, ASN1_STRING_length(serial))),
                           (ASN1_STRING_type(serial) & V_ASN1_NEG) != 0);
  }
  c.not_before = time_from_asn1(X509_get0_notBefore(x));
  c.not_after = time_from_asn1(X509_get0_notAfter(x));

  fill_key_from_spki(c, X509_get_X509_PUBKEY(x), pkey);
  // The key's own encoding, as for private keys (pubkey_spki_sha256), so that a certificate pairs with its key even
  // when it spells the SPKI differently: some firmware certificates leave out the NULL parameters of rsaEncryption,
  // and the digest of their bytes as written matched neither their key nor the known-compromised list. The bytes as
  // written only when OpenSSL cannot decode the key.
  if (pkey != nullptr) c.spki_sha256 = pubkey_spki_sha256(pkey);
  if (c.spki_sha256.empty() && !spki.empty()) c.spki_sha256 = digest_hex(spki.data(), spki.size(), EVP_sha256());

  const X509_ALGOR* sig_alg = nullptr;
  X509_get0_signature(nullptr, &sig_alg, x);
  if (sig_alg != nullptr) {
    const ASN1_OBJECT* obj = nullptr;
    X509_ALGOR_get0(&obj, nullptr, nullptr, sig_alg);
    c.signature_algorithm = obj_name(obj);
  }

  // Self-signed = same name AND the signature verifies with the certificate's own key. X509_check_issued() is not
  // used because it also demands keyCertSign in keyUsage, which self-signed BMC server certificates often lack.
  if (pkey != nullptr && X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0) {
    c.self_signed = X509_verify(x, pkey) == 1;
  }
  int crit = 0;
  BcPtr bc(static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, &crit, nullptr)));
  c.is_ca = bc && bc->ca != 0;
  ERR_clear_error();
}

// OpenSSL refused the certificate: walk the DER ourselves (FORMATS.md 6.3 field order) so that a certificate whose
// date OpenSSL cannot read is still reported. Names, key and signature algorithm are decoded piecewise where OpenSSL
// accepts the pieces; self_signed and is_ca stay false (unknown).
std::optional<Certificate> fallback_walk(ByteView der, std::string& why) {
  auto outer = der::read_tlv(der, 0, der::kSequence);
  if (!outer) {
    why = "not a DER SEQUENCE";
    return std::nullopt;
  }
  der::Children top(outer->content);
  auto tbs = top.next(der::kSequence);
  auto sig_alg = top.next(der::kSequence);
  if (!tbs || !sig_alg) {
    why = "no tbsCertificate/signatureAlgorithm";
    return std::nullopt;
  }
  der::Children t(tbs->content);
  t.next_if(der::context(0, true));
  auto serial = t.next(der::kInteger);
  auto inner_alg = t.next(der::kSequence);
  auto issuer = t.next(der::kSequence);
  auto validity = t.next(der::kSequence);
  auto subject = t.next(der::kSequence);
  auto spki = t.next(der::kSequence);
  if (!serial || !inner_alg || !issuer || !validity || !subject || !spki) {
    why = "tbsCertificate fields missing or malformed";
    return std::nullopt;
  }
  der::Children v(validity->content);
  auto nb = v.next();
  auto na = v.next();
  if (!nb || !na) {
    why = "validity is not two elements";
    return std::nullopt;
  }

  Certificate c;
  ByteView w = whole(*outer);
  c.der.assign(w.data(), w.data() + w.size());
  c.serial = serial_from_der(serial->content);
  c.not_before = time_from_tlv(*nb);
  c.not_after = time_from_tlv(*na);

  auto decode_name = [](const der::Tlv& tlv) {
    ByteView b = whole(tlv);
    const unsigned char* p = b.data();
    NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(b.size())));
    return name;
  };
  NamePtr subj = decode_name(*subject);
  NamePtr iss = decode_name(*issuer);
  c.subject = subj ? name_text(subj.get()) : "(unreadable name)";
  c.issuer = iss ? name_text(iss.get()) : "(unreadable name)";
  c.common_name = subj ? common_name(subj.get()) : std::string();

  ByteView spki_bytes = whole(*spki);
  const unsigned char* p = spki_bytes.data();
  using XpkPtr = std::unique_ptr<X509_PUBKEY, Deleter<X509_PUBKEY, X509_PUBKEY_free>>;
  XpkPtr xpk(d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(spki_bytes.size())));
  EVP_PKEY* pkey = xpk ? X509_PUBKEY_get0(xpk.get()) : nullptr;  // owned by xpk
  if (pkey != nullptr) c.spki_sha256 = pubkey_spki_sha256(pkey);  // as fill_from_x509 does
  if (c.spki_sha256.empty()) c.spki_sha256 = digest_hex(spki_bytes.data(), spki_bytes.size(), EVP_sha256());
  fill_key_from_spki(c, xpk.get(), pkey);
  if (!xpk) c.key.algorithm = "unknown";

  ByteView alg_bytes = whole(*sig_alg);
  p = alg_bytes.data();
  AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, static_cast<long>(alg_bytes.size())));
  if (alg) {
    const ASN1_OBJECT* obj = nullptr;
    X509_ALGOR_get0(&obj, nullptr, nullptr, alg.get());
    c.signature_algorithm = obj_name(obj);
  }
  ERR_clear_error();
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// PEM (our own block finder: OpenSSL's PEM reader would prompt for passwords and cannot read OpenSSH keys)

struct PemBlock {
  std::string label;
  std::vector<std::pair<std::string, std::string>> headers;  // RFC 1421 headers (legacy encrypted keys)
  std::vector<uint8_t> body;                                 // base64-decoded
};

std::optional<std::vector<uint8_t>> base64_decode(std::string_view s) {
  std::vector<uint8_t> out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char ch : s) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '+') v = 62;
    else if (ch == '/') v = 63;
    else if (ch == '=') { padding = true; continue; }
    else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') continue;
    else return std::nullopt;
    if (padding) return std::nullopt;  // data after '='
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  size_t b = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(a, b - a + 1));
}

// All PEM blocks in the text (at most 64), in order.
std::vector<PemBlock> pem_blocks(std::string_view text) {
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while (blocks.size() < 64) {
    size_t begin = text.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) break;
    size_t label_start = begin + 11;
    size_t label_end = text.find("-----", label_start);
    if (label_end == std::string_view::npos || label_end - label_start > 64) break;
    std::string label(text.substr(label_start, label_end - label_start));
    size_t body_start = label_end + 5;
    std::string end_marker = "-----END " + label + "-----";
    size_t end = text.find(end_marker, body_start);
    if (end == std::string_view::npos) {
      pos = body_start;
      continue;
    }
    pos = end + end_marker.size();
    std::string_view body = text.substr(body_start, end - body_start);
    PemBlock b;
    b.label = label;
    // Headers: "Name: value" lines before the first blank line (only when the first line has a colon).
    size_t first_line_end = body.find('\n', body.find_first_not_of("\r\n") == std::string_view::npos
                                                ? 0
                                                : body.find_first_not_of("\r\n"));
    std::string_view first = body.substr(0, first_line_end == std::string_view::npos ? body.size() : first_line_end);
    if (first.find(':') != std::string_view::npos) {
      size_t p = 0;
      while (p < body.size()) {
        size_t nl = body.find('\n', p);
        std::string_view line = body.substr(p, nl == std::string_view::npos ? body.size() - p : nl - p);
        p = nl == std::string_view::npos ? body.size() : nl + 1;
        std::string l = trim(line);
        if (l.empty()) {
          if (!b.headers.empty()) break;
          continue;
        }
        size_t colon = l.find(':');
        if (colon == std::string::npos) {  // no blank line after the headers: this is base64 already
          p -= line.size() + (nl == std::string_view::npos ? 0 : 1);
          break;
        }
        b.headers.emplace_back(trim(std::string_view(l).substr(0, colon)), trim(std::string_view(l).substr(colon + 1)));
      }
      body = body.substr(std::min(p, body.size()));
    }
    auto decoded = base64_decode(body);
    if (!decoded) continue;
    b.body = std::move(*decoded);
    blocks.push_back(std::move(b));
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------------------------
// Private keys

struct PkeyResult {
  PkeyPtr pkey;
  std::string format;
};

// Both as d2i_PrivateKey / EVP_PKCS82PKEY read them, with decoder contexts each thread reuses (crypto_providers.hpp).
PkeyPtr d2i_key(int type, const std::vector<uint8_t>& der) {
  return PkeyPtr(decode_private_key(der.data(), der.size(), type));
}

PkeyPtr d2i_pkcs8(const std::vector<uint8_t>& der) { return PkeyPtr(decode_pkcs8_private_key(der.data(), der.size())); }

bool is_encrypted_pkcs8(const std::vector<uint8_t>& der) {
  const unsigned char* p = der.data();
  SigPtr sig(d2i_X509_SIG(nullptr, &p, static_cast<long>(der.size())));
  return sig != nullptr;
}

PrivateKey key_record(EVP_PKEY* pkey, std::string format) {
  PrivateKey k;
  k.format = std::move(format);
  k.key = describe_key(pkey);
  k.spki_sha256 = pubkey_spki_sha256(pkey);
  return k;
}

// Big-endian reader for the SSH wire format (RFC 4251 5: uint32, string = uint32 length + bytes).
struct SshReader {
  ByteView v;
  uint64_t pos = 0;
  std::optional<uint32_t> u32() {
    auto x = v.u32be(pos);
    if (x) pos += 4;
    return x;
  }
  std::optional<ByteView> string() {
    auto n = v.u32be(pos);
    if (!n) return std::nullopt;
    auto s = v.sub(pos + 4, *n);
    if (s) pos += 4 + *n;
    return s;
  }
};

PkeyPtr pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* out = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &out, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return PkeyPtr(out);
}

BnPtr bn(ByteView b) { return BnPtr(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr)); }

// openssh-key-v1 (openssh-portable PROTOCOL.key): "openssh-key-v1\0", string ciphername, string kdfname,
// string kdfoptions, uint32 N, N public key blobs, string (possibly encrypted) private section. The public key blob
// is in the clear, so type, size and SPKI are known even when the private part is encrypted.
std::optional<PrivateKey> parse_openssh(const std::vector<uint8_t>& body) {
  ByteView v(body.data(), body.size());
  static constexpr std::string_view kMagic("openssh-key-v1\0", 15);
  if (!v.matches(0, kMagic)) return std::nullopt;
  SshReader r{v, kMagic.size()};
  auto cipher = r.string();
  auto kdf = r.string();
  auto kdfopts = r.string();
  auto count = r.u32();
  if (!cipher || !kdf || !kdfopts || !count) return std::nullopt;
  PrivateKey k;
  k.format = "OpenSSH";
  k.encrypted = cipher->as_string_view() != "none";
  if (*count < 1) return k;
  auto blob = r.string();
  if (!blob) return k;
  SshReader b{*blob, 0};
  auto type_v = b.string();
  if (!type_v) return k;
  std::string type(type_v->as_string_view());
  PkeyPtr pkey;
  if (type == "ssh-rsa") {
    auto e = b.string();
    auto n = b.string();
    if (e && n) {
      BnPtr be = bn(*e), bnn = bn(*n);
      ParamBldPtr bld(OSSL_PARAM_BLD_new());
      if (be && bnn && bld && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bnn.get()) == 1 &&
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) == 1) {
        pkey = pkey_from_params("RSA", bld.get());
      }
      if (!pkey) {
        k.key.algorithm = "RSA";
        k.key.bits = bnn ? BN_num_bits(bnn.get()) : 0;
      }
    }
  } else if (type == "ssh-ed25519") {
    auto pk = b.string();
    if (pk && pk->size() == 32) pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pk->data(), 32));
    if (!pkey) k.key.algorithm = "Ed25519";
  } else if (type.rfind("ecdsa-sha2-", 0) == 0) {
    auto curve = b.string();
    auto q = b.string();
    std::string c = curve ? std::string(curve->as_string_view()) : std::string();
    std::string group = c == "nistp256" ? "prime256v1" : c == "nistp384" ? "secp384r1" : c == "nistp521" ? "secp521r1" : "";
    if (q && !group.empty()) {
      ParamBldPtr bld(OSSL_PARAM_BLD_new());
      if (bld && OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.c_str(), 0) == 1 &&
          OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, q->data(), q->size()) == 1) {
        pkey = pkey_from_params("EC", bld.get());
      }
    }
    if (!pkey) {
      k.key.algorithm = "EC";
      k.key.curve = group.empty() ? c : group;
    }
  } else if (type == "ssh-dss") {
    auto p = b.string();
    k.key.algorithm = "DSA";
    if (p) {
      BnPtr bp = bn(*p);
      k.key.bits = bp ? BN_num_bits(bp.get()) : 0;
    }
  } else {
    k.key.algorithm = sanitize_utf8(type.substr(0, 64));  // sk-ssh-ed25519@openssh.com and other types: name only
  }
  if (pkey) {
    k.key = describe_key(pkey.get());
    k.spki_sha256 = pubkey_spki_sha256(pkey.get());
  }
  return k;
}

std::string header_value(const PemBlock& b, const std::string& name) {
  for (const auto& [n, v] : b.headers) {
    if (n == name) return v;
  }
  return {};
}

std::optional<PrivateKey> key_from_pem(const PemBlock& b) {
  const std::string& l = b.label;
  if (l == "OPENSSH PRIVATE KEY") return parse_openssh(b.body);
  if (l == "ENCRYPTED PRIVATE KEY") {
    if (!is_encrypted_pkcs8(b.body)) return std::nullopt;
    PrivateKey k;
    k.format = "PEM encrypted PKCS#8";
    k.encrypted = true;  // the key algorithm is inside the encrypted part: unknown
    return k;
  }
  if (l == "PRIVATE KEY") {
    PkeyPtr pkey = d2i_pkcs8(b.body);
    if (!pkey) return std::nullopt;
    return key_record(pkey.get(), "PEM PKCS#8");
  }
  int type = 0;
  std::string kind, alg;
  if (l == "RSA PRIVATE KEY") type = EVP_PKEY_RSA, kind = "PKCS#1", alg = "RSA";
  else if (l == "EC PRIVATE KEY") type = EVP_PKEY_EC, kind = "SEC1", alg = "EC";
  else if (l == "DSA PRIVATE KEY") type = EVP_PKEY_DSA, kind = "DSA", alg = "DSA";
  else return std::nullopt;
  // Legacy OpenSSL encryption: "Proc-Type: 4,ENCRYPTED" and "DEK-Info: <cipher>,<iv>" (RFC 1421 headers).
  std::string proc = header_value(b, "Proc-Type");
  if (proc.find("ENCRYPTED") != std::string::npos) {
    PrivateKey k;
    std::string dek = header_value(b, "DEK-Info");
    std::string cipher = sanitize_utf8(dek.substr(0, dek.find(',')).substr(0, 64));
    k.format = "PEM encrypted " + kind + (cipher.empty() ? "" : " (" + cipher + ")");
    k.encrypted = true;
    k.key.algorithm = alg;  // the label says what it is; size and curve are inside the encrypted part
    return k;
  }
  PkeyPtr pkey = d2i_key(type, b.body);
  if (!pkey) pkey = d2i_pkcs8(b.body);  // mislabelled PKCS#8
  if (!pkey) return std::nullopt;
  return key_record(pkey.get(), "PEM " + kind);
}

std::optional<PrivateKey> key_from_der(ByteView bytes) {
  // Only the first DER element: a key file may carry trailing bytes (padding, a second object).
  size_t len = bytes.size();
  if (auto h = der::read_ber_header(bytes, 0)) {
    if (h->tag != der::kSequence || h->indefinite) return std::nullopt;
    if (h->header_size + h->length <= bytes.size()) len = static_cast<size_t>(h->header_size + h->length);
  } else {
    return std::nullopt;
  }
  std::vector<uint8_t> der(bytes.data(), bytes.data() + len);
  if (PkeyPtr k = d2i_pkcs8(der)) return key_record(k.get(), "DER PKCS#8");
  if (is_encrypted_pkcs8(der)) {
    PrivateKey k;
    k.format = "DER encrypted PKCS#8";
    k.encrypted = true;
    return k;
  }
  if (PkeyPtr k = d2i_key(EVP_PKEY_RSA, der)) return key_record(k.get(), "DER PKCS#1");
  if (PkeyPtr k = d2i_key(EVP_PKEY_EC, der)) return key_record(k.get(), "DER SEC1");
  if (PkeyPtr k = d2i_key(EVP_PKEY_DSA, der)) return key_record(k.get(), "DER DSA");
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------------
// PKCS#12

bool legacy_loaded() { return load_crypto_providers(); }

struct P12Pass {
  const char* pass;  // nullptr = the absent password (OpenSSL derives a different key than for "")
  int len;
};

constexpr int kMaxBagDepth = 8;
constexpr size_t kMaxBags = 10000;

struct BagWalk {
  KeystoreContents* out;
  bool decrypt;  // try to decrypt shrouded keys
  P12Pass pw;
  size_t bags = 0;
  bool failed_decrypt = false;
};

void walk_bags(BagWalk& w, const STACK_OF(PKCS12_SAFEBAG) * bags, int depth) {
  if (bags == nullptr || depth > kMaxBagDepth) return;
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags) && w.bags < kMaxBags; ++i, ++w.bags) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_certBag: {
        if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) break;
        // get0_bag_obj() is typed ASN1_TYPE but holds the OCTET STRING for x509 bags, so decode and re-encode
        // (OpenSSL keeps the original tbsCertificate encoding, so the DER comes back byte-identical).
        X509Ptr x(PKCS12_SAFEBAG_get1_cert(bag));
        unsigned char* der = nullptr;
        int n = x ? i2d_X509(x.get(), &der) : 0;
        if (n > 0 && der != nullptr) {
          w.out->certificates.emplace_back(der, der + n);
          OPENSSL_free(der);
        } else {
          w.out->notes.push_back("certificate bag OpenSSL cannot decode");
        }
        break;
      }
      case NID_keyBag: {
        const PKCS8_PRIV_KEY_INFO* p8 = PKCS12_SAFEBAG_get0_p8inf(bag);
        PkeyPtr pkey(p8 != nullptr ? EVP_PKCS82PKEY(p8) : nullptr);
        if (pkey) w.out->keys.push_back(key_record(pkey.get(), "PKCS#12"));
        break;
      }
      case NID_pkcs8ShroudedKeyBag: {
        PkeyPtr pkey;
        if (w.decrypt) {
          P8Ptr p8(PKCS12_decrypt_skey(bag, w.pw.pass, w.pw.len));
          if (p8) pkey.reset(EVP_PKCS82PKEY(p8.get()));
          else w.failed_decrypt = true;
        }
        if (pkey) {
          w.out->keys.push_back(key_record(pkey.get(), "PKCS#12"));
        } else {
          PrivateKey k;
          k.format = "PKCS#12 shrouded key";
          k.encrypted = true;
          w.out->keys.push_back(std::move(k));
        }
        break;
      }
      case NID_safeContentsBag:
        walk_bags(w, PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
        break;
      default: break;
    }
  }
}

// Every readable bag of the PFX. With decrypt=false only unencrypted safes are read.
void extract_p12(PKCS12* p12, KeystoreContents& out, bool decrypt, P12Pass pw, bool& failed_decrypt) {
  P7StackPtr safes(PKCS12_unpack_authsafes(p12));
  if (!safes) {
    out.notes.push_back("authenticated safe could not be decoded");
    failed_decrypt = true;
    return;
  }
  BagWalk w{&out, decrypt, pw};
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes.get(), i);
    int nid = OBJ_obj2nid(p7->type);
    BagStackPtr bags;
    if (nid == NID_pkcs7_data) {
      bags.reset(PKCS12_unpack_p7data(p7));
      if (!bags) out.notes.push_back("a plain SafeContents could not be decoded");
    } else if (nid == NID_pkcs7_encrypted) {
      if (!decrypt) continue;
      bags.reset(PKCS12_unpack_p7encdata(p7, pw.pass, pw.len));
      if (!bags) w.failed_decrypt = true;
    }
    walk_bags(w, bags.get(), 0);
  }
  failed_decrypt = failed_decrypt || w.failed_decrypt;
  ERR_clear_error();
}

// ---------------------------------------------------------------------------------------------------------------
// Time text helpers

bool digits_at(const std::string& s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

// =================================================================================================================

namespace {
Result<Certificate> parse_certificate_uncached(ByteView der);
}  // namespace

// Each distinct certificate is parsed once per process (core/memo.hpp); failures are not remembered, so their
// messages keep the offset of the place they come from.
Result<Certificate> parse_certificate(ByteView der) {
  load_crypto_providers();
  size_t len = der.size();
  if (auto tlv = der::read_tlv(der, 0, der::kSequence)) len = static_cast<size_t>(tlv->size());
  static Memo<std::optional<Certificate>> memo;
  auto c = memo.get(
      std::string_view(reinterpret_cast<const char*>(der.data()), std::min(len, der.size())),
      [&]() -> std::optional<Certificate> {
        auto r = parse_certificate_uncached(der);
        if (!r) return std::nullopt;
        return std::move(*r);
      },
      [](const std::optional<Certificate>& v) { return v.has_value(); });
  if (c) return std::move(*c);
  return parse_certificate_uncached(der);
}

namespace {
Result<Certificate> parse_certificate_uncached(ByteView der) {
  ErrGuard guard;
  // Parse exactly the first DER element (trailing bytes are the caller's business).
  size_t len = der.size();
  if (auto tlv = der::read_tlv(der, 0, der::kSequence)) len = static_cast<size_t>(tlv->size());
  if (len > static_cast<size_t>(LONG_MAX)) return make_error(der.base(), "too large");
  // The structure first, then its key with this thread's reused decoder (crypto_providers.hpp): the same result as
  // d2i_X509, at a fifth of the cost. A key that decoder cannot read is left to d2i_X509 itself. X509_verify on such
  // a certificate still finds its digest (test_x509's self-signed cases would fail otherwise).
  const unsigned char* p = der.data();
  X509Ptr x(d2i_x509_without_key(&p, static_cast<long>(len)));
  PkeyPtr key;
  std::vector<uint8_t> spki;
  if (x) {
    spki = spki_der(x.get());
    key.reset(decode_spki(spki.data(), spki.size()));
    if (!key) {
      p = der.data();
      x.reset(d2i_X509(nullptr, &p, static_cast<long>(len)));
    }
  }
  if (x) {
    Certificate c;
    size_t used = static_cast<size_t>(p - der.data());
    c.der.assign(der.data(), der.data() + used);
    c.sha256 = digest_hex(c.der.data(), c.der.size(), EVP_sha256());
    c.sha1 = digest_hex(c.der.data(), c.der.size(), EVP_sha1());
    fill_from_x509(c, x.get(), key ? key.get() : X509_get0_pubkey(x.get()), spki);
    return c;
  }
  std::string openssl_why = openssl_error();
  std::string why;
  auto c = fallback_walk(der, why);
  if (!c) return make_error(der.base(), "not an X.509 certificate: " + why + " (" + openssl_why + ")");
  c->sha256 = digest_hex(c->der.data(), c->der.size(), EVP_sha256());
  c->sha1 = digest_hex(c->der.data(), c->der.size(), EVP_sha1());
  return std::move(*c);
}
}  // namespace

// Rules (RFC 5280 4.1.2.5 and X.680 for the relaxed forms real certificates use):
//  - UTCTime YYMMDDhhmm[ss](Z|+hhmm|-hhmm): YY 50-99 = 19YY, 00-49 = 20YY. No fraction.
//  - GeneralizedTime YYYYMMDDhhmm[ss[(.|,)f+]](Z|+hhmm|-hhmm). A fraction is cut off (floor to the second).
//  - Without Z or an offset the text is local time of an unknown zone: rejected (never guessed).
//  - month 1-12, day within the month (leap years by the Gregorian rule), hour 0-23 (24 rejected), minute 0-59,
//    second 0-60; a leap second 60 is read as 59 (Unix time has no leap seconds; rounding down judges expiry one
//    second early rather than late). Offset hours 0-23, minutes 0-59; the result is the UTC instant.
//  - 99991231235959Z (the instant 9999-12-31T23:59:59Z) sets no_expiry; unix is still set.
//  - What TLS peers accept: OpenSSL 3 verifies a certificate's dates with X509_cmp_time (crypto/x509/x509_vfy.c),
//    which refuses any length but 13 (UTCTime) or 15 (GeneralizedTime) characters, anything but digits before a
//    final 'Z', and then reads the fields with ASN1_TIME_to_tm (crypto/asn1/a_time.c, ossl_asn1_time_to_tm: seconds
//    at most 59); d2i_X509 itself already refuses a UTCTime shorter than 13 and a GeneralizedTime shorter than 15
//    characters (crypto/asn1/tasn_dec.c). A relaxed form we can read is therefore kept as `lenient` only, and the
//    date counts as invalid: every OpenSSL-based peer rejects the certificate whatever its clock.
TimeValue parse_asn1_time(const std::string& type, const std::string& raw) {
  TimeValue tv;
  tv.type = type;
  tv.raw = raw;
  auto fail = [&tv](const std::string& why) {
    tv.unix.reset();
    tv.no_expiry = false;
    tv.error = why;
    return tv;
  };
  bool utc = type == "UTCTime";
  if (!utc && type != "GeneralizedTime") return fail("not a UTCTime or GeneralizedTime (" + type + ")");
  if (raw.size() > 64) return fail("too long");
  size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (utc) {
    int yy = 0;
    if (!digits_at(raw, 0, 2, yy)) return fail("year is not two digits");
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    i = 2;
  } else {
    if (!digits_at(raw, 0, 4, year)) return fail("year is not four digits");
    i = 4;
  }
  if (!digits_at(raw, i, 2, month)) return fail("month is not two digits");
  if (!digits_at(raw, i + 2, 2, day)) return fail("day is not two digits");
  if (!digits_at(raw, i + 4, 2, hour)) return fail("hour is not two digits");
  if (!digits_at(raw, i + 6, 2, minute)) return fail("minute is not two digits");
  i += 8;
  bool has_seconds = i < raw.size() && raw[i] >= '0' && raw[i] <= '9', has_fraction = false;
  if (has_seconds) {
    if (!digits_at(raw, i, 2, second)) return fail("second is not two digits");
    i += 2;
  }
  if (i < raw.size() && (raw[i] == '.' || raw[i] == ',')) {
    if (utc) return fail("UTCTime cannot have a fraction");
    if (!has_seconds) return fail("fraction without seconds");
    size_t start = ++i;
    while (i < raw.size() && raw[i] >= '0' && raw[i] <= '9') ++i;
    if (i == start) return fail("empty fraction");
    has_fraction = true;
  }
  int64_t offset = 0;
  if (i >= raw.size()) return fail("no time zone (Z or +hhmm/-hhmm): local time of an unknown zone");
  if (raw[i] == 'Z') {
    ++i;
  } else if (raw[i] == '+' || raw[i] == '-') {
    int oh = 0, om = 0;
    if (!digits_at(raw, i + 1, 2, oh) || !digits_at(raw, i + 3, 2, om)) return fail("offset is not hhmm");
    if (oh > 23 || om > 59) return fail("offset out of range");
    offset = (raw[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    i += 5;
  } else {
    return fail(std::string("unexpected character '") + escape_raw(raw.substr(i, 1)) + "'");
  }
  if (i != raw.size()) return fail("characters after the time zone");
  if (month < 1 || month > 12) return fail("month " + std::to_string(month) + " out of range");
  if (day < 1 || day > days_in_month(year, month)) {
    return fail("day " + std::to_string(day) + " does not exist in month " + std::to_string(month) + " of " +
                std::to_string(year));
  }
  if (hour > 23) return fail("hour " + std::to_string(hour) + " out of range");
  if (minute > 59) return fail("minute " + std::to_string(minute) + " out of range");
  if (second > 60) return fail("second " + std::to_string(second) + " out of range");
  const bool leap_second = second == 60;
  if (leap_second) second = 59;
  int64_t t = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  std::string refused;
  const auto why = [&refused](const char* w) { refused += (refused.empty() ? "" : ", ") + std::string(w); };
  if (leap_second) why("seconds 60");
  if (!has_seconds) why("no seconds");
  if (has_fraction) why("a fraction");
  if (raw.back() != 'Z') why("an offset instead of Z");
  if (!refused.empty()) {
    fail("rejected by TLS peers (OpenSSL): " + refused);
    tv.lenient = t;
    return tv;
  }
  tv.unix = t;
  tv.no_expiry = t == kNoExpiry;
  tv.error.clear();
  tv.lenient.reset();
  return tv;
}

CertStatus judge_certificate(const Certificate& c, int64_t now, int warn_days, std::optional<int64_t>& days_left) {
  days_left.reset();
  if (!c.not_before.unix || !c.not_after.unix) return CertStatus::InvalidDate;
  int64_t nb = *c.not_before.unix, na = *c.not_after.unix;
  int64_t diff = 0;
  bool overflow = __builtin_sub_overflow(na, now, &diff);
  if (!c.not_after.no_expiry && !overflow) days_left = floor_div(diff, 86400);
  if (now < nb) return CertStatus::NotYetValid;
  if (now > na) return CertStatus::Expired;  // RFC 5280: valid through notAfter inclusive
  if (!c.not_after.no_expiry && warn_days >= 0 && !overflow &&
      diff <= static_cast<int64_t>(warn_days) * 86400) {
    return CertStatus::Expiring;
  }
  return CertStatus::Valid;
}

std::vector<std::string> certificate_anomalies(const Certificate& c) {
  std::vector<std::string> a;
  const TimeValue* times[2] = {&c.not_before, &c.not_after};
  const char* names[2] = {"notBefore", "notAfter"};
  for (int i = 0; i < 2; ++i) {
    const TimeValue& t = *times[i];
    if (!t.unix) {
      if (t.lenient) {
        // t.error is "rejected by TLS peers (OpenSSL): <why>"
        a.push_back(std::string(names[i]) + " " + t.error + "; read leniently as " + rfc3339_utc(*t.lenient));
      } else {
        a.push_back(std::string("unreadable ") + names[i]);
      }
      continue;
    }
    // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; only GeneralizedTime can be misused (a
    // UTCTime always denotes 1950-2049).
    if (t.type == "GeneralizedTime" && *t.unix >= kYear1950 && *t.unix < kYear2050) {
      a.push_back(std::string(names[i]) + " uses GeneralizedTime for a year in 1950-2049");
    }
  }
  if (c.not_before.unix && utc_year(*c.not_before.unix) == 1970) {
    a.push_back("notBefore in 1970 (generated without a clock)");
  }
  if (c.not_before.unix && c.not_after.unix && *c.not_after.unix < *c.not_before.unix) {
    a.push_back("inverted validity window");
  }
  if (c.not_after.unix && *c.not_after.unix > kTime32Max) a.push_back("notAfter after 2038-01-19 (32-bit time_t)");
  if ((c.key.algorithm == "RSA" || c.key.algorithm == "RSA-PSS") && c.key.bits > 0 && c.key.bits < 2048) {
    a.push_back("weak key: RSA-" + std::to_string(c.key.bits));
  }
  if (c.key.algorithm == "DSA" && c.key.bits > 0 && c.key.bits <= 1024) {
    a.push_back("weak key: DSA-" + std::to_string(c.key.bits));
  }
  if (c.key.algorithm == "EC" && c.key.bits > 0 && c.key.bits < 224) {
    a.push_back("weak key: EC-" + std::to_string(c.key.bits));
  }
  if (c.key.curve == "explicit") a.push_back("explicit EC parameters");
  // Weak digests, found through OpenSSL's signature-OID table (covers RSA, DSA and ECDSA variants).
  int sig_nid = OBJ_txt2nid(c.signature_algorithm.c_str());
  if (sig_nid == NID_undef) sig_nid = OBJ_ln2nid(c.signature_algorithm.c_str());
  int md_nid = NID_undef, pk_nid = NID_undef;
  if (sig_nid != NID_undef && OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) == 1 &&
      (md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_md2 || md_nid == NID_md4)) {
    a.push_back("weak signature: " + c.signature_algorithm);
  }
  if (!c.serial.empty() && c.serial[0] == '-') a.push_back("negative serial");
  if (c.serial == "0") a.push_back("zero serial");
  ERR_clear_error();
  return a;
}

std::string rfc3339(int64_t unix_seconds) { return rfc3339_utc(unix_seconds); }

// Accepted: "YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ", "YYYY-MM-DD hh:mm:ss" (UTC), "@<unix seconds>" (optionally
// negative). Years 0000-9999. Anything else is rejected.
std::optional<int64_t> parse_user_time(const std::string& text) {
  if (!text.empty() && text[0] == '@') {
    size_t i = 1;
    bool neg = i < text.size() && text[i] == '-';
    if (neg) ++i;
    if (i >= text.size() || text.size() - i > 12) return std::nullopt;  // |t| < 10^12: years -29719..33658
    int64_t v = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return neg ? -v : v;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 10 || !digits_at(text, 0, 4, y) || text[4] != '-' || !digits_at(text, 5, 2, mo) ||
      text[7] != '-' || !digits_at(text, 8, 2, d)) {
    return std::nullopt;
  }
  if (text.size() != 10) {
    bool t_form = text.size() == 20 && text[10] == 'T' && text[19] == 'Z';
    bool space_form = text.size() == 19 && text[10] == ' ';
    if (!t_form && !space_form) return std::nullopt;
    if (!digits_at(text, 11, 2, h) || text[13] != ':' || !digits_at(text, 14, 2, mi) || text[16] != ':' ||
        !digits_at(text, 17, 2, s)) {
      return std::nullopt;
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

namespace {
std::optional<PrivateKey> parse_private_key_uncached(ByteView bytes);
}  // namespace

// Each distinct key blob is parsed once per process (core/memo.hpp).
std::optional<PrivateKey> parse_private_key(ByteView bytes) {
  load_crypto_providers();
  static Memo<std::optional<PrivateKey>> memo;
  return memo.get(bytes.as_string_view(), [&] { return parse_private_key_uncached(bytes); });
}

namespace {
std::optional<PrivateKey> parse_private_key_uncached(ByteView bytes) {
  ErrGuard guard;
  std::string_view text = bytes.as_string_view();
  if (text.find("-----BEGIN ") != std::string_view::npos) {
    for (const PemBlock& b : pem_blocks(text)) {
      if (b.label.find("PRIVATE KEY") == std::string::npos) continue;
      if (auto k = key_from_pem(b)) return k;
    }
    return std::nullopt;
  }
  return key_from_der(bytes);
}
}  // namespace

// Defaults tried on PKCS#12 files, in this order:
//  ""          the empty password: what `openssl pkcs12 -export -passout pass:` writes, and the Supermicro iKVM
//              client.pfx in the corpus (ATENtion) opens with it; tried both as "" and as the absent password.
//  "password"  the generic default password.
//  "changeit"  the documented default store password of the JDK's cacerts (keytool) — used by Java-based tools.
//  "123456"    the most common password in leaked-password lists; also a common keytool example.
// Vendor-specific guesses are deliberately not listed without a documented source.
const std::vector<std::string>& default_pkcs12_passwords() {
  static const std::vector<std::string> v{"", "password", "changeit", "123456"};
  return v;
}

KeystoreContents read_pkcs12(ByteView der, const std::vector<std::string>& passwords) {
  ErrGuard guard;
  KeystoreContents out;
  if (!legacy_loaded()) out.notes.push_back("OpenSSL legacy provider unavailable: RC2/RC4/DES-encrypted parts unreadable");
  size_t len = der.size();
  if (auto sz = der::ber_element_size(der, 0)) len = static_cast<size_t>(*sz);
  if (len > static_cast<size_t>(LONG_MAX)) return out;
  const unsigned char* p = der.data();
  P12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(len)));
  if (!p12) {
    out.notes.push_back("not a PKCS#12 structure OpenSSL can decode: " + openssl_error());
    return out;
  }
  bool mac = PKCS12_mac_present(p12.get()) == 1;
  if (mac) {
    const ASN1_INTEGER* iter = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &iter, p12.get());
    long n = iter != nullptr ? ASN1_INTEGER_get(iter) : 1;
    if (n > 10000000 || n < 0) {  // a hostile count would make every password try take minutes
      out.notes.push_back("MAC iteration count " + std::to_string(n) + " too high: passwords not tried");
      bool failed = false;
      extract_p12(p12.get(), out, false, {nullptr, 0}, failed);
      return out;
    }
  }
  std::vector<std::pair<P12Pass, std::string>> tries;
  for (const std::string& pw : passwords) {
    tries.push_back({{pw.c_str(), static_cast<int>(pw.size())}, pw});
    if (pw.empty()) tries.push_back({{nullptr, 0}, pw});
  }
  for (const auto& [pw, text] : tries) {
    ERR_clear_error();
    if (mac && PKCS12_verify_mac(p12.get(), pw.pass, pw.len) != 1) continue;
    KeystoreContents attempt;
    bool failed = false;
    extract_p12(p12.get(), attempt, true, pw, failed);
    if (!mac && failed) continue;  // no MAC: the password is right when everything decrypts
    out.certificates = std::move(attempt.certificates);
    out.keys = std::move(attempt.keys);
    out.notes.insert(out.notes.end(), attempt.notes.begin(), attempt.notes.end());
    out.opened = true;
    out.password_used = text;
    if (pw.pass == nullptr) out.notes.push_back("opened with the absent (NULL) password");
    if (!mac) out.notes.push_back("no MAC: integrity not verified");
    if (failed) out.notes.push_back("some parts did not decrypt although the MAC verified");
    return out;
  }
  out.notes.push_back(mac ? "MAC did not verify with any tried password: encrypted with an unknown password"
                          : "encrypted with an unknown password");
  bool failed = false;
  extract_p12(p12.get(), out, false, {nullptr, 0}, failed);
  return out;
}

// Longer aliases are cut: an alias is a name for people, and the format allows 64 KiB of it per entry.
constexpr size_t kMaxAliasBytes = 256;

KeystoreContents read_jks(ByteView data) {
  load_crypto_providers();
  ErrGuard guard;
  KeystoreContents out;
  Reader r(data, 0, true);
  auto magic = r.u32();
  if (!magic || (*magic != 0xFEEDFEEDu && *magic != 0xCECECECEu)) {
    out.notes.push_back("not a JKS/JCEKS keystore");
    return out;
  }
  bool jceks = *magic == 0xCECECECEu;
  auto version = r.u32();
  auto count = r.u32();
  if (!version || !count || (*version != 1 && *version != 2)) {
    out.notes.push_back("unsupported keystore version");
    return out;
  }
  auto read_utf = [&r]() -> std::optional<std::string> {
    auto n = r.u16();
    if (!n) return std::nullopt;
    auto b = r.bytes(*n);
    if (!b) return std::nullopt;
    return std::string(b->as_string_view());
  };
  // One certificate: [v2: UTF type] u32 length + DER. nullopt when cut off.
  auto read_cert = [&]() -> std::optional<std::vector<uint8_t>> {
    std::string type = "X.509";
    if (*version == 2) {
      auto t = read_utf();
      if (!t) return std::nullopt;
      type = *t;
    }
    auto n = r.u32();
    if (!n) return std::nullopt;
    auto b = r.bytes(*n);
    if (!b) return std::nullopt;
    if (type != "X.509") {
      out.notes.push_back("certificate of type \"" + sanitize_utf8(type.substr(0, 32)) + "\" skipped");
      return std::vector<uint8_t>{};
    }
    return std::vector<uint8_t>(b->data(), b->data() + b->size());
  };
  auto truncated = [&out]() { out.notes.push_back("keystore truncated or malformed"); };
  for (uint32_t e = 0; e < *count; ++e) {
    auto tag = r.u32();
    auto alias = tag ? read_utf() : std::nullopt;
    if (!alias || !r.u64()) return truncated(), out;  // tag, alias, timestamp
    if (alias->size() > kMaxAliasBytes) alias->resize(kMaxAliasBytes);
    if (*tag == 1) {
      auto klen = r.u32();
      if (!klen || !r.skip(*klen)) return truncated(), out;  // EncryptedPrivateKeyInfo (JKS KeyProtector)
      auto chain = r.u32();
      if (!chain) return truncated(), out;
      PrivateKey k;
      k.format = jceks ? "JCEKS (protected)" : "JKS (protected)";
      k.encrypted = true;
      k.alias = *alias;
      for (uint32_t i = 0; i < *chain; ++i) {
        auto cert = read_cert();
        if (!cert) return truncated(), out;
        if (cert->empty()) continue;
        if (i == 0) {  // the entry's own certificate: the keystore binds the key to it
          if (auto c = parse_certificate(ByteView(cert->data(), cert->size()))) {
            k.key = c->key;
            k.spki_sha256 = c->spki_sha256;
            k.certificates.push_back(c->sha256);
          }
        }
        out.certificates.push_back(std::move(*cert));
        out.certificate_aliases.push_back(i == 0 ? *alias : std::string());  // the chain's CAs are not the entry
      }
      out.keys.push_back(std::move(k));
    } else if (*tag == 2) {
      auto cert = read_cert();
      if (!cert) return truncated(), out;
      if (!cert->empty()) {
        out.certificates.push_back(std::move(*cert));
        out.certificate_aliases.push_back(*alias);
      }
    } else if (*tag == 3) {
      // FORMATS.md 5.1: a Java-serialized SealedObject without a length prefix; it cannot be skipped.
      out.notes.push_back("JCEKS secret-key entry: cannot be skipped without a Java deserializer; later entries not read");
      return out;
    } else {
      out.notes.push_back("unknown entry tag " + std::to_string(*tag) + ": stopped");
      return out;
    }
  }
  out.notes.push_back("store integrity (SHA-1 trailer) not checked: no password");
  return out;
}

}  // namespace fwcert
