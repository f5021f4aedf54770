// Plain records of the certificate scan. No formatting here: reporters turn these into text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/result.hpp"
#include "fwcert/scan/hit.hpp"

namespace fwcert {

// Status of a certificate at a given clock.
enum class CertStatus : uint8_t { Valid, Expiring, Expired, NotYetValid, InvalidDate };
std::string_view to_string(CertStatus s);  // "valid", "expiring", "expired", "not-yet-valid", "invalid-date"

// One ASN.1 time as encoded, and what it means. Dates are judged by us, in 64-bit arithmetic, never by OpenSSL.
struct TimeValue {
  std::string type;             // "UTCTime" or "GeneralizedTime" (or the tag number when it is neither)
  std::string raw;              // the encoded text, e.g. "260517094636Z"
  std::optional<int64_t> unix;  // seconds since 1970-01-01T00:00:00Z; nullopt when the text cannot be read
  bool no_expiry = false;       // 99991231235959Z (RFC 5280 4.1.2.5): "no well-defined expiration date"
  std::string error;            // why it could not be read
  // A form TLS stacks refuse (OpenSSL's X509_cmp_time: exactly YYMMDDhhmmssZ / YYYYMMDDhhmmssZ, seconds 00-59)
  // but a lenient reader can still read (seconds 60, no seconds, a fraction, +hhmm/-hhmm): then `unix` is unset
  // (the date is judged invalid-date: every OpenSSL-based peer rejects the certificate whatever the clock),
  // `error` says why peers reject it and `lenient` keeps the instant read leniently, as information only.
  std::optional<int64_t> lenient;
};

struct KeyDesc {
  std::string algorithm;  // "RSA", "EC", "DSA", "Ed25519", "Ed448", "RSA-PSS", ...
  int bits = 0;
  std::string curve;      // EC: "prime256v1", ...; "explicit" for explicit parameters
};

struct Certificate {
  std::string sha256, sha1;  // of the DER, lowercase hex
  std::string subject, issuer;  // RFC 2253-like one-liners
  std::string common_name;      // subject CN; empty when the subject has none (tables may show the subject instead)
  std::string serial;           // uppercase hex, "-" prefixed when negative, "0" for zero
  TimeValue not_before, not_after;
  KeyDesc key;
  std::string signature_algorithm;  // "sha256WithRSAEncryption", ...
  bool self_signed = false;
  bool is_ca = false;
  std::string spki_sha256;  // SHA-256 of the SubjectPublicKeyInfo DER: pairs keys with certificates
  std::vector<uint8_t> der;
};

// A private key found in the image.
struct PrivateKey {
  std::string location;
  std::string format;  // "PEM PKCS#1", "PEM PKCS#8", "PEM encrypted PKCS#8", "PEM SEC1", "DER PKCS#8", "OpenSSH", ...
  KeyDesc key;         // may be partial (empty algorithm) when encrypted
  bool encrypted = false;
  std::string spki_sha256;              // empty when it cannot be computed (encrypted)
  std::vector<std::string> certificates;  // sha256 of the certificates whose public key it matches
  std::vector<std::string> roles;         // as for certificates: "stunnel [ikvm] server private key", ...
  std::string alias;                      // JKS/JCEKS: the alias of its keystore entry, else ""
  std::vector<std::string> anomalies;     // "private key is public (House of Keys)" when its public key is listed
  bool recovered = false;                 // inside a container rebuilt from damaged metadata (see CertRecord)
};

// One unique certificate (by SHA-256 of its DER) in one scanned input.
struct CertRecord {
  Certificate cert;
  std::vector<std::string> locations;     // every place it occurs, in the tree's location grammar
  std::vector<std::string> roles;         // "stunnel [ikvm] server certificate", "iKVM client certificate", ...
  // role -> the config line that gave it ("img!cramfs@0x80000:/etc/stunnel/stunnel.conf:16"); roles that follow
  // from a certificate's place (iKVM jar resources, CA bundles) have none. Not stored in the catalog.
  std::map<std::string, std::string> role_sources;
  std::vector<std::string> private_keys;  // locations of the matching private keys in the same input
  std::vector<std::string> anomalies;     // see certificate_anomalies() plus "private key shipped in firmware" and
                                          // "private key is public (SOURCE)" (ScanOptions::compromised_keys)
  std::vector<std::string> aliases;       // JKS/JCEKS: aliases of the keystore entries it is, distinct, in order found
  // Those of `locations` inside a container rebuilt from damaged metadata (a CramFS without its superblock, read from
  // its root directory): found, but from bytes no superblock vouched for. Not stored in the catalog.
  std::vector<std::string> recovered_locations;
  CertStatus status = CertStatus::InvalidDate;
  std::optional<int64_t> days_left;       // whole days from now to notAfter (negative when expired)
};

// A problem met while scanning, with where it happened.
struct ScanProblem {
  std::string location;
  Diagnostic diagnostic;
};

struct ScanReport {
  std::string input;   // the path given
  std::string sha256;  // of the input
  uint64_t size = 0;
  int64_t now = 0;     // the clock used for the judgements
  int warn_days = 90;
  std::vector<CertRecord> certificates;  // sorted by notAfter (invalid dates last)
  std::vector<PrivateKey> keys;
  std::vector<ScanProblem> problems;
  // The input could not be read to its end (a reader ran out of memory, the file shrank while it was read): what is
  // listed is a lower bound, never "nothing there". One Error problem says why; a tool exits 2 (unreadable input).
  bool incomplete = false;
  bool timed_out = false;  // incomplete because the time limit (ExtractLimits::max_seconds) was reached
};

}  // namespace fwcert
