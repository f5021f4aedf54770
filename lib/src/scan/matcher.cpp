#include "fwcert/scan/matcher.hpp"

#include <algorithm>
#include <cstring>

namespace fwcert {

Matcher::Matcher(std::vector<Signature> signatures) : signatures_(std::move(signatures)), bucket_of_prefix_(65536, -1) {
  for (uint32_t i = 0; i < signatures_.size(); ++i) {
    const std::string& m = signatures_[i].magic;
    if (m.size() < 2) continue;  // the loader refuses these; be safe anyway
    uint32_t key = static_cast<uint8_t>(m[0]) | (static_cast<uint32_t>(static_cast<uint8_t>(m[1])) << 8);
    prefix_bits_[key >> 6] |= uint64_t{1} << (key & 63);
    if (bucket_of_prefix_[key] < 0) {
      bucket_of_prefix_[key] = static_cast<int32_t>(buckets_.size());
      buckets_.emplace_back();
    }
    buckets_[static_cast<size_t>(bucket_of_prefix_[key])].push_back(i);
  }
  for (auto& b : buckets_)
    std::stable_sort(b.begin(), b.end(),
                     [&](uint32_t a, uint32_t c) { return signatures_[a].magic.size() > signatures_[c].magic.size(); });
}

void Matcher::scan(ByteView data, uint64_t from, const OnMatch& on_match) const {
  const uint8_t* p = data.data();
  const size_t n = data.size();
  if (n < 2) return;
  const uint64_t* bits = prefix_bits_.data();
  size_t i = static_cast<size_t>(from);
  while (i + 1 < n) {
    // Hot loop: test the two-byte prefix of each position against the bit table.
    uint32_t key = p[i] | (static_cast<uint32_t>(p[i + 1]) << 8);
    if (!(bits[key >> 6] & (uint64_t{1} << (key & 63)))) {
      ++i;
      continue;
    }
    std::optional<uint64_t> jump;
    for (uint32_t idx : buckets_[static_cast<size_t>(bucket_of_prefix_[key])]) {
      const Signature& s = signatures_[idx];
      if (s.magic.size() > n - i || std::memcmp(p + i, s.magic.data(), s.magic.size()) != 0) continue;
      jump = on_match(i, s);
      if (jump) break;
    }
    if (jump && *jump > i) {
      i = static_cast<size_t>(std::min<uint64_t>(*jump, n));
    } else {
      ++i;
    }
  }
}

}  // namespace fwcert
