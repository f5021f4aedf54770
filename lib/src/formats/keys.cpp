// Key material: PEM blocks, DER certificates and private keys, PKCS#12 and Java keystores (FORMATS.md 5.1, 6).
// Detection only: each validator proves the structure (DER walk, base64 body, keystore entries) and reports what it
// is; certificate date judgement happens elsewhere. OpenSSL is used only after the structural test passed, to name
// the subject / key type for the description.
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/certs/x509.hpp"
#include "fwcert/core/civil_time.hpp"
#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/core/memo.hpp"
#include "fwcert/formats/der.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {

namespace {

// ---------------------------------------------------------------------------------------------------------------
// OpenSSL helpers (descriptions only; never the basis of a rejection on their own)

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::string name_text(const X509_NAME* n) {
  std::string out;
  const int count = X509_NAME_entry_count(n);
  for (int i = 0; i < count && i < 16; ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(n, i);
    const ASN1_OBJECT* o = X509_NAME_ENTRY_get_object(e);
    const int nid = OBJ_obj2nid(o);
    char oid[80];
    const char* key = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
    if (!key) {
      OBJ_obj2txt(oid, sizeof oid, o, 1);
      key = oid;
    }
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    std::string value = len >= 0 ? std::string(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len)) : "?";
    OPENSSL_free(utf8);
    if (!out.empty()) out += ", ";
    out += key;
    out += '=';
    out += value;
  }
  return printable(out, 200);
}

struct CertInfo {
  long version = 0;  // the encoded value: 0 = v1 .. 2 = v3
  std::string subject;
  TimeValue not_before, not_after;
};

// The date through the same reader as fwcert scan (certs/x509.hpp parse_asn1_time), so the walk and the scan say the
// same thing about a date OpenSSL-based peers reject (seconds 60, an offset, ...) or that cannot be read at all.
TimeValue time_of(const ASN1_TIME* t) {
  if (t == nullptr) return parse_asn1_time("missing", "");
  const unsigned char* p = ASN1_STRING_get0_data(t);
  const int n = ASN1_STRING_length(t);
  const std::string raw = p != nullptr && n > 0 ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n))
                                                : std::string();
  const int type = ASN1_STRING_type(t);
  return parse_asn1_time(type == V_ASN1_UTCTIME           ? "UTCTime"
                         : type == V_ASN1_GENERALIZEDTIME ? "GeneralizedTime"
                                                          : "tag " + std::to_string(type),
                         raw);
}

std::string time_text(const TimeValue& t) {
  const auto plain = [](int64_t u) {
    std::string s = rfc3339_utc(u);  // "2016-12-31T23:59:59Z" -> "2016-12-31 23:59:59"
    if (s.size() == 20) s = s.substr(0, 10) + " " + s.substr(11, 8);
    return s;
  };
  if (t.unix) return plain(*t.unix);
  if (t.lenient) {
    return "invalid " + t.type + " \"" + printable(t.raw, 64) + "\" (" + t.error + "; read leniently as " +
           plain(*t.lenient) + ")";
  }
  return "unreadable " + t.type + " \"" + printable(t.raw, 64) + "\"" + (t.error.empty() ? "" : " (" + t.error + ")");
}

// A date peers reject or that cannot be read at all: a warning on the hit (fwcert scan judges it invalid-date).
void warn_dates(Hit& hit, const CertInfo& c) {
  const std::pair<const char*, const TimeValue*> times[] = {{"notBefore", &c.not_before}, {"notAfter", &c.not_after}};
  for (const auto& [name, t] : times)
    if (!t->unix) hit.diag(hit.offset, Severity::Warning, std::string("certificate ") + name + " is " + time_text(*t));
}

// Subject and validity of a DER certificate that already passed der_certificate_size.
std::optional<CertInfo> cert_info(ByteView der) {
  load_crypto_providers();  // every use of OpenSSL waits for them (see core/crypto_providers.hpp)
  // The key itself is not described here, so the certificate is read without decoding it (crypto_providers.hpp).
  const unsigned char* p = der.data();
  std::unique_ptr<X509, X509Free> x(d2i_x509_without_key(&p, static_cast<long>(der.size())));
  if (!x) return std::nullopt;
  CertInfo info;
  info.version = X509_get_version(x.get());
  info.subject = name_text(X509_get_subject_name(x.get()));
  info.not_before = time_of(X509_get0_notBefore(x.get()));
  info.not_after = time_of(X509_get0_notAfter(x.get()));
  return info;
}

// RFC 5280 4.1.2.1: version is v1..v3 (0..2); der_certificate_size tolerates 3, seen in real device certificates.
void warn_version(Hit& hit, const CertInfo& c) {
  if (c.version > 2)
    hit.diag(hit.offset, Severity::Warning,
             "certificate version field is " + std::to_string(c.version) + " (v" + std::to_string(c.version + 1) +
                 "); RFC 5280 allows only v1..v3");
}

std::string cert_text(const CertInfo& c) {
  std::string s;
  if (!c.subject.empty()) s += ", subject: " + c.subject;
  s += ", valid " + time_text(c.not_before) + " to " + time_text(c.not_after);
  return s;
}

// "RSA 2048 bits" for a parsed key.
std::string pkey_text(const EVP_PKEY* k) {
  const char* name = OBJ_nid2sn(EVP_PKEY_get_base_id(k));
  std::string s = name ? name : "unknown";
  if (s == "rsaEncryption") s = "RSA";
  return s + ", " + std::to_string(EVP_PKEY_get_bits(k)) + " bits";
}

// Parses a private key; key_type is EVP_PKEY_RSA/DSA/EC for the traditional (PKCS#1-style) encodings, or
// EVP_PKEY_NONE for PKCS#8 / auto-detection.
std::optional<std::string> private_key_text_uncached(ByteView der, int key_type) {
  load_crypto_providers();
  std::unique_ptr<EVP_PKEY, PkeyFree> k(decode_private_key(der.data(), der.size(), key_type));
  if (!k) return std::nullopt;
  return pkey_text(k.get());
}

std::optional<std::string> public_key_text_uncached(ByteView der) {
  load_crypto_providers();
  const unsigned char* p = der.data();
  std::unique_ptr<EVP_PKEY, PkeyFree> k(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!k) return std::nullopt;
  return pkey_text(k.get());
}

// The same keys recur (see core/memo.hpp): each distinct blob goes through OpenSSL's decoders once.
std::optional<std::string> private_key_text(ByteView der, int key_type) {
  static Memo<std::optional<std::string>> memo;
  std::string key(1, static_cast<char>(key_type & 0x7f));
  key.append(der.as_string_view());
  return memo.get(key, [&] { return private_key_text_uncached(der, key_type); });
}

std::optional<std::string> public_key_text(ByteView der) {
  static Memo<std::optional<std::string>> memo;
  return memo.get(der.as_string_view(), [&] { return public_key_text_uncached(der); });
}

std::string oid_name(ByteView oid_content) {
  std::string dotted = der::oid_text(oid_content);
  if (dotted.empty()) return "?";
  const int nid = OBJ_txt2nid(dotted.c_str());
  const char* ln = nid != NID_undef ? OBJ_nid2ln(nid) : nullptr;
  return ln ? ln : dotted;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// ---------------------------------------------------------------------------------------------------------------
// DER private keys (structure first, then OpenSSL)

enum class KeyForm { Pkcs1Rsa, Pkcs8, Sec1Ec };

// PKCS#1 RSAPrivateKey: SEQUENCE { INTEGER version 0, n, e, d, p, q, dP, dQ, qInv } (two-prime form).
// PKCS#8 PrivateKeyInfo: SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING, [0] attributes OPTIONAL }
// (also version 1 = OneAsymmetricKey with [1] publicKey OPTIONAL, RFC 5958).
// RFC 5915 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING, [0] params OPTIONAL, [1] publicKey OPTIONAL }.
std::optional<KeyForm> private_key_structure(ByteView v) {
  auto seq = der::read_tlv(v, 0, der::kSequence);
  if (!seq || seq->size() != v.size()) return std::nullopt;
  der::Children c(seq->content);
  auto version = c.next(der::kInteger);
  if (!version) return std::nullopt;
  auto ver = der::small_integer(version->content);
  if (!ver) return std::nullopt;
  auto second = c.peek_tag();
  if (*ver == 0 && second == der::kInteger) {
    for (int i = 0; i < 8; ++i) {
      auto n = c.next(der::kInteger);
      if (!n || !der::minimal_integer(n->content)) return std::nullopt;
    }
    return c.done_ok() ? std::optional<KeyForm>(KeyForm::Pkcs1Rsa) : std::nullopt;
  }
  if ((*ver == 0 || *ver == 1) && second == der::kSequence) {
    auto alg = c.next(der::kSequence);
    if (!alg) return std::nullopt;
    der::Children ac(alg->content);
    if (!ac.next(der::kOid)) return std::nullopt;
    auto key = c.next(der::kOctetString);
    if (!key || key->content.empty()) return std::nullopt;
    c.next_if(der::context(0, true));
    if (*ver == 1) c.next_if(der::context(1, false));
    return c.done_ok() ? std::optional<KeyForm>(KeyForm::Pkcs8) : std::nullopt;
  }
  if (*ver == 1 && second == der::kOctetString) {
    auto key = c.next(der::kOctetString);
    if (!key || key->content.empty()) return std::nullopt;
    c.next_if(der::context(0, true));
    c.next_if(der::context(1, true));
    return c.done_ok() ? std::optional<KeyForm>(KeyForm::Sec1Ec) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<Hit> validate_der_private_key(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // Cheap rejection first: a SEQUENCE header whose length fits, directly followed by a small INTEGER version.
  auto h = der::read_header(v, 0);
  if (!h || h->tag != der::kSequence || !v.contains(h->header_size, h->length)) return std::nullopt;
  if (!v.matches(h->header_size, std::string_view("\x02\x01", 2))) return std::nullopt;
  ByteView key = *v.sub(0, h->header_size + h->length);
  auto form = private_key_structure(key);
  if (!form) return std::nullopt;

  Hit hit;
  hit.offset = v.base();
  hit.size = key.size();
  hit.type = "der-private-key";
  hit.nesting = Nesting::Opaque;
  const char* what = *form == KeyForm::Pkcs1Rsa ? "DER RSA private key (PKCS#1)"
                     : *form == KeyForm::Pkcs8  ? "DER private key (PKCS#8)"
                                                : "DER EC private key (RFC 5915)";
  const int key_type = *form == KeyForm::Pkcs1Rsa ? EVP_PKEY_RSA
                       : *form == KeyForm::Sec1Ec ? EVP_PKEY_EC
                                                  : EVP_PKEY_NONE;
  hit.description = std::string(what) + ", " + std::to_string(key.size()) + " bytes";
  if (auto text = private_key_text(key, key_type)) {
    hit.confidence = Confidence::High;
    hit.description += ", " + *text;
  } else {
    hit.confidence = Confidence::Medium;
    hit.diag(hit.offset, Severity::Warning, "structure is a private key but OpenSSL cannot parse the key");
  }
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// der-x509

std::optional<Hit> validate_der_x509(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // Reject fast (30 82 is common): outer length fits, tbsCertificate SEQUENCE header right after, and it fits inside.
  auto outer = der::read_header(v, 0);
  if (!outer || outer->tag != der::kSequence || outer->header_size < 3) return std::nullopt;
  if (!v.contains(outer->header_size, outer->length)) return std::nullopt;
  auto inner = der::read_header(v, outer->header_size);
  if (!inner || inner->tag != der::kSequence || inner->header_size < 3 ||
      inner->header_size + inner->length > outer->length)
    return std::nullopt;
  auto size = der_certificate_size(v);
  if (!size) return std::nullopt;

  Hit hit;
  hit.offset = v.base();
  hit.size = *size;
  hit.type = "der-certificate";
  hit.nesting = Nesting::Opaque;
  hit.description = "DER X.509 certificate, " + std::to_string(*size) + " bytes";
  if (auto info = cert_info(*v.sub(0, *size))) {
    hit.confidence = Confidence::High;
    hit.description += cert_text(*info);
    warn_version(hit, *info);
    warn_dates(hit, *info);
  } else {
    hit.confidence = Confidence::Medium;
    hit.diag(hit.offset, Severity::Warning, "certificate structure is valid but OpenSSL cannot parse it");
  }
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// PEM (FORMATS.md 6.1)

constexpr uint64_t kPemSearchCap = 1 << 20;  // base64 body bytes looked at before giving up on finding END
constexpr size_t kPemLabelMax = 64;

enum class PemKind {
  Certificate,
  TrustedCertificate,
  PrivateKey,      // PKCS#8 PrivateKeyInfo
  EncryptedPkcs8,  // EncryptedPrivateKeyInfo
  RsaPrivateKey,
  DsaPrivateKey,
  EcPrivateKey,
  OpenSshPrivateKey,
  PublicKey,  // SubjectPublicKeyInfo
  RsaPublicKey,
  Pkcs7,
  Csr,
  Crl,
  Parameters,
  AttributeCertificate,
  Unknown,
};

struct PemLabel {
  std::string_view label;
  PemKind kind;
  const char* type;
  const char* what;  // for "PEM <what>"
};

constexpr std::array<PemLabel, 20> kPemLabels{{
    {"CERTIFICATE", PemKind::Certificate, "pem-certificate", "certificate"},
    {"X509 CERTIFICATE", PemKind::Certificate, "pem-certificate", "certificate (legacy X509 label)"},
    {"TRUSTED CERTIFICATE", PemKind::TrustedCertificate, "pem-certificate", "trusted certificate (OpenSSL)"},
    {"PKCS7", PemKind::Pkcs7, "pem-pkcs7", "PKCS#7"},
    {"PKCS #7 SIGNED DATA", PemKind::Pkcs7, "pem-pkcs7", "PKCS#7 signed data"},
    {"CMS", PemKind::Pkcs7, "pem-pkcs7", "CMS"},
    {"CERTIFICATE REQUEST", PemKind::Csr, "pem-csr", "certificate request"},
    {"NEW CERTIFICATE REQUEST", PemKind::Csr, "pem-csr", "certificate request"},
    {"X509 CRL", PemKind::Crl, "pem-crl", "CRL"},
    {"PRIVATE KEY", PemKind::PrivateKey, "pem-private-key", "private key (PKCS#8)"},
    {"ENCRYPTED PRIVATE KEY", PemKind::EncryptedPkcs8, "pem-private-key", "encrypted private key (PKCS#8)"},
    {"RSA PRIVATE KEY", PemKind::RsaPrivateKey, "pem-private-key", "RSA private key"},
    {"DSA PRIVATE KEY", PemKind::DsaPrivateKey, "pem-private-key", "DSA private key"},
    {"EC PRIVATE KEY", PemKind::EcPrivateKey, "pem-private-key", "EC private key"},
    {"OPENSSH PRIVATE KEY", PemKind::OpenSshPrivateKey, "pem-private-key", "OpenSSH private key"},
    {"PUBLIC KEY", PemKind::PublicKey, "pem-public-key", "public key"},
    {"RSA PUBLIC KEY", PemKind::RsaPublicKey, "pem-public-key", "RSA public key (PKCS#1)"},
    {"ATTRIBUTE CERTIFICATE", PemKind::AttributeCertificate, "pem", "attribute certificate"},
    {"DH PARAMETERS", PemKind::Parameters, "pem-parameters", "DH parameters"},
    {"EC PARAMETERS", PemKind::Parameters, "pem-parameters", "EC parameters"},
}};

int base64_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict base64 of the collected characters (whitespace already removed): length a multiple of 4, '=' only as the
// last one or two characters.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (s.back() == '=') pad = s[s.size() - 2] == '=' ? 2 : 1;
  std::vector<uint8_t> out;
  out.reserve(s.size() / 4 * 3);
  uint32_t acc = 0;
  for (size_t i = 0; i < s.size() - pad; ++i) {
    const int v = base64_value(static_cast<uint8_t>(s[i]));
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (i % 4 == 3) {
      out.push_back(static_cast<uint8_t>(acc >> 16));
      out.push_back(static_cast<uint8_t>(acc >> 8));
      out.push_back(static_cast<uint8_t>(acc));
      acc = 0;
    }
  }
  if (pad == 1) {
    acc <<= 6;
    out.push_back(static_cast<uint8_t>(acc >> 16));
    out.push_back(static_cast<uint8_t>(acc >> 8));
  } else if (pad == 2) {
    acc <<= 12;
    out.push_back(static_cast<uint8_t>(acc >> 16));
  }
  return out;
}

// Position just past one line ending (\n or \r\n) at pos, or nullopt when there is none there.
std::optional<uint64_t> skip_eol(ByteView v, uint64_t pos) {
  if (v.matches(pos, "\r\n")) return pos + 2;
  if (v.matches(pos, "\n")) return pos + 1;
  return std::nullopt;
}

// The label between "-----BEGIN " / "-----END " and the closing "-----"; nullopt when absent or not printable.
std::optional<std::string_view> pem_label(ByteView v, uint64_t pos) {
  ByteView w = v.clamp(pos, kPemLabelMax + 5);
  std::string_view s = w.as_string_view();
  const size_t dash = s.find("-----");
  if (dash == std::string_view::npos || dash == 0) return std::nullopt;
  for (char c : s.substr(0, dash))
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  return s.substr(0, dash);
}

// Line `line` (without its ending) looks like an RFC 1421 header "Name: value".
bool header_line(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 32) return false;
  for (char c : line.substr(0, colon))
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  return true;
}

std::optional<Hit> validate_pem(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  static constexpr std::string_view kBegin = "-----BEGIN ";
  static constexpr std::string_view kEnd = "-----END ";
  if (!v.matches(0, kBegin)) return std::nullopt;
  auto label = pem_label(v, kBegin.size());
  if (!label) return std::nullopt;
  uint64_t pos = kBegin.size() + label->size() + 5;
  while (v.matches(pos, " ") || v.matches(pos, "\t")) ++pos;
  // A string constant in a binary ("-----BEGIN CERTIFICATE-----\0") has no line ending here: not a PEM block.
  auto body_start = skip_eol(v, pos);
  if (!body_start) return std::nullopt;
  pos = *body_start;

  const PemLabel* known = nullptr;
  for (const auto& l : kPemLabels)
    if (l.label == *label) known = &l;

  // Optional legacy headers (Proc-Type: 4,ENCRYPTED / DEK-Info: <cipher>,<iv>), then a blank line.
  bool encrypted = false;
  std::string dek_cipher;
  for (int n = 0; n < 8; ++n) {
    std::string_view rest = v.clamp(pos, 256).as_string_view();
    const size_t eol = rest.find('\n');
    if (eol == std::string_view::npos) break;
    std::string_view line = rest.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!header_line(line)) break;
    if (line.rfind("Proc-Type:", 0) == 0 && line.find("ENCRYPTED") != std::string_view::npos) encrypted = true;
    if (line.rfind("DEK-Info:", 0) == 0) {
      std::string_view value = line.substr(9);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      dek_cipher = printable(value.substr(0, value.find(',')), 40);
    }
    pos += eol + 1;
    if (auto blank = skip_eol(v, pos)) pos = *blank;
  }

  // Base64 body up to "-----END ". Whitespace of any line length is tolerated; anything else ends the search.
  std::string b64;
  ByteView body = v.clamp(pos, kPemSearchCap);
  uint64_t i = 0;
  bool found_end = false;
  for (; i < body.size(); ++i) {
    const uint8_t c = body.data()[i];
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
    if (c == '-') {
      found_end = body.matches(i, kEnd);
      break;
    }
    if (base64_value(c) < 0 && c != '=') break;
    b64.push_back(static_cast<char>(c));
  }
  if (!found_end || b64.empty()) return std::nullopt;  // no END line, or a header with no body (bare constants)
  pos += i + kEnd.size();
  auto end_label = pem_label(v, pos);
  if (!end_label) return std::nullopt;
  pos += end_label->size() + 5;
  if (auto e = skip_eol(v, pos)) pos = *e;

  Hit hit;
  hit.offset = v.base();
  hit.size = pos;
  hit.type = known ? known->type : "pem";
  hit.nesting = Nesting::Opaque;
  hit.description = std::string("PEM ") + (known ? known->what : "block \"" + printable(*label, 40) + "\"");
  Confidence best = known ? Confidence::High : Confidence::Low;
  if (*end_label != *label) {
    hit.diag(
        hit.offset, Severity::Warning,
        "END label \"" + printable(*end_label, 40) + "\" does not match BEGIN label \"" + printable(*label, 40) + "\"");
    if (best > Confidence::Medium) best = Confidence::Medium;
  }

  auto decoded = base64_decode(b64);
  if (!decoded || decoded->empty()) {
    hit.confidence = Confidence::Low;
    hit.diag(hit.offset, Severity::Warning,
             "base64 body does not decode (" + std::to_string(b64.size()) + " characters)");
    return hit;
  }
  ByteView d(decoded->data(), decoded->size());
  const PemKind kind = known ? known->kind : PemKind::Unknown;
  bool ok = false;
  std::string detail;

  if (encrypted) {
    // Legacy encrypted key: the body is ciphertext, so only its block alignment can be checked.
    hit.description += ", encrypted (" + (dek_cipher.empty() ? std::string("unknown cipher") : dek_cipher) + ")";
    ok = decoded->size() % 8 == 0;
    if (!ok)
      detail = "encrypted body of " + std::to_string(decoded->size()) + " bytes is not a whole number of cipher blocks";
  } else if (kind == PemKind::OpenSshPrivateKey) {
    // sshkey.c: "openssh-key-v1\0", then string ciphername (u32 BE length + bytes).
    static constexpr std::string_view kMagic("openssh-key-v1\0", 15);
    ok = d.matches(0, kMagic);
    if (ok) {
      auto n = d.u32be(kMagic.size());
      auto cipher = n && *n <= 64 ? d.str(kMagic.size() + 4, *n) : std::nullopt;
      if (cipher)
        hit.description += *cipher == "none" ? ", not encrypted" : ", encrypted (" + printable(*cipher, 40) + ")";
    } else {
      detail = "decoded body does not start with \"openssh-key-v1\"";
    }
  } else if (kind == PemKind::Certificate || kind == PemKind::TrustedCertificate) {
    auto size = der_certificate_size(d);
    // TRUSTED CERTIFICATE = the certificate followed by OpenSSL's X509_CERT_AUX SEQUENCE.
    ok = size && (*size == d.size() ||
                  (kind == PemKind::TrustedCertificate && der::well_formed(d.tail(*size), der::kSequence)));
    if (ok) {
      if (auto info = cert_info(d.clamp(0, *size))) {
        hit.description += cert_text(*info);
        warn_version(hit, *info);
        warn_dates(hit, *info);
      }
    } else {
      detail = "decoded body (" + std::to_string(d.size()) + " bytes) is not a DER X.509 certificate";
    }
  } else if (kind == PemKind::Parameters) {
    ok = der::well_formed(d);  // EC PARAMETERS is often a bare OBJECT IDENTIFIER (named curve)
    if (!ok) detail = "decoded body is not one well-formed DER element";
  } else {
    ok = der::well_formed(d, der::kSequence);
    if (!ok) {
      detail = "decoded body (" + std::to_string(d.size()) + " bytes) is not one well-formed DER SEQUENCE";
    } else if (kind == PemKind::PrivateKey || kind == PemKind::RsaPrivateKey || kind == PemKind::DsaPrivateKey ||
               kind == PemKind::EcPrivateKey) {
      const int key_type = kind == PemKind::RsaPrivateKey   ? EVP_PKEY_RSA
                           : kind == PemKind::DsaPrivateKey ? EVP_PKEY_DSA
                           : kind == PemKind::EcPrivateKey  ? EVP_PKEY_EC
                                                            : EVP_PKEY_NONE;
      if (auto text = private_key_text(d, key_type)) {
        hit.description += ", " + *text;
      } else {
        hit.diag(hit.offset, Severity::Warning, "OpenSSL cannot parse the private key");
        if (best > Confidence::Medium) best = Confidence::Medium;
      }
    } else if (kind == PemKind::PublicKey) {
      if (auto text = public_key_text(d)) hit.description += ", " + *text;
    }
  }
  if (ok) {
    hit.confidence = best;
  } else {
    hit.confidence = Confidence::Low;
    hit.diag(hit.offset, Severity::Warning, detail);
  }
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// PKCS#12 (FORMATS.md 6.2). BER allowed: NSS writes indefinite lengths.

constexpr std::string_view kOidData("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01", 11);        // pkcs7-data
constexpr std::string_view kOidSignedData("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", 11);  // pkcs7-signedData
constexpr std::string_view kOidEncryptedData("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x06",
                                             11);  // pkcs7-encryptedData

// MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
// DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING digest }
std::optional<std::string> mac_data(ByteView element) {
  auto seq = der::read_tlv(element, 0, der::kSequence);
  if (!seq || seq->size() != element.size()) return std::nullopt;
  der::Children c(seq->content);
  auto digest_info = c.next(der::kSequence);
  auto salt = c.next(der::kOctetString);
  auto iterations = c.next_if(der::kInteger);
  if (!salt || !c.done_ok()) return std::nullopt;
  der::Children di(digest_info->content);
  auto alg = di.next(der::kSequence);
  auto digest = di.next(der::kOctetString);
  if (!digest || !di.done_ok()) return std::nullopt;
  der::Children ac(alg->content);
  auto oid = ac.next(der::kOid);
  if (!oid) return std::nullopt;
  std::string s = oid_name(oid->content);
  if (iterations) {
    auto n = der::small_integer(iterations->content);
    if (n) s += ", " + std::to_string(*n) + " iterations";
  }
  return s;
}

struct SafeCount {
  uint64_t total = 0, encrypted = 0;
};

// AuthenticatedSafe ::= SEQUENCE OF ContentInfo, each SEQUENCE { contentType OID, [0] EXPLICIT content }: data holds
// an OCTET STRING (SafeContents), encryptedData a SEQUENCE (EncryptedData). Unknown content types are counted.
std::optional<SafeCount> authenticated_safe(ByteView v) {
  auto seq = der::read_tlv(v, 0, der::kSequence);
  if (!seq || seq->size() != v.size()) return std::nullopt;
  SafeCount n;
  der::Children c(seq->content);
  while (!c.at_end()) {
    auto ci = c.next(der::kSequence);
    if (!ci || ++n.total > 10000) return std::nullopt;
    der::Children cc(ci->content);
    cc.next(der::kOid);
    auto wrapped = cc.next(der::context(0, true));
    if (!wrapped || !cc.done_ok()) return std::nullopt;
    der::Children inner(wrapped->content);
    auto body = inner.next();
    if (!body || !inner.done_ok()) return std::nullopt;
    if (ci->content.matches(0, kOidData) && body->tag != der::kOctetString) return std::nullopt;
    if (ci->content.matches(0, kOidEncryptedData)) {
      if (body->tag != der::kSequence) return std::nullopt;
      ++n.encrypted;
    }
  }
  return n;
}

std::optional<Hit> validate_pkcs12(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // PFX ::= SEQUENCE { version INTEGER 3, authSafe ContentInfo, macData MacData OPTIONAL }
  auto outer = der::read_ber_header(v, 0);
  if (!outer || outer->tag != der::kSequence) return std::nullopt;
  uint64_t pos = outer->header_size;
  if (!v.matches(pos, std::string_view("\x02\x01\x03", 3))) return std::nullopt;
  pos += 3;
  auto auth = der::read_ber_header(v, pos);
  if (!auth || auth->tag != der::kSequence) return std::nullopt;
  const uint64_t auth_content = pos + auth->header_size;
  const bool data = v.matches(auth_content, kOidData);
  if (!data && !v.matches(auth_content, kOidSignedData)) return std::nullopt;
  if (!outer->indefinite && outer->length < 3 + auth->header_size + kOidData.size()) return std::nullopt;

  Hit hit;
  hit.offset = v.base();
  hit.type = "pkcs12";
  hit.nesting = Nesting::Opaque;
  hit.confidence = Confidence::Low;
  hit.description = "PKCS#12 keystore";
  if (!data) {
    hit.description += ", public-key integrity mode (signedData authSafe, not supported)";
    return hit;
  }

  auto size = der::ber_element_size(v, 0);
  if (!size) {
    hit.diag(hit.offset, Severity::Warning, "PFX is truncated or its BER encoding is malformed");
    return hit;
  }
  hit.size = *size;
  hit.description += ", " + std::to_string(*size) + " bytes";
  ByteView pfx = *v.sub(0, *size);
  const uint64_t outer_end = outer->indefinite ? *size - 2 : outer->header_size + outer->length;

  // authSafe ContentInfo { data OID, [0] EXPLICIT OCTET STRING (primitive, or constructed in BER) }
  auto auth_size = der::ber_element_size(pfx, pos);
  bool inner_ok = true;
  bool ok = auth_size && pos + *auth_size <= outer_end;
  if (ok) {
    const uint64_t content_pos = auth_content + kOidData.size();
    auto wrapper = der::read_ber_header(pfx, content_pos);
    ok = wrapper && wrapper->tag == der::context(0, true);
    if (ok) {
      const uint64_t octets_pos = content_pos + wrapper->header_size;
      auto octets = der::read_ber_header(pfx, octets_pos);
      ok = octets && (octets->tag == der::kOctetString || octets->tag == (der::kOctetString | der::kConstructedBit));
      // A DER OCTET STRING holding AuthenticatedSafe ::= SEQUENCE OF ContentInfo: check and count its parts.
      if (ok && octets->tag == der::kOctetString && !octets->indefinite) {
        auto os = der::read_tlv(pfx, octets_pos);
        auto safes = authenticated_safe(os ? os->content : ByteView());
        if (safes) {
          hit.description +=
              ", " + plural(safes->total, "safe", "safes") + " (" + std::to_string(safes->encrypted) + " encrypted)";
        } else {
          hit.diag(pfx.base() + octets_pos, Severity::Warning,
                   "AuthenticatedSafe (SEQUENCE OF ContentInfo) is malformed");
          inner_ok = false;
        }
      }
    }
  }
  if (!ok) {
    hit.diag(hit.offset, Severity::Warning, "authSafe ContentInfo is malformed");
    return hit;
  }

  // MacData OPTIONAL, then nothing else inside the PFX.
  pos += *auth_size;
  if (pos == outer_end) {
    hit.description += ", no MAC";
    hit.confidence = inner_ok ? Confidence::High : Confidence::Medium;
    return hit;
  }
  auto mac_size = der::ber_element_size(pfx, pos);
  auto mac = mac_size && pos + *mac_size == outer_end ? mac_data(*pfx.sub(pos, *mac_size)) : std::nullopt;
  if (!mac) {
    hit.diag(pfx.base() + pos, Severity::Warning, "MacData is malformed or followed by unexpected data");
    hit.confidence = Confidence::Medium;
    return hit;
  }
  hit.description += ", MAC present (" + *mac + ")";
  hit.confidence = inner_ok ? Confidence::High : Confidence::Medium;
  return hit;
}

// ---------------------------------------------------------------------------------------------------------------
// JKS / JCEKS (FORMATS.md 5.1)

constexpr uint32_t kJksMagic = 0xFEEDFEED;
constexpr uint32_t kJceksMagic = 0xCECECECE;
constexpr uint32_t kMaxEntries = 100000;
constexpr uint32_t kMaxChain = 1000;

// Java DataOutputStream.writeUTF: u16 byte count + modified UTF-8.
std::optional<std::string_view> read_utf(Reader& r) {
  auto n = r.u16be();
  if (!n) return std::nullopt;
  auto b = r.bytes(*n);
  if (!b) return std::nullopt;
  return b->as_string_view();
}

std::optional<Hit> validate_jks(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  Reader r(v, 0, true);
  auto magic = r.u32be();
  auto version = r.u32be();
  auto count = r.u32be();
  if (!magic || !version || !count) return std::nullopt;
  const bool jceks = *magic == kJceksMagic;
  if (!jceks && *magic != kJksMagic) return std::nullopt;
  if (*version != 1 && *version != 2) return std::nullopt;
  // Each entry takes at least tag (4) + alias length (2) + timestamp (8) + one u32 length.
  if (*count > kMaxEntries || uint64_t{*count} * 18 > r.remaining()) return std::nullopt;

  Hit hit;
  hit.offset = v.base();
  hit.type = jceks ? "jceks" : "jks";
  hit.nesting = Nesting::Opaque;
  hit.confidence = Confidence::Low;
  uint64_t private_keys = 0, trusted = 0, secret = 0;
  bool stopped = false;
  std::string error;

  // One DER certificate: u32 length + bytes; checked with the structural test when its type is X.509.
  auto certificate = [&](bool x509) -> bool {
    auto len = r.u32be();
    auto bytes = len ? r.bytes(*len) : std::nullopt;
    if (!bytes) {
      error = "certificate runs past the end of the data";
      return false;
    }
    if (x509 && der_certificate_size(*bytes) != bytes->size()) {
      error = "certificate at " + hex(bytes->base()) + " is not a DER X.509 certificate";
      return false;
    }
    return true;
  };
  auto cert_type = [&]() -> std::optional<bool> {
    if (*version == 1) return true;  // v1 has no type strings, always X.509
    auto t = read_utf(r);
    if (!t) {
      error = "certificate type string runs past the end of the data";
      return std::nullopt;
    }
    return *t == "X.509";
  };

  for (uint32_t i = 0; i < *count && error.empty(); ++i) {
    const uint64_t entry_at = r.abs_pos();
    auto tag = r.u32be();
    auto alias = tag ? read_utf(r) : std::nullopt;
    auto timestamp = alias ? r.u64be() : std::nullopt;
    if (!timestamp) {
      error = "entry " + std::to_string(i + 1) + " at " + hex(entry_at) + " is cut off";
      break;
    }
    if (*tag == 1) {
      // Private key: u32 length + EncryptedPrivateKeyInfo DER, then the certificate chain.
      auto len = r.u32be();
      auto key = len ? r.bytes(*len) : std::nullopt;
      if (!key || !der::well_formed(*key, der::kSequence)) {
        error = "entry " + std::to_string(i + 1) + ": protected key is not a DER SEQUENCE";
        break;
      }
      auto chain = r.u32be();
      if (!chain || *chain > kMaxChain) {
        error = "entry " + std::to_string(i + 1) + ": bad certificate chain length";
        break;
      }
      for (uint32_t c = 0; c < *chain && error.empty(); ++c) {
        auto x509 = cert_type();
        if (x509) certificate(*x509);
      }
      ++private_keys;
    } else if (*tag == 2) {
      auto x509 = cert_type();
      if (x509) certificate(*x509);
      ++trusted;
    } else if (*tag == 3 && jceks) {
      // A Java-serialized SealedObject with no length prefix: it cannot be skipped without a Java deserializer.
      ++secret;
      stopped = true;
      break;
    } else {
      error = "entry " + std::to_string(i + 1) + " at " + hex(entry_at) + " has unknown tag " + std::to_string(*tag);
      break;
    }
  }

  hit.description = std::string(jceks ? "Java JCE KeyStore (JCEKS)" : "Java KeyStore (JKS)") + ", version " +
                    std::to_string(*version) + ", " + plural(*count, "entry", "entries");
  std::vector<std::string> parts;
  if (private_keys) parts.push_back(plural(private_keys, "private key", "private keys"));
  if (trusted) parts.push_back(plural(trusted, "trusted certificate", "trusted certificates"));
  if (secret) parts.push_back(plural(secret, "secret key", "secret keys"));
  for (size_t i = 0; i < parts.size(); ++i) hit.description += (i == 0 ? ": " : ", ") + parts[i];

  if (!error.empty()) {
    hit.diag(r.abs_pos(), Severity::Warning, error);
    return hit;
  }
  if (stopped) {
    hit.description += " (listing stops at the first secret key entry: it cannot be skipped)";
    hit.confidence = Confidence::Medium;
    return hit;
  }
  // Trailer: SHA-1 over password + "Mighty Aphrodite" + everything before; not checkable without the password.
  if (!r.skip(20)) {
    hit.diag(r.abs_pos(), Severity::Warning, "keystore is truncated: the 20-byte SHA-1 trailer is missing");
    hit.confidence = Confidence::Medium;
    return hit;
  }
  hit.size = r.pos();
  hit.description += ", " + std::to_string(r.pos()) + " bytes";
  hit.confidence = Confidence::High;
  return hit;
}

}  // namespace

void register_key_validators(ValidatorRegistry& registry) {
  registry.add("pem", "PEM block (RFC 7468): known label, base64 body decoding to well-formed DER", validate_pem);
  registry.add("der-x509", "DER X.509 certificate by structure (FORMATS.md 6.3)", validate_der_x509);
  registry.add("der-private-key", "DER private key: PKCS#1 RSA, PKCS#8, RFC 5915 EC", validate_der_private_key);
  registry.add("pkcs12", "PKCS#12 / PFX keystore (DER or BER), data authSafe, MacData", validate_pkcs12);
  registry.add("jks", "Java KeyStore (JKS) and JCE KeyStore (JCEKS), entries walked", validate_jks);
}

}  // namespace fwcert
