// Known-compromised keys: private keys that are public (published research, leaked vendor keys), by the SHA-256 of
// their SubjectPublicKeyInfo, the spki_sha256 the scan computes for every certificate and private key.
//
// The list is data/compromised-keys.tsv (format in its header: spki_sha256 TAB source TAB reference TAB comment). It is
// compiled in, so a copied binary still has it; a data/compromised-keys.tsv found next to the program at run time
// (the build tree, or share/fwcert/ of an installation) takes precedence, and more files in the same format are added
// with --compromised-keys FILE or FWCERT_COMPROMISED_KEYS=FILE[:FILE...], without recompiling.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fwcert/core/result.hpp"

namespace fwcert {

struct CompromisedKey {
  std::string spki_sha256;  // 64 lowercase hex digits
  std::string source;       // short label: "House of Keys"
  std::string reference;    // URL or advisory
  std::string comment;
};

class CompromisedKeys {
 public:
  // Adds the entries; an spki already present keeps its first entry.
  void add(std::vector<CompromisedKey> keys);
  // The entry for this SPKI SHA-256 (lowercase hex), or nullptr.
  const CompromisedKey* find(std::string_view spki_sha256) const;
  size_t size() const { return by_spki_.size(); }

 private:
  std::unordered_map<std::string, CompromisedKey> by_spki_;
};

// The anomaly a certificate or key whose public key is listed gets: "private key is public (House of Keys)".
std::string compromised_anomaly(const CompromisedKey& key);
// Whether an anomaly text is that one (for --fail-on compromised, summaries and SARIF).
bool is_compromised_anomaly(std::string_view anomaly);

// Parses the TSV text; `name` prefixes error messages ("keys.tsv: line 3: ..."). Errors: a digest that is not 64 hex
// digits, a missing source. Hex is accepted in any case (stored lowercase); reference and comment may be empty.
Result<std::vector<CompromisedKey>> parse_compromised_keys(std::string_view text, const std::string& name);
// Reads and parses one file (at most 64 MiB).
Result<std::vector<CompromisedKey>> load_compromised_keys_file(const std::string& path);
// The text of data/compromised-keys.tsv as compiled in.
std::string_view builtin_compromised_keys_text();
// data/compromised-keys.tsv or share/fwcert/compromised-keys.tsv in a folder above the executable, else "" (then the
// compiled-in list is used).
std::string default_compromised_keys_path(const std::string& argv0);
// The list a tool uses: the default file (else the compiled-in text), plus each of `extra` and of the paths in
// $FWCERT_COMPROMISED_KEYS (separated by ':'). Error: a file that cannot be read or parsed, named.
Result<CompromisedKeys> load_compromised_keys(const std::string& argv0, const std::vector<std::string>& extra);

}  // namespace fwcert
