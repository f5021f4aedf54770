// "Is it the clock?": the roles the scan inferred (stunnel/lighttpd/nginx/Apache/INI configs, iKVM jar resources, CA
// bundles) turned into services, each certificate with who verifies it at whose clock, the alert an OpenSSL verifier
// sends when that clock is outside the certificate's window, and the safe BMC clock window.
//
// Role texts are produced by roles.cpp; this file reads them back by their fixed wording. A role it does not know is
// reported as a problem, never guessed into a verdict.
#include "fwcert/certs/clock.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/civil_time.hpp"

namespace fwcert {
namespace {

constexpr size_t kMaxProblems = 64;  // a hostile image with thousands of role-less certificates stays readable

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// The text inside the role's trailing "(...)", and the role without it.
std::pair<std::string, std::string> split_paren(const std::string& role) {
  if (role.empty() || role.back() != ')') return {role, ""};
  int depth = 0;
  for (size_t i = role.size(); i-- > 0;) {
    if (role[i] == ')') ++depth;
    if (role[i] == '(' && --depth == 0) {
      std::string head = role.substr(0, i);
      while (!head.empty() && head.back() == ' ') head.pop_back();
      return {head, role.substr(i + 1, role.size() - i - 2)};
    }
  }
  return {role, ""};
}

// How a role text reads in the model.
struct RoleModel {
  bool known = false;
  std::string service;   // "stunnel [ikvm]", "lighttpd", "redfish [https]", "iKVM client program", ...
  std::string endpoint;  // "accept 5900 -> connect 127.0.0.1:5901", ":443", "port 8443"
  Verifier verifier = Verifier::Unknown;
  std::string verifier_name, presenter;
  bool bundle = false;       // a CA bundle / trust store: each peer needs only its own root; no window
  bool client_auth = false;  // the BMC verifies its clients' certificates (stunnel CAfile + verify, lighttpd, ...)
  bool unchecked = false;    // the config names it as trusted but does not verify peers
  bool tls = true;           // verified in a TLS handshake (false: code signing, where no alert is sent)
  std::string consequence;   // "iKVM console refuses to connect", ...
};

bool is_ikvm(std::string_view service) { return contains(lower(service), "ikvm") || contains(lower(service), "kvm"); }

// The part of "verify 3: peer must present it, chain checked too" before the colon.
std::string verify_how(const std::string& meaning) {
  const size_t colon = meaning.find(':');
  return colon == std::string::npos ? meaning : meaning.substr(0, colon);
}

RoleModel bmc_verifies_clients(const std::string& service, const std::string& how) {
  RoleModel m;
  m.known = true;
  m.service = service;
  m.verifier = Verifier::Bmc;
  m.verifier_name = "the BMC (" + service + (how.empty() ? "" : ", " + how) + ")";
  m.presenter = is_ikvm(service) ? "the iKVM client" : "clients of " + service;
  m.client_auth = true;
  m.consequence =
      is_ikvm(service) ? "iKVM console refuses to connect" : service + " refuses clients that present this certificate";
  return m;
}

RoleModel bmc_verifies_servers(const std::string& service, const std::string& what) {
  RoleModel m;
  m.known = true;
  m.service = service;
  m.verifier = Verifier::Bmc;
  m.verifier_name = "the BMC (" + service + ", " + what + ")";
  m.presenter = "the remote servers " + service + " connects to";
  m.consequence = service + " cannot connect to its remote server";
  return m;
}

RoleModel bmc_presents(const std::string& service, const std::string& endpoint) {
  RoleModel m;
  m.known = true;
  m.service = service;
  m.endpoint = endpoint;
  m.verifier = Verifier::Workstation;
  m.verifier_name = is_ikvm(service) ? "the iKVM client and workstations, at their own clock"
                                     : "workstations, browsers and monitoring, at their own clock";
  m.presenter = "the BMC";
  m.consequence = is_ikvm(service) ? "the iKVM client refuses the BMC's console service"
                                   : "browsers and monitoring refuse " + service;
  return m;
}

RoleModel bmc_presents_as_client(const std::string& service, const std::string& endpoint) {
  RoleModel m;
  m.known = true;
  m.service = service;
  m.endpoint = endpoint;
  m.verifier = Verifier::RemoteServer;
  m.verifier_name = "the remote server " + service + " connects to, at its own clock";
  m.presenter = "the BMC";
  m.consequence = "the remote server refuses " + service + "'s client certificate";
  return m;
}

// "stunnel [ikvm] CA / client certificate (verify 3: ...)" -> service "stunnel [ikvm]", rest "CA / client ...".
std::pair<std::string, std::string> stunnel_service(const std::string& head) {
  std::string service = "stunnel";
  size_t pos = 7;
  if (head.size() > 8 && head[7] == ' ' && head[8] == '[') {
    const size_t close = head.find(']', 8);
    if (close != std::string::npos) {
      service = head.substr(0, close + 1);
      pos = close + 1;
    }
  }
  while (pos < head.size() && head[pos] == ' ') ++pos;
  return {service, head.substr(std::min(pos, head.size()))};
}

RoleModel model_role(const std::string& role) {
  // Named copies, not a structured binding: clang 14 (the fuzz build) cannot capture bindings in the lambda below.
  const auto parts = split_paren(role);
  const std::string& head = parts.first;
  const std::string& inner = parts.second;
  if (starts_with(head, "stunnel")) {
    const auto [service, rest] = stunnel_service(head);
    if (rest == "server certificate") return bmc_presents(service, inner);
    if (rest == "client certificate") return bmc_presents_as_client(service, inner);
    const bool ca_client = starts_with(rest, "CA / client") || starts_with(rest, "CA / trusted client") ||
                           (starts_with(rest, "CA directory") && contains(role, "(client certificates"));
    const bool ca_server = starts_with(rest, "CA / server") || starts_with(rest, "CA / trusted server") ||
                           (starts_with(rest, "CA directory") && contains(role, "(server certificates"));
    if (ca_client || ca_server) {
      // The directory's meaning follows "by subject hash; ".
      std::string meaning = inner;
      if (const size_t semi = meaning.find("; "); starts_with(rest, "CA directory") && semi != std::string::npos)
        meaning = meaning.substr(semi + 2);
      RoleModel m = ca_client ? bmc_verifies_clients(service, verify_how(meaning))
                              : bmc_verifies_servers(service, verify_how(meaning));
      if (contains(meaning, "not checked")) m.unchecked = true;
      return m;
    }
    return {};
  }
  if (starts_with(head, "lighttpd ")) {
    if (head == "lighttpd HTTPS server certificate") return bmc_presents("lighttpd", inner);
    if (head == "lighttpd CA / trusted client certificate") {
      const size_t semi = inner.rfind("; ");
      const std::string endpoint = semi == std::string::npos ? "" : inner.substr(0, semi);
      const std::string how = semi == std::string::npos ? inner : inner.substr(semi + 2);
      RoleModel m = bmc_verifies_clients("lighttpd", how);
      m.endpoint = endpoint;
      if (contains(how, "not requested")) m.unchecked = true;
      return m;
    }
    return {};  // "client CA names sent to clients": names only, nothing verified against them
  }
  if (starts_with(head, "nginx ")) {
    if (contains(head, " server certificate")) return bmc_presents("nginx", inner);
    if (head == "nginx CA / trusted client certificate") return bmc_verifies_clients("nginx", "ssl_verify_client");
    if (head == "nginx trusted CA") return bmc_verifies_clients("nginx", "ssl_trusted_certificate");
    if (head == "nginx proxy client certificate") return bmc_presents_as_client("nginx proxy", inner);
    if (head == "nginx proxy trusted CA") return bmc_verifies_servers("nginx proxy", "proxy_ssl_trusted_certificate");
    return {};
  }
  if (starts_with(head, "Apache ")) {
    if (head == "Apache HTTPS server certificate" || head == "Apache HTTPS server certificate chain")
      return bmc_presents("Apache", inner);
    if (starts_with(head, "Apache CA / trusted client certificate")) {
      RoleModel m = bmc_verifies_clients("Apache", inner);
      if (contains(inner, "SSLVerifyClient not set") || contains(lower(inner), "sslverifyclient none")) m.unchecked = true;
      return m;
    }
    if (head == "Apache proxy client certificate and key") return bmc_presents_as_client("Apache proxy", inner);
    if (head == "Apache proxy trusted CA") return bmc_verifies_servers("Apache proxy", "SSLProxyCACertificateFile");
    return {};
  }
  // Place-based roles (roles.cpp location_roles).
  if (role == "iKVM client certificate") {
    RoleModel m;
    m.known = true;
    m.service = "iKVM client program";
    m.verifier = Verifier::Unknown;  // the BMC, when its configuration trusts it (decided in analyze_clock)
    m.presenter = "the iKVM client";
    m.consequence = "iKVM console refuses to connect";
    return m;
  }
  if (role == "iKVM server certificate" || role == "iKVM embedded certificate") {
    RoleModel m;
    m.known = true;
    m.service = "iKVM client program";
    m.verifier = Verifier::ClientProgram;
    m.verifier_name = "the iKVM client, at the workstation's clock";
    m.presenter = role == "iKVM server certificate" ? "the BMC (the client's copy of its server certificate)" : "";
    m.consequence = "the iKVM client refuses the BMC's console service";
    return m;
  }
  if (starts_with(role, "jar signing certificate")) {
    RoleModel m;
    m.known = true;
    m.service = "jar signing" + (inner.empty() ? "" : " (" + inner + ")");
    m.verifier = Verifier::Workstation;
    m.verifier_name = "Java on the workstation, at its own clock (or at the signature's timestamp when it has one)";
    m.presenter = "the signed jar";
    m.tls = false;
    m.consequence = "Java warns about or blocks the signed jar unless its signature carries a timestamp from within "
                    "the signer's window";
    return m;
  }
  if (role == "JNLP embedded certificate") {
    RoleModel m;
    m.known = true;
    m.service = "JNLP";
    m.verifier = Verifier::Workstation;
    m.verifier_name = "Java Web Start on the workstation, at its own clock";
    m.tls = false;
    m.consequence = "Java Web Start refuses the application";
    return m;
  }
  if (role == "CA bundle" || starts_with(role, "trusted CA (") || starts_with(role, "Java trusted CA keystore")) {
    RoleModel m;
    m.known = true;
    m.service = "outgoing TLS trust (" + role + ")";
    m.verifier = Verifier::Bmc;
    m.verifier_name = "the BMC, for its outgoing TLS (LDAP/AD, remote syslog, event subscriptions, updates)";
    m.presenter = "the servers the BMC connects to (chains ending at this root)";
    m.bundle = true;
    m.consequence = "the BMC's outgoing TLS fails for every server whose chain ends at this root";
    return m;
  }
  if (contains(head, "certificate named in ")) return {};
  // INI-style configs of other daemons: "<program> [section] certificate (port 8443)".
  const auto ends = [&](std::string_view suffix) {
    return head.size() > suffix.size() && head.compare(head.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(" trusted CA certificate"))
    return bmc_verifies_servers(head.substr(0, head.size() - 23), "trusted CA certificate");
  if (ends(" certificate")) return bmc_presents(head.substr(0, head.size() - 12), inner);
  return {};
}

std::string clock_text(int64_t t) {
  const CivilTime c = civil_from_unix(t);
  if (c.hour == 0 && c.minute == 0 && c.second == 0) return rfc3339_utc(t).substr(0, rfc3339_utc(t).find('T'));
  return rfc3339_utc(t);
}

std::string label_of(const CertRecord& r) {
  const auto has = [&](std::string_view role) { return std::find(r.roles.begin(), r.roles.end(), role) != r.roles.end(); };
  if (has("iKVM client certificate")) return "the iKVM client certificate";
  if (has("iKVM server certificate")) return "the iKVM server certificate";
  if (r.cert.common_name == r.cert.subject) return "the certificate " + r.cert.subject;  // no CN in the subject
  return "the certificate CN=" + r.cert.common_name;
}

// Judges one certificate for one verifier at that verifier's clock and writes the alert and the sentence.
void judge(CertVerdict& v, const RoleModel& m, const ClockOptions& opts, bool bmc_clock_given) {
  std::optional<int64_t> days;
  v.status = CertStatus::InvalidDate;
  if (v.not_before.unix && v.not_after.unix) {
    Certificate c;
    c.not_before = v.not_before;
    c.not_after = v.not_after;
    v.status = judge_certificate(c, v.clock_value, -1, days);  // warn_days < 0: no "expiring" here
  }
  if (m.unchecked) {
    v.notes.push_back("the configuration does not verify peers: the clock does not matter here");
    return;
  }
  if (v.verifier == Verifier::Unknown) return;
  if (!m.tls) {
    // No handshake, no alert: only the consequence.
    if (v.status == CertStatus::NotYetValid || v.status == CertStatus::Expired)
      v.sentence = m.consequence + ": at the " + std::string(clock_name(v.clock)) + " " + clock_text(v.clock_value) +
                   " " + v.label + (v.status == CertStatus::Expired ? " has expired (" + rfc3339_utc(*v.not_after.unix)
                                                                    : " is not yet valid (" + rfc3339_utc(*v.not_before.unix)) +
                   "); the BMC clock plays no part";
    return;
  }
  v.tls_alert = openssl_alert_for(v.status);
  if (!v.tls_alert) return;
  v.alert_name = std::string(tls_alert_name(*v.tls_alert));
  v.verify_error = v.status == CertStatus::NotYetValid ? "X509_V_ERR_CERT_NOT_YET_VALID" : "X509_V_ERR_CERT_HAS_EXPIRED";
  switch (v.verifier) {
    case Verifier::Bmc: v.sender = "the BMC"; break;
    case Verifier::Workstation: v.sender = "the workstation's TLS client"; break;
    case Verifier::ClientProgram: v.sender = "the iKVM client"; break;
    case Verifier::RemoteServer: v.sender = "the remote server"; break;
    case Verifier::Unknown: break;
  }
  const bool at_bmc = v.clock == ClockKind::Bmc;
  const std::string when = clock_text(v.clock_value);
  std::string s = m.consequence + ": the " + std::string(clock_name(v.clock)) + " " + when;
  if (v.status == CertStatus::NotYetValid) {
    s += " is before " + rfc3339_utc(*v.not_before.unix) + ", when " + v.label + " becomes valid; ";
    s += at_bmc ? "fix the BMC clock (NTP), not the certificate"
                : "check that clock; if it is right, the certificate must be replaced (its notBefore is in the future)";
  } else {
    s += " is after " + rfc3339_utc(*v.not_after.unix) + ", when " + v.label + " expired; ";
    const bool clock_wrong = at_bmc && bmc_clock_given && opts.bmc() > opts.now;
    if (clock_wrong && opts.now <= *v.not_after.unix)
      s += "the BMC clock is ahead of the workstation's: fix the BMC clock (NTP), not the certificate";
    else if (at_bmc)
      s += "the certificate really expired: a firmware that ships a renewed certificate is the fix (setting the BMC "
           "clock back is only a stopgap)";
    else if (m.verifier == Verifier::Workstation && v.presenter == "the BMC")
      s += "replace the certificate on the BMC (upload a new one or update the firmware); the BMC clock plays no part";
    else
      s += "replace the certificate (a firmware update); the BMC clock plays no part";
  }
  v.sentence = std::move(s);
}

int64_t max_time(const TimeValue& t) { return t.unix.value_or(0); }

}  // namespace

std::string_view to_string(Verifier v) {
  switch (v) {
    case Verifier::Bmc: return "bmc";
    case Verifier::Workstation: return "workstation";
    case Verifier::ClientProgram: return "client-program";
    case Verifier::RemoteServer: return "remote-server";
    case Verifier::Unknown: return "unknown";
  }
  return "unknown";
}

std::string_view clock_name(ClockKind k) { return k == ClockKind::Bmc ? "BMC clock" : "workstation clock"; }

std::optional<int> openssl_alert_for(CertStatus s) {
  // ssl/statem/statem_lib.c ssl_verify_alarm_type(): X509_V_ERR_CERT_NOT_YET_VALID falls in the group mapped to
  // SSL_AD_BAD_CERTIFICATE, X509_V_ERR_CERT_HAS_EXPIRED to SSL_AD_CERTIFICATE_EXPIRED.
  if (s == CertStatus::NotYetValid) return 42;
  if (s == CertStatus::Expired) return 45;
  return std::nullopt;
}

std::string_view tls_alert_name(int alert) {
  switch (alert) {
    case 10: return "unexpected_message";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 80: return "internal_error";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    default: return "unknown";
  }
}

ClockWindow clock_window(const std::vector<const Certificate*>& certs) {
  ClockWindow w;
  std::set<std::string> seen;
  for (const Certificate* c : certs) {
    if (!c || !seen.insert(c->sha256).second) continue;
    if (!c->not_before.unix || !c->not_after.unix) {
      w.unreadable.push_back(c->sha256);
      continue;
    }
    const int64_t nb = *c->not_before.unix, na = *c->not_after.unix;
    if (!w.from || nb > *w.from) w.from = nb, w.from_sha256 = c->sha256;
    if (!c->not_after.no_expiry && (!w.until || na < *w.until)) w.until = na, w.until_sha256 = c->sha256;
  }
  w.empty = w.from && w.until && *w.from > *w.until;
  return w;
}

std::optional<int64_t> window_margin(const ClockWindow& w, int64_t t) {
  if (w.empty || (!w.from && !w.until)) return std::nullopt;
  const auto sub = [](int64_t a, int64_t b) {
    int64_t d = 0;
    if (__builtin_sub_overflow(a, b, &d)) return a > b ? INT64_MAX : INT64_MIN;
    return d;
  };
  if (w.from && t < *w.from) return sub(t, *w.from);
  if (w.until && t > *w.until) return sub(*w.until, t);
  int64_t m = INT64_MAX;
  if (w.from) m = std::min(m, sub(t, *w.from));
  if (w.until) m = std::min(m, sub(*w.until, t));
  return m;
}

ClockReport analyze_clock(const ScanReport& report, const ClockOptions& opts) {
  ClockReport out;
  out.input = report.input;
  out.sha256 = report.sha256;
  out.now = opts.now;
  out.bmc_clock = opts.bmc();
  out.bmc_clock_given = opts.bmc_clock.has_value();

  std::map<std::string, size_t> service_index;
  auto service = [&](const RoleModel& m, const std::string& config) -> ServiceClock& {
    auto it = service_index.find(m.service);
    if (it == service_index.end()) {
      it = service_index.emplace(m.service, out.services.size()).first;
      out.services.push_back({});
      out.services.back().service = m.service;
    }
    ServiceClock& s = out.services[it->second];
    if (s.endpoint.empty()) s.endpoint = m.endpoint;
    if (s.config.empty() && !config.empty()) {
      // The config file, without the line number.
      const size_t colon = config.rfind(':');
      s.config = colon == std::string::npos ? config : config.substr(0, colon);
    }
    return s;
  };
  auto verdict_of = [&](const CertRecord& r, const RoleModel& m, const std::string& role) {
    CertVerdict v;
    v.sha256 = r.cert.sha256;
    v.subject = r.cert.subject;
    v.common_name = r.cert.common_name;
    v.label = label_of(r);
    v.locations = r.locations;
    v.not_before = r.cert.not_before;
    v.not_after = r.cert.not_after;
    v.role = role;
    if (auto it = r.role_sources.find(role); it != r.role_sources.end()) v.config = it->second;
    v.verifier = m.verifier;
    v.verifier_name = m.verifier_name;
    v.presenter = m.presenter;
    v.clock = m.verifier == Verifier::Bmc || m.verifier == Verifier::Unknown ? ClockKind::Bmc : ClockKind::Workstation;
    v.clock_value = v.clock == ClockKind::Bmc ? opts.bmc() : opts.now;
    v.in_window = m.verifier == Verifier::Bmc && !m.bundle && !m.unchecked;
    return v;
  };

  // Certificates the BMC verifies as its clients' (by SHA-256 and by subject), to match the iKVM client's certificate.
  std::map<std::string, std::pair<RoleModel, std::string>> client_auth_by_sha;      // sha -> (model, role)
  std::map<std::string, std::pair<RoleModel, std::string>> client_auth_by_subject;  // CA subject -> (model, role)
  for (const CertRecord& r : report.certificates)
    for (const std::string& role : r.roles) {
      const RoleModel m = model_role(role);
      if (!m.known || !m.client_auth || m.unchecked) continue;
      client_auth_by_sha.emplace(r.cert.sha256, std::make_pair(m, role));
      client_auth_by_subject.emplace(r.cert.subject, std::make_pair(m, role));
    }

  std::vector<std::string> roleless;
  for (const CertRecord& r : report.certificates) {
    bool modelled = false;
    for (const std::string& role : r.roles) {
      RoleModel m = model_role(role);
      if (!m.known) {
        if (!contains(role, "private key") && out.problems.size() < kMaxProblems)
          out.problems.push_back("role not modelled: \"" + role + "\" of " + label_of(r) + " (" + r.cert.sha256.substr(0, 16) +
                                 ")");
        continue;
      }
      modelled = true;
      std::string match_note;
      if (role == "iKVM client certificate") {
        // Who verifies the client's certificate: the BMC service whose CA file holds it (same SHA-256), or whose CA
        // issued it (issuer = that CA's subject; OpenSSL then checks both certificates' dates at the BMC's clock).
        const std::pair<RoleModel, std::string>* match = nullptr;
        if (auto it = client_auth_by_sha.find(r.cert.sha256); it != client_auth_by_sha.end()) {
          match = &it->second;
          match_note = "the BMC's " + it->second.first.service + " CA file holds this very certificate (same SHA-256)";
        } else if (auto it2 = client_auth_by_subject.find(r.cert.issuer);
                   it2 != client_auth_by_subject.end() && !r.cert.self_signed) {
          match = &it2->second;
          match_note = "issued by a CA in the BMC's " + it2->second.first.service + " CA file (issuer = its subject)";
        }
        if (match) {
          m.verifier = Verifier::Bmc;
          m.verifier_name = match->first.verifier_name;
          m.consequence = match->first.consequence;
        } else {
          m.verifier_name = "no configuration in this image verifies it";
        }
      }
      CertVerdict v = verdict_of(r, m, role);
      if (!match_note.empty()) v.notes.push_back(match_note);
      judge(v, m, opts, out.bmc_clock_given);
      ServiceClock& s = service(m, v.config);
      s.certificates.push_back(std::move(v));
      // The BMC service that verifies a jar's client certificate by issuer also judges that certificate.
      if (role == "iKVM client certificate" && m.verifier == Verifier::Bmc &&
          !client_auth_by_sha.count(r.cert.sha256)) {
        const auto& match = client_auth_by_subject.at(r.cert.issuer);
        CertVerdict v2 = verdict_of(r, match.first, role);
        v2.notes.push_back("presented by the iKVM client; " + match_note);
        judge(v2, match.first, opts, out.bmc_clock_given);
        service(match.first, "").certificates.push_back(std::move(v2));
      }
    }
    if (!modelled && r.roles.empty()) roleless.push_back(label_of(r) + " at " + (r.locations.empty() ? "?" : r.locations.front()));
  }
  // Notes tying the stunnel CA copy to the jar's copy of the same certificate.
  for (ServiceClock& s : out.services)
    for (CertVerdict& v : s.certificates) {
      if (v.role == "iKVM client certificate" || !v.in_window) continue;
      for (const CertRecord& r : report.certificates) {
        if (r.cert.sha256 != v.sha256) continue;
        if (std::find(r.roles.begin(), r.roles.end(), "iKVM client certificate") == r.roles.end()) continue;
        for (const std::string& loc : r.locations)
          if (contains(loc, "!zip:")) {
            v.label = "the iKVM client certificate";
            v.notes.push_back("also shipped as the iKVM client's certificate at " + loc +
                              ": the client presents it, the BMC verifies it");
            break;
          }
        if (!v.sentence.empty()) judge(v, model_role(v.role), opts, out.bmc_clock_given);  // label changed
      }
    }
  for (size_t i = 0; i < roleless.size() && out.problems.size() < kMaxProblems; ++i)
    out.problems.push_back("no role known from the configuration, not modelled: " + roleless[i]);

  // Windows: per service over the certificates the BMC verifies (CA bundles apart), and their intersection.
  std::vector<const Certificate*> all;
  std::map<std::string, Certificate> by_sha;
  for (const CertRecord& r : report.certificates) by_sha.emplace(r.cert.sha256, r.cert);
  for (ServiceClock& s : out.services) {
    std::vector<const Certificate*> set;
    bool bundle = false;
    for (const CertVerdict& v : s.certificates) {
      if (v.in_window) set.push_back(&by_sha.at(v.sha256));
      if (v.verifier == Verifier::Bmc && !v.in_window) bundle = true;
    }
    if (!set.empty()) {
      s.bmc_window = clock_window(set);
      all.insert(all.end(), set.begin(), set.end());
    } else if (bundle) {
      s.window_note = "a trust store: each connection needs only the root its peer's chain ends at, so no single window";
    } else {
      s.window_note = "the BMC verifies none of these certificates: its clock does not break them";
    }
    std::stable_sort(s.certificates.begin(), s.certificates.end(), [](const CertVerdict& a, const CertVerdict& b) {
      return max_time(a.not_after) < max_time(b.not_after);
    });
  }
  if (!all.empty()) out.bmc_window = clock_window(all);
  for (const ServiceClock& s : out.services)
    for (const CertVerdict& v : s.certificates)
      if (v.status != CertStatus::Valid && v.verifier != Verifier::Unknown) ++out.failing;
  // Services the BMC verifies come first: that is where its clock matters.
  std::stable_sort(out.services.begin(), out.services.end(), [](const ServiceClock& a, const ServiceClock& b) {
    return a.bmc_window.has_value() > b.bmc_window.has_value();
  });
  return out;
}

Result<std::vector<ScanReport>> clock_inputs_from_catalog(Catalog& catalog, int64_t now) {
  auto images = catalog.list_images();
  if (!images) return images.error();
  CertFilter filter;
  filter.now = now;
  auto certs = catalog.certificates(filter);
  if (!certs) return certs.error();
  std::map<std::string, ScanReport> by_image;
  for (const ImageRow& img : *images) {
    ScanReport& r = by_image[img.meta.path];
    r.input = img.meta.path;
    r.sha256 = img.meta.sha256;
    r.size = img.meta.size;
    r.now = now;
  }
  for (const CertEntry& e : *certs) {
    std::map<std::string, CertRecord> per_image;
    for (const Placement& p : e.placements) {
      CertRecord& rec = per_image[p.image_path];
      rec.cert = e.cert;
      rec.locations.push_back(p.location);
      for (const auto& role : p.roles)
        if (std::find(rec.roles.begin(), rec.roles.end(), role) == rec.roles.end()) rec.roles.push_back(role);
    }
    for (auto& [path, rec] : per_image) {
      std::optional<int64_t> days;
      rec.status = judge_certificate(rec.cert, now, 90, days);
      rec.days_left = days;
      by_image[path].certificates.push_back(std::move(rec));
    }
  }
  std::vector<ScanReport> out;
  for (auto& [path, r] : by_image) out.push_back(std::move(r));
  return out;
}

}  // namespace fwcert
