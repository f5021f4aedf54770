#include "fwcert/scan/matcher.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fwcert {

namespace {

// One bit of a PSHUFB result byte per bucket, so 8 buckets per set of four nibble tables; more sets cost more
// lookups per block but let fewer false candidates through.
constexpr size_t kSets = Matcher::kPrefilterSets;
static_assert(kSets == 2, "the AVX2 code below is written for two sets of tables");
constexpr size_t kBucketCount = 8 * kSets;

// The set of prefixes a bucket accepts: each position (first byte low/high nibble, second byte low/high nibble)
// may take any value whose bit is set, so the bucket accepts the cartesian product of the four nibble sets.
struct NibbleSets {
  std::array<uint16_t, 4> m{};

  static NibbleSets of(uint32_t key) {
    NibbleSets s;
    s.m[0] = static_cast<uint16_t>(1u << (key & 15));
    s.m[1] = static_cast<uint16_t>(1u << ((key >> 4) & 15));
    s.m[2] = static_cast<uint16_t>(1u << ((key >> 8) & 15));
    s.m[3] = static_cast<uint16_t>(1u << ((key >> 12) & 15));
    return s;
  }
  NibbleSets operator|(const NibbleSets& o) const {
    NibbleSets s;
    for (size_t t = 0; t < 4; ++t) s.m[t] = static_cast<uint16_t>(m[t] | o.m[t]);
    return s;
  }
  // Number of the 65536 two-byte values accepted.
  uint64_t size() const { return uint64_t{count(m[0])} * count(m[1]) * count(m[2]) * count(m[3]); }
  // std::popcount is a library call on baseline x86-64 (no POPCNT), and the bucket search calls this a lot.
  static uint32_t count(uint16_t v) {
    constexpr uint8_t kOnes[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
    return uint32_t{kOnes[v & 15]} + kOnes[(v >> 4) & 15] + kOnes[(v >> 8) & 15] + kOnes[v >> 12];
  }
};

// Assigns the distinct prefixes to kBucketCount buckets so that the buckets accept few other two-byte values
// (false positives of the prefilter): bottom-up merging of the pair that grows the accepted sets least, then
// single moves between buckets while they help. Accepting 00 00 or FF FF without a magic starting with it costs
// far more than anything else: flash padding would then be all candidates.
std::vector<std::vector<uint32_t>> assign_buckets(const std::vector<uint32_t>& keys, bool has_00, bool has_ff) {
  // Units are what gets assigned: one per prefix, or, when there are very many, one per first byte (or pair of
  // first bytes) to keep the quadratic merging cheap; with that many prefixes the prefilter gains little anyway.
  constexpr size_t kMaxUnits = 128;
  std::vector<std::vector<uint32_t>> units;
  if (keys.size() <= kMaxUnits) {
    for (uint32_t k : keys) units.push_back({k});
  } else {
    size_t distinct_first = 0;
    {
      std::array<bool, 256> seen{};
      for (uint32_t k : keys) distinct_first += !std::exchange(seen[k & 0xff], true);
    }
    const uint32_t shift = distinct_first <= kMaxUnits ? 0 : 1;
    std::array<int32_t, 256> unit_of{};
    unit_of.fill(-1);
    for (uint32_t k : keys) {
      const uint32_t u = (k & 0xff) >> shift;
      if (unit_of[u] < 0) {
        unit_of[u] = static_cast<int32_t>(units.size());
        units.emplace_back();
      }
      units[static_cast<size_t>(unit_of[u])].push_back(k);
    }
  }
  std::vector<NibbleSets> unit_sets;
  for (const auto& u : units) {
    NibbleSets s;
    for (uint32_t k : u) s = s | NibbleSets::of(k);
    unit_sets.push_back(s);
  }
  auto cost = [&](const NibbleSets& s) -> int64_t {
    const uint32_t all = s.m[0] & s.m[1] & s.m[2] & s.m[3];  // nibble values allowed in all four places
    int64_t c = static_cast<int64_t>(s.size());
    if (!has_00 && (all & 1)) c += int64_t{1} << 24;             // accepts 00 00
    if (!has_ff && (all >> 15 & 1)) c += int64_t{1} << 24;       // accepts FF FF
    return c;
  };

  struct Group {
    std::vector<size_t> units;
    NibbleSets sets;
    int64_t cost;
  };
  std::vector<Group> groups;
  for (size_t u = 0; u < units.size(); ++u) groups.push_back({{u}, unit_sets[u], cost(unit_sets[u])});
  // delta[a * count + b] (a < b): how much merging groups a and b adds to the total; a merge changes one row only.
  const size_t count = groups.size();
  std::vector<int64_t> delta(count * count, 0);
  auto merge_cost = [&](size_t a, size_t b) {
    return cost(groups[a].sets | groups[b].sets) - groups[a].cost - groups[b].cost;
  };
  for (size_t a = 0; a < count; ++a)
    for (size_t b = a + 1; b < count; ++b) delta[a * count + b] = merge_cost(a, b);
  std::vector<uint8_t> alive(count, 1);
  for (size_t left = count; left > kBucketCount; --left) {
    size_t best_a = 0, best_b = 0;
    int64_t best = INT64_MAX;
    for (size_t a = 0; a < count; ++a) {
      if (!alive[a]) continue;
      for (size_t b = a + 1; b < count; ++b)
        if (alive[b] && delta[a * count + b] < best) {
          best = delta[a * count + b];
          best_a = a;
          best_b = b;
        }
    }
    Group& into = groups[best_a];
    into.units.insert(into.units.end(), groups[best_b].units.begin(), groups[best_b].units.end());
    into.sets = into.sets | groups[best_b].sets;
    into.cost = cost(into.sets);
    alive[best_b] = 0;
    for (size_t c = 0; c < count; ++c)
      if (alive[c] && c != best_a) {
        const size_t lo = std::min(c, best_a), hi = std::max(c, best_a);
        delta[lo * count + hi] = merge_cost(lo, hi);
      }
  }
  {
    std::vector<Group> kept;
    for (size_t a = 0; a < count; ++a)
      if (alive[a]) kept.push_back(std::move(groups[a]));
    groups = std::move(kept);
  }

  // Greedy merging can leave a unit in a bucket it fits badly: move single units while the total cost drops.
  auto sets_without = [&](const Group& g, size_t skip) {
    NibbleSets s;
    for (size_t u : g.units)
      if (u != skip) s = s | unit_sets[u];
    return s;
  };
  for (int pass = 0; pass < 16; ++pass) {
    bool moved = false;
    for (size_t g = 0; g < groups.size(); ++g) {
      for (size_t ui = 0; ui < groups[g].units.size() && groups[g].units.size() > 1;) {
        const size_t u = groups[g].units[ui];
        const NibbleSets rest = sets_without(groups[g], u);
        const int64_t rest_cost = cost(rest);
        bool moved_u = false;
        for (size_t h = 0; h < groups.size() && !moved_u; ++h) {
          if (h == g) continue;
          const NibbleSets grown = groups[h].sets | unit_sets[u];
          const int64_t grown_cost = cost(grown);
          if (rest_cost + grown_cost < groups[g].cost + groups[h].cost) {
            groups[h].units.push_back(u);
            groups[h].sets = grown;
            groups[h].cost = grown_cost;
            groups[g].units.erase(groups[g].units.begin() + static_cast<std::ptrdiff_t>(ui));
            groups[g].sets = rest;
            groups[g].cost = rest_cost;
            moved_u = moved = true;
          }
        }
        if (!moved_u) ++ui;
      }
    }
    if (!moved) break;
  }

  std::vector<std::vector<uint32_t>> out;
  for (const auto& g : groups) {
    out.emplace_back();
    for (size_t u : g.units) out.back().insert(out.back().end(), units[u].begin(), units[u].end());
  }
  return out;
}

std::atomic<bool> g_force_scalar{false};

bool simd_allowed() {
#if defined(__x86_64__)
  static const bool ok = [] {
    const char* env = std::getenv("FWCERT_NO_SIMD");
    if (env && *env && std::strcmp(env, "0") != 0) return false;
    __builtin_cpu_init();  // needed if the first scan ran from a static constructor
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return ok;
#else
  return false;
#endif
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts only (x86-64, arm64): byte k of the input is bits 8k..8k+7
}

inline bool prefix_set(const uint64_t* bits, uint32_t key) { return (bits[key >> 6] >> (key & 63)) & 1; }

#if defined(__x86_64__)

// The prefilter tables, broadcast to both 128-bit lanes (PSHUFB looks up within each lane).
struct Avx2Tables {
  __m256i lo0a, hi0a, lo1a, hi1a;  // set 0: first byte low/high nibble, second byte low/high nibble
  __m256i lo0b, hi0b, lo1b, hi1b;  // set 1
  __m256i nibble;                  // 0x0f in every byte
};

// (Lambdas do not inherit the target attribute, hence small functions.)
__attribute__((target("avx2"), always_inline)) inline __m256i load_table(const uint8_t* nib, size_t k) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(nib + 16 * k)));
}

// Bit j set when position q + j (j < 32) may start a magic: its byte is in a bucket's first-byte class and the next
// byte in the same bucket's second-byte class. Reads q[0..32].
__attribute__((target("avx2"), always_inline)) inline uint32_t classify32(const uint8_t* q, const Avx2Tables& t) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 1));
  const __m256i a_lo = _mm256_and_si256(a, t.nibble), a_hi = _mm256_and_si256(_mm256_srli_epi16(a, 4), t.nibble);
  const __m256i b_lo = _mm256_and_si256(b, t.nibble), b_hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), t.nibble);
  const __m256i set0 = _mm256_and_si256(
      _mm256_and_si256(_mm256_shuffle_epi8(t.lo0a, a_lo), _mm256_shuffle_epi8(t.hi0a, a_hi)),
      _mm256_and_si256(_mm256_shuffle_epi8(t.lo1a, b_lo), _mm256_shuffle_epi8(t.hi1a, b_hi)));
  const __m256i set1 = _mm256_and_si256(
      _mm256_and_si256(_mm256_shuffle_epi8(t.lo0b, a_lo), _mm256_shuffle_epi8(t.hi0b, a_hi)),
      _mm256_and_si256(_mm256_shuffle_epi8(t.lo1b, b_lo), _mm256_shuffle_epi8(t.hi1b, b_hi)));
  const __m256i none = _mm256_cmpeq_epi8(_mm256_or_si256(set0, set1), _mm256_setzero_si256());
  return ~static_cast<uint32_t>(_mm256_movemask_epi8(none));
}

// The vector scan over whole 32-position blocks (a block at i reads bytes i..i+32, so the last one ends at n - 1):
// calls try_at(pos) for every position whose two-byte prefix starts some magic, in increasing order; try_at
// returns where to go on (pos + 1, or a jump target, after which the blocks restart there). Returns the first
// position not examined: the tail shorter than a block is left to the scalar loop.
template <class TryAt>
__attribute__((target("avx2"))) size_t avx2_scan(const uint8_t* p, size_t n, size_t i, const uint8_t* nib,
                                                 const uint64_t* bits, TryAt& try_at) {
  const Avx2Tables t{load_table(nib, 0), load_table(nib, 1), load_table(nib, 2), load_table(nib, 3),
                     load_table(nib, 4), load_table(nib, 5), load_table(nib, 6), load_table(nib, 7),
                     _mm256_set1_epi8(0x0f)};
  for (;;) {
    // Two blocks per step while there is room: one well-predicted branch per 64 bytes without candidates.
    uint64_t m;
    size_t step;
    if (n - i >= 65) {
      m = classify32(p + i, t) | (uint64_t{classify32(p + i + 32, t)} << 32);
      step = 64;
    } else if (n - i >= 33) {
      m = classify32(p + i, t);
      step = 32;
    } else {
      return i;
    }
    size_t next = i + step;
    for (; m; m &= m - 1) {
      const size_t pos = i + static_cast<size_t>(__builtin_ctzll(m));
      if (!prefix_set(bits, p[pos] | (static_cast<uint32_t>(p[pos + 1]) << 8))) continue;  // false candidate
      const size_t after = try_at(pos);
      if (after != pos + 1) {  // jumped forward: the rest of this block is skipped
        next = after;
        break;
      }
    }
    i = next;
  }
}

#endif  // __x86_64__

}  // namespace

Matcher::Matcher(std::vector<Signature> signatures)
    : signatures_(std::move(signatures)), bucket_of_prefix_(65536, -1), heads_(signatures_.size()) {
  for (uint32_t i = 0; i < signatures_.size(); ++i) {
    const std::string& m = signatures_[i].magic;
    for (size_t k = 0; k < std::min<size_t>(m.size(), 8); ++k) {
      heads_[i].word |= uint64_t{static_cast<uint8_t>(m[k])} << (8 * k);
      heads_[i].mask |= uint64_t{0xff} << (8 * k);
    }
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
  build_prefilter();
}

void Matcher::build_prefilter() {
  std::vector<uint32_t> keys;
  for (uint32_t w = 0; w < prefix_bits_.size(); ++w)
    for (uint64_t bits = prefix_bits_[w]; bits; bits &= bits - 1)
      keys.push_back(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits)));
  const bool has_00 = prefix_set(prefix_bits_.data(), 0x0000), has_ff = prefix_set(prefix_bits_.data(), 0xffff);
  const auto groups = assign_buckets(keys, has_00, has_ff);
  uint64_t accepted = 0;  // upper bound on the two-byte values let through (buckets may overlap)
  for (size_t k = 0; k < groups.size(); ++k) {
    NibbleSets sets;
    uint8_t* set = nibbles_.data() + 64 * (k / 8);
    for (uint32_t key : groups[k]) {
      const uint8_t bit = static_cast<uint8_t>(1u << (k % 8));
      set[key & 15] |= bit;
      set[16 + ((key >> 4) & 15)] |= bit;
      set[32 + ((key >> 8) & 15)] |= bit;
      set[48 + ((key >> 12) & 15)] |= bit;
      sets = sets | NibbleSets::of(key);
    }
    accepted += sets.size();
  }
  auto passes = [&](uint32_t key) {
    for (size_t s = 0; s < kSets; ++s) {
      const uint8_t* set = nibbles_.data() + 64 * s;
      if (set[key & 15] & set[16 + ((key >> 4) & 15)] & set[32 + ((key >> 8) & 15)] & set[48 + ((key >> 12) & 15)])
        return true;
    }
    return false;
  };
  // Past about one position in four the vector loop stops on most blocks and the scalar loop does as well. Padding
  // (00 00, FF FF) let through would make the vector loop stop at every position of a padding run where the scalar
  // loop skips 8 bytes per step; with 16 buckets an assignment avoiding both always exists, but the search is
  // greedy, so check.
  prefilter_useful_ = accepted <= 65536 / 4 && (has_00 || !passes(0x0000)) && (has_ff || !passes(0xffff));
}

void Matcher::force_scalar(bool on) { g_force_scalar.store(on, std::memory_order_relaxed); }

bool Matcher::simd_active() { return simd_allowed() && !g_force_scalar.load(std::memory_order_relaxed); }

size_t Matcher::match_at(const uint8_t* p, size_t n, size_t i, const OnMatch& on_match) const {
  const uint32_t key = p[i] | (static_cast<uint32_t>(p[i + 1]) << 8);
  std::optional<uint64_t> jump;
  const bool word_fits = n - i >= 8;
  const uint64_t word = word_fits ? load64(p + i) : 0;
  for (uint32_t idx : buckets_[static_cast<size_t>(bucket_of_prefix_[key])]) {
    const Signature& s = signatures_[idx];
    const size_t len = s.magic.size();
    if (word_fits) {
      // Most prefix hits in random or compressed data differ within the first eight bytes.
      if ((word & heads_[idx].mask) != heads_[idx].word) continue;
      if (len > 8 && (len > n - i || std::memcmp(p + i + 8, s.magic.data() + 8, len - 8) != 0)) continue;
    } else if (len > n - i || std::memcmp(p + i, s.magic.data(), len) != 0) {
      continue;
    }
    jump = on_match(i, s);
    if (jump) break;
  }
  if (jump && *jump > i) return static_cast<size_t>(std::min<uint64_t>(*jump, n));
  return i + 1;
}

void Matcher::scan(ByteView data, uint64_t from, const OnMatch& on_match) const {
  const uint8_t* p = data.data();
  const size_t n = data.size();
  if (n < 2 || from >= n - 1) return;
  size_t i = static_cast<size_t>(from);
#if defined(__x86_64__)
  if (prefilter_useful_ && simd_active()) {
    auto try_at = [&](size_t pos) { return match_at(p, n, pos, on_match); };
    i = avx2_scan(p, n, i, nibbles_.data(), prefix_bits_.data(), try_at);
  }
#endif
  scan_scalar(p, n, i, on_match);
}

void Matcher::scan_scalar(const uint8_t* p, size_t n, size_t i, const OnMatch& on_match) const {
  const uint64_t* bits = prefix_bits_.data();
  auto candidate = [bits](uint32_t key) -> uint64_t { return (bits[key >> 6] >> (key & 63)) & 1; };
  // Flash padding (runs of 00 or FF) is skipped a word at a time when no magic starts with 00 00 / FF FF.
  const bool skip_00 = !candidate(0x0000), skip_ff = !candidate(0xFFFF);
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
      const size_t next = match_at(p, n, i, on_match);
      if (next != i + 1) {  // jumped forward
        i = next;
        break;
      }
    }
  }
}

}  // namespace fwcert
