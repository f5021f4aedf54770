// Certificates, keys and keystores through OpenSSL 3, with date judgement of our own.
#pragma once

#include <string>
#include <vector>

#include "fwcert/certs/records.hpp"

namespace fwcert {

// Parses one DER certificate (the first DER element of `der`; bytes after it are ignored). Errors (not a certificate)
// come back as Error; odd dates do not fail the parse: they give a TimeValue without `unix` and the status
// invalid-date. When OpenSSL's d2i_X509 refuses the bytes (it rejects UTCTime without seconds, short
// GeneralizedTime, wrong time tags), the DER is walked with der.hpp instead; then self_signed and is_ca stay false.
// Names: X.500 order as encoded, "C=US, ST=California, CN=IPMI" (short names, RFC 2253 value escaping, UTF-8).
// self_signed: subject == issuer and the signature verifies with the certificate's own key.
Result<Certificate> parse_certificate(ByteView der);

// Reads an ASN.1 UTCTime (YYMMDDhhmm[ss]Z or with +hhmm/-hhmm; YY 50-99 = 19YY) or GeneralizedTime
// (YYYYMMDDhhmm[ss[.fff]]Z or with an offset) text. 64-bit arithmetic; rejects impossible dates (month 13, Feb 30),
// hour 24, text without Z or offset (local time of an unknown zone). 99991231235959Z sets no_expiry (unix still set).
// Only the RFC 5280 form (YYMMDDhhmmssZ, YYYYMMDDhhmmssZ, seconds 00-59) sets unix: that is exactly what OpenSSL's
// certificate verification accepts (tests/unit/test_dates.cpp checks both agree on every form). The relaxed forms
// (seconds 60, no seconds, a fraction, an offset) leave unix unset, set `lenient` to the instant they denote (a leap
// second read as :59, the fraction cut off, the offset applied) and `error` to "rejected by TLS peers (OpenSSL): ...".
TimeValue parse_asn1_time(const std::string& type, const std::string& raw);

// Status at `now` (unix seconds) with a warning window of warn_days. days_left = floor((notAfter - now) / 86400),
// unset for invalid dates and for "no expiry".
CertStatus judge_certificate(const Certificate& c, int64_t now, int warn_days, std::optional<int64_t>& days_left);

// Anomalies visible from the certificate alone, as stable strings (<field> is notBefore or notAfter):
//   "unreadable <field>"                                  the time text could not be read (see TimeValue::error)
//   "<field> rejected by TLS peers (OpenSSL): <why>; read leniently as <RFC 3339>"
//                                                         a relaxed form (TimeValue::lenient): judged invalid-date
//   "<field> uses GeneralizedTime for a year in 1950-2049"  RFC 5280 4.1.2.5 wants UTCTime there
//   "notBefore in 1970 (generated without a clock)"
//   "inverted validity window"                            notAfter < notBefore
//   "notAfter after 2038-01-19 (32-bit time_t)"           later than 2038-01-19T03:14:07Z (99991231235959Z too)
//   "weak key: RSA-<bits>" (< 2048), "weak key: DSA-<bits>" (<= 1024), "weak key: EC-<bits>" (< 224)
//   "explicit EC parameters"
//   "weak signature: <signature algorithm>"               MD2, MD4, MD5 or SHA-1 digest (any key type)
//   "negative serial", "zero serial"
std::vector<std::string> certificate_anomalies(const Certificate& c);

// "2026-05-17T09:46:36Z" (RFC 3339, UTC) for any 64-bit time.
std::string rfc3339(int64_t unix_seconds);
// Parses RFC 3339 / ISO 8601 UTC ("2026-05-17T09:46:36Z", "2026-05-17", "2026-05-17 09:46:36") or "@<unix>".
std::optional<int64_t> parse_user_time(const std::string& text);

// A private key in PEM or DER (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1 EC, DSA, OpenSSH). nullopt when it is none.
std::optional<PrivateKey> parse_private_key(ByteView bytes);

// What a keystore holds that can be read.
struct KeystoreContents {
  std::vector<std::vector<uint8_t>> certificates;  // DER
  std::vector<std::string> certificate_aliases;    // JKS/JCEKS: the alias of the entry each certificate is, "" for
                                                   // the CA certificates of a key entry's chain (empty for PKCS#12)
  std::vector<PrivateKey> keys;                    // location left empty: the caller fills it
  bool opened = false;                             // PKCS#12: a password worked
  std::string password_used;                       // which of the tried passwords worked ("" = empty)
  std::vector<std::string> notes;                  // e.g. "MAC did not verify with any tried password"
};

// Vendor default passwords tried on PKCS#12 files, in order (the empty password first). Documented in the README.
const std::vector<std::string>& default_pkcs12_passwords();
// PKCS#12 with OpenSSL's legacy provider loaded (RC2-40, 3DES), trying each password.
KeystoreContents read_pkcs12(ByteView der, const std::vector<std::string>& passwords);
// JKS / JCEKS: certificates are stored unencrypted and readable without the store password.
KeystoreContents read_jks(ByteView data);

}  // namespace fwcert
