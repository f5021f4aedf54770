// `fwcert clock` output: a table for people and JSON for tools.
#include "fwcert/report/clock_report.hpp"

#include <algorithm>
#include <cstdio>

#include "fwcert/core/civil_time.hpp"
#include "fwcert/report/text.hpp"

namespace fwcert {
namespace {

using nlohmann::json;

std::string utf8(std::string_view s) { return valid_utf8(s); }


std::string time_text(const TimeValue& t) {
  if (!t.unix) return "invalid date \"" + t.raw + "\"";
  if (t.no_expiry) return "no expiry (" + t.raw + ")";
  return rfc3339_utc(*t.unix);
}

std::string window_text(const ClockWindow& w) {
  if (w.empty) return "EMPTY: no BMC clock satisfies every certificate (latest notBefore " + rfc3339_utc(*w.from) +
                      " is after earliest notAfter " + rfc3339_utc(*w.until) + ")";
  std::string s = (w.from ? rfc3339_utc(*w.from) : std::string("(no lower bound)")) + " .. " +
                  (w.until ? rfc3339_utc(*w.until) : std::string("(no upper bound)"));
  if (!w.unreadable.empty())
    s += " (" + std::to_string(w.unreadable.size()) + " certificate(s) with unreadable dates not counted)";
  return s;
}

bool inside(const ClockWindow& w, int64_t t) {
  return !w.empty && (!w.from || t >= *w.from) && (!w.until || t <= *w.until);
}

json time_json(const TimeValue& t) {
  return {{"time", t.unix ? json(rfc3339_utc(*t.unix)) : json(nullptr)},
          {"unix", t.unix ? json(*t.unix) : json(nullptr)},
          {"raw", utf8(t.raw)},
          {"type", utf8(t.type)},
          {"no_expiry", t.no_expiry},
          {"error", t.error.empty() ? json(nullptr) : json(utf8(t.error))}};
}

json window_json(const std::optional<ClockWindow>& w) {
  if (!w) return nullptr;
  json unreadable = json::array();
  for (const auto& s : w->unreadable) unreadable.push_back(utf8(s));
  return {{"from", w->from ? json(rfc3339_utc(*w->from)) : json(nullptr)},
          {"from_unix", w->from ? json(*w->from) : json(nullptr)},
          {"from_sha256", w->from_sha256.empty() ? json(nullptr) : json(w->from_sha256)},
          {"until", w->until ? json(rfc3339_utc(*w->until)) : json(nullptr)},
          {"until_unix", w->until ? json(*w->until) : json(nullptr)},
          {"until_sha256", w->until_sha256.empty() ? json(nullptr) : json(w->until_sha256)},
          {"empty", w->empty},
          {"unreadable", unreadable}};
}

json margin_json(const std::optional<ClockWindow>& w, int64_t t) {
  if (!w) return nullptr;
  const auto m = window_margin(*w, t);
  return m ? json(*m) : json(nullptr);
}

json strings(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(utf8(s));
  return a;
}

json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(utf8(s)); }

}  // namespace

void write_clock_table(std::ostream& out, const std::vector<ClockReport>& reports) {
  bool first = true;
  for (const ClockReport& r : reports) {
    if (!first) out << "\n";
    first = false;
    out << display(r.input) << "\n";
    out << "  BMC clock:         " << rfc3339_utc(r.bmc_clock) << (r.bmc_clock_given ? " (--bmc-clock)" : " (= --now)")
        << "\n";
    out << "  workstation clock: " << rfc3339_utc(r.now) << " (--now)\n";
    for (const ServiceClock& s : r.services) {
      out << "\n  " << display(s.service);
      if (!s.endpoint.empty()) out << " (" << display(s.endpoint) << ")";
      if (!s.config.empty()) out << "  config " << display(s.config);
      out << "\n";
      if (s.bmc_window)
        out << "    safe BMC clock window: " << window_text(*s.bmc_window)
            << (inside(*s.bmc_window, r.bmc_clock) ? "  [BMC clock inside]" : "  [BMC clock OUTSIDE]") << "\n";
      else
        out << "    " << display(s.window_note) << "\n";
      for (const CertVerdict& v : s.certificates) {
        out << "    - " << to_string(v.status) << " at the " << clock_name(v.clock) << " "
            << rfc3339_utc(v.clock_value) << ": " << display(v.label);
        if (v.label.find("CN=") == std::string::npos) out << " (CN=" << display(v.common_name) << ")";
        out << "\n";
        out << "        valid " << time_text(v.not_before) << " .. " << time_text(v.not_after) << "\n";
        out << "        role: " << display(v.role);
        if (!v.config.empty()) out << "  [" << display(v.config) << "]";
        out << "\n";
        if (!v.presenter.empty()) out << "        presented by " << display(v.presenter) << "\n";
        out << "        verified by " << display(v.verifier_name.empty() ? "unknown" : v.verifier_name);
        if (v.verifier == Verifier::Bmc) out << " at the BMC clock";
        else if (v.verifier != Verifier::Unknown) out << ": the BMC clock does not break it";
        out << "\n";
        for (const auto& n : v.notes) out << "        note: " << display(n) << "\n";
        if (v.tls_alert)
          out << "        ALERT " << *v.tls_alert << " " << v.alert_name << " sent by " << v.sender << " ("
              << v.verify_error << ")\n";
        if (!v.sentence.empty()) out << "        " << display(v.sentence) << "\n";
        if (!v.locations.empty()) out << "        at " << display(v.locations.front()) << "\n";
        for (size_t i = 1; i < v.locations.size(); ++i) out << "           " << display(v.locations[i]) << "\n";
      }
    }
    out << "\n  image-wide safe BMC clock window: "
        << (r.bmc_window ? window_text(*r.bmc_window) : "none (the BMC verifies no certificate of this image)");
    if (r.bmc_window) out << (inside(*r.bmc_window, r.bmc_clock) ? "  [BMC clock inside]" : "  [BMC clock OUTSIDE]");
    out << "\n";
    // What fails, once per certificate and sentence (a certificate may sit in several services).
    for (const ClockKind k : {ClockKind::Bmc, ClockKind::Workstation}) {
      std::vector<std::string> seen;
      for (const ServiceClock& s : r.services)
        for (const CertVerdict& v : s.certificates) {
          if (v.clock != k || v.sentence.empty()) continue;
          const std::string key = v.sha256 + v.sentence;
          if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
          if (seen.empty())
            out << "  fails at the " << clock_name(k) << " " << rfc3339_utc(k == ClockKind::Bmc ? r.bmc_clock : r.now)
                << ":\n";
          seen.push_back(key);
          out << "    ";
          if (v.tls_alert) out << "alert " << *v.tls_alert << " " << v.alert_name << " from " << v.sender << ": ";
          out << display(v.sentence) << "\n";
        }
    }
    out << "  " << r.failing << (r.failing == 1 ? " judgement fails" : " judgements fail")
        << " at the verifier's clock (a certificate counts once per service)\n";
    for (const auto& p : r.problems) out << "  problem: " << display(p) << "\n";
  }
}

json clock_to_json(const std::vector<ClockReport>& reports) {
  json inputs = json::array();
  for (const ClockReport& r : reports) {
    json services = json::array();
    for (const ServiceClock& s : r.services) {
      json certs = json::array();
      for (const CertVerdict& v : s.certificates) {
        certs.push_back({{"sha256", utf8(v.sha256)},
                         {"subject", utf8(v.subject)},
                         {"common_name", utf8(v.common_name)},
                         {"label", utf8(v.label)},
                         {"locations", strings(v.locations)},
                         {"not_before", time_json(v.not_before)},
                         {"not_after", time_json(v.not_after)},
                         {"role", utf8(v.role)},
                         {"config", nullable(v.config)},
                         {"verifier", std::string(to_string(v.verifier))},
                         {"verifier_name", utf8(v.verifier_name)},
                         {"presenter", nullable(v.presenter)},
                         {"clock", std::string(clock_name(v.clock))},
                         {"clock_time", rfc3339_utc(v.clock_value)},
                         {"status", std::string(to_string(v.status))},
                         {"tls_alert", v.tls_alert ? json(*v.tls_alert) : json(nullptr)},
                         {"alert_name", nullable(v.alert_name)},
                         {"verify_error", nullable(v.verify_error)},
                         {"sender", nullable(v.sender)},
                         {"sentence", nullable(v.sentence)},
                         {"notes", strings(v.notes)},
                         {"in_bmc_window", v.in_window}});
      }
      services.push_back({{"service", utf8(s.service)},
                          {"endpoint", nullable(s.endpoint)},
                          {"config", nullable(s.config)},
                          {"bmc_window", window_json(s.bmc_window)},
                          {"bmc_clock_margin_seconds", margin_json(s.bmc_window, r.bmc_clock)},
                          {"window_note", nullable(s.window_note)},
                          {"certificates", certs}});
    }
    inputs.push_back({{"input", utf8(r.input)},
                      {"sha256", nullable(r.sha256)},
                      {"now", rfc3339_utc(r.now)},
                      {"bmc_clock", rfc3339_utc(r.bmc_clock)},
                      {"bmc_clock_given", r.bmc_clock_given},
                      {"services", services},
                      {"bmc_window", window_json(r.bmc_window)},
                      {"bmc_clock_margin_seconds", margin_json(r.bmc_window, r.bmc_clock)},
                      {"failing", r.failing},
                      {"problems", strings(r.problems)}});
  }
  return {{"tool", "fwcert clock"}, {"format_version", kClockJsonFormatVersion}, {"inputs", inputs}};
}

}  // namespace fwcert
