// The catalog on SQLite (see catalog.hpp for the schema and the guarantees). All SQL text below is constant: data only
// ever reaches SQLite through bound parameters.
#include "fwcert/catalog/catalog.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <set>
#include <unordered_map>
#include <utility>

#include "fwcert/certs/x509.hpp"
#include "fwcert/core/mapped_file.hpp"

namespace fwcert {
namespace {

// Version 2 added the JKS/JCEKS aliases (cert_aliases, private_keys.alias). A version 1 catalog is migrated when it is
// opened for writing; opened for queries it is read as it is, without aliases.
constexpr int kSchemaVersion = 2;
constexpr int kOldestReadable = 1;

// ---------------------------------------------------------------------------------------------------------------
// RAII around the C API.

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;

Error db_error(sqlite3* db, const std::string& what) {
  return make_error(0, "catalog: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

CatalogStatus ok() { return std::monostate{}; }

// Runs constant SQL (possibly several statements) that binds nothing.
CatalogStatus exec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    return make_error(0, "catalog: " + text);
  }
  return ok();
}

// A prepared statement. Bind errors are remembered and reported by step().
class Stmt {
 public:
  // flags: SQLITE_PREPARE_PERSISTENT for a statement kept for many uses (see StmtCache).
  static Result<Stmt> prepare(sqlite3* db, const char* sql, unsigned flags = 0) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, flags, &raw, nullptr) != SQLITE_OK) {
      sqlite3_finalize(raw);
      return db_error(db, "prepare");
    }
    return Stmt(db, raw);
  }

  Stmt& bind(int i, int64_t v) { return check(sqlite3_bind_int64(s_.get(), i, v)); }
  Stmt& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& bind(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }
  Stmt& bind_null(int i) { return check(sqlite3_bind_null(s_.get(), i)); }
  Stmt& bind_blob(int i, const std::vector<uint8_t>& v) {
    if (v.empty()) return check(sqlite3_bind_zeroblob(s_.get(), i, 0));
    return check(sqlite3_bind_blob(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }

  // true: a row is available; false: done.
  Result<bool> step() {
    if (bind_rc_ != SQLITE_OK) return make_error(0, std::string("catalog: bind: ") + sqlite3_errstr(bind_rc_));
    int rc = sqlite3_step(s_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return db_error(db_, "step");
  }
  // Runs a statement that returns no rows of interest, then resets it for reuse (bindings are kept until rebound).
  CatalogStatus run() {
    auto r = step();
    sqlite3_reset(s_.get());
    if (!r) return r.error();
    return ok();
  }
  void reset() {
    sqlite3_reset(s_.get());
    sqlite3_clear_bindings(s_.get());
    bind_rc_ = SQLITE_OK;
  }

  int64_t i64(int col) const { return sqlite3_column_int64(s_.get(), col); }
  std::optional<int64_t> opt_i64(int col) const {
    if (sqlite3_column_type(s_.get(), col) == SQLITE_NULL) return std::nullopt;
    return i64(col);
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_.get(), col);
    int n = sqlite3_column_bytes(s_.get(), col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  std::vector<uint8_t> blob(int col) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s_.get(), col));
    int n = sqlite3_column_bytes(s_.get(), col);
    return p ? std::vector<uint8_t>(p, p + n) : std::vector<uint8_t>();
  }

 private:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt& check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, StmtFinalize> s_;
  int bind_rc_ = SQLITE_OK;
};

// The statements that run for every recorded image, prepared once per connection: compiling the ten statements of
// record() cost about as much as running them.
class StmtCache {
 public:
  explicit StmtCache(sqlite3* db) : db_(db) {}
  sqlite3* db() const { return db_; }
  // The statement for `sql`, reset and with no bindings. The pointer stays valid as long as the cache.
  Result<Stmt*> get(const char* sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) {
      auto s = Stmt::prepare(db_, sql, SQLITE_PREPARE_PERSISTENT);
      if (!s) return s.error();
      it = stmts_.emplace(sql, std::move(*s)).first;
    }
    it->second.reset();
    return &it->second;
  }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, Stmt> stmts_;
};

// BEGIN IMMEDIATE on construction (via begin()), ROLLBACK on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (active_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  CatalogStatus begin() {
    auto r = exec(db_, "BEGIN IMMEDIATE");
    active_ = r.ok();
    return r;
  }
  CatalogStatus commit() {
    auto r = exec(db_, "COMMIT");
    if (r) active_ = false;
    return r;
  }

 private:
  sqlite3* db_;
  bool active_ = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Schema.

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS images(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  mtime INTEGER NOT NULL DEFAULT 0,
  vendor TEXT NOT NULL DEFAULT '',
  board TEXT NOT NULL DEFAULT '',
  version TEXT NOT NULL DEFAULT '',
  release_date TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  scanned_at INTEGER NOT NULL DEFAULT 0,
  now_used INTEGER NOT NULL DEFAULT 0,
  warn_days INTEGER NOT NULL DEFAULT 90);
CREATE TABLE IF NOT EXISTS certificates(
  sha256 TEXT PRIMARY KEY,
  sha1 TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  issuer TEXT NOT NULL DEFAULT '',
  common_name TEXT NOT NULL DEFAULT '',
  serial TEXT NOT NULL DEFAULT '',
  not_before INTEGER,
  not_after INTEGER,
  not_before_raw TEXT NOT NULL DEFAULT '',
  not_after_raw TEXT NOT NULL DEFAULT '',
  not_before_type TEXT NOT NULL DEFAULT '',
  not_after_type TEXT NOT NULL DEFAULT '',
  no_expiry INTEGER NOT NULL DEFAULT 0,
  key_algorithm TEXT NOT NULL DEFAULT '',
  key_bits INTEGER NOT NULL DEFAULT 0,
  key_curve TEXT NOT NULL DEFAULT '',
  signature_algorithm TEXT NOT NULL DEFAULT '',
  self_signed INTEGER NOT NULL DEFAULT 0,
  is_ca INTEGER NOT NULL DEFAULT 0,
  spki_sha256 TEXT NOT NULL DEFAULT '',
  der BLOB);
CREATE INDEX IF NOT EXISTS certificates_not_after ON certificates(not_after);
CREATE TABLE IF NOT EXISTS placements(
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  cert_sha256 TEXT NOT NULL REFERENCES certificates(sha256),
  location TEXT NOT NULL,
  PRIMARY KEY(image_id, cert_sha256, location));
CREATE INDEX IF NOT EXISTS placements_cert ON placements(cert_sha256);
CREATE TABLE IF NOT EXISTS cert_roles(
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  cert_sha256 TEXT NOT NULL REFERENCES certificates(sha256),
  role TEXT NOT NULL,
  PRIMARY KEY(image_id, cert_sha256, role));
CREATE INDEX IF NOT EXISTS cert_roles_cert ON cert_roles(cert_sha256);
CREATE TABLE IF NOT EXISTS private_keys(
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  location TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  algorithm TEXT NOT NULL DEFAULT '',
  bits INTEGER NOT NULL DEFAULT 0,
  curve TEXT NOT NULL DEFAULT '',
  encrypted INTEGER NOT NULL DEFAULT 0,
  spki_sha256 TEXT NOT NULL DEFAULT '',
  alias TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS private_keys_image ON private_keys(image_id);
CREATE INDEX IF NOT EXISTS private_keys_spki ON private_keys(spki_sha256);
CREATE TABLE IF NOT EXISTS key_matches(
  key_id INTEGER NOT NULL REFERENCES private_keys(id) ON DELETE CASCADE,
  cert_sha256 TEXT NOT NULL,
  PRIMARY KEY(key_id, cert_sha256));
CREATE INDEX IF NOT EXISTS key_matches_cert ON key_matches(cert_sha256);
CREATE TABLE IF NOT EXISTS key_roles(
  key_id INTEGER NOT NULL REFERENCES private_keys(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  PRIMARY KEY(key_id, role));
CREATE TABLE IF NOT EXISTS cert_aliases(
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  cert_sha256 TEXT NOT NULL,
  alias TEXT NOT NULL,
  PRIMARY KEY(image_id, cert_sha256, alias));
CREATE TABLE IF NOT EXISTS findings(
  id INTEGER PRIMARY KEY,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  cert_sha256 TEXT REFERENCES certificates(sha256),
  kind TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  severity TEXT NOT NULL DEFAULT '',
  offset INTEGER NOT NULL DEFAULT 0,
  text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS findings_image ON findings(image_id);
CREATE INDEX IF NOT EXISTS findings_cert ON findings(cert_sha256);
)SQL";

// Column lists shared by record() and merge() (same order in both).
#define FWCERT_IMAGE_COLS \
  "path, sha256, size, mtime, vendor, board, version, release_date, source, scanned_at, now_used, warn_days"
#define FWCERT_CERT_COLS                                                                                       \
  "sha256, sha1, subject, issuer, common_name, serial, not_before, not_after, not_before_raw, not_after_raw, " \
  "not_before_type, not_after_type, no_expiry, key_algorithm, key_bits, key_curve, signature_algorithm, "      \
  "self_signed, is_ca, spki_sha256, der"
// What is read from the DER (every certificate column but the key and the DER itself), and the same taken from the
// row an upsert proposed.
#define FWCERT_CERT_DERIVED                                                                                           \
  "sha1, subject, issuer, common_name, serial, not_before, not_after, not_before_raw, not_after_raw, "                \
  "not_before_type, not_after_type, no_expiry, key_algorithm, key_bits, key_curve, signature_algorithm, self_signed, " \
  "is_ca, spki_sha256"
#define FWCERT_CERT_DERIVED_EXCLUDED                                                                             \
  "excluded.sha1, excluded.subject, excluded.issuer, excluded.common_name, excluded.serial, excluded.not_before, " \
  "excluded.not_after, excluded.not_before_raw, excluded.not_after_raw, excluded.not_before_type, "               \
  "excluded.not_after_type, excluded.no_expiry, excluded.key_algorithm, excluded.key_bits, excluded.key_curve, "  \
  "excluded.signature_algorithm, excluded.self_signed, excluded.is_ca, excluded.spki_sha256"
#define FWCERT_KEY_COLS "location, format, algorithm, bits, curve, encrypted, spki_sha256, alias"
// What a version 1 shard has of them, for merge.
#define FWCERT_KEY_COLS_V1 "location, format, algorithm, bits, curve, encrypted, spki_sha256, ''"

// A certificate already recorded (same SHA-256, so the same DER) is rewritten only when what this fwcert reads from
// it differs from what was stored: an unchanged row leaves its pages (and its index entry) untouched.
constexpr const char* kCertUpsert =
    "INSERT INTO certificates(" FWCERT_CERT_COLS
    ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)"
    " ON CONFLICT(sha256) DO UPDATE SET (" FWCERT_CERT_DERIVED ") = (" FWCERT_CERT_DERIVED_EXCLUDED ")"
    " WHERE (" FWCERT_CERT_DERIVED ") IS NOT (" FWCERT_CERT_DERIVED_EXCLUDED ")";

// Certificates placed nowhere and named by no finding are dropped.
constexpr const char* kPruneOne =
    "DELETE FROM certificates WHERE sha256 = ?1"
    " AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.cert_sha256 = ?1)"
    " AND NOT EXISTS (SELECT 1 FROM cert_roles r WHERE r.cert_sha256 = ?1)"
    " AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.cert_sha256 = ?1)";
constexpr const char* kPruneAll =
    "DELETE FROM main.certificates WHERE"
    " NOT EXISTS (SELECT 1 FROM main.placements p WHERE p.cert_sha256 = certificates.sha256)"
    " AND NOT EXISTS (SELECT 1 FROM main.cert_roles r WHERE r.cert_sha256 = certificates.sha256)"
    " AND NOT EXISTS (SELECT 1 FROM main.findings f WHERE f.cert_sha256 = certificates.sha256)";

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads FWCERT_CERT_COLS starting at column `c`.
Certificate read_cert(const Stmt& s, int c) {
  Certificate x;
  x.sha256 = s.text(c + 0);
  x.sha1 = s.text(c + 1);
  x.subject = s.text(c + 2);
  x.issuer = s.text(c + 3);
  x.common_name = s.text(c + 4);
  x.serial = s.text(c + 5);
  x.not_before.unix = s.opt_i64(c + 6);
  x.not_after.unix = s.opt_i64(c + 7);
  x.not_before.raw = s.text(c + 8);
  x.not_after.raw = s.text(c + 9);
  x.not_before.type = s.text(c + 10);
  x.not_after.type = s.text(c + 11);
  x.not_after.no_expiry = s.i64(c + 12) != 0;
  x.key.algorithm = s.text(c + 13);
  x.key.bits = static_cast<int>(s.i64(c + 14));
  x.key.curve = s.text(c + 15);
  x.signature_algorithm = s.text(c + 16);
  x.self_signed = s.i64(c + 17) != 0;
  x.is_ca = s.i64(c + 18) != 0;
  x.spki_sha256 = s.text(c + 19);
  x.der = s.blob(c + 20);
  return x;
}

// images columns: id, FWCERT_IMAGE_COLS, then the four counts.
constexpr const char* kImageSelect =
    "SELECT i.id, i.path, i.sha256, i.size, i.mtime, i.vendor, i.board, i.version, i.release_date, i.source,"
    " i.scanned_at, i.now_used, i.warn_days,"
    " (SELECT COUNT(DISTINCT p.cert_sha256) FROM placements p WHERE p.image_id = i.id),"
    " (SELECT COUNT(*) FROM placements p WHERE p.image_id = i.id),"
    " (SELECT COUNT(*) FROM private_keys k WHERE k.image_id = i.id),"
    " (SELECT COUNT(*) FROM findings f WHERE f.image_id = i.id AND f.kind = 'problem')"
    " FROM images i";

ImageRow read_image(const Stmt& s) {
  ImageRow r;
  r.id = s.i64(0);
  r.meta.path = s.text(1);
  r.meta.sha256 = s.text(2);
  r.meta.size = static_cast<uint64_t>(s.i64(3));
  r.meta.mtime = s.i64(4);
  r.meta.vendor = s.text(5);
  r.meta.board = s.text(6);
  r.meta.version = s.text(7);
  r.meta.date = s.text(8);
  r.meta.source = s.text(9);
  r.scanned_at = s.i64(10);
  r.now_used = s.i64(11);
  r.warn_days = static_cast<int>(s.i64(12));
  r.certificates = s.i64(13);
  r.placements = s.i64(14);
  r.keys = s.i64(15);
  r.problems = s.i64(16);
  return r;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

}  // namespace

// -----------------------------------------------------------------------------------------------------------------
// Names, manifests, shards.

ImageMeta derive_meta_from_name(const std::string& file_name) {
  ImageMeta m;
  std::string base = file_name;
  if (auto slash = base.find_last_of("/\\"); slash != std::string::npos) base = base.substr(slash + 1);
  for (int round = 0; round < 2; ++round) {  // "x.bin.zip"
    auto dot = base.rfind('.');
    if (dot == std::string::npos) break;
    std::string ext = lower(base.substr(dot + 1));
    if (ext != "bin" && ext != "ima" && ext != "rom" && ext != "img" && ext != "zip" && ext != "fw") break;
    base = base.substr(0, dot);
  }
  std::vector<std::string> tokens;
  std::string cur;
  for (char ch : base) {
    if (ch == '_' || ch == '-' || ch == ' ') {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  if (tokens.empty()) return m;

  auto is_board = [](const std::string& t) {  // X9, X10, H12, X11AST2500: letter, 1-2 digits, alphanumerics
    if (t.size() < 2) return false;
    char c0 = static_cast<char>(std::tolower(static_cast<unsigned char>(t[0])));
    if (c0 != 'x' && c0 != 'h' && c0 != 'b' && c0 != 'm') return false;
    size_t digits = 0;
    while (1 + digits < t.size() && std::isdigit(static_cast<unsigned char>(t[1 + digits]))) ++digits;
    if (digits < 1 || digits > 2) return false;
    return std::all_of(t.begin(), t.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); });
  };

  const std::string first = lower(tokens[0]);
  std::string board;
  for (size_t i = 1; i < tokens.size() && board.empty(); ++i)
    if (is_board(tokens[i])) {
      board = tokens[i];
      for (auto& ch : board) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  if (first == "smt" || first == "smm" || first == "redfish" || (first == "bmc" && !board.empty())) {
    m.vendor = "Supermicro";
    m.board = board;
  }
  for (const auto& t : tokens) {
    std::string lt = lower(t);
    if (m.vendor.empty() && lt.find("idrac") != std::string::npos) {
      m.vendor = "Dell";
      auto at = lt.find("idrac") + 5;
      m.board = (at < lt.size() && all_digits(lt.substr(at))) ? "iDRAC " + lt.substr(at) : "iDRAC";
    }
    if (m.vendor.empty() && lt.size() == 4 && lt.compare(0, 3, "ilo") == 0 &&
        std::isdigit(static_cast<unsigned char>(lt[3]))) {
      m.vendor = "HPE";
      m.board = std::string("iLO ") + lt[3];
    }
  }

  // Version: a dotted token first, else a 3-digit token (Supermicro and iLO names: "390" = 3.90).
  for (const auto& t : tokens) {
    std::string v = (t.size() > 1 && (t[0] == 'v' || t[0] == 'V')) ? t.substr(1) : t;
    if (v.find('.') == std::string::npos || v.front() == '.' || v.back() == '.') continue;
    bool good = std::all_of(v.begin(), v.end(), [](char ch) { return ch == '.' || (ch >= '0' && ch <= '9'); }) &&
                v.find("..") == std::string::npos;
    if (good) {
      m.version = v;
      break;
    }
  }
  if (m.version.empty())
    for (const auto& t : tokens)
      if (t.size() == 3 && all_digits(t)) {
        m.version = t.substr(0, 1) + "." + t.substr(1);
        break;
      }
  for (const auto& t : tokens) {
    if (t.size() != 8 || !all_digits(t)) continue;
    int y = std::stoi(t.substr(0, 4)), mo = std::stoi(t.substr(4, 2)), d = std::stoi(t.substr(6, 2));
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1990 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1]) continue;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) continue;
    m.date = t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2);
    break;
  }
  if (!m.vendor.empty() || !m.board.empty() || !m.version.empty() || !m.date.empty()) m.source = "name";
  return m;
}

Result<std::map<std::string, ImageMeta>> read_manifest_csv(std::string_view text) {
  struct Row {
    size_t offset;
    std::vector<std::string> fields;
  };
  std::vector<Row> rows;
  size_t i = 0;
  const size_t n = text.size();
  if (n >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark from spreadsheets
  while (i < n) {
    Row row{i, {}};
    bool blank = true;
    for (;;) {
      std::string field;
      const size_t field_start = i;
      if (i < n && text[i] == '"') {
        blank = false;
        ++i;
        for (;;) {
          if (i >= n) return make_error(field_start, "manifest: unterminated quoted field");
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field += text[i++];
        }
        if (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n')
          return make_error(i, "manifest: text after a closing quote");
      } else {
        while (i < n && text[i] != ',' && text[i] != '\r' && text[i] != '\n') field += text[i++];
        auto b = field.find_first_not_of(" \t");
        field = b == std::string::npos ? std::string() : field.substr(b, field.find_last_not_of(" \t") - b + 1);
        if (!field.empty()) blank = false;
      }
      row.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        blank = false;
        ++i;
        continue;
      }
      if (i < n && text[i] == '\r') ++i;
      if (i < n && text[i] == '\n') ++i;
      break;
    }
    if (!blank) rows.push_back(std::move(row));
  }

  int col_path = 0, col_vendor = 1, col_board = 2, col_version = 3, col_date = -1;
  size_t first = 0;
  if (!rows.empty() && lower(rows[0].fields[0]) == "path") {
    col_path = col_vendor = col_board = col_version = -1;
    for (size_t c = 0; c < rows[0].fields.size(); ++c) {
      std::string name = lower(rows[0].fields[c]);
      int ci = static_cast<int>(c);
      if (name == "path") col_path = ci;
      else if (name == "vendor") col_vendor = ci;
      else if (name == "board") col_board = ci;
      else if (name == "version") col_version = ci;
      else if (name == "date") col_date = ci;
    }
    first = 1;
  }
  auto get = [](const Row& r, int c) {
    return c >= 0 && static_cast<size_t>(c) < r.fields.size() ? r.fields[static_cast<size_t>(c)] : std::string();
  };
  std::map<std::string, ImageMeta> out;
  for (size_t r = first; r < rows.size(); ++r) {
    ImageMeta m;
    m.path = get(rows[r], col_path);
    if (m.path.empty()) return make_error(rows[r].offset, "manifest: row without a path");
    m.vendor = get(rows[r], col_vendor);
    m.board = get(rows[r], col_board);
    m.version = get(rows[r], col_version);
    m.date = get(rows[r], col_date);
    m.source = "manifest";
    if (out.count(m.path)) return make_error(rows[r].offset, "manifest: duplicate path \"" + m.path + "\"");
    std::string key = m.path;
    out.emplace(std::move(key), std::move(m));
  }
  return out;
}

std::string normalize_image_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  std::string s = p.lexically_normal().string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();  // "dir/x/" and "dir/x" name one file
  return s;
}

Result<std::string> parse_sha256_query(std::string_view text) {
  auto is_space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  // "SHA256 Fingerprint=AB:CD:..." (openssl x509 -fingerprint -sha256; older releases print "SHA256 Fingerprint=" too)
  // or "sha256:abcd...": whatever precedes the last '=' or the first ':' after "sha256" is a label.
  const std::string low = lower(std::string(text));
  if (auto eq = low.rfind('='); eq != std::string::npos && low.find("fingerprint") < eq) {
    text.remove_prefix(eq + 1);
  } else if (low.rfind("sha256:", 0) == 0 || low.rfind("sha-256:", 0) == 0) {
    text.remove_prefix(low.find(':') + 1);
  }
  std::string hex;
  for (char ch : text) {
    if (ch == ':' || is_space(ch)) continue;
    if (!std::isxdigit(static_cast<unsigned char>(ch)))
      return make_error(0, "'" + std::string(1, ch) + "' is not a hex digit: give a SHA-256 (or 8+ of its hex digits)");
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  if (hex.size() > 64) return make_error(0, "a SHA-256 has 64 hex digits, not " + std::to_string(hex.size()));
  if (hex.size() < 8)
    return make_error(0, "give at least 8 hex digits of the SHA-256 (" + std::to_string(hex.size()) + " given)");
  return hex;
}

bool in_shard(const std::string& key, int k, int n) {
  if (n < 1 || k < 1 || k > n) return false;
  uint64_t h = 14695981039346656037ULL;  // FNV-1a 64 offset basis
  for (unsigned char ch : key) {
    h ^= ch;
    h *= 1099511628211ULL;  // FNV prime
  }
  return h % static_cast<uint64_t>(n) == static_cast<uint64_t>(k - 1);
}

uint64_t estimated_scan_bytes(ByteView file) {
  const uint64_t size = file.size();
  if (!file.matches(0, std::string_view("PK\x03\x04", 4))) return size;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  if (!a) return size;
  archive_read_support_format_zip_seekable(a.get());  // reads the central directory; skipping data costs nothing
  if (archive_read_open_memory(a.get(), file.data(), file.size()) != ARCHIVE_OK) return size;
  const uint64_t ceiling = size > UINT64_MAX / 64 ? UINT64_MAX : size * 64;
  uint64_t total = 0;
  archive_entry* e = nullptr;
  for (int n = 0; n < 100000 && total < ceiling && archive_read_next_header(a.get(), &e) == ARCHIVE_OK; ++n)
    if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
      total += std::min<uint64_t>(static_cast<uint64_t>(archive_entry_size(e)), ceiling);
  return size + std::min(total, ceiling);
}

uint64_t estimated_file_scan_bytes(const std::string& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block
  if (fd < 0) return size;
  char magic[4] = {};
  const bool zip = ::pread(fd, magic, sizeof magic, 0) == static_cast<ssize_t>(sizeof magic) &&
                   std::memcmp(magic, "PK\3\4", sizeof magic) == 0;
  ::close(fd);
  if (!zip) return size;
  auto mf = MappedFile::open(path, /*prefault=*/false);
  return mf ? estimated_scan_bytes(mf->view()) : size;
}

// -----------------------------------------------------------------------------------------------------------------
// Catalog.

struct Catalog::Impl {
  DbPtr db;
  std::string path;
  int schema = kSchemaVersion;  // of the file: lower only when opened for queries (never migrated then)
  StmtCache stmts{nullptr};  // on db; declared after it, so finalized before it closes
  std::mutex checkpoint_mu;  // guards checkpoint_db
  DbPtr checkpoint_db;       // checkpoint()'s own connection, opened on first use; closed before db (the last one)

  // checkpoint_in_background(): the thread, and what the commit hook tells it.
  std::mutex background_mu;
  std::condition_variable background_cv;
  bool background_wanted = false, background_stop = false;
  int background_frames = 0;
  std::thread background;

  CatalogStatus checkpoint();
  void stop_background() {
    if (!background.joinable()) return;
    {
      std::lock_guard lk(background_mu);
      background_stop = true;
    }
    background_cv.notify_one();
    background.join();
  }
  ~Impl() { stop_background(); }  // before checkpoint_db and db close
};

CatalogStatus Catalog::Impl::checkpoint() {
  std::lock_guard lk(checkpoint_mu);
  if (!checkpoint_db) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    DbPtr opened(raw);
    if (rc != SQLITE_OK) return db_error(opened.get(), "checkpoint: cannot open " + path);
    sqlite3_extended_result_codes(opened.get(), 1);
    // A connection learns that the database is in WAL mode when it first reads it; until then a checkpoint is a
    // no-op.
    if (auto r = exec(opened.get(), "PRAGMA schema_version"); !r) return r.error();
    checkpoint_db = std::move(opened);
  }
  sqlite3* cdb = checkpoint_db.get();
  const int rc = sqlite3_wal_checkpoint_v2(cdb, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return db_error(cdb, "checkpoint");
  return ok();
}

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Catalog::~Catalog() = default;

void Catalog::checkpoint_in_background(int wal_frames) {
  Impl* impl = impl_.get();
  if (impl->background.joinable()) return;
  impl->background_frames = std::max(wal_frames, 1);
  // Called on the committing thread after each commit, with the write lock released: it only wakes the thread.
  // (This replaces SQLite's automatic checkpoint, which would run on the committing thread.)
  sqlite3_wal_hook(
      impl->db.get(),
      [](void* arg, sqlite3*, const char*, int frames) {
        auto* self = static_cast<Impl*>(arg);
        if (frames >= self->background_frames) {
          {
            std::lock_guard lk(self->background_mu);
            self->background_wanted = true;
          }
          self->background_cv.notify_one();
        }
        return SQLITE_OK;
      },
      impl);
  impl->background = std::thread([impl] {
    for (;;) {
      {
        std::unique_lock lk(impl->background_mu);
        impl->background_cv.wait(lk, [impl] { return impl->background_wanted || impl->background_stop; });
        if (impl->background_stop) return;
        impl->background_wanted = false;
      }
      (void)impl->checkpoint();  // passive; a failure leaves the log to the next one, or to the close
    }
  });
}

namespace {

// What a database file holds, read before anything writes to it. Reading sqlite_master is the first read of the file:
// a file that is not an SQLite database fails here, with nothing written (no journal mode switched, no table made).
enum class Holds { Empty, Catalog, Foreign };
Result<Holds> inspect(sqlite3* db, const std::string& path) {
  auto s = Stmt::prepare(db,
                         "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'),"
                         " (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')");
  if (!s) return make_error(0, path + ": " + s.error().message);
  auto st = s->step();
  if (!st) return make_error(0, path + ": " + st.error().message);
  if (s->i64(0) == 0) return Holds::Empty;
  return s->i64(1) == 0 ? Holds::Foreign : Holds::Catalog;
}

constexpr const char* kForeign = ": an SQLite database but not an fwcert catalog";

Error newer_schema(const std::string& path, int64_t version) {
  return make_error(0, path + ": catalog schema version " + std::to_string(version) + ", this fwcert reads version " +
                           std::to_string(kSchemaVersion));
}

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return db_error(db.get(), "cannot open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), 30000);
  // Refuse to touch somebody else's database: checked before the switch to WAL, which rewrites the file's header.
  auto holds = inspect(db.get(), path);
  if (!holds) return holds.error();
  if (*holds == Holds::Foreign) return make_error(0, path + kForeign);
  if (auto r = exec(db.get(), "PRAGMA journal_mode=WAL"); !r) return make_error(0, path + ": " + r.error().message);
  if (auto r = exec(db.get(), "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL"); !r) return r.error();

  Transaction tx(db.get());
  if (auto r = tx.begin(); !r) return r.error();
  if (auto r = exec(db.get(), kSchema); !r) return r.error();
  {
    auto s = Stmt::prepare(db.get(), "SELECT MAX(version), COUNT(*) FROM schema_version");
    if (!s) return s.error();
    auto st = s->step();
    if (!st) return st.error();
    if (s->i64(1) == 0) {
      auto ins = Stmt::prepare(db.get(), "INSERT INTO schema_version(version) VALUES(?1)");
      if (!ins) return ins.error();
      ins->bind(1, int64_t{kSchemaVersion});
      if (auto r = ins->run(); !r) return r.error();
    } else if (s->i64(0) == 1) {
      // Version 1 -> 2: the aliases (cert_aliases was made by kSchema above). Images recorded before have none.
      if (auto r = exec(db.get(),
                        "ALTER TABLE private_keys ADD COLUMN alias TEXT NOT NULL DEFAULT '';"
                        " UPDATE schema_version SET version = 2");
          !r)
        return make_error(0, path + ": migrating the catalog to schema version 2: " + r.error().message);
    } else if (s->i64(0) != kSchemaVersion) {
      return newer_schema(path, s->i64(0));
    }
  }
  if (auto r = tx.commit(); !r) return r.error();
  auto impl = std::make_unique<Impl>();
  impl->stmts = StmtCache(db.get());
  impl->db = std::move(db);
  impl->path = path;
  return std::unique_ptr<Catalog>(new Catalog(std::move(impl)));
}

Result<std::unique_ptr<Catalog>> Catalog::open_read_only(const std::string& path) {
  // SQLite would report a missing file or a directory as "unable to open database file": say which it is.
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    return make_error(0, path + ": " + ec.message());  // e.g. a folder on the way that may not be searched
  if (!std::filesystem::exists(st))
    return make_error(0, path + ": no such catalog (a catalog is created by 'fwcert catalog add' or 'merge')");
  if (std::filesystem::is_directory(st)) return make_error(0, path + ": is a directory, not a catalog file");
  if (!std::filesystem::is_regular_file(st)) return make_error(0, path + ": not a regular file, not a catalog");
  // A read-only connection leaves the -wal and -shm files it needs behind (only a connection that may write removes
  // them at close), so where the file and its folder are writable the connection is read-write with
  // PRAGMA query_only, which refuses every change; elsewhere it is SQLITE_OPEN_READONLY. Never SQLITE_OPEN_CREATE: a
  // file removed since the check above is an error, not a new empty database.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const bool writable = ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
  auto connect = [&](const std::string& name, int flags) -> Result<DbPtr> {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
    DbPtr db(raw);
    if (rc != SQLITE_OK) return db_error(db.get(), "cannot open " + path);
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), 30000);
    if (auto r = exec(db.get(), "PRAGMA query_only=ON"); !r) return make_error(0, path + ": " + r.error().message);
    return db;
  };
  auto db = connect(path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY);
  if (!db) return db.error();
  auto holds = inspect(db->get(), path);
  std::error_code wal_ec;
  if (!holds && !writable && !std::filesystem::exists(path + "-wal", wal_ec)) {
    // A WAL catalog in a folder we cannot write to: SQLite cannot create the -shm file readers share, and refuses.
    // With no -wal file, no writer is at work (a writer needs one, and could not create it here either), so the
    // file is read as immutable: no locks, no -shm.
    std::string uri = "file:";
    for (unsigned char ch : path) {
      if (std::isalnum(ch) || ch == '/' || ch == '.' || ch == '-' || ch == '_') {
        uri += static_cast<char>(ch);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        uri += buf;
      }
    }
    db = connect(uri + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    if (!db) return db.error();
    holds = inspect(db->get(), path);
  }
  if (!holds) return holds.error();
  if (*holds == Holds::Empty) return make_error(0, path + ": an empty SQLite database, not an fwcert catalog");
  if (*holds == Holds::Foreign) return make_error(0, path + kForeign);
  int64_t version = 0;
  {
    auto s = Stmt::prepare(db->get(), "SELECT MAX(version) FROM schema_version");
    if (!s) return make_error(0, path + ": " + s.error().message);
    auto v = s->step();
    if (!v) return make_error(0, path + ": " + v.error().message);
    version = s->opt_i64(0).value_or(0);
    if (!*v || version < kOldestReadable || version > kSchemaVersion) return newer_schema(path, version);
  }
  auto impl = std::make_unique<Impl>();
  impl->schema = static_cast<int>(version);
  impl->stmts = StmtCache(db->get());
  impl->db = std::move(*db);
  impl->path = path;
  return std::unique_ptr<Catalog>(new Catalog(std::move(impl)));
}

std::optional<ImageRow> Catalog::find_image(const std::string& path) {
  auto s = Stmt::prepare(impl_->db.get(), (std::string(kImageSelect) + " WHERE i.path = ?1").c_str());
  if (!s) return std::nullopt;
  s->bind(1, path);
  auto st = s->step();
  if (!st || !*st) return std::nullopt;
  return read_image(*s);
}

std::optional<ImageRow> Catalog::find_or_adopt_image(const std::string& path, const std::string& spelled) {
  if (auto found = find_image(path); found || spelled == path) return found;
  auto legacy = find_image(spelled);
  if (!legacy) return std::nullopt;
  auto s = Stmt::prepare(impl_->db.get(), "UPDATE images SET path = ?1 WHERE id = ?2");
  if (!s) return std::nullopt;
  s->bind(1, path).bind(2, legacy->id);
  if (!s->run()) return std::nullopt;
  legacy->meta.path = path;
  return legacy;
}

namespace {

// Deletes an image row (cascading to everything it recorded) and returns the certificates it placed: candidates for
// pruning. Runs inside the caller's transaction.
Result<std::vector<std::string>> drop_image(StmtCache& stmts, const std::string& path) {
  std::vector<std::string> placed;
  auto s = stmts.get(
      "SELECT DISTINCT p.cert_sha256 FROM placements p JOIN images i ON i.id = p.image_id WHERE i.path = ?1");
  if (!s) return s.error();
  (*s)->bind(1, path);
  for (;;) {
    auto st = (*s)->step();
    if (!st) return st.error();
    if (!*st) break;
    placed.push_back((*s)->text(0));
  }
  auto del = stmts.get("DELETE FROM images WHERE path = ?1");  // cascades to every child row
  if (!del) return del.error();
  (*del)->bind(1, path);
  if (auto r = (*del)->run(); !r) return r.error();
  return placed;
}

// Removes the certificates of `candidates` that no image places any more.
CatalogStatus prune_certificates(StmtCache& stmts, const std::vector<std::string>& candidates) {
  if (candidates.empty()) return ok();
  auto prune = stmts.get(kPruneOne);
  if (!prune) return prune.error();
  for (const auto& sha : candidates) {
    (*prune)->reset();
    (*prune)->bind(1, sha);
    if (auto r = (*prune)->run(); !r) return r.error();
  }
  return ok();
}

}  // namespace

CatalogStatus Catalog::record(const ImageMeta& meta, const ScanReport& report, std::optional<int64_t> scanned_at) {
  sqlite3* db = impl_->db.get();
  StmtCache& stmts = impl_->stmts;
  if (meta.path.empty()) return make_error(0, "catalog: image without a path");
  for (const auto& c : report.certificates)
    if (c.cert.sha256.empty()) return make_error(0, "catalog: certificate without a SHA-256 in " + meta.path);

  Transaction tx(db);
  if (auto r = tx.begin(); !r) return r.error();

  // Certificates the previous record placed: candidates for pruning once it is gone.
  auto dropped = drop_image(stmts, meta.path);
  if (!dropped) return dropped.error();
  const std::vector<std::string>& old_certs = *dropped;

  // The statements, prepared on first use and then reused.
  Stmt *image_ins = nullptr, *cert_ins = nullptr, *place_ins = nullptr, *role_ins = nullptr, *finding_ins = nullptr,
       *key_ins = nullptr, *match_ins = nullptr, *key_role_ins = nullptr, *alias_ins = nullptr;
  const std::pair<Stmt**, const char*> wanted[] = {
      {&image_ins, "INSERT INTO images(" FWCERT_IMAGE_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"},
      {&cert_ins, kCertUpsert},
      {&place_ins, "INSERT OR IGNORE INTO placements(image_id, cert_sha256, location) VALUES(?1,?2,?3)"},
      {&role_ins, "INSERT OR IGNORE INTO cert_roles(image_id, cert_sha256, role) VALUES(?1,?2,?3)"},
      {&finding_ins,
       "INSERT INTO findings(image_id, cert_sha256, kind, location, severity, offset, text)"
       " VALUES(?1,?2,?3,?4,?5,?6,?7)"},
      {&key_ins, "INSERT INTO private_keys(image_id, " FWCERT_KEY_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"},
      {&alias_ins, "INSERT OR IGNORE INTO cert_aliases(image_id, cert_sha256, alias) VALUES(?1,?2,?3)"},
      {&match_ins, "INSERT OR IGNORE INTO key_matches(key_id, cert_sha256) VALUES(?1,?2)"},
      {&key_role_ins, "INSERT OR IGNORE INTO key_roles(key_id, role) VALUES(?1,?2)"},
  };
  for (const auto& [out, sql] : wanted) {
    auto st = stmts.get(sql);
    if (!st) return st.error();
    *out = *st;
  }

  image_ins->bind(1, meta.path)
      .bind(2, meta.sha256.empty() ? report.sha256 : meta.sha256)
      .bind(3, static_cast<int64_t>(meta.size ? meta.size : report.size))
      .bind(4, meta.mtime)
      .bind(5, meta.vendor)
      .bind(6, meta.board)
      .bind(7, meta.version)
      .bind(8, meta.date)
      .bind(9, meta.source)
      .bind(10, scanned_at ? *scanned_at : now_unix())
      .bind(11, report.now)
      .bind(12, int64_t{report.warn_days});
  if (auto r = image_ins->run(); !r) return r.error();
  const int64_t image_id = sqlite3_last_insert_rowid(db);

  for (const auto& rec : report.certificates) {
    const Certificate& c = rec.cert;
    cert_ins->reset();
    cert_ins->bind(1, c.sha256)
        .bind(2, c.sha1)
        .bind(3, c.subject)
        .bind(4, c.issuer)
        .bind(5, c.common_name)
        .bind(6, c.serial)
        .bind(7, c.not_before.unix)
        .bind(8, c.not_after.unix)
        .bind(9, c.not_before.raw)
        .bind(10, c.not_after.raw)
        .bind(11, c.not_before.type)
        .bind(12, c.not_after.type)
        .bind(13, int64_t{c.not_after.no_expiry})
        .bind(14, c.key.algorithm)
        .bind(15, int64_t{c.key.bits})
        .bind(16, c.key.curve)
        .bind(17, c.signature_algorithm)
        .bind(18, int64_t{c.self_signed})
        .bind(19, int64_t{c.is_ca})
        .bind(20, c.spki_sha256)
        .bind_blob(21, c.der);
    if (auto r = cert_ins->run(); !r) return r.error();
    for (const auto& loc : rec.locations) {
      place_ins->reset();
      place_ins->bind(1, image_id).bind(2, c.sha256).bind(3, loc);
      if (auto r = place_ins->run(); !r) return r.error();
    }
    for (const auto& alias : rec.aliases) {
      alias_ins->reset();
      alias_ins->bind(1, image_id).bind(2, c.sha256).bind(3, alias);
      if (auto r = alias_ins->run(); !r) return r.error();
    }
    for (const auto& role : rec.roles) {
      role_ins->reset();
      role_ins->bind(1, image_id).bind(2, c.sha256).bind(3, role);
      if (auto r = role_ins->run(); !r) return r.error();
    }
    for (const auto& a : rec.anomalies) {
      finding_ins->reset();
      finding_ins->bind(1, image_id)
          .bind(2, c.sha256)
          .bind(3, std::string("anomaly"))
          .bind(4, std::string())
          .bind(5, std::string())
          .bind(6, int64_t{0})
          .bind(7, a);
      if (auto r = finding_ins->run(); !r) return r.error();
    }
  }
  for (const auto& k : report.keys) {
    key_ins->reset();
    key_ins->bind(1, image_id)
        .bind(2, k.location)
        .bind(3, k.format)
        .bind(4, k.key.algorithm)
        .bind(5, int64_t{k.key.bits})
        .bind(6, k.key.curve)
        .bind(7, int64_t{k.encrypted})
        .bind(8, k.spki_sha256)
        .bind(9, k.alias);
    if (auto r = key_ins->run(); !r) return r.error();
    const int64_t key_id = sqlite3_last_insert_rowid(db);
    for (const auto& sha : k.certificates) {
      match_ins->reset();
      match_ins->bind(1, key_id).bind(2, sha);
      if (auto r = match_ins->run(); !r) return r.error();
    }
    for (const auto& role : k.roles) {
      key_role_ins->reset();
      key_role_ins->bind(1, key_id).bind(2, role);
      if (auto r = key_role_ins->run(); !r) return r.error();
    }
  }
  for (const auto& p : report.problems) {
    finding_ins->reset();
    finding_ins->bind(1, image_id)
        .bind_null(2)
        .bind(3, std::string("problem"))
        .bind(4, p.location)
        .bind(5, std::string(to_string(p.diagnostic.severity)))
        .bind(6, static_cast<int64_t>(p.diagnostic.offset))
        .bind(7, p.diagnostic.message);
    if (auto r = finding_ins->run(); !r) return r.error();
  }

  if (auto r = prune_certificates(stmts, old_certs); !r) return r.error();
  return tx.commit();
}

CatalogStatus Catalog::remove_image(const std::string& path) {
  sqlite3* db = impl_->db.get();
  Transaction tx(db);
  if (auto r = tx.begin(); !r) return r.error();
  auto dropped = drop_image(impl_->stmts, path);
  if (!dropped) return dropped.error();
  if (auto r = prune_certificates(impl_->stmts, *dropped); !r) return r.error();
  return tx.commit();
}

Result<std::vector<ImageRow>> Catalog::list_images() {
  auto s = Stmt::prepare(impl_->db.get(), (std::string(kImageSelect) + " ORDER BY i.path").c_str());
  if (!s) return s.error();
  std::vector<ImageRow> out;
  for (;;) {
    auto st = s->step();
    if (!st) return st.error();
    if (!*st) break;
    out.push_back(read_image(*s));
  }
  return out;
}

Result<std::vector<std::string>> Catalog::find_certificates(const std::string& prefix, size_t limit) {
  // A range on the primary key instead of LIKE (which ignores the index and treats '_' and '%' specially): every
  // string that starts with the prefix sorts between it and the prefix followed by the highest character.
  auto s = Stmt::prepare(impl_->db.get(),
                         "SELECT c.sha256 FROM certificates c WHERE c.sha256 >= ?1 AND c.sha256 < ?2"
                         " AND EXISTS (SELECT 1 FROM placements p WHERE p.cert_sha256 = c.sha256)"
                         " ORDER BY c.sha256 LIMIT ?3");
  if (!s) return s.error();
  s->bind(1, prefix).bind(2, prefix + "\x7f").bind(3, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  for (;;) {
    auto st = s->step();
    if (!st) return st.error();
    if (!*st) break;
    out.push_back(s->text(0));
  }
  return out;
}

Result<std::vector<Placement>> Catalog::where(const std::string& cert_sha256) {
  sqlite3* db = impl_->db.get();
  // image id -> (role or alias) of this certificate, for every row of `sql` (which takes the sha256 as ?1).
  auto texts_by_image = [&](const char* sql) -> Result<std::map<int64_t, std::vector<std::string>>> {
    std::map<int64_t, std::vector<std::string>> out;
    auto s = Stmt::prepare(db, sql);
    if (!s) return s.error();
    s->bind(1, cert_sha256);
    for (;;) {
      auto st = s->step();
      if (!st) return st.error();
      if (!*st) break;
      out[s->i64(0)].push_back(s->text(1));
    }
    return out;
  };
  auto roles = texts_by_image("SELECT image_id, role FROM cert_roles WHERE cert_sha256 = ?1 ORDER BY role");
  if (!roles) return roles.error();
  Result<std::map<int64_t, std::vector<std::string>>> aliases = std::map<int64_t, std::vector<std::string>>{};
  if (impl_->schema >= 2)  // JKS aliases (none before schema version 2)
    aliases = texts_by_image("SELECT image_id, alias FROM cert_aliases WHERE cert_sha256 = ?1 ORDER BY alias");
  if (!aliases) return aliases.error();
  auto s = Stmt::prepare(db,
                         "SELECT i.path, p.location, p.image_id FROM placements p JOIN images i ON i.id = p.image_id"
                         " WHERE p.cert_sha256 = ?1 ORDER BY i.path, p.location");
  if (!s) return s.error();
  s->bind(1, cert_sha256);
  std::vector<Placement> out;
  for (;;) {
    auto st = s->step();
    if (!st) return st.error();
    if (!*st) break;
    Placement p{s->text(0), s->text(1), {}, {}};
    if (auto it = roles->find(s->i64(2)); it != roles->end()) p.roles = it->second;
    if (auto it = aliases->find(s->i64(2)); it != aliases->end()) p.aliases = it->second;
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<CertEntry>> Catalog::certificates(const CertFilter& filter) {
  sqlite3* db = impl_->db.get();
  std::string sql = "SELECT " FWCERT_CERT_COLS
                    ", (SELECT COUNT(DISTINCT p.image_id) FROM placements p WHERE p.cert_sha256 = c.sha256)"
                    " FROM certificates c WHERE EXISTS (SELECT 1 FROM placements p WHERE p.cert_sha256 = c.sha256)";
  if (filter.expiring_before) sql += " AND c.not_after < ?1";
  sql += " ORDER BY c.not_after IS NULL, c.not_after, c.sha256";
  auto s = Stmt::prepare(db, sql.c_str());
  if (!s) return s.error();
  if (filter.expiring_before) s->bind(1, *filter.expiring_before);
  auto anomalies = Stmt::prepare(
      db, "SELECT DISTINCT text FROM findings WHERE cert_sha256 = ?1 AND kind = 'anomaly' ORDER BY text");
  if (!anomalies) return anomalies.error();

  std::vector<CertEntry> out;
  for (;;) {
    auto st = s->step();
    if (!st) return st.error();
    if (!*st) break;
    CertEntry e;
    e.cert = read_cert(*s, 0);
    e.image_count = s->i64(21);
    e.status = judge_certificate(e.cert, filter.now, filter.warn_days, e.days_left);
    if (!filter.statuses.empty() &&
        std::find(filter.statuses.begin(), filter.statuses.end(), e.status) == filter.statuses.end())
      continue;
    if (e.image_count < filter.min_images) continue;
    auto where_r = where(e.cert.sha256);
    if (!where_r) return where_r.error();
    e.placements = std::move(*where_r);
    std::set<std::string> roles, aliases;
    for (const auto& p : e.placements) {
      roles.insert(p.roles.begin(), p.roles.end());
      aliases.insert(p.aliases.begin(), p.aliases.end());
    }
    e.roles.assign(roles.begin(), roles.end());
    e.aliases.assign(aliases.begin(), aliases.end());
    anomalies->reset();
    anomalies->bind(1, e.cert.sha256);
    for (;;) {
      auto a = anomalies->step();
      if (!a) return a.error();
      if (!*a) break;
      e.anomalies.push_back(anomalies->text(0));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<SharedKey>> Catalog::shared_keys() { return keys(2); }

Result<std::vector<SharedKey>> Catalog::keys(int min_images) {
  sqlite3* db = impl_->db.get();
  auto groups = Stmt::prepare(db,
                              "SELECT k.spki_sha256, COUNT(DISTINCT k.image_id), COUNT(DISTINCT NULLIF(i.vendor, ''))"
                              " FROM private_keys k JOIN images i ON i.id = k.image_id WHERE k.spki_sha256 <> ''"
                              " GROUP BY k.spki_sha256 HAVING COUNT(DISTINCT k.image_id) >= ?1 ORDER BY k.spki_sha256");
  auto keys = Stmt::prepare(db, impl_->schema >= 2
                                    ? "SELECT k.id, i.path, k.location, k.format, k.encrypted, k.algorithm, k.bits,"
                                      " k.curve, k.alias FROM private_keys k JOIN images i ON i.id = k.image_id"
                                      " WHERE k.spki_sha256 = ?1 ORDER BY i.path, k.location"
                                    : "SELECT k.id, i.path, k.location, k.format, k.encrypted, k.algorithm, k.bits,"
                                      " k.curve, '' FROM private_keys k JOIN images i ON i.id = k.image_id"
                                      " WHERE k.spki_sha256 = ?1 ORDER BY i.path, k.location");
  auto roles = Stmt::prepare(db, "SELECT role FROM key_roles WHERE key_id = ?1 ORDER BY role");
  auto certs = Stmt::prepare(db,
                             "SELECT DISTINCT m.cert_sha256 FROM key_matches m JOIN private_keys k ON k.id = m.key_id"
                             " WHERE k.spki_sha256 = ?1 ORDER BY 1");
  for (auto* s : {&groups, &keys, &roles, &certs})
    if (!*s) return s->error();
  groups->bind(1, static_cast<int64_t>(min_images));
  std::vector<SharedKey> out;
  for (;;) {
    auto st = groups->step();
    if (!st) return st.error();
    if (!*st) break;
    SharedKey g;
    g.spki_sha256 = groups->text(0);
    g.image_count = groups->i64(1);
    g.vendor_count = groups->i64(2);
    keys->reset();
    keys->bind(1, g.spki_sha256);
    for (;;) {
      auto k = keys->step();
      if (!k) return k.error();
      if (!*k) break;
      KeyPlacement p{keys->text(1), keys->text(2), keys->text(3), keys->i64(4) != 0, {}, keys->text(8)};
      if (g.key.algorithm.empty()) g.key = KeyDesc{keys->text(5), static_cast<int>(keys->i64(6)), keys->text(7)};
      roles->reset();
      roles->bind(1, keys->i64(0));
      for (;;) {
        auto r = roles->step();
        if (!r) return r.error();
        if (!*r) break;
        p.roles.push_back(roles->text(0));
      }
      g.placements.push_back(std::move(p));
    }
    certs->reset();
    certs->bind(1, g.spki_sha256);
    for (;;) {
      auto c = certs->step();
      if (!c) return c.error();
      if (!*c) break;
      g.certificates.push_back(certs->text(0));
    }
    out.push_back(std::move(g));
  }
  return out;
}

Result<std::vector<CalendarEntry>> Catalog::calendar_entries(int64_t now, bool include_past) {
  sqlite3* db = impl_->db.get();
  std::string sql =
      "SELECT c.sha256, c.common_name, c.subject, c.issuer, c.not_after, c.not_after_raw FROM certificates c"
      " WHERE c.not_after IS NOT NULL AND c.no_expiry = 0"
      " AND EXISTS (SELECT 1 FROM placements p WHERE p.cert_sha256 = c.sha256)";
  if (!include_past) sql += " AND c.not_after >= ?1";
  sql += " ORDER BY c.not_after, c.sha256";
  auto s = Stmt::prepare(db, sql.c_str());
  auto roles = Stmt::prepare(db, "SELECT DISTINCT role FROM cert_roles WHERE cert_sha256 = ?1 ORDER BY role");
  auto places = Stmt::prepare(db,
                              "SELECT i.path, p.location FROM placements p JOIN images i ON i.id = p.image_id"
                              " WHERE p.cert_sha256 = ?1 ORDER BY i.path, p.location");
  for (auto* x : {&s, &roles, &places})
    if (!*x) return x->error();
  if (!include_past) s->bind(1, now);
  std::vector<CalendarEntry> out;
  for (;;) {
    auto st = s->step();
    if (!st) return st.error();
    if (!*st) break;
    CalendarEntry e;
    e.sha256 = s->text(0);
    e.common_name = s->text(1);
    e.subject = s->text(2);
    e.issuer = s->text(3);
    e.not_after = s->i64(4);
    e.not_after_raw = s->text(5);
    roles->reset();
    roles->bind(1, e.sha256);
    for (;;) {
      auto r = roles->step();
      if (!r) return r.error();
      if (!*r) break;
      e.roles.push_back(roles->text(0));
    }
    places->reset();
    places->bind(1, e.sha256);
    for (;;) {
      auto r = places->step();
      if (!r) return r.error();
      if (!*r) break;
      e.images.push_back({places->text(0), places->text(1)});
    }
    out.push_back(std::move(e));
  }
  return out;
}

CatalogStatus Catalog::checkpoint() { return impl_->checkpoint(); }

Result<std::string> Catalog::integrity_check() {
  sqlite3* db = impl_->db.get();
  auto s = Stmt::prepare(db, "PRAGMA integrity_check(20)");
  if (!s) return s.error();
  std::string report;
  for (;;) {
    auto st = s->step();
    if (!st) return st.error();
    if (!*st) break;
    if (!report.empty()) report += "\n";
    report += s->text(0);
  }
  if (report != "ok") return report;
  auto fk = Stmt::prepare(db, "PRAGMA foreign_key_check");
  if (!fk) return fk.error();
  std::string problems;
  for (int shown = 0; shown < 20;) {
    auto st = fk->step();
    if (!st) return st.error();
    if (!*st) break;
    if (!problems.empty()) problems += "\n";
    problems += "foreign key violation in " + fk->text(0) + " row " + fk->text(1) + " (-> " + fk->text(2) + ")";
    ++shown;
  }
  return problems.empty() ? report : problems;
}

// -----------------------------------------------------------------------------------------------------------------
// Merge.

namespace {

// DETACHes the shard however the merge of it ends.
class Attached {
 public:
  explicit Attached(sqlite3* db) : db_(db) {}
  ~Attached() {
    if (attached_) sqlite3_exec(db_, "DETACH DATABASE src", nullptr, nullptr, nullptr);
  }
  Attached(const Attached&) = delete;
  Attached& operator=(const Attached&) = delete;
  CatalogStatus attach(const std::string& file) {
    auto s = Stmt::prepare(db_, "ATTACH DATABASE ?1 AS src");
    if (!s) return s.error();
    s->bind(1, file);
    auto r = s->run();
    attached_ = r.ok();
    return r;
  }

 private:
  sqlite3* db_;
  bool attached_ = false;
};

CatalogStatus copy_children(sqlite3* db, int64_t old_id, int64_t new_id, int64_t src_schema) {
  static constexpr const char* kCopies[] = {
      "INSERT OR IGNORE INTO main.placements(image_id, cert_sha256, location)"
      " SELECT ?2, cert_sha256, location FROM src.placements WHERE image_id = ?1",
      "INSERT OR IGNORE INTO main.cert_roles(image_id, cert_sha256, role)"
      " SELECT ?2, cert_sha256, role FROM src.cert_roles WHERE image_id = ?1",
      "INSERT INTO main.findings(image_id, cert_sha256, kind, location, severity, offset, text)"
      " SELECT ?2, cert_sha256, kind, location, severity, offset, text FROM src.findings WHERE image_id = ?1"
      " ORDER BY id",
  };
  for (const char* sql : kCopies) {
    auto s = Stmt::prepare(db, sql);
    if (!s) return s.error();
    s->bind(1, old_id).bind(2, new_id);
    if (auto r = s->run(); !r) return r.error();
  }
  if (src_schema >= 2) {
    auto s = Stmt::prepare(db, "INSERT OR IGNORE INTO main.cert_aliases(image_id, cert_sha256, alias)"
                               " SELECT ?2, cert_sha256, alias FROM src.cert_aliases WHERE image_id = ?1");
    if (!s) return s.error();
    s->bind(1, old_id).bind(2, new_id);
    if (auto r = s->run(); !r) return r.error();
  }
  auto keys = Stmt::prepare(db, "SELECT id FROM src.private_keys WHERE image_id = ?1 ORDER BY id");
  auto key_ins = Stmt::prepare(db, src_schema >= 2 ? "INSERT INTO main.private_keys(image_id, " FWCERT_KEY_COLS
                                                     ") SELECT ?2, " FWCERT_KEY_COLS " FROM src.private_keys WHERE id = ?1"
                                                   : "INSERT INTO main.private_keys(image_id, " FWCERT_KEY_COLS
                                                     ") SELECT ?2, " FWCERT_KEY_COLS_V1
                                                     " FROM src.private_keys WHERE id = ?1");
  auto matches = Stmt::prepare(db, "INSERT OR IGNORE INTO main.key_matches(key_id, cert_sha256)"
                                   " SELECT ?2, cert_sha256 FROM src.key_matches WHERE key_id = ?1");
  auto roles = Stmt::prepare(db, "INSERT OR IGNORE INTO main.key_roles(key_id, role)"
                                 " SELECT ?2, role FROM src.key_roles WHERE key_id = ?1");
  for (auto* s : {&keys, &key_ins, &matches, &roles})
    if (!*s) return s->error();
  keys->bind(1, old_id);
  std::vector<int64_t> old_keys;
  for (;;) {
    auto st = keys->step();
    if (!st) return st.error();
    if (!*st) break;
    old_keys.push_back(keys->i64(0));
  }
  for (int64_t old_key : old_keys) {
    key_ins->bind(1, old_key).bind(2, new_id);
    if (auto r = key_ins->run(); !r) return r.error();
    const int64_t new_key = sqlite3_last_insert_rowid(db);
    for (auto* s : {&matches, &roles}) {
      (*s)->bind(1, old_key).bind(2, new_key);
      if (auto r = (*s)->run(); !r) return r.error();
    }
  }
  return ok();
}

CatalogStatus merge_one(sqlite3* db, const std::string& input) {
  Attached att(db);
  if (auto r = att.attach(input); !r) return make_error(0, input + ": " + r.error().message);
  int64_t src_schema = 0;
  {
    auto v = Stmt::prepare(db, "SELECT MAX(version) FROM src.schema_version");
    if (!v) return make_error(0, input + ": not an fwcert catalog (" + v.error().message + ")");
    auto st = v->step();
    if (!st) return make_error(0, input + ": " + st.error().message);
    src_schema = *st ? v->i64(0) : 0;
    if (src_schema < kOldestReadable || src_schema > kSchemaVersion)
      return make_error(0, input + ": catalog schema version " + std::to_string(src_schema) + ", expected " +
                               std::to_string(kOldestReadable) + " to " + std::to_string(kSchemaVersion));
  }
  Transaction tx(db);
  if (auto r = tx.begin(); !r) return r.error();
  if (auto r = exec(db,
                    "INSERT INTO main.certificates(" FWCERT_CERT_COLS ") SELECT " FWCERT_CERT_COLS
                    " FROM src.certificates WHERE true ON CONFLICT(sha256) DO NOTHING");
      !r)
    return r.error();

  auto images = Stmt::prepare(db, "SELECT id, path, scanned_at FROM src.images ORDER BY id");
  auto existing = Stmt::prepare(db, "SELECT scanned_at FROM main.images WHERE path = ?1");
  auto del = Stmt::prepare(db, "DELETE FROM main.images WHERE path = ?1");
  auto ins = Stmt::prepare(db, "INSERT INTO main.images(" FWCERT_IMAGE_COLS ") SELECT " FWCERT_IMAGE_COLS
                               " FROM src.images WHERE id = ?1");
  for (auto* s : {&images, &existing, &del, &ins})
    if (!*s) return s->error();
  std::vector<std::tuple<int64_t, std::string, int64_t>> src_images;
  for (;;) {
    auto st = images->step();
    if (!st) return st.error();
    if (!*st) break;
    src_images.emplace_back(images->i64(0), images->text(1), images->i64(2));
  }
  for (const auto& [old_id, path, scanned_at] : src_images) {
    existing->reset();
    existing->bind(1, path);
    auto st = existing->step();
    if (!st) return st.error();
    const bool keep_ours = *st && existing->i64(0) >= scanned_at;  // ours is as recent: keep it
    existing->reset();
    if (keep_ours) continue;
    del->bind(1, path);
    if (auto r = del->run(); !r) return r.error();
    ins->bind(1, old_id);
    if (auto r = ins->run(); !r) return r.error();
    if (auto r = copy_children(db, old_id, sqlite3_last_insert_rowid(db), src_schema); !r) return r.error();
  }
  if (auto r = exec(db, kPruneAll); !r) return r.error();
  return tx.commit();
}

}  // namespace

Result<MergeReport> Catalog::merge(const std::string& out_path, const std::vector<std::string>& inputs) {
  auto out = Catalog::open(out_path);
  if (!out) return out.error();
  MergeReport report;
  // A bad shard is named and skipped, never the end of the merge: the shards after it are merged all the same (each
  // in its own transaction, so a failure in the middle of one leaves none of it behind).
  for (const auto& input : inputs) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(input, ec)) {
      report.failed.push_back(input + ": no such catalog file");
      continue;
    }
    if (std::filesystem::equivalent(input, out_path, ec)) {
      report.failed.push_back(input + ": is the output catalog");
      continue;
    }
    if (auto r = merge_one((*out)->impl_->db.get(), input); !r) {
      report.failed.push_back(r.error().message);
      continue;
    }
    ++report.merged;
  }
  return report;
}

}  // namespace fwcert
