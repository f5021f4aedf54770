// "Is it the clock?": who verifies each certificate of a firmware image, at whose clock, and what an OpenSSL peer does
// when that clock is outside the certificate's window.
//
// The model comes from the roles the scan inferred from the firmware's own configuration (roles.hpp):
//   - certificates the BMC verifies (stunnel CAfile/verify, lighttpd/nginx/Apache client CAs, trusted CAs of daemons,
//     CA bundles for outgoing TLS) are judged at the BMC's clock;
//   - certificates the BMC presents (stunnel/lighttpd/nginx/Apache/Redfish server certificates) are verified by
//     workstations, browsers and monitoring at their own clock: the BMC's clock does not break them;
//   - certificates a client program shipped in the firmware carries (the iKVM jar's res/client.crt, res/server.crt)
//     are judged at the workstation's clock by the client, and at the BMC's clock by the BMC when the BMC verifies
//     them (matched to the BMC's CAfile by SHA-256, or by issuer to a CA the BMC trusts).
// A certificate that fails at its verifier's clock makes the verifying OpenSSL send a fatal alert: 42 bad_certificate
// for X509_V_ERR_CERT_NOT_YET_VALID, 45 certificate_expired for X509_V_ERR_CERT_HAS_EXPIRED (ssl_verify_alarm_type;
// checked against a real OpenSSL handshake in tests/unit/test_clock.cpp). Dates that could not be read are
// "invalid-date": never valid, never expired, no alert claimed, no window bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/certs/records.hpp"

namespace fwcert {

struct ClockOptions {
  int64_t now = 0;                   // the workstation's clock (browsers, the iKVM client, monitoring)
  std::optional<int64_t> bmc_clock;  // the BMC's clock; nullopt: the same as now
  int64_t bmc() const { return bmc_clock.value_or(now); }
};

// Who verifies a certificate. The clock follows: Bmc -> the BMC's clock, every other verifier -> its own clock (the
// workstation's, taken as `now`).
enum class Verifier : uint8_t {
  Bmc,            // the BMC's own TLS stack (stunnel, lighttpd, nginx, a daemon, outgoing TLS)
  Workstation,    // browsers, workstations, monitoring connecting to a service the BMC presents
  ClientProgram,  // a client program shipped in the firmware (iKVM/JViewer jar) running on the workstation
  RemoteServer,   // a server the BMC connects to with a client certificate (stunnel client = yes, proxy certs)
  Unknown,        // a config names it but says nothing of its use
};
std::string_view to_string(Verifier v);  // "bmc", "workstation", "client-program", "remote-server", "unknown"

enum class ClockKind : uint8_t { Bmc, Workstation };
std::string_view clock_name(ClockKind k);  // "BMC clock", "workstation clock"

// A safe clock window: every certificate in the set is valid for a clock in [from, until] (to the second).
struct ClockWindow {
  std::optional<int64_t> from;   // latest notBefore; nullopt: no lower bound (no certificate in the set)
  std::optional<int64_t> until;  // earliest notAfter; nullopt: no upper bound (only "no expiry" certificates)
  std::string from_sha256, until_sha256;  // the certificates setting each bound
  bool empty = false;                     // from > until: no clock satisfies every certificate
  std::vector<std::string> unreadable;    // sha256 of certificates whose dates could not be read (not bounded)
};

struct CertVerdict {
  std::string sha256, subject, common_name;
  std::string label;                   // "the iKVM client certificate", "the certificate CN=bmc.example"
  std::vector<std::string> locations;  // where it sits in the image
  TimeValue not_before, not_after;
  std::string role;                    // the role that puts it in this service
  std::string config;                  // the config line that says so (location:line), empty for place-based roles
  Verifier verifier = Verifier::Unknown;
  std::string verifier_name;           // "the BMC (stunnel [ikvm], verify 3)", "workstations and browsers", ...
  std::string presenter;               // who presents it: "the iKVM client", "the BMC", "a remote server", ...
  ClockKind clock = ClockKind::Bmc;
  int64_t clock_value = 0;
  CertStatus status = CertStatus::InvalidDate;  // at clock_value: valid, expired, not-yet-valid or invalid-date
  std::optional<int> tls_alert;                 // 42 or 45 when the verifier's OpenSSL refuses it
  std::string alert_name;                       // "bad_certificate", "certificate_expired"
  std::string verify_error;                     // "X509_V_ERR_CERT_NOT_YET_VALID", "X509_V_ERR_CERT_HAS_EXPIRED"
  std::string sender;                           // who sends the alert: "the BMC", "the workstation's TLS client", ...
  std::string sentence;                         // consequence and fix (empty when it passes)
  std::vector<std::string> notes;               // e.g. "also shipped as the iKVM client's certificate in ..."
  bool in_window = false;                       // counts towards the service's safe BMC clock window
};

struct ServiceClock {
  std::string service;   // "stunnel [ikvm]", "lighttpd", "redfish [https]", "iKVM client program", "CA bundle", ...
  std::string endpoint;  // "accept 5900 -> connect 127.0.0.1:5901", ":443", "port 8443" when the role says
  std::string config;    // config location (first one seen), empty when the service follows from a place
  std::vector<CertVerdict> certificates;
  std::optional<ClockWindow> bmc_window;  // of the certificates the BMC verifies; nullopt when it verifies none
  std::string window_note;                // why there is no window or what it means (CA bundles, ...)
};

struct ClockReport {
  std::string input, sha256;
  int64_t now = 0, bmc_clock = 0;
  bool bmc_clock_given = false;
  std::vector<ServiceClock> services;
  std::optional<ClockWindow> bmc_window;  // intersection over the services' windows; nullopt when none
  std::vector<std::string> problems;      // what could not be modelled (unknown roles, unreadable dates, ...)
  size_t failing = 0;                     // verdicts not valid at their clock (invalid dates included)
};

// Builds the model from a scan (roles, locations, config lines) and judges it at opts. Never throws on odd input.
ClockReport analyze_clock(const ScanReport& report, const ClockOptions& opts);

// The alert an OpenSSL verifier sends for a certificate of this status at its clock (42 / 45), nullopt otherwise.
std::optional<int> openssl_alert_for(CertStatus s);
std::string_view tls_alert_name(int alert);  // 42 -> "bad_certificate", 45 -> "certificate_expired", 40, 46, 48 ...

// Seconds from clock t to the nearest edge of the window: >= 0 inside (how far the BMC clock may drift either way before
// a certificate fails), < 0 outside (how far it is out). nullopt when the window is empty or has no bound at all.
// Saturates instead of overflowing on absurd clocks.
std::optional<int64_t> window_margin(const ClockWindow& w, int64_t t);

// The inputs of `fwcert clock --db`: one ScanReport per catalogued image, rebuilt from what the catalog keeps
// (certificates with their locations and roles per image; ScanReport::now = `now`). The catalog does not keep the
// config line behind a role (CertRecord::role_sources), so services read from it have no config location.
class Catalog;
Result<std::vector<ScanReport>> clock_inputs_from_catalog(Catalog& catalog, int64_t now);

// A window of one set of certificates (helper of analyze_clock, public for tests).
ClockWindow clock_window(const std::vector<const Certificate*>& certs);

}  // namespace fwcert
