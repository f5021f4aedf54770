// One pass over the input for all magics at once: a 64 Ki-bit table on each position's first two bytes filters
// candidates, then the few definitions sharing that prefix are compared in full.
//
// On x86-64 CPUs with AVX2, a vector prefilter ("shufti": every distinct two-byte prefix is put in one of 16 buckets,
// chosen when the signatures are loaded, and nibble lookups per byte tell which buckets a byte may start or
// continue) rejects 32 positions per vector; the positions it lets through are checked against the same table, so
// both paths report exactly the same callbacks in the same order. The portable scalar loop is the fallback, and
// the only path elsewhere.
//
// Environment: FWCERT_NO_SIMD set to anything but "" or "0" forces the scalar path (read once per process, at the
// first scan), e.g. to compare speeds or to rule the vector code out when chasing a bug.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/scan/signature.hpp"

namespace fwcert {

class Matcher {
 public:
  explicit Matcher(std::vector<Signature> signatures);

  const std::vector<Signature>& signatures() const { return signatures_; }

  // Calls on_match(position_of_magic, signature) for every match at positions >= from, in increasing order. The
  // callback returns a position to resume from (to jump past a validated region) or nullopt to go on.
  using OnMatch = std::function<std::optional<uint64_t>(uint64_t, const Signature&)>;
  void scan(ByteView data, uint64_t from, const OnMatch& on_match) const;

  // Test/benchmark hook, process-wide: force_scalar(true) makes every scan() use the scalar loop (as
  // FWCERT_NO_SIMD=1 does), force_scalar(false) restores the automatic choice. simd_active() says whether scan()
  // would use the vector path now (false without AVX2, with FWCERT_NO_SIMD, or when forced scalar).
  static void force_scalar(bool on);
  static bool simd_active();

  // The vector prefilter's tables come in sets of four 16-byte tables; each set holds 8 buckets.
  static constexpr size_t kPrefilterSets = 2;

 private:
  // Tries every signature sharing the prefix at i (longest first); returns where to go on: i + 1, or the jump
  // target (clamped to n) when a callback asked to jump forward.
  size_t match_at(const uint8_t* p, size_t n, size_t i, const OnMatch& on_match) const;
  void scan_scalar(const uint8_t* p, size_t n, size_t i, const OnMatch& on_match) const;
  void build_prefilter();

  std::vector<Signature> signatures_;
  std::array<uint64_t, 1024> prefix_bits_{};          // bit (b0 | b1 << 8) set when some magic starts with b0 b1
  std::vector<std::vector<uint32_t>> buckets_;         // per prefix: signature indices, longest magic first
  std::vector<int32_t> bucket_of_prefix_;              // 65536 entries, -1 when empty
  // Per signature: the first min(8, size) bytes of its magic as a little-endian word, and the mask of those bytes.
  struct Head {
    uint64_t word = 0, mask = 0;
  };
  std::vector<Head> heads_;
  // Vector prefilter: bit k of nibbles_[64 * s + 16 * t + v] says whether a prefix of bucket 8 * s + k may have v as
  // its first byte's low nibble (t = 0), first byte's high nibble (t = 1), second byte's low (t = 2) or high nibble
  // (t = 3). A position passes when, for some bucket, all four of its nibbles do.
  std::array<uint8_t, 64 * kPrefilterSets> nibbles_{};
  bool prefilter_useful_ = false;  // false when the buckets accept so much that the scalar loop is as good
};

}  // namespace fwcert
