// A live BMC judged at two clocks: ours (--now) and the BMC's own (now + the skew it reported).
#include "fwcert/live/check.hpp"

#include <algorithm>
#include <atomic>
#include <ostream>
#include <thread>

#include "fwcert/certs/clock.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/report/metrics.hpp"

namespace fwcert {

namespace {

// "3d 0h 0m" for people; the seconds are printed next to it.
std::string duration_text(int64_t seconds) {
  const bool neg = seconds < 0;
  uint64_t s = neg ? 0 - static_cast<uint64_t>(seconds) : static_cast<uint64_t>(seconds);
  std::string out;
  if (s >= 86400) out = std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
  else if (s >= 3600) out = std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  else if (s >= 60) out = std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  else out = std::to_string(s) + "s";
  return out;
}

std::string skew_text(int64_t skew) {
  if (skew == 0) return "0 s (in step)";
  return (skew > 0 ? "+" : "") + std::to_string(skew) + " s (" + duration_text(skew) +
         (skew < 0 ? " behind)" : " ahead)");
}

bool bad(CertStatus s) { return s != CertStatus::Valid; }

std::string window_text(const Certificate& c) {
  auto t = [](const TimeValue& v) { return v.unix ? rfc3339(*v.unix) : "unreadable (" + v.raw + ")"; };
  return t(c.not_before) + " .. " + t(c.not_after);
}

std::string status_sentence(CertStatus s, const Certificate& c) {
  switch (s) {
    case CertStatus::NotYetValid: return "not yet valid (notBefore " + rfc3339(c.not_before.unix.value_or(0)) + ")";
    case CertStatus::Expired: return "expired (notAfter " + rfc3339(c.not_after.unix.value_or(0)) + ")";
    case CertStatus::Expiring: return "expiring (notAfter " + rfc3339(c.not_after.unix.value_or(0)) + ")";
    case CertStatus::InvalidDate: return "has an unreadable date";
    case CertStatus::Valid: return "valid";
  }
  return "";
}

std::string origin_text(const ServedCert& s, bool catalog_used, bool leaf) {
  if (!catalog_used) return "no catalog consulted (--db)";
  if (s.placements.empty())
    return leaf ? "not from any catalogued firmware: replaced or generated on the device"
                : "not in any catalogued firmware";
  const Placement& p = s.placements.front();
  std::string text = "serves the certificate shipped in " + p.image_path + " at " + p.location;
  if (s.placements.size() > 1) text += " (and " + std::to_string(s.placements.size() - 1) + " more placements)";
  return text;
}

void add_finding(HostCheck& h, std::string tag, std::string text) {
  h.finding_tags.push_back(std::move(tag));
  h.findings.push_back(std::move(text));
}

const BmcClock* clock_used(const HostCheck& h) {
  if (h.redfish && h.redfish->ok && h.redfish->bmc_time) return &*h.redfish;
  if (h.ipmi && h.ipmi->ok && h.ipmi->bmc_time) return &*h.ipmi;
  return nullptr;
}

}  // namespace

HostCheck run_host_check(const HostSpec& spec, const CheckOptions& o) {
  HostCheck h;
  h.spec = spec;
  h.probe = probe_tls(spec.endpoint, o.probe);
  if (!spec.redfish_url.empty()) h.redfish = read_redfish_clock(spec.redfish_url, o.redfish);
  if (spec.ipmi) h.ipmi = read_ipmi_clock(*spec.ipmi, o.ipmi);
  return h;
}

namespace {

// The firmware's own model (analyze_clock) at the BMC's clock, for the image(s) the served leaf came from.
void judge_firmware_at_bmc_clock(HostCheck& h, Catalog& catalog, const CheckOptions& o, FirmwareClockModels& models) {
  if (!h.skew || h.served.empty() || h.served.front().placements.empty()) return;
  if (!models.loaded) {
    models.loaded = true;
    auto images = clock_inputs_from_catalog(catalog, o.probe.now);
    if (images) models.images = std::move(*images);
    else models.error = images.error().message;
  }
  if (!models.error.empty()) {
    h.notes.push_back("the firmware's clock model could not be read from the catalog: " + models.error);
    return;
  }
  std::vector<std::string> seen;
  for (const Placement& p : h.served.front().placements) {
    if (std::find(seen.begin(), seen.end(), p.image_path) != seen.end()) continue;
    seen.push_back(p.image_path);
    auto it = std::find_if(models.images.begin(), models.images.end(),
                           [&](const ScanReport& r) { return r.input == p.image_path; });
    if (it == models.images.end()) continue;
    ClockOptions co;
    co.now = o.probe.now;
    co.bmc_clock = o.probe.now + *h.skew;
    ClockReport cr = analyze_clock(*it, co);
    for (const ServiceClock& svc : cr.services) {
      for (const CertVerdict& v : svc.certificates) {
        if (v.verifier != Verifier::Bmc) continue;
        std::string line = p.image_path + ": " + svc.service + ": " + v.label + " (" +
                           std::string(to_string(v.status)) + " at the BMC clock " + rfc3339(*co.bmc_clock) + ")";
        h.bmc_verified.push_back(line);
        if (v.status != CertStatus::Valid) {
          const std::string alert = v.tls_alert ? " alert " + std::to_string(*v.tls_alert) : "";
          add_finding(h, svc.service + (alert.empty() ? " fails" : alert) + " at BMC clock",
                      "firmware " + p.image_path + ", " + svc.service + ": " +
                          (v.sentence.empty() ? line : v.sentence) +
                          (alert.empty() ? "" : " (" + v.sender + " sends" + alert + " " + v.alert_name + ")"));
        }
      }
      if (svc.bmc_window && svc.bmc_window->from && svc.bmc_window->until && !svc.bmc_window->empty) {
        const int64_t bmc = *co.bmc_clock, from = *svc.bmc_window->from, until = *svc.bmc_window->until;
        std::string line = p.image_path + ": " + svc.service + ": safe BMC clock window " + rfc3339(from) + " .. " +
                           rfc3339(until);
        if (bmc < from) line += ": the BMC clock is " + duration_text(from - bmc) + " before it (fails now)";
        else if (bmc > until) line += ": the BMC clock is " + duration_text(bmc - until) + " after it (fails now)";
        else
          line += ": fails if the BMC clock falls " + duration_text(bmc - from) + " further behind or runs " +
                  duration_text(until - bmc) + " ahead";
        h.bmc_verified.push_back(line);
      }
    }
  }
}

}  // namespace

void judge_host_check(HostCheck& h, Catalog* catalog, const CheckOptions& o, FirmwareClockModels* models) {
  const int64_t now = o.probe.now;
  h.catalog_used = catalog != nullptr;
  h.served.clear();
  h.findings.clear();
  h.notes.clear();
  h.finding_tags.clear();
  h.unreachable = h.probe.chain.empty();
  const BmcClock* clock = clock_used(h);
  if (clock) h.skew = clock->skew;

  for (const BmcClock* c : {h.redfish ? &*h.redfish : nullptr, h.ipmi ? &*h.ipmi : nullptr}) {
    if (!c) continue;
    if (!c->ok) {
      std::string text = "BMC clock unreadable (" + c->source + "): " + c->error;
      if (h.unreachable) h.notes.push_back(std::move(text));
      else add_finding(h, "BMC clock unreadable", std::move(text));
    } else if (c->never_set) {
      add_finding(h, "BMC clock not set",
                  "BMC clock not set: every certificate is judged at an unknown time (" + c->source +
                           " reports SEL time " + c->raw + ", seconds since the BMC started)");
    } else if (c->skew > o.max_skew || c->skew < -o.max_skew) {
      add_finding(h, "skew " + std::to_string(c->skew) + " s",
                  "BMC clock off by " + skew_text(c->skew) + " (" + c->source + "): above the " +
                           std::to_string(o.max_skew) + " s limit; check the BMC's time source (NTP, UDP 123 from "
                           "the management network), not the certificates");
    }
  }

  for (size_t i = 0; i < h.probe.chain.size(); ++i) {
    ServedCert s;
    s.cert = h.probe.chain[i];
    s.status = judge_certificate(s.cert, now, o.warn_days, s.days_left);
    if (clock) {
      s.bmc_clock = now + clock->skew;
      std::optional<int64_t> ignored;
      s.bmc_status = judge_certificate(s.cert, *s.bmc_clock, o.warn_days, ignored);
      if (s.cert.not_before.unix) s.margin_behind = *s.bmc_clock - *s.cert.not_before.unix;
      if (s.cert.not_after.unix) s.margin_ahead = *s.cert.not_after.unix - *s.bmc_clock;
    }
    if (catalog) {
      if (auto w = catalog->where(s.cert.sha256)) s.placements = std::move(*w);
      // The plainest copy first: a file of the filesystem (/etc/stunnel/server.crt) before one inside a jar.
      auto depth = [](const Placement& p) { return std::count(p.location.begin(), p.location.end(), '!'); };
      std::stable_sort(s.placements.begin(), s.placements.end(),
                       [&](const Placement& a, const Placement& b) { return depth(a) < depth(b); });
    }
    const std::string who = (i == 0 ? "served certificate " : "served chain certificate ") + s.cert.common_name;
    if (bad(s.status))
      add_finding(h, "certificate " + std::string(to_string(s.status)),
                  who + " is " + status_sentence(s.status, s.cert) + " at " + rfc3339(now));
    if (s.bmc_status && bad(*s.bmc_status) && *s.bmc_status != s.status) {
      std::string why = *s.bmc_status == CertStatus::NotYetValid
                            ? ": anything on the BMC that checks it at its own clock refuses it (OpenSSL sends alert "
                              "42 bad_certificate); fix the BMC clock, not the certificate"
                        : *s.bmc_status == CertStatus::Expired
                            ? ": anything on the BMC that checks it at its own clock refuses it (alert 45 "
                              "certificate_expired); fix the BMC clock, not the certificate"
                            : "";
      add_finding(h, std::string(to_string(*s.bmc_status)) + " at BMC clock",
                  who + " is " + status_sentence(*s.bmc_status, s.cert) + " at the BMC's clock " +
                           rfc3339(*s.bmc_clock) + ", though " + std::string(to_string(s.status)) + " at ours" + why);
    }
    h.served.push_back(std::move(s));
  }
  if (catalog && !h.served.empty() && h.served.front().placements.empty()) h.unknown_firmware = true;
  h.bmc_verified.clear();
  if (catalog && models) judge_firmware_at_bmc_clock(h, *catalog, o, *models);
  if (h.probe.error == ProbeError::Alert && h.probe.client_cert_offered) {
    // The Supermicro iKVM lesson: an OpenSSL server refuses a client certificate that is not yet valid at its own
    // clock with 42 bad_certificate (X509_V_ERR_CERT_NOT_YET_VALID), an expired one with 45.
    std::string hint = h.probe.alert == 42   ? ": an OpenSSL server sends 42 when the client certificate is not yet "
                                               "valid at ITS clock; if the certificate is valid at ours, the BMC clock "
                                               "is before its notBefore: fix the BMC clock (NTP), not the certificate"
                       : h.probe.alert == 45 ? ": the client certificate is expired at the server's clock; if it is "
                                               "valid at ours, the BMC clock is after its notAfter"
                                             : "";
    add_finding(h, "client certificate refused (alert " + std::to_string(h.probe.alert) + ")",
                "the server refused the client certificate: " + h.probe.message + hint);
  } else if (h.probe.error == ProbeError::Alert && !h.probe.chain.empty()) {
    h.notes.push_back("the handshake ended with " + h.probe.message);
  }
  if (!h.probe.chain.empty() && !h.probe.verified)
    h.notes.push_back("the served chain does not verify against " + h.probe.verified_against + ": " +
                      h.probe.verify_error);
}

void write_host_check_text(std::ostream& out, const HostCheck& h, const CheckOptions& o) {
  out << to_string(h.spec.endpoint);
  if (!h.spec.label.empty()) out << "  (" << h.spec.label << ")";
  if (!h.probe.address.empty() && h.probe.address != h.spec.endpoint.host) out << "  address " << h.probe.address;
  out << "\n";
  if (h.probe.error != ProbeError::None) out << "  error: " << h.probe.message << "\n";
  if (!h.probe.chain.empty()) {
    out << "  tls:      " << h.probe.protocol << " " << h.probe.cipher
        << (h.probe.servername.empty() ? "" : ", servername " + h.probe.servername) << "\n";
    out << "  verify:   " << (h.probe.verified ? "OK" : "FAILED") << " against " << h.probe.verified_against << " at "
        << rfc3339(o.probe.now) << (h.probe.verified ? "" : ": " + h.probe.verify_error + " (" +
                                                            std::to_string(h.probe.verify_code) + ")")
        << "\n";
  }
  for (size_t i = 0; i < h.served.size(); ++i) {
    const ServedCert& s = h.served[i];
    out << "  [" << i << "] " << s.cert.subject << "\n";
    out << "      window   " << window_text(s.cert) << "\n";
    out << "      status   " << to_string(s.status) << " at " << rfc3339(o.probe.now);
    if (s.days_left) out << " (" << *s.days_left << " days left)";
    out << "\n      sha256   " << s.cert.sha256 << "\n";
    out << "      origin   " << origin_text(s, h.catalog_used, &s == &h.served.front()) << "\n";
    if (!s.placements.empty() && !s.placements.front().roles.empty()) {
      std::string roles;
      for (const auto& r : s.placements.front().roles) roles += (roles.empty() ? "" : "; ") + r;
      out << "      roles    " << roles << "\n";
    }
    if (s.bmc_status) {
      out << "      at BMC   " << to_string(*s.bmc_status) << " at " << rfc3339(*s.bmc_clock);
      if (s.margin_behind && s.margin_ahead) {
        if (*s.margin_behind < 0) out << ": fails now, " << duration_text(-*s.margin_behind) << " before notBefore";
        else if (*s.margin_ahead < 0) out << ": fails now, " << duration_text(-*s.margin_ahead) << " after notAfter";
        else
          out << "; fails if the BMC clock falls " << duration_text(*s.margin_behind) << " further behind or runs "
              << duration_text(*s.margin_ahead) << " ahead";
      }
      out << "\n";
    }
  }
  for (const BmcClock* c : {h.redfish ? &*h.redfish : nullptr, h.ipmi ? &*h.ipmi : nullptr}) {
    if (!c) continue;
    out << "  clock:    " << c->source << ": ";
    if (!c->ok) out << "unreadable: " << c->error;
    else if (c->never_set) out << "NOT SET (SEL time " << c->raw << ")";
    else {
      out << c->raw;
      if (!c->local_offset.empty()) out << " (local offset " << c->local_offset << ")";
      out << ", skew " << skew_text(c->skew);
      if (c->skew > o.max_skew || c->skew < -o.max_skew) out << "  WARNING: above --max-skew " << o.max_skew << " s";
    }
    out << "\n";
  }
  for (const auto& b : h.bmc_verified) out << "  firmware: " << b << "\n";
  for (const auto& n : h.notes) out << "  note:     " << n << "\n";
  for (const auto& f : h.findings) out << "  FINDING:  " << f << "\n";
}

nlohmann::json host_check_to_json(const HostCheck& h, const CheckOptions& o) {
  nlohmann::json j;
  j["endpoint"] = to_string(h.spec.endpoint);
  j["label"] = h.spec.label;
  j["address"] = h.probe.address;
  j["now"] = rfc3339(o.probe.now);
  j["error"] = std::string(to_string(h.probe.error));
  j["message"] = h.probe.message;
  if (h.probe.alert >= 0)
    j["alert"] = {{"number", h.probe.alert}, {"name", std::string(tls_alert_name(h.probe.alert))}};
  j["protocol"] = h.probe.protocol;
  j["cipher"] = h.probe.cipher;
  j["servername"] = h.probe.servername;
  j["verification"] = {{"verified", h.probe.verified},
                       {"code", h.probe.verify_code},
                       {"error", h.probe.verify_error},
                       {"against", h.probe.verified_against}};
  j["certificates"] = nlohmann::json::array();
  for (const ServedCert& s : h.served) {
    nlohmann::json c;
    c["subject"] = s.cert.subject;
    c["issuer"] = s.cert.issuer;
    c["sha256"] = s.cert.sha256;
    c["not_before"] = s.cert.not_before.unix ? rfc3339(*s.cert.not_before.unix) : s.cert.not_before.raw;
    c["not_after"] = s.cert.not_after.unix ? rfc3339(*s.cert.not_after.unix) : s.cert.not_after.raw;
    c["status"] = std::string(to_string(s.status));
    c["days_left"] = s.days_left ? nlohmann::json(*s.days_left) : nlohmann::json();
    if (s.bmc_status) {
      c["bmc_clock"] = rfc3339(*s.bmc_clock);
      c["bmc_status"] = std::string(to_string(*s.bmc_status));
      c["margin_behind_s"] = s.margin_behind ? nlohmann::json(*s.margin_behind) : nlohmann::json();
      c["margin_ahead_s"] = s.margin_ahead ? nlohmann::json(*s.margin_ahead) : nlohmann::json();
    }
    c["origin"] = origin_text(s, h.catalog_used, &s == &h.served.front());
    c["placements"] = nlohmann::json::array();
    for (const auto& p : s.placements)
      c["placements"].push_back({{"image", p.image_path}, {"location", p.location}, {"roles", p.roles}});
    j["certificates"].push_back(c);
  }
  auto clock_json = [](const BmcClock& c) {
    nlohmann::json k{{"source", c.source}, {"ok", c.ok}, {"error", c.error}, {"raw", c.raw},
                     {"local_offset", c.local_offset}, {"never_set", c.never_set}};
    if (c.bmc_time) {
      k["bmc_time"] = rfc3339(*c.bmc_time);
      k["local_time"] = rfc3339(c.local_time);
      k["skew_s"] = c.skew;
    }
    return k;
  };
  if (h.redfish) j["redfish"] = clock_json(*h.redfish);
  if (h.ipmi) j["ipmi"] = clock_json(*h.ipmi);
  j["findings"] = h.findings;
  j["notes"] = h.notes;
  j["bmc_verified"] = h.bmc_verified;
  j["unreachable"] = h.unreachable;
  j["unknown_firmware"] = h.unknown_firmware;
  return j;
}

std::vector<std::string> served_rows_header() {
  return {"endpoint", "index", "subject", "not_before", "not_after", "status", "bmc_status", "skew_s", "verified",
          "verify_error", "origin", "sha256", "error"};
}

std::vector<std::vector<std::string>> served_rows(const HostCheck& h) {
  std::vector<std::vector<std::string>> rows;
  const std::string ep = to_string(h.spec.endpoint);
  const std::string skew = h.skew ? std::to_string(*h.skew) : "";
  for (size_t i = 0; i < h.served.size(); ++i) {
    const ServedCert& s = h.served[i];
    rows.push_back({ep, std::to_string(i), s.cert.subject,
                    s.cert.not_before.unix ? rfc3339(*s.cert.not_before.unix) : s.cert.not_before.raw,
                    s.cert.not_after.unix ? rfc3339(*s.cert.not_after.unix) : s.cert.not_after.raw,
                    std::string(to_string(s.status)), s.bmc_status ? std::string(to_string(*s.bmc_status)) : "",
                    skew, h.probe.verified ? "yes" : "no", h.probe.verified ? "" : h.probe.verify_error,
                    origin_text(s, h.catalog_used, &s == &h.served.front()), s.cert.sha256, h.probe.message});
  }
  if (rows.empty()) rows.push_back({ep, "", "", "", "", "", "", skew, "", "", "", "", h.probe.message});
  return rows;
}

// --- fleet -------------------------------------------------------------------------------------------------------

namespace {

// RFC 4180 records; errors name the line.
Result<std::vector<std::pair<size_t, std::vector<std::string>>>> parse_csv(std::string_view text) {
  std::vector<std::pair<size_t, std::vector<std::string>>> records;
  std::vector<std::string> fields;
  std::string field;
  size_t line = 1, record_line = 1;
  bool quoted = false, after_quote = false, any = false;
  auto end_record = [&] {
    fields.push_back(std::move(field));
    field.clear();
    bool empty = fields.size() == 1 && fields[0].empty() && !any;
    if (!empty) records.emplace_back(record_line, std::move(fields));
    fields.clear();
    any = false;
    after_quote = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
          after_quote = true;
        }
      } else {
        if (ch == '\n') ++line;
        field += ch;
      }
      continue;
    }
    if (ch == '"' && field.empty() && !after_quote) {
      quoted = true;
      any = true;
    } else if (ch == ',') {
      fields.push_back(std::move(field));
      field.clear();
      after_quote = false;
      any = true;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      record_line = ++line;
    } else if (after_quote) {
      return make_error(i, "line " + std::to_string(line) + ": text after a closing quote");
    } else {
      field += ch;
      any = true;
    }
  }
  if (quoted) return make_error(text.size(), "line " + std::to_string(record_line) + ": unterminated quote");
  if (!field.empty() || !fields.empty() || any) end_record();
  return records;
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

Result<std::vector<HostSpec>> read_inventory_csv(std::string_view text) {
  auto records = parse_csv(text);
  if (!records) return records.error();
  std::vector<std::string> columns = {"host", "port", "redfish", "ipmi", "label"};
  std::vector<HostSpec> hosts;
  bool first = true;
  for (auto& record : *records) {
    const auto line = record.first;
    auto& fields = record.second;  // a reference, not a binding: clang 14 (the fuzz build) cannot capture bindings
    for (auto& f : fields) f = trim(f);
    if (!fields.empty() && !fields[0].empty() && fields[0][0] == '#') continue;
    if (first) {
      first = false;
      std::string f0 = fields[0];
      std::transform(f0.begin(), f0.end(), f0.begin(), ::tolower);
      if (f0 == "host") {
        columns.clear();
        for (auto f : fields) {
          std::transform(f.begin(), f.end(), f.begin(), ::tolower);
          columns.push_back(f);
        }
        continue;
      }
    }
    auto get = [&](const std::string& name) -> std::string {
      for (size_t i = 0; i < columns.size() && i < fields.size(); ++i)
        if (columns[i] == name) return fields[i];
      return "";
    };
    const std::string where = "line " + std::to_string(line) + ": ";
    HostSpec h;
    std::string host = get("host"), port = get("port");
    if (host.empty()) return make_error(0, where + "no host");
    auto ep = parse_endpoint(port.empty() ? host : (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                                       ":" + port);
    if (!ep) return make_error(0, where + ep.error().message);
    h.endpoint = *ep;
    h.redfish_url = get("redfish");
    if (!h.redfish_url.empty() && h.redfish_url.rfind("https://", 0) != 0)
      return make_error(0, where + "redfish URL must start with https://");
    if (std::string ipmi = get("ipmi"); !ipmi.empty()) {
      auto ie = parse_endpoint(ipmi, 623);
      if (!ie) return make_error(0, where + "ipmi: " + ie.error().message);
      h.ipmi = *ie;
    }
    h.label = get("label");
    hosts.push_back(std::move(h));
  }
  return hosts;
}

std::vector<HostCheck> run_fleet(const std::vector<HostSpec>& hosts, const CheckOptions& o, int jobs,
                                 Catalog* catalog) {
  std::vector<HostCheck> out(hosts.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < hosts.size(); i = next++) out[i] = run_host_check(hosts[i], o);
  };
  const size_t n = std::min<size_t>(hosts.size(), static_cast<size_t>(std::max(1, jobs)));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  FirmwareClockModels models;
  for (auto& h : out) judge_host_check(h, catalog, o, &models);  // the catalog connection is used by this thread only
  return out;
}

std::vector<std::string> fleet_rows_header() {
  return {"host", "label", "served_certificate", "status", "bmc_status", "firmware", "skew_s", "verdict", "details"};
}

bool fleet_host_fails(const HostCheck& h, const FleetPolicy& p) {
  if (h.unreachable) return p.fail_on_unreachable;
  return !h.findings.empty() || (p.fail_on_unknown && h.unknown_firmware);
}

std::vector<std::string> fleet_row(const HostCheck& h, const FleetPolicy& p) {
  std::string cert, status, bmc_status, firmware, verdict, details;
  if (!h.served.empty()) {
    const ServedCert& s = h.served.front();
    cert = s.cert.common_name + " (" + s.cert.sha256.substr(0, 12) + ")";
    status = std::string(to_string(s.status));
    if (s.bmc_status) bmc_status = std::string(to_string(*s.bmc_status));
    firmware = !h.catalog_used ? "" : s.placements.empty() ? "unknown" : s.placements.front().image_path;
  }
  // The verdict is short (one tag a finding), the details column has the sentences.
  std::vector<std::string> tags = h.finding_tags, texts = h.findings;
  if (p.fail_on_unknown && h.unknown_firmware) {
    tags.push_back("unknown firmware");
    texts.push_back("the served certificate is not from any catalogued firmware: replaced or generated on the device");
  }
  if (h.unreachable) {
    verdict = p.fail_on_unreachable ? "FINDING: unreachable" : "unreachable";
    details = h.probe.message;
  } else if (!tags.empty()) {
    verdict = "FINDING: ";
    for (size_t i = 0; i < tags.size(); ++i) verdict += (i ? "; " : "") + tags[i];
    for (size_t i = 0; i < texts.size(); ++i) details += (i ? " | " : "") + texts[i];
  } else {
    verdict = "ok";
  }
  return {to_string(h.spec.endpoint), h.spec.label, cert, status, bmc_status, firmware,
          h.skew ? std::to_string(*h.skew) : "", verdict, details};
}

namespace {

// One metric family: HELP, TYPE, then its samples (already formatted "name{labels} value" lines).
void family(std::string& out, const char* name, const char* help, const std::vector<std::string>& samples) {
  if (samples.empty()) return;
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
  for (const auto& line : samples) out += line + "\n";
}

std::string label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + prometheus_label_value(value) + "\"";
}

}  // namespace

std::string fleet_to_prometheus(const std::vector<HostCheck>& hosts, const FleetPolicy& policy) {
  std::vector<std::string> up, skew, not_set, findings, ok, not_after, not_yet;
  for (const auto& h : hosts) {
    const std::string who = label("host", to_string(h.spec.endpoint)) + "," + label("label", h.spec.label);
    up.push_back("fwcert_bmc_up{" + who + "} " + (h.unreachable ? "0" : "1"));
    for (const auto* c : {h.redfish ? &*h.redfish : nullptr, h.ipmi ? &*h.ipmi : nullptr}) {
      if (!c) continue;
      const std::string src = label("source", c->source.substr(0, c->source.find(' ')));
      if (c->never_set) not_set.push_back("fwcert_bmc_clock_not_set{" + who + "," + src + "} 1");
      else if (c->ok) skew.push_back("fwcert_bmc_clock_skew_seconds{" + who + "," + src + "} " + std::to_string(c->skew));
    }
    findings.push_back("fwcert_bmc_findings{" + who + "} " + std::to_string(h.findings.size()));
    ok.push_back("fwcert_bmc_ok{" + who + "} " + (fleet_host_fails(h, policy) ? "0" : "1"));
    if (h.served.empty()) continue;
    const ServedCert& leaf = h.served.front();
    const std::string firmware = !h.catalog_used ? "" : leaf.placements.empty() ? "unknown" : leaf.placements.front().image_path;
    const std::string cert = who + "," + label("sha256", leaf.cert.sha256) + "," +
                             label("subject_cn", leaf.cert.common_name) + "," + label("firmware", firmware);
    if (leaf.cert.not_after.unix)
      not_after.push_back("fwcert_served_cert_not_after_seconds{" + cert + "} " + std::to_string(*leaf.cert.not_after.unix));
    if (leaf.bmc_status)
      not_yet.push_back("fwcert_served_cert_not_yet_valid_at_bmc{" + cert + "} " +
                        (*leaf.bmc_status == CertStatus::NotYetValid ? "1" : "0"));
  }
  std::string out;
  family(out, "fwcert_bmc_up", "1 when a TLS handshake with the BMC got as far as its certificate.", up);
  family(out, "fwcert_bmc_clock_skew_seconds", "BMC clock minus the local clock, read over Redfish or IPMI.", skew);
  family(out, "fwcert_bmc_clock_not_set", "1 when the BMC's IPMI clock was never set (SEL time <= 0x20000000).",
         not_set);
  family(out, "fwcert_bmc_findings", "Findings of the fleet check for this BMC.", findings);
  family(out, "fwcert_bmc_ok", "1 when the BMC does not count against the fleet check's exit status.", ok);
  family(out, "fwcert_served_cert_not_after_seconds", "notAfter of the certificate the BMC serves, unix time.",
         not_after);
  family(out, "fwcert_served_cert_not_yet_valid_at_bmc", "1 when the served certificate is not yet valid at the "
         "BMC's own clock.", not_yet);
  return out;
}

}  // namespace fwcert
