// Live endpoints: a TLS handshake with a BMC to read the certificates it serves, and the BMC's own clock (Redfish
// over HTTPS, IPMI Get SEL Time). Every network call has a timeout; nothing here waits without a bound. Credentials
// come from the environment (or ~/.netrc for Redfish) and never appear in results, messages or command lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/certs/records.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert {

struct Endpoint {
  std::string host;  // name, IPv4 or IPv6 (without brackets)
  uint16_t port = 443;
};
// "host", "host:port", "[v6]:port", "v6" (more than one colon, no brackets: no port). Errors: empty host, bad port.
Result<Endpoint> parse_endpoint(const std::string& text, uint16_t default_port = 443);
std::string to_string(const Endpoint& e);  // "host:port", "[v6]:port"

struct ProbeOptions {
  std::string servername;  // SNI and the name checked in verification; default: the host when it is not an address
  std::string ca_file;     // trust anchors for verification; empty: OpenSSL's default (system) store
  int timeout_ms = 5000;   // each of: connect, handshake (so a probe takes at most about twice this)
  int64_t now = 0;         // clock for verification (X509_VERIFY_PARAM_set_time): the dates are judged at it
  // A client certificate (PEM) offered when the server asks for one, as the iKVM client does; key: PEM, unencrypted
  // (default: in the certificate file). The server's verdict on it comes back as an alert (42 for a certificate not
  // yet valid at the server's clock, 45 for an expired one).
  std::string client_cert, client_key;
};

enum class ProbeError : uint8_t { None, Resolve, Refused, TimedOut, Unreachable, NotTls, Alert, Closed, Tls };
std::string_view to_string(ProbeError e);  // "", "resolve", "refused", "timeout", "unreachable", "not-tls", ...

struct ProbeResult {
  Endpoint endpoint;
  std::string address;         // the address connected to
  std::string servername;      // SNI sent ("" when none)
  ProbeError error = ProbeError::None;
  std::string message;         // one line when error != None: "connection refused", "TLS alert 42 bad_certificate ..."
  int alert = -1;              // alert description received from the peer (during or right after the handshake)
  bool client_cert_requested = false;  // the server asked for a client certificate
  bool client_cert_offered = false;    // and ProbeOptions::client_cert was sent
  std::string protocol, cipher;
  std::vector<Certificate> chain;  // as served, leaf first, read without any verification
  // Verification of the served chain, done apart from the handshake so that a chain that does not verify is still
  // read: against ca_file or the default store, at `now`, with the servername checked when one was sent.
  bool verified = false;
  int verify_code = -1;        // X509_V_OK (0) or X509_V_ERR_*; -1 when nothing was verified (no chain)
  std::string verify_error;    // OpenSSL's X509_verify_cert_error_string
  std::string verified_against;  // the CA file, or "system store"
};

// Connects (non-blocking connect + poll), does the handshake (poll-driven, bounded) without verifying, keeps the
// chain, waits briefly for an alert the server sends after the handshake (TLS 1.3 servers reject a client
// certificate only then), then verifies the chain on its own. Never throws; every failure is one line in `message`.
ProbeResult probe_tls(const Endpoint& endpoint, const ProbeOptions& options);

// --- the BMC's clock --------------------------------------------------------------------------------------------

struct BmcClock {
  std::string source;          // "redfish https://host/redfish/v1/Managers/1" or "ipmi host:623"
  bool ok = false;
  std::string error;           // one line when !ok (never holds a credential)
  std::optional<int64_t> bmc_time;  // unix seconds, as the BMC reported it
  std::string raw;             // the BMC's text: Redfish DateTime, or the SEL time in hex
  std::string local_offset;    // Redfish DateTimeLocalOffset ("" when absent)
  int64_t local_time = 0;      // our clock when the answer came (mid-point of the request), unix seconds
  int64_t skew = 0;            // bmc_time - local_time
  bool never_set = false;      // IPMI: SEL time at or below 0x20000000 (relative to the BMC's initialisation)
};

struct RedfishOptions {
  std::string ca_file;      // empty: the system store
  bool insecure = false;    // no verification at all (only when asked)
  int timeout_ms = 5000;    // connect timeout and whole-request timeout, per request
};
// Reads DateTime and DateTimeLocalOffset of the first manager: URL is the service ("https://bmc"), its root
// ("https://bmc/redfish/v1"), the managers collection or one manager. Credentials: FWCERT_REDFISH_USER and
// FWCERT_REDFISH_PASSWORD, else ~/.netrc. URLs carrying user:password are refused. HTTPS only, no redirects.
BmcClock read_redfish_clock(const std::string& url, const RedfishOptions& options);

// Parses a Redfish DateTime ("2026-12-04T09:12:00+00:00", "Z", fractions, "-05:00") into unix seconds.
std::optional<int64_t> parse_redfish_datetime(const std::string& text);

struct IpmiOptions {
  int timeout_ms = 10000;   // the whole session set-up; the command then has FreeIPMI's retransmission timeout
};
// Get SEL Time (NetFn 0x0A, command 0x48) in an IPMI 2.0 lanplus session opened with libfreeipmi, in-process.
// Credentials: FWCERT_IPMI_USER and FWCERT_IPMI_PASSWORD (never on any command line, never in messages).
BmcClock read_ipmi_clock(const Endpoint& endpoint, const IpmiOptions& options);
constexpr uint32_t kIpmiInitTimeLimit = 0x20000000;  // IPMI 2.0 31.2: at or below, seconds since initialisation

}  // namespace fwcert
