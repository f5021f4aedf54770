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

namespace {
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts only (x86-64, arm64): byte k of the input is bits 8k..8k+7
}
}  // namespace

void Matcher::scan(ByteView data, uint64_t from, const OnMatch& on_match) const {
  const uint8_t* p = data.data();
  const size_t n = data.size();
  if (n < 2) return;
  const uint64_t* bits = prefix_bits_.data();
  auto candidate = [bits](uint32_t key) -> uint64_t { return (bits[key >> 6] >> (key & 63)) & 1; };
  // Flash padding (runs of 00 or FF) is skipped a word at a time when no magic starts with 00 00 / FF FF.
  const bool skip_00 = !candidate(0x0000), skip_ff = !candidate(0xFFFF);
  size_t i = static_cast<size_t>(from);
  while (i + 1 < n) {
    // Hot loop: eight positions per step, tested without branches; most blocks of random or compressed data have
    // no position whose two-byte prefix starts any magic. The block needs bytes i..i+8.
    if (i + 9 <= n) {
      const uint64_t w = load64(p + i);
      const uint32_t b8 = p[i + 8];
      if ((skip_00 && w == 0 && b8 == 0) || (skip_ff && w == ~uint64_t{0} && b8 == 0xff)) {
        i += 8;
        continue;
      }
      uint64_t any = candidate(static_cast<uint32_t>(w & 0xffff)) | candidate(static_cast<uint32_t>((w >> 8) & 0xffff)) |
                     candidate(static_cast<uint32_t>((w >> 16) & 0xffff)) | candidate(static_cast<uint32_t>((w >> 24) & 0xffff)) |
                     candidate(static_cast<uint32_t>((w >> 32) & 0xffff)) | candidate(static_cast<uint32_t>((w >> 40) & 0xffff)) |
                     candidate(static_cast<uint32_t>((w >> 48) & 0xffff)) | candidate(static_cast<uint32_t>((w >> 56) | (b8 << 8)));
      if (!any) {
        i += 8;
        continue;
      }
    }
    const size_t block_end = std::min(i + 8, n - 1);
    for (; i < block_end; ++i) {
      const uint32_t key = p[i] | (static_cast<uint32_t>(p[i + 1]) << 8);
      if (!candidate(key)) continue;
      std::optional<uint64_t> jump;
      for (uint32_t idx : buckets_[static_cast<size_t>(bucket_of_prefix_[key])]) {
        const Signature& s = signatures_[idx];
        if (s.magic.size() > n - i || std::memcmp(p + i, s.magic.data(), s.magic.size()) != 0) continue;
        jump = on_match(i, s);
        if (jump) break;
      }
      if (jump && *jump > i) {
        i = static_cast<size_t>(std::min<uint64_t>(*jump, n));
        break;
      }
    }
  }
}

}  // namespace fwcert
