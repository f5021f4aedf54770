// A process-wide memo for pure functions of bytes (certificate and key parsing). Firmware repeats the same
// certificates and keys: in several places of one image (a key in the root fs, again in a jar, again in its
// Pack200 twin) and across a catalog's images (every build of a board ships the same ones). OpenSSL 3's decoders
// cost a fraction of a millisecond per call and take process-wide locks, so parsing each distinct blob once pays.
// Thread-safe; bounded (entries and key size); values are returned by copy.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fwcert {

template <class V>
class Memo {
 public:
  explicit Memo(size_t max_entries = 4096, size_t max_key = 256 * 1024) : max_entries_(max_entries), max_key_(max_key) {}

  // The value for key: remembered, or computed now (outside the lock) and remembered when `keep(value)` says so.
  template <class Compute, class Keep>
  V get(std::string_view key, Compute&& compute, Keep&& keep) {
    if (key.size() > max_key_) return compute();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = map_.find(std::string(key));
      if (it != map_.end()) return it->second;
    }
    V value = compute();
    if (keep(value)) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (map_.size() < max_entries_) map_.emplace(std::string(key), value);
    }
    return value;
  }
  template <class Compute>
  V get(std::string_view key, Compute&& compute) {
    return get(key, std::forward<Compute>(compute), [](const V&) { return true; });
  }

 private:
  size_t max_entries_, max_key_;
  std::mutex mutex_;
  std::unordered_map<std::string, V> map_;
};

}  // namespace fwcert
