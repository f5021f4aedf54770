// Answers of the catalog queries (catalog list, certs, where, keys) for people and for tools: one typed table per
// query, written as a padded table, RFC 4180 CSV or a JSON document (docs/catalog-json.md).
//
// Cells are typed so that each format can do the right thing: JSON gives numbers as numbers, lists as arrays and
// unknown values as null; CSV guards text cells against spreadsheet formulas but leaves numbers alone (-4507 stays
// -4507); the table escapes control characters and invalid UTF-8 as \xNN so that nothing from a firmware image
// reaches the terminal raw.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/compromised.hpp"

namespace fwcert {

// Version of the JSON layout of catalog answers ("format_version"); bumped on incompatible changes only.
inline constexpr int kCatalogJsonFormatVersion = 1;

// One cell: unknown (null), a number, a flag, a text, or a list of texts.
using CatalogCell = std::variant<std::monostate, int64_t, bool, std::string, std::vector<std::string>>;

struct CatalogColumn {
  std::string name;
  bool in_table = true;  // false: only in CSV and JSON (details that would make the table too wide)
};

struct CatalogTable {
  std::string query;                  // "list", "certs", "where", "keys"
  std::string rows_name;              // the JSON member holding the rows: "images", "certificates", "placements", "keys"
  std::vector<CatalogColumn> columns;
  std::vector<std::vector<CatalogCell>> rows;  // each as long as columns
  nlohmann::json context = nlohmann::json::object();  // extra top-level JSON members (the clock, the certificate asked)
};

// catalog list: one row per image.
CatalogTable catalog_images_table(const std::vector<ImageRow>& images);
// catalog certs: one row per certificate, judged at `now` with `warn_days` (the filter the entries came from).
CatalogTable catalog_certs_table(const std::vector<CertEntry>& certs, int64_t now, int warn_days);
// catalog where: one row per placement of the certificate `sha256`.
CatalogTable catalog_where_table(const std::string& sha256, const std::vector<Placement>& placements);
// catalog keys: one row per placement of each private key given (shared ones, or with --compromised the listed ones).
// FINDINGS: "private key is public (SOURCE)" when `compromised` (may be nullptr) lists it, and "in images of N
// vendors" when images of more than one vendor ship it.
CatalogTable catalog_keys_table(const std::vector<SharedKey>& keys, const CompromisedKeys* compromised = nullptr);

// {"tool", "version", "format_version", "query", <context...>, <rows_name>: [{column: value, ...}, ...]}.
nlohmann::json catalog_to_json(const CatalogTable& table);
// RFC 4180, CRLF line ends, a header row with every column. Lists are joined with "; ".
void write_catalog_csv(std::ostream& out, const CatalogTable& table);
// For people: the in_table columns, padded, upper-case header; null cells show as "-", lists joined with "; ",
// cells longer than 70 columns cut with "...".
void write_catalog_text(std::ostream& out, const CatalogTable& table);
// format: "json", "csv", anything else the text table.
void write_catalog(std::ostream& out, const CatalogTable& table, const std::string& format);

}  // namespace fwcert
