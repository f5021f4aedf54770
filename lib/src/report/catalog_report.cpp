// Catalog answers as typed tables (see catalog_report.hpp; the JSON layout is docs/catalog-json.md).
#include "fwcert/report/catalog_report.hpp"

#include <algorithm>
#include <cstdio>

#include "fwcert/core/civil_time.hpp"
#include "fwcert/report/text.hpp"

#ifndef FWCERT_VERSION
#define FWCERT_VERSION "0.0.0"
#endif

namespace fwcert {
namespace {

using json = nlohmann::json;

// An empty text is an unknown value (no vendor, no CN, no roles file named it): null, not "".
CatalogCell text_or_null(const std::string& s) { return s.empty() ? CatalogCell{} : CatalogCell{s}; }
CatalogCell time_or_null(std::optional<int64_t> t) { return t ? CatalogCell{rfc3339_utc(*t)} : CatalogCell{}; }
CatalogCell number(int64_t v) { return CatalogCell{v}; }

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string key_text(const KeyDesc& k) {
  std::string s = k.algorithm;
  if (k.bits > 0) s += (s.empty() ? "" : " ") + std::to_string(k.bits);
  if (!k.curve.empty()) s += (s.empty() ? "" : " ") + k.curve;
  return s;
}

json cell_json(const CatalogCell& c) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, std::string>) {
          return valid_utf8(v);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          json a = json::array();
          for (const auto& s : v) a.push_back(valid_utf8(s));
          return a;
        } else {
          return v;
        }
      },
      c);
}

// The cell as CSV or table text, and whether it is text from outside (the only cells a formula guard applies to).
std::string cell_text(const CatalogCell& c, bool& is_text) {
  is_text = false;
  if (std::holds_alternative<int64_t>(c)) return std::to_string(std::get<int64_t>(c));
  if (std::holds_alternative<bool>(c)) return std::get<bool>(c) ? "true" : "false";
  is_text = true;
  if (std::holds_alternative<std::string>(c)) return std::get<std::string>(c);
  if (std::holds_alternative<std::vector<std::string>>(c)) return join(std::get<std::vector<std::string>>(c), "; ");
  return "";
}

}  // namespace

CatalogTable catalog_images_table(const std::vector<ImageRow>& images) {
  CatalogTable t;
  t.query = "list";
  t.rows_name = "images";
  t.columns = {{"path"},          {"vendor"},         {"board"},        {"version"},
               {"release_date", false}, {"size"},     {"sha256"},       {"certificates"},
               {"keys"},          {"problems", false}, {"scanned_at"},  {"now_used", false},
               {"warn_days", false}};
  for (const auto& im : images)
    t.rows.push_back({im.meta.path, text_or_null(im.meta.vendor), text_or_null(im.meta.board),
                      text_or_null(im.meta.version), text_or_null(im.meta.date),
                      number(static_cast<int64_t>(im.meta.size)), text_or_null(im.meta.sha256),
                      number(im.certificates), number(im.keys), number(im.problems), rfc3339_utc(im.scanned_at),
                      rfc3339_utc(im.now_used), number(im.warn_days)});
  return t;
}

CatalogTable catalog_certs_table(const std::vector<CertEntry>& certs, int64_t now, int warn_days) {
  CatalogTable t;
  t.query = "certs";
  t.rows_name = "certificates";
  t.context = {{"now", rfc3339_utc(now)}, {"now_unix", now}, {"warn_days", warn_days}};
  t.columns = {{"status"},           {"not_after"},          {"days_left"},
               {"common_name"},      {"images"},             {"roles"},
               {"sha256"},           {"not_before", false},  {"not_after_raw", false},
               {"no_expiry", false}, {"subject", false},     {"issuer", false},
               {"serial", false},    {"key_algorithm", false}, {"key_bits", false},
               {"key_curve", false}, {"signature_algorithm", false}, {"self_signed", false},
               {"is_ca", false},     {"spki_sha256", false}, {"anomalies", false},
               {"aliases", false}};
  for (const auto& e : certs) {
    const Certificate& c = e.cert;
    t.rows.push_back({std::string(to_string(e.status)), time_or_null(c.not_after.unix),
                      e.days_left ? number(*e.days_left) : CatalogCell{}, text_or_null(c.common_name),
                      number(e.image_count), e.roles, c.sha256, time_or_null(c.not_before.unix),
                      text_or_null(c.not_after.raw), c.not_after.no_expiry, text_or_null(c.subject),
                      text_or_null(c.issuer), text_or_null(c.serial), text_or_null(c.key.algorithm),
                      c.key.bits > 0 ? number(c.key.bits) : CatalogCell{}, text_or_null(c.key.curve),
                      text_or_null(c.signature_algorithm), c.self_signed, c.is_ca, text_or_null(c.spki_sha256),
                      e.anomalies, e.aliases});
  }
  return t;
}

CatalogTable catalog_where_table(const std::string& sha256, const std::vector<Placement>& placements) {
  CatalogTable t;
  t.query = "where";
  t.rows_name = "placements";
  t.context = {{"sha256", valid_utf8(sha256)}};
  t.columns = {{"image"}, {"location"}, {"aliases"}, {"roles"}};
  for (const auto& p : placements) t.rows.push_back({p.image_path, p.location, p.aliases, p.roles});
  return t;
}

static std::vector<std::string> key_findings(const SharedKey& k, const CompromisedKeys* compromised) {
  std::vector<std::string> out;
  if (const CompromisedKey* ck = compromised ? compromised->find(k.spki_sha256) : nullptr)
    out.push_back(compromised_anomaly(*ck));
  if (k.vendor_count > 1) out.push_back("in images of " + std::to_string(k.vendor_count) + " vendors");
  return out;
}

CatalogTable catalog_keys_table(const std::vector<SharedKey>& keys, const CompromisedKeys* compromised) {
  CatalogTable t;
  t.query = "keys";
  t.rows_name = "keys";
  t.columns = {{"public_key_sha256"}, {"key"},          {"images"},          {"image"},
               {"location"},          {"alias"},        {"roles"},           {"findings"},
               {"algorithm", false},  {"bits", false},  {"curve", false},    {"format", false},
               {"encrypted", false},  {"certificates", false}, {"vendors", false}};
  for (const auto& k : keys) {
    const std::vector<std::string> findings = key_findings(k, compromised);
    for (const auto& p : k.placements)
      t.rows.push_back({k.spki_sha256, text_or_null(key_text(k.key)), number(k.image_count), p.image_path,
                        p.location, text_or_null(p.alias), p.roles, findings, text_or_null(k.key.algorithm),
                        k.key.bits > 0 ? number(k.key.bits) : CatalogCell{}, text_or_null(k.key.curve),
                        text_or_null(p.format), p.encrypted, k.certificates, number(k.vendor_count)});
  }
  return t;
}

json catalog_to_json(const CatalogTable& table) {
  json doc = {{"tool", "fwcert"},
              {"version", FWCERT_VERSION},
              {"format_version", kCatalogJsonFormatVersion},
              {"query", table.query}};
  for (const auto& [name, value] : table.context.items()) doc[name] = value;
  json rows = json::array();
  for (const auto& r : table.rows) {
    json o = json::object();
    for (size_t i = 0; i < table.columns.size(); ++i)
      o[table.columns[i].name] = i < r.size() ? cell_json(r[i]) : json(nullptr);
    rows.push_back(std::move(o));
  }
  doc[table.rows_name] = std::move(rows);
  return doc;
}

void write_catalog_csv(std::ostream& out, const CatalogTable& table) {
  for (size_t i = 0; i < table.columns.size(); ++i) out << (i ? "," : "") << csv_field(table.columns[i].name, false);
  out << "\r\n";
  for (const auto& r : table.rows) {
    for (size_t i = 0; i < table.columns.size(); ++i) {
      bool is_text = false;
      const std::string s = i < r.size() ? cell_text(r[i], is_text) : std::string();
      out << (i ? "," : "") << csv_field(s, is_text);  // numbers are ours: a formula guard would turn -4507 to '-4507
    }
    out << "\r\n";
  }
}

void write_catalog_text(std::ostream& out, const CatalogTable& table) {
  constexpr size_t kMax = 70;
  std::vector<size_t> shown;
  for (size_t i = 0; i < table.columns.size(); ++i)
    if (table.columns[i].in_table) shown.push_back(i);
  std::vector<std::vector<std::string>> lines;
  {
    std::vector<std::string> head;
    for (size_t i : shown) {
      std::string h = table.columns[i].name;
      std::transform(h.begin(), h.end(), h.begin(), [](char c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; });
      head.push_back(h);
    }
    lines.push_back(std::move(head));
  }
  for (const auto& r : table.rows) {
    std::vector<std::string> line;
    for (size_t i : shown) {
      bool is_text = false;
      std::string s = i < r.size() && !std::holds_alternative<std::monostate>(r[i]) ? display(cell_text(r[i], is_text))
                                                                                     : "-";
      s = table.columns[i].name == "location" || table.columns[i].name == "path" || table.columns[i].name == "image"
              ? fit_middle(s, kMax)  // both the image and the file name survive
              : fit_end(s, kMax);
      line.push_back(std::move(s));
    }
    lines.push_back(std::move(line));
  }
  std::vector<size_t> w(shown.size(), 0);
  for (const auto& l : lines)
    for (size_t c = 0; c < l.size(); ++c) w[c] = std::max(w[c], display_width(l[c]));
  for (const auto& l : lines) {
    std::string text;
    for (size_t c = 0; c < l.size(); ++c) {
      text += l[c];
      if (c + 1 < l.size()) text += std::string(w[c] - display_width(l[c]) + 2, ' ');
    }
    out << text << "\n";
  }
}

void write_catalog(std::ostream& out, const CatalogTable& table, const std::string& format) {
  if (format == "json") {
    out << dump_json(catalog_to_json(table)) << "\n";
  } else if (format == "csv") {
    write_catalog_csv(out, table);
  } else {
    write_catalog_text(out, table);
  }
}

}  // namespace fwcert
