#include "fwcert/certs/compromised.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fwcert {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kAnomalyPrefix = "private key is public (";
constexpr uint64_t kMaxFileBytes = 64ull << 20;

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

void CompromisedKeys::add(std::vector<CompromisedKey> keys) {
  for (auto& k : keys) {
    std::string spki = k.spki_sha256;
    by_spki_.try_emplace(std::move(spki), std::move(k));
  }
}

const CompromisedKey* CompromisedKeys::find(std::string_view spki_sha256) const {
  if (spki_sha256.empty() || by_spki_.empty()) return nullptr;
  auto it = by_spki_.find(std::string(spki_sha256));
  return it == by_spki_.end() ? nullptr : &it->second;
}

std::string compromised_anomaly(const CompromisedKey& key) {
  return std::string(kAnomalyPrefix) + key.source + ")";
}

bool is_compromised_anomaly(std::string_view anomaly) { return anomaly.substr(0, kAnomalyPrefix.size()) == kAnomalyPrefix; }

Result<std::vector<CompromisedKey>> parse_compromised_keys(std::string_view text, const std::string& name) {
  std::vector<CompromisedKey> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped.front() == '#') continue;
    std::vector<std::string_view> f;
    for (size_t at = 0;;) {
      const size_t tab = line.find('\t', at);
      f.push_back(line.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
      if (tab == std::string_view::npos) break;
      at = tab + 1;
    }
    const auto bad = [&](const std::string& why) {
      return make_error(0, name + ": line " + std::to_string(line_no) + ": " + why);
    };
    CompromisedKey k;
    k.spki_sha256 = trim(f[0]);
    if (k.spki_sha256.size() != 64 || !std::all_of(k.spki_sha256.begin(), k.spki_sha256.end(), is_hex))
      return bad("the first field must be a SHA-256 of 64 hex digits (fields are separated by TAB)");
    for (char& c : k.spki_sha256)
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (f.size() < 2 || trim(f[1]).empty()) return bad("no source (second field, after a TAB)");
    k.source = trim(f[1]);
    if (f.size() > 2) k.reference = trim(f[2]);
    for (size_t i = 3; i < f.size(); ++i) k.comment += (i > 3 ? " " : "") + trim(f[i]);
    out.push_back(std::move(k));
  }
  return out;
}

Result<std::vector<CompromisedKey>> load_compromised_keys_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(0, path + ": no such file (or not a regular file)");
  if (fs::file_size(path, ec) > kMaxFileBytes) return make_error(0, path + ": larger than 64 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(0, path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_compromised_keys(ss.str(), path);
}

std::string default_compromised_keys_path(const std::string& argv0) {
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    for (const char* rel : {"data/compromised-keys.tsv", "share/fwcert/compromised-keys.tsv"}) {
      fs::path cand = dir / rel;
      if (fs::is_regular_file(cand, ec)) return cand.string();
    }
  }
  return {};
}

Result<CompromisedKeys> load_compromised_keys(const std::string& argv0, const std::vector<std::string>& extra) {
  CompromisedKeys keys;
  if (const std::string path = default_compromised_keys_path(argv0); !path.empty()) {
    auto r = load_compromised_keys_file(path);
    if (!r) return r.error();
    keys.add(std::move(*r));
  } else {
    auto r = parse_compromised_keys(builtin_compromised_keys_text(), "(built-in) compromised-keys.tsv");
    if (!r) return r.error();
    keys.add(std::move(*r));
  }
  std::vector<std::string> files = extra;
  if (const char* env = std::getenv("FWCERT_COMPROMISED_KEYS"); env && *env) {
    std::stringstream ss(env);
    for (std::string item; std::getline(ss, item, ':');)
      if (!item.empty()) files.push_back(item);
  }
  for (const auto& f : files) {
    auto r = load_compromised_keys_file(f);
    if (!r) return r.error();
    keys.add(std::move(*r));
  }
  return keys;
}

}  // namespace fwcert
