#include "fwcert/report/metrics.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "fwcert/report/text.hpp"

namespace fwcert {

namespace {

struct Family {
  const char* name;
  const char* help;
};

constexpr Family kFamilies[] = {
    {"fwcert_clock_seconds", "The clock every judgement used, in unix seconds."},
    {"fwcert_input_readable", "1 when the input could be read, 0 when it could not (nothing else is known of it)."},
    {"fwcert_scan_problems", "Problems met while scanning the input (damaged or unreadable parts)."},
    {"fwcert_image_scan_clock_seconds", "The clock the catalog's scan of the image judged with, in unix seconds."},
    {"fwcert_cert_not_before_seconds", "Certificate notBefore in unix seconds, one series per placement."},
    {"fwcert_cert_not_after_seconds", "Certificate notAfter in unix seconds, one series per placement."},
    {"fwcert_cert_expired", "1 when the certificate's notAfter is before the clock."},
    {"fwcert_cert_expiring", "1 when the certificate expires within the warning window after the clock."},
    {"fwcert_cert_not_yet_valid", "1 when the certificate's notBefore is after the clock."},
    {"fwcert_cert_invalid_date", "1 when a validity date of the certificate cannot be read."},
    {"fwcert_cert_private_key_shipped", "1 when the certificate's private key is in the same image."},
    {"fwcert_cert_key_compromised", "1 when the certificate's private key is public (known-compromised list)."},
    {"fwcert_private_key_shipped", "A private key shipped in the image, one series per placement."},
    {"fwcert_key_compromised", "1 when the shipped private key is public (known-compromised list)."},
};

using Labels = std::vector<std::pair<const char*, std::string>>;

// Samples grouped by family (the format wants each family's samples together), in the order of kFamilies.
class Exposition {
 public:
  void add(const char* family, const Labels& labels, double value) {
    std::string line = family;
    if (!labels.empty()) {
      line += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) line += ',';
        line += labels[i].first;
        line += "=\"" + prometheus_label_value(labels[i].second) + '"';
      }
      line += '}';
    }
    if (!seen_.insert(line).second) return;  // the same series twice (an input given twice)
    char buf[40];
    if (value == static_cast<double>(static_cast<int64_t>(value)))
      std::snprintf(buf, sizeof buf, " %lld", static_cast<long long>(value));
    else
      std::snprintf(buf, sizeof buf, " %.17g", value);
    samples_[family] += line + buf + "\n";
  }
  std::string text() const {
    std::string out;
    for (const auto& f : kFamilies) {
      auto it = samples_.find(f.name);
      if (it == samples_.end()) continue;
      out += std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " gauge\n" + it->second;
    }
    return out;
  }

 private:
  std::map<std::string, std::string> samples_;
  std::set<std::string> seen_;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The issuer's CN from its one-liner (x509.cpp's name_text: "C=US, O=Example, CN=Example CA", RFC 2253 escapes such
// as "\\," inside values): the last CN, the most specific one, as the subject's common_name. "" when none.
std::string issuer_cn(const Certificate& c) {
  const std::string& s = c.issuer;
  std::string found, cur;
  bool have = false;
  const auto end_rdn = [&] {
    if (cur.rfind("CN=", 0) == 0) found = cur.substr(3), have = true;
    cur.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      cur += s[++i];  // an escaped character is part of the value
    } else if (s[i] == ',' || s[i] == '+') {
      end_rdn();
      while (i + 1 < s.size() && s[i + 1] == ' ') ++i;
    } else {
      cur += s[i];
    }
  }
  end_rdn();
  return have ? found : std::string();
}

struct CertFacts {
  const Certificate* cert;
  CertStatus status;
  bool key_shipped;
  std::string compromised;  // source, or ""
};

void add_cert(Exposition& e, const CertFacts& f, const std::string& image, const std::string& location,
              const std::vector<std::string>& roles) {
  const Certificate& c = *f.cert;
  const Labels labels = {{"image", image},           {"location", location},       {"sha256", c.sha256},
                         {"serial_number", c.serial}, {"subject_cn", c.common_name}, {"issuer_cn", issuer_cn(c)},
                         {"role", join(roles)}};
  if (c.not_before.unix) e.add("fwcert_cert_not_before_seconds", labels, static_cast<double>(*c.not_before.unix));
  if (c.not_after.unix) e.add("fwcert_cert_not_after_seconds", labels, static_cast<double>(*c.not_after.unix));
  e.add("fwcert_cert_expired", labels, f.status == CertStatus::Expired);
  e.add("fwcert_cert_expiring", labels, f.status == CertStatus::Expiring);
  e.add("fwcert_cert_not_yet_valid", labels, f.status == CertStatus::NotYetValid);
  e.add("fwcert_cert_invalid_date", labels, f.status == CertStatus::InvalidDate);
  e.add("fwcert_cert_private_key_shipped", labels, f.key_shipped);
  Labels with_source = labels;
  with_source.emplace_back("source", f.compromised);
  e.add("fwcert_cert_key_compromised", with_source, !f.compromised.empty());
}

void add_key(Exposition& e, const std::string& image, const std::string& location, const std::string& spki,
             const std::string& format, bool encrypted, const std::vector<std::string>& roles,
             const std::string& compromised) {
  const Labels labels = {{"image", image},   {"location", location},
                         {"spki_sha256", spki}, {"format", format},
                         {"encrypted", encrypted ? "true" : "false"}, {"role", join(roles)}};
  e.add("fwcert_private_key_shipped", labels, 1);
  Labels with_source = labels;
  with_source.emplace_back("source", compromised);
  e.add("fwcert_key_compromised", with_source, !compromised.empty());
}

// The source in "private key is public (SOURCE)", or "".
std::string compromised_source(const std::vector<std::string>& anomalies) {
  for (const auto& a : anomalies)
    if (is_compromised_anomaly(a) && a.size() > 1) {
      const size_t open = a.find('(');
      return a.substr(open + 1, a.size() - open - 2);
    }
  return {};
}

}  // namespace

std::string prometheus_label_value(std::string_view raw) {
  const std::string s = valid_utf8(raw);
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '"') out += "\\\"";
    else if (ch == '\n') out += "\\n";
    else out += ch;
  }
  return out;
}

std::string scan_to_prometheus(const std::vector<ScanReport>& reports, const std::vector<UnreadableInput>& unreadable) {
  Exposition e;
  if (!reports.empty()) e.add("fwcert_clock_seconds", {}, static_cast<double>(reports.front().now));
  for (const auto& r : reports) {
    e.add("fwcert_input_readable", {{"image", r.input}}, 1);
    e.add("fwcert_scan_problems", {{"image", r.input}}, static_cast<double>(r.problems.size()));
    for (const auto& c : r.certificates) {
      const CertFacts f{&c.cert, c.status, !c.private_keys.empty(), compromised_source(c.anomalies)};
      for (const auto& loc : c.locations) add_cert(e, f, r.input, loc, c.roles);
    }
    for (const auto& k : r.keys)
      add_key(e, r.input, k.location, k.spki_sha256, k.format, k.encrypted, k.roles, compromised_source(k.anomalies));
  }
  for (const auto& u : unreadable) e.add("fwcert_input_readable", {{"image", u.path}}, 0);
  return e.text();
}

std::string catalog_to_prometheus(const std::vector<ImageRow>& images, const std::vector<CertEntry>& certs,
                                  const std::vector<SharedKey>& keys, const CompromisedKeys* compromised, int64_t now) {
  Exposition e;
  e.add("fwcert_clock_seconds", {}, static_cast<double>(now));
  for (const auto& im : images) {
    e.add("fwcert_input_readable", {{"image", im.meta.path}}, 1);
    e.add("fwcert_image_scan_clock_seconds", {{"image", im.meta.path}}, static_cast<double>(im.now_used));
  }
  // Which images ship the private key of which public key: a certificate's key is shipped where a key with its SPKI is.
  std::set<std::pair<std::string, std::string>> key_in_image;  // (spki, image)
  for (const auto& k : keys)
    for (const auto& p : k.placements) key_in_image.emplace(k.spki_sha256, p.image_path);
  for (const auto& c : certs) {
    const CompromisedKey* ck = compromised ? compromised->find(c.cert.spki_sha256) : nullptr;
    for (const auto& p : c.placements) {
      const bool shipped = !c.cert.spki_sha256.empty() && key_in_image.count({c.cert.spki_sha256, p.image_path});
      const CertFacts f{&c.cert, c.status, shipped, ck ? ck->source : std::string()};
      add_cert(e, f, p.image_path, p.location, p.roles);
    }
  }
  for (const auto& k : keys) {
    const CompromisedKey* ck = compromised ? compromised->find(k.spki_sha256) : nullptr;
    for (const auto& p : k.placements)
      add_key(e, p.image_path, p.location, k.spki_sha256, p.format, p.encrypted, p.roles, ck ? ck->source : "");
  }
  return e.text();
}

}  // namespace fwcert
